/* Optimizer state as safetensors: for each parameter that has stepped,
 *   state.<param name>.<slot>   f32, the parameter's shape (momentum_buffer; exp_avg, exp_avg_sq)
 *   state.<param name>.step     i64 (1,), the steps it took
 * and metadata (all strings):
 *   format "lamina-optim", optimizer "sgd" | "adam" | "adamw", steps (lam_optim_step calls),
 *   groups (their number), group.<g> "lr=.. momentum=.. dampening=.. weight_decay=..
 *   nesterov=.. params=.." (SGD) or "lr=.. beta1=.. beta2=.. eps=.. weight_decay=.. params=.."
 *   (Adam, AdamW), and with a schedule: schedule (its kind and configuration),
 *   schedule.steps, schedule.base_lrs (one per group).
 * Floats are printed so that they read back to the same bits. Loading validates the whole
 * file before changing anything: another optimizer's state, unknown keys, mis-shaped
 * tensors, other groups or another schedule fail. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "optim/optim_impl.h"

static const char *const kind_ids[LAM_OPTIM_KIND_COUNT] = {"sgd", "adam", "adamw"};

#define SGD_GROUP "lr=%.9g momentum=%.9g dampening=%.9g weight_decay=%.9g nesterov=%d params=%d"
#define ADAM_GROUP "lr=%.9g beta1=%.9g beta2=%.9g eps=%.9g weight_decay=%.9g params=%d"
#define SGD_GROUP_IN "lr=%g momentum=%g dampening=%g weight_decay=%g nesterov=%d params=%d%n"
#define ADAM_GROUP_IN "lr=%g beta1=%g beta2=%g eps=%g weight_decay=%g params=%d%n"

/* Appends ", \"key\": \"value\"" to the growing JSON text *buf. */
static bool append(char **buf, size_t *len, const char *key, const char *value) {
    size_t add = strlen(key) + strlen(value) + 8;
    char *b = realloc(*buf, *len + add + 1);
    if (!b) return false;
    *buf = b;
    *len += (size_t)snprintf(b + *len, add + 1, ", \"%s\": \"%s\"", key, value);
    return true;
}

/* "0.1 0.05": the schedule's base lr of each group (malloc'd; NULL when out of memory). */
static char *base_lrs_text(const lam_schedule *s) {
    size_t size = (size_t)lam_schedule_base_count(s) * 26 + 1, at = 0;
    char *text = malloc(size);
    if (!text) return NULL;
    text[0] = 0;
    for (int g = 0; g < lam_schedule_base_count(s); ++g)
        at += (size_t)snprintf(text + at, size - at, "%s%.17g", g ? " " : "", lam_schedule_base_lr(s, g));
    return text;
}

/* The metadata object: format, kind, steps, groups, schedule, then extra. */
static char *metadata(lam_optim *o, const char *extra) {
    char *buf = NULL, key[32], value[512];
    size_t len = 0;
    snprintf(value, sizeof value, "%lld", (long long)o->steps);
    bool ok = append(&buf, &len, "format", "lamina-optim") && append(&buf, &len, "optimizer", kind_ids[o->kind]) &&
              append(&buf, &len, "steps", value);
    snprintf(value, sizeof value, "%d", o->ngroups);
    ok = ok && append(&buf, &len, "groups", value);
    for (int g = 0; ok && g < o->ngroups; ++g) {
        const lam_sgd_options *s = &o->groups[g].sgd;
        const lam_adam_options *a = &o->groups[g].adam;
        int size = lam_optim_group_size(o, g);
        if (o->kind == LAM_OPTIM_SGD)
            snprintf(value, sizeof value, SGD_GROUP, s->lr, s->momentum, s->dampening, s->weight_decay, s->nesterov,
                     size);
        else
            snprintf(value, sizeof value, ADAM_GROUP, a->lr, a->beta1, a->beta2, a->eps, a->weight_decay, size);
        snprintf(key, sizeof key, "group.%d", g);
        ok = append(&buf, &len, key, value);
    }
    if (ok && o->schedule) {
        lam_schedule_describe(o->schedule, value, sizeof value);
        ok = append(&buf, &len, "schedule", value);
        snprintf(value, sizeof value, "%lld", (long long)lam_schedule_steps(o->schedule));
        ok = ok && append(&buf, &len, "schedule.steps", value);
        char *lrs = ok ? base_lrs_text(o->schedule) : NULL;
        ok = lrs && append(&buf, &len, "schedule.base_lrs", lrs);
        free(lrs);
    }
    char *b = ok ? realloc(buf, len + strlen(extra ? extra : "") + 4) : NULL;
    if (!b) {
        free(buf);
        return NULL;
    }
    b[0] = '{';   /* the first ", " becomes "{ " */
    snprintf(b + len, strlen(extra ? extra : "") + 4, "%s}", extra ? extra : "");
    return b;
}

