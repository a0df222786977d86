/* tests/integration/it_util.c — see it_util.h: fixtures (a database per test,
 * iasql init), SQL helpers and expectations. The engine as a child process
 * is it_engine.c; the independent look at the cloud is it_cloud.c. */
#include "it_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char errbuf[4096];
static char valbuf[65536];

static const char *base_conninfo(void)
{
    const char *c = getenv("IASQL_PG_CONNINFO");
    return c ? c : "host=127.0.0.1 user=postgres";
}

/* One statement as the cluster's superuser, in database db. */
static int admin_in(const char *db, const char *sql)
{
    char ci[512];
    snprintf(ci, sizeof ci, "%s dbname=%s", base_conninfo(), db);
    PGconn *c = PQconnectdb(ci);
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "admin: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

static int admin(const char *sql)
{
    return admin_in("postgres", sql);
}

/* Managed PostgreSQL (IT_PG_SETUP=managed): the database belongs to
 * iasql_owner, a non-superuser with CREATEROLE, which runs iasql init after
 * an administrator's CREATE EXTENSION dblink. Otherwise a superuser runs it
 * (a self-managed server). Either way the tests then work as iasql_app, a
 * plain login role granted iasql_user. */
static bool managed(void)
{
    const char *m = getenv("IT_PG_SETUP");
    return m && strcmp(m, "managed") == 0;
}

void it_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

double it_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *it_strdup(const char *v)
{
    assert_non_null(v);
    return strdup(v);
}

int it_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static int run_init(it_env *e)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "\"%s\" init \"%s\" >/dev/null", getenv("IASQL_BIN"),
             e->owner_conninfo);
    if (system(cmd) != 0)
        return -1;
    /* The owner grants the application role what it needs: one GRANT. */
    PGconn *c = PQconnectdb(e->owner_conninfo);
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PGresult *r = PQexec(c, "GRANT iasql_user TO iasql_app");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "GRANT iasql_user TO iasql_app: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

void it_print_log(const it_env *e);

int it_setup(it_env *e, const char *name)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dbname, sizeof e->dbname, "it_%s_%d", name, (int)getpid());
    snprintf(e->conninfo, sizeof e->conninfo, "%s dbname=%s user=iasql_app", base_conninfo(),
             e->dbname);
    snprintf(e->admin_conninfo, sizeof e->admin_conninfo, "%s dbname=%s", base_conninfo(),
             e->dbname);
    snprintf(e->engine_conninfo, sizeof e->engine_conninfo, "%s dbname=%s user=iasql_engine",
             base_conninfo(), e->dbname);
    snprintf(e->owner_conninfo, sizeof e->owner_conninfo, "%s dbname=%s%s", base_conninfo(),
             e->dbname, managed() ? " user=iasql_owner" : "");
    const char *tmp = getenv("IASQL_RUN_DIR") ? getenv("IASQL_RUN_DIR") : "/tmp";
    snprintf(e->journal, sizeof e->journal, "%s/journal-%s", tmp, e->dbname);
    snprintf(e->log_path, sizeof e->log_path, "%s/engine-%s.log", tmp, e->dbname);
    e->emulator = getenv("IT_EMULATOR_URL");
    e->full_s3 = getenv("IT_EMULATOR_KIND") && strcmp(getenv("IT_EMULATOR_KIND"), "moto") == 0;
    unlink(e->log_path); /* each test reads only its own engine's log */
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", e->dbname);
    admin(sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s%s", e->dbname,
             managed() ? " OWNER iasql_owner" : "");
    if (admin(sql))
        return -1;
    if (managed() && admin_in(e->dbname, "CREATE EXTENSION dblink"))
        return -1;
    if (run_init(e))
        return -1;
    e->db = PQconnectdb(e->conninfo);
    if (PQstatus(e->db) != CONNECTION_OK)
        return -1;
    PQclear(PQexec(e->db, "SET client_min_messages = warning"));
    return it_start_engine(e);
}

void it_teardown(it_env *e)
{
    if (e->engine)
        it_stop_engine(e);
    if (e->db)
        PQfinish(e->db);
    e->db = NULL;
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", e->dbname);
    admin(sql);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->journal);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", e->journal);
}

bool it_ok(it_env *e, const char *sql, int n, const char *const *params)
{
    PGresult *r = it_sql(e, sql, n, params);
    PQclear(r);
    return r != NULL;
}

PGresult *it_sql(it_env *e, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(e->db, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fprintf(stderr, "SQL failed: %s\n  %s", sql, PQerrorMessage(e->db));
        PQclear(r);
        return NULL;
    }
    return r;
}

const char *it_sql_error(it_env *e, const char *sql)
{
    return it_conn_error(e->db, sql);
}

const char *it_conn_error(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    const char *out = NULL;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        snprintf(errbuf, sizeof errbuf, "%s", PQresultErrorMessage(r));
        out = errbuf;
    }
    PQclear(r);
    return out;
}

const char *it_admin_error(it_env *e, const char *sql)
{
    PGconn *c = PQconnectdb(e->admin_conninfo);
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    const char *out = it_conn_error(c, sql);
    PQfinish(c);
    return out;
}

bool it_admin_ok(it_env *e, const char *sql)
{
    const char *msg = it_admin_error(e, sql);
    if (msg)
        fprintf(stderr, "admin SQL failed: %s\n  %s", sql, msg);
    return msg == NULL;
}

