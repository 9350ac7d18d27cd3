/* Sequential: children "0", "1", ... run in order; the output of one feeds the next. */
#include <stdarg.h>
#include <stdio.h>

#include "core/error.h"
#include "nn/module_impl.h"

static lam_tensor *sequential_forward(lam_module *m, lam_tensor *x) {
    for (int i = 0; x && i < m->n_children; ++i) x = lam_forward(m->children[i].child, x);
    return x;
}

static const lam_module_class SEQUENTIAL = {.name = "Sequential", .forward = sequential_forward};

lam_module *lam_nn_sequential(int n, ...) {
    va_list ap;
    va_start(ap, n);
    lam_module *kids[256];
    int null_at = -1;
    for (int i = 0; i < n && i < 256; ++i) {
        kids[i] = va_arg(ap, lam_module *);
        if (!kids[i] && null_at < 0) null_at = i;
    }
    va_end(ap);
    if (n < 0 || n > 256 || null_at >= 0) {
        /* name the root cause too if the NULL child came from a failed constructor */
        char cause[256];
        snprintf(cause, sizeof cause, "%s", lam_last_status() != LAM_OK ? lam_last_error() : "");
        if (n < 0 || n > 256)
            lam_set_error(LAM_ERR_ARG, "lam_nn_sequential: %d children (0 to 256 allowed)", n);
        else
            lam_set_error(LAM_ERR_ARG, "lam_nn_sequential: child %d is NULL%s%s%s", null_at,
                          *cause ? " (" : "", cause, *cause ? ")" : "");
        for (int i = 0; i >= 0 && i < n && i < 256; ++i) lam_module_free(kids[i]);
        return NULL;
    }
    lam_module *m = lam_module_new(&SEQUENTIAL);
    for (int i = 0; i < n; ++i) {
        if (!m) {
            lam_module_free(kids[i]);
            continue;
        }
        char name[16];
        snprintf(name, sizeof name, "%d", i);
        if (!lam_add_module(m, name, kids[i])) {   /* it freed kids[i] */
            lam_module_free(m);
            m = NULL;
        }
    }
    return m;
}

lam_status lam_nn_sequential_add(lam_module *seq, lam_module *child) {
    if (!seq || !child) {
        lam_null_arg("lam_nn_sequential_add");
        lam_module_free(child);
        return lam_last_status();
    }
    char name[16];
    snprintf(name, sizeof name, "%d", seq->n_children);
    return lam_add_module(seq, name, child) ? LAM_OK : lam_last_status();
}
