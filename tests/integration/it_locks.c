/* tests/integration/it_locks.c — the engine never waits forever on a
 * user's lock, and never resurrects or leaks a change, tried as an
 * application role (iasql_app) would, with the cloud checked through the
 * AWS API:
 * - a call in a transaction that holds locks on iasql's tables is refused
 *   at once (FOR UPDATE before iasql_commit(), UPDATE aws_regions before
 *   iasql_install(), a read before iasql_uninstall());
 * - an idle transaction holding a row lock or a table lock neither stalls
 *   a commit nor another session's preview; the write-back it blocked says
 *   who holds the lock and is made by a later commit;
 * - an uninstall right after a change refuses it, naming it, and
 *   iasql_uninstall_discard() discards it: nothing comes back later;
 * - an iasql transaction's commit carries only its own session's changes;
 *   a killed holder's changes are not applied by auto-apply, say so, and
 *   go out with an explicit commit;
 * - an install whose caller was terminated while it waited is rolled back;
 * - tag limits count the engine's own tags; a disabled region is refused
 *   at INSERT; a resource made again is described by its new id; a commit
 *   message is capped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "it_util.h"

static int setup(void **state)
{
    if (it_fixture(state, "locks", true))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_sqs')", 0, NULL) ? 0 : -1;
}

/* What a test made in the cloud goes (the emulator is shared by every later
 * test, and an install imports what it holds). */
static int teardown(void **state)
{
    it_env *e = *state;
    char sql[256];
    snprintf(sql, sizeof sql, "DELETE FROM bucket WHERE name LIKE 'lk%d-%%'", (int)getpid());
    PGresult *r = it_sql(e, sql, 0, NULL);
    PQclear(r);
    snprintf(sql, sizeof sql,
             "DO $$ BEGIN IF to_regclass('queue') IS NOT NULL THEN "
             "DELETE FROM queue WHERE name LIKE 'lk-%d-%%'; END IF; END $$",
             (int)getpid());
    r = it_sql(e, sql, 0, NULL);
    PQclear(r);
    r = it_sql(e, "SELECT * FROM iasql_commit('clean up')", 0, NULL);
    PQclear(r);
    return it_fixture_end(state);
}

/* Another session of the application's role. */
static PGconn *session(it_env *e)
{
    PGconn *c = PQconnectdb(e->conninfo);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    return c;
}

