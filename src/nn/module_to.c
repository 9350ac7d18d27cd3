/* Device moves in place: each parameter, gradient and buffer keeps its handle and gets a
 * new storage on the target, so pointers held elsewhere (an optimizer) stay valid. */
#include <stdlib.h>

#include "core/error.h"
#include "nn/module_impl.h"
#include "tensor/tensor_impl.h"

typedef struct {
    lam_tensor **items;   /* tensors (and gradients) to move, then their copies */
    int n, cap;
} move_list;

static lam_status push(move_list *l, lam_tensor *t) {
    for (int i = 0; i < l->n; ++i)
        if (l->items[i] == t) return LAM_OK;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 32;
        lam_tensor **p = realloc(l->items, (size_t)cap * sizeof *p);
        if (!p) return lam_set_error(LAM_ERR_OOM, "lam_module_to: out of host memory");
        l->items = p;
        l->cap = cap;
    }
    l->items[l->n++] = t;
    return LAM_OK;
}

static lam_status gather(const char *name, lam_tensor *t, void *user) {
    (void)name;
    lam_status st = push(user, t);
    if (st == LAM_OK && t->grad) st = push(user, t->grad);
    return st;
}

static void set_device(lam_module *m, lam_device *dev) {
    m->device = dev;
    for (int i = 0; i < m->n_children; ++i) set_device(m->children[i].child, dev);
}

lam_status lam_module_to(lam_module *m, lam_device *dev) {
    if (!m) {
        lam_null_arg("lam_module_to");
        return lam_last_status();
    }
    dev = lam_resolve_device(dev);
    if (!dev) return lam_last_status();
    move_list l = {0};
    lam_status st = lam_module_walk_tensors(m, LAM_WALK_PARAMS | LAM_WALK_BUFFERS, gather, &l);
    lam_tensor **copies = st == LAM_OK ? calloc((size_t)l.n + 1, sizeof *copies) : NULL;
    if (st == LAM_OK && !copies) st = lam_set_error(LAM_ERR_OOM, "lam_module_to: out of host memory");
    /* copy everything first: a failed copy leaves the whole module where it was */
    lam_scope_begin();
    for (int i = 0; st == LAM_OK && i < l.n; ++i) {
        if (l.items[i]->storage->dev == dev) continue;
        copies[i] = lam_tensor_to_device(l.items[i], dev);
        if (!copies[i]) st = lam_last_status();
    }
    for (int i = 0; st == LAM_OK && i < l.n; ++i)
        if (copies[i]) lam_tensor_adopt_storage(l.items[i], copies[i]);
    lam_scope_end();
    if (st == LAM_OK) set_device(m, dev);
    free(copies);
    free(l.items);
    return st;
}
