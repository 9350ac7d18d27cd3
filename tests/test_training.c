/* Training infrastructure against PyTorch (tests/reference/make_optim_reference.py):
 * learning-rate schedules, parameter groups with minGPT's decay rule, clip_grad_norm_, on
 * every device; checkpoints (a resumed run equals a straight one, bit for bit); bad input. */
#define _POSIX_C_SOURCE 200809L   /* mkdtemp */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lamina.h>

#include "reference_file.h"
#include "test_util.h"

#define REF(name) LAMINA_TEST_REFERENCE_DIR "/" name

static ref_file *ref;

static int setup(void **state) {
    (void)state;
    ref = ref_open(REF("optim_ref.safetensors"));
    return ref ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    ref_close(ref);
    return 0;
}

/* The reference tensor called name as doubles (malloc'd), with its element count. */
static double *ref_values(const char *name, int64_t *n) {
    lam_scope_begin();
    lam_tensor *t = ref_tensor(ref, name, lam_device_get("cpu"));
    if (!t) fail_msg("reference %s is missing", name);
    double *v = tu_read(t);
    if (n) *n = lam_numel(t);
    lam_scope_end();
    return v;
}

/* ---- schedules: the lr and momentum of both groups after every step --------------------- */

static const lam_module_class HOLDER = {.name = "Holder"};

/* A module with two one-element parameters, "a" and "b". */
static lam_module *holder(void) {
    lam_module *m = lam_module_new(&HOLDER);
    lam_scope_begin();
    lam_add_param(m, "a", lam_zeros(LAM_SHAPE(1), lam_device_get("cpu")));
    lam_add_param(m, "b", lam_zeros(LAM_SHAPE(1), lam_device_get("cpu")));
    lam_scope_end();
    return m;
}

/* Groups like the script's two_groups: "a" in group 0 at lr0, "b" in group 1 at lr1. */
static void split(lam_optim *o, float lr1) {
    static const char *const b[] = {"b", NULL};
    assert_int_equal(lam_optim_add_group(o, (lam_param_select){.names = b}), 1);
    assert_ok(lam_optim_group_set_lr(o, 1, lr1));
}

typedef struct {
    const char *name;
    int steps;
    lam_optim *(*make)(lam_module *m);
    lam_schedule *(*schedule)(lam_optim *o);
} sched_case;

static lam_optim *sgd_step(lam_module *m) {
    lam_optim *o = lam_sgd(m, (lam_sgd_options){.lr = 0.1f});
    split(o, 0.02f);
    return o;
}
static lam_schedule *step_lr(lam_optim *o) { return lam_step_lr(o, (lam_step_lr_options){.step_size = 3}); }
static lam_optim *sgd_cosine(lam_module *m) {
    lam_optim *o = lam_sgd(m, (lam_sgd_options){.lr = 0.1f, .momentum = 0.9f});
    split(o, 0.05f);
    return o;
}
static lam_schedule *cosine(lam_optim *o) {
    return lam_cosine_lr(o, (lam_cosine_lr_options){.t_max = 7, .eta_min = 0.001});
}
static lam_optim *sgd_cycle(lam_module *m) {
    lam_optim *o = lam_sgd(m, (lam_sgd_options){.lr = 0.1f, .momentum = 0.9f});
    split(o, 0.3f);
    return o;
}
static lam_schedule *one_cycle(lam_optim *o) {
    return lam_one_cycle_lr(o, (lam_one_cycle_options){.max_lr = 0.1, .total_steps = 25});
}
static lam_optim *adam_cycle(lam_module *m) {
    lam_optim *o = lam_adam(m, (lam_adam_options){.lr = 1e-3f});
    split(o, 1e-3f);
    return o;
}
static lam_schedule *one_cycle_all(lam_optim *o) {
    return lam_one_cycle_lr(o, (lam_one_cycle_options){.max_lr = 0.01, .total_steps = 20, .pct_start = 0.25,
                                                       .anneal = LAM_ANNEAL_LINEAR, .div_factor = 10,
                                                       .final_div_factor = 100, .base_momentum = 0.8,
                                                       .max_momentum = 0.9, .three_phase = true});
}
static lam_optim *sgd_fixed(lam_module *m) {
    lam_optim *o = lam_sgd(m, (lam_sgd_options){.lr = 0.1f, .momentum = 0.7f});
    split(o, 0.1f);
    return o;
}
static lam_schedule *one_cycle_fixed(lam_optim *o) {
    return lam_one_cycle_lr(o, (lam_one_cycle_options){.max_lr = 0.05, .total_steps = 10, .no_cycle_momentum = true});
}

