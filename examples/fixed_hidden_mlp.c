/* The chapter's FixedHiddenMLP: a constant weight, a layer used twice and a while loop on
 * a device value; backward still gives every parameter its gradient.
 * Usage: fixed_hidden_mlp [--device SPEC] */
#include "chapter_models.h"

#include <math.h>

int main(int argc, char **argv) {
    lam_device *dev = example_device(argc, argv);
    if (!dev) return 1;
    lam_manual_seed(0);
    lam_module *net = fixed_hidden_mlp_new();
    int rc = 1;
    lam_scope_begin();
    lam_tensor *out = net ? lam_forward(net, lam_rand(LAM_SHAPE(2, 20), dev)) : NULL;
    double value = out ? lam_item(out) : NAN;   /* NAN: lam_item failed, lam_last_error says why */
    if (!isnan(value) && lam_backward(out) == LAM_OK) {
        printf("net(X) = %.4f on %s\n", value, lam_device_name(dev));
        lam_named_tensor p[8];
        int n = lam_named_parameters(net, p, 8);
        for (int i = 0; i < n && i < 8; ++i) {
            lam_tensor *g = lam_grad(p[i].tensor);
            char shape[64];
            double norm = g ? sqrt(lam_item(lam_sum(lam_mul(g, g)))) : NAN;
            printf("%-16s grad %s norm %.6f\n", p[i].name, g ? lam_shape_str(g, shape, sizeof shape) : "none", norm);
        }
        lam_tensor *rw = lam_module_buffer(net, "rand_weight");
        printf("rand_weight is a buffer: requires_grad=%d, grad=%s\n", lam_tensor_requires_grad(rw),
               lam_grad(rw) ? "yes" : "none");
        rc = 0;
    }
    lam_scope_end();
    if (rc) fprintf(stderr, "fixed_hidden_mlp: %s\n", lam_last_error());
    lam_module_free(net);
    return rc;
}
