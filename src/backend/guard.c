/* Buffer guards: the pattern, the check, and the per-device record of violations. */
#include "backend/guard.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/debug.h"
#include "core/error.h"

#define MAX_TRACKED 64

const unsigned char lam_guard_pattern[LAM_GUARD_BYTES] = {
    0xA5, 0x5A, 0xC3, 0x3C, 0xA5, 0x5A, 0xC3, 0x3C, 0xA5, 0x5A, 0xC3, 0x3C, 0xA5, 0x5A, 0xC3, 0x3C,
    0xA5, 0x5A, 0xC3, 0x3C, 0xA5, 0x5A, 0xC3, 0x3C, 0xA5, 0x5A, 0xC3, 0x3C, 0xA5, 0x5A, 0xC3, 0x3C,
    0xA5, 0x5A, 0xC3, 0x3C, 0xA5, 0x5A, 0xC3, 0x3C, 0xA5, 0x5A, 0xC3, 0x3C, 0xA5, 0x5A, 0xC3, 0x3C,
    0xA5, 0x5A, 0xC3, 0x3C, 0xA5, 0x5A, 0xC3, 0x3C, 0xA5, 0x5A, 0xC3, 0x3C, 0xA5, 0x5A, 0xC3, 0x3C,
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    const lam_device *dev;
    unsigned long count;
    char first[160];
} seen[MAX_TRACKED];

size_t lam_guard_extra(void) { return lam_debug_enabled() ? LAM_GUARD_BYTES : 0; }

void lam_guard_check(lam_device *d, const unsigned char *guard, size_t bytes) {
    size_t bad = 0;
    while (bad < LAM_GUARD_BYTES && guard[bad] == lam_guard_pattern[bad]) ++bad;
    if (bad == LAM_GUARD_BYTES) return;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_TRACKED; ++i) {
        if (seen[i].dev && seen[i].dev != d) continue;
        if (!seen[i].count)
            snprintf(seen[i].first, sizeof seen[i].first, "a buffer of %zu bytes was written at byte %zu past its end",
                     bytes, bad);
        seen[i].dev = d;
        seen[i].count++;
        break;
    }
    pthread_mutex_unlock(&lock);
}

lam_status lam_device_check_guards(const lam_device *d) {
    if (!d) return lam_set_error(LAM_ERR_ARG, "lam_device_check_guards: device is NULL");
    lam_status st = LAM_OK;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_TRACKED; ++i)
        if (seen[i].dev == d && seen[i].count) {
            st = lam_set_error(LAM_ERR_STATE, "%s: %lu buffer(s) written past their end; the first: %s", d->spec,
                               seen[i].count, seen[i].first);
            seen[i].count = 0;
        }
    pthread_mutex_unlock(&lock);
    return st;
}
