/* Reads tensors from the committed PyTorch reference files (safetensors) for tests. */
#ifndef LAM_TEST_REFERENCE_FILE_H
#define LAM_TEST_REFERENCE_FILE_H

#include <lamina.h>

typedef struct ref_file ref_file;

/* NULL if the file is missing or malformed (a message goes to stderr). */
ref_file *ref_open(const char *path);
/* The tensor called name, created on dev in the current scope; NULL if absent. */
lam_tensor *ref_tensor(ref_file *f, const char *name, lam_device *dev);
void ref_close(ref_file *f);

#endif
