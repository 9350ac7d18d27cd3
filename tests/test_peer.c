/* Devices of one OpenCL platform share a context, and copies between them stay on the
 * devices. Run by ctest with POCL_DEVICES="pthread pthread" (two POCL devices of one
 * platform; skipped, 77, on a machine without two POCL devices):
 * - lam_to, lam_copy_ and lam_module_to between them give the right values and move no byte
 *   to or from host memory (lam_device_stats of both devices);
 * - the order of the two queues: a copy sees every write queued before it on the source, and
 *   a source buffer freed and reused at once cannot change a copy made before;
 * - views, integer tensors, and copies to cpu and back stay correct (through the host). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

static lam_device *dev0, *dev1;

static int setup(void **state) {
    (void)state;
    dev0 = lam_device_get("opencl:portable:0");
    dev1 = lam_device_get("opencl:portable:1");
    lam_clear_error();
    return 0;
}

/* Bytes the two devices moved to or from host memory so far. */
static uint64_t host_bytes(void) {
    lam_queue_stats a, b;
    if (lam_device_stats(dev0, &a) != LAM_OK || lam_device_stats(dev1, &b) != LAM_OK) return UINT64_MAX;
    return a.bytes_to_host + a.bytes_to_device + b.bytes_to_host + b.bytes_to_device;
}

static double *expected(int64_t n, double scale) {
    double *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; ++i) v[i] = scale * (double)(i % 1000) - 7.0;
    return v;
}

/* A large tensor made on dev0 by queued kernels, copied at once: the copy waits for them. */
static void copy_waits_for_the_source(void **state) {
    (void)state;
    const int64_t n = 1 << 22;
    lam_scope_begin();
    double *want = expected(n, 0.5);
    lam_tensor *base = tu_from_doubles(want, 1, (int64_t[]){n}, dev0);
    assert_ok(lam_device_synchronize(dev0));
    uint64_t before = host_bytes();
    /* queued on dev0: (base * 2 + 14) / 2 - 7 = base, several kernels deep */
    lam_tensor *t = lam_add_scalar(lam_div_scalar(lam_add_scalar(lam_mul_scalar(base, 2.0f), 14.0f), 2.0f), -7.0f);
    lam_tensor *on1 = lam_to(t, dev1);
    assert_non_null(on1);
    assert_ptr_equal(lam_tensor_device(on1), dev1);
    lam_tensor *doubled = lam_mul_scalar(on1, 2.0f);   /* used on dev1 without a host round trip */
    assert_ok(lam_device_synchronize(dev1));
    assert_true(host_bytes() == before);   /* not one byte through the host */
    double *got = tu_read(doubled);
    for (int64_t i = 0; i < n; ++i)
        if (got[i] != 2.0 * want[i]) fail_msg("element %lld: %g, not %g", (long long)i, got[i], 2.0 * want[i]);
    free(got);
    free(want);
    lam_scope_end();
}

/* The source is freed right after the copy and its buffer reused by new work on dev0: the
 * copy (on dev1's queue) still holds the old values. */
static void freed_source_cannot_change_the_copy(void **state) {
    (void)state;
    const int64_t n = 1 << 22;
    double *want = expected(n, 1.0);
    for (int round = 0; round < 5; ++round) {
        lam_scope_begin();
        lam_tensor *copy = NULL;
        lam_scope_begin();
        lam_tensor *src = lam_mul_scalar(tu_from_doubles(want, 1, (int64_t[]){n}, dev0), 1.0f);
        copy = lam_keep(lam_to(src, dev1));
        lam_scope_end();   /* src's buffer goes back to dev0's pool */
        for (int k = 0; k < 4; ++k) assert_ok(lam_fill_(lam_empty(LAM_F32, 1, (int64_t[]){n}, dev0), -1.0f));
        double *got = tu_read(copy);
        for (int64_t i = 0; i < n; ++i)
            if (got[i] != want[i]) fail_msg("round %d, element %lld: %g, not %g", round, (long long)i, got[i], want[i]);
        free(got);
        lam_release(copy);
        lam_scope_end();
    }
    free(want);
}

