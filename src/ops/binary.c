/* Binary elementwise ops with broadcasting, and their forms with a scalar: two public
 * functions per row of the op table (cl/op_table.h). The backward of a row runs its
 * gradient expressions and sums each result back over the broadcast dims. */
#include "ops/ops_impl.h"

/* arg 0: the op code; arg 1: b is the scalar farg. */
static lam_status binary_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_ew_op code = (lam_ew_op)n->arg[0];
    bool scalar_b = n->arg[1];
    lam_ew_arg args[3] = {LAM_EW_T(n->in[0]), scalar_b ? LAM_EW_S(n->farg) : LAM_EW_T(n->in[1]), LAM_EW_T(g)};
    for (int i = 0; i < n->n_in; ++i) {
        if (!lam_input_needs_grad(n, i)) continue;
        lam_tensor *gi;
        if (code == LAM_EW_ADD || (code == LAM_EW_SUB && i == 0)) gi = g;   /* identity: no kernel */
        else if (code == LAM_EW_SUB) gi = lam_neg(g);
        else gi = lam_ew_run(lam_ew_name(code + 1 + i), (lam_ew_op)(code + 1 + i), 3, args);   /* _GRAD_A, _GRAD_B */
        lam_tensor *x = n->in[i];
        if (!gi || !(gin[i] = lam_sum_to_shape(gi, x->ndim, x->shape))) return lam_last_status();
    }
    return LAM_OK;
}

enum { LAM_KIND_ARITH, LAM_KIND_CMP };

static lam_tensor *binary(const char *op, lam_ew_op code, int kind, lam_tensor *a, lam_ew_arg b) {
    lam_ew_arg args[2] = {LAM_EW_T(a), b};
    lam_tensor *y = lam_ew_run(op, code, 2, args);
    if (!y || kind == LAM_KIND_CMP) return y;   /* comparisons are not differentiable */
    lam_node *n;
    lam_tensor *in[2] = {a, b.t};
    if (!lam_recorded(y, op, binary_backward, b.scalar ? 1 : 2, in, &n)) return NULL;
    if (n) {
        n->arg[0] = code;
        n->arg[1] = b.scalar;
        n->farg = b.value;
    }
    return y;
}

#define LAM_DEFINE_BINARY(NAME, name, kind, f, da, db)                                             \
    lam_tensor *lam_##name(lam_tensor *a, lam_tensor *b) {                                         \
        return binary("lam_" #name, LAM_EW_##NAME, LAM_KIND_##kind, a, LAM_EW_T(b));               \
    }                                                                                              \
    lam_tensor *lam_##name##_scalar(lam_tensor *x, float s) {                                      \
        return binary("lam_" #name "_scalar", LAM_EW_##NAME, LAM_KIND_##kind, x, LAM_EW_S(s));     \
    }
LAM_BINARY_OPS(LAM_DEFINE_BINARY)

lam_tensor *lam_rand_uniform(float lo, float hi, int ndim, const int64_t *shape, lam_device *dev) {
    return lam_add_scalar(lam_mul_scalar(lam_rand(ndim, shape, dev), hi - lo), lo);
}
