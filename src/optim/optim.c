/* Optimizers: construction over a module's parameters, the step loop (lazy state that
 * follows its parameter across devices), zero_grad, learning rate, free. Parameter groups
 * are in groups.c, schedules in schedule.c. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"
#include "nn/module_impl.h"
#include "optim/optim_impl.h"

const char *const lam_optim_kind_names[] = {"lam_sgd", "lam_adam", "lam_adamw"};
_Static_assert(sizeof lam_optim_kind_names / sizeof *lam_optim_kind_names == LAM_OPTIM_KIND_COUNT,
               "one name per kind");

int lam_optim_state_count(const lam_optim *o) { return o->kind == LAM_OPTIM_SGD ? 1 : 2; }

const char *lam_optim_state_name(const lam_optim *o, int slot) {
    if (o->kind == LAM_OPTIM_SGD) return "momentum_buffer";
    return slot == 0 ? "exp_avg" : "exp_avg_sq";
}

bool lam_optim_state_required(const lam_optim *o, int slot) {
    (void)slot;
    return o->kind != LAM_OPTIM_SGD;
}

static bool add_param(lam_optim *o, const char *name, lam_tensor *t) {
    for (int i = 0; i < o->nparams; ++i)
        if (o->params[i].param == t) return true;   /* a shared parameter steps once */
    if (lam_tensor_dtype(t) != LAM_F32) {
        lam_set_error(LAM_ERR_ARG, "%s: parameter %s is %s, not f32", lam_optim_kind_names[o->kind], name,
                      lam_dtype_name(lam_tensor_dtype(t)));
        return false;
    }
    if (o->nparams == o->cap) {
        int cap = o->cap ? 2 * o->cap : 16;
        lam_optim_param *p = realloc(o->params, (size_t)cap * sizeof *p);
        if (!p) {
            lam_set_error(LAM_ERR_OOM, "%s: out of memory", lam_optim_kind_names[o->kind]);
            return false;
        }
        o->params = p;
        o->cap = cap;
    }
    lam_optim_param *p = &o->params[o->nparams];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->group = lam_optim_group_for(o, name);
    p->param = lam_retain(t);
    o->nparams++;
    return true;
}

/* Group 0 with the constructor's options, checked, PyTorch's defaults filled in. */
static bool set_options(lam_optim *o, lam_optim_kind kind, const void *options) {
    o->kind = kind;
    o->groups = calloc(1, sizeof *o->groups);
    if (!o->groups) {
        lam_set_error(LAM_ERR_OOM, "%s: out of memory", lam_optim_kind_names[kind]);
        return false;
    }
    o->ngroups = 1;
    lam_optim_group *g = &o->groups[0];
    if (kind == LAM_OPTIM_SGD) {
        g->sgd = *(const lam_sgd_options *)options;
        const lam_sgd_options *s = &g->sgd;
        if (!(s->lr >= 0.0f) || !(s->momentum >= 0.0f) || !(s->weight_decay >= 0.0f)) {
            lam_set_error(LAM_ERR_ARG, "lam_sgd: lr %g, momentum %g and weight_decay %g must be >= 0", s->lr,
                          s->momentum, s->weight_decay);
            return false;
        }
        if (s->nesterov && (s->momentum <= 0.0f || s->dampening != 0.0f)) {
            lam_set_error(LAM_ERR_ARG, "lam_sgd: nesterov needs momentum > 0 and zero dampening");
            return false;
        }
        return true;
    }
    lam_adam_options a = *(const lam_adam_options *)options;
    if (a.lr == 0.0f) a.lr = 1e-3f;
    if (a.beta1 == 0.0f) a.beta1 = 0.9f;
    if (a.beta2 == 0.0f) a.beta2 = 0.999f;
    if (a.eps == 0.0f) a.eps = 1e-8f;
    if (kind == LAM_OPTIM_ADAMW && a.weight_decay == 0.0f) a.weight_decay = 0.01f;
    if (!(a.lr > 0.0f) || !(a.beta1 >= 0.0f && a.beta1 < 1.0f) || !(a.beta2 >= 0.0f && a.beta2 < 1.0f) ||
        !(a.eps > 0.0f) || !(a.weight_decay >= 0.0f)) {
        lam_set_error(LAM_ERR_ARG, "%s: bad options lr %g betas (%g, %g) eps %g weight_decay %g",
                      lam_optim_kind_names[kind], a.lr, a.beta1, a.beta2, a.eps, a.weight_decay);
        return false;
    }
    g->adam = a;
    return true;
}

