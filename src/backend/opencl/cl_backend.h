/* OpenCL backend internals: the per-device context, the memory pool, the program and
 * kernel cache, the launch helper and the vtable entries (one file per concern). */
#ifndef LAM_CL_BACKEND_H
#define LAM_CL_BACKEND_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <CL/cl.h>

#include "backend/view.h"

/* The largest work-group lamina's kernels use, where the device allows it (cl_limits.c). */
#define LAM_CL_WG_CAP 256
/* Local memory per work-item of the hungriest kernel (reduce.cl's tree: a float and a long). */
#define LAM_CL_LOCAL_PER_ITEM 12

typedef struct lam_cl_cached {     /* a freed buffer kept for reuse */
    cl_mem mem;
    struct lam_cl_cached *next;
} lam_cl_cached;

/* A built program (one per kernel file and storage dtype) and the kernels made from it. */
typedef struct lam_cl_program_entry {
    char file[32];
    int dtype;
    cl_program program;
    struct lam_cl_program_entry *next;
} lam_cl_program_entry;

typedef struct lam_cl_kernel_entry {
    char name[64];
    int dtype;
    cl_kernel kernel;
    size_t max_wg;                 /* CL_KERNEL_WORK_GROUP_SIZE: this kernel's own limit */
    struct lam_cl_kernel_entry *next;
} lam_cl_kernel_entry;

/* Kernel specializations already launched once (cl_sync.c): an open-addressing set that
 * grows, so the host-wait count of a steady training step stays exact (a key lost to a full
 * or failed table only costs one more synchronous launch). */
typedef struct {
    uint64_t k[4];                 /* all zero: empty */
} lam_cl_seen_key;

/* CLBlast's GEMM parameters that decide which kernels a GEMM call enqueues (cl_stats.c):
 * the values lamina sets for CPU devices (lam_cl_gemm_tune_cpu), else CLBlast's generic
 * defaults, which its tuned database may replace for a known device (known = false). */
typedef struct {
    bool known;
    uint64_t mwg, nwg, kwg, kreg, gemmk, min_indirect;
} lam_cl_gemm_params;

typedef struct {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    bool profiling;                /* queue made with CL_QUEUE_PROFILING_ENABLE (cl_profile.h) */
    bool tree;                     /* GPU/accelerator: work-group tree kernels */
    /* Finish every kernel before the call returns (LAMINA_CL_ASYNC=0, for debugging: an
     * error then surfaces at the op that caused it). Off by default on every device: on
     * POCL too the asynchronous queue measured faster (README, "Queues, host waits and the
     * GPU code paths"). */
    bool synchronous;
    /* The runtime compiles a kernel in its worker thread when it first runs with a new
     * work-group size (POCL, every CPU device): that LLVM compile crashes if it overlaps
     * another compile, or is still running when exit() destroys LLVM's statics (registered
     * after our drain_at_exit, so destroyed before it runs). So the first launch of each
     * specialization runs synchronously under the process-wide build lock (cl_sync.c). */
    bool lazy_compile;
    /* POCL caches built programs itself (POCL_CACHE_DIR), and asking it for a binary to
     * cache makes it compile every kernel of the program for a generic work-group size:
     * lamina's disk cache (cl_program.c) is for the other runtimes. */
    bool own_cache;
    char device_name[256], platform_name[256], platform_version[256];
    char c_version[128], driver[128];
    uint64_t global_mem, max_alloc;
    /* Limits as lamina takes them (cl_limits.c): the device's reports, capped by
     * LAMINA_CL_MAX_WG, LAMINA_CL_LOCAL_MEM and LAMINA_CL_C_VERSION. wg is the work-group
     * size of the tree and group kernels (-DLAM_WG=): a power of two within both limits. */
    size_t max_wg, wg;
    _Atomic size_t pref_multiple;  /* known once a kernel is made (cl_program.c) */
    uint64_t local_mem;
    unsigned mem_align, c_major, c_minor;
    bool images;
    int compute_units;
    lam_device_type type;

    pthread_mutex_t pool_lock;     /* the memory pool */
    lam_cl_cached *free_lists[LAM_POOL_CLASSES];
    lam_pool_stats stats;

    pthread_mutex_t prog_lock;     /* programs and kernels */
    lam_cl_program_entry *programs;
    lam_cl_kernel_entry *kernels;
    bool fp16;                     /* cl_khr_fp16: half arithmetic (CLBlast Hgemm) */

    pthread_mutex_t launch_lock;   /* kernel objects: set arguments + enqueue atomically */

    pthread_mutex_t seen_lock;     /* cl_sync.c: specializations launched once */
    lam_cl_seen_key *seen;
    size_t seen_cap, seen_count;
    _Atomic uint64_t waits, launches, to_device, to_host;   /* lam_device_stats */

    /* cl_stats.c: lam_kernel_stats since the last reset; host waits are waits - waits_base */
    _Atomic uint64_t k_launches, k_gemm_calls, k_gemm_kernels, k_read, k_written, k_gemm_read, k_gemm_written,
        k_unsized, k_waits_base;
    atomic_bool k_gemm_estimated;   /* some GEMM was counted without its real parameters */
    lam_cl_gemm_params gemm;

    pthread_mutex_t record_lock;   /* cl_check.c: the device-side error record */
    cl_mem record;                 /* NULL until the first check kernel */
    _Atomic uint64_t checks_enqueued, checks_read;
} lam_cl_ctx;

