/* tests/integration/it_rds.c — module aws_rds (db_subnet_group,
 * parameter_group, rds, db_cluster) end to end against moto_server: a
 * subnet group, a parameter group and a DB instance in one commit, with
 * the endpoint and the managed password's secret written back; updates in
 * place (class, security groups, backups, public access, tags, parameters,
 * storage, the subnet group), a rename in place, apply_immediately off, a
 * rollback to the first commit; a replace (a new engine); deletes children
 * first. The master password set in the row reaches RDS and is never found
 * in the table, the audit log, the errors, the journal, the engine's log or
 * a pg_dump. Import of what was made outside, drift (a change, a rename and
 * a delete in the console) brought in by iasql_sync(), a create that adopts
 * an instance of its name, deletion protection set in the console; an
 * Aurora cluster with an instance; bad input refused at INSERT; the poll
 * rotation of the groups' deep reads. The cloud is read with plain
 * query-protocol HTTP (DescribeDBInstances, DescribeDBSubnetGroups,
 * DescribeDBParameters, ListTagsForResource, DescribeDBClusters), not
 * through the engine's client. */
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
    if (it_fixture(state, "rds", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_rds')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

/* One RDS call straight to the emulator: the XML answer, copied for the
 * caller to free; *status (if not NULL) receives the HTTP status, else a
 * status other than 200 fails the test. */
static char *rds(it_env *e, long *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static char *rds(it_env *e, long *status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = it_queryv(e, "rds", "2014-10-31", status, fmt, ap);
    va_end(ap);
    return out;
}

/* The instance as DescribeDBInstances has it, or NULL when RDS has none. */
static char *cloud_db(it_env *e, const char *id)
{
    long st;
    char *x = rds(e, &st, "Action=DescribeDBInstances&DBInstanceIdentifier=%s", id);
    if (st == 200)
        return x;
    free(x);
    return NULL;
}

static char *cloud_cluster(it_env *e, const char *id)
{
    long st;
    char *x = rds(e, &st, "Action=DescribeDBClusters&DBClusterIdentifier=%s", id);
    if (st == 200)
        return x;
    free(x);
    return NULL;
}

/* The text of the first <tag> (static buffer; "" when there is none). */
static const char *xml(const char *doc, const char *tag)
{
    const char *v = it_xml_text(doc, tag);
    return v ? v : "";
}

/* The value of tag key in a TagList of doc ("" when there is none). */
static const char *tag_of(const char *doc, const char *key)
{
    char k[160];
    snprintf(k, sizeof k, "<Key>%s</Key>", key);
    const char *at = doc ? strstr(doc, k) : NULL;
    return at ? xml(at, "Value") : "";
}

static char *val(it_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *val(it_env *e, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    const char *v = it_value(e, sql);
    return strdup(v ? v : "");
}

/* The commit's rows as one text ("action table: description\n"...), with
 * how many there were and how many failed. */
static char *commit_text(it_env *e, int *rows, int *failed)
{
    PGresult *r = it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    *rows = PQntuples(r);
    *failed = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *d = PQgetvalue(r, i, 3);
        *failed += strstr(d, "failed") != NULL;
        len += (size_t)snprintf(out + len, cap - len, "%s %s: %s\n", PQgetvalue(r, i, 0),
                                PQgetvalue(r, i, 1), d);
    }
    PQclear(r);
    return out;
}

/* A VPC tagged Name=name with subnets name-a, name-b, name-c (three
 * zones) and security groups name-a, name-b, committed. */
static void make_network(it_env *e, const char *name, const char *net)
{
    assert_true(
        it_okf(e, "INSERT INTO vpc (cidr_block, tags) VALUES ('%s.0.0/16', '{\"Name\": \"%s\"}')",
               net, name));
    static const char zones[] = "abc";
    for (int i = 0; i < 3; i++)
        assert_true(it_okf(e,
                           "INSERT INTO subnet (vpc, cidr_block, availability_zone, tags) SELECT "
                           "id, '%s.%d.0/24', 'us-east-1%c', '{\"Name\": \"%s-%c\"}' FROM vpc "
                           "WHERE tags->>'Name' = '%s'",
                           net, i + 1, zones[i], name, zones[i], name));
    for (int i = 0; i < 2; i++)
        assert_true(it_okf(e,
                           "INSERT INTO security_group (group_name, description, vpc) SELECT "
                           "'%s-%c', 'databases', id FROM vpc WHERE tags->>'Name' = '%s'",
                           name, zones[i], name));
    it_expect_commit(e, 6, "create");
}

static char *group_id(it_env *e, const char *name, char which)
{
    return val(e, "SELECT group_id FROM security_group WHERE group_name = '%s-%c'", name, which);
}

static char *subnet_id(it_env *e, const char *name, char which)
{
    return val(e, "SELECT subnet_id FROM subnet WHERE tags->>'Name' = '%s-%c'", name, which);
}

/* Takes the network down again (its rows, committed). */
static void drop_network(it_env *e, const char *name)
{
    assert_true(it_okf(e, "DELETE FROM security_group WHERE group_name LIKE '%s-_'", name));
    assert_true(it_okf(e, "DELETE FROM subnet WHERE tags->>'Name' LIKE '%s-_'", name));
    assert_true(it_okf(e, "DELETE FROM vpc WHERE tags->>'Name' = '%s'", name));
    int rows, failed;
    char *res = commit_text(e, &rows, &failed);
    if (failed)
        fprintf(stderr, "%s", res);
    assert_int_equal(failed, 0);
    free(res);
}

/* Rows of the RDS tables, the audit log and the errors (as the user sees
 * them) that hold needle. */
static int db_hits(it_env *e, const char *needle)
{
    const char *p[] = {needle};
    PGresult *r =
        it_sql(e,
               "SELECT (SELECT count(*) FROM rds s WHERE strpos(s::text, $1) > 0) + "
               "(SELECT count(*) FROM db_cluster c WHERE strpos(c::text, $1) > 0) + "
               "(SELECT count(*) FROM iasql_audit_log a WHERE strpos(a::text, $1) > 0) + "
               "(SELECT count(*) FROM iasql_get_errors() g WHERE strpos(g::text, $1) > 0)",
               1, p);
    assert_non_null(r);
    int hits = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return hits;
}

static void test_rds_lifecycle(void **state)
{
    it_env *e = *state;
    int pid = (int)getpid();
    char net[32], db[32], renamed[40], sg[32], pg[32];
    snprintf(net, sizeof net, "rds-%d", pid);
    snprintf(db, sizeof db, "db-%d", pid);
    snprintf(renamed, sizeof renamed, "db-%d-b", pid);
    snprintf(sg, sizeof sg, "dbsg-%d", pid);
    snprintf(pg, sizeof pg, "pg-%d", pid);
    make_network(e, net, "10.41");
    char *sga = group_id(e, net, 'a'), *sgb = group_id(e, net, 'b');
    assert_true(it_okf(e,
                       "INSERT INTO db_subnet_group (name, description, subnets) SELECT '%s', "
                       "'app databases', array_agg(id) FROM subnet WHERE tags->>'Name' IN "
                       "('%s-a', '%s-b')",
                       sg, net, net));
    assert_true(
        it_okf(e,
               "INSERT INTO parameter_group (name, family, description, parameters, tags) "
               "VALUES ('%s', 'postgres15', 'app tuning', '{\"max_connections\": \"100\"}', "
               "'{\"team\": \"data\"}')",
               pg));
    assert_true(it_okf(e,
                       "INSERT INTO rds (db_instance_identifier, engine, engine_version, "
                       "db_instance_class, allocated_storage, db_subnet_group, security_groups, "
                       "parameter_group, master_username, manage_master_user_password, tags) "
                       "SELECT '%s', 'postgres', '15.4', 'db.t3.micro', 20, s.id, ARRAY[g.id], "
                       "p.id, 'app', true, '{\"team\": \"data\"}' FROM db_subnet_group s, "
                       "security_group g, parameter_group p WHERE s.name = '%s' AND g.group_name "
                       "= '%s-a' AND p.name = '%s'",
                       db, sg, net, pg));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "3");
    it_expect_commit(e, 3, "create");
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* what the cloud shows is what the rows say: a sync finds nothing */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_sync()"), "0");

    /* in the cloud, as the row says */
    char *x = cloud_db(e, db);
    assert_non_null(x);
    assert_string_equal(xml(x, "DBInstanceClass"), "db.t3.micro");
    assert_string_equal(xml(x, "Engine"), "postgres");
    assert_string_equal(xml(x, "EngineVersion"), "15.4");
    assert_string_equal(xml(x, "AllocatedStorage"), "20");
    assert_string_equal(xml(x, "DBSubnetGroupName"), sg);
    assert_string_equal(xml(x, "VpcSecurityGroupId"), sga);
    assert_string_equal(xml(x, "DBParameterGroupName"), pg);
    assert_string_equal(xml(x, "MasterUsername"), "app");
    assert_string_equal(tag_of(x, "team"), "data");
    char *dbid = it_database_id(e);
    assert_string_equal(tag_of(x, "iasql:owner"), dbid); /* which the row does not show */
    free(dbid);
    /* written back: ARN, status, endpoint, the secret RDS keeps the password in */
    char *arn = it_strdup(xml(x, "DBInstanceArn"));
    char *addr = it_strdup(xml(strstr(x, "<Endpoint>"), "Address"));
    char *secret = it_strdup(xml(strstr(x, "<MasterUserSecret>"), "SecretArn"));
    free(x);
    assert_true(strlen(secret) > 0);
    const char *q[] = {db, arn, addr, secret};
    PGresult *r = it_sql(e,
                         "SELECT arn = $2, endpoint_addr = $3, endpoint_port, "
                         "master_user_secret_arn = $4, status, pending_modified_values::text, "
                         "master_user_password IS NULL, tags::text FROM rds "
                         "WHERE db_instance_identifier = $1",
                         4, q);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    assert_string_equal(PQgetvalue(r, 0, 2), "5432");
    assert_string_equal(PQgetvalue(r, 0, 3), "t");
    assert_string_equal(PQgetvalue(r, 0, 4), "available");
    assert_string_equal(PQgetvalue(r, 0, 5), "{}");
    assert_string_equal(PQgetvalue(r, 0, 6), "t");
    assert_string_equal(PQgetvalue(r, 0, 7), "{\"team\": \"data\"}");
    PQclear(r);
    long st;
    json_decref(it_aws_json(e, "secretsmanager", "1.1", "secretsmanager.DescribeSecret",
                            json_pack("{s:s}", "SecretId", secret), &st));
    assert_int_equal(st, 200);
    x = rds(e, NULL, "Action=DescribeDBSubnetGroups&DBSubnetGroupName=%s", sg);
    assert_int_equal(it_count(x, "<SubnetIdentifier>"), 2);
    assert_string_equal(xml(x, "DBSubnetGroupDescription"), "app databases");
    free(x);
    assert_string_equal(
        it_valf(e,
                "SELECT (arn IS NOT NULL AND vpc = (SELECT id FROM vpc WHERE "
                "tags->>'Name' = '%s'))::text FROM db_subnet_group WHERE name = '%s'",
                net, sg),
        "true");
    x = rds(e, NULL, "Action=DescribeDBParameters&DBParameterGroupName=%s&Source=user", pg);
    assert_non_null(strstr(x, "<ParameterName>max_connections</ParameterName>"));
    assert_string_equal(xml(x, "ParameterValue"), "100");
    free(x);

    /* in place: class, security groups, backups, public access, tags,
     * a parameter and the group's tags */
    assert_true(
        it_okf(e,
               "UPDATE rds SET db_instance_class = 'db.t3.small', "
               "backup_retention_period = 7, publicly_accessible = true, tags = "
               "'{\"team\": \"data\", \"env\": \"dev\"}' WHERE db_instance_identifier = '%s'",
               db));
    /* the second security group through the link table */
    assert_true(it_okf(e,
                       "INSERT INTO rds_security_groups (rds, security_group) SELECT r.id, g.id "
                       "FROM rds r, security_group g WHERE r.db_instance_identifier = '%s' AND "
                       "g.group_name = '%s-b'",
                       db, net));
    assert_string_equal(it_valf(e,
                                "SELECT count(*) FROM rds_security_groups s JOIN rds r ON r.id = "
                                "s.rds WHERE r.db_instance_identifier = '%s'",
                                db),
                        "2");
    assert_true(it_okf(e,
                       "UPDATE parameter_group SET parameters = '{\"max_connections\": \"200\"}', "
                       "tags = '{\"team\": \"ops\"}' WHERE name = '%s'",
                       pg));
    assert_string_equal(it_value(e, "SELECT string_agg(action, ',') FROM iasql_preview()"),
                        "update,update");
    it_expect_commit(e, 2, "update");
    x = cloud_db(e, db);
    assert_string_equal(xml(x, "DBInstanceClass"), "db.t3.small");
    assert_int_equal(it_count(x, "<VpcSecurityGroupId>"), 2);
    assert_non_null(strstr(x, sgb));
    assert_string_equal(xml(x, "BackupRetentionPeriod"), "7");
    assert_string_equal(xml(x, "PubliclyAccessible"), "true");
    assert_string_equal(tag_of(x, "env"), "dev");
    free(x);
    x = rds(e, NULL, "Action=DescribeDBParameters&DBParameterGroupName=%s&Source=user", pg);
    assert_string_equal(xml(x, "ParameterValue"), "200");
    free(x);
    char *pg_arn = val(e, "SELECT arn FROM parameter_group WHERE name = '%s'", pg);
    x = rds(e, NULL, "Action=ListTagsForResource&ResourceName=%s", pg_arn);
    assert_string_equal(tag_of(x, "team"), "ops");
    free(x);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* a new identifier renames it in place: a new ARN, the same instance */
    assert_true(it_okf(e,
                       "UPDATE rds SET db_instance_identifier = '%s' WHERE "
                       "db_instance_identifier = '%s'",
                       renamed, db));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "update");
    it_expect_commit(e, 1, "update");
    x = cloud_db(e, db);
    assert_null(x);
    x = cloud_db(e, renamed);
    assert_non_null(x);
    assert_string_equal(xml(x, "DBInstanceClass"), "db.t3.small");
    assert_string_equal(tag_of(x, "env"), "dev");
    const char *rq[] = {renamed, xml(x, "DBInstanceArn")};
    r = it_sql(e,
               "SELECT arn = $2, arn LIKE '%:db:' || $1 FROM rds WHERE db_instance_identifier = $1",
               2, rq);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    free(x);

    /* apply_immediately off: RDS would keep the class for the maintenance
     * window (pending_modified_values); moto applies it at once, and the
     * setting, which the cloud never reports, survives a sync */
    assert_true(it_okf(e,
                       "UPDATE rds SET apply_immediately = false, db_instance_class = "
                       "'db.t3.medium' WHERE db_instance_identifier = '%s'",
                       renamed));
    it_expect_commit(e, 1, "update");
    x = cloud_db(e, renamed);
    assert_string_equal(xml(x, "DBInstanceClass"), "db.t3.medium");
    free(x);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_sync()"), "0");
    assert_string_equal(it_valf(e,
                                "SELECT apply_immediately::text || pending_modified_values::text "
                                "FROM rds WHERE db_instance_identifier = '%s'",
                                renamed),
                        "false{}");

    /* back to the first commit: its identifier, class, groups, backups,
     * tags and parameters */
    const char *f[] = {first};
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, f));
    assert_null(cloud_db(e, renamed));
    x = cloud_db(e, db);
    assert_non_null(x);
    assert_string_equal(xml(x, "DBInstanceClass"), "db.t3.micro");
    assert_int_equal(it_count(x, "<VpcSecurityGroupId>"), 1);
    assert_string_equal(xml(x, "VpcSecurityGroupId"), sga);
    assert_string_equal(xml(x, "BackupRetentionPeriod"), "1");
    assert_string_equal(xml(x, "PubliclyAccessible"), "false");
    assert_string_equal(tag_of(x, "env"), "");
    free(x);
    x = rds(e, NULL, "Action=DescribeDBParameters&DBParameterGroupName=%s&Source=user", pg);
    assert_string_equal(xml(x, "ParameterValue"), "100");
    free(x);
    assert_string_equal(it_valf(e,
                                "SELECT apply_immediately::text FROM rds "
                                "WHERE db_instance_identifier = '%s'",
                                db),
                        "true");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* storage grows in place, and never shrinks */
    assert_true(
        it_okf(e, "UPDATE rds SET allocated_storage = 40 WHERE db_instance_identifier = '%s'", db));
    it_expect_commit(e, 1, "update");
    x = cloud_db(e, db);
    assert_string_equal(xml(x, "AllocatedStorage"), "40");
    free(x);
    char shrink[256];
    snprintf(shrink, sizeof shrink,
             "UPDATE rds SET allocated_storage = 30 WHERE db_instance_identifier = '%s'", db);
    const it_reject smaller[] = {{shrink, "rds_allocated_storage_only_grows"}};
    it_expect_rejected(e, smaller, 1);

    /* a parameter no longer set goes back to its default
     * (ResetDBParameterGroup, which moto does not offer: then that group
     * alone fails, naming the call, and nothing else) */
    assert_true(it_okf(e, "UPDATE parameter_group SET parameters = '{}' WHERE name = '%s'", pg));
    int rows, failed;
    char *res = commit_text(e, &rows, &failed);
    assert_int_equal(rows, 1);
    x = rds(e, NULL, "Action=DescribeDBParameters&DBParameterGroupName=%s&Source=user", pg);
    if (failed)
        assert_non_null(strstr(res, "ResetDBParameterGroup"));
    else
        assert_null(strstr(x, "max_connections"));
    free(x);
    free(res);
    if (failed) { /* as it was: nothing pending */
        assert_true(it_okf(e,
                           "UPDATE parameter_group SET parameters = '{\"max_connections\": "
                           "\"100\"}' WHERE name = '%s'",
                           pg));
        assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    }

    /* the subnet group in place: a third zone and a new description
     * (moto's ModifyDBSubnetGroup drops the group from its list, so the
     * instance's view of its group is what shows the change) */
    assert_true(it_okf(e,
                       "UPDATE db_subnet_group SET description = 'app databases in three zones', "
                       "subnets = (SELECT array_agg(id) FROM subnet WHERE tags->>'Name' LIKE "
                       "'%s-_') WHERE name = '%s'",
                       net, sg));
    it_expect_commit(e, 1, "update");
    x = cloud_db(e, db);
    assert_string_equal(xml(strstr(x, "<DBSubnetGroup>"), "DBSubnetGroupDescription"),
                        "app databases in three zones");
    assert_int_equal(it_count(strstr(x, "<DBSubnetGroup>"), "<SubnetIdentifier>"), 3);
    free(x);

    /* everything deleted in one commit: the instance first (once it is
     * gone, its groups can go) */
    assert_true(it_okf(e, "DELETE FROM rds WHERE db_instance_identifier = '%s'", db));
    assert_true(it_okf(e, "DELETE FROM parameter_group WHERE name = '%s'", pg));
    assert_true(it_okf(e, "DELETE FROM db_subnet_group WHERE name = '%s'", sg));
    it_expect_commit(e, 3, "delete");
    assert_null(cloud_db(e, db));
    /* gone: refused as not found, or (moto's DescribeDBParameterGroups) an empty list */
    char named[80];
    x = rds(e, &st, "Action=DescribeDBParameterGroups&DBParameterGroupName=%s", pg);
    snprintf(named, sizeof named, "<DBParameterGroupName>%s<", pg);
    assert_true(st != 200 || !strstr(x, named));
    free(x);
    x = rds(e, &st, "Action=DescribeDBSubnetGroups&DBSubnetGroupName=%s", sg);
    snprintf(named, sizeof named, "<DBSubnetGroupName>%s<", sg);
    assert_true(st != 200 || !strstr(x, named));
    free(x);
    /* RDS deletes the secret it kept the password in with the instance */
    json_decref(it_aws_json(e, "secretsmanager", "1.1", "secretsmanager.DescribeSecret",
                            json_pack("{s:s}", "SecretId", secret), &st));
    assert_int_not_equal(st, 200);
    drop_network(e, net);
    free(sga), free(sgb), free(first), free(arn), free(addr), free(secret), free(pg_arn);
}

