/* The asynchronous queue: where the host waits, and index checks that add no wait.
 *
 * Sets LAMINA_CL_ASYNC=1 (the default) before any device opens, so an environment's =0
 * cannot turn the test into a no-op. lam_device_stats counts every blocking read, clFinish
 * and clWaitForEvents; a training step must wait once, where it reads the loss. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

static lam_device *devs[TU_MAX_DEVICES];
static int ndevs;

static lam_queue_stats stats_of(lam_device *d) {
    lam_queue_stats s;
    assert_ok(lam_device_stats(d, &s));
    return s;
}

static bool is_cpu(lam_device *d) { return strcmp(lam_device_spec(d), "cpu") == 0; }

/* The message of the last error contains every one of the given strings. */
static void expect_error(lam_status want, const char *a, const char *b, const char *c) {
    const char *msg = lam_last_error();
    if (lam_last_status() != want) fail_msg("status %s, want %s: %s", lam_status_name(lam_last_status()), lam_status_name(want), msg);
    const char *parts[] = {a, b, c};
    for (int i = 0; i < 3; ++i)
        if (parts[i] && !strstr(msg, parts[i])) fail_msg("error \"%s\" does not mention \"%s\"", msg, parts[i]);
    lam_clear_error();
}

/* ---- training step: one wait, at lam_item ------------------------------------------------- */

enum { BATCH = 128, IN = 784, HIDDEN = 256, CLASSES = 10, WARMUP = 3, STEPS = 4 };

static double step(lam_module *net, lam_optim *opt, const float *x, const int64_t *y, lam_device *d) {
    lam_scope_begin();
    lam_optim_zero_grad(opt);
    lam_tensor *xb = lam_from_data(x, LAM_F32, LAM_SHAPE(BATCH, IN), d);
    lam_tensor *yb = lam_from_data(y, LAM_I64, LAM_SHAPE(BATCH), d);
    lam_tensor *loss = lam_cross_entropy(lam_forward(net, xb), yb);
    assert_ok(lam_backward(loss));
    assert_ok(lam_optim_step(opt));
    double v = lam_item(loss);
    lam_scope_end();
    return v;
}

static void test_train_step_waits_once(void **state) {
    (void)state;
    float *x = malloc(sizeof(float) * BATCH * IN);
    int64_t y[BATCH];
    double *xd = malloc(sizeof(double) * BATCH * IN);
    tu_fill_uniform(xd, BATCH * IN, 0, 1, 7);
    for (int i = 0; i < BATCH * IN; ++i) x[i] = (float)xd[i];
    for (int i = 0; i < BATCH; ++i) y[i] = (i * 7 + 3) % CLASSES;
    for (int k = 0; k < ndevs; ++k) {
        lam_device *d = devs[k];
        lam_manual_seed(1);
        lam_module *net = lam_nn_sequential(3, lam_nn_linear(IN, HIDDEN), lam_nn_relu(), lam_nn_linear(HIDDEN, CLASSES));
        assert_non_null(net);
        assert_ok(lam_module_to(net, d));
        lam_optim *opt = lam_sgd(net, (lam_sgd_options){.lr = 0.1f});
        assert_non_null(opt);
        double first = 0, last = 0;
        for (int i = 0; i < WARMUP; ++i) last = step(net, opt, x, y, d);   /* first launches wait once each */
        first = last;
        lam_queue_stats a = stats_of(d);
        for (int i = 0; i < STEPS; ++i) last = step(net, opt, x, y, d);
        lam_queue_stats b = stats_of(d);
        print_message("%s: %d steps: %llu waits, %llu launches, %llu bytes to device, %llu to host\n",
                      lam_device_spec(d), STEPS, (unsigned long long)(b.host_waits - a.host_waits),
                      (unsigned long long)(b.launches - a.launches), (unsigned long long)(b.bytes_to_device - a.bytes_to_device),
                      (unsigned long long)(b.bytes_to_host - a.bytes_to_host));
        assert_true(last < first);   /* it trains */
        if (is_cpu(d)) {   /* nothing queued, nothing moved */
            assert_true(b.host_waits == 0 && b.launches == 0 && b.bytes_to_device == 0 && b.bytes_to_host == 0);
        } else {
            assert_int_equal(b.host_waits - a.host_waits, STEPS);          /* lam_item(loss), nothing else */
            assert_int_equal(b.bytes_to_host - a.bytes_to_host, STEPS * sizeof(float));
            uint64_t batch_bytes = sizeof(float) * BATCH * IN + sizeof y;
            assert_true(b.bytes_to_device - a.bytes_to_device >= STEPS * batch_bytes);
            assert_true(b.bytes_to_device - a.bytes_to_device <= STEPS * (batch_bytes + 1024));
            assert_true(b.launches - a.launches >= STEPS * 10);   /* 2 matmuls + backward + step, at least */
        }
        lam_optim_free(opt);
        lam_module_free(net);
    }
    free(xd);
    free(x);
}

