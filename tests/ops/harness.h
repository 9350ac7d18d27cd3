/* The op harness, in the spirit of ggml's test-backend-ops: a case is an op builder plus
 * tolerances. Every case runs on every device and every dtype it supports:
 *   - forward: against a double-precision reference written in the case file (or, without
 *     one, against the cpu device's f32 result), as a normalized error; f16 runs take the
 *     same inputs rounded to f16 and compare with tol_f16;
 *   - sentinels: inputs sliced out of sentinel-filled parents must leave the parents alone,
 *     reads must not write past the end, and (LAMINA_DEBUG=1, which test_ops sets) every
 *     device buffer carries guard bytes checked when it is freed;
 *   - gradients: with grad set, lam_gradcheck on every device (central differences), unless
 *     LAMINA_OPS_NO_GRAD=1;
 *   - --perf: time per call and GB/s or GFLOP/s per case and device.
 * Cases live in one file per op family (tests/ops/cases_*.c); each lists the public op it
 * covers, and the harness checks every op of the op table has a case. */
#ifndef LAMINA_TEST_HARNESS_H
#define LAMINA_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include <lamina.h>

#define H_MAX_IN 4

/* How an input is laid out: contiguous, transposed (last two dims), sliced (every other
 * element of a sentinel-filled parent along the last dim) or expanded (stride 0 along dim 0). */
typedef enum { H_CONTIG, H_TRANSPOSED, H_SLICED, H_EXPANDED } h_layout;

typedef struct {
    int ndim;
    int64_t shape[LAM_MAX_DIMS];
    h_layout layout;
    double lo, hi;      /* values uniform in [lo, hi) */
    double q;           /* > 0: values rounded down to a multiple of q (ties, exact sums) */
    lam_dtype dtype;    /* LAM_F32 (0): the run's float dtype; LAM_I64/I32: integers (indices) */
    bool constant;      /* not differentiated by gradcheck (masks, targets) */
} h_input;

typedef struct h_case h_case;

/* The reference: fills out (allocated by the harness, out_n elements) from the inputs as
 * doubles; sets the output shape. Returns false if the case cannot have one. */
typedef bool (*h_ref_fn)(const h_case *c, double *const *x, int *ndim, int64_t *shape, double **out);

struct h_case {
    const char *op;         /* the public function it covers ("lam_relu"): the coverage key */
    const char *what;       /* the variant, for messages */
    int n_in;
    h_input in[H_MAX_IN];
    lam_tensor *(*build)(const h_case *c, lam_tensor *const *in);
    h_ref_fn ref;           /* NULL: the cpu device's f32 result is the reference */
    double tol;             /* normalized error allowed in f32 (0: 1e-6) */
    double tol_f16;         /* normalized error allowed in f16 (0: the op has no f16 case) */
    bool grad;              /* gradcheck the non-constant float inputs on every device */
    float grad_eps, grad_tol;   /* 0: 1e-2 and 2e-2 */
    double (*fn)(double, double);   /* elementwise cases: the maths, for their reference */
    int64_t i[8];           /* the op's integer parameters (dims, flags) */
    float f[4];             /* its float parameters (scalars) */
    double flops;           /* --perf: floating point work per call (0: report bytes only) */
};

/* Helpers for case tables. */
#define H_SH(...) {__VA_ARGS__}
#define H_IN(nd, sh, lay, lo_, hi_) {.ndim = (nd), .shape = H_SH sh, .layout = (lay), .lo = (lo_), .hi = (hi_)}
#define H_INQ(nd, sh, lay, lo_, hi_, q_) {.ndim = (nd), .shape = H_SH sh, .layout = (lay), .lo = (lo_), .hi = (hi_), .q = (q_)}

/* Elements of a shape. */
int64_t h_numel(int ndim, const int64_t *shape);

/* The case families, each defined in tests/ops/cases_<family>.c. */
typedef struct {
    const char *name;
    const h_case *cases;
    int count;
} h_family;
extern const h_family h_family_elementwise, h_family_reduce, h_family_linalg, h_family_views, h_family_cnn,
    h_family_index, h_family_norm, h_family_attention;

/* Runs every case of a family on every device (and dtype); prints each failure; returns the
 * number of failures. With perf, also prints a timing line per case and device. */
int h_run_family(const h_family *f, lam_device *const *devs, int ndevs, bool perf);
/* Names of public ops no case covers: printed; returns their count. */
int h_check_coverage(const h_family *const *fams, int nfams);

#endif
