/* The module struct and helpers shared by the files of src/nn. */
#ifndef LAM_NN_MODULE_IMPL_H
#define LAM_NN_MODULE_IMPL_H

#include <stdatomic.h>

#include "lamina/module.h"
#include "lamina/nn.h"

#define LAM_MODULE_NAME_MAX 64

typedef struct {
    char name[LAM_MODULE_NAME_MAX];
    lam_module *child;
} lam_child_entry;

typedef struct {
    char name[LAM_MODULE_NAME_MAX];
    lam_tensor *tensor;   /* one reference owned by the module */
    bool persistent;      /* buffers only: saved in state_dicts */
} lam_tensor_entry;

struct lam_module {
    atomic_int refcount;            /* atomic: threads may share a model */
    const lam_module_class *cls;   /* may change once: a lazy layer becomes its eager class */
    const lam_module_class_n *cls_n;   /* a module with several inputs: cls is &cls_n->base */
    void *state;
    bool training;
    bool lazy_pending;             /* a lazy layer whose parameters do not exist yet */
    lam_device *device;            /* where parameters live and lazy layers materialize */
    lam_child_entry *children;
    int n_children, cap_children;
    lam_tensor_entry *params;
    int n_params, cap_params;
    lam_tensor_entry *buffers;
    int n_buffers, cap_buffers;
};

/* A lazy layer turns into its eager class after materializing (LazyLinear -> Linear). */
void lam_module_set_class(lam_module *m, const lam_module_class *cls);

/* Visits every (dotted name, tensor) of the tree in state_dict order: a module's own
 * parameters, then its persistent buffers, then its children's. dedupe skips tensors seen
 * already (named_parameters); state_dict keeps them. Stops at the first non-OK return. */
typedef lam_status (*lam_tensor_visit)(const char *name, lam_tensor *t, void *user);
enum { LAM_WALK_PARAMS = 1, LAM_WALK_BUFFERS = 2, LAM_WALK_PERSISTENT_ONLY = 4, LAM_WALK_DEDUPE = 8 };
lam_status lam_module_walk_tensors(lam_module *m, int flags, lam_tensor_visit fn, void *user);
/* The first lazy layer still waiting for its first forward, or NULL; its dotted path in path. */
lam_module *lam_module_find_pending(lam_module *m, char *path, size_t size);

#endif
