/* The chapter's first listing: a Sequential of Linear(20, 256), ReLU, Linear(256, 10).
 * Usage: sequential [--device SPEC] */
#include <lamina.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *spec = NULL;
    for (int i = 1; i + 1 < argc; ++i)
        if (!strcmp(argv[i], "--device")) spec = argv[i + 1];
    lam_device *dev = lam_device_get(spec);
    if (!dev || lam_set_default_device(dev) != LAM_OK) {
        fprintf(stderr, "sequential: %s\n", lam_last_error());
        return 1;
    }
    lam_manual_seed(0);
    lam_module *net = lam_nn_sequential(3, lam_nn_linear(20, 256), lam_nn_relu(), lam_nn_linear(256, 10));
    lam_scope_begin();
    lam_tensor *x = lam_rand(LAM_SHAPE(2, 20), dev);
    lam_tensor *y = lam_forward(net, x);
    char shape[64];
    if (y) printf("net(X) on %s: shape %s\n", lam_device_name(dev), lam_shape_str(y, shape, sizeof shape));
    lam_scope_end();
    if (!y) fprintf(stderr, "sequential: %s\n", lam_last_error());
    else lam_module_print(net, stdout);
    lam_module_free(net);
    return y ? 0 : 1;
}
