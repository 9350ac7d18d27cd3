/* Per-step kernel counts for the benchmarks (bench_train, bench_cnn, bench_transformer): the
 * headline numbers of the OpenCL path, what a GPU's step time follows. One line per workload
 * and device:
 *
 *   counts MNIST MLP step b128   opencl:0:0   38 non-GEMM launches   5 GEMM calls (18 kernels)
 *          0 host waits   8.4 MB moved by kernels (GEMM 3.1)   peak pool 3.8 MiB
 *
 * Counted over one step after `warmup` steps (kernels built, the pool filled), with the pool's
 * peak reset just before it, so the peak is the step's. Run under the enqueue shim
 * (LD_PRELOAD=build/tests/libenqueue_count.so) the line also gives the commands the OpenCL
 * runtime was handed, which must equal the launches plus the GEMM kernels. */
#ifndef LAMINA_BENCH_STEP_COUNTS_H
#define LAMINA_BENCH_STEP_COUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include <lamina.h>

typedef struct {
    lam_kernel_stats k;
    uint64_t peak;       /* the pool's peak bytes during the step */
    uint64_t enqueued;   /* commands the enqueue shim saw; 0 without it */
    bool shim;           /* the shim is loaded */
} step_counts;

/* Runs step(arg) warmup times, each in a scope of its own, then once more counted into out.
 * LAM_ERR_UNSUPPORTED on a device that does not count kernels (cpu); a step's failure as is. */
lam_status step_counts_run(lam_device *dev, int warmup, lam_status (*step)(void *arg), void *arg, step_counts *out);
/* Prints the line above for c (label: the workload). */
void step_counts_print(const char *label, const lam_device *dev, const step_counts *c);
/* Both, and on failure a line saying why; for a bench's one call per workload and device. */
void step_counts_report(const char *label, lam_device *dev, lam_status (*step)(void *arg), void *arg);

#endif
