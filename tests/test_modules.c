/* Modules: the chapter's models against their PyTorch twins on every device, lazy init,
 * in-place device moves, safetensors save/load, and bad input that changes nothing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lamina.h>

#include "chapter_models.h"
#include "reference_file.h"

#ifndef LAMINA_TEST_REFERENCE_DIR
#define LAMINA_TEST_REFERENCE_DIR "tests/reference"
#endif
#ifndef LAMINA_TEST_TMP_DIR
#define LAMINA_TEST_TMP_DIR "/tmp"
#endif
#define REF(file) LAMINA_TEST_REFERENCE_DIR "/" file

/* ---- the chapter's MLP (the other models come from examples/chapter_models.h) --------- */

typedef struct { lam_module *hidden, *out; } mlp;

static lam_tensor *mlp_forward(lam_module *m, lam_tensor *x) {
    mlp *self = lam_self(m);
    return lam_forward(self->out, lam_relu(lam_forward(self->hidden, x)));
}

static const lam_module_class MLP = {.name = "MLP", .state_size = sizeof(mlp), .forward = mlp_forward};

static lam_module *mlp_new(void) {
    lam_module *m = lam_module_new(&MLP);
    mlp *self = lam_self(m);
    self->hidden = lam_add_module(m, "hidden", lam_nn_lazy_linear(256));
    self->out = lam_add_module(m, "out", lam_nn_lazy_linear(10));
    return m;
}

typedef struct {
    const char *name;
    lam_module *(*make)(void);
} model_case;

static const model_case models[] = {
    {"mlp", mlp_new}, {"fixed_hidden_mlp", fixed_hidden_mlp_new}, {"chimera", chimera_new}};

/* ---- helpers ------------------------------------------------------------------------- */

/* max |a - b| / (1 + max |b|): the normalized error of a against the reference b. */
static double rel_err(lam_tensor *a, lam_tensor *b) {
    int64_t n = lam_numel(b);
    assert_int_equal(lam_numel(a), n);
    float *x = malloc((size_t)n * 4 + 4), *y = malloc((size_t)n * 4 + 4);
    assert_int_equal(lam_read(a, x, (size_t)n * 4), LAM_OK);
    assert_int_equal(lam_read(b, y, (size_t)n * 4), LAM_OK);
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < n; ++i) {
        diff = fmax(diff, fabs((double)x[i] - y[i]));
        scale = fmax(scale, fabs((double)y[i]));
    }
    free(x);
    free(y);
    return diff / (1 + scale);
}

/* A host copy of every parameter and buffer, to prove that a failed call changed nothing. */
typedef struct { float *data; size_t n; } snapshot;

static snapshot take_snapshot(lam_module *m) {
    lam_named_tensor t[64];
    int np = lam_named_parameters(m, t, 64);
    int nb = lam_named_buffers(m, t + np, 64 - np);
    size_t total = 0;
    for (int i = 0; i < np + nb; ++i) total += (size_t)lam_numel(t[i].tensor);
    snapshot s = {malloc(total * 4 + 4), total};
    size_t at = 0;
    for (int i = 0; i < np + nb; ++i) {
        size_t k = (size_t)lam_numel(t[i].tensor);
        assert_int_equal(lam_read(t[i].tensor, s.data + at, k * 4), LAM_OK);
        at += k;
    }
    return s;
}

static void assert_unchanged(lam_module *m, snapshot *before) {
    snapshot now = take_snapshot(m);
    assert_int_equal(now.n, before->n);
    assert_memory_equal(now.data, before->data, now.n * 4);
    free(now.data);
    free(before->data);
}

/* Builds a model on dev, runs it once on x so that its lazy layers exist. */
static lam_module *built(const model_case *mc, lam_device *dev, lam_tensor *x) {
    lam_set_default_device(dev);
    lam_module *m = mc->make();
    lam_set_default_device(lam_device_get("cpu"));
    assert_non_null(m);
    lam_scope_begin();
    assert_non_null(lam_forward(m, lam_to(x, dev)));
    lam_scope_end();
    return m;
}

/* ---- PyTorch twins: outputs and gradients, every model, every device ------------------- */

