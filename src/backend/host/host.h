/* Host backend internals: the vtable entries, one file per op family. */
#ifndef LAM_HOST_H
#define LAM_HOST_H

#include "backend/view.h"

/* Op codes as literals, so contiguous loops are compiled once per op with the switch in
 * lam_*_apply folded away (and vectorized). */
#define LAM_FOR_EACH_UNARY(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8)
#define LAM_FOR_EACH_BINARY(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) X(16)
_Static_assert(LAM_UNARY_COUNT == 9 && LAM_BINARY_COUNT == 17, "LAM_FOR_EACH_* must list every op");

/* Parallelize loops only when there is enough work to pay for the threads. */
#define LAM_HOST_PAR_MIN 262144

lam_status lam_host_fill(lam_device *d, const lam_view *dst, uint64_t bits);
lam_status lam_host_copy(lam_device *d, const lam_view *dst, const lam_view *src);
lam_status lam_host_rand(lam_device *d, const lam_view *dst, uint64_t seed, uint64_t counter, bool normal);
lam_status lam_host_unary(lam_device *d, lam_unary_op op, const lam_view *dst, const lam_view *x);
lam_status lam_host_binary(lam_device *d, lam_binary_op op, const lam_view *dst, const lam_view *a,
                           const lam_view *b);
lam_status lam_host_binary_scalar(lam_device *d, lam_binary_op op, const lam_view *dst, const lam_view *a,
                                  float s);
lam_status lam_host_reduce(lam_device *d, lam_reduce_op op, const lam_view *dst, const lam_view *src,
                           int64_t outer, int64_t len, int64_t inner);
lam_status lam_host_softmax(lam_device *d, bool log, const lam_view *dst, const lam_view *src, int64_t rows,
                            int64_t cols);
lam_status lam_host_gemm(lam_device *d, const lam_gemm_args *g);

#endif