lam_status lam_optim_save_with(lam_optim *o, const char *path, const char *extra_metadata) {
    if (!o || !path) return lam_set_error(LAM_ERR_ARG, "lam_optim_save: NULL argument");
    lam_status st = lam_optim_refresh(o);
    if (st != LAM_OK) return st;
    int slots = lam_optim_state_count(o), cap = o->nparams * (slots + 1), n = 0;
    char **names = calloc((size_t)(cap ? cap : 1), sizeof *names);
    lam_tensor **tensors = calloc((size_t)(cap ? cap : 1), sizeof *tensors);
    char *meta = metadata(o, extra_metadata);
    if (!names || !tensors || !meta) {
        free(names);
        free(tensors);
        free(meta);
        return lam_set_error(LAM_ERR_OOM, "lam_optim_save: out of memory");
    }
    lam_scope_begin();
    for (int i = 0; i < o->nparams && st == LAM_OK; ++i) {
        lam_optim_param *p = &o->params[i];
        if (p->step == 0 && !p->state[0]) continue;
        for (int s = 0; s <= slots && st == LAM_OK; ++s) {
            if (s < slots && !p->state[s]) continue;   /* SGD without momentum so far */
            const char *slot = s < slots ? lam_optim_state_name(o, s) : "step";
            size_t len = strlen(p->name) + strlen(slot) + 8;
            names[n] = malloc(len);
            if (!names[n]) {
                st = lam_set_error(LAM_ERR_OOM, "lam_optim_save: out of memory");
                break;
            }
            snprintf(names[n], len, "state.%s.%s", p->name, slot);
            tensors[n] = s < slots ? p->state[s]
                                   : lam_from_data(&p->step, LAM_I64, LAM_SHAPE(1), lam_device_get("cpu"));
            if (!tensors[n]) st = lam_last_status();
            n++;
        }
    }
    if (st == LAM_OK) st = lam_st_write(path, n, (const char *const *)names, tensors, meta);
    lam_scope_end();
    for (int i = 0; i < n; ++i) free(names[i]);
    free(names);
    free(tensors);
    free(meta);
    return st;
}

lam_status lam_optim_save(lam_optim *o, const char *path) { return lam_optim_save_with(o, path, NULL); }

/* What a validated file will change; lam_optim_load_commit applies it. */
struct lam_optim_loaded {
    lam_st_file *f;
    int slots;
    lam_tensor **fresh;         /* [param * slots + slot], read onto the parameter's device */
    int nfresh;
    int64_t *steps;             /* per parameter */
    lam_optim_group *groups;    /* hyperparameters only; NULL for files without groups */
    int64_t optim_steps;
    bool schedule;
    int64_t schedule_steps;
    double *base_lrs;
};

void lam_optim_loaded_free(lam_optim_loaded *l) {
    if (!l) return;
    for (int i = 0; l->fresh && i < l->nfresh; ++i)
        if (l->fresh[i]) lam_release(l->fresh[i]);
    free(l->fresh);
    free(l->steps);
    free(l->groups);
    free(l->base_lrs);
    lam_st_close(l->f);
    free(l);
}

