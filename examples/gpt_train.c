/* Training helpers shared by the GPT programs (gpt_train.h). */
#include "gpt_train.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double gpt_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int gpt_fail(const char *prog, const char *what) {
    fprintf(stderr, "%s: %s: %s\n", prog, what, lam_last_error());
    return 1;
}

bool gpt_parse_num(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

/* The options with numbers: where each goes and its range. */
static bool parse_common(const char *a, const char *v, gpt_options *o) {
    double x;
    static const struct { const char *name; double lo, hi; int kind; size_t at; } nums[] = {
#define NUM(flag, lo, hi, kind, field) {flag, lo, hi, kind, offsetof(gpt_options, field)}
        NUM("--steps", 0, 1e9, 1, steps), NUM("--batch", 1, 1e6, 1, batch), NUM("--eval-every", 1, 1e9, 1, eval_every),
        NUM("--lr", 0, 10, 0, lr), NUM("--weight-decay", 0, 10, 0, weight_decay), NUM("--grad-clip", 0, 1e9, 0, grad_clip),
        NUM("--seed", 0, 9e15, 2, seed), NUM("--n-layer", 1, 64, 1, model.n_layer), NUM("--n-head", 1, 1024, 1, model.n_head),
        NUM("--n-embd", 1, 65536, 1, model.n_embd), NUM("--block-size", 2, 65536, 1, model.block_size),
#undef NUM
    };
    if (!strcmp(a, "--device")) o->device = v;
    else if (!strcmp(a, "--save")) o->save = v;
    else if (!strcmp(a, "--save-init")) o->save_init = v;
    else if (!strcmp(a, "--losses")) o->losses = v;
    else {
        for (size_t i = 0; i < sizeof nums / sizeof *nums; ++i) {
            if (strcmp(a, nums[i].name)) continue;
            if (!gpt_parse_num(v, nums[i].lo, nums[i].hi, &x)) return false;
            char *field = (char *)o + nums[i].at;
            if (nums[i].kind == 0) *(double *)field = x;
            else if (nums[i].kind == 1) *(int64_t *)field = (int64_t)x;
            else *(uint64_t *)field = (uint64_t)x;
            return true;
        }
        return false;
    }
    return true;
}

int gpt_parse(const char *prog, int argc, char **argv, gpt_options *o, const char *usage_extra,
              bool (*extra)(const char *arg, const char *value, void *user), void *user) {
    for (int i = 1; i < argc; i += 2) {   /* every option takes a value */
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: %s [--device SPEC] [--steps N] [--batch N] [--lr F] [--weight-decay F] [--grad-clip F]\n"
                   "       [--seed N] [--n-layer N] [--n-head N] [--n-embd N] [--block-size N] [--eval-every N]\n"
                   "       [--save PATH] [--save-init PATH] [--losses PATH]%s\n",
                   prog, usage_extra);
            return 2;
        }
        if (i + 1 >= argc || !(parse_common(a, argv[i + 1], o) || (extra && extra(a, argv[i + 1], user)))) {
            fprintf(stderr, "%s: bad option %s%s%s (--help lists them)\n", prog, a, i + 1 < argc ? " " : "",
                    i + 1 < argc ? argv[i + 1] : "");
            return 1;
        }
    }
    if (o->model.n_embd % o->model.n_head) {
        fprintf(stderr, "%s: --n-embd %lld is not divisible by --n-head %lld\n", prog, (long long)o->model.n_embd,
                (long long)o->model.n_head);
        return 1;
    }
    return 0;
}

uint64_t gpt_rand_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

lam_optim *gpt_optimizer(lam_module *m, const gpt_options *o, lam_schedule **sched) {
    lam_optim *opt = lam_adamw(m, (lam_adam_options){.lr = (float)o->lr, .beta1 = 0.9f, .beta2 = 0.95f,
                                                     .weight_decay = (float)o->weight_decay});
    int quiet = opt ? lam_optim_add_group(opt, (lam_param_select){.filter = lam_param_no_decay}) : -1;
    *sched = quiet < 0 ? NULL : lam_cosine_lr(opt, (lam_cosine_lr_options){.t_max = o->steps > 0 ? o->steps : 1,
                                                                          .eta_min = o->lr / 10});
    if (!*sched || lam_optim_group_set_weight_decay(opt, quiet, 0.0f) != LAM_OK) {
        lam_optim_free(opt);
        return NULL;
    }
    return opt;
}

lam_tensor *gpt_loss(lam_tensor *logits, lam_tensor *targets, int64_t ignore_index) {
    lam_cross_entropy_options ce = LAM_CROSS_ENTROPY_DEFAULTS;
    ce.ignore_index = ignore_index;
    int64_t V = lam_dim(logits, -1);
    return lam_cross_entropy_with(lam_reshape(logits, LAM_SHAPE(-1, V)), lam_reshape(targets, LAM_SHAPE(-1)), &ce);
}

double gpt_train_step(lam_module *m, lam_optim *opt, lam_schedule *sched, lam_tensor *x, lam_tensor *y,
                      int64_t ignore_index, const gpt_options *o) {
    lam_optim_zero_grad(opt);
    lam_tensor *loss = gpt_loss(lam_forward(m, x), y, ignore_index);
    if (!loss || lam_backward(loss) != LAM_OK) return NAN;
    if (o->grad_clip > 0 && !lam_clip_grad_norm(m, (float)o->grad_clip)) return NAN;
    return lam_optim_step(opt) == LAM_OK && lam_schedule_step(sched) == LAM_OK ? lam_item(loss) : NAN;
}

void gpt_progress(int64_t step, int64_t steps, double loss, double tokens_per_s) {
    if (!isatty(STDOUT_FILENO)) return;
    char bar[31];
    int fill = steps ? (int)(30 * step / steps) : 30;
    for (int i = 0; i < 30; ++i) bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    printf("\rstep %lld/%lld [%s] loss %.4f %.0f tok/s ", (long long)step, (long long)steps, bar, loss, tokens_per_s);
    fflush(stdout);
}