/* ---- labels from host data: checked at once, no wait --------------------------------------- */

static void test_labels_from_host(void **state) {
    (void)state;
    for (int k = 0; k < ndevs; ++k) {
        lam_device *d = devs[k];
        lam_scope_begin();
        lam_tensor *logits = lam_rand(LAM_SHAPE(4, CLASSES), d);
        int64_t high[4] = {1, 2, 10, 3};
        int32_t low[4] = {0, -1, 9, 9};
        int64_t good[4] = {0, 9, 5, 1};
        /* warm-up: a lazy-compile device (POCL) waits at the first launch of each kernel shape */
        assert_true(lam_item(lam_cross_entropy(logits, lam_from_data(good, LAM_I64, LAM_SHAPE(4), d))) > 0);
        lam_queue_stats a = stats_of(d);
        assert_null(lam_cross_entropy(logits, lam_from_data(high, LAM_I64, LAM_SHAPE(4), d)));
        expect_error(LAM_ERR_ARG, "lam_cross_entropy: index 10 at position 2", "[0, 10)", NULL);
        assert_null(lam_cross_entropy(logits, lam_from_data(low, LAM_I32, LAM_SHAPE(4), d)));
        expect_error(LAM_ERR_ARG, "lam_cross_entropy: index -1 at position 1", "[0, 10)", NULL);
        /* a valid tensor made bad by lam_write, and good again */
        lam_tensor *labels = lam_from_data(good, LAM_I64, LAM_SHAPE(4), d);
        assert_non_null(lam_cross_entropy(logits, labels));
        assert_ok(lam_write(labels, high, sizeof high));
        assert_null(lam_cross_entropy(logits, labels));
        expect_error(LAM_ERR_ARG, "index 10 at position 2", NULL, NULL);
        int64_t one = 4;   /* a part rewritten: the union of what the host wrote still decides */
        assert_ok(lam_write(labels, good, sizeof good));
        assert_ok(lam_write(lam_slice(labels, 0, 2, 3, 1), &one, sizeof one));
        lam_tensor *loss = lam_cross_entropy(logits, labels);
        assert_non_null(loss);
        lam_queue_stats b = stats_of(d);
        assert_int_equal(b.host_waits - a.host_waits, 0);   /* checks and writes never waited */
        assert_true(lam_item(loss) > 0);
        lam_scope_end();
    }
}

/* ---- labels computed on the device: checked there, reported by the next read -------------- */

/* The argmax of rows rows of 12 scores, on d: 3, bad_col, 0, 7, then 1, bad_col, 2, 4 if
 * rows is 8 (bad_col 11 is no class of 10). */
