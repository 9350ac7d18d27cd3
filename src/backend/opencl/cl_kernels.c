/* The direct-kernel entry: arguments packed from the table (src/backend/kernels.h), so a new
 * kernel needs no code here. Per view (buffer, offset), then the ints as long, the floats,
 * and the work count; the program is built for view 0's dtype. */
#include <stdio.h>

#include "backend/opencl/cl_backend.h"
#include "core/error.h"

#define MAX_ARGS (2 * LAM_KERNEL_MAX_VIEWS + LAM_KERNEL_MAX_INTS + LAM_KERNEL_MAX_FLOATS + 1)

/* Whether a word's condition (?iN, ?!iN, ?fN at *p, backend/kernels.h) holds; p moves past it.
 * A malformed condition sets *bad. */
static bool condition_holds(const char **p, const lam_kernel_args *a, bool *bad) {
    if (**p != '?') return true;
    bool negate = *++*p == '!';
    if (negate) ++*p;
    char kind = *(*p)++;
    if (**p < '0' || **p > '9') {
        *bad = true;
        return false;
    }
    int n = 0;
    while (**p >= '0' && **p <= '9') n = 10 * n + (*(*p)++ - '0');
    bool on = kind == 'i' && n < LAM_KERNEL_MAX_INTS     ? a->i[n] != 0
              : kind == 'f' && n < LAM_KERNEL_MAX_FLOATS ? a->f[n] != 0.0f
                                                         : (*bad = true, false);
    return negate ? !on : on;
}

/* The bytes a direct kernel reads and writes, from its access words; nothing (an unsized
 * launch, which the tests reject) when the words do not fit its views. */
static lam_cl_bytes kernel_bytes(lam_kernel_id id, const lam_kernel_args *a) {
    const lam_kernel_info *k = &lam_kernel_infos[id];
    const char *p = lam_kernel_access[id];
    lam_cl_bytes b = LAM_CL_BYTES(0, 0);
    bool bad = !p;
    int v = 0;
    while (!bad && p && *p) {
        if (*p == ' ') {
            ++p;
            continue;
        }
        const char *word = p;
        while (*p && *p != ' ' && *p != '?') ++p;
        size_t len = (size_t)(p - word);
        bool on = condition_holds(&p, a, &bad);
        if (v >= k->views || (*p && *p != ' ')) bad = true;
        if (bad) break;
        /* a gathered read moves as many elements as the kernel writes to view 0 */
        uint64_t gathered = (uint64_t)lam_view_numel(&a->v[0]) * lam_dtype_size(a->v[v].dtype);
        uint64_t bytes = !on ? 0 : word[0] == 'g' ? gathered : lam_cl_view_bytes(&a->v[v]);
        if (len == 1 && (word[0] == 'r' || word[0] == 'g')) b.read += bytes;
        else if (len == 1 && word[0] == 'w') b.written += bytes;
        else if (len == 2 && word[0] == 'r' && word[1] == 'w') b.read += bytes, b.written += bytes;
        else if (len != 1 || word[0] != '-') bad = true;
        ++v;
    }
    return bad || v != k->views ? LAM_CL_BYTES(0, 0) : b;
}

lam_status lam_cl_kernel_run(lam_device *d, lam_kernel_id id, const lam_kernel_args *a) {
    if ((unsigned)id >= LAM_KERNEL_COUNT) return lam_set_error(LAM_ERR_BACKEND, "%s: unknown kernel %d", d->spec, (int)id);
    const lam_kernel_info *k = &lam_kernel_infos[id];
    if (a->work <= 0) return LAM_OK;
    lam_cl_ctx *c = lam_cl(d);
    lam_cl_arg args[MAX_ARGS];
    size_t n = 0;
    bool raises = false;
    for (int v = 0; v < k->views; ++v) {
        void *buf = a->v[v].buf;
        if (!buf) {   /* the device's error record */
            raises = true;
            if (!(buf = lam_cl_record(c))) return lam_last_status();
        }
        args[n++] = (lam_cl_arg)LAM_ARG_MEM(buf);
        args[n++] = (lam_cl_arg)LAM_ARG_I64(a->v[v].offset);
    }
    for (int i = 0; i < k->ints; ++i) args[n++] = (lam_cl_arg)LAM_ARG_I64(a->i[i]);
    for (int f = 0; f < k->floats; ++f) args[n++] = (lam_cl_arg)LAM_ARG_F32(a->f[f]);
    args[n++] = (lam_cl_arg)LAM_ARG_I64(a->work);
    char name[80];
    snprintf(name, sizeof name, "lam_k_%s", k->name);
    /* group kernels loop over their unit with get_local_size(0) items: one on CPU devices, else
     * the table's size or the largest the device and kernel allow if smaller */
    int dtype = k->views > 0 ? (int)a->v[0].dtype : LAM_F32;
    size_t local = 0;
    if (k->group > 0 && c->tree) {
        size_t most = lam_cl_group_size(c, k->file, name, dtype);
        if (!most) return lam_last_status();
        local = (size_t)k->group < most ? (size_t)k->group : most;
    } else if (k->group > 0) {
        local = 1;
    }
    size_t global = (size_t)a->work * (local ? local : 1);
    lam_status st = lam_cl_launch(c, k->file, name, dtype, global, local, kernel_bytes(id, a), args, n);
    if (st == LAM_OK && raises) lam_cl_count(&c->checks_enqueued, 1);   /* after the enqueue: see cl_check.c */
    return st;
}
