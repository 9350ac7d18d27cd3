/* Learning-rate schedules: torch.optim.lr_scheduler's StepLR, CosineAnnealingLR and
 * OneCycleLR, in closed form from the step count (in double precision, as PyTorch's Python
 * floats), setting each group's lr (and momentum or beta1) at every step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "optim/optim_impl.h"

typedef enum { SCHED_STEP, SCHED_COSINE, SCHED_ONE_CYCLE } sched_kind;

struct lam_schedule {
    sched_kind kind;
    lam_optim *optim;           /* the owner */
    int64_t steps;              /* PyTorch's last_epoch */
    int ngroups;
    double *base_lrs;           /* each group's lr when the schedule was made */
    lam_step_lr_options step;
    lam_cosine_lr_options cosine;
    lam_one_cycle_options cycle;
};

/* One phase of a one-cycle schedule: lr and momentum move from start to end as the step
 * goes up to end_step (PyTorch's _schedule_phases). */
typedef struct {
    double end_step, lr0, lr1, m0, m1;
} phase;

static int one_cycle_phases(const lam_one_cycle_options *c, phase out[3]) {
    double total = (double)c->total_steps, lo = c->max_lr / c->div_factor, hi = c->max_lr;
    double last = lo / c->final_div_factor, mmax = c->max_momentum, mbase = c->base_momentum;
    if (!c->three_phase) {
        out[0] = (phase){c->pct_start * total - 1, lo, hi, mmax, mbase};
        out[1] = (phase){total - 1, hi, last, mbase, mmax};
        return 2;
    }
    out[0] = (phase){c->pct_start * total - 1, lo, hi, mmax, mbase};
    out[1] = (phase){2 * c->pct_start * total - 2, hi, lo, mbase, mmax};
    out[2] = (phase){total - 1, lo, last, mmax, mmax};
    return 3;
}

static double anneal(lam_anneal how, double start, double end, double pct) {
    if (how == LAM_ANNEAL_LINEAR) return (end - start) * pct + start;
    return end + (start - end) / 2.0 * (cos(M_PI * pct) + 1);
}

/* The one-cycle lr and momentum at step t. */
static void one_cycle_at(const lam_one_cycle_options *c, int64_t t, double *lr, double *momentum) {
    phase ph[3];
    int n = one_cycle_phases(c, ph);
    double start = 0, x = (double)t;
    for (int i = 0; i < n; ++i) {
        if (x <= ph[i].end_step || i == n - 1) {
            double pct = (x - start) / (ph[i].end_step - start);
            *lr = anneal(c->anneal, ph[i].lr0, ph[i].lr1, pct);
            *momentum = anneal(c->anneal, ph[i].m0, ph[i].m1, pct);
            return;
        }
        start = ph[i].end_step;
    }
}

static double lr_at(const lam_schedule *s, int group, int64_t t) {
    double base = s->base_lrs[group];
    switch (s->kind) {
    case SCHED_STEP: return base * pow(s->step.gamma, (double)(t / s->step.step_size));
    case SCHED_COSINE: {
        double lo = s->cosine.eta_min;
        return lo + (base - lo) * (1 + cos(M_PI * (double)t / (double)s->cosine.t_max)) / 2;
    }
    case SCHED_ONE_CYCLE: break;
    }
    double lr, momentum;
    one_cycle_at(&s->cycle, t, &lr, &momentum);
    return lr;
}

/* Sets every group's lr (and momentum) to the values of step t. */
static void apply(lam_schedule *s, int64_t t) {
    for (int g = 0; g < s->ngroups; ++g) *lam_optim_group_lr_ptr(s->optim, g) = (float)lr_at(s, g, t);
    if (s->kind != SCHED_ONE_CYCLE || s->cycle.no_cycle_momentum) return;
    double lr, momentum;
    one_cycle_at(&s->cycle, t, &lr, &momentum);
    for (int g = 0; g < s->ngroups; ++g) *lam_optim_group_momentum_ptr(s->optim, g) = (float)momentum;
}

static lam_schedule *attach(lam_optim *o, lam_schedule *proto, const char *op) {
    if (!o) LAM_FAIL_NULL(LAM_ERR_ARG, "%s: optimizer is NULL", op);
    if (o->schedule) LAM_FAIL_NULL(LAM_ERR_STATE, "%s: the optimizer has a schedule already", op);
    lam_schedule *s = malloc(sizeof *s);
    double *base = malloc((size_t)o->ngroups * sizeof *base);
    if (!s || !base) {
        free(s);
        free(base);
        LAM_FAIL_NULL(LAM_ERR_OOM, "%s: out of memory", op);
    }
    *s = *proto;
    s->optim = o;
    s->steps = 0;
    s->ngroups = o->ngroups;
    s->base_lrs = base;
    for (int g = 0; g < o->ngroups; ++g)
        base[g] = s->kind == SCHED_ONE_CYCLE ? s->cycle.max_lr / s->cycle.div_factor : lam_optim_group_lr(o, g);
    apply(s, 0);
    o->schedule = s;
    return s;
}

lam_schedule *lam_step_lr(lam_optim *o, lam_step_lr_options opt) {
    if (opt.gamma == 0) opt.gamma = 0.1;
    if (opt.step_size <= 0 || !(opt.gamma > 0))
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_step_lr: step_size %lld must be > 0 and gamma %g > 0",
                      (long long)opt.step_size, opt.gamma);
    return attach(o, &(lam_schedule){.kind = SCHED_STEP, .step = opt}, "lam_step_lr");
}

