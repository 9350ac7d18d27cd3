/* Data parallel training over processes and machines, on Open MPI (PyTorch's
 * DistributedDataParallel). Every process (a "rank") holds the whole model, reads its own
 * part of each batch, and the ranks average their gradients before each optimizer step, so
 * after a step every rank holds the same parameters as one process that took the whole batch.
 *
 *   lam_dist_init(&argc, &argv);                  // mpirun -np 4 ./train: ranks 0..3
 *   lam_module *net = make_model();               // same model (and seed) on every rank
 *   lam_module_to(net, dev);
 *   lam_ddp *ddp = lam_ddp_new(net, NULL);        // checks the ranks agree, copies rank 0's
 *   lam_optim *opt = lam_sgd(net, (lam_sgd_options){.lr = 0.1f});
 *   for (int epoch = 0; epoch < epochs; ++epoch) {
 *       lam_dataset_shuffle(train, seed, epoch);  // the same order on every rank
 *       for (int64_t s = 0; s < lam_dist_steps(train, batch); ++s) {
 *           lam_scope_begin();
 *           lam_tensor *x, *y, *loss = NULL;
 *           double share;                         // this rank's part of the step's examples
 *           lam_dist_batch(train, s, batch, dev, &x, &y, &share);
 *           lam_optim_zero_grad(opt);
 *           if (x) loss = lam_cross_entropy(lam_ddp_forward(ddp, x), y);
 *           lam_ddp_backward(ddp, loss, share);    // gradients summed over ranks, weighted
 *           lam_optim_step(opt);
 *           lam_scope_end();
 *       }
 *       if (lam_dist_rank() == 0) lam_checkpoint_save(path, net, opt);
 *   }
 *   lam_ddp_free(ddp);
 *   lam_dist_finalize();
 *
 * - Gradients travel in buckets of about 25 MB (the first one 1 MB), filled with the
 *   parameters in reverse order of registration (the order backward finishes them). A bucket's allreduce starts
 *   (MPI_Iallreduce) as soon as backward has finished all its gradients (the autograd
 *   gradient-ready hook, lamina/autograd.h) and runs while backward goes on with the layers
 *   before it; buckets start in the same order on every rank. Gradients on OpenCL devices
 *   are staged through host memory.
 * - Buffers (BatchNorm's running statistics) follow PyTorch DDP's default: rank 0's buffers
 *   are broadcast to every rank at the start of each lam_ddp_forward, so the model's
 *   statistics are rank 0's (each rank still normalizes with its own batch's statistics;
 *   there is no synchronized BatchNorm). lam_ddp_broadcast_buffers does the same on demand
 *   (before evaluating on every rank).
 * - A failing call leaves the other ranks waiting in their next collective: a program that
 *   cannot go on calls lam_dist_abort, which ends every rank. A rank that dies ends the job
 *   too (mpirun stops the others).
 * - Without MPI (the build option LAMINA_MPI off, or a process not started by mpirun) the
 *   world is one rank and every call here works on it: the same program runs alone.
 */
#ifndef LAMINA_DIST_H
#define LAMINA_DIST_H

#include <stdbool.h>
#include <stdint.h>

#include "lamina/data.h"
#include "lamina/module.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- processes ---------------------------------------------------------------------- */

/* Joins the job mpirun started (MPI_Init_thread, MPI_THREAD_SERIALIZED: call lamina's
 * distributed functions from one thread at a time), or makes a world of one rank when the
 * process was not started by mpirun or lamina was built without MPI. An MPI the program
 * initialized itself is used as it is. Calling it again does nothing. argc/argv may be NULL. */
LAM_API lam_status lam_dist_init(int *argc, char ***argv);
/* Leaves the job (MPI_Finalize, if lam_dist_init initialized MPI). Collective. */
LAM_API lam_status lam_dist_finalize(void);
LAM_API int lam_dist_rank(void);         /* 0 .. world size - 1; 0 before init */
LAM_API int lam_dist_world_size(void);   /* 1 before init and without MPI */
LAM_API bool lam_dist_mpi_built(void);   /* whether this lamina was built with MPI */
/* Ends every rank of the job with exit code `code` (MPI_Abort). In a world of one rank it
 * returns, and the caller exits as it would have. */
