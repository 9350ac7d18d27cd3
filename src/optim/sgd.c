/* SGD with momentum, dampening, Nesterov and L2 weight decay: torch.optim.SGD.
 *   g = grad + wd * p
 *   b = g (first step) | momentum * b + (1 - dampening) * g
 *   g = nesterov ? g + momentum * b : b
 *   p = p - lr * g
 * One fused kernel (LAM_K_SGD) for contiguous tensors, else the same update written with ops. */
#include "core/error.h"
#include "lamina/ops.h"
#include "ops/ops_impl.h"
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
    const lam_tensor *ts[3] = {p->param, grad, p->state[0]};
    if (!fusable(ts, 3)) return sgd_with_ops(s, p, grad, first);
    /* without momentum the buffer is never read: the parameter stands in for it */
    lam_kernel_args a = {
        .work = lam_numel(p->param),
        .v = {lam_view_of(p->param), lam_view_of(grad), lam_view_of(p->state[0] ? p->state[0] : p->param)},
        .i = {s->nesterov, first},
        .f = {s->lr, s->momentum, s->dampening, s->weight_decay},
    };
    return lam_run_kernel("lam_sgd", lam_tensor_device(p->param), LAM_K_SGD, &a);
}
