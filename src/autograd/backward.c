/* The backward engine: walk the tape in reverse from the output, accumulating gradients.
 * It sits above ops (DESIGN.md §1): backward rules and accumulation are ops. */
#include "autograd/grad_hook.h"
#include "core/error.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"
#include "tape/tape.h"
#include "tensor/tensor_impl.h"

lam_tensor *lam_requires_grad(lam_tensor *t, bool requires) {
    if (!t) {
        lam_null_arg("lam_requires_grad");
        return NULL;
    }
    if (t->grad_fn)
        LAM_FAIL_NULL(LAM_ERR_STATE, "lam_requires_grad: only leaves can be marked (this tensor comes from %s)", t->grad_fn->op);
    if (requires && !lam_dtype_is_float(t->dtype))
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_requires_grad: only floating tensors can require grad, not %s",
                      lam_dtype_name(t->dtype));
    t->requires_grad = requires;
    return t;
}

bool lam_tensor_requires_grad(const lam_tensor *t) { return t && t->requires_grad; }
lam_tensor *lam_grad(const lam_tensor *t) { return t ? t->grad : NULL; }

void lam_clear_grad(lam_tensor *t) {
    if (!t) return;
    lam_release(t->grad);
    t->grad = NULL;
}

lam_tensor *lam_detach(lam_tensor *t) {
    if (!t) {
        lam_null_arg("lam_detach");
        return NULL;
    }
    return lam_tensor_view(t, t->ndim, t->shape, t->stride, t->offset);
}

/* *slot += g, where *slot is an owned reference (NULL means zero). */
static lam_status accumulate(lam_tensor **slot, lam_tensor *g, bool contiguous_copy) {
    lam_tensor *sum = *slot ? lam_add(*slot, g) : contiguous_copy ? lam_clone(g) : g;
    if (!sum) return lam_last_status();
    lam_retain(sum);
    lam_release(*slot);
    *slot = sum;
    return LAM_OK;
}

/* Runs one node's backward and routes each input gradient to its producer or leaf. The rule
 * runs in a scope of its own: its temporaries go as soon as it is done, and the gradients
 * live only as long as the slots that accumulate them (a step's peak memory is then the
 * forward's activations plus a few gradients, not every gradient of the step). */
static lam_status step(lam_node *n) {
    lam_tensor *gin[LAM_NODE_MAX_IN] = {NULL};
    lam_scope_begin();
    lam_status st = n->backward(n, n->gout, gin);
    for (int i = 0; st == LAM_OK && i < n->n_in; ++i) {
        lam_tensor *x = n->in[i];
        if (!gin[i] || !x->requires_grad) continue;
        if (x->graph_freed) {
            st = lam_set_error(LAM_ERR_STATE, "lam_backward: %s's input was freed by an earlier lam_backward", n->op);
            break;
        }
        if (x->grad_fn) st = accumulate(&x->grad_fn->gout, gin[i], false);
        else st = accumulate(&x->grad, gin[i], true);   /* a leaf keeps its own copy */
    }
    lam_scope_end();
    return st;
}

static lam_status check_output(const lam_tensor *out, const lam_tensor *grad) {
    char a[96], b[96];
    if (out->graph_freed)
        return lam_set_error(LAM_ERR_STATE, "lam_backward: the graph of this tensor was freed by an earlier lam_backward");
    if (!out->requires_grad)
        return lam_set_error(LAM_ERR_STATE, "lam_backward: tensor does not require grad (no input of it requires grad)");
    if (!grad && lam_numel(out) != 1)
        return lam_set_error(LAM_ERR_SHAPE, "lam_backward: output of shape %s is not a scalar; use lam_backward_with",
                             lam_shape_str(out, a, sizeof a));
    if (grad && (grad->ndim != out->ndim || lam_numel(grad) != lam_numel(out) ||
                 grad->storage->dev != out->storage->dev))
        return lam_set_error(LAM_ERR_SHAPE, "lam_backward_with: gradient %s on %s does not match output %s on %s",
                             lam_shape_str(grad, a, sizeof a), grad->storage->dev->spec, lam_shape_str(out, b, sizeof b),
                             out->storage->dev->spec);
    return LAM_OK;
}

lam_status lam_backward_with(lam_tensor *out, lam_tensor *grad) {
    if (!out) {
        lam_null_arg("lam_backward");
        return lam_last_status();
    }
    lam_status st = check_output(out, grad);
    if (st != LAM_OK) return st;
    bool mode = lam_grad_enabled(false);   /* backward itself is not recorded */
    lam_tensor *seed = grad ? grad : lam_ones_like(out);
    if (!seed) {
        lam_grad_enabled(mode);
        return lam_last_status();
    }
    if (!out->grad_fn) {   /* a leaf: its gradient is the seed */
        st = accumulate(&out->grad, seed, true);
        if (st == LAM_OK) st = lam_grad_hook_leaf(out);
        lam_grad_enabled(mode);
        return st;
    }
    lam_node *start = out->grad_fn;
    lam_grad_plan plan;   /* which leaves are final after which node, for this thread's hook */
    st = lam_grad_plan_make(&plan, start);
    if (st == LAM_OK) st = accumulate(&start->gout, seed, false);
    for (size_t i = start->slot + 1; st == LAM_OK && i-- > 0;) {
        lam_node *n = lam_tape_at(i);
        if (!n) continue;
        bool leads = n->gout != NULL;   /* else it does not lead to the output */
        if (leads) st = step(n);
        if (st == LAM_OK) st = lam_grad_plan_fire(&plan, n);
        if (leads) lam_node_free(n, true);
    }
    lam_grad_plan_free(&plan);
    lam_tape_compact(lam_scope_tape_mark());
    lam_grad_enabled(mode);
    return st;
}

lam_status lam_backward(lam_tensor *loss) { return lam_backward_with(loss, NULL); }
