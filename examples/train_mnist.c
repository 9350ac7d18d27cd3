/* train_mnist: a model learns MNIST digits (or any IDX data set: Fashion-MNIST, ...), on any
 * device, with SGD, Adam or AdamW, a learning-rate schedule and gradient clipping.
 *
 *   train_mnist                                  # MLP, data/, default device, 10 epochs
 *   train_mnist --data /usr/share/datasets/fashion-mnist --optim adamw --schedule onecycle
 *   train_mnist --device cpu --epochs 2 --save run.ckpt
 *   train_mnist --resume run.ckpt --epochs 1     # the 3rd epoch, as if never stopped
 *
 * Each epoch visits the training set in an order that depends only on (--seed, epoch), and
 * --save writes, after every epoch, a checkpoint with the model, the optimizer, the schedule
 * and the random generator (lam_checkpoint_save: PATH, PATH.optim) beside PATH.state (epochs
 * done, seed, the run's settings), so a resumed run continues exactly where the saved one
 * stopped. The CSV has one line per epoch with no timings: two runs with one seed on one
 * device give identical files. Options and the state file: train_mnist_options.c; the
 * models: train_mnist_models.c; checkpoints as one unit: train_mnist_checkpoint.c.
 *
 *   mpirun -np 4 train_mnist --distributed --batch 32     # 4 ranks x 32 = steps of 128
 *
 * --distributed trains data parallel over the MPI ranks (lamina/dist.h): every rank takes its
 * part of each step's batch (--batch per rank), gradients are averaged over the ranks, and
 * the run gives what one process with batch ranks x --batch gives. Only rank 0 prints and
 * writes files; every rank reads --resume's checkpoint (a shared file system, or a copy). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "train_mnist.h"

typedef struct {
    lam_module *net;
    lam_ddp *ddp;          /* --distributed */
    lam_optim *opt;
    lam_schedule *sched;   /* owned by opt; NULL for --schedule none */
    bool per_batch;        /* cosine and one-cycle step every batch, step every epoch */
} trainer;

