/* Modules: a class, the user's state, and ordered registries of children, parameters and
 * buffers. Everything else (walks, device moves, state_dict) reads these registries. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "lamina/autograd.h"
#include "nn/module_impl.h"
#include "tensor/tensor_impl.h"

lam_module *lam_module_new(const lam_module_class *cls) {
    if (!cls) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_module_new: class is NULL");
    lam_module *m = calloc(1, sizeof *m);
    if (!m) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_module_new: out of host memory");
    if (cls->state_size && !(m->state = calloc(1, cls->state_size))) {
        free(m);
        LAM_FAIL_NULL(LAM_ERR_OOM, "lam_module_new: out of host memory for %zu bytes of state", cls->state_size);
    }
    atomic_init(&m->refcount, 1);
    m->cls = cls;
    m->training = true;
    m->device = lam_default_device();
    return m;
}

void *lam_self(lam_module *m) { return m ? m->state : NULL; }
const void *lam_self_const(const lam_module *m) { return m ? m->state : NULL; }
const lam_module_class *lam_module_class_of(const lam_module *m) { return m ? m->cls : NULL; }
void lam_module_set_class(lam_module *m, const lam_module_class *cls) { m->cls = cls; }

void lam_module_drop_param(lam_module *m, const char *name) {
    for (int i = 0; i < m->n_params; ++i)
        if (!strcmp(m->params[i].name, name)) {
            lam_release(m->params[i].tensor);
            memmove(&m->params[i], &m->params[i + 1], (size_t)(m->n_params - i - 1) * sizeof *m->params);
            m->n_params--;
            return;
        }
}

lam_status lam_module_materialize(lam_module *m, int ndim, const int64_t *w_shape, int64_t bias_len,
                                  lam_tensor **weight, lam_tensor **bias) {
    bool prev = lam_grad_enabled(false);
    *weight = lam_add_param(m, "weight", lam_empty(LAM_F32, ndim, w_shape, m->device));
    *bias = *weight && bias_len > 0 ? lam_add_param(m, "bias", lam_empty(LAM_F32, LAM_SHAPE(bias_len), m->device)) : NULL;
    lam_grad_enabled(prev);
    lam_status st = !*weight || (bias_len > 0 && !*bias) ? lam_last_status() : LAM_OK;
    if (st == LAM_OK && m->cls->reset_parameters) st = m->cls->reset_parameters(m);
    if (st != LAM_OK) {
        lam_module_drop_param(m, "bias");
        lam_module_drop_param(m, "weight");
        *weight = *bias = NULL;
    }
    return st;
}

lam_device *lam_module_device(const lam_module *m) { return m ? m->device : NULL; }

/* Names are one path component: non-empty, no dot, short enough for the registry. */
static bool valid_name(const char *op, const char *name) {
    if (!name || !*name) {
        lam_set_error(LAM_ERR_ARG, "%s: name is NULL or empty", op);
        return false;
    }
    if (strchr(name, '.') || strlen(name) >= LAM_MODULE_NAME_MAX) {
        lam_set_error(LAM_ERR_ARG, "%s: bad name \"%s\" (no dots, under %d characters)", op, name,
                      LAM_MODULE_NAME_MAX);
        return false;
    }
    return true;
}

/* One namespace per module, as PyTorch's attributes: a name is a child or a tensor, once. */
static bool name_taken(const lam_module *m, const char *name) {
    for (int i = 0; i < m->n_children; ++i)
        if (!strcmp(m->children[i].name, name)) return true;
    for (int i = 0; i < m->n_params; ++i)
        if (!strcmp(m->params[i].name, name)) return true;
    for (int i = 0; i < m->n_buffers; ++i)
        if (!strcmp(m->buffers[i].name, name)) return true;
    return false;
}

static bool grow(void **items, int *cap, int count, size_t size) {
    if (count < *cap) return true;
    int ncap = *cap ? 2 * *cap : 4;
    void *p = realloc(*items, (size_t)ncap * size);
    if (!p) return false;
    *items = p;
    *cap = ncap;
    return true;
}

/* Whether m is root or one of its descendants: adding such a child would make a cycle. */
static bool in_tree(const lam_module *root, const lam_module *m) {
    if (root == m) return true;
    for (int i = 0; i < root->n_children; ++i)
        if (in_tree(root->children[i].child, m)) return true;
    return false;
}

lam_module *lam_add_module(lam_module *m, const char *name, lam_module *child) {
    if (!m || !child) {
        lam_null_arg("lam_add_module");
        lam_module_free(child);
        return NULL;
    }
    if (in_tree(child, m))   /* child is not freed: it is m or holds m, so it is the caller's tree */
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_add_module: \"%s\" would make a cycle (%s inside itself)",
                      name ? name : "(null)", m->cls->name);
    if (!valid_name("lam_add_module", name)) goto fail;
    if (name_taken(m, name)) {
        lam_set_error(LAM_ERR_ARG, "lam_add_module: %s already has a member called \"%s\"", m->cls->name, name);
        goto fail;
    }
    if (!grow((void **)&m->children, &m->cap_children, m->n_children, sizeof *m->children)) {
        lam_set_error(LAM_ERR_OOM, "lam_add_module: out of host memory");
        goto fail;
    }
    /* children follow their parent's device, so the tree stays on one device */
    if (child->device != m->device && lam_module_to(child, m->device) != LAM_OK) goto fail;
    lam_child_entry *e = &m->children[m->n_children++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->child = child;
    return child;
fail:
    lam_module_free(child);
    return NULL;
}

