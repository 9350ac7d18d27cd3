/* Gradient clipping by global norm, torch.nn.utils.clip_grad_norm_ (L2):
 *   total = sqrt(sum over gradients of sum(g^2)),  g *= min(1, max_norm / (total + 1e-6))
 * all on the device: the sums accumulate into a 0-dim tensor and the factor multiplies
 * every gradient whatever its value, so nothing waits for the device (PyTorch's choice). */
#include <stdlib.h>

#include "core/error.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"
#include "optim/optim_impl.h"

/* Adds sum(g^2) into the 0-dim sumsq (on its own device); g's temporaries die here. */
static lam_status add_square_sum(lam_tensor *sumsq, lam_tensor *g) {
    lam_scope_begin();
    lam_tensor *part = lam_sum(lam_mul(g, g));
    if (part && lam_tensor_device(part) != lam_tensor_device(sumsq)) part = lam_to(part, lam_tensor_device(sumsq));
    lam_status st = lam_copy_(sumsq, lam_add(sumsq, part));
    lam_scope_end();
    return st;
}

static lam_status scale(lam_tensor *g, lam_tensor *coef) {
    lam_scope_begin();
    lam_tensor *c = lam_tensor_device(coef) == lam_tensor_device(g) ? coef : lam_to(coef, lam_tensor_device(g));
    lam_status st = lam_copy_(g, lam_mul(g, c));
    lam_scope_end();
    return st;
}

/* Clips the gradients of params[0..n); dev holds the result when no parameter has one. */
static lam_tensor *clip(lam_tensor *const *params, int n, float max_norm, lam_device *dev, const char *op) {
    if (!(max_norm >= 0.0f)) LAM_FAIL_NULL(LAM_ERR_ARG, "%s: max_norm %g must be >= 0", op, max_norm);
    for (int i = 0; i < n; ++i)
        if (lam_grad(params[i])) {
            dev = lam_tensor_device(lam_grad(params[i]));
            break;
        }
    if (!dev) dev = lam_device_get("cpu");
    bool was = lam_grad_enabled(false);
    lam_tensor *sumsq = lam_scalar(0.0f, dev);
    lam_status st = sumsq ? LAM_OK : lam_last_status();
    for (int i = 0; st == LAM_OK && i < n; ++i)
        if (lam_grad(params[i])) st = add_square_sum(sumsq, lam_grad(params[i]));
    lam_tensor *total = st == LAM_OK ? lam_sqrt(sumsq) : NULL;
    lam_tensor *coef = lam_minimum_scalar(lam_div(lam_scalar(max_norm, dev), lam_add_scalar(total, 1e-6f)), 1.0f);
    if (st == LAM_OK && !coef) st = lam_last_status();
    for (int i = 0; st == LAM_OK && i < n; ++i)
        if (lam_grad(params[i])) st = scale(lam_grad(params[i]), coef);
    lam_grad_enabled(was);
    return st == LAM_OK ? total : NULL;
}

lam_tensor *lam_clip_grad_norm(lam_module *m, float max_norm) {
    if (!m) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_clip_grad_norm: module is NULL");
    int n = lam_named_parameters(m, NULL, 0);
    if (n < 0) return NULL;
    lam_named_tensor *list = calloc((size_t)(n ? n : 1), sizeof *list);
    lam_tensor **params = calloc((size_t)(n ? n : 1), sizeof *params);
    lam_tensor *total = NULL;
    if (!list || !params) {
        lam_set_error(LAM_ERR_OOM, "lam_clip_grad_norm: out of memory");
    } else {
        n = lam_named_parameters(m, list, n);
        for (int i = 0; i < n; ++i) params[i] = list[i].tensor;
        total = clip(params, n, max_norm, lam_module_device(m), "lam_clip_grad_norm");
    }
    free(list);
    free(params);
    return total;
}

lam_tensor *lam_optim_clip_grad_norm(lam_optim *o, float max_norm) {
    if (!o) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_optim_clip_grad_norm: optimizer is NULL");
    if (lam_optim_refresh(o) != LAM_OK) return NULL;
    lam_tensor **params = calloc((size_t)(o->nparams ? o->nparams : 1), sizeof *params);
    if (!params) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_optim_clip_grad_norm: out of memory");
    for (int i = 0; i < o->nparams; ++i) params[i] = o->params[i].param;
    lam_device *dev = o->nparams ? lam_tensor_device(params[0]) : NULL;
    lam_tensor *total = clip(params, o->nparams, max_norm, dev, "lam_optim_clip_grad_norm");
    free(params);
    return total;
}
