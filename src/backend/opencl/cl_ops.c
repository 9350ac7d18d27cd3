/* OpenCL elementwise entries: fill, strided copy with dtype conversion, unary, binary,
 * binary with a scalar, random numbers and the fused optimizer steps. Each has a fast
 * path for contiguous operands and a general one through lam_layout (cl/elementwise.cl). */
#include <stdio.h>

#include "backend/opencl/cl_backend.h"
#include "core/error.h"

#define WG 256   /* work-group size of the elementwise kernels */

lam_status lam_cl_fill(lam_device *d, const lam_view *dst, uint64_t bits) {
    lam_cl_ctx *c = lam_cl(d);
    int64_t n = lam_view_numel(dst);
    if (n <= 0) return LAM_OK;
    size_t es = dst->dtype == LAM_I64 ? 8 : 4;
    uint32_t v32 = (uint32_t)bits;
    const void *pattern = es == 8 ? (const void *)&bits : (const void *)&v32;
    cl_int err = clEnqueueFillBuffer(c->queue, (cl_mem)dst->buf, pattern, es, (size_t)dst->offset * es,
                                     (size_t)n * es, 0, NULL, NULL);
    return err == CL_SUCCESS ? LAM_OK : lam_cl_fail("clEnqueueFillBuffer(fill)", err);
}

lam_status lam_cl_copy(lam_device *d, const lam_view *dst, const lam_view *src) {
    lam_cl_ctx *c = lam_cl(d);
    int64_t n = lam_view_numel(dst);
    if (n <= 0) return LAM_OK;
    bool dst_contig = lam_view_contiguous(dst);
    if (dst->dtype == src->dtype && dst_contig && lam_view_contiguous(src)) {
        size_t es = lam_dtype_size(dst->dtype);
        int64_t so = src->offset, dof = dst->offset;
        bool overlap = dst->buf == src->buf && so < dof + n && dof < so + n;
        if (dst->buf == src->buf && so == dof) return LAM_OK;
        if (!overlap) {
            cl_int err = clEnqueueCopyBuffer(c->queue, (cl_mem)src->buf, (cl_mem)dst->buf, (size_t)so * es,
                                             (size_t)dof * es, (size_t)n * es, 0, NULL, NULL);
            return err == CL_SUCCESS ? LAM_OK : lam_cl_fail("clEnqueueCopyBuffer(copy)", err);
        }
    }
    lam_layout Ld = lam_view_layout(dst), Ls = lam_view_layout(src);
    return LAM_CL_LAUNCH(c, LAM_CL_FILL_COPY, "lam_copy", (size_t)n, WG, LAM_ARG_MEM(dst->buf), LAM_ARG_LAYOUT(Ld),
                         LAM_ARG_I32(dst->dtype), LAM_ARG_MEM(src->buf), LAM_ARG_LAYOUT(Ls),
                         LAM_ARG_I32(src->dtype), LAM_ARG_I64(n), LAM_ARG_I32(dst_contig));
}

lam_status lam_cl_unary(lam_device *d, lam_unary_op op, const lam_view *dst, const lam_view *x) {
    lam_cl_ctx *c = lam_cl(d);
    int64_t n = lam_view_numel(dst);
    if (lam_view_contiguous(x))
        return LAM_CL_LAUNCH(c, LAM_CL_ELEMENTWISE, "lam_unary_contig", (size_t)n, WG, LAM_ARG_MEM(dst->buf),
                             LAM_ARG_I64(dst->offset), LAM_ARG_MEM(x->buf), LAM_ARG_I64(x->offset), LAM_ARG_I64(n),
                             LAM_ARG_I32(op));
    lam_layout Lx = lam_view_layout(x);
    return LAM_CL_LAUNCH(c, LAM_CL_ELEMENTWISE, "lam_unary_strided", (size_t)n, WG, LAM_ARG_MEM(dst->buf),
                         LAM_ARG_I64(dst->offset), LAM_ARG_MEM(x->buf), LAM_ARG_LAYOUT(Lx), LAM_ARG_I64(n),
                         LAM_ARG_I32(op));
}

