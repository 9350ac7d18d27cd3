#define _POSIX_C_SOURCE 200809L
/* The op harness runner: inputs in every layout and dtype, the reference, sentinels and
 * guards, gradients, timings. See harness.h. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_util.h"

#define SENT 12344.0   /* a sentinel exact in f32 and f16, never produced by a case */
#define GUARD 16       /* elements past the end that lam_read must leave alone */

int64_t h_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= shape[i];
    return n;
}

/* ---- reading any dtype back as doubles ------------------------------------------------- */

static double *read_doubles(lam_tensor *t) {
    if (lam_tensor_dtype(t) != LAM_F16) return tu_read(t);
    lam_scope_begin();
    double *v = tu_read(lam_to_dtype(t, LAM_F32));
    lam_scope_end();
    return v;
}

/* LAMINA_OPS_DIGEST=FILE: a line per result (forward output, or a gradient in the
 * LAMINA_OPS_NO_GRAD=backward mode) appended to FILE: an FNV-1a hash of its values' bits and
 * what it is, so that two runs (1 and 3 cpu threads: tests/ops_threads.sh) compare bit for bit. */
static void digest(const char *what, const char *part, const double *v, int64_t n) {
    const char *path = getenv("LAMINA_OPS_DIGEST");
    if (!path || !*path || !v) return;
    uint64_t h = 1469598103934665603ull;
    const unsigned char *p = (const unsigned char *)v;
    for (size_t i = 0; i < (size_t)n * sizeof *v; ++i) h = (h ^ p[i]) * 1099511628211ull;
    FILE *f = fopen(path, "a");
    if (!f) return;
    fprintf(f, "%016llx %s %s\n", (unsigned long long)h, part, what);
    fclose(f);
}

/* ---- inputs ---------------------------------------------------------------------------- */

typedef struct {
    lam_tensor *t;        /* the op's input: a view in the spec's layout */
    lam_tensor *parent;   /* the tensor whose storage t views */
    double *snapshot;     /* the parent's content after creation, to catch writes into it */
    double *x;            /* t's logical content (after rounding to the run's dtype) */
} h_made;

static bool is_int(lam_dtype dt) { return dt == LAM_I32 || dt == LAM_I64; }

static void fill_values(const h_input *s, double *v, int64_t n, uint64_t seed) {
    tu_fill_uniform(v, n, s->lo, s->hi, seed);
    for (int64_t k = 0; k < n; ++k) {
        if (s->q > 0) v[k] = floor(v[k] / s->q) * s->q;
        if (is_int(s->dtype)) v[k] = floor(v[k]);
    }
}

static void unflatten(int64_t i, int nd, const int64_t *sh, int64_t *c) {
    for (int d = nd - 1; d >= 0; --d) {
        c[d] = i % sh[d];
        i /= sh[d];
    }
}

/* The parent's shape and content for a layout whose logical content is v. */
static double *parent_layout(const h_input *s, h_layout lay, double *v, int64_t *ps) {
    int nd = s->ndim;
    int64_t n = h_numel(nd, s->shape), c[LAM_MAX_DIMS], st[LAM_MAX_DIMS];
    memcpy(ps, s->shape, sizeof s->shape);
    double *p = NULL;
    if (lay == H_TRANSPOSED) {
        ps[nd - 2] = s->shape[nd - 1];
        ps[nd - 1] = s->shape[nd - 2];
        tu_strides(nd, ps, st);
        p = malloc((size_t)n * sizeof *p);
        for (int64_t i = 0; i < n; ++i) {   /* element i sits at its coordinates with the last two swapped */
            unflatten(i, nd, s->shape, c);
            int64_t t = c[nd - 2], j = 0;
            c[nd - 2] = c[nd - 1];
            c[nd - 1] = t;
            for (int k = 0; k < nd; ++k) j += c[k] * st[k];
            p[j] = v[i];
        }
    } else if (lay == H_SLICED) {
        int64_t last = s->shape[nd - 1];
        ps[nd - 1] = 2 * last + 1;
        int64_t pn = h_numel(nd, ps);
        p = malloc((size_t)pn * sizeof *p);
        for (int64_t j = 0; j < pn; ++j) p[j] = SENT;
        for (int64_t i = 0; i < n; ++i) p[(i / last) * ps[nd - 1] + 2 * (i % last) + 1] = v[i];
    } else if (lay == H_EXPANDED) {
        int64_t inner = n / s->shape[0];
        for (int64_t i = inner; i < n; ++i) v[i] = v[i % inner];
        ps[0] = 1;
        p = malloc((size_t)(inner ? inner : 1) * sizeof *p);
        memcpy(p, v, (size_t)inner * sizeof *p);
    } else {
        p = malloc((size_t)(n ? n : 1) * sizeof *p);
        memcpy(p, v, (size_t)n * sizeof *p);
    }
    return p;
}

