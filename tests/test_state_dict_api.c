/* The state_dict API (lamina/state_dict.h): in-memory state_dicts in PyTorch's order,
 * copies, loads from memory and files, strict=False reports checked against PyTorch's,
 * prefixes, lazy layers that load before their first forward (their output checked against
 * PyTorch's), and safetensors files without a module. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lamina.h>

#include "module_cases.h"
#include "test_util.h"

static lam_device *cpu(void) { return lam_device_get("cpu"); }

/* The devices under test (LAMINA_TEST_DEVICES, else all). */
static int devices(lam_device **out) {
    int n = tu_devices(out, TU_MAX_DEVICES);
    assert_true(n > 0);
    return n;
}

static void tmp_file(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", LAMINA_TEST_TMP_DIR, name);
}

/* The keys PyTorch's state_dict() gives a model (tests/reference/module_names.txt). */
static int torch_keys(const char *model, char keys[][128], int max) {
    FILE *f = fopen(REF("module_names.txt"), "r");
    assert_non_null(f);
    char line[512], m[64], kind[16], key[128];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%63s %15s %127s", m, kind, key) == 3 && !strcmp(m, model) && n < max)
            snprintf(keys[n++], sizeof keys[0], "%s", key);
    fclose(f);
    return n;
}

/* ---- lam_module_state_dict: PyTorch's keys and order, shared storage, no grad -------- */

static void test_module_state_dict(void **state) {
    (void)state;
    lam_scope_begin();
    lam_module *m = built(&models[2], cpu(), lam_rand(LAM_SHAPE(2, 20), cpu()));
    lam_state_dict *sd = lam_module_state_dict(m);
    assert_non_null(sd);
    char keys[32][128];
    int n = torch_keys("chimera", keys, 32);
    assert_int_equal(n, 11);
    assert_int_equal(lam_state_dict_size(sd), n);
    for (int i = 0; i < n; ++i) {
        assert_string_equal(lam_state_dict_key(sd, i), keys[i]);
        lam_tensor *t = lam_state_dict_value(sd, i);
        assert_false(lam_tensor_requires_grad(t));
        lam_tensor *own = strstr(keys[i], "rand_weight") ? lam_module_buffer(m, keys[i]) : lam_module_param(m, keys[i]);
        assert_true(rel_err(t, own) == 0);
    }
    assert_null(lam_state_dict_key(sd, n));
    assert_null(lam_state_dict_value(sd, -1));
    /* the entries share the model's storage, as PyTorch's do */
    assert_int_equal(lam_fill_(lam_state_dict_get(sd, "1.bias"), 3), LAM_OK);
    assert_true(lam_item(lam_sum(lam_module_param(m, "1.bias"))) == 60);
    lam_state_dict_free(sd);
    lam_module_free(m);
    /* a lazy layer that never ran has nothing to share */
    m = mlp_new();
    lam_clear_error();
    assert_null(lam_module_state_dict(m));
    assert_int_equal(lam_last_status(), LAM_ERR_STATE);
    assert_non_null(strstr(lam_last_error(), "hidden"));
    lam_module_free(m);
    lam_scope_end();
    lam_clear_error();
}

/* ---- the map itself: set, replace, remove, metadata, bad keys ------------------------- */

