/* An in-memory labelled dataset: f32 images in [0, 1], i64 labels, a visiting order that
 * a seeded Philox shuffle sets, and batches copied to device tensors, flat or image-shaped,
 * optionally normalized per channel. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/common.h"
#include "core/error.h"
#include "lamina/data.h"

struct lam_dataset {
    int64_t n, features;
    int classes;
    int example_ndim;           /* (C, H, W) for images, (F,) for vectors */
    int64_t example[3];
    bool image_batches;         /* x batches (B, C, H, W) rather than (B, features) */
    float *mean, *std;          /* per channel, or NULL: no normalization */
    float *images;     /* (n, features) */
    int64_t *labels;   /* (n,) */
    int64_t *order;    /* (n,) visiting order */
    float *xbuf;       /* scratch for one batch */
    int64_t *ybuf;
    int64_t buf_rows;
};

void lam_dataset_free(lam_dataset *d) {
    if (!d) return;
    free(d->images);
    free(d->labels);
    free(d->order);
    free(d->xbuf);
    free(d->ybuf);
    free(d->mean);
    free(d->std);
    free(d);
}

/* An example's shape from the IDX dims after N: (H, W) -> (1, H, W); (C, H, W) as is. */
static void set_example_shape(lam_dataset *d, const lam_idx *im) {
    d->example_ndim = im->ndim == 2 ? 1 : 3;
    d->example[0] = im->ndim == 4 ? im->dims[1] : im->ndim == 3 ? 1 : d->features;
    d->example[1] = im->ndim >= 3 ? im->dims[im->ndim - 2] : 1;
    d->example[2] = im->ndim >= 3 ? im->dims[im->ndim - 1] : 1;
}

lam_dataset *lam_dataset_load_idx(const char *images_path, const char *labels_path) {
    if (!images_path || !labels_path) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_dataset_load_idx: NULL path");
    lam_idx im, lb;
    if (lam_idx_load(images_path, 0, &im) != LAM_OK) return NULL;
    if (lam_idx_load(labels_path, 1, &lb) != LAM_OK) {
        lam_idx_free(&im);
        return NULL;
    }
    lam_dataset *d = NULL;
    if (im.ndim < 2) {
        lam_set_error(LAM_ERR_FORMAT, "%s: images need at least 2 dimensions, found %d", images_path, im.ndim);
        goto done;
    }
    if (im.dims[0] != lb.dims[0]) {
        lam_set_error(LAM_ERR_FORMAT, "%s has %lld images but %s has %lld labels", images_path,
                      (long long)im.dims[0], labels_path, (long long)lb.dims[0]);
        goto done;
    }
    d = calloc(1, sizeof *d);
    if (!d) {
        lam_set_error(LAM_ERR_OOM, "lam_dataset_load_idx: out of memory");
        goto done;
    }
    d->n = im.dims[0];
    d->features = im.numel / d->n;
    set_example_shape(d, &im);
    size_t image_bytes;   /* numel <= 2^34 bytes, but size_t may be 32 bits */
    if (__builtin_mul_overflow((size_t)im.numel, sizeof *d->images, &image_bytes)) image_bytes = SIZE_MAX;
    d->images = malloc(image_bytes);
    d->labels = malloc((size_t)d->n * sizeof *d->labels);
    d->order = malloc((size_t)d->n * sizeof *d->order);
    if (!d->images || !d->labels || !d->order) {
        lam_set_error(LAM_ERR_OOM, "lam_dataset_load_idx: out of memory for %lld examples", (long long)d->n);
        lam_dataset_free(d);
        d = NULL;
        goto done;
    }
    for (int64_t i = 0; i < im.numel; ++i) d->images[i] = (float)im.data[i] / 255.0f;
    for (int64_t i = 0; i < d->n; ++i) {
        d->labels[i] = lb.data[i];
        d->order[i] = i;
        if (lb.data[i] + 1 > d->classes) d->classes = lb.data[i] + 1;
    }
done:
    lam_idx_free(&im);
    lam_idx_free(&lb);
    return d;
}

/* dir/name, or dir/name.gz when only that exists. */
static void find_file(char *out, size_t size, const char *dir, const char *name) {
    snprintf(out, size, "%s/%s", dir, name);
    FILE *f = fopen(out, "rb");
    if (f) {
        fclose(f);
        return;
    }
    snprintf(out, size, "%s/%s.gz", dir, name);
    f = fopen(out, "rb");
    if (f) fclose(f);
    else snprintf(out, size, "%s/%s[.gz]", dir, name);   /* named in the error that follows */
}

