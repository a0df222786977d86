/* tests/security/sec_roles.c — the attacks of an ordinary login role, each
 * asserted to be refused (docs/security.md). mallory is a login role with no
 * grant at all; iasql_app is an application granted iasql_user, which may
 * use iasql but not act as the engine, read another session's answers or
 * rewrite secrets. Everything runs under scram-sha-256, with the cloud
 * checked through the S3 API. */
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
    return it_fixture(state, "sec", true);
}
static int teardown(void **state)
{
    return it_fixture_end(state);
}

static char vbuf[8192];

/* A connection to the test database as user, with extra conninfo. */
static PGconn *login(it_env *e, const char *user, const char *extra)
{
    char ci[1200];
    snprintf(ci, sizeof ci, "%s dbname=%s user=%s %s", getenv("IASQL_PG_CONNINFO"), e->dbname, user,
             extra ? extra : "");
    PGconn *c = PQconnectdb(ci);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot log in as %s: %s", user, PQerrorMessage(c));
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    return c;
}

/* The first value of sql on c; fails the test when sql fails. */
static const char *val_of(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    const char *out = NULL;
    if (PQntuples(r) && !PQgetisnull(r, 0, 0)) {
        snprintf(vbuf, sizeof vbuf, "%s", PQgetvalue(r, 0, 0));
        out = vbuf;
    }
    PQclear(r);
    return out;
}

static void expect_denied(PGconn *c, const char *sql)
{
    const char *msg = it_conn_error(c, sql);
    if (!msg || !strstr(msg, "permission denied"))
        fail_msg("%s: expected permission denied, got %s", sql, msg ? msg : "success");
}

/* A committed bucket that the attacks try to reach. */
static void victim(it_env *e, char *name, size_t n)
{
    static int count;
    snprintf(name, n, "sec-victim-%d-%d", (int)getpid(), ++count);
    const char *p[] = {name};
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, p));
    it_expect_commit(e, 1, "create");
    assert_true(it_cloud_has_bucket(e->emulator, name));
}

/* mallory reads, writes and locks nothing of iasql's, and calls nothing. */
static void test_mallory_gets_nothing(void **state)
{
    it_env *e = *state;
    char name[64];
    victim(e, name, sizeof name);
    PGconn *m = login(e, "mallory", NULL);
    const char *denied[] = {
        "SELECT * FROM iasql_config",
        "SELECT * FROM iasql_audit_log",
        "SELECT * FROM iasql_commits",
        "SELECT * FROM iasql_rpc",
        "SELECT * FROM iasql_rpc_login",
        "SELECT * FROM iasql_secret",
        "SELECT * FROM bucket",
        "INSERT INTO bucket (name) VALUES ('mallory-bucket')",
        "DELETE FROM bucket",
        "BEGIN; LOCK TABLE bucket IN ACCESS EXCLUSIVE MODE",
        "SELECT * FROM iasql_commit()",
        "SELECT * FROM iasql_preview()",
        "SELECT * FROM iasql_install('aws_sqs')",
        "SELECT * FROM iasql_begin()",
        "SELECT iasql_rpc_submit('uninstall', '{aws_s3}', 1)",
        "SELECT iasql_rpc_answer(1)",
        "SELECT iasql_rpc_connect(repeat('a', 64))",
        "SELECT iasql_secret_put('parameter', 1, 'value', 'x')",
        "SELECT iasql_secret_drop('parameter', 1)",
        "SELECT nextval('iasql_row_id_seq')",
    };
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        expect_denied(m, denied[i]);
        if (strncmp(denied[i], "BEGIN", 5) == 0)
            PQclear(PQexec(m, "ROLLBACK"));
    }
    PQfinish(m);
    assert_true(it_cloud_has_bucket(e->emulator, name));
}

/* The capture triggers are SECURITY DEFINER: nobody may attach them to a
 * table of their own (to run their code as the engine, or to forge audit
 * rows for a table named like a resource table), and if a superuser does,
 * they refuse to run there. */
