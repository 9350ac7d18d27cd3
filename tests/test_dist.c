/* Data parallel training over MPI ranks (lamina/dist.h), run by ctest as 2 ranks
 * (tests/mpirun.sh) and as a plain process (a world of one). On every device:
 * - after DDP steps, every rank's parameters equal those of one process that took the whole
 *   batch (world x B) within 1e-5, starting from different seeds (rank 0's parameters win);
 * - a whole epoch through lam_dist_batch with a short last step where a rank has nothing;
 * - each rank's part of the data: disjoint, covering the epoch, reshuffled per epoch;
 * - buffers broadcast from rank 0 at each forward (or kept with local_buffers);
 * - ranks holding different models fail together with a message, no hang;
 * - buckets start during backward. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "test_util.h"

#ifndef LAMINA_TEST_WORK
#define LAMINA_TEST_WORK "."
#endif

static lam_module *mlp(int64_t in, int64_t hidden, int64_t out, uint64_t seed) {
    lam_manual_seed(seed);
    return lam_nn_sequential(3, lam_nn_linear(in, hidden), lam_nn_relu(), lam_nn_linear(hidden, out));
}

/* Rows [first, first + rows) of a fixed (64, in) input and its labels, on dev. */
static void rows_of(int64_t first, int64_t rows, int64_t in, int classes, uint64_t seed, lam_device *dev,
                    lam_tensor **x, lam_tensor **y) {
    double v[64 * 16];
    int64_t lab[64];
    tu_fill_uniform(v, 64 * in, -1, 1, seed);
    for (int i = 0; i < 64; ++i) lab[i] = (i * 7 + (int)seed) % classes;
    *x = tu_from_doubles(v + first * in, 2, (int64_t[]){rows, in}, dev);
    *y = lam_from_data(lab + first, LAM_I64, 1, (int64_t[]){rows}, dev);
}

/* The largest |a - b| over all parameters of two same-shaped models. */

/* One SGD step of the reference on rows [0, world * B) and of DDP on this rank's B rows. */
static void step_pair(lam_module *ref, lam_optim *ref_opt, lam_ddp *ddp, lam_optim *opt,
                      int64_t batch, uint64_t data_seed, lam_device *dev) {
    int world = lam_dist_world_size(), rank = lam_dist_rank();
    lam_scope_begin();
    lam_tensor *x, *y;
    rows_of(0, world * batch, 6, 4, data_seed, dev, &x, &y);
    lam_optim_zero_grad(ref_opt);
    assert_ok(lam_backward(lam_cross_entropy(lam_forward(ref, x), y)));
    assert_ok(lam_optim_step(ref_opt));
    rows_of(rank * batch, batch, 6, 4, data_seed, dev, &x, &y);
    lam_optim_zero_grad(opt);
    assert_ok(lam_ddp_backward(ddp, lam_cross_entropy(lam_ddp_forward(ddp, x), y), 1.0 / world));
    assert_ok(lam_optim_step(opt));
    lam_scope_end();
}

