/* GEMM through CLBlast: row-major; one Sgemm per call, or SgemmStridedBatched for batches. */
#include <clblast_c.h>

#include "backend/opencl/cl_backend.h"
#include "core/error.h"

/* Measured with POCL 3.1 on a 2-core AVX-512 EPYC (bench_core): 3-5x CLBlast's defaults.
 * Work-groups of 4x4 items, each a 16x16 register tile in float8 vectors; the indirect
 * kernel from m*n*k = 64^3 up, where CLBlast's CPU default keeps its slow direct kernel
 * until about 384^3. */
void lam_cl_gemm_tune_cpu(lam_cl_ctx *c) {
    static const char *names[] = {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
                                  "NDIMC", "NWG",   "SA",   "SB",  "STRM",  "STRN",  "VWM", "VWN"};
    static const size_t values[] = {0, 1, 16, 1, 4, 4, 64, 4, 4, 64, 0, 0, 0, 0, 8, 8};
    static const char *routine[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    static const size_t threshold[] = {64};
    /* a failure leaves CLBlast's defaults, which are correct, only slower */
    CLBlastOverrideParameters(c->device, "Xgemm", CLBlastPrecisionSingle, 16, names, values);
    CLBlastOverrideParameters(c->device, "GemmRoutine", CLBlastPrecisionSingle, 1, routine, threshold);
}

lam_status lam_cl_gemm(lam_device *d, const lam_gemm_args *g) {
    lam_cl_ctx *c = lam_cl(d);
    if (g->m == 0 || g->n == 0 || g->batch == 0) return LAM_OK;
    CLBlastTranspose ta = g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose tb = g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastStatusCode st;
    const char *routine;
    if (g->batch == 1) {
        routine = "CLBlastSgemm";
        st = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, (size_t)g->m, (size_t)g->n, (size_t)g->k, g->alpha,
                          (cl_mem)g->a, (size_t)g->a_off, (size_t)g->lda, (cl_mem)g->b, (size_t)g->b_off,
                          (size_t)g->ldb, g->beta, (cl_mem)g->c, (size_t)g->c_off, (size_t)g->ldc, &c->queue, NULL);
    } else {
        routine = "CLBlastSgemmStridedBatched";
        st = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, (size_t)g->m, (size_t)g->n, (size_t)g->k,
                                        g->alpha, (cl_mem)g->a, (size_t)g->a_off, (size_t)g->lda,
                                        (size_t)g->a_stride, (cl_mem)g->b, (size_t)g->b_off, (size_t)g->ldb,
                                        (size_t)g->b_stride, g->beta, (cl_mem)g->c, (size_t)g->c_off,
                                        (size_t)g->ldc, (size_t)g->c_stride, (size_t)g->batch, &c->queue, NULL);
    }
    cl_int err = st == CLBlastSuccess ? lam_cl_settle(c) : CL_SUCCESS;
    if (err != CL_SUCCESS) return lam_cl_fail(routine, err);
    if (st != CLBlastSuccess)
        return lam_set_error(LAM_ERR_BACKEND, "%s(%lld x %lld x %lld, batch %lld) on %s: CLBlast status %d", routine,
                             (long long)g->m, (long long)g->n, (long long)g->k, (long long)g->batch, d->spec,
                             (int)st);
    return LAM_OK;
}