static void test_capture_triggers_not_attachable(void **state)
{
    it_env *e = *state;
    char name[64];
    victim(e, name, sizeof name);
    const char *users[] = {"mallory", "iasql_app"};
    for (int u = 0; u < 2; u++) {
        PGconn *c = login(e, users[u], NULL);
        assert_null(it_conn_error(c, "CREATE TYPE pg_temp.mood AS ENUM ('x')"));
        assert_null(
            it_conn_error(c, "CREATE TEMP TABLE bucket (id bigint, name text, m pg_temp.mood)"));
        const char *attach[] = {
            "CREATE TRIGGER t AFTER INSERT ON pg_temp.bucket REFERENCING NEW TABLE AS iasql_new "
            "FOR EACH STATEMENT EXECUTE FUNCTION public.iasql_capture_insert_bucket()",
            "CREATE TRIGGER t AFTER DELETE ON pg_temp.bucket REFERENCING OLD TABLE AS iasql_old "
            "FOR EACH STATEMENT EXECUTE FUNCTION public.iasql_capture_delete_bucket()",
            "CREATE TRIGGER t AFTER UPDATE ON pg_temp.bucket REFERENCING OLD TABLE AS iasql_old "
            "NEW TABLE AS iasql_new FOR EACH STATEMENT EXECUTE FUNCTION "
            "public.iasql_capture_update_bucket()",
        };
        for (int i = 0; i < 3; i++)
            expect_denied(c, attach[i]);
        /* forge a create and a delete of the victim's row id: nothing is captured */
        char sql[256];
        snprintf(
            sql, sizeof sql,
            "INSERT INTO pg_temp.bucket SELECT id, name, 'x' FROM public.bucket WHERE name = '%s'",
            name);
        if (u == 1) {
            assert_null(it_conn_error(c, sql));
            assert_null(it_conn_error(c, "DELETE FROM pg_temp.bucket"));
        }
        PQfinish(c);
    }
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* Even attached by a superuser, the trigger refuses a table that is not
     * an installed module's, and writes no audit row. */
    PGconn *a = PQconnectdb(e->admin_conninfo);
    PQclear(PQexec(a, "SET client_min_messages = warning"));
    assert_null(it_conn_error(a, "CREATE TEMP TABLE bucket (id bigint, name text)"));
    assert_null(it_conn_error(
        a,
        "CREATE TRIGGER t AFTER INSERT ON pg_temp.bucket REFERENCING NEW TABLE "
        "AS iasql_new FOR EACH STATEMENT EXECUTE FUNCTION public.iasql_capture_insert_bucket()"));
    const char *msg = it_conn_error(a, "INSERT INTO pg_temp.bucket VALUES (1, 'forged')");
    assert_non_null(msg);
    assert_non_null(
        strstr(msg, "iasql triggers run only on the resource tables of installed modules"));
    PQfinish(a);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log "
                                    "WHERE new_row->>'name' = 'forged'"),
                        "0");
    it_expect_commit(e, 0, NULL);
    assert_true(it_cloud_has_bucket(e->emulator, name));
}

/* The look-alikes of test_hostile_search_path: each calls evil.spy, which
 * raises a WARNING naming who ran it (a warning reaches the client even
 * when the statement then fails), and then does what the real one does. */
static const char *const hostile_ops[][5] = {
    /* operator, left, right, result, what the real one is */
    {"=", "pg_catalog.text", "pg_catalog.text", "boolean", "a OPERATOR(pg_catalog.=) b"},
    {"<>", "pg_catalog.text", "pg_catalog.text", "boolean", "a OPERATOR(pg_catalog.<>) b"},
    {"=", "pg_catalog.name", "pg_catalog.name", "boolean", "a OPERATOR(pg_catalog.=) b"},
    {"<>", "pg_catalog.name", "pg_catalog.name", "boolean", "a OPERATOR(pg_catalog.<>) b"},
    {"=", "pg_catalog.int8", "pg_catalog.int8", "boolean", "a OPERATOR(pg_catalog.=) b"},
    {"~", "pg_catalog.text", "pg_catalog.text", "boolean", "a OPERATOR(pg_catalog.~) b"},
    {"||", "pg_catalog.text", "pg_catalog.text", "pg_catalog.text", "a OPERATOR(pg_catalog.||) b"},
    {"=", "record", "record", "boolean", "a OPERATOR(pg_catalog.=) b"},
    {"=", "public.bucket", "public.bucket", "boolean", "a OPERATOR(pg_catalog.=) b"},
};
static const char *const hostile_functions[][3] = {
    /* name and arguments, result, what it returns */
    {"to_json(a record)", "pg_catalog.json", "pg_catalog.to_json(a)"},
    {"to_json(a public.bucket)", "pg_catalog.json", "pg_catalog.to_json(a)"},
    {"current_setting(a pg_catalog.text, b boolean)", "pg_catalog.text",
     "pg_catalog.current_setting(a, b)"},
    {"format(a pg_catalog.text, b pg_catalog.name, c pg_catalog.name)", "pg_catalog.text", "a"},
    /* a forged origin; a row let into a disabled region */
    {"iasql_audit_origin()", "pg_catalog.text", "'cloud'"},
    {"iasql_session_transaction()", "pg_catalog.int8", "NULL"},
    {"iasql_region_refused(a pg_catalog.text, b pg_catalog.int8, c pg_catalog.text)",
     "pg_catalog.json", "NULL"},
    {"iasql_capture_check(a pg_catalog.oid)", "pg_catalog.void", ""},
};
static const char *const hostile_types[] = {"text", "int8", "json", "name"};
/* relations named like the capture functions' own, and what they copy:
 * every region enabled in the look-alike aws_regions */
