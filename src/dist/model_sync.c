/* Keeping ranks' models the same: a model signature compared with rank 0's before anything
 * else is exchanged (so ranks built differently fail together instead of hanging or mixing
 * mismatched bytes), then rank 0's tensors broadcast as one packed host buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/profile.h"
#include "core/dtype.h"
#include "core/error.h"
#include "dist/dist_impl.h"

double lam_dist_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

lam_status lam_tensor_list_of(lam_module *m, bool params, bool buffers, lam_tensor_list *out, const char *op) {
    *out = (lam_tensor_list){0};
    if (!m) {
        lam_null_arg(op);
        return lam_last_status();
    }
    int np = params ? lam_named_parameters(m, NULL, 0) : 0, nb = buffers ? lam_named_buffers(m, NULL, 0) : 0;
    if (np < 0 || nb < 0) return lam_last_status();
    out->items = calloc((size_t)(np + nb) + 1, sizeof *out->items);
    if (!out->items) return lam_set_error(LAM_ERR_OOM, "%s: out of memory for a list of %d tensors", op, np + nb);
    if (np) lam_named_parameters(m, out->items, np);
    if (nb) lam_named_buffers(m, out->items + np, nb);
    out->n = np + nb;
    out->n_params = np;
    return LAM_OK;
}

void lam_tensor_list_free(lam_tensor_list *l) {
    free(l->items);
    *l = (lam_tensor_list){0};
}

/* One line per tensor, "param 0.weight f32 (256, 784)", after the header line. */
static char *describe(const lam_tensor_list *l, const char *header, const char *op) {
    size_t cap = strlen(header) + 2 + (size_t)l->n * (256 + 16 + 8 + 8 * 24);
    char *s = malloc(cap), shape[8 * 24];
    if (!s) {
        lam_set_error(LAM_ERR_OOM, "%s: out of memory describing %d tensors", op, l->n);
        return NULL;
    }
    size_t len = (size_t)snprintf(s, cap, "%s\n", header);
    for (int i = 0; i < l->n; ++i) {
        lam_tensor *t = l->items[i].tensor;
        len += (size_t)snprintf(s + len, cap - len, "%s %s %s %s\n", i < l->n_params ? "parameter" : "buffer",
                                l->items[i].name, lam_dtype_name(lam_tensor_dtype(t)),
                                lam_shape_str(t, shape, sizeof shape));
    }
    return s;
}

/* Index of the first line where a and b differ, -1 if they are equal. */
static int first_difference(const char *a, const char *b) {
    for (int line = 0;; ++line) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        if (!ea || !eb) return ea || eb ? line : -1;
        if (ea - a != eb - b || memcmp(a, b, (size_t)(ea - a)) != 0) return line;
        a = ea + 1;
        b = eb + 1;
    }
}

/* Line i of text (without its newline) into out; "nothing" past the end. */
static void line_of(const char *text, int i, char *out, size_t size) {
    for (; i > 0 && text; --i) text = strchr(text, '\n') ? strchr(text, '\n') + 1 : NULL;
    const char *end = text ? strchr(text, '\n') : NULL;
    if (!end) snprintf(out, size, "nothing");
    else snprintf(out, size, "'%.*s'", (int)(end - text), text);
}

/* The error every rank reports, given which ranks differ (diff[r] >= 0) at which line. */
static lam_status mismatch(const int64_t *diff, int world, const char *mine, const char *root, const char *op) {
    int me = lam_comm_rank(), n = 0;
    char list[256] = "";
    size_t len = 0;
    for (int r = 0; r < world && len < sizeof list - 16; ++r)
        if (diff[r] >= 0) len += (size_t)snprintf(list + len, sizeof list - len, "%s%d", n++ ? ", " : "", r);
    const char *who = n > 1 ? "ranks" : "rank", *verb = n > 1 ? "differ" : "differs";
    if (diff[me] < 0)
        return lam_set_error(LAM_ERR_STATE, "%s: the ranks hold different models: %s %s %s from rank 0 (see %s error)",
                             op, who, list, verb, n > 1 ? "their" : "its");
    char here[400], there[400];
    line_of(mine, (int)diff[me], here, sizeof here);
    line_of(root, (int)diff[me], there, sizeof there);
    return lam_set_error(LAM_ERR_STATE, "%s: the ranks hold different models: rank %d has %s where rank 0 has %s "
                         "(%s %s %s from rank 0)", op, me, here, there, who, list, verb);
}

