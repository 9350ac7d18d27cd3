/* Host backend: indexing along one dimension (cl/index.cl's kernels), x seen as
 * (outer, len, inner) and the index as n int64. An index outside [0, len) reads nothing
 * and gives 0, as on OpenCL devices. f32 only. */
#include <string.h>

#include "backend/host/host.h"
#include "core/error.h"

#define AT(view) ((float *)(view).buf + (view).offset)

static lam_status f32_only(const char *name, const lam_kernel_args *a) {
    if (a->v[0].dtype == LAM_F32 && a->v[1].dtype == LAM_F32) return LAM_OK;
    return lam_set_error(LAM_ERR_ARG, "cpu: %s takes f32, not %s", name, lam_dtype_name(a->v[0].dtype));
}

/* views out, x, idx; ints len, inner, n: out[o, j, :] = x[o, idx[j], :] */
lam_status lam_host_k_index_select(const lam_kernel_args *a) {
    if (f32_only("index_select", a) != LAM_OK) return lam_last_status();
    float *out = AT(a->v[0]);
    const float *x = AT(a->v[1]);
    const int64_t *idx = (const int64_t *)a->v[2].buf + a->v[2].offset;
    const int64_t len = a->i[0], inner = a->i[1], n = a->i[2], rows = a->work / inner;
#pragma omp parallel for LAM_HOST_THREADS if (a->work > LAM_HOST_PAR_MIN)
    for (int64_t row = 0; row < rows; ++row) {   /* row = o * n + j */
        int64_t o = row / n, r = idx[row % n];
        float *dst = out + row * inner;
        if (r >= 0 && r < len) memcpy(dst, x + (o * len + r) * inner, (size_t)inner * sizeof *dst);
        else memset(dst, 0, (size_t)inner * sizeof *dst);
    }
    return LAM_OK;
}

/* views gx, g, idx; ints len, inner, n: gx[o, r, :] = sum over j with idx[j] == r of
 * g[o, j, :], added in the order of j. Threads split the columns, never the sum:
 * deterministic for any thread count. */
lam_status lam_host_k_index_add(const lam_kernel_args *a) {
    if (f32_only("index_add", a) != LAM_OK) return lam_last_status();
    float *gx = AT(a->v[0]);
    const float *g = AT(a->v[1]);
    const int64_t *idx = (const int64_t *)a->v[2].buf + a->v[2].offset;
    const int64_t len = a->i[0], inner = a->i[1], n = a->i[2], outer = a->work / (len * inner);
    memset(gx, 0, (size_t)a->work * sizeof *gx);
    enum { BLOCK = 64 };   /* columns per task */
    const int64_t blocks = (inner + BLOCK - 1) / BLOCK;
#pragma omp parallel for LAM_HOST_THREADS if (outer * n * inner > LAM_HOST_PAR_MIN / 4)
    for (int64_t task = 0; task < outer * blocks; ++task) {
        int64_t o = task / blocks, c0 = task % blocks * BLOCK, c1 = c0 + BLOCK < inner ? c0 + BLOCK : inner;
        for (int64_t j = 0; j < n; ++j) {
            int64_t r = idx[j];
            if (r < 0 || r >= len) continue;
            float *dst = gx + (o * len + r) * inner;
            const float *src = g + (o * n + j) * inner;
            for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
        }
    }
    return LAM_OK;
}
