/* Shared inside src/dist: a module's tensors as a list, the check that every rank holds the
 * same model, and broadcasting tensors from rank 0 through one packed host buffer. */
#ifndef LAM_DIST_IMPL_H
#define LAM_DIST_IMPL_H

#include "dist/comm.h"
#include "lamina/dist.h"

typedef struct {
    int n, n_params;            /* parameters first, then buffers */
    lam_named_tensor *items;
} lam_tensor_list;

/* m's parameters (if params) then buffers (if buffers), deduplicated, in registration order. */
lam_status lam_tensor_list_of(lam_module *m, bool params, bool buffers, lam_tensor_list *out, const char *op);
void lam_tensor_list_free(lam_tensor_list *l);
/* Collective: LAM_ERR_STATE on every rank unless every rank's list (names, kinds, dtypes,
 * shapes) and header line equal rank 0's. */
lam_status lam_dist_check_same(const lam_tensor_list *l, const char *header, const char *op);
/* Collective: every tensor of l gets rank 0's values. */
lam_status lam_dist_broadcast_list(const lam_tensor_list *l, const char *op);
/* Seconds on a monotonic clock. */
double lam_dist_now(void);

#endif