lam_status lam_dist_check_same(const lam_tensor_list *l, const char *header, const char *op) {
    char *mine = describe(l, header, op), *root = NULL;
    int world = lam_comm_size();
    int64_t len = mine ? (int64_t)strlen(mine) : -1, *diff = calloc((size_t)world, sizeof *diff);
    /* every rank makes the same collective calls whatever failed locally, so none hangs */
    lam_status st = lam_comm_bcast(&len, sizeof len, 0, op);
    if (st == LAM_OK && len >= 0) root = malloc((size_t)len + 1);
    if (root && lam_comm_rank() == 0) memcpy(root, mine, (size_t)len + 1);
    if (st == LAM_OK && len >= 0) {
        char dummy = 0;   /* a rank that could not allocate still takes part */
        st = lam_comm_bcast(root ? root : &dummy, root ? (size_t)len : 1, 0, op);
        if (root) root[len] = '\0';
    }
    int64_t d = !mine || !root ? 0 : first_difference(mine, root);
    if (st == LAM_OK) st = diff ? lam_comm_allgather_i64(d, diff, op) : lam_set_error(LAM_ERR_OOM, "%s: out of memory", op);
    bool same = st == LAM_OK && mine && root;
    for (int r = 0; same && r < world; ++r) same = diff[r] < 0;
    if (st == LAM_OK && !same)
        st = !mine || !root ? lam_set_error(LAM_ERR_OOM, "%s: out of memory comparing models", op)
                            : mismatch(diff, world, mine, root, op);
    free(mine);
    free(root);
    free(diff);
    return st;
}

static size_t tensor_bytes(const lam_tensor *t) {
    return (size_t)lam_numel(t) * lam_dtype_traits_of(lam_tensor_dtype(t))->size;
}

/* Copies every tensor of l to (to_host) or from the packed buffer. */
static lam_status pack(const lam_tensor_list *l, char *buf, bool to_host) {
    lam_status st = LAM_OK;
    for (int i = 0; st == LAM_OK && i < l->n; ++i) {
        lam_tensor *t = l->items[i].tensor;
        st = to_host ? lam_read(t, buf, tensor_bytes(t)) : lam_write(t, buf, tensor_bytes(t));
        buf += tensor_bytes(t);
    }
    return st;
}

lam_status lam_dist_broadcast_list(const lam_tensor_list *l, const char *op) {
    size_t total = sizeof(int64_t);   /* rank 0's status first: a failed read fails every rank */
    for (int i = 0; i < l->n; ++i) total += tensor_bytes(l->items[i].tensor);
    if (l->n == 0 || lam_comm_size() == 1) return LAM_OK;
    char *buf = malloc(total);
    if (!buf) {   /* cannot take part: ending the job is the caller's (lamina/dist.h) */
        return lam_set_error(LAM_ERR_OOM, "%s: out of memory for %zu bytes of tensors", op, total);
    }
    bool root = lam_comm_rank() == 0;
    int64_t status = root ? pack(l, buf + sizeof status, true) : LAM_OK;
    memcpy(buf, &status, sizeof status);
    lam_status st = LAM_PROFILED("dist_broadcast", lam_host_device(), (double)total, 0, lam_comm_bcast(buf, total, 0, op));
    memcpy(&status, buf, sizeof status);
    if (st == LAM_OK && status != LAM_OK && !root)
        st = lam_set_error((lam_status)status, "%s: rank 0 could not read its tensors (see its error)", op);
    else if (st == LAM_OK && status != LAM_OK)
        st = (lam_status)status;
    if (st == LAM_OK && !root) st = pack(l, buf + sizeof status, false);
    free(buf);
    return st;
}
