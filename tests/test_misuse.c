/* Misuse and sizes (issue 9, findings 1, 3 and 5): each case used to crash, overflow or be
 * accepted, and must now be a clear error that changes nothing. Runs with LAMINA_DEBUG=1,
 * which keeps released handles to report a second release. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

static void expect_error(lam_status want, const char *needle) {
    assert_int_equal(lam_last_status(), want);
    if (!strstr(lam_last_error(), needle)) fail_msg("error \"%s\" does not mention \"%s\"", lam_last_error(), needle);
    print_message("  %s\n", lam_last_error());
    lam_clear_error();
}

/* Shapes whose element or byte counts overflow are refused before anything is allocated. */
static void test_sizes(void **state) {
    (void)state;
    lam_scope_begin();
    int64_t live = lam_live_tensors();
    assert_null(lam_zeros(LAM_SHAPE((int64_t)1 << 62), NULL));   /* 2^62 floats: 2^64 bytes */
    expect_error(LAM_ERR_SHAPE, "too large");
    assert_null(lam_zeros(LAM_SHAPE((int64_t)1 << 40, (int64_t)1 << 40), NULL));
    expect_error(LAM_ERR_SHAPE, "too large");
    assert_null(lam_zeros(LAM_SHAPE(((int64_t)1 << 62) + 1, 4), NULL));
    expect_error(LAM_ERR_SHAPE, "too large");
    assert_null(lam_empty(LAM_I64, LAM_SHAPE(INT64_MAX / 4), NULL));
    expect_error(LAM_ERR_SHAPE, "too large");
    assert_null(lam_nn_linear(((int64_t)1 << 62) + 1, 4));
    expect_error(LAM_ERR_SHAPE, "too large");
    lam_tensor *one = lam_ones(LAM_SHAPE(1, 3), NULL);
    assert_null(lam_expand(one, LAM_SHAPE(-5, 3)));
    expect_error(LAM_ERR_SHAPE, "negative");
    assert_null(lam_expand(one, LAM_SHAPE((int64_t)1 << 62, (int64_t)1 << 62, 3)));   /* a view too */
    expect_error(LAM_ERR_SHAPE, "too large");
    assert_null(lam_reshape(one, LAM_SHAPE((int64_t)1 << 62, (int64_t)1 << 62, 0)));
    lam_clear_error();
    assert_int_equal(lam_live_tensors(), live + 1);
    lam_scope_end();
}

/* Releasing a handle the scope still owns is refused (it used to free it under the scope). */
static void test_release_scope_owned(void **state) {
    (void)state;
    lam_scope_begin();
    lam_tensor *t = lam_ones(LAM_SHAPE(2, 3), NULL);
    lam_release(t);
    expect_error(LAM_ERR_STATE, "belongs to its scope");
    assert_true(lam_item(lam_sum(t)) == 6.0);   /* still alive */
    lam_scope_end();                             /* and freed once, here */
}

/* A second release of a kept handle is reported (LAMINA_DEBUG=1), not a use after free. */
static void test_double_release(void **state) {
    (void)state;
    lam_tensor *t = lam_keep(lam_zeros(LAM_SHAPE(4), NULL));
    int64_t live = lam_live_tensors();
    lam_release(t);
    assert_int_equal(lam_live_tensors(), live - 1);
    lam_clear_error();
    lam_release(t);
    expect_error(LAM_ERR_STATE, "already released");
    assert_int_equal(lam_live_tensors(), live - 1);
}

/* Scopes nested past the per-thread stack degrade (an error; tensors made there belong to
 * the innermost real scope) instead of ending the caller's scope early. */
static void test_deep_scopes(void **state) {
    (void)state;
    lam_scope_begin();
    lam_tensor *outer = lam_ones(LAM_SHAPE(3), NULL);
    enum { DEEP = 300 };
    for (int i = 0; i < DEEP; ++i) lam_scope_begin();
    expect_error(LAM_ERR_STATE, "nested deeper");
    lam_tensor *inner = lam_full(2.0f, LAM_SHAPE(3), NULL);   /* in the innermost real scope */
    for (int i = 0; i < DEEP; ++i) {
        if (i <= DEEP - 256 && lam_item(lam_sum(inner)) != 6.0) fail_msg("end %d: inner is gone: %s", i, lam_last_error());
        assert_int_equal(lam_scope_end(), LAM_OK);
        if (lam_item(lam_sum(outer)) != 3.0) fail_msg("end %d ended the outer scope", i);
    }
    assert_int_equal(lam_scope_end(), LAM_OK);
    assert_int_equal(lam_scope_end(), LAM_ERR_STATE);   /* nothing left to end */
    lam_clear_error();
}

/* The default device is one atomic value: set from one thread, read from another. */
static void test_default_device(void **state) {
    (void)state;
    lam_device *cpu = lam_device_get("cpu"), *before = lam_default_device();
    assert_ok(lam_set_default_device(cpu));
    assert_ptr_equal(lam_default_device(), cpu);
    assert_int_equal(lam_set_default_device(NULL), LAM_ERR_ARG);
    lam_clear_error();
    assert_ok(lam_set_default_device(before));
}

int main(void) {
    setenv("LAMINA_DEBUG", "1", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),       cmocka_unit_test(test_release_scope_owned),
        cmocka_unit_test(test_double_release), cmocka_unit_test(test_deep_scopes),
        cmocka_unit_test(test_default_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
