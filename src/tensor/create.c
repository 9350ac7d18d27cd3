/* Creating tensors: empty, constant fills, host data, random numbers. */
#include <string.h>

#include "backend/profile.h"
#include "core/dtype.h"
#include "core/error.h"
#include "tensor/tensor_impl.h"

static _Thread_local uint64_t rng_seed = 0x5EED;
static _Thread_local uint64_t rng_counter = 0;

/* The bit pattern of value as one element of dt. */
static uint64_t fill_bits(lam_dtype dt, float value) {
    uint64_t bits = 0;
    if (dt == LAM_F32) {
        memcpy(&bits, &value, sizeof value);
    } else if (dt == LAM_F16) {
        bits = lam_f32_to_f16(value);
    } else if (dt == LAM_I32) {
        int32_t v = (int32_t)value;
        memcpy(&bits, &v, sizeof v);
    } else {
        int64_t v = (int64_t)value;
        memcpy(&bits, &v, sizeof v);
    }
    return bits;
}

lam_status lam_fill_(lam_tensor *t, float value) {
    if (!t) {
        lam_null_arg("lam_fill_");
        return lam_last_status();
    }
    if (lam_numel(t) == 0) return LAM_OK;
    lam_device *d = t->storage->dev;
    if (!lam_is_contiguous(t)) {   /* a view: fill a contiguous temporary and copy it in */
        lam_tensor *tmp = lam_tensor_alloc(t->dtype, t->ndim, t->shape, d);
        lam_status st = tmp ? lam_fill_(tmp, value) : lam_last_status();
        if (st == LAM_OK) st = lam_copy_(t, tmp);
        if (tmp) lam_release(lam_keep(tmp));
        return st;
    }
    lam_view v = lam_view_of(t);
    double bytes = (double)lam_numel(t) * (double)lam_dtype_size(t->dtype);
    lam_storage_forget_values(t->storage);
    return LAM_PROFILED("lam_fill_", d, bytes, 0, d->ops->fill(d, &v, fill_bits(t->dtype, value)));
}

lam_tensor *lam_empty(lam_dtype dt, int ndim, const int64_t *shape, lam_device *dev) {
    return lam_tensor_alloc(dt, ndim, shape, dev);
}

lam_tensor *lam_full(float value, int ndim, const int64_t *shape, lam_device *dev) {
    lam_tensor *t = lam_tensor_alloc(LAM_F32, ndim, shape, dev);
    if (t && lam_fill_(t, value) != LAM_OK) return NULL;
    return t;
}

lam_tensor *lam_zeros(int ndim, const int64_t *shape, lam_device *dev) { return lam_full(0.0f, ndim, shape, dev); }
lam_tensor *lam_ones(int ndim, const int64_t *shape, lam_device *dev) { return lam_full(1.0f, ndim, shape, dev); }
lam_tensor *lam_scalar(float value, lam_device *dev) { return lam_full(value, 0, NULL, dev); }

lam_tensor *lam_full_like(const lam_tensor *t, float value) {
    if (!t) {
        lam_null_arg("lam_full_like");
        return NULL;
    }
    lam_tensor *out = lam_tensor_alloc(t->dtype, t->ndim, t->shape, t->storage->dev);
    if (out && lam_fill_(out, value) != LAM_OK) return NULL;
    return out;
}
lam_tensor *lam_zeros_like(const lam_tensor *t) { return lam_full_like(t, 0.0f); }
lam_tensor *lam_ones_like(const lam_tensor *t) { return lam_full_like(t, 1.0f); }

lam_tensor *lam_from_data(const void *data, lam_dtype dt, int ndim, const int64_t *shape, lam_device *dev) {
    if (!data) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_from_data: data is NULL");
    lam_tensor *t = lam_tensor_alloc(dt, ndim, shape, dev);
    if (!t) return NULL;
    lam_device *d = t->storage->dev;
    size_t bytes = t->storage->bytes;
    if (LAM_PROFILED("lam_from_data", d, (double)bytes, 0, d->ops->write(d, t->storage->buf, 0, data, bytes)) != LAM_OK)
        return NULL;
    lam_storage_note_host_write(t->storage, dt, 0, data, lam_numel(t));
    return t;
}

void lam_manual_seed(uint64_t seed) {
    rng_seed = seed;
    rng_counter = 0;
}

lam_rng lam_rng_state(void) { return (lam_rng){.seed = rng_seed, .counter = rng_counter}; }

void lam_rng_set_state(lam_rng state) {
    rng_seed = state.seed;
    rng_counter = state.counter;
}

static lam_tensor *random_tensor(bool normal, int ndim, const int64_t *shape, lam_device *dev) {
    lam_tensor *t = lam_tensor_alloc(LAM_F32, ndim, shape, dev);
    if (!t) return NULL;
    lam_device *d = t->storage->dev;
    lam_kernel_args a = {.work = lam_numel(t), .v = {lam_view_of(t)},
                         .i = {(int64_t)rng_seed, (int64_t)rng_counter, normal}};
    double bytes = (double)lam_numel(t) * sizeof(float);
    if (LAM_PROFILED(normal ? "lam_randn" : "lam_rand", d, bytes, 0, d->ops->kernel(d, LAM_K_RAND, &a)) != LAM_OK)
        return NULL;
    rng_counter += (uint64_t)lam_numel(t);
    return t;
}

lam_tensor *lam_rand(int ndim, const int64_t *shape, lam_device *dev) { return random_tensor(false, ndim, shape, dev); }
lam_tensor *lam_randn(int ndim, const int64_t *shape, lam_device *dev) { return random_tensor(true, ndim, shape, dev); }