static void run(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

/* sql on c is refused with a message that says what. */
static void refused_on(PGconn *c, const char *sql, const char *what)
{
    const char *msg = it_conn_error(c, sql);
    if (!msg || !strstr(msg, what))
        fail_msg("%s: %s, not refused with \"%s\"", sql, msg ? msg : "accepted", what);
}

/* The single value of sql on c, copied for the caller to free. */
static char *value_on(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    char *v = strdup(PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* The descriptions of a commit's result rows, joined with "\n". */
static char *commit_text(it_env *e, const char *sql)
{
    PGresult *r = it_sql(e, sql, 0, NULL);
    assert_non_null(r);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    for (int i = 0; i < PQntuples(r); i++)
        len += (size_t)snprintf(out + len, cap - len, "%s %s\n", PQgetvalue(r, i, 0),
                                PQgetvalue(r, i, 3));
    PQclear(r);
    return out;
}

/* A bucket name of this run (the emulator is shared by every test and
 * both builds: an install imports what earlier runs left). */
static const char *bucket_name(const char *what)
{
    static char buf[4][96];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "lk%d-%s", (int)getpid(), what);
    return buf[k];
}

static const char *queue_name(const char *what)
{
    static char buf[96];
    snprintf(buf, sizeof buf, "lk-%d-%s", (int)getpid(), what);
    return buf;
}

/* Locks held in the caller's own transaction: each call is refused at
 * once, naming the lock; a plain read before a commit is no obstacle. */
static void test_calls_in_locking_transactions(void **state)
{
    it_env *e = *state;
    assert_true(it_okf(e, "INSERT INTO bucket (name) VALUES ('%s')", bucket_name("locked")));
    it_expect_commit(e, 1, "create");
    PGconn *c = session(e);
    struct {
        const char *lock, *call, *names;
    } cases[] = {
        {"SELECT * FROM bucket WHERE name LIKE 'lk%-locked' FOR UPDATE",
         "SELECT * FROM iasql_commit()", "bucket (RowShareLock)"},
        {"SELECT * FROM bucket WHERE name LIKE 'lk%-locked' FOR SHARE",
         "SELECT * FROM iasql_sync()", "bucket (RowShareLock)"},
        {"UPDATE aws_regions SET is_enabled = is_enabled WHERE region = 'us-east-1'",
         "SELECT * FROM iasql_install('aws_sns')", "aws_regions (RowExclusiveLock)"},
        {"SELECT count(*) FROM bucket", "SELECT * FROM iasql_uninstall('aws_s3')",
         "bucket (AccessShareLock)"},
        {"LOCK TABLE queue IN SHARE MODE", "SELECT * FROM iasql_rollback()", "queue (ShareLock)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(c, "BEGIN");
        run(c, cases[i].lock);
        double t0 = it_now_s();
        const char *msg = it_conn_error(c, cases[i].call);
        double took = it_now_s() - t0;
        if (!msg ||
            !strstr(msg, "cannot run in a transaction that holds locks on iasql's tables") ||
            !strstr(msg, cases[i].names) || !strstr(msg, "COMMIT or ROLLBACK first"))
            fail_msg("%s after %s: %s", cases[i].call, cases[i].lock, msg ? msg : "no error");
        if (took > 2.0)
            fail_msg("%s took %.1f s to be refused", cases[i].call, took);
        run(c, "ROLLBACK");
    }
    /* reading is no obstacle to a commit */
    run(c, "BEGIN");
    run(c, "SELECT count(*) FROM bucket");
    run(c, "SELECT * FROM iasql_commit()");
    run(c, "COMMIT");
    /* nothing was installed or uninstalled */
    assert_string_equal(it_value(e, "SELECT string_agg(name, ',' ORDER BY name) FROM iasql_module"),
                        "aws_account,aws_s3,aws_sqs");
    PQfinish(c);
}

/* An idle transaction holding a row lock, then one holding a table lock:
 * the commit goes through without waiting on the row (and for at most
 * lock_timeout on the table), another session's preview answers at once,
 * the write-back it could not make says who blocked it, and the next
 * commit makes it. */
static void test_idle_lock_does_not_stall(void **state)
{
    it_env *e = *state;
    assert_true(
        it_admin_ok(e, "UPDATE iasql_config SET value = '1' WHERE key = 'lock_timeout_seconds'"));
    assert_int_equal(it_stop_engine(e), 0);
    assert_int_equal(it_start_engine(e), 0);
    char row_b[96], table_b[96], sql[512];
    snprintf(row_b, sizeof row_b, "%s", bucket_name("idle-row"));
    snprintf(table_b, sizeof table_b, "%s", bucket_name("idle-table"));
    assert_true(it_okf(e, "INSERT INTO bucket (name) VALUES ('%s')", row_b));
    PGconn *idle = session(e), *other = session(e);
    char *pid = value_on(idle, "SELECT pg_backend_pid()::text");
    run(idle, "BEGIN");
    snprintf(sql, sizeof sql, "SELECT * FROM bucket WHERE name = '%s' FOR UPDATE", row_b);
    run(idle, sql);
    double t0 = it_now_s();
    char *res = commit_text(e, "SELECT * FROM iasql_commit()");
    double took = it_now_s() - t0;
    if (took > 3.0)
        fail_msg("the commit took %.1f s beside an idle row lock", took);
    char want[128];
    snprintf(want, sizeof want, "the row is locked by session %s (role iasql_app", pid);
    if (!strstr(res, "create") || !strstr(res, want))
        fail_msg("commit result: %s", res);
    free(res);
    assert_true(it_cloud_has_bucket(e->emulator, row_b));
    t0 = it_now_s();
    run(other, "SELECT * FROM iasql_preview()");
    if (it_now_s() - t0 > 1.5)
        fail_msg("another session's preview took %.1f s", it_now_s() - t0);
    assert_string_equal(
        it_valf(e, "SELECT created_at IS NULL FROM bucket WHERE name = '%s'", row_b), "t");
    assert_non_null(
        strstr(it_value(e, "SELECT message FROM iasql_errors ORDER BY id DESC LIMIT 1"), want));
    run(idle, "ROLLBACK");
    /* the next commit writes it back */
    PGresult *r = it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL);
    PQclear(r);
    assert_string_equal(
        it_valf(e, "SELECT created_at IS NULL FROM bucket WHERE name = '%s'", row_b), "f");

    /* a table lock: the write-back waits lock_timeout (1 s), no more */
    assert_true(it_okf(e, "INSERT INTO bucket (name) VALUES ('%s')", table_b));
    run(idle, "BEGIN");
    run(idle, "LOCK TABLE bucket IN EXCLUSIVE MODE");
    t0 = it_now_s();
    res = commit_text(e, "SELECT * FROM iasql_commit()");
    took = it_now_s() - t0;
    if (took > 4.0)
        fail_msg("the commit took %.1f s beside an idle table lock", took);
    snprintf(want, sizeof want, "the table is locked past lock_timeout by session %s", pid);
    if (!strstr(res, want))
        fail_msg("commit result: %s", res);
    free(res);
    assert_true(it_cloud_has_bucket(e->emulator, table_b));
    t0 = it_now_s();
    run(other, "SELECT * FROM iasql_preview()");
    if (it_now_s() - t0 > 1.5)
        fail_msg("another session's preview took %.1f s", it_now_s() - t0);
    run(idle, "ROLLBACK");
    r = it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL);
    PQclear(r);
    assert_string_equal(
        it_valf(e, "SELECT created_at IS NULL FROM bucket WHERE name = '%s'", table_b), "f");
    /* exactly one of each in the cloud, and no change left */
    char prefix[64];
    snprintf(prefix, sizeof prefix, "lk%d-idle-", (int)getpid());
    assert_int_equal(it_cloud_count_prefix(e->emulator, prefix), 2);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    free(pid);
    PQfinish(idle);
    PQfinish(other);
}

/* A DDL step blocked by another session's lock fails after lock_timeout,
 * naming that session, and leaves nothing half done. */
static void test_blocked_install_names_the_session(void **state)
{
    it_env *e = *state;
    assert_true(
        it_admin_ok(e, "UPDATE iasql_config SET value = '1' WHERE key = 'lock_timeout_seconds'"));
    assert_int_equal(it_stop_engine(e), 0);
    assert_int_equal(it_start_engine(e), 0);
    PGconn *idle = session(e);
    char *pid = value_on(idle, "SELECT pg_backend_pid()::text");
    run(idle, "BEGIN");
    run(idle, "UPDATE aws_regions SET is_enabled = is_enabled WHERE region = 'us-east-1'");
    double t0 = it_now_s();
    const char *msg = it_sql_error(e, "SELECT * FROM iasql_install('aws_sns')");
    double took = it_now_s() - t0;
    char want[64];
    snprintf(want, sizeof want, "session %s (role iasql_app", pid);
    if (!msg || !strstr(msg, "waited lock_timeout_seconds") || !strstr(msg, want))
        fail_msg("install beside a lock: %s", msg ? msg : "no error");
    if (took > 4.0)
        fail_msg("the install took %.1f s to give up", took);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_module WHERE name = 'aws_sns'"),
                        "0");
    run(idle, "ROLLBACK");
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_sns')", 0, NULL));
    free(pid);
    PQfinish(idle);
}

