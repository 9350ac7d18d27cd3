/* Host backend: the convolution kernels of cl/conv.cl (im2col, col2im, swap01). f32 runs
 * row loops over the in-range part of each window row, ranges found once per col row; f16 runs
 * the per-element loops through lam_host_ld/st. col2im accumulates each input plane in one
 * thread, taps in the order the OpenCL gather uses, so both give the same sums. */
#include <string.h>

#include "backend/host/host.h"
#include "core/error.h"

#define F32(view) ((float *)(view).buf + (view).offset)

/* One col row segment: dst[ow] = src[ow sw + shift] for ow in [lo, hi), 0 elsewhere in [0, n). */
static inline void window_row(float *restrict dst, const float *restrict src, int64_t lo, int64_t hi, int64_t n,
                              int64_t sw, int64_t shift) {
    for (int64_t ow = 0; ow < lo; ++ow) dst[ow] = 0.0f;   /* plain loops: rows are short */
    if (sw == 1)
        for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow + shift];
    else
        for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * sw + shift];
    for (int64_t ow = hi; ow < n; ++ow) dst[ow] = 0.0f;
}

/* Row r = (c, i, j) of col for every image: its in-range rows and columns found once. */
void lam_host_im2col_f32(float *col, const float *x, const lam_window *g, int64_t C, int64_t images) {
    const int64_t ohw = g->oh * g->ow, cols = images * ohw, taps = g->kh * g->kw, rows = C * taps;
#pragma omp parallel for LAM_HOST_THREADS if (rows * cols > 4 * LAM_HOST_PAR_MIN)   /* an L2-sized chunk: one thread */
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t c = r / taps, i = (r % taps) / g->kw, j = r % g->kw;
        const int64_t top = i * g->dh - g->ph, shift = j * g->dw - g->pw;
        int64_t rlo, rhi, clo, chi;
        lam_host_inside(top, g->sh, g->h, g->oh, &rlo, &rhi);
        lam_host_inside(shift, g->sw, g->w, g->ow, &clo, &chi);
        for (int64_t img = 0; img < images; ++img) {
            const float *plane = x + (img * C + c) * g->h * g->w;
            float *dst = col + r * cols + img * ohw;
            memset(dst, 0, (size_t)(rlo * g->ow) * sizeof *dst);
            for (int64_t oh = rlo; oh < rhi; ++oh)
                window_row(dst + oh * g->ow, plane + (oh * g->sh + top) * g->w, clo, chi, g->ow, g->sw, shift);
            memset(dst + rhi * g->ow, 0, (size_t)((g->oh - rhi) * g->ow) * sizeof *dst);
        }
    }
}

/* dx plane (img, c) = the taps of dcol added back, in (i, j, oh, ow) order. */
void lam_host_col2im_f32(float *dx, const float *dcol, const lam_window *g, int64_t C, int64_t images) {
    const int64_t ohw = g->oh * g->ow, cols = images * ohw, planes = images * C;
#pragma omp parallel for LAM_HOST_THREADS if (planes * g->h * g->w > 4 * LAM_HOST_PAR_MIN)
    for (int64_t pl = 0; pl < planes; ++pl) {
        int64_t img = pl / C, c = pl % C;
        float *out = dx + pl * g->h * g->w;
        memset(out, 0, (size_t)(g->h * g->w) * sizeof *out);
        for (int64_t i = 0; i < g->kh; ++i) {
            int64_t r0, r1;
            lam_host_inside(i * g->dh - g->ph, g->sh, g->h, g->oh, &r0, &r1);
            for (int64_t j = 0; j < g->kw; ++j) {
                int64_t shift = j * g->dw - g->pw, c0, c1;
                lam_host_inside(shift, g->sw, g->w, g->ow, &c0, &c1);
                const float *src = dcol + ((c * g->kh + i) * g->kw + j) * cols + img * ohw;
                for (int64_t oh = r0; oh < r1; ++oh) {
                    float *row = out + (oh * g->sh - g->ph + i * g->dh) * g->w;
                    const float *in = src + oh * g->ow;
                    if (g->sw == 1)
                        for (int64_t ow = c0; ow < c1; ++ow) row[ow + shift] += in[ow];
                    else
                        for (int64_t ow = c0; ow < c1; ++ow) row[ow * g->sw + shift] += in[ow];
                }
            }
        }
    }
}

/* Per-element versions for f16 storage: the maths of cl/conv.cl, element by element (the
 * kernel's work count is in rows; these count elements from the geometry). */
