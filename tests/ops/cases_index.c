/* Joining, indexing and position tensors: cat, stack, index_select, embedding, arange,
 * tril, triu and the causal mask, against double references. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static double *alloc_out(int64_t n) { return malloc((size_t)(n ? n : 1) * sizeof(double)); }

/* cat of the n_in inputs along dim i[0] (stack: i[1] set, along a new dim i[0]). */
static bool ref_cat(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    bool stack = c->i[1] != 0;
    const h_input *a = &c->in[0];
    int d = (int)c->i[0], rank = a->ndim + stack;
    if (d < 0) d += rank;
    int64_t outer = 1, inner = 1, len = 0;
    for (int k = 0; k < rank; ++k) {
        int64_t s = stack ? (k < d ? a->shape[k] : k > d ? a->shape[k - 1] : 1) : a->shape[k];
        if (k < d) outer *= s;
        if (k > d) inner *= s;
        shape[k] = s;
    }
    for (int i = 0; i < c->n_in; ++i) len += stack ? 1 : c->in[i].shape[d];
    shape[d] = len;
    *nd = rank;
    *out = alloc_out(outer * len * inner);
    for (int64_t o = 0, at = 0; o < outer; ++o)
        for (int i = 0; i < c->n_in; ++i) {
            int64_t li = stack ? 1 : c->in[i].shape[d];
            memcpy(*out + at, x[i] + o * li * inner, (size_t)(li * inner) * sizeof(double));
            at += li * inner;
        }
    return true;
}

/* index_select(x, i[0], index) (embedding: i[1] set, weight and ids swapped). */
static bool ref_index(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    bool emb = c->i[1] != 0;
    const h_input *xs = &c->in[emb ? 0 : 0], *is = &c->in[1];
    int d = emb ? 0 : (int)c->i[0];
    int64_t outer = 1, inner = 1, len = xs->shape[d], n = h_numel(is->ndim, is->shape);
    for (int k = 0; k < xs->ndim; ++k) {
        if (k < d) outer *= xs->shape[k];
        if (k > d) inner *= xs->shape[k];
    }
    if (emb) {
        *nd = is->ndim + 1;
        memcpy(shape, is->shape, (size_t)is->ndim * sizeof *shape);
        shape[is->ndim] = xs->shape[1];
    } else {
        *nd = xs->ndim;
        memcpy(shape, xs->shape, sizeof xs->shape);
        shape[d] = n;
    }
    *out = alloc_out(outer * n * inner);
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < n; ++j)
            memcpy(*out + (o * n + j) * inner, x[0] + (o * len + (int64_t)x[1][j]) * inner, (size_t)inner * sizeof(double));
    return true;
}

/* arange(f[0], f[1], f[2]) */
static bool ref_arange(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    (void)x;
    int64_t n = (int64_t)ceil((c->f[1] - c->f[0]) / c->f[2]);
    *nd = 1;
    shape[0] = n;
    *out = alloc_out(n);
    for (int64_t k = 0; k < n; ++k) {
        double v = c->f[0] + (double)k * c->f[2];
        (*out)[k] = c->i[0] ? trunc(v) : (double)(float)v;
    }
    return true;
}

/* tril (i[1] = 0) or triu (i[1] = 1) with diagonal i[0]; the causal mask's exp (i[1] = 2). */
static bool ref_triangle(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *a = &c->in[0];
    bool mask = c->i[1] == 2;
    int64_t rows = mask ? c->i[2] : a->shape[a->ndim - 2], cols = mask ? c->i[3] : a->shape[a->ndim - 1];
    *nd = mask ? 2 : a->ndim;
    if (mask) shape[0] = rows, shape[1] = cols;
    else memcpy(shape, a->shape, sizeof a->shape);
    int64_t n = h_numel(*nd, shape);
    *out = alloc_out(n);
    for (int64_t k = 0; k < n; ++k) {
        int64_t col = k % cols, row = k / cols % rows, dcol = col - row;
        if (mask) (*out)[k] = dcol > 0 ? 0.0 : 1.0;
        else (*out)[k] = (c->i[1] == 0 ? dcol <= c->i[0] : dcol >= c->i[0]) ? x[0][k] : 0.0;
    }
    return true;
}

static lam_tensor *b_cat(const h_case *c, lam_tensor *const *in) { return lam_cat(c->n_in, in, (int)c->i[0]); }
static lam_tensor *b_stack(const h_case *c, lam_tensor *const *in) { return lam_stack(c->n_in, in, (int)c->i[0]); }
static lam_tensor *b_index_select(const h_case *c, lam_tensor *const *in) { return lam_index_select(in[0], (int)c->i[0], in[1]); }
static lam_tensor *b_embedding(const h_case *c, lam_tensor *const *in) { (void)c; return lam_embedding(in[1], in[0]); }
static lam_tensor *b_arange(const h_case *c, lam_tensor *const *in) {
    return lam_arange(c->f[0], c->f[1], c->f[2], c->i[0] ? LAM_I64 : LAM_F32, lam_tensor_device(in[0]));
}
static lam_tensor *b_tril(const h_case *c, lam_tensor *const *in) { return lam_tril(in[0], c->i[0]); }
static lam_tensor *b_triu(const h_case *c, lam_tensor *const *in) { return lam_triu(in[0], c->i[0]); }
static lam_tensor *b_causal(const h_case *c, lam_tensor *const *in) {   /* exp: 1 kept, 0 blocked (-inf) */
    return lam_exp(lam_causal_mask(c->i[2], c->i[3], lam_tensor_device(in[0])));
}