static const sched_case sched_cases[] = {
    {"step", 11, sgd_step, step_lr},
    {"cosine", 20, sgd_cosine, cosine},
    {"onecycle_sgd", 25, sgd_cycle, one_cycle},
    {"onecycle_adam", 20, adam_cycle, one_cycle_all},
    {"onecycle_fixed", 10, sgd_fixed, one_cycle_fixed},
};

static void check_value(const char *what, const char *name, int step, int group, double got, double want) {
    if (fabs(got - want) > 1e-6 * fabs(want) + 1e-12)
        fail_msg("%s %s, step %d, group %d: %.9g, PyTorch %.9g", name, what, step, group, got, want);
}

static void test_schedules(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof sched_cases / sizeof *sched_cases; ++c) {
        const sched_case *k = &sched_cases[c];
        char key[96];
        snprintf(key, sizeof key, "sched.%s.lr", k->name);
        double *lr = ref_values(key, NULL);
        snprintf(key, sizeof key, "sched.%s.momentum", k->name);
        double *mom = ref_values(key, NULL);
        lam_module *m = holder();
        lam_optim *o = k->make(m);
        lam_schedule *s = k->schedule(o);
        assert_non_null(s);
        for (int t = 0; t <= k->steps; ++t) {
            if (t) assert_ok(lam_schedule_step(s));
            assert_int_equal(lam_schedule_steps(s), t);
            for (int g = 0; g < 2; ++g) {
                check_value("lr", k->name, t, g, lam_optim_group_lr(o, g), lr[2 * t + g]);
                check_value("momentum", k->name, t, g, lam_optim_group_momentum(o, g), mom[2 * t + g]);
            }
        }
        if (!strncmp(k->name, "onecycle", 8)) {   /* past total_steps: an error, nothing moves */
            float before = lam_optim_lr(o);
            assert_int_equal(lam_schedule_step(s), LAM_ERR_STATE);
            assert_non_null(strstr(lam_last_error(), "total_steps"));
            assert_true(lam_optim_lr(o) == before && lam_schedule_steps(s) == k->steps);
        }
        printf("  %-15s %d steps match PyTorch\n", k->name, k->steps);
        lam_optim_free(o);   /* frees the schedule */
        lam_module_free(m);
        free(lr);
        free(mom);
    }
}

/* ---- the twin of the script's model: Linear(5, 4) - ReLU - Linear(4, 3) - Scale(3) ------- */

static lam_tensor *scale_forward(lam_module *m, lam_tensor *x) { return lam_mul(x, lam_module_param(m, "weight")); }
static const lam_module_class SCALE = {.name = "Scale", .forward = scale_forward};

static lam_module *twin(lam_device *dev) {
    lam_module *scale = lam_module_new(&SCALE);
    lam_scope_begin();
    lam_add_param(scale, "weight", lam_ones(LAM_SHAPE(3), lam_device_get("cpu")));
    lam_scope_end();
    lam_module *m = lam_nn_sequential(4, lam_nn_linear(5, 4), lam_nn_relu(), lam_nn_linear(4, 3), scale);
    assert_non_null(m);
    assert_ok(lam_module_to(m, dev));
    lam_named_tensor p[8];
    int n = lam_named_parameters(m, p, 8);
    lam_scope_begin();
    for (int i = 0; i < n; ++i) {
        char key[600];
        assert_true(snprintf(key, sizeof key, "init.%s", p[i].name) < (int)sizeof key);
        assert_ok(lam_copy_(p[i].tensor, ref_tensor(ref, key, dev)));
    }
    lam_scope_end();
    return m;
}

/* MSE of the twin on the reference batch, backpropagated (in the current scope). */
static void forward_backward(lam_module *m, lam_device *dev) {
    lam_tensor *out = lam_forward(m, ref_tensor(ref, "x", dev));
    assert_ok(lam_backward(lam_mse_loss(out, ref_tensor(ref, "y", dev))));
}

