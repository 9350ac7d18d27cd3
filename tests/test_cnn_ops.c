/* The convolutional-network ops on every device: forward and backward against PyTorch
 * (tests/reference/make_cnn_reference.py wrote cnn_ref.safetensors), BatchNorm's running
 * statistics, dropout's masks, and bad input. Double references, f16 and gradcheck of the
 * same ops are cases of the op harness (tests/ops/cases_cnn.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reference_file.h"
#include "test_util.h"

#define REF(file) LAMINA_TEST_REFERENCE_DIR "/" file

static lam_device *devs[TU_MAX_DEVICES];
static int ndevs;
static ref_file *ref;

/* "case.field" in a static buffer (one at a time). */
static const char *key(const char *name, const char *field) {
    static char k[128];
    snprintf(k, sizeof k, "%s.%s", name, field);
    return k;
}

static lam_tensor *ref_at(const char *name, const char *field, lam_device *dev) {
    lam_tensor *t = ref_tensor(ref, key(name, field), dev);
    if (!t) fail_msg("no %s in cnn_ref.safetensors", key(name, field));
    return t;
}

static lam_tensor *leaf_at(const char *name, const char *field, lam_device *dev) {
    return lam_requires_grad(ref_at(name, field, dev), true);
}

/* got against reference name.field: normalized L2 error at most tol. */
static void expect_close(lam_tensor *got, const char *name, const char *field, lam_device *dev, double tol) {
    if (!got) fail_msg("%s on %s: no result: %s", key(name, field), lam_device_spec(dev), lam_last_error());
    lam_tensor *want = ref_at(name, field, dev);
    assert_int_equal(lam_numel(got), lam_numel(want));
    double *a = tu_read(got), *b = tu_read(want);
    double e = tu_norm_err(a, b, lam_numel(want));
    free(a);
    free(b);
    if (!(e <= tol)) fail_msg("%s on %s: normalized error %.3g > %.1g", key(name, field), lam_device_spec(dev), e, tol);
}

/* y's value and, after backward with the reference upstream gradient, x's (and w's, b's). */
static void expect_case(const char *name, lam_device *dev, lam_tensor *y, lam_tensor *x, lam_tensor *w, lam_tensor *b) {
    expect_close(y, name, "y", dev, 1e-5);
    assert_ok(lam_backward_with(y, ref_at(name, "g", dev)));
    expect_close(lam_grad(x), name, "dx", dev, 1e-5);
    if (w) expect_close(lam_grad(w), name, "dw", dev, 1e-5);
    if (b) expect_close(lam_grad(b), name, "db", dev, 1e-5);
}

/* ---- PyTorch references --------------------------------------------------------------- */

typedef struct {
    const char *name;
    lam_hw stride, padding, dilation;
    int64_t groups;
    bool bias;
} conv_case;

static void test_conv2d_reference(void **state) {
    (void)state;
    const conv_case cases[] = {
        {"conv_same", {1, 1}, {1, 1}, {1, 1}, 1, true},      {"conv_odd", {2, 1}, {1, 0}, {2, 1}, 2, true},
        {"conv_pointwise", {1, 1}, {0, 0}, {1, 1}, 1, false}, {"conv_shortcut", {2, 2}, {0, 0}, {1, 1}, 1, true},
        {"conv_grouped", {2, 2}, {1, 1}, {1, 1}, 3, true},   {"conv_wide", {1, 1}, {2, 1}, {1, 2}, 1, false},
    };
    for (int d = 0; d < ndevs; ++d)
        for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
            const conv_case *c = &cases[i];
            lam_scope_begin();
            lam_tensor *x = leaf_at(c->name, "x", devs[d]), *w = leaf_at(c->name, "w", devs[d]);
            lam_tensor *b = c->bias ? leaf_at(c->name, "b", devs[d]) : NULL;
            expect_case(c->name, devs[d], lam_conv2d(x, w, b, c->stride, c->padding, c->dilation, c->groups), x, w, b);
            lam_scope_end();
        }
}

typedef struct {
    const char *name;
    lam_hw kernel, stride, padding, dilation;
    bool ceil_mode, count_include_pad;
} pool_case;

