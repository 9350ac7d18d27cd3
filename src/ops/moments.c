/* Variance and standard deviation over one dimension, composed of reductions and
 * elementwise ops (two passes: the mean, then the squared deviations), so their gradients
 * come from those ops on every device. */
#include "ops/ops_impl.h"

/* sum((x - mean)^2) / (n - unbiased): n - 1 = 0 gives NaN (or inf), as PyTorch. */
static lam_tensor *variance(const char *op, lam_tensor *x, int dim, bool unbiased, bool keepdim) {
    LAM_CHECK_ARG(op, x);
    if (!lam_require_float(op, x)) return NULL;
    int d = lam_wrap_dim(op, dim, x->ndim);
    if (d < 0) return NULL;
    lam_tensor *dev = lam_sub(x, lam_mean_dim(x, d, true));
    float n = (float)x->shape[d] - (unbiased ? 1.0f : 0.0f);
    return lam_div_scalar(lam_sum_dim(lam_mul(dev, dev), d, keepdim), n);
}

lam_tensor *lam_var(lam_tensor *x, int dim, bool unbiased, bool keepdim) {
    return variance("lam_var", x, dim, unbiased, keepdim);
}

lam_tensor *lam_std(lam_tensor *x, int dim, bool unbiased, bool keepdim) {
    return lam_sqrt(variance("lam_std", x, dim, unbiased, keepdim));
}
