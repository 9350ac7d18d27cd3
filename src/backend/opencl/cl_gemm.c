/* GEMM through CLBlast: row-major; one Sgemm per call, or SgemmStridedBatched for batches. */
#include <clblast_c.h>

#include "backend/opencl/cl_backend.h"
#include "core/error.h"

lam_status lam_cl_gemm(lam_device *d, const lam_gemm_args *g) {
    lam_cl_ctx *c = lam_cl(d);
    if (g->m == 0 || g->n == 0 || g->batch == 0) return LAM_OK;
    CLBlastTranspose ta = g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose tb = g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    lam_cl_before_compile(c);   /* CLBlast builds its programs on this thread, on first use */
    cl_event ev = NULL;
    CLBlastStatusCode st;
    const char *routine;
    if (g->batch == 1) {
        routine = "CLBlastSgemm";
        st = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, (size_t)g->m, (size_t)g->n, (size_t)g->k, g->alpha,
                          (cl_mem)g->a, (size_t)g->a_off, (size_t)g->lda, (cl_mem)g->b, (size_t)g->b_off,
                          (size_t)g->ldb, g->beta, (cl_mem)g->c, (size_t)g->c_off, (size_t)g->ldc, &c->queue, &ev);
    } else {
        routine = "CLBlastSgemmStridedBatched";
        st = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, (size_t)g->m, (size_t)g->n, (size_t)g->k,
                                        g->alpha, (cl_mem)g->a, (size_t)g->a_off, (size_t)g->lda,
                                        (size_t)g->a_stride, (cl_mem)g->b, (size_t)g->b_off, (size_t)g->ldb,
                                        (size_t)g->b_stride, g->beta, (cl_mem)g->c, (size_t)g->c_off,
                                        (size_t)g->ldc, (size_t)g->c_stride, (size_t)g->batch, &c->queue, &ev);
    }
    if (ev) clReleaseEvent(ev);
    if (st != CLBlastSuccess)
        return lam_set_error(LAM_ERR_BACKEND, "%s(%lld x %lld x %lld, batch %lld) on %s: CLBlast status %d", routine,
                             (long long)g->m, (long long)g->n, (long long)g->k, (long long)g->batch, d->spec,
                             (int)st);
    return LAM_OK;
}
