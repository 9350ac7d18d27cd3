/* Direct kernels: ops with a kernel of their own run through one backend entry, `kernel`,
 * with their arguments in a table (lam_kernel_args), so adding one needs no new vtable
 * entry and no OpenCL argument code.
 *
 * X(NAME, name, file, views, ints, floats, group): the OpenCL kernel lam_k_<name> in
 * cl/<file> takes, in order, (buffer, offset) for each view, the ints as long, the floats,
 * then the work count as a long, and checks its own bounds; group > 0 runs one work-group of
 * that size per unit of work (the kernel reads get_group_id and get_local_size) on GPUs and
 * accelerators, or the device's largest if smaller, and a group of one work-item per unit on
 * CPU devices, instead of one work-item per unit. The host runs lam_host_k_<name>(args)
 * (src/backend/host/). Views are contiguous; the program is built for the dtype of view 0. A
 * view with a NULL buffer is the device's error record (a few longs a kernel raises and the
 * next blocking read reports; the host has none). */
#ifndef LAM_BACKEND_KERNELS_H
#define LAM_BACKEND_KERNELS_H

#include <stdint.h>

#define LAM_KERNELS(X)                                                                     \
    X(RAND, rand, "rand.cl", 1, 3, 0, 0)      /* dst; seed, counter, normal */             \
    X(SGD, sgd, "optim.cl", 3, 2, 4, 0)       /* p, g, buf; nesterov, first; lr, mom, damp, wd */ \
    X(ADAM, adam, "optim.cl", 4, 1, 7, 0)     /* p, g, m, v; decoupled; lr, b1, b2, eps, wd, bias1, bias2 */ \
    X(CHECK_INDEX, check_index, "check.cl", 2, 3, 0, 0) /* idx, record; lo, hi, op id (backend/check.h) */ \
    LAM_CNN_KERNELS(X)                                                                     \
    LAM_TRANSFORMER_KERNELS(X)

/* Convolutional networks (src/ops/conv.c, pool.c, batch_norm.c, dropout.c). "window" is the
 * 12 ints of lam_window (cl/window.h) in its field order; conv adds channels and images. */
#define LAM_CNN_KERNELS(X)                                                                 \
    X(IM2COL, im2col, "conv.cl", 2, 14, 0, 0)        /* col, x; window, C, images */        \
    X(COL2IM, col2im, "conv.cl", 2, 14, 0, 0)        /* dx, dcol; window, C, images */      \
    X(SWAP01, swap01, "conv.cl", 3, 4, 0, 0)         /* dst, src, bias; A, B, S, has_bias */ \
    X(MAX_POOL, max_pool, "pool.cl", 3, 12, 0, 0)    /* y, idx, x; window */                \
    X(MAX_POOL_BACKWARD, max_pool_backward, "pool.cl", 3, 12, 0, 0)  /* dx, g, idx; window */ \
    X(AVG_POOL, avg_pool, "pool.cl", 2, 12, 0, 0)    /* y, x; window, adaptive, count_pad */ \
    X(AVG_POOL_BACKWARD, avg_pool_backward, "pool.cl", 2, 12, 0, 0)  /* dx, g; the same */  \
    X(BN_STATS, bn_stats, "batch_norm.cl", 4, 4, 1, 256)      /* stats, x, rmean, rvar; N, C, HW, training; eps */ \
    X(BN_UPDATE, bn_update, "batch_norm.cl", 3, 1, 1, 0)      /* rmean, rvar, stats; count; momentum */ \
    X(BN_APPLY, bn_apply, "batch_norm.cl", 5, 3, 0, 0)        /* y, x, stats, w, b; C, HW, affine */ \
    X(BN_BACKWARD_REDUCE, bn_backward_reduce, "batch_norm.cl", 4, 3, 0, 256)  /* sums, g, x, stats; N, C, HW */ \
    X(BN_BACKWARD_DATA, bn_backward_data, "batch_norm.cl", 6, 5, 0, 0)  /* dx, g, x, stats, w, sums; C, HW, affine, training, count */ \
    X(BN_COUNT, bn_count, "batch_norm.cl", 1, 1, 0, 0)        /* num_batches_tracked (i64); delta */ \
    X(DROPOUT, dropout, "dropout.cl", 2, 2, 2, 0)             /* y, x; seed, counter; p, scale */

