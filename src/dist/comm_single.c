/* A world of one rank, for builds without MPI: every collective is a copy to itself. A
 * process that mpirun started as one of several ranks is refused rather than left to train
 * alone. */
#include <stdlib.h>

#include "core/error.h"
#include "dist/comm.h"

lam_status lam_comm_init(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (!n) n = getenv("PMI_SIZE");
    if (n && atoi(n) > 1)
        return lam_set_error(LAM_ERR_STATE, "lam_dist_init: this lamina was built without MPI (LAMINA_MPI=OFF), but "
                                            "this process is one of %d ranks", atoi(n));
    return LAM_OK;
}

lam_status lam_comm_finalize(void) { return LAM_OK; }
int lam_comm_rank(void) { return 0; }
int lam_comm_size(void) { return 1; }
bool lam_comm_built_with_mpi(void) { return false; }
void lam_comm_abort(int code) { (void)code; }
lam_status lam_comm_barrier(const char *op) { return (void)op, LAM_OK; }

lam_status lam_comm_bcast(void *buf, size_t bytes, int root, const char *op) {
    (void)buf, (void)bytes, (void)op;
    return root == 0 ? LAM_OK : lam_set_error(LAM_ERR_ARG, "%s: root %d in a world of one rank", op, root);
}

lam_status lam_comm_allreduce_f64(double *v, int n, const char *op) { return (void)v, (void)n, (void)op, LAM_OK; }

lam_status lam_comm_allgather_i64(int64_t mine, int64_t *all, const char *op) {
    (void)op;
    all[0] = mine;
    return LAM_OK;
}

lam_status lam_comm_iallreduce_f32(float *buf, size_t n, lam_comm_request *req, const char *op) {
    (void)buf, (void)n, (void)op;
    req->impl = NULL;
    return LAM_OK;
}

lam_status lam_comm_test(lam_comm_request *req, bool *done, const char *op) {
    (void)req, (void)op;
    *done = true;
    return LAM_OK;
}

lam_status lam_comm_wait(lam_comm_request *req, const char *op) { return (void)req, (void)op, LAM_OK; }
