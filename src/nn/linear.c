/* Linear and LazyLinear: y = x W^T + b with W (out, in) and b (out), PyTorch's layout. */
#include <stdio.h>

#include "core/error.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"
#include "nn/module_impl.h"

typedef struct {
    int64_t in_features, out_features;
    bool has_bias;
    lam_tensor *weight, *bias;   /* owned by the module's registry */
} linear_state;

/* PyTorch's reset_parameters: W ~ U(+-1/sqrt(in)), b alike. */
static lam_status linear_reset(lam_module *m) {
    linear_state *s = lam_self(m);
    return s->weight ? lam_nn_reset_affine(s->weight, s->bias) : LAM_OK;   /* lazy: at materialization */
}

static void linear_repr(const lam_module *m, char *buf, size_t size) {
    const linear_state *s = lam_self_const(m);
    snprintf(buf, size, "in_features=%lld, out_features=%lld, bias=%s", (long long)s->in_features,
             (long long)s->out_features, s->has_bias ? "True" : "False");
}

static lam_tensor *linear_forward(lam_module *m, lam_tensor *x);

static const lam_module_class LINEAR = {.name = "Linear", .state_size = sizeof(linear_state),
                                        .forward = linear_forward, .extra_repr = linear_repr,
                                        .reset_parameters = linear_reset};
static const lam_module_class LAZY_LINEAR = {.name = "LazyLinear", .state_size = sizeof(linear_state),
                                             .forward = linear_forward, .extra_repr = linear_repr,
                                             .reset_parameters = linear_reset};

/* Creates, registers and initializes W (and b): all or nothing (lam_module_materialize). */
static lam_status materialize(lam_module *m, int64_t in_features) {
    linear_state *s = lam_self(m);
    s->in_features = in_features;   /* reset_parameters reads it */
    lam_status st = lam_module_materialize(m, LAM_SHAPE(s->out_features, in_features),
                                           s->has_bias ? s->out_features : 0, &s->weight, &s->bias);
    if (st != LAM_OK) s->in_features = 0;
    return st;
}

/* A LazyLinear becomes a Linear of in_features = in (PyTorch turns the class too). */
static lam_status lazy_materialize(lam_module *m, int64_t in) {
    lam_status st = materialize(m, in);
    if (st != LAM_OK) return st;
    m->lazy_pending = false;
    lam_module_set_class(m, &LINEAR);
    return LAM_OK;
}

/* A state_dict's weight (out_features, in) gives in. */
static bool lazy_infer(const lam_module *m, int ndim, const int64_t *shape, int64_t *in) {
    const linear_state *s = lam_self_const(m);
    if (ndim != 2 || shape[0] != s->out_features || shape[1] <= 0) return false;
    *in = shape[1];
    return true;
}

static int lazy_plan(const lam_module *m, int64_t in, lam_lazy_tensor *out, int max) {
    const linear_state *s = lam_self_const(m);
    int n = s->has_bias ? 2 : 1;
    if (max >= 1) out[0] = (lam_lazy_tensor){"weight", 2, {s->out_features, in}};
    if (max >= 2 && s->has_bias) out[1] = (lam_lazy_tensor){"bias", 1, {s->out_features}};
    return n;
}

static const lam_lazy_ops LAZY_LINEAR_OPS = {.key = "weight", .infer = lazy_infer, .plan = lazy_plan,
                                             .materialize = lazy_materialize};

static lam_tensor *linear_forward(lam_module *m, lam_tensor *x) {
    linear_state *s = lam_self(m);
    if (lam_ndim(x) < 1) LAM_FAIL_NULL(LAM_ERR_SHAPE, "input must have at least one dimension");
    int64_t in = lam_dim(x, -1);
    if (m->lazy_pending && lazy_materialize(m, in) != LAM_OK) return NULL;
    if (in != s->in_features) {
        char sh[96];
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "input %s does not match in_features=%lld", lam_shape_str(x, sh, sizeof sh),
                      (long long)s->in_features);
    }
    lam_tensor *y = lam_matmul(x, lam_transpose(s->weight, 0, 1));
    return s->bias ? lam_add(y, s->bias) : y;
}

static lam_module *make_linear(const char *op, int64_t in_features, int64_t out_features, bool bias, bool lazy) {
    if (out_features <= 0 || (!lazy && in_features <= 0))
        LAM_FAIL_NULL(LAM_ERR_ARG, "%s: features must be positive (in=%lld, out=%lld)", op, (long long)in_features,
                      (long long)out_features);
    lam_module *m = lam_module_new(lazy ? &LAZY_LINEAR : &LINEAR);
    if (!m) return NULL;
    linear_state *s = lam_self(m);
    s->out_features = out_features;
    s->has_bias = bias;
    m->lazy_pending = lazy;
    m->lazy = lazy ? &LAZY_LINEAR_OPS : NULL;
    if (!lazy && materialize(m, in_features) != LAM_OK) {
        lam_module_free(m);
        return NULL;
    }
    return m;
}

lam_module *lam_nn_linear(int64_t in_features, int64_t out_features) {
    return make_linear("lam_nn_linear", in_features, out_features, true, false);
}

lam_module *lam_nn_linear_nobias(int64_t in_features, int64_t out_features) {
    return make_linear("lam_nn_linear_nobias", in_features, out_features, false, false);
}

lam_module *lam_nn_lazy_linear(int64_t out_features) {
    return make_linear("lam_nn_lazy_linear", 0, out_features, true, true);
}
