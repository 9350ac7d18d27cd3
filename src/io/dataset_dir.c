/* A dataset from a directory of IDX files: finds the split's images and labels by name,
 * whatever the data set calls them (train-images-idx3-ubyte.gz, emnist-letters-test-labels-
 * idx1-ubyte, ...), plain or gzip. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "lamina/data.h"

typedef struct {
    char name[2][512];   /* up to two candidates; more is an error anyway */
    int count;
} candidates;

static bool has(const char *lower, const char *word) { return strstr(lower, word) != NULL; }

static bool is_split(const char *lower, bool train) {
    return train ? has(lower, "train") : has(lower, "t10k") || has(lower, "test");
}

static void add(candidates *c, const char *name) {
    if (c->count < 2) snprintf(c->name[c->count], sizeof c->name[0], "%s", name);
    c->count++;
}

/* The one candidate; "x" beside "x.gz" (an unpacked copy) counts as one: the plain file. */
static const char *pick(const candidates *c) {
    if (c->count == 1) return c->name[0];
    if (c->count != 2) return NULL;
    for (int i = 0; i < 2; ++i) {
        size_t len = strlen(c->name[i]);
        if (len == strlen(c->name[1 - i]) + 3 && !strncmp(c->name[i], c->name[1 - i], len - 3) &&
            !strcmp(c->name[i] + len - 3, ".gz"))
            return c->name[1 - i];
    }
    return NULL;
}

static bool regular_file(const char *dir, const char *name) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Sorts the directory's IDX files of the split into images and labels. */
static lam_status scan(const char *dir, bool train, candidates *images, candidates *labels) {
    DIR *dp = opendir(dir);
    if (!dp) return lam_set_error(LAM_ERR_IO, "lam_dataset_load_dir: cannot open the directory %s", dir);
    struct dirent *e;
    while ((e = readdir(dp))) {
        char lower[512];
        size_t i = 0;
        for (; e->d_name[i] && i + 1 < sizeof lower; ++i) lower[i] = (char)tolower((unsigned char)e->d_name[i]);
        lower[i] = 0;
        if (!has(lower, "idx") || !is_split(lower, train) || !regular_file(dir, e->d_name)) continue;
        if (has(lower, "label")) add(labels, e->d_name);
        else if (has(lower, "image")) add(images, e->d_name);
    }
    closedir(dp);
    return LAM_OK;
}

static lam_status choose(const char *dir, const candidates *c, const char *what, const char *example, char *out,
                         size_t size) {
    const char *one = pick(c);
    if (one) {
        snprintf(out, size, "%s/%s", dir, one);
        return LAM_OK;
    }
    if (c->count == 0)
        return lam_set_error(LAM_ERR_IO, "lam_dataset_load_dir: %s has no IDX file of %s (such as %s[.gz])", dir, what,
                             example);
    return lam_set_error(LAM_ERR_FORMAT, "lam_dataset_load_dir: %s has %d IDX files of %s (%s, %s%s): which one?", dir,
                         c->count, what, c->name[0], c->name[1], c->count > 2 ? ", ..." : "");
}

lam_dataset *lam_dataset_load_dir(const char *dir, const char *split) {
    if (!dir || !split) LAM_FAIL_NULL(LAM_ERR_ARG, "lam_dataset_load_dir: NULL argument");
    bool train = !strcmp(split, "train");
    if (!train && strcmp(split, "test"))
        LAM_FAIL_NULL(LAM_ERR_ARG, "lam_dataset_load_dir: split \"%s\" is not \"train\" or \"test\"", split);
    candidates images = {0}, labels = {0};
    char ipath[4096], lpath[4096];
    if (scan(dir, train, &images, &labels) != LAM_OK ||
        choose(dir, &images, train ? "training images" : "test images",
               train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte", ipath, sizeof ipath) != LAM_OK ||
        choose(dir, &labels, train ? "training labels" : "test labels",
               train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte", lpath, sizeof lpath) != LAM_OK)
        return NULL;
    return lam_dataset_load_idx(ipath, lpath);
}