/* The master password: set in the row, sent to RDS, never kept. */
static void test_rds_password_never_stored(void **state)
{
    it_env *e = *state;
    int pid = (int)getpid();
    char net[32], db[32], sg[32];
    snprintf(net, sizeof net, "rdspw-%d", pid);
    snprintf(db, sizeof db, "pw-%d", pid);
    snprintf(sg, sizeof sg, "pwsg-%d", pid);
    make_network(e, net, "10.42");
    assert_true(it_okf(e,
                       "INSERT INTO db_subnet_group (name, description, subnets) SELECT '%s', "
                       "'databases', array_agg(id) FROM subnet WHERE tags->>'Name' LIKE '%s-_'",
                       sg, net));
    const char *p[] = {db,
                       "Rds-Secret-Qz7Xk2Lm1",
                       sg,
                       "Rds-Secret-Rt5Vb9Nc2",
                       "Rds-Secret-Yh3Ju8Ki3",
                       "Rds-Secret-Op4Lk7Jh4"};
    assert_true(it_ok(e,
                      "INSERT INTO rds (db_instance_identifier, engine, engine_version, "
                      "db_instance_class, allocated_storage, db_subnet_group, security_groups, "
                      "master_username, master_user_password, tags) SELECT $1, 'mysql', '8.0.35', "
                      "'db.t3.micro', 20, s.id, (SELECT array_agg(g.id) FROM security_group g "
                      "WHERE g.vpc = s.vpc AND g.group_name <> 'default'), 'admin', $2, "
                      "'{\"note\": \"plain-marker\"}' FROM db_subnet_group s WHERE s.name = $3",
                      3, (const char *[]){p[0], p[1], p[2]}));
    assert_string_equal(it_valf(e,
                                "SELECT iasql_is_mask(master_user_password)::text FROM rds "
                                "WHERE db_instance_identifier = '%s'",
                                db),
                        "true");
    it_expect_commit(e, 2, "create");
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    char *x = cloud_db(e, db);
    assert_non_null(x);
    assert_null(strstr(x, "<MasterUserSecret>"));
    assert_string_equal(xml(x, "MasterUsername"), "admin");
    free(x);

    /* a new password is an update in place */
    const char *np[] = {db, p[3]};
    assert_true(it_ok(
        e, "UPDATE rds SET master_user_password = $2 WHERE db_instance_identifier = $1", 2, np));
    it_expect_commit(e, 1, "update");
    /* going back past a new password would need the old one, never kept */
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT * FROM iasql_rollback(%s)", first);
    const char *msg = it_sql_error(e, sql);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "set master_user_password by hand"));

    /* a new engine replaces the instance, and needs the password again */
    char bad[256];
    snprintf(bad, sizeof bad,
             "UPDATE rds SET engine = 'mariadb', engine_version = '10.11.6' WHERE "
             "db_instance_identifier = '%s'",
             db);
    const it_reject again[] = {{bad, "rds_master_user_password_set_anew_on_replace"}};
    it_expect_rejected(e, again, 1);
    const char *rp[] = {db, p[4]};
    assert_true(it_ok(e,
                      "UPDATE rds SET engine = 'mariadb', engine_version = '10.11.6', "
                      "master_user_password = $2 WHERE db_instance_identifier = $1",
                      2, rp));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "replace");
    it_expect_commit(e, 1, "replace");
    x = cloud_db(e, db);
    assert_string_equal(xml(x, "Engine"), "mariadb");
    free(x);

    /* RDS keeps it in Secrets Manager from now on; and back, with a new one */
    assert_true(it_okf(e,
                       "UPDATE rds SET manage_master_user_password = true, master_user_password "
                       "= NULL WHERE db_instance_identifier = '%s'",
                       db));
    it_expect_commit(e, 1, "update");
    x = cloud_db(e, db);
    char *secret = it_strdup(xml(strstr(x, "<MasterUserSecret>"), "SecretArn"));
    free(x);
    assert_true(strlen(secret) > 0);
    assert_string_equal(it_valf(e,
                                "SELECT master_user_secret_arn FROM rds WHERE "
                                "db_instance_identifier = '%s'",
                                db),
                        secret);
    snprintf(bad, sizeof bad,
             "UPDATE rds SET manage_master_user_password = false WHERE "
             "db_instance_identifier = '%s'",
             db);
    const it_reject needs[] = {{bad, "rds_master_user_password_set_unless_managed"}};
    it_expect_rejected(e, needs, 1);
    const char *bp[] = {db, p[5]};
    assert_true(it_ok(e,
                      "UPDATE rds SET manage_master_user_password = false, master_user_password "
                      "= $2 WHERE db_instance_identifier = $1",
                      2, bp));
    it_expect_commit(e, 1, "update");
    x = cloud_db(e, db);
    assert_null(strstr(x, "<MasterUserSecret>"));
    free(x);
    assert_string_equal(it_valf(e,
                                "SELECT (master_user_secret_arn IS NULL)::text FROM rds WHERE "
                                "db_instance_identifier = '%s'",
                                db),
                        "true");

    /* a password RDS would refuse is refused at once, without showing it */
    const char *wp[] = {db, "Rds-Secret"};
    PGresult *w = PQexecParams(e->db,
                               "UPDATE rds SET master_user_password = $2 || ' x/y@' WHERE "
                               "db_instance_identifier = $1",
                               2, NULL, wp, NULL, NULL, 0);
    assert_int_not_equal(PQresultStatus(w), PGRES_COMMAND_OK);
    assert_non_null(strstr(PQresultErrorMessage(w), "rds_master_user_password_8_to_128"));
    assert_null(strstr(PQresultErrorMessage(w), "Rds-Secret"));
    PQclear(w);

    /* a final snapshot: named and committed first (a delete sees the
     * committed row); a setting only, which a sync keeps */
    char snap[48];
    snprintf(snap, sizeof snap, "%s-final", db);
    assert_true(it_okf(e,
                       "UPDATE rds SET final_snapshot_identifier = '%s' WHERE "
                       "db_instance_identifier = '%s'",
                       snap, db));
    it_expect_commit(e, 1, "update");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_sync()"), "0");
    assert_true(it_okf(e, "DELETE FROM rds WHERE db_instance_identifier = '%s'", db));
    assert_true(it_okf(e, "DELETE FROM db_subnet_group WHERE name = '%s'", sg));
    it_expect_commit(e, 2, "delete");
    assert_null(cloud_db(e, db));
    x = rds(e, NULL, "Action=DescribeDBSnapshots&DBSnapshotIdentifier=%s", snap);
    assert_string_equal(xml(x, "DBSnapshotIdentifier"), snap);
    assert_string_equal(xml(x, "DBInstanceIdentifier"), db);
    free(x);
    free(rds(e, NULL, "Action=DeleteDBSnapshot&DBSnapshotIdentifier=%s", snap));
    drop_network(e, net);

    /* nowhere in clear; the same searches find a plain value */
    assert_string_equal(it_admin_value(e, "SELECT count(*) FROM iasql_secret"), "0");
    assert_int_equal(db_hits(e, "Rds-Secret"), 0);
    assert_int_equal(it_leaks(e, "Rds-Secret"), 0);
    assert_true(db_hits(e, "plain-marker") > 0);
    assert_true(it_leaks(e, "plain-marker") > 0);
    free(first), free(secret);
}

