/* Unary elementwise ops and their derivatives. */
#include "ops/ops_impl.h"

/* d/dx of each op, given x = in[0], y = saved output, g = incoming gradient. */
static lam_status unary_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *x = n->in[0], *y = n->saved;
    switch ((lam_unary_op)n->arg[0]) {
    case LAM_UNARY_NEG: gin[0] = lam_neg(g); break;                                   /* -g */
    case LAM_UNARY_ABS: gin[0] = lam_mul(g, lam_sub(lam_gt_scalar(x, 0), lam_lt_scalar(x, 0))); break;
    case LAM_UNARY_EXP: gin[0] = lam_mul(g, y); break;                                /* g e^x */
    case LAM_UNARY_LOG: gin[0] = lam_div(g, x); break;                                /* g / x */
    case LAM_UNARY_SQRT: gin[0] = lam_div(lam_mul_scalar(g, 0.5f), y); break;         /* g / 2 sqrt x */
    case LAM_UNARY_RELU: gin[0] = lam_binary_op_run("relu_backward", LAM_BINARY_RELU_BWD, x, g); break;
    case LAM_UNARY_SIGMOID: gin[0] = lam_binary_op_run("sigmoid_backward", LAM_BINARY_SIGMOID_BWD, y, g); break;
    case LAM_UNARY_TANH: gin[0] = lam_binary_op_run("tanh_backward", LAM_BINARY_TANH_BWD, y, g); break;
    case LAM_UNARY_GELU: gin[0] = lam_binary_op_run("gelu_backward", LAM_BINARY_GELU_BWD, x, g); break;
    default: break;
    }
    return gin[0] ? LAM_OK : lam_last_status();
}

static lam_tensor *unary(const char *op, lam_unary_op code, lam_tensor *x, bool save_output) {
    lam_tensor *y = lam_unary_op_run(op, code, x);
    if (!y) return NULL;
    lam_node *n = lam_record(y, op, unary_backward, 1, &x);
    if (n) {
        n->arg[0] = code;
        if (save_output) n->saved = lam_retain(y);
    }
    return y;
}

lam_tensor *lam_neg(lam_tensor *x) { return unary("lam_neg", LAM_UNARY_NEG, x, false); }
lam_tensor *lam_abs(lam_tensor *x) { return unary("lam_abs", LAM_UNARY_ABS, x, false); }
lam_tensor *lam_exp(lam_tensor *x) { return unary("lam_exp", LAM_UNARY_EXP, x, true); }
lam_tensor *lam_log(lam_tensor *x) { return unary("lam_log", LAM_UNARY_LOG, x, false); }
lam_tensor *lam_sqrt(lam_tensor *x) { return unary("lam_sqrt", LAM_UNARY_SQRT, x, true); }
lam_tensor *lam_relu(lam_tensor *x) { return unary("lam_relu", LAM_UNARY_RELU, x, false); }
lam_tensor *lam_sigmoid(lam_tensor *x) { return unary("lam_sigmoid", LAM_UNARY_SIGMOID, x, true); }
lam_tensor *lam_tanh(lam_tensor *x) { return unary("lam_tanh", LAM_UNARY_TANH, x, true); }
lam_tensor *lam_gelu(lam_tensor *x) { return unary("lam_gelu", LAM_UNARY_GELU, x, false); }
