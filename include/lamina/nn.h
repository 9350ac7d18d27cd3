/* Layers: constructors for the standard modules, and parameter initializers.
 *
 *   lam_module *net = lam_nn_sequential(3, lam_nn_linear(20, 256), lam_nn_relu(),
 *                                       lam_nn_linear(256, 10));
 *   lam_tensor *y = lam_forward(net, x);            // (2, 20) -> (2, 10)
 */
#ifndef LAMINA_NN_H
#define LAMINA_NN_H

#include "lamina/module.h"

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
