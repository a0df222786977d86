/* tests/integration/it_util.c — see it_util.h. */
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

int it_start_engine(it_env *e)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(e->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644); /* shared by restarts */
        dup2(fd, 2);
        dup2(fd, 1);
        setenv("AWS_ENDPOINT_URL", e->emulator, 1);
        const char *argv[20];
        int n = 0;
        argv[n++] = "iasql";
        argv[n++] = "run";
        argv[n++] = e->engine_conninfo;
        if (!e->journal_default) {
            argv[n++] = "--journal";
            argv[n++] = e->journal;
        }
        if (e->journal_adopt)
            argv[n++] = "--journal-adopt";
        const char *rest[] = {"--tail-ms",    "200",
                              "--auto-apply", e->auto_apply ? e->auto_apply : "off",
                              "--poll",       e->poll ? e->poll : "off",
                              "--poll-grace", e->poll_grace ? e->poll_grace : "60",
                              "--verbose",    NULL};
        for (int i = 0; rest[i]; i++)
            argv[n++] = rest[i];
        argv[n] = NULL;
        execv(getenv("IASQL_BIN"), (char *const *)argv);
        _exit(127);
    }
    e->engine = pid;
    /* Ready when it says so: an earlier engine's tickets may still be open. */
    for (int i = 0; i < 400; i++) {
        if (it_log_count(e, "engine ready") > e->starts) {
            e->starts++;
            return 0;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            e->engine = 0;
            fprintf(stderr, "the engine exited at start (status %d)\n",
                    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            it_print_log(e);
            return -1;
        }
        it_sleep_ms(50);
    }
    fprintf(stderr, "the engine did not get ready in 20 s\n");
    it_print_log(e);
    return -1;
}

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

void it_kill_engine(it_env *e)
{
    if (!e->engine)
        return;
    kill(e->engine, SIGKILL);
    int st;
    waitpid(e->engine, &st, 0);
    e->engine = 0;
}

int it_stop_engine(it_env *e)
{
    if (!e->engine)
        return -1;
    kill(e->engine, SIGTERM);
    int st = 0;
    for (int i = 0; i < 200; i++) {
        if (waitpid(e->engine, &st, WNOHANG) == e->engine) {
            e->engine = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        it_sleep_ms(25);
    }
    kill(e->engine, SIGKILL);
    waitpid(e->engine, &st, 0);
    e->engine = 0;
    return -2;
}

void it_print_log(const it_env *e)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "tail -n 40 '%s' >&2", e->log_path);
    if (system(cmd) != 0)
        fprintf(stderr, "no engine log at %s\n", e->log_path);
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

typedef struct body {
    char *p;
    size_t n;
} body;

static size_t on_data(char *d, size_t s, size_t m, void *arg)
{
    body *b = arg;
    size_t n = s * m;
    char *p = realloc(b->p, b->n + n + 1);
    if (!p)
        return 0;
    memcpy(p + b->n, d, n);
    b->p = p;
    b->n += n;
    p[b->n] = '\0';
    return n;
}

long it_http(const char *method, const char *url, const char *data, const char **out)
{
    const char *kind = getenv("IT_EMULATOR_KIND");
    return it_http_as(kind && strcmp(kind, "moto") == 0 ? "s3" : NULL, method, url, data, out);
}

long it_http_as(const char *service, const char *method, const char *url, const char *data,
                const char **out)
{
    return it_http_full(service, NULL, method, url, data, out);
}

static char http_region[32] = "us-east-1";

void it_http_set_region(const char *region)
{
    snprintf(http_region, sizeof http_region, "%s", region);
}

