/* Data parallel over the devices of one process (PyTorch's nn.DataParallel): one replica of
 * the model per device, each batch split over them by rows, forward and backward on every
 * device at once (one host thread per device), the gradients summed into replica 0, whose
 * optimizer steps; at the next step every replica starts from replica 0's parameters again.
 * A step gives what one device gives on the whole batch (to rounding).
 *
 *   static lam_module *make(void *user) { return my_model_new(); }
 *   static lam_tensor *loss_of(lam_module *m, lam_tensor *x, lam_tensor *y, void *user) {
 *       return lam_cross_entropy(lam_forward(m, x), y);
 *   }
 *
 *   lam_device *devs[2] = {lam_device_get("opencl:0:0"), lam_device_get("opencl:0:1")};
 *   lam_dp *dp = lam_dp_new(make, NULL, 2, devs, NULL);   // replicas, all with replica 0's values
 *   lam_optim *opt = lam_sgd(lam_dp_replica(dp, 0), (lam_sgd_options){.lr = 0.1f});
 *   for (...) {                                           // x, y: a batch on any device
 *       lam_optim_zero_grad(opt);
 *       double loss;
 *       lam_dp_backward(dp, x, y, loss_of, NULL, &loss);  // the batch's gradient in replica 0
 *       lam_optim_step(opt);
 *   }
 *   lam_dp_free(dp);
 *
 * Replicas are made by calling the constructor once per device (a module's state holds its
 * children's pointers, so there is no generic clone). Lazy layers must have materialized in
 * the constructor. Each device's thread has its own random generator, seeded explicitly
 * (lam_dp_options.seed + replica index), so dropout differs between replicas. Replica i's
 * part of a batch of n rows is rows [i n / R, (i + 1) n / R); a device with no rows idles.
 * Copies between devices go through lam_to (device to device within an OpenCL platform).
 */
#ifndef LAMINA_PARALLEL_H
#define LAMINA_PARALLEL_H

#include "lamina/module.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lam_dp lam_dp;

/* Makes one replica; user_data as given to lam_dp_new. NULL with lamina's error on failure. */
typedef lam_module *(*lam_module_ctor)(void *user_data);
/* The loss of one replica on its rows (x, and y when the batch has one): a mean over the
 * rows, as lam_cross_entropy gives. Runs on the replica's device thread. */
typedef lam_tensor *(*lam_dp_loss_fn)(lam_module *replica, lam_tensor *x, lam_tensor *y, void *user_data);

typedef struct {
    uint64_t seed;   /* replica i's thread starts with lam_manual_seed(seed + i) */
} lam_dp_options;

/* n replicas (n >= 1, distinct devices), replica i made by make(user_data) on this thread and
 * moved to devs[i]; every replica then holds replica 0's parameters and buffers. opt may be
 * NULL. The replicas must have the same parameters (names and shapes). */
LAM_API lam_dp *lam_dp_new(lam_module_ctor make, void *user_data, int n, lam_device *const *devs,
                           const lam_dp_options *opt);
LAM_API int lam_dp_count(const lam_dp *dp);
/* Replica i (owned by dp); replica 0 is the one to optimize, save and evaluate. */
LAM_API lam_module *lam_dp_replica(lam_dp *dp, int i);
/* Copies replica 0's parameters and buffers to the other replicas (lam_dp_backward does it
 * first thing; call it to use the others between steps). */
LAM_API lam_status lam_dp_sync(lam_dp *dp);
/* One step's gradients: syncs the replicas, splits x (and y, if not NULL) by rows, runs
 * loss_fn and backward on every device at once, each loss weighted by its share of the rows,
 * and adds the sum of the replicas' gradients to replica 0's (which accumulate, as after
 * lam_backward: zero them between steps). *loss (if not NULL) gets the batch's mean loss.
 * On failure the message names the replica and its device. */
LAM_API lam_status lam_dp_backward(lam_dp *dp, lam_tensor *x, lam_tensor *y, lam_dp_loss_fn loss_fn,
                                   void *user_data, double *loss);
LAM_API void lam_dp_free(lam_dp *dp);

#ifdef __cplusplus
}
#endif
#endif
