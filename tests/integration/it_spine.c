/* tests/integration/it_spine.c — the spine end to end: a real PostgreSQL, a
 * real S3 emulator (moto_server, or s3rver as a second opinion), `iasql
 * init`, the engine as a process, and psql-level SQL. The cloud is checked
 * with plain HTTP, not through the engine's client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "it_util.h"

static char bucket_names[8][64];

/* Bucket names unique to this run, so emulators need no reset. */
static const char *bn(int i)
{
    snprintf(bucket_names[i], sizeof bucket_names[i], "it-%d-%d-%ld", (int)getpid(), i,
             (long)random() % 100000);
    return bucket_names[i];
}

static int setup(void **state)
{
    return it_fixture(state, "spine", false);
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

static void install_s3(it_env *e, int expect_buckets)
{
    PGresult *r = it_sql(e, "SELECT * FROM iasql_install('aws_s3') ORDER BY 1, 2", 0, NULL);
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 3);
    assert_string_equal(PQgetvalue(r, 0, 0), "aws_account");
    assert_string_equal(PQgetvalue(r, 1, 0), "aws_s3");
    assert_string_equal(PQgetvalue(r, 1, 1), "bucket");
    assert_string_equal(PQgetvalue(r, 2, 1), "bucket_website");
    if (expect_buckets >= 0)
        assert_int_equal(atoi(PQgetvalue(r, 1, 2)), expect_buckets);
    PQclear(r);
}

/* The NOTICEs a commit raises as its actions end, collected. */
static char notices[8192];
static void collect_notice(void *arg, const PGresult *res)
{
    (void)arg;
    const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    size_t n = strlen(notices);
    snprintf(notices + n, sizeof notices - n, "%s\n", m ? m : "?");
}

/* psql sees each action of a commit end, as "N/TOTAL created bucket ...";
 * a failure says so in its line. */
static void test_commit_progress(void **state)
{
    it_env *e = *state;
    install_s3(e, -1);
    const char *p[] = {bn(5), bn(6), bn(7)};
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1), ($2), ($3)", 3, p));
    notices[0] = '\0';
    assert_true(it_ok(e, "SET client_min_messages = notice", 0, NULL)); /* as psql has it */
    PQnoticeReceiver was = PQsetNoticeReceiver(e->db, collect_notice, NULL);
    it_expect_commit(e, 3, "create");
    for (int i = 1; i <= 3; i++) {
        char want[64];
        snprintf(want, sizeof want, "%d/3 created bucket ", i);
        if (!strstr(notices, want))
            fail_msg("no \"%s\" among the notices:\n%s", want, notices);
    }
    for (int i = 0; i < 3; i++)
        assert_non_null(strstr(notices, p[i]));
    assert_int_equal(it_count(notices, "\n"), 3);
    /* the commit's row: from its start, done and total; its point, the final status */
    assert_string_equal(it_value(e, "SELECT format('%s %s/%s %s', status, done, total, created) "
                                    "FROM iasql_commits ORDER BY id DESC LIMIT 1"),
                        "ok 3/3 3");
    notices[0] = '\0';
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name IN ($1, $2, $3)", 3, p));
    it_expect_commit(e, 3, "delete");
    assert_int_equal(it_count(notices, " deleted bucket "), 3);
    assert_non_null(strstr(notices, "3/3 deleted bucket "));
    /* a preview raises nothing */
    notices[0] = '\0';
    assert_true(it_ok(e, "SELECT * FROM iasql_preview()", 0, NULL));
    assert_string_equal(notices, "");
    /* an install's import, table by table (SQS: moto's) */
    if (e->full_s3) {
        assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_sqs')", 0, NULL));
        assert_non_null(strstr(notices, "1/1 imported aws_sqs.queue: "));
    }
    PQsetNoticeReceiver(e->db, was, NULL);
    /* the command line: plain lines when not on a terminal */
    const char *q[] = {bn(4)};
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, q));
    char cmd[1200], out[8192];
    snprintf(cmd, sizeof cmd, "\"%s\" commit '%s' 2>&1 </dev/null", getenv("IASQL_BIN"),
             e->conninfo);
    FILE *f = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    assert_int_equal(pclose(f), 0);
    assert_non_null(strstr(out, "1/1 created bucket "));
    snprintf(cmd, sizeof cmd, "\"%s\" sync '%s' 2>&1 </dev/null", getenv("IASQL_BIN"), e->conninfo);
    f = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    assert_int_equal(pclose(f), 0);
    assert_non_null(strstr(out, " read bucket"));
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name = $1", 1, q));
    it_expect_commit(e, 1, "delete");
    assert_true(it_ok(e, "SET client_min_messages = warning", 0, NULL));
}

