/* Pooling layers: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d around their ops, with
 * PyTorch's defaults (stride = kernel_size) and reprs. No parameters. */
#include <stdio.h>

#include "core/error.h"
#include "lamina/ops.h"
#include "nn/module_impl.h"

typedef struct {
    lam_hw kernel, stride, padding, dilation, output;
    bool ceil_mode, count_include_pad;
} pool_state;

static lam_tensor *max_forward(lam_module *m, lam_tensor *x) {
    pool_state *s = lam_self(m);
    return lam_max_pool2d(x, s->kernel, s->stride, s->padding, s->dilation, s->ceil_mode);
}

static lam_tensor *avg_forward(lam_module *m, lam_tensor *x) {
    pool_state *s = lam_self(m);
    return lam_avg_pool2d(x, s->kernel, s->stride, s->padding, s->ceil_mode, s->count_include_pad);
}

static lam_tensor *adaptive_forward(lam_module *m, lam_tensor *x) {
    return lam_adaptive_avg_pool2d(x, ((pool_state *)lam_self(m))->output);
}

static void window_repr(const pool_state *s, char *buf, size_t size) {
    buf[0] = '\0';
    lam_repr_hw(buf, size, "kernel_size", s->kernel, true);
    lam_repr_hw(buf, size, ", stride", s->stride, true);
    lam_repr_hw(buf, size, ", padding", s->padding, true);
}

static void max_repr(const lam_module *m, char *buf, size_t size) {
    const pool_state *s = lam_self_const(m);
    window_repr(s, buf, size);
    lam_repr_hw(buf, size, ", dilation", s->dilation, true);
    lam_repr_append(buf, size, ", ceil_mode=%s", s->ceil_mode ? "True" : "False");
}

static void avg_repr(const lam_module *m, char *buf, size_t size) { window_repr(lam_self_const(m), buf, size); }

static void adaptive_repr(const lam_module *m, char *buf, size_t size) {
    buf[0] = '\0';
    lam_repr_hw(buf, size, "output_size", ((const pool_state *)lam_self_const(m))->output, true);
}

static const lam_module_class MAX_POOL2D = {.name = "MaxPool2d", .state_size = sizeof(pool_state),
                                            .forward = max_forward, .extra_repr = max_repr};
static const lam_module_class AVG_POOL2D = {.name = "AvgPool2d", .state_size = sizeof(pool_state),
                                            .forward = avg_forward, .extra_repr = avg_repr};
static const lam_module_class ADAPTIVE_AVG_POOL2D = {.name = "AdaptiveAvgPool2d", .state_size = sizeof(pool_state),
                                                     .forward = adaptive_forward, .extra_repr = adaptive_repr};

/* A pooling module; stride (0, 0) means kernel_size, PyTorch's stride=None. */
static lam_module *make_pool(const char *op, const lam_module_class *cls, pool_state st) {
    if (st.stride.h == 0 && st.stride.w == 0) st.stride = st.kernel;
    bool ok = st.kernel.h > 0 && st.kernel.w > 0 && st.stride.h > 0 && st.stride.w > 0 && st.padding.h >= 0 &&
              st.padding.w >= 0 && st.dilation.h > 0 && st.dilation.w > 0 && st.output.h > 0 && st.output.w > 0;
    if (!ok)
        LAM_FAIL_NULL(LAM_ERR_ARG, "%s: kernel (%lld, %lld), stride (%lld, %lld), dilation and output size must be "
                      "positive, padding (%lld, %lld) at least 0", op, (long long)st.kernel.h, (long long)st.kernel.w,
                      (long long)st.stride.h, (long long)st.stride.w, (long long)st.padding.h, (long long)st.padding.w);
    lam_module *m = lam_module_new(cls);
    if (m) *(pool_state *)lam_self(m) = st;
    return m;
}

lam_module *lam_nn_max_pool2d(int64_t kernel_size, int64_t stride, int64_t padding) {
    return lam_nn_max_pool2d_hw(LAM_HW(kernel_size), LAM_HW(stride), LAM_HW(padding), LAM_HW(1), false);
}

lam_module *lam_nn_max_pool2d_hw(lam_hw kernel_size, lam_hw stride, lam_hw padding, lam_hw dilation, bool ceil_mode) {
    return make_pool("lam_nn_max_pool2d", &MAX_POOL2D,
                     (pool_state){.kernel = kernel_size, .stride = stride, .padding = padding, .dilation = dilation,
                                  .output = LAM_HW(1), .ceil_mode = ceil_mode});
}

lam_module *lam_nn_avg_pool2d(int64_t kernel_size, int64_t stride, int64_t padding) {
    return lam_nn_avg_pool2d_hw(LAM_HW(kernel_size), LAM_HW(stride), LAM_HW(padding), false, true);
}

lam_module *lam_nn_avg_pool2d_hw(lam_hw kernel_size, lam_hw stride, lam_hw padding, bool ceil_mode,
                                 bool count_include_pad) {
    return make_pool("lam_nn_avg_pool2d", &AVG_POOL2D,
                     (pool_state){.kernel = kernel_size, .stride = stride, .padding = padding, .dilation = LAM_HW(1),
                                  .output = LAM_HW(1), .ceil_mode = ceil_mode, .count_include_pad = count_include_pad});
}

lam_module *lam_nn_adaptive_avg_pool2d(lam_hw output_size) {
    return make_pool("lam_nn_adaptive_avg_pool2d", &ADAPTIVE_AVG_POOL2D,
                     (pool_state){.kernel = LAM_HW(1), .stride = LAM_HW(1), .dilation = LAM_HW(1), .output = output_size});
}
