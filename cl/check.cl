/* Index checks: an index outside [lo, hi) raises the device's error record
 * (long[8]: raised, value, position, lo, hi, op id; src/backend/opencl/cl_check.c), which
 * the next blocking read reports. Built for the index dtype (i32 or i64). */
#if LAM_DTYPE == LAM_DT_I32
#define LAM_IDX int
#else
#define LAM_IDX long
#endif

__kernel void lam_k_check_index(__global const LAM_IDX *idx, long i_off, __global long *rec, long r_off, long lo,
                                long hi, long op, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    long v = idx[i_off + i];
    if (v >= lo && v < hi) return;
    __global long *r = rec + r_off;
    if (atomic_cmpxchg((volatile __global int *)r, 0, 1) != 0) return;   /* one report per raise */
    r[1] = v;
    r[2] = i;
    r[3] = lo;
    r[4] = hi;
    r[5] = op;
}