const char *lam_optim_loaded_metadata(const lam_optim_loaded *l, const char *key) { return lam_st_metadata(l->f, key); }

static int find_param(const lam_optim *o, const char *name, size_t len) {
    for (int i = 0; i < o->nparams; ++i)
        if (strlen(o->params[i].name) == len && !strncmp(o->params[i].name, name, len)) return i;
    return -1;
}

static bool same_shape(const lam_st_entry *e, const lam_tensor *t) {
    if (e->ndim != lam_ndim(t)) return false;
    for (int i = 0; i < e->ndim; ++i)
        if (e->shape[i] != lam_dim(t, i)) return false;
    return true;
}

/* Checks every tensor entry; fills found[i * (slots + 1) + s] with entry indices (+1). */
/* A non-negative decimal integer, or -1 if text is anything else. */
static int64_t parse_count(const char *text) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    return errno || *text < '0' || *text > '9' || *end || v < 0 ? -1 : (int64_t)v;   /* no sign, no spaces */
}

static lam_status validate_state(lam_optim *o, const lam_st_file *f, const char *path, int *found) {
    const char *steps = lam_st_metadata(f, "steps");
    if (steps && parse_count(steps) < 0)
        return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s: steps \"%.32s\" is not a count", path, steps);
    int slots = lam_optim_state_count(o);
    for (int k = 0; k < lam_st_count(f); ++k) {
        const lam_st_entry *e = lam_st_at(f, k);
        const char *dot = strrchr(e->name, '.');
        if (strncmp(e->name, "state.", 6) || !dot || dot <= e->name + 6)
            return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s: unexpected key \"%s\"", path, e->name);
        int i = find_param(o, e->name + 6, (size_t)(dot - e->name - 6)), s = -1;
        for (int j = 0; j <= slots; ++j)
            if (!strcmp(dot + 1, j < slots ? lam_optim_state_name(o, j) : "step")) s = j;
        if (i < 0 || s < 0)
            return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s: \"%s\" matches no parameter state of this %s",
                                 path, e->name, kind_ids[o->kind]);
        bool ok = s < slots ? e->dtype == LAM_F32 && same_shape(e, o->params[i].param)
                            : e->dtype == LAM_I64 && e->ndim == 1 && e->shape[0] == 1;
        if (!ok)
            return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s: \"%s\" has the wrong dtype or shape for %s",
                                 path, e->name, o->params[i].name);
        int64_t step = 0;
        if (s == slots) memcpy(&step, lam_st_data(f, e), sizeof step);
        if (step < 0)   /* Adam divides by 1 - beta^step */
            return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s: \"%s\" is %lld, not a step count", path, e->name,
                                 (long long)step);
        found[i * (slots + 1) + s] = k + 1;
    }
    for (int i = 0; i < o->nparams; ++i) {
        const int *at = &found[i * (slots + 1)];
        bool complete = true, any = at[slots] != 0;
        for (int s = 0; s < slots; ++s) {
            any = any || at[s];
            if (!at[s] && lam_optim_state_required(o, s)) complete = false;
        }
        if (any && (!at[slots] || !complete))
            return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s: the state of %s is incomplete", path,
                                 o->params[i].name);
    }
    return LAM_OK;
}

/* Hyperparameters a constructor would accept, but any finite lr (a three-phase one-cycle
 * schedule ends slightly below zero, as PyTorch's). */
static bool plausible(const lam_optim *o, const lam_optim_group *g) {
    if (o->kind == LAM_OPTIM_SGD)
        return isfinite(g->sgd.lr) && g->sgd.momentum >= 0 && g->sgd.dampening >= 0 && g->sgd.weight_decay >= 0;
    const lam_adam_options *a = &g->adam;
    return isfinite(a->lr) && a->beta1 >= 0 && a->beta1 < 1 && a->beta2 >= 0 && a->beta2 < 1 && a->eps > 0 &&
           a->weight_decay >= 0;
}

