/* Parameter-free layers: activations and Flatten, each a module around one op. */
#include "lamina/ops.h"
#include "nn/module_impl.h"

static lam_tensor *relu_forward(lam_module *m, lam_tensor *x) { (void)m; return lam_relu(x); }
static lam_tensor *sigmoid_forward(lam_module *m, lam_tensor *x) { (void)m; return lam_sigmoid(x); }
static lam_tensor *tanh_forward(lam_module *m, lam_tensor *x) { (void)m; return lam_tanh(x); }
static lam_tensor *gelu_forward(lam_module *m, lam_tensor *x) { (void)m; return lam_gelu(x); }
static lam_tensor *silu_forward(lam_module *m, lam_tensor *x) { (void)m; return lam_silu(x); }

/* (N, ...) -> (N, prod(...)); a 1-d input stays as it is, like PyTorch's start_dim=1. */
static lam_tensor *flatten_forward(lam_module *m, lam_tensor *x) {
    (void)m;
    return lam_ndim(x) <= 1 ? lam_reshape(x, lam_ndim(x), lam_shape(x)) : lam_flatten(x, 1, -1);
}

static void flatten_repr(const lam_module *m, char *buf, size_t size) {
    (void)m;
    snprintf(buf, size, "start_dim=1, end_dim=-1");
}

static const lam_module_class RELU = {.name = "ReLU", .forward = relu_forward};
static const lam_module_class SIGMOID = {.name = "Sigmoid", .forward = sigmoid_forward};
static const lam_module_class TANH = {.name = "Tanh", .forward = tanh_forward};
static const lam_module_class GELU = {.name = "GELU", .forward = gelu_forward};
static const lam_module_class SILU = {.name = "SiLU", .forward = silu_forward};
static const lam_module_class FLATTEN = {.name = "Flatten", .forward = flatten_forward, .extra_repr = flatten_repr};

lam_module *lam_nn_relu(void) { return lam_module_new(&RELU); }
lam_module *lam_nn_sigmoid(void) { return lam_module_new(&SIGMOID); }
lam_module *lam_nn_tanh(void) { return lam_module_new(&TANH); }
lam_module *lam_nn_gelu(void) { return lam_module_new(&GELU); }
lam_module *lam_nn_silu(void) { return lam_module_new(&SILU); }
lam_module *lam_nn_flatten(void) { return lam_module_new(&FLATTEN); }
