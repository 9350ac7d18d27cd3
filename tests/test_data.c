/* Datasets: IDX pairs found in a directory by name (plain, gzip, other data sets' names),
 * image-shaped batches, per-channel statistics and normalization against torch
 * (tests/reference/make_data_reference.py), Fashion-MNIST from Debian's package, bad input. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <lamina.h>

#include "reference_file.h"
#include "test_util.h"

#define DATA LAMINA_TEST_DATA_DIR
#define TMP LAMINA_TEST_TMP_DIR "/data_test"
#define FASHION "/usr/share/datasets/fashion-mnist"

static ref_file *ref;

static int setup(void **state) {
    (void)state;
    ref = ref_open(LAMINA_TEST_REFERENCE_DIR "/data_ref.safetensors");
    return ref ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    ref_close(ref);
    return 0;
}

static double *ref_values(const char *name) {
    lam_scope_begin();
    lam_tensor *t = ref_tensor(ref, name, lam_device_get("cpu"));
    double *v = t ? tu_read(t) : NULL;
    lam_scope_end();
    return v;
}

/* Writes idx as a plain IDX file (the loader's own reading checked against the original). */
static void write_idx(const char *path, const lam_idx *idx) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char head[4] = {0, 0, 8, (unsigned char)idx->ndim};
    fwrite(head, 1, 4, f);
    for (int i = 0; i < idx->ndim; ++i) {
        unsigned char d[4] = {(unsigned char)(idx->dims[i] >> 24), (unsigned char)(idx->dims[i] >> 16),
                              (unsigned char)(idx->dims[i] >> 8), (unsigned char)idx->dims[i]};
        fwrite(d, 1, 4, f);
    }
    fwrite(idx->data, 1, (size_t)idx->numel, f);
    assert_int_equal(fclose(f), 0);
}

