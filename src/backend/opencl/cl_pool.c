/* The per-context caching pool of cl_mem buffers.
 *
 * Requests round up to a size class (backend/view.h), so every cached buffer of a class
 * has the same size and the first one is the best fit. Freed buffers go back to their
 * class; steady-state training (the same sizes every step) asks the driver for nothing
 * new. When the driver refuses, or the request would take the device past
 * CL_DEVICE_GLOBAL_MEM_SIZE, the cache is released and the request retried once before
 * LAM_ERR_OOM. */
#include <stdlib.h>

#include "backend/guard.h"
#include "backend/opencl/cl_backend.h"
#include "core/error.h"

static size_t mem_size(cl_mem m) {
    size_t bytes = 0;
    clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof bytes, &bytes, NULL);
    return bytes;
}

/* Releases every cached buffer; the caller holds the lock. */
static void drop_cache(lam_cl_ctx *c) {
    for (int k = 0; k < LAM_POOL_CLASSES; ++k)
        while (c->free_lists[k]) {
            lam_cl_cached *e = c->free_lists[k];
            c->free_lists[k] = e->next;
            clReleaseMemObject(e->mem);
            free(e);
        }
    c->stats.cached = 0;
}

/* LAMINA_DEBUG's guards (backend/guard.h): the pattern goes after the bytes asked for; the
 * buffer's size is remembered for the check on free. */
typedef struct guarded {
    cl_mem mem;
    size_t bytes;
    struct guarded *next;
} guarded;
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static guarded *live;

static void *guard_arm(lam_device *d, cl_mem mem, size_t bytes) {
    guarded *g = malloc(sizeof *g);
    cl_int err = g ? clEnqueueWriteBuffer(lam_cl(d)->queue, mem, CL_FALSE, bytes, LAM_GUARD_BYTES, lam_guard_pattern, 0,
                                          NULL, NULL)
                   : CL_OUT_OF_HOST_MEMORY;
    if (err != CL_SUCCESS) {
        free(g);
        lam_cl_free(d, mem);
        lam_cl_fail("clEnqueueWriteBuffer(guard)", err);
        return NULL;
    }
    g->mem = mem;
    g->bytes = bytes;
    pthread_mutex_lock(&guard_lock);
    g->next = live;
    live = g;
    pthread_mutex_unlock(&guard_lock);
    return mem;
}

static void guard_check(lam_device *d, cl_mem mem) {
    pthread_mutex_lock(&guard_lock);
    guarded **at = &live;
    while (*at && (*at)->mem != mem) at = &(*at)->next;
    guarded *g = *at;
    if (g) *at = g->next;
    pthread_mutex_unlock(&guard_lock);
    if (!g) return;   /* allocated before the guards were armed */
    unsigned char back[LAM_GUARD_BYTES];
    if (clEnqueueReadBuffer(lam_cl(d)->queue, mem, CL_TRUE, g->bytes, LAM_GUARD_BYTES, back, 0, NULL, NULL) == CL_SUCCESS)
        lam_guard_check(d, back, g->bytes);
    free(g);
}

static void *pool_take(lam_device *d, size_t bytes);

void *lam_cl_alloc(lam_device *d, size_t bytes) {
    size_t guard = lam_guard_extra();
    if (bytes > SIZE_MAX - guard) LAM_FAIL_NULL(LAM_ERR_OOM, "%s: cannot allocate %zu bytes", d->spec, bytes);
    void *mem = pool_take(d, bytes + guard);
    return mem && guard ? guard_arm(d, mem, bytes) : mem;
}

static void *pool_take(lam_device *d, size_t bytes) {
    lam_cl_ctx *c = lam_cl(d);
    size_t rounded;
    int cls = lam_pool_size_class(bytes, &rounded);
    if (cls < 0) LAM_FAIL_NULL(LAM_ERR_OOM, "%s: cannot allocate %zu bytes", d->spec, bytes);
    pthread_mutex_lock(&c->pool_lock);
    lam_cl_cached *e = c->free_lists[cls];
    cl_mem mem = NULL;
    if (e) {
        c->free_lists[cls] = e->next;
        c->stats.cached -= rounded;
        c->stats.hits++;
        mem = e->mem;
        free(e);
    } else {
        cl_int err = CL_SUCCESS;
        for (int attempt = 0; attempt < 2 && !mem; ++attempt) {
            bool fits = c->global_mem == 0 || c->stats.in_use + c->stats.cached + rounded <= c->global_mem;
            if (attempt == 0 && !fits) {
                drop_cache(c);
                continue;
            }
            if (c->global_mem && c->stats.in_use + rounded > c->global_mem) {
                err = CL_MEM_OBJECT_ALLOCATION_FAILURE;
                break;
            }
            mem = clCreateBuffer(c->context, CL_MEM_READ_WRITE, rounded, NULL, &err);
            if (err != CL_SUCCESS) {
                mem = NULL;
                drop_cache(c);
            }
        }
        if (!mem) {
            pthread_mutex_unlock(&c->pool_lock);
            lam_set_error(LAM_ERR_OOM, "%s: out of device memory allocating %zu bytes (%s; %llu bytes in use)",
                          d->spec, bytes, lam_cl_error_name(err), (unsigned long long)c->stats.in_use);
            return NULL;
        }
        c->stats.device_allocs++;
    }
    c->stats.in_use += rounded;
    if (c->stats.in_use > c->stats.peak) c->stats.peak = c->stats.in_use;
    pthread_mutex_unlock(&c->pool_lock);
    return mem;
}

void lam_cl_free(lam_device *d, void *buf) {
    if (!buf) return;
    lam_cl_ctx *c = lam_cl(d);
    cl_mem mem = (cl_mem)buf;
    if (lam_guard_extra()) guard_check(d, mem);
    size_t rounded, bytes = mem_size(mem);
    int cls = lam_pool_size_class(bytes, &rounded);
    lam_cl_cached *e = cls >= 0 && rounded == bytes ? malloc(sizeof *e) : NULL;
    pthread_mutex_lock(&c->pool_lock);
    c->stats.in_use -= bytes;
    if (e) {   /* later commands on the in-order queue run after earlier users of the buffer */
        e->mem = mem;
        e->next = c->free_lists[cls];
        c->free_lists[cls] = e;
        c->stats.cached += bytes;
    }
    pthread_mutex_unlock(&c->pool_lock);
    if (!e) clReleaseMemObject(mem);
}

lam_status lam_cl_pool_stats(lam_device *d, lam_pool_stats *out) {
    lam_cl_ctx *c = lam_cl(d);
    pthread_mutex_lock(&c->pool_lock);
    *out = c->stats;
    pthread_mutex_unlock(&c->pool_lock);
    return LAM_OK;
}

lam_status lam_cl_empty_cache(lam_device *d) {
    lam_cl_ctx *c = lam_cl(d);
    pthread_mutex_lock(&c->pool_lock);
    drop_cache(c);
    pthread_mutex_unlock(&c->pool_lock);
    return LAM_OK;
}
