/* The profiler's recording side: spans around backend calls, one row per (device, op),
 * trace events, device timings handed over by backends, the runtime switches and the
 * LAMINA_PROFILE / LAMINA_TRACE environment. Reports are in profile_report.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/profile_impl.h"
#include "core/error.h"
#include "lamina/profile.h"

atomic_bool lam_prof_flag;
lam_prof_state lam_prof = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A backend call being timed on this thread. */
typedef struct {
    unsigned gen;
    int row;              /* -1: not recorded */
    int64_t event;        /* its trace event; -1 if none */
    uint64_t t0;
    double bytes, flops;
    int device_timings;   /* commands a backend attached to it */
} span;

#define MAX_DEPTH 4       /* backend calls do not nest today; a few levels to be safe */
static _Thread_local span spans[MAX_DEPTH];
static _Thread_local int depth;

static void (*resolvers[4])(void);
static int n_resolvers;

static bool exit_table;           /* LAMINA_PROFILE=1 */
static char trace_path[4096];     /* LAMINA_TRACE */
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

uint64_t lam_prof_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Room for need elements of size elem in *p (capacity *cap); false when out of memory. */
static bool reserve(void **p, size_t elem, int64_t *cap, int64_t need) {
    if (need <= *cap) return true;
    int64_t n = *cap ? *cap * 2 : 64;
    while (n < need) n *= 2;
    void *q = realloc(*p, (size_t)n * elem);
    if (!q) return false;
    *p = q;
    *cap = n;
    return true;
}

static int find_row(lam_device *d, const char *op) {
    for (int i = 0; i < lam_prof.n_rows; ++i)
        if (lam_prof.rows[i].dev == d && strcmp(lam_prof.rows[i].op, op) == 0) return i;
    int64_t cap = lam_prof.cap_rows;
    char *copy = strdup(op);
    if (!copy || !reserve((void **)&lam_prof.rows, sizeof *lam_prof.rows, &cap, lam_prof.n_rows + 1)) {
        free(copy);
        return -1;
    }
    lam_prof.cap_rows = (int)cap;
    lam_prof.rows[lam_prof.n_rows] = (lam_prof_row){.dev = d, .op = copy};
    return lam_prof.n_rows++;
}

/* A new trace event of row (name -1: an op call); -1 when not kept. */
static int64_t add_event(int row, int name, uint64_t start, uint64_t dur) {
    if (lam_prof.n_events >= LAM_PROF_MAX_EVENTS ||
        !reserve((void **)&lam_prof.events, sizeof *lam_prof.events, &lam_prof.cap_events, lam_prof.n_events + 1)) {
        ++lam_prof.lost_events;
        return -1;
    }
    lam_prof.events[lam_prof.n_events] = (lam_prof_event){.start = start, .dur = dur, .row = row, .name = name};
    return lam_prof.n_events++;
}

/* The index of a device command's name in lam_prof.names, added if new; -1 out of memory. */
static int intern(const char *what) {
    for (int i = 0; i < lam_prof.n_names; ++i)
        if (strcmp(lam_prof.names[i], what) == 0) return i;
    int64_t cap = lam_prof.cap_names;
    char *copy = strdup(what);
    if (!copy || !reserve((void **)&lam_prof.names, sizeof *lam_prof.names, &cap, lam_prof.n_names + 1)) {
        free(copy);
        return -1;
    }
    lam_prof.cap_names = (int)cap;
    lam_prof.names[lam_prof.n_names] = copy;
    return lam_prof.n_names++;
}

static void at_exit(void) {
    atomic_store(&lam_prof_flag, false);
    if (exit_table) lam_profile_report(stderr);
    if (!trace_path[0]) return;
    if (lam_profile_write_trace(trace_path) == LAM_OK) fprintf(stderr, "lamina: trace written to %s\n", trace_path);
    else fprintf(stderr, "lamina: LAMINA_TRACE: %s\n", lam_last_error());
}

/* Registered at the first recorded call, after the OpenCL runtimes have loaded, so it runs
 * before their exit handlers: device timings are still readable then. */
static void register_exit(void) {
    if (exit_table || trace_path[0]) atexit(at_exit);
}

void lam_prof_begin(const char *op, lam_device *d, double bytes, double flops) {
    pthread_once(&exit_once, register_exit);
    span *s = depth < MAX_DEPTH ? &spans[depth] : NULL;
    ++depth;
    if (!s) return;
    *s = (span){.row = -1, .event = -1, .bytes = bytes, .flops = flops};
    pthread_mutex_lock(&lam_prof.lock);
    s->gen = lam_prof.gen;
    s->row = find_row(d, op ? op : "?");
    if (s->row < 0) ++lam_prof.lost;
    else if (lam_prof.trace && (s->event = add_event(s->row, -1, 0, 0)) >= 0) {
        lam_prof.events[s->event].bytes = bytes;
        lam_prof.events[s->event].flops = flops;
    }
    pthread_mutex_unlock(&lam_prof.lock);
    s->t0 = lam_prof_now();
}

