/* libFuzzer harness: device specs, the one text the library parses besides files
 * (lam_device_get, and LAMINA_DEVICE through lam_default_device). It sees the machine's
 * OpenCL platforms (POCL, and Rusticl with RUSTICL_ENABLE=llvmpipe, in CI), so specs by
 * name resolve. Invariants: a spec that resolves names the device it returns, by index, or
 * by a part of its platform's name or vendor (any case) followed by its device index; a
 * spec that does not resolves to an error. */
#define _GNU_SOURCE
#include <ctype.h>

#include "backend/backend.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (!lam_device_get("cpu")) abort();   /* enumerates once, outside the runs */
    return 0;
}

static bool contains_nocase(const char *hay, const char *needle, size_t n) {
    for (size_t h = 0; hay[h]; ++h) {
        size_t i = 0;
        while (i < n && tolower((unsigned char)hay[h + i]) == tolower((unsigned char)needle[i])) ++i;
        if (i == n) return true;
    }
    return false;
}

/* spec "opencl:P:D" names d: P is d's platform index or a part of its name or vendor, D its index */
static bool names_device(const char *spec, const lam_device *d) {
    const char *name = spec + 7, *colon = strrchr(name, ':');
    if (strncmp(spec, "opencl:", 7) != 0 || !colon) return false;
    size_t n = (size_t)(colon - name), digits = strspn(name, "0123456789");
    if (digits == n)   /* an index, leading zeros allowed */
        return strtoul(name, NULL, 10) == d->platform_index && strtoul(colon + 1, NULL, 10) == d->device_index;
    return (contains_nocase(d->platform, name, n) || contains_nocase(d->vendor, name, n)) &&
           strtoul(colon + 1, NULL, 10) == d->device_index;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *spec = malloc(size + 1);
    if (!spec) return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    lam_device *d = lam_device_get(spec);
    FUZZ_CHECK(!d || !*spec || !strcmp(spec, "cpu") || !strcmp(spec, "opencl") || !strcmp(spec, "gpu") ||
               !strcmp(spec, lam_device_spec(d)) || names_device(spec, d));
    FUZZ_CHECK(d || lam_last_status() == LAM_ERR_DEVICE);
    setenv("LAMINA_DEVICE", spec, 1);
    lam_default_device();
    unsetenv("LAMINA_DEVICE");
    free(spec);
    lam_clear_error();
    return 0;
}
