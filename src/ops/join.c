/* Joining tensors: cat along an existing dimension, stack along a new one. Each input is
 * copied into its window of the output; its gradient is that window of g (a view). */
#include <stdlib.h>
#include <string.h>

#include "ops/ops_impl.h"

/* arg 0: dim. */
static lam_status cat_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    int d = (int)n->arg[0];
    int64_t at = 0;
    for (int i = 0; i < n->n_in; ++i) {
        int64_t len = n->in[i]->shape[d];
        if (lam_input_needs_grad(n, i) && !(gin[i] = lam_slice(g, d, at, at + len, 1))) return lam_last_status();
        at += len;
    }
    return LAM_OK;
}

/* Same device, dtype family and rank, equal sizes off dim; the output's dtype and shape. */
static bool cat_plan(const char *op, int n, lam_tensor *const *xs, int d, lam_dtype *dt, int64_t *shape) {
    lam_tensor *a = xs[0];
    memcpy(shape, a->shape, sizeof a->shape);
    shape[d] = 0;
    *dt = a->dtype;
    for (int i = 0; i < n; ++i) {
        lam_tensor *x = xs[i];
        bool fits = x->ndim == a->ndim && lam_dtype_is_float(x->dtype) == lam_dtype_is_float(a->dtype) &&
                    (lam_dtype_is_float(x->dtype) || x->dtype == a->dtype);
        for (int k = 0; fits && k < a->ndim; ++k) fits = k == d || x->shape[k] == a->shape[k];
        if (!fits) {
            char s0[96], si[96];
            lam_set_error(LAM_ERR_SHAPE, "%s: input %d is %s %s, input 0 is %s %s (sizes must match except in dim %d)",
                          op, i, lam_dtype_name(x->dtype), lam_shape_str(x, si, sizeof si), lam_dtype_name(a->dtype),
                          lam_shape_str(a, s0, sizeof s0), d);
            return false;
        }
        if (!lam_same_device(op, a, x)) return false;
        if (lam_dtype_is_float(x->dtype)) *dt = lam_promote(*dt, x->dtype);
        shape[d] += x->shape[d];
    }
    return lam_shape_valid(op, a->ndim, shape, *dt);
}

/* Copies each input into its window of out. */
static lam_status fill_windows(lam_tensor *out, int n, lam_tensor *const *xs, int d) {
    int64_t at = 0;
    lam_status st = LAM_OK;
    lam_scope_begin();
    for (int i = 0; st == LAM_OK && i < n; ++i) {
        lam_tensor *x = xs[i];
        int64_t shape[LAM_MAX_DIMS];
        memcpy(shape, out->shape, sizeof shape);
        shape[d] = x->shape[d];
        lam_tensor *window = lam_tensor_view(out, out->ndim, shape, out->stride, at * out->stride[d]);
        lam_tensor *src = lam_as_dtype(x, out->dtype);
        st = window && src ? (lam_numel(x) ? lam_copy_(window, src) : LAM_OK) : lam_last_status();
        at += x->shape[d];
    }
    lam_scope_end();
    return st;
}

static lam_tensor *cat_group(const char *op, int n, lam_tensor *const *xs, int d) {
    lam_dtype dt;
    int64_t shape[LAM_MAX_DIMS];
    if (!cat_plan(op, n, xs, d, &dt, shape)) return NULL;
    lam_tensor *out = lam_tensor_alloc(dt, xs[0]->ndim, shape, LAM_DEV(xs[0]));
    if (!out || fill_windows(out, n, xs, d) != LAM_OK) return NULL;
    lam_node *node;
    lam_tensor *y = lam_recorded(out, op, cat_backward, n, xs, &node);
    if (node) node->arg[0] = d;
    return y;
}

/* More inputs than a tape node holds: join them in groups, then join the groups. */
static lam_tensor *cat_any(const char *op, int n, lam_tensor *const *xs, int d) {
    if (n <= LAM_NODE_MAX_IN) return cat_group(op, n, xs, d);
    lam_tensor *parts[LAM_NODE_MAX_IN];
    int groups = 0, per = (n + LAM_NODE_MAX_IN - 1) / LAM_NODE_MAX_IN;
    for (int at = 0; at < n; at += per) {
        int count = n - at < per ? n - at : per;
        if (!(parts[groups++] = cat_any(op, count, xs + at, d))) return NULL;
    }
    return cat_group(op, groups, parts, d);
}

/* Every input non-NULL and the dim valid for rank ndim_out. */
static int check_inputs(const char *op, int n, lam_tensor *const *xs, int dim, int extra_dim) {
    if (n < 1 || !xs) {
        lam_set_error(LAM_ERR_ARG, "%s: needs at least one tensor, got %d", op, n);
        return -1;
    }
    for (int i = 0; i < n; ++i)
        if (!xs[i]) {
            lam_null_arg(op);
            return -1;
        }
    return lam_wrap_dim(op, dim, xs[0]->ndim + extra_dim);
}

lam_tensor *lam_cat(int n, lam_tensor *const *xs, int dim) {
    int d = check_inputs("lam_cat", n, xs, dim, 0);
    if (d < 0) return NULL;
    return cat_any("lam_cat", n, xs, d);
}

lam_tensor *lam_stack(int n, lam_tensor *const *xs, int dim) {
    int d = check_inputs("lam_stack", n, xs, dim, 1);
    if (d < 0) return NULL;
    for (int i = 1; i < n; ++i) {
        bool same = xs[i]->ndim == xs[0]->ndim;
        for (int k = 0; same && k < xs[0]->ndim; ++k) same = xs[i]->shape[k] == xs[0]->shape[k];
        if (!same) {
            char a[96], b[96];
            LAM_FAIL_NULL(LAM_ERR_SHAPE, "lam_stack: input %d is %s, input 0 is %s (all must have one shape)", i,
                          lam_shape_str(xs[i], b, sizeof b), lam_shape_str(xs[0], a, sizeof a));
        }
    }
    if (xs[0]->ndim >= LAM_MAX_DIMS) LAM_FAIL_NULL(LAM_ERR_SHAPE, "lam_stack: inputs already have %d dimensions", LAM_MAX_DIMS);
    lam_tensor **views = malloc((size_t)n * sizeof *views);
    if (!views) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_stack: out of host memory");
    lam_tensor *y = NULL;
    int i = 0;
    for (; i < n && (views[i] = lam_unsqueeze(xs[i], d)); ++i) {
    }
    if (i == n) y = cat_any("lam_stack", n, views, d);
    free(views);
    return y;
}
