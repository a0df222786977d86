/* tests/integration/it_ec2.c — modules aws_vpc, aws_security_group and
 * aws_ec2 end to end against moto_server: a VPC, subnet, internet gateway,
 * route table and route, a security group with rules, a key pair and an
 * instance in one commit (cloud ids written back and used by the dependent
 * creates of the same commit); an update in place (stop, tags, groups); a
 * replace that takes its dependents along, shown by the preview first;
 * everything deleted in one commit; a failure in the middle of a graph
 * that fails only its dependents; the account's default VPC imported and
 * never touched; bad values refused at INSERT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "it_util.h"

static int setup(void **state)
{
    if (it_fixture(state, "ec2", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_ec2')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

#define PUBKEY                                                                                     \
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC5I9nKjNoT+4lpryx09yvMW1HXeGyplXwe4VPzyk39HKwSCV2LIi"   \
    "GDHYz3uMmlC8tK8nM8Tg10xNb+cTXjY/D8ZZZ0dNx3UE/1CFc1Fxg/QCRdQZOYpR5Kdyt6U3YnlIPofxcOXtmpX7L9"   \
    "D+7tDijsucnVe/5aixE/mbPLsZq2sBYKWzs1GeTbBm5oWRGC5hF/RLaaUle44gc6ZBcMaVO6ZHSuU+UJE+T9QaGDaU"   \
    "rQvVAP6MUpCKHAdBPdU8NTei0pxjlnV0G6wTMkRYURjZncLwVYObqkr4LfZT6LcIgG3MHnWHvOtqtomebkapPWK7sR"   \
    "yuqt6yqfbmXLglR+sHlV"

static char sfx[32]; /* per run: names and tags of this run only */

static char *dup_val(it_env *e, const char *fmt, const char *arg)
{
    const char *v = it_valf(e, fmt, arg);
    return strdup(v ? v : "");
}

/* The result rows of a commit or preview as one text, "action table: description\n"... */
static char *rows_text(it_env *e, const char *sql, int *nrows, int *failed)
{
    PGresult *r = it_sql(e, sql, 0, NULL);
    assert_non_null(r);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    *nrows = PQntuples(r);
    if (failed)
        *failed = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *d = PQgetvalue(r, i, 3);
        if (failed && strncmp(d, "failed", 6) == 0)
            (*failed)++;
        len += (size_t)snprintf(out + len, cap - len, "%s %s: %s\n", PQgetvalue(r, i, 0),
                                PQgetvalue(r, i, 1), d);
    }
    PQclear(r);
    return out;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The whole stack for one VPC tagged Name=<name>, as rows. */
static void insert_stack(it_env *e, const char *name, const char *net)
{
    assert_true(
        it_okf(e, "INSERT INTO vpc (cidr_block, tags) VALUES ('%s.0.0/16', '{\"Name\": \"%s\"}')",
               net, name));
    assert_true(it_okf(
        e,
        "INSERT INTO subnet (vpc, cidr_block, availability_zone, tags) SELECT id, "
        "'%s.1.0/24', 'us-east-1a', '{\"Name\": \"%s\"}' FROM vpc WHERE tags->>'Name' = '%s'",
        net, name, name));
    assert_true(it_okf(
        e, "INSERT INTO internet_gateway (vpc) SELECT id FROM vpc WHERE tags->>'Name' = '%s'",
        name));
    assert_true(
        it_okf(e,
               "INSERT INTO route_table (vpc, tags) SELECT id, '{\"Name\": \"%s\"}' FROM vpc "
               "WHERE tags->>'Name' = '%s'",
               name, name));
    assert_true(it_okf(e,
                       "INSERT INTO route (route_table, destination_cidr_block, internet_gateway) "
                       "SELECT r.id, '0.0.0.0/0', g.id FROM route_table r JOIN internet_gateway g "
                       "USING (vpc) WHERE r.tags->>'Name' = '%s'",
                       name));
    assert_true(it_okf(e,
                       "INSERT INTO security_group (group_name, description, vpc) SELECT 'web-%s', "
                       "'web servers', id FROM vpc WHERE tags->>'Name' = '%s'",
                       name, name));
    assert_true(it_okf(e,
                       "INSERT INTO security_group_rule (security_group, ip_protocol, from_port, "
                       "to_port, cidr_ipv4, description) SELECT id, 'tcp', 443, 443, '0.0.0.0/0', "
                       "'https' FROM security_group WHERE group_name = 'web-%s'",
                       name));
    assert_true(it_okf(e,
                       "INSERT INTO security_group_rule (security_group, ip_protocol, from_port, "
                       "to_port, source_security_group) SELECT id, 'tcp', 8080, 8080, id FROM "
                       "security_group WHERE group_name = 'web-%s'",
                       name));
    assert_true(
        it_okf(e, "INSERT INTO key_pair (name, public_key) VALUES ('%s', '" PUBKEY "')", name));
    assert_true(
        it_okf(e,
               "INSERT INTO instance (ami, instance_type, subnet, key_pair, tags) SELECT "
               "'ami-12c6146b', 't2.micro', s.id, k.id, '{\"Name\": \"%s\"}' FROM subnet s, "
               "key_pair k WHERE s.tags->>'Name' = '%s' AND k.name = '%s'",
               name, name, name));
    assert_true(it_okf(e,
                       "INSERT INTO instance_security_group SELECT i.id, g.id FROM instance i, "
                       "security_group g WHERE i.tags->>'Name' = '%s' AND g.group_name = 'web-%s'",
                       name, name));
}

