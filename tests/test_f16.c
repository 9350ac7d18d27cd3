/* f16 models: PyTorch's .half() is lam_module_to_dtype(m, LAM_F16). The chapter's MLP in f16
 * gives the f32 outputs within 1e-3 (max |a - b| / max |b|) on every device with half the
 * parameter bytes; integer buffers stay integers; optimizers refuse f16 parameters; F16
 * state_dicts go both ways with PyTorch (tests/reference/make_f16_reference.py). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "test_util.h"

static lam_module *chapter_mlp(lam_device *dev) {
    lam_manual_seed(0);
    lam_module *net = lam_nn_sequential(3, lam_nn_linear(20, 256), lam_nn_relu(), lam_nn_linear(256, 10));
    assert_non_null(net);
    assert_ok(lam_module_to(net, dev));
    return net;
}

static int64_t param_bytes(lam_module *m) {
    lam_named_tensor p[16];
    int n = lam_named_parameters(m, p, 16);
    int64_t bytes = 0;
    for (int i = 0; i < n; ++i) bytes += lam_numel(p[i].tensor) * (int64_t)lam_dtype_size(lam_tensor_dtype(p[i].tensor));
    return bytes;
}

static double max_rel_err(const double *a, const double *b, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; ++i) {
        num = fmax(num, fabs(a[i] - b[i]));
        den = fmax(den, fabs(b[i]));
    }
    return num / den;
}

static void test_chapter_mlp(void **state) {
    (void)state;
    lam_device *devs[TU_MAX_DEVICES];
    int nd = tu_devices(devs, TU_MAX_DEVICES);
    for (int k = 0; k < nd; ++k) {
        lam_module *f32 = chapter_mlp(devs[k]), *f16 = chapter_mlp(devs[k]);
        int64_t before = param_bytes(f16);
        assert_ok(lam_module_to_dtype(f16, LAM_F16));
        assert_int_equal(param_bytes(f16) * 2, before);
        assert_int_equal(lam_tensor_dtype(lam_module_param(f16, "0.weight")), LAM_F16);
        lam_scope_begin();
        lam_manual_seed(1);
        lam_tensor *x = lam_rand(LAM_SHAPE(2, 20), devs[k]);
        lam_tensor *y32 = lam_forward(f32, x), *y16 = lam_forward(f16, lam_to_dtype(x, LAM_F16));
        assert_non_null(y16);
        assert_int_equal(lam_tensor_dtype(y16), LAM_F16);
        double *a = tu_read(lam_to_dtype(y16, LAM_F32)), *b = tu_read(y32);
        double err = max_rel_err(a, b, 20);
        print_message("chapter MLP in f16 on %s: max |f16 - f32| / max |f32| = %.2e, parameters %lld -> %lld bytes\n",
                      lam_device_spec(devs[k]), err, (long long)before, (long long)param_bytes(f16));
        assert_true(err <= 1e-3);
        free(a);
        free(b);
        /* back to f32: the same handles, every value an f16 one */
        assert_ok(lam_module_to_dtype(f16, LAM_F32));
        assert_int_equal(param_bytes(f16), before);
        lam_scope_end();
        lam_module_free(f32);
        lam_module_free(f16);
    }
}

/* A buffer of integers (a step counter) stays i64; a float buffer converts. */
static const lam_module_class HOLDER = {.name = "Holder"};