/* Takes the caller's reference: out of its scope if it is in one, else the kept one. */
static void take_ownership(lam_tensor *t) {
    if (t->scope) lam_keep(t);
}

static lam_tensor *add_tensor(lam_module *m, const char *op, const char *name, lam_tensor *t, bool param,
                              bool persistent) {
    if (!m || !t) {
        lam_null_arg(op);
        if (t) {
            take_ownership(t);
            lam_release(t);
        }
        return NULL;
    }
    take_ownership(t);
    lam_tensor_entry **items = param ? &m->params : &m->buffers;
    int *count = param ? &m->n_params : &m->n_buffers, *cap = param ? &m->cap_params : &m->cap_buffers;
    if (!valid_name(op, name)) goto fail;
    if (name_taken(m, name)) {
        lam_set_error(LAM_ERR_ARG, "%s: %s already has a member called \"%s\"", op, m->cls->name, name);
        goto fail;
    }
    if (param && t->grad_fn) {
        lam_set_error(LAM_ERR_ARG, "%s: \"%s\" is the result of an op; pass a leaf (lam_detach it)", op, name);
        goto fail;
    }
    if (param && !lam_dtype_is_float(t->dtype)) {
        lam_set_error(LAM_ERR_ARG, "%s: parameter \"%s\" must be floating (f32, f16), not %s", op, name,
                      lam_dtype_name(t->dtype));
        goto fail;
    }
    if (!grow((void **)items, cap, *count, sizeof **items)) {
        lam_set_error(LAM_ERR_OOM, "%s: out of host memory", op);
        goto fail;
    }
    if (t->storage->dev != m->device && lam_tensor_migrate(t, m->device) != LAM_OK) goto fail;
    if (param) t->requires_grad = true;
    lam_tensor_entry *e = &(*items)[(*count)++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->tensor = t;
    e->persistent = param || persistent;
    return t;
fail:
    lam_release(t);
    return NULL;
}

lam_tensor *lam_add_param(lam_module *m, const char *name, lam_tensor *t) {
    return add_tensor(m, "lam_add_param", name, t, true, true);
}

lam_tensor *lam_add_buffer(lam_module *m, const char *name, lam_tensor *t, bool persistent) {
    return add_tensor(m, "lam_add_buffer", name, t, false, persistent);
}

lam_module *lam_module_retain(lam_module *m) {
    if (m) atomic_fetch_add(&m->refcount, 1);
    return m;
}

void lam_module_free(lam_module *m) {
    if (!m || atomic_fetch_sub(&m->refcount, 1) != 1) return;
    if (m->cls->destroy) m->cls->destroy(m);
    for (int i = 0; i < m->n_children; ++i) lam_module_free(m->children[i].child);
    for (int i = 0; i < m->n_params; ++i) lam_release(m->params[i].tensor);
    for (int i = 0; i < m->n_buffers; ++i) lam_release(m->buffers[i].tensor);
    free(m->children);
    free(m->params);
    free(m->buffers);
    free(m->state);
    free(m);
}

int lam_module_children(lam_module *m, lam_module **out, int max) {
    if (!m) {
        lam_null_arg("lam_module_children");
        return -1;
    }
    for (int i = 0; out && i < m->n_children && i < max; ++i) out[i] = m->children[i].child;
    return m->n_children;
}

const char *lam_module_child_name(const lam_module *m, int i) {
    return m && i >= 0 && i < m->n_children ? m->children[i].name : NULL;
}

/* Follows "a.b.c" to the module holding the last component; *last points at it. */
static lam_module *resolve(lam_module *m, const char *path, const char **last) {
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        if (!dot) {
            *last = p;
            return m;
        }
        size_t len = (size_t)(dot - p);
        lam_module *next = NULL;
        for (int i = 0; i < m->n_children && !next; ++i)
            if (strlen(m->children[i].name) == len && !strncmp(m->children[i].name, p, len))
                next = m->children[i].child;
        if (!next) return NULL;
        m = next;
        p = dot + 1;
    }
}

lam_module *lam_module_child(lam_module *m, const char *name) {
    if (!m || !name) {
        lam_null_arg("lam_module_child");
        return NULL;
    }
    const char *last;
    lam_module *owner = resolve(m, name, &last);
    for (int i = 0; owner && i < owner->n_children; ++i)
        if (!strcmp(owner->children[i].name, last)) return owner->children[i].child;
    LAM_FAIL_NULL(LAM_ERR_ARG, "lam_module_child: %s has no submodule \"%s\"", m->cls->name, name);
}

static lam_tensor *find_tensor(lam_module *m, const char *op, const char *name, bool param) {
    if (!m || !name) {
        lam_null_arg(op);
        return NULL;
    }
    const char *last;
    lam_module *owner = resolve(m, name, &last);
    if (owner) {
        lam_tensor_entry *items = param ? owner->params : owner->buffers;
        int n = param ? owner->n_params : owner->n_buffers;
        for (int i = 0; i < n; ++i)
            if (!strcmp(items[i].name, last)) return items[i].tensor;
    }
    LAM_FAIL_NULL(LAM_ERR_ARG, "%s: %s has no %s \"%s\"", op, m->cls->name, param ? "parameter" : "buffer", name);
}

lam_tensor *lam_module_param(lam_module *m, const char *name) {
    return find_tensor(m, "lam_module_param", name, true);
}

lam_tensor *lam_module_buffer(lam_module *m, const char *name) {
    return find_tensor(m, "lam_module_buffer", name, false);
}
