/* 2-D convolution over NCHW tensors as GEMM. For each chunk of images, im2col (cl/conv.cl)
 * writes col (C kh kw, images OH OW); per group g, Y_g (OC/g, images OH OW) = W_g @ col_g,
 * and swap01 moves Y to NCHW adding the bias. Backward runs the same chunks: the gradient
 * in (OC, images OH OW) layout gives dW += dY col^T and dcol = W^T dY, which col2im gathers
 * onto dx. Chunks keep col under chunk_budget elements whatever the batch, and their
 * buffers come from the device pool, so steady-state training allocates nothing new.
 * A 1x1 stride-1 convolution without padding and groups needs no col: Y[n] = W @ x[n] and
 * dx[n] = W^T @ dY[n] are batched GEMMs straight on the NCHW tensors. */
#include <stdlib.h>
#include "backend/profile.h"
#include "ops/cnn_impl.h"

/* The most elements of col (or of the GEMM's output) one chunk of images may hold. On CPUs a
 * chunk that stays in the L2 cache between im2col and the GEMM runs 1.5-2.5x faster than one
 * that goes through memory (bench_cnn --cpu-time, 64K-128K elements best); GPUs want big
 * launches. At least one image, whatever its size. */
static int64_t chunk_budget(const lam_device *d) {
    const char *env = getenv("LAMINA_CONV_CHUNK");
    if (env && atoll(env) > 0) return atoll(env);
    switch (d->type) {
    case LAM_DEVICE_HOST: return (int64_t)1 << 17;
    case LAM_DEVICE_CPU: return (int64_t)1 << 20;
    default: return (int64_t)1 << 23;
    }
}

typedef struct {
    lam_window win;
    int64_t n, c, oc, groups;
    int64_t k;        /* rows of col: C kh kw (C/groups kh kw per group) */
    int64_t chunk;    /* images per chunk */
    bool pointwise;   /* 1x1, stride 1, no padding, one group: no col needed */
    lam_dtype dt;
    lam_device *dev;
} conv_plan;

static int64_t ohw(const conv_plan *p) { return p->win.oh * p->win.ow; }

/* The window ints of a conv kernel, then channels and images. */
static void window_ints(const conv_plan *p, int64_t images, lam_kernel_args *a) {
    lam_window_ints(&p->win, a->i);
    a->i[12] = p->c;
    a->i[13] = images;
}

/* count elements of t from offset on: the extent a kernel touches, which its bytes count. */
static lam_view view_at(const lam_tensor *t, int64_t offset, int64_t count) {
    lam_view v = lam_view_of(t);
    v.offset += offset;
    v.ndim = 1;
    v.shape[0] = count;
    v.stride[0] = 1;
    return v;
}

/* col <- the windows of images [n0, n0 + nc) of x: one work-item per row of col. */
static lam_status im2col(const conv_plan *p, lam_tensor *col, lam_tensor *x, int64_t n0, int64_t nc) {
    int64_t plane = p->c * p->win.h * p->win.w;
    lam_kernel_args a = {.work = p->k * nc * p->win.oh,
                         .v = {view_at(col, 0, p->k * nc * ohw(p)), view_at(x, n0 * plane, nc * plane)}};
    window_ints(p, nc, &a);
    return lam_run_kernel("lam_conv2d", p->dev, LAM_K_IM2COL, &a);
}

/* dx[n0, n0 + nc) <- the gathered taps of dcol: one work-item per input row. */
static lam_status col2im(const conv_plan *p, lam_tensor *dx, lam_tensor *dcol, int64_t n0, int64_t nc) {
    int64_t plane = p->c * p->win.h * p->win.w;
    lam_kernel_args a = {.work = nc * p->c * p->win.h,
                         .v = {view_at(dx, n0 * plane, nc * plane), view_at(dcol, 0, p->k * nc * ohw(p))}};
    window_ints(p, nc, &a);
    return lam_run_kernel("lam_conv2d_backward", p->dev, LAM_K_COL2IM, &a);
}

/* dst (B, A, S) at dst_off <- src (A, B, S) at src_off, plus bias[a] when bias is given (in
 * place when B is 1: each element is read and written by one work-item). */
static lam_status swap01(const conv_plan *p, lam_tensor *dst, int64_t dst_off, lam_tensor *src, int64_t src_off,
                         lam_tensor *bias, int64_t A, int64_t B, int64_t S) {
    lam_kernel_args a = {.work = A * B,
                         .v = {view_at(dst, dst_off, A * B * S), view_at(src, src_off, A * B * S),
                               view_at(bias ? bias : src, 0, A)},
                         .i = {A, B, S, bias != NULL}};
    return lam_run_kernel("lam_conv2d", p->dev, LAM_K_SWAP01, &a);
}

