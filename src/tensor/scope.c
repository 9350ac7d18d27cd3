/* Scopes: every new tensor handle is owned by the innermost scope until lam_keep.
 *
 * lam_scope_begin cannot fail: scope records live in a per-thread stack (no allocation), so
 * a training step's begin/end pairs always match. Nesting deeper than the stack counts a
 * skipped scope on the innermost one (with an error): the matching lam_scope_end uncounts
 * it, and tensors made in between belong to the enclosing scope. */
#include <stdlib.h>

#include "core/error.h"
#include "tensor/tensor_impl.h"

typedef struct lam_scope {
    lam_tensor **items;   /* NULL where a tensor was kept out */
    size_t count, cap;
    size_t tape_mark;     /* tape length at begin: entries after it die with the scope */
    int skipped;          /* begins that could not allocate, still open above this scope */
    struct lam_scope *outer;
} lam_scope;

#define STACK_DEPTH 256

static _Thread_local lam_scope root_scope;
static _Thread_local lam_scope stack[STACK_DEPTH];
static _Thread_local int depth;
static _Thread_local lam_scope *current;

static lam_scope *innermost(void) { return current ? current : &root_scope; }

lam_tensor *lam_scope_adopt(lam_tensor *t) {
    lam_scope *s = innermost();
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        lam_tensor **items = realloc(s->items, cap * sizeof *items);
        if (!items) {
            lam_release(t);
            LAM_FAIL_NULL(LAM_ERR_OOM, "lam_scope: out of host memory");
        }
        s->items = items;
        s->cap = cap;
    }
    t->scope = s;
    t->scope_slot = s->count;
    s->items[s->count++] = t;
    return t;
}

size_t lam_scope_tape_mark(void) { return current ? current->tape_mark : 0; }

void lam_scope_disown(lam_tensor *t) {
    if (!t->scope) return;
    t->scope->items[t->scope_slot] = NULL;
    t->scope = NULL;
}

lam_tensor *lam_keep(lam_tensor *t) {
    if (!t) {
        lam_null_arg("lam_keep");
        return NULL;
    }
    if (t->scope) lam_scope_disown(t);   /* hand over the scope's reference */
    else lam_retain(t);
    return t;
}

void lam_scope_begin(void) {
    if (depth == STACK_DEPTH) {
        innermost()->skipped++;
        lam_set_error(LAM_ERR_STATE, "lam_scope_begin: scopes nested deeper than %d (tensors go to the innermost open one)",
                      STACK_DEPTH);
        return;
    }
    lam_scope *s = &stack[depth++];
    *s = (lam_scope){0};
    s->tape_mark = lam_tensor_history_mark();
    s->outer = current;
    current = s;
}

lam_status lam_scope_end(void) {
    lam_scope *s = innermost();
    if (s->skipped) {
        s->skipped--;
        return LAM_OK;
    }
    if (!current) return lam_set_error(LAM_ERR_STATE, "lam_scope_end: no scope was begun on this thread");
    lam_tensor_history_truncate(s->tape_mark);
    for (size_t i = s->count; i-- > 0;) {
        lam_tensor *t = s->items[i];
        if (!t) continue;
        t->scope = NULL;
        lam_release(t);
    }
    current = s->outer;
    free(s->items);
    *s = (lam_scope){0};
    depth--;
    return LAM_OK;
}

lam_tensor *lam_scope_end_keep(lam_tensor *t) {
    if (t) lam_keep(t);
    lam_scope_end();
    return t ? lam_scope_adopt(t) : NULL;
}
