/* Batch normalization over NCHW (or (N, C) with HW = 1) f32 tensors (src/ops/batch_norm.c).
 * stats is (3, C): mean, 1/sqrt(var + eps) and, in training, the sum of squared deviations
 * (for the unbiased running variance). Per-channel sums run one work-group per channel in
 * two passes (mean first, then squared deviations from it; lam_group_sum of cl/group.h), then
 * y = (x - mean) invstd w + b. */

/* Element m of channel c in (N, C, HW): image m / HW, position m % HW. */
LAM_FN long lam_bn_at(long m, long c, long C, long HW) { return ((m / HW) * C + c) * HW + m % HW; }

/* One work-group per channel: batch statistics (training), or the running ones. No return
 * before a barrier (see cl/reduce.cl): a group past the last channel sums nothing. */
__kernel void lam_k_bn_stats(__global float *stats, long st_off, __global const float *x, long x_off,
                             __global const float *rmean, long rm_off, __global const float *rvar, long rv_off, long N,
                             long C, long HW, long training, float eps, long n) {
    long c = get_group_id(0);
    __local float part[LAM_GROUP_MAX];
    int lid = (int)get_local_id(0), size = (int)get_local_size(0);
    long M = c < n && training ? N * HW : 0;
    float s = 0.0f, cs = 0.0f, q = 0.0f, cq = 0.0f;   /* sums and their Kahan compensations */
    for (long m = lid; m < M; m += size) lam_kahan_add(&s, &cs, x[x_off + lam_bn_at(m, c, C, HW)]);
    float mean = lam_group_sum(part, s) / (float)(M > 0 ? M : 1);
    for (long m = lid; m < M; m += size) {
        float d = x[x_off + lam_bn_at(m, c, C, HW)] - mean;
        lam_kahan_add(&q, &cq, d * d);
    }
    float sq = lam_group_sum(part, q);
    if (lid != 0 || c >= n) return;
    stats[st_off + c] = training ? mean : rmean[rm_off + c];
    stats[st_off + C + c] = 1.0f / sqrt((training ? sq / (float)M : rvar[rv_off + c]) + eps);
    stats[st_off + 2 * C + c] = training ? sq : 0.0f;
}

/* PyTorch's update: r = momentum * batch + (1 - momentum) * r, the variance unbiased. */
__kernel void lam_k_bn_update(__global float *rmean, long rm_off, __global float *rvar, long rv_off,
                              __global const float *stats, long st_off, long count, float momentum, long n) {
    long c = get_global_id(0);
    if (c >= n) return;
    rmean[rm_off + c] = momentum * stats[st_off + c] + (1.0f - momentum) * rmean[rm_off + c];
    float unbiased = stats[st_off + 2 * n + c] / (float)(count - 1);
    rvar[rv_off + c] = momentum * unbiased + (1.0f - momentum) * rvar[rv_off + c];
}

__kernel void lam_k_bn_apply(__global float *y, long y_off, __global const float *x, long x_off,
                             __global const float *stats, long st_off, __global const float *w, long w_off,
                             __global const float *b, long b_off, long C, long HW, long affine, long n) {
    long e = get_global_id(0);
    if (e >= n) return;
    long c = (e / HW) % C;
    float v = (x[x_off + e] - stats[st_off + c]) * stats[st_off + C + c];
    y[y_off + e] = affine ? v * w[w_off + c] + b[b_off + c] : v;
}

/* sums (2, C): sum of g and of g * xhat per channel, one work-group per channel. */
__kernel void lam_k_bn_backward_reduce(__global float *sums, long s_off, __global const float *g, long g_off,
                                       __global const float *x, long x_off, __global const float *stats, long st_off,
                                       long N, long C, long HW, long n) {
    long c = get_group_id(0);
    __local float part[LAM_GROUP_MAX];
    int lid = (int)get_local_id(0), size = (int)get_local_size(0);
    long M = c < n ? N * HW : 0;
    float mean = c < n ? stats[st_off + c] : 0.0f, invstd = c < n ? stats[st_off + C + c] : 0.0f;
    float sg = 0.0f, cg = 0.0f, sgx = 0.0f, cgx = 0.0f;
    for (long m = lid; m < M; m += size) {
        long at = lam_bn_at(m, c, C, HW);
        float gv = g[g_off + at];
        lam_kahan_add(&sg, &cg, gv);
        lam_kahan_add(&sgx, &cgx, gv * (x[x_off + at] - mean) * invstd);
    }
    float tg = lam_group_sum(part, sg), tgx = lam_group_sum(part, sgx);
    if (lid != 0 || c >= n) return;
    sums[s_off + c] = tg;
    sums[s_off + C + c] = tgx;
}

/* dx = w invstd (g - sum(g) / M - xhat sum(g xhat) / M) in training, w invstd g in eval. */
__kernel void lam_k_bn_backward_data(__global float *dx, long dx_off, __global const float *g, long g_off,
                                     __global const float *x, long x_off, __global const float *stats, long st_off,
                                     __global const float *w, long w_off, __global const float *sums, long s_off,
                                     long C, long HW, long affine, long training, long count, long n) {
    long e = get_global_id(0);
    if (e >= n) return;
    long c = (e / HW) % C;
    float invstd = stats[st_off + C + c], gv = g[g_off + e];
    if (training) {
        float xhat = (x[x_off + e] - stats[st_off + c]) * invstd;
        gv -= (sums[s_off + c] + xhat * sums[s_off + C + c]) / (float)count;
    }
    dx[dx_off + e] = gv * invstd * (affine ? w[w_off + c] : 1.0f);
}

/* num_batches_tracked += delta (an i64 buffer). */
__kernel void lam_k_bn_count(__global long *counter, long c_off, long delta, long n) {
    if (get_global_id(0) < n) counter[c_off] += delta;
}
