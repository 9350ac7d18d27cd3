/* What every backend asks of a lam_view, and the size classes both memory pools share. */
#ifndef LAM_BACKEND_VIEW_H
#define LAM_BACKEND_VIEW_H

#include <stddef.h>

#include "backend/backend.h"
#include "cl/common.h"

/* The view as kernels see it (cl/common.h): unused dimensions have size 1, stride 0. */
lam_layout lam_view_layout(const lam_view *v);
/* Row-major contiguous (dimensions of size 1 may have any stride). */
bool lam_view_contiguous(const lam_view *v);
int64_t lam_view_numel(const lam_view *v);
/* Rewrites n views of one shape (an op's output and inputs) with as few dimensions as
 * possible: size-1 dims dropped, and neighbours merged where every view steps through them
 * as one. Their elements keep their order; strided loops then index fewer dims. */
void lam_views_coalesce(lam_view *const *views, int n);

/* Pool size classes: quarter powers of two from 256 bytes, so every cached block of a
 * class has the same size and the first one found is the best fit. */
#define LAM_POOL_MIN_SHIFT 8
#define LAM_POOL_CLASSES (4 * (48 - LAM_POOL_MIN_SHIFT))
/* The class of a request and its rounded size; -1 beyond the largest class. */
int lam_pool_size_class(size_t bytes, size_t *rounded);

#endif
