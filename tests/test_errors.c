/* Errors (DESIGN §5): every failure sets a status and a message naming the op and the
 * shapes, returns NULL or a status, keeps the first error through a chain, and changes
 * nothing it was asked to write. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#define expect_error(status, ...)                                                    \
    do {                                                                              \
        assert_int_equal(lam_last_status(), (status));                               \
        const char *subs_[] = {__VA_ARGS__};                                          \
        for (size_t i_ = 0; i_ < sizeof subs_ / sizeof subs_[0]; i_++)                \
            if (!strstr(lam_last_error(), subs_[i_]))                                 \
                fail_msg("message \"%s\" lacks \"%s\"", lam_last_error(), subs_[i_]); \
    } while (0)

static int clear(void **state)
{
    (void)state;
    lam_clear_error();
    lam_scope_begin();
    return 0;
}

static int end(void **state)
{
    (void)state;
    assert_int_equal(lam_scope_end(), LAM_OK);
    lam_clear_error();
    return 0;
}

static lam_device *cpu(void) { return lam_device_get("cpu"); }

static void test_matmul_mismatch(void **state)
{
    (void)state;
    lam_tensor *a = lam_zeros(LAM_SHAPE(2, 20), cpu()), *b = lam_zeros(LAM_SHAPE(30, 256), cpu());
    assert_int_equal(lam_last_status(), LAM_OK);
    assert_null(lam_matmul(a, b));
    expect_error(LAM_ERR_SHAPE, "lam_matmul", "(2, 20)", "(30, 256)");
    print_message("%s\n", lam_last_error());
}

static void test_broadcast_mismatch(void **state)
{
    (void)state;
    assert_null(lam_add(lam_zeros(LAM_SHAPE(4, 3), cpu()), lam_zeros(LAM_SHAPE(5, 2), cpu())));
    expect_error(LAM_ERR_SHAPE, "lam_add", "(4, 3)", "(5, 2)");
}

static void test_null_argument(void **state)
{
    (void)state;
    assert_null(lam_relu(NULL));
    expect_error(LAM_ERR_ARG, "lam_relu");
    lam_clear_error();
    assert_null(lam_add(lam_ones(LAM_SHAPE(2), cpu()), NULL));
    expect_error(LAM_ERR_ARG, "lam_add");
    assert_int_equal(lam_read(NULL, NULL, 0), LAM_ERR_ARG);
}

static void test_chain_keeps_first(void **state)
{
    (void)state;
    lam_tensor *a = lam_zeros(LAM_SHAPE(2, 20), cpu()), *b = lam_zeros(LAM_SHAPE(30, 256), cpu());
    assert_null(lam_sum(lam_relu(lam_matmul(a, b))));
    expect_error(LAM_ERR_SHAPE, "lam_matmul", "(2, 20)", "(30, 256)");
    assert_null(strstr(lam_last_error(), "lam_relu"));
}

static void test_two_devices(void **state)
{
    (void)state;
    if (lam_device_count() < 2) skip();
    lam_tensor *a = lam_ones(LAM_SHAPE(3), lam_device_at(0)), *b = lam_ones(LAM_SHAPE(3), lam_device_at(1));
    assert_null(lam_add(a, b));
    expect_error(LAM_ERR_DEVICE, "lam_add");
    if (!strstr(lam_last_error(), lam_device_spec(lam_device_at(0))) || !strstr(lam_last_error(), lam_device_spec(lam_device_at(1))))
        fail_msg("message \"%s\" does not name both devices", lam_last_error());
}

static void test_read_too_small(void **state)
{
    (void)state;
    float v[6] = {1, 2, 3, 4, 5, 6}, out[6] = {-1, -1, -1, -1, -1, -1};
    lam_tensor *t = lam_from_data(v, LAM_F32, LAM_SHAPE(2, 3), cpu());
    assert_int_equal(lam_read(t, out, 5 * sizeof(float)), LAM_ERR_ARG);
    expect_error(LAM_ERR_ARG, "lam_read");
    for (int i = 0; i < 6; i++) assert_true(out[i] == -1);
}

static void test_bad_device(void **state)
{
    (void)state;
    assert_null(lam_device_get("tpu"));
    expect_error(LAM_ERR_DEVICE, "tpu");
    lam_clear_error();
    assert_null(lam_device_get("opencl:9:9"));
    expect_error(LAM_ERR_DEVICE, "opencl:9:9");
}

static void test_reshape_numel(void **state)
{
    (void)state;
    assert_null(lam_reshape(lam_zeros(LAM_SHAPE(2, 3), cpu()), LAM_SHAPE(4, 2)));
    expect_error(LAM_ERR_SHAPE, "lam_reshape", "(2, 3)");
    lam_clear_error();
    assert_null(lam_reshape(lam_zeros(LAM_SHAPE(2, 3), cpu()), LAM_SHAPE(-1, 4)));
    expect_error(LAM_ERR_SHAPE, "lam_reshape");
}

static void test_dim_out_of_range(void **state)
{
    (void)state;
    lam_tensor *t = lam_zeros(LAM_SHAPE(2, 3), cpu());
    assert_null(lam_sum_dim(t, 2, false));
    expect_error(LAM_ERR_ARG, "lam_sum_dim");
    lam_clear_error();
    assert_null(lam_softmax(t, -3));
    expect_error(LAM_ERR_ARG, "lam_softmax");
    lam_clear_error();
    assert_null(lam_transpose(t, 0, 5));
    expect_error(LAM_ERR_ARG, "lam_transpose");
}

static void test_scope_end_without_begin(void **state)
{
    (void)state;
    assert_int_equal(lam_scope_end(), LAM_OK);   /* the one the fixture opened */
    assert_int_equal(lam_scope_end(), LAM_ERR_STATE);
    expect_error(LAM_ERR_STATE, "lam_scope_end");
    lam_scope_begin();   /* for the fixture's end */
}

