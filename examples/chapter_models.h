/* The chapter's custom modules, shared by the examples and tests/test_modules.c:
 * FixedHiddenMLP (a constant weight, one layer used twice, a data-dependent loop),
 * NestMLP (a Sequential inside a module) and the chimera that nests them. */
#ifndef LAMINA_EXAMPLES_CHAPTER_MODELS_H
#define LAMINA_EXAMPLES_CHAPTER_MODELS_H

#include <lamina.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct { lam_module *linear; lam_tensor *rand_weight; } fixed_hidden_mlp;

static inline lam_tensor *fixed_hidden_mlp_forward(lam_module *m, lam_tensor *x) {
    fixed_hidden_mlp *self = lam_self(m);
    x = lam_forward(self->linear, x);
    x = lam_relu(lam_add_scalar(lam_matmul(x, self->rand_weight), 1));
    x = lam_forward(self->linear, x);             /* the same layer again: shared parameters */
    double s = 0;
    while (x && (s = lam_item(lam_sum(lam_abs(x)))) > 1) x = lam_div_scalar(x, 2);   /* control flow */
    if (isnan(s)) return NULL;   /* lam_item's NAN: it failed (lam_last_error says why), not a small sum */
    return lam_sum(x);
}

static const lam_module_class FIXED_HIDDEN_MLP = {.name = "FixedHiddenMLP", .state_size = sizeof(fixed_hidden_mlp),
                                                  .forward = fixed_hidden_mlp_forward};

static inline lam_module *fixed_hidden_mlp_new(void) {
    lam_module *m = lam_module_new(&FIXED_HIDDEN_MLP);
    if (!m) return NULL;
    fixed_hidden_mlp *self = lam_self(m);
    /* a constant: a buffer, so it moves with the module but never gets a gradient */
    self->rand_weight = lam_add_buffer(m, "rand_weight", lam_rand(LAM_SHAPE(20, 20), lam_module_device(m)), true);
    self->linear = lam_add_module(m, "linear", lam_nn_lazy_linear(20));
    if (!self->rand_weight || !self->linear) {
        lam_module_free(m);
        return NULL;
    }
    return m;
}

typedef struct { lam_module *net, *linear; } nest_mlp;

static inline lam_tensor *nest_mlp_forward(lam_module *m, lam_tensor *x) {
    nest_mlp *self = lam_self(m);
    return lam_forward(self->linear, lam_forward(self->net, x));
}

static const lam_module_class NEST_MLP = {.name = "NestMLP", .state_size = sizeof(nest_mlp),
                                          .forward = nest_mlp_forward};

static inline lam_module *nest_mlp_new(void) {
    lam_module *m = lam_module_new(&NEST_MLP);
    if (!m) return NULL;
    nest_mlp *self = lam_self(m);
    self->net = lam_add_module(m, "net", lam_nn_sequential(4, lam_nn_lazy_linear(64), lam_nn_relu(),
                                                           lam_nn_lazy_linear(32), lam_nn_relu()));
    self->linear = lam_add_module(m, "linear", lam_nn_lazy_linear(16));
    if (!self->net || !self->linear) {
        lam_module_free(m);
        return NULL;
    }
    return m;
}

static inline lam_module *chimera_new(void) {
    return lam_nn_sequential(3, nest_mlp_new(), lam_nn_lazy_linear(20), fixed_hidden_mlp_new());
}

/* --device SPEC, else the default device; made the default so new modules live there. */
static inline lam_device *example_device(int argc, char **argv) {
    const char *spec = NULL;
    for (int i = 1; i + 1 < argc; ++i)
        if (!strcmp(argv[i], "--device")) spec = argv[i + 1];
    lam_device *dev = lam_device_get(spec);
    if (!dev || lam_set_default_device(dev) != LAM_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], lam_last_error());
        return NULL;
    }
    return dev;
}

#endif
