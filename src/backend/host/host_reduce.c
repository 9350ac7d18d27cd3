/* Host backend: reductions over (outer, len, inner) and softmax rows. f16 views are read
 * through an f32 copy (lam_host_f32_begin); sums accumulate in double. */
#include <math.h>

#include "backend/host/host.h"

/* A partial result: the running value (sum in double, or extreme) and its index. */
typedef struct {
    double v;
    int64_t idx;
} partial;

static bool is_sum(lam_reduce_op op) { return op == LAM_REDUCE_SUM || op == LAM_REDUCE_MEAN; }
static bool is_min(lam_reduce_op op) { return op == LAM_REDUCE_MIN || op == LAM_REDUCE_ARGMIN; }

/* Does candidate c replace the current extreme v? NaN wins; ties keep the first index. */
static bool beats(lam_reduce_op op, double c, double v) {
    if (isnan(v)) return false;
    if (isnan(c)) return true;
    return is_min(op) ? c < v : c > v;
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

static void store(lam_reduce_op op, const lam_view *dst, float *out, int64_t j, partial p, int64_t len) {
    if (op == LAM_REDUCE_ARGMAX || op == LAM_REDUCE_ARGMIN) ((int64_t *)dst->buf)[dst->offset + j] = p.idx;
    else out[j] = (float)(op == LAM_REDUCE_MEAN ? p.v / (double)len : p.v);
}

/* One output over a long row: fixed chunks (their bounds depend on len only, not on the
 * thread count, so the result is the same for any number of threads), combined in order. */
static void reduce_one_parallel(lam_reduce_op op, const lam_view *dst, float *out, const float *x, int64_t len) {
    enum { MAX_PARTS = 1024, MIN_CHUNK = 32768 };
    partial parts[MAX_PARTS];
    int64_t chunk = (len + MAX_PARTS - 1) / MAX_PARTS;
    if (chunk < MIN_CHUNK) chunk = MIN_CHUNK;
    const int64_t n = (len + chunk - 1) / chunk;
#pragma omp parallel for LAM_HOST_THREADS if (n > 1)
    for (int64_t t = 0; t < n; ++t)
        parts[t] = reduce_range(op, x, 1, t * chunk, (t + 1) * chunk < len ? (t + 1) * chunk : len);
    partial p = parts[0];
    for (int64_t t = 1; t < n; ++t) p = combine(op, p, parts[t]);
    store(op, dst, out, 0, p, len);
}

/* Sums over len of (outer, len, inner) with inner > 1: each task adds whole rows of a block
 * of inner into accumulators (contiguous reads; the same order of additions per output as
 * reduce_range, so the same doubles). */
static void sum_inner_blocks(lam_reduce_op op, float *out, const float *x, int64_t outer, int64_t len, int64_t inner) {
    enum { BLOCK = 256 };
    const int64_t blocks = (inner + BLOCK - 1) / BLOCK;
#pragma omp parallel for LAM_HOST_THREADS if (outer * len * inner > LAM_HOST_PAR_MIN)
    for (int64_t t = 0; t < outer * blocks; ++t) {
        int64_t o = t / blocks, i0 = t % blocks * BLOCK, i1 = i0 + BLOCK < inner ? i0 + BLOCK : inner;
        double acc[BLOCK] = {0};
        for (int64_t l = 0; l < len; ++l) {
            const float *row = x + (o * len + l) * inner;
            for (int64_t i = i0; i < i1; ++i) acc[i - i0] += row[i];
        }
        for (int64_t i = i0; i < i1; ++i)
            out[o * inner + i] = (float)(op == LAM_REDUCE_MEAN ? acc[i - i0] / (double)len : acc[i - i0]);
    }
}

lam_status lam_host_reduce(lam_device *d, lam_reduce_op op, const lam_view *dst, const lam_view *src,
                           int64_t outer, int64_t len, int64_t inner) {
    (void)d;
    int64_t outputs = outer * inner;
    bool index = op == LAM_REDUCE_ARGMAX || op == LAM_REDUCE_ARGMIN;
    float *x = lam_host_f32_begin(src, outer * len * inner, true);
    float *out = !x || index ? NULL : lam_host_f32_begin(dst, outputs, false);
    if (!x || (!index && !out)) {
        lam_host_f32_done(src, x, 0, false);
        return LAM_ERR_OOM;
    }
    if (outputs == 1 && len > LAM_HOST_PAR_MIN) {
        reduce_one_parallel(op, dst, out, x, len);
    } else if (is_sum(op) && inner > 1) {
        sum_inner_blocks(op, out, x, outer, len, inner);
    } else {
#pragma omp parallel for LAM_HOST_THREADS if (outputs * len > LAM_HOST_PAR_MIN)
        for (int64_t j = 0; j < outputs; ++j) {
            int64_t o = j / inner, i = j % inner;
            partial p = len ? reduce_range(op, x + o * len * inner + i, inner, 0, len)
                            : (partial){is_sum(op) ? 0.0 : NAN, 0};
            store(op, dst, out, j, p, len);
        }
    }
    lam_host_f32_done(src, x, 0, false);
    if (!index) lam_host_f32_done(dst, out, outputs, true);
    return LAM_OK;
}

lam_status lam_host_softmax(lam_device *d, bool log, const lam_view *dst, const lam_view *src, int64_t rows,
                            int64_t cols) {
    (void)d;
    float *x = lam_host_f32_begin(src, rows * cols, true);
    float *y = x ? lam_host_f32_begin(dst, rows * cols, false) : NULL;
    if (!y) {
        lam_host_f32_done(src, x, 0, false);
        return LAM_ERR_OOM;
    }
#pragma omp parallel for LAM_HOST_THREADS if (rows * cols > LAM_HOST_PAR_MIN)
    for (int64_t r = 0; r < rows; ++r) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = -INFINITY;
        for (int64_t c = 0; c < cols; ++c) m = xr[c] > m ? xr[c] : m;
        float s = 0.0f;
        for (int64_t c = 0; c < cols; ++c) s += LAM_EXP(xr[c] - m);
        if (log) {
            float ls = logf(s);
            for (int64_t c = 0; c < cols; ++c) yr[c] = xr[c] - m - ls;
        } else {
            for (int64_t c = 0; c < cols; ++c) yr[c] = LAM_EXP(xr[c] - m) / s;
        }
    }
    lam_host_f32_done(src, x, 0, false);
    lam_host_f32_done(dst, y, rows * cols, true);
    return LAM_OK;
}
