/* tests/integration/it_poll.c — the cloud changed behind the engine's back,
 * through the AWS API straight to moto_server: buckets, queues, security
 * groups (and their rules) and instances made, changed and deleted outside
 * the database appear, change and go in the tables after iasql_sync() and
 * after one poll interval, with origin 'cloud'; a quiet sync writes nothing
 * (no row, no audit entry, no journal record); a row with a pending user
 * change is never overwritten: the conflict is reported and the next commit
 * or rollback settles it; iasql_sync_preview() reports a sync's rows and
 * writes nothing; a resource the engine just made is not taken as
 * deleted within the grace period. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "it_util.h"

static char sfx[32]; /* names of this run only */

static int setup(void **state)
{
    if (it_fixture(state, "poll", false))
        return -1;
    it_env *e = *state;
    snprintf(sfx, sizeof sfx, "%d", (int)getpid());
    if (!it_ok(e, "SELECT * FROM iasql_install('aws_s3', 'aws_sqs', 'aws_ec2')", 0, NULL))
        return -1;
    e->poll = "off";
    e->poll_grace = "0";
    if (it_stop_engine(e) || it_start_engine(e))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

static long s3(const char *method, const char *name, const char *sub, const char *body)
{
    char url[512];
    snprintf(url, sizeof url, "%s/%s%s", getenv("IT_EMULATOR_URL"), name, sub ? sub : "");
    return it_http_full("s3",
                        sub && strstr(sub, "policy") ? "Content-Type: application/json"
                                                     : "Content-Type: application/xml",
                        method, url, body, NULL);
}

static long put_policy(const char *name)
{
    char doc[512];
    snprintf(doc, sizeof doc,
             "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", "
             "\"Principal\": \"*\", \"Action\": \"s3:GetObject\", "
             "\"Resource\": \"arn:aws:s3:::%s/*\"}]}",
             name);
    return s3("PUT", name, "?policy", doc);
}

/* it_ec2, and the call must succeed. */
static char *ec2(it_env *e, const char *fmt, ...)
{
    long st;
    va_list ap;
    va_start(ap, fmt);
    char *out = it_ec2v(e, &st, fmt, ap);
    va_end(ap);
    assert_int_equal(st, 200);
    return out;
}

static json_t *sqs(it_env *e, const char *op, json_t *body)
{
    char target[128];
    long st;
    snprintf(target, sizeof target, "AmazonSQS.%s", op);
    json_t *r = it_aws_json(e, "sqs", "1.0", target, body, &st);
    assert_int_equal(st, 200);
    return r;
}

/* The count of journal records, from `iasql journal verify`. */
static long journal_records(it_env *e)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "\"%s\" journal verify \"%s\" 2>&1", getenv("IASQL_BIN"), e->journal);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char line[1024];
    long n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%ld records", &n) == 1 || sscanf(line, "ok: %ld records", &n) == 1)
            break;
    pclose(f);
    return n;
}

/* The sync's row for one resource: "action|description", or "" (static). */
static const char *sync_row(PGresult *r, const char *id)
{
    for (int i = 0; i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, 2), id) == 0)
            return PQgetvalue(r, i, 0);
    return "";
}

static PGresult *sync_now(it_env *e)
{
    PGresult *r =
        it_sql(e, "SELECT action, description, id::text, table_name FROM iasql_sync()", 0, NULL);
    assert_non_null(r);
    return r;
}

static void test_buckets(void **state)
{
    it_env *e = *state;
    char kept[64], gone[64], made[64], changed[64];
    snprintf(kept, sizeof kept, "pl-kept-%s", sfx);
    snprintf(gone, sizeof gone, "pl-gone-%s", sfx);
    snprintf(made, sizeof made, "pl-made-%s", sfx);
    snprintf(changed, sizeof changed, "pl-changed-%s", sfx);
    assert_true(
        it_okf(e, "INSERT INTO bucket (name) VALUES ('%s'), ('%s'), ('%s')", kept, gone, changed));
    it_expect_commit(e, 3, "create");
    /* behind the engine's back */
    assert_int_equal(s3("PUT", made, NULL, NULL), 200);
    assert_int_equal(s3("DELETE", gone, NULL, NULL), 204);
    assert_int_equal(
        s3("PUT", changed, "?versioning",
           "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
           "<Status>Enabled</Status></VersioningConfiguration>"),
        200);
    const char *gone_id = strdup(it_valf(e, "SELECT id FROM bucket WHERE name = '%s'", gone));
    const char *changed_id = strdup(it_valf(e, "SELECT id FROM bucket WHERE name = '%s'", changed));
    PGresult *r = sync_now(e);
    assert_string_equal(sync_row(r, gone_id), "delete");
    assert_string_equal(sync_row(r, changed_id), "update");
    const char *made_id = it_valf(e, "SELECT id FROM bucket WHERE name = '%s'", made);
    assert_non_null(made_id);
    assert_string_equal(sync_row(r, made_id), "create");
    for (int i = 0; i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, 2), changed_id) == 0)
            assert_non_null(strstr(PQgetvalue(r, i, 1), "versioning"));
    PQclear(r);
    assert_string_equal(it_valf(e, "SELECT count(*) FROM bucket WHERE name = '%s'", gone), "0");
    assert_string_equal(it_valf(e, "SELECT versioning FROM bucket WHERE name = '%s'", changed),
                        "Enabled");
    assert_string_equal(it_valf(e, "SELECT count(*) FROM bucket WHERE name = '%s'", kept), "1");
    /* origin cloud in the audit log, and nothing pending afterwards */
    assert_string_equal(
        it_valf(e,
                "SELECT string_agg(DISTINCT origin, ',') FROM iasql_audit_log "
                "WHERE row_id IN (%s, %s) AND op <> 'INSERT' AND origin <> 'engine'",
                gone_id, changed_id),
        "cloud");
    assert_string_equal(it_valf(e, "SELECT origin FROM iasql_audit_log WHERE row_id = %s",
                                it_valf(e, "SELECT id FROM bucket WHERE name = '%s'", made)),
                        "cloud");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    free((void *)gone_id);
    free((void *)changed_id);
}

/* The description of the row of action for table/id in r ("" when none;
 * id NULL: any id). */
static const char *row_text(PGresult *r, const char *action, const char *id, const char *needle)
{
    for (int i = 0; i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, 0), action) == 0 &&
            (!id || strcmp(PQgetvalue(r, i, 2), id) == 0) &&
            (!needle || strstr(PQgetvalue(r, i, 1), needle)))
            return PQgetvalue(r, i, 1);
    return "";
}

/* iasql_sync_preview() reports what a sync would bring in, in the same
 * rows, and writes nothing: not the table, the audit log, the journal or
 * iasql_errors; asked twice it says the same; the sync then writes just
 * that, and a preview after it finds nothing. */
