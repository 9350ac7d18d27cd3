/* The host's knowledge of integer storages' values (lam_value_range, tensor_impl.h). */
#include <string.h>

#include "tensor/tensor_impl.h"

void lam_storage_forget_values(lam_storage *s) { s->values = (lam_value_range){0}; }

void lam_storage_note_host_write(lam_storage *s, lam_dtype dt, int64_t first, const void *src, int64_t n) {
    if ((dt != LAM_I32 && dt != LAM_I64) || n <= 0) return;
    lam_value_range r = {.known = true, .exact = true, .lo = INT64_MAX, .hi = INT64_MIN};
    for (int64_t i = 0; i < n; ++i) {
        int64_t v;   /* src is the caller's memory (a file's bytes): any alignment */
        if (dt == LAM_I32) {
            int32_t w;
            memcpy(&w, (const char *)src + i * 4, sizeof w);
            v = w;
        } else {
            memcpy(&v, (const char *)src + i * 8, sizeof v);
        }
        if (v < r.lo) {
            r.lo = v;
            r.lo_at = first + i;
        }
        if (v > r.hi) {
            r.hi = v;
            r.hi_at = first + i;
        }
    }
    bool whole = first == 0 && (size_t)n * lam_dtype_size(dt) == s->bytes;
    if (whole) {
        s->values = r;
    } else if (s->values.known) {   /* a part rewritten: the union still bounds every element */
        s->values.exact = false;
        if (r.lo < s->values.lo) s->values.lo = r.lo;
        if (r.hi > s->values.hi) s->values.hi = r.hi;
    }
}
