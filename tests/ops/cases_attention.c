/* Scaled dot-product attention: masks (added, boolean, causal), broadcast heads, 3-D and
 * 4-D operands, odd lengths, against a double reference written out here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* The kind of mask input 3 is (i[0]): none, added (float), boolean (i64, key 0 always kept
 * by the builder); i[1]: causal. */
enum { NO_MASK, ADDED, BOOLEAN };

/* Offset of the broadcast element (b, h, i, j) of an input of shape s (ndim nd <= 4) seen
 * as (B, H, L, S). */
static int64_t at4(const h_input *s, const int64_t *c4) {
    int64_t off = 0, stride = 1;
    for (int k = s->ndim - 1, d = 3; k >= 0; --k, --d) {
        off += (s->shape[k] == 1 ? 0 : c4[d]) * stride;
        stride *= s->shape[k];
    }
    return off;
}

static bool ref_sdpa(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *q = &c->in[0], *k = &c->in[1], *v = &c->in[2];
    int n4 = q->ndim;
    int64_t B = n4 == 4 ? q->shape[0] : 1, H = n4 >= 3 ? q->shape[n4 - 3] : 1, L = q->shape[n4 - 2], E = q->shape[n4 - 1];
    int64_t S = k->shape[k->ndim - 2], Ev = v->shape[v->ndim - 1];
    *nd = n4;
    memcpy(shape, q->shape, sizeof q->shape);
    shape[n4 - 1] = Ev;
    *out = malloc((size_t)(B * H * L * Ev) * sizeof **out);
    double *p = malloc((size_t)S * sizeof *p);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t i = 0; i < L; ++i) {
                double m = -INFINITY, z = 0;
                for (int64_t j = 0; j < S; ++j) {
                    double s = 0;
                    for (int64_t e = 0; e < E; ++e)
                        s += x[0][at4(q, (int64_t[]){b, h, i, e})] * x[1][at4(k, (int64_t[]){b, h, j, e})];
                    s /= sqrt((double)E);
                    if (c->i[0] == ADDED) s += x[3][at4(&c->in[3], (int64_t[]){b, h, i, j})];
                    if (c->i[0] == BOOLEAN && j > 0 && x[3][at4(&c->in[3], (int64_t[]){b, h, i, j})] == 0) s = -INFINITY;
                    if (c->i[1] && j > i) s = -INFINITY;
                    p[j] = s;
                    m = fmax(m, s);
                }
                for (int64_t j = 0; j < S; ++j) z += p[j] = exp(p[j] - m);
                for (int64_t e = 0; e < Ev; ++e) {
                    double o = 0;
                    for (int64_t j = 0; j < S; ++j) o += p[j] / z * x[2][at4(v, (int64_t[]){b, h, j, e})];
                    (*out)[((b * H + h) * L + i) * Ev + e] = o;
                }
            }
    free(p);
    return true;
}

static lam_tensor *b_sdpa(const h_case *c, lam_tensor *const *in) {
    lam_tensor *mask = c->i[0] == NO_MASK ? NULL : in[3];
    if (c->i[0] == BOOLEAN) {   /* key 0 always takes part: no row is fully blocked */
        int64_t S = lam_dim(mask, -1);
        lam_tensor *first = lam_lt_scalar(lam_arange(0, (double)S, 1, LAM_F32, lam_tensor_device(mask)), 0.5f);
        mask = lam_to_dtype(lam_maximum(lam_to_dtype(mask, LAM_F32), first), LAM_I64);
    }
    return lam_scaled_dot_product_attention(in[0], in[1], in[2], mask, c->i[1] != 0, 0.0f);
}

#define F16 3e-3
#define QKV(nq, shq, nk, shk, nv, shv)                                                             \
    H_IN(nq, shq, H_CONTIG, -1, 1), H_IN(nk, shk, H_TRANSPOSED, -1, 1), H_IN(nv, shv, H_SLICED, -1, 1)

static const h_case cases[] = {
    {"lam_scaled_dot_product_attention", "4-D, head_dim 8, L 5, S 7", 3, {QKV(4, (2, 3, 5, 8), 4, (2, 3, 7, 8), 4, (2, 3, 7, 4))},
     b_sdpa, ref_sdpa, .tol = 1e-5, .tol_f16 = F16, .grad = true},
    {"lam_scaled_dot_product_attention", "causal, T 13", 3, {QKV(4, (1, 2, 13, 8), 4, (1, 2, 13, 8), 4, (1, 2, 13, 8))},
     b_sdpa, ref_sdpa, .i = {NO_MASK, 1}, .tol = 1e-5, .tol_f16 = F16, .grad = true},
    {"lam_scaled_dot_product_attention", "added mask (5, 7), broadcast over batch and heads", 4,
     {QKV(4, (2, 3, 5, 8), 4, (2, 3, 7, 8), 4, (2, 3, 7, 8)), H_IN(2, (5, 7), H_CONTIG, -2, 0)},
     b_sdpa, ref_sdpa, .i = {ADDED}, .tol = 1e-5, .tol_f16 = F16, .grad = true},
    {"lam_scaled_dot_product_attention", "boolean mask (2, 1, 5, 7) and causal", 4,
     {QKV(4, (2, 3, 5, 8), 4, (2, 3, 7, 8), 4, (2, 3, 7, 8)), {.ndim = 4, .shape = {2, 1, 5, 7}, .lo = 0, .hi = 2, .dtype = LAM_I64}},
     b_sdpa, ref_sdpa, .i = {BOOLEAN, 1}, .tol = 1e-5, .tol_f16 = F16, .grad = true},
    {"lam_scaled_dot_product_attention", "3-D, Ev 5, batch 1", 3, {QKV(3, (1, 6, 8), 3, (1, 9, 8), 3, (1, 9, 5))},
     b_sdpa, ref_sdpa, .tol = 1e-5, .grad = true},
    {"lam_scaled_dot_product_attention", "one key and value head for all query heads", 3,
     {QKV(4, (2, 3, 5, 8), 4, (2, 1, 7, 8), 4, (2, 1, 7, 8))}, b_sdpa, ref_sdpa, .tol = 1e-5, .grad = true},
    {"lam_scaled_dot_product_attention", "S 300 (a group of 256 wraps), causal", 3,
     {QKV(3, (1, 300, 8), 3, (1, 300, 8), 3, (1, 300, 8))}, b_sdpa, ref_sdpa, .i = {NO_MASK, 1}, .tol = 1e-5},
};

const h_family h_family_attention = {"attention", cases, (int)(sizeof cases / sizeof *cases)};
