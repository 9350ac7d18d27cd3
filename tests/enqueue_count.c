/* A counting shim for LD_PRELOAD: every clEnqueueNDRangeKernel, clEnqueueCopyBuffer and
 * clEnqueueFillBuffer of the process (lamina's and CLBlast's alike) is counted, then passed
 * on to the real function, and the names of the kernels launched are kept.
 * tests/test_kernel_stats.c and bench/step_counts.c read them through
 * enqueue_count_commands() and enqueue_count_seen() (found with dlsym, so both also run
 * without the shim) and compare with lam_kernel_stats: that is how CLBlast's kernels are
 * seen, where lamina can only work them out. Not part of the library: interposing on OpenCL
 * is for tests and benchmarks. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>

static atomic_ullong commands;

uint64_t enqueue_count_commands(void);
uint64_t enqueue_count_commands(void) { return atomic_load(&commands); }

/* The kernel names launched so far: a small set, enough for lamina's and CLBlast's. */
#define MAX_NAMES 512
static char names[MAX_NAMES][64];
static int nnames;
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;

int enqueue_count_seen(const char *kernel);
int enqueue_count_seen(const char *kernel) {
    pthread_mutex_lock(&names_lock);
    int found = 0;
    for (int i = 0; i < nnames && !found; ++i) found = !strcmp(names[i], kernel);
    pthread_mutex_unlock(&names_lock);
    return found;
}

static void remember(cl_kernel k) {
    char name[64] = "";
    if (clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL) != CL_SUCCESS) return;
    name[sizeof name - 1] = '\0';
    if (enqueue_count_seen(name)) return;
    pthread_mutex_lock(&names_lock);
    if (nnames < MAX_NAMES) memcpy(names[nnames++], name, sizeof name);
    pthread_mutex_unlock(&names_lock);
}


typedef cl_int (*ndrange_fn)(cl_command_queue, cl_kernel, cl_uint, const size_t *, const size_t *, const size_t *,
                             cl_uint, const cl_event *, cl_event *);
typedef cl_int (*copy_fn)(cl_command_queue, cl_mem, cl_mem, size_t, size_t, size_t, cl_uint, const cl_event *,
                          cl_event *);
typedef cl_int (*fill_fn)(cl_command_queue, cl_mem, const void *, size_t, size_t, size_t, cl_uint, const cl_event *,
                          cl_event *);

static ndrange_fn real_ndrange;
static copy_fn real_copy;
static fill_fn real_fill;

/* The next definitions after this library's (the OpenCL loader's), found once at load time,
 * before any thread runs; stored through a void * as POSIX allows, which ISO C's casts do not. */
__attribute__((constructor)) static void find_real(void) {
    *(void **)&real_ndrange = dlsym(RTLD_NEXT, "clEnqueueNDRangeKernel");
    *(void **)&real_copy = dlsym(RTLD_NEXT, "clEnqueueCopyBuffer");
    *(void **)&real_fill = dlsym(RTLD_NEXT, "clEnqueueFillBuffer");
}

CL_API_ENTRY cl_int CL_API_CALL clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims,
                                                       const size_t *offset, const size_t *global,
                                                       const size_t *local, cl_uint nwait, const cl_event *wait,
                                                       cl_event *ev) {
    cl_int err = real_ndrange(q, k, dims, offset, global, local, nwait, wait, ev);
    if (err == CL_SUCCESS) atomic_fetch_add(&commands, 1);
    if (err == CL_SUCCESS) remember(k);
    return err;
}

CL_API_ENTRY cl_int CL_API_CALL clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t so,
                                                    size_t dof, size_t n, cl_uint nwait, const cl_event *wait,
                                                    cl_event *ev) {
    cl_int err = real_copy(q, src, dst, so, dof, n, nwait, wait, ev);
    if (err == CL_SUCCESS) atomic_fetch_add(&commands, 1);
    return err;
}

CL_API_ENTRY cl_int CL_API_CALL clEnqueueFillBuffer(cl_command_queue q, cl_mem m, const void *pattern, size_t ps,
                                                    size_t off, size_t n, cl_uint nwait, const cl_event *wait,
                                                    cl_event *ev) {
    cl_int err = real_fill(q, m, pattern, ps, off, n, nwait, wait, ev);
    if (err == CL_SUCCESS) atomic_fetch_add(&commands, 1);
    return err;
}
