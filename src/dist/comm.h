/* The transport under lamina/dist.h: MPI (comm_mpi.c) or a world of one rank
 * (comm_single.c, built without MPI). Every call names the public op that made it, for
 * the error message; sizes are bytes or f32 counts of host memory. */
#ifndef LAM_DIST_COMM_H
#define LAM_DIST_COMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lamina/error.h"

/* An allreduce in flight; done once lam_comm_wait or a lam_comm_test said so. */
typedef struct {
    void *impl;   /* NULL: nothing in flight */
} lam_comm_request;

lam_status lam_comm_init(int *argc, char ***argv);
lam_status lam_comm_finalize(void);
int lam_comm_rank(void);
int lam_comm_size(void);
bool lam_comm_built_with_mpi(void);
void lam_comm_abort(int code);
lam_status lam_comm_barrier(const char *op);
lam_status lam_comm_bcast(void *buf, size_t bytes, int root, const char *op);
lam_status lam_comm_allreduce_f64(double *v, int n, const char *op);
/* all[r] = rank r's value, for every rank (all holds lam_comm_size() entries). */
lam_status lam_comm_allgather_i64(int64_t mine, int64_t *all, const char *op);
/* Starts an in-place sum of n floats over the ranks. */
lam_status lam_comm_iallreduce_f32(float *buf, size_t n, lam_comm_request *req, const char *op);
/* Lets requests progress; *done when finished (then the request is free). */
lam_status lam_comm_test(lam_comm_request *req, bool *done, const char *op);
lam_status lam_comm_wait(lam_comm_request *req, const char *op);

#endif
