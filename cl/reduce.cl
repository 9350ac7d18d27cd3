/* Reductions over (outer, len, inner): dst[o * inner + i] = reduce over l of
 * src[(o * len + l) * inner + i], op a lam_reduce_op (op_table.h; ARGMAX and ARGMIN write
 * long indices). src and float results are this build's storage type, partials float.
 * Sums use Kahan compensation; max/min propagate NaN; ties keep the first index.
 *
 * CPU devices: one work-item per output (lam_reduce_rows), or for one output over a long
 * row, one contiguous chunk per work-item (lam_reduce_chunks) and a short final pass
 * (lam_reduce_final). GPUs: one work-group (LAM_WG at most, group.h) per output (lam_reduce_tree), or per
 * chunk (lam_reduce_tree_chunks) followed by lam_reduce_final. Tree kernels never return
 * before a barrier, even group-uniformly: POCL's work-group compiler then hangs
 * (lam_reduce_tree) or crashes (lam_softmax_tree). */

LAM_FN int lam_is_sum(int op) { return op == LAM_REDUCE_SUM || op == LAM_REDUCE_MEAN; }
LAM_FN int lam_is_index(int op) { return op == LAM_REDUCE_ARGMAX || op == LAM_REDUCE_ARGMIN; }

/* Does candidate c replace the current extreme v? NaN wins; ties keep the earlier one. */
LAM_FN int lam_beats(int op, float c, float v) {
    if (isnan(v)) return 0;
    if (isnan(c)) return 1;
    return op == LAM_REDUCE_MIN || op == LAM_REDUCE_ARGMIN ? c < v : c > v;
}

/* The same, for candidates that may come from an earlier index (tree combines). */
LAM_FN int lam_beats_at(int op, float c, long ci, float v, long vi) {
    if (lam_beats(op, c, v)) return 1;
    int tie = c == v || (isnan(c) && isnan(v));
    return tie && !lam_beats(op, v, c) && ci < vi;
}

typedef struct {
    float v, c;   /* value (sum or extreme) and Kahan compensation (true sum ~ v - c) */
    long idx;
} lam_part;


/* Sequential reduction of count elements x[0], x[stride], ...; indices start at first. */
LAM_FN lam_part lam_reduce_seq(int op, __global const LAM_T *x, long stride, long count, long first) {
    lam_part p = {lam_is_sum(op) ? 0.0f : (count ? LAM_LD(x, 0) : NAN), 0.0f, first};
    if (lam_is_sum(op)) {
        for (long l = 0; l < count; ++l) lam_kahan_add(&p.v, &p.c, LAM_LD(x, l * stride));
    } else {
        for (long l = 1; l < count; ++l) {
            float c = LAM_LD(x, l * stride);
            if (lam_beats(op, c, p.v)) {
                p.v = c;
                p.idx = first + l;
            }
        }
    }
    return p;
}

LAM_FN void lam_store(int op, __global uchar *dst, long at, lam_part p, long len) {
    if (lam_is_index(op)) {
        ((__global long *)dst)[at] = p.idx;
        return;
    }
    float v = lam_is_sum(op) ? p.v - p.c : p.v;
    LAM_ST((__global LAM_T *)dst, at, op == LAM_REDUCE_MEAN ? v / (float)len : v);
}

__kernel void lam_reduce_rows(__global uchar *dst, long d_off, __global const LAM_T *src, long s_off, long outer,
                              long len, long inner, int op) {
    long j = get_global_id(0);
    if (j >= outer * inner) return;
    long o = j / inner, i = j % inner;
    lam_part p = lam_reduce_seq(op, src + s_off + o * len * inner + i, inner, len, 0);
    lam_store(op, dst, d_off + j, p, len);
}

#if LAM_DTYPE == LAM_DT_F16
#define LAM_LD8(l, x) vload_half8((size_t)(l), (x))
#else
#define LAM_LD8(l, x) vload8((size_t)(l), (x))
#endif

/* Kahan sum of count contiguous elements in eight independent lanes: one lane's chain of
 * dependent adds is latency-bound, eight keep a CPU core's vector unit busy. */
LAM_FN lam_part lam_sum_contig(__global const LAM_T *x, long count) {
    float8 v = 0.0f, c = 0.0f;
    long n8 = count / 8;
    for (long l = 0; l < n8; ++l) {
        float8 y = LAM_LD8(l, x) - c, t = v + y;
        c = (t - v) - y;
        v = t;
    }
    lam_part p = {0.0f, 0.0f, 0};
    float lv[8], lc[8];
    vstore8(v, 0, lv);
    vstore8(c, 0, lc);
    for (int k = 0; k < 8; ++k) {
        lam_kahan_add(&p.v, &p.c, lv[k]);
        lam_kahan_add(&p.v, &p.c, -lc[k]);
    }
    for (long l = n8 * 8; l < count; ++l) lam_kahan_add(&p.v, &p.c, LAM_LD(x, l));
    return p;
}

