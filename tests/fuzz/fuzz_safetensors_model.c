/* libFuzzer harness: safetensors files loaded into modules (lam_load, strict, into a Linear
 * with a buffer; lam_module_load_file, non-strict with and without a prefix, into a model of
 * lazy layers that takes its shapes from the file) and without one (lam_safetensors_load).
 * Invariants: no tensor is leaked, and no load yields more data than the file holds. */
#define _GNU_SOURCE
#include "fuzz_util.h"

static lam_module *linear;
static int64_t live_before;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_host_only();
    linear = lam_nn_linear(2, 2);   /* "weight" (2, 2), "bias" (2), and a persistent buffer "steps" i64 (1,) */
    lam_add_buffer(linear, "steps", lam_keep(lam_to_dtype(lam_zeros(1, (const int64_t[]){1}, NULL), LAM_I64)), true);
    live_before = lam_live_tensors();
    return linear ? 0 : 1;
}

/* Bytes of data in every tensor of sd. */
static int64_t data_bytes(const lam_state_dict *sd) {
    int64_t total = 0;
    for (int i = 0; i < lam_state_dict_size(sd); ++i) {
        lam_tensor *t = lam_state_dict_value(sd, i);
        total += lam_numel(t) * (int64_t)lam_dtype_size(lam_tensor_dtype(t));
    }
    return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(0, data, size);
    lam_scope_begin();
    lam_load(linear, path);
    /* Sequential(LazyLinear(3), ReLU, LazyLinear(2)): keys 0.weight, 0.bias, 2.weight, 2.bias */
    lam_module *lazy = lam_nn_sequential(3, lam_nn_lazy_linear(3), lam_nn_relu(), lam_nn_lazy_linear(2));
    lam_load_result r;
    lam_load_options opt = {.non_strict = true, .prefix = size % 2 ? "net." : NULL};
    if (lam_module_load_file(lazy, path, &opt, &r) == LAM_OK && lam_param_count(lazy) > 0 &&
        lam_module_param(lazy, "0.weight")) {
        int64_t in = lam_dim(lam_module_param(lazy, "0.weight"), 1);
        FUZZ_CHECK(in > 0 && 3 * in * 4 <= (int64_t)size);   /* the file held that weight */
        lam_forward(lazy, lam_zeros(2, (const int64_t[]){1, in}, NULL));   /* may fail cleanly: 2 may not fit */
    }
    lam_load_result_free(&r);
    lam_module_free(lazy);
    lam_state_dict *sd = lam_safetensors_load(path, lam_device_get("cpu"));
    FUZZ_CHECK(!sd || data_bytes(sd) <= (int64_t)size);
    lam_state_dict_free(sd);
    lam_scope_end();
    FUZZ_CHECK(lam_live_tensors() == live_before);
    lam_clear_error();
    return 0;
}
