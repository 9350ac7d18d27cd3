/* Host backend: the direct-kernel entry (a table of lam_host_k_* from backend/kernels.h)
 * and the kernels with no family of their own (random numbers). */
#include "backend/host/host.h"
#include "core/error.h"

#define LAM_HOST_KERNEL_ROW(NAME, name, file, nv, ni, nf, group) [LAM_K_##NAME] = lam_host_k_##name,
static lam_status (*const kernels[LAM_KERNEL_COUNT])(const lam_kernel_args *) = {LAM_KERNELS(LAM_HOST_KERNEL_ROW)};

lam_status lam_host_kernel(lam_device *d, lam_kernel_id id, const lam_kernel_args *a) {
    (void)d;
    if ((unsigned)id >= LAM_KERNEL_COUNT) return lam_set_error(LAM_ERR_BACKEND, "cpu: unknown kernel %d", (int)id);
    if (a->work <= 0) return LAM_OK;
    return kernels[id](a);
}

/* view dst; ints seed, counter, normal: element i is Philox(seed, counter + i) */
lam_status lam_host_k_rand(const lam_kernel_args *a) {
    const lam_view *dst = &a->v[0];
    const int64_t n = a->work;
    const uint64_t seed = (uint64_t)a->i[0], counter = (uint64_t)a->i[1];
    const bool normal = a->i[2] != 0;
#pragma omp parallel for LAM_HOST_THREADS if (n > LAM_HOST_PAR_MIN / 8)
    for (int64_t i = 0; i < n; ++i)
        lam_host_st(dst, dst->offset + i,
                    normal ? lam_rand_normal_at(seed, counter + (uint64_t)i) : lam_rand_uniform_at(seed, counter + (uint64_t)i));
    return LAM_OK;
}
