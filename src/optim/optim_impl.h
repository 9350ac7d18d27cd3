/* Optimizer internals: the struct, parameter groups, per-parameter state, schedules, and
 * the constructor over plain tensors (used by the module constructors and by tests). */
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
    lam_tensor *state[LAM_OPTIM_MAX_STATE];  /* owned; NULL until the first step that needs it */
    int64_t step;                            /* steps this parameter took (Adam's t) */
    int group;                               /* index into lam_optim.groups */
} lam_optim_param;

typedef struct {
    lam_sgd_options sgd;                     /* this group's hyperparameters (SGD) */
    lam_adam_options adam;                   /* (Adam, AdamW; defaults filled in) */
    char **names;                            /* the selection, kept for lazy parameters */
    int nnames;
    lam_param_filter filter;
    void *user;
} lam_optim_group;

struct lam_optim {
    lam_optim_kind kind;
    lam_module *module;                      /* retained; NULL for plain tensors */
    lam_optim_param *params;
    int nparams, cap;
    lam_optim_group *groups;                 /* groups[0] holds the constructor's options */
    int ngroups;
    int64_t steps;                           /* lam_optim_step calls that succeeded */
    lam_schedule *schedule;                  /* owned; NULL when none */
};

extern const char *const lam_optim_kind_names[LAM_OPTIM_KIND_COUNT];   /* "lam_sgd", ... */

/* An optimizer over n plain f32 tensors (named "0", "1", ...), which it retains.
 * options points to a lam_sgd_options (SGD) or lam_adam_options (Adam, AdamW). */
lam_optim *lam_optim_new_tensors(lam_optim_kind kind, lam_tensor *const *params, int n, const void *options);
lam_optim *lam_optim_new(lam_optim_kind kind, lam_module *m, const void *options);

/* Names of the state slots of a kind ("momentum_buffer"; "exp_avg", "exp_avg_sq"). SGD's
 * buffer exists only once the parameter stepped with momentum. */
int lam_optim_state_count(const lam_optim *o);
const char *lam_optim_state_name(const lam_optim *o, int slot);
/* Whether a parameter that stepped must hold slot (Adam's moments; not SGD's buffer). */
bool lam_optim_state_required(const lam_optim *o, int slot);

/* One parameter's update with its group's hyperparameters; the state exists on the
 * parameter's device. */
lam_status lam_sgd_update_param(lam_optim *o, lam_optim_param *p, lam_tensor *grad, bool first);
lam_status lam_adam_update_param(lam_optim *o, lam_optim_param *p, lam_tensor *grad);

/* Brings the module's parameter list up to date (lazy layers add parameters later). */
lam_status lam_optim_refresh(lam_optim *o);

/* Groups (groups.c). The group a new parameter joins; the group list freed. */
int lam_optim_group_for(lam_optim *o, const char *name);
void lam_optim_groups_free(lam_optim *o);
/* The group's lr and momentum (SGD's momentum, Adam's beta1), as schedules set them. */
float *lam_optim_group_lr_ptr(lam_optim *o, int group);
float *lam_optim_group_momentum_ptr(lam_optim *o, int group);

/* Schedules (schedule.c): the state an optimizer file carries, and the schedule's free. */
void lam_schedule_free(lam_schedule *s);
/* "onecycle max_lr=0.1 ...": the kind and configuration, compared when loading. */
void lam_schedule_describe(const lam_schedule *s, char *buf, size_t size);
int64_t lam_schedule_base_count(const lam_schedule *s);
double lam_schedule_base_lr(const lam_schedule *s, int group);
/* Restores the step count and base lrs (already validated) without touching the groups. */
void lam_schedule_restore(lam_schedule *s, int64_t steps, const double *base_lrs);

/* Optimizer files (optim_state.c), in two halves so a checkpoint can validate its model
 * file too before changing anything: prepare reads and validates, commit cannot fail. */
typedef struct lam_optim_loaded lam_optim_loaded;
lam_optim_loaded *lam_optim_load_prepare(lam_optim *o, const char *path);
void lam_optim_load_commit(lam_optim *o, lam_optim_loaded *l);
void lam_optim_loaded_free(lam_optim_loaded *l);
/* A metadata value of the prepared file ("rng"), or NULL. */
const char *lam_optim_loaded_metadata(const lam_optim_loaded *l, const char *key);
/* lam_optim_save with extra metadata: a string of ", \"key\": \"value\"" pairs, or NULL. */
lam_status lam_optim_save_with(lam_optim *o, const char *path, const char *extra_metadata);

#endif
