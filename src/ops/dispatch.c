/* Shape rules, dtype promotion and the one place ops call backends from (each call named
 * for the profiler, with the bytes it moves or the flops it does). */
#include <string.h>

#include "backend/profile.h"
#include "backend/view.h"
#include "ops/ops_impl.h"

bool lam_require_float(const char *op, const lam_tensor *t) {
    if (lam_dtype_is_float(t->dtype)) return true;
    lam_set_error(LAM_ERR_ARG, "%s: expected a floating (f32 or f16) tensor, got %s", op, lam_dtype_name(t->dtype));
    return false;
}

lam_dtype lam_promote(lam_dtype a, lam_dtype b) { return a == LAM_F16 && b == LAM_F16 ? LAM_F16 : LAM_F32; }

lam_tensor *lam_as_dtype(lam_tensor *t, lam_dtype dt) { return t->dtype == dt ? t : lam_tensor_copy(t, dt); }

int lam_broadcast_shapes(const char *op, int na, const int64_t *sa, int nb, const int64_t *sb, int64_t *out) {
    int nd = na > nb ? na : nb;
    int64_t merged[LAM_MAX_DIMS] = {0};
    for (int i = 0; i < nd; ++i) {
        int ia = i - (nd - na), ib = i - (nd - nb);
        int64_t a = ia >= 0 ? sa[ia] : 1, b = ib >= 0 ? sb[ib] : 1;
        if (a != b && a != 1 && b != 1) {
            char x[96], y[96];
            lam_set_error(LAM_ERR_SHAPE, "%s: shapes do not broadcast: %s and %s", op,
                          lam_format_shape(na, sa, x, sizeof x), lam_format_shape(nb, sb, y, sizeof y));
            return -1;
        }
        merged[i] = a == 1 ? b : a;
    }
    memcpy(out, merged, (size_t)nd * sizeof *out);
    return nd;
}

int lam_broadcast_shape(const char *op, const lam_tensor *a, const lam_tensor *b, int64_t *out) {
    return lam_broadcast_shapes(op, a->ndim, a->shape, b->ndim, b->shape, out);
}

lam_view lam_broadcast_view(const lam_tensor *t, int ndim, const int64_t *shape) {
    lam_view v = {.buf = t->storage->buf, .offset = t->offset, .ndim = ndim, .dtype = t->dtype};
    for (int i = 0; i < ndim; ++i) {
        int it = i - (ndim - t->ndim);
        v.shape[i] = shape[i];
        v.stride[i] = it >= 0 && t->shape[it] == shape[i] ? t->stride[it] : 0;
    }
    return v;
}

/* ---- elementwise -------------------------------------------------------------------- */

#define LAM_EW_NAME_U(NAME, name, saves, f, df) #name, #name "_grad",
#define LAM_EW_NAME_B(NAME, name, kind, f, da, db) #name, #name "_grad_a", #name "_grad_b",
#define LAM_EW_NAME_T(NAME, name, f) #name,
static const char *const ew_names[] = {
    LAM_UNARY_OPS(LAM_EW_NAME_U) LAM_BINARY_OPS(LAM_EW_NAME_B) LAM_TERNARY_OPS(LAM_EW_NAME_T)};
_Static_assert(sizeof ew_names / sizeof *ew_names == LAM_EW_COUNT, "a name for every elementwise op");

const char *lam_ew_name(lam_ew_op op) { return (unsigned)op < LAM_EW_COUNT ? ew_names[op] : "?"; }

/* The tensors' device, dtype and broadcast shape; NULL device on error. */
static lam_device *ew_plan(const char *op, int n, const lam_ew_arg *args, lam_dtype *dt, int *nd, int64_t *shape,
                           bool *convert) {
    lam_tensor *first = NULL;
    *dt = LAM_F16;
    *nd = 0;
    for (int i = 0; i < n; ++i) {
        lam_tensor *t = args[i].t;
        if (args[i].scalar) continue;
        LAM_CHECK_ARG(op, t);
        if (!lam_require_float(op, t) || (first && !lam_same_device(op, first, t))) return NULL;
        if ((*nd = lam_broadcast_shapes(op, *nd, shape, t->ndim, t->shape, shape)) < 0) return NULL;
        *dt = lam_promote(*dt, t->dtype);
        if (!first) first = t;
    }
    if (!first) LAM_FAIL_NULL(LAM_ERR_ARG, "%s: no tensor operand", op);
    *convert = false;
    for (int i = 0; i < n; ++i) *convert |= !args[i].scalar && args[i].t->dtype != *dt;
    return LAM_DEV(first);
}

