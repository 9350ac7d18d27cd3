/* safetensors reader and writer; the reader checks everything before anyone uses a byte. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "core/dtype.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"

#define ST_MAX_HEADER (100u << 20)   /* the Rust reference caps the header at 100 MB too */
#define ST_MAX_OFFSET ((size_t)1 << 53)   /* offsets are JSON numbers: doubles */


struct lam_st_file {
    unsigned char *bytes;   /* the whole file */
    size_t size, data_start;
    lam_st_entry *entries;
    int n;
    cJSON *metadata;
};

/* --- writing -------------------------------------------------------------------------- */

static bool write_u64le(FILE *f, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = (unsigned char)(v >> (8 * i));
    return fwrite(b, 1, 8, f) == 8;
}

/* Bytes of t's data; false if the count overflows or passes 2^53, past which a JSON number
 * (a double) no longer holds an offset exactly. */
static bool tensor_bytes(lam_tensor *t, size_t *out) {
    return !__builtin_mul_overflow((size_t)lam_numel(t), lam_dtype_size(lam_tensor_dtype(t)), out) &&
           *out <= ST_MAX_OFFSET;
}

/* Adds item under key, or frees it: false if either step failed (out of memory). */
static bool add_owned(cJSON *obj, const char *key, cJSON *item) {
    if (item && cJSON_AddItemToObject(obj, key, item)) return true;
    cJSON_Delete(item);
    return false;
}

/* {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}; NULL when out of memory. */
static cJSON *entry_json(lam_tensor *t, size_t begin, size_t end) {
    cJSON *e = cJSON_CreateObject(), *shape = NULL;
    bool ok = e && cJSON_AddStringToObject(e, "dtype", lam_dtype_traits_of(lam_tensor_dtype(t))->safetensors) &&
              (shape = cJSON_AddArrayToObject(e, "shape"));
    for (int d = 0; ok && d < lam_ndim(t); ++d) ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)lam_dim(t, d)));
    double offs[2] = {(double)begin, (double)end};
    if (ok) ok = add_owned(e, "data_offsets", cJSON_CreateDoubleArray(offs, 2));
    if (ok) return e;
    cJSON_Delete(e);
    return NULL;
}

/* The metadata object, checked to map strings to strings; NULL with a message if not. */
static cJSON *metadata_object(const char *metadata_json) {
    cJSON *md = cJSON_Parse(metadata_json);
    bool ok = cJSON_IsObject(md);
    for (cJSON *it = md ? md->child : NULL; ok && it; it = it->next) ok = cJSON_IsString(it);
    if (ok) return md;
    cJSON_Delete(md);
    lam_set_error(LAM_ERR_ARG, "lam_st_write: metadata must be a JSON object of strings");
    return NULL;
}

static char *build_header(int n, const char *const *names, lam_tensor *const *tensors, const char *metadata_json) {
    cJSON *root = cJSON_CreateObject();
    bool ok = root != NULL;
    if (ok && metadata_json) {
        cJSON *md = metadata_object(metadata_json);
        if (!md) {
            cJSON_Delete(root);
            return NULL;
        }
        ok = add_owned(root, "__metadata__", md);
    }
    size_t off = 0, bytes = 0;
    for (int i = 0; ok && i < n; ++i) {
        if (!tensor_bytes(tensors[i], &bytes) || bytes > ST_MAX_OFFSET - off) {
            cJSON_Delete(root);
            lam_set_error(LAM_ERR_ARG, "lam_st_write: the data passes 2^53 bytes at \"%s\"", names[i]);
            return NULL;
        }
        ok = add_owned(root, names[i], entry_json(tensors[i], off, off + bytes));
        off += bytes;
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) lam_set_error(LAM_ERR_OOM, "lam_st_write: out of host memory for the header");
    return text;
}

