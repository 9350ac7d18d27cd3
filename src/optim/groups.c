/* Parameter groups: selection by name or by a filter (minGPT's decay rule built in), each
 * group with its own hyperparameters, and the accessors schedules use. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "optim/optim_impl.h"

static bool valid_group(const lam_optim *o, int group, const char *op) {
    if (!o) {
        lam_set_error(LAM_ERR_ARG, "%s: optimizer is NULL", op);
        return false;
    }
    if (group < 0 || group >= o->ngroups) {
        lam_set_error(LAM_ERR_ARG, "%s: group %d does not exist (the optimizer has %d)", op, group, o->ngroups);
        return false;
    }
    return true;
}

/* The module that registered a parameter of root called name, and its local name. */
static lam_module *owner_of(lam_module *root, const char *name, const char **local) {
    const char *dot = strrchr(name, '.');
    *local = dot ? dot + 1 : name;
    if (!root || !dot) return root;
    char path[256];
    size_t len = (size_t)(dot - name);
    if (len >= sizeof path) return NULL;
    memcpy(path, name, len);
    path[len] = 0;
    return lam_module_child(root, path);
}

static bool group_takes(lam_optim *o, const lam_optim_group *g, const char *name) {
    for (int i = 0; i < g->nnames; ++i)
        if (!strcmp(g->names[i], name)) return true;
    if (!g->filter) return false;
    const char *local;
    lam_module *owner = owner_of(o->module, name, &local);
    return g->filter(owner, name, local, g->user);
}

int lam_optim_group_for(lam_optim *o, const char *name) {
    for (int g = 1; g < o->ngroups; ++g)
        if (group_takes(o, &o->groups[g], name)) return g;
    return 0;
}

static void free_names(lam_optim_group *g) {
    for (int i = 0; i < g->nnames; ++i) free(g->names[i]);
    free(g->names);
    g->names = NULL;
    g->nnames = 0;
}

void lam_optim_groups_free(lam_optim *o) {
    for (int g = 0; g < o->ngroups; ++g) free_names(&o->groups[g]);
    free(o->groups);
    o->groups = NULL;
    o->ngroups = 0;
}

static int find_param(const lam_optim *o, const char *name) {
    for (int i = 0; i < o->nparams; ++i)
        if (!strcmp(o->params[i].name, name)) return i;
    return -1;
}

/* Every listed name exists and is still in group 0. */
static bool check_names(const lam_optim *o, const char *const *names) {
    for (int i = 0; names && names[i]; ++i) {
        int k = find_param(o, names[i]);
        if (k < 0) {
            lam_set_error(LAM_ERR_ARG, "lam_optim_add_group: the optimizer has no parameter \"%s\"", names[i]);
            return false;
        }
        if (o->params[k].group != 0) {
            lam_set_error(LAM_ERR_ARG, "lam_optim_add_group: \"%s\" is already in group %d", names[i],
                          o->params[k].group);
            return false;
        }
    }
    return true;
}

static bool copy_names(lam_optim_group *g, const char *const *names) {
    int n = 0;
    while (names && names[n]) ++n;
    g->names = calloc((size_t)(n ? n : 1), sizeof *g->names);
    if (!g->names) return false;
    for (; g->nnames < n; ++g->nnames)
        if (!(g->names[g->nnames] = strdup(names[g->nnames]))) return false;
    return true;
}

int lam_optim_add_group(lam_optim *o, lam_param_select sel) {
    if (!o) {
        lam_set_error(LAM_ERR_ARG, "lam_optim_add_group: optimizer is NULL");
        return -1;
    }
    if (!sel.names && !sel.filter) {
        lam_set_error(LAM_ERR_ARG, "lam_optim_add_group: select names or give a filter");
        return -1;
    }
    if (o->schedule) {
        lam_set_error(LAM_ERR_STATE, "lam_optim_add_group: make the groups before the schedule");
        return -1;
    }
    if (lam_optim_refresh(o) != LAM_OK || !check_names(o, sel.names)) return -1;
    lam_optim_group *groups = realloc(o->groups, (size_t)(o->ngroups + 1) * sizeof *groups);
    if (!groups) {
        lam_set_error(LAM_ERR_OOM, "lam_optim_add_group: out of memory");
        return -1;
    }
    o->groups = groups;
    lam_optim_group *g = &groups[o->ngroups];
    *g = (lam_optim_group){.sgd = groups[0].sgd, .adam = groups[0].adam, .filter = sel.filter, .user = sel.user};
    if (!copy_names(g, sel.names)) {
        free_names(g);
        lam_set_error(LAM_ERR_OOM, "lam_optim_add_group: out of memory");
        return -1;
    }
    int index = o->ngroups++;
    for (int i = 0; i < o->nparams; ++i)
        if (o->params[i].group == 0 && group_takes(o, g, o->params[i].name)) o->params[i].group = index;
    return index;
}