static void test_map(void **state) {
    (void)state;
    int64_t live = lam_live_tensors();
    lam_state_dict *sd = lam_state_dict_new();
    lam_scope_begin();
    lam_tensor *a = lam_full(1, LAM_SHAPE(2), cpu()), *b = lam_full(2, LAM_SHAPE(3), cpu());
    assert_int_equal(lam_state_dict_set(sd, "a", a), LAM_OK);
    assert_int_equal(lam_state_dict_set(sd, "b", b), LAM_OK);
    assert_int_equal(lam_state_dict_set(sd, "c", a), LAM_OK);
    assert_int_equal(lam_state_dict_set(sd, "a", b), LAM_OK);   /* replaced in place */
    assert_int_equal(lam_state_dict_set(sd, "b", b), LAM_OK);   /* by itself */
    lam_scope_end();                                            /* the dict keeps its own references */
    assert_int_equal(lam_state_dict_size(sd), 3);
    assert_string_equal(lam_state_dict_key(sd, 0), "a");
    assert_int_equal(lam_numel(lam_state_dict_get(sd, "a")), 3);
    assert_int_equal(lam_numel(lam_state_dict_get(sd, "c")), 2);
    assert_null(lam_state_dict_get(sd, "nope"));
    assert_int_equal(lam_state_dict_remove(sd, "a"), LAM_OK);
    assert_string_equal(lam_state_dict_key(sd, 0), "b");
    assert_string_equal(lam_state_dict_key(sd, 1), "c");
    assert_int_equal(lam_state_dict_remove(sd, "a"), LAM_ERR_ARG);
    char long_key[300];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    lam_scope_begin();
    lam_tensor *t = lam_zeros(LAM_SHAPE(1), cpu());
    assert_int_equal(lam_state_dict_set(sd, "", t), LAM_ERR_ARG);
    assert_int_equal(lam_state_dict_set(sd, "__metadata__", t), LAM_ERR_ARG);
    assert_int_equal(lam_state_dict_set(sd, long_key, t), LAM_ERR_ARG);
    assert_int_equal(lam_state_dict_set(sd, "x", NULL), LAM_ERR_ARG);
    lam_scope_end();
    assert_int_equal(lam_state_dict_set_metadata(sd, "format", "pt"), LAM_OK);
    assert_int_equal(lam_state_dict_set_metadata(sd, "note", "one"), LAM_OK);
    assert_int_equal(lam_state_dict_set_metadata(sd, "note", "two"), LAM_OK);
    assert_int_equal(lam_state_dict_metadata_count(sd), 2);
    assert_string_equal(lam_state_dict_metadata_key(sd, 1), "note");
    assert_string_equal(lam_state_dict_metadata(sd, "note"), "two");
    assert_null(lam_state_dict_metadata(sd, "none"));
    lam_state_dict_free(sd);
    assert_int_equal(lam_live_tensors(), live);
    assert_int_equal(lam_state_dict_size(NULL), 0);
    lam_state_dict_free(NULL);
    lam_clear_error();
}

/* ---- copies and loads from memory: keep the best model, restore it, across devices ----- */

static void test_copy_and_load(void **state) {
    (void)state;
    lam_device *devs[TU_MAX_DEVICES];
    int nd = devices(devs);
    for (int d = 0; d < nd; ++d) {
        lam_device *dev = devs[d];
        lam_scope_begin();
        lam_tensor *x = lam_rand(LAM_SHAPE(2, 20), dev);
        lam_module *a = built(&models[2], dev, x);
        lam_tensor *want = lam_forward(a, x);
        lam_state_dict *sd = lam_module_state_dict(a);
        lam_state_dict *best = lam_state_dict_copy(sd, cpu());   /* own storage, on the host */
        assert_non_null(best);
        assert_ptr_equal(lam_tensor_device(lam_state_dict_value(best, 0)), cpu());
        lam_state_dict_free(sd);
        lam_named_tensor p[32];
        int n = lam_named_parameters(a, p, 32);
        for (int i = 0; i < n; ++i) assert_int_equal(lam_fill_(p[i].tensor, 0), LAM_OK);   /* "training" */
        assert_true(lam_item(lam_sum(lam_state_dict_get(best, "1.weight"))) != 0);          /* the copy kept its values */
        assert_int_equal(lam_module_load_state_dict(a, best, NULL, NULL), LAM_OK);
        double err = rel_err(lam_forward(a, x), want);
        printf("  restored from a copy on cpu into %-24s %.2e\n", lam_device_name(dev), err);
        assert_true(err == 0);
        /* into another model made with another seed */
        lam_manual_seed(99);
        lam_module *b = built(&models[2], dev, x);
        assert_true(rel_err(lam_forward(b, x), want) > 1e-3);
        assert_int_equal(lam_module_load_state_dict(b, best, NULL, NULL), LAM_OK);
        assert_true(rel_err(lam_forward(b, x), want) == 0);
        /* a copy on the same device shares nothing either */
        lam_state_dict *same = lam_state_dict_copy(best, NULL);
        assert_int_equal(lam_fill_(lam_state_dict_get(same, "1.bias"), 7), LAM_OK);
        assert_true(lam_item(lam_sum(lam_state_dict_get(best, "1.bias"))) != 140);
        lam_state_dict_free(same);
        lam_state_dict_free(best);
        lam_module_free(a);
        lam_module_free(b);
        lam_scope_end();
    }
}

