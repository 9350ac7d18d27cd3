/* Matrix products (NumPy rules: vectors, broadcast batches, transposed and sliced operands),
 * losses, and selection (where, masked_fill). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test_util.h"

static bool ref_matmul(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *a = &c->in[0], *b = &c->in[1];
    *out = tu_ref_matmul(x[0], a->ndim, a->shape, x[1], b->ndim, b->shape, nd, shape);
    return *out != NULL;
}

/* mean over rows of logsumexp(row) - row[label] */
static bool ref_cross_entropy(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    int64_t N = c->in[0].shape[0], C = c->in[0].shape[1];
    double loss = 0;
    for (int64_t i = 0; i < N; ++i) {
        double mx = -INFINITY, z = 0;
        for (int64_t k = 0; k < C; ++k) mx = fmax(mx, x[0][i * C + k]);
        for (int64_t k = 0; k < C; ++k) z += exp(x[0][i * C + k] - mx);
        loss += mx + log(z) - x[0][i * C + (int64_t)x[1][i]];
    }
    *nd = 0;
    (void)shape;
    *out = malloc(sizeof **out);
    **out = loss / (double)N;
    return true;
}

/* cross_entropy_with: logits (N, C, d...) and labels (N, d...); ignore_index i[0], reduction
 * i[1] (mean, sum, none), label smoothing f[0]. */
static bool ref_cross_entropy_with(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *a = &c->in[0];
    int64_t N = a->shape[0], C = a->shape[1], inner = h_numel(a->ndim - 2, a->shape + 2), rows = N * inner;
    double *terms = malloc((size_t)rows * sizeof *terms), total = 0, counted = 0;
    for (int64_t r = 0; r < rows; ++r) {
        int64_t n = r / inner, i = r % inner, label = (int64_t)x[1][r];
        double mx = -INFINITY, z = 0, mean = 0;
        for (int64_t k = 0; k < C; ++k) mx = fmax(mx, x[0][(n * C + k) * inner + i]);
        for (int64_t k = 0; k < C; ++k) z += exp(x[0][(n * C + k) * inner + i] - mx);
        for (int64_t k = 0; k < C; ++k) mean += (mx + log(z) - x[0][(n * C + k) * inner + i]) / (double)C;
        double nll = label == c->i[0] ? 0 : mx + log(z) - x[0][(n * C + label) * inner + i];
        terms[r] = label == c->i[0] ? 0 : (1 - c->f[0]) * nll + c->f[0] * mean;
        total += terms[r];
        counted += label != c->i[0];
    }
    *nd = c->i[1] == 2 ? a->ndim - 1 : 0;
    for (int k = 0; k < *nd; ++k) shape[k] = k == 0 ? N : a->shape[k + 1];
    if (c->i[1] == 2) {
        *out = terms;
        return true;
    }
    free(terms);
    *out = malloc(sizeof **out);
    **out = c->i[1] == 1 ? total : total / counted;
    return true;
}

static bool ref_mse(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    int64_t n = h_numel(c->in[0].ndim, c->in[0].shape);
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += (x[0][i] - x[1][i]) * (x[0][i] - x[1][i]);
    *nd = 0;
    (void)shape;
    *out = malloc(sizeof **out);
    **out = s / (double)n;
    return true;
}

/* where(cond, a, b) broadcasting all three; masked_fill(x, mask, f[0]) = where(mask, f[0], x). */
static bool ref_select(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    bool fill = c->n_in == 2;
    const h_input *cond = &c->in[fill ? 1 : 0];
    int na;
    int64_t sa[LAM_MAX_DIMS];
    if (!tu_broadcast(c->in[0].ndim, c->in[0].shape, c->in[1].ndim, c->in[1].shape, &na, sa)) return false;
    if (!fill && !tu_broadcast(na, sa, c->in[2].ndim, c->in[2].shape, &na, sa)) return false;
    *nd = na;
    memcpy(shape, sa, sizeof sa);
    int64_t n = h_numel(na, sa);
    *out = malloc((size_t)(n ? n : 1) * sizeof **out);
    for (int64_t i = 0; i < n; ++i) {
        double m = x[fill ? 1 : 0][tu_bcast_index(i, na, sa, cond->ndim, cond->shape)];
        if (fill) (*out)[i] = m != 0 ? c->f[0] : x[0][tu_bcast_index(i, na, sa, c->in[0].ndim, c->in[0].shape)];
        else (*out)[i] = m != 0 ? x[1][tu_bcast_index(i, na, sa, c->in[1].ndim, c->in[1].shape)]
                                : x[2][tu_bcast_index(i, na, sa, c->in[2].ndim, c->in[2].shape)];
    }
    return true;
}

