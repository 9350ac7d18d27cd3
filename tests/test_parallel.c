/* Data parallel over the devices of one process (lamina/parallel.h), on the devices named in
 * LAMINA_DP_DEVICES, else LAMINA_TEST_DEVICES, else "cpu,opencl" when there is an OpenCL
 * device (ctest also runs it with POCL_DEVICES="pthread pthread" on "opencl:portable:0,opencl:portable:1"):
 * - after each of 3 momentum steps replica 0 equals one device on the whole batch (1e-5),
 *   with uneven splits (7 rows) and a replica with no rows (1 row);
 * - the replicas run at the same time, each on a thread of its own with its own seed;
 * - bad input: duplicate devices, failing or mismatched constructors, a failing loss. */
#define _POSIX_C_SOURCE 200809L   /* strtok_r, clock_gettime */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "test_util.h"

static int dp_devices(lam_device **out, int max) {
    const char *env = getenv("LAMINA_DP_DEVICES"), *all = getenv("LAMINA_TEST_DEVICES");
    char buf[256];
    if (!env || !*env) env = all && *all ? all : lam_device_count() > 1 ? "cpu,opencl" : "cpu";
    snprintf(buf, sizeof buf, "%s", env);
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save)) {
        out[n] = lam_device_get(tok);
        if (!out[n]) {   /* ctest: skipped (77) when this machine lacks the device */
            printf("SKIP: LAMINA_DP_DEVICES: %s: %s\n", tok, lam_last_error());
            exit(77);
        }
        n++;
    }
    return n;
}

typedef struct {
    int64_t hidden_for_replica_1;   /* 0: all the same */
    int made;
} maker;

static lam_module *make_mlp(void *user) {
    maker *m = user;
    int64_t hidden = m && m->made++ == 1 && m->hidden_for_replica_1 ? m->hidden_for_replica_1 : 8;
    lam_manual_seed(100 + (uint64_t)(m ? m->made : 0));   /* replicas start different */
    return lam_nn_sequential(3, lam_nn_linear(5, hidden), lam_nn_tanh(), lam_nn_linear(hidden, 3));
}

static lam_tensor *ce_loss(lam_module *m, lam_tensor *x, lam_tensor *y, void *user) {
    (void)user;
    return lam_cross_entropy(lam_forward(m, x), y);
}

static void batch(int64_t rows, uint64_t seed, lam_tensor **x, lam_tensor **y) {
    double v[64 * 5];
    int64_t lab[64];
    tu_fill_uniform(v, rows * 5, -2, 2, seed);
    for (int64_t i = 0; i < rows; ++i) lab[i] = (i * 5 + (int64_t)seed) % 3;
    *x = tu_from_doubles(v, 2, (int64_t[]){rows, 5}, lam_device_get("cpu"));
    *y = lam_from_data(lab, LAM_I64, 1, (int64_t[]){rows}, lam_device_get("cpu"));
}


/* Batches of 12, 7 and 1 rows: replica 0 after each step = one cpu model on the batch. */
static void same_as_one_device(void **state) {
    (void)state;
    lam_device *devs[4];
    int n = dp_devices(devs, 4);
    maker mk = {0};
    lam_dp *dp = lam_dp_new(make_mlp, &mk, n, devs, NULL);
    assert_non_null(dp);
    assert_int_equal(lam_dp_count(dp), n);
    lam_module *ref = make_mlp(NULL), *r0 = lam_dp_replica(dp, 0);
    assert_ok(lam_module_to(ref, lam_device_get("cpu")));
    lam_named_tensor p[4], q[4];
    assert_int_equal(lam_named_parameters(ref, p, 4), 4);
    assert_int_equal(lam_named_parameters(r0, q, 4), 4);
    for (int k = 0; k < 4; ++k) assert_ok(lam_copy_(p[k].tensor, q[k].tensor));   /* the same start */
    lam_optim *ro = lam_sgd(ref, (lam_sgd_options){.lr = 0.2f, .momentum = 0.9f});
    lam_optim *o = lam_sgd(r0, (lam_sgd_options){.lr = 0.2f, .momentum = 0.9f});
    const int64_t rows[3] = {12, 7, 1};
    for (int s = 0; s < 3; ++s) {
        lam_scope_begin();
        lam_tensor *x, *y;
        batch(rows[s], (uint64_t)s + 1, &x, &y);
        lam_optim_zero_grad(ro);
        lam_tensor *ref_loss = lam_cross_entropy(lam_forward(ref, x), y);
        assert_ok(lam_backward(ref_loss));
        assert_ok(lam_optim_step(ro));
        double loss;
        lam_optim_zero_grad(o);
        assert_ok(lam_dp_backward(dp, x, y, ce_loss, NULL, &loss));
        assert_ok(lam_optim_step(o));
        assert_true(fabs(loss - lam_item(ref_loss)) < 1e-5);
        double e = tu_max_param_diff(ref, r0);
        if (e > 1e-5) print_error("step %d (%lld rows): replica 0 differs by %g\n", s, (long long)rows[s], e);
        assert_true(e >= 0 && e <= 1e-5);
        lam_scope_end();
    }
    assert_ok(lam_dp_sync(dp));
    for (int i = 1; i < n; ++i) assert_true(tu_max_param_diff(r0, lam_dp_replica(dp, i)) == 0.0);
    lam_optim_free(ro);
    lam_optim_free(o);
    lam_module_free(ref);
    lam_dp_free(dp);
}

