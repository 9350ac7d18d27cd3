/* Host backend: the pooling kernels of cl/pool.cl, the same window maths (cl/window.h) and
 * the same loops per element, outputs (or inputs, for backward) in parallel. f32 and f16
 * through lam_host_ld/st. */
#include "backend/host/host.h"
#include "core/error.h"

/* views y, idx (i64), x; window */
lam_status lam_host_k_max_pool(const lam_kernel_args *a) {
    const lam_view *y = &a->v[0], *x = &a->v[2];
    int64_t *idx = (int64_t *)a->v[1].buf + a->v[1].offset;
    const lam_window g = lam_host_window(a->i);
#pragma omp parallel for if (a->work > LAM_HOST_PAR_MIN / 16)
    for (int64_t e = 0; e < a->work; ++e) {
        int64_t ow = e % g.ow, oh = (e / g.ow) % g.oh, base = x->offset + (e / (g.ow * g.oh)) * g.h * g.w;
        float best = -INFINITY;
        int64_t at = -1;
        for (int64_t i = 0; i < g.kh; ++i) {
            int64_t r = oh * g.sh - g.ph + i * g.dh;
            if (r < 0 || r >= g.h) continue;
            for (int64_t j = 0; j < g.kw; ++j) {
                int64_t c = ow * g.sw - g.pw + j * g.dw;
                if (c < 0 || c >= g.w) continue;
                float v = lam_host_ld(x, base + r * g.w + c);
                if (v > best || isnan(v) || at < 0) {
                    best = v;
                    at = r * g.w + c;
                }
            }
        }
        lam_host_st(y, y->offset + e, best);
        idx[e] = at;
    }
    return LAM_OK;
}

/* views dx, g, idx (i64); window */
lam_status lam_host_k_max_pool_backward(const lam_kernel_args *a) {
    const lam_view *dx = &a->v[0], *gv = &a->v[1];
    const int64_t *idx = (const int64_t *)a->v[2].buf + a->v[2].offset;
    const lam_window g = lam_host_window(a->i);
#pragma omp parallel for if (a->work > LAM_HOST_PAR_MIN / 16)
    for (int64_t e = 0; e < a->work; ++e) {
        int64_t c = e % g.w, r = (e / g.w) % g.h, plane = e / (g.w * g.h), me = r * g.w + c;
        lam_i64 r0, r1, c0, c1;
        lam_window_covering(r, g.kh, g.sh, g.ph, g.dh, g.oh, &r0, &r1);
        lam_window_covering(c, g.kw, g.sw, g.pw, g.dw, g.ow, &c0, &c1);
        float s = 0.0f;
        for (int64_t oh = r0; oh < r1; ++oh)
            for (int64_t ow = c0; ow < c1; ++ow) {
                int64_t o = plane * g.oh * g.ow + oh * g.ow + ow;
                if (idx[o] == me) s += lam_host_ld(gv, gv->offset + o);
            }
        lam_host_st(dx, dx->offset + e, s);
    }
    return LAM_OK;
}

/* views y, x; window with dh = adaptive, dw = count_include_pad */
lam_status lam_host_k_avg_pool(const lam_kernel_args *a) {
    const lam_view *y = &a->v[0], *x = &a->v[1];
    const lam_window g = lam_host_window(a->i);
    const int adaptive = (int)g.dh, count_pad = (int)g.dw;
#pragma omp parallel for if (a->work > LAM_HOST_PAR_MIN / 16)
    for (int64_t e = 0; e < a->work; ++e) {
        int64_t ow = e % g.ow, oh = (e / g.ow) % g.oh, base = x->offset + (e / (g.ow * g.oh)) * g.h * g.w;
        lam_i64 r0, r1, c0, c1;
        int64_t count = lam_avg_window(oh, g.h, g.kh, g.sh, g.ph, g.oh, adaptive, count_pad, &r0, &r1) *
                        lam_avg_window(ow, g.w, g.kw, g.sw, g.pw, g.ow, adaptive, count_pad, &c0, &c1);
        float s = 0.0f;
        for (int64_t r = r0; r < r1; ++r)
            for (int64_t c = c0; c < c1; ++c) s += lam_host_ld(x, base + r * g.w + c);
        lam_host_st(y, y->offset + e, s / (float)count);
    }
    return LAM_OK;
}

/* views dx, g; the same window */
lam_status lam_host_k_avg_pool_backward(const lam_kernel_args *a) {
    const lam_view *dx = &a->v[0], *gv = &a->v[1];
    const lam_window g = lam_host_window(a->i);
    const int adaptive = (int)g.dh, count_pad = (int)g.dw;
#pragma omp parallel for if (a->work > LAM_HOST_PAR_MIN / 16)
    for (int64_t e = 0; e < a->work; ++e) {
        int64_t c = e % g.w, r = (e / g.w) % g.h, plane = e / (g.w * g.h);
        lam_i64 oh0, oh1, ow0, ow1;
        lam_avg_covering(r, g.h, g.kh, g.sh, g.ph, g.oh, adaptive, &oh0, &oh1);
        lam_avg_covering(c, g.w, g.kw, g.sw, g.pw, g.ow, adaptive, &ow0, &ow1);
        float s = 0.0f;
        for (int64_t oh = oh0; oh < oh1; ++oh) {
            lam_i64 r0, r1;
            int64_t ch = lam_avg_window(oh, g.h, g.kh, g.sh, g.ph, g.oh, adaptive, count_pad, &r0, &r1);
            if (r < r0 || r >= r1) continue;
            for (int64_t ow = ow0; ow < ow1; ++ow) {
                lam_i64 c0, c1;
                int64_t cw = lam_avg_window(ow, g.w, g.kw, g.sw, g.pw, g.ow, adaptive, count_pad, &c0, &c1);
                if (c >= c0 && c < c1) s += lam_host_ld(gv, gv->offset + plane * g.oh * g.ow + oh * g.ow + ow) / (float)(ch * cw);
            }
        }
        lam_host_st(dx, dx->offset + e, s);
    }
    return LAM_OK;
}
