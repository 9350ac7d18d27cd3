/* The GPT of gpt.h as custom modules: a Block with two inputs (x and the mask, through
 * lam_module_class_n), the MLP, and the GPT itself with a ModuleList-like container "h". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gpt.h"

/* ---- MLP: c_proj(gelu(c_fc(x))) ------------------------------------------------------------ */

typedef struct { lam_module *c_fc, *c_proj; } mlp;

static lam_tensor *mlp_forward(lam_module *m, lam_tensor *x) {
    mlp *self = lam_self(m);
    return lam_forward(self->c_proj, lam_gelu(lam_forward(self->c_fc, x)));
}

static const lam_module_class MLP = {.name = "MLP", .state_size = sizeof(mlp), .forward = mlp_forward};

static lam_module *mlp_new(int64_t n_embd) {
    lam_module *m = lam_module_new(&MLP);
    if (!m) return NULL;
    mlp *self = lam_self(m);
    self->c_fc = lam_add_module(m, "c_fc", lam_nn_linear(n_embd, 4 * n_embd));
    self->c_proj = lam_add_module(m, "c_proj", lam_nn_linear(4 * n_embd, n_embd));
    if (self->c_fc && self->c_proj) return m;
    lam_module_free(m);
    return NULL;
}

/* ---- Block(x, mask): pre-norm causal self-attention and MLP, each a residual ---------------- */

typedef struct { lam_module *ln_1, *attn, *ln_2, *mlp; } block;

static lam_tensor *block_forward(lam_module *m, int n, lam_tensor *const *in) {
    (void)n;
    block *self = lam_self(m);
    lam_tensor *x = in[0], *mask = in[1];
    lam_tensor *h = lam_forward(self->ln_1, x);
    x = lam_add(x, lam_forward_n(self->attn, LAM_TENSORS(h, h, h, mask)));
    return lam_add(x, lam_forward(self->mlp, lam_forward(self->ln_2, x)));
}

static const lam_module_class_n BLOCK = {.base = {.name = "Block", .state_size = sizeof(block)},
                                         .forward = block_forward, .min_inputs = 1, .max_inputs = 2};

static lam_module *block_new(gpt_config c) {
    lam_module *m = lam_module_new_n(&BLOCK);
    if (!m) return NULL;
    block *self = lam_self(m);
    lam_mha_options attn = {.batch_first = true};
    if ((self->ln_1 = lam_add_module(m, "ln_1", lam_nn_layer_norm(LAM_SHAPE(c.n_embd), 1e-5f, true))) &&
        (self->attn = lam_add_module(m, "attn", lam_nn_multihead_attention(c.n_embd, c.n_head, attn))) &&
        (self->ln_2 = lam_add_module(m, "ln_2", lam_nn_layer_norm(LAM_SHAPE(c.n_embd), 1e-5f, true))) &&
        (self->mlp = lam_add_module(m, "mlp", mlp_new(c.n_embd))))
        return m;
    lam_module_free(m);
    return NULL;
}

/* ---- GPT ---------------------------------------------------------------------------------- */

typedef struct {
    gpt_config c;
    lam_module *wte, *wpe, *h, *ln_f, *lm_head;
} gpt;

static lam_tensor *gpt_forward(lam_module *m, lam_tensor *idx) {
    gpt *self = lam_self(m);
    int64_t T = lam_dim(idx, -1);   /* past block_size, wpe refuses the positions */
    lam_device *dev = lam_tensor_device(idx);
    lam_tensor *pos = lam_arange(0, (double)T, 1, LAM_I64, dev);
    lam_tensor *x = lam_add(lam_forward(self->wte, idx), lam_forward(self->wpe, pos));
    lam_tensor *mask = lam_causal_mask(T, T, dev);
    lam_module *blocks[64];
    int n = lam_module_children(self->h, blocks, 64);
    for (int i = 0; i < n && i < 64; ++i) x = lam_forward_n(blocks[i], LAM_TENSORS(x, mask));
    return lam_forward(self->lm_head, lam_forward(self->ln_f, x));
}

