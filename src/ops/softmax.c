/* Softmax and log-softmax over one dimension: fused, stable (max subtracted). */
#include "ops/ops_impl.h"

/* softmax: dx = y * (g - sum(g * y));  log_softmax: dx = g - exp(y) * sum(g). */
static lam_status softmax_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *y = n->saved;
    int d = (int)n->arg[0];
    if (n->arg[1]) gin[0] = lam_sub(g, lam_mul(lam_exp(y), lam_sum_dim(g, d, true)));
    else gin[0] = lam_mul(y, lam_sub(g, lam_sum_dim(lam_mul(g, y), d, true)));
    return gin[0] ? LAM_OK : lam_last_status();
}

/* Runs the row kernel on x with dim moved last, then moves it back. */
static lam_tensor *softmax_forward(bool log, lam_tensor *x, int d) {
    int last = x->ndim - 1;
    lam_tensor *moved = d == last ? x : lam_transpose(x, d, last);
    lam_tensor *src = moved ? lam_contiguous(moved) : NULL;
    lam_tensor *out = src ? lam_tensor_alloc(x->dtype, src->ndim, src->shape, LAM_DEV(x)) : NULL;
    if (!out) return NULL;
    int64_t cols = src->shape[last], rows = cols ? lam_numel(src) / cols : 0;
    if (lam_run_softmax(log ? "lam_log_softmax" : "lam_softmax", log, out, src, rows, cols) != LAM_OK) return NULL;
    return d == last ? out : lam_contiguous(lam_transpose(out, d, last));
}

static lam_tensor *softmax(const char *op, bool log, lam_tensor *x, int dim) {
    LAM_CHECK_ARG(op, x);
    if (!lam_require_float(op, x)) return NULL;
    if (x->ndim == 0) LAM_FAIL_NULL(LAM_ERR_SHAPE, "%s: needs at least one dimension", op);
    int d = lam_wrap_dim(op, dim, x->ndim);
    if (d < 0) return NULL;
    bool grad = lam_grad_enabled(false);   /* the transposes inside are not recorded */
    lam_scope_begin();
    lam_tensor *y = lam_scope_end_keep(softmax_forward(log, x, d));
    lam_grad_enabled(grad);
    lam_node *n;
    if (!lam_recorded(y, op, softmax_backward, 1, &x, &n)) return NULL;
    if (n) {
        n->arg[0] = d;
        n->arg[1] = log;
        n->saved = lam_retain(y);
    }
    return y;
}

lam_tensor *lam_softmax(lam_tensor *x, int dim) { return softmax("lam_softmax", false, x, dim); }
lam_tensor *lam_log_softmax(lam_tensor *x, int dim) { return softmax("lam_log_softmax", true, x, dim); }
