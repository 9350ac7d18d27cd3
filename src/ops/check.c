/* Index checks for ops that take indices (labels, token ids): no host wait on any device.
 * Indices that came from host memory are checked against what the host saw when they were
 * written (lam_value_range); others by a kernel that raises the device's error record,
 * which the next blocking read reports (on cpu the kernel reports at once). */
#include "backend/check.h"
#include "ops/check.h"
#include "ops/ops_impl.h"

/* The position of a bad element the host saw (the largest if above hi, else the smallest),
 * when it saw every element of idx; -1 if it cannot tell. */
static int64_t host_seen_bad(const lam_tensor *idx, int64_t hi, int64_t *value) {
    const lam_value_range *r = &idx->storage->values;
    bool whole = idx->offset == 0 && lam_is_contiguous(idx) &&
                 (size_t)lam_numel(idx) * lam_dtype_size(idx->dtype) == idx->storage->bytes;
    if (!r->exact || !whole) return -1;
    *value = r->hi >= hi ? r->hi : r->lo;
    return r->hi >= hi ? r->hi_at : r->lo_at;
}

lam_status lam_check_indices(const char *op, lam_tensor *idx, int64_t lo, int64_t hi) {
    if (!idx) {
        lam_null_arg(op);
        return lam_last_status();
    }
    if (idx->dtype != LAM_I32 && idx->dtype != LAM_I64)
        return lam_set_error(LAM_ERR_ARG, "%s: indices must be i32 or i64, got %s", op, lam_dtype_name(idx->dtype));
    int64_t n = lam_numel(idx);
    const lam_value_range *r = &idx->storage->values;
    if (n == 0 || (r->known && r->lo >= lo && r->hi < hi)) return LAM_OK;
    int64_t value, at = host_seen_bad(idx, hi, &value);
    if (at >= 0) return lam_check_fail(lam_check_op_id(op), value, at, lo, hi, false);
    lam_scope_begin();   /* a contiguous copy of a strided view dies here */
    lam_tensor *c = lam_is_contiguous(idx) ? idx : lam_tensor_copy(idx, idx->dtype);
    lam_status st = c ? LAM_OK : lam_last_status();
    if (st == LAM_OK) {
        lam_kernel_args a = {.work = n, .v = {lam_view_of(c), {.buf = NULL}}, .i = {lo, hi, lam_check_op_id(op)}};
        st = lam_run_kernel(op, LAM_DEV(c), LAM_K_CHECK_INDEX, &a);
    }
    lam_scope_end();
    return st;
}
