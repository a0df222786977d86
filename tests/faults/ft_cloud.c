/* tests/faults/ft_cloud.c — the cloud failing, through faultproxy.py in front
 * of moto_server: transient 5xx and throttling are retried; a lasting outage
 * fails only the resources it hits, within a bounded time, with a clear
 * error, and the next commit finishes the job without repeating what was
 * applied; dropped connections, slow answers, and malformed, truncated or
 * huge responses give clear errors and no crash; a list that lags behind a
 * write does not delete a row the cloud still has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../integration/it_util.h"

static char names[16][64];
static int next_name;

static const char *fresh(void)
{
    snprintf(names[next_name % 16], sizeof names[0], "fc-%d-%d", (int)getpid(), next_name);
    return names[next_name++ % 16];
}

static void fault(const char *query)
{
    char url[512];
    snprintf(url, sizeof url, "%s/__fault__?%s", getenv("IT_EMULATOR_URL"), query);
    assert_int_equal(it_http("GET", url, NULL, NULL), 200);
}

static bool in_cloud(const char *name)
{
    return it_cloud_has_bucket(getenv("MOTO_DIRECT_URL"), name);
}

static int setup(void **state)
{
    fault("mode=pass");
    return it_fixture(state, "cloud", true);
}

static int teardown(void **state)
{
    fault("mode=pass");
    return it_fixture_end(state);
}

static void insert(it_env *e, const char *name)
{
    const char *p[] = {name};
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, p));
}

static void test_transient_errors_are_retried(void **state)
{
    it_env *e = *state;
    const char *a = fresh(), *b = fresh();
    insert(e, a);
    fault("mode=status&count=2");
    assert_string_equal(it_value(e, "SELECT action || ':' || left(description, 7) "
                                    "FROM iasql_commit()"),
                        "create:created");
    insert(e, b);
    fault("mode=throttle&count=3");
    assert_string_equal(it_value(e, "SELECT action || ':' || left(description, 7) "
                                    "FROM iasql_commit()"),
                        "create:created");
    assert_true(in_cloud(a));
    assert_true(in_cloud(b));
}

static void test_outage_fails_only_what_it_hits(void **state)
{
    it_env *e = *state;
    const char *a = fresh(), *b = fresh();
    insert(e, a);
    insert(e, b);
    /* The cloud is down for one of them only (a create is two calls, the
     * bucket and its tags, and both run side by side with the other's). */
    char down[128];
    snprintf(down, sizeof down, "mode=status&match=%s", b);
    fault(down);
    double t0 = it_now_s();
    PGresult *r = it_sql(e,
                         "SELECT c.description, b.name FROM iasql_commit('outage') c "
                         "JOIN bucket b ON b.id = c.id ORDER BY c.description LIKE 'failed%'",
                         0, NULL);
    double took = it_now_s() - t0;
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 2);
    assert_non_null(strstr(PQgetvalue(r, 0, 0), "created bucket"));
    assert_non_null(strstr(PQgetvalue(r, 1, 0), "failed to create"));
    assert_non_null(strstr(PQgetvalue(r, 1, 0), "ServiceUnavailable"));
    char done[64], missed[64];
    snprintf(done, sizeof done, "%s", PQgetvalue(r, 0, 1));
    snprintf(missed, sizeof missed, "%s", PQgetvalue(r, 1, 1));
    PQclear(r);
    assert_string_equal(done, a);
    assert_string_equal(missed, b);
    assert_true(took < 15.0); /* a bounded retry budget */
    assert_string_equal(it_value(e, "SELECT status FROM iasql_commits WHERE message = 'outage'"),
                        "partial");
    assert_true(in_cloud(done));
    assert_false(in_cloud(missed));
    /* the cloud is back: the next commit does only what is missing */
    fault("mode=pass");
    r = it_sql(e, "SELECT id, action FROM iasql_commit('after outage')", 0, NULL);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 1), "create");
    PQclear(r);
    assert_true(in_cloud(missed));
    assert_string_equal(it_value(e, "SELECT count(*) FROM bucket WHERE created_at IS NULL"), "0");
}

/* A list that does not show a bucket yet (eventual consistency), past the
 * grace period: the direct read finds it, so its row stays; once the list
 * catches up, nothing changes. */
