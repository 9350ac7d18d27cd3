/* Tensors on every device: creation, views, copies and fills between layouts and devices,
 * dtype conversions (f16 rounding agrees bit for bit with the host), random numbers. The
 * ops themselves are checked by the op harness (test_ops.c). */
#include <math.h>
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

#define SENT 12345.0f   /* never produced by a test input or output */
#define GUARD 16        /* guard elements after every read buffer */

/* ---- creation, views, copies, devices, random numbers ------------------------------------ */

/* Reads t (f32) and compares with want[] exactly; names what on failure. */
static void expect_f32(lam_tensor *t, const float *want, int64_t n, const char *what, lam_device *d)
{
    assert_non_null(t);
    if (lam_numel(t) != n) fail_msg("%s on %s: numel %lld, want %lld", what, lam_device_spec(d), (long long)lam_numel(t), (long long)n);
    float *got = malloc((size_t)(n + GUARD) * sizeof *got);
    for (int64_t i = 0; i < n + GUARD; i++) got[i] = SENT;
    assert_ok(lam_read(t, got, (size_t)(n + GUARD) * sizeof *got));
    for (int64_t i = 0; i < n; i++)
        if (got[i] != want[i]) fail_msg("%s on %s: [%lld] = %g, want %g", what, lam_device_spec(d), (long long)i, got[i], want[i]);
    for (int64_t i = n; i < n + GUARD; i++)
        if (got[i] != SENT) fail_msg("%s on %s: lam_read wrote past the end", what, lam_device_spec(d));
    free(got);
}

static void expect_shape(lam_tensor *t, int nd, const int64_t *sh, const char *what)
{
    assert_non_null(t);
    if (lam_ndim(t) != nd) fail_msg("%s: ndim %d, want %d", what, lam_ndim(t), nd);
    for (int i = 0; i < nd; i++)
        if (lam_dim(t, i) != sh[i]) fail_msg("%s: dim %d is %lld, want %lld", what, i, (long long)lam_dim(t, i), (long long)sh[i]);
}

static void test_creation(void **state)
{
    (void)state;
    for (int k = 0; k < ndevs; k++) {
        lam_device *d = devs[k];
        lam_scope_begin();
        float z[6] = {0}, o[6] = {1, 1, 1, 1, 1, 1}, f[6] = {2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f};
        expect_f32(lam_zeros(LAM_SHAPE(2, 3), d), z, 6, "zeros", d);
        expect_f32(lam_ones(LAM_SHAPE(2, 3), d), o, 6, "ones", d);
        expect_f32(lam_full(2.5f, LAM_SHAPE(3, 2), d), f, 6, "full", d);
        lam_tensor *s = lam_scalar(3.5f, d);
        assert_int_equal(lam_ndim(s), 0);
        assert_int_equal(lam_numel(s), 1);
        assert_true(lam_item(s) == 3.5);
        assert_ptr_equal(lam_tensor_device(s), d);
        float v[6] = {1.5f, -2, 3.25f, 1e-20f, -1e20f, 0.1f};
        lam_tensor *t = lam_from_data(v, LAM_F32, LAM_SHAPE(2, 3), d);
        expect_f32(t, v, 6, "from_data f32", d);
        assert_true(lam_is_contiguous(t));
        expect_f32(lam_zeros_like(t), z, 6, "zeros_like", d);
        expect_f32(lam_ones_like(t), o, 6, "ones_like", d);
        expect_f32(lam_full_like(t, 2.5f), f, 6, "full_like", d);
        int32_t i32[5] = {-5, 0, 7, 2147483647, -2147483647 - 1}, r32[5 + GUARD];
        lam_tensor *ti = lam_from_data(i32, LAM_I32, LAM_SHAPE(5), d);
        assert_int_equal(lam_tensor_dtype(ti), LAM_I32);
        for (int i = 0; i < 5 + GUARD; i++) r32[i] = 77;
        assert_ok(lam_read(ti, r32, sizeof r32));
        assert_memory_equal(r32, i32, sizeof i32);
        assert_int_equal(r32[5], 77);
        int64_t i64[4] = {-(1ll << 40), 3, 1ll << 50, 0}, r64[4];
        lam_tensor *tl = lam_from_data(i64, LAM_I64, LAM_SHAPE(2, 2), d);
        assert_int_equal(lam_tensor_dtype(tl), LAM_I64);
        assert_ok(lam_read(tl, r64, sizeof r64));
        assert_memory_equal(r64, i64, sizeof i64);
        lam_tensor *e = lam_empty(LAM_I64, LAM_SHAPE(3, 0, 2), d);
        assert_non_null(e);
        assert_int_equal(lam_numel(e), 0);
        lam_scope_end();
    }
}

