/* Convolutional-network cases: conv2d (strides, paddings, dilations, groups, non-square
 * kernels, 1x1), max / average / adaptive pooling (ceil_mode, count_include_pad), batch
 * norm in training, dropout (every device draws what cpu draws) and constant padding. The
 * references below are plain loops over PyTorch's definitions, written apart from the
 * library's window maths. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test_util.h"

/* PyTorch's output size along one axis (ceil_mode: the last window starts inside). */
static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
    double span = (double)(in + 2 * p - d * (k - 1) - 1) / (double)s;
    int64_t out = (int64_t)(ceil_mode ? ceil(span) : floor(span)) + 1;
    if (ceil_mode && (out - 1) * s >= in + p) --out;
    return out;
}

static double *alloc_out(int nd, int64_t *shape, int *ndim) {
    *ndim = nd;
    int64_t n = h_numel(nd, shape);
    return calloc((size_t)(n > 0 ? n : 1), sizeof(double));
}

/* i: stride (h, w), padding (h, w), dilation (h, w), groups; inputs x, w and maybe b. */
static bool ref_conv(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const int64_t *xs = c->in[0].shape, *ws = c->in[1].shape, *i = c->i;
    int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], OC = ws[0], CG = ws[1], KH = ws[2], KW = ws[3];
    int64_t OH = out_size(H, KH, i[0], i[2], i[4], false), OW = out_size(W, KW, i[1], i[3], i[5], false);
    int64_t ocg = OC / i[6];
    (void)C;
    memcpy(shape, (int64_t[]){N, OC, OH, OW}, 4 * sizeof *shape);
    double *y = *out = alloc_out(4, shape, nd);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t o = 0; o < OC; ++o)
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) {
                    double s = c->n_in > 2 ? x[2][o] : 0;
                    for (int64_t cg = 0; cg < CG; ++cg)
                        for (int64_t kh = 0; kh < KH; ++kh)
                            for (int64_t kw = 0; kw < KW; ++kw) {
                                int64_t r = oh * i[0] - i[2] + kh * i[4], q = ow * i[1] - i[3] + kw * i[5];
                                if (r < 0 || r >= H || q < 0 || q >= W) continue;
                                int64_t ch = (o / ocg) * CG + cg;
                                s += x[0][((n * xs[1] + ch) * H + r) * W + q] * x[1][((o * CG + cg) * KH + kh) * KW + kw];
                            }
                    y[((n * OC + o) * OH + oh) * OW + ow] = s;
                }
    return true;
}

/* i: kernel (h, w), stride, padding, dilation, ceil_mode; f[0] = 1 for max, 0 for average;
 * i[7] count_include_pad for average (dilation must be 1). */
static bool ref_pool(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const int64_t *xs = c->in[0].shape, *i = c->i;
    int64_t P = xs[0] * xs[1], H = xs[2], W = xs[3];
    int64_t OH = out_size(H, i[0], i[2], i[4], i[6] ? i[6] : 1, c->f[1] != 0);
    int64_t OW = out_size(W, i[1], i[3], i[5], i[6] ? i[6] : 1, c->f[1] != 0);
    memcpy(shape, (int64_t[]){xs[0], xs[1], OH, OW}, 4 * sizeof *shape);
    double *y = *out = alloc_out(4, shape, nd);
    for (int64_t p = 0; p < P; ++p)
        for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow) {
                double best = -INFINITY, sum = 0;
                int64_t taps = 0;
                for (int64_t kh = 0; kh < i[0]; ++kh)
                    for (int64_t kw = 0; kw < i[1]; ++kw) {
                        int64_t d = i[6] ? i[6] : 1;
                        int64_t r = oh * i[2] - i[4] + kh * d, q = ow * i[3] - i[5] + kw * d;
                        bool in_pad = r < H + i[4] && q < W + i[5];   /* inside the padded edge */
                        if (in_pad) taps++;
                        if (r < 0 || r >= H || q < 0 || q >= W) continue;
                        double v = x[0][(p * H + r) * W + q];
                        best = fmax(best, v);
                        sum += v;
                    }
                int64_t inside = 0;
                for (int64_t kh = 0; kh < i[0]; ++kh)
                    for (int64_t kw = 0; kw < i[1]; ++kw) {
                        int64_t r = oh * i[2] - i[4] + kh, q = ow * i[3] - i[5] + kw;
                        inside += r >= 0 && r < H && q >= 0 && q < W;
                    }
                y[(p * OH + oh) * OW + ow] = c->f[0] != 0 ? best : sum / (double)(i[7] ? taps : inside);
            }
    return true;
}

