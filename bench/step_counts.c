/* Per-step kernel counts for the benchmarks (see step_counts.h). */
#define _GNU_SOURCE
#include "step_counts.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* tests/enqueue_count.c's counter when it is preloaded, else NULL. */
static uint64_t (*shim_commands(void))(void) {
    uint64_t (*fn)(void) = NULL;
    *(void **)&fn = dlsym(RTLD_DEFAULT, "enqueue_count_commands");   /* POSIX's way to a function */
    return fn;
}

static lam_status scoped(lam_status (*step)(void *), void *arg) {
    lam_scope_begin();
    lam_status st = step(arg);
    lam_scope_end();
    return st;
}

lam_status step_counts_run(lam_device *dev, int warmup, lam_status (*step)(void *arg), void *arg, step_counts *out) {
    if (!dev || !step || !out) return LAM_ERR_ARG;
    memset(out, 0, sizeof *out);
    lam_kernel_stats probe;
    lam_status st = lam_device_kernel_stats(dev, &probe);
    for (int i = 0; st == LAM_OK && i < warmup; ++i) st = scoped(step, arg);
    if (st == LAM_OK) st = lam_device_synchronize(dev);
    if (st == LAM_OK) st = lam_device_reset_kernel_stats(dev);
    if (st == LAM_OK) st = lam_device_reset_peak(dev);
    if (st != LAM_OK) return st;
    uint64_t (*shim)(void) = shim_commands();
    uint64_t before = shim ? shim() : 0;
    st = scoped(step, arg);
    /* counted as the work is enqueued: read before the wait below, which would count as one */
    lam_pool_stats pool;
    if (st == LAM_OK) st = lam_device_kernel_stats(dev, &out->k);
    if (st == LAM_OK) st = lam_device_pool_stats(dev, &pool);
    out->peak = st == LAM_OK ? pool.peak : 0;
    out->shim = shim != NULL;
    out->enqueued = shim ? shim() - before : 0;
    lam_status sync = lam_device_synchronize(dev);
    return st == LAM_OK ? sync : st;
}

void step_counts_print(const char *label, const lam_device *dev, const step_counts *c) {
    const lam_kernel_stats *k = &c->k;
    char shim[96] = "";
    uint64_t kernels = k->launches + k->gemm_kernels;
    if (c->shim)
        snprintf(shim, sizeof shim, "   shim: %llu commands (%s)", (unsigned long long)c->enqueued,
                 c->enqueued == kernels ? "agrees" : "differs");
    printf("counts %-26s %-12s %6llu non-GEMM launches %4llu GEMM calls (%llu kernels%s) %llu host waits "
           "%9.1f MB moved by kernels (GEMM %.1f)   peak pool %.1f MiB%s\n",
           label, lam_device_spec(dev), (unsigned long long)k->launches, (unsigned long long)k->gemm_calls,
           (unsigned long long)k->gemm_kernels, k->gemm_kernels_exact ? "" : ", estimated",
           (unsigned long long)k->host_waits, (double)(k->bytes_read + k->bytes_written) / 1e6,
           (double)(k->gemm_bytes_read + k->gemm_bytes_written) / 1e6, (double)c->peak / 1048576.0, shim);
}

void step_counts_report(const char *label, lam_device *dev, lam_status (*step)(void *arg), void *arg) {
    step_counts c;
    lam_status st = step_counts_run(dev, 2, step, arg, &c);
    if (st == LAM_OK) step_counts_print(label, dev, &c);
    else if (st == LAM_ERR_UNSUPPORTED) printf("counts %-26s %-12s (this device does not count kernels)\n", label, lam_device_spec(dev));
    else printf("counts %-26s %-12s failed: %s\n", label, lam_device_spec(dev), lam_last_error());
    lam_clear_error();
}
