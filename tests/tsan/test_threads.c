/* Threads, for ThreadSanitizer (ci/tsan.sh builds this with -fsanitize=thread):
 *   test_threads own DEVICE [STEPS]     two threads, each training its own MLP for a few SGD steps:
 *                                nothing is shared but the device, so there must be no race
 *   test_threads shared DEVICE [STEPS]  two threads running forward with grad on one shared model
 *                                (the tape holds references to the shared parameters)
 * Exit status 0 when every step worked (TSan's own exit status, 66, when it saw a race). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lamina.h>

static int steps = 20;   /* argv[3] */

static pthread_barrier_t start;   /* both threads begin their steps together, so they overlap */

typedef struct {
    lam_module *model;   /* shared mode: the model both threads run */
    int id;
    bool ok;
    double first_loss, last_loss;
} job;

static lam_module *mlp(void) {
    return lam_nn_sequential(3, lam_nn_linear(8, 16), lam_nn_relu(), lam_nn_linear(16, 4));
}

/* A fixed batch: 4 inputs of 8 features, labels 0..3; the thread's own seed. */
static void batch(int id, lam_tensor **x, lam_tensor **y) {
    lam_manual_seed(100 + (uint64_t)id);
    *x = lam_rand(LAM_SHAPE(4, 8), NULL);
    *y = lam_from_data((const int64_t[]){0, 1, 2, 3}, LAM_I64, LAM_SHAPE(4), NULL);
}

static void *train_own(void *arg) {
    job *j = arg;
    lam_manual_seed((uint64_t)j->id);
    lam_module *net = mlp();
    lam_optim *opt = net ? lam_sgd(net, (lam_sgd_options){.lr = 0.5f}) : NULL;
    j->ok = opt != NULL;
    lam_scope_begin();
    lam_tensor *x, *y;
    batch(j->id, &x, &y);
    pthread_barrier_wait(&start);
    for (int s = 0; j->ok && s < steps; ++s) {
        lam_scope_begin();
        lam_optim_zero_grad(opt);
        lam_tensor *loss = lam_cross_entropy(lam_forward(net, x), y);
        double v = loss ? lam_item(loss) : NAN;
        j->ok = !isnan(v) && lam_backward(loss) == LAM_OK && lam_optim_step(opt) == LAM_OK;
        if (s == 0) j->first_loss = v;
        j->last_loss = v;
        lam_scope_end();
    }
    lam_scope_end();
    j->ok = j->ok && j->last_loss < j->first_loss;   /* it learned its batch */
    if (!j->ok) fprintf(stderr, "thread %d: %s\n", j->id, lam_last_error());
    lam_optim_free(opt);
    lam_module_free(net);
    return NULL;
}

static void *forward_shared(void *arg) {
    job *j = arg;
    lam_scope_begin();
    lam_tensor *x, *y;
    batch(j->id, &x, &y);
    j->ok = true;
    for (int s = 0; s < steps; ++s) {
        pthread_barrier_wait(&start);   /* each step starts together: the two forwards interleave */
        if (!j->ok) continue;           /* keep meeting the other thread at the barrier */
        lam_scope_begin();   /* grad mode is on: the tape records and retains the parameters */
        lam_tensor *loss = lam_cross_entropy(lam_forward(j->model, x), y);
        double v = loss ? lam_item(loss) : NAN;
        j->ok = !isnan(v) && lam_tensor_requires_grad(loss);
        if (s == 0) j->first_loss = v;
        j->ok = j->ok && v == j->first_loss;   /* nothing changes the model */
        j->last_loss = v;
        lam_scope_end();
    }
    lam_scope_end();
    if (!j->ok) fprintf(stderr, "thread %d: %s\n", j->id, lam_last_error());
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4 || (strcmp(argv[1], "own") && strcmp(argv[1], "shared"))) {
        fprintf(stderr, "usage: test_threads own|shared DEVICE [STEPS]\n");
        return 2;
    }
    if (argc == 4) steps = atoi(argv[3]) > 1 ? atoi(argv[3]) : 2;
    lam_device *dev = lam_device_get(argv[2]);
    if (!dev || lam_set_default_device(dev) != LAM_OK) {   /* before any thread starts */
        fprintf(stderr, "test_threads: %s\n", lam_last_error());
        return 2;
    }
    bool shared = !strcmp(argv[1], "shared");
    lam_module *model = shared ? mlp() : NULL;
    job jobs[2] = {{.model = model, .id = 1}, {.model = model, .id = 2}};
    pthread_t t[2];
    pthread_barrier_init(&start, NULL, 2);
    for (int i = 0; i < 2; ++i) pthread_create(&t[i], NULL, shared ? forward_shared : train_own, &jobs[i]);
    for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    lam_module_free(model);
    for (int i = 0; i < 2; ++i)
        printf("%s on %s, thread %d: loss %.4f -> %.4f %s\n", argv[1], lam_device_name(dev), jobs[i].id,
               jobs[i].first_loss, jobs[i].last_loss, jobs[i].ok ? "ok" : "FAILED");
    return jobs[0].ok && jobs[1].ok ? 0 : 1;
}