LAM_API void lam_dist_abort(int code);
LAM_API lam_status lam_dist_barrier(void);
/* values[i] = the sum of values[i] over the ranks, on every rank (losses, hit counts). */
LAM_API lam_status lam_dist_allreduce_sum(double *values, int n);
/* Collective check that every rank passes the same value (a data set's size, the number of
 * steps, the first epoch): ranks that would make different numbers of collective calls
 * otherwise wait for each other for ever. LAM_ERR_STATE on every rank when they differ,
 * naming what and the values ("lam_dist_agree: the ranks disagree on training examples:
 * rank 0 has 8000, rank 1 has 1000"). */
LAM_API lam_status lam_dist_agree(const char *what, int64_t value);

/* Checks that every rank holds the same model (the names, kinds, dtypes and shapes of its
 * parameters and buffers; a mismatch is an LAM_ERR_STATE on every rank, naming the ranks and
 * the first tensor that differs), then gives every rank rank 0's parameters and buffers. */
LAM_API lam_status lam_dist_broadcast_module(lam_module *m);

/* ---- data ----------------------------------------------------------------------------- */

/* Steps in an epoch of d when every rank takes `batch` examples a step:
 * ceil(size / (world size * batch)). */
LAM_API int64_t lam_dist_steps(const lam_dataset *d, int64_t batch);
/* This rank's part of step s, in d's current order (shuffle with the same seed and epoch on
 * every rank): examples [(s * world + rank) * batch, ... + batch) of the epoch, so the ranks'
 * parts are disjoint and together cover it, and step s is the batch world * batch that one
 * process would take. *share is this rank's part of the step's examples (n_rank / n_step),
 * the weight lam_ddp_backward takes. On the last step a rank can have nothing: *x = *y =
 * NULL and *share = 0. */
LAM_API lam_status lam_dist_batch(lam_dataset *d, int64_t step, int64_t batch, lam_device *dev, lam_tensor **x,
                                  lam_tensor **y, double *share);

/* ---- DistributedDataParallel -------------------------------------------------------- */

typedef struct lam_ddp lam_ddp;

typedef struct {
    size_t bucket_bytes;         /* gradient bytes per bucket; 0: 25 MB (PyTorch's bucket_cap_mb) */
    size_t first_bucket_bytes;   /* the first bucket's (the last layers'), at most bucket_bytes;
                                    0: 1 MB, PyTorch's, so the first allreduce starts early */
    bool local_buffers;          /* true: never broadcast buffers (each rank keeps its own) */
} lam_ddp_options;

/* Wraps m (its parameters must be f32, on one device; lazy layers must have materialized):
 * checks that every rank has the same model and broadcasts rank 0's parameters and buffers
 * (lam_dist_broadcast_module). Collective; opt NULL: defaults. m stays the caller's. */
LAM_API lam_ddp *lam_ddp_new(lam_module *m, const lam_ddp_options *opt);
/* Broadcasts rank 0's buffers (unless local_buffers), then lam_forward(m, x). One per step. */
LAM_API lam_tensor *lam_ddp_forward(lam_ddp *d, lam_tensor *x);
/* lam_backward(loss), with each bucket's allreduce started as soon as its gradients are
 * final; returns when every parameter's gradient is sum over ranks (weight_r * grad_r).
 * weight: this rank's share of the step (lam_dist_batch's *share; 1.0 / world size gives
 * PyTorch's plain average). A rank with no examples this step passes loss NULL and weight 0:
 * it adds zeros (and makes the step's buffer broadcast if it made no lam_ddp_forward).
 * Parameters the graph does not reach get a zero gradient before the sum. */
LAM_API lam_status lam_ddp_backward(lam_ddp *d, lam_tensor *loss, double weight);
LAM_API lam_status lam_ddp_broadcast_buffers(lam_ddp *d);

typedef struct {
    int buckets;
    int64_t grad_bytes;        /* f32 gradient bytes one step reduces */
    int64_t steps;             /* lam_ddp_backward calls */
    int64_t early_buckets;     /* buckets started while backward was still running */
    double backward_s;         /* seconds in lam_ddp_backward, all steps */
    double staging_s;          /* of which: gradients to and from host memory */
    double wait_s;             /* of which: waiting for allreduces after backward ended */
    double broadcast_s;        /* seconds broadcasting buffers */
} lam_ddp_stats;
LAM_API lam_status lam_ddp_get_stats(const lam_ddp *d, lam_ddp_stats *out);
LAM_API void lam_ddp_free(lam_ddp *d);

#ifdef __cplusplus
}
#endif
#endif
