/* Backup and restore (issue 9), against the real server: `hongbao backup` taken while 8
 * client threads move money (tests/support/loadgen.c), then `hongbao restore` of it into a new
 * place, which checks the ledger and the audit trail (and so do `ledger check` and `audit
 * verify` on it); the copy holds every transfer acknowledged before the backup began and no
 * half of anything; backup warns that it holds no key; an existing target is refused. On
 * PostgreSQL (pg/integration/test_backup) both commands refuse with the pg_dump guidance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httptest.h"
#include "loadgen.h"
#include "testutil.h"

static http_server_proc server;
static loadgen load;

static int setup(void **state)
{
    (void)state;
    httptest_lift_rate_limits();
    httptest_start(&server);
    loadgen_init(&load, &server, 1, 8, true);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    httptest_stop(&server);
    httptest_cleanup(&server);
    loadgen_free(&load);
    return 0;
}

static int run(const char *args, char *out, size_t size)
{
    char cmd[3400];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", getenv("HONGBAO_BIN"), args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char backup_file[700], backup_out[4096];
static int backup_rc;

/* The backup, in the middle of the load. */
static void take_backup(loadgen *g, double seconds, void *ctx)
{
    (void)g, (void)ctx;
    usleep((useconds_t)(seconds * 0.4e6));
    char args[1500];
    snprintf(args, sizeof args, "backup --db '%s' --out '%s'", server.db, backup_file);
    backup_rc = run(args, backup_out, sizeof backup_out);
}

static void test_backup_under_load(void **state)
{
    (void)state;
    snprintf(backup_file, sizeof backup_file, "%s/backup.db", server.dir);
    char args[3000], out[4096];
    if (testutil_pg() != NULL) {
        snprintf(args, sizeof args, "backup --db '%s' --out '%s'", server.db, backup_file);
        assert_int_equal(run(args, out, sizeof out), 2);
        assert_non_null(strstr(out, "pg_dump"));
        snprintf(args, sizeof args, "restore --db '%s' --from '%s'", server.db, backup_file);
        assert_int_equal(run(args, out, sizeof out), 2);
        assert_non_null(strstr(out, "pg_restore"));
        return;
    }
    loadgen_run(&load, 1.5, take_backup, NULL);
    long acked = loadgen_verify(&load, "backup under load");
    if (backup_rc != 0) fail_msg("backup: %d %s", backup_rc, backup_out);
    assert_non_null(strstr(backup_out, "ledger balanced; audit OK"));
    assert_non_null(strstr(backup_out, "holds no key"));
    /* restored into a new place: checked on the way in, and again by the other commands */
    char restored[800];
    snprintf(restored, sizeof restored, "%s/restored.db", server.dir);
    snprintf(args, sizeof args, "restore --db '%s' --from '%s'", restored, backup_file);
    int rc = run(args, out, sizeof out);
    if (rc != 0) fail_msg("restore: %d %s", rc, out);
    assert_non_null(strstr(out, "ledger balanced; audit OK"));
    snprintf(args, sizeof args, "ledger check --db '%s'", restored);
    assert_int_equal(run(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "audit verify --db '%s' --audit-key '%s.audit-key'", restored,
             server.db);
    rc = run(args, out, sizeof out);
    if (rc != 0) fail_msg("audit verify: %d %s", rc, out);
    /* the copy is a snapshot from within the load: some transfers, never more than the store */
    char sql[200], live[64], copy[64];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM transfers");
    httptest_sql(&server, sql, live, sizeof live);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(restored, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM transfers", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(copy, sizeof copy, "%lld", (long long)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_true(atol(copy) > 0 && atol(copy) <= atol(live));
    fprintf(stderr, "backup: taken under load (%ld transfers acknowledged), %ld of %ld transfers "
                    "in the copy, restored and verified\n", acked, atol(copy), atol(live));
    /* existing targets are refused */
    snprintf(args, sizeof args, "backup --db '%s' --out '%s'", server.db, backup_file);
    assert_int_equal(run(args, out, sizeof out), 2);
    snprintf(args, sizeof args, "restore --db '%s' --from '%s'", restored, backup_file);
    assert_int_equal(run(args, out, sizeof out), 2);
    snprintf(args, sizeof args, "restore --db '%s' --from '%s' --force", restored, backup_file);
    assert_int_equal(run(args, out, sizeof out), 0);
    /* a restore that cannot be made leaves the store as it was */
    snprintf(args, sizeof args, "restore --db '%s' --from '%s/no-such.db' --force", restored,
             server.dir);
    assert_int_not_equal(run(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "ledger check --db '%s'", restored);
    assert_int_equal(run(args, out, sizeof out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backup_under_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