lam_dataset *lam_dataset_load_mnist(const char *dir, const char *split) {
    if (!dir || !split) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_dataset_load_mnist: NULL argument");
    const char *prefix = !strcmp(split, "train") ? "train" : !strcmp(split, "test") ? "t10k" : NULL;
    if (!prefix) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_dataset_load_mnist: split \"%s\" is not \"train\" or \"test\"", split);
    char images[4096], labels[4096], name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    find_file(images, sizeof images, dir, name);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    find_file(labels, sizeof labels, dir, name);
    lam_dataset *d = lam_dataset_load_idx(images, labels);
    if (!d) return NULL;
    if (d->features != 784 || d->classes > 10) {
        lam_set_error(LAM_ERR_FORMAT, "%s: not MNIST: %lld features per image (784 expected), labels up to %d",
                      images, (long long)d->features, d->classes - 1);
        lam_dataset_free(d);
        return NULL;
    }
    d->classes = 10;
    return d;
}

int64_t lam_dataset_size(const lam_dataset *d) { return d ? d->n : 0; }
int64_t lam_dataset_features(const lam_dataset *d) { return d ? d->features : 0; }
int lam_dataset_classes(const lam_dataset *d) { return d ? d->classes : 0; }
const float *lam_dataset_image(const lam_dataset *d, int64_t i) {
    return d && i >= 0 && i < d->n ? d->images + i * d->features : NULL;
}
int64_t lam_dataset_label(const lam_dataset *d, int64_t i) { return d && i >= 0 && i < d->n ? d->labels[i] : -1; }

lam_status lam_dataset_subset(lam_dataset *d, int64_t start, int64_t count) {
    if (!d) return lam_set_error(LAM_ERR_ARG, "lam_dataset_subset: dataset is NULL");
    if (start < 0 || count < 0 || start > d->n || count > d->n - start)
        return lam_set_error(LAM_ERR_ARG, "lam_dataset_subset: [%lld, %lld) is outside the %lld examples",
                             (long long)start, (long long)(start + count), (long long)d->n);
    memmove(d->images, d->images + start * d->features, (size_t)(count * d->features) * sizeof *d->images);
    memmove(d->labels, d->labels + start, (size_t)count * sizeof *d->labels);
    d->n = count;
    lam_dataset_unshuffle(d);
    return LAM_OK;
}

lam_status lam_dataset_limit(lam_dataset *d, int64_t n) {
    if (!d) return lam_set_error(LAM_ERR_ARG, "lam_dataset_limit: dataset is NULL");
    if (n <= 0 || n >= d->n) return LAM_OK;
    return lam_dataset_subset(d, 0, n);
}

void lam_dataset_unshuffle(lam_dataset *d) {
    if (!d) return;
    for (int64_t i = 0; i < d->n; ++i) d->order[i] = i;
}

void lam_dataset_shuffle(lam_dataset *d, uint64_t seed, uint64_t epoch) {
    if (!d) return;
    lam_dataset_unshuffle(d);
    uint64_t key = seed ^ (epoch * 0x9E3779B97F4A7C15ull);
    for (int64_t j = d->n - 1; j > 0; --j) {
        lam_u32 r[4];
        lam_philox((lam_u64)(d->n - 1 - j), key, r);
        int64_t k = (int64_t)(((uint64_t)r[0] * (uint64_t)(j + 1)) >> 32);
        int64_t t = d->order[j];
        d->order[j] = d->order[k];
        d->order[k] = t;
    }
}

int64_t lam_dataset_batches(const lam_dataset *d, int64_t batch) {
    if (!d || batch <= 0) return 0;
    return (d->n + batch - 1) / batch;
}

/* One example into dst, normalized per channel when asked: (x - mean[c]) / std[c] in f32,
 * as torchvision's ToTensor + Normalize compute it. */
static void copy_example(const lam_dataset *d, float *dst, const float *src) {
    if (!d->mean) {
        memcpy(dst, src, (size_t)d->features * sizeof *dst);
        return;
    }
    int64_t plane = d->features / d->example[0];
    for (int64_t c = 0; c < d->example[0]; ++c)
        for (int64_t j = c * plane; j < (c + 1) * plane; ++j) dst[j] = (src[j] - d->mean[c]) / d->std[c];
}

int lam_dataset_example_shape(const lam_dataset *d, int64_t shape[3]) {
    if (!d || !shape) return 0;
    memcpy(shape, d->example, sizeof d->example);
    return d->example_ndim;
}

