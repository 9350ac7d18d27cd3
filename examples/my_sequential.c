/* The chapter's MySequential: a Sequential built by hand with lam_add_module; its forward
 * runs the registered children in order. Usage: my_sequential [--device SPEC] */
#include <lamina.h>
#include <stdio.h>
#include <string.h>

static lam_tensor *my_sequential_forward(lam_module *m, lam_tensor *x) {
    lam_module *kids[64];
    int n = lam_module_children(m, kids, 64);
    for (int i = 0; x && i < n && i < 64; ++i) x = lam_forward(kids[i], x);
    return x;
}

static const lam_module_class MY_SEQUENTIAL = {.name = "MySequential", .forward = my_sequential_forward};

/* Registers each child under its index, like the chapter's self._modules[str(idx)]. */
static lam_module *my_sequential(int n, lam_module **children) {
    lam_module *m = lam_module_new(&MY_SEQUENTIAL);
    for (int i = 0; i < n; ++i) {
        char name[16];
        snprintf(name, sizeof name, "%d", i);
        if (!m || !lam_add_module(m, name, children[i])) {
            for (int j = m ? i + 1 : i; j < n; ++j) lam_module_free(children[j]);
            lam_module_free(m);
            return NULL;
        }
    }
    return m;
}

int main(int argc, char **argv) {
    const char *spec = NULL;
    for (int i = 1; i + 1 < argc; ++i)
        if (!strcmp(argv[i], "--device")) spec = argv[i + 1];
    lam_device *dev = lam_device_get(spec);
    if (!dev || lam_set_default_device(dev) != LAM_OK) {
        fprintf(stderr, "my_sequential: %s\n", lam_last_error());
        return 1;
    }
    lam_manual_seed(0);
    lam_module *kids[] = {lam_nn_linear(20, 256), lam_nn_relu(), lam_nn_linear(256, 10)};
    lam_module *net = my_sequential(3, kids);
    if (!net) {
        fprintf(stderr, "my_sequential: %s\n", lam_last_error());
        return 1;
    }
    lam_scope_begin();
    lam_tensor *y = lam_forward(net, lam_rand(LAM_SHAPE(2, 20), dev));
    char shape[64];
    if (y) printf("net(X) on %s: shape %s\n", lam_device_name(dev), lam_shape_str(y, shape, sizeof shape));
    lam_scope_end();
    if (!y) fprintf(stderr, "my_sequential: %s\n", lam_last_error());
    else lam_module_print(net, stdout);
    lam_module_free(net);
    return y ? 0 : 1;
}