static void test_views(void **state)
{
    (void)state;
    for (int k = 0; k < ndevs; k++) {
        lam_device *d = devs[k];
        lam_scope_begin();
        float v[24], w[24];
        for (int i = 0; i < 24; i++) v[i] = (float)i;
        lam_tensor *t = lam_from_data(v, LAM_F32, LAM_SHAPE(2, 3, 4), d);   /* t[a][b][c] = 12a + 4b + c */
        lam_tensor *r = lam_reshape(t, LAM_SHAPE(4, -1));
        expect_shape(r, 2, (int64_t[]){4, 6}, "reshape -1");
        expect_f32(r, v, 24, "reshape", d);
        lam_tensor *tt = lam_transpose(t, 0, 2);   /* (4, 3, 2): tt[c][b][a] */
        expect_shape(tt, 3, (int64_t[]){4, 3, 2}, "transpose");
        assert_false(lam_is_contiguous(tt));
        for (int c = 0, i = 0; c < 4; c++)
            for (int b = 0; b < 3; b++)
                for (int a = 0; a < 2; a++) w[i++] = (float)(12 * a + 4 * b + c);
        expect_f32(tt, w, 24, "transpose", d);
        expect_f32(lam_reshape(tt, LAM_SHAPE(-1)), w, 24, "reshape of a transposed tensor", d);
        expect_f32(lam_reshape(tt, LAM_SHAPE(2, 2, 6)), w, 24, "reshape of a transposed tensor", d);
        lam_tensor *ct = lam_contiguous(tt);
        assert_true(lam_is_contiguous(ct));
        expect_f32(ct, w, 24, "contiguous", d);
        lam_tensor *p = lam_permute(t, (const int[]){2, 0, 1});   /* (4, 2, 3): p[c][a][b] */
        expect_shape(p, 3, (int64_t[]){4, 2, 3}, "permute");
        for (int c = 0, i = 0; c < 4; c++)
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 3; b++) w[i++] = (float)(12 * a + 4 * b + c);
        expect_f32(p, w, 24, "permute", d);
        lam_tensor *sl = lam_slice(t, 2, 1, 10, 2);   /* c = 1, 3 */
        expect_shape(sl, 3, (int64_t[]){2, 3, 2}, "slice with step");
        for (int a = 0, i = 0; a < 2; a++)
            for (int b = 0; b < 3; b++)
                for (int c = 1; c < 4; c += 2) w[i++] = (float)(12 * a + 4 * b + c);
        expect_f32(sl, w, 12, "slice with step", d);
        lam_tensor *sl2 = lam_slice(sl, 1, 1, 3, 1);   /* a slice of a slice: b = 1, 2 */
        for (int a = 0, i = 0; a < 2; a++)
            for (int b = 1; b < 3; b++)
                for (int c = 1; c < 4; c += 2) w[i++] = (float)(12 * a + 4 * b + c);
        expect_f32(sl2, w, 8, "slice of a slice", d);
        lam_tensor *u = lam_unsqueeze(t, 1);
        expect_shape(u, 4, (int64_t[]){2, 1, 3, 4}, "unsqueeze");
        expect_shape(lam_unsqueeze(t, -1), 4, (int64_t[]){2, 3, 4, 1}, "unsqueeze -1");
        lam_tensor *sq = lam_squeeze(u, 1);
        expect_shape(sq, 3, (int64_t[]){2, 3, 4}, "squeeze");
        expect_f32(sq, v, 24, "squeeze", d);
        lam_tensor *fl = lam_flatten(t, 1, 2);
        expect_shape(fl, 2, (int64_t[]){2, 12}, "flatten");
        expect_f32(fl, v, 24, "flatten", d);
        expect_shape(lam_flatten(tt, 0, -1), 1, (int64_t[]){24}, "flatten of a transposed tensor");
        expect_f32(lam_flatten(tt, 0, -1), (float[24]){0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23}, 24, "flatten of a transposed tensor", d);
        lam_tensor *row = lam_from_data(v, LAM_F32, LAM_SHAPE(1, 4), d);
        lam_tensor *ex = lam_expand(row, LAM_SHAPE(3, 4));
        expect_shape(ex, 2, (int64_t[]){3, 4}, "expand");
        expect_f32(ex, (float[12]){0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}, 12, "expand", d);
        lam_tensor *col = lam_from_data(v, LAM_F32, LAM_SHAPE(2, 1), d);
        expect_f32(lam_expand(col, LAM_SHAPE(3, 2, 3)), (float[18]){0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1}, 18, "expand with a new dim", d);
        /* clone: a copy with its own storage */
        lam_tensor *cl = lam_clone(t);
        assert_ok(lam_fill_(cl, -1.0f));
        expect_f32(t, v, 24, "clone leaves its source", d);
        /* views share storage: filling a slice shows through the parent */
        assert_ok(lam_fill_(lam_slice(t, 0, 1, 2, 1), -3.0f));
        memcpy(w, v, sizeof v);
        for (int i = 12; i < 24; i++) w[i] = -3.0f;
        expect_f32(t, w, 24, "fill of a view", d);
        /* to_dtype: floats truncate toward zero */
        float fv[5] = {-2.7f, -0.5f, 0.5f, 2.7f, 100.9f};
        lam_tensor *ft = lam_from_data(fv, LAM_F32, LAM_SHAPE(5), d);
        int32_t i32[5];
        int64_t i64[5];
        lam_tensor *ti = lam_to_dtype(ft, LAM_I32), *tl = lam_to_dtype(ft, LAM_I64);
        assert_int_equal(lam_tensor_dtype(ti), LAM_I32);
        assert_int_equal(lam_tensor_dtype(tl), LAM_I64);
        assert_ok(lam_read(ti, i32, sizeof i32));
        assert_ok(lam_read(tl, i64, sizeof i64));
        static const int want[5] = {-2, 0, 0, 2, 100};
        for (int i = 0; i < 5; i++) {
            assert_int_equal(i32[i], want[i]);
            assert_int_equal(i64[i], want[i]);
        }
        expect_f32(lam_to_dtype(tl, LAM_F32), (float[5]){-2, 0, 0, 2, 100}, 5, "to_dtype i64 -> f32", d);
        lam_scope_end();
    }
}

