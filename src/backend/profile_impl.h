/* The profiler's recorded state, shared by its recording side (profile.c) and its
 * reporting side (profile_report.c). Everything here is guarded by lam_prof.lock. */
#ifndef LAM_BACKEND_PROFILE_IMPL_H
#define LAM_BACKEND_PROFILE_IMPL_H

#include <pthread.h>

#include "backend/profile.h"

/* One (device, op) row of the table. */
typedef struct {
    lam_device *dev;
    char *op;
    int64_t calls;
    int64_t timed;        /* calls timed by device events */
    uint64_t ns;          /* device busy time of timed calls + wall-clock of the others */
    uint64_t host_ns;     /* wall-clock of every call */
    double bytes, flops;
} lam_prof_row;

/* One trace event: an op call (name -1) or a device command inside one. */
typedef struct {
    uint64_t start, dur;  /* lam_prof_now's clock */
    double bytes, flops;  /* the call's own (op events) */
    int row;
    int name;             /* index into lam_prof.names; -1 for the op itself */
    bool device;          /* an op event whose span now comes from its device commands */
} lam_prof_event;

#define LAM_PROF_MAX_EVENTS ((int64_t)1 << 20)   /* ~50 MB: later events are counted, not kept */

typedef struct {
    pthread_mutex_t lock;
    unsigned gen;         /* bumped by a reset: spans and timings from before are dropped */
    bool trace;           /* keep events */
    uint64_t t0;          /* the trace's time zero */
    lam_prof_row *rows;
    int n_rows, cap_rows;
    lam_prof_event *events;
    int64_t n_events, cap_events, lost_events;
    char **names;         /* device command names seen in events */
    int n_names, cap_names;
    int64_t lost;         /* calls not recorded: out of memory */
} lam_prof_state;

extern lam_prof_state lam_prof;

/* Runs the backends' resolvers: every device timing enqueued so far is recorded after it. */
void lam_prof_resolve(void);

#endif
