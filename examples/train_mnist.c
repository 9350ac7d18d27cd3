/* train_mnist: an MLP (784-256-10) learns MNIST digits with SGD, on any device.
 *
 *   train_mnist                                  # data/, default device, 10 epochs
 *   train_mnist --device cpu --epochs 2 --save run.ckpt
 *   train_mnist --resume run.ckpt --epochs 1     # the 3rd epoch, as if never stopped
 *
 * Each epoch visits the training set in an order that depends only on (--seed, epoch), so
 * a resumed run continues exactly where the saved one stopped. --save writes PATH (the
 * model's state_dict, safetensors), PATH.optim (the optimizer's state) and PATH.state
 * (epochs done, seed, model) after every epoch, each atomically. The CSV has one line per
 * epoch with no timings, so two runs with one seed on one device give identical files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lamina.h>
#include <lamina/data.h>

#ifndef LAMINA_DATA_DIR
#define LAMINA_DATA_DIR "data"
#endif

typedef struct {
    const char *device, *model, *data, *save, *resume, *csv, *svg;
    int epochs;
    int64_t batch, limit;
    float lr, momentum, min_test_acc;
    uint64_t seed;
} options;

typedef struct { double train_loss, train_acc, test_loss, test_acc, samples_per_s; } epoch_stats;

static void usage(FILE *f) {
    fprintf(f, "usage: train_mnist [--device SPEC] [--model mlp|linear] [--epochs N] [--batch N] [--lr F]\n"
               "                   [--momentum F] [--seed N] [--data DIR] [--limit N] [--save PATH]\n"
               "                   [--resume PATH] [--csv PATH] [--svg PATH] [--min-test-acc F]\n");
}

static int fail(const char *what) {
    fprintf(stderr, "train_mnist: %s: %s\n", what, lam_last_error());
    return 1;
}

static bool parse_num(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

static int parse(int argc, char **argv, options *o) {
    *o = (options){.model = "mlp", .data = LAMINA_DATA_DIR, .epochs = 10, .batch = 32, .lr = 0.05f,
                   .momentum = 0.9f, .seed = 0};
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "train_mnist: %s needs a value (or is unknown)\n", a);
            usage(stderr);
            return 1;
        }
        const char *v = argv[++i];
        double x = 0;
        bool ok = true;
        if (!strcmp(a, "--device")) o->device = v;
        else if (!strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "--data")) o->data = v;
        else if (!strcmp(a, "--save")) o->save = v;
        else if (!strcmp(a, "--resume")) o->resume = v;
        else if (!strcmp(a, "--csv")) o->csv = v;
        else if (!strcmp(a, "--svg")) o->svg = v;
        else if (!strcmp(a, "--epochs")) ok = parse_num(v, 0, 1e6, &x) && (o->epochs = (int)x, true);
        else if (!strcmp(a, "--batch")) ok = parse_num(v, 1, 1e7, &x) && (o->batch = (int64_t)x, true);
        else if (!strcmp(a, "--limit")) ok = parse_num(v, 0, 1e12, &x) && (o->limit = (int64_t)x, true);
        else if (!strcmp(a, "--lr")) ok = parse_num(v, 0, 1e6, &x) && (o->lr = (float)x, true);
        else if (!strcmp(a, "--momentum")) ok = parse_num(v, 0, 1, &x) && (o->momentum = (float)x, true);
        else if (!strcmp(a, "--min-test-acc")) ok = parse_num(v, 0, 1, &x) && (o->min_test_acc = (float)x, true);
        else if (!strcmp(a, "--seed")) ok = parse_num(v, 0, 1.8e19, &x) && (o->seed = (uint64_t)x, true);
        else {
            fprintf(stderr, "train_mnist: unknown option %s\n", a);
            usage(stderr);
            return 1;
        }
        if (!ok) {
            fprintf(stderr, "train_mnist: bad value for %s: \"%s\"\n", a, v);
            return 1;
        }
    }
    if (strcmp(o->model, "mlp") && strcmp(o->model, "linear")) {
        fprintf(stderr, "train_mnist: unknown model \"%s\" (mlp or linear)\n", o->model);
        return 1;
    }
    return 0;
}

static lam_module *make_model(const char *name) {
    if (!strcmp(name, "linear")) return lam_nn_sequential(1, lam_nn_linear(784, 10));
    return lam_nn_sequential(3, lam_nn_linear(784, 256), lam_nn_relu(), lam_nn_linear(256, 10));
}

/* PATH.state: "epochs N\nseed S\nmodel NAME\n". */
static int read_state(const char *path, const char *model, int *epochs_done, uint64_t *seed) {
    char file[4096], name[64] = "";
    snprintf(file, sizeof file, "%s.state", path);
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "train_mnist: cannot resume: %s: %s\n", file, strerror(errno));
        return 1;
    }
    unsigned long long s = 0;
    int n = fscanf(f, "epochs %d\nseed %llu\nmodel %63s", epochs_done, &s, name);
    fclose(f);
    if (n != 3 || *epochs_done < 0) {
        fprintf(stderr, "train_mnist: cannot resume: %s is not a train_mnist state file\n", file);
        return 1;
    }
    if (strcmp(name, model)) {
        fprintf(stderr, "train_mnist: cannot resume: %s holds a \"%s\" model, not \"%s\"\n", path, name, model);
        return 1;
    }
    *seed = s;
    return 0;
}