/* ---- strict=False: what PyTorch reports, and the same values ------------------------- */

/* Lines "<case> <what> <key> [dims]" of tests/reference/state_dict_keys.txt for one case
 * and one kind, joined by spaces: "missing extra" -> "extra". */
static void torch_report(const char *which, const char *what, char *out, size_t size) {
    FILE *f = fopen(REF("state_dict_keys.txt"), "r");
    assert_non_null(f);
    char line[512], c[64], w[32];
    int off;
    *out = '\0';
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "%63s %31s %n", c, w, &off) == 2 && !strcmp(c, which) && !strcmp(w, what))
            snprintf(out + strlen(out), size - strlen(out), "%s%s", *out ? "; " : "", line + off);
    }
    fclose(f);
}

/* Appends to a report. */
static void add(char *out, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + strlen(out), size - strlen(out), fmt, ap);
    va_end(ap);
}

/* The same report from lamina: keys, parameter shapes, lazy layers still waiting. */
static void our_report(lam_module *m, const lam_load_result *r, const char *what, char *out, size_t size) {
    *out = '\0';
#define ADD(...) add(out, size, __VA_ARGS__)
    if (!strcmp(what, "missing"))
        for (int i = 0; i < r->n_missing; ++i) ADD("%s%s", *out ? "; " : "", r->missing_keys[i]);
    if (!strcmp(what, "unexpected"))
        for (int i = 0; i < r->n_unexpected; ++i) ADD("%s%s", *out ? "; " : "", r->unexpected_keys[i]);
    if (!strcmp(what, "shape")) {
        lam_named_tensor p[16];
        int n = lam_named_parameters(m, p, 16);
        for (int i = 0; i < n; ++i) {
            ADD("%s%s", *out ? "; " : "", p[i].name);
            for (int d = 0; d < lam_ndim(p[i].tensor); ++d) ADD(" %lld", (long long)lam_dim(p[i].tensor, d));
        }
    }
    if (!strcmp(what, "lazy"))
        for (int i = 0; i < lam_module_children(m, NULL, 0); ++i) {
            lam_module *kid = lam_module_child(m, lam_module_child_name(m, i));
            if (!strcmp(lam_module_class_of(kid)->name, "LazyLinear")) ADD("%s%s", *out ? "; " : "", lam_module_child_name(m, i));
        }
#undef ADD
}

static void same_report(const char *which, lam_module *m, const lam_load_result *r) {
    static const char *const kinds[] = {"missing", "unexpected", "shape", "lazy"};
    for (int k = 0; k < 4; ++k) {
        char want[1024], got[1024];
        torch_report(which, kinds[k], want, sizeof want);
        our_report(m, r, kinds[k], got, sizeof got);
        printf("  %-12s %-10s PyTorch [%s]\n", which, kinds[k], want);
        assert_string_equal(got, want);
    }
}

