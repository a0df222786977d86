/* tests/integration/it_rollback.c — iasql_rollback(N) whatever changed
 * since, and what a user's scenarios found, as an application role, with
 * the cloud checked through the AWS API:
 * - a rollback to a commit at which a table was empty removes what was
 *   made in it since (queues, a topic, a bucket);
 * - a rollback across the EC2 family (a security group and an instance in
 *   it, made after N) takes them away children first;
 * - a topic made without a policy shows no drift, and a rollback sends no
 *   policy;
 * - an instance cannot lose its last security group;
 * - a VPC's own default security group, main route table and local route
 *   are not reported as made outside this database;
 * - `iasql run` that cannot start (no AWS credentials) makes no journal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "it_util.h"

static int setup(void **state)
{
    if (it_fixture(state, "rollback", true))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_sqs', 'aws_sns', 'aws_ec2')", 0, NULL)
               ? 0
               : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

static char run_id[32];

static const char *nm(const char *what)
{
    static char buf[4][96];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "rb-%s-%s", run_id, what);
    return buf[k];
}

static const char *last_commit(it_env *e)
{
    return it_value(e, "SELECT max(id)::text FROM iasql_commits");
}

/* SNS's topics named name: 1 or 0. */
static int cloud_topics(it_env *e, const char *name)
{
    const char *out;
    assert_int_equal(it_aws_query(e, "sns", "Action=ListTopics&Version=2010-03-31", &out), 200);
    char want[160];
    snprintf(want, sizeof want, ":%s</TopicArn>", name);
    return strstr(out, want) != NULL;
}

/* Commit 1 made one queue; commit 2 a second queue, a topic and a bucket,
 * in tables empty at 1: all three go. */
static void test_rollback_to_empty_tables(void **state)
{
    it_env *e = *state;
    assert_true(it_okf(e, "INSERT INTO queue (name) VALUES ('%s')", nm("q1")));
    it_expect_commit(e, 1, "create");
    char one[32];
    snprintf(one, sizeof one, "%s", last_commit(e));
    assert_true(it_okf(e, "INSERT INTO queue (name) VALUES ('%s')", nm("q2")));
    assert_true(it_okf(e, "INSERT INTO topic (name) VALUES ('%s')", nm("t")));
    assert_true(it_okf(e, "INSERT INTO bucket (name) VALUES ('%s')", nm("b")));
    it_expect_commit(e, 3, "create");
    assert_true(cloud_topics(e, nm("t")));
    PGresult *r = it_sql(e,
                         "SELECT action FROM iasql_rollback($1::bigint) WHERE description "
                         "NOT LIKE 'failed%'",
                         1, (const char *[]){one});
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 3);
    PQclear(r);
    /* the cloud, through its API: commit 1's state */
    json_t *q = it_cloud_queue(e, nm("q1"));
    assert_non_null(q);
    json_decref(q);
    assert_null(it_cloud_queue(e, nm("q2")));
    assert_false(cloud_topics(e, nm("t")));
    assert_false(it_cloud_has_bucket(e->emulator, nm("b")));
    /* and the tables */
    assert_string_equal(
        it_valf(e,
                "SELECT (SELECT count(*) FROM queue WHERE name LIKE 'rb-%s-%%') "
                "|| ',' || (SELECT count(*) FROM topic WHERE name LIKE 'rb-%s-%%') "
                "|| ',' || (SELECT count(*) FROM bucket WHERE name LIKE 'rb-%s-%%')",
                run_id, run_id, run_id),
        "1,0,0");
    assert_string_equal(it_value(e, "SELECT status FROM iasql_commits ORDER BY id DESC LIMIT 1"),
                        "ok");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
}

static int ec2_items(it_env *e, const char *fmt, const char *id, const char *item)
{
    char *x = it_ec2(e, fmt, id);
    int n = it_count(x, item);
    free(x);
    return n;
}

/* Commit 1 made a VPC and a subnet; commit 2 a security group and an
 * instance in it. Back to 1: the instance is terminated, the group gone. */
