/* Statistics and normalization: var, std and layer norm, against double references. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* var or std (f[0] = 1) over dim i[0], unbiased i[1], keepdim i[2]. */
static bool ref_moment(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *a = &c->in[0];
    int d = (int)(c->i[0] < 0 ? c->i[0] + a->ndim : c->i[0]);
    int64_t outer = 1, inner = 1, len = a->shape[d];
    *nd = 0;
    for (int k = 0; k < a->ndim; ++k) {
        if (k < d) outer *= a->shape[k];
        if (k > d) inner *= a->shape[k];
        if (k != d || c->i[2]) shape[(*nd)++] = k == d ? 1 : a->shape[k];
    }
    *out = malloc((size_t)(outer * inner) * sizeof **out);
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
            double m = 0, s = 0;
            for (int64_t l = 0; l < len; ++l) m += x[0][(o * len + l) * inner + i];
            m /= (double)len;
            for (int64_t l = 0; l < len; ++l) s += pow(x[0][(o * len + l) * inner + i] - m, 2);
            s /= (double)(len - c->i[1]);
            (*out)[o * inner + i] = c->f[0] != 0 ? sqrt(s) : s;
        }
    return true;
}

/* layer_norm over the last i[0] dims with eps f[0]; weight and bias inputs 1 and 2 if given. */
static bool ref_layer_norm(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *a = &c->in[0];
    int64_t D = 1, n = h_numel(a->ndim, a->shape);
    for (int k = a->ndim - (int)c->i[0]; k < a->ndim; ++k) D *= a->shape[k];
    *nd = a->ndim;
    memcpy(shape, a->shape, sizeof a->shape);
    *out = malloc((size_t)n * sizeof **out);
    for (int64_t r = 0; r < n / D; ++r) {
        const double *row = x[0] + r * D;
        double m = 0, v = 0;
        for (int64_t k = 0; k < D; ++k) m += row[k];
        m /= (double)D;
        for (int64_t k = 0; k < D; ++k) v += (row[k] - m) * (row[k] - m);
        double rs = 1.0 / sqrt(v / (double)D + c->f[0]);
        for (int64_t k = 0; k < D; ++k)
            (*out)[r * D + k] = (row[k] - m) * rs * (c->n_in > 1 ? x[1][k] : 1.0) + (c->n_in > 2 ? x[2][k] : 0.0);
    }
    return true;
}

static lam_tensor *b_moment(const h_case *c, lam_tensor *const *in) {
    return (c->f[0] != 0 ? lam_std : lam_var)(in[0], (int)c->i[0], c->i[1] != 0, c->i[2] != 0);
}

static lam_tensor *b_layer_norm(const h_case *c, lam_tensor *const *in) {
    int nd = (int)c->i[0];
    return lam_layer_norm(in[0], nd, lam_shape(in[0]) + lam_ndim(in[0]) - nd, c->n_in > 1 ? in[1] : NULL,
                          c->n_in > 2 ? in[2] : NULL, c->f[0]);
}

#define F16 3e-3

static const h_case cases[] = {
    {"lam_var", "dim 1, unbiased", 1, {H_IN(2, (4, 7), H_CONTIG, -2, 2)}, b_moment, ref_moment, .i = {1, 1, 0},
     .tol = 1e-5, .tol_f16 = F16, .grad = true},
    {"lam_var", "dim 0, biased, keepdim, transposed", 1, {H_IN(2, (4, 7), H_TRANSPOSED, -2, 2)}, b_moment, ref_moment,
     .i = {0, 0, 1}, .tol = 1e-5, .grad = true},
    {"lam_std", "last dim, unbiased, sliced", 1, {H_IN(3, (3, 2, 9), H_SLICED, -2, 2)}, b_moment, ref_moment,
     .i = {-1, 1, 0}, .f = {1}, .tol = 1e-5, .tol_f16 = F16, .grad = true},
    {"lam_layer_norm", "(12,) with weight and bias", 3, {H_IN(3, (3, 5, 12), H_CONTIG, -2, 2), H_IN(1, (12), H_CONTIG, -1, 1), H_IN(1, (12), H_CONTIG, -1, 1)},
     b_layer_norm, ref_layer_norm, .i = {1}, .f = {1e-5f}, .tol = 1e-5, .tol_f16 = F16, .grad = true},
    {"lam_layer_norm", "(5, 6), no affine, transposed", 1, {H_IN(3, (2, 5, 6), H_TRANSPOSED, -3, 5)}, b_layer_norm,
     ref_layer_norm, .i = {2}, .f = {1e-5f}, .tol = 1e-5, .tol_f16 = F16, .grad = true},
    {"lam_layer_norm", "weight only, sliced, rows of 300 (a group of 256 wraps)", 2, {H_IN(2, (4, 300), H_SLICED, -1, 1), H_IN(1, (300), H_SLICED, 0, 2)},
     b_layer_norm, ref_layer_norm, .i = {1}, .f = {1e-3f}, .tol = 1e-5, .tol_f16 = F16},
    {"lam_layer_norm", "one row of 8, eps 0.1, gradient", 3, {H_IN(2, (1, 8), H_CONTIG, -1, 1), H_IN(1, (8), H_CONTIG, -1, 1), H_IN(1, (8), H_EXPANDED, -1, 1)},
     b_layer_norm, ref_layer_norm, .i = {1}, .f = {0.1f}, .tol = 1e-5, .grad = true},
};

const h_family h_family_norm = {"norm", cases, (int)(sizeof cases / sizeof *cases)};
