/* Convolution as GEMM (src/ops/conv.c). For a chunk of images, im2col lays every window out
 * as a column: col has a row per (c, i, j) input channel and kernel tap and a column per
 * (image, oh, ow) output position, so conv = W (OC, C kh kw) @ col. col2im gathers the
 * gradient of col back onto the input, each input element summing its own taps (no
 * atomics). swap01 moves between the GEMM's (C, N, HW) layout and NCHW. Index maths runs
 * in int: the ops keep every launch under 2^31 elements. */

/* col[r][q] = x[img][c][oh sh - ph + i dh][ow sw - pw + j dw] (0 in the padding), for
 * r = (c kh + i) kw + j and q = (img OH + oh) OW + ow. */
__kernel void lam_k_im2col(__global LAM_T *col, long col_off, __global const LAM_T *x, long x_off, LAM_WINDOW_PARAMS,
                           long C, long images, long n) {
    long e = get_global_id(0);
    if (e >= n) return;
    int ohw = (int)(OH * OW), cols = (int)images * ohw, taps = (int)(KH * KW);
    int r = (int)e / cols, q = (int)e - r * cols;
    int img = q / ohw, p = q - img * ohw;
    int oh = p / (int)OW, ow = p - oh * (int)OW;
    int c = r / taps, t = r - c * taps;
    int i = t / (int)KW, j = t - i * (int)KW;
    long y = oh * SH - PH + i * DH, xw = ow * SW - PW + j * DW;
    float v = 0.0f;
    if (y >= 0 && y < H && xw >= 0 && xw < W) v = LAM_LD(x, x_off + (((long)img * C + c) * H + y) * W + xw);
    LAM_ST(col, col_off + e, v);
}

/* dx[img][c][y][x] = sum over taps (i, j) whose window position lands on (y, x) of
 * dcol[(c kh + i) kw + j][(img OH + oh) OW + ow], taps in row-major order. */
__kernel void lam_k_col2im(__global LAM_T *dx, long dx_off, __global const LAM_T *dcol, long d_off, LAM_WINDOW_PARAMS,
                           long C, long images, long n) {
    long e = get_global_id(0);
    if (e >= n) return;
    int hw = (int)(H * W), plane = (int)e / hw, at = (int)e - plane * hw;
    int y = at / (int)W, xw = at - y * (int)W, c = plane % (int)C, img = plane / (int)C;
    long ohw = OH * OW, cols = images * ohw;
    float s = 0.0f;
    for (long i = 0; i < KH; ++i) {
        long ys = y + PH - i * DH;
        if (ys < 0) break;
        if (ys % SH || ys / SH >= OH) continue;
        for (long j = 0; j < KW; ++j) {
            long xs = xw + PW - j * DW;
            if (xs < 0) break;
            if (xs % SW || xs / SW >= OW) continue;
            s += LAM_LD(dcol, d_off + ((c * KH + i) * KW + j) * cols + img * ohw + (ys / SH) * OW + xs / SW);
        }
    }
    LAM_ST(dx, dx_off + e, s);
}

/* dst (B, A, S) = src (A, B, S) with the first two axes swapped, plus bias[a] if has_bias. */
__kernel void lam_k_swap01(__global LAM_T *dst, long d_off, __global const LAM_T *src, long s_off,
                           __global const LAM_T *bias, long b_off, long A, long B, long S, long has_bias, long n) {
    long e = get_global_id(0);
    if (e >= n) return;
    long s = e % S, a = (e / S) % A, b = e / (S * A);
    float v = LAM_LD(src, s_off + (a * B + b) * S + s);
    if (has_bias) v += LAM_LD(bias, b_off + a);
    LAM_ST(dst, d_off + e, v);
}