static void test_sync_preview(void **state)
{
    it_env *e = *state;
    char gone[64], changed[64], made[64];
    snprintf(gone, sizeof gone, "pv-gone-%s", sfx);
    snprintf(changed, sizeof changed, "pv-changed-%s", sfx);
    snprintf(made, sizeof made, "pv-made-%s", sfx);
    PQclear(sync_now(e)); /* whatever the earlier tests left */
    assert_true(it_okf(e, "INSERT INTO bucket (name) VALUES ('%s'), ('%s')", gone, changed));
    it_expect_commit(e, 2, "create");
    char *gone_id = strdup(it_valf(e, "SELECT id FROM bucket WHERE name = '%s'", gone));
    char *changed_id = strdup(it_valf(e, "SELECT id FROM bucket WHERE name = '%s'", changed));
    assert_int_equal(s3("PUT", made, NULL, NULL), 200);
    assert_int_equal(s3("DELETE", gone, NULL, NULL), 204);
    assert_int_equal(
        s3("PUT", changed, "?versioning",
           "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
           "<Status>Enabled</Status></VersioningConfiguration>"),
        200);
    const char *snapshot_sql =
        "SELECT string_agg(id || ':' || name || ':' || coalesce(versioning, '-'), ',' ORDER BY id) "
        "FROM bucket";
    char *rows = strdup(it_value(e, snapshot_sql));
    char *audit = strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    char *errors = strdup(it_value(e, "SELECT count(*) FROM iasql_errors"));
    /* the engine journals the commit's last writes when it next tails */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    long records = journal_records(e);
    PGresult *pv[2];
    for (int k = 0; k < 2; k++) {
        pv[k] =
            it_sql(e, "SELECT action, description, id::text, table_name FROM iasql_sync_preview()",
                   0, NULL);
        assert_non_null(pv[k]);
        assert_int_equal(PQntuples(pv[k]), 3);
        assert_non_null(strstr(row_text(pv[k], "delete", gone_id, NULL), gone));
        assert_non_null(strstr(row_text(pv[k], "update", changed_id, NULL), "versioning"));
        assert_non_null(strstr(row_text(pv[k], "create", NULL, made), "made outside"));
        /* a row not made yet has no id */
        for (int i = 0; i < PQntuples(pv[k]); i++)
            assert_true(PQgetisnull(pv[k], i, 2) ==
                        (strcmp(PQgetvalue(pv[k], i, 0), "create") == 0));
        /* nothing written anywhere */
        assert_string_equal(it_value(e, snapshot_sql), rows);
        assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
        assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_errors"), errors);
        assert_int_equal(journal_records(e), records);
        assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    }
    assert_string_equal(row_text(pv[0], "update", changed_id, NULL),
                        row_text(pv[1], "update", changed_id, NULL));
    PGresult *r = sync_now(e);
    assert_int_equal(PQntuples(r), 3);
    assert_string_equal(row_text(r, "delete", gone_id, NULL),
                        row_text(pv[0], "delete", gone_id, NULL));
    assert_string_equal(row_text(r, "update", changed_id, NULL),
                        row_text(pv[0], "update", changed_id, NULL));
    char made_row[160];
    snprintf(made_row, sizeof made_row, "made outside this database: bucket %s (name=%s,",
             it_valf(e, "SELECT id FROM bucket WHERE name = '%s'", made), made);
    assert_non_null(strstr(row_text(r, "create", NULL, made), made_row));
    snprintf(made_row, sizeof made_row, "made outside this database: bucket (name=%s,", made);
    assert_non_null(strstr(row_text(pv[0], "create", NULL, made), made_row));
    PQclear(r);
    PQclear(pv[0]);
    PQclear(pv[1]);
    assert_string_equal(it_valf(e, "SELECT count(*) FROM bucket WHERE name = '%s'", gone), "0");
    assert_string_equal(it_valf(e, "SELECT versioning FROM bucket WHERE name = '%s'", changed),
                        "Enabled");
    assert_string_equal(it_valf(e, "SELECT count(*) FROM bucket WHERE name = '%s'", made), "1");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_sync_preview()"), "0");
    free(gone_id);
    free(changed_id);
    free(rows);
    free(audit);
    free(errors);
}

/* A sync that finds nothing new writes nothing anywhere. */
static void test_quiet_sync_writes_nothing(void **state)
{
    it_env *e = *state;
    PGresult *r = sync_now(e); /* whatever the earlier tests left */
    PQclear(r);
    const char *audit = strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    const char *errors = strdup(it_value(e, "SELECT count(*) FROM iasql_errors"));
    long records = journal_records(e);
    assert_true(records > 0);
    r = sync_now(e);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_errors"), errors);
    assert_int_equal(journal_records(e), records);
    free((void *)audit);
    free((void *)errors);
}

/* How many tables the last sync compared and how many answered as before
 * (the memo: the same answers to the same requests, nothing parsed). */
static void last_sync(it_env *e, int *compared, int *same)
{
    const char *line = it_log_last(e, "tables compared");
    const char *at = strstr(line, "sync: ");
    assert_non_null(at);
    assert_int_equal(sscanf(at, "sync: %d tables compared, %d answered as before", compared, same),
                     2);
}

static void test_memo(void **state)
{
    it_env *e = *state;
    char q[64];
    snprintf(q, sizeof q, "pl-memo-%s", sfx);
    assert_true(it_okf(e, "INSERT INTO queue (name) VALUES ('%s')", q));
    it_expect_commit(e, 1, "create");
    int compared, same;
    PGresult *r = sync_now(e); /* the commit changed known states: everything is compared */
    PQclear(r);
    last_sync(e, &compared, &same);
    assert_int_equal(same, 0);
    assert_true(compared > 0);
    int tables = compared;
    r = sync_now(e);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    last_sync(e, &compared, &same);
    assert_int_equal(compared, 0);
    assert_int_equal(same, tables);
    /* A change in the cloud changes an answer: that table is compared. */
    const char *url = strdup(it_valf(e, "SELECT url FROM queue WHERE name = '%s'", q));
    json_decref(
        sqs(e, "TagQueue", json_pack("{s:s, s:{s:s}}", "QueueUrl", url, "Tags", "memo", "seen")));
    r = sync_now(e);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "update");
    PQclear(r);
    last_sync(e, &compared, &same);
    assert_int_equal(compared, 1);
    assert_string_equal(it_valf(e, "SELECT tags->>'memo' FROM queue WHERE name = '%s'", q), "seen");
    /* That write changed known states: every table is compared once more. */
    r = sync_now(e);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    last_sync(e, &compared, &same);
    assert_int_equal(compared, tables);
    /* A commit changes known states too; then the memo holds again. */
    assert_true(it_okf(e, "UPDATE queue SET delay_seconds = 3 WHERE name = '%s'", q));
    it_expect_commit(e, 1, "update");
    r = sync_now(e);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    last_sync(e, &compared, &same);
    assert_int_equal(compared, tables);
    r = sync_now(e);
    PQclear(r);
    last_sync(e, &compared, &same);
    assert_int_equal(same, tables);
    /* Deleted behind the engine's back while the memo holds. */
    json_decref(sqs(e, "DeleteQueue", json_pack("{s:s}", "QueueUrl", url)));
    r = sync_now(e);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "delete");
    PQclear(r);
    assert_string_equal(it_valf(e, "SELECT count(*) FROM queue WHERE name = '%s'", q), "0");
    free((void *)url);
}

