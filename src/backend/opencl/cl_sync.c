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
#include <stdlib.h>
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

static size_t hash_of(const lam_cl_seen_key *key) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < 4; ++i) h = (h ^ key->k[i]) * 0x100000001b3ull;
    return (size_t)(h ^ (h >> 29));
}

static bool empty(const lam_cl_seen_key *k) { return !(k->k[0] | k->k[1] | k->k[2] | k->k[3]); }

/* The slot holding key, or the empty slot where it goes (linear probing); the caller holds
 * seen_lock and the table has room. */
static lam_cl_seen_key *slot_of(lam_cl_seen_key *table, size_t cap, const lam_cl_seen_key *key) {
    size_t i = hash_of(key) & (cap - 1);
    while (!empty(&table[i]) && memcmp(&table[i], key, sizeof *key) != 0) i = (i + 1) & (cap - 1);
    return &table[i];
}

static bool seen(lam_cl_ctx *c, const lam_cl_seen_key *key) {
    pthread_mutex_lock(&c->seen_lock);
    bool found = c->seen_cap && !empty(slot_of(c->seen, c->seen_cap, key));
    pthread_mutex_unlock(&c->seen_lock);
    return found;
}

/* Doubles the table (256 slots at first) so it stays at most half full; false if it cannot. */
static bool grow(lam_cl_ctx *c) {
    size_t cap = c->seen_cap ? 2 * c->seen_cap : 256;
    lam_cl_seen_key *table = calloc(cap, sizeof *table);
    if (!table) return false;
    for (size_t i = 0; i < c->seen_cap; ++i)
        if (!empty(&c->seen[i])) *slot_of(table, cap, &c->seen[i]) = c->seen[i];
    free(c->seen);
    c->seen = table;
    c->seen_cap = cap;
    return true;
}

static void remember(lam_cl_ctx *c, const lam_cl_seen_key *key) {
    pthread_mutex_lock(&c->seen_lock);
    if (2 * (c->seen_count + 1) <= c->seen_cap || grow(c)) {
        lam_cl_seen_key *slot = slot_of(c->seen, c->seen_cap, key);
        if (empty(slot)) c->seen_count++;
        *slot = *key;
    }
    pthread_mutex_unlock(&c->seen_lock);
}

bool lam_cl_first_begin(lam_cl_ctx *c, const lam_cl_seen_key *key) {
    if (seen(c, key)) return false;
    lam_cl_build_lock();   /* on every device: a first GEMM call may build CLBlast's programs */
    return true;
}

void lam_cl_first_done(lam_cl_ctx *c, const lam_cl_seen_key *key, bool first, bool ok) {
    if (!first) return;
    if (ok) remember(c, key);   /* only a launch that finished compiled its specialization */
    lam_cl_build_unlock();
}
