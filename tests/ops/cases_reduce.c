/* Reduction cases: sum, mean, max, min (over everything and over one dim), argmax, argmin,
 * sum_to_shape, softmax and log_softmax. Inputs are multiples of 1/64 where exact sums and
 * ties matter. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test_util.h"

enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_ARGMAX, R_ARGMIN };

/* i[0] the reduction, i[1] the dim, i[2] keepdim, i[3] over everything. */
static bool ref_reduce(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *a = &c->in[0];
    int red = (int)c->i[0], all = (int)c->i[3], dim = (int)c->i[1];
    int64_t one[1] = {h_numel(a->ndim, a->shape)};
    int ndim = all ? 1 : a->ndim;
    const int64_t *sh = all ? one : a->shape;
    if (dim < 0) dim += ndim;
    int64_t outer = h_numel(dim, sh), len = sh[dim], inner = h_numel(ndim - dim - 1, sh + dim + 1);
    *out = malloc((size_t)(outer * inner > 0 ? outer * inner : 1) * sizeof **out);
    for (int64_t p = 0; p < outer; ++p)
        for (int64_t q = 0; q < inner; ++q) {
            double acc = red == R_SUM || red == R_MEAN ? 0 : x[0][p * len * inner + q];
            int64_t arg = 0;
            for (int64_t k = 0; k < len; ++k) {
                double e = x[0][(p * len + k) * inner + q];
                if (red == R_SUM || red == R_MEAN) acc += e;
                else if ((red == R_MAX || red == R_ARGMAX) && e > acc) acc = e, arg = k;
                else if ((red == R_MIN || red == R_ARGMIN) && e < acc) acc = e, arg = k;
            }
            (*out)[p * inner + q] = red == R_MEAN ? acc / (double)len : red >= R_ARGMAX ? (double)arg : acc;
        }
    *nd = 0;
    for (int i = 0; !all && i < ndim; ++i)
        if (i != dim) shape[(*nd)++] = sh[i];
        else if (c->i[2]) shape[(*nd)++] = 1;
    return true;
}

/* i[0] the target ndim, i[1..] its shape. */
static bool ref_sum_to(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *a = &c->in[0];
    *nd = (int)c->i[0];
    for (int k = 0; k < *nd; ++k) shape[k] = c->i[1 + k];
    *out = calloc((size_t)h_numel(*nd, shape), sizeof **out);
    for (int64_t i = 0; i < h_numel(a->ndim, a->shape); ++i)
        (*out)[tu_bcast_index(i, a->ndim, a->shape, *nd, shape)] += x[0][i];
    return true;
}

/* i[0] the dim, i[1] log. */
static bool ref_softmax(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *a = &c->in[0];
    int d = (int)(c->i[0] < 0 ? c->i[0] + a->ndim : c->i[0]);
    int64_t outer = h_numel(d, a->shape), len = a->shape[d], inner = h_numel(a->ndim - d - 1, a->shape + d + 1);
    *nd = a->ndim;
    memcpy(shape, a->shape, sizeof a->shape);
    *out = malloc((size_t)h_numel(a->ndim, a->shape) * sizeof **out);
    for (int64_t p = 0; p < outer; ++p)
        for (int64_t q = 0; q < inner; ++q) {
            double mx = -INFINITY, z = 0;
            for (int64_t k = 0; k < len; ++k) mx = fmax(mx, x[0][(p * len + k) * inner + q]);
            for (int64_t k = 0; k < len; ++k) z += exp(x[0][(p * len + k) * inner + q] - mx);
            for (int64_t k = 0; k < len; ++k) {
                double e = x[0][(p * len + k) * inner + q] - mx;
                (*out)[(p * len + k) * inner + q] = c->i[1] ? e - log(z) : exp(e) / z;
            }
        }
    return true;
}

static lam_tensor *b_all(const h_case *c, lam_tensor *const *in) {
    switch (c->i[0]) {
    case R_SUM: return lam_sum(in[0]);
    case R_MEAN: return lam_mean(in[0]);
    case R_MAX: return lam_max(in[0]);
    default: return lam_min(in[0]);
    }
}

static lam_tensor *b_dim(const h_case *c, lam_tensor *const *in) {
    int d = (int)c->i[1];
    bool k = c->i[2];
    switch (c->i[0]) {
    case R_SUM: return lam_sum_dim(in[0], d, k);
    case R_MEAN: return lam_mean_dim(in[0], d, k);
    case R_MAX: return lam_max_dim(in[0], d, k);
    case R_MIN: return lam_min_dim(in[0], d, k);
    case R_ARGMAX: return lam_argmax(in[0], d, k);
    default: return lam_argmin(in[0], d, k);
    }
}

static lam_tensor *b_sum_to(const h_case *c, lam_tensor *const *in) {
    return lam_sum_to_shape(in[0], (int)c->i[0], c->i + 1);
}

static lam_tensor *b_softmax(const h_case *c, lam_tensor *const *in) {
    return c->i[1] ? lam_log_softmax(in[0], (int)c->i[0]) : lam_softmax(in[0], (int)c->i[0]);
}