static void test_rollback_ec2_family(void **state)
{
    it_env *e = *state;
    assert_true(it_okf(e,
                       "INSERT INTO vpc (cidr_block, tags) VALUES ('10.61.0.0/16', "
                       "'{\"run\": \"%s\"}')",
                       run_id));
    assert_true(it_okf(e,
                       "INSERT INTO subnet (vpc, cidr_block, availability_zone) SELECT id, "
                       "'10.61.1.0/24', 'us-east-1a' FROM vpc WHERE tags->>'run' = '%s'",
                       run_id));
    PGresult *r = it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    PQclear(r);
    char one[32];
    snprintf(one, sizeof one, "%s", last_commit(e));
    assert_true(it_okf(e,
                       "INSERT INTO security_group (group_name, description, vpc) SELECT '%s', "
                       "'web', id FROM vpc WHERE tags->>'run' = '%s'",
                       nm("sg"), run_id));
    assert_true(it_okf(e,
                       "INSERT INTO instance (ami, instance_type, subnet, security_groups, tags) "
                       "SELECT 'ami-12c6146b', 't2.micro', s.id, ARRAY[g.id], '{\"run\": \"%s\"}' "
                       "FROM subnet s JOIN vpc v ON v.id = s.vpc, security_group g "
                       "WHERE v.tags->>'run' = '%s' AND g.group_name = '%s'",
                       run_id, run_id, nm("sg")));
    r = it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    PQclear(r);
    char iid[64], gid[64], vid[64];
    snprintf(iid, sizeof iid, "%s",
             it_valf(e, "SELECT instance_id FROM instance WHERE tags->>'run' = '%s'", run_id));
    snprintf(gid, sizeof gid, "%s",
             it_valf(e, "SELECT group_id FROM security_group WHERE group_name = '%s'", nm("sg")));
    snprintf(vid, sizeof vid, "%s",
             it_valf(e, "SELECT vpc_id FROM vpc WHERE tags->>'run' = '%s'", run_id));
    r = it_sql(e, "SELECT action, description FROM iasql_rollback($1::bigint)", 1,
               (const char *[]){one});
    if (!r)
        fail_msg("the rollback across the EC2 family failed");
    for (int i = 0; i < PQntuples(r); i++)
        if (strncmp(PQgetvalue(r, i, 1), "failed", 6) == 0)
            fail_msg("rollback row: %s", PQgetvalue(r, i, 1));
    PQclear(r);
    /* the cloud: no running instance, no group, the VPC still there */
    assert_int_equal(ec2_items(e,
                               "Action=DescribeInstances&InstanceId.1=%s&Filter.1.Name="
                               "instance-state-name&Filter.1.Value.1=running",
                               iid, "<instanceId>"),
                     0);
    char *x =
        it_ec2(e, "Action=DescribeSecurityGroups&Filter.1.Name=group-id&Filter.1.Value.1=%s", gid);
    assert_null(strstr(x, "<groupId>"));
    free(x);
    assert_int_equal(ec2_items(e, "Action=DescribeVpcs&VpcId.1=%s", vid, "<vpcId>"), 1);
    /* the tables: commit 1's rows */
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM instance WHERE tags->>'run' = '%s'", run_id), "0");
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM security_group WHERE group_name = '%s'", nm("sg")), "0");
    assert_string_equal(it_valf(e,
                                "SELECT count(*) FROM subnet s JOIN vpc v ON v.id = s.vpc "
                                "WHERE v.tags->>'run' = '%s'",
                                run_id),
                        "1");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* and forward again: back to commit 2 makes them anew */
    char two[32];
    snprintf(two, sizeof two, "%llu", strtoull(one, NULL, 10) + 1);
    r = it_sql(e, "SELECT action, description FROM iasql_rollback($1::bigint)", 1,
               (const char *[]){two});
    assert_non_null(r);
    for (int i = 0; i < PQntuples(r); i++)
        if (strncmp(PQgetvalue(r, i, 1), "failed", 6) == 0)
            fail_msg("rollback forward row: %s", PQgetvalue(r, i, 1));
    PQclear(r);
    assert_string_equal(it_valf(e,
                                "SELECT count(*) FROM instance WHERE tags->>'run' = '%s' AND "
                                "instance_id IS NOT NULL",
                                run_id),
                        "1");
}

/* A topic made with policy NULL: no drift at the first sync, and a
 * rollback to before a policy change sends the default back only then. */
