#define _GNU_SOURCE
/* Kernel statistics (lamina/device.h) on the first OpenCL device under test:
 *   - every case of the op harness (tests/ops/cases_*.c), forward and backward, in f32 and in
 *     f16 where the case has an f16 tolerance: no launch may report zero bytes, and an op
 *     that launched anything must report bytes written (and read, when it has inputs);
 *   - exact bytes and launches for a few simple ops, and GEMM bytes;
 *   - the API: NULL arguments, cpu's LAM_ERR_UNSUPPORTED, resets, host waits.
 * Run with the counting shim (tests/enqueue_count.c in LD_PRELOAD, ctest kernel_stats and
 * kernel_stats_tree) it also checks, per case, that lamina's launches plus the GEMM kernels
 * it works out equal the kernels, fills and copies the OpenCL runtime was handed, and that
 * every kernel in cl/ ran. Without an OpenCL device every test skips. */
#include <dirent.h>
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ops/harness.h"
#include "test_util.h"

#ifndef LAMINA_CL_DIR
#define LAMINA_CL_DIR "cl"
#endif

static lam_device *dev;                          /* NULL: no OpenCL device, every test skips */
static uint64_t (*shim_commands)(void);          /* the shim's count, when it is loaded */
static int (*shim_seen)(const char *kernel);     /* whether the shim saw kernel launched */

static const h_family *const families[] = {&h_family_elementwise, &h_family_reduce, &h_family_linalg,
                                           &h_family_views,       &h_family_cnn,    &h_family_index,
                                           &h_family_norm,        &h_family_attention};
#define NFAMILIES ((int)(sizeof families / sizeof *families))

static uint64_t shim_now(void) { return shim_commands ? shim_commands() : 0; }
static int gemm_compared;   /* pieces of work whose GEMM kernels were checked against the shim */

/* ---- counting one piece of work ------------------------------------------------------------ */

typedef struct {
    lam_kernel_stats k;
    uint64_t enqueued;   /* commands the shim saw */
} counts;

static void start(uint64_t *shim0) {
    assert_ok(lam_device_synchronize(dev));
    assert_ok(lam_device_reset_kernel_stats(dev));
    *shim0 = shim_now();
}

static counts finish(uint64_t shim0) {
    counts c;
    assert_ok(lam_device_synchronize(dev));
    assert_ok(lam_device_kernel_stats(dev, &c.k));
    c.enqueued = shim_now() - shim0;
    return c;
}

/* Prints why c is wrong for the work `what` (which reads tensors when `reads`); the number of
 * problems found. */
static int judge(const char *what, const counts *c, bool reads) {
    const lam_kernel_stats *k = &c->k;
    int bad = 0;
    uint64_t ran = k->launches + k->gemm_calls, kernels = k->launches + k->gemm_kernels;
    if (k->unsized) {
        print_error("%s: %llu launch(es) reported no bytes\n", what, (unsigned long long)k->unsized);
        bad++;
    }
    if (ran && !k->bytes_written) {
        print_error("%s: %llu launch(es), 0 bytes written\n", what, (unsigned long long)ran);
        bad++;
    }
    if (ran && reads && !k->bytes_read) {
        print_error("%s: %llu launch(es), 0 bytes read\n", what, (unsigned long long)ran);
        bad++;
    }
    if (shim_commands && c->enqueued && !ran) {
        print_error("%s: %llu command(s) enqueued, none counted\n", what, (unsigned long long)c->enqueued);
        bad++;
    }
    /* CLBlast's kernels are worked out from its parameters: exact where lamina knows them */
    bool exact = k->gemm_kernels_exact || !k->gemm_calls;
    if (shim_commands && exact && k->gemm_calls) gemm_compared++;
    if (shim_commands && exact && c->enqueued != kernels) {
        print_error("%s: the runtime was handed %llu command(s), lamina counted %llu launch(es) + %llu GEMM kernel(s) "
                    "in %llu call(s)\n",
                    what, (unsigned long long)c->enqueued, (unsigned long long)k->launches,
                    (unsigned long long)k->gemm_kernels, (unsigned long long)k->gemm_calls);
        bad++;
    }
    return bad;
}

