/* Strided copy with dtype conversion: dst[layout_index(ld, i)] = (dst type) src[layout_index(ls, i)].
 * dtypes: 0 f32, 1 i32, 2 i64 (lam_dtype). Same dtype copies bits; float -> int truncates
 * like a C cast. dst_contig skips the index maths for a contiguous destination. */

__kernel void lam_copy(__global uchar *dst, lam_layout ld, int td, __global const uchar *src, lam_layout ls,
                       int ts, long n, int dst_contig) {
    long i = get_global_id(0);
    if (i >= n) return;
    long to = dst_contig ? ld.offset + i : lam_layout_index(ld, i), from = lam_layout_index(ls, i);
    if (td == ts) {
        if (td == 2) ((__global ulong *)dst)[to] = ((__global const ulong *)src)[from];
        else ((__global uint *)dst)[to] = ((__global const uint *)src)[from];
        return;
    }
    if (ts == 0) {
        float f = ((__global const float *)src)[from];
        if (td == 1) ((__global int *)dst)[to] = (int)f;
        else ((__global long *)dst)[to] = (long)f;
    } else {
        long v = ts == 1 ? (long)((__global const int *)src)[from] : ((__global const long *)src)[from];
        if (td == 0) ((__global float *)dst)[to] = (float)v;
        else if (td == 1) ((__global int *)dst)[to] = (int)v;
        else ((__global long *)dst)[to] = v;
    }
}
