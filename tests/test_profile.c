/* The per-op profiler (lamina/profile.h): after a small workload on every device the table
 * has each op with its calls, positive times, and the bytes or flops worked out by hand;
 * the Chrome trace parses (cJSON) with one event per call on one track per device and, on
 * OpenCL, the kernels inside their ops; nothing is recorded while profiling is off.
 *
 *   test_profile                        the cmocka tests
 *   test_profile --workload             runs the workload once per device (for LAMINA_PROFILE=1
 *                                       LAMINA_TRACE=path: the ctest profile_env)
 *   test_profile --check-trace PATH     checks the trace that run wrote (profile_env_trace)
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "test_util.h"

#define M 48
#define K 40
#define N 24

/* |a - b| <= tol (this cmocka has no assert_double_equal). */
#define assert_near(a, b, tol)                                                             \
    do {                                                                                   \
        double a_ = (a), b_ = (b);                                                         \
        if (!(fabs(a_ - b_) <= (tol))) fail_msg("%s = %g, expected %g", #a, a_, b_);      \
    } while (0)

static lam_device *devs[TU_MAX_DEVICES];
static int n_devs;

/* x (M, K), w (K, N) random; relu(x @ w) + itself, summed and read: six ops. */
static bool workload(lam_device *d) {
    lam_scope_begin();
    lam_tensor *x = lam_rand(LAM_SHAPE(M, K), d), *w = lam_randn(LAM_SHAPE(K, N), d);
    lam_tensor *y = lam_relu(lam_matmul(x, w));
    double s = lam_item(lam_sum(lam_add(y, y)));
    lam_scope_end();
    if (!isfinite(s)) fprintf(stderr, "workload on %s: %s\n", lam_device_spec(d), lam_last_error());
    return isfinite(s);
}

static int entries(lam_profile_entry *e, int max) {
    int n = lam_profile_entries(e, max);
    assert_true(n >= 0 && n <= max);
    return n;
}

static const lam_profile_entry *find(const lam_profile_entry *e, int n, lam_device *d, const char *op) {
    for (int i = 0; i < n; ++i)
        if (strcmp(e[i].device, lam_device_spec(d)) == 0 && strcmp(e[i].op, op) == 0) return &e[i];
    fail_msg("no row for %s on %s", op, lam_device_spec(d));
    return NULL;
}

static void expect_row(const lam_profile_entry *e, int n, lam_device *d, const char *op, int64_t calls, double bytes,
                       double flops) {
    const lam_profile_entry *r = find(e, n, d, op);
    if (r->calls != calls) fail_msg("%s on %s: %lld calls, expected %lld", op, r->device, (long long)r->calls, (long long)calls);
    assert_true(r->time_us >= 0 && r->host_us > 0);
    assert_near(r->bytes, bytes, 0.0);
    assert_near(r->flops, flops, 0.0);
    assert_int_equal(r->device_timed, lam_device_spec(d)[0] == 'o');   /* OpenCL: events; cpu: wall-clock */
}

static int fresh(void **state) {
    (void)state;
    lam_profile_reset();
    return 0;
}

/* Every op of the workload, run twice per device, with its calls, bytes and flops. */
static void test_table(void **state) {
    (void)state;
    assert_int_equal(lam_profile_enable(true), LAM_OK);
    for (int i = 0; i < n_devs; ++i) assert_true(workload(devs[i]) && workload(devs[i]));
    lam_profile_entry e[64];
    int n = entries(e, 64);
    assert_int_equal(n, 7 * n_devs);
    const double f = 4;   /* bytes of an f32 */
    for (int i = 0; i < n_devs; ++i) {
        lam_device *d = devs[i];
        expect_row(e, n, d, "lam_rand", 2, 2 * M * K * f, 0);
        expect_row(e, n, d, "lam_randn", 2, 2 * K * N * f, 0);
        expect_row(e, n, d, "lam_matmul", 2, 0, 2 * 2.0 * M * N * K);   /* 2 m n k per product */
        expect_row(e, n, d, "lam_relu", 2, 2 * 2 * M * N * f, 0);        /* read + written */
        expect_row(e, n, d, "lam_add", 2, 2 * 3 * M * N * f, 0);         /* y read as both operands */
        expect_row(e, n, d, "lam_sum", 2, 2 * M * N * f, 0);             /* reductions: bytes read */
        expect_row(e, n, d, "lam_item", 2, 2 * f, 0);
        const char *timed[] = {"lam_rand", "lam_randn", "lam_matmul", "lam_relu", "lam_add", "lam_sum"};
        for (size_t k = 0; k < sizeof timed / sizeof *timed; ++k)
            if (!(find(e, n, d, timed[k])->time_us > 0)) fail_msg("%s on %s: no time", timed[k], lam_device_spec(d));
    }
    /* grouped by device in device order; largest time first; shares add up to one */
    for (int i = 0, g = 0; i < n; i += 7, ++g) {
        double share = 0;
        for (int j = i; j < i + 7; ++j) {
            assert_string_equal(e[j].device, lam_device_spec(devs[g]));
            if (j > i) assert_true(e[j].time_us <= e[j - 1].time_us);
            share += e[j].share;
        }
        assert_near(share, 1.0, 1e-9);
    }
}

/* Reads a whole stream into a malloc'd string. */
static char *slurp(FILE *f) {
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    rewind(f);
    char *s = malloc((size_t)size + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)size, f), (size_t)size);
    s[size] = '\0';
    return s;
}