static void test_copy_fill(void **state)
{
    (void)state;
    for (int k = 0; k < ndevs; k++)
        for (int m = 0; m < ndevs; m++) {
            lam_device *d = devs[k], *ds = devs[m];
            lam_scope_begin();
            float par[24], want[24], src[12];
            for (int i = 0; i < 24; i++) par[i] = want[i] = SENT;
            for (int i = 0; i < 12; i++) src[i] = (float)(i + 1);
            /* lam_copy_ into a sliced view: columns 1, 3, 5 of a (4, 6) sentinel parent */
            lam_tensor *parent = lam_from_data(par, LAM_F32, LAM_SHAPE(4, 6), d);
            lam_tensor *dst = lam_slice(parent, 1, 1, 6, 2);
            assert_ok(lam_copy_(dst, lam_from_data(src, LAM_F32, LAM_SHAPE(4, 3), ds)));
            for (int i = 0; i < 12; i++) want[(i / 3) * 6 + 2 * (i % 3) + 1] = src[i];
            expect_f32(parent, want, 24, "lam_copy_ into a slice", d);
            /* a transposed source */
            lam_tensor *ts = lam_transpose(lam_from_data(src, LAM_F32, LAM_SHAPE(3, 4), ds), 0, 1);
            assert_ok(lam_copy_(dst, ts));
            for (int i = 0; i < 12; i++) want[(i / 3) * 6 + 2 * (i % 3) + 1] = src[(i % 3) * 4 + i / 3];
            expect_f32(parent, want, 24, "lam_copy_ from a transposed source", d);
            /* lam_write into a strided view: column 0 */
            assert_ok(lam_write(lam_slice(parent, 1, 0, 1, 1), src, 4 * sizeof(float)));
            for (int r = 0; r < 4; r++) want[r * 6] = src[r];
            expect_f32(parent, want, 24, "lam_write into a view", d);
            /* lam_fill_ of a view: rows 1..2, columns 0, 2, 4 */
            assert_ok(lam_fill_(lam_slice(lam_slice(parent, 0, 1, 3, 1), 1, 0, 6, 2), 7.0f));
            for (int r = 1; r < 3; r++)
                for (int c = 0; c < 6; c += 2) want[r * 6 + c] = 7.0f;
            expect_f32(parent, want, 24, "lam_fill_ of a view", d);
            lam_scope_end();
        }
}

