/* Binary elementwise ops with broadcasting, scalar variants, and their derivatives. */
#include "ops/ops_impl.h"

/* The gradient g of a broadcast result, summed back to t's shape. */
static lam_tensor *unbroadcast(lam_tensor *g, const lam_tensor *t) { return lam_sum_to_shape(g, t->ndim, t->shape); }

/* Weight of a in max(a, b): 1 where a wins, 1/2 on ties (PyTorch's split). */
static lam_tensor *winner_mask(lam_tensor *a, lam_tensor *b, bool max) {
    lam_tensor *wins = max ? lam_gt(a, b) : lam_lt(a, b);
    return lam_add(wins, lam_mul_scalar(lam_eq(a, b), 0.5f));
}

static lam_status binary_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *a = n->in[0], *b = n->in[1], *ga = NULL, *gb = NULL;
    bool need_a = lam_input_needs_grad(n, 0), need_b = lam_input_needs_grad(n, 1);
    switch ((lam_binary_op)n->arg[0]) {
    case LAM_BINARY_ADD: ga = g; gb = g; break;
    case LAM_BINARY_SUB: ga = g; gb = need_b ? lam_neg(g) : NULL; break;
    case LAM_BINARY_MUL:                                                /* d(ab) = b da + a db */
        ga = need_a ? lam_mul(g, b) : NULL;
        gb = need_b ? lam_mul(g, a) : NULL;
        break;
    case LAM_BINARY_DIV:                                                /* d(a/b) = da/b - a db/b^2 */
        ga = need_a ? lam_div(g, b) : NULL;
        gb = need_b ? lam_neg(lam_div(lam_mul(g, n->saved), b)) : NULL;
        break;
    case LAM_BINARY_MAX:
    case LAM_BINARY_MIN: {
        bool max = n->arg[0] == LAM_BINARY_MAX;
        ga = need_a ? lam_mul(g, winner_mask(a, b, max)) : NULL;
        gb = need_b ? lam_mul(g, winner_mask(b, a, max)) : NULL;
        break;
    }
    case LAM_BINARY_POW:                                                /* d(a^b) = b a^(b-1) da + a^b ln a db */
        ga = need_a ? lam_mul(g, lam_mul(b, lam_pow(a, lam_sub_scalar(b, 1.0f)))) : NULL;
        gb = need_b ? lam_mul(g, lam_mul(n->saved, lam_log(a))) : NULL;
        break;
    default: return LAM_OK;                                             /* comparisons: no gradient */
    }
    if (need_a && !(gin[0] = ga ? unbroadcast(ga, a) : NULL)) return lam_last_status();
    if (need_b && !(gin[1] = gb ? unbroadcast(gb, b) : NULL)) return lam_last_status();
    return LAM_OK;
}

static lam_tensor *binary(const char *op, lam_binary_op code, lam_tensor *a, lam_tensor *b) {
    lam_tensor *y = lam_binary_op_run(op, code, a, b);
    if (!y || code >= LAM_BINARY_EQ) return y;   /* comparisons are not differentiable */
    lam_node *n = lam_record(y, op, binary_backward, 2, (lam_tensor *[]){a, b});
    if (n) {
        n->arg[0] = code;
        if (code == LAM_BINARY_DIV || code == LAM_BINARY_POW) n->saved = lam_retain(y);
    }
    return y;
}

lam_tensor *lam_add(lam_tensor *a, lam_tensor *b) { return binary("lam_add", LAM_BINARY_ADD, a, b); }
lam_tensor *lam_sub(lam_tensor *a, lam_tensor *b) { return binary("lam_sub", LAM_BINARY_SUB, a, b); }
lam_tensor *lam_mul(lam_tensor *a, lam_tensor *b) { return binary("lam_mul", LAM_BINARY_MUL, a, b); }
lam_tensor *lam_div(lam_tensor *a, lam_tensor *b) { return binary("lam_div", LAM_BINARY_DIV, a, b); }
lam_tensor *lam_maximum(lam_tensor *a, lam_tensor *b) { return binary("lam_maximum", LAM_BINARY_MAX, a, b); }
lam_tensor *lam_minimum(lam_tensor *a, lam_tensor *b) { return binary("lam_minimum", LAM_BINARY_MIN, a, b); }
lam_tensor *lam_pow(lam_tensor *a, lam_tensor *b) { return binary("lam_pow", LAM_BINARY_POW, a, b); }
lam_tensor *lam_eq(lam_tensor *a, lam_tensor *b) { return binary("lam_eq", LAM_BINARY_EQ, a, b); }
lam_tensor *lam_ne(lam_tensor *a, lam_tensor *b) { return binary("lam_ne", LAM_BINARY_NE, a, b); }
lam_tensor *lam_lt(lam_tensor *a, lam_tensor *b) { return binary("lam_lt", LAM_BINARY_LT, a, b); }
lam_tensor *lam_le(lam_tensor *a, lam_tensor *b) { return binary("lam_le", LAM_BINARY_LE, a, b); }
lam_tensor *lam_gt(lam_tensor *a, lam_tensor *b) { return binary("lam_gt", LAM_BINARY_GT, a, b); }
lam_tensor *lam_ge(lam_tensor *a, lam_tensor *b) { return binary("lam_ge", LAM_BINARY_GE, a, b); }

