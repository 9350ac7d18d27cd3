/* libFuzzer harness: device specs, the one text the library parses besides files
 * (lam_device_get, and LAMINA_DEVICE through lam_default_device). Invariant: a spec that
 * resolves names the device it returns ("cpu" here, the only device). */
#define _GNU_SOURCE
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_host_only();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *spec = malloc(size + 1);
    if (!spec) return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    lam_device *d = lam_device_get(spec);
    FUZZ_CHECK(!d || !*spec || !strcmp(spec, "cpu") || !strcmp(spec, "opencl") || !strcmp(spec, "gpu") ||
               !strcmp(spec, lam_device_spec(d)));
    FUZZ_CHECK(d || lam_last_status() == LAM_ERR_DEVICE);
    setenv("LAMINA_DEVICE", spec, 1);
    lam_default_device();
    unsetenv("LAMINA_DEVICE");
    free(spec);
    lam_clear_error();
    return 0;
}
