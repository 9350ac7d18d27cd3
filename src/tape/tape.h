/* The tape, as the ops layer sees it: one node per op whose inputs need grad, in creation
 * order, and the grad mode. It records and frees; it runs nothing (the backward engine in
 * src/autograd, above ops, walks it). */
#ifndef LAM_TAPE_H
#define LAM_TAPE_H

#include <stdbool.h>
#include <stddef.h>
#include "lamina/tensor.h"

#define LAM_NODE_MAX_IN 8   /* lam_cat of more inputs joins them in groups of 8 */
#define LAM_NODE_MAX_ARGS 10

typedef struct lam_node lam_node;

/* Sets gin[i] for each input i that needs a gradient (gin[i] arrives NULL; leave NULL to
 * skip). Written with ops, so it runs on every device. Grad mode is off while it runs. */
typedef lam_status (*lam_backward_fn)(lam_node *n, lam_tensor *gout, lam_tensor **gin);

struct lam_node {
    const char *op;
    lam_backward_fn backward;
    int n_in;
    lam_tensor *in[LAM_NODE_MAX_IN];   /* retained */
    lam_tensor *saved;                 /* retained: what backward needs beyond the inputs */
    lam_tensor *out;                   /* not retained; NULL once the output is freed */
    int64_t arg[LAM_NODE_MAX_ARGS];    /* op-specific integers (dims, flags) */
    float farg;                        /* op-specific scalar */
    lam_tensor *gout;                  /* gradient accumulated during backward */
    size_t slot;                       /* index on the tape */
};

/* Records a node producing out if grad mode is on and an input requires grad, and marks
 * out as requiring grad. *node is the node (for args), NULL when nothing was recorded.
 * LAM_ERR_OOM when recording fails: the op must fail then, or gradients would be lost. */
lam_status lam_record(lam_tensor *out, const char *op, lam_backward_fn bw, int n, lam_tensor *const *in,
                      lam_node **node);
/* out with its history (lam_record); NULL when out is NULL or recording failed. node may be NULL. */
lam_tensor *lam_recorded(lam_tensor *out, const char *op, lam_backward_fn bw, int n, lam_tensor *const *in,
                         lam_node **node);
/* Does input i of n need a gradient? */
bool lam_input_needs_grad(const lam_node *n, int i);

size_t lam_tape_length(void);
lam_node *lam_tape_at(size_t i);
/* Frees a node (consumed: by backward, so a second backward through it is an error). */
void lam_node_free(lam_node *n, bool consumed);
/* Drops trailing empty slots, but never below floor (the innermost scope's start). */
void lam_tape_compact(size_t floor);

#endif
