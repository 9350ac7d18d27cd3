/* The elementwise loops for any CPU of the architecture (host_ew_loops.h). */
#define LAM_EW_LOOPS_NAME lam_host_ew_loops
#include "backend/host/host_ew_loops.h"
