/* Ops: maths on tensors. Inputs must share a device; outputs are new contiguous tensors on
 * that device (argmax gives i64), placed in the innermost scope. Floating inputs may be f32
 * or f16: an op computes in f32 and gives f16 only when all its tensor inputs are f16.
 *
 * Binary ops broadcast like NumPy: (4, 1, 3) + (5, 1) -> (4, 5, 3).
 * Inputs may be views (transposed, sliced, expanded); ops read them through strides.
 *
 *   lam_tensor *p = lam_softmax(lam_add(lam_matmul(x, w), b), -1);
 */
#ifndef LAMINA_OPS_H
#define LAMINA_OPS_H

#include <stdbool.h>
#include "lamina/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- elementwise, one input ------------------------------------------------------------ */
LAM_API lam_tensor *lam_neg(lam_tensor *x);
LAM_API lam_tensor *lam_abs(lam_tensor *x);
LAM_API lam_tensor *lam_exp(lam_tensor *x);
LAM_API lam_tensor *lam_log(lam_tensor *x);
LAM_API lam_tensor *lam_sqrt(lam_tensor *x);
LAM_API lam_tensor *lam_relu(lam_tensor *x);
LAM_API lam_tensor *lam_sigmoid(lam_tensor *x);
LAM_API lam_tensor *lam_tanh(lam_tensor *x);
LAM_API lam_tensor *lam_gelu(lam_tensor *x);   /* exact: x * Phi(x), as PyTorch's default */
LAM_API lam_tensor *lam_silu(lam_tensor *x);   /* x * sigmoid(x), a.k.a. swish */

/* --- elementwise, two inputs, broadcasting --------------------------------------------- */
LAM_API lam_tensor *lam_add(lam_tensor *a, lam_tensor *b);
LAM_API lam_tensor *lam_sub(lam_tensor *a, lam_tensor *b);
LAM_API lam_tensor *lam_mul(lam_tensor *a, lam_tensor *b);
LAM_API lam_tensor *lam_div(lam_tensor *a, lam_tensor *b);
LAM_API lam_tensor *lam_maximum(lam_tensor *a, lam_tensor *b);
LAM_API lam_tensor *lam_minimum(lam_tensor *a, lam_tensor *b);
LAM_API lam_tensor *lam_pow(lam_tensor *a, lam_tensor *b);
/* Comparisons give 1.0 where true and 0.0 where false. */
LAM_API lam_tensor *lam_eq(lam_tensor *a, lam_tensor *b);
LAM_API lam_tensor *lam_ne(lam_tensor *a, lam_tensor *b);
LAM_API lam_tensor *lam_lt(lam_tensor *a, lam_tensor *b);
LAM_API lam_tensor *lam_le(lam_tensor *a, lam_tensor *b);
LAM_API lam_tensor *lam_gt(lam_tensor *a, lam_tensor *b);
LAM_API lam_tensor *lam_ge(lam_tensor *a, lam_tensor *b);

/* --- elementwise with a scalar: x op s ------------------------------------------------- */
LAM_API lam_tensor *lam_add_scalar(lam_tensor *x, float s);
LAM_API lam_tensor *lam_sub_scalar(lam_tensor *x, float s);
LAM_API lam_tensor *lam_mul_scalar(lam_tensor *x, float s);
LAM_API lam_tensor *lam_div_scalar(lam_tensor *x, float s);
LAM_API lam_tensor *lam_maximum_scalar(lam_tensor *x, float s);
LAM_API lam_tensor *lam_minimum_scalar(lam_tensor *x, float s);
LAM_API lam_tensor *lam_pow_scalar(lam_tensor *x, float s);
LAM_API lam_tensor *lam_eq_scalar(lam_tensor *x, float s);
LAM_API lam_tensor *lam_ne_scalar(lam_tensor *x, float s);
LAM_API lam_tensor *lam_lt_scalar(lam_tensor *x, float s);
LAM_API lam_tensor *lam_le_scalar(lam_tensor *x, float s);
LAM_API lam_tensor *lam_gt_scalar(lam_tensor *x, float s);
LAM_API lam_tensor *lam_ge_scalar(lam_tensor *x, float s);

/* --- selection, broadcasting -------------------------------------------------------------- */
/* cond != 0 ? a : b elementwise (cond of any dtype, e.g. a comparison's result). */
LAM_API lam_tensor *lam_where(lam_tensor *cond, lam_tensor *a, lam_tensor *b);
/* x with value wherever mask != 0 (PyTorch's masked_fill). */
LAM_API lam_tensor *lam_masked_fill(lam_tensor *x, lam_tensor *mask, float value);

/* --- reductions: over everything (a 0-dim result) or one dimension --------------------- */
LAM_API lam_tensor *lam_sum(lam_tensor *x);
LAM_API lam_tensor *lam_mean(lam_tensor *x);
LAM_API lam_tensor *lam_max(lam_tensor *x);
LAM_API lam_tensor *lam_min(lam_tensor *x);
LAM_API lam_tensor *lam_sum_dim(lam_tensor *x, int dim, bool keepdim);
LAM_API lam_tensor *lam_mean_dim(lam_tensor *x, int dim, bool keepdim);
LAM_API lam_tensor *lam_max_dim(lam_tensor *x, int dim, bool keepdim);
LAM_API lam_tensor *lam_min_dim(lam_tensor *x, int dim, bool keepdim);
LAM_API lam_tensor *lam_argmax(lam_tensor *x, int dim, bool keepdim);   /* i64 indices */
LAM_API lam_tensor *lam_argmin(lam_tensor *x, int dim, bool keepdim);   /* i64 indices */
/* Sums x down to shape (the inverse of broadcasting: reduces added and size-1 dims). */
LAM_API lam_tensor *lam_sum_to_shape(lam_tensor *x, int ndim, const int64_t *shape);

/* --- softmax family, fused and numerically stable ---------------------------------------- */
LAM_API lam_tensor *lam_softmax(lam_tensor *x, int dim);
LAM_API lam_tensor *lam_log_softmax(lam_tensor *x, int dim);

/* --- matrix product, NumPy rules: 1-D operands, broadcast batch dims --------------------- */
LAM_API lam_tensor *lam_matmul(lam_tensor *a, lam_tensor *b);

/* --- losses (means over the batch, as PyTorch's defaults) ------------------------------ */
/* logits (N, C) f32, labels (N,) i32 or i64 class indices in [0, C). */
LAM_API lam_tensor *lam_cross_entropy(lam_tensor *logits, lam_tensor *labels);
LAM_API lam_tensor *lam_mse_loss(lam_tensor *input, lam_tensor *target);

#ifdef __cplusplus
}
#endif
#endif
