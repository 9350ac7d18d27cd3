/* state_dicts: a module's named tensors, in memory and in safetensors files. For PyTorch
 * users, the names map one to one:
 *
 *   PyTorch                                       lamina
 *   torch.save(model.state_dict(), p)             lam_save(model, p)
 *   model.load_state_dict(torch.load(p))          lam_load(model, p)
 *   sd = model.state_dict()                       sd = lam_module_state_dict(model)
 *   model.load_state_dict(sd)                     lam_module_load_state_dict(model, sd, NULL, NULL)
 *   r = model.load_state_dict(sd, strict=False)   lam_module_load_state_dict(model, sd,
 *                                                     &(lam_load_options){.non_strict = true}, &r)
 *   best = copy.deepcopy(model.state_dict())      best = lam_state_dict_copy(sd, NULL)
 *   sd[k], sd[k] = t, del sd[k], len(sd)          lam_state_dict_get / _set / _remove / _size
 *   safetensors.torch.save_file(sd, p, meta)      lam_state_dict_set_metadata + lam_safetensors_save
 *   safetensors.torch.load_file(p, device)        lam_safetensors_load(p, dev)
 *
 * Keys are PyTorch's dotted names ("0.net.2.weight"), in PyTorch's order: a module's own
 * parameters, then its persistent buffers, then its children's, depth first. Files are
 * safetensors, which PyTorch and Hugging Face read and write.
 *
 * Keep the best model of a run in memory, then restore it:
 *
 *   lam_state_dict *best = NULL;
 *   ... after an epoch that improved:
 *       lam_state_dict *sd = lam_module_state_dict(net);        // shares the model's storage
 *       lam_state_dict_free(best);
 *       best = lam_state_dict_copy(sd, lam_device_get("cpu"));  // a copy of its own, on the host
 *       lam_state_dict_free(sd);
 *   ... at the end:
 *       lam_module_load_state_dict(net, best, NULL, NULL);       // strict: all keys, all shapes
 *       lam_state_dict_free(best);
 *
 * Load a pretrained backbone into a bigger model; see what did not match:
 *
 *   lam_load_result r;
 *   lam_load_options opt = {.non_strict = true, .prefix = "backbone."};
 *   if (lam_module_load_file(encoder, "pretrained.safetensors", &opt, &r) == LAM_OK)
 *       for (int i = 0; i < r.n_missing; ++i) printf("not in the file: %s\n", r.missing_keys[i]);
 *   lam_load_result_free(&r);
 *
 * Lazy layers that have not run yet take their shapes from what they load (PyTorch's lazy
 * modules do the same): a model of LazyLinear layers loads a file without a forward first.
 *
 * Every load checks every key, dtype and shape before it writes anything (a mismatched
 * shape fails even when not strict, as in PyTorch); on error the model is unchanged. Tensors
 * are copied onto each parameter's own device.
 */
#ifndef LAMINA_STATE_DICT_H
#define LAMINA_STATE_DICT_H

#include "lamina/module.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An ordered map from names to tensors, with string metadata. It holds one reference to
 * each tensor; lam_state_dict_free releases them. */
typedef struct lam_state_dict lam_state_dict;

/* model.state_dict(): m's parameters and persistent buffers. The tensors share storage with
 * the module (writing into one writes the model, as in PyTorch) and do not require grad.
 * NULL with LAM_ERR_STATE while a lazy layer still waits for its first forward (it has no
 * tensors to share yet). */
LAM_API lam_state_dict *lam_module_state_dict(lam_module *m);
/* An empty dict, to fill with lam_state_dict_set. */
LAM_API lam_state_dict *lam_state_dict_new(void);
/* A deep copy, tensors with storage of their own, on dev (NULL: each on its own device),
 * metadata included. */
LAM_API lam_state_dict *lam_state_dict_copy(const lam_state_dict *sd, lam_device *dev);
LAM_API void lam_state_dict_free(lam_state_dict *sd);

