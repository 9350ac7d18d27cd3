/* A small ResNet built from a custom BasicBlock module (examples/cnn_models.h): prints it,
 * lets SGD memorize one batch of random images, then evaluates with the running statistics
 * its BatchNorm layers gathered. --save PATH writes its state_dict (PyTorch loads it into
 * the twin in tests/reference/make_resnet_reference.py).
 * Usage: resnet [--device SPEC] [--save PATH] */
#include "chapter_models.h"
#include "cnn_models.h"

int main(int argc, char **argv) {
    lam_device *dev = example_device(argc, argv);
    if (!dev) return 1;
    const char *save = NULL;
    for (int i = 1; i + 1 < argc; ++i)
        if (!strcmp(argv[i], "--save")) save = argv[i + 1];
    lam_manual_seed(0);
    lam_module *net = resnet_new();
    lam_optim *opt = net ? lam_sgd(net, (lam_sgd_options){.lr = 0.05f, .momentum = 0.9f}) : NULL;
    if (!opt) {
        fprintf(stderr, "resnet: %s\n", lam_last_error());
        lam_module_free(net);
        return 1;
    }
    lam_module_print(net, stdout);
    printf("%lld parameters on %s\n", (long long)lam_param_count(net), lam_device_name(dev));
    int rc = cnn_fit_random_batch("resnet", net, opt, 16, 8);
    lam_train(net, false);   /* eval: BatchNorm uses its running statistics */
    lam_scope_begin();
    lam_tensor *logits = rc ? NULL : lam_forward(net, lam_rand(LAM_SHAPE(2, 1, 28, 28), dev));
    char shape[64];
    if (logits) printf("eval logits %s, first %.4f\n", lam_shape_str(logits, shape, sizeof shape), lam_item(lam_slice(lam_reshape(logits, LAM_SHAPE(-1)), 0, 0, 1, 1)));
    else if (!rc) rc = 1;
    lam_scope_end();
    if (!rc && save && lam_save(net, save) != LAM_OK) rc = 1;
    if (rc && lam_last_status() != LAM_OK) fprintf(stderr, "resnet: %s\n", lam_last_error());
    lam_optim_free(opt);
    lam_module_free(net);
    return rc;
}
