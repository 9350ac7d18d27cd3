/* liblamina_mpi.so: lamina's MPI calls behind the table of mpi_plugin.h. Built only with
 * LAMINA_MPI, linked to MPI and to nothing of lamina; comm_mpi.c loads it. */
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "dist/mpi_plugin.h"

static int initialized(int *flag) { return MPI_Initialized(flag); }

static int init(int *argc, char ***argv) {
    int provided = 0;
    return MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided);
}

static int finalize(void) { return MPI_Finalize(); }

static int world_dup(void **comm, int *rank, int *size) {
    MPI_Comm *c = malloc(sizeof *c);
    if (!c) return MPI_ERR_NO_MEM;
    int rc = MPI_Comm_dup(MPI_COMM_WORLD, c);
    if (rc != MPI_SUCCESS) {
        free(c);
        return rc;
    }
    if ((rc = MPI_Comm_set_errhandler(*c, MPI_ERRORS_RETURN)) != MPI_SUCCESS ||
        (rc = MPI_Comm_rank(*c, rank)) != MPI_SUCCESS || (rc = MPI_Comm_size(*c, size)) != MPI_SUCCESS) {
        MPI_Comm_free(c);
        free(c);
        return rc;
    }
    *comm = c;
    return MPI_SUCCESS;
}

static int comm_free(void **comm) {
    int rc = MPI_Comm_free((MPI_Comm *)*comm);
    free(*comm);
    *comm = NULL;
    return rc;
}

static void abort_all(void *comm, int code) { MPI_Abort(*(MPI_Comm *)comm, code); }
static int barrier(void *comm) { return MPI_Barrier(*(MPI_Comm *)comm); }

static int bcast_bytes(void *comm, void *buf, int bytes, int root) {
    return MPI_Bcast(buf, bytes, MPI_BYTE, root, *(MPI_Comm *)comm);
}

static int allreduce_sum_f64(void *comm, double *v, int n) {
    return MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, *(MPI_Comm *)comm);
}

static int allgather_i64(void *comm, int64_t mine, int64_t *all) {
    return MPI_Allgather(&mine, 1, MPI_INT64_T, all, 1, MPI_INT64_T, *(MPI_Comm *)comm);
}

static int iallreduce_sum_f32(void *comm, float *buf, int n, void **req) {
    MPI_Request *r = malloc(sizeof *r);
    *req = NULL;
    if (!r) return MPI_SUCCESS;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, *(MPI_Comm *)comm, r);
    if (rc != MPI_SUCCESS) free(r);
    else *req = r;
    return rc;
}

static int test(void **req, int *flag) {
    int rc = MPI_Test((MPI_Request *)*req, flag, MPI_STATUS_IGNORE);
    if (rc == MPI_SUCCESS && *flag) {
        free(*req);
        *req = NULL;
    }
    return rc;
}

static int wait(void **req) {
    int rc = MPI_Wait((MPI_Request *)*req, MPI_STATUS_IGNORE);
    free(*req);
    *req = NULL;
    return rc;
}

static void error_string(int rc, char *msg, int cap) {
    char s[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, s, &len);
    if (cap > 0) {
        strncpy(msg, s, (size_t)cap - 1);
        msg[cap - 1] = '\0';
    }
}

__attribute__((visibility("default"))) const lam_mpi_api *lamina_mpi_api(void) {
    static const lam_mpi_api api = {
        .abi = LAM_MPI_PLUGIN_ABI, .success = MPI_SUCCESS, .initialized = initialized, .init = init,
        .finalize = finalize, .world_dup = world_dup, .comm_free = comm_free, .abort = abort_all,
        .barrier = barrier, .bcast_bytes = bcast_bytes, .allreduce_sum_f64 = allreduce_sum_f64,
        .allgather_i64 = allgather_i64, .iallreduce_sum_f32 = iallreduce_sum_f32, .test = test, .wait = wait,
        .error_string = error_string,
    };
    return &api;
}
