/* The gradient-ready hook (lam_set_grad_hook): each leaf is reported once, as soon as its
 * gradient is final (its value then equals the value after backward), in the order backward
 * finishes them, and not before: a later layer's leaf comes while an earlier layer's gradient
 * does not exist yet. A hook's failure stops backward; the previous hook is restored. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#define MAX_SEEN 16

typedef struct {
    int n;
    lam_tensor *leaf[MAX_SEEN];
    double *grad_at_call[MAX_SEEN];      /* lam_grad(leaf) read when the hook ran */
    bool others_had_grad[MAX_SEEN][4];   /* which of the watched leaves had a gradient then */
    lam_tensor *watched[4];
    int fail_at;                         /* 1-based call that fails; 0: none */
} record;

static lam_status on_ready(lam_tensor *leaf, void *user) {
    record *r = user;
    if (r->n >= MAX_SEEN) return LAM_ERR_STATE;
    int i = r->n++;
    r->leaf[i] = leaf;
    r->grad_at_call[i] = lam_grad(leaf) ? tu_read(lam_grad(leaf)) : NULL;
    for (int k = 0; k < 4; ++k) r->others_had_grad[i][k] = r->watched[k] && lam_grad(r->watched[k]);
    if (r->fail_at == r->n) return LAM_ERR_STATE;   /* with no message: lamina writes one */
    return LAM_OK;
}

static void record_free(record *r) {
    for (int i = 0; i < r->n; ++i) free(r->grad_at_call[i]);
}

static int find(const record *r, const lam_tensor *t) {
    for (int i = 0; i < r->n; ++i)
        if (r->leaf[i] == t) return i;
    return -1;
}

static lam_tensor *leaf(int64_t rows, int64_t cols, uint64_t seed, lam_device *d) {
    double v[64];
    tu_fill_uniform(v, rows * cols, -1, 1, seed);
    return lam_requires_grad(tu_from_doubles(v, 2, (int64_t[]){rows, cols}, d), true);
}

/* The gradient read at the hook equals the gradient after backward, element for element. */
static void assert_final(const record *r, int i) {
    assert_non_null(r->grad_at_call[i]);
    double *after = tu_read(lam_grad(r->leaf[i]));
    assert_non_null(after);
    assert_memory_equal(after, r->grad_at_call[i], (size_t)lam_numel(r->leaf[i]) * sizeof *after);
    free(after);
}

/* Two layers with a shared bias used by both: y = sum(relu(x @ w1 + b) @ w2 + b). */
static void two_layers(void **state) {
    (void)state;
    lam_device *devs[TU_MAX_DEVICES];
    int nd = tu_devices(devs, TU_MAX_DEVICES);
    for (int k = 0; k < nd; ++k) {
        lam_scope_begin();
        lam_tensor *x = leaf(3, 4, 1, devs[k]), *w1 = leaf(4, 4, 2, devs[k]), *w2 = leaf(4, 4, 3, devs[k]);
        lam_tensor *b = leaf(1, 4, 4, devs[k]), *unused = leaf(2, 2, 5, devs[k]);
        lam_tensor *y = lam_sum(lam_add(lam_matmul(lam_relu(lam_add(lam_matmul(x, w1), b)), w2), b));
        assert_non_null(y);
        record r = {.watched = {w1, w2, b, x}};
        lam_grad_hook old = lam_set_grad_hook((lam_grad_hook){on_ready, &r});
        assert_ok(lam_backward(y));
        lam_set_grad_hook(old);
        assert_int_equal(r.n, 4);   /* x, w1, w2, b once each; not the unused leaf */
        assert_int_equal(find(&r, unused), -1);
        int iw1 = find(&r, w1), iw2 = find(&r, w2), ib = find(&r, b), ix = find(&r, x);
        assert_true(iw1 >= 0 && iw2 >= 0 && ib >= 0 && ix >= 0);
        assert_true(iw2 < ib && iw2 < iw1);        /* the output layer's weight first */
        assert_false(r.others_had_grad[iw2][0]);   /* w1 had no gradient yet: really early */
        assert_true(r.others_had_grad[iw2][2]);    /* b had a partial gradient, reported later */
        for (int i = 0; i < r.n; ++i) assert_final(&r, i);
        record_free(&r);
        lam_scope_end();
    }
}

/* Without a hook nothing is called; a leaf output is reported; the old hook comes back. */
static void leaf_output_and_restore(void **state) {
    (void)state;
    lam_device *d = lam_device_get("cpu");
    lam_scope_begin();
    record outer = {0}, inner = {0};
    lam_grad_hook none = lam_set_grad_hook((lam_grad_hook){on_ready, &outer});
    assert_null(none.fn);
    lam_grad_hook prev = lam_set_grad_hook((lam_grad_hook){on_ready, &inner});
    assert_ptr_equal(prev.user_data, &outer);
    lam_tensor *s = lam_requires_grad(lam_scalar(2.0f, d), true);
    assert_ok(lam_backward(s));
    assert_int_equal(inner.n, 1);
    assert_ptr_equal(inner.leaf[0], s);
    assert_true(inner.grad_at_call[0] && inner.grad_at_call[0][0] == 1.0);
    lam_set_grad_hook(prev);
    assert_ok(lam_backward(lam_mul_scalar(s, 3.0f)));
    assert_int_equal(outer.n, 1);
    assert_int_equal(inner.n, 1);
    lam_set_grad_hook(none);
    assert_ok(lam_backward(lam_mul_scalar(s, 3.0f)));
    assert_int_equal(outer.n, 1);
    assert_true(fabs(lam_item(lam_grad(s)) - 7.0) < 1e-6);   /* 1 + 3 + 3 */
    record_free(&outer);
    record_free(&inner);
    lam_scope_end();
}

/* A hook error stops backward with the hook's status and message. */
static void hook_error_stops(void **state) {
    (void)state;
    lam_device *d = lam_device_get("cpu");
    lam_scope_begin();
    lam_tensor *x = leaf(2, 3, 7, d), *w1 = leaf(3, 3, 8, d), *w2 = leaf(3, 1, 9, d);
    lam_tensor *y = lam_sum(lam_matmul(lam_tanh(lam_matmul(x, w1)), w2));
    record r = {.fail_at = 1};
    lam_grad_hook old = lam_set_grad_hook((lam_grad_hook){on_ready, &r});
    assert_int_equal(lam_backward(y), LAM_ERR_STATE);
    lam_set_grad_hook(old);
    assert_int_equal(r.n, 1);
    assert_ptr_equal(r.leaf[0], w2);
    assert_string_equal(lam_last_error(), "lam_backward: the gradient hook returned LAM_ERR_STATE");
    assert_null(lam_grad(w1));   /* backward stopped before the first layer */
    record_free(&r);
    lam_scope_end();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_layers),
        cmocka_unit_test(leaf_output_and_restore),
        cmocka_unit_test(hook_error_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