__kernel void lam_reduce_chunks(__global float *pv, __global float *pc, __global long *pi,
                                __global const LAM_T *src, long s_off, long len, long chunk, int op) {
    long g = get_global_id(0), begin = g * chunk;
    if (begin >= len) return;
    long count = min(chunk, len - begin);
    lam_part p = lam_is_sum(op) ? lam_sum_contig(src + s_off + begin, count)
                         : lam_reduce_seq(op, src + s_off + begin, 1, count, begin);
    pv[g] = p.v;
    pc[g] = p.c;
    pi[g] = p.idx;
}

/* Combines the partials of consecutive chunks in order: one work-item. */
__kernel void lam_reduce_final(__global uchar *dst, long d_off, __global const float *pv, __global const float *pc,
                               __global const long *pi, long nparts, long len, int op) {
    if (get_global_id(0) != 0) return;
    lam_part p = {lam_is_sum(op) ? 0.0f : (nparts ? pv[0] : NAN), 0.0f, nparts ? pi[0] : 0};
    for (long g = lam_is_sum(op) ? 0 : 1; g < nparts; ++g) {
        if (lam_is_sum(op)) {
            lam_kahan_add(&p.v, &p.c, pv[g]);
            lam_kahan_add(&p.v, &p.c, -pc[g]);
        } else if (lam_beats(op, pv[g], p.v)) {
            p.v = pv[g];
            p.idx = pi[g];
        }
    }
    lam_store(op, dst, d_off, p, len);
}

/* One work-group (a power of two, LAM_WG at most) reduces count elements at x with the given stride; the result
 * is valid in work-item 0. */
LAM_FN lam_part lam_reduce_group(int op, __global const LAM_T *x, long stride, long count, long first,
                                 __local float *lv, __local long *li) {
    int t = (int)get_local_id(0), n = (int)get_local_size(0);
    lam_part p = {lam_is_sum(op) ? 0.0f : NAN, 0.0f, LONG_MAX};
    int any = 0;
    for (long l = t; l < count; l += n) {
        float c = LAM_LD(x, l * stride);
        if (lam_is_sum(op)) {
            lam_kahan_add(&p.v, &p.c, c);
        } else if (!any || lam_beats(op, c, p.v)) {
            p.v = c;
            p.idx = first + l;
            any = 1;
        }
    }
    lv[t] = lam_is_sum(op) ? p.v - p.c : p.v;
    li[t] = p.idx;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = n / 2; s > 0; s >>= 1) {
        if (t < s) {
            if (lam_is_sum(op)) {
                lv[t] += lv[t + s];
            } else if (li[t + s] != LONG_MAX &&
                       (li[t] == LONG_MAX || lam_beats_at(op, lv[t + s], li[t + s], lv[t], li[t]))) {
                lv[t] = lv[t + s];
                li[t] = li[t + s];
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    lam_part r = {lv[0], 0.0f, li[0] == LONG_MAX ? first : li[0]};
    return r;
}

__kernel void lam_reduce_tree(__global uchar *dst, long d_off, __global const LAM_T *src, long s_off, long outer,
                              long len, long inner, int op) {
    __local float lv[LAM_WG];
    __local long li[LAM_WG];
    long j = get_group_id(0);
    int live = j < outer * inner;   /* no early return: every work-item reaches the barriers */
    long o = live ? j / inner : 0, i = live ? j % inner : 0;
    lam_part p = lam_reduce_group(op, src + s_off + o * len * inner + i, inner, live ? len : 0, 0, lv, li);
    if (live && get_local_id(0) == 0) lam_store(op, dst, d_off + j, p, len);
}

__kernel void lam_reduce_tree_chunks(__global float *pv, __global float *pc, __global long *pi,
                                     __global const LAM_T *src, long s_off, long len, long chunk, int op) {
    __local float lv[LAM_WG];
    __local long li[LAM_WG];
    long g = get_group_id(0), begin = g * chunk;
    int live = begin < len;         /* no early return: every work-item reaches the barriers */
    lam_part p = lam_reduce_group(op, src + s_off + (live ? begin : 0), 1, live ? min(chunk, len - begin) : 0, begin,
                                  lv, li);
    if (live && get_local_id(0) == 0) {
        pv[g] = p.v;
        pc[g] = 0.0f;
        pi[g] = p.idx;
    }
}
