/* libFuzzer harness: IDX files as given (plain, or gzip when the input starts with gzip's
 * magic), alone (lam_idx_load) and as an image/label pair (lam_dataset_load_idx: the first
 * byte says where the input splits), then shuffled and batched.
 * Invariants: what loads is no bigger than the file, its dims multiply to its size. */
#define _GNU_SOURCE
#include "fuzz_util.h"

static int64_t live_before;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_host_only();
    live_before = lam_live_tensors();
    return 0;
}

/* The plain loader's invariants; used by fuzz_idx_gzip too. */
static inline void check_idx(const char *path, size_t max_bytes) {
    lam_idx idx;
    if (lam_idx_load(path, 0, &idx) != LAM_OK) {
        FUZZ_CHECK(!idx.data && idx.numel == 0);
        return;
    }
    int64_t n = 1;
    for (int i = 0; i < idx.ndim; ++i) n *= idx.dims[i];
    FUZZ_CHECK(idx.ndim >= 1 && idx.ndim <= 4 && n == idx.numel && (size_t)idx.numel <= max_bytes);
    volatile uint8_t sum = 0;   /* every byte is readable */
    for (int64_t i = 0; i < idx.numel; ++i) sum += idx.data[i];
    (void)sum;
    lam_idx_free(&idx);
}

static inline void check_dataset(const char *images, const char *labels) {
    lam_dataset *d = lam_dataset_load_idx(images, labels);
    if (!d) return;
    lam_dataset_shuffle(d, 1, 2);
    lam_scope_begin();
    lam_tensor *bx, *by;
    for (int64_t b = 0; b < lam_dataset_batches(d, 3) && b < 4; ++b)
        FUZZ_CHECK(lam_dataset_batch(d, b, 3, lam_device_get("cpu"), &bx, &by) == LAM_OK);
    lam_scope_end();
    lam_dataset_free(d);
}

#ifndef FUZZ_IDX_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_idx(fuzz_file(0, data, size), size);
    if (size > 1) {
        size_t split = 1 + data[0] * (size - 1) / 256;
        check_dataset(fuzz_file(0, data + 1, split - 1), fuzz_file(1, data + split, size - split));
    }
    FUZZ_CHECK(lam_live_tensors() == live_before);
    lam_clear_error();
    return 0;
}
#endif