static const char *const hostile_relations[][2] = {
    {"iasql_audit_log", "iasql_audit_log"},
    {"aws_regions", "aws_regions"},
    {"iasql_tables", "iasql_tables"},
    {"iasql_new", "bucket"},
    {"iasql_old", "bucket"},
};

/* What the spies said: whether the caller ran one, and every time the
 * engine did. */
static struct {
    bool caller;
    char engine[8192];
} spied;

static void spy_notices(void *arg, const char *message)
{
    (void)arg;
    if (strstr(message, "spied: iasql_app ran"))
        spied.caller = true;
    if (strstr(message, "spied: iasql_engine ran")) {
        size_t n = strlen(spied.engine);
        snprintf(spied.engine + n, sizeof spied.engine - n, "%s", n < 4096 ? message : "...");
    }
}

/* The caller's own schema evil: the spy, the operators and functions. */
static void hostile_schema(PGconn *c)
{
    char sql[1024];
    assert_null(it_conn_error(
        c, "CREATE FUNCTION evil.spy(what pg_catalog.text) RETURNS boolean LANGUAGE plpgsql "
           "SET search_path = pg_catalog AS $$ BEGIN "
           "RAISE WARNING 'spied: % ran %', current_user, what; RETURN true; END $$"));
    for (size_t i = 0; i < sizeof hostile_ops / sizeof hostile_ops[0]; i++) {
        const char *const *o = hostile_ops[i];
        snprintf(sql, sizeof sql,
                 "CREATE FUNCTION evil.op_%zu(a %s, b %s) RETURNS %s LANGUAGE plpgsql "
                 "SET search_path = pg_catalog AS $$ BEGIN PERFORM evil.spy('%s %s'); "
                 "RETURN %s; END $$",
                 i, o[1], o[2], o[3], o[0], o[1], o[4]);
        assert_null(it_conn_error(c, sql));
        snprintf(sql, sizeof sql,
                 "CREATE OPERATOR evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = evil.op_%zu)",
                 o[0], o[1], o[2], i);
        assert_null(it_conn_error(c, sql));
    }
    for (size_t i = 0; i < sizeof hostile_functions / sizeof hostile_functions[0]; i++) {
        const char *const *f = hostile_functions[i];
        snprintf(sql, sizeof sql,
                 "CREATE FUNCTION evil.%s RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog "
                 "AS $$ BEGIN PERFORM evil.spy('%s'); RETURN %s; END $$",
                 f[0], f[1], f[0], f[2]);
        assert_null(it_conn_error(c, sql));
    }
}

/* Look-alike relations and type domains in schema s (evil, or the
 * session's pg_temp), which everybody may write. */
