/* The transport on MPI, through the plugin liblamina_mpi.so (mpi_plugin.h): lamina's own
 * duplicate of MPI_COMM_WORLD, with errors returned and turned into lamina errors naming the
 * MPI call. The plugin is loaded only in a process that mpirun (or a PMI launcher) started,
 * or whose program linked MPI itself; any other process is a world of one rank without MPI
 * and loads no MPI library. Where the plugin is: $LAMINA_MPI_PLUGIN, else beside liblamina
 * (build tree and install), else the install's libdir. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* dladdr, RTLD_DEFAULT */
#endif
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "dist/comm.h"
#include "dist/mpi_plugin.h"

static const lam_mpi_api *mpi;   /* the plugin's table, once loaded (it stays loaded) */
static void *comm;               /* NULL: a world of one, no MPI */
static bool we_initialized;
static int my_rank, world = 1;

static lam_status mpi_fail(const char *op, const char *call, int rc) {
    char msg[512] = "";
    mpi->error_string(rc, msg, (int)sizeof msg);
    return lam_set_error(LAM_ERR_BACKEND, "%s: %s failed on rank %d: %s", op, call, my_rank, msg);
}
#define MPI_CHECK(op, name, call) do { int rc_ = (call); if (rc_ != mpi->success) return mpi_fail(op, name, rc_); } while (0)

/* Started by a launcher: Open MPI's mpirun, or a PMI/PMIx one (Slurm's srun, MPICH). */
static bool launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

/* Opens path and takes its table; NULL with why in err. */
static const lam_mpi_api *open_plugin(const char *path, char *err, size_t cap) {
    /* global: Open MPI's own components resolve libmpi's symbols when they load */
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    lam_mpi_api_fn get = h ? (lam_mpi_api_fn)(uintptr_t)dlsym(h, LAM_MPI_PLUGIN_SYMBOL) : NULL;
    const lam_mpi_api *api = get ? get() : NULL;
    if (api && api->abi == LAM_MPI_PLUGIN_ABI) return api;
    snprintf(err, cap, "%s: %s", path, !h ? dlerror() : api ? "another lamina's plugin" : "not lamina's MPI plugin");
    if (h) dlclose(h);
    return NULL;
}

static lam_status load_plugin(void) {
    if (mpi) return LAM_OK;
    char err[1024] = "not found", path[PATH_MAX];
    const char *env = getenv("LAMINA_MPI_PLUGIN");
    if (env && *env) {
        if ((mpi = open_plugin(env, err, sizeof err))) return LAM_OK;
        return lam_set_error(LAM_ERR_BACKEND, "lam_dist_init: LAMINA_MPI_PLUGIN=%s", err);
    }
    Dl_info self;   /* the directory liblamina.so (or a static program) was loaded from */
    if (dladdr((void *)(uintptr_t)load_plugin, &self) && self.dli_fname) {
        const char *slash = strrchr(self.dli_fname, '/');
        int dir = slash ? (int)(slash - self.dli_fname) : 1;
        snprintf(path, sizeof path, "%.*s/liblamina_mpi.so", dir, slash ? self.dli_fname : ".");
        if ((mpi = open_plugin(path, err, sizeof err))) return LAM_OK;
    }
    if ((mpi = open_plugin(LAMINA_MPI_PLUGIN_INSTALLED, err, sizeof err))) return LAM_OK;
    return lam_set_error(LAM_ERR_BACKEND, "lam_dist_init: this process is part of an MPI job but lamina's MPI plugin "
                                          "did not load (%s); set LAMINA_MPI_PLUGIN to liblamina_mpi.so", err);
}