static void test_pool2d_reference(void **state) {
    (void)state;
    const pool_case max[] = {{"max_pool_2", {2, 2}, {2, 2}, {0, 0}, {1, 1}, false, false},
                             {"max_pool_odd", {3, 2}, {2, 1}, {1, 1}, {2, 1}, true, false},
                             {"max_pool_overlap", {3, 3}, {2, 2}, {1, 1}, {1, 1}, true, false}};
    const pool_case avg[] = {{"avg_pool_2", {2, 2}, {2, 2}, {0, 0}, {1, 1}, false, true},
                             {"avg_pool_odd", {3, 2}, {2, 1}, {1, 1}, {1, 1}, true, false},
                             {"avg_pool_overlap", {3, 3}, {2, 2}, {1, 1}, {1, 1}, true, true}};
    for (int d = 0; d < ndevs; ++d)
        for (size_t i = 0; i < 3; ++i) {
            lam_scope_begin();
            const pool_case *c = &max[i];
            lam_tensor *x = leaf_at(c->name, "x", devs[d]);
            expect_case(c->name, devs[d], lam_max_pool2d(x, c->kernel, c->stride, c->padding, c->dilation, c->ceil_mode),
                        x, NULL, NULL);
            c = &avg[i];
            x = leaf_at(c->name, "x", devs[d]);
            expect_case(c->name, devs[d],
                        lam_avg_pool2d(x, c->kernel, c->stride, c->padding, c->ceil_mode, c->count_include_pad), x, NULL,
                        NULL);
            lam_scope_end();
        }
}

static void test_adaptive_and_pad_reference(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d) {
        lam_scope_begin();
        lam_tensor *x = leaf_at("adaptive_1", "x", devs[d]);
        expect_case("adaptive_1", devs[d], lam_adaptive_avg_pool2d(x, LAM_HW(1)), x, NULL, NULL);
        x = leaf_at("adaptive_3x4", "x", devs[d]);
        expect_case("adaptive_3x4", devs[d], lam_adaptive_avg_pool2d(x, LAM_HW2(3, 4)), x, NULL, NULL);
        x = leaf_at("pad", "x", devs[d]);
        expect_case("pad", devs[d], lam_pad(x, 4, (const int64_t[]){1, 2, 0, 3}, 0.5f), x, NULL, NULL);
        lam_scope_end();
    }
}

/* Three training steps of a BatchNorm layer, then eval, as PyTorch ran them. */
static void batch_norm_case(const char *name, lam_module *bn, lam_device *dev) {
    assert_non_null(bn);
    assert_ok(lam_module_to(bn, dev));
    lam_tensor *w = lam_module_param(bn, "weight"), *b = lam_module_param(bn, "bias");
    lam_scope_begin();
    assert_ok(lam_copy_(w, ref_at(name, "weight", dev)));
    assert_ok(lam_copy_(b, ref_at(name, "bias", dev)));
    for (int step = 0; step < 2; ++step) {
        char field[8];
        snprintf(field, sizeof field, "x%d", step);
        assert_non_null(lam_forward(bn, ref_at(name, field, dev)));
    }
    lam_tensor *x = leaf_at(name, "x", dev);
    expect_case(name, dev, lam_forward(bn, x), x, w, b);
    expect_close(lam_module_buffer(bn, "running_mean"), name, "running_mean", dev, 1e-6);
    expect_close(lam_module_buffer(bn, "running_var"), name, "running_var", dev, 1e-6);
    expect_close(lam_module_buffer(bn, "num_batches_tracked"), name, "num_batches_tracked", dev, 0);
    lam_train(bn, false);
    expect_close(lam_forward(bn, ref_at(name, "eval_x", dev)), name, "eval_y", dev, 1e-6);
    lam_scope_end();
    lam_module_free(bn);
}

static void test_batch_norm_reference(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d) {
        batch_norm_case("bn2d", lam_nn_batch_norm2d(5), devs[d]);
        batch_norm_case("bn1d", lam_nn_batch_norm1d(7), devs[d]);
        batch_norm_case("bn1d_3d", lam_nn_batch_norm1d_ex(3, 1e-3f, 0.3f, true, true), devs[d]);
    }
}

/* ---- max pooling's edge cases: NaN wins, an all -inf window takes its first tap ---------- */

