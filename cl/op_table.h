/* The op table: every elementwise op declared once, with its maths and its gradient's.
 * The host backend and every OpenCL program compile this text, and everything else is
 * generated from it: the op codes (lam_ew_op), the kernel-side switch (lam_ew_apply), the
 * host's specialized loops, the op names, the public functions (src/ops/unary.c, binary.c)
 * and their backward rules. Values are float (f16 storage computes in float).
 *
 * Adding an elementwise op is one line here, its declaration in include/lamina/ops.h and
 * a case in the op harness (tests/test_ops.c).
 *
 * Unary ops: X(NAME, name, SAVES, y = f(x), dx = f'(s, g)) where s is what backward keeps
 * (INPUT: x, OUTPUT: y, NONE) and g the incoming gradient. */
#ifndef LAM_CL_OP_TABLE_H
#define LAM_CL_OP_TABLE_H

#ifndef __OPENCL_VERSION__
#include "cl/common.h"
#endif

#define LAM_UNARY_OPS(X)                                                                   \
    X(NEG, neg, NONE, -x, -g)                                                              \
    X(ABS, abs, INPUT, LAM_FABS(x), s > 0.0f ? g : s < 0.0f ? -g : 0.0f)                   \
    X(EXP, exp, OUTPUT, LAM_EXP(x), g * s)                                                 \
    X(LOG, log, INPUT, LAM_LOG(x), g / s)                                                  \
    X(SQRT, sqrt, OUTPUT, LAM_SQRT(x), 0.5f * g / s)                                       \
    X(RELU, relu, OUTPUT, x > 0.0f ? x : 0.0f, s > 0.0f ? g : 0.0f)                        \
    X(SIGMOID, sigmoid, OUTPUT, lam_sigmoidf(x), g * s * (1.0f - s))                       \
    X(TANH, tanh, OUTPUT, LAM_TANH(x), g * (1.0f - s * s))                                 \
    X(GELU, gelu, INPUT, x * lam_phi_cdf(x), g * (lam_phi_cdf(s) + s * lam_phi_pdf(s)))    \
    X(SILU, silu, INPUT, x * lam_sigmoidf(x), g * lam_silu_grad(s))

/* Binary ops, broadcasting, also with a scalar second operand (lam_add_scalar):
 * X(NAME, name, KIND, y = f(a, b), da = f_a(a, b, g), db = f_b(a, b, g)).
 * KIND: ARITH (differentiable) or CMP (1.0 where true, 0.0 where false; no gradient). */
#define LAM_BINARY_OPS(X)                                                                  \
    X(ADD, add, ARITH, a + b, g, g)                                                        \
    X(SUB, sub, ARITH, a - b, g, -g)                                                       \
    X(MUL, mul, ARITH, a * b, g * b, g * a)                                                \
    X(DIV, div, ARITH, a / b, g / b, -g * a / (b * b))                                     \
    X(MAX, maximum, ARITH, a > b || a != a ? a : b, g * lam_win(a, b), g * lam_win(b, a))  \
    X(MIN, minimum, ARITH, a < b || a != a ? a : b, g * lam_win(b, a), g * lam_win(a, b))  \
    X(POW, pow, ARITH, LAM_POW(a, b), lam_pow_grad_base(a, b, g), lam_pow_grad_exp(a, b, g)) \
    X(EQ, eq, CMP, a == b ? 1.0f : 0.0f, 0.0f, 0.0f)                                       \
    X(NE, ne, CMP, a != b ? 1.0f : 0.0f, 0.0f, 0.0f)                                       \
    X(LT, lt, CMP, a < b ? 1.0f : 0.0f, 0.0f, 0.0f)                                        \
    X(LE, le, CMP, a <= b ? 1.0f : 0.0f, 0.0f, 0.0f)                                       \
    X(GT, gt, CMP, a > b ? 1.0f : 0.0f, 0.0f, 0.0f)                                        \
    X(GE, ge, CMP, a >= b ? 1.0f : 0.0f, 0.0f, 0.0f)

/* Ternary ops: X(NAME, name, y = f(a, b, c)); gradients are written with other ops. */
#define LAM_TERNARY_OPS(X) X(WHERE, where, a != 0.0f ? b : c)

/* Reductions over one dimension (or all): X(NAME, name). */
#define LAM_REDUCE_OPS(X) X(SUM, sum) X(MEAN, mean) X(MAX, max) X(MIN, min) X(ARGMAX, argmax) X(ARGMIN, argmin)

