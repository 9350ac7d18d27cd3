/* The convolutional-network modules: PyTorch's parameters, buffers, inits and reprs, lazy
 * convolutions, BatchNorm's modes, the ResNet's state_dict both ways against its PyTorch
 * twin (tests/reference/make_resnet_reference.py), its allocations in steady state, and a
 * few training steps of LeNet and the ResNet: the loss falls, every device agrees with cpu. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cnn_models.h"
#include "reference_file.h"
#include "test_util.h"

#define REF(file) LAMINA_TEST_REFERENCE_DIR "/" file

static lam_device *devs[TU_MAX_DEVICES];
static int ndevs;

/* lam_module_print's text (malloc'd). */
static char *printed(lam_module *m) {
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    lam_module_print(m, f);
    fclose(f);
    return text;
}

static void expect_printed(lam_module *m, const char *first_line) {
    assert_non_null(m);
    char *text = printed(m);
    if (strncmp(text, first_line, strlen(first_line))) fail_msg("printed\n%s\nexpected\n%s", text, first_line);
    free(text);
    lam_module_free(m);
}

static void test_reprs(void **state) {
    (void)state;
    expect_printed(lam_nn_conv2d(3, 6, 3, 2, 1, 1, 3, true),
                   "Conv2d(3, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), groups=3)");
    expect_printed(lam_nn_conv2d_hw(2, 4, LAM_HW2(1, 3), LAM_HW(1), LAM_HW(0), LAM_HW2(1, 2), 1, false),
                   "Conv2d(2, 4, kernel_size=(1, 3), stride=(1, 1), dilation=(1, 2), bias=False)");
    expect_printed(lam_nn_max_pool2d(2, 0, 0), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
    expect_printed(lam_nn_avg_pool2d(3, 1, 1), "AvgPool2d(kernel_size=3, stride=1, padding=1)");
    expect_printed(lam_nn_adaptive_avg_pool2d(LAM_HW2(2, 3)), "AdaptiveAvgPool2d(output_size=(2, 3))");
    expect_printed(lam_nn_batch_norm2d(16), "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
    expect_printed(lam_nn_batch_norm1d_ex(4, 1e-3f, NAN, false, false),
                   "BatchNorm1d(4, eps=0.001, momentum=None, affine=False, track_running_stats=False)");
    expect_printed(lam_nn_dropout(0.25f), "Dropout(p=0.25, inplace=False)");
    expect_printed(lam_nn_identity(), "Identity()");
}

/* Conv2d's parameters: PyTorch's shapes, U(+-1/sqrt(fan_in)) values that differ. */
static void test_conv_module(void **state) {
    (void)state;
    lam_manual_seed(1);
    lam_set_default_device(lam_device_get("cpu"));
    lam_module *m = lam_nn_conv2d(4, 6, 3, 1, 1, 1, 2, true);
    lam_named_tensor p[4];
    assert_int_equal(lam_named_parameters(m, p, 4), 2);
    assert_string_equal(p[0].name, "weight");
    assert_string_equal(p[1].name, "bias");
    int64_t want[4] = {6, 2, 3, 3};
    for (int d = 0; d < 4; ++d) assert_int_equal(lam_dim(p[0].tensor, d), want[d]);
    double bound = 1 / sqrt(2.0 * 9), lo = 1, hi = -1;
    for (int k = 0; k < 2; ++k) {
        double *v = tu_read(p[k].tensor);
        for (int64_t i = 0; i < lam_numel(p[k].tensor); ++i) {
            assert_true(fabs(v[i]) <= bound);
            lo = fmin(lo, v[i]);
            hi = fmax(hi, v[i]);
        }
        free(v);
    }
    assert_true(hi - lo > bound);   /* spread over the range, not a constant */
    lam_scope_begin();
    lam_tensor *y = lam_forward(m, lam_rand(LAM_SHAPE(2, 4, 5, 7), lam_device_get("cpu")));
    assert_non_null(y);
    assert_true(lam_dim(y, 0) == 2 && lam_dim(y, 1) == 6 && lam_dim(y, 2) == 5 && lam_dim(y, 3) == 7);
    assert_null(lam_forward(m, lam_rand(LAM_SHAPE(4, 5, 7), lam_device_get("cpu"))));
    assert_non_null(strstr(lam_last_error(), "Conv2d: expected a 4-D input"));
    lam_scope_end();
    lam_module_free(m);
    /* bad configurations fail at construction, naming the constructor */
    assert_null(lam_nn_conv2d(3, 4, 3, 1, 1, 1, 2, true));
    assert_non_null(strstr(lam_last_error(), "lam_nn_conv2d"));
    assert_null(lam_nn_conv2d(3, 4, 3, 0, 1, 1, 1, true));
    assert_null(lam_nn_lazy_conv2d(4, 0, 1, 0, 1, 1, true));
    lam_clear_error();
}

static void test_lazy_conv(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d) {
        lam_set_default_device(devs[d]);
        lam_module *m = lam_nn_lazy_conv2d_hw(4, LAM_HW2(3, 1), LAM_HW(1), LAM_HW2(1, 0), LAM_HW(1), 1, true);
        lam_set_default_device(lam_device_get("cpu"));
        assert_int_equal(lam_param_count(m), 0);
        assert_int_equal(lam_save(m, LAMINA_TEST_TMP_DIR "/lazy.safetensors"), LAM_ERR_STATE);
        lam_scope_begin();
        assert_null(lam_forward(m, lam_rand(LAM_SHAPE(2, 0, 6, 6), devs[d])));   /* no channels: stays lazy */
        lam_tensor *y = lam_forward(m, lam_rand(LAM_SHAPE(2, 5, 6, 6), devs[d]));
        assert_non_null(y);
        assert_true(lam_dim(y, 1) == 4 && lam_dim(y, 2) == 6 && lam_dim(y, 3) == 6);
        assert_int_equal(lam_param_count(m), 4 * 5 * 3 + 4);
        assert_string_equal(lam_module_class_of(m)->name, "Conv2d");
        assert_true(lam_tensor_device(lam_module_param(m, "weight")) == devs[d]);
        lam_scope_end();
        /* a never-run lazy convolution takes in_channels from a state_dict's weight */
        const char *path = LAMINA_TEST_TMP_DIR "/conv_for_lazy.safetensors";
        assert_ok(lam_save(m, path));
        lam_set_default_device(devs[d]);
        lam_module *fresh = lam_nn_lazy_conv2d_hw(4, LAM_HW2(3, 1), LAM_HW(1), LAM_HW2(1, 0), LAM_HW(1), 1, true);
        lam_set_default_device(lam_device_get("cpu"));
        assert_ok(lam_load(fresh, path));
        assert_int_equal(lam_param_count(fresh), 4 * 5 * 3 + 4);
        assert_string_equal(lam_module_class_of(fresh)->name, "Conv2d");
        lam_scope_begin();
        lam_tensor *x = lam_rand(LAM_SHAPE(1, 5, 4, 4), devs[d]);
        assert_true(lam_item(lam_sum(lam_abs(lam_sub(lam_forward(fresh, x), lam_forward(m, x))))) == 0.0);
        lam_scope_end();
        remove(path);
        lam_module_free(fresh);
        lam_module_free(m);
    }
}

/* ---- BatchNorm's modes ---------------------------------------------------------------- */

static double sum_of(lam_tensor *t) { return lam_item(lam_sum(t)); }

static void test_batch_norm_modes(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d) {
        lam_device *dev = devs[d];
        lam_scope_begin();
        lam_set_default_device(dev);
        lam_module *bn = lam_nn_batch_norm2d(3), *plain = lam_nn_batch_norm2d_ex(3, 1e-5f, 0.1f, false, false);
        lam_module *cumulative = lam_nn_batch_norm1d_ex(2, 1e-5f, NAN, true, true);
        lam_set_default_device(lam_device_get("cpu"));
        lam_named_tensor b[4];
        assert_int_equal(lam_named_buffers(bn, b, 4), 3);
        assert_string_equal(b[2].name, "num_batches_tracked");
        assert_int_equal(lam_tensor_dtype(b[2].tensor), LAM_I64);
        assert_int_equal(lam_ndim(b[2].tensor), 0);
        assert_int_equal(lam_named_buffers(plain, NULL, 0), 0);
        assert_int_equal(lam_param_count(plain), 0);
        /* eval with fresh running statistics (0, 1): y = x / sqrt(1 + eps) */
        lam_tensor *x = lam_add_scalar(lam_mul_scalar(lam_randn(LAM_SHAPE(4, 3, 2, 2), dev), 3), 1);
        lam_train(bn, false);
        double ratio = sum_of(lam_forward(bn, x)) / sum_of(x);
        assert_true(fabs(ratio - 1 / sqrt(1 + 1e-5)) < 1e-5);
        assert_true(lam_item(lam_module_buffer(bn, "num_batches_tracked")) == 0);
        /* no running statistics: eval still normalizes with the batch's (mean 0 per channel) */
        lam_train(plain, false);
        assert_true(fabs(sum_of(lam_forward(plain, x))) < 1e-4);
        /* momentum None: the running mean is the plain average of the batch means */
        lam_tensor *a = lam_full(2.0f, LAM_SHAPE(3, 2), dev), *c = lam_add_scalar(lam_randn(LAM_SHAPE(5, 2), dev), 5);
        assert_non_null(lam_forward(cumulative, a));
        assert_non_null(lam_forward(cumulative, c));
        double want = (2 * 2 + sum_of(c) / 5) / 2;   /* summed over both channels */
        assert_true(fabs(sum_of(lam_module_buffer(cumulative, "running_mean")) - want) < 1e-5);
        assert_true(lam_item(lam_module_buffer(cumulative, "num_batches_tracked")) == 2);
        /* training with one value per channel fails and changes nothing */
        lam_train(bn, true);
        double rm = sum_of(lam_module_buffer(bn, "running_mean")), rv = sum_of(lam_module_buffer(bn, "running_var"));
        assert_null(lam_forward(bn, lam_rand(LAM_SHAPE(1, 3, 1, 1), dev)));
        assert_non_null(strstr(lam_last_error(), "more than 1 value per channel"));
        assert_null(lam_forward(bn, lam_rand(LAM_SHAPE(2, 4, 3, 3), dev)));
        assert_non_null(strstr(lam_last_error(), "BatchNorm2d: expected a 4-D (N, C, H, W) input with 3 channels, got (2, 4, 3, 3)"));
        assert_null(lam_forward(bn, lam_rand(LAM_SHAPE(2, 3, 3), dev)));
        lam_clear_error();
        assert_true(sum_of(lam_module_buffer(bn, "running_mean")) == rm && sum_of(lam_module_buffer(bn, "running_var")) == rv);
        assert_true(lam_item(lam_module_buffer(bn, "num_batches_tracked")) == 0);
        lam_scope_end();
        lam_module_free(bn);
        lam_module_free(plain);
        lam_module_free(cumulative);
    }
}