/* Bytes an elementwise op reads and writes: each tensor operand once, and the output. */
static double ew_bytes(int n, const lam_ew_arg *args, const lam_tensor *out) {
    double elements = (double)lam_numel(out);
    for (int k = 0; k < n; ++k)
        if (!args[k].scalar) elements += (double)lam_numel(args[k].t);
    return elements * (double)lam_dtype_size(out->dtype);
}

static lam_tensor *ew_compute(const char *op, lam_device *d, lam_ew_op code, int n, const lam_ew_arg *args,
                              lam_dtype dt, int nd, const int64_t *shape) {
    lam_tensor *out = lam_tensor_alloc(dt, nd, shape, d);
    if (!out) return NULL;
    lam_operand in[LAM_EW_INPUTS] = {{.scalar = true}, {.scalar = true}, {.scalar = true}};
    for (int k = 0; k < n; ++k) {
        if (args[k].scalar) {
            in[k].value = args[k].value;
            continue;
        }
        lam_tensor *t = lam_as_dtype(args[k].t, dt);
        if (!t) return NULL;
        in[k].scalar = false;
        in[k].view = lam_broadcast_view(t, nd, shape);
    }
    lam_view o = lam_view_of(out);
    if (lam_numel(out) > 0 &&
        LAM_PROFILED(op, d, ew_bytes(n, args, out), 0, d->ops->elementwise(d, code, &o, in)) != LAM_OK)
        return NULL;
    return out;
}

lam_tensor *lam_ew_run(const char *op, lam_ew_op code, int n, const lam_ew_arg *args) {
    lam_dtype dt;
    int nd;
    int64_t shape[LAM_MAX_DIMS];
    bool convert;
    lam_device *d = ew_plan(op, n, args, &dt, &nd, shape, &convert);
    if (!d) return NULL;
    if (!convert) return ew_compute(op, d, code, n, args, dt, nd, shape);
    lam_scope_begin();   /* the converted copies die here */
    return lam_scope_end_keep(ew_compute(op, d, code, n, args, dt, nd, shape));
}

/* ---- the other entries -------------------------------------------------------------- */

static double tensor_bytes(const lam_tensor *t) { return (double)lam_numel(t) * (double)lam_dtype_size(t->dtype); }

lam_status lam_run_reduce(const char *op, lam_reduce_op code, lam_tensor *out, lam_tensor *src, int64_t outer,
                          int64_t len, int64_t inner) {
    lam_device *d = LAM_DEV(src);
    lam_view o = lam_view_of(out), s = lam_view_of(src);
    if (lam_numel(out) == 0) return LAM_OK;
    return LAM_PROFILED(op, d, tensor_bytes(src), 0, d->ops->reduce(d, code, &o, &s, outer, len, inner));
}

lam_status lam_run_softmax(const char *op, bool log, lam_tensor *out, lam_tensor *src, int64_t rows, int64_t cols) {
    lam_device *d = LAM_DEV(src);
    lam_view o = lam_view_of(out), s = lam_view_of(src);
    if (rows <= 0) return LAM_OK;
    return LAM_PROFILED(op, d, tensor_bytes(src) + tensor_bytes(out), 0, d->ops->softmax(d, log, &o, &s, rows, cols));
}

/* 2 m n k per matrix product (a multiply and an add), as PyTorch and ggml count them. */
static double gemm_flops(const lam_gemm_args *g) { return 2.0 * (double)g->m * (double)g->n * (double)g->k * (double)g->batch; }

lam_status lam_run_gemm(const char *op, lam_device *d, const lam_gemm_args *g) {
    return LAM_PROFILED(op, d, 0, gemm_flops(g), d->ops->gemm(d, g));
}

/* Bytes of every view a direct kernel is handed, each once. */
static double kernel_bytes(lam_kernel_id id, const lam_kernel_args *a) {
    double bytes = 0;
    for (int v = 0; (unsigned)id < LAM_KERNEL_COUNT && v < lam_kernel_infos[id].views; ++v)
        bytes += (double)lam_view_numel(&a->v[v]) * (double)lam_dtype_size(a->v[v].dtype);
    return bytes;
}

lam_status lam_run_kernel(const char *op, lam_device *d, lam_kernel_id id, const lam_kernel_args *a) {
    if (a->work <= 0) return LAM_OK;
    return LAM_PROFILED(op, d, kernel_bytes(id, a), 0, d->ops->kernel(d, id, a));
}