/* One GEMM per group: C_g = op(A_g) @ op(B_g), each operand at its offset with its leading
 * dimension and the stride from one group's block to the next. */
typedef struct { lam_tensor *t; int64_t off, ld, group_stride; bool trans; } conv_operand;

static lam_status group_gemm(const conv_plan *p, int64_t m, int64_t n, int64_t k, conv_operand A, conv_operand B,
                             conv_operand C, float beta, int64_t batch) {
    lam_gemm_args g = {
        .dtype = p->dt, .trans_a = A.trans, .trans_b = B.trans, .m = m, .n = n, .k = k, .batch = batch,
        .alpha = 1.0f, .beta = beta,
        .a = A.t->storage->buf, .a_off = A.t->offset + A.off, .lda = A.ld, .a_stride = A.group_stride,
        .b = B.t->storage->buf, .b_off = B.t->offset + B.off, .ldb = B.ld, .b_stride = B.group_stride,
        .c = C.t->storage->buf, .c_off = C.t->offset + C.off, .ldc = C.ld, .c_stride = C.group_stride,
    };
    return lam_run_gemm("lam_conv2d", p->dev, &g);
}

/* ---- a backend's own convolution (backend.h's conv2d entries) ----------------------------- */

/* A backend runs the whole convolution itself where it can: f32, not pointwise. */
static bool backend_runs(const conv_plan *p, bool backward) {
    const lam_backend_ops *o = p->dev->ops;
    return p->dt == LAM_F32 && !p->pointwise && (backward ? o->conv2d_backward : o->conv2d) != NULL;
}

static lam_view view_or_none(const lam_tensor *t) { return t ? lam_view_of(t) : (lam_view){0}; }

static lam_conv_args conv_args(const conv_plan *p) {
    return (lam_conv_args){.win = p->win, .n = p->n, .c = p->c, .oc = p->oc, .groups = p->groups, .chunk = p->chunk};
}

/* 2 OC (C/groups kh kw) OH OW multiply-adds per image, for the profile. */
static double conv_flops(const conv_plan *p) { return 2.0 * (double)p->n * (double)p->oc * (double)(p->k / p->groups) * (double)ohw(p); }

/* ---- forward ----------------------------------------------------------------------------- */

/* y[n] = W @ x[n] over all images at once, then the bias. */
static lam_tensor *pointwise_forward(const conv_plan *p, lam_tensor *x, lam_tensor *w, lam_tensor *b, lam_tensor *y) {
    int64_t s = ohw(p);
    conv_operand A = {w, 0, p->c, 0, false}, B = {x, 0, s, p->c * s, false}, C = {y, 0, s, p->oc * s, false};
    if (group_gemm(p, p->oc, s, p->c, A, B, C, 0.0f, p->n) != LAM_OK) return NULL;
    if (!b) return y;
    lam_ew_arg args[2] = {LAM_EW_T(y), LAM_EW_T(lam_reshape(b, LAM_SHAPE(p->oc, 1, 1)))};
    return args[1].t ? lam_ew_run("lam_conv2d", LAM_EW_ADD, 2, args) : NULL;
}

static lam_tensor *conv_forward(const conv_plan *p, lam_tensor *x, lam_tensor *w, lam_tensor *b) {
    lam_tensor *y = lam_tensor_alloc(p->dt, LAM_SHAPE(p->n, p->oc, p->win.oh, p->win.ow), p->dev);
    if (!y || p->n == 0 || p->oc == 0) return y;
    if (p->pointwise) return pointwise_forward(p, x, w, b, y);
    if (backend_runs(p, false)) {
        lam_conv_args a = conv_args(p);
        a.x = lam_view_of(x), a.w = lam_view_of(w), a.b = view_or_none(b), a.y = lam_view_of(y);
        return LAM_PROFILED("lam_conv2d", p->dev, 0, conv_flops(p), p->dev->ops->conv2d(p->dev, &a)) == LAM_OK ? y
                                                                                                           : NULL;
    }
    int64_t s = ohw(p), cols = p->chunk * s, kg = p->k / p->groups, ocg = p->oc / p->groups;
    lam_tensor *col = lam_tensor_alloc(p->dt, LAM_SHAPE(p->k, cols), p->dev);
    lam_tensor *tmp = col ? lam_tensor_alloc(p->dt, LAM_SHAPE(p->oc, cols), p->dev) : NULL;
    if (!tmp) return NULL;
    for (int64_t n0 = 0; n0 < p->n; n0 += p->chunk) {
        int64_t nc = p->n - n0 < p->chunk ? p->n - n0 : p->chunk, cn = nc * s, at = n0 * p->oc * s;
        bool one = nc == 1;   /* one image's (OC, OH OW) is its NCHW block already */
        conv_operand A = {w, 0, kg, ocg * kg, false}, B = {col, 0, cn, kg * cn, false};
        conv_operand C = {one ? y : tmp, one ? at : 0, cn, ocg * cn, false};
        if (im2col(p, col, x, n0, nc) != LAM_OK || group_gemm(p, ocg, cn, kg, A, B, C, 0.0f, p->groups) != LAM_OK)
            return NULL;
        if ((!one || b) && swap01(p, y, at, one ? y : tmp, one ? at : 0, b, p->oc, nc, s) != LAM_OK) return NULL;
    }
    return y;
}

