/* GEMM through CLBlast: row-major; one Sgemm per call, or SgemmStridedBatched for batches.
 * f16 runs Hgemm where the device has cl_khr_fp16, else f32 GEMM on widened copies. */
#include <clblast_c.h>

#include "backend/opencl/cl_profile.h"
#include "core/dtype.h"
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
    bool set = CLBlastOverrideParameters(c->device, "Xgemm", CLBlastPrecisionSingle, 16, names, values) == CLBlastSuccess;
    set = CLBlastOverrideParameters(c->device, "GemmRoutine", CLBlastPrecisionSingle, 1, routine, threshold) ==
              CLBlastSuccess && set;
    /* what decides the kernels a GEMM call enqueues (cl_stats.c), in the order of names */
    c->gemm = (lam_cl_gemm_params){.known = set, .gemmk = values[0], .kreg = values[1], .kwg = values[2],
                                   .mwg = values[6], .nwg = values[9], .min_indirect = threshold[0]};
}

/* One CLBlast call for g (its buffers f32, or half with cl_khr_fp16); routine names the call,
 * ev receives the event of its last command (NULL: none). */
static CLBlastStatusCode clblast_gemm(lam_cl_ctx *c, const lam_gemm_args *g, const char **routine, cl_event *ev) {
    CLBlastTranspose ta = g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose tb = g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    size_t m = (size_t)g->m, n = (size_t)g->n, k = (size_t)g->k;
    cl_mem a = (cl_mem)g->a, b = (cl_mem)g->b, cm = (cl_mem)g->c;
    if (g->dtype == LAM_F16) {
        cl_half alpha = lam_f32_to_f16(g->alpha), beta = lam_f32_to_f16(g->beta);
        *routine = g->batch == 1 ? "CLBlastHgemm" : "CLBlastHgemmStridedBatched";
        if (g->batch == 1)
            return CLBlastHgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, alpha, a, (size_t)g->a_off, (size_t)g->lda, b,
                                (size_t)g->b_off, (size_t)g->ldb, beta, cm, (size_t)g->c_off, (size_t)g->ldc, &c->queue,
                                ev);
        return CLBlastHgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, m, n, k, alpha, a, (size_t)g->a_off,
                                          (size_t)g->lda, (size_t)g->a_stride, b, (size_t)g->b_off, (size_t)g->ldb,
                                          (size_t)g->b_stride, beta, cm, (size_t)g->c_off, (size_t)g->ldc,
                                          (size_t)g->c_stride, (size_t)g->batch, &c->queue, ev);
    }
    *routine = g->batch == 1 ? "CLBlastSgemm" : "CLBlastSgemmStridedBatched";
    if (g->batch == 1)
        return CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, g->alpha, a, (size_t)g->a_off, (size_t)g->lda, b,
                            (size_t)g->b_off, (size_t)g->ldb, g->beta, cm, (size_t)g->c_off, (size_t)g->ldc, &c->queue,
                            ev);
    return CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, m, n, k, g->alpha, a, (size_t)g->a_off,
                                      (size_t)g->lda, (size_t)g->a_stride, b, (size_t)g->b_off, (size_t)g->ldb,
                                      (size_t)g->b_stride, g->beta, cm, (size_t)g->c_off, (size_t)g->ldc,
                                      (size_t)g->c_stride, (size_t)g->batch, &c->queue, ev);
}

/* What decides the kernels CLBlast runs and their sizes: a new combination may build
 * programs and compile new specializations (cl_sync.c). The top bit of k[3] keeps GEMM keys
 * apart from kernel keys; k[0] hashes the rest. */
static lam_cl_seen_key gemm_key(const lam_gemm_args *g) {
    uint64_t h = 0xcbf29ce484222325ull;
    const int64_t rest[] = {g->lda, g->ldb, g->ldc, g->a_off, g->b_off, g->c_off, g->a_stride, g->b_stride, g->c_stride,
                            g->batch, g->trans_a, g->trans_b, g->dtype, g->alpha == 1.0f, g->beta == 0.0f};
    for (size_t i = 0; i < sizeof rest / sizeof *rest; ++i) h = (h ^ (uint64_t)rest[i]) * 0x100000001b3ull;
    return (lam_cl_seen_key){{h, (uint64_t)g->m, (uint64_t)g->n, (uint64_t)g->k | 1ull << 63}};
}