static void test_to_devices(void **state)
{
    (void)state;
    float v[12];
    for (int i = 0; i < 12; i++) v[i] = (float)i * 0.5f - 2;
    float vt[12];
    for (int i = 0; i < 12; i++) vt[i] = v[(i % 3) * 4 + i / 3];
    int same_device_copies = 0;   /* lam_to onto t's own device must share t's storage */
    for (int k = 0; k < ndevs; k++)
        for (int m = 0; m < ndevs; m++) {
            lam_scope_begin();
            lam_tensor *a = lam_from_data(v, LAM_F32, LAM_SHAPE(3, 4), devs[k]);
            lam_tensor *b = lam_to(a, devs[m]);
            assert_non_null(b);
            assert_ptr_equal(lam_tensor_device(b), devs[m]);
            expect_f32(b, v, 12, "lam_to", devs[m]);
            if (k == m) {   /* a write through a shows through b: no copy was made */
                assert_ok(lam_fill_(a, 7.0f));
                if (lam_item(lam_max(b)) != 7.0) same_device_copies++;
                assert_ok(lam_write(a, v, sizeof v));
            }
            lam_tensor *c = lam_to(lam_transpose(a, 0, 1), devs[m]);
            expect_shape(c, 2, (int64_t[]){4, 3}, "lam_to of a view");
            expect_f32(c, vt, 12, "lam_to of a transposed view", devs[m]);
            int64_t l[3] = {5, -1, 1ll << 40}, r[3];
            lam_tensor *li = lam_to(lam_from_data(l, LAM_I64, LAM_SHAPE(3), devs[k]), devs[m]);
            assert_ok(lam_read(li, r, sizeof r));
            assert_memory_equal(l, r, sizeof l);
            lam_scope_end();
        }
    if (same_device_copies) fail_msg("lam_to onto the tensor's own device copied the data (%d devices)", same_device_copies);
}

static void test_random(void **state)
{
    (void)state;
    enum { N = 100000 };
    float *first_u = malloc(N * sizeof(float)), *u = malloc(N * sizeof(float));
    double *first_n = malloc(N * sizeof(double));
    for (int k = 0; k < ndevs; k++) {
        lam_device *d = devs[k];
        lam_scope_begin();
        lam_manual_seed(42);
        assert_ok(lam_read(lam_rand(LAM_SHAPE(N), d), u, N * sizeof(float)));
        double mean = 0;
        for (int i = 0; i < N; i++) {
            if (!(u[i] >= 0.0f && u[i] < 1.0f)) fail_msg("rand on %s: [%d] = %g outside [0, 1)", lam_device_spec(d), i, u[i]);
            mean += u[i];
        }
        mean /= N;
        print_message("rand on %s: mean of %d = %.5f\n", lam_device_spec(d), N, mean);
        assert_true(fabs(mean - 0.5) < 0.01);
        if (k == 0) memcpy(first_u, u, N * sizeof(float));
        else if (memcmp(first_u, u, N * sizeof(float)) != 0)
            fail_msg("rand on %s differs from %s with the same seed", lam_device_spec(d), lam_device_spec(devs[0]));
        /* the counter advances: the next call gives other numbers */
        float nx[8];
        assert_ok(lam_read(lam_rand(LAM_SHAPE(8), d), nx, sizeof nx));
        assert_memory_not_equal(nx, u, sizeof nx);
        lam_manual_seed(7);
        lam_tensor *n = lam_randn(LAM_SHAPE(N), d);
        double *g = tu_read(n);
        assert_non_null(g);
        double m1 = 0, m2 = 0;
        for (int i = 0; i < N; i++) {
            m1 += g[i];
            m2 += g[i] * g[i];
        }
        m1 /= N;
        m2 = m2 / N - m1 * m1;
        print_message("randn on %s: mean %.4f variance %.4f\n", lam_device_spec(d), m1, m2);
        assert_true(fabs(m1) < 0.02 && fabs(m2 - 1) < 0.03);
        if (k == 0) memcpy(first_n, g, N * sizeof(double));
        else {
            double err = tu_max_abs_diff(g, first_n, N);
            if (err > 1e-6 * 8) fail_msg("randn on %s differs from %s by %g", lam_device_spec(d), lam_device_spec(devs[0]), err);
            assert_true(tu_norm_err(g, first_n, N) <= 1e-6);
        }
        free(g);
        lam_tensor *ur = lam_rand_uniform(-2, 3, LAM_SHAPE(1000), d);
        double *h = tu_read(ur);
        for (int i = 0; i < 1000; i++) assert_true(h[i] >= -2 && h[i] < 3);
        free(h);
        lam_scope_end();
    }
    free(first_u);
    free(u);
    free(first_n);
}

/* ---- f16: conversions bit for bit with an independent reference ------------------------ */

