/* MultiheadAttention, PyTorch's nn.MultiheadAttention with kdim = vdim = embed_dim: the
 * packed projection in_proj_weight (3E, E) and in_proj_bias (3E), the output projection
 * out_proj (a Linear), heads of E / num_heads features, lam_scaled_dot_product_attention
 * between. Inputs (query, key, value[, attn_mask[, key_padding_mask]]) in PyTorch's layouts
 * and mask conventions; the output is PyTorch's attn_output (need_weights=False). */
#include <math.h>
#include <stdio.h>

#include "core/error.h"
#include "lamina/ops.h"
#include "nn/module_impl.h"

typedef struct {
    int64_t embed_dim, num_heads;
    float dropout;
    bool batch_first;
    lam_tensor *in_proj_weight, *in_proj_bias;   /* bias NULL with no_bias; owned by the registry */
    lam_module *out_proj;
} mha_state;

/* PyTorch's _reset_parameters: xavier_uniform_ in_proj_weight, zero biases; out_proj's
 * weight keeps the Linear init. */
static lam_status mha_reset(lam_module *m) {
    mha_state *s = lam_self(m);
    lam_status st = lam_init_xavier_uniform_(s->in_proj_weight, 1.0f);
    if (st == LAM_OK && s->in_proj_bias) st = lam_init_constant_(s->in_proj_bias, 0.0f);
    lam_tensor *ob = s->in_proj_bias ? lam_module_param(s->out_proj, "bias") : NULL;
    return st == LAM_OK && ob ? lam_init_constant_(ob, 0.0f) : st;
}

/* x (N, T, E) projected by rows [part * E, (part + 1) * E) of the packed in_proj, split into
 * heads: (N, H, T, Dh), contiguous. Three GEMMs on slices of the weight rather than one on
 * all of it: their gradients are weight-sized, where slicing one (N, T, 3E) output would
 * scatter three activation-sized gradients. */
static lam_tensor *project_heads(mha_state *s, lam_tensor *x, int part) {
    int64_t E = s->embed_dim, H = s->num_heads, lo = part * E, hi = lo + E;
    lam_tensor *y = lam_matmul(x, lam_transpose(lam_slice(s->in_proj_weight, 0, lo, hi, 1), 0, 1));
    if (s->in_proj_bias) y = lam_add(y, lam_slice(s->in_proj_bias, 0, lo, hi, 1));
    lam_tensor *r = lam_reshape(y, 4, (const int64_t[]){lam_dim(x, 0), lam_dim(x, 1), H, E / H});
    return lam_contiguous(lam_permute(r, (const int[]){0, 2, 1, 3}));
}

/* An attention mask in MHA's convention as one added to the scores: floating masks as they
 * are, integer ones -inf where nonzero (blocked). */
static lam_tensor *additive(lam_tensor *mask) {
    if (lam_dtype_is_float(lam_tensor_dtype(mask))) return mask;
    lam_tensor *blocked = lam_ne_scalar(lam_to_dtype(mask, LAM_F32), 0.0f);
    return lam_masked_fill(lam_zeros(lam_ndim(mask), lam_shape(mask), lam_tensor_device(mask)), blocked, -INFINITY);
}

/* Both masks as one added to (N, H, L, S) scores, or NULL (no mask; *ok false on error). */
static lam_tensor *merged_mask(mha_state *s, lam_tensor *attn_mask, lam_tensor *pad, int64_t N, int64_t L, int64_t S,
                               bool *ok) {
    char a[96];
    int64_t H = s->num_heads;
    lam_tensor *mask = NULL;
    *ok = false;
    if (attn_mask) {
        int nd = lam_ndim(attn_mask);
        bool fits = (nd == 2 && lam_dim(attn_mask, 0) == L && lam_dim(attn_mask, 1) == S) ||
                    (nd == 3 && lam_dim(attn_mask, 0) == N * H && lam_dim(attn_mask, 1) == L && lam_dim(attn_mask, 2) == S);
        if (!fits)
            LAM_FAIL_NULL(LAM_ERR_SHAPE, "attn_mask %s should be (L, S) = (%lld, %lld) or (N * num_heads, L, S) = (%lld, %lld, %lld)",
                          lam_shape_str(attn_mask, a, sizeof a), (long long)L, (long long)S, (long long)(N * H),
                          (long long)L, (long long)S);
        mask = additive(attn_mask);
        if (mask && nd == 3) mask = lam_reshape(mask, 4, (const int64_t[]){N, H, L, S});
        if (!mask) return NULL;
    }
    if (pad) {
        if (lam_ndim(pad) != 2 || lam_dim(pad, 0) != N || lam_dim(pad, 1) != S)
            LAM_FAIL_NULL(LAM_ERR_SHAPE, "key_padding_mask %s should be (N, S) = (%lld, %lld)", lam_shape_str(pad, a, sizeof a),
                          (long long)N, (long long)S);
        lam_tensor *p = lam_reshape(additive(pad), 4, (const int64_t[]){N, 1, 1, S});
        mask = mask ? lam_add(mask, p) : p;
        if (!mask) return NULL;
    }
    *ok = true;
    return mask;
}

