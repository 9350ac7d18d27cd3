/* gpt_chars: a character-level GPT on English text, the plain-text files of Debian's
 * fortunes package (not the .dat and .u8 index files), read in name order and joined. The
 * first 90% is the training text, the rest the validation text (a fixed split). Training
 * prints the loss with a progress bar and, every --eval-every steps, the training and
 * validation loss over fixed windows; the end saves a checkpoint and samples text.
 *
 *   gpt_chars                                       # default device, 2000 steps
 *   gpt_chars --device cpu --steps 200 --sample 300 --temperature 0.8 --top-k 10
 *   gpt_chars --save-init init.safetensors ...      # the start, for examples/gpt_twin.py
 *
 * Batches: windows of block_size + 1 characters starting at splitmix64(seed) offsets into
 * the training text; examples/gpt_twin.py reads the same files and draws the same windows. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gpt_train.h"

#define FORTUNES "/usr/share/games/fortunes"

typedef struct {
    const char *dir, *prompt;
    double val_frac, temperature, max_val_loss;
    int64_t eval_batches, sample, top_k, limit;
    unsigned char *text;   /* the corpus as token ids */
    int64_t n, n_train;
    int vocab;
    unsigned char chars[256];   /* token id -> byte */
    int ids[256];               /* byte -> token id, -1 if absent */
} corpus;

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The names of the plain-text files of dir (regular files not named *.dat or *.u8), sorted. */
static int list_files(const char *dir, char ***out) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **names = NULL;
    int n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        bool index = (len > 4 && !strcmp(e->d_name + len - 4, ".dat")) || (len > 3 && !strcmp(e->d_name + len - 3, ".u8"));
        if (e->d_name[0] == '.' || index || lstat(path, &st) || !S_ISREG(st.st_mode)) continue;
        if (n == cap) {
            char **grown = realloc(names, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *grown);
            if (!grown) break;
            names = grown;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    *out = names;
    return n;
}

/* Appends the file to c->text (bytes; turned into ids once all are read). */
static bool append_file(corpus *c, const char *path, int64_t *cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    for (int ch; (ch = fgetc(f)) != EOF && (!c->limit || c->n < c->limit);) {
        if (c->n == *cap) {
            unsigned char *grown = realloc(c->text, (size_t)(*cap = *cap ? 2 * *cap : 1 << 20));
            if (!grown) break;
            c->text = grown;
        }
        c->text[c->n++] = (unsigned char)ch;
    }
    fclose(f);
    return true;
}

/* Reads the corpus, builds the vocabulary (the bytes present, in byte order) and splits it. */
static int load_corpus(corpus *c, int64_t block) {
    char **names;
    int files = list_files(c->dir, &names);
    if (files <= 0) {
        fprintf(stderr, "gpt_chars: no text files in %s (install Debian's fortunes package)\n", c->dir);
        return 1;
    }
    int64_t cap = 0;
    for (int i = 0; i < files; ++i) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", c->dir, names[i]);
        if (!append_file(c, path, &cap)) fprintf(stderr, "gpt_chars: cannot read %s\n", path);
        free(names[i]);
    }
    free(names);
    bool seen[256] = {false};
    for (int64_t i = 0; i < c->n; ++i) seen[c->text[i]] = true;
    c->vocab = 0;
    for (int b = 0; b < 256; ++b) {
        c->ids[b] = seen[b] ? c->vocab : -1;
        if (seen[b]) c->chars[c->vocab++] = (unsigned char)b;
    }
    for (int64_t i = 0; i < c->n; ++i) c->text[i] = (unsigned char)c->ids[c->text[i]];
    c->n_train = (int64_t)((double)c->n * (1.0 - c->val_frac));
    if (c->n_train <= block + 1 || c->n - c->n_train <= block + 1) {
        fprintf(stderr, "gpt_chars: %lld characters are too few for block_size %lld\n", (long long)c->n, (long long)block);
        return 1;
    }
    printf("corpus: %d files, %lld characters (%lld train, %lld validation), %d distinct\n", files, (long long)c->n,
           (long long)c->n_train, (long long)(c->n - c->n_train), c->vocab);
    return 0;
}

