/* tests/integration/it_history.c — going back in time, against moto_server:
 * iasql_rollback() of pending changes (no cloud call), iasql_rollback(N)
 * over several commits of creates, updates, replaces and deletes in two
 * modules (the cloud read through the AWS API), its refusals, replaying the
 * journal into a fresh database (row for row), iasql_begin() transactions
 * with periodic propagation, and iasql_get_sql_since() run in a second
 * database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "it_util.h"

static int setup(void **state)
{
    if (it_fixture(state, "hist", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_sqs', 'aws_cloudwatch')", 0, NULL) ? 0
                                                                                              : -1;
}

static char prefix[32];

/* What a test made in the cloud goes, so that suites sharing one emulator
 * (release, then sanitizers) never import each other's resources. */
static int teardown(void **state)
{
    it_env *e = *state;
    char sql[256];
    snprintf(sql, sizeof sql, "DELETE FROM queue WHERE name LIKE '%s%%'", prefix);
    it_ok(e, sql, 0, NULL);
    snprintf(sql, sizeof sql, "DELETE FROM log_group WHERE log_group_name LIKE '%s%%'", prefix);
    it_ok(e, sql, 0, NULL);
    it_ok(e, "SELECT * FROM iasql_commit('clean up')", 0, NULL);
    return it_fixture_end(state);
}

static const char *name(const char *what)
{
    static char buf[8][96];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, 96, "%s-%s", prefix, what);
    return b;
}

/* The user's view of this test's rows: every column but the cloud-owned. */
static char *user_rows(it_env *e, bool with_id)
{
    char sql[1024];
    const char *id = with_id ? "" : " - 'id'";
    snprintf(sql, sizeof sql,
             "SELECT json_build_array("
             "(SELECT coalesce(jsonb_agg(to_jsonb(q) - 'url' - 'arn'%s ORDER BY q.name), '[]') "
             "FROM queue q WHERE q.name LIKE '%s%%'), "
             "(SELECT coalesce(jsonb_agg(to_jsonb(g) - 'log_group_arn' - 'creation_time'%s "
             "ORDER BY g.log_group_name), '[]') FROM log_group g "
             "WHERE g.log_group_name LIKE '%s%%'))::text",
             id, prefix, id, prefix);
    const char *v = it_value(e, sql);
    assert_non_null(v);
    return strdup(v);
}

