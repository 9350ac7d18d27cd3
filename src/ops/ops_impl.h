/* Helpers shared by the op files: argument checks, broadcasting, and dispatch to the
 * backends. Ops reach a backend only through the lam_run_* functions of dispatch.c. */
#ifndef LAM_OPS_IMPL_H
#define LAM_OPS_IMPL_H

#include "backend/backend.h"
#include "core/error.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"
#include "tape/tape.h"
#include "tensor/tensor_impl.h"

/* Return NULL (keeping the first error) when an argument is NULL. */
#define LAM_CHECK_ARG(op, x) do { if (!(x)) { lam_null_arg(op); return NULL; } } while (0)
#define LAM_DEV(t) ((t)->storage->dev)

/* Checks that t is floating (f32 or f16); sets LAM_ERR_ARG naming op if not. */
bool lam_require_float(const char *op, const lam_tensor *t);
/* The float dtype an op on a and b computes in: f16 only when both are f16 (PyTorch's rule). */
lam_dtype lam_promote(lam_dtype a, lam_dtype b);
/* t as dtype dt: t itself, or a converted copy in the current scope (no autograd record). */
lam_tensor *lam_as_dtype(lam_tensor *t, lam_dtype dt);
/* The NumPy broadcast of two shapes into out (ndim returned), or -1 + LAM_ERR_SHAPE; out
 * may be sa or sb. */
int lam_broadcast_shapes(const char *op, int na, const int64_t *sa, int nb, const int64_t *sb, int64_t *out);
/* The same for two tensors' shapes. */
int lam_broadcast_shape(const char *op, const lam_tensor *a, const lam_tensor *b, int64_t *out);
/* t seen with shape (ndim, shape) by broadcasting (stride 0 on new and size-1 dims). */
lam_view lam_broadcast_view(const lam_tensor *t, int ndim, const int64_t *shape);

/* An input of an elementwise op: a tensor, or a scalar (t NULL, scalar true). */
typedef struct {
    lam_tensor *t;
    float value;
    bool scalar;
} lam_ew_arg;
#define LAM_EW_T(x) ((lam_ew_arg){.t = (x)})
#define LAM_EW_S(v) ((lam_ew_arg){.value = (v), .scalar = true})

/* The name of an elementwise op code ("relu", "relu_grad", "pow_grad_b"). */
const char *lam_ew_name(lam_ew_op op);
/* out = op(args...) elementwise, broadcasting the tensor args (1 to 3 args, at least one a
 * tensor; all on one device, floating; computed in their promoted dtype). No autograd. */
lam_tensor *lam_ew_run(const char *op, lam_ew_op code, int n, const lam_ew_arg *args);

/* The other backend entries, with the checks and bookkeeping every caller needs. */
lam_status lam_run_reduce(const char *op, lam_reduce_op code, lam_tensor *out, lam_tensor *src, int64_t outer,
                          int64_t len, int64_t inner);
lam_status lam_run_softmax(const char *op, bool log, lam_tensor *out, lam_tensor *src, int64_t rows, int64_t cols);
lam_status lam_run_gemm(const char *op, lam_device *d, const lam_gemm_args *g);
lam_status lam_run_kernel(const char *op, lam_device *d, lam_kernel_id id, const lam_kernel_args *a);

/* Reduction over one dim (dim = -1 with all = true reduces everything). */
lam_tensor *lam_reduce_run(const char *op, lam_reduce_op code, lam_tensor *x, int dim, bool keepdim, bool all);

#endif