static void test_create_tag_delete(void **state)
{
    it_env *e = *state;
    install_s3(e, -1);
    const char *a = bn(0), *b = bn(1);
    char tags_a[128];
    snprintf(tags_a, sizeof tags_a, "{\"team\": \"%s\"}", e->full_s3 ? "core" : "x");
    const char *p1[] = {a, e->full_s3 ? tags_a : "{}", b};
    assert_true(
        it_ok(e, "INSERT INTO bucket (name, tags) VALUES ($1, $2::jsonb), ($3, '{}')", 3, p1));

    /* preview: the plan, nothing applied */
    PGresult *r = it_sql(e, "SELECT action, table_name FROM iasql_preview()", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 0), "create");
    PQclear(r);
    assert_false(it_cloud_has_bucket(e->emulator, a));

    r = it_sql(e, "SELECT action, table_name, id, description FROM iasql_commit('make two')", 0,
               NULL);
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(PQgetvalue(r, i, 0), "create");
        assert_string_equal(PQgetvalue(r, i, 1), "bucket");
        assert_non_null(strstr(PQgetvalue(r, i, 3), "created bucket"));
    }
    PQclear(r);
    assert_true(it_cloud_has_bucket(e->emulator, a));
    assert_true(it_cloud_has_bucket(e->emulator, b));

    /* created_at is written back by the engine, and not as a user change */
    assert_string_equal(it_value(e, "SELECT count(*) FROM bucket WHERE created_at IS NULL"), "0");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE op = 'UPDATE' "
                                    "AND origin = 'user'"),
                        "0");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE op = 'UPDATE' "
                                    "AND origin = 'engine'"),
                        "2");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_commits WHERE message = 'make two' "
                                    "AND status = 'ok' AND created = 2"),
                        "1");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user' "
                                    "AND commit_id IS NULL"),
                        "0");

    /* nothing pending: no rows, no cloud call */
    r = it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    assert_non_null(strstr(it_log_last(e, "(commit) done"), " 0 rows, 0 cloud calls"));

    if (e->full_s3) {
        const char *p2[] = {a};
        assert_true(it_ok(e,
                          "UPDATE bucket SET tags = '{\"team\": \"web\", \"env\": \"dev\"}' "
                          "WHERE name = $1",
                          1, p2));
        r = it_sql(e, "SELECT action, description FROM iasql_commit('retag')", 0, NULL);
        assert_int_equal(PQntuples(r), 1);
        assert_string_equal(PQgetvalue(r, 0, 0), "update");
        assert_non_null(strstr(PQgetvalue(r, 0, 1), "tags changed"));
        PQclear(r);
        char url[512];
        const char *body;
        snprintf(url, sizeof url, "%s/%s?tagging", e->emulator, a);
        assert_int_equal(it_http("GET", url, NULL, &body), 200);
        assert_non_null(strstr(body, "<Key>env</Key><Value>dev</Value>"));
        assert_non_null(strstr(body, "<Key>team</Key><Value>web</Value>"));
        assert_null(strstr(body, "core"));
    }

    const char *p3[] = {a, b};
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name IN ($1, $2)", 2, p3));
    r = it_sql(e, "SELECT action FROM iasql_commit('drop both')", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 0), "delete");
    PQclear(r);
    assert_false(it_cloud_has_bucket(e->emulator, a));
    assert_false(it_cloud_has_bucket(e->emulator, b));
}

