/* The backend interface: what a device must do for the ops layer.
 *
 * A backend is a table of function pointers plus a context hung off lam_device. Ops
 * describe their operands as lam_view (buffer + offset + shape + strides, in elements),
 * so kernels read strided and broadcast (stride 0) inputs without copies. Outputs the
 * ops layer hands a backend are always contiguous. Optional entries may be NULL; the
 * caller then uses the default written with the required ones.
 */
#ifndef LAM_BACKEND_H
#define LAM_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
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

/* Op codes shared with the kernels (cl/common.h switches on the same numbers). */
typedef enum {
    LAM_UNARY_NEG, LAM_UNARY_ABS, LAM_UNARY_EXP, LAM_UNARY_LOG, LAM_UNARY_SQRT,
    LAM_UNARY_RELU, LAM_UNARY_SIGMOID, LAM_UNARY_TANH, LAM_UNARY_GELU,
    LAM_UNARY_COUNT
} lam_unary_op;

typedef enum {
    LAM_BINARY_ADD, LAM_BINARY_SUB, LAM_BINARY_MUL, LAM_BINARY_DIV,
    LAM_BINARY_MAX, LAM_BINARY_MIN, LAM_BINARY_POW,
    LAM_BINARY_EQ, LAM_BINARY_NE, LAM_BINARY_LT, LAM_BINARY_LE, LAM_BINARY_GT, LAM_BINARY_GE,
    /* fused backward of unary ops: f(a = saved input or output, b = incoming gradient) */
    LAM_BINARY_RELU_BWD,     /* b * (a > 0), a = x */
    LAM_BINARY_SIGMOID_BWD,  /* b * a * (1 - a), a = sigmoid(x) */
    LAM_BINARY_TANH_BWD,     /* b * (1 - a^2), a = tanh(x) */
    LAM_BINARY_GELU_BWD,     /* b * (Phi(a) + a * phi(a)), a = x */
    LAM_BINARY_COUNT
} lam_binary_op;

typedef enum {
    LAM_REDUCE_SUM, LAM_REDUCE_MEAN, LAM_REDUCE_MAX, LAM_REDUCE_MIN, LAM_REDUCE_ARGMAX,
    LAM_REDUCE_COUNT
} lam_reduce_op;

/* Row-major C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b], for b < batch. */
typedef struct {
    bool trans_a, trans_b;
    int64_t m, n, k, batch;
    float alpha, beta;
    void *a; int64_t a_off, lda, a_stride;   /* offsets, leading dims and batch strides */
    void *b; int64_t b_off, ldb, b_stride;   /* in elements */
    void *c; int64_t c_off, ldc, c_stride;
} lam_gemm_args;

/* Fused optimizer updates over n contiguous f32 elements (views of equal numel); the
 * per-element maths is lam_sgd_update / lam_adam_update in cl/common.h. */
typedef struct {
    lam_view param, grad, buf;     /* buf: momentum buffer, unused when momentum == 0 */
    int64_t n;
    float lr, momentum, dampening, weight_decay;
    int nesterov, first;           /* first: the buffer's first step sets it to the gradient */
} lam_sgd_args;

typedef struct {
    lam_view param, grad, m, v;    /* m, v: first and second moments */
    int64_t n;
    float lr, beta1, beta2, eps, weight_decay;
    float bias1, bias2;            /* 1 - beta1^t, 1 - beta2^t */
    int decoupled;                 /* AdamW: p *= 1 - lr * weight_decay, no L2 term */
} lam_adam_args;

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

    /* every element of a contiguous dst set to the bit pattern of one element */
    lam_status (*fill)(lam_device *d, const lam_view *dst, uint64_t bits);
    /* dst = src, same shape, any strides on both; converts dtype when they differ */
    lam_status (*copy)(lam_device *d, const lam_view *dst, const lam_view *src);
    lam_status (*unary)(lam_device *d, lam_unary_op op, const lam_view *dst, const lam_view *x);
    /* a and b already broadcast to dst's shape (stride 0 where broadcast) */
    lam_status (*binary)(lam_device *d, lam_binary_op op, const lam_view *dst,
                         const lam_view *a, const lam_view *b);
    lam_status (*binary_scalar)(lam_device *d, lam_binary_op op, const lam_view *dst,
                                const lam_view *a, float s);
    /* src contiguous, seen as (outer, len, inner); dst (outer, inner); ARGMAX gives i64 */
    lam_status (*reduce)(lam_device *d, lam_reduce_op op, const lam_view *dst,
                         const lam_view *src, int64_t outer, int64_t len, int64_t inner);
    /* rows of length cols, contiguous */
    lam_status (*softmax)(lam_device *d, bool log, const lam_view *dst, const lam_view *src,
                          int64_t rows, int64_t cols);
    lam_status (*gemm)(lam_device *d, const lam_gemm_args *g);
    /* contiguous f32 dst; element i from Philox(seed, counter + i); normal or uniform */
    lam_status (*rand)(lam_device *d, const lam_view *dst, uint64_t seed, uint64_t counter,
                       bool normal);
    /* optional fused optimizer steps (NULL: the optimizer uses ops) */
    lam_status (*sgd_step)(lam_device *d, const lam_sgd_args *a);
    lam_status (*adam_step)(lam_device *d, const lam_adam_args *a);
} lam_backend_ops;

struct lam_device {
    const lam_backend_ops *ops;
    void *ctx;                 /* the backend's own state */
    lam_device_type type;
    char spec[32];             /* "cpu", "opencl:0:1" */
    char name[320];            /* spec plus the device's own name */
};

/* Host backend (always present). */
lam_device *lam_host_device(void);
/* OpenCL backend: appends every device of every platform; returns how many it added. */
int lam_opencl_enumerate(lam_device **out, int max);

#endif
