/* gradcheck: analytic gradients against central differences, for any function of tensors. */
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"
#include "tensor/tensor_impl.h"

/* L = sum(fn(inputs) * w): a scalar whose gradient exercises every output element. */
static lam_tensor *weighted(lam_tensor_fn fn, void *user, lam_tensor *const *in, int n, lam_tensor **w) {
    lam_tensor *y = fn(in, n, user);
    if (!y) return NULL;
    if (!*w) {   /* fixed weights in [0.5, 1.5), drawn once */
        bool mode = lam_grad_enabled(false);
        *w = lam_keep(lam_add_scalar(lam_rand(y->ndim, y->shape, y->storage->dev), 0.5f));
        lam_grad_enabled(mode);
        if (!*w) return NULL;
    }
    return lam_sum(lam_mul(y, *w));
}

static double eval(lam_tensor_fn fn, void *user, lam_tensor *const *in, int n, lam_tensor *w) {
    lam_scope_begin();
    bool mode = lam_grad_enabled(false);
    lam_tensor *y = fn(in, n, user);
    double v = y ? lam_item(lam_sum(lam_mul(y, w))) : NAN;
    lam_grad_enabled(mode);
    lam_scope_end();
    return v;
}

/* Numeric derivative of element j of input i, restoring the input after. */
static double numeric(lam_tensor_fn fn, void *user, lam_tensor *const *in, int n, lam_tensor *w, int i,
                      float *host, int64_t j, float eps) {
    size_t bytes = (size_t)lam_numel(in[i]) * sizeof(float);
    float orig = host[j];
    host[j] = orig + eps;
    lam_write(in[i], host, bytes);
    double plus = eval(fn, user, in, n, w);
    host[j] = orig - eps;
    lam_write(in[i], host, bytes);
    double minus = eval(fn, user, in, n, w);
    host[j] = orig;
    lam_write(in[i], host, bytes);
    return (plus - minus) / (2.0 * (double)eps);
}

/* Compares one input's analytic gradient with central differences, element by element. */
static lam_status check_input(lam_tensor_fn fn, void *user, lam_tensor *const *in, int n, lam_tensor *w, int i,
                              float eps, float tol) {
    int64_t count = lam_numel(in[i]);
    float *host = malloc((size_t)(count ? count : 1) * sizeof(float) * 2);
    if (!host) return lam_set_error(LAM_ERR_OOM, "lam_gradcheck: out of host memory");
    float *analytic = host + count;
    lam_status st = lam_read(in[i], host, (size_t)count * sizeof(float));
    if (st == LAM_OK) {
        if (in[i]->grad) st = lam_read(in[i]->grad, analytic, (size_t)count * sizeof(float));
        else for (int64_t j = 0; j < count; ++j) analytic[j] = 0.0f;   /* no path: gradient zero */
    }
    for (int64_t j = 0; st == LAM_OK && j < count; ++j) {
        double num = numeric(fn, user, in, n, w, i, host, j, eps);
        if (!(fabs(analytic[j] - num) <= tol * (1.0 + fabs(num))))
            st = lam_set_error(LAM_ERR_STATE, "lam_gradcheck: input %d element %lld: analytic %.6g, numeric %.6g", i,
                               (long long)j, (double)analytic[j], num);
    }
    free(host);
    return st;
}

lam_status lam_gradcheck(lam_tensor_fn fn, void *user, lam_tensor *const *in, int n, float eps, float tol) {
    if (!fn || !in || n <= 0) return lam_set_error(LAM_ERR_ARG, "lam_gradcheck: no function or inputs");
    for (int i = 0; i < n; ++i) {
        if (!in[i]) return lam_set_error(LAM_ERR_ARG, "lam_gradcheck: input %d is NULL", i);
        if (in[i]->dtype != LAM_F32 || !in[i]->requires_grad || in[i]->grad_fn)
            return lam_set_error(LAM_ERR_ARG, "lam_gradcheck: input %d must be an f32 leaf that requires grad", i);
        lam_clear_grad(in[i]);
    }
    lam_tensor *w = NULL;
    lam_scope_begin();
    lam_tensor *loss = weighted(fn, user, in, n, &w);
    lam_status st = loss ? lam_backward(loss) : lam_last_status();
    lam_scope_end();
    for (int i = 0; st == LAM_OK && i < n; ++i) st = check_input(fn, user, in, n, w, i, eps, tol);
    for (int i = 0; i < n; ++i) lam_clear_grad(in[i]);
    lam_release(w);
    return st;
}
