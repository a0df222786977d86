/* tests/faults/ft_concurrency.c — 8 connections make 1,000 changes each to
 * a resource table while the engine tails and commits: the journal holds all
 * 8,000 user events exactly once, and in an order consistent with the order
 * in which each connection's transactions committed. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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
        const char *sql = i < ROWS ? "INSERT INTO bucket (name, tags) VALUES ($1, jsonb_build_object('n', $2::text))"
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
    PGresult *rows = it_sql(e, "SELECT id, split_part(name, '-', 3)::int FROM bucket "
                               "WHERE name LIKE $1 || '%'", 1, pp);
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
            json_integer_value(json_object_get(rec, "origin")) == 1) {
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

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_eight_writers, setup, teardown),
    };
    return cmocka_run_group_tests_name("faults: concurrent writers", tests, NULL, NULL);
}
