/* Optimizer state as safetensors: for each parameter that has stepped,
 *   state.<param name>.<slot>   f32, the parameter's shape (momentum_buffer; exp_avg, exp_avg_sq)
 *   state.<param name>.step     i64 (1,), the steps it took
 * and metadata {"format": "lamina-optim", "optimizer": "sgd" | "adam" | "adamw",
 * "steps": "<lam_optim_step calls>"}. Loading validates the whole file before changing
 * anything: another optimizer's state, unknown keys or mis-shaped tensors fail. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "optim/optim_impl.h"

static const char *const kind_ids[LAM_OPTIM_KIND_COUNT] = {"sgd", "adam", "adamw"};

lam_status lam_optim_save(lam_optim *o, const char *path) {
    if (!o || !path) return lam_set_error(LAM_ERR_ARG, "lam_optim_save: NULL argument");
    lam_status st = lam_optim_refresh(o);
    if (st != LAM_OK) return st;
    int slots = lam_optim_state_count(o), cap = o->nparams * (slots + 1), n = 0;
    char **names = calloc((size_t)(cap ? cap : 1), sizeof *names);
    lam_tensor **tensors = calloc((size_t)(cap ? cap : 1), sizeof *tensors);
    if (!names || !tensors) {
        free(names);
        free(tensors);
        return lam_set_error(LAM_ERR_OOM, "lam_optim_save: out of memory");
    }
    lam_scope_begin();
    for (int i = 0; i < o->nparams && st == LAM_OK; ++i) {
        lam_optim_param *p = &o->params[i];
        if (p->step == 0 && !p->state[0]) continue;
        for (int s = 0; s <= slots && st == LAM_OK; ++s) {
            const char *slot = s < slots ? lam_optim_state_name(o, s) : "step";
            size_t len = strlen(p->name) + strlen(slot) + 8;
            names[n] = malloc(len);
            if (!names[n]) {
                st = lam_set_error(LAM_ERR_OOM, "lam_optim_save: out of memory");
                break;
            }
            snprintf(names[n], len, "state.%s.%s", p->name, slot);
            tensors[n] = s < slots ? p->state[s] : lam_from_data(&p->step, LAM_I64, LAM_SHAPE(1), lam_device_get("cpu"));
            if (!tensors[n]) {
                if (s < slots) st = lam_set_error(LAM_ERR_STATE, "lam_optim_save: %s has no %s", p->name, slot);
                else st = lam_last_status();
            }
            n++;
        }
    }
    if (st == LAM_OK) {
        char meta[256];
        snprintf(meta, sizeof meta, "{\"format\": \"lamina-optim\", \"optimizer\": \"%s\", \"steps\": \"%lld\"}",
                 kind_ids[o->kind], (long long)o->steps);
        st = lam_st_write(path, n, (const char *const *)names, tensors, meta);
    }
    lam_scope_end();
    for (int i = 0; i < n; ++i) free(names[i]);
    free(names);
    free(tensors);
    return st;
}

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

/* A non-negative decimal integer, or -1 if text is anything else. */
static int64_t parse_count(const char *text) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    return errno || *text < '0' || *text > '9' || *end || v < 0 ? -1 : (int64_t)v;   /* no sign, no spaces */
}

/* Checks every entry; fills found[i * (slots + 1) + s] with entry indices (+1). */
static lam_status validate(lam_optim *o, const lam_st_file *f, const char *path, int *found) {
    const char *fmt = lam_st_metadata(f, "format"), *kind = lam_st_metadata(f, "optimizer");
    if (!fmt || strcmp(fmt, "lamina-optim") || !kind)
        return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s is not a lamina optimizer state file", path);
    if (strcmp(kind, kind_ids[o->kind]))
        return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s holds %s state, this optimizer is %s", path, kind,
                             kind_ids[o->kind]);
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
        int have = 0;
        for (int s = 0; s <= slots; ++s) have += found[i * (slots + 1) + s] != 0;
        if (have != 0 && have != slots + 1)
            return lam_set_error(LAM_ERR_FORMAT, "lam_optim_load: %s: the state of %s is incomplete", path,
                                 o->params[i].name);
    }
    return LAM_OK;
}

lam_status lam_optim_load(lam_optim *o, const char *path) {
    if (!o || !path) return lam_set_error(LAM_ERR_ARG, "lam_optim_load: NULL argument");
    lam_status st = lam_optim_refresh(o);
    if (st != LAM_OK) return st;
    lam_st_file *f = lam_st_open(path);
    if (!f) return lam_last_status();
    int slots = lam_optim_state_count(o);
    int *found = calloc((size_t)(o->nparams * (slots + 1) + 1), sizeof *found);
    lam_tensor **fresh = calloc((size_t)(o->nparams * slots + 1), sizeof *fresh);
    if (!found || !fresh) st = lam_set_error(LAM_ERR_OOM, "lam_optim_load: out of memory");
    if (st == LAM_OK) st = validate(o, f, path, found);
    /* read every tensor onto its parameter's device before replacing anything */
    for (int i = 0; st == LAM_OK && i < o->nparams; ++i)
        for (int s = 0; st == LAM_OK && s < slots; ++s) {
            int k = found[i * (slots + 1) + s];
            if (!k) continue;
            lam_tensor *t = lam_st_tensor(f, lam_st_at(f, k - 1)->name, lam_tensor_device(o->params[i].param));
            if (!t) st = lam_last_status();
            else fresh[i * slots + s] = lam_keep(t);
        }
    if (st == LAM_OK) {
        const char *steps = lam_st_metadata(f, "steps");
        o->steps = steps ? parse_count(steps) : 0;
        for (int i = 0; i < o->nparams; ++i) {
            lam_optim_param *p = &o->params[i];
            int k = found[i * (slots + 1) + slots];
            p->step = 0;
            if (k) memcpy(&p->step, lam_st_data(f, lam_st_at(f, k - 1)), sizeof p->step);
            for (int s = 0; s < LAM_OPTIM_MAX_STATE; ++s) {
                if (p->state[s]) lam_release(p->state[s]);
                p->state[s] = s < slots ? fresh[i * slots + s] : NULL;
                if (s < slots) fresh[i * slots + s] = NULL;
            }
        }
    }
    for (int i = 0; fresh && i < o->nparams * slots; ++i)
        if (fresh[i]) lam_release(fresh[i]);
    free(found);
    free(fresh);
    lam_st_close(f);
    return st;
}