/* The largest |got - want| / (1 + |want|) over the named tensors against prefix.<name>. */
static double worst_error(lam_module *m, const char *prefix, bool grads) {
    lam_named_tensor p[8];
    int n = lam_named_parameters(m, p, 8);
    double worst = 0;
    for (int i = 0; i < n; ++i) {
        char key[600];
        assert_true(snprintf(key, sizeof key, "%s.%s", prefix, p[i].name) < (int)sizeof key);
        int64_t k;
        double *want = ref_values(key, &k), *got = tu_read(grads ? lam_grad(p[i].tensor) : p[i].tensor);
        assert_non_null(got);
        for (int64_t j = 0; j < k; ++j) worst = fmax(worst, fabs(got[j] - want[j]) / (1 + fabs(want[j])));
        free(want);
        free(got);
    }
    return worst;
}

static void test_clip_grad_norm(void **state) {
    (void)state;
    lam_device *devs[TU_MAX_DEVICES];
    int nd = tu_devices(devs, TU_MAX_DEVICES);
    double *want = ref_values("clip.norm", NULL);
    for (int d = 0; d < nd; ++d) {
        lam_module *m = twin(devs[d]);
        lam_scope_begin();
        forward_backward(m, devs[d]);
        lam_tensor *total = lam_clip_grad_norm(m, 0.5f);
        assert_non_null(total);
        assert_int_equal(lam_ndim(total), 0);
        assert_ptr_equal(lam_tensor_device(total), devs[d]);
        double norm = lam_item(total), err = worst_error(m, "clip.grad", true);
        printf("  %-30s total norm %.7f (PyTorch %.7f), clipped gradients max error %.1e\n", lam_device_name(devs[d]),
               norm, want[0], err);
        assert_true(fabs(norm - want[0]) <= 1e-6 * want[0]);
        assert_true(err <= 1e-6);
        /* below max_norm nothing changes; without gradients the norm is 0 */
        double again = lam_item(lam_clip_grad_norm(m, 10.0f));
        assert_true(fabs(again - 0.5) <= 1e-5);
        assert_true(worst_error(m, "clip.grad", true) <= 1e-6);
        lam_zero_grad(m);
        assert_true(lam_item(lam_clip_grad_norm(m, 1.0f)) == 0.0);
        lam_scope_end();
        lam_module_free(m);
    }
    free(want);
}

/* ---- training runs: groups (minGPT's rule), a schedule and clipping every step ----------- */

typedef struct {
    const char *name;
    int steps;
    float max_norm;
    lam_optim *(*make)(lam_module *m, lam_schedule **s);   /* *s: the schedule it owns */
} run_case;

/* The no-decay group of minGPT's rule; its index is 1 and it holds the biases and Scale. */
static int quiet_group(lam_optim *o) {
    int g = lam_optim_add_group(o, (lam_param_select){.filter = lam_param_no_decay});
    assert_int_equal(g, 1);
    assert_int_equal(lam_optim_group_size(o, 0), 2);
    assert_int_equal(lam_optim_group_size(o, 1), 3);
    assert_ok(lam_optim_group_set_weight_decay(o, g, 0.0f));
    return g;
}

static lam_optim *run_adamw(lam_module *m, lam_schedule **s) {
    lam_optim *o = lam_adamw(m, (lam_adam_options){.lr = 0.01f, .beta2 = 0.95f, .weight_decay = 0.1f});
    assert_ok(lam_optim_group_set_lr(o, quiet_group(o), 0.02f));
    *s = lam_cosine_lr(o, (lam_cosine_lr_options){.t_max = 6});
    return o;
}
static lam_optim *run_sgd(lam_module *m, lam_schedule **s) {
    lam_optim *o =
        lam_sgd(m, (lam_sgd_options){.lr = 0.05f, .momentum = 0.9f, .nesterov = true, .weight_decay = 5e-4f});
    quiet_group(o);
    *s = lam_one_cycle_lr(o, (lam_one_cycle_options){.max_lr = 0.1, .total_steps = 8});
    return o;
}
static lam_optim *run_adam(lam_module *m, lam_schedule **s) {
    lam_optim *o = lam_adam(m, (lam_adam_options){.lr = 0.001f, .weight_decay = 0.01f});
    quiet_group(o);
    *s = lam_one_cycle_lr(o, (lam_one_cycle_options){.max_lr = 0.02, .total_steps = 6});
    return o;
}

