/* lam_forward and lam_forward_n: run a module's forward (one input, or several for a
 * lam_module_class_n) and, when it fails, name the module in the error:
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

/* Runs m's forward on its inputs (one, or max_inputs for a several-input class) with its
 * frame on the stack, naming it in the error if it fails. */
static lam_tensor *run(lam_module *m, lam_tensor *const *in) {
    bool tracked = depth < FORWARD_DEPTH_MAX;
    if (tracked) {
        const char *name = depth > 0 ? child_name(stack[depth - 1].m, m) : NULL;
        stack[depth++] = (forward_frame){m, name};
    }
    unsigned long long before = lam_error_serial();
    lam_tensor *y = m->cls_n ? m->cls_n->forward(m, m->cls_n->max_inputs, in) : m->cls->forward(m, in[0]);
    unsigned long long after = lam_error_serial();
    if (!y && tracked && (after == before || after != named_serial)) name_error(m, after != before);
    if (tracked) --depth;
    return y;
}

/* A several-input forward: n checked, the required inputs present, the rest NULL-padded. */
static lam_tensor *run_n(lam_module *m, const char *op, int n, lam_tensor *const *in) {
    const lam_module_class_n *c = m->cls_n;
    if (n < c->min_inputs || n > c->max_inputs)
        LAM_FAIL_NULL(LAM_ERR_ARG, "%s: %s takes %d to %d inputs, got %d", op, c->base.name, c->min_inputs,
                      c->max_inputs, n);
    lam_tensor *all[LAM_FORWARD_MAX_INPUTS] = {NULL};
    for (int i = 0; i < n; ++i) {
        if (!in[i] && i < c->min_inputs) {
            lam_null_arg(op);   /* keeps the error that made it NULL */
            return NULL;
        }
        all[i] = in[i];
    }
    return run(m, all);
}

lam_tensor *lam_forward(lam_module *m, lam_tensor *x) {
    if (!m || !x) {
        lam_null_arg("lam_forward");   /* an earlier failure keeps its own message */
        return NULL;
    }
    if (m->cls_n) return run_n(m, "lam_forward", 1, &x);
    if (!m->cls->forward) LAM_FAIL_NULL(LAM_ERR_STATE, "lam_forward: %s has no forward", m->cls->name);
    return run(m, &x);
}

lam_tensor *lam_forward_n(lam_module *m, int n, lam_tensor *const *inputs) {
    if (!m) {
        lam_null_arg("lam_forward_n");
        return NULL;
    }
    if (n < 0 || (n > 0 && !inputs)) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_forward_n: %d inputs at %p", n, (const void *)inputs);
    if (m->cls_n) return run_n(m, "lam_forward_n", n, inputs);
    if (n != 1) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_forward_n: %s takes one input, got %d", m->cls->name, n);
    return lam_forward(m, inputs[0]);
}

lam_module *lam_module_new_n(const lam_module_class_n *cls) {
    if (!cls || !cls->forward || cls->min_inputs < 1 || cls->min_inputs > cls->max_inputs ||
        cls->max_inputs > LAM_FORWARD_MAX_INPUTS)
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_module_new_n: class %s needs a forward and 1 <= min_inputs (%d) <= max_inputs (%d) <= %d",
                      cls && cls->base.name ? cls->base.name : "(null)", cls ? cls->min_inputs : 0,
                      cls ? cls->max_inputs : 0, LAM_FORWARD_MAX_INPUTS);
    lam_module *m = lam_module_new(&cls->base);
    if (m) m->cls_n = cls;
    return m;
}

void lam_module_inputs(const lam_module *m, int *min_inputs, int *max_inputs) {
    int lo = m ? 1 : 0, hi = lo;
    if (m && m->cls_n) {
        lo = m->cls_n->min_inputs;
        hi = m->cls_n->max_inputs;
    }
    if (min_inputs) *min_inputs = lo;
    if (max_inputs) *max_inputs = hi;
}
