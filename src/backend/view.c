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

void lam_views_coalesce(lam_view *const *views, int n) {
    if (n == 0) return;
    int nd = 0;
    int64_t shape[LAM_MAX_DIMS];
    for (int d = 0; d < views[0]->ndim; ++d) {
        int64_t size = views[0]->shape[d];
        if (size == 1) continue;
        bool merge = nd > 0;
        for (int k = 0; k < n && merge; ++k) merge = views[k]->stride[nd - 1] == views[k]->stride[d] * size;
        for (int k = 0; k < n; ++k) {
            if (merge) views[k]->stride[nd - 1] = views[k]->stride[d];
            else views[k]->stride[nd] = views[k]->stride[d];
        }
        if (merge) shape[nd - 1] *= size;
        else shape[nd++] = size;
    }
    for (int k = 0; k < n; ++k) {
        views[k]->ndim = nd;
        for (int d = 0; d < nd; ++d) views[k]->shape[d] = shape[d];
    }
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
