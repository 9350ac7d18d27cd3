/* The host's contiguous f32 elementwise loops, one per op of the op table (the op folded in,
 * vectorised), as a function named LAM_EW_LOOPS_NAME: host_ew_loops.c builds it for any
 * x86-64 (or any CPU), host_ew_loops_avx2.c for AVX2, chosen at run time
 * (host_elementwise.c). Both do the same arithmetic (no contraction), so give the same bits. */
#include "backend/host/host.h"

/* Small loops stay out of OpenMP altogether: a parallel region with a false if clause still
 * costs a team setup (~1 us), which row-by-row broadcasts (fast_rows) paid once per row. */
#define PAR_LOOP(...)                                                                          \
    if (n > LAM_HOST_PAR_MIN) {                                                                \
        _Pragma("omp parallel for LAM_HOST_THREADS") for (int64_t i = 0; i < n; ++i) { __VA_ARGS__; } \
    } else {                                                                                   \
        for (int64_t i = 0; i < n; ++i) { __VA_ARGS__; }                                       \
    }

/* Contiguous f32: unary ops and their gradients, binary ops with a tensor or a scalar.
 * False when op has no specialized loop. */
bool LAM_EW_LOOPS_NAME(lam_ew_op op, float *o, const float *A, const float *B, float sb, bool b_scalar, int64_t n) {
    switch (op) {
#define FAST_UNARY(NAME, name, saves, f, df)                                                   \
    case LAM_EW_##NAME: PAR_LOOP(const float x = A[i]; o[i] = (f)) return true;                \
    case LAM_EW_##NAME##_GRAD:                                                                 \
        if (b_scalar) return false;                                                            \
        PAR_LOOP(const float s = A[i], g = B[i]; (void)s; o[i] = (df)) return true;
#define FAST_BINARY(NAME, name, kind, f, da, db)                                               \
    case LAM_EW_##NAME:                                                                        \
        if (b_scalar) {                                                                        \
            const float b = sb;                                                                \
            PAR_LOOP(const float a = A[i]; o[i] = (f))                                         \
        } else {                                                                               \
            PAR_LOOP(const float a = A[i], b = B[i]; o[i] = (f))                               \
        }                                                                                      \
        return true;
        LAM_UNARY_OPS(FAST_UNARY)
        LAM_BINARY_OPS(FAST_BINARY)
#undef FAST_UNARY
#undef FAST_BINARY
    default: return false;
    }
}
