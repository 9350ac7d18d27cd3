/* Scaled dot-product attention: scores = q k^T (a strided-batched GEMM reading k transposed
 * in place), p = softmax(scale * scores + mask) in one fused row kernel (cl/attention.cl),
 * out = p v (a second batched GEMM). Two nodes: the weights p from (q, k, mask), whose
 * backward is the fused softmax backward and two GEMMs, and lam_matmul's for p v (dropout
 * goes between them). p, the (..., L, S) weights, is kept for backward: what a flash-style
 * kernel would recompute instead of storing. */
#include <math.h>

#include "ops/ops_impl.h"

#define OP "lam_scaled_dot_product_attention"

/* t as f32 (itself, or a copy in the current scope). */
static lam_tensor *f32(lam_tensor *t) { return lam_as_dtype(t, LAM_F32); }

/* The weights' backward. in: q, k[, a floating mask]; farg: scale; saved: p (the output). */
static lam_status weights_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *q = n->in[0], *k = n->in[1], *p = f32(n->saved), *dp = lam_tensor_copy(g, LAM_F32);
    lam_tensor *ds = p && dp ? lam_tensor_alloc(LAM_F32, p->ndim, p->shape, LAM_DEV(p)) : NULL;
    if (!ds) return lam_last_status();
    int64_t S = p->shape[p->ndim - 1];
    lam_kernel_args a = {.work = S ? lam_numel(p) / S : 0, .v = {lam_view_of(ds), lam_view_of(p), lam_view_of(dp)},
                         .i = {S}, .f = {n->farg}};
    if (lam_run_kernel(OP, LAM_DEV(p), LAM_K_ATTN_SOFTMAX_BWD, &a) != LAM_OK) return lam_last_status();
    if (lam_input_needs_grad(n, 0)) {   /* dq = ds k */
        lam_tensor *dq = lam_sum_to_shape(lam_matmul(ds, f32(k)), q->ndim, q->shape);
        if (!dq || !(gin[0] = lam_as_dtype(dq, q->dtype))) return lam_last_status();
    }
    if (lam_input_needs_grad(n, 1)) {   /* dk = ds^T q */
        lam_tensor *dk = lam_sum_to_shape(lam_matmul(lam_transpose(ds, -1, -2), f32(q)), k->ndim, k->shape);
        if (!dk || !(gin[1] = lam_as_dtype(dk, k->dtype))) return lam_last_status();
    }
    if (n->n_in > 2 && lam_input_needs_grad(n, 2)) {   /* an added mask: d(scores + mask) = ds / scale */
        lam_tensor *mask = n->in[2];
        lam_tensor *dm = lam_sum_to_shape(lam_div_scalar(ds, n->farg), mask->ndim, mask->shape);
        if (!dm || !(gin[2] = lam_as_dtype(dm, mask->dtype))) return lam_last_status();
    }
    return LAM_OK;
}

/* Shapes fit: 2 to 4 dims each, q and k share E, k and v share S, the batch dims broadcast
 * (into batch, nb of them), the mask broadcasts to (batch..., L, S). */
static int check_shapes(lam_tensor *q, lam_tensor *k, lam_tensor *v, lam_tensor *mask, int64_t *batch) {
    char a[96], b[96], c[96];
    lam_tensor *t[3] = {q, k, v};
    for (int i = 0; i < 3; ++i)
        if (t[i]->ndim < 2 || t[i]->ndim > 4) {
            lam_set_error(LAM_ERR_SHAPE, OP ": %s %s must have 2 to 4 dimensions (..., sequence, features)",
                          i == 0 ? "query" : i == 1 ? "key" : "value", lam_shape_str(t[i], a, sizeof a));
            return -1;
        }
    if (lam_dim(q, -1) != lam_dim(k, -1) || lam_dim(k, -2) != lam_dim(v, -2)) {
        lam_set_error(LAM_ERR_SHAPE, OP ": query %s, key %s and value %s: query and key need one feature size, key "
                      "and value one sequence length", lam_shape_str(q, a, sizeof a), lam_shape_str(k, b, sizeof b),
                      lam_shape_str(v, c, sizeof c));
        return -1;
    }
    int nb = lam_broadcast_shapes(OP, q->ndim - 2, q->shape, k->ndim - 2, k->shape, batch);
    if (nb >= 0) nb = lam_broadcast_shapes(OP, nb, batch, v->ndim - 2, v->shape, batch);
    if (nb < 0 || !mask) return nb;
    int64_t want[LAM_MAX_DIMS], got[LAM_MAX_DIMS];
    for (int i = 0; i < nb; ++i) want[i] = batch[i];
    want[nb] = lam_dim(q, -2);
    want[nb + 1] = lam_dim(k, -2);
    int ng = lam_broadcast_shapes(OP, mask->ndim, mask->shape, nb + 2, want, got);
    bool same = ng == nb + 2;
    for (int i = 0; same && i < ng; ++i) same = got[i] == want[i];
    if (!same) {
        lam_set_error(LAM_ERR_SHAPE, OP ": mask %s does not broadcast to the scores' shape %s", lam_shape_str(mask, a, sizeof a),
                      lam_format_shape(nb + 2, want, b, sizeof b));
        return -1;
    }
    return nb;
}

