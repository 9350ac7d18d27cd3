/* bench_cnn: convolutional networks on every device, beside PyTorch's CPU times from
 * bench/torch_cnn.py run in the same process (ratio > 1: lamina is slower).
 *   memory          peak pool bytes of a ResNet training step (batch 128, the first work on
 *                   the device) and the device allocations of steps 3 to 5
 *   training steps  the CNN of shared/bench/torch_reference.py (batch 64, Adam) and the ResNet
 *                   of examples/cnn_models.h (batch 128, SGD with momentum and weight decay)
 *   counts          a ResNet training step's kernel counts (batch 128, step_counts.h), on
 *                   the devices that count kernels (OpenCL)
 *   conv2d layers   forward and backward (input and weight) GFLOP/s at the ResNet's and the
 *                   LeNet's layer shapes, beside OpenBLAS SGEMM of the im2col product's size
 *                   (M = out channels, N = batch x output positions, K = in channels x taps),
 *                   the ceiling im2col + GEMM can reach on the host
 * Every time is the median of 3 rounds of --reps calls, after one warm-up call.
 *
 *   bench_cnn [--reps N] [--devices cpu,opencl:0:0] [--torch-threads N | --no-torch]
 *             [--only memory|counts|steps|layers] [--cpu-time]
 * --cpu-time times lamina and PyTorch by process CPU time instead of wall time: steadier on
 * a shared machine, comparable only when both run one thread (OMP_NUM_THREADS=1
 * OPENBLAS_NUM_THREADS=1 --torch-threads 1), and not for OpenCL devices, whose runtime
 * works in threads of its own.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnn_layers.h"
#include "cnn_models.h"
#include "step_counts.h"

#ifndef LAMINA_TORCH_CNN
#define LAMINA_TORCH_CNN "bench/torch_cnn.py"
#endif


static bool cpu_time;   /* --cpu-time: process CPU time, steadier on a shared machine */

