/* Layers: constructors for the standard modules, and parameter initializers.
 *
 *   lam_module *net = lam_nn_sequential(3, lam_nn_linear(20, 256), lam_nn_relu(),
 *                                       lam_nn_linear(256, 10));
 *   lam_tensor *y = lam_forward(net, x);            // (2, 20) -> (2, 10)
 */
#ifndef LAMINA_NN_H
#define LAMINA_NN_H

#include "lamina/module.h"
#include "lamina/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y = x W^T + b, W (out, in), both Kaiming-uniform initialized like PyTorch. */
LAM_API lam_module *lam_nn_linear(int64_t in_features, int64_t out_features);
LAM_API lam_module *lam_nn_linear_nobias(int64_t in_features, int64_t out_features);
/* A Linear whose in_features comes from its first input; parameters appear then. */
LAM_API lam_module *lam_nn_lazy_linear(int64_t out_features);
LAM_API lam_module *lam_nn_relu(void);
LAM_API lam_module *lam_nn_sigmoid(void);
LAM_API lam_module *lam_nn_tanh(void);
LAM_API lam_module *lam_nn_gelu(void);
LAM_API lam_module *lam_nn_silu(void);   /* x * sigmoid(x) */
/* Flattens all dims but the first: (N, ...) -> (N, prod(...)). */
LAM_API lam_module *lam_nn_flatten(void);
/* A Sequential of n children, run in order, named "0", "1", ... A NULL child fails
 * (the other children are freed). */
LAM_API lam_module *lam_nn_sequential(int n, ...);
LAM_API lam_status lam_nn_sequential_add(lam_module *seq, lam_module *child);

/* An identity: returns its input (as a new handle); a placeholder, e.g. a ResNet shortcut. */
LAM_API lam_module *lam_nn_identity(void);

/* --- convolutional networks (inputs NCHW; see lam_conv2d and friends in lamina/ops.h) ------
 *
 *   lam_module *net = lam_nn_sequential(4,
 *       lam_nn_conv2d(1, 32, 3, 1, 1, 1, 1, true),      // in, out, kernel, stride, padding,
 *       lam_nn_batch_norm2d(32), lam_nn_relu(),          //   dilation, groups, bias
 *       lam_nn_max_pool2d(2, 0, 0));                     // kernel 2, stride = kernel
 *   lam_tensor *y = lam_forward(net, x);                 // (N, 1, 28, 28) -> (N, 32, 14, 14)
 *
 * Names, parameter layouts, buffers and default inits are PyTorch's, so state_dicts load
 * both ways. The _hw variants take (height, width) pairs: LAM_HW2(1, 3) is a 1x3 kernel. */

/* Conv2d: weight (out, in / groups, kh, kw) and bias (out) if bias, both U(+-1/sqrt(fan_in))
 * with fan_in = in / groups * kh * kw (PyTorch's kaiming_uniform(a = sqrt(5))). */
LAM_API lam_module *lam_nn_conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride,
                                  int64_t padding, int64_t dilation, int64_t groups, bool bias);
LAM_API lam_module *lam_nn_conv2d_hw(int64_t in_channels, int64_t out_channels, lam_hw kernel_size, lam_hw stride,
                                     lam_hw padding, lam_hw dilation, int64_t groups, bool bias);
/* LazyConv2d: in_channels from the first input (it becomes a Conv2d then). */
LAM_API lam_module *lam_nn_lazy_conv2d(int64_t out_channels, int64_t kernel_size, int64_t stride, int64_t padding,
                                       int64_t dilation, int64_t groups, bool bias);
LAM_API lam_module *lam_nn_lazy_conv2d_hw(int64_t out_channels, lam_hw kernel_size, lam_hw stride, lam_hw padding,
                                          lam_hw dilation, int64_t groups, bool bias);
/* Pooling layers; a stride of 0 means the kernel size (PyTorch's stride=None). */
LAM_API lam_module *lam_nn_max_pool2d(int64_t kernel_size, int64_t stride, int64_t padding);
LAM_API lam_module *lam_nn_max_pool2d_hw(lam_hw kernel_size, lam_hw stride, lam_hw padding, lam_hw dilation,
                                         bool ceil_mode);
LAM_API lam_module *lam_nn_avg_pool2d(int64_t kernel_size, int64_t stride, int64_t padding);
LAM_API lam_module *lam_nn_avg_pool2d_hw(lam_hw kernel_size, lam_hw stride, lam_hw padding, bool ceil_mode,
                                         bool count_include_pad);
/* LAM_HW(1): global average pooling, (N, C, H, W) -> (N, C, 1, 1). */
LAM_API lam_module *lam_nn_adaptive_avg_pool2d(lam_hw output_size);
/* BatchNorm1d ((N, C) or (N, C, L) inputs) and BatchNorm2d ((N, C, H, W)): parameters weight
 * (1s) and bias (0s) when affine; buffers running_mean (0s), running_var (1s) and i64
 * num_batches_tracked when track_running_stats. Training (the default; lam_train) normalizes
 * with the batch's statistics and updates the running ones; eval uses the running ones.
 * Defaults: eps 1e-5, momentum 0.1, affine, tracking; momentum NAN is PyTorch's None
 * (a cumulative average of all batches). */
LAM_API lam_module *lam_nn_batch_norm1d(int64_t num_features);
LAM_API lam_module *lam_nn_batch_norm2d(int64_t num_features);
LAM_API lam_module *lam_nn_batch_norm1d_ex(int64_t num_features, float eps, float momentum, bool affine,
                                           bool track_running_stats);
LAM_API lam_module *lam_nn_batch_norm2d_ex(int64_t num_features, float eps, float momentum, bool affine,
                                           bool track_running_stats);
/* Dropout(p): zeroes elements with probability p while training, identity in eval. */
LAM_API lam_module *lam_nn_dropout(float p);

/* Initializers, in place, from lam_manual_seed's generator (PyTorch's nn.init). */
LAM_API lam_status lam_init_uniform_(lam_tensor *t, float lo, float hi);
LAM_API lam_status lam_init_normal_(lam_tensor *t, float mean, float std);
LAM_API lam_status lam_init_constant_(lam_tensor *t, float value);
LAM_API lam_status lam_init_xavier_uniform_(lam_tensor *t, float gain);
LAM_API lam_status lam_init_xavier_normal_(lam_tensor *t, float gain);
/* a: negative slope of the following leaky ReLU (0 for ReLU); fan_in mode. */
LAM_API lam_status lam_init_kaiming_uniform_(lam_tensor *t, float a);
LAM_API lam_status lam_init_kaiming_normal_(lam_tensor *t, float a);

#ifdef __cplusplus
}
#endif
#endif
