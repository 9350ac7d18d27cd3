/* The debug switch, read once from the environment. */
#include "core/debug.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static bool enabled;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void read_env(void) {
    const char *v = getenv("LAMINA_DEBUG");
    enabled = v && strcmp(v, "1") == 0;
}

bool lam_debug_enabled(void) {
    pthread_once(&once, read_env);
    return enabled;
}