int lam_optim_group_count(const lam_optim *o) { return o ? o->ngroups : 0; }

int lam_optim_group_size(const lam_optim *o, int group) {
    if (!valid_group(o, group, "lam_optim_group_size")) return -1;
    int n = 0;
    for (int i = 0; i < o->nparams; ++i) n += o->params[i].group == group;
    return n;
}

float *lam_optim_group_lr_ptr(lam_optim *o, int group) {
    lam_optim_group *g = &o->groups[group];
    return o->kind == LAM_OPTIM_SGD ? &g->sgd.lr : &g->adam.lr;
}

float *lam_optim_group_momentum_ptr(lam_optim *o, int group) {
    lam_optim_group *g = &o->groups[group];
    return o->kind == LAM_OPTIM_SGD ? &g->sgd.momentum : &g->adam.beta1;
}

static float *weight_decay_ptr(lam_optim *o, int group) {
    lam_optim_group *g = &o->groups[group];
    return o->kind == LAM_OPTIM_SGD ? &g->sgd.weight_decay : &g->adam.weight_decay;
}

lam_status lam_optim_group_set_lr(lam_optim *o, int group, float lr) {
    if (!valid_group(o, group, "lam_optim_group_set_lr")) return lam_last_status();
    if (!(lr >= 0.0f)) return lam_set_error(LAM_ERR_ARG, "lam_optim_group_set_lr: lr %g must be >= 0", lr);
    *lam_optim_group_lr_ptr(o, group) = lr;
    return LAM_OK;
}

lam_status lam_optim_group_set_weight_decay(lam_optim *o, int group, float weight_decay) {
    if (!valid_group(o, group, "lam_optim_group_set_weight_decay")) return lam_last_status();
    if (!(weight_decay >= 0.0f))
        return lam_set_error(LAM_ERR_ARG, "lam_optim_group_set_weight_decay: weight_decay %g must be >= 0",
                             weight_decay);
    *weight_decay_ptr(o, group) = weight_decay;
    return LAM_OK;
}

/* The getters read through the same accessors; they never change the optimizer. */
float lam_optim_group_lr(const lam_optim *o, int group) {
    return valid_group(o, group, "lam_optim_group_lr") ? *lam_optim_group_lr_ptr((lam_optim *)o, group) : 0.0f;
}

float lam_optim_group_weight_decay(const lam_optim *o, int group) {
    return valid_group(o, group, "lam_optim_group_weight_decay") ? *weight_decay_ptr((lam_optim *)o, group) : 0.0f;
}

float lam_optim_group_momentum(const lam_optim *o, int group) {
    return valid_group(o, group, "lam_optim_group_momentum") ? *lam_optim_group_momentum_ptr((lam_optim *)o, group)
                                                              : 0.0f;
}

static bool starts_with(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

bool lam_param_decays(lam_module *owner, const char *name, const char *local, void *user) {
    (void)name;
    (void)user;
    const lam_module_class *cls = owner ? lam_module_class_of(owner) : NULL;
    if (!cls || !cls->name) return false;
    if (!strcmp(cls->name, "MultiheadAttention")) return !strcmp(local, "in_proj_weight");
    static const char *const decaying[] = {"Linear", "LazyLinear", "Conv", "LazyConv", "Bilinear"};
    for (size_t i = 0; i < sizeof decaying / sizeof *decaying; ++i)
        if (starts_with(cls->name, decaying[i])) return !strcmp(local, "weight");
    return false;
}

bool lam_param_no_decay(lam_module *owner, const char *name, const char *local, void *user) {
    return !lam_param_decays(owner, name, local, user);
}