/* --- x op s ---------------------------------------------------------------------------- */

static lam_status scalar_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *x = n->in[0];
    float s = n->farg;
    switch ((lam_binary_op)n->arg[0]) {
    case LAM_BINARY_ADD:
    case LAM_BINARY_SUB: gin[0] = g; break;
    case LAM_BINARY_MUL: gin[0] = lam_mul_scalar(g, s); break;
    case LAM_BINARY_DIV: gin[0] = lam_div_scalar(g, s); break;
    case LAM_BINARY_POW: gin[0] = lam_mul(g, lam_mul_scalar(lam_pow_scalar(x, s - 1.0f), s)); break;
    case LAM_BINARY_MAX:
        gin[0] = lam_mul(g, lam_add(lam_gt_scalar(x, s), lam_mul_scalar(lam_eq_scalar(x, s), 0.5f)));
        break;
    case LAM_BINARY_MIN:
        gin[0] = lam_mul(g, lam_add(lam_lt_scalar(x, s), lam_mul_scalar(lam_eq_scalar(x, s), 0.5f)));
        break;
    default: return LAM_OK;
    }
    return gin[0] ? LAM_OK : lam_last_status();
}

static lam_tensor *with_scalar(const char *op, lam_binary_op code, lam_tensor *x, float s) {
    lam_tensor *y = lam_scalar_op_run(op, code, x, s);
    if (!y || code >= LAM_BINARY_EQ) return y;
    lam_node *n = lam_record(y, op, scalar_backward, 1, &x);
    if (n) {
        n->arg[0] = code;
        n->farg = s;
    }
    return y;
}

lam_tensor *lam_add_scalar(lam_tensor *x, float s) { return with_scalar("lam_add_scalar", LAM_BINARY_ADD, x, s); }
lam_tensor *lam_sub_scalar(lam_tensor *x, float s) { return with_scalar("lam_sub_scalar", LAM_BINARY_SUB, x, s); }
lam_tensor *lam_mul_scalar(lam_tensor *x, float s) { return with_scalar("lam_mul_scalar", LAM_BINARY_MUL, x, s); }
lam_tensor *lam_div_scalar(lam_tensor *x, float s) { return with_scalar("lam_div_scalar", LAM_BINARY_DIV, x, s); }
lam_tensor *lam_pow_scalar(lam_tensor *x, float s) { return with_scalar("lam_pow_scalar", LAM_BINARY_POW, x, s); }
lam_tensor *lam_maximum_scalar(lam_tensor *x, float s) { return with_scalar("lam_maximum_scalar", LAM_BINARY_MAX, x, s); }
lam_tensor *lam_minimum_scalar(lam_tensor *x, float s) { return with_scalar("lam_minimum_scalar", LAM_BINARY_MIN, x, s); }
lam_tensor *lam_eq_scalar(lam_tensor *x, float s) { return with_scalar("lam_eq_scalar", LAM_BINARY_EQ, x, s); }
lam_tensor *lam_ne_scalar(lam_tensor *x, float s) { return with_scalar("lam_ne_scalar", LAM_BINARY_NE, x, s); }
lam_tensor *lam_lt_scalar(lam_tensor *x, float s) { return with_scalar("lam_lt_scalar", LAM_BINARY_LT, x, s); }
lam_tensor *lam_le_scalar(lam_tensor *x, float s) { return with_scalar("lam_le_scalar", LAM_BINARY_LE, x, s); }
lam_tensor *lam_gt_scalar(lam_tensor *x, float s) { return with_scalar("lam_gt_scalar", LAM_BINARY_GT, x, s); }
lam_tensor *lam_ge_scalar(lam_tensor *x, float s) { return with_scalar("lam_ge_scalar", LAM_BINARY_GE, x, s); }

lam_tensor *lam_rand_uniform(float lo, float hi, int ndim, const int64_t *shape, lam_device *dev) {
    return lam_add_scalar(lam_mul_scalar(lam_rand(ndim, shape, dev), hi - lo), lo);
}
