/* The device-side error record: LAM_CL_RECORD_LONGS longs per device (raised, value,
 * position, lo, hi, op id; cl/check.cl) that check kernels raise instead of making the host
 * wait. Blocking reads and lam_device_synchronize enqueue a read of it just before their
 * own wait (the in-order queue finishes it first), so reporting costs no extra wait. */
#include "backend/check.h"
#include "backend/opencl/cl_backend.h"
#include "core/error.h"

static const cl_long zeros[LAM_CL_RECORD_LONGS];   /* static: a non-blocking write may read it later */

cl_mem lam_cl_record(lam_cl_ctx *c) {
    pthread_mutex_lock(&c->record_lock);
    if (!c->record) {
        cl_int err;
        cl_mem m = clCreateBuffer(c->context, CL_MEM_READ_WRITE, sizeof zeros, NULL, &err);
        if (err == CL_SUCCESS) {
            err = clEnqueueWriteBuffer(c->queue, m, CL_FALSE, 0, sizeof zeros, zeros, 0, NULL, NULL);
            if (err == CL_SUCCESS) c->record = m;
            else clReleaseMemObject(m);
        }
        if (err != CL_SUCCESS) lam_cl_fail("clCreateBuffer(error record)", err);
    }
    cl_mem r = c->record;
    pthread_mutex_unlock(&c->record_lock);
    return r;
}

bool lam_cl_record_fetch(lam_cl_ctx *c, cl_long *fetch, uint64_t *gen) {
    *gen = atomic_load(&c->checks_enqueued);   /* counted after each check's enqueue */
    if (*gen == atomic_load(&c->checks_read)) return false;
    return clEnqueueReadBuffer(c->queue, c->record, CL_FALSE, 0, sizeof zeros, fetch, 0, NULL, NULL) == CL_SUCCESS;
}

/* checks_read = max(checks_read, gen): every check enqueued before gen has been looked at. */
static void mark_read(lam_cl_ctx *c, uint64_t gen) {
    uint64_t seen = atomic_load(&c->checks_read);
    while (seen < gen && !atomic_compare_exchange_weak(&c->checks_read, &seen, gen)) {
    }
}

lam_status lam_cl_record_report(lam_cl_ctx *c, const cl_long *fetch, uint64_t gen) {
    if (fetch[0] == 0) {
        mark_read(c, gen);
        return LAM_OK;
    }
    /* lower it for the checks enqueued from now on; on failure it stays raised and reports again */
    if (clEnqueueWriteBuffer(c->queue, c->record, CL_FALSE, 0, sizeof zeros, zeros, 0, NULL, NULL) == CL_SUCCESS)
        mark_read(c, gen);
    return lam_check_fail(fetch[5], fetch[1], fetch[2], fetch[3], fetch[4], true);
}
