/* Reductions: sum, mean, max, min, argmax, argmin over everything or one dimension. */
#include "ops/ops_impl.h"

/* g (shaped like the reduced output) seen with x's shape again. */
static lam_tensor *expand_back(lam_tensor *g, const lam_node *n) {
    lam_tensor *x = n->in[0];
    bool all = n->arg[0], keepdim = n->arg[2];
    int dim = (int)n->arg[1];
    if (!all && !keepdim) g = lam_unsqueeze(g, dim);
    return lam_expand(g, x->ndim, x->shape);
}

/* Where x equals the extreme, shared evenly between ties. */
static lam_tensor *extreme_grad(lam_tensor *g, const lam_node *n) {
    lam_tensor *x = n->in[0];
    lam_tensor *hit = lam_eq(x, expand_back(n->saved, n));
    lam_tensor *count = n->arg[0] ? lam_sum(hit) : lam_sum_dim(hit, (int)n->arg[1], true);
    return lam_div(lam_mul(hit, expand_back(g, n)), count);
}

static lam_status reduce_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *x = n->in[0];
    int64_t len = n->arg[0] ? lam_numel(x) : x->shape[n->arg[1]];
    switch ((lam_reduce_op)n->arg[3]) {
    case LAM_REDUCE_SUM: gin[0] = expand_back(g, n); break;
    case LAM_REDUCE_MEAN: gin[0] = expand_back(lam_div_scalar(g, (float)len), n); break;
    case LAM_REDUCE_MAX:
    case LAM_REDUCE_MIN: gin[0] = extreme_grad(g, n); break;
    default: return LAM_OK;
    }
    return gin[0] ? LAM_OK : lam_last_status();
}

static lam_tensor *reduce_forward(const char *op, lam_reduce_op code, lam_tensor *x, int d, bool keepdim, bool all) {
    int64_t outer = 1, len = 1, inner = 1, shape[LAM_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < x->ndim; ++i) {
        if (all || i == d) {
            len *= x->shape[i];
            if (keepdim) shape[nd++] = 1;
            continue;
        }
        *(i < d ? &outer : &inner) *= x->shape[i];
        shape[nd++] = x->shape[i];
    }
    if (len == 0 && code != LAM_REDUCE_SUM && code != LAM_REDUCE_MEAN) {
        char s[96];
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "%s: cannot reduce an empty dimension of %s", op, lam_shape_str(x, s, sizeof s));
    }
    bool index = code == LAM_REDUCE_ARGMAX || code == LAM_REDUCE_ARGMIN;
    lam_tensor *out = lam_tensor_alloc(index ? LAM_I64 : x->dtype, nd, shape, LAM_DEV(x));
    lam_tensor *src = !out ? NULL : lam_is_contiguous(x) ? x : lam_tensor_copy(x, x->dtype);
    if (!src) return NULL;
    lam_status st = lam_run_reduce(op, code, out, src, outer, len, inner);
    if (src != x) lam_release(lam_keep(src));   /* the copy is done with */
    return st == LAM_OK ? out : NULL;
}

lam_tensor *lam_reduce_run(const char *op, lam_reduce_op code, lam_tensor *x, int dim, bool keepdim, bool all) {
    LAM_CHECK_ARG(op, x);
    if (!lam_require_float(op, x)) return NULL;
    int d = all ? -1 : lam_wrap_dim(op, dim, x->ndim);
    if (!all && d < 0) return NULL;
    lam_tensor *y = reduce_forward(op, code, x, d, keepdim, all);
    if (!y || code == LAM_REDUCE_ARGMAX || code == LAM_REDUCE_ARGMIN) return y;
    lam_node *n;
    if (!lam_recorded(y, op, reduce_backward, 1, &x, &n)) return NULL;
    if (n) {
        n->arg[0] = all;
        n->arg[1] = d;
        n->arg[2] = keepdim;
        n->arg[3] = code;
        if (code == LAM_REDUCE_MAX || code == LAM_REDUCE_MIN) n->saved = lam_retain(y);
    }
    return y;
}

lam_tensor *lam_sum(lam_tensor *x) { return lam_reduce_run("lam_sum", LAM_REDUCE_SUM, x, 0, false, true); }
lam_tensor *lam_mean(lam_tensor *x) { return lam_reduce_run("lam_mean", LAM_REDUCE_MEAN, x, 0, false, true); }
lam_tensor *lam_max(lam_tensor *x) { return lam_reduce_run("lam_max", LAM_REDUCE_MAX, x, 0, false, true); }
lam_tensor *lam_min(lam_tensor *x) { return lam_reduce_run("lam_min", LAM_REDUCE_MIN, x, 0, false, true); }

lam_tensor *lam_sum_dim(lam_tensor *x, int dim, bool keepdim) {
    return lam_reduce_run("lam_sum_dim", LAM_REDUCE_SUM, x, dim, keepdim, false);
}
lam_tensor *lam_mean_dim(lam_tensor *x, int dim, bool keepdim) {
    return lam_reduce_run("lam_mean_dim", LAM_REDUCE_MEAN, x, dim, keepdim, false);
}
lam_tensor *lam_max_dim(lam_tensor *x, int dim, bool keepdim) {
    return lam_reduce_run("lam_max_dim", LAM_REDUCE_MAX, x, dim, keepdim, false);
}
lam_tensor *lam_min_dim(lam_tensor *x, int dim, bool keepdim) {
    return lam_reduce_run("lam_min_dim", LAM_REDUCE_MIN, x, dim, keepdim, false);
}
lam_tensor *lam_argmax(lam_tensor *x, int dim, bool keepdim) {
    return lam_reduce_run("lam_argmax", LAM_REDUCE_ARGMAX, x, dim, keepdim, false);
}
lam_tensor *lam_argmin(lam_tensor *x, int dim, bool keepdim) {
    return lam_reduce_run("lam_argmin", LAM_REDUCE_ARGMIN, x, dim, keepdim, false);
}

/* Composed of sum_dim and reshape, so its gradient comes from theirs. */
lam_tensor *lam_sum_to_shape(lam_tensor *x, int ndim, const int64_t *shape) {
    LAM_CHECK_ARG("lam_sum_to_shape", x);
    int lead = x->ndim - ndim;
    bool ok = lead >= 0 && (ndim == 0 || shape);
    for (int i = 0; ok && i < ndim; ++i) ok = shape[i] == x->shape[lead + i] || shape[i] == 1;
    if (!ok) {
        char a[96], b[96];
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "lam_sum_to_shape: %s does not broadcast from %s", lam_format_shape(ndim, shape, b, sizeof b),
                      lam_shape_str(x, a, sizeof a));
    }
    lam_tensor *y = x;
    for (int i = 0; i < x->ndim && y; ++i)
        if (i < lead || (shape[i - lead] == 1 && x->shape[i] != 1)) y = lam_sum_dim(y, i, true);
    return y == x ? lam_expand(x, ndim, shape) : lam_reshape(y, ndim, shape);   /* a view, keeping x's strides */
}
