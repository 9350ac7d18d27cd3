/* Dtype traits: one table of every element type (name, size, safetensors code, OpenCL and
 * host types), and the f32 <-> f16 conversions the host uses for half storage. */
#ifndef LAM_CORE_DTYPE_H
#define LAM_CORE_DTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lamina/tensor.h"

/* X(ENUM, name, size, safetensors code, OpenCL type, host type, floating) */
#define LAM_DTYPES(X)                                        \
    X(LAM_F32, "f32", 4, "F32", "float", float, true)        \
    X(LAM_I32, "i32", 4, "I32", "int", int32_t, false)       \
    X(LAM_I64, "i64", 8, "I64", "long", int64_t, false)      \
    X(LAM_F16, "f16", 2, "F16", "half", uint16_t, true)

typedef struct {
    const char *name;          /* "f32", as lam_dtype_name */
    size_t size;               /* bytes per element */
    const char *safetensors;   /* "F32": the dtype string of a safetensors header */
    const char *cl_type;       /* "float": the OpenCL C storage type */
    bool is_float;             /* computed as float (f32, f16) */
} lam_dtype_traits;

/* The traits of dt; NULL for a value outside lam_dtype. */
const lam_dtype_traits *lam_dtype_traits_of(lam_dtype dt);
/* The dtype whose safetensors code is code; LAM_DTYPE_COUNT if none. */
lam_dtype lam_dtype_from_safetensors(const char *code);

/* IEEE binary16 from binary32, rounding to nearest even (vstore_half_rte's rule): overflow
 * gives infinity, NaN stays NaN, tiny values become subnormals or zero. */
static inline uint16_t lam_f32_to_f16(float f) {
    uint32_t x, magic = (uint32_t)((127 - 15) + (23 - 10) + 1) << 23;   /* 0.5f, for subnormals */
    memcpy(&x, &f, sizeof x);
    uint32_t sign = x & 0x80000000u;
    x ^= sign;
    uint16_t h;
    if (x >= (uint32_t)(127 + 16) << 23) {                 /* >= 65536, inf or NaN */
        h = x > (uint32_t)255 << 23 ? 0x7e00 : 0x7c00;
    } else if (x < (uint32_t)113 << 23) {                  /* below 2^-14: subnormal or zero */
        float v, m;
        memcpy(&v, &x, sizeof v);
        memcpy(&m, &magic, sizeof m);
        v += m;                                            /* the FPU rounds the mantissa */
        memcpy(&x, &v, sizeof x);
        h = (uint16_t)(x - magic);
    } else {
        uint32_t odd = (x >> 13) & 1u;                     /* ties go to the even neighbour */
        x += ((uint32_t)(15 - 127) << 23) + 0xfffu + odd;
        h = (uint16_t)(x >> 13);
    }
    return (uint16_t)(h | (sign >> 16));
}

static inline float lam_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
    float f;
    if (e == 0x1f) {
        x = sign | 0x7f800000u | (m << 13);
    } else if (e) {
        x = sign | ((e + 112) << 23) | (m << 13);
    } else {                                               /* zero or subnormal: m * 2^-24 */
        f = (float)m * 5.9604644775390625e-8f;
        memcpy(&x, &f, sizeof x);
        x |= sign;
    }
    memcpy(&f, &x, sizeof f);
    return f;
}

#endif
