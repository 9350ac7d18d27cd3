/* Elementwise op cases: every row of the op table (cl/op_table.h) in its unary, binary and
 * scalar forms, forward in every layout and in f16, gradients away from kinks. The
 * reference is the maths written again here in double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cl/op_table.h"
#include "harness.h"
#include "test_util.h"

static double f_neg(double x, double s) { (void)s; return -x; }
static double f_abs(double x, double s) { (void)s; return fabs(x); }
static double f_exp(double x, double s) { (void)s; return exp(x); }
static double f_log(double x, double s) { (void)s; return log(x); }
static double f_sqrt(double x, double s) { (void)s; return sqrt(x); }
static double f_relu(double x, double s) { (void)s; return x > 0 ? x : 0; }
static double f_sigmoid(double x, double s) { (void)s; return 1 / (1 + exp(-x)); }
static double f_tanh(double x, double s) { (void)s; return tanh(x); }
static double f_gelu(double x, double s) { (void)s; return 0.5 * x * (1 + erf(x / sqrt(2.0))); }
static double f_silu(double x, double s) { (void)s; return x / (1 + exp(-x)); }
static double f_add(double a, double b) { return a + b; }
static double f_sub(double a, double b) { return a - b; }
static double f_mul(double a, double b) { return a * b; }
static double f_div(double a, double b) { return a / b; }
static double f_maximum(double a, double b) { return a > b ? a : b; }
static double f_minimum(double a, double b) { return a < b ? a : b; }
static double f_pow(double a, double b) { return pow(a, b); }
static double f_eq(double a, double b) { return a == b; }
static double f_ne(double a, double b) { return a != b; }
static double f_lt(double a, double b) { return a < b; }
static double f_le(double a, double b) { return a <= b; }
static double f_gt(double a, double b) { return a > b; }
static double f_ge(double a, double b) { return a >= b; }

/* out = fn(x, f[0]) elementwise: unary ops and the scalar forms. */
static bool ref_map(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    *nd = c->in[0].ndim;
    memcpy(shape, c->in[0].shape, sizeof c->in[0].shape);
    int64_t n = h_numel(*nd, shape);
    *out = malloc((size_t)(n ? n : 1) * sizeof **out);
    for (int64_t i = 0; i < n; ++i) (*out)[i] = c->fn(x[0][i], (double)c->f[0]);
    return true;
}

/* out = fn(a, b), broadcasting. */
static bool ref_bcast(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *a = &c->in[0], *b = &c->in[1];
    if (!tu_broadcast(a->ndim, a->shape, b->ndim, b->shape, nd, shape)) return false;
    int64_t n = h_numel(*nd, shape);
    *out = malloc((size_t)(n ? n : 1) * sizeof **out);
    for (int64_t i = 0; i < n; ++i)
        (*out)[i] = c->fn(x[0][tu_bcast_index(i, *nd, shape, a->ndim, a->shape)],
                          x[1][tu_bcast_index(i, *nd, shape, b->ndim, b->shape)]);
    return true;
}

/* One builder per row of the op table, generated from it. */
#define UNARY_BUILDER(NAME, name, saves, fwd, grad) \
    static lam_tensor *b_##name(const h_case *c, lam_tensor *const *in) { (void)c; return lam_##name(in[0]); }
#define BINARY_BUILDER(NAME, name, kind, fwd, ga, gb)                                                  \
    static lam_tensor *b_##name(const h_case *c, lam_tensor *const *in) { (void)c; return lam_##name(in[0], in[1]); } \
    static lam_tensor *s_##name(const h_case *c, lam_tensor *const *in) { return lam_##name##_scalar(in[0], c->f[0]); }
LAM_UNARY_OPS(UNARY_BUILDER)
LAM_BINARY_OPS(BINARY_BUILDER)

/* x op y with a transposed x: the gradient must come back in x's layout. */
static lam_tensor *b_add_transposed(const h_case *c, lam_tensor *const *in) {
    (void)c;
    return lam_add(lam_transpose(in[0], 0, 1), in[1]);
}
static lam_tensor *b_scalar_chain(const h_case *c, lam_tensor *const *in) {
    (void)c;
    return lam_div_scalar(lam_sub_scalar(lam_mul_scalar(lam_add_scalar(in[0], 2.f), 3.f), 1.f), 4.f);
}
static lam_tensor *b_clamp(const h_case *c, lam_tensor *const *in) {
    (void)c;
    return lam_minimum_scalar(lam_maximum_scalar(in[0], -0.5f), 0.5f);
}