static lam_status write_body(FILE *f, const char *header, int n, lam_tensor *const *tensors) {
    size_t hlen = strlen(header), padded = (hlen + 7) & ~(size_t)7;   /* 8-byte aligned data */
    if (!write_u64le(f, padded) || fwrite(header, 1, hlen, f) != hlen) return LAM_ERR_IO;
    for (size_t i = hlen; i < padded; ++i)
        if (fputc(' ', f) == EOF) return LAM_ERR_IO;
    for (int i = 0; i < n; ++i) {
        size_t bytes;
        if (!tensor_bytes(tensors[i], &bytes) || !bytes) continue;   /* build_header checked the sizes */
        void *host = malloc(bytes);
        if (!host) return lam_set_error(LAM_ERR_OOM, "lam_st_write: out of host memory for %zu bytes", bytes);
        lam_status st = lam_read(tensors[i], host, bytes);   /* row-major, host byte order (LE) */
        if (st == LAM_OK && fwrite(host, 1, bytes, f) != bytes) st = LAM_ERR_IO;
        free(host);
        if (st != LAM_OK) return st;
    }
    return LAM_OK;
}

lam_status lam_st_write(const char *path, int n, const char *const *names, lam_tensor *const *tensors,
                        const char *metadata_json) {
    if (!path || n < 0 || (n && (!names || !tensors))) return lam_set_error(LAM_ERR_ARG, "lam_st_write: NULL argument");
    for (int i = 0; i < n; ++i) {
        if (!names[i] || !tensors[i]) return lam_set_error(LAM_ERR_ARG, "lam_st_write: entry %d is NULL", i);
        if (!strcmp(names[i], "__metadata__"))
            return lam_set_error(LAM_ERR_ARG, "lam_st_write: \"__metadata__\" is reserved");
        if (strlen(names[i]) >= sizeof ((lam_st_entry *)0)->name)   /* longer than the reader takes */
            return lam_set_error(LAM_ERR_ARG, "lam_st_write: name \"%.40s...\" is over 255 characters", names[i]);
        for (int j = 0; j < i; ++j)
            if (!strcmp(names[i], names[j])) return lam_set_error(LAM_ERR_ARG, "lam_st_write: name \"%s\" twice", names[i]);
    }
    char *header = build_header(n, names, tensors, metadata_json);
    if (!header) return lam_last_status();
    lam_atomic_file a;
    if (lam_atomic_open(&a, path, "lam_st_write") != LAM_OK) {
        free(header);
        return lam_last_status();
    }
    lam_status st = write_body(a.f, header, n, tensors);
    free(header);
    if (st != LAM_OK) {
        int err = errno;
        lam_atomic_abort(&a);
        return st == LAM_ERR_IO ? lam_set_error(LAM_ERR_IO, "lam_st_write: writing %s failed: %s", path, strerror(err))
                                : st;
    }
    return lam_atomic_commit(&a);
}

/* --- reading -------------------------------------------------------------------------- */

static lam_st_file *fail(lam_st_file *f, lam_status s, const char *path, const char *why) {
    lam_set_error(s, "safetensors: %s: %s", path, why);
    lam_st_close(f);
    return NULL;
}

static bool as_size(const cJSON *j, size_t *out) {
    /* the range test comes first (and rejects NaN): casting an out-of-range double is UB */
    if (!cJSON_IsNumber(j) || !(j->valuedouble >= 0 && j->valuedouble <= (double)ST_MAX_OFFSET) ||
        j->valuedouble != (double)(uint64_t)j->valuedouble)
        return false;
    *out = (size_t)j->valuedouble;
    return true;
}

