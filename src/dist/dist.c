/* The public process calls of lamina/dist.h over the transport (comm.h), whole-module
 * broadcast, and each rank's part of a data set. */
#include <stdlib.h>

#include "backend/profile.h"
#include "core/error.h"
#include "dist/dist_impl.h"

lam_status lam_dist_init(int *argc, char ***argv) { return lam_comm_init(argc, argv); }
lam_status lam_dist_finalize(void) { return lam_comm_finalize(); }
int lam_dist_rank(void) { return lam_comm_rank(); }
int lam_dist_world_size(void) { return lam_comm_size(); }
bool lam_dist_mpi_built(void) { return lam_comm_built_with_mpi(); }
void lam_dist_abort(int code) { lam_comm_abort(code); }
lam_status lam_dist_barrier(void) { return lam_comm_barrier("lam_dist_barrier"); }

lam_status lam_dist_allreduce_sum(double *values, int n) {
    if (!values || n < 0) return lam_set_error(LAM_ERR_ARG, "lam_dist_allreduce_sum: %s", values ? "n < 0" : "NULL values");
    return LAM_PROFILED("dist_allreduce_sum", lam_host_device(), 8.0 * n, 0,
                        lam_comm_allreduce_f64(values, n, "lam_dist_allreduce_sum"));
}

lam_status lam_dist_agree(const char *what, int64_t value) {
    int world = lam_comm_size();
    int64_t *all = calloc((size_t)world, sizeof *all);
    if (!all) return lam_set_error(LAM_ERR_OOM, "lam_dist_agree: out of memory");
    lam_status st = lam_comm_allgather_i64(value, all, "lam_dist_agree");
    for (int r = 1; st == LAM_OK && r < world; ++r)
        if (all[r] != all[0])
            st = lam_set_error(LAM_ERR_STATE, "lam_dist_agree: the ranks disagree on %s: rank 0 has %lld, rank %d has %lld",
                               what ? what : "a value", (long long)all[0], r, (long long)all[r]);
    free(all);
    return st;
}

lam_status lam_dist_broadcast_module(lam_module *m) {
    const char *op = "lam_dist_broadcast_module";
    lam_tensor_list l;
    lam_status st = lam_tensor_list_of(m, true, true, &l, op);
    if (st == LAM_OK) st = lam_dist_check_same(&l, "module", op);
    if (st == LAM_OK) st = lam_dist_broadcast_list(&l, op);
    lam_tensor_list_free(&l);
    return st;
}

int64_t lam_dist_steps(const lam_dataset *d, int64_t batch) {
    if (!d || batch <= 0) return 0;
    int64_t per_step = batch * lam_comm_size();   /* batch and world are small: no overflow */
    return (lam_dataset_size(d) + per_step - 1) / per_step;
}

lam_status lam_dist_batch(lam_dataset *d, int64_t step, int64_t batch, lam_device *dev, lam_tensor **x,
                          lam_tensor **y, double *share) {
    if (!d || !x || !y || !share || batch <= 0 || step < 0 || step >= lam_dist_steps(d, batch))
        return lam_set_error(LAM_ERR_ARG, "lam_dist_batch: %s", !d || !x || !y || !share ? "NULL argument"
                                                                : batch <= 0 ? "batch must be positive" : "step out of range");
    int64_t n = lam_dataset_size(d), world = lam_comm_size(), first = step * world * batch;
    int64_t in_step = n - first < world * batch ? n - first : world * batch;
    int64_t mine = (step * world + lam_comm_rank()) * batch;
    int64_t count = mine >= n ? 0 : n - mine < batch ? n - mine : batch;
    *x = *y = NULL;
    *share = (double)count / (double)in_step;
    /* batch number step * world + rank of size batch is exactly [mine, mine + count) */
    return count ? lam_dataset_batch(d, step * world + lam_comm_rank(), batch, dev, x, y) : LAM_OK;
}
