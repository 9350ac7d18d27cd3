/* Optimizers: SGD (momentum, dampening, Nesterov, weight decay), Adam and AdamW against
 * PyTorch's values and a double-precision reference, on every device, through the fused
 * kernels and through the fallback written with ops; state that follows its parameters
 * across devices; save/load of the state. */
#define _POSIX_C_SOURCE 200809L   /* mkstemp */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lamina.h>

#include "backend/backend.h"
#include "optim/optim_impl.h"
#include "test_util.h"

/* torch.optim on p0 with the three gradients below (tests/test_optim.c's header script:
 * torch 2.x, float32). */
static const float p0[6] = {0.5f, -1.25f, 2.0f, 0.125f, -0.75f, 1.5f};
static const float ref_sgd_plain[6] = {0.474999994f, -1.245f, 1.95500004f, 0.150000006f, -0.814999998f, 1.54499996f};
static const float ref_sgd_momentum[6] = {0.460822225f, -1.22295344f, 1.9149009f, 0.182685211f, -0.858428717f, 1.58832383f};
static const float ref_sgd_nesterov[6] = {0.455688298f, -1.19764006f, 1.87935388f, 0.151171505f, -0.795425057f, 1.49998319f};
static const float ref_adam[6] = {0.475223541f, -1.23067915f, 1.97625911f, 0.135339051f, -0.761371136f, 1.50674617f};
static const float ref_adamw[6] = {0.479492635f, -1.23788559f, 1.97925508f, 0.134981081f, -0.761555791f, 1.50652075f};

static float grad_at(int step, int i) { return 0.1f * (float)(i + 1) * ((i + step) % 2 ? -1.0f : 1.0f) + 0.05f * (float)step; }

typedef struct {
    const char *name;
    lam_optim_kind kind;
    lam_sgd_options sgd;
    lam_adam_options adam;
    const float *torch;
} optim_case;

static const optim_case cases[] = {
    {"sgd_plain", LAM_OPTIM_SGD, {.lr = 0.1f}, {.lr = 0.0f}, ref_sgd_plain},
    {"sgd_momentum", LAM_OPTIM_SGD, {.lr = 0.1f, .momentum = 0.9f, .dampening = 0.1f, .weight_decay = 0.01f}, {.lr = 0.0f},
     ref_sgd_momentum},
    {"sgd_nesterov", LAM_OPTIM_SGD, {.lr = 0.05f, .momentum = 0.8f, .nesterov = true, .weight_decay = 0.1f}, {.lr = 0.0f},
     ref_sgd_nesterov},
    {"adam", LAM_OPTIM_ADAM, {.lr = 0.0f}, {.lr = 0.01f, .weight_decay = 0.1f}, ref_adam},
    {"adamw", LAM_OPTIM_ADAMW, {.lr = 0.0f}, {.lr = 0.01f, .beta1 = 0.8f, .beta2 = 0.99f, .eps = 1e-6f, .weight_decay = 0.1f},
     ref_adamw},
};
#define NCASES (int)(sizeof cases / sizeof *cases)