/* ---- the op harness's cases ------------------------------------------------------------------ */

static bool is_int(lam_dtype dt) { return dt == LAM_I32 || dt == LAM_I64; }

/* Input s on dev in its layout (values as the harness draws them; integers contiguous). */
static lam_tensor *make_input(const h_input *s, lam_dtype dt, uint64_t seed) {
    int nd = s->ndim;
    h_layout lay = nd == 0 || is_int(s->dtype) ? H_CONTIG : s->layout;
    if (lay == H_TRANSPOSED && nd < 2) lay = H_CONTIG;
    int64_t ps[LAM_MAX_DIMS];
    memcpy(ps, s->shape, sizeof ps);
    if (lay == H_TRANSPOSED) ps[nd - 2] = s->shape[nd - 1], ps[nd - 1] = s->shape[nd - 2];
    if (lay == H_SLICED) ps[nd - 1] = 2 * s->shape[nd - 1] + 1;
    if (lay == H_EXPANDED) ps[0] = 1;
    int64_t n = h_numel(nd, ps);
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    tu_fill_uniform(v, n, s->lo, s->hi, seed);
    for (int64_t k = 0; k < n; ++k) {
        if (s->q > 0) v[k] = (double)(int64_t)(v[k] / s->q) * s->q;
        if (is_int(s->dtype)) v[k] = (double)(int64_t)v[k];
    }
    lam_tensor *p = tu_from_doubles(v, nd, ps, dev);
    free(v);
    if (is_int(s->dtype)) p = lam_to_dtype(p, s->dtype);
    else if (dt == LAM_F16) p = lam_to_dtype(p, LAM_F16);
    if (!p) return NULL;
    if (lay == H_TRANSPOSED) return lam_transpose(p, nd - 2, nd - 1);
    if (lay == H_SLICED) return lam_slice(p, nd - 1, 1, 2 * s->shape[nd - 1] + 1, 2);
    if (lay == H_EXPANDED) return lam_expand(p, nd, s->shape);
    return p;
}

/* Forward (and, for f32 cases with gradients, backward) of case c in dtype dt: problems found. */
static int run_case(const h_case *c, lam_dtype dt) {
    char what[256];
    snprintf(what, sizeof what, "%s [%s] %s", c->op, c->what ? c->what : "", lam_dtype_name(dt));
    int bad = 0;
    lam_scope_begin();
    lam_tensor *in[H_MAX_IN] = {NULL};
    bool grad = c->grad && dt == LAM_F32, reads = false;
    for (int i = 0; i < c->n_in; ++i) {
        if (!(in[i] = make_input(&c->in[i], dt, 1000u * (uint64_t)i + 7))) fail_msg("%s: input %d: %s", what, i, lam_last_error());
        if (grad && !c->in[i].constant && !is_int(c->in[i].dtype)) lam_requires_grad(in[i], true);
        reads = true;
    }
    uint64_t s0;
    start(&s0);
    lam_tensor *y = c->build(c, in);
    if (!y) fail_msg("%s: %s", what, lam_last_error());
    counts fwd = finish(s0);
    char label[300];
    snprintf(label, sizeof label, "%s forward", what);
    bad += judge(label, &fwd, reads);
    if (grad && lam_tensor_dtype(y) == LAM_F32 && lam_tensor_requires_grad(y)) {
        lam_tensor *g = lam_ones_like(y);
        start(&s0);
        assert_ok(lam_backward_with(y, g));
        counts bwd = finish(s0);
        snprintf(label, sizeof label, "%s backward", what);
        bad += judge(label, &bwd, true);
    }
    lam_scope_end();
    return bad;
}

static void test_every_case(void **state) {
    (void)state;
    if (!dev) skip();
    int bad = 0, cases = 0;
    for (int f = 0; f < NFAMILIES; ++f)
        for (int i = 0; i < families[f]->count; ++i) {
            const h_case *c = &families[f]->cases[i];
            bad += run_case(c, LAM_F32);
            if (c->tol_f16 > 0) bad += run_case(c, LAM_F16);
            cases++;
        }
    print_message("%d cases, %d problem(s)", cases, bad);
    if (shim_commands) print_message(", checked against the enqueue shim (%d with GEMM kernels)", gemm_compared);
    print_message("\n");
    assert_int_equal(bad, 0);
    /* the CPU devices' GEMM parameters are lamina's: there, every count must have been checked */
    lam_device_info info;
    assert_ok(lam_device_query(dev, &info));
    if (shim_commands && info.type == LAM_DEVICE_CPU && !getenv("LAMINA_CL_CLBLAST_DEFAULTS")) assert_true(gemm_compared > 0);
}

