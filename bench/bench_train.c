/* bench_train: one MNIST training step (MLP 784-256-10, batch 128, SGD) and a tiny forward
 * of the chapter's MLP (20-256-ReLU-10 on X(2, 20)) on every device, beside PyTorch's CPU
 * times from shared/bench/torch_reference.py run in the same process (ratio > 1: lamina
 * is slower).
 *
 *   bench_train [--reps N] [--device SPEC] [--torch PATH/torch_reference.py | --no-torch]
 *               [--torch-threads N]
 *
 * On OpenCL devices it also prints the training step's kernel counts (step_counts.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lamina.h>

#include "step_counts.h"

#ifndef LAMINA_TORCH_REFERENCE
#define LAMINA_TORCH_REFERENCE "../shared/bench/torch_reference.py"
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    lam_module *net;
    lam_optim *opt;
    lam_tensor *x, *y;
    lam_device *dev;
} workload;

static void train_step(workload *w) {
    lam_scope_begin();
    lam_optim_zero_grad(w->opt);
    lam_backward(lam_cross_entropy(lam_forward(w->net, w->x), w->y));
    lam_optim_step(w->opt);
    lam_scope_end();
}

static lam_status counted_step(void *w) {
    train_step(w);
    return lam_last_status();
}

static void forward(workload *w) {
    lam_scope_begin();
    lam_forward(w->net, w->x);
    lam_scope_end();
}

/* Best of 3 rounds of reps calls, seconds per call, synchronized. */
static double bench(void (*fn)(workload *), workload *w, int reps) {
    fn(w);
    lam_device_synchronize(w->dev);
    double best = 1e30;
    for (int r = 0; r < 3; ++r) {
        double t = now();
        for (int i = 0; i < reps; ++i) fn(w);
        lam_device_synchronize(w->dev);
        double dt = (now() - t) / reps;
        best = dt < best ? dt : best;
    }
    return best;
}

/* Reads "key value" lines from the PyTorch script; NAN-free 0 when absent. */
static double torch_value(const char *out, const char *key) {
    const char *p = strstr(out, key);
    return p ? atof(p + strlen(key)) : 0.0;
}

int main(int argc, char **argv) {
    int reps = 50;
    const char *torch = LAMINA_TORCH_REFERENCE;
    lam_device *only = NULL;
    int torch_threads = 0;   /* 0: PyTorch's default */
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
            if (!(only = lam_device_get(argv[++i]))) {
                fprintf(stderr, "bench_train: %s\n", lam_last_error());
                return 1;
            }
        }
        else if (!strcmp(argv[i], "--torch") && i + 1 < argc) torch = argv[++i];
        else if (!strcmp(argv[i], "--no-torch")) torch = NULL;
        else if (!strcmp(argv[i], "--torch-threads") && i + 1 < argc) torch_threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_train [--reps N] [--device SPEC] [--torch PATH | --no-torch] "
                            "[--torch-threads N]\n");
            return 1;
        }
    }
    if (reps < 1) reps = 1;
    int nd = lam_device_count();
    double *step_ms = calloc((size_t)nd, sizeof *step_ms), *fwd_us = calloc((size_t)nd, sizeof *fwd_us);
    for (int d = 0; d < nd; ++d) {
        lam_device *dev = lam_device_at(d);
        if (only && dev != only) continue;
        lam_manual_seed(0);
        workload w = {.dev = dev};
        w.net = lam_nn_sequential(3, lam_nn_linear(784, 256), lam_nn_relu(), lam_nn_linear(256, 10));
        lam_module_to(w.net, dev);
        w.opt = lam_sgd(w.net, (lam_sgd_options){.lr = 0.1f});
        w.x = lam_keep(lam_rand(LAM_SHAPE(128, 784), dev));
        w.y = lam_keep(lam_to_dtype(lam_mul_scalar(lam_rand(LAM_SHAPE(128), dev), 9.99f), LAM_I64));
        if (!w.net || !w.opt || !w.x || !w.y) {
            fprintf(stderr, "bench_train: %s: %s\n", lam_device_name(dev), lam_last_error());
            continue;
        }
        step_ms[d] = 1e3 * bench(train_step, &w, reps);
        lam_clear_error();   /* counted_step reports this step's failures only */
        step_counts_report("MNIST MLP step b128", dev, counted_step, &w);
        lam_optim_free(w.opt);
        lam_module_free(w.net);
        lam_release(w.x);
        lam_release(w.y);

        workload s = {.dev = dev};
        s.net = lam_nn_sequential(3, lam_nn_linear(20, 256), lam_nn_relu(), lam_nn_linear(256, 10));
        lam_module_to(s.net, dev);
        s.x = lam_keep(lam_rand(LAM_SHAPE(2, 20), dev));
        bool was = lam_grad_enabled(false);
        fwd_us[d] = 1e6 * bench(forward, &s, reps * 20);
        lam_grad_enabled(was);
        lam_module_free(s.net);
        lam_release(s.x);
    }

    char out[8192] = "";
    if (torch) {
        char cmd[4200];
        char threads[32] = "";
        if (torch_threads > 0) snprintf(threads, sizeof threads, " %d", torch_threads);
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s'%s 2>/dev/null", torch, threads);
        FILE *p = popen(cmd, "r");
        if (p) {
            size_t n = fread(out, 1, sizeof out - 1, p);
            out[n] = 0;
            pclose(p);
        }
    }
    double t_step = torch_value(out, "mlp_train_step_b128_ms"), t_fwd = torch_value(out, "mlp_fwd_2x20_us");
    printf("%-44s %16s %10s %16s %10s\n", "device", "train step ms", "/PyTorch", "fwd 2x20 us", "/PyTorch");
    for (int d = 0; d < nd; ++d) {
        if (only && lam_device_at(d) != only) continue;
        char r1[32] = "-", r2[32] = "-";
        if (t_step > 0 && step_ms[d] > 0) snprintf(r1, sizeof r1, "%.2f", step_ms[d] / t_step);
        if (t_fwd > 0 && fwd_us[d] > 0) snprintf(r2, sizeof r2, "%.2f", fwd_us[d] / t_fwd);
        printf("%-44.44s %16.3f %10s %16.2f %10s\n", lam_device_name(lam_device_at(d)), step_ms[d], r1, fwd_us[d], r2);
    }
    if (t_step > 0)
        printf("%-44s %16.3f %10s %16.2f %10s\n", "PyTorch CPU (torch_reference.py)", t_step, "1.00", t_fwd, "1.00");
    else if (torch)
        printf("PyTorch reference not available (%s)\n", torch);
    free(step_ms);
    free(fwd_us);
    return 0;
}
