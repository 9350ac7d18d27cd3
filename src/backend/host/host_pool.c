/* Host backend: the pooling kernels of cl/pool.cl with the same window maths (cl/window.h),
 * one (H, W) plane per loop iteration, planes in parallel (the work count is in rows, as the
 * OpenCL kernels run). Backward scatters within its own plane, visiting outputs in row-major
 * order, so each input sums its terms in the order the OpenCL kernels do. f32 and f16
 * through lam_host_ld/st (f16 sums round at each term). */
#include <string.h>

#include "backend/host/host.h"
#include "core/error.h"

#define PAR_PLANES _Pragma("omp parallel for LAM_HOST_THREADS if (a->work * g.w > LAM_HOST_PAR_MIN / 4)")

/* Zeroes the plane of count elements of a float view at offset at. */
static void zero(const lam_view *v, int64_t at, int64_t count) {
    memset((char *)v->buf + at * (int64_t)lam_dtype_size(v->dtype), 0, (size_t)count * lam_dtype_size(v->dtype));
}

/* One tap over a block of outputs: best and at take row[o sw] where it is larger, NaN, or the
 * first tap inside the input (row[o sw + shift]). 32-bit lanes and masks, so it vectorizes on any x86-64;
 * always inlined, so a constant sw gives plain loads. */
static inline __attribute__((always_inline)) void max_tap(const float *restrict row, float *restrict best,
                                                          int32_t *restrict at, int64_t lo, int64_t hi, int64_t sw,
                                                          int64_t shift, int32_t base) {
    for (int64_t o = lo; o < hi; ++o) {
        const float v = row[o * sw + shift], b = best[o];
        const int32_t a = at[o], take = -((v > b) | (v != v) | (a < 0));
        best[o] = take ? v : b;
        at[o] = (take & (base + (int32_t)(o * sw + shift))) | (~take & a);
    }
}

/* One plane of f32 max pooling (planes under 2^31 elements), blocks of outputs of one row at
 * a time, tap by tap: each output keeps its largest tap (NaN wins) and the tap's position. */
static void max_plane_f32(const float *restrict x, float *restrict y, int64_t *restrict idx, const lam_window *g) {
    enum { BLOCK = 64 };
    float best[BLOCK];
    int32_t at[BLOCK];
    for (int64_t oh = 0; oh < g->oh; ++oh)
        for (int64_t o0 = 0; o0 < g->ow; o0 += BLOCK) {
            const int64_t nb = g->ow - o0 < BLOCK ? g->ow - o0 : BLOCK;
            for (int64_t k = 0; k < nb; ++k) {
                best[k] = -INFINITY;
                at[k] = -1;
            }
            for (int64_t i = 0; i < g->kh; ++i) {
                const int64_t r = oh * g->sh - g->ph + i * g->dh;
                if (r < 0 || r >= g->h) continue;
                for (int64_t j = 0; j < g->kw; ++j) {
                    int64_t shift = o0 * g->sw + j * g->dw - g->pw, lo, hi;
                    lam_host_inside(shift, g->sw, g->w, nb, &lo, &hi);
                    const float *row = x + r * g->w;
                    const int32_t base = (int32_t)(r * g->w);
                    if (g->sw == 1) max_tap(row, best, at, lo, hi, 1, shift, base);
                    else if (g->sw == 2) max_tap(row, best, at, lo, hi, 2, shift, base);
                    else max_tap(row, best, at, lo, hi, g->sw, shift, base);
                }
            }
            for (int64_t k = 0; k < nb; ++k) {
                y[oh * g->ow + o0 + k] = best[k];
                idx[oh * g->ow + o0 + k] = at[k];
            }
        }
}

/* The same for any float storage, one output at a time. */
static void max_plane_any(const lam_view *x, int64_t in, const lam_view *y, int64_t out, int64_t *idx,
                          const lam_window *g) {
    for (int64_t oh = 0; oh < g->oh; ++oh)
        for (int64_t ow = 0; ow < g->ow; ++ow) {
            float best = -INFINITY;
            int64_t at = -1;
            for (int64_t i = 0; i < g->kh; ++i) {
                int64_t r = oh * g->sh - g->ph + i * g->dh;
                for (int64_t j = 0; r >= 0 && r < g->h && j < g->kw; ++j) {
                    int64_t c = ow * g->sw - g->pw + j * g->dw;
                    if (c < 0 || c >= g->w) continue;
                    float v = lam_host_ld(x, in + r * g->w + c);
                    if (v > best || v != v || at < 0) {
                        best = v;
                        at = r * g->w + c;
                    }
                }
            }
            lam_host_st(y, out + oh * g->ow + ow, best);
            idx[oh * g->ow + ow] = at;
        }
}