static void hostile_lookalikes(PGconn *c, const char *s)
{
    char sql[512];
    for (size_t i = 0; i < sizeof hostile_relations / sizeof hostile_relations[0]; i++) {
        snprintf(sql, sizeof sql,
                 "CREATE TABLE %s.%s AS SELECT * FROM public.%s WITH NO DATA; "
                 "GRANT ALL ON %s.%s TO PUBLIC",
                 s, hostile_relations[i][0], hostile_relations[i][1], s, hostile_relations[i][0]);
        assert_null(it_conn_error(c, sql));
    }
    snprintf(sql, sizeof sql,
             "INSERT INTO %s.aws_regions SELECT * FROM public.aws_regions; "
             "UPDATE %s.aws_regions SET is_enabled = true",
             s, s);
    assert_null(it_conn_error(c, sql));
    for (size_t i = 0; i < sizeof hostile_types / sizeof hostile_types[0]; i++) {
        snprintf(sql, sizeof sql, "CREATE DOMAIN %s.%s AS pg_catalog.%s CHECK (evil.spy('%s.%s'))",
                 s, hostile_types[i], hostile_types[i], s, hostile_types[i]);
        assert_null(it_conn_error(c, sql));
    }
}

/* The capture functions are SECURITY DEFINER and run in the caller's
 * search_path (docs/decisions.md, "Capture cost"). A caller with a schema
 * of its own puts look-alikes of everything they name ahead of the real
 * ones, there and in its pg_temp: type domains whose CHECK calls its code,
 * operators on the types they compare, functions named like the ones they
 * call (one forging the origin, one letting a row into a disabled region
 * through), relations named like theirs. Under two such paths the caller's
 * own statements run them (as the caller), but the capture of its INSERT,
 * UPDATE and DELETE and the refusal of rows in a disabled region never do
 * as the engine, and the audit log has the true rows; a definer function
 * of the engine's that names them unqualified is caught, so the trap
 * works. */
static void test_hostile_search_path(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e,
                      "INSERT INTO aws_regions (region, is_enabled) VALUES ('eu-west-3', false) "
                      "ON CONFLICT (region) DO UPDATE SET is_enabled = false",
                      0, NULL));
    assert_true(it_admin_ok(e, "CREATE SCHEMA evil AUTHORIZATION iasql_app"));
    assert_true(it_admin_ok(e, "GRANT USAGE ON SCHEMA evil TO PUBLIC"));
    const char *paths[] = {"evil, pg_catalog, public", "evil, pg_catalog, pg_temp, public"};
    for (int k = 0; k < 2; k++) {
        PGconn *c = login(e, "iasql_app", NULL);
        if (k == 0) {
            hostile_schema(c);
            hostile_lookalikes(c, "evil");
        }
        hostile_lookalikes(c, "pg_temp");
        char sql[512], name[64];
        snprintf(sql, sizeof sql, "SET search_path = %s", paths[k]);
        assert_null(it_conn_error(c, sql));
        assert_null(it_conn_error(c, "SET iasql.transaction = 'none'"));
        memset(&spied, 0, sizeof spied);
        PQsetNoticeProcessor(c, spy_notices, NULL);
        snprintf(name, sizeof name, "sec-hostile-%d-%d", (int)getpid(), k);
        snprintf(sql, sizeof sql, "INSERT INTO bucket (name, region) VALUES ('%s', 'us-east-1')",
                 name);
        assert_null(it_conn_error(c, sql));
        snprintf(sql, sizeof sql, "UPDATE bucket SET tags = '{\"k\": \"v\"}' WHERE name = '%s'",
                 name);
        assert_null(it_conn_error(c, sql));
        snprintf(sql, sizeof sql, "UPDATE bucket SET region = 'eu-west-3' WHERE name = '%s'", name);
        const char *msg = it_conn_error(c, sql);
        if (!msg || !strstr(msg, "region eu-west-3 is not enabled") ||
            !strstr(msg, "bucket_region_enabled"))
            fail_msg("update into a disabled region: %s", msg ? msg : "accepted");
        snprintf(sql, sizeof sql, "DELETE FROM bucket WHERE name = '%s'", name);
        assert_null(it_conn_error(c, sql));
        snprintf(sql, sizeof sql,
                 "INSERT INTO bucket (name, region) VALUES ('%s-off', 'eu-west-3')", name);
        msg = it_conn_error(c, sql);
        if (!msg || !strstr(msg, "region eu-west-3 is not enabled") || !strstr(msg, "bucket row"))
            fail_msg("insert into a disabled region: %s", msg ? msg : "accepted");
        /* the look-alikes are live (the caller's own statements ran them), the
         * capture never ran them as the engine and wrote only the real log */
        if (!spied.caller || spied.engine[0])
            fail_msg("under search_path %s: the caller's code %s; as the engine: %s", paths[k],
                     spied.caller ? "ran" : "never ran", spied.engine);
        assert_string_equal(
            val_of(c,
                   "SELECT (SELECT pg_catalog.count(*) FROM pg_temp.iasql_audit_log) "
                   "OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM evil.iasql_audit_log)"),
            "0");
        PQfinish(c);
        /* origin user, the true images, no iasql transaction */
        snprintf(sql, sizeof sql,
                 "SELECT string_agg(op || ' ' || origin || ' ' || coalesce(new_row->'tags'->>'k', "
                 "'-') || ' ' || (iasql_tx IS NULL), ', ' ORDER BY id) FROM iasql_audit_log "
                 "WHERE coalesce(new_row, old_row)->>'name' LIKE '%s%%'",
                 name);
        assert_string_equal(it_value(e, sql), "INSERT user - true, UPDATE user v true, "
                                              "DELETE user - true");
    }
    assert_string_equal(it_value(e, "SELECT count(*) FROM bucket WHERE name LIKE 'sec-hostile-%'"),
                        "0");
    /* the trap catches an engine's definer function that names a look-alike */
    assert_true(it_admin_ok(e, "CREATE FUNCTION evil.unsafe() RETURNS boolean LANGUAGE sql "
                               "SECURITY DEFINER AS $$ SELECT 'a'::text = 'b' $$"));
    assert_true(it_admin_ok(e, "ALTER FUNCTION evil.unsafe() OWNER TO iasql_engine"));
    PGconn *c = login(e, "iasql_app", NULL);
    hostile_lookalikes(c, "pg_temp");
    assert_null(it_conn_error(c, "SET search_path = evil, pg_catalog, public"));
    memset(&spied, 0, sizeof spied);
    PQsetNoticeProcessor(c, spy_notices, NULL);
    assert_string_equal(val_of(c, "SELECT evil.unsafe()::pg_catalog.text"), "false");
    PQfinish(c);
    if (!strstr(spied.engine, "spied: iasql_engine ran pg_temp.text") ||
        !strstr(spied.engine, "spied: iasql_engine ran = pg_catalog.text"))
        fail_msg("the unqualified definer function: %s", spied.engine);
    it_expect_commit(e, 0, NULL);
}

