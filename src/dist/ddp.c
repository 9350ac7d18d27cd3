/* DistributedDataParallel (PyTorch's scheme): gradients in buckets of about 25 MB, filled
 * with the parameters in reverse registration order, each bucket's allreduce started as soon
 * as backward has finished its gradients (the autograd gradient-ready hook), buckets started
 * in index order so every rank issues the same collectives in the same order. Gradients are
 * staged through one host slab (OpenCL devices cannot hand MPI their memory). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/profile.h"
#include "core/error.h"
#include "dist/dist_impl.h"
#include "lamina/autograd.h"
#include "tensor/tensor_impl.h"

#define DEFAULT_BUCKET_BYTES ((size_t)25 << 20)
#define DEFAULT_FIRST_BUCKET_BYTES ((size_t)1 << 20)

typedef struct {
    int first, count;       /* entries [first, first + count) of lam_ddp.order */
    size_t numel;           /* floats from the slab offset of its first parameter */
    int pending;            /* parameters not final yet this step */
    bool launched, done;
    lam_comm_request req;
} bucket;

typedef struct {
    const lam_tensor *t;
    int index;
} lookup_entry;

struct lam_ddp {
    lam_module *m;
    lam_ddp_options opt;
    lam_tensor_list params, buffers;
    int *order;            /* parameter indices, reverse registration order (bucket order) */
    int *bucket_of;        /* per parameter */
    size_t *offset;        /* per parameter: floats into slab */
    bool *ready;           /* per parameter, this step */
    int n_ready;           /* how many are */
    lookup_entry *lookup;  /* sorted by tensor, for the hook */
    bucket *b;
    int nb, next_launch;
    float *slab;
    size_t slab_n;
    double weight;
    bool forwarded;        /* lam_ddp_forward broadcast the buffers this step */
    bool in_backward;      /* lam_backward is running (buckets started now overlap it) */
    bool checked_params;   /* the first step found no parameter added since lam_ddp_new */
    lam_ddp_stats stats;
};

static int by_tensor(const void *a, const void *b) {
    const lam_tensor *x = ((const lookup_entry *)a)->t, *y = ((const lookup_entry *)b)->t;
    return x < y ? -1 : x > y;
}

static int find_param(const lam_ddp *d, const lam_tensor *t) {
    lookup_entry key = {t, -1};
    const lookup_entry *e = bsearch(&key, d->lookup, (size_t)d->params.n, sizeof key, by_tensor);
    return e ? e->index : -1;
}

static lam_status check_params(const lam_tensor_list *p) {
    for (int i = 0; i < p->n; ++i)
        if (lam_tensor_dtype(p->items[i].tensor) != LAM_F32)
            return lam_set_error(LAM_ERR_ARG, "lam_ddp_new: parameter %s is %s; data parallel training needs f32 "
                                 "parameters", p->items[i].name, lam_dtype_name(lam_tensor_dtype(p->items[i].tensor)));
    return LAM_OK;
}

/* Buckets over the parameters in reverse order, the first up to first_bucket_bytes, the
 * others up to bucket_bytes (a larger parameter gets one of its own); slab offsets follow the
 * same order. */
static void plan_buckets(lam_ddp *d) {
    size_t cap = d->opt.bucket_bytes / sizeof(float), first = d->opt.first_bucket_bytes / sizeof(float), off = 0;
    for (int k = 0; k < d->params.n; ++k) {
        int i = d->params.n - 1 - k;
        size_t n = (size_t)lam_numel(d->params.items[i].tensor);
        bucket *cur = d->nb ? &d->b[d->nb - 1] : NULL;
        if (!cur || (cur->count > 0 && cur->numel + n > (d->nb == 1 ? first : cap))) cur = &d->b[d->nb++];
        d->order[k] = i;
        if (cur->count++ == 0) cur->first = k;
        cur->numel += n;
        d->bucket_of[i] = (int)(cur - d->b);
        d->offset[i] = off;
        d->lookup[k] = (lookup_entry){d->params.items[i].tensor, i};
        off += n;
    }
    d->slab_n = off;
    qsort(d->lookup, (size_t)d->params.n, sizeof *d->lookup, by_tensor);
}

