/* train_mnist's checkpoints as one unit: PATH (model), PATH.optim (optimizer, schedule, random
 * generator) and PATH.state (epochs done, settings) are first written whole as PATH.next*,
 * PATH.next.state last; then each is renamed over its old file, PATH.state last. Each file is
 * written atomically, but three renames are not one, so a run killed in between (a rank of a
 * distributed job dying, a machine failing) leaves PATH.next.state behind, and
 * train_checkpoint_recover, before any resume, finishes the renames. A run killed before
 * PATH.next.state exists leaves the old checkpoint as it was (its PATH.next* are dropped). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "train_mnist.h"

static void name(char *out, size_t size, const char *path, const char *suffix) {
    snprintf(out, size, "%s%s", path, suffix);
}

/* Renames PATH.next<suffix> over PATH<suffix> when it exists. */
static int roll_forward(const char *path, const char *suffix) {
    char from[4200], to[4200];
    snprintf(from, sizeof from, "%s.next%s", path, suffix);
    name(to, sizeof to, path, suffix);
    if (rename(from, to) == 0 || errno == ENOENT) return 0;   /* ENOENT: done already (by another rank) */
    fprintf(stderr, "train_mnist: cannot rename %s to %s: %s\n", from, to, strerror(errno));
    return 1;
}

int train_checkpoint_recover(const char *path) {
    char state[4200];
    snprintf(state, sizeof state, "%s.next.state", path);
    if (access(state, F_OK) == 0)   /* a complete new checkpoint, partly renamed */
        return roll_forward(path, ".optim") || roll_forward(path, "") || roll_forward(path, ".state");
    char other[4200];   /* an incomplete one: the old checkpoint stands */
    snprintf(other, sizeof other, "%s.next", path);
    remove(other);
    snprintf(other, sizeof other, "%s.next.optim", path);
    remove(other);
    return 0;
}

int train_checkpoint_save(const char *path, lam_module *net, lam_optim *opt, const train_options *o, int epochs_done) {
    char next[4200];
    snprintf(next, sizeof next, "%s.next", path);
    if (lam_checkpoint_save(next, net, opt) != LAM_OK) {
        fprintf(stderr, "train_mnist: %s: %s\n", path, lam_last_error());
        return 1;
    }
    if (train_write_state(next, o, epochs_done)) return 1;
    return train_checkpoint_recover(path);
}
