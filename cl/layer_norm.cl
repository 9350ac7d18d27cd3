/* Layer norm over rows of D elements: one work-group per row (cl/group.h), two passes
 * (mean, then the squared deviations) over a row that stays in cache. The statistics are
 * saved for backward: mean and rstd = 1 / sqrt(var + eps), var biased. Arguments follow the
 * direct-kernel table (src/backend/kernels.h); w and b are read only when has_w / has_b. A
 * group past the last row runs the barriers with nothing to do (its items start past the
 * row's end) instead of returning. */

/* y = (x - mean) * rstd * w + b */
__kernel void lam_k_layer_norm(__global LAM_T *y, long y_off, __global LAM_T *mean, long m_off, __global LAM_T *rstd,
                               long r_off, __global const LAM_T *x, long x_off, __global const LAM_T *w, long w_off,
                               __global const LAM_T *b, long b_off, long D, long has_w, long has_b, float eps,
                               long rows) {
    __local float scratch[LAM_GROUP_MAX];
    long g = get_group_id(0), r = g < rows ? g : rows - 1;   /* no return before a barrier */
    long t = g < rows ? (long)get_local_id(0) : D, n = get_local_size(0);
    __global const LAM_T *xr = x + x_off + r * D;
    float s = 0.0f;
    for (long c = t; c < D; c += n) s += LAM_LD(xr, c);
    float mu = lam_group_sum(scratch, s) / (float)D;
    float q = 0.0f;
    for (long c = t; c < D; c += n) {
        float d = LAM_LD(xr, c) - mu;
        q += d * d;
    }
    float rs = 1.0f / sqrt(lam_group_sum(scratch, q) / (float)D + eps);
    for (long c = t; c < D; c += n) {
        float v = (LAM_LD(xr, c) - mu) * rs;
        if (has_w) v *= LAM_LD(w, w_off + c);
        if (has_b) v += LAM_LD(b, b_off + c);
        LAM_ST(y, y_off + r * D + c, v);
    }
    if (t == 0) {
        LAM_ST(mean, m_off + r, mu);
        LAM_ST(rstd, r_off + r, rs);
    }
}

/* dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)), gw = g * w, xhat = (x - mean) * rstd */
__kernel void lam_k_layer_norm_dx(__global LAM_T *dx, long dx_off, __global const LAM_T *g, long g_off,
                                  __global const LAM_T *x, long x_off, __global const LAM_T *w, long w_off,
                                  __global const LAM_T *mean, long m_off, __global const LAM_T *rstd, long r_off,
                                  long D, long has_w, long rows) {
    __local float scratch[LAM_GROUP_MAX];
    long grp = get_group_id(0), r = grp < rows ? grp : rows - 1;   /* no return before a barrier */
    long t = grp < rows ? (long)get_local_id(0) : D, n = get_local_size(0);
    __global const LAM_T *xr = x + x_off + r * D, *gr = g + g_off + r * D;
    float mu = LAM_LD(mean, m_off + r), rs = LAM_LD(rstd, r_off + r);
    float s1 = 0.0f, s2 = 0.0f;
    for (long c = t; c < D; c += n) {
        float gw = LAM_LD(gr, c) * (has_w ? LAM_LD(w, w_off + c) : 1.0f);
        s1 += gw;
        s2 += gw * (LAM_LD(xr, c) - mu) * rs;
    }
    float m1 = lam_group_sum(scratch, s1) / (float)D, m2 = lam_group_sum(scratch, s2) / (float)D;
    for (long c = t; c < D; c += n) {
        float gw = LAM_LD(gr, c) * (has_w ? LAM_LD(w, w_off + c) : 1.0f);
        LAM_ST(dx, dx_off + r * D + c, rs * (gw - m1 - (LAM_LD(xr, c) - mu) * rs * m2));
    }
}

/* dw[c] = sum over rows of g * xhat, db[c] = sum of g: one work-item per column, rows in
 * order (deterministic, no atomics) */
__kernel void lam_k_layer_norm_dwb(__global LAM_T *dw, long dw_off, __global LAM_T *db, long db_off,
                                   __global const LAM_T *g, long g_off, __global const LAM_T *x, long x_off,
                                   __global const LAM_T *mean, long m_off, __global const LAM_T *rstd, long r_off,
                                   long rows, long D, long has_w, long has_b, long n) {
    long c = get_global_id(0);
    if (c >= n) return;
    float sw = 0.0f, sb = 0.0f;
    for (long r = 0; r < rows; ++r) {
        float gv = LAM_LD(g, g_off + r * D + c);
        sw += gv * (LAM_LD(x, x_off + r * D + c) - LAM_LD(mean, m_off + r)) * LAM_LD(rstd, r_off + r);
        sb += gv;
    }
    if (has_w) LAM_ST(dw, dw_off + c, sw);
    if (has_b) LAM_ST(db, db_off + c, sb);
}
