/* tests/integration/it_rpc.c — the RPC when the engine is not there, as an
 * application role (iasql_app) under scram-sha-256: a stopped engine is
 * reported at once and a lost one within the bound, fifty times in a row; a
 * waiting caller uses no CPU; a caller that is killed, disconnected or
 * cancelled before the engine took its request never has it carried out;
 * a request queued while the engine reconnects is served when it is back;
 * the command line says what is missing on a database without the schema
 * or for a role without iasql_user. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "it_util.h"

static int setup(void **state)
{
    return it_fixture(state, "rpc", true);
}
static int teardown(void **state)
{
    return it_fixture_end(state);
}

/* Waits up to 10 s for an admin query to give want. */
static bool admin_wait(it_env *e, const char *sql, const char *want)
{
    const char *v = NULL;
    for (int i = 0; i < 200; i++) {
        v = it_admin_value(e, sql);
        if (v && strcmp(v, want) == 0)
            return true;
        it_sleep_ms(50);
    }
    fprintf(stderr, "%s: %s after 10 s, not %s\n", sql, v ? v : "NULL", want);
    return false;
}

/* CPU ticks (user + system) a server process has used. */
static long cpu_ticks(int pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    long utime = 0, stime = 0;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
     */
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime) != 2)
        return -1;
    return utime + stime;
}

/* Fifty calls with the engine stopped cleanly: each says so at once. */
static void test_engine_stopped(void **state)
{
    it_env *e = *state;
    assert_int_equal(it_stop_engine(e), 0);
    assert_string_equal(it_value(e, "SELECT engine FROM iasql_status"), "stopped");
    double worst = 0;
    for (int i = 0; i < 50; i++) {
        double t0 = it_now_s();
        const char *msg = it_sql_error(e, i % 2 ? "SELECT * FROM iasql_commit()"
                                                : "SELECT * FROM iasql_preview()");
        double took = it_now_s() - t0;
        worst = took > worst ? took : worst;
        assert_non_null(msg);
        if (!strstr(msg, "the iasql engine is not running for database"))
            fail_msg("call %d: %s", i, msg);
        assert_non_null(strstr(msg, "iasql run"));
    }
    assert_true(worst < 1.0);
    /* nothing was filed */
    assert_string_equal(it_admin_value(e, "SELECT count(*) FROM iasql_rpc WHERE status = 'queued'"),
                        "0");
    assert_int_equal(it_start_engine(e), 0);
    assert_true(it_ok(e, "SELECT * FROM iasql_preview()", 0, NULL));
}

/* An engine that died (SIGKILL) is "reconnecting" for the bound, then the
 * call returns with that message; fifty calls, none past the bound. */
static void test_engine_lost(void **state)
{
    it_env *e = *state;
    it_kill_engine(e);
    assert_true(admin_wait(e, "SELECT engine FROM iasql_status", "reconnecting"));
    assert_true(it_ok(e, "SET iasql.engine_wait = 0.2", 0, NULL));
    double worst = 0;
    for (int i = 0; i < 50; i++) {
        double t0 = it_now_s();
        const char *msg = it_sql_error(e, "SELECT * FROM iasql_sync()");
        double took = it_now_s() - t0;
        worst = took > worst ? took : worst;
        assert_non_null(msg);
        if (!strstr(msg, "is reconnecting"))
            fail_msg("call %d: %s", i, msg);
    }
    assert_true(worst < 1.2);
    assert_true(it_ok(e, "RESET iasql.engine_wait", 0, NULL));
    /* the default bound is 5 s */
    double t0 = it_now_s();
    assert_non_null(strstr(it_sql_error(e, "SELECT * FROM iasql_preview()"), "waited 5 seconds"));
    double took = it_now_s() - t0;
    assert_true(took >= 4.9 && took < 6.5);
    assert_int_equal(it_start_engine(e), 0);
    assert_string_equal(it_value(e, "SELECT engine FROM iasql_status"), "running");
}

/* A caller waiting on a busy engine (stopped with SIGSTOP) uses no CPU, and
 * gets its answer once the engine goes on. */
static void test_wait_uses_no_cpu(void **state)
{
    it_env *e = *state;
    PGconn *c = PQconnectdb(e->conninfo);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    int pid = PQbackendPID(c);
    kill(e->engine, SIGSTOP);
    assert_int_equal(PQsendQuery(c, "SELECT * FROM iasql_preview()"), 1);
    it_sleep_ms(500);
    long a = cpu_ticks(pid);
    it_sleep_ms(3000);
    long b = cpu_ticks(pid);
    kill(e->engine, SIGCONT);
    assert_true(a >= 0 && b >= 0);
    /* 3 s of waiting: at most a few ticks (10 ms each) for the once-a-second look */
    if (b - a > 5)
        fail_msg("the waiting backend used %ld ticks of CPU in 3 s", b - a);
    PGresult *r = PQgetResult(c);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    PQfinish(c);
}

