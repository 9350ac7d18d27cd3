/* IDX files (LeCun's MNIST format), plain or gzip through zlib (gzread reads both):
 *   bytes 0-1 zero, byte 2 the type (0x08 = unsigned byte), byte 3 the number of dims,
 *   then one big-endian u32 per dim, then the data. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "lamina/data.h"

#define IDX_MAX_BYTES ((int64_t)1 << 34)

/* Reads exactly n bytes; false on a short read or a gzip error (message set). */
static bool read_exact(gzFile f, const char *path, void *dst, int64_t n, const char *what) {
    unsigned char *p = dst;
    while (n > 0) {
        unsigned chunk = n > (1 << 30) ? 1u << 30 : (unsigned)n;
        int got = gzread(f, p, chunk);
        if (got < 0) {
            int code;
            const char *msg = gzerror(f, &code);
            lam_set_error(code == Z_ERRNO ? LAM_ERR_IO : LAM_ERR_FORMAT, "%s: reading %s: %s", path, what,
                          code == Z_ERRNO ? strerror(errno) : msg);
            return false;
        }
        if (got == 0) {
            int code;
            const char *msg = gzerror(f, &code);
            if (code != Z_OK && code != Z_BUF_ERROR)
                lam_set_error(LAM_ERR_FORMAT, "%s: reading %s: %s", path, what, msg);
            else
                lam_set_error(LAM_ERR_FORMAT, "%s: truncated: %lld bytes of %s missing", path, (long long)n, what);
            return false;
        }
        p += got;
        n -= got;
    }
    return true;
}

lam_status lam_idx_load(const char *path, int expect_ndim, lam_idx *out) {
    if (!path || !out) return lam_set_error(LAM_ERR_ARG, "lam_idx_load: NULL argument");
    memset(out, 0, sizeof *out);
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return lam_set_error(LAM_ERR_IO, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    lam_status st = LAM_OK;
    unsigned char head[4], raw[16];
    uint8_t *data = NULL;
    if (!read_exact(f, path, head, 4, "the header")) goto fail;
    if (head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] < 1 || head[3] > 4) {
        lam_set_error(LAM_ERR_FORMAT, "%s: not an IDX file of unsigned bytes (magic 0x%02x%02x%02x%02x)", path, head[0],
                      head[1], head[2], head[3]);
        goto fail;
    }
    int ndim = head[3];
    if (expect_ndim > 0 && ndim != expect_ndim) {
        lam_set_error(LAM_ERR_FORMAT, "%s: %d dimensions, expected %d (magic 0x%08x)", path, ndim, expect_ndim,
                      0x800 + expect_ndim);
        goto fail;
    }
    if (!read_exact(f, path, raw, 4 * ndim, "the dimensions")) goto fail;
    int64_t numel = 1;
    for (int i = 0; i < ndim; ++i) {
        uint32_t d = (uint32_t)raw[4 * i] << 24 | (uint32_t)raw[4 * i + 1] << 16 | (uint32_t)raw[4 * i + 2] << 8 |
                     raw[4 * i + 3];
        if (d == 0) {
            lam_set_error(LAM_ERR_FORMAT, "%s: dimension %d is zero", path, i);
            goto fail;
        }
        out->dims[i] = d;
        numel *= d;
        if (numel > IDX_MAX_BYTES) {
            lam_set_error(LAM_ERR_FORMAT, "%s: implausible size (over %lld bytes)", path, (long long)IDX_MAX_BYTES);
            goto fail;
        }
    }
    data = malloc((size_t)numel);
    if (!data) {
        lam_set_error(LAM_ERR_OOM, "%s: out of memory for %lld bytes", path, (long long)numel);
        goto fail;
    }
    if (!read_exact(f, path, data, numel, "the data")) goto fail;
    unsigned char extra;
    int more = gzread(f, &extra, 1);
    if (more != 0) {
        lam_set_error(LAM_ERR_FORMAT, "%s: %s after %lld bytes of data", path,
                      more > 0 ? "trailing bytes" : "corrupt data", (long long)numel);
        goto fail;
    }
    gzclose(f);
    out->ndim = ndim;
    out->numel = numel;
    out->data = data;
    return LAM_OK;
fail:
    st = lam_last_status();
    free(data);
    gzclose(f);
    memset(out, 0, sizeof *out);
    return st;
}

void lam_idx_free(lam_idx *idx) {
    if (!idx) return;
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
