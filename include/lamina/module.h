/* Modules: PyTorch's nn.Module in C. A module is a class plus named children, parameters
 * and buffers; everything else (parameter lists, device moves, state_dict) walks the tree.
 *
 *   typedef struct { lam_module *hidden, *out; } mlp;          // the user's state
 *
 *   static lam_tensor *mlp_forward(lam_module *m, lam_tensor *x) {
 *       mlp *self = lam_self(m);
 *       return lam_forward(self->out, lam_relu(lam_forward(self->hidden, x)));
 *   }
 *   static const lam_module_class MLP = {.name = "MLP", .state_size = sizeof(mlp),
 *                                        .forward = mlp_forward};
 *   lam_module *mlp_new(void) {
 *       lam_module *m = lam_module_new(&MLP);
 *       mlp *self = lam_self(m);
 *       self->hidden = lam_add_module(m, "hidden", lam_nn_lazy_linear(256));
 *       self->out = lam_add_module(m, "out", lam_nn_lazy_linear(10));
 *       return m;
 *   }
 *
 * Ownership: lam_add_module / lam_add_param / lam_add_buffer hand the child or tensor to
 * the parent; lam_module_free(root) frees the tree (a child shared by two parents is
 * reference-counted).
 */
#ifndef LAMINA_MODULE_H
#define LAMINA_MODULE_H

#include <stdio.h>
#include "lamina/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lam_module lam_module;

typedef struct lam_module_class {
    const char *name;                                    /* "Linear", printed in the tree */
    size_t state_size;                                   /* bytes of user state, zeroed */
    lam_tensor *(*forward)(lam_module *m, lam_tensor *x);
    void (*destroy)(lam_module *m);                      /* optional: free what state owns */
    void (*extra_repr)(const lam_module *m, char *buf, size_t size);   /* optional */
    lam_status (*reset_parameters)(lam_module *m);       /* optional: default init */
} lam_module_class;

LAM_API lam_module *lam_module_new(const lam_module_class *cls);
LAM_API void *lam_self(lam_module *m);
LAM_API const void *lam_self_const(const lam_module *m);
LAM_API const lam_module_class *lam_module_class_of(const lam_module *m);
/* Registers child under name (taking the caller's reference); returns child, NULL on error
 * (child freed then, unless it is m or holds m: a cycle, refused, leaves both alone). */
LAM_API lam_module *lam_add_module(lam_module *m, const char *name, lam_module *child);
/* Registers a trainable parameter (marked requires_grad); the module takes t out of its
 * scope. Moves t to the module's device if needed. Returns the tensor it holds. */
LAM_API lam_tensor *lam_add_param(lam_module *m, const char *name, lam_tensor *t);
/* Registers a non-trainable buffer; persistent buffers are saved in state_dicts. */
LAM_API lam_tensor *lam_add_buffer(lam_module *m, const char *name, lam_tensor *t, bool persistent);
/* Runs m's forward. On failure (NULL) the message names the innermost module that failed by
 * its dotted path from the outermost lam_forward and its class:
 *   "body.2 (Linear): input (2, 30) does not match in_features=20"
 * (the outermost module alone: "Linear: ..."). So a class's forward reports what went wrong
 * without naming itself. A forward that returns NULL without an error gets LAM_ERR_STATE. */
LAM_API lam_tensor *lam_forward(lam_module *m, lam_tensor *x);
LAM_API lam_module *lam_module_retain(lam_module *m);
LAM_API void lam_module_free(lam_module *m);

/* Lookups by (dotted) name: "0.net.2" for a module, "0.net.2.weight" for a tensor. */
LAM_API lam_module *lam_module_child(lam_module *m, const char *name);
LAM_API lam_tensor *lam_module_param(lam_module *m, const char *name);
LAM_API lam_tensor *lam_module_buffer(lam_module *m, const char *name);
/* The direct children in registration order: fills up to max (out may be NULL to count);
 * returns how many there are (-1 if m is NULL). A hand-built Sequential's forward uses it. */
LAM_API int lam_module_children(lam_module *m, lam_module **out, int max);
/* The name child i was registered under, or NULL. */
LAM_API const char *lam_module_child_name(const lam_module *m, int i);

/* Tree walks. Names are PyTorch's dotted names. */
typedef struct {
    char name[256];
    lam_tensor *tensor;   /* owned by the module */
} lam_named_tensor;
/* Fills up to max entries (out may be NULL to count); returns the total count. */
LAM_API int lam_named_parameters(lam_module *m, lam_named_tensor *out, int max);
LAM_API int lam_named_buffers(lam_module *m, lam_named_tensor *out, int max);
LAM_API int64_t lam_param_count(lam_module *m);   /* number of scalars in all parameters */
LAM_API void lam_train(lam_module *m, bool training);   /* lam_train(m, false) is eval() */
LAM_API bool lam_is_training(const lam_module *m);
LAM_API void lam_zero_grad(lam_module *m);
/* Calls fn on every module, children first, then m itself (PyTorch's apply). */
LAM_API lam_status lam_module_apply(lam_module *m, lam_status (*fn)(lam_module *, void *), void *user_data);
/* Prints the tree like PyTorch's repr, with each layer's configuration and parameter counts. */
LAM_API void lam_module_print(lam_module *m, FILE *out);

/* Moves parameters, their gradients and buffers to dev in place: the same tensor handles
 * stay valid (an optimizer made before the move keeps working). */
LAM_API lam_status lam_module_to(lam_module *m, lam_device *dev);
LAM_API lam_device *lam_module_device(const lam_module *m);
/* Converts floating parameters, their gradients and floating buffers to dt in place (PyTorch's
 * .half() is lam_module_to_dtype(m, LAM_F16), .float() LAM_F32); integer buffers stay. An f16
 * model runs forward (ops compute in f32 and store f16); optimizers need f32 parameters. */
LAM_API lam_status lam_module_to_dtype(lam_module *m, lam_dtype dt);

/* state_dict as safetensors, readable by PyTorch and Hugging Face. Saving is atomic; loading
 * is strict (missing, unexpected or mis-shaped keys fail) and changes nothing on error; lazy
 * layers that have not run yet take their shapes from the file. lamina/state_dict.h has
 * state_dicts in memory, non-strict and prefixed loads, and safetensors files of any tensors. */
LAM_API lam_status lam_save(lam_module *m, const char *path);
LAM_API lam_status lam_load(lam_module *m, const char *path);

#ifdef __cplusplus
}
#endif
#endif
