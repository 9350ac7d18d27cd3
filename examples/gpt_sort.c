/* gpt_sort: a GPT learns to sort 6 digits from {0, 1, 2}, the task of minGPT's demo. The
 * model reads the sequence and writes it sorted; only the sorted half is scored (the other
 * targets are ignore_index -1). A quarter of the 729 sequences is held out; at the end
 * greedy decoding must reproduce their sorted forms exactly.
 *
 *   gpt_sort                                   # default device, 1000 steps
 *   gpt_sort --device cpu --steps 40 --min-acc 0 --losses l.txt
 *
 * Prints the held-out exact-match accuracy, the steps and the time. --min-acc F makes the
 * exit status 1 below F; --losses PATH writes "step loss" lines. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_train.h"

#define LEN 6
#define DIGITS 3
#define COUNT 729   /* DIGITS^LEN sequences */

typedef struct {
    int64_t train[COUNT], test[COUNT];
    int n_train, n_test;
    double min_acc;
} sort_data;

/* Sequence k: its base-3 digits, most significant first. */
static void sequence(int64_t k, int64_t *out) {
    for (int i = LEN - 1; i >= 0; --i, k /= DIGITS) out[i] = k % DIGITS;
}

static void sorted(const int64_t *in, int64_t *out) {
    int at = 0;
    for (int d = 0; d < DIGITS; ++d)
        for (int i = 0; i < LEN; ++i)
            if (in[i] == d) out[at++] = d;
}

/* Held out: the sequences whose splitmix64 hash of k is 0 mod 4. */
static void split(sort_data *d) {
    d->n_train = d->n_test = 0;
    for (int64_t k = 0; k < COUNT; ++k) {
        uint64_t s = (uint64_t)k;
        if (gpt_rand_next(&s) % 4 == 0) d->test[d->n_test++] = k;
        else d->train[d->n_train++] = k;
    }
}

/* x = (seq, sorted)[:-1], y = (seq, sorted)[1:] with the first LEN - 1 targets ignored. */
static lam_status batch(const sort_data *d, int64_t B, uint64_t *rng, lam_device *dev, lam_tensor **x, lam_tensor **y) {
    enum { T = 2 * LEN - 1 };
    int64_t *xs = malloc((size_t)B * T * sizeof *xs), *ys = malloc((size_t)B * T * sizeof *ys);
    for (int64_t b = 0; xs && ys && b < B; ++b) {
        int64_t s[2 * LEN];
        sequence(d->train[gpt_rand_next(rng) % (uint64_t)d->n_train], s);
        sorted(s, s + LEN);
        for (int t = 0; t < T; ++t) {
            xs[b * T + t] = s[t];
            ys[b * T + t] = t < LEN - 1 ? -1 : s[t + 1];
        }
    }
    *x = xs ? lam_from_data(xs, LAM_I64, LAM_SHAPE(B, T), dev) : NULL;
    *y = ys ? lam_from_data(ys, LAM_I64, LAM_SHAPE(B, T), dev) : NULL;
    free(xs);
    free(ys);
    return *x && *y ? LAM_OK : lam_last_status();
}

/* Greedy decoding of every held-out sequence at once; the number sorted exactly. */
static int evaluate(lam_module *gpt, const sort_data *d, lam_device *dev) {
    int n = d->n_test, right = 0;
    int64_t *in = malloc((size_t)n * LEN * sizeof *in), *out = malloc((size_t)n * 2 * LEN * sizeof *out);
    if (!in || !out) return -1;
    for (int i = 0; i < n; ++i) sequence(d->test[i], in + i * LEN);
    lam_scope_begin();
    lam_train(gpt, false);
    lam_tensor *gen = gpt_generate_greedy(gpt, lam_from_data(in, LAM_I64, LAM_SHAPE(n, LEN), dev), LEN);
    lam_train(gpt, true);
    if (!gen || lam_read(gen, out, (size_t)n * 2 * LEN * sizeof *out) != LAM_OK) right = -1;
    lam_scope_end();
    for (int i = 0; right >= 0 && i < n; ++i) {
        int64_t want[LEN];
        sorted(in + i * LEN, want);
        right += !memcmp(want, out + i * 2 * LEN + LEN, sizeof want);
    }
    free(in);
    free(out);
    return right;
}