static void test_queues(void **state)
{
    it_env *e = *state;
    char mine[64], made[64];
    snprintf(mine, sizeof mine, "pl-q-%s", sfx);
    snprintf(made, sizeof made, "pl-q-made-%s", sfx);
    assert_true(it_okf(e, "INSERT INTO queue (name) VALUES ('%s')", mine));
    it_expect_commit(e, 1, "create");
    const char *url = strdup(it_valf(e, "SELECT url FROM queue WHERE name = '%s'", mine));
    json_decref(
        sqs(e, "SetQueueAttributes",
            json_pack("{s:s, s:{s:s}}", "QueueUrl", url, "Attributes", "VisibilityTimeout", "77")));
    json_decref(
        sqs(e, "TagQueue", json_pack("{s:s, s:{s:s}}", "QueueUrl", url, "Tags", "team", "ops")));
    json_decref(
        sqs(e, "CreateQueue",
            json_pack("{s:s, s:{s:s}}", "QueueName", made, "Attributes", "DelaySeconds", "5")));
    PGresult *r = sync_now(e);
    PQclear(r);
    assert_string_equal(it_valf(e,
                                "SELECT visibility_timeout || ' ' || (tags->>'team') FROM queue "
                                "WHERE name = '%s'",
                                mine),
                        "77 ops");
    assert_string_equal(it_valf(e, "SELECT delay_seconds FROM queue WHERE name = '%s'", made), "5");
    /* deleted outside */
    json_decref(sqs(e, "DeleteQueue", json_pack("{s:s}", "QueueUrl", url)));
    r = sync_now(e);
    PQclear(r);
    assert_string_equal(it_valf(e, "SELECT count(*) FROM queue WHERE name = '%s'", mine), "0");
    free((void *)url);
}

static void test_security_groups_and_instances(void **state)
{
    it_env *e = *state;
    char sg[64], tag[64];
    snprintf(sg, sizeof sg, "pl-sg-%s", sfx);
    snprintf(tag, sizeof tag, "pl-i-%s", sfx);
    /* the engine's own instance, in the default VPC's first subnet */
    const char *subnet = strdup(it_value(e, "SELECT min(s.id) FROM subnet s JOIN vpc v ON v.id = "
                                            "s.vpc WHERE v.is_default"));
    assert_true(it_okf(e,
                       "INSERT INTO instance (ami, instance_type, subnet, tags) VALUES "
                       "('ami-03cf127a', 't2.micro', %s, '{\"Name\": \"%s\"}')",
                       subnet, tag));
    it_expect_commit(e, 1, "create");
    const char *iid =
        strdup(it_valf(e, "SELECT instance_id FROM instance WHERE tags->>'Name' = '%s'", tag));
    const char *vpc_id = strdup(it_value(e, "SELECT vpc_id FROM vpc WHERE is_default"));
    /* behind the engine's back: a group with a rule, the instance stopped,
     * another instance run */
    char *x = ec2(e, "Action=CreateSecurityGroup&GroupName=%s&GroupDescription=outside&VpcId=%s",
                  sg, vpc_id);
    char gid[64];
    snprintf(gid, sizeof gid, "%s", it_xml_text(x, "groupId"));
    free(x);
    free(ec2(e,
             "Action=AuthorizeSecurityGroupIngress&GroupId=%s&IpPermissions.1.IpProtocol=tcp&"
             "IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443&"
             "IpPermissions.1.IpRanges.1.CidrIp=10.9.0.0/16",
             gid));
    free(ec2(e, "Action=StopInstances&InstanceId.1=%s", iid));
    x = ec2(e,
            "Action=RunInstances&ImageId=ami-03cf127a&InstanceType=t2.nano&MinCount=1&MaxCount=1&"
            "TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&"
            "TagSpecification.1.Tag.1.Value=%s-outside",
            tag);
    char other[64];
    snprintf(other, sizeof other, "%s", it_xml_text(x, "instanceId"));
    free(x);
    PGresult *r = sync_now(e);
    PQclear(r);
    assert_string_equal(
        it_valf(e, "SELECT group_name FROM security_group WHERE group_id = '%s'", gid), sg);
    assert_string_equal(it_valf(e,
                                "SELECT count(*) FROM security_group_rule r JOIN security_group g "
                                "ON g.id = r.security_group WHERE g.group_id = '%s' AND "
                                "r.from_port = 443 AND r.cidr_ipv4 = '10.9.0.0/16'",
                                gid),
                        "1");
    assert_string_equal(it_valf(e, "SELECT state FROM instance WHERE instance_id = '%s'", iid),
                        "stopped");
    assert_string_equal(it_valf(e,
                                "SELECT instance_type || ' ' || (tags->>'Name') FROM instance "
                                "WHERE instance_id = '%s'",
                                other),
                        it_valf(e, "SELECT 't2.nano %s-outside'", tag));
    /* both go outside the database */
    free(ec2(e, "Action=TerminateInstances&InstanceId.1=%s", other));
    free(ec2(e, "Action=TerminateInstances&InstanceId.1=%s", iid));
    free(ec2(e, "Action=DeleteSecurityGroup&GroupId=%s", gid));
    r = sync_now(e);
    PQclear(r);
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM instance WHERE instance_id IN ('%s', '%s')", iid, other),
        "0");
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM security_group WHERE group_id = '%s'", gid), "0");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    free((void *)subnet);
    free((void *)iid);
    free((void *)vpc_id);
}

/* Two databases, one account: what the engine makes carries its database's
 * identity; a conflict on a resource another database made names it, and a
 * commit neither changes nor deletes it until its tag is gone. */