/* The exact value of a half (1 sign, 5 exponent, 10 mantissa bits). */
static double half_value(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 31 ? (m ? NAN : INFINITY) : e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);
    return h & 0x8000 ? -v : v;
}

/* x rounded to the nearest half, ties to an even mantissa: the closest of the 31743 finite
 * positive halves by bisection, then the sign. Overflow past the largest half's midpoint
 * to the next is infinity. */
static uint16_t half_of(double x)
{
    if (isnan(x)) return 0x7e00;
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    double a = fabs(x);
    if (a >= 65520.0) return sign | 0x7c00;
    uint16_t lo = 0, hi = 0x7bff;
    while (hi - lo > 1) {
        uint16_t mid = (uint16_t)((lo + hi) / 2);
        if (half_value(mid) <= a) lo = mid;
        else hi = mid;
    }
    double dl = a - half_value(lo), dh = half_value(hi) - a;
    uint16_t h = dl < dh ? lo : dh < dl ? hi : (lo & 1 ? hi : lo);
    return sign | h;
}

static void test_f16(void **state)
{
    (void)state;
    enum { N = 65536, M = 4096 };
    uint16_t *all = malloc(N * sizeof *all), *back = malloc(M * sizeof *back), *want = malloc(M * sizeof *want);
    float *f = malloc(N * sizeof *f), *xs = malloc(M * sizeof *xs);
    for (int i = 0; i < N; i++) all[i] = (uint16_t)i;
    /* floats near every kind of rounding case: ties, subnormals, overflow, signed zeros */
    double edges[] = {0.0, -0.0, 65504.0, 65519.99, 65520.0, 1e6, 5.960464477539063e-08, 2.9802322387695312e-08,
                      2.98023224e-08, 6.103515625e-05, 6.1e-05, 1.0 + 1.0 / 2048, 1.0 + 3.0 / 2048, -2.0 - 1.0 / 1024};
    int ne = (int)(sizeof edges / sizeof *edges);
    double *u = malloc(M * sizeof *u);
    tu_fill_uniform(u, M, -1, 1, 5);
    for (int i = 0; i < M; i++) {
        xs[i] = i < ne ? (float)edges[i] : (float)(u[i] * ldexp(1.0, (i % 40) - 26));
        want[i] = half_of((double)xs[i]);
    }
    for (int k = 0; k < ndevs; k++) {
        lam_device *d = devs[k];
        lam_scope_begin();
        lam_tensor *h = lam_from_data(all, LAM_F16, LAM_SHAPE(N), d);
        assert_int_equal(lam_tensor_dtype(h), LAM_F16);
        assert_ok(lam_read(lam_to_dtype(h, LAM_F32), f, N * sizeof *f));
        for (int i = 0; i < N; i++) {
            double v = half_value((uint16_t)i);
            if (!(f[i] == v || (isnan(v) && isnan(f[i]))))
                fail_msg("f16 0x%04x -> f32 on %s: %g, want %g", i, lam_device_spec(d), f[i], v);
        }
        lam_tensor *x = lam_from_data(xs, LAM_F32, LAM_SHAPE(M), d);
        assert_ok(lam_read(lam_to_dtype(x, LAM_F16), back, M * sizeof *back));
        for (int i = 0; i < M; i++)
            if (back[i] != want[i]) fail_msg("f32 %.9g -> f16 on %s: 0x%04x, want 0x%04x", xs[i], lam_device_spec(d), back[i], want[i]);
        /* fills and item */
        lam_tensor *z = lam_zeros(LAM_SHAPE(3), d);
        lam_tensor *hf = lam_to_dtype(z, LAM_F16);
        assert_ok(lam_fill_(hf, 1.5f));
        assert_true(lam_item(lam_sum(hf)) == 4.5);
        assert_true(lam_item(lam_reshape(lam_slice(hf, 0, 1, 2, 1), LAM_SHAPE(-1))) == 1.5);
        lam_scope_end();
    }
    free(all);
    free(back);
    free(want);
    free(f);
    free(xs);
    free(u);
}

static int setup(void **state)
{
    (void)state;
    ndevs = tu_devices(devs, TU_MAX_DEVICES);
    for (int i = 0; i < ndevs; i++) print_message("device %s\n", lam_device_name(devs[i]));
    return ndevs > 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_creation),  cmocka_unit_test(test_views),
        cmocka_unit_test(test_copy_fill),   cmocka_unit_test(test_to_devices), cmocka_unit_test(test_random),
        cmocka_unit_test(test_f16),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
