/* Elementwise ops of the op table: dst = lam_ew_apply(op, a, b, c) (op_table.h), the same
 * text the host backend compiles. Input k is the scalar s_k when bit k of `scalars` is set
 * (unused inputs are scalars), else a buffer of this build's storage type: read from an
 * offset by lam_ew_contig, through a lam_layout (stride 0 broadcasts) by lam_ew_strided.
 * dst is contiguous. lam_ew_contig1 and lam_ew_contig2 are lam_ew_contig for one or two
 * buffers in front (a, or a and b) and scalars after: without the per-input selects POCL
 * vectorizes them (relu over 16M floats: 11.9 ms through lam_ew_contig, 7.4 ms here). */

__kernel void lam_ew_contig1(__global LAM_T *dst, long d_off, __global const LAM_T *a, long a_off, float sb,
                             float sc, long n, int op) {
    long i = get_global_id(0);
    if (i < n) LAM_ST(dst, d_off + i, lam_ew_apply(op, LAM_LD(a, a_off + i), sb, sc));
}

__kernel void lam_ew_contig2(__global LAM_T *dst, long d_off, __global const LAM_T *a, long a_off,
                             __global const LAM_T *b, long b_off, float sc, long n, int op) {
    long i = get_global_id(0);
    if (i < n) LAM_ST(dst, d_off + i, lam_ew_apply(op, LAM_LD(a, a_off + i), LAM_LD(b, b_off + i), sc));
}

__kernel void lam_ew_contig(__global LAM_T *dst, long d_off, __global const LAM_T *a, long a_off,
                            __global const LAM_T *b, long b_off, __global const LAM_T *c, long c_off, float sa,
                            float sb, float sc, int scalars, long n, int op) {
    long i = get_global_id(0);
    if (i >= n) return;
    float x = (scalars & 1) ? sa : LAM_LD(a, a_off + i);
    float y = (scalars & 2) ? sb : LAM_LD(b, b_off + i);
    float z = (scalars & 4) ? sc : LAM_LD(c, c_off + i);
    LAM_ST(dst, d_off + i, lam_ew_apply(op, x, y, z));
}

__kernel void lam_ew_strided(__global LAM_T *dst, long d_off, __global const LAM_T *a, lam_layout la,
                             __global const LAM_T *b, lam_layout lb, __global const LAM_T *c, lam_layout lc,
                             float sa, float sb, float sc, int scalars, long n, int op) {
    const lam_layout A = la, B = lb, C = lc;   /* struct arguments read before any branch: Rusticl (cl/README.md) */
    long i = get_global_id(0);
    if (i >= n) return;
    float x = (scalars & 1) ? sa : LAM_LD(a, lam_layout_index(A, i));
    float y = (scalars & 2) ? sb : LAM_LD(b, lam_layout_index(B, i));
    float z = (scalars & 4) ? sc : LAM_LD(c, lam_layout_index(C, i));
    LAM_ST(dst, d_off + i, lam_ew_apply(op, x, y, z));
}
