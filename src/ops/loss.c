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

/* mean over n of -log_softmax(logits)[n, labels[n]] */
lam_tensor *lam_cross_entropy(lam_tensor *logits, lam_tensor *labels) {
    LAM_CHECK_ARG("lam_cross_entropy", logits);
    LAM_CHECK_ARG("lam_cross_entropy", labels);
    char a[96], b[96];
    if (logits->ndim != 2 || labels->ndim != 1 || labels->shape[0] != logits->shape[0] || lam_dtype_is_float(labels->dtype))
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "lam_cross_entropy: expected logits (N, C) and integer labels (N,), got %s and %s %s",
                      lam_shape_str(logits, a, sizeof a), lam_dtype_name(labels->dtype), lam_shape_str(labels, b, sizeof b));
    if (!lam_same_device("lam_cross_entropy", logits, labels)) return NULL;
    if (lam_check_indices("lam_cross_entropy", labels, 0, logits->shape[1]) != LAM_OK) return NULL;
    bool grad = lam_grad_enabled(false);
    lam_tensor *onehot = lam_eq(lam_unsqueeze(lam_to_dtype(labels, LAM_F32), 1), class_row(logits->shape[1], LAM_DEV(logits)));
    lam_grad_enabled(grad);
    lam_tensor *picked = lam_sum(lam_mul(lam_log_softmax(logits, -1), onehot));
    return lam_mul_scalar(picked, -1.0f / (float)(logits->shape[0] ? logits->shape[0] : 1));
}

/* mean((a - b)^2) */
lam_tensor *lam_mse_loss(lam_tensor *a, lam_tensor *b) {
    LAM_CHECK_ARG("lam_mse_loss", a);
    LAM_CHECK_ARG("lam_mse_loss", b);
    lam_tensor *d = lam_sub(a, b);
    return lam_mean(lam_mul(d, d));
}