static void test_stack_create_update_replace_delete(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "stack-%s", sfx);
    insert_stack(e, name, "10.41");
    int n, failed;
    char *plan = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    if (n != 10)
        fprintf(stderr, "%s", plan);
    assert_int_equal(n, 10);
    assert_int_equal(count(plan, "will create "), 10);
    free(plan);

    /* One commit: every dependent create used the cloud id its parent got
     * a moment before. */
    char *res = rows_text(e, "SELECT * FROM iasql_commit()", &n, &failed);
    if (failed || n != 10)
        fprintf(stderr, "%s", res);
    assert_int_equal(n, 10);
    assert_int_equal(failed, 0);
    free(res);
    char *vpc_id = dup_val(e, "SELECT vpc_id FROM vpc WHERE tags->>'Name' = '%s'", name);
    char *subnet_id = dup_val(e, "SELECT subnet_id FROM subnet WHERE tags->>'Name' = '%s'", name);
    char *group_id =
        dup_val(e, "SELECT group_id FROM security_group WHERE group_name = 'web-%s'", name);
    char *iid = dup_val(e, "SELECT instance_id FROM instance WHERE tags->>'Name' = '%s'", name);
    assert_true(strncmp(vpc_id, "vpc-", 4) == 0);
    assert_true(strncmp(subnet_id, "subnet-", 7) == 0);
    assert_true(strncmp(group_id, "sg-", 3) == 0);
    assert_true(strncmp(iid, "i-", 2) == 0);
    assert_non_null(it_valf(e,
                            "SELECT private_ip_address FROM instance WHERE tags->>'Name' = '%s' "
                            "AND private_ip_address LIKE '10.41.1.%%'",
                            name));
    assert_string_equal(it_valf(e,
                                "SELECT count(*) FROM security_group_rule r JOIN security_group g "
                                "ON g.id = r.security_group WHERE g.group_name = 'web-%s' AND "
                                "r.security_group_rule_id LIKE 'sgr-%%'",
                                name),
                        "2");
    assert_string_equal(
        it_valf(e,
                "SELECT count(*) FROM internet_gateway g JOIN vpc v ON v.id = g.vpc "
                "WHERE v.vpc_id = '%s' AND g.internet_gateway_id LIKE 'igw-%%'",
                vpc_id),
        "1");

    /* The cloud agrees, read without the engine. */
    char *x = it_ec2(e, "Action=DescribeInstances&InstanceId.1=%s", iid);
    assert_string_equal(it_xml_text(x, "subnetId"), subnet_id);
    assert_string_equal(it_xml_text(x, "vpcId"), vpc_id);
    assert_string_equal(it_xml_text(x, "keyName"), name);
    assert_non_null(strstr(x, group_id));
    assert_non_null(strstr(x, "<name>running</name>"));
    free(x);
    x = it_ec2(e, "Action=DescribeRouteTables&Filter.1.Name=vpc-id&Filter.1.Value.1=%s", vpc_id);
    assert_non_null(strstr(x, "<destinationCidrBlock>0.0.0.0/0</destinationCidrBlock>"));
    assert_non_null(strstr(x, "<gatewayId>igw-"));
    free(x);
    x = it_ec2(e, "Action=DescribeSecurityGroupRules&Filter.1.Name=group-id&Filter.1.Value.1=%s",
               group_id);
    assert_non_null(strstr(x, "<fromPort>443</fromPort>"));
    assert_non_null(strstr(x, "<fromPort>8080</fromPort>"));
    free(x);
    res = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    assert_int_equal(n, 0);
    free(res);

    /* In place: stopped, retagged, another security group. */
    assert_true(it_okf(e,
                       "INSERT INTO security_group (group_name, description, vpc) SELECT 'ops-%s', "
                       "'operators', id FROM vpc WHERE tags->>'Name' = '%s'",
                       name, name));
    assert_true(
        it_okf(e,
               "UPDATE instance SET state = 'stopped', tags = tags || '{\"team\": \"core\"}' "
               "WHERE tags->>'Name' = '%s'",
               name));
    assert_true(it_okf(e,
                       "INSERT INTO instance_security_group SELECT i.id, g.id FROM instance i, "
                       "security_group g WHERE i.tags->>'Name' = '%s' AND g.group_name = 'ops-%s'",
                       name, name));
    plan = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    assert_int_equal(n, 2);
    assert_non_null(strstr(plan, "update instance: will update instance"));
    assert_non_null(strstr(plan, "create security_group"));
    free(plan);
    res = rows_text(e, "SELECT * FROM iasql_commit()", &n, &failed);
    assert_int_equal(failed, 0);
    free(res);
    assert_string_equal(
        it_valf(e, "SELECT instance_id FROM instance WHERE tags->>'Name' = '%s'", name), iid);
    x = it_ec2(e, "Action=DescribeInstances&InstanceId.1=%s", iid);
    assert_non_null(strstr(x, "<name>stopped</name>"));
    assert_non_null(strstr(x, "<key>team</key>"));
    char *ops_id =
        dup_val(e, "SELECT group_id FROM security_group WHERE group_name = 'ops-%s'", name);
    assert_non_null(strstr(x, ops_id));
    assert_non_null(strstr(x, group_id));
    free(x);

    /* A new range for the subnet is a replace; the instance in it cannot
     * move and is replaced too. The preview says so before anything runs. */
    assert_true(it_okf(
        e, "UPDATE subnet SET cidr_block = '10.41.2.0/24' WHERE tags->>'Name' = '%s'", name));
    plan = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    assert_int_equal(n, 2);
    assert_non_null(strstr(plan, "replace subnet: will replace subnet"));
    assert_non_null(strstr(plan, "replace instance: will replace instance"));
    assert_non_null(strstr(plan, "subnet (its subnet is replaced)"));
    free(plan);
    res = rows_text(e, "SELECT * FROM iasql_commit()", &n, &failed);
    if (failed)
        fprintf(stderr, "%s", res);
    assert_int_equal(failed, 0);
    free(res);
    char *subnet2 = dup_val(e, "SELECT subnet_id FROM subnet WHERE tags->>'Name' = '%s'", name);
    char *iid2 = dup_val(e, "SELECT instance_id FROM instance WHERE tags->>'Name' = '%s'", name);
    assert_string_not_equal(subnet2, subnet_id);
    assert_string_not_equal(iid2, iid);
    x = it_ec2(e, "Action=DescribeInstances&InstanceId.1=%s", iid2);
    assert_string_equal(it_xml_text(x, "subnetId"), subnet2);
    assert_non_null(strstr(x, "<name>stopped</name>")); /* its state came along */
    free(x);
    x = it_ec2(e, "Action=DescribeInstances&InstanceId.1=%s", iid);
    assert_non_null(strstr(x, "<name>terminated</name>"));
    free(x);
    x = it_ec2(e, "Action=DescribeSubnets&Filter.1.Name=vpc-id&Filter.1.Value.1=%s", vpc_id);
    assert_null(strstr(x, subnet_id));
    assert_non_null(strstr(x, subnet2));
    free(x);

    /* Everything deleted in one commit, children first. */
    assert_true(it_okf(e, "DELETE FROM instance WHERE tags->>'Name' = '%s'", name));
    assert_true(it_okf(e, "DELETE FROM key_pair WHERE name = '%s'", name));
    assert_true(it_okf(e,
                       "DELETE FROM internet_gateway WHERE vpc = (SELECT id FROM vpc WHERE "
                       "tags->>'Name' = '%s')",
                       name));
    assert_true(it_okf(e, "DELETE FROM vpc WHERE tags->>'Name' = '%s'", name));
    res = rows_text(e, "SELECT * FROM iasql_commit()", &n, &failed);
    if (failed || n != 11)
        fprintf(stderr, "%s", res);
    assert_int_equal(failed, 0);
    assert_int_equal(n, 11);
    assert_int_equal(count(res, "delete "), 11);
    free(res);
    x = it_ec2(e, "Action=DescribeVpcs&Filter.1.Name=vpc-id&Filter.1.Value.1=%s", vpc_id);
    assert_null(strstr(x, vpc_id));
    free(x);
    x = it_ec2(e, "Action=DescribeKeyPairs&Filter.1.Name=key-name&Filter.1.Value.1=%s", name);
    assert_null(strstr(x, "<keyName>"));
    free(x);
    free(vpc_id);
    free(subnet_id);
    free(group_id);
    free(iid);
    free(ops_id);
    free(subnet2);
    free(iid2);
}