/* B windows of T + 1 ids starting at the given offsets: x = window[:-1], y = window[1:]. */
static lam_status windows(const corpus *c, const int64_t *at, int64_t B, int64_t T, lam_device *dev, lam_tensor **x,
                          lam_tensor **y) {
    int64_t *xs = malloc((size_t)(B * T) * sizeof *xs), *ys = malloc((size_t)(B * T) * sizeof *ys);
    for (int64_t b = 0; xs && ys && b < B; ++b)
        for (int64_t t = 0; t < T; ++t) {
            xs[b * T + t] = c->text[at[b] + t];
            ys[b * T + t] = c->text[at[b] + t + 1];
        }
    *x = xs ? lam_from_data(xs, LAM_I64, LAM_SHAPE(B, T), dev) : NULL;
    *y = ys ? lam_from_data(ys, LAM_I64, LAM_SHAPE(B, T), dev) : NULL;
    free(xs);
    free(ys);
    return *x && *y ? LAM_OK : lam_last_status();
}

/* Mean loss over eval_batches batches of windows evenly spaced over [lo, hi). */
static double eval_loss(lam_module *gpt, const corpus *c, const gpt_options *o, int64_t lo, int64_t hi, lam_device *dev) {
    int64_t B = o->batch, T = o->model.block_size, count = c->eval_batches * B;
    int64_t *at = malloc((size_t)B * sizeof *at);
    double sum = 0;
    bool grad = lam_grad_enabled(false);
    lam_train(gpt, false);
    for (int64_t e = 0; at && e < c->eval_batches && !isnan(sum); ++e) {
        for (int64_t b = 0; b < B; ++b) at[b] = lo + (e * B + b) * (hi - lo - T - 1) / (count > 1 ? count - 1 : 1);
        lam_scope_begin();
        lam_tensor *x, *y;
        sum = windows(c, at, B, T, dev, &x, &y) == LAM_OK ? sum + lam_item(gpt_loss(lam_forward(gpt, x), y, -100)) : NAN;
        lam_scope_end();
    }
    lam_train(gpt, true);
    lam_grad_enabled(grad);
    free(at);
    return at ? sum / (double)c->eval_batches : NAN;
}

/* Samples one id from logits (V) with temperature and top-k (0: all), drawing from rng. */
static int sample_id(const float *logits, int V, double temperature, int64_t top_k, uint64_t *rng) {
    double p[256], kth = -INFINITY, total = 0;
    if (top_k > 0 && top_k < V) {   /* the k-th largest logit is the cut */
        float sorted[256];
        memcpy(sorted, logits, (size_t)V * sizeof *sorted);
        for (int64_t i = 0; i < top_k; ++i)
            for (int j = (int)i + 1; j < V; ++j)
                if (sorted[j] > sorted[i]) {
                    float t = sorted[i];
                    sorted[i] = sorted[j];
                    sorted[j] = t;
                }
        kth = sorted[top_k - 1];
    }
    float max = logits[0];
    for (int v = 1; v < V; ++v) max = logits[v] > max ? logits[v] : max;
    for (int v = 0; v < V; ++v) total += p[v] = logits[v] < kth ? 0.0 : exp((logits[v] - max) / temperature);
    double u = (double)(gpt_rand_next(rng) >> 11) * 0x1p-53 * total;
    for (int v = 0; v < V; ++v)
        if ((u -= p[v]) < 0) return v;
    return V - 1;
}

