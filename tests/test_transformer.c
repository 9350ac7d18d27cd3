/* Transformers against PyTorch on every device: the new ops (cat, stack, index_select,
 * embedding, tril/triu, var/std, batched matmul, cross-entropy's layouts and options, layer
 * norm, scaled dot-product attention) and the modules (MultiheadAttention,
 * TransformerEncoderLayer) forward and backward, their state_dict names, a layer saved by
 * lamina and loaded by PyTorch, modules with several inputs, and bad input.
 * References: tests/reference/make_transformer_reference.py.
 *
 *   test_transformer --save FILE   writes the encoder layer of the round trip (seed 0, cpu)
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reference_file.h"
#include "test_util.h"

#define REF(file) LAMINA_TEST_REFERENCE_DIR "/" file
#define MAX_IN 6

static lam_device *devs[TU_MAX_DEVICES];
static int ndevs;
static ref_file *rf;
static lam_device *orig_default;

/* ||a - b|| / ||b|| over all elements (both read as doubles). */
static double norm_err(lam_tensor *a, lam_tensor *b) {
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(lam_numel(a), lam_numel(b));
    double *x = tu_read(a), *y = tu_read(b);
    double e = tu_norm_err(x, y, lam_numel(b));
    free(x);
    free(y);
    return e;
}

/* ---- op cases ---------------------------------------------------------------------------- */

typedef lam_tensor *(*case_fn)(lam_tensor **in);

static lam_cross_entropy_options ce_opt(int64_t ignore, lam_reduction red, float smooth) {
    lam_cross_entropy_options o = LAM_CROSS_ENTROPY_DEFAULTS;
    o.ignore_index = ignore;
    o.reduction = red;
    o.label_smoothing = smooth;
    return o;
}

static lam_tensor *c_cat(lam_tensor **in) { return lam_cat(LAM_TENSORS(in[0], in[1], in[2]), 1); }
static lam_tensor *c_cat_last(lam_tensor **in) { return lam_cat(LAM_TENSORS(in[0], in[1]), -1); }
static lam_tensor *c_stack(lam_tensor **in) { return lam_stack(LAM_TENSORS(in[0], in[1], in[2]), 1); }
static lam_tensor *c_index_select(lam_tensor **in) { return lam_index_select(in[0], 1, in[1]); }
static lam_tensor *c_embedding(lam_tensor **in) { return lam_embedding(in[1], in[0]); }
static lam_tensor *c_tril(lam_tensor **in) { return lam_tril(in[0], 1); }
static lam_tensor *c_triu(lam_tensor **in) { return lam_triu(in[0], -2); }
static lam_tensor *c_var(lam_tensor **in) { return lam_var(in[0], 1, true, false); }
static lam_tensor *c_var_biased(lam_tensor **in) { return lam_var(in[0], 0, false, true); }
static lam_tensor *c_std(lam_tensor **in) { return lam_std(in[0], -1, true, false); }
static lam_tensor *c_matmul(lam_tensor **in) { return lam_matmul(in[0], in[1]); }
static lam_tensor *c_ce(lam_tensor **in) { return lam_cross_entropy(in[0], in[1]); }
static lam_tensor *c_ce_ignore(lam_tensor **in) {
    lam_cross_entropy_options o = ce_opt(2, LAM_REDUCTION_MEAN, 0.0f);
    return lam_cross_entropy_with(in[0], in[1], &o);
}
static lam_tensor *c_ce_smooth(lam_tensor **in) {
    lam_cross_entropy_options o = ce_opt(-100, LAM_REDUCTION_MEAN, 0.1f);
    return lam_cross_entropy_with(in[0], in[1], &o);
}
static lam_tensor *c_ce_sum(lam_tensor **in) {
    lam_cross_entropy_options o = ce_opt(-100, LAM_REDUCTION_SUM, 0.0f);
    return lam_cross_entropy_with(in[0], in[1], &o);
}
static lam_tensor *c_ce_none(lam_tensor **in) {
    lam_cross_entropy_options o = ce_opt(1, LAM_REDUCTION_NONE, 0.0f);
    return lam_cross_entropy_with(in[0], in[1], &o);
}
static lam_tensor *c_layer_norm(lam_tensor **in) { return lam_layer_norm(in[0], LAM_SHAPE(12), in[1], in[2], 1e-5f); }
static lam_tensor *c_layer_norm_2d(lam_tensor **in) { return lam_layer_norm(in[0], LAM_SHAPE(5, 6), NULL, NULL, 1e-5f); }
static lam_tensor *c_layer_norm_b1(lam_tensor **in) { return lam_layer_norm(in[0], LAM_SHAPE(8), in[1], in[2], 1e-5f); }
static lam_tensor *c_sdpa(lam_tensor **in) { return lam_scaled_dot_product_attention(in[0], in[1], in[2], in[3], false, 0.0f); }
static lam_tensor *c_sdpa_causal(lam_tensor **in) {
    return lam_scaled_dot_product_attention(in[0], in[1], in[2], NULL, true, 0.0f);
}

