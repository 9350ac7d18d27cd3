/* Pooling over the last two dims of (N, C, H, W) or (C, H, W) tensors: max (with the
 * argmax saved for backward), average and adaptive average. One direct kernel each way
 * (cl/pool.cl); backward gathers, so it needs no atomics. The tape node keeps the window
 * as 8 args (taps, strides, paddings, dilations or the average flags); input and output
 * sizes come from the input and the gradient. */
#include "ops/cnn_impl.h"

/* The window of x (..., H, W) pooled to (..., oh, ow); args as the node keeps them. */
static lam_window pool_window(const lam_tensor *x, int64_t oh, int64_t ow, const int64_t *args) {
    return (lam_window){.h = x->shape[x->ndim - 2], .w = x->shape[x->ndim - 1], .oh = oh, .ow = ow, .kh = args[0],
                        .kw = args[1], .sh = args[2], .sw = args[3], .ph = args[4], .pw = args[5], .dh = args[6],
                        .dw = args[7]};
}


/* The rows of t's planes (the work count of the pooling kernels: one work-item per row). */
static int64_t rows(const lam_tensor *t) { return t->shape[t->ndim - 1] ? lam_numel(t) / t->shape[t->ndim - 1] : 0; }

/* x's shape with the last two dims replaced by (oh, ow). */
static lam_tensor *pooled_like(const lam_tensor *x, int64_t oh, int64_t ow, lam_dtype dt) {
    int64_t shape[LAM_MAX_DIMS];
    for (int i = 0; i < x->ndim; ++i) shape[i] = x->shape[i];
    shape[x->ndim - 2] = oh;
    shape[x->ndim - 1] = ow;
    return lam_tensor_alloc(dt, x->ndim, shape, LAM_DEV(x));
}

/* A 3-D or 4-D float input with non-empty planes; LAM_ERR_SHAPE naming op if not. */
static bool pool_input_valid(const char *op, lam_tensor *x) {
    char s[96];
    if (!lam_require_float(op, x)) return false;
    if (x->ndim != 3 && x->ndim != 4)
        LAM_FAIL_FALSE(LAM_ERR_SHAPE, "%s: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got %s", op,
                       lam_shape_str(x, s, sizeof s));
    if (x->shape[x->ndim - 1] < 1 || x->shape[x->ndim - 2] < 1)
        LAM_FAIL_FALSE(LAM_ERR_SHAPE, "%s: input %s has empty planes", op, lam_shape_str(x, s, sizeof s));
    return true;
}

/* Kernel at least 1, padding at most half of it, and an output of at least one position. */
static bool window_valid(const char *op, lam_tensor *x, lam_hw k, lam_hw s, lam_hw p, lam_hw d, bool ceil_mode,
                         int64_t *oh, int64_t *ow) {
    char a[96], b[64], c[64];
    if (!lam_window_params_valid(op, s, p, d)) return false;
    if (k.h < 1 || k.w < 1 || p.h > k.h / 2 || p.w > k.w / 2)
        LAM_FAIL_FALSE(LAM_ERR_ARG, "%s: kernel %s must be positive and padding %s at most half of it", op,
                       lam_hw_str(k, b, sizeof b), lam_hw_str(p, c, sizeof c));
    *oh = lam_window_out(x->shape[x->ndim - 2], k.h, s.h, p.h, d.h, ceil_mode);
    *ow = lam_window_out(x->shape[x->ndim - 1], k.w, s.w, p.w, d.w, ceil_mode);
    if (*oh < 1 || *ow < 1)
        LAM_FAIL_FALSE(LAM_ERR_SHAPE, "%s: kernel %s is larger than input %s padded by %s", op,
                       lam_hw_str(k, b, sizeof b), lam_shape_str(x, a, sizeof a), lam_hw_str(p, c, sizeof c));
    return true;
}

static lam_status run_window(const char *op, lam_kernel_id id, const lam_window *w, int64_t work, lam_view v0,
                             lam_view v1, lam_view v2, lam_device *dev) {
    lam_kernel_args a = {.work = work, .v = {v0, v1, v2}};
    lam_window_ints(w, a.i);
    return lam_run_kernel(op, dev, id, &a);
}

/* Records y's node with the 8 window args (and what it saved). */
static lam_tensor *record_pool(lam_tensor *y, lam_tensor *x, const char *op, lam_backward_fn bw, const int64_t *args,
                               lam_tensor *saved) {
    lam_node *n;
    if (!lam_recorded(y, op, bw, 1, &x, &n)) return NULL;
    if (n) {
        for (int i = 0; i < 8; ++i) n->arg[i] = args[i];
        n->saved = saved ? lam_retain(saved) : NULL;
    }
    return y;
}

/* ---- max pooling --------------------------------------------------------------------------- */

