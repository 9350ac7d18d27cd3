/* Host backend: layer norm (cl/layer_norm.cl's kernels), one row per iteration, rows in
 * parallel; the same two-pass maths. f32 only. */
#include <math.h>

#include "backend/host/host.h"
#include "core/error.h"

#define AT(view) ((float *)(view).buf + (view).offset)

static lam_status f32_only(const char *name, const lam_view *v) {
    if (v->dtype == LAM_F32) return LAM_OK;
    return lam_set_error(LAM_ERR_ARG, "cpu: %s takes f32, not %s", name, lam_dtype_name(v->dtype));
}

/* views y, mean, rstd, x, w, b; ints D, has_w, has_b; float eps */
lam_status lam_host_k_layer_norm(const lam_kernel_args *a) {
    if (f32_only("layer_norm", &a->v[3]) != LAM_OK) return lam_last_status();
    float *y = AT(a->v[0]), *mean = AT(a->v[1]), *rstd = AT(a->v[2]);
    const float *x = AT(a->v[3]), *w = a->i[1] ? AT(a->v[4]) : NULL, *b = a->i[2] ? AT(a->v[5]) : NULL;
    const int64_t D = a->i[0], rows = a->work;
    const float eps = a->f[0];
#pragma omp parallel for LAM_HOST_THREADS if (rows * D > LAM_HOST_PAR_MIN / 8)
    for (int64_t r = 0; r < rows; ++r) {
        const float *xr = x + r * D;
        float *yr = y + r * D;
        float s = 0.0f, q = 0.0f;
        for (int64_t c = 0; c < D; ++c) s += xr[c];
        float mu = s / (float)D;
        for (int64_t c = 0; c < D; ++c) q += (xr[c] - mu) * (xr[c] - mu);
        float rs = 1.0f / sqrtf(q / (float)D + eps);
        for (int64_t c = 0; c < D; ++c) {
            float v = (xr[c] - mu) * rs;
            yr[c] = (w ? v * w[c] : v) + (b ? b[c] : 0.0f);
        }
        mean[r] = mu;
        rstd[r] = rs;
    }
    return LAM_OK;
}

/* views dx, g, x, w, mean, rstd; ints D, has_w */
lam_status lam_host_k_layer_norm_dx(const lam_kernel_args *a) {
    if (f32_only("layer_norm_dx", &a->v[1]) != LAM_OK) return lam_last_status();
    float *dx = AT(a->v[0]);
    const float *g = AT(a->v[1]), *x = AT(a->v[2]), *w = a->i[1] ? AT(a->v[3]) : NULL;
    const float *mean = AT(a->v[4]), *rstd = AT(a->v[5]);
    const int64_t D = a->i[0], rows = a->work;
#pragma omp parallel for LAM_HOST_THREADS if (rows * D > LAM_HOST_PAR_MIN / 8)
    for (int64_t r = 0; r < rows; ++r) {
        const float *xr = x + r * D, *gr = g + r * D;
        float mu = mean[r], rs = rstd[r], s1 = 0.0f, s2 = 0.0f;
        for (int64_t c = 0; c < D; ++c) {
            float gw = w ? gr[c] * w[c] : gr[c];
            s1 += gw;
            s2 += gw * (xr[c] - mu) * rs;
        }
        float m1 = s1 / (float)D, m2 = s2 / (float)D;
        for (int64_t c = 0; c < D; ++c) {
            float gw = w ? gr[c] * w[c] : gr[c];
            dx[r * D + c] = rs * (gw - m1 - (xr[c] - mu) * rs * m2);
        }
    }
    return LAM_OK;
}

/* views dw, db, g, x, mean, rstd; ints rows, D, has_w, has_b: column sums over the rows,
 * threads split the columns (rows added in order: deterministic) */
lam_status lam_host_k_layer_norm_dwb(const lam_kernel_args *a) {
    if (f32_only("layer_norm_dwb", &a->v[2]) != LAM_OK) return lam_last_status();
    float *dw = a->i[2] ? AT(a->v[0]) : NULL, *db = a->i[3] ? AT(a->v[1]) : NULL;
    const float *g = AT(a->v[2]), *x = AT(a->v[3]), *mean = AT(a->v[4]), *rstd = AT(a->v[5]);
    const int64_t rows = a->i[0], D = a->i[1];
    enum { BLOCK = 64 };
    const int64_t blocks = (D + BLOCK - 1) / BLOCK;
#pragma omp parallel for LAM_HOST_THREADS if (rows * D > LAM_HOST_PAR_MIN / 8)
    for (int64_t blk = 0; blk < blocks; ++blk) {
        int64_t c0 = blk * BLOCK, c1 = c0 + BLOCK < D ? c0 + BLOCK : D;
        float sw[BLOCK] = {0}, sb[BLOCK] = {0};
        for (int64_t r = 0; r < rows; ++r) {
            const float *xr = x + r * D, *gr = g + r * D;
            float mu = mean[r], rs = rstd[r];
            for (int64_t c = c0; c < c1; ++c) {
                sw[c - c0] += gr[c] * (xr[c] - mu) * rs;
                sb[c - c0] += gr[c];
            }
        }
        for (int64_t c = c0; c < c1; ++c) {
            if (dw) dw[c] = sw[c - c0];
            if (db) db[c] = sb[c - c0];
        }
    }
    return LAM_OK;
}
