/* state_dicts as safetensors: a lamina-saved file PyTorch verified, bad and malformed files
 * that change nothing, persistent and non-persistent buffers. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lamina.h>

#include "module_cases.h"
#include "test_util.h"

/* the devices under test (LAMINA_TEST_DEVICES, else all: test_util.h) */
static lam_device *devs[TU_MAX_DEVICES];
static int ndevs;

/* ---- files: a lamina-saved file (PyTorch loads it) round-trips byte for byte ----------- */


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
    unsigned char *x = tu_slurp(REF("module_lamina_saved.safetensors"), &a), *y = tu_slurp(out, &b);
    assert_true(x && y);
    assert_int_equal(a, b);
    assert_memory_equal(x, y, a);
    free(x);
    free(y);
    /* and PyTorch's own file loads into the same model with the same values */
    assert_int_equal(lam_load(m, REF("module_chimera_state.safetensors")), LAM_OK);
    lam_module_free(m);
    remove(out);
    /* PyTorch loaded the lamina file strictly and computed lamina_saved.out from it: so do we */
    ref_file *rf = ref_open(REF("module_ref.safetensors"));
    assert_non_null(rf);
    for (int d = 0; d < ndevs; ++d) {
        lam_device *dev = devs[d];
        lam_scope_begin();
        lam_tensor *input = ref_tensor(rf, "chimera.x", dev);
        m = built(&models[2], dev, input);
        assert_int_equal(lam_load(m, REF("module_lamina_saved.safetensors")), LAM_OK);
        lam_tensor *output = lam_reshape(lam_forward(m, input), 1, (int64_t[]){-1});
        double err = rel_err(output, ref_tensor(rf, "lamina_saved.out", dev));
        printf("  lamina-saved file, PyTorch's output vs lamina's on %-24s %.2e\n", lam_device_name(dev), err);
        assert_true(err <= 1e-5);
        lam_scope_end();
        lam_module_free(m);
    }
    ref_close(rf);
}

/* ---- bad files: a clear error, and the model as it was -------------------------------- */

static void test_bad_files(void **state) {
    (void)state;
    lam_device *cpu = lam_device_get("cpu");
    lam_scope_begin();
    lam_module *m = built(&models[0], cpu, lam_rand(LAM_SHAPE(2, 20), cpu));
    snapshot s = take_snapshot(m);
    /* a truncated copy of a good file */
    size_t n;
    unsigned char *bytes = tu_slurp(REF("module_mlp_state.safetensors"), &n);
    assert_non_null(bytes);
    char path[512];
    snprintf(path, sizeof path, "%s/truncated.safetensors", LAMINA_TEST_TMP_DIR);
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, n - 100, f);
    fclose(f);
    free(bytes);
    assert_int_equal(lam_load(m, path), LAM_ERR_FORMAT);
    printf("  truncated: %s\n", lam_last_error());
    assert_non_null(strstr(lam_last_error(), "truncated.safetensors"));
    /* cut inside the header, and shorter than the length field */
    bytes = tu_slurp(REF("module_mlp_state.safetensors"), &n);
    assert_non_null(bytes);
    for (size_t cut = 0; cut < 2; ++cut) {
        f = fopen(path, "wb");
        fwrite(bytes, 1, cut ? 40 : 5, f);
        fclose(f);
        assert_int_equal(lam_load(m, path), LAM_ERR_FORMAT);
        assert_non_null(strstr(lam_last_error(), "safetensors"));
    }
    free(bytes);
    remove(path);
    assert_int_equal(lam_load(m, "/nonexistent/x.safetensors"), LAM_ERR_IO);
    assert_int_equal(lam_save(m, "/nonexistent/x.safetensors"), LAM_ERR_IO);
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
    lam_module_free(m);
    lam_scope_end();
    lam_clear_error();
}

/* ---- malformed files: each defect is LAM_ERR_FORMAT and the layer keeps its values ------ */

