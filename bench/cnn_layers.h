/* The convolution layer shapes bench_cnn and bench_dnnl time: the ResNet's (examples/cnn_models.h)
 * and the LeNet's, padding k / 2; torch_cnn.py's LAYERS is the same table. */
#ifndef LAMINA_BENCH_CNN_LAYERS_H
#define LAMINA_BENCH_CNN_LAYERS_H

#include <stdint.h>

typedef struct { const char *name; int64_t n, c, oc, size, k, s; } layer;
static const layer layers[] = {
    {"stem", 128, 1, 16, 28, 3, 1},  {"s1", 128, 16, 16, 28, 3, 1},  {"s2a", 128, 16, 32, 28, 3, 2},
    {"s2b", 128, 32, 32, 14, 3, 1},  {"s2sc", 128, 16, 32, 28, 1, 2}, {"s3a", 128, 32, 64, 14, 3, 2},
    {"s3b", 128, 64, 64, 7, 3, 1},   {"lenet1", 64, 1, 32, 28, 3, 1}, {"lenet2", 64, 32, 64, 14, 3, 1},
};
#define NLAYERS (int)(sizeof layers / sizeof *layers)

#endif
