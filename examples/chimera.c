/* The chapter's chimera: Sequential(NestMLP(), LazyLinear(20), FixedHiddenMLP()), modules
 * nested to any depth; prints every parameter's dotted name and shape, and the tree.
 * Usage: chimera [--device SPEC] */
#include "chapter_models.h"

int main(int argc, char **argv) {
    lam_device *dev = example_device(argc, argv);
    if (!dev) return 1;
    lam_manual_seed(0);
    lam_module *chimera = chimera_new();
    int rc = 1;
    lam_scope_begin();
    lam_tensor *out = chimera ? lam_forward(chimera, lam_rand(LAM_SHAPE(2, 20), dev)) : NULL;
    double value = out ? lam_item(out) : NAN;   /* NAN: lam_item failed, lam_last_error says why */
    if (!isnan(value)) {
        printf("chimera(X) = %.4f on %s\n", value, lam_device_name(dev));
        lam_named_tensor p[32];
        int n = lam_named_parameters(chimera, p, 32);
        for (int i = 0; i < n && i < 32; ++i) {
            char shape[64];
            printf("%-20s %s\n", p[i].name, lam_shape_str(p[i].tensor, shape, sizeof shape));
        }
        lam_module_print(chimera, stdout);
        rc = 0;
    }
    lam_scope_end();
    if (rc) fprintf(stderr, "chimera: %s\n", lam_last_error());
    lam_module_free(chimera);
    return rc;
}
