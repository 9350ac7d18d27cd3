/* Preloaded ahead of Oclgrind's runtime (not part of the library). Groundwork for the
 * Oclgrind CI stage of issue 17, which is not written yet: by hand,
 *   cc -shared -fPIC -O1 ci/oclgrind_shim.c -o /tmp/shim.so -ldl -lOpenCL
 *   LD_PRELOAD=/tmp/shim.so:/usr/lib/oclgrind/liboclgrind-rt.so LD_LIBRARY_PATH=/usr/lib/oclgrind \
 *     OCLGRIND_DATA_RACES=1 OCLGRIND_LOG=og.log LAMINA_OCLGRIND_KERNELS=kernels.txt \
 *     LAMINA_TEST_DEVICES=opencl:0:0 LAMINA_CL_TREE=1 LAMINA_OPS_NO_GRAD=1 build/tests/test_ops
 *
 * 1. Oclgrind 21.10 keeps the name of the API call being run in a thread_local
 *    std::stack (src/runtime/runtime.cpp, g_apiCallStack) that every API entry pushes to.
 *    exit() destroys the main thread's thread_locals before it runs the atexit handlers
 *    and the libraries' destructors, so every OpenCL call made from those (lamina's
 *    drain_at_exit in cl_device.c: clFinish; CLBlast's program cache: clReleaseProgram,
 *    clReleaseContext) writes into the freed deque: "corrupted double-linked list".
 *    Here the thread-exit destructors Oclgrind's runtime registers are dropped, so the
 *    stack outlives exit (a few bytes per thread, never freed).
 * 2. Oclgrind 21.10's --uninitialized plugin (Uninitialized::hostMemoryStore) takes every
 *    host-side store into a buffer (clEnqueueWriteBuffer, each pattern of
 *    clEnqueueFillBuffer, clEnqueueCopyBuffer) for the whole buffer: it replaces the
 *    buffer's shadow with one the size of the store, so after a store that covers part of
 *    a buffer (lamina's pooled buffers are larger than the tensor written into them, its
 *    LAMINA_DEBUG guards are written past the end, fills go pattern by pattern) everything
 *    past that size reads as uninitialized: thousands of false reports. With
 *    OCLGRIND_UNINITIALIZED=1, such stores are made whole-buffer writes here (read the
 *    buffer, change the range, write it all back, blocking). The cost: bytes no kernel or
 *    host wrote count as initialized once a host store reached their buffer.
 * 3. The name of every kernel enqueued is appended, once per process, to
 *    $LAMINA_OCLGRIND_KERNELS: the list to check against the kernels of cl/. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

typedef void (*tls_dtor)(void *);

int __cxa_thread_atexit_impl(tls_dtor dtor, void *obj, void *dso);
int __cxa_thread_atexit_impl(tls_dtor dtor, void *obj, void *dso) {
    static int (*real)(tls_dtor, void *, void *);
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "__cxa_thread_atexit_impl");
    Dl_info info;
    if (dso && dladdr(dso, &info) && info.dli_fname && strstr(info.dli_fname, "liboclgrind-rt")) return 0;
    return real ? real(dtor, obj, dso) : 0;
}

#define MAX_SEEN 512
static char seen[MAX_SEEN][64];
static int n_seen;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

static void note_kernel(cl_kernel k) {
    const char *path = getenv("LAMINA_OCLGRIND_KERNELS");
    char name[64] = "";
    if (!path || !*path || clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL) != CL_SUCCESS)
        return;
    name[sizeof name - 1] = '\0';
    pthread_mutex_lock(&seen_lock);
    int i = 0;
    while (i < n_seen && strcmp(seen[i], name) != 0) ++i;
    if (i == n_seen && n_seen < MAX_SEEN) {
        memcpy(seen[n_seen++], name, sizeof name);
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
        if (fd >= 0) {
            char line[80];
            int len = snprintf(line, sizeof line, "%s\n", name);
            if (write(fd, line, (size_t)len) != len) perror("oclgrind_shim: write");
            close(fd);
        }
    }
    pthread_mutex_unlock(&seen_lock);
}

CL_API_ENTRY cl_int CL_API_CALL clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims,
                                                       const size_t *offset, const size_t *global,
                                                       const size_t *local, cl_uint nwait,
                                                       const cl_event *wait, cl_event *ev) {
    static cl_int (*real)(cl_command_queue, cl_kernel, cl_uint, const size_t *, const size_t *, const size_t *,
                          cl_uint, const cl_event *, cl_event *);
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "clEnqueueNDRangeKernel");
    cl_int err = real(q, k, dims, offset, global, local, nwait, wait, ev);
    if (err == CL_SUCCESS) note_kernel(k);
    return err;
}

/* ---- 2: host stores as whole-buffer writes (--uninitialized only) ------------------------- */

