/* Copies between two OpenCL devices that share a context (every device of a platform does,
 * cl_device.c): one clEnqueueCopyBuffer on the destination's queue, with no byte through host
 * memory. The two queues are ordered both ways with events:
 * - the copy waits for a marker of the source's queue: every command queued there before
 *   (those that wrote the source) has finished;
 * - the source's queue then waits for the copy: once the source tensor is freed its buffer
 *   goes back to the source's pool, and the next command there may overwrite it.
 * The destination's own earlier and later commands are ordered by its in-order queue. */
#include "backend/opencl/cl_backend.h"
#include "core/error.h"

bool lam_cl_can_copy_from(lam_device *d, lam_device *from) {
    return d->ops == from->ops && d != from && lam_cl(d)->context == lam_cl(from)->context;
}

lam_status lam_cl_copy_from(lam_device *d, void *dst, size_t dst_offset, lam_device *from, void *src,
                            size_t src_offset, size_t bytes) {
    lam_cl_ctx *c = lam_cl(d), *s = lam_cl(from);
    if (!bytes) return LAM_OK;
    cl_event written = NULL, copied = NULL;
    const char *call = "clEnqueueMarkerWithWaitList";
    cl_int err = clEnqueueMarkerWithWaitList(s->queue, 0, NULL, &written);
    /* a command of another queue may wait for an event only once its queue was flushed */
    if (err == CL_SUCCESS && (err = clFlush(s->queue)) != CL_SUCCESS) call = "clFlush";
    if (err == CL_SUCCESS &&
        (err = clEnqueueCopyBuffer(c->queue, (cl_mem)src, (cl_mem)dst, src_offset, dst_offset, bytes, 1, &written,
                                   &copied)) != CL_SUCCESS)
        call = "clEnqueueCopyBuffer";
    if (err == CL_SUCCESS && (err = clFlush(c->queue)) != CL_SUCCESS) call = "clFlush";
    if (err == CL_SUCCESS && (err = clEnqueueBarrierWithWaitList(s->queue, 1, &copied, NULL)) != CL_SUCCESS)
        call = "clEnqueueBarrierWithWaitList";
    if (err != CL_SUCCESS && copied) {   /* the source's queue must not run ahead of a queued copy */
        lam_cl_count(&s->waits, 1);
        clWaitForEvents(1, &copied);
    }
    if (written) clReleaseEvent(written);
    if (copied) clReleaseEvent(copied);
    if (err == CL_SUCCESS) {
        lam_cl_count(&c->launches, 1);
        err = lam_cl_settle(c, false);   /* synchronous queues (LAMINA_CL_ASYNC=0) wait here */
        if (err != CL_SUCCESS) call = "clFinish";
    }
    return err == CL_SUCCESS ? LAM_OK : lam_cl_fail(call, err);
}