/* world ranks x batch B = one process x batch world * B, after each of 3 momentum steps. */
static void same_as_one_process(void **state) {
    (void)state;
    lam_device *devs[TU_MAX_DEVICES];
    int nd = tu_devices(devs, TU_MAX_DEVICES);
    for (int k = 0; k < nd; ++k) {
        lam_module *ref = mlp(6, 8, 4, 10), *net = mlp(6, 8, 4, 10 + (uint64_t)lam_dist_rank());
        assert_ok(lam_module_to(ref, devs[k]));
        assert_ok(lam_module_to(net, devs[k]));
        lam_ddp_options o = {.bucket_bytes = 64};   /* one bucket per parameter: 4 buckets */
        lam_ddp *ddp = lam_ddp_new(net, &o);
        assert_non_null(ddp);
        assert_true(tu_max_param_diff(ref, net) == 0.0);   /* rank 0's initial parameters everywhere */
        lam_optim *ro = lam_sgd(ref, (lam_sgd_options){.lr = 0.1f, .momentum = 0.9f});
        lam_optim *no = lam_sgd(net, (lam_sgd_options){.lr = 0.1f, .momentum = 0.9f});
        for (int s = 0; s < 3; ++s) {
            step_pair(ref, ro, ddp, no, 5, (uint64_t)s + 1, devs[k]);
            double e = tu_max_param_diff(ref, net);
            if (e > 1e-5) print_error("%s step %d: rank %d differs by %g\n", lam_device_spec(devs[k]), s, lam_dist_rank(), e);
            assert_true(e >= 0 && e <= 1e-5);
        }
        lam_ddp_stats st;
        assert_ok(lam_ddp_get_stats(ddp, &st));
        assert_int_equal(st.buckets, 4);
        assert_int_equal(st.steps, 3);
        assert_int_equal(st.grad_bytes, (6 * 8 + 8 + 8 * 4 + 4) * 4);
        assert_true(st.early_buckets >= 3 * 3);   /* all but the last bucket start inside backward */
        lam_ddp_free(ddp);
        lam_optim_free(ro);
        lam_optim_free(no);
        lam_module_free(ref);
        lam_module_free(net);
    }
}

/* Buckets: reverse registration order (2.bias 16 B, 2.weight 128 B, 0.bias 32 B, 0.weight
 * 192 B), the first one capped by first_bucket_bytes, the others by bucket_bytes. */
static void bucket_layout(void **state) {
    (void)state;
    const struct { size_t first, cap; int buckets; } cases[] = {
        {16, 1000, 2},   /* [2.bias] [2.weight 0.bias 0.weight] */
        {200, 200, 2},   /* [2.bias 2.weight 0.bias] [0.weight] */
        {0, 0, 1},       /* 1 MB first bucket: everything */
        {0, 100, 4},     /* the first bucket is at most bucket_bytes; larger tensors alone */
    };
    lam_module *m = mlp(6, 8, 4, 1);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
        lam_ddp *ddp = lam_ddp_new(m, &(lam_ddp_options){.bucket_bytes = cases[c].cap,
                                                       .first_bucket_bytes = cases[c].first});
        assert_non_null(ddp);
        lam_ddp_stats st;
        assert_ok(lam_ddp_get_stats(ddp, &st));
        if (st.buckets != cases[c].buckets) print_error("case %zu: %d buckets\n", c, st.buckets);
        assert_int_equal(st.buckets, cases[c].buckets);
        lam_ddp_free(ddp);
    }
    lam_module_free(m);
}

/* ---- a data set whose examples say who they are ------------------------------------------ */

#define N_EXAMPLES 33   /* with 2 ranks x 4: the last step has one example, rank 1 none */

static void put_be32(FILE *f, uint32_t v) {
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
    fwrite(b, 1, 4, f);
}

/* IDX files of N_EXAMPLES 1x2 images (pixel 0 = the example's number) and labels i % 10. */
static lam_dataset *numbered_dataset(void) {
    char dir[512], im[600], lb[600];
    snprintf(dir, sizeof dir, "%s/rank%d", LAMINA_TEST_WORK, lam_dist_rank());
    mkdir(LAMINA_TEST_WORK, 0755);
    mkdir(dir, 0755);
    snprintf(im, sizeof im, "%s/images-idx3-ubyte", dir);
    snprintf(lb, sizeof lb, "%s/labels-idx1-ubyte", dir);
    FILE *f = fopen(im, "wb"), *g = fopen(lb, "wb");
    assert_true(f && g);
    put_be32(f, 0x803), put_be32(f, N_EXAMPLES), put_be32(f, 1), put_be32(f, 2);
    put_be32(g, 0x801), put_be32(g, N_EXAMPLES);
    for (int i = 0; i < N_EXAMPLES; ++i) {
        unsigned char px[2] = {(unsigned char)i, (unsigned char)(255 - i)}, l = (unsigned char)(i % 10);
        fwrite(px, 1, 2, f);
        fwrite(&l, 1, 1, g);
    }
    fclose(f);
    fclose(g);
    lam_dataset *d = lam_dataset_load_idx(im, lb);
    assert_non_null(d);
    return d;
}

