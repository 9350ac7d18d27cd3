/* When the host waits for a device, and the one lock that keeps LLVM compiles apart.
 *
 * POCL (and any runtime that compiles lazily) builds a kernel's work-group function in its
 * worker thread the first time the kernel runs with a new work-group size or grid class,
 * outside the lock it takes for clBuildProgram. Two LLVM compiles at once, or one still
 * running when exit() has destroyed LLVM's statics, corrupt the heap. So every build and
 * every first launch of a specialization takes one process-wide lock, and on a device that
 * compiles lazily (lam_cl_ctx.lazy_compile) a first launch finishes before the lock is
 * released: no compile is ever in flight outside it, and none is pending at exit. Later
 * launches of a seen specialization are asynchronous. */
#include <string.h>

#include "backend/opencl/cl_backend.h"

static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;

void lam_cl_build_lock(void) { pthread_mutex_lock(&build_lock); }
void lam_cl_build_unlock(void) { pthread_mutex_unlock(&build_lock); }

void lam_cl_count(_Atomic uint64_t *counter, uint64_t n) { atomic_fetch_add_explicit(counter, n, memory_order_relaxed); }

cl_int lam_cl_finish(lam_cl_ctx *c) {
    lam_cl_count(&c->waits, 1);
    return clFinish(c->queue);
}

static size_t slot_of(const lam_cl_seen_key *key) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < 4; ++i) h = (h ^ key->k[i]) * 0x100000001b3ull;
    return (size_t)((h ^ (h >> 29)) % LAM_CL_SEEN_SLOTS);
}

static bool seen(lam_cl_ctx *c, const lam_cl_seen_key *key) {
    pthread_mutex_lock(&c->seen_lock);
    bool found = memcmp(&c->seen[slot_of(key)], key, sizeof *key) == 0;
    pthread_mutex_unlock(&c->seen_lock);
    return found;
}

bool lam_cl_first_begin(lam_cl_ctx *c, const lam_cl_seen_key *key) {
    if (seen(c, key)) return false;
    lam_cl_build_lock();   /* on every device: a first GEMM call may build CLBlast's programs */
    return true;
}

void lam_cl_first_done(lam_cl_ctx *c, const lam_cl_seen_key *key, bool first, bool ok) {
    if (!first) return;
    if (ok) {   /* only a launch that finished compiled its specialization */
        pthread_mutex_lock(&c->seen_lock);
        c->seen[slot_of(key)] = *key;
        pthread_mutex_unlock(&c->seen_lock);
    }
    lam_cl_build_unlock();
}
