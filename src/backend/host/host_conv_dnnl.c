/* Host backend: convolutions through oneDNN (libdnnl, what PyTorch's CPU convolutions use),
 * where CMake found it (LAMINA_WITH_DNNL). bench/bench_dnnl measured its kernels, in the
 * blocked layouts it prefers, at 1.1-2.3x lamina's im2col + GEMM on the ResNet's and LeNet's
 * layers, except the backward of single-channel first layers, where lamina's own were faster.
 * Those, grouped convolutions and everything when LAMINA_DNNL=0 run lamina's own kernels
 * (host_conv_chunks.c).
 *
 * Each call reorders NCHW tensors into the layouts oneDNN chose and back, through buffers
 * from the host pool; the primitives are made once per shape and kept (a cache under a
 * lock). oneDNN shares lamina's OpenMP threads; its weight gradient sums over the batch in
 * per-thread parts, so with oneDNN the bits may change with the thread count (lamina's own
 * kernels do not). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend/host/host.h"
#include "core/error.h"

#ifdef LAMINA_WITH_DNNL
#include <dnnl.h>

#define F32(view) ((float *)(view).buf + (view).offset)
#define CACHE_SIZE 256   /* shapes x kinds; past it, lamina's own kernels run the new ones */

enum { FWD, FWD_BIAS, BWD_DATA, BWD_WEIGHTS };
enum { X, W, B, Y, SLOTS };   /* the operands of a primitive: src / weights / bias / dst, or their diffs */

/* One primitive for one shape: its NCHW descriptors, the layouts it wants, and the reorders
 * between them (NULL where they agree). */
typedef struct {
    int64_t key[16];
    dnnl_primitive_t prim;
    dnnl_memory_desc_t user[SLOTS], inner[SLOTS];
    dnnl_primitive_t to_inner[SLOTS], to_user[SLOTS];
} entry;

static entry *cache[CACHE_SIZE];
static int cached;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static dnnl_engine_t engine;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static bool engine_ok;

static void engine_init(void) {
    const char *env = getenv("LAMINA_DNNL");
    if (env && strcmp(env, "0") == 0) return;
    engine_ok = dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success;
}

static void entry_free(entry *e) {
    if (!e) return;
    if (e->prim) dnnl_primitive_destroy(e->prim);
    for (int s = 0; s < SLOTS; ++s) {
        if (e->to_inner[s]) dnnl_primitive_destroy(e->to_inner[s]);
        if (e->to_user[s]) dnnl_primitive_destroy(e->to_user[s]);
    }
    free(e);
}

__attribute__((destructor)) static void cache_free(void) {
    for (int i = 0; i < cached; ++i) entry_free(cache[i]);
    cached = 0;
    if (engine_ok) dnnl_engine_destroy(engine);
    engine_ok = false;
}

static bool make_reorder(dnnl_primitive_t *out, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to) {
    dnnl_primitive_desc_t pd;
    if (dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, NULL) != dnnl_success) return false;
    bool ok = dnnl_primitive_create(out, pd) == dnnl_success;
    dnnl_primitive_desc_destroy(pd);
    return ok;
}

/* Slot s of e: NCHW user descriptor u, the layout the primitive wants (query what, index i),
 * reorders each way. */
static bool bind(entry *e, int s, const dnnl_memory_desc_t *u, const_dnnl_primitive_desc_t pd, dnnl_query_t what,
                 int i) {
    const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, what, i);
    if (!want) return false;
    e->user[s] = *u;
    e->inner[s] = *want;
    if (dnnl_memory_desc_equal(u, want)) return true;
    return make_reorder(&e->to_inner[s], u, want) && make_reorder(&e->to_user[s], want, u);
}

/* The oneDNN dimensions of a convolution: PyTorch's symmetric padding, with a right padding
 * that gives oneDNN the same output size. */
typedef struct { dnnl_dims_t x, w, b, y, strides, dil, pl, pr; } dims;

/* The left padding again where oneDNN's output rule gives out with it, else the least that
 * does (-1: none). */
static int64_t right_pad(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, int64_t d) {
    int64_t span = (k - 1) * d + 1;
    if ((in + 2 * p - span) / s + 1 == out) return p;
    int64_t r = (out - 1) * s + span - in - p;
    return r >= 0 ? r : -1;
}

static bool dims_of(const lam_conv_args *a, dims *d) {
    const lam_window *g = &a->win;
    int64_t xd[] = {a->n, a->c, g->h, g->w}, wd[] = {a->oc, a->c, g->kh, g->kw}, yd[] = {a->n, a->oc, g->oh, g->ow};
    memcpy(d->x, xd, sizeof xd);
    memcpy(d->w, wd, sizeof wd);
    memcpy(d->y, yd, sizeof yd);
    d->b[0] = a->oc;
    d->strides[0] = g->sh, d->strides[1] = g->sw;
    d->dil[0] = g->dh - 1, d->dil[1] = g->dw - 1;
    d->pl[0] = g->ph, d->pl[1] = g->pw;
    d->pr[0] = right_pad(g->h, g->oh, g->kh, g->sh, g->ph, g->dh);
    d->pr[1] = right_pad(g->w, g->ow, g->kw, g->sw, g->pw, g->dw);
    return d->pr[0] >= 0 && d->pr[1] >= 0;
}