static lam_tensor *tensor_of(const double *p, int nd, const int64_t *shape, lam_dtype dt, lam_device *d) {
    int64_t n = h_numel(nd, shape);
    if (!is_int(dt)) {
        lam_tensor *f = tu_from_doubles(p, nd, shape, d);
        return dt == LAM_F16 ? lam_to_dtype(f, LAM_F16) : f;
    }
    int64_t *iv = malloc((size_t)(n ? n : 1) * sizeof *iv);
    for (int64_t k = 0; k < n; ++k) iv[k] = (int64_t)p[k];
    lam_tensor *t = lam_to_dtype(lam_from_data(iv, LAM_I64, nd, shape, d), dt);
    free(iv);
    return t;
}

/* Makes input k of a case on d in the run's float dtype (layout as specified, or
 * contiguous when plain). The caller's scope owns the tensors. */
static h_made make_input(const h_input *s, lam_device *d, lam_dtype run_dt, uint64_t seed, bool plain) {
    h_made m = {0};
    int nd = s->ndim;
    h_layout lay = nd == 0 || plain ? H_CONTIG : s->layout;
    if (lay == H_TRANSPOSED && nd < 2) lay = H_CONTIG;
    lam_dtype dt = is_int(s->dtype) ? s->dtype : run_dt;
    int64_t n = h_numel(nd, s->shape), ps[LAM_MAX_DIMS];
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    fill_values(s, v, n, seed);
    double *p = parent_layout(s, lay, v, ps);
    m.parent = tensor_of(p, nd, ps, dt, d);
    free(p);
    free(v);
    if (!m.parent) return m;
    if (lay == H_TRANSPOSED) m.t = lam_transpose(m.parent, nd - 2, nd - 1);
    else if (lay == H_SLICED) m.t = lam_slice(m.parent, nd - 1, 1, 2 * s->shape[nd - 1] + 1, 2);
    else if (lay == H_EXPANDED) m.t = lam_expand(m.parent, nd, s->shape);
    else m.t = m.parent;
    if (lay == H_SLICED) m.snapshot = read_doubles(m.parent);
    m.x = m.t ? read_doubles(m.t) : NULL;
    return m;
}

static void free_made(h_made *m, int n) {
    for (int i = 0; i < n; ++i) {
        free(m[i].snapshot);
        free(m[i].x);
    }
}

/* ---- the reference ----------------------------------------------------------------------- */

/* The cpu device's f32 result on inputs x (contiguous): the reference of cases without one. */
static bool cpu_reference(const h_case *c, double *const *x, int *nd, int64_t *shape, double **out) {
    lam_device *cpu = lam_device_get("cpu");
    lam_tensor *t[H_MAX_IN] = {NULL};
    bool ok = true;
    lam_scope_begin();
    for (int i = 0; i < c->n_in && ok; ++i) {
        const h_input *s = &c->in[i];
        t[i] = tensor_of(x[i], s->ndim, s->shape, is_int(s->dtype) ? s->dtype : LAM_F32, cpu);
        ok = t[i] != NULL;
    }
    lam_tensor *y = ok ? c->build(c, t) : NULL;
    if (y) {
        *nd = lam_ndim(y);
        memcpy(shape, lam_shape(y), (size_t)*nd * sizeof *shape);
        *out = read_doubles(y);
    }
    lam_scope_end();
    return y && *out;
}

