/* Tree walks: dotted names, parameter counts, train/eval, zero_grad, apply, printing. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "nn/module_impl.h"
#include "lamina/autograd.h"

typedef struct {
    lam_tensor **seen;   /* for dedupe: tensors already visited (shared layers) */
    int n, cap;
    int flags;
    lam_tensor_visit fn;
    lam_lazy_visit pending;   /* optional */
    void *user;
} walk_ctx;

static bool seen_before(walk_ctx *w, lam_tensor *t) {
    for (int i = 0; i < w->n; ++i)
        if (w->seen[i] == t) return true;
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 32;
        lam_tensor **p = realloc(w->seen, (size_t)cap * sizeof *p);
        if (!p) return false;   /* worst case a shared tensor is listed twice */
        w->seen = p;
        w->cap = cap;
    }
    w->seen[w->n++] = t;
    return false;
}

static lam_status visit(walk_ctx *w, const char *prefix, const lam_tensor_entry *e) {
    if ((w->flags & LAM_WALK_DEDUPE) && seen_before(w, e->tensor)) return LAM_OK;
    char name[256];
    if (snprintf(name, sizeof name, "%s%s", prefix, e->name) >= (int)sizeof name)
        return lam_set_error(LAM_ERR_ARG, "module walk: name %s%s is longer than 255 characters", prefix, e->name);
    return w->fn(name, e->tensor, w->user);
}

static lam_status walk(walk_ctx *w, lam_module *m, const char *prefix) {
    lam_status st = m->lazy_pending && w->pending ? w->pending(prefix, m, w->user) : LAM_OK;
    for (int i = 0; st == LAM_OK && (w->flags & LAM_WALK_PARAMS) && i < m->n_params; ++i)
        st = visit(w, prefix, &m->params[i]);
    for (int i = 0; st == LAM_OK && (w->flags & LAM_WALK_BUFFERS) && i < m->n_buffers; ++i)
        if (m->buffers[i].persistent || !(w->flags & LAM_WALK_PERSISTENT_ONLY)) st = visit(w, prefix, &m->buffers[i]);
    for (int i = 0; st == LAM_OK && i < m->n_children; ++i) {
        char sub[256];
        if (snprintf(sub, sizeof sub, "%s%s.", prefix, m->children[i].name) >= (int)sizeof sub)
            return lam_set_error(LAM_ERR_ARG, "module walk: path %s%s is too long", prefix, m->children[i].name);
        st = walk(w, m->children[i].child, sub);
    }
    return st;
}

lam_status lam_module_walk_tensors(lam_module *m, int flags, lam_tensor_visit fn, void *user) {
    walk_ctx w = {.flags = flags, .fn = fn, .user = user};
    lam_status st = walk(&w, m, "");
    free(w.seen);
    return st;
}

lam_status lam_module_walk_state(lam_module *m, lam_tensor_visit fn, lam_lazy_visit pending, void *user) {
    walk_ctx w = {.flags = LAM_WALK_PARAMS | LAM_WALK_BUFFERS | LAM_WALK_PERSISTENT_ONLY, .fn = fn, .pending = pending,
                  .user = user};
    lam_status st = walk(&w, m, "");
    free(w.seen);
    return st;
}

typedef struct {
    lam_named_tensor *out;
    int max, count;
} collect_ctx;

static lam_status collect(const char *name, lam_tensor *t, void *user) {
    collect_ctx *c = user;
    if (c->out && c->count < c->max) {
        snprintf(c->out[c->count].name, sizeof c->out[c->count].name, "%s", name);
        c->out[c->count].tensor = t;
    }
    c->count++;
    return LAM_OK;
}

static int named(lam_module *m, const char *op, int flags, lam_named_tensor *out, int max) {
    if (!m) {
        lam_null_arg(op);
        return -1;
    }
    collect_ctx c = {.out = out, .max = max};
    if (lam_module_walk_tensors(m, flags | LAM_WALK_DEDUPE, collect, &c) != LAM_OK) return -1;
    return c.count;
}

