/* The tensor struct and helpers shared inside the library. */
#ifndef LAM_TENSOR_IMPL_H
#define LAM_TENSOR_IMPL_H

#include "backend/backend.h"
#include "lamina/tensor.h"

struct lam_node;
struct lam_scope;

/* A device buffer shared by a tensor and its views. */
typedef struct lam_storage {
    int refcount;
    lam_device *dev;
    void *buf;
    size_t bytes;
} lam_storage;

struct lam_tensor {
    int refcount;
    lam_dtype dtype;
    int ndim;
    int64_t shape[LAM_MAX_DIMS];
    int64_t stride[LAM_MAX_DIMS];   /* elements */
    int64_t offset;                 /* elements into storage */
    lam_storage *storage;
    struct lam_scope *scope;        /* the scope holding this handle's creation reference */
    size_t scope_slot;
    /* autograd */
    bool requires_grad;
    lam_tensor *grad;               /* owned */
    struct lam_node *grad_fn;       /* the tape node that produced it, if any */
    bool graph_freed;               /* its history was consumed by lam_backward */
};

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

lam_view lam_view_of(const lam_tensor *t);
int64_t lam_shape_numel(int ndim, const int64_t *shape);
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

#endif
