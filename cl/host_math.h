/* The host's exp, erfc and tanh: straight-line float arithmetic and selects, no calls and
 * no tables, so the compiler vectorises every loop that uses them (libm's expf, erff and
 * tanhf are calls, one element at a time: exact GELU took a fifth of the GPT step). A lane
 * of a vector and a scalar remainder give the same bits, so results stay independent of how
 * a loop is split across threads. Accuracy against double precision (tests/test_host_math.c
 * sweeps it): exp 1 ulp, tanh 1.5 ulp, erf 2e-7 relative, erfc 6e-7 relative up to 2 (the
 * float x^2 in its exponent costs more beyond: 2e-6 at 4, 1e-5 at 9). Included by common.h
 * outside OpenCL only; OpenCL has its built-ins. */
#ifndef LAM_CL_HOST_MATH_H
#define LAM_CL_HOST_MATH_H

#include <stdint.h>
#include <string.h>

static inline float lam_bits_f32(int32_t i) {
    float f;
    memcpy(&f, &i, sizeof f);
    return f;
}

/* e^x = 2^n e^r, n = round(x log2 e), r = x - n ln 2 in two parts (Cody-Waite), e^r by
 * Cephes' expf polynomial; 2^n in two factors so that subnormal results come out right.
 * Overflow gives inf, x below -104 gives 0, NaN stays NaN. */
static inline float lam_expf(float x) {
    const float big = 12582912.0f;   /* 1.5 2^23: adding it rounds to an integer */
    float xc = x > 88.7228394f ? 88.7228394f : x < -104.0f ? -104.0f : x;
    xc = x != x ? 0.0f : xc;   /* no NaN into the integer conversion */
    float n = (xc * 1.44269504f + big) - big;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t ni = (int32_t)n, n1 = ni / 2, n2 = ni - n1;
    float y = p * lam_bits_f32((n1 + 127) << 23) * lam_bits_f32((n2 + 127) << 23);
    y = x > 88.7228394f ? (float)INFINITY : y;
    return x != x ? x : y;
}

/* erf x = x P(x^2) below 0.75 (a least-squares fit, 2e-9 relative). */
static inline float lam_erf_small(float x) {
    float z = x * x, p = -6.7871204e-4f;
    p = p * z + 5.1198620e-3f;
    p = p * z - 2.6837505e-2f;
    p = p * z + 1.1283440e-1f;
    p = p * z - 3.7612623e-1f;
    p = p * z + 1.1283792f;
    return x * p;
}

/* erfc x = 1 - erf x below 0.75, else t exp(-x^2 + P(t)) with t = 1 / (1 + |x|/2) (Numerical
 * Recipes' erfcc, 1.2e-7 relative) and 2 - erfc |x| for negative x. */
static inline float lam_erfcf(float x) {
    float z = x < 0.0f ? -x : x, t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    float e = t * lam_expf(-z * z + p);
    e = x < 0.0f ? 2.0f - e : e;
    return z < 0.75f ? 1.0f - lam_erf_small(x) : e;
}

static inline float lam_erff(float x) {
    float z = x < 0.0f ? -x : x;
    return z < 0.75f ? lam_erf_small(x) : 1.0f - lam_erfcf(x);
}

/* tanh x = x + x^3 P(x^2) below 0.625 (a least-squares fit, 5e-9 relative), else
 * sign(x) (1 - 2 / (e^{2|x|} + 1)). */
static inline float lam_tanhf(float x) {
    float a = x < 0.0f ? -x : x, z = x * x;
    float p = -5.7188915e-3f;
    p = p * z + 2.0653064e-2f;
    p = p * z - 5.3744640e-2f;
    p = p * z + 1.3331512e-1f;
    p = p * z - 3.3333285e-1f;
    float small = x == 0.0f ? x : x + x * z * p;   /* tanh(-0) = -0 */
    float big = 1.0f - 2.0f / (lam_expf(2.0f * a) + 1.0f);
    big = x < 0.0f ? -big : big;
    return a < 0.625f ? small : big;
}

#endif
