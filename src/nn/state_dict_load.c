/* Loading a state_dict into a module, from memory or from a safetensors file: every key,
 * dtype and shape is checked before anything is written, lazy layers take their shapes from
 * the source, and non-strict loads report missing and unexpected keys (PyTorch's
 * load_state_dict). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "lamina/autograd.h"
#include "lamina/state_dict.h"
#include "nn/module_impl.h"
#include "tensor/tensor_impl.h"

/* --- the source: a safetensors file or an in-memory dict ------------------------------- */

typedef struct {
    const lam_st_file *file;       /* exactly one of file and dict */
    const lam_state_dict *dict;
    const char *op, *what;         /* for messages: "lam_load", the path or "state_dict" */
    const char *prefix;
    size_t prefix_len;
} source;

static int src_count(const source *s) { return s->file ? lam_st_count(s->file) : lam_state_dict_size(s->dict); }

static const char *src_name(const source *s, int i) {
    return s->file ? lam_st_at(s->file, i)->name : lam_state_dict_key(s->dict, i);
}

static lam_dtype src_dtype(const source *s, int i) {
    return s->file ? lam_st_at(s->file, i)->dtype : lam_tensor_dtype(lam_state_dict_value(s->dict, i));
}

static int src_shape(const source *s, int i, const int64_t **shape) {
    if (s->file) {
        *shape = lam_st_at(s->file, i)->shape;
        return lam_st_at(s->file, i)->ndim;
    }
    *shape = lam_shape(lam_state_dict_value(s->dict, i));
    return lam_ndim(lam_state_dict_value(s->dict, i));
}

/* Copies entry i into dst (same shape, checked before), converting f16 <-> f32 as PyTorch's
 * load_state_dict does when the file and the module differ. */
static lam_status src_copy(const source *s, int i, lam_tensor *dst) {
    lam_dtype want = lam_tensor_dtype(dst);
    if (s->file && src_dtype(s, i) == want) {
        const lam_st_entry *e = lam_st_at(s->file, i);
        return lam_write(dst, lam_st_data(s->file, e), e->end - e->begin);
    }
    if (!s->file && src_dtype(s, i) == want) return lam_copy_(dst, lam_state_dict_value(s->dict, i));
    lam_scope_begin();
    lam_tensor *src = s->file ? lam_st_tensor(s->file, src_name(s, i), lam_tensor_device(dst)) : lam_state_dict_value(s->dict, i);
    lam_tensor *converted = src ? lam_to_dtype(src, want) : NULL;
    lam_status st = converted ? lam_copy_(dst, converted) : lam_last_status();
    lam_scope_end();
    return st;
}

/* The module takes the source's values: the same dtype, or two floating ones (converted). */
static bool dtypes_fit(lam_dtype have, lam_dtype want) {
    return have == want || (lam_dtype_is_float(have) && lam_dtype_is_float(want));
}

/* The entry called prefix + key, or -1. */
static int src_find(const source *s, const char *key) {
    for (int i = 0; i < src_count(s); ++i) {
        const char *name = src_name(s, i);
        if (!strncmp(name, s->prefix, s->prefix_len) && !strcmp(name + s->prefix_len, key)) return i;
    }
    return -1;
}

/* --- the module's side: what it expects ------------------------------------------------- */

typedef struct {
    char name[256];                 /* the module's key */
    lam_tensor *tensor;             /* NULL: one a lazy layer will make */
    lam_module *lazy;               /* that lazy layer */
    char local[LAM_MODULE_NAME_MAX];/* the tensor's name in it ("weight") */
    int ndim;                       /* lazy: -1 until the source fixed the shapes */
    int64_t shape[LAM_MAX_DIMS];
    int64_t in;                     /* lazy: the input size the source implies */
    int src;                        /* the matching source entry, -1 if none */
} expected;

typedef struct {
    expected *e;
    int n, cap;
} expected_list;

