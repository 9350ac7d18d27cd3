/* The MPI calls lamina makes, as a table exported by the plugin liblamina_mpi.so
 * (src/dist/mpi_plugin.c), the only part of lamina linked to MPI. comm_mpi.c loads it when a
 * process is one of an MPI job, so a program that never distributes loads no MPI library:
 * libraries loaded at start-up put their thread-local storage below every thread's stack,
 * and Open MPI's moved POCL's worker stacks into an alignment where its GEMM kernels ran at
 * half speed (README "Scaling out"). Plain C types only: communicators and requests are
 * opaque heap objects, results are MPI's error codes. */
#ifndef LAM_DIST_MPI_PLUGIN_H
#define LAM_DIST_MPI_PLUGIN_H

#include <stdint.h>

#define LAM_MPI_PLUGIN_ABI 1
#define LAM_MPI_PLUGIN_SYMBOL "lamina_mpi_api"

typedef struct {
    int abi;        /* LAM_MPI_PLUGIN_ABI */
    int success;    /* MPI_SUCCESS */
    int (*initialized)(int *flag);
    int (*init)(int *argc, char ***argv);   /* MPI_Init_thread, MPI_THREAD_SERIALIZED */
    int (*finalize)(void);
    /* lamina's duplicate of MPI_COMM_WORLD, errors returned (MPI_ERRORS_RETURN) */
    int (*world_dup)(void **comm, int *rank, int *size);
    int (*comm_free)(void **comm);
    void (*abort)(void *comm, int code);
    int (*barrier)(void *comm);
    int (*bcast_bytes)(void *comm, void *buf, int bytes, int root);
    int (*allreduce_sum_f64)(void *comm, double *v, int n);
    int (*allgather_i64)(void *comm, int64_t mine, int64_t *all);
    /* *req: a heap request, or NULL when out of memory (with rc success: the caller's OOM) */
    int (*iallreduce_sum_f32)(void *comm, float *buf, int n, void **req);
    int (*test)(void **req, int *flag);   /* frees and clears *req once complete */
    int (*wait)(void **req);              /* frees and clears *req */
    void (*error_string)(int rc, char *msg, int cap);
} lam_mpi_api;

typedef const lam_mpi_api *(*lam_mpi_api_fn)(void);

#endif