/* i: output (h, w) */
static bool ref_adaptive(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const int64_t *xs = c->in[0].shape;
    int64_t P = xs[0] * xs[1], H = xs[2], W = xs[3], OH = c->i[0], OW = c->i[1];
    memcpy(shape, (int64_t[]){xs[0], xs[1], OH, OW}, 4 * sizeof *shape);
    double *y = *out = alloc_out(4, shape, nd);
    for (int64_t p = 0; p < P; ++p)
        for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow) {
                int64_t r0 = oh * H / OH, r1 = (int64_t)ceil((double)((oh + 1) * H) / (double)OH);
                int64_t q0 = ow * W / OW, q1 = (int64_t)ceil((double)((ow + 1) * W) / (double)OW);
                double s = 0;
                for (int64_t r = r0; r < r1; ++r)
                    for (int64_t q = q0; q < q1; ++q) s += x[0][(p * H + r) * W + q];
                y[(p * OH + oh) * OW + ow] = s / (double)((r1 - r0) * (q1 - q0));
            }
    return true;
}

/* Training-mode batch norm of x (N, C, ...) with weight and bias, eps f[0]. */
static bool ref_batch_norm(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *in = &c->in[0];
    int64_t N = in->shape[0], C = in->shape[1], HW = h_numel(in->ndim, in->shape) / (N * C);
    memcpy(shape, in->shape, sizeof in->shape);
    double *y = *out = alloc_out(in->ndim, shape, nd);
    for (int64_t ch = 0; ch < C; ++ch) {
        double mean = 0, var = 0;
        for (int64_t n = 0; n < N; ++n)
            for (int64_t k = 0; k < HW; ++k) mean += x[0][(n * C + ch) * HW + k];
        mean /= (double)(N * HW);
        for (int64_t n = 0; n < N; ++n)
            for (int64_t k = 0; k < HW; ++k) var += pow(x[0][(n * C + ch) * HW + k] - mean, 2);
        var /= (double)(N * HW);
        for (int64_t n = 0; n < N; ++n)
            for (int64_t k = 0; k < HW; ++k) {
                int64_t at = (n * C + ch) * HW + k;
                y[at] = (x[0][at] - mean) / sqrt(var + c->f[0]) * x[1][ch] + x[2][ch];
            }
    }
    return true;
}

/* i: npad, pads (last dim first); f[0]: the value */
static bool ref_pad(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    const h_input *in = &c->in[0];
    int64_t before[LAM_MAX_DIMS] = {0}, xs[LAM_MAX_DIMS], ys[LAM_MAX_DIMS];
    memcpy(shape, in->shape, sizeof in->shape);
    for (int k = 0; k < c->i[0]; ++k) {
        int d = in->ndim - 1 - k / 2;
        shape[d] += c->i[1 + k];
        if (k % 2 == 0) before[d] = c->i[1 + k];
    }
    double *y = *out = alloc_out(in->ndim, shape, nd);
    int64_t n = h_numel(in->ndim, shape);
    for (int64_t e = 0; e < n; ++e) y[e] = c->f[0];
    tu_strides(in->ndim, in->shape, xs);
    tu_strides(in->ndim, shape, ys);
    for (int64_t e = 0; e < h_numel(in->ndim, in->shape); ++e) {
        int64_t at = 0;
        for (int d = 0; d < in->ndim; ++d) at += (e / xs[d] % in->shape[d] + before[d]) * ys[d];
        y[at] = x[0][e];
    }
    return true;
}

static lam_hw hw(const int64_t *v) { return LAM_HW2(v[0], v[1]); }

