/* Moves a model between devices in place: build and run the chimera on cpu, then
 * lam_module_to each OpenCL device and run again; outputs must agree.
 * Usage: device_transfer [--device SPEC]  (SPEC: only that device as the target) */
#include "chapter_models.h"

#include <math.h>

/* Runs net on x copied to dev; the scalar output in *out. 0 or -1. */
static int run(lam_module *net, lam_tensor *x_host, lam_device *dev, float *out) {
    lam_scope_begin();
    lam_tensor *y = lam_forward(net, lam_to(x_host, dev));
    lam_status st = y ? lam_read(y, out, sizeof *out) : lam_last_status();
    lam_scope_end();
    return st == LAM_OK ? 0 : -1;
}

int main(int argc, char **argv) {
    const char *spec = NULL;
    for (int i = 1; i + 1 < argc; ++i)
        if (!strcmp(argv[i], "--device")) spec = argv[i + 1];
    lam_device *cpu = lam_device_get("cpu");
    lam_manual_seed(0);
    lam_set_default_device(cpu);
    lam_module *net = chimera_new();
    lam_tensor *x = lam_keep(lam_rand(LAM_SHAPE(2, 20), cpu));
    float ref, got;
    if (!net || !x || run(net, x, cpu, &ref) != 0) {
        fprintf(stderr, "device_transfer: %s\n", lam_last_error());
        return 1;
    }
    printf("cpu: %.6f\n", ref);
    double worst = 0;
    int moved = 0;
    for (int i = 0; i < lam_device_count(); ++i) {
        lam_device *d = lam_device_at(i);
        if (d == cpu || (spec && d != lam_device_get(spec))) continue;
        if (lam_module_to(net, d) != LAM_OK || run(net, x, d, &got) != 0) {
            fprintf(stderr, "device_transfer: %s: %s\n", lam_device_name(d), lam_last_error());
            return 1;
        }
        printf("%s: %.6f (|diff| %.3g)\n", lam_device_name(d), got, fabs((double)got - ref));
        if (fabs((double)got - ref) > worst) worst = fabs((double)got - ref);
        moved++;
    }
    if (lam_module_to(net, cpu) != LAM_OK || run(net, x, cpu, &got) != 0) {
        fprintf(stderr, "device_transfer: back to cpu: %s\n", lam_last_error());
        return 1;
    }
    if (fabs((double)got - ref) > worst) worst = fabs((double)got - ref);
    printf("%d OpenCL device(s); back on cpu: %.6f; largest abs difference %.3g\n", moved, got, worst);
    lam_release(x);
    lam_module_free(net);
    return worst > 1e-4 ? 1 : 0;
}
