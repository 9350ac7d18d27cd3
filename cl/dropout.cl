/* Dropout (src/ops/dropout.c): element i is dropped when the Philox uniform at
 * (seed, counter + i) is below p, else scaled by 1 / (1 - p). Backward draws the same
 * numbers again instead of keeping a mask, and every device draws the same ones. */

__kernel void lam_k_dropout(__global LAM_T *y, long y_off, __global const LAM_T *x, long x_off, long seed, long counter,
                            float p, float scale, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    float u = lam_rand_uniform_at((ulong)seed, (ulong)counter + (ulong)i);
    LAM_ST(y, y_off + i, u < p ? 0.0f : LAM_LD(x, x_off + i) * scale);
}
