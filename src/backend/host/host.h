/* Host backend internals: the vtable entries, one file per op family. */
#ifndef LAM_HOST_H
#define LAM_HOST_H

#include "backend/view.h"
#include "cl/window.h"
#include "core/dtype.h"

/* Parallelize loops only when there is enough work to pay for the threads: 262144 elements,
 * or LAMINA_HOST_PAR_MIN (a testing switch: 1 runs every loop's parallel path). */
int64_t lam_host_par_min(void);
#define LAM_HOST_PAR_MIN lam_host_par_min()

/* The cpu device's thread count (host_threads.c), applied to the calling thread's OpenMP,
 * which OpenBLAS's OpenMP build follows too. */
int lam_host_threads(void);
/* In every parallel loop: the count above, whichever thread runs the op. */
#define LAM_HOST_THREADS num_threads(lam_host_threads())

/* Element at of a float view (f32 or f16 storage), as float, and back. */
static inline float lam_host_ld(const lam_view *v, int64_t at) {
    return v->dtype == LAM_F16 ? lam_f16_to_f32(((const uint16_t *)v->buf)[at]) : ((const float *)v->buf)[at];
}
static inline void lam_host_st(const lam_view *v, int64_t at, float x) {
    if (v->dtype == LAM_F16) ((uint16_t *)v->buf)[at] = lam_f32_to_f16(x);
    else ((float *)v->buf)[at] = x;
}

/* The lam_window of a conv or pooling kernel, from its first 12 ints. */
static inline lam_window lam_host_window(const int64_t *i) {
    return (lam_window){i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8], i[9], i[10], i[11]};
}

/* The outputs [*lo, *hi) of [0, out) whose window tap lands inside the input along one axis:
 * 0 <= o s + shift < in (no division for stride 1, the common case). */
static inline void lam_host_inside(int64_t shift, int64_t s, int64_t in, int64_t out, int64_t *lo, int64_t *hi) {
    if (s == 1) {
        *lo = shift >= 0 ? 0 : -shift;
        *hi = in - shift;
    } else {
        *lo = shift >= 0 ? 0 : (-shift + s - 1) / s;
        *hi = in - shift <= 0 ? 0 : (in - shift - 1) / s + 1;
    }
    if (*hi > out) *hi = out;
    if (*hi < 0) *hi = 0;
    if (*lo > *hi) *lo = *hi;
}

/* f32 access to count elements of a contiguous float view from its offset: the view's own
 * memory when it is f32, else a converted copy (lam_host_f32_done writes it back if asked
 * and frees it). NULL + LAM_ERR_OOM when the copy cannot be made. */
float *lam_host_f32_begin(const lam_view *v, int64_t count, bool load);
void lam_host_f32_done(const lam_view *v, float *p, int64_t count, bool store);

lam_status lam_host_fill(lam_device *d, const lam_view *dst, uint64_t bits);
lam_status lam_host_copy(lam_device *d, const lam_view *dst, const lam_view *src);
lam_status lam_host_elementwise(lam_device *d, lam_ew_op op, const lam_view *dst, const lam_operand *in);
lam_status lam_host_reduce(lam_device *d, lam_reduce_op op, const lam_view *dst, const lam_view *src,
                           int64_t outer, int64_t len, int64_t inner);
lam_status lam_host_softmax(lam_device *d, bool log, const lam_view *dst, const lam_view *src, int64_t rows,
                            int64_t cols);
lam_status lam_host_gemm(lam_device *d, const lam_gemm_args *g);
lam_status lam_host_kernel(lam_device *d, lam_kernel_id id, const lam_kernel_args *a);
/* host_ew_loops.h, built twice: the contiguous f32 elementwise loops (false: no loop for op). */
bool lam_host_ew_loops(lam_ew_op op, float *o, const float *A, const float *B, float sb, bool b_scalar, int64_t n);
bool lam_host_ew_loops_avx2(lam_ew_op op, float *o, const float *A, const float *B, float sb, bool b_scalar, int64_t n);
lam_status lam_host_conv2d(lam_device *d, const lam_conv_args *a);
/* host_conv_dnnl.c: the same through oneDNN where it is built in and takes the shape (true,
 * the status in *st); false: lamina's own kernels run it. */
bool lam_host_conv2d_dnnl(lam_device *d, const lam_conv_args *a, lam_status *st);
bool lam_host_conv2d_backward_dnnl(lam_device *d, const lam_conv_args *a, lam_status *st);
lam_status lam_host_conv2d_backward(lam_device *d, const lam_conv_args *a);

/* host_conv.c: col (C kh kw, images OH OW) from images x; dx from dcol, gathered. Each runs
 * its own threads on big blocks, and one inside a parallel region. */
void lam_host_im2col_f32(float *col, const float *x, const lam_window *g, int64_t C, int64_t images);
void lam_host_col2im_f32(float *dx, const float *dcol, const lam_window *g, int64_t C, int64_t images);

/* The direct kernels (backend/kernels.h), one function each: lam_host_k_<name>. */
#define LAM_HOST_KERNEL_DECL(NAME, name, file, nv, ni, nf, group) lam_status lam_host_k_##name(const lam_kernel_args *a);
LAM_KERNELS(LAM_HOST_KERNEL_DECL)

#endif
