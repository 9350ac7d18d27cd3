/* LAMINA_DEBUG=1: checks that cost memory or time, for finding misuse (a tensor released
 * twice is reported instead of freed twice, because released handles are kept). */
#ifndef LAM_CORE_DEBUG_H
#define LAM_CORE_DEBUG_H

#include <stdbool.h>

bool lam_debug_enabled(void);

#endif