/* Fills e from one header item; a message in why on failure. */
static bool parse_entry(const cJSON *item, lam_st_entry *e, size_t data_size, char *why, size_t wsize) {
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (strlen(item->string) >= sizeof e->name) return snprintf(why, wsize, "a tensor name is too long"), false;
    snprintf(e->name, sizeof e->name, "%s", item->string);
    if (!cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2)
        return snprintf(why, wsize, "\"%s\" needs dtype, shape and data_offsets [begin, end]", e->name), false;
    e->dtype = lam_dtype_from_safetensors(dt->valuestring);
    if (e->dtype == LAM_DTYPE_COUNT)
        return snprintf(why, wsize, "\"%s\" has dtype %s (F32, F16, I32, I64 supported)", e->name, dt->valuestring), false;
    e->ndim = cJSON_GetArraySize(shape);
    if (e->ndim > LAM_MAX_DIMS) return snprintf(why, wsize, "\"%s\" has %d dimensions", e->name, e->ndim), false;
    size_t numel = 1, dim;
    for (int d = 0; d < e->ndim; ++d) {
        if (!as_size(cJSON_GetArrayItem(shape, d), &dim))
            return snprintf(why, wsize, "\"%s\" has a bad shape", e->name), false;
        e->shape[d] = (int64_t)dim;
        if (dim && numel > SIZE_MAX / 8 / dim) return snprintf(why, wsize, "\"%s\" is too large", e->name), false;
        numel *= dim;
    }
    if (!as_size(cJSON_GetArrayItem(offs, 0), &e->begin) || !as_size(cJSON_GetArrayItem(offs, 1), &e->end) ||
        e->begin > e->end)
        return snprintf(why, wsize, "\"%s\" has bad data_offsets", e->name), false;
    if (e->end > data_size)
        return snprintf(why, wsize, "\"%s\" ends at data byte %zu, past the file's %zu (truncated?)", e->name, e->end,
                        data_size), false;
    if (e->end - e->begin != numel * lam_dtype_size(e->dtype))
        return snprintf(why, wsize, "\"%s\": %zu bytes for %zu elements of %s", e->name, e->end - e->begin, numel,
                        lam_dtype_traits_of(e->dtype)->safetensors), false;
    return true;
}

