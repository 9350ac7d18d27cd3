/* Conv2d and LazyConv2d: lam_conv2d with weight (out, in / groups, kh, kw) and bias (out),
 * PyTorch's layout, names and default init. */
#include <stdio.h>

#include "core/error.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"
#include "nn/module_impl.h"

typedef struct {
    int64_t in_channels, out_channels, groups;
    lam_hw kernel, stride, padding, dilation;
    bool has_bias;
    lam_tensor *weight, *bias;   /* owned by the module's registry */
} conv_state;

static lam_status conv_reset(lam_module *m) {
    conv_state *s = lam_self(m);
    return s->weight ? lam_nn_reset_affine(s->weight, s->bias) : LAM_OK;   /* lazy: at materialization */
}

/* PyTorch's repr: padding, dilation and groups only when not the default. */
static void conv_repr(const lam_module *m, char *buf, size_t size) {
    const conv_state *s = lam_self_const(m);
    snprintf(buf, size, "%lld, %lld, ", (long long)s->in_channels, (long long)s->out_channels);
    lam_repr_hw(buf, size, "kernel_size", s->kernel, false);
    lam_repr_hw(buf, size, ", stride", s->stride, false);
    if (s->padding.h || s->padding.w) lam_repr_hw(buf, size, ", padding", s->padding, false);
    if (s->dilation.h != 1 || s->dilation.w != 1) lam_repr_hw(buf, size, ", dilation", s->dilation, false);
    if (s->groups != 1) lam_repr_append(buf, size, ", groups=%lld", (long long)s->groups);
    if (!s->has_bias) lam_repr_append(buf, size, ", bias=False");
}

static lam_tensor *conv_forward(lam_module *m, lam_tensor *x);

static const lam_module_class CONV2D = {.name = "Conv2d", .state_size = sizeof(conv_state), .forward = conv_forward,
                                        .extra_repr = conv_repr, .reset_parameters = conv_reset};
static const lam_module_class LAZY_CONV2D = {.name = "LazyConv2d", .state_size = sizeof(conv_state),
                                             .forward = conv_forward, .extra_repr = conv_repr,
                                             .reset_parameters = conv_reset};

/* Creates, registers and initializes W (and b): all or nothing (lam_module_materialize). */
static lam_status materialize(lam_module *m, int64_t in_channels) {
    conv_state *s = lam_self(m);
    s->in_channels = in_channels;   /* reset_parameters reads it */
    lam_status st = lam_module_materialize(m, LAM_SHAPE(s->out_channels, in_channels / s->groups, s->kernel.h,
                                                        s->kernel.w),
                                           s->has_bias ? s->out_channels : 0, &s->weight, &s->bias);
    if (st != LAM_OK) s->in_channels = 0;
    return st;
}

/* A LazyConv2d becomes a Conv2d of in_channels = in (PyTorch turns the class too). */
static lam_status lazy_materialize(lam_module *m, int64_t in) {
    conv_state *s = lam_self(m);
    if (in < 1 || in % s->groups)
        return lam_set_error(LAM_ERR_SHAPE, "LazyConv2d: %lld input channels, not a positive multiple of groups=%lld",
                             (long long)in, (long long)s->groups);
    lam_status st = materialize(m, in);
    if (st != LAM_OK) return st;
    m->lazy_pending = false;
    lam_module_set_class(m, &CONV2D);
    return LAM_OK;
}

/* A state_dict's weight (out, in / groups, kh, kw) gives in. */
static bool lazy_infer(const lam_module *m, int ndim, const int64_t *shape, int64_t *in) {
    const conv_state *s = lam_self_const(m);
    if (ndim != 4 || shape[0] != s->out_channels || shape[1] <= 0 || shape[2] != s->kernel.h || shape[3] != s->kernel.w)
        return false;
    *in = shape[1] * s->groups;
    return true;
}

static int lazy_plan(const lam_module *m, int64_t in, lam_lazy_tensor *out, int max) {
    const conv_state *s = lam_self_const(m);
    if (max >= 1) out[0] = (lam_lazy_tensor){"weight", 4, {s->out_channels, in / s->groups, s->kernel.h, s->kernel.w}};
    if (max >= 2 && s->has_bias) out[1] = (lam_lazy_tensor){"bias", 1, {s->out_channels}};
    return s->has_bias ? 2 : 1;
}