static const char *lay_names[] = {"contig", "transposed", "sliced", "expanded"};

static void describe(const h_case *c, lam_dtype dt, lam_device *d, char *buf, size_t size) {
    int w = snprintf(buf, size, "%s [%s] %s on %s", c->op, c->what ? c->what : "", lam_dtype_name(dt),
                     lam_device_spec(d));
    for (int i = 0; i < c->n_in && w < (int)size; ++i) {
        char sh[96];
        const h_input *s = &c->in[i];
        snprintf(sh, sizeof sh, "(");
        for (int k = 0; k < s->ndim; ++k)
            snprintf(sh + strlen(sh), sizeof sh - strlen(sh), "%s%lld", k ? ", " : "", (long long)s->shape[k]);
        w += snprintf(buf + w, size - (size_t)w, " %s%s)", lay_names[s->ndim ? s->layout : 0], sh);
    }
}

/* ---- one forward check --------------------------------------------------------------------- */

static bool same_shape(lam_tensor *y, int nd, const int64_t *shape) {
    if (lam_ndim(y) != nd) return false;
    for (int i = 0; i < nd; ++i)
        if (lam_dim(y, i) != shape[i]) return false;
    return true;
}

/* lam_read of y with GUARD elements of slack: the slack must come back untouched. */
static bool read_leaves_slack(lam_tensor *y) {
    size_t es = lam_dtype_size(lam_tensor_dtype(y)), n = (size_t)lam_numel(y);
    unsigned char *raw = malloc((n + GUARD) * es);
    memset(raw, 0xA5, (n + GUARD) * es);
    bool ok = lam_read(y, raw, (n + GUARD) * es) == LAM_OK;
    for (size_t k = n * es; ok && k < (n + GUARD) * es; ++k) ok = raw[k] == 0xA5;
    free(raw);
    return ok;
}

static int check_forward(const h_case *c, lam_device *d, lam_dtype dt, uint64_t seed) {
    char what[400];
    describe(c, dt, d, what, sizeof what);
    int fails = 0;
    h_made m[H_MAX_IN] = {{0}};
    lam_tensor *t[H_MAX_IN] = {NULL};
    double *x[H_MAX_IN] = {NULL}, *ref = NULL, *got = NULL;
    int nref = 0;
    int64_t rs[LAM_MAX_DIMS];
    lam_scope_begin();
    for (int i = 0; i < c->n_in; ++i) {
        m[i] = make_input(&c->in[i], d, dt, seed + (uint64_t)i * 7919, false);
        t[i] = m[i].t;
        x[i] = m[i].x;
        if (!t[i] || !x[i]) {
            printf("FAIL %s: making input %d: %s\n", what, i, lam_last_error());
            fails++;
            goto done;
        }
    }
    bool have = c->ref ? c->ref(c, x, &nref, rs, &ref) : cpu_reference(c, x, &nref, rs, &ref);
    if (!have) {
        printf("FAIL %s: no reference: %s\n", what, lam_last_error());
        fails++;
        goto done;
    }
    lam_tensor *y = c->build(c, t);
    if (!y) {
        printf("FAIL %s: returned NULL: %s\n", what, lam_last_error());
        fails++;
        goto done;
    }
    if (!same_shape(y, nref, rs)) {
        char s[96];
        printf("FAIL %s: shape %s, want %d dims\n", what, lam_shape_str(y, s, sizeof s), nref);
        fails++;
        goto done;
    }
    if (!read_leaves_slack(y)) {
        printf("FAIL %s: lam_read failed or wrote past the end: %s\n", what, lam_last_error());
        fails++;
    }
    int64_t n = h_numel(nref, rs);
    got = read_doubles(y);
    digest(what, "y", got, n);
    double err = got ? tu_norm_err(got, ref, n) : INFINITY;
    double tol = dt == LAM_F16 ? c->tol_f16 : c->tol > 0 ? c->tol : 1e-6;
    if (!(err <= tol)) {
        printf("FAIL %s: normalized error %.3g > %.1e\n", what, err, tol);
        for (int64_t k = 0, shown = 0; got && k < n && shown < 4; ++k)
            if (fabs(got[k] - ref[k]) > tol * (1 + fabs(ref[k]))) {
                printf("     [%lld] got %.9g want %.9g\n", (long long)k, got[k], ref[k]);
                shown++;
            }
        fails++;
    }
    for (int i = 0; i < c->n_in; ++i) {
        if (!m[i].snapshot) continue;
        double *now = read_doubles(m[i].parent);
        int64_t pn = lam_numel(m[i].parent);
        if (!now || memcmp(now, m[i].snapshot, (size_t)pn * sizeof *now) != 0) {
            printf("FAIL %s: the op wrote into input %d's parent (outside the slice)\n", what, i);
            fails++;
        }
        free(now);
    }
done:
    lam_scope_end();
    if (lam_device_check_guards(d) != LAM_OK) {
        printf("FAIL %s: %s\n", what, lam_last_error());
        fails++;
    }
    lam_clear_error();
    free_made(m, c->n_in);
    free(ref);
    free(got);
    return fails;
}

