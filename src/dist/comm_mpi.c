/* The transport on MPI: lamina's own duplicate of MPI_COMM_WORLD, with errors returned
 * (MPI_ERRORS_RETURN) and turned into lamina errors naming the MPI call. A process that
 * mpirun did not start (and whose program did not initialize MPI itself) is a world of one
 * rank without MPI: no singleton MPI start-up for a program run alone. */
#include <limits.h>
#include <stdlib.h>

#include <mpi.h>

#include "core/error.h"
#include "dist/comm.h"

static MPI_Comm comm = MPI_COMM_NULL;   /* MPI_COMM_NULL: a world of one, no MPI */
static bool we_initialized;
static int my_rank, world = 1;

static lam_status mpi_fail(const char *op, const char *call, int rc) {
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return lam_set_error(LAM_ERR_BACKEND, "%s: %s failed on rank %d: %s", op, call, my_rank, msg);
}
#define MPI_CHECK(op, call) do { int rc_ = (call); if (rc_ != MPI_SUCCESS) return mpi_fail(op, #call, rc_); } while (0)

/* Started by a launcher: Open MPI's mpirun, or a PMI/PMIx one (Slurm's srun, MPICH). */
static bool launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

lam_status lam_comm_init(int *argc, char ***argv) {
    if (comm != MPI_COMM_NULL) return LAM_OK;
    int inited = 0, provided = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        if (!launched()) return LAM_OK;
        if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
            return lam_set_error(LAM_ERR_BACKEND, "lam_dist_init: MPI_Init_thread failed");
        we_initialized = true;
    }
    MPI_CHECK("lam_dist_init", MPI_Comm_dup(MPI_COMM_WORLD, &comm));
    MPI_CHECK("lam_dist_init", MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN));
    MPI_CHECK("lam_dist_init", MPI_Comm_rank(comm, &my_rank));
    MPI_CHECK("lam_dist_init", MPI_Comm_size(comm, &world));
    return LAM_OK;
}

lam_status lam_comm_finalize(void) {
    if (comm == MPI_COMM_NULL) return LAM_OK;
    int rc = MPI_Comm_free(&comm);
    comm = MPI_COMM_NULL;
    my_rank = 0;
    world = 1;
    if (rc != MPI_SUCCESS) return mpi_fail("lam_dist_finalize", "MPI_Comm_free", rc);
    if (we_initialized && (rc = MPI_Finalize()) != MPI_SUCCESS) return mpi_fail("lam_dist_finalize", "MPI_Finalize", rc);
    we_initialized = false;
    return LAM_OK;
}

int lam_comm_rank(void) { return my_rank; }
int lam_comm_size(void) { return world; }
bool lam_comm_built_with_mpi(void) { return true; }

void lam_comm_abort(int code) {
    if (comm != MPI_COMM_NULL) MPI_Abort(comm, code);
}

lam_status lam_comm_barrier(const char *op) {
    if (comm != MPI_COMM_NULL) MPI_CHECK(op, MPI_Barrier(comm));
    return LAM_OK;
}

lam_status lam_comm_bcast(void *buf, size_t bytes, int root, const char *op) {
    if (root < 0 || root >= world) return lam_set_error(LAM_ERR_ARG, "%s: root %d in a world of %d ranks", op, root, world);
    for (size_t done = 0; comm != MPI_COMM_NULL && done < bytes;) {   /* MPI counts are ints */
        int n = bytes - done > (size_t)INT_MAX ? INT_MAX : (int)(bytes - done);
        MPI_CHECK(op, MPI_Bcast((char *)buf + done, n, MPI_BYTE, root, comm));
        done += (size_t)n;
    }
    return LAM_OK;
}

lam_status lam_comm_allreduce_f64(double *v, int n, const char *op) {
    if (comm != MPI_COMM_NULL) MPI_CHECK(op, MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, comm));
    return LAM_OK;
}

lam_status lam_comm_allgather_i64(int64_t mine, int64_t *all, const char *op) {
    all[0] = mine;
    if (comm != MPI_COMM_NULL) MPI_CHECK(op, MPI_Allgather(&mine, 1, MPI_INT64_T, all, 1, MPI_INT64_T, comm));
    return LAM_OK;
}

lam_status lam_comm_iallreduce_f32(float *buf, size_t n, lam_comm_request *req, const char *op) {
    req->impl = NULL;
    if (comm == MPI_COMM_NULL || n == 0) return LAM_OK;
    if (n > (size_t)INT_MAX) return lam_set_error(LAM_ERR_ARG, "%s: %zu floats in one allreduce (at most INT_MAX)", op, n);
    MPI_Request *r = malloc(sizeof *r);
    if (!r) return lam_set_error(LAM_ERR_OOM, "%s: out of memory for an MPI request", op);
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, comm, r);
    if (rc != MPI_SUCCESS) {
        free(r);
        return mpi_fail(op, "MPI_Iallreduce", rc);
    }
    req->impl = r;
    return LAM_OK;
}

lam_status lam_comm_test(lam_comm_request *req, bool *done, const char *op) {
    *done = true;
    if (!req->impl) return LAM_OK;
    int flag = 0, rc = MPI_Test(req->impl, &flag, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return mpi_fail(op, "MPI_Test", rc);
    *done = flag != 0;
    if (flag) {
        free(req->impl);
        req->impl = NULL;
    }
    return LAM_OK;
}

lam_status lam_comm_wait(lam_comm_request *req, const char *op) {
    if (!req->impl) return LAM_OK;
    int rc = MPI_Wait(req->impl, MPI_STATUS_IGNORE);
    free(req->impl);
    req->impl = NULL;
    return rc == MPI_SUCCESS ? LAM_OK : mpi_fail(op, "MPI_Wait", rc);
}
