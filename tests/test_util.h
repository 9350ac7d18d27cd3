/* Shared test helpers: the devices under test, host copies of tensors, error norms and
 * a naive double-precision reference for matmul. */
#ifndef LAMINA_TEST_UTIL_H
#define LAMINA_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lamina.h>

#define TU_MAX_DEVICES 16

/* A cmocka assertion that a lamina call returned LAM_OK, naming the call and the error. */
#define assert_ok(expr)                                                                              \
    do {                                                                                             \
        lam_status st_ = (expr);                                                                     \
        if (st_ != LAM_OK) fail_msg("%s: %s: %s", #expr, lam_status_name(st_), lam_last_error());   \
    } while (0)

/* The devices to test: every device, or those named in LAMINA_TEST_DEVICES
 * ("cpu,opencl:0:0"). Returns how many were written to out. */
int tu_devices(lam_device **out, int max);

/* ||got - ref||_2 / max(||ref||_2, 1e-30). */
double tu_norm_err(const double *got, const double *ref, int64_t n);
/* The largest |got - ref|. */
double tu_max_abs_diff(const double *got, const double *ref, int64_t n);

/* A malloc'd row-major copy of t's elements as doubles (f32, i32 or i64); NULL on error. */
double *tu_read(const lam_tensor *t);
/* lam_from_data of doubles converted to f32. */
lam_tensor *tu_from_doubles(const double *v, int ndim, const int64_t *shape, lam_device *dev);
/* Deterministic pseudo-random doubles in [lo, hi), exactly representable as f32. */
void tu_fill_uniform(double *v, int64_t n, double lo, double hi, uint64_t seed);

/* Row-major strides of shape (elements). */
void tu_strides(int ndim, const int64_t *shape, int64_t *strides);
/* Numpy-style broadcast of two shapes; false if they do not fit. */
bool tu_broadcast(int na, const int64_t *a, int nb, const int64_t *b, int *nout, int64_t *out);
/* The flat index into a (shape sa, ndim na) matching flat index i of the broadcast
 * output shape so (ndim no). */
int64_t tu_bcast_index(int64_t i, int no, const int64_t *so, int na, const int64_t *sa);

/* Naive double matmul with NumPy semantics (1-D operands, broadcast batch dims).
 * Writes the output shape to *nout/out_shape; returns a malloc'd result or NULL. */
double *tu_ref_matmul(const double *a, int na, const int64_t *sa, const double *b, int nb,
                      const int64_t *sb, int *nout, int64_t *out_shape);

/* Process resident memory in bytes (/proc/self/statm). */
int64_t tu_rss_bytes(void);

/* A whole file in a malloc'd buffer (one spare byte), its size in *n; NULL if unreadable. */
unsigned char *tu_slurp(const char *path, size_t *n);

/* The largest |a - b| over two modules' parameters in registration order; -1 when they
 * differ in count or sizes, or a read fails. */
double tu_max_param_diff(lam_module *a, lam_module *b);

#endif
