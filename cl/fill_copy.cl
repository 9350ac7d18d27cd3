/* Strided copy with dtype conversion: dst[layout_index(ld, i)] = (dst type) src[layout_index(ls, i)],
 * dtypes by their LAM_DT_* codes (common.h), whatever this build's storage type. Same-dtype
 * copies move bits; float -> int truncates like a C cast; f16 goes through float.
 * dst_contig skips the index maths for a contiguous destination. */

LAM_FN float lam_copy_ldf(__global const uchar *src, int ts, long at) {
    return ts == LAM_DT_F16 ? vload_half((size_t)at, (__global const half *)src) : ((__global const float *)src)[at];
}

__kernel void lam_copy(__global uchar *dst, lam_layout ld, int td, __global const uchar *src, lam_layout ls,
                       int ts, long n, int dst_contig) {
    const lam_layout D = ld, S = ls;   /* struct arguments read before any branch: Rusticl (cl/README.md) */
    long i = get_global_id(0);
    if (i >= n) return;
    long to = dst_contig ? D.offset + i : lam_layout_index(D, i), from = lam_layout_index(S, i);
    if (td == ts) {
        if (td == LAM_DT_I64) ((__global ulong *)dst)[to] = ((__global const ulong *)src)[from];
        else if (td == LAM_DT_F16) ((__global ushort *)dst)[to] = ((__global const ushort *)src)[from];
        else ((__global uint *)dst)[to] = ((__global const uint *)src)[from];
        return;
    }
    if (ts == LAM_DT_F32 || ts == LAM_DT_F16) {
        float f = lam_copy_ldf(src, ts, from);
        if (td == LAM_DT_I32) ((__global int *)dst)[to] = (int)f;
        else if (td == LAM_DT_I64) ((__global long *)dst)[to] = (long)f;
        else if (td == LAM_DT_F16) vstore_half_rte(f, (size_t)to, (__global half *)dst);
        else ((__global float *)dst)[to] = f;
    } else {
        long v = ts == LAM_DT_I32 ? (long)((__global const int *)src)[from] : ((__global const long *)src)[from];
        if (td == LAM_DT_F32) ((__global float *)dst)[to] = (float)v;
        else if (td == LAM_DT_F16) vstore_half_rte((float)v, (size_t)to, (__global half *)dst);
        else if (td == LAM_DT_I32) ((__global int *)dst)[to] = (int)v;
        else ((__global long *)dst)[to] = v;
    }
}
