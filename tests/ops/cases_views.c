/* Views and copies: reshape, transpose, permute, slice, unsqueeze, squeeze, flatten,
 * expand, detach, contiguous, clone, to (another device and back), to_dtype. Each is
 * checked for its values and, through gradcheck, for where its gradient goes. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test_util.h"

/* The same elements in another shape: i[0] the ndim (-1: the input's shape), i[1..] the shape. */
static bool ref_same(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *a = &c->in[0];
    *nd = c->i[0] < 0 ? a->ndim : (int)c->i[0];
    for (int k = 0; k < *nd; ++k) shape[k] = c->i[0] < 0 ? a->shape[k] : c->i[1 + k];
    int64_t n = h_numel(a->ndim, a->shape);
    *out = malloc((size_t)(n ? n : 1) * sizeof **out);
    memcpy(*out, x[0], (size_t)n * sizeof **out);
    return true;
}

/* out[j] = x[source of j], for a view described by an element map. */
static bool gather(const h_case *c, double *const *x, int nd, const int64_t *shape, const int64_t *src_stride,
                   int64_t src_offset, double **out) {
    (void)c;
    int64_t n = h_numel(nd, shape), co[LAM_MAX_DIMS];
    *out = malloc((size_t)(n ? n : 1) * sizeof **out);
    for (int64_t j = 0; j < n; ++j) {
        int64_t r = j, at = src_offset;
        for (int d = nd - 1; d >= 0; --d) {
            co[d] = r % shape[d];
            r /= shape[d];
            at += co[d] * src_stride[d];
        }
        (*out)[j] = x[0][at];
    }
    return true;
}

/* i[0..ndim) the order. */
static bool ref_permute(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *a = &c->in[0];
    int64_t st[LAM_MAX_DIMS], pst[LAM_MAX_DIMS];
    tu_strides(a->ndim, a->shape, st);
    *nd = a->ndim;
    for (int d = 0; d < a->ndim; ++d) {
        shape[d] = a->shape[c->i[d]];
        pst[d] = st[c->i[d]];
    }
    return gather(c, x, *nd, shape, pst, 0, out);
}

/* i[0] dim, i[1] start, i[2] end, i[3] step (start, end within the size). */
static bool ref_slice(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *a = &c->in[0];
    int64_t st[LAM_MAX_DIMS], d = c->i[0];
    tu_strides(a->ndim, a->shape, st);
    *nd = a->ndim;
    memcpy(shape, a->shape, sizeof a->shape);
    shape[d] = (c->i[2] - c->i[1] + c->i[3] - 1) / c->i[3];
    int64_t offset = c->i[1] * st[d];
    st[d] *= c->i[3];
    return gather(c, x, *nd, shape, st, offset, out);
}

/* i[0] ndim, i[1..] the expanded shape. */
static bool ref_expand(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *a = &c->in[0];
    *nd = (int)c->i[0];
    for (int k = 0; k < *nd; ++k) shape[k] = c->i[1 + k];
    int64_t n = h_numel(*nd, shape);
    *out = malloc((size_t)(n ? n : 1) * sizeof **out);
    for (int64_t j = 0; j < n; ++j) (*out)[j] = x[0][tu_bcast_index(j, *nd, shape, a->ndim, a->shape)];
    return true;
}

static lam_tensor *b_reshape(const h_case *c, lam_tensor *const *in) { return lam_reshape(in[0], (int)c->i[0], c->i + 1); }
static lam_tensor *b_transpose(const h_case *c, lam_tensor *const *in) {
    return lam_transpose(in[0], (int)c->f[0], (int)c->f[1]);
}
static lam_tensor *b_permute(const h_case *c, lam_tensor *const *in) {
    int order[LAM_MAX_DIMS];
    for (int d = 0; d < lam_ndim(in[0]); ++d) order[d] = (int)c->i[d];
    return lam_permute(in[0], order);
}
static lam_tensor *b_slice(const h_case *c, lam_tensor *const *in) {
    return lam_slice(in[0], (int)c->i[0], c->i[1], c->i[2], c->i[3]);
}
static lam_tensor *b_unsqueeze(const h_case *c, lam_tensor *const *in) { return lam_unsqueeze(in[0], (int)c->f[0]); }
static lam_tensor *b_squeeze(const h_case *c, lam_tensor *const *in) { return lam_squeeze(in[0], (int)c->f[0]); }
static lam_tensor *b_flatten(const h_case *c, lam_tensor *const *in) {
    return lam_flatten(in[0], (int)c->f[0], (int)c->f[1]);
}
static lam_tensor *b_expand(const h_case *c, lam_tensor *const *in) { return lam_expand(in[0], (int)c->i[0], c->i + 1); }
static lam_tensor *b_detach(const h_case *c, lam_tensor *const *in) { (void)c; return lam_detach(in[0]); }
static lam_tensor *b_contiguous(const h_case *c, lam_tensor *const *in) { (void)c; return lam_contiguous(in[0]); }
static lam_tensor *b_clone(const h_case *c, lam_tensor *const *in) { (void)c; return lam_clone(in[0]); }
/* to the last device and back: values and the gradient cross twice */
static lam_tensor *b_to(const h_case *c, lam_tensor *const *in) {
    (void)c;
    lam_device *here = lam_tensor_device(in[0]), *there = lam_device_at(lam_device_count() - 1);
    return lam_to(lam_mul_scalar(lam_to(in[0], there), 1.0f), here);
}
static lam_tensor *b_to_dtype(const h_case *c, lam_tensor *const *in) {
    (void)c;
    return lam_to_dtype(lam_to_dtype(in[0], LAM_F16), lam_tensor_dtype(in[0]));
}