/* ---- extra work for the kernels no harness case reaches -------------------------------------- */

static void test_extra_kernels(void **state) {
    (void)state;
    if (!dev) skip();
    int bad = 0;
    uint64_t s0;
    lam_scope_begin();
    /* one output over a long row: the two-pass reduction */
    lam_tensor *x = lam_rand(LAM_SHAPE(70000), dev);
    start(&s0);
    assert_non_null(lam_sum(x));
    counts c = finish(s0);
    bad += judge("lam_sum of 70000", &c, true);
    /* indices computed on the device: the check kernel */
    lam_tensor *w = lam_rand(LAM_SHAPE(10, 4), dev), *ids = lam_argmax(lam_rand(LAM_SHAPE(6, 10), dev), 1, false);
    start(&s0);
    assert_non_null(lam_index_select(w, 0, ids));
    c = finish(s0);
    bad += judge("lam_index_select, device indices", &c, true);
    /* SGD with momentum and Adam: the fused optimizer kernels */
    lam_module *m = lam_nn_linear(8, 4);
    assert_ok(lam_module_to(m, dev));
    lam_optim *opts[2] = {lam_sgd(m, (lam_sgd_options){.lr = 0.1f, .momentum = 0.9f}),
                          lam_adam(m, (lam_adam_options){.lr = 1e-3f})};
    for (int k = 0; k < 2; ++k) {
        assert_non_null(opts[k]);
        assert_ok(lam_backward(lam_sum(lam_forward(m, lam_rand(LAM_SHAPE(3, 8), dev)))));
        start(&s0);
        assert_ok(lam_optim_step(opts[k]));
        c = finish(s0);
        bad += judge(k ? "adam step" : "sgd step", &c, true);
        lam_optim_free(opts[k]);
    }
    lam_module_free(m);
    /* a BatchNorm2d module in training: running statistics and the batch counter */
    lam_module *bn = lam_nn_batch_norm2d(3);
    assert_ok(lam_module_to(bn, dev));
    lam_tensor *xb = lam_rand(LAM_SHAPE(4, 3, 5, 5), dev);
    start(&s0);
    assert_non_null(lam_forward(bn, xb));
    c = finish(s0);
    bad += judge("BatchNorm2d forward in training", &c, true);
    lam_module_free(bn);
    lam_scope_end();
    assert_int_equal(bad, 0);
}

/* ---- exact figures ----------------------------------------------------------------------------- */

/* The stats of y = f(x) with x already on the device. */
#define COUNT(expr, out)                 \
    do {                                 \
        uint64_t s0_;                    \
        start(&s0_);                     \
        assert_non_null(expr);           \
        (out) = finish(s0_).k;           \
    } while (0)

static void expect(const char *what, const lam_kernel_stats *k, uint64_t launches, uint64_t gemm_calls,
                   uint64_t read, uint64_t written) {
    if (k->launches != launches || k->gemm_calls != gemm_calls || k->bytes_read != read ||
        k->bytes_written != written)
        fail_msg("%s: %llu launches, %llu GEMM calls, %llu bytes read, %llu written; expected %llu, %llu, %llu, %llu",
                 what, (unsigned long long)k->launches, (unsigned long long)k->gemm_calls,
                 (unsigned long long)k->bytes_read, (unsigned long long)k->bytes_written,
                 (unsigned long long)launches, (unsigned long long)gemm_calls, (unsigned long long)read,
                 (unsigned long long)written);
}

