/* Helpers shared by the convolutional-network ops (conv.c, pool.c, batch_norm.c,
 * dropout.c): window parameter checks, the window ints their kernels take, dense copies. */
#ifndef LAM_OPS_CNN_IMPL_H
#define LAM_OPS_CNN_IMPL_H

#include "cl/window.h"
#include "ops/ops_impl.h"

/* Fail out of a function returning bool. */
#define LAM_FAIL_FALSE(status, ...) do { lam_set_error((status), __VA_ARGS__); return false; } while (0)

/* Strides and dilations at least 1, paddings at least 0; LAM_ERR_ARG naming op if not. */
bool lam_window_params_valid(const char *op, lam_hw stride, lam_hw padding, lam_hw dilation);
/* The 12 ints of w in lam_window's field order (what the kernels of backend/kernels.h take). */
void lam_window_ints(const lam_window *w, int64_t *out);
/* t itself when it is contiguous and of dtype dt, else a contiguous copy in dt (no record). */
lam_tensor *lam_dense(lam_tensor *t, lam_dtype dt);
/* "(h, w)" of a pair, for messages. */
char *lam_hw_str(lam_hw v, char *buf, size_t size);

/* num_batches_tracked += 1 on its device (BatchNorm modules, src/nn/batch_norm.c). */
lam_status lam_batch_norm_count_(lam_tensor *num_batches_tracked);

#endif