/* An install whose caller is terminated while the engine waits for a lock
 * never takes effect, though the lock is let go in time. */
static void test_install_of_a_caller_gone(void **state)
{
    it_env *e = *state;
    PGconn *blocker = session(e), *caller = session(e);
    char *pid = value_on(caller, "SELECT pg_backend_pid()::text");
    run(blocker, "BEGIN");
    run(blocker, "UPDATE aws_regions SET is_enabled = is_enabled WHERE region = 'us-east-1'");
    assert_int_equal(PQsendQuery(caller, "SELECT * FROM iasql_install('aws_sns')"), 1);
    /* the engine has taken the request and waits on the blocker's lock */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM iasql_rpc WHERE caller_pid = %s AND status = 'working'", pid);
    const char *v = NULL;
    for (int i = 0; i < 100 && !((v = it_admin_value(e, sql)) && strcmp(v, "1") == 0); i++)
        it_sleep_ms(20);
    assert_string_equal(v, "1");
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%s)", pid);
    assert_string_equal(it_admin_value(e, sql), "t");
    it_sleep_ms(300);
    run(blocker, "ROLLBACK");
    snprintf(sql, sizeof sql, "SELECT status FROM iasql_rpc WHERE caller_pid = %s", pid);
    for (int i = 0; i < 100 && (v = it_admin_value(e, sql)) && strcmp(v, "working") == 0; i++)
        it_sleep_ms(50);
    assert_string_equal(v, "failed");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_module WHERE name = 'aws_sns'"),
                        "0");
    assert_true(it_log_count(e, "went away or rolled back before the install was done") >= 1);
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_sns')", 0, NULL));
    free(pid);
    PQfinish(blocker);
    PQfinish(caller);
}

