/* BatchNorm1d and BatchNorm2d: lam_batch_norm with PyTorch's parameters (weight = 1,
 * bias = 0), buffers (running_mean = 0, running_var = 1, i64 num_batches_tracked = 0) and
 * update rule, so state_dicts load both ways. Training normalizes with the batch's
 * statistics and moves the running ones; eval (lam_train(m, false)) uses the running ones,
 * unless track_running_stats is off. momentum NAN is PyTorch's None: a cumulative average. */
#include <math.h>
#include <stdio.h>

#include "core/error.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"
#include "nn/module_impl.h"
#include "ops/cnn_impl.h"

typedef struct {
    int64_t num_features;
    int dims;   /* 1 or 2: which inputs the layer takes */
    float eps, momentum;
    bool affine, track;
    lam_tensor *weight, *bias, *running_mean, *running_var, *num_batches_tracked;
} bn_state;

/* PyTorch's reset_parameters: reset_running_stats, then weight 1 and bias 0. */
static lam_status bn_reset(lam_module *m) {
    bn_state *s = lam_self(m);
    bool prev = lam_grad_enabled(false);
    lam_status st = LAM_OK;
    lam_tensor *fills[5] = {s->running_mean, s->running_var, s->num_batches_tracked, s->weight, s->bias};
    const float values[5] = {0.0f, 1.0f, 0.0f, 1.0f, 0.0f};
    for (int i = 0; i < 5 && st == LAM_OK; ++i)
        if (fills[i]) st = lam_fill_(fills[i], values[i]);
    lam_grad_enabled(prev);
    return st;
}

static void bn_repr(const lam_module *m, char *buf, size_t size) {
    const bn_state *s = lam_self_const(m);
    char momentum[32];
    if (isnan(s->momentum)) snprintf(momentum, sizeof momentum, "None");
    else snprintf(momentum, sizeof momentum, "%g", (double)s->momentum);
    snprintf(buf, size, "%lld, eps=%g, momentum=%s, affine=%s, track_running_stats=%s", (long long)s->num_features,
             (double)s->eps, momentum, s->affine ? "True" : "False", s->track ? "True" : "False");
}

/* BatchNorm1d takes (N, C) or (N, C, L), BatchNorm2d (N, C, H, W), C = num_features. */
static bool input_valid(lam_module *m, lam_tensor *x) {
    const bn_state *s = lam_self(m);
    int nd = lam_ndim(x);
    bool ok = s->dims == 1 ? nd == 2 || nd == 3 : nd == 4;
    if (ok && lam_dim(x, 1) == s->num_features) return true;
    char sh[96];
    lam_set_error(LAM_ERR_SHAPE, "%s: expected %s input with %lld channels, got %s", m->cls->name,
                  s->dims == 1 ? "a 2-D (N, C) or 3-D (N, C, L)" : "a 4-D (N, C, H, W)", (long long)s->num_features,
                  lam_shape_str(x, sh, sizeof sh));
    return false;
}

static lam_tensor *bn_forward(lam_module *m, lam_tensor *x) {
    bn_state *s = lam_self(m);
    if (!input_valid(m, x)) return NULL;
    bool training = lam_is_training(m), update = training && s->track;
    float factor = s->momentum;
    if (update && isnan(factor)) {   /* None: the average of all batches so far, this one included */
        double seen = lam_item(s->num_batches_tracked);
        if (isnan(seen)) return NULL;
        factor = (float)(1.0 / (seen + 1.0));
    }
    lam_tensor *rm = s->track ? s->running_mean : NULL, *rv = s->track ? s->running_var : NULL;
    lam_tensor *y = lam_batch_norm(x, rm, rv, s->weight, s->bias, training || !s->track, factor, s->eps);
    if (y && update && lam_batch_norm_count_(s->num_batches_tracked) != LAM_OK) return NULL;
    return y;
}

static const lam_module_class BATCH_NORM1D = {.name = "BatchNorm1d", .state_size = sizeof(bn_state),
                                              .forward = bn_forward, .extra_repr = bn_repr, .reset_parameters = bn_reset};
static const lam_module_class BATCH_NORM2D = {.name = "BatchNorm2d", .state_size = sizeof(bn_state),
                                              .forward = bn_forward, .extra_repr = bn_repr, .reset_parameters = bn_reset};

/* Registers the parameters and buffers PyTorch's layer has, in its order. */
static lam_status bn_register(lam_module *m) {
    bn_state *s = lam_self(m);
    lam_device *dev = lam_module_device(m);
    int64_t c = s->num_features;
    bool prev = lam_grad_enabled(false);
    if (s->affine) {
        s->weight = lam_add_param(m, "weight", lam_empty(LAM_F32, LAM_SHAPE(c), dev));
        s->bias = s->weight ? lam_add_param(m, "bias", lam_empty(LAM_F32, LAM_SHAPE(c), dev)) : NULL;
    }
    if (s->track && (!s->affine || s->bias)) {
        s->running_mean = lam_add_buffer(m, "running_mean", lam_empty(LAM_F32, LAM_SHAPE(c), dev), true);
        s->running_var = s->running_mean ? lam_add_buffer(m, "running_var", lam_empty(LAM_F32, LAM_SHAPE(c), dev), true) : NULL;
        s->num_batches_tracked =
            s->running_var ? lam_add_buffer(m, "num_batches_tracked", lam_empty(LAM_I64, 0, NULL, dev), true) : NULL;
    }
    lam_grad_enabled(prev);
    if ((s->affine && !s->bias) || (s->track && !s->num_batches_tracked)) return lam_last_status();
    return bn_reset(m);
}

static lam_module *make_bn(const char *op, int dims, int64_t num_features, float eps, float momentum, bool affine,
                           bool track) {
    if (num_features < 1 || !(eps >= 0.0f))
        LAM_FAIL_NULL(LAM_ERR_ARG, "%s: num_features %lld must be positive and eps %g at least 0", op,
                      (long long)num_features, (double)eps);
    lam_module *m = lam_module_new(dims == 1 ? &BATCH_NORM1D : &BATCH_NORM2D);
    if (!m) return NULL;
    *(bn_state *)lam_self(m) = (bn_state){.num_features = num_features, .dims = dims, .eps = eps, .momentum = momentum,
                                          .affine = affine, .track = track};
    if (bn_register(m) != LAM_OK) {
        lam_module_free(m);
        return NULL;
    }
    return m;
}

lam_module *lam_nn_batch_norm1d(int64_t num_features) {
    return make_bn("lam_nn_batch_norm1d", 1, num_features, 1e-5f, 0.1f, true, true);
}

lam_module *lam_nn_batch_norm2d(int64_t num_features) {
    return make_bn("lam_nn_batch_norm2d", 2, num_features, 1e-5f, 0.1f, true, true);
}

lam_module *lam_nn_batch_norm1d_ex(int64_t num_features, float eps, float momentum, bool affine,
                                   bool track_running_stats) {
    return make_bn("lam_nn_batch_norm1d_ex", 1, num_features, eps, momentum, affine, track_running_stats);
}

lam_module *lam_nn_batch_norm2d_ex(int64_t num_features, float eps, float momentum, bool affine,
                                   bool track_running_stats) {
    return make_bn("lam_nn_batch_norm2d_ex", 2, num_features, eps, momentum, affine, track_running_stats);
}
