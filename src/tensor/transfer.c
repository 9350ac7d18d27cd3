/* Moving data: host reads and writes, copies between layouts, dtypes and devices. */
#include <math.h>
#include <stdlib.h>

#include "backend/profile.h"
#include "core/dtype.h"
#include "core/error.h"
#include "tensor/tensor_impl.h"

/* The backend copy dst = src on d, named op for the profiler. */
static lam_status run_copy(const char *op, lam_device *d, lam_tensor *dst, lam_tensor *src) {
    lam_view dv = lam_view_of(dst), sv = lam_view_of(src);
    double bytes = (double)lam_numel(src) * (double)(lam_dtype_size(src->dtype) + lam_dtype_size(dst->dtype));
    return LAM_PROFILED(op, d, bytes, 0, d->ops->copy(d, &dv, &sv));
}

/* dst (contiguous, fresh) = src converted, on src's device. */
lam_tensor *lam_tensor_copy(lam_tensor *t, lam_dtype dt) {
    lam_tensor *out = lam_tensor_alloc(dt, t->ndim, t->shape, t->storage->dev);
    if (!out) return NULL;
    if (lam_numel(t) > 0 && run_copy("lam_tensor_copy", t->storage->dev, out, t) != LAM_OK) return NULL;
    return out;
}

lam_tensor *lam_to_dtype(lam_tensor *t, lam_dtype dt) {
    if (!t) {
        lam_null_arg("lam_to_dtype");
        return NULL;
    }
    if ((unsigned)dt >= LAM_DTYPE_COUNT) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_to_dtype: unknown dtype %d", (int)dt);
    return lam_tensor_copy(t, dt);
}

/* Reads a contiguous tensor's bytes (for op, named so for the profiler). */
static lam_status read_contiguous(const char *op, const lam_tensor *t, void *dst) {
    lam_device *d = t->storage->dev;
    size_t es = lam_dtype_size(t->dtype);
    size_t bytes = (size_t)lam_numel(t) * es;
    if (bytes == 0) return LAM_OK;
    return LAM_PROFILED(op, d, (double)bytes, 0, d->ops->read(d, t->storage->buf, (size_t)t->offset * es, dst, bytes));
}

lam_status lam_read(const lam_tensor *t, void *dst, size_t dst_bytes) {
    if (!t || !dst) {
        lam_null_arg("lam_read");
        return lam_last_status();
    }
    size_t need = (size_t)lam_numel(t) * lam_dtype_size(t->dtype);
    if (dst_bytes < need) {
        char s[96];
        return lam_set_error(LAM_ERR_ARG, "lam_read: buffer of %zu bytes is too small for %s %s (%zu bytes)",
                             dst_bytes, lam_dtype_name(t->dtype), lam_shape_str(t, s, sizeof s), need);
    }
    if (lam_is_contiguous(t)) return read_contiguous("lam_read", t, dst);
    lam_scope_begin();
    lam_tensor *c = lam_tensor_copy((lam_tensor *)t, t->dtype);
    lam_status st = c ? read_contiguous("lam_read", c, dst) : lam_last_status();
    lam_scope_end();
    return st;
}

lam_status lam_write(lam_tensor *t, const void *src, size_t src_bytes) {
    if (!t || !src) {
        lam_null_arg("lam_write");
        return lam_last_status();
    }
    size_t need = (size_t)lam_numel(t) * lam_dtype_size(t->dtype);
    if (src_bytes != need)
        return lam_set_error(LAM_ERR_ARG, "lam_write: %zu bytes given, tensor holds %zu", src_bytes, need);
    lam_device *d = t->storage->dev;
    if (lam_is_contiguous(t)) {
        lam_status st = LAM_PROFILED("lam_write", d, (double)need, 0,
                                     d->ops->write(d, t->storage->buf, (size_t)t->offset * lam_dtype_size(t->dtype), src, need));
        if (st == LAM_OK) lam_storage_note_host_write(t->storage, t->dtype, t->offset, src, lam_numel(t));
        return st;
    }
    lam_scope_begin();
    lam_tensor *tmp = lam_from_data(src, t->dtype, t->ndim, t->shape, d);
    lam_status st = tmp ? lam_copy_(t, tmp) : lam_last_status();
    lam_scope_end();
    return st;
}