/* Uninstall within a second of a change: refused, naming the change;
 * discarded on request; nothing comes back after a re-install. */
static void test_uninstall_after_change(void **state)
{
    it_env *e = *state;
    char q1[96], q2[96];
    snprintf(q1, sizeof q1, "%s", queue_name("new"));
    snprintf(q2, sizeof q2, "%s", queue_name("tagged"));
    assert_true(it_okf(e, "INSERT INTO queue (name) VALUES ('%s')", q2));
    it_expect_commit(e, 1, "create");

    assert_true(it_okf(e, "INSERT INTO queue (name) VALUES ('%s')", q1));
    assert_true(it_okf(e, "UPDATE queue SET tags = '{\"team\": \"a\"}' WHERE name = '%s'", q2));
    const char *msg = it_sql_error(e, "SELECT * FROM iasql_uninstall('aws_sqs')");
    if (!msg || !strstr(msg, "2 changes are pending in the tables it drops") ||
        !strstr(msg, "will create queue") || !strstr(msg, "will update queue") ||
        !strstr(msg, "iasql_uninstall_discard()"))
        fail_msg("uninstall with pending changes: %s", msg ? msg : "no error");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_module WHERE name = 'aws_sqs'"),
                        "1");

    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall_discard('aws_sqs')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_sqs')", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    PGresult *r = it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    /* the discarded create never happened; the committed queue is one row
     * and one queue, with the tags the cloud has */
    json_t *gone = it_cloud_queue(e, q1);
    assert_null(gone);
    json_t *q = it_cloud_queue(e, q2);
    assert_non_null(q);
    assert_null(json_object_get(json_object_get(q, "tags"), "team"));
    json_decref(q);
    assert_string_equal(it_valf(e, "SELECT count(*) FROM queue WHERE name IN ('%s', '%s')", q1, q2),
                        "1");
    /* an uninstall with nothing pending goes through */
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_sqs')", 0, NULL));
}

/* The same with an instance: a tag UPDATE, then an uninstall of aws_ec2,
 * re-install and commit, must not leave two instances for one row. */
