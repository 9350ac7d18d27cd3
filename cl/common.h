/* What the host backend (C11) and every OpenCL program (OpenCL C 1.2) share: scalar types,
 * dtype codes and storage access, strided layouts, the random number generator and the
 * optimizer updates. One body per function, so host and devices compute the same thing.
 * OpenCL programs are built as common.h + op_table.h + the kernel file, with
 * -DLAM_DTYPE=<code> choosing the storage type of the build (LAM_T, LAM_LD, LAM_ST). */
#ifndef LAM_CL_COMMON_H
#define LAM_CL_COMMON_H

#ifdef __OPENCL_VERSION__
typedef uint lam_u32;
typedef ulong lam_u64;
typedef long lam_i64;
#if defined(__OPENCL_C_VERSION__) && __OPENCL_C_VERSION__ >= 120
#define LAM_FN static inline
#else
#define LAM_FN   /* OpenCL C 1.1 has no static functions; one program is one translation unit */
#endif
#define LAM_GLOBAL __global
#define LAM_EXP exp
#define LAM_LOG log
#define LAM_SQRT sqrt
#define LAM_TANH tanh
#define LAM_ERFC erfc
#define LAM_POW pow
#define LAM_COS cos
#define LAM_FABS fabs
#else
#include <math.h>
#include <stdint.h>

#include "host_math.h"
typedef uint32_t lam_u32;
typedef uint64_t lam_u64;
typedef int64_t lam_i64;
#define LAM_FN static inline
#define LAM_GLOBAL
#define LAM_EXP lam_expf   /* host_math.h: vectorisable */
#define LAM_LOG logf
#define LAM_SQRT sqrtf
#define LAM_TANH lam_tanhf
#define LAM_ERFC lam_erfcf
#define LAM_POW powf
#define LAM_COS cosf
#define LAM_FABS fabsf
#endif

/* dtype codes: the values of lam_dtype (lamina/tensor.h; src/core/dtype.c checks them). */
#define LAM_DT_F32 0
#define LAM_DT_I32 1
#define LAM_DT_I64 2
#define LAM_DT_F16 3

#ifdef __OPENCL_VERSION__
/* The storage type of this build. f16 is stored as half and computed in float through
 * vload_half/vstore_half, core in OpenCL C 1.2, so it needs no cl_khr_fp16. */
#ifndef LAM_DTYPE
#define LAM_DTYPE LAM_DT_F32
#endif
#if LAM_DTYPE == LAM_DT_F16
#define LAM_T half
#define LAM_LD(p, i) vload_half((size_t)(i), (p))
#define LAM_ST(p, i, v) vstore_half_rte((v), (size_t)(i), (p))
#else
#define LAM_T float
#define LAM_LD(p, i) ((p)[i])
#define LAM_ST(p, i, v) ((p)[i] = (v))
#endif
#endif

#define LAM_LAYOUT_DIMS 8

/* A strided operand as kernels see it: all fields 64-bit so host and device agree. */
typedef struct {
    lam_i64 offset, ndim;
    lam_i64 shape[LAM_LAYOUT_DIMS], stride[LAM_LAYOUT_DIMS];
} lam_layout;

/* Storage index of the i-th element in row-major order. */
LAM_FN lam_i64 lam_layout_index(const lam_layout L, lam_i64 i) {
    lam_i64 off = L.offset;
    for (lam_i64 d = L.ndim - 1; d >= 0; --d) {
        lam_i64 s = L.shape[d];
        off += (i % s) * L.stride[d];
        i /= s;
    }
    return off;
}

/* Philox 4x32-10 (Salmon et al., SC'11): counter (element index) + key (seed) -> 4 words. */
LAM_FN void lam_philox(lam_u64 index, lam_u64 seed, lam_u32 out[4]) {
    lam_u32 c0 = (lam_u32)index, c1 = (lam_u32)(index >> 32), c2 = 0, c3 = 0;
    lam_u32 k0 = (lam_u32)seed, k1 = (lam_u32)(seed >> 32);
    for (int r = 0; r < 10; ++r) {
        lam_u64 p0 = (lam_u64)0xD2511F53u * c0, p1 = (lam_u64)0xCD9E8D57u * c2;
        lam_u32 n0 = (lam_u32)(p1 >> 32) ^ c1 ^ k0, n2 = (lam_u32)(p0 >> 32) ^ c3 ^ k1;
        c1 = (lam_u32)p1;
        c3 = (lam_u32)p0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    /* cppcheck-suppress ctuArrayIndex ; out has 4 words, cppcheck misreads the call */
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* U[0, 1) from the top 24 bits: exact in f32, identical on every device. */
LAM_FN float lam_rand_uniform_at(lam_u64 seed, lam_u64 index) {
    lam_u32 r[4];
    lam_philox(index, seed, r);
    return (float)(r[0] >> 8) * (1.0f / 16777216.0f);
}

/* N(0, 1) by Box-Muller on two words of the same draw. */
LAM_FN float lam_rand_normal_at(lam_u64 seed, lam_u64 index) {
    lam_u32 r[4];
    lam_philox(index, seed, r);
    float u1 = ((float)(r[0] >> 8) + 1.0f) * (1.0f / 16777216.0f);   /* (0, 1] */
    float u2 = (float)(r[1] >> 8) * (1.0f / 16777216.0f);
    return LAM_SQRT(-2.0f * LAM_LOG(u1)) * LAM_COS(6.283185307179586f * u2);
}

/* torch.optim.SGD on one element: g += wd * p; with momentum, b = g on the first step else
 * b = mom * b + (1 - damp) * g, and g = nesterov ? g + mom * b : b; then p -= lr * g. */
LAM_FN void lam_sgd_update(float *p, float g, float *b, float lr, float mom, float damp, float wd,
                           int nesterov, int first) {
    if (wd != 0.0f) g += wd * *p;
    if (mom != 0.0f) {
        *b = first ? g : mom * *b + (1.0f - damp) * g;
        g = nesterov ? g + mom * *b : *b;
    }
    *p -= lr * g;
}

/* torch.optim.Adam / AdamW on one element (bias1 = 1 - beta1^t, bias2 = 1 - beta2^t):
 * Adam adds wd * p to g, AdamW multiplies p by 1 - lr * wd; m and v are moving averages of
 * g and g^2; p -= (lr / bias1) * m / (sqrt(v) / sqrt(bias2) + eps). */
LAM_FN void lam_adam_update(float *p, float g, float *m, float *v, float lr, float beta1, float beta2,
                            float eps, float wd, float bias1, float bias2, int decoupled) {
    if (decoupled) *p *= 1.0f - lr * wd;
    else if (wd != 0.0f) g += wd * *p;
    *m += (g - *m) * (1.0f - beta1);
    *v = beta2 * *v + (1.0f - beta2) * g * g;
    float denom = LAM_SQRT(*v) / LAM_SQRT(bias2) + eps;
    *p -= (lr / bias1) * (*m / denom);
}

#endif
