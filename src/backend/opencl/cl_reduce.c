/* OpenCL reductions and softmax, shaped for the device (cl/reduce.cl, cl/softmax.cl):
 * GPUs and accelerators get work-group tree kernels (of lam_cl_group_size); CPU devices (POCL) get one contiguous
 * chunk per work-item with Kahan sums, where tree kernels are many times slower. */
#include "backend/opencl/cl_backend.h"
#include "core/error.h"

/* One output over a row this long is split into chunks and finished by a second pass. */
#define SPLIT_MIN 65536

static lam_status reduce_all(lam_device *d, lam_reduce_op op, const lam_view *dst, const lam_view *src, int64_t len) {
    lam_cl_ctx *c = lam_cl(d);
    size_t wg = c->tree ? lam_cl_group_size(c, "reduce.cl", "lam_reduce_tree_chunks", src->dtype) : 1;
    if (!wg) return lam_last_status();
    /* GPUs: parts of 16 elements per work-item, 1024 parts at most; CPU devices: 8 per unit */
    int64_t per_part = (int64_t)16 * (int64_t)wg, units = c->compute_units > 0 ? c->compute_units : 1;
    int64_t nparts = c->tree ? (len + per_part - 1) / per_part : units * 8, chunk;
    if (nparts > 1024) nparts = 1024;
    /* every part gets elements: a part past the end would leave its partial unwritten */
    chunk = (len + nparts - 1) / nparts;
    nparts = (len + chunk - 1) / chunk;
    cl_mem pv = lam_cl_alloc(d, (size_t)nparts * sizeof(float));
    cl_mem pc = pv ? lam_cl_alloc(d, (size_t)nparts * sizeof(float)) : NULL;
    cl_mem pi = pc ? lam_cl_alloc(d, (size_t)nparts * sizeof(int64_t)) : NULL;
    lam_status s = pi ? LAM_OK : lam_last_status();
    /* each part leaves a value, a compensation and an index */
    uint64_t parts = (uint64_t)nparts * (2 * sizeof(float) + sizeof(int64_t));
    lam_cl_bytes first = LAM_CL_BYTES(lam_cl_view_bytes(src), parts), last = LAM_CL_BYTES(parts, lam_cl_view_bytes(dst));
    if (s == LAM_OK && c->tree)
        s = LAM_CL_LAUNCH(c, "reduce.cl", "lam_reduce_tree_chunks", src->dtype, (size_t)nparts * wg, wg, first,
                          LAM_ARG_MEM(pv), LAM_ARG_MEM(pc), LAM_ARG_MEM(pi), LAM_ARG_MEM(src->buf),
                          LAM_ARG_I64(src->offset), LAM_ARG_I64(len), LAM_ARG_I64(chunk), LAM_ARG_I32(op));
    else if (s == LAM_OK)
        s = LAM_CL_LAUNCH(c, "reduce.cl", "lam_reduce_chunks", src->dtype, (size_t)nparts, 0, first, LAM_ARG_MEM(pv),
                          LAM_ARG_MEM(pc), LAM_ARG_MEM(pi), LAM_ARG_MEM(src->buf), LAM_ARG_I64(src->offset),
                          LAM_ARG_I64(len), LAM_ARG_I64(chunk), LAM_ARG_I32(op));
    if (s == LAM_OK)
        s = LAM_CL_LAUNCH(c, "reduce.cl", "lam_reduce_final", src->dtype, 1, 1, last, LAM_ARG_MEM(dst->buf),
                          LAM_ARG_I64(dst->offset), LAM_ARG_MEM(pv), LAM_ARG_MEM(pc), LAM_ARG_MEM(pi),
                          LAM_ARG_I64(nparts), LAM_ARG_I64(len), LAM_ARG_I32(op));
    /* back to the pool: later commands on the in-order queue run after these kernels */
    lam_cl_free(d, pi);
    lam_cl_free(d, pc);
    lam_cl_free(d, pv);
    return s;
}

lam_status lam_cl_reduce(lam_device *d, lam_reduce_op op, const lam_view *dst, const lam_view *src,
                         int64_t outer, int64_t len, int64_t inner) {
    lam_cl_ctx *c = lam_cl(d);
    int64_t outputs = outer * inner;
    if (outputs <= 0) return LAM_OK;
    if (outputs == 1 && len >= SPLIT_MIN) return reduce_all(d, op, dst, src, len);
    size_t wg = c->tree ? lam_cl_group_size(c, "reduce.cl", "lam_reduce_tree", src->dtype) : 1;
    if (!wg) return lam_last_status();
    lam_cl_bytes bytes = LAM_CL_BYTES(lam_cl_view_bytes(src), lam_cl_view_bytes(dst));
    if (c->tree)
        return LAM_CL_LAUNCH(c, "reduce.cl", "lam_reduce_tree", src->dtype, (size_t)outputs * wg, wg, bytes,
                             LAM_ARG_MEM(dst->buf), LAM_ARG_I64(dst->offset), LAM_ARG_MEM(src->buf),
                             LAM_ARG_I64(src->offset), LAM_ARG_I64(outer), LAM_ARG_I64(len), LAM_ARG_I64(inner),
                             LAM_ARG_I32(op));
    return LAM_CL_LAUNCH(c, "reduce.cl", "lam_reduce_rows", src->dtype, (size_t)outputs, 0, bytes, LAM_ARG_MEM(dst->buf),
                         LAM_ARG_I64(dst->offset), LAM_ARG_MEM(src->buf), LAM_ARG_I64(src->offset),
                         LAM_ARG_I64(outer), LAM_ARG_I64(len), LAM_ARG_I64(inner), LAM_ARG_I32(op));
}

lam_status lam_cl_softmax(lam_device *d, bool log, const lam_view *dst, const lam_view *src, int64_t rows,
                          int64_t cols) {
    lam_cl_ctx *c = lam_cl(d);
    if (rows <= 0 || cols <= 0) return LAM_OK;
    size_t wg = c->tree ? lam_cl_group_size(c, "softmax.cl", "lam_softmax_tree", src->dtype) : 1;
    if (!wg) return lam_last_status();
    lam_cl_bytes bytes = LAM_CL_BYTES(lam_cl_view_bytes(src), lam_cl_view_bytes(dst));
    if (c->tree)
        return LAM_CL_LAUNCH(c, "softmax.cl", "lam_softmax_tree", src->dtype, (size_t)rows * wg, wg, bytes,
                             LAM_ARG_MEM(dst->buf), LAM_ARG_I64(dst->offset), LAM_ARG_MEM(src->buf),
                             LAM_ARG_I64(src->offset), LAM_ARG_I64(rows), LAM_ARG_I64(cols), LAM_ARG_I32(log));
    return LAM_CL_LAUNCH(c, "softmax.cl", "lam_softmax_rows", src->dtype, (size_t)rows, 0, bytes, LAM_ARG_MEM(dst->buf),
                         LAM_ARG_I64(dst->offset), LAM_ARG_MEM(src->buf), LAM_ARG_I64(src->offset),
                         LAM_ARG_I64(rows), LAM_ARG_I64(cols), LAM_ARG_I32(log));
}
