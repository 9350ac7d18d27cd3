/* safetensors files (Hugging Face's format, read by PyTorch): an 8-byte little-endian header
 * length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}},
 * then the raw little-endian data. Used by state_dicts and optimizer state. */
#ifndef LAM_IO_SAFETENSORS_H
#define LAM_IO_SAFETENSORS_H

#include "lamina/tensor.h"

/* Writes tensors (any device, any layout) under names, with optional metadata (a JSON
 * object of string values, or NULL). Atomic (io/atomic_file.h): a crash leaves the old file. */
lam_status lam_st_write(const char *path, int n, const char *const *names, lam_tensor *const *tensors,
                        const char *metadata_json);

typedef struct {
    char name[256];
    lam_dtype dtype;
    int ndim;
    int64_t shape[LAM_MAX_DIMS];
    size_t begin, end;   /* byte offsets into the data section */
} lam_st_entry;

typedef struct lam_st_file lam_st_file;

/* Reads and validates the whole file: LAM_ERR_IO or LAM_ERR_FORMAT (NULL) on any defect. */
lam_st_file *lam_st_open(const char *path);
void lam_st_close(lam_st_file *f);
int lam_st_count(const lam_st_file *f);
const lam_st_entry *lam_st_at(const lam_st_file *f, int i);
const lam_st_entry *lam_st_find(const lam_st_file *f, const char *name);   /* NULL if absent */
/* The entry's bytes (end - begin of them), little-endian. */
const void *lam_st_data(const lam_st_file *f, const lam_st_entry *e);
/* A metadata value, or NULL. */
const char *lam_st_metadata(const lam_st_file *f, const char *key);
/* Metadata entry i in the file's order: its key, and its value in *value; NULL past the end. */
const char *lam_st_metadata_at(const lam_st_file *f, int i, const char **value);
/* A new tensor on dev holding the named entry (in the current scope); NULL if absent. */
lam_tensor *lam_st_tensor(const lam_st_file *f, const char *name, lam_device *dev);

#endif
