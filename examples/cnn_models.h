/* Convolutional models written the chapter's way, shared by examples/lenet.c,
 * examples/resnet.c, train_mnist, the benchmarks and the tests:
 *
 *   lenet_new()   the CNN of shared/bench/torch_reference.py: conv 3x3 32, ReLU, max-pool 2,
 *                 conv 3x3 64, ReLU, max-pool 2, Linear 128, ReLU, Linear 10 (a Sequential)
 *   resnet_new()  a small ResNet: stem conv 3x3 16 + BN + ReLU, then one BasicBlock per stage
 *                 at 16, 32 (stride 2) and 64 (stride 2) channels, global average pooling and
 *                 a Linear head; 77,754 parameters for 1-channel images, 10 classes
 *
 * Both take (N, 1, 28, 28) images; lenet_make and resnet_make take other shapes. Their
 * PyTorch twins (same names, so state_dicts load both ways) are in bench/twin_train.py and
 * tests/reference/make_resnet_reference.py. */
#ifndef LAMINA_EXAMPLES_CNN_MODELS_H
#define LAMINA_EXAMPLES_CNN_MODELS_H

#include <lamina.h>
#include <math.h>
#include <stdio.h>

/* For (N, channels, height, width) images and `classes` outputs; two poolings halve the
 * planes twice, so the first Linear takes 64 (height / 4) (width / 4) features. */
static inline lam_module *lenet_make(int64_t channels, int64_t height, int64_t width, int64_t classes) {
    return lam_nn_sequential(10, lam_nn_conv2d(channels, 32, 3, 1, 1, 1, 1, true), lam_nn_relu(),
                             lam_nn_max_pool2d(2, 0, 0), lam_nn_conv2d(32, 64, 3, 1, 1, 1, 1, true), lam_nn_relu(),
                             lam_nn_max_pool2d(2, 0, 0), lam_nn_flatten(),
                             lam_nn_linear(64 * (height / 4) * (width / 4), 128), lam_nn_relu(), lam_nn_linear(128, classes));
}

static inline lam_module *lenet_new(void) { return lenet_make(1, 28, 28, 10); }

/* ---- ResNet ------------------------------------------------------------------------------- */

/* BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), where the shortcut is the
 * identity, or a 1x1 convolution + BN when the block changes the shape. */
typedef struct { lam_module *conv1, *bn1, *conv2, *bn2, *shortcut; } basic_block;

static inline lam_tensor *basic_block_forward(lam_module *m, lam_tensor *x) {
    basic_block *b = lam_self(m);
    lam_tensor *out = lam_relu(lam_forward(b->bn1, lam_forward(b->conv1, x)));
    out = lam_forward(b->bn2, lam_forward(b->conv2, out));
    return lam_relu(lam_add(out, lam_forward(b->shortcut, x)));
}

static const lam_module_class BASIC_BLOCK = {.name = "BasicBlock", .state_size = sizeof(basic_block),
                                             .forward = basic_block_forward};

static inline lam_module *basic_block_new(int64_t in, int64_t out, int64_t stride) {
    lam_module *m = lam_module_new(&BASIC_BLOCK);
    if (!m) return NULL;
    basic_block *b = lam_self(m);
    b->conv1 = lam_add_module(m, "conv1", lam_nn_conv2d(in, out, 3, stride, 1, 1, 1, false));
    b->bn1 = lam_add_module(m, "bn1", lam_nn_batch_norm2d(out));
    b->conv2 = lam_add_module(m, "conv2", lam_nn_conv2d(out, out, 3, 1, 1, 1, 1, false));
    b->bn2 = lam_add_module(m, "bn2", lam_nn_batch_norm2d(out));
    b->shortcut = lam_add_module(m, "shortcut", stride != 1 || in != out
                                                    ? lam_nn_sequential(2, lam_nn_conv2d(in, out, 1, stride, 0, 1, 1, false),
                                                                        lam_nn_batch_norm2d(out))
                                                    : lam_nn_identity());
    if (!b->conv1 || !b->bn1 || !b->conv2 || !b->bn2 || !b->shortcut) {
        lam_module_free(m);
        return NULL;
    }
    return m;
}

typedef struct { lam_module *stem, *stages, *pool, *fc; } resnet;

static inline lam_tensor *resnet_forward(lam_module *m, lam_tensor *x) {
    resnet *r = lam_self(m);
    lam_tensor *features = lam_forward(r->pool, lam_forward(r->stages, lam_forward(r->stem, x)));
    return lam_forward(r->fc, lam_flatten(features, 1, -1));
}

static const lam_module_class RESNET = {.name = "ResNet", .state_size = sizeof(resnet), .forward = resnet_forward};

/* For images of any size with `channels` channels (global pooling makes it size-free). */
static inline lam_module *resnet_make(int64_t channels, int64_t classes) {
    lam_module *m = lam_module_new(&RESNET);
    if (!m) return NULL;
    resnet *r = lam_self(m);
    r->stem = lam_add_module(m, "stem", lam_nn_sequential(3, lam_nn_conv2d(channels, 16, 3, 1, 1, 1, 1, false),
                                                          lam_nn_batch_norm2d(16), lam_nn_relu()));
    r->stages = lam_add_module(m, "stages", lam_nn_sequential(3, basic_block_new(16, 16, 1), basic_block_new(16, 32, 2),
                                                              basic_block_new(32, 64, 2)));
    r->pool = lam_add_module(m, "pool", lam_nn_adaptive_avg_pool2d(LAM_HW(1)));
    r->fc = lam_add_module(m, "fc", lam_nn_linear(64, classes));
    if (!r->stem || !r->stages || !r->pool || !r->fc) {
        lam_module_free(m);
        return NULL;
    }
    return m;
}

static inline lam_module *resnet_new(void) { return resnet_make(1, 10); }

/* ---- the examples' demonstration: memorize one random batch ------------------------------ */

/* Takes `steps` optimizer steps on one batch of `n` random images with random labels, on the
 * model's device, printing the loss; 0 if it fell, 1 (with a message) if not or on error. */
static inline int cnn_fit_random_batch(const char *prog, lam_module *net, lam_optim *opt, int64_t n, int steps) {
    lam_device *dev = lam_module_device(net);
    lam_tensor *x = lam_keep(lam_rand(LAM_SHAPE(n, 1, 28, 28), dev));
    lam_tensor *y = lam_keep(lam_to_dtype(lam_mul_scalar(lam_rand(LAM_SHAPE(n), dev), 9.99f), LAM_I64));
    double first = NAN, last = NAN;
    for (int step = 0; x && y && step < steps; ++step) {
        lam_scope_begin();
        lam_optim_zero_grad(opt);
        lam_tensor *loss = lam_cross_entropy(lam_forward(net, x), y);
        if (loss && lam_backward(loss) == LAM_OK && lam_optim_step(opt) == LAM_OK) last = lam_item(loss);
        else last = NAN;
        lam_scope_end();
        if (isnan(last)) break;
        if (step == 0) first = last;
        printf("step %2d  loss %.4f\n", step + 1, last);
    }
    lam_release(x);
    lam_release(y);
    if (isnan(last)) {
        fprintf(stderr, "%s: %s\n", prog, lam_last_error());
        return 1;
    }
    if (!(last < first)) {
        fprintf(stderr, "%s: the loss did not fall (%.4f -> %.4f)\n", prog, first, last);
        return 1;
    }
    return 0;
}

#endif