int lam_named_parameters(lam_module *m, lam_named_tensor *out, int max) {
    return named(m, "lam_named_parameters", LAM_WALK_PARAMS, out, max);
}

int lam_named_buffers(lam_module *m, lam_named_tensor *out, int max) {
    return named(m, "lam_named_buffers", LAM_WALK_BUFFERS, out, max);
}

static lam_status count_scalars(const char *name, lam_tensor *t, void *user) {
    (void)name;
    *(int64_t *)user += lam_numel(t);
    return LAM_OK;
}

int64_t lam_param_count(lam_module *m) {
    if (!m) {
        lam_null_arg("lam_param_count");
        return -1;
    }
    int64_t n = 0;
    lam_module_walk_tensors(m, LAM_WALK_PARAMS | LAM_WALK_DEDUPE, count_scalars, &n);
    return n;
}

void lam_train(lam_module *m, bool training) {
    if (!m) return;
    m->training = training;
    for (int i = 0; i < m->n_children; ++i) lam_train(m->children[i].child, training);
}

bool lam_is_training(const lam_module *m) { return m && m->training; }

static lam_status clear_one(const char *name, lam_tensor *t, void *user) {
    (void)name;
    (void)user;
    lam_clear_grad(t);
    return LAM_OK;
}

/* Like PyTorch's default zero_grad(set_to_none=True): the next backward starts afresh. */
void lam_zero_grad(lam_module *m) {
    if (m) lam_module_walk_tensors(m, LAM_WALK_PARAMS | LAM_WALK_DEDUPE, clear_one, NULL);
}

lam_status lam_module_apply(lam_module *m, lam_status (*fn)(lam_module *, void *), void *user_data) {
    if (!m || !fn) {
        lam_null_arg("lam_module_apply");
        return lam_last_status();
    }
    for (int i = 0; i < m->n_children; ++i) {
        lam_status st = lam_module_apply(m->children[i].child, fn, user_data);
        if (st != LAM_OK) return st;
    }
    return fn(m, user_data);
}

lam_module *lam_module_find_pending(lam_module *m, char *path, size_t size) {
    if (path && size) *path = '\0';   /* "" names m itself */
    if (m->lazy_pending) return m;
    for (int i = 0; i < m->n_children; ++i) {
        char sub[256];
        lam_module *p = lam_module_find_pending(m->children[i].child, sub, sizeof sub);
        if (p) {
            /* a path longer than the buffer is cut; it only names the layer in a message */
            if (path && snprintf(path, size, "%s%s%s", m->children[i].name, *sub ? "." : "", sub) >= (int)size)
                path[size - 1] = '\0';
            return p;
        }
    }
    return NULL;
}

/* Scalars in m's own parameters (not its children's). */
static int64_t own_count(const lam_module *m) {
    int64_t n = 0;
    for (int i = 0; i < m->n_params; ++i) n += lam_numel(m->params[i].tensor);
    return n;
}

static void print_tree(lam_module *m, FILE *out, int indent) {
    char extra[256] = "";
    if (m->cls->extra_repr) m->cls->extra_repr(m, extra, sizeof extra);
    fprintf(out, "%s(%s", m->cls->name, extra);
    if (m->n_children) {
        fputc('\n', out);
        for (int i = 0; i < m->n_children; ++i) {
            fprintf(out, "%*s(%s): ", indent + 2, "", m->children[i].name);
            print_tree(m->children[i].child, out, indent + 2);
            fputc('\n', out);
        }
        fprintf(out, "%*s)", indent, "");
    } else {
        fputc(')', out);
    }
    int64_t own = own_count(m);
    if (own) fprintf(out, "  # %" PRId64 " parameters", own);
}

void lam_module_print(lam_module *m, FILE *out) {
    if (!m || !out) {
        lam_null_arg("lam_module_print");
        return;
    }
    print_tree(m, out, 0);
    fprintf(out, "\nTotal parameters: %" PRId64 "\n", lam_param_count(m));
}