/* A new primitive of kind for a's shape, or NULL. */
static entry *entry_make(const lam_conv_args *a, int kind) {
    dims d = {0};
    if (!dims_of(a, &d)) return NULL;
    dnnl_memory_desc_t ux, uw, ub, uy, ax, aw, ay;
    dnnl_memory_desc_init_by_tag(&ux, 4, d.x, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(&uw, 4, d.w, dnnl_f32, dnnl_oihw);
    dnnl_memory_desc_init_by_tag(&ub, 1, d.b, dnnl_f32, dnnl_a);
    dnnl_memory_desc_init_by_tag(&uy, 4, d.y, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(&ax, 4, d.x, dnnl_f32, dnnl_format_tag_any);   /* the layouts it prefers */
    dnnl_memory_desc_init_by_tag(&aw, 4, d.w, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&ay, 4, d.y, dnnl_f32, dnnl_format_tag_any);
    dnnl_convolution_desc_t fd, cd;
    dnnl_primitive_desc_t hint = NULL, pd = NULL;
    entry *e = calloc(1, sizeof *e);
    bool ok = e && dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
                                                              &ax, &aw, kind == FWD_BIAS ? &ub : NULL, &ay, d.strides,
                                                              d.dil, d.pl, d.pr) == dnnl_success &&
              dnnl_primitive_desc_create(&hint, &fd, NULL, engine, NULL) == dnnl_success;
    if (ok && kind == BWD_DATA)
        ok = dnnl_dilated_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &ax, &aw, &ay, d.strides,
                                                              d.dil, d.pl, d.pr) == dnnl_success &&
             dnnl_primitive_desc_create(&pd, &cd, NULL, engine, hint) == dnnl_success;
    else if (ok && kind == BWD_WEIGHTS)
        ok = dnnl_dilated_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &ax, &aw, NULL, &ay,
                                                                 d.strides, d.dil, d.pl, d.pr) == dnnl_success &&
             dnnl_primitive_desc_create(&pd, &cd, NULL, engine, hint) == dnnl_success;
    else if (ok) {
        pd = hint;
        hint = NULL;
    }
    if (ok) {
        ok = dnnl_primitive_create(&e->prim, pd) == dnnl_success;
        bool diff = kind == BWD_DATA || kind == BWD_WEIGHTS;
        ok = ok && bind(e, X, &ux, pd, kind == BWD_DATA ? dnnl_query_diff_src_md : dnnl_query_src_md, 0);
        ok = ok && bind(e, W, &uw, pd, kind == BWD_WEIGHTS ? dnnl_query_diff_weights_md : dnnl_query_weights_md, 0);
        ok = ok && bind(e, Y, &uy, pd, diff ? dnnl_query_diff_dst_md : dnnl_query_dst_md, 0);
        ok = ok && (kind != FWD_BIAS || bind(e, B, &ub, pd, dnnl_query_weights_md, 1));   /* bias: weights #1 */
    }
    if (hint) dnnl_primitive_desc_destroy(hint);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (!ok) {
        entry_free(e);
        return NULL;
    }
    return e;
}

/* The cached primitive of kind for a's shape (made on first use), or NULL. Entries stay until
 * exit: another thread may be running one, so none is ever evicted. */
static entry *lookup(const lam_conv_args *a, int kind) {
    int64_t key[16] = {a->n, a->c, a->oc, a->win.h, a->win.w, a->win.oh, a->win.ow, a->win.kh, a->win.kw,
                       a->win.sh, a->win.sw, a->win.ph, a->win.pw, a->win.dh, a->win.dw, kind};
    pthread_mutex_lock(&lock);
    entry *e = NULL;
    for (int i = 0; i < cached && !e; ++i)
        if (memcmp(cache[i]->key, key, sizeof key) == 0) e = cache[i];
    if (!e && cached < CACHE_SIZE && (e = entry_make(a, kind))) {
        memcpy(e->key, key, sizeof key);
        cache[cached++] = e;
    }
    pthread_mutex_unlock(&lock);
    return e;
}

/* One operand during a call: the user's NCHW memory and, where the layouts differ, a pooled
 * buffer in the primitive's layout. */
typedef struct { dnnl_memory_t user, inner; void *buf; } bound;

static bool bound_open(lam_device *d, const entry *e, int s, void *data, bound *b) {
    memset(b, 0, sizeof *b);
    if (dnnl_memory_create(&b->user, &e->user[s], engine, data) != dnnl_success) return false;
    if (!e->to_inner[s]) {
        b->inner = b->user;
        return true;
    }
    size_t bytes = dnnl_memory_desc_get_size(&e->inner[s]);
    b->buf = d->ops->alloc(d, bytes ? bytes : 1);
    return b->buf && dnnl_memory_create(&b->inner, &e->inner[s], engine, b->buf) == dnnl_success;
}