/* An optimizer with its options and no parameters yet. */
static lam_optim *optim_alloc(lam_optim_kind kind, const void *options) {
    lam_optim *o = calloc(1, sizeof *o);
    if (!o) LAM_FAIL_NULL(LAM_ERR_OOM, "%s: out of memory", lam_optim_kind_names[kind]);
    if (set_options(o, kind, options)) return o;
    lam_optim_free(o);
    return NULL;
}

lam_optim *lam_optim_new_tensors(lam_optim_kind kind, lam_tensor *const *params, int n, const void *options) {
    if (kind < 0 || kind >= LAM_OPTIM_KIND_COUNT || !options || n < 0 || (n > 0 && !params))
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_optim_new_tensors: bad arguments");
    if (n == 0) LAM_FAIL_NULL(LAM_ERR_ARG, "%s: got an empty parameter list", lam_optim_kind_names[kind]);
    lam_optim *o = optim_alloc(kind, options);
    if (!o) return NULL;
    for (int i = 0; i < n; ++i) {
        char name[32];
        snprintf(name, sizeof name, "%d", i);
        if (!params[i]) {
            lam_set_error(LAM_ERR_ARG, "%s: parameter %d is NULL", lam_optim_kind_names[kind], i);
            goto fail;
        }
        if (!add_param(o, name, params[i])) goto fail;
    }
    return o;
fail:
    lam_optim_free(o);
    return NULL;
}

lam_status lam_optim_refresh(lam_optim *o) {
    if (!o->module) return LAM_OK;
    int n = lam_named_parameters(o->module, NULL, 0);
    if (n < 0) return lam_last_status();
    if (n == o->nparams) return LAM_OK;
    lam_named_tensor *list = calloc((size_t)(n ? n : 1), sizeof *list);
    if (!list) return lam_set_error(LAM_ERR_OOM, "%s: out of memory", lam_optim_kind_names[o->kind]);
    n = lam_named_parameters(o->module, list, n);
    lam_status st = LAM_OK;
    for (int i = 0; i < n && st == LAM_OK; ++i)
        if (!add_param(o, list[i].name, list[i].tensor)) st = lam_last_status();
    free(list);
    return st;
}

lam_optim *lam_optim_new(lam_optim_kind kind, lam_module *m, const void *options) {
    if (!m) LAM_FAIL_NULL(LAM_ERR_ARG, "%s: module is NULL", lam_optim_kind_names[kind]);
    lam_optim *o = optim_alloc(kind, options);
    if (!o) return NULL;
    o->module = lam_module_retain(m);
    if (lam_optim_refresh(o) != LAM_OK) goto fail;
    /* a lazy layer brings its parameters at its first forward; anything else is a mistake */
    if (o->nparams == 0 && !lam_module_find_pending(m, NULL, 0)) {
        lam_set_error(LAM_ERR_ARG, "%s: got an empty parameter list (%s has no parameters)", lam_optim_kind_names[kind],
                      lam_module_class_of(m)->name);
        goto fail;
    }
    return o;
fail:
    lam_optim_free(o);
    return NULL;
}

lam_optim *lam_sgd(lam_module *m, lam_sgd_options opt) { return lam_optim_new(LAM_OPTIM_SGD, m, &opt); }
lam_optim *lam_adam(lam_module *m, lam_adam_options opt) { return lam_optim_new(LAM_OPTIM_ADAM, m, &opt); }
lam_optim *lam_adamw(lam_module *m, lam_adam_options opt) { return lam_optim_new(LAM_OPTIM_ADAMW, m, &opt); }

/* Whether the parameter needs state slot now: SGD's buffer only once its group has momentum. */
static bool wants_slot(const lam_optim *o, const lam_optim_param *p, int slot) {
    if (o->kind != LAM_OPTIM_SGD || p->state[slot]) return true;
    return o->groups[p->group].sgd.momentum != 0.0f;
}

/* Makes the parameter's state exist on its device: zeros the first time, a copy when the
 * parameter moved (lam_module_to). Sets *fresh when it was just created. */
