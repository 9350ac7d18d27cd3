/* Ops on every device against a naive double-precision reference written here (not the
 * library's cpu backend, so cpu is checked too): one table of forward ops with contiguous
 * and strided inputs, sentinels around outputs and around sliced inputs, then tensor
 * creation, views, copies between devices and random numbers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

static lam_device *devs[TU_MAX_DEVICES];
static int ndevs;

#define SENT 12345.0f   /* never produced by a test input or output */
#define GUARD 16        /* guard elements after every read buffer */

/* ---- the op table ---------------------------------------------------------------------- */

enum { L_C, L_T, L_S, L_E };   /* input layout: contiguous, transposed, sliced (step 2), expanded */
enum { K_UNARY, K_BINARY, K_SCALAR, K_RALL, K_RDIM, K_SUMTO, K_SOFTMAX, K_MATMUL, K_CE, K_MSE };
enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_ARGMAX };

typedef struct {
    int nd;
    int64_t sh[LAM_MAX_DIMS];
    int layout;
    double lo, hi, q;   /* uniform in [lo, hi), rounded down to a multiple of q if q > 0 */
} in_spec;

typedef struct {
    const char *name;
    int kind;
    lam_tensor *(*u)(lam_tensor *);
    lam_tensor *(*b)(lam_tensor *, lam_tensor *);
    lam_tensor *(*s)(lam_tensor *, float);
    lam_tensor *(*r)(lam_tensor *);
    lam_tensor *(*rd)(lam_tensor *, int, bool);
    double (*f)(double, double);
    float scalar;
    int red, dim;
    bool keep;
    int nin;
    in_spec in[2];
    int nto;
    int64_t to[LAM_MAX_DIMS];
    lam_dtype label_dt;
} op_case;

static double f_neg(double x, double y) { (void)y; return -x; }
static double f_abs(double x, double y) { (void)y; return fabs(x); }
static double f_exp(double x, double y) { (void)y; return exp(x); }
static double f_log(double x, double y) { (void)y; return log(x); }
static double f_sqrt(double x, double y) { (void)y; return sqrt(x); }
static double f_relu(double x, double y) { (void)y; return x > 0 ? x : 0; }
static double f_sigmoid(double x, double y) { (void)y; return 1 / (1 + exp(-x)); }
static double f_tanh(double x, double y) { (void)y; return tanh(x); }
static double f_gelu(double x, double y) { (void)y; return 0.5 * x * (1 + erf(x / sqrt(2.0))); }
static double f_add(double x, double y) { return x + y; }
static double f_sub(double x, double y) { return x - y; }
static double f_mul(double x, double y) { return x * y; }
static double f_div(double x, double y) { return x / y; }
static double f_max(double x, double y) { return x > y ? x : y; }
static double f_min(double x, double y) { return x < y ? x : y; }
static double f_maximum(double x, double y) { return f_max(x, y); }
static double f_minimum(double x, double y) { return f_min(x, y); }
static double f_pow(double x, double y) { return pow(x, y); }
static double f_eq(double x, double y) { return x == y; }
static double f_ne(double x, double y) { return x != y; }
static double f_lt(double x, double y) { return x < y; }
static double f_le(double x, double y) { return x <= y; }
static double f_gt(double x, double y) { return x > y; }
static double f_ge(double x, double y) { return x >= y; }

