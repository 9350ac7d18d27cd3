/* The names of the ops that check indices, by id, and the error they report. */
#include <pthread.h>
#include <string.h>

#include "backend/check.h"
#include "core/error.h"

#define MAX_OPS 64

static const char *names[MAX_OPS];
static int64_t count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int64_t lam_check_op_id(const char *op) {
    pthread_mutex_lock(&lock);
    int64_t id = 0;
    while (id < count && strcmp(names[id], op) != 0) ++id;
    if (id == count && count < MAX_OPS) names[count++] = op;
    pthread_mutex_unlock(&lock);
    return id < MAX_OPS ? id : -1;   /* -1: an op past the table, reported without its name */
}

const char *lam_check_op_name(int64_t id) {
    pthread_mutex_lock(&lock);
    const char *name = id >= 0 && id < count ? names[id] : "an index check";
    pthread_mutex_unlock(&lock);
    return name;
}

lam_status lam_check_fail(int64_t op, int64_t value, int64_t position, int64_t lo, int64_t hi, bool found_later) {
    return lam_set_error(LAM_ERR_ARG, "%s: index %lld at position %lld is out of range [%lld, %lld)%s",
                         lam_check_op_name(op), (long long)value, (long long)position, (long long)lo, (long long)hi,
                         found_later ? " (found on the device, reported by the next read)" : "");
}