static void test_dropout_module(void **state) {
    (void)state;
    lam_device *cpu = lam_device_get("cpu");
    lam_module *m = lam_nn_dropout(0.5f);
    lam_scope_begin();
    lam_tensor *x = lam_ones(LAM_SHAPE(1000), cpu);
    double trained = sum_of(lam_abs(lam_sub(lam_forward(m, x), x)));
    lam_train(m, false);
    double evaluated = sum_of(lam_abs(lam_sub(lam_forward(m, x), x)));
    assert_true(trained > 100 && evaluated == 0);
    lam_scope_end();
    lam_module_free(m);
    assert_null(lam_nn_dropout(1.5f));
    assert_non_null(strstr(lam_last_error(), "lam_nn_dropout"));
    lam_clear_error();
}

/* ---- the ResNet and its PyTorch twin ----------------------------------------------------- */

/* logits of net on the reference x, in eval and training mode, against the twin's. */
static void expect_logits(lam_module *net, ref_file *rf, const char *prefix, lam_device *dev) {
    const char *modes[2] = {"eval_logits", "train_logits"};
    for (int k = 0; k < 2; ++k) {
        lam_train(net, k == 1);
        lam_scope_begin();
        char name[96];
        snprintf(name, sizeof name, "%s.%s", prefix, modes[k]);
        lam_tensor *y = lam_forward(net, ref_tensor(rf, "x", dev)), *want = ref_tensor(rf, name, dev);
        if (!y || !want) fail_msg("%s on %s: %s", name, lam_device_spec(dev), lam_last_error());
        double *a = tu_read(y), *b = tu_read(want);
        double err = tu_norm_err(a, b, lam_numel(want));
        free(a);
        free(b);
        printf("  %-28s on %-40.40s %.2e\n", name, lam_device_name(dev), err);
        if (!(err <= 1e-5)) fail_msg("%s on %s: normalized error %.3g", name, lam_device_spec(dev), err);
        lam_scope_end();
    }
}