static void test_report(void **state) {
    (void)state;
    assert_int_equal(lam_profile_enable(false), LAM_OK);
    for (int i = 0; i < n_devs; ++i) assert_true(workload(devs[i]));
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_ok(lam_profile_report(f));
    char *text = slurp(f);
    fclose(f);
    const char *need[] = {"calls", "total ms", "mean us", "share", "GB/s", "GFLOP/s", "lam_matmul", "lam_relu", "total"};
    for (size_t k = 0; k < sizeof need / sizeof *need; ++k)
        if (!strstr(text, need[k])) fail_msg("report lacks \"%s\":\n%s", need[k], text);
    for (int i = 0; i < n_devs; ++i) {
        char head[400];
        snprintf(head, sizeof head, "lamina profile: %s (", lam_device_name(devs[i]));
        if (!strstr(text, head)) fail_msg("report lacks \"%s\":\n%s", head, text);
    }
    free(text);
    assert_int_equal(lam_profile_report(NULL), LAM_ERR_ARG);
}

static double number(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) fail_msg("event without a number \"%s\"", key);
    return v->valuedouble;
}

static const char *string(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Does op event o (same track) hold kernel event k? (a microsecond of rounding either side) */
static bool holds(const cJSON *o, const cJSON *k) {
    return number(o, "tid") == number(k, "tid") && number(k, "ts") >= number(o, "ts") - 1e-3 &&
           number(k, "ts") + number(k, "dur") <= number(o, "ts") + number(o, "dur") + 1e-3;
}

/* Checks a trace of `runs` workloads per device: a named track per device, `runs` events per
 * op there, and on OpenCL each kernel inside an event of its op. */
static void check_trace(const char *path, int runs) {
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    char *text = slurp(f);
    fclose(f);
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root) fail_msg("%s is not JSON (near %.40s)", path, cJSON_GetErrorPtr());
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(root, "traceEvents"), *ev;
    assert_true(cJSON_IsArray(events));
    for (int i = 0; i < n_devs; ++i) {
        int tid = -1, matmuls = 0, ops = 0, kernels = 0, gemm_kernels = 0;
        for (int j = 0; j < lam_device_count(); ++j)
            if (lam_device_at(j) == devs[i]) tid = j;
        bool named = false, opencl = lam_device_spec(devs[i])[0] == 'o';
        cJSON_ArrayForEach(ev, events) {
            const char *ph = string(ev, "ph"), *cat = string(ev, "cat");
            if (strcmp(ph, "M") == 0 && strcmp(string(ev, "name"), "thread_name") == 0 && number(ev, "tid") == tid)
                named = strcmp(string(cJSON_GetObjectItemCaseSensitive(ev, "args"), "name"), lam_device_name(devs[i])) == 0;
            if (strcmp(ph, "X") != 0 || number(ev, "tid") != tid) continue;
            assert_true(number(ev, "dur") >= 0 && number(ev, "ts") > -1e3 && number(ev, "pid") > 0);
            if (strcmp(cat, "op") == 0) {
                ++ops;
                matmuls += strcmp(string(ev, "name"), "lam_matmul") == 0;
                continue;
            }
            assert_string_equal(cat, "kernel");
            ++kernels;
            const char *op = string(cJSON_GetObjectItemCaseSensitive(ev, "args"), "op");
            gemm_kernels += strncmp(string(ev, "name"), "CLBlast", 7) == 0 && strcmp(op, "lam_matmul") == 0;
            bool inside = false;
            const cJSON *o;
            cJSON_ArrayForEach(o, events) inside |= strcmp(string(o, "cat"), "op") == 0 && strcmp(string(o, "name"), op) == 0 && holds(o, ev);
            if (!inside) fail_msg("kernel %s at %f lies outside every %s event", string(ev, "name"), number(ev, "ts"), op);
        }
        if (!named) fail_msg("no track named %s", lam_device_name(devs[i]));
        assert_int_equal(matmuls, runs);
        assert_int_equal(ops, 7 * runs);
        if (opencl) assert_true(kernels >= ops && gemm_kernels == runs);   /* every op ran at least one command */
        else assert_int_equal(kernels, 0);
    }
    cJSON_Delete(root);
}

