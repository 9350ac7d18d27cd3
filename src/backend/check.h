/* Index checks (labels, token ids) shared by the ops that ask for them and the backends
 * that run them: ops name themselves by a small id, so a device can report "lam_embedding"
 * from a number it wrote into its error record. */
#ifndef LAM_BACKEND_CHECK_H
#define LAM_BACKEND_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "lamina/error.h"

/* The id of op (a string that lives as long as the process, e.g. a literal). */
int64_t lam_check_op_id(const char *op);
const char *lam_check_op_name(int64_t id);
/* Sets LAM_ERR_ARG: op's index value at position is outside [lo, hi); found_later says it
 * was found on the device and is reported by a later read or synchronize. */
lam_status lam_check_fail(int64_t op, int64_t value, int64_t position, int64_t lo, int64_t hi, bool found_later);

#endif
