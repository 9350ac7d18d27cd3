/* The cpu device's thread count: lam_set_num_threads refuses bad counts and changes nothing,
 * and the ops of a training step give the same bits with 1 thread as with 2 and 7: GEMMs
 * (one-thread OpenBLAS calls on blocks cut by shape) and the convolution (chunks in
 * parallel, checked against direct loops too) included. oneDNN's convolutions are left out
 * (LAMINA_DNNL=0 in tests/CMakeLists.txt): their weight gradient may not keep the bits. */
#define _POSIX_C_SOURCE 200809L   /* setenv */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

static void bad_counts_are_errors(void **state) {
    (void)state;
    int before = lam_get_num_threads();
    assert_true(before >= 1);
    assert_int_equal(lam_set_num_threads(0), LAM_ERR_ARG);
    assert_non_null(strstr(lam_last_error(), "lam_set_num_threads"));
    assert_int_equal(lam_set_num_threads(-3), LAM_ERR_ARG);
    assert_int_equal(lam_set_num_threads(100000), LAM_ERR_ARG);
    assert_int_equal(lam_get_num_threads(), before);
    lam_clear_error();
}

enum { N = 600000, ROWS = 600, COLS = 1000 };   /* over the size that goes parallel */

/* Sum, row softmax, layer norm, sigmoid, GELU, tanh, exp, matmul and their gradients on cpu, into out[4]. */
static void step(float *out) {
    lam_device *cpu = lam_device_get("cpu");
    lam_scope_begin();
    lam_manual_seed(7);
    lam_tensor *x = lam_requires_grad(lam_randn(LAM_SHAPE(ROWS, COLS), cpu), true);
    lam_tensor *h = lam_add(lam_gelu(x), lam_tanh(lam_exp(lam_mul_scalar(x, 0.5f))));   /* vector loops, split anywhere */
    lam_tensor *y = lam_layer_norm(lam_softmax(lam_sigmoid(h), -1), LAM_SHAPE(COLS), NULL, NULL, 1e-5f);
    lam_tensor *w = lam_randn(LAM_SHAPE(COLS, 96), cpu);   /* GEMMs: cut into row blocks */
    lam_tensor *loss = lam_add(lam_sum(lam_mul(y, y)), lam_sum(lam_relu(lam_matmul(y, w))));
    assert_int_equal(lam_backward(loss), LAM_OK);
    out[0] = (float)lam_item(loss);
    out[1] = (float)lam_item(lam_sum(lam_grad(x)));
    out[2] = (float)lam_item(lam_sum(lam_mul(lam_grad(x), lam_grad(x))));
    out[3] = (float)lam_item(lam_sum(lam_reshape(x, LAM_SHAPE(N))));
    lam_scope_end();
}

static void same_bits_for_any_count(void **state) {
    (void)state;
    float one[4], two[4], many[4];
    assert_int_equal(lam_set_num_threads(1), LAM_OK);
    step(one);
    assert_int_equal(lam_set_num_threads(2), LAM_OK);
    assert_int_equal(lam_get_num_threads(), 2);
    step(two);
    assert_int_equal(lam_set_num_threads(7), LAM_OK);   /* more threads than cores works */
    step(many);
    assert_memory_equal(one, two, sizeof one);
    assert_memory_equal(one, many, sizeof one);
}

/* A convolution of CN images of (CC, CH, CW), one image per chunk: many chunks per
 * weight-gradient slot. */
enum { CN = 150, CC = 2, CH = 5, CW = 4, OC = 3, K = 3, OH = CH, OW = CW };
#define XI(n, c, h, w) ((((n) * CC + (c)) * CH + (h)) * CW + (w))
#define WI(o, c, i, j) ((((o) * CC + (c)) * K + (i)) * K + (j))
#define YI(n, o, h, w) ((((n) * OC + (o)) * OH + (h)) * OW + (w))

typedef struct { float y[CN * OC * OH * OW], dx[CN * CC * CH * CW], dw[OC * CC * K * K], db[OC]; } conv_out;

/* y = conv(x, w, b) with padding 1 and loss = sum(y * u): dy = u. */
static void conv_step(conv_out *out) {
    lam_device *cpu = lam_device_get("cpu");
    lam_scope_begin();
    lam_manual_seed(11);
    lam_tensor *x = lam_requires_grad(lam_randn(LAM_SHAPE(CN, CC, CH, CW), cpu), true);
    lam_tensor *w = lam_requires_grad(lam_randn(LAM_SHAPE(OC, CC, K, K), cpu), true);
    lam_tensor *b = lam_requires_grad(lam_randn(LAM_SHAPE(OC), cpu), true);
    lam_tensor *u = lam_randn(LAM_SHAPE(CN, OC, OH, OW), cpu);
    lam_tensor *y = lam_conv2d(x, w, b, LAM_HW(1), LAM_HW(1), LAM_HW(1), 1);
    assert_int_equal(lam_backward(lam_sum(lam_mul(y, u))), LAM_OK);
    assert_int_equal(lam_read(y, out->y, sizeof out->y), LAM_OK);
    assert_int_equal(lam_read(lam_grad(x), out->dx, sizeof out->dx), LAM_OK);
    assert_int_equal(lam_read(lam_grad(w), out->dw, sizeof out->dw), LAM_OK);
    assert_int_equal(lam_read(lam_grad(b), out->db, sizeof out->db), LAM_OK);
    lam_scope_end();
}