static void test_trace(void **state) {
    (void)state;
    assert_int_equal(lam_profile_enable(true), LAM_OK);
    for (int i = 0; i < n_devs; ++i) assert_true(workload(devs[i]) && workload(devs[i]));
    const char *path = LAMINA_TEST_TMP_DIR "/profile_trace.json";
    assert_ok(lam_profile_write_trace(path));
    check_trace(path, 2);
    assert_int_equal(lam_profile_write_trace(LAMINA_TEST_TMP_DIR "/no/such/dir/t.json"), LAM_ERR_IO);
    assert_ok(lam_profile_flush());   /* no LAMINA_TRACE here: nothing to do */
}

/* Off: no row, whatever runs; on again: counts resume; reset: empty. */
static void test_off_and_reset(void **state) {
    (void)state;
    lam_profile_disable();
    assert_false(lam_profile_enabled());
    for (int i = 0; i < n_devs; ++i) assert_true(workload(devs[i]));
    lam_profile_entry e[64];
    assert_int_equal(entries(e, 64), 0);
    assert_int_equal(lam_profile_enable(false), LAM_OK);
    assert_true(lam_profile_enabled());
    assert_true(workload(devs[0]));
    lam_profile_disable();
    assert_true(workload(devs[0]));
    int n = entries(e, 64);
    assert_int_equal(n, 7);
    assert_int_equal(find(e, n, devs[0], "lam_matmul")->calls, 1);
    assert_int_equal(lam_profile_write_trace(LAMINA_TEST_TMP_DIR "/profile_none.json"), LAM_ERR_STATE);
    lam_profile_reset();
    assert_int_equal(entries(e, 64), 0);
}

static void *relu_loop(void *arg) {
    lam_device *d = arg;
    lam_scope_begin();
    lam_tensor *x = lam_rand(LAM_SHAPE(64), d);
    for (int i = 0; i < 100; ++i) lam_relu(x);
    lam_scope_end();
    return NULL;
}

/* Two threads recording at once lose nothing. */
static void test_threads(void **state) {
    (void)state;
    assert_int_equal(lam_profile_enable(false), LAM_OK);
    pthread_t t[2];
    for (int i = 0; i < 2; ++i) assert_int_equal(pthread_create(&t[i], NULL, relu_loop, devs[i % n_devs]), 0);
    for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
    lam_profile_entry e[64];
    int n = entries(e, 64), relus = 0;
    for (int i = 0; i < n; ++i) relus += strcmp(e[i].op, "lam_relu") == 0 ? (int)e[i].calls : 0;
    assert_int_equal(relus, 200);
}

static const char *env_trace;   /* --check-trace PATH */

static void test_env_trace(void **state) {
    (void)state;
    check_trace(env_trace, 1);
}

int main(int argc, char **argv) {
    bool run_workload = argc > 1 && strcmp(argv[1], "--workload") == 0;
    env_trace = argc > 2 && strcmp(argv[1], "--check-trace") == 0 ? argv[2] : NULL;
    if (!run_workload && !env_trace) lam_profile_enable(false);   /* before the devices open: OpenCL queues time */
    n_devs = tu_devices(devs, TU_MAX_DEVICES);
    if (n_devs == 0) return 1;
    if (run_workload) {   /* LAMINA_PROFILE / LAMINA_TRACE from the environment record it */
        for (int i = 0; i < n_devs; ++i)
            if (!workload(devs[i])) return 1;
        return 0;
    }
    if (env_trace) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_env_trace)};
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_table, fresh),   cmocka_unit_test_setup(test_report, fresh),
        cmocka_unit_test_setup(test_trace, fresh),   cmocka_unit_test_setup(test_off_and_reset, fresh),
        cmocka_unit_test_setup(test_threads, fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
