/* The elementwise loops for AVX2 (host_ew_loops.h): 8 lanes instead of SSE2's 4, 2-3x on
 * exp, erfc and tanh. Built with -mavx2 where CMake finds x86-64, else empty. */
#ifdef __AVX2__
#define LAM_EW_LOOPS_NAME lam_host_ew_loops_avx2
#include "backend/host/host_ew_loops.h"
#else
typedef int lam_host_ew_loops_avx2_unused;   /* ISO C wants a declaration in every file */
#endif
