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

/* --- joining and indexing --------------------------------------------------------------- */
/* torch.cat: n tensors, equal sizes except in dim, joined along dim. torch.stack: n
 * tensors of one shape joined along a new dim. Use LAM_TENSORS for the list:
 *   lam_tensor *qkv = lam_cat(LAM_TENSORS(q, k, v), -1);                                     */
LAM_API lam_tensor *lam_cat(int n, lam_tensor *const *xs, int dim);
LAM_API lam_tensor *lam_stack(int n, lam_tensor *const *xs, int dim);
/* torch.index_select: the slices of x along dim picked by a 1-D i32/i64 index (0-D drops
 * dim). An index outside [0, size of dim) is an error. The gradient sums the rows picked
 * more than once, deterministically. */
LAM_API lam_tensor *lam_index_select(lam_tensor *x, int dim, lam_tensor *index);
/* F.embedding: weight (num, dim) rows picked by ids of any shape -> ids.shape + (dim,). */
LAM_API lam_tensor *lam_embedding(lam_tensor *ids, lam_tensor *weight);
/* torch.tril / torch.triu over the last two dims: zeros above (below) the diagonal-th
 * diagonal (0 the main one, > 0 above it). */
LAM_API lam_tensor *lam_tril(lam_tensor *x, int64_t diagonal);
LAM_API lam_tensor *lam_triu(lam_tensor *x, int64_t diagonal);

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
/* Variance and standard deviation over dim: unbiased divides by n - 1 (torch.var's default),
 * else by n. */
LAM_API lam_tensor *lam_var(lam_tensor *x, int dim, bool unbiased, bool keepdim);
LAM_API lam_tensor *lam_std(lam_tensor *x, int dim, bool unbiased, bool keepdim);
/* Sums x down to shape (the inverse of broadcasting: reduces added and size-1 dims). */
LAM_API lam_tensor *lam_sum_to_shape(lam_tensor *x, int ndim, const int64_t *shape);

/* --- softmax family, fused and numerically stable ---------------------------------------- */
LAM_API lam_tensor *lam_softmax(lam_tensor *x, int dim);
LAM_API lam_tensor *lam_log_softmax(lam_tensor *x, int dim);

/* --- matrix product, NumPy rules: 1-D operands, broadcast batch dims --------------------- */
LAM_API lam_tensor *lam_matmul(lam_tensor *a, lam_tensor *b);

/* --- convolutional networks: images as NCHW tensors (batch, channels, height, width) ------
 *
 *   lam_tensor *y = lam_conv2d(x, w, b, LAM_HW(1), LAM_HW(1), LAM_HW(1), 1);   // 3x3 "same"
 *   y = lam_max_pool2d(lam_relu(y), LAM_HW(2), LAM_HW(2), LAM_HW(0), LAM_HW(1), false);
 *
 * Window sizes, strides, paddings and dilations are (height, width) pairs: LAM_HW(3) is
 * (3, 3), LAM_HW2(1, 3) a 1x3 window. Output sizes follow PyTorch: along each axis
 * out = floor((in + 2 padding - dilation (kernel - 1) - 1) / stride) + 1 (ceil with
 * ceil_mode). Every op here has its backward; f32, and f16 where noted. */
typedef struct {
    int64_t h, w;
} lam_hw;
#define LAM_HW(v) ((lam_hw){(v), (v)})
#define LAM_HW2(h_, w_) ((lam_hw){(h_), (w_)})

/* PyTorch's F.conv2d (cross-correlation): x (N, C, H, W), weight (OC, C / groups, kh, kw),
 * bias (OC) or NULL -> (N, OC, OH, OW). groups splits the channels into independent
 * convolutions (groups = C = OC is depthwise). f32 or f16. */
LAM_API lam_tensor *lam_conv2d(lam_tensor *x, lam_tensor *weight, lam_tensor *bias, lam_hw stride, lam_hw padding,
                               lam_hw dilation, int64_t groups);
/* Pooling takes x (N, C, H, W) or (C, H, W) and pools the last two dims; f32 or f16.
 * Max pooling: the largest value of each window (padding counts as -inf, NaN wins), as
 * F.max_pool2d; padding at most half the kernel. Backward sends each gradient to its argmax. */
LAM_API lam_tensor *lam_max_pool2d(lam_tensor *x, lam_hw kernel, lam_hw stride, lam_hw padding, lam_hw dilation,
                                   bool ceil_mode);
/* The mean of each window, as F.avg_pool2d; count_include_pad divides by the window size
 * including zero padding (PyTorch's default), else by the taps inside the input. */
LAM_API lam_tensor *lam_avg_pool2d(lam_tensor *x, lam_hw kernel, lam_hw stride, lam_hw padding, bool ceil_mode,
                                   bool count_include_pad);
/* Means over output_size windows that tile each plane, as F.adaptive_avg_pool2d: window
 * (i, j) covers rows [floor(i H / oh), ceil((i + 1) H / oh)) and the same for columns.
 * LAM_HW(1) is global average pooling. */