static lam_status run(lam_device *d, const lam_gemm_args *g) {
    lam_cl_ctx *c = lam_cl(d);
    const char *routine = "CLBlastSgemm";
    lam_cl_seen_key key = gemm_key(g);
    bool first = lam_cl_first_begin(c, &key);
    cl_event *ev = lam_cl_prof_library(c);
    CLBlastStatusCode st = clblast_gemm(c, g, &routine, ev);
    lam_cl_prof_record(ev, routine);
    if (st == CLBlastSuccess) {
        lam_cl_count(&c->launches, 1);
        lam_cl_count_gemm(c, g);
    }
    cl_int err = st == CLBlastSuccess ? lam_cl_settle(c, first) : CL_SUCCESS;
    lam_cl_first_done(c, &key, first, st == CLBlastSuccess && err == CL_SUCCESS);
    if (err != CL_SUCCESS) return lam_cl_fail(routine, err);
    if (st != CLBlastSuccess)
        return lam_set_error(LAM_ERR_BACKEND, "%s(%lld x %lld x %lld, batch %lld) on %s: CLBlast status %d", routine,
                             (long long)g->m, (long long)g->n, (long long)g->k, (long long)g->batch, d->spec,
                             (int)st);
    return LAM_OK;
}

/* Elements from the first to one past the last that a batched matrix operand touches. */
static int64_t span(int64_t batch, int64_t batch_stride, int64_t rows, int64_t cols, int64_t ld) {
    return (batch - 1) * batch_stride + (rows - 1) * ld + cols;
}

/* count elements from buffer `from` at offset off (dtype ft) into `to` at offset 0 (dtype tt). */
static lam_status convert(lam_device *d, void *to, int tt, int64_t to_off, void *from, int ft, int64_t off, int64_t count) {
    lam_view dst = {.buf = to, .offset = to_off, .ndim = 1, .shape = {count}, .stride = {1}, .dtype = (lam_dtype)tt};
    lam_view src = {.buf = from, .offset = off, .ndim = 1, .shape = {count}, .stride = {1}, .dtype = (lam_dtype)ft};
    return lam_cl_copy(d, &dst, &src);
}

/* f16 without cl_khr_fp16: widen the spans GEMM reads to f32, multiply, round C back. */
static lam_status gemm_widened(lam_device *d, const lam_gemm_args *g) {
    int64_t na = span(g->batch, g->a_stride, g->trans_a ? g->k : g->m, g->trans_a ? g->m : g->k, g->lda);
    int64_t nb = span(g->batch, g->b_stride, g->trans_b ? g->n : g->k, g->trans_b ? g->k : g->n, g->ldb);
    int64_t nc = span(g->batch, g->c_stride, g->m, g->n, g->ldc);
    lam_gemm_args w = *g;
    w.dtype = LAM_F32;
    w.a_off = w.b_off = w.c_off = 0;
    w.a = lam_cl_alloc(d, (size_t)na * sizeof(float));
    w.b = w.a ? lam_cl_alloc(d, (size_t)nb * sizeof(float)) : NULL;
    w.c = w.b ? lam_cl_alloc(d, (size_t)nc * sizeof(float)) : NULL;
    lam_status st = w.c ? LAM_OK : lam_last_status();
    if (st == LAM_OK) st = convert(d, w.a, LAM_F32, 0, g->a, LAM_F16, g->a_off, na);
    if (st == LAM_OK) st = convert(d, w.b, LAM_F32, 0, g->b, LAM_F16, g->b_off, nb);
    bool dense_c = g->ldc == g->n && (g->batch == 1 || g->c_stride == g->m * g->n);   /* else keep the gaps */
    if (st == LAM_OK && (g->beta != 0.0f || !dense_c)) st = convert(d, w.c, LAM_F32, 0, g->c, LAM_F16, g->c_off, nc);
    if (st == LAM_OK) st = run(d, &w);
    if (st == LAM_OK) st = convert(d, g->c, LAM_F16, g->c_off, w.c, LAM_F32, 0, nc);
    /* back to the pool: later commands on the in-order queue run after these */
    lam_cl_free(d, w.c);
    lam_cl_free(d, w.b);
    lam_cl_free(d, w.a);
    return st;
}

lam_status lam_cl_gemm(lam_device *d, const lam_gemm_args *g) {
    if (g->m == 0 || g->n == 0 || g->batch == 0) return LAM_OK;
    if (g->dtype == LAM_F16 && !lam_cl(d)->fp16) return gemm_widened(d, g);
    return run(d, g);
}