static const lam_lazy_ops LAZY_CONV2D_OPS = {.key = "weight", .infer = lazy_infer, .plan = lazy_plan,
                                             .materialize = lazy_materialize};

static lam_tensor *conv_forward(lam_module *m, lam_tensor *x) {
    conv_state *s = lam_self(m);
    char sh[96];
    if (lam_ndim(x) != 4)
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "%s: expected a 4-D input (N, C, H, W), got %s", m->cls->name,
                      lam_shape_str(x, sh, sizeof sh));
    if (m->lazy_pending && lazy_materialize(m, lam_dim(x, 1)) != LAM_OK) return NULL;
    return lam_conv2d(x, s->weight, s->bias, s->stride, s->padding, s->dilation, s->groups);
}

static lam_module *make_conv(const char *op, int64_t in, int64_t out, lam_hw kernel, lam_hw stride, lam_hw padding,
                             lam_hw dilation, int64_t groups, bool bias, bool lazy) {
    bool ok = out > 0 && (lazy || in > 0) && groups > 0 && out % groups == 0 && (lazy || in % groups == 0);
    ok = ok && kernel.h > 0 && kernel.w > 0 && stride.h > 0 && stride.w > 0 && padding.h >= 0 && padding.w >= 0 &&
         dilation.h > 0 && dilation.w > 0;
    if (!ok)
        LAM_FAIL_NULL(LAM_ERR_ARG, "%s: in=%lld, out=%lld, groups=%lld (channels positive and divisible by groups), "
                      "kernel (%lld, %lld), stride (%lld, %lld), dilation (%lld, %lld) positive, padding (%lld, %lld) >= 0",
                      op, (long long)in, (long long)out, (long long)groups, (long long)kernel.h, (long long)kernel.w,
                      (long long)stride.h, (long long)stride.w, (long long)dilation.h, (long long)dilation.w,
                      (long long)padding.h, (long long)padding.w);
    lam_module *m = lam_module_new(lazy ? &LAZY_CONV2D : &CONV2D);
    if (!m) return NULL;
    conv_state *s = lam_self(m);
    *s = (conv_state){.in_channels = in, .out_channels = out, .groups = groups, .kernel = kernel, .stride = stride,
                      .padding = padding, .dilation = dilation, .has_bias = bias};
    m->lazy_pending = lazy;
    m->lazy = lazy ? &LAZY_CONV2D_OPS : NULL;
    if (!lazy && materialize(m, in) != LAM_OK) {
        lam_module_free(m);
        return NULL;
    }
    return m;
}

lam_module *lam_nn_conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride,
                          int64_t padding, int64_t dilation, int64_t groups, bool bias) {
    return make_conv("lam_nn_conv2d", in_channels, out_channels, LAM_HW(kernel_size), LAM_HW(stride), LAM_HW(padding),
                     LAM_HW(dilation), groups, bias, false);
}

lam_module *lam_nn_conv2d_hw(int64_t in_channels, int64_t out_channels, lam_hw kernel_size, lam_hw stride,
                             lam_hw padding, lam_hw dilation, int64_t groups, bool bias) {
    return make_conv("lam_nn_conv2d_hw", in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                     false);
}

lam_module *lam_nn_lazy_conv2d(int64_t out_channels, int64_t kernel_size, int64_t stride, int64_t padding,
                               int64_t dilation, int64_t groups, bool bias) {
    return make_conv("lam_nn_lazy_conv2d", 0, out_channels, LAM_HW(kernel_size), LAM_HW(stride), LAM_HW(padding),
                     LAM_HW(dilation), groups, bias, true);
}

lam_module *lam_nn_lazy_conv2d_hw(int64_t out_channels, lam_hw kernel_size, lam_hw stride, lam_hw padding,
                                  lam_hw dilation, int64_t groups, bool bias) {
    return make_conv("lam_nn_lazy_conv2d_hw", 0, out_channels, kernel_size, stride, padding, dilation, groups, bias, true);
}