typedef cl_int (*write_fn)(cl_command_queue, cl_mem, cl_bool, size_t, size_t, const void *, cl_uint,
                           const cl_event *, cl_event *);

static write_fn real_write(void) {
    static write_fn real;
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "clEnqueueWriteBuffer");
    return real;
}

static int whole_writes(void) {
    static int on = -1;
    if (on < 0) {
        const char *v = getenv("OCLGRIND_UNINITIALIZED");
        on = v && strcmp(v, "1") == 0;
    }
    return on;
}

static size_t buffer_size(cl_mem m) {
    size_t bytes = 0;
    return clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof bytes, &bytes, NULL) == CL_SUCCESS ? bytes : 0;
}

/* The whole of buf into a new host copy (after the wait list), or NULL. */
static unsigned char *read_whole(cl_command_queue q, cl_mem buf, size_t bytes, cl_uint nwait, const cl_event *wait) {
    unsigned char *host = malloc(bytes ? bytes : 1);
    if (host && clEnqueueReadBuffer(q, buf, CL_TRUE, 0, bytes, host, nwait, wait, NULL) != CL_SUCCESS) {
        free(host);
        host = NULL;
    }
    return host;
}

static cl_int write_whole(cl_command_queue q, cl_mem buf, size_t bytes, unsigned char *host, cl_event *ev) {
    cl_int err = real_write()(q, buf, CL_TRUE, 0, bytes, host, 0, NULL, ev);
    free(host);
    return err;
}

CL_API_ENTRY cl_int CL_API_CALL clEnqueueWriteBuffer(cl_command_queue q, cl_mem buf, cl_bool blocking, size_t offset,
                                                     size_t size, const void *ptr, cl_uint nwait,
                                                     const cl_event *wait, cl_event *ev) {
    size_t bytes = whole_writes() ? buffer_size(buf) : 0;
    if (!bytes || (offset == 0 && size == bytes) || offset > bytes || size > bytes - offset)
        return real_write()(q, buf, blocking, offset, size, ptr, nwait, wait, ev);
    unsigned char *host = read_whole(q, buf, bytes, nwait, wait);
    if (!host) return CL_OUT_OF_HOST_MEMORY;
    memcpy(host + offset, ptr, size);
    return write_whole(q, buf, bytes, host, ev);
}

CL_API_ENTRY cl_int CL_API_CALL clEnqueueFillBuffer(cl_command_queue q, cl_mem buf, const void *pattern,
                                                    size_t pattern_size, size_t offset, size_t size, cl_uint nwait,
                                                    const cl_event *wait, cl_event *ev) {
    static cl_int (*real)(cl_command_queue, cl_mem, const void *, size_t, size_t, size_t, cl_uint, const cl_event *,
                          cl_event *);
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "clEnqueueFillBuffer");
    size_t bytes = whole_writes() ? buffer_size(buf) : 0;
    if (!bytes || !pattern_size || offset > bytes || size > bytes - offset || size % pattern_size)
        return real(q, buf, pattern, pattern_size, offset, size, nwait, wait, ev);
    unsigned char *host = read_whole(q, buf, bytes, nwait, wait);
    if (!host) return CL_OUT_OF_HOST_MEMORY;
    for (size_t at = 0; at < size; at += pattern_size) memcpy(host + offset + at, pattern, pattern_size);
    return write_whole(q, buf, bytes, host, ev);
}

CL_API_ENTRY cl_int CL_API_CALL clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t src_offset,
                                                    size_t dst_offset, size_t size, cl_uint nwait,
                                                    const cl_event *wait, cl_event *ev) {
    static cl_int (*real)(cl_command_queue, cl_mem, cl_mem, size_t, size_t, size_t, cl_uint, const cl_event *,
                          cl_event *);
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "clEnqueueCopyBuffer");
    size_t bytes = whole_writes() ? buffer_size(dst) : 0, src_bytes = bytes ? buffer_size(src) : 0;
    if (!bytes || (dst_offset == 0 && size == bytes) || dst_offset > bytes || size > bytes - dst_offset ||
        src_offset > src_bytes || size > src_bytes - src_offset)
        return real(q, src, dst, src_offset, dst_offset, size, nwait, wait, ev);
    unsigned char *host = read_whole(q, dst, bytes, nwait, wait);
    if (!host) return CL_OUT_OF_HOST_MEMORY;
    cl_int err = clEnqueueReadBuffer(q, src, CL_TRUE, src_offset, size, host + dst_offset, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        free(host);
        return err;
    }
    return write_whole(q, dst, bytes, host, ev);
}
