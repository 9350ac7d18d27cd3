/* Internal error reporting: set the thread's status and message, return a failure value. */
#ifndef LAM_CORE_ERROR_H
#define LAM_CORE_ERROR_H

#include "lamina/error.h"

/* Records an error (and aborts with a backtrace under LAMINA_ABORT_ON_ERROR=1). Returns s. */
lam_status lam_set_error(lam_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Counts lam_set_error calls on this thread: a caller compares two readings to tell whether
 * an error was set in between (lam_forward names the module an error came from). */
unsigned long long lam_error_serial(void);
/* For an op handed NULL: keeps an earlier error (the root cause) or records LAM_ERR_ARG. */
void lam_null_arg(const char *op);

/* Fail out of a function returning a pointer. */
#define LAM_FAIL_NULL(status, ...) do { lam_set_error((status), __VA_ARGS__); return NULL; } while (0)

#endif
