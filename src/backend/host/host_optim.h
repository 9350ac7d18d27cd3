/* Host backend: fused optimizer steps (vtable entries sgd_step, adam_step). */
#ifndef LAM_HOST_OPTIM_H
#define LAM_HOST_OPTIM_H

#include "backend/host/host.h"

lam_status lam_host_sgd_step(lam_device *d, const lam_sgd_args *a);
lam_status lam_host_adam_step(lam_device *d, const lam_adam_args *a);

#endif