static void test_other_database(void **state)
{
    it_env *e = *state;
    char mine[64], theirs[64];
    snprintf(mine, sizeof mine, "pl-own-%s", sfx);
    snprintf(theirs, sizeof theirs, "pl-theirs-%s", sfx);
    const char *vpc = strdup(it_value(e, "SELECT id FROM vpc WHERE is_default"));
    const char *vpc_id = strdup(it_value(e, "SELECT vpc_id FROM vpc WHERE is_default"));
    assert_true(it_okf(e,
                       "INSERT INTO security_group (group_name, description, vpc) VALUES "
                       "('%s', 'mine', %s)",
                       mine, vpc));
    it_expect_commit(e, 1, "create");
    char *dbid = it_database_id(e);
    char *x = ec2(e, "Action=DescribeSecurityGroups&GroupId.1=%s",
                  it_valf(e, "SELECT group_id FROM security_group WHERE group_name = '%s'", mine));
    assert_non_null(strstr(x, "iasql:owner"));
    assert_non_null(strstr(x, dbid));
    free(x);
    /* the tag is not a user's tag */
    assert_string_equal(
        it_valf(e, "SELECT tags::text FROM security_group WHERE group_name = '%s'", mine), "{}");
    /* another database's group, changed there while this one changes it too */
    x = ec2(e,
            "Action=CreateSecurityGroup&GroupName=%s&GroupDescription=theirs&VpcId=%s&"
            "TagSpecification.1.ResourceType=security-group&TagSpecification.1.Tag.1.Key="
            "iasql:owner&TagSpecification.1.Tag.1.Value=other-database",
            theirs, vpc_id);
    char gid[64];
    snprintf(gid, sizeof gid, "%s", it_xml_text(x, "groupId"));
    free(x);
    PGresult *r = sync_now(e);
    PQclear(r);
    const char *id = strdup(it_valf(e, "SELECT id FROM security_group WHERE group_id = '%s'", gid));
    assert_true(
        it_okf(e, "UPDATE security_group SET tags = '{\"team\": \"here\"}' WHERE id = %s", id));
    free(ec2(e, "Action=CreateTags&ResourceId.1=%s&Tag.1.Key=team&Tag.1.Value=there", gid));
    r = sync_now(e);
    assert_string_equal(sync_row(r, id), "conflict");
    for (int i = 0; i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, 2), id) == 0)
            assert_non_null(strstr(PQgetvalue(r, i, 1), "iasql database other-database"));
    PQclear(r);
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    assert_string_equal(it_valf(e, "SELECT tags->>'team' FROM security_group WHERE id = %s", id),
                        "there");
    /* the list told which rows another database made */
    assert_string_equal(it_valf(e,
                                "SELECT owner FROM iasql_foreign_owner WHERE table_name = "
                                "'security_group' AND row_id = %s",
                                id),
                        "other-database");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_foreign_owner WHERE owner = "
                                    "(SELECT value FROM iasql_config WHERE key = 'database_id')"),
                        "0");
    /* a commit changes this database's group and leaves the other's alone,
     * saying why; the preview says so first */
    assert_true(it_okf(e,
                       "UPDATE security_group SET tags = '{\"team\": \"here\"}' WHERE "
                       "group_name IN ('%s', '%s')",
                       mine, theirs));
    assert_non_null(strstr(it_valf(e, "SELECT description FROM iasql_preview() WHERE id = %s", id),
                           "not applied: the resource is tagged iasql:owner=other-database"));
    r = it_sql(e, "SELECT action, id::text, description FROM iasql_commit() ORDER BY id", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    for (int i = 0; i < 2; i++) {
        const char *d = PQgetvalue(r, i, 2);
        if (strcmp(PQgetvalue(r, i, 1), id) == 0) {
            assert_non_null(strstr(d, "failed to update security_group"));
            assert_non_null(strstr(d, "iasql database other-database made it"));
        } else {
            assert_non_null(strstr(d, "updated security_group"));
        }
    }
    PQclear(r);
    assert_non_null(strstr(it_valf(e, "SELECT message FROM iasql_errors WHERE row_id = %s", id),
                           "other-database"));
    x = ec2(e, "Action=DescribeSecurityGroups&GroupId.1=%s", gid);
    assert_non_null(strstr(x, "there"));
    assert_null(strstr(x, ">here<"));
    free(x);
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    /* nor does it delete the other's group (or its default rules) */
    assert_true(
        it_okf(e, "DELETE FROM security_group WHERE group_name IN ('%s', '%s')", mine, theirs));
    r = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    int deleted = 0, refused = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        assert_string_equal(PQgetvalue(r, i, 0), "delete");
        if (strstr(PQgetvalue(r, i, 1), "failed"))
            refused++;
        else
            deleted++;
    }
    PQclear(r);
    assert_true(deleted >= 1); /* the group, and its default rule */
    assert_true(refused >= 1);
    x = ec2(e, "Action=DescribeSecurityGroups&GroupId.1=%s", gid);
    assert_non_null(strstr(x, gid));
    free(x);
    /* without the tag it is this database's to delete */
    free(ec2(e, "Action=DeleteTags&ResourceId.1=%s&Tag.1.Key=iasql:owner", gid));
    PQclear(sync_now(e));
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM iasql_foreign_owner WHERE row_id = %s", id), "0");
    r = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    assert_true(PQntuples(r) >= 1);
    for (int i = 0; i < PQntuples(r); i++) {
        assert_string_equal(PQgetvalue(r, i, 0), "delete");
        assert_null(strstr(PQgetvalue(r, i, 1), "failed"));
    }
    PQclear(r);
    free((void *)vpc);
    free((void *)vpc_id);
    free(dbid);
    free((void *)id);
}

/* Two databases, two engines, one account: each notes what the other made
 * (at install and at sync), and neither deletes the other's. */
