/* Fault injection (a LAMINA_FAULT_INJECTION build, see src/core/fault.h; run by ci/fault.sh
 * under ASan and UBSan): a model takes 3 SGD steps with momentum while the N-th allocation or
 * OpenCL call fails, for every N the 3 steps make (the MLP 784-256-10), or for an even sample
 * of them (the ResNet of examples/cnn_models.h: convolutions, batch norm, pooling). At every
 * point:
 *   - an error is reported, or the 3 steps give exactly the parameters of a clean run
 *     (failures that are handled, e.g. a pool that cannot cache a buffer, change nothing);
 *   - no crash, nothing leaked (live tensors come back to where they were; ASan at exit);
 *   - the parameters are readable and finite, and the next step succeeds.
 * The MLP runs twice, the second time with lazy layers that materialize in the first step.
 * LAMINA_FAULT_STRIDE=k tests every k-th point of the MLPs only (to sample long sweeps);
 * LAMINA_FAULT_RESNET_POINTS=n samples about n points of the ResNet's steps (default 16). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define LAM_FAULT_NO_MACROS   /* the declarations only: this test allocates for real */
#include "cnn_models.h"
#include "core/fault.h"
#include "test_util.h"

enum { BATCH = 16, IN = 784, HID = 256, OUT = 10, STEPS = 3, MAX_PARAMS = 64 };
static float images[BATCH * IN];
static int64_t labels[BATCH];

/* What a sweep trains: a model and its optimizer, and the batch shape of its steps. lazy:
 * its layers materialize in the first step, and a failure there may leave one lazy. */
typedef struct {
    const char *name;
    lam_module *(*make)(void);
    int batch_ndim;
    int64_t batch_shape[4];
    bool lazy;
} workload;

static lam_module *mlp_new(void) {
    return lam_nn_sequential(3, lam_nn_linear(IN, HID), lam_nn_relu(), lam_nn_linear(HID, OUT));
}

static lam_module *lazy_mlp_new(void) {
    return lam_nn_sequential(3, lam_nn_lazy_linear(HID), lam_nn_relu(), lam_nn_lazy_linear(OUT));
}

static const workload mlp = {"MLP", mlp_new, 2, {BATCH, IN}, false};
static const workload lazy_mlp = {"MLP (lazy layers)", lazy_mlp_new, 2, {BATCH, IN}, true};
static const workload resnet_steps = {"ResNet", resnet_new, 4, {4, 1, 28, 28}, false};   /* 4 images of the 16 */

/* One training step; false if any call reported an error. */
static bool step(const workload *w, lam_module *net, lam_optim *o, lam_device *d) {
    lam_scope_begin();
    lam_optim_zero_grad(o);
    lam_tensor *x = lam_from_data(images, LAM_F32, w->batch_ndim, w->batch_shape, d);
    lam_tensor *y = lam_from_data(labels, LAM_I64, LAM_SHAPE(w->batch_shape[0]), d);
    lam_tensor *loss = lam_cross_entropy(lam_forward(net, x), y);
    lam_status st = lam_backward(loss);
    if (st == LAM_OK) st = lam_optim_step(o);
    double v = lam_item(loss);
    bool ok = st == LAM_OK && isfinite(v) && lam_scope_end() == LAM_OK;
    if (!ok) lam_scope_end();
    return ok;
}

/* The parameters as host copies (out[*n] of malloc'd floats); false if unreadable. */
static bool read_params(lam_module *net, float **out, int64_t *sizes, int *n) {
    lam_named_tensor p[MAX_PARAMS];
    *n = lam_named_parameters(net, p, MAX_PARAMS);
    bool ok = *n > 0 && *n <= MAX_PARAMS;
    for (int i = 0; i < *n && i < MAX_PARAMS; ++i) {
        sizes[i] = lam_numel(p[i].tensor);
        out[i] = malloc((size_t)sizes[i] * sizeof **out);
        ok = ok && lam_read(p[i].tensor, out[i], (size_t)sizes[i] * sizeof **out) == LAM_OK;
        for (int64_t k = 0; ok && k < sizes[i]; ++k) ok = isfinite(out[i][k]);
    }
    return ok;
}

static void free_params(float **p, int n) {
    for (int i = 0; i < n && i < MAX_PARAMS; ++i) free(p[i]);
}

static lam_module *model(const workload *w, lam_device *d, lam_optim **o) {
    lam_manual_seed(3);
    lam_module *net = w->make();
    assert_non_null(net);
    assert_ok(lam_module_to(net, d));
    *o = lam_sgd(net, (lam_sgd_options){.lr = 0.05f, .momentum = 0.9f});
    assert_non_null(*o);
    return net;
}

static bool same_params(float **a, float **b, const int64_t *sizes, int n) {
    for (int i = 0; i < n; ++i)
        if (memcmp(a[i], b[i], (size_t)sizes[i] * sizeof(float)) != 0) return false;
    return true;
}