/* The RPC role's own login (say its password leaked) files requests, but
 * the engine asks PostgreSQL who holds the request's proof lock: mallory's
 * session, not a member of iasql_user, so nothing is done. */
static void test_rpc_login_cannot_act(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_sqs')", 0, NULL));
    char role[64], pw[128], extra[512];
    snprintf(role, sizeof role, "%s",
             it_admin_value(e, "SELECT value FROM iasql_config "
                               "WHERE key = 'rpc_role'"));
    snprintf(pw, sizeof pw, "%s", it_admin_value(e, "SELECT password FROM iasql_rpc_login"));
    const char *secret = "0123456789abcdef0123456789abcdef";
    snprintf(extra, sizeof extra, "password=%s options='-c iasql.rpc_secret=%s'", pw, secret);
    PGconn *rpc = login(e, role, extra);
    PGconn *m = login(e, "mallory", NULL);
    /* the RPC role may not write resource tables or read the request table */
    expect_denied(rpc, "INSERT INTO bucket (name) VALUES ('rpc-bucket')");
    expect_denied(rpc, "SELECT * FROM iasql_rpc");
    expect_denied(rpc, "SELECT * FROM iasql_commit()");
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT pg_advisory_lock(('x' || left(encode(sha256(convert_to('%s' || ':' || 42, "
             "'UTF8')), 'hex'), 16))::bit(64)::bigint)",
             secret);
    assert_null(it_conn_error(m, sql));
    const char *id = val_of(rpc, "SELECT id FROM iasql_rpc_submit('uninstall', '{aws_sqs}', 42)");
    assert_non_null(id);
    snprintf(sql, sizeof sql, "SELECT status || ': ' || error FROM iasql_rpc_answer(%s)", id);
    const char *ans = NULL;
    for (int i = 0; i < 100; i++) {
        ans = val_of(rpc, sql);
        if (ans && strncmp(ans, "failed", 6) == 0)
            break;
        it_sleep_ms(50);
    }
    assert_non_null(ans);
    if (!strstr(ans, "role mallory may not call iasql functions"))
        fail_msg("answer: %s", ans);
    /* a request nobody holds the proof for is dropped */
    id = val_of(rpc, "SELECT id FROM iasql_rpc_submit('uninstall', '{aws_sqs}', 43)");
    snprintf(sql, sizeof sql, "SELECT status FROM iasql_rpc_answer(%s)", id);
    for (int i = 0; i < 100 && strcmp(val_of(rpc, sql), "cancelled") != 0; i++)
        it_sleep_ms(50);
    assert_string_equal(val_of(rpc, sql), "cancelled");
    PQfinish(m);
    PQfinish(rpc);
    assert_non_null(it_value(e, "SELECT to_regclass('queue')"));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_module WHERE name = 'aws_sqs'"),
                        "1");
}

/* Files a raw request on c's own RPC connection, with c's own proof, and
 * returns the engine's answer "status: error". */
static const char *raw_request(PGconn *c, const char *op, const char *args)
{
    static char out[1024];
    char sql[1024];
    assert_null(
        it_conn_error(c, "SELECT count(*) FROM iasql_modules_list()")); /* opens the connection */
    assert_null(it_conn_error(c, "BEGIN"));
    assert_null(it_conn_error(c, "SELECT pg_advisory_xact_lock(iasql_rpc_lock_key("
                                 "current_setting('iasql.rpc_secret'), 77))"));
    snprintf(sql, sizeof sql,
             "SELECT x.id FROM dblink('iasql_rpc', 'SELECT id FROM iasql_rpc_submit(''%s'', "
             "''%s'', 77)') AS x(id bigint)",
             op, args);
    char id[32];
    snprintf(id, sizeof id, "%s", val_of(c, sql));
    snprintf(sql, sizeof sql,
             "SELECT x.s || ': ' || coalesce(x.e, '') FROM dblink('iasql_rpc', 'SELECT status, "
             "error FROM iasql_rpc_answer(%s)') AS x(s text, e text)",
             id);
    for (int i = 0; i < 200; i++) {
        snprintf(out, sizeof out, "%s", val_of(c, sql));
        if (strncmp(out, "queued", 6) != 0 && strncmp(out, "working", 7) != 0)
            break;
        it_sleep_ms(50);
    }
    assert_null(it_conn_error(c, "COMMIT"));
    return out;
}

/* iasql_app's raw requests are checked by the engine itself: an op it does
 * not serve is refused, and a commit while another session holds the iasql
 * transaction is refused, whatever the SQL wrapper would have said. */
static void test_engine_checks_requests(void **state)
{
    it_env *e = *state;
    PGconn *a = login(e, "iasql_app", NULL);
    PGconn *b = login(e, "iasql_app", NULL);
    const char *ans = raw_request(b, "format_disk", "{}");
    if (!strstr(ans, "failed: there is no iasql request \"format_disk\""))
        fail_msg("answer: %s", ans);
    /* session a opens an iasql transaction and makes a bucket in it */
    char name[64], sql[256];
    snprintf(name, sizeof name, "sec-in-tx-%d", (int)getpid());
    assert_non_null(val_of(a, "SELECT transaction_id FROM iasql_begin()"));
    snprintf(sql, sizeof sql, "INSERT INTO bucket (name) VALUES ('%s')", name);
    assert_null(it_conn_error(a, sql));
    /* session b may not push it out: not through iasql_commit(), not raw */
    const char *msg = it_conn_error(b, "SELECT * FROM iasql_commit()");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "iasql_commit() refused: iasql transaction"));
    ans = raw_request(b, "commit", "{}");
    if (!strstr(ans, "failed: iasql_commit() refused: iasql transaction"))
        fail_msg("answer: %s", ans);
    ans = raw_request(b, "rollback_to", "{1}");
    if (!strstr(ans, "failed: iasql_rollback() refused: iasql transaction"))
        fail_msg("answer: %s", ans);
    assert_false(it_cloud_has_bucket(e->emulator, name));
    /* a's own commit goes through, recorded under its transaction and role */
    assert_string_equal(val_of(a, "SELECT action FROM iasql_commit('in the transaction')"),
                        "create");
    assert_true(it_cloud_has_bucket(e->emulator, name));
    assert_string_equal(it_value(e, "SELECT role || ':' || (transaction_id IS NOT NULL) FROM "
                                    "iasql_commits ORDER BY id DESC LIMIT 1"),
                        "iasql_app:true");
    PQfinish(a);
    PQfinish(b);
}

/* A session reads its own answers only, and no RPC connection's query text
 * shows a session's secret. */
static void test_answers_are_private(void **state)
{
    it_env *e = *state;
    PGconn *a = login(e, "iasql_app", NULL);
    PGconn *b = login(e, "iasql_app", NULL);
    assert_null(it_conn_error(a, "SELECT * FROM iasql_preview()"));
    char id[32], secret[200], sql[512];
    snprintf(id, sizeof id, "%s",
             it_admin_value(e, "SELECT max(id) FROM iasql_rpc WHERE status = 'done'"));
    snprintf(secret, sizeof secret, "%s", val_of(a, "SELECT current_setting('iasql.rpc_secret')"));
    assert_null(it_conn_error(b, "SELECT * FROM iasql_preview()"));
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM dblink('iasql_rpc', 'SELECT status FROM iasql_rpc_answer(%s)') "
             "AS x(s text) WHERE s IS NOT NULL",
             id);
    assert_string_equal(val_of(b, sql), "0");
    assert_string_equal(val_of(a, sql), "1");
    /* what b's RPC connection can see of the others' */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM dblink('iasql_rpc', 'SELECT query FROM pg_stat_activity') "
             "AS x(q text) WHERE q LIKE '%%%s%%'",
             secret);
    assert_string_equal(val_of(b, sql), "0");
    /* and b cannot withdraw a's request either */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM dblink('iasql_rpc', 'SELECT iasql_rpc_cancel(%s)') AS x(s text) "
             "WHERE s IS NOT NULL",
             id);
    assert_string_equal(val_of(b, sql), "0");
    PQfinish(a);
    PQfinish(b);
}