double lam_item(const lam_tensor *t) {
    if (!t) {
        lam_null_arg("lam_item");
        return NAN;
    }
    if (lam_numel(t) != 1) {
        char s[96];
        lam_set_error(LAM_ERR_SHAPE, "lam_item: tensor of shape %s has %lld elements, not 1",
                      lam_shape_str(t, s, sizeof s), (long long)lam_numel(t));
        return NAN;
    }
    union { float f; int32_t i; int64_t l; uint16_t h; } v;
    if (read_contiguous("lam_item", t, &v) != LAM_OK) return NAN;
    switch (t->dtype) {
    case LAM_F32: return (double)v.f;
    case LAM_F16: return (double)lam_f16_to_f32(v.h);
    case LAM_I32: return (double)v.i;
    default: return (double)v.l;
    }
}

/* Device to device, for two devices the backend can copy between (an OpenCL platform's):
 * no byte through host memory (DESIGN §6). The host's knowledge of an integer source's values
 * still bounds the copy's. */
static lam_tensor *peer_copy(lam_tensor *t, lam_device *dev) {
    lam_device *from = t->storage->dev;
    lam_tensor *src = lam_is_contiguous(t) ? t : lam_tensor_copy(t, t->dtype);
    lam_tensor *out = src ? lam_tensor_alloc(t->dtype, t->ndim, t->shape, dev) : NULL;
    if (!out) return NULL;
    size_t es = lam_dtype_size(t->dtype), bytes = (size_t)lam_numel(t) * es;
    if (LAM_PROFILED("lam_copy_peer", dev, (double)bytes, 0,
                     dev->ops->copy_from(dev, out->storage->buf, 0, from, src->storage->buf, (size_t)src->offset * es,
                                         bytes)) != LAM_OK)
        return NULL;
    out->storage->values = src->storage->values;
    if (src->offset != 0 || bytes != src->storage->bytes) out->storage->values.exact = false;
    return out;
}

/* Through the host: correct first, and the only way between backends or platforms. */
static lam_tensor *cross_device_copy(lam_tensor *t, lam_device *dev) {
    size_t bytes = (size_t)lam_numel(t) * lam_dtype_size(t->dtype);
    void *host = malloc(bytes ? bytes : 1);
    if (!host) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_to: out of host memory for %zu bytes", bytes);
    lam_tensor *out = NULL;
    if (lam_read(t, host, bytes) == LAM_OK) out = lam_from_data(host, t->dtype, t->ndim, t->shape, dev);
    free(host);
    return out;
}

lam_tensor *lam_tensor_to_device(lam_tensor *t, lam_device *dev) {
    lam_device *from = t->storage->dev;
    if (dev == from) return lam_tensor_view(t, t->ndim, t->shape, t->stride, t->offset);
    if (dev->ops->can_copy_from && dev->ops->can_copy_from(dev, from)) return peer_copy(t, dev);
    return cross_device_copy(t, dev);
}

lam_status lam_tensor_migrate(lam_tensor *t, lam_device *dev) {
    lam_status st = LAM_OK;
    lam_scope_begin();
    lam_tensor *c = t->storage->dev == dev ? NULL : lam_tensor_to_device(t, dev);
    lam_tensor *g = t->grad && t->grad->storage->dev != dev ? lam_tensor_to_device(t->grad, dev) : NULL;
    if ((t->storage->dev != dev && !c) || (t->grad && t->grad->storage->dev != dev && !g)) {
        st = lam_last_status();
    } else {
        if (c) lam_tensor_adopt_storage(t, c);
        if (g) lam_tensor_adopt_storage(t->grad, g);
    }
    lam_scope_end();
    return st;
}

static bool same_shape(const lam_tensor *a, const lam_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; ++i)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

lam_status lam_copy_(lam_tensor *dst, lam_tensor *src) {
    if (!dst || !src) {
        lam_null_arg("lam_copy_");
        return lam_last_status();
    }
    if (!same_shape(dst, src)) {
        char a[96], b[96];
        return lam_set_error(LAM_ERR_SHAPE, "lam_copy_: shapes differ: %s <- %s", lam_shape_str(dst, a, sizeof a),
                             lam_shape_str(src, b, sizeof b));
    }
    if (dst->dtype != src->dtype)
        return lam_set_error(LAM_ERR_ARG, "lam_copy_: dtypes differ: %s <- %s (use lam_to_dtype)", lam_dtype_name(dst->dtype),
                             lam_dtype_name(src->dtype));
    lam_device *d = dst->storage->dev;
    lam_status st = LAM_OK;
    lam_scope_begin();
    lam_tensor *s = lam_tensor_to_device(src, d);
    if (!s) {
        st = lam_last_status();
    } else if (lam_numel(dst) > 0) {
        lam_storage_forget_values(dst->storage);
        st = run_copy("lam_copy_", d, dst, s);
    }
    lam_scope_end();
    return st;
}