long it_http_full(const char *service, const char *extra_header, const char *method,
                  const char *url, const char *data, const char **out)
{
    static char *last;
    free(last);
    last = NULL;
    CURL *h = curl_easy_init();
    body b = {NULL, 0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    if (data) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(data));
    }
    struct curl_slist *hs = curl_slist_append(NULL, "Expect:");
    /* moto routes a request to a service by the credential scope of its
     * Authorization header, and refuses some unsigned calls (DELETE of an
     * object); with signature checking off it takes any signature. */
    if (service) {
        char auth[256];
        snprintf(auth, sizeof auth,
                 "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/%s/%s/"
                 "aws4_request, SignedHeaders=host, Signature=0",
                 http_region, service);
        hs = curl_slist_append(hs, auth);
        hs = curl_slist_append(hs, "X-Amz-Date: 20260101T000000Z"); /* dynalite wants one */
    }
    /* extra_header may hold several headers, one per line */
    for (const char *h = extra_header; h && *h;) {
        const char *end = strchr(h, '\n');
        size_t len = end ? (size_t)(end - h) : strlen(h);
        char one[512];
        snprintf(one, sizeof one, "%.*s", (int)len, h);
        hs = curl_slist_append(hs, one);
        h = end ? end + 1 : h + len;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    last = b.p ? b.p : strdup("");
    if (out)
        *out = last;
    return status;
}