/* Writes an 8-byte little-endian length, header, then data_len bytes of data. */
static void write_st(const char *path, const char *header, size_t data_len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    size_t h = strlen(header);
    for (int i = 0; i < 8; ++i) fputc((int)((h >> (8 * i)) & 0xff), f);
    fwrite(header, 1, h, f);
    for (size_t i = 0; i < data_len; ++i) fputc(0x3f, f);
    fclose(f);
}

static void test_malformed_files(void **state) {
    (void)state;
    static const struct { const char *why, *header; size_t data; } cases[] = {
        {"good", "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                 "\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]}}", 24},
        {"not json", "{\"weight\":", 24},
        {"not an object", "[1,2]", 0},
        {"unknown dtype", "{\"weight\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", 8},
        {"shape vs bytes", "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", 16},
        {"negative dim", "{\"weight\":{\"dtype\":\"F32\",\"shape\":[-2,2],\"data_offsets\":[0,16]}}", 16},
        {"offsets reversed", "{\"weight\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8},
        {"overlap", "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                    "\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16},
        {"gap", "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]}}", 24},
        {"trailing bytes", "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 20},
        {"past the end", "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 12},
        {"key twice", "{\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                      "\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16},
        {"metadata not strings", "{\"__metadata__\":{\"a\":1}}", 0},
        {"no data_offsets", "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2]}}", 16},
        /* "weight\0evil" must not load as "weight": names (and values) hold no NUL */
        {"NUL in a name", "{\"weight\\u0000evil\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                          "\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]}}", 24},
        {"NUL in a dtype", "{\"weight\":{\"dtype\":\"F32\\u0000\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                           "\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]}}", 24},
    };
    char path[512];
    snprintf(path, sizeof path, "%s/malformed.safetensors", LAMINA_TEST_TMP_DIR);
    lam_module *m = lam_nn_linear(2, 2);
    snapshot s = take_snapshot(m);
    for (size_t i = 1; i < sizeof cases / sizeof *cases; ++i) {
        write_st(path, cases[i].header, cases[i].data);
        lam_clear_error();
        assert_int_equal(lam_load(m, path), LAM_ERR_FORMAT);
        printf("  %-22s %s\n", cases[i].why, strstr(lam_last_error(), ": ") + 2);
    }
    /* a header length past the end of the file */
    FILE *f = fopen(path, "wb");
    fwrite("\xff\xff\x0f\0\0\0\0\0{}", 1, 10, f);
    fclose(f);
    assert_int_equal(lam_load(m, path), LAM_ERR_FORMAT);
    assert_non_null(strstr(lam_last_error(), "truncated"));
    /* a header length over the 100 MB cap says so (not "truncated") */
    f = fopen(path, "wb");
    fwrite("\xff\xff\xff\xff\0\0\0\0{}", 1, 10, f);
    fclose(f);
    assert_int_equal(lam_load(m, path), LAM_ERR_FORMAT);
    printf("  %-22s %s\n", "header over the cap", strstr(lam_last_error(), ": ") + 2);
    assert_non_null(strstr(lam_last_error(), "100 MiB"));
    assert_null(strstr(lam_last_error(), "truncated"));
    /* a raw NUL byte inside a name is refused too */
    write_st(path, cases[0].header, cases[0].data);
    f = fopen(path, "r+b");
    fseek(f, 8 + 7, SEEK_SET);   /* {"weight" -> {"weig\0t */
    fputc(0, f);
    fclose(f);
    assert_int_equal(lam_load(m, path), LAM_ERR_FORMAT);
    assert_non_null(strstr(lam_last_error(), "NUL"));
    assert_unchanged(m, &s);
    /* and the well-formed one loads: 0x3f3f3f3f is 0.747059 */
    write_st(path, cases[0].header, cases[0].data);
    assert_int_equal(lam_load(m, path), LAM_OK);
    lam_scope_begin();
    assert_true(fabs(lam_item(lam_sum(lam_module_param(m, "weight"))) - 4 * 0.7470588) < 1e-5);
    lam_scope_end();
    remove(path);
    lam_module_free(m);
}

