/* Host backend: the whole convolution (backend.h's conv2d entries), chunks of images in
 * parallel, each thread running im2col, single-threaded GEMMs and the scatter of its own
 * chunk in its own cache-sized scratch. Small per-chunk GEMMs split across threads spend
 * more on synchronisation than on arithmetic (2 threads ran the ResNet step slower than 1);
 * chunks split across threads do not. Each thread's OpenMP count is 1 inside the region, so
 * OpenBLAS's OpenMP build runs its calls on that thread alone.
 *
 * Results do not depend on the thread count: every chunk's arithmetic is fixed, and the
 * weight gradient, a sum over chunks, is summed in fixed slots (consecutive chunks in order,
 * each slot into its own partial) added up in slot order. The slot count depends on the
 * shapes only. */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "backend/host/host.h"
#include "core/error.h"

#define F32(view) ((float *)(view).buf + (view).offset)
#define MAX_SLOTS 64                         /* weight-gradient partials: parallelism of dW */
#define SLOT_BUDGET ((int64_t)16 << 20)      /* bytes of partials at most (fewer slots if big) */

typedef struct {
    const lam_conv_args *a;
    int64_t s, cols, kg, ocg;   /* output positions, col columns per chunk, per-group K and OC */
} plan;

static plan plan_of(const lam_conv_args *a) {
    plan p = {.a = a, .s = a->win.oh * a->win.ow};
    p.cols = a->chunk * p.s;
    p.kg = a->c / a->groups * a->win.kh * a->win.kw;
    p.ocg = a->oc / a->groups;
    return p;
}

static int64_t chunks_of(const lam_conv_args *a) { return (a->n + a->chunk - 1) / a->chunk; }

/* Scratch of lanes x per floats from the device pool (pooled: steady state allocates nothing). */
static float *scratch(lam_device *d, int64_t lanes, int64_t per) {
    return d->ops->alloc(d, (size_t)lanes * (size_t)per * sizeof(float));
}

/* ---- forward ---------------------------------------------------------------------------- */

/* y[n0, n0 + nc) = W @ im2col(x) per group, plus the bias; tmp holds (OC, nc OH OW). */
static void forward_chunk(const plan *p, int64_t n0, int64_t nc, float *col, float *tmp) {
    const lam_conv_args *a = p->a;
    const int64_t cn = nc * p->s, plane = a->c * a->win.h * a->win.w;
    float *y = F32(a->y) + n0 * a->oc * p->s;
    const float *w = F32(a->w), *b = a->b.buf ? F32(a->b) : NULL;
    float *out = nc == 1 ? y : tmp;   /* one image's (OC, OH OW) is its NCHW block already */
    lam_host_im2col_f32(col, F32(a->x) + n0 * plane, &a->win, a->c, nc);
    for (int64_t gi = 0; gi < a->groups; ++gi)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->ocg, (int)cn, (int)p->kg, 1.0f,
                    w + gi * p->ocg * p->kg, (int)p->kg, col + gi * p->kg * cn, (int)cn, 0.0f,
                    out + gi * p->ocg * cn, (int)cn);
    for (int64_t img = 0; img < nc; ++img)
        for (int64_t o = 0; o < a->oc; ++o) {
            float *dst = y + (img * a->oc + o) * p->s;
            const float *src = out + o * cn + img * p->s, add = b ? b[o] : 0.0f;
            if (dst != src || b)
                for (int64_t k = 0; k < p->s; ++k) dst[k] = src[k] + add;
        }
}

lam_status lam_host_conv2d(lam_device *d, const lam_conv_args *a) {
    lam_status st;
    if (lam_host_conv2d_dnnl(d, a, &st)) return st;
    const plan p = plan_of(a);
    const int64_t chunks = chunks_of(a), col_n = p.kg * a->groups * p.cols, tmp_n = a->oc * p.cols;
    int lanes = lam_host_threads();
    if (lanes > chunks) lanes = (int)chunks;
    float *buf = scratch(d, lanes, col_n + tmp_n);
    if (!buf) return lam_last_status();
#pragma omp parallel num_threads(lanes)
    {
        float *col = buf + (int64_t)omp_get_thread_num() * (col_n + tmp_n), *tmp = col + col_n;
        omp_set_num_threads(1);   /* one-thread GEMMs, in a team of one too */
#pragma omp for schedule(dynamic, 1)
        for (int64_t ch = 0; ch < chunks; ++ch) {
            int64_t n0 = ch * a->chunk, nc = a->n - n0 < a->chunk ? a->n - n0 : a->chunk;
            forward_chunk(&p, n0, nc, col, tmp);
        }
    }
    d->ops->free(d, buf);
    return LAM_OK;
}

/* ---- backward --------------------------------------------------------------------------- */

