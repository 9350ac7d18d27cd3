/* Tensors: reference-counted handles to strided data on one device.
 *
 *   lam_tensor *a = lam_zeros(LAM_SHAPE(2, 3), dev);              // f32 zeros
 *   float v[6] = {1, 2, 3, 4, 5, 6};
 *   lam_tensor *b = lam_from_data(v, LAM_F32, LAM_SHAPE(2, 3), dev);
 *   lam_tensor *t = lam_transpose(b, 0, 1);                       // a view: no copy
 *   float out[6];
 *   lam_read(t, out, sizeof out);                                 // row-major copy to host
 *
 * Passing dev = NULL means the default device.
 *
 * Ownership: every call that returns a new tensor puts it in the innermost scope.
 *   lam_scope_begin(); ... lam_scope_end();   releases every tensor made in between
 *   lam_keep(t)      takes t out of its scope: you own it and call lam_release(t)
 *   lam_retain(t)    adds a reference you own
 * A thread that opens no scope puts tensors in its root scope, which is never ended.
 */
#ifndef LAMINA_TENSOR_H
#define LAMINA_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lamina/device.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LAM_MAX_DIMS 8

typedef struct lam_tensor lam_tensor;

/* Element types. f16 (IEEE half) is a storage type: ops read it, compute in f32 and round
 * the result back (to nearest even), on every device. */
typedef enum { LAM_F32, LAM_I32, LAM_I64, LAM_F16, LAM_DTYPE_COUNT } lam_dtype;
LAM_API const char *lam_dtype_name(lam_dtype dt);   /* "f32" */
LAM_API size_t lam_dtype_size(lam_dtype dt);        /* bytes per element */
LAM_API bool lam_dtype_is_float(lam_dtype dt);      /* f32 and f16 */

/* LAM_SHAPE(2, 3) expands to the two arguments "int ndim, const int64_t *shape". */
#define LAM_SHAPE(...) \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__}

/* --- creation ------------------------------------------------------------------------ */
LAM_API lam_tensor *lam_empty(lam_dtype dt, int ndim, const int64_t *shape, lam_device *dev);
LAM_API lam_tensor *lam_zeros(int ndim, const int64_t *shape, lam_device *dev);
LAM_API lam_tensor *lam_ones(int ndim, const int64_t *shape, lam_device *dev);
LAM_API lam_tensor *lam_full(float value, int ndim, const int64_t *shape, lam_device *dev);
LAM_API lam_tensor *lam_scalar(float value, lam_device *dev);   /* a 0-dim tensor */
/* Copies numel * lam_dtype_size(dt) bytes of row-major data from host memory. */
LAM_API lam_tensor *lam_from_data(const void *data, lam_dtype dt, int ndim, const int64_t *shape,
                                  lam_device *dev);
LAM_API lam_tensor *lam_zeros_like(const lam_tensor *t);
LAM_API lam_tensor *lam_ones_like(const lam_tensor *t);
LAM_API lam_tensor *lam_full_like(const lam_tensor *t, float value);

/* Random numbers from a counter-based (Philox 4x32-10) generator: the same seed gives the
 * same numbers on every device. Each call advances the shared counter by numel. */
LAM_API void lam_manual_seed(uint64_t seed);
/* The calling thread's generator: its key and how many numbers it has handed out. Saving
 * and restoring it (checkpoints do) makes a resumed run draw what a straight run draws. */
typedef struct {
    uint64_t seed, counter;
} lam_rng;
LAM_API lam_rng lam_rng_state(void);
LAM_API void lam_rng_set_state(lam_rng state);
LAM_API lam_tensor *lam_rand(int ndim, const int64_t *shape, lam_device *dev);   /* U[0, 1) */
LAM_API lam_tensor *lam_randn(int ndim, const int64_t *shape, lam_device *dev);  /* N(0, 1) */
LAM_API lam_tensor *lam_rand_uniform(float lo, float hi, int ndim, const int64_t *shape,
                                     lam_device *dev);

