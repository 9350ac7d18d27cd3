/* Views: new shapes over the same storage (reshape, transpose, permute, slice, expand). */
#include <string.h>

#include "ops/ops_impl.h"

/* Views that only regroup elements: the gradient is g regrouped to the input's shape. */
static lam_status regroup_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    gin[0] = lam_reshape(g, n->in[0]->ndim, n->in[0]->shape);
    return gin[0] ? LAM_OK : lam_last_status();
}

static lam_tensor *record_view(lam_tensor *y, lam_tensor *x, const char *op, lam_backward_fn bw) {
    return lam_recorded(y, op, bw, 1, &x, NULL);
}

lam_tensor *lam_reshape(lam_tensor *x, int ndim, const int64_t *shape) {
    LAM_CHECK_ARG("lam_reshape", x);
    if (ndim < 0 || ndim > LAM_MAX_DIMS || (ndim && !shape))
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "lam_reshape: %d dimensions (at most %d)", ndim, LAM_MAX_DIMS);
    int64_t s[LAM_MAX_DIMS], known = 1, numel = lam_numel(x);
    int infer = -1;
    for (int i = 0; i < ndim; ++i) {
        s[i] = shape[i];
        if (s[i] == -1 && infer < 0) infer = i;
        else if (s[i] < 0) infer = -2;
        else known *= s[i];
    }
    if (infer >= 0 && known > 0 && numel % known == 0) s[infer] = numel / known;
    if (infer == -2 || (infer >= 0 && (known == 0 || numel % known)) || lam_shape_numel(ndim, s) != numel) {
        char a[96], b[96];
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "lam_reshape: cannot view %s (%lld elements) as %s", lam_shape_str(x, a, sizeof a),
                      (long long)numel, lam_format_shape(ndim, shape, b, sizeof b));
    }
    lam_tensor *src = lam_is_contiguous(x) ? x : lam_tensor_copy(x, x->dtype);   /* copy only if it must */
    if (!src) return NULL;
    int64_t stride[LAM_MAX_DIMS];
    lam_contiguous_strides(ndim, s, stride);
    lam_tensor *y = lam_tensor_view(src, ndim, s, stride, src->offset);
    if (src != x) lam_release(lam_keep(src));   /* the view holds the copy's storage */
    return record_view(y, x, "lam_reshape", regroup_backward);
}

lam_tensor *lam_unsqueeze(lam_tensor *x, int dim) {
    LAM_CHECK_ARG("lam_unsqueeze", x);
    int d = lam_wrap_dim("lam_unsqueeze", dim, x->ndim + 1);
    if (d < 0) return NULL;
    if (x->ndim == LAM_MAX_DIMS) LAM_FAIL_NULL(LAM_ERR_SHAPE, "lam_unsqueeze: already %d dimensions", LAM_MAX_DIMS);
    int64_t shape[LAM_MAX_DIMS], stride[LAM_MAX_DIMS];
    for (int i = 0, j = 0; i <= x->ndim; ++i) {
        if (i == d) {
            shape[i] = 1;
            stride[i] = j < x->ndim ? x->stride[j] * x->shape[j] : 1;
        } else {
            shape[i] = x->shape[j];
            stride[i] = x->stride[j++];
        }
    }
    return record_view(lam_tensor_view(x, x->ndim + 1, shape, stride, x->offset), x, "lam_unsqueeze", regroup_backward);
}

lam_tensor *lam_squeeze(lam_tensor *x, int dim) {
    LAM_CHECK_ARG("lam_squeeze", x);
    int d = lam_wrap_dim("lam_squeeze", dim, x->ndim);
    if (d < 0) return NULL;
    if (x->shape[d] != 1) {
        char a[96];
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "lam_squeeze: dimension %d of %s is not 1", dim, lam_shape_str(x, a, sizeof a));
    }
    int64_t shape[LAM_MAX_DIMS], stride[LAM_MAX_DIMS];
    for (int i = 0, j = 0; i < x->ndim; ++i)
        if (i != d) {
            shape[j] = x->shape[i];
            stride[j++] = x->stride[i];
        }
    return record_view(lam_tensor_view(x, x->ndim - 1, shape, stride, x->offset), x, "lam_squeeze", regroup_backward);
}

lam_tensor *lam_flatten(lam_tensor *x, int start_dim, int end_dim) {
    LAM_CHECK_ARG("lam_flatten", x);
    if (x->ndim == 0) return lam_reshape(x, 1, (const int64_t[]){1});
    int s = lam_wrap_dim("lam_flatten", start_dim, x->ndim), e = lam_wrap_dim("lam_flatten", end_dim, x->ndim);
    if (s < 0 || e < 0) return NULL;
    if (s > e) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_flatten: start_dim %d after end_dim %d", start_dim, end_dim);
    int64_t shape[LAM_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < x->ndim; ++i) {
        if (i > s && i <= e) shape[nd - 1] *= x->shape[i];
        else shape[nd++] = x->shape[i];
    }
    return lam_reshape(x, nd, shape);
}