lam_status lam_cl_binary(lam_device *d, lam_binary_op op, const lam_view *dst, const lam_view *a,
                         const lam_view *b) {
    lam_cl_ctx *c = lam_cl(d);
    int64_t n = lam_view_numel(dst);
    if (lam_view_contiguous(a) && lam_view_contiguous(b))
        return LAM_CL_LAUNCH(c, LAM_CL_ELEMENTWISE, "lam_binary_contig", (size_t)n, WG, LAM_ARG_MEM(dst->buf),
                             LAM_ARG_I64(dst->offset), LAM_ARG_MEM(a->buf), LAM_ARG_I64(a->offset),
                             LAM_ARG_MEM(b->buf), LAM_ARG_I64(b->offset), LAM_ARG_I64(n), LAM_ARG_I32(op));
    lam_layout La = lam_view_layout(a), Lb = lam_view_layout(b);
    return LAM_CL_LAUNCH(c, LAM_CL_ELEMENTWISE, "lam_binary_strided", (size_t)n, WG, LAM_ARG_MEM(dst->buf),
                         LAM_ARG_I64(dst->offset), LAM_ARG_MEM(a->buf), LAM_ARG_LAYOUT(La), LAM_ARG_MEM(b->buf),
                         LAM_ARG_LAYOUT(Lb), LAM_ARG_I64(n), LAM_ARG_I32(op));
}

lam_status lam_cl_binary_scalar(lam_device *d, lam_binary_op op, const lam_view *dst, const lam_view *a,
                                float s) {
    lam_cl_ctx *c = lam_cl(d);
    int64_t n = lam_view_numel(dst);
    if (lam_view_contiguous(a))
        return LAM_CL_LAUNCH(c, LAM_CL_ELEMENTWISE, "lam_scalar_contig", (size_t)n, WG, LAM_ARG_MEM(dst->buf),
                             LAM_ARG_I64(dst->offset), LAM_ARG_MEM(a->buf), LAM_ARG_I64(a->offset), LAM_ARG_F32(s),
                             LAM_ARG_I64(n), LAM_ARG_I32(op));
    lam_layout La = lam_view_layout(a);
    return LAM_CL_LAUNCH(c, LAM_CL_ELEMENTWISE, "lam_scalar_strided", (size_t)n, WG, LAM_ARG_MEM(dst->buf),
                         LAM_ARG_I64(dst->offset), LAM_ARG_MEM(a->buf), LAM_ARG_LAYOUT(La), LAM_ARG_F32(s),
                         LAM_ARG_I64(n), LAM_ARG_I32(op));
}

lam_status lam_cl_rand(lam_device *d, const lam_view *dst, uint64_t seed, uint64_t counter, bool normal) {
    int64_t n = lam_view_numel(dst);
    return LAM_CL_LAUNCH(lam_cl(d), LAM_CL_RAND, "lam_rand", (size_t)n, WG, LAM_ARG_MEM(dst->buf),
                         LAM_ARG_I64(dst->offset), LAM_ARG_I64(n), LAM_ARG_U64(seed), LAM_ARG_U64(counter),
                         LAM_ARG_I32(normal));
}

/* cl/optim.cl: one work-item per element; without momentum the buffer is never read, so
 * the parameter stands in for it. */
lam_status lam_cl_sgd_step(lam_device *d, const lam_sgd_args *a) {
    const lam_view *b = a->momentum != 0.0f ? &a->buf : &a->param;
    return LAM_CL_LAUNCH(lam_cl(d), LAM_CL_OPTIM, "lam_sgd_step", (size_t)a->n, WG, LAM_ARG_MEM(a->param.buf),
                         LAM_ARG_I64(a->param.offset), LAM_ARG_MEM(a->grad.buf), LAM_ARG_I64(a->grad.offset),
                         LAM_ARG_MEM(b->buf), LAM_ARG_I64(b->offset), LAM_ARG_I64(a->n), LAM_ARG_F32(a->lr),
                         LAM_ARG_F32(a->momentum), LAM_ARG_F32(a->dampening), LAM_ARG_F32(a->weight_decay),
                         LAM_ARG_I32(a->nesterov), LAM_ARG_I32(a->first));
}

lam_status lam_cl_adam_step(lam_device *d, const lam_adam_args *a) {
    return LAM_CL_LAUNCH(lam_cl(d), LAM_CL_OPTIM, "lam_adam_step", (size_t)a->n, WG, LAM_ARG_MEM(a->param.buf),
                         LAM_ARG_I64(a->param.offset), LAM_ARG_MEM(a->grad.buf), LAM_ARG_I64(a->grad.offset),
                         LAM_ARG_MEM(a->m.buf), LAM_ARG_I64(a->m.offset), LAM_ARG_MEM(a->v.buf),
                         LAM_ARG_I64(a->v.offset), LAM_ARG_I64(a->n), LAM_ARG_F32(a->lr), LAM_ARG_F32(a->beta1),
                         LAM_ARG_F32(a->beta2), LAM_ARG_F32(a->eps), LAM_ARG_F32(a->weight_decay),
                         LAM_ARG_F32(a->bias1), LAM_ARG_F32(a->bias2), LAM_ARG_I32(a->decoupled));
}