static void test_resnet_state_dicts(void **state) {
    (void)state;
    ref_file *rf = ref_open(REF("resnet_ref.safetensors"));
    assert_non_null(rf);
    /* the committed lamina file is what lamina writes: load and save give the same bytes */
    lam_set_default_device(lam_device_get("cpu"));
    lam_module *net = resnet_new();
    assert_int_equal(lam_param_count(net), 77754);
    assert_ok(lam_load(net, REF("resnet_lamina_saved.safetensors")));
    const char *out = LAMINA_TEST_TMP_DIR "/resnet_resaved.safetensors";
    assert_ok(lam_save(net, out));
    size_t a, b;
    unsigned char *x = tu_slurp(REF("resnet_lamina_saved.safetensors"), &a), *y = tu_slurp(out, &b);
    assert_true(x && y);
    assert_int_equal(a, b);
    assert_memory_equal(x, y, a);
    free(x);
    free(y);
    remove(out);
    lam_module_free(net);
    /* PyTorch loaded it strictly, and its twin's state loads here: the same logits both ways */
    for (int d = 0; d < ndevs; ++d) {
        lam_set_default_device(devs[d]);
        net = resnet_new();
        lam_set_default_device(lam_device_get("cpu"));
        assert_ok(lam_load(net, REF("resnet_lamina_saved.safetensors")));
        expect_logits(net, rf, "lamina_saved", devs[d]);
        assert_ok(lam_load(net, REF("resnet_torch_state.safetensors")));
        expect_logits(net, rf, "torch", devs[d]);
        lam_module_free(net);
    }
    ref_close(rf);
}