/* What was made in the console comes in; what changes there follows. */
static void test_rds_import_and_drift(void **state)
{
    it_env *e = *state;
    int pid = (int)getpid();
    char net[32], db[32], moved[40], sg[32], pg[32], adopt[32];
    snprintf(net, sizeof net, "rdsim-%d", pid);
    snprintf(db, sizeof db, "imp-%d", pid);
    snprintf(moved, sizeof moved, "imp-%d-r", pid);
    snprintf(sg, sizeof sg, "impsg-%d", pid);
    snprintf(pg, sizeof pg, "imppg-%d", pid);
    snprintf(adopt, sizeof adopt, "adopt-%d", pid);
    make_network(e, net, "10.43");
    char *sa = subnet_id(e, net, 'a'), *sb = subnet_id(e, net, 'b'), *ga = group_id(e, net, 'a');
    free(rds(e, NULL,
             "Action=CreateDBSubnetGroup&DBSubnetGroupName=%s&DBSubnetGroupDescription=by-hand&"
             "SubnetIds.SubnetIdentifier.1=%s&SubnetIds.SubnetIdentifier.2=%s&"
             "Tags.Tag.1.Key=by&Tags.Tag.1.Value=console",
             sg, sa, sb));
    free(rds(e, NULL,
             "Action=CreateDBParameterGroup&DBParameterGroupName=%s&DBParameterGroupFamily=mysql8.0"
             "&Description=by-hand",
             pg));
    free(
        rds(e, NULL,
            "Action=ModifyDBParameterGroup&DBParameterGroupName=%s&"
            "Parameters.Parameter.1.ParameterName=max_connections&"
            "Parameters.Parameter.1.ParameterValue=50&Parameters.Parameter.1.ApplyMethod=immediate",
            pg));
    free(rds(e, NULL,
             "Action=CreateDBInstance&DBInstanceIdentifier=%s&Engine=mysql&EngineVersion=8.0.35&"
             "DBInstanceClass=db.t3.micro&AllocatedStorage=20&MasterUsername=admin&"
             "MasterUserPassword=Outside-Pw-Hh6&DBSubnetGroupName=%s&"
             "VpcSecurityGroupIds.VpcSecurityGroupId.1=%s&DBParameterGroupName=%s&"
             "Tags.Tag.1.Key=by&Tags.Tag.1.Value=console",
             db, sg, ga, pg));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    PGresult *r =
        it_sql(e,
               "SELECT r.engine, r.engine_version, r.db_instance_class, r.allocated_storage, "
               "r.db_subnet_group = s.id, r.security_groups = ARRAY[g.id], r.parameter_group = "
               "p.id, r.master_user_password, r.tags->>'by', r.arn IS NOT NULL AND "
               "r.endpoint_addr IS NOT NULL, r.apply_immediately, p.parameters::text, p.family, "
               "s.description, cardinality(s.subnets), s.tags->>'by' FROM rds r, db_subnet_group "
               "s, parameter_group p, security_group g WHERE r.db_instance_identifier = $1 AND "
               "s.name = $2 AND p.name = $3 AND g.group_id = $4",
               4, (const char *[]){db, sg, pg, ga});
    assert_int_equal(PQntuples(r), 1);
    static const char *const want[] = {
        "mysql",    "8.0.35",  "db.t3.micro", "20",
        "t",        "t",       "t",           "iasql-secret:rds",
        "console",  "t",       "t",           "{\"max_connections\": \"50\"}",
        "mysql8.0", "by-hand", "2",           "console"};
    for (int i = 0; i < (int)(sizeof want / sizeof *want); i++)
        if (strcmp(PQgetvalue(r, 0, i), want[i]) != 0)
            fail_msg("imported column %d: %s, not %s", i, PQgetvalue(r, 0, i), want[i]);
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_int_equal(it_leaks(e, "Outside-Pw"), 0);

    /* changed in the console: a sync brings it in */
    free(rds(e, NULL,
             "Action=ModifyDBInstance&DBInstanceIdentifier=%s&DBInstanceClass=db.t3.large&"
             "BackupRetentionPeriod=5&ApplyImmediately=true",
             db));
    char *arn = val(e, "SELECT arn FROM rds WHERE db_instance_identifier = '%s'", db);
    free(rds(e, NULL,
             "Action=AddTagsToResource&ResourceName=%s&Tags.Tag.1.Key=env&"
             "Tags.Tag.1.Value=prod",
             arn));
    free(
        rds(e, NULL,
            "Action=ModifyDBParameterGroup&DBParameterGroupName=%s&"
            "Parameters.Parameter.1.ParameterName=max_connections&"
            "Parameters.Parameter.1.ParameterValue=75&Parameters.Parameter.1.ApplyMethod=immediate",
            pg));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_valf(e,
                                "SELECT db_instance_class || ' ' || backup_retention_period || ' "
                                "' || (tags->>'env') FROM rds WHERE db_instance_identifier = '%s'",
                                db),
                        "db.t3.large 5 prod");
    assert_string_equal(it_valf(e,
                                "SELECT parameters->>'max_connections' FROM parameter_group "
                                "WHERE name = '%s'",
                                pg),
                        "75");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* renamed in the console: the instance under its new name */
    free(rds(e, NULL,
             "Action=ModifyDBInstance&DBInstanceIdentifier=%s&NewDBInstanceIdentifier=%s&"
             "ApplyImmediately=true",
             db, moved));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_valf(e,
                                "SELECT string_agg(db_instance_identifier, ',') FROM rds WHERE "
                                "db_instance_identifier LIKE 'imp-%d%%'",
                                pid),
                        moved);
    assert_string_equal(it_valf(e,
                                "SELECT db_instance_class FROM rds WHERE "
                                "db_instance_identifier = '%s'",
                                moved),
                        "db.t3.large");

    /* a create finds an instance of its identifier (made meanwhile in the
     * console, not yet synced) and takes it, brought to the row */
    free(rds(e, NULL,
             "Action=CreateDBInstance&DBInstanceIdentifier=%s&Engine=postgres&EngineVersion=15.4&"
             "DBInstanceClass=db.t3.micro&AllocatedStorage=20&MasterUsername=app&"
             "MasterUserPassword=Outside-Pw-Jj7&DBSubnetGroupName=%s&"
             "VpcSecurityGroupIds.VpcSecurityGroupId.1=%s",
             adopt, sg, ga));
    assert_true(it_okf(e,
                       "INSERT INTO rds (db_instance_identifier, engine, engine_version, "
                       "db_instance_class, allocated_storage, db_subnet_group, security_groups, "
                       "master_username, manage_master_user_password, tags) SELECT '%s', "
                       "'postgres', '15.4', 'db.t3.small', 20, s.id, ARRAY[g.id], 'app', true, "
                       "'{\"team\": \"web\"}' FROM db_subnet_group s, security_group g WHERE "
                       "s.name = '%s' AND g.group_id = '%s'",
                       adopt, sg, ga));
    it_expect_commit(e, 1, "create");
    char *x = cloud_db(e, adopt);
    assert_string_equal(xml(x, "DBInstanceClass"), "db.t3.small");
    assert_string_equal(tag_of(x, "team"), "web");
    char *dbid = it_database_id(e);
    assert_string_equal(tag_of(x, "iasql:owner"), dbid);
    assert_non_null(strstr(x, "<MasterUserSecret>"));
    free(x), free(dbid);

    /* one another iasql database made is not taken */
    char theirs[40];
    snprintf(theirs, sizeof theirs, "theirs-%d", pid);
    free(rds(e, NULL,
             "Action=CreateDBInstance&DBInstanceIdentifier=%s&Engine=postgres&EngineVersion=15.4&"
             "DBInstanceClass=db.t3.micro&AllocatedStorage=20&MasterUsername=app&"
             "MasterUserPassword=Outside-Pw-Kk8&Tags.Tag.1.Key=iasql:owner&"
             "Tags.Tag.1.Value=another-database",
             theirs));
    assert_true(it_okf(e,
                       "INSERT INTO rds (db_instance_identifier, engine, engine_version, "
                       "db_instance_class, allocated_storage, master_username, "
                       "manage_master_user_password) VALUES ('%s', 'postgres', '15.4', "
                       "'db.t3.micro', 20, 'app', true)",
                       theirs));
    int rows, failed;
    char *res = commit_text(e, &rows, &failed);
    assert_int_equal(failed, 1);
    assert_non_null(strstr(res, "another iasql database made it"));
    free(res);
    x = cloud_db(e, theirs);
    assert_string_equal(tag_of(x, "iasql:owner"), "another-database");
    assert_null(strstr(x, "<MasterUserSecret>")); /* untouched */
    free(x);
    assert_true(it_okf(e, "DELETE FROM rds WHERE db_instance_identifier = '%s'", theirs));
    free(rds(e, NULL, "Action=DeleteDBInstance&DBInstanceIdentifier=%s&SkipFinalSnapshot=true",
             theirs));

    /* protected from deletion in the console, not yet seen: the delete
     * fails with the reason, and the row comes back as the cloud has it,
     * where it cannot be deleted until the protection is off */
    free(rds(e, NULL,
             "Action=ModifyDBInstance&DBInstanceIdentifier=%s&DeletionProtection=true&"
             "ApplyImmediately=true",
             adopt));
    assert_true(it_okf(e, "DELETE FROM rds WHERE db_instance_identifier = '%s'", adopt));
    res = commit_text(e, &rows, &failed);
    assert_int_equal(failed, 1);
    assert_non_null(strstr(res, "protected from deletion"));
    free(res);
    assert_non_null(x = cloud_db(e, adopt));
    free(x);
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    assert_string_equal(it_valf(e,
                                "SELECT deletion_protection::text FROM rds WHERE "
                                "db_instance_identifier = '%s'",
                                adopt),
                        "true");
    char del[200];
    snprintf(del, sizeof del, "DELETE FROM rds WHERE db_instance_identifier = '%s'", adopt);
    const it_reject protected[] = {{del, "rds_deletion_protection_off_before_delete"}};
    it_expect_rejected(e, protected, 1);
    assert_true(it_okf(e,
                       "UPDATE rds SET deletion_protection = false WHERE "
                       "db_instance_identifier = '%s'",
                       adopt));
    it_expect_commit(e, 1, "update");
    assert_true(it_ok(e, del, 0, NULL));
    it_expect_commit(e, 1, "delete");
    assert_null(cloud_db(e, adopt));

    /* deleted in the console: a sync removes the row */
    free(rds(e, NULL, "Action=DeleteDBInstance&DBInstanceIdentifier=%s&SkipFinalSnapshot=true",
             moved));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM rds WHERE db_instance_identifier LIKE 'imp-%d%%'", pid),
        "0");
    assert_true(it_okf(e, "DELETE FROM parameter_group WHERE name = '%s'", pg));
    assert_true(it_okf(e, "DELETE FROM db_subnet_group WHERE name = '%s'", sg));
    it_expect_commit(e, 2, "delete");
    drop_network(e, net);
    free(sa), free(sb), free(ga), free(arn);
}