static const struct {
    const char *name;
    case_fn fn;
} op_cases[] = {
    {"cat", c_cat}, {"cat_last", c_cat_last}, {"stack", c_stack}, {"index_select", c_index_select},
    {"embedding", c_embedding}, {"tril", c_tril}, {"triu", c_triu}, {"var", c_var}, {"var_biased", c_var_biased},
    {"std", c_std}, {"bmm_4d_2d", c_matmul}, {"bmm_bcast", c_matmul}, {"bmm_3d", c_matmul}, {"bmm_4d", c_matmul},
    {"ce", c_ce}, {"ce_nd", c_ce}, {"ce_ignore", c_ce_ignore}, {"ce_smooth", c_ce_smooth}, {"ce_sum", c_ce_sum},
    {"ce_none", c_ce_none}, {"layer_norm", c_layer_norm}, {"layer_norm_2d", c_layer_norm_2d},
    {"layer_norm_b1", c_layer_norm_b1}, {"sdpa", c_sdpa}, {"sdpa_causal", c_sdpa_causal},
    {"sdpa_float_mask", c_sdpa}, {"sdpa_bool_mask", c_sdpa}, {"sdpa_b1", c_sdpa_causal}, {"sdpa_3d", c_sdpa},
    {"sdpa_bcast", c_sdpa},
};

/* Reads name.in0, name.in1, ... onto dev; returns how many (the rest NULL). */
static int load_inputs(const char *name, lam_device *dev, lam_tensor **in) {
    int n = 0;
    for (; n < MAX_IN; ++n) {
        char key[128];
        snprintf(key, sizeof key, "%s.in%d", name, n);
        if (!(in[n] = ref_tensor(rf, key, dev))) break;
    }
    for (int i = n; i < MAX_IN; ++i) in[i] = NULL;
    return n;
}

/* out against name.out, then sum(out * name.w) backpropagated: each input's gradient
 * against name.grad<i>; returns the worst normalized error. */
static double check_forward_backward(const char *name, lam_tensor *out, lam_tensor **in, int n, lam_device *dev) {
    char key[160];
    snprintf(key, sizeof key, "%s.out", name);
    assert_non_null(out);
    double worst = norm_err(out, ref_tensor(rf, key, dev));
    snprintf(key, sizeof key, "%s.w", name);
    assert_ok(lam_backward(lam_sum(lam_mul(out, ref_tensor(rf, key, dev)))));
    for (int i = 0; i < n; ++i) {
        snprintf(key, sizeof key, "%s.grad%d", name, i);
        lam_tensor *g = ref_tensor(rf, key, dev);
        if (!g) continue;
        if (!lam_grad(in[i])) fail_msg("%s: input %d has no gradient", name, i);
        worst = fmax(worst, norm_err(lam_grad(in[i]), g));
    }
    return worst;
}

