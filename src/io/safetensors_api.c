/* The public safetensors API: a whole file to a lam_state_dict and back (lamina/state_dict.h),
 * over the reader and writer of io/safetensors.c. */
#include <stdlib.h>
#include <cjson/cJSON.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "lamina/state_dict.h"

lam_state_dict *lam_safetensors_load(const char *path, lam_device *dev) {
    if (!path) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_safetensors_load: path is NULL");
    lam_st_file *f = lam_st_open(path);
    if (!f) return NULL;
    lam_state_dict *sd = lam_state_dict_new();
    lam_status st = sd ? LAM_OK : lam_last_status();
    lam_scope_begin();
    for (int i = 0; st == LAM_OK && i < lam_st_count(f); ++i) {
        const lam_st_entry *e = lam_st_at(f, i);
        lam_tensor *t = lam_from_data(lam_st_data(f, e), e->dtype, e->ndim, e->shape, dev);
        st = t ? lam_state_dict_set(sd, e->name, t) : lam_last_status();
    }
    lam_scope_end();
    const char *key, *value;
    for (int i = 0; st == LAM_OK && (key = lam_st_metadata_at(f, i, &value)); ++i)
        st = lam_state_dict_set_metadata(sd, key, value);
    lam_st_close(f);
    if (st == LAM_OK) return sd;
    lam_state_dict_free(sd);
    return NULL;
}

/* sd's metadata as a JSON object of strings (NULL text if there is none); false when out of memory. */
static bool metadata_json(const lam_state_dict *sd, char **text) {
    *text = NULL;
    int n = lam_state_dict_metadata_count(sd);
    if (!n) return true;
    cJSON *md = cJSON_CreateObject();
    bool ok = md != NULL;
    for (int i = 0; ok && i < n; ++i) {
        const char *k = lam_state_dict_metadata_key(sd, i);
        ok = cJSON_AddStringToObject(md, k, lam_state_dict_metadata(sd, k)) != NULL;
    }
    if (ok) ok = (*text = cJSON_PrintUnformatted(md)) != NULL;
    cJSON_Delete(md);
    return ok;
}

lam_status lam_safetensors_save(const lam_state_dict *sd, const char *path) {
    if (!sd || !path) {
        lam_null_arg("lam_safetensors_save");
        return lam_last_status();
    }
    int n = lam_state_dict_size(sd);
    const char **names = malloc(((size_t)n + 1) * sizeof *names);
    lam_tensor **tensors = malloc(((size_t)n + 1) * sizeof *tensors);
    char *meta = NULL;
    lam_status st = names && tensors && metadata_json(sd, &meta)
                        ? LAM_OK : lam_set_error(LAM_ERR_OOM, "lam_safetensors_save: out of host memory");
    for (int i = 0; st == LAM_OK && i < n; ++i) {
        names[i] = lam_state_dict_key(sd, i);
        tensors[i] = lam_state_dict_value(sd, i);
    }
    if (st == LAM_OK) st = lam_st_write(path, n, names, tensors, meta);
    free(meta);
    free(names);
    free(tensors);
    return st;
}
