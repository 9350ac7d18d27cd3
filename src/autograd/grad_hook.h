/* The gradient-ready hook (lamina/autograd.h): which leaf gradients become final at which
 * node of one lam_backward walk. */
#ifndef LAM_GRAD_HOOK_H
#define LAM_GRAD_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "lamina/autograd.h"
#include "tape/tape.h"

/* For one walk from node `start`: final[slot * LAM_NODE_MAX_IN + i] says that input i of the
 * node at slot is a leaf which no node walked after it uses, so its gradient is final once
 * that node ran. Empty (no allocation) while no hook is set. */
typedef struct {
    lam_grad_hook hook;
    bool *final;
    size_t slots;
} lam_grad_plan;

/* Fills plan for a walk from start when this thread has a hook; LAM_ERR_OOM if it cannot. */
lam_status lam_grad_plan_make(lam_grad_plan *plan, const lam_node *start);
/* Calls the hook for every leaf whose gradient is final after node n; the hook's status. */
lam_status lam_grad_plan_fire(const lam_grad_plan *plan, const lam_node *n);
/* Calls the hook for one leaf (a backward whose output is itself a leaf). */
lam_status lam_grad_hook_leaf(lam_tensor *leaf);
void lam_grad_plan_free(lam_grad_plan *plan);

#endif