/* A new entry called prefix + name; NULL with a message when out of memory. */
static expected *push(expected_list *l, const char *prefix, const char *name) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 32;
        expected *p = realloc(l->e, (size_t)cap * sizeof *p);
        if (!p) {
            lam_set_error(LAM_ERR_OOM, "state_dict: out of host memory");
            return NULL;
        }
        l->e = p;
        l->cap = cap;
    }
    expected *e = memset(&l->e[l->n], 0, sizeof *l->e);
    if (snprintf(e->name, sizeof e->name, "%s%s", prefix, name) >= (int)sizeof e->name) {
        lam_set_error(LAM_ERR_ARG, "state_dict: key %s%s is 256 bytes or longer", prefix, name);
        return NULL;
    }
    l->n++;
    return e;
}

static lam_status expect_tensor(const char *name, lam_tensor *t, void *user) {
    expected *e = push(user, "", name);
    if (!e) return lam_last_status();
    e->tensor = t;
    e->ndim = lam_ndim(t);
    memcpy(e->shape, lam_shape(t), (size_t)e->ndim * sizeof *e->shape);
    return LAM_OK;
}

/* A lazy layer still waiting: the names of the tensors it will make, shapes unknown yet. */
static lam_status expect_lazy(const char *prefix, lam_module *layer, void *user) {
    if (!layer->lazy) return lam_set_error(LAM_ERR_STATE, "state_dict: lazy layer %s cannot load", prefix);
    lam_lazy_tensor plan[LAM_LAZY_MAX_TENSORS];
    int n = layer->lazy->plan(layer, 0, plan, LAM_LAZY_MAX_TENSORS);
    for (int i = 0; i < n; ++i) {
        expected *e = push(user, prefix, plan[i].name);
        if (!e) return lam_last_status();
        e->lazy = layer;
        memcpy(e->local, plan[i].name, sizeof e->local);
        e->ndim = -1;
    }
    return LAM_OK;
}

/* --- checks ------------------------------------------------------------------------------ */

static bool same_shape(int na, const int64_t *a, int nb, const int64_t *b) {
    if (na != nb) return false;
    for (int d = 0; d < na; ++d)
        if (a[d] != b[d]) return false;
    return true;
}

/* Fixes the shapes of every lazy layer whose key tensor the source has. */
static lam_status infer_lazy(const source *s, expected_list *l) {
    for (int i = 0; i < l->n; ++i) {
        expected *key = &l->e[i];
        lam_module *layer = key->lazy;
        if (!layer || key->ndim >= 0 || key->src < 0 || strcmp(key->local, layer->lazy->key)) continue;
        const int64_t *shape;
        int ndim = src_shape(s, key->src, &shape);
        int64_t in = 0;
        if (!layer->lazy->infer(layer, ndim, shape, &in)) {
            char sh[96], repr[200] = "";
            if (layer->cls->extra_repr) layer->cls->extra_repr(layer, repr, sizeof repr);
            return lam_set_error(LAM_ERR_SHAPE, "%s: %s: \"%s\" has shape %s, which %s(%s) cannot take", s->op, s->what,
                                 src_name(s, key->src), lam_format_shape(ndim, shape, sh, sizeof sh),
                                 layer->cls->name, repr);
        }
        lam_lazy_tensor plan[LAM_LAZY_MAX_TENSORS];
        int n = layer->lazy->plan(layer, in, plan, LAM_LAZY_MAX_TENSORS);
        for (int j = 0; j < l->n; ++j)   /* the layer's entries, under every name it has */
            for (int k = 0; k < n; ++k)
                if (l->e[j].lazy == layer && !strcmp(l->e[j].local, plan[k].name)) {
                    l->e[j].in = in;
                    l->e[j].ndim = plan[k].ndim;
                    memcpy(l->e[j].shape, plan[k].shape, sizeof plan[k].shape);
                }
    }
    return LAM_OK;
}