static void test_install_imports_existing(void **state)
{
    it_env *e = *state;
    const char *name = bn(2);
    char url[512];
    snprintf(url, sizeof url, "%s/%s", e->emulator, name);
    assert_int_equal(it_http("PUT", url, NULL, NULL), 200);
    PGresult *r = it_sql(e, "SELECT * FROM iasql_install('aws_s3') ORDER BY 1, 2", 0, NULL);
    assert_non_null(r);
    assert_true(atoi(PQgetvalue(r, 1, 2)) >= 1);
    PQclear(r);
    const char *p[] = {name};
    r = it_sql(e, "SELECT region, created_at IS NOT NULL FROM bucket WHERE name = $1", 1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    /* imported rows are cloud events, not user changes: nothing to commit */
    r = it_sql(e, "SELECT * FROM iasql_preview()", 0, NULL);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT string_agg(DISTINCT origin, ',') FROM iasql_audit_log"),
                        "cloud");
    /* uninstall drops the tables and leaves the cloud alone */
    r = it_sql(e, "SELECT * FROM iasql_uninstall('aws_s3')", 0, NULL);
    assert_int_equal(PQntuples(r), 2); /* bucket_website, bucket */
    PQclear(r);
    assert_null(it_value(e, "SELECT to_regclass('bucket')"));
    assert_true(it_cloud_has_bucket(e->emulator, name));
    assert_int_equal(it_http("DELETE", url, NULL, NULL), 204);
}

static void test_bad_input_rejected_at_insert(void **state)
{
    it_env *e = *state;
    install_s3(e, -1);
    char before[32];
    snprintf(before, sizeof before, "%s", it_value(e, "SELECT count(*) FROM bucket"));
    static const struct {
        const char *sql;
        const char *rule;
    } cases[] = {
        {"INSERT INTO bucket (name) VALUES ('ab')", "bucket_name_3_to_63_characters"},
        {"INSERT INTO bucket (name) VALUES (repeat('a', 64))", "bucket_name_3_to_63_characters"},
        {"INSERT INTO bucket (name) VALUES ('My_Bucket')",
         "bucket_name_only_lowercase_letters_digits_dots_hyphens"},
        {"INSERT INTO bucket (name) VALUES ('-leading')",
         "bucket_name_starts_and_ends_with_letter_or_digit"},
        {"INSERT INTO bucket (name) VALUES ('a..b')", "bucket_name_no_two_adjacent_dots"},
        {"INSERT INTO bucket (name) VALUES ('192.168.5.4')", "bucket_name_not_an_ip_address"},
        {"INSERT INTO bucket (name) VALUES ('xn--punycode')", "bucket_name_no_reserved_prefix"},
        {"INSERT INTO bucket (name) VALUES ('thing-s3alias')", "bucket_name_no_reserved_suffix"},
        {"INSERT INTO bucket (name, tags) VALUES ('okname', '[1]')",
         "bucket_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {"INSERT INTO bucket (name, tags) VALUES ('okname', '{\"k\": 1}')",
         "bucket_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {"INSERT INTO bucket (name, tags) VALUES ('okname', '{\"aws:x\": \"v\"}')",
         "bucket_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {"INSERT INTO bucket (name, region) VALUES ('okname', 'mars-north-1')",
         "bucket_region_fkey"},
        {"INSERT INTO bucket (name) VALUES ('x''; DROP TABLE bucket; --')",
         "bucket_name_only_lowercase_letters_digits_dots_hyphens"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *msg = it_sql_error(e, cases[i].sql);
        assert_non_null(msg);
        if (!strstr(msg, cases[i].rule))
            fail_msg("%s: expected rule %s, got %s", cases[i].sql, cases[i].rule, msg);
    }
    assert_string_equal(it_value(e, "SELECT count(*) FROM bucket"), before);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"),
                        "0");
    /* TRUNCATE would bypass capture: iasql_user may not, and even the
     * superuser is refused by the table's trigger (CASCADE: bucket_website
     * refers to bucket, and without it PostgreSQL refuses first) */
    assert_non_null(strstr(it_sql_error(e, "TRUNCATE bucket"), "permission denied"));
    assert_non_null(strstr(it_admin_error(e, "TRUNCATE bucket CASCADE"), "not allowed"));
    /* the engine cannot see a transaction's uncommitted rows */
    assert_true(it_ok(e, "BEGIN", 0, NULL));
    const char *p[] = {bn(3)};
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, p));
    const char *msg = it_sql_error(e, "SELECT * FROM iasql_commit()");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "cannot run inside a transaction that changed resource rows"));
    it_sql_error(e, "ROLLBACK");
    /* module errors */
    assert_non_null(strstr(it_sql_error(e, "SELECT * FROM iasql_install('aws_nope')"),
                           "no module named \"aws_nope\""));
    /* the engine's error reaches psql as PostgreSQL reports one: the fact,
     * DETAIL and HINT */
    PGresult *r = PQexec(e->db, "SELECT * FROM iasql_install('aws_nope')");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY),
                        "there is no module named \"aws_nope\"");
    assert_non_null(strstr(PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL), "aws_s3"));
    assert_non_null(strstr(PQresultErrorField(r, PG_DIAG_MESSAGE_HINT), "iasql_modules_list()"));
    PQclear(r);
    assert_non_null(
        strstr(it_sql_error(e, "SELECT * FROM iasql_install('aws_s3')"), "already installed"));
    assert_non_null(strstr(it_sql_error(e, "SELECT * FROM iasql_uninstall('aws_account')"),
                           "module aws_s3 depends on it"));
    assert_non_null(it_value(e, "SELECT to_regclass('bucket')"));
    /* the application's role cannot write the engine's tables */
    assert_non_null(
        strstr(it_sql_error(e, "INSERT INTO iasql_module VALUES ('x', '1')"), "permission denied"));
    assert_non_null(strstr(it_sql_error(e, "DELETE FROM iasql_audit_log"), "permission denied"));
    assert_non_null(
        strstr(it_sql_error(e, "UPDATE iasql_commits SET message = 'x'"), "permission denied"));
}

