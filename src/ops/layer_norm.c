/* Layer norm as one op: a fused forward kernel that saves each row's mean and rstd, and a
 * backward of two kernels (dx per row; dw, db per column) that reuse them. Computed in f32
 * (f16 inputs are converted, the output rounded back). */
#include "ops/ops_impl.h"

/* x (and w, b, g) as contiguous f32: itself, or a copy in the current scope. */
static lam_tensor *f32_contiguous(lam_tensor *t) {
    return t->dtype == LAM_F32 && lam_is_contiguous(t) ? t : lam_tensor_copy(t, LAM_F32);
}

/* The mean (row 0) or rstd (row 1) of stats (2, rows): rows elements, the extent kernels touch. */
static lam_view stats_row(const lam_tensor *stats, int row, int64_t rows) {
    lam_view v = lam_view_of(stats);
    v.offset += row * rows;
    v.ndim = 1;
    v.shape[0] = rows;
    v.stride[0] = 1;
    return v;
}

/* The views of w and b, or x's view standing in for an absent one (never read then). */
static lam_view param_view(lam_tensor *p, const lam_view *stand_in) { return p ? lam_view_of(p) : *stand_in; }

/* arg 0, 1: has weight, has bias; arg 2: D; saved: stats (2, rows) = mean, rstd. */
static lam_status layer_norm_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *x = n->in[0], *w = n->arg[0] ? n->in[1] : NULL, *stats = n->saved;
    bool has_b = n->arg[1];
    int64_t D = n->arg[2], rows = lam_numel(x) / D;
    lam_tensor *gc = f32_contiguous(g), *xc = f32_contiguous(x), *wc = w ? f32_contiguous(w) : NULL;
    if (!gc || !xc || (w && !wc)) return lam_last_status();
    lam_view mean = stats_row(stats, 0, rows), rstd = stats_row(stats, 1, rows), xv = lam_view_of(xc);
    lam_device *d = LAM_DEV(x);
    if (lam_input_needs_grad(n, 0)) {
        lam_tensor *dx = lam_tensor_alloc(LAM_F32, x->ndim, x->shape, d);
        if (!dx) return lam_last_status();
        lam_kernel_args a = {.work = rows, .v = {lam_view_of(dx), lam_view_of(gc), xv, param_view(wc, &xv), mean, rstd},
                             .i = {D, w != NULL}};
        if (lam_run_kernel(n->op, d, LAM_K_LAYER_NORM_DX, &a) != LAM_OK || !(gin[0] = lam_as_dtype(dx, x->dtype)))
            return lam_last_status();
    }
    int iw = w ? 1 : -1, ib = has_b ? (w ? 2 : 1) : -1;
    bool want_w = iw > 0 && lam_input_needs_grad(n, iw), want_b = ib > 0 && lam_input_needs_grad(n, ib);
    if (!want_w && !want_b) return LAM_OK;
    lam_tensor *p = n->in[iw > 0 ? iw : ib];   /* both have the normalized shape */
    lam_tensor *dw = lam_tensor_alloc(LAM_F32, p->ndim, p->shape, d), *db = lam_tensor_alloc(LAM_F32, p->ndim, p->shape, d);
    if (!dw || !db) return lam_last_status();
    lam_kernel_args a = {.work = D, .v = {lam_view_of(dw), lam_view_of(db), lam_view_of(gc), xv, mean, rstd},
                         .i = {rows, D, want_w, want_b}};
    if (lam_run_kernel(n->op, d, LAM_K_LAYER_NORM_DWB, &a) != LAM_OK) return lam_last_status();
    if (want_w && !(gin[iw] = lam_as_dtype(dw, n->in[iw]->dtype))) return lam_last_status();
    if (want_b && !(gin[ib] = lam_as_dtype(db, n->in[ib]->dtype))) return lam_last_status();
    return LAM_OK;
}