static inline lam_cl_ctx *lam_cl(lam_device *d) { return (lam_cl_ctx *)d->ctx; }

/* cl_errors.c: "CL_OUT_OF_RESOURCES"; records "call: NAME" (OOM for allocation failures). */
const char *lam_cl_error_name(cl_int err);
lam_status lam_cl_fail(const char *call, cl_int err);

/* cl_pool.c */
void *lam_cl_alloc(lam_device *d, size_t bytes);
void lam_cl_free(lam_device *d, void *buf);
lam_status lam_cl_pool_stats(lam_device *d, lam_pool_stats *out);
lam_status lam_cl_empty_cache(lam_device *d);

/* cl_limits.c: fills the limits above from dev; writes why lamina cannot use it to refused
 * ("" when it can). lam_cl_build_options: the options every program is built with. */
void lam_cl_take_limits(lam_cl_ctx *c, cl_device_id dev, char *refused, size_t cap);
void lam_cl_build_options(const lam_cl_ctx *c, int dtype, char *out, size_t cap);
lam_status lam_cl_limits(lam_device *d, lam_device_limits *out);

/* cl_program.c: the cached kernel `name` of cl/<file> built for storage dtype `dtype`
 * (-DLAM_DTYPE=<code>; the program is built on first use). */
cl_kernel lam_cl_kernel(lam_cl_ctx *c, const char *file, const char *name, int dtype);
/* The work-group size for a kernel that runs one group per unit of work: c->wg, or the
 * kernel's own limit (rounded down to a power of two) if smaller; 0 and an error when
 * the kernel cannot be built. */
size_t lam_cl_group_size(lam_cl_ctx *c, const char *file, const char *name, int dtype);

/* cl_launch.c: kernel arguments as a table of values, set in order. Scalars are held by
 * value in the entry; ref points at larger arguments (a lam_layout passed by value). */
typedef struct {
    size_t size;
    const void *ref;               /* NULL: the value is in v */
    union {
        cl_mem mem;
        cl_long i64;
        cl_ulong u64;
        cl_int i32;
        cl_float f32;
    } v;
} lam_cl_arg;

#define LAM_ARG_MEM(m) {.size = sizeof(cl_mem), .v.mem = (cl_mem)(m)}
#define LAM_ARG_I64(x) {.size = sizeof(cl_long), .v.i64 = (cl_long)(x)}
#define LAM_ARG_U64(x) {.size = sizeof(cl_ulong), .v.u64 = (cl_ulong)(x)}
#define LAM_ARG_I32(x) {.size = sizeof(cl_int), .v.i32 = (cl_int)(x)}
#define LAM_ARG_F32(x) {.size = sizeof(cl_float), .v.f32 = (cl_float)(x)}
#define LAM_ARG_LAYOUT(L) {.size = sizeof(lam_layout), .ref = &(L)}

/* What one launch reads and writes in device memory, in bytes: each element of each operand
 * it touches, once. Every launch site says (LAM_CL_LAUNCH takes it), and cl_stats.c counts it. */
typedef struct {
    uint64_t read, written;
} lam_cl_bytes;
#define LAM_CL_BYTES(r, w) ((lam_cl_bytes){.read = (uint64_t)(r), .written = (uint64_t)(w)})

/* cl_stats.c: the distinct elements of v in bytes (a broadcast dimension, stride 0, counts
 * once); one launch or GEMM call counted; the vtable's statistics entries. */
uint64_t lam_cl_view_bytes(const lam_view *v);
void lam_cl_count_launch(lam_cl_ctx *c, lam_cl_bytes b);
void lam_cl_count_gemm(lam_cl_ctx *c, const lam_gemm_args *g);
/* The kernels CLBlast 1.5 enqueues for g with parameters p (its Xgemm / XgemmStridedBatched
 * rules: direct below min_indirect^3, else pad/transpose where needed, Xgemm, copy back). */
