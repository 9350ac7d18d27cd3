/* Transformer benchmark: lamina on every device beside PyTorch on the CPU, run in the same
 * invocation (bench/bench_transformer.py). Each time is the median of 3 timings of --reps
 * calls after a warm-up call; ratio = lamina / PyTorch (< 1: lamina is faster).
 *   - the Transformer layer of shared/bench/torch_reference.py: d 256, 4 heads, ff 1024,
 *     sequence 128, batch 8, forward + backward;
 *   - attention forward + backward, (8, 4, T, 64), T = 128, 256, 512, with the pool's peak
 *     bytes during the call above what was in use before (what the (8, 4, T, T) weights
 *     cost, and a flash-style kernel would not keep); run first and by growing T, because
 *     the pool's peak is a high-water mark;
 *   - GPT training (examples/gpt.c, 4 layers, 4 heads, n_embd 128, block 64, batch 32) in
 *     tokens/s beside examples/gpt_twin.py's.
 *
 * On OpenCL devices the encoder layer's and the GPT step's kernel counts follow their times
 * (step_counts.h).
 *
 *   bench_transformer [--reps N] [--device SPEC] [--no-torch] [--torch-threads N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lamina.h>

#include "gpt.h"
#include "step_counts.h"

static int reps = 3;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef lam_status (*work_fn)(void *state);

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of 3 timings of reps calls (ms per call), after a warm-up; -1 on error. */
static double median_ms(lam_device *d, work_fn f, void *state) {
    double t[3];
    for (int r = -1; r < 3; ++r) {
        double t0 = now();
        for (int k = 0; k < (r < 0 ? 1 : reps); ++k) {
            lam_scope_begin();
            lam_status st = f(state);
            if (st == LAM_OK) st = lam_device_synchronize(d);
            lam_scope_end();
            if (st != LAM_OK) {
                fprintf(stderr, "error: %s\n", lam_last_error());
                lam_clear_error();
                return -1;
            }
        }
        if (r >= 0) t[r] = (now() - t0) / reps * 1e3;
    }
    qsort(t, 3, sizeof *t, cmp_double);
    return t[1];
}

/* ---- the workloads ---------------------------------------------------------------------- */

typedef struct {
    lam_module *m;
    lam_tensor *x, *q, *k, *v, *y;
    lam_optim *opt;
} work;

static lam_status layer_step(void *s) {
    work *w = s;
    return lam_backward(lam_sum(lam_forward(w->m, w->x)));
}

static lam_status attention_step(void *s) {
    work *w = s;
    return lam_backward(lam_sum(lam_scaled_dot_product_attention(w->q, w->k, w->v, NULL, false, 0.0f)));
}

static lam_status gpt_step(void *s) {
    work *w = s;
    lam_optim_zero_grad(w->opt);
    lam_tensor *logits = lam_forward(w->m, w->x);
    lam_tensor *loss = lam_cross_entropy(lam_reshape(logits, LAM_SHAPE(-1, 100)), lam_reshape(w->y, LAM_SHAPE(-1)));
    lam_status st = lam_backward(loss);
    return st == LAM_OK ? lam_optim_step(w->opt) : st;
}

static lam_tensor *tokens(lam_device *d) {   /* (32, 64) i64 in [0, 100) */
    return lam_keep(lam_to_dtype(lam_mul_scalar(lam_rand(LAM_SHAPE(32, 64), d), 99.99f), LAM_I64));
}

/* ---- PyTorch ------------------------------------------------------------------------------ */

static char torch_out[4096];

static double torch_value(const char *key) {
    const char *p = strstr(torch_out, key);
    return p ? atof(p + strlen(key)) : NAN;
}

static void run_torch(int threads) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' --threads %d --reps %d 2>&1", LAMINA_BENCH_TORCH, threads, reps);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(torch_out, 1, sizeof torch_out - 1, p) : 0;
    torch_out[n] = '\0';
    if (p) pclose(p);
}

static void row(const char *what, const char *dev, double ms, double torch_ms, const char *extra) {
    if (ms < 0) printf("%-30s %-12s %12s\n", what, dev, "failed");
    else printf("%-30s %-12s %10.2f ms %10.2f ms %7.2f  %s\n", what, dev, ms, torch_ms, ms / torch_ms, extra);
}