static void test_ops_against_pytorch(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d)
        for (size_t c = 0; c < sizeof op_cases / sizeof *op_cases; ++c) {
            const char *name = op_cases[c].name;
            lam_scope_begin();
            lam_tensor *in[MAX_IN];
            int n = load_inputs(name, devs[d], in);
            assert_true(n > 0);
            for (int i = 0; i < n; ++i)
                if (lam_dtype_is_float(lam_tensor_dtype(in[i]))) lam_requires_grad(in[i], true);
            lam_tensor *out = op_cases[c].fn(in);
            if (!out) fail_msg("%s on %s: %s", name, lam_device_name(devs[d]), lam_last_error());
            double err = check_forward_backward(name, out, in, n, devs[d]);
            if (err > 1e-5) fail_msg("%s on %s: normalized error %.2e", name, lam_device_name(devs[d]), err);
            lam_scope_end();
        }
}

/* ---- module cases ------------------------------------------------------------------------ */

enum { E = 16, H = 2, FF = 24 };

static lam_module *mha(bool batch_first) {
    return lam_nn_multihead_attention(E, H, (lam_mha_options){.batch_first = batch_first});
}

static lam_module *encoder(bool norm_first, lam_activation act, bool batch_first) {
    return lam_nn_transformer_encoder_layer(
        E, H, (lam_encoder_layer_options){.dim_feedforward = FF, .activation = act, .norm_first = norm_first, .batch_first = batch_first});
}

static lam_module *m_mha_self(void) { return mha(true); }
static lam_module *m_mha_cross(void) { return mha(false); }
static lam_module *m_encoder_post_relu(void) { return encoder(false, LAM_ACTIVATION_RELU, true); }
static lam_module *m_encoder_pre_gelu(void) { return encoder(true, LAM_ACTIVATION_GELU, false); }
static lam_module *m_encoder_b1(void) { return encoder(true, LAM_ACTIVATION_GELU, true); }

static lam_tensor *r_self(lam_module *m, lam_tensor **in) { return lam_forward_n(m, LAM_TENSORS(in[0], in[0], in[0], in[1])); }
static lam_tensor *r_cross(lam_module *m, lam_tensor **in) {
    return lam_forward_n(m, LAM_TENSORS(in[0], in[1], in[2], NULL, in[3]));
}
static lam_tensor *r_src_mask(lam_module *m, lam_tensor **in) { return lam_forward_n(m, LAM_TENSORS(in[0], in[1])); }
static lam_tensor *r_src_pad(lam_module *m, lam_tensor **in) { return lam_forward_n(m, LAM_TENSORS(in[0], NULL, in[1])); }
static lam_tensor *r_src(lam_module *m, lam_tensor **in) { return lam_forward(m, in[0]); }

static const struct {
    const char *name;
    lam_module *(*make)(void);
    lam_tensor *(*run)(lam_module *, lam_tensor **);
} module_cases[] = {
    {"mha_self", m_mha_self, r_self},
    {"mha_cross", m_mha_cross, r_cross},
    {"mha_heads_mask", m_mha_self, r_self},
    {"encoder_post_relu", m_encoder_post_relu, r_src_mask},
    {"encoder_pre_gelu", m_encoder_pre_gelu, r_src_pad},
    {"encoder_b1", m_encoder_b1, r_src},
};