static lam_status allocate(lam_ddp *d) {
    size_t n = (size_t)d->params.n + 1;
    d->order = calloc(n, sizeof *d->order);
    d->bucket_of = calloc(n, sizeof *d->bucket_of);
    d->offset = calloc(n, sizeof *d->offset);
    d->ready = calloc(n, sizeof *d->ready);
    d->lookup = calloc(n, sizeof *d->lookup);
    d->b = calloc(n, sizeof *d->b);
    if (!d->order || !d->bucket_of || !d->offset || !d->ready || !d->lookup || !d->b)
        return lam_set_error(LAM_ERR_OOM, "lam_ddp_new: out of memory for %d parameters", d->params.n);
    plan_buckets(d);
    d->slab = malloc((d->slab_n ? d->slab_n : 1) * sizeof *d->slab);
    if (!d->slab) return lam_set_error(LAM_ERR_OOM, "lam_ddp_new: out of memory for %zu gradient floats", d->slab_n);
    return LAM_OK;
}

void lam_ddp_free(lam_ddp *d) {
    if (!d) return;
    for (int k = 0; k < d->nb; ++k) lam_comm_wait(&d->b[k].req, "lam_ddp_free");
    lam_tensor_list_free(&d->params);
    lam_tensor_list_free(&d->buffers);
    free(d->order);
    free(d->bucket_of);
    free(d->offset);
    free(d->ready);
    free(d->lookup);
    free(d->b);
    free(d->slab);
    free(d);
}

lam_ddp *lam_ddp_new(lam_module *m, const lam_ddp_options *opt) {
    const char *op = "lam_ddp_new";
    lam_ddp *d = calloc(1, sizeof *d);
    if (!d) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_ddp_new: out of memory");
    d->m = m;
    d->opt = opt ? *opt : (lam_ddp_options){0};
    if (!d->opt.bucket_bytes) d->opt.bucket_bytes = DEFAULT_BUCKET_BYTES;
    if (!d->opt.first_bucket_bytes) d->opt.first_bucket_bytes = DEFAULT_FIRST_BUCKET_BYTES;
    if (d->opt.first_bucket_bytes > d->opt.bucket_bytes) d->opt.first_bucket_bytes = d->opt.bucket_bytes;
    lam_tensor_list all = {0};
    char header[96];
    snprintf(header, sizeof header, "ddp buckets %zu %zu local_buffers %d", d->opt.first_bucket_bytes,
             d->opt.bucket_bytes, d->opt.local_buffers);
    /* the local checks fail quietly until the collective check, so every rank fails there */
    lam_status local = lam_tensor_list_of(m, true, false, &d->params, op);
    if (local == LAM_OK) local = lam_tensor_list_of(m, false, true, &d->buffers, op);
    if (local == LAM_OK) local = check_params(&d->params);
    if (local == LAM_OK) local = allocate(d);
    char why[512] = "";
    if (local != LAM_OK) snprintf(why, sizeof why, "%s", lam_last_error());
    /* a rank that failed above still takes part, with a header no other rank has */
    lam_status st = lam_tensor_list_of(m, true, true, &all, op);
    if (st == LAM_OK) st = lam_dist_check_same(&all, local == LAM_OK ? header : "a rank that failed", op);
    if (st == LAM_OK) st = lam_dist_broadcast_list(&all, op);
    lam_tensor_list_free(&all);
    if (local != LAM_OK || st != LAM_OK) {
        if (local != LAM_OK) lam_set_error(local, "%s", why);
        lam_ddp_free(d);
        return NULL;
    }
    d->stats.buckets = d->nb;
    d->stats.grad_bytes = (int64_t)(d->slab_n * sizeof(float));
    return d;
}

