/* Copies that stay in the graph: clone, contiguous, and moves between devices. */
#include "ops/ops_impl.h"

static lam_status identity_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    (void)n;
    gin[0] = g;
    return LAM_OK;
}

/* The gradient of a move goes back to where the input lives. */
static lam_status move_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    gin[0] = lam_tensor_to_device(g, LAM_DEV(n->in[0]));
    return gin[0] ? LAM_OK : lam_last_status();
}

static lam_tensor *recorded(lam_tensor *y, lam_tensor *x, const char *op, lam_backward_fn bw) {
    return lam_recorded(y, op, bw, 1, &x, NULL);
}

lam_tensor *lam_clone(lam_tensor *x) {
    LAM_CHECK_ARG("lam_clone", x);
    return recorded(lam_tensor_copy(x, x->dtype), x, "lam_clone", identity_backward);
}

lam_tensor *lam_contiguous(lam_tensor *x) {
    LAM_CHECK_ARG("lam_contiguous", x);
    lam_tensor *y = lam_is_contiguous(x) ? lam_tensor_view(x, x->ndim, x->shape, x->stride, x->offset)
                                         : lam_tensor_copy(x, x->dtype);
    return recorded(y, x, "lam_contiguous", identity_backward);
}

lam_tensor *lam_to(lam_tensor *x, lam_device *dev) {
    LAM_CHECK_ARG("lam_to", x);
    dev = lam_resolve_device(dev);
    if (!dev) return NULL;
    return recorded(lam_tensor_to_device(x, dev), x, "lam_to", move_backward);
}