static void test_max_pool_nan(void **state) {
    (void)state;
    const float x[16] = {1, NAN, 5, 2, 3, 0, -INFINITY, -INFINITY, 7, 7, 4, NAN, 6, 7, NAN, 9};
    for (int d = 0; d < ndevs; ++d) {
        lam_scope_begin();
        lam_tensor *t = lam_requires_grad(lam_from_data(x, LAM_F32, LAM_SHAPE(1, 1, 4, 4), devs[d]), true);
        lam_tensor *y = lam_max_pool2d(t, LAM_HW(2), LAM_HW(2), LAM_HW(0), LAM_HW(1), false);
        float got[4];
        assert_ok(lam_read(y, got, sizeof got));
        /* windows: {1, NaN, 3, 0} -> NaN; {5, 2, -inf, -inf} -> 5; {7, 7, 6, 7} -> the first 7;
         * {4, NaN, NaN, 9} -> the last NaN (PyTorch replaces on every NaN) */
        assert_true(isnan(got[0]) && got[1] == 5 && got[2] == 7 && isnan(got[3]));
        assert_ok(lam_backward_with(y, lam_ones(LAM_SHAPE(1, 1, 2, 2), devs[d])));
        float g[16];
        assert_ok(lam_read(lam_grad(t), g, sizeof g));
        const float want[16] = {0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0};
        if (memcmp(g, want, sizeof g)) fail_msg("max_pool2d on %s: the gradient went to the wrong taps", lam_device_spec(devs[d]));
        lam_tensor *all_inf = lam_full(-INFINITY, LAM_SHAPE(1, 1, 2, 2), devs[d]);
        assert_true(lam_item(lam_max_pool2d(all_inf, LAM_HW(2), LAM_HW(2), LAM_HW(0), LAM_HW(1), false)) == -INFINITY);
        lam_scope_end();
    }
}

/* ---- dropout ------------------------------------------------------------------------------ */

static void test_dropout(void **state) {
    (void)state;
    const int64_t n = 4000;
    double *first = NULL;
    for (int d = 0; d < ndevs; ++d) {
        lam_device *dev = devs[d];
        lam_scope_begin();
        lam_tensor *x = lam_requires_grad(lam_ones(LAM_SHAPE(n), dev), true);
        lam_manual_seed(42);
        lam_tensor *y = lam_dropout(x, 0.3f, true);
        assert_non_null(y);
        double *v = tu_read(y);
        int64_t zeros = 0;
        for (int64_t i = 0; i < n; ++i) {
            if (v[i] == 0) ++zeros;
            else if (fabs(v[i] - 1 / 0.7) > 1e-6) fail_msg("dropout kept %g, not 1 / 0.7", v[i]);
        }
        if (fabs((double)zeros / (double)n - 0.3) > 0.03) fail_msg("dropout dropped %lld of %lld", (long long)zeros, (long long)n);
        if (!first) first = v;   /* the same seed drops the same elements on every device */
        else if (memcmp(first, v, (size_t)n * sizeof *v)) fail_msg("dropout on %s differs from %s", lam_device_spec(dev), lam_device_spec(devs[0]));
        /* backward draws the mask again: with x = 1 and g = 1 the gradient is y itself */
        assert_ok(lam_backward_with(y, lam_ones(LAM_SHAPE(n), dev)));
        double *g = tu_read(lam_grad(x));
        assert_memory_equal(g, v, (size_t)n * sizeof *v);
        free(g);
        if (v != first) free(v);
        /* eval and p = 0 pass x through; p = 1 drops everything */
        double sum_eval = lam_item(lam_sum(lam_dropout(x, 0.3f, false))), sum_p0 = lam_item(lam_sum(lam_dropout(x, 0.0f, true)));
        assert_true(sum_eval == (double)n && sum_p0 == (double)n);
        assert_true(lam_item(lam_sum(lam_abs(lam_dropout(x, 1.0f, true)))) == 0.0);
        lam_scope_end();
    }
    free(first);
}

/* ---- bad input: an error naming the op and the shapes, and nothing changed -------------- */

static void expect_error(lam_tensor *y, lam_status st, const char *a, const char *b, const char *c) {
    if (y) fail_msg("expected an error mentioning %s", a);
    assert_int_equal(lam_last_status(), st);
    const char *msg = lam_last_error();
    if (!strstr(msg, a) || (b && !strstr(msg, b)) || (c && !strstr(msg, c)))
        fail_msg("error \"%s\" does not mention %s %s %s", msg, a, b ? b : "", c ? c : "");
    lam_clear_error();
}