static void test_item_multi(void **state)
{
    (void)state;
    double v = lam_item(lam_zeros(LAM_SHAPE(2, 2), cpu()));
    assert_true(isnan(v));
    expect_error(LAM_ERR_SHAPE, "lam_item", "(2, 2)");
}

static void test_clear_error(void **state)
{
    (void)state;
    assert_null(lam_relu(NULL));
    assert_int_not_equal(lam_last_status(), LAM_OK);
    lam_clear_error();
    assert_int_equal(lam_last_status(), LAM_OK);
    assert_string_equal(lam_last_error(), "");
    assert_string_equal(lam_status_name(LAM_ERR_SHAPE), "LAM_ERR_SHAPE");
}

static void test_failure_changes_nothing(void **state)
{
    (void)state;
    float v[6] = {1, 2, 3, 4, 5, 6}, out[6];
    lam_tensor *dst = lam_from_data(v, LAM_F32, LAM_SHAPE(2, 3), cpu());
    /* wrong shape */
    assert_int_not_equal(lam_copy_(dst, lam_zeros(LAM_SHAPE(3, 2), cpu())), LAM_OK);
    expect_error(LAM_ERR_SHAPE, "lam_copy_");
    assert_int_equal(lam_read(dst, out, sizeof out), LAM_OK);
    assert_memory_equal(out, v, sizeof v);
    lam_clear_error();
    /* wrong dtype */
    int32_t iv[6] = {0};
    assert_int_not_equal(lam_copy_(dst, lam_from_data(iv, LAM_I32, LAM_SHAPE(2, 3), cpu())), LAM_OK);
    assert_int_equal(lam_read(dst, out, sizeof out), LAM_OK);
    assert_memory_equal(out, v, sizeof v);
    lam_clear_error();
    /* too few bytes */
    float w[6] = {9, 9, 9, 9, 9, 9};
    assert_int_equal(lam_write(dst, w, 5 * sizeof(float)), LAM_ERR_ARG);
    expect_error(LAM_ERR_ARG, "lam_write");
    assert_int_equal(lam_read(dst, out, sizeof out), LAM_OK);
    assert_memory_equal(out, v, sizeof v);
}

#define T(f) cmocka_unit_test_setup_teardown(f, clear, end)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_matmul_mismatch), T(test_broadcast_mismatch), T(test_null_argument), T(test_chain_keeps_first),
        T(test_two_devices), T(test_read_too_small), T(test_bad_device), T(test_reshape_numel),
        T(test_dim_out_of_range), T(test_scope_end_without_begin), T(test_item_multi), T(test_clear_error),
        T(test_failure_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
