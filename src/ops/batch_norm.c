/* Batch normalization, F.batch_norm: per-channel statistics of (N, C, ...) f32 tensors by
 * direct kernels (cl/batch_norm.cl): stats (3, C) holds mean, 1 / sqrt(var + eps) and the
 * sum of squared deviations, from the batch (two passes) or the running estimates; then
 * y = (x - mean) invstd w + b in one pass. The node keeps stats for backward:
 *   dx = w invstd (g - mean(g) - xhat mean(g xhat))   (training; w invstd g in eval)
 *   dw = sum(g xhat), db = sum(g), both from one per-channel pass. */
#include "ops/cnn_impl.h"

typedef struct {
    int64_t n, c, hw;   /* x as (N, C, HW) */
    bool training, affine;
    lam_device *dev;
} bn_shape;

static bn_shape shape_of(const lam_tensor *x, bool training, bool affine) {
    bn_shape s = {.n = x->shape[0], .c = x->shape[1], .hw = 1, .training = training, .affine = affine, .dev = LAM_DEV(x)};
    for (int i = 2; i < x->ndim; ++i) s.hw *= x->shape[i];
    return s;
}

/* args: training, has weight, has bias (a missing one's input slot holds x: no gradient) */
static lam_status batch_norm_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *x = lam_dense(n->in[0], LAM_F32), *w = n->in[1], *gd = lam_dense(g, LAM_F32), *stats = n->saved;
    if (!x || !gd) return lam_last_status();
    bn_shape s = shape_of(x, n->arg[0], n->arg[1]);   /* dx needs the weight only */
    bool need_w = n->arg[1] && lam_input_needs_grad(n, 1), need_b = n->arg[2] && lam_input_needs_grad(n, 2);
    bool need_x = lam_input_needs_grad(n, 0), need_wb = need_w || need_b;
    lam_tensor *sums = NULL;
    if (need_wb || (need_x && s.training)) {
        if (!(sums = lam_tensor_alloc(LAM_F32, LAM_SHAPE(2, s.c), s.dev))) return lam_last_status();
        lam_kernel_args a = {.work = s.c, .v = {lam_view_of(sums), lam_view_of(gd), lam_view_of(x), lam_view_of(stats)},
                             .i = {s.n, s.c, s.hw}};
        if (lam_run_kernel("lam_batch_norm_backward", s.dev, LAM_K_BN_BACKWARD_REDUCE, &a) != LAM_OK)
            return lam_last_status();
    }
    if (need_x) {
        lam_tensor *dx = lam_tensor_alloc(LAM_F32, x->ndim, x->shape, s.dev);
        lam_tensor *wd = s.affine ? lam_dense(w, LAM_F32) : stats;
        if (!dx || !wd) return lam_last_status();
        lam_kernel_args a = {.work = lam_numel(x),
                             .v = {lam_view_of(dx), lam_view_of(gd), lam_view_of(x), lam_view_of(stats),
                                   lam_view_of(wd), lam_view_of(sums ? sums : stats)},
                             .i = {s.c, s.hw, s.affine, s.training, s.n * s.hw}};
        if (lam_run_kernel("lam_batch_norm_backward", s.dev, LAM_K_BN_BACKWARD_DATA, &a) != LAM_OK)
            return lam_last_status();
        gin[0] = dx;
    }
    /* dw = sum(g xhat) (row 1 of sums), db = sum(g) (row 0) */
    if (need_w && !(gin[1] = lam_reshape(lam_slice(sums, 0, 1, 2, 1), LAM_SHAPE(s.c)))) return lam_last_status();
    if (need_b && !(gin[2] = lam_reshape(lam_slice(sums, 0, 0, 1, 1), LAM_SHAPE(s.c)))) return lam_last_status();
    return LAM_OK;
}

/* A (C) f32 vector on x's device, or NULL; LAM_ERR_SHAPE naming what it is if not. */
static bool channel_vector(const char *what, lam_tensor *v, const lam_tensor *x, bool contiguous) {
    char a[96], b[96];
    if (!v) return true;
    if (v->dtype != LAM_F32 || v->ndim != 1 || v->shape[0] != x->shape[1] || (contiguous && !lam_is_contiguous(v)))
        LAM_FAIL_FALSE(LAM_ERR_SHAPE, "lam_batch_norm: %s must be a%s f32 vector of the %lld channels of input %s, got %s %s",
                       what, contiguous ? " contiguous" : "", (long long)x->shape[1], lam_shape_str(x, a, sizeof a),
                       lam_dtype_name(v->dtype), lam_shape_str(v, b, sizeof b));
    return lam_same_device("lam_batch_norm", x, v);
}

