/* The direct-kernel table (backend/kernels.h) as data, for the backends' launchers. */
#include "backend/kernels.h"

#define LAM_KERNEL_INFO(NAME, name, file, nv, ni, nf, group) [LAM_K_##NAME] = {#name, file, nv, ni, nf, group},
const lam_kernel_info lam_kernel_infos[LAM_KERNEL_COUNT] = {LAM_KERNELS(LAM_KERNEL_INFO)};