static void test_two_databases(void **state)
{
    it_env *a = *state;
    char first[64], second[64];
    snprintf(first, sizeof first, "pl-two-a-%s", sfx);
    snprintf(second, sizeof second, "pl-two-b-%s", sfx);
    char *aid = it_database_id(a);
    assert_true(it_okf(a, "INSERT INTO bucket (name) VALUES ('%s')", first));
    it_expect_commit(a, 1, "create");
    void *bs = NULL;
    assert_int_equal(it_fixture(&bs, "poll_b", true), 0); /* installs aws_s3: imports */
    it_env *b = bs;
    it_restart_engine(b, "off", "0");
    static const char note[] = "SELECT coalesce((SELECT f.owner FROM iasql_foreign_owner f "
                               "JOIN bucket x ON f.table_name = 'bucket' AND f.row_id = x.id "
                               "WHERE x.name = '%s'), 'none')";
    assert_string_equal(it_valf(b, note, first), aid);
    /* one made after: noted by the sync that brings it */
    assert_true(it_okf(a, "INSERT INTO bucket (name) VALUES ('%s')", second));
    it_expect_commit(a, 1, "create");
    PQclear(sync_now(b));
    assert_string_equal(it_valf(b, note, second), aid);
    assert_string_equal(it_valf(a, note, second), "none"); /* its own */
    /* b will not delete them, and says whose they are */
    assert_true(it_okf(b, "DELETE FROM bucket WHERE name IN ('%s', '%s')", first, second));
    PGresult *r = it_sql(b, "SELECT description FROM iasql_commit()", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    for (int i = 0; i < 2; i++) {
        assert_non_null(strstr(PQgetvalue(r, i, 0), "failed to delete bucket"));
        assert_non_null(strstr(PQgetvalue(r, i, 0), aid));
    }
    PQclear(r);
    assert_true(it_cloud_has_bucket(a->emulator, first));
    assert_true(it_cloud_has_bucket(a->emulator, second));
    assert_true(it_ok(b, "SELECT * FROM iasql_rollback()", 0, NULL));
    /* a deletes one: b follows, and its note goes */
    const char *bid = strdup(it_valf(b, "SELECT id FROM bucket WHERE name = '%s'", first));
    assert_true(it_okf(a, "DELETE FROM bucket WHERE name = '%s'", first));
    it_expect_commit(a, 1, "delete");
    r = sync_now(b);
    assert_string_equal(sync_row(r, bid), "delete");
    PQclear(r);
    assert_string_equal(
        it_valf(b, "SELECT count(*) FROM iasql_foreign_owner WHERE row_id = %s", bid), "0");
    assert_true(it_okf(a, "DELETE FROM bucket WHERE name = '%s'", second));
    it_expect_commit(a, 1, "delete");
    assert_int_equal(it_fixture_end(&bs), 0);
    free(aid);
    free((void *)bid);
}

/* Every service's creates carry the database's identity: a bucket and a
 * queue here (the EC2 family above). It is never a user's tag, survives
 * the user's tag changes, and a queue another database made is named when
 * both change it. */
static void test_owner_everywhere(void **state)
{
    it_env *e = *state;
    char b[64], q[64], theirs[64];
    snprintf(b, sizeof b, "pl-ob-%s", sfx);
    snprintf(q, sizeof q, "pl-oq-%s", sfx);
    snprintf(theirs, sizeof theirs, "pl-oq-theirs-%s", sfx);
    char *dbid = it_database_id(e);
    assert_true(it_okf(e, "INSERT INTO bucket (name) VALUES ('%s')", b));
    assert_true(it_okf(e, "INSERT INTO queue (name, tags) VALUES ('%s', '{\"team\": \"a\"}')", q));
    it_expect_commit(e, 2, "create");
    const char *body = NULL;
    char url[512];
    snprintf(url, sizeof url, "%s/%s?tagging", getenv("IT_EMULATOR_URL"), b);
    assert_int_equal(it_http_full("s3", "Content-Type: application/xml", "GET", url, NULL, &body),
                     200);
    assert_non_null(strstr(body, "iasql:owner"));
    assert_non_null(strstr(body, dbid));
    const char *qurl = strdup(it_valf(e, "SELECT url FROM queue WHERE name = '%s'", q));
    json_t *t = sqs(e, "ListQueueTags", json_pack("{s:s}", "QueueUrl", qurl));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(t, "Tags"), "iasql:owner")), dbid);
    json_decref(t);
    /* the user's tag writes keep it (S3 replaces the whole set) */
    assert_true(it_okf(e, "UPDATE bucket SET tags = '{\"env\": \"dev\"}' WHERE name = '%s'", b));
    assert_true(it_okf(e, "UPDATE queue SET tags = '{}' WHERE name = '%s'", q));
    it_expect_commit(e, 2, "update");
    assert_int_equal(it_http_full("s3", "Content-Type: application/xml", "GET", url, NULL, &body),
                     200);
    assert_non_null(strstr(body, dbid));
    assert_non_null(strstr(body, "env"));
    t = sqs(e, "ListQueueTags", json_pack("{s:s}", "QueueUrl", qurl));
    assert_int_equal(json_object_size(json_object_get(t, "Tags")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(t, "Tags"), "iasql:owner")), dbid);
    json_decref(t);
    /* not a user's tag, nor drift, nor settable */
    PGresult *r = sync_now(e);
    assert_string_equal(sync_row(r, it_valf(e, "SELECT id FROM bucket WHERE name = '%s'", b)), "");
    PQclear(r);
    assert_string_equal(it_valf(e, "SELECT tags::text FROM bucket WHERE name = '%s'", b),
                        "{\"env\": \"dev\"}");
    assert_string_equal(it_valf(e, "SELECT tags::text FROM queue WHERE name = '%s'", q), "{}");
    const char *msg = it_sql_error(e, "UPDATE queue SET tags = '{\"iasql:owner\": \"x\"}'");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "queue_tags_up_to_50_strings_no_aws_or_iasql_keys"));
    /* another database's queue, changed there while this one changes it */
    json_t *made = sqs(
        e, "CreateQueue",
        json_pack("{s:s, s:{s:s}}", "QueueName", theirs, "tags", "iasql:owner", "other-database"));
    const char *turl = strdup(json_string_value(json_object_get(made, "QueueUrl")));
    json_decref(made);
    r = sync_now(e);
    PQclear(r);
    const char *id = strdup(it_valf(e, "SELECT id FROM queue WHERE name = '%s'", theirs));
    assert_string_equal(it_valf(e, "SELECT tags::text FROM queue WHERE id = %s", id), "{}");
    assert_true(it_okf(e, "UPDATE queue SET delay_seconds = 4 WHERE id = %s", id));
    json_decref(
        sqs(e, "SetQueueAttributes",
            json_pack("{s:s, s:{s:s}}", "QueueUrl", turl, "Attributes", "DelaySeconds", "9")));
    r = sync_now(e);
    assert_string_equal(sync_row(r, id), "conflict");
    for (int i = 0; i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, 2), id) == 0)
            assert_non_null(strstr(PQgetvalue(r, i, 1), "iasql database other-database"));
    PQclear(r);
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    /* this database deletes its own; the other's goes where it was made */
    assert_true(it_okf(e, "DELETE FROM queue WHERE name = '%s'", q));
    assert_true(it_okf(e, "DELETE FROM bucket WHERE name = '%s'", b));
    it_expect_commit(e, 2, "delete");
    json_decref(sqs(e, "DeleteQueue", json_pack("{s:s}", "QueueUrl", turl)));
    r = sync_now(e);
    assert_string_equal(sync_row(r, id), "delete");
    PQclear(r);
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM iasql_foreign_owner WHERE row_id = %s", id), "0");
    free(dbid);
    free((void *)qurl);
    free((void *)turl);
    free((void *)id);
}

