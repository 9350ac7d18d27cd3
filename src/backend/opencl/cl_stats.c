/* Kernel statistics of an OpenCL device (lam_kernel_stats in lamina/device.h): launches and
 * the bytes each reports (every launch site says, see lam_cl_bytes), GEMM calls with the
 * kernels CLBlast enqueues for them, host waits since the last reset, and the pool's peak.
 *
 * CLBlast reports no count of its own, so the kernels of a GEMM call come from the rules of
 * CLBlast 1.5 (src/routines/level3/xgemm.{hpp,cpp}, levelx/xgemmstridedbatched.cpp), fed
 * with the parameters in force. tests/test_kernel_stats.c checks the result against a
 * counting shim of the OpenCL enqueue calls (tests/enqueue_count.c, LD_PRELOAD). */
#include "backend/opencl/cl_backend.h"
#include "core/error.h"

/* CLBlast's parameters for a device its database knows nothing about ("default" entries
 * of xgemm_32.hpp and gemm_routine_32.hpp): a tuned device may use others. */
static const lam_cl_gemm_params generic = {
    .known = false, .mwg = 32, .nwg = 32, .kwg = 32, .kreg = 1, .gemmk = 0, .min_indirect = 896};

static void add(_Atomic uint64_t *counter, uint64_t n) { atomic_fetch_add_explicit(counter, n, memory_order_relaxed); }

uint64_t lam_cl_view_bytes(const lam_view *v) {
    uint64_t n = 1;
    for (int i = 0; i < v->ndim; ++i) {
        if (v->shape[i] <= 0) return 0;
        if (v->stride[i] != 0) n *= (uint64_t)v->shape[i];   /* a broadcast element is read once */
    }
    return n * lam_dtype_size(v->dtype);
}

void lam_cl_count_launch(lam_cl_ctx *c, lam_cl_bytes b) {
    add(&c->k_launches, 1);
    add(&c->k_read, b.read);
    add(&c->k_written, b.written);
    if (b.read == 0 && b.written == 0) add(&c->k_unsized, 1);
}

static uint64_t ceil_to(uint64_t x, uint64_t multiple) { return multiple ? (x + multiple - 1) / multiple * multiple : x; }

/* CLBlast's NoTempBuffer: an operand its fast kernel reads where it lies, with no copy. The
 * batched routine does not test the offset. */
static bool in_place(uint64_t one, uint64_t one_i, uint64_t two, uint64_t two_i, int64_t ld, int64_t off,
                     bool transpose, bool batched) {
    return one == one_i && two == two_i && (uint64_t)ld == one && (batched || off == 0) && !transpose;
}

uint64_t lam_cl_gemm_kernels(const lam_cl_gemm_params *p, const lam_gemm_args *g) {
    uint64_t m = (uint64_t)g->m, n = (uint64_t)g->n, k = (uint64_t)g->k, e = p->min_indirect;
    if (m * n * k < e * e * e) return 1;   /* the direct kernel */
    bool batched = g->batch != 1, gemmk1 = p->gemmk == 1;
    /* row-major: a matrix is "rotated" unless transposed; Xgemm wants B rotated, and A and C
     * rotated only with GEMMK = 1 */
    bool a_rot = !g->trans_a, b_rot = !g->trans_b;
    bool a_tr = a_rot != gemmk1, b_tr = !b_rot, c_tr = !gemmk1;
    uint64_t a_one = a_rot ? k : m, a_two = a_rot ? m : k, b_one = b_rot ? n : k, b_two = b_rot ? k : n;
    uint64_t c_one = n, c_two = m;
    uint64_t mc = ceil_to(m, p->mwg), nc = ceil_to(n, p->nwg), kc = ceil_to(k, batched ? p->kwg : p->kwg * p->kreg);
    bool a_ok = in_place(a_one, gemmk1 ? kc : mc, a_two, gemmk1 ? mc : kc, g->lda, g->a_off, a_tr, batched);
    bool b_ok = in_place(b_one, nc, b_two, kc, g->ldb, g->b_off, b_tr, batched);
    bool c_ok = in_place(c_one, gemmk1 ? nc : mc, c_two, gemmk1 ? mc : nc, g->ldc, g->c_off, c_tr, batched);
    /* C is copied in (the single routine only when beta reads it) and back out */
    uint64_t c_copies = c_ok ? 0 : batched || g->beta != 0.0f ? 2 : 1;
    return 1 + !a_ok + !b_ok + c_copies;
}

void lam_cl_count_gemm(lam_cl_ctx *c, const lam_gemm_args *g) {
    bool exact = c->gemm.known && g->dtype == LAM_F32;   /* lamina sets CLBlast's f32 parameters only */
    uint64_t es = lam_dtype_size(g->dtype), batch = (uint64_t)g->batch;
    /* a batch stride of 0 is one matrix for every product */
    uint64_t a = (uint64_t)(g->m * g->k) * (g->a_stride ? batch : 1) * es;
    uint64_t b = (uint64_t)(g->k * g->n) * (g->b_stride ? batch : 1) * es;
    uint64_t cm = (uint64_t)(g->m * g->n) * (g->c_stride ? batch : 1) * es;
    uint64_t read = a + b + (g->beta != 0.0f ? cm : 0);
    add(&c->k_gemm_calls, 1);
    add(&c->k_gemm_kernels, lam_cl_gemm_kernels(c->gemm.known ? &c->gemm : &generic, g));
    add(&c->k_read, read);
    add(&c->k_written, cm);
    add(&c->k_gemm_read, read);
    add(&c->k_gemm_written, cm);
    if (!exact) atomic_store(&c->k_gemm_estimated, true);
}

lam_status lam_cl_kernel_stats(lam_device *d, lam_kernel_stats *out) {
    lam_cl_ctx *c = lam_cl(d);
    uint64_t waits = atomic_load(&c->waits), base = atomic_load(&c->k_waits_base);
    *out = (lam_kernel_stats){
        .launches = atomic_load(&c->k_launches),
        .gemm_calls = atomic_load(&c->k_gemm_calls),
        .gemm_kernels = atomic_load(&c->k_gemm_kernels),
        .bytes_read = atomic_load(&c->k_read),
        .bytes_written = atomic_load(&c->k_written),
        .gemm_bytes_read = atomic_load(&c->k_gemm_read),
        .gemm_bytes_written = atomic_load(&c->k_gemm_written),
        .host_waits = waits > base ? waits - base : 0,
        .unsized = atomic_load(&c->k_unsized),
        .gemm_kernels_exact = !atomic_load(&c->k_gemm_estimated),
    };
    return LAM_OK;
}

lam_status lam_cl_reset_kernel_stats(lam_device *d) {
    lam_cl_ctx *c = lam_cl(d);
    _Atomic uint64_t *counts[] = {&c->k_launches, &c->k_gemm_calls, &c->k_gemm_kernels, &c->k_read,
                                  &c->k_written, &c->k_gemm_read, &c->k_gemm_written, &c->k_unsized};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; ++i) atomic_store(counts[i], 0);
    atomic_store(&c->k_waits_base, atomic_load(&c->waits));
    atomic_store(&c->k_gemm_estimated, false);
    return LAM_OK;
}

lam_status lam_cl_reset_peak(lam_device *d) {
    lam_cl_ctx *c = lam_cl(d);
    pthread_mutex_lock(&c->pool_lock);
    c->stats.peak = c->stats.in_use;
    pthread_mutex_unlock(&c->pool_lock);
    return LAM_OK;
}