static void test_uninstall_after_instance_change(void **state)
{
    it_env *e = *state;
    char run[32];
    snprintf(run, sizeof run, "lk%d", (int)getpid());
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_ec2')", 0, NULL));
    assert_true(it_okf(e,
                       "INSERT INTO vpc (cidr_block, tags) VALUES ('10.64.0.0/16', "
                       "'{\"run\": \"%s\"}')",
                       run));
    assert_true(it_okf(e,
                       "INSERT INTO subnet (vpc, cidr_block, availability_zone) SELECT id, "
                       "'10.64.1.0/24', 'us-east-1a' FROM vpc WHERE tags->>'run' = '%s'",
                       run));
    assert_true(it_okf(e,
                       "INSERT INTO instance (ami, instance_type, subnet, tags) SELECT "
                       "'ami-12c6146b', 't2.micro', s.id, '{\"run\": \"%s\"}' FROM subnet s "
                       "JOIN vpc v ON v.id = s.vpc WHERE v.tags->>'run' = '%s'",
                       run, run));
    PGresult *r = it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    PQclear(r);
    assert_true(it_okf(e,
                       "UPDATE instance SET tags = '{\"run\": \"%s\", \"stage\": \"2\"}' "
                       "WHERE tags->>'run' = '%s'",
                       run, run));
    const char *msg = it_sql_error(e, "SELECT * FROM iasql_uninstall('aws_ec2')");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "will update instance"));
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall_discard('aws_ec2')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_ec2')", 0, NULL));
    r = it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    char *x = it_ec2(e,
                     "Action=DescribeInstances&Filter.1.Name=tag:run&Filter.1.Value.1=%s&"
                     "Filter.2.Name=instance-state-name&Filter.2.Value.1=running",
                     run);
    int n = it_count(x, "<instanceId>");
    free(x);
    assert_int_equal(n, 1);
    assert_string_equal(it_valf(e, "SELECT count(*) FROM instance WHERE tags->>'run' = '%s'", run),
                        "1");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
}

/* What an iasql transaction owns: its holder's commit carries the
 * changes made in its session, and another session's wait for the next
 * ordinary commit. */
static void test_transaction_owns_its_session(void **state)
{
    it_env *e = *state;
    char mine[96], theirs[96];
    snprintf(mine, sizeof mine, "%s", queue_name("mine"));
    snprintf(theirs, sizeof theirs, "%s", queue_name("theirs"));
    PGconn *holder = session(e);
    char *tx = value_on(holder, "SELECT transaction_id FROM iasql_begin()");
    char sql[512];
    snprintf(sql, sizeof sql, "INSERT INTO queue (name) VALUES ('%s')", mine);
    run(holder, sql);
    assert_true(it_okf(e, "INSERT INTO queue (name) VALUES ('%s')", theirs));
    PGresult *r = PQexec(holder, "SELECT action, description FROM iasql_commit()");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    assert_non_null(strstr(PQgetvalue(r, 0, 1), mine));
    PQclear(r);
    json_t *q = it_cloud_queue(e, mine);
    assert_non_null(q);
    json_decref(q);
    assert_null(it_cloud_queue(e, theirs));
    snprintf(sql, sizeof sql,
             "SELECT transaction_id::text FROM iasql_commits ORDER BY id DESC LIMIT 1");
    assert_string_equal(it_value(e, sql), tx);
    /* the other session's change waits, and goes with the next commit */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "1");
    it_expect_commit(e, 1, "create");
    q = it_cloud_queue(e, theirs);
    assert_non_null(q);
    json_decref(q);
    free(tx);

    /* the holder's rollback discards its own changes, not the others' */
    tx = value_on(holder, "SELECT transaction_id FROM iasql_begin()");
    snprintf(sql, sizeof sql, "INSERT INTO queue (name) VALUES ('%s-2')", mine);
    run(holder, sql);
    assert_true(it_okf(e, "INSERT INTO queue (name) VALUES ('%s-2')", theirs));
    r = PQexec(holder, "SELECT action, description FROM iasql_rollback()");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    assert_non_null(strstr(PQgetvalue(r, 0, 1), mine));
    PQclear(r);
    assert_string_equal(it_valf(e, "SELECT count(*) FROM queue WHERE name = '%s-2'", mine), "0");
    assert_string_equal(it_valf(e, "SELECT count(*) FROM queue WHERE name = '%s-2'", theirs), "1");
    snprintf(sql, sizeof sql, "SELECT status FROM iasql_transactions WHERE id = %s", tx);
    assert_string_equal(it_value(e, sql), "rolled back");
    it_expect_commit(e, 1, "create");
    free(tx);
    PQfinish(holder);
}

