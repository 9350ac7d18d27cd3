/* Matrix products with NumPy rules, on the backend's (strided, batched) GEMM. */
#include "ops/ops_impl.h"

/* How GEMM reads one operand: transposed or not, leading dim, batch stride. */
typedef struct {
    lam_tensor *t;   /* the tensor it reads (the operand, or a contiguous copy) */
    bool trans;
    int64_t ld, batch_stride;
} gemm_operand;

/* The batch dims of a broadcast view collapse to one stride if they step uniformly, or
 * all broadcast (stride 0); anything else needs a copy. */
static bool batch_stride(const lam_view *v, int nb, int64_t *out) {
    int64_t step = 0, expect = 0;
    bool first = true;
    for (int i = nb - 1; i >= 0; --i) {
        if (v->shape[i] == 1) continue;
        if (first) {
            step = v->stride[i];
            expect = step * v->shape[i];
            first = false;
        } else if (v->stride[i] != expect) {
            return false;
        } else {
            expect *= v->shape[i];
        }
    }
    *out = step;
    return true;
}

/* Describes x (..., rows, cols) for GEMM under the batch shape, copying only if it must. */
static bool prepare(lam_tensor *x, int nb, const int64_t *batch, gemm_operand *op) {
    int64_t shape[LAM_MAX_DIMS];
    for (int i = 0; i < nb; ++i) shape[i] = batch[i];
    int64_t rows = x->shape[x->ndim - 2], cols = x->shape[x->ndim - 1];
    shape[nb] = rows;
    shape[nb + 1] = cols;
    lam_view v = lam_broadcast_view(x, nb + 2, shape);
    int64_t rs = v.stride[nb], cs = v.stride[nb + 1];
    op->t = x;
    if ((cs == 1 || cols == 1) && (rows == 1 || rs >= cols) && batch_stride(&v, nb, &op->batch_stride)) {
        op->trans = false;
        op->ld = rows == 1 ? cols : rs;
        return true;
    }
    if ((rs == 1 || rows == 1) && (cols == 1 || cs >= rows) && batch_stride(&v, nb, &op->batch_stride)) {
        op->trans = true;
        op->ld = cols == 1 ? rows : cs;
        return true;
    }
    op->t = lam_contiguous(lam_expand(x, nb + 2, shape));   /* a layout GEMM cannot read */
    op->trans = false;
    op->ld = cols;
    op->batch_stride = rows * cols;
    return op->t != NULL;
}

static lam_tensor *matmul_forward(lam_tensor *a, lam_tensor *b);

/* A contiguous (..., m, k) times a matrix (k, n) is one GEMM of (... * m) rows: no batch. */
static lam_tensor *matmul_rows(lam_tensor *a, lam_tensor *b) {
    int64_t k = a->shape[a->ndim - 1], shape[LAM_MAX_DIMS], flat[2] = {lam_numel(a) / (k ? k : 1), k}, strides[2] = {k, 1};
    lam_tensor *c = matmul_forward(lam_tensor_view(a, 2, flat, strides, a->offset), b);
    if (!c) return NULL;
    for (int i = 0; i < a->ndim; ++i) shape[i] = a->shape[i];
    shape[a->ndim - 1] = b->shape[1];
    int64_t stride[LAM_MAX_DIMS];
    lam_contiguous_strides(a->ndim, shape, stride);
    return lam_tensor_view(c, a->ndim, shape, stride, c->offset);
}

static lam_tensor *matmul_forward(lam_tensor *a, lam_tensor *b) {
    if (b->ndim == 2 && a->ndim > 2 && lam_is_contiguous(a) && a->shape[a->ndim - 1] > 0) return matmul_rows(a, b);
    int64_t batch[LAM_MAX_DIMS];   /* batch dims broadcast like elementwise ops */
    int nb = lam_broadcast_shapes("lam_matmul", a->ndim - 2, a->shape, b->ndim - 2, b->shape, batch);
    if (nb < 0) return NULL;
    if (nb + 2 > LAM_MAX_DIMS) LAM_FAIL_NULL(LAM_ERR_SHAPE, "lam_matmul: more than %d dimensions", LAM_MAX_DIMS);
    gemm_operand A, B;
    if (!prepare(a, nb, batch, &A) || !prepare(b, nb, batch, &B)) return NULL;
    int64_t m = a->shape[a->ndim - 2], k = a->shape[a->ndim - 1], n = b->shape[b->ndim - 1];
    batch[nb] = m;
    batch[nb + 1] = n;
    lam_tensor *c = lam_tensor_alloc(a->dtype, nb + 2, batch, LAM_DEV(a));
    if (!c) return NULL;
    int64_t count = lam_shape_numel(nb, batch);
    if (count * m * n == 0) return c;
    if (k == 0) return lam_fill_(c, 0.0f) == LAM_OK ? c : NULL;
    lam_gemm_args g = {
        .dtype = a->dtype, .trans_a = A.trans, .trans_b = B.trans, .m = m, .n = n, .k = k, .batch = count, .alpha = 1.0f, .beta = 0.0f,
        .a = A.t->storage->buf, .a_off = A.t->offset, .lda = A.ld, .a_stride = A.batch_stride,
        .b = B.t->storage->buf, .b_off = B.t->offset, .ldb = B.ld, .b_stride = B.batch_stride,
        .c = c->storage->buf, .c_off = 0, .ldc = n, .c_stride = m * n,
    };
    return lam_run_gemm("lam_matmul", LAM_DEV(a), &g) == LAM_OK ? c : NULL;
}

