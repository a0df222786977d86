/* tests/faults/ft_crash.c — the engine killed (SIGKILL) at random points
 * during commits of 200 resources, then restarted: after the restarted
 * engine's commit the cloud holds exactly the desired resources, none twice,
 * none missing, and `iasql journal verify` passes. Twenty kill points:
 * ten while creating 200 buckets, ten while deleting them; then eight
 * while creating or terminating 24 instances, which EC2 makes once per
 * ClientToken and the engine finds again by its token tag. */
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

#define N 200
#define ROUNDS 20

static int setup(void **state)
{
    return it_fixture(state, "crash", false);
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

static void verify_journal(it_env *e)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "\"%s\" journal verify '%s' >/dev/null", getenv("IASQL_BIN"),
             e->journal);
    assert_int_equal(system(cmd), 0);
}

/* Commits on a second connection, kills the engine after delay_ms, restarts
 * it, and commits until nothing is pending. */
static void crash_during_commit(it_env *e, long delay_ms)
{
    PGconn *c = PQconnectdb(e->conninfo);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    /* the engine will not come back until this call returns: do not wait
     * the default 5 s for it */
    PQclear(PQexec(c, "SET iasql.engine_wait = 0.3"));
    assert_int_equal(PQsendQuery(c, "SELECT * FROM iasql_commit('crash me')"), 1);
    it_sleep_ms(delay_ms);
    it_kill_engine(e);
    PGresult *r;
    while ((r = PQgetResult(c)) != NULL)
        PQclear(r); /* an answer, or "the engine stopped while carrying out" */
    PQfinish(c);
    assert_int_equal(it_start_engine(e), 0);
    for (int i = 0; i < 3; i++) {
        const char *failed = it_value(e, "SELECT count(*) FROM iasql_commit('after restart') "
                                         "WHERE description LIKE 'failed%'");
        if (!failed) {
            fprintf(stderr, "commit after restart: %s",
                    it_sql_error(e, "SELECT * FROM iasql_commit('after restart')"));
            it_print_log(e);
        }
        assert_non_null(failed);
        if (strcmp(failed, "0") == 0)
            break;
    }
    const char *left = it_value(e, "SELECT count(*) FROM iasql_preview()");
    assert_non_null(left);
    assert_string_equal(left, "0");
}

static void test_kill_during_commit(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_s3')", 0, NULL));
    char prefix[64];
    snprintf(prefix, sizeof prefix, "ft-%d-", (int)getpid());
    const char *pp[] = {prefix};
    srandom((unsigned)getpid());
    for (int round = 0; round < ROUNDS; round++) {
        bool create = round % 2 == 0;
        if (create) {
            char n[16];
            snprintf(n, sizeof n, "%d", N);
            const char *p[] = {prefix, n};
            assert_true(it_ok(e,
                              "INSERT INTO bucket (name) SELECT $1 || g FROM "
                              "generate_series(1, $2::int) g",
                              2, p));
        } else {
            assert_true(it_ok(e, "DELETE FROM bucket WHERE name LIKE $1 || '%'", 1, pp));
        }
        /* kill points spread from before the first call to after the last */
        long delay = 5 + random() % 650;
        crash_during_commit(e, delay);
        int in_cloud = it_cloud_count_prefix(e->emulator, prefix);
        int in_table = atoi(it_value(e, "SELECT count(*) FROM bucket WHERE name LIKE 'ft-%'"));
        if (in_cloud != (create ? N : 0) || in_table != (create ? N : 0))
            fail_msg("round %d (kill after %ld ms): %d buckets in the cloud, %d rows, want %d",
                     round, delay, in_cloud, in_table, create ? N : 0);
        if (create)
            assert_string_equal(it_value(e, "SELECT count(*) FROM bucket WHERE name LIKE 'ft-%' "
                                            "AND created_at IS NULL"),
                                "0");
        verify_journal(e);
    }
    /* every commit point made it to the database, and no commit a crash cut
     * short is left shown as running: its recovery gave it its point */
    assert_string_equal(it_value(e, "SELECT count(*) = max(id) FROM iasql_commits"), "t");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_commits WHERE status = 'running'"),
                        "0");
}

/* Instances in the cloud tagged ftrun=run and not terminated. */
static int cloud_instances(it_env *e, const char *run)
{
    char form[512];
    snprintf(form, sizeof form,
             "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag:ftrun&"
             "Filter.1.Value.1=%s&Filter.2.Name=instance-state-name&Filter.2.Value.1=pending&"
             "Filter.2.Value.2=running&Filter.2.Value.3=stopped",
             run);
    const char *out;
    assert_int_equal(it_aws_query(e, "ec2", form, &out), 200);
    int n = 0;
    for (const char *p = out; (p = strstr(p, "<instanceId>")); p++)
        n++;
    return n;
}

#define NI 24
#define IROUNDS 8

/* RunInstances carries the intent's token: an engine killed while
 * creating instances neither makes one twice nor forgets one. */
static void test_kill_during_instances(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_ec2')", 0, NULL));
    char run[64];
    snprintf(run, sizeof run, "ft-%d", (int)getpid());
    const char *pr[] = {run};
    assert_true(it_ok(e,
                      "INSERT INTO vpc (cidr_block, tags) VALUES ('10.77.0.0/16', "
                      "jsonb_build_object('ftrun', $1::text))",
                      1, pr));
    assert_true(it_ok(e,
                      "INSERT INTO subnet (vpc, cidr_block, availability_zone) SELECT id, "
                      "'10.77.1.0/24', 'us-east-1a' FROM vpc WHERE tags->>'ftrun' = $1",
                      1, pr));
    it_expect_commit(e, 2, "create");
    srandom((unsigned)getpid());
    for (int round = 0; round < IROUNDS; round++) {
        bool create = round % 2 == 0;
        char n[16];
        snprintf(n, sizeof n, "%d", NI);
        const char *p[] = {run, n};
        if (create)
            assert_true(
                it_ok(e,
                      "INSERT INTO instance (ami, instance_type, subnet, tags) SELECT "
                      "'ami-12c6146b', 't2.micro', s.id, jsonb_build_object('ftrun', "
                      "$1::text, 'n', g::text) FROM subnet s, generate_series(1, $2::int) g "
                      "WHERE s.cidr_block = '10.77.1.0/24'",
                      2, p));
        else
            assert_true(it_ok(e, "DELETE FROM instance WHERE tags->>'ftrun' = $1", 1, pr));
        long delay = 5 + random() % 400;
        crash_during_commit(e, delay);
        int in_cloud = cloud_instances(e, run);
        int in_table = atoi(it_value(e, "SELECT count(DISTINCT instance_id) FROM instance "
                                        "WHERE tags ? 'ftrun'"));
        if (in_cloud != (create ? NI : 0) || in_table != (create ? NI : 0))
            fail_msg("round %d (kill after %ld ms): %d instances in the cloud, %d rows with "
                     "an instance_id, want %d",
                     round, delay, in_cloud, in_table, create ? NI : 0);
        verify_journal(e);
    }
    assert_true(it_ok(e, "DELETE FROM vpc WHERE tags->>'ftrun' = $1", 1, pr));
    it_expect_commit(e, 2, "delete");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kill_during_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_during_instances, setup, teardown),
    };
    return cmocka_run_group_tests_name("faults: crash", tests, NULL, NULL);
}