/* The same updates in double precision, for n elements and any number of steps. */
static void reference(const optim_case *c, double *p, int64_t n, int steps, double (*grad)(int, int64_t)) {
    double *b = calloc((size_t)n, sizeof *b), *v = calloc((size_t)n, sizeof *v);
    double b1 = c->adam.beta1 ? c->adam.beta1 : 0.9, b2 = c->adam.beta2 ? c->adam.beta2 : 0.999;
    double eps = c->adam.eps ? c->adam.eps : 1e-8, lr = c->adam.lr ? c->adam.lr : 1e-3, wd = c->adam.weight_decay;
    for (int s = 0; s < steps; ++s)
        for (int64_t i = 0; i < n; ++i) {
            double g = grad(s, i);
            if (c->kind == LAM_OPTIM_SGD) {
                g += c->sgd.weight_decay * p[i];
                if (c->sgd.momentum) {
                    b[i] = s == 0 ? g : c->sgd.momentum * b[i] + (1.0 - c->sgd.dampening) * g;
                    g = c->sgd.nesterov ? g + c->sgd.momentum * b[i] : b[i];
                }
                p[i] -= c->sgd.lr * g;
            } else {
                if (c->kind == LAM_OPTIM_ADAMW) p[i] *= 1.0 - lr * wd;
                else g += wd * p[i];
                b[i] = b1 * b[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double bc1 = 1 - pow(b1, s + 1), bc2 = 1 - pow(b2, s + 1);
                p[i] -= lr / bc1 * b[i] / (sqrt(v[i]) / sqrt(bc2) + eps);
            }
        }
    free(b);
    free(v);
}

static double small_grad(int s, int64_t i) { return (double)grad_at(s, (int)i); }
static double big_grad(int s, int64_t i) { return (double)(float)(sin(0.001 * (double)i + s) * 0.5); }

/* Sets p's gradient to g (f32 values) by backpropagating sum(p * g). */
static void set_grad(lam_tensor *p, const float *g, int64_t n) {
    lam_scope_begin();
    lam_clear_grad(p);
    lam_tensor *gt = lam_from_data(g, LAM_F32, LAM_SHAPE(n), lam_tensor_device(p));
    assert_int_equal(lam_backward(lam_sum(lam_mul(p, gt))), LAM_OK);
    lam_scope_end();
}

static lam_optim *make(const optim_case *c, lam_tensor *p) {
    lam_optim *o = lam_optim_new_tensors(c->kind, &p, 1, c->kind == LAM_OPTIM_SGD ? (const void *)&c->sgd
                                                                                 : (const void *)&c->adam);
    assert_non_null(o);
    return o;
}

static int devices(lam_device **out) { return tu_devices(out, TU_MAX_DEVICES); }

/* The parameter p0 as a leaf: contiguous (the fused kernels run), or a strided view (every
 * other element of a larger tensor: the update written with ops runs). */
static lam_tensor *param_on(lam_device *dev, bool strided) {
    if (!strided) return lam_from_data(p0, LAM_F32, LAM_SHAPE(6), dev);
    float wide[12];
    for (int i = 0; i < 12; ++i) wide[i] = i % 2 ? -99.0f : p0[i / 2];
    return lam_detach(lam_slice(lam_from_data(wide, LAM_F32, LAM_SHAPE(12), dev), 0, 0, 12, 2));
}

static void run_case(const optim_case *c, lam_device *dev, bool strided) {
    lam_scope_begin();
    lam_tensor *p = lam_keep(lam_requires_grad(param_on(dev, strided), true));
    lam_scope_end();
    lam_optim *o = make(c, p);
    for (int s = 0; s < 3; ++s) {
        float g[6];
        for (int i = 0; i < 6; ++i) g[i] = grad_at(s, i);
        set_grad(p, g, 6);
        assert_int_equal(lam_optim_step(o), LAM_OK);
    }
    float got[6];
    assert_int_equal(lam_read(p, got, sizeof got), LAM_OK);
    double ref[6];
    for (int i = 0; i < 6; ++i) ref[i] = p0[i];
    reference(c, ref, 6, 3, small_grad);
    for (int i = 0; i < 6; ++i) {
        if (fabsf(got[i] - c->torch[i]) > 2e-6f * (1.0f + fabsf(c->torch[i])) || fabs(got[i] - ref[i]) > 2e-6)
            fail_msg("%s on %s%s: element %d is %.9g, PyTorch %.9g, reference %.9g", c->name,
                     lam_device_name(dev), strided ? " (strided, unfused)" : "", i, got[i], c->torch[i], ref[i]);
    }
    lam_optim_free(o);
    lam_release(p);
}

static void test_against_pytorch(void **state) {
    (void)state;
    lam_device *devs[TU_MAX_DEVICES];
    int nd = devices(devs);
    for (int d = 0; d < nd; ++d)
        for (int c = 0; c < NCASES; ++c) {
            run_case(&cases[c], devs[d], false);
            run_case(&cases[c], devs[d], true);
        }
}

/* A large parameter (the host's parallel loop) for 5 steps against the double reference. */
static void test_large(void **state) {
    (void)state;
    const int64_t n = 300000;
    float *g = malloc((size_t)n * sizeof *g), *got = malloc((size_t)n * sizeof *got);
    double *ref = malloc((size_t)n * sizeof *ref);
    double *init = malloc((size_t)n * sizeof *init);
    tu_fill_uniform(init, n, -1.0, 1.0, 7);
    lam_device *devs[TU_MAX_DEVICES];
    int nd = devices(devs);
    for (int d = 0; d < nd; ++d)
        for (int c = 1; c < NCASES; ++c) {
            lam_scope_begin();
            lam_tensor *p = lam_requires_grad(tu_from_doubles(init, LAM_SHAPE(n), devs[d]), true);
            lam_optim *o = make(&cases[c], p);
            for (int s = 0; s < 5; ++s) {
                for (int64_t i = 0; i < n; ++i) g[i] = (float)big_grad(s, i);
                set_grad(p, g, n);
                assert_int_equal(lam_optim_step(o), LAM_OK);
            }
            assert_int_equal(lam_read(p, got, (size_t)n * sizeof *got), LAM_OK);
            memcpy(ref, init, (size_t)n * sizeof *ref);
            reference(&cases[c], ref, n, 5, big_grad);
            double worst = 0;
            for (int64_t i = 0; i < n; ++i) worst = fmax(worst, fabs(got[i] - ref[i]));
            if (worst > 1e-5) fail_msg("%s on %s: max error %g", cases[c].name, lam_device_name(devs[d]), worst);
            lam_optim_free(o);
            lam_scope_end();
        }
    free(g);
    free(got);
    free(ref);
    free(init);
}

/* A module whose only parameter is "w". */
static const lam_module_class HOLDER = {.name = "Holder"};
static lam_module *holder(lam_device *dev) {
    lam_module *m = lam_module_new(&HOLDER);
    lam_scope_begin();
    lam_add_param(m, "w", lam_from_data(p0, LAM_F32, LAM_SHAPE(6), dev));
    lam_scope_end();
    return m;
}

static void steps(lam_module *m, lam_optim *o, int from, int to) {
    lam_tensor *w = lam_module_param(m, "w");
    for (int s = from; s < to; ++s) {
        float g[6];
        for (int i = 0; i < 6; ++i) g[i] = grad_at(s, i);
        lam_optim_zero_grad(o);
        set_grad(w, g, 6);
        assert_int_equal(lam_optim_step(o), LAM_OK);
    }
}

static lam_optim *make_module(const optim_case *c, lam_module *m) {
    lam_optim *o = c->kind == LAM_OPTIM_SGD ? lam_sgd(m, c->sgd)
                   : c->kind == LAM_OPTIM_ADAM ? lam_adam(m, c->adam) : lam_adamw(m, c->adam);
    assert_non_null(o);
    return o;
}

static void check_module(lam_module *m, const optim_case *c, const char *what) {
    float got[6];
    assert_int_equal(lam_read(lam_module_param(m, "w"), got, sizeof got), LAM_OK);
    for (int i = 0; i < 6; ++i)
        if (fabsf(got[i] - c->torch[i]) > 2e-6f * (1.0f + fabsf(c->torch[i])))
            fail_msg("%s, %s: element %d is %.9g, PyTorch %.9g", c->name, what, i, got[i], c->torch[i]);
}

/* One step on each device in turn: the state follows the parameter (lam_module_to). */
static void test_state_follows_device(void **state) {
    (void)state;
    lam_device *devs[TU_MAX_DEVICES];
    int nd = devices(devs);
    for (int c = 0; c < NCASES; ++c) {
        lam_module *m = holder(devs[0]);
        lam_optim *o = make_module(&cases[c], m);
        for (int s = 0; s < 3; ++s) {
            assert_int_equal(lam_module_to(m, devs[(s + 1) % nd]), LAM_OK);
            steps(m, o, s, s + 1);
        }
        check_module(m, &cases[c], "moving between devices");
        lam_optim_free(o);
        lam_module_free(m);
    }
}

/* 2 steps, save, a fresh optimizer loads, 1 more step == 3 straight steps. */
static void test_save_load(void **state) {
    (void)state;
    char path[] = "/tmp/lamina-test-optim-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    lam_device *devs[TU_MAX_DEVICES];
    int nd = devices(devs);
    for (int d = 0; d < nd; ++d)
        for (int c = 0; c < NCASES; ++c) {
            lam_module *m = holder(devs[d]);
            lam_optim *o = make_module(&cases[c], m);
            steps(m, o, 0, 2);
            if (lam_optim_save(o, path) != LAM_OK) fail_msg("save: %s", lam_last_error());
            lam_optim_free(o);
            o = make_module(&cases[c], m);
            if (lam_optim_load(o, path) != LAM_OK) fail_msg("load: %s", lam_last_error());
            steps(m, o, 2, 3);
            check_module(m, &cases[c], "after save and load");
            lam_optim_free(o);
            lam_module_free(m);
        }
    /* another kind's state, or garbage, fails and changes nothing */
    lam_module *m = holder(devs[0]);
    lam_optim *sgd = make_module(&cases[1], m), *adam = make_module(&cases[3], m);
    steps(m, sgd, 0, 1);
    assert_int_equal(lam_optim_save(sgd, path), LAM_OK);
    assert_int_not_equal(lam_optim_load(adam, path), LAM_OK);
    FILE *f = fopen(path, "wb");
    fputs("not a safetensors file", f);
    fclose(f);
    assert_int_not_equal(lam_optim_load(sgd, path), LAM_OK);
    assert_int_not_equal(lam_optim_load(sgd, "/nonexistent/dir/x.optim"), LAM_OK);
    /* a negative step count (Adam divides by 1 - beta^step) or a "steps" that is no count */
    steps(m, adam, 0, 1);
    assert_int_equal(lam_optim_save(adam, path), LAM_OK);
    for (int bad = 0; bad < 2; ++bad) {
        lam_state_dict *sd = lam_safetensors_load(path, lam_device_get("cpu"));
        assert_non_null(sd);
        if (bad == 0) assert_int_equal(lam_fill_(lam_state_dict_get(sd, "state.w.step"), -3), LAM_OK);
        else assert_int_equal(lam_state_dict_set_metadata(sd, "steps", "12 apples"), LAM_OK);
        char bad_path[sizeof path + 8];
        snprintf(bad_path, sizeof bad_path, "%s.bad", path);
        assert_int_equal(lam_safetensors_save(sd, bad_path), LAM_OK);
        lam_state_dict_free(sd);
        assert_int_equal(lam_optim_load(adam, bad_path), LAM_ERR_FORMAT);
        print_message("  %s\n", lam_last_error());
        remove(bad_path);
    }
    assert_int_equal(lam_optim_load(adam, path), LAM_OK);
    lam_optim_free(sgd);
    lam_optim_free(adam);
    lam_module_free(m);
    remove(path);
}

static void test_errors(void **state) {
    (void)state;
    assert_null(lam_sgd(NULL, (lam_sgd_options){.lr = 0.1f}));
    lam_module *m = holder(lam_device_get("cpu"));
    assert_null(lam_sgd(m, (lam_sgd_options){.lr = -1.0f}));
    assert_null(lam_sgd(m, (lam_sgd_options){.lr = 0.1f, .nesterov = true}));
    assert_null(lam_adam(m, (lam_adam_options){.beta1 = 1.5f}));
    assert_int_not_equal(lam_optim_step(NULL), LAM_OK);
    lam_optim *o = lam_adamw(m, (lam_adam_options){.lr = 0.0f});
    assert_non_null(o);
    assert_true(fabsf(lam_optim_lr(o) - 1e-3f) < 1e-9f);
    lam_optim_set_lr(o, 0.5f);
    assert_true(lam_optim_lr(o) == 0.5f);
    assert_int_equal(lam_optim_step(o), LAM_OK);   /* no gradients: nothing moves */
    float got[6];
    lam_read(lam_module_param(m, "w"), got, sizeof got);
    assert_memory_equal(got, p0, sizeof got);
    lam_optim_free(o);
    lam_module_free(m);
    /* an empty parameter list is an error (PyTorch's too), for modules and for tensors */
    lam_module *relu = lam_nn_relu();
    lam_clear_error();
    assert_null(lam_sgd(relu, (lam_sgd_options){.lr = 0.1f}));
    assert_int_equal(lam_last_status(), LAM_ERR_ARG);
    assert_non_null(strstr(lam_last_error(), "lam_sgd"));
    assert_non_null(strstr(lam_last_error(), "empty parameter list"));
    assert_non_null(strstr(lam_last_error(), "ReLU"));
    assert_null(lam_adam(relu, (lam_adam_options){0}));
    lam_module_free(relu);
    assert_null(lam_optim_new_tensors(LAM_OPTIM_SGD, NULL, 0, &(lam_sgd_options){.lr = 0.1f}));
    assert_non_null(strstr(lam_last_error(), "empty parameter list"));
    /* a lazy layer's parameters come at its first forward: not empty */
    lam_module *lazy = lam_nn_lazy_linear(3);
    o = lam_sgd(lazy, (lam_sgd_options){.lr = 0.1f});
    assert_non_null(o);
    lam_optim_free(o);
    lam_module_free(lazy);
    lam_clear_error();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_pytorch), cmocka_unit_test(test_large),
        cmocka_unit_test(test_state_follows_device), cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
