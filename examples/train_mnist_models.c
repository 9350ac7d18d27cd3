/* train_mnist's models, by name. A model is one constructor from the data's shape; image
 * models get (B, C, H, W) batches normalized per channel, the others flat ones in [0, 1].
 * To add one (a LeNet, a ResNet), write its constructor and fill in its row of the table. */
#include <string.h>

#include "train_mnist.h"

/* 784-256-10 with ReLU: the chapter's MLP and train_mnist's default. */
static lam_module *mlp_new(const train_data_shape *in) {
    return lam_nn_sequential(3, lam_nn_linear(in->features, 256), lam_nn_relu(), lam_nn_linear(256, in->classes));
}

/* 784-10: softmax regression. */
static lam_module *linear_new(const train_data_shape *in) {
    return lam_nn_sequential(1, lam_nn_linear(in->features, in->classes));
}

static const train_model models[] = {
    {"mlp", false, mlp_new, NULL},
    {"linear", false, linear_new, NULL},
    /* conv 3x3 32 - ReLU - max-pool 2 - conv 3x3 64 - ReLU - max-pool 2 - Linear 128 - ReLU - Linear 10 */
    {"lenet", true, NULL, "lam_nn_conv2d and lam_nn_max_pool2d (issue 10)"},
    /* stem conv 3x3 16 + BN + ReLU, BasicBlocks at 16, 32 and 64 channels, global pooling, Linear */
    {"resnet", true, NULL, "lam_nn_conv2d, lam_nn_batch_norm2d and pooling (issue 10)"},
};

const train_model *train_find_model(const char *name) {
    for (size_t i = 0; i < sizeof models / sizeof *models; ++i)
        if (!strcmp(models[i].name, name)) return &models[i];
    return NULL;
}

const char *train_model_names(void) { return "mlp|linear|lenet|resnet"; }