/* Each replica's loss waits until every replica has entered it: they run at the same time
 * (else it times out), on distinct threads, each drawing from its own seed. */
typedef struct {
    atomic_int inside;
    int n;
    bool all_met;
    pthread_t thread[4];
    float first_draw[4];
    lam_device *devs[4];
} meeting;

static lam_tensor *meeting_loss(lam_module *m, lam_tensor *x, lam_tensor *y, void *user) {
    meeting *mt = user;
    int me = -1;
    for (int i = 0; i < mt->n; ++i)
        if (lam_module_device(m) == mt->devs[i]) me = i;
    mt->thread[me] = pthread_self();
    float v;
    lam_read(lam_rand(LAM_SHAPE(1), lam_device_get("cpu")), &v, sizeof v);
    mt->first_draw[me] = v;
    atomic_fetch_add(&mt->inside, 1);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &now);
    while (atomic_load(&mt->inside) < mt->n && now.tv_sec - t0.tv_sec < 20);
    if (atomic_load(&mt->inside) < mt->n) mt->all_met = false;
    return lam_cross_entropy(lam_forward(m, x), y);
}

static void replicas_run_together(void **state) {
    (void)state;
    meeting mt = {.all_met = true};
    mt.n = dp_devices(mt.devs, 4);
    lam_dp *dp = lam_dp_new(make_mlp, NULL, mt.n, mt.devs, &(lam_dp_options){.seed = 77});
    assert_non_null(dp);
    lam_scope_begin();
    lam_tensor *x, *y;
    batch(8, 3, &x, &y);
    assert_ok(lam_dp_backward(dp, x, y, meeting_loss, &mt, NULL));
    assert_true(mt.all_met);
    for (int i = 0; i < mt.n; ++i) {
        assert_false(pthread_equal(mt.thread[i], pthread_self()));
        for (int j = 0; j < i; ++j) assert_false(pthread_equal(mt.thread[i], mt.thread[j]));
        lam_manual_seed(77 + (uint64_t)i);   /* what replica i's thread drew first */
        float want;
        lam_read(lam_rand(LAM_SHAPE(1), lam_device_get("cpu")), &want, sizeof want);
        assert_true(mt.first_draw[i] == want);
    }
    lam_scope_end();
    lam_dp_free(dp);
}

static lam_module *make_nothing(void *user) {
    (void)user;
    return lam_nn_linear(0, -1);   /* fails with lamina's message */
}

static lam_tensor *bad_loss(lam_module *m, lam_tensor *x, lam_tensor *y, void *user) {
    (void)y, (void)user;
    return lam_matmul(lam_forward(m, x), lam_ones(LAM_SHAPE(5, 2), lam_module_device(m)));   /* (r, 3) @ (5, 2) */
}

static void bad_input(void **state) {
    (void)state;
    lam_device *devs[4];
    int n = dp_devices(devs, 4);
    lam_device *twice[2] = {devs[0], devs[0]};
    assert_null(lam_dp_new(make_mlp, NULL, 2, twice, NULL));
    assert_non_null(strstr(lam_last_error(), "lam_dp_new: devices 0 and 1 are both"));
    assert_null(lam_dp_new(make_mlp, NULL, 0, devs, NULL));
    assert_null(lam_dp_new(make_nothing, NULL, 1, devs, NULL));
    assert_non_null(strstr(lam_last_error(), "lam_dp_new: the constructor gave no replica 0"));
    if (n >= 2) {
        maker mk = {.hidden_for_replica_1 = 9};
        assert_null(lam_dp_new(make_mlp, &mk, n, devs, NULL));
        assert_non_null(strstr(lam_last_error(), "lam_dp_new: replica 1 has 0.weight f32 (9, 5) where replica 0 has "
                                                 "0.weight f32 (8, 5)"));
    }
    lam_dp *dp = lam_dp_new(make_mlp, NULL, n, devs, NULL);
    assert_non_null(dp);
    lam_scope_begin();
    lam_tensor *x, *y;
    batch(6, 1, &x, &y);
    double loss = 0;
    assert_int_equal(lam_dp_backward(dp, x, y, bad_loss, NULL, &loss), LAM_ERR_SHAPE);
    assert_true(isnan(loss));
    assert_non_null(strstr(lam_last_error(), "lam_dp_backward: replica 0 on "));
    assert_non_null(strstr(lam_last_error(), "lam_matmul: inner dimensions differ"));
    assert_int_equal(lam_dp_backward(dp, x, lam_slice(y, 0, 0, 3, 1), ce_loss, NULL, NULL), LAM_ERR_SHAPE);
    assert_non_null(strstr(lam_last_error(), "x has 6 rows but y 3"));
    lam_clear_error();   /* else NULL keeps the earlier error, the root cause */
    assert_int_equal(lam_dp_backward(dp, NULL, y, ce_loss, NULL, NULL), LAM_ERR_ARG);
    assert_ok(lam_dp_backward(dp, x, y, ce_loss, NULL, &loss));   /* and it still works */
    assert_true(loss > 0 && isfinite(loss));
    assert_null(lam_dp_replica(dp, n));
    lam_scope_end();
    lam_dp_free(dp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_one_device),
        cmocka_unit_test(replicas_run_together),
        cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
