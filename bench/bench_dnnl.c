/* bench_dnnl: oneDNN's convolutions (Debian's libdnnl, the library PyTorch's CPU convolutions
 * use) beside lamina's on `cpu`, at bench_cnn's layer shapes (the ResNet's and the LeNet's):
 * forward, backward (input and weight gradients together, as a training step needs both),
 * in GFLOP/s of the direct convolution. oneDNN runs twice: on plain NCHW memory (what
 * lamina's tensors are; oneDNN then takes its GEMM-based kernels) and in the blocked
 * layouts it prefers, with the reorders from and to NCHW counted in the time. It shares
 * lamina's OpenMP threads (LAMINA_NUM_THREADS). Each time is the median of 3 rounds of
 * --reps calls after a warm-up call.
 *
 *   bench_dnnl [--reps N]
 */
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lamina.h>

#include "cnn_layers.h"


static int reps = 5;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of 3 rounds of reps calls, seconds per call. */
static double median_s(void (*fn)(void *), void *arg) {
    fn(arg);
    double r[3];
    for (int k = 0; k < 3; ++k) {
        double t = now();
        for (int i = 0; i < reps; ++i) fn(arg);
        r[k] = (now() - t) / reps;
    }
    qsort(r, 3, sizeof *r, cmp_double);
    return r[1];
}

static int64_t out_size(const layer *l) { return (l->size + 2 * (l->k / 2) - l->k) / l->s + 1; }

static double flops(const layer *l) {
    int64_t o = out_size(l);
    return 2.0 * (double)(l->n * l->oc * o * o) * (double)(l->c * l->k * l->k);
}