static void test_cloud_error_fails_only_its_row(void **state)
{
    it_env *e = *state;
    install_s3(e, -1);
    const char *full = bn(4), *other = bn(5);
    const char *p1[] = {full};
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, p1));
    PGresult *r = it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL);
    assert_int_equal(PQntuples(r), 1);
    PQclear(r);
    char url[512];
    snprintf(url, sizeof url, "%s/%s/some-object", e->emulator, full);
    assert_int_equal(it_http("PUT", url, "hello", NULL), 200);

    /* one commit: a delete the cloud refuses, and a create that works */
    const char *p2[] = {other};
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name = $1", 1, p1));
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, p2));
    r = it_sql(e, "SELECT action, description FROM iasql_commit('mixed') ORDER BY action", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 0), "create");
    assert_non_null(strstr(PQgetvalue(r, 0, 1), "created bucket"));
    assert_string_equal(PQgetvalue(r, 1, 0), "delete");
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "failed to delete bucket"));
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "BucketNotEmpty"));
    assert_non_null(strstr(PQgetvalue(r, 1, 1), full));
    PQclear(r);
    assert_true(it_cloud_has_bucket(e->emulator, other));
    assert_true(it_cloud_has_bucket(e->emulator, full));
    const char *err = it_value(e, "SELECT message FROM iasql_get_errors() LIMIT 1");
    assert_non_null(err);
    assert_non_null(strstr(err, "BucketNotEmpty"));
    assert_string_equal(it_value(e, "SELECT status FROM iasql_commits WHERE message = 'mixed'"),
                        "partial");

    /* the failed delete stays pending; once the bucket is empty the next commit does it */
    assert_int_equal(it_http("DELETE", url, NULL, NULL), 204);
    r = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "delete");
    assert_non_null(strstr(PQgetvalue(r, 0, 1), "deleted bucket"));
    PQclear(r);
    assert_false(it_cloud_has_bucket(e->emulator, full));
    const char *p3[] = {other};
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name = $1", 1, p3));
    assert_true(it_ok(e, "SELECT * FROM iasql_commit()", 0, NULL));
}

/* What `iasql journal dump DIR OPTIONS` prints, for the caller to free. */
static char *dump_of(const char *bin, const char *journal, const char *options)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "\"%s\" journal dump '%s' %s", bin, journal, options);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 4096)
            out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    assert_int_equal(pclose(f), 0);
    return out;
}