/* Pending secrets change only through the row's own, audited write. */
static void test_secrets_only_through_the_row(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_ssm')", 0, NULL));
    char name[64], sql[256];
    snprintf(name, sizeof name, "sec-param-%d", (int)getpid());
    snprintf(
        sql, sizeof sql,
        "INSERT INTO parameter (name, type, value) VALUES ('%s', 'SecureString', 'Zx9-secret')",
        name);
    assert_true(it_ok(e, sql, 0, NULL));
    PGconn *c = login(e, "iasql_app", NULL);
    expect_denied(c, "SELECT iasql_secret_put('parameter', (SELECT max(id) FROM parameter), "
                     "'value', 'replaced')");
    expect_denied(c, "SELECT iasql_secret_drop('parameter', (SELECT max(id) FROM parameter))");
    assert_null(it_conn_error(c, "CREATE TEMP TABLE parameter (id bigint, type text, value text)"));
    expect_denied(c, "CREATE TRIGGER t BEFORE INSERT ON pg_temp.parameter FOR EACH ROW "
                     "EXECUTE FUNCTION public.parameter_hide_secret()");
    PQfinish(c);
    assert_string_equal(it_admin_value(e, "SELECT value FROM iasql_secret"), "Zx9-secret");
    /* the row's own write is the way, and it is audited */
    snprintf(sql, sizeof sql, "UPDATE parameter SET value = 'Qw8-other' WHERE name = '%s'", name);
    assert_true(it_ok(e, sql, 0, NULL));
    assert_string_equal(it_admin_value(e, "SELECT value FROM iasql_secret"), "Qw8-other");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE "
                                    "table_name = 'parameter' AND origin = 'user'"),
                        "2");
}