/* A holder killed with changes made: auto-apply leaves them, the errors
 * and iasql_status say so, and an explicit commit applies them. */
static void test_dead_holder_not_applied(void **state)
{
    it_env *e = *state;
    assert_int_equal(it_stop_engine(e), 0);
    e->auto_apply = "1";
    assert_int_equal(it_start_engine(e), 0);
    char dead[96];
    snprintf(dead, sizeof dead, "%s", queue_name("dead"));
    PGconn *holder = session(e);
    char *tx = value_on(holder, "SELECT transaction_id FROM iasql_begin()");
    char *pid = value_on(holder, "SELECT pg_backend_pid()::text");
    char sql[512];
    snprintf(sql, sizeof sql, "INSERT INTO queue (name) VALUES ('%s')", dead);
    run(holder, sql);
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%s)", pid);
    assert_string_equal(it_admin_value(e, sql), "t");
    PQfinish(holder);
    snprintf(sql, sizeof sql, "SELECT status FROM iasql_transactions WHERE id = %s", tx);
    const char *v = NULL;
    for (int i = 0; i < 100 && !((v = it_value(e, sql)) && strcmp(v, "abandoned") == 0); i++)
        it_sleep_ms(50);
    assert_string_equal(v, "abandoned");
    it_sleep_ms(3000); /* three auto-apply ticks */
    assert_null(it_cloud_queue(e, dead));
    char listed[64];
    snprintf(listed, sizeof listed, "{%s}", tx);
    assert_string_equal(it_value(e, "SELECT abandoned_with_changes::text FROM iasql_status"),
                        listed);
    snprintf(
        sql, sizeof sql,
        "SELECT count(*) FROM iasql_get_errors() WHERE message LIKE 'iasql transaction %s %%ended "
        "without iasql_commit() or iasql_rollback(): its changes stay pending%%'",
        tx);
    assert_string_equal(it_value(e, sql), "1");
    it_expect_commit(e, 1, "create");
    json_t *q = it_cloud_queue(e, dead);
    assert_non_null(q);
    json_decref(q);
    assert_string_equal(
        it_value(e, "SELECT coalesce(abandoned_with_changes::text, '') FROM iasql_status"), "");
    assert_int_equal(it_stop_engine(e), 0);
    e->auto_apply = NULL;
    assert_int_equal(it_start_engine(e), 0);
    free(tx);
    free(pid);
}

/* A JSON object of n tags k0..k(n-1), valued with this run's pid. */
static char *tags_json(int n)
{
    char *s = malloc(64 + (size_t)n * 32);
    size_t len = (size_t)sprintf(s, "{");
    for (int i = 0; i < n; i++)
        len += (size_t)sprintf(s + len, "%s\"k%d\": \"%d\"", i ? ", " : "", i, (int)getpid());
    sprintf(s + len, "}");
    return s;
}

