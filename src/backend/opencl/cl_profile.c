/* OpenCL device timings for the profiler: a bounded list of events, read back when it fills
 * (its older half, which an in-order queue has usually finished) or when the profiler
 * reports; a command still running is waited for then, never op by op. */
#include <stdio.h>
#include <string.h>

#include "backend/opencl/cl_profile.h"

/* The command being enqueued on this thread (between lam_cl_prof_event and _record). */
static _Thread_local struct {
    lam_cl_ctx *c;
    cl_event ev, marker;
    uint64_t enqueued;   /* host clock just before the enqueue */
} next;

typedef struct {
    lam_cl_ctx *c;
    cl_event ev, marker;   /* marker: a library call's, before its commands */
    uint64_t enqueued;
    lam_prof_ref ref;
    char what[64];
} pending;

/* Short: POCL 3.1 slows down as live events pile up (an MNIST epoch holding up to 4096 took
 * 51 s instead of 2 s; with 256, no longer than without profiling). */
#define MAX_PENDING 256
static pending list[MAX_PENDING];
static int n_pending;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;   /* list, n_pending, clocks */

/* Host clock minus device clock, per queue: the largest (enqueued - queued) seen. Every
 * reading is a lower bound (the device stamps a command after our host reading), and one
 * offset per queue keeps its commands in order and apart on the trace. */
#define MAX_QUEUES 64
typedef struct {
    lam_cl_ctx *c;
    int64_t offset;
} queue_clock;
static queue_clock clocks[MAX_QUEUES];
static int n_clocks;
static pthread_once_t once = PTHREAD_ONCE_INIT;

cl_event *lam_cl_prof_event_slow(lam_cl_ctx *c, bool library) {
    next.c = c;
    next.ev = next.marker = NULL;
    next.enqueued = lam_prof_now();
    if (library && clEnqueueMarkerWithWaitList(c->queue, 0, NULL, &next.marker) != CL_SUCCESS) next.marker = NULL;
    return &next.ev;
}

static bool info(cl_event ev, cl_profiling_info what, cl_ulong *out) {
    return clGetEventProfilingInfo(ev, what, sizeof *out, out, NULL) == CL_SUCCESS;
}

/* Device clock readings of p: when it was queued (the host's p->enqueued), when its work
 * began and ended. A library call begins once the queue is free of earlier work (its
 * marker ended) and the library has enqueued its last command: this leaves out the
 * library's host time (CLBlast compiles on its first call) while the device idles. */
static bool readings(const pending *p, cl_ulong *queued, cl_ulong *begin, cl_ulong *end) {
    cl_ulong q, s, m_end;
    if (!info(p->ev, CL_PROFILING_COMMAND_QUEUED, &q) || !info(p->ev, CL_PROFILING_COMMAND_START, &s) ||
        !info(p->ev, CL_PROFILING_COMMAND_END, end))
        return false;
    if (!p->marker) {
        *queued = q;
        *begin = s;
        return true;
    }
    if (!info(p->marker, CL_PROFILING_COMMAND_QUEUED, queued) || !info(p->marker, CL_PROFILING_COMMAND_END, &m_end))
        return false;
    *begin = m_end > q ? m_end : q;
    return true;
}

/* The offset of p's queue, raised to what p's readings show. */
static int64_t clock_offset(const pending *p, cl_ulong queued) {
    int64_t seen = (int64_t)(p->enqueued - (uint64_t)queued);
    int i = 0;
    while (i < n_clocks && clocks[i].c != p->c) ++i;
    if (i == n_clocks) {
        if (n_clocks == MAX_QUEUES) return seen;
        clocks[n_clocks++] = (queue_clock){.c = p->c, .offset = seen};
    }
    if (seen > clocks[i].offset) clocks[i].offset = seen;
    return clocks[i].offset;
}

static void resolve_one(pending *p) {
    cl_int status = CL_COMPLETE;
    clGetEventInfo(p->ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    if (status > CL_COMPLETE) {   /* still queued or running: the batch's wait */
        clFlush(p->c->queue);
        clWaitForEvents(1, &p->ev);
    }
    cl_ulong queued, begin, end;
    if (status >= CL_COMPLETE && readings(p, &queued, &begin, &end)) {
        uint64_t busy = end > begin ? end - begin : 0;
        uint64_t start = (uint64_t)begin + (uint64_t)clock_offset(p, queued);   /* on the host's clock */
        lam_prof_device_time(p->ref, p->what, start, start + busy, busy);
    }
    clReleaseEvent(p->ev);
    if (p->marker) clReleaseEvent(p->marker);
}

/* Resolves the oldest n entries. */
static void resolve_oldest(int n) {
    for (int i = 0; i < n; ++i) resolve_one(&list[i]);
    memmove(list, list + n, (size_t)(n_pending - n) * sizeof *list);
    n_pending -= n;
}

static void resolve_all(void) {
    pthread_mutex_lock(&lock);
    resolve_oldest(n_pending);
    pthread_mutex_unlock(&lock);
}

static void register_resolver(void) { lam_prof_add_resolver(resolve_all); }

void lam_cl_prof_record_slow(cl_event *ev, const char *what) {
    lam_prof_ref ref;
    if (ev != &next.ev || !next.ev || !lam_prof_attach(&ref)) {   /* enqueue failed, or no op to charge */
        if (next.ev) clReleaseEvent(next.ev);
        if (next.marker) clReleaseEvent(next.marker);
        next.ev = next.marker = NULL;
        return;
    }
    pthread_once(&once, register_resolver);
    pthread_mutex_lock(&lock);
    if (n_pending == MAX_PENDING) resolve_oldest(MAX_PENDING / 2);
    pending *p = &list[n_pending++];
    *p = (pending){.c = next.c, .ev = next.ev, .marker = next.marker, .enqueued = next.enqueued, .ref = ref};
    snprintf(p->what, sizeof p->what, "%s", what);
    pthread_mutex_unlock(&lock);
    next.ev = next.marker = NULL;
}
