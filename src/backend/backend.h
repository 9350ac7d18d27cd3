/* The backend interface: what a device must do for the tensor and ops layers.
 *
 * A backend is a table of function pointers plus a context hung off lam_device. Ops
 * describe their operands as lam_view (buffer + offset + shape + strides, in elements, and
 * a dtype), so kernels read strided and broadcast (stride 0) inputs without copies. Outputs
 * the ops layer hands a backend are always contiguous. Float views may be f32 or f16 (f16
 * stores half and computes in float); a backend handles both in every entry.
 *
 * The op codes come from the op table (cl/op_table.h), direct kernels from
 * backend/kernels.h; nothing here numbers an op.
 */
#ifndef LAM_BACKEND_H
#define LAM_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/kernels.h"
#include "cl/op_table.h"
#include "cl/window.h"
#include "lamina/device.h"
#include "lamina/tensor.h"

typedef struct {
    void *buf;                       /* backend buffer: host pointer or cl_mem */
    int64_t offset;                  /* elements from the buffer start */
    int ndim;
    int64_t shape[LAM_MAX_DIMS];
    int64_t stride[LAM_MAX_DIMS];    /* elements; 0 for a broadcast dimension */
    lam_dtype dtype;
} lam_view;

/* One input of an elementwise op: a view already broadcast to the output's shape, or a
 * scalar (then view is unused). Inputs an op does not read are scalars. */
typedef struct {
    lam_view view;
    float value;
    bool scalar;
} lam_operand;
#define LAM_EW_INPUTS 3

/* Row-major C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b], for b < batch; A, B and C
 * all of dtype (f32 or f16; f16 accumulates in f32). */
typedef struct {
    lam_dtype dtype;
    bool trans_a, trans_b;
    int64_t m, n, k, batch;
    float alpha, beta;
    void *a; int64_t a_off, lda, a_stride;   /* offsets, leading dims and batch strides */
    void *b; int64_t b_off, ldb, b_stride;   /* in elements */
    void *c; int64_t c_off, ldc, c_stride;
} lam_gemm_args;

/* The arguments of a direct kernel (backend/kernels.h): work items, then views, ints and
 * floats in the order the table gives. */
typedef struct {
    int64_t work;
    lam_view v[LAM_KERNEL_MAX_VIEWS];
    int64_t i[LAM_KERNEL_MAX_INTS];
    float f[LAM_KERNEL_MAX_FLOATS];
} lam_kernel_args;

/* A whole 2-D convolution, NCHW, f32, all views contiguous: x (N, C, H, W), w (OC, C/groups,
 * kh, kw), b (OC) or NULL buffer, y (N, OC, OH, OW); backward from g = dY into gx and gw
 * (NULL buffers: not wanted). `chunk` images per im2col block, as the ops layer plans it. */
typedef struct {
    lam_window win;
    int64_t n, c, oc, groups, chunk;
    lam_view x, w, b, y, g, gx, gw;
} lam_conv_args;

typedef struct lam_backend_ops {
    const char *name;
    /* memory: NULL + error on failure (LAM_ERR_OOM after the pool dropped its cache) */
    void *(*alloc)(lam_device *d, size_t bytes);
    void (*free)(lam_device *d, void *buf);
    lam_status (*write)(lam_device *d, void *buf, size_t offset, const void *src, size_t bytes);
    lam_status (*read)(lam_device *d, void *buf, size_t offset, void *dst, size_t bytes);
    lam_status (*pool_stats)(lam_device *d, lam_pool_stats *out);
    lam_status (*empty_cache)(lam_device *d);
    lam_status (*synchronize)(lam_device *d);
    lam_status (*query)(lam_device *d, lam_device_info *info);
    /* optional: lam_device_limits; NULL: all zero (the host) */
    lam_status (*limits)(lam_device *d, lam_device_limits *out);

    /* every element of a contiguous dst set to the bit pattern of one element */
    lam_status (*fill)(lam_device *d, const lam_view *dst, uint64_t bits);
    /* dst = src, same shape, any strides on both; converts dtype when they differ */
    lam_status (*copy)(lam_device *d, const lam_view *dst, const lam_view *src);
    /* dst = lam_ew_apply(op, in[0], in[1], in[2]), all float views of dst's dtype */
    lam_status (*elementwise)(lam_device *d, lam_ew_op op, const lam_view *dst, const lam_operand *in);
    /* src contiguous, seen as (outer, len, inner); dst (outer, inner); ARGMAX/ARGMIN give i64 */
    lam_status (*reduce)(lam_device *d, lam_reduce_op op, const lam_view *dst,
                         const lam_view *src, int64_t outer, int64_t len, int64_t inner);
    /* rows of length cols, contiguous */
    lam_status (*softmax)(lam_device *d, bool log, const lam_view *dst, const lam_view *src,
                          int64_t rows, int64_t cols);
    lam_status (*gemm)(lam_device *d, const lam_gemm_args *g);
    /* a direct kernel of backend/kernels.h */
    lam_status (*kernel)(lam_device *d, lam_kernel_id id, const lam_kernel_args *a);
    /* optional: the convolution in one entry, the backend's own way over chunks (the host: in
     * parallel, each thread a chunk); NULL: the ops layer runs im2col + GEMM chunk by chunk */
    lam_status (*conv2d)(lam_device *d, const lam_conv_args *a);
    lam_status (*conv2d_backward)(lam_device *d, const lam_conv_args *a);
    /* queue statistics; NULL: nothing is queued (all zero) */
    lam_status (*stats)(lam_device *d, lam_queue_stats *out);
    /* optional: bytes from a buffer of another device of this backend into d's buffer without
     * passing through host memory, ordered after what both queues hold; can_copy_from says
     * whether d can (OpenCL: devices sharing a context). NULL: copies go through the host. */
    bool (*can_copy_from)(lam_device *d, lam_device *from);
    lam_status (*copy_from)(lam_device *d, void *dst, size_t dst_offset, lam_device *from, void *src,
                            size_t src_offset, size_t bytes);
    /* optional: lam_kernel_stats since the last reset_kernel_stats, and lowering the pool's
     * peak to what is in use. NULL: LAM_ERR_UNSUPPORTED (src/backend/kernel_stats.c). */
    lam_status (*kernel_stats)(lam_device *d, lam_kernel_stats *out);
    lam_status (*reset_kernel_stats)(lam_device *d);
    lam_status (*reset_peak)(lam_device *d);
} lam_backend_ops;

struct lam_device {
    const lam_backend_ops *ops;
    void *ctx;                 /* the backend's own state */
    lam_device_type type;
    char spec[32];             /* "cpu", "opencl:0:1" */
    char name[320];            /* spec plus the device's own name */
    /* Where the backend found it, for specs by name ("opencl:rusticl:0", device.c): the
     * platform's index, name and vendor, and the device's index on that platform. */
    unsigned platform_index, device_index;
    char platform[256], vendor[128];
    /* Why lamina cannot use this device (a limit it reports, named); "" when usable.
     * lam_device_get refuses such a device with this reason; lamina-info lists it. */
    char refused[192];
};

/* A backend as the registry (device.c) sees it: a name and its devices, which it appends
 * to out (max at most) and counts. The registry knows backends only through this and
 * their devices' vtables; backends never call the registry. */
typedef struct {
    const char *name;
    int (*enumerate)(lam_device **out, int max);
} lam_backend;
extern const lam_backend lam_host_backend;     /* always present: the one device "cpu" */
extern const lam_backend lam_opencl_backend;   /* every device of every platform */

/* The host device itself, for callers below the registry (dist's profiled calls). */
lam_device *lam_host_device(void);

#endif