static lam_tensor *b_matmul(const h_case *c, lam_tensor *const *in) { (void)c; return lam_matmul(in[0], in[1]); }
static lam_tensor *b_matmul_tt(const h_case *c, lam_tensor *const *in) {
    (void)c;
    return lam_matmul(lam_transpose(in[0], 0, 1), lam_transpose(in[1], 0, 1));
}
static lam_tensor *b_shared(const h_case *c, lam_tensor *const *in) {   /* one weight used twice */
    (void)c;
    return lam_matmul(in[0], lam_matmul(in[0], in[1]));
}
static lam_tensor *b_ce(const h_case *c, lam_tensor *const *in) { (void)c; return lam_cross_entropy(in[0], in[1]); }
static lam_tensor *b_ce_with(const h_case *c, lam_tensor *const *in) {
    lam_cross_entropy_options o = {.ignore_index = c->i[0], .reduction = (lam_reduction)c->i[1], .label_smoothing = c->f[0]};
    return lam_cross_entropy_with(in[0], in[1], &o);
}
static lam_tensor *b_mse(const h_case *c, lam_tensor *const *in) { (void)c; return lam_mse_loss(in[0], in[1]); }
static lam_tensor *b_where(const h_case *c, lam_tensor *const *in) { (void)c; return lam_where(in[0], in[1], in[2]); }
static lam_tensor *b_fill(const h_case *c, lam_tensor *const *in) { return lam_masked_fill(in[0], in[1], c->f[0]); }

#define F16 2e-3
#define MM(nda, sha, la, ndb, shb, lb, g, fl) \
    {"lam_matmul", #la " " #lb, 2, {H_IN(nda, sha, la, -1, 1), H_IN(ndb, shb, lb, -1, 1)}, b_matmul, ref_matmul, \
     .tol = 1e-5, .tol_f16 = F16, .grad = g, .flops = fl}
#define LABELS(n, classes, dt) {.ndim = 1, .shape = {n}, .lo = 0, .hi = classes, .dtype = dt}
#define MASK(nd, sh) {.ndim = nd, .shape = H_SH sh, .lo = 0, .hi = 2, .q = 1, .constant = true}

