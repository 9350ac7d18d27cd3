/* Sliding windows over the (H, W) planes of NCHW tensors, shared by convolution (im2col,
 * col2im) and pooling on the host and in every OpenCL program. Along one axis a window of
 * k taps with dilation d and stride s starts at o * s - p for output position o, so tap t
 * reads input position o * s - p + t * d; positions outside [0, in) are padding. The
 * backward kernels gather: each input element finds the outputs whose windows cover it,
 * so they write each element once and need no atomics. */
#ifndef LAM_CL_WINDOW_H
#define LAM_CL_WINDOW_H

#ifndef __OPENCL_VERSION__
#include "cl/common.h"
#endif

/* One window geometry: input (h, w), output (oh, ow), kernel taps (kh, kw), strides,
 * paddings and dilations. Kernels get these as 12 ints in this order (average pooling puts
 * its adaptive and count_include_pad flags where dh and dw would be). */
typedef struct {
    lam_i64 h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw;
} lam_window;

#ifdef __OPENCL_VERSION__
/* A lam_window as kernel parameters (the direct-kernel table passes ints as long). */
#define LAM_WINDOW_PARAMS \
    long H, long W, long OH, long OW, long KH, long KW, long SH, long SW, long PH, long PW, long DH, long DW
#endif

/* Output positions along one axis, PyTorch's rule: floor((in + 2p - d(k-1) - 1) / s) + 1,
 * or with ceil_mode the ceiling, less one if that last window would start in the right
 * padding. Callers check that the result is positive. */
LAM_FN lam_i64 lam_window_out(lam_i64 in, lam_i64 k, lam_i64 s, lam_i64 p, lam_i64 d, int ceil_mode) {
    lam_i64 span = in + 2 * p - d * (k - 1) - 1;
    if (span < 0) return 0;
    lam_i64 out = (ceil_mode ? span + s - 1 : span) / s + 1;
    if (ceil_mode && (out - 1) * s >= in + p) --out;
    return out;
}

/* The output positions [*lo, *hi) whose windows could cover input position x: those with
 * o * s - p <= x <= o * s - p + (k - 1) d, clipped to [0, out). */
LAM_FN void lam_window_covering(lam_i64 x, lam_i64 k, lam_i64 s, lam_i64 p, lam_i64 d, lam_i64 out, lam_i64 *lo,
                                lam_i64 *hi) {
    lam_i64 first = x + p - (k - 1) * d;   /* o * s >= first */
    *lo = first <= 0 ? 0 : (first + s - 1) / s;
    *hi = (x + p) / s + 1;
    if (*hi > out) *hi = out;
}

/* The tap t of output o's window that lands on input x, or -1 if none does. */
LAM_FN lam_i64 lam_window_tap(lam_i64 x, lam_i64 o, lam_i64 k, lam_i64 s, lam_i64 p, lam_i64 d) {
    lam_i64 off = x - (o * s - p);
    if (off < 0 || off % d) return -1;
    return off / d < k ? off / d : -1;
}

/* Average pooling along one axis: output o's window [*a, *b) inside the input, and the
 * count PyTorch divides by along this axis. Fixed windows (adaptive = 0) of k taps with
 * stride s and padding p count padding up to the padded edge when count_pad is set;
 * adaptive windows split in positions into out parts: [floor(o in / out), ceil((o + 1) in / out)). */
LAM_FN lam_i64 lam_avg_window(lam_i64 o, lam_i64 in, lam_i64 k, lam_i64 s, lam_i64 p, lam_i64 out, int adaptive,
                              int count_pad, lam_i64 *a, lam_i64 *b) {
    if (adaptive) {
        *a = o * in / out;
        *b = ((o + 1) * in + out - 1) / out;
        return *b - *a;
    }
    lam_i64 start = o * s - p, end = start + k;
    if (end > in + p) end = in + p;
    lam_i64 padded = end - start;
    *a = start < 0 ? 0 : start;
    *b = end > in ? in : end;
    return count_pad ? padded : *b - *a;
}

/* The outputs [*lo, *hi) whose average windows may hold input x (callers confirm with
 * lam_avg_window). */
LAM_FN void lam_avg_covering(lam_i64 x, lam_i64 in, lam_i64 k, lam_i64 s, lam_i64 p, lam_i64 out, int adaptive,
                             lam_i64 *lo, lam_i64 *hi) {
    if (adaptive) {
        *lo = x * out / in;
        *hi = ((x + 1) * out + in - 1) / in;
        if (*hi > out) *hi = out;
        return;
    }
    lam_window_covering(x, k, s, p, 1, out, lo, hi);
}

#endif