/* Continues the prompt by c->sample characters, printed as they come. */
static int sample_text(lam_module *gpt, const corpus *c, const gpt_options *o, lam_device *dev) {
    int64_t T = o->model.block_size, n = (int64_t)strlen(c->prompt), len = 0;
    int64_t *ctx = malloc((size_t)(n + c->sample + 1) * sizeof *ctx);
    if (!ctx) return 1;
    for (int64_t i = 0; i < n; ++i) {
        int id = c->ids[(unsigned char)c->prompt[i]];
        if (id < 0) {
            fprintf(stderr, "gpt_chars: the prompt's character 0x%02x is not in the corpus\n", (unsigned char)c->prompt[i]);
            free(ctx);
            return 1;
        }
        ctx[len++] = id;
    }
    uint64_t rng = o->seed ^ 0x5A4D504C45ull;
    bool grad = lam_grad_enabled(false);
    lam_train(gpt, false);
    printf("--- sample (temperature %g, top-k %lld) ---\n%s", c->temperature, (long long)c->top_k, c->prompt);
    int rc = 0;
    float logits[256];
    for (int64_t s = 0; s < c->sample && !rc; ++s) {
        int64_t from = len > T ? len - T : 0;
        lam_scope_begin();
        lam_tensor *out = lam_forward(gpt, lam_from_data(ctx + from, LAM_I64, LAM_SHAPE(1, len - from), dev));
        lam_tensor *last = out ? lam_slice(out, 1, len - from - 1, len - from, 1) : NULL;
        if (!last || lam_read(last, logits, (size_t)c->vocab * sizeof *logits) != LAM_OK) rc = gpt_fail("gpt_chars", "sampling");
        lam_scope_end();
        if (rc) break;
        ctx[len++] = sample_id(logits, c->vocab, c->temperature, c->top_k, &rng);
        putchar(c->chars[ctx[len - 1]]);
    }
    printf("\n---\n");
    lam_train(gpt, true);
    lam_grad_enabled(grad);
    free(ctx);
    return rc;
}

static bool extra(const char *a, const char *v, void *user) {
    corpus *c = user;
    double x;
    if (!strcmp(a, "--data")) c->dir = v;
    else if (!strcmp(a, "--prompt")) c->prompt = v;
    else if (!strcmp(a, "--temperature")) return gpt_parse_num(v, 1e-3, 100, &c->temperature);
    else if (!strcmp(a, "--max-val-loss")) return gpt_parse_num(v, 0, 1e9, &c->max_val_loss);
    else if (!strcmp(a, "--eval-batches") && gpt_parse_num(v, 1, 1e6, &x)) c->eval_batches = (int64_t)x;
    else if (!strcmp(a, "--sample") && gpt_parse_num(v, 0, 1e7, &x)) c->sample = (int64_t)x;
    else if (!strcmp(a, "--top-k") && gpt_parse_num(v, 0, 256, &x)) c->top_k = (int64_t)x;
    else if (!strcmp(a, "--limit") && gpt_parse_num(v, 0, 1e12, &x)) c->limit = (int64_t)x;
    else return false;
    return true;
}

/* Trains, printing the loss as it goes and both losses every eval_every steps. */
static int train(lam_module *gpt, const gpt_options *o, const corpus *c, lam_device *dev, FILE *losses) {
    lam_schedule *sched;
    lam_optim *opt = gpt_optimizer(gpt, o, &sched);
    if (!opt) return gpt_fail("gpt_chars", "optimizer");
    int64_t B = o->batch, T = o->model.block_size, *at = malloc((size_t)B * sizeof *at);
    uint64_t rng = o->seed;
    double t0 = gpt_now(), loss = NAN;
    int rc = at ? 0 : 1;
    for (int64_t step = 0; step < o->steps && !rc; ++step) {
        for (int64_t b = 0; b < B; ++b) at[b] = (int64_t)(gpt_rand_next(&rng) % (uint64_t)(c->n_train - T - 1));
        lam_scope_begin();
        lam_tensor *x, *y;
        if (windows(c, at, B, T, dev, &x, &y) != LAM_OK) rc = gpt_fail("gpt_chars", "batch");
        else if (isnan(loss = gpt_train_step(gpt, opt, sched, x, y, -100, o))) rc = gpt_fail("gpt_chars", "training step");
        lam_scope_end();
        if (losses) fprintf(losses, "%lld %.9g\n", (long long)step, loss);
        gpt_progress(step + 1, o->steps, loss, (double)((step + 1) * B * T) / (gpt_now() - t0));
        if (!rc && ((step + 1) % o->eval_every == 0 || step + 1 == o->steps))
            printf("\rstep %lld/%lld: train loss %.4f, val loss %.4f (%.1f s)\n", (long long)step + 1, (long long)o->steps,
                   eval_loss(gpt, c, o, 0, c->n_train, dev), eval_loss(gpt, c, o, c->n_train, c->n, dev), gpt_now() - t0);
    }
    double dt = gpt_now() - t0;
    printf("trained %lld steps in %.1f s (%.0f tokens/s)\n", (long long)o->steps, dt, (double)(o->steps * B * T) / dt);
    if (!rc && o->save && lam_checkpoint_save(o->save, gpt, opt) != LAM_OK) rc = gpt_fail("gpt_chars", "--save");
    else if (!rc && o->save) printf("checkpoint: %s\n", o->save);
    lam_optim_free(opt);
    free(at);
    return rc;
}

