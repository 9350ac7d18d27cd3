/* The cpu device's thread count (torch.set_num_threads): one number for lamina's OpenMP loops
 * and OpenBLAS's GEMMs, so the two share one pool and never oversubscribe the cores.
 * Precedence: lam_set_num_threads, then LAMINA_NUM_THREADS, then OMP_NUM_THREADS, then the
 * cores this process may use (its affinity mask, capped by a cgroup v2 CPU quota). */
#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/host/host.h"
#include "core/error.h"
#include "lamina/device.h"

#define MAX_THREADS 1024

static atomic_int threads;
static atomic_uint generation;           /* bumped at every change; threads re-apply it */
static _Thread_local unsigned applied;   /* the generation this thread's OpenMP runs with */
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* A whole number in [1, MAX_THREADS], else 0. */
static int parse_count(const char *s) {
    char *end;
    long v = strtol(s, &end, 10);
    return end != s && *end == '\0' && v >= 1 && v <= MAX_THREADS ? (int)v : 0;
}

/* ceil(quota / period) of this process's cgroup v2 cpu.max; 0 when unlimited or unknown. */
static int cgroup_quota(void) {
    char path[512] = "/sys/fs/cgroup/cpu.max", line[512];
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (f) {
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "0::", 3) == 0) {
                line[strcspn(line, "\n")] = '\0';
                snprintf(path, sizeof path, "/sys/fs/cgroup%.400s/cpu.max", strcmp(line + 3, "/") ? line + 3 : "");
            }
        fclose(f);
    }
    f = fopen(path, "r");
    if (!f) return 0;
    long long quota = 0, period = 0;
    int got = fscanf(f, "%lld %lld", &quota, &period);   /* "max 100000" leaves got == 0 */
    fclose(f);
    if (got != 2 || quota <= 0 || period <= 0) return 0;
    long long n = (quota + period - 1) / period;
    return n < MAX_THREADS ? (int)n : MAX_THREADS;
}

/* The cores this process may run on. */
static int usable_cores(void) {
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : omp_get_num_procs();
    int quota = cgroup_quota();
    if (quota > 0 && quota < n) n = quota;
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
}

static int default_count(void) {
    const char *env = getenv("LAMINA_NUM_THREADS"), *omp = getenv("OMP_NUM_THREADS");
    int cores = usable_cores();
    if (env && *env) {
        int n = parse_count(env);
        if (n) return n;
        fprintf(stderr, "lamina: LAMINA_NUM_THREADS=\"%.40s\" is not a whole number from 1 to %d: using %d\n", env,
                MAX_THREADS, cores);
        return cores;
    }
    return omp && *omp ? omp_get_max_threads() : cores;   /* OpenMP parsed OMP_NUM_THREADS */
}

static void init(void) {
    int n = default_count();
    atomic_store(&threads, n);
    openblas_set_num_threads(n);   /* the pthreads build's own pool; the OpenMP build follows omp */
    atomic_store(&generation, 1);
}

int lam_host_threads(void) {
    pthread_once(&once, init);
    unsigned g = atomic_load(&generation);
    int n = atomic_load(&threads);
    if (applied != g) {   /* OpenMP's thread count is per thread: apply it in each caller */
        omp_set_num_threads(n);
        applied = g;
    }
    return n;
}

lam_status lam_set_num_threads(int n) {
    if (n < 1 || n > MAX_THREADS)
        return lam_set_error(LAM_ERR_ARG, "lam_set_num_threads: %d threads (1 to %d)", n, MAX_THREADS);
    pthread_once(&once, init);
    atomic_store(&threads, n);
    openblas_set_num_threads(n);
    atomic_fetch_add(&generation, 1);
    return LAM_OK;
}

int lam_get_num_threads(void) { return lam_host_threads(); }

static int64_t par_min = 262144;
static pthread_once_t par_once = PTHREAD_ONCE_INIT;

static void par_min_init(void) {
    const char *env = getenv("LAMINA_HOST_PAR_MIN");
    long long v = env && *env ? atoll(env) : 0;
    if (v >= 1) par_min = v;
}

int64_t lam_host_par_min(void) {
    pthread_once(&par_once, par_min_init);
    return par_min;
}