/* normalized_shape ends x's shape; w and b, if given, have it exactly. D = its elements. */
static bool check_shapes(const char *op, lam_tensor *x, int nd, const int64_t *shape, lam_tensor *w, lam_tensor *b,
                         int64_t *D) {
    char a[96], s[96];
    bool ok = nd >= 1 && nd <= x->ndim && shape;
    *D = 1;
    for (int i = 0; ok && i < nd; ++i) {
        ok = shape[i] == x->shape[x->ndim - nd + i];
        *D *= shape[i];
    }
    if (!ok || *D == 0) {
        lam_set_error(LAM_ERR_SHAPE, "%s: normalized_shape %s does not end input %s (or is empty)", op,
                      shape && nd >= 0 ? lam_format_shape(nd, shape, s, sizeof s) : "(null)", lam_shape_str(x, a, sizeof a));
        return false;
    }
    for (int k = 0; k < 2; ++k) {
        lam_tensor *p = k ? b : w;
        if (!p) continue;
        bool same = p->ndim == nd;
        for (int i = 0; same && i < nd; ++i) same = p->shape[i] == shape[i];
        if (!same) {
            lam_set_error(LAM_ERR_SHAPE, "%s: %s %s does not match normalized_shape %s", op, k ? "bias" : "weight",
                          lam_shape_str(p, a, sizeof a), lam_format_shape(nd, shape, s, sizeof s));
            return false;
        }
        if (!lam_require_float(op, p) || !lam_same_device(op, x, p)) return false;
    }
    return true;
}

static lam_tensor *layer_norm_forward(const char *op, lam_tensor *x, lam_tensor *w, lam_tensor *b, int64_t D, float eps,
                                      lam_tensor **stats) {
    int64_t rows = lam_numel(x) / D;
    lam_tensor *xc = f32_contiguous(x), *wc = w ? f32_contiguous(w) : NULL, *bc = b ? f32_contiguous(b) : NULL;
    if (!xc || (w && !wc) || (b && !bc)) return NULL;
    lam_tensor *y = lam_tensor_alloc(LAM_F32, x->ndim, x->shape, LAM_DEV(x));
    *stats = y ? lam_tensor_alloc(LAM_F32, 2, (const int64_t[]){2, rows}, LAM_DEV(x)) : NULL;
    if (!*stats) return NULL;
    lam_view mean = stats_row(*stats, 0, rows), rstd = stats_row(*stats, 1, rows), xv = lam_view_of(xc);
    lam_kernel_args a = {.work = rows, .v = {lam_view_of(y), mean, rstd, xv, param_view(wc, &xv), param_view(bc, &xv)},
                         .i = {D, w != NULL, b != NULL}, .f = {eps}};
    return lam_run_kernel(op, LAM_DEV(x), LAM_K_LAYER_NORM, &a) == LAM_OK ? y : NULL;
}

lam_tensor *lam_layer_norm(lam_tensor *x, int ndim, const int64_t *normalized_shape, lam_tensor *weight,
                           lam_tensor *bias, float eps) {
    const char *op = "lam_layer_norm";
    LAM_CHECK_ARG(op, x);
    int64_t D;
    if (!lam_require_float(op, x) || !check_shapes(op, x, ndim, normalized_shape, weight, bias, &D)) return NULL;
    if (!(eps >= 0.0f)) LAM_FAIL_NULL(LAM_ERR_ARG, "%s: eps %g must be >= 0", op, (double)eps);
    lam_dtype dt = x->dtype;
    if (weight) dt = lam_promote(dt, weight->dtype);
    if (bias) dt = lam_promote(dt, bias->dtype);
    lam_tensor *stats = NULL;
    lam_scope_begin();   /* f32 copies die here */
    lam_tensor *y = layer_norm_forward(op, x, weight, bias, D, eps, &stats);
    stats = y ? lam_keep(stats) : NULL;   /* ours until the node retains it */
    y = lam_scope_end_keep(y);
    if (y && dt != LAM_F32) y = lam_tensor_copy(y, dt);
    lam_tensor *in[3] = {x, weight, bias};
    int n_in = 1;
    if (weight) in[n_in++] = weight;
    if (bias) in[n_in++] = bias;
    lam_node *n = NULL;
    y = lam_recorded(y, op, layer_norm_backward, n_in, in, &n);
    if (n) {
        n->arg[0] = weight != NULL;
        n->arg[1] = bias != NULL;
        n->arg[2] = D;
        n->saved = lam_retain(stats);
    }
    if (stats) lam_release(stats);
    return y;
}