/* ---- backward ---------------------------------------------------------------------------- */

typedef struct {
    lam_tensor *x, *w, *g;   /* contiguous, in the plan's dtype */
    lam_tensor *gx, *gw;     /* the gradients wanted (NULL when not) */
} conv_grads;

/* dx[n] = W^T @ dY[n] over all images at once. */
static lam_status pointwise_backward_data(const conv_plan *p, const conv_grads *q) {
    int64_t s = ohw(p);
    conv_operand A = {q->w, 0, p->c, 0, true}, B = {q->g, 0, s, p->oc * s, false}, C = {q->gx, 0, s, p->c * s, false};
    return group_gemm(p, p->c, s, p->oc, A, B, C, 0.0f, p->n);
}

/* One chunk: gp = dY in (OC, nc OH OW); dW (+)= gp col^T; dcol = W^T gp, gathered onto dx. */
static lam_status backward_chunk(const conv_plan *p, const conv_grads *q, lam_tensor *gp, lam_tensor *col,
                                 lam_tensor *dcol, int64_t n0, int64_t nc) {
    int64_t s = ohw(p), cn = nc * s, kg = p->k / p->groups, ocg = p->oc / p->groups, at = n0 * p->oc * s;
    bool one = nc == 1;   /* one image's gradient is in (OC, OH OW) layout already */
    lam_status st = one ? LAM_OK : swap01(p, gp, 0, q->g, at, NULL, nc, p->oc, s);
    conv_operand G = {one ? q->g : gp, one ? at : 0, cn, ocg * cn, false};
    if (st == LAM_OK && q->gw) {
        conv_operand B = {col, 0, cn, kg * cn, true}, C = {q->gw, 0, kg, ocg * kg, false};
        st = im2col(p, col, q->x, n0, nc);
        if (st == LAM_OK) st = group_gemm(p, ocg, kg, cn, G, B, C, n0 == 0 ? 0.0f : 1.0f, p->groups);
    }
    if (st == LAM_OK && dcol) {
        conv_operand A = {q->w, 0, kg, ocg * kg, true}, C = {dcol, 0, cn, kg * cn, false};
        st = group_gemm(p, kg, cn, ocg, A, G, C, 0.0f, p->groups);
        if (st == LAM_OK) st = col2im(p, q->gx, dcol, n0, nc);
    }
    return st;
}

static lam_status conv_backward_run(const conv_plan *p, conv_grads *q) {
    if (p->pointwise && q->gx && pointwise_backward_data(p, q) != LAM_OK) return lam_last_status();
    if (!q->gw && (p->pointwise || !q->gx)) return LAM_OK;
    if (backend_runs(p, true)) {
        lam_conv_args a = conv_args(p);
        a.x = lam_view_of(q->x), a.w = lam_view_of(q->w), a.g = lam_view_of(q->g);
        a.gx = view_or_none(q->gx), a.gw = view_or_none(q->gw);
        double flops = conv_flops(p) * ((q->gw != NULL) + (q->gx != NULL));
        return LAM_PROFILED("lam_conv2d_backward", p->dev, 0, flops, p->dev->ops->conv2d_backward(p->dev, &a));
    }
    int64_t cols = p->chunk * ohw(p);
    lam_tensor *gp = lam_tensor_alloc(p->dt, LAM_SHAPE(p->oc, cols), p->dev);
    lam_tensor *col = gp && q->gw ? lam_tensor_alloc(p->dt, LAM_SHAPE(p->k, cols), p->dev) : NULL;
    bool gather = q->gx && !p->pointwise;
    lam_tensor *dcol = gp && gather ? lam_tensor_alloc(p->dt, LAM_SHAPE(p->k, cols), p->dev) : NULL;
    if (!gp || (q->gw && !col) || (gather && !dcol)) return lam_last_status();
    for (int64_t n0 = 0; n0 < p->n; n0 += p->chunk) {
        lam_status st = backward_chunk(p, q, gp, col, dcol, n0, p->n - n0 < p->chunk ? p->n - n0 : p->chunk);
        if (st != LAM_OK) return st;
    }
    return LAM_OK;
}

