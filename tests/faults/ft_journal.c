/* tests/faults/ft_journal.c — a journal that is full, truncated or
 * corrupted, and a second engine on the same database: the engine stops (or refuses to start) with a clear message
 * that says how to recover, applies nothing from a damaged journal, and
 * `iasql journal verify` exits non-zero. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../integration/it_util.h"

static int setup(void **state)
{
    unsetenv("IASQL_JOURNAL_MAP_MB");
    return it_fixture(state, "journal", true);
}

static int teardown(void **state)
{
    unsetenv("IASQL_JOURNAL_MAP_MB");
    return it_fixture_end(state);
}

/* Runs `iasql run --journal DIR [extra]` in the foreground; it must exit
 * by itself, non-zero, saying says. */
static void engine_refuses_with(it_env *e, const char *dir, const char *extra, const char *says)
{
    char cmd[2048], log[300];
    snprintf(log, sizeof log, "%s.refused", e->log_path);
    snprintf(cmd, sizeof cmd,
             "AWS_ENDPOINT_URL='%s' timeout 30 \"%s\" run \"%s\" --journal '%s' %s 2>'%s'",
             e->emulator, getenv("IASQL_BIN"), e->engine_conninfo, dir, extra, log);
    int st = system(cmd);
    assert_int_not_equal(st, 0);
    assert_int_not_equal(WEXITSTATUS(st), 124); /* it stopped by itself */
    FILE *f = fopen(log, "r");
    char text[8192] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    if (!strstr(text, says))
        fail_msg("expected \"%s\" in the engine's log:\n%s", says, text);
}

static void engine_refuses(it_env *e, const char *says)
{
    engine_refuses_with(e, e->journal, "", says);
}

static void shell(const char *fmt, const char *a, const char *b)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    assert_int_equal(system(cmd), 0);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Makes n buckets named prefix-1..n and commits them. */
static void commit_buckets(it_env *e, const char *prefix, int from, int to)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO bucket (name) SELECT '%s-' || g FROM generate_series(%d, %d) g", prefix,
             from, to);
    assert_true(it_ok(e, sql, 0, NULL));
    it_expect_commit(e, to - from + 1, "create");
}

static int verify_status(it_env *e)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "\"%s\" journal verify '%s' >/dev/null 2>&1", getenv("IASQL_BIN"),
             e->journal);
    return system(cmd);
}

static void test_map_full_stops_then_recovers(void **state)
{
    it_env *e = *state;
    it_stop_engine(e);
    setenv("IASQL_JOURNAL_MAP_MB", "1", 1);
    assert_int_equal(it_start_engine(e), 0);
    assert_true(it_ok(e, "INSERT INTO bucket (name, tags) SELECT 'full-' || g, "
                         "jsonb_build_object('k', repeat('x', 250)) FROM generate_series(1, 4000) g",
                      0, NULL));
    /* the engine cannot journal them: it stops, saying what to do */
    for (int i = 0; i < 100 && it_log_count(e, "journal map is full") == 0; i++)
        usleep(100 * 1000);
    assert_true(it_log_count(e, "raise IASQL_JOURNAL_MAP_MB") >= 1);
    assert_non_null(it_sql_error(e, "SELECT * FROM iasql_preview()"));
    int st = it_stop_engine(e);
    assert_int_not_equal(st, 0);
    /* with room, every change is journaled once and nothing was lost */
    setenv("IASQL_JOURNAL_MAP_MB", "256", 1);
    assert_int_equal(it_start_engine(e), 0);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "4000");
    assert_int_equal(verify_status(e), 0);
}

static void test_truncated_journal_refused(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "INSERT INTO bucket (name) SELECT 'trunc-' || g FROM "
                         "generate_series(1, 2000) g", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "2000");
    assert_int_equal(it_stop_engine(e), 0);
    char path[400];
    snprintf(path, sizeof path, "%s/data.mdb", e->journal);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    assert_int_not_equal(verify_status(e), 0);
    engine_refuses(e, "is truncated");
    engine_refuses(e, "restore the journal folder from a copy");
}

static void test_corrupted_record_refused(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "INSERT INTO bucket (name) SELECT 'corrupt-' || g FROM "
                         "generate_series(1, 50) g", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "50");
    assert_int_equal(it_stop_engine(e), 0);
    /* the length of a table name inside one event record: 6, "bucket" */
    char path[400];
    snprintf(path, sizeof path, "%s/data.mdb", e->journal);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    static char buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf, f);
    /* Every copy: LMDB keeps stale copies of pages it has replaced, so the
     * first match may not be a live record. */
    const char pat[] = "\x06\x00\x00\x00" "bucket";
    int hits = 0;
    for (char *hit = buf; (hit = memmem(hit, n - (size_t)(hit - buf), pat, sizeof pat - 1));
         hit++, hits++) {
        fseek(f, hit - buf, SEEK_SET);
        fputc(0x7f, f);
    }
    fclose(f);
    assert_true(hits > 0);
    assert_int_not_equal(verify_status(e), 0);
    engine_refuses(e, "is damaged");
    /* nothing was applied: the cloud has none of them */
    assert_false(it_cloud_has_bucket(e->emulator, "corrupt-1"));
}