/* Every row of the two tables, every column, by id. */
static char *all_rows(PGconn *c)
{
    PGresult *r =
        PQexec(c, "SELECT json_build_array("
                  "(SELECT coalesce(jsonb_agg(to_jsonb(q) ORDER BY q.id), '[]') FROM queue q),"
                  "(SELECT coalesce(jsonb_agg(to_jsonb(g) ORDER BY g.id), '[]') "
                  "FROM log_group g))::text");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s", PQerrorMessage(c));
    char *out = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

/* "VisibilityTimeout/DelaySeconds" of a queue in the cloud, or "absent". */
static const char *cloud_queue(it_env *e, const char *qname)
{
    static char out[64];
    json_t *q = it_cloud_queue(e, qname);
    snprintf(out, sizeof out, "%s/%s", json_string_value(json_object_get(q, "VisibilityTimeout")),
             json_string_value(json_object_get(q, "DelaySeconds")));
    if (!q)
        snprintf(out, sizeof out, "absent");
    json_decref(q);
    return out;
}

/* The retention of a log group in the cloud ("none" when unset), or
 * "absent". */
static const char *cloud_group(it_env *e, const char *gname)
{
    static char out[32];
    json_t *g = it_cloud_log_group(e, gname);
    json_t *days = json_object_get(g, "retentionInDays");
    if (!g)
        snprintf(out, sizeof out, "absent");
    else if (days)
        snprintf(out, sizeof out, "%lld", (long long)json_integer_value(days));
    else
        snprintf(out, sizeof out, "none");
    json_decref(g);
    return out;
}

static void exec(it_env *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = it_okv(e, fmt, ap);
    va_end(ap);
    if (!ok)
        fail_msg("a statement failed (above)");
}

/* Rows of a function call as "action table description" lines. */
static char *call_rows(it_env *e, const char *sql)
{
    char q[512];
    snprintf(q, sizeof q,
             "SELECT coalesce(string_agg(action || ' ' || table_name || ' ' || description, "
             "E'\\n' ORDER BY table_name, id), '') FROM %s",
             sql);
    const char *v = it_value(e, q);
    if (!v) {
        it_print_log(e);
        fail_msg("%s failed", sql);
    }
    return strdup(v);
}

static void expect_has(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("expected \"%s\" in:\n%s", needle, text);
}

static long commits(it_env *e)
{
    return atol(it_value(e, "SELECT coalesce(max(id), 0) FROM iasql_commits"));
}

/* Several commits of creates, updates, replaces and deletes across two
 * modules, then back to the first: the tables and the cloud are as they
 * were after it. Then the journal, replayed into a fresh database, gives
 * the same tables row for row, and up to the first commit point its state. */
static void test_rollback_to_first_commit(void **state)
{
    it_env *e = *state;
    exec(e, "INSERT INTO queue (name) VALUES ('%s'), ('%s')", name("a"), name("b"));
    exec(e, "INSERT INTO log_group (log_group_name, retention_in_days) VALUES ('%s', 7)",
         name("l1"));
    it_expect_commit(e, 3, "create");
    long first = commits(e);
    char *after_first = user_rows(e, true);

    exec(e, "UPDATE queue SET visibility_timeout = 60 WHERE name = '%s'", name("a"));
    exec(e, "UPDATE queue SET name = '%s' WHERE name = '%s'", name("b2"), name("b"));
    exec(e, "DELETE FROM log_group WHERE log_group_name = '%s'", name("l1"));
    exec(e, "INSERT INTO log_group (log_group_name) VALUES ('%s')", name("l2"));
    char *second = call_rows(e, "iasql_commit('second')");
    expect_has(second, "replace queue replaced");
    free(second);
    exec(e, "UPDATE queue SET delay_seconds = 5 WHERE name = '%s'", name("a"));
    exec(e, "INSERT INTO queue (name) VALUES ('%s')", name("c"));
    exec(e, "UPDATE log_group SET retention_in_days = 14 WHERE log_group_name = '%s'", name("l2"));
    free(call_rows(e, "iasql_commit('third')"));
    assert_string_equal(cloud_queue(e, name("a")), "60/5");
    assert_string_equal(cloud_queue(e, name("b")), "absent");
    assert_string_equal(cloud_group(e, name("l1")), "absent");

    char sql[128];
    snprintf(sql, sizeof sql, "iasql_rollback(%ld)", first);
    char *rows = call_rows(e, sql);
    expect_has(rows, "create log_group created log_group");
    expect_has(rows, "delete log_group deleted log_group");
    expect_has(rows, "delete queue deleted queue");
    expect_has(rows, "replace queue replaced queue");
    expect_has(rows, "update queue updated queue");
    assert_null(strstr(rows, "failed"));
    free(rows);

    char *now = user_rows(e, true);
    assert_string_equal(now, after_first);
    free(now);
    assert_string_equal(cloud_queue(e, name("a")), "30/0");
    assert_string_equal(cloud_queue(e, name("b")), "30/0");
    assert_string_equal(cloud_queue(e, name("b2")), "absent");
    assert_string_equal(cloud_queue(e, name("c")), "absent");
    assert_string_equal(cloud_group(e, name("l1")), "7");
    assert_string_equal(cloud_group(e, name("l2")), "absent");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* The re-created log group got its new arn written back. */
    snprintf(sql, sizeof sql,
             "SELECT log_group_arn IS NOT NULL FROM log_group WHERE log_group_name = '%s'",
             name("l1"));
    assert_string_equal(it_value(e, sql), "t");
    snprintf(sql, sizeof sql, "SELECT message FROM iasql_commits ORDER BY id DESC LIMIT 1");
    char expect[64];
    snprintf(expect, sizeof expect, "rollback to commit %ld", first);
    assert_string_equal(it_value(e, sql), expect);

    /* Replay: the whole journal, then up to the first commit point. */
    char *live = all_rows(e->db);
    assert_int_equal(it_stop_engine(e), 0);
    char db[96], ci[700], cmd[1600];
    snprintf(db, sizeof db, "%s_replay", e->dbname);
    snprintf(cmd, sizeof cmd, "DROP DATABASE IF EXISTS %s", db);
    assert_true(it_admin_ok(e, cmd));
    snprintf(cmd, sizeof cmd, "CREATE DATABASE %s", db);
    assert_true(it_admin_ok(e, cmd));
    snprintf(ci, sizeof ci, "%s dbname=%s", getenv("IASQL_PG_CONNINFO"), db);
    snprintf(cmd, sizeof cmd, "\"%s\" journal replay \"%s\" \"%s\" >/dev/null", getenv("IASQL_BIN"),
             e->journal, ci);
    assert_int_equal(system(cmd), 0);
    PGconn *r = PQconnectdb(ci);
    assert_int_equal(PQstatus(r), CONNECTION_OK);
    char *replayed = all_rows(r);
    assert_string_equal(replayed, live);
    free(replayed);
    /* A second replay into the same database is refused. */
    assert_int_not_equal(system(cmd), 0);
    PQfinish(r);

    snprintf(cmd, sizeof cmd, "DROP DATABASE %s WITH (FORCE)", db);
    assert_true(it_admin_ok(e, cmd));
    snprintf(cmd, sizeof cmd, "CREATE DATABASE %s", db);
    assert_true(it_admin_ok(e, cmd));
    snprintf(cmd, sizeof cmd, "\"%s\" journal replay \"%s\" \"%s\" --to %ld >/dev/null",
             getenv("IASQL_BIN"), e->journal, ci, first);
    assert_int_equal(system(cmd), 0);
    it_env other = *e;
    other.db = PQconnectdb(ci);
    char *at_first = user_rows(&other, true);
    assert_string_equal(at_first, after_first);
    free(at_first);
    PQfinish(other.db);
    snprintf(cmd, sizeof cmd, "DROP DATABASE %s WITH (FORCE)", db);
    assert_true(it_admin_ok(e, cmd));
    assert_int_equal(it_start_engine(e), 0);
    free(live);
    free(after_first);
}

/* Rolling back to a commit point that does not exist, with changes
 * pending, or across a module install is refused before anything is
 * applied. */
static void test_rollback_refusals(void **state)
{
    it_env *e = *state;
    exec(e, "INSERT INTO queue (name) VALUES ('%s')", name("r1"));
    it_expect_commit(e, 1, "create");
    long last = commits(e);
    const char *msg = it_sql_error(e, "SELECT * FROM iasql_rollback(999999)");
    assert_non_null(msg);
    expect_has(msg, "there is no commit point 999999: commit points run from 1 to");
    msg = it_sql_error(e, "SELECT * FROM iasql_rollback(0)");
    assert_non_null(msg);
    expect_has(msg, "commit ids start at 1");

    exec(e, "UPDATE queue SET delay_seconds = 9 WHERE name = '%s'", name("r1"));
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT * FROM iasql_rollback(%ld)", last);
    msg = it_sql_error(e, sql);
    assert_non_null(msg);
    expect_has(msg, "1 changes are pending");
    expect_has(msg, name("r1"));
    /* Nothing was applied or written. */
    assert_string_equal(cloud_queue(e, name("r1")), "30/0");
    snprintf(sql, sizeof sql, "SELECT delay_seconds FROM queue WHERE name = '%s'", name("r1"));
    assert_string_equal(it_value(e, sql), "9");
    free(call_rows(e, "iasql_rollback()"));

    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_kinesis')", 0, NULL));
    snprintf(sql, sizeof sql, "SELECT * FROM iasql_rollback(%ld)", last);
    msg = it_sql_error(e, sql);
    assert_non_null(msg);
    expect_has(msg, "the install of module aws_kinesis");
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_kinesis')", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
}

/* iasql_rollback() puts back what the user changed since the last commit,
 * from the journal, without a cloud call. */
static void test_rollback_pending(void **state)
{
    it_env *e = *state;
    exec(e, "INSERT INTO queue (name) VALUES ('%s'), ('%s')", name("p1"), name("p2"));
    exec(e, "INSERT INTO log_group (log_group_name, retention_in_days) VALUES ('%s', 3)",
         name("pl"));
    it_expect_commit(e, 3, "create");
    char *before = user_rows(e, true);
    exec(e, "UPDATE queue SET visibility_timeout = 45, tags = '{\"k\": \"v\"}' WHERE name = '%s'",
         name("p1"));
    exec(e, "DELETE FROM queue WHERE name = '%s'", name("p2"));
    exec(e, "DELETE FROM log_group WHERE log_group_name = '%s'", name("pl"));
    exec(e, "INSERT INTO queue (name) VALUES ('%s')", name("p3"));
    exec(e, "UPDATE queue SET delay_seconds = 2 WHERE name = '%s'", name("p3"));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "4");

    int calls_before = it_log_count(e, "cloud calls");
    char *rows = call_rows(e, "iasql_rollback()");
    expect_has(rows, "create log_group brought back log_group");
    expect_has(rows, "update queue restored queue");
    expect_has(rows, "tags");
    expect_has(rows, "visibility_timeout");
    expect_has(rows, "delete queue discarded the pending creation of queue");
    free(rows);
    expect_has(it_log_last(e, "(rollback) done"), " 0 cloud calls");
    assert_int_equal(it_log_count(e, "cloud calls"), calls_before + 1);

    char *after = user_rows(e, true);
    assert_string_equal(after, before);
    free(after);
    free(before);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* The restored rows keep their ids and cloud-owned columns. */
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT url IS NOT NULL FROM queue WHERE name = '%s'", name("p2"));
    assert_string_equal(it_value(e, sql), "t");
    /* Nothing is left for the next commit, and the discarded changes are
     * carried by no commit. */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_commit()"), "0");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user' "
                                    "AND commit_id IS NULL AND row_id IN (SELECT id FROM queue)"),
                        "2");
    /* Nothing pending: a rollback restores nothing. */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_rollback()"), "0");
}

