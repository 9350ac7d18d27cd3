/* The device registry: cpu first, then every OpenCL device; spec strings; the default.
 * It sees the backends only through struct lam_device and its vtable (backend.h). */
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/error.h"

#define MAX_DEVICES 64

static lam_device *devices[MAX_DEVICES];
static int device_count;
static _Atomic(lam_device *) default_device;   /* set by lam_set_default_device, any thread */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const char *const type_names[] = {"host", "cpu", "gpu", "accelerator"};
_Static_assert(sizeof type_names / sizeof *type_names == LAM_DEVICE_TYPE_COUNT, "name every device type");

const char *lam_device_type_name(lam_device_type t) {
    return (unsigned)t < LAM_DEVICE_TYPE_COUNT ? type_names[t] : "?";
}

/* Host first: devices[0] is "cpu". */
static const lam_backend *const backends[] = {&lam_host_backend, &lam_opencl_backend};

static void enumerate(void) {
    for (size_t b = 0; b < sizeof backends / sizeof *backends; ++b)
        device_count += backends[b]->enumerate(devices + device_count, MAX_DEVICES - device_count);
}

static void init(void) { pthread_once(&once, enumerate); }

int lam_device_count(void) {
    init();
    return device_count;
}

/* A device lamina cannot use (backend.h's refused) is an error naming the limit. */
static lam_device *usable(lam_device *d, const char *call) {
    if (d && d->refused[0]) LAM_FAIL_NULL(LAM_ERR_DEVICE, "%s: %s: %s", call, d->spec, d->refused);
    return d;
}

lam_device *lam_device_at(int index) {
    init();
    if (index < 0 || index >= device_count)
        LAM_FAIL_NULL(LAM_ERR_DEVICE, "lam_device_at: index %d out of range (%d devices)", index, device_count);
    return usable(devices[index], "lam_device_at");
}

static lam_device *first_of_type(bool gpu) {
    for (int i = 1; i < device_count; ++i)
        if ((!gpu || devices[i]->type == LAM_DEVICE_GPU) && !devices[i]->refused[0]) return devices[i];
    return NULL;
}

static bool all_digits(const char *s, size_t n) {
    if (n == 0 || n > 9) return false;
    for (size_t i = 0; i < n; ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static bool contains_nocase(const char *hay, const char *needle, size_t n) {
    for (; *hay; ++hay) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) ++i;
        if (i == n) return true;
    }
    return false;
}

/* The one platform whose name or vendor contains name (n bytes, any case); UINT_MAX and
 * an error when none or several do. */
static unsigned platform_named(const char *spec, const char *name, size_t n) {
    unsigned found = UINT_MAX, matches = 0;
    char seen[512] = "";
    for (int i = 1; i < device_count; ++i) {
        const lam_device *d = devices[i];
        if (found != UINT_MAX && d->platform_index == found) continue;
        if (!contains_nocase(d->platform, name, n) && !contains_nocase(d->vendor, name, n)) continue;
        size_t used = strlen(seen);
        snprintf(seen + used, sizeof seen - used, "%s\"%.100s\"", matches ? ", " : "", d->platform);
        if (matches++ == 0) found = d->platform_index;
    }
    if (matches == 1) return found;
    if (matches == 0)
        lam_set_error(LAM_ERR_DEVICE, "lam_device_get: no OpenCL platform's name or vendor contains \"%.*s\" (\"%s\")",
                      (int)n, name, spec);
    else
        lam_set_error(LAM_ERR_DEVICE, "lam_device_get: \"%.*s\" matches %u platforms (%s): use more of a name, or its index (\"%s\")",
                      (int)n, name, matches, seen, spec);
    return UINT_MAX;
}

/* "opencl:P:D": the D-th device of platform P, P its index or a case-insensitive part of
 * its name or vendor that matches one platform only ("opencl:rusticl:0"). */