/* Copies DATA/name (gzip) to TMP/to, unpacked when plain is true, else as is. */
static void copy_as(const char *name, const char *to, bool plain) {
    char src[1024], dst[1024];
    snprintf(src, sizeof src, "%s/%s", DATA, name);
    snprintf(dst, sizeof dst, "%s/%s", TMP, to);
    if (plain) {
        lam_idx idx;
        assert_int_equal(lam_idx_load(src, 0, &idx), LAM_OK);
        write_idx(dst, &idx);
        lam_idx_free(&idx);
        return;
    }
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    assert_true(in && out);
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

static void fresh_tmp(void) {
    assert_int_equal(system("rm -rf '" TMP "'"), 0);
    assert_int_equal(mkdir(TMP, 0755), 0);
}

/* The same examples and labels as the bundled set. */
static void assert_same_as_bundled(lam_dataset *d, const char *split) {
    lam_dataset *b = lam_dataset_load_mnist(DATA, split);
    assert_non_null(b);
    assert_int_equal(lam_dataset_size(d), lam_dataset_size(b));
    for (int64_t i = 0; i < lam_dataset_size(b); i += 997) {
        assert_memory_equal(lam_dataset_image(d, i), lam_dataset_image(b, i), 784 * sizeof(float));
        assert_int_equal(lam_dataset_label(d, i), lam_dataset_label(b, i));
    }
    lam_dataset_free(b);
}

static void test_load_dir(void **state) {
    (void)state;
    lam_dataset *train = lam_dataset_load_dir(DATA, "train"), *test = lam_dataset_load_dir(DATA, "test");
    assert_non_null(train);
    assert_non_null(test);
    assert_int_equal(lam_dataset_size(train), 8000);
    assert_int_equal(lam_dataset_size(test), 2000);
    assert_int_equal(lam_dataset_features(train), 784);
    assert_int_equal(lam_dataset_classes(train), 10);
    int64_t shape[3];
    assert_int_equal(lam_dataset_example_shape(train, shape), 3);
    assert_true(shape[0] == 1 && shape[1] == 28 && shape[2] == 28);
    assert_same_as_bundled(train, "train");
    lam_dataset_free(train);
    lam_dataset_free(test);

    /* other names, plain beside gzip, an unpacked copy beside its .gz */
    fresh_tmp();
    copy_as("train-images-idx3-ubyte.gz", "emnist-digits-train-images-idx3-ubyte", true);
    copy_as("train-labels-idx1-ubyte.gz", "emnist-digits-train-labels-idx1-ubyte.gz", false);
    copy_as("train-labels-idx1-ubyte.gz", "emnist-digits-train-labels-idx1-ubyte", true);
    copy_as("t10k-images-idx3-ubyte.gz", "emnist-digits-test-images-idx3-ubyte.gz", false);
    copy_as("t10k-labels-idx1-ubyte.gz", "emnist-digits-test-labels-idx1-ubyte.gz", false);
    assert_int_equal(system("echo notes > '" TMP "/README.txt'"), 0);
    train = lam_dataset_load_dir(TMP, "train");
    if (!train) fail_msg("%s", lam_last_error());
    assert_same_as_bundled(train, "train");
    lam_dataset_free(train);
    test = lam_dataset_load_dir(TMP, "test");
    assert_non_null(test);
    assert_same_as_bundled(test, "test");
    lam_dataset_free(test);

    /* two different image files: which one? none: say what was looked for */
    copy_as("t10k-images-idx3-ubyte.gz", "kmnist-test-images-idx3-ubyte.gz", false);
    assert_null(lam_dataset_load_dir(TMP, "test"));
    printf("  two candidates: %s\n", lam_last_error());
    assert_non_null(strstr(lam_last_error(), "which one"));
    assert_int_equal(system("rm '" TMP "'/*labels*"), 0);
    assert_null(lam_dataset_load_dir(TMP, "train"));
    printf("  no labels:      %s\n", lam_last_error());
    assert_non_null(strstr(lam_last_error(), "training labels"));
    assert_null(lam_dataset_load_dir(TMP "/nowhere", "train"));
    assert_null(lam_dataset_load_dir(DATA, "validation"));
    assert_int_equal(lam_last_status(), LAM_ERR_ARG);
    assert_int_equal(system("rm -rf '" TMP "'"), 0);
}

/* Statistics against torch; normalized image batches on every device against torchvision's maths. */
static void test_normalized_image_batches(void **state) {
    (void)state;
    lam_dataset *train = lam_dataset_load_dir(DATA, "train");
    assert_non_null(train);
    float mean[2] = {0}, std[2] = {0};
    assert_int_equal(lam_dataset_channel_stats(train, mean, std, 2), 1);
    double *want_mean = ref_values("mnist.mean"), *want_std = ref_values("mnist.std");
    printf("  mean %.7f std %.7f (torch %.7f %.7f)\n", mean[0], std[0], want_mean[0], want_std[0]);
    assert_true(mean[0] == (float)want_mean[0] && std[0] == (float)want_std[0]);
    lam_device *devs[TU_MAX_DEVICES];
    int nd = tu_devices(devs, TU_MAX_DEVICES);
    double *want = ref_values("mnist.batch"), *labels = ref_values("mnist.labels");
    for (int d = 0; d < nd; ++d) {
        lam_scope_begin();
        lam_tensor *x, *y;
        assert_ok(lam_dataset_batch(train, 0, 3, devs[d], &x, &y));   /* flat and raw by default */
        assert_true(lam_ndim(x) == 2 && lam_dim(x, 1) == 784);
        double *raw = tu_read(x);
        assert_true(raw[300] == lam_dataset_image(train, 0)[300]);
        assert_ok(lam_dataset_normalize(train, mean, std, 1));
        assert_ok(lam_dataset_set_image_batches(train, true));
        assert_ok(lam_dataset_batch(train, 0, 3, devs[d], &x, &y));
        assert_true(lam_ndim(x) == 4 && lam_dim(x, 0) == 3 && lam_dim(x, 1) == 1 && lam_dim(x, 2) == 28 &&
                    lam_dim(x, 3) == 28);
        double *got = tu_read(x), *got_y = tu_read(y);
        double err = tu_max_abs_diff(got, want, 3 * 784);
        printf("  %-30s normalized (3, 1, 28, 28) batch: max |diff| %.1e\n", lam_device_name(devs[d]), err);
        assert_true(err <= 1e-6);
        assert_memory_equal(got_y, labels, 3 * sizeof *labels);
        assert_ok(lam_dataset_normalize(train, NULL, NULL, 0));   /* off again; stored images untouched */
        assert_ok(lam_dataset_set_image_batches(train, false));
        assert_true(lam_dataset_image(train, 0)[300] == (float)raw[300]);
        free(raw);
        free(got);
        free(got_y);
        lam_scope_end();
    }
    free(want);
    free(labels);
    free(want_mean);
    free(want_std);
    lam_dataset_free(train);
}

/* Debian's dataset-fashion-mnist, as ci/install-deps.sh installs it. */
static void test_fashion_mnist(void **state) {
    (void)state;
    struct stat st;
    double *sizes = ref_values("fashion.sizes");
    if (stat(FASHION, &st) != 0 || !sizes) {
        printf("  %s or its reference is missing (apt-get install dataset-fashion-mnist): skipped\n", FASHION);
        free(sizes);
        skip();
    }
    lam_dataset *train = lam_dataset_load_dir(FASHION, "train"), *test = lam_dataset_load_dir(FASHION, "test");
    if (!train || !test) fail_msg("%s", lam_last_error());
    assert_int_equal(lam_dataset_size(train), (int64_t)sizes[0]);
    assert_int_equal(lam_dataset_size(test), (int64_t)sizes[1]);
    assert_int_equal(lam_dataset_classes(train), 10);
    float mean, std;
    assert_int_equal(lam_dataset_channel_stats(train, &mean, &std, 1), 1);
    double *want_mean = ref_values("fashion.mean"), *want_std = ref_values("fashion.std");
    double *first = ref_values("fashion.first");
    printf("  Fashion-MNIST: %lld + %lld images, mean %.4f std %.4f (torch %.4f %.4f)\n",
           (long long)lam_dataset_size(train), (long long)lam_dataset_size(test), mean, std, want_mean[0], want_std[0]);
    assert_true(mean == (float)want_mean[0] && std == (float)want_std[0]);
    for (int i = 0; i < 784; ++i) assert_true(lam_dataset_image(train, 0)[i] == (float)first[i]);
    free(sizes);
    free(want_mean);
    free(want_std);
    free(first);
    lam_dataset_free(train);
    lam_dataset_free(test);
}

static void test_bad_input(void **state) {
    (void)state;
    fresh_tmp();
    /* a data set of vectors: (N, F) images */
    uint8_t bytes[12] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110}, lab[4] = {0, 1, 2, 1};
    lam_idx v = {.ndim = 2, .dims = {4, 3}, .numel = 12, .data = bytes};
    lam_idx l = {.ndim = 1, .dims = {4}, .numel = 4, .data = lab};
    write_idx(TMP "/vec-train-images-idx2-ubyte", &v);
    write_idx(TMP "/vec-train-labels-idx1-ubyte", &l);
    lam_dataset *d = lam_dataset_load_dir(TMP, "train");
    assert_non_null(d);
    int64_t shape[3];
    assert_int_equal(lam_dataset_example_shape(d, shape), 1);
    assert_int_equal(shape[0], 3);
    assert_int_equal(lam_dataset_classes(d), 3);
    assert_int_equal(lam_dataset_set_image_batches(d, true), LAM_ERR_STATE);
    float mean[3], std[3];
    assert_int_equal(lam_dataset_channel_stats(d, mean, std, 3), 3);   /* per feature */
    assert_true(fabsf(mean[0] - 45.0f / 255) < 1e-7f);
    assert_true(fabs(std[0] - sqrt((45.0 * 45 + 15.0 * 15 * 2 + 45.0 * 45) / 3) / 255) < 1e-7);
    assert_int_equal(lam_dataset_normalize(d, mean, std, 1), LAM_ERR_ARG);   /* 3 channels */
    std[1] = 0;
    assert_int_equal(lam_dataset_normalize(d, mean, std, 3), LAM_ERR_ARG);
    assert_int_equal(lam_dataset_normalize(d, mean, NULL, 3), LAM_ERR_ARG);
    assert_int_equal(lam_dataset_channel_stats(d, NULL, std, 3), -1);
    lam_dataset_free(d);
    assert_int_equal(system("rm -rf '" TMP "'"), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_normalized_image_batches),
        cmocka_unit_test(test_fashion_mnist),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
