/* Buffer guards (LAMINA_DEBUG=1): every device buffer gets LAM_GUARD_BYTES of a known pattern
 * after the bytes asked for, checked when the buffer is freed, so a kernel that writes past
 * its output is caught on every backend (the op harness checks after every case). */
#ifndef LAM_BACKEND_GUARD_H
#define LAM_BACKEND_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"

#define LAM_GUARD_BYTES 64

/* Extra bytes to allocate after each buffer: LAM_GUARD_BYTES under LAMINA_DEBUG=1, else 0. */
size_t lam_guard_extra(void);
/* The pattern to write after a buffer's requested bytes. */
extern const unsigned char lam_guard_pattern[LAM_GUARD_BYTES];
/* Compares a buffer's guard (read back) with the pattern; records a violation for d. */
void lam_guard_check(lam_device *d, const unsigned char *guard, size_t bytes);

#endif