static void test_topic_default_policy(void **state)
{
    it_env *e = *state;
    assert_true(it_okf(e, "INSERT INTO topic (name) VALUES ('%s')", nm("pt")));
    it_expect_commit(e, 1, "create");
    PGresult *r = it_sql(
        e, "SELECT action, description FROM iasql_sync() WHERE table_name = 'topic'", 0, NULL);
    assert_non_null(r);
    for (int i = 0; i < PQntuples(r); i++)
        fail_msg("sync after a create: %s %s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    assert_string_equal(it_valf(e, "SELECT policy IS NULL FROM topic WHERE name = '%s'", nm("pt")),
                        "t");
    /* a commit that changes only the display name sends no policy */
    assert_true(it_okf(e, "UPDATE topic SET display_name = 'x' WHERE name = '%s'", nm("pt")));
    r = it_sql(e, "SELECT description FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 1);
    assert_non_null(strstr(PQgetvalue(r, 0, 0), "display_name changed"));
    assert_null(strstr(PQgetvalue(r, 0, 0), "policy"));
    PQclear(r);
}

/* UPDATE instance SET security_groups = '{}' is refused at the UPDATE. */
static void test_instance_keeps_a_security_group(void **state)
{
    it_env *e = *state;
    assert_true(it_okf(e,
                       "INSERT INTO vpc (cidr_block, tags) VALUES ('10.62.0.0/16', "
                       "'{\"run\": \"%s-keep\"}')",
                       run_id));
    assert_true(it_okf(e,
                       "INSERT INTO subnet (vpc, cidr_block, availability_zone) SELECT id, "
                       "'10.62.1.0/24', 'us-east-1a' FROM vpc WHERE tags->>'run' = '%s-keep'",
                       run_id));
    assert_true(it_okf(e,
                       "INSERT INTO security_group (group_name, description, vpc) SELECT '%s', "
                       "'web', id FROM vpc WHERE tags->>'run' = '%s-keep'",
                       nm("sg2"), run_id));
    assert_true(it_okf(e,
                       "INSERT INTO instance (ami, instance_type, subnet, security_groups) "
                       "SELECT 'ami-12c6146b', 't2.micro', s.id, ARRAY[g.id] FROM subnet s "
                       "JOIN vpc v ON v.id = s.vpc, security_group g WHERE v.tags->>'run' = "
                       "'%s-keep' AND g.group_name = '%s'",
                       run_id, nm("sg2")));
    PGresult *r = it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    PQclear(r);
    char sql[512];
    snprintf(sql, sizeof sql,
             "UPDATE instance SET security_groups = '{}' WHERE subnet = (SELECT s.id FROM subnet s "
             "JOIN vpc v ON v.id = s.vpc WHERE v.tags->>'run' = '%s-keep')",
             run_id);
    const char *msg = it_sql_error(e, sql);
    if (!msg || !strstr(msg, "instance_keeps_a_security_group"))
        fail_msg("emptied security groups: %s", msg ? msg : "accepted");
    /* the link view says the same */
    snprintf(sql, sizeof sql,
             "DELETE FROM instance_security_group WHERE instance = (SELECT i.id FROM instance i "
             "JOIN subnet s ON s.id = i.subnet JOIN vpc v ON v.id = s.vpc WHERE v.tags->>'run' = "
             "'%s-keep')",
             run_id);
    msg = it_sql_error(e, sql);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "instance_keeps_a_security_group"));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
}

/* The parts AWS makes with a VPC come in with it, not as made outside. */
static void test_vpc_parts_taken_in(void **state)
{
    it_env *e = *state;
    assert_true(it_okf(e,
                       "INSERT INTO vpc (cidr_block, tags) VALUES ('10.63.0.0/16', "
                       "'{\"run\": \"%s-parts\"}')",
                       run_id));
    it_expect_commit(e, 1, "create");
    PGresult *r = it_sql(e, "SELECT table_name, description FROM iasql_sync()", 0, NULL);
    assert_non_null(r);
    for (int i = 0; i < PQntuples(r); i++)
        if (strstr(PQgetvalue(r, i, 1), "made outside this database"))
            fail_msg("after a VPC create, sync says: %s %s", PQgetvalue(r, i, 0),
                     PQgetvalue(r, i, 1));
    PQclear(r);
    /* they are rows, though */
    const char *vpc = it_valf(e, "SELECT id FROM vpc WHERE tags->>'run' = '%s-parts'", run_id);
    char v[32];
    snprintf(v, sizeof v, "%s", vpc);
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM security_group WHERE vpc = %s AND group_name = 'default'",
                v),
        "1");
    assert_string_equal(it_valf(e, "SELECT count(*) FROM route_table WHERE vpc = %s AND main", v),
                        "1");
    assert_string_equal(
        it_valf(e,
                "SELECT count(*) FROM route r JOIN route_table t ON t.id = r.route_table "
                "WHERE t.vpc = %s AND r.local",
                v),
        "1");
}

/* An engine that cannot start (no AWS credentials) leaves no journal. */
static void test_failed_start_makes_no_journal(void **state)
{
    it_env *e = *state;
    char dir[] = "/tmp/iasql-nostate.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[2048];
    snprintf(
        cmd, sizeof cmd,
        "env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE "
        "HOME='%s' XDG_STATE_HOME='%s/state' AWS_SHARED_CREDENTIALS_FILE='%s/none' "
        "AWS_CONFIG_FILE='%s/none' \"%s\" run \"%s\" >'%s/out' 2>&1",
        dir, dir, dir, dir, getenv("IASQL_BIN"), e->engine_conninfo, dir);
    int st = system(cmd);
    assert_int_not_equal(st, 0);
    snprintf(cmd, sizeof cmd, "grep -qi 'credentials' '%s/out'", dir);
    assert_int_equal(system(cmd), 0);
    char state_dir[256];
    snprintf(state_dir, sizeof state_dir, "%s/state", dir);
    struct stat sb;
    assert_int_not_equal(stat(state_dir, &sb), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    snprintf(run_id, sizeof run_id, "%d", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollback_to_empty_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_ec2_family, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic_default_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instance_keeps_a_security_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vpc_parts_taken_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_start_makes_no_journal, setup, teardown),
    };
    return cmocka_run_group_tests_name(
        "integration: rollback to any commit point, and user findings", tests, NULL, NULL);
}
