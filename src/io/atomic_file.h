/* Files written whole or not at all: the data goes to a temporary file beside the target,
 * is fsynced, renamed over the target, and the directory is fsynced, so a crash at any
 * point leaves either the old file or the new one.
 *
 *   lam_atomic_file a;
 *   if (lam_atomic_open(&a, path, "lam_save") != LAM_OK) return lam_last_status();
 *   ... fwrite(..., a.f) ...
 *   return ok ? lam_atomic_commit(&a) : (lam_atomic_abort(&a), LAM_ERR_IO);
 *
 * The temporary is "<path>.tmp.<pid>.<n>", locked (flock) while it is written. A process
 * killed mid-write (kill -9, power loss) leaves its temporary behind; the next
 * lam_atomic_open of the same path removes those whose process is gone and whose lock is
 * free (a live writer, even in another PID namespace sharing the directory, holds its lock). */
#ifndef LAM_IO_ATOMIC_FILE_H
#define LAM_IO_ATOMIC_FILE_H

#include <limits.h>
#include <stdio.h>

#include "lamina/error.h"

typedef struct {
    FILE *f;                /* write here */
    const char *op;         /* names the caller in messages */
    char path[PATH_MAX];
    char tmp[PATH_MAX];
} lam_atomic_file;

/* Removes stale temporaries of path, then creates a new one open for writing in a->f. */
lam_status lam_atomic_open(lam_atomic_file *a, const char *path, const char *op);
/* Flushes, fsyncs, closes, renames over the path, fsyncs the directory. On failure the
 * temporary is removed and the old file stays as it was. */
lam_status lam_atomic_commit(lam_atomic_file *a);
/* Closes and removes the temporary; the old file stays as it was. */
void lam_atomic_abort(lam_atomic_file *a);
/* Removes the temporaries of path left by processes that died writing them (done by
 * lam_atomic_open; exposed for tests). Returns how many it removed. */
int lam_atomic_clean_stale(const char *path);

#endif
