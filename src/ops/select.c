/* Selection: where(cond, a, b) = cond != 0 ? a : b, and masked_fill(x, mask, v) =
 * where(mask, v, x). The gradient goes to a where cond holds and to b elsewhere. */
#include "ops/ops_impl.h"

/* in: cond, then the tensor inputs; arg 0 and 1: a and b are scalars (value farg). */
static lam_status select_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *cond = n->in[0];
    for (int side = 0, i = 1; side < 2; ++side) {
        if (n->arg[side]) continue;   /* a scalar: no gradient */
        lam_tensor *x = n->in[i];
        if (lam_input_needs_grad(n, i)) {
            lam_ew_arg args[3] = {LAM_EW_T(cond), side == 0 ? LAM_EW_T(g) : LAM_EW_S(0.0f),
                                  side == 0 ? LAM_EW_S(0.0f) : LAM_EW_T(g)};
            lam_tensor *gx = lam_ew_run("where_backward", LAM_EW_WHERE, 3, args);
            if (!gx || !(gin[i] = lam_sum_to_shape(gx, x->ndim, x->shape))) return lam_last_status();
        }
        ++i;
    }
    return LAM_OK;
}

static lam_tensor *choose(const char *op, lam_tensor *cond, lam_ew_arg a, lam_ew_arg b) {
    LAM_CHECK_ARG(op, cond);
    lam_tensor *c = lam_dtype_is_float(cond->dtype) ? cond : lam_tensor_copy(cond, LAM_F32);
    if (!c) return NULL;
    lam_ew_arg args[3] = {LAM_EW_T(c), a, b};
    lam_tensor *y = lam_ew_run(op, LAM_EW_WHERE, 3, args);
    lam_tensor *in[3] = {c, NULL, NULL};   /* backward reads the float mask */
    int n_in = 1;
    if (!a.scalar) in[n_in++] = a.t;
    if (!b.scalar) in[n_in++] = b.t;
    lam_node *n;
    if (!lam_recorded(y, op, select_backward, n_in, in, &n)) return NULL;
    if (n) {
        n->arg[0] = a.scalar;
        n->arg[1] = b.scalar;
    }
    return y;
}

lam_tensor *lam_where(lam_tensor *cond, lam_tensor *a, lam_tensor *b) {
    return choose("lam_where", cond, LAM_EW_T(a), LAM_EW_T(b));
}

lam_tensor *lam_masked_fill(lam_tensor *x, lam_tensor *mask, float value) {
    return choose("lam_masked_fill", mask, LAM_EW_S(value), LAM_EW_T(x));
}
