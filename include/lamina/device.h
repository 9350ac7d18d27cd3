/* Devices: the host CPU ("cpu") and every OpenCL device on every platform.
 *
 *   lam_device *gpu = lam_device_get("gpu");          // first OpenCL GPU
 *   lam_device *d   = lam_device_get("opencl:0:1");   // platform 0, device 1
 *   lam_device *dft = lam_device_get(NULL);           // the default device
 *
 * The default is LAMINA_DEVICE if set, else the first OpenCL GPU, else cpu: CPU OpenCL
 * devices (POCL) are used only when named ("opencl", "opencl:portable:0"), since cpu is the
 * faster way to run on the host. A machine with no OpenCL runtime still has cpu. Devices
 * live as long as the process; never free one.
 */
#ifndef LAMINA_DEVICE_H
#define LAMINA_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include "lamina/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lam_device lam_device;

typedef enum { LAM_DEVICE_HOST, LAM_DEVICE_CPU, LAM_DEVICE_GPU, LAM_DEVICE_ACCEL, LAM_DEVICE_TYPE_COUNT } lam_device_type;

/* Spec strings: NULL or "" (default), "cpu", "opencl", "opencl:P:D", "gpu". NULL + error if none.
 * In "opencl:P:D" P is a platform's index or a part of its name or vendor, any case, that
 * names one platform only: "opencl:rusticl:0", "opencl:portable:0" (POCL), "opencl:nvidia:0".
 * Indices follow the order the ICD loader lists platforms in, which can change; names don't.
 * A device lamina cannot use (a limit below what its kernels need) is refused here and by
 * lam_device_at, with the limit named in lam_last_error(). */
LAM_API lam_device *lam_device_get(const char *spec);
LAM_API int lam_device_count(void);               /* cpu first, then OpenCL devices */
LAM_API lam_device *lam_device_at(int index);
LAM_API const char *lam_device_name(const lam_device *d);  /* "cpu", "opencl:0:0 (pthread-...)" */
LAM_API const char *lam_device_spec(const lam_device *d);  /* "cpu", "opencl:0:0" */
LAM_API lam_device *lam_default_device(void);
LAM_API lam_status lam_set_default_device(lam_device *d);

/* Threads of the cpu device (torch.set_num_threads): lamina's loops and OpenBLAS's GEMMs
 * share one pool of this many OpenMP threads. The default is LAMINA_NUM_THREADS (a whole
 * number from 1 to 1024; anything else is reported on stderr and ignored), else
 * OMP_NUM_THREADS, else the cores this process may run on (its CPU affinity, capped by a
 * cgroup's CPU quota). OPENBLAS_NUM_THREADS is overridden. lam_set_num_threads overrides
 * them all, for every thread of the process; LAM_ERR_ARG outside 1..1024. More threads than
 * cores work, slower. Results on cpu do not depend on the count (GEMMs aside: OpenBLAS may
 * split a product differently). */
LAM_API lam_status lam_set_num_threads(int n);
LAM_API int lam_get_num_threads(void);

typedef struct {
    char name[256];           /* the device's own name */
    char platform[256];       /* OpenCL platform name; "host" for cpu */
    char version[128];        /* OpenCL C version; the BLAS in use for cpu */
    char driver[128];
    lam_device_type type;
    int compute_units;
    uint64_t global_mem;      /* bytes */
    uint64_t max_alloc;       /* largest single buffer, bytes */
} lam_device_info;
LAM_API lam_status lam_device_query(const lam_device *d, lam_device_info *info);
LAM_API const char *lam_device_type_name(lam_device_type t);

/* The limits lamina's kernels are shaped by, as queried from the device (OpenCL) and
 * capped by LAMINA_CL_MAX_WG, LAMINA_CL_LOCAL_MEM and LAMINA_CL_C_VERSION; all zero for cpu. */
typedef struct {
    size_t max_work_group;     /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    size_t work_group;         /* what lamina's work-group kernels use: a power of two */
    size_t preferred_multiple; /* CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE; 0 before a kernel ran */
    uint64_t local_mem;        /* CL_DEVICE_LOCAL_MEM_SIZE, bytes */
    unsigned mem_align;        /* CL_DEVICE_MEM_BASE_ADDR_ALIGN, bytes */
    unsigned c_major, c_minor; /* the OpenCL C version programs are built for (-cl-std=) */
    int fp16;                  /* cl_khr_fp16 */
    int images;                /* CL_DEVICE_IMAGE_SUPPORT */
} lam_device_limits;
LAM_API lam_status lam_device_query_limits(const lam_device *d, lam_device_limits *out);

/* Memory pool statistics. OpenCL devices cache freed buffers for reuse; in steady-state
 * training device_allocs stops growing. */
typedef struct {
    uint64_t in_use;         /* bytes held by live tensors */
    uint64_t cached;         /* bytes kept for reuse */
    uint64_t peak;           /* highest in_use */
    uint64_t device_allocs;  /* buffers the driver was asked for */
    uint64_t hits;           /* requests served from the cache */
} lam_pool_stats;
LAM_API lam_status lam_device_pool_stats(const lam_device *d, lam_pool_stats *out);
LAM_API lam_status lam_device_empty_cache(lam_device *d);   /* give cached buffers back */
LAM_API lam_status lam_device_synchronize(lam_device *d);   /* wait for queued work */