/* Over 2 epochs: every example once per epoch over all ranks, shares summing to 1 per step,
 * and another order in the second epoch. */
static void shards_cover_the_epoch(void **state) {
    (void)state;
    lam_dataset *d = numbered_dataset();
    lam_device *cpu = lam_device_get("cpu");
    int world = lam_dist_world_size();
    int64_t steps = lam_dist_steps(d, 4), first_seen[2] = {-1, -1};
    assert_int_equal(steps, (N_EXAMPLES + 4 * world - 1) / (4 * world));
    for (int epoch = 0; epoch < 2; ++epoch) {
        double count[N_EXAMPLES] = {0}, shares[16] = {0};
        lam_dataset_shuffle(d, 7, (uint64_t)epoch);
        for (int64_t s = 0; s < steps; ++s) {
            lam_scope_begin();
            lam_tensor *x, *y;
            assert_ok(lam_dist_batch(d, s, 4, cpu, &x, &y, &shares[s]));
            double *v = x ? tu_read(x) : NULL;
            for (int64_t r = 0; x && r < lam_dim(x, 0); ++r) {
                int id = (int)lround(v[2 * r] * 255.0);
                count[id] += 1;
                if (s == 0 && r == 0) first_seen[epoch] = id;
            }
            free(v);
            lam_scope_end();
        }
        assert_ok(lam_dist_allreduce_sum(count, N_EXAMPLES));
        assert_ok(lam_dist_allreduce_sum(shares, (int)steps));
        for (int i = 0; i < N_EXAMPLES; ++i) assert_true(count[i] == 1.0);
        for (int64_t s = 0; s < steps; ++s) assert_true(fabs(shares[s] - 1.0) < 1e-12);
    }
    assert_true(first_seen[0] != first_seen[1]);
    lam_scope_begin();
    lam_tensor *x, *y;
    double share;
    assert_int_equal(lam_dist_batch(d, steps, 4, cpu, &x, &y, &share), LAM_ERR_ARG);
    lam_scope_end();
    lam_dataset_free(d);
}

/* A whole epoch of lam_dist_batch + DDP equals one process with batch world * 4, the last
 * step (one example) included, where rank 1 passes no loss. */
static void epoch_with_a_short_last_step(void **state) {
    (void)state;
    lam_dataset *d = numbered_dataset();
    lam_device *devs[TU_MAX_DEVICES];
    int nd = tu_devices(devs, TU_MAX_DEVICES), world = lam_dist_world_size();
    for (int k = 0; k < nd; ++k) {
        lam_module *ref = mlp(2, 5, 10, 3), *net = mlp(2, 5, 10, 3);
        assert_ok(lam_module_to(ref, devs[k]));
        assert_ok(lam_module_to(net, devs[k]));
        lam_ddp *ddp = lam_ddp_new(net, NULL);
        assert_non_null(ddp);
        lam_optim *ro = lam_sgd(ref, (lam_sgd_options){.lr = 0.5f}), *no = lam_sgd(net, (lam_sgd_options){.lr = 0.5f});
        lam_dataset_shuffle(d, 11, 0);
        for (int64_t s = 0; s < lam_dist_steps(d, 4); ++s) {
            lam_scope_begin();
            lam_tensor *x, *y, *loss = NULL;
            double share;
            assert_ok(lam_dataset_batch(d, s, 4 * world, devs[k], &x, &y));
            lam_optim_zero_grad(ro);
            assert_ok(lam_backward(lam_cross_entropy(lam_forward(ref, x), y)));
            assert_ok(lam_optim_step(ro));
            assert_ok(lam_dist_batch(d, s, 4, devs[k], &x, &y, &share));
            lam_optim_zero_grad(no);
            if (x) loss = lam_cross_entropy(lam_ddp_forward(ddp, x), y);
            assert_ok(lam_ddp_backward(ddp, loss, share));
            assert_ok(lam_optim_step(no));
            lam_scope_end();
        }
        double e = tu_max_param_diff(ref, net);
        if (e > 1e-5) print_error("%s: rank %d differs by %g after the epoch\n", lam_device_spec(devs[k]), lam_dist_rank(), e);
        assert_true(e >= 0 && e <= 1e-5);
        lam_ddp_free(ddp);
        lam_optim_free(ro);
        lam_optim_free(no);
        lam_module_free(ref);
        lam_module_free(net);
    }
    lam_dataset_free(d);
}