/* True when t's last two dims are stored transposed (t came from lam_transpose). */
static bool stored_transposed(const lam_tensor *t) { return t->stride[t->ndim - 2] == 1 && t->shape[t->ndim - 2] > 1; }

/* X^T Y, laid out like `like`: computed as (Y^T X)^T when like is stored transposed, so the
 * gradient of a transposed weight (Linear's W^T) comes out contiguous for W. */
static lam_tensor *product_like(lam_tensor *x_t, lam_tensor *y, bool transposed) {
    if (!transposed) return lam_matmul(x_t, y);
    return lam_transpose(lam_matmul(lam_transpose(y, -1, -2), lam_transpose(x_t, -1, -2)), -1, -2);
}

/* dA = g @ B^T and dB = A^T @ g, summed over broadcast batch dims. */
static lam_status matmul_backward(lam_node *n, lam_tensor *g, lam_tensor **gin) {
    lam_tensor *a = n->in[0], *b = n->in[1];
    if (lam_input_needs_grad(n, 0) &&
        !(gin[0] = lam_sum_to_shape(product_like(g, lam_transpose(b, -1, -2), stored_transposed(a)), a->ndim, a->shape)))
        return lam_last_status();
    if (!lam_input_needs_grad(n, 1)) return LAM_OK;
    if (b->ndim == 2 && a->ndim > 2) {   /* a matrix applied to a batch: one GEMM over all rows */
        int64_t k = a->shape[a->ndim - 1], cols = b->shape[1];
        lam_tensor *a2 = lam_reshape(a, 2, (const int64_t[]){-1, k}), *g2 = lam_reshape(g, 2, (const int64_t[]){-1, cols});
        gin[1] = a2 && g2 ? product_like(lam_transpose(a2, 0, 1), g2, stored_transposed(b)) : NULL;
    } else {
        gin[1] = lam_sum_to_shape(product_like(lam_transpose(a, -1, -2), g, stored_transposed(b)), b->ndim, b->shape);
    }
    return gin[1] ? LAM_OK : lam_last_status();
}

lam_tensor *lam_matmul(lam_tensor *a, lam_tensor *b) {
    LAM_CHECK_ARG("lam_matmul", a);
    LAM_CHECK_ARG("lam_matmul", b);
    if (!lam_require_float("lam_matmul", a) || !lam_require_float("lam_matmul", b) || !lam_same_device("lam_matmul", a, b))
        return NULL;
    if (a->ndim == 0 || b->ndim == 0) LAM_FAIL_NULL(LAM_ERR_SHAPE, "lam_matmul: operands need at least one dimension");
    int64_t ka = a->shape[a->ndim - 1], kb = b->shape[b->ndim == 1 ? 0 : b->ndim - 2];
    if (ka != kb) {
        char x[96], y[96];
        LAM_FAIL_NULL(LAM_ERR_SHAPE, "lam_matmul: inner dimensions differ: %s @ %s", lam_shape_str(a, x, sizeof x),
                      lam_shape_str(b, y, sizeof y));
    }
    /* 1-D operands become matrices for the product and lose that dim after (NumPy). */
    lam_tensor *a2 = a->ndim == 1 ? lam_unsqueeze(a, 0) : a, *b2 = b->ndim == 1 ? lam_unsqueeze(b, 1) : b;
    if (!a2 || !b2) return NULL;
    lam_dtype dt = lam_promote(a->dtype, b->dtype);
    lam_scope_begin();   /* copies GEMM needed die here */
    lam_tensor *a3 = lam_as_dtype(a2, dt), *b3 = lam_as_dtype(b2, dt);
    lam_tensor *c = lam_scope_end_keep(a3 && b3 ? matmul_forward(a3, b3) : NULL);
    c = lam_recorded(c, "lam_matmul", matmul_backward, 2, (lam_tensor *[]){a2, b2}, NULL);
    if (c && a->ndim == 1) c = lam_squeeze(c, -2);
    if (c && b->ndim == 1) c = lam_squeeze(c, -1);
    return c;
}
