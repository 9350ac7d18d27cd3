/* Picking rows by index: index_select along any dimension and the embedding lookup built
 * on it. The backward sums the gradient rows that picked the same row, deterministically:
 * each element of the input's gradient scans the index (cl/index.cl), no float atomics.
 * Indices out of range are an error (lam_check_indices: no host wait; ids computed on an
 * OpenCL device are reported by the next blocking read), and the kernels read nothing for
 * them meanwhile. */
#include "ops/check.h"
#include "ops/ops_impl.h"

/* x seen as (outer, len, inner) around dim d. */
static void split_at(const lam_tensor *x, int d, int64_t *outer, int64_t *len, int64_t *inner) {
    *outer = *inner = 1;
    for (int i = 0; i < x->ndim; ++i)
        if (i < d) *outer *= x->shape[i];
        else if (i > d) *inner *= x->shape[i];
    *len = x->shape[d];
}

/* idx as contiguous i64 (a copy if it is not already). */
static lam_tensor *as_long_index(const char *op, lam_tensor *idx) {
    if (idx->dtype != LAM_I64 && idx->dtype != LAM_I32)
        LAM_FAIL_NULL(LAM_ERR_ARG, "%s: the index must be i32 or i64, not %s", op, lam_dtype_name(idx->dtype));
    return idx->dtype == LAM_I64 && lam_is_contiguous(idx) ? idx : lam_tensor_copy(idx, LAM_I64);
}

/* gx = index_add(g): arg 0: dim; saved: the i64 index. */
static lam_status index_select_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *x = n->in[0], *idx = n->saved;
    int64_t outer, len, inner;
    split_at(x, (int)n->arg[0], &outer, &len, &inner);
    lam_tensor *gc = lam_tensor_copy(g, LAM_F32);   /* contiguous f32 */
    lam_tensor *gx = gc ? lam_tensor_alloc(LAM_F32, x->ndim, x->shape, LAM_DEV(x)) : NULL;
    if (!gx) return lam_last_status();
    lam_kernel_args args = {.work = outer * len * inner, .v = {lam_view_of(gx), lam_view_of(gc), lam_view_of(idx)},
                            .i = {len, inner, lam_numel(idx)}};
    lam_status st = lam_run_kernel(n->op, LAM_DEV(x), LAM_K_INDEX_ADD, &args);
    if (st == LAM_OK && !(gin[0] = lam_as_dtype(gx, x->dtype))) st = lam_last_status();
    return st;
}

static lam_tensor *index_select_forward(const char *op, lam_tensor *x, int d, lam_tensor *idx) {
    int64_t outer, len, inner, shape[LAM_MAX_DIMS];
    split_at(x, d, &outer, &len, &inner);
    for (int i = 0; i < x->ndim; ++i) shape[i] = i == d ? lam_numel(idx) : x->shape[i];
    lam_tensor *xc = lam_is_contiguous(x) ? x : lam_tensor_copy(x, x->dtype);
    lam_tensor *out = xc ? lam_tensor_alloc(x->dtype, x->ndim, shape, LAM_DEV(x)) : NULL;
    if (!out) return NULL;
    lam_kernel_args args = {.work = outer * lam_numel(idx) * inner,
                            .v = {lam_view_of(out), lam_view_of(xc), lam_view_of(idx)},
                            .i = {len, inner, lam_numel(idx)}};
    return lam_run_kernel(op, LAM_DEV(x), LAM_K_INDEX_SELECT, &args) == LAM_OK ? out : NULL;
}

static lam_tensor *index_select(const char *op, lam_tensor *x, int dim, lam_tensor *index) {
    LAM_CHECK_ARG(op, x);
    LAM_CHECK_ARG(op, index);
    if (!lam_require_float(op, x) || !lam_same_device(op, x, index)) return NULL;
    int d = lam_wrap_dim(op, dim, x->ndim);
    if (d < 0) return NULL;
    if (index->ndim > 1) {
        char s[96];
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "%s: the index must be 0-D or 1-D, got %s", op, lam_shape_str(index, s, sizeof s));
    }
    if (lam_check_indices(op, index, 0, x->shape[d]) != LAM_OK) return NULL;   /* no host wait */
    lam_tensor *idx = as_long_index(op, index);
    if (!idx) return NULL;
    lam_tensor *dt_x = lam_dtype_is_float(x->dtype) && x->dtype != LAM_F32 ? lam_tensor_copy(x, LAM_F32) : x;
    lam_tensor *y = dt_x ? index_select_forward(op, dt_x, d, idx) : NULL;
    if (y && x->dtype != LAM_F32) y = lam_tensor_copy(y, x->dtype);   /* f16 storage, f32 kernels */
    lam_node *n;
    if (!lam_recorded(y, op, index_select_backward, 1, &x, &n)) return NULL;
    if (n) {
        n->arg[0] = d;
        n->saved = lam_retain(idx);
    }
    return index->ndim == 0 && y ? lam_squeeze(y, d) : y;
}

lam_tensor *lam_index_select(lam_tensor *x, int dim, lam_tensor *index) {
    return index_select("lam_index_select", x, dim, index);
}

lam_tensor *lam_embedding(lam_tensor *ids, lam_tensor *weight) {
    const char *op = "lam_embedding";
    LAM_CHECK_ARG(op, ids);
    LAM_CHECK_ARG(op, weight);
    char a[96], b[96];
    if (weight->ndim != 2)
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "%s: weight must be (num_embeddings, embedding_dim), got %s", op,
                      lam_shape_str(weight, a, sizeof a));
    if (ids->dtype != LAM_I64 && ids->dtype != LAM_I32)
        LAM_FAIL_NULL(LAM_ERR_ARG, "%s: ids must be i32 or i64, not %s %s", op, lam_dtype_name(ids->dtype),
                      lam_shape_str(ids, b, sizeof b));
    if (ids->ndim >= LAM_MAX_DIMS)
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "%s: ids %s leave no room for the embedding dimension", op, lam_shape_str(ids, b, sizeof b));
    int64_t shape[LAM_MAX_DIMS];
    for (int i = 0; i < ids->ndim; ++i) shape[i] = ids->shape[i];
    shape[ids->ndim] = weight->shape[1];
    lam_tensor *rows = index_select(op, weight, 0, lam_reshape(ids, 1, (const int64_t[]){-1}));
    return rows ? lam_reshape(rows, ids->ndim + 1, shape) : NULL;
}