static lam_tensor *argmax_rows(lam_device *d, int rows, int bad_col) {
    float v[8 * 12] = {0};
    const int at[8] = {3, bad_col, 0, 7, 1, bad_col, 2, 4};
    for (int r = 0; r < rows; ++r) v[r * 12 + at[r]] = 1.0f;
    lam_tensor *scores = lam_from_data(v, LAM_F32, LAM_SHAPE(rows, 12), d);
    return lam_argmax(lam_mul_scalar(scores, 2.0f), 1, false);   /* computed on d */
}

static lam_tensor *argmax_labels(lam_device *d, int bad_col) { return argmax_rows(d, 4, bad_col); }

static void test_labels_from_device(void **state) {
    (void)state;
    for (int k = 0; k < ndevs; ++k) {
        lam_device *d = devs[k];
        lam_scope_begin();
        lam_tensor *logits = lam_rand(LAM_SHAPE(4, CLASSES), d);
        /* warm-up, as above; good labels made on the device pass their check */
        assert_true(lam_item(lam_cross_entropy(logits, argmax_labels(d, 9))) > 0);
        lam_queue_stats a = stats_of(d);
        lam_tensor *labels = argmax_labels(d, 11);
        lam_tensor *loss = lam_cross_entropy(logits, labels);
        lam_queue_stats b = stats_of(d);
        if (is_cpu(d)) {   /* the host checks where the values are: at once */
            assert_null(loss);
            expect_error(LAM_ERR_ARG, "lam_cross_entropy: index 11 at position 1", "[0, 10)", NULL);
            lam_scope_end();
            continue;
        }
        assert_non_null(loss);   /* not known yet: the check runs on the device */
        assert_int_equal(b.host_waits - a.host_waits, 0);
        assert_true(isnan(lam_item(loss)));
        expect_error(LAM_ERR_ARG, "lam_cross_entropy: index 11 at position 1", "[0, 10)", "found on the device");
        lam_queue_stats c = stats_of(d);
        assert_int_equal(c.host_waits - b.host_waits, 1);   /* the read itself, nothing more */
        /* reported once: the next read is clean */
        assert_true(lam_item(lam_cross_entropy(logits, argmax_labels(d, 9))) > 0);
        /* lam_copy_ of device values into host-written labels drops what the host knew */
        int64_t good[4] = {0, 1, 2, 3};
        lam_tensor *host = lam_from_data(good, LAM_I64, LAM_SHAPE(4), d);
        assert_ok(lam_copy_(host, argmax_labels(d, 10)));
        lam_tensor *late = lam_cross_entropy(logits, host);
        assert_non_null(late);
        assert_int_equal(lam_device_synchronize(d), LAM_ERR_ARG);   /* a synchronize reports it too */
        expect_error(LAM_ERR_ARG, "index 10 at position 1", NULL, NULL);
        assert_ok(lam_device_synchronize(d));
        /* i32 labels made on the device, and a strided view of them (checked through a copy) */
        lam_tensor *i32 = lam_to_dtype(argmax_labels(d, 11), LAM_I32);
        assert_non_null(lam_cross_entropy(logits, i32));
        assert_int_equal(lam_device_synchronize(d), LAM_ERR_ARG);
        expect_error(LAM_ERR_ARG, "lam_cross_entropy: index 11 at position 1", NULL, NULL);
        lam_tensor *odd = lam_slice(argmax_rows(d, 8, 11), 0, 1, 8, 2);   /* 11, 7, 11, 4 */
        assert_false(lam_is_contiguous(odd));
        assert_non_null(lam_cross_entropy(logits, odd));
        assert_int_equal(lam_device_synchronize(d), LAM_ERR_ARG);
        expect_error(LAM_ERR_ARG, "index 11 at position", NULL, NULL);
        lam_scope_end();
    }
}

int main(void) {
    setenv("LAMINA_CL_ASYNC", "1", 1);   /* before any device opens */
    ndevs = tu_devices(devs, TU_MAX_DEVICES);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_step_waits_once),
        cmocka_unit_test(test_labels_from_host),
        cmocka_unit_test(test_labels_from_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
