/* Optimizer internals: the struct, per-parameter state, and the constructor over plain
 * tensors (used by the module constructors and by tests). */
#ifndef LAM_OPTIM_IMPL_H
#define LAM_OPTIM_IMPL_H

#include "backend/backend.h"
#include "lamina/optim.h"
#include "tensor/tensor_impl.h"

typedef enum { LAM_OPTIM_SGD, LAM_OPTIM_ADAM, LAM_OPTIM_ADAMW, LAM_OPTIM_KIND_COUNT } lam_optim_kind;

#define LAM_OPTIM_MAX_STATE 2

typedef struct {
    char name[256];                          /* the parameter's dotted name ("0.weight") */
    lam_tensor *param;                       /* a reference we own */
    lam_tensor *state[LAM_OPTIM_MAX_STATE];  /* owned; NULL until the first step */
    int64_t step;                            /* steps this parameter took (Adam's t) */
} lam_optim_param;

struct lam_optim {
    lam_optim_kind kind;
    lam_sgd_options sgd;
    lam_adam_options adam;                   /* defaults filled in */
    lam_module *module;                      /* retained; NULL for plain tensors */
    lam_optim_param *params;
    int nparams, cap;
    int64_t steps;                           /* lam_optim_step calls that succeeded */
};

/* An optimizer over n plain f32 tensors (named "0", "1", ...), which it retains.
 * options points to a lam_sgd_options (SGD) or lam_adam_options (Adam, AdamW). */
lam_optim *lam_optim_new_tensors(lam_optim_kind kind, lam_tensor *const *params, int n, const void *options);
lam_optim *lam_optim_new(lam_optim_kind kind, lam_module *m, const void *options);

/* Names of the state slots of a kind ("momentum_buffer"; "exp_avg", "exp_avg_sq"). */
int lam_optim_state_count(const lam_optim *o);
const char *lam_optim_state_name(const lam_optim *o, int slot);

/* One parameter's update; the state exists on the parameter's device. */
lam_status lam_sgd_update_param(lam_optim *o, lam_optim_param *p, lam_tensor *grad, bool first);
lam_status lam_adam_update_param(lam_optim *o, lam_optim_param *p, lam_tensor *grad);

/* Brings the module's parameter list up to date (lazy layers add parameters later). */
lam_status lam_optim_refresh(lam_optim *o);

#endif