#define CHECK(call)                                                                            \
    do {                                                                                       \
        dnnl_status_t st_ = (call);                                                            \
        if (st_ != dnnl_success) {                                                             \
            fprintf(stderr, "bench_dnnl: %s: status %d\n", #call, (int)st_);                   \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

/* ---- oneDNN ------------------------------------------------------------------------------ */

static dnnl_engine_t engine;
static dnnl_stream_t stream;

/* One tensor: NCHW memory the caller sees, and the layout a primitive wants (a reorder
 * each way when they differ). */
typedef struct {
    dnnl_memory_t user, inner;
    dnnl_primitive_t to_inner, to_user;
} operand;

static void operand_init(operand *o, const dnnl_memory_desc_t *user_md, const dnnl_memory_desc_t *want) {
    memset(o, 0, sizeof *o);
    CHECK(dnnl_memory_create(&o->user, user_md, engine, DNNL_MEMORY_ALLOCATE));
    if (dnnl_memory_desc_equal(user_md, want)) {
        o->inner = o->user;
        return;
    }
    CHECK(dnnl_memory_create(&o->inner, want, engine, DNNL_MEMORY_ALLOCATE));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_reorder_primitive_desc_create(&pd, user_md, engine, want, engine, NULL));
    CHECK(dnnl_primitive_create(&o->to_inner, pd));
    dnnl_primitive_desc_destroy(pd);
    CHECK(dnnl_reorder_primitive_desc_create(&pd, want, engine, user_md, engine, NULL));
    CHECK(dnnl_primitive_create(&o->to_user, pd));
    dnnl_primitive_desc_destroy(pd);
}

static void reorder(dnnl_primitive_t r, dnnl_memory_t from, dnnl_memory_t to) {
    if (!r) return;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    CHECK(dnnl_primitive_execute(r, stream, 2, args));
}

static void operand_free(operand *o) {
    if (o->inner != o->user) dnnl_memory_destroy(o->inner);
    dnnl_memory_destroy(o->user);
    if (o->to_inner) dnnl_primitive_destroy(o->to_inner);
    if (o->to_user) dnnl_primitive_destroy(o->to_user);
}

static const dnnl_memory_desc_t *want(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

/* The three primitives of one layer and their operands: x, w, y for the forward, dy, dx, dw
 * for the backward (dx and dw from one dy reorder). */
typedef struct {
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    operand x, w, y, dy, dx, dw;
} conv;

static void conv_init(conv *cv, const layer *l, bool blocked) {
    int64_t o = out_size(l), p = l->k / 2;
    dnnl_dims_t xd = {l->n, l->c, l->size, l->size}, wd = {l->oc, l->c, l->k, l->k}, yd = {l->n, l->oc, o, o};
    dnnl_dims_t strides = {l->s, l->s}, dil = {0, 0}, pad = {p, p};
    dnnl_memory_desc_t x_nchw, w_oihw, y_nchw, x_any, w_any, y_any;
    CHECK(dnnl_memory_desc_init_by_tag(&x_nchw, 4, xd, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&w_oihw, 4, wd, dnnl_f32, dnnl_oihw));
    CHECK(dnnl_memory_desc_init_by_tag(&y_nchw, 4, yd, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&x_any, 4, xd, dnnl_f32, blocked ? dnnl_format_tag_any : dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&w_any, 4, wd, dnnl_f32, blocked ? dnnl_format_tag_any : dnnl_oihw));
    CHECK(dnnl_memory_desc_init_by_tag(&y_any, 4, yd, dnnl_f32, blocked ? dnnl_format_tag_any : dnnl_nchw));
    dnnl_convolution_desc_t fd, dd, wgd;
    CHECK(dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &x_any,
                                                     &w_any, NULL, &y_any, strides, dil, pad, pad));
    CHECK(dnnl_dilated_convolution_backward_data_desc_init(&dd, dnnl_convolution_direct, &x_any, &w_any, &y_any,
                                                           strides, dil, pad, pad));
    CHECK(dnnl_dilated_convolution_backward_weights_desc_init(&wgd, dnnl_convolution_direct, &x_any, &w_any, NULL,
                                                              &y_any, strides, dil, pad, pad));
    dnnl_primitive_desc_t fpd, dpd, wpd;
    CHECK(dnnl_primitive_desc_create(&fpd, &fd, NULL, engine, NULL));
    CHECK(dnnl_primitive_desc_create(&dpd, &dd, NULL, engine, fpd));
    CHECK(dnnl_primitive_desc_create(&wpd, &wgd, NULL, engine, fpd));
    CHECK(dnnl_primitive_create(&cv->fwd, fpd));
    CHECK(dnnl_primitive_create(&cv->bwd_data, dpd));
    CHECK(dnnl_primitive_create(&cv->bwd_weights, wpd));
    operand_init(&cv->x, &x_nchw, want(fpd, dnnl_query_src_md));
    operand_init(&cv->w, &w_oihw, want(fpd, dnnl_query_weights_md));
    operand_init(&cv->y, &y_nchw, want(fpd, dnnl_query_dst_md));
    operand_init(&cv->dy, &y_nchw, want(dpd, dnnl_query_diff_dst_md));
    operand_init(&cv->dx, &x_nchw, want(dpd, dnnl_query_diff_src_md));
    operand_init(&cv->dw, &w_oihw, want(wpd, dnnl_query_diff_weights_md));
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(dpd);
    dnnl_primitive_desc_destroy(wpd);
}

static void conv_free(conv *cv) {
    dnnl_primitive_destroy(cv->fwd);
    dnnl_primitive_destroy(cv->bwd_data);
    dnnl_primitive_destroy(cv->bwd_weights);
    operand *ops[] = {&cv->x, &cv->w, &cv->y, &cv->dy, &cv->dx, &cv->dw};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; ++i) operand_free(ops[i]);
}

/* y = conv(x, w) from NCHW to NCHW: the input reorders, the convolution, the output reorder. */
static void onednn_forward(void *arg) {
    conv *cv = arg;
    reorder(cv->x.to_inner, cv->x.user, cv->x.inner);
    reorder(cv->w.to_inner, cv->w.user, cv->w.inner);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, cv->x.inner}, {DNNL_ARG_WEIGHTS, cv->w.inner}, {DNNL_ARG_DST, cv->y.inner}};
    CHECK(dnnl_primitive_execute(cv->fwd, stream, 3, args));
    reorder(cv->y.to_user, cv->y.inner, cv->y.user);
    CHECK(dnnl_stream_wait(stream));
}