static bool extra(const char *a, const char *v, void *user) {
    sort_data *d = user;
    return !strcmp(a, "--min-acc") && gpt_parse_num(v, 0, 1, &d->min_acc);
}

static int train(lam_module *gpt, const gpt_options *o, const sort_data *d, lam_device *dev, FILE *losses) {
    lam_schedule *sched;
    lam_optim *opt = gpt_optimizer(gpt, o, &sched);
    if (!opt) return gpt_fail("gpt_sort", "optimizer");
    uint64_t rng = o->seed;
    double t0 = gpt_now(), loss = NAN;
    int rc = 0;
    for (int64_t step = 0; step < o->steps && !rc; ++step) {
        lam_scope_begin();
        lam_tensor *x, *y;
        if (batch(d, o->batch, &rng, dev, &x, &y) != LAM_OK) rc = gpt_fail("gpt_sort", "batch");
        else if (isnan(loss = gpt_train_step(gpt, opt, sched, x, y, -1, o))) rc = gpt_fail("gpt_sort", "training step");
        lam_scope_end();
        if (losses) fprintf(losses, "%lld %.9g\n", (long long)step, loss);
        gpt_progress(step + 1, o->steps, loss, (double)((step + 1) * o->batch * (2 * LEN - 1)) / (gpt_now() - t0));
        if (!rc && (step + 1) % o->eval_every == 0)
            printf("\rstep %lld: loss %.4f, held-out exact match %.2f%% (%.1f s)\n", (long long)step + 1, loss,
                   100.0 * evaluate(gpt, d, dev) / d->n_test, gpt_now() - t0);
    }
    printf("\rtrained %lld steps in %.1f s, last loss %.4f\n", (long long)o->steps, gpt_now() - t0, loss);
    if (!rc && o->save && lam_checkpoint_save(o->save, gpt, opt) != LAM_OK) rc = gpt_fail("gpt_sort", "--save");
    lam_optim_free(opt);
    return rc;
}

int main(int argc, char **argv) {
    gpt_options o = {.steps = 1000, .batch = 64, .eval_every = 100, .lr = 5e-4, .weight_decay = 0.1, .grad_clip = 1.0, .seed = 0,
                     .model = {.vocab_size = DIGITS, .block_size = 2 * LEN - 1, .n_layer = 3, .n_head = 3, .n_embd = 48}};
    static sort_data d = {.min_acc = 0.99};
    int rc = gpt_parse("gpt_sort", argc, argv, &o, " [--min-acc F]", extra, &d);
    if (rc) return rc == 2 ? 0 : 1;
    setvbuf(stdout, NULL, _IOLBF, 0);   /* progress lines reach a log file as they come */
    lam_device *dev = lam_device_get(o.device);
    if (!dev || lam_set_default_device(dev) != LAM_OK) return gpt_fail("gpt_sort", "--device");
    printf("device %s\n", lam_device_name(dev));
    split(&d);
    lam_manual_seed(o.seed);
    lam_module *gpt = gpt_new(o.model);
    if (!gpt) return gpt_fail("gpt_sort", "model");
    printf("GPT: %lld parameters, %d training and %d held-out sequences\n", (long long)lam_param_count(gpt), d.n_train,
           d.n_test);
    FILE *losses = o.losses ? fopen(o.losses, "w") : NULL;
    if (o.losses && !losses) rc = 1, perror(o.losses);
    if (!rc && o.save_init && lam_save(gpt, o.save_init) != LAM_OK) rc = gpt_fail("gpt_sort", "--save-init");
    if (!rc) rc = train(gpt, &o, &d, dev, losses);
    if (losses) fclose(losses);
    int right = rc ? -1 : evaluate(gpt, &d, dev);
    if (!rc && right < 0) rc = gpt_fail("gpt_sort", "evaluation");
    if (!rc) {
        double acc = (double)right / d.n_test;
        printf("held-out exact match %d/%d = %.2f%% (greedy decoding)\n", right, d.n_test, 100 * acc);
        if (acc < d.min_acc) rc = 1, fprintf(stderr, "gpt_sort: accuracy %.4f below --min-acc %.4f\n", acc, d.min_acc);
    }
    lam_module_free(gpt);
    return rc;
}