lam_status lam_ddp_broadcast_buffers(lam_ddp *d) {
    if (!d) {
        lam_null_arg("lam_ddp_broadcast_buffers");
        return lam_last_status();
    }
    if (d->opt.local_buffers || d->buffers.n == 0) return LAM_OK;
    double t0 = lam_dist_now();
    lam_status st = lam_dist_broadcast_list(&d->buffers, "lam_ddp_broadcast_buffers");
    d->stats.broadcast_s += lam_dist_now() - t0;
    return st;
}

lam_tensor *lam_ddp_forward(lam_ddp *d, lam_tensor *x) {
    if (!d) {
        lam_null_arg("lam_ddp_forward");
        return NULL;
    }
    lam_status st = lam_ddp_broadcast_buffers(d);
    d->forwarded = true;
    return st == LAM_OK ? lam_forward(d->m, x) : NULL;
}

/* Copies parameter i's gradient (zeros without one) into the slab, times the weight. */
static lam_status stage_in(lam_ddp *d, int i) {
    double t0 = lam_dist_now();
    lam_tensor *g = lam_grad(d->params.items[i].tensor);
    float *dst = d->slab + d->offset[i];
    size_t n = (size_t)lam_numel(d->params.items[i].tensor);
    lam_status st = LAM_OK;
    if (g) st = lam_read(g, dst, n * sizeof *dst);
    else memset(dst, 0, n * sizeof *dst);
    if (d->weight != 1.0)
        for (size_t k = 0; k < n; ++k) dst[k] = (float)(dst[k] * d->weight);
    d->ready[i] = true;
    d->n_ready++;
    --d->b[d->bucket_of[i]].pending;
    d->stats.staging_s += lam_dist_now() - t0;
    return st;
}

/* Starts every bucket whose turn has come and whose gradients are all in. While backward
 * still has gradients to make, lets the started ones progress: MPI moves non-blocking
 * collectives on only when it is called, and one test of the oldest moves them all. Once
 * every gradient is in, the wait does it (a test then is only cost: with
 * mpi_yield_when_idle it gives the core away). */
static lam_status launch_and_progress(lam_ddp *d) {
    lam_status st = LAM_OK;
    while (st == LAM_OK && d->next_launch < d->nb && d->b[d->next_launch].pending == 0) {
        bucket *b = &d->b[d->next_launch++];
        float *buf = d->slab + d->offset[d->order[b->first]];
        st = LAM_PROFILED("ddp_allreduce_start", lam_host_device(), 4.0 * (double)b->numel, 0,
                          lam_comm_iallreduce_f32(buf, b->numel, &b->req, "lam_ddp_backward"));
        b->launched = st == LAM_OK;
        if (b->launched && d->in_backward) d->stats.early_buckets++;
    }
    bool more_to_come = d->in_backward && d->n_ready < d->params.n;
    for (int k = 0; st == LAM_OK && more_to_come && k < d->next_launch; ++k)
        if (!d->b[k].done) {
            st = LAM_PROFILED("ddp_allreduce_test", lam_host_device(), 0, 0,
                              lam_comm_test(&d->b[k].req, &d->b[k].done, "lam_ddp_backward"));
            break;
        }
    return st;
}

static lam_status on_grad_ready(lam_tensor *leaf, void *user) {
    lam_ddp *d = user;
    int i = find_param(d, leaf);
    if (i < 0) return LAM_OK;   /* a leaf that is not one of the model's parameters */
    if (d->ready[i])
        return lam_set_error(LAM_ERR_STATE, "lam_ddp_backward: %s's gradient was reported twice in one step",
                             d->params.items[i].name);
    lam_status st = stage_in(d, i);
    return st == LAM_OK ? launch_and_progress(d) : st;
}

static void begin_step(lam_ddp *d, double weight) {
    for (int i = 0; i < d->params.n; ++i) d->ready[i] = false;
    d->n_ready = 0;
    for (int k = 0; k < d->nb; ++k) {
        d->b[k].pending = d->b[k].count;
        d->b[k].launched = d->b[k].done = false;
    }
    d->next_launch = 0;
    d->weight = weight;
}

/* Gradients backward did not report (not reached, or backward failed) go in as they are,
 * the remaining buckets start, and every allreduce is waited for: all ranks finish the step's
 * collectives even when one of them failed, so none is left waiting. */