/* dx and dw from dy (NCHW), x and w as the forward left them (in its layouts). */
static void onednn_backward(void *arg) {
    conv *cv = arg;
    reorder(cv->dy.to_inner, cv->dy.user, cv->dy.inner);
    dnnl_exec_arg_t data[3] = {{DNNL_ARG_DIFF_DST, cv->dy.inner}, {DNNL_ARG_WEIGHTS, cv->w.inner},
                               {DNNL_ARG_DIFF_SRC, cv->dx.inner}};
    CHECK(dnnl_primitive_execute(cv->bwd_data, stream, 3, data));
    dnnl_exec_arg_t weights[3] = {{DNNL_ARG_DIFF_DST, cv->dy.inner}, {DNNL_ARG_SRC, cv->x.inner},
                                  {DNNL_ARG_DIFF_WEIGHTS, cv->dw.inner}};
    CHECK(dnnl_primitive_execute(cv->bwd_weights, stream, 3, weights));
    reorder(cv->dx.to_user, cv->dx.inner, cv->dx.user);
    reorder(cv->dw.to_user, cv->dw.inner, cv->dw.user);
    CHECK(dnnl_stream_wait(stream));
}

/* ---- lamina ------------------------------------------------------------------------------ */

typedef struct { lam_tensor *x, *w, *g; int64_t s, p; } lam_conv;

static void lamina_forward(void *arg) {
    lam_conv *c = arg;
    lam_scope_begin();
    bool was = lam_grad_enabled(false);
    lam_conv2d(c->x, c->w, NULL, LAM_HW(c->s), LAM_HW(c->p), LAM_HW(1), 1);
    lam_grad_enabled(was);
    lam_scope_end();
}

/* Forward (recorded) and backward for both gradients: the backward alone is the difference. */
static void lamina_forward_backward(void *arg) {
    lam_conv *c = arg;
    lam_scope_begin();
    lam_backward_with(lam_conv2d(c->x, c->w, NULL, LAM_HW(c->s), LAM_HW(c->p), LAM_HW(1), 1), c->g);
    lam_scope_end();
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_dnnl [--reps N]\n");
            return 1;
        }
    }
    if (reps < 1) reps = 1;
    lam_device *cpu = lam_device_get("cpu");
    lam_set_default_device(cpu);
    lam_conv2d(lam_zeros(LAM_SHAPE(1, 1, 3, 3), cpu), lam_zeros(LAM_SHAPE(1, 1, 1, 1), cpu), NULL, LAM_HW(1),
               LAM_HW(0), LAM_HW(1), 1);   /* the thread count applied to this thread's OpenMP, for oneDNN too */
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    const dnnl_version_t *v = dnnl_version();
    printf("oneDNN %d.%d.%d (%s), lamina cpu, %d thread(s); GFLOP/s of the direct convolution, backward = both "
           "gradients\n", v->major, v->minor, v->patch, v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other",
           lam_get_num_threads());
    printf("%-8s %10s %10s %10s   %10s %10s %10s   %s\n", "layer", "lamina fwd", "dnnl nchw", "dnnl blk", "lamina bwd",
           "dnnl nchw", "dnnl blk", "lamina / best oneDNN (fwd, bwd)");
    for (int i = 0; i < NLAYERS; ++i) {
        const layer *l = &layers[i];
        double f = flops(l) * 1e-9, t[2][3];
        lam_scope_begin();
        lam_manual_seed(0);
        int64_t o = out_size(l);
        lam_conv c = {.x = lam_requires_grad(lam_randn(LAM_SHAPE(l->n, l->c, l->size, l->size), cpu), true),
                      .w = lam_requires_grad(lam_randn(LAM_SHAPE(l->oc, l->c, l->k, l->k), cpu), true),
                      .g = lam_randn(LAM_SHAPE(l->n, l->oc, o, o), cpu), .s = l->s, .p = l->k / 2};
        t[0][0] = median_s(lamina_forward, &c);
        t[1][0] = median_s(lamina_forward_backward, &c) - t[0][0];
        lam_scope_end();
        for (int blocked = 0; blocked < 2; ++blocked) {
            conv cv;
            conv_init(&cv, l, blocked);
            t[0][1 + blocked] = median_s(onednn_forward, &cv);
            t[1][1 + blocked] = median_s(onednn_backward, &cv);
            conv_free(&cv);
        }
        double bf = t[0][1] < t[0][2] ? t[0][1] : t[0][2], bb = t[1][1] < t[1][2] ? t[1][1] : t[1][2];
        printf("%-8s %10.1f %10.1f %10.1f   %10.1f %10.1f %10.1f   %.2f %.2f\n", l->name, f / t[0][0], f / t[0][1],
               f / t[0][2], 2 * f / t[1][0], 2 * f / t[1][1], 2 * f / t[1][2], t[0][0] / bf, t[1][0] / bb);
    }
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(engine);
    return 0;
}
