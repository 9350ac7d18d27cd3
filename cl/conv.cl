/* Convolution as GEMM (src/ops/conv.c). For a chunk of images, im2col lays every window out
 * as a column: col has a row per (c, i, j) input channel and kernel tap and a column per
 * (image, oh, ow) output position, so conv = W (OC, C kh kw) @ col. col2im gathers the
 * gradient of col back onto the input, each input element summing its own taps (no
 * atomics). swap01 moves between the GEMM's (C, N, HW) layout and NCHW. Index maths runs
 * in int where it can: the ops keep every launch under 2^31 elements. */

/* One output row of col per work-item, n = C kh kw images OH of them: row (r, img, oh) of
 * col[r][q], q = (img OH + oh) OW + ow, is x[img][c][oh sh - ph + i dh][ow sw - pw + j dw]
 * (0 in the padding) for r = (c kh + i) kw + j. Rows keep the divisions out of the loop. */
__kernel void lam_k_im2col(__global LAM_T *col, long col_off, __global const LAM_T *x, long x_off, LAM_WINDOW_PARAMS,
                           long C, long images, long n) {
    long e = get_global_id(0);
    if (e >= n) return;
    int oh = (int)(e % OH), rest = (int)(e / OH), img = rest % (int)images, r = rest / (int)images;
    int taps = (int)(KH * KW), c = r / taps, i = (r % taps) / (int)KW, j = r % (int)KW;
    long y = oh * SH - PH + i * DH, shift = j * DW - PW;
    __global LAM_T *dst = col + col_off + (long)r * images * OH * OW + ((long)img * OH + oh) * OW;
    __global const LAM_T *src = x + x_off + (((long)img * C + c) * H + y) * W;
    bool row = y >= 0 && y < H;
    for (long ow = 0; ow < OW; ++ow) {
        long xw = ow * SW + shift;
        LAM_ST(dst, ow, row && xw >= 0 && xw < W ? LAM_LD(src, xw) : 0.0f);
    }
}

/* One input row per work-item, n = images C H of them: dx[img][c][y][x] = the sum over taps
 * (i, j), in row-major order, of the dcol elements whose window position lands on it
 * (dcol[(c kh + i) kw + j][(img OH + oh) OW + ow] with oh sh - ph + i dh = y and
 * ow sw - pw + j dw = x). The work-item owns its row: no atomics, the host's order. */
__kernel void lam_k_col2im(__global LAM_T *dx, long dx_off, __global const LAM_T *dcol, long d_off, LAM_WINDOW_PARAMS,
                           long C, long images, long n) {
    long e = get_global_id(0);
    if (e >= n) return;
    int y = (int)(e % H), plane = (int)(e / H), c = plane % (int)C, img = plane / (int)C;
    long cols = images * OH * OW;
    __global LAM_T *out = dx + dx_off + e * W;
    for (long xw = 0; xw < W; ++xw) LAM_ST(out, xw, 0.0f);
    for (long i = 0; i < KH; ++i) {
        long ys = y + PH - i * DH;
        if (ys < 0) break;
        if (ys % SH || ys / SH >= OH) continue;
        for (long j = 0; j < KW; ++j) {
            long shift = j * DW - PW;
            __global const LAM_T *src = dcol + d_off + ((c * KH + i) * KW + j) * cols + ((long)img * OH + ys / SH) * OW;
            for (long ow = 0; ow < OW; ++ow) {
                long xw = ow * SW + shift;
                if (xw >= 0 && xw < W) LAM_ST(out, xw, LAM_LD(out, xw) + LAM_LD(src, ow));
            }
        }
    }
}

/* dst (B, A, S) = src (A, B, S) with the first two axes swapped, plus bias[a] if has_bias:
 * one work-item per run of S (n = B A of them). */
__kernel void lam_k_swap01(__global LAM_T *dst, long d_off, __global const LAM_T *src, long s_off,
                           __global const LAM_T *bias, long b_off, long A, long B, long S, long has_bias, long n) {
    long e = get_global_id(0);
    if (e >= n) return;
    long a = e % A, b = e / A, from = s_off + (a * B + b) * S, to = d_off + e * S;
    float add = has_bias ? LAM_LD(bias, b_off + a) : 0.0f;
    for (long s = 0; s < S; ++s) LAM_ST(dst, to + s, has_bias ? LAM_LD(src, from + s) + add : LAM_LD(src, from + s));
}