static lam_tensor *b_conv(const h_case *c, lam_tensor *const *in) {
    return lam_conv2d(in[0], in[1], c->n_in > 2 ? in[2] : NULL, hw(c->i), hw(c->i + 2), hw(c->i + 4), c->i[6]);
}
static lam_tensor *b_pool(const h_case *c, lam_tensor *const *in) {
    if (c->f[0] != 0) return lam_max_pool2d(in[0], hw(c->i), hw(c->i + 2), hw(c->i + 4), LAM_HW(c->i[6]), c->f[1] != 0);
    return lam_avg_pool2d(in[0], hw(c->i), hw(c->i + 2), hw(c->i + 4), c->f[1] != 0, c->i[7] != 0);
}
static lam_tensor *b_adaptive(const h_case *c, lam_tensor *const *in) { return lam_adaptive_avg_pool2d(in[0], hw(c->i)); }
static lam_tensor *b_batch_norm(const h_case *c, lam_tensor *const *in) {
    return lam_batch_norm(in[0], NULL, NULL, in[1], in[2], true, 0.1f, c->f[0]);
}
/* Seeded here, so every run (and the cpu reference) draws the same mask. */
static lam_tensor *b_dropout(const h_case *c, lam_tensor *const *in) {
    lam_manual_seed((uint64_t)c->i[0]);
    return lam_dropout(in[0], c->f[0], true);
}
static lam_tensor *b_pad(const h_case *c, lam_tensor *const *in) { return lam_pad(in[0], (int)c->i[0], c->i + 1, c->f[0]); }

#define F16 2e-3
#define P2(a, b) a, b   /* (h, w) spelled inside a flat list */
#define X4(n, ch, h, w, lay) H_IN(4, (n, ch, h, w), lay, -2, 2)
/* conv: x, weight (and bias) shapes; stride, padding, dilation (h, w each), groups */
#define CONV(what, xs, ws, s_, p_, d_, g_, fl) \
    {"lam_conv2d", what, 2, {H_IN(4, xs, H_CONTIG, -2, 2), H_IN(4, ws, H_CONTIG, -1, 1)}, b_conv, ref_conv, \
     .i = {P2 s_, P2 p_, P2 d_, g_}, .tol = 1e-5, .tol_f16 = F16, .flops = fl}
#define MAXP(what, x, k, s_, p_, d_, ceil_, g) \
    {"lam_max_pool2d", what, 1, {x}, b_pool, ref_pool, .i = {P2 k, P2 s_, P2 p_, d_}, .f = {1, ceil_}, \
     .tol_f16 = F16, .grad = g}
#define AVGP(what, x, k, s_, p_, ceil_, count, g) \
    {"lam_avg_pool2d", what, 1, {x}, b_pool, ref_pool, .i = {P2 k, P2 s_, P2 p_, 1, count}, .f = {0, ceil_}, \
     .tol_f16 = F16, .grad = g}

