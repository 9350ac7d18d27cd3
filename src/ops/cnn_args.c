/* Argument helpers of the convolutional-network ops (see cnn_impl.h). */
#include <stdio.h>

#include "ops/cnn_impl.h"

char *lam_hw_str(lam_hw v, char *buf, size_t size) {
    snprintf(buf, size, "(%lld, %lld)", (long long)v.h, (long long)v.w);
    return buf;
}

bool lam_window_params_valid(const char *op, lam_hw stride, lam_hw padding, lam_hw dilation) {
    char s[64], p[64], d[64];
    if (stride.h < 1 || stride.w < 1 || padding.h < 0 || padding.w < 0 || dilation.h < 1 || dilation.w < 1)
        LAM_FAIL_FALSE(LAM_ERR_ARG, "%s: stride %s and dilation %s must be at least 1 and padding %s at least 0", op,
                       lam_hw_str(stride, s, sizeof s), lam_hw_str(dilation, d, sizeof d),
                       lam_hw_str(padding, p, sizeof p));
    return true;
}

void lam_window_ints(const lam_window *w, int64_t *out) {
    const int64_t v[12] = {w->h, w->w, w->oh, w->ow, w->kh, w->kw, w->sh, w->sw, w->ph, w->pw, w->dh, w->dw};
    for (int i = 0; i < 12; ++i) out[i] = v[i];
}

lam_tensor *lam_dense(lam_tensor *t, lam_dtype dt) {
    return t->dtype == dt && lam_is_contiguous(t) ? t : lam_tensor_copy(t, dt);
}
