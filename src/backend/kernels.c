/* The direct-kernel table (backend/kernels.h) as data, for the backends' launchers. */
#include "backend/kernels.h"

#define LAM_KERNEL_INFO(NAME, name, file, nv, ni, nf, group) [LAM_K_##NAME] = {#name, file, nv, ni, nf, group},
const lam_kernel_info lam_kernel_infos[LAM_KERNEL_COUNT] = {LAM_KERNELS(LAM_KERNEL_INFO)};

#define LAM_KERNEL_ACCESS_ROW(NAME, words) [LAM_K_##NAME] = words,
#define LAM_KERNEL_ACCESS_ONE(NAME, words) +1
/* with -Woverride-init (in -Wextra) catching a kernel listed twice, every kernel is listed */
_Static_assert(0 LAM_KERNEL_ACCESS(LAM_KERNEL_ACCESS_ONE) == LAM_KERNEL_COUNT, "LAM_KERNEL_ACCESS lists every direct kernel");
const char *const lam_kernel_access[LAM_KERNEL_COUNT] = {LAM_KERNEL_ACCESS(LAM_KERNEL_ACCESS_ROW)};