/* query (N, L, E), key and value (N, S, E), batch first. */
static lam_tensor *attend(lam_module *m, lam_tensor *q, lam_tensor *k, lam_tensor *v, lam_tensor *attn_mask,
                          lam_tensor *pad) {
    mha_state *s = lam_self(m);
    int64_t N = lam_dim(q, 0), L = lam_dim(q, 1), S = lam_dim(k, 1), E = s->embed_dim;
    bool ok;
    lam_tensor *mask = merged_mask(s, attn_mask, pad, N, L, S, &ok);
    if (!ok) return NULL;
    lam_tensor *qh = project_heads(s, q, 0), *kh = project_heads(s, k, 1), *vh = project_heads(s, v, 2);
    if (!qh || !kh || !vh) return NULL;
    float p = lam_is_training(m) ? s->dropout : 0.0f;
    lam_tensor *o = lam_scaled_dot_product_attention(qh, kh, vh, mask, false, p);   /* (N, H, L, Dh) */
    o = lam_reshape(lam_permute(o, (const int[]){0, 2, 1, 3}), 3, (const int64_t[]){N, L, E});
    return lam_forward(s->out_proj, o);
}

/* Checks the three inputs' shapes: (N, L, E) and (N, S, E) with one N and one S, batch
 * first, or (L, E) and (S, E) unbatched. */
static bool check_inputs(mha_state *s, lam_tensor *q, lam_tensor *k, lam_tensor *v) {
    char a[96], b[96], c[96];
    int nd = lam_ndim(q);
    bool ok = (nd == 2 || nd == 3) && lam_ndim(k) == nd && lam_ndim(v) == nd && lam_dim(q, -1) == s->embed_dim &&
              lam_dim(k, -1) == s->embed_dim && lam_dim(v, -1) == s->embed_dim && lam_dim(k, -2) == lam_dim(v, -2);
    int bd = s->batch_first ? 0 : 1;   /* the batch dim of 3-D inputs */
    if (ok && nd == 3) ok = lam_dim(q, bd) == lam_dim(k, bd) && lam_dim(k, bd) == lam_dim(v, bd);
    if (ok) return true;
    lam_set_error(LAM_ERR_SHAPE, "query %s, key %s, value %s: expected %s with embed_dim=%lld, key and value of one length",
                  lam_shape_str(q, a, sizeof a), lam_shape_str(k, b, sizeof b), lam_shape_str(v, c, sizeof c),
                  s->batch_first ? "(N, L, E), (N, S, E), (N, S, E)" : "(L, N, E), (S, N, E), (S, N, E)",
                  (long long)s->embed_dim);
    return false;
}

/* The inputs seen batch first: unbatched ones get N = 1, sequence-first ones a transpose. */
static lam_tensor *batch_first(mha_state *s, lam_tensor *x) {
    if (lam_ndim(x) == 2) return lam_unsqueeze(x, 0);
    return s->batch_first ? x : lam_transpose(x, 0, 1);
}

static lam_tensor *mha_forward(lam_module *m, int n, lam_tensor *const *in) {
    (void)n;
    mha_state *s = lam_self(m);
    lam_tensor *q = in[0], *k = in[1], *v = in[2];
    if (!check_inputs(s, q, k, v)) return NULL;
    lam_tensor *qb = batch_first(s, q), *kb = k == q ? qb : batch_first(s, k), *vb = v == k ? kb : batch_first(s, v);
    lam_tensor *y = attend(m, qb, kb, vb, in[3], in[4]);
    if (!y || lam_ndim(q) == 2) return y ? lam_squeeze(y, 0) : NULL;
    return s->batch_first ? y : lam_transpose(y, 0, 1);
}

static const lam_module_class_n MHA = {.base = {.name = "MultiheadAttention", .state_size = sizeof(mha_state),
                                                .reset_parameters = mha_reset},   /* no extra_repr, as PyTorch's */
                                       .forward = mha_forward, .min_inputs = 3, .max_inputs = 5};

lam_module *lam_nn_multihead_attention(int64_t embed_dim, int64_t num_heads, lam_mha_options opt) {
    if (embed_dim <= 0 || num_heads <= 0 || embed_dim % num_heads)
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_nn_multihead_attention: embed_dim %lld is not divisible by num_heads %lld (both positive)",
                      (long long)embed_dim, (long long)num_heads);
    if (!(opt.dropout >= 0.0f && opt.dropout < 1.0f))
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_nn_multihead_attention: dropout %g is not in [0, 1)", (double)opt.dropout);
    lam_module *m = lam_module_new_n(&MHA);
    if (!m) return NULL;
    mha_state *s = lam_self(m);
    *s = (mha_state){.embed_dim = embed_dim, .num_heads = num_heads, .dropout = opt.dropout, .batch_first = opt.batch_first};
    lam_device *dev = lam_module_device(m);
    s->in_proj_weight = lam_add_param(m, "in_proj_weight", lam_empty(LAM_F32, LAM_SHAPE(3 * embed_dim, embed_dim), dev));
    if (s->in_proj_weight && !opt.no_bias)
        s->in_proj_bias = lam_add_param(m, "in_proj_bias", lam_empty(LAM_F32, LAM_SHAPE(3 * embed_dim), dev));
    if (s->in_proj_weight && (opt.no_bias || s->in_proj_bias))
        s->out_proj = lam_add_module(m, "out_proj", opt.no_bias ? lam_nn_linear_nobias(embed_dim, embed_dim)
                                                                : lam_nn_linear(embed_dim, embed_dim));
    if (!s->out_proj || mha_reset(m) != LAM_OK) {
        lam_module_free(m);
        return NULL;
    }
    return m;
}