static lam_device *by_spec(const char *spec) {
    const char *plat = spec + 7, *colon = strrchr(plat, ':');
    if (!colon || !all_digits(colon + 1, strlen(colon + 1)) || colon == plat || memchr(plat, ':', (size_t)(colon - plat)))
        LAM_FAIL_NULL(LAM_ERR_DEVICE, "lam_device_get: bad device spec \"%s\" (opencl:P:D, P a platform index or name, D a device index)", spec);
    size_t n = (size_t)(colon - plat);
    unsigned p = all_digits(plat, n) ? (unsigned)strtoul(plat, NULL, 10) : platform_named(spec, plat, n);
    if (p == UINT_MAX) return NULL;
    unsigned dev = (unsigned)strtoul(colon + 1, NULL, 10);
    for (int i = 1; i < device_count; ++i)
        if (devices[i]->platform_index == p && devices[i]->device_index == dev) return devices[i];
    LAM_FAIL_NULL(LAM_ERR_DEVICE, "lam_device_get: no device \"%s\" on this machine (%d devices)", spec, device_count);
}

static lam_device *parse_spec(const char *spec) {
    lam_device *d = NULL;
    if (strcmp(spec, "cpu") == 0) d = devices[0];
    else if (strcmp(spec, "opencl") == 0) d = first_of_type(false);
    else if (strcmp(spec, "gpu") == 0) d = first_of_type(true);
    else if (strncmp(spec, "opencl:", 7) == 0) return usable(by_spec(spec), "lam_device_get");
    else LAM_FAIL_NULL(LAM_ERR_DEVICE, "lam_device_get: unknown device spec \"%s\" (cpu, gpu, opencl, opencl:P:D)", spec);
    if (!d) LAM_FAIL_NULL(LAM_ERR_DEVICE, "lam_device_get: no usable device \"%s\" on this machine (%d devices)", spec, device_count);
    return d;
}

lam_device *lam_default_device(void) {
    init();
    lam_device *set = atomic_load(&default_device);
    if (set) return set;
    const char *env = getenv("LAMINA_DEVICE");
    if (env && *env) return parse_spec(env);
    lam_device *d = first_of_type(true);   /* CPU OpenCL devices only when named: cpu is faster */
    return d ? d : devices[0];
}

lam_device *lam_device_get(const char *spec) {
    init();
    if (!spec || !*spec) return lam_default_device();
    return parse_spec(spec);
}

lam_status lam_set_default_device(lam_device *d) {
    if (!d) return lam_set_error(LAM_ERR_ARG, "lam_set_default_device: device is NULL");
    atomic_store(&default_device, d);
    return LAM_OK;
}

const char *lam_device_name(const lam_device *d) { return d ? d->name : "(null)"; }
const char *lam_device_spec(const lam_device *d) { return d ? d->spec : "(null)"; }

lam_status lam_device_query(const lam_device *d, lam_device_info *info) {
    if (!d || !info) return lam_set_error(LAM_ERR_ARG, "lam_device_query: argument is NULL");
    return d->ops->query((lam_device *)d, info);
}

lam_status lam_device_query_limits(const lam_device *d, lam_device_limits *out) {
    if (!d || !out) return lam_set_error(LAM_ERR_ARG, "lam_device_query_limits: argument is NULL");
    memset(out, 0, sizeof *out);
    return d->ops->limits ? d->ops->limits((lam_device *)d, out) : LAM_OK;
}

lam_status lam_device_pool_stats(const lam_device *d, lam_pool_stats *out) {
    if (!d || !out) return lam_set_error(LAM_ERR_ARG, "lam_device_pool_stats: argument is NULL");
    return d->ops->pool_stats((lam_device *)d, out);
}

lam_status lam_device_empty_cache(lam_device *d) {
    if (!d) return lam_set_error(LAM_ERR_ARG, "lam_device_empty_cache: device is NULL");
    return d->ops->empty_cache(d);
}

lam_status lam_device_synchronize(lam_device *d) {
    if (!d) return lam_set_error(LAM_ERR_ARG, "lam_device_synchronize: device is NULL");
    return d->ops->synchronize(d);
}

lam_status lam_device_stats(const lam_device *d, lam_queue_stats *out) {
    if (!d || !out) return lam_set_error(LAM_ERR_ARG, "lam_device_stats: argument is NULL");
    memset(out, 0, sizeof *out);
    return d->ops->stats ? d->ops->stats((lam_device *)d, out) : LAM_OK;
}
