/* lamina-info: lists every device lamina sees, with its properties and pool statistics.
 *
 *   lamina-info             the device list
 *   lamina-info --selftest  also a small op check per device (matmul, relu, sum, softmax
 *                           against values computed in plain C); exit 0 only if all pass
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lamina.h>

static void print_device(int index, lam_device *d)
{
    lam_device_info info;
    printf("[%d] %s\n", index, lam_device_name(d));
    printf("    spec            %s\n", lam_device_spec(d));
    if (lam_device_query(d, &info) != LAM_OK) {
        printf("    query failed: %s\n", lam_last_error());
        lam_clear_error();
        return;
    }
    printf("    name            %s\n", info.name);
    printf("    platform        %s\n", info.platform);
    printf("    type            %s\n", lam_device_type_name(info.type));
    printf("    compute units   %d\n", info.compute_units);
    printf("    global memory   %.0f MiB\n", (double)info.global_mem / (1024.0 * 1024.0));
    printf("    max allocation  %.0f MiB\n", (double)info.max_alloc / (1024.0 * 1024.0));
    printf("    version         %s\n", info.version);
    printf("    driver          %s\n", info.driver);
    lam_device_limits lim;
    if (info.type != LAM_DEVICE_HOST && lam_device_query_limits(d, &lim) == LAM_OK)
        printf("    limits          work-group %zu (lamina uses %zu), local memory %llu B, "
               "base alignment %u B, OpenCL C %u.%u built, fp16 %s, images %s\n",
               lim.max_work_group, lim.work_group, (unsigned long long)lim.local_mem, lim.mem_align,
               lim.c_major, lim.c_minor, lim.fp16 ? "yes" : "no", lim.images ? "yes" : "no");
    lam_pool_stats st;
    if (lam_device_pool_stats(d, &st) == LAM_OK)
        printf("    pool            in_use %llu B, cached %llu B, peak %llu B, "
               "device_allocs %llu, hits %llu\n",
               (unsigned long long)st.in_use, (unsigned long long)st.cached,
               (unsigned long long)st.peak, (unsigned long long)st.device_allocs,
               (unsigned long long)st.hits);
}

static int close_to(double got, double want)
{
    return fabs(got - want) <= 1e-5 * (1.0 + fabs(want));
}

/* A (2x3) @ B (3x2), relu, sum, and softmax over the last dim, each against plain C. */
static int selftest(lam_device *d)
{
    static const float a[6] = {1, -2, 3, 0.5f, 4, -1};
    static const float b[6] = {0.25f, -1, 2, 0.5f, -3, 1.5f};
    double mm[4], rl[4], sum = 0, sm[4];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++) s += (double)a[i * 3 + k] * b[k * 2 + j];
            mm[i * 2 + j] = s;
            rl[i * 2 + j] = s > 0 ? s : 0;
            sum += rl[i * 2 + j];
        }
    for (int i = 0; i < 2; i++) {
        double mx = fmax(mm[i * 2], mm[i * 2 + 1]), z = 0;
        for (int j = 0; j < 2; j++) z += exp(mm[i * 2 + j] - mx);
        for (int j = 0; j < 2; j++) sm[i * 2 + j] = exp(mm[i * 2 + j] - mx) / z;
    }

    int ok = 1;
    lam_scope_begin();
    lam_tensor *ta = lam_from_data(a, LAM_F32, LAM_SHAPE(2, 3), d);
    lam_tensor *tb = lam_from_data(b, LAM_F32, LAM_SHAPE(3, 2), d);
    lam_tensor *tm = lam_matmul(ta, tb);
    lam_tensor *tr = lam_relu(tm);
    lam_tensor *ts = lam_sum(tr);
    lam_tensor *tx = lam_softmax(tm, -1);
    float out_m[4], out_r[4], out_x[4];
    double s = ts ? lam_item(ts) : NAN;
    if (!tx || lam_read(tm, out_m, sizeof out_m) != LAM_OK || lam_read(tr, out_r, sizeof out_r) != LAM_OK ||
        lam_read(tx, out_x, sizeof out_x) != LAM_OK) {
        printf("    error: %s\n", lam_last_error());
        lam_clear_error();
        ok = 0;
    } else {
        for (int i = 0; i < 4; i++) {
            if (!close_to(out_m[i], mm[i])) { printf("    matmul[%d] = %g, want %g\n", i, out_m[i], mm[i]); ok = 0; }
            if (!close_to(out_r[i], rl[i])) { printf("    relu[%d] = %g, want %g\n", i, out_r[i], rl[i]); ok = 0; }
            if (!close_to(out_x[i], sm[i])) { printf("    softmax[%d] = %g, want %g\n", i, out_x[i], sm[i]); ok = 0; }
        }
        if (!close_to(s, sum)) { printf("    sum = %g, want %g\n", s, sum); ok = 0; }
    }
    lam_scope_end();
    return ok;
}

int main(int argc, char **argv)
{
    int run_selftest = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--selftest") == 0) run_selftest = 1;
        else {
            fprintf(stderr, "usage: %s [--selftest]\n", argv[0]);
            return 2;
        }
    }
    int n = lam_device_count();
    lam_device *dft = lam_default_device();
    const char *env = getenv("LAMINA_DEVICE");
    printf("lamina: %d device%s; default %s (%s); cpu threads %d\n", n, n == 1 ? "" : "s",
           dft ? lam_device_spec(dft) : "(none)",
           env && *env ? "LAMINA_DEVICE" : dft && strcmp(lam_device_spec(dft), "cpu") ? "the first OpenCL GPU"
                                                   : "no OpenCL GPU; CPU OpenCL devices only when named",
           lam_get_num_threads());
    int failed = 0;
    for (int i = 0; i < n; i++) {
        lam_device *d = lam_device_at(i);
        if (!d) {   /* a device below lamina's needs: listed with the limit, not a failure */
            printf("[%d] refused: %s\n", i, lam_last_error());
            lam_clear_error();
            continue;
        }
        print_device(i, d);
        if (run_selftest) {
            int ok = selftest(d);
            printf("    selftest        %s\n", ok ? "PASS" : "FAIL");
            failed += !ok;
        }
    }
    if (run_selftest) printf("selftest: %d of %d devices passed\n", n - failed, n);
    return run_selftest && (failed || n == 0) ? 1 : 0;
}