/* ---- gradients --------------------------------------------------------------------------- */

typedef struct {
    const h_case *c;
    lam_tensor *all[H_MAX_IN];
    int slot[H_MAX_IN];   /* where gradcheck's input k goes in all[] */
} grad_closure;

static lam_tensor *grad_fn(lam_tensor *const *in, int n, void *user) {
    grad_closure *g = user;
    lam_tensor *all[H_MAX_IN];
    memcpy(all, g->all, sizeof all);
    for (int k = 0; k < n; ++k) all[g->slot[k]] = in[k];
    return g->c->build(g->c, all);
}

/* once: no gradcheck, one backward of sum(output) (LAMINA_OPS_NO_GRAD=backward) */
static int check_grad(const h_case *c, lam_device *d, uint64_t seed, bool once) {
    char what[400];
    describe(c, LAM_F32, d, what, sizeof what);
    grad_closure g = {.c = c};
    lam_tensor *leaves[H_MAX_IN];
    h_made m[H_MAX_IN] = {{0}};
    int n = 0, fails = 0;
    lam_scope_begin();
    lam_manual_seed(42);
    for (int i = 0; i < c->n_in; ++i) {
        const h_input *s = &c->in[i];
        bool leaf = !is_int(s->dtype) && !s->constant;
        /* an expanded leaf would share one element among many: differentiate it contiguous */
        m[i] = make_input(s, d, LAM_F32, seed + (uint64_t)i * 7919, s->layout == H_EXPANDED);
        g.all[i] = m[i].t;
        if (leaf && m[i].t) {
            leaves[n] = lam_requires_grad(m[i].t, true);
            g.slot[n++] = i;
        }
    }
    float eps = c->grad_eps > 0 ? c->grad_eps : 1e-2f, tol = c->grad_tol > 0 ? c->grad_tol : 2e-2f;
    lam_status st = once && n ? lam_backward(lam_sum(grad_fn(leaves, n, &g)))
                    : n ? lam_gradcheck(grad_fn, &g, leaves, n, eps, tol) : LAM_ERR_ARG;
    if (st != LAM_OK) {
        printf("FAIL gradient of %s: %s\n", what, n ? lam_last_error() : "no input to differentiate");
        fails++;
    }
    for (int k = 0; once && st == LAM_OK && k < n; ++k) {
        double *gk = read_doubles(lam_grad(leaves[k]));
        char part[16];
        snprintf(part, sizeof part, "d%d", k);
        digest(what, part, gk, lam_numel(leaves[k]));
        free(gk);
    }
    lam_scope_end();
    if (lam_device_check_guards(d) != LAM_OK) {
        printf("FAIL gradient of %s: %s\n", what, lam_last_error());
        fails++;
    }
    lam_clear_error();
    free_made(m, c->n_in);
    return fails;
}

