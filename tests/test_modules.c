/* Modules: the chapter's models against their PyTorch twins on every device, their names,
 * lazy init, in-place device moves, bad input, and leaks. Files: test_state_dict.c. */
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

#include "module_cases.h"

/* ---- PyTorch twins: outputs and gradients, every model, every device ------------------- */

static void test_pytorch_twins(void **state) {
    (void)state;
    ref_file *rf = ref_open(REF("module_ref.safetensors"));
    assert_non_null(rf);
    for (int d = 0; d < ndevs; ++d) {
        lam_device *dev = devs[d];
        for (size_t k = 0; k < sizeof models / sizeof *models; ++k) {
            char key[600], path[300];
            lam_scope_begin();
            snprintf(key, sizeof key, "%s.x", models[k].name);
            lam_tensor *x = ref_tensor(rf, key, dev);
            lam_module *m = built(&models[k], dev, x);
            snprintf(path, sizeof path, REF("module_%s_state.safetensors"), models[k].name);
            assert_int_equal(lam_load(m, path), LAM_OK);
            lam_zero_grad(m);
            lam_tensor *out = lam_forward(m, x);
            assert_non_null(out);
            assert_int_equal(lam_backward(lam_sum(out)), LAM_OK);
            snprintf(key, sizeof key, "%s.out", models[k].name);
            double worst = rel_err(lam_reshape(out, 1, (int64_t[]){-1}), ref_tensor(rf, key, dev));
            lam_named_tensor p[32];
            int n = lam_named_parameters(m, p, 32);
            for (int i = 0; i < n; ++i) {
                assert_true(snprintf(key, sizeof key, "%s.grad.%s", models[k].name, p[i].name) < (int)sizeof key);
                lam_tensor *g = ref_tensor(rf, key, dev);
                assert_non_null(g);
                assert_non_null(lam_grad(p[i].tensor));
                assert_ptr_equal(lam_tensor_device(lam_grad(p[i].tensor)), dev);
                worst = fmax(worst, rel_err(lam_grad(p[i].tensor), g));
            }
            printf("  %-18s %-30s max normalized error %.2e\n", models[k].name, lam_device_name(dev), worst);
            assert_true(worst <= 1e-5);
            lam_scope_end();
            lam_module_free(m);
        }
    }
    ref_close(rf);
}

/* ---- every model's names and shapes are PyTorch's (module_names.txt, written by torch) -- */

/* Checks m's parameters (or buffers) against the file's lines "model kind name dims...". */
static void assert_names(lam_module *m, const char *model, const char *kind) {
    FILE *f = fopen(REF("module_names.txt"), "r");
    assert_non_null(f);
    lam_named_tensor t[32];
    int n = strcmp(kind, "param") ? lam_named_buffers(m, t, 32) : lam_named_parameters(m, t, 32), i = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *mod = strtok(line, " \n"), *k = strtok(NULL, " \n"), *name = strtok(NULL, " \n");
        if (!mod || !k || !name || strcmp(mod, model) || strcmp(k, kind)) continue;
        assert_true(i < n);
        assert_string_equal(t[i].name, name);
        int nd = 0;
        for (char *d; (d = strtok(NULL, " \n")); ++nd) assert_int_equal(lam_dim(t[i].tensor, nd), atoll(d));
        assert_int_equal(lam_ndim(t[i].tensor), nd);
        assert_ptr_equal(strcmp(kind, "param") ? lam_module_buffer(m, name) : lam_module_param(m, name), t[i].tensor);
        i++;
    }
    fclose(f);
    assert_int_equal(i, n);   /* nothing more, nothing less */
}

static void test_names(void **state) {
    (void)state;
    lam_device *cpu = lam_device_get("cpu");
    for (size_t k = 0; k < sizeof models / sizeof *models; ++k) {
        lam_scope_begin();
        lam_module *m = built(&models[k], cpu, lam_rand(LAM_SHAPE(2, 20), cpu));
        assert_names(m, models[k].name, "param");
        assert_names(m, models[k].name, "buffer");
        lam_scope_end();
        lam_module_free(m);
    }
    lam_scope_begin();
    lam_module *m = built(&models[2], cpu, lam_rand(LAM_SHAPE(2, 20), cpu));
    assert_int_equal(lam_named_parameters(m, NULL, 0), 10);
    assert_int_equal(lam_param_count(m), 4712);
    assert_non_null(lam_module_child(m, "0.net.2"));
    assert_null(lam_module_child(m, "0.net.9"));
    assert_string_equal(lam_module_class_of(lam_module_child(m, "0.net.2"))->name, "Linear");
    lam_scope_end();
    lam_module_free(m);
}

