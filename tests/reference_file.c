/* A minimal safetensors reader for the test references (the library's own reader is
 * internal; the tests go through the public API only). */
#include "reference_file.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ref_file {
    unsigned char *bytes;
    size_t size, data_start;
    cJSON *header;
};

ref_file *ref_open(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ref_open: cannot open %s\n", path);
        return NULL;
    }
    ref_file *r = calloc(1, sizeof *r);
    fseek(f, 0, SEEK_END);
    r->size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    r->bytes = malloc(r->size);
    size_t got = fread(r->bytes, 1, r->size, f);
    fclose(f);
    uint64_t hlen = 0;
    for (int i = 7; got == r->size && r->size >= 8 && i >= 0; --i) hlen = hlen << 8 | r->bytes[i];
    if (got != r->size || r->size < 8 || hlen > r->size - 8 ||
        !(r->header = cJSON_ParseWithLength((const char *)r->bytes + 8, (size_t)hlen))) {
        fprintf(stderr, "ref_open: %s is not a safetensors file\n", path);
        ref_close(r);
        return NULL;
    }
    r->data_start = 8 + (size_t)hlen;
    return r;
}

lam_tensor *ref_tensor(ref_file *r, const char *name, lam_device *dev) {
    cJSON *e = cJSON_GetObjectItemCaseSensitive(r->header, name);
    if (!e) return NULL;
    const char *dt = cJSON_GetObjectItem(e, "dtype")->valuestring;
    cJSON *shape = cJSON_GetObjectItem(e, "shape"), *offs = cJSON_GetObjectItem(e, "data_offsets");
    int64_t dims[LAM_MAX_DIMS];
    int nd = cJSON_GetArraySize(shape);
    for (int i = 0; i < nd && i < LAM_MAX_DIMS; ++i) dims[i] = (int64_t)cJSON_GetArrayItem(shape, i)->valuedouble;
    size_t begin = (size_t)cJSON_GetArrayItem(offs, 0)->valuedouble;
    lam_dtype dtype = strcmp(dt, "F32") == 0 ? LAM_F32 : strcmp(dt, "I64") == 0 ? LAM_I64 : LAM_I32;
    return lam_from_data(r->bytes + r->data_start + begin, dtype, nd, dims, dev);
}

void ref_close(ref_file *r) {
    if (!r) return;
    cJSON_Delete(r->header);
    free(r->bytes);
    free(r);
}
