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

/* Runs `iasql run` in the foreground; it must exit by itself, non-zero,
 * saying says. */
static void engine_refuses(it_env *e, const char *says)
{
    char cmd[2048], log[300];
    snprintf(log, sizeof log, "%s.refused", e->log_path);
    snprintf(cmd, sizeof cmd, "AWS_ENDPOINT_URL='%s' timeout 30 \"%s\" run \"%s\" --journal '%s' 2>'%s'",
             e->emulator, getenv("IASQL_BIN"), e->engine_conninfo, e->journal, log);
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
    char journal2[sizeof e->journal];
    snprintf(journal2, sizeof journal2, "%s", e->journal);
    strncat(e->journal, "-second", sizeof e->journal - strlen(e->journal) - 1);
    engine_refuses(e, "another iasql engine already runs for database");
    engine_refuses(e, "server process");
    snprintf(e->journal, sizeof e->journal, "%s", journal2);
    assert_non_null(it_value(e, "SELECT count(*) FROM iasql_preview()"));
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
    };
    return cmocka_run_group_tests_name("faults: journal", tests, NULL, NULL);
}
