/* The per-thread tape: nodes in creation order, which is a topological order. */
#include <stdlib.h>

#include "autograd/autograd_impl.h"
#include "lamina/autograd.h"
#include "core/error.h"
#include "tensor/tensor_impl.h"

static _Thread_local lam_node **tape;
static _Thread_local size_t tape_len, tape_cap;
static _Thread_local bool grad_enabled = true;

bool lam_grad_enabled(bool enabled) {
    bool old = grad_enabled;
    grad_enabled = enabled;
    return old;
}

bool lam_is_grad_enabled(void) { return grad_enabled; }
size_t lam_tape_length(void) { return tape_len; }
bool lam_input_needs_grad(const lam_node *n, int i) { return n->in[i]->requires_grad; }

lam_node *lam_tape_at(size_t i) { return i < tape_len ? tape[i] : NULL; }

lam_node *lam_record(lam_tensor *out, const char *op, lam_backward_fn bw, int n, lam_tensor *const *in) {
    if (!grad_enabled) return NULL;
    bool any = false;
    for (int i = 0; i < n; ++i) any |= in[i]->requires_grad;
    if (!any) return NULL;
    if (tape_len == tape_cap) {
        size_t cap = tape_cap ? 2 * tape_cap : 256;
        lam_node **grown = realloc(tape, cap * sizeof *grown);
        if (!grown) LAM_FAIL_NULL(LAM_ERR_OOM, "%s: out of host memory recording the tape", op);
        tape = grown;
        tape_cap = cap;
    }
    lam_node *node = calloc(1, sizeof *node);
    if (!node) LAM_FAIL_NULL(LAM_ERR_OOM, "%s: out of host memory recording the tape", op);
    node->op = op;
    node->backward = bw;
    node->n_in = n;
    for (int i = 0; i < n; ++i) node->in[i] = lam_retain(in[i]);
    node->out = out;
    node->slot = tape_len;
    out->requires_grad = true;
    out->grad_fn = node;
    tape[tape_len++] = node;
    return node;
}

/* Frees a node; its output (if alive) keeps its data but loses its history. */
void lam_node_free(lam_node *n, bool consumed) {
    if (n->out) {
        n->out->grad_fn = NULL;
        n->out->graph_freed = consumed;
    }
    for (int i = 0; i < n->n_in; ++i) lam_release(n->in[i]);
    lam_release(n->saved);
    lam_release(n->gout);
    tape[n->slot] = NULL;
    free(n);
}

/* Drops trailing empty slots, but never below the innermost scope's start. */
void lam_tape_compact(void) {
    size_t floor = lam_scope_tape_mark();
    while (tape_len > floor && !tape[tape_len - 1]) --tape_len;
}

void lam_tape_truncate(size_t mark) {
    while (tape_len > mark) {
        lam_node *n = tape[--tape_len];
        if (n) lam_node_free(n, false);
    }
    if (tape_len == 0) {   /* give the memory back when the tape empties */
        free(tape);
        tape = NULL;
        tape_cap = 0;
    }
}

void lam_autograd_forget(lam_tensor *t) {
    if (t->grad_fn) t->grad_fn->out = NULL;
    lam_release(t->grad);
    t->grad = NULL;
}
