/* A GPT written the chapter's way: custom modules for the block and the model, built from
 * lamina's Embedding, LayerNorm, MultiheadAttention and Linear. Shared by gpt_sort.c and
 * gpt_chars.c; examples/gpt_twin.py is the same model in PyTorch (same parameter names).
 *
 *   GPT(idx (B, T) i64) = lm_head(ln_f(h.N-1(... h.0(wte(idx) + wpe(0..T-1), mask)))) (B, T, V)
 *   Block(x, mask)      = x + attn(ln_1(x), ln_1(x), ln_1(x), mask);  x + mlp(ln_2(x))
 *   MLP(x)              = c_proj(gelu(c_fc(x)))                        (4 n_embd hidden)
 *
 * mask is the additive causal mask (lam_causal_mask): position t sees positions <= t. */
#ifndef LAMINA_EXAMPLE_GPT_H
#define LAMINA_EXAMPLE_GPT_H

#include <lamina.h>

typedef struct {
    int64_t vocab_size, block_size;   /* tokens, and the longest sequence */
    int64_t n_layer, n_head, n_embd;
} gpt_config;

/* The model on the default device, initialized as minGPT does: Linear and Embedding weights
 * N(0, 0.02) (the residual projections 0.02 / sqrt(2 n_layer)), biases 0, norms 1 and 0. */
lam_module *gpt_new(gpt_config c);
/* Its configuration. */
gpt_config gpt_config_of(lam_module *gpt);

/* Greedy decoding: appends `steps` tokens to prompts (N, T0) i64, each the argmax of the
 * last position's logits; returns (N, T0 + steps) i64 in the current scope. */
lam_tensor *gpt_generate_greedy(lam_module *gpt, lam_tensor *prompts, int steps);

#endif