#define F16 1e-3
#define S3 (4, 5, 6)
#define UN(name, lo, hi, nd, sh, lay) \
    {"lam_" #name, #lay, 1, {H_IN(nd, sh, lay, lo, hi)}, b_##name, ref_map, .fn = f_##name, .tol_f16 = F16}
#define UNG(name, lo, hi) \
    {"lam_" #name, "gradient", 1, {H_IN(2, (3, 4), H_CONTIG, lo, hi)}, b_##name, ref_map, .fn = f_##name, .tol_f16 = F16, .grad = true}
#define BI(name, nda, sha, la, ndb, shb, lb, lo, hi, q, g) \
    {"lam_" #name, #la " " #lb, 2, {H_INQ(nda, sha, la, lo, hi, q), H_INQ(ndb, shb, lb, lo, hi, q)}, b_##name, ref_bcast, \
     .fn = f_##name, .tol_f16 = F16, .grad = g}
#define SC(name, sv, lo, hi, q, lay, g) \
    {"lam_" #name "_scalar", #lay, 1, {H_INQ(3, S3, lay, lo, hi, q)}, s_##name, ref_map, .fn = f_##name, .f = {sv}, \
     .tol_f16 = F16, .grad = g}

static const h_case cases[] = {
    UN(neg, -3, 3, 3, S3, H_CONTIG), UN(neg, -3, 3, 3, S3, H_TRANSPOSED), UNG(neg, -2, 2),
    UN(abs, -3, 3, 2, (7, 9), H_SLICED), UNG(abs, 0.1, 2),
    UN(exp, -3, 3, 2, (7, 9), H_CONTIG), UN(exp, -3, 3, 3, S3, H_EXPANDED), UN(exp, -3, 3, 1, (1000), H_CONTIG), UNG(exp, -2, 2),
    UN(log, 0.05, 5, 2, (7, 9), H_CONTIG), UN(log, 0.05, 5, 2, (7, 9), H_TRANSPOSED), UNG(log, 0.5, 3),
    UN(sqrt, 0, 9, 2, (7, 9), H_SLICED), UNG(sqrt, 0.5, 3),
    UN(relu, -3, 3, 2, (7, 9), H_CONTIG), UN(relu, -3, 3, 3, S3, H_SLICED), UN(relu, -3, 3, 0, (0), H_CONTIG), UNG(relu, 0.1, 2),
    UN(sigmoid, -8, 8, 2, (7, 9), H_TRANSPOSED), UNG(sigmoid, -3, 3),
    UN(tanh, -4, 4, 2, (7, 9), H_CONTIG), UNG(tanh, -2, 2),
    UN(gelu, -5, 5, 2, (7, 9), H_CONTIG), UN(gelu, -5, 5, 3, S3, H_SLICED), UNG(gelu, -3, 3),
    UN(silu, -6, 6, 2, (7, 9), H_CONTIG), UN(silu, -6, 6, 3, S3, H_TRANSPOSED), UNG(silu, -3, 3),
    BI(add, 3, (4, 1, 3), H_CONTIG, 2, (5, 1), H_CONTIG, -3, 3, 0, true), BI(add, 1, (3), H_CONTIG, 2, (2, 3), H_CONTIG, -3, 3, 0, true),
    BI(add, 2, (6, 7), H_TRANSPOSED, 2, (6, 7), H_SLICED, -3, 3, 0, true), BI(add, 0, (0), H_CONTIG, 2, (3, 4), H_CONTIG, -3, 3, 0, false),
    BI(add, 3, S3, H_EXPANDED, 3, S3, H_TRANSPOSED, -3, 3, 0, false), BI(add, 0, (0), H_CONTIG, 0, (0), H_CONTIG, -3, 3, 0, false),
    BI(sub, 3, (4, 1, 3), H_CONTIG, 2, (5, 1), H_CONTIG, -3, 3, 0, true), BI(sub, 2, (6, 7), H_SLICED, 1, (7), H_CONTIG, -3, 3, 0, true),
    BI(mul, 3, (4, 1, 3), H_CONTIG, 2, (5, 1), H_CONTIG, -3, 3, 0, true), BI(mul, 2, (6, 7), H_TRANSPOSED, 2, (1, 7), H_CONTIG, -3, 3, 0, true),
    BI(mul, 2, (2, 3), H_CONTIG, 0, (0), H_CONTIG, -2, 2, 0, true),
    BI(div, 2, (6, 7), H_CONTIG, 2, (6, 1), H_CONTIG, 0.5, 3, 0, true), BI(div, 3, S3, H_SLICED, 3, S3, H_TRANSPOSED, 0.5, 3, 0, false),
    BI(maximum, 3, (4, 1, 3), H_CONTIG, 2, (5, 1), H_CONTIG, -3, 3, 0, true), BI(maximum, 2, (6, 7), H_CONTIG, 2, (6, 7), H_CONTIG, 0, 3, 1, false),
    BI(minimum, 2, (6, 7), H_TRANSPOSED, 2, (6, 7), H_CONTIG, -3, 3, 0, false), BI(minimum, 2, (3, 4), H_CONTIG, 1, (4), H_CONTIG, -2, 2, 0, true),
    BI(pow, 2, (6, 7), H_CONTIG, 2, (6, 7), H_SLICED, 0.25, 2.5, 0, false), BI(pow, 1, (7), H_CONTIG, 2, (6, 7), H_TRANSPOSED, 0.25, 2.5, 0, false),
    BI(pow, 2, (2, 3), H_CONTIG, 2, (2, 3), H_CONTIG, 0.5, 2, 0, true),
    BI(eq, 2, (6, 7), H_CONTIG, 2, (6, 7), H_TRANSPOSED, 0, 3, 1, false), BI(ne, 3, (4, 1, 3), H_CONTIG, 2, (5, 1), H_CONTIG, 0, 3, 1, false),
    BI(lt, 2, (6, 7), H_SLICED, 2, (6, 7), H_CONTIG, 0, 3, 1, false), BI(le, 2, (6, 7), H_CONTIG, 1, (7), H_CONTIG, 0, 3, 1, false),
    BI(gt, 2, (6, 7), H_TRANSPOSED, 2, (6, 7), H_SLICED, 0, 3, 1, false), BI(ge, 3, S3, H_EXPANDED, 2, (5, 6), H_CONTIG, 0, 3, 1, false),
    SC(add, 1.5f, -3, 3, 0, H_CONTIG, true), SC(sub, 1.5f, -3, 3, 0, H_TRANSPOSED, true), SC(mul, -2.5f, -3, 3, 0, H_SLICED, true),
    SC(div, -2.5f, -3, 3, 0, H_CONTIG, true), SC(maximum, 0.5f, -3, 3, 0, H_TRANSPOSED, false),
    SC(minimum, 0.5f, -3, 3, 0, H_SLICED, false), SC(pow, 2.5f, 0.1, 3, 0, H_CONTIG, false),
    SC(pow, -1.5f, 0.5, 3, 0, H_TRANSPOSED, true), SC(pow, 2.5f, 0.5, 2, 0, H_CONTIG, true),
    SC(eq, 2.0f, 0, 5, 1, H_CONTIG, false), SC(ne, 2.0f, 0, 5, 1, H_TRANSPOSED, false), SC(lt, 2.0f, 0, 5, 1, H_SLICED, false),
    SC(le, 2.0f, 0, 5, 1, H_CONTIG, false), SC(gt, 2.0f, 0, 5, 1, H_EXPANDED, false), SC(ge, 2.0f, 0, 5, 1, H_CONTIG, false),
    {"lam_add", "transposed operand, gradient", 2, {H_IN(2, (4, 3), H_CONTIG, -2, 2), H_IN(2, (3, 4), H_CONTIG, -2, 2)},
     b_add_transposed, .grad = true},
    {"lam_add_scalar", "a chain of scalar ops", 1, {H_IN(2, (2, 3), H_CONTIG, -2, 2)}, b_scalar_chain, .grad = true},
    {"lam_maximum_scalar", "clamp, gradient", 1, {H_IN(2, (3, 4), H_CONTIG, -2, 2)}, b_clamp, .grad = true},
    {"lam_relu", "large", 1, {H_IN(1, (300000), H_CONTIG, -1, 1)}, b_relu, ref_map, .fn = f_relu, .tol_f16 = F16},
};

const h_family h_family_elementwise = {"elementwise", cases, (int)(sizeof cases / sizeof *cases)};