/* Two transactions commit out of order: the one that started first (lower
 * transaction id and audit id) commits last. Neither change may be lost or
 * journaled twice. */
static void test_tail_out_of_order(void **state)
{
    it_env *e = *state;
    install_s3(e, -1);
    PGconn *late = PQconnectdb(e->conninfo);
    assert_int_equal(PQstatus(late), CONNECTION_OK);
    const char *first = bn(6), *second = bn(7);
    const char *p1[] = {first};
    PQclear(PQexec(late, "BEGIN"));
    PGresult *r =
        PQexecParams(late, "INSERT INTO bucket (name) VALUES ($1)", 1, NULL, p1, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    const char *p2[] = {second};
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, p2));
    /* the barrier reads the committed one while the other is still open */
    r = it_sql(e, "SELECT description FROM iasql_preview()", 0, NULL);
    assert_int_equal(PQntuples(r), 1);
    assert_non_null(strstr(PQgetvalue(r, 0, 0), second));
    PQclear(r);
    usleep(500 * 1000); /* let the idle tail run past it too */
    PQclear(PQexec(late, "COMMIT"));
    PQfinish(late);
    r = it_sql(e, "SELECT action FROM iasql_commit()", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    PQclear(r);
    assert_true(it_cloud_has_bucket(e->emulator, first));
    assert_true(it_cloud_has_bucket(e->emulator, second));
    /* each user change is in the journal exactly once */
    assert_int_equal(it_stop_engine(e), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "\"%s\" journal dump '%s' | grep -c ' event origin=user op=insert '",
             getenv("IASQL_BIN"), e->journal);
    FILE *f = popen(cmd, "r");
    int n = 0;
    assert_int_equal(fscanf(f, "%d", &n), 1);
    pclose(f);
    assert_int_equal(n, 2);
    snprintf(cmd, sizeof cmd, "\"%s\" journal verify '%s' >/dev/null", getenv("IASQL_BIN"),
             e->journal);
    assert_int_equal(system(cmd), 0);
    /* the dump's filters: a table, a commit, a time */
    const char *bin = getenv("IASQL_BIN");
    char *out = dump_of(bin, e->journal, "--table bucket");
    assert_true(it_count(out, "\n") >= 4);
    assert_int_equal(it_count(out, " table=\"bucket\""), it_count(out, "\n"));
    assert_int_equal(it_count(out, "commit id="), 0);
    free(out);
    const char *last = it_value(e, "SELECT max(id) FROM iasql_commits");
    char opt[64], needle[64];
    snprintf(opt, sizeof opt, "--commit %s", last);
    out = dump_of(bin, e->journal, opt);
    snprintf(needle, sizeof needle, "commit id=%s time=", last);
    assert_int_equal(it_count(out, needle), 1);
    snprintf(needle, sizeof needle, " result commit_id=%s ", last);
    assert_int_equal(it_count(out, needle), 2);                          /* its two creates */
    assert_int_equal(it_count(out, " event origin=user op=insert "), 2); /* what it took in */
    assert_int_equal(it_count(out, "commit id="), 1);
    free(out);
    snprintf(opt, sizeof opt, "--json --commit %s", last);
    out = dump_of(bin, e->journal, opt);
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *j = json_loads(line, 0, NULL);
        if (!json_is_object(j) || !json_string_value(json_object_get(j, "time")))
            fail_msg("not a JSON record with a time: %s", line);
        json_decref(j);
    }
    free(out);
    out = dump_of(bin, e->journal, "--since 2100-01-01");
    assert_string_equal(out, "");
    free(out);
    snprintf(cmd, sizeof cmd, "\"%s\" journal dump '%s' --since yesterday 2>/dev/null", bin,
             e->journal);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    /* clean up the cloud for the second-opinion emulator */
    char url[512];
    snprintf(url, sizeof url, "%s/%s", e->emulator, first);
    it_http("DELETE", url, NULL, NULL);
    snprintf(url, sizeof url, "%s/%s", e->emulator, second);
    it_http("DELETE", url, NULL, NULL);
}

/* Values that need escaping on every layer (SQL, JSON, XML, URLs) go to the
 * cloud and come back unchanged; values AWS would refuse never leave the
 * database. */
