/* Tensor handles and their storage: allocation, views, reference counts, properties. */
#include "tensor/tensor_impl.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/debug.h"
#include "core/error.h"

static atomic_llong live_tensors;
/* LAMINA_DEBUG's released handles, chained through their grad field: kept, and reachable
 * (leak checkers do not count them). */
static _Atomic(lam_tensor *) released;
static _Atomic(const lam_history_hooks *) history;

/* LAMINA_DEBUG keeps released handles with this count, to report a second release. */
#define RELEASED (INT_MIN / 2)

int64_t lam_live_tensors(void) { return atomic_load(&live_tensors); }

void lam_tensor_set_history_hooks(const lam_history_hooks *hooks) { atomic_store(&history, hooks); }

size_t lam_tensor_history_mark(void) {
    const lam_history_hooks *h = atomic_load(&history);
    return h ? h->mark() : 0;
}

void lam_tensor_history_truncate(size_t mark) {
    const lam_history_hooks *h = atomic_load(&history);
    if (h) h->truncate(mark);
}

int64_t lam_shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i)
        if (__builtin_mul_overflow(n, shape[i], &n)) return -1;
    return n;
}

bool lam_shape_valid(const char *op, int ndim, const int64_t *shape, lam_dtype dt) {
    if (ndim < 0 || ndim > LAM_MAX_DIMS || (ndim > 0 && !shape)) {
        lam_set_error(LAM_ERR_SHAPE, "%s: %d dimensions (at most %d)", op, ndim, LAM_MAX_DIMS);
        return false;
    }
    for (int i = 0; i < ndim; ++i)
        if (shape[i] < 0) {
            lam_set_error(LAM_ERR_SHAPE, "%s: negative size %lld in dimension %d", op, (long long)shape[i], i);
            return false;
        }
    int64_t n = lam_shape_numel(ndim, shape), bytes;
    if (n < 0 || __builtin_mul_overflow(n, (int64_t)lam_dtype_size(dt), &bytes) || (uint64_t)bytes > SIZE_MAX) {
        char s[200];
        lam_set_error(LAM_ERR_SHAPE, "%s: shape %s is too large (its size overflows)", op,
                      lam_format_shape(ndim, shape, s, sizeof s));
        return false;
    }
    return true;
}

void lam_contiguous_strides(int ndim, const int64_t *shape, int64_t *stride) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; --i) {
        stride[i] = s;
        s *= shape[i];
    }
}

char *lam_format_shape(int ndim, const int64_t *shape, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && used < size; ++i)
        used += (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (used < size) snprintf(buf + used, size - used, ndim == 1 ? ",)" : ")");
    return buf;
}

lam_device *lam_resolve_device(lam_device *d) { return d ? d : lam_default_device(); }

static lam_tensor *handle_new(lam_dtype dt, int ndim, const int64_t *shape) {
    lam_tensor *t = calloc(1, sizeof *t);
    if (!t) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_tensor: out of host memory");
    atomic_init(&t->refcount, 1);
    t->dtype = dt;
    t->ndim = ndim;
    if (ndim) memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    atomic_fetch_add(&live_tensors, 1);
    return t;
}

static void storage_release(lam_storage *s) {
    if (atomic_fetch_sub(&s->refcount, 1) != 1) return;
    s->dev->ops->free(s->dev, s->buf);
    free(s);
}

lam_tensor *lam_tensor_alloc(lam_dtype dt, int ndim, const int64_t *shape, lam_device *dev) {
    if ((unsigned)dt >= LAM_DTYPE_COUNT) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_empty: unknown dtype %d", (int)dt);
    if (!lam_shape_valid("lam_empty", ndim, shape, dt)) return NULL;
    dev = lam_resolve_device(dev);
    if (!dev) return NULL;
    lam_storage *s = calloc(1, sizeof *s);
    if (!s) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_empty: out of host memory");
    atomic_init(&s->refcount, 1);
    s->dev = dev;
    s->bytes = (size_t)lam_shape_numel(ndim, shape) * lam_dtype_size(dt);
    s->buf = dev->ops->alloc(dev, s->bytes);
    if (!s->buf) {
        free(s);
        return NULL;
    }
    lam_tensor *t = handle_new(dt, ndim, shape);
    if (!t) {
        storage_release(s);
        return NULL;
    }
    lam_contiguous_strides(ndim, shape, t->stride);
    t->storage = s;
    return lam_scope_adopt(t);
}

lam_tensor *lam_tensor_view(lam_tensor *t, int ndim, const int64_t *shape, const int64_t *stride,
                            int64_t offset) {
    if (!lam_shape_valid("view", ndim, shape, t->dtype)) return NULL;
    lam_tensor *v = handle_new(t->dtype, ndim, shape);
    if (!v) return NULL;
    if (ndim) memcpy(v->stride, stride, (size_t)ndim * sizeof *stride);
    v->offset = offset;
    v->storage = t->storage;
    atomic_fetch_add(&v->storage->refcount, 1);
    return lam_scope_adopt(v);
}

