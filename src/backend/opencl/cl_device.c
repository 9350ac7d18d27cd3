/* OpenCL devices: enumeration (one lam_device per device of every platform, each with its
 * own in-order queue, the devices of a platform sharing one context), queries, reads and
 * writes, and the vtable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_profile.h"
#include "core/error.h"

/* Writes up to this size go through a host copy and return at once; larger ones block. */
#define STAGE_MAX ((size_t)64 << 20)

static void CL_CALLBACK free_staging(cl_event ev, cl_int status, void *copy) {
    (void)ev;
    (void)status;
    free(copy);
}

/* Enqueues the write from a copy of src, freed when the write completes: no host wait. */
static lam_status cl_write(lam_device *d, void *buf, size_t offset, const void *src, size_t bytes) {
    if (!bytes) return LAM_OK;
    lam_cl_ctx *c = lam_cl(d);
    void *copy = bytes <= STAGE_MAX ? malloc(bytes) : NULL;
    cl_event *prof = lam_cl_prof_event(c), own = NULL, *ev = prof ? prof : &own;   /* the profiler keeps its own */
    cl_int err;
    if (copy) {
        memcpy(copy, src, bytes);
        err = clEnqueueWriteBuffer(c->queue, (cl_mem)buf, CL_FALSE, offset, bytes, copy, 0, NULL, ev);
        if (err != CL_SUCCESS) free(copy);
        else if (clSetEventCallback(*ev, CL_COMPLETE, free_staging, copy) != CL_SUCCESS) {
            lam_cl_count(&c->waits, 1);
            err = clWaitForEvents(1, ev);
            free(copy);
        }
    } else {
        lam_cl_count(&c->waits, 1);
        err = clEnqueueWriteBuffer(c->queue, (cl_mem)buf, CL_TRUE, offset, bytes, src, 0, NULL, ev);
    }
    if (own) clReleaseEvent(own);
    lam_cl_prof_record(prof, "clEnqueueWriteBuffer");
    if (err != CL_SUCCESS) return lam_cl_fail("clEnqueueWriteBuffer", err);
    lam_cl_count(&c->to_device, bytes);
    return LAM_OK;
}

/* A blocking read, which also reports a raised error record (cl_check.c) at no extra wait. */
static lam_status cl_read(lam_device *d, void *buf, size_t offset, void *dst, size_t bytes) {
    if (!bytes) return LAM_OK;
    lam_cl_ctx *c = lam_cl(d);
    cl_long record[LAM_CL_RECORD_LONGS];
    uint64_t gen = 0;
    bool fetched = lam_cl_record_fetch(c, record, &gen);
    lam_cl_count(&c->waits, 1);
    cl_event *ev = lam_cl_prof_event(c);
    cl_int err = clEnqueueReadBuffer(c->queue, (cl_mem)buf, CL_TRUE, offset, bytes, dst, 0, NULL, ev);
    lam_cl_prof_record(ev, "clEnqueueReadBuffer");
    if (err != CL_SUCCESS) {
        if (fetched) lam_cl_finish(c);   /* the record's read must not outlive this frame */
        return lam_cl_fail("clEnqueueReadBuffer", err);
    }
    lam_cl_count(&c->to_host, bytes);
    return fetched ? lam_cl_record_report(c, record, gen) : LAM_OK;
}

static lam_status cl_synchronize(lam_device *d) {
    lam_cl_ctx *c = lam_cl(d);
    cl_long record[LAM_CL_RECORD_LONGS];
    uint64_t gen = 0;
    bool fetched = lam_cl_record_fetch(c, record, &gen);
    cl_int err = lam_cl_finish(c);
    if (err != CL_SUCCESS) return lam_cl_fail("clFinish", err);
    return fetched ? lam_cl_record_report(c, record, gen) : LAM_OK;
}

lam_status lam_cl_stats(lam_device *d, lam_queue_stats *out) {
    lam_cl_ctx *c = lam_cl(d);
    out->host_waits = atomic_load(&c->waits);
    out->launches = atomic_load(&c->launches);
    out->bytes_to_device = atomic_load(&c->to_device);
    out->bytes_to_host = atomic_load(&c->to_host);
    return LAM_OK;
}

static void copy_str(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src);
}

static lam_status cl_query(lam_device *d, lam_device_info *info) {
    const lam_cl_ctx *c = lam_cl(d);
    memset(info, 0, sizeof *info);
    copy_str(info->name, sizeof info->name, c->device_name);
    copy_str(info->platform, sizeof info->platform, c->platform_name);
    copy_str(info->version, sizeof info->version, c->c_version);
    copy_str(info->driver, sizeof info->driver, c->driver);
    info->type = c->type;
    info->compute_units = c->compute_units;
    info->global_mem = c->global_mem;
    info->max_alloc = c->max_alloc;
    return LAM_OK;
}