static void test_bad_input(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d) {
        lam_device *dev = devs[d];
        lam_scope_begin();
        lam_tensor *x = lam_requires_grad(lam_rand(LAM_SHAPE(2, 3, 8, 8), dev), true);
        lam_tensor *w = lam_requires_grad(lam_rand(LAM_SHAPE(4, 3, 3, 3), dev), true);
        double before = lam_item(lam_sum(x));
        expect_error(lam_conv2d(x, lam_rand(LAM_SHAPE(4, 2, 3, 3), dev), NULL, LAM_HW(1), LAM_HW(0), LAM_HW(1), 1),
                     LAM_ERR_SHAPE, "lam_conv2d", "(2, 3, 8, 8)", "(4, 2, 3, 3)");
        expect_error(lam_conv2d(lam_rand(LAM_SHAPE(1, 3, 2, 2), dev), w, NULL, LAM_HW(1), LAM_HW(0), LAM_HW(1), 1),
                     LAM_ERR_SHAPE, "lam_conv2d", "larger than input (1, 3, 2, 2)", NULL);
        expect_error(lam_conv2d(x, w, NULL, LAM_HW2(1, 0), LAM_HW(0), LAM_HW(1), 1), LAM_ERR_ARG, "lam_conv2d",
                     "stride (1, 0)", NULL);
        expect_error(lam_conv2d(x, lam_rand(LAM_SHAPE(4, 1, 3, 3), dev), NULL, LAM_HW(1), LAM_HW(0), LAM_HW(1), 2),
                     LAM_ERR_ARG, "lam_conv2d", "groups 2", "(2, 3, 8, 8)");
        expect_error(lam_conv2d(lam_rand(LAM_SHAPE(3, 8, 8), dev), w, NULL, LAM_HW(1), LAM_HW(0), LAM_HW(1), 1),
                     LAM_ERR_SHAPE, "lam_conv2d", "4-D", "(3, 8, 8)");
        expect_error(lam_conv2d(x, w, lam_rand(LAM_SHAPE(3), dev), LAM_HW(1), LAM_HW(0), LAM_HW(1), 1), LAM_ERR_SHAPE,
                     "lam_conv2d", "bias (3,)", "(4,)");
        expect_error(lam_max_pool2d(x, LAM_HW(2), LAM_HW(2), LAM_HW(2), LAM_HW(1), false), LAM_ERR_ARG,
                     "lam_max_pool2d", "padding (2, 2)", NULL);
        expect_error(lam_avg_pool2d(x, LAM_HW(9), LAM_HW(1), LAM_HW(0), false, true), LAM_ERR_SHAPE, "lam_avg_pool2d",
                     "(2, 3, 8, 8)", NULL);
        expect_error(lam_adaptive_avg_pool2d(lam_rand(LAM_SHAPE(8, 8), dev), LAM_HW(1)), LAM_ERR_SHAPE,
                     "lam_adaptive_avg_pool2d", "(8, 8)", NULL);
        lam_manual_seed(9);
        expect_error(lam_dropout(x, 1.5f, true), LAM_ERR_ARG, "lam_dropout", "1.5", "[0, 1]");
        expect_error(lam_dropout(x, -0.1f, false), LAM_ERR_ARG, "lam_dropout", "-0.1", NULL);
        expect_error(lam_dropout(x, NAN, true), LAM_ERR_ARG, "lam_dropout", "nan", NULL);
        float r = (float)lam_item(lam_rand(LAM_SHAPE(1), dev));   /* the failed calls drew nothing */
        lam_manual_seed(9);
        assert_true(r == (float)lam_item(lam_rand(LAM_SHAPE(1), dev)));
        expect_error(lam_pad(x, 3, (const int64_t[]){1, 1, 1}, 0), LAM_ERR_ARG, "lam_pad", "3 pads", "(2, 3, 8, 8)");
        lam_tensor *rm = lam_zeros(LAM_SHAPE(4), dev), *rv = lam_ones(LAM_SHAPE(4), dev);
        expect_error(lam_batch_norm(lam_rand(LAM_SHAPE(1, 4), dev), rm, rv, NULL, NULL, true, 0.1f, 1e-5f), LAM_ERR_SHAPE,
                     "lam_batch_norm", "more than 1 value per channel", "(1, 4)");
        expect_error(lam_batch_norm(x, rm, rv, NULL, NULL, true, 0.1f, 1e-5f), LAM_ERR_SHAPE, "lam_batch_norm",
                     "running_mean", "(2, 3, 8, 8)");
        assert_true(lam_item(lam_sum(rm)) == 0.0 && lam_item(lam_sum(rv)) == 4.0);
        assert_true(lam_item(lam_sum(x)) == before && !lam_grad(x) && !lam_grad(w));
        lam_scope_end();
    }
}

static int setup(void **state) {
    (void)state;
    ndevs = tu_devices(devs, TU_MAX_DEVICES);
    ref = ref_open(REF("cnn_ref.safetensors"));
    return ndevs > 0 && ref ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    ref_close(ref);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_reference),  cmocka_unit_test(test_pool2d_reference),
        cmocka_unit_test(test_adaptive_and_pad_reference), cmocka_unit_test(test_batch_norm_reference),
        cmocka_unit_test(test_max_pool_nan),      cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