static void test_failure_fails_dependents_only(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "part-%s", sfx);
    assert_true(it_okf(
        e, "INSERT INTO vpc (cidr_block, tags) VALUES ('10.42.0.0/16', '{\"Name\": \"%s\"}')",
        name));
    assert_true(it_okf(e,
                       "INSERT INTO subnet (vpc, cidr_block, availability_zone, tags) SELECT id, "
                       "'10.42.1.0/24', 'us-east-1a', '{\"Name\": \"a-%s\"}' FROM vpc WHERE "
                       "tags->>'Name' = '%s'",
                       name, name));
    int n, failed;
    char *res = rows_text(e, "SELECT * FROM iasql_commit()", &n, &failed);
    assert_int_equal(failed, 0);
    free(res);
    /* A second subnet overlapping the first: only the cloud knows. An
     * instance in it depends on it; a group and an instance in the first
     * subnet do not. */
    assert_true(it_okf(e,
                       "INSERT INTO subnet (vpc, cidr_block, availability_zone, tags) SELECT id, "
                       "'10.42.1.0/25', 'us-east-1b', '{\"Name\": \"b-%s\"}' FROM vpc WHERE "
                       "tags->>'Name' = '%s'",
                       name, name));
    assert_true(it_okf(e,
                       "INSERT INTO security_group (group_name, description, vpc) SELECT 'g-%s', "
                       "'independent', id FROM vpc WHERE tags->>'Name' = '%s'",
                       name, name));
    assert_true(it_okf(e,
                       "INSERT INTO instance (ami, instance_type, subnet, tags) SELECT "
                       "'ami-12c6146b', 't2.micro', id, '{\"Name\": \"b-%s\"}' FROM subnet WHERE "
                       "tags->>'Name' = 'b-%s'",
                       name, name));
    assert_true(it_okf(e,
                       "INSERT INTO instance (ami, instance_type, subnet, tags) SELECT "
                       "'ami-12c6146b', 't2.micro', id, '{\"Name\": \"a-%s\"}' FROM subnet WHERE "
                       "tags->>'Name' = 'a-%s'",
                       name, name));
    res = rows_text(e, "SELECT * FROM iasql_commit()", &n, &failed);
    assert_int_equal(n, 4);
    assert_int_equal(failed, 2);
    assert_non_null(strstr(res, "create subnet: failed to create subnet"));
    assert_non_null(strstr(res, "InvalidSubnet.Conflict"));
    assert_non_null(strstr(res, "create instance: failed to create instance"));
    assert_non_null(strstr(res, "not applied: it depends on subnet"));
    assert_non_null(strstr(res, "create security_group: created security_group"));
    assert_int_equal(count(res, "create instance: created instance"), 1);
    free(res);
    assert_non_null(it_valf(
        e, "SELECT 1 FROM instance WHERE tags->>'Name' = 'a-%s' AND instance_id LIKE 'i-%%'",
        name));
    assert_non_null(it_valf(
        e, "SELECT 1 FROM instance WHERE tags->>'Name' = 'b-%s' AND instance_id IS NULL", name));
    assert_non_null(
        it_valf(e, "SELECT 1 FROM iasql_get_errors() WHERE message LIKE '%%depends on subnet%%'"));

    /* Mended, the next commit does exactly what is missing. */
    assert_true(it_okf(
        e, "UPDATE subnet SET cidr_block = '10.42.2.0/24' WHERE tags->>'Name' = 'b-%s'", name));
    res = rows_text(e, "SELECT * FROM iasql_commit()", &n, &failed);
    assert_int_equal(n, 2);
    assert_int_equal(failed, 0);
    free(res);
    assert_non_null(it_valf(
        e, "SELECT 1 FROM instance WHERE tags->>'Name' = 'b-%s' AND instance_id LIKE 'i-%%'",
        name));

    assert_true(it_okf(e, "DELETE FROM instance WHERE tags->>'Name' LIKE '%%-%s'", name));
    assert_true(it_okf(e, "DELETE FROM vpc WHERE tags->>'Name' = '%s'", name));
    res = rows_text(e, "SELECT * FROM iasql_commit()", &n, &failed);
    if (failed)
        fprintf(stderr, "%s", res);
    assert_int_equal(failed, 0);
    free(res);
}