/* Sends an iasql call on a fresh connection while the engine is stopped with
 * SIGSTOP, and waits until its request is queued, the n-th; returns the
 * connection. */
static PGconn *queued_call(it_env *e, const char *sql, int n, int *pid)
{
    PGconn *c = PQconnectdb(e->conninfo);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    *pid = PQbackendPID(c);
    assert_int_equal(PQsendQuery(c, sql), 1);
    char want[16];
    snprintf(want, sizeof want, "%d", n);
    assert_true(admin_wait(e, "SELECT count(*) FROM iasql_rpc WHERE status = 'queued'", want));
    return c;
}

/* A queued commit whose caller is killed, or whose client disconnects, or
 * that is cancelled inside a transaction block, is never carried out. */
static void test_gone_caller_never_applied(void **state)
{
    it_env *e = *state;
    char name[64], sql[256];
    snprintf(name, sizeof name, "it-rpc-gone-%d", (int)getpid());
    snprintf(sql, sizeof sql, "INSERT INTO bucket (name) VALUES ('%s')", name);
    assert_true(it_ok(e, sql, 0, NULL));
    int commits0 = atoi(it_value(e, "SELECT count(*) FROM iasql_commits"));
    int pid;

    /* killed */
    kill(e->engine, SIGSTOP);
    PGconn *c = queued_call(e, "SELECT * FROM iasql_commit('killed caller')", 1, &pid);
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", pid);
    assert_non_null(it_admin_value(e, sql));
    PQfinish(c);
    /* disconnected: the client goes away, its backend notices within a second */
    c = queued_call(e, "SELECT * FROM iasql_commit('disconnected caller')", 2, &pid);
    PQfinish(c);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE pid = %d", pid);
    assert_true(admin_wait(e, sql, "0"));
    /* cancelled inside a transaction block, which stays open */
    PGconn *t = PQconnectdb(e->conninfo);
    PQclear(PQexec(t, "BEGIN"));
    assert_int_equal(PQsendQuery(t, "SELECT * FROM iasql_sync()"), 1);
    assert_true(admin_wait(e, "SELECT count(*) FROM iasql_rpc WHERE status = 'queued'", "3"));
    char errbuf[256];
    PGcancel *cancel = PQgetCancel(t);
    assert_int_equal(PQcancel(cancel, errbuf, sizeof errbuf), 1);
    PQfreeCancel(cancel);
    PGresult *r;
    while ((r = PQgetResult(t)))
        PQclear(r);
    kill(e->engine, SIGCONT);

    assert_true(admin_wait(e,
                           "SELECT string_agg(status, ',' ORDER BY id) FROM iasql_rpc "
                           "WHERE op IN ('commit', 'sync')",
                           "cancelled,cancelled,cancelled"));
    assert_non_null(
        strstr(it_admin_value(e, "SELECT string_agg(DISTINCT error, ' ') FROM iasql_rpc "
                                 "WHERE status = 'cancelled'"),
               "the caller went away before the engine took the request"));
    PQclear(PQexec(t, "ROLLBACK"));
    PQfinish(t);
    /* nothing reached the cloud; no commit point; the change is still pending */
    assert_false(it_cloud_has_bucket(e->emulator, name));
    assert_int_equal(atoi(it_value(e, "SELECT count(*) FROM iasql_commits")), commits0);
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "create");
    /* an ordinary commit afterwards applies it once */
    it_expect_commit(e, 1, "create");
    assert_true(it_cloud_has_bucket(e->emulator, name));
}

/* A call made while the engine is gone waits for it, and is served by the
 * engine that comes back within the bound. */