/* An Aurora cluster with an instance; a Multi-AZ DB cluster on its own. */
static void test_rds_cluster(void **state)
{
    it_env *e = *state;
    int pid = (int)getpid();
    char cl[32], inst[40], maz[32];
    snprintf(cl, sizeof cl, "cl-%d", pid);
    snprintf(inst, sizeof inst, "cl-%d-1", pid);
    snprintf(maz, sizeof maz, "maz-%d", pid);
    assert_true(it_okf(e,
                       "INSERT INTO db_cluster (db_cluster_identifier, engine, engine_version, "
                       "master_username, manage_master_user_password, backup_retention_period, "
                       "tags) VALUES ('%s', 'aurora-postgresql', '15.4', 'app', true, 3, "
                       "'{\"team\": \"data\"}')",
                       cl));
    assert_true(it_okf(e,
                       "INSERT INTO rds (db_instance_identifier, engine, db_instance_class, "
                       "db_cluster) SELECT '%s', 'aurora-postgresql', 'db.r6g.large', id FROM "
                       "db_cluster WHERE db_cluster_identifier = '%s'",
                       inst, cl));
    it_expect_commit(e, 2, "create");
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    char *x = cloud_cluster(e, cl);
    assert_non_null(x);
    assert_string_equal(xml(x, "Engine"), "aurora-postgresql");
    assert_string_equal(xml(x, "EngineVersion"), "15.4");
    assert_string_equal(xml(x, "BackupRetentionPeriod"), "3");
    assert_string_equal(tag_of(x, "team"), "data");
    assert_non_null(strstr(x, "<MasterUserSecret>"));
    assert_non_null(strstr(x, inst)); /* a member */
    char *carn = it_strdup(xml(x, "DBClusterArn")), *cend = it_strdup(xml(x, "Endpoint"));
    const char *cq[] = {cl, carn, cend};
    PGresult *r = it_sql(e,
                         "SELECT arn = $2, endpoint = $3, reader_endpoint IS NOT NULL, port, "
                         "status, master_user_secret_arn IS NOT NULL FROM db_cluster WHERE "
                         "db_cluster_identifier = $1",
                         3, cq);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    assert_string_equal(PQgetvalue(r, 0, 2), "t");
    assert_string_equal(PQgetvalue(r, 0, 3), "5432");
    assert_string_equal(PQgetvalue(r, 0, 4), "available");
    assert_string_equal(PQgetvalue(r, 0, 5), "t");
    PQclear(r);
    free(x), free(carn), free(cend);
    x = cloud_db(e, inst);
    assert_string_equal(xml(x, "DBClusterIdentifier"), cl);
    assert_string_equal(xml(x, "DBInstanceClass"), "db.r6g.large");
    free(x);
    /* quiet: a sync finds nothing to change (the instance's storage, user
     * and backups are its cluster's, not its own) */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_sync()"), "0");

    /* in place; protected from deletion */
    assert_true(it_okf(e,
                       "UPDATE db_cluster SET backup_retention_period = 7, deletion_protection = "
                       "true, tags = '{\"team\": \"ops\"}' WHERE db_cluster_identifier = '%s'",
                       cl));
    it_expect_commit(e, 1, "update");
    x = cloud_cluster(e, cl);
    assert_string_equal(xml(x, "BackupRetentionPeriod"), "7");
    assert_string_equal(xml(x, "DeletionProtection"), "true");
    assert_string_equal(tag_of(x, "team"), "ops");
    free(x);
    char del[200];
    snprintf(del, sizeof del, "DELETE FROM db_cluster WHERE db_cluster_identifier = '%s'", cl);
    const it_reject protected[] = {{del, "db_cluster_deletion_protection_off_before_delete"}};
    it_expect_rejected(e, protected, 1);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT * FROM iasql_rollback(%s)", first);
    assert_true(it_ok(e, sql, 0, NULL));
    x = cloud_cluster(e, cl);
    assert_string_equal(xml(x, "BackupRetentionPeriod"), "3");
    assert_string_equal(xml(x, "DeletionProtection"), "false");
    assert_string_equal(tag_of(x, "team"), "data");
    free(x);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* a Multi-AZ DB cluster: class, storage and IOPS of its own */
    const char *mp[] = {maz, "Rds-Secret-Cl9Xx1"};
    assert_true(it_ok(e,
                      "INSERT INTO db_cluster (db_cluster_identifier, engine, engine_version, "
                      "db_cluster_instance_class, allocated_storage, iops, master_username, "
                      "master_user_password) VALUES ($1, 'postgres', '15.4', 'db.m5d.large', 100, "
                      "1000, 'app', $2)",
                      2, mp));
    it_expect_commit(e, 1, "create");
    x = cloud_cluster(e, maz);
    assert_string_equal(xml(x, "DBClusterInstanceClass"), "db.m5d.large");
    assert_string_equal(xml(x, "AllocatedStorage"), "100");
    assert_string_equal(xml(x, "Iops"), "1000");
    free(x);
    assert_true(it_okf(e,
                       "UPDATE db_cluster SET allocated_storage = 200 WHERE "
                       "db_cluster_identifier = '%s'",
                       maz));
    it_expect_commit(e, 1, "update");
    x = cloud_cluster(e, maz);
    assert_string_equal(xml(x, "AllocatedStorage"), "200");
    free(x);

    /* the instance goes first, then its cluster */
    assert_true(it_okf(e, "DELETE FROM rds WHERE db_instance_identifier = '%s'", inst));
    assert_true(
        it_okf(e, "DELETE FROM db_cluster WHERE db_cluster_identifier IN ('%s', '%s')", cl, maz));
    it_expect_commit(e, 3, "delete");
    assert_null(cloud_db(e, inst));
    assert_null(cloud_cluster(e, cl));
    assert_null(cloud_cluster(e, maz));
    assert_int_equal(db_hits(e, "Rds-Secret"), 0);
    assert_int_equal(it_leaks(e, "Rds-Secret"), 0);
    free(first);
}

