/* Host backend: GEMM through CBLAS (OpenBLAS). f16 operands are widened to f32 over the
 * span GEMM reads, multiplied in f32 and the result rounded back. */
#include <cblas.h>

#include "backend/host/host.h"

/* Elements from the first to one past the last that a batched matrix operand touches. */
static int64_t span(int64_t batch, int64_t batch_stride, int64_t rows, int64_t cols, int64_t ld) {
    return (batch - 1) * batch_stride + (rows - 1) * ld + cols;
}

/* Batches in parallel when there are enough for every thread, one thread per product (small
 * products split across threads cost more in synchronisation than they gain); otherwise
 * one product at a time on all threads. */
static bool batch_parallel(const lam_gemm_args *g, int threads) {
    return threads > 1 && g->batch >= threads && (g->batch % threads == 0 || g->batch >= 4 * threads);
}

static void sgemm_batches(const lam_gemm_args *g, const float *a, const float *b, float *c) {
    const int threads = lam_host_threads();   /* OpenBLAS's OpenMP build takes this thread's OpenMP count */
#pragma omp parallel for num_threads(threads) schedule(static) if (batch_parallel(g, threads))
    for (int64_t i = 0; i < g->batch; ++i)
        cblas_sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans, g->trans_b ? CblasTrans : CblasNoTrans,
                    (int)g->m, (int)g->n, (int)g->k, g->alpha, a + i * g->a_stride, (int)g->lda, b + i * g->b_stride,
                    (int)g->ldb, g->beta, c + i * g->c_stride, (int)g->ldc);
}

lam_status lam_host_gemm(lam_device *d, const lam_gemm_args *g) {
    (void)d;
    if (g->m == 0 || g->n == 0 || g->batch == 0) return LAM_OK;
    lam_view va = {.buf = g->a, .offset = g->a_off, .dtype = g->dtype};
    lam_view vb = {.buf = g->b, .offset = g->b_off, .dtype = g->dtype};
    lam_view vc = {.buf = g->c, .offset = g->c_off, .dtype = g->dtype};
    int64_t na = span(g->batch, g->a_stride, g->trans_a ? g->k : g->m, g->trans_a ? g->m : g->k, g->lda);
    int64_t nb = span(g->batch, g->b_stride, g->trans_b ? g->n : g->k, g->trans_b ? g->k : g->n, g->ldb);
    int64_t nc = span(g->batch, g->c_stride, g->m, g->n, g->ldc);
    float *a = lam_host_f32_begin(&va, na, true);
    float *b = a ? lam_host_f32_begin(&vb, nb, true) : NULL;
    bool dense_c = g->ldc == g->n && (g->batch == 1 || g->c_stride == g->m * g->n);   /* else keep the gaps */
    float *c = b ? lam_host_f32_begin(&vc, nc, g->beta != 0.0f || !dense_c) : NULL;
    lam_status st = c ? LAM_OK : LAM_ERR_OOM;
    if (c) sgemm_batches(g, a, b, c);
    lam_host_f32_done(&vc, c, nc, true);
    lam_host_f32_done(&vb, b, 0, false);
    lam_host_f32_done(&va, a, 0, false);
    return st;
}
