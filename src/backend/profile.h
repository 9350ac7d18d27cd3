/* The per-op profiler's internals (the public side is include/lamina/profile.h).
 *
 * Every backend call goes through one of two places: the ops' dispatch (src/ops/dispatch.c)
 * and the tensor layer's transfers (src/tensor/). Each wraps its call in LAM_PROFILED, which
 * when profiling is off is one relaxed load and a predictable branch around the plain call:
 * no timing, no allocation, no lock. When on, the call is a span on this thread: host
 * wall-clock around it, its bytes and flops, and a row of the (device, op) table.
 *
 * A backend whose work runs asynchronously (OpenCL) attaches device timings to the span
 * current on the calling thread (lam_prof_attach), resolves them later, without waiting per
 * op, and hands them over with lam_prof_device_time; a span with device timings counts
 * those instead of its wall-clock. */
#ifndef LAM_BACKEND_PROFILE_H
#define LAM_BACKEND_PROFILE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"

extern atomic_bool lam_prof_flag;

/* Whether calls are being recorded now. */
static inline bool lam_prof_on(void) { return atomic_load_explicit(&lam_prof_flag, memory_order_relaxed); }

/* Opens a span on this thread for one backend call of op on d, moving bytes and doing
 * flops (0: unknown). Always paired with lam_prof_end. */
void lam_prof_begin(const char *op, lam_device *d, double bytes, double flops);
/* Closes this thread's innermost span; returns st, the call's status. */
lam_status lam_prof_end(lam_status st);

/* status = call, recorded as op on device d when profiling is on (bytes and flops are only
 * evaluated then). The comma operator opens the span before the call runs. */
#define LAM_PROFILED(op, d, bytes, flops, call) \
    (lam_prof_on() ? (lam_prof_begin((op), (d), (bytes), (flops)), lam_prof_end(call)) : (call))

/* Names the span a device timing belongs to; stays valid across threads and resets (a
 * timing for a span from before a reset is dropped). */
typedef struct {
    unsigned gen;
    int row;
    int64_t event;
} lam_prof_ref;

/* The span open on this thread, counted as timed by the device from now on; false when
 * there is none (a backend call made outside LAM_PROFILED, or profiling off). */
bool lam_prof_attach(lam_prof_ref *ref);
/* One device command of ref's span ran from start_ns to end_ns (lam_prof_now's clock);
 * busy_ns of it count as the op's time. `what` names it in the trace (a kernel name). */
void lam_prof_device_time(lam_prof_ref ref, const char *what, uint64_t start_ns, uint64_t end_ns, uint64_t busy_ns);
/* Nanoseconds of the monotonic clock every timing is expressed in. */
uint64_t lam_prof_now(void);
/* fn hands over a backend's pending device timings; it runs before every report, trace
 * write and reset (and never with the profiler's lock held). */
void lam_prof_add_resolver(void (*fn)(void));

#endif