static void test_rds_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password) VALUES ('Upper', "
         "'postgres', '15.4', 'db.t3.micro', 20, 'app', true)",
         "rds_identifier_1_to_63_lowercase_letters_digits_single_hyphens"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password) VALUES ('1db', "
         "'postgres', '15.4', 'db.t3.micro', 20, 'app', true)",
         "rds_identifier_1_to_63_lowercase_letters_digits_single_hyphens"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password) VALUES ('db--x', "
         "'postgres', '15.4', 'db.t3.micro', 20, 'app', true)",
         "rds_identifier_1_to_63_lowercase_letters_digits_single_hyphens"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password) VALUES ('db-', "
         "'postgres', '15.4', 'db.t3.micro', 20, 'app', true)",
         "rds_identifier_1_to_63_lowercase_letters_digits_single_hyphens"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password) VALUES "
         "(repeat('a', 64), 'postgres', '15.4', 'db.t3.micro', 20, 'app', true)",
         "rds_identifier_1_to_63_lowercase_letters_digits_single_hyphens"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password) VALUES ('db', "
         "'oracle', '19', 'db.t3.micro', 20, 'app', true)",
         "rds_engine_one_rds_offers"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password) VALUES ('db', "
         "'postgres', '15.4', 't3.micro', 20, 'app', true)",
         "rds_db_instance_class_db_dot_family_dot_size"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password) VALUES ('db', "
         "'postgres', '15.4', 'db.t3.micro', 10, 'app', true)",
         "rds_allocated_storage_20_to_65536_gib_16384_for_sql_server"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password) VALUES ('db', "
         "'sqlserver-ex', '16.00', 'db.t3.micro', 20000, 'app', true)",
         "rds_allocated_storage_20_to_65536_gib_16384_for_sql_server"},
        {"INSERT INTO rds (db_instance_identifier, engine, db_instance_class, allocated_storage, "
         "master_username, manage_master_user_password) VALUES ('db', 'postgres', 'db.t3.micro', "
         "20, 'app', true)",
         "rds_alone_needs_version_storage_user_and_backups"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username) VALUES ('db', 'postgres', '15.4', 'db.t3.micro', "
         "20, 'app')",
         "rds_master_user_password_set_unless_managed"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, master_user_password, manage_master_user_password) "
         "VALUES ('db', 'postgres', '15.4', 'db.t3.micro', 20, 'app', 'Rds-Secret-Bad1', true)",
         "rds_master_user_password_set_unless_managed"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, master_user_password) VALUES ('db', 'postgres', "
         "'15.4', 'db.t3.micro', 20, 'app', 'short')",
         "rds_master_user_password_8_to_128_printable_ascii"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, master_user_password) VALUES ('db', 'mysql', "
         "'8.0.35', 'db.t3.micro', 20, 'admin', repeat('x', 42))",
         "rds_master_user_password_8_to_128_printable_ascii"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, master_user_password) VALUES ('db', 'postgres', "
         "'15.4', 'db.t3.micro', 20, 'app', 'with@an-at-sign')",
         "rds_master_user_password_8_to_128_printable_ascii"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password, "
         "backup_retention_period) VALUES ('db', 'postgres', '15.4', 'db.t3.micro', 20, 'app', "
         "true, 36)",
         "rds_backup_retention_period_0_to_35_days"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password) VALUES ('db', "
         "'postgres', '15.4', 'db.t3.micro', 20, '1app', true)",
         "rds_master_username_letter_then_alnum_or_underscore"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password) VALUES ('db', "
         "'mysql', '8.0.35', 'db.t3.micro', 20, repeat('a', 17), true)",
         "rds_master_username_letter_then_alnum_or_underscore"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password) VALUES ('db', "
         "'aurora-mysql', '8.0', 'db.r6g.large', 20, 'app', true)",
         "rds_aurora_engines_only_in_a_db_cluster"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password, "
         "final_snapshot_identifier) VALUES ('db', 'postgres', '15.4', 'db.t3.micro', 20, 'app', "
         "true, 'last--one')",
         "rds_final_snapshot_identifier_letter_alnum_single_hyphens"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password, tags) VALUES ('db', "
         "'postgres', '15.4', 'db.t3.micro', 20, 'app', true, '{\"rds:x\": \"y\"}')",
         "rds_tags_up_to_50_rds_strings_no_aws_or_iasql_keys"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password, tags) VALUES ('db', "
         "'postgres', '15.4', 'db.t3.micro', 20, 'app', true, '{\"iasql:owner\": \"y\"}')",
         "rds_tags_up_to_50_rds_strings_no_aws_or_iasql_keys"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password, region) VALUES ('db', "
         "'postgres', '15.4', 'db.t3.micro', 20, 'app', true, 'mars-1')",
         "rds_region_fkey"},
        {"INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
         "allocated_storage, master_username, manage_master_user_password) VALUES ('db', "
         "'postgres', '15.4', 'db.t3.micro', 20, 'app', true), ('db', 'postgres', '15.4', "
         "'db.t3.micro', 20, 'app', true)",
         "rds_identifier_unique_in_region"},
        {"INSERT INTO parameter_group (name, family, description) VALUES ('Bad', 'postgres15', "
         "'x')",
         "parameter_group_name_lowercase_letter_then_alnum_single_hyphens"},
        {"INSERT INTO parameter_group (name, family, description) VALUES ('default.postgres15', "
         "'postgres15', 'x')",
         "parameter_group_name_lowercase_letter_then_alnum_single_hyphens"},
        {"INSERT INTO parameter_group (name, family, description) VALUES ('ok', 'Postgres 15', "
         "'x')",
         "parameter_group_family_as_rds_names_it"},
        {"INSERT INTO parameter_group (name, family, description, parameters) VALUES ('ok', "
         "'postgres15', 'x', '{\"max_connections\": 100}')",
         "parameter_group_parameters_an_object_of_strings_by_name"},
        {"INSERT INTO parameter_group (name, family, description, parameters) VALUES ('ok', "
         "'postgres15', 'x', '[\"max_connections\"]')",
         "parameter_group_parameters_an_object_of_strings_by_name"},
        {"INSERT INTO parameter_group (name, family, description) VALUES ('ok', 'postgres15', "
         "'')",
         "parameter_group_description_1_to_255_characters"},
        {"INSERT INTO db_subnet_group (name, description) VALUES ('none', 'x')",
         "db_subnet_group_subnets_in_two_zones_or_more"},
        {"INSERT INTO db_cluster (db_cluster_identifier, engine, engine_version, "
         "master_username, manage_master_user_password) VALUES ('cl', 'oracle-ee', '19', 'app', "
         "true)",
         "db_cluster_engine_aurora_or_multi_az_mysql_postgres"},
        {"INSERT INTO db_cluster (db_cluster_identifier, engine, engine_version, "
         "master_username, manage_master_user_password, allocated_storage) VALUES ('cl', "
         "'aurora-mysql', '8.0', 'app', true, 100)",
         "db_cluster_multi_az_needs_class_storage_iops_aurora_none"},
        {"INSERT INTO db_cluster (db_cluster_identifier, engine, engine_version, "
         "master_username, manage_master_user_password) VALUES ('cl', 'postgres', '15.4', 'app', "
         "true)",
         "db_cluster_multi_az_needs_class_storage_iops_aurora_none"},
        {"INSERT INTO db_cluster (db_cluster_identifier, engine, engine_version, "
         "master_username, manage_master_user_password, backup_retention_period) VALUES ('cl', "
         "'aurora-mysql', '8.0', 'app', true, 0)",
         "db_cluster_backup_retention_period_1_to_35_days"},
        {"INSERT INTO db_cluster (db_cluster_identifier, engine, engine_version, "
         "master_username, manage_master_user_password) VALUES ('cl_1', 'aurora-mysql', '8.0', "
         "'app', true)",
         "db_cluster_identifier_1_to_63_lowercase_alnum_single_hyphens"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"),
                        "0");

    /* references: subnets of one zone, or of two VPCs; security groups of
     * another VPC than the subnet group's; an instance of a cluster with
     * settings of its own or another engine; a subnet or group in use */
    int pid = (int)getpid();
    char a[32], b[32], sql[4][1024];
    snprintf(a, sizeof a, "rdsbad-%d", pid);
    snprintf(b, sizeof b, "rdsbad2-%d", pid);
    make_network(e, a, "10.44");
    make_network(e, b, "10.45");
    snprintf(sql[0], sizeof sql[0],
             "INSERT INTO db_subnet_group (name, description, subnets) SELECT 'one-zone', 'x', "
             "array_agg(id) FROM subnet WHERE tags->>'Name' = '%s-a'",
             a);
    snprintf(sql[1], sizeof sql[1],
             "INSERT INTO db_subnet_group (name, description, subnets) SELECT 'two-vpcs', 'x', "
             "array_agg(id) FROM subnet WHERE tags->>'Name' IN ('%s-a', '%s-b')",
             a, b);
    snprintf(sql[2], sizeof sql[2],
             "INSERT INTO db_subnet_group (name, description, subnets) SELECT 'Mixed', 'x', "
             "array_agg(id) FROM subnet WHERE tags->>'Name' LIKE '%s-_'",
             a);
    snprintf(sql[3], sizeof sql[3],
             "INSERT INTO db_subnet_group (name, description, subnets) SELECT 'default', 'x', "
             "array_agg(id) FROM subnet WHERE tags->>'Name' LIKE '%s-_'",
             a);
    const it_reject refs[] = {
        {sql[0], "db_subnet_group_subnets_in_two_zones_or_more"},
        {sql[1], "db_subnet_group_subnets_exist_in_one_vpc"},
        {sql[2], "db_subnet_group_name_lowercase_alnum_spaces_periods_hyphens"},
        {sql[3], "db_subnet_group_name_not_default"}};
    it_expect_rejected(e, refs, 4);
    assert_true(it_okf(e,
                       "INSERT INTO db_subnet_group (name, description, subnets) SELECT 'bad-%d', "
                       "'x', array_agg(id) FROM subnet WHERE tags->>'Name' LIKE '%s-_'",
                       pid, a));
    snprintf(sql[0], sizeof sql[0],
             "INSERT INTO rds (db_instance_identifier, engine, engine_version, db_instance_class, "
             "allocated_storage, master_username, manage_master_user_password, db_subnet_group, "
             "security_groups) SELECT 'db', 'postgres', '15.4', 'db.t3.micro', 20, 'app', true, "
             "s.id, ARRAY[g.id] FROM db_subnet_group s, security_group g WHERE s.name = 'bad-%d' "
             "AND g.group_name = '%s-a'",
             pid, b);
    assert_true(it_okf(e,
                       "INSERT INTO db_cluster (db_cluster_identifier, engine, engine_version, "
                       "master_username, manage_master_user_password) VALUES ('bad-%d', "
                       "'aurora-mysql', '8.0', 'app', true)",
                       pid));
    snprintf(sql[1], sizeof sql[1],
             "INSERT INTO rds (db_instance_identifier, engine, db_instance_class, db_cluster) "
             "SELECT 'db', 'aurora-postgresql', 'db.r6g.large', id FROM db_cluster WHERE "
             "db_cluster_identifier = 'bad-%d'",
             pid);
    snprintf(sql[2], sizeof sql[2],
             "INSERT INTO rds (db_instance_identifier, engine, db_instance_class, db_cluster, "
             "allocated_storage) SELECT 'db', 'aurora-mysql', 'db.r6g.large', id, 20 FROM "
             "db_cluster WHERE db_cluster_identifier = 'bad-%d'",
             pid);
    snprintf(sql[3], sizeof sql[3], "DELETE FROM subnet WHERE tags->>'Name' = '%s-a'", a);
    const it_reject more[] = {
        {sql[0], "rds_security_groups_of_its_vpc"},
        {sql[1], "rds_engine_of_its_db_cluster"},
        {sql[2], "rds_cluster_member_takes_its_settings_from_the_cluster"},
        {sql[3], "db_subnet_group_subnets_in_use"},
    };
    it_expect_rejected(e, more, 4);
    assert_true(it_okf(e,
                       "INSERT INTO rds (db_instance_identifier, engine, engine_version, "
                       "db_instance_class, allocated_storage, master_username, "
                       "manage_master_user_password, db_subnet_group, security_groups) SELECT "
                       "'db', 'postgres', '15.4', 'db.t3.micro', 20, 'app', true, s.id, "
                       "ARRAY[g.id] FROM db_subnet_group s, security_group g WHERE s.name = "
                       "'bad-%d' AND g.group_name = '%s-a'",
                       pid, a));
    snprintf(sql[0], sizeof sql[0], "DELETE FROM security_group WHERE group_name = '%s-a'", a);
    const it_reject used[] = {{sql[0], "rds_security_groups_in_use"}};
    it_expect_rejected(e, used, 1);
    /* none of it was sent anywhere */
    assert_true(it_okf(e, "DELETE FROM rds WHERE db_instance_identifier = 'db'"));
    assert_true(it_okf(e, "DELETE FROM db_cluster WHERE db_cluster_identifier = 'bad-%d'", pid));
    assert_true(it_okf(e, "DELETE FROM db_subnet_group WHERE name = 'bad-%d'", pid));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    drop_network(e, a);
    drop_network(e, b);
}