/* The same convolution by direct loops in double, from the same random inputs. */
static void conv_direct(conv_out *ref) {
    static float x[CN * CC * CH * CW], u[CN * OC * OH * OW];
    float w[OC * CC * K * K], b[OC];
    static double y[CN * OC * OH * OW], dx[CN * CC * CH * CW];
    double dw[OC * CC * K * K] = {0}, db[OC] = {0};
    lam_device *cpu = lam_device_get("cpu");
    lam_scope_begin();
    lam_manual_seed(11);
    assert_int_equal(lam_read(lam_randn(LAM_SHAPE(CN, CC, CH, CW), cpu), x, sizeof x), LAM_OK);
    assert_int_equal(lam_read(lam_randn(LAM_SHAPE(OC, CC, K, K), cpu), w, sizeof w), LAM_OK);
    assert_int_equal(lam_read(lam_randn(LAM_SHAPE(OC), cpu), b, sizeof b), LAM_OK);
    assert_int_equal(lam_read(lam_randn(LAM_SHAPE(CN, OC, OH, OW), cpu), u, sizeof u), LAM_OK);
    lam_scope_end();
    memset(dx, 0, sizeof dx);
    for (int n = 0; n < CN; ++n)
        for (int o = 0; o < OC; ++o)
            for (int h = 0; h < OH; ++h)
                for (int v = 0; v < OW; ++v) {
                    double s = b[o], g = u[YI(n, o, h, v)];
                    db[o] += g;
                    for (int c = 0; c < CC; ++c)
                        for (int i = 0; i < K; ++i)
                            for (int j = 0; j < K; ++j) {
                                int r = h + i - 1, q = v + j - 1;
                                if (r < 0 || r >= CH || q < 0 || q >= CW) continue;
                                s += (double)w[WI(o, c, i, j)] * x[XI(n, c, r, q)];
                                dw[WI(o, c, i, j)] += g * x[XI(n, c, r, q)];
                                dx[XI(n, c, r, q)] += g * w[WI(o, c, i, j)];
                            }
                    y[YI(n, o, h, v)] = s;
                }
    for (size_t i = 0; i < sizeof y / sizeof *y; ++i) ref->y[i] = (float)y[i];
    for (size_t i = 0; i < sizeof dx / sizeof *dx; ++i) ref->dx[i] = (float)dx[i];
    for (size_t i = 0; i < sizeof dw / sizeof *dw; ++i) ref->dw[i] = (float)dw[i];
    for (int i = 0; i < OC; ++i) ref->db[i] = (float)db[i];
}

static void expect_near(const float *got, const float *want, size_t n, const char *what) {
    for (size_t i = 0; i < n; ++i)
        if (fabsf(got[i] - want[i]) > 1e-4f * (1.0f + fabsf(want[i])))
            fail_msg("conv %s[%zu]: %g, direct loops %g", what, i, (double)got[i], (double)want[i]);
}

static void conv_chunks_for_any_count(void **state) {
    (void)state;
    static conv_out ref, one, two, many;
    assert_int_equal(setenv("LAMINA_CONV_CHUNK", "1", 1), 0);   /* one image per chunk */
    conv_direct(&ref);
    assert_int_equal(lam_set_num_threads(1), LAM_OK);
    conv_step(&one);
    assert_int_equal(lam_set_num_threads(2), LAM_OK);
    conv_step(&two);
    assert_int_equal(lam_set_num_threads(7), LAM_OK);
    conv_step(&many);
    unsetenv("LAMINA_CONV_CHUNK");
    expect_near(one.y, ref.y, sizeof ref.y / sizeof(float), "y");
    expect_near(one.dx, ref.dx, sizeof ref.dx / sizeof(float), "dx");
    expect_near(one.dw, ref.dw, sizeof ref.dw / sizeof(float), "dw");
    expect_near(one.db, ref.db, OC, "db");
    assert_memory_equal(&one, &two, sizeof one);
    assert_memory_equal(&one, &many, sizeof one);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_counts_are_errors),
        cmocka_unit_test(same_bits_for_any_count),
        cmocka_unit_test(conv_chunks_for_any_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
