/* Data parallel over the devices of one process (lamina/parallel.h): replicas made by the
 * user's constructor, batches split by rows, one worker thread per device running forward and
 * backward, the replicas' gradients summed into replica 0 on its device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "dist/dist_impl.h"
#include "dist/workers.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"
#include "lamina/parallel.h"
#include "tensor/tensor_impl.h"

typedef struct {          /* one replica's part of a step */
    lam_tensor *x, *y;    /* its rows on its device; x NULL: no rows */
    double weight, loss;
    lam_status st;
    char error[512];
} dp_job;

struct lam_dp {
    int n;
    lam_module **rep;
    lam_device **dev;
    lam_tensor_list *params, *buffers;   /* per replica, in the same order */
    lam_workers *workers;
    dp_job *jobs;
    lam_dp_loss_fn loss_fn;              /* this step's */
    void *user_data;
};

void lam_dp_free(lam_dp *dp) {
    if (!dp) return;
    lam_workers_free(dp->workers);
    for (int i = 0; i < dp->n; ++i) {
        if (dp->params) lam_tensor_list_free(&dp->params[i]);
        if (dp->buffers) lam_tensor_list_free(&dp->buffers[i]);
        if (dp->rep) lam_module_free(dp->rep[i]);
    }
    free(dp->rep);
    free(dp->dev);
    free(dp->params);
    free(dp->buffers);
    free(dp->jobs);
    free(dp);
}

/* Replica i's tensor k matches replica 0's in name, dtype and shape. */
static lam_status same_layout(const lam_tensor_list *a, const lam_tensor_list *b, int i) {
    if (a->n != b->n)
        return lam_set_error(LAM_ERR_STATE, "lam_dp_new: replica %d has %d parameters and buffers, replica 0 has %d", i,
                             b->n, a->n);
    for (int k = 0; k < a->n; ++k) {
        lam_tensor *x = a->items[k].tensor, *y = b->items[k].tensor;
        char sx[96], sy[96];
        if (strcmp(a->items[k].name, b->items[k].name) || lam_tensor_dtype(x) != lam_tensor_dtype(y) ||
            strcmp(lam_shape_str(x, sx, sizeof sx), lam_shape_str(y, sy, sizeof sy)))
            return lam_set_error(LAM_ERR_STATE, "lam_dp_new: replica %d has %s %s %s where replica 0 has %s %s %s", i,
                                 b->items[k].name, lam_dtype_name(lam_tensor_dtype(y)), sy, a->items[k].name,
                                 lam_dtype_name(lam_tensor_dtype(x)), sx);
    }
    return LAM_OK;
}

static lam_status check_args(lam_module_ctor make, int n, lam_device *const *devs) {
    if (!make || !devs || n < 1) return lam_set_error(LAM_ERR_ARG, "lam_dp_new: %s", n < 1 ? "n < 1" : "NULL argument");
    for (int i = 0; i < n; ++i) {
        if (!devs[i]) return lam_set_error(LAM_ERR_ARG, "lam_dp_new: device %d is NULL", i);
        for (int j = 0; j < i; ++j)
            if (devs[j] == devs[i])
                return lam_set_error(LAM_ERR_ARG, "lam_dp_new: devices %d and %d are both %s", j, i, lam_device_spec(devs[i]));
    }
    return LAM_OK;
}

/* Replica i: made, moved to its device, listed and checked against replica 0. */
static lam_status make_replica(lam_dp *dp, int i, lam_module_ctor make, void *user_data) {
    dp->rep[i] = make(user_data);
    if (!dp->rep[i])
        return lam_set_error(lam_last_status() ? lam_last_status() : LAM_ERR_STATE,
                             "lam_dp_new: the constructor gave no replica %d: %s", i, lam_last_error());
    lam_status st = lam_module_to(dp->rep[i], dp->dev[i]);
    if (st == LAM_OK) st = lam_tensor_list_of(dp->rep[i], true, false, &dp->params[i], "lam_dp_new");
    if (st == LAM_OK) st = lam_tensor_list_of(dp->rep[i], false, true, &dp->buffers[i], "lam_dp_new");
    if (st == LAM_OK && i > 0) st = same_layout(&dp->params[0], &dp->params[i], i);
    if (st == LAM_OK && i > 0) st = same_layout(&dp->buffers[0], &dp->buffers[i], i);
    return st;
}

