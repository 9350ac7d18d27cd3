/* lam_state_dict: an ordered map from names to tensor references, plus string metadata. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "lamina/autograd.h"
#include "lamina/state_dict.h"

#define KEY_MAX 256   /* what a safetensors header entry may be called (io/safetensors.h) */

typedef struct {
    char **keys;
    void **values;   /* lam_tensor * (a reference each) or char * (metadata) */
    int n, cap;
} ordered_map;

struct lam_state_dict {
    ordered_map tensors, metadata;
};

static int map_find(const ordered_map *m, const char *key) {
    for (int i = 0; i < m->n; ++i)
        if (!strcmp(m->keys[i], key)) return i;
    return -1;
}

/* Room for one more entry; false when out of memory. */
static bool map_reserve(ordered_map *m) {
    if (m->n < m->cap) return true;
    int cap = m->cap ? 2 * m->cap : 16;
    char **k = realloc(m->keys, (size_t)cap * sizeof *k);
    if (k) m->keys = k;
    void **v = k ? realloc(m->values, (size_t)cap * sizeof *v) : NULL;
    if (!v) return false;
    m->values = v;
    m->cap = cap;
    return true;
}

lam_state_dict *lam_state_dict_new(void) {
    lam_state_dict *sd = calloc(1, sizeof *sd);
    if (!sd) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_state_dict_new: out of host memory");
    return sd;
}

void lam_state_dict_free(lam_state_dict *sd) {
    if (!sd) return;
    for (int i = 0; i < sd->tensors.n; ++i) {
        free(sd->tensors.keys[i]);
        lam_release(sd->tensors.values[i]);
    }
    for (int i = 0; i < sd->metadata.n; ++i) {
        free(sd->metadata.keys[i]);
        free(sd->metadata.values[i]);
    }
    free(sd->tensors.keys);
    free(sd->tensors.values);
    free(sd->metadata.keys);
    free(sd->metadata.values);
    free(sd);
}

int lam_state_dict_size(const lam_state_dict *sd) { return sd ? sd->tensors.n : 0; }

const char *lam_state_dict_key(const lam_state_dict *sd, int i) {
    return sd && i >= 0 && i < sd->tensors.n ? sd->tensors.keys[i] : NULL;
}

lam_tensor *lam_state_dict_value(const lam_state_dict *sd, int i) {
    return sd && i >= 0 && i < sd->tensors.n ? sd->tensors.values[i] : NULL;
}

lam_tensor *lam_state_dict_get(const lam_state_dict *sd, const char *key) {
    int i = sd && key ? map_find(&sd->tensors, key) : -1;
    return i >= 0 ? sd->tensors.values[i] : NULL;
}

lam_status lam_state_dict_set(lam_state_dict *sd, const char *key, lam_tensor *t) {
    if (!sd || !key || !t) {
        lam_null_arg("lam_state_dict_set");
        return lam_last_status();
    }
    if (!*key || strlen(key) >= KEY_MAX || !strcmp(key, "__metadata__"))
        return lam_set_error(LAM_ERR_ARG, "lam_state_dict_set: key \"%.64s\" is empty, %d bytes or longer, or reserved",
                             key, KEY_MAX);
    int i = map_find(&sd->tensors, key);
    if (i >= 0) {
        lam_retain(t);   /* before the release: t may be the value it replaces */
        lam_release(sd->tensors.values[i]);
        sd->tensors.values[i] = t;
        return LAM_OK;
    }
    char *k = strdup(key);
    if (!k || !map_reserve(&sd->tensors)) {
        free(k);
        return lam_set_error(LAM_ERR_OOM, "lam_state_dict_set: out of host memory");
    }
    sd->tensors.keys[sd->tensors.n] = k;
    sd->tensors.values[sd->tensors.n++] = lam_retain(t);
    return LAM_OK;
}

lam_status lam_state_dict_remove(lam_state_dict *sd, const char *key) {
    if (!sd || !key) {
        lam_null_arg("lam_state_dict_remove");
        return lam_last_status();
    }
    ordered_map *m = &sd->tensors;
    int i = map_find(m, key);
    if (i < 0) return lam_set_error(LAM_ERR_ARG, "lam_state_dict_remove: no key \"%s\"", key);
    free(m->keys[i]);
    lam_release(m->values[i]);
    memmove(m->keys + i, m->keys + i + 1, (size_t)(m->n - i - 1) * sizeof *m->keys);
    memmove(m->values + i, m->values + i + 1, (size_t)(m->n - i - 1) * sizeof *m->values);
    m->n--;
    return LAM_OK;
}

const char *lam_state_dict_metadata(const lam_state_dict *sd, const char *key) {
    int i = sd && key ? map_find(&sd->metadata, key) : -1;
    return i >= 0 ? sd->metadata.values[i] : NULL;
}

int lam_state_dict_metadata_count(const lam_state_dict *sd) { return sd ? sd->metadata.n : 0; }

const char *lam_state_dict_metadata_key(const lam_state_dict *sd, int i) {
    return sd && i >= 0 && i < sd->metadata.n ? sd->metadata.keys[i] : NULL;
}

lam_status lam_state_dict_set_metadata(lam_state_dict *sd, const char *key, const char *value) {
    if (!sd || !key || !value) {
        lam_null_arg("lam_state_dict_set_metadata");
        return lam_last_status();
    }
    ordered_map *m = &sd->metadata;
    int i = map_find(m, key);
    char *v = strdup(value), *k = i < 0 ? strdup(key) : NULL;
    if (!v || (i < 0 && (!k || !map_reserve(m)))) {
        free(v);
        free(k);
        return lam_set_error(LAM_ERR_OOM, "lam_state_dict_set_metadata: out of host memory");
    }
    if (i >= 0) {
        free(m->values[i]);
        m->values[i] = v;
    } else {
        m->keys[m->n] = k;
        m->values[m->n++] = v;
    }
    return LAM_OK;
}

/* A detached copy with storage of its own, on dev (NULL: t's device); in the current scope. */
static lam_tensor *own_copy(lam_tensor *t, lam_device *dev) {
    bool was = lam_grad_enabled(false);
    lam_tensor *c = dev && dev != lam_tensor_device(t) ? lam_to(t, dev) : lam_clone(t);
    lam_grad_enabled(was);
    return c;
}

lam_state_dict *lam_state_dict_copy(const lam_state_dict *sd, lam_device *dev) {
    if (!sd) {
        lam_null_arg("lam_state_dict_copy");
        return NULL;
    }
    lam_state_dict *out = lam_state_dict_new();
    lam_status st = out ? LAM_OK : lam_last_status();
    lam_scope_begin();
    for (int i = 0; st == LAM_OK && i < sd->tensors.n; ++i) {
        lam_tensor *c = own_copy(sd->tensors.values[i], dev);
        st = c ? lam_state_dict_set(out, sd->tensors.keys[i], c) : lam_last_status();
    }
    for (int i = 0; st == LAM_OK && i < sd->metadata.n; ++i)
        st = lam_state_dict_set_metadata(out, sd->metadata.keys[i], sd->metadata.values[i]);
    lam_scope_end();
    if (st == LAM_OK) return out;
    lam_state_dict_free(out);
    return NULL;
}
