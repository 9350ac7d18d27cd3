/* The GPT of examples/gpt.c and its PyTorch twin (examples/gpt_twin.py) on every device: a
 * GPT saved by lamina loads strictly into the twin and gives the same logits, and the
 * twin's own state_dict (PyTorch's init, saved by PyTorch) loads into lamina's GPT and
 * gives the twin's logits. Also: its parameter names, greedy decoding and bad input.
 *
 *   test_gpt --save FILE   writes the GPT of the round trip (seed 0, cpu); then
 *   /usr/bin/python3 examples/gpt_twin.py check FILE --vocab-size 7 --out tests/reference/gpt_ref.safetensors
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpt.h"
#include "reference_file.h"
#include "test_util.h"

#define REF(file) LAMINA_TEST_REFERENCE_DIR "/" file

static const gpt_config CONFIG = {.vocab_size = 7, .block_size = 8, .n_layer = 2, .n_head = 2, .n_embd = 16};
static lam_device *devs[TU_MAX_DEVICES];
static int ndevs;
static lam_device *orig_default;

static double norm_err(lam_tensor *a, lam_tensor *b) {
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(lam_numel(a), lam_numel(b));
    double *x = tu_read(a), *y = tu_read(b), e = tu_norm_err(x, y, lam_numel(b));
    free(x);
    free(y);
    return e;
}

/* The model loaded from `state` gives the reference's `logits` for its `idx`, everywhere. */
static void check_twin(const char *state, const char *logits) {
    ref_file *rf = ref_open(REF("gpt_ref.safetensors"));
    assert_non_null(rf);
    for (int d = 0; d < ndevs; ++d) {
        lam_set_default_device(devs[d]);
        lam_module *m = gpt_new(CONFIG);
        assert_non_null(m);
        assert_ok(lam_load(m, state));
        lam_scope_begin();
        double err = norm_err(lam_forward(m, ref_tensor(rf, "idx", devs[d])), ref_tensor(rf, logits, devs[d]));
        printf("  %-14s %-40s normalized error %.2e\n", logits, lam_device_name(devs[d]), err);
        assert_true(err <= 1e-5);
        lam_scope_end();
        lam_module_free(m);
    }
    lam_set_default_device(orig_default);
    ref_close(rf);
}

static void test_lamina_gpt_loads_in_pytorch(void **state) {
    (void)state;
    check_twin(REF("gpt_lamina_saved.safetensors"), "logits");
}

static void test_pytorch_gpt_loads_in_lamina(void **state) {
    (void)state;
    check_twin(REF("gpt_torch_state.safetensors"), "torch_logits");
}

static void test_names(void **state) {
    (void)state;
    lam_module *m = gpt_new(CONFIG);
    lam_named_tensor p[64];
    int n = lam_named_parameters(m, p, 64);
    assert_int_equal(n, 5 + 2 * 12);   /* wte, wpe, ln_f (2), lm_head; 12 per block */
    assert_string_equal(p[0].name, "wte.weight");
    assert_string_equal(p[2].name, "h.0.ln_1.weight");
    assert_string_equal(p[4].name, "h.0.attn.in_proj_weight");
    assert_string_equal(p[7].name, "h.0.attn.out_proj.bias");
    assert_string_equal(p[n - 1].name, "lm_head.weight");
    lam_module_free(m);
}

/* Greedy decoding appends the argmax of each last position, and a causal model's first
 * tokens do not depend on the ones after them. */
static void test_generate_and_causality(void **state) {
    (void)state;
    for (int d = 0; d < ndevs; ++d) {
        lam_set_default_device(devs[d]);
        lam_manual_seed(5);
        lam_module *m = gpt_new(CONFIG);
        lam_scope_begin();
        int64_t a[8] = {1, 2, 3, 4, 5, 6, 0, 1}, b[8] = {1, 2, 3, 4, 0, 0, 6, 6};
        lam_tensor *ya = lam_forward(m, lam_from_data(a, LAM_I64, LAM_SHAPE(1, 8), devs[d]));
        lam_tensor *yb = lam_forward(m, lam_from_data(b, LAM_I64, LAM_SHAPE(1, 8), devs[d]));
        assert_true(norm_err(lam_slice(ya, 1, 0, 4, 1), lam_slice(yb, 1, 0, 4, 1)) < 1e-6);
        assert_true(norm_err(lam_slice(ya, 1, 4, 8, 1), lam_slice(yb, 1, 4, 8, 1)) > 1e-3);
        lam_tensor *gen = gpt_generate_greedy(m, lam_from_data(a, LAM_I64, LAM_SHAPE(1, 3), devs[d]), 2);
        int64_t g[5];
        assert_ok(lam_read(gen, g, sizeof g));
        assert_true(g[0] == 1 && g[1] == 2 && g[2] == 3);
        lam_tensor *first = lam_argmax(lam_slice(lam_forward(m, lam_slice(gen, 1, 0, 3, 1)), 1, 2, 3, 1), -1, false);
        int64_t want;
        assert_ok(lam_read(first, &want, sizeof want));
        assert_int_equal(g[3], want);
        /* a sequence past block_size: the position embedding refuses it, naming itself */
        lam_tensor *long_ids = lam_to_dtype(lam_zeros(LAM_SHAPE(1, 9), devs[d]), LAM_I64);
        assert_null(lam_forward(m, long_ids));
        if (!strstr(lam_last_error(), "wpe (Embedding): lam_embedding: index 8"))
            fail_msg("%s: \"%s\"", lam_device_name(devs[d]), lam_last_error());
        lam_clear_error();
        lam_scope_end();
        lam_module_free(m);
    }
    lam_set_default_device(orig_default);
}

static int setup(void **state) {
    (void)state;
    ndevs = tu_devices(devs, TU_MAX_DEVICES);
    orig_default = lam_default_device();
    return ndevs > 0 ? 0 : -1;
}

static int save_gpt(const char *path) {
    lam_set_default_device(lam_device_get("cpu"));
    lam_manual_seed(0);
    lam_module *m = gpt_new(CONFIG);
    lam_status st = m ? lam_save(m, path) : lam_last_status();
    if (st != LAM_OK) fprintf(stderr, "%s\n", lam_last_error());
    lam_module_free(m);
    return st == LAM_OK ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--save")) return save_gpt(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lamina_gpt_loads_in_pytorch),
        cmocka_unit_test(test_pytorch_gpt_loads_in_lamina),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_generate_and_causality),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
