/* Optimizers over a module's parameters, as fused device kernels; parameter groups,
 * learning-rate schedules, gradient clipping and training checkpoints.
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
 *
 * The GPT recipe: AdamW whose biases and norm weights do not decay, a one-cycle schedule
 * stepped every batch, and gradients clipped to a global norm of 1.
 *
 *   lam_optim *opt = lam_adamw(gpt, (lam_adam_options){.lr = 6e-4f, .beta2 = 0.95f,
 *                                                      .weight_decay = 0.1f});
 *   int quiet = lam_optim_add_group(opt, (lam_param_select){.filter = lam_param_no_decay});
 *   lam_optim_group_set_weight_decay(opt, quiet, 0.0f);
 *   lam_schedule *sched = lam_one_cycle_lr(opt, (lam_one_cycle_options){
 *       .max_lr = 6e-4, .total_steps = epochs * batches});     // owned by opt
 *   for (each batch) {
 *       ... lam_backward(loss);
 *       lam_tensor *norm = lam_clip_grad_norm(gpt, 1.0f);      // on the device, no wait
 *       lam_optim_step(opt);
 *       lam_schedule_step(sched);
 *   }
 *   lam_checkpoint_save("gpt.ckpt", gpt, opt);   // model, optimizer, schedule, RNG state
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
/* Updates every parameter that has a gradient (f32 parameters only). What a failure leaves:
 * errors found before any update (a gradient on another device than its parameter, an f16
 * parameter, no memory for the optimizer's state) change nothing; an error while updating (a
 * kernel that fails) stops there: the parameters before it are updated, the failing one and
 * those after it are not, and the step does not count. */
LAM_API lam_status lam_optim_step(lam_optim *o);
LAM_API void lam_optim_zero_grad(lam_optim *o);
/* Sets the learning rate of every group (PyTorch: for g in opt.param_groups: g["lr"] = lr). */
LAM_API void lam_optim_set_lr(lam_optim *o, float lr);
/* The learning rate of group 0. */
LAM_API float lam_optim_lr(const lam_optim *o);
/* Optimizer state (momentum buffers, Adam moments, step counts), each group's
 * hyperparameters and the state of its schedule, as safetensors. Loading restores the
 * groups' lr, momentum (or betas) and weight decay as PyTorch's load_state_dict does. */
LAM_API lam_status lam_optim_save(lam_optim *o, const char *path);
LAM_API lam_status lam_optim_load(lam_optim *o, const char *path);
/* Frees the optimizer and its schedule. */
LAM_API void lam_optim_free(lam_optim *o);

/* --- parameter groups ---------------------------------------------------------------------
 * Every parameter starts in group 0, whose hyperparameters are the constructor's options.
 * lam_optim_add_group moves the selected parameters that are still in group 0 into a new
 * group, which starts with group 0's hyperparameters; set what differs. A parameter a lazy
 * layer creates later joins the first group whose selection takes it, else group 0. */

/* Whether a parameter joins the group. owner: the module that registered it; name: its
 * dotted name from the optimizer's module ("0.net.2.bias"); local: its name in owner
 * ("bias"). lam_module_class_of(owner)->name is the layer's class ("Linear"). */
typedef bool (*lam_param_filter)(lam_module *owner, const char *name, const char *local, void *user);

typedef struct {
    const char *const *names;   /* dotted names, NULL-terminated; each must exist */
    lam_param_filter filter;    /* and/or the parameters this returns true for */
    void *user;                 /* handed to filter; must outlive the optimizer */
} lam_param_select;

/* minGPT's rule: only the weights of Linear- and Conv-like layers decay (a parameter
 * "weight" of a class whose name starts with Linear, LazyLinear, Conv, LazyConv or Bilinear,
 * and MultiheadAttention's in_proj_weight); biases, norm and embedding weights do not. */
LAM_API bool lam_param_decays(lam_module *owner, const char *name, const char *local, void *user);
LAM_API bool lam_param_no_decay(lam_module *owner, const char *name, const char *local, void *user);

/* The new group's index (1, 2, ...), or -1: a listed name that is missing or already in
 * another group, or neither names nor filter given. A group may start empty (lazy layers). */
