/* Helpers shared by the op files: argument checks, broadcasting, dispatch. */
#ifndef LAM_OPS_IMPL_H
#define LAM_OPS_IMPL_H

#include "autograd/autograd_impl.h"
#include "backend/backend.h"
#include "core/error.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"
#include "tensor/tensor_impl.h"

/* Return NULL (keeping the first error) when an argument is NULL. */
#define LAM_CHECK_ARG(op, x) do { if (!(x)) { lam_null_arg(op); return NULL; } } while (0)
#define LAM_DEV(t) ((t)->storage->dev)

/* Checks that t is f32; sets LAM_ERR_ARG naming op if not. */
bool lam_require_f32(const char *op, const lam_tensor *t);
/* The NumPy broadcast of two shapes into out (ndim returned), or -1 + LAM_ERR_SHAPE. */
int lam_broadcast_shape(const char *op, const lam_tensor *a, const lam_tensor *b, int64_t *out);
/* t seen with shape (ndim, shape) by broadcasting (stride 0 on new and size-1 dims). */
lam_view lam_broadcast_view(const lam_tensor *t, int ndim, const int64_t *shape);
/* Elementwise dispatch used by the unary/binary op files. */
lam_tensor *lam_binary_op_run(const char *op, lam_binary_op code, lam_tensor *a, lam_tensor *b);
lam_tensor *lam_scalar_op_run(const char *op, lam_binary_op code, lam_tensor *a, float s);
lam_tensor *lam_unary_op_run(const char *op, lam_unary_op code, lam_tensor *x);
/* Reduction over one dim (dim = -1 with all = true reduces everything). */
lam_tensor *lam_reduce_run(const char *op, lam_reduce_op code, lam_tensor *x, int dim, bool keepdim, bool all);

#endif
