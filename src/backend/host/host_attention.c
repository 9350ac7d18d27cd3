/* Host backend: attention's fused row kernels (cl/attention.cl), rows in parallel, the same
 * maths. f32 only. */
#include <math.h>

#include "backend/host/host.h"
#include "core/error.h"

#define AT(view) ((float *)(view).buf + (view).offset)

/* views p, s, mask; ints H, L, S, mB, mH, mL, mS, has_mask, causal; float scale */
lam_status lam_host_k_attn_softmax(const lam_kernel_args *a) {
    if (a->v[1].dtype != LAM_F32) return lam_set_error(LAM_ERR_ARG, "cpu: attn_softmax takes f32");
    float *p = AT(a->v[0]);
    const float *s = AT(a->v[1]), *mask = a->i[7] ? AT(a->v[2]) : NULL;
    const int64_t H = a->i[0], L = a->i[1], S = a->i[2], mB = a->i[3], mH = a->i[4], mL = a->i[5], mS = a->i[6];
    const bool causal = a->i[8] != 0;
    const float scale = a->f[0];
    const int64_t rows = a->work;
#pragma omp parallel for LAM_HOST_THREADS if (rows * S > LAM_HOST_PAR_MIN / 8)
    for (int64_t r = 0; r < rows; ++r) {
        int64_t i = r % L, h = r / L % H, b = r / L / H;
        const float *sr = s + r * S, *mr = mask ? mask + b * mB + h * mH + i * mL : NULL;
        float *pr = p + r * S;
        int64_t end = causal && i + 1 < S ? i + 1 : S;
        float m = -INFINITY, sum = 0.0f;
        for (int64_t j = 0; j < end; ++j) {
            pr[j] = scale * sr[j] + (mr ? mr[j * mS] : 0.0f);
            m = fmaxf(m, pr[j]);
        }
        for (int64_t j = 0; j < end; ++j) sum += (pr[j] = LAM_EXP(pr[j] - m));
        float inv = m == -INFINITY ? NAN : 1.0f / sum;
        for (int64_t j = 0; j < S; ++j) pr[j] = j < end ? pr[j] * inv : m == -INFINITY ? NAN : 0.0f;
    }
    return LAM_OK;
}

/* views ds, p, dp; int S; float scale */
lam_status lam_host_k_attn_softmax_bwd(const lam_kernel_args *a) {
    if (a->v[1].dtype != LAM_F32) return lam_set_error(LAM_ERR_ARG, "cpu: attn_softmax_bwd takes f32");
    float *ds = AT(a->v[0]);
    const float *p = AT(a->v[1]), *dp = AT(a->v[2]);
    const int64_t S = a->i[0], rows = a->work;
    const float scale = a->f[0];
#pragma omp parallel for LAM_HOST_THREADS if (rows * S > LAM_HOST_PAR_MIN / 8)
    for (int64_t r = 0; r < rows; ++r) {
        const float *pr = p + r * S, *gr = dp + r * S;
        float dot = 0.0f;
        for (int64_t j = 0; j < S; ++j) dot += pr[j] * gr[j];
        for (int64_t j = 0; j < S; ++j) ds[r * S + j] = scale * pr[j] * (gr[j] - dot);
    }
    return LAM_OK;
}
