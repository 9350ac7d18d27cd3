/* SGD with momentum, dampening, Nesterov and L2 weight decay: torch.optim.SGD.
 *   g = grad + wd * p
 *   b = g (first step) | momentum * b + (1 - dampening) * g
 *   g = nesterov ? g + momentum * b : b
 *   p = p - lr * g
 * One fused kernel when the backend has sgd_step, else the same update written with ops. */
#include "core/error.h"
#include "lamina/ops.h"
#include "optim/optim_impl.h"

static bool fusable(const lam_tensor *const *ts, int n) {
    for (int i = 0; i < n; ++i)
        if (ts[i] && !lam_is_contiguous(ts[i])) return false;
    return true;
}

static lam_status sgd_with_ops(const lam_sgd_options *s, lam_optim_param *p, lam_tensor *g, bool first) {
    lam_tensor *w = p->param, *b = p->state[0];
    if (s->weight_decay != 0.0f) g = lam_add(g, lam_mul_scalar(w, s->weight_decay));
    if (s->momentum != 0.0f) {
        lam_tensor *nb = first ? g : lam_add(lam_mul_scalar(b, s->momentum), lam_mul_scalar(g, 1.0f - s->dampening));
        if (!nb) return lam_last_status();
        lam_status st = lam_copy_(b, nb);
        if (st != LAM_OK) return st;
        g = s->nesterov ? lam_add(g, lam_mul_scalar(b, s->momentum)) : b;
    }
    lam_tensor *nw = lam_sub(w, lam_mul_scalar(g, s->lr));
    if (!nw) return lam_last_status();
    return lam_copy_(w, nw);
}

lam_status lam_sgd_update_param(lam_optim *o, lam_optim_param *p, lam_tensor *grad, bool first) {
    const lam_sgd_options *s = &o->groups[p->group].sgd;
    lam_device *dev = lam_tensor_device(p->param);
    const lam_tensor *ts[3] = {p->param, grad, p->state[0]};
    if (!dev->ops->sgd_step || !fusable(ts, 3)) return sgd_with_ops(s, p, grad, first);
    if (lam_numel(p->param) == 0) return LAM_OK;
    lam_sgd_args a = {
        .param = lam_view_of(p->param),
        .grad = lam_view_of(grad),
        .n = lam_numel(p->param),
        .lr = s->lr,
        .momentum = s->momentum,
        .dampening = s->dampening,
        .weight_decay = s->weight_decay,
        .nesterov = s->nesterov,
        .first = first,
    };
    if (p->state[0]) a.buf = lam_view_of(p->state[0]);
    return dev->ops->sgd_step(dev, &a);
}
