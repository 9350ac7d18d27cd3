/* Atomic file replacement: temporary + fsync + rename + directory fsync, and the removal of
 * temporaries that killed writers left behind. See atomic_file.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/error.h"
#include "io/atomic_file.h"

/* Splits path into its directory ("." if none) and its last component. */
static bool split_path(const char *path, char *dir, size_t size, const char **base) {
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    int n = slash ? snprintf(dir, size, "%.*s", (int)(slash == path ? 1 : slash - path), path)
                  : snprintf(dir, size, ".");
    return n >= 0 && (size_t)n < size && **base;
}

/* The pid in "<base>.tmp.<pid>" or "<base>.tmp.<pid>.<n>", or 0 if name is not one. */
static pid_t temp_owner(const char *name, const char *base) {
    size_t len = strlen(base);
    if (strncmp(name, base, len) || strncmp(name + len, ".tmp.", 5)) return 0;
    const char *p = name + len + 5;
    char *end;
    errno = 0;
    long pid = strtol(p, &end, 10);
    if (errno || end == p || *p == '-' || *p == '+' || pid <= 0 || pid > INT_MAX) return 0;
    if (*end == '.') {   /* the per-process counter */
        const char *q = end + 1;
        if (!*q) return 0;
        for (; *q; ++q)
            if (*q < '0' || *q > '9') return 0;
    } else if (*end) {
        return 0;
    }
    return (pid_t)pid;
}

/* Whether nobody writes the file any more: its process is gone and its lock is free. */
static bool abandoned(int dirfd, const char *name, pid_t pid) {
    if (pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH) return false;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return false;
    bool free_lock = flock(fd, LOCK_EX | LOCK_NB) == 0;
    close(fd);
    return free_lock;
}

int lam_atomic_clean_stale(const char *path) {
    char dir[PATH_MAX];
    const char *base;
    if (!path || !split_path(path, dir, sizeof dir, &base)) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        pid_t pid = temp_owner(e->d_name, base);
        if (pid && abandoned(dirfd(d), e->d_name, pid) && unlinkat(dirfd(d), e->d_name, 0) == 0) ++removed;
    }
    closedir(d);
    return removed;
}

lam_status lam_atomic_open(lam_atomic_file *a, const char *path, const char *op) {
    static atomic_uint counter;   /* threads of one process saving the same path get their own temporaries */
    memset(a, 0, sizeof *a);
    a->op = op;
    if (snprintf(a->path, sizeof a->path, "%s", path) >= (int)sizeof a->path)
        return lam_set_error(LAM_ERR_ARG, "%s: path too long: %s", op, path);
    lam_atomic_clean_stale(path);   /* best effort: a temporary we cannot remove harms nothing */
    for (int tries = 0; tries < 100; ++tries) {
        unsigned n = atomic_fetch_add(&counter, 1);
        if (snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld.%u", path, (long)getpid(), n) >= (int)sizeof a->tmp)
            return lam_set_error(LAM_ERR_ARG, "%s: path too long: %s", op, path);
        int fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) return lam_set_error(LAM_ERR_IO, "%s: cannot create %s: %s", op, a->tmp, strerror(errno));
        if (flock(fd, LOCK_EX) != 0 || !(a->f = fdopen(fd, "wb"))) {
            int err = errno;
            close(fd);
            unlink(a->tmp);
            return lam_set_error(LAM_ERR_IO, "%s: cannot open %s: %s", op, a->tmp, strerror(err));
        }
        return LAM_OK;
    }
    return lam_set_error(LAM_ERR_IO, "%s: no free temporary name for %s", op, path);
}

void lam_atomic_abort(lam_atomic_file *a) {
    if (a->f) fclose(a->f);
    a->f = NULL;
    unlink(a->tmp);
}

/* fsync of the directory makes the rename itself durable; EINVAL: the file system has none. */
static bool sync_dir(const char *path) {
    char dir[PATH_MAX];
    const char *base;
    if (!split_path(path, dir, sizeof dir, &base)) return false;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = fsync(fd) == 0 || errno == EINVAL;
    int err = errno;
    close(fd);
    errno = err;
    return ok;
}

lam_status lam_atomic_commit(lam_atomic_file *a) {
    const char *step = "writing";
    bool ok = fflush(a->f) == 0 && fsync(fileno(a->f)) == 0;
    int err = errno;
    if (fclose(a->f) != 0 && ok) {
        ok = false;
        err = errno;
    }
    a->f = NULL;
    if (ok && rename(a->tmp, a->path) != 0) {
        ok = false;
        err = errno;
        step = "renaming";
    }
    if (!ok) {
        unlink(a->tmp);
        return lam_set_error(LAM_ERR_IO, "%s: %s %s failed: %s", a->op, step, a->path, strerror(err));
    }
    if (!sync_dir(a->path))
        return lam_set_error(LAM_ERR_IO, "%s: %s was written, but syncing its directory failed: %s", a->op, a->path,
                             strerror(errno));
    return LAM_OK;
}