/* Fails the n-th counted call of 3 steps, for n = first, first + stride, ... <= the count. */
static void sweep(const workload *w, lam_device *d, int64_t stride, int64_t first) {
    lam_optim *o;
    float *clean[MAX_PARAMS];
    int64_t sizes[MAX_PARAMS];
    int np = 0;
    /* a clean run: the expected parameters, and the number of counted calls 3 steps make */
    lam_module *net = model(w, d, &o);
    for (int s = 0; s < STEPS; ++s) assert_true(step(w, net, o, d));   /* compiles kernels, fills pools */
    lam_optim_free(o);
    lam_module_free(net);
    net = model(w, d, &o);
    int64_t before = lam_fault_count();
    for (int s = 0; s < STEPS; ++s) assert_true(step(w, net, o, d));
    int64_t points = lam_fault_count() - before;
    assert_true(read_params(net, clean, sizes, &np));
    lam_optim_free(o);
    lam_module_free(net);
    if (stride <= 0) stride = points / -stride > 1 ? points / -stride : 1;   /* -k: about k points */
    int64_t tested = 0, errors = 0, handled = 0;
    int64_t live = lam_live_tensors();
    for (int64_t n = first; n <= points; n += stride, ++tested) {
        net = model(w, d, &o);
        lam_fault_arm(n);
        bool ok = true;
        for (int s = 0; s < STEPS; ++s) ok = step(w, net, o, d) && ok;
        bool fired = lam_fault_fired();
        lam_fault_arm(0);
        float *got[MAX_PARAMS] = {NULL};
        int ng = 0;
        bool still_lazy = w->lazy && lam_named_parameters(net, NULL, 0) < np;   /* its materialization failed */
        if (still_lazy && ok)
            fail_msg("%s on %s: point %lld: a layer stayed lazy without an error", w->name, lam_device_spec(d), (long long)n);
        if (!still_lazy && !read_params(net, got, sizes, &ng))
            fail_msg("%s on %s: point %lld: parameters unreadable or not finite", w->name, lam_device_spec(d), (long long)n);
        if (ok && fired && !same_params(got, clean, sizes, np))
            fail_msg("%s on %s: point %lld failed silently: no error, and the parameters differ from a clean run",
                     w->name, lam_device_spec(d), (long long)n);
        errors += !ok;
        handled += ok && fired;
        free_params(got, ng);
        lam_clear_error();
        if (!step(w, net, o, d))
            fail_msg("%s on %s: point %lld: the next step failed: %s", w->name, lam_device_spec(d), (long long)n, lam_last_error());
        lam_optim_free(o);
        lam_module_free(net);
        if (lam_live_tensors() != live)
            fail_msg("%s on %s: point %lld: %lld tensors leaked", w->name, lam_device_spec(d), (long long)n,
                     (long long)(lam_live_tensors() - live));
    }
    print_message("%s on %s: %lld calls in 3 steps, %lld points tested: %lld reported an error, %lld were handled "
                  "with the exact result\n", w->name, lam_device_spec(d), (long long)points, (long long)tested,
                  (long long)errors, (long long)handled);
    free_params(clean, np);
}

static void fill_batch(void) {
    for (int i = 0; i < BATCH * IN; ++i) images[i] = (float)((i * 37) % 101) / 101.0f;
    for (int i = 0; i < BATCH; ++i) labels[i] = i % OUT;
}

static void sweep_every(const workload *w) {
    lam_device *devs[TU_MAX_DEVICES];
    int nd = tu_devices(devs, TU_MAX_DEVICES);
    const char *env = getenv("LAMINA_FAULT_STRIDE");
    int64_t stride = env && atoll(env) > 0 ? atoll(env) : 1;
    fill_batch();
    for (int k = 0; k < nd; ++k) sweep(w, devs[k], stride, 1);
}

static void test_sweep(void **state) {
    (void)state;
    sweep_every(&mlp);
}

/* The same with lazy layers: a failure while one materializes leaves it lazy, and the next
 * step materializes it. */
static void test_sweep_lazy(void **state) {
    (void)state;
    sweep_every(&lazy_mlp);
}

/* The ResNet's steps make thousands of calls: an even sample of about
 * LAMINA_FAULT_RESNET_POINTS of them (16 unless set), from the 7th on. */
static void test_sweep_resnet(void **state) {
    (void)state;
    lam_device *devs[TU_MAX_DEVICES];
    int nd = tu_devices(devs, TU_MAX_DEVICES);
    const char *env = getenv("LAMINA_FAULT_RESNET_POINTS");
    int64_t points = env && atoll(env) > 0 ? atoll(env) : 16;
    fill_batch();
    for (int k = 0; k < nd; ++k) sweep(&resnet_steps, devs[k], -points, 7);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sweep), cmocka_unit_test(test_sweep_lazy),
                                       cmocka_unit_test(test_sweep_resnet)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