static void test_non_strict(void **state) {
    (void)state;
    lam_scope_begin();
    /* extra_nobias: Linear hidden, Linear out without bias, a persistent buffer "extra" */
    lam_module *m = lam_module_new(&MLP);
    mlp *self = lam_self(m);
    self->hidden = lam_add_module(m, "hidden", lam_nn_linear(20, 256));
    self->out = lam_add_module(m, "out", lam_nn_linear_nobias(256, 10));
    assert_non_null(lam_add_buffer(m, "extra", lam_full(5, LAM_SHAPE(3), cpu()), true));
    snapshot s = take_snapshot(m);
    lam_load_result r;
    /* strict: an error naming both keys, the report filled, the model unchanged */
    assert_int_equal(lam_module_load_file(m, REF("module_mlp_state.safetensors"), NULL, &r), LAM_ERR_STATE);
    printf("  strict: %s\n", lam_last_error());
    assert_non_null(strstr(lam_last_error(), "missing key \"extra\""));
    assert_non_null(strstr(lam_last_error(), "unexpected key \"out.bias\""));
    assert_int_equal(r.n_missing, 1);
    assert_int_equal(r.n_unexpected, 1);
    lam_load_result_free(&r);
    assert_unchanged(m, &s);
    /* non-strict: loads what matches and says what did not */
    lam_load_options opt = {.non_strict = true};
    assert_int_equal(lam_module_load_file(m, REF("module_mlp_state.safetensors"), &opt, &r), LAM_OK);
    same_report("extra_nobias", m, &r);
    lam_load_result_free(&r);
    assert_int_equal(r.n_missing, 0);
    ref_file *rf = ref_open(REF("module_mlp_state.safetensors"));
    assert_true(rel_err(lam_module_param(m, "hidden.weight"), ref_tensor(rf, "hidden.weight", cpu())) == 0);
    assert_true(rel_err(lam_module_param(m, "out.weight"), ref_tensor(rf, "out.weight", cpu())) == 0);
    assert_true(lam_item(lam_sum(lam_module_buffer(m, "extra"))) == 15);   /* missing: untouched */
    /* a shape that does not fit fails even when not strict, as in PyTorch, and changes nothing */
    lam_module *wide = lam_nn_sequential(0);
    assert_non_null(lam_add_module(wide, "hidden", lam_nn_linear(30, 256)));
    s = take_snapshot(wide);
    assert_int_equal(lam_module_load_file(wide, REF("module_mlp_state.safetensors"), &opt, &r), LAM_ERR_SHAPE);
    assert_non_null(strstr(lam_last_error(), "\"hidden.weight\" has shape (256, 20) in the file, (256, 30) in the module"));
    lam_load_result_free(&r);
    assert_unchanged(wide, &s);
    lam_module_free(wide);
    lam_module_free(m);

    /* lazy_partial: a never-run lazy MLP, from a dict without out.* and with a head.weight */
    lam_state_dict *sd = lam_safetensors_load(REF("module_mlp_state.safetensors"), cpu());
    assert_non_null(sd);
    assert_int_equal(lam_state_dict_remove(sd, "out.weight"), LAM_OK);
    assert_int_equal(lam_state_dict_remove(sd, "out.bias"), LAM_OK);
    assert_int_equal(lam_state_dict_set(sd, "head.weight", lam_zeros(LAM_SHAPE(2, 2), cpu())), LAM_OK);
    m = mlp_new();
    assert_int_equal(lam_module_load_state_dict(m, sd, &opt, &r), LAM_OK);
    same_report("lazy_partial", m, &r);
    lam_load_result_free(&r);
    assert_true(rel_err(lam_module_param(m, "hidden.bias"), ref_tensor(rf, "hidden.bias", cpu())) == 0);
    /* out materializes at its first forward, as in PyTorch */
    assert_int_equal(lam_dim(lam_forward(m, lam_rand(LAM_SHAPE(2, 20), cpu())), 1), 10);
    lam_module_free(m);
    lam_state_dict_free(sd);
    ref_close(rf);
    lam_scope_end();
    lam_clear_error();
}