/* The poller's rotation (--poll 1 --poll-deep 5: four slots): a quiet poll
 * of the parameter groups costs their DescribeDBParameterGroups page and
 * the two reads (parameters, tags) of about a quarter of them, not of all
 * (--poll-deep 1); the instances' poll is one DescribeDBInstances page,
 * tags included, whatever their number; nothing is written; a parameter
 * and a tag changed outside are seen within the rotation. */
static void test_rds_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 24, DBS = 6 };
    int pid = (int)getpid();
    assert_true(it_okf(e,
                       "INSERT INTO parameter_group (name, family, description, parameters) "
                       "SELECT 'rot-' || g || '-%d', 'postgres15', 'rotation', "
                       "jsonb_build_object('work_mem', (g * 1024)::text) "
                       "FROM generate_series(1, %d) g",
                       pid, N));
    assert_true(it_okf(e,
                       "INSERT INTO rds (db_instance_identifier, engine, engine_version, "
                       "db_instance_class, allocated_storage, master_username, "
                       "manage_master_user_password) SELECT 'rot-' || g || '-%d', 'postgres', "
                       "'15.4', 'db.t3.micro', 20, 'app', true FROM generate_series(1, %d) g",
                       pid, DBS));
    it_expect_commit(e, N + DBS, "create");
    /* made without security groups, they got their VPC's default one */
    assert_string_equal(it_valf(e, "SELECT count(*) FROM iasql_sync() WHERE table_name = 'rds'"),
                        "6");
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long full[2], req[4], dbs[4], sum = 0;
    it_rotation_start(e, "1", "parameter_group", full, 2);
    it_rotation_start(e, "5", "parameter_group", req, 4);
    for (int i = 0; i < 4; i++) {
        assert_true(req[i] <= 1 + 2 * (N / 4) * 2);
        sum += req[i];
    }
    assert_true(full[0] >= 1 + 2 * N && full[1] >= 1 + 2 * N);
    assert_true(sum <= 4 + 2 * N + 8); /* each one's reads once a rotation */
    int polls = it_poll_requests(e, "rds", 0, dbs, 0);
    assert_true(polls >= 4);
    it_poll_requests(e, "rds", polls - 4, dbs, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(dbs[i], 1);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    print_message("rotation: %d parameter groups, quiet polls %ld %ld in full, %ld %ld %ld %ld "
                  "under the rotation; %d instances, %ld request a poll\n",
                  N, full[0], full[1], req[0], req[1], req[2], req[3], DBS, dbs[0]);
    char name[64];
    snprintf(name, sizeof name, "rot-1-%d", pid);
    char *arn = val(e, "SELECT arn FROM parameter_group WHERE name = '%s'", name);
    free(rds(
        e, NULL,
        "Action=ModifyDBParameterGroup&DBParameterGroupName=%s&"
        "Parameters.Parameter.1.ParameterName=work_mem&"
        "Parameters.Parameter.1.ParameterValue=4096&Parameters.Parameter.1.ApplyMethod=immediate",
        name));
    free(rds(e, NULL,
             "Action=AddTagsToResource&ResourceName=%s&Tags.Tag.1.Key=team&"
             "Tags.Tag.1.Value=ops",
             arn));
    double t0 = it_now_s();
    assert_true(it_eventually(e, "4096 ops",
                              "SELECT (parameters->>'work_mem') || ' ' || coalesce(tags->>'team', "
                              "'') FROM parameter_group WHERE name = '%s'",
                              name));
    print_message("a parameter and a tag changed outside seen in %.1f s\n", it_now_s() - t0);
    it_rotation_end(e);
    assert_true(it_okf(e, "DELETE FROM rds WHERE db_instance_identifier LIKE 'rot-%%-%d'", pid));
    assert_true(it_okf(e, "DELETE FROM parameter_group WHERE name LIKE 'rot-%%-%d'", pid));
    it_expect_commit(e, N + DBS, "delete");
    free(audit), free(arn);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rds_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rds_password_never_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rds_import_and_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rds_cluster, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rds_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rds_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_rds", tests, NULL, NULL);
}
