/* Device moves and dtype conversions in place: each parameter, gradient and buffer keeps its
 * handle and gets a new storage, so pointers held elsewhere (an optimizer) stay valid. */
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

/* A copy of t on the target device or in the target dtype, t itself when it is there
 * already, NULL on failure. */
typedef lam_tensor *(*convert_fn)(lam_tensor *t, const void *target);

static lam_tensor *to_device(lam_tensor *t, const void *target) {
    lam_device *dev = (lam_device *)target;
    return t->storage->dev == dev ? t : lam_tensor_to_device(t, dev);
}

/* PyTorch's .half()/.float(): floating tensors convert, integer buffers stay. */
static lam_tensor *to_dtype(lam_tensor *t, const void *target) {
    lam_dtype dt = *(const lam_dtype *)target;
    return t->dtype == dt || !lam_dtype_is_float(t->dtype) ? t : lam_tensor_copy(t, dt);
}

/* Converts every parameter, gradient and buffer in place, all or nothing: every copy is
 * made before any tensor takes its new storage. */
static lam_status convert_all(lam_module *m, const char *op, convert_fn fn, const void *target) {
    move_list l = {0};
    lam_status st = lam_module_walk_tensors(m, LAM_WALK_PARAMS | LAM_WALK_BUFFERS, gather, &l);
    lam_tensor **copies = st == LAM_OK ? calloc((size_t)l.n + 1, sizeof *copies) : NULL;
    if (st == LAM_OK && !copies) st = lam_set_error(LAM_ERR_OOM, "%s: out of host memory", op);
    lam_scope_begin();
    for (int i = 0; st == LAM_OK && i < l.n; ++i)
        if (!(copies[i] = fn(l.items[i], target))) st = lam_last_status();
    for (int i = 0; st == LAM_OK && i < l.n; ++i)
        if (copies[i] != l.items[i]) lam_tensor_adopt_storage(l.items[i], copies[i]);
    lam_scope_end();
    free(copies);
    free(l.items);
    return st;
}

lam_status lam_module_to(lam_module *m, lam_device *dev) {
    if (!m) {
        lam_null_arg("lam_module_to");
        return lam_last_status();
    }
    dev = lam_resolve_device(dev);
    if (!dev) return lam_last_status();
    lam_status st = convert_all(m, "lam_module_to", to_device, dev);
    if (st == LAM_OK) set_device(m, dev);
    return st;
}

lam_status lam_module_to_dtype(lam_module *m, lam_dtype dt) {
    if (!m) {
        lam_null_arg("lam_module_to_dtype");
        return lam_last_status();
    }
    if (!lam_dtype_is_float(dt))
        return lam_set_error(LAM_ERR_ARG, "lam_module_to_dtype: %s is not a floating dtype (f32, f16)", lam_dtype_name(dt));
    return convert_all(m, "lam_module_to_dtype", to_dtype, &dt);
}
