/* Host backend: 64-byte aligned memory, byte copies, stats, and the vtable itself. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/host/host.h"
#include "core/error.h"

/* Each block carries its size in a 64-byte header so free can account for it. */
#define HEADER 64

static atomic_ullong in_use, peak, allocs;

static void *host_alloc(lam_device *d, size_t bytes) {
    (void)d;
    size_t total = HEADER + ((bytes + 63) & ~(size_t)63);
    unsigned char *p = aligned_alloc(64, total);
    if (!p) {
        lam_set_error(LAM_ERR_OOM, "cpu: out of memory allocating %zu bytes", bytes);
        return NULL;
    }
    memcpy(p, &bytes, sizeof bytes);
    unsigned long long now = atomic_fetch_add(&in_use, bytes) + bytes;
    unsigned long long old = atomic_load(&peak);
    while (now > old && !atomic_compare_exchange_weak(&peak, &old, now)) {}
    atomic_fetch_add(&allocs, 1);
    return p + HEADER;
}

static void host_free(lam_device *d, void *buf) {
    (void)d;
    if (!buf) return;
    unsigned char *p = (unsigned char *)buf - HEADER;
    size_t bytes;
    memcpy(&bytes, p, sizeof bytes);
    atomic_fetch_sub(&in_use, bytes);
    free(p);
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
    *out = (lam_pool_stats){.in_use = atomic_load(&in_use), .peak = atomic_load(&peak),
                            .device_allocs = atomic_load(&allocs)};
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
    .empty_cache = host_nothing,
    .synchronize = host_nothing,
    .query = host_query,
    .fill = lam_host_fill,
    .copy = lam_host_copy,
    .unary = lam_host_unary,
    .binary = lam_host_binary,
    .binary_scalar = lam_host_binary_scalar,
    .reduce = lam_host_reduce,
    .softmax = lam_host_softmax,
    .gemm = lam_host_gemm,
    .rand = lam_host_rand,
};

static lam_device host_device = {.ops = &host_ops, .type = LAM_DEVICE_HOST, .spec = "cpu", .name = "cpu"};

lam_device *lam_host_device(void) { return &host_device; }