/* ---- lazy layers: nothing before the first forward, then shapes on the module's device -- */

static void test_lazy(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/lazy_unmaterialized.safetensors", LAMINA_TEST_TMP_DIR);
    for (int d = 0; d < ndevs; ++d) {
        lam_device *dev = devs[d];
        lam_set_default_device(dev);
        lam_module *m = mlp_new();
        lam_set_default_device(lam_device_get("cpu"));
        assert_int_equal(lam_named_parameters(m, NULL, 0), 0);
        assert_int_equal(lam_param_count(m), 0);
        assert_int_equal(lam_save(m, path), LAM_ERR_STATE);
        assert_non_null(strstr(lam_last_error(), "hidden"));
        lam_clear_error();
        lam_scope_begin();
        lam_tensor *y = lam_forward(m, lam_rand(LAM_SHAPE(3, 7), dev));
        assert_non_null(y);
        assert_int_equal(lam_dim(y, 1), 10);
        lam_tensor *w = lam_module_param(m, "hidden.weight");
        assert_int_equal(lam_dim(w, 0), 256);
        assert_int_equal(lam_dim(w, 1), 7);
        assert_int_equal(lam_dim(lam_module_param(m, "out.weight"), 1), 256);
        assert_ptr_equal(lam_tensor_device(w), dev);
        assert_true(lam_tensor_requires_grad(w));
        lam_scope_end();
        lam_module_free(m);
        /* made on cpu, moved before its first forward: it materializes where it was moved */
        m = mlp_new();
        assert_int_equal(lam_module_to(m, dev), LAM_OK);
        lam_scope_begin();
        assert_non_null(lam_forward(m, lam_rand(LAM_SHAPE(3, 7), dev)));
        assert_ptr_equal(lam_tensor_device(lam_module_param(m, "out.bias")), dev);
        lam_scope_end();
        lam_module_free(m);
    }
    /* printed as LazyLinear before its first forward, as Linear after (PyTorch does the same) */
    lam_module *m = mlp_new();
    char text[2048];
    FILE *f = tmpfile();
    assert_non_null(f);
    lam_module_print(m, f);
    lam_scope_begin();
    assert_non_null(lam_forward(m, lam_rand(LAM_SHAPE(3, 7), lam_device_get("cpu"))));
    lam_scope_end();
    lam_module_print(m, f);
    rewind(f);
    text[fread(text, 1, sizeof text - 1, f)] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "(hidden): LazyLinear(in_features=0, out_features=256, bias=True)"));
    assert_non_null(strstr(text, "(hidden): Linear(in_features=7, out_features=256, bias=True)"));
    lam_module_free(m);
}

/* ---- device moves: cpu -> each device -> cpu, same handles, same outputs --------------- */

static lam_status assert_on(lam_module *m, lam_device *dev) {
    lam_named_tensor t[64];
    int np = lam_named_parameters(m, t, 64);
    int nb = lam_named_buffers(m, t + np, 64 - np);
    for (int i = 0; i < np + nb; ++i) {
        assert_ptr_equal(lam_tensor_device(t[i].tensor), dev);
        if (i < np) assert_ptr_equal(lam_tensor_device(lam_grad(t[i].tensor)), dev);
    }
    assert_ptr_equal(lam_module_device(m), dev);
    return LAM_OK;
}

static void test_module_to(void **state) {
    (void)state;
    lam_device *cpu = lam_device_get("cpu");
    lam_tensor *x = lam_keep(lam_rand(LAM_SHAPE(2, 20), cpu));
    lam_module *m = built(&models[2], cpu, x);
    lam_scope_begin();
    assert_int_equal(lam_backward(lam_forward(m, x)), LAM_OK);
    float ref = (float)lam_item(lam_forward(m, x));
    lam_scope_end();
    lam_tensor *w = lam_module_param(m, "0.net.0.weight");
    for (int d = 0; d < ndevs; ++d) {
        lam_device *dev = devs[d];
        assert_int_equal(lam_module_to(m, dev), LAM_OK);
        assert_ptr_equal(lam_module_param(m, "0.net.0.weight"), w);   /* the same handle */
        assert_on(m, dev);
        lam_scope_begin();
        float got = (float)lam_item(lam_forward(m, lam_to(x, dev)));
        lam_scope_end();
        assert_true(fabsf(got - ref) <= 1e-5f * (1 + fabsf(ref)));
        assert_int_equal(lam_module_to(m, cpu), LAM_OK);
        assert_on(m, cpu);
        lam_scope_begin();
        got = (float)lam_item(lam_forward(m, x));
        lam_scope_end();
        assert_true(fabsf(got - ref) <= 1e-6f * (1 + fabsf(ref)));
    }
    lam_release(x);
    lam_module_free(m);
}