/* --- properties ---------------------------------------------------------------------- */
LAM_API int lam_ndim(const lam_tensor *t);
LAM_API int64_t lam_dim(const lam_tensor *t, int i);        /* i < 0 counts from the end */
LAM_API const int64_t *lam_shape(const lam_tensor *t);
LAM_API int64_t lam_numel(const lam_tensor *t);
LAM_API lam_dtype lam_tensor_dtype(const lam_tensor *t);
LAM_API lam_device *lam_tensor_device(const lam_tensor *t);
LAM_API bool lam_is_contiguous(const lam_tensor *t);
/* Writes "(2, 3)" into buf; returns buf. */
LAM_API char *lam_shape_str(const lam_tensor *t, char *buf, size_t size);

/* --- moving data --------------------------------------------------------------------- */
/* Copies the tensor, row-major, into dst; fails if dst_bytes is too small. Waits. */
LAM_API lam_status lam_read(const lam_tensor *t, void *dst, size_t dst_bytes);
/* Overwrites t's elements with row-major host data of t's dtype and numel. */
LAM_API lam_status lam_write(lam_tensor *t, const void *src, size_t src_bytes);
/* The value of a one-element tensor, as a double. Waits. On any error (t is NULL because
 * an earlier op failed, t has more than one element, the device failed) it returns NAN and
 * leaves the reason in lam_last_error(). NAN compares false with everything, so check
 * isnan() before a comparison decides anything: `while (lam_item(s) > 1)` would just stop. */
LAM_API double lam_item(const lam_tensor *t);
/* A copy on dev; on t's own device a new handle sharing t's storage (no copy). */
LAM_API lam_tensor *lam_to(lam_tensor *t, lam_device *dev);
/* A copy converted to another dtype (f32 <-> i32/i64; floats truncate toward zero). */
LAM_API lam_tensor *lam_to_dtype(lam_tensor *t, lam_dtype dt);
/* A contiguous row-major copy; a new handle sharing t's storage if t is contiguous already. */
LAM_API lam_tensor *lam_contiguous(lam_tensor *t);
LAM_API lam_tensor *lam_clone(lam_tensor *t);
/* Copies src into dst in place: same shape and dtype, any devices, dst may be a view. */
LAM_API lam_status lam_copy_(lam_tensor *dst, lam_tensor *src);
/* Sets every element of t (which may be a view) to value, in place. */
LAM_API lam_status lam_fill_(lam_tensor *t, float value);

/* --- views: share storage, no copy ------------------------------------------------------ */
/* One dimension may be -1. A view when the strides allow it, else a copy. */
LAM_API lam_tensor *lam_reshape(lam_tensor *t, int ndim, const int64_t *shape);
LAM_API lam_tensor *lam_transpose(lam_tensor *t, int d0, int d1);
LAM_API lam_tensor *lam_permute(lam_tensor *t, const int *order);
/* Elements start, start+step, ... < end along dim (end may be past the size). */
LAM_API lam_tensor *lam_slice(lam_tensor *t, int dim, int64_t start, int64_t end, int64_t step);
LAM_API lam_tensor *lam_unsqueeze(lam_tensor *t, int dim);
LAM_API lam_tensor *lam_squeeze(lam_tensor *t, int dim);
LAM_API lam_tensor *lam_flatten(lam_tensor *t, int start_dim, int end_dim);
/* Broadcasts size-1 dimensions to shape with stride 0 (a view). */
LAM_API lam_tensor *lam_expand(lam_tensor *t, int ndim, const int64_t *shape);

/* --- ownership ----------------------------------------------------------------------- */
LAM_API lam_tensor *lam_retain(lam_tensor *t);
LAM_API void lam_release(lam_tensor *t);
LAM_API lam_tensor *lam_keep(lam_tensor *t);
LAM_API void lam_scope_begin(void);
LAM_API lam_status lam_scope_end(void);
/* Number of tensor handles alive in this process (for leak checks). */
LAM_API int64_t lam_live_tensors(void);

#ifdef __cplusplus
}
#endif
#endif
