/* Per-op profiling: where the time goes, per device and op.
 *
 * From the environment, with no code change:
 *
 *   LAMINA_PROFILE=1 ./train        // at exit, a table per device on stderr
 *   LAMINA_TRACE=run.json ./train   // at exit, a Chrome trace (chrome://tracing, ui.perfetto.dev)
 *
 * Or from code:
 *
 *   lam_profile_enable(false);      // before the first device use: OpenCL queues then time kernels
 *   train_one_epoch();
 *   lam_profile_report(stderr);     // calls, total and mean time, GB/s or GFLOP/s, share
 *   lam_profile_write_trace("epoch.json");
 *   lam_profile_reset();            // start counting again
 *
 * What is timed is each backend call an op makes (the name is the op's: "lam_matmul",
 * "lam_relu", "relu_grad", "lam_sgd", and "lam_read", "lam_write", "lam_fill_", ... for
 * transfers). On the host device, wall-clock around the call. On OpenCL devices, the
 * device's own timing of the kernels (profiling events, read back in batches without
 * waiting per op), provided profiling was on when the device was first used; otherwise
 * wall-clock there too. While profiling is off it costs one test of a flag per call.
 */
#ifndef LAMINA_PROFILE_H
#define LAMINA_PROFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lamina/error.h"

/* One row of the table: an op on a device, summed over its calls. */
typedef struct {
    const char *device;   /* the device's spec: "cpu", "opencl:0:0" (static) */
    const char *op;       /* "lam_matmul", "relu_grad", ... (valid until lam_profile_reset) */
    int64_t calls;
    double time_us;       /* device time (OpenCL events) where device_timed, else wall-clock */
    double host_us;       /* wall-clock the calls took on their thread (enqueueing, on a GPU) */
    double bytes;         /* bytes read and written by all calls; 0 when the op does not say */
    double flops;         /* floating point operations (matmul: 2 m n k per matrix); 0 likewise */
    double share;         /* time_us over the device's total, 0..1 */
    bool device_timed;    /* some calls timed by the device's profiling events */
} lam_profile_entry;

/* Starts recording (keeping every call for lam_profile_write_trace too when trace is true).
 * Recording adds to what was recorded before; lam_profile_reset clears it. */
LAM_API lam_status lam_profile_enable(bool trace);
/* Stops recording; what was recorded stays for reports. */
LAM_API void lam_profile_disable(void);
LAM_API bool lam_profile_enabled(void);
/* Forgets everything recorded. */
LAM_API void lam_profile_reset(void);

/* Fills out with up to max rows, grouped by device (device order), each group sorted by
 * time, largest first; returns the number of rows there are (-1 when out of memory). */
LAM_API int lam_profile_entries(lam_profile_entry *out, int max);
/* Prints the table, one block per device (LAMINA_PROFILE=1 does this at exit). */
LAM_API lam_status lam_profile_report(FILE *out);
/* Writes a Chrome trace event file (JSON, atomically): one track per device, one event per
 * op call and, on OpenCL, one per kernel inside it. Needs lam_profile_enable(true). */
LAM_API lam_status lam_profile_write_trace(const char *path);
/* Writes now what the environment asked for at exit (the LAMINA_TRACE file): for programs
 * that want the trace while they run on. LAM_OK when nothing was asked. */
LAM_API lam_status lam_profile_flush(void);

#endif
