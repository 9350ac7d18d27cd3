/* Device timings for the profiler (backend/profile.h): while an op is profiled, each
 * command it enqueues gets an event; the events are read back in batches (when the list
 * fills, or before a report), never by waiting on each op. Around an enqueue:
 *
 *   cl_event *ev = lam_cl_prof_event(c);            // NULL when not profiling
 *   err = clEnqueueNDRangeKernel(..., 0, NULL, ev);
 *   lam_cl_prof_record(c, ev, name);
 */
#ifndef LAM_CL_PROFILE_H
#define LAM_CL_PROFILE_H

#include "backend/opencl/cl_backend.h"
#include "backend/profile.h"

cl_event *lam_cl_prof_event_slow(lam_cl_ctx *c, bool library);
void lam_cl_prof_record_slow(cl_event *ev, const char *what);

/* Where the event of the command about to be enqueued goes; NULL when profiling is off or
 * c's queue was made without profiling. */
static inline cl_event *lam_cl_prof_event(lam_cl_ctx *c) {
    return lam_prof_on() && c->profiling ? lam_cl_prof_event_slow(c, false) : NULL;
}

/* The same for a library call that enqueues several commands and returns the event of its
 * last one (CLBlast): a marker enqueued first lets the timing cover all of them. */
static inline cl_event *lam_cl_prof_library(lam_cl_ctx *c) {
    return lam_prof_on() && c->profiling ? lam_cl_prof_event_slow(c, true) : NULL;
}

/* After the enqueue: keeps *ev for the op running on this thread, named `what` in the trace. */
static inline void lam_cl_prof_record(cl_event *ev, const char *what) {
    if (ev) lam_cl_prof_record_slow(ev, what);
}

#endif