uint64_t lam_cl_gemm_kernels(const lam_cl_gemm_params *p, const lam_gemm_args *g);
lam_status lam_cl_kernel_stats(lam_device *d, lam_kernel_stats *out);
lam_status lam_cl_reset_kernel_stats(lam_device *d);
lam_status lam_cl_reset_peak(lam_device *d);

/* cl_launch.c: waits for the queue on synchronous devices, and after the first launch of a
 * specialization (`first`) on a lazy-compile device; CL_SUCCESS elsewhere. */
cl_int lam_cl_settle(lam_cl_ctx *c, bool first);

/* cl_sync.c: the process-wide build lock. Every program build (ours and CLBlast's) and
 * every runtime compile at a first launch happens under it, on any device and thread. */
void lam_cl_build_lock(void);
void lam_cl_build_unlock(void);
/* Is this the first launch of specialization key on c (kernel, sizes; GEMM shapes)? If so
 * the build lock is taken: launch, lam_cl_settle with first = true, then lam_cl_first_done,
 * which remembers the key when all went well and unlocks. */
bool lam_cl_first_begin(lam_cl_ctx *c, const lam_cl_seen_key *key);
void lam_cl_first_done(lam_cl_ctx *c, const lam_cl_seen_key *key, bool first, bool ok);
/* clFinish, counted as a host wait. */
cl_int lam_cl_finish(lam_cl_ctx *c);
void lam_cl_count(_Atomic uint64_t *counter, uint64_t n);

/* cl_check.c: the device-side error record that check kernels raise. lam_cl_record
 * makes it (an error when it cannot); lam_cl_record_fetch enqueues a read of it before a
 * blocking read or clFinish (into fetch, at least LAM_CL_RECORD_LONGS), and
 * lam_cl_record_report, after that wait, turns a raised record into LAM_ERR_ARG. */
#define LAM_CL_RECORD_LONGS 8
cl_mem lam_cl_record(lam_cl_ctx *c);
bool lam_cl_record_fetch(lam_cl_ctx *c, cl_long *fetch, uint64_t *gen);
lam_status lam_cl_record_report(lam_cl_ctx *c, const cl_long *fetch, uint64_t gen);

/* Runs kernel `name` of cl/<file> (built for dtype) over `global` work-items (rounded up to
 * a multiple of `local`; local 0 lets the runtime choose), moving `bytes`. The kernels check
 * their own bounds. */
lam_status lam_cl_launch(lam_cl_ctx *c, const char *file, const char *name, int dtype, size_t global,
                         size_t local, lam_cl_bytes bytes, const lam_cl_arg *args, size_t nargs);
#define LAM_CL_LAUNCH(c, file, name, dtype, global, local, bytes, ...)                            \
    lam_cl_launch_args((c), (file), (name), (dtype), (global), (local), (bytes),                   \
                       (const lam_cl_arg[]){__VA_ARGS__, {0}})
/* The same, for a table ended by an entry of size 0. */
lam_status lam_cl_launch_args(lam_cl_ctx *c, const char *file, const char *name, int dtype, size_t global,
                              size_t local, lam_cl_bytes bytes, const lam_cl_arg *args);

/* cl_ops.c, cl_reduce.c, cl_gemm.c, cl_kernels.c: the vtable entries */
lam_status lam_cl_fill(lam_device *d, const lam_view *dst, uint64_t bits);
lam_status lam_cl_copy(lam_device *d, const lam_view *dst, const lam_view *src);
lam_status lam_cl_elementwise(lam_device *d, lam_ew_op op, const lam_view *dst, const lam_operand *in);
lam_status lam_cl_reduce(lam_device *d, lam_reduce_op op, const lam_view *dst, const lam_view *src,
                         int64_t outer, int64_t len, int64_t inner);
lam_status lam_cl_softmax(lam_device *d, bool log, const lam_view *dst, const lam_view *src, int64_t rows,
                          int64_t cols);
lam_status lam_cl_gemm(lam_device *d, const lam_gemm_args *g);
lam_status lam_cl_kernel_run(lam_device *d, lam_kernel_id id, const lam_kernel_args *a);
/* cl_gemm.c: CLBlast's GEMM parameters for CPU devices, which its database lacks. */
void lam_cl_gemm_tune_cpu(lam_cl_ctx *c);
/* cl_peer.c: copies between devices of one context, on the devices (backend.h's copy_from). */
bool lam_cl_can_copy_from(lam_device *d, lam_device *from);
lam_status lam_cl_copy_from(lam_device *d, void *dst, size_t dst_offset, lam_device *from, void *src,
                            size_t src_offset, size_t bytes);
/* cl_device.c: queue statistics. */
lam_status lam_cl_stats(lam_device *d, lam_queue_stats *out);

#endif