#define IN1(nd, sh, lay) {H_IN(nd, sh, lay, -3, 3)}
static const h_case cases[] = {
    {"lam_reshape", "(2, 3, 4) to (4, 6)", 1, IN1(3, (2, 3, 4), H_CONTIG), b_reshape, ref_same, .i = {2, 4, 6}, .tol_f16 = 1e-9,
     .grad = true},
    {"lam_reshape", "a transposed input (a copy)", 1, IN1(3, (2, 3, 4), H_TRANSPOSED), b_reshape, ref_same, .i = {3, 2, 2, 6},
     .tol_f16 = 1e-9, .grad = true},
    {"lam_transpose", "dims 0 and 2", 1, IN1(3, (2, 3, 4), H_CONTIG), b_transpose, ref_permute, .i = {2, 1, 0}, .f = {0, 2},
     .tol_f16 = 1e-9, .grad = true},
    {"lam_permute", "(2, 0, 1) of a sliced input", 1, IN1(3, (2, 3, 4), H_SLICED), b_permute, ref_permute, .i = {2, 0, 1},
     .tol_f16 = 1e-9, .grad = true},
    {"lam_slice", "dim 2, 1:10:2", 1, IN1(3, (2, 3, 4), H_CONTIG), b_slice, ref_slice, .i = {2, 1, 4, 2}, .tol_f16 = 1e-9,
     .grad = true},
    {"lam_slice", "dim 1 of a transposed input", 1, IN1(3, (2, 5, 3), H_TRANSPOSED), b_slice, ref_slice, .i = {1, 1, 4, 1},
     .tol_f16 = 1e-9, .grad = true},
    {"lam_unsqueeze", "dim -1", 1, IN1(2, (3, 4), H_CONTIG), b_unsqueeze, ref_same, .i = {3, 3, 4, 1}, .f = {-1},
     .tol_f16 = 1e-9, .grad = true},
    {"lam_squeeze", "dim 1", 1, IN1(3, (3, 1, 4), H_CONTIG), b_squeeze, ref_same, .i = {2, 3, 4}, .f = {1}, .tol_f16 = 1e-9,
     .grad = true},
    {"lam_flatten", "dims 0..1 of a transposed input", 1, IN1(3, (2, 3, 4), H_TRANSPOSED), b_flatten, ref_same,
     .i = {2, 6, 4}, .f = {0, 1}, .tol_f16 = 1e-9, .grad = true},
    {"lam_expand", "(3, 1) to (2, 3, 4)", 1, IN1(2, (3, 1), H_CONTIG), b_expand, ref_expand, .i = {3, 2, 3, 4},
     .tol_f16 = 1e-9, .grad = true},
    {"lam_detach", "", 1, IN1(2, (3, 4), H_TRANSPOSED), b_detach, ref_same, .i = {-1}, .tol_f16 = 1e-9},
    {"lam_contiguous", "of a sliced input", 1, IN1(2, (3, 4), H_SLICED), b_contiguous, ref_same, .i = {-1}, .tol_f16 = 1e-9,
     .grad = true},
    {"lam_clone", "of an expanded input", 1, IN1(3, (3, 2, 4), H_EXPANDED), b_clone, ref_same, .i = {-1}, .tol_f16 = 1e-9,
     .grad = true},
    {"lam_to", "to the last device and back", 1, IN1(2, (2, 3), H_TRANSPOSED), b_to, ref_same, .i = {-1}, .tol_f16 = 1e-9,
     .grad = true},
    {"lam_to_dtype", "through f16 and back", 1, IN1(2, (5, 7), H_SLICED), b_to_dtype, ref_same, .i = {-1}, .tol = 1e-3,
     .tol_f16 = 1e-9},
};

const h_family h_family_views = {"views", cases, (int)(sizeof cases / sizeof *cases)};
