/* Host backend: the batch-norm kernels of cl/batch_norm.cl. Per-channel sums run one
 * channel per thread and accumulate in double (two passes: mean, then squared deviations);
 * the per-element passes are the same expressions as the OpenCL kernels. f32 only. */
#include <math.h>

#include "backend/host/host.h"
#include "core/error.h"

#define F32(view) ((float *)(view).buf + (view).offset)

/* The HW values of channel c of image n in (N, C, HW). */
#define PLANE(p, n, c) ((p) + ((n) * C + (c)) * HW)

/* views stats (3, C), x, rmean, rvar; ints N, C, HW, training; float eps */
lam_status lam_host_k_bn_stats(const lam_kernel_args *a) {
    float *stats = F32(a->v[0]);
    const float *x = F32(a->v[1]), *rm = F32(a->v[2]), *rv = F32(a->v[3]);
    const int64_t N = a->i[0], C = a->i[1], HW = a->i[2], M = N * HW;
    const bool training = a->i[3] != 0;
    const float eps = a->f[0];
#pragma omp parallel for LAM_HOST_THREADS if (M * C > LAM_HOST_PAR_MIN)
    for (int64_t c = 0; c < C; ++c) {
        if (!training) {
            stats[c] = rm[c];
            stats[C + c] = 1.0f / sqrtf(rv[c] + eps);
            stats[2 * C + c] = 0.0f;
            continue;
        }
        double s = 0, q = 0;
        for (int64_t n = 0; n < N; ++n) {
            const float *xp = PLANE(x, n, c);
#pragma omp simd reduction(+ : s)
            for (int64_t k = 0; k < HW; ++k) s += xp[k];
        }
        const double mean = s / (double)M;
        for (int64_t n = 0; n < N; ++n) {
            const float *xp = PLANE(x, n, c);
#pragma omp simd reduction(+ : q)
            for (int64_t k = 0; k < HW; ++k) q += (xp[k] - mean) * (xp[k] - mean);
        }
        stats[c] = (float)mean;
        stats[C + c] = (float)(1.0 / sqrt(q / (double)M + eps));
        stats[2 * C + c] = (float)q;
    }
    return LAM_OK;
}

/* views rmean, rvar, stats; int count; float momentum */
lam_status lam_host_k_bn_update(const lam_kernel_args *a) {
    float *rm = F32(a->v[0]), *rv = F32(a->v[1]);
    const float *stats = F32(a->v[2]), momentum = a->f[0];
    const int64_t C = a->work, count = a->i[0];
    for (int64_t c = 0; c < C; ++c) {
        rm[c] = momentum * stats[c] + (1.0f - momentum) * rm[c];
        float unbiased = stats[2 * C + c] / (float)(count - 1);
        rv[c] = momentum * unbiased + (1.0f - momentum) * rv[c];
    }
    return LAM_OK;
}

/* views y, x, stats, w, b; ints C, HW, affine */
lam_status lam_host_k_bn_apply(const lam_kernel_args *a) {
    float *y = F32(a->v[0]);
    const float *x = F32(a->v[1]), *stats = F32(a->v[2]), *w = F32(a->v[3]), *b = F32(a->v[4]);
    const int64_t C = a->i[0], HW = a->i[1], rows = a->work / HW;
    const bool affine = a->i[2] != 0;
#pragma omp parallel for LAM_HOST_THREADS if (a->work > LAM_HOST_PAR_MIN)
    for (int64_t row = 0; row < rows; ++row) {   /* one (image, channel) plane */
        const int64_t c = row % C;
        const float mean = stats[c], invstd = stats[C + c];
        const float scale = affine ? w[c] : 1.0f, shift = affine ? b[c] : 0.0f;
        for (int64_t k = row * HW; k < (row + 1) * HW; ++k) {
            float v = (x[k] - mean) * invstd;
            y[k] = affine ? v * scale + shift : v;
        }
    }
    return LAM_OK;
}

/* views sums (2, C), g, x, stats; ints N, C, HW */
lam_status lam_host_k_bn_backward_reduce(const lam_kernel_args *a) {
    float *sums = F32(a->v[0]);
    const float *g = F32(a->v[1]), *x = F32(a->v[2]), *stats = F32(a->v[3]);
    const int64_t N = a->i[0], C = a->i[1], HW = a->i[2];
#pragma omp parallel for LAM_HOST_THREADS if (N * HW * C > LAM_HOST_PAR_MIN)
    for (int64_t c = 0; c < C; ++c) {
        const double mean = stats[c], invstd = stats[C + c];
        double sg = 0, sgx = 0;
        for (int64_t n = 0; n < N; ++n) {
            const float *gp = PLANE(g, n, c), *xp = PLANE(x, n, c);
#pragma omp simd reduction(+ : sg, sgx)
            for (int64_t k = 0; k < HW; ++k) {
                sg += gp[k];
                sgx += gp[k] * (xp[k] - mean);
            }
        }
        sums[c] = (float)sg;
        sums[C + c] = (float)(sgx * invstd);
    }
    return LAM_OK;
}

/* views dx, g, x, stats, w, sums; ints C, HW, affine, training, count */
lam_status lam_host_k_bn_backward_data(const lam_kernel_args *a) {
    float *dx = F32(a->v[0]);
    const float *g = F32(a->v[1]), *x = F32(a->v[2]), *stats = F32(a->v[3]), *w = F32(a->v[4]), *sums = F32(a->v[5]);
    const int64_t C = a->i[0], HW = a->i[1], rows = a->work / HW, count = a->i[4];
    const bool affine = a->i[2] != 0, training = a->i[3] != 0;
#pragma omp parallel for LAM_HOST_THREADS if (a->work > LAM_HOST_PAR_MIN)
    for (int64_t row = 0; row < rows; ++row) {
        const int64_t c = row % C;
        const float invstd = stats[C + c], scale = affine ? w[c] : 1.0f;
        for (int64_t k = row * HW; k < (row + 1) * HW; ++k) {
            float gv = g[k];
            if (training) {
                float xhat = (x[k] - stats[c]) * invstd;
                gv -= (sums[c] + xhat * sums[C + c]) / (float)count;
            }
            dx[k] = gv * invstd * scale;
        }
    }
    return LAM_OK;
}

/* view num_batches_tracked (i64); int delta */
lam_status lam_host_k_bn_count(const lam_kernel_args *a) {
    ((int64_t *)a->v[0].buf)[a->v[0].offset] += a->i[0];
    return LAM_OK;
}