static void test_hostile_values(void **state)
{
    it_env *e = *state;
    install_s3(e, -1);
    static const char *const too_big[] = {
        "INSERT INTO bucket (name, tags) VALUES ('okname', jsonb_build_object('k', repeat('v', "
        "257)))",
        "INSERT INTO bucket (name, tags) VALUES ('okname', jsonb_build_object(repeat('k', 129), "
        "'v'))",
        "INSERT INTO bucket (name, tags) SELECT 'okname', jsonb_object_agg('k' || g, 'v') FROM "
        "generate_series(1, 51) g",
        "INSERT INTO bucket (name, tags) VALUES ('okname', '{\"\": \"empty key\"}')",
        "INSERT INTO bucket (name) VALUES ('bücket-ünïcode')",
        "INSERT INTO bucket (name) VALUES (repeat('a', 100000))",
    };
    for (size_t i = 0; i < sizeof too_big / sizeof too_big[0]; i++)
        if (!it_sql_error(e, too_big[i]))
            fail_msg("accepted: %s", too_big[i]);
    if (!e->full_s3)
        return; /* tagging is what carries these values; s3rver has none */
    const char *name = bn(0);
    const char *tags = "{\"naïve ☃ key\": \"it's <\\\"quoted\\\"> & 'so' \\\\ on\", "
                       "\"'; DROP TABLE bucket; --\": \"%2F?x=1&y=2\"}";
    const char *p[] = {name, tags};
    assert_true(it_ok(e, "INSERT INTO bucket (name, tags) VALUES ($1, $2::jsonb)", 2, p));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_commit()"), "create");
    /* read back through the cloud: uninstall, install, import */
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_s3')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_s3')", 0, NULL));
    const char *q[] = {name, tags};
    PGresult *r =
        it_sql(e, "SELECT tags = $2::jsonb, tags::text FROM bucket WHERE name = $1", 2, q);
    assert_int_equal(PQntuples(r), 1);
    if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
        fail_msg("tags came back as %s", PQgetvalue(r, 0, 1));
    PQclear(r);
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name = $1", 1, p));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_commit()"), "delete");
}

/* No secret in the database, the journal or the log. */
static void test_no_secret_anywhere(void **state)
{
    it_env *e = *state;
    if (!e->full_s3)
        return; /* s3rver checks its own fixed secret */
    char secret[64];
    snprintf(secret, sizeof secret, "iasqlSecretProbe%d", (int)getpid());
    assert_int_equal(it_stop_engine(e), 0);
    setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
    setenv("AWS_SESSION_TOKEN", "iasqlTokenProbe", 1);
    int started = it_start_engine(e);
    unsetenv("AWS_SESSION_TOKEN");
    assert_int_equal(started, 0);
    install_s3(e, -1);
    const char *p[] = {bn(1)};
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, p));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_commit()"), "create");
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name = $1", 1, p));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_commit()"), "delete");
    assert_int_equal(it_stop_engine(e), 0);
    assert_int_equal(it_leaks(e, secret), 0);
    assert_int_equal(it_leaks(e, "iasqlTokenProbe"), 0);
    char cmd[2048];
    /* and the dump did run: it holds the bucket's history */
    snprintf(cmd, sizeof cmd, "'%s/pg_dump' \"%s\" | grep -c '%s' >/dev/null",
             getenv("IASQL_PG_BIN") ? getenv("IASQL_PG_BIN") : "/usr/lib/postgresql/15/bin",
             e->admin_conninfo, bucket_names[1]);
    assert_int_equal(system(cmd), 0);
    setenv("AWS_SECRET_ACCESS_KEY", "test", 1);
    assert_int_equal(it_start_engine(e), 0);
}

/* A user cannot make a change look like the engine's: not by setting the
 * origin the engine sets, and not with a search_path of look-alike functions
 * and operators ahead of pg_catalog. */
