/* tests/faults/ft_concurrency.c — 8 connections make 1,000 changes each to
 * a resource table while the engine tails and commits: the journal holds all
 * 8,000 user events exactly once, and in an order consistent with the order
 * in which each connection's transactions committed. And users create,
 * retag and delete queues while another session uninstalls, installs,
 * commits and syncs at random: afterwards the cloud, read through the SQS
 * API, holds exactly the queues the table holds. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../integration/it_util.h"

#define WRITERS 8
#define CHANGES 1000
#define ROWS 10

static int setup(void **state)
{
    return it_fixture(state, "concurrency", true);
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

/* One writer: ROWS inserts, then updates of those rows, one autocommit
 * transaction per change. */
static int writer(const char *conninfo, int k)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK)
        return 1;
    for (int i = 0; i < CHANGES; i++) {
        char name[64], tag[32];
        snprintf(name, sizeof name, "cw-%d-%d-%d", (int)getppid(), k, i % ROWS);
        snprintf(tag, sizeof tag, "%d", i);
        const char *p[] = {name, tag};
        const char *sql =
            i < ROWS
                ? "INSERT INTO bucket (name, tags) VALUES ($1, jsonb_build_object('n', $2::text))"
                : "UPDATE bucket SET tags = jsonb_build_object('n', $2::text) WHERE name = $1";
        PGresult *r = PQexecParams(c, sql, 2, NULL, p, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK && atoi(PQcmdTuples(r)) == 1;
        PQclear(r);
        if (!ok) {
            fprintf(stderr, "writer %d change %d: %s", k, i, PQerrorMessage(c));
            return 1;
        }
    }
    PQfinish(c);
    return 0;
}

static void test_eight_writers(void **state)
{
    it_env *e = *state;
    pid_t pids[WRITERS];
    for (int k = 0; k < WRITERS; k++) {
        pids[k] = fork();
        if (pids[k] == 0)
            _exit(writer(e->conninfo, k));
    }
    /* commits while they write */
    int commits = 0, running = WRITERS;
    while (running) {
        running = 0;
        for (int k = 0; k < WRITERS; k++) {
            int st;
            if (pids[k] && waitpid(pids[k], &st, WNOHANG) == pids[k]) {
                assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
                pids[k] = 0;
            }
            running += pids[k] != 0;
        }
        assert_true(it_ok(e, "SELECT * FROM iasql_commit()", 0, NULL));
        commits++;
    }
    assert_true(it_ok(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_true(commits > 1);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"),
                        "8000");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* which writer owns each row */
    char prefix[32];
    snprintf(prefix, sizeof prefix, "cw-%d-", (int)getpid());
    const char *pp[] = {prefix};
    /* install imports what earlier runs left in a shared emulator: only ours */
    PGresult *rows = it_sql(e,
                            "SELECT id, split_part(name, '-', 3)::int FROM bucket "
                            "WHERE name LIKE $1 || '%'",
                            1, pp);
    assert_int_equal(PQntuples(rows), WRITERS * ROWS);
    int owner_of[1 << 16];
    memset(owner_of, -1, sizeof owner_of);
    int max_id = 0;
    for (int i = 0; i < PQntuples(rows); i++) {
        int id = atoi(PQgetvalue(rows, i, 0));
        assert_true(id < (1 << 16));
        owner_of[id] = atoi(PQgetvalue(rows, i, 1));
        max_id = id > max_id ? id : max_id;
    }
    PQclear(rows);
    assert_int_equal(it_stop_engine(e), 0);

    char cmd[1024];
    snprintf(cmd, sizeof cmd, "\"%s\" journal dump '%s' --json", getenv("IASQL_BIN"), e->journal);
    FILE *f = popen(cmd, "r");
    static char line[1 << 16];
    static unsigned char seen[1 << 20];
    long long last_audit[WRITERS];
    for (int k = 0; k < WRITERS; k++)
        last_audit[k] = 0;
    int user_events = 0;
    while (fgets(line, sizeof line, f)) {
        json_t *rec = json_loads(line, 0, NULL);
        assert_non_null(rec);
        const char *type = json_string_value(json_object_get(rec, "type"));
        if (type && strcmp(type, "event") == 0 &&
            strcmp(json_string_value(json_object_get(rec, "origin")) ?: "", "user") == 0) {
            long long audit = json_integer_value(json_object_get(rec, "audit_id"));
            int row = (int)json_integer_value(json_object_get(rec, "row_id"));
            assert_true(audit > 0 && audit < (1 << 20));
            assert_int_equal(seen[audit], 0); /* exactly once */
            seen[audit] = 1;
            assert_true(row <= max_id && owner_of[row] >= 0);
            int k = owner_of[row];
            /* one writer's transactions committed one after another */
            assert_true(audit > last_audit[k]);
            last_audit[k] = audit;
            user_events++;
        }
        json_decref(rec);
    }
    pclose(f);
    assert_int_equal(user_events, WRITERS * CHANGES);
}

/* ---- module churn: uninstall, install, commit and sync while users write ---- */

#define CHURN_SECONDS 8
#define CHURN_WRITERS 2

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One user: creates, retags and deletes its own queues for CHURN_SECONDS;
 * a statement may fail while aws_sqs is uninstalled, and is not retried. */
static int churn_writer(const char *conninfo, const char *prefix, int k)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK)
        return 1;
    srand((unsigned)getpid());
    double end = mono_s() + CHURN_SECONDS;
    for (int i = 0; mono_s() < end; i++) {
        char name[96], tag[16];
        snprintf(name, sizeof name, "%s%d-%d", prefix, k, rand() % 6);
        snprintf(tag, sizeof tag, "%d", i);
        const char *p[] = {name, tag};
        static const char *const sql[] = {
            "INSERT INTO queue (name) SELECT $1 WHERE NOT EXISTS (SELECT FROM queue WHERE name = "
            "$1) "
            "AND $2 IS NOT NULL",
            "UPDATE queue SET tags = jsonb_build_object('n', $2::text) WHERE name = $1",
            "DELETE FROM queue WHERE name = $1 AND $2 IS NOT NULL"};
        PQclear(PQexecParams(c, sql[rand() % 3], 2, NULL, p, NULL, NULL, 0));
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    PQfinish(c);
    return 0;
}