/* ---- buffers -------------------------------------------------------------------------------- */

typedef struct {
    lam_module *lin;
    lam_tensor *count;
} counting;

/* Linear, and a buffer counting forwards (as BatchNorm's num_batches_tracked). */
static lam_tensor *counting_forward(lam_module *m, lam_tensor *x) {
    counting *c = lam_self(m);
    if (lam_is_training(m)) lam_copy_(c->count, lam_add_scalar(c->count, 1.0f));
    return lam_forward(c->lin, x);
}
static const lam_module_class COUNTING = {.name = "Counting", .state_size = sizeof(counting), .forward = counting_forward};

static lam_module *counting_new(float start) {
    lam_module *m = lam_module_new(&COUNTING);
    counting *c = lam_self(m);
    c->lin = lam_add_module(m, "lin", lam_nn_linear(3, 2));
    c->count = lam_add_buffer(m, "count", lam_full(start, 0, NULL, lam_device_get("cpu")), true);
    return m;
}

/* Rank r starts its counter at 100 r: after two forwards every rank has rank 0's 2; with
 * local buffers each keeps counting its own. */
static void buffers_follow_rank_0(void **state) {
    (void)state;
    for (int local = 0; local < 2; ++local) {
        lam_module *m = counting_new(100.0f * (float)lam_dist_rank());
        lam_ddp *ddp = lam_ddp_new(m, &(lam_ddp_options){.local_buffers = local});
        assert_non_null(ddp);
        lam_tensor *count = lam_module_buffer(m, "count");
        assert_true(lam_item(count) == 0.0);   /* lam_ddp_new broadcast every buffer */
        for (int s = 0; s < 2; ++s) {
            lam_scope_begin();
            lam_tensor *x = lam_ones(LAM_SHAPE(4, 3), NULL);
            lam_tensor *loss = lam_sum(lam_ddp_forward(ddp, x));
            assert_ok(lam_ddp_backward(ddp, loss, 1.0 / lam_dist_world_size()));
            lam_scope_end();
        }
        assert_true(lam_item(count) == 2.0);
        lam_copy_(count, lam_full(50.0f * (float)lam_dist_rank(), 0, NULL, lam_device_get("cpu")));
        assert_ok(lam_ddp_broadcast_buffers(ddp));
        assert_true(lam_item(count) == (local ? 50.0 * lam_dist_rank() : 0.0));
        lam_ddp_free(ddp);
        lam_module_free(m);
    }
}

/* ---- bad input ------------------------------------------------------------------------------ */

/* Rank 1 builds a wider hidden layer, then one layer more: every rank gets an error from
 * lam_ddp_new and lam_dist_broadcast_module, and no one hangs. */
static void ranks_disagree_on_the_model(void **state) {
    (void)state;
    if (lam_dist_world_size() < 2) skip();
    int rank = lam_dist_rank();
    for (int variant = 0; variant < 2; ++variant) {
        lam_module *m = variant == 0 ? mlp(6, rank == 1 ? 9 : 8, 4, 1)
                                     : rank == 1 ? lam_nn_sequential(2, mlp(6, 8, 4, 1), lam_nn_linear(4, 4))
                                                 : lam_nn_sequential(1, mlp(6, 8, 4, 1));
        lam_clear_error();
        assert_null(lam_ddp_new(m, NULL));
        assert_int_equal(lam_last_status(), LAM_ERR_STATE);
        const char *e = lam_last_error();
        assert_non_null(strstr(e, "lam_ddp_new: the ranks hold different models"));
        if (rank == 1 && variant == 0)
            assert_non_null(strstr(e, "rank 1 has 'parameter 0.weight f32 (9, 6)' where rank 0 has 'parameter 0.weight f32 (8, 6)'"));
        if (rank == 1 && variant == 1) assert_non_null(strstr(e, "where rank 0 has nothing"));
        if (rank == 0) assert_non_null(strstr(e, "rank 1 differs from rank 0"));
        assert_int_equal(lam_dist_broadcast_module(m), LAM_ERR_STATE);
        lam_module_free(m);
    }
}