/* --- reorderings ------------------------------------------------------------------------- */

static lam_status permute_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    int inverse[LAM_MAX_DIMS];
    for (int i = 0; i < n->in[0]->ndim; ++i) inverse[n->arg[i]] = i;
    gin[0] = lam_permute(g, inverse);
    return gin[0] ? LAM_OK : lam_last_status();
}

lam_tensor *lam_permute(lam_tensor *x, const int *order) {
    LAM_CHECK_ARG("lam_permute", x);
    if (x->ndim && !order) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_permute: order is NULL");
    int64_t shape[LAM_MAX_DIMS], stride[LAM_MAX_DIMS];
    bool seen[LAM_MAX_DIMS] = {false};
    for (int i = 0; i < x->ndim; ++i) {
        int d = order[i];
        if (d < 0 || d >= x->ndim || seen[d])
            LAM_FAIL_NULL(LAM_ERR_ARG, "lam_permute: order is not a permutation of %d dimensions", x->ndim);
        seen[d] = true;
        shape[i] = x->shape[d];
        stride[i] = x->stride[d];
    }
    lam_node *n;
    lam_tensor *y = lam_recorded(lam_tensor_view(x, x->ndim, shape, stride, x->offset), "lam_permute",
                                 permute_backward, 1, &x, &n);
    for (int i = 0; n && i < x->ndim; ++i) n->arg[i] = order[i];
    return y;
}

lam_tensor *lam_transpose(lam_tensor *x, int d0, int d1) {
    LAM_CHECK_ARG("lam_transpose", x);
    int a = lam_wrap_dim("lam_transpose", d0, x->ndim), b = lam_wrap_dim("lam_transpose", d1, x->ndim);
    if (a < 0 || b < 0) return NULL;
    int order[LAM_MAX_DIMS];
    for (int i = 0; i < x->ndim; ++i) order[i] = i == a ? b : i == b ? a : i;
    return lam_permute(x, order);
}

/* --- slices and broadcasts ---------------------------------------------------------------- */

/* The gradient of a slice is g scattered into zeros shaped like the input. */
static lam_status slice_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *x = n->in[0];
    lam_tensor *z = lam_zeros(x->ndim, x->shape, LAM_DEV(x));
    lam_tensor *window = z ? lam_slice(z, (int)n->arg[0], n->arg[1], n->arg[2], n->arg[3]) : NULL;
    if (!window || lam_copy_(window, g) != LAM_OK) return lam_last_status();
    gin[0] = z;
    return LAM_OK;
}

lam_tensor *lam_slice(lam_tensor *x, int dim, int64_t start, int64_t end, int64_t step) {
    LAM_CHECK_ARG("lam_slice", x);
    int d = lam_wrap_dim("lam_slice", dim, x->ndim);
    if (d < 0) return NULL;
    int64_t size = x->shape[d];
    if (start < 0) start += size;
    if (end < 0) end += size;
    if (end > size) end = size;
    if (step < 1 || start < 0 || start > size) {
        char a[96];
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_slice: start %lld, step %lld out of range for dimension %d of %s",
                      (long long)start, (long long)step, dim, lam_shape_str(x, a, sizeof a));
    }
    int64_t shape[LAM_MAX_DIMS], stride[LAM_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    memcpy(stride, x->stride, sizeof stride);
    shape[d] = end > start ? (end - start + step - 1) / step : 0;
    stride[d] = x->stride[d] * step;
    lam_node *n;
    lam_tensor *y = lam_recorded(lam_tensor_view(x, x->ndim, shape, stride, x->offset + start * x->stride[d]),
                                 "lam_slice", slice_backward, 1, &x, &n);
    if (n) {
        n->arg[0] = d;
        n->arg[1] = start;
        n->arg[2] = end;
        n->arg[3] = step;
    }
    return y;
}

static lam_status expand_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    gin[0] = lam_sum_to_shape(g, n->in[0]->ndim, n->in[0]->shape);
    return gin[0] ? LAM_OK : lam_last_status();
}

lam_tensor *lam_expand(lam_tensor *x, int ndim, const int64_t *shape) {
    LAM_CHECK_ARG("lam_expand", x);
    if (!lam_shape_valid("lam_expand", ndim, shape, x->dtype)) return NULL;
    bool ok = ndim >= x->ndim && ndim <= LAM_MAX_DIMS && (ndim == 0 || shape);
    for (int i = 0; ok && i < x->ndim; ++i) {
        int64_t have = x->shape[i], want = shape[ndim - x->ndim + i];
        ok = have == want || have == 1;
    }
    if (!ok) {
        char a[96], b[96];
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "lam_expand: cannot expand %s to %s", lam_shape_str(x, a, sizeof a),
                      lam_format_shape(ndim, shape, b, sizeof b));
    }
    lam_view v = lam_broadcast_view(x, ndim, shape);
    return record_view(lam_tensor_view(x, ndim, shape, v.stride, x->offset), x, "lam_expand", expand_backward);
}
