/* Shape rules and backend dispatch shared by the elementwise op files. */
#include <string.h>

#include "ops/ops_impl.h"

bool lam_require_f32(const char *op, const lam_tensor *t) {
    if (t->dtype == LAM_F32) return true;
    lam_set_error(LAM_ERR_ARG, "%s: expected an f32 tensor, got %s", op, lam_dtype_name(t->dtype));
    return false;
}

int lam_broadcast_shape(const char *op, const lam_tensor *a, const lam_tensor *b, int64_t *out) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < nd; ++i) {
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
        if (sa != sb && sa != 1 && sb != 1) {
            char x[96], y[96];
            lam_set_error(LAM_ERR_SHAPE, "%s: shapes do not broadcast: %s and %s", op,
                          lam_shape_str(a, x, sizeof x), lam_shape_str(b, y, sizeof y));
            return -1;
        }
        out[i] = sa == 1 ? sb : sa;
    }
    return nd;
}

lam_view lam_broadcast_view(const lam_tensor *t, int ndim, const int64_t *shape) {
    lam_view v = {.buf = t->storage->buf, .offset = t->offset, .ndim = ndim, .dtype = t->dtype};
    for (int i = 0; i < ndim; ++i) {
        int it = i - (ndim - t->ndim);
        v.shape[i] = shape[i];
        v.stride[i] = it >= 0 && t->shape[it] == shape[i] ? t->stride[it] : 0;
    }
    return v;
}

lam_tensor *lam_unary_op_run(const char *op, lam_unary_op code, lam_tensor *x) {
    LAM_CHECK_ARG(op, x);
    if (!lam_require_f32(op, x)) return NULL;
    lam_tensor *out = lam_tensor_alloc(LAM_F32, x->ndim, x->shape, LAM_DEV(x));
    if (!out) return NULL;
    lam_view o = lam_view_of(out), v = lam_view_of(x);
    if (lam_numel(out) > 0 && LAM_DEV(x)->ops->unary(LAM_DEV(x), code, &o, &v) != LAM_OK) return NULL;
    return out;
}

lam_tensor *lam_binary_op_run(const char *op, lam_binary_op code, lam_tensor *a, lam_tensor *b) {
    LAM_CHECK_ARG(op, a);
    LAM_CHECK_ARG(op, b);
    if (!lam_require_f32(op, a) || !lam_require_f32(op, b) || !lam_same_device(op, a, b)) return NULL;
    int64_t shape[LAM_MAX_DIMS];
    int nd = lam_broadcast_shape(op, a, b, shape);
    if (nd < 0) return NULL;
    lam_tensor *out = lam_tensor_alloc(LAM_F32, nd, shape, LAM_DEV(a));
    if (!out) return NULL;
    lam_view o = lam_view_of(out), va = lam_broadcast_view(a, nd, shape), vb = lam_broadcast_view(b, nd, shape);
    if (lam_numel(out) > 0 && LAM_DEV(a)->ops->binary(LAM_DEV(a), code, &o, &va, &vb) != LAM_OK) return NULL;
    return out;
}

lam_tensor *lam_scalar_op_run(const char *op, lam_binary_op code, lam_tensor *a, float s) {
    LAM_CHECK_ARG(op, a);
    if (!lam_require_f32(op, a)) return NULL;
    lam_tensor *out = lam_tensor_alloc(LAM_F32, a->ndim, a->shape, LAM_DEV(a));
    if (!out) return NULL;
    lam_view o = lam_view_of(out), va = lam_view_of(a);
    if (lam_numel(out) > 0 && LAM_DEV(a)->ops->binary_scalar(LAM_DEV(a), code, &o, &va, s) != LAM_OK) return NULL;
    return out;
}
