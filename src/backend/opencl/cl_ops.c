/* OpenCL fill, strided copy with dtype conversion, and the elementwise ops of the op table
 * (cl/elementwise.cl: one kernel for contiguous operands, one through lam_layout). */
#include <stdio.h>

#include "backend/opencl/cl_profile.h"
#include "core/error.h"

#define WG 256   /* work-group size of the elementwise kernels */

lam_status lam_cl_fill(lam_device *d, const lam_view *dst, uint64_t bits) {
    lam_cl_ctx *c = lam_cl(d);
    int64_t n = lam_view_numel(dst);
    if (n <= 0) return LAM_OK;
    size_t es = lam_dtype_size(dst->dtype);
    uint32_t v32 = (uint32_t)bits;
    uint16_t v16 = (uint16_t)bits;
    const void *pattern = es == 8 ? (const void *)&bits : es == 4 ? (const void *)&v32 : (const void *)&v16;
    cl_event *ev = lam_cl_prof_event(c);
    cl_int err = clEnqueueFillBuffer(c->queue, (cl_mem)dst->buf, pattern, es, (size_t)dst->offset * es,
                                     (size_t)n * es, 0, NULL, ev);
    lam_cl_prof_record(ev, "clEnqueueFillBuffer");
    if (err != CL_SUCCESS) return lam_cl_fail("clEnqueueFillBuffer(fill)", err);
    lam_cl_count(&c->launches, 1);
    lam_cl_count_launch(c, LAM_CL_BYTES(0, (uint64_t)n * es));
    return LAM_OK;
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
            cl_event *ev = lam_cl_prof_event(c);
            cl_int err = clEnqueueCopyBuffer(c->queue, (cl_mem)src->buf, (cl_mem)dst->buf, (size_t)so * es,
                                             (size_t)dof * es, (size_t)n * es, 0, NULL, ev);
            lam_cl_prof_record(ev, "clEnqueueCopyBuffer");
            if (err != CL_SUCCESS) return lam_cl_fail("clEnqueueCopyBuffer(copy)", err);
            lam_cl_count(&c->launches, 1);
            lam_cl_count_launch(c, LAM_CL_BYTES((uint64_t)n * es, (uint64_t)n * es));
            return LAM_OK;
        }
    }
    lam_layout Ld = lam_view_layout(dst), Ls = lam_view_layout(src);
    lam_cl_bytes bytes = LAM_CL_BYTES(lam_cl_view_bytes(src), lam_cl_view_bytes(dst));
    return LAM_CL_LAUNCH(c, "fill_copy.cl", "lam_copy", LAM_F32, (size_t)n, WG, bytes, LAM_ARG_MEM(dst->buf),
                         LAM_ARG_LAYOUT(Ld), LAM_ARG_I32(dst->dtype), LAM_ARG_MEM(src->buf), LAM_ARG_LAYOUT(Ls),
                         LAM_ARG_I32(src->dtype), LAM_ARG_I64(n), LAM_ARG_I32(dst_contig));
}

lam_status lam_cl_elementwise(lam_device *d, lam_ew_op op, const lam_view *dst, const lam_operand *operands) {
    lam_cl_ctx *c = lam_cl(d);
    int64_t n = lam_view_numel(dst);
    lam_view o = *dst;
    lam_operand in[LAM_EW_INPUTS];
    lam_view *views[LAM_EW_INPUTS + 1] = {&o};
    int nv = 1, scalars = 0;
    lam_cl_bytes bytes = LAM_CL_BYTES(0, lam_cl_view_bytes(dst));
    for (int k = 0; k < LAM_EW_INPUTS; ++k) {
        in[k] = operands[k];
        if (in[k].scalar) scalars |= 1 << k;
        else views[nv++] = &in[k].view;
        if (!in[k].scalar) bytes.read += lam_cl_view_bytes(&in[k].view);
    }
    lam_views_coalesce(views, nv);   /* fewer dims: less index arithmetic per element */
    bool contig = true;
    for (int k = 0; k < LAM_EW_INPUTS; ++k) contig = contig && (in[k].scalar || lam_view_contiguous(&in[k].view));
    /* a scalar input's buffer is never read: dst stands in for it */
#define BUF(k) LAM_ARG_MEM(in[k].scalar ? dst->buf : in[k].view.buf)
    if (contig && scalars == 6)   /* one buffer, then scalars: unary ops, a op scalar */
        return LAM_CL_LAUNCH(c, "elementwise.cl", "lam_ew_contig1", dst->dtype, (size_t)n, WG, bytes, LAM_ARG_MEM(dst->buf),
                             LAM_ARG_I64(dst->offset), BUF(0), LAM_ARG_I64(in[0].view.offset),
                             LAM_ARG_F32(in[1].value), LAM_ARG_F32(in[2].value), LAM_ARG_I64(n), LAM_ARG_I32(op));
    if (contig && scalars == 4)   /* two buffers: binary ops */
        return LAM_CL_LAUNCH(c, "elementwise.cl", "lam_ew_contig2", dst->dtype, (size_t)n, WG, bytes, LAM_ARG_MEM(dst->buf),
                             LAM_ARG_I64(dst->offset), BUF(0), LAM_ARG_I64(in[0].view.offset), BUF(1),
                             LAM_ARG_I64(in[1].view.offset), LAM_ARG_F32(in[2].value), LAM_ARG_I64(n), LAM_ARG_I32(op));
    if (contig)
        return LAM_CL_LAUNCH(c, "elementwise.cl", "lam_ew_contig", dst->dtype, (size_t)n, WG, bytes, LAM_ARG_MEM(dst->buf),
                             LAM_ARG_I64(dst->offset), BUF(0), LAM_ARG_I64(in[0].view.offset), BUF(1),
                             LAM_ARG_I64(in[1].view.offset), BUF(2), LAM_ARG_I64(in[2].view.offset),
                             LAM_ARG_F32(in[0].value), LAM_ARG_F32(in[1].value), LAM_ARG_F32(in[2].value),
                             LAM_ARG_I32(scalars), LAM_ARG_I64(n), LAM_ARG_I32(op));
    lam_layout L[LAM_EW_INPUTS] = {{0}};
    for (int k = 0; k < LAM_EW_INPUTS; ++k)
        if (!in[k].scalar) L[k] = lam_view_layout(&in[k].view);
    return LAM_CL_LAUNCH(c, "elementwise.cl", "lam_ew_strided", dst->dtype, (size_t)n, WG, bytes, LAM_ARG_MEM(dst->buf),
                         LAM_ARG_I64(dst->offset), BUF(0), LAM_ARG_LAYOUT(L[0]), BUF(1), LAM_ARG_LAYOUT(L[1]), BUF(2),
                         LAM_ARG_LAYOUT(L[2]), LAM_ARG_F32(in[0].value), LAM_ARG_F32(in[1].value),
                         LAM_ARG_F32(in[2].value), LAM_ARG_I32(scalars), LAM_ARG_I64(n), LAM_ARG_I32(op));
#undef BUF
}