static void test_default_vpc(void **state)
{
    it_env *e = *state;
    /* Imported with its subnets, main route table and default group. */
    assert_non_null(it_valf(e, "SELECT 1 FROM vpc WHERE is_default"));
    assert_non_null(it_valf(e,
                            "SELECT 1 FROM subnet s JOIN vpc v ON v.id = s.vpc WHERE v.is_default "
                            "AND s.default_for_az"));
    assert_non_null(it_valf(e, "SELECT 1 FROM route_table r JOIN vpc v ON v.id = r.vpc WHERE "
                               "v.is_default AND r.main"));
    assert_non_null(it_valf(e, "SELECT 1 FROM route WHERE local"));
    assert_non_null(it_valf(e, "SELECT 1 FROM security_group g JOIN vpc v ON v.id = g.vpc WHERE "
                               "v.is_default AND g.group_name = 'default'"));
    /* Nothing pending: the engine does not touch them. */
    int n, failed;
    char *res = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    assert_int_equal(n, 0);
    free(res);
    /* AWS does not delete a default group or a main route table alone. */
    assert_true(it_okf(e, "DELETE FROM security_group WHERE group_name = 'default' AND vpc = "
                          "(SELECT id FROM vpc WHERE is_default)"));
    assert_true(it_okf(
        e, "DELETE FROM route_table WHERE main AND vpc = (SELECT id FROM vpc WHERE is_default)"));
    res = rows_text(e, "SELECT * FROM iasql_commit()", &n, &failed);
    assert_true(failed >= 2);
    assert_non_null(strstr(res, "goes with its vpc"));
    free(res);
    it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL);
    assert_non_null(it_valf(e, "SELECT 1 FROM security_group g JOIN vpc v ON v.id = g.vpc WHERE "
                               "v.is_default AND g.group_name = 'default'"));
    res = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    assert_int_equal(n, 0);
    free(res);
    /* A VPC of ours goes with its implicit parts in one commit. */
    char name[64];
    snprintf(name, sizeof name, "imp-%s", sfx);
    assert_true(it_okf(
        e, "INSERT INTO vpc (cidr_block, tags) VALUES ('10.43.0.0/16', '{\"Name\": \"%s\"}')",
        name));
    res = rows_text(e, "SELECT * FROM iasql_commit()", &n, &failed);
    assert_int_equal(failed, 0);
    free(res);
    char *vpc_id = dup_val(e, "SELECT vpc_id FROM vpc WHERE tags->>'Name' = '%s'", name);
    /* What AWS made with it, as an import would see it. */
    assert_true(
        it_okf(e, "SELECT * FROM iasql_uninstall('aws_ec2', 'aws_security_group', 'aws_vpc')"));
    assert_true(it_okf(e, "SELECT * FROM iasql_install('aws_ec2')"));
    assert_non_null(it_valf(e,
                            "SELECT 1 FROM security_group g JOIN vpc v ON v.id = g.vpc WHERE "
                            "v.vpc_id = '%s' AND g.group_name = 'default'",
                            vpc_id));
    assert_true(it_okf(e, "DELETE FROM vpc WHERE vpc_id = '%s'", vpc_id));
    res = rows_text(e, "SELECT * FROM iasql_commit()", &n, &failed);
    if (failed)
        fprintf(stderr, "%s", res);
    assert_int_equal(failed, 0);
    assert_true(n >= 4); /* vpc, its default group and egress rule, main table, local route */
    free(res);
    char *x = it_ec2(e, "Action=DescribeVpcs&Filter.1.Name=vpc-id&Filter.1.Value.1=%s", vpc_id);
    assert_null(strstr(x, vpc_id));
    free(x);
    free(vpc_id);
}