static lam_optim *run_sgd_cycled(lam_module *m, lam_schedule **s) {
    lam_optim *o = lam_sgd(m, (lam_sgd_options){.lr = 0.05f, .weight_decay = 1e-3f});
    quiet_group(o);
    *s = lam_one_cycle_lr(o, (lam_one_cycle_options){.max_lr = 0.1, .total_steps = 5});
    return o;
}

static const run_case run_cases[] = {
    {"adamw", 6, 0.5f, run_adamw},
    {"sgd", 8, 0.6f, run_sgd},
    {"adam", 6, 0.1f, run_adam},
    {"sgd_cycled", 5, 100.0f, run_sgd_cycled},
};

static void run(const run_case *c, lam_device *dev) {
    lam_module *m = twin(dev);
    lam_schedule *sched = NULL;
    lam_optim *o = c->make(m, &sched);
    assert_non_null(sched);
    char key[96];
    snprintf(key, sizeof key, "run.%s.norm", c->name);
    double *norms = ref_values(key, NULL), worst_norm = 0;
    for (int s = 0; s < c->steps; ++s) {
        lam_scope_begin();
        lam_optim_zero_grad(o);
        forward_backward(m, dev);
        /* the module and the optimizer variants clip the same parameters */
        lam_tensor *total = s % 2 ? lam_optim_clip_grad_norm(o, c->max_norm) : lam_clip_grad_norm(m, c->max_norm);
        worst_norm = fmax(worst_norm, fabs(lam_item(total) - norms[s]) / norms[s]);
        assert_ok(lam_optim_step(o));
        lam_scope_end();
        assert_ok(lam_schedule_step(sched));
    }
    snprintf(key, sizeof key, "run.%s", c->name);
    double err = worst_error(m, key, false);
    printf("  %-10s %-30s norms %.1e, parameters %.1e max error\n", c->name, lam_device_name(dev), worst_norm, err);
    assert_true(worst_norm <= 1e-6);
    assert_true(err <= 1e-6);
    free(norms);
    lam_optim_free(o);
    lam_module_free(m);
}

static void test_runs(void **state) {
    (void)state;
    lam_device *devs[TU_MAX_DEVICES];
    int nd = tu_devices(devs, TU_MAX_DEVICES);
    for (int d = 0; d < nd; ++d)
        for (size_t c = 0; c < sizeof run_cases / sizeof *run_cases; ++c) run(&run_cases[c], devs[d]);
}

/* ---- checkpoints: a resumed run is the straight run, bit for bit ------------------------ */

typedef struct {
    lam_module *m;
    lam_optim *o;
    lam_schedule *s;
} trainer;

/* An MLP 6-16-3 with one of two recipes: AdamW, no-decay group, one-cycle over 8 steps;
 * or SGD with momentum, the biases at half the lr, cosine over 5 steps (then periodic). */
static trainer trainer_new(int recipe, lam_device *dev, int t_max) {
    trainer t = {.m = lam_nn_sequential(3, lam_nn_linear(6, 16), lam_nn_relu(), lam_nn_linear(16, 3))};
    assert_non_null(t.m);
    assert_ok(lam_module_to(t.m, dev));
    if (recipe == 0) {
        t.o = lam_adamw(t.m, (lam_adam_options){.lr = 0.01f, .weight_decay = 0.1f});
        int g = lam_optim_add_group(t.o, (lam_param_select){.filter = lam_param_no_decay});
        assert_ok(lam_optim_group_set_weight_decay(t.o, g, 0.0f));
        t.s = lam_one_cycle_lr(t.o, (lam_one_cycle_options){.max_lr = 0.05, .total_steps = t_max});
    } else {
        static const char *const biases[] = {"0.bias", "2.bias", NULL};
        t.o = lam_sgd(t.m, (lam_sgd_options){.lr = 0.1f, .momentum = 0.9f, .weight_decay = 1e-3f});
        assert_ok(lam_optim_group_set_lr(t.o, lam_optim_add_group(t.o, (lam_param_select){.names = biases}), 0.05f));
        t.s = lam_cosine_lr(t.o, (lam_cosine_lr_options){.t_max = t_max, .eta_min = 1e-3});
    }
    assert_non_null(t.s);
    return t;
}

static void trainer_free(trainer *t) {
    lam_optim_free(t->o);
    lam_module_free(t->m);
}

