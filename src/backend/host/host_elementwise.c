/* Host backend: fill, strided copy with dtype conversion, and the elementwise ops of the op
 * table (cl/op_table.h), the same maths the OpenCL kernels compile. f32 operands that are
 * contiguous run loops generated per op from the table (the op folded in, vectorized);
 * everything else (strides, f16, gradients of binary ops, ternary ops) one general loop. */
#include <stdlib.h>
#include <string.h>

#include "backend/host/host.h"
#include "core/error.h"

/* Contiguous f32: unary ops and their gradients, binary ops with a tensor or a scalar, through
 * the loops built for this CPU (host_ew_loops.h). False when op has no specialized loop. */
static bool fast_loop(lam_ew_op op, float *o, const float *A, const float *B, float sb, bool b_scalar, int64_t n) {
#ifdef LAM_HOST_AVX2
    if (__builtin_cpu_supports("avx2"))   /* a load from libgcc's table, filled at start-up */
        return lam_host_ew_loops_avx2(op, o, A, B, sb, b_scalar, n);
#endif
    return lam_host_ew_loops(op, o, A, B, sb, b_scalar, n);
}

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

/* Same-dtype strided copy of elements of width W bytes: bits, no conversion; one coalesced
 * row at a time (offsets per row, strides inside it). */
#define BIT_COPY(T)                                                                            \
    do {                                                                                       \
        T *o_ = dv.buf;                                                                        \
        const T *s_ = sv.buf;                                                                  \
        _Pragma("omp parallel for LAM_HOST_THREADS if (n > LAM_HOST_PAR_MIN)")                     \
        for (int64_t r = 0; r < rows; ++r) {                                                   \
            int64_t od = lam_layout_index(Ld, r * inner), os = lam_layout_index(Ls, r * inner); \
            for (int64_t i = 0; i < inner; ++i) o_[od + i * sd] = s_[os + i * ss];             \
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
    lam_view dv = *dst, sv = *src;
    lam_views_coalesce((lam_view *const[]){&dv, &sv}, 2);
    int nd = dv.ndim;
    int64_t inner = nd ? dv.shape[nd - 1] : 1, rows = inner ? n / inner : 0;
    int64_t sd = nd ? dv.stride[nd - 1] : 0, ss = nd ? sv.stride[nd - 1] : 0;
    lam_layout Ls = lam_view_layout(&sv), Ld = lam_view_layout(&dv);
    if (dst->dtype == src->dtype) {
        if (es == 8) BIT_COPY(uint64_t);
        else if (es == 4) BIT_COPY(uint32_t);
        else BIT_COPY(uint16_t);
        return LAM_OK;
    }
    for (int64_t r = 0; r < rows; ++r) {
        int64_t od = lam_layout_index(Ld, r * inner), os = lam_layout_index(Ls, r * inner);
        for (int64_t i = 0; i < inner; ++i) store(&dv, od + i * sd, load(&sv, os + i * ss));
    }
    return LAM_OK;
}


static bool contiguous_f32(const lam_operand *x) {
    return x->scalar || (x->view.dtype == LAM_F32 && lam_view_contiguous(&x->view));
}

/* Contiguous f32 operands, or a broadcast pattern that is contiguous row by row (a bias
 * added to every row, a per-row scale): the specialized loops, row by row. */
static bool fast_rows(lam_ew_op op, const lam_view *dst, const lam_operand *in, int64_t rows, int64_t inner) {
    const lam_view *a = &in[0].view, *b = &in[1].view;
    int nd = dst->ndim;
    bool b_rows = in[1].scalar || b->dtype == LAM_F32;
    if (dst->dtype != LAM_F32 || in[0].scalar || a->dtype != LAM_F32 || !b_rows || !in[2].scalar) return false;
    if (nd > 0 && (a->stride[nd - 1] != 1 || (!in[1].scalar && b->stride[nd - 1] > 1))) return false;
    lam_layout La = lam_view_layout(a), Lb = in[1].scalar ? La : lam_view_layout(b);
    bool b_scalar = in[1].scalar || (nd > 0 && b->stride[nd - 1] == 0), handled = true;
    float *o = (float *)dst->buf + dst->offset;
#pragma omp parallel for LAM_HOST_THREADS if (rows * inner > LAM_HOST_PAR_MIN && rows > 1) reduction(&& : handled)
    for (int64_t r = 0; r < rows; ++r) {
        const float *A = (const float *)a->buf + lam_layout_index(La, r * inner);
        const float *B = in[1].scalar ? NULL : (const float *)b->buf + lam_layout_index(Lb, r * inner);
        float sb = in[1].scalar ? in[1].value : b_scalar ? *B : 0.0f;
        handled = handled && fast_loop(op, o + r * inner, A, B, sb, b_scalar, inner);
    }
    return handled;
}

lam_status lam_host_elementwise(lam_device *d, lam_ew_op op, const lam_view *dst, const lam_operand *in) {
    (void)d;
    int64_t n = lam_view_numel(dst);
    if (dst->dtype == LAM_F32 && !in[0].scalar && contiguous_f32(&in[0]) && contiguous_f32(&in[1]) && in[2].scalar) {
        const float *A = (const float *)in[0].view.buf + in[0].view.offset;
        const float *B = in[1].scalar ? NULL : (const float *)in[1].view.buf + in[1].view.offset;
        if (fast_loop(op, (float *)dst->buf + dst->offset, A, B, in[1].value, in[1].scalar, n)) return LAM_OK;
    }
    /* Everything else, one coalesced row at a time: offsets per row, strides inside it. */
    lam_view o = *dst;
    lam_operand v[LAM_EW_INPUTS];
    lam_view *views[LAM_EW_INPUTS + 1] = {&o};
    int nv = 1;
    for (int k = 0; k < LAM_EW_INPUTS; ++k) {
        v[k] = in[k];
        if (!v[k].scalar) views[nv++] = &v[k].view;
    }
    lam_views_coalesce(views, nv);
    int nd = o.ndim;
    int64_t inner = nd ? o.shape[nd - 1] : 1, rows = inner ? n / inner : 0;
    if (fast_rows(op, &o, v, rows, inner)) return LAM_OK;
    lam_layout L[LAM_EW_INPUTS];
    int64_t step[LAM_EW_INPUTS] = {0};
    for (int k = 0; k < LAM_EW_INPUTS; ++k) {
        if (v[k].scalar) continue;
        L[k] = lam_view_layout(&v[k].view);
        step[k] = nd ? v[k].view.stride[nd - 1] : 0;
    }
#pragma omp parallel for LAM_HOST_THREADS if (n > LAM_HOST_PAR_MIN)
    for (int64_t r = 0; r < rows; ++r) {
        int64_t at[LAM_EW_INPUTS] = {0};
        for (int k = 0; k < LAM_EW_INPUTS; ++k)
            if (!v[k].scalar) at[k] = lam_layout_index(L[k], r * inner);
        for (int64_t i = 0; i < inner; ++i) {
            float x[LAM_EW_INPUTS];
            for (int k = 0; k < LAM_EW_INPUTS; ++k) x[k] = v[k].scalar ? v[k].value : lam_host_ld(&v[k].view, at[k] + i * step[k]);
            lam_host_st(&o, o.offset + r * inner + i, lam_ew_apply(op, x[0], x[1], x[2]));
        }
    }
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