static void test_modules_against_pytorch(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d)
        for (size_t c = 0; c < sizeof module_cases / sizeof *module_cases; ++c) {
            const char *name = module_cases[c].name;
            char path[512], key[sizeof(((lam_named_tensor *)0)->name) + 64];
            lam_set_default_device(devs[d]);
            lam_module *m = module_cases[c].make();
            assert_non_null(m);
            snprintf(path, sizeof path, REF("transformer_%s_state.safetensors"), name);
            assert_ok(lam_load(m, path));
            lam_scope_begin();
            lam_tensor *in[MAX_IN];
            int n = load_inputs(name, devs[d], in);
            for (int i = 0; i < n; ++i)
                if (lam_dtype_is_float(lam_tensor_dtype(in[i])) && lam_ndim(in[i]) == 3) lam_requires_grad(in[i], true);
            lam_tensor *out = module_cases[c].run(m, in);
            if (!out) fail_msg("%s on %s: %s", name, lam_device_name(devs[d]), lam_last_error());
            double err = check_forward_backward(name, out, in, n, devs[d]);
            lam_named_tensor p[32];
            int np = lam_named_parameters(m, p, 32);
            for (int i = 0; i < np; ++i) {
                if (snprintf(key, sizeof key, "%s.grad.%s", name, p[i].name) >= (int)sizeof key) fail_msg("long name");
                err = fmax(err, norm_err(lam_grad(p[i].tensor), ref_tensor(rf, key, devs[d])));
            }
            printf("  %-18s %-40s normalized error %.2e\n", name, lam_device_name(devs[d]), err);
            if (err > 1e-5) fail_msg("%s on %s: normalized error %.2e", name, lam_device_name(devs[d]), err);
            lam_scope_end();
            lam_module_free(m);
        }
    lam_set_default_device(orig_default);
}

/* Every module's parameters are PyTorch's state_dict entries, in its order and shapes. */
static void test_names_are_pytorchs(void **state) {
    (void)state;
    FILE *f = fopen(REF("transformer_names.txt"), "r");
    assert_non_null(f);
    for (size_t c = 0; c < sizeof module_cases / sizeof *module_cases; ++c) {
        lam_module *m = module_cases[c].make();
        lam_named_tensor p[32];
        int np = lam_named_parameters(m, p, 32), seen = 0;
        char line[512];
        rewind(f);
        while (fgets(line, sizeof line, f)) {
            char model[64], name[256];
            int off = 0;
            if (sscanf(line, "%63s %255s%n", model, name, &off) != 2 || strcmp(model, module_cases[c].name)) continue;
            assert_true(seen < np);
            assert_string_equal(p[seen].name, name);
            char dims[128] = "";
            for (int i = 0; i < lam_ndim(p[seen].tensor); ++i)
                snprintf(dims + strlen(dims), sizeof dims - strlen(dims), " %lld", (long long)lam_dim(p[seen].tensor, i));
            line[strcspn(line, "\n")] = '\0';
            assert_string_equal(line + off, dims);
            ++seen;
        }
        assert_int_equal(seen, np);
        lam_module_free(m);
    }
    fclose(f);
}

/* ---- lamina -> PyTorch: a layer saved here, loaded strictly by the reference script ----- */

static lam_module *saved_twin(void) { return encoder(true, LAM_ACTIVATION_GELU, true); }

static void test_saved_by_lamina_loads_in_pytorch(void **state) {
    (void)state;
    lam_tensor *x0 = ref_tensor(rf, "lamina_saved.x", devs[0]);
    if (!x0) fail_msg("transformer_ref.safetensors has no lamina_saved.*: rerun the reference script");
    for (int d = 0; d < ndevs; ++d) {
        lam_set_default_device(devs[d]);
        lam_module *m = saved_twin();
        assert_ok(lam_load(m, REF("transformer_lamina_saved.safetensors")));
        lam_scope_begin();
        double err = norm_err(lam_forward(m, ref_tensor(rf, "lamina_saved.x", devs[d])),
                              ref_tensor(rf, "lamina_saved.out", devs[d]));
        printf("  lamina_saved       %-40s normalized error %.2e\n", lam_device_name(devs[d]), err);
        assert_true(err <= 1e-5);
        lam_scope_end();
        lam_module_free(m);
    }
    lam_set_default_device(orig_default);
}

/* ---- modules with several inputs ----------------------------------------------------------- */