static const lam_backend_ops cl_ops = {
    .name = "opencl",
    .alloc = lam_cl_alloc,
    .free = lam_cl_free,
    .write = cl_write,
    .read = cl_read,
    .pool_stats = lam_cl_pool_stats,
    .empty_cache = lam_cl_empty_cache,
    .synchronize = cl_synchronize,
    .query = cl_query,
    .limits = lam_cl_limits,
    .fill = lam_cl_fill,
    .copy = lam_cl_copy,
    .elementwise = lam_cl_elementwise,
    .reduce = lam_cl_reduce,
    .softmax = lam_cl_softmax,
    .gemm = lam_cl_gemm,
    .kernel = lam_cl_kernel_run,
    .stats = lam_cl_stats,
    .can_copy_from = lam_cl_can_copy_from,
    .copy_from = lam_cl_copy_from,
    .kernel_stats = lam_cl_kernel_stats,
    .reset_kernel_stats = lam_cl_reset_kernel_stats,
    .reset_peak = lam_cl_reset_peak,
};

static void device_string(cl_device_id dev, cl_device_info what, char *out, size_t cap) {
    out[0] = '\0';
    if (clGetDeviceInfo(dev, what, cap, out, NULL) != CL_SUCCESS) out[0] = '\0';
    out[cap - 1] = '\0';
}

static bool has_extension(cl_device_id dev, const char *name) {
    size_t size = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, 0, NULL, &size) != CL_SUCCESS || !size) return false;
    char *ext = malloc(size + 1);
    bool found = false;
    if (ext && clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, size, ext, NULL) == CL_SUCCESS) {
        ext[size] = '\0';
        size_t len = strlen(name);
        for (const char *p = strstr(ext, name); p && !found; p = strstr(p + 1, name))
            found = (p == ext || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0');
    }
    free(ext);
    return found;
}

/* A debugging switch: "1" true, "0" false, anything else (or unset) the default. */
static bool env_switch(const char *name, bool fallback) {
    const char *v = getenv(name);
    return v && (v[0] == '0' || v[0] == '1') && v[1] == '\0' ? v[0] == '1' : fallback;
}

/* One device's queue, in the platform's shared context when there is one (retained), else in
 * a context of its own; NULL (quietly) when the runtime refuses. */