/* One engine per database: a second one refuses to start and names the
 * first, while the first goes on serving. */
static void test_second_engine_refused(void **state)
{
    it_env *e = *state;
    engine_refuses(e, "another iasql engine already runs for database");
    engine_refuses(e, "server process");
    assert_non_null(it_value(e, "SELECT count(*) FROM iasql_preview()"));
}


/* The journal lost (a new disk): the engine refuses before it makes anything,
 * and starts again on the journal's copy, with nothing to do. */
static void test_lost_journal_refused(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "lost-%d", (int)getpid());
    commit_buckets(e, name, 1, 3);
    assert_int_equal(it_stop_engine(e), 0);
    shell("cp -a '%s' '%s.copy'", e->journal, e->journal);
    shell("rm -rf '%s'%s", e->journal, "");
    engine_refuses(e, "there is no journal in");
    engine_refuses(e, "would make every resource again");
    assert_false(exists(e->journal)); /* nothing was made */
    /* another empty folder, even adopted, is refused the same way */
    char other[320];
    snprintf(other, sizeof other, "%s-elsewhere", e->journal);
    engine_refuses_with(e, other, "--journal-adopt", "there is no journal in");
    assert_false(exists(other));
    shell("mv '%s.copy' '%s'", e->journal, e->journal);
    assert_int_equal(it_start_engine(e), 0);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    char prefix[80];
    snprintf(prefix, sizeof prefix, "%s-", name);
    assert_int_equal(it_cloud_count_prefix(e->emulator, prefix), 3);
}

/* A copy from before the last two commits is behind the database's mark:
 * refused, with --journal-adopt too; the current journal goes on. */
static void test_old_copy_refused(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "old-%d", (int)getpid());
    commit_buckets(e, name, 1, 1);
    assert_int_equal(it_stop_engine(e), 0);
    shell("cp -a '%s' '%s.old'", e->journal, e->journal);
    assert_int_equal(it_start_engine(e), 0);
    commit_buckets(e, name, 2, 2);
    commit_buckets(e, name, 3, 3);
    assert_int_equal(it_stop_engine(e), 0);
    char old[320];
    snprintf(old, sizeof old, "%s.old", e->journal);
    engine_refuses_with(e, old, "--journal-adopt", "is behind database");
    shell("mv '%s' '%s.new'", e->journal, e->journal);
    shell("mv '%s.old' '%s'", e->journal, e->journal);
    engine_refuses(e, "its last commit point is 1");
    shell("rm -rf '%s'%s", e->journal, "");
    shell("mv '%s.new' '%s'", e->journal, e->journal);
    assert_int_equal(it_start_engine(e), 0);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    char prefix[80];
    snprintf(prefix, sizeof prefix, "%s-", name);
    assert_int_equal(it_cloud_count_prefix(e->emulator, prefix), 3);
}

/* A journal moved elsewhere is taken only with --journal-adopt; then the
 * database knows the new folder, and an engine started without --journal
 * uses it. Another database's journal is refused, adopted or not. */
static void test_moved_and_foreign_journals(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "moved-%d", (int)getpid());
    commit_buckets(e, name, 1, 1);
    assert_int_equal(it_stop_engine(e), 0);
    char moved[sizeof e->journal];
    snprintf(moved, sizeof moved, "%.240s-moved", e->journal);
    shell("mv '%s' '%s'", e->journal, moved);
    engine_refuses_with(e, moved, "", "knows its journal in");
    snprintf(e->journal, sizeof e->journal, "%s", moved);
    e->journal_adopt = true;
    assert_int_equal(it_start_engine(e), 0);
    assert_true(it_log_count(e, "(given with --journal;") >= 1);
    assert_int_equal(it_stop_engine(e), 0);
    e->journal_adopt = false;
    e->journal_default = true;
    assert_int_equal(it_start_engine(e), 0);
    assert_true(it_log_count(e, "(the database's own;") >= 1);
    assert_string_equal(it_value(e, "SELECT path FROM iasql_journal"), moved);
    assert_int_equal(it_stop_engine(e), 0);
    e->journal_default = false;
    /* another database's journal */
    it_env other;
    assert_int_equal(it_setup(&other, "journal_other"), 0);
    assert_int_equal(it_stop_engine(&other), 0);
    engine_refuses_with(e, other.journal, "--journal-adopt", "belongs to database");
    it_teardown(&other);
    assert_int_equal(it_start_engine(e), 0);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_map_full_stops_then_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_journal_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupted_record_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_engine_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_journal_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_copy_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moved_and_foreign_journals, setup, teardown),
    };
    return cmocka_run_group_tests_name("faults: journal", tests, NULL, NULL);
}
