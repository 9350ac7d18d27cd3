/* Dropout and Identity: layers without parameters. Dropout zeroes elements only while the
 * module is training (lam_train). */
#include <stdio.h>

#include "core/error.h"
#include "lamina/ops.h"
#include "nn/module_impl.h"

typedef struct { float p; } dropout_state;

static lam_tensor *dropout_forward(lam_module *m, lam_tensor *x) {
    return lam_dropout(x, ((dropout_state *)lam_self(m))->p, lam_is_training(m));
}

static void dropout_repr(const lam_module *m, char *buf, size_t size) {
    snprintf(buf, size, "p=%g, inplace=False", (double)((const dropout_state *)lam_self_const(m))->p);
}

/* x itself, as a new handle (a view that passes gradients through). */
static lam_tensor *identity_forward(lam_module *m, lam_tensor *x) {
    (void)m;
    return lam_reshape(x, lam_ndim(x), lam_shape(x));
}

static const lam_module_class DROPOUT = {.name = "Dropout", .state_size = sizeof(dropout_state),
                                         .forward = dropout_forward, .extra_repr = dropout_repr};
static const lam_module_class IDENTITY = {.name = "Identity", .forward = identity_forward};

lam_module *lam_nn_dropout(float p) {
    if (!(p >= 0.0f && p <= 1.0f)) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_nn_dropout: probability %g is outside [0, 1]", (double)p);
    lam_module *m = lam_module_new(&DROPOUT);
    if (m) ((dropout_state *)lam_self(m))->p = p;
    return m;
}

lam_module *lam_nn_identity(void) { return lam_module_new(&IDENTITY); }