/* n steps on random batches drawn from the generator, clipped at norm 1. */
static void train_steps(trainer *t, lam_device *dev, int n) {
    for (int i = 0; i < n; ++i) {
        lam_scope_begin();
        lam_tensor *x = lam_randn(LAM_SHAPE(4, 6), dev), *y = lam_randn(LAM_SHAPE(4, 3), dev);
        lam_optim_zero_grad(t->o);
        assert_ok(lam_backward(lam_mse_loss(lam_forward(t->m, x), y)));
        assert_non_null(lam_clip_grad_norm(t->m, 1.0f));
        assert_ok(lam_optim_step(t->o));
        assert_ok(lam_schedule_step(t->s));
        lam_scope_end();
    }
}

/* Every parameter's bytes, concatenated (malloc'd). */
static float *snapshot(lam_module *m, size_t *bytes) {
    int64_t n = lam_param_count(m), at = 0;
    float *out = malloc((size_t)n * sizeof *out);
    lam_named_tensor p[8];
    int k = lam_named_parameters(m, p, 8);
    for (int i = 0; i < k; ++i) {
        assert_ok(lam_read(p[i].tensor, out + at, (size_t)(n - at) * sizeof *out));
        at += lam_numel(p[i].tensor);
    }
    *bytes = (size_t)n * sizeof *out;
    return out;
}

#define CKPT LAMINA_TEST_TMP_DIR "/training_ckpt"

static void test_resume_bitwise(void **state) {
    (void)state;
    lam_device *devs[TU_MAX_DEVICES];
    int nd = tu_devices(devs, TU_MAX_DEVICES);
    for (int d = 0; d < nd; ++d)
        for (int recipe = 0; recipe < 2; ++recipe) {
            lam_manual_seed(1);
            trainer a = trainer_new(recipe, devs[d], 8);
            train_steps(&a, devs[d], 8);
            size_t bytes;
            float *straight = snapshot(a.m, &bytes);
            lam_rng rng_a = lam_rng_state();

            lam_manual_seed(1);
            trainer b = trainer_new(recipe, devs[d], 8);
            train_steps(&b, devs[d], 4);
            assert_ok(lam_checkpoint_save(CKPT, b.m, b.o));
            trainer_free(&b);
            lam_manual_seed(99);   /* another initialization: the checkpoint must replace it all */
            trainer c = trainer_new(recipe, devs[d], 8);
            assert_ok(lam_checkpoint_load(CKPT, c.m, c.o));
            assert_int_equal(lam_schedule_steps(c.s), 4);
            train_steps(&c, devs[d], 4);
            float *resumed = snapshot(c.m, &bytes);
            lam_rng rng_c = lam_rng_state();
            printf("  recipe %d on %-30s 8 straight steps %s 4 + checkpoint + 4\n", recipe, lam_device_name(devs[d]),
                   memcmp(straight, resumed, bytes) ? "differ from" : "equal, bit for bit,");
            assert_memory_equal(straight, resumed, bytes);
            assert_true(rng_a.seed == rng_c.seed && rng_a.counter == rng_c.counter);
            for (int g = 0; g < 2; ++g) {
                assert_true(lam_optim_group_lr(a.o, g) == lam_optim_group_lr(c.o, g));
                assert_true(lam_optim_group_momentum(a.o, g) == lam_optim_group_momentum(c.o, g));
            }
            free(straight);
            free(resumed);
            trainer_free(&a);
            trainer_free(&c);
        }
}

/* A checkpoint that does not fit changes nothing: parameters, lr, schedule, generator. */
static void expect_refused(trainer *t, const char *why) {
    size_t bytes;
    float *before = snapshot(t->m, &bytes);
    float lr = lam_optim_lr(t->o);
    int64_t steps = lam_schedule_steps(t->s);
    lam_rng rng = lam_rng_state();
    lam_status st = lam_checkpoint_load(CKPT, t->m, t->o);
    printf("  %-28s -> %s\n", why, lam_last_error());
    assert_int_not_equal(st, LAM_OK);
    float *after = snapshot(t->m, &bytes);
    assert_memory_equal(before, after, bytes);
    assert_true(lam_optim_lr(t->o) == lr && lam_schedule_steps(t->s) == steps);
    assert_true(lam_rng_state().counter == rng.counter && lam_rng_state().seed == rng.seed);
    free(before);
    free(after);
}

