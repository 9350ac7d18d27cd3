/* libFuzzer harness: optimizer state files (safetensors with lamina-optim metadata) loaded
 * into SGD with momentum and into Adam over a Linear(2, 2); a state that loads must step.
 * Invariant: no tensor is leaked (both optimizers start with every state tensor made, and a
 * load can only replace or drop them). */
#define _GNU_SOURCE
#include "fuzz_util.h"

static lam_module *net;
static lam_optim *opt[2];
static lam_tensor *x;
static int64_t live_max;

/* One step of opt on the fixed input; false if any part failed. */
static bool step(lam_optim *o) {
    lam_scope_begin();
    lam_optim_zero_grad(o);
    bool ok = lam_backward(lam_sum(lam_forward(net, x))) == LAM_OK && lam_optim_step(o) == LAM_OK;
    lam_scope_end();
    return ok;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_host_only();
    net = lam_nn_linear(2, 2);
    opt[0] = lam_sgd(net, (lam_sgd_options){.lr = 0.1f, .momentum = 0.9f});
    opt[1] = lam_adam(net, (lam_adam_options){0});
    x = lam_keep(lam_ones(2, (const int64_t[]){1, 2}, NULL));
    if (!net || !opt[0] || !opt[1] || !x || !step(opt[0]) || !step(opt[1])) return 1;
    live_max = lam_live_tensors();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(0, data, size);
    for (int k = 0; k < 2; ++k) {
        if (lam_optim_load(opt[k], path) == LAM_OK) FUZZ_CHECK(step(opt[k]));   /* loaded shapes fit */
    }
    FUZZ_CHECK(lam_live_tensors() <= live_max);
    lam_clear_error();
    return 0;
}
