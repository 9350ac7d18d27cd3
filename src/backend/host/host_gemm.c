/* Host backend: GEMM through CBLAS (OpenBLAS). f16 operands are widened to f32 over the
 * span GEMM reads, multiplied in f32 and the result rounded back. */
#include <cblas.h>
#include <omp.h>

#include "backend/host/host.h"

/* Elements from the first to one past the last that a batched matrix operand touches. */
static int64_t span(int64_t batch, int64_t batch_stride, int64_t rows, int64_t cols, int64_t ld) {
    return (batch - 1) * batch_stride + (rows - 1) * ld + cols;
}

/* Columns [j0, j1) of batch i's product: B's columns from j0 (rows when B is transposed). */
static void sgemm_cols(const lam_gemm_args *g, const float *a, const float *b, float *c, int64_t i, int64_t j0,
                       int64_t j1) {
    const float *bj = b + i * g->b_stride + (g->trans_b ? j0 * g->ldb : j0);
    cblas_sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans, g->trans_b ? CblasTrans : CblasNoTrans,
                (int)g->m, (int)(j1 - j0), (int)g->k, g->alpha, a + i * g->a_stride, (int)g->lda, bj, (int)g->ldb,
                g->beta, c + i * g->c_stride + j0, (int)g->ldc);
}

/* One pool of threads: with OpenMP threads to spare, OpenBLAS runs on one thread and a large
 * product is split over lamina's OpenMP threads (by batch, else by column blocks of 64).
 * OpenBLAS's own threads beside OpenMP's spun against each other on every core (the ResNet
 * step of bench_cnn on 2 cores: 348 ms with both pools, 152 ms with one). */
static void sgemm_batches(const lam_gemm_args *g, const float *a, const float *b, float *c) {
    int threads = omp_get_max_threads();
    if (threads > 1 && openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    bool par = threads > 1 && !omp_in_parallel() && (double)g->batch * g->m * g->n * g->k >= 4.0 * LAM_HOST_PAR_MIN;
    if (g->batch >= threads || g->n < 128) {
#pragma omp parallel for schedule(dynamic) if (par)
        for (int64_t i = 0; i < g->batch; ++i) sgemm_cols(g, a, b, c, i, 0, g->n);
        return;
    }
    int64_t blocks = (g->n + 63) / 64, per = (blocks + threads - 1) / threads * 64;
    for (int64_t i = 0; i < g->batch; ++i) {
#pragma omp parallel for if (par)
        for (int64_t j0 = 0; j0 < g->n; j0 += per) sgemm_cols(g, a, b, c, i, j0, j0 + per < g->n ? j0 + per : g->n);
    }
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
