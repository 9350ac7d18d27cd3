#define _POSIX_C_SOURCE 200809L
/* The op harness (tests/ops/harness.h): every case of every op family on every device and
 * dtype, with gradients, plus the coverage check over the op table.
 *   test_ops           run and check everything
 *   test_ops --perf    also print the time, GB/s and GFLOP/s of every case on every device
 * LAMINA_TEST_DEVICES=cpu,opencl:portable:0 picks devices (test_util.h); LAMINA_OPS_TESTS=test_reduce
 * runs only the tests matching that cmocka pattern (* and ? wildcards). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ops/harness.h"
#include "test_util.h"

static lam_device *devs[TU_MAX_DEVICES];
static int ndevs;
static bool perf;

static const h_family *const families[] = {&h_family_elementwise, &h_family_reduce, &h_family_linalg,
                                           &h_family_views,       &h_family_cnn,    &h_family_index,
                                           &h_family_norm,        &h_family_attention};
#define NFAMILIES ((int)(sizeof families / sizeof *families))

static void run(const h_family *f) {
    int64_t live = lam_live_tensors();
    assert_int_equal(h_run_family(f, devs, ndevs, perf), 0);
    assert_int_equal(lam_live_tensors(), live);
}

static void test_elementwise(void **state) { (void)state; run(&h_family_elementwise); }
static void test_reduce(void **state) { (void)state; run(&h_family_reduce); }
static void test_linalg(void **state) { (void)state; run(&h_family_linalg); }
static void test_views(void **state) { (void)state; run(&h_family_views); }
static void test_cnn(void **state) { (void)state; run(&h_family_cnn); }
static void test_index(void **state) { (void)state; run(&h_family_index); }
static void test_norm(void **state) { (void)state; run(&h_family_norm); }
static void test_attention(void **state) { (void)state; run(&h_family_attention); }
static void test_coverage(void **state) { (void)state; assert_int_equal(h_check_coverage(families, NFAMILIES), 0); }

static int setup(void **state) {
    (void)state;
    ndevs = tu_devices(devs, TU_MAX_DEVICES);
    for (int i = 0; i < ndevs; i++) print_message("device %s\n", lam_device_name(devs[i]));
    return ndevs > 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; ++i) perf |= !strcmp(argv[i], "--perf");
    if (!perf) setenv("LAMINA_DEBUG", "1", 0);   /* guard bytes after every device buffer (not timed) */
    const char *only = getenv("LAMINA_OPS_TESTS");
    if (only && *only) cmocka_set_test_filter(only);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coverage), cmocka_unit_test(test_elementwise), cmocka_unit_test(test_reduce),
        cmocka_unit_test(test_linalg),   cmocka_unit_test(test_views),  cmocka_unit_test(test_cnn),
        cmocka_unit_test(test_index),    cmocka_unit_test(test_norm),   cmocka_unit_test(test_attention),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
