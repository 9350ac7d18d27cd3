/* Data: IDX files (MNIST's format) and an in-memory dataset that shuffles and batches.
 *
 *   lam_dataset *train = lam_dataset_load_dir("data", "train");     // 8,000 (or 60,000) digits
 *   for (int epoch = 0; epoch < 10; ++epoch) {
 *       lam_dataset_shuffle(train, seed, epoch);                     // same (seed, epoch), same order
 *       for (int64_t b = 0; b < lam_dataset_batches(train, 64); ++b) {
 *           lam_scope_begin();
 *           lam_tensor *x, *y;                                       // (64, 784) f32, (64,) i64
 *           lam_dataset_batch(train, b, 64, dev, &x, &y);
 *           ...
 *           lam_scope_end();
 *       }
 *   }
 *   lam_dataset_free(train);
 *
 * For a CNN, batches come image-shaped and normalized per channel with the training set's
 * statistics (apply the same to the test set):
 *
 *   float mean[1], std[1];                                          // Fashion-MNIST: 1 channel
 *   lam_dataset_channel_stats(train, mean, std, 1);                  // 0.2860, 0.3530
 *   lam_dataset_normalize(train, mean, std, 1);                      // (x / 255 - mean) / std
 *   lam_dataset_set_image_batches(train, true);                      // x (64, 1, 28, 28)
 *
 * Files may be plain or gzip-compressed; every header field, size and truncation is checked
 * and errors (LAM_ERR_IO, LAM_ERR_FORMAT) name the file.
 */
#ifndef LAMINA_DATA_H
#define LAMINA_DATA_H

#include "lamina/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An IDX file of unsigned bytes: magic 0x000008nn (nn = ndim), then ndim big-endian u32
 * dims, then the data row-major. */
typedef struct {
    int ndim;
    int64_t dims[4];
    int64_t numel;
    uint8_t *data;   /* malloc'ed; lam_idx_free releases it */
} lam_idx;
/* Reads path (plain or .gz). expect_ndim > 0 requires that many dims (1 labels, 3 images). */
LAM_API lam_status lam_idx_load(const char *path, int expect_ndim, lam_idx *out);
LAM_API void lam_idx_free(lam_idx *idx);

/* Images as f32 in [0, 1] (byte / 255), flattened to (N, features); labels as i64. */
typedef struct lam_dataset lam_dataset;
/* split "train" or "test": dir/train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz],
 * or t10k-*. Labels must be in [0, 9]. */
LAM_API lam_dataset *lam_dataset_load_mnist(const char *dir, const char *split);
/* Any pair of IDX files: images (N, ...) u8 and labels (N,) u8. */
LAM_API lam_dataset *lam_dataset_load_idx(const char *images_path, const char *labels_path);
/* The split ("train" or "test") of any IDX data set in dir: the one image file and the one
 * label file whose names hold "idx", "image"/"label" and "train" (or "t10k"/"test"), plain or
 * .gz (a plain file beside its .gz is taken as the same). MNIST's, Fashion-MNIST's (Debian's
 * dataset-fashion-mnist: /usr/share/datasets/fashion-mnist), KMNIST's, EMNIST's names work.
 * Unlike lam_dataset_load_mnist it accepts any image size and up to 256 classes. */
LAM_API lam_dataset *lam_dataset_load_dir(const char *dir, const char *split);
LAM_API void lam_dataset_free(lam_dataset *d);
LAM_API int64_t lam_dataset_size(const lam_dataset *d);
LAM_API int64_t lam_dataset_features(const lam_dataset *d);
LAM_API int lam_dataset_classes(const lam_dataset *d);          /* 1 + the largest label */
/* Keeps count examples from start (a subset; the rest are freed). */
LAM_API lam_status lam_dataset_subset(lam_dataset *d, int64_t start, int64_t count);
/* Keeps the first n examples (n <= 0 or n >= size keeps all). */
LAM_API lam_status lam_dataset_limit(lam_dataset *d, int64_t n);
/* Sets the visiting order to a permutation that depends only on (seed, epoch): a
 * Fisher-Yates shuffle drawing from Philox 4x32-10 (cl/common.h) keyed by
 * seed ^ (epoch * 0x9E3779B97F4A7C15), counter = draw index; each draw j picks
 * floor(u32 * (j + 1) / 2^32). So a resumed run sees the same order as a straight one. */
LAM_API void lam_dataset_shuffle(lam_dataset *d, uint64_t seed, uint64_t epoch);
/* Back to the file's order. */
LAM_API void lam_dataset_unshuffle(lam_dataset *d);
/* Number of batches of size batch (the last one may be short). */
LAM_API int64_t lam_dataset_batches(const lam_dataset *d, int64_t batch);
/* Batch i in the current order as new tensors on dev, in the current scope:
 * *x (B, features) or (B, C, H, W) f32 and *y (B,) i64. */
LAM_API lam_status lam_dataset_batch(lam_dataset *d, int64_t i, int64_t batch, lam_device *dev,
                                     lam_tensor **x, lam_tensor **y);
/* The shape of one example as stored: (C, H, W) for images (a file of (N, H, W) images
 * gives (1, H, W); (N, C, H, W) gives (C, H, W)), returning 3; (F,) for vectors, returning 1. */
LAM_API int lam_dataset_example_shape(const lam_dataset *d, int64_t shape[3]);
/* x batches as (B, C, H, W) (true) or flattened to (B, features) (false, the default).
 * LAM_ERR_STATE for vectors. */
LAM_API lam_status lam_dataset_set_image_batches(lam_dataset *d, bool images);
/* Each channel's mean and standard deviation over the whole dataset, of the values in
 * [0, 1] (torch's mean() and std(), unbiased, computed in double). Channels are the first
 * dimension of lam_dataset_example_shape (so each feature of a vector). Writes up to max
 * values to mean and std; returns the number of channels (-1 on error). */
LAM_API int lam_dataset_channel_stats(const lam_dataset *d, float *mean, float *std, int max);
/* From now on batches hold (x - mean[c]) / std[c] (f32, as torchvision's ToTensor and
 * Normalize), x in [0, 1]; n must be the number of channels and std > 0. NULL mean and std
 * turn it off. The stored images (lam_dataset_image) stay in [0, 1]. */
LAM_API lam_status lam_dataset_normalize(lam_dataset *d, const float *mean, const float *std, int n);
/* Host views of example i in the file's order. */
LAM_API const float *lam_dataset_image(const lam_dataset *d, int64_t i);
LAM_API int64_t lam_dataset_label(const lam_dataset *d, int64_t i);

#ifdef __cplusplus
}
#endif
#endif