static void bench_device(lam_device *d) {
    const char *name = lam_device_spec(d);
    lam_set_default_device(d);
    lam_manual_seed(0);
    work w = {0};
    for (int64_t T = 128; T <= 512; T *= 2) {
        lam_tensor *t[3];
        for (int i = 0; i < 3; ++i) t[i] = lam_keep(lam_requires_grad(lam_randn(LAM_SHAPE(8, 4, T, 64), d), true));
        w.q = t[0], w.k = t[1], w.v = t[2];
        lam_pool_stats before, after;
        lam_device_pool_stats(d, &before);
        double ms = median_ms(d, attention_step, &w);
        lam_device_pool_stats(d, &after);
        char what[64], extra[160];
        snprintf(what, sizeof what, "attention fwd+bwd T=%lld", (long long)T);
        snprintf(extra, sizeof extra, "peak pool %.1f MiB (weights kept for backward: %.1f MiB; a flash-style kernel: %.2f MiB)",
                 (double)(after.peak - before.in_use) / 1048576.0, 4.0 * 8 * 4 * T * T / 1048576.0, 4.0 * 8 * 4 * T / 1048576.0);
        char key[32];
        snprintf(key, sizeof key, "attention_%lld_ms", (long long)T);
        row(what, name, ms, torch_value(key), extra);
        for (int i = 0; i < 3; ++i) lam_release(t[i]);
    }
    w.m = lam_nn_transformer_encoder_layer(256, 4, (lam_encoder_layer_options){.dim_feedforward = 1024, .batch_first = true});
    w.x = lam_keep(lam_rand(LAM_SHAPE(8, 128, 256), d));
    row("transformer layer fwd+bwd", name, median_ms(d, layer_step, &w), torch_value("transformer_layer_ms"), "");
    step_counts_report("encoder layer fwd+bwd", d, layer_step, &w);
    lam_module_free(w.m);
    lam_release(w.x);
    w.m = gpt_new((gpt_config){.vocab_size = 100, .block_size = 64, .n_layer = 4, .n_head = 4, .n_embd = 128});
    w.opt = lam_adamw(w.m, (lam_adam_options){.lr = 1e-3f, .beta2 = 0.95f, .weight_decay = 0.1f});
    w.x = tokens(d);
    w.y = tokens(d);
    double ms = median_ms(d, gpt_step, &w), torch_tps = torch_value("gpt_tokens_per_s");
    char extra[96];
    snprintf(extra, sizeof extra, "%.0f tokens/s (PyTorch %.0f)", 32 * 64 / (ms * 1e-3), torch_tps);
    row("GPT training step", name, ms, 32 * 64 / torch_tps * 1e3, extra);
    step_counts_report("GPT training step", d, gpt_step, &w);
    lam_optim_free(w.opt);
    lam_module_free(w.m);
    lam_release(w.x);
    lam_release(w.y);
}

int main(int argc, char **argv) {
    lam_device *only = NULL;
    bool torch = true;
    int threads = 0;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
            if (!(only = lam_device_get(argv[++i]))) {   /* any spec: "opencl", "opencl:portable:0", "gpu" */
                fprintf(stderr, "bench_transformer: %s\n", lam_last_error());
                return 1;
            }
        }
        else if (!strcmp(argv[i], "--no-torch")) torch = false;
        else if (!strcmp(argv[i], "--torch-threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_transformer [--reps N] [--device SPEC] [--no-torch] [--torch-threads N]\n");
            return 1;
        }
    }
    if (reps < 1) reps = 1;
    if (torch) run_torch(threads);
    printf("PyTorch: %.*s\n", torch ? (int)strcspn(torch_out, "\n") : 7, torch ? torch_out : "not run");
    printf("%-30s %-12s %13s %13s %7s\n", "workload (median of 3)", "device", "lamina", "PyTorch", "ratio");
    for (int i = 0; i < lam_device_count(); ++i) {
        lam_device *d = lam_device_at(i);
        if (!only || d == only) bench_device(d);
    }
    return 0;
}
