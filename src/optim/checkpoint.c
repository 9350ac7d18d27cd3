/* Training checkpoints: the model's state_dict in path (lam_save's safetensors), and in
 * path.optim the optimizer's state with its groups and schedule plus this thread's random
 * generator (metadata "rng": "<seed> <counter>"). Loading reads and validates the optimizer
 * file, then loads the model (which validates its own file first), and only then changes
 * the optimizer and the generator. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "optim/optim_impl.h"

static char *optim_path(const char *path) {
    size_t len = strlen(path) + sizeof ".optim";
    char *p = malloc(len);
    if (p) snprintf(p, len, "%s.optim", path);
    else lam_set_error(LAM_ERR_OOM, "lam_checkpoint: out of memory");
    return p;
}

lam_status lam_checkpoint_save(const char *path, lam_module *m, lam_optim *o) {
    if (!path || !m || !o) return lam_set_error(LAM_ERR_ARG, "lam_checkpoint_save: NULL argument");
    char *op = optim_path(path);
    if (!op) return lam_last_status();
    lam_rng r = lam_rng_state();
    char extra[96];
    snprintf(extra, sizeof extra, ", \"rng\": \"%" PRIu64 " %" PRIu64 "\"", r.seed, r.counter);
    lam_status st = lam_save(m, path);
    if (st == LAM_OK) st = lam_optim_save_with(o, op, extra);
    free(op);
    return st;
}

static bool parse_rng(const char *s, lam_rng *out) {
    int used = -1;
    return s && sscanf(s, "%" SCNu64 " %" SCNu64 "%n", &out->seed, &out->counter, &used) == 2 && used > 0 && !s[used];
}

lam_status lam_checkpoint_load(const char *path, lam_module *m, lam_optim *o) {
    if (!path || !m || !o) return lam_set_error(LAM_ERR_ARG, "lam_checkpoint_load: NULL argument");
    char *op = optim_path(path);
    if (!op) return lam_last_status();
    lam_optim_loaded *l = lam_optim_load_prepare(o, op);
    lam_status st = l ? LAM_OK : lam_last_status();
    lam_rng rng;
    if (st == LAM_OK && !parse_rng(lam_optim_loaded_metadata(l, "rng"), &rng))
        st = lam_set_error(LAM_ERR_FORMAT, "lam_checkpoint_load: %s holds no random generator state (not a checkpoint)",
                           op);
    if (st == LAM_OK) st = lam_load(m, path);
    if (st == LAM_OK) {
        lam_optim_load_commit(o, l);
        lam_rng_set_state(rng);
    } else {
        lam_optim_loaded_free(l);
    }
    free(op);
    return st;
}