/* Reads the groups' hyperparameters (files without "groups" keep the optimizer's). */
static lam_status read_groups(lam_optim *o, const lam_st_file *f, const char *path, lam_optim_loaded *l) {
    const char *count = lam_st_metadata(f, "groups");
    if (!count) return LAM_OK;
    if (atoi(count) != o->ngroups)
        return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s holds %s parameter groups, this optimizer has %d",
                             path, count, o->ngroups);
    l->groups = calloc((size_t)o->ngroups, sizeof *l->groups);
    if (!l->groups) return lam_set_error(LAM_ERR_OOM, "lam_optim_load: out of memory");
    for (int g = 0; g < o->ngroups; ++g) {
        char key[32];
        snprintf(key, sizeof key, "group.%d", g);
        const char *v = lam_st_metadata(f, key);
        lam_sgd_options *s = &l->groups[g].sgd;
        lam_adam_options *a = &l->groups[g].adam;
        int size = -1, nesterov = 0, used = -1, got;
        if (!v) got = 0;
        else if (o->kind == LAM_OPTIM_SGD)
            got = sscanf(v, SGD_GROUP_IN, &s->lr, &s->momentum, &s->dampening, &s->weight_decay, &nesterov, &size,
                         &used) == 6;
        else
            got = sscanf(v, ADAM_GROUP_IN, &a->lr, &a->beta1, &a->beta2, &a->eps, &a->weight_decay, &size, &used) == 6;
        s->nesterov = nesterov != 0;
        if (!got || used < 0 || v[used] || !plausible(o, &l->groups[g]))
            return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s: group %d is missing or malformed (\"%s\")", path,
                                 g, v ? v : "");
        if (size != lam_optim_group_size(o, g))
            return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s: group %d has %d parameters in the file, %d here",
                                 path, g, size, lam_optim_group_size(o, g));
    }
    return LAM_OK;
}

/* The schedule's state: present in the file exactly when the optimizer has a schedule,
 * of the same kind and configuration. */
static lam_status read_schedule(lam_optim *o, const lam_st_file *f, const char *path, lam_optim_loaded *l) {
    const char *desc = lam_st_metadata(f, "schedule");
    char mine[512] = "";
    if (o->schedule) lam_schedule_describe(o->schedule, mine, sizeof mine);
    if (!desc && !o->schedule) return LAM_OK;
    if (!desc || !o->schedule || strcmp(desc, mine))
        return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s holds %s%s; this optimizer has %s%s", path,
                             desc ? "the schedule " : "no schedule", desc ? desc : "",
                             o->schedule ? "the schedule " : "no schedule", mine);
    const char *steps = lam_st_metadata(f, "schedule.steps"), *lrs = lam_st_metadata(f, "schedule.base_lrs");
    int n = (int)lam_schedule_base_count(o->schedule);
    l->base_lrs = calloc((size_t)n + 1, sizeof *l->base_lrs);
    if (!l->base_lrs) return lam_set_error(LAM_ERR_OOM, "lam_optim_load: out of memory");
    char *end = NULL;
    l->schedule_steps = steps ? strtoll(steps, &end, 10) : -1;
    bool ok = steps && !*end && l->schedule_steps >= 0 && lrs;
    for (int g = 0; ok && g < n; ++g) {
        l->base_lrs[g] = strtod(lrs, &end);
        ok = end != lrs;
        lrs = end;
    }
    if (!ok || (lrs && *lrs))
        return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s: the schedule's steps or base lrs are malformed",
                             path);
    l->schedule = true;
    return LAM_OK;
}

