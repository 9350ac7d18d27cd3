/* Shared test helpers; see test_util.h. */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tu_devices(lam_device **out, int max)
{
    const char *env = getenv("LAMINA_TEST_DEVICES");
    int n = 0;
    if (env && *env) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", env);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && n < max;
             tok = strtok_r(NULL, ",", &save)) {
            lam_device *d = lam_device_get(tok);
            if (!d) {
                fprintf(stderr, "LAMINA_TEST_DEVICES: no device \"%s\": %s\n", tok, lam_last_error());
                lam_clear_error();
                continue;
            }
            out[n++] = d;
        }
        if (n == 0) {   /* a run that tests nothing must not pass */
            fprintf(stderr, "LAMINA_TEST_DEVICES=\"%s\" names no usable device\n", env);
            exit(1);
        }
        return n;
    }
    int count = lam_device_count();
    for (int i = 0; i < count && n < max; i++) {
        lam_device *d = lam_device_at(i);
        if (d) out[n++] = d;
        else fprintf(stderr, "skipping device %d: %s\n", i, lam_last_error());   /* refused: its limit named */
        lam_clear_error();
    }
    return n;
}

double tu_norm_err(const double *got, const double *ref, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = got[i] - ref[i];
        num += d * d;
        den += ref[i] * ref[i];
    }
    if (isnan(num)) return INFINITY;
    return sqrt(num) / fmax(sqrt(den), 1e-30);
}

double tu_max_abs_diff(const double *got, const double *ref, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs(got[i] - ref[i]);
        if (isnan(d)) return INFINITY;
        if (d > m) m = d;
    }
    return m;
}

double *tu_read(const lam_tensor *t)
{
    if (!t) return NULL;
    int64_t n = lam_numel(t);
    lam_dtype dt = lam_tensor_dtype(t);
    size_t es = lam_dtype_size(dt);
    void *raw = malloc((size_t)(n > 0 ? n : 1) * es);
    double *out = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    if (!raw || !out || lam_read(t, raw, (size_t)n * es) != LAM_OK) {
        free(raw);
        free(out);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
        if (dt == LAM_F32) out[i] = ((const float *)raw)[i];
        else if (dt == LAM_I32) out[i] = ((const int32_t *)raw)[i];
        else out[i] = (double)((const int64_t *)raw)[i];
    }
    free(raw);
    return out;
}

lam_tensor *tu_from_doubles(const double *v, int ndim, const int64_t *shape, lam_device *dev)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    float *f = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (!f) return NULL;
    for (int64_t i = 0; i < n; i++) f[i] = (float)v[i];
    lam_tensor *t = lam_from_data(f, LAM_F32, ndim, shape, dev);
    free(f);
    return t;
}

void tu_fill_uniform(double *v, int64_t n, double lo, double hi, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;   /* xorshift64 */
        double u = (double)(s >> 40) / (double)(1ull << 24);
        v[i] = (double)(float)(lo + (hi - lo) * u);
    }
}

void tu_strides(int ndim, const int64_t *shape, int64_t *strides)
{
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i];
    }
}

bool tu_broadcast(int na, const int64_t *a, int nb, const int64_t *b, int *nout, int64_t *out)
{
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int64_t da = i < n - na ? 1 : a[i - (n - na)];
        int64_t db = i < n - nb ? 1 : b[i - (n - nb)];
        if (da != db && da != 1 && db != 1) return false;
        out[i] = da == 1 ? db : da;
    }
    *nout = n;
    return true;
}

int64_t tu_bcast_index(int64_t i, int no, const int64_t *so, int na, const int64_t *sa)
{
    int64_t sta[LAM_MAX_DIMS];
    tu_strides(na, sa, sta);
    int64_t idx = 0;
    for (int d = no - 1; d >= 0; d--) {
        int64_t c = i % so[d];
        i /= so[d];
        int ad = d - (no - na);
        if (ad >= 0 && sa[ad] != 1) idx += c * sta[ad];
    }
    return idx;
}

double *tu_ref_matmul(const double *a, int na, const int64_t *sa, const double *b, int nb,
                      const int64_t *sb, int *nout, int64_t *out_shape)
{
    /* promote 1-D operands: a (k) -> (1, k), b (k) -> (k, 1); remove those dims after */
    int64_t pa[LAM_MAX_DIMS], pb[LAM_MAX_DIMS];
    int qa = na, qb = nb;
    if (na == 1) { pa[0] = 1; pa[1] = sa[0]; qa = 2; } else memcpy(pa, sa, (size_t)na * sizeof *sa);
    if (nb == 1) { pb[0] = sb[0]; pb[1] = 1; qb = 2; } else memcpy(pb, sb, (size_t)nb * sizeof *sb);
    int64_t m = pa[qa - 2], k = pa[qa - 1], n = pb[qb - 1];
    if (pb[qb - 2] != k) return NULL;
    int nbatch;
    int64_t bshape[LAM_MAX_DIMS];
    if (!tu_broadcast(qa - 2, pa, qb - 2, pb, &nbatch, bshape)) return NULL;
    int64_t batch = 1;
    for (int i = 0; i < nbatch; i++) batch *= bshape[i];
    double *c = calloc((size_t)(batch * m * n > 0 ? batch * m * n : 1), sizeof(double));
    if (!c) return NULL;
    for (int64_t bi = 0; bi < batch; bi++) {
        int64_t ia = tu_bcast_index(bi, nbatch, bshape, qa - 2, pa) * m * k;
        int64_t ib = tu_bcast_index(bi, nbatch, bshape, qb - 2, pb) * k * n;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0;
                for (int64_t p = 0; p < k; p++) s += a[ia + i * k + p] * b[ib + p * n + j];
                c[bi * m * n + i * n + j] = s;
            }
    }
    int no = 0;
    for (int i = 0; i < nbatch; i++) out_shape[no++] = bshape[i];
    if (na != 1) out_shape[no++] = m;
    if (nb != 1) out_shape[no++] = n;
    *nout = no;
    return c;
}

int64_t tu_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long size = 0, resident = 0;
    int ok = fscanf(f, "%ld %ld", &size, &resident);
    fclose(f);
    if (ok != 2) return -1;
    return (int64_t)resident * (int64_t)sysconf(_SC_PAGESIZE);
}

unsigned char *tu_slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *b = NULL;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)size + 1)) &&
        fread(b, 1, (size_t)size, f) != (size_t)size) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) *n = (size_t)size;
    return b;
}

double tu_max_param_diff(lam_module *a, lam_module *b) {
    enum { MAX_PARAMS = 64 };
    lam_named_tensor pa[MAX_PARAMS], pb[MAX_PARAMS];
    int n = lam_named_parameters(a, pa, MAX_PARAMS);
    if (n < 0 || n > MAX_PARAMS || n != lam_named_parameters(b, pb, MAX_PARAMS)) return -1;
    double worst = 0;
    for (int i = 0; i < n && worst >= 0; ++i) {
        double *x = tu_read(pa[i].tensor), *y = tu_read(pb[i].tensor);
        if (x && y && lam_numel(pa[i].tensor) == lam_numel(pb[i].tensor))
            worst = fmax(worst, tu_max_abs_diff(x, y, lam_numel(pa[i].tensor)));
        else
            worst = -1;
        free(x);
        free(y);
    }
    return worst;
}
