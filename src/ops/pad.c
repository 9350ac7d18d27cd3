/* Constant padding, F.pad(x, pad, value=v): a tensor of v with x copied into its interior.
 * The gradient is the interior of g, a slice. */
#include "ops/cnn_impl.h"

/* args: npad, then the pads */
static lam_status pad_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *v = g;
    for (int k = 0; v && k < n->arg[0] / 2; ++k) {
        int d = g->ndim - 1 - k;
        v = lam_slice(v, d, n->arg[1 + 2 * k], g->shape[d] - n->arg[2 + 2 * k], 1);
    }
    gin[0] = v;
    return v ? LAM_OK : lam_last_status();
}

lam_tensor *lam_pad(lam_tensor *x, int npad, const int64_t *pad, float value) {
    const char *op = "lam_pad";
    LAM_CHECK_ARG(op, x);
    char s[96];
    if (npad < 0 || npad % 2 || npad > 2 * x->ndim || npad > LAM_NODE_MAX_ARGS - 1 || (npad && !pad))
        LAM_FAIL_NULL(LAM_ERR_ARG, "%s: %d pads for input %s (an even count, at most 2 per dimension, 8 in all)", op,
                      npad, lam_shape_str(x, s, sizeof s));
    int64_t shape[LAM_MAX_DIMS];
    for (int i = 0; i < x->ndim; ++i) shape[i] = x->shape[i];
    for (int k = 0; k < npad; ++k) {
        if (pad[k] < 0) LAM_FAIL_NULL(LAM_ERR_ARG, "%s: pad %lld is negative (cropping is not supported)", op, (long long)pad[k]);
        shape[x->ndim - 1 - k / 2] += pad[k];
    }
    if (!lam_shape_valid(op, x->ndim, shape, x->dtype)) return NULL;
    bool grad = lam_grad_enabled(false);
    lam_scope_begin();
    lam_tensor *y = lam_tensor_alloc(x->dtype, x->ndim, shape, LAM_DEV(x)), *inner = y;
    bool ok = y && lam_fill_(y, value) == LAM_OK;
    for (int k = 0; ok && inner && k < npad / 2; ++k) {
        int d = x->ndim - 1 - k;
        inner = lam_slice(inner, d, pad[2 * k], pad[2 * k] + x->shape[d], 1);
    }
    ok = ok && inner && lam_copy_(inner, x) == LAM_OK;
    y = lam_scope_end_keep(ok ? y : NULL);
    lam_grad_enabled(grad);
    lam_node *n;
    if (!lam_recorded(y, op, pad_backward, 1, &x, &n)) return NULL;
    for (int k = 0; n && k <= npad; ++k) n->arg[k] = k == 0 ? npad : pad[k - 1];
    return y;
}
