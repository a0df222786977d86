/* it_data.c — the data and functions tier as one application: in one commit
 * a Lambda function in two private subnets that reads a Secrets Manager
 * secret (its role may read that secret alone), a PostgreSQL RDS instance in
 * the same subnets whose security group admits the function's group alone,
 * and an instance with a gp3 volume attached. Each part is checked through
 * the AWS API (never through the tables), then changed, rolled back to the
 * first commit and deleted; the secret's value and the master password
 * never reach the database, the journal, the log or a dump. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "it_util.h"

/* A tiny zip with an index.py whose handler returns a body. */
#define ZIP                                                                                        \
    "UEsDBBQAAAAAAAAAIVC4eJ6BSwAAAEsAAAAIAAAAaW5kZXgucHlkZWYgaGFuZGxlcihldmVudCwgY29udGV4dCk6Ci"   \
    "AgICByZXR1cm4geydzdGF0dXNDb2RlJzogMjAwLCAnYm9keSc6ICdvbmUnfQpQSwECFAMUAAAAAAAAACFQuHiegUsA"   \
    "AABLAAAACAAAAAAAAAAAAAAAgAEAAAAAaW5kZXgucHlQSwUGAAAAAAEAAQA2AAAAcQAAAAAA"
#define TRUST                                                                                      \
    "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": "        \
    "{\"Service\": \"lambda.amazonaws.com\"}, \"Action\": \"sts:AssumeRole\"}]}"
#define PUBKEY                                                                                     \
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC5I9nKjNoT+4lpryx09yvMW1HXeGyplXwe4VPzyk39HKwSCV2LIi"   \
    "GDHYz3uMmlC8tK8nM8Tg10xNb+cTXjY/D8ZZZ0dNx3UE/1CFc1Fxg/QCRdQZOYpR5Kdyt6U3YnlIPofxcOXtmpX7L9"   \
    "D+7tDijsucnVe/5aixE/mbPLsZq2sBYKWzs1GeTbBm5oWRGC5hF/RLaaUle44gc6ZBcMaVO6ZHSuU+UJE+T9QaGDaU"   \
    "rQvVAP6MUpCKHAdBPdU8NTei0pxjlnV0G6wTMkRYURjZncLwVYObqkr4LfZT6LcIgG3MHnWHvOtqtomebkapPWK7sR"   \
    "yuqt6yqfbmXLglR+sHlV"

static char sfx[32];

static int setup(void **state)
{
    if (it_fixture(state, "data", false))
        return -1;
    return it_ok(*state,
                 "SELECT * FROM iasql_install('aws_secrets_manager', 'aws_lambda', 'aws_rds', "
                 "'aws_ec2')",
                 0, NULL)
               ? 0
               : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

/* One REST-JSON call straight to the emulator (Lambda): the decoded answer
 * ({} when none), *status its HTTP status. */
static json_t *lambda_get(it_env *e, const char *path, long *status)
{
    char url[2048];
    snprintf(url, sizeof url, "%s%s", e->emulator, path);
    const char *reply;
    *status = it_http_full("lambda", "Content-Type: application/json", "GET", url, NULL, &reply);
    json_t *j = json_loads(reply, 0, NULL);
    return j ? j : json_object();
}

static json_t *cloud_fn(it_env *e, const char *name, long *status)
{
    char path[256];
    snprintf(path, sizeof path, "/2015-03-31/functions/%s", name);
    return lambda_get(e, path, status);
}

static json_t *sm(it_env *e, const char *op, json_t *body, long *status)
{
    char target[96];
    snprintf(target, sizeof target, "secretsmanager.%s", op);
    long st;
    json_t *j = it_aws_json(e, "secretsmanager", "1.1", target, body, &st);
    if (status)
        *status = st;
    return j;
}

static const char *conf_str(const json_t *fn, const char *member)
{
    return json_string_value(json_object_get(json_object_get(fn, "Configuration"), member));
}

/* Whether the JSON array arr holds the string s. */
static bool has_str(const json_t *arr, const char *s)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

/* The cloud's view of the whole application, checked against what the
 * rows asked for: memory of the function, backups of the database, the
 * volume's IOPS, the database's port rule. */
static void check_cloud(it_env *e, const char *fn_name, const char *db_id, int memory, int backups,
                        int iops, int port)
{
    char *fn_sg = it_strdup(
        it_valf(e, "SELECT group_id FROM security_group WHERE group_name = 'fn-%s'", sfx));
    char *db_sg = it_strdup(
        it_valf(e, "SELECT group_id FROM security_group WHERE group_name = 'db-%s'", sfx));
    char *sub_a =
        it_strdup(it_valf(e, "SELECT subnet_id FROM subnet WHERE cidr_block = '10.42.1.0/24'"));
    char *sub_b =
        it_strdup(it_valf(e, "SELECT subnet_id FROM subnet WHERE cidr_block = '10.42.2.0/24'"));

    /* the function: in both private subnets, in its own group, the secret
     * named by its ARN */
    long st;
    json_t *fn = cloud_fn(e, fn_name, &st);
    assert_int_equal(st, 200);
    json_t *vpc = json_object_get(json_object_get(fn, "Configuration"), "VpcConfig");
    assert_int_equal(json_array_size(json_object_get(vpc, "SubnetIds")), 2);
    assert_true(has_str(json_object_get(vpc, "SubnetIds"), sub_a));
    assert_true(has_str(json_object_get(vpc, "SubnetIds"), sub_b));
    assert_int_equal(json_array_size(json_object_get(vpc, "SecurityGroupIds")), 1);
    assert_true(has_str(json_object_get(vpc, "SecurityGroupIds"), fn_sg));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(fn, "Configuration"), "MemorySize")),
        memory);
    char secret_name[64];
    snprintf(secret_name, sizeof secret_name, "data-%s", sfx);
    json_t *secret = sm(e, "DescribeSecret", json_pack("{s:s}", "SecretId", secret_name), &st);
    assert_int_equal(st, 200);
    const char *secret_arn = json_string_value(json_object_get(secret, "ARN"));
    assert_non_null(secret_arn);
    const json_t *vars = json_object_get(
        json_object_get(json_object_get(fn, "Configuration"), "Environment"), "Variables");
    assert_string_equal(json_string_value(json_object_get(vars, "DB_SECRET")), secret_arn);
    assert_string_equal(json_string_value(json_object_get(vars, "DB_NAME")), "orders");

    /* its role may read that secret and nothing else */
    char role[64];
    snprintf(role, sizeof role, "data-fn-%s", sfx);
    assert_true(strstr(conf_str(fn, "Role"), role) != NULL);
    char *x = it_queryf(e, "iam", "2010-05-08", NULL, "Action=ListRolePolicies&RoleName=%s", role);
    assert_non_null(strstr(x, "<member>read-db-secret</member>"));
    free(x);
    x = it_queryf(e, "iam", "2010-05-08", NULL,
                  "Action=GetRolePolicy&RoleName=%s&PolicyName=read-db-secret", role);
    char *doc = it_strdup(it_xml_text(x, "PolicyDocument"));
    assert_non_null(doc);
    /* the document comes URL-encoded, as AWS gives it, or plain */
    assert_true(strstr(doc, "secretsmanager%3AGetSecretValue") ||
                strstr(doc, "secretsmanager:GetSecretValue"));
    assert_non_null(strstr(doc, secret_name));
    free(doc), free(x);
    json_decref(secret);

    /* the database: in the two subnets, in its group alone, not public, its
     * endpoint written back to the row */
    x = it_queryf(e, "rds", "2014-10-31", NULL,
                  "Action=DescribeDBInstances&DBInstanceIdentifier=%s", db_id);
    assert_non_null(strstr(x, sub_a));
    assert_non_null(strstr(x, sub_b));
    char *groups = it_strdup(it_xml_text(x, "VpcSecurityGroups"));
    assert_non_null(groups);
    assert_non_null(strstr(groups, db_sg));
    assert_int_equal(it_count(groups, "<VpcSecurityGroupId>"), 1);
    free(groups);
    char *pub = it_strdup(it_xml_text(x, "PubliclyAccessible"));
    assert_string_equal(pub, "false");
    free(pub);
    char *ret = it_strdup(it_xml_text(x, "BackupRetentionPeriod"));
    assert_int_equal(atoi(ret), backups);
    free(ret);
    char *addr = it_strdup(it_xml_text(strstr(x, "<Endpoint>"), "Address"));
    assert_non_null(addr);
    char *row_addr = it_strdup(
        it_valf(e, "SELECT endpoint_addr FROM rds WHERE db_instance_identifier = '%s'", db_id));
    assert_string_equal(row_addr, addr);
    free(addr), free(row_addr), free(x);

    /* the database's group admits the function's group on the port, and no
     * address range */
    x = it_ec2(e, "Action=DescribeSecurityGroups&GroupId.1=%s", db_sg);
    char *perms = it_strdup(it_xml_text(x, "ipPermissions"));
    assert_non_null(perms);
    assert_int_equal(it_count(perms, "<groupId>"), 1);
    assert_non_null(strstr(perms, fn_sg));
    assert_null(strstr(perms, "<cidrIp>"));
    char port_s[32];
    snprintf(port_s, sizeof port_s, "<fromPort>%d</fromPort>", port);
    assert_non_null(strstr(perms, port_s));
    free(perms), free(x);

    /* the volume: attached to the instance as /dev/sdf, its IOPS */
    char *vol = it_strdup(
        it_valf(e, "SELECT volume_id FROM general_purpose_volume WHERE tags->>'app' = '%s'", sfx));
    char *inst =
        it_strdup(it_valf(e, "SELECT instance_id FROM instance WHERE tags->>'app' = '%s'", sfx));
    x = it_ec2(e, "Action=DescribeVolumes&VolumeId.1=%s", vol);
    char *att = it_strdup(it_xml_text(x, "attachmentSet"));
    assert_non_null(att);
    assert_non_null(strstr(att, inst));
    assert_non_null(strstr(att, "<device>/dev/sdf</device>"));
    assert_non_null(strstr(att, "<status>attached</status>"));
    char *iops_s = it_strdup(it_xml_text(x, "iops"));
    assert_int_equal(atoi(iops_s), iops);
    free(iops_s), free(att), free(x), free(vol), free(inst);
    json_decref(fn);
    free(fn_sg), free(db_sg), free(sub_a), free(sub_b);
}