static double now(void) {
    struct timespec t;
    clock_gettime(cpu_time ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median over 3 rounds of seconds per call of fn(arg), synchronized with dev. */
static double median_s(void (*fn)(void *), void *arg, lam_device *dev, int reps) {
    fn(arg);
    if (dev) lam_device_synchronize(dev);
    double r[3];
    for (int k = 0; k < 3; ++k) {
        double t = now();
        for (int i = 0; i < reps; ++i) fn(arg);
        if (dev) lam_device_synchronize(dev);
        r[k] = (now() - t) / reps;
    }
    qsort(r, 3, sizeof *r, cmp_double);
    return r[1];
}

/* ---- training steps ------------------------------------------------------------------- */

typedef struct {
    lam_module *net;
    lam_optim *opt;
    lam_tensor *x, *y;
} workload;

static void train_step(void *arg) {
    workload *w = arg;
    lam_scope_begin();
    lam_optim_zero_grad(w->opt);
    lam_tensor *loss = lam_cross_entropy(lam_forward(w->net, w->x), w->y);
    if (!loss || lam_backward(loss) != LAM_OK || lam_optim_step(w->opt) != LAM_OK) {
        fprintf(stderr, "bench_cnn: training step: %s\n", lam_last_error());
        exit(1);
    }
    lam_scope_end();
}

/* The model (lenet or resnet) with its optimizer and a random batch on dev. */
static workload make_workload(bool res, lam_device *dev) {
    lam_manual_seed(0);
    lam_set_default_device(dev);
    workload w = {.net = res ? resnet_new() : lenet_new()};
    int64_t batch = res ? 128 : 64;
    w.opt = res ? lam_sgd(w.net, (lam_sgd_options){.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f})
                   : lam_adam(w.net, (lam_adam_options){.lr = 1e-3f});
    w.x = lam_keep(lam_rand(LAM_SHAPE(batch, 1, 28, 28), dev));
    w.y = lam_keep(lam_to_dtype(lam_mul_scalar(lam_rand(LAM_SHAPE(batch), dev), 9.99f), LAM_I64));
    if (!w.net || !w.opt || !w.x || !w.y) {
        fprintf(stderr, "bench_cnn: %s: %s\n", lam_device_name(dev), lam_last_error());
        exit(1);
    }
    return w;
}

static void free_workload(workload *w) {
    lam_optim_free(w->opt);
    lam_module_free(w->net);
    lam_release(w->x);
    lam_release(w->y);
}

static lam_status counted_step(void *w) {
    train_step(w);
    return LAM_OK;   /* train_step exits on a failure */
}

static void counts(lam_device *dev) {
    workload w = make_workload(true, dev);
    step_counts_report("ResNet step b128", dev, counted_step, &w);
    free_workload(&w);
}

static void memory(lam_device *dev) {
    workload w = make_workload(true, dev);
    lam_pool_stats a, b;
    for (int i = 0; i < 2; ++i) train_step(&w);
    lam_device_synchronize(dev);
    lam_device_pool_stats(dev, &a);
    for (int i = 0; i < 3; ++i) train_step(&w);
    lam_device_synchronize(dev);
    lam_device_pool_stats(dev, &b);
    printf("%-44.44s %14.1f %14llu %16llu\n", lam_device_name(dev), (double)b.peak / 1048576.0,
           (unsigned long long)(b.device_allocs - a.device_allocs), (unsigned long long)b.device_allocs);
    free_workload(&w);
}

/* ---- steadiness and host memory ------------------------------------------------------------ */

/* 10 consecutive ResNet steps after 2 warm-up ones, each timed on its own: max / min is how
 * uneven the steps are (OpenMP threads that spin on a shared core make them bimodal). */
static void spread(lam_device *dev) {
    workload w = make_workload(true, dev);
    for (int i = 0; i < 2; ++i) train_step(&w);
    lam_device_synchronize(dev);
    double lo = 1e30, hi = 0;
    printf("%-24.24s ResNet step ms:", lam_device_spec(dev));
    for (int i = 0; i < 10; ++i) {
        double t = now();
        train_step(&w);
        lam_device_synchronize(dev);
        t = (now() - t) * 1e3;
        lo = t < lo ? t : lo;
        hi = t > hi ? t : hi;
        printf(" %.0f", t);
    }
    printf("   max/min %.2f\n", hi / lo);
    free_workload(&w);
}

/* A field of /proc/self/status in KiB (VmRSS, VmHWM); 0 if unreadable. */
static long status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = 0;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') v = atol(line + n + 1);
    if (f) fclose(f);
    return v;
}

/* Peak host memory of 3 ResNet steps above the memory after start-up (model, optimizer and
 * batch made): the kernel's peak-RSS mark is reset first (/proc/self/clear_refs), as
 * torch_cnn.py --rss does for PyTorch. Run it alone, in a fresh process. */
static double rss_mib(lam_device *dev) {
    workload w = make_workload(true, dev);
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f || fputs("5", f) < 0) fprintf(stderr, "bench_cnn: cannot reset the peak RSS\n");
    if (f) fclose(f);
    long base = status_kib("VmRSS");
    for (int i = 0; i < 3; ++i) train_step(&w);
    lam_device_synchronize(dev);
    double mib = (double)(status_kib("VmHWM") - base) / 1024.0;
    free_workload(&w);
    return mib;
}

/* ---- conv2d layers ------------------------------------------------------------------------ */

typedef struct {
    const layer *l;
    lam_tensor *x, *w, *g;
} conv_job;

static void conv_forward(void *arg) {
    conv_job *j = arg;
    lam_scope_begin();
    lam_conv2d(j->x, j->w, NULL, LAM_HW(j->l->s), LAM_HW(j->l->k / 2), LAM_HW(1), 1);
    lam_scope_end();
}

/* Forward, then backward for input and weight; the forward is timed apart and subtracted. */
static void conv_forward_backward(void *arg) {
    conv_job *j = arg;
    lam_scope_begin();
    lam_tensor *y = lam_conv2d(j->x, j->w, NULL, LAM_HW(j->l->s), LAM_HW(j->l->k / 2), LAM_HW(1), 1);
    lam_backward_with(y, j->g);
    lam_clear_grad(j->x);
    lam_clear_grad(j->w);
    lam_scope_end();
}