/* ---- generated: op codes ------------------------------------------------------------- */

#define LAM_EW_ENUM_U(NAME, name, saves, f, df) LAM_EW_##NAME, LAM_EW_##NAME##_GRAD,
#define LAM_EW_ENUM_B(NAME, name, kind, f, da, db) LAM_EW_##NAME, LAM_EW_##NAME##_GRAD_A, LAM_EW_##NAME##_GRAD_B,
#define LAM_EW_ENUM_T(NAME, name, f) LAM_EW_##NAME,
typedef enum {
    LAM_UNARY_OPS(LAM_EW_ENUM_U) LAM_BINARY_OPS(LAM_EW_ENUM_B) LAM_TERNARY_OPS(LAM_EW_ENUM_T) LAM_EW_COUNT
} lam_ew_op;

#define LAM_REDUCE_ENUM(NAME, name) LAM_REDUCE_##NAME,
typedef enum { LAM_REDUCE_OPS(LAM_REDUCE_ENUM) LAM_REDUCE_COUNT } lam_reduce_op;

/* ---- the scalar maths the table uses ------------------------------------------------- */

LAM_FN float lam_sigmoidf(float x) { return 1.0f / (1.0f + LAM_EXP(-x)); }
/* Standard normal cdf and pdf, for exact GELU and its derivative. */
LAM_FN float lam_phi_cdf(float x) {   /* from erfc: no cancellation in the left tail */
    float e = 0.5f * LAM_ERFC(LAM_FABS(x) * 0.70710678118654752f);
    return x < 0.0f ? e : 1.0f - e;
}
LAM_FN float lam_phi_pdf(float x) { return 0.39894228040143268f * LAM_EXP(-0.5f * x * x); }
/* d/dx x sigmoid(x) = sigmoid(x) (1 + x (1 - sigmoid(x))) */
LAM_FN float lam_silu_grad(float x) {
    float s = lam_sigmoidf(x);
    return s * (1.0f + x * (1.0f - s));
}
/* Share of the gradient of max(a, b) that goes to a: all if it wins, half on a tie. */
LAM_FN float lam_win(float a, float b) { return a > b ? 1.0f : a == b ? 0.5f : 0.0f; }
/* d(a^b)/da = b a^(b-1), and 0 where b == 0 (PyTorch's mask). */
LAM_FN float lam_pow_grad_base(float a, float b, float g) { return b == 0.0f ? 0.0f : g * b * LAM_POW(a, b - 1.0f); }
/* d(a^b)/db = a^b ln a, and 0 where a == 0 and b >= 0 (PyTorch's mask). */
LAM_FN float lam_pow_grad_exp(float a, float b, float g) {
    return a == 0.0f && b >= 0.0f ? 0.0f : g * LAM_POW(a, b) * LAM_LOG(a);
}

/* ---- generated: the kernel-side switch ------------------------------------------------ */

/* Applies op to (a, b, c): unary ops read a (and their gradients a = s, b = g), binary ops
 * a and b (their gradients c = g), ternary ops all three. */
LAM_FN float lam_ew_apply(int op, float a, float b, float c) {
    switch (op) {
#define LAM_EW_CASE_U(NAME, name, saves, f, df)                                            \
    case LAM_EW_##NAME: { const float x = a; return (f); }                                 \
    case LAM_EW_##NAME##_GRAD: { const float s = a, g = b; (void)s; return (df); }
#define LAM_EW_CASE_B(NAME, name, kind, f, da, db)                                         \
    case LAM_EW_##NAME: return (f);                                                        \
    case LAM_EW_##NAME##_GRAD_A: { const float g = c; (void)g; return (da); }              \
    case LAM_EW_##NAME##_GRAD_B: { const float g = c; (void)g; return (db); }
#define LAM_EW_CASE_T(NAME, name, f) case LAM_EW_##NAME: return (f);
    LAM_UNARY_OPS(LAM_EW_CASE_U)
    LAM_BINARY_OPS(LAM_EW_CASE_B)
    LAM_TERNARY_OPS(LAM_EW_CASE_T)
#undef LAM_EW_CASE_U
#undef LAM_EW_CASE_B
#undef LAM_EW_CASE_T
    default: return 0.0f;
    }
}

#endif
