/* train_mnist's command line and its checkpoint state file (PATH.state). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train_mnist.h"

#ifndef LAMINA_DATA_DIR
#define LAMINA_DATA_DIR "data"
#endif

static void usage(FILE *f) {
    fprintf(f, "usage: train_mnist [--device SPEC] [--model %s] [--epochs N] [--batch N]\n"
               "                   [--optim sgd|adam|adamw] [--lr F] [--momentum F] [--weight-decay F]\n"
               "                   [--decay all|weights] [--schedule none|step|cosine|onecycle]\n"
               "                   [--schedule-epochs N] [--step-size N] [--gamma F] [--clip F] [--seed N]\n"
               "                   [--data DIR] [--limit N] [--save PATH] [--resume PATH] [--csv PATH]\n"
               "                   [--svg PATH] [--min-test-acc F] [--save-init PATH] [--distributed]\n",
            train_model_names());
}

static bool parse_num(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

static bool one_of(const char *v, const char *const *names) {
    for (; *names; ++names)
        if (!strcmp(v, *names)) return true;
    return false;
}

/* The choices of the word options, checked after parsing. */
static int check_words(const train_options *o) {
    static const char *const optims[] = {"sgd", "adam", "adamw", NULL},
                             *const schedules[] = {"none", "step", "cosine", "onecycle", NULL},
                             *const decays[] = {"all", "weights", NULL};
    const struct {
        const char *option, *value;
        bool ok;
    } words[] = {
        {"model", o->model, train_find_model(o->model) != NULL},
        {"optim", o->optim, one_of(o->optim, optims)},
        {"schedule", o->schedule, one_of(o->schedule, schedules)},
        {"decay", o->decay, one_of(o->decay, decays)},
    };
    for (size_t i = 0; i < sizeof words / sizeof *words; ++i)
        if (!words[i].ok) {
            fprintf(stderr, "train_mnist: unknown --%s \"%s\"\n", words[i].option, words[i].value);
            usage(stderr);
            return 1;
        }
    return 0;
}

int train_parse(int argc, char **argv, train_options *o) {
    *o = (train_options){.model = "mlp", .data = LAMINA_DATA_DIR, .optim = "sgd", .schedule = "none", .decay = "all",
                         .epochs = 10, .batch = 32, .lr = -1, .momentum = 0.9f, .weight_decay = -1, .step_size = 5,
                         .gamma = 0.1, .ranks = 1};
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--distributed")) {   /* the one option without a value */
            o->distributed = true;
            continue;
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
        else if (!strcmp(a, "--save-init")) o->save_init = v;
        else if (!strcmp(a, "--resume")) o->resume = v;
        else if (!strcmp(a, "--csv")) o->csv = v;
        else if (!strcmp(a, "--svg")) o->svg = v;
        else if (!strcmp(a, "--optim")) o->optim = v;
        else if (!strcmp(a, "--schedule")) o->schedule = v;
        else if (!strcmp(a, "--decay")) o->decay = v;
        else if (!strcmp(a, "--epochs")) ok = parse_num(v, 0, 1e6, &x) && (o->epochs = (int)x, true);
        else if (!strcmp(a, "--schedule-epochs")) ok = parse_num(v, 1, 1e6, &x) && (o->schedule_epochs = (int)x, true);
        else if (!strcmp(a, "--batch")) ok = parse_num(v, 1, 1e7, &x) && (o->batch = (int64_t)x, true);
        else if (!strcmp(a, "--limit")) ok = parse_num(v, 0, 1e12, &x) && (o->limit = (int64_t)x, true);
        else if (!strcmp(a, "--step-size")) ok = parse_num(v, 1, 1e6, &x) && (o->step_size = (int64_t)x, true);
        else if (!strcmp(a, "--lr")) ok = parse_num(v, 0, 1e6, &x) && (o->lr = x, true);
        else if (!strcmp(a, "--momentum")) ok = parse_num(v, 0, 0.999999, &x) && (o->momentum = (float)x, true);
        else if (!strcmp(a, "--weight-decay")) ok = parse_num(v, 0, 1e6, &x) && (o->weight_decay = (float)x, true);
        else if (!strcmp(a, "--gamma")) ok = parse_num(v, 1e-30, 1e6, &x) && (o->gamma = x, true);
        else if (!strcmp(a, "--clip")) ok = parse_num(v, 0, 1e30, &x) && (o->clip = (float)x, true);
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
    bool sgd = !strcmp(o->optim, "sgd");
    if (o->lr < 0) o->lr = sgd ? 0.05 : 1e-3;                                    /* Adam's own default */
    if (o->weight_decay < 0) o->weight_decay = !strcmp(o->optim, "adamw") ? 0.01f : 0.0f;   /* PyTorch's */
    return check_words(o);
}

