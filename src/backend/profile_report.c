/* The profiler's reporting side: the sorted table (lam_profile_entries, lam_profile_report)
 * and the Chrome trace event file (lam_profile_write_trace). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/profile_impl.h"
#include "core/error.h"
#include "lamina/profile.h"

/* Where d stands in lam_device_at's order (its trace track); -1 if nowhere. The report
 * sits above the registry; the recording side (profile.c) never calls it. */
static int lam_prof_device_index(const lam_device *d) {
    bool clean = lam_last_status() == LAM_OK;   /* a refused device's error is ours to clear */
    int found = -1;
    for (int i = 0; i < lam_device_count() && found < 0; ++i)
        if (lam_device_at(i) == d) found = i;
    if (clean) lam_clear_error();
    return found;
}

typedef struct {
    lam_profile_entry e;
    int device;   /* lam_device_at order */
} keyed_entry;

static int by_device_then_time(const void *pa, const void *pb) {
    const keyed_entry *a = pa, *b = pb;
    if (a->device != b->device) return a->device < b->device ? -1 : 1;
    if (a->e.time_us != b->e.time_us) return a->e.time_us > b->e.time_us ? -1 : 1;
    return strcmp(a->e.op, b->e.op);
}

/* The table, sorted, with shares filled in; *n rows (NULL and -1 when out of memory). */
static keyed_entry *collect(int *n) {
    lam_prof_resolve();
    pthread_mutex_lock(&lam_prof.lock);
    *n = lam_prof.n_rows;
    keyed_entry *k = calloc((size_t)(*n > 0 ? *n : 1), sizeof *k);
    for (int i = 0; k && i < *n; ++i) {
        const lam_prof_row *r = &lam_prof.rows[i];
        k[i].device = lam_prof_device_index(r->dev);
        k[i].e = (lam_profile_entry){.device = r->dev->spec, .op = r->op, .calls = r->calls,
                                     .time_us = (double)r->ns / 1e3, .host_us = (double)r->host_ns / 1e3,
                                     .bytes = r->bytes, .flops = r->flops, .device_timed = r->timed > 0};
    }
    pthread_mutex_unlock(&lam_prof.lock);
    if (!k) {
        *n = -1;
        lam_set_error(LAM_ERR_OOM, "lam_profile: out of memory for %d rows", lam_prof.n_rows);
        return NULL;
    }
    qsort(k, (size_t)*n, sizeof *k, by_device_then_time);
    for (int i = 0, j; i < *n; i = j) {   /* each device's group [i, j) */
        double total = 0;
        for (j = i; j < *n && k[j].device == k[i].device; ++j) total += k[j].e.time_us;
        for (int m = i; m < j; ++m) k[m].e.share = total > 0 ? k[m].e.time_us / total : 0;
    }
    return k;
}

int lam_profile_entries(lam_profile_entry *out, int max) {
    int n;
    keyed_entry *k = collect(&n);
    for (int i = 0; k && out && i < n && i < max; ++i) out[i] = k[i].e;
    free(k);
    return n;
}

/* ---- the table ------------------------------------------------------------------------ */

/* What the block's times are, in its heading; *mark: rows to mark with '*' (host-timed). */
static const char *timing_note(const lam_device *d, const keyed_entry *k, int n, bool *mark) {
    int timed = 0;
    for (int i = 0; i < n; ++i) timed += k[i].e.device_timed;
    *mark = timed > 0 && timed < n;
    if (timed == n) return "device time from OpenCL profiling events";
    if (timed > 0) return "device time from OpenCL profiling events; * host wall-clock";
    if (d->type == LAM_DEVICE_HOST) return "wall-clock around each call";
    return "host wall-clock: this queue was made before profiling was on";
}

static void print_rate(FILE *out, double amount, double us) {
    if (amount > 0 && us > 0) fprintf(out, " %9.2f", amount / (us * 1e3));
    else fprintf(out, " %9s", "");
}

static void print_block(FILE *out, const keyed_entry *k, int n) {
    lam_device *d = lam_device_get(k[0].e.device);
    bool mark, host_col = false;
    const char *note = timing_note(d, k, n, &mark);
    for (int i = 0; i < n; ++i) host_col |= k[i].e.device_timed;
    fprintf(out, "\nlamina profile: %s (%s)\n", lam_device_name(d), note);
    fprintf(out, "%-28s %9s %11s %11s %7s %9s %9s%s\n", "op", "calls", "total ms", "mean us", "share", "GB/s",
            "GFLOP/s", host_col ? "   host ms" : "");
    double total = 0, host = 0;
    int64_t calls = 0;
    for (int i = 0; i < n; ++i) {
        const lam_profile_entry *e = &k[i].e;
        char name[64];
        snprintf(name, sizeof name, "%s%s", e->op, mark && !e->device_timed ? " *" : "");
        fprintf(out, "%-28s %9lld %11.3f %11.2f %6.1f%%", name, (long long)e->calls, e->time_us / 1e3,
                e->calls ? e->time_us / (double)e->calls : 0.0, 100.0 * e->share);
        print_rate(out, e->bytes, e->time_us);
        print_rate(out, e->flops, e->time_us);
        if (host_col) fprintf(out, " %9.3f", e->host_us / 1e3);
        fprintf(out, "\n");
        total += e->time_us;
        host += e->host_us;
        calls += e->calls;
    }
    fprintf(out, "%-28s %9lld %11.3f %11s %6.1f%%%20s", "total", (long long)calls, total / 1e3, "", 100.0, "");
    if (host_col) fprintf(out, " %9.3f", host / 1e3);
    fprintf(out, "\n");
}