static void test_bad_input(void **state)
{
    it_env *e = *state;
    assert_true(it_okf(
        e, "INSERT INTO vpc (cidr_block, tags) VALUES ('10.44.0.0/16', '{\"Name\": \"bad-%s\"}')",
        sfx));
    char other[64];
    snprintf(other, sizeof other, "bad2-%s", sfx);
    assert_true(it_okf(
        e, "INSERT INTO vpc (cidr_block, tags) VALUES ('10.45.0.0/16', '{\"Name\": \"%s\"}')",
        other));
    assert_true(it_okf(e,
                       "INSERT INTO subnet (vpc, cidr_block, availability_zone) SELECT id, "
                       "'10.44.1.0/24', 'us-east-1a' FROM vpc WHERE tags->>'Name' = 'bad-%s'",
                       sfx));
    assert_true(
        it_okf(e,
               "INSERT INTO security_group (group_name, description, vpc) SELECT 'elsewhere', "
               "'other vpc', id FROM vpc WHERE tags->>'Name' = '%s'",
               other));
    char sql[12][512];
    snprintf(sql[0], 512, "INSERT INTO vpc (cidr_block) VALUES ('10.0.0.0/8')");
    snprintf(sql[1], 512,
             "INSERT INTO subnet (vpc, cidr_block, availability_zone) SELECT id, "
             "'10.99.1.0/24', 'us-east-1a' FROM vpc WHERE tags->>'Name' = 'bad-%s'",
             sfx);
    snprintf(sql[2], 512,
             "INSERT INTO subnet (vpc, cidr_block, availability_zone) SELECT id, "
             "'10.44.2.0/24', 'eu-west-1a' FROM vpc WHERE tags->>'Name' = 'bad-%s'",
             sfx);
    snprintf(sql[3], 512,
             "INSERT INTO instance (ami, instance_type, subnet) SELECT 'image-1', "
             "'t2.micro', id FROM subnet WHERE cidr_block = '10.44.1.0/24'");
    snprintf(sql[4], 512,
             "INSERT INTO instance (ami, instance_type, subnet, security_groups) "
             "SELECT 'ami-12c6146b', 't2.micro', s.id, ARRAY[g.id] FROM subnet s, "
             "security_group g WHERE s.cidr_block = '10.44.1.0/24' AND g.group_name = 'elsewhere'");
    snprintf(
        sql[5], 512,
        "INSERT INTO security_group_rule (security_group, ip_protocol, from_port, "
        "to_port) SELECT id, 'tcp', 22, 22 FROM security_group WHERE group_name = 'elsewhere'");
    snprintf(sql[6], 512,
             "INSERT INTO security_group_rule (security_group, ip_protocol, from_port, "
             "to_port, cidr_ipv4) SELECT id, 'tcp', 80, 22, '0.0.0.0/0' FROM security_group "
             "WHERE group_name = 'elsewhere'");
    snprintf(
        sql[7], 512,
        "INSERT INTO vpc (cidr_block, tags) VALUES ('10.46.0.0/16', '{\"iasql:owner\": \"x\"}')");
    snprintf(
        sql[8], 512,
        "INSERT INTO instance (ami, instance_type, subnet, state) SELECT "
        "'ami-12c6146b', 't2.micro', id, 'paused' FROM subnet WHERE cidr_block = '10.44.1.0/24'");
    snprintf(sql[9], 512,
             "INSERT INTO key_pair (name, public_key) VALUES ('k-%s', 'BEGIN PRIVATE KEY')", sfx);
    snprintf(sql[10], 512, "INSERT INTO vpc (cidr_block) VALUES ('10.0.0.1/16')");
    snprintf(sql[11], 512,
             "INSERT INTO security_group (group_name, description, vpc) SELECT "
             "'sg-abc', 'x', id FROM vpc WHERE tags->>'Name' = '%s'",
             other);
    const it_reject cases[] = {
        {sql[0], "vpc_cidr_block_ipv4_netmask_16_to_28"},
        {sql[1], "subnet_cidr_block_inside_its_vpc"},
        {sql[2], "subnet_availability_zone_in_its_region"},
        {sql[3], "instance_ami_is_an_image_id"},
        {sql[4], "security_groups"},
        {sql[5], "security_group_rule_cidr_or_source_group_not_both"},
        {sql[6], "security_group_rule_ports_0_to_65535_from_not_above_to"},
        {sql[7], "vpc_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {sql[8], "instance_state_running_or_stopped"},
        {sql[9], "key_pair_public_key_openssh_rsa_or_ed25519"},
        {sql[10], "cidr"},
        {sql[11], "security_group_name_1_to_255_characters_not_sg_prefix"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    /* A group an instance uses cannot go while it does. */
    assert_true(it_okf(e,
                       "INSERT INTO security_group (group_name, description, vpc) SELECT 'used', "
                       "'in use', id FROM vpc WHERE tags->>'Name' = 'bad-%s'",
                       sfx));
    assert_true(
        it_okf(e, "INSERT INTO instance (ami, instance_type, subnet, security_groups) SELECT "
                  "'ami-12c6146b', 't2.micro', s.id, ARRAY[g.id] FROM subnet s, security_group g "
                  "WHERE s.cidr_block = '10.44.1.0/24' AND g.group_name = 'used'"));
    const char *msg = it_sql_error(e, "DELETE FROM security_group WHERE group_name = 'used'");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "uses it (security_groups)"));
    /* Nothing of this reached the cloud; the pending rows are discarded. */
    it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL);
    assert_null(it_valf(e, "SELECT 1 FROM vpc WHERE tags->>'Name' = 'bad-%s'", sfx));
}

