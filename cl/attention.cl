/* Attention's fused row kernels, one work-group per query row (cl/group.h), between the
 * two batched GEMMs of lam_scaled_dot_product_attention. Arguments follow the
 * direct-kernel table (src/backend/kernels.h).
 *
 * Row r of the scores (rows = B * H * L, S keys each) is query i = r % L of head
 * h = r / L % H of batch b = r / (L * H); its mask row starts at b * mB + h * mH + i * mL and
 * steps by mS (strides 0 where the mask broadcasts). A group past the last row runs the
 * barriers with nothing to do (its items start past the row's end) instead of returning. */

/* p = softmax(scale * s + mask), keys j > i blocked when causal; a row with every key
 * blocked is NaN (PyTorch's reference maths). p holds exp(x - max) until the last pass. */
__kernel void lam_k_attn_softmax(__global LAM_T *p, long p_off, __global const LAM_T *s, long s_off,
                                 __global const LAM_T *mask, long m_off, long H, long L, long S, long mB, long mH,
                                 long mL, long mS, long has_mask, long causal, float scale, long rows) {
    __local float scratch[LAM_GROUP_MAX];
    long g = get_group_id(0), r = g < rows ? g : rows - 1;   /* no return before a barrier */
    long t = g < rows ? (long)get_local_id(0) : S, n = get_local_size(0);
    long i = r % L, h = r / L % H, b = r / L / H;
    __global const LAM_T *sr = s + s_off + r * S;
    __global const LAM_T *mr = mask + m_off + b * mB + h * mH + i * mL;
    __global LAM_T *pr = p + p_off + r * S;
    long end = causal && i + 1 < S ? i + 1 : S;   /* keys at end and after are blocked */
    float m = -INFINITY;
    for (long j = t; j < end; j += n) m = fmax(m, scale * LAM_LD(sr, j) + (has_mask ? LAM_LD(mr, j * mS) : 0.0f));
    m = lam_group_max(scratch, m);
    float sum = 0.0f;
    for (long j = t; j < end; j += n) {
        float e = exp(scale * LAM_LD(sr, j) + (has_mask ? LAM_LD(mr, j * mS) : 0.0f) - m);
        LAM_ST(pr, j, e);
        sum += e;
    }
    float total = lam_group_sum(scratch, sum), inv = m == -INFINITY ? NAN : 1.0f / total;
    for (long j = t; j < S; j += n) LAM_ST(pr, j, j < end ? LAM_LD(pr, j) * inv : m == -INFINITY ? NAN : 0.0f);
}

/* ds = scale * p * (dp - sum(p * dp)): softmax's backward with the scale folded in */
__kernel void lam_k_attn_softmax_bwd(__global LAM_T *ds, long ds_off, __global const LAM_T *p, long p_off,
                                     __global const LAM_T *dp, long dp_off, long S, float scale, long rows) {
    __local float scratch[LAM_GROUP_MAX];
    long g = get_group_id(0), r = g < rows ? g : rows - 1;   /* no return before a barrier */
    long t = g < rows ? (long)get_local_id(0) : S, n = get_local_size(0);
    __global const LAM_T *pr = p + p_off + r * S, *gr = dp + dp_off + r * S;
    float dot = 0.0f;
    for (long j = t; j < S; j += n) dot += LAM_LD(pr, j) * LAM_LD(gr, j);
    dot = lam_group_sum(scratch, dot);
    for (long j = t; j < S; j += n) LAM_ST(ds, ds_off + r * S + j, scale * LAM_LD(pr, j) * (LAM_LD(gr, j) - dot));
}