/* Training steps of the ResNet: in steady state the pool serves every buffer. (The second
 * step may still allocate: the optimizer's momentum buffers, made at the end of the first,
 * took blocks from the cache that the second step's backward then asks for.) */
static void test_resnet_allocations(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d) {
        lam_device *dev = devs[d];
        lam_manual_seed(0);
        lam_set_default_device(dev);
        lam_module *net = resnet_new();
        lam_set_default_device(lam_device_get("cpu"));
        lam_optim *opt = lam_sgd(net, (lam_sgd_options){.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f});
        lam_tensor *x = lam_keep(lam_rand(LAM_SHAPE(6, 1, 28, 28), dev));
        lam_tensor *y = lam_keep(lam_to_dtype(lam_mul_scalar(lam_rand(LAM_SHAPE(6), dev), 9.99f), LAM_I64));
        lam_pool_stats before = {0}, after = {0};
        double first = 0, last = 0;
        for (int step = 0; step < 4; ++step) {
            if (step == 2) assert_ok(lam_device_pool_stats(dev, &before));
            lam_scope_begin();
            lam_optim_zero_grad(opt);
            lam_tensor *loss = lam_cross_entropy(lam_forward(net, x), y);
            assert_ok(lam_backward(loss));
            assert_ok(lam_optim_step(opt));
            last = lam_item(loss);
            if (step == 0) first = last;
            lam_scope_end();
        }
        assert_ok(lam_device_pool_stats(dev, &after));
        printf("  ResNet step on %-40.40s peak pool %.1f MB, device allocations %llu -> %llu\n", lam_device_name(dev),
               (double)after.peak / 1e6, (unsigned long long)before.device_allocs, (unsigned long long)after.device_allocs);
        assert_int_equal(after.device_allocs, before.device_allocs);
        assert_true(last < first);
        lam_release(x);
        lam_release(y);
        lam_optim_free(opt);
        lam_module_free(net);
    }
}

