/* Elementwise maths: lam_unary_apply / lam_binary_apply from common.h, the same text the
 * host backend compiles. *_contig kernels read contiguous operands from an offset;
 * *_strided kernels index through a lam_layout (stride 0 broadcasts). dst is contiguous. */

__kernel void lam_unary_contig(__global float *dst, long d_off, __global const float *x, long x_off, long n,
                               int op) {
    long i = get_global_id(0);
    if (i < n) dst[d_off + i] = lam_unary_apply(op, x[x_off + i]);
}

__kernel void lam_unary_strided(__global float *dst, long d_off, __global const float *x, lam_layout lx, long n,
                                int op) {
    long i = get_global_id(0);
    if (i < n) dst[d_off + i] = lam_unary_apply(op, x[lam_layout_index(lx, i)]);
}

__kernel void lam_binary_contig(__global float *dst, long d_off, __global const float *a, long a_off,
                                __global const float *b, long b_off, long n, int op) {
    long i = get_global_id(0);
    if (i < n) dst[d_off + i] = lam_binary_apply(op, a[a_off + i], b[b_off + i]);
}

__kernel void lam_binary_strided(__global float *dst, long d_off, __global const float *a, lam_layout la,
                                 __global const float *b, lam_layout lb, long n, int op) {
    long i = get_global_id(0);
    if (i < n) dst[d_off + i] = lam_binary_apply(op, a[lam_layout_index(la, i)], b[lam_layout_index(lb, i)]);
}

__kernel void lam_scalar_contig(__global float *dst, long d_off, __global const float *a, long a_off, float s,
                                long n, int op) {
    long i = get_global_id(0);
    if (i < n) dst[d_off + i] = lam_binary_apply(op, a[a_off + i], s);
}

__kernel void lam_scalar_strided(__global float *dst, long d_off, __global const float *a, lam_layout la,
                                 float s, long n, int op) {
    long i = get_global_id(0);
    if (i < n) dst[d_off + i] = lam_binary_apply(op, a[lam_layout_index(la, i)], s);
}
