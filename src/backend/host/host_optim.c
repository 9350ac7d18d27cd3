/* Host backend: fused optimizer steps, one pass over the parameter, gradient and state.
 * The per-element maths is cl/common.h, the same text optim.cl compiles. */
#include "backend/host/host_optim.h"

#define AT(view) ((float *)(view).buf + (view).offset)

lam_status lam_host_sgd_step(lam_device *d, const lam_sgd_args *a) {
    (void)d;
    float *p = AT(a->param), *b = a->momentum != 0.0f ? AT(a->buf) : NULL;
    const float *g = AT(a->grad);
    const int64_t n = a->n;
    const float lr = a->lr, mom = a->momentum, damp = a->dampening, wd = a->weight_decay;
    const int nesterov = a->nesterov, first = a->first;
#pragma omp parallel for if (n > LAM_HOST_PAR_MIN)
    for (int64_t i = 0; i < n; ++i) {
        float bi = b ? b[i] : 0.0f;
        lam_sgd_update(&p[i], g[i], &bi, lr, mom, damp, wd, nesterov, first);
        if (b) b[i] = bi;
    }
    return LAM_OK;
}

lam_status lam_host_adam_step(lam_device *d, const lam_adam_args *a) {
    (void)d;
    float *p = AT(a->param), *m = AT(a->m), *v = AT(a->v);
    const float *g = AT(a->grad);
    const int64_t n = a->n;
#pragma omp parallel for if (n > LAM_HOST_PAR_MIN)
    for (int64_t i = 0; i < n; ++i)
        lam_adam_update(&p[i], g[i], &m[i], &v[i], a->lr, a->beta1, a->beta2, a->eps, a->weight_decay,
                        a->bias1, a->bias2, a->decoupled);
    return LAM_OK;
}