/* Advisory locks need no privilege, so mallory takes every key of the old
 * scheme and queues behind the engine's ticket locks: iasql_begin() and the
 * RPC still work, a little slower at worst, and the engine starts again. */
static void test_locks_cannot_stall(void **state)
{
    it_env *e = *state;
    PGconn *m = login(e, "mallory", NULL);
    assert_null(it_conn_error(m,
                              "SELECT pg_advisory_lock(1767993713, 2147483647), "
                              "pg_advisory_lock(1767993713, 0), pg_advisory_lock(1767993713, 1)"));
    /* four sessions queue for four of the engine's ticket keys */
    /* mallory cannot read iasql_status; she finds the engine by its name */
    PGresult *r =
        PQexec(m, "SELECT ((l.classid::bigint << 32) | l.objid::bigint)::text FROM pg_locks l "
                  "JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' "
                  "AND l.objsubid = 1 AND l.granted AND a.usename = 'iasql_engine' LIMIT 4");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    int n = PQntuples(r);
    assert_true(n >= 1);
    PGconn *q[4] = {0};
    for (int i = 0; i < n; i++) {
        q[i] = login(e, "mallory", NULL);
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%s)", PQgetvalue(r, i, 0));
        assert_int_equal(PQsendQuery(q[i], sql), 1);
    }
    PQclear(r);
    double t0 = it_now_s();
    assert_non_null(it_value(e, "SELECT transaction_id FROM iasql_begin(2)"));
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    for (int i = 0; i < 20; i++)
        assert_true(it_ok(e, "SELECT * FROM iasql_preview()", 0, NULL));
    double took = it_now_s() - t0;
    if (took > 10.0)
        fail_msg("22 calls took %.1f s", took);
    assert_int_equal(it_stop_engine(e), 0);
    assert_int_equal(it_start_engine(e), 0);
    assert_true(it_ok(e, "SELECT * FROM iasql_preview()", 0, NULL));
    for (int i = 0; i < n; i++)
        PQfinish(q[i]);
    PQfinish(m);
}