lam_dp *lam_dp_new(lam_module_ctor make, void *user_data, int n, lam_device *const *devs, const lam_dp_options *opt) {
    if (check_args(make, n, devs) != LAM_OK) return NULL;
    lam_dp *dp = calloc(1, sizeof *dp);
    if (!dp) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_dp_new: out of memory");
    dp->n = n;
    dp->rep = calloc((size_t)n, sizeof *dp->rep);
    dp->dev = calloc((size_t)n, sizeof *dp->dev);
    dp->params = calloc((size_t)n, sizeof *dp->params);
    dp->buffers = calloc((size_t)n, sizeof *dp->buffers);
    dp->jobs = calloc((size_t)n, sizeof *dp->jobs);
    lam_status st = dp->rep && dp->dev && dp->params && dp->buffers && dp->jobs
                        ? LAM_OK : lam_set_error(LAM_ERR_OOM, "lam_dp_new: out of memory for %d replicas", n);
    for (int i = 0; st == LAM_OK && i < n; ++i) {
        dp->dev[i] = devs[i];
        st = make_replica(dp, i, make, user_data);
    }
    if (st == LAM_OK) st = lam_dp_sync(dp);
    if (st == LAM_OK && !(dp->workers = lam_workers_new(n, opt ? opt->seed : 0))) st = lam_last_status();
    if (st != LAM_OK) {
        lam_dp_free(dp);
        return NULL;
    }
    return dp;
}

int lam_dp_count(const lam_dp *dp) { return dp ? dp->n : 0; }

lam_module *lam_dp_replica(lam_dp *dp, int i) {
    if (!dp || i < 0 || i >= dp->n) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_dp_replica: no replica %d", i);
    return dp->rep[i];
}

static lam_status copy_list(const lam_tensor_list *to, const lam_tensor_list *from) {
    lam_status st = LAM_OK;
    for (int k = 0; st == LAM_OK && k < to->n; ++k) st = lam_copy_(to->items[k].tensor, from->items[k].tensor);
    return st;
}

lam_status lam_dp_sync(lam_dp *dp) {
    if (!dp) return lam_set_error(LAM_ERR_ARG, "lam_dp_sync: NULL argument");
    lam_status st = LAM_OK;
    for (int i = 1; st == LAM_OK && i < dp->n; ++i) {
        st = copy_list(&dp->params[i], &dp->params[0]);
        if (st == LAM_OK) st = copy_list(&dp->buffers[i], &dp->buffers[0]);
    }
    return st;
}

/* Worker i: its replica's weighted loss and backward, in a scope of its own thread. */
static void run_replica(void *ctx, int i) {
    lam_dp *dp = ctx;
    dp_job *j = &dp->jobs[i];
    j->st = LAM_OK;
    if (!j->x) return;
    lam_clear_error();
    lam_scope_begin();
    lam_tensor *loss = dp->loss_fn(dp->rep[i], j->x, j->y, dp->user_data);
    j->st = loss ? lam_backward(lam_mul_scalar(loss, (float)j->weight)) : lam_last_status();
    if (j->st == LAM_OK && isnan(j->loss = lam_item(loss)) && lam_last_status() != LAM_OK) j->st = lam_last_status();
    if (j->st != LAM_OK) snprintf(j->error, sizeof j->error, "%s", lam_last_error());
    lam_scope_end();
}

