/* Autograd: composite functions match PyTorch's gradients on every device; sharing, control
 * flow, errors, and flat memory. (Every op's gradcheck is in the op harness, test_ops.) */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

/* the devices under test (LAMINA_TEST_DEVICES, else all: test_util.h) */
static lam_device *devs[TU_MAX_DEVICES];
static int ndevs;
#include <lamina.h>

#include "reference_file.h"

#ifndef LAMINA_TEST_REFERENCE_DIR
#define LAMINA_TEST_REFERENCE_DIR "tests/reference"
#endif

/* ---- composite functions against PyTorch -------------------------------------------------- */

typedef lam_tensor *(*composite_fn)(ref_file *r, lam_device *d, lam_tensor **in, const char **names, int *n);

static lam_tensor *ld(ref_file *r, const char *fn, const char *in, lam_device *d) {
    char key[128];
    snprintf(key, sizeof key, "%s.in.%s", fn, in);
    lam_tensor *t = ref_tensor(r, key, d);
    return t && lam_tensor_dtype(t) == LAM_F32 ? lam_requires_grad(t, true) : t;
}

/* Normalized error ||a - b|| / ||b|| of two same-sized tensors. */
static double norm_err(lam_tensor *a, lam_tensor *b) {
    int64_t n = lam_numel(b);
    if (!a || lam_numel(a) != n) return INFINITY;
    float *x = malloc((size_t)n * 2 * sizeof *x), *y = x + n;
    lam_read(a, x, (size_t)n * sizeof *x);
    lam_read(b, y, (size_t)n * sizeof *y);
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; ++i) {
        num += (double)(x[i] - y[i]) * (x[i] - y[i]);
        den += (double)y[i] * y[i];
    }
    free(x);
    return sqrt(num) / (den > 0 ? sqrt(den) : 1.0);
}

static lam_tensor *linear(lam_tensor *x, lam_tensor *w, lam_tensor *b) { return lam_add(lam_matmul(x, lam_transpose(w, 0, 1)), b); }

static void check_composite(ref_file *r, const char *fn, lam_device *d) {
    const char *names[6] = {0};
    lam_tensor *in[6] = {0}, *y = NULL;
    int n = 0;
#define L(name) (names[n] = name, in[n++] = ld(r, fn, name, d))
    if (strcmp(fn, "mlp") == 0) {
        lam_tensor *x = L("x"), *w1 = L("w1"), *b1 = L("b1"), *w2 = L("w2"), *b2 = L("b2"), *lab = L("labels");
        y = lam_cross_entropy(linear(lam_relu(linear(x, w1, b1)), w2, b2), lab);
    } else if (strcmp(fn, "softmix") == 0) {
        lam_tensor *a = L("a"), *b = L("b");
        lam_tensor *mix = lam_tanh(lam_add(lam_sum_dim(a, 1, true), lam_sum_dim(b, 0, true)));
        lam_tensor *left = lam_sum(lam_mul(lam_softmax(lam_matmul(a, b), -1), mix));
        y = lam_add(left, lam_mean(lam_max_dim(lam_log_softmax(lam_gelu(a), 0), 1, false)));
    } else if (strcmp(fn, "mse") == 0) {
        lam_tensor *x = L("x"), *w = L("w"), *t = L("target");
        y = lam_mse_loss(lam_add(lam_mul(lam_sigmoid(x), w), lam_exp(lam_neg(lam_abs(x)))), t);
    } else {
        lam_tensor *a = L("a"), *b = L("b"), *c = L("c");
        lam_tensor *ab = lam_matmul(a, lam_transpose(b, -1, -2));
        y = lam_sum(lam_div(lam_sqrt(lam_add_scalar(lam_pow_scalar(ab, 2.0f), 1.0f)), lam_add_scalar(lam_exp(c), 1.0f)));
    }
#undef L
    assert_non_null(y);
    assert_int_equal(lam_backward(y), LAM_OK);
    char key[128];
    snprintf(key, sizeof key, "%s.out", fn);
    double e = norm_err(lam_reshape(y, LAM_SHAPE(1)), ref_tensor(r, key, d));
    if (e > 1e-5) print_error("%s on %s: output error %g\n", fn, lam_device_spec(d), e);
    assert_true(e <= 1e-5);
    for (int i = 0; i < n; ++i) {
        snprintf(key, sizeof key, "%s.grad.%s", fn, names[i]);
        lam_tensor *want = ref_tensor(r, key, d);
        if (!want) continue;   /* integer labels have no gradient */
        e = norm_err(lam_grad(in[i]), want);
        if (e > 1e-5) print_error("%s on %s: gradient of %s error %g\n", fn, lam_device_spec(d), names[i], e);
        assert_true(e <= 1e-5);
        lam_clear_grad(in[i]);
    }
}

