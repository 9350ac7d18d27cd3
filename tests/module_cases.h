/* Shared by the module tests: the chapter's models, reference paths, error measures and
 * snapshots. Include after <cmocka.h> and <lamina.h>. */
#ifndef LAM_TEST_MODULE_CASES_H
#define LAM_TEST_MODULE_CASES_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chapter_models.h"
#include "reference_file.h"

#ifndef LAMINA_TEST_REFERENCE_DIR
#define LAMINA_TEST_REFERENCE_DIR "tests/reference"
#endif
#ifndef LAMINA_TEST_TMP_DIR
#define LAMINA_TEST_TMP_DIR "/tmp"
#endif
#define REF(file) LAMINA_TEST_REFERENCE_DIR "/" file

/* ---- the chapter's MLP (the other models come from examples/chapter_models.h) --------- */

typedef struct { lam_module *hidden, *out; } mlp;

static inline lam_tensor *mlp_forward(lam_module *m, lam_tensor *x) {
    mlp *self = lam_self(m);
    return lam_forward(self->out, lam_relu(lam_forward(self->hidden, x)));
}

static const lam_module_class MLP = {.name = "MLP", .state_size = sizeof(mlp), .forward = mlp_forward};

static inline lam_module *mlp_new(void) {
    lam_module *m = lam_module_new(&MLP);
    mlp *self = lam_self(m);
    self->hidden = lam_add_module(m, "hidden", lam_nn_lazy_linear(256));
    self->out = lam_add_module(m, "out", lam_nn_lazy_linear(10));
    return m;
}

typedef struct {
    const char *name;
    lam_module *(*make)(void);
} model_case;

static const model_case models[3] = {
    {"mlp", mlp_new}, {"fixed_hidden_mlp", fixed_hidden_mlp_new}, {"chimera", chimera_new}};

/* ---- helpers ------------------------------------------------------------------------- */

/* max |a - b| / (1 + max |b|): the normalized error of a against the reference b. */
static inline double rel_err(lam_tensor *a, lam_tensor *b) {
    int64_t n = lam_numel(b);
    assert_int_equal(lam_numel(a), n);
    float *x = malloc((size_t)n * 4 + 4), *y = malloc((size_t)n * 4 + 4);
    assert_int_equal(lam_read(a, x, (size_t)n * 4), LAM_OK);
    assert_int_equal(lam_read(b, y, (size_t)n * 4), LAM_OK);
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < n; ++i) {
        diff = fmax(diff, fabs((double)x[i] - y[i]));
        scale = fmax(scale, fabs((double)y[i]));
    }
    free(x);
    free(y);
    return diff / (1 + scale);
}

/* A host copy of every parameter and buffer, to prove that a failed call changed nothing. */
typedef struct { float *data; size_t n; } snapshot;

static inline snapshot take_snapshot(lam_module *m) {
    lam_named_tensor t[64];
    int np = lam_named_parameters(m, t, 64);
    int nb = lam_named_buffers(m, t + np, 64 - np);
    size_t total = 0;
    for (int i = 0; i < np + nb; ++i) total += (size_t)lam_numel(t[i].tensor);
    snapshot s = {malloc(total * 4 + 4), total};
    size_t at = 0;
    for (int i = 0; i < np + nb; ++i) {
        size_t k = (size_t)lam_numel(t[i].tensor);
        assert_int_equal(lam_read(t[i].tensor, s.data + at, k * 4), LAM_OK);
        at += k;
    }
    return s;
}

static inline void assert_unchanged(lam_module *m, snapshot *before) {
    snapshot now = take_snapshot(m);
    assert_int_equal(now.n, before->n);
    assert_memory_equal(now.data, before->data, now.n * 4);
    free(now.data);
    free(before->data);
}

/* Builds a model on dev, runs it once on x so that its lazy layers exist. */
static inline lam_module *built(const model_case *mc, lam_device *dev, lam_tensor *x) {
    lam_set_default_device(dev);
    lam_module *m = mc->make();
    lam_set_default_device(lam_device_get("cpu"));
    assert_non_null(m);
    lam_scope_begin();
    assert_non_null(lam_forward(m, lam_to(x, dev)));
    lam_scope_end();
    return m;
}


#endif