/* Number of entries (len(sd)); 0 for NULL. */
LAM_API int lam_state_dict_size(const lam_state_dict *sd);
/* Entry i in order (0 <= i < size): its key and its tensor (owned by the dict); NULL outside. */
LAM_API const char *lam_state_dict_key(const lam_state_dict *sd, int i);
LAM_API lam_tensor *lam_state_dict_value(const lam_state_dict *sd, int i);
/* sd[key], or NULL (and no error) if there is no such key. */
LAM_API lam_tensor *lam_state_dict_get(const lam_state_dict *sd, const char *key);
/* sd[key] = t: a new key goes last, an existing one keeps its place. The dict takes a
 * reference of its own (t stays in its scope). Keys are non-empty, under 256 bytes, and
 * "__metadata__" is reserved. */
LAM_API lam_status lam_state_dict_set(lam_state_dict *sd, const char *key, lam_tensor *t);
/* del sd[key]; LAM_ERR_ARG if there is none. */
LAM_API lam_status lam_state_dict_remove(lam_state_dict *sd, const char *key);

/* String metadata, saved as the safetensors header's "__metadata__" (lam_save writes
 * {"format": "pt", "producer": "lamina"}). */
LAM_API const char *lam_state_dict_metadata(const lam_state_dict *sd, const char *key);   /* NULL if absent */
LAM_API lam_status lam_state_dict_set_metadata(lam_state_dict *sd, const char *key, const char *value);
LAM_API int lam_state_dict_metadata_count(const lam_state_dict *sd);
LAM_API const char *lam_state_dict_metadata_key(const lam_state_dict *sd, int i);

/* --- loading into a module ------------------------------------------------------------ */

typedef struct {
    /* PyTorch's strict=False: keys missing from the source and keys the module does not
     * have are listed in the result instead of failing the load. Shapes and dtypes of the
     * keys that match must still agree. Zero (the default) is strict. */
    bool non_strict;
    /* Only the source's keys that start with prefix count, with it removed: prefix
     * "backbone." loads "backbone.0.weight" into the module's "0.weight" and ignores
     * "head.weight". NULL or "" takes every key as it is. */
    const char *prefix;
} lam_load_options;

/* What a load found (PyTorch's _IncompatibleKeys). Filled whenever the keys were compared,
 * on success and on a strict failure alike; free it with lam_load_result_free. */
typedef struct {
    int n_missing;
    char **missing_keys;      /* the module's keys the source lacks, in the module's order */
    int n_unexpected;
    char **unexpected_keys;   /* the source's keys (prefix included) the module lacks, its order */
} lam_load_result;

LAM_API void lam_load_result_free(lam_load_result *r);

/* model.load_state_dict(sd, strict): copies sd's tensors into m's parameters and buffers.
 * opt NULL: strict, no prefix. result may be NULL. */
LAM_API lam_status lam_module_load_state_dict(lam_module *m, const lam_state_dict *sd, const lam_load_options *opt,
                                              lam_load_result *result);
/* The same from a safetensors file, read once (lam_load(m, path) is this with NULL, NULL). */
LAM_API lam_status lam_module_load_file(lam_module *m, const char *path, const lam_load_options *opt,
                                        lam_load_result *result);

/* --- safetensors files without a module -------------------------------------------------- */

/* safetensors.torch.load_file: every tensor of the file, in the file's order, on dev (NULL:
 * the default device), with its metadata. The whole file is validated first: LAM_ERR_IO or
 * LAM_ERR_FORMAT (NULL) on any defect. */
LAM_API lam_state_dict *lam_safetensors_load(const char *path, lam_device *dev);
/* safetensors.torch.save_file: sd's tensors (any device, any layout) and its metadata, in
 * sd's order. Atomic: a crash leaves the old file whole, never half a new one. */
LAM_API lam_status lam_safetensors_save(const lam_state_dict *sd, const char *path);

#ifdef __cplusplus
}
#endif
#endif