#define Q (1.0 / 64)
#define F16 2e-3
#define ALL(op, code, lay, g) \
    {"lam_" #op, #lay, 1, {H_INQ(3, (4, 5, 6), lay, 0, 4, Q)}, b_all, ref_reduce, .i = {code, 0, 0, 1}, .tol_f16 = F16, .grad = g}
#define DIM(op, code, d, k, lay, g) \
    {"lam_" #op, #lay, 1, {H_INQ(3, (4, 5, 6), lay, 0, 4, code >= R_ARGMAX ? 0 : Q)}, b_dim, ref_reduce, \
     .i = {code, d, k, 0}, .tol_f16 = F16, .grad = g}
#define GRAD_IN H_IN(3, (2, 3, 2), H_CONTIG, -2, 2)
#define SUMTO(lay, nd_, ...) \
    {"lam_sum_to_shape", #lay, 1, {H_INQ(3, (4, 5, 3), lay, 0, 4, Q)}, b_sum_to, ref_sum_to, .i = {nd_, __VA_ARGS__}, .tol_f16 = F16, .grad = true}
#define SOFTMAX(op, lg, d, nd, sh, lay, lo, hi) \
    {"lam_" #op, #lay, 1, {H_IN(nd, sh, lay, lo, hi)}, b_softmax, ref_softmax, .i = {d, lg}, .tol_f16 = F16, .grad = true}

static const h_case cases[] = {
    ALL(sum, R_SUM, H_CONTIG, true), ALL(sum, R_SUM, H_TRANSPOSED, false), ALL(mean, R_MEAN, H_SLICED, true),
    ALL(max, R_MAX, H_CONTIG, false), ALL(max, R_MAX, H_TRANSPOSED, false), ALL(min, R_MIN, H_SLICED, false),
    ALL(min, R_MIN, H_EXPANDED, false),
    {"lam_max", "gradient", 1, {H_IN(2, (3, 4), H_CONTIG, -2, 2)}, b_all, ref_reduce, .i = {R_MAX, 0, 0, 1}, .grad = true},
    {"lam_min", "gradient", 1, {H_IN(2, (3, 4), H_CONTIG, -2, 2)}, b_all, ref_reduce, .i = {R_MIN, 0, 0, 1}, .grad = true},
    {"lam_sum", "0-dim", 1, {H_IN(0, (0), H_CONTIG, -3, 3)}, b_all, ref_reduce, .i = {R_SUM, 0, 0, 1}, .tol_f16 = F16},
    {"lam_sum", "100000 elements", 1, {H_INQ(1, (100000), H_CONTIG, 0, 1, Q)}, b_all, ref_reduce, .i = {R_SUM, 0, 0, 1},
     .tol_f16 = F16},
    {"lam_max", "100000 elements", 1, {H_INQ(1, (100000), H_CONTIG, -1, 1, 0)}, b_all, ref_reduce, .i = {R_MAX, 0, 0, 1},
     .tol_f16 = F16},
    DIM(sum_dim, R_SUM, 0, 0, H_CONTIG, true), DIM(sum_dim, R_SUM, 1, 1, H_TRANSPOSED, false),
    DIM(sum_dim, R_SUM, -1, 0, H_SLICED, false), DIM(mean_dim, R_MEAN, 2, 1, H_CONTIG, true),
    DIM(mean_dim, R_MEAN, 1, 0, H_EXPANDED, false), DIM(max_dim, R_MAX, 1, 0, H_CONTIG, false),
    DIM(max_dim, R_MAX, -1, 1, H_TRANSPOSED, false), DIM(min_dim, R_MIN, 0, 1, H_SLICED, false),
    DIM(min_dim, R_MIN, 2, 0, H_CONTIG, false),
    DIM(argmax, R_ARGMAX, 1, 0, H_CONTIG, false), DIM(argmax, R_ARGMAX, -1, 1, H_TRANSPOSED, false),
    DIM(argmax, R_ARGMAX, 0, 0, H_SLICED, false), DIM(argmin, R_ARGMIN, 2, 0, H_CONTIG, false),
    DIM(argmin, R_ARGMIN, 0, 1, H_TRANSPOSED, false),
    {"lam_max_dim", "gradient", 1, {GRAD_IN}, b_dim, ref_reduce, .i = {R_MAX, -1, 0, 0}, .grad = true},
    {"lam_min_dim", "gradient, transposed", 1, {H_IN(2, (3, 4), H_TRANSPOSED, -2, 2)}, b_dim, ref_reduce,
     .i = {R_MIN, 1, 1, 0}, .grad = true},
    SUMTO(H_CONTIG, 2, 5, 1), SUMTO(H_TRANSPOSED, 3, 1, 5, 3),
    {"lam_sum_to_shape", "sliced to (3,)", 1, {H_INQ(2, (2, 3), H_SLICED, 0, 4, Q)}, b_sum_to, ref_sum_to, .i = {1, 3},
     .tol_f16 = F16, .grad = true},
    {"lam_sum_to_shape", "to a scalar", 1, {H_INQ(2, (2, 3), H_CONTIG, 0, 4, Q)}, b_sum_to, ref_sum_to, .i = {0},
     .tol_f16 = F16},
    SOFTMAX(softmax, 0, -1, 2, (7, 9), H_CONTIG, -5, 5), SOFTMAX(softmax, 0, 0, 2, (7, 9), H_TRANSPOSED, -5, 5),
    SOFTMAX(softmax, 0, -1, 3, (3, 4, 70), H_SLICED, -30, 30), SOFTMAX(log_softmax, 1, -1, 2, (7, 9), H_SLICED, -5, 5),
    SOFTMAX(log_softmax, 1, 0, 3, (5, 4, 3), H_CONTIG, -5, 5),
    SOFTMAX(log_softmax, 1, 1, 2, (5, 3), H_TRANSPOSED, -2, 2),
    {"lam_softmax", "rows of 1000", 1, {H_IN(2, (64, 1000), H_CONTIG, -5, 5)}, b_softmax, ref_softmax, .i = {-1, 0},
     .tol_f16 = F16},
};

const h_family h_family_reduce = {"reduce", cases, (int)(sizeof cases / sizeof *cases)};
