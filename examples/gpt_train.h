/* What the two GPT programs (gpt_sort.c, gpt_chars.c) share to train: the options, the
 * random numbers that pick batches (splitmix64, which examples/gpt_twin.py repeats), the
 * optimizer recipe, the loss, one training step and a progress bar. */
#ifndef LAMINA_EXAMPLE_GPT_TRAIN_H
#define LAMINA_EXAMPLE_GPT_TRAIN_H

#include <stdio.h>

#include "gpt.h"

typedef struct {
    const char *device, *save, *save_init, *losses;
    int64_t steps, batch, eval_every;
    double lr, weight_decay, grad_clip;
    uint64_t seed;
    gpt_config model;
} gpt_options;

/* Parses the options every GPT program takes (prog names them in messages); extra(arg,
 * value) handles the program's own and returns false for unknown ones. 0 on success, 1 on
 * a bad option (message printed), 2 after --help. */
int gpt_parse(const char *prog, int argc, char **argv, gpt_options *o, const char *usage_extra,
              bool (*extra)(const char *arg, const char *value, void *user), void *user);
bool gpt_parse_num(const char *s, double lo, double hi, double *out);

/* splitmix64: the batch generator both lamina and the PyTorch twin use. */
uint64_t gpt_rand_next(uint64_t *state);

/* minGPT's recipe: AdamW (betas 0.9, 0.95) whose weight decay applies to the weights of
 * Linear layers and MultiheadAttention's in_proj_weight only (a second group, weight decay
 * 0, holds the biases, norms and embeddings: lam_param_no_decay), and a cosine schedule
 * from lr down to lr / 10 over the steps (*sched, owned by the optimizer). */
lam_optim *gpt_optimizer(lam_module *m, const gpt_options *o, lam_schedule **sched);
/* Mean cross-entropy of logits (B, T, V) against targets (B, T) i64; targets equal to
 * ignore_index count for nothing. */
lam_tensor *gpt_loss(lam_tensor *logits, lam_tensor *targets, int64_t ignore_index);
/* One step: zero grads, forward, loss, backward, clip the gradients' global norm to
 * grad_clip (if > 0), update, step the schedule. The loss, or NAN on error. */
double gpt_train_step(lam_module *m, lam_optim *opt, lam_schedule *sched, lam_tensor *x, lam_tensor *y,
                      int64_t ignore_index, const gpt_options *o);

/* "\rstep 120/2000 [#######.......] loss 1.2345 12345 tok/s" on a terminal, else nothing. */
void gpt_progress(int64_t step, int64_t steps, double loss, double tokens_per_s);
/* Seconds on a monotonic clock. */
double gpt_now(void);
/* Prints "prog: what: <lam_last_error()>" to stderr; returns 1. */
int gpt_fail(const char *prog, const char *what);

#endif