/* The limits count what the engine adds, per service, in their names. */
static void test_tag_limits_count_the_engines(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_vpc')", 0, NULL));
    char *t48 = tags_json(48), *t49 = tags_json(49), *t50 = tags_json(50);
    char q[96];
    snprintf(q, sizeof q, "%s", queue_name("tags"));
    struct {
        const char *fmt, *tags, *rule;
    } bad[] = {
        {"INSERT INTO vpc (cidr_block, tags) VALUES ('10.9.0.0/16', '%s')", t49,
         "vpc_tags_max_48_plus_iasql_owner_and_token"},
        {"INSERT INTO queue (name, tags) VALUES ('lk-tags-x', '%s')", t50,
         "queue_tags_max_49_plus_iasql_owner"},
        {"INSERT INTO bucket (name, tags) VALUES ('lk-tags-x', '%s')", t50,
         "bucket_tags_max_49_plus_iasql_owner"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char sql[4096];
        snprintf(sql, sizeof sql, bad[i].fmt, bad[i].tags);
        const char *msg = it_sql_error(e, sql);
        if (!msg || !strstr(msg, bad[i].rule) || !strstr(msg, "iasql adds"))
            fail_msg("%s: %s", bad[i].rule, msg ? msg : "accepted");
    }
    assert_true(it_okf(e, "INSERT INTO vpc (cidr_block, tags) VALUES ('10.9.0.0/16', '%s')", t48));
    assert_true(it_okf(e, "INSERT INTO queue (name, tags) VALUES ('%s', '%s')", q, t49));
    /* an update is held to the same limit */
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE vpc SET tags = tags || '{\"one\": \"more\"}' WHERE tags->>'k0' = '%d'",
             (int)getpid());
    const char *msg = it_sql_error(e, sql);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "vpc_tags_max_48_plus_iasql_owner_and_token"));
    it_expect_commit(e, 2, "create");
    /* AWS's 50, exactly: the user's and the engine's */
    json_t *cq = it_cloud_queue(e, q);
    assert_non_null(cq);
    assert_int_equal(json_object_size(json_object_get(cq, "tags")), 50);
    json_decref(cq);
    char *xml =
        it_ec2(e, "Action=DescribeVpcs&VpcId.1=%s",
               it_valf(e, "SELECT vpc_id FROM vpc WHERE tags->>'k0' = '%d'", (int)getpid()));
    int keys = it_count(xml, "<key>");
    assert_int_equal(keys, 50);
    free(xml);
    free(t48);
    free(t49);
    free(t50);
}

/* A row in a region marked disabled is refused at INSERT and UPDATE. */
static void test_disabled_region_refused(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e,
                      "INSERT INTO aws_regions (region, is_enabled) VALUES ('eu-west-3', false) "
                      "ON CONFLICT (region) DO UPDATE SET is_enabled = false",
                      0, NULL));
    const char *msg =
        it_sql_error(e, "INSERT INTO queue (name, region) VALUES ('lk-off', 'eu-west-3')");
    if (!msg || !strstr(msg, "region eu-west-3 is not enabled") || !strstr(msg, "queue row") ||
        !strstr(msg, "queue_region_enabled") ||
        !strstr(msg, "UPDATE aws_regions SET is_enabled = true"))
        fail_msg("insert into a disabled region: %s", msg ? msg : "accepted");
    assert_true(it_ok(e, "INSERT INTO queue (name) VALUES ('lk-on')", 0, NULL));
    msg = it_sql_error(e, "UPDATE queue SET region = 'eu-west-3' WHERE name = 'lk-on'");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "region eu-west-3 is not enabled"));
    /* enabled, it goes */
    assert_true(
        it_ok(e, "UPDATE aws_regions SET is_enabled = true WHERE region = 'eu-west-3'", 0, NULL));
    assert_true(it_ok(e, "UPDATE queue SET region = 'eu-west-3' WHERE name = 'lk-on'", 0, NULL));

    /* Another session has already planned its capture (the disabled regions
     * folded in as a constant); a region disabled by this one afterwards is
     * refused there too, and enabled again, goes. */
    PGconn *other = session(e);
    run(other, "INSERT INTO queue (name, region) VALUES ('lk-other-1', 'eu-west-3')");
    assert_true(
        it_ok(e, "UPDATE aws_regions SET is_enabled = false WHERE region = 'eu-west-3'", 0, NULL));
    refused_on(other, "INSERT INTO queue (name, region) VALUES ('lk-other-2', 'eu-west-3')",
               "region eu-west-3 is not enabled");
    run(other, "INSERT INTO queue (name) VALUES ('lk-other-3')");
    assert_true(
        it_ok(e, "UPDATE aws_regions SET is_enabled = true WHERE region = 'eu-west-3'", 0, NULL));
    run(other, "INSERT INTO queue (name, region) VALUES ('lk-other-2', 'eu-west-3')");

    /* Two sessions changing aws_regions at once both go, one after the other. */
    run(other, "BEGIN");
    run(other, "UPDATE aws_regions SET is_enabled = false WHERE region = 'eu-west-3'");
    PGconn *third = session(e);
    assert_int_equal(PQsendQuery(third, "INSERT INTO aws_regions (region, is_enabled) VALUES "
                                        "('ap-east-1', false) ON CONFLICT (region) DO UPDATE "
                                        "SET is_enabled = false"),
                     1);
    it_sleep_ms(300);
    run(other, "COMMIT");
    PGresult *r;
    bool ok = true;
    while ((r = PQgetResult(third))) {
        ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            fprintf(stderr, "concurrent aws_regions change: %s", PQresultErrorMessage(r));
        PQclear(r);
    }
    assert_true(ok);
    refused_on(third, "INSERT INTO queue (name, region) VALUES ('lk-third', 'ap-east-1')",
               "region ap-east-1 is not enabled");
    refused_on(e->db, "INSERT INTO queue (name, region) VALUES ('lk-third', 'eu-west-3')",
               "region eu-west-3 is not enabled");
    PQfinish(third);
    PQfinish(other);
    assert_true(
        it_ok(e, "UPDATE aws_regions SET is_enabled = true WHERE region = 'eu-west-3'", 0, NULL));
}