/* ---- prefixes: a part of a bigger model's file ------------------------------------------ */

static void test_prefix(void **state) {
    (void)state;
    lam_scope_begin();
    lam_tensor *x = lam_rand(LAM_SHAPE(2, 20), cpu());
    lam_module *chimera = built(&models[2], cpu(), x);
    assert_int_equal(lam_load(chimera, REF("module_chimera_state.safetensors")), LAM_OK);
    /* NestMLP is chimera's "0": "0.net.0.weight" in the file is its "net.0.weight" */
    lam_module *nest = nest_mlp_new();
    lam_load_result r;
    lam_load_options opt = {.prefix = "0."};
    assert_int_equal(lam_module_load_file(nest, REF("module_chimera_state.safetensors"), &opt, &r), LAM_OK);
    assert_int_equal(r.n_missing + r.n_unexpected, 0);   /* "1.*" and "2.*" do not start with "0." */
    lam_load_result_free(&r);
    lam_module *part = lam_module_child(chimera, "0");
    assert_true(rel_err(lam_forward(nest, x), lam_forward(part, x)) == 0);
    /* FixedHiddenMLP is "2." (a buffer among its keys); strict and from memory this time */
    lam_state_dict *sd = lam_module_state_dict(chimera);
    lam_module *fixed = fixed_hidden_mlp_new();
    assert_int_equal(lam_module_load_state_dict(fixed, sd, &(lam_load_options){.prefix = "2."}, NULL), LAM_OK);
    assert_true(rel_err(lam_module_buffer(fixed, "rand_weight"), lam_module_buffer(chimera, "2.rand_weight")) == 0);
    /* a wrong prefix finds nothing: strict fails naming every key, and lists them */
    lam_module_free(fixed);
    fixed = fixed_hidden_mlp_new();
    assert_int_equal(lam_module_load_state_dict(fixed, sd, &(lam_load_options){.prefix = "1."}, &r), LAM_ERR_STATE);
    assert_int_equal(r.n_missing, 3);
    assert_int_equal(r.n_unexpected, 2);
    assert_string_equal(r.unexpected_keys[0], "1.weight");
    lam_load_result_free(&r);
    /* without a prefix the keys do not line up */
    assert_int_equal(lam_module_load_state_dict(nest, sd, &(lam_load_options){.non_strict = true}, &r), LAM_OK);
    assert_int_equal(r.n_missing, 6);
    assert_int_equal(r.n_unexpected, 11);
    lam_load_result_free(&r);
    lam_state_dict_free(sd);
    lam_module_free(fixed);
    lam_module_free(nest);
    lam_module_free(chimera);
    lam_scope_end();
    lam_clear_error();
}

/* ---- lazy layers load before their first forward: PyTorch's output on every device ------ */