/* A pre-norm block written the chapter's way: (x[, mask]) -> x + attn(ln(x)) */
typedef struct { lam_module *ln, *attn; } block;

static lam_tensor *block_forward(lam_module *m, int n, lam_tensor *const *in) {
    assert_int_equal(n, 2);
    block *self = lam_self(m);
    lam_tensor *h = lam_forward(self->ln, in[0]);
    return lam_add(in[0], lam_forward_n(self->attn, LAM_TENSORS(h, h, h, in[1])));
}

static const lam_module_class_n BLOCK = {.base = {.name = "Block", .state_size = sizeof(block)},
                                         .forward = block_forward, .min_inputs = 1, .max_inputs = 2};

static lam_module *block_new(void) {
    lam_module *m = lam_module_new_n(&BLOCK);
    block *self = lam_self(m);
    self->ln = lam_add_module(m, "ln", lam_nn_layer_norm(LAM_SHAPE(E), 1e-5f, true));
    self->attn = lam_add_module(m, "attn", mha(true));
    return m;
}

static void test_several_inputs(void **state) {
    (void)state;
    lam_device *dev = devs[0];
    lam_set_default_device(dev);
    lam_manual_seed(3);
    lam_module *b = block_new();
    lam_module *seq = lam_nn_sequential(2, block_new(), lam_nn_linear(E, 3));   /* one input each */
    assert_non_null(b);
    assert_non_null(seq);
    int lo, hi;
    lam_module_inputs(b, &lo, &hi);
    assert_int_equal(lo, 1);
    assert_int_equal(hi, 2);
    lam_module_inputs(seq, &lo, &hi);
    assert_int_equal(hi, 1);
    lam_scope_begin();
    lam_tensor *x = lam_randn(LAM_SHAPE(2, 5, E), dev), *mask = lam_causal_mask(5, 5, dev);
    /* x alone, NULL for the mask and the mask left off are one call */
    lam_tensor *y1 = lam_forward(b, x), *y2 = lam_forward_n(b, LAM_TENSORS(x, NULL)), *y3 = lam_forward_n(b, LAM_TENSORS(x));
    assert_true(norm_err(y2, y1) == 0.0 && norm_err(y3, y1) == 0.0);
    lam_tensor *ym = lam_forward_n(b, LAM_TENSORS(x, mask));
    assert_non_null(ym);
    assert_true(norm_err(ym, y1) > 1e-3);   /* the mask mattered */
    /* the first query sees only the first key either way: row 0 of the masked output is
     * the unmasked block's on a one-long sequence */
    lam_tensor *first = lam_forward(b, lam_slice(x, 1, 0, 1, 1));
    assert_true(norm_err(lam_slice(ym, 1, 0, 1, 1), first) < 1e-6);
    assert_non_null(lam_forward(seq, x));   /* a Sequential chains a several-input module */
    /* refusals name the class and the counts */
    assert_null(lam_forward_n(b, LAM_TENSORS(x, mask, mask)));
    assert_non_null(strstr(lam_last_error(), "Block takes 1 to 2 inputs, got 3"));
    assert_null(lam_forward_n(lam_module_child(seq, "1"), LAM_TENSORS(x, mask)));
    assert_non_null(strstr(lam_last_error(), "Linear takes one input, got 2"));
    lam_clear_error();
    assert_null(lam_forward_n(b, LAM_TENSORS(lam_matmul(x, mask), mask)));   /* a failed op upstream */
    assert_non_null(strstr(lam_last_error(), "lam_matmul: inner dimensions differ"));
    lam_clear_error();
    /* an error inside names the module it came from, through several-input calls too */
    assert_null(lam_forward_n(b, LAM_TENSORS(x, lam_zeros(LAM_SHAPE(3, 3), dev))));
    assert_non_null(strstr(lam_last_error(), "attn (MultiheadAttention): attn_mask (3, 3)"));
    assert_null(lam_forward(lam_module_child(b, "attn"), x));   /* needs query, key and value */
    assert_non_null(strstr(lam_last_error(), "MultiheadAttention takes 3 to 5 inputs, got 1"));
    assert_null(lam_module_new_n(&(lam_module_class_n){.base = {.name = "Bad"}, .forward = block_forward}));
    assert_non_null(strstr(lam_last_error(), "lam_module_new_n: class Bad"));
    lam_scope_end();
    lam_module_free(b);
    lam_module_free(seq);
    lam_set_default_device(orig_default);
}