#define F16 2e-3
#define IDX(nd, sh, hi_, dt) {.ndim = nd, .shape = H_SH sh, .lo = 0, .hi = hi_, .dtype = dt}
#define DUMMY {.ndim = 1, .shape = {1}, .lo = 0, .hi = 1, .constant = true}

static const h_case cases[] = {
    {"lam_cat", "three along dim 1", 3, {H_IN(3, (2, 3, 4), H_CONTIG, -1, 1), H_IN(3, (2, 1, 4), H_SLICED, -1, 1), H_IN(3, (2, 5, 4), H_TRANSPOSED, -1, 1)},
     b_cat, ref_cat, .i = {1}, .tol_f16 = F16, .grad = true},
    {"lam_cat", "two along the last dim", 2, {H_IN(2, (3, 2), H_CONTIG, -1, 1), H_IN(2, (3, 4), H_EXPANDED, -1, 1)}, b_cat,
     ref_cat, .i = {-1}, .tol_f16 = F16, .grad = true},
    {"lam_cat", "i64 along dim 0", 2, {IDX(2, (2, 3), 9, LAM_I64), IDX(2, (1, 3), 9, LAM_I64)}, b_cat, ref_cat, .i = {0}},
    {"lam_stack", "three along a new dim 1", 3, {H_IN(2, (3, 4), H_CONTIG, -1, 1), H_IN(2, (3, 4), H_TRANSPOSED, -1, 1), H_IN(2, (3, 4), H_SLICED, -1, 1)},
     b_stack, ref_cat, .i = {1, 1}, .tol_f16 = F16, .grad = true},
    {"lam_stack", "two along a new last dim", 2, {H_IN(1, (5), H_CONTIG, -1, 1), H_IN(1, (5), H_CONTIG, -1, 1)}, b_stack,
     ref_cat, .i = {-1, 1}, .grad = true},
    {"lam_index_select", "dim 1, repeats", 2, {H_IN(3, (5, 3, 4), H_CONTIG, -1, 1), IDX(1, (7), 3, LAM_I64)},
     b_index_select, ref_index, .i = {1}, .tol_f16 = F16, .grad = true},
    {"lam_index_select", "dim 0, i32, transposed", 2, {H_IN(2, (9, 6), H_TRANSPOSED, -1, 1), IDX(1, (4), 9, LAM_I32)},
     b_index_select, ref_index, .i = {0}, .tol_f16 = F16, .grad = true},
    {"lam_embedding", "(2, 7) ids", 2, {H_IN(2, (11, 8), H_CONTIG, -1, 1), IDX(2, (2, 7), 11, LAM_I64)}, b_embedding,
     ref_index, .i = {0, 1}, .tol_f16 = F16, .grad = true},
    {"lam_embedding", "many ids, few rows (the summed gradient)", 2, {H_IN(2, (3, 5), H_SLICED, -1, 1), IDX(1, (40), 3, LAM_I32)},
     b_embedding, ref_index, .i = {0, 1}, .grad = true},
    {"lam_arange", "f32 0.5 to 7 by 1.5", 1, {DUMMY}, b_arange, ref_arange, .f = {0.5f, 7.0f, 1.5f}},
    {"lam_arange", "i64 10 down to -3 by -4", 1, {DUMMY}, b_arange, ref_arange, .i = {1}, .f = {10.0f, -3.0f, -4.0f}},
    {"lam_tril", "diagonal 1", 1, {H_IN(3, (2, 5, 7), H_TRANSPOSED, -1, 1)}, b_tril, ref_triangle, .i = {1, 0},
     .tol_f16 = F16, .grad = true},
    {"lam_tril", "diagonal -2", 1, {H_IN(2, (6, 4), H_CONTIG, -1, 1)}, b_tril, ref_triangle, .i = {-2, 0}, .grad = true},
    {"lam_triu", "diagonal -2", 1, {H_IN(3, (2, 5, 7), H_SLICED, -1, 1)}, b_triu, ref_triangle, .i = {-2, 1},
     .tol_f16 = F16, .grad = true},
    {"lam_causal_mask", "(5, 7), exp", 1, {DUMMY}, b_causal, ref_triangle, .i = {0, 2, 5, 7}},
    {"lam_causal_mask", "(13, 13), exp", 1, {DUMMY}, b_causal, ref_triangle, .i = {0, 2, 13, 13}},
};

const h_family h_family_index = {"index", cases, (int)(sizeof cases / sizeof *cases)};