/* The mask as added to the scores: floating masks as f32, integer ones 0 where nonzero
 * (takes part) and -inf where zero. */
static lam_tensor *additive_mask(lam_tensor *mask) {
    if (lam_dtype_is_float(mask->dtype)) return f32(mask);
    lam_tensor *blocked = lam_eq_scalar(lam_to_dtype(mask, LAM_F32), 0.0f);
    return lam_masked_fill(lam_zeros(mask->ndim, mask->shape, LAM_DEV(mask)), blocked, -INFINITY);
}

/* p = softmax(scale * scores + mask) by the fused kernel; scores (batch..., L, S). */
static lam_tensor *fused_softmax(lam_tensor *scores, lam_tensor *mask, bool causal, float scale) {
    int nd = scores->ndim, nb = nd - 2;
    lam_tensor *p = lam_tensor_alloc(LAM_F32, nd, scores->shape, LAM_DEV(scores));
    lam_tensor *m = mask ? additive_mask(mask) : NULL;
    if (!p || (mask && !m)) return NULL;
    lam_view mv = m ? lam_broadcast_view(m, nd, scores->shape) : lam_view_of(scores);
    int64_t S = scores->shape[nd - 1];
    lam_kernel_args a = {.work = S ? lam_numel(scores) / S : 0,
                         .v = {lam_view_of(p), lam_view_of(scores), mv},
                         .i = {nb >= 1 ? scores->shape[nb - 1] : 1, scores->shape[nb], S, nb == 2 && m ? mv.stride[0] : 0,
                               nb >= 1 && m ? mv.stride[nb - 1] : 0, m ? mv.stride[nb] : 0, m ? mv.stride[nb + 1] : 0,
                               m != NULL, causal},
                         .f = {scale}};
    return lam_run_kernel(OP, LAM_DEV(scores), LAM_K_ATTN_SOFTMAX, &a) == LAM_OK ? p : NULL;
}

/* p (batch..., L, S) in dtype dt, as a node of q, k and a floating mask; the GEMM and the
 * kernel inside are its own, not recorded. */
static lam_tensor *weights(lam_tensor *q, lam_tensor *k, lam_tensor *mask, bool causal, int nb, int64_t *batch, lam_dtype dt) {
    float scale = 1.0f / sqrtf((float)lam_dim(q, -1));
    bool grad = lam_grad_enabled(false);
    lam_scope_begin();
    batch[nb] = lam_dim(q, -2);
    batch[nb + 1] = lam_dim(q, -1);
    lam_tensor *qx = lam_expand(f32(q), nb + 2, batch);   /* the scores get every batch dim (of v too) */
    lam_tensor *scores = lam_matmul(qx, lam_transpose(f32(k), -1, -2));
    lam_tensor *p = scores ? fused_softmax(scores, mask, causal, scale) : NULL;
    p = lam_scope_end_keep(p && dt != LAM_F32 ? lam_tensor_copy(p, dt) : p);
    lam_grad_enabled(grad);
    bool float_mask = mask && lam_dtype_is_float(mask->dtype);   /* a float mask is differentiable */
    lam_node *n;
    p = lam_recorded(p, OP, weights_backward, float_mask ? 3 : 2, (lam_tensor *[]){q, k, mask}, &n);
    if (n) {
        n->farg = scale;
        n->saved = lam_retain(p);
    }
    return p;
}

lam_tensor *lam_scaled_dot_product_attention(lam_tensor *q, lam_tensor *k, lam_tensor *v, lam_tensor *mask, bool causal,
                                             float dropout_p) {
    LAM_CHECK_ARG(OP, q);
    LAM_CHECK_ARG(OP, k);
    LAM_CHECK_ARG(OP, v);
    int64_t batch[LAM_MAX_DIMS];
    if (!lam_require_float(OP, q) || !lam_require_float(OP, k) || !lam_require_float(OP, v) ||
        !lam_same_device(OP, q, k) || !lam_same_device(OP, q, v) || (mask && !lam_same_device(OP, q, mask)))
        return NULL;
    int nb = check_shapes(q, k, v, mask, batch);
    if (nb < 0) return NULL;
    if (!(dropout_p >= 0.0f && dropout_p < 1.0f)) LAM_FAIL_NULL(LAM_ERR_ARG, OP ": dropout_p %g is not in [0, 1)", (double)dropout_p);
    if (dropout_p > 0.0f) LAM_FAIL_NULL(LAM_ERR_ARG, OP ": dropout_p > 0 needs lam_dropout (not merged yet)");
    lam_dtype dt = lam_promote(lam_promote(q->dtype, k->dtype), v->dtype);
    lam_tensor *p = weights(q, k, mask, causal, nb, batch, dt);
    return p ? lam_matmul(p, v) : NULL;
}
