/* View helpers and pool size classes shared by the host and OpenCL backends. */
#include "backend/view.h"

lam_layout lam_view_layout(const lam_view *v) {
    lam_layout L = {.offset = v->offset, .ndim = v->ndim};
    for (int i = 0; i < LAM_LAYOUT_DIMS; ++i) {
        L.shape[i] = i < v->ndim ? v->shape[i] : 1;
        L.stride[i] = i < v->ndim ? v->stride[i] : 0;
    }
    return L;
}

bool lam_view_contiguous(const lam_view *v) {
    int64_t expect = 1;
    for (int i = v->ndim - 1; i >= 0; --i) {
        if (v->shape[i] != 1 && v->stride[i] != expect) return false;
        expect *= v->shape[i];
    }
    return true;
}

int64_t lam_view_numel(const lam_view *v) {
    int64_t n = 1;
    for (int i = 0; i < v->ndim; ++i) n *= v->shape[i];
    return n;
}

int lam_pool_size_class(size_t bytes, size_t *rounded) {
    if (bytes < ((size_t)1 << LAM_POOL_MIN_SHIFT)) bytes = (size_t)1 << LAM_POOL_MIN_SHIFT;
    int shift = 63 - __builtin_clzll((unsigned long long)bytes);
    size_t quarter = (size_t)1 << (shift - 2);
    size_t steps = (bytes - ((size_t)1 << shift) + quarter - 1) / quarter;   /* 0..4 */
    *rounded = ((size_t)1 << shift) + steps * quarter;
    int cls = 4 * (shift - LAM_POOL_MIN_SHIFT) + (int)steps;
    return cls < LAM_POOL_CLASSES ? cls : -1;
}
