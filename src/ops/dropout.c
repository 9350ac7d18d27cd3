/* Dropout: y = x * keep / (1 - p), keep drawn from the Philox stream of lam_manual_seed at
 * (seed, counter + i) by a direct kernel (cl/dropout.cl). The node keeps seed and counter,
 * not a mask: backward runs the same kernel on the gradient, drawing the same numbers. */
#include <math.h>

#include "ops/cnn_impl.h"

/* y = dropout(x) with the draws at (seed, counter); args as the node keeps them. */
static lam_tensor *dropout_run(const char *op, lam_tensor *x, const int64_t *args, float p) {
    lam_tensor *xd = lam_dense(x, x->dtype);
    lam_tensor *y = xd ? lam_tensor_alloc(x->dtype, x->ndim, x->shape, LAM_DEV(x)) : NULL;
    if (!y) return NULL;
    lam_kernel_args a = {.work = lam_numel(x), .v = {lam_view_of(y), lam_view_of(xd)}, .i = {args[0], args[1]},
                         .f = {p, p < 1.0f ? 1.0f / (1.0f - p) : 0.0f}};
    return lam_run_kernel(op, LAM_DEV(x), LAM_K_DROPOUT, &a) == LAM_OK ? y : NULL;
}

/* args: seed, counter; farg: p */
static lam_status dropout_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    gin[0] = dropout_run("lam_dropout_backward", g, n->arg, n->farg);
    return gin[0] ? LAM_OK : lam_last_status();
}

lam_tensor *lam_dropout(lam_tensor *x, float p, bool training) {
    const char *op = "lam_dropout";
    LAM_CHECK_ARG(op, x);
    if (!lam_require_float(op, x)) return NULL;
    if (!(p >= 0.0f && p <= 1.0f)) LAM_FAIL_NULL(LAM_ERR_ARG, "%s: probability %g is outside [0, 1]", op, (double)p);
    if (!training) return lam_reshape(x, x->ndim, x->shape);   /* the same values, as a view */
    uint64_t seed, counter;
    lam_rand_reserve((uint64_t)lam_numel(x), &seed, &counter);
    const int64_t args[2] = {(int64_t)seed, (int64_t)counter};
    lam_scope_begin();
    lam_tensor *y = lam_scope_end_keep(dropout_run(op, x, args, p));
    lam_node *n;
    if (!lam_recorded(y, op, dropout_backward, 1, &x, &n)) return NULL;
    if (n) {
        n->arg[0] = args[0];
        n->arg[1] = args[1];
        n->farg = p;
    }
    return y;
}
