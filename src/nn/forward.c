/* lam_forward: runs a module's forward and, when it fails, names the module in the error:
 * "body.2 (Linear): input (2, 30) does not match in_features=20". A thread-local stack of
 * the modules being run gives the dotted path; the innermost failing module names the
 * error and the modules around it leave the message alone. */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "nn/module_impl.h"

#define FORWARD_DEPTH_MAX 64   /* deeper calls still run; their paths stop growing */

typedef struct {
    lam_module *m;
    const char *name;   /* m's name in the module below it on the stack; NULL: a root */
} forward_frame;

static _Thread_local forward_frame stack[FORWARD_DEPTH_MAX];
static _Thread_local int depth;
static _Thread_local unsigned long long named_serial;   /* the error serial of the last message named */

/* m's registered name among parent's children, or NULL (not a child of the caller). */
static const char *child_name(const lam_module *parent, const lam_module *m) {
    for (int i = 0; parent && i < parent->n_children; ++i)
        if (parent->children[i].child == m) return parent->children[i].name;
    return NULL;
}

/* The dotted path of the innermost frame: names back to the nearest root ("" for a root). */
static void frame_path(char *out, size_t size) {
    int from = depth - 1;
    while (from > 0 && stack[from].name) --from;
    size_t at = 0;
    *out = '\0';
    for (int i = from; i < depth && at < size; ++i) {
        if (!stack[i].name) continue;
        int n = snprintf(out + at, size - at, "%s%s", at ? "." : "", stack[i].name);
        if (n < 0) break;
        at += (size_t)n;
    }
}

/* Puts "path (Class): " (a root: "Class: ") before the message set inside the forward. */
static void name_error(const lam_module *m, bool error_set) {
    char path[256], msg[1024];
    frame_path(path, sizeof path);
    lam_status st = error_set ? lam_last_status() : LAM_ERR_STATE;
    snprintf(msg, sizeof msg, "%s", error_set ? lam_last_error() : "forward returned NULL without an error");
    if (*path) lam_set_error(st, "%s (%s): %s", path, m->cls->name, msg);
    else lam_set_error(st, "%s: %s", m->cls->name, msg);
    named_serial = lam_error_serial();
}

lam_tensor *lam_forward(lam_module *m, lam_tensor *x) {
    if (!m || !x) {
        lam_null_arg("lam_forward");   /* an earlier failure keeps its own message */
        return NULL;
    }
    if (!m->cls->forward) LAM_FAIL_NULL(LAM_ERR_STATE, "lam_forward: %s has no forward", m->cls->name);
    bool tracked = depth < FORWARD_DEPTH_MAX;
    if (tracked) {
        const char *name = depth > 0 ? child_name(stack[depth - 1].m, m) : NULL;
        stack[depth++] = (forward_frame){m, name};
    }
    unsigned long long before = lam_error_serial();
    lam_tensor *y = m->cls->forward(m, x);
    unsigned long long after = lam_error_serial();
    if (!y && tracked && (after == before || after != named_serial)) name_error(m, after != before);
    if (tracked) --depth;
    return y;
}