static double conv_flops(const layer *l) {
    int64_t o = (l->size + 2 * (l->k / 2) - l->k) / l->s + 1;
    return 2.0 * (double)(l->n * l->oc * o * o * l->c * l->k * l->k);
}

typedef struct { int m, n, k; float *a, *b, *c; } gemm_job;

static void gemm(void *arg) {
    gemm_job *j = arg;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->m, j->n, j->k, 1.0f, j->a, j->k, j->b, j->n, 0.0f, j->c, j->n);
}

static double openblas_gflops(const layer *l, int reps) {
    int64_t o = (l->size + 2 * (l->k / 2) - l->k) / l->s + 1;
    gemm_job j = {(int)l->oc, (int)(l->n * o * o), (int)(l->c * l->k * l->k), NULL, NULL, NULL};
    j.a = calloc((size_t)j.m * (size_t)j.k, sizeof(float));
    j.b = calloc((size_t)j.k * (size_t)j.n, sizeof(float));
    j.c = calloc((size_t)j.m * (size_t)j.n, sizeof(float));
    double t = j.a && j.b && j.c ? median_s(gemm, &j, NULL, reps) : 0;
    free(j.a);
    free(j.b);
    free(j.c);
    return t > 0 ? conv_flops(l) / t / 1e9 : 0;
}

/* ---- PyTorch ------------------------------------------------------------------------------ */

static char torch_out[16384];

static double torch_ms(const char *key) {
    char k[96];
    snprintf(k, sizeof k, "%s ", key);
    const char *p = strstr(torch_out, k);
    return p ? atof(p + strlen(k)) : 0;
}

static void run_torch(const char *script, int threads, int reps, const char *extra) {
    char cmd[4400], t[16] = "";
    if (threads > 0) snprintf(t, sizeof t, "%d", threads);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' %s --reps %d %s%s 2>/dev/null", script, t, reps,
             cpu_time ? "--cpu-time" : "", extra);
    FILE *p = popen(cmd, "r");
    if (!p) return;
    size_t n = fread(torch_out, 1, sizeof torch_out - 1, p);
    torch_out[n] = 0;
    pclose(p);
}

static void ratio(char *buf, size_t size, double ours, double theirs) {
    if (ours > 0 && theirs > 0) snprintf(buf, size, "%.2f", ours / theirs);
    else snprintf(buf, size, "-");
}

