/* state_dict as safetensors: parameters and persistent buffers by dotted name. Loading is
 * strict and checks every key, dtype and shape before it writes a single value. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "nn/module_impl.h"
#include "tensor/tensor_impl.h"

typedef struct {
    char (*names)[256];
    lam_tensor **tensors;
    int n, cap;
} state_list;

static lam_status gather(const char *name, lam_tensor *t, void *user) {
    state_list *l = user;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 32;
        char(*nn)[256] = realloc(l->names, (size_t)cap * sizeof *nn);
        if (nn) l->names = nn;
        lam_tensor **nt = nn ? realloc(l->tensors, (size_t)cap * sizeof *nt) : NULL;
        if (!nt) return lam_set_error(LAM_ERR_OOM, "state_dict: out of host memory");
        l->tensors = nt;
        l->cap = cap;
    }
    snprintf(l->names[l->n], sizeof l->names[l->n], "%s", name);
    l->tensors[l->n++] = t;
    return LAM_OK;
}

/* The state_dict in PyTorch's order; LAM_ERR_STATE while a lazy layer is unmaterialized. */
static lam_status state_dict(lam_module *m, const char *op, state_list *l) {
    char path[256];
    if (lam_module_find_pending(m, path, sizeof path))
        return lam_set_error(LAM_ERR_STATE, "%s: lazy layer %s has no parameters yet; run a forward first", op,
                             *path ? path : "(the root)");
    return lam_module_walk_tensors(m, LAM_WALK_PARAMS | LAM_WALK_BUFFERS | LAM_WALK_PERSISTENT_ONLY, gather, l);
}

static void list_free(state_list *l) {
    free(l->names);
    free(l->tensors);
}

lam_status lam_save(lam_module *m, const char *path) {
    if (!m || !path) {
        lam_null_arg("lam_save");
        return lam_last_status();
    }
    state_list l = {0};
    lam_status st = state_dict(m, "lam_save", &l);
    const char **names = st == LAM_OK ? malloc(((size_t)l.n + 1) * sizeof *names) : NULL;
    if (st == LAM_OK && !names) st = lam_set_error(LAM_ERR_OOM, "lam_save: out of host memory");
    for (int i = 0; st == LAM_OK && i < l.n; ++i) names[i] = l.names[i];
    if (st == LAM_OK)
        st = lam_st_write(path, l.n, names, l.tensors, "{\"format\":\"pt\",\"producer\":\"lamina\"}");
    free(names);
    list_free(&l);
    return st;
}

static bool same_shape(const lam_st_entry *e, const lam_tensor *t) {
    if (e->ndim != lam_ndim(t)) return false;
    for (int d = 0; d < e->ndim; ++d)
        if (e->shape[d] != lam_dim(t, d)) return false;
    return true;
}

/* Every expected key present with its dtype and shape, and nothing else in the file. */
static lam_status validate(const lam_st_file *f, const state_list *l, const char *path) {
    char a[96], b[96];
    for (int i = 0; i < l->n; ++i) {
        const lam_st_entry *e = lam_st_find(f, l->names[i]);
        lam_tensor *t = l->tensors[i];
        if (!e) return lam_set_error(LAM_ERR_STATE, "lam_load: %s: missing key \"%s\"", path, l->names[i]);
        if (e->dtype != lam_tensor_dtype(t))
            return lam_set_error(LAM_ERR_STATE, "lam_load: %s: \"%s\" is %s in the file, %s in the module", path,
                                 l->names[i], lam_dtype_name(e->dtype), lam_dtype_name(lam_tensor_dtype(t)));
        if (!same_shape(e, t))
            return lam_set_error(LAM_ERR_SHAPE, "lam_load: %s: \"%s\" has shape %s in the file, %s in the module",
                                 path, l->names[i], lam_format_shape(e->ndim, e->shape, a, sizeof a), lam_shape_str(t, b, sizeof b));
    }
    for (int i = 0; i < lam_st_count(f); ++i) {
        const char *name = lam_st_at(f, i)->name;
        bool known = false;
        for (int j = 0; j < l->n && !known; ++j) known = !strcmp(l->names[j], name);
        if (!known) return lam_set_error(LAM_ERR_STATE, "lam_load: %s: unexpected key \"%s\"", path, name);
    }
    return LAM_OK;
}

lam_status lam_load(lam_module *m, const char *path) {
    if (!m || !path) {
        lam_null_arg("lam_load");
        return lam_last_status();
    }
    state_list l = {0};
    lam_status st = state_dict(m, "lam_load", &l);
    lam_st_file *f = st == LAM_OK ? lam_st_open(path) : NULL;
    if (st == LAM_OK && !f) st = lam_last_status();
    if (st == LAM_OK) st = validate(f, &l, path);
    for (int i = 0; st == LAM_OK && i < l.n; ++i) {
        const lam_st_entry *e = lam_st_find(f, l.names[i]);
        st = lam_write(l.tensors[i], lam_st_data(f, e), e->end - e->begin);
    }
    lam_st_close(f);
    list_free(&l);
    return st;
}