lam_status lam_dataset_set_image_batches(lam_dataset *d, bool images) {
    if (!d) return lam_set_error(LAM_ERR_ARG, "lam_dataset_set_image_batches: dataset is NULL");
    if (images && d->example_ndim != 3)
        return lam_set_error(LAM_ERR_STATE, "lam_dataset_set_image_batches: the examples are vectors of %lld values, "
                             "not images", (long long)d->features);
    d->image_batches = images;
    return LAM_OK;
}

int lam_dataset_channel_stats(const lam_dataset *d, float *mean, float *std, int max) {
    if (!d || !mean || !std) {
        lam_set_error(LAM_ERR_ARG, "lam_dataset_channel_stats: NULL argument");
        return -1;
    }
    int channels = (int)d->example[0];
    int64_t plane = d->features / channels, count = d->n * plane;
    for (int c = 0; c < channels && c < max; ++c) {   /* two passes in double: mean, then squares */
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < d->n; ++i)
            for (int64_t j = c * plane; j < (c + 1) * plane; ++j) sum += d->images[i * d->features + j];
        double m = sum / (double)count;
        for (int64_t i = 0; i < d->n; ++i)
            for (int64_t j = c * plane; j < (c + 1) * plane; ++j) {
                double e = d->images[i * d->features + j] - m;
                sq += e * e;
            }
        mean[c] = (float)m;
        std[c] = count > 1 ? (float)sqrt(sq / (double)(count - 1)) : 0.0f;
    }
    return channels;
}

lam_status lam_dataset_normalize(lam_dataset *d, const float *mean, const float *std, int n) {
    if (!d) return lam_set_error(LAM_ERR_ARG, "lam_dataset_normalize: dataset is NULL");
    if (!mean && !std) {
        free(d->mean);
        free(d->std);
        d->mean = d->std = NULL;
        return LAM_OK;
    }
    if (!mean || !std || n != d->example[0])
        return lam_set_error(LAM_ERR_ARG, "lam_dataset_normalize: %d means and stds given for %lld channels", n,
                             (long long)d->example[0]);
    for (int c = 0; c < n; ++c)
        if (!(std[c] > 0.0f) || !isfinite(mean[c]) || !isfinite(std[c]))
            return lam_set_error(LAM_ERR_ARG, "lam_dataset_normalize: channel %d: mean %g, std %g (std must be > 0)",
                                 c, mean[c], std[c]);
    float *m = malloc((size_t)n * sizeof *m), *s = malloc((size_t)n * sizeof *s);
    if (!m || !s) {
        free(m);
        free(s);
        return lam_set_error(LAM_ERR_OOM, "lam_dataset_normalize: out of memory");
    }
    memcpy(m, mean, (size_t)n * sizeof *m);
    memcpy(s, std, (size_t)n * sizeof *s);
    free(d->mean);
    free(d->std);
    d->mean = m;
    d->std = s;
    return LAM_OK;
}

lam_status lam_dataset_batch(lam_dataset *d, int64_t i, int64_t batch, lam_device *dev, lam_tensor **x,
                             lam_tensor **y) {
    if (!d || !x || !y || batch <= 0) return lam_set_error(LAM_ERR_ARG, "lam_dataset_batch: bad arguments");
    *x = *y = NULL;
    int64_t start = i * batch;
    if (i < 0 || start >= d->n)
        return lam_set_error(LAM_ERR_ARG, "lam_dataset_batch: batch %lld of size %lld is past the %lld examples",
                             (long long)i, (long long)batch, (long long)d->n);
    int64_t rows = d->n - start < batch ? d->n - start : batch;
    if (rows > d->buf_rows) {
        float *xb = realloc(d->xbuf, (size_t)(rows * d->features) * sizeof *xb);
        if (xb) d->xbuf = xb;
        int64_t *yb = realloc(d->ybuf, (size_t)rows * sizeof *yb);
        if (yb) d->ybuf = yb;
        if (!xb || !yb) return lam_set_error(LAM_ERR_OOM, "lam_dataset_batch: out of memory");
        d->buf_rows = rows;
    }
    for (int64_t r = 0; r < rows; ++r) {
        int64_t k = d->order[start + r];
        copy_example(d, d->xbuf + r * d->features, d->images + k * d->features);
        d->ybuf[r] = d->labels[k];
    }
    *x = d->image_batches
             ? lam_from_data(d->xbuf, LAM_F32, LAM_SHAPE(rows, d->example[0], d->example[1], d->example[2]), dev)
             : lam_from_data(d->xbuf, LAM_F32, LAM_SHAPE(rows, d->features), dev);
    *y = lam_from_data(d->ybuf, LAM_I64, LAM_SHAPE(rows), dev);
    if (!*x || !*y) {
        *x = *y = NULL;
        return lam_last_status();
    }
    return LAM_OK;
}