static PGconn *session(it_env *e)
{
    PGconn *c = PQconnectdb(e->conninfo);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    return c;
}

static const char *one(PGconn *c, const char *sql, bool ok)
{
    static char buf[2048];
    PGresult *r = PQexec(c, sql);
    bool good = PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK;
    if (good != ok)
        fail_msg("%s: %s", sql, good ? "succeeded" : PQerrorMessage(c));
    snprintf(buf, sizeof buf, "%s",
             good ? (PQntuples(r) ? PQgetvalue(r, 0, 0) : "") : PQerrorMessage(c));
    PQclear(r);
    return buf;
}

static bool cloud_has_queue(it_env *e, const char *qname)
{
    return strcmp(cloud_queue(e, qname), "absent") != 0;
}

/* iasql_begin() holds pending changes back from periodic propagation until
 * iasql_commit(); a second begin waits a bounded time and names the holder;
 * a session that dies releases its transaction. */
static void test_transactions(void **state)
{
    it_env *e = *state;
    assert_int_equal(it_stop_engine(e), 0);
    e->auto_apply = "1";
    assert_int_equal(it_start_engine(e), 0);

    /* Outside a transaction a change is applied by the periodic tick. */
    exec(e, "INSERT INTO queue (name) VALUES ('%s')", name("auto"));
    for (int i = 0; i < 60 && !cloud_has_queue(e, name("auto")); i++)
        it_sleep_ms(100);
    assert_true(cloud_has_queue(e, name("auto")));
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT c.message FROM iasql_commits c JOIN iasql_audit_log a ON a.commit_id = c.id "
             "JOIN queue q ON q.id = a.row_id WHERE q.name = '%s'",
             name("auto"));
    for (int i = 0; i < 20 && !it_value(e, sql); i++)
        it_sleep_ms(100);
    assert_string_equal(it_value(e, sql), "auto-apply");

    PGconn *a = session(e), *b = session(e);
    const char *tx = one(a, "SELECT transaction_id FROM iasql_begin()", true);
    char txid[32];
    snprintf(txid, sizeof txid, "%s", tx);
    snprintf(sql, sizeof sql, "INSERT INTO queue (name) VALUES ('%s')", name("tx"));
    one(a, sql, true);
    it_sleep_ms(2500); /* two ticks: nothing is applied */
    assert_false(cloud_has_queue(e, name("tx")));

    /* Another session: begin waits, then names the holder; its commit is refused. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *msg = one(b, "SELECT * FROM iasql_begin(0.5)", false);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(waited >= 0.45 && waited < 5);
    expect_has(msg, "iasql_begin() waited 0.5 seconds: iasql transaction");
    char pid[32];
    snprintf(pid, sizeof pid, "session %d", PQbackendPID(a));
    expect_has(msg, pid);
    expect_has(one(b, "SELECT * FROM iasql_commit()", false), "iasql_commit() refused");
    expect_has(one(b, "SELECT * FROM iasql_rollback()", false), "iasql_rollback() refused");
    expect_has(one(a, "SELECT * FROM iasql_begin()", false), "already open in this session");

    /* The holder commits: applied, recorded with its transaction. */
    one(a, "SELECT * FROM iasql_commit('in a transaction')", true);
    assert_true(cloud_has_queue(e, name("tx")));
    snprintf(sql, sizeof sql,
             "SELECT transaction_id FROM iasql_commits WHERE message = "
             "'in a transaction'");
    assert_string_equal(it_value(e, sql), txid);
    snprintf(sql, sizeof sql, "SELECT status FROM iasql_transactions WHERE id = %s", txid);
    assert_string_equal(it_value(e, sql), "committed");
    snprintf(sql, sizeof sql, "SELECT string_agg(sql, ' ') FROM iasql_get_sql_for_transaction(%s)",
             txid);
    const char *txsql = it_value(e, sql);
    assert_non_null(txsql);
    expect_has(txsql, name("tx"));
    assert_null(strstr(txsql, name("auto")));
    expect_has(it_sql_error(e, "SELECT * FROM iasql_get_sql_for_transaction(987654)"),
               "there is no iasql transaction 987654");

    /* A session that dies with its transaction open leaves nothing locked. */
    one(b, "SELECT * FROM iasql_begin()", true);
    PQfinish(b);
    const char *again = one(a, "SELECT transaction_id FROM iasql_begin(5)", true);
    assert_true(atol(again) > atol(txid));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_transactions "
                                    "WHERE status = 'abandoned'"),
                        "1");
    one(a, "SELECT * FROM iasql_rollback()", true);
    PQfinish(a);

    assert_int_equal(it_stop_engine(e), 0);
    e->auto_apply = NULL;
    assert_int_equal(it_start_engine(e), 0);
}

