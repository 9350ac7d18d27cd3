/* A fixed team of host threads, one per device of a data-parallel model: each call runs
 * fn(ctx, i) on thread i for every i and returns when all are done. Thread i keeps its own
 * lamina state (scopes, tape, error, random generator seeded seed + i) across calls. */
#ifndef LAM_DIST_WORKERS_H
#define LAM_DIST_WORKERS_H

#include <stdint.h>

#include "lamina/error.h"

typedef struct lam_workers lam_workers;
typedef void (*lam_worker_fn)(void *ctx, int i);

/* NULL + error when a thread cannot start (those started are stopped). */
lam_workers *lam_workers_new(int n, uint64_t seed);
void lam_workers_run(lam_workers *w, lam_worker_fn fn, void *ctx);
void lam_workers_free(lam_workers *w);

#endif
