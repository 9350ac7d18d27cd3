/* Host backend: the direct kernels of the optimizers, one pass over the parameter, its
 * gradient and its state, with the maths of cl/common.h that optim.cl compiles too. */
#include "backend/host/host.h"
#include "core/error.h"

#define AT(view) ((float *)(view).buf + (view).offset)

/* views p, g, buf; ints nesterov, first; floats lr, momentum, dampening, weight_decay */
lam_status lam_host_k_sgd(const lam_kernel_args *a) {
    float *p = AT(a->v[0]), *b = a->f[1] != 0.0f ? AT(a->v[2]) : NULL;
    const float *g = AT(a->v[1]);
    const int64_t n = a->work;
    const float lr = a->f[0], mom = a->f[1], damp = a->f[2], wd = a->f[3];
    const int nesterov = (int)a->i[0], first = (int)a->i[1];
#pragma omp parallel for LAM_HOST_THREADS if (n > LAM_HOST_PAR_MIN)
    for (int64_t i = 0; i < n; ++i) {
        float bi = b ? b[i] : 0.0f;
        lam_sgd_update(&p[i], g[i], &bi, lr, mom, damp, wd, nesterov, first);
        if (b) b[i] = bi;
    }
    return LAM_OK;
}

/* views p, g, m, v; int decoupled; floats lr, beta1, beta2, eps, weight_decay, bias1, bias2 */
lam_status lam_host_k_adam(const lam_kernel_args *a) {
    float *p = AT(a->v[0]), *m = AT(a->v[2]), *v = AT(a->v[3]);
    const float *g = AT(a->v[1]);
    const int64_t n = a->work;
    const float *f = a->f;
    const int decoupled = (int)a->i[0];
#pragma omp parallel for LAM_HOST_THREADS if (n > LAM_HOST_PAR_MIN)
    for (int64_t i = 0; i < n; ++i)
        lam_adam_update(&p[i], g[i], &m[i], &v[i], f[0], f[1], f[2], f[3], f[4], f[5], f[6], decoupled);
    return LAM_OK;
}
