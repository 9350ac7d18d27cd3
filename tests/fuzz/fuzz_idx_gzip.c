/* libFuzzer harness: the input gzip-compressed, so that every IDX content also goes through
 * the gzip path (a buffer that grows as data arrives); an odd first byte cuts the compressed
 * stream short at a point the last byte picks (a truncated download).
 * Invariants as fuzz_idx: nothing bigger than the decompressed input loads. */
#define _GNU_SOURCE
#define FUZZ_IDX_NO_MAIN
#include <zlib.h>

#include "fuzz_idx.c"

/* gzip of data into a malloc'd buffer; its length in *n. */
static uint8_t *gzip(const uint8_t *data, size_t size, size_t *n) {
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    size_t cap = deflateBound(&z, (uLong)size) + 32;
    uint8_t *out = malloc(cap);
    if (!out) abort();
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    *n = z.total_out;
    deflateEnd(&z);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t n;
    uint8_t *gz = gzip(data, size, &n);
    if (size > 1 && data[0] % 2) n = n * data[size - 1] / 256;
    const char *path = fuzz_file(0, gz, n);
    check_idx(path, size);
    check_dataset(path, path);   /* labels must be 1-D and images not: both at once fail, cleanly */
    free(gz);
    FUZZ_CHECK(lam_live_tensors() == live_before);
    lam_clear_error();
    return 0;
}
