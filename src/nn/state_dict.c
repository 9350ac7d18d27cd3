/* A module's state_dict: parameters and persistent buffers by dotted name, in memory
 * (lam_module_state_dict) and as safetensors (lam_save). Loading is in state_dict_load.c. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "lamina/autograd.h"
#include "lamina/state_dict.h"
#include "nn/module_impl.h"

/* Refuses a tree with a lazy layer still waiting: it has no tensors to save or share yet. */
static lam_status check_materialized(lam_module *m, const char *op) {
    char path[256];
    if (!lam_module_find_pending(m, path, sizeof path)) return LAM_OK;
    return lam_set_error(LAM_ERR_STATE, "%s: lazy layer %s has no parameters yet; run a forward first", op,
                         *path ? path : "(the root)");
}

/* Adds a detached view of t (same storage, no grad) under name. */
static lam_status add_detached(const char *name, lam_tensor *t, void *user) {
    lam_tensor *v = lam_detach(t);
    return v ? lam_state_dict_set(user, name, v) : lam_last_status();
}

/* The state_dict of m, for op's messages. */
static lam_state_dict *state_dict_of(lam_module *m, const char *op) {
    if (!m) {
        lam_null_arg(op);
        return NULL;
    }
    if (check_materialized(m, op) != LAM_OK) return NULL;
    lam_state_dict *sd = lam_state_dict_new();
    if (!sd) return NULL;
    lam_scope_begin();   /* the views go to the dict; the scope only holds them meanwhile */
    lam_status st = lam_module_walk_state(m, add_detached, NULL, sd);
    lam_scope_end();
    if (st == LAM_OK) return sd;
    lam_state_dict_free(sd);
    return NULL;
}

lam_state_dict *lam_module_state_dict(lam_module *m) { return state_dict_of(m, "lam_module_state_dict"); }

lam_status lam_save(lam_module *m, const char *path) {
    if (!path) {
        lam_null_arg("lam_save");
        return lam_last_status();
    }
    lam_state_dict *sd = state_dict_of(m, "lam_save");
    lam_status st = sd ? lam_state_dict_set_metadata(sd, "format", "pt") : lam_last_status();
    if (st == LAM_OK) st = lam_state_dict_set_metadata(sd, "producer", "lamina");
    if (st == LAM_OK) st = lam_safetensors_save(sd, path);
    lam_state_dict_free(sd);
    return st;
}