/* A pending user change wins until it is committed or rolled back. */
static void test_conflict(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "pl-conflict-%s", sfx);
    assert_true(it_okf(e, "INSERT INTO bucket (name) VALUES ('%s')", name));
    it_expect_commit(e, 1, "create");
    const char *id = strdup(it_valf(e, "SELECT id FROM bucket WHERE name = '%s'", name));
    assert_true(it_okf(e, "UPDATE bucket SET tags = '{\"team\": \"a\"}' WHERE id = %s", id));
    assert_int_equal(put_policy(name) / 100, 2);
    PGresult *r = sync_now(e);
    assert_string_equal(sync_row(r, id), "conflict");
    for (int i = 0; i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, 2), id) == 0)
            assert_non_null(strstr(PQgetvalue(r, i, 1), "policy"));
    PQclear(r);
    /* the row is as the user left it */
    assert_string_equal(it_valf(e,
                                "SELECT (policy IS NULL) || ' ' || (tags->>'team') FROM bucket "
                                "WHERE id = %s",
                                id),
                        "true a");
    assert_non_null(
        strstr(it_value(e, "SELECT message FROM iasql_get_errors() LIMIT 1"), "conflict"));
    /* reported once: the known state now is the cloud's */
    r = sync_now(e);
    assert_string_equal(sync_row(r, id), "");
    PQclear(r);
    /* the commit applies the user's row over what the cloud holds now */
    r = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "update");
    assert_non_null(strstr(PQgetvalue(r, 0, 1), "policy"));
    PQclear(r);
    r = sync_now(e);
    assert_string_equal(sync_row(r, id), "");
    PQclear(r);
    /* again, settled by a rollback this time: the row takes the cloud's */
    assert_true(it_okf(e, "UPDATE bucket SET tags = '{\"team\": \"b\"}' WHERE id = %s", id));
    assert_int_equal(put_policy(name) / 100, 2);
    r = sync_now(e);
    assert_string_equal(sync_row(r, id), "conflict");
    PQclear(r);
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    assert_string_equal(it_valf(e,
                                "SELECT (policy IS NULL) || ' ' || (tags->>'team') FROM bucket "
                                "WHERE id = %s",
                                id),
                        "false a");
    r = sync_now(e);
    assert_string_equal(sync_row(r, id), "");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* a user's deleted row whose resource is deleted outside too: settled */
    assert_true(it_okf(e, "UPDATE bucket SET tags = '{\"team\": \"c\"}' WHERE id = %s", id));
    assert_int_equal(s3("DELETE", name, NULL, NULL), 204);
    r = sync_now(e);
    assert_string_equal(sync_row(r, id), "conflict");
    PQclear(r);
    assert_string_equal(it_valf(e, "SELECT count(*) FROM bucket WHERE id = %s", id), "1");
    /* the commit makes the row's bucket again */
    r = it_sql(e, "SELECT action FROM iasql_commit()", 0, NULL);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "create");
    PQclear(r);
    assert_true(it_cloud_has_bucket(getenv("IT_EMULATOR_URL"), name));
    free((void *)id);
}

/* Without iasql_sync(): one poll interval later the tables follow. */
/* Waits up to 15 s for sql to answer want, polls running. */

static void test_periodic_poll(void **state)
{
    it_env *e = *state;
    it_restart_engine(e, "1", "0");
    char name[64];
    snprintf(name, sizeof name, "pl-periodic-%s", sfx);
    /* a bucket, a queue, a group and an instance made outside the database */
    assert_int_equal(s3("PUT", name, NULL, NULL), 200);
    json_t *made = sqs(e, "CreateQueue", json_pack("{s:s}", "QueueName", name));
    const char *qurl = strdup(json_string_value(json_object_get(made, "QueueUrl")));
    json_decref(made);
    const char *vpc_id = strdup(it_value(e, "SELECT vpc_id FROM vpc WHERE is_default"));
    char *x = ec2(e, "Action=CreateSecurityGroup&GroupName=%s&GroupDescription=periodic&VpcId=%s",
                  name, vpc_id);
    char gid[64], iid[64];
    snprintf(gid, sizeof gid, "%s", it_xml_text(x, "groupId"));
    free(x);
    x = ec2(e, "Action=RunInstances&ImageId=ami-03cf127a&InstanceType=t2.nano&MinCount=1&"
               "MaxCount=1");
    snprintf(iid, sizeof iid, "%s", it_xml_text(x, "instanceId"));
    free(x);
    assert_true(it_eventually(e, "1", "SELECT count(*) FROM bucket WHERE name = '%s'", name));
    assert_true(it_eventually(e, "1", "SELECT count(*) FROM queue WHERE name = '%s'", name));
    assert_true(
        it_eventually(e, "1", "SELECT count(*) FROM security_group WHERE group_id = '%s'", gid));
    assert_true(
        it_eventually(e, "1", "SELECT count(*) FROM instance WHERE instance_id = '%s'", iid));
    assert_string_equal(it_valf(e,
                                "SELECT origin FROM iasql_audit_log a JOIN bucket b ON "
                                "b.id = a.row_id WHERE b.name = '%s'",
                                name),
                        "cloud");
    assert_string_equal(it_valf(e,
                                "SELECT string_agg(DISTINCT a.origin, ',') FROM iasql_audit_log a "
                                "JOIN instance i ON i.id = a.row_id WHERE i.instance_id = '%s'",
                                iid),
                        "cloud");
    /* quiet polls write nothing */
    usleep(1500000);
    const char *audit = strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long records = journal_records(e);
    sleep(3);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    assert_int_equal(journal_records(e), records);
    assert_true(it_log_count(e, "poll: listing") >= 2);
    /* and all four deleted outside go from the tables */
    free(ec2(e, "Action=TerminateInstances&InstanceId.1=%s", iid));
    free(ec2(e, "Action=DeleteSecurityGroup&GroupId=%s", gid));
    json_decref(sqs(e, "DeleteQueue", json_pack("{s:s}", "QueueUrl", qurl)));
    assert_int_equal(s3("DELETE", name, NULL, NULL), 204);
    assert_true(it_eventually(e, "0", "SELECT count(*) FROM bucket WHERE name = '%s'", name));
    assert_true(it_eventually(e, "0", "SELECT count(*) FROM queue WHERE name = '%s'", name));
    assert_true(
        it_eventually(e, "0", "SELECT count(*) FROM security_group WHERE group_id = '%s'", gid));
    assert_true(
        it_eventually(e, "0", "SELECT count(*) FROM instance WHERE instance_id = '%s'", iid));
    free((void *)audit);
    free((void *)qurl);
    free((void *)vpc_id);
    it_restart_engine(e, "off", "0");
}