/* Transformers (src/ops/index.c, layer_norm.c, attention.c). */
#define LAM_TRANSFORMER_KERNELS(X)                                                         \
    X(INDEX_SELECT, index_select, "index.cl", 3, 3, 0, 0)   /* out, x, idx; len, inner, n */         \
    X(INDEX_ADD, index_add, "index.cl", 3, 3, 0, 0)         /* gx, g, idx; len, inner, n */          \
    X(LAYER_NORM, layer_norm, "layer_norm.cl", 6, 3, 1, 256)   /* y, mean, rstd, x, w, b; D, has_w, has_b; eps */ \
    X(LAYER_NORM_DX, layer_norm_dx, "layer_norm.cl", 6, 2, 0, 256)   /* dx, g, x, w, mean, rstd; D, has_w */ \
    X(LAYER_NORM_DWB, layer_norm_dwb, "layer_norm.cl", 6, 4, 0, 0)   /* dw, db, g, x, mean, rstd; rows, D, has_w, has_b */ \
    X(ATTN_SOFTMAX, attn_softmax, "attention.cl", 3, 9, 1, 256)  /* p, s, mask; H, L, S, mB, mH, mL, mS, has_mask, causal; scale */ \
    X(ATTN_SOFTMAX_BWD, attn_softmax_bwd, "attention.cl", 3, 1, 1, 256)  /* ds, p, dp; S; scale */

/* What each direct kernel does with its views, so that it reports the bytes it moves
 * (lam_kernel_stats): one word per view, in the order above. r: read, w: written, rw: both,
 * g: read as gathered, as many elements as view 0 has (index_select's rows of x), -: never
 * touched (a stand-in, the error record). A word may end in ?iN (only when int N is nonzero),
 * ?!iN (only when it is zero) or ?fN (only when float N is nonzero). The ops give each view
 * the shape of the extent the kernel touches; a view touched in part counts whole. A kernel
 * missing here fails the static assertion below; a word count that differs from the views
 * counts the launch as unsized, which tests/test_kernel_stats.c rejects. */
#define LAM_KERNEL_ACCESS(X)                                                               \
    X(RAND, "w")                                                                           \
    X(SGD, "rw r rw?f1")                   /* the momentum buffer only with momentum */     \
    X(ADAM, "rw r rw rw")                                                                  \
    X(CHECK_INDEX, "r -")                  /* the record is written only when raised */     \
    X(IM2COL, "w r")                                                                       \
    X(COL2IM, "w r")                                                                       \
    X(SWAP01, "w r r?i3")                                                                  \
    X(MAX_POOL, "w w r")                                                                   \
    X(MAX_POOL_BACKWARD, "w r r")                                                          \
    X(AVG_POOL, "w r")                                                                     \
    X(AVG_POOL_BACKWARD, "w r")                                                            \
    X(BN_STATS, "w r?i3 r?!i3 r?!i3")      /* x in training, else the running statistics */ \
    X(BN_UPDATE, "rw rw r")                                                                \
    X(BN_APPLY, "w r r r?i2 r?i2")                                                         \
    X(BN_BACKWARD_REDUCE, "w r r r")                                                       \
    X(BN_BACKWARD_DATA, "w r r?i3 r r?i2 r?i3")                                            \
    X(BN_COUNT, "rw")                                                                      \
    X(DROPOUT, "w r")                                                                      \
    X(INDEX_SELECT, "w g r")                                                               \
    X(INDEX_ADD, "w r r")                                                                  \
    X(LAYER_NORM, "w w w r r?i1 r?i2")                                                     \
    X(LAYER_NORM_DX, "w r r r?i1 r r")                                                     \
    X(LAYER_NORM_DWB, "w?i2 w?i3 r r r r")                                                 \
    X(ATTN_SOFTMAX, "w r r?i7")                                                            \
    X(ATTN_SOFTMAX_BWD, "w r r")

#define LAM_KERNEL_ENUM(NAME, name, file, nv, ni, nf, group) LAM_K_##NAME,
typedef enum { LAM_KERNELS(LAM_KERNEL_ENUM) LAM_KERNEL_COUNT } lam_kernel_id;

#define LAM_KERNEL_MAX_VIEWS 6
#define LAM_KERNEL_MAX_INTS 16
#define LAM_KERNEL_MAX_FLOATS 8

/* Static facts of one direct kernel, from the table. */
typedef struct {
    const char *name;   /* "sgd": lam_k_sgd on OpenCL, lam_host_k_sgd on the host */
    const char *file;   /* its kernel file in cl/ */
    int views, ints, floats, group;
} lam_kernel_info;
extern const lam_kernel_info lam_kernel_infos[LAM_KERNEL_COUNT];

/* The access words of LAM_KERNEL_ACCESS by kernel. */
extern const char *const lam_kernel_access[LAM_KERNEL_COUNT];

#endif
