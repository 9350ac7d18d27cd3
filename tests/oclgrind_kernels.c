/* The kernels the op harness (test_ops) leaves out under ci/oclgrind.sh, each run at a tiny
 * size on one device (argv[1], default the default device):
 *   lam_reduce_tree_chunks / lam_reduce_chunks, lam_reduce_final   a sum of 65536 elements
 *                                       (one output over a row that long is split: cl_reduce.c)
 *   lam_reduce_tree / lam_reduce_rows, lam_softmax_tree / lam_softmax_rows   (3, 5)
 *   lam_k_rand                          lam_rand, lam_randn
 *   lam_k_bn_update, lam_k_bn_count     a BatchNorm1d training step (running statistics)
 *   lam_k_sgd, lam_k_adam               one step of each (SGD with momentum)
 * With LAMINA_CL_TREE=1 it takes the work-group tree kernels, with =0 the one-work-item-per-
 * row ones. Exits 0 when every op succeeded and the sums are right. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <lamina.h>

#define CHECK(cond, what)                                                         \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "oclgrind_kernels: %s: %s\n", what, lam_last_error()); \
            return 1;                                                             \
        }                                                                         \
    } while (0)

static int reductions(lam_device *d) {
    lam_scope_begin();
    double big = lam_item(lam_sum(lam_ones(LAM_SHAPE(65536), d)));
    CHECK(big == 65536.0, "sum of 65536 ones");
    lam_tensor *x = lam_arange(0, 15, 1, LAM_F32, d);
    lam_tensor *m = x ? lam_reshape(x, LAM_SHAPE(3, 5)) : NULL;
    double rows = lam_item(lam_sum(lam_sum_dim(m, 1, false)));
    CHECK(rows == 105.0, "sum over rows of (3, 5)");
    double soft = lam_item(lam_sum(lam_softmax(m, -1)));
    CHECK(fabs(soft - 3.0) < 1e-5, "softmax of (3, 5)");
    lam_scope_end();
    return 0;
}

static int training_step(lam_device *d) {
    lam_module *bn = lam_nn_batch_norm1d(3);
    CHECK(bn && lam_module_to(bn, d) == LAM_OK, "BatchNorm1d");
    lam_optim *sgd = lam_sgd(bn, (lam_sgd_options){.lr = 0.1f, .momentum = 0.9f});
    lam_optim *adam = lam_adam(bn, (lam_adam_options){.lr = 0.01f});
    CHECK(sgd && adam, "optimizers");
    lam_scope_begin();
    lam_tensor *x = lam_randn(LAM_SHAPE(4, 3), d), *u = lam_rand(LAM_SHAPE(4, 3), d);
    lam_tensor *y = x && u ? lam_forward(bn, lam_add(x, u)) : NULL;
    CHECK(y && lam_backward(lam_sum(lam_mul(y, y))) == LAM_OK, "BatchNorm1d forward and backward");
    CHECK(lam_optim_step(sgd) == LAM_OK && lam_optim_step(adam) == LAM_OK, "optimizer steps");
    CHECK(lam_device_synchronize(d) == LAM_OK, "synchronize");
    lam_scope_end();
    lam_optim_free(adam);
    lam_optim_free(sgd);
    lam_module_free(bn);
    return 0;
}

int main(int argc, char **argv) {
    lam_device *d = lam_device_get(argc > 1 ? argv[1] : NULL);
    CHECK(d, "device");
    int fails = reductions(d) + training_step(d);
    printf("oclgrind_kernels on %s: %s\n", lam_device_spec(d), fails ? "FAIL" : "ok");
    return fails ? 1 : 0;
}