/* The poller's rotation (--poll-deep): a quiet poll of known buckets costs
 * a listing, a tagging page and the six settings reads of a quarter of
 * them (4 polls a rotation), not eight reads a bucket; a tag changed
 * outside is seen at the next poll, a setting within the rotation, and a
 * bucket new in the cloud is read in full at once. */
static void test_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 40 };
    PQclear(sync_now(e));
    assert_true(it_okf(e,
                       "INSERT INTO bucket (name) SELECT 'rt-' || g || '-%s' "
                       "FROM generate_series(1, %d) g",
                       sfx, N));
    it_expect_commit(e, N, "create");
    assert_true(it_okf(e,
                       "INSERT INTO queue (name) SELECT 'rt-' || g || '-%s' "
                       "FROM generate_series(1, %d) g",
                       sfx, N));
    it_expect_commit(e, N, "create");
    int total = atoi(it_value(e, "SELECT count(*) FROM bucket"));
    int queues = atoi(it_value(e, "SELECT count(*) FROM queue"));
    long req[4], qreq[4];
    int before = it_poll_requests(e, "bucket", 0, req, 0);
    int qbefore = it_poll_requests(e, "queue", 0, qreq, 0);
    e->poll_deep = "5";
    it_restart_engine(e, "1", "0");
    /* a full rotation of quiet polls, after the first (which reads in full
     * what the engine changed just before) */
    double deadline = it_now_s() + 60;
    while ((it_poll_requests(e, "bucket", before + 1, req, 4) < before + 5 ||
            it_poll_requests(e, "queue", qbefore + 1, qreq, 4) < qbefore + 5) &&
           it_now_s() < deadline)
        it_sleep_ms(250);
    assert_true(it_poll_requests(e, "bucket", before + 1, req, 4) >= before + 5);
    assert_true(it_poll_requests(e, "queue", qbefore + 1, qreq, 4) >= qbefore + 5);
    long sum = 0, qsum = 0;
    for (int i = 0; i < 4; i++) {
        /* a listing, a tagging page, the reads of about a quarter: six a
         * bucket (policy, versioning, public access block, lifecycle,
         * CORS, encryption), two a queue */
        assert_true(req[i] <= 2 + 6 * (total / 4) * 3);
        assert_true(qreq[i] <= 2 + 2 * (queues / 4) * 3);
        sum += req[i];
        qsum += qreq[i];
    }
    /* one rotation reads each one's settings once */
    assert_true(sum <= 4 * 2 + 6 * total + 8);
    assert_true(sum < 8L * total); /* what one poll costs in full */
    assert_true(qsum <= 4 * 2 + 2 * queues + 8);
    assert_true(qsum < 4L * 2 * queues); /* what four polls cost before */
    char name[64], made[64];
    snprintf(name, sizeof name, "rt-1-%s", sfx);
    snprintf(made, sizeof made, "rt-made-%s", sfx);
    /* tags: the next poll */
    long st = s3("PUT", name, "?tagging",
                 "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>"
                 "<Tag><Key>team</Key><Value>web</Value></Tag></TagSet></Tagging>");
    assert_true(st == 200 || st == 204);
    double t0 = it_now_s();
    assert_true(it_eventually(
        e, "web", "SELECT coalesce(tags->>'team', '') FROM bucket WHERE name = '%s'", name));
    double tags_s = it_now_s() - t0;
    /* a setting: within the rotation (4 polls of 1 s, jittered) */
    assert_int_equal(
        s3("PUT", name, "?versioning",
           "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
           "<Status>Enabled</Status></VersioningConfiguration>"),
        200);
    t0 = it_now_s();
    assert_true(
        it_eventually(e, "Enabled", "SELECT versioning FROM bucket WHERE name = '%s'", name));
    double deep_s = it_now_s() - t0;
    /* new in the cloud: in full at once */
    assert_int_equal(s3("PUT", made, NULL, NULL), 200);
    assert_int_equal(
        s3("PUT", made, "?versioning",
           "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
           "<Status>Suspended</Status></VersioningConfiguration>"),
        200);
    assert_true(it_eventually(e, "1", "SELECT count(*) FROM bucket WHERE name = '%s'", made));
    assert_string_equal(it_valf(e, "SELECT versioning FROM bucket WHERE name = '%s'", made),
                        "Suspended");
    /* a queue's tag and attribute changed outside */
    char qname[64];
    snprintf(qname, sizeof qname, "rt-2-%s", sfx);
    const char *qurl = it_valf(e, "SELECT url FROM queue WHERE name = '%s'", qname);
    json_decref(
        sqs(e, "TagQueue", json_pack("{s:s, s:{s:s}}", "QueueUrl", qurl, "Tags", "team", "ops")));
    json_decref(
        sqs(e, "SetQueueAttributes",
            json_pack("{s:s, s:{s:s}}", "QueueUrl", qurl, "Attributes", "DelaySeconds", "9")));
    assert_true(it_eventually(
        e, "ops", "SELECT coalesce(tags->>'team', '') FROM queue WHERE name = '%s'", qname));
    assert_true(it_eventually(e, "9", "SELECT delay_seconds FROM queue WHERE name = '%s'", qname));
    print_message("rotation: %d buckets, quiet polls %ld %ld %ld %ld requests; %d queues, %ld %ld "
                  "%ld %ld; a bucket's tag seen in %.1f s, a setting in %.1f s\n",
                  total, req[0], req[1], req[2], req[3], queues, qreq[0], qreq[1], qreq[2], qreq[3],
                  tags_s, deep_s);
    assert_true(it_okf(e, "DELETE FROM queue WHERE name LIKE 'rt-%%-%s'", sfx));
    assert_true(
        it_okf(e, "DELETE FROM bucket WHERE name LIKE 'rt-%%-%s' OR name = '%s'", sfx, made));
    it_restart_engine(e, "off", "0");
    e->poll_deep = NULL;
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
}

/* A resource the engine made a moment ago is not taken as deleted because a
 * list does not show it: within the grace period it stays. */
static void test_grace_period(void **state)
{
    it_env *e = *state;
    it_restart_engine(e, "off", "600");
    char name[64];
    snprintf(name, sizeof name, "pl-grace-%s", sfx);
    assert_true(it_okf(e, "INSERT INTO bucket (name) VALUES ('%s')", name));
    it_expect_commit(e, 1, "create");
    assert_int_equal(s3("DELETE", name, NULL, NULL), 204);
    PGresult *r = sync_now(e);
    PQclear(r);
    assert_string_equal(it_valf(e, "SELECT count(*) FROM bucket WHERE name = '%s'", name), "1");
    it_restart_engine(e, "off", "0");
    r = sync_now(e);
    PQclear(r);
    assert_string_equal(it_valf(e, "SELECT count(*) FROM bucket WHERE name = '%s'", name), "0");
}