/* A resource made again (a rollback re-creates a deleted VPC) is described
 * by its new id, the one its row holds, in the result and the commit. */
static void test_remade_resource_named_by_new_id(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_vpc')", 0, NULL));
    char run[32];
    snprintf(run, sizeof run, "lk%d-remade", (int)getpid());
    assert_true(it_okf(e,
                       "INSERT INTO vpc (cidr_block, tags) VALUES ('10.7.0.0/16', "
                       "'{\"run\": \"%s\"}')",
                       run));
    it_expect_commit(e, 1, "create");
    const char *one = it_value(e, "SELECT max(id)::text FROM iasql_commits");
    char first[32], old_id[64];
    snprintf(first, sizeof first, "%s", one);
    snprintf(old_id, sizeof old_id, "%s",
             it_valf(e, "SELECT vpc_id FROM vpc WHERE tags->>'run' = '%s'", run));
    assert_true(it_okf(e, "DELETE FROM vpc WHERE tags->>'run' = '%s'", run));
    it_expect_commit(e, 1, "delete");
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT * FROM iasql_rollback(%s)", first);
    char *res = commit_text(e, sql);
    const char *new_id = it_valf(e, "SELECT vpc_id FROM vpc WHERE tags->>'run' = '%s'", run);
    assert_non_null(new_id);
    assert_string_not_equal(new_id, old_id);
    if (!strstr(res, new_id) || strstr(res, old_id))
        fail_msg("rollback result names %s, the row holds %s: %s", old_id, new_id, res);
    free(res);
}

/* A commit message past 4096 bytes is refused with what to do; the change
 * stays pending; 4096 bytes go. */
static void test_commit_message_capped(void **state)
{
    it_env *e = *state;
    char b[96];
    snprintf(b, sizeof b, "%s", bucket_name("message"));
    assert_true(it_okf(e, "INSERT INTO bucket (name) VALUES ('%s')", b));
    const char *msg = it_sql_error(e, "SELECT * FROM iasql_commit(repeat('x', 10 * 1024 * 1024))");
    if (!msg || !strstr(msg, "the commit message is 10485760 bytes long; the most is 4096"))
        fail_msg("10 MB message: %s", msg ? msg : "accepted");
    assert_false(it_cloud_has_bucket(e->emulator, b));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "1");
    PGresult *r = it_sql(e, "SELECT * FROM iasql_commit(repeat('y', 4096))", 0, NULL);
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 1);
    PQclear(r);
    assert_string_equal(
        it_value(e, "SELECT length(message) FROM iasql_commits ORDER BY id DESC LIMIT 1"), "4096");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_calls_in_locking_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_lock_does_not_stall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocked_install_names_the_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_install_of_a_caller_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uninstall_after_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uninstall_after_instance_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transaction_owns_its_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_holder_not_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tag_limits_count_the_engines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_region_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remade_resource_named_by_new_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_message_capped, setup, teardown),
    };
    return cmocka_run_group_tests_name("integration: user locks and races", tests, NULL, NULL);
}