static int write_state(const char *path, int epochs_done, uint64_t seed, const char *model) {
    char file[4096], tmp[4200];
    snprintf(file, sizeof file, "%s.state", path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", file, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "epochs %d\nseed %llu\nmodel %s\n", epochs_done, (unsigned long long)seed, model) < 0 ||
        fclose(f) != 0 || rename(tmp, file) != 0) {
        fprintf(stderr, "train_mnist: cannot write %s: %s\n", file, strerror(errno));
        remove(tmp);
        return 1;
    }
    return 0;
}

static int save_all(const options *o, lam_module *net, lam_optim *opt, int epochs_done) {
    char file[4200];
    snprintf(file, sizeof file, "%s.optim", o->save);
    if (lam_save(net, o->save) != LAM_OK) return fail(o->save);
    if (lam_optim_save(opt, file) != LAM_OK) return fail(file);
    return write_state(o->save, epochs_done, o->seed, o->model);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Number of rows where argmax(logits) == y. */
static double correct(lam_tensor *logits, lam_tensor *y) {
    lam_tensor *pred = lam_to_dtype(lam_argmax(logits, 1, false), LAM_F32);
    return lam_item(lam_sum(lam_eq(pred, lam_to_dtype(y, LAM_F32))));
}

static void progress(int epoch, int epochs, int64_t done, int64_t total, double loss) {
    char bar[31];
    int fill = (int)(30 * done / total);
    for (int i = 0; i < 30; ++i) bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    printf("\repoch %d/%d [%s] %lld/%lld loss %.4f", epoch, epochs, bar, (long long)done, (long long)total, loss);
    fflush(stdout);
}

static int train_epoch(lam_module *net, lam_optim *opt, lam_dataset *train, const options *o, lam_device *dev,
                       int epoch, int last_epoch, epoch_stats *st) {
    bool tty = isatty(STDOUT_FILENO);
    int64_t nb = lam_dataset_batches(train, o->batch), n = lam_dataset_size(train);
    double loss_sum = 0, hits = 0, t0 = now();
    lam_dataset_shuffle(train, o->seed, (uint64_t)epoch);
    lam_train(net, true);
    for (int64_t b = 0; b < nb; ++b) {
        lam_scope_begin();
        lam_tensor *x, *y;
        int rc = 0;
        if (lam_dataset_batch(train, b, o->batch, dev, &x, &y) != LAM_OK) rc = fail("batch");
        if (!rc) {
            lam_optim_zero_grad(opt);
            lam_tensor *logits = lam_forward(net, x);
            lam_tensor *loss = lam_cross_entropy(logits, y);
            if (!loss || lam_backward(loss) != LAM_OK || lam_optim_step(opt) != LAM_OK) rc = fail("training step");
            else {
                double rows = (double)lam_dim(x, 0);
                loss_sum += lam_item(loss) * rows;
                hits += correct(logits, y);
            }
        }
        lam_scope_end();
        if (rc) return rc;
        if (tty && (b % 8 == 0 || b == nb - 1))
            progress(epoch + 1, last_epoch, b + 1, nb, loss_sum / (double)((b + 1) * o->batch < n ? (b + 1) * o->batch : n));
    }
    double dt = now() - t0;
    if (tty) printf("\r%*s\r", 80, "");
    st->train_loss = loss_sum / (double)n;
    st->train_acc = hits / (double)n;
    st->samples_per_s = (double)n / dt;
    return 0;
}

static int evaluate(lam_module *net, lam_dataset *test, lam_device *dev, epoch_stats *st) {
    bool was = lam_grad_enabled(false);
    lam_train(net, false);
    lam_dataset_unshuffle(test);
    int64_t nb = lam_dataset_batches(test, 500), n = lam_dataset_size(test);
    double loss_sum = 0, hits = 0;
    int rc = 0;
    for (int64_t b = 0; b < nb && !rc; ++b) {
        lam_scope_begin();
        lam_tensor *x, *y;
        if (lam_dataset_batch(test, b, 500, dev, &x, &y) != LAM_OK) rc = fail("test batch");
        else {
            lam_tensor *logits = lam_forward(net, x);
            lam_tensor *loss = lam_cross_entropy(logits, y);
            if (!loss) rc = fail("evaluation");
            else {
                loss_sum += lam_item(loss) * (double)lam_dim(x, 0);
                hits += correct(logits, y);
            }
        }
        lam_scope_end();
    }
    lam_grad_enabled(was);
    st->test_loss = loss_sum / (double)n;
    st->test_acc = hits / (double)n;
    return rc;
}

int write_svg(const char *path, const epoch_stats *s, const int *epoch_no, int n);

int main(int argc, char **argv) {
    options o;
    if (parse(argc, argv, &o)) return 1;
    int start_epoch = 0;
    if (o.resume) {
        uint64_t seed = o.seed;
        if (read_state(o.resume, o.model, &start_epoch, &seed)) return 1;
        o.seed = seed;
    }
    lam_device *dev = lam_device_get(o.device);
    if (!dev) return fail(o.device ? o.device : "default device");
    lam_set_default_device(dev);
    lam_dataset *train = lam_dataset_load_mnist(o.data, "train");
    if (!train) return fail("training data");
    lam_dataset *test = lam_dataset_load_mnist(o.data, "test");
    if (!test) {
        lam_dataset_free(train);
        return fail("test data");
    }
    if (o.limit > 0) lam_dataset_limit(train, o.limit);

    lam_manual_seed(o.seed);
    lam_module *net = make_model(o.model);
    lam_optim *opt = net ? lam_sgd(net, (lam_sgd_options){.lr = o.lr, .momentum = o.momentum}) : NULL;
    int rc = 0;
    if (!net || !opt || lam_module_to(net, dev) != LAM_OK) rc = fail("model");
    if (!rc && o.resume) {
        char file[4200];
        snprintf(file, sizeof file, "%s.optim", o.resume);
        if (lam_load(net, o.resume) != LAM_OK) rc = fail(o.resume);
        else if (lam_optim_load(opt, file) != LAM_OK) rc = fail(file);
    }
    FILE *csv = NULL;
    if (!rc && o.csv && !(csv = fopen(o.csv, "w"))) {
        fprintf(stderr, "train_mnist: cannot write %s: %s\n", o.csv, strerror(errno));
        rc = 1;
    }
    int last = start_epoch + o.epochs;
    epoch_stats *hist = calloc((size_t)o.epochs + 1, sizeof *hist);
    int *numbers = calloc((size_t)o.epochs + 1, sizeof *numbers);
    if (!rc) {
        printf("device %s\n", lam_device_name(dev));
        printf("model %s, %lld parameters; %lld training and %lld test images from %s\n", o.model,
               (long long)lam_param_count(net), (long long)lam_dataset_size(train), (long long)lam_dataset_size(test),
               o.data);
        printf("SGD lr %g momentum %g, batch %lld, seed %llu, epochs %d..%d\n", o.lr, o.momentum,
               (long long)o.batch, (unsigned long long)o.seed, start_epoch + 1, last);
        if (csv) fprintf(csv, "epoch,train_loss,train_acc,test_loss,test_acc\n");
    }
    int done = 0;
    for (int e = start_epoch; !rc && e < last; ++e) {
        epoch_stats *s = &hist[done];
        rc = train_epoch(net, opt, train, &o, dev, e, last, s);
        if (!rc) rc = evaluate(net, test, dev, s);
        if (rc) break;
        numbers[done++] = e + 1;
        printf("epoch %2d/%d  loss %.7f  train acc %.4f  test loss %.7f  test acc %.4f  %.0f samples/s\n", e + 1,
               last, s->train_loss, s->train_acc, s->test_loss, s->test_acc, s->samples_per_s);
        fflush(stdout);
        if (csv) {
            fprintf(csv, "%d,%.7f,%.6f,%.7f,%.6f\n", e + 1, s->train_loss, s->train_acc, s->test_loss, s->test_acc);
            fflush(csv);
        }
        if (o.save) rc = save_all(&o, net, opt, e + 1);
    }
    if (csv && fclose(csv) != 0) {
        fprintf(stderr, "train_mnist: cannot write %s\n", o.csv);
        rc = 1;
    }
    if (!rc && o.svg && done > 0) rc = write_svg(o.svg, hist, numbers, done);
    if (!rc && o.min_test_acc > 0) {
        double acc = done > 0 ? hist[done - 1].test_acc : 0.0;
        if (acc < o.min_test_acc) {
            fprintf(stderr, "train_mnist: test accuracy %.4f is below --min-test-acc %.4f\n", acc, o.min_test_acc);
            rc = 2;
        }
    }
    free(hist);
    free(numbers);
    lam_optim_free(opt);
    lam_module_free(net);
    lam_dataset_free(train);
    lam_dataset_free(test);
    return rc;
}
