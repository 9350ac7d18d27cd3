/* The tensor struct and helpers shared inside the library. */
#ifndef LAM_TENSOR_IMPL_H
#define LAM_TENSOR_IMPL_H

#include <stdatomic.h>

#include "backend/backend.h"
#include "lamina/tensor.h"

struct lam_node;
struct lam_scope;

/* What the host knows of an integer storage's values without reading the device: set
 * when they come from host memory (lam_from_data, lam_write), dropped by every write on the
 * device (lam_copy_, lam_fill_; a new in-place write to an integer storage must call
 * lam_storage_forget_values), so index checks (src/ops/check.c) need no kernel and no wait. */
typedef struct {
    bool known;                    /* every element lies in [lo, hi] */
    bool exact;                    /* ...and lo, hi are the elements at lo_at, hi_at */
    int64_t lo, hi, lo_at, hi_at;  /* positions: elements from the storage's start */
} lam_value_range;

/* A device buffer shared by a tensor and its views. */
typedef struct lam_storage {
    atomic_int refcount;
    lam_device *dev;
    void *buf;
    size_t bytes;
    lam_value_range values;        /* integer storages; written under no lock: one writer at a time */
} lam_storage;

/* n elements of dt from host memory src were written at element first of s (value_range.c). */
void lam_storage_note_host_write(lam_storage *s, lam_dtype dt, int64_t first, const void *src, int64_t n);
void lam_storage_forget_values(lam_storage *s);

struct lam_tensor {
    atomic_int refcount;            /* atomic: a shared model's tensors are retained by many threads */
    lam_dtype dtype;
    int ndim;
    int64_t shape[LAM_MAX_DIMS];
    int64_t stride[LAM_MAX_DIMS];   /* elements */
    int64_t offset;                 /* elements into storage */
    lam_storage *storage;
    struct lam_scope *scope;        /* the scope holding this handle's creation reference */
    size_t scope_slot;
    /* autograd: the tape (src/tape) owns these fields' meaning */
    bool requires_grad;
    lam_tensor *grad;               /* owned */
    struct lam_node *grad_fn;       /* the tape node that produced it, if any */
    bool graph_freed;               /* its history was consumed by lam_backward */
};

/* What the tape, a layer above, does when a handle dies or a scope begins and ends. It
 * registers them with lam_tensor_set_history_hooks before it records its first node, so
 * the tensor layer never calls up by name. */
typedef struct {
    void (*forget)(lam_tensor *t);       /* t dies while a node still names it as output */
    size_t (*mark)(void);                /* a scope begins: the tape's length */
    void (*truncate)(size_t mark);       /* a scope ends: nodes recorded since mark go */
} lam_history_hooks;
void lam_tensor_set_history_hooks(const lam_history_hooks *hooks);
/* Through the registered hooks (nothing before the tape has recorded anything). */
size_t lam_tensor_history_mark(void);
void lam_tensor_history_truncate(size_t mark);

/* Wraps a fresh contiguous tensor of shape on dev, registered in the current scope. */
lam_tensor *lam_tensor_alloc(lam_dtype dt, int ndim, const int64_t *shape, lam_device *dev);
/* A new handle sharing t's storage with another shape/strides/offset (a view). */
lam_tensor *lam_tensor_view(lam_tensor *t, int ndim, const int64_t *shape,
                            const int64_t *stride, int64_t offset);
/* Ends the innermost scope but hands t (made inside it) to the enclosing one: ops use it
 * so their internal temporaries die at once instead of pinning memory in the caller's scope. */
lam_tensor *lam_scope_end_keep(lam_tensor *t);
/* Tape length when the innermost scope began (0 at the root). */
size_t lam_scope_tape_mark(void);
/* Hands a new handle (refcount 1) to the innermost scope. */
lam_tensor *lam_scope_adopt(lam_tensor *t);
/* Unregisters t from its scope (lam_keep's first half): the caller now owns that reference. */
void lam_scope_disown(lam_tensor *t);

lam_view lam_view_of(const lam_tensor *t);
/* Elements of shape (every size >= 0); -1 when the product overflows int64. */
int64_t lam_shape_numel(int ndim, const int64_t *shape);
/* Checks a shape for a new tensor of dt: ndim <= LAM_MAX_DIMS, sizes >= 0, and elements and
 * bytes that fit int64 and size_t; sets LAM_ERR_SHAPE naming op if not. */
bool lam_shape_valid(const char *op, int ndim, const int64_t *shape, lam_dtype dt);
void lam_contiguous_strides(int ndim, const int64_t *shape, int64_t *stride);
/* "(2, 3)" for a shape. */
char *lam_format_shape(int ndim, const int64_t *shape, char *buf, size_t size);
/* Wraps a negative dim; -1 and an error naming op if out of range. */
int lam_wrap_dim(const char *op, int dim, int ndim);
/* Checks that two tensors share a device; sets LAM_ERR_DEVICE naming op if not. */
bool lam_same_device(const char *op, const lam_tensor *a, const lam_tensor *b);
lam_device *lam_resolve_device(lam_device *d);
/* A contiguous copy converted to dt, on t's device; no autograd record. */
lam_tensor *lam_tensor_copy(lam_tensor *t, lam_dtype dt);
/* t on dev (a new handle on the same storage if already there); no autograd record. */
lam_tensor *lam_tensor_to_device(lam_tensor *t, lam_device *dev);
/* Gives t the storage, layout and dtype of copy (a contiguous tensor holding t's values
 * elsewhere or in another dtype), in place: t's handle stays valid. */
void lam_tensor_adopt_storage(lam_tensor *t, lam_tensor *copy);
/* Moves t and its gradient to dev in place (lam_tensor_adopt_storage of copies). */
lam_status lam_tensor_migrate(lam_tensor *t, lam_device *dev);

#endif