static void test_data_tier_scenario(void **state)
{
    it_env *e = *state;
    snprintf(sfx, sizeof sfx, "%d", (int)getpid());
    char fn_name[64], db_id[64], secret_pw[64], db_pw[64];
    snprintf(fn_name, sizeof fn_name, "orders-%s", sfx);
    snprintf(db_id, sizeof db_id, "orders-%s", sfx);
    snprintf(secret_pw, sizeof secret_pw, "Sm-Value-%s-Zq8", sfx);
    snprintf(db_pw, sizeof db_pw, "Rds-Master-%s-Wk3", sfx);
    char policy[1024];
    snprintf(policy, sizeof policy,
             "{\"read-db-secret\": {\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": "
             "\"Allow\", \"Action\": \"secretsmanager:GetSecretValue\", \"Resource\": "
             "\"arn:aws:secretsmanager:us-east-1:*:secret:data-%s-*\"}]}}",
             sfx);
    const char *p[] = {sfx, secret_pw, db_pw, TRUST, policy, ZIP, PUBKEY};
    /* one transaction, one commit: 14 resources */
    assert_true(it_ok(e, "BEGIN", 0, NULL));
    assert_true(it_ok(
        e,
        "WITH v AS (INSERT INTO vpc (cidr_block, tags) VALUES ('10.42.0.0/16', "
        "jsonb_build_object('app', $1::text)) RETURNING id), "
        "s AS (INSERT INTO subnet (vpc, cidr_block, availability_zone) SELECT v.id, c, z "
        "FROM v, (VALUES ('10.42.1.0/24'::cidr, 'us-east-1a'), ('10.42.2.0/24', 'us-east-1b')) "
        "AS t(c, z) RETURNING id) "
        "INSERT INTO security_group (group_name, description, vpc) SELECT n || $1, 'data tier', "
        "v.id FROM v, (VALUES ('fn-'), ('db-')) AS t(n)",
        1, p));
    assert_true(it_ok(e,
                      "INSERT INTO security_group_rule (security_group, ip_protocol, from_port, "
                      "to_port, source_security_group) SELECT d.id, 'tcp', 5432, 5432, f.id "
                      "FROM security_group d, security_group f WHERE d.group_name = 'db-' || $1 "
                      "AND f.group_name = 'fn-' || $1",
                      1, p));
    assert_true(it_ok(e,
                      "INSERT INTO secret (name, description, value) VALUES ('data-' || $1, "
                      "'the orders database', $2)",
                      2, p));
    const char *rp[] = {sfx, TRUST, policy};
    assert_true(it_ok(e,
                      "INSERT INTO iam_role (role_name, assume_role_policy_document, "
                      "inline_policies) VALUES ('data-fn-' || $1, $2::jsonb, $3::jsonb)",
                      3, rp));
    const char *fp[] = {sfx, ZIP};
    assert_true(it_ok(
        e,
        "INSERT INTO lambda_function (name, runtime, handler, role, zip_b64, subnets, "
        "security_groups, environment) SELECT 'orders-' || $1, 'python3.12', 'index.handler', "
        "r.id, $2, (SELECT array_agg(id ORDER BY cidr_block) FROM subnet WHERE cidr_block << "
        "'10.42.0.0/16'), ARRAY[(SELECT id FROM security_group WHERE group_name = 'fn-' || $1)], "
        "jsonb_build_object('DB_SECRET', jsonb_build_object('secret', 'data-' || $1), 'DB_NAME', "
        "'orders') FROM iam_role r WHERE r.role_name = 'data-fn-' || $1",
        2, fp));
    const char *dp[] = {sfx, db_pw};
    assert_true(it_ok(e,
                      "INSERT INTO db_subnet_group (name, description, subnets) SELECT "
                      "'orders-' || $1, 'private subnets', array_agg(id) FROM subnet "
                      "WHERE cidr_block << '10.42.0.0/16'",
                      1, dp));
    assert_true(it_ok(e,
                      "INSERT INTO rds (db_instance_identifier, engine, engine_version, "
                      "db_instance_class, allocated_storage, db_subnet_group, security_groups, "
                      "master_username, master_user_password, backup_retention_period) "
                      "SELECT 'orders-' || $1, 'postgres', '15.4', 'db.t3.micro', 20, g.id, "
                      "ARRAY[(SELECT id FROM security_group WHERE group_name = 'db-' || $1)], "
                      "'app', $2, 1 FROM db_subnet_group g WHERE g.name = 'orders-' || $1",
                      2, dp));
    const char *kp[] = {sfx, PUBKEY};
    assert_true(
        it_ok(e, "INSERT INTO key_pair (name, public_key) VALUES ('data-' || $1, $2)", 2, kp));
    assert_true(it_ok(e,
                      "INSERT INTO instance (ami, instance_type, subnet, key_pair, tags) SELECT "
                      "'ami-12c6146b', 't2.micro', s.id, k.id, jsonb_build_object('app', $1::text) "
                      "FROM subnet s, key_pair k WHERE s.cidr_block = '10.42.1.0/24' "
                      "AND k.name = 'data-' || $1",
                      1, p));
    assert_true(it_ok(e,
                      "INSERT INTO general_purpose_volume (volume_type, availability_zone, size, "
                      "iops, throughput, attached_instance, instance_device_name, tags) SELECT "
                      "'gp3', 'us-east-1a', 10, 3000, 125, i.id, '/dev/sdf', "
                      "jsonb_build_object('app', $1::text) FROM instance i "
                      "WHERE i.tags->>'app' = $1",
                      1, p));
    assert_true(it_ok(e, "COMMIT", 0, NULL));
    /* the secrets are masks in the rows already */
    assert_string_equal(it_valf(e, "SELECT count(*) FROM secret WHERE value = '%s'", secret_pw),
                        "0");
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM rds WHERE master_user_password = '%s'", db_pw), "0");

    double t0 = it_now_s();
    PGresult *r = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    double took = it_now_s() - t0;
    int made = PQntuples(r);
    for (int i = 0; i < made; i++)
        if (strcmp(PQgetvalue(r, i, 0), "create") != 0 || strstr(PQgetvalue(r, i, 1), "failed"))
            fail_msg("row %d: %s: %s", i, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    print_message("one commit: %d resources in %.1f s\n", made, took);
    assert_int_equal(made, 14);
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    check_cloud(e, fn_name, db_id, 128, 1, 3000, 5432);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* changed: the function's memory, the database's backups, the volume's
     * IOPS and the port the database's group admits */
    assert_true(
        it_okf(e, "UPDATE lambda_function SET memory_size = 256 WHERE name = '%s'", fn_name));
    assert_true(
        it_okf(e, "UPDATE rds SET backup_retention_period = 7 WHERE db_instance_identifier = '%s'",
               db_id));
    assert_true(
        it_okf(e, "UPDATE general_purpose_volume SET iops = 4000 WHERE tags->>'app' = '%s'", sfx));
    assert_true(it_okf(e,
                       "UPDATE security_group_rule SET from_port = 6432, to_port = 6432 WHERE "
                       "security_group = (SELECT id FROM security_group WHERE group_name = "
                       "'db-%s') AND NOT is_egress",
                       sfx));
    r = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    assert_true(PQntuples(r) >= 4);
    for (int i = 0; i < PQntuples(r); i++)
        if (strstr(PQgetvalue(r, i, 1), "failed"))
            fail_msg("row %d: %s", i, PQgetvalue(r, i, 1));
    PQclear(r);
    check_cloud(e, fn_name, db_id, 256, 7, 4000, 6432);

    /* back to the first commit */
    const char *f[] = {first};
    r = it_sql(e, "SELECT action, description FROM iasql_rollback($1::bigint)", 1, f);
    assert_non_null(r);
    for (int i = 0; i < PQntuples(r); i++)
        if (strstr(PQgetvalue(r, i, 1), "failed"))
            fail_msg("rollback row %d: %s", i, PQgetvalue(r, i, 1));
    PQclear(r);
    check_cloud(e, fn_name, db_id, 128, 1, 3000, 5432);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* neither secret anywhere it must never be */
    assert_int_equal(it_leaks(e, secret_pw), 0);
    assert_int_equal(it_leaks(e, db_pw), 0);
    assert_true(it_leaks(e, fn_name) > 0); /* the search does see plain values */

    /* deleted: everything goes, in the order the references ask for */
    assert_true(it_ok(e, "BEGIN", 0, NULL));
    assert_true(it_okf(e, "DELETE FROM general_purpose_volume WHERE tags->>'app' = '%s'", sfx));
    assert_true(it_okf(e, "DELETE FROM instance WHERE tags->>'app' = '%s'", sfx));
    assert_true(it_okf(e, "DELETE FROM key_pair WHERE name = 'data-%s'", sfx));
    assert_true(it_okf(e, "DELETE FROM rds WHERE db_instance_identifier = '%s'", db_id));
    assert_true(it_okf(e, "DELETE FROM db_subnet_group WHERE name = 'orders-%s'", sfx));
    assert_true(it_okf(e, "DELETE FROM lambda_function WHERE name = '%s'", fn_name));
    assert_true(it_okf(e, "DELETE FROM secret WHERE name = 'data-%s'", sfx));
    assert_true(it_okf(e,
                       "DELETE FROM security_group_rule WHERE source_security_group = (SELECT id "
                       "FROM security_group WHERE group_name = 'fn-%s')",
                       sfx));
    assert_true(it_okf(e, "DELETE FROM security_group WHERE group_name LIKE '%%-%s'", sfx));
    assert_true(it_ok(e, "DELETE FROM subnet WHERE cidr_block << '10.42.0.0/16'", 0, NULL));
    assert_true(it_ok(e, "DELETE FROM vpc WHERE cidr_block = '10.42.0.0/16'", 0, NULL));
    assert_true(it_okf(e, "DELETE FROM iam_role WHERE role_name = 'data-fn-%s'", sfx));
    assert_true(it_ok(e, "COMMIT", 0, NULL));
    r = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    for (int i = 0; i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, 0), "delete") != 0 || strstr(PQgetvalue(r, i, 1), "failed"))
            fail_msg("row %d: %s: %s", i, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    long st;
    json_decref(cloud_fn(e, fn_name, &st));
    assert_int_equal(st, 404);
    char *x = it_queryf(e, "rds", "2014-10-31", &st,
                        "Action=DescribeDBInstances&DBInstanceIdentifier=%s", db_id);
    assert_int_not_equal(st, 200);
    free(x);
    char name[64];
    snprintf(name, sizeof name, "data-%s", sfx);
    json_decref(sm(e, "DescribeSecret", json_pack("{s:s}", "SecretId", name), &st));
    assert_int_not_equal(st, 200);
    x = it_ec2(e, "Action=DescribeVolumes&Filter.1.Name=tag:app&Filter.1.Value.1=%s", sfx);
    assert_null(strstr(x, "<volumeId>"));
    free(x);
    x = it_ec2(e, "Action=DescribeVpcs&Filter.1.Name=cidr&Filter.1.Value.1=10.42.0.0/16");
    assert_null(strstr(x, "<vpcId>"));
    free(x);
    free(first);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_data_tier_scenario, setup, teardown),
    };
    return cmocka_run_group_tests_name("the data tier", tests, NULL, NULL);
}