int main(int argc, char **argv) {
    gpt_options o = {.steps = 2000, .batch = 32, .eval_every = 200, .lr = 1e-3, .weight_decay = 0.1, .grad_clip = 1.0, .seed = 0,
                     .model = {.block_size = 64, .n_layer = 4, .n_head = 4, .n_embd = 128}};
    static corpus c = {.dir = FORTUNES, .prompt = "\n", .val_frac = 0.1, .temperature = 0.8, .eval_batches = 8,
                       .sample = 300, .top_k = 10};
    int rc = gpt_parse("gpt_chars", argc, argv, &o,
                       " [--data DIR] [--limit CHARS] [--eval-batches N]\n       [--sample N] [--temperature F]"
                       " [--top-k N] [--prompt TEXT] [--max-val-loss F]",
                       extra, &c);
    if (rc) return rc == 2 ? 0 : 1;
    setvbuf(stdout, NULL, _IOLBF, 0);   /* progress lines reach a log file as they come */
    lam_device *dev = lam_device_get(o.device);
    if (!dev || lam_set_default_device(dev) != LAM_OK) return gpt_fail("gpt_chars", "--device");
    printf("device %s\n", lam_device_name(dev));
    if (load_corpus(&c, o.model.block_size)) return 1;
    o.model.vocab_size = c.vocab;
    lam_manual_seed(o.seed);
    lam_module *gpt = gpt_new(o.model);
    if (!gpt) return gpt_fail("gpt_chars", "model");
    printf("GPT: %lld parameters (%lld layers, %lld heads, n_embd %lld, block_size %lld)\n", (long long)lam_param_count(gpt),
           (long long)o.model.n_layer, (long long)o.model.n_head, (long long)o.model.n_embd, (long long)o.model.block_size);
    FILE *losses = o.losses ? fopen(o.losses, "w") : NULL;
    if (o.losses && !losses) rc = 1, perror(o.losses);
    if (!rc && o.save_init && lam_save(gpt, o.save_init) != LAM_OK) rc = gpt_fail("gpt_chars", "--save-init");
    double before = rc ? NAN : eval_loss(gpt, &c, &o, c.n_train, c.n, dev);
    if (!rc) printf("val loss before training %.4f\n", before);
    if (!rc) rc = train(gpt, &o, &c, dev, losses);
    if (losses) fclose(losses);
    double after = rc ? NAN : eval_loss(gpt, &c, &o, c.n_train, c.n, dev);
    if (!rc) printf("final val loss %.4f\n", after);
    if (!rc && !(after <= c.max_val_loss || c.max_val_loss == 0))
        rc = 1, fprintf(stderr, "gpt_chars: val loss %.4f above --max-val-loss %.4f\n", after, c.max_val_loss);
    if (!rc && c.sample) rc = sample_text(gpt, &c, &o, dev);
    lam_module_free(gpt);
    free(c.text);
    return rc;
}
