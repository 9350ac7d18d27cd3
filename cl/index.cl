/* Indexing along one dimension, x seen as (outer, len, inner) and the index as n longs.
 * An index outside [0, len) reads nothing (its output is 0): lam_index_select reports it.
 * Arguments follow the direct-kernel table (src/backend/kernels.h). */

/* out[o, j, i] = x[o, idx[j], i]; one work-item per output element */
__kernel void lam_k_index_select(__global LAM_T *out, long o_off, __global const LAM_T *x, long x_off,
                                 __global const long *idx, long i_off, long len, long inner, long n, long work) {
    long t = get_global_id(0);
    if (t >= work) return;
    long i = t % inner, j = t / inner % n, o = t / inner / n;
    long r = idx[i_off + j];
    LAM_ST(out, o_off + t, r >= 0 && r < len ? LAM_LD(x, x_off + (o * len + r) * inner + i) : 0.0f);
}

/* gx[o, r, i] = sum of g[o, j, i] over j with idx[j] == r, in the order of j: one
 * work-item per element of gx scans the index, so the sum is deterministic (no atomics). */
__kernel void lam_k_index_add(__global LAM_T *gx, long gx_off, __global const LAM_T *g, long g_off,
                              __global const long *idx, long i_off, long len, long inner, long n, long work) {
    long t = get_global_id(0);
    if (t >= work) return;
    long i = t % inner, r = t / inner % len, o = t / inner / len;
    __global const LAM_T *gi = g + g_off + o * n * inner + i;
    float s = 0.0f;
    for (long j = 0; j < n; ++j)
        if (idx[i_off + j] == r) s += LAM_LD(gi, j * inner);
    LAM_ST(gx, gx_off + t, s);
}