/* Replica i's rows of t on its device, NULL when it has none (or on error: see *st). */
static lam_tensor *rows_for(lam_dp *dp, lam_tensor *t, int i, int64_t rows, lam_status *st) {
    int64_t a = rows * i / dp->n, b = rows * (i + 1) / dp->n;
    if (!t || a == b || *st != LAM_OK) return NULL;
    lam_tensor *part = lam_to(lam_slice(t, 0, a, b, 1), dp->dev[i]);
    if (!part) *st = lam_last_status();
    return part;
}

static lam_status split(lam_dp *dp, lam_tensor *x, lam_tensor *y) {
    int64_t rows = lam_ndim(x) > 0 ? lam_dim(x, 0) : 0;
    if (rows < 1) return lam_set_error(LAM_ERR_SHAPE, "lam_dp_backward: the batch has no rows to split");
    if (y && (lam_ndim(y) < 1 || lam_dim(y, 0) != rows))
        return lam_set_error(LAM_ERR_SHAPE, "lam_dp_backward: x has %lld rows but y %lld", (long long)rows,
                             (long long)(lam_ndim(y) > 0 ? lam_dim(y, 0) : 0));
    lam_status st = LAM_OK;
    for (int i = 0; i < dp->n; ++i) {
        dp->jobs[i] = (dp_job){.weight = (double)(rows * (i + 1) / dp->n - rows * i / dp->n) / (double)rows};
        dp->jobs[i].x = rows_for(dp, x, i, rows, &st);
        dp->jobs[i].y = rows_for(dp, y, i, rows, &st);
    }
    return st;
}

/* Replica 0's gradient of parameter k += the other replicas' (brought to its device). */
static lam_status sum_into_first(lam_dp *dp, int k) {
    lam_tensor *p0 = dp->params[0].items[k].tensor, *sum = p0->grad;
    for (int i = 1; i < dp->n; ++i) {
        lam_tensor *g = lam_grad(dp->params[i].items[k].tensor);
        if (!g) continue;
        lam_tensor *here = lam_to(g, dp->dev[0]);
        sum = sum ? lam_add(sum, here) : lam_contiguous(here);
        if (!sum) return lam_last_status();
    }
    if (sum && sum != p0->grad) {
        lam_release(p0->grad);
        p0->grad = lam_keep(sum);
    }
    return LAM_OK;
}

/* The first failing replica's error, named. */
static lam_status replica_error(const lam_dp *dp) {
    for (int i = 0; i < dp->n; ++i)
        if (dp->jobs[i].st != LAM_OK)
            return lam_set_error(dp->jobs[i].st, "lam_dp_backward: replica %d on %s: %s", i, lam_device_spec(dp->dev[i]),
                                 dp->jobs[i].error);
    return LAM_OK;
}

lam_status lam_dp_backward(lam_dp *dp, lam_tensor *x, lam_tensor *y, lam_dp_loss_fn loss_fn, void *user_data,
                           double *loss) {
    if (!dp || !x || !loss_fn) {
        lam_null_arg("lam_dp_backward");
        return lam_last_status();
    }
    lam_scope_begin();
    for (int i = 1; i < dp->n; ++i) lam_zero_grad(dp->rep[i]);
    lam_status st = lam_dp_sync(dp);
    bool was = lam_grad_enabled(false);   /* the split and the sum are not part of any graph */
    if (st == LAM_OK) st = split(dp, x, y);
    if (st == LAM_OK) {
        dp->loss_fn = loss_fn;
        dp->user_data = user_data;
        lam_workers_run(dp->workers, run_replica, dp);
        st = replica_error(dp);
    }
    for (int k = 0; st == LAM_OK && k < dp->params[0].n; ++k) st = sum_into_first(dp, k);
    lam_grad_enabled(was);
    double total = 0;
    for (int i = 0; i < dp->n; ++i) total += dp->jobs[i].x ? dp->jobs[i].weight * dp->jobs[i].loss : 0.0;
    if (loss) *loss = st == LAM_OK ? total : NAN;
    for (int i = 0; i < dp->n; ++i) dp->jobs[i].x = dp->jobs[i].y = NULL;
    lam_scope_end();
    return st;
}