/* ---- the op ------------------------------------------------------------------------------ */

/* The most elements one image puts in col, the GEMM output or the input plane set: a chunk
 * of images holds at most CONV_CHUNK_ELEMS of them (one image at least). */
static int64_t conv_image_elems(int64_t k, int64_t oc, int64_t ohw_, int64_t chw) {
    int64_t m = k * ohw_ > oc * ohw_ ? k * ohw_ : oc * ohw_;
    return m > chw ? m : chw;
}

static conv_plan plan_of(lam_tensor *x, lam_tensor *w, lam_hw stride, lam_hw padding, lam_hw dilation, int64_t groups,
                         lam_dtype dt) {
    conv_plan p = {.n = x->shape[0], .c = x->shape[1], .oc = w->shape[0], .groups = groups, .dt = dt, .dev = LAM_DEV(x)};
    p.win = (lam_window){.h = x->shape[2], .w = x->shape[3], .kh = w->shape[2], .kw = w->shape[3], .sh = stride.h,
                         .sw = stride.w, .ph = padding.h, .pw = padding.w, .dh = dilation.h, .dw = dilation.w};
    p.win.oh = lam_window_out(p.win.h, p.win.kh, p.win.sh, p.win.ph, p.win.dh, 0);
    p.win.ow = lam_window_out(p.win.w, p.win.kw, p.win.sw, p.win.pw, p.win.dw, 0);
    p.k = p.c * p.win.kh * p.win.kw;
    p.pointwise = p.win.kh == 1 && p.win.kw == 1 && p.win.sh == 1 && p.win.sw == 1 && p.win.ph == 0 &&
                  p.win.pw == 0 && groups == 1;
    int64_t per_image = conv_image_elems(p.k, p.oc, ohw(&p), p.c * p.win.h * p.win.w);
    p.chunk = per_image > 0 ? chunk_budget(p.dev) / per_image : p.n;
    if (p.chunk < 1) p.chunk = 1;
    if (p.chunk > p.n) p.chunk = p.n > 0 ? p.n : 1;
    return p;
}

/* dx, dW and db from the saved input and weight; args: stride, padding, dilation, groups. */
static lam_status conv2d_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *x = n->in[0], *w = n->in[1];
    const int64_t *a = n->arg;
    lam_dtype dt = lam_promote(x->dtype, w->dtype);
    conv_plan p = plan_of(x, w, (lam_hw){a[0], a[1]}, (lam_hw){a[2], a[3]}, (lam_hw){a[4], a[5]}, a[6], dt);
    conv_grads q = {.x = lam_dense(x, dt), .w = lam_dense(w, dt), .g = lam_dense(g, dt)};
    if (!q.x || !q.w || !q.g) return lam_last_status();
    if (lam_input_needs_grad(n, 0) && !(q.gx = lam_tensor_alloc(dt, x->ndim, x->shape, p.dev))) return lam_last_status();
    if (lam_input_needs_grad(n, 1) && !(q.gw = lam_tensor_alloc(dt, w->ndim, w->shape, p.dev))) return lam_last_status();
    if (p.n > 0 && conv_backward_run(&p, &q) != LAM_OK) return lam_last_status();
    if (p.n == 0 && q.gw && lam_fill_(q.gw, 0.0f) != LAM_OK) return lam_last_status();
    if (q.gx && !(gin[0] = lam_as_dtype(q.gx, x->dtype))) return lam_last_status();
    if (q.gw && !(gin[1] = lam_as_dtype(q.gw, w->dtype))) return lam_last_status();
    if (n->n_in > 2 && lam_input_needs_grad(n, 2)) {   /* db = dY summed over images and positions */
        lam_tensor *per_image = lam_sum_dim(lam_reshape(g, LAM_SHAPE(p.n, p.oc, ohw(&p))), 2, false);
        if (!(gin[2] = lam_sum_dim(per_image, 0, false))) return lam_last_status();
    }
    return LAM_OK;
}