static void test_exact_bytes(void **state) {
    (void)state;
    if (!dev) skip();
    const uint64_t N = 1000, f = sizeof(float);
    lam_kernel_stats k;
    lam_scope_begin();
    lam_tensor *x = lam_rand(LAM_SHAPE((int64_t)N), dev);
    COUNT(lam_relu(x), k);
    expect("relu of 1000", &k, 1, 0, f * N, f * N);
    COUNT(lam_add(x, x), k);   /* each operand counts */
    expect("x + x of 1000", &k, 1, 0, 2 * f * N, f * N);
    lam_tensor *a = lam_rand(LAM_SHAPE(64, 32), dev), *b = lam_rand(LAM_SHAPE(32), dev);
    COUNT(lam_add(a, b), k);   /* b broadcast over the rows: its 32 elements once */
    expect("(64, 32) + (32)", &k, 1, 0, f * (64 * 32 + 32), f * 64 * 32);
    COUNT(lam_sum(x), k);
    expect("sum of 1000", &k, 1, 0, f * N, f);
    COUNT(lam_zeros(LAM_SHAPE((int64_t)N), dev), k);   /* a buffer fill */
    expect("zeros of 1000", &k, 1, 0, 0, f * N);
    COUNT(lam_contiguous(lam_transpose(a, 0, 1)), k);   /* the strided copy kernel */
    expect("contiguous transpose (32, 64)", &k, 1, 0, f * 64 * 32, f * 64 * 32);
    lam_tensor *p = lam_rand(LAM_SHAPE(16, 24), dev), *q = lam_rand(LAM_SHAPE(24, 8), dev);
    COUNT(lam_matmul(p, q), k);
    expect("(16, 24) @ (24, 8)", &k, 0, 1, f * (16 * 24 + 24 * 8), f * 16 * 8);
    assert_int_equal(k.gemm_bytes_read, k.bytes_read);
    assert_int_equal(k.gemm_bytes_written, k.bytes_written);
    assert_true(k.gemm_kernels >= 1);
    lam_tensor *r = lam_rand(LAM_SHAPE(4, 32), dev), *w = lam_rand(LAM_SHAPE(32), dev), *bias = lam_rand(LAM_SHAPE(32), dev);
    COUNT(lam_layer_norm(r, LAM_SHAPE(32), w, bias, 1e-5f), k);   /* y, then each row's mean and rstd */
    expect("layer norm (4, 32)", &k, 1, 0, f * (4 * 32 + 32 + 32), f * (4 * 32 + 4 + 4));
    lam_scope_end();
}

/* ---- the API --------------------------------------------------------------------------------- */

static void test_api(void **state) {
    (void)state;
    lam_kernel_stats k;
    lam_device *cpu = lam_device_get("cpu");
    assert_int_equal(lam_device_kernel_stats(NULL, &k), LAM_ERR_ARG);
    assert_int_equal(lam_device_kernel_stats(cpu, NULL), LAM_ERR_ARG);
    assert_int_equal(lam_device_reset_kernel_stats(NULL), LAM_ERR_ARG);
    assert_int_equal(lam_device_reset_peak(NULL), LAM_ERR_ARG);
    memset(&k, 0xff, sizeof k);
    assert_int_equal(lam_device_kernel_stats(cpu, &k), LAM_ERR_UNSUPPORTED);
    assert_non_null(strstr(lam_last_error(), "cpu"));
    assert_int_equal(k.launches, 0);
    assert_int_equal(lam_device_reset_kernel_stats(cpu), LAM_ERR_UNSUPPORTED);
    lam_pool_stats cpu_pool;   /* the cpu pool's peak comes down to what is in use */
    assert_ok(lam_device_reset_peak(cpu));
    assert_ok(lam_device_pool_stats(cpu, &cpu_pool));
    assert_int_equal(cpu_pool.peak, cpu_pool.in_use);
    assert_string_equal(lam_status_name(LAM_ERR_UNSUPPORTED), "LAM_ERR_UNSUPPORTED");
    lam_clear_error();
    if (!dev) skip();
    lam_scope_begin();
    lam_tensor *x = lam_rand(LAM_SHAPE(256), dev);
    lam_tensor *total = lam_sum(lam_relu(x));
    assert_non_null(total);
    assert_ok(lam_device_synchronize(dev));
    assert_ok(lam_device_reset_kernel_stats(dev));
    assert_ok(lam_device_kernel_stats(dev, &k));
    assert_true(k.launches == 0 && k.gemm_calls == 0 && k.bytes_read == 0 && k.bytes_written == 0 && k.host_waits == 0);
    assert_int_equal(k.gemm_kernels_exact, 1);
    /* one blocking read; no launch (a synchronous queue, Rusticl's, waits after each) */
    (void)lam_item(total);
    assert_int_equal(lam_last_status(), LAM_OK);
    assert_ok(lam_device_kernel_stats(dev, &k));
    assert_int_equal(k.host_waits, 1);
    /* the peak comes down to what is in use, then rises with the next allocation */
    lam_tensor *big = lam_rand(LAM_SHAPE(1 << 20), dev);
    lam_release(lam_keep(big));
    lam_pool_stats pool;
    assert_ok(lam_device_reset_peak(dev));
    assert_ok(lam_device_pool_stats(dev, &pool));
    assert_int_equal(pool.peak, pool.in_use);
    assert_non_null(lam_relu(x));
    assert_ok(lam_device_pool_stats(dev, &pool));
    assert_true(pool.peak >= pool.in_use);
    lam_scope_end();
}

