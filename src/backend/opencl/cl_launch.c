/* Kernel launches: arguments from a table (LAM_CL_LAUNCH builds it), one 1-D NDRange. */
#include <stdio.h>

#include "backend/opencl/cl_profile.h"
#include "core/error.h"

cl_int lam_cl_settle(lam_cl_ctx *c, bool first) {
    return c->synchronous || (first && c->lazy_compile) ? lam_cl_finish(c) : CL_SUCCESS;
}

/* A work-group size for a launch that leaves it to the runtime, on a lazy-compile device:
 * the runtime would pick one per global size and compile each (seconds per new shape on
 * POCL); three sizes, the largest that still gives every compute unit a group. */
static size_t lazy_local(const lam_cl_ctx *c, size_t global) {
    size_t units = c->compute_units > 0 ? (size_t)c->compute_units : 1, local = 256;
    while (local > 16 && (global + local - 1) / local < units) local /= 4;
    return local;
}

lam_status lam_cl_launch(lam_cl_ctx *c, const char *file, const char *name, int dtype, size_t global,
                         size_t local, lam_cl_bytes bytes, const lam_cl_arg *args, size_t nargs) {
    if (global == 0) return LAM_OK;
    cl_kernel k = lam_cl_kernel(c, file, name, dtype);
    if (!k) return lam_last_status();
    if (!local && c->lazy_compile) local = lazy_local(c, global);
    if (local > c->max_wg) local = c->max_wg;
    if (local) global = (global + local - 1) / local * local;
    char call[128];
    /* the runtime specializes on the work-group size, which it picks from global when local is 0 */
    lam_cl_seen_key key = {{(uint64_t)(uintptr_t)k, (uint64_t)global, (uint64_t)local, 0}};
    bool first = lam_cl_first_begin(c, &key);
    pthread_mutex_lock(&c->launch_lock);
    cl_int err = CL_SUCCESS;
    cl_event *ev = lam_cl_prof_event(c);
    for (size_t i = 0; i < nargs && err == CL_SUCCESS; ++i) {
        err = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].ref ? args[i].ref : (const void *)&args[i].v);
        if (err != CL_SUCCESS) snprintf(call, sizeof call, "clSetKernelArg(%s, %zu)", name, i);
    }
    if (err == CL_SUCCESS) {
        err = clEnqueueNDRangeKernel(c->queue, k, 1, NULL, &global, local ? &local : NULL, 0, NULL, ev);
        if (err != CL_SUCCESS) snprintf(call, sizeof call, "clEnqueueNDRangeKernel(%s)", name);
        else {
            lam_cl_count(&c->launches, 1);
            lam_cl_count_launch(c, bytes);
        }
        if (err == CL_SUCCESS && (err = lam_cl_settle(c, first)) != CL_SUCCESS)
            snprintf(call, sizeof call, "clFinish(%s)", name);
    }
    pthread_mutex_unlock(&c->launch_lock);
    lam_cl_first_done(c, &key, first, err == CL_SUCCESS);
    lam_cl_prof_record(ev, name);
    return err == CL_SUCCESS ? LAM_OK : lam_cl_fail(call, err);
}

lam_status lam_cl_launch_args(lam_cl_ctx *c, const char *file, const char *name, int dtype, size_t global,
                              size_t local, lam_cl_bytes bytes, const lam_cl_arg *args) {
    size_t n = 0;
    while (args[n].size) ++n;
    return lam_cl_launch(c, file, name, dtype, global, local, bytes, args, n);
}
