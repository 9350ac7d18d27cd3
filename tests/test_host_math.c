/* The host's vectorisable exp, erfc and tanh (cl/host_math.h) against double precision over
 * a sweep of float bit patterns (every 61st over the ranges where the results are finite and
 * not 0 or 1), and their edge values: inf, NaN, -0, overflow and underflow. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cl/host_math.h"

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* |got - want| in units of the last place of want as a float (subnormal spacing below 2^-126). */
static double ulps(float got, double want) {
    int e;
    frexp(want, &e);
    double ulp = ldexp(1.0, (e - 24 < -149 ? -149 : e - 24));
    return fabs((double)got - want) / ulp;
}

typedef struct { double worst_ulps, worst_rel; float at; } sweep;

/* Every 61st float in [lo, hi] (same sign) through f against ref. */
static sweep run(float (*f)(float), double (*ref)(double), float lo, float hi) {
    sweep s = {0, 0, 0};
    uint32_t a, b;
    memcpy(&a, &lo, 4);
    memcpy(&b, &hi, 4);
    if (a > b) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    for (uint64_t u = a; u <= b; u += 61) {
        float x = from_bits((uint32_t)u);
        double want = ref((double)x), got = f(x);
        double e = ulps((float)got, want), r = want != 0 ? fabs(got - want) / fabs(want) : fabs(got);
        if (e > s.worst_ulps) s.worst_ulps = e, s.at = x;
        if (r > s.worst_rel) s.worst_rel = r;
    }
    return s;
}

static void exp_within_one_ulp(void **state) {
    (void)state;
    sweep s = run(lam_expf, exp, -1e-30f, -103.0f);
    sweep t = run(lam_expf, exp, 1e-30f, 88.72f);
    print_message("exp: %.2f ulp for x < 0 (at %g), %.2f ulp for x > 0\n", s.worst_ulps, (double)s.at, t.worst_ulps);
    assert_true(s.worst_ulps <= 1.5 && t.worst_ulps <= 1.5);
    assert_true(lam_expf(0.0f) == 1.0f && lam_expf(-INFINITY) == 0.0f && isinf(lam_expf(INFINITY)));
    assert_true(isinf(lam_expf(89.0f)) && lam_expf(-110.0f) == 0.0f && isnan(lam_expf(NAN)));
}

static void tanh_within_two_ulps(void **state) {
    (void)state;
    sweep s = run(lam_tanhf, tanh, 1e-30f, 9.0f), n = run(lam_tanhf, tanh, -1e-30f, -9.0f);
    print_message("tanh: %.2f ulp at %g\n", s.worst_ulps, (double)s.at);
    assert_true(s.worst_ulps <= 2.5 && n.worst_ulps <= 2.5);
    assert_true(lam_tanhf(INFINITY) == 1.0f && lam_tanhf(-INFINITY) == -1.0f && isnan(lam_tanhf(NAN)));
    assert_true(lam_tanhf(0.0f) == 0.0f && signbit(lam_tanhf(-0.0f)));
}

static void erfc_within_fit_error(void **state) {
    (void)state;
    sweep s = run(lam_erfcf, erfc, 1e-30f, 2.0f), mid = run(lam_erfcf, erfc, 2.0f, 4.0f);
    sweep far = run(lam_erfcf, erfc, 4.0f, 9.0f);
    sweep n = run(lam_erfcf, erfc, -1e-30f, -4.0f), e = run(lam_erff, erf, 1e-30f, 4.0f);
    print_message("erfc: relative %.3g to 2, %.3g to 4, %.3g to 9, %.3g below 0; erf %.3g\n", s.worst_rel,
                  mid.worst_rel, far.worst_rel, n.worst_rel, e.worst_rel);
    assert_true(s.worst_rel < 1e-6 && n.worst_rel < 4e-7 && e.worst_rel < 2e-7);
    assert_true(mid.worst_rel < 2e-6 && far.worst_rel < 1e-5);   /* x^2 rounded to float in the exponent */
    assert_true(lam_erfcf(INFINITY) == 0.0f && lam_erfcf(-INFINITY) == 2.0f && isnan(lam_erfcf(NAN)));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exp_within_one_ulp),
        cmocka_unit_test(tanh_within_two_ulps),
        cmocka_unit_test(erfc_within_fit_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