int main(int argc, char **argv) {
    int reps = 5, torch_threads = 0;
    const char *only = NULL, *torch = LAMINA_TORCH_CNN, *spec = NULL;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--devices") && i + 1 < argc) spec = argv[++i];
        else if (!strcmp(argv[i], "--torch-threads") && i + 1 < argc) torch_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-torch")) torch = NULL;
        else if (!strcmp(argv[i], "--cpu-time")) cpu_time = true;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else {
            fprintf(stderr, "usage: bench_cnn [--reps N] [--devices LIST] [--torch-threads N | --no-torch] "
                            "[--only memory|counts|steps|layers|spread|rss] [--cpu-time]\n");
            return 1;
        }
    }
    if (reps < 1) reps = 1;
    lam_device *devs[16];
    int nd = 0;
    if (spec) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", spec);
        for (char *s = strtok(buf, ","); s && nd < 16; s = strtok(NULL, ","))
            if ((devs[nd] = lam_device_get(s))) nd++;
    } else {
        for (int d = 0; d < lam_device_count() && nd < 16; ++d) devs[nd++] = lam_device_at(d);
    }
    bool all = !only;
    if (all || !strcmp(only, "memory")) {
        printf("%-44s %14s %14s %16s\n", "ResNet step, batch 128", "peak pool MB", "allocs 3..5", "allocs in all");
        for (int d = 0; d < nd; ++d) memory(devs[d]);
    }
    if (all || !strcmp(only, "counts")) {
        printf("\n");
        for (int d = 0; d < nd; ++d) counts(devs[d]);
    }
    if (only && !strcmp(only, "spread")) {
        for (int d = 0; d < nd; ++d) spread(devs[d]);
        return 0;
    }
    if (only && !strcmp(only, "rss")) {   /* the first device only: the mark is the process's */
        double ours = nd ? rss_mib(devs[0]) : 0;
        if (torch) run_torch(torch, torch_threads, reps, " --rss");   /* PyTorch measures it alone too */
        printf("ResNet step b128, peak RSS above start-up: %s %.1f MiB, PyTorch %.1f MiB\n", nd ? lam_device_spec(devs[0]) : "-",
               ours, torch ? torch_ms("resnet_rss_mib") : 0);
        return 0;
    }
    if (torch && (all || (strcmp(only, "memory") && strcmp(only, "counts")))) run_torch(torch, torch_threads, reps, "");
    if (all || !strcmp(only, "steps")) {
        double tl = torch_ms("lenet_step_ms"), tr = torch_ms("resnet_step_ms");
        printf("\n%-44s %14s %9s %14s %9s\n", "training step, median of 3", "LeNet b64 ms", "/PyTorch", "ResNet b128 ms",
               "/PyTorch");
        for (int d = 0; d < nd; ++d) {
            workload w = make_workload(false, devs[d]);
            double lenet = 1e3 * median_s(train_step, &w, devs[d], reps);
            free_workload(&w);
            w = make_workload(true, devs[d]);
            double res = 1e3 * median_s(train_step, &w, devs[d], reps > 2 ? reps / 2 : 1);
            free_workload(&w);
            char r1[16], r2[16];
            ratio(r1, sizeof r1, lenet, tl);
            ratio(r2, sizeof r2, res, tr);
            printf("%-44.44s %14.2f %9s %14.2f %9s\n", lam_device_name(devs[d]), lenet, r1, res, r2);
        }
        if (tl > 0) printf("%-44s %14.2f %9s %14.2f %9s\n", "PyTorch CPU (bench/torch_cnn.py)", tl, "1.00", tr, "1.00");
        if (torch && tl > 0) printf("(PyTorch ran with %d thread(s))\n", (int)torch_ms("threads"));
    }
    if (all || !strcmp(only, "layers")) {
        printf("\n%-10s %-44s %9s %9s %9s %9s %11s\n", "conv2d", "device", "fwd GF/s", "/PyTorch", "bwd GF/s", "/PyTorch",
               "SGEMM GF/s");
        for (int i = 0; i < NLAYERS; ++i) {
            const layer *l = &layers[i];
            double blas = openblas_gflops(l, reps), flops = conv_flops(l);
            char key[64];
            snprintf(key, sizeof key, "conv_fwd_ms.%s", l->name);
            double tf = torch_ms(key);
            snprintf(key, sizeof key, "conv_bwd_ms.%s", l->name);
            double tb = torch_ms(key);
            for (int d = 0; d < nd; ++d) {
                lam_manual_seed(1);
                int64_t o = (l->size + 2 * (l->k / 2) - l->k) / l->s + 1;
                conv_job j = {l, lam_keep(lam_requires_grad(lam_rand(LAM_SHAPE(l->n, l->c, l->size, l->size), devs[d]), true)),
                              lam_keep(lam_requires_grad(lam_rand(LAM_SHAPE(l->oc, l->c, l->k, l->k), devs[d]), true)),
                              lam_keep(lam_rand(LAM_SHAPE(l->n, l->oc, o, o), devs[d]))};
                double f = median_s(conv_forward, &j, devs[d], reps);
                double fb = median_s(conv_forward_backward, &j, devs[d], reps), b = fb > f ? fb - f : fb;
                char r1[16], r2[16];
                ratio(r1, sizeof r1, f * 1e3, tf);
                ratio(r2, sizeof r2, b * 1e3, tb);
                printf("%-10s %-44.44s %9.1f %9s %9.1f %9s %11.1f\n", d == 0 ? l->name : "", lam_device_name(devs[d]),
                       flops / f / 1e9, r1, 2 * flops / b / 1e9, r2, blas);
                lam_release(j.x);
                lam_release(j.w);
                lam_release(j.g);
            }
        }
        printf("(/PyTorch: time ratios; GF/s count the direct convolution's flops, backward twice the forward's)\n");
    }
    return 0;
}