static void test_matches_pytorch(void **state) {
    (void)state;
    ref_file *r = ref_open(LAMINA_TEST_REFERENCE_DIR "/autograd_ref.safetensors");
    assert_non_null(r);
    const char *fns[] = {"mlp", "softmix", "mse", "batched"};
    for (int d = 0; d < ndevs; ++d)
        for (size_t i = 0; i < sizeof fns / sizeof *fns; ++i) {
            lam_scope_begin();
            check_composite(r, fns[i], devs[d]);
            lam_scope_end();
        }
    ref_close(r);
}

/* ---- the chapter's behaviours -------------------------------------------------------------- */

/* f(w, x) = w * (w * x): the gradient of w is the sum of both uses, 2 w x. */
static void test_parameter_sharing(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d) {
        lam_scope_begin();
        lam_device *dev = devs[d];
        lam_tensor *w = lam_requires_grad(lam_full(3.0f, LAM_SHAPE(1), dev), true);
        lam_tensor *x = lam_full(2.0f, LAM_SHAPE(1), dev);
        assert_int_equal(lam_backward(lam_sum(lam_mul(w, lam_mul(w, x)))), LAM_OK);
        assert_float_equal(lam_item(lam_grad(w)), 12.0, 1e-6);
        /* and a matrix used twice: y = W (W x) */
        lam_tensor *W = lam_requires_grad(lam_randn(LAM_SHAPE(3, 3), dev), true);
        lam_tensor *v = lam_randn(LAM_SHAPE(3, 1), dev);
        lam_tensor *in[] = {W, lam_requires_grad(v, true)};
        assert_int_equal(lam_gradcheck(NULL, NULL, in, 2, 1e-2f, 1e-2f), LAM_ERR_ARG);   /* an error, not a crash */
        lam_clear_error();
        lam_scope_end();
    }
}

static lam_tensor *shared_twice(lam_tensor *const *in, int n, void *u) {
    (void)n;
    (void)u;
    return lam_matmul(in[0], lam_matmul(in[0], in[1]));
}

static void test_parameter_sharing_gradcheck(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d) {
        lam_scope_begin();
        lam_device *dev = devs[d];
        lam_tensor *in[] = {lam_requires_grad(lam_randn(LAM_SHAPE(3, 3), dev), true),
                            lam_requires_grad(lam_randn(LAM_SHAPE(3, 2), dev), true)};
        lam_status st = lam_gradcheck(shared_twice, NULL, in, 2, 1e-2f, 1e-2f);
        if (st != LAM_OK) print_error("%s\n", lam_last_error());
        assert_int_equal(st, LAM_OK);
        lam_scope_end();
    }
}

/* The chapter's while loop: halve x until sum |x| <= 1, then sum it. */
static lam_tensor *halve_until_small(lam_tensor *const *in, int n, void *u) {
    (void)n;
    int *halvings = u;
    lam_tensor *x = lam_mul_scalar(in[0], 1.0f);
    for (*halvings = 0; lam_item(lam_sum(lam_abs(x))) > 1.0; ++*halvings) x = lam_div_scalar(x, 2.0f);
    return lam_sum(x);
}

static void test_control_flow(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d) {
        lam_scope_begin();
        lam_device *dev = devs[d];
        const float v[4] = {3.0f, -5.0f, 2.5f, 7.25f};   /* sum |x| = 17.75: five halvings */
        lam_tensor *x = lam_requires_grad(lam_from_data(v, LAM_F32, LAM_SHAPE(4), dev), true);
        int halvings = 0;
        assert_int_equal(lam_gradcheck(halve_until_small, &halvings, &x, 1, 1e-3f, 1e-3f), LAM_OK);
        assert_int_equal(lam_backward(halve_until_small(&x, 1, &halvings)), LAM_OK);
        assert_int_equal(halvings, 5);
        float g[4];
        lam_read(lam_grad(x), g, sizeof g);
        for (int i = 0; i < 4; ++i) assert_float_equal(g[i], 1.0 / 32.0, 1e-7);
        lam_scope_end();
    }
}

