/* Host backend internals: the vtable entries, one file per op family. */
#ifndef LAM_HOST_H
#define LAM_HOST_H

#include "backend/backend.h"
#include "cl/common.h"

/* Parallelize loops only when there is enough work to pay for the threads. */
#define LAM_HOST_PAR_MIN 32768

lam_layout lam_host_layout(const lam_view *v);
bool lam_host_is_contiguous(const lam_view *v);

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
