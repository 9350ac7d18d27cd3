/* Index checks for the ops that take indices (labels, token ids). */
#ifndef LAM_OPS_CHECK_H
#define LAM_OPS_CHECK_H

#include <stdint.h>

#include "lamina/tensor.h"

/* Every element of idx (i32 or i64) must lie in [lo, hi); op names the caller in the error
 * (a string that lives as long as the process). Never waits for a device: indices written
 * from host memory are checked at once from what the host saw, others on the device, and a
 * bad one there is reported (LAM_ERR_ARG, naming op, the index and its position) by the next
 * blocking read or lam_device_synchronize on that device; on cpu always at once. */
lam_status lam_check_indices(const char *op, lam_tensor *idx, int64_t lo, int64_t hi);

#endif