/* The settings that shape a run, as "key value" text: a resumed run must repeat them. */
typedef struct {
    const char *key;
    char value[64];
} setting;

enum { NSETTINGS = 14 };

static void settings(const train_options *o, setting s[NSETTINGS]) {
    int n = 0;
#define PUT(k, ...) (s[n].key = (k), snprintf(s[n].value, sizeof s[n].value, __VA_ARGS__), n++)
    PUT("model", "%s", o->model);
    PUT("optim", "%s", o->optim);
    PUT("lr", "%.17g", o->lr);
    PUT("momentum", "%.9g", o->momentum);
    PUT("weight-decay", "%.9g", o->weight_decay);
    PUT("decay", "%s", o->decay);
    PUT("batch", "%lld", (long long)o->batch);
    PUT("limit", "%lld", (long long)o->limit);
    PUT("schedule", "%s", o->schedule);
    PUT("schedule-epochs", "%d", o->schedule_epochs);
    PUT("step-size", "%lld", (long long)o->step_size);
    PUT("gamma", "%.17g", o->gamma);
    PUT("clip", "%.9g", o->clip);
    PUT("ranks", "%d", o->ranks);   /* each step is ranks x batch examples */
#undef PUT
}

int train_write_state(const char *path, const train_options *o, int epochs_done) {
    char file[4096], tmp[4200];
    snprintf(file, sizeof file, "%s.state", path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", file, (long)getpid());
    setting s[NSETTINGS];
    settings(o, s);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fprintf(f, "epochs %d\nseed %llu\n", epochs_done, (unsigned long long)o->seed) > 0;
    for (int i = 0; ok && i < NSETTINGS; ++i) ok = fprintf(f, "%s %s\n", s[i].key, s[i].value) > 0;
    if (f && fclose(f) != 0) ok = false;
    if (!ok || rename(tmp, file) != 0) {
        fprintf(stderr, "train_mnist: cannot write %s: %s\n", file, strerror(errno));
        remove(tmp);
        return 1;
    }
    return 0;
}

/* Compares one recorded setting with this run's; schedule-epochs is taken when not given. */
static int agree(const char *path, const char *key, const char *value, train_options *o, const setting *mine) {
    if (!strcmp(key, "schedule-epochs") && o->schedule_epochs == 0) {
        o->schedule_epochs = atoi(value);
        return 0;
    }
    if (!strcmp(value, mine->value)) return 0;
    fprintf(stderr, "train_mnist: cannot resume: %s was trained with --%s %s, this run has --%s %s\n", path, key, value,
            key, mine->value);
    return 1;
}

int train_read_state(const char *path, train_options *o, int *epochs_done) {
    char file[4096], key[64], value[256];
    snprintf(file, sizeof file, "%s.state", path);
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "train_mnist: cannot resume: %s: %s\n", file, strerror(errno));
        return 1;
    }
    setting mine[NSETTINGS];
    settings(o, mine);
    int rc = 0, found = 0;
    *epochs_done = -1;
    while (!rc && fscanf(f, "%63s %255s", key, value) == 2) {
        if (!strcmp(key, "epochs")) *epochs_done = atoi(value), found |= 1;
        else if (!strcmp(key, "seed")) o->seed = strtoull(value, NULL, 10), found |= 2;
        for (int i = 0; i < NSETTINGS && !rc; ++i)
            if (!strcmp(key, mine[i].key)) rc = agree(path, key, value, o, &mine[i]), found |= !i ? 4 : 0;
    }
    fclose(f);
    if (!rc && (found != 7 || *epochs_done < 0)) {
        fprintf(stderr, "train_mnist: cannot resume: %s is not a train_mnist state file\n", file);
        rc = 1;
    }
    return rc;
}
