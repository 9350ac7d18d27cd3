/* OpenCL backend internals: the per-device context, the memory pool, the program and
 * kernel cache, the launch helper and the vtable entries (one file per concern). */
#ifndef LAM_CL_BACKEND_H
#define LAM_CL_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <CL/cl.h>

#include "backend/view.h"

/* Work-group size of the tree kernels (reduce.cl, softmax.cl size their local arrays so). */
#define LAM_CL_TREE_WG 256

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
    struct lam_cl_kernel_entry *next;
} lam_cl_kernel_entry;

typedef struct {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    bool profiling;                /* queue made with CL_QUEUE_PROFILING_ENABLE (cl_profile.h) */
    bool tree;                     /* GPU/accelerator: work-group tree kernels */
    /* CPU devices finish every kernel before the call returns: POCL compiles a kernel in
     * its worker thread when it first runs, and that compile crashes inside LLVM if it
     * overlaps a compile on this thread or is still running when exit() destroys LLVM's
     * statics (registered after our drain_at_exit, so destroyed before it runs). */
    bool synchronous;
    char device_name[256], platform_name[256], platform_version[256];
    char c_version[128], driver[128];
    uint64_t global_mem, max_alloc;
    size_t max_wg;
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

/* cl_program.c: the cached kernel `name` of cl/<file> built for storage dtype `dtype`
 * (-DLAM_DTYPE=<code>; the program is built on first use). */
cl_kernel lam_cl_kernel(lam_cl_ctx *c, const char *file, const char *name, int dtype);

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

/* cl_launch.c: waits for the queue on synchronous devices; CL_SUCCESS elsewhere. */
cl_int lam_cl_settle(lam_cl_ctx *c);

/* Runs kernel `name` of cl/<file> (built for dtype) over `global` work-items (rounded up to
 * a multiple of `local`; local 0 lets the runtime choose). The kernels check their own
 * bounds. */
lam_status lam_cl_launch(lam_cl_ctx *c, const char *file, const char *name, int dtype, size_t global,
                         size_t local, const lam_cl_arg *args, size_t nargs);
#define LAM_CL_LAUNCH(c, file, name, dtype, global, local, ...)                                   \
    lam_cl_launch_args((c), (file), (name), (dtype), (global), (local), (const lam_cl_arg[]){__VA_ARGS__, {0}})
/* The same, for a table ended by an entry of size 0. */
lam_status lam_cl_launch_args(lam_cl_ctx *c, const char *file, const char *name, int dtype, size_t global,
                              size_t local, const lam_cl_arg *args);

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

#endif
