/* Counter-based random numbers: element i is Philox(seed, counter + i), so every device
 * and the host draw the same values. */

__kernel void lam_rand(__global float *dst, long d_off, long n, ulong seed, ulong counter, int normal) {
    long i = get_global_id(0);
    if (i >= n) return;
    ulong at = counter + (ulong)i;
    dst[d_off + i] = normal ? lam_rand_normal_at(seed, at) : lam_rand_uniform_at(seed, at);
}
