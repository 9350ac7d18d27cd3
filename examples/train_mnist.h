/* train_mnist's parts: its options and checkpoint state file (train_mnist_options.c), its
 * models (train_mnist_models.c), the SVG plot (train_mnist_svg.c); the loop is train_mnist.c. */
#ifndef TRAIN_MNIST_H
#define TRAIN_MNIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <lamina.h>

typedef struct {
    const char *device, *model, *data, *save, *resume, *csv, *svg;
    const char *save_init;        /* the model's state_dict before training (for a twin) */
    const char *optim;            /* sgd | adam | adamw */
    const char *schedule;         /* none | step | cosine | onecycle */
    const char *decay;            /* all | weights (minGPT's rule) */
    int epochs;                   /* epochs to run now */
    int schedule_epochs;          /* the schedule's length; 0: the last epoch of this run */
    int64_t batch, limit, step_size;
    double lr, gamma;             /* doubles, as a PyTorch twin's Python floats */
    float momentum, weight_decay, clip, min_test_acc;
    uint64_t seed;
    bool distributed;             /* data parallel over the MPI ranks (lamina/dist.h) */
    int ranks;                    /* the world size (1 unless distributed) */
} train_options;

/* Fills o from argv (PyTorch's defaults where train_mnist had none); non-zero on bad input,
 * with the message printed. Exits 0 after --help. */
int train_parse(int argc, char **argv, train_options *o);

/* The checkpoint's PATH.state: "key value" lines, the epochs done, the seed and every setting
 * that shapes the run (model, optimizer, lr, batch, limit, schedule, ...). Reading fills
 * *epochs_done and o->seed, takes o->schedule_epochs from it unless given, and fails with a
 * message when a setting differs from this command line. Writing is atomic. */
int train_read_state(const char *path, train_options *o, int *epochs_done);
int train_write_state(const char *path, const train_options *o, int epochs_done);

/* Checkpoints written as one unit (train_mnist_checkpoint.c): the model, optimizer and state
 * files of epochs_done, or, if the run is killed while saving, the previous ones intact.
 * train_checkpoint_recover completes or drops a save that was cut short; call it before
 * reading PATH. Non-zero with a message on failure. */
int train_checkpoint_save(const char *path, lam_module *net, lam_optim *opt, const train_options *o, int epochs_done);
int train_checkpoint_recover(const char *path);

/* What the models learn from: one example's shape and the number of classes. */
typedef struct {
    int64_t channels, height, width, features;
    int classes;
} train_data_shape;

/* The models by name. image: the model takes (B, C, H, W) batches normalized per channel
 * (convolutional models) instead of flat (B, features) ones in [0, 1]. */
typedef struct {
    const char *name;
    bool image;
    lam_module *(*make)(const train_data_shape *in);   /* NULL: not built yet */
    const char *missing;                                /* what it still needs */
} train_model;

/* The model called name, or NULL (unknown). */
const train_model *train_find_model(const char *name);
/* "mlp|linear|..." for the usage line. */
const char *train_model_names(void);

/* One epoch's numbers; write_svg plots them (train_mnist_svg.c). */
typedef struct {
    double train_loss, train_acc, test_loss, test_acc, samples_per_s;
} epoch_stats;
int write_svg(const char *path, const epoch_stats *s, const int *epoch_no, int n);

#endif
