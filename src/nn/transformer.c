/* TransformerEncoderLayer, PyTorch's nn.TransformerEncoderLayer: self-attention and a
 * feed-forward block, each with a residual connection and a LayerNorm, after them (post-norm,
 * PyTorch's default) or before (norm_first). Children: self_attn, linear1, linear2, norm1,
 * norm2, as PyTorch names them. Inputs (src[, src_mask[, src_key_padding_mask]]). */
#include "core/error.h"
#include "lamina/ops.h"
#include "nn/module_impl.h"

typedef struct {
    lam_module *self_attn, *linear1, *linear2, *norm1, *norm2;
    lam_activation activation;
    float dropout;
    bool norm_first;
} encoder_layer_state;

/* Dropout on the residual branches: lam_dropout once it exists; until then only p = 0
 * (or eval mode) runs. */
static lam_tensor *dropout(lam_module *m, lam_tensor *x) {
    encoder_layer_state *s = lam_self(m);
    if (!x || s->dropout == 0.0f || !lam_is_training(m)) return x;
    LAM_FAIL_NULL(LAM_ERR_ARG, "dropout %g in training needs lam_dropout (not merged yet)",
                  (double)s->dropout);
}

/* dropout(self_attn(x, x, x, mask, pad)) */
static lam_tensor *sa_block(lam_module *m, lam_tensor *x, lam_tensor *mask, lam_tensor *pad) {
    encoder_layer_state *s = lam_self(m);
    return dropout(m, lam_forward_n(s->self_attn, LAM_TENSORS(x, x, x, mask, pad)));
}

/* dropout(linear2(dropout(activation(linear1(x))))) */
static lam_tensor *ff_block(lam_module *m, lam_tensor *x) {
    encoder_layer_state *s = lam_self(m);
    lam_tensor *h = lam_forward(s->linear1, x);
    h = s->activation == LAM_ACTIVATION_GELU ? lam_gelu(h) : lam_relu(h);
    return dropout(m, lam_forward(s->linear2, dropout(m, h)));
}

static lam_tensor *encoder_layer_forward(lam_module *m, int n, lam_tensor *const *in) {
    (void)n;
    encoder_layer_state *s = lam_self(m);
    lam_tensor *x = in[0], *mask = in[1], *pad = in[2];
    if (s->norm_first) {
        x = lam_add(x, sa_block(m, lam_forward(s->norm1, x), mask, pad));
        return lam_add(x, ff_block(m, lam_forward(s->norm2, x)));
    }
    x = lam_forward(s->norm1, lam_add(x, sa_block(m, x, mask, pad)));
    return lam_forward(s->norm2, lam_add(x, ff_block(m, x)));
}

static const lam_module_class_n ENCODER_LAYER = {
    .base = {.name = "TransformerEncoderLayer", .state_size = sizeof(encoder_layer_state)},
    .forward = encoder_layer_forward, .min_inputs = 1, .max_inputs = 3};

/* Registers the children in PyTorch's order; false (m freed by the caller) on failure. */
static bool add_children(lam_module *m, int64_t d, int64_t nhead, const lam_encoder_layer_options *o) {
    encoder_layer_state *s = lam_self(m);
    int64_t ff = o->dim_feedforward ? o->dim_feedforward : 2048;
    float eps = o->layer_norm_eps != 0.0f ? o->layer_norm_eps : 1e-5f;
    lam_mha_options mo = {.dropout = o->dropout, .batch_first = o->batch_first};
    return (s->self_attn = lam_add_module(m, "self_attn", lam_nn_multihead_attention(d, nhead, mo))) &&
           (s->linear1 = lam_add_module(m, "linear1", lam_nn_linear(d, ff))) &&
           (s->linear2 = lam_add_module(m, "linear2", lam_nn_linear(ff, d))) &&
           (s->norm1 = lam_add_module(m, "norm1", lam_nn_layer_norm(LAM_SHAPE(d), eps, true))) &&
           (s->norm2 = lam_add_module(m, "norm2", lam_nn_layer_norm(LAM_SHAPE(d), eps, true)));
}

lam_module *lam_nn_transformer_encoder_layer(int64_t d_model, int64_t nhead, lam_encoder_layer_options opt) {
    if (opt.dim_feedforward < 0 || !(opt.dropout >= 0.0f && opt.dropout < 1.0f) || opt.layer_norm_eps < 0.0f ||
        (opt.activation != LAM_ACTIVATION_RELU && opt.activation != LAM_ACTIVATION_GELU))
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_nn_transformer_encoder_layer: dim_feedforward %lld, dropout %g, layer_norm_eps %g, "
                      "activation %d (want >= 0, [0, 1), >= 0, relu or gelu)", (long long)opt.dim_feedforward,
                      (double)opt.dropout, (double)opt.layer_norm_eps, (int)opt.activation);
    lam_module *m = lam_module_new_n(&ENCODER_LAYER);
    if (!m) return NULL;
    encoder_layer_state *s = lam_self(m);
    s->activation = opt.activation;
    s->dropout = opt.dropout;
    s->norm_first = opt.norm_first;
    if (!add_children(m, d_model, nhead, &opt)) {
        lam_module_free(m);
        return NULL;
    }
    return m;
}
