/* Unary elementwise ops: one public function per row of the op table (cl/op_table.h), each
 * recording a node whose backward runs the row's gradient expression. */
#include "ops/ops_impl.h"

/* dx = f'(s, g), s being x or y as the row says (arg 0: the gradient's op code). */
static lam_status unary_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_ew_op grad = (lam_ew_op)n->arg[0];
    lam_tensor *s = n->saved ? n->saved : n->in[0];
    gin[0] = lam_ew_run(lam_ew_name(grad), grad, 2, (lam_ew_arg[]){LAM_EW_T(s), LAM_EW_T(g)});
    return gin[0] ? LAM_OK : lam_last_status();
}

static lam_tensor *unary(const char *op, lam_ew_op code, lam_ew_op grad, bool save_output, lam_tensor *x) {
    lam_node *n;
    lam_tensor *y = lam_recorded(lam_ew_run(op, code, 1, &LAM_EW_T(x)), op, unary_backward, 1, &x, &n);
    if (n) {
        n->arg[0] = grad;
        if (save_output) n->saved = lam_retain(y);
    }
    return y;
}

#define LAM_SAVES_OUTPUT_INPUT false
#define LAM_SAVES_OUTPUT_OUTPUT true
#define LAM_SAVES_OUTPUT_NONE false
#define LAM_DEFINE_UNARY(NAME, name, saves, f, df)                                                 \
    lam_tensor *lam_##name(lam_tensor *x) {                                                        \
        return unary("lam_" #name, LAM_EW_##NAME, LAM_EW_##NAME##_GRAD, LAM_SAVES_OUTPUT_##saves, x); \
    }
LAM_UNARY_OPS(LAM_DEFINE_UNARY)
