/* Host backend: fill, strided copy with dtype conversion, and the elementwise ops of the op
 * table (cl/op_table.h), the same maths the OpenCL kernels compile. f32 operands that are
 * contiguous run loops generated per op from the table (the op folded in, vectorized);
 * everything else (strides, f16, gradients of binary ops, ternary ops) one general loop. */
#include <stdlib.h>
#include <string.h>

#include "backend/host/host.h"
#include "core/error.h"

lam_status lam_host_fill(lam_device *d, const lam_view *dst, uint64_t bits) {
    (void)d;
    int64_t n = lam_view_numel(dst);
    switch (lam_dtype_size(dst->dtype)) {
    case 8: {
        int64_t *p = (int64_t *)dst->buf + dst->offset, v;
        memcpy(&v, &bits, sizeof v);
        for (int64_t i = 0; i < n; ++i) p[i] = v;
        break;
    }
    case 4: {
        uint32_t *p = (uint32_t *)dst->buf + dst->offset, v = (uint32_t)bits;
        for (int64_t i = 0; i < n; ++i) p[i] = v;
        break;
    }
    default: {
        uint16_t *p = (uint16_t *)dst->buf + dst->offset, v = (uint16_t)bits;
        for (int64_t i = 0; i < n; ++i) p[i] = v;
        break;
    }
    }
    return LAM_OK;
}

/* Element at of a view converted to double (exact for f32, f16, i32 and |i64| < 2^53). */
static double load(const lam_view *v, int64_t at) {
    switch (v->dtype) {
    case LAM_I32: return ((const int32_t *)v->buf)[at];
    case LAM_I64: return (double)((const int64_t *)v->buf)[at];
    default: return lam_host_ld(v, at);
    }
}

/* Floats to integers truncate toward zero, like a C cast. */
static void store(const lam_view *v, int64_t at, double x) {
    switch (v->dtype) {
    case LAM_I32: ((int32_t *)v->buf)[at] = (int32_t)x; break;
    case LAM_I64: ((int64_t *)v->buf)[at] = (int64_t)x; break;
    default: lam_host_st(v, at, (float)x); break;
    }
}

/* Strided operands are walked row by row: dimensions merge where every operand steps
 * uniformly across them, each row (all dims but the last) is located once, and its elements
 * follow the last dim's stride, so the index maths is per row, not per element. */
typedef struct {
    int ndim, count;
    int64_t shape[LAM_LAYOUT_DIMS];
    int64_t offset[LAM_EW_INPUTS + 1];
    int64_t stride[LAM_EW_INPUTS + 1][LAM_LAYOUT_DIMS];
} walk;

/* count views of one shape (v[0]'s); NULL entries (scalars) are skipped. */
static void walk_init(walk *w, int count, const lam_view *const *v) {
    w->ndim = 0;
    w->count = count;
    for (int k = 0; k < count; ++k) w->offset[k] = v[k] ? v[k]->offset : 0;
    for (int d = 0; d < v[0]->ndim; ++d) {
        int64_t size = v[0]->shape[d];
        if (size == 1) continue;
        bool merge = w->ndim > 0;
        for (int k = 0; merge && k < count; ++k)
            merge = !v[k] || w->stride[k][w->ndim - 1] == v[k]->stride[d] * size;
        int at = merge ? w->ndim - 1 : w->ndim++;
        w->shape[at] = merge ? w->shape[at] * size : size;
        for (int k = 0; k < count; ++k) w->stride[k][at] = v[k] ? v[k]->stride[d] : 0;
    }
    if (w->ndim == 0) {
        w->ndim = 1;
        w->shape[0] = 1;
        for (int k = 0; k < count; ++k) w->stride[k][0] = 0;
    }
}

static inline int64_t walk_cols(const walk *w) { return w->shape[w->ndim - 1]; }
static inline int64_t walk_step(const walk *w, int k) { return w->stride[k][w->ndim - 1]; }