static int by_begin(const void *a, const void *b) {
    const lam_st_entry *x = *(lam_st_entry *const *)a, *y = *(lam_st_entry *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

/* The data must be exactly the entries' byte ranges, back to back, none overlapping. */
static bool check_layout(lam_st_file *f, size_t data_size, char *why, size_t wsize) {
    lam_st_entry **order = malloc(((size_t)f->n + 1) * sizeof *order);
    if (!order) return snprintf(why, wsize, "out of host memory"), false;
    for (int i = 0; i < f->n; ++i) order[i] = &f->entries[i];
    qsort(order, (size_t)f->n, sizeof *order, by_begin);
    size_t at = 0;
    bool ok = true;
    for (int i = 0; ok && i < f->n; ++i) {
        if (order[i]->begin != at) {
            snprintf(why, wsize, "\"%s\" starts at byte %zu, expected %zu (gap or overlap)", order[i]->name,
                     order[i]->begin, at);
            ok = false;
        }
        at = order[i]->end;
    }
    free(order);
    if (ok && at != data_size) ok = snprintf(why, wsize, "%zu trailing data bytes", data_size - at) < 0;
    return ok;
}

/* A NUL byte, or a \u0000 escape (one preceded by an odd run of backslashes), anywhere in
 * the header: cJSON would cut the string there, so "weight\u0000x" would load as "weight". */
static bool has_nul(const char *text, size_t n) {
    if (memchr(text, '\0', n)) return true;
    for (const char *p = text; (p = memmem(p, n - (size_t)(p - text), "u0000", 5)); ++p) {
        const char *q = p;
        while (q > text && q[-1] == '\\') --q;
        if ((p - q) % 2) return true;
    }
    return false;
}

static lam_st_file *parse(lam_st_file *f, const char *path) {
    uint64_t hlen = 0;
    for (int i = 0; i < 8; ++i) hlen |= (uint64_t)f->bytes[i] << (8 * i);
    char why[400] = "";
    if (hlen > ST_MAX_HEADER) {
        snprintf(why, sizeof why, "the header length %llu is over the %u-byte (100 MiB) limit", (unsigned long long)hlen,
                 ST_MAX_HEADER);
        return fail(f, LAM_ERR_FORMAT, path, why);
    }
    if (hlen > f->size - 8) {
        snprintf(why, sizeof why, "the header length %llu is past the end of the %zu-byte file (truncated?)",
                 (unsigned long long)hlen, f->size);
        return fail(f, LAM_ERR_FORMAT, path, why);
    }
    if (has_nul((const char *)f->bytes + 8, (size_t)hlen))
        return fail(f, LAM_ERR_FORMAT, path, "the header holds a NUL character (\\u0000): names and values may not");
    f->data_start = 8 + (size_t)hlen;
    size_t data_size = f->size - f->data_start;
    cJSON *h = cJSON_ParseWithLength((const char *)f->bytes + 8, (size_t)hlen);
    if (!cJSON_IsObject(h)) {
        cJSON_Delete(h);
        return fail(f, LAM_ERR_FORMAT, path, "the header is not a JSON object");
    }
    int count = cJSON_GetArraySize(h);
    f->entries = calloc((size_t)count + 1, sizeof *f->entries);
    bool ok = f->entries != NULL;
    for (cJSON *it = h->child; ok && it; it = it->next) {
        if (!strcmp(it->string, "__metadata__")) {
            ok = cJSON_IsObject(it);
            for (cJSON *kv = it->child; ok && kv; kv = kv->next) ok = cJSON_IsString(kv);
            if (!ok) snprintf(why, sizeof why, "__metadata__ must map strings to strings");
            continue;
        }
        for (int j = 0; ok && j < f->n; ++j)
            if (!strcmp(f->entries[j].name, it->string)) ok = snprintf(why, sizeof why, "\"%s\" twice", it->string) < 0;
        if (ok) ok = parse_entry(it, &f->entries[f->n++], data_size, why, sizeof why);
    }
    if (ok) ok = check_layout(f, data_size, why, sizeof why);
    if (ok) f->metadata = cJSON_DetachItemFromObjectCaseSensitive(h, "__metadata__");
    cJSON_Delete(h);
    return ok ? f : fail(f, LAM_ERR_FORMAT, path, *why ? why : "out of host memory");
}

lam_st_file *lam_st_open(const char *path) {
    if (!path) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_st_open: path is NULL");
    FILE *fp = fopen(path, "rb");
    if (!fp) LAM_FAIL_NULL(LAM_ERR_IO, "safetensors: cannot open %s: %s", path, strerror(errno));
    lam_st_file *f = calloc(1, sizeof *f);
    long size = -1;
    if (f && fseek(fp, 0, SEEK_END) == 0) size = ftell(fp);
    if (size >= 0 && fseek(fp, 0, SEEK_SET) == 0 && (f->bytes = malloc((size_t)size + 1)))
        f->size = fread(f->bytes, 1, (size_t)size, fp);
    fclose(fp);
    if (!f || !f->bytes || f->size != (size_t)size) {
        lam_st_close(f);
        LAM_FAIL_NULL(LAM_ERR_IO, "safetensors: cannot read %s", path);
    }
    if (f->size < 8) return fail(f, LAM_ERR_FORMAT, path, "shorter than the 8-byte header length (truncated?)");
    return parse(f, path);
}

void lam_st_close(lam_st_file *f) {
    if (!f) return;
    cJSON_Delete(f->metadata);
    free(f->entries);
    free(f->bytes);
    free(f);
}

int lam_st_count(const lam_st_file *f) { return f ? f->n : 0; }
const lam_st_entry *lam_st_at(const lam_st_file *f, int i) { return f && i >= 0 && i < f->n ? &f->entries[i] : NULL; }

const lam_st_entry *lam_st_find(const lam_st_file *f, const char *name) {
    for (int i = 0; f && name && i < f->n; ++i)
        if (!strcmp(f->entries[i].name, name)) return &f->entries[i];
    return NULL;
}

const void *lam_st_data(const lam_st_file *f, const lam_st_entry *e) { return f->bytes + f->data_start + e->begin; }

const char *lam_st_metadata(const lam_st_file *f, const char *key) {
    const cJSON *v = f ? cJSON_GetObjectItemCaseSensitive(f->metadata, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *lam_st_metadata_at(const lam_st_file *f, int i, const char **value) {
    const cJSON *kv = f && f->metadata && i >= 0 ? cJSON_GetArrayItem(f->metadata, i) : NULL;
    if (!kv) return NULL;
    *value = kv->valuestring;
    return kv->string;
}

lam_tensor *lam_st_tensor(const lam_st_file *f, const char *name, lam_device *dev) {
    const lam_st_entry *e = lam_st_find(f, name);
    if (!e) LAM_FAIL_NULL(LAM_ERR_ARG, "safetensors: no tensor \"%s\"", name ? name : "(null)");
    return lam_from_data(lam_st_data(f, e), e->dtype, e->ndim, e->shape, dev);
}