/* ---- lam_cat of more inputs than a tape node holds: joined in groups ---------------------- */

static void test_cat_many(void **state) {
    (void)state;
    enum { N = 19 };
    for (int d = 0; d < ndevs; ++d) {
        lam_scope_begin();
        lam_tensor *parts[N];
        float want[2 * N * 3];
        for (int i = 0; i < N; ++i) {   /* part i: (2, 1, 3) of values 100 i + k */
            float v[6];
            for (int k = 0; k < 6; ++k) v[k] = (float)(100 * i + k);
            parts[i] = lam_requires_grad(lam_from_data(v, LAM_F32, LAM_SHAPE(2, 1, 3), devs[d]), true);
            for (int r = 0; r < 2; ++r)
                for (int c = 0; c < 3; ++c) want[(r * N + i) * 3 + c] = v[r * 3 + c];
        }
        lam_tensor *y = lam_cat(N, parts, 1);
        assert_non_null(y);
        assert_int_equal(lam_dim(y, 1), N);
        float got[2 * N * 3];
        assert_ok(lam_read(y, got, sizeof got));
        assert_memory_equal(got, want, sizeof want);
        lam_tensor *w = lam_arange(0, 2 * N * 3, 1, LAM_F32, devs[d]);   /* d loss / d y[k] = k */
        assert_ok(lam_backward(lam_sum(lam_mul(lam_reshape(y, LAM_SHAPE(-1)), w))));
        for (int i = 0; i < N; ++i) {
            float g[6];
            assert_ok(lam_read(lam_grad(parts[i]), g, sizeof g));
            for (int r = 0; r < 2; ++r)
                for (int c = 0; c < 3; ++c) assert_true(g[r * 3 + c] == (float)((r * N + i) * 3 + c));
        }
        lam_scope_end();
    }
}

/* ---- bad input: clear errors, nothing changed -------------------------------------------- */