/* ---- bad input to modules: a clear error, not a crash, and the model as it was -------- */

static void test_bad_modules(void **state) {
    (void)state;
    lam_device *cpu = lam_device_get("cpu");
    lam_scope_begin();
    lam_module *lin = lam_nn_linear(20, 5);
    snapshot s = take_snapshot(lin);
    assert_null(lam_forward(lin, lam_rand(LAM_SHAPE(2, 30), cpu)));
    assert_int_equal(lam_last_status(), LAM_ERR_SHAPE);
    assert_string_equal(lam_last_error(), "Linear: input (2, 30) does not match in_features=20");
    assert_unchanged(lin, &s);
    lam_module_free(lin);
    /* a lazy layer fixes its width at the first forward; another width later is an error */
    lin = lam_nn_lazy_linear(4);
    assert_non_null(lam_forward(lin, lam_rand(LAM_SHAPE(2, 3), cpu)));
    assert_null(lam_forward(lin, lam_rand(LAM_SHAPE(2, 6), cpu)));
    assert_string_equal(lam_last_error(), "Linear: input (2, 6) does not match in_features=3");
    assert_int_equal(lam_dim(lam_module_param(lin, "weight"), 1), 3);
    lam_module_free(lin);
    lam_clear_error();
    assert_null(lam_nn_sequential(3, lam_nn_linear(2, 2), NULL, lam_nn_relu()));
    assert_int_equal(lam_last_status(), LAM_ERR_ARG);
    assert_string_equal(lam_last_error(), "lam_nn_sequential: child 1 is NULL");
    lam_clear_error();

    /* duplicate names and NULLs are refused, not crashes */
    lam_module *m = mlp_new();
    assert_null(lam_add_module(m, "hidden", lam_nn_relu()));
    assert_int_equal(lam_last_status(), LAM_ERR_ARG);
    assert_null(lam_add_param(m, "a.b", lam_zeros(LAM_SHAPE(3), cpu)));
    assert_int_equal(lam_last_status(), LAM_ERR_ARG);
    assert_null(lam_forward(NULL, NULL));
    assert_int_equal(lam_last_status(), LAM_ERR_ARG);
    /* a cycle is refused and frees nothing: m stays usable */
    lam_module *seq = lam_add_module(m, "seq", lam_nn_sequential(1, lam_nn_relu()));
    assert_non_null(seq);
    assert_null(lam_add_module(seq, "up", m));
    assert_non_null(strstr(lam_last_error(), "cycle"));
    assert_null(lam_add_module(m, "me", m));
    assert_int_equal(lam_module_children(m, NULL, 0), 3);
    assert_int_equal(lam_module_children(seq, NULL, 0), 1);
    lam_module_free(m);
    lam_scope_end();
    lam_clear_error();
}

/* ---- errors inside a forward name the module: its dotted path and class --------------- */

typedef struct { lam_module *body, *head; } net_state;

static lam_tensor *net_forward(lam_module *m, lam_tensor *x) {
    net_state *self = lam_self(m);
    return lam_forward(self->head, lam_forward(self->body, x));
}

static const lam_module_class NET = {.name = "Net", .state_size = sizeof(net_state), .forward = net_forward};

static lam_tensor *null_forward(lam_module *m, lam_tensor *x) {
    (void)m;
    (void)x;
    return NULL;   /* a buggy user forward: no result, no error */
}

static lam_tensor *proj_forward(lam_module *m, lam_tensor *x) { return lam_matmul(x, lam_module_param(m, "w")); }

static const lam_module_class PROJ = {.name = "Proj", .forward = proj_forward};

static const lam_module_class SILENT = {.name = "Silent", .forward = null_forward};