/* Views are made contiguous on the source device first; integer tensors keep their values. */
static void views_and_integers(void **state) {
    (void)state;
    lam_scope_begin();
    double v[12];
    for (int i = 0; i < 12; ++i) v[i] = i;
    lam_tensor *m = tu_from_doubles(v, 2, (int64_t[]){3, 4}, dev0);
    int64_t lab[5] = {4, 0, 3, 1, 2};
    lam_tensor *l0 = lam_from_data(lab, LAM_I64, 1, (int64_t[]){5}, dev0);
    assert_ok(lam_device_synchronize(dev0));
    uint64_t before = host_bytes();
    lam_tensor *t = lam_to(lam_transpose(m, 0, 1), dev1);   /* (4, 3) */
    lam_tensor *s = lam_to(lam_slice(m, 1, 1, 3, 1), dev1);  /* columns 1, 2 */
    lam_tensor *l1 = lam_to(l0, dev1);
    assert_ok(lam_device_synchronize(dev1));
    assert_true(host_bytes() == before);
    double *gt = tu_read(t), *gs = tu_read(s), *gl = tu_read(l1);
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 3; ++c) assert_true(gt[r * 3 + c] == v[c * 4 + r]);
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 2; ++c) assert_true(gs[r * 2 + c] == v[r * 4 + 1 + c]);
    for (int i = 0; i < 5; ++i) assert_true(gl[i] == (double)lab[i]);
    /* the copied labels pass an index check without a host wait, and a bad one still fails */
    lam_tensor *logits = lam_zeros(LAM_SHAPE(5, 5), dev1);
    assert_non_null(lam_cross_entropy(logits, l1));
    assert_null(lam_cross_entropy(lam_zeros(LAM_SHAPE(5, 4), dev1), l1));
    free(gt);
    free(gs);
    free(gl);
    lam_scope_end();
}

/* A model moves between the two devices and back with no byte through the host, and again
 * through cpu (where the host is the way) with the same values. */
static void module_moves_without_the_host(void **state) {
    (void)state;
    lam_manual_seed(3);
    lam_module *net = lam_nn_sequential(3, lam_nn_linear(64, 128), lam_nn_relu(), lam_nn_linear(128, 10));
    assert_ok(lam_module_to(net, dev0));
    lam_named_tensor p[4];
    assert_int_equal(lam_named_parameters(net, p, 4), 4);
    double *want[4];
    for (int k = 0; k < 4; ++k) want[k] = tu_read(p[k].tensor);
    lam_scope_begin();   /* gradients move too */
    assert_ok(lam_backward(lam_sum(lam_forward(net, lam_ones(LAM_SHAPE(2, 64), dev0)))));
    lam_scope_end();
    double *grad0 = tu_read(lam_grad(p[0].tensor));
    assert_ok(lam_device_synchronize(dev0));
    uint64_t before = host_bytes();
    assert_ok(lam_module_to(net, dev1));
    assert_ok(lam_module_to(net, dev0));
    assert_ok(lam_module_to(net, dev1));
    assert_ok(lam_device_synchronize(dev0));
    assert_ok(lam_device_synchronize(dev1));
    assert_true(host_bytes() == before);
    assert_ptr_equal(lam_module_device(net), dev1);
    assert_ok(lam_module_to(net, lam_device_get("cpu")));   /* through the host: counted */
    assert_true(host_bytes() > before);
    assert_ok(lam_module_to(net, dev0));
    for (int k = 0; k < 4; ++k) {
        double *got = tu_read(p[k].tensor);
        assert_memory_equal(got, want[k], (size_t)lam_numel(p[k].tensor) * sizeof *got);
        free(got);
        free(want[k]);
    }
    double *grad = tu_read(lam_grad(p[0].tensor));
    assert_memory_equal(grad, grad0, (size_t)lam_numel(p[0].tensor) * sizeof *grad);
    free(grad);
    free(grad0);
    lam_module_free(net);
}

int main(void) {
    if (!lam_device_get("opencl:portable:0") || !lam_device_get("opencl:portable:1")) {
        printf("SKIP: two POCL devices are needed (POCL_DEVICES=\"pthread pthread\")\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copy_waits_for_the_source),
        cmocka_unit_test(freed_source_cannot_change_the_copy),
        cmocka_unit_test(views_and_integers),
        cmocka_unit_test(module_moves_without_the_host),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
