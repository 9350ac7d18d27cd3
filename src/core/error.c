/* Thread-local status and message; optional abort for debugging. */
#include "core/error.h"

#include <execinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Thread_local lam_status last_status = LAM_OK;
static _Thread_local char last_message[1024];
static _Thread_local unsigned long long error_serial;

static const char *const status_names[] = {
    "LAM_OK", "LAM_ERR_ARG", "LAM_ERR_SHAPE", "LAM_ERR_DEVICE", "LAM_ERR_OOM",
    "LAM_ERR_IO", "LAM_ERR_FORMAT", "LAM_ERR_STATE", "LAM_ERR_BACKEND",
    "LAM_ERR_UNSUPPORTED",
};
_Static_assert(sizeof status_names / sizeof *status_names == LAM_STATUS_COUNT,
               "status_names must name every lam_status");

lam_status lam_last_status(void) { return last_status; }
unsigned long long lam_error_serial(void) { return error_serial; }
const char *lam_last_error(void) { return last_message; }

void lam_clear_error(void) {
    last_status = LAM_OK;
    last_message[0] = '\0';
}

const char *lam_status_name(lam_status s) {
    return (unsigned)s < LAM_STATUS_COUNT ? status_names[s] : "LAM_STATUS_UNKNOWN";
}

/* Debug aid only: the user asked for it with LAMINA_ABORT_ON_ERROR=1. */
static void abort_with_backtrace(void) {
    void *frames[64];
    int n = backtrace(frames, 64);
    fprintf(stderr, "lamina: %s: %s\n", lam_status_name(last_status), last_message);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    abort(); /* LAMINA_ABORT_ON_ERROR */
}

lam_status lam_set_error(lam_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    last_status = s;
    error_serial++;
    const char *env = getenv("LAMINA_ABORT_ON_ERROR");
    if (env && strcmp(env, "1") == 0) abort_with_backtrace();
    return s;
}

void lam_null_arg(const char *op) {
    if (last_status == LAM_OK) lam_set_error(LAM_ERR_ARG, "%s: argument is NULL", op);
}
