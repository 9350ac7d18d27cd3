/* Shared by the libFuzzer harnesses: the input as a file (a memfd, no disk I/O per run), a
 * host-only setup (no OpenCL platform: the parsers are what is fuzzed, not the drivers), and
 * invariants that turn a silent defect into a crash libFuzzer reports. */
#ifndef LAM_FUZZ_UTIL_H
#define LAM_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lamina.h>

/* A crash with a reason: libFuzzer saves the input that caused it. */
#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "fuzz invariant failed: %s (%s:%d); last error: %s\n", #cond, \
                    __FILE__, __LINE__, lam_last_error());                                \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* Writes data to memfd number `slot` (0 or 1) and returns a path that opens it. */
static inline const char *fuzz_file(int slot, const uint8_t *data, size_t size) {
    static int fd[2] = {-1, -1};
    static char path[2][64];
    if (fd[slot] < 0) {
        fd[slot] = memfd_create("lamina-fuzz", 0);
        if (fd[slot] < 0) abort();
        snprintf(path[slot], sizeof path[slot], "/proc/self/fd/%d", fd[slot]);
    }
    if (ftruncate(fd[slot], 0) != 0 || (size && pwrite(fd[slot], data, size, 0) != (ssize_t)size)) abort();
    return path[slot];
}

/* Hides every OpenCL platform (an empty vendor directory for the ICD loader): only "cpu". */
static inline void fuzz_host_only(void) {
    static char dir[] = "/tmp/lamina-fuzz-icd-XXXXXX";
    if (!mkdtemp(dir)) abort();
    setenv("OCL_ICD_VENDORS", dir, 1);
    if (!lam_device_get("cpu")) abort();
    rmdir(dir);
}

#endif