static void test_pytorch_twins(void **state) {
    (void)state;
    ref_file *rf = ref_open(REF("module_ref.safetensors"));
    assert_non_null(rf);
    for (int d = 0; d < lam_device_count(); ++d) {
        lam_device *dev = lam_device_at(d);
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

/* ---- the chimera's names and shapes are PyTorch's ------------------------------------- */

static void test_chimera_names(void **state) {
    (void)state;
    static const struct { const char *name; int ndim; int64_t shape[2]; } expect[] = {
        {"0.net.0.weight", 2, {64, 20}}, {"0.net.0.bias", 1, {64}},  {"0.net.2.weight", 2, {32, 64}},
        {"0.net.2.bias", 1, {32}},       {"0.linear.weight", 2, {16, 32}}, {"0.linear.bias", 1, {16}},
        {"1.weight", 2, {20, 16}},       {"1.bias", 1, {20}},        {"2.linear.weight", 2, {20, 20}},
        {"2.linear.bias", 1, {20}}};
    lam_device *cpu = lam_device_get("cpu");
    lam_scope_begin();
    lam_module *m = built(&models[2], cpu, lam_rand(LAM_SHAPE(2, 20), cpu));
    lam_named_tensor p[32];
    int n = lam_named_parameters(m, p, 32);
    assert_int_equal(n, 10);
    for (int i = 0; i < n; ++i) {
        assert_string_equal(p[i].name, expect[i].name);
        assert_int_equal(lam_ndim(p[i].tensor), expect[i].ndim);
        for (int j = 0; j < expect[i].ndim; ++j) assert_int_equal(lam_dim(p[i].tensor, j), expect[i].shape[j]);
        assert_ptr_equal(lam_module_param(m, expect[i].name), p[i].tensor);
    }
    lam_named_tensor b[4];
    assert_int_equal(lam_named_buffers(m, b, 4), 1);
    assert_string_equal(b[0].name, "2.rand_weight");
    assert_int_equal(lam_param_count(m), 4712);
    assert_non_null(lam_module_child(m, "0.net.2"));
    assert_null(lam_module_child(m, "0.net.9"));
    lam_scope_end();
    lam_module_free(m);
}

/* ---- lazy layers: nothing before the first forward, then shapes on the module's device -- */

static void test_lazy(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/lazy_unmaterialized.safetensors", LAMINA_TEST_TMP_DIR);
    for (int d = 0; d < lam_device_count(); ++d) {
        lam_device *dev = lam_device_at(d);
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
    }
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
    for (int d = 0; d < lam_device_count(); ++d) {
        lam_device *dev = lam_device_at(d);
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

/* ---- files: a lamina-saved file (PyTorch loads it) round-trips byte for byte ----------- */

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n + 1);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void test_saved_file(void **state) {
    (void)state;
    lam_device *cpu = lam_device_get("cpu");
    char out[512];
    snprintf(out, sizeof out, "%s/module_resaved.safetensors", LAMINA_TEST_TMP_DIR);
    lam_scope_begin();
    lam_module *m = built(&models[2], cpu, lam_rand(LAM_SHAPE(2, 20), cpu));
    lam_scope_end();
    assert_int_equal(lam_load(m, REF("module_lamina_saved.safetensors")), LAM_OK);
    assert_int_equal(lam_save(m, out), LAM_OK);
    size_t a, b;
    unsigned char *x = slurp(REF("module_lamina_saved.safetensors"), &a), *y = slurp(out, &b);
    assert_int_equal(a, b);
    assert_memory_equal(x, y, a);
    free(x);
    free(y);
    /* and PyTorch's own file loads into the same model with the same values */
    assert_int_equal(lam_load(m, REF("module_chimera_state.safetensors")), LAM_OK);
    lam_module_free(m);
    remove(out);
}

/* ---- bad input: a clear error, and the model as it was -------------------------------- */

static void test_bad_input(void **state) {
    (void)state;
    lam_device *cpu = lam_device_get("cpu");
    lam_scope_begin();
    lam_module *lin = lam_nn_linear(20, 5);
    assert_null(lam_forward(lin, lam_rand(LAM_SHAPE(2, 30), cpu)));
    assert_int_equal(lam_last_status(), LAM_ERR_SHAPE);
    assert_string_equal(lam_last_error(), "Linear: input (2, 30) does not match in_features=20");
    lam_module_free(lin);
    lam_clear_error();
    assert_null(lam_nn_sequential(3, lam_nn_linear(2, 2), NULL, lam_nn_relu()));
    assert_int_equal(lam_last_status(), LAM_ERR_ARG);
    assert_string_equal(lam_last_error(), "lam_nn_sequential: child 1 is NULL");
    lam_clear_error();

    lam_module *m = built(&models[0], cpu, lam_rand(LAM_SHAPE(2, 20), cpu));
    snapshot s = take_snapshot(m);
    /* a truncated copy of a good file */
    size_t n;
    unsigned char *bytes = slurp(REF("module_mlp_state.safetensors"), &n);
    char path[512];
    snprintf(path, sizeof path, "%s/truncated.safetensors", LAMINA_TEST_TMP_DIR);
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, n - 100, f);
    fclose(f);
    free(bytes);
    assert_int_equal(lam_load(m, path), LAM_ERR_FORMAT);
    printf("  truncated: %s\n", lam_last_error());
    remove(path);
    assert_int_equal(lam_load(m, "/nonexistent/x.safetensors"), LAM_ERR_IO);
    /* another model's file: missing and unexpected keys */
    assert_int_equal(lam_load(m, REF("module_fixed_hidden_mlp_state.safetensors")), LAM_ERR_STATE);
    printf("  wrong model: %s\n", lam_last_error());
    assert_unchanged(m, &s);
    lam_module_free(m);

    /* mismatched shape: the hidden layer saw 30 inputs, the file has 20 */
    m = built(&models[0], cpu, lam_rand(LAM_SHAPE(2, 30), cpu));
    s = take_snapshot(m);
    assert_int_equal(lam_load(m, REF("module_mlp_state.safetensors")), LAM_ERR_SHAPE);
    assert_non_null(strstr(lam_last_error(), "hidden.weight"));
    assert_unchanged(m, &s);
    lam_module_free(m);

    /* an unexpected key: out has no bias here */
    m = lam_module_new(&MLP);
    mlp *self = lam_self(m);
    self->hidden = lam_add_module(m, "hidden", lam_nn_linear(20, 256));
    self->out = lam_add_module(m, "out", lam_nn_linear_nobias(256, 10));
    s = take_snapshot(m);
    assert_int_equal(lam_load(m, REF("module_mlp_state.safetensors")), LAM_ERR_STATE);
    assert_non_null(strstr(lam_last_error(), "unexpected key \"out.bias\""));
    assert_unchanged(m, &s);
    /* a missing key: an extra persistent buffer */
    assert_non_null(lam_add_buffer(m, "extra", lam_zeros(LAM_SHAPE(3), cpu), true));
    assert_int_equal(lam_load(m, REF("module_mlp_state.safetensors")), LAM_ERR_STATE);
    assert_non_null(strstr(lam_last_error(), "missing key \"extra\""));
    /* duplicate names and NULLs are refused, not crashes */
    assert_null(lam_add_module(m, "hidden", lam_nn_relu()));
    assert_null(lam_add_param(m, "a.b", lam_zeros(LAM_SHAPE(3), cpu)));
    assert_null(lam_forward(NULL, NULL));
    lam_module_free(m);
    lam_scope_end();
    lam_clear_error();
}

/* ---- memory: training steps and a freed model leave no tensor behind ------------------- */

static void test_no_leaks(void **state) {
    (void)state;
    lam_device *cpu = lam_device_get("cpu");
    int64_t before = lam_live_tensors();
    lam_tensor *x = lam_keep(lam_rand(LAM_SHAPE(2, 20), cpu));
    lam_module *m = built(&models[2], cpu, x);
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pytorch_twins), cmocka_unit_test(test_chimera_names), cmocka_unit_test(test_lazy),
        cmocka_unit_test(test_module_to),     cmocka_unit_test(test_saved_file),    cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_no_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
