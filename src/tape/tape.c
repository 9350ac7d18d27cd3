/* The per-thread tape: nodes in creation order, which is a topological order. Scopes end
 * their nodes through the history hooks this file gives the tensor layer. */
#include <stdlib.h>

#include "core/error.h"
#include "lamina/autograd.h"
#include "tape/tape.h"
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

void lam_tape_compact(size_t floor) {
    while (tape_len > floor && !tape[tape_len - 1]) --tape_len;
}

static void tape_truncate(size_t mark) {
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

static void forget(lam_tensor *t) { t->grad_fn->out = NULL; }

static const lam_history_hooks hooks = {.forget = forget, .mark = lam_tape_length, .truncate = tape_truncate};

lam_status lam_record(lam_tensor *out, const char *op, lam_backward_fn bw, int n, lam_tensor *const *in,
                      lam_node **node) {
    *node = NULL;
    if (n > LAM_NODE_MAX_IN) return lam_set_error(LAM_ERR_ARG, "%s: %d inputs (a node holds %d)", op, n, LAM_NODE_MAX_IN);
    if (!grad_enabled) return LAM_OK;
    bool any = false;
    for (int i = 0; i < n; ++i) any |= in[i]->requires_grad;
    if (!any) return LAM_OK;
    lam_tensor_set_history_hooks(&hooks);   /* before the first node exists */
    if (tape_len == tape_cap) {
        size_t cap = tape_cap ? 2 * tape_cap : 256;
        lam_node **grown = realloc(tape, cap * sizeof *grown);
        if (!grown) return lam_set_error(LAM_ERR_OOM, "%s: out of host memory recording the tape", op);
        tape = grown;
        tape_cap = cap;
    }
    lam_node *nd = calloc(1, sizeof *nd);
    if (!nd) return lam_set_error(LAM_ERR_OOM, "%s: out of host memory recording the tape", op);
    nd->op = op;
    nd->backward = bw;
    nd->n_in = n;
    for (int i = 0; i < n; ++i) nd->in[i] = lam_retain(in[i]);
    nd->out = out;
    nd->slot = tape_len;
    out->requires_grad = true;
    out->grad_fn = nd;
    tape[tape_len++] = nd;
    *node = nd;
    return LAM_OK;
}

lam_tensor *lam_recorded(lam_tensor *out, const char *op, lam_backward_fn bw, int n, lam_tensor *const *in,
                         lam_node **node) {
    lam_node *nd = NULL;
    if (node) *node = NULL;
    if (!out || lam_record(out, op, bw, n, in, &nd) != LAM_OK) return NULL;
    if (node) *node = nd;
    return out;
}