/* ---- buffers: persistent ones are saved, non-persistent ones are not (PyTorch's rule) -- */

static void test_persistence(void **state) {
    (void)state;
    lam_device *cpu = lam_device_get("cpu");
    char path[512];
    snprintf(path, sizeof path, "%s/persistence.safetensors", LAMINA_TEST_TMP_DIR);
    lam_module *m = lam_nn_linear(2, 2), *plain = lam_nn_linear(2, 2);
    lam_scope_begin();
    assert_non_null(lam_add_buffer(m, "scratch", lam_ones(LAM_SHAPE(3), cpu), false));
    assert_non_null(lam_add_buffer(m, "kept", lam_full(2, LAM_SHAPE(2), cpu), true));
    assert_int_equal(lam_named_buffers(m, NULL, 0), 2);   /* both are buffers */
    assert_int_equal(lam_save(m, path), LAM_OK);
    lam_tensor *w = lam_clone(lam_module_param(m, "weight"));
    lam_fill_(lam_module_buffer(m, "kept"), 0);
    assert_int_equal(lam_load(m, path), LAM_OK);   /* "scratch" is not asked for */
    assert_true(lam_item(lam_sum(lam_module_buffer(m, "kept"))) == 4);
    assert_true(lam_item(lam_sum(lam_module_buffer(m, "scratch"))) == 3);
    /* the file holds weight, bias and kept: a Linear without "kept" finds one key too many */
    assert_int_equal(lam_load(plain, path), LAM_ERR_STATE);
    assert_non_null(strstr(lam_last_error(), "unexpected key \"kept\""));
    assert_non_null(lam_add_buffer(plain, "kept", lam_zeros(LAM_SHAPE(2), cpu), true));
    assert_non_null(lam_add_buffer(plain, "scratch", lam_zeros(LAM_SHAPE(5), cpu), false));
    assert_int_equal(lam_load(plain, path), LAM_OK);
    assert_true(rel_err(lam_module_param(plain, "weight"), w) == 0);
    lam_scope_end();
    lam_module_free(m);
    lam_module_free(plain);
    remove(path);
    lam_clear_error();
}

/* ---- saving: a writer killed mid-save leaves the old file; its temporary is cleaned ----- */

/* How many "<dir>/<base>.tmp.*" files exist. */
static int count_temps(const char *dir, const char *base) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s.tmp.", base);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += !strncmp(e->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

static void touch(const char *dir, const char *name) {
    char p[768];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs("half a checkpoint", f);
    fclose(f);
}

static bool exists(const char *dir, const char *name) {
    char p[768];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* A pid that no process has: a child that has exited and been reaped. */
static pid_t dead_pid(void) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    return pid;
}

static void test_stale_temporaries(void **state) {
    (void)state;
    const char *dir = LAMINA_TEST_TMP_DIR;
    char path[512], name[128];
    snprintf(path, sizeof path, "%s/stale.safetensors", dir);
    pid_t dead = dead_pid();
    struct { const char *fmt; long pid; bool removed; } files[] = {
        {"stale.safetensors.tmp.%ld", dead, true},              /* the old naming */
        {"stale.safetensors.tmp.%ld.3", dead, true},            /* the current one */
        {"stale.safetensors.tmp.%ld.4", (long)getpid(), false}, /* this process: maybe another thread's */
        {"stale.safetensors.tmp.%ld.5", (long)getppid(), false},/* a live process */
        {"stale.safetensors.tmp.%ld.x", dead, false},           /* not a temporary of ours */
        {"other.safetensors.tmp.%ld", dead, false},             /* another path's */
        {"stale.safetensors.tmp.%ld.9", dead, false},           /* locked: a writer in another PID namespace */
    };
    int nfiles = (int)(sizeof files / sizeof *files);
    for (int i = 0; i < nfiles; ++i) {
        snprintf(name, sizeof name, files[i].fmt, files[i].pid);
        touch(dir, name);
    }
    snprintf(name, sizeof name, files[nfiles - 1].fmt, files[nfiles - 1].pid);
    char locked[768];
    snprintf(locked, sizeof locked, "%s/%s", dir, name);
    int fd = open(locked, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);

    lam_module *m = lam_nn_linear(2, 2);
    assert_int_equal(lam_save(m, path), LAM_OK);
    for (int i = 0; i < nfiles; ++i) {
        snprintf(name, sizeof name, files[i].fmt, files[i].pid);
        if (exists(dir, name) == files[i].removed) fail_msg("%s %s", name, files[i].removed ? "was kept" : "was removed");
        char p[768];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        remove(p);
    }
    close(fd);
    assert_int_equal(lam_load(m, path), LAM_OK);
    lam_module_free(m);
    remove(path);
}

