/* The gradient-ready hook: a leaf's gradient is final once the lowest tape node that uses it
 * (and leads to the output) ran, since the walk goes from the output down the tape. */
#include <stdlib.h>

#include "autograd/grad_hook.h"
#include "core/error.h"
#include "tensor/tensor_impl.h"

static _Thread_local lam_grad_hook thread_hook;

lam_grad_hook lam_set_grad_hook(lam_grad_hook hook) {
    lam_grad_hook old = thread_hook;
    thread_hook = hook;
    return old;
}

/* The hook's status; a failure it did not describe gets a message naming the hook. */
static lam_status call(lam_grad_hook h, lam_tensor *leaf) {
    lam_status st = h.fn(leaf, h.user_data);
    if (st != LAM_OK && lam_last_status() != st)
        lam_set_error(st, "lam_backward: the gradient hook returned %s", lam_status_name(st));
    return st;
}

lam_status lam_grad_hook_leaf(lam_tensor *leaf) { return thread_hook.fn ? call(thread_hook, leaf) : LAM_OK; }

typedef struct {
    const lam_tensor *leaf;
    size_t slot;
    int input;
} leaf_use;

static int by_leaf_then_slot(const void *pa, const void *pb) {
    const leaf_use *a = pa, *b = pb;
    if (a->leaf != b->leaf) return a->leaf < b->leaf ? -1 : 1;
    if (a->slot != b->slot) return a->slot < b->slot ? -1 : 1;
    return (a->input > b->input) - (a->input < b->input);
}

/* Nodes at or below start that lead to it (inputs always sit lower on the tape). */
static void mark_reachable(bool *reach, const lam_node *start) {
    reach[start->slot] = true;
    for (size_t i = start->slot + 1; i-- > 0;) {
        const lam_node *n = lam_tape_at(i);
        if (!n || !reach[i]) continue;
        for (int j = 0; j < n->n_in; ++j) {
            const lam_tensor *x = n->in[j];
            if (x->requires_grad && x->grad_fn && x->grad_fn->slot < i) reach[x->grad_fn->slot] = true;
        }
    }
}

/* Every (leaf, node) use in reachable nodes; *count of them, NULL on OOM. */
static leaf_use *collect_uses(const bool *reach, size_t slots, size_t *count) {
    size_t cap = 0;
    for (size_t i = 0; i < slots; ++i)
        if (reach[i]) cap += (size_t)lam_tape_at(i)->n_in;
    leaf_use *uses = malloc((cap ? cap : 1) * sizeof *uses);
    if (!uses) return NULL;
    *count = 0;
    for (size_t i = 0; i < slots; ++i) {
        const lam_node *n = reach[i] ? lam_tape_at(i) : NULL;
        for (int j = 0; n && j < n->n_in; ++j)
            if (n->in[j]->requires_grad && !n->in[j]->grad_fn) uses[(*count)++] = (leaf_use){n->in[j], i, j};
    }
    return uses;
}

lam_status lam_grad_plan_make(lam_grad_plan *plan, const lam_node *start) {
    *plan = (lam_grad_plan){.hook = thread_hook};
    if (!thread_hook.fn) return LAM_OK;
    size_t slots = start->slot + 1, count = 0;
    bool *reach = calloc(slots, sizeof *reach);
    plan->final = calloc(slots, LAM_NODE_MAX_IN * sizeof *plan->final);
    leaf_use *uses = reach && plan->final ? (mark_reachable(reach, start), collect_uses(reach, slots, &count)) : NULL;
    free(reach);
    if (!uses) {
        lam_grad_plan_free(plan);
        return lam_set_error(LAM_ERR_OOM, "lam_backward: out of memory for the gradient hook's plan of %zu nodes", slots);
    }
    qsort(uses, count, sizeof *uses, by_leaf_then_slot);
    for (size_t k = 0; k < count; ++k)   /* a leaf's lowest use is the last the walk visits */
        if (k == 0 || uses[k].leaf != uses[k - 1].leaf)
            plan->final[uses[k].slot * LAM_NODE_MAX_IN + (size_t)uses[k].input] = true;
    free(uses);
    plan->slots = slots;
    return LAM_OK;
}

lam_status lam_grad_plan_fire(const lam_grad_plan *plan, const lam_node *n) {
    if (!plan->final || n->slot >= plan->slots) return LAM_OK;
    for (int j = 0; j < n->n_in; ++j)
        if (plan->final[n->slot * LAM_NODE_MAX_IN + (size_t)j]) {
            lam_status st = call(plan->hook, n->in[j]);
            if (st != LAM_OK) return st;
        }
    return LAM_OK;
}

void lam_grad_plan_free(lam_grad_plan *plan) {
    free(plan->final);
    plan->final = NULL;
    plan->slots = 0;
}