/* dtype and shape of every entry the source has. */
static lam_status check_matches(const source *s, const expected_list *l) {
    char a[96], b[96];
    for (int i = 0; i < l->n; ++i) {
        const expected *e = &l->e[i];
        if (e->src < 0) continue;
        const char *name = src_name(s, e->src);
        if (e->ndim < 0)
            return lam_set_error(LAM_ERR_STATE, "%s: %s: \"%s\" cannot load into a lazy layer without its \"%s\"", s->op,
                                 s->what, name, e->lazy->lazy->key);
        lam_dtype want = e->tensor ? lam_tensor_dtype(e->tensor) : LAM_F32;
        if (!dtypes_fit(src_dtype(s, e->src), want))
            return lam_set_error(LAM_ERR_STATE, "%s: %s: \"%s\" is %s in the %s, %s in the module", s->op, s->what, name,
                                 lam_dtype_name(src_dtype(s, e->src)), s->file ? "file" : "state_dict",
                                 lam_dtype_name(want));
        const int64_t *shape;
        int ndim = src_shape(s, e->src, &shape);
        if (!same_shape(ndim, shape, e->ndim, e->shape))
            return lam_set_error(LAM_ERR_SHAPE, "%s: %s: \"%s\" has shape %s in the %s, %s in the module", s->op,
                                 s->what, name, lam_format_shape(ndim, shape, a, sizeof a),
                                 s->file ? "file" : "state_dict", lam_format_shape(e->ndim, e->shape, b, sizeof b));
    }
    return LAM_OK;
}

/* --- the result: missing and unexpected keys ------------------------------------------- */

void lam_load_result_free(lam_load_result *r) {
    if (!r) return;
    for (int i = 0; i < r->n_missing; ++i) free(r->missing_keys[i]);
    for (int i = 0; i < r->n_unexpected; ++i) free(r->unexpected_keys[i]);
    free(r->missing_keys);
    free(r->unexpected_keys);
    memset(r, 0, sizeof *r);
}

/* Appends a copy of key; false when out of memory. */
static bool add_key(char ***list, int *n, const char *key) {
    char **p = realloc(*list, ((size_t)*n + 1) * sizeof *p);
    if (!p) return false;
    *list = p;
    if (!(p[*n] = strdup(key))) return false;
    ++*n;
    return true;
}

/* Lists what the module lacks and what the source lacks into r. */
static lam_status compare_keys(const source *s, const expected_list *l, const bool *used, lam_load_result *r) {
    bool ok = true;
    for (int i = 0; ok && i < l->n; ++i)
        if (l->e[i].src < 0) ok = add_key(&r->missing_keys, &r->n_missing, l->e[i].name);
    for (int i = 0; ok && i < src_count(s); ++i)
        if (!used[i] && !strncmp(src_name(s, i), s->prefix, s->prefix_len))
            ok = add_key(&r->unexpected_keys, &r->n_unexpected, src_name(s, i));
    return ok ? LAM_OK : lam_set_error(LAM_ERR_OOM, "%s: out of host memory", s->op);
}

/* Strict: every missing and unexpected key in one message, as far as it goes. */
static lam_status strict_error(const source *s, const lam_load_result *r) {
    char msg[900];
    size_t at = 0;
    for (int i = 0; i < r->n_missing + r->n_unexpected && at < sizeof msg; ++i) {
        bool missing = i < r->n_missing;
        int n = snprintf(msg + at, sizeof msg - at, "%s%s key \"%s\"", i ? ", " : "", missing ? "missing" : "unexpected",
                         missing ? r->missing_keys[i] : r->unexpected_keys[i - r->n_missing]);
        at += n > 0 ? (size_t)n : 0;
    }
    return lam_set_error(LAM_ERR_STATE, "%s: %s: %s", s->op, s->what, msg);
}

/* --- applying -------------------------------------------------------------------------- */

/* The layer's own parameter or buffer called name (no dots), or NULL. */
static lam_tensor *own_tensor(lam_module *m, const char *name) {
    for (int i = 0; i < m->n_params; ++i)
        if (!strcmp(m->params[i].name, name)) return m->params[i].tensor;
    for (int i = 0; i < m->n_buffers; ++i)
        if (!strcmp(m->buffers[i].name, name)) return m->buffers[i].tensor;
    return NULL;
}