/* The checks PyTorch makes, with the shapes in the message; false + LAM_ERR_SHAPE/ARG. */
static bool conv_valid(lam_tensor *x, lam_tensor *w, lam_tensor *b, lam_hw stride, lam_hw padding, lam_hw dilation,
                       int64_t groups) {
    const char *op = "lam_conv2d";
    char xs[96], ws[96], bs[96];
    lam_shape_str(x, xs, sizeof xs);
    lam_shape_str(w, ws, sizeof ws);
    if (x->ndim != 4) LAM_FAIL_FALSE(LAM_ERR_SHAPE, "%s: expected a 4-D input (N, C, H, W), got %s", op, xs);
    if (w->ndim != 4)
        LAM_FAIL_FALSE(LAM_ERR_SHAPE, "%s: expected a 4-D weight (out, in / groups, kh, kw), got %s", op, ws);
    if (!lam_window_params_valid(op, stride, padding, dilation)) return false;
    if (groups < 1 || x->shape[1] % groups || w->shape[0] % groups)
        LAM_FAIL_FALSE(LAM_ERR_ARG, "%s: groups %lld must be positive and divide the input channels of %s and the "
                             "output channels of weight %s", op, (long long)groups, xs, ws);
    if (x->shape[1] == 0 || w->shape[1] * groups != x->shape[1])
        LAM_FAIL_FALSE(LAM_ERR_SHAPE, "%s: input %s has %lld channels, but weight %s with groups %lld expects %lld",
                             op, xs, (long long)x->shape[1], ws, (long long)groups, (long long)(w->shape[1] * groups));
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        LAM_FAIL_FALSE(LAM_ERR_SHAPE, "%s: bias %s does not match weight %s (expected (%lld,))", op,
                             lam_shape_str(b, bs, sizeof bs), ws, (long long)w->shape[0]);
    int64_t oh = lam_window_out(x->shape[2], w->shape[2], stride.h, padding.h, dilation.h, 0);
    int64_t ow = lam_window_out(x->shape[3], w->shape[3], stride.w, padding.w, dilation.w, 0);
    if (oh < 1 || ow < 1)
        LAM_FAIL_FALSE(LAM_ERR_SHAPE, "%s: kernel (%lld, %lld) with dilation (%lld, %lld) is larger than input %s "
                             "padded by (%lld, %lld)", op, (long long)w->shape[2], (long long)w->shape[3],
                             (long long)dilation.h, (long long)dilation.w, xs, (long long)padding.h, (long long)padding.w);
    int64_t col[2] = {x->shape[1] * w->shape[2] * w->shape[3], oh * ow};
    if (!lam_shape_valid(op, 2, col, LAM_F32) || !lam_shape_valid(op, 4, (int64_t[]){x->shape[0], w->shape[0], oh, ow}, LAM_F32))
        return false;
    if (conv_image_elems(col[0], w->shape[0], col[1], x->shape[1] * x->shape[2] * x->shape[3]) > INT32_MAX)
        LAM_FAIL_FALSE(LAM_ERR_SHAPE, "%s: one image of input %s with weight %s needs over 2^31 workspace elements", op,
                       xs, ws);
    return true;
}

lam_tensor *lam_conv2d(lam_tensor *x, lam_tensor *weight, lam_tensor *bias, lam_hw stride, lam_hw padding,
                       lam_hw dilation, int64_t groups) {
    const char *op = "lam_conv2d";
    LAM_CHECK_ARG(op, x);
    LAM_CHECK_ARG(op, weight);
    if (!lam_require_float(op, x) || !lam_require_float(op, weight) || !lam_same_device(op, x, weight)) return NULL;
    if (bias && (!lam_require_float(op, bias) || !lam_same_device(op, x, bias))) return NULL;
    if (!conv_valid(x, weight, bias, stride, padding, dilation, groups)) return NULL;
    lam_dtype dt = lam_promote(lam_promote(x->dtype, weight->dtype), bias ? bias->dtype : LAM_F16);
    conv_plan p = plan_of(x, weight, stride, padding, dilation, groups, dt);
    bool grad = lam_grad_enabled(false);   /* the op's own steps are not recorded */
    lam_scope_begin();
    lam_tensor *xd = lam_dense(x, dt), *wd = lam_dense(weight, dt), *bd = bias ? lam_dense(bias, dt) : NULL;
    lam_tensor *y = lam_scope_end_keep(xd && wd && (bd || !bias) ? conv_forward(&p, xd, wd, bd) : NULL);
    lam_grad_enabled(grad);
    lam_node *n;
    lam_tensor *in[3] = {x, weight, bias};
    if (!lam_recorded(y, op, conv2d_backward, bias ? 3 : 2, in, &n)) return NULL;
    int64_t args[7] = {stride.h, stride.w, padding.h, padding.w, dilation.h, dilation.w, groups};
    for (int i = 0; n && i < 7; ++i) n->arg[i] = args[i];
    return y;
}