static void test_served_after_reconnect(void **state)
{
    it_env *e = *state;
    it_kill_engine(e);
    PGconn *c = PQconnectdb(e->conninfo);
    assert_int_equal(PQsendQuery(c, "SELECT count(*) FROM iasql_preview()"), 1);
    it_sleep_ms(1000);
    assert_int_equal(it_start_engine(e), 0);
    PGresult *r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("the call failed: %s", PQresultErrorMessage(r));
    assert_string_equal(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    PQfinish(c);
}

/* The command line on a database without the schema, and as a role that
 * was not granted iasql_user. */
static void test_cli_says_what_is_missing(void **state)
{
    it_env *e = *state;
    char sql[256], cmd[1400];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s_bare", e->dbname);
    assert_true(it_admin_ok(e, sql));
    snprintf(sql, sizeof sql, "CREATE DATABASE %s_bare", e->dbname);
    assert_true(it_admin_ok(e, sql));
    const char *verbs[] = {"commit", "preview", "sync", "rollback"};
    for (int i = 0; i < 4; i++) {
        snprintf(cmd, sizeof cmd,
                 "\"%s\" %s \"%s dbname=%s_bare\" 2>&1 | grep -c 'has no iasql "
                 "schema. Hint: run `iasql init CONNINFO` first' >/dev/null",
                 getenv("IASQL_BIN"), verbs[i], getenv("IASQL_PG_CONNINFO"), e->dbname);
        assert_int_equal(system(cmd), 0);
    }
    snprintf(sql, sizeof sql, "DROP DATABASE %s_bare", e->dbname);
    assert_true(it_admin_ok(e, sql));
    snprintf(cmd, sizeof cmd,
             "\"%s\" commit \"%s dbname=%s user=mallory\" 2>&1 | grep -c 'role "
             "mallory may not call iasql functions' >/dev/null",
             getenv("IASQL_BIN"), getenv("IASQL_PG_CONNINFO"), e->dbname);
    assert_int_equal(system(cmd), 0);
}

/* An engine started from a superuser's connection switches to iasql_engine
 * and is seen as running: calls are served. */
static void test_engine_as_superuser(void **state)
{
    it_env *e = *state;
    assert_int_equal(it_stop_engine(e), 0);
    char saved[sizeof e->engine_conninfo];
    snprintf(saved, sizeof saved, "%s", e->engine_conninfo);
    snprintf(e->engine_conninfo, sizeof e->engine_conninfo, "%s", e->admin_conninfo);
    assert_int_equal(it_start_engine(e), 0);
    assert_string_equal(it_value(e, "SELECT engine FROM iasql_status"), "running");
    assert_true(it_ok(e, "SELECT * FROM iasql_preview()", 0, NULL));
    /* a second engine, as iasql_engine, is refused while this one runs */
    snprintf(e->engine_conninfo, sizeof e->engine_conninfo, "%s", saved);
    pid_t first = e->engine;
    assert_int_not_equal(it_start_engine(e), 0);
    e->engine = first;
    assert_true(it_ok(e, "SELECT * FROM iasql_preview()", 0, NULL));
}

/* Under systemd (Type=notify) the engine says READY=1 once it serves
 * requests and STOPPING=1 when it stops; with --log-format json each log
 * line is one JSON object. */
static void test_systemd_notify_and_json_log(void **state)
{
    it_env *e = *state;
    assert_int_equal(it_stop_engine(e), 0);
    char path[100]; /* a socket path is short: sun_path */
    snprintf(path, sizeof path, "/tmp/iasql-notify-%d.sock", (int)getpid());
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    setenv("NOTIFY_SOCKET", path, 1);
    e->log_format = "json";
    assert_int_equal(it_start_engine(e), 0);
    unsetenv("NOTIFY_SOCKET");
    char msg[256];
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 5000), 1);
    ssize_t n = recv(fd, msg, sizeof msg - 1, 0);
    assert_true(n > 0);
    msg[n] = '\0';
    assert_string_equal(msg, "READY=1");
    assert_true(it_ok(e, "SELECT * FROM iasql_preview()", 0, NULL)); /* it serves */
    assert_int_equal(it_stop_engine(e), 0);
    assert_int_equal(poll(&pf, 1, 5000), 1);
    n = recv(fd, msg, sizeof msg - 1, 0);
    assert_true(n > 0);
    msg[n] = '\0';
    assert_string_equal(msg, "STOPPING=1");
    close(fd);
    unlink(path);
    /* the lines of that run: JSON objects with a time, a level and a message */
    FILE *f = fopen(e->log_path, "r");
    assert_non_null(f);
    char line[8192];
    int objects = 0, ready = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] != '{')
            continue; /* the text lines of the earlier start */
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        if (!json_is_object(j))
            fail_msg("not a JSON object (%s): %s", je.text, line);
        assert_non_null(json_string_value(json_object_get(j, "time")));
        assert_non_null(json_string_value(json_object_get(j, "level")));
        const char *m = json_string_value(json_object_get(j, "msg"));
        assert_non_null(m);
        ready += strstr(m, "engine ready") != NULL;
        objects++;
        json_decref(j);
    }
    fclose(f);
    assert_true(objects >= 3);
    assert_int_equal(ready, 1);
    e->log_format = NULL;
    assert_int_equal(it_start_engine(e), 0);
}