/* ---- training: the loss falls, and every device takes the steps cpu takes ----------------- */

/* Per-step losses of `steps` steps of net (built on dev from seed 0) on two batches of 16 digits. */
static void losses(bool res, lam_device *dev, lam_dataset *data, int steps, double *out) {
    lam_manual_seed(0);
    lam_set_default_device(dev);
    lam_module *net = res ? resnet_new() : lenet_new();
    lam_set_default_device(lam_device_get("cpu"));
    lam_optim *opt = res ? lam_sgd(net, (lam_sgd_options){.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f})
                         : lam_adam(net, (lam_adam_options){.lr = 1e-3f});
    assert_non_null(opt);
    for (int s = 0; s < steps; ++s) {
        lam_scope_begin();
        lam_tensor *x, *y;
        assert_ok(lam_dataset_batch(data, s % 2, 16, dev, &x, &y));
        lam_optim_zero_grad(opt);
        lam_tensor *loss = lam_cross_entropy(lam_forward(net, x), y);
        assert_ok(lam_backward(loss));
        assert_ok(lam_optim_step(opt));
        out[s] = lam_item(loss);
        lam_scope_end();
    }
    lam_optim_free(opt);
    lam_module_free(net);
}

static void test_training_agreement(void **state) {
    (void)state;
    lam_dataset *data = lam_dataset_load_dir(LAMINA_TEST_DATA_DIR, "train");
    assert_non_null(data);
    assert_ok(lam_dataset_limit(data, 32));
    float mean = 0.1307f, std = 0.3081f;
    assert_ok(lam_dataset_normalize(data, &mean, &std, 1));
    assert_ok(lam_dataset_set_image_batches(data, true));
    enum { STEPS = 4 };
    for (int m = 0; m < 2; ++m) {
        double ref[STEPS], got[STEPS];
        losses(m == 1, lam_device_get("cpu"), data, STEPS, ref);
        /* two batches in turn: the loss on each falls from its first visit to its last */
        if (!(ref[STEPS - 2] < ref[0] && ref[STEPS - 1] < ref[1]))
            fail_msg("%s: the loss did not fall: %.4f %.4f ... %.4f %.4f", m ? "ResNet" : "LeNet", ref[0], ref[1],
                     ref[STEPS - 2], ref[STEPS - 1]);
        for (int d = 0; d < ndevs; ++d) {
            if (devs[d] == lam_device_get("cpu")) continue;
            losses(m == 1, devs[d], data, STEPS, got);
            for (int s = 0; s < STEPS; ++s)
                if (!(fabs(got[s] - ref[s]) <= 1e-4 * fabs(ref[s])))
                    fail_msg("%s step %d on %s: loss %.8f, cpu %.8f", m ? "ResNet" : "LeNet", s + 1,
                             lam_device_spec(devs[d]), got[s], ref[s]);
            printf("  %s, %d steps: losses %.6f .. %.6f on cpu and %s agree to 1e-4\n", m ? "ResNet" : "LeNet", STEPS,
                   ref[0], ref[STEPS - 1], lam_device_spec(devs[d]));
        }
    }
    lam_dataset_free(data);
}

static int setup(void **state) {
    (void)state;
    ndevs = tu_devices(devs, TU_MAX_DEVICES);
    return ndevs > 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reprs),           cmocka_unit_test(test_conv_module),
        cmocka_unit_test(test_lazy_conv),       cmocka_unit_test(test_batch_norm_modes),
        cmocka_unit_test(test_dropout_module),  cmocka_unit_test(test_resnet_state_dicts),
        cmocka_unit_test(test_resnet_allocations), cmocka_unit_test(test_training_agreement),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