lam_status lam_profile_report(FILE *out) {
    if (!out) return lam_set_error(LAM_ERR_ARG, "lam_profile_report: out is NULL");
    int n;
    keyed_entry *k = collect(&n);
    if (!k) return lam_last_status();
    if (n == 0) fprintf(out, "lamina profile: nothing recorded\n");
    for (int i = 0, j; i < n; i = j) {
        for (j = i; j < n && k[j].device == k[i].device; ++j) {}
        print_block(out, k + i, j - i);
    }
    pthread_mutex_lock(&lam_prof.lock);
    int64_t lost = lam_prof.lost, lost_events = lam_prof.lost_events;
    pthread_mutex_unlock(&lam_prof.lock);
    if (lost) fprintf(out, "(%lld calls not recorded: out of memory)\n", (long long)lost);
    if (lost_events) fprintf(out, "(%lld trace events not kept: limit or memory)\n", (long long)lost_events);
    free(k);
    return ferror(out) ? lam_set_error(LAM_ERR_IO, "lam_profile_report: write failed") : LAM_OK;
}

/* ---- the trace ------------------------------------------------------------------------ */

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* The metadata events naming the process and one track (tid) per device that has rows. */
static void write_tracks(FILE *f, int pid, const int *tid) {
    fprintf(f, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":\"lamina\"}}", pid);
    for (int i = 0; i < lam_prof.n_rows; ++i) {
        bool first = true;
        for (int j = 0; j < i; ++j) first &= lam_prof.rows[j].dev != lam_prof.rows[i].dev;
        if (!first) continue;
        fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":", pid, tid[i]);
        json_string(f, lam_device_name(lam_prof.rows[i].dev));
        fprintf(f, "}},\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"sort_index\":%d}}",
                pid, tid[i], tid[i]);
    }
}

static void write_event(FILE *f, int pid, const int *tid, const lam_prof_event *e) {
    const lam_prof_row *r = &lam_prof.rows[e->row];
    fprintf(f, ",\n{\"name\":");
    json_string(f, e->name >= 0 ? lam_prof.names[e->name] : r->op);
    fprintf(f, ",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"args\":{",
            e->name >= 0 ? "kernel" : "op", pid, tid[e->row], (double)(int64_t)(e->start - lam_prof.t0) / 1e3,
            (double)e->dur / 1e3);
    if (e->name >= 0) {
        fprintf(f, "\"op\":");
        json_string(f, r->op);
    } else {
        fprintf(f, "\"device_timed\":%s", e->device ? "true" : "false");
        if (e->bytes > 0) fprintf(f, ",\"bytes\":%.0f", e->bytes);
        if (e->flops > 0) fprintf(f, ",\"flops\":%.0f", e->flops);
    }
    fprintf(f, "}}");
}

/* The whole file; the caller holds the lock. */
static void write_trace(FILE *f, const int *tid) {
    int pid = (int)getpid();
    fprintf(f, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"generator\":\"lamina\",\"events_not_kept\":%lld},\n"
               "\"traceEvents\":[\n", (long long)lam_prof.lost_events);
    write_tracks(f, pid, tid);
    for (int64_t i = 0; i < lam_prof.n_events; ++i)
        if (lam_prof.events[i].start) write_event(f, pid, tid, &lam_prof.events[i]);   /* 0: still running */
    fprintf(f, "\n]}\n");
}

lam_status lam_profile_write_trace(const char *path) {
    if (!path || !*path) return lam_set_error(LAM_ERR_ARG, "lam_profile_write_trace: path is NULL or empty");
    lam_prof_resolve();
    size_t len = strlen(path) + 5;
    char *tmp = malloc(len);
    if (!tmp) return lam_set_error(LAM_ERR_OOM, "lam_profile_write_trace: out of memory");
    snprintf(tmp, len, "%s.tmp", path);
    pthread_mutex_lock(&lam_prof.lock);
    lam_status st = LAM_OK;
    int *tid = malloc((size_t)(lam_prof.n_rows > 0 ? lam_prof.n_rows : 1) * sizeof *tid);
    FILE *f = NULL;
    if (!lam_prof.trace && lam_prof.n_events == 0)
        st = lam_set_error(LAM_ERR_STATE, "lam_profile_write_trace: no trace recorded (lam_profile_enable(true))");
    else if (!tid) st = lam_set_error(LAM_ERR_OOM, "lam_profile_write_trace: out of memory");
    else if (!(f = fopen(tmp, "w")))
        st = lam_set_error(LAM_ERR_IO, "lam_profile_write_trace: cannot create %s: %s", tmp, strerror(errno));
    if (f) {
        for (int i = 0; i < lam_prof.n_rows; ++i) tid[i] = lam_prof_device_index(lam_prof.rows[i].dev);
        write_trace(f, tid);
        bool bad = ferror(f) != 0;
        if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
            st = lam_set_error(LAM_ERR_IO, "lam_profile_write_trace: cannot write %s: %s", path, strerror(errno));
            remove(tmp);
        }
    }
    pthread_mutex_unlock(&lam_prof.lock);
    free(tid);
    free(tmp);
    return st;
}
