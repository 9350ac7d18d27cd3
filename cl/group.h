/* Work-group reductions for the kernels that run one work-group per unit of work (the
 * direct kernels with a group size, src/backend/kernels.h): a group of up to LAM_GROUP_MAX
 * work-items on GPUs, of one on CPU devices. Every work-item passes its partial value and
 * gets the group's result; scratch is a __local float[LAM_GROUP_MAX]. The group size is a
 * power of two. OpenCL only: prepended to every program after common.h. */
#ifndef LAM_CL_GROUP_H
#define LAM_CL_GROUP_H
#ifdef __OPENCL_VERSION__

/* The largest work-group lamina launches on this device (-DLAM_WG=, from its limits:
 * src/backend/opencl/cl_limits.c); local arrays are sized by it. */
#ifndef LAM_WG
#define LAM_WG 256
#endif
#define LAM_GROUP_MAX LAM_WG

/* Kahan summation, for a work-item's own partial sum (with groups of one it sums a whole
 * row or channel): *sum + x, the lost low bits kept in *comp (true sum ~ *sum - *comp). */
LAM_FN void lam_kahan_add(float *sum, float *comp, float x) {
    float y = x - *comp, t = *sum + y;
    *comp = (t - *sum) - y;
    *sum = t;
}

LAM_FN float lam_group_sum(__local float *scratch, float v) {
    int t = (int)get_local_id(0), n = (int)get_local_size(0);
    if (n == 1) return v;
    scratch[t] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = n / 2; s > 0; s >>= 1) {
        if (t < s) scratch[t] += scratch[t + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    v = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);   /* scratch is free again for the next reduction */
    return v;
}

LAM_FN float lam_group_max(__local float *scratch, float v) {
    int t = (int)get_local_id(0), n = (int)get_local_size(0);
    if (n == 1) return v;
    scratch[t] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = n / 2; s > 0; s >>= 1) {
        if (t < s) scratch[t] = fmax(scratch[t], scratch[t + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    v = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return v;
}

#endif
#endif
