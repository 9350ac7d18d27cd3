/* Device limits, queried and never assumed: the work-group size and local memory the kernels
 * are built for (-DLAM_WG=), the OpenCL C version they are built as (-cl-std=), and the
 * devices lamina refuses, with the limit named. LAMINA_CL_MAX_WG, LAMINA_CL_LOCAL_MEM and
 * LAMINA_CL_C_VERSION lower what a device is taken to have, so that the small-device
 * fallbacks run (and are tested) on any device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_backend.h"
#include "core/error.h"

/* An override that can only lower a limit: a positive decimal, else ignored. */
static uint64_t cap_by_env(const char *name, uint64_t value) {
    const char *v = getenv(name);
    char *end = NULL;
    unsigned long long cap = v && *v ? strtoull(v, &end, 10) : 0;
    return end && *end == '\0' && cap < value ? cap : value;
}

/* "OpenCL C 1.2 pocl" → 1, 2; false when the text has no version. */
static bool parse_c_version(const char *text, unsigned *major, unsigned *minor) {
    const char *at = strstr(text, "OpenCL C ");
    return sscanf(at ? at + 9 : text, "%u.%u", major, minor) == 2;
}

static bool version_below(unsigned major, unsigned minor, unsigned major2, unsigned minor2) {
    return major < major2 || (major == major2 && minor < minor2);
}

void lam_cl_take_limits(lam_cl_ctx *c, cl_device_id dev, char *refused, size_t cap) {
    size_t wg = 1;
    cl_ulong local = 0;
    cl_uint align_bits = 0;
    cl_bool images = CL_FALSE;
    clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_IMAGE_SUPPORT, sizeof images, &images, NULL);
    c->max_wg = (size_t)cap_by_env("LAMINA_CL_MAX_WG", wg ? wg : 1);
    c->local_mem = cap_by_env("LAMINA_CL_LOCAL_MEM", local);
    c->mem_align = align_bits / 8;
    c->images = images == CL_TRUE;
    /* the largest power of two within the cap, the work-group limit and local memory */
    c->wg = LAM_CL_WG_CAP;
    while (c->wg > 1 && (c->wg > c->max_wg || c->wg * LAM_CL_LOCAL_PER_ITEM > c->local_mem)) c->wg /= 2;

    unsigned major = 1, minor = 2;   /* a device that names no version is taken at its word: 1.2 */
    parse_c_version(c->c_version, &major, &minor);
    unsigned cap_major = major, cap_minor = minor;
    const char *env = getenv("LAMINA_CL_C_VERSION");
    if (env && parse_c_version(env, &cap_major, &cap_minor) && version_below(cap_major, cap_minor, major, minor)) {
        major = cap_major;
        minor = cap_minor;
    }
    /* the kernels are OpenCL C 1.2 (1.1 without static functions, cl/common.h); every later
     * compiler accepts 1.2, and 3.0 makes optional what they don't need */
    if (!version_below(major, minor, 1, 2)) major = 1, minor = 2;
    c->c_major = major;
    c->c_minor = minor;

    refused[0] = '\0';
    if (version_below(major, minor, 1, 1))
        snprintf(refused, cap, "OpenCL C %u.%u: lamina's kernels need OpenCL C 1.1 or later", major, minor);
    else if (c->local_mem < LAM_CL_LOCAL_PER_ITEM)
        snprintf(refused, cap, "local memory %llu bytes: lamina's work-group kernels need at least %d",
                 (unsigned long long)c->local_mem, LAM_CL_LOCAL_PER_ITEM);
}

void lam_cl_build_options(const lam_cl_ctx *c, int dtype, char *out, size_t cap) {
    snprintf(out, cap, "-cl-std=CL%u.%u -DLAM_DTYPE=%d -DLAM_WG=%zu", c->c_major, c->c_minor, dtype, c->wg);
}

lam_status lam_cl_limits(lam_device *d, lam_device_limits *out) {
    const lam_cl_ctx *c = lam_cl(d);
    out->max_work_group = c->max_wg;
    out->work_group = c->wg;
    out->preferred_multiple = atomic_load(&((lam_cl_ctx *)c)->pref_multiple);
    out->local_mem = c->local_mem;
    out->mem_align = c->mem_align;
    out->c_major = c->c_major;
    out->c_minor = c->c_minor;
    out->fp16 = c->fp16;
    out->images = c->images;
    return LAM_OK;
}
