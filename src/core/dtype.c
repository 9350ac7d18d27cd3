/* The dtype table, pinned to the public enum and to the kernels' dtype codes. */
#include "core/dtype.h"

#include "cl/common.h"

#define LAM_DTYPE_ROW(e, n, sz, st, cl, host, fl) [e] = {n, sz, st, cl, fl},
static const lam_dtype_traits traits[LAM_DTYPE_COUNT] = {LAM_DTYPES(LAM_DTYPE_ROW)};

#define LAM_DTYPE_SIZE_CHECK(e, n, sz, st, cl, host, fl) \
    _Static_assert(sizeof(host) == (sz), "the host type of " n " has its size");
LAM_DTYPES(LAM_DTYPE_SIZE_CHECK)
#define LAM_DTYPE_COUNTER(e, n, sz, st, cl, host, fl) +1
_Static_assert(0 LAM_DTYPES(LAM_DTYPE_COUNTER) == LAM_DTYPE_COUNT, "one row per dtype");
_Static_assert(LAM_F32 == LAM_DT_F32 && LAM_I32 == LAM_DT_I32 && LAM_I64 == LAM_DT_I64 && LAM_F16 == LAM_DT_F16,
               "the kernels' dtype codes are lam_dtype's values");

const lam_dtype_traits *lam_dtype_traits_of(lam_dtype dt) {
    return (unsigned)dt < LAM_DTYPE_COUNT ? &traits[dt] : NULL;
}

lam_dtype lam_dtype_from_safetensors(const char *code) {
    for (int d = 0; code && d < LAM_DTYPE_COUNT; ++d)
        if (!strcmp(traits[d].safetensors, code)) return (lam_dtype)d;
    return LAM_DTYPE_COUNT;
}

const char *lam_dtype_name(lam_dtype dt) { return (unsigned)dt < LAM_DTYPE_COUNT ? traits[dt].name : "?"; }
size_t lam_dtype_size(lam_dtype dt) { return (unsigned)dt < LAM_DTYPE_COUNT ? traits[dt].size : 0; }
bool lam_dtype_is_float(lam_dtype dt) { return (unsigned)dt < LAM_DTYPE_COUNT && traits[dt].is_float; }
