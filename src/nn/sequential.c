/* Sequential: children "0", "1", ... run in order; the output of one feeds the next. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "nn/module_impl.h"

static lam_tensor *sequential_forward(lam_module *m, lam_tensor *x) {
    for (int i = 0; x && i < m->n_children; ++i) x = lam_forward(m->children[i].child, x);
    return x;
}

static const lam_module_class SEQUENTIAL = {.name = "Sequential", .forward = sequential_forward};

/* Frees every child (the constructor took them all) after a failure. */
static void free_all(lam_module **kids, int n) {
    for (int i = 0; i < n; ++i) lam_module_free(kids[i]);
}

lam_module *lam_nn_sequential(int n, ...) {
    if (n < 0) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_nn_sequential: %d children", n);
    lam_module **kids = malloc(((size_t)n + 1) * sizeof *kids);
    va_list ap;
    va_start(ap, n);
    int null_at = -1;
    for (int i = 0; i < n; ++i) {
        lam_module *k = va_arg(ap, lam_module *);
        if (kids) kids[i] = k;
        else lam_module_free(k);   /* no list to keep them in: give them back at once */
        if (!k && null_at < 0) null_at = i;
    }
    va_end(ap);
    if (!kids) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_nn_sequential: out of host memory");
    if (null_at >= 0) {
        /* name the root cause too if the NULL child came from a failed constructor */
        char cause[256];
        snprintf(cause, sizeof cause, "%s", lam_last_status() != LAM_OK ? lam_last_error() : "");
        lam_set_error(LAM_ERR_ARG, "lam_nn_sequential: child %d is NULL%s%s%s", null_at, *cause ? " (" : "", cause,
                      *cause ? ")" : "");
        free_all(kids, n);
        free(kids);
        return NULL;
    }
    lam_module *m = lam_module_new(&SEQUENTIAL);
    int i = 0;
    for (; m && i < n; ++i) {
        char name[16];
        snprintf(name, sizeof name, "%d", i);
        if (!lam_add_module(m, name, kids[i])) {   /* it freed kids[i] */
            lam_module_free(m);
            m = NULL;
        }
    }
    free_all(kids + i, n - i);   /* the children not added, if the Sequential failed */
    free(kids);
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