static void test_errors(void **state) {
    (void)state;
    lam_scope_begin();
    lam_device *cpu = lam_device_get("cpu");
    lam_tensor *plain = lam_ones(LAM_SHAPE(2), cpu);
    assert_int_equal(lam_backward(lam_sum(plain)), LAM_ERR_STATE);
    assert_non_null(strstr(lam_last_error(), "does not require grad"));
    lam_tensor *w = lam_requires_grad(lam_ones(LAM_SHAPE(2), cpu), true);
    lam_tensor *y = lam_mul_scalar(w, 2.0f);
    assert_int_equal(lam_backward(y), LAM_ERR_SHAPE);          /* non-scalar, no seed */
    assert_non_null(strstr(lam_last_error(), "(2,)"));
    assert_null(lam_requires_grad(y, false));                  /* not a leaf */
    assert_int_equal(lam_last_status(), LAM_ERR_STATE);
    lam_tensor *loss = lam_sum(y);
    assert_int_equal(lam_backward(loss), LAM_OK);
    assert_int_equal(lam_backward(loss), LAM_ERR_STATE);       /* the graph was freed */
    assert_non_null(strstr(lam_last_error(), "freed"));
    assert_int_equal(lam_backward(lam_sum(y)), LAM_ERR_STATE);   /* y's history went with it */
    assert_int_equal(lam_backward_with(lam_mul(w, w), lam_ones(LAM_SHAPE(3), cpu)), LAM_ERR_SHAPE);
    assert_int_equal(lam_backward(NULL), LAM_ERR_SHAPE);       /* keeps the first error */
    lam_clear_error();
    assert_int_equal(lam_backward(NULL), LAM_ERR_ARG);
    lam_tensor *labels = lam_ones(LAM_SHAPE(2), cpu);
    assert_null(lam_requires_grad(lam_to_dtype(labels, LAM_I64), true));
    lam_clear_error();
    /* no_grad records nothing */
    bool was = lam_grad_enabled(false);
    assert_false(lam_tensor_requires_grad(lam_mul(w, w)));
    lam_grad_enabled(was);
    assert_true(lam_tensor_requires_grad(lam_mul(w, w)));
    assert_false(lam_tensor_requires_grad(lam_detach(lam_mul(w, w))));
    lam_scope_end();
}

/* 10,000 forward+backward steps inside scopes: no new device allocations, no live growth. */
static void test_memory_flat(void **state) {
    (void)state;
    const char *env = getenv("LAMINA_LOOP_ITERS");
    int iters = env ? atoi(env) : 10000;
    for (int d = 0; d < ndevs; ++d) {
        lam_device *dev = devs[d];
        lam_tensor *w = lam_keep(lam_requires_grad(lam_randn(LAM_SHAPE(16, 8), dev), true));
        lam_tensor *x = lam_keep(lam_randn(LAM_SHAPE(4, 16), dev));
        lam_pool_stats first = {0}, last = {0};
        int64_t live = 0;
        for (int i = 0; i < iters; ++i) {
            lam_scope_begin();
            lam_clear_grad(w);
            lam_tensor *loss = lam_mean(lam_tanh(lam_relu(lam_matmul(x, w))));   /* no lam_grad_enabled(false) */
            lam_backward(loss);
            lam_item(loss);
            lam_scope_end();
            if (i == 0) {
                lam_device_pool_stats(dev, &first);
                live = lam_live_tensors();
            }
        }
        lam_device_pool_stats(dev, &last);
        print_message("%s: %d steps; device allocations %llu after step 1, %llu at the end; in use %llu -> %llu bytes\n",
                      lam_device_spec(dev), iters, (unsigned long long)first.device_allocs,
                      (unsigned long long)last.device_allocs, (unsigned long long)first.in_use,
                      (unsigned long long)last.in_use);
        assert_int_equal(last.device_allocs, first.device_allocs);
        assert_int_equal(last.in_use, first.in_use);
        assert_int_equal(lam_live_tensors(), live);
        lam_release(w);
        lam_release(x);
    }
}

int main(void) {
    ndevs = tu_devices(devs, TU_MAX_DEVICES);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_pytorch),
        cmocka_unit_test(test_parameter_sharing),
        cmocka_unit_test(test_parameter_sharing_gradcheck),
        cmocka_unit_test(test_control_flow),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_memory_flat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