static void test_user_cannot_fake_origin(void **state)
{
    it_env *e = *state;
    install_s3(e, -1);
    assert_true(it_admin_ok(e, "CREATE SCHEMA sneaky AUTHORIZATION iasql_app"));
    assert_true(it_ok(e,
                      "CREATE FUNCTION sneaky.yes(name, name) RETURNS boolean "
                      "LANGUAGE sql AS 'SELECT true'",
                      0, NULL));
    assert_true(it_ok(e,
                      "CREATE FUNCTION sneaky.no(name, name) RETURNS boolean "
                      "LANGUAGE sql AS 'SELECT false'",
                      0, NULL));
    assert_true(it_ok(e,
                      "CREATE OPERATOR sneaky.= (LEFTARG = name, RIGHTARG = name, "
                      "FUNCTION = sneaky.yes)",
                      0, NULL));
    assert_true(it_ok(e,
                      "CREATE OPERATOR sneaky.<> (LEFTARG = name, RIGHTARG = name, "
                      "FUNCTION = sneaky.no)",
                      0, NULL));
    assert_true(it_ok(e,
                      "CREATE FUNCTION sneaky.current_setting(text, boolean) RETURNS text "
                      "LANGUAGE sql AS 'SELECT ''cloud''::text'",
                      0, NULL));
    assert_true(it_ok(e, "SET search_path = sneaky, pg_catalog, public", 0, NULL));
    assert_true(it_ok(e, "SELECT set_config('iasql.origin', 'cloud', false)", 0, NULL));
    const char *p[] = {bn(0)};
    assert_true(it_ok(e, "INSERT INTO public.bucket (name) VALUES ($1)", 1, p));
    assert_true(it_ok(e, "UPDATE public.bucket SET tags = '{\"a\": \"b\"}' WHERE name = $1", 1, p));
    assert_true(it_ok(e, "RESET search_path", 0, NULL));
    assert_string_equal(it_value(e,
                                 "SELECT string_agg(origin || ':' || op, ',' ORDER BY id) "
                                 "FROM iasql_audit_log WHERE origin <> 'cloud' OR op <> 'INSERT' "
                                 "OR row_id = (SELECT max(id) FROM bucket)"),
                        "user:INSERT,user:UPDATE");
    assert_true(it_ok(e, "DROP SCHEMA sneaky CASCADE", 0, NULL));
    /* the row was never committed: nothing to clean in the cloud */
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name = $1", 1, p));
}

/* Many RPC calls, one after another and from several connections at once,
 * more than the engine has tickets: every call must be answered. A lost
 * wake-up shows as a statement timeout. */
static void test_rpc_many_callers(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "SET statement_timeout = '10s'", 0, NULL));
    for (int i = 0; i < 100; i++)
        assert_true(it_ok(e, "SELECT * FROM iasql_commit()", 0, NULL));
    enum { NCONN = 8, CALLS = 25 };
    PGconn *c[NCONN];
    for (int k = 0; k < NCONN; k++) {
        c[k] = PQconnectdb(e->conninfo);
        assert_int_equal(PQstatus(c[k]), CONNECTION_OK);
        PQclear(PQexec(c[k], "SET statement_timeout = '10s'"));
    }
    for (int round = 0; round < CALLS; round++) {
        for (int k = 0; k < NCONN; k++)
            assert_int_equal(PQsendQuery(c[k], "SELECT * FROM iasql_preview()"), 1);
        for (int k = 0; k < NCONN; k++) {
            PGresult *r;
            int ok = 0;
            while ((r = PQgetResult(c[k])) != NULL) {
                if (PQresultStatus(r) == PGRES_TUPLES_OK)
                    ok++;
                else
                    fprintf(stderr, "call failed: %s", PQresultErrorMessage(r));
                PQclear(r);
            }
            assert_int_equal(ok, 1);
        }
    }
    for (int k = 0; k < NCONN; k++)
        PQfinish(c[k]);
    assert_string_equal(it_admin_value(e, "SELECT count(*) FROM iasql_rpc WHERE status = 'done'"),
                        "300");
}

int main(void)
{
    srandom((unsigned)getpid());
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_tag_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_install_imports_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_rejected_at_insert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cloud_error_fails_only_its_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tail_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rpc_many_callers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_cannot_fake_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_secret_anywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_progress, setup, teardown),
    };
    return cmocka_run_group_tests_name(getenv("IT_EMULATOR_KIND"), tests, NULL, NULL);
}