static const h_case cases[] = {
    MM(2, (3, 4), H_CONTIG, 2, (4, 5), H_CONTIG, true, 120), MM(2, (3, 4), H_TRANSPOSED, 2, (4, 5), H_TRANSPOSED, true, 120),
    MM(2, (3, 4), H_SLICED, 2, (4, 5), H_CONTIG, false, 120), MM(1, (4), H_CONTIG, 2, (4, 5), H_CONTIG, true, 40),
    MM(2, (3, 4), H_CONTIG, 1, (4), H_SLICED, false, 24), MM(1, (4), H_CONTIG, 1, (4), H_CONTIG, false, 8),
    MM(4, (2, 1, 3, 4), H_CONTIG, 3, (5, 4, 6), H_CONTIG, false, 1440), MM(3, (2, 3, 4), H_TRANSPOSED, 2, (4, 5), H_CONTIG, true, 240),
    MM(2, (3, 4), H_CONTIG, 3, (2, 4, 5), H_TRANSPOSED, false, 240), MM(3, (2, 3, 4), H_EXPANDED, 3, (2, 4, 5), H_SLICED, false, 240),
    MM(2, (70, 130), H_CONTIG, 2, (130, 50), H_CONTIG, false, 910000), MM(2, (33, 65), H_TRANSPOSED, 2, (65, 17), H_TRANSPOSED, false, 72930),
    MM(3, (3, 67, 70), H_CONTIG, 3, (3, 70, 65), H_TRANSPOSED, false, 1828950),   /* the indirect batched kernel */
    MM(2, (128, 784), H_CONTIG, 2, (784, 256), H_CONTIG, false, 51380224),
    {"lam_matmul", "both operands transposed, gradient", 2, {H_IN(2, (4, 3), H_CONTIG, -1, 1), H_IN(2, (5, 4), H_CONTIG, -1, 1)},
     b_matmul_tt, .tol = 1e-5, .grad = true},
    {"lam_matmul", "a weight used twice, gradient", 2, {H_IN(2, (3, 3), H_CONTIG, -1, 1), H_IN(2, (3, 2), H_CONTIG, -1, 1)},
     b_shared, .tol = 1e-5, .grad = true},
    {"lam_cross_entropy", "i64 labels", 2, {H_IN(2, (8, 10), H_CONTIG, -4, 4), LABELS(8, 10, LAM_I64)}, b_ce,
     ref_cross_entropy, .tol_f16 = F16, .grad = true},
    {"lam_cross_entropy", "i32 labels, transposed logits", 2, {H_IN(2, (8, 10), H_TRANSPOSED, -4, 4), LABELS(8, 10, LAM_I32)},
     b_ce, ref_cross_entropy, .tol_f16 = F16},
    {"lam_cross_entropy_with", "(N, C, d1, d2), ignore_index 2, mean", 2,
     {H_IN(4, (2, 5, 3, 4), H_CONTIG, -4, 4), {.ndim = 3, .shape = {2, 3, 4}, .lo = 0, .hi = 5, .dtype = LAM_I64}},
     b_ce_with, ref_cross_entropy_with, .i = {2, LAM_REDUCTION_MEAN}, .tol = 1e-5, .tol_f16 = F16, .grad = true},
    {"lam_cross_entropy_with", "label smoothing 0.1, sum, transposed", 2, {H_IN(2, (7, 6), H_TRANSPOSED, -4, 4), LABELS(7, 6, LAM_I32)},
     b_ce_with, ref_cross_entropy_with, .i = {-100, LAM_REDUCTION_SUM}, .f = {0.1f}, .tol = 1e-5, .tol_f16 = F16, .grad = true},
    {"lam_cross_entropy_with", "(N, C, d), ignore_index 0, none", 2,
     {H_IN(3, (3, 4, 5), H_SLICED, -4, 4), {.ndim = 2, .shape = {3, 5}, .lo = 0, .hi = 4, .dtype = LAM_I64}},
     b_ce_with, ref_cross_entropy_with, .i = {0, LAM_REDUCTION_NONE}, .tol = 1e-5, .grad = true},
    {"lam_mse_loss", "sliced target", 2, {H_IN(2, (6, 7), H_CONTIG, -3, 3), H_IN(2, (6, 7), H_SLICED, -3, 3)}, b_mse, ref_mse,
     .tol_f16 = F16, .grad = true},
    {"lam_mse_loss", "vectors", 2, {H_IN(1, (50), H_CONTIG, -3, 3), H_IN(1, (50), H_CONTIG, -3, 3)}, b_mse, ref_mse,
     .tol_f16 = F16},
    {"lam_where", "broadcast", 3, {MASK(2, (4, 1)), H_IN(2, (4, 5), H_CONTIG, -3, 3), H_IN(1, (5), H_CONTIG, -3, 3)}, b_where,
     ref_select, .tol_f16 = F16, .grad = true},
    {"lam_where", "transposed and sliced", 3, {MASK(2, (3, 4)), H_IN(2, (3, 4), H_TRANSPOSED, -3, 3), H_IN(2, (3, 4), H_SLICED, -3, 3)},
     b_where, ref_select, .tol_f16 = F16},
    {"lam_masked_fill", "with -1e9, broadcast mask", 2, {H_IN(2, (4, 5), H_CONTIG, -3, 3), MASK(1, (5))}, b_fill, ref_select,
     .f = {-1e9f}},
    {"lam_masked_fill", "gradient", 2, {H_IN(2, (4, 5), H_CONTIG, -3, 3), MASK(2, (4, 5))}, b_fill, ref_select, .f = {-5.0f},
     .tol_f16 = F16, .grad = true},
    {"lam_masked_fill", "i64 mask", 2, {H_IN(2, (4, 5), H_TRANSPOSED, -3, 3), {.ndim = 2, .shape = {4, 5}, .lo = 0, .hi = 2, .dtype = LAM_I64}},
     b_fill, ref_select, .f = {2.5f}, .tol_f16 = F16},
};

const h_family h_family_linalg = {"linalg", cases, (int)(sizeof cases / sizeof *cases)};
