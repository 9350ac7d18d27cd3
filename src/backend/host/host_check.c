/* Host backend: index checks. The host reads the indices where they are, so a bad one is
 * an error at once (the error record view is unused). */
#include "backend/check.h"
#include "backend/host/host.h"

/* views idx (i32 or i64), record; ints lo, hi, op id */
lam_status lam_host_k_check_index(const lam_kernel_args *a) {
    const lam_view *idx = &a->v[0];
    const int64_t lo = a->i[0], hi = a->i[1];
    for (int64_t i = 0; i < a->work; ++i) {
        int64_t v = idx->dtype == LAM_I32 ? ((const int32_t *)idx->buf)[idx->offset + i]
                                          : ((const int64_t *)idx->buf)[idx->offset + i];
        if (v < lo || v >= hi) return lam_check_fail(a->i[2], v, i, lo, hi, false);
    }
    return LAM_OK;
}