/* Bad arguments fail on the calling rank with a message, and still finish the step's
 * collectives (the other ranks are not left waiting). */
static void bad_arguments(void **state) {
    (void)state;
    lam_module *m = mlp(6, 8, 4, 1);
    lam_ddp *ddp = lam_ddp_new(m, NULL);
    assert_non_null(ddp);
    lam_clear_error();
    assert_int_equal(lam_ddp_backward(ddp, NULL, 0.5), LAM_ERR_ARG);
    assert_int_equal(lam_ddp_backward(ddp, NULL, -1.0), LAM_ERR_ARG);
    assert_non_null(strstr(lam_last_error(), "weight -1 is not a finite number"));
    assert_ok(lam_ddp_backward(ddp, NULL, 0.0));   /* contributes zeros: all gradients zero */
    lam_named_tensor p[4];
    assert_int_equal(lam_named_parameters(m, p, 4), 4);
    for (int i = 0; i < 4; ++i) assert_true(lam_item(lam_sum(lam_abs(lam_grad(p[i].tensor)))) == 0.0);
    assert_int_equal(lam_ddp_backward(NULL, NULL, 0.0), LAM_ERR_ARG);
    assert_null(lam_ddp_forward(NULL, NULL));
    assert_int_equal(lam_dist_allreduce_sum(NULL, 1), LAM_ERR_ARG);
    assert_ok(lam_dist_agree("the answer", 42));
    if (lam_dist_world_size() > 1) {   /* rank r says r: every rank hears of the difference */
        assert_int_equal(lam_dist_agree("the rank", lam_dist_rank()), LAM_ERR_STATE);
        assert_string_equal(lam_last_error(), "lam_dist_agree: the ranks disagree on the rank: rank 0 has 0, rank 1 has 1");
    }
    lam_ddp_free(ddp);
    lam_module_free(m);
}

/* Whether an MPI library is mapped into this process (/proc/self/maps). */
static bool mpi_loaded(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f)) found = strstr(line, "libmpi") != NULL;
    if (f) fclose(f);
    return found;
}

/* MPI is a plugin loaded by the ranks of a job: a process run alone loads none of it. */
static void mpi_only_in_a_job(void **state) {
    (void)state;
    assert_true(mpi_loaded() == (lam_dist_world_size() > 1));
}

int main(int argc, char **argv) {
    if (lam_dist_init(&argc, &argv) != LAM_OK) {
        fprintf(stderr, "lam_dist_init: %s\n", lam_last_error());
        return 1;
    }
    printf("rank %d of %d (lamina %s MPI)\n", lam_dist_rank(), lam_dist_world_size(),
           lam_dist_mpi_built() ? "with" : "without");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_one_process),
        cmocka_unit_test(bucket_layout),
        cmocka_unit_test(shards_cover_the_epoch),
        cmocka_unit_test(epoch_with_a_short_last_step),
        cmocka_unit_test(buffers_follow_rank_0),
        cmocka_unit_test(ranks_disagree_on_the_model),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(mpi_only_in_a_job),
    };
    double failed = cmocka_run_group_tests(tests, NULL, NULL);
    /* every rank exits with the job's result: a rank whose test failed fails them all */
    if (lam_dist_allreduce_sum(&failed, 1) != LAM_OK) failed = 1;
    lam_dist_finalize();
    return failed > 0;
}