static double weight_sum(lam_module *m) {
    lam_scope_begin();
    double s = lam_item(lam_sum(lam_module_param(m, "weight")));
    lam_scope_end();
    return s;
}

/* 16 MB of weights: saving takes long enough to be killed in the middle. */
static lam_module *big_model(uint64_t seed) {
    lam_manual_seed(seed);
    return lam_nn_linear_nobias(4096, 1024);
}

/* The child (this program, re-executed): saves the seed-2 model to path until killed. */
static int save_forever(const char *path) {
    lam_set_default_device(lam_device_get("cpu"));
    lam_module *m = big_model(2);
    while (m && lam_save(m, path) == LAM_OK) continue;
    fprintf(stderr, "save_forever: %s\n", lam_last_error());
    return 1;
}

static char self_exe[4096];

static void test_killed_mid_save(void **state) {
    (void)state;
    const char *dir = LAMINA_TEST_TMP_DIR;
    char path[512];
    snprintf(path, sizeof path, "%s/killed.safetensors", dir);
    lam_module *a = big_model(1), *b = big_model(2), *c = big_model(3);
    double sum_a = weight_sum(a), sum_b = weight_sum(b);
    assert_int_equal(lam_save(a, path), LAM_OK);
    char *argv[] = {self_exe, "--save-forever", path, NULL};
    bool killed_mid_write = false;
    for (int attempt = 0; attempt < 20 && !killed_mid_write; ++attempt) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            execv(self_exe, argv);
            _exit(127);
        }
        /* wait until the child is writing its temporary, then kill it */
        for (int polls = 0; polls < 100000 && !count_temps(dir, "killed.safetensors"); ++polls)
            nanosleep(&(struct timespec){0, 100000}, NULL);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        killed_mid_write = count_temps(dir, "killed.safetensors") > 0;
        /* whichever save finished last, the file is whole */
        assert_int_equal(lam_load(c, path), LAM_OK);
        double s = weight_sum(c);
        assert_true(s == sum_a || s == sum_b);
    }
    assert_true(killed_mid_write);
    print_message("  killed mid-save: %d temporary file(s) left\n", count_temps(dir, "killed.safetensors"));
    assert_int_equal(lam_save(a, path), LAM_OK);   /* the next save cleans up */
    assert_int_equal(count_temps(dir, "killed.safetensors"), 0);
    assert_int_equal(lam_load(c, path), LAM_OK);
    assert_true(weight_sum(c) == sum_a);
    lam_module_free(a);
    lam_module_free(b);
    lam_module_free(c);
    remove(path);
}

int main(int argc, char **argv) {
    ndevs = tu_devices(devs, TU_MAX_DEVICES);
    if (argc == 3 && !strcmp(argv[1], "--save-forever")) return save_forever(argv[2]);
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n > 0) self_exe[n] = '\0';
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_saved_file), cmocka_unit_test(test_bad_files), cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_persistence), cmocka_unit_test(test_stale_temporaries),
        cmocka_unit_test(test_killed_mid_save),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
