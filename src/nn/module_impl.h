/* The module struct and helpers shared by the files of src/nn. */
#ifndef LAM_NN_MODULE_IMPL_H
#define LAM_NN_MODULE_IMPL_H

#include <stdatomic.h>

#include "lamina/module.h"
#include "lamina/nn.h"
#include "lamina/ops.h"

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

/* How a lazy layer takes its shapes from a state_dict instead of its first input. */
typedef struct {
    char name[LAM_MODULE_NAME_MAX];
    int ndim;
    int64_t shape[LAM_MAX_DIMS];
} lam_lazy_tensor;

typedef struct lam_lazy_ops {
    const char *key;   /* the tensor whose shape fixes the input size ("weight") */
    /* The input size a tensor of that shape implies; false if the layer cannot take it. */
    bool (*infer)(const lam_module *m, int ndim, const int64_t *shape, int64_t *in);
    /* The f32 tensors materialize(m, in) makes, in state_dict order; returns how many. */
    int (*plan)(const lam_module *m, int64_t in, lam_lazy_tensor *out, int max);
    /* Makes and initializes the parameters, and turns the layer eager (the first forward
     * calls it too). */
    lam_status (*materialize)(lam_module *m, int64_t in);
} lam_lazy_ops;

#define LAM_LAZY_MAX_TENSORS 8

struct lam_module {
    atomic_int refcount;            /* atomic: threads may share a model */
    const lam_module_class *cls;   /* may change once: a lazy layer becomes its eager class */
    const lam_module_class_n *cls_n;   /* a module with several inputs: cls is &cls_n->base */
    void *state;
    bool training;
    bool lazy_pending;             /* a lazy layer whose parameters do not exist yet */
    const lam_lazy_ops *lazy;      /* a lazy layer's hooks (NULL for the others) */
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
/* Unregisters and releases m's own parameter `name` (a lazy layer undoing a failed
 * materialization); nothing if there is none. */
void lam_module_drop_param(lam_module *m, const char *name);
/* A lazy layer's parameters: registers an f32 "weight" of w_shape and, when bias_len > 0, a
 * "bias" (bias_len) on m's device without recording grad, then runs m's reset_parameters.
 * All or nothing: on failure both are dropped and *weight, *bias are NULL, so the layer stays
 * lazy and can try again. */
lam_status lam_module_materialize(lam_module *m, int ndim, const int64_t *w_shape, int64_t bias_len,
                                  lam_tensor **weight, lam_tensor **bias);

/* Appends printf-style text to the string in buf (extra_repr), truncating at size. */
void lam_repr_append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Appends "name=(h, w)", or "name=h" when as_int and h == w (how PyTorch prints an int). */
void lam_repr_hw(char *buf, size_t size, const char *name, lam_hw v, bool as_int);

/* PyTorch's default init of a Linear or Conv weight (and bias, if not NULL). */
lam_status lam_nn_reset_affine(lam_tensor *weight, lam_tensor *bias);

/* Visits every (dotted name, tensor) of the tree in state_dict order: a module's own
 * parameters, then its persistent buffers, then its children's. dedupe skips tensors seen
 * already (named_parameters); state_dict keeps them. Stops at the first non-OK return. */
typedef lam_status (*lam_tensor_visit)(const char *name, lam_tensor *t, void *user);
enum { LAM_WALK_PARAMS = 1, LAM_WALK_BUFFERS = 2, LAM_WALK_PERSISTENT_ONLY = 4, LAM_WALK_DEDUPE = 8 };
lam_status lam_module_walk_tensors(lam_module *m, int flags, lam_tensor_visit fn, void *user);
/* The state_dict walk (parameters and persistent buffers, shared tensors under each name)
 * that also calls pending(prefix, layer, user) where a lazy layer still waiting for its
 * first forward sits: prefix is its dotted path with a trailing dot. */
typedef lam_status (*lam_lazy_visit)(const char *prefix, lam_module *layer, void *user);
lam_status lam_module_walk_state(lam_module *m, lam_tensor_visit fn, lam_lazy_visit pending, void *user);
/* The first lazy layer still waiting for its first forward, or NULL; its dotted path in path. */
lam_module *lam_module_find_pending(lam_module *m, char *path, size_t size);

#endif