int it_cloud_count_prefix(const char *emulator, const char *prefix)
{
    char url[512], needle[300];
    snprintf(url, sizeof url, "%s/", emulator);
    const char *body;
    if (it_http("GET", url, NULL, &body) != 200)
        return -1;
    snprintf(needle, sizeof needle, "<Name>%s", prefix);
    int n = 0;
    for (const char *p = strstr(body, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

bool it_cloud_has_bucket(const char *emulator, const char *name)
{
    char url[512], needle[300];
    snprintf(url, sizeof url, "%s/", emulator);
    const char *body;
    if (it_http("GET", url, NULL, &body) != 200)
        return false;
    snprintf(needle, sizeof needle, "<Name>%s</Name>", name);
    return strstr(body, needle) != NULL;
}

static char lastline[4096];

static int scan_log(const it_env *e, const char *needle)
{
    FILE *f = fopen(e->log_path, "r");
    int n = 0;
    char line[4096];
    lastline[0] = '\0';
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, needle)) {
            n++;
            snprintf(lastline, sizeof lastline, "%s", line);
        }
    if (f)
        fclose(f);
    return n;
}

int it_log_count(const it_env *e, const char *needle)
{
    return scan_log(e, needle);
}

const char *it_log_last(const it_env *e, const char *needle)
{
    scan_log(e, needle);
    return lastline;
}

void it_restart_engine(it_env *e, const char *poll, const char *grace)
{
    assert_int_equal(it_stop_engine(e), 0);
    e->poll = poll;
    e->poll_grace = grace;
    assert_int_equal(it_start_engine(e), 0);
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
    if (getenv("IASQL_BIN") && getenv("IT_EMULATOR_URL"))
        return true;
    fprintf(stderr, "run through tests/run.sh: IASQL_BIN and IT_EMULATOR_URL are not set\n");
    return false;
}

json_t *it_aws_json(it_env *e, const char *service, const char *version, const char *target,
                    json_t *body, long *status)
{
    char url[512], hdr[256];
    snprintf(url, sizeof url, "%s/", e->emulator);
    snprintf(hdr, sizeof hdr, "X-Amz-Target: %s\nContent-Type: application/x-amz-json-%s", target,
             version);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    const char *reply;
    long st = it_http_full(service, hdr, "POST", url, text, &reply);
    free(text);
    if (status)
        *status = st;
    json_t *j = json_loads(reply, 0, NULL);
    return j ? j : json_object();
}

void it_expect_commit(it_env *e, int rows, const char *action)
{
    PGresult *r = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    if (PQntuples(r) != rows)
        fail_msg("expected %d rows from the commit, got %d", rows, PQntuples(r));
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

char *it_tag_value(const json_t *list, const char *key)
{
    size_t i;
    json_t *tag;
    json_array_foreach(list, i, tag)
    {
        const char *k = json_string_value(json_object_get(tag, "Key"));
        const char *v = json_string_value(json_object_get(tag, "Value"));
        if (k && v && strcmp(k, key) == 0)
            return strdup(v);
    }
    return strdup("");
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

long it_aws_query(it_env *e, const char *service, const char *form, const char **out)
{
    char url[512];
    snprintf(url, sizeof url, "%s/", e->emulator);
    return it_http_full(service, "Content-Type: application/x-www-form-urlencoded", "POST", url,
                        form, out);
}

char *it_ec2v(it_env *e, long *status, const char *fmt, va_list ap)
{
    char form[4096] = "Version=2016-11-15&";
    vsnprintf(form + strlen(form), sizeof form - strlen(form), fmt, ap);
    const char *out;
    long st = it_aws_query(e, "ec2", form, &out);
    if (st != 200)
        fprintf(stderr, "EC2 %s: %ld %s\n", form, st, out);
    if (status)
        *status = st;
    return strdup(out ? out : "");
}

char *it_ec2(it_env *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = it_ec2v(e, NULL, fmt, ap);
    va_end(ap);
    return out;
}

/* The text between the end of the element that starts at open and its
 * closing tag, copied to a static buffer. */
static const char *element_text(const char *open, const char *tag)
{
    static char buf[8192];
    const char *start = strchr(open, '>');
    if (!start)
        return NULL;
    start++;
    char close[128];
    snprintf(close, sizeof close, "</%s>", tag);
    const char *end = strstr(start, close);
    if (!end)
        return NULL;
    snprintf(buf, sizeof buf, "%.*s", (int)(end - start), start);
    return buf;
}

const char *it_xml_text(const char *xml, const char *tag)
{
    char open[128];
    snprintf(open, sizeof open, "<%s>", tag);
    const char *at = xml ? strstr(xml, open) : NULL;
    return at ? element_text(at, tag) : NULL;
}

const char *it_xml_entry(const char *xml, const char *key)
{
    char k[256];
    snprintf(k, sizeof k, "<key>%s</key>", key);
    const char *at = xml ? strstr(xml, k) : NULL;
    if (!at)
        return NULL;
    const char *v = strstr(at + strlen(k), "<value");
    return v ? element_text(v, "value") : NULL;
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

json_t *it_cloud_queue(it_env *e, const char *name)
{
    long st;
    json_t *u = it_aws_json(e, "sqs", "1.0", "AmazonSQS.GetQueueUrl",
                            json_pack("{s:s}", "QueueName", name), &st);
    if (st != 200) {
        json_decref(u);
        return NULL;
    }
    const char *url = json_string_value(json_object_get(u, "QueueUrl"));
    json_t *a =
        it_aws_json(e, "sqs", "1.0", "AmazonSQS.GetQueueAttributes",
                    json_pack("{s:s, s:[s]}", "QueueUrl", url, "AttributeNames", "All"), NULL);
    json_t *t = it_aws_json(e, "sqs", "1.0", "AmazonSQS.ListQueueTags",
                            json_pack("{s:s}", "QueueUrl", url), NULL);
    json_t *out = json_incref(json_object_get(a, "Attributes"));
    json_object_set(out, "tags",
                    json_object_get(t, "Tags") ? json_object_get(t, "Tags") : json_object());
    json_decref(u);
    json_decref(a);
    json_decref(t);
    return out;
}

json_t *it_cloud_log_group(it_env *e, const char *name)
{
    long st;
    json_t *r = it_aws_json(e, "logs", "1.1", "Logs_20140328.DescribeLogGroups",
                            json_pack("{s:s}", "logGroupNamePrefix", name), &st);
    if (st != 200)
        fail_msg("DescribeLogGroups: HTTP %ld", st);
    json_t *found = NULL;
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(r, "logGroups"), i, g)
    {
        if (strcmp(json_string_value(json_object_get(g, "logGroupName")), name) == 0)
            found = json_incref(g);
    }
    json_decref(r);
    return found;
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