static void test_lagging_list_keeps_the_row(void **state)
{
    it_env *e = *state;
    it_restart_engine(e, "off", "0");
    const char *a = fresh();
    insert(e, a);
    it_expect_commit(e, 1, "create");
    /* ListBuckets without it: "<Bucket>\s*<Name>a</Name>.*?</Bucket>" */
    char q[256], enc[768] = "";
    snprintf(q, sizeof q, "<Bucket>\\s*<Name>%s</Name>.*?</Bucket>", a);
    for (const char *c = q; *c; c++) {
        size_t n = strlen(enc);
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '-')
            enc[n] = *c, enc[n + 1] = '\0';
        else
            snprintf(enc + n, sizeof enc - n, "%%%02X", (unsigned char)*c);
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mode=strip&pattern=%s", enc);
    fault(cmd);
    assert_false(it_cloud_has_bucket(getenv("IT_EMULATOR_URL"), a)); /* the list lags */
    char id[32];
    snprintf(id, sizeof id, "%s", it_valf(e, "SELECT id FROM bucket WHERE name = '%s'", a));
    assert_string_equal(it_valf(e, "SELECT count(*) FROM iasql_sync() WHERE id = %s", id), "0");
    assert_string_equal(it_valf(e, "SELECT count(*) FROM bucket WHERE id = %s", id), "1");
    assert_non_null(it_log_last(e, "is not in the list, but a read finds it"));
    assert_true(in_cloud(a));
    fault("mode=pass");
    assert_string_equal(it_valf(e, "SELECT count(*) FROM iasql_sync() WHERE id = %s", id), "0");
    assert_string_equal(it_valf(e, "SELECT count(*) FROM bucket WHERE id = %s", id), "1");
}

static void test_dropped_connections_and_slow_answers(void **state)
{
    it_env *e = *state;
    const char *a = fresh(), *b = fresh();
    insert(e, a);
    fault("mode=close");
    const char *d = it_value(e, "SELECT description FROM iasql_commit()");
    assert_non_null(d);
    assert_non_null(strstr(d, "failed to create"));
    assert_false(in_cloud(a));
    fault("mode=slow&delay=1.5&count=3");
    insert(e, b);
    PGresult *r = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    for (int i = 0; i < 2; i++)
        assert_non_null(strstr(PQgetvalue(r, i, 1), "created bucket"));
    PQclear(r);
    assert_true(in_cloud(a));
    assert_true(in_cloud(b));
}

/* A commit the cloud makes slow is visible while it runs: its row in
 * iasql_commits says 'running' with done of total, iasql_status() says how
 * far it has come, and its commit point ends it as ok. */
static void test_commit_under_way_is_shown(void **state)
{
    it_env *e = *state;
    const char *a = fresh(), *b = fresh();
    insert(e, a);
    insert(e, b);
    fault("mode=slow&delay=1&count=4");
    PGconn *c = PQconnectdb(e->conninfo);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    assert_int_equal(PQsendQuery(c, "SELECT * FROM iasql_commit()"), 1);
    bool seen = false, status_seen = false;
    for (int i = 0; i < 200 && !(seen && status_seen); i++) {
        const char *v = it_value(e, "SELECT status || ' ' || done || '/' || total FROM "
                                    "iasql_commits ORDER BY id DESC LIMIT 1");
        seen |= v && strncmp(v, "running ", 8) == 0 && strstr(v, "/2");
        v = it_value(e, "SELECT state FROM iasql_status() WHERE item = 'last commit'");
        status_seen |= v && strstr(v, " running since ") && strstr(v, " of 2 actions done");
        it_sleep_ms(50);
    }
    PGresult *r;
    int rows = 0;
    while ((r = PQgetResult(c))) {
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            rows = PQntuples(r);
        PQclear(r);
    }
    PQfinish(c);
    assert_true(seen);
    assert_true(status_seen);
    assert_int_equal(rows, 2);
    assert_string_equal(it_value(e, "SELECT status || ' ' || done || '/' || total FROM "
                                    "iasql_commits ORDER BY id DESC LIMIT 1"),
                        "ok 2/2");
    assert_true(in_cloud(a));
    assert_true(in_cloud(b));
}

/* Malformed, truncated and oversized answers to the list that an install
 * reads: a clear error, nothing installed, no crash; then it works. */
static void test_bad_responses(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_s3')", 0, NULL));
    static const struct {
        const char *mode, *says;
    } cases[] = {
        {"mode=garbage", "malformed XML"},
        {"mode=truncate", "malformed XML"},
        {"mode=huge", "exceeded"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fault(cases[i].mode);
        const char *msg = it_sql_error(e, "SELECT * FROM iasql_install('aws_s3')");
        assert_non_null(msg);
        if (!strstr(msg, cases[i].says))
            fail_msg("%s: expected \"%s\" in: %s", cases[i].mode, cases[i].says, msg);
        assert_null(it_value(e, "SELECT to_regclass('bucket')"));
        assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_module WHERE name = 'aws_s3'"),
                            "0");
    }
    fault("mode=pass");
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_s3')", 0, NULL));
    assert_non_null(it_value(e, "SELECT to_regclass('bucket')"));
}

int main(void)
{
    if (!getenv("IASQL_BIN") || !getenv("IT_EMULATOR_URL") || !getenv("MOTO_DIRECT_URL")) {
        fprintf(stderr, "run through tests/run.sh\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_transient_errors_are_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outage_fails_only_what_it_hits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lagging_list_keeps_the_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dropped_connections_and_slow_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_responses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_under_way_is_shown, setup, teardown),
    };
    return cmocka_run_group_tests_name("faults: cloud", tests, NULL, NULL);
}
