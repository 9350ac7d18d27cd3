/* Pooling over the (H, W) planes of NCHW tensors (src/ops/pool.c); window maths in
 * cl/window.h. One work-item per row: forward kernels compute a row of outputs (n = planes
 * OH), backward kernels own a row of the input gradient (n = planes H) and add to it the
 * outputs whose windows cover it, in (oh, ow) order, the host's: no atomics. */

/* y = the largest tap of each window (NaN wins, like PyTorch), idx = its position y W + x
 * in the input plane; the first tap inside the input when every tap is -inf. */
__kernel void lam_k_max_pool(__global LAM_T *y, long y_off, __global long *idx, long i_off, __global const LAM_T *x,
                             long x_off, LAM_WINDOW_PARAMS, long n) {
    long e = get_global_id(0);
    if (e >= n) return;
    long oh = e % OH, base = x_off + (e / OH) * H * W, out = e * OW;
    for (long ow = 0; ow < OW; ++ow) {
        float best = -INFINITY;
        long at = -1;
        for (long i = 0; i < KH; ++i) {
            long r = oh * SH - PH + i * DH;
            if (r < 0 || r >= H) continue;
            for (long j = 0; j < KW; ++j) {
                long c = ow * SW - PW + j * DW;
                if (c < 0 || c >= W) continue;
                float v = LAM_LD(x, base + r * W + c);
                if (v > best || isnan(v) || at < 0) {
                    best = v;
                    at = r * W + c;
                }
            }
        }
        LAM_ST(y, y_off + out + ow, best);
        idx[i_off + out + ow] = at;
    }
}

/* dx[y][x] = the sum of g over the outputs whose saved index is y W + x. */
__kernel void lam_k_max_pool_backward(__global LAM_T *dx, long dx_off, __global const LAM_T *g, long g_off,
                                      __global const long *idx, long i_off, LAM_WINDOW_PARAMS, long n) {
    long e = get_global_id(0);
    if (e >= n) return;
    long r = e % H, plane = e / H, row = r * W;
    __global LAM_T *out = dx + dx_off + e * W;
    for (long c = 0; c < W; ++c) LAM_ST(out, c, 0.0f);
    long r0, r1;
    lam_window_covering(r, KH, SH, PH, DH, OH, &r0, &r1);
    for (long oh = r0; oh < r1; ++oh)
        for (long ow = 0; ow < OW; ++ow) {
            long o = (plane * OH + oh) * OW + ow, d = idx[i_off + o] - row;
            if (d >= 0 && d < W) LAM_ST(out, d, LAM_LD(out, d) + LAM_LD(g, g_off + o));
        }
}

/* Average pooling: DH and DW carry the adaptive and count_include_pad flags. */
__kernel void lam_k_avg_pool(__global LAM_T *y, long y_off, __global const LAM_T *x, long x_off, LAM_WINDOW_PARAMS,
                             long n) {
    long e = get_global_id(0);
    if (e >= n) return;
    long oh = e % OH, base = x_off + (e / OH) * H * W;
    long r0, r1;
    long ch = lam_avg_window(oh, H, KH, SH, PH, OH, (int)DH, (int)DW, &r0, &r1);
    for (long ow = 0; ow < OW; ++ow) {
        long c0, c1;
        long cw = lam_avg_window(ow, W, KW, SW, PW, OW, (int)DH, (int)DW, &c0, &c1);
        float s = 0.0f;
        for (long r = r0; r < r1; ++r)
            for (long c = c0; c < c1; ++c) s += LAM_LD(x, base + r * W + c);
        LAM_ST(y, y_off + e * OW + ow, s / (float)(ch * cw));
    }
}

/* dx[y][x] = the sum over the windows holding (y, x) of g / (that window's count). */
__kernel void lam_k_avg_pool_backward(__global LAM_T *dx, long dx_off, __global const LAM_T *g, long g_off,
                                      LAM_WINDOW_PARAMS, long n) {
    long e = get_global_id(0);
    if (e >= n) return;
    long r = e % H, plane = e / H;
    __global LAM_T *out = dx + dx_off + e * W;
    for (long c = 0; c < W; ++c) LAM_ST(out, c, 0.0f);
    long oh0, oh1;
    lam_avg_covering(r, H, KH, SH, PH, OH, (int)DH, &oh0, &oh1);
    for (long oh = oh0; oh < oh1; ++oh) {
        long r0, r1;
        long ch = lam_avg_window(oh, H, KH, SH, PH, OH, (int)DH, (int)DW, &r0, &r1);
        if (r < r0 || r >= r1) continue;
        for (long ow = 0; ow < OW; ++ow) {
            long c0, c1;
            long cw = lam_avg_window(ow, W, KW, SW, PW, OW, (int)DH, (int)DW, &c0, &c1);
            float share = LAM_LD(g, g_off + (plane * OH + oh) * OW + ow) / (float)(ch * cw);
            for (long c = c0; c < c1; ++c) LAM_ST(out, c, LAM_LD(out, c) + share);
        }
    }
}