/* ---- every kernel ran (with the shim) -------------------------------------------------------- */

static void test_every_kernel_ran(void **state) {
    (void)state;
    if (!dev || !shim_seen) skip();
    /* the work-group tree kernels run on GPUs or with LAMINA_CL_TREE=1, the others elsewhere */
    const char *tree_env = getenv("LAMINA_CL_TREE");
    lam_device_info info;
    assert_ok(lam_device_query(dev, &info));
    bool tree = tree_env ? atoi(tree_env) != 0 : info.type == LAM_DEVICE_GPU || info.type == LAM_DEVICE_ACCEL;
    static const char *const not_tree[] = {"lam_reduce_rows", "lam_reduce_chunks", "lam_softmax_rows"};
    DIR *dir = opendir(LAMINA_CL_DIR);
    assert_non_null(dir);
    int missing = 0, kernels = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".cl")) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", LAMINA_CL_DIR, e->d_name);
        size_t n;
        char *src = (char *)tu_slurp(path, &n);
        assert_non_null(src);
        src[n] = '\0';
        for (char *at = src; (at = strstr(at, "__kernel void ")); ) {
            at += strlen("__kernel void ");
            char name[96];
            size_t k = 0;
            while (k + 1 < sizeof name && (at[k] == '_' || (at[k] >= 'a' && at[k] <= 'z') || (at[k] >= '0' && at[k] <= '9')))
                name[k] = at[k], k++;
            name[k] = '\0';
            bool other_mode = tree ? false : strstr(name, "_tree") != NULL;
            for (size_t i = 0; tree && i < sizeof not_tree / sizeof *not_tree; ++i) other_mode |= !strcmp(name, not_tree[i]);
            if (other_mode) continue;
            kernels++;
            if (!shim_seen(name)) {
                print_error("kernel %s (cl/%s) never ran: its launch site's bytes were not checked\n", name, e->d_name);
                missing++;
            }
        }
        free(src);
    }
    closedir(dir);
    print_message("%d kernels of cl/*.cl ran (%s)\n", kernels - missing, tree ? "tree kernels" : "row kernels");
    assert_int_equal(missing, 0);
}

static int setup(void **state) {
    (void)state;
    lam_device *devs[TU_MAX_DEVICES];
    int n = tu_devices(devs, TU_MAX_DEVICES);
    for (int i = 0; i < n && !dev; ++i)
        if (!strncmp(lam_device_spec(devs[i]), "opencl", 6)) dev = devs[i];
    *(void **)&shim_commands = dlsym(RTLD_DEFAULT, "enqueue_count_commands");
    *(void **)&shim_seen = dlsym(RTLD_DEFAULT, "enqueue_count_seen");
    print_message("device %s%s\n", dev ? lam_device_name(dev) : "none (OpenCL tests skip)",
                  shim_commands ? ", enqueue shim loaded" : "");
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api),          cmocka_unit_test(test_exact_bytes),
        cmocka_unit_test(test_every_case),   cmocka_unit_test(test_extra_kernels),
        cmocka_unit_test(test_every_kernel_ran),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