static void test_lazy_load(void **state) {
    (void)state;
    ref_file *rf = ref_open(REF("module_ref.safetensors"));
    assert_non_null(rf);
    lam_device *devs[TU_MAX_DEVICES];
    int nd = devices(devs);
    for (int d = 0; d < nd; ++d) {
        lam_device *dev = devs[d];
        lam_set_default_device(dev);
        lam_module *m = chimera_new();   /* every Linear in it is lazy */
        lam_set_default_device(cpu());
        assert_int_equal(lam_param_count(m), 0);
        assert_int_equal(lam_load(m, REF("module_chimera_state.safetensors")), LAM_OK);
        assert_int_equal(lam_dim(lam_module_param(m, "1.weight"), 1), 16);
        assert_ptr_equal(lam_tensor_device(lam_module_param(m, "0.net.0.weight")), dev);
        assert_string_equal(lam_module_class_of(lam_module_child(m, "1"))->name, "Linear");
        lam_scope_begin();
        lam_tensor *out = lam_reshape(lam_forward(m, ref_tensor(rf, "chimera.x", dev)), 1, (int64_t[]){-1});
        double err = rel_err(out, ref_tensor(rf, "chimera.out", dev));
        printf("  lazy chimera loaded, then run on %-24s vs PyTorch %.2e\n", lam_device_name(dev), err);
        assert_true(err <= 1e-5);
        lam_scope_end();
        lam_module_free(m);
    }
    ref_close(rf);
    /* a shape the lazy layer cannot take: an error, and the layer still lazy */
    lam_scope_begin();
    lam_module *m = mlp_new();
    lam_state_dict *sd = lam_safetensors_load(REF("module_mlp_state.safetensors"), cpu());
    assert_int_equal(lam_state_dict_set(sd, "out.weight", lam_zeros(LAM_SHAPE(11, 256), cpu())), LAM_OK);
    assert_int_equal(lam_module_load_state_dict(m, sd, NULL, NULL), LAM_ERR_SHAPE);
    printf("  %s\n", lam_last_error());
    assert_non_null(strstr(lam_last_error(), "\"out.weight\" has shape (11, 256)"));
    assert_int_equal(lam_param_count(m), 0);
    /* the right one: hidden (256, 20), out (10, 256) */
    lam_state_dict_free(sd);
    sd = lam_safetensors_load(REF("module_mlp_state.safetensors"), cpu());
    assert_int_equal(lam_module_load_state_dict(m, sd, NULL, NULL), LAM_OK);
    assert_int_equal(lam_param_count(m), 20 * 256 + 256 + 256 * 10 + 10);
    /* a lazy layer without its weight in the source cannot take its bias alone */
    lam_module *lazy = mlp_new();
    assert_int_equal(lam_state_dict_remove(sd, "hidden.weight"), LAM_OK);
    assert_int_equal(lam_module_load_state_dict(lazy, sd, &(lam_load_options){.non_strict = true}, NULL), LAM_ERR_STATE);
    assert_non_null(strstr(lam_last_error(), "\"hidden.bias\" cannot load into a lazy layer without its \"weight\""));
    assert_int_equal(lam_param_count(lazy), 0);
    lam_module_free(lazy);
    lam_state_dict_free(sd);
    lam_module_free(m);
    lam_scope_end();
    lam_clear_error();
}

/* ---- safetensors without a module: PyTorch's files, lamina's bytes, metadata ------------- */