static lam_status finish_collectives(lam_ddp *d) {
    lam_status st = LAM_OK;
    for (int k = 0; k < d->params.n; ++k) {
        int i = d->order[k];
        lam_status s = d->ready[i] ? LAM_OK : stage_in(d, i);
        if (st == LAM_OK) st = s;
    }
    lam_status s = launch_and_progress(d);
    if (st == LAM_OK) st = s;
    double t0 = lam_dist_now();
    for (int k = 0; k < d->nb; ++k) {   /* the allreduce time backward did not hide */
        s = LAM_PROFILED("ddp_allreduce_wait", lam_host_device(), d->b[k].done ? 0 : 4.0 * (double)d->b[k].numel, 0,
                         lam_comm_wait(&d->b[k].req, "lam_ddp_backward"));
        if (st == LAM_OK) st = s;
    }
    d->stats.wait_s += lam_dist_now() - t0;
    return st;
}

/* The summed gradients back into every parameter's gradient (made if it had none). */
static lam_status stage_out(lam_ddp *d) {
    double t0 = lam_dist_now();
    lam_status st = LAM_OK;
    for (int i = 0; st == LAM_OK && i < d->params.n; ++i) {
        lam_tensor *p = d->params.items[i].tensor;
        if (!p->grad && !(p->grad = lam_keep(lam_zeros_like(p)))) st = lam_last_status();
        if (st == LAM_OK) st = lam_write(p->grad, d->slab + d->offset[i], (size_t)lam_numel(p) * sizeof(float));
    }
    d->stats.staging_s += lam_dist_now() - t0;
    return st;
}

/* Lazy layers that materialized after lam_ddp_new would hold different random weights on
 * each rank: refused at the first step. */
static lam_status check_no_new_params(lam_ddp *d) {
    int n = lam_named_parameters(d->m, NULL, 0);
    d->checked_params = true;
    if (n != d->params.n)
        return lam_set_error(LAM_ERR_STATE, "lam_ddp_backward: the model has %d parameters, %d when lam_ddp_new saw "
                             "it (a lazy layer materialized?): run one forward before lam_ddp_new", n, d->params.n);
    return LAM_OK;
}

lam_status lam_ddp_backward(lam_ddp *d, lam_tensor *loss, double weight) {
    if (!d) {
        lam_null_arg("lam_ddp_backward");
        return lam_last_status();
    }
    double t0 = lam_dist_now();
    /* a local failure still makes the step's collectives (with the gradients there are) */
    lam_status st = LAM_OK;
    if (!(weight >= 0.0) || !isfinite(weight))
        st = lam_set_error(LAM_ERR_ARG, "lam_ddp_backward: weight %g is not a finite number >= 0", weight);
    else if (!loss && weight != 0.0) lam_null_arg("lam_ddp_backward"), st = lam_last_status();
    else if (!d->checked_params) st = check_no_new_params(d);
    begin_step(d, st == LAM_OK ? weight : 0.0);
    if (!d->forwarded) {   /* a rank with no examples still takes part in the broadcast */
        lam_status s = lam_ddp_broadcast_buffers(d);
        if (st == LAM_OK) st = s;
    }
    d->forwarded = false;
    if (st == LAM_OK && loss) {
        lam_grad_hook old = lam_set_grad_hook((lam_grad_hook){on_grad_ready, d});
        d->in_backward = true;
        st = lam_backward(loss);
        d->in_backward = false;
        lam_set_grad_hook(old);
    }
    lam_status s = finish_collectives(d);
    if (st == LAM_OK) st = s;
    if (st == LAM_OK) st = stage_out(d);
    d->stats.steps++;
    d->stats.backward_s += lam_dist_now() - t0;
    return st;
}

lam_status lam_ddp_get_stats(const lam_ddp *d, lam_ddp_stats *out) {
    if (!d || !out) return lam_set_error(LAM_ERR_ARG, "lam_ddp_get_stats: NULL argument");
    *out = d->stats;
    return LAM_OK;
}