static void im2col_any(const lam_kernel_args *a, const lam_window *g, int64_t C, int64_t images) {
    const lam_view *col = &a->v[0], *x = &a->v[1];
    const int64_t ohw = g->oh * g->ow, cols = images * ohw, taps = g->kh * g->kw, n = C * taps * cols;
    for (int64_t e = 0; e < n; ++e) {
        int64_t r = e / cols, q = e % cols, img = q / ohw, oh = (q % ohw) / g->ow, ow = q % g->ow;
        int64_t c = r / taps, i = (r % taps) / g->kw, j = r % g->kw;
        int64_t y = oh * g->sh - g->ph + i * g->dh, xw = ow * g->sw - g->pw + j * g->dw;
        bool in = y >= 0 && y < g->h && xw >= 0 && xw < g->w;
        lam_host_st(col, col->offset + e, in ? lam_host_ld(x, x->offset + ((img * C + c) * g->h + y) * g->w + xw) : 0.0f);
    }
}

static void col2im_any(const lam_kernel_args *a, const lam_window *g, int64_t C, int64_t images) {
    const lam_view *dx = &a->v[0], *dcol = &a->v[1];
    const int64_t ohw = g->oh * g->ow, cols = images * ohw, n = images * C * g->h * g->w;
    for (int64_t e = 0; e < n; ++e) {
        int64_t xw = e % g->w, y = (e / g->w) % g->h, c = (e / (g->w * g->h)) % C, img = e / (g->w * g->h * C);
        float s = 0.0f;
        for (int64_t i = 0; i < g->kh; ++i) {
            int64_t ys = y + g->ph - i * g->dh;
            if (ys < 0) break;
            if (ys % g->sh || ys / g->sh >= g->oh) continue;
            for (int64_t j = 0; j < g->kw; ++j) {
                int64_t xs = xw + g->pw - j * g->dw;
                if (xs < 0) break;
                if (xs % g->sw || xs / g->sw >= g->ow) continue;
                s += lam_host_ld(dcol, dcol->offset + ((c * g->kh + i) * g->kw + j) * cols + img * ohw +
                                           (ys / g->sh) * g->ow + xs / g->sw);
            }
        }
        lam_host_st(dx, dx->offset + e, s);
    }
}

/* views col, x; window, C, images */
lam_status lam_host_k_im2col(const lam_kernel_args *a) {
    lam_window g = lam_host_window(a->i);
    if (a->v[0].dtype == LAM_F32) lam_host_im2col_f32(F32(a->v[0]), F32(a->v[1]), &g, a->i[12], a->i[13]);
    else im2col_any(a, &g, a->i[12], a->i[13]);
    return LAM_OK;
}

/* views dx, dcol; window, C, images */
lam_status lam_host_k_col2im(const lam_kernel_args *a) {
    lam_window g = lam_host_window(a->i);
    if (a->v[0].dtype == LAM_F32) lam_host_col2im_f32(F32(a->v[0]), F32(a->v[1]), &g, a->i[12], a->i[13]);
    else col2im_any(a, &g, a->i[12], a->i[13]);
    return LAM_OK;
}

/* views dst (B, A, S), src (A, B, S), bias (A); ints A, B, S, has_bias */
lam_status lam_host_k_swap01(const lam_kernel_args *a) {
    const lam_view *dst = &a->v[0], *src = &a->v[1], *bias = &a->v[2];
    const int64_t A = a->i[0], B = a->i[1], S = a->i[2], rows = A * B;
    const bool has_bias = a->i[3] != 0, f32 = dst->dtype == LAM_F32;
#pragma omp parallel for LAM_HOST_THREADS if (a->work * S > LAM_HOST_PAR_MIN)
    for (int64_t row = 0; row < rows; ++row) {   /* dst row (b, a) */
        int64_t b = row / A, x = row % A, from = src->offset + (x * B + b) * S, to = dst->offset + row * S;
        float add = has_bias ? lam_host_ld(bias, bias->offset + x) : 0.0f;
        if (f32 && !has_bias) {
            memcpy((float *)dst->buf + to, (const float *)src->buf + from, (size_t)S * sizeof(float));
        } else if (f32) {
            float *o = (float *)dst->buf + to;
            const float *s = (const float *)src->buf + from;
            for (int64_t k = 0; k < S; ++k) o[k] = s[k] + add;
        } else {
            for (int64_t k = 0; k < S; ++k) lam_host_st(dst, to + k, lam_host_ld(src, from + k) + add);
        }
    }
    return LAM_OK;
}
