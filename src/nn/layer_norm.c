/* LayerNorm: normalizes over the last dims (normalized_shape), then an elementwise affine
 * map, PyTorch's nn.LayerNorm ("weight" ones, "bias" zeros). */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "lamina/ops.h"
#include "nn/module_impl.h"

typedef struct {
    int ndim;
    int64_t shape[LAM_MAX_DIMS];
    float eps;
    lam_tensor *weight, *bias;   /* NULL without the affine map; owned by the registry */
} layer_norm_state;

static lam_status layer_norm_reset(lam_module *m) {
    layer_norm_state *s = lam_self(m);
    lam_status st = s->weight ? lam_init_constant_(s->weight, 1.0f) : LAM_OK;
    return st == LAM_OK && s->bias ? lam_init_constant_(s->bias, 0.0f) : st;
}

static void layer_norm_repr(const lam_module *m, char *buf, size_t size) {
    const layer_norm_state *s = lam_self_const(m);
    char dims[160] = "(";
    for (int i = 0; i < s->ndim; ++i)
        snprintf(dims + strlen(dims), sizeof dims - strlen(dims), "%lld%s", (long long)s->shape[i],
                 s->ndim == 1 ? ",)" : i + 1 < s->ndim ? ", " : ")");
    snprintf(buf, size, "%s, eps=%g, elementwise_affine=%s", dims, (double)s->eps, s->weight ? "True" : "False");
}

static lam_tensor *layer_norm_forward(lam_module *m, lam_tensor *x) {
    layer_norm_state *s = lam_self(m);
    return lam_layer_norm(x, s->ndim, s->shape, s->weight, s->bias, s->eps);
}

static const lam_module_class LAYER_NORM = {.name = "LayerNorm", .state_size = sizeof(layer_norm_state),
                                            .forward = layer_norm_forward, .extra_repr = layer_norm_repr,
                                            .reset_parameters = layer_norm_reset};

lam_module *lam_nn_layer_norm(int ndim, const int64_t *normalized_shape, float eps, bool elementwise_affine) {
    bool ok = ndim >= 1 && ndim <= LAM_MAX_DIMS && normalized_shape && eps >= 0.0f;
    for (int i = 0; ok && i < ndim; ++i) ok = normalized_shape[i] > 0;
    if (!ok) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_nn_layer_norm: normalized_shape of %d positive sizes (1 to %d) and eps >= 0, got eps %g",
                           ndim, LAM_MAX_DIMS, (double)eps);
    lam_module *m = lam_module_new(&LAYER_NORM);
    if (!m) return NULL;
    layer_norm_state *s = lam_self(m);
    s->ndim = ndim;
    memcpy(s->shape, normalized_shape, (size_t)ndim * sizeof *s->shape);
    s->eps = eps;
    if (elementwise_affine) {
        lam_device *dev = lam_module_device(m);
        s->weight = lam_add_param(m, "weight", lam_empty(LAM_F32, ndim, normalized_shape, dev));
        s->bias = s->weight ? lam_add_param(m, "bias", lam_empty(LAM_F32, ndim, normalized_shape, dev)) : NULL;
        if (!s->bias || layer_norm_reset(m) != LAM_OK) {
            lam_module_free(m);
            return NULL;
        }
    }
    return m;
}
