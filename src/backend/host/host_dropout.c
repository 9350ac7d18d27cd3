/* Host backend: the dropout kernel of cl/dropout.cl, the same Philox draws (cl/common.h), so
 * a seed drops the same elements here as on every OpenCL device. */
#include "backend/host/host.h"
#include "core/error.h"

/* views y, x; ints seed, counter; floats p, scale */
lam_status lam_host_k_dropout(const lam_kernel_args *a) {
    const lam_view *y = &a->v[0], *x = &a->v[1];
    const uint64_t seed = (uint64_t)a->i[0], counter = (uint64_t)a->i[1];
    const float p = a->f[0], scale = a->f[1];
#pragma omp parallel for LAM_HOST_THREADS if (a->work > LAM_HOST_PAR_MIN / 4)
    for (int64_t i = 0; i < a->work; ++i) {
        float u = lam_rand_uniform_at(seed, counter + (uint64_t)i);
        lam_host_st(y, y->offset + i, u < p ? 0.0f : lam_host_ld(x, x->offset + i) * scale);
    }
    return LAM_OK;
}
