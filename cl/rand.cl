/* Counter-based random numbers: element i is Philox(seed, counter + i), so every device
 * and the host draw the same values. */

__kernel void lam_k_rand(__global LAM_T *dst, long d_off, long seed, long counter, long normal, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    ulong at = (ulong)counter + (ulong)i;
    LAM_ST(dst, d_off + i, normal ? lam_rand_normal_at((ulong)seed, at) : lam_rand_uniform_at((ulong)seed, at));
}