static void test_checkpoint_refusals(void **state) {
    (void)state;
    lam_device *cpu = lam_device_get("cpu");
    trainer a = trainer_new(0, cpu, 8);
    train_steps(&a, cpu, 2);
    assert_ok(lam_checkpoint_save(CKPT, a.m, a.o));
    trainer other = trainer_new(0, cpu, 9);   /* another total_steps */
    expect_refused(&other, "another schedule");
    trainer_free(&other);
    other = trainer_new(1, cpu, 8);           /* SGD */
    expect_refused(&other, "another optimizer");
    trainer_free(&other);
    other = trainer_new(0, cpu, 8);
    lam_optim_free(other.o);                  /* AdamW without the group */
    other.o = lam_adamw(other.m, (lam_adam_options){.lr = 0.01f});
    other.s = lam_one_cycle_lr(other.o, (lam_one_cycle_options){.max_lr = 0.05, .total_steps = 8});
    expect_refused(&other, "other groups");
    lam_optim_free(other.o);                  /* the same recipe without its schedule */
    other.o = lam_adamw(other.m, (lam_adam_options){.lr = 0.01f, .weight_decay = 0.1f});
    int g = lam_optim_add_group(other.o, (lam_param_select){.filter = lam_param_no_decay});
    assert_ok(lam_optim_group_set_weight_decay(other.o, g, 0.0f));
    other.s = NULL;
    assert_int_not_equal(lam_checkpoint_load(CKPT, other.m, other.o), LAM_OK);
    printf("  %-28s -> %s\n", "no schedule", lam_last_error());
    assert_int_not_equal(lam_optim_load(other.o, CKPT ".optim"), LAM_OK);
    trainer_free(&other);
    /* a model file that fails after the optimizer file passed: nothing changes either */
    other = trainer_new(0, cpu, 8);
    FILE *f = fopen(CKPT, "wb");
    fputs("not safetensors", f);
    fclose(f);
    expect_refused(&other, "a broken model file");
    f = fopen(CKPT ".optim", "wb");
    fputs("garbage", f);
    fclose(f);
    expect_refused(&other, "a broken optimizer file");
    trainer_free(&other);
    trainer_free(&a);
    remove(CKPT);
    remove(CKPT ".optim");
}

/* ---- bad arguments: an error naming the function, nothing changed ---------------------- */

static void test_bad_arguments(void **state) {
    (void)state;
    lam_module *m = holder();
    lam_optim *o = lam_sgd(m, (lam_sgd_options){.lr = 0.1f, .momentum = 0.9f});
    static const char *const missing[] = {"nope", NULL}, *const a[] = {"a", NULL};
    assert_int_equal(lam_optim_add_group(o, (lam_param_select){.names = missing}), -1);
    assert_non_null(strstr(lam_last_error(), "\"nope\""));
    assert_int_equal(lam_optim_add_group(o, (lam_param_select){0}), -1);
    assert_int_equal(lam_optim_add_group(o, (lam_param_select){.names = a}), 1);
    assert_int_equal(lam_optim_add_group(o, (lam_param_select){.names = a}), -1);   /* "a" is in group 1 */
    assert_non_null(strstr(lam_last_error(), "group 1"));
    assert_int_equal(lam_optim_group_count(o), 2);
    assert_int_equal(lam_optim_group_set_lr(o, 2, 0.1f), LAM_ERR_ARG);
    assert_int_equal(lam_optim_group_set_lr(o, 1, -1.0f), LAM_ERR_ARG);
    assert_int_equal(lam_optim_group_set_weight_decay(o, -1, 0.1f), LAM_ERR_ARG);
    lam_optim_set_lr(o, 0.25f);   /* every group */
    assert_true(lam_optim_group_lr(o, 0) == 0.25f && lam_optim_group_lr(o, 1) == 0.25f);
    assert_null(lam_step_lr(o, (lam_step_lr_options){.step_size = 0}));
    assert_null(lam_cosine_lr(o, (lam_cosine_lr_options){.t_max = 0}));
    assert_null(lam_one_cycle_lr(o, (lam_one_cycle_options){.total_steps = 10}));   /* no max_lr */
    assert_null(lam_one_cycle_lr(o, (lam_one_cycle_options){.max_lr = 0.1, .total_steps = 10, .pct_start = 1.5}));
    assert_null(lam_one_cycle_lr(o, (lam_one_cycle_options){.max_lr = 0.1, .total_steps = 2, .pct_start = 0.5}));
    assert_true(lam_optim_lr(o) == 0.25f);   /* refused schedules touch nothing */
    assert_non_null(lam_step_lr(o, (lam_step_lr_options){.step_size = 2}));
    assert_null(lam_cosine_lr(o, (lam_cosine_lr_options){.t_max = 5}));
    assert_int_equal(lam_last_status(), LAM_ERR_STATE);
    assert_int_equal(lam_optim_add_group(o, (lam_param_select){.filter = lam_param_no_decay}), -1);
    assert_int_equal(lam_schedule_step(NULL), LAM_ERR_ARG);
    assert_null(lam_clip_grad_norm(m, -1.0f));
    assert_null(lam_clip_grad_norm(NULL, 1.0f));
    assert_null(lam_optim_clip_grad_norm(NULL, 1.0f));
    assert_int_equal(lam_checkpoint_save(NULL, m, o), LAM_ERR_ARG);
    assert_int_not_equal(lam_checkpoint_load(LAMINA_TEST_TMP_DIR "/no-such-checkpoint", m, o), LAM_OK);
    lam_optim_free(o);
    lam_module_free(m);
}

