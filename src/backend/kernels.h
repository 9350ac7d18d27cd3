/* Direct kernels: ops with a kernel of their own run through one backend entry, `kernel`,
 * with their arguments in a table (lam_kernel_args), so adding one needs no new vtable
 * entry and no OpenCL argument code.
 *
 * X(NAME, name, file, views, ints, floats, group): the OpenCL kernel lam_k_<name> in
 * cl/<file> takes, in order, (buffer, offset) for each view, the ints as long, the floats,
 * then the work count as a long, and checks its own bounds; group > 0 runs one work-group of
 * that size per unit of work (the kernel reads get_group_id) instead of one work-item. The
 * host runs lam_host_k_<name>(args) (src/backend/host/). Views are contiguous; the program is
 * built for the dtype of view 0. A view with a NULL buffer is the device's error record
 * (a few longs a kernel raises and the next blocking read reports; the host has none). */
#ifndef LAM_BACKEND_KERNELS_H
#define LAM_BACKEND_KERNELS_H

#include <stdint.h>

#define LAM_KERNELS(X)                                                                     \
    X(RAND, rand, "rand.cl", 1, 3, 0, 0)      /* dst; seed, counter, normal */             \
    X(SGD, sgd, "optim.cl", 3, 2, 4, 0)       /* p, g, buf; nesterov, first; lr, mom, damp, wd */ \
    X(ADAM, adam, "optim.cl", 4, 1, 7, 0)     /* p, g, m, v; decoupled; lr, b1, b2, eps, wd, bias1, bias2 */ \
    X(CHECK_INDEX, check_index, "check.cl", 2, 3, 0, 0) /* idx, record; lo, hi, op id (backend/check.h) */

#define LAM_KERNEL_ENUM(NAME, name, file, nv, ni, nf, group) LAM_K_##NAME,
typedef enum { LAM_KERNELS(LAM_KERNEL_ENUM) LAM_KERNEL_COUNT } lam_kernel_id;

#define LAM_KERNEL_MAX_VIEWS 6
#define LAM_KERNEL_MAX_INTS 16
#define LAM_KERNEL_MAX_FLOATS 8

/* Static facts of one direct kernel, from the table. */
typedef struct {
    const char *name;   /* "sgd": lam_k_sgd on OpenCL, lam_host_k_sgd on the host */
    const char *file;   /* its kernel file in cl/ */
    int views, ints, floats, group;
} lam_kernel_info;
extern const lam_kernel_info lam_kernel_infos[LAM_KERNEL_COUNT];

#endif