static void test_error_names_module(void **state) {
    (void)state;
    lam_device *cpu = lam_device_get("cpu");
    lam_scope_begin();
    /* Net(body: Sequential(Linear(20, 30), ReLU, Linear(20, 5)), head: Linear(5, 2)) */
    lam_module *net = lam_module_new(&NET);
    net_state *self = lam_self(net);
    self->body = lam_add_module(net, "body", lam_nn_sequential(3, lam_nn_linear(20, 30), lam_nn_relu(),
                                                                lam_nn_linear(20, 5)));
    self->head = lam_add_module(net, "head", lam_nn_linear(5, 2));
    lam_tensor *x = lam_rand(LAM_SHAPE(2, 20), cpu);
    lam_clear_error();
    assert_null(lam_forward(net, x));
    assert_int_equal(lam_last_status(), LAM_ERR_SHAPE);   /* the innermost module, once */
    assert_string_equal(lam_last_error(), "body.2 (Linear): input (2, 30) does not match in_features=20");
    printf("  nested: %s\n", lam_last_error());
    /* the chapter's MLP: hidden fails, out gets NULL and keeps hidden's message */
    lam_module *m = mlp_new();
    assert_non_null(lam_forward(m, x));   /* hidden.in_features = 20 */
    assert_null(lam_forward(m, lam_rand(LAM_SHAPE(2, 30), cpu)));
    assert_string_equal(lam_last_error(), "hidden (Linear): input (2, 30) does not match in_features=20");
    /* an op failing inside a forward is named with the module too */
    lam_module *proj = lam_module_new(&PROJ);
    assert_non_null(lam_add_param(proj, "w", lam_zeros(LAM_SHAPE(30, 4), cpu)));
    lam_module *seq = lam_nn_sequential(2, lam_nn_relu(), proj);
    assert_null(lam_forward(seq, x));
    assert_string_equal(lam_last_error(), "1 (Proj): lam_matmul: inner dimensions differ: (2, 20) @ (30, 4)");
    lam_module_free(seq);
    /* a forward that returns NULL without an error gets one */
    lam_module *outer = lam_nn_sequential(2, lam_nn_relu(), lam_module_new(&SILENT));
    lam_clear_error();
    assert_null(lam_forward(outer, x));
    assert_int_equal(lam_last_status(), LAM_ERR_STATE);
    assert_string_equal(lam_last_error(), "1 (Silent): forward returned NULL without an error");
    lam_module_free(outer);
    /* the root alone, and a NULL input (an earlier failure) adds nothing */
    lam_module *lin = lam_nn_linear(20, 5);
    assert_null(lam_forward(lin, lam_rand(LAM_SHAPE(3), cpu)));
    assert_string_equal(lam_last_error(), "Linear: input (3,) does not match in_features=20");
    assert_null(lam_forward(net, NULL));
    assert_string_equal(lam_last_error(), "Linear: input (3,) does not match in_features=20");
    /* and a good forward afterwards works */
    lam_clear_error();
    assert_non_null(lam_forward(m, x));
    assert_int_equal(lam_last_status(), LAM_OK);
    lam_module_free(lin);
    lam_module_free(m);
    lam_module_free(net);
    lam_scope_end();
    lam_clear_error();
}

/* ---- memory: training steps and a freed model leave no tensor behind ------------------- */

static void test_no_leaks(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d) {
        lam_device *dev = devs[d];
        int64_t before = lam_live_tensors();
        lam_tensor *x = lam_keep(lam_rand(LAM_SHAPE(2, 20), dev));
        lam_module *m = built(&models[2], dev, x);
        for (int step = 0; step < 5; ++step) {
            lam_scope_begin();
            lam_zero_grad(m);
            assert_int_equal(lam_backward(lam_forward(m, x)), LAM_OK);
            lam_scope_end();
        }
        lam_release(x);
        lam_module_free(m);
        assert_int_equal(lam_live_tensors(), before);
    }
}

int main(void) {
    ndevs = tu_devices(devs, TU_MAX_DEVICES);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pytorch_twins), cmocka_unit_test(test_names),       cmocka_unit_test(test_lazy),
        cmocka_unit_test(test_module_to),     cmocka_unit_test(test_bad_modules), cmocka_unit_test(test_no_leaks),
        cmocka_unit_test(test_error_names_module),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