/* Storage index of element 0 of row `row` of operand k. */
static inline int64_t walk_row(const walk *w, int k, int64_t row) {
    int64_t off = w->offset[k];
    for (int d = w->ndim - 2; d >= 0; --d) {
        off += row % w->shape[d] * w->stride[k][d];
        row /= w->shape[d];
    }
    return off;
}

/* Same-dtype strided copy of elements of width W bytes: bits, no conversion. */
#define BIT_COPY(T)                                                                            \
    do {                                                                                       \
        T *o = dst->buf;                                                                       \
        const T *s = src->buf;                                                                 \
        _Pragma("omp parallel for if (n > LAM_HOST_PAR_MIN)")                                  \
        for (int64_t r = 0; r < rows; ++r) {                                                   \
            int64_t od = walk_row(&w, 0, r), os = walk_row(&w, 1, r);                          \
            for (int64_t j = 0; j < cols; ++j) o[od + j * sd] = s[os + j * ss];                \
        }                                                                                      \
    } while (0)

lam_status lam_host_copy(lam_device *d, const lam_view *dst, const lam_view *src) {
    (void)d;
    int64_t n = lam_view_numel(dst);
    size_t es = lam_dtype_size(dst->dtype);
    if (dst->dtype == src->dtype && lam_view_contiguous(dst) && lam_view_contiguous(src)) {
        memcpy((char *)dst->buf + dst->offset * (int64_t)es, (const char *)src->buf + src->offset * (int64_t)es,
               (size_t)n * es);
        return LAM_OK;
    }
    if (n == 0) return LAM_OK;
    walk w;
    walk_init(&w, 2, (const lam_view *const[]){dst, src});
    const int64_t cols = walk_cols(&w), rows = n / cols, sd = walk_step(&w, 0), ss = walk_step(&w, 1);
    if (dst->dtype == src->dtype) {
        if (es == 8) BIT_COPY(uint64_t);
        else if (es == 4) BIT_COPY(uint32_t);
        else BIT_COPY(uint16_t);
        return LAM_OK;
    }
    for (int64_t r = 0; r < rows; ++r) {
        int64_t od = walk_row(&w, 0, r), os = walk_row(&w, 1, r);
        for (int64_t j = 0; j < cols; ++j) store(dst, od + j * sd, load(src, os + j * ss));
    }
    return LAM_OK;
}

#define PAR_LOOP(...)                                                                          \
    _Pragma("omp parallel for if (n > LAM_HOST_PAR_MIN)") for (int64_t i = 0; i < n; ++i) {    \
        __VA_ARGS__;                                                                           \
    }

/* Contiguous f32: unary ops and their gradients, binary ops with a tensor or a scalar.
 * False when op has no specialized loop. */
static bool fast_loop(lam_ew_op op, float *o, const float *A, const float *B, float sb, bool b_scalar, int64_t n) {
    switch (op) {
#define FAST_UNARY(NAME, name, saves, f, df)                                                   \
    case LAM_EW_##NAME: PAR_LOOP(const float x = A[i]; o[i] = (f)) return true;                \
    case LAM_EW_##NAME##_GRAD:                                                                 \
        if (b_scalar) return false;                                                            \
        PAR_LOOP(const float s = A[i], g = B[i]; (void)s; o[i] = (df)) return true;
#define FAST_BINARY(NAME, name, kind, f, da, db)                                               \
    case LAM_EW_##NAME:                                                                        \
        if (b_scalar) {                                                                        \
            const float b = sb;                                                                \
            PAR_LOOP(const float a = A[i]; o[i] = (f))                                         \
        } else {                                                                               \
            PAR_LOOP(const float a = A[i], b = B[i]; o[i] = (f))                               \
        }                                                                                      \
        return true;
        LAM_UNARY_OPS(FAST_UNARY)
        LAM_BINARY_OPS(FAST_BINARY)
#undef FAST_UNARY
#undef FAST_BINARY
    default: return false;
    }
}

static bool contiguous_f32(const lam_operand *x) {
    return x->scalar || (x->view.dtype == LAM_F32 && lam_view_contiguous(&x->view));
}

