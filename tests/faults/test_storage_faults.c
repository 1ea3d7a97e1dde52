/* Storage faults under load, on the real server with the SQLite store: fsync failing, write
 * failing (an LD_PRELOAD shim, tests/faults/fault_shim.c) and the disk filling up (the store on
 * a small tmpfs filled by a file) for a moment in the middle of transfers and batches.
 * Meanwhile requests fail with 503 and Retry-After; when the fault clears the server serves
 * again by itself; nothing acknowledged is lost, nothing is doubled, and no success is ever
 * reported for a change that was not written (loadgen_verify). PostgreSQL's storage is its
 * server's: what hongbao meets there is a lost connection (pg/unit/test_engine,
 * pg/integration/test_multinode). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httptest.h"
#include "loadgen.h"
#include "testutil.h"

static http_server_proc server;
static loadgen load;
static char base[512], mnt[600], control[600];
static bool mounted;

static void set_fault(const char *what)
{
    FILE *f = fopen(control, "w");
    assert_non_null(f);
    fputs(what, f);
    fclose(f);
}

static void fault_for_a_moment(loadgen *g, double seconds, void *ctx)
{
    (void)g;
    usleep((useconds_t)(seconds * 1e6 / 3));
    set_fault(ctx);
    usleep(600000);
    set_fault("none");
}

static void test_fsync_fails(void **state)
{
    (void)state;
    loadgen_run(&load, 2.5, fault_for_a_moment, "fsync");
    loadgen_verify(&load, "fsync failing");
    assert_true(load.last_unavailable > 0); /* the fault was met */
}

static void test_write_fails(void **state)
{
    (void)state;
    loadgen_run(&load, 2.5, fault_for_a_moment, "write");
    loadgen_verify(&load, "write failing");
    assert_true(load.last_unavailable > 0);
}

/* Fill the file system, hold it full, then free it. */
static void fill_disk(loadgen *g, double seconds, void *ctx)
{
    (void)g;
    (void)ctx;
    usleep((useconds_t)(seconds * 1e6 / 3));
    char filler[700];
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    static char block[1 << 16];
    while (write(fd, block, sizeof block) > 0) {
    }
    assert_int_equal(errno, ENOSPC);
    close(fd);
    usleep(600000);
    assert_int_equal(unlink(filler), 0);
}

static void test_disk_full(void **state)
{
    (void)state;
    if (!mounted) skip(); /* needs root to mount a small tmpfs */
    loadgen_run(&load, 2.5, fill_disk, NULL);
    loadgen_verify(&load, "disk full");
    assert_true(load.last_unavailable > 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(base, sizeof base, "%s", testutil_tempdir());
    snprintf(mnt, sizeof mnt, "%s/mnt", base);
    snprintf(control, sizeof control, "%s/control", base);
    assert_int_equal(mkdir(mnt, 0700), 0);
    mounted = geteuid() == 0 && mount("tmpfs", mnt, "tmpfs", 0, "size=512m,mode=0700") == 0;
    if (!mounted) fprintf(stderr, "storage faults: no tmpfs (not root?): disk full is skipped\n");
    set_fault("none");
    setenv("TMPDIR", mnt, 1); /* the server's store goes on the small file system */
    setenv("HB_FAULT_CONTROL", control, 1);
    setenv("HB_FAULT_PATH", mnt, 1);
    setenv("LD_PRELOAD", HB_FAULT_SHIM, 1);
    httptest_lift_rate_limits();
    setenv("HONGBAO_TIER_PERSONAL_DAILY_LIMIT", "100000000.00", 1);
    /* a short WAL: with the default a WAL restarted by its checkpoint reuses up to 128 MiB
     * of space it already holds, and a full disk would go unnoticed for longer than the
     * fault lasts; at 64 pages the writer soon needs new space (a checkpoint cannot copy the
     * WAL into a store file that cannot grow) */
    setenv("HONGBAO_WAL_PAGES", "64", 1);
    httptest_start(&server);
    unsetenv("LD_PRELOAD"); /* only the server and its init carry the shim */
    loadgen_init(&load, &server, 1, 12, true);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    httptest_stop(&server);
    loadgen_free(&load);
    httptest_cleanup(&server);
    if (getenv("HB_TEST_KEEP") != NULL) return 0;
    if (mounted) umount(mnt);
    testutil_rmdir(base);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* the disk fills first, while the store's WAL still grows (later its reused pages
         * need no new space until the next checkpoint) */
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_fsync_fails),
        cmocka_unit_test(test_write_fails),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