static void bound_close(lam_device *d, bound *b) {
    if (b->inner && b->inner != b->user) dnnl_memory_destroy(b->inner);
    if (b->user) dnnl_memory_destroy(b->user);
    if (b->buf) d->ops->free(d, b->buf);
}

static bool reorder(dnnl_stream_t st, dnnl_primitive_t r, dnnl_memory_t from, dnnl_memory_t to) {
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    return !r || dnnl_primitive_execute(r, st, 2, args) == dnnl_success;
}

/* Runs e with its operands: in slots are reordered in first, out slots back afterwards. */
static lam_status run(lam_device *d, const entry *e, void *const data[SLOTS], const int arg[SLOTS], unsigned out) {
    bound b[SLOTS] = {0};
    dnnl_exec_arg_t args[SLOTS];
    dnnl_stream_t st = NULL;
    int n = 0;
    bool ok = dnnl_stream_create(&st, engine, dnnl_stream_default_flags) == dnnl_success, oom = false;
    for (int s = 0; ok && s < SLOTS; ++s) {
        if (!data[s]) continue;
        ok = bound_open(d, e, s, data[s], &b[s]);
        oom = !ok && b[s].user && e->to_inner[s] && !b[s].buf;   /* the pool's LAM_ERR_OOM stands */
        if (ok && !(out & 1u << s)) ok = reorder(st, e->to_inner[s], b[s].user, b[s].inner);
        args[n++] = (dnnl_exec_arg_t){arg[s], b[s].inner};
    }
    ok = ok && dnnl_primitive_execute(e->prim, st, n, args) == dnnl_success;
    for (int s = 0; ok && s < SLOTS; ++s)
        if (data[s] && out & 1u << s) ok = reorder(st, e->to_user[s], b[s].inner, b[s].user);
    ok = ok && dnnl_stream_wait(st) == dnnl_success;
    for (int s = 0; s < SLOTS; ++s) bound_close(d, &b[s]);
    if (st) dnnl_stream_destroy(st);
    if (ok) return LAM_OK;
    return oom ? lam_last_status() : lam_set_error(LAM_ERR_BACKEND, "cpu: oneDNN convolution failed");
}

/* oneDNN takes f32 ungrouped convolutions, and their backward from 8 input channels up
 * (lamina's own gradients of single-channel first layers were faster: bench_dnnl). */
static bool takes(const lam_conv_args *a, bool backward) {
    pthread_once(&engine_once, engine_init);
    return engine_ok && a->groups == 1 && (!backward || a->c >= 8);
}

bool lam_host_conv2d_dnnl(lam_device *d, const lam_conv_args *a, lam_status *st) {
    entry *e = takes(a, false) ? lookup(a, a->b.buf ? FWD_BIAS : FWD) : NULL;
    if (!e) return false;
    lam_host_threads();   /* oneDNN's OpenMP takes this thread's count */
    void *data[SLOTS] = {F32(a->x), F32(a->w), a->b.buf ? F32(a->b) : NULL, F32(a->y)};
    const int arg[SLOTS] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST};
    *st = run(d, e, data, arg, 1u << Y);
    return true;
}

bool lam_host_conv2d_backward_dnnl(lam_device *d, const lam_conv_args *a, lam_status *out) {
    entry *bd = takes(a, true) && a->gx.buf ? lookup(a, BWD_DATA) : NULL;
    entry *bw = takes(a, true) && a->gw.buf ? lookup(a, BWD_WEIGHTS) : NULL;
    if ((a->gx.buf && !bd) || (a->gw.buf && !bw)) return false;
    lam_host_threads();
    lam_status st = LAM_OK;
    if (bd) {
        void *data[SLOTS] = {F32(a->gx), F32(a->w), NULL, F32(a->g)};
        const int arg[SLOTS] = {DNNL_ARG_DIFF_SRC, DNNL_ARG_WEIGHTS, 0, DNNL_ARG_DIFF_DST};
        st = run(d, bd, data, arg, 1u << X);
    }
    if (st == LAM_OK && bw) {
        void *data[SLOTS] = {F32(a->x), F32(a->gw), NULL, F32(a->g)};
        const int arg[SLOTS] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_WEIGHTS, 0, DNNL_ARG_DIFF_DST};
        st = run(d, bw, data, arg, 1u << W);
    }
    *out = st;
    return true;
}

#else
bool lam_host_conv2d_dnnl(lam_device *d, const lam_conv_args *a, lam_status *st) {
    (void)d, (void)a, (void)st;
    return false;
}
bool lam_host_conv2d_backward_dnnl(lam_device *d, const lam_conv_args *a, lam_status *st) {
    (void)d, (void)a, (void)st;
    return false;
}
#endif
