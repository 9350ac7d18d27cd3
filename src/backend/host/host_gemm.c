/* Host backend: GEMM through CBLAS (OpenBLAS). f16 operands are widened to f32 over the
 * span GEMM reads, multiplied in f32 and the result rounded back. */
#include <cblas.h>
#include <omp.h>

#include "backend/host/host.h"

/* Elements from the first to one past the last that a batched matrix operand touches. */
static int64_t span(int64_t batch, int64_t batch_stride, int64_t rows, int64_t cols, int64_t ld) {
    return (batch - 1) * batch_stride + (rows - 1) * ld + cols;
}

/* Products run as blocks on lamina's own threads, each block a one-thread OpenBLAS call: the
 * batch, and each product cut into row blocks (or column blocks when it is wider than tall)
 * of BLOCK or more. OpenBLAS never starts threads of its own, whose spin-waits and lamina's
 * fought over the cores (a 2048x128x128 product after a parallel loop took 3.5 ms on 2
 * threads against 1.2 ms on one). The cut depends on the shape alone, never on the thread
 * count: OpenBLAS's bits depend on the block's shape (its small-matrix kernels), so the same
 * blocks give the same bits at any count (tests/ops_threads.sh). */
enum { BLOCK = 128, MAX_PARTS = 64 };

typedef struct { const float *a, *b; float *c; } gemm_ptrs;

/* Block q of parts of product i: its rows (or columns) [lo, hi) through one-thread CBLAS. */
static void gemm_block(const lam_gemm_args *g, gemm_ptrs p, int64_t i, int64_t q, int64_t parts, bool rows) {
    const int64_t len = rows ? g->m : g->n, lo = len * q / parts, hi = len * (q + 1) / parts;
    const float *a = p.a + i * g->a_stride, *b = p.b + i * g->b_stride;
    float *c = p.c + i * g->c_stride;
    int64_t m = g->m, n = g->n;
    if (rows) a += g->trans_a ? lo : lo * g->lda, c += lo * g->ldc, m = hi - lo;
    else b += g->trans_b ? lo * g->ldb : lo, c += lo, n = hi - lo;
    if (m > 0 && n > 0)
        cblas_sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans, g->trans_b ? CblasTrans : CblasNoTrans,
                    (int)m, (int)n, (int)g->k, g->alpha, a, (int)g->lda, b, (int)g->ldb, g->beta, c, (int)g->ldc);
}

static void sgemm_batches(const lam_gemm_args *g, const float *a, const float *b, float *c) {
    const int threads = lam_host_threads();
    const bool rows = g->m >= g->n;
    const int64_t len = rows ? g->m : g->n;
    const int64_t parts = len < 2 * BLOCK ? 1 : len / BLOCK < MAX_PARTS ? len / BLOCK : MAX_PARTS;
    const int64_t items = g->batch * parts;
    const gemm_ptrs p = {a, b, c};
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && items > 1)
    for (int64_t it = 0; it < items; ++it) {
        omp_set_num_threads(1);   /* this task's OpenBLAS call runs on it alone, in a team of one too */
        gemm_block(g, p, it / parts, it % parts, parts, rows);
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