lam_status lam_comm_init(int *argc, char ***argv) {
    if (comm) return LAM_OK;
    /* a program that links MPI itself may have initialized it */
    bool in_program = dlsym(RTLD_DEFAULT, "MPI_Initialized") != NULL;
    if (!launched() && !in_program) return LAM_OK;
    lam_status st = load_plugin();
    if (st != LAM_OK) return st;
    int inited = 0;
    mpi->initialized(&inited);
    if (!inited) {
        if (!launched()) return LAM_OK;
        if (mpi->init(argc, argv) != mpi->success) return lam_set_error(LAM_ERR_BACKEND, "lam_dist_init: MPI_Init_thread failed");
        we_initialized = true;
    }
    MPI_CHECK("lam_dist_init", "MPI_Comm_dup", mpi->world_dup(&comm, &my_rank, &world));
    return LAM_OK;
}

lam_status lam_comm_finalize(void) {
    if (!comm) return LAM_OK;
    int rc = mpi->comm_free(&comm);
    my_rank = 0;
    world = 1;
    if (rc != mpi->success) return mpi_fail("lam_dist_finalize", "MPI_Comm_free", rc);
    if (we_initialized && (rc = mpi->finalize()) != mpi->success) return mpi_fail("lam_dist_finalize", "MPI_Finalize", rc);
    we_initialized = false;
    return LAM_OK;
}

int lam_comm_rank(void) { return my_rank; }
int lam_comm_size(void) { return world; }
bool lam_comm_built_with_mpi(void) { return true; }

void lam_comm_abort(int code) {
    if (comm) mpi->abort(comm, code);
}

lam_status lam_comm_barrier(const char *op) {
    if (comm) MPI_CHECK(op, "MPI_Barrier", mpi->barrier(comm));
    return LAM_OK;
}

lam_status lam_comm_bcast(void *buf, size_t bytes, int root, const char *op) {
    if (root < 0 || root >= world) return lam_set_error(LAM_ERR_ARG, "%s: root %d in a world of %d ranks", op, root, world);
    for (size_t done = 0; comm && done < bytes;) {   /* MPI counts are ints */
        int n = bytes - done > (size_t)INT_MAX ? INT_MAX : (int)(bytes - done);
        MPI_CHECK(op, "MPI_Bcast", mpi->bcast_bytes(comm, (char *)buf + done, n, root));
        done += (size_t)n;
    }
    return LAM_OK;
}

lam_status lam_comm_allreduce_f64(double *v, int n, const char *op) {
    if (comm) MPI_CHECK(op, "MPI_Allreduce", mpi->allreduce_sum_f64(comm, v, n));
    return LAM_OK;
}

lam_status lam_comm_allgather_i64(int64_t mine, int64_t *all, const char *op) {
    all[0] = mine;
    if (comm) MPI_CHECK(op, "MPI_Allgather", mpi->allgather_i64(comm, mine, all));
    return LAM_OK;
}

lam_status lam_comm_iallreduce_f32(float *buf, size_t n, lam_comm_request *req, const char *op) {
    req->impl = NULL;
    if (!comm || n == 0) return LAM_OK;
    if (n > (size_t)INT_MAX) return lam_set_error(LAM_ERR_ARG, "%s: %zu floats in one allreduce (at most INT_MAX)", op, n);
    MPI_CHECK(op, "MPI_Iallreduce", mpi->iallreduce_sum_f32(comm, buf, (int)n, &req->impl));
    if (!req->impl) return lam_set_error(LAM_ERR_OOM, "%s: out of memory for an MPI request", op);
    return LAM_OK;
}

lam_status lam_comm_test(lam_comm_request *req, bool *done, const char *op) {
    *done = true;
    if (!req->impl) return LAM_OK;
    int flag = 0;
    MPI_CHECK(op, "MPI_Test", mpi->test(&req->impl, &flag));
    *done = flag != 0;
    return LAM_OK;
}

lam_status lam_comm_wait(lam_comm_request *req, const char *op) {
    if (!req->impl) return LAM_OK;
    MPI_CHECK(op, "MPI_Wait", mpi->wait(&req->impl));
    return LAM_OK;
}
