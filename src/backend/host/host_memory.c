/* Host backend: 64-byte aligned memory with a cache of large blocks, byte copies, stats,
 * and the vtable itself. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/guard.h"
#include "backend/host/host.h"
#include "core/error.h"

/* Each block carries its size class in a 64-byte header. Freed blocks are cached by size
 * class (quarter powers of two, from 256 bytes) so steady-state training stops paying for
 * mmap and page faults, and asks the system for nothing new. */
#define HEADER 64
#define CACHE_LIMIT ((uint64_t)1 << 30)

typedef struct block { size_t bytes, asked; int cls; struct block *next; } block;
_Static_assert(sizeof(block) <= HEADER, "the block header must fit");

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static block *free_lists[LAM_POOL_CLASSES];
static lam_pool_stats stats;

static void *host_alloc(lam_device *d, size_t bytes) {
    (void)d;
    size_t rounded, guard = lam_guard_extra();
    if (bytes > SIZE_MAX - HEADER - guard - 64) LAM_FAIL_NULL(LAM_ERR_OOM, "cpu: cannot allocate %zu bytes", bytes);
    int cls = lam_pool_size_class(bytes + guard, &rounded);
    pthread_mutex_lock(&lock);
    block *b = cls >= 0 ? free_lists[cls] : NULL;
    if (b) {
        free_lists[cls] = b->next;
        stats.cached -= rounded;
        stats.hits++;
    }
    pthread_mutex_unlock(&lock);
    if (!b) {
        b = aligned_alloc(64, HEADER + rounded);
        if (!b) {
            lam_set_error(LAM_ERR_OOM, "cpu: out of memory allocating %zu bytes", bytes);
            return NULL;
        }
        pthread_mutex_lock(&lock);
        stats.device_allocs++;
        pthread_mutex_unlock(&lock);
    }
    b->bytes = rounded;
    b->asked = bytes;
    b->cls = cls;
    if (guard) memcpy((unsigned char *)b + HEADER + bytes, lam_guard_pattern, guard);
    pthread_mutex_lock(&lock);
    stats.in_use += rounded;
    if (stats.in_use > stats.peak) stats.peak = stats.in_use;
    pthread_mutex_unlock(&lock);
    return (unsigned char *)b + HEADER;
}

static void host_free(lam_device *d, void *buf) {
    if (!buf) return;
    block *b = (block *)((unsigned char *)buf - HEADER);
    if (lam_guard_extra()) lam_guard_check(d, (unsigned char *)buf + b->asked, b->asked);
    pthread_mutex_lock(&lock);
    stats.in_use -= b->bytes;
    bool keep = b->cls >= 0 && stats.cached + b->bytes <= CACHE_LIMIT;
    if (keep) {
        b->next = free_lists[b->cls];
        free_lists[b->cls] = b;
        stats.cached += b->bytes;
    }
    pthread_mutex_unlock(&lock);
    if (!keep) free(b);
}

static lam_status host_empty_cache(lam_device *d) {
    (void)d;
    pthread_mutex_lock(&lock);
    for (int c = 0; c < LAM_POOL_CLASSES; ++c)
        while (free_lists[c]) {
            block *b = free_lists[c];
            free_lists[c] = b->next;
            free(b);
        }
    stats.cached = 0;
    pthread_mutex_unlock(&lock);
    return LAM_OK;
}

static lam_status host_write(lam_device *d, void *buf, size_t offset, const void *src, size_t bytes) {
    (void)d;
    memcpy((char *)buf + offset, src, bytes);
    return LAM_OK;
}

static lam_status host_read(lam_device *d, void *buf, size_t offset, void *dst, size_t bytes) {
    (void)d;
    memcpy(dst, (const char *)buf + offset, bytes);
    return LAM_OK;
}

static lam_status host_pool_stats(lam_device *d, lam_pool_stats *out) {
    (void)d;
    pthread_mutex_lock(&lock);
    *out = stats;
    pthread_mutex_unlock(&lock);
    return LAM_OK;
}

static lam_status host_reset_peak(lam_device *d) {
    (void)d;
    pthread_mutex_lock(&lock);
    stats.peak = stats.in_use;
    pthread_mutex_unlock(&lock);
    return LAM_OK;
}

static lam_status host_nothing(lam_device *d) {
    (void)d;
    return LAM_OK;
}

static lam_status host_query(lam_device *d, lam_device_info *info) {
    (void)d;
    memset(info, 0, sizeof *info);
    strcpy(info->name, "host CPU");
    strcpy(info->platform, "host");
    strcpy(info->version, "C11 + OpenMP, GEMM through OpenBLAS");
    strcpy(info->driver, LAMINA_VERSION);
    info->type = LAM_DEVICE_HOST;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    info->global_mem = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    info->max_alloc = info->global_mem;
    info->compute_units = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return LAM_OK;
}

static const lam_backend_ops host_ops = {
    .name = "host",
    .alloc = host_alloc,
    .free = host_free,
    .write = host_write,
    .read = host_read,
    .pool_stats = host_pool_stats,
    .reset_peak = host_reset_peak,
    .empty_cache = host_empty_cache,
    .synchronize = host_nothing,
    .query = host_query,
    .fill = lam_host_fill,
    .copy = lam_host_copy,
    .elementwise = lam_host_elementwise,
    .reduce = lam_host_reduce,
    .softmax = lam_host_softmax,
    .gemm = lam_host_gemm,
    .conv2d = lam_host_conv2d,
    .conv2d_backward = lam_host_conv2d_backward,
    .kernel = lam_host_kernel,
};

static lam_device host_device = {.ops = &host_ops, .type = LAM_DEVICE_HOST, .spec = "cpu", .name = "cpu"};

lam_device *lam_host_device(void) { return &host_device; }

static int host_enumerate(lam_device **out, int max) {
    if (max < 1) return 0;
    out[0] = &host_device;
    return 1;
}

const lam_backend lam_host_backend = {.name = "host", .enumerate = host_enumerate};