#define SH(...) {__VA_ARGS__}
#define IN(nd_, sh_, lay, lo_, hi_, q_) {nd_, sh_, lay, lo_, hi_, q_}
#define X1(sh_, nd_, lay, lo_, hi_) .nin = 1, .in = {IN(nd_, SH sh_, lay, lo_, hi_, 0)}
#define UN(op, lo_, hi_, nd_, sh_, lay) \
    {#op, K_UNARY, .u = lam_##op, .f = f_##op, X1(sh_, nd_, lay, lo_, hi_)}
#define BI(op, nda, sha, la, ndb, shb, lb, lo_, hi_, q_) \
    {#op, K_BINARY, .b = lam_##op, .f = f_##op, .nin = 2, \
     .in = {IN(nda, SH sha, la, lo_, hi_, q_), IN(ndb, SH shb, lb, lo_, hi_, q_)}}
#define SC(op, fn, sv, lo_, hi_, q_, lay) \
    {#op "_scalar", K_SCALAR, .s = lam_##op##_scalar, .f = f_##fn, .scalar = sv, .nin = 1, \
     .in = {IN(3, SH(4, 5, 6), lay, lo_, hi_, q_)}}
#define RA(op, code, lay) \
    {#op, K_RALL, .r = lam_##op, .red = code, .nin = 1, .in = {IN(3, SH(4, 5, 6), lay, 0, 4, 1.0 / 64)}}
#define RD(op, code, d, k, lay) \
    {#op "_dim", K_RDIM, .rd = lam_##op, .red = code, .dim = d, .keep = k, .nin = 1, \
     .in = {IN(3, SH(4, 5, 6), lay, 0, 4, (code) == R_ARGMAX ? 0 : 1.0 / 64)}}
#define MM(nda, sha, la, ndb, shb, lb) \
    {"matmul", K_MATMUL, .nin = 2, .in = {IN(nda, SH sha, la, -1, 1, 0), IN(ndb, SH shb, lb, -1, 1, 0)}}

static const op_case cases[] = {
    UN(neg, -3, 3, 3, (4, 5, 6), L_C), UN(neg, -3, 3, 3, (4, 5, 6), L_T),
    UN(abs, -3, 3, 2, (7, 9), L_S), UN(exp, -3, 3, 2, (7, 9), L_C), UN(exp, -3, 3, 3, (4, 5, 6), L_E),
    UN(log, 0.05, 5, 2, (7, 9), L_C), UN(log, 0.05, 5, 2, (7, 9), L_T), UN(sqrt, 0, 9, 2, (7, 9), L_S),
    UN(relu, -3, 3, 2, (7, 9), L_C), UN(relu, -3, 3, 3, (4, 5, 6), L_S), UN(sigmoid, -8, 8, 2, (7, 9), L_T),
    UN(tanh, -4, 4, 2, (7, 9), L_C), UN(gelu, -5, 5, 2, (7, 9), L_C), UN(gelu, -5, 5, 3, (4, 5, 6), L_S),
    UN(relu, -3, 3, 0, (0), L_C), UN(exp, -3, 3, 1, (1000), L_C),
    BI(add, 3, (4, 1, 3), L_C, 2, (5, 1), L_C, -3, 3, 0), BI(add, 1, (3), L_C, 2, (2, 3), L_C, -3, 3, 0),
    BI(add, 2, (6, 7), L_T, 2, (6, 7), L_S, -3, 3, 0), BI(add, 0, (0), L_C, 2, (3, 4), L_C, -3, 3, 0),
    BI(add, 3, (4, 5, 6), L_E, 3, (4, 5, 6), L_T, -3, 3, 0), BI(add, 0, (0), L_C, 0, (0), L_C, -3, 3, 0),
    BI(sub, 3, (4, 1, 3), L_C, 2, (5, 1), L_C, -3, 3, 0), BI(sub, 2, (6, 7), L_S, 1, (7), L_C, -3, 3, 0),
    BI(mul, 3, (4, 1, 3), L_C, 2, (5, 1), L_C, -3, 3, 0), BI(mul, 2, (6, 7), L_T, 2, (1, 7), L_C, -3, 3, 0),
    BI(div, 2, (6, 7), L_C, 2, (6, 1), L_C, 0.5, 3, 0), BI(div, 3, (4, 5, 6), L_S, 3, (4, 5, 6), L_T, 0.5, 3, 0),
    BI(maximum, 3, (4, 1, 3), L_C, 2, (5, 1), L_C, -3, 3, 0), BI(minimum, 2, (6, 7), L_T, 2, (6, 7), L_C, -3, 3, 0),
    BI(pow, 2, (6, 7), L_C, 2, (6, 7), L_S, 0.25, 2.5, 0), BI(pow, 1, (7), L_C, 2, (6, 7), L_T, 0.25, 2.5, 0),
    BI(eq, 2, (6, 7), L_C, 2, (6, 7), L_T, 0, 3, 1), BI(ne, 3, (4, 1, 3), L_C, 2, (5, 1), L_C, 0, 3, 1),
    BI(lt, 2, (6, 7), L_S, 2, (6, 7), L_C, 0, 3, 1), BI(le, 2, (6, 7), L_C, 1, (7), L_C, 0, 3, 1),
    BI(gt, 2, (6, 7), L_T, 2, (6, 7), L_S, 0, 3, 1), BI(ge, 3, (4, 5, 6), L_E, 2, (5, 6), L_C, 0, 3, 1),
    SC(add, add, 1.5f, -3, 3, 0, L_C), SC(sub, sub, 1.5f, -3, 3, 0, L_T), SC(mul, mul, -2.5f, -3, 3, 0, L_S),
    SC(div, div, -2.5f, -3, 3, 0, L_C), SC(maximum, max, 0.5f, -3, 3, 0, L_T), SC(minimum, min, 0.5f, -3, 3, 0, L_S),
    SC(pow, pow, 2.5f, 0.1, 3, 0, L_C), SC(pow, pow, -1.5f, 0.1, 3, 0, L_T),
    SC(eq, eq, 2.0f, 0, 5, 1, L_C), SC(ne, ne, 2.0f, 0, 5, 1, L_T), SC(lt, lt, 2.0f, 0, 5, 1, L_S),
    SC(le, le, 2.0f, 0, 5, 1, L_C), SC(gt, gt, 2.0f, 0, 5, 1, L_E), SC(ge, ge, 2.0f, 0, 5, 1, L_C),
    RA(sum, R_SUM, L_C), RA(sum, R_SUM, L_T), RA(mean, R_MEAN, L_S), RA(max, R_MAX, L_C), RA(max, R_MAX, L_T),
    RA(min, R_MIN, L_S), RA(min, R_MIN, L_E),
    {"sum0d", K_RALL, .r = lam_sum, .red = R_SUM, .nin = 1, .in = {IN(0, SH(0), L_C, -3, 3, 0)}},
    {"sum_big", K_RALL, .r = lam_sum, .red = R_SUM, .nin = 1, .in = {IN(1, SH(100000), L_C, 0, 1, 1.0 / 64)}},
    RD(sum_dim, R_SUM, 0, false, L_C), RD(sum_dim, R_SUM, 1, true, L_T), RD(sum_dim, R_SUM, -1, false, L_S),
    RD(mean_dim, R_MEAN, 2, true, L_C), RD(mean_dim, R_MEAN, 1, false, L_E), RD(max_dim, R_MAX, 1, false, L_C),
    RD(max_dim, R_MAX, -1, true, L_T), RD(min_dim, R_MIN, 0, true, L_S), RD(min_dim, R_MIN, 2, false, L_C),
    RD(argmax, R_ARGMAX, 1, false, L_C), RD(argmax, R_ARGMAX, -1, true, L_T), RD(argmax, R_ARGMAX, 0, false, L_S),
    {"sum_to_shape", K_SUMTO, .nin = 1, .in = {IN(3, SH(4, 5, 3), L_C, 0, 4, 1.0 / 64)}, .nto = 2, .to = {5, 1}},
    {"sum_to_shape", K_SUMTO, .nin = 1, .in = {IN(3, SH(4, 5, 3), L_T, 0, 4, 1.0 / 64)}, .nto = 3, .to = {1, 5, 3}},
    {"sum_to_shape", K_SUMTO, .nin = 1, .in = {IN(2, SH(2, 3), L_S, 0, 4, 1.0 / 64)}, .nto = 1, .to = {3}},
    {"sum_to_shape", K_SUMTO, .nin = 1, .in = {IN(2, SH(2, 3), L_C, 0, 4, 1.0 / 64)}, .nto = 0},
    {"softmax", K_SOFTMAX, .dim = -1, .nin = 1, .in = {IN(2, SH(7, 9), L_C, -5, 5, 0)}},
    {"softmax", K_SOFTMAX, .dim = 0, .nin = 1, .in = {IN(2, SH(7, 9), L_T, -5, 5, 0)}},
    {"softmax", K_SOFTMAX, .dim = -1, .nin = 1, .in = {IN(3, SH(3, 4, 70), L_S, -30, 30, 0)}},
    {"log_softmax", K_SOFTMAX, .keep = true, .dim = -1, .nin = 1, .in = {IN(2, SH(7, 9), L_S, -5, 5, 0)}},
    {"log_softmax", K_SOFTMAX, .keep = true, .dim = 0, .nin = 1, .in = {IN(3, SH(5, 4, 3), L_C, -5, 5, 0)}},
    MM(2, (3, 4), L_C, 2, (4, 5), L_C), MM(2, (3, 4), L_T, 2, (4, 5), L_T), MM(2, (3, 4), L_S, 2, (4, 5), L_C),
    MM(1, (4), L_C, 2, (4, 5), L_C), MM(2, (3, 4), L_C, 1, (4), L_S), MM(1, (4), L_C, 1, (4), L_C),
    MM(4, (2, 1, 3, 4), L_C, 3, (5, 4, 6), L_C), MM(3, (2, 3, 4), L_T, 2, (4, 5), L_C),
    MM(2, (3, 4), L_C, 3, (2, 4, 5), L_T), MM(3, (2, 3, 4), L_E, 3, (2, 4, 5), L_S),
    MM(2, (70, 130), L_C, 2, (130, 50), L_C), MM(2, (33, 65), L_T, 2, (65, 17), L_T),
    MM(3, (3, 67, 70), L_C, 3, (3, 70, 65), L_T),   /* batched, large enough for the indirect kernel */
    {"cross_entropy", K_CE, .label_dt = LAM_I64, .nin = 1, .in = {IN(2, SH(8, 10), L_C, -4, 4, 0)}},
    {"cross_entropy", K_CE, .label_dt = LAM_I32, .nin = 1, .in = {IN(2, SH(8, 10), L_T, -4, 4, 0)}},
    {"mse_loss", K_MSE, .nin = 2, .in = {IN(2, SH(6, 7), L_C, -3, 3, 0), IN(2, SH(6, 7), L_S, -3, 3, 0)}},
    {"mse_loss", K_MSE, .nin = 2, .in = {IN(1, SH(50), L_C, -3, 3, 0), IN(1, SH(50), L_C, -3, 3, 0)}},
};

/* ---- inputs: host data, and a device tensor with that logical content in a layout ------ */

static int64_t numel_of(int nd, const int64_t *sh)
{
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= sh[i];
    return n;
}

/* Coordinates of flat index i in shape sh. */
static void unflatten(int64_t i, int nd, const int64_t *sh, int64_t *c)
{
    for (int d = nd - 1; d >= 0; d--) {
        c[d] = i % sh[d];
        i /= sh[d];
    }
}

typedef struct {
    lam_tensor *t;        /* the op's input (maybe a view) */
    lam_tensor *parent;   /* for L_S: the sentinel-filled parent */
    float *pdata;         /* its expected content */
    int64_t pn;
} made_input;

/* Makes t whose logical content equals v (expanded inputs make v constant along dim 0). */
static made_input make_input(lam_device *d, double *v, const in_spec *s)
{
    made_input m = {0};
    int nd = s->nd;
    int lay = nd == 0 ? L_C : s->layout;
    if (lay == L_T && nd < 2) lay = L_C;
    int64_t n = numel_of(nd, s->sh), c[LAM_MAX_DIMS], ps[LAM_MAX_DIMS], pst[LAM_MAX_DIMS];
    memcpy(ps, s->sh, sizeof ps);
    if (lay == L_C) {
        m.t = tu_from_doubles(v, nd, s->sh, d);
    } else if (lay == L_T) {
        ps[nd - 2] = s->sh[nd - 1];
        ps[nd - 1] = s->sh[nd - 2];
        tu_strides(nd, ps, pst);
        double *p = malloc((size_t)n * sizeof *p);
        for (int64_t i = 0; i < n; i++) {
            unflatten(i, nd, s->sh, c);
            int64_t tmp = c[nd - 2];
            c[nd - 2] = c[nd - 1];
            c[nd - 1] = tmp;
            int64_t j = 0;
            for (int k = 0; k < nd; k++) j += c[k] * pst[k];
            p[j] = v[i];
        }
        m.t = lam_transpose(tu_from_doubles(p, nd, ps, d), nd - 2, nd - 1);
        free(p);
    } else if (lay == L_S) {
        int64_t last = s->sh[nd - 1];
        ps[nd - 1] = 2 * last + 1;
        m.pn = numel_of(nd, ps);
        m.pdata = malloc((size_t)m.pn * sizeof *m.pdata);
        for (int64_t j = 0; j < m.pn; j++) m.pdata[j] = SENT;
        for (int64_t i = 0; i < n; i++) m.pdata[(i / last) * ps[nd - 1] + 2 * (i % last) + 1] = (float)v[i];
        m.parent = lam_from_data(m.pdata, LAM_F32, nd, ps, d);
        m.t = lam_slice(m.parent, nd - 1, 1, 2 * last + 1, 2);
    } else {   /* L_E: a (1, ...) tensor expanded along dim 0 */
        int64_t inner = n / s->sh[0];
        for (int64_t i = inner; i < n; i++) v[i] = v[i % inner];
        ps[0] = 1;
        m.t = lam_expand(tu_from_doubles(v, nd, ps, d), nd, s->sh);
    }
    return m;
}

/* ---- the reference --------------------------------------------------------------------- */

static double *ref_reduce(const double *x, int nd, const int64_t *sh, int red, int dim, bool keep, int *nout,
                          int64_t *os)
{
    if (dim < 0) dim += nd;
    int64_t outer = numel_of(dim, sh), len = sh[dim], inner = numel_of(nd - dim - 1, sh + dim + 1);
    double *o = malloc((size_t)(outer * inner) * sizeof *o);
    for (int64_t a = 0; a < outer; a++)
        for (int64_t b = 0; b < inner; b++) {
            double acc = red == R_SUM || red == R_MEAN ? 0 : x[a * len * inner + b];
            int64_t arg = 0;
            for (int64_t k = 0; k < len; k++) {
                double e = x[(a * len + k) * inner + b];
                if (red == R_SUM || red == R_MEAN) acc += e;
                else if ((red == R_MAX || red == R_ARGMAX) && e > acc) { acc = e; arg = k; }
                else if (red == R_MIN && e < acc) acc = e;
            }
            o[a * inner + b] = red == R_MEAN ? acc / (double)len : red == R_ARGMAX ? (double)arg : acc;
        }
    *nout = 0;
    for (int i = 0; i < nd; i++)
        if (i != dim) os[(*nout)++] = sh[i];
        else if (keep) os[(*nout)++] = 1;
    return o;
}

static double *reference(const op_case *c, double *const *x, int *nout, int64_t *os)
{
    const in_spec *a = &c->in[0], *b = &c->in[1];
    int64_t n = numel_of(a->nd, a->sh);
    double *o = NULL;
    *nout = a->nd;
    memcpy(os, a->sh, sizeof a->sh);
    switch (c->kind) {
    case K_UNARY:
    case K_SCALAR:
        o = malloc((size_t)n * sizeof *o);
        for (int64_t i = 0; i < n; i++) o[i] = c->f(x[0][i], (double)c->scalar);
        break;
    case K_BINARY: {
        tu_broadcast(a->nd, a->sh, b->nd, b->sh, nout, os);
        int64_t m = numel_of(*nout, os);
        o = malloc((size_t)(m ? m : 1) * sizeof *o);
        for (int64_t i = 0; i < m; i++)
            o[i] = c->f(x[0][tu_bcast_index(i, *nout, os, a->nd, a->sh)], x[1][tu_bcast_index(i, *nout, os, b->nd, b->sh)]);
        break;
    }
    case K_RALL: {
        int64_t one[1] = {n};
        int dummy;
        int64_t ds[LAM_MAX_DIMS];
        o = ref_reduce(x[0], 1, one, c->red, 0, false, &dummy, ds);
        *nout = 0;
        break;
    }
    case K_RDIM: return ref_reduce(x[0], a->nd, a->sh, c->red, c->dim, c->keep, nout, os);
    case K_SUMTO: {
        *nout = c->nto;
        memcpy(os, c->to, sizeof c->to);
        o = calloc((size_t)numel_of(c->nto, c->to), sizeof *o);
        for (int64_t i = 0; i < n; i++) o[tu_bcast_index(i, a->nd, a->sh, c->nto, c->to)] += x[0][i];
        break;
    }
    case K_SOFTMAX: {
        int d = c->dim < 0 ? c->dim + a->nd : c->dim;
        int64_t outer = numel_of(d, a->sh), len = a->sh[d], inner = numel_of(a->nd - d - 1, a->sh + d + 1);
        o = malloc((size_t)n * sizeof *o);
        for (int64_t p = 0; p < outer; p++)
            for (int64_t q = 0; q < inner; q++) {
                double mx = -INFINITY, z = 0;
                for (int64_t k = 0; k < len; k++) mx = fmax(mx, x[0][(p * len + k) * inner + q]);
                for (int64_t k = 0; k < len; k++) z += exp(x[0][(p * len + k) * inner + q] - mx);
                for (int64_t k = 0; k < len; k++) {
                    double e = x[0][(p * len + k) * inner + q] - mx;
                    o[(p * len + k) * inner + q] = c->keep ? e - log(z) : exp(e) / z;
                }
            }
        break;
    }
    case K_MATMUL: return tu_ref_matmul(x[0], a->nd, a->sh, x[1], b->nd, b->sh, nout, os);
    case K_CE: {   /* x[1] holds the labels */
        int64_t N = a->sh[0], C = a->sh[1];
        double loss = 0;
        for (int64_t i = 0; i < N; i++) {
            double mx = -INFINITY, z = 0;
            for (int64_t k = 0; k < C; k++) mx = fmax(mx, x[0][i * C + k]);
            for (int64_t k = 0; k < C; k++) z += exp(x[0][i * C + k] - mx);
            loss += mx + log(z) - x[0][i * C + (int64_t)x[1][i]];
        }
        o = malloc(sizeof *o);
        o[0] = loss / (double)N;
        *nout = 0;
        break;
    }
    case K_MSE: {
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += (x[0][i] - x[1][i]) * (x[0][i] - x[1][i]);
        o = malloc(sizeof *o);
        o[0] = s / (double)n;
        *nout = 0;
        break;
    }
    }
    return o;
}

/* ---- running one case on one device -------------------------------------------------------- */

static lam_tensor *run_op(const op_case *c, lam_tensor *const *t)
{
    switch (c->kind) {
    case K_UNARY: return c->u(t[0]);
    case K_BINARY: return c->b(t[0], t[1]);
    case K_SCALAR: return c->s(t[0], c->scalar);
    case K_RALL: return c->r(t[0]);
    case K_RDIM: return c->rd(t[0], c->dim, c->keep);
    case K_SUMTO: return lam_sum_to_shape(t[0], c->nto, c->to);
    case K_SOFTMAX: return c->keep ? lam_log_softmax(t[0], c->dim) : lam_softmax(t[0], c->dim);
    case K_MATMUL: return lam_matmul(t[0], t[1]);
    case K_CE: return lam_cross_entropy(t[0], t[1]);
    default: return lam_mse_loss(t[0], t[1]);
    }
}

static void describe(const op_case *c, char *buf, size_t size)
{
    static const char *lay[] = {"contig", "transposed", "sliced", "expanded"};
    int w = snprintf(buf, size, "%s", c->name);
    for (int i = 0; i < c->nin; i++) {
        w += snprintf(buf + w, size - (size_t)w, " %s(", lay[c->in[i].nd ? c->in[i].layout : 0]);
        for (int k = 0; k < c->in[i].nd; k++)
            w += snprintf(buf + w, size - (size_t)w, "%s%lld", k ? ", " : "", (long long)c->in[i].sh[k]);
        w += snprintf(buf + w, size - (size_t)w, ")");
    }
    if (c->kind == K_RDIM || c->kind == K_SOFTMAX) snprintf(buf + w, size - (size_t)w, " dim %d%s", c->dim, c->kind == K_RDIM && c->keep ? " keepdim" : "");
}

/* Returns the number of failures (each printed). */
static int check_case(lam_device *d, const op_case *c, uint64_t seed)
{
    char what[160];
    describe(c, what, sizeof what);
    int fails = 0;
    double *x[2] = {NULL, NULL};
    made_input mi[2] = {{0}};
    lam_tensor *t[2] = {NULL, NULL};
    lam_scope_begin();
    for (int i = 0; i < c->nin; i++) {
        const in_spec *s = &c->in[i];
        int64_t n = numel_of(s->nd, s->sh);
        x[i] = malloc((size_t)n * sizeof(double));
        tu_fill_uniform(x[i], n, s->lo, s->hi, seed + (uint64_t)i * 7919);
        if (s->q > 0)
            for (int64_t k = 0; k < n; k++) x[i][k] = floor(x[i][k] / s->q) * s->q;
        mi[i] = make_input(d, x[i], s);
        t[i] = mi[i].t;
    }
    if (c->kind == K_CE) {   /* labels: a second input of integers in [0, C) */
        int64_t N = c->in[0].sh[0], C = c->in[0].sh[1];
        x[1] = malloc((size_t)N * sizeof(double));
        int64_t l64[64];
        int32_t l32[64];
        for (int64_t i = 0; i < N; i++) {
            l64[i] = (i * 7 + 3) % C;
            l32[i] = (int32_t)l64[i];
            x[1][i] = (double)l64[i];
        }
        t[1] = c->label_dt == LAM_I64 ? lam_from_data(l64, LAM_I64, LAM_SHAPE(N), d)
                                      : lam_from_data(l32, LAM_I32, LAM_SHAPE(N), d);
    }
    int nref;
    int64_t rs[LAM_MAX_DIMS];
    double *ref = reference(c, x, &nref, rs);
    lam_tensor *y = run_op(c, t);
    if (!y) {
        print_message("FAIL %s on %s: returned NULL: %s\n", what, lam_device_spec(d), lam_last_error());
        lam_clear_error();
        fails++;
        goto done;
    }
    int64_t n = numel_of(nref, rs);
    bool shape_ok = lam_ndim(y) == nref;
    for (int i = 0; shape_ok && i < nref; i++) shape_ok = lam_dim(y, i) == rs[i];
    lam_dtype want_dt = c->kind == K_RDIM && c->red == R_ARGMAX ? LAM_I64 : LAM_F32;
    if (!shape_ok || lam_tensor_dtype(y) != want_dt) {
        char s[96];
        print_message("FAIL %s on %s: shape %s dtype %s, want %d dims, dtype %s\n", what, lam_device_spec(d),
                      lam_shape_str(y, s, sizeof s), lam_dtype_name(lam_tensor_dtype(y)), nref, lam_dtype_name(want_dt));
        fails++;
        goto done;
    }
    /* read with guard elements past the end: lam_read must not touch them */
    size_t es = lam_dtype_size(want_dt);
    unsigned char *raw = malloc((size_t)(n + GUARD) * es);
    memset(raw, 0xA5, (size_t)(n + GUARD) * es);
    if (lam_read(y, raw, (size_t)(n + GUARD) * es) != LAM_OK) {
        print_message("FAIL %s on %s: lam_read: %s\n", what, lam_device_spec(d), lam_last_error());
        lam_clear_error();
        fails++;
    } else {
        for (size_t k = (size_t)n * es; k < (size_t)(n + GUARD) * es; k++)
            if (raw[k] != 0xA5) {
                print_message("FAIL %s on %s: lam_read wrote past the end (byte %zu)\n", what, lam_device_spec(d), k);
                fails++;
                break;
            }
        double *got = malloc((size_t)(n ? n : 1) * sizeof *got);
        for (int64_t k = 0; k < n; k++)
            got[k] = want_dt == LAM_I64 ? (double)((int64_t *)raw)[k] : ((float *)raw)[k];
        double err = tu_norm_err(got, ref, n), tol = c->kind == K_MATMUL ? 1e-5 : 1e-6;
        if (!(err <= tol)) {
            print_message("FAIL %s on %s: normalized error %.3g > %.0e\n", what, lam_device_spec(d), err, tol);
            for (int64_t k = 0, shown = 0; k < n && shown < 4; k++)
                if (fabs(got[k] - ref[k]) > tol * (1 + fabs(ref[k]))) {
                    print_message("     [%lld] got %.9g want %.9g\n", (long long)k, got[k], ref[k]);
                    shown++;
                }
            fails++;
        }
        free(got);
    }
    free(raw);
    /* sliced inputs: the parent's other elements (sentinels) must be unchanged */
    for (int i = 0; i < c->nin; i++) {
        if (!mi[i].parent) continue;
        float *now = malloc((size_t)mi[i].pn * sizeof *now);
        if (lam_read(mi[i].parent, now, (size_t)mi[i].pn * sizeof *now) != LAM_OK ||
            memcmp(now, mi[i].pdata, (size_t)mi[i].pn * sizeof *now) != 0) {
            print_message("FAIL %s on %s: the op changed its sliced input's parent\n", what, lam_device_spec(d));
            fails++;
        }
        free(now);
    }
done:
    lam_scope_end();
    for (int i = 0; i < 2; i++) {
        free(x[i]);
        free(mi[i].pdata);
    }
    free(ref);
    return fails;
}

static void test_op_table(void **state)
{
    (void)state;
    int fails = 0, runs = 0;
    int64_t live = lam_live_tensors();
    for (int k = 0; k < ndevs; k++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++, runs++) fails += check_case(devs[k], &cases[i], 1000 + i);
    print_message("%d op checks on %d device(s), %d failed\n", runs, ndevs, fails);
    assert_int_equal(fails, 0);
    assert_int_equal(lam_live_tensors(), live);
}

/* ---- creation, views, copies, devices, random numbers ------------------------------------ */

/* Reads t (f32) and compares with want[] exactly; names what on failure. */
static void expect_f32(lam_tensor *t, const float *want, int64_t n, const char *what, lam_device *d)
{
    assert_non_null(t);
    if (lam_numel(t) != n) fail_msg("%s on %s: numel %lld, want %lld", what, lam_device_spec(d), (long long)lam_numel(t), (long long)n);
    float *got = malloc((size_t)(n + GUARD) * sizeof *got);
    for (int64_t i = 0; i < n + GUARD; i++) got[i] = SENT;
    assert_ok(lam_read(t, got, (size_t)(n + GUARD) * sizeof *got));
    for (int64_t i = 0; i < n; i++)
        if (got[i] != want[i]) fail_msg("%s on %s: [%lld] = %g, want %g", what, lam_device_spec(d), (long long)i, got[i], want[i]);
    for (int64_t i = n; i < n + GUARD; i++)
        if (got[i] != SENT) fail_msg("%s on %s: lam_read wrote past the end", what, lam_device_spec(d));
    free(got);
}

static void expect_shape(lam_tensor *t, int nd, const int64_t *sh, const char *what)
{
    assert_non_null(t);
    if (lam_ndim(t) != nd) fail_msg("%s: ndim %d, want %d", what, lam_ndim(t), nd);
    for (int i = 0; i < nd; i++)
        if (lam_dim(t, i) != sh[i]) fail_msg("%s: dim %d is %lld, want %lld", what, i, (long long)lam_dim(t, i), (long long)sh[i]);
}

static void test_creation(void **state)
{
    (void)state;
    for (int k = 0; k < ndevs; k++) {
        lam_device *d = devs[k];
        lam_scope_begin();
        float z[6] = {0}, o[6] = {1, 1, 1, 1, 1, 1}, f[6] = {2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f};
        expect_f32(lam_zeros(LAM_SHAPE(2, 3), d), z, 6, "zeros", d);
        expect_f32(lam_ones(LAM_SHAPE(2, 3), d), o, 6, "ones", d);
        expect_f32(lam_full(2.5f, LAM_SHAPE(3, 2), d), f, 6, "full", d);
        lam_tensor *s = lam_scalar(3.5f, d);
        assert_int_equal(lam_ndim(s), 0);
        assert_int_equal(lam_numel(s), 1);
        assert_true(lam_item(s) == 3.5);
        assert_ptr_equal(lam_tensor_device(s), d);
        float v[6] = {1.5f, -2, 3.25f, 1e-20f, -1e20f, 0.1f};
        lam_tensor *t = lam_from_data(v, LAM_F32, LAM_SHAPE(2, 3), d);
        expect_f32(t, v, 6, "from_data f32", d);
        assert_true(lam_is_contiguous(t));
        expect_f32(lam_zeros_like(t), z, 6, "zeros_like", d);
        expect_f32(lam_ones_like(t), o, 6, "ones_like", d);
        expect_f32(lam_full_like(t, 2.5f), f, 6, "full_like", d);
        int32_t i32[5] = {-5, 0, 7, 2147483647, -2147483647 - 1}, r32[5 + GUARD];
        lam_tensor *ti = lam_from_data(i32, LAM_I32, LAM_SHAPE(5), d);
        assert_int_equal(lam_tensor_dtype(ti), LAM_I32);
        for (int i = 0; i < 5 + GUARD; i++) r32[i] = 77;
        assert_ok(lam_read(ti, r32, sizeof r32));
        assert_memory_equal(r32, i32, sizeof i32);
        assert_int_equal(r32[5], 77);
        int64_t i64[4] = {-(1ll << 40), 3, 1ll << 50, 0}, r64[4];
        lam_tensor *tl = lam_from_data(i64, LAM_I64, LAM_SHAPE(2, 2), d);
        assert_int_equal(lam_tensor_dtype(tl), LAM_I64);
        assert_ok(lam_read(tl, r64, sizeof r64));
        assert_memory_equal(r64, i64, sizeof i64);
        lam_tensor *e = lam_empty(LAM_I64, LAM_SHAPE(3, 0, 2), d);
        assert_non_null(e);
        assert_int_equal(lam_numel(e), 0);
        lam_scope_end();
    }
}

static void test_views(void **state)
{
    (void)state;
    for (int k = 0; k < ndevs; k++) {
        lam_device *d = devs[k];
        lam_scope_begin();
        float v[24], w[24];
        for (int i = 0; i < 24; i++) v[i] = (float)i;
        lam_tensor *t = lam_from_data(v, LAM_F32, LAM_SHAPE(2, 3, 4), d);   /* t[a][b][c] = 12a + 4b + c */
        lam_tensor *r = lam_reshape(t, LAM_SHAPE(4, -1));
        expect_shape(r, 2, (int64_t[]){4, 6}, "reshape -1");
        expect_f32(r, v, 24, "reshape", d);
        lam_tensor *tt = lam_transpose(t, 0, 2);   /* (4, 3, 2): tt[c][b][a] */
        expect_shape(tt, 3, (int64_t[]){4, 3, 2}, "transpose");
        assert_false(lam_is_contiguous(tt));
        for (int c = 0, i = 0; c < 4; c++)
            for (int b = 0; b < 3; b++)
                for (int a = 0; a < 2; a++) w[i++] = (float)(12 * a + 4 * b + c);
        expect_f32(tt, w, 24, "transpose", d);
        expect_f32(lam_reshape(tt, LAM_SHAPE(-1)), w, 24, "reshape of a transposed tensor", d);
        expect_f32(lam_reshape(tt, LAM_SHAPE(2, 2, 6)), w, 24, "reshape of a transposed tensor", d);
        lam_tensor *ct = lam_contiguous(tt);
        assert_true(lam_is_contiguous(ct));
        expect_f32(ct, w, 24, "contiguous", d);
        lam_tensor *p = lam_permute(t, (const int[]){2, 0, 1});   /* (4, 2, 3): p[c][a][b] */
        expect_shape(p, 3, (int64_t[]){4, 2, 3}, "permute");
        for (int c = 0, i = 0; c < 4; c++)
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 3; b++) w[i++] = (float)(12 * a + 4 * b + c);
        expect_f32(p, w, 24, "permute", d);
        lam_tensor *sl = lam_slice(t, 2, 1, 10, 2);   /* c = 1, 3 */
        expect_shape(sl, 3, (int64_t[]){2, 3, 2}, "slice with step");
        for (int a = 0, i = 0; a < 2; a++)
            for (int b = 0; b < 3; b++)
                for (int c = 1; c < 4; c += 2) w[i++] = (float)(12 * a + 4 * b + c);
        expect_f32(sl, w, 12, "slice with step", d);
        lam_tensor *sl2 = lam_slice(sl, 1, 1, 3, 1);   /* a slice of a slice: b = 1, 2 */
        for (int a = 0, i = 0; a < 2; a++)
            for (int b = 1; b < 3; b++)
                for (int c = 1; c < 4; c += 2) w[i++] = (float)(12 * a + 4 * b + c);
        expect_f32(sl2, w, 8, "slice of a slice", d);
        lam_tensor *u = lam_unsqueeze(t, 1);
        expect_shape(u, 4, (int64_t[]){2, 1, 3, 4}, "unsqueeze");
        expect_shape(lam_unsqueeze(t, -1), 4, (int64_t[]){2, 3, 4, 1}, "unsqueeze -1");
        lam_tensor *sq = lam_squeeze(u, 1);
        expect_shape(sq, 3, (int64_t[]){2, 3, 4}, "squeeze");
        expect_f32(sq, v, 24, "squeeze", d);
        lam_tensor *fl = lam_flatten(t, 1, 2);
        expect_shape(fl, 2, (int64_t[]){2, 12}, "flatten");
        expect_f32(fl, v, 24, "flatten", d);
        expect_shape(lam_flatten(tt, 0, -1), 1, (int64_t[]){24}, "flatten of a transposed tensor");
        expect_f32(lam_flatten(tt, 0, -1), (float[24]){0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23}, 24, "flatten of a transposed tensor", d);
        lam_tensor *row = lam_from_data(v, LAM_F32, LAM_SHAPE(1, 4), d);
        lam_tensor *ex = lam_expand(row, LAM_SHAPE(3, 4));
        expect_shape(ex, 2, (int64_t[]){3, 4}, "expand");
        expect_f32(ex, (float[12]){0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}, 12, "expand", d);
        lam_tensor *col = lam_from_data(v, LAM_F32, LAM_SHAPE(2, 1), d);
        expect_f32(lam_expand(col, LAM_SHAPE(3, 2, 3)), (float[18]){0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1}, 18, "expand with a new dim", d);
        /* clone: a copy with its own storage */
        lam_tensor *cl = lam_clone(t);
        assert_ok(lam_fill_(cl, -1.0f));
        expect_f32(t, v, 24, "clone leaves its source", d);
        /* views share storage: filling a slice shows through the parent */
        assert_ok(lam_fill_(lam_slice(t, 0, 1, 2, 1), -3.0f));
        memcpy(w, v, sizeof v);
        for (int i = 12; i < 24; i++) w[i] = -3.0f;
        expect_f32(t, w, 24, "fill of a view", d);
        /* to_dtype: floats truncate toward zero */
        float fv[5] = {-2.7f, -0.5f, 0.5f, 2.7f, 100.9f};
        lam_tensor *ft = lam_from_data(fv, LAM_F32, LAM_SHAPE(5), d);
        int32_t i32[5];
        int64_t i64[5];
        lam_tensor *ti = lam_to_dtype(ft, LAM_I32), *tl = lam_to_dtype(ft, LAM_I64);
        assert_int_equal(lam_tensor_dtype(ti), LAM_I32);
        assert_int_equal(lam_tensor_dtype(tl), LAM_I64);
        assert_ok(lam_read(ti, i32, sizeof i32));
        assert_ok(lam_read(tl, i64, sizeof i64));
        static const int want[5] = {-2, 0, 0, 2, 100};
        for (int i = 0; i < 5; i++) {
            assert_int_equal(i32[i], want[i]);
            assert_int_equal(i64[i], want[i]);
        }
        expect_f32(lam_to_dtype(tl, LAM_F32), (float[5]){-2, 0, 0, 2, 100}, 5, "to_dtype i64 -> f32", d);
        lam_scope_end();
    }
}

static void test_copy_fill(void **state)
{
    (void)state;
    for (int k = 0; k < ndevs; k++)
        for (int m = 0; m < ndevs; m++) {
            lam_device *d = devs[k], *ds = devs[m];
            lam_scope_begin();
            float par[24], want[24], src[12];
            for (int i = 0; i < 24; i++) par[i] = want[i] = SENT;
            for (int i = 0; i < 12; i++) src[i] = (float)(i + 1);
            /* lam_copy_ into a sliced view: columns 1, 3, 5 of a (4, 6) sentinel parent */
            lam_tensor *parent = lam_from_data(par, LAM_F32, LAM_SHAPE(4, 6), d);
            lam_tensor *dst = lam_slice(parent, 1, 1, 6, 2);
            assert_ok(lam_copy_(dst, lam_from_data(src, LAM_F32, LAM_SHAPE(4, 3), ds)));
            for (int i = 0; i < 12; i++) want[(i / 3) * 6 + 2 * (i % 3) + 1] = src[i];
            expect_f32(parent, want, 24, "lam_copy_ into a slice", d);
            /* a transposed source */
            lam_tensor *ts = lam_transpose(lam_from_data(src, LAM_F32, LAM_SHAPE(3, 4), ds), 0, 1);
            assert_ok(lam_copy_(dst, ts));
            for (int i = 0; i < 12; i++) want[(i / 3) * 6 + 2 * (i % 3) + 1] = src[(i % 3) * 4 + i / 3];
            expect_f32(parent, want, 24, "lam_copy_ from a transposed source", d);
            /* lam_write into a strided view: column 0 */
            assert_ok(lam_write(lam_slice(parent, 1, 0, 1, 1), src, 4 * sizeof(float)));
            for (int r = 0; r < 4; r++) want[r * 6] = src[r];
            expect_f32(parent, want, 24, "lam_write into a view", d);
            /* lam_fill_ of a view: rows 1..2, columns 0, 2, 4 */
            assert_ok(lam_fill_(lam_slice(lam_slice(parent, 0, 1, 3, 1), 1, 0, 6, 2), 7.0f));
            for (int r = 1; r < 3; r++)
                for (int c = 0; c < 6; c += 2) want[r * 6 + c] = 7.0f;
            expect_f32(parent, want, 24, "lam_fill_ of a view", d);
            lam_scope_end();
        }
}

static void test_to_devices(void **state)
{
    (void)state;
    float v[12];
    for (int i = 0; i < 12; i++) v[i] = (float)i * 0.5f - 2;
    float vt[12];
    for (int i = 0; i < 12; i++) vt[i] = v[(i % 3) * 4 + i / 3];
    int same_device_copies = 0;   /* lam_to onto t's own device must share t's storage */
    for (int k = 0; k < ndevs; k++)
        for (int m = 0; m < ndevs; m++) {
            lam_scope_begin();
            lam_tensor *a = lam_from_data(v, LAM_F32, LAM_SHAPE(3, 4), devs[k]);
            lam_tensor *b = lam_to(a, devs[m]);
            assert_non_null(b);
            assert_ptr_equal(lam_tensor_device(b), devs[m]);
            expect_f32(b, v, 12, "lam_to", devs[m]);
            if (k == m) {   /* a write through a shows through b: no copy was made */
                assert_ok(lam_fill_(a, 7.0f));
                if (lam_item(lam_max(b)) != 7.0) same_device_copies++;
                assert_ok(lam_write(a, v, sizeof v));
            }
            lam_tensor *c = lam_to(lam_transpose(a, 0, 1), devs[m]);
            expect_shape(c, 2, (int64_t[]){4, 3}, "lam_to of a view");
            expect_f32(c, vt, 12, "lam_to of a transposed view", devs[m]);
            int64_t l[3] = {5, -1, 1ll << 40}, r[3];
            lam_tensor *li = lam_to(lam_from_data(l, LAM_I64, LAM_SHAPE(3), devs[k]), devs[m]);
            assert_ok(lam_read(li, r, sizeof r));
            assert_memory_equal(l, r, sizeof l);
            lam_scope_end();
        }
    if (same_device_copies) fail_msg("lam_to onto the tensor's own device copied the data (%d devices)", same_device_copies);
}

static void test_random(void **state)
{
    (void)state;
    enum { N = 100000 };
    float *first_u = malloc(N * sizeof(float)), *u = malloc(N * sizeof(float));
    double *first_n = malloc(N * sizeof(double));
    for (int k = 0; k < ndevs; k++) {
        lam_device *d = devs[k];
        lam_scope_begin();
        lam_manual_seed(42);
        assert_ok(lam_read(lam_rand(LAM_SHAPE(N), d), u, N * sizeof(float)));
        double mean = 0;
        for (int i = 0; i < N; i++) {
            if (!(u[i] >= 0.0f && u[i] < 1.0f)) fail_msg("rand on %s: [%d] = %g outside [0, 1)", lam_device_spec(d), i, u[i]);
            mean += u[i];
        }
        mean /= N;
        print_message("rand on %s: mean of %d = %.5f\n", lam_device_spec(d), N, mean);
        assert_true(fabs(mean - 0.5) < 0.01);
        if (k == 0) memcpy(first_u, u, N * sizeof(float));
        else if (memcmp(first_u, u, N * sizeof(float)) != 0)
            fail_msg("rand on %s differs from %s with the same seed", lam_device_spec(d), lam_device_spec(devs[0]));
        /* the counter advances: the next call gives other numbers */
        float nx[8];
        assert_ok(lam_read(lam_rand(LAM_SHAPE(8), d), nx, sizeof nx));
        assert_memory_not_equal(nx, u, sizeof nx);
        lam_manual_seed(7);
        lam_tensor *n = lam_randn(LAM_SHAPE(N), d);
        double *g = tu_read(n);
        assert_non_null(g);
        double m1 = 0, m2 = 0;
        for (int i = 0; i < N; i++) {
            m1 += g[i];
            m2 += g[i] * g[i];
        }
        m1 /= N;
        m2 = m2 / N - m1 * m1;
        print_message("randn on %s: mean %.4f variance %.4f\n", lam_device_spec(d), m1, m2);
        assert_true(fabs(m1) < 0.02 && fabs(m2 - 1) < 0.03);
        if (k == 0) memcpy(first_n, g, N * sizeof(double));
        else {
            double err = tu_max_abs_diff(g, first_n, N);
            if (err > 1e-6 * 8) fail_msg("randn on %s differs from %s by %g", lam_device_spec(d), lam_device_spec(devs[0]), err);
            assert_true(tu_norm_err(g, first_n, N) <= 1e-6);
        }
        free(g);
        lam_tensor *ur = lam_rand_uniform(-2, 3, LAM_SHAPE(1000), d);
        double *h = tu_read(ur);
        for (int i = 0; i < 1000; i++) assert_true(h[i] >= -2 && h[i] < 3);
        free(h);
        lam_scope_end();
    }
    free(first_u);
    free(u);
    free(first_n);
}

static int setup(void **state)
{
    (void)state;
    ndevs = tu_devices(devs, TU_MAX_DEVICES);
    for (int i = 0; i < ndevs; i++) print_message("device %s\n", lam_device_name(devs[i]));
    return ndevs > 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_table),    cmocka_unit_test(test_creation),  cmocka_unit_test(test_views),
        cmocka_unit_test(test_copy_fill),   cmocka_unit_test(test_to_devices), cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