static const lam_module_class GPT = {.name = "GPT", .state_size = sizeof(gpt), .forward = gpt_forward};
static const lam_module_class MODULE_LIST = {.name = "ModuleList"};   /* holds the blocks, runs nothing */

/* minGPT's init: N(0, 0.02) for Linear and Embedding weights and MultiheadAttention's
 * in_proj_weight, 0.02 / sqrt(2 n_layer) for the residual projections, zero biases. */
static lam_status init_weights(lam_module *m, void *user) {
    const gpt_config *c = user;
    const char *cls = lam_module_class_of(m)->name;
    lam_named_tensor p[8];
    int n = lam_named_parameters(m, p, 8);
    bool weights = !strcmp(cls, "Linear") || !strcmp(cls, "Embedding") || !strcmp(cls, "MultiheadAttention");
    for (int i = 0; weights && i < n && i < 8; ++i) {
        if (strchr(p[i].name, '.')) continue;   /* a child's: initialized on its own visit */
        lam_status st = strstr(p[i].name, "bias") ? lam_init_constant_(p[i].tensor, 0.0f)
                                                  : lam_init_normal_(p[i].tensor, 0.0f, 0.02f);
        if (st != LAM_OK) return st;
    }
    (void)c;
    return LAM_OK;
}

/* The residual projections (attn.out_proj, mlp.c_proj) get a smaller std. */
static lam_status init_residual(lam_module *gpt_m, const gpt_config *c) {
    lam_named_tensor p[256];
    int n = lam_named_parameters(gpt_m, p, 256);
    float std = 0.02f / sqrtf(2.0f * (float)c->n_layer);
    for (int i = 0; i < n && i < 256; ++i) {
        const char *s = p[i].name;
        size_t len = strlen(s);
        bool proj = len > 7 && !strcmp(s + len - 7, ".weight") && (strstr(s, "out_proj.") || strstr(s, "c_proj."));
        if (proj && lam_init_normal_(p[i].tensor, 0.0f, std) != LAM_OK) return lam_last_status();
    }
    return LAM_OK;
}

lam_module *gpt_new(gpt_config c) {
    lam_module *m = lam_module_new(&GPT);
    if (!m) return NULL;
    gpt *self = lam_self(m);
    self->c = c;
    bool ok = (self->wte = lam_add_module(m, "wte", lam_nn_embedding(c.vocab_size, c.n_embd))) &&
              (self->wpe = lam_add_module(m, "wpe", lam_nn_embedding(c.block_size, c.n_embd))) &&
              (self->h = lam_add_module(m, "h", lam_module_new(&MODULE_LIST)));
    for (int64_t i = 0; ok && i < c.n_layer; ++i) {
        char name[24];
        snprintf(name, sizeof name, "%lld", (long long)i);
        ok = lam_add_module(self->h, name, block_new(c)) != NULL;
    }
    ok = ok && (self->ln_f = lam_add_module(m, "ln_f", lam_nn_layer_norm(LAM_SHAPE(c.n_embd), 1e-5f, true))) &&
         (self->lm_head = lam_add_module(m, "lm_head", lam_nn_linear_nobias(c.n_embd, c.vocab_size))) &&
         lam_module_apply(m, init_weights, &c) == LAM_OK && init_residual(m, &c) == LAM_OK;
    if (ok) return m;
    lam_module_free(m);
    return NULL;
}

gpt_config gpt_config_of(lam_module *m) { return ((gpt *)lam_self(m))->c; }

lam_tensor *gpt_generate_greedy(lam_module *m, lam_tensor *prompts, int steps) {
    bool grad = lam_grad_enabled(false);
    lam_tensor *x = prompts;
    for (int s = 0; x && s < steps; ++s) {
        lam_tensor *logits = lam_forward(m, x);   /* (N, T, V) */
        int64_t T = lam_dim(x, 1);
        lam_tensor *next = lam_argmax(lam_slice(logits, 1, T - 1, T, 1), -1, false);   /* (N, 1) */
        x = lam_cat(LAM_TENSORS(x, next), 1);
    }
    lam_grad_enabled(grad);
    return x;
}
