/* Softmax over rows of length cols, stable and fused: m = max of the row, s = sum of
 * exp(x - m); softmax = exp(x - m) / s, log_softmax = x - m - log(s) (the host's formulas).
 * Rows are this build's storage type, maths float.
 * CPU devices: one work-item per row. GPUs: one work-group (LAM_WG at most, group.h) per row. */

__kernel void lam_softmax_rows(__global LAM_T *dst, long d_off, __global const LAM_T *src, long s_off, long rows,
                               long cols, int logsm) {
    long r = get_global_id(0);
    if (r >= rows) return;
    __global const LAM_T *x = src + s_off + r * cols;
    __global LAM_T *y = dst + d_off + r * cols;
    float m = -INFINITY, s = 0.0f;
    for (long c = 0; c < cols; ++c) m = LAM_LD(x, c) > m ? LAM_LD(x, c) : m;
    for (long c = 0; c < cols; ++c) s += exp(LAM_LD(x, c) - m);
    if (logsm) {
        float ls = log(s);
        for (long c = 0; c < cols; ++c) LAM_ST(y, c, LAM_LD(x, c) - m - ls);
    } else {
        for (long c = 0; c < cols; ++c) LAM_ST(y, c, exp(LAM_LD(x, c) - m) / s);
    }
}

__kernel void lam_softmax_tree(__global LAM_T *dst, long d_off, __global const LAM_T *src, long s_off, long rows,
                               long cols, int logsm) {
    __local float red[LAM_WG];
    long r = get_group_id(0);
    int t = (int)get_local_id(0), n = (int)get_local_size(0);
    if (r >= rows) {                /* no early return before a barrier (see reduce.cl): no work */
        r = 0;
        cols = 0;
    }
    __global const LAM_T *x = src + s_off + r * cols;
    __global LAM_T *y = dst + d_off + r * cols;
    float m = -INFINITY;
    for (long c = t; c < cols; c += n) m = LAM_LD(x, c) > m ? LAM_LD(x, c) : m;
    red[t] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = n / 2; s > 0; s >>= 1) {
        if (t < s) red[t] = red[t + s] > red[t] ? red[t + s] : red[t];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    m = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    float sum = 0.0f;
    for (long c = t; c < cols; c += n) sum += exp(LAM_LD(x, c) - m);
    red[t] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = n / 2; s > 0; s >>= 1) {
        if (t < s) red[t] += red[t + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    sum = red[0];
    if (logsm) {
        float ls = log(sum);
        for (long c = t; c < cols; c += n) LAM_ST(y, c, LAM_LD(x, c) - m - ls);
    } else {
        for (long c = t; c < cols; c += n) LAM_ST(y, c, exp(LAM_LD(x, c) - m) / sum);
    }
}