LAM_API lam_tensor *lam_adaptive_avg_pool2d(lam_tensor *x, lam_hw output_size);
/* F.batch_norm over x (N, C), (N, C, L) or (N, C, H, W), per channel c:
 * y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c. training: mean and (biased)
 * variance of this batch, and running_mean / running_var (if given) move towards them:
 * r = (1 - momentum) r + momentum batch, with the unbiased variance; it needs more than
 * one value per channel. Otherwise the running statistics are used. weight and bias may be
 * NULL (no affine step); running_mean and running_var both NULL or both (C). f32. */
LAM_API lam_tensor *lam_batch_norm(lam_tensor *x, lam_tensor *running_mean, lam_tensor *running_var,
                                   lam_tensor *weight, lam_tensor *bias, bool training, float momentum, float eps);
/* F.dropout: in training each element is zeroed with probability p and the rest scaled by
 * 1 / (1 - p); the draws come from lam_manual_seed's generator, so a seed drops the same
 * elements on every device. Not training: x unchanged. f32 or f16. */
LAM_API lam_tensor *lam_dropout(lam_tensor *x, float p, bool training);
/* F.pad with a constant: pad holds (before, after) pairs for the last dims, last dim first
 * ({left, right, top, bottom} pads W then H); npad even, at most 2 ndim, pads >= 0. Any
 * dtype. */
LAM_API lam_tensor *lam_pad(lam_tensor *x, int npad, const int64_t *pad, float value);

/* --- normalization and attention -------------------------------------------------------- */
/* F.layer_norm: normalizes over the last dims given by normalized_shape (mean 0, variance
 * 1, biased, eps added to it), then * weight + bias (each NULL or of normalized_shape):
 *   lam_tensor *y = lam_layer_norm(x, LAM_SHAPE(256), w, b, 1e-5f);                         */
LAM_API lam_tensor *lam_layer_norm(lam_tensor *x, int ndim, const int64_t *normalized_shape, lam_tensor *weight,
                                   lam_tensor *bias, float eps);
/* F.scaled_dot_product_attention: softmax(q k^T / sqrt(E) + mask) v for q (..., L, E),
 * k (..., S, E), v (..., S, Ev) -> (..., L, Ev), batch dims broadcasting, at most 4 dims in
 * all. mask (NULL for none) broadcasts to (..., L, S): a floating mask is added to the
 * scores (-INFINITY blocks), an integer (i32/i64) mask is PyTorch's boolean one: nonzero
 * takes part. causal blocks key j > query i (with a mask, both apply). dropout_p drops
 * attention weights (scaled by 1 / (1 - p)) from lam_manual_seed's generator. A query
 * row with every key blocked gives NaN, as PyTorch's reference maths. One fused
 * scale + mask + softmax kernel between two batched GEMMs; backward keeps the (..., L, S)
 * weights. A floating mask that requires grad gets one (a learned attention bias). */
LAM_API lam_tensor *lam_scaled_dot_product_attention(lam_tensor *q, lam_tensor *k, lam_tensor *v, lam_tensor *mask,
                                                     bool causal, float dropout_p);
/* (L, S) f32: 0 where key j <= query i, -INFINITY above: the additive causal mask
 * (nn.Transformer.generate_square_subsequent_mask for L == S). */
LAM_API lam_tensor *lam_causal_mask(int64_t queries, int64_t keys, lam_device *dev);

/* --- losses (means over the batch, as PyTorch's defaults) ------------------------------ */
/* logits (N, C), labels (N,) i32 or i64 class indices in [0, C): F.cross_entropy with its
 * defaults (lam_cross_entropy_with(logits, labels, NULL)). */
LAM_API lam_tensor *lam_cross_entropy(lam_tensor *logits, lam_tensor *labels);

typedef enum { LAM_REDUCTION_MEAN, LAM_REDUCTION_SUM, LAM_REDUCTION_NONE } lam_reduction;
typedef struct {
    int64_t ignore_index;     /* labels equal to it count for nothing (PyTorch's default: -100) */
    lam_reduction reduction;  /* mean over the labels that count, their sum, or per label */
    float label_smoothing;    /* in [0, 1]: the target mixes in uniform by this much */
} lam_cross_entropy_options;
/* PyTorch's defaults; start from them: o = LAM_CROSS_ENTROPY_DEFAULTS; o.ignore_index = 0; */
#define LAM_CROSS_ENTROPY_DEFAULTS ((lam_cross_entropy_options){.ignore_index = -100, .reduction = LAM_REDUCTION_MEAN})
/* F.cross_entropy: logits (N, C) with labels (N,), or (N, C, d1, ...) with (N, d1, ...) (a
 * sequence model's (B, V, T) against (B, T)), or (C,) with a 0-D label. opt NULL: the
 * defaults. A mean over no counted label is NaN, as PyTorch's. */
LAM_API lam_tensor *lam_cross_entropy_with(lam_tensor *logits, lam_tensor *labels, const lam_cross_entropy_options *opt);
LAM_API lam_tensor *lam_mse_loss(lam_tensor *input, lam_tensor *target);

#ifdef __cplusplus
}
#endif
#endif
