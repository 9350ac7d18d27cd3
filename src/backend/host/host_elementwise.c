/* Host backend: fill, strided copy with dtype conversion, random numbers, elementwise maths.
 * The per-element maths is cl/common.h, the same text the OpenCL kernels compile. */
#include <string.h>

#include "backend/host/host.h"

lam_status lam_host_fill(lam_device *d, const lam_view *dst, uint64_t bits) {
    (void)d;
    int64_t n = lam_view_numel(dst);
    if (dst->dtype == LAM_I64) {
        int64_t *p = (int64_t *)dst->buf + dst->offset, v;
        memcpy(&v, &bits, sizeof v);
        for (int64_t i = 0; i < n; ++i) p[i] = v;
    } else {
        uint32_t *p = (uint32_t *)dst->buf + dst->offset, v = (uint32_t)bits;
        for (int64_t i = 0; i < n; ++i) p[i] = v;
    }
    return LAM_OK;
}

/* Element i of a view converted to double (exact for f32, i32 and |i64| < 2^53). */
static double load(const lam_view *v, int64_t at) {
    switch (v->dtype) {
    case LAM_F32: return ((const float *)v->buf)[at];
    case LAM_I32: return ((const int32_t *)v->buf)[at];
    default: return (double)((const int64_t *)v->buf)[at];
    }
}

static void store(const lam_view *v, int64_t at, double x) {
    switch (v->dtype) {
    case LAM_F32: ((float *)v->buf)[at] = (float)x; break;
    case LAM_I32: ((int32_t *)v->buf)[at] = (int32_t)x; break;
    default: ((int64_t *)v->buf)[at] = (int64_t)x; break;
    }
}

lam_status lam_host_copy(lam_device *d, const lam_view *dst, const lam_view *src) {
    (void)d;
    int64_t n = lam_view_numel(dst);
    size_t es = lam_dtype_size(dst->dtype);
    bool dst_contiguous = lam_view_contiguous(dst);
    if (dst->dtype == src->dtype && dst_contiguous && lam_view_contiguous(src)) {
        memcpy((char *)dst->buf + dst->offset * (int64_t)es, (const char *)src->buf + src->offset * (int64_t)es,
               (size_t)n * es);
        return LAM_OK;
    }
    lam_layout Ls = lam_view_layout(src), Ld = lam_view_layout(dst);
    if (dst->dtype == src->dtype && es == 4) {   /* f32/i32 bit copies: no conversion */
        uint32_t *o = dst->buf;
        const uint32_t *s = src->buf;
#pragma omp parallel for if (n > LAM_HOST_PAR_MIN)
        for (int64_t i = 0; i < n; ++i) o[dst_contiguous ? dst->offset + i : lam_layout_index(Ld, i)] = s[lam_layout_index(Ls, i)];
        return LAM_OK;
    }
    for (int64_t i = 0; i < n; ++i) {
        int64_t to = dst_contiguous ? dst->offset + i : lam_layout_index(Ld, i), from = lam_layout_index(Ls, i);
        if (dst->dtype == LAM_I64 && src->dtype == LAM_I64)   /* exact beyond 2^53 */
            ((int64_t *)dst->buf)[to] = ((const int64_t *)src->buf)[from];
        else
            store(dst, to, load(src, from));
    }
    return LAM_OK;
}

lam_status lam_host_rand(lam_device *d, const lam_view *dst, uint64_t seed, uint64_t counter, bool normal) {
    (void)d;
    int64_t n = lam_view_numel(dst);
    float *o = (float *)dst->buf + dst->offset;
#pragma omp parallel for if (n > LAM_HOST_PAR_MIN / 8)
    for (int64_t i = 0; i < n; ++i)
        o[i] = normal ? lam_rand_normal_at(seed, counter + (uint64_t)i) : lam_rand_uniform_at(seed, counter + (uint64_t)i);
    return LAM_OK;
}

lam_status lam_host_unary(lam_device *d, lam_unary_op op, const lam_view *dst, const lam_view *x) {
    (void)d;
    int64_t n = lam_view_numel(dst);
    float *o = (float *)dst->buf + dst->offset;
    const float *xs = x->buf;
    if (lam_view_contiguous(x)) {
        xs += x->offset;
#define UNARY_LOOP(OP)                                                                  \
    case OP:                                                                            \
        _Pragma("omp parallel for if (n > LAM_HOST_PAR_MIN)")                           \
        for (int64_t i = 0; i < n; ++i) o[i] = lam_unary_apply(OP, xs[i]);              \
        break;
        switch ((int)op) { LAM_FOR_EACH_UNARY(UNARY_LOOP) default: break; }
#undef UNARY_LOOP
        return LAM_OK;
    }
    lam_layout L = lam_view_layout(x);
#pragma omp parallel for if (n > LAM_HOST_PAR_MIN)
    for (int64_t i = 0; i < n; ++i) o[i] = lam_unary_apply((int)op, xs[lam_layout_index(L, i)]);
    return LAM_OK;
}

lam_status lam_host_binary(lam_device *d, lam_binary_op op, const lam_view *dst, const lam_view *a,
                           const lam_view *b) {
    (void)d;
    int64_t n = lam_view_numel(dst);
    float *o = (float *)dst->buf + dst->offset;
    const float *as = a->buf, *bs = b->buf;
    if (lam_view_contiguous(a) && lam_view_contiguous(b)) {
        as += a->offset;
        bs += b->offset;
#define BINARY_LOOP(OP)                                                                 \
    case OP:                                                                            \
        _Pragma("omp parallel for if (n > LAM_HOST_PAR_MIN)")                           \
        for (int64_t i = 0; i < n; ++i) o[i] = lam_binary_apply(OP, as[i], bs[i]);      \
        break;
        switch ((int)op) { LAM_FOR_EACH_BINARY(BINARY_LOOP) default: break; }
#undef BINARY_LOOP
        return LAM_OK;
    }
    lam_layout La = lam_view_layout(a), Lb = lam_view_layout(b);
#pragma omp parallel for if (n > LAM_HOST_PAR_MIN)
    for (int64_t i = 0; i < n; ++i)
        o[i] = lam_binary_apply((int)op, as[lam_layout_index(La, i)], bs[lam_layout_index(Lb, i)]);
    return LAM_OK;
}

lam_status lam_host_binary_scalar(lam_device *d, lam_binary_op op, const lam_view *dst, const lam_view *a,
                                  float s) {
    (void)d;
    int64_t n = lam_view_numel(dst);
    float *o = (float *)dst->buf + dst->offset;
    const float *as = a->buf;
    if (lam_view_contiguous(a)) {
        as += a->offset;
#define SCALAR_LOOP(OP)                                                                 \
    case OP:                                                                            \
        _Pragma("omp parallel for if (n > LAM_HOST_PAR_MIN)")                           \
        for (int64_t i = 0; i < n; ++i) o[i] = lam_binary_apply(OP, as[i], s);          \
        break;
        switch ((int)op) { LAM_FOR_EACH_BINARY(SCALAR_LOOP) default: break; }
#undef SCALAR_LOOP
        return LAM_OK;
    }
    lam_layout La = lam_view_layout(a);
#pragma omp parallel for if (n > LAM_HOST_PAR_MIN)
    for (int64_t i = 0; i < n; ++i) o[i] = lam_binary_apply((int)op, as[lam_layout_index(La, i)], s);
    return LAM_OK;
}