/* One row of a strided elementwise op: the specialized f32 loop when the row is contiguous
 * in dst and in[0] and in[1] is contiguous, a per-row constant or a scalar; else the
 * general loop through lam_ew_apply. */
static void elementwise_row(lam_ew_op op, const lam_view *dst, const lam_operand *in, const walk *w, int64_t r,
                            bool f32) {
    const int64_t cols = walk_cols(w);
    int64_t base[LAM_EW_INPUTS + 1], step[LAM_EW_INPUTS + 1];
    for (int k = 0; k <= LAM_EW_INPUTS; ++k) {
        base[k] = walk_row(w, k, r);
        step[k] = walk_step(w, k);
    }
    if (f32 && step[0] == 1 && !in[0].scalar && step[1] == 1 && (in[1].scalar || step[2] <= 1)) {
        const float *A = (const float *)in[0].view.buf + base[1];
        bool b_const = in[1].scalar || step[2] == 0;
        const float *B = in[1].scalar ? NULL : (const float *)in[1].view.buf + base[2];
        float sb = in[1].scalar ? in[1].value : b_const ? *B : 0.0f;
        if (fast_loop(op, (float *)dst->buf + base[0], A, b_const ? NULL : B, sb, b_const, cols)) return;
    }
    for (int64_t j = 0; j < cols; ++j) {
        float v[LAM_EW_INPUTS];
        for (int k = 0; k < LAM_EW_INPUTS; ++k)
            v[k] = in[k].scalar ? in[k].value : lam_host_ld(&in[k].view, base[k + 1] + j * step[k + 1]);
        lam_host_st(dst, base[0] + j * step[0], lam_ew_apply(op, v[0], v[1], v[2]));
    }
}

lam_status lam_host_elementwise(lam_device *d, lam_ew_op op, const lam_view *dst, const lam_operand *in) {
    (void)d;
    int64_t n = lam_view_numel(dst);
    if (dst->dtype == LAM_F32 && !in[0].scalar && contiguous_f32(&in[0]) && contiguous_f32(&in[1])) {
        const float *A = (const float *)in[0].view.buf + in[0].view.offset;
        const float *B = in[1].scalar ? NULL : (const float *)in[1].view.buf + in[1].view.offset;
        if (fast_loop(op, (float *)dst->buf + dst->offset, A, B, in[1].value, in[1].scalar, n)) return LAM_OK;
    }
    if (n == 0) return LAM_OK;
    walk w;
    const lam_view *views[LAM_EW_INPUTS + 1] = {dst};
    bool f32 = dst->dtype == LAM_F32;
    for (int k = 0; k < LAM_EW_INPUTS; ++k) {
        views[k + 1] = in[k].scalar ? NULL : &in[k].view;
        f32 = f32 && (in[k].scalar || in[k].view.dtype == LAM_F32);
    }
    walk_init(&w, LAM_EW_INPUTS + 1, views);
    const int64_t rows = n / walk_cols(&w);
#pragma omp parallel for if (n > LAM_HOST_PAR_MIN)
    for (int64_t r = 0; r < rows; ++r) elementwise_row(op, dst, in, &w, r, f32);
    return LAM_OK;
}

float *lam_host_f32_begin(const lam_view *v, int64_t count, bool load) {
    if (v->dtype == LAM_F32) return (float *)v->buf + v->offset;
    float *p = malloc((size_t)(count > 0 ? count : 1) * sizeof *p);
    if (!p) LAM_FAIL_NULL(LAM_ERR_OOM, "cpu: out of memory converting %lld f16 elements", (long long)count);
    for (int64_t i = 0; load && i < count; ++i) p[i] = lam_host_ld(v, v->offset + i);
    return p;
}

void lam_host_f32_done(const lam_view *v, float *p, int64_t count, bool store_back) {
    if (v->dtype == LAM_F32 || !p) return;
    for (int64_t i = 0; store_back && i < count; ++i) lam_host_st(v, v->offset + i, p[i]);
    free(p);
}