static lam_status max_pool_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *x = n->in[0], *gd = lam_dense(g, x->dtype);
    lam_window w = pool_window(x, g->shape[g->ndim - 2], g->shape[g->ndim - 1], n->arg);
    lam_tensor *dx = gd ? lam_tensor_alloc(x->dtype, x->ndim, x->shape, LAM_DEV(x)) : NULL;
    if (!dx || run_window("lam_max_pool2d_backward", LAM_K_MAX_POOL_BACKWARD, &w, rows(x), lam_view_of(dx),
                          lam_view_of(gd), lam_view_of(n->saved), LAM_DEV(x)) != LAM_OK)
        return lam_last_status();
    gin[0] = dx;
    return LAM_OK;
}

lam_tensor *lam_max_pool2d(lam_tensor *x, lam_hw kernel, lam_hw stride, lam_hw padding, lam_hw dilation,
                           bool ceil_mode) {
    const char *op = "lam_max_pool2d";
    LAM_CHECK_ARG(op, x);
    int64_t oh, ow;
    if (!pool_input_valid(op, x) || !window_valid(op, x, kernel, stride, padding, dilation, ceil_mode, &oh, &ow))
        return NULL;
    const int64_t args[8] = {kernel.h, kernel.w, stride.h, stride.w, padding.h, padding.w, dilation.h, dilation.w};
    lam_window w = pool_window(x, oh, ow, args);
    lam_scope_begin();
    lam_tensor *xd = lam_dense(x, x->dtype), *y = pooled_like(x, oh, ow, x->dtype);
    lam_tensor *idx = y ? pooled_like(x, oh, ow, LAM_I64) : NULL;
    bool ok = xd && idx && run_window(op, LAM_K_MAX_POOL, &w, rows(y), lam_view_of(y), lam_view_of(idx),
                                      lam_view_of(xd), LAM_DEV(x)) == LAM_OK;
    if (ok) lam_keep(idx);   /* for the node, past the scope */
    lam_tensor *out = record_pool(lam_scope_end_keep(ok ? y : NULL), x, op, max_pool_backward, args, idx);
    if (ok) lam_release(idx);
    return out;
}

/* ---- average pooling ------------------------------------------------------------------------ */

static lam_status avg_pool_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *x = n->in[0], *gd = lam_dense(g, x->dtype);
    lam_window w = pool_window(x, g->shape[g->ndim - 2], g->shape[g->ndim - 1], n->arg);
    lam_tensor *dx = gd ? lam_tensor_alloc(x->dtype, x->ndim, x->shape, LAM_DEV(x)) : NULL;
    if (!dx || run_window("lam_avg_pool2d_backward", LAM_K_AVG_POOL_BACKWARD, &w, rows(x), lam_view_of(dx),
                          lam_view_of(gd), lam_view_of(gd), LAM_DEV(x)) != LAM_OK)
        return lam_last_status();
    gin[0] = dx;
    return LAM_OK;
}

/* args: taps, strides, paddings, then the adaptive and count_include_pad flags. */
static lam_tensor *avg_pool(const char *op, lam_tensor *x, int64_t oh, int64_t ow, const int64_t *args) {
    lam_window w = pool_window(x, oh, ow, args);
    lam_scope_begin();
    lam_tensor *xd = lam_dense(x, x->dtype), *y = pooled_like(x, oh, ow, x->dtype);
    bool ok = xd && y && run_window(op, LAM_K_AVG_POOL, &w, rows(y), lam_view_of(y), lam_view_of(xd),
                                    lam_view_of(xd), LAM_DEV(x)) == LAM_OK;
    return record_pool(lam_scope_end_keep(ok ? y : NULL), x, op, avg_pool_backward, args, NULL);
}

lam_tensor *lam_avg_pool2d(lam_tensor *x, lam_hw kernel, lam_hw stride, lam_hw padding, bool ceil_mode,
                           bool count_include_pad) {
    const char *op = "lam_avg_pool2d";
    LAM_CHECK_ARG(op, x);
    int64_t oh, ow;
    if (!pool_input_valid(op, x) || !window_valid(op, x, kernel, stride, padding, LAM_HW(1), ceil_mode, &oh, &ow))
        return NULL;
    const int64_t args[8] = {kernel.h, kernel.w, stride.h, stride.w, padding.h, padding.w, 0, count_include_pad};
    return avg_pool(op, x, oh, ow, args);
}

lam_tensor *lam_adaptive_avg_pool2d(lam_tensor *x, lam_hw output_size) {
    const char *op = "lam_adaptive_avg_pool2d";
    LAM_CHECK_ARG(op, x);
    if (!pool_input_valid(op, x)) return NULL;
    if (output_size.h < 1 || output_size.w < 1) {
        char s[64];
        LAM_FAIL_NULL(LAM_ERR_ARG, "%s: output size %s must be positive", op, lam_hw_str(output_size, s, sizeof s));
    }
    const int64_t args[8] = {1, 1, 1, 1, 0, 0, 1, 0};   /* adaptive: the window comes from the sizes */
    return avg_pool(op, x, output_size.h, output_size.w, args);
}