/* ---- timings ----------------------------------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void time_case(const h_case *c, lam_device *d, lam_dtype dt) {
    h_made m[H_MAX_IN] = {{0}};
    lam_tensor *t[H_MAX_IN];
    double bytes = 0;
    lam_scope_begin();
    for (int i = 0; i < c->n_in; ++i) {
        m[i] = make_input(&c->in[i], d, dt, 99 + (uint64_t)i, false);
        t[i] = m[i].t;
        bytes += (double)(lam_numel(t[i]) * (int64_t)lam_dtype_size(lam_tensor_dtype(t[i])));
    }
    lam_tensor *y = c->build(c, t);
    if (y) {
        bytes += (double)(lam_numel(y) * (int64_t)lam_dtype_size(lam_tensor_dtype(y)));
        int reps = 0;
        double t0 = now_s(), t1 = t0;
        while (t1 - t0 < 0.05 || reps < 3) {
            lam_scope_begin();
            c->build(c, t);
            lam_scope_end();
            ++reps;
            if (reps % 8 == 0 || t1 - t0 >= 0.05) lam_device_synchronize(d);
            t1 = now_s();
        }
        lam_device_synchronize(d);
        double per = (now_s() - t0) / reps;
        char what[400];
        describe(c, dt, d, what, sizeof what);
        printf("perf %-90s %9.1f us %8.2f GB/s", what, per * 1e6, bytes / per * 1e-9);
        if (c->flops > 0) printf(" %8.2f GFLOP/s", c->flops / per * 1e-9);
        printf("\n");
    }
    lam_scope_end();
    lam_clear_error();
    free_made(m, c->n_in);
}

/* ---- families -------------------------------------------------------------------------- */

/* LAMINA_OPS_NO_GRAD=1 leaves out the gradchecks (slow simulators and drivers: Oclgrind,
 * Rusticl); the forward checks still run every case. =backward: instead of each gradcheck,
 * one backward pass (every backward kernel still runs once: ci/oclgrind.sh). */
static bool gradchecks_on(void) {
    const char *v = getenv("LAMINA_OPS_NO_GRAD");
    return !(v && (strcmp(v, "1") == 0 || strcmp(v, "backward") == 0));
}

static bool backward_once(void) {
    const char *v = getenv("LAMINA_OPS_NO_GRAD");
    return v && strcmp(v, "backward") == 0;
}

/* LAMINA_OPS_MAX_NUMEL=N leaves out the cases with an input of more than N elements. */
static bool too_large(const h_case *c) {
    const char *v = getenv("LAMINA_OPS_MAX_NUMEL");
    int64_t max = v && *v ? strtoll(v, NULL, 10) : 0;
    for (int i = 0; max > 0 && i < c->n_in; ++i)
        if (h_numel(c->in[i].ndim, c->in[i].shape) > max) return true;
    return false;
}

int h_run_family(const h_family *f, lam_device *const *devs, int ndevs, bool perf) {
    int fails = 0, runs = 0, skipped = 0;
    bool grads = gradchecks_on(), once = backward_once();
    for (int k = 0; k < ndevs; ++k)
        for (int i = 0; i < f->count; ++i) {
            const h_case *c = &f->cases[i];
            uint64_t seed = 1000 + (uint64_t)i;
            if (too_large(c)) {
                skipped++;
                continue;
            }
            fails += check_forward(c, devs[k], LAM_F32, seed);
            runs++;
            if (c->tol_f16 > 0) {
                fails += check_forward(c, devs[k], LAM_F16, seed);
                runs++;
            }
            if (c->grad && (grads || once)) {
                fails += check_grad(c, devs[k], seed, once);
                runs++;
            }
            if (perf) {
                time_case(c, devs[k], LAM_F32);
                if (c->tol_f16 > 0) time_case(c, devs[k], LAM_F16);
            }
        }
    printf("%s: %d checks on %d device(s), %d failed", f->name, runs, ndevs, fails);
    if (skipped) printf(", %d cases over LAMINA_OPS_MAX_NUMEL left out", skipped);
    printf("\n");
    return fails;
}