/* Parameters a lazy layer creates later join the group whose selection takes them. */
static void test_lazy_groups(void **state) {
    (void)state;
    lam_device *cpu = lam_device_get("cpu");
    lam_module *m = lam_nn_sequential(3, lam_nn_lazy_linear(4), lam_nn_relu(), lam_nn_lazy_linear(2));
    assert_ok(lam_module_to(m, cpu));
    lam_optim *o = lam_adamw(m, (lam_adam_options){.lr = 0.1f, .weight_decay = 0.5f});
    int g = lam_optim_add_group(o, (lam_param_select){.filter = lam_param_no_decay});
    assert_int_equal(g, 1);
    assert_ok(lam_optim_group_set_weight_decay(o, g, 0.0f));
    assert_int_equal(lam_optim_group_size(o, 1), 0);   /* nothing materialized yet */
    lam_scope_begin();
    lam_tensor *x = lam_ones(LAM_SHAPE(3, 5), cpu);
    assert_ok(lam_backward(lam_sum(lam_forward(m, x))));
    assert_ok(lam_optim_step(o));
    lam_scope_end();
    assert_int_equal(lam_optim_group_size(o, 0), 2);   /* the two weights */
    assert_int_equal(lam_optim_group_size(o, 1), 2);   /* the two biases */
    lam_optim_free(o);
    lam_module_free(m);
}

/* minGPT's rule by class and local name, on layers that exist and on classes to come. */
static void test_decay_rule(void **state) {
    (void)state;
    static const lam_module_class norm = {.name = "LayerNorm"}, conv = {.name = "Conv2d"},
                                  emb = {.name = "Embedding"}, mha = {.name = "MultiheadAttention"};
    lam_module *lin = lam_nn_linear(2, 2), *n = lam_module_new(&norm), *c = lam_module_new(&conv),
               *e = lam_module_new(&emb), *h = lam_module_new(&mha);
    assert_true(lam_param_decays(lin, "0.weight", "weight", NULL));
    assert_false(lam_param_decays(lin, "0.bias", "bias", NULL));
    assert_true(lam_param_decays(c, "conv.weight", "weight", NULL));
    assert_false(lam_param_decays(n, "ln.weight", "weight", NULL));
    assert_false(lam_param_decays(e, "wte.weight", "weight", NULL));
    assert_true(lam_param_decays(h, "attn.in_proj_weight", "in_proj_weight", NULL));
    assert_false(lam_param_decays(h, "attn.in_proj_bias", "in_proj_bias", NULL));
    assert_false(lam_param_decays(NULL, "w", "w", NULL));
    assert_true(lam_param_no_decay(n, "ln.weight", "weight", NULL));
    lam_module_free(lin);
    lam_module_free(n);
    lam_module_free(c);
    lam_module_free(e);
    lam_module_free(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedules),          cmocka_unit_test(test_clip_grad_norm),
        cmocka_unit_test(test_runs),               cmocka_unit_test(test_resume_bitwise),
        cmocka_unit_test(test_checkpoint_refusals), cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_lazy_groups),        cmocka_unit_test(test_decay_rule),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
