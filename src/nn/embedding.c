/* Embedding: a (num_embeddings, embedding_dim) table whose rows are picked by integer ids,
 * PyTorch's nn.Embedding (weight "weight", initialized N(0, 1)). */
#include <stdio.h>

#include "core/error.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"
#include "nn/module_impl.h"

typedef struct {
    int64_t num, dim;
    lam_tensor *weight;   /* owned by the module's registry */
} embedding_state;

static lam_status embedding_reset(lam_module *m) {
    embedding_state *s = lam_self(m);
    return lam_init_normal_(s->weight, 0.0f, 1.0f);
}

static void embedding_repr(const lam_module *m, char *buf, size_t size) {
    const embedding_state *s = lam_self_const(m);
    snprintf(buf, size, "%lld, %lld", (long long)s->num, (long long)s->dim);
}

static lam_tensor *embedding_forward(lam_module *m, lam_tensor *ids) {
    embedding_state *s = lam_self(m);
    return lam_embedding(ids, s->weight);
}

static const lam_module_class EMBEDDING = {.name = "Embedding", .state_size = sizeof(embedding_state),
                                           .forward = embedding_forward, .extra_repr = embedding_repr,
                                           .reset_parameters = embedding_reset};

lam_module *lam_nn_embedding(int64_t num_embeddings, int64_t embedding_dim) {
    if (num_embeddings <= 0 || embedding_dim <= 0)
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_nn_embedding: sizes must be positive (num_embeddings=%lld, embedding_dim=%lld)",
                      (long long)num_embeddings, (long long)embedding_dim);
    lam_module *m = lam_module_new(&EMBEDDING);
    if (!m) return NULL;
    embedding_state *s = lam_self(m);
    s->num = num_embeddings;
    s->dim = embedding_dim;
    s->weight = lam_add_param(m, "weight", lam_empty(LAM_F32, LAM_SHAPE(num_embeddings, embedding_dim), lam_module_device(m)));
    if (!s->weight || embedding_reset(m) != LAM_OK) {
        lam_module_free(m);
        return NULL;
    }
    return m;
}
