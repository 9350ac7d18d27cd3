/* Adam and AdamW: torch.optim.Adam / AdamW (no amsgrad), with bias correction.
 *   Adam:  g = grad + wd * p          AdamW: p = p * (1 - lr * wd)
 *   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * One fused kernel (LAM_K_ADAM) for contiguous tensors, else the same update written with ops. */
#include <math.h>

#include "core/error.h"
#include "lamina/ops.h"
#include "ops/ops_impl.h"
#include "optim/optim_impl.h"

/* The step's scalars (bias1 = 1 - beta1^t, bias2 = 1 - beta2^t). */
typedef struct {
    float lr, beta1, beta2, eps, weight_decay, bias1, bias2;
    int decoupled;
} adam_step;

static lam_status adam_with_ops(const adam_step *a, lam_optim_param *p, lam_tensor *g) {
    lam_tensor *w = p->param, *m = p->state[0], *v = p->state[1];
    if (a->decoupled) {
        lam_status st = lam_copy_(w, lam_mul_scalar(w, 1.0f - a->lr * a->weight_decay));
        if (st != LAM_OK) return st;
    } else if (a->weight_decay != 0.0f) {
        g = lam_add(g, lam_mul_scalar(w, a->weight_decay));
    }
    lam_status st = lam_copy_(m, lam_add(m, lam_mul_scalar(lam_sub(g, m), 1.0f - a->beta1)));
    if (st == LAM_OK)
        st = lam_copy_(v, lam_add(lam_mul_scalar(v, a->beta2), lam_mul_scalar(lam_mul(g, g), 1.0f - a->beta2)));
    if (st != LAM_OK) return st;
    lam_tensor *denom = lam_add_scalar(lam_div_scalar(lam_sqrt(v), sqrtf(a->bias2)), a->eps);
    return lam_copy_(w, lam_sub(w, lam_mul_scalar(lam_div(m, denom), a->lr / a->bias1)));
}

lam_status lam_adam_update_param(lam_optim *o, lam_optim_param *p, lam_tensor *grad) {
    const lam_adam_options *s = &o->groups[p->group].adam;
    double t = (double)p->step;
    adam_step a = {
        .lr = s->lr,
        .beta1 = s->beta1,
        .beta2 = s->beta2,
        .eps = s->eps,
        .weight_decay = s->weight_decay,
        .bias1 = (float)(1.0 - pow((double)s->beta1, t)),
        .bias2 = (float)(1.0 - pow((double)s->beta2, t)),
        .decoupled = o->kind == LAM_OPTIM_ADAMW,
    };
    if (!lam_is_contiguous(p->param) || !lam_is_contiguous(grad)) return adam_with_ops(&a, p, grad);
    lam_kernel_args k = {
        .work = lam_numel(p->param),
        .v = {lam_view_of(p->param), lam_view_of(grad), lam_view_of(p->state[0]), lam_view_of(p->state[1])},
        .i = {a.decoupled},
        .f = {a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, a.bias1, a.bias2},
    };
    return lam_run_kernel(o->kind == LAM_OPTIM_ADAMW ? "lam_adamw" : "lam_adam", lam_tensor_device(p->param),
                          LAM_K_ADAM, &k);
}