/* Slots for the weight gradient's partial sums: as many as fit the budget, one per chunk at most. */
static int64_t slots_of(const lam_conv_args *a, int64_t chunks) {
    if (!a->gw.buf) return chunks;   /* no sum across chunks: every chunk on its own */
    int64_t dw = a->oc * (a->c / a->groups) * a->win.kh * a->win.kw;
    int64_t fit = SLOT_BUDGET / (dw * (int64_t)sizeof(float));
    int64_t s = chunks < MAX_SLOTS ? chunks : MAX_SLOTS;
    if (fit < s) s = fit;
    return s < 1 ? 1 : s;
}

/* One chunk: gp = dY as (OC, nc OH OW); dW_slot (+)= gp col^T; dx chunk = col2im(W^T gp). */
static void backward_chunk(const plan *p, int64_t n0, int64_t nc, float *dw, bool first, float *col, float *gp,
                           float *dcol) {
    const lam_conv_args *a = p->a;
    const int64_t cn = nc * p->s, plane = a->c * a->win.h * a->win.w;
    const float *g = F32(a->g) + n0 * a->oc * p->s, *w = F32(a->w);
    if (nc > 1)
        for (int64_t img = 0; img < nc; ++img)
            for (int64_t o = 0; o < a->oc; ++o)
                memcpy(gp + o * cn + img * p->s, g + (img * a->oc + o) * p->s, (size_t)p->s * sizeof(float));
    const float *G = nc > 1 ? gp : g;
    if (dw) {
        lam_host_im2col_f32(col, F32(a->x) + n0 * plane, &a->win, a->c, nc);
        for (int64_t gi = 0; gi < a->groups; ++gi)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)p->ocg, (int)p->kg, (int)cn, 1.0f,
                        G + gi * p->ocg * cn, (int)cn, col + gi * p->kg * cn, (int)cn, first ? 0.0f : 1.0f,
                        dw + gi * p->ocg * p->kg, (int)p->kg);
    }
    if (a->gx.buf) {
        for (int64_t gi = 0; gi < a->groups; ++gi)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p->kg, (int)cn, (int)p->ocg, 1.0f,
                        w + gi * p->ocg * p->kg, (int)p->kg, G + gi * p->ocg * cn, (int)cn, 0.0f,
                        dcol + gi * p->kg * cn, (int)cn);
        lam_host_col2im_f32(F32(a->gx) + n0 * plane, dcol, &a->win, a->c, nc);
    }
}

lam_status lam_host_conv2d_backward(lam_device *d, const lam_conv_args *a) {
    lam_status st;
    if (lam_host_conv2d_backward_dnnl(d, a, &st)) return st;
    const plan p = plan_of(a);
    const int64_t chunks = chunks_of(a), slots = slots_of(a, chunks);
    const int64_t dw_n = a->oc * p.kg, col_n = p.kg * a->groups * p.cols, gp_n = a->oc * p.cols;
    const int64_t lane_n = 2 * col_n + gp_n;
    int lanes = lam_host_threads();
    if (lanes > slots) lanes = (int)slots;
    float *buf = scratch(d, lanes, lane_n);
    float *part = buf && a->gw.buf && slots > 1 ? scratch(d, slots - 1, dw_n) : NULL;
    if (!buf || (a->gw.buf && slots > 1 && !part)) {
        if (buf) d->ops->free(d, buf);
        return lam_last_status();
    }
#pragma omp parallel num_threads(lanes)
    {
        float *col = buf + (int64_t)omp_get_thread_num() * lane_n, *dcol = col + col_n, *gp = dcol + col_n;
        omp_set_num_threads(1);
#pragma omp for schedule(dynamic, 1)
        for (int64_t sl = 0; sl < slots; ++sl) {   /* slot sl: chunks [sl C / S, (sl + 1) C / S) in order */
            float *dw = !a->gw.buf ? NULL : sl == 0 ? F32(a->gw) : part + (sl - 1) * dw_n;
            for (int64_t ch = sl * chunks / slots; ch < (sl + 1) * chunks / slots; ++ch) {
                int64_t n0 = ch * a->chunk, nc = a->n - n0 < a->chunk ? a->n - n0 : a->chunk;
                backward_chunk(&p, n0, nc, dw, ch == sl * chunks / slots, col, gp, dcol);
            }
        }
    }
    if (part) {   /* dW = slot 0 + slot 1 + ... in slot order, whatever the threads */
        float *gw = F32(a->gw);
#pragma omp parallel for LAM_HOST_THREADS if (dw_n * slots > LAM_HOST_PAR_MIN)
        for (int64_t i = 0; i < dw_n; ++i) {
            float s = gw[i];
            for (int64_t sl = 1; sl < slots; ++sl) s += part[(sl - 1) * dw_n + i];
            gw[i] = s;
        }
        d->ops->free(d, part);
    }
    d->ops->free(d, buf);
    return LAM_OK;
}