LAM_API int lam_optim_add_group(lam_optim *o, lam_param_select select);
LAM_API int lam_optim_group_count(const lam_optim *o);
LAM_API int lam_optim_group_size(const lam_optim *o, int group);   /* parameters in it */
LAM_API lam_status lam_optim_group_set_lr(lam_optim *o, int group, float lr);
LAM_API lam_status lam_optim_group_set_weight_decay(lam_optim *o, int group, float weight_decay);
LAM_API float lam_optim_group_lr(const lam_optim *o, int group);
LAM_API float lam_optim_group_weight_decay(const lam_optim *o, int group);
/* SGD's momentum, or Adam's beta1 (what a one-cycle schedule cycles). */
LAM_API float lam_optim_group_momentum(const lam_optim *o, int group);

/* --- gradient clipping ------------------------------------------------------------------- */
/* torch.nn.utils.clip_grad_norm_: the L2 norm of all gradients together, total; every
 * gradient is multiplied in place by min(1, max_norm / (total + 1e-6)). Returns total (before
 * clipping) as a 0-dim tensor on the gradients' device in the current scope: nothing waits
 * for the device until you lam_item it. Parameters without a gradient are skipped (no
 * gradient at all gives 0). NULL on error. */
LAM_API lam_tensor *lam_clip_grad_norm(lam_module *m, float max_norm);
LAM_API lam_tensor *lam_optim_clip_grad_norm(lam_optim *o, float max_norm);

/* --- learning-rate schedules --------------------------------------------------------------
 * PyTorch's schedulers: the constructor sets each group's lr (and momentum) to the value of
 * step 0; lam_schedule_step moves to the next step. Step after lam_optim_step, once per
 * batch or once per epoch: the schedule counts whatever you count. Each group follows its
 * own base lr (its lr when the schedule was made); a one-cycle schedule gives every group
 * the same max_lr. Values are computed in closed form from the step count (so resuming is
 * exact), in double precision, like PyTorch's Python floats. An optimizer has at most one
 * schedule, which it owns: lam_optim_free frees it. */
typedef struct lam_schedule lam_schedule;

typedef struct {
    int64_t step_size;   /* lr = base_lr * gamma^floor(step / step_size); step_size > 0 */
    double gamma;        /* 0 means 0.1 */
} lam_step_lr_options;

typedef struct {
    int64_t t_max;       /* lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * step / t_max)) / 2 */
    double eta_min;      /* (periodic past t_max, as PyTorch's) */
} lam_cosine_lr_options;

typedef enum { LAM_ANNEAL_COS, LAM_ANNEAL_LINEAR } lam_anneal;

/* OneCycleLR: from max_lr / div_factor up to max_lr over pct_start of total_steps, then
 * down to that / final_div_factor; the momentum (SGD) or beta1 (Adam) moves the other way
 * between max_momentum and base_momentum. Zeros mean PyTorch's defaults. Stepping past
 * total_steps is an error (LAM_ERR_STATE), as in PyTorch. */
typedef struct {
    double max_lr;               /* required */
    int64_t total_steps;         /* required: epochs * steps per epoch */
    double pct_start;            /* 0.3 */
    lam_anneal anneal;           /* cos */
    double div_factor;           /* 25 */
    double final_div_factor;     /* 1e4 */
    bool no_cycle_momentum;      /* PyTorch's cycle_momentum=False */
    double base_momentum;        /* 0.85 */
    double max_momentum;         /* 0.95 */
    bool three_phase;
} lam_one_cycle_options;

LAM_API lam_schedule *lam_step_lr(lam_optim *o, lam_step_lr_options opt);
LAM_API lam_schedule *lam_cosine_lr(lam_optim *o, lam_cosine_lr_options opt);
LAM_API lam_schedule *lam_one_cycle_lr(lam_optim *o, lam_one_cycle_options opt);
LAM_API lam_status lam_schedule_step(lam_schedule *s);
/* Steps taken since the constructor (PyTorch's last_epoch). */
LAM_API int64_t lam_schedule_steps(const lam_schedule *s);

/* --- checkpoints -------------------------------------------------------------------------
 * Everything a resumed run needs to continue exactly as an uninterrupted one: path holds
 * the model's state_dict (safetensors, as lam_save: PyTorch loads it), path.optim the
 * optimizer's state with its groups and schedule, and this thread's random generator
 * (lam_rng_state). Each file is written atomically. Loading validates both files before
 * changing anything; make the schedule before loading. */
LAM_API lam_status lam_checkpoint_save(const char *path, lam_module *m, lam_optim *o);
LAM_API lam_status lam_checkpoint_load(const char *path, lam_module *m, lam_optim *o);

#ifdef __cplusplus
}
#endif
#endif
