/* The chapter's MLP as a custom module: two LazyLinear children and a forward.
 * Usage: mlp [--device SPEC] */
#include <lamina.h>
#include <stdio.h>
#include <string.h>

typedef struct { lam_module *hidden, *out; } mlp;   /* the user's state */

static lam_tensor *mlp_forward(lam_module *m, lam_tensor *x) {
    mlp *self = lam_self(m);
    return lam_forward(self->out, lam_relu(lam_forward(self->hidden, x)));
}

static const lam_module_class MLP = {.name = "MLP", .state_size = sizeof(mlp), .forward = mlp_forward};

static lam_module *mlp_new(void) {
    lam_module *m = lam_module_new(&MLP);
    mlp *self = lam_self(m);
    self->hidden = lam_add_module(m, "hidden", lam_nn_lazy_linear(256));
    self->out = lam_add_module(m, "out", lam_nn_lazy_linear(10));
    return m;
}

int main(int argc, char **argv) {
    const char *spec = NULL;
    for (int i = 1; i + 1 < argc; ++i)
        if (!strcmp(argv[i], "--device")) spec = argv[i + 1];
    lam_device *dev = lam_device_get(spec);
    if (!dev || lam_set_default_device(dev) != LAM_OK) {
        fprintf(stderr, "mlp: %s\n", lam_last_error());
        return 1;
    }
    lam_manual_seed(0);
    lam_module *net = mlp_new();
    printf("before the first forward: %lld parameters\n", (long long)lam_param_count(net));
    lam_module_print(net, stdout);
    lam_scope_begin();
    lam_tensor *y = lam_forward(net, lam_rand(LAM_SHAPE(2, 20), dev));
    char shape[64];
    if (y) printf("net(X) on %s: shape %s\n", lam_device_name(dev), lam_shape_str(y, shape, sizeof shape));
    lam_scope_end();
    if (!y) {
        fprintf(stderr, "mlp: %s\n", lam_last_error());
        lam_module_free(net);
        return 1;
    }
    printf("after: %lld parameters\n", (long long)lam_param_count(net));
    lam_module_print(net, stdout);
    lam_module_free(net);
    return 0;
}
