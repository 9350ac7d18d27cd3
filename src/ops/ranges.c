/* Tensors of positions: arange, and the triangles built from it (tril, triu, the causal
 * mask of attention), composed of comparisons and masked_fill so they run on every device
 * and their gradients come from those ops. */
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "ops/ops_impl.h"

/* Writes start + i * step as dt into buf (f16 is made as f32 and converted after). */
static void fill_range(void *buf, lam_dtype dt, int64_t count, double start, double step) {
    for (int64_t i = 0; i < count; ++i) {
        double v = start + (double)i * step;
        if (dt == LAM_I64) ((int64_t *)buf)[i] = (int64_t)v;
        else if (dt == LAM_I32) ((int32_t *)buf)[i] = (int32_t)v;
        else ((float *)buf)[i] = (float)v;
    }
}

lam_tensor *lam_arange(double start, double end, double step, lam_dtype dt, lam_device *dev) {
    if (!isfinite(start) || !isfinite(end) || !isfinite(step) || step == 0.0 || (end - start) * step < 0.0)
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_arange: no range from %g to %g in steps of %g", start, end, step);
    if ((unsigned)dt >= LAM_DTYPE_COUNT) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_arange: unknown dtype %d", (int)dt);
    double n = ceil((end - start) / step);
    if (n > 9.0e15) LAM_FAIL_NULL(LAM_ERR_SHAPE, "lam_arange: %g elements is too many", n);
    int64_t count = (int64_t)n;
    lam_dtype made = dt == LAM_F16 ? LAM_F32 : dt;
    if (!lam_shape_valid("lam_arange", 1, &count, made)) return NULL;
    if (dt == LAM_I32 && (fabs(start) > 2147483647.0 || fabs(start + (n - 1) * step) > 2147483647.0))
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_arange: values from %g to %g do not fit i32", start, end);
    void *buf = malloc((size_t)(count ? count : 1) * lam_dtype_size(made));
    if (!buf) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_arange: out of host memory for %lld elements", (long long)count);
    fill_range(buf, made, count, start, step);
    lam_tensor *t = lam_from_data(buf, made, 1, &count, dev);
    free(buf);
    return t && dt == LAM_F16 ? lam_tensor_copy(t, LAM_F16) : t;
}

/* (rows, cols) f32: 1 where col - row > diagonal (above it), else 0; on dev, no history. */
static lam_tensor *above_diagonal(int64_t rows, int64_t cols, int64_t diagonal, lam_device *dev) {
    bool grad = lam_grad_enabled(false);
    lam_tensor *r = lam_reshape(lam_arange(0, (double)rows, 1, LAM_F32, dev), 2, (const int64_t[]){rows, 1});
    lam_tensor *c = lam_reshape(lam_arange(0, (double)cols, 1, LAM_F32, dev), 2, (const int64_t[]){1, cols});
    lam_tensor *above = lam_gt_scalar(lam_sub(c, r), (float)diagonal);
    lam_grad_enabled(grad);
    return above;
}

/* x with the elements on one side of the diagonal (of its last two dims) set to 0. */
static lam_tensor *triangle(const char *op, lam_tensor *x, int64_t diagonal, bool lower) {
    LAM_CHECK_ARG(op, x);
    if (x->ndim < 2) {
        char s[96];
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "%s: needs at least 2 dimensions, got %s", op, lam_shape_str(x, s, sizeof s));
    }
    int64_t rows = x->shape[x->ndim - 2], cols = x->shape[x->ndim - 1];
    if (rows == 0 || cols == 0) return lam_clone(x);
    lam_scope_begin();   /* the mask's temporaries die here (a scope must not hold recorded ops) */
    /* triu keeps col - row >= diagonal: it zeroes where col - row > diagonal - 1 fails */
    lam_tensor *above = above_diagonal(rows, cols, lower ? diagonal : diagonal - 1, LAM_DEV(x));
    lam_tensor *zeroed = lam_scope_end_keep(lower ? above : lam_eq_scalar(above, 0.0f));
    return lam_masked_fill(x, zeroed, 0.0f);
}

lam_tensor *lam_tril(lam_tensor *x, int64_t diagonal) { return triangle("lam_tril", x, diagonal, true); }
lam_tensor *lam_triu(lam_tensor *x, int64_t diagonal) { return triangle("lam_triu", x, diagonal, false); }

lam_tensor *lam_causal_mask(int64_t queries, int64_t keys, lam_device *dev) {
    if (queries < 0 || keys < 0)
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_causal_mask: negative size (%lld, %lld)", (long long)queries, (long long)keys);
    lam_scope_begin();
    lam_tensor *zeros = lam_zeros(LAM_SHAPE(queries, keys), dev);
    lam_tensor *mask = zeros && queries && keys
                           ? lam_masked_fill(zeros, above_diagonal(queries, keys, 0, LAM_DEV(zeros)), -INFINITY)
                           : zeros;
    return lam_scope_end_keep(mask);
}
