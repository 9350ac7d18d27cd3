/* Optimizers over a module's parameters, as fused device kernels.
 *
 *   lam_optim *opt = lam_sgd(net, (lam_sgd_options){.lr = 0.1f, .momentum = 0.9f});
 *   for (...) {
 *       lam_scope_begin();
 *       lam_optim_zero_grad(opt);
 *       lam_backward(lam_cross_entropy(lam_forward(net, x), y));
 *       lam_optim_step(opt);
 *       lam_scope_end();
 *   }
 *   lam_optim_free(opt);
 */
#ifndef LAMINA_OPTIM_H
#define LAMINA_OPTIM_H

#include "lamina/module.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lam_optim lam_optim;

typedef struct {
    float lr, momentum, dampening, weight_decay;
    bool nesterov;
} lam_sgd_options;

typedef struct {
    float lr;             /* 0 means 1e-3 */
    float beta1, beta2;   /* 0 means 0.9, 0.999 */
    float eps;            /* 0 means 1e-8 */
    float weight_decay;   /* L2 for Adam; decoupled for AdamW (0 means 0.01 for AdamW) */
} lam_adam_options;

/* Optimizers over m's parameters (and those its lazy layers make at their first forward).
 * NULL with LAM_ERR_ARG for bad options, or for a module without parameters and without
 * lazy layers ("got an empty parameter list", as PyTorch says). */
LAM_API lam_optim *lam_sgd(lam_module *m, lam_sgd_options opt);
LAM_API lam_optim *lam_adam(lam_module *m, lam_adam_options opt);
LAM_API lam_optim *lam_adamw(lam_module *m, lam_adam_options opt);
LAM_API lam_status lam_optim_step(lam_optim *o);
LAM_API void lam_optim_zero_grad(lam_optim *o);
LAM_API void lam_optim_set_lr(lam_optim *o, float lr);
LAM_API float lam_optim_lr(const lam_optim *o);
/* Optimizer state (momentum buffers, Adam moments, step count) as safetensors. */
LAM_API lam_status lam_optim_save(lam_optim *o, const char *path);
LAM_API lam_status lam_optim_load(lam_optim *o, const char *path);
LAM_API void lam_optim_free(lam_optim *o);

#ifdef __cplusplus
}
#endif
#endif
