/* Host backend: reductions over (outer, len, inner), softmax rows, GEMM through CBLAS. */
#include <cblas.h>
#include <math.h>
#include <omp.h>

#include "backend/host/host.h"

/* A partial result: the running value (sum in double, or extreme) and its index. */
typedef struct {
    double v;
    int64_t idx;
} partial;

static bool is_sum(lam_reduce_op op) { return op == LAM_REDUCE_SUM || op == LAM_REDUCE_MEAN; }

/* Does candidate c replace the current extreme v? NaN wins; ties keep the first index. */
static bool beats(lam_reduce_op op, double c, double v) {
    if (isnan(v)) return false;
    if (isnan(c)) return true;
    return op == LAM_REDUCE_MIN ? c < v : c > v;
}

static partial reduce_range(lam_reduce_op op, const float *x, int64_t stride, int64_t begin, int64_t end) {
    partial p = {is_sum(op) ? 0.0 : x[begin * stride], begin};
    for (int64_t l = is_sum(op) ? begin : begin + 1; l < end; ++l) {
        double c = x[l * stride];
        if (is_sum(op)) p.v += c;
        else if (beats(op, c, p.v)) p = (partial){c, l};
    }
    return p;
}

static partial combine(lam_reduce_op op, partial a, partial b) {
    if (is_sum(op)) return (partial){a.v + b.v, 0};
    return beats(op, b.v, a.v) ? b : a;
}

static void store(lam_reduce_op op, const lam_view *dst, int64_t j, partial p, int64_t len) {
    if (op == LAM_REDUCE_ARGMAX) ((int64_t *)dst->buf)[dst->offset + j] = p.idx;
    else ((float *)dst->buf)[dst->offset + j] = (float)(op == LAM_REDUCE_MEAN ? p.v / (double)len : p.v);
}

/* One output over a long row (len > threads): threads take contiguous chunks, combined in order. */
static void reduce_one_parallel(lam_reduce_op op, const lam_view *dst, const float *x, int64_t len) {
    enum { MAX_THREADS = 256 };
    partial parts[MAX_THREADS];
    int used = 1;
#pragma omp parallel num_threads(omp_get_max_threads() < MAX_THREADS ? omp_get_max_threads() : MAX_THREADS)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        parts[t] = reduce_range(op, x, 1, len * t / n, len * (t + 1) / n);
#pragma omp single
        used = n;
    }
    partial p = parts[0];
    for (int t = 1; t < used; ++t) p = combine(op, p, parts[t]);
    store(op, dst, 0, p, len);
}

lam_status lam_host_reduce(lam_device *d, lam_reduce_op op, const lam_view *dst, const lam_view *src,
                           int64_t outer, int64_t len, int64_t inner) {
    (void)d;
    const float *x = (const float *)src->buf + src->offset;
    int64_t outputs = outer * inner;
    if (outputs == 1 && len > LAM_HOST_PAR_MIN) {
        reduce_one_parallel(op, dst, x, len);
        return LAM_OK;
    }
#pragma omp parallel for if (outputs * len > LAM_HOST_PAR_MIN)
    for (int64_t j = 0; j < outputs; ++j) {
        int64_t o = j / inner, i = j % inner;
        partial p = len ? reduce_range(op, x + o * len * inner + i, inner, 0, len)
                        : (partial){is_sum(op) ? 0.0 : NAN, 0};
        store(op, dst, j, p, len);
    }
    return LAM_OK;
}

lam_status lam_host_softmax(lam_device *d, bool log, const lam_view *dst, const lam_view *src, int64_t rows,
                            int64_t cols) {
    (void)d;
    const float *x = (const float *)src->buf + src->offset;
    float *y = (float *)dst->buf + dst->offset;
#pragma omp parallel for if (rows * cols > LAM_HOST_PAR_MIN)
    for (int64_t r = 0; r < rows; ++r) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = -INFINITY;
        for (int64_t c = 0; c < cols; ++c) m = xr[c] > m ? xr[c] : m;
        float s = 0.0f;
        for (int64_t c = 0; c < cols; ++c) s += expf(xr[c] - m);
        if (log) {
            float ls = logf(s);
            for (int64_t c = 0; c < cols; ++c) yr[c] = xr[c] - m - ls;
        } else {
            for (int64_t c = 0; c < cols; ++c) yr[c] = expf(xr[c] - m) / s;
        }
    }
    return LAM_OK;
}

lam_status lam_host_gemm(lam_device *d, const lam_gemm_args *g) {
    (void)d;
    if (g->m == 0 || g->n == 0) return LAM_OK;
    for (int64_t b = 0; b < g->batch; ++b) {
        const float *a = (const float *)g->a + g->a_off + b * g->a_stride;
        const float *bm = (const float *)g->b + g->b_off + b * g->b_stride;
        float *c = (float *)g->c + g->c_off + b * g->c_stride;
        cblas_sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans, g->trans_b ? CblasTrans : CblasNoTrans,
                    (int)g->m, (int)g->n, (int)g->k, g->alpha, a, (int)g->lda, bm, (int)g->ldb, g->beta, c,
                    (int)g->ldc);
    }
    return LAM_OK;
}