/* Reads every state tensor onto its parameter's device, with its step count. */
static lam_status read_state(lam_optim *o, const lam_st_file *f, const int *found, lam_optim_loaded *l) {
    int slots = l->slots;
    for (int i = 0; i < o->nparams; ++i) {
        int k = found[i * (slots + 1) + slots];
        if (k) memcpy(&l->steps[i], lam_st_data(f, lam_st_at(f, k - 1)), sizeof *l->steps);
        for (int s = 0; s < slots; ++s) {
            k = found[i * (slots + 1) + s];
            if (!k) continue;
            lam_tensor *t = lam_st_tensor(f, lam_st_at(f, k - 1)->name, lam_tensor_device(o->params[i].param));
            if (!t) return lam_last_status();
            l->fresh[i * slots + s] = lam_keep(t);
        }
    }
    return LAM_OK;
}

static lam_status check_header(const lam_optim *o, const lam_st_file *f, const char *path) {
    const char *fmt = lam_st_metadata(f, "format"), *kind = lam_st_metadata(f, "optimizer");
    if (!fmt || strcmp(fmt, "lamina-optim") || !kind)
        return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s is not a lamina optimizer state file", path);
    if (strcmp(kind, kind_ids[o->kind]))
        return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s holds %s state, this optimizer is %s", path, kind,
                             kind_ids[o->kind]);
    return LAM_OK;
}

lam_optim_loaded *lam_optim_load_prepare(lam_optim *o, const char *path) {
    if (!o || !path) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_optim_load: NULL argument");
    if (lam_optim_refresh(o) != LAM_OK) return NULL;
    lam_optim_loaded *l = calloc(1, sizeof *l);
    if (!l) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_optim_load: out of memory");
    l->slots = lam_optim_state_count(o);
    l->nfresh = o->nparams * l->slots;
    l->fresh = calloc((size_t)l->nfresh + 1, sizeof *l->fresh);
    l->steps = calloc((size_t)o->nparams + 1, sizeof *l->steps);
    int *found = calloc((size_t)(o->nparams * (l->slots + 1) + 1), sizeof *found);
    lam_status st = LAM_OK;
    if (!found || !l->fresh || !l->steps) st = lam_set_error(LAM_ERR_OOM, "lam_optim_load: out of memory");
    if (st == LAM_OK) st = (l->f = lam_st_open(path)) ? LAM_OK : lam_last_status();
    if (st == LAM_OK) st = check_header(o, l->f, path);
    if (st == LAM_OK) st = validate_state(o, l->f, path, found);
    if (st == LAM_OK) st = read_groups(o, l->f, path, l);
    if (st == LAM_OK) st = read_schedule(o, l->f, path, l);
    if (st == LAM_OK) st = read_state(o, l->f, found, l);
    if (st == LAM_OK) {
        const char *steps = lam_st_metadata(l->f, "steps");
        l->optim_steps = steps ? parse_count(steps) : 0;
    }
    free(found);
    if (st != LAM_OK) {
        lam_optim_loaded_free(l);
        return NULL;
    }
    return l;
}

void lam_optim_load_commit(lam_optim *o, lam_optim_loaded *l) {
    o->steps = l->optim_steps;
    for (int i = 0; i < o->nparams; ++i) {
        lam_optim_param *p = &o->params[i];
        p->step = l->steps[i];
        for (int s = 0; s < LAM_OPTIM_MAX_STATE; ++s) {
            if (p->state[s]) lam_release(p->state[s]);
            p->state[s] = s < l->slots ? l->fresh[i * l->slots + s] : NULL;
            if (s < l->slots) l->fresh[i * l->slots + s] = NULL;
        }
    }
    for (int g = 0; l->groups && g < o->ngroups; ++g) {
        o->groups[g].sgd = l->groups[g].sgd;
        o->groups[g].adam = l->groups[g].adam;
    }
    if (l->schedule) lam_schedule_restore(o->schedule, l->schedule_steps, l->base_lrs);
    lam_optim_loaded_free(l);
}

lam_status lam_optim_load(lam_optim *o, const char *path) {
    lam_optim_loaded *l = lam_optim_load_prepare(o, path);
    if (!l) return lam_last_status();
    lam_optim_load_commit(o, l);
    return LAM_OK;
}