lam_schedule *lam_cosine_lr(lam_optim *o, lam_cosine_lr_options opt) {
    if (opt.t_max <= 0 || !(opt.eta_min >= 0))
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_cosine_lr: t_max %lld must be > 0 and eta_min %g >= 0", (long long)opt.t_max,
                      opt.eta_min);
    return attach(o, &(lam_schedule){.kind = SCHED_COSINE, .cosine = opt}, "lam_cosine_lr");
}

static bool one_cycle_valid(const lam_one_cycle_options *c) {
    bool ok = c->max_lr > 0 && c->total_steps > 0 && c->pct_start > 0 && c->pct_start <= 1 && c->div_factor > 0 &&
              c->final_div_factor > 0 && (c->anneal == LAM_ANNEAL_COS || c->anneal == LAM_ANNEAL_LINEAR) &&
              c->base_momentum >= 0 && c->base_momentum < 1 && c->max_momentum >= 0 && c->max_momentum < 1;
    if (!ok) return false;
    phase ph[3];
    int n = one_cycle_phases(c, ph);
    double start = 0;
    for (int i = 0; i < n; ++i) {   /* a phase of no length would divide by zero */
        if (ph[i].end_step == start) return false;
        start = ph[i].end_step;
    }
    return true;
}

lam_schedule *lam_one_cycle_lr(lam_optim *o, lam_one_cycle_options opt) {
    if (opt.pct_start == 0) opt.pct_start = 0.3;
    if (opt.div_factor == 0) opt.div_factor = 25;
    if (opt.final_div_factor == 0) opt.final_div_factor = 1e4;
    if (opt.base_momentum == 0) opt.base_momentum = 0.85;
    if (opt.max_momentum == 0) opt.max_momentum = 0.95;
    if (!one_cycle_valid(&opt))
        LAM_FAIL_NULL(LAM_ERR_ARG,
                      "lam_one_cycle_lr: bad options max_lr %g total_steps %lld pct_start %g div_factor %g "
                      "final_div_factor %g momentum %g..%g (a phase may not be empty)",
                      opt.max_lr, (long long)opt.total_steps, opt.pct_start, opt.div_factor, opt.final_div_factor,
                      opt.base_momentum, opt.max_momentum);
    return attach(o, &(lam_schedule){.kind = SCHED_ONE_CYCLE, .cycle = opt}, "lam_one_cycle_lr");
}

lam_status lam_schedule_step(lam_schedule *s) {
    if (!s) return lam_set_error(LAM_ERR_ARG, "lam_schedule_step: schedule is NULL");
    if (s->optim->ngroups != s->ngroups)
        return lam_set_error(LAM_ERR_STATE, "lam_schedule_step: the optimizer has %d groups, the schedule knows %d",
                             s->optim->ngroups, s->ngroups);
    int64_t t = s->steps + 1;
    if (s->kind == SCHED_ONE_CYCLE && t > s->cycle.total_steps)
        return lam_set_error(LAM_ERR_STATE, "lam_schedule_step: tried to step %lld times; total_steps is %lld",
                             (long long)t + 1, (long long)s->cycle.total_steps);
    apply(s, t);
    s->steps = t;
    return LAM_OK;
}

int64_t lam_schedule_steps(const lam_schedule *s) { return s ? s->steps : 0; }

void lam_schedule_free(lam_schedule *s) {
    if (!s) return;
    if (s->optim && s->optim->schedule == s) s->optim->schedule = NULL;
    free(s->base_lrs);
    free(s);
}

/* The shortest decimal text of v that reads back as v. */
static const char *exact(double v, char buf[32]) {
    for (int digits = 15; digits <= 17; ++digits) {
        snprintf(buf, 32, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    return buf;
}

void lam_schedule_describe(const lam_schedule *s, char *buf, size_t size) {
    char a[32], b[32], c[32], d[32], e[32], f[32];
    switch (s->kind) {
    case SCHED_STEP:
        snprintf(buf, size, "step step_size=%lld gamma=%s", (long long)s->step.step_size, exact(s->step.gamma, a));
        return;
    case SCHED_COSINE:
        snprintf(buf, size, "cosine t_max=%lld eta_min=%s", (long long)s->cosine.t_max, exact(s->cosine.eta_min, a));
        return;
    case SCHED_ONE_CYCLE: break;
    }
    const lam_one_cycle_options *o = &s->cycle;
    snprintf(buf, size,
             "onecycle max_lr=%s total_steps=%lld pct_start=%s anneal=%s div_factor=%s final_div_factor=%s "
             "cycle_momentum=%d base_momentum=%s max_momentum=%s three_phase=%d",
             exact(o->max_lr, a), (long long)o->total_steps, exact(o->pct_start, b),
             o->anneal == LAM_ANNEAL_COS ? "cos" : "linear", exact(o->div_factor, c), exact(o->final_div_factor, d),
             !o->no_cycle_momentum, exact(o->base_momentum, e), exact(o->max_momentum, f), o->three_phase);
}

int64_t lam_schedule_base_count(const lam_schedule *s) { return s->ngroups; }
double lam_schedule_base_lr(const lam_schedule *s, int group) { return s->base_lrs[group]; }

void lam_schedule_restore(lam_schedule *s, int64_t steps, const double *base_lrs) {
    s->steps = steps;
    memcpy(s->base_lrs, base_lrs, (size_t)s->ngroups * sizeof *base_lrs);
}
