/* Fault injection: the counter, the armed call, and the wrappers that fail it. Built only
 * with LAMINA_FAULT_INJECTION (see fault.h). */
#define LAM_FAULT_NO_MACROS
#include "core/fault.h"

#include <stdatomic.h>

#include <cjson/cJSON.h>

/* fault.h is force-included before this file: here the names mean the real functions. */
#undef malloc
#undef calloc
#undef realloc
#undef aligned_alloc
#undef strdup
#undef clCreateBuffer
#undef clEnqueueNDRangeKernel
#undef clEnqueueReadBuffer
#undef clEnqueueWriteBuffer
#undef clEnqueueCopyBuffer
#undef clEnqueueFillBuffer
#undef clCreateKernel

static atomic_llong calls;
static atomic_llong fail_at;   /* the call number that fails; 0: none */
static atomic_bool fired;

void lam_fault_arm(int64_t n) {
    atomic_store(&fired, false);
    atomic_store(&fail_at, n > 0 ? atomic_load(&calls) + n : 0);
}

int64_t lam_fault_count(void) { return atomic_load(&calls); }
bool lam_fault_fired(void) { return atomic_load(&fired); }

/* Counts a call; true if it is the one that must fail. */
static bool hit(void) {
    long long at = atomic_fetch_add(&calls, 1) + 1;
    if (at != atomic_load(&fail_at)) return false;
    atomic_store(&fired, true);
    return true;
}

void *lam_fault_malloc(size_t n) { return hit() ? NULL : malloc(n); }
void *lam_fault_calloc(size_t n, size_t size) { return hit() ? NULL : calloc(n, size); }
void *lam_fault_realloc(void *p, size_t n) { return hit() ? NULL : realloc(p, n); }
void *lam_fault_aligned_alloc(size_t align, size_t n) { return hit() ? NULL : aligned_alloc(align, n); }
char *lam_fault_strdup(const char *s) { return hit() ? NULL : strdup(s); }
bool lam_fault_clblast(void) { return hit(); }

cl_mem lam_fault_clCreateBuffer(cl_context c, cl_mem_flags f, size_t n, void *host, cl_int *err) {
    if (!hit()) return clCreateBuffer(c, f, n, host, err);
    if (err) *err = CL_MEM_OBJECT_ALLOCATION_FAILURE;
    return NULL;
}

cl_int lam_fault_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims, const size_t *offset,
                                        const size_t *global, const size_t *local, cl_uint nwait,
                                        const cl_event *wait, cl_event *ev) {
    return hit() ? CL_OUT_OF_RESOURCES : clEnqueueNDRangeKernel(q, k, dims, offset, global, local, nwait, wait, ev);
}

cl_int lam_fault_clEnqueueReadBuffer(cl_command_queue q, cl_mem m, cl_bool block, size_t off, size_t n, void *p,
                                     cl_uint nwait, const cl_event *wait, cl_event *ev) {
    return hit() ? CL_OUT_OF_RESOURCES : clEnqueueReadBuffer(q, m, block, off, n, p, nwait, wait, ev);
}

cl_int lam_fault_clEnqueueWriteBuffer(cl_command_queue q, cl_mem m, cl_bool block, size_t off, size_t n,
                                      const void *p, cl_uint nwait, const cl_event *wait, cl_event *ev) {
    return hit() ? CL_OUT_OF_RESOURCES : clEnqueueWriteBuffer(q, m, block, off, n, p, nwait, wait, ev);
}

cl_int lam_fault_clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t so, size_t dof, size_t n,
                                     cl_uint nwait, const cl_event *wait, cl_event *ev) {
    return hit() ? CL_OUT_OF_RESOURCES : clEnqueueCopyBuffer(q, src, dst, so, dof, n, nwait, wait, ev);
}

cl_int lam_fault_clEnqueueFillBuffer(cl_command_queue q, cl_mem m, const void *pattern, size_t ps, size_t off,
                                     size_t n, cl_uint nwait, const cl_event *wait, cl_event *ev) {
    return hit() ? CL_OUT_OF_RESOURCES : clEnqueueFillBuffer(q, m, pattern, ps, off, n, nwait, wait, ev);
}

cl_kernel lam_fault_clCreateKernel(cl_program p, const char *name, cl_int *err) {
    if (!hit()) return clCreateKernel(p, name, err);
    if (err) *err = CL_OUT_OF_HOST_MEMORY;
    return NULL;
}

/* cJSON (safetensors headers) allocates through the same counter. */
__attribute__((constructor)) static void route_cjson(void) {
    cJSON_Hooks hooks = {.malloc_fn = lam_fault_malloc, .free_fn = free};
    cJSON_InitHooks(&hooks);
}
