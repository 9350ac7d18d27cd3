/* Building a layer's extra_repr piece by piece, as PyTorch's do. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nn/module_impl.h"

void lam_repr_append(char *buf, size_t size, const char *fmt, ...) {
    size_t n = strnlen(buf, size);
    if (n + 1 >= size) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, size - n, fmt, ap);
    va_end(ap);
}

void lam_repr_hw(char *buf, size_t size, const char *name, lam_hw v, bool as_int) {
    if (as_int && v.h == v.w) lam_repr_append(buf, size, "%s=%lld", name, (long long)v.h);
    else lam_repr_append(buf, size, "%s=(%lld, %lld)", name, (long long)v.h, (long long)v.w);
}
