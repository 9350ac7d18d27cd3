/* Autograd: a tape records every op whose inputs require grad; lam_backward replays it.
 *
 *   lam_tensor *w = lam_keep(lam_requires_grad(lam_randn(LAM_SHAPE(3, 2), dev), true));
 *   lam_scope_begin();
 *   lam_tensor *loss = lam_sum(lam_relu(lam_matmul(x, w)));
 *   lam_backward(loss);              // w's gradient accumulates into lam_grad(w)
 *   lam_scope_end();                 // the step's temporaries and tape entries go
 *
 * Gradients accumulate: a tensor used twice gets the sum. Clear them between steps with
 * lam_clear_grad (or a module's lam_zero_grad). Forward is plain C: loops and branches
 * on lam_item values are fine.
 */
#ifndef LAMINA_AUTOGRAD_H
#define LAMINA_AUTOGRAD_H

#include "lamina/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Marks a leaf (a tensor no op produced) as needing a gradient. Returns t. f32 only. */
LAM_API lam_tensor *lam_requires_grad(lam_tensor *t, bool requires);
LAM_API bool lam_tensor_requires_grad(const lam_tensor *t);
/* Backpropagates from a one-element tensor. The nodes it used are freed after. */
LAM_API lam_status lam_backward(lam_tensor *loss);
/* The same from any tensor, with d(output) given (same shape as output). */
LAM_API lam_status lam_backward_with(lam_tensor *output, lam_tensor *grad_output);
/* The accumulated gradient of t, or NULL. Owned by t: do not release. */
LAM_API lam_tensor *lam_grad(const lam_tensor *t);
LAM_API void lam_clear_grad(lam_tensor *t);
/* Turns recording on or off for this thread; returns the previous setting (no_grad). */
LAM_API bool lam_grad_enabled(bool enabled);
LAM_API bool lam_is_grad_enabled(void);
/* A view of t's data with no history and no grad requirement. */
LAM_API lam_tensor *lam_detach(lam_tensor *t);

/* Gradient-ready hook: work that overlaps backward. Data parallel training (lamina/dist.h)
 * starts sending a layer's gradients while backward is still differentiating the layers
 * before it:
 *
 *   static lam_status ready(lam_tensor *leaf, void *user) { ...; return LAM_OK; }
 *   lam_grad_hook old = lam_set_grad_hook((lam_grad_hook){ready, &state});
 *   lam_backward(loss);                    // ready(w) as soon as lam_grad(w) is final
 *   lam_set_grad_hook(old);
 *
 * While this thread has a hook, lam_backward calls fn(leaf, user_data) once for every leaf
 * that requires grad and takes part in the graph, as soon as its gradient is final: right
 * after the last node that uses it ran, so leaves come in the order backward finishes them
 * (the output layer's first). lam_grad(leaf) then holds all this backward adds (NULL when
 * those nodes gave it no gradient). Leaves outside the graph are not reported. A hook
 * returning other than LAM_OK stops backward with that status (and the error of the lamina
 * call that failed in it, else "lam_backward: the gradient hook returned LAM_ERR_..."). The
 * hook is per thread; lam_set_grad_hook returns the previous one so it can be restored;
 * {NULL, NULL} removes it. Without a hook backward does no extra work. */
typedef lam_status (*lam_grad_ready_fn)(lam_tensor *leaf, void *user_data);
typedef struct {
    lam_grad_ready_fn fn;
    void *user_data;
} lam_grad_hook;
LAM_API lam_grad_hook lam_set_grad_hook(lam_grad_hook hook);

/* A function of tensors, for gradcheck: returns one tensor (any shape). */
typedef lam_tensor *(*lam_tensor_fn)(lam_tensor *const *inputs, int n, void *user_data);
/* Compares analytic gradients of fn at inputs (f32 leaves requiring grad) with central
 * differences of step eps: every element must satisfy |a - n| <= tol * (1 + |n|).
 * LAM_OK, or LAM_ERR_STATE with the worst element named in lam_last_error(). */
LAM_API lam_status lam_gradcheck(lam_tensor_fn fn, void *user_data, lam_tensor *const *inputs, int n,
                                 float eps, float tol);

#ifdef __cplusplus
}
#endif
#endif