/* The SQL of the committed changes, run in another iasql database, makes
 * the same rows there. */
static void test_sql_since(void **state)
{
    it_env *e = *state;
    it_env other;
    assert_int_equal(it_setup(&other, "hist_other"), 0);
    assert_true(it_ok(&other, "SELECT * FROM iasql_install('aws_sqs', 'aws_cloudwatch')", 0, NULL));
    const char *since = it_value(e, "SELECT clock_timestamp()::text");
    char since_copy[64];
    snprintf(since_copy, sizeof since_copy, "%s", since);

    exec(e,
         "INSERT INTO queue (name, tags) VALUES ('%s', '{\"it''s\": \"a \\\"quote\\\"\"}'), "
         "('%s', '{}')",
         name("s1"), name("s2"));
    exec(e, "INSERT INTO log_group (log_group_name, retention_in_days) VALUES ('%s', 5)",
         name("sl"));
    it_expect_commit(e, 3, "create");
    exec(e, "UPDATE queue SET name = '%s', visibility_timeout = 31 WHERE name = '%s'", name("s1b"),
         name("s1"));
    exec(e, "DELETE FROM queue WHERE name = '%s'", name("s2"));
    exec(e, "UPDATE log_group SET retention_in_days = 30 WHERE log_group_name = '%s'", name("sl"));
    free(call_rows(e, "iasql_commit()"));
    /* Pending, not committed: not in the SQL. */
    exec(e, "INSERT INTO queue (name) VALUES ('%s')", name("s3"));

    const char *p[] = {since_copy};
    PGresult *r = it_sql(e, "SELECT sql FROM iasql_get_sql_since($1::timestamptz)", 1, p);
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 6);
    for (int i = 0; i < PQntuples(r); i++)
        if (!it_ok(&other, PQgetvalue(r, i, 0), 0, NULL))
            fail_msg("in the other database: %s", PQgetvalue(r, i, 0));
    PQclear(r);
    free(call_rows(e, "iasql_rollback()"));
    char *here = user_rows(e, false), *there = user_rows(&other, false);
    assert_string_equal(there, here);
    free(here);
    free(there);
    it_teardown(&other);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    snprintf(prefix, sizeof prefix, "hist%d", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollback_to_first_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_since, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
