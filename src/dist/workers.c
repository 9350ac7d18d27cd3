/* The worker team of workers.h: one mutex, a generation counter that starts a round and a
 * count of threads done with it. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/error.h"
#include "dist/workers.h"
#include "lamina/tensor.h"

typedef struct {
    lam_workers *team;
    int index;
} worker_arg;

struct lam_workers {
    pthread_mutex_t lock;
    pthread_cond_t start, finished;
    uint64_t generation, seed;
    int n, started, done;
    bool quit;
    lam_worker_fn fn;
    void *ctx;
    pthread_t *threads;
    worker_arg *args;
};

static void *worker_main(void *p) {
    worker_arg *a = p;
    lam_workers *w = a->team;
    lam_manual_seed(w->seed + (uint64_t)a->index);   /* the generator is per thread */
    uint64_t seen = 0;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->quit && w->generation == seen) pthread_cond_wait(&w->start, &w->lock);
        if (w->quit) break;
        seen = w->generation;
        pthread_mutex_unlock(&w->lock);
        w->fn(w->ctx, a->index);
        pthread_mutex_lock(&w->lock);
        if (++w->done == w->n) pthread_cond_signal(&w->finished);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

void lam_workers_free(lam_workers *w) {
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->quit = true;
    pthread_cond_broadcast(&w->start);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->started; ++i) pthread_join(w->threads[i], NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->start);
    pthread_cond_destroy(&w->finished);
    free(w->threads);
    free(w->args);
    free(w);
}

lam_workers *lam_workers_new(int n, uint64_t seed) {
    lam_workers *w = calloc(1, sizeof *w);
    if (!w) LAM_FAIL_NULL(LAM_ERR_OOM, "lam_dp_new: out of memory for %d threads", n);
    w->n = n;
    w->seed = seed;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->start, NULL);
    pthread_cond_init(&w->finished, NULL);
    w->threads = calloc((size_t)n, sizeof *w->threads);
    w->args = calloc((size_t)n, sizeof *w->args);
    if (!w->threads || !w->args) {
        lam_workers_free(w);
        LAM_FAIL_NULL(LAM_ERR_OOM, "lam_dp_new: out of memory for %d threads", n);
    }
    for (int i = 0; i < n; ++i) {
        w->args[i] = (worker_arg){w, i};
        if (pthread_create(&w->threads[i], NULL, worker_main, &w->args[i]) != 0) {
            lam_workers_free(w);
            LAM_FAIL_NULL(LAM_ERR_STATE, "lam_dp_new: cannot start thread %d of %d", i, n);
        }
        w->started++;
    }
    return w;
}

void lam_workers_run(lam_workers *w, lam_worker_fn fn, void *ctx) {
    pthread_mutex_lock(&w->lock);
    w->fn = fn;
    w->ctx = ctx;
    w->done = 0;
    w->generation++;
    pthread_cond_broadcast(&w->start);
    while (w->done < w->n) pthread_cond_wait(&w->finished, &w->lock);
    pthread_mutex_unlock(&w->lock);
}