/* The engine's role cannot log in without its password. */
static void test_engine_needs_password(void **state)
{
    it_env *e = *state;
    char ci[1024];
    snprintf(ci, sizeof ci, "%s dbname=%s user=iasql_engine password='' passfile=/nonexistent/none",
             getenv("IASQL_PG_CONNINFO"), e->dbname);
    PGconn *c = PQconnectdb(ci);
    assert_int_not_equal(PQstatus(c), CONNECTION_OK);
    assert_non_null(strstr(PQerrorMessage(c), "password"));
    PQfinish(c);
    /* nor over the Unix socket */
    snprintf(ci, sizeof ci,
             "host=%s port=%s dbname=%s user=iasql_engine password='' passfile=/nonexistent/none",
             getenv("IASQL_PG_SOCKET"), getenv("IASQL_PG_PORT"), e->dbname);
    c = PQconnectdb(ci);
    assert_int_not_equal(PQstatus(c), CONNECTION_OK);
    PQfinish(c);
}

/* An iasql transaction whose session sits idle past transaction_idle_seconds
 * is reported once in iasql_get_errors() and iasql_status; when its session
 * ends, nobody holds it any more. */
static void test_idle_transaction_reported(void **state)
{
    it_env *e = *state;
    assert_true(it_admin_ok(e, "UPDATE iasql_config SET value = '1' "
                               "WHERE key = 'transaction_idle_seconds'"));
    PGconn *a = login(e, "iasql_app", NULL);
    const char *tx = val_of(a, "SELECT transaction_id FROM iasql_begin()");
    assert_non_null(tx);
    bool idle = false;
    for (int i = 0; i < 250 && !idle; i++) { /* the engine looks every 10 s */
        const char *v = it_value(e, "SELECT transaction_idle FROM iasql_status");
        idle = v && strcmp(v, "t") == 0;
        if (!idle)
            it_sleep_ms(100);
    }
    assert_true(idle);
    const char *msg = it_value(e, "SELECT message FROM iasql_get_errors() "
                                  "WHERE message LIKE 'iasql transaction % has been idle%'");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "role iasql_app"));
    assert_non_null(
        strstr(it_value(e, "SELECT transaction_holder FROM iasql_status"), "role iasql_app"));
    PQfinish(a);
    for (int i = 0; i < 100 && it_value(e, "SELECT transaction_id FROM iasql_status"); i++)
        it_sleep_ms(50);
    assert_null(it_value(e, "SELECT transaction_id FROM iasql_status"));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_errors WHERE message LIKE "
                                    "'iasql transaction % has been idle%'"),
                        "1");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mallory_gets_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capture_triggers_not_attachable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_search_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rpc_login_cannot_act, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_checks_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answers_are_private, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets_only_through_the_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locks_cannot_stall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_needs_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_transaction_reported, setup, teardown),
    };
    return cmocka_run_group_tests_name("security: an ordinary role's attacks", tests, NULL, NULL);
}