/* `iasql status` as an application's role: what is up, behind or pending,
 * and an exit status a health check can use. */
static char status_out[16384];
static int status_of(it_env *e)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "\"%s\" status '%s' 2>&1", getenv("IASQL_BIN"), e->conninfo);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(status_out, 1, sizeof status_out - 1, f);
    status_out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_status(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "status-%d", (int)getpid());
    const char *p[] = {name};
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, p));
    if (status_of(e) != 0)
        fail_msg("status of a running engine: %s", status_out);
    static const char *const lines[] = {"  engine ",
                                        "running: server process ",
                                        ", version ",
                                        "  tail lag ",
                                        "  pending changes              1 rows",
                                        "  iasql transaction            none",
                                        "  poll bucket                  not polled yet"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (!strstr(status_out, lines[i]))
            fail_msg("no \"%s\" in:\n%s", lines[i], status_out);
    it_expect_commit(e, 1, "create");
    /* the poller's look at each table, with its duration */
    it_restart_engine(e, "1", "0");
    bool polled = false;
    for (int i = 0; i < 100 && !polled; i++) {
        it_sleep_ms(100);
        polled = strcmp(it_value(e, "SELECT count(*) FROM iasql_status() "
                                    "WHERE item = 'poll bucket' AND state ~ ' ms$' AND healthy"),
                        "1") == 0;
    }
    assert_true(polled);
    assert_int_equal(status_of(e), 0);
    assert_non_null(strstr(status_out, "last commit"));
    assert_non_null(strstr(status_out, "1 created"));
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name = $1", 1, p));
    it_expect_commit(e, 1, "delete");
    /* down: exit 1, and the line says so */
    assert_int_equal(it_stop_engine(e), 0);
    assert_int_equal(status_of(e), 1);
    if (!strstr(status_out, "! engine                       stopped since"))
        fail_msg("status of a stopped engine:\n%s", status_out);
    e->poll = NULL;
    e->poll_grace = NULL;
    assert_int_equal(it_start_engine(e), 0);
}

/* A port nothing listens on now. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* --metrics: Prometheus' text format at /metrics, counting commits,
 * actions, cloud requests, and the journal's size. */
static void test_metrics(void **state)
{
    it_env *e = *state;
    assert_int_equal(it_stop_engine(e), 0);
    e->metrics = "127.0.0.1";
    assert_int_not_equal(it_start_engine(e), 0); /* no port */
    assert_true(it_log_count(e, "--metrics takes an IPv4 address and a port") >= 1);
    char addr[64], url[128];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", free_port());
    e->metrics = addr;
    assert_int_equal(it_start_engine(e), 0);
    char name[64];
    snprintf(name, sizeof name, "metrics-%d", (int)getpid());
    const char *p[] = {name};
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, p));
    it_expect_commit(e, 1, "create");
    snprintf(url, sizeof url, "http://%s/metrics", addr);
    const char *body;
    assert_int_equal(it_http("GET", url, NULL, &body), 200);
    static const char *const want[] = {
        "# TYPE iasql_commits_total counter",
        "iasql_up 1\n",
        "iasql_commits_total{status=\"ok\"} 1\n",
        "iasql_actions_total{action=\"create\",result=\"ok\"} 1\n",
        "iasql_cloud_requests_total{service=\"s3\",code=\"200\"} ",
        "# TYPE iasql_journal_size_bytes gauge\niasql_journal_size_bytes ",
        "iasql_tail_lag_seconds ",
        "# TYPE iasql_pending_changes gauge\niasql_pending_changes ",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(body, want[i]))
            fail_msg("no \"%s\" in:\n%s", want[i], body);
    snprintf(url, sizeof url, "http://%s/other", addr);
    assert_int_equal(it_http("GET", url, NULL, &body), 404);
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name = $1", 1, p));
    it_expect_commit(e, 1, "delete");
    snprintf(url, sizeof url, "http://%s/metrics", addr);
    assert_int_equal(it_http("GET", url, NULL, &body), 200);
    assert_non_null(strstr(body, "iasql_commits_total{status=\"ok\"} 2\n"));
    assert_non_null(strstr(body, "iasql_actions_total{action=\"delete\",result=\"ok\"} 1\n"));
    assert_int_equal(it_stop_engine(e), 0);
    e->metrics = NULL;
    assert_int_equal(it_start_engine(e), 0);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_engine_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_uses_no_cpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gone_caller_never_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_served_after_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_says_what_is_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_as_superuser, setup, teardown),
        cmocka_unit_test_setup_teardown(test_systemd_notify_and_json_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
    };
    return cmocka_run_group_tests_name("integration: the RPC without an engine", tests, NULL, NULL);
}
