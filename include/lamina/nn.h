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

/* --- Transformers ------------------------------------------------------------------------
 * PyTorch's modules with PyTorch's parameter names, layouts and initializations, so their
 * state_dicts load into the PyTorch twins (and back).
 *
 *   lam_module *attn = lam_nn_multihead_attention(256, 4, (lam_mha_options){.batch_first = true});
 *   lam_tensor *y = lam_forward_n(attn, LAM_TENSORS(x, x, x, lam_causal_mask(T, T, dev)));
 *   lam_module *layer = lam_nn_transformer_encoder_layer(256, 4, (lam_encoder_layer_options){
 *       .dim_feedforward = 1024, .batch_first = true, .norm_first = true});
 *   y = lam_forward(layer, x);                           // or lam_forward_n(layer, LAM_TENSORS(x, mask))
 */

/* nn.Embedding: "weight" (num_embeddings, embedding_dim) ~ N(0, 1); forward takes i32/i64
 * ids of any shape and gives ids.shape + (embedding_dim,). An id out of range is an error. */
LAM_API lam_module *lam_nn_embedding(int64_t num_embeddings, int64_t embedding_dim);
/* nn.LayerNorm over the last dims, normalized_shape given with LAM_SHAPE:
 *   lam_nn_layer_norm(LAM_SHAPE(256), 1e-5f, true)
 * elementwise_affine adds "weight" (ones) and "bias" (zeros) of that shape. */
LAM_API lam_module *lam_nn_layer_norm(int ndim, const int64_t *normalized_shape, float eps, bool elementwise_affine);

typedef struct {
    float dropout;      /* on the attention weights, in training (PyTorch's default 0) */
    bool no_bias;       /* PyTorch's bias=False: no in_proj_bias, out_proj without bias */
    bool batch_first;   /* inputs (N, L, E); else PyTorch's default (L, N, E) */
} lam_mha_options;
/* nn.MultiheadAttention(embed_dim, num_heads) with kdim = vdim = embed_dim: parameters
 * "in_proj_weight" (3E, E) (xavier-uniform), "in_proj_bias" (3E) (zeros) and the Linear
 * "out_proj" (bias zeros). embed_dim must be divisible by num_heads. lam_forward_n takes
 * (query, key, value[, attn_mask[, key_padding_mask]]): query (N, L, E) (or (L, N, E), or
 * unbatched (L, E)), key and value (N, S, E); attn_mask (L, S) or (N * num_heads, L, S) and
 * key_padding_mask (N, S) in PyTorch's convention: integer masks block where nonzero
 * (PyTorch's True), floating ones are added to the scores. Returns the attention output
 * only (PyTorch's attn_output with need_weights=False). */
LAM_API lam_module *lam_nn_multihead_attention(int64_t embed_dim, int64_t num_heads, lam_mha_options opt);

typedef enum { LAM_ACTIVATION_RELU, LAM_ACTIVATION_GELU } lam_activation;
typedef struct {
    int64_t dim_feedforward;     /* 0 means 2048 (PyTorch's default) */
    float dropout;               /* 0 is none; PyTorch's default is 0.1: write it to match */
    lam_activation activation;   /* relu (PyTorch's default) or gelu */
    float layer_norm_eps;        /* 0 means 1e-5 */
    bool batch_first;            /* (N, T, E); else (T, N, E) */
    bool norm_first;             /* pre-norm: x + sa(norm1(x)); else norm1(x + sa(x)) */
} lam_encoder_layer_options;
/* nn.TransformerEncoderLayer(d_model, nhead): children "self_attn" (MultiheadAttention),
 * "linear1", "linear2", "norm1", "norm2". Inputs (src[, src_mask[, src_key_padding_mask]]),
 * the masks as MultiheadAttention's; lam_forward(layer, src) works too (in a Sequential). */
LAM_API lam_module *lam_nn_transformer_encoder_layer(int64_t d_model, int64_t nhead, lam_encoder_layer_options opt);

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
