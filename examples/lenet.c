/* The CNN of shared/bench/torch_reference.py as lamina modules (examples/cnn_models.h):
 * prints it, then lets Adam memorize one batch of random images.
 * Usage: lenet [--device SPEC] */
#include "chapter_models.h"
#include "cnn_models.h"

int main(int argc, char **argv) {
    lam_device *dev = example_device(argc, argv);
    if (!dev) return 1;
    lam_manual_seed(0);
    lam_module *net = lenet_new();
    lam_optim *opt = net ? lam_adam(net, (lam_adam_options){.lr = 1e-3f}) : NULL;
    if (!opt) {
        fprintf(stderr, "lenet: %s\n", lam_last_error());
        lam_module_free(net);
        return 1;
    }
    lam_module_print(net, stdout);
    printf("%lld parameters on %s\n", (long long)lam_param_count(net), lam_device_name(dev));
    int rc = cnn_fit_random_batch("lenet", net, opt, 16, 8);
    lam_optim_free(opt);
    lam_module_free(net);
    return rc;
}