static const h_case cases[] = {
    CONV("3x3 same", (2, 3, 9, 8), (5, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1, 2 * 2 * 5 * 72 * 27),
    CONV("stride (2, 1), padding (1, 0), dilation (2, 1), groups 2, 3x2", (1, 4, 11, 10), (6, 2, 3, 2), (2, 1), (1, 0),
         (2, 1), 2, 0),
    CONV("1x1", (3, 5, 7, 7), (7, 5, 1, 1), (1, 1), (0, 0), (1, 1), 1, 2 * 3 * 7 * 49 * 5),
    CONV("1x1 stride 2", (2, 6, 8, 9), (3, 6, 1, 1), (2, 2), (0, 0), (1, 1), 1, 0),
    CONV("ResNet stage shape", (8, 32, 14, 14), (64, 32, 3, 3), (2, 2), (1, 1), (1, 1), 1, 2.0 * 8 * 64 * 49 * 288),
    {"lam_conv2d", "bias, transposed input, gradient", 3,
     {H_IN(4, (2, 2, 5, 6), H_TRANSPOSED, -2, 2), H_IN(4, (4, 1, 2, 3), H_CONTIG, -1, 1), H_IN(1, (4), H_CONTIG, -1, 1)},
     b_conv, ref_conv, .i = {2, 1, 1, 2, 1, 2, 2}, .tol = 1e-5, .tol_f16 = F16, .grad = true},
    {"lam_conv2d", "1x1 with bias, sliced input, gradient", 3,
     {H_IN(4, (2, 3, 3, 4), H_SLICED, -2, 2), H_IN(4, (2, 3, 1, 1), H_CONTIG, -1, 1), H_IN(1, (2), H_CONTIG, -1, 1)},
     b_conv, ref_conv, .i = {1, 1, 0, 0, 1, 1, 1}, .tol = 1e-5, .tol_f16 = F16, .grad = true},
    MAXP("2x2", X4(2, 3, 9, 8, H_CONTIG), (2, 2), (2, 2), (0, 0), 1, 0, false),
    MAXP("3x2, stride (2, 1), padding 1, dilation 2, ceil", X4(1, 5, 11, 10, H_SLICED), (3, 2), (2, 1), (1, 1), 2, 1, false),
    MAXP("overlapping, gradient", X4(1, 2, 5, 4, H_TRANSPOSED), (3, 3), (2, 2), (1, 1), 1, 1, true),
    AVGP("2x2", X4(2, 3, 9, 8, H_CONTIG), (2, 2), (2, 2), (0, 0), 0, 1, false),
    AVGP("3x2, ceil, without padding in the count", X4(1, 5, 11, 10, H_SLICED), (3, 2), (2, 1), (1, 1), 1, 0, true),
    AVGP("overlapping, padding counted, gradient", X4(2, 3, 7, 7, H_CONTIG), (3, 3), (2, 2), (1, 1), 1, 1, true),
    {"lam_adaptive_avg_pool2d", "global", 1, {X4(2, 3, 7, 9, H_CONTIG)}, b_adaptive, ref_adaptive, .i = {1, 1},
     .tol_f16 = F16, .grad = true},
    {"lam_adaptive_avg_pool2d", "(3, 4) from (10, 7): overlapping windows", 1, {X4(1, 5, 10, 7, H_TRANSPOSED)}, b_adaptive,
     ref_adaptive, .i = {3, 4}, .tol_f16 = F16, .grad = true},
    {"lam_batch_norm", "training, (N, C, H, W), gradient", 3,
     {X4(3, 4, 3, 2, H_CONTIG), H_IN(1, (4), H_CONTIG, 0.5, 1.5), H_IN(1, (4), H_CONTIG, -1, 1)}, b_batch_norm,
     ref_batch_norm, .f = {1e-5f}, .tol = 1e-5, .grad = true, .grad_tol = 5e-2f},
    {"lam_batch_norm", "training, (N, C), sliced", 3,
     {H_IN(2, (6, 7), H_SLICED, -3, 3), H_IN(1, (7), H_CONTIG, 0.5, 1.5), H_IN(1, (7), H_CONTIG, -1, 1)}, b_batch_norm,
     ref_batch_norm, .f = {1e-3f}, .tol = 1e-5},
    {"lam_dropout", "p 0.3, what cpu draws", 1, {H_IN(3, (4, 5, 6), H_CONTIG, -2, 2)}, b_dropout, .i = {7}, .f = {0.3f},
     .tol_f16 = F16, .grad = true},
    {"lam_dropout", "p 0.5, sliced", 1, {H_IN(2, (30, 40), H_SLICED, -2, 2)}, b_dropout, .i = {8}, .f = {0.5f}, .tol_f16 = F16},
    {"lam_pad", "(1, 2, 0, 3) with 0.5, gradient", 1, {X4(2, 3, 4, 5, H_CONTIG)}, b_pad, ref_pad, .i = {4, 1, 2, 0, 3},
     .f = {0.5f}, .tol_f16 = F16, .grad = true},
    {"lam_pad", "three dims, transposed", 1, {H_IN(3, (2, 3, 4), H_TRANSPOSED, -2, 2)}, b_pad, ref_pad,
     .i = {6, 0, 1, 2, 0, 1, 1}, .f = {-1}, .tol_f16 = F16},
};

const h_family h_family_cnn = {"cnn", cases, (int)(sizeof cases / sizeof *cases)};