static int fail(const char *what) {
    fprintf(stderr, "train_mnist: %s: %s\n", what, lam_last_error());
    return 1;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* SGD, Adam or AdamW over every parameter; with --decay weights, biases and the weights of
 * other than Linear/Conv layers go to a group without weight decay (minGPT's rule). */
static lam_optim *make_optimizer(const train_options *o, lam_module *net) {
    lam_optim *opt;
    if (!strcmp(o->optim, "sgd"))
        opt = lam_sgd(net, (lam_sgd_options){.lr = (float)o->lr, .momentum = o->momentum});
    else if (!strcmp(o->optim, "adam"))
        opt = lam_adam(net, (lam_adam_options){.lr = (float)o->lr});
    else
        opt = lam_adamw(net, (lam_adam_options){.lr = (float)o->lr});
    if (!opt || lam_optim_group_set_weight_decay(opt, 0, o->weight_decay) != LAM_OK) goto fail;
    if (!strcmp(o->decay, "weights")) {
        int g = lam_optim_add_group(opt, (lam_param_select){.filter = lam_param_no_decay});
        if (g < 0 || lam_optim_group_set_weight_decay(opt, g, 0.0f) != LAM_OK) goto fail;
    }
    return opt;
fail:
    lam_optim_free(opt);
    return NULL;
}

/* The schedule over o->schedule_epochs epochs of batches steps. */
static lam_status make_schedule(const train_options *o, trainer *t, int64_t batches) {
    int64_t steps = (int64_t)o->schedule_epochs * batches;
    t->per_batch = strcmp(o->schedule, "step") != 0;
    if (!strcmp(o->schedule, "none")) return LAM_OK;
    if (!strcmp(o->schedule, "step"))
        t->sched = lam_step_lr(t->opt, (lam_step_lr_options){.step_size = o->step_size, .gamma = o->gamma});
    else if (!strcmp(o->schedule, "cosine"))
        t->sched = lam_cosine_lr(t->opt, (lam_cosine_lr_options){.t_max = steps});
    else
        t->sched = lam_one_cycle_lr(t->opt, (lam_one_cycle_options){.max_lr = o->lr, .total_steps = steps});
    return t->sched ? LAM_OK : lam_last_status();
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

/* This rank's part of step b (all of it in one process), and its share of the step. */
static lam_status step_batch(trainer *t, lam_dataset *train, const train_options *o, lam_device *dev, int64_t b,
                             lam_tensor **x, lam_tensor **y, double *share) {
    *share = 1.0;
    return t->ddp ? lam_dist_batch(train, b, o->batch, dev, x, y, share) : lam_dataset_batch(train, b, o->batch, dev, x, y);
}

/* Gradients of loss: this rank's, or the ranks' sum weighted by their shares of the step. */
static lam_status backward(trainer *t, lam_tensor *loss, double share) {
    return t->ddp ? lam_ddp_backward(t->ddp, loss, share) : lam_backward(loss);
}

/* One training step on batch b; adds the loss sum and hits to *loss_sum and *hits. */
static int train_step(trainer *t, lam_dataset *train, const train_options *o, lam_device *dev, int64_t b,
                      double *loss_sum, double *hits) {
    lam_scope_begin();
    lam_tensor *x = NULL, *y = NULL, *logits = NULL, *loss = NULL;
    double share;
    int rc = 0;
    if (step_batch(t, train, o, dev, b, &x, &y, &share) != LAM_OK) rc = fail("batch");
    if (!rc) {
        lam_optim_zero_grad(t->opt);
        if (x) {   /* a rank can have no example in the last step */
            logits = t->ddp ? lam_ddp_forward(t->ddp, x) : lam_forward(t->net, x);
            loss = lam_cross_entropy(logits, y);
        }
        if ((x && !loss) || backward(t, loss, share) != LAM_OK ||
            (o->clip > 0 && !lam_clip_grad_norm(t->net, o->clip)) || lam_optim_step(t->opt) != LAM_OK ||
            (t->sched && t->per_batch && lam_schedule_step(t->sched) != LAM_OK))
            rc = fail("training step");
        else if (x) {
            *loss_sum += lam_item(loss) * (double)lam_dim(x, 0);
            *hits += correct(logits, y);
        }
    }
    lam_scope_end();
    return rc;
}

/* The ranks' sums of v[0..n), on every rank (nothing to add in one process). */
static int sum_over_ranks(const trainer *t, double *v, int n) {
    return t->ddp && lam_dist_allreduce_sum(v, n) != LAM_OK ? fail("allreduce") : 0;
}

static int train_epoch(trainer *t, lam_dataset *train, const train_options *o, lam_device *dev, int epoch,
                       int last_epoch, epoch_stats *st) {
    bool tty = isatty(STDOUT_FILENO);
    int64_t nb = t->ddp ? lam_dist_steps(train, o->batch) : lam_dataset_batches(train, o->batch);
    int64_t n = lam_dataset_size(train), per_step = o->batch * o->ranks;
    double loss_sum = 0, hits = 0, t0 = now();
    lam_dataset_shuffle(train, o->seed, (uint64_t)epoch);
    lam_train(t->net, true);
    for (int64_t b = 0; b < nb; ++b) {
        if (train_step(t, train, o, dev, b, &loss_sum, &hits)) return 1;
        int64_t seen = (b + 1) * per_step < n ? (b + 1) * per_step : n;   /* this rank's loss: a guide */
        if (tty && (b % 8 == 0 || b == nb - 1)) progress(epoch + 1, last_epoch, b + 1, nb, loss_sum / (double)seen);
    }
    if (t->sched && !t->per_batch && lam_schedule_step(t->sched) != LAM_OK) return fail("schedule");
    double sums[2] = {loss_sum, hits};
    if (sum_over_ranks(t, sums, 2)) return 1;
    loss_sum = sums[0], hits = sums[1];
    double dt = now() - t0;
    if (tty) printf("\r%*s\r", 80, "");
    st->train_loss = loss_sum / (double)n;
    st->train_acc = hits / (double)n;
    st->samples_per_s = (double)n / dt;
    return 0;
}

/* Test loss and accuracy in eval mode, with no autograd tape; distributed, rank r takes the
 * batches b = r mod ranks, with rank 0's buffers (BatchNorm's statistics). */
static int evaluate(const trainer *t, lam_dataset *test, lam_device *dev, int ranks, epoch_stats *st) {
    lam_module *net = t->net;
    if (t->ddp && lam_ddp_broadcast_buffers(t->ddp) != LAM_OK) return fail("buffers");
    bool was = lam_grad_enabled(false);
    lam_train(net, false);
    lam_dataset_unshuffle(test);
    int64_t nb = lam_dataset_batches(test, 500), n = lam_dataset_size(test);
    double loss_sum = 0, hits = 0;
    int rc = 0;
    for (int64_t b = t->ddp ? lam_dist_rank() : 0; b < nb && !rc; b += ranks) {
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
    double sums[2] = {loss_sum, hits};
    if (rc || sum_over_ranks(t, sums, 2)) return 1;
    loss_sum = sums[0], hits = sums[1];
    st->test_loss = loss_sum / (double)n;
    st->test_acc = hits / (double)n;
    return rc;
}

/* Image models: (B, C, H, W) batches, both sets normalized with the training set's statistics. */
static int prepare_images(lam_dataset *train, lam_dataset *test) {
    float mean[4], std[4];
    int c = lam_dataset_channel_stats(train, mean, std, 4);
    if (c < 1 || c > 4) return fail(c < 1 ? "statistics" : "more than 4 channels");
    if (lam_dataset_normalize(train, mean, std, c) != LAM_OK || lam_dataset_normalize(test, mean, std, c) != LAM_OK ||
        lam_dataset_set_image_batches(train, true) != LAM_OK || lam_dataset_set_image_batches(test, true) != LAM_OK)
        return fail("image batches");
    printf("normalized per channel with the training set's mean %.4f std %.4f%s\n", mean[0], std[0],
           c > 1 ? " (first channel)" : "");
    return 0;
}

static int load_data(const train_options *o, bool image, lam_dataset **train, lam_dataset **test) {
    *train = lam_dataset_load_dir(o->data, "train");
    if (!*train) return fail("training data");
    *test = lam_dataset_load_dir(o->data, "test");
    if (!*test) return fail("test data");
    if (o->limit > 0) lam_dataset_limit(*train, o->limit);
    if (lam_dataset_features(*test) != lam_dataset_features(*train)) {
        fprintf(stderr, "train_mnist: %s: training and test examples differ in size\n", o->data);
        return 1;
    }
    return image ? prepare_images(*train, *test) : 0;
}

static train_data_shape data_shape(lam_dataset *train, lam_dataset *test) {
    int64_t s[3] = {0, 0, 0};
    lam_dataset_example_shape(train, s);
    int classes = lam_dataset_classes(train) > lam_dataset_classes(test) ? lam_dataset_classes(train)
                                                                         : lam_dataset_classes(test);
    return (train_data_shape){.channels = s[0], .height = s[1], .width = s[2],
                              .features = lam_dataset_features(train), .classes = classes};
}

/* Model, optimizer and schedule, from a checkpoint when resuming. */
static int build(const train_options *o, const train_model *model, lam_dataset *train, lam_dataset *test,
                 lam_device *dev, trainer *t) {
    train_data_shape in = data_shape(train, test);
    lam_manual_seed(o->seed);
    t->net = model->make(&in);
    if (!t->net || lam_module_to(t->net, dev) != LAM_OK) return fail("model");
    if (o->save_init && lam_save(t->net, o->save_init) != LAM_OK) return fail(o->save_init);
    if (!(t->opt = make_optimizer(o, t->net))) return fail("optimizer");
    int64_t steps = o->distributed ? lam_dist_steps(train, o->batch) : lam_dataset_batches(train, o->batch);
    if (make_schedule(o, t, steps) != LAM_OK) return fail("schedule");
    if (o->resume && lam_checkpoint_load(o->resume, t->net, t->opt) != LAM_OK) return fail(o->resume);
    /* every rank checks it holds the same model, then takes rank 0's parameters */
    if (o->distributed && !(t->ddp = lam_ddp_new(t->net, NULL))) return fail("distributed model");
    return 0;
}

static void describe(const train_options *o, lam_device *dev, const trainer *t, lam_dataset *train,
                     lam_dataset *test, int first, int last) {
    printf("device %s\n", lam_device_name(dev));
    if (o->distributed)
        printf("data parallel over %d ranks (MPI%s): steps of %d x %lld examples\n", o->ranks,
               lam_dist_mpi_built() ? "" : " not built in", o->ranks, (long long)o->batch);
    printf("model %s, %lld parameters; %lld training and %lld test images from %s\n", o->model,
           (long long)lam_param_count(t->net), (long long)lam_dataset_size(train), (long long)lam_dataset_size(test),
           o->data);
    printf("%s lr %g", o->optim, o->lr);
    if (!strcmp(o->optim, "sgd")) printf(" momentum %g", o->momentum);
    if (o->weight_decay > 0) printf(" weight decay %g (%s)", o->weight_decay, o->decay);
    if (strcmp(o->schedule, "none")) printf(", %s schedule over %d epochs", o->schedule, o->schedule_epochs);
    if (o->clip > 0) printf(", gradients clipped to norm %g", o->clip);
    printf(", batch %lld, seed %llu, epochs %d..%d\n", (long long)o->batch, (unsigned long long)o->seed, first, last);
}

/* Runs epochs [start, last): train, evaluate, report, checkpoint. Fills hist and numbers. */
static int run_epochs(const train_options *o, trainer *t, lam_dataset *train, lam_dataset *test, lam_device *dev,
                      int start, int last, FILE *csv, epoch_stats *hist, int *numbers, int *done) {
    for (int e = start; e < last; ++e) {
        epoch_stats *s = &hist[*done];
        if (train_epoch(t, train, o, dev, e, last, s) || evaluate(t, test, dev, o->ranks, s)) return 1;
        numbers[(*done)++] = e + 1;
        printf("epoch %2d/%d  loss %.7f  train acc %.4f  test loss %.7f  test acc %.4f  %.0f samples/s  lr %.4g\n",
               e + 1, last, s->train_loss, s->train_acc, s->test_loss, s->test_acc, s->samples_per_s,
               lam_optim_lr(t->opt));
        fflush(stdout);
        if (csv) {
            fprintf(csv, "%d,%.7f,%.6f,%.7f,%.6f\n", e + 1, s->train_loss, s->train_acc, s->test_loss, s->test_acc);
            fflush(csv);
        }
        if (o->save && lam_dist_rank() == 0 && train_checkpoint_save(o->save, t->net, t->opt, o, e + 1)) return 1;
    }
    return 0;
}

static int finish(const train_options *o, const epoch_stats *hist, const int *numbers, int done) {
    if (o->svg && done > 0 && write_svg(o->svg, hist, numbers, done)) return 1;
    double acc = done > 0 ? hist[done - 1].test_acc : 0.0;
    if (o->min_test_acc > 0 && acc < o->min_test_acc) {
        fprintf(stderr, "train_mnist: test accuracy %.4f is below --min-test-acc %.4f\n", acc, o->min_test_acc);
        return 2;
    }
    return 0;
}

/* What the gradient exchange cost (rank 0's view): DDP's buckets and its time per step. */
static void report_ddp(const trainer *t) {
    lam_ddp_stats s;
    if (!t->ddp || lam_ddp_get_stats(t->ddp, &s) != LAM_OK || s.steps == 0) return;
    double ms = 1e3 / (double)s.steps;
    printf("ddp: %d bucket(s), %.2f MB of gradients a step, %.1f of %d buckets started during backward; "
           "per step %.2f ms in backward + allreduce, of which %.2f ms waiting for allreduces after backward and "
           "%.2f ms staging gradients through host memory; %.2f ms broadcasting buffers\n",
           s.buckets, (double)s.grad_bytes / 1e6, (double)s.early_buckets / (double)s.steps, s.buckets,
           s.backward_s * ms, s.wait_s * ms, s.staging_s * ms, s.broadcast_s * ms);
}

/* Joins the MPI job for --distributed; ranks other than 0 print nothing and write no file. */
static int join(train_options *o, int *argc, char ***argv) {
    if (!o->distributed) return 0;
    if (lam_dist_init(argc, argv) != LAM_OK) return fail("distributed start");
    o->ranks = lam_dist_world_size();
    if (lam_dist_rank() != 0) {
        o->csv = o->svg = NULL;
        if (!freopen("/dev/null", "w", stdout)) return fail("silencing stdout");
    }
    return 0;
}

/* Ranks that would run different numbers of steps would wait for each other for ever:
 * every rank must see the same data and epochs (--limit, --data, --batch, a resumed state). */
static int ranks_agree(const train_options *o, lam_dataset *train, lam_dataset *test, int start, int last) {
    if (!o->distributed) return 0;
    if (lam_dist_agree("training examples", lam_dataset_size(train)) != LAM_OK ||
        lam_dist_agree("test examples", lam_dataset_size(test)) != LAM_OK ||
        lam_dist_agree("the batch", o->batch) != LAM_OK || lam_dist_agree("the first epoch", start) != LAM_OK ||
        lam_dist_agree("the last epoch", last) != LAM_OK)
        return fail("distributed run");
    return 0;
}

/* A save cut short by a killed run is completed (or dropped) before the state is read; the
 * ranks wait for each other there, so none reads a file another is renaming. */
static int read_resume_state(train_options *o, int *start) {
    if (train_checkpoint_recover(o->resume)) return 1;
    if (o->distributed && lam_dist_barrier() != LAM_OK) return fail("barrier");
    return train_read_state(o->resume, o, start);
}

static int run(train_options *o) {
    const train_model *model = train_find_model(o->model);
    if (!model->make) {
        fprintf(stderr, "train_mnist: the %s model is not built yet: it needs %s\n", o->model, model->missing);
        return 1;
    }
    int start = 0;
    if (o->resume && read_resume_state(o, &start)) return 1;
    int last = start + o->epochs;
    if (o->schedule_epochs == 0) o->schedule_epochs = last > 0 ? last : 1;
    if (!strcmp(o->schedule, "onecycle") && last > o->schedule_epochs) {
        fprintf(stderr, "train_mnist: the one-cycle schedule ends with epoch %d; --epochs %d goes to epoch %d\n",
                o->schedule_epochs, o->epochs, last);
        return 1;
    }
    lam_device *dev = lam_device_get(o->device);
    if (!dev) return fail(o->device ? o->device : "default device");
    lam_set_default_device(dev);
    lam_dataset *train = NULL, *test = NULL;
    trainer t = {0};
    FILE *csv = NULL;
    epoch_stats *hist = calloc((size_t)o->epochs + 1, sizeof *hist);
    int *numbers = calloc((size_t)o->epochs + 1, sizeof *numbers), done = 0;
    int rc = !hist || !numbers || load_data(o, model->image, &train, &test) || build(o, model, train, test, dev, &t) ||
             ranks_agree(o, train, test, start, last);
    if (!rc && o->csv && !(csv = fopen(o->csv, "w"))) {
        fprintf(stderr, "train_mnist: cannot write %s: %s\n", o->csv, strerror(errno));
        rc = 1;
    }
    if (!rc) {
        describe(o, dev, &t, train, test, start + 1, last);
        if (csv) fprintf(csv, "epoch,train_loss,train_acc,test_loss,test_acc\n");
        rc = run_epochs(o, &t, train, test, dev, start, last, csv, hist, numbers, &done);
    }
    if (csv && fclose(csv) != 0) {
        fprintf(stderr, "train_mnist: cannot write %s\n", o->csv);
        rc = 1;
    }
    if (!rc) rc = finish(o, hist, numbers, done);
    if (!rc) report_ddp(&t);
    free(hist);
    free(numbers);
    lam_ddp_free(t.ddp);
    lam_optim_free(t.opt);
    lam_module_free(t.net);
    lam_dataset_free(train);
    lam_dataset_free(test);
    return rc;
}

int main(int argc, char **argv) {
    train_options o;
    if (train_parse(argc, argv, &o) || join(&o, &argc, &argv)) return 1;
    int rc = run(&o);
    fflush(stdout);
    /* a failed rank ends the whole job rather than leaving the others waiting */
    if (o.distributed && rc && lam_dist_world_size() > 1) lam_dist_abort(rc);
    if (o.distributed && lam_dist_finalize() != LAM_OK && !rc) rc = fail("distributed end");
    return rc;
}
