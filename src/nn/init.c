/* Initializers, in place, like PyTorch's nn.init: draw on the tensor's device, then copy
 * into it with recording off so a parameter stays a leaf. */
#include <math.h>

#include "core/error.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"
#include "nn/module_impl.h"

/* fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (PyTorch's rule). */
static lam_status fans(const char *op, const lam_tensor *t, float *fan_in, float *fan_out) {
    int nd = lam_ndim(t);
    if (nd < 2)
        return lam_set_error(LAM_ERR_SHAPE, "%s: fan in and fan out need at least 2 dimensions, got %d", op, nd);
    double receptive = 1;
    for (int i = 2; i < nd; ++i) receptive *= (double)lam_dim(t, i);
    *fan_in = (float)((double)lam_dim(t, 1) * receptive);
    *fan_out = (float)((double)lam_dim(t, 0) * receptive);
    return LAM_OK;
}

/* t = draw (uniform in [lo, hi) or normal(mean, std)) on t's device. */
static lam_status fill_random(const char *op, lam_tensor *t, bool normal, float a, float b) {
    if (!t) {
        lam_null_arg(op);
        return lam_last_status();
    }
    if (lam_tensor_dtype(t) != LAM_F32) return lam_set_error(LAM_ERR_ARG, "%s: tensor must be f32", op);
    bool prev = lam_grad_enabled(false);
    lam_scope_begin();
    lam_device *dev = lam_tensor_device(t);
    lam_tensor *r = normal ? lam_add_scalar(lam_mul_scalar(lam_randn(lam_ndim(t), lam_shape(t), dev), b), a)
                           : lam_rand_uniform(a, b, lam_ndim(t), lam_shape(t), dev);
    lam_status st = r ? lam_copy_(t, r) : lam_last_status();
    lam_scope_end();
    lam_grad_enabled(prev);
    return st;
}

lam_status lam_init_uniform_(lam_tensor *t, float lo, float hi) {
    return fill_random("lam_init_uniform_", t, false, lo, hi);
}

lam_status lam_init_normal_(lam_tensor *t, float mean, float std) {
    return fill_random("lam_init_normal_", t, true, mean, std);
}

lam_status lam_init_constant_(lam_tensor *t, float value) {
    if (!t) {
        lam_null_arg("lam_init_constant_");
        return lam_last_status();
    }
    bool prev = lam_grad_enabled(false);
    lam_status st = lam_fill_(t, value);
    lam_grad_enabled(prev);
    return st;
}

/* a = gain * sqrt(6 / (fan_in + fan_out)) */
lam_status lam_init_xavier_uniform_(lam_tensor *t, float gain) {
    float fi = 0.0f, fo = 0.0f;
    if (!t) return fill_random("lam_init_xavier_uniform_", t, false, 0, 0);
    lam_status st = fans("lam_init_xavier_uniform_", t, &fi, &fo);
    if (st != LAM_OK) return st;
    float a = gain * sqrtf(6.0f / (fi + fo));
    return fill_random("lam_init_xavier_uniform_", t, false, -a, a);
}

/* std = gain * sqrt(2 / (fan_in + fan_out)) */
lam_status lam_init_xavier_normal_(lam_tensor *t, float gain) {
    float fi = 0.0f, fo = 0.0f;
    if (!t) return fill_random("lam_init_xavier_normal_", t, true, 0, 0);
    lam_status st = fans("lam_init_xavier_normal_", t, &fi, &fo);
    if (st != LAM_OK) return st;
    return fill_random("lam_init_xavier_normal_", t, true, 0.0f, gain * sqrtf(2.0f / (fi + fo)));
}

/* gain = sqrt(2 / (1 + a^2)) for a leaky ReLU of slope a; bound = gain * sqrt(3 / fan_in) */
lam_status lam_init_kaiming_uniform_(lam_tensor *t, float a) {
    float fi = 0.0f, fo = 0.0f;
    if (!t) return fill_random("lam_init_kaiming_uniform_", t, false, 0, 0);
    lam_status st = fans("lam_init_kaiming_uniform_", t, &fi, &fo);
    if (st != LAM_OK) return st;
    float bound = sqrtf(2.0f / (1.0f + a * a)) * sqrtf(3.0f / fi);
    return fill_random("lam_init_kaiming_uniform_", t, false, -bound, bound);
}

/* std = gain / sqrt(fan_in) */
lam_status lam_init_kaiming_normal_(lam_tensor *t, float a) {
    float fi = 0.0f, fo = 0.0f;
    if (!t) return fill_random("lam_init_kaiming_normal_", t, true, 0, 0);
    lam_status st = fans("lam_init_kaiming_normal_", t, &fi, &fo);
    if (st != LAM_OK) return st;
    return fill_random("lam_init_kaiming_normal_", t, true, 0.0f, sqrtf(2.0f / (1.0f + a * a)) / sqrtf(fi));
}

/* PyTorch's default for Linear and Conv: W by kaiming_uniform_(a = sqrt(5)), so
 * W ~ U(+-1/sqrt(fan_in)), and b ~ U(+-1/sqrt(fan_in)) too. */
lam_status lam_nn_reset_affine(lam_tensor *weight, lam_tensor *bias) {
    float fi = 0.0f, fo = 0.0f;
    lam_status st = fans("reset_parameters", weight, &fi, &fo);
    if (st == LAM_OK) st = lam_init_kaiming_uniform_(weight, sqrtf(5.0f));
    float bound = fi > 0.0f ? 1.0f / sqrtf(fi) : 0.0f;
    if (st == LAM_OK && bias) st = lam_init_uniform_(bias, -bound, bound);
    return st;
}