static lam_status ensure_state(lam_optim *o, lam_optim_param *p, bool *fresh) {
    lam_device *dev = lam_tensor_device(p->param);
    *fresh = false;
    for (int s = 0; s < lam_optim_state_count(o); ++s) {
        lam_tensor *t = p->state[s], *moved;
        if (!wants_slot(o, p, s) || (t && lam_tensor_device(t) == dev)) continue;
        if (!t) {
            *fresh = true;
            moved = lam_zeros(lam_ndim(p->param), lam_shape(p->param), dev);
        } else {
            moved = lam_to(t, dev);
        }
        if (!moved) return lam_last_status();
        lam_keep(moved);
        if (t) lam_release(t);
        p->state[s] = moved;
    }
    return LAM_OK;
}

/* Whether p can step now (its gradient on its device, f32), with its state made. */
static lam_status prepare(lam_optim *o, lam_optim_param *p, lam_tensor *g, bool *fresh) {
    if (lam_tensor_device(g) != lam_tensor_device(p->param))
        return lam_set_error(LAM_ERR_DEVICE, "lam_optim_step: %s and its gradient are on %s and %s", p->name,
                             lam_device_name(lam_tensor_device(p->param)), lam_device_name(lam_tensor_device(g)));
    if (lam_tensor_dtype(p->param) != LAM_F32 || lam_tensor_dtype(g) != LAM_F32)
        return lam_set_error(LAM_ERR_ARG, "lam_optim_step: %s is %s with a %s gradient; optimizers step f32 parameters",
                             p->name, lam_dtype_name(lam_tensor_dtype(p->param)), lam_dtype_name(lam_tensor_dtype(g)));
    return ensure_state(o, p, fresh);
}

lam_status lam_optim_step(lam_optim *o) {
    if (!o) return lam_set_error(LAM_ERR_ARG, "lam_optim_step: optimizer is NULL");
    lam_status st = lam_optim_refresh(o);
    if (st != LAM_OK) return st;
    bool *fresh = calloc((size_t)o->nparams + 1, sizeof *fresh);
    if (!fresh) return lam_set_error(LAM_ERR_OOM, "lam_optim_step: out of host memory");
    /* everything that can be checked or allocated first, so those failures change nothing */
    for (int i = 0; i < o->nparams && st == LAM_OK; ++i) {
        lam_tensor *g = lam_grad(o->params[i].param);
        if (g) st = prepare(o, &o->params[i], g, &fresh[i]);
    }
    bool was = lam_grad_enabled(false);
    for (int i = 0; i < o->nparams && st == LAM_OK; ++i) {
        lam_optim_param *p = &o->params[i];
        lam_tensor *g = lam_grad(p->param);
        if (!g) continue;
        lam_scope_begin();
        p->step++;   /* Adam's bias correction counts this step */
        st = o->kind == LAM_OPTIM_SGD ? lam_sgd_update_param(o, p, g, fresh[i]) : lam_adam_update_param(o, p, g);
        if (st != LAM_OK) p->step--;
        lam_scope_end();
    }
    lam_grad_enabled(was);
    free(fresh);
    if (st == LAM_OK) o->steps++;
    return st;
}

void lam_optim_zero_grad(lam_optim *o) {
    if (!o) return;
    if (lam_optim_refresh(o) != LAM_OK) return;
    for (int i = 0; i < o->nparams; ++i) lam_clear_grad(o->params[i].param);
}

void lam_optim_set_lr(lam_optim *o, float lr) {
    for (int g = 0; o && g < o->ngroups; ++g) *lam_optim_group_lr_ptr(o, g) = lr;
}

float lam_optim_lr(const lam_optim *o) { return lam_optim_group_lr(o, 0); }

void lam_optim_free(lam_optim *o) {
    if (!o) return;
    for (int i = 0; i < o->nparams; ++i) {
        for (int s = 0; s < LAM_OPTIM_MAX_STATE; ++s)
            if (o->params[i].state[s]) lam_release(o->params[i].state[s]);
        lam_release(o->params[i].param);
    }
    free(o->params);
    lam_schedule_free(o->schedule);
    lam_optim_groups_free(o);
    if (o->module) lam_module_free(o->module);
    free(o);
}