/* The plan as a picture: iasql preview --dot draws the actions a commit
 * would run, coloured by kind, with an edge from each to those that wait
 * for it (the VPC before its subnet and group, the subnet and group before
 * the instance). Nothing is applied. */
static void test_plan_as_dot(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "dot-%s", sfx);
    assert_true(it_okf(
        e, "INSERT INTO vpc (cidr_block, tags) VALUES ('10.43.0.0/16', '{\"Name\": \"%s\"}')",
        name));
    assert_true(it_okf(e,
                       "INSERT INTO subnet (vpc, cidr_block, availability_zone, tags) SELECT id, "
                       "'10.43.1.0/24', 'us-east-1a', '{\"Name\": \"%s\"}' FROM vpc WHERE "
                       "tags->>'Name' = '%s'",
                       name, name));
    assert_true(it_okf(e,
                       "INSERT INTO security_group (group_name, description, vpc) SELECT '%s', "
                       "'web', id FROM vpc WHERE tags->>'Name' = '%s'",
                       name, name));
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "\"%s\" preview --dot '%s'", getenv("IASQL_BIN"), e->conninfo);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    static char dot[65536];
    size_t n = fread(dot, 1, sizeof dot - 1, f);
    dot[n] = '\0';
    assert_int_equal(pclose(f), 0);
    assert_true(strncmp(dot, "digraph iasql_plan {", 20) == 0);
    assert_true(dot[n - 2] == '}');
    /* a node per create, green; nodes are numbered in plan order */
    int vpc = -1, subnet = -1, group = -1;
    for (char *l = strtok(dot, "\n"); l; l = strtok(NULL, "\n")) {
        int id;
        if (strstr(l, " [label=") && sscanf(l, "  n%d [label=", &id) == 1) {
            assert_non_null(strstr(l, "fillcolor=\"#d4edda\""));
            if (strstr(l, "\"create vpc "))
                vpc = id;
            else if (strstr(l, "\"create subnet "))
                subnet = id;
            else if (strstr(l, "\"create security_group "))
                group = id;
        } else {
            int a, b;
            if (sscanf(l, "  n%d -> n%d;", &a, &b) == 2) {
                if (a == vpc && b == subnet)
                    subnet = -subnet - 100; /* seen: the VPC before its subnet */
                if (a == vpc && b == group)
                    group = -group - 100;
            }
        }
    }
    assert_true(vpc >= 0);
    assert_true(subnet <= -100); /* the edges come after the nodes */
    assert_true(group <= -100);
    /* nothing happened: the changes are still pending */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "3");
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM vpc WHERE tags->>'Name' LIKE 'dot-%'"),
                        "0");
}