/* The engine's operations in a loop, each as a user calls it; an error
 * that says the engine stopped is a failure, a refusal is not. An uninstall
 * and an install must each have happened at least once. */
static int churn_operator(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK)
        return 1;
    srand((unsigned)getpid() * 7u);
    static const char *const ops[] = {"SELECT * FROM iasql_commit()",
                                      "SELECT * FROM iasql_sync()",
                                      "SELECT * FROM iasql_uninstall('aws_sqs')",
                                      "SELECT * FROM iasql_uninstall_discard('aws_sqs')",
                                      "SELECT * FROM iasql_install('aws_sqs')",
                                      "SELECT * FROM iasql_preview()"};
    /* Rounds of all six in a random order, for CHURN_SECONDS and until an
     * uninstall and an install have each been done (a sync of a large account
     * is slow under the sanitizers), two minutes at the most. */
    double end = mono_s() + CHURN_SECONDS;
    int bad = 0, done[6] = {0}, order[6] = {0, 1, 2, 3, 4, 5}, at = 6;
    while (!bad && (mono_s() < end || !done[4] || !(done[2] + done[3])) && mono_s() < end + 120) {
        if (at == 6) {
            for (int i = 5; i > 0; i--) {
                int j = rand() % (i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            at = 0;
        }
        int k = order[at++];
        PGresult *r = PQexec(c, ops[k]);
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            done[k]++;
        else if (strstr(PQerrorMessage(c), "engine stopped") ||
                 strstr(PQerrorMessage(c), "not running")) {
            fprintf(stderr, "churn: %s", PQerrorMessage(c));
            bad = 1;
        }
        PQclear(r);
    }
    fprintf(stderr,
            "churn: %d commits, %d syncs, %d uninstalls, %d discarding uninstalls, "
            "%d installs, %d previews\n",
            done[0], done[1], done[2], done[3], done[4], done[5]);
    PQfinish(c);
    /* the modules came and went while users wrote */
    return bad || done[2] + done[3] == 0 || done[4] == 0;
}

/* The names of the queues SQS lists under prefix, sorted, joined by ",". */
static char *cloud_queues(it_env *e, const char *prefix)
{
    long st;
    json_t *l =
        it_aws_json(e, "sqs", "1.0", "AmazonSQS.ListQueues",
                    json_pack("{s:s, s:i}", "QueueNamePrefix", prefix, "MaxResults", 1000), &st);
    assert_int_equal(st, 200);
    json_t *names = json_array();
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(l, "QueueUrls"), i, u)
    {
        const char *slash = strrchr(json_string_value(u), '/');
        json_array_append_new(names, json_string(slash ? slash + 1 : json_string_value(u)));
    }
    json_decref(l);
    char *txt = json_dumps(names, JSON_COMPACT);
    json_decref(names);
    char *sql = NULL;
    assert_true(asprintf(&sql,
                         "SELECT coalesce(string_agg(n, ',' ORDER BY n), '') FROM "
                         "json_array_elements_text('%s') n",
                         txt) > 0);
    free(txt);
    char *out = strdup(it_value(e, sql));
    free(sql);
    return out;
}

static void test_module_churn(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_sqs')", 0, NULL));
    char prefix[48];
    snprintf(prefix, sizeof prefix, "fc-%d-", (int)getpid());
    pid_t pids[CHURN_WRITERS + 1];
    for (int k = 0; k < CHURN_WRITERS; k++)
        if ((pids[k] = fork()) == 0)
            _exit(churn_writer(e->conninfo, prefix, k));
    if ((pids[CHURN_WRITERS] = fork()) == 0)
        _exit(churn_operator(e->conninfo));
    for (int k = 0; k <= CHURN_WRITERS; k++) {
        int st;
        assert_int_equal(waitpid(pids[k], &st, 0), pids[k]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    /* settle: installed, everything pending applied */
    if (strcmp(it_value(e, "SELECT count(*) FROM iasql_module WHERE name = 'aws_sqs'"), "0") == 0)
        assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_sqs')", 0, NULL));
    PGresult *r = it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* the cloud holds exactly what the table says, once each */
    char *cloud = cloud_queues(e, prefix);
    const char *pp[] = {prefix};
    PGresult *t = it_sql(e,
                         "SELECT coalesce(string_agg(name, ',' ORDER BY name), ''), count(*), "
                         "count(DISTINCT name) FROM queue WHERE name LIKE $1 || '%'",
                         1, pp);
    assert_non_null(t);
    if (strcmp(cloud, PQgetvalue(t, 0, 0)) != 0)
        fail_msg("the cloud has [%s], the table [%s]", cloud, PQgetvalue(t, 0, 0));
    assert_string_equal(PQgetvalue(t, 0, 1), PQgetvalue(t, 0, 2));
    PQclear(t);
    free(cloud);
    /* a sync finds nothing to bring back */
    r = it_sql(e, "SELECT * FROM iasql_sync() WHERE table_name = 'queue'", 0, NULL);
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_eight_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_module_churn, setup, teardown),
    };
    return cmocka_run_group_tests_name("faults: concurrent writers", tests, NULL, NULL);
}