/* views y, idx (i64), x; window */
lam_status lam_host_k_max_pool(const lam_kernel_args *a) {
    const lam_view *y = &a->v[0], *x = &a->v[2];
    const lam_window g = lam_host_window(a->i);
    const int64_t planes = a->work / g.oh, outs = g.oh * g.ow;
    const bool f32 = x->dtype == LAM_F32 && g.h * g.w < INT32_MAX;
    PAR_PLANES
    for (int64_t pl = 0; pl < planes; ++pl) {
        const int64_t in = x->offset + pl * g.h * g.w, out = y->offset + pl * outs;
        int64_t *ip = (int64_t *)a->v[1].buf + a->v[1].offset + pl * outs;
        if (f32) max_plane_f32((const float *)x->buf + in, (float *)y->buf + out, ip, &g);
        else max_plane_any(x, in, y, out, ip, &g);
    }
    return LAM_OK;
}

/* views dx, g, idx (i64); window: dx[idx[o]] += g[o] within each plane */
lam_status lam_host_k_max_pool_backward(const lam_kernel_args *a) {
    const lam_view *dx = &a->v[0], *gv = &a->v[1];
    const int64_t *idx = (const int64_t *)a->v[2].buf + a->v[2].offset;
    const lam_window g = lam_host_window(a->i);
    const int64_t planes = a->work / g.h, outs = g.oh * g.ow;
    PAR_PLANES
    for (int64_t pl = 0; pl < planes; ++pl) {
        const int64_t base = dx->offset + pl * g.h * g.w;
        zero(dx, base, g.h * g.w);
        for (int64_t o = pl * outs; o < (pl + 1) * outs; ++o)
            lam_host_st(dx, base + idx[o], lam_host_ld(dx, base + idx[o]) + lam_host_ld(gv, gv->offset + o));
    }
    return LAM_OK;
}

/* views y, x; window with dh = adaptive, dw = count_include_pad */
lam_status lam_host_k_avg_pool(const lam_kernel_args *a) {
    const lam_view *y = &a->v[0], *x = &a->v[1];
    const lam_window g = lam_host_window(a->i);
    const int adaptive = (int)g.dh, count_pad = (int)g.dw;
    const int64_t planes = a->work / g.oh;
    PAR_PLANES
    for (int64_t pl = 0; pl < planes; ++pl) {
        const int64_t in = x->offset + pl * g.h * g.w;
        for (int64_t oh = 0; oh < g.oh; ++oh) {
            lam_i64 r0, r1, c0, c1;
            int64_t ch = lam_avg_window(oh, g.h, g.kh, g.sh, g.ph, g.oh, adaptive, count_pad, &r0, &r1);
            for (int64_t ow = 0; ow < g.ow; ++ow) {
                int64_t cw = lam_avg_window(ow, g.w, g.kw, g.sw, g.pw, g.ow, adaptive, count_pad, &c0, &c1);
                float s = 0.0f;
                for (int64_t r = r0; r < r1; ++r)
                    for (int64_t c = c0; c < c1; ++c) s += lam_host_ld(x, in + r * g.w + c);
                lam_host_st(y, y->offset + (pl * g.oh + oh) * g.ow + ow, s / (float)(ch * cw));
            }
        }
    }
    return LAM_OK;
}

/* views dx, g; the same window: each output's g / count added over its window */
lam_status lam_host_k_avg_pool_backward(const lam_kernel_args *a) {
    const lam_view *dx = &a->v[0], *gv = &a->v[1];
    const lam_window g = lam_host_window(a->i);
    const int adaptive = (int)g.dh, count_pad = (int)g.dw;
    const int64_t planes = a->work / g.h;
    PAR_PLANES
    for (int64_t pl = 0; pl < planes; ++pl) {
        const int64_t base = dx->offset + pl * g.h * g.w;
        zero(dx, base, g.h * g.w);
        for (int64_t oh = 0; oh < g.oh; ++oh) {
            lam_i64 r0, r1, c0, c1;
            int64_t ch = lam_avg_window(oh, g.h, g.kh, g.sh, g.ph, g.oh, adaptive, count_pad, &r0, &r1);
            for (int64_t ow = 0; ow < g.ow; ++ow) {
                int64_t cw = lam_avg_window(ow, g.w, g.kw, g.sw, g.pw, g.ow, adaptive, count_pad, &c0, &c1);
                float share = lam_host_ld(gv, gv->offset + (pl * g.oh + oh) * g.ow + ow) / (float)(ch * cw);
                for (int64_t r = r0; r < r1; ++r)
                    for (int64_t c = c0; c < c1; ++c)
                        lam_host_st(dx, base + r * g.w + c, lam_host_ld(dx, base + r * g.w + c) + share);
            }
        }
    }
    return LAM_OK;
}
