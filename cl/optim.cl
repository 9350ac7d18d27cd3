/* Fused optimizer steps over n contiguous f32 elements, one work-item per element; the
 * maths is lam_sgd_update / lam_adam_update in common.h, shared with the host backend.
 * Arguments follow the direct-kernel table (src/backend/kernels.h). */

__kernel void lam_k_sgd(__global float *p, long p_off, __global const float *g, long g_off, __global float *b,
                        long b_off, long nesterov, long first, float lr, float mom, float damp, float wd, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    float pi = p[p_off + i], bi = mom != 0.0f ? b[b_off + i] : 0.0f;
    lam_sgd_update(&pi, g[g_off + i], &bi, lr, mom, damp, wd, (int)nesterov, (int)first);
    p[p_off + i] = pi;
    if (mom != 0.0f) b[b_off + i] = bi;
}

__kernel void lam_k_adam(__global float *p, long p_off, __global const float *g, long g_off, __global float *m,
                         long m_off, __global float *v, long v_off, long decoupled, float lr, float beta1,
                         float beta2, float eps, float wd, float bias1, float bias2, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    float pi = p[p_off + i], mi = m[m_off + i], vi = v[v_off + i];
    lam_adam_update(&pi, g[g_off + i], &mi, &vi, lr, beta1, beta2, eps, wd, bias1, bias2, (int)decoupled);
    p[p_off + i] = pi;
    m[m_off + i] = mi;
    v[v_off + i] = vi;
}