/* Debugging (LAMINA_DEBUG=1): every buffer carries guard bytes after its end, checked when it
 * is freed. LAM_ERR_STATE if any freed buffer of d was written past its end since the last
 * call (then the count restarts); LAM_OK otherwise, and always without LAMINA_DEBUG. */
LAM_API lam_status lam_device_check_guards(const lam_device *d);

/* Queue statistics, counted since the process started. OpenCL ops only enqueue work; the
 * host waits where it needs a value: lam_read and lam_item, lam_device_synchronize, and
 * after every kernel on a synchronous queue (CPU devices, unless LAMINA_CL_ASYNC=1). A
 * training step on an asynchronous queue waits once, where it reads the loss. cpu runs
 * each op in the calling thread and moves nothing: all zero there. */
typedef struct {
    uint64_t host_waits;       /* blocking reads and writes, clFinish, clWaitForEvents */
    uint64_t launches;         /* commands enqueued: kernels, GEMM calls, fills, copies */
    uint64_t bytes_to_device;  /* host -> device */
    uint64_t bytes_to_host;    /* device -> host */
} lam_queue_stats;
LAM_API lam_status lam_device_stats(const lam_device *d, lam_queue_stats *out);

/* Kernel statistics: what a piece of work costs a device in launches and memory traffic,
 * the numbers that decide a step's time on a GPU. Count one training step like this:
 *
 *   lam_kernel_stats k;
 *   lam_pool_stats pool;
 *   train_step();                          // warm-up: kernels built, the pool filled
 *   lam_device_synchronize(dev);
 *   lam_device_reset_kernel_stats(dev);    // the counts start again from zero
 *   lam_device_reset_peak(dev);            // the pool's peak starts again from in_use
 *   train_step();
 *   lam_device_kernel_stats(dev, &k);
 *   lam_device_pool_stats(dev, &pool);
 *   printf("%llu launches, %llu GEMM calls (%llu kernels), %.1f MB, peak %.1f MiB\n",
 *          (unsigned long long)k.launches, (unsigned long long)k.gemm_calls,
 *          (unsigned long long)k.gemm_kernels, (double)(k.bytes_read + k.bytes_written) / 1e6,
 *          (double)pool.peak / 1048576.0);
 *
 * The counts are taken when work is enqueued, so no wait is needed to read them. Bytes are
 * what each kernel reads and writes in device memory by its own account: every element of
 * every operand it touches, once per launch (a broadcast operand counts its distinct
 * elements; an operand a kernel reads only in part, such as the mask rows a causal softmax
 * skips, counts whole). Caches may make the real traffic smaller, re-reads larger; it is the
 * figure a roofline estimate wants. Host <-> device transfers are lam_queue_stats'.
 *
 * GEMMs run in CLBlast, which enqueues one kernel for a small product (its direct kernel) and
 * for a larger one a pad/transpose kernel per operand that is not already in the layout its
 * fast kernel wants, that kernel, and a kernel copying C back. lamina counts them from the
 * rules of CLBlast 1.5 and the GEMM parameters in force: exactly on devices whose parameters
 * lamina sets (every CPU device, POCL included, f32), and with CLBlast's generic defaults
 * elsewhere, where its tuned database may differ: gemm_kernels_exact says which. (The test
 * kernel_stats checks the count against every kernel the OpenCL runtime is handed.)
 *
 * OpenCL devices only: on cpu, which runs ops as plain function calls, the two kernel-count
 * functions return LAM_ERR_UNSUPPORTED; lam_device_reset_peak works on every device. */
typedef struct {
    uint64_t launches;           /* lamina's own kernels, buffer fills and copies: all but GEMM */
    uint64_t gemm_calls;         /* GEMM calls handed to CLBlast (one per batched call too) */
    uint64_t gemm_kernels;       /* the kernels those calls enqueued */
    uint64_t bytes_read;         /* by every launch and GEMM call above */
    uint64_t bytes_written;
    uint64_t gemm_bytes_read;    /* the GEMM calls' part of the two above: A, B (and C if beta != 0) */
    uint64_t gemm_bytes_written; /* C */
    uint64_t host_waits;         /* as lam_queue_stats.host_waits, since the last reset */
    uint64_t unsized;            /* launches that reported no bytes at all: a lamina bug (tests check 0) */
    int gemm_kernels_exact;      /* 1: gemm_kernels counted with the parameters CLBlast used */
} lam_kernel_stats;
/* The counts since d was first used or last reset. LAM_ERR_ARG for NULL arguments,
 * LAM_ERR_UNSUPPORTED on cpu (out is then all zero). */
LAM_API lam_status lam_device_kernel_stats(const lam_device *d, lam_kernel_stats *out);
/* Starts every count of lam_device_kernel_stats again from zero (lam_device_stats' counts,
 * which run since the process started, are left alone). */
LAM_API lam_status lam_device_reset_kernel_stats(lam_device *d);
/* Lowers the pool's peak (lam_pool_stats.peak) to the bytes in use now, so the next peak is
 * that of the work that follows: a step's peak, rather than the process's. */
LAM_API lam_status lam_device_reset_peak(lam_device *d);

#ifdef __cplusplus
}
#endif
#endif