void lam_tensor_adopt_storage(lam_tensor *t, lam_tensor *copy) {
    lam_storage *old = t->storage;
    t->storage = copy->storage;
    atomic_fetch_add(&t->storage->refcount, 1);
    memcpy(t->stride, copy->stride, sizeof t->stride);
    t->offset = copy->offset;
    t->dtype = copy->dtype;
    storage_release(old);
}

/* A handle the debug mode kept after its release, or a release the scope still owns:
 * both would free memory that is still in use. */
static bool release_refused(lam_tensor *t) {
    char s[96];
    if (lam_debug_enabled() && atomic_load(&t->refcount) <= 0) {
        lam_set_error(LAM_ERR_STATE, "lam_release: tensor %s %s was already released", lam_dtype_name(t->dtype),
                      lam_shape_str(t, s, sizeof s));
        return true;
    }
    if (t->scope && atomic_load(&t->refcount) == 1) {
        lam_set_error(LAM_ERR_STATE, "lam_release: tensor %s %s belongs to its scope (lam_keep it to own it)",
                      lam_dtype_name(t->dtype), lam_shape_str(t, s, sizeof s));
        return true;
    }
    return false;
}

lam_tensor *lam_retain(lam_tensor *t) {
    if (t) atomic_fetch_add(&t->refcount, 1);
    return t;
}

void lam_release(lam_tensor *t) {
    if (!t || release_refused(t) || atomic_fetch_sub(&t->refcount, 1) != 1) return;
    const lam_history_hooks *h = atomic_load(&history);
    if (t->grad_fn && h) h->forget(t);
    lam_release(t->grad);
    t->grad = NULL;
    storage_release(t->storage);
    atomic_fetch_sub(&live_tensors, 1);
    if (!lam_debug_enabled()) {
        free(t);
        return;
    }
    atomic_store(&t->refcount, RELEASED);   /* kept, to catch a second release */
    t->storage = NULL;
    t->grad = atomic_load(&released);
    while (!atomic_compare_exchange_weak(&released, &t->grad, t)) {}
}

/* --- properties ---------------------------------------------------------------------- */

int lam_ndim(const lam_tensor *t) { return t ? t->ndim : -1; }
const int64_t *lam_shape(const lam_tensor *t) { return t ? t->shape : NULL; }
int64_t lam_numel(const lam_tensor *t) { return t ? lam_shape_numel(t->ndim, t->shape) : -1; }
lam_dtype lam_tensor_dtype(const lam_tensor *t) { return t ? t->dtype : LAM_DTYPE_COUNT; }
lam_device *lam_tensor_device(const lam_tensor *t) { return t ? t->storage->dev : NULL; }

int lam_wrap_dim(const char *op, int dim, int ndim) {
    int d = dim < 0 ? dim + ndim : dim;
    if (d < 0 || d >= ndim) {
        lam_set_error(LAM_ERR_ARG, "%s: dimension %d out of range for %d dimensions", op, dim, ndim);
        return -1;
    }
    return d;
}

int64_t lam_dim(const lam_tensor *t, int i) {
    if (!t) {
        lam_null_arg("lam_dim");
        return -1;
    }
    int d = lam_wrap_dim("lam_dim", i, t->ndim);
    return d < 0 ? -1 : t->shape[d];
}

bool lam_is_contiguous(const lam_tensor *t) {
    if (!t) return false;
    int64_t expect = 1;
    for (int i = t->ndim - 1; i >= 0; --i) {
        if (t->shape[i] != 1 && t->stride[i] != expect) return false;
        expect *= t->shape[i];
    }
    return true;
}

char *lam_shape_str(const lam_tensor *t, char *buf, size_t size) {
    if (!t) {
        snprintf(buf, size, "(null)");
        return buf;
    }
    return lam_format_shape(t->ndim, t->shape, buf, size);
}

bool lam_same_device(const char *op, const lam_tensor *a, const lam_tensor *b) {
    if (a->storage->dev == b->storage->dev) return true;
    lam_set_error(LAM_ERR_DEVICE, "%s: tensors on two devices: %s and %s", op,
                  a->storage->dev->spec, b->storage->dev->spec);
    return false;
}

lam_view lam_view_of(const lam_tensor *t) {
    lam_view v = {.buf = t->storage->buf, .offset = t->offset, .ndim = t->ndim, .dtype = t->dtype};
    for (int i = 0; i < t->ndim; ++i) {
        v.shape[i] = t->shape[i];
        v.stride[i] = t->stride[i];
    }
    return v;
}