/* Materializes the lazy layers whose shapes are known, then copies every matched entry. */
static lam_status apply(const source *s, expected_list *l) {
    lam_status st = LAM_OK;
    for (int i = 0; st == LAM_OK && i < l->n; ++i) {
        expected *e = &l->e[i];
        if (!e->lazy || e->ndim < 0) continue;
        if (e->lazy->lazy_pending) st = e->lazy->lazy->materialize(e->lazy, e->in);
        if (st == LAM_OK && !(e->tensor = own_tensor(e->lazy, e->local)))
            st = lam_set_error(LAM_ERR_STATE, "%s: lazy layer made no \"%s\"", s->op, e->local);
    }
    bool was = lam_grad_enabled(false);
    for (int i = 0; st == LAM_OK && i < l->n; ++i)
        if (l->e[i].src >= 0) st = src_copy(s, l->e[i].src, l->e[i].tensor);
    lam_grad_enabled(was);
    return st;
}

/* --- loading ------------------------------------------------------------------------------ */

/* Compares keys, fixes lazy shapes, checks dtypes and shapes; then, and only then, writes.
 * result gets the key lists whenever they were compared. */
static lam_status load(lam_module *m, const source *s, bool strict, lam_load_result *result) {
    lam_load_result r = {0};
    expected_list l = {0};
    bool *used = calloc((size_t)src_count(s) + 1, sizeof *used), compared = false;
    lam_status st = used ? lam_module_walk_state(m, expect_tensor, expect_lazy, &l)
                         : lam_set_error(LAM_ERR_OOM, "%s: out of host memory", s->op);
    for (int i = 0; st == LAM_OK && i < l.n; ++i)
        if ((l.e[i].src = src_find(s, l.e[i].name)) >= 0) used[l.e[i].src] = true;
    if (st == LAM_OK) compared = (st = compare_keys(s, &l, used, &r)) == LAM_OK;
    if (st == LAM_OK && strict && (r.n_missing || r.n_unexpected)) st = strict_error(s, &r);
    if (st == LAM_OK) st = infer_lazy(s, &l);
    if (st == LAM_OK) st = check_matches(s, &l);
    if (st == LAM_OK) st = apply(s, &l);
    free(used);
    free(l.e);
    if (result && compared) *result = r;
    else lam_load_result_free(&r);
    return st;
}

/* Sets the source's prefix and runs the load. */
static lam_status load_with(lam_module *m, source *s, const lam_load_options *opt, lam_load_result *result) {
    s->prefix = opt && opt->prefix ? opt->prefix : "";
    s->prefix_len = strlen(s->prefix);
    return load(m, s, !(opt && opt->non_strict), result);
}

lam_status lam_module_load_state_dict(lam_module *m, const lam_state_dict *sd, const lam_load_options *opt,
                                      lam_load_result *result) {
    if (result) memset(result, 0, sizeof *result);
    if (!m || !sd) {
        lam_null_arg("lam_module_load_state_dict");
        return lam_last_status();
    }
    source s = {.dict = sd, .op = "lam_module_load_state_dict", .what = "state_dict"};
    return load_with(m, &s, opt, result);
}

static lam_status load_file(lam_module *m, const char *path, const lam_load_options *opt, lam_load_result *result,
                            const char *op) {
    if (result) memset(result, 0, sizeof *result);
    if (!m || !path) {
        lam_null_arg(op);
        return lam_last_status();
    }
    lam_st_file *f = lam_st_open(path);
    if (!f) return lam_last_status();
    source s = {.file = f, .op = op, .what = path};
    lam_status st = load_with(m, &s, opt, result);
    lam_st_close(f);
    return st;
}

lam_status lam_module_load_file(lam_module *m, const char *path, const lam_load_options *opt,
                                lam_load_result *result) {
    return load_file(m, path, opt, result, "lam_module_load_file");
}

lam_status lam_load(lam_module *m, const char *path) { return load_file(m, path, NULL, NULL, "lam_load"); }