static lam_device *open_device(cl_platform_id platform, cl_device_id dev, cl_context shared, unsigned p, unsigned i) {
    lam_device *d = calloc(1, sizeof *d);
    lam_cl_ctx *c = calloc(1, sizeof *c);
    if (!d || !c) goto fail;
    cl_int err = CL_SUCCESS;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0};
    if (shared && clRetainContext(shared) == CL_SUCCESS) c->context = shared;
    else c->context = clCreateContext(props, 1, &dev, NULL, NULL, &err);
    if (err != CL_SUCCESS) goto fail;
    c->profiling = lam_prof_on();   /* profiling queues only while the profiler records */
    c->queue = clCreateCommandQueue(c->context, dev, c->profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
    if (err != CL_SUCCESS) goto fail;
    c->platform = platform;
    c->device = dev;
    device_string(dev, CL_DEVICE_NAME, c->device_name, sizeof c->device_name);
    device_string(dev, CL_DRIVER_VERSION, c->driver, sizeof c->driver);
    device_string(dev, CL_DEVICE_OPENCL_C_VERSION, c->c_version, sizeof c->c_version);
    clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof c->platform_name, c->platform_name, NULL);
    clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof c->platform_version, c->platform_version, NULL);
    c->platform_name[sizeof c->platform_name - 1] = c->platform_version[sizeof c->platform_version - 1] = '\0';
    cl_device_type type = 0;
    cl_ulong mem = 0, max_alloc = 0;
    cl_uint units = 0;
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
    c->global_mem = mem;
    c->max_alloc = max_alloc;
    c->compute_units = (int)units;
    lam_cl_take_limits(c, dev, d->refused, sizeof d->refused);
    c->type = (type & CL_DEVICE_TYPE_GPU) ? LAM_DEVICE_GPU
              : (type & CL_DEVICE_TYPE_ACCELERATOR) ? LAM_DEVICE_ACCEL : LAM_DEVICE_CPU;
    /* What GPUs run, CPU devices can be made to run too (README, "Queues, host waits and
     * the GPU code paths"): LAMINA_CL_TREE=1 work-group tree kernels (of c->wg work-items;
     * POCL-style CPUs prefer chunks), LAMINA_CL_CLBLAST_DEFAULTS=1
     * CLBlast's own GEMM parameters. Every queue is asynchronous but Rusticl's (below);
     * LAMINA_CL_ASYNC=0 makes it synchronous, =1 asynchronous. */
    c->tree = env_switch("LAMINA_CL_TREE", c->type != LAM_DEVICE_CPU);
    bool pocl = strstr(c->platform_name, "Portable Computing Language") != NULL;
    /* Mesa 22.3's Rusticl compiles the kernel with LLVM at every launch, on its queue thread:
     * work still queued when exit() runs compiles after LLVM's statics are gone (a hang or
     * "free(): invalid pointer"), so its launches finish before they return (cl/README.md). */
    bool rusticl = strcmp(c->platform_name, "rusticl") == 0;
    c->synchronous = !env_switch("LAMINA_CL_ASYNC", !rusticl);
    c->lazy_compile = c->type == LAM_DEVICE_CPU || pocl;
    c->own_cache = !pocl;
    c->fp16 = has_extension(dev, "cl_khr_fp16");
    if (c->type == LAM_DEVICE_CPU && !env_switch("LAMINA_CL_CLBLAST_DEFAULTS", false)) lam_cl_gemm_tune_cpu(c);
    pthread_mutex_init(&c->pool_lock, NULL);
    pthread_mutex_init(&c->prog_lock, NULL);
    pthread_mutex_init(&c->launch_lock, NULL);
    pthread_mutex_init(&c->seen_lock, NULL);
    pthread_mutex_init(&c->record_lock, NULL);
    d->ops = &cl_ops;
    d->ctx = c;
    d->type = c->type;
    snprintf(d->spec, sizeof d->spec, "opencl:%u:%u", p, i);
    d->platform_index = p;
    d->device_index = i;
    copy_str(d->platform, sizeof d->platform, c->platform_name);
    clGetPlatformInfo(platform, CL_PLATFORM_VENDOR, sizeof d->vendor, d->vendor, NULL);
    d->vendor[sizeof d->vendor - 1] = '\0';
    snprintf(d->name, sizeof d->name, "opencl:%u:%u (%.280s)", p, i, c->device_name);
    return d;
fail:
    if (c && c->queue) clReleaseCommandQueue(c->queue);
    if (c && c->context) clReleaseContext(c->context);
    free(c);
    free(d);
    return NULL;
}

/* Queued work on asynchronous queues is drained at exit, before the destructors the
 * runtime registered while loading. Destructors registered later (LLVM's lazy statics in
 * POCL) still run first: harmless, because no compile is ever pending then (cl_sync.c). */
#define MAX_OPENED 64
static lam_cl_ctx *opened[MAX_OPENED];
static int n_opened;

static void drain_at_exit(void) {
    for (int i = 0; i < n_opened; ++i) clFinish(opened[i]->queue);
}

/* One context for every device of a platform, so that copies between them stay on the
 * devices (cl_peer.c); NULL when the runtime refuses one (each device then gets its own). */
static cl_context platform_context(cl_platform_id platform, const cl_device_id *devs, cl_uint nd) {
    if (nd < 2) return NULL;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0};
    cl_int err;
    cl_context ctx = clCreateContext(props, nd, devs, NULL, NULL, &err);
    return err == CL_SUCCESS ? ctx : NULL;
}

static int enumerate(lam_device **out, int max) {
    cl_uint np = 0;
    if (max <= 0 || clGetPlatformIDs(0, NULL, &np) != CL_SUCCESS || np == 0) return 0;
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats) return 0;
    int count = 0;
    if (clGetPlatformIDs(np, plats, NULL) == CL_SUCCESS) {
        for (cl_uint p = 0; p < np && count < max; ++p) {
            cl_uint nd = 0;
            if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0) continue;
            cl_device_id *devs = calloc(nd, sizeof *devs);
            if (!devs) break;
            if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL) == CL_SUCCESS) {
                cl_context shared = platform_context(plats[p], devs, nd);
                for (cl_uint i = 0; i < nd && count < max; ++i) {
                    lam_device *d = open_device(plats[p], devs[i], shared, p, i);
                    if (!d) continue;
                    out[count++] = d;
                    if (n_opened < MAX_OPENED) opened[n_opened++] = lam_cl(d);
                }
                if (shared) clReleaseContext(shared);   /* each device holds its own reference */
            }
            free(devs);
        }
    }
    free(plats);
    if (n_opened) atexit(drain_at_exit);
    return count;
}

const lam_backend lam_opencl_backend = {.name = "opencl", .enumerate = enumerate};