static void test_buffers_and_optim(void **state) {
    (void)state;
    lam_module *m = lam_module_new(&HOLDER);
    lam_scope_begin();
    int64_t steps = 7;
    lam_add_buffer(m, "steps", lam_from_data(&steps, LAM_I64, LAM_SHAPE(1), NULL), true);
    lam_add_buffer(m, "mean", lam_zeros(LAM_SHAPE(3), NULL), true);
    lam_add_param(m, "w", lam_ones(LAM_SHAPE(3), NULL));
    lam_scope_end();
    lam_optim *o = lam_sgd(m, (lam_sgd_options){.lr = 0.1f});
    assert_non_null(o);
    assert_ok(lam_module_to_dtype(m, LAM_F16));
    assert_int_equal(lam_tensor_dtype(lam_module_buffer(m, "steps")), LAM_I64);
    assert_int_equal(lam_tensor_dtype(lam_module_buffer(m, "mean")), LAM_F16);
    lam_tensor *w = lam_module_param(m, "w");
    assert_int_equal(lam_tensor_dtype(w), LAM_F16);
    lam_scope_begin();
    assert_ok(lam_backward(lam_sum(lam_mul(w, w))));
    assert_int_equal(lam_optim_step(o), LAM_ERR_ARG);   /* f16 parameters: a clear error */
    print_message("%s\n", lam_last_error());
    assert_true(lam_item(lam_sum(w)) == 3.0);             /* and nothing changed */
    lam_scope_end();
    lam_clear_error();
    assert_int_equal(lam_module_to_dtype(m, LAM_I32), LAM_ERR_ARG);
    lam_optim_free(o);
    lam_module_free(m);
}

/* PyTorch's f16 state_dict into an f32 model (converted on load, as load_state_dict does) and
 * into an f16 one; lamina's f16 save has F16 entries PyTorch loads (the script's --check). */
static void test_pytorch_f16(void **state) {
    (void)state;
    lam_device *devs[TU_MAX_DEVICES];
    int nd = tu_devices(devs, TU_MAX_DEVICES);
    lam_state_dict *ref = lam_safetensors_load(LAMINA_TEST_REFERENCE_DIR "/f16_ref.safetensors", lam_device_get("cpu"));
    assert_non_null(ref);
    double *want = tu_read(lam_state_dict_get(ref, "y"));
    for (int k = 0; k < nd; ++k) {
        lam_module *f32 = chapter_mlp(devs[k]), *f16 = chapter_mlp(devs[k]);
        assert_ok(lam_module_to_dtype(f16, LAM_F16));
        assert_ok(lam_load(f32, LAMINA_TEST_REFERENCE_DIR "/f16_mlp_state.safetensors"));
        assert_ok(lam_load(f16, LAMINA_TEST_REFERENCE_DIR "/f16_mlp_state.safetensors"));
        assert_int_equal(lam_tensor_dtype(lam_module_param(f32, "0.weight")), LAM_F32);
        lam_scope_begin();
        lam_tensor *x = lam_to(lam_state_dict_get(ref, "x"), devs[k]);
        double *a = tu_read(lam_forward(f32, x)), *b = tu_read(lam_to_dtype(lam_forward(f16, lam_to_dtype(x, LAM_F16)), LAM_F32));
        double e32 = max_rel_err(a, want, 20), e16 = max_rel_err(b, want, 20);
        print_message("PyTorch's F16 state_dict on %s: into f32 %.2e, into f16 %.2e from PyTorch's output\n",
                      lam_device_spec(devs[k]), e32, e16);
        assert_true(e32 <= 1e-5);
        assert_true(e16 <= 2e-3);
        free(a);
        free(b);
        /* saved in f16, read back as F16 entries */
        char path[512];
        snprintf(path, sizeof path, "%s/f16_saved.safetensors", LAMINA_TEST_TMP_DIR);
        assert_ok(lam_save(f16, path));
        lam_state_dict *back = lam_safetensors_load(path, lam_device_get("cpu"));
        assert_non_null(back);
        for (int i = 0; i < lam_state_dict_size(back); ++i)
            assert_int_equal(lam_tensor_dtype(lam_state_dict_value(back, i)), LAM_F16);
        lam_state_dict_free(back);
        lam_scope_end();
        lam_module_free(f32);
        lam_module_free(f16);
    }
    free(want);
    lam_state_dict_free(ref);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_chapter_mlp), cmocka_unit_test(test_buffers_and_optim),
                                       cmocka_unit_test(test_pytorch_f16)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
