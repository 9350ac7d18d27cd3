/* Every public op besides the elementwise rows of cl/op_table.h, declared once:
 * X(name, kind, arity, backend entry). The op harness (tests/ops) checks that each op of this
 * list and of the op table has a case; a new op family adds its rows here.
 *   kinds: REDUCE, ROWS (softmax family), GEMM, SELECT, LOSS (composed of other ops),
 *          VIEW (a new handle on the same storage), COPY, WINDOW (sliding windows over
 *          NCHW planes), NORM (per-channel or per-row statistics), RANDOM (Philox draws),
 *          INDEX, CREATE (no tensor input), STATS (composed of reductions), ATTENTION
 *   entries: the lam_backend_ops entry the op runs on (none for views and composites;
 *            kernel: the direct kernels of src/backend/kernels.h) */
#ifndef LAM_OPS_OP_LIST_H
#define LAM_OPS_OP_LIST_H

#define LAM_OP_LIST(X)                                                                     \
    X(sum, REDUCE, 1, reduce)                                                              \
    X(mean, REDUCE, 1, reduce)                                                             \
    X(max, REDUCE, 1, reduce)                                                              \
    X(min, REDUCE, 1, reduce)                                                              \
    X(sum_dim, REDUCE, 1, reduce)                                                          \
    X(mean_dim, REDUCE, 1, reduce)                                                         \
    X(max_dim, REDUCE, 1, reduce)                                                          \
    X(min_dim, REDUCE, 1, reduce)                                                          \
    X(argmax, REDUCE, 1, reduce)                                                           \
    X(argmin, REDUCE, 1, reduce)                                                           \
    X(sum_to_shape, REDUCE, 1, reduce)                                                     \
    X(softmax, ROWS, 1, softmax)                                                           \
    X(log_softmax, ROWS, 1, softmax)                                                       \
    X(matmul, GEMM, 2, gemm)                                                               \
    X(where, SELECT, 3, elementwise)                                                       \
    X(masked_fill, SELECT, 2, elementwise)                                                 \
    X(cross_entropy, LOSS, 2, none)                                                        \
    X(cross_entropy_with, LOSS, 2, none)                                                   \
    X(mse_loss, LOSS, 2, none)                                                             \
    X(reshape, VIEW, 1, none)                                                              \
    X(transpose, VIEW, 1, none)                                                            \
    X(permute, VIEW, 1, none)                                                              \
    X(slice, VIEW, 1, none)                                                                \
    X(unsqueeze, VIEW, 1, none)                                                            \
    X(squeeze, VIEW, 1, none)                                                              \
    X(flatten, VIEW, 1, none)                                                              \
    X(expand, VIEW, 1, none)                                                               \
    X(detach, VIEW, 1, none)                                                               \
    X(contiguous, COPY, 1, copy)                                                           \
    X(clone, COPY, 1, copy)                                                                \
    X(to, COPY, 1, copy)                                                                   \
    X(to_dtype, COPY, 1, copy)                                                             \
    LAM_CNN_OPS(X)                                                                         \
    LAM_TRANSFORMER_OPS(X)

/* Convolutional networks (src/ops/conv.c, pool.c, batch_norm.c, dropout.c, pad.c). */
#define LAM_CNN_OPS(X)                                                                     \
    X(conv2d, WINDOW, 3, kernel) /* im2col / col2im kernels around gemm */                 \
    X(max_pool2d, WINDOW, 1, kernel)                                                       \
    X(avg_pool2d, WINDOW, 1, kernel)                                                       \
    X(adaptive_avg_pool2d, WINDOW, 1, kernel)                                              \
    X(batch_norm, NORM, 5, kernel)                                                         \
    X(dropout, RANDOM, 1, kernel)                                                          \
    X(pad, COPY, 1, copy)

/* Transformers (src/ops/join.c, index.c, ranges.c, moments.c, layer_norm.c, attention.c). */
#define LAM_TRANSFORMER_OPS(X)                                                             \
    X(cat, COPY, -1, copy)                                                                 \
    X(stack, COPY, -1, copy)                                                               \
    X(index_select, INDEX, 2, kernel)                                                      \
    X(embedding, INDEX, 2, kernel)                                                         \
    X(arange, CREATE, 0, write)                                                            \
    X(tril, SELECT, 1, elementwise)                                                        \
    X(triu, SELECT, 1, elementwise)                                                        \
    X(causal_mask, CREATE, 0, elementwise)                                                 \
    X(var, STATS, 1, none)                                                                 \
    X(std, STATS, 1, none)                                                                 \
    X(layer_norm, NORM, 3, kernel)                                                         \
    X(scaled_dot_product_attention, ATTENTION, 4, kernel)

#endif