/* The first value of sql on c (valbuf), or NULL; a failure is printed
 * when report is set. */
static const char *value_on(PGconn *c, const char *sql, bool report)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    const char *out = NULL;
    if (st == PGRES_TUPLES_OK && PQntuples(r) >= 1 && !PQgetisnull(r, 0, 0)) {
        snprintf(valbuf, sizeof valbuf, "%s", PQgetvalue(r, 0, 0));
        out = valbuf;
    } else if (report && st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        fprintf(stderr, "admin SQL failed: %s\n  %s", sql, PQerrorMessage(c));
    PQclear(r);
    return out;
}

const char *it_admin_value(it_env *e, const char *sql)
{
    PGconn *c = PQconnectdb(e->admin_conninfo);
    const char *out = value_on(c, sql, true);
    PQfinish(c);
    return out;
}

const char *it_value(it_env *e, const char *sql)
{
    return value_on(e->db, sql, false);
}

char *it_database_id(it_env *e)
{
    return strdup(it_value(e, "SELECT value FROM iasql_config WHERE key = 'database_id'"));
}

int it_fixture(void **state, const char *name, bool install)
{
    it_env *e = calloc(1, sizeof *e);
    *state = e;
    if (!e || it_setup(e, name))
        return -1;
    return !install || it_ok(e, "SELECT * FROM iasql_install('aws_s3')", 0, NULL) ? 0 : -1;
}

int it_fixture_end(void **state)
{
    it_env *e = *state;
    int st = e->engine ? it_stop_engine(e) : 0;
    if (st) {
        fprintf(stderr, "the engine did not stop cleanly (status %d)\n", st);
        it_print_log(e);
    }
    it_teardown(e);
    free(e);
    return st == 0 ? 0 : -1;
}

bool it_env_ready(void)
{
    /* IT_SKIP: a pattern of tests the run leaves to another build (the
     * sanitizer suite leaves the poll rotations to the release one) */
    const char *skip = getenv("IT_SKIP");
    if (skip && *skip)
        cmocka_set_skip_filter(skip);
    if (getenv("IASQL_BIN") && getenv("IT_EMULATOR_URL"))
        return true;
    fprintf(stderr, "run through tests/run.sh: IASQL_BIN and IT_EMULATOR_URL are not set\n");
    return false;
}

void it_expect_commit(it_env *e, int rows, const char *action)
{
    PGresult *r = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    if (PQntuples(r) != rows) {
        for (int i = 0; i < PQntuples(r); i++)
            fprintf(stderr, "commit row %d: %s: %s\n", i, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        fail_msg("expected %d rows from the commit, got %d", rows, PQntuples(r));
    }
    for (int i = 0; i < rows; i++)
        if (strcmp(PQgetvalue(r, i, 0), action) != 0 || strstr(PQgetvalue(r, i, 1), "failed"))
            fail_msg("expected %s, got %s: %s", action, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
}

void it_expect_commit_spares(it_env *e, const char *table, const char *name_col, const char *action,
                             const char *theirs, const char *other)
{
    char sql[512], failed[128], named[160], done[128];
    snprintf(sql, sizeof sql,
             "SELECT c.description, t.%s FROM iasql_commit() c JOIN %s t ON t.id = c.id", name_col,
             table);
    snprintf(failed, sizeof failed, "failed to %s %s", action, table);
    snprintf(named, sizeof named, "iasql database %s made it", other);
    snprintf(done, sizeof done, "%sd %s", action, table);
    PGresult *r = it_sql(e, sql, 0, NULL);
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 2);
    for (int i = 0; i < 2; i++) {
        const char *d = PQgetvalue(r, i, 0);
        bool spared = strcmp(PQgetvalue(r, i, 1), theirs) == 0;
        if (spared ? !strstr(d, failed) || !strstr(d, named)
                   : !strstr(d, done) || strstr(d, "failed"))
            fail_msg("unexpected: %s", d);
    }
    PQclear(r);
}

void it_expect_rejected(it_env *e, const it_reject *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *msg = it_sql_error(e, cases[i].sql);
        if (!msg)
            fail_msg("accepted: %s", cases[i].sql);
        if (!strstr(msg, cases[i].rule))
            fail_msg("%s: expected %s, got %s", cases[i].sql, cases[i].rule, msg);
    }
}

int it_leaks(it_env *e, const char *needle)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "{ \"%s\" journal dump '%s'; \"%s\" journal dump '%s' --json; cat '%s'; "
             "'%s/pg_dump' \"%s\"; cat '%s'/*; } 2>&1 | grep -a -c -e '%s'",
             getenv("IASQL_BIN"), e->journal, getenv("IASQL_BIN"), e->journal, e->log_path,
             getenv("IASQL_PG_BIN") ? getenv("IASQL_PG_BIN") : "/usr/lib/postgresql/15/bin",
             e->admin_conninfo, e->journal, needle);
    FILE *f = popen(cmd, "r");
    int hits = -1;
    if (!f || fscanf(f, "%d", &hits) != 1)
        hits = -1;
    if (f)
        pclose(f);
    return hits;
}

bool it_okv(it_env *e, const char *fmt, va_list ap)
{
    char sql[4096];
    vsnprintf(sql, sizeof sql, fmt, ap);
    return it_ok(e, sql, 0, NULL);
}

bool it_okf(it_env *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = it_okv(e, fmt, ap);
    va_end(ap);
    return ok;
}

const char *it_valf(it_env *e, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return it_value(e, sql);
}
