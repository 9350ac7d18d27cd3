/* Core benchmark: matmul GFLOP/s and elementwise/reduction GB/s on every device, beside
 * OpenBLAS cblas_sgemm and plain C loops measured in the same run. Best of N after a
 * warm-up; lam_device_synchronize brackets every timed region.
 *
 *   bench_core [--reps N]
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lamina.h>

static int reps = 5;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct { int64_t m, k, n; const char *name; } mm_shape;
static const mm_shape shapes[] = {{256, 256, 256, "256x256 @ 256x256"},
                                  {1024, 1024, 1024, "1024x1024 @ 1024x1024"},
                                  {128, 784, 256, "128x784 @ 784x256"}};
#define NSHAPES (int)(sizeof shapes / sizeof shapes[0])
#define STREAM_N (16ll << 20)   /* 16M floats */

static void row(const char *what, const char *who, double secs, double amount, const char *unit)
{
    if (secs <= 0) printf("%-24s %-28s %10s\n", what, who, "failed");
    else printf("%-24s %-28s %10.2f %s   (%.3f ms)\n", what, who, amount / secs * 1e-9, unit, secs * 1e3);
}

/* ---- lamina ------------------------------------------------------------------------------ */

typedef lam_tensor *(*op2)(lam_tensor *, lam_tensor *);

/* Best time of reps runs of f(a, b), each in a scope; -1 on error. */
static double time_lamina(lam_device *d, op2 f, lam_tensor *a, lam_tensor *b)
{
    double best = INFINITY;
    for (int r = -1; r < reps; r++) {   /* r = -1: warm-up (kernel builds, pool) */
        lam_scope_begin();
        if (lam_device_synchronize(d) != LAM_OK) return -1;
        double t0 = now();
        lam_tensor *y = f(a, b);
        if (!y || lam_device_synchronize(d) != LAM_OK) {
            fprintf(stderr, "error: %s\n", lam_last_error());
            lam_clear_error();
            lam_scope_end();
            return -1;
        }
        double t = now() - t0;
        lam_scope_end();
        if (r >= 0 && t < best) best = t;
    }
    return best;
}

static lam_tensor *op_matmul(lam_tensor *a, lam_tensor *b) { return lam_matmul(a, b); }
static lam_tensor *op_relu(lam_tensor *a, lam_tensor *b) { (void)b; return lam_relu(a); }
static lam_tensor *op_sum(lam_tensor *a, lam_tensor *b) { (void)b; return lam_sum(a); }

static void bench_device(lam_device *d)
{
    char who[64];
    snprintf(who, sizeof who, "lamina %s", lam_device_spec(d));
    for (int s = 0; s < NSHAPES; s++) {
        lam_scope_begin();
        lam_tensor *a = lam_randn(LAM_SHAPE(shapes[s].m, shapes[s].k), d);
        lam_tensor *b = lam_randn(LAM_SHAPE(shapes[s].k, shapes[s].n), d);
        row(shapes[s].name, who, a && b ? time_lamina(d, op_matmul, a, b) : -1,
            2.0 * (double)(shapes[s].m * shapes[s].k * shapes[s].n), "GFLOP/s");
        lam_scope_end();
    }
    lam_scope_begin();
    lam_tensor *x = lam_rand_uniform(-1, 1, LAM_SHAPE(STREAM_N), d);
    row("relu 16M f32", who, x ? time_lamina(d, op_relu, x, NULL) : -1, 2.0 * 4 * (double)STREAM_N, "GB/s");
    row("sum 16M f32", who, x ? time_lamina(d, op_sum, x, NULL) : -1, 4.0 * (double)STREAM_N, "GB/s");
    lam_scope_end();
    lam_device_empty_cache(d);
}

/* ---- baselines: OpenBLAS and plain C ------------------------------------------------------ */

static float *randv(int64_t n)
{
    float *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return v;
}

static void naive_gemm(const float *a, const float *b, float *c, int64_t m, int64_t k, int64_t n)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float s = 0;
            for (int64_t p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
            c[i * n + j] = s;
        }
}

static volatile float sink;

static void bench_baselines(void)
{
    for (int s = 0; s < NSHAPES; s++) {
        int64_t m = shapes[s].m, k = shapes[s].k, n = shapes[s].n;
        float *a = randv(m * k), *b = randv(k * n), *c = malloc((size_t)(m * n) * sizeof *c);
        double best = INFINITY, flops = 2.0 * (double)(m * k * n);
        for (int r = -1; r < reps; r++) {
            double t0 = now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)k, b,
                        (int)n, 0.0f, c, (int)n);
            double t = now() - t0;
            if (r >= 0 && t < best) best = t;
        }
        row(shapes[s].name, "OpenBLAS cblas_sgemm", best, flops, "GFLOP/s");
        if (m == 256 && k == 256 && n == 256) {
            best = INFINITY;
            for (int r = 0; r < 2; r++) {
                double t0 = now();
                naive_gemm(a, b, c, m, k, n);
                double t = now() - t0;
                if (t < best) best = t;
            }
            sink = c[0];
            row(shapes[s].name, "plain C triple loop", best, flops, "GFLOP/s");
        }
        free(a);
        free(b);
        free(c);
    }
    float *x = randv(STREAM_N), *y = malloc((size_t)STREAM_N * sizeof *y);
    double best_relu = INFINITY, best_sum = INFINITY;
    for (int r = -1; r < reps; r++) {
        double t0 = now();
        for (int64_t i = 0; i < STREAM_N; i++) y[i] = x[i] > 0 ? x[i] : 0;
        double t1 = now();
        double acc = 0;
        for (int64_t i = 0; i < STREAM_N; i++) acc += x[i];
        double t2 = now();
        sink = (float)acc + y[STREAM_N / 2];
        if (r >= 0 && t1 - t0 < best_relu) best_relu = t1 - t0;
        if (r >= 0 && t2 - t1 < best_sum) best_sum = t2 - t1;
    }
    row("relu 16M f32", "plain C loop", best_relu, 2.0 * 4 * (double)STREAM_N, "GB/s");
    row("sum 16M f32", "plain C loop", best_sum, 4.0 * (double)STREAM_N, "GB/s");
    free(x);
    free(y);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--reps N]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    printf("lamina bench_core: best of %d after a warm-up\n", reps);
    for (int i = 0; i < lam_device_count(); i++) printf("  device %d: %s\n", i, lam_device_name(lam_device_at(i)));
    printf("%-24s %-28s %10s\n", "case", "implementation", "rate");
    printf("%.*s\n", 80, "--------------------------------------------------------------------------------");
    lam_manual_seed(1);
    for (int i = 0; i < lam_device_count(); i++) bench_device(lam_device_at(i));
    bench_baselines();
    return 0;
}
