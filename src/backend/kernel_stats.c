/* The public kernel statistics (lamina/device.h): argument checks, then the backend's entry;
 * a backend without one (the host) does not count kernels. */
#include <string.h>

#include "backend/backend.h"
#include "core/error.h"

static lam_status unsupported(const char *fn, const lam_device *d) {
    return lam_set_error(LAM_ERR_UNSUPPORTED, "%s: %s does not count kernels (OpenCL devices do)", fn, d->spec);
}

lam_status lam_device_kernel_stats(const lam_device *d, lam_kernel_stats *out) {
    if (!d || !out) return lam_set_error(LAM_ERR_ARG, "lam_device_kernel_stats: argument is NULL");
    memset(out, 0, sizeof *out);
    if (!d->ops->kernel_stats) return unsupported("lam_device_kernel_stats", d);
    return d->ops->kernel_stats((lam_device *)d, out);
}

lam_status lam_device_reset_kernel_stats(lam_device *d) {
    if (!d) return lam_set_error(LAM_ERR_ARG, "lam_device_reset_kernel_stats: device is NULL");
    if (!d->ops->reset_kernel_stats) return unsupported("lam_device_reset_kernel_stats", d);
    return d->ops->reset_kernel_stats(d);
}

lam_status lam_device_reset_peak(lam_device *d) {
    if (!d) return lam_set_error(LAM_ERR_ARG, "lam_device_reset_peak: device is NULL");
    if (!d->ops->reset_peak)
        return lam_set_error(LAM_ERR_UNSUPPORTED, "lam_device_reset_peak: %s cannot lower its pool's peak", d->spec);
    return d->ops->reset_peak(d);
}