/* The queue of that name, made outside with tags (a JSON object or NULL). */
static void outside_queue(it_env *e, const char *name, json_t *tags)
{
    json_t *body = json_pack("{s:s}", "QueueName", name);
    if (tags)
        json_object_set_new(body, "tags", tags);
    json_decref(sqs(e, "CreateQueue", body));
}

/* iasql_install(modules, filter): an install into a large account takes in
 * only the resources wanted (a name prefix, or a tag), the poller follows
 * the same filter for what is new in the cloud, what the filter leaves out
 * costs the rotation no read of its own, and a bad filter is refused with
 * nothing installed. */
static void test_selective_import(void **state)
{
    it_env *e = *state;
    char name[96];
    const char *kinds[] = {"keep-a", "skip-b", "skip-c"};
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "%s-%s", kinds[i], sfx);
        outside_queue(e, name, i == 2 ? json_pack("{s:s}", "team", "web") : NULL);
    }
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "skip-many-%d-%s", i, sfx);
        outside_queue(e, name, NULL);
    }
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_sqs')", 0, NULL));
    /* bad filters: refused, nothing installed */
    static const char *const bad[][2] = {
        {"'[]'", "the import filter is not a JSON object"},
        {"'{\"aws_s3\": {\"name_prefix\": \"x\"}}'", "names module aws_s3, which is not being"},
        {"'{\"aws_sqs\": {\"prefix\": \"x\"}}'", "is not {\"tag\": ..., \"name_prefix\": ...}"},
        {"'{\"aws_sqs\": {\"tag\": \"=web\"}}'", "is not {\"tag\": ..., \"name_prefix\": ...}"},
        {"'{\"aws_sqs\": {\"name_prefix\": 7}}'", "is not {\"tag\": ..., \"name_prefix\": ...}"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT * FROM iasql_install(ARRAY['aws_sqs'], %s)", bad[i][0]);
        const char *msg = it_sql_error(e, sql);
        assert_non_null(msg);
        if (!strstr(msg, bad[i][1]))
            fail_msg("%s: %s", sql, msg);
    }
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_module WHERE name = 'aws_sqs'"),
                        "0");
    /* by name prefix */
    char filter[128];
    snprintf(filter, sizeof filter, "{\"aws_sqs\": {\"name_prefix\": \"keep-\"}}");
    const char *fp[] = {filter};
    PGresult *r = it_sql(e, "SELECT record_count FROM iasql_install(ARRAY['aws_sqs'], $1)", 1, fp);
    assert_non_null(r);
    PQclear(r);
    assert_string_equal(it_valf(e, "SELECT count(*) FROM queue WHERE name = 'keep-a-%s'", sfx),
                        "1");
    assert_string_equal(it_value(e, "SELECT count(*) FROM queue WHERE name NOT LIKE 'keep-%'"),
                        "0");
    assert_string_equal(it_value(e, "SELECT name_prefix || coalesce(tag_key, '-') FROM "
                                    "iasql_import_filter WHERE module_name = 'aws_sqs'"),
                        "keep--");
    /* the poller follows it */
    snprintf(name, sizeof name, "keep-d-%s", sfx);
    outside_queue(e, name, NULL);
    snprintf(name, sizeof name, "skip-e-%s", sfx);
    outside_queue(e, name, NULL);
    PQclear(sync_now(e));
    assert_string_equal(it_valf(e, "SELECT count(*) FROM queue WHERE name = 'keep-d-%s'", sfx),
                        "1");
    assert_string_equal(it_value(e, "SELECT count(*) FROM queue WHERE name NOT LIKE 'keep-%'"),
                        "0");
    /* left out, they cost the rotation nothing of their own: a queue
     * known is read in its turn, one left out never */
    long req[3];
    int before = it_poll_requests(e, "queue", 0, req, 0);
    e->poll_deep = "5";
    it_restart_engine(e, "1", "0");
    double deadline = it_now_s() + 60;
    while (it_poll_requests(e, "queue", before + 2, req, 3) < before + 5 && it_now_s() < deadline)
        it_sleep_ms(250);
    assert_true(it_poll_requests(e, "queue", before + 2, req, 3) >= before + 5);
    int known = atoi(it_value(e, "SELECT count(*) FROM queue"));
    for (int i = 0; i < 3; i++) /* ListQueues, tagging, two reads per known queue at most */
        if (req[i] > 2 + 2 * known)
            fail_msg("a quiet poll of %d queues and 15 left out sent %ld requests (%ld %ld %ld)",
                     known, req[i], req[0], req[1], req[2]);
    it_restart_engine(e, "off", "0");
    e->poll_deep = NULL;
    /* by tag, installed anew: the old filter goes */
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_sqs')", 0, NULL));
    r = it_sql(
        e,
        "SELECT * FROM iasql_install(ARRAY['aws_sqs'], '{\"aws_sqs\": {\"tag\": \"team=web\"}}')",
        0, NULL);
    assert_non_null(r);
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT string_agg(name, ',') FROM queue"),
                        it_valf(e, "SELECT 'skip-c-%s'", sfx));
    assert_string_equal(it_value(e, "SELECT tag_key || '=' || tag_value || coalesce(name_prefix, "
                                    "'-') FROM iasql_import_filter WHERE module_name = 'aws_sqs'"),
                        "team=web-");
    /* a queue tagged outside to match comes in */
    snprintf(name, sizeof name, "keep-a-%s", sfx);
    json_t *got = sqs(e, "GetQueueUrl", json_pack("{s:s}", "QueueName", name));
    json_decref(sqs(e, "TagQueue",
                    json_pack("{s:O, s:{s:s}}", "QueueUrl", json_object_get(got, "QueueUrl"),
                              "Tags", "team", "web")));
    json_decref(got);
    PQclear(sync_now(e));
    assert_string_equal(it_valf(e, "SELECT count(*) FROM queue WHERE name = '%s'", name), "1");
    assert_string_equal(it_value(e, "SELECT count(*) FROM queue"), "2");
    /* the plain install takes everything again, and no filter stays */
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_sqs')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_sqs')", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_import_filter"), "0");
    assert_true(atoi(it_value(e, "SELECT count(*) FROM queue")) >= 18);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_sync_preview),
        cmocka_unit_test(test_quiet_sync_writes_nothing),
        cmocka_unit_test(test_memo),
        cmocka_unit_test(test_queues),
        cmocka_unit_test(test_security_groups_and_instances),
        cmocka_unit_test(test_conflict),
        cmocka_unit_test(test_other_database),
        cmocka_unit_test(test_two_databases),
        cmocka_unit_test(test_owner_everywhere),
        cmocka_unit_test(test_periodic_poll),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_grace_period),
        cmocka_unit_test(test_selective_import),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