#define EXPECT_ERROR(expr, status, ...)                                                            \
    do {                                                                                           \
        lam_clear_error();                                                                         \
        if ((expr) != NULL) fail_msg("%s succeeded", #expr);                                       \
        assert_int_equal(lam_last_status(), status);                                               \
        const char *want_[] = {__VA_ARGS__};                                                       \
        for (size_t w_ = 0; w_ < sizeof want_ / sizeof *want_; ++w_)                               \
            if (!strstr(lam_last_error(), want_[w_])) fail_msg("%s: \"%s\" lacks \"%s\"", #expr, lam_last_error(), want_[w_]); \
    } while (0)

static void test_bad_input(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d) {
        lam_device *dev = devs[d];
        lam_set_default_device(dev);
        lam_module *attn = mha(true);
        lam_tensor *w0 = lam_keep(lam_clone(lam_module_param(attn, "in_proj_weight")));
        int64_t live = lam_live_tensors();
        lam_scope_begin();
        lam_tensor *q = lam_randn(LAM_SHAPE(2, 3, 13, 8), dev), *k = lam_randn(LAM_SHAPE(2, 3, 11, 8), dev);
        lam_tensor *v9 = lam_randn(LAM_SHAPE(2, 3, 9, 8), dev), *v = lam_randn(LAM_SHAPE(2, 3, 11, 8), dev);
        EXPECT_ERROR(lam_scaled_dot_product_attention(q, k, v, lam_zeros(LAM_SHAPE(13, 12), dev), false, 0.0f),
                     LAM_ERR_SHAPE, "lam_scaled_dot_product_attention", "mask (13, 12)", "(2, 3, 13, 11)");
        EXPECT_ERROR(lam_scaled_dot_product_attention(q, k, v9, NULL, false, 0.0f), LAM_ERR_SHAPE,
                     "lam_scaled_dot_product_attention", "key (2, 3, 11, 8)", "value (2, 3, 9, 8)");
        EXPECT_ERROR(lam_scaled_dot_product_attention(q, lam_randn(LAM_SHAPE(2, 3, 11, 4), dev), v, NULL, false, 0.0f),
                     LAM_ERR_SHAPE, "query (2, 3, 13, 8)", "key (2, 3, 11, 4)");
        EXPECT_ERROR(lam_scaled_dot_product_attention(q, k, v, NULL, false, 1.0f), LAM_ERR_ARG, "dropout_p 1");
        lam_tensor *x = lam_randn(LAM_SHAPE(2, 5, E), dev), *kv = lam_randn(LAM_SHAPE(2, 7, E), dev);
        EXPECT_ERROR(lam_forward_n(attn, LAM_TENSORS(x, x, x, lam_zeros(LAM_SHAPE(3, 3), dev))), LAM_ERR_SHAPE,
                     "MultiheadAttention", "attn_mask (3, 3)", "(5, 5)");
        EXPECT_ERROR(lam_forward_n(attn, LAM_TENSORS(x, kv, kv, NULL, lam_zeros(LAM_SHAPE(2, 5), dev))), LAM_ERR_SHAPE,
                     "MultiheadAttention", "key_padding_mask (2, 5)", "(2, 7)");
        EXPECT_ERROR(lam_forward_n(attn, LAM_TENSORS(x, kv, lam_randn(LAM_SHAPE(2, 6, E), dev))), LAM_ERR_SHAPE,
                     "MultiheadAttention", "key (2, 7, 16)", "value (2, 6, 16)");
        EXPECT_ERROR(lam_nn_multihead_attention(10, 3, (lam_mha_options){0}), LAM_ERR_ARG, "lam_nn_multihead_attention",
                     "embed_dim 10 is not divisible by num_heads 3");
        EXPECT_ERROR(lam_nn_transformer_encoder_layer(10, 4, (lam_encoder_layer_options){0}), LAM_ERR_ARG,
                     "embed_dim 10 is not divisible by num_heads 4");
        EXPECT_ERROR(lam_layer_norm(x, LAM_SHAPE(5), NULL, NULL, 1e-5f), LAM_ERR_SHAPE, "lam_layer_norm",
                     "normalized_shape (5,)", "(2, 5, 16)");
        EXPECT_ERROR(lam_cat(LAM_TENSORS(x, kv), 2), LAM_ERR_SHAPE, "lam_cat", "(2, 7, 16)", "(2, 5, 16)");
        EXPECT_ERROR(lam_cross_entropy(x, lam_zeros(LAM_SHAPE(2, 5), dev)), LAM_ERR_SHAPE, "lam_cross_entropy", "f32 (2, 5)");
        lam_tensor *table = lam_randn(LAM_SHAPE(11, 4), dev);
        EXPECT_ERROR(lam_embedding(lam_from_data((float[]){1}, LAM_F32, LAM_SHAPE(1), dev), table), LAM_ERR_ARG,
                     "lam_embedding", "i32 or i64");
        /* ids written from host memory: refused at once, on every device */
        EXPECT_ERROR(lam_embedding(lam_from_data((int64_t[]){3, 11}, LAM_I64, LAM_SHAPE(2), dev), table), LAM_ERR_ARG,
                     "lam_embedding", "11", "[0, 11)");
        EXPECT_ERROR(lam_embedding(lam_from_data((int64_t[]){-1}, LAM_I64, LAM_SHAPE(1), dev), table), LAM_ERR_ARG,
                     "lam_embedding", "-1");
        EXPECT_ERROR(lam_cross_entropy(lam_zeros(LAM_SHAPE(2, 5), dev), lam_from_data((int64_t[]){4, 5}, LAM_I64, LAM_SHAPE(2), dev)),
                     LAM_ERR_ARG, "lam_cross_entropy", "5", "[0, 5)");
        lam_scope_end();
        assert_int_equal(lam_live_tensors(), live);
        lam_scope_begin();
        assert_true(norm_err(lam_module_param(attn, "in_proj_weight"), w0) == 0.0);   /* nothing changed */
        lam_scope_end();
        lam_release(w0);
        lam_module_free(attn);
    }
    lam_set_default_device(orig_default);
}

/* ---- ids computed on a device: the error comes with the next read, and no wild read ------ */

static void test_ids_out_of_range_on_device(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d) {
        lam_scope_begin();
        lam_tensor *table = lam_randn(LAM_SHAPE(11, 4), devs[d]);
        /* 2, 1e9 and -7 made by ops on the device: no host copy of them to check */
        lam_tensor *f = lam_from_data((float[]){1, 500000000, -3.5f}, LAM_F32, LAM_SHAPE(3), devs[d]);
        lam_tensor *ids = lam_to_dtype(lam_mul_scalar(f, 2.0f), LAM_I64);
        lam_clear_error();
        lam_tensor *y = lam_embedding(ids, table);
        float v[12];
        if (y) assert_int_equal(lam_read(y, v, sizeof v), LAM_ERR_ARG);   /* OpenCL: the read reports it */
        assert_int_equal(lam_last_status(), LAM_ERR_ARG);
        if (!strstr(lam_last_error(), "lam_embedding: index 1000000000 at position 1"))
            fail_msg("%s: \"%s\"", lam_device_name(devs[d]), lam_last_error());
        /* labels made on the device, one of them ignore_index: only the bad one is reported */
        lam_tensor *labels = lam_to_dtype(lam_from_data((float[]){-100, 2, 7}, LAM_F32, LAM_SHAPE(3), devs[d]), LAM_I64);
        lam_clear_error();
        lam_tensor *loss = lam_cross_entropy(lam_zeros(LAM_SHAPE(3, 4), devs[d]), labels);
        if (loss) assert_true(isnan(lam_item(loss)));
        assert_int_equal(lam_last_status(), LAM_ERR_ARG);
        if (!strstr(lam_last_error(), "lam_cross_entropy: index 7 at position 2"))
            fail_msg("%s: \"%s\"", lam_device_name(devs[d]), lam_last_error());
        lam_clear_error();
        lam_scope_end();
    }
}

static int setup(void **state) {
    (void)state;
    ndevs = tu_devices(devs, TU_MAX_DEVICES);
    orig_default = lam_default_device();
    rf = ref_open(REF("transformer_ref.safetensors"));
    return ndevs > 0 && rf ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    ref_close(rf);
    return 0;
}

/* The encoder layer of the round trip, initialized by lamina (seed 0, cpu), to path. */
static int save_twin(const char *path) {
    lam_set_default_device(lam_device_get("cpu"));
    lam_manual_seed(0);
    lam_module *m = saved_twin();
    lam_status st = m ? lam_save(m, path) : lam_last_status();
    if (st != LAM_OK) fprintf(stderr, "%s\n", lam_last_error());
    lam_module_free(m);
    return st == LAM_OK ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--save")) return save_twin(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_against_pytorch),
        cmocka_unit_test(test_modules_against_pytorch),
        cmocka_unit_test(test_names_are_pytorchs),
        cmocka_unit_test(test_saved_by_lamina_loads_in_pytorch),
        cmocka_unit_test(test_several_inputs),
        cmocka_unit_test(test_cat_many),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_ids_out_of_range_on_device),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