/* EC2's describe calls carry the tags and need no read per resource: a
 * quiet poll of any number of groups, rules and key pairs costs one
 * request per table and region (a page holds them all), so they need no
 * rotation. Instances cost their page, their instance profile associations'
 * page and, for their user data (a read per instance), the reads of those
 * whose turn of the rotation it is. */
static void test_quiet_poll_flat(void **state)
{
    it_env *e = *state;
    enum { N = 10 };
    char name[64];
    snprintf(name, sizeof name, "flat-%d", (int)getpid());
    assert_true(it_okf(e,
                       "INSERT INTO security_group (group_name, description, vpc, tags) "
                       "SELECT '%s-' || g, 'flat', v.id, '{\"n\": \"1\"}' FROM vpc v, "
                       "generate_series(1, %d) g WHERE v.is_default",
                       name, N));
    assert_true(it_okf(e,
                       "INSERT INTO security_group_rule (security_group, ip_protocol, from_port, "
                       "to_port, cidr_ipv4) SELECT id, 'tcp', 443, 443, '0.0.0.0/0' "
                       "FROM security_group WHERE group_name LIKE '%s-%%'",
                       name));
    assert_true(
        it_okf(e, "INSERT INTO key_pair (name, public_key) VALUES ('%s', '" PUBKEY "')", name));
    assert_true(it_okf(e,
                       "INSERT INTO instance (ami, instance_type, subnet, key_pair, tags) SELECT "
                       "'ami-12c6146b', 't2.micro', (SELECT min(s.id) FROM subnet s JOIN vpc v "
                       "ON v.id = s.vpc WHERE v.is_default), k.id, '{\"Name\": \"%s\"}' "
                       "FROM key_pair k, generate_series(1, 3) WHERE k.name = '%s'",
                       name, name));
    it_expect_commit(e, 2 * N + 1 + 3, "create");
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    long req[4];
    it_rotation_quiet(e, "security_group", "5", req);
    static const char *const tables[] = {"security_group", "security_group_rule", "key_pair",
                                         "instance"};
    for (size_t k = 0; k < 4; k++) {
        long last[2] = {0, 0};
        int seen = it_poll_requests(e, tables[k], 0, NULL, 0);
        assert_true(seen >= 3);
        it_poll_requests(e, tables[k], seen - 2, last, 2);
        print_message("%s: %s rows, quiet polls %ld %ld requests\n", tables[k],
                      it_valf(e, "SELECT count(*) FROM %s", tables[k]), last[0], last[1]);
        long cap = 1; /* instances: their page, their profiles' associations, user data */
        if (strcmp(tables[k], "instance") == 0)
            cap += 1 + atol(it_value(e, "SELECT count(*) FROM instance"));
        assert_true(last[0] <= cap && last[1] <= cap);
    }
    it_rotation_off(e);
    assert_true(it_okf(e, "DELETE FROM instance WHERE tags->>'Name' = '%s'", name));
    assert_true(it_okf(e, "DELETE FROM key_pair WHERE name = '%s'", name));
    assert_true(it_okf(e, "DELETE FROM security_group WHERE group_name LIKE '%s-%%'", name));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM security_group WHERE group_name LIKE '%s-%%'", name), "0");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    snprintf(sfx, sizeof sfx, "%d", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stack_create_update_replace_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_fails_dependents_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_vpc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_as_dot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiet_poll_flat, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
