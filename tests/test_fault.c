/* Fault injection (a LAMINA_FAULT_INJECTION build, see src/core/fault.h; run by ci/fault.sh
 * under ASan and UBSan): the MLP 784-256-10 takes 3 SGD steps with momentum while the N-th
 * allocation or OpenCL call fails, for every N the 3 steps make. At every point:
 *   - an error is reported, or the 3 steps give exactly the parameters of a clean run
 *     (failures that are handled, e.g. a pool that cannot cache a buffer, change nothing);
 *   - no crash, nothing leaked (live tensors come back to where they were; ASan at exit);
 *   - the parameters are readable and finite, and the next step succeeds.
 * LAMINA_FAULT_STRIDE=k tests every k-th point only (to sample long sweeps). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define LAM_FAULT_NO_MACROS   /* the declarations only: this test allocates for real */
#include "core/fault.h"
#include "test_util.h"

enum { BATCH = 16, IN = 784, HID = 256, OUT = 10, STEPS = 3, NPARAM = 4 };
static float images[BATCH * IN];
static int64_t labels[BATCH];

/* One training step; false if any call reported an error. */
static bool step(lam_module *net, lam_optim *o, lam_device *d) {
    lam_scope_begin();
    lam_optim_zero_grad(o);
    lam_tensor *x = lam_from_data(images, LAM_F32, LAM_SHAPE(BATCH, IN), d);
    lam_tensor *y = lam_from_data(labels, LAM_I64, LAM_SHAPE(BATCH), d);
    lam_tensor *loss = lam_cross_entropy(lam_forward(net, x), y);
    lam_status st = lam_backward(loss);
    if (st == LAM_OK) st = lam_optim_step(o);
    double v = lam_item(loss);
    bool ok = st == LAM_OK && isfinite(v) && lam_scope_end() == LAM_OK;
    if (!ok) lam_scope_end();
    return ok;
}

/* The parameters as host copies (params[NPARAM] of malloc'd floats); false if unreadable. */
static bool read_params(lam_module *net, float **out) {
    lam_named_tensor p[NPARAM];
    if (lam_named_parameters(net, p, NPARAM) != NPARAM) return false;
    bool ok = true;
    for (int i = 0; i < NPARAM; ++i) {
        int64_t n = lam_numel(p[i].tensor);
        out[i] = malloc((size_t)n * sizeof **out);
        ok = ok && lam_read(p[i].tensor, out[i], (size_t)n * sizeof **out) == LAM_OK;
        for (int64_t k = 0; ok && k < n; ++k) ok = isfinite(out[i][k]);
    }
    return ok;
}

static void free_params(float **p) {
    for (int i = 0; i < NPARAM; ++i) free(p[i]);
}

static bool lazy;   /* the second sweep: LazyLinear layers that materialize in the first step */

static lam_module *model(lam_device *d, lam_optim **o) {
    lam_manual_seed(3);
    lam_module *net = lazy ? lam_nn_sequential(3, lam_nn_lazy_linear(HID), lam_nn_relu(), lam_nn_lazy_linear(OUT))
                           : lam_nn_sequential(3, lam_nn_linear(IN, HID), lam_nn_relu(), lam_nn_linear(HID, OUT));
    assert_non_null(net);
    assert_ok(lam_module_to(net, d));
    *o = lam_sgd(net, (lam_sgd_options){.lr = 0.05f, .momentum = 0.9f});
    assert_non_null(*o);
    return net;
}

static bool same_params(float **a, float **b) {
    static const int64_t sizes[NPARAM] = {HID * IN, HID, OUT * HID, OUT};
    for (int i = 0; i < NPARAM; ++i)
        if (memcmp(a[i], b[i], (size_t)sizes[i] * sizeof(float)) != 0) return false;
    return true;
}

static void sweep(lam_device *d) {
    lam_optim *o;
    float *clean[NPARAM];
    /* a clean run: the expected parameters, and the number of counted calls 3 steps make */
    lam_module *net = model(d, &o);
    for (int s = 0; s < STEPS; ++s) assert_true(step(net, o, d));   /* compiles kernels, fills pools */
    lam_optim_free(o);
    lam_module_free(net);
    net = model(d, &o);
    int64_t before = lam_fault_count();
    for (int s = 0; s < STEPS; ++s) assert_true(step(net, o, d));
    int64_t points = lam_fault_count() - before;
    assert_true(read_params(net, clean));
    lam_optim_free(o);
    lam_module_free(net);
    const char *env = getenv("LAMINA_FAULT_STRIDE");
    int64_t stride = env && atoll(env) > 0 ? atoll(env) : 1, tested = 0, errors = 0, handled = 0;
    int64_t live = lam_live_tensors();
    for (int64_t n = 1; n <= points; n += stride, ++tested) {
        net = model(d, &o);
        lam_fault_arm(n);
        bool ok = true;
        for (int s = 0; s < STEPS; ++s) ok = step(net, o, d) && ok;
        bool fired = lam_fault_fired();
        lam_fault_arm(0);
        float *got[NPARAM] = {NULL};
        bool still_lazy = lam_named_parameters(net, NULL, 0) < NPARAM;   /* its materialization failed */
        if (still_lazy && ok) fail_msg("%s: point %lld: a layer stayed lazy without an error", lam_device_spec(d), (long long)n);
        if (!still_lazy && !read_params(net, got))
            fail_msg("%s: point %lld: parameters unreadable or not finite", lam_device_spec(d), (long long)n);
        if (ok && fired && !same_params(got, clean))
            fail_msg("%s: point %lld failed silently: no error, and the parameters differ from a clean run",
                     lam_device_spec(d), (long long)n);
        errors += !ok;
        handled += ok && fired;
        free_params(got);
        lam_clear_error();
        if (!step(net, o, d)) fail_msg("%s: point %lld: the next step failed: %s", lam_device_spec(d), (long long)n, lam_last_error());
        lam_optim_free(o);
        lam_module_free(net);
        if (lam_live_tensors() != live)
            fail_msg("%s: point %lld: %lld tensors leaked", lam_device_spec(d), (long long)n,
                     (long long)(lam_live_tensors() - live));
    }
    print_message("%s%s: %lld calls in 3 steps, %lld points tested: %lld reported an error, %lld were handled "
                  "with the exact result\n", lam_device_spec(d), lazy ? " (lazy layers)" : "", (long long)points, (long long)tested,
                  (long long)errors, (long long)handled);
    free_params(clean);
}

static void test_sweep(void **state) {
    (void)state;
    lam_device *devs[TU_MAX_DEVICES];
    int nd = tu_devices(devs, TU_MAX_DEVICES);
    for (int i = 0; i < BATCH * IN; ++i) images[i] = (float)((i * 37) % 101) / 101.0f;
    for (int i = 0; i < BATCH; ++i) labels[i] = i % OUT;
    for (int k = 0; k < nd; ++k) sweep(devs[k]);
}

/* The same with lazy layers: a failure while one materializes leaves it lazy, and the next
 * step materializes it. */
static void test_sweep_lazy(void **state) {
    lazy = true;
    test_sweep(state);
    lazy = false;
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sweep), cmocka_unit_test(test_sweep_lazy)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
