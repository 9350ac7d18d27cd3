/* Losses, composed of fused ops so their gradients come for free on every device. */
#include <stdlib.h>

#include "ops/check.h"
#include "ops/ops_impl.h"

/* (1, C) row 0, 1, ..., C-1 on dev, to compare labels against. */
static lam_tensor *class_row(int64_t classes, lam_device *dev) {
    float *v = malloc((size_t)(classes ? classes : 1) * sizeof *v);
    if (!v) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_cross_entropy: out of host memory");
    for (int64_t i = 0; i < classes; ++i) v[i] = (float)i;
    lam_tensor *row = lam_from_data(v, LAM_F32, LAM_SHAPE(1, classes), dev);
    free(v);
    return row;
}

/* logits (..., C) as rows (M, C) and labels as (M,): PyTorch's (N, C, d1, ...) layout has
 * the classes in dim 1, moved last here; (C,) with a 0-D label is one row. */
static bool ce_rows(const char *op, lam_tensor *logits, lam_tensor *labels, lam_tensor **rows, lam_tensor **flat) {
    char a[96], b[96];
    bool fits = logits->ndim >= 1 && labels->ndim == (logits->ndim == 1 ? 0 : logits->ndim - 1) &&
                (labels->dtype == LAM_I32 || labels->dtype == LAM_I64);
    for (int i = 0; fits && i < labels->ndim; ++i) fits = labels->shape[i] == logits->shape[i == 0 ? 0 : i + 1];
    if (!fits) {
        lam_set_error(LAM_ERR_SHAPE, "%s: expected logits (N, C) or (N, C, d1, ...) and integer labels (N,) or (N, d1, ...), got %s and %s %s",
                      op, lam_shape_str(logits, a, sizeof a), lam_dtype_name(labels->dtype), lam_shape_str(labels, b, sizeof b));
        return false;
    }
    if (!lam_require_float(op, logits) || !lam_same_device(op, logits, labels)) return false;
    int64_t classes = logits->ndim == 1 ? logits->shape[0] : logits->shape[1];
    lam_tensor *moved = logits;
    if (logits->ndim > 2) {
        int order[LAM_MAX_DIMS];
        for (int i = 0; i < logits->ndim; ++i) order[i] = i == 0 ? 0 : i == logits->ndim - 1 ? 1 : i + 1;
        moved = lam_permute(logits, order);
    }
    *rows = lam_reshape(moved, 2, (const int64_t[]){-1, classes});
    *flat = lam_reshape(labels, 1, (const int64_t[]){-1});
    return *rows && *flat;
}

/* Labels must be classes in [0, C) or ignore_index (checked without a host wait). Labels the
 * host saw are checked at once when their range tells (every one a class, or an extreme that
 * is neither a class nor ignore_index); otherwise an ignore_index outside the classes is
 * replaced by class 0 for the check on the device. */
static bool labels_in_range(lam_tensor *labels, lam_tensor *lf, int64_t classes, int64_t ignore_index) {
    const char *op = "lam_cross_entropy";
    const lam_value_range *r = &labels->storage->values;
    bool whole = labels->offset == 0 && lam_is_contiguous(labels) &&
                 (size_t)lam_numel(labels) * lam_dtype_size(labels->dtype) == labels->storage->bytes;
    bool seen_bad = r->exact && whole && ((r->hi >= classes && r->hi != ignore_index) || (r->lo < 0 && r->lo != ignore_index));
    if ((ignore_index >= 0 && ignore_index < classes) || (r->known && r->lo >= 0 && r->hi < classes) || seen_bad)
        return lam_check_indices(op, labels, 0, classes) == LAM_OK;
    lam_tensor *kept = lam_to_dtype(lam_masked_fill(lf, lam_eq_scalar(lf, (float)ignore_index), 0.0f), LAM_I64);
    return kept && lam_check_indices(op, kept, 0, classes) == LAM_OK;
}

/* Per row: -log_softmax(x)[label], blended with the mean of -log_softmax(x) by the label
 * smoothing, and 0 where the label is ignore_index. *valid: 1 for the rows that count. */
static lam_tensor *ce_terms(lam_tensor *rows, lam_tensor *labels, const lam_cross_entropy_options *o, lam_tensor **valid) {
    bool grad = lam_grad_enabled(false);   /* the label masks have no history */
    lam_tensor *lf = lam_to_dtype(labels, LAM_F32);
    bool ok = lf && labels_in_range(labels, lf, rows->shape[1], o->ignore_index);
    lam_tensor *onehot = ok ? lam_eq(lam_unsqueeze(lf, 1), class_row(rows->shape[1], LAM_DEV(rows))) : NULL;
    *valid = onehot ? lam_ne_scalar(lf, (float)o->ignore_index) : NULL;
    lam_grad_enabled(grad);
    if (!*valid) return NULL;
    lam_tensor *lsm = lam_log_softmax(rows, -1);
    lam_tensor *nll = lam_neg(lam_sum_dim(lam_mul(lsm, onehot), -1, false));
    if (o->label_smoothing != 0.0f) {
        lam_tensor *smooth = lam_neg(lam_mean_dim(lsm, -1, false));
        nll = lam_add(lam_mul_scalar(nll, 1.0f - o->label_smoothing), lam_mul_scalar(smooth, o->label_smoothing));
    }
    return lam_mul(nll, *valid);
}

lam_tensor *lam_cross_entropy_with(lam_tensor *logits, lam_tensor *labels, const lam_cross_entropy_options *opt) {
    const char *op = "lam_cross_entropy";
    LAM_CHECK_ARG(op, logits);
    LAM_CHECK_ARG(op, labels);
    lam_cross_entropy_options o = opt ? *opt : LAM_CROSS_ENTROPY_DEFAULTS;
    if ((unsigned)o.reduction > LAM_REDUCTION_NONE || !(o.label_smoothing >= 0.0f && o.label_smoothing <= 1.0f))
        LAM_FAIL_NULL(LAM_ERR_ARG, "%s: reduction %d, label_smoothing %g (want mean, sum or none and [0, 1])", op,
                      (int)o.reduction, (double)o.label_smoothing);
    lam_tensor *rows, *flat, *valid;
    if (!ce_rows(op, logits, labels, &rows, &flat)) return NULL;
    lam_tensor *terms = ce_terms(rows, flat, &o, &valid);
    if (!terms) return NULL;
    switch (o.reduction) {
    case LAM_REDUCTION_NONE: return lam_reshape(terms, labels->ndim, labels->shape);
    case LAM_REDUCTION_SUM: return lam_sum(terms);
    default: return lam_div(lam_sum(terms), lam_sum(valid));   /* over the rows that count, as PyTorch */
    }
}

lam_tensor *lam_cross_entropy(lam_tensor *logits, lam_tensor *labels) {
    return lam_cross_entropy_with(logits, labels, NULL);
}

/* mean((a - b)^2) */
lam_tensor *lam_mse_loss(lam_tensor *a, lam_tensor *b) {
    LAM_CHECK_ARG("lam_mse_loss", a);
    LAM_CHECK_ARG("lam_mse_loss", b);
    lam_tensor *d = lam_sub(a, b);
    return lam_mean(lam_mul(d, d));
}