static void test_safetensors_files(void **state) {
    (void)state;
    lam_scope_begin();
    /* PyTorch's file: the file's order and metadata; values as an independent reader sees them */
    lam_state_dict *sd = lam_safetensors_load(REF("module_chimera_state.safetensors"), NULL);
    assert_non_null(sd);
    char keys[32][128];
    int n = torch_keys("chimera", keys, 32);
    assert_int_equal(lam_state_dict_size(sd), n);
    ref_file *rf = ref_open(REF("module_chimera_state.safetensors"));
    for (int i = 0; i < n; ++i) {
        assert_string_equal(lam_state_dict_key(sd, i), keys[i]);
        assert_ptr_equal(lam_tensor_device(lam_state_dict_value(sd, i)), lam_default_device());
        assert_true(rel_err(lam_state_dict_value(sd, i), ref_tensor(rf, keys[i], cpu())) == 0);
    }
    ref_close(rf);
    assert_string_equal(lam_state_dict_metadata(sd, "format"), "pt");
    lam_state_dict_free(sd);
    /* lamina's own file saves back byte for byte */
    char path[512];
    tmp_file(path, sizeof path, "api_resaved.safetensors");
    sd = lam_safetensors_load(REF("module_lamina_saved.safetensors"), cpu());
    assert_string_equal(lam_state_dict_metadata(sd, "producer"), "lamina");
    assert_int_equal(lam_safetensors_save(sd, path), LAM_OK);
    lam_state_dict_free(sd);
    FILE *a = fopen(REF("module_lamina_saved.safetensors"), "rb"), *b = fopen(path, "rb");
    int ca, cb;
    do {
        ca = fgetc(a);
        cb = fgetc(b);
        assert_int_equal(ca, cb);
    } while (ca != EOF);
    fclose(a);
    fclose(b);
    /* a dict made by hand: any dtype, any device, a view, the order kept, metadata */
    lam_device *devs[TU_MAX_DEVICES];
    lam_device *dev = devs[devices(devs) - 1];
    sd = lam_state_dict_new();
    int64_t ids[3] = {7, -1, 1LL << 40};
    lam_tensor *grid = lam_reshape(lam_rand(LAM_SHAPE(12), dev), LAM_SHAPE(3, 4));
    assert_int_equal(lam_state_dict_set(sd, "z.ids", lam_from_data(ids, LAM_I64, LAM_SHAPE(3), cpu())), LAM_OK);
    assert_int_equal(lam_state_dict_set(sd, "a.grid_t", lam_transpose(grid, 0, 1)), LAM_OK);
    assert_int_equal(lam_state_dict_set(sd, "scalar", lam_scalar(2.5f, dev)), LAM_OK);
    assert_int_equal(lam_state_dict_set_metadata(sd, "epoch", "12"), LAM_OK);
    assert_int_equal(lam_safetensors_save(sd, path), LAM_OK);
    lam_state_dict *back = lam_safetensors_load(path, cpu());
    assert_non_null(back);
    assert_int_equal(lam_state_dict_size(back), 3);
    assert_string_equal(lam_state_dict_key(back, 0), "z.ids");
    assert_string_equal(lam_state_dict_key(back, 2), "scalar");
    assert_int_equal(lam_tensor_dtype(lam_state_dict_value(back, 0)), LAM_I64);
    assert_true(lam_item(lam_slice(lam_state_dict_get(back, "z.ids"), 0, 2, 3, 1)) == (double)(1LL << 40));
    assert_int_equal(lam_ndim(lam_state_dict_get(back, "scalar")), 0);
    assert_true(lam_item(lam_state_dict_get(back, "scalar")) == 2.5);
    assert_true(rel_err(lam_state_dict_get(back, "a.grid_t"), lam_to(lam_transpose(grid, 0, 1), cpu())) == 0);
    assert_string_equal(lam_state_dict_metadata(back, "epoch"), "12");
    lam_state_dict_free(back);
    lam_state_dict_free(sd);
    /* names that hold a backslash and "u0000" as text are fine; a NUL is not */
    FILE *f = fopen(path, "wb");
    const char *h = "{\"a\\\\u0000\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}";
    size_t hl = strlen(h);
    for (int i = 0; i < 8; ++i) fputc((int)(hl >> (8 * i)) & 0xff, f);
    fputs(h, f);
    fwrite("\0\0\x80\x3f", 1, 4, f);
    fclose(f);
    back = lam_safetensors_load(path, cpu());
    assert_non_null(back);
    assert_string_equal(lam_state_dict_key(back, 0), "a\\u0000");
    assert_true(lam_item(lam_state_dict_value(back, 0)) == 1.0);
    lam_state_dict_free(back);
    remove(path);
    /* errors */
    lam_clear_error();
    assert_null(lam_safetensors_load("/nonexistent/x.safetensors", cpu()));
    assert_int_equal(lam_last_status(), LAM_ERR_IO);
    lam_clear_error();
    assert_int_equal(lam_safetensors_save(NULL, path), LAM_ERR_ARG);
    lam_scope_end();
    lam_clear_error();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_module_state_dict), cmocka_unit_test(test_map),
        cmocka_unit_test(test_copy_and_load),     cmocka_unit_test(test_non_strict),
        cmocka_unit_test(test_prefix),            cmocka_unit_test(test_lazy_load),
        cmocka_unit_test(test_safetensors_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
