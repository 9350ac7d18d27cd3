/* Errors: every failure is a status plus a thread-local message naming the call and shapes.
 *
 *   lam_tensor *y = lam_matmul(a, b);
 *   if (!y) fprintf(stderr, "%s\n", lam_last_error());
 *   // lam_matmul: inner dimensions differ: (2, 20) @ (30, 256)
 *
 * Set LAMINA_ABORT_ON_ERROR=1 to turn errors into aborts with a backtrace while debugging.
 */
#ifndef LAMINA_ERROR_H
#define LAMINA_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define LAM_API
#else
#define LAM_API __attribute__((visibility("default")))
#endif

typedef enum {
    LAM_OK = 0,
    LAM_ERR_ARG,     /* a NULL or out-of-range argument */
    LAM_ERR_SHAPE,   /* shapes that do not fit the op */
    LAM_ERR_DEVICE,  /* unknown device, or tensors on two devices */
    LAM_ERR_OOM,     /* out of memory, after the pool freed its cache */
    LAM_ERR_IO,      /* a file could not be read or written */
    LAM_ERR_FORMAT,  /* a file or string is malformed */
    LAM_ERR_STATE,   /* a call out of order (ending a scope that was never begun, ...) */
    LAM_ERR_BACKEND, /* the OpenCL runtime or BLAS failed */
    LAM_ERR_UNSUPPORTED, /* the device does not do this (kernel statistics on cpu) */
    LAM_STATUS_COUNT
} lam_status;

/* The status of the last failure on this thread, LAM_OK if none since lam_clear_error. */
LAM_API lam_status lam_last_status(void);
/* Its message ("" if none). The pointer stays valid until the next error on this thread. */
LAM_API const char *lam_last_error(void);
LAM_API void lam_clear_error(void);
/* The name of a status: "LAM_ERR_SHAPE". */
LAM_API const char *lam_status_name(lam_status s);

#ifdef __cplusplus
}
#endif
#endif
