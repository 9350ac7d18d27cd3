/* IDX files (LeCun's MNIST format), plain or gzip through zlib (gzread reads both):
 *   bytes 0-1 zero, byte 2 the type (0x08 = unsigned byte), byte 3 the number of dims,
 *   then one big-endian u32 per dim, then the data.
 * The header is never trusted with memory: a plain file must hold the bytes it promises
 * before anything is allocated, and gzip data is read into a buffer that grows only as
 * decompressed bytes arrive, so a lying header costs at most what the file really holds. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/error.h"
#include "lamina/data.h"

#define IDX_MAX_BYTES ((int64_t)1 << 34)
#define IDX_FIRST_CHUNK ((int64_t)1 << 20)   /* gzip: the buffer starts here and doubles */

/* Reads up to n bytes; returns how many arrived (fewer only at the end of the data), or -1
 * on a read or gzip error (message set). */
static int64_t read_some(gzFile f, const char *path, void *dst, int64_t n, const char *what) {
    unsigned char *p = dst;
    int64_t have = 0;
    while (have < n) {
        unsigned chunk = n - have > (1 << 30) ? 1u << 30 : (unsigned)(n - have);
        int got = gzread(f, p + have, chunk);
        if (got > 0) {
            have += got;
            continue;
        }
        int code;
        const char *msg = gzerror(f, &code);
        if (got == 0 && (code == Z_OK || code == Z_BUF_ERROR)) break;   /* the end (Z_BUF_ERROR: cut gzip) */
        lam_set_error(code == Z_ERRNO ? LAM_ERR_IO : LAM_ERR_FORMAT, "%s: reading %s: %s", path, what,
                      code == Z_ERRNO ? strerror(errno) : msg);
        return -1;
    }
    return have;
}

/* Reads exactly n bytes; false on a short read (message set). */
static bool read_exact(gzFile f, const char *path, void *dst, int64_t n, const char *what) {
    int64_t got = read_some(f, path, dst, n, what);
    if (got == n) return true;
    if (got >= 0) lam_set_error(LAM_ERR_FORMAT, "%s: truncated: only %lld of %lld bytes of %s", path, (long long)got,
                                (long long)n, what);
    return false;
}

/* Reads and checks the magic and the dims; fills out->ndim, dims and numel. */
static bool read_header(gzFile f, const char *path, int expect_ndim, lam_idx *out) {
    unsigned char head[4], raw[16];
    if (!read_exact(f, path, head, 4, "the header")) return false;
    if (head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] < 1 || head[3] > 4) {
        lam_set_error(LAM_ERR_FORMAT, "%s: not an IDX file of unsigned bytes (magic 0x%02x%02x%02x%02x)", path, head[0],
                      head[1], head[2], head[3]);
        return false;
    }
    int ndim = head[3];
    if (expect_ndim > 0 && ndim != expect_ndim) {
        lam_set_error(LAM_ERR_FORMAT, "%s: %d dimensions, expected %d (magic 0x%08x)", path, ndim, expect_ndim,
                      0x800 + expect_ndim);
        return false;
    }
    if (!read_exact(f, path, raw, 4 * ndim, "the dimensions")) return false;
    int64_t numel = 1;
    for (int i = 0; i < ndim; ++i) {
        uint32_t d = (uint32_t)raw[4 * i] << 24 | (uint32_t)raw[4 * i + 1] << 16 | (uint32_t)raw[4 * i + 2] << 8 |
                     raw[4 * i + 3];
        if (d == 0) {
            lam_set_error(LAM_ERR_FORMAT, "%s: dimension %d is zero", path, i);
            return false;
        }
        if (d > IDX_MAX_BYTES / numel) {   /* checked before multiplying: numel * d stays <= 2^34 */
            lam_set_error(LAM_ERR_FORMAT, "%s: implausible size (over %lld bytes)", path, (long long)IDX_MAX_BYTES);
            return false;
        }
        numel *= d;
        out->dims[i] = d;
    }
    out->ndim = ndim;
    out->numel = numel;
    return true;
}

/* A plain file must hold the promised data: checked against its size before allocating. */
static bool check_plain_size(gzFile f, int fd, const char *path, const lam_idx *out) {
    struct stat sb;
    if (!gzdirect(f) || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) return true;
    int64_t have = (int64_t)sb.st_size - 4 - 4 * (int64_t)out->ndim;
    if (have >= out->numel) return true;
    lam_set_error(LAM_ERR_FORMAT, "%s: truncated: only %lld of %lld bytes of the data", path,
                  (long long)(have > 0 ? have : 0), (long long)out->numel);
    return false;
}

/* Reads numel bytes into a buffer that doubles as data arrives; NULL on failure. */
static uint8_t *read_data(gzFile f, const char *path, int64_t numel) {
    uint8_t *data = NULL;
    int64_t have = 0, cap = 0;
    while (have < numel) {
        int64_t ncap = cap ? (cap > numel / 2 ? numel : 2 * cap) : (numel < IDX_FIRST_CHUNK ? numel : IDX_FIRST_CHUNK);
        uint8_t *p = realloc(data, (size_t)ncap);
        if (!p) {
            lam_set_error(LAM_ERR_OOM, "%s: out of memory for %lld bytes", path, (long long)ncap);
            break;
        }
        data = p;
        cap = ncap;
        int64_t got = read_some(f, path, data + have, cap - have, "the data");
        if (got < 0) break;
        have += got;
        if (have < cap) {
            lam_set_error(LAM_ERR_FORMAT, "%s: truncated: only %lld of %lld bytes of the data", path, (long long)have,
                          (long long)numel);
            break;
        }
    }
    if (have == numel) return data;
    free(data);
    return NULL;
}

lam_status lam_idx_load(const char *path, int expect_ndim, lam_idx *out) {
    if (!path || !out) return lam_set_error(LAM_ERR_ARG, "lam_idx_load: NULL argument");
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lam_set_error(LAM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        return lam_set_error(LAM_ERR_OOM, "%s: cannot open: out of memory", path);
    }
    uint8_t *data = NULL;
    if (!read_header(f, path, expect_ndim, out) || !check_plain_size(f, fd, path, out) ||
        !(data = read_data(f, path, out->numel)))
        goto fail;
    unsigned char extra;
    int more = gzread(f, &extra, 1);
    if (more != 0) {
        lam_set_error(LAM_ERR_FORMAT, "%s: %s after %lld bytes of data", path,
                      more > 0 ? "trailing bytes" : "corrupt data", (long long)out->numel);
        goto fail;
    }
    gzclose(f);
    out->data = data;
    return LAM_OK;
fail:
    free(data);
    gzclose(f);
    memset(out, 0, sizeof *out);
    return lam_last_status();
}

void lam_idx_free(lam_idx *idx) {
    if (!idx) return;
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