lam_status lam_prof_end(lam_status st) {
    uint64_t t1 = lam_prof_now();
    if (depth == 0) return st;
    span *s = --depth < MAX_DEPTH ? &spans[depth] : NULL;
    if (!s || s->row < 0) return st;
    uint64_t wall = t1 - s->t0;
    pthread_mutex_lock(&lam_prof.lock);
    if (s->gen == lam_prof.gen) {
        lam_prof_row *r = &lam_prof.rows[s->row];
        r->calls++;
        r->host_ns += wall;
        r->bytes += s->bytes;
        r->flops += s->flops;
        if (s->device_timings) r->timed++;
        else r->ns += wall;
        lam_prof_event *e = s->event >= 0 ? &lam_prof.events[s->event] : NULL;
        if (e && !e->device) {   /* until (unless) its device commands say when it ran */
            e->start = s->t0;
            e->dur = wall;
        }
    }
    pthread_mutex_unlock(&lam_prof.lock);
    return st;
}

bool lam_prof_attach(lam_prof_ref *ref) {
    if (depth == 0 || depth > MAX_DEPTH || spans[depth - 1].row < 0) return false;
    span *s = &spans[depth - 1];
    s->device_timings++;
    *ref = (lam_prof_ref){.gen = s->gen, .row = s->row, .event = s->event};
    return true;
}

/* The op event's span grows to cover [start, end). */
static void cover(lam_prof_event *e, uint64_t start, uint64_t end) {
    if (!e->device) {
        e->device = true;
        e->start = start;
        e->dur = end - start;
        return;
    }
    uint64_t s = e->start < start ? e->start : start, f = e->start + e->dur > end ? e->start + e->dur : end;
    e->start = s;
    e->dur = f - s;
}

void lam_prof_device_time(lam_prof_ref ref, const char *what, uint64_t start_ns, uint64_t end_ns, uint64_t busy_ns) {
    if (end_ns < start_ns) end_ns = start_ns;
    pthread_mutex_lock(&lam_prof.lock);
    if (ref.gen == lam_prof.gen && ref.row >= 0 && ref.row < lam_prof.n_rows) {
        lam_prof.rows[ref.row].ns += busy_ns;
        if (ref.event >= 0 && ref.event < lam_prof.n_events) {
            cover(&lam_prof.events[ref.event], start_ns, end_ns);
            int name = intern(what ? what : "?");
            if (name >= 0) add_event(ref.row, name, start_ns, end_ns - start_ns);
        }
    }
    pthread_mutex_unlock(&lam_prof.lock);
}

void lam_prof_add_resolver(void (*fn)(void)) {
    pthread_mutex_lock(&lam_prof.lock);
    bool known = false;
    for (int i = 0; i < n_resolvers; ++i) known |= resolvers[i] == fn;
    if (!known && n_resolvers < (int)(sizeof resolvers / sizeof *resolvers)) resolvers[n_resolvers++] = fn;
    pthread_mutex_unlock(&lam_prof.lock);
}

void lam_prof_resolve(void) {
    pthread_mutex_lock(&lam_prof.lock);
    int n = n_resolvers;
    pthread_mutex_unlock(&lam_prof.lock);
    for (int i = 0; i < n; ++i) resolvers[i]();
}

/* ---- the public switches -------------------------------------------------------------- */

lam_status lam_profile_enable(bool trace) {
    pthread_mutex_lock(&lam_prof.lock);
    lam_prof.trace = trace;
    if (!lam_prof.t0) lam_prof.t0 = lam_prof_now();
    pthread_mutex_unlock(&lam_prof.lock);
    atomic_store(&lam_prof_flag, true);
    return LAM_OK;
}

void lam_profile_disable(void) { atomic_store(&lam_prof_flag, false); }

bool lam_profile_enabled(void) { return lam_prof_on(); }

void lam_profile_reset(void) {
    lam_prof_resolve();   /* timings still in flight belong to what is being forgotten */
    pthread_mutex_lock(&lam_prof.lock);
    for (int i = 0; i < lam_prof.n_rows; ++i) free(lam_prof.rows[i].op);
    for (int i = 0; i < lam_prof.n_names; ++i) free(lam_prof.names[i]);
    free(lam_prof.rows);
    free(lam_prof.events);
    free(lam_prof.names);
    lam_prof.rows = NULL;
    lam_prof.events = NULL;
    lam_prof.names = NULL;
    lam_prof.n_rows = lam_prof.cap_rows = lam_prof.n_names = lam_prof.cap_names = 0;
    lam_prof.n_events = lam_prof.cap_events = lam_prof.lost_events = lam_prof.lost = 0;
    lam_prof.gen++;
    lam_prof.t0 = lam_prof_now();
    pthread_mutex_unlock(&lam_prof.lock);
}

lam_status lam_profile_flush(void) { return trace_path[0] ? lam_profile_write_trace(trace_path) : LAM_OK; }

/* LAMINA_PROFILE=1 and LAMINA_TRACE=path switch recording on before anything runs, so the
 * OpenCL queues are made with profiling. */
__attribute__((constructor)) static void from_environment(void) {
    const char *p = getenv("LAMINA_PROFILE"), *t = getenv("LAMINA_TRACE");
    exit_table = p && *p && strcmp(p, "0") != 0;
    if (t && *t && strlen(t) < sizeof trace_path) snprintf(trace_path, sizeof trace_path, "%s", t);
    else if (t && *t) fprintf(stderr, "lamina: LAMINA_TRACE: path too long, no trace\n");
    if (exit_table || trace_path[0]) lam_profile_enable(trace_path[0] != '\0');
}
