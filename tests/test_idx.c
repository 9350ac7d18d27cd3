/* IDX files (MNIST's format): values of small plain and gzip files, and headers that lie:
 * sizes that overflow, and sizes far beyond what the file holds, which must fail after
 * reading what is there instead of allocating what the header claims. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>
#include <lamina.h>

#ifndef LAMINA_TEST_TMP_DIR
#define LAMINA_TEST_TMP_DIR "/tmp"
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

/* Writes an IDX header (u8 data, big-endian dims) and the bytes given, plain or gzip. */
static void write_idx(const char *path, bool gz, int ndim, const uint32_t *dims, const void *data, size_t n) {
    unsigned char head[4 + 16] = {0, 0, 8, (unsigned char)ndim};
    for (int i = 0; i < ndim; ++i)
        for (int b = 0; b < 4; ++b) head[4 + 4 * i + b] = (unsigned char)(dims[i] >> (24 - 8 * b));
    size_t hn = 4 + 4 * (size_t)ndim;
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(gzwrite(f, head, (unsigned)hn), (int)hn);
        if (n) assert_int_equal(gzwrite(f, data, (unsigned)n), (int)n);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(head, 1, hn, f), hn);
        if (n) assert_int_equal(fwrite(data, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
    }
}

static void tmp_path(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", LAMINA_TEST_TMP_DIR, name);
}

/* ---- well-formed files load with their values, plain and gzip ------------------------- */

static void test_values(void **state) {
    (void)state;
    unsigned char px[2 * 3 * 2];
    for (size_t i = 0; i < sizeof px; ++i) px[i] = (unsigned char)(i * 21);
    unsigned char labels[2] = {7, 3};
    char ip[512], lp[512];
    for (int gz = 0; gz < 2; ++gz) {
        tmp_path(ip, sizeof ip, gz ? "small-images.gz" : "small-images");
        tmp_path(lp, sizeof lp, gz ? "small-labels.gz" : "small-labels");
        write_idx(ip, gz, 3, (const uint32_t[]){2, 3, 2}, px, sizeof px);
        write_idx(lp, gz, 1, (const uint32_t[]){2}, labels, sizeof labels);
        lam_idx idx;
        assert_int_equal(lam_idx_load(ip, 3, &idx), LAM_OK);
        assert_int_equal(idx.ndim, 3);
        assert_int_equal(idx.numel, 12);
        assert_int_equal(idx.dims[0], 2);
        assert_int_equal(idx.dims[2], 2);
        assert_memory_equal(idx.data, px, sizeof px);
        lam_idx_free(&idx);
        lam_dataset *d = lam_dataset_load_idx(ip, lp);
        assert_non_null(d);
        assert_int_equal(lam_dataset_size(d), 2);
        assert_int_equal(lam_dataset_features(d), 6);
        assert_int_equal(lam_dataset_label(d, 1), 3);
        assert_true(lam_dataset_image(d, 1)[5] == (float)(11 * 21) / 255.0f);
        lam_dataset_free(d);
        remove(ip);
        remove(lp);
    }
}

/* ---- sizes that overflow: 2^17 * 2^17 * 2^30 = 2^64 wrapped to 0 and loaded as empty --- */

static void test_size_overflow(void **state) {
    (void)state;
    char p[512];
    tmp_path(p, sizeof p, "overflow-idx");
    static const uint32_t dims[][3] = {{1u << 17, 1u << 17, 1u << 30}, {0xffffffffu, 0xffffffffu, 0xffffffffu},
                                       {1u << 31, 1u << 31, 4}};
    for (int gz = 0; gz < 2; ++gz)
        for (size_t i = 0; i < sizeof dims / sizeof *dims; ++i) {
            write_idx(p, gz, 3, dims[i], NULL, 0);
            lam_idx idx;
            lam_clear_error();
            assert_int_equal(lam_idx_load(p, 0, &idx), LAM_ERR_FORMAT);
            assert_null(idx.data);
            assert_int_equal(idx.numel, 0);
            assert_non_null(strstr(lam_last_error(), "overflow-idx"));
            print_message("  %u x %u x %u: %s\n", dims[i][0], dims[i][1], dims[i][2], lam_last_error());
        }
    remove(p);
}

/* ---- a header claiming 2.2 GB over a few bytes of data --------------------------------- */

/* Loads path in a child whose address space is capped at 512 MiB above what it uses now: a
 * loader that allocates what the header claims fails with LAM_ERR_OOM there; one that reads
 * first reports the truncation. Exit status: 0 truncation reported, 1 anything else. */
static int load_capped(const char *images, const char *labels) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        long pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (!f || fscanf(f, "%ld", &pages) != 1) _exit(3);
        fclose(f);
        rlim_t cap = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)512 << 20);
        struct rlimit rl = {cap, cap};
        if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(3);
        lam_status st;
        if (labels) {
            lam_dataset *d = lam_dataset_load_idx(images, labels);
            st = d ? LAM_OK : lam_last_status();
            lam_dataset_free(d);
        } else {
            lam_idx idx;
            st = lam_idx_load(images, 0, &idx);
            lam_idx_free(&idx);
        }
        printf("  capped child: %s: %s\n", lam_status_name(st), lam_last_error());
        fflush(stdout);
        _exit(st == LAM_ERR_FORMAT && strstr(lam_last_error(), "truncated") ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_claims_more_than_it_holds(void **state) {
    (void)state;
    char ip[512], lp[512];
    tmp_path(ip, sizeof ip, "liar-images");
    tmp_path(lp, sizeof lp, "liar-labels");
    const uint32_t dims[3] = {2806122, 28, 28};   /* 2.2e9 bytes claimed */
    const char data[11] = "0123456789";           /* 4 + 12 + 11 = 27 bytes */
    unsigned char labels[3] = {1, 2, 3};
    for (int gz = 0; gz < 2; ++gz) {
        write_idx(ip, gz, 3, dims, data, sizeof data);
        write_idx(lp, gz, 1, (const uint32_t[]){2806122}, labels, sizeof labels);
        lam_idx idx;
        lam_clear_error();
        assert_int_equal(lam_idx_load(ip, 3, &idx), LAM_ERR_FORMAT);
        assert_non_null(strstr(lam_last_error(), "truncated"));
        print_message("  %s: %s\n", gz ? "gzip" : "plain", lam_last_error());
        assert_null(lam_dataset_load_idx(ip, lp));
        assert_int_equal(lam_last_status(), LAM_ERR_FORMAT);
#ifndef UNDER_SANITIZER /* sanitizers reserve terabytes of address space: no cap possible */
        assert_int_equal(load_capped(ip, NULL), 0);
        assert_int_equal(load_capped(ip, lp), 0);
#endif
    }
    /* the bytes that are there still count: a file one byte short says so */
    unsigned char px[6] = {1, 2, 3, 4, 5, 6};
    for (int gz = 0; gz < 2; ++gz) {
        write_idx(ip, gz, 2, (const uint32_t[]){1, 7}, px, sizeof px);
        lam_idx idx;
        assert_int_equal(lam_idx_load(ip, 2, &idx), LAM_ERR_FORMAT);
        assert_non_null(strstr(lam_last_error(), "truncated"));
        assert_non_null(strstr(lam_last_error(), "6 of 7"));
    }
    remove(ip);
    remove(lp);
    lam_clear_error();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_size_overflow),
        cmocka_unit_test(test_claims_more_than_it_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
