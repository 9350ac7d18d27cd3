/* Memory: a training-step-shaped loop inside scopes makes no new device allocation after
 * its first iteration, returns every byte and handle, and keeps host RSS flat; tensors
 * kept with lam_keep outlive their scope until lam_release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

static lam_device *devs[TU_MAX_DEVICES];
static int ndevs;

static long iterations(void)
{
    const char *e = getenv("LAMINA_LOOP_ITERS");
    long n = e ? strtol(e, NULL, 10) : 10000;
    return n >= 101 ? n : 101;   /* the RSS check compares iteration 100 with the end */
}

static void print_stats(const char *when, lam_device *d)
{
    lam_pool_stats s;
    assert_ok(lam_device_pool_stats(d, &s));
    print_message("%-12s %-12s in_use %8llu  cached %8llu  peak %8llu  device_allocs %4llu  hits %llu\n",
                  lam_device_spec(d), when, (unsigned long long)s.in_use, (unsigned long long)s.cached,
                  (unsigned long long)s.peak, (unsigned long long)s.device_allocs, (unsigned long long)s.hits);
}

static void test_loop_is_flat(void **state)
{
    (void)state;
    long n = iterations();
    for (int k = 0; k < ndevs; k++) {
        lam_device *d = devs[k];
        lam_tensor *w = lam_keep(lam_randn(LAM_SHAPE(16, 8), d));
        assert_non_null(w);
        assert_ok(lam_device_synchronize(d));
        lam_pool_stats start, after1, now;
        assert_ok(lam_device_pool_stats(d, &start));
        int64_t live0 = lam_live_tensors(), rss100 = 0;
        print_stats("start", d);
        for (long i = 1; i <= n; i++) {
            lam_scope_begin();
            lam_tensor *x = lam_rand(LAM_SHAPE(4, 16), d);
            lam_tensor *y = lam_relu(lam_matmul(x, w));
            double s = lam_item(lam_sum(y));
            assert_ok(lam_scope_end());
            if (!(s >= 0)) fail_msg("iteration %ld on %s: sum %g (%s)", i, lam_device_spec(d), s, lam_last_error());
            if (lam_live_tensors() != live0)
                fail_msg("iteration %ld on %s: %lld live tensors, %lld before", i, lam_device_spec(d),
                         (long long)lam_live_tensors(), (long long)live0);
            if (i == 1) {
                assert_ok(lam_device_pool_stats(d, &after1));
                print_stats("iteration 1", d);
            }
            if (i == 100) rss100 = tu_rss_bytes();
        }
        assert_ok(lam_device_synchronize(d));
        assert_ok(lam_device_pool_stats(d, &now));
        print_stats("end", d);
        int64_t rss = tu_rss_bytes();
        print_message("%-12s host RSS %lld KiB at iteration 100, %lld KiB after %ld\n", lam_device_spec(d),
                      (long long)(rss100 / 1024), (long long)(rss / 1024), n);
        lam_release(w);
        assert_int_equal(now.device_allocs, after1.device_allocs);
        assert_int_equal(now.in_use, start.in_use);
        assert_true(now.hits > after1.hits);
#ifndef __SANITIZE_ADDRESS__   /* ASan's quarantine grows RSS by design; LSan checks leaks there */
        assert_true(rss - rss100 < 1024 * 1024);
#endif
        assert_int_equal(lam_live_tensors(), live0 - 1);
    }
}

static void test_keep_release(void **state)
{
    (void)state;
    for (int k = 0; k < ndevs; k++) {
        lam_device *d = devs[k];
        int64_t live0 = lam_live_tensors();
        lam_pool_stats s0, s1, s2;
        assert_ok(lam_device_pool_stats(d, &s0));
        lam_tensor *kept;
        lam_scope_begin();
        lam_tensor *a = lam_full(2.0f, LAM_SHAPE(1000), d);
        kept = lam_keep(lam_mul_scalar(a, 3.0f));
        lam_tensor *dropped = lam_ones(LAM_SHAPE(500), d);
        assert_non_null(dropped);
        assert_ok(lam_scope_end());
        /* a and dropped are gone, kept lives and holds its 4000 bytes */
        assert_int_equal(lam_live_tensors(), live0 + 1);
        assert_ok(lam_device_pool_stats(d, &s1));
        assert_true(s1.in_use >= s0.in_use + 4000);
        assert_true(s1.in_use < s0.in_use + 4000 + 4000 + 2000);
        lam_scope_begin();
        assert_true(lam_item(lam_sum(kept)) == 6000.0);
        assert_ok(lam_scope_end());
        lam_tensor *again = lam_retain(kept);
        lam_release(kept);
        assert_true(lam_numel(again) == 1000);   /* still alive: one reference left */
        lam_release(again);
        lam_scope_begin();
        assert_ok(lam_scope_end());
        assert_ok(lam_device_pool_stats(d, &s2));
        print_message("in_use: %llu before, %llu with kept, %llu after its release\n", (unsigned long long)s0.in_use,
                      (unsigned long long)s1.in_use, (unsigned long long)s2.in_use);
        assert_true(s2.in_use + 4000 <= s1.in_use);   /* kept's storage went back */
        /* nested scopes: the inner end releases only the inner tensors */
        lam_scope_begin();
        lam_tensor *outer = lam_zeros(LAM_SHAPE(4), d);
        int64_t mid = lam_live_tensors();
        lam_scope_begin();
        assert_non_null(lam_ones(LAM_SHAPE(4), d));
        assert_int_equal(lam_live_tensors(), mid + 1);
        assert_ok(lam_scope_end());
        assert_int_equal(lam_live_tensors(), mid);
        assert_true(lam_item(lam_sum(outer)) == 0.0);
        assert_ok(lam_scope_end());
        assert_int_equal(lam_live_tensors(), live0);
    }
}

/* An op outside any user scope adds exactly its result to the root scope: temporaries it
 * makes inside (contiguous copies, views) must not outlive it and pin its inputs. */
static void test_op_temporaries(void **state)
{
    (void)state;
    for (int k = 0; k < ndevs; k++) {
        lam_device *d = devs[k];
        lam_scope_begin();
        lam_tensor *x = lam_keep(lam_rand(LAM_SHAPE(8, 4), d)), *w = lam_keep(lam_rand(LAM_SHAPE(4, 3), d));
        assert_ok(lam_scope_end());
        int64_t live = lam_live_tensors();
        lam_tensor *r[4] = {lam_sum(x), lam_softmax(x, -1), lam_matmul(x, w), lam_add(x, lam_transpose(x, 0, 0))};
        for (int i = 0; i < 4; i++) assert_non_null(r[i]);
        int64_t added = lam_live_tensors() - live;
        for (int i = 0; i < 4; i++) lam_release(lam_keep(r[i]));
        lam_release(x);
        lam_release(w);
        /* four results and the transpose view */
        if (added != 5) fail_msg("on %s: 5 new tensors expected in the root scope, %lld live", lam_device_spec(d), (long long)added);
    }
}

static int setup(void **state)
{
    (void)state;
    ndevs = tu_devices(devs, TU_MAX_DEVICES);
    return ndevs > 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_loop_is_flat), cmocka_unit_test(test_keep_release),
                                        cmocka_unit_test(test_op_temporaries)};
    return cmocka_run_group_tests(tests, setup, NULL);
}
