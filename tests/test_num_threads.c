/* The cpu device's thread count: lam_set_num_threads refuses bad counts and changes nothing,
 * and the ops of a training step give the same bits with 1 thread as with 2 (GEMMs left
 * out: OpenBLAS may split a product differently). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

static void bad_counts_are_errors(void **state) {
    (void)state;
    int before = lam_get_num_threads();
    assert_true(before >= 1);
    assert_int_equal(lam_set_num_threads(0), LAM_ERR_ARG);
    assert_non_null(strstr(lam_last_error(), "lam_set_num_threads"));
    assert_int_equal(lam_set_num_threads(-3), LAM_ERR_ARG);
    assert_int_equal(lam_set_num_threads(100000), LAM_ERR_ARG);
    assert_int_equal(lam_get_num_threads(), before);
    lam_clear_error();
}

enum { N = 600000, ROWS = 600, COLS = 1000 };   /* over the size that goes parallel */

/* Sum, row softmax, layer norm, sigmoid and their gradients on cpu, into out[4]. */
static void step(float *out) {
    lam_device *cpu = lam_device_get("cpu");
    lam_scope_begin();
    lam_manual_seed(7);
    lam_tensor *x = lam_requires_grad(lam_randn(LAM_SHAPE(ROWS, COLS), cpu), true);
    lam_tensor *y = lam_layer_norm(lam_softmax(lam_sigmoid(x), -1), LAM_SHAPE(COLS), NULL, NULL, 1e-5f);
    lam_tensor *loss = lam_sum(lam_mul(y, y));
    assert_int_equal(lam_backward(loss), LAM_OK);
    out[0] = (float)lam_item(loss);
    out[1] = (float)lam_item(lam_sum(lam_grad(x)));
    out[2] = (float)lam_item(lam_sum(lam_mul(lam_grad(x), lam_grad(x))));
    out[3] = (float)lam_item(lam_sum(lam_reshape(x, LAM_SHAPE(N))));
    lam_scope_end();
}

static void same_bits_for_any_count(void **state) {
    (void)state;
    float one[4], two[4], many[4];
    assert_int_equal(lam_set_num_threads(1), LAM_OK);
    step(one);
    assert_int_equal(lam_set_num_threads(2), LAM_OK);
    assert_int_equal(lam_get_num_threads(), 2);
    step(two);
    assert_int_equal(lam_set_num_threads(7), LAM_OK);   /* more threads than cores works */
    step(many);
    assert_memory_equal(one, two, sizeof one);
    assert_memory_equal(one, many, sizeof one);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_counts_are_errors),
        cmocka_unit_test(same_bits_for_any_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