static bool bn_valid(lam_tensor *x, lam_tensor *rm, lam_tensor *rv, lam_tensor *w, lam_tensor *b, bool training) {
    const char *op = "lam_batch_norm";
    char s[96];
    lam_shape_str(x, s, sizeof s);
    if (x->dtype != LAM_F32) LAM_FAIL_FALSE(LAM_ERR_ARG, "%s: input must be f32, got %s", op, lam_dtype_name(x->dtype));
    if (x->ndim < 2) LAM_FAIL_FALSE(LAM_ERR_SHAPE, "%s: expected an input (N, C, ...), got %s", op, s);
    if (!rm != !rv) LAM_FAIL_FALSE(LAM_ERR_ARG, "%s: give both running_mean and running_var, or neither", op);
    if (!training && !rm) LAM_FAIL_FALSE(LAM_ERR_ARG, "%s: evaluation needs running statistics", op);
    int64_t per_channel = x->shape[1] ? lam_numel(x) / x->shape[1] : 0;
    if (training && per_channel <= 1)
        LAM_FAIL_FALSE(LAM_ERR_SHAPE, "%s: expected more than 1 value per channel when training, got input %s", op, s);
    return channel_vector("running_mean", rm, x, true) && channel_vector("running_var", rv, x, true) &&
           channel_vector("weight", w, x, false) && channel_vector("bias", b, x, false);
}

/* stats, the running update, then y; NULL on failure. */
static lam_tensor *bn_forward(const bn_shape *s, lam_tensor *x, lam_tensor *rm, lam_tensor *rv, lam_tensor *w,
                              lam_tensor *b, float momentum, float eps, lam_tensor **stats_out) {
    lam_tensor *stats = lam_tensor_alloc(LAM_F32, LAM_SHAPE(3, s->c), s->dev);
    lam_tensor *y = stats ? lam_tensor_alloc(LAM_F32, x->ndim, x->shape, s->dev) : NULL;
    if (!y) return NULL;
    lam_kernel_args st = {.work = s->c, .v = {lam_view_of(stats), lam_view_of(x), lam_view_of(rm ? rm : x), lam_view_of(rv ? rv : x)},
                          .i = {s->n, s->c, s->hw, s->training}, .f = {eps}};
    if (lam_run_kernel("lam_batch_norm", s->dev, LAM_K_BN_STATS, &st) != LAM_OK) return NULL;
    if (s->training && rm) {
        lam_kernel_args up = {.work = s->c, .v = {lam_view_of(rm), lam_view_of(rv), lam_view_of(stats)},
                              .i = {s->n * s->hw}, .f = {momentum}};
        if (lam_run_kernel("lam_batch_norm", s->dev, LAM_K_BN_UPDATE, &up) != LAM_OK) return NULL;
    }
    lam_kernel_args ap = {.work = lam_numel(x),
                          .v = {lam_view_of(y), lam_view_of(x), lam_view_of(stats), lam_view_of(w ? w : stats), lam_view_of(b ? b : stats)},
                          .i = {s->c, s->hw, s->affine}};
    if (lam_run_kernel("lam_batch_norm", s->dev, LAM_K_BN_APPLY, &ap) != LAM_OK) return NULL;
    *stats_out = lam_keep(stats);
    return y;
}

lam_tensor *lam_batch_norm(lam_tensor *x, lam_tensor *running_mean, lam_tensor *running_var, lam_tensor *weight,
                           lam_tensor *bias, bool training, float momentum, float eps) {
    const char *op = "lam_batch_norm";
    LAM_CHECK_ARG(op, x);
    if (!bn_valid(x, running_mean, running_var, weight, bias, training)) return NULL;
    bn_shape s = shape_of(x, training, weight || bias);
    lam_tensor *stats = NULL;
    bool grad = lam_grad_enabled(false);
    lam_scope_begin();
    lam_tensor *xd = lam_dense(x, LAM_F32);
    lam_tensor *w = !s.affine ? NULL : weight ? lam_dense(weight, LAM_F32) : lam_ones(LAM_SHAPE(s.c), s.dev);
    lam_tensor *b = !s.affine ? NULL : bias ? lam_dense(bias, LAM_F32) : lam_zeros(LAM_SHAPE(s.c), s.dev);
    bool ready = xd && (!s.affine || (w && b));
    lam_tensor *y = lam_scope_end_keep(ready ? bn_forward(&s, xd, running_mean, running_var, w, b, momentum, eps, &stats)
                                             : NULL);
    lam_grad_enabled(grad);
    lam_node *n;
    lam_tensor *in[3] = {x, weight ? weight : x, bias ? bias : x};   /* x stands in for a missing one */
    lam_tensor *out = lam_recorded(y, op, batch_norm_backward, 3, in, &n);
    if (n) {
        n->arg[0] = training;
        n->arg[1] = weight != NULL;
        n->arg[2] = bias != NULL;
        n->saved = lam_retain(stats);
    }
    lam_release(stats);
    return out;
}

lam_status lam_batch_norm_count_(lam_tensor *num_batches_tracked) {
    lam_tensor *t = num_batches_tracked;
    if (!t) {
        lam_null_arg("lam_batch_norm_count_");
        return lam_last_status();
    }
    if (t->dtype != LAM_I64 || lam_numel(t) != 1)
        return lam_set_error(LAM_ERR_ARG, "lam_batch_norm_count_: num_batches_tracked must be one i64, got %s of %lld",
                             lam_dtype_name(t->dtype), (long long)lam_numel(t));
    lam_kernel_args a = {.work = 1, .v = {lam_view_of(t)}, .i = {1}};
    return lam_run_kernel("lam_batch_norm_count_", LAM_DEV(t), LAM_K_BN_COUNT, &a);
}
