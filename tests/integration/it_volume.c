/* tests/integration/it_volume.c — module aws_ec2's volumes, elastic IP
 * associations, instance user data and instance profiles end to end
 * against moto_server, checked through the EC2 and IAM APIs: gp2 and gp3
 * volumes made attached or not, grown and retyped in place, a shrink
 * refused, detached, moved between instances, deleted while attached, left
 * by an instance deleted under them; an address moved between instances in
 * place; user data changed (stop, modify, start) and a profile replaced in
 * place; a rollback to the first commit; what was made in the console
 * imported and its drift followed; bad values refused at INSERT; the user
 * data under the poll rotation. */
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
    if (it_fixture(state, "volume", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_ec2')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

#define AMI "ami-12c6146b"
#define TRUST                                                                                      \
    "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", "                       \
    "\"Principal\": {\"Service\": \"ec2.amazonaws.com\"}, \"Action\": \"sts:AssumeRole\"}]}"
/* The default VPC's subnet in a zone. */
#define SUBNET_IN(zone)                                                                            \
    "(SELECT s.id FROM subnet s JOIN vpc v ON v.id = s.vpc WHERE v.is_default AND "                \
    "s.availability_zone = '" zone "')"

static char sfx[32]; /* per run: names and tags of this run only */

/* Commits and fails the test on any failed resource or on another count
 * of rows than n (n < 0: any); returns the rows as text. */
static char *commit_ok(it_env *e, int n)
{
    PGresult *r = it_sql(e, "SELECT action, table_name, description FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    bool bad = n >= 0 && PQntuples(r) != n;
    for (int i = 0; i < PQntuples(r); i++) {
        bad |= strncmp(PQgetvalue(r, i, 2), "failed", 6) == 0 ||
               strstr(PQgetvalue(r, i, 2), "not applied") != NULL;
        len += (size_t)snprintf(out + len, cap - len, "%s %s: %s\n", PQgetvalue(r, i, 0),
                                PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
    }
    if (bad)
        fail_msg("expected %d rows, none failed; got %d:\n%s", n, PQntuples(r), out);
    PQclear(r);
    return out;
}

static void commit_n(it_env *e, int n)
{
    free(commit_ok(e, n));
}

static char *dup_valf(it_env *e, const char *fmt, const char *arg)
{
    const char *v = it_valf(e, fmt, arg);
    assert_non_null(v);
    return strdup(v);
}

/* DescribeVolumes of one volume (the answer, copied). */
static char *volume_xml(it_env *e, const char *id)
{
    return it_ec2(e, "Action=DescribeVolumes&VolumeId.1=%s", id);
}

/* The text of <tag> in the answer of DescribeVolumes for id, copied. */
static char *volume_field(it_env *e, const char *id, const char *tag)
{
    char *x = volume_xml(e, id);
    const char *v = it_xml_text(x, tag);
    char *out = strdup(v ? v : "");
    free(x);
    return out;
}

static void expect_volume(it_env *e, const char *id, const char *tag, const char *want)
{
    char *v = volume_field(e, id, tag);
    if (strcmp(v, want) != 0)
        fail_msg("volume %s: %s is %s, not %s", id, tag, v, want);
    free(v);
}

/* The HTTP status of one EC2 call. */
static long ec2_status(it_env *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    long st = 0;
    free(it_ec2v(e, &st, fmt, ap));
    va_end(ap);
    return st;
}

/* The user data of an instance as EC2 has it (base64), copied. */
static char *user_data_b64(it_env *e, const char *iid)
{
    char *x = it_ec2(e, "Action=DescribeInstanceAttribute&InstanceId=%s&Attribute=userData", iid);
    const char *v = strstr(x, "<userData>") ? it_xml_text(strstr(x, "<userData>"), "value") : NULL;
    char *out = strdup(v ? v : "");
    free(x);
    return out;
}

/* One IAM call straight to the emulator; its status. */
static long iam_call(it_env *e, const char *fmt, const char *a, const char *b)
{
    char form[2048];
    const char *out;
    char body[1800];
    snprintf(body, sizeof body, fmt, a, b);
    snprintf(form, sizeof form, "Version=2010-05-08&%s", body);
    return it_aws_query(e, "iam", form, &out);
}

/* An instance row of the default VPC, tagged Name=name, in zone. */
static void insert_instance(it_env *e, const char *name, const char *subnet)
{
    assert_true(it_okf(e,
                       "INSERT INTO instance (ami, instance_type, subnet, tags) SELECT '" AMI
                       "', 't2.micro', %s, jsonb_build_object('Name', '%s')",
                       subnet, name));
}

static void test_volume_lifecycle(void **state)
{
    it_env *e = *state;
    char a[64], b[64], v1[64], v2[64];
    snprintf(a, sizeof a, "vol-a-%s", sfx);
    snprintf(b, sizeof b, "vol-b-%s", sfx);
    snprintf(v1, sizeof v1, "data-%s", sfx);
    snprintf(v2, sizeof v2, "scratch-%s", sfx);
    insert_instance(e, a, SUBNET_IN("us-east-1a"));
    /* a gp3 with its own IOPS and throughput, attached to the new
     * instance; a gp2 alone */
    assert_true(it_okf(e,
                       "INSERT INTO general_purpose_volume (volume_type, availability_zone, size, "
                       "iops, throughput, attached_instance, instance_device_name, tags) SELECT "
                       "'gp3', 'us-east-1a', 10, 4000, 200, id, '/dev/sdf', "
                       "jsonb_build_object('Name', '%s') FROM instance WHERE tags->>'Name' = '%s'",
                       v1, a));
    assert_true(it_okf(e,
                       "INSERT INTO general_purpose_volume (volume_type, availability_zone, size, "
                       "tags) VALUES ('gp2', 'us-east-1a', 5, jsonb_build_object('Name', '%s'))",
                       v2));
    /* what a row leaves unsaid of a gp3 is AWS's baseline */
    assert_string_equal(it_valf(e,
                                "SELECT coalesce(iops::text, 'none') || '/' || "
                                "coalesce(throughput::text, 'none') FROM general_purpose_volume "
                                "WHERE tags->>'Name' = '%s'",
                                v2),
                        "none/none");
    commit_n(e, 3);
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    char *ia = dup_valf(e, "SELECT instance_id FROM instance WHERE tags->>'Name' = '%s'", a);
    char *id1 =
        dup_valf(e, "SELECT volume_id FROM general_purpose_volume WHERE tags->>'Name' = '%s'", v1);
    char *id2 =
        dup_valf(e, "SELECT volume_id FROM general_purpose_volume WHERE tags->>'Name' = '%s'", v2);
    assert_true(strncmp(id1, "vol-", 4) == 0 && strncmp(id2, "vol-", 4) == 0);
    char *x = volume_xml(e, id1);
    assert_string_equal(it_xml_text(x, "volumeType"), "gp3");
    assert_string_equal(it_xml_text(x, "size"), "10");
    assert_string_equal(it_xml_text(x, "iops"), "4000");
    assert_string_equal(it_xml_text(x, "throughput"), "200");
    assert_string_equal(it_xml_text(x, "availabilityZone"), "us-east-1a");
    assert_string_equal(it_xml_text(x, "instanceId"), ia);
    assert_string_equal(it_xml_text(x, "device"), "/dev/sdf");
    assert_non_null(strstr(x, "<status>in-use</status>"));
    assert_non_null(strstr(x, "<key>iasql:owner</key>"));
    free(x);
    expect_volume(e, id2, "volumeType", "gp2");
    expect_volume(e, id2, "size", "5");
    expect_volume(e, id2, "status", "available");
    /* the instance's own root volume is part of it, not a row; a sync
     * finds nothing to change */
    PGresult *r = it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL);
    for (int i = 0; r && i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, 1), "general_purpose_volume") == 0)
            fail_msg("sync changed a volume: %s %s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 3));
    PQclear(r);
    assert_string_equal(it_valf(e,
                                "SELECT count(*) FROM general_purpose_volume v JOIN instance i ON "
                                "i.id = v.attached_instance WHERE i.instance_id = '%s'",
                                ia),
                        "1");
    x = it_ec2(e, "Action=DescribeVolumes&Filter.1.Name=attachment.instance-id&Filter.1.Value.1=%s",
               ia);
    assert_int_equal(it_count(x, "<volumeId>vol-") >= 2, 1); /* its root and ours */
    free(x);

    /* In place: grown with more throughput; the gp2 turned into a gp3 (the
     * baseline filled in) and grown. */
    assert_true(it_okf(e,
                       "UPDATE general_purpose_volume SET size = 20, throughput = 300 "
                       "WHERE tags->>'Name' = '%s'",
                       v1));
    assert_true(it_okf(e,
                       "UPDATE general_purpose_volume SET volume_type = 'gp3', size = 6 "
                       "WHERE tags->>'Name' = '%s'",
                       v2));
    assert_string_equal(it_value(e, "SELECT string_agg(DISTINCT action, ',') FROM iasql_preview()"),
                        "update");
    commit_n(e, 2);
    expect_volume(e, id1, "size", "20");
    expect_volume(e, id1, "throughput", "300");
    expect_volume(e, id1, "iops", "4000");
    expect_volume(e, id2, "volumeType", "gp3");
    expect_volume(e, id2, "size", "6");
    expect_volume(e, id2, "iops", "3000");
    expect_volume(e, id2, "throughput", "125");
    assert_string_equal(
        it_valf(e, "SELECT volume_id FROM general_purpose_volume WHERE tags->>'Name' = '%s'", v1),
        id1);

    /* A volume never shrinks: refused at UPDATE, by name. */
    const char *msg = it_sql_error(
        e, "UPDATE general_purpose_volume SET size = 5 WHERE volume_type = 'gp3' AND size = 20");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "general_purpose_volume_size_only_grows"));

    /* Detached (its device name goes with it), then the other one attached. */
    assert_true(it_okf(
        e, "UPDATE general_purpose_volume SET attached_instance = NULL WHERE tags->>'Name' = '%s'",
        v1));
    assert_string_equal(it_valf(e,
                                "SELECT coalesce(instance_device_name, 'none') FROM "
                                "general_purpose_volume WHERE tags->>'Name' = '%s'",
                                v1),
                        "none");
    assert_true(it_okf(e,
                       "UPDATE general_purpose_volume v SET attached_instance = i.id, "
                       "instance_device_name = '/dev/sdg' FROM instance i WHERE "
                       "i.tags->>'Name' = '%s' AND v.tags->>'Name' = '%s'",
                       a, v2));
    commit_n(e, 2);
    x = volume_xml(e, id1);
    assert_non_null(strstr(x, "<status>available</status>"));
    assert_null(strstr(x, ia));
    free(x);
    expect_volume(e, id2, "instanceId", ia);
    expect_volume(e, id2, "device", "/dev/sdg");

    /* Moved to a new instance in place: the instance first, then the
     * volume off the old one and onto it. */
    insert_instance(e, b, SUBNET_IN("us-east-1a"));
    assert_true(it_okf(e,
                       "UPDATE general_purpose_volume v SET attached_instance = i.id FROM "
                       "instance i WHERE i.tags->>'Name' = '%s' AND v.tags->>'Name' = '%s'",
                       b, v2));
    commit_n(e, 2);
    char *ib = dup_valf(e, "SELECT instance_id FROM instance WHERE tags->>'Name' = '%s'", b);
    expect_volume(e, id2, "instanceId", ib);
    expect_volume(e, id2, "device", "/dev/sdg");

    /* Deleted while attached: detached first, then deleted. */
    assert_true(it_okf(e, "DELETE FROM general_purpose_volume WHERE tags->>'Name' = '%s'", v2));
    commit_n(e, 1);
    assert_int_equal(ec2_status(e, "Action=DescribeVolumes&VolumeId.1=%s", id2), 400);

    /* An instance deleted under an attached volume: the row lets go of it
     * (SET NULL), the volume is detached and stays; the instance goes. */
    assert_true(it_okf(e,
                       "UPDATE general_purpose_volume v SET attached_instance = i.id, "
                       "instance_device_name = '/dev/sdh' FROM instance i WHERE "
                       "i.tags->>'Name' = '%s' AND v.tags->>'Name' = '%s'",
                       b, v1));
    commit_n(e, 1);
    expect_volume(e, id1, "instanceId", ib);
    assert_true(it_okf(e, "DELETE FROM instance WHERE tags->>'Name' = '%s'", b));
    assert_string_equal(it_valf(e,
                                "SELECT coalesce(attached_instance::text, 'none') FROM "
                                "general_purpose_volume WHERE tags->>'Name' = '%s'",
                                v1),
                        "none");
    commit_n(e, 2);
    expect_volume(e, id1, "status", "available");
    x = it_ec2(e, "Action=DescribeInstances&InstanceId.1=%s", ib);
    assert_non_null(strstr(x, "<name>terminated</name>"));
    free(x);

    /* Back to the first commit: the gp2 made again and the first instance's
     * attachment restored, but a volume that grew cannot shrink back: that
     * one fails, saying so, and the rest applies. */
    const char *f[] = {first};
    r = it_sql(e, "SELECT action, table_name, description FROM iasql_rollback($1::bigint)", 1, f);
    assert_non_null(r);
    int failed = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *d = PQgetvalue(r, i, 2);
        if (strncmp(d, "failed", 6) == 0) {
            failed++;
            assert_string_equal(PQgetvalue(r, i, 1), "general_purpose_volume");
            assert_non_null(strstr(d, "cannot shrink from 20 GiB to 10 GiB"));
            assert_non_null(strstr(d, "only grow"));
        }
    }
    assert_int_equal(failed, 1);
    PQclear(r);
    char *id2b = dup_valf(e,
                          "SELECT volume_id FROM general_purpose_volume WHERE tags->>'Name' = '%s' "
                          "AND volume_id IS NOT NULL",
                          v2);
    assert_string_not_equal(id2b, id2);
    expect_volume(e, id2b, "volumeType", "gp2");
    expect_volume(e, id2b, "size", "5");
    /* the refused one is still pending; taking the cloud's values ends it */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "1");
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* An attached volume and its instance deleted in one commit: the
     * volume is detached and deleted before the instance goes. */
    assert_true(it_okf(e,
                       "UPDATE general_purpose_volume v SET attached_instance = i.id, "
                       "instance_device_name = '/dev/sdf' FROM instance i WHERE "
                       "i.tags->>'Name' = '%s' AND v.tags->>'Name' = '%s'",
                       a, v1));
    commit_n(e, 1);
    expect_volume(e, id1, "instanceId", ia);
    assert_true(
        it_okf(e, "DELETE FROM general_purpose_volume WHERE tags->>'Name' LIKE '%%-%s'", sfx));
    assert_true(it_okf(e, "DELETE FROM instance WHERE tags->>'Name' LIKE 'vol-%%-%s'", sfx));
    commit_n(e, 3);
    assert_int_equal(ec2_status(e, "Action=DescribeVolumes&VolumeId.1=%s", id1), 400);
    assert_int_equal(ec2_status(e, "Action=DescribeVolumes&VolumeId.1=%s", id2b), 400);
    x = it_ec2(e, "Action=DescribeInstances&InstanceId.1=%s", ia);
    assert_non_null(strstr(x, "<name>terminated</name>"));
    free(x);
    free(first);
    free(ia);
    free(ib);
    free(id1);
    free(id2);
    free(id2b);
}

/* An instance's user data and instance profile, and an elastic IP's
 * association, made with it, changed in place, and brought back by a
 * rollback to the first commit. */
static void test_user_data_profile_and_address(void **state)
{
    it_env *e = *state;
    char a[64], b[64], role[64], p1[64], p2[64], eip[64];
    snprintf(a, sizeof a, "ud-a-%s", sfx);
    snprintf(b, sizeof b, "ud-b-%s", sfx);
    snprintf(role, sizeof role, "ud-role-%s", sfx);
    snprintf(p1, sizeof p1, "ud-p1-%s", sfx);
    snprintf(p2, sizeof p2, "ud-p2-%s", sfx);
    snprintf(eip, sizeof eip, "ud-eip-%s", sfx);
    const char *n[] = {role, p1, p2};
    assert_true(it_ok(e,
                      "INSERT INTO iam_role (role_name, assume_role_policy_document) VALUES ($1, "
                      "'" TRUST "')",
                      1, n));
    assert_true(it_ok(e,
                      "INSERT INTO instance_profile (instance_profile_name, role) SELECT $2, id "
                      "FROM iam_role WHERE role_name = $1 UNION ALL SELECT $3, id FROM iam_role "
                      "WHERE role_name = $1",
                      3, n));
    assert_true(it_okf(
        e,
        "INSERT INTO instance (ami, instance_type, subnet, tags, user_data, "
        "instance_profile) SELECT '" AMI "', 't2.micro', " SUBNET_IN(
            "us-east-1a") ", jsonb_build_object('Name', '%s'), E'#!/bin/sh\\necho one\\n', "
                          "p.id FROM instance_profile p WHERE p.instance_profile_name = '%s'",
        a, p1));
    insert_instance(e, b, SUBNET_IN("us-east-1b"));
    assert_true(
        it_okf(e, "INSERT INTO elastic_ip (tags) VALUES (jsonb_build_object('Name', '%s'))", eip));
    assert_true(it_okf(e,
                       "INSERT INTO elastic_ip_association (elastic_ip, instance) SELECT x.id, "
                       "i.id FROM elastic_ip x, instance i WHERE x.tags->>'Name' = '%s' AND "
                       "i.tags->>'Name' = '%s'",
                       eip, a));
    commit_n(e, 7);
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    char *ia = dup_valf(e, "SELECT instance_id FROM instance WHERE tags->>'Name' = '%s'", a);
    char *ib = dup_valf(e, "SELECT instance_id FROM instance WHERE tags->>'Name' = '%s'", b);
    char *alloc =
        dup_valf(e, "SELECT allocation_id FROM elastic_ip WHERE tags->>'Name' = '%s'", eip);
    /* sent base64-encoded: "#!/bin/sh\necho one\n" */
    char *ud = user_data_b64(e, ia);
    assert_string_equal(ud, "IyEvYmluL3NoCmVjaG8gb25lCg==");
    free(ud);
    char *x = it_ec2(e, "Action=DescribeInstances&InstanceId.1=%s", ia);
    assert_non_null(strstr(x, ":instance-profile/"));
    assert_non_null(strstr(x, p1));
    free(x);
    x = it_ec2(e, "Action=DescribeAddresses&AllocationId.1=%s", alloc);
    assert_string_equal(it_xml_text(x, "instanceId"), ia);
    char *assoc1 = strdup(it_xml_text(x, "associationId"));
    free(x);
    assert_string_equal(it_valf(e,
                                "SELECT association_id FROM elastic_ip_association a JOIN "
                                "elastic_ip x ON x.id = a.elastic_ip WHERE x.allocation_id = '%s'",
                                alloc),
                        assoc1);
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_string_equal(it_valf(e, "SELECT user_data FROM instance WHERE instance_id = '%s'", ia),
                        "#!/bin/sh\necho one\n");

    /* In place: new user data (the instance stopped, changed and started:
     * the same instance, running), another profile, the address moved to
     * the other instance. */
    assert_true(it_okf(e,
                       "UPDATE instance SET user_data = 'echo two', instance_profile = (SELECT id "
                       "FROM instance_profile WHERE instance_profile_name = '%s') "
                       "WHERE instance_id = '%s'",
                       p2, ia));
    assert_true(it_okf(e,
                       "UPDATE elastic_ip_association SET instance = (SELECT id FROM instance "
                       "WHERE instance_id = '%s')",
                       ib));
    assert_string_equal(it_value(e, "SELECT string_agg(DISTINCT action, ',') FROM iasql_preview()"),
                        "update");
    commit_n(e, 2);
    ud = user_data_b64(e, ia);
    assert_string_equal(ud, "ZWNobyB0d28="); /* "echo two" */
    free(ud);
    x = it_ec2(e, "Action=DescribeInstances&InstanceId.1=%s", ia);
    assert_non_null(strstr(x, "<name>running</name>"));
    free(x);
    /* the association says which profile (moto's DescribeInstances keeps
     * the old one after a replace) */
    x = it_ec2(e,
               "Action=DescribeIamInstanceProfileAssociations&Filter.1.Name=instance-id&"
               "Filter.1.Value.1=%s",
               ia);
    assert_int_equal(it_count(x, "<associationId>"), 1);
    assert_non_null(strstr(x, p2));
    assert_null(strstr(x, p1));
    free(x);
    x = it_ec2(e, "Action=DescribeAddresses&AllocationId.1=%s", alloc);
    assert_string_equal(it_xml_text(x, "instanceId"), ib);
    assert_string_not_equal(it_xml_text(x, "associationId"), assoc1);
    free(x);
    assert_string_equal(
        it_valf(e, "SELECT instance_id FROM instance WHERE tags->>'Name' = '%s'", a), ia);

    /* The profile taken away, the address let go: disassociated. */
    assert_true(
        it_okf(e, "UPDATE instance SET instance_profile = NULL WHERE instance_id = '%s'", ia));
    assert_true(it_ok(e, "DELETE FROM elastic_ip_association", 0, NULL));
    commit_n(e, 2);
    x = it_ec2(e, "Action=DescribeInstances&InstanceId.1=%s", ia);
    assert_null(strstr(x, ":instance-profile/"));
    free(x);
    x = it_ec2(e, "Action=DescribeAddresses&AllocationId.1=%s", alloc);
    assert_null(strstr(x, "<instanceId>i-"));
    free(x);

    /* Back to the first commit: the first user data and profile, the
     * address on the first instance again. */
    const char *f[] = {first};
    PGresult *r =
        it_sql(e, "SELECT action, table_name, description FROM iasql_rollback($1::bigint)", 1, f);
    assert_non_null(r);
    for (int i = 0; i < PQntuples(r); i++)
        if (strncmp(PQgetvalue(r, i, 2), "failed", 6) == 0)
            fail_msg("rollback: %s %s", PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
    assert_int_equal(PQntuples(r), 2);
    PQclear(r);
    ud = user_data_b64(e, ia);
    assert_string_equal(ud, "IyEvYmluL3NoCmVjaG8gb25lCg==");
    free(ud);
    x = it_ec2(e, "Action=DescribeInstances&InstanceId.1=%s", ia);
    assert_non_null(strstr(x, p1));
    assert_non_null(strstr(x, "<name>running</name>"));
    free(x);
    x = it_ec2(e, "Action=DescribeAddresses&AllocationId.1=%s", alloc);
    assert_string_equal(it_xml_text(x, "instanceId"), ia);
    free(x);

    /* A profile an instance holds is let go by the instance first when
     * its row goes (SET NULL), then deleted. */
    assert_true(it_okf(e, "DELETE FROM instance_profile WHERE instance_profile_name = '%s'", p1));
    assert_string_equal(it_valf(e,
                                "SELECT coalesce(instance_profile::text, 'none') FROM instance "
                                "WHERE instance_id = '%s'",
                                ia),
                        "none");
    commit_n(e, 2);
    x = it_ec2(e, "Action=DescribeInstances&InstanceId.1=%s", ia);
    assert_null(strstr(x, ":instance-profile/"));
    free(x);
    assert_int_not_equal(iam_call(e, "Action=GetInstanceProfile&InstanceProfileName=%s%s", p1, ""),
                         200);

    /* Everything goes: the association before its instance and address. */
    assert_true(it_okf(e, "DELETE FROM instance WHERE tags->>'Name' LIKE 'ud-%%-%s'", sfx));
    assert_true(it_okf(e, "DELETE FROM elastic_ip WHERE tags->>'Name' = '%s'", eip));
    assert_true(it_okf(e, "DELETE FROM instance_profile WHERE instance_profile_name = '%s'", p2));
    assert_true(it_okf(e, "DELETE FROM iam_role WHERE role_name = '%s'", role));
    char *res = commit_ok(e, -1);
    assert_non_null(strstr(res, "delete elastic_ip_association"));
    free(res);
    assert_int_equal(ec2_status(e, "Action=DescribeAddresses&AllocationId.1=%s", alloc), 400);
    free(first);
    free(ia);
    free(ib);
    free(alloc);
    free(assoc1);
}

/* Made in the console: an instance with user data and a profile, a gp3
 * volume attached to it, an address associated with it; iasql_sync()
 * takes them in, then follows a resize, a detach, a disassociation, new
 * user data and a delete made there. */
static void test_import_and_drift(void **state)
{
    it_env *e = *state;
    char role[64], prof[64];
    snprintf(role, sizeof role, "imp-role-%s", sfx);
    snprintf(prof, sizeof prof, "imp-prof-%s", sfx);
    assert_int_equal(iam_call(e,
                              "Action=CreateRole&RoleName=%s&AssumeRolePolicyDocument=%%7B%%22"
                              "Version%%22%%3A%%222012-10-17%%22%%2C%%22Statement%%22%%3A%%5B%%5D"
                              "%%7D%s",
                              role, ""),
                     200);
    assert_int_equal(iam_call(e, "Action=CreateInstanceProfile&InstanceProfileName=%s%s", prof, ""),
                     200);
    assert_int_equal(iam_call(e,
                              "Action=AddRoleToInstanceProfile&InstanceProfileName=%s&RoleName=%s",
                              prof, role),
                     200);
    char *subnet = strdup(it_value(e, "SELECT s.subnet_id FROM subnet s JOIN vpc v ON v.id = s.vpc "
                                      "WHERE v.is_default AND s.availability_zone = 'us-east-1a'"));
    /* user data "made outside" */
    char *x = it_ec2(e,
                     "Action=RunInstances&ImageId=" AMI "&InstanceType=t2.micro&MinCount=1&"
                     "MaxCount=1&SubnetId=%s&UserData=bWFkZSBvdXRzaWRl&IamInstanceProfile.Name=%s",
                     subnet, prof);
    char *iid = strdup(it_xml_text(x, "instanceId"));
    free(x);
    x = it_ec2(e,
               "Action=CreateVolume&AvailabilityZone=us-east-1a&Size=12&VolumeType=gp3&Iops=3500&"
               "TagSpecification.1.ResourceType=volume&TagSpecification.1.Tag.1.Key=Name&"
               "TagSpecification.1.Tag.1.Value=imp-%s",
               sfx);
    char *vid = strdup(it_xml_text(x, "volumeId"));
    free(x);
    free(it_ec2(e, "Action=AttachVolume&VolumeId=%s&InstanceId=%s&Device=/dev/sdk", vid, iid));
    x = it_ec2(e, "Action=AllocateAddress&Domain=vpc");
    char *alloc = strdup(it_xml_text(x, "allocationId"));
    free(x);
    free(it_ec2(e, "Action=AssociateAddress&AllocationId=%s&InstanceId=%s", alloc, iid));

    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    PGresult *r = it_sql(e,
                         "SELECT i.user_data, p.instance_profile_name FROM instance i JOIN "
                         "instance_profile p ON p.id = i.instance_profile WHERE i.instance_id = $1",
                         1, (const char *[]){iid});
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "made outside");
    assert_string_equal(PQgetvalue(r, 0, 1), prof);
    PQclear(r);
    r = it_sql(e,
               "SELECT v.volume_type, v.size, v.iops, v.throughput, v.instance_device_name, "
               "v.tags->>'Name', v.id FROM general_purpose_volume v JOIN instance i ON "
               "i.id = v.attached_instance WHERE v.volume_id = $1 AND i.instance_id = $2",
               2, (const char *[]){vid, iid});
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "gp3");
    assert_string_equal(PQgetvalue(r, 0, 1), "12");
    assert_string_equal(PQgetvalue(r, 0, 2), "3500");
    assert_string_equal(PQgetvalue(r, 0, 3), "125"); /* AWS's baseline, which moto leaves out */
    assert_string_equal(PQgetvalue(r, 0, 4), "/dev/sdk");
    char *vrow = strdup(PQgetvalue(r, 0, 6));
    PQclear(r);
    /* its root volume is the instance's, not a row */
    assert_string_equal(it_valf(e,
                                "SELECT count(*) FROM general_purpose_volume v JOIN instance i ON "
                                "i.id = v.attached_instance WHERE i.instance_id = '%s'",
                                iid),
                        "1");
    assert_string_equal(it_valf(e,
                                "SELECT count(*) FROM elastic_ip_association a JOIN elastic_ip x "
                                "ON x.id = a.elastic_ip JOIN instance i ON i.id = a.instance "
                                "WHERE x.allocation_id = '%s' AND i.instance_id = '%s'",
                                alloc, iid),
                        "1");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* a second sync finds nothing new */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_sync()"), "0");

    /* Drift: resized, detached, disassociated and new user data, there. */
    free(it_ec2(e, "Action=ModifyVolume&VolumeId=%s&Size=30", vid));
    free(it_ec2(e, "Action=DetachVolume&VolumeId=%s&InstanceId=%s", vid, iid));
    x = it_ec2(e, "Action=DescribeAddresses&AllocationId.1=%s", alloc);
    char *assoc = strdup(it_xml_text(x, "associationId"));
    free(x);
    free(it_ec2(e, "Action=DisassociateAddress&AssociationId=%s", assoc));
    /* "changed", encoded twice: moto decodes the blob and wants base64
     * inside it (AWS decodes once) */
    free(it_ec2(e, "Action=ModifyInstanceAttribute&InstanceId=%s&UserData.Value=WTJoaGJtZGxaQT09",
                iid));
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    r = it_sql(e,
               "SELECT size, coalesce(attached_instance::text, 'none'), "
               "coalesce(instance_device_name, 'none'), id FROM general_purpose_volume "
               "WHERE volume_id = $1",
               1, (const char *[]){vid});
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "30");
    assert_string_equal(PQgetvalue(r, 0, 1), "none");
    assert_string_equal(PQgetvalue(r, 0, 2), "none");
    assert_string_equal(PQgetvalue(r, 0, 3), vrow);
    PQclear(r);
    assert_string_equal(
        it_valf(e,
                "SELECT count(*) FROM elastic_ip_association a JOIN elastic_ip x ON "
                "x.id = a.elastic_ip WHERE x.allocation_id = '%s'",
                alloc),
        "0");
    assert_string_equal(it_valf(e, "SELECT user_data FROM instance WHERE instance_id = '%s'", iid),
                        "changed");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* Deleted there: the row goes. */
    free(it_ec2(e, "Action=DeleteVolume&VolumeId=%s", vid));
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM general_purpose_volume WHERE volume_id = '%s'", vid), "0");

    assert_true(it_okf(e, "DELETE FROM instance WHERE instance_id = '%s'", iid));
    assert_true(it_okf(e, "DELETE FROM elastic_ip WHERE allocation_id = '%s'", alloc));
    assert_true(it_okf(e, "DELETE FROM instance_profile WHERE instance_profile_name = '%s'", prof));
    assert_true(it_okf(e, "DELETE FROM iam_role WHERE role_name = '%s'", role));
    commit_n(e, 4);
    x = it_ec2(e, "Action=DescribeInstances&InstanceId.1=%s", iid);
    assert_non_null(strstr(x, "<name>terminated</name>"));
    free(x);
    free(subnet);
    free(iid);
    free(vid);
    free(vrow);
    free(alloc);
    free(assoc);
}

static void test_bad_input(void **state)
{
    it_env *e = *state;
    char a[64], b[64];
    snprintf(a, sizeof a, "bad-a-%s", sfx);
    snprintf(b, sizeof b, "bad-b-%s", sfx);
    insert_instance(e, a, SUBNET_IN("us-east-1a"));
    insert_instance(e, b, SUBNET_IN("us-east-1b"));
    assert_true(it_okf(e, "INSERT INTO elastic_ip (tags) VALUES ('{\"Name\": \"%s\"}')", a));
    assert_true(it_okf(e,
                       "INSERT INTO elastic_ip_association (elastic_ip, instance) SELECT x.id, "
                       "i.id FROM elastic_ip x, instance i WHERE x.tags->>'Name' = '%s' AND "
                       "i.tags->>'Name' = '%s'",
                       a, a));
    assert_true(it_okf(e, "INSERT INTO elastic_ip (tags) VALUES ('{\"Name\": \"nat-%s\"}')", sfx));
    assert_true(it_okf(e, "INSERT INTO elastic_ip (tags) VALUES ('{\"Name\": \"c-%s\"}')", sfx));
    assert_true(it_okf(e,
                       "INSERT INTO nat_gateway (subnet, elastic_ip) SELECT " SUBNET_IN(
                           "us-east-1a") ", id FROM elastic_ip WHERE tags->>'Name' = 'nat-%s'",
                       sfx));
    char sql[24][640];
    int n = 0;
#define VOL "INSERT INTO general_purpose_volume (volume_type, availability_zone, size"
    snprintf(sql[n++], 640, VOL ", iops) VALUES ('gp2', 'us-east-1a', 100, 300)");
    snprintf(sql[n++], 640, VOL ", throughput) VALUES ('gp2', 'us-east-1a', 100, 125)");
    snprintf(sql[n++], 640, VOL ", throughput) VALUES ('gp3', 'us-east-1a', 100, 2001)");
    snprintf(sql[n++], 640, VOL ", throughput) VALUES ('gp3', 'us-east-1a', 100, 100)");
    snprintf(sql[n++], 640, VOL ", iops, throughput) VALUES ('gp3', 'us-east-1a', 100, 3000, 800)");
    snprintf(sql[n++], 640, VOL ", iops) VALUES ('gp3', 'us-east-1a', 100, 2000)");
    snprintf(sql[n++], 640, VOL ", iops) VALUES ('gp3', 'us-east-1a', 8, 5000)");
    snprintf(sql[n++], 640, VOL ") VALUES ('gp3', 'us-east-1a', 0)");
    snprintf(sql[n++], 640, VOL ") VALUES ('gp2', 'us-east-1a', 16385)");
    snprintf(sql[n++], 640, VOL ") VALUES ('io1', 'us-east-1a', 100)");
    snprintf(sql[n++], 640, VOL ") VALUES ('gp3', 'eu-west-1a', 8)");
    snprintf(sql[n++], 640, VOL ") VALUES ('gp3', 'us-east-1z', 8)");
    snprintf(sql[n++], 640, VOL ", snapshot_id) VALUES ('gp3', 'us-east-1a', 8, 'snapshot-1')");
    snprintf(sql[n++], 640, VOL ", tags) VALUES ('gp3', 'us-east-1a', 8, '{\"aws:x\": \"y\"}')");
    snprintf(sql[n++], 640,
             VOL ", attached_instance, instance_device_name) SELECT 'gp3', 'us-east-1a', 8, id, "
                 "'sdf' FROM instance WHERE tags->>'Name' = '%s'",
             a);
    snprintf(sql[n++], 640,
             VOL ", attached_instance, instance_device_name) SELECT 'gp3', 'us-east-1a', 8, id, "
                 "'/dev/sdf99' FROM instance WHERE tags->>'Name' = '%s'",
             a);
    snprintf(sql[n++], 640,
             VOL ", attached_instance) SELECT 'gp3', 'us-east-1a', 8, id FROM instance WHERE "
                 "tags->>'Name' = '%s'",
             a);
    snprintf(sql[n++], 640,
             VOL ", instance_device_name) VALUES ('gp3', 'us-east-1a', 8, '/dev/sdf')");
    snprintf(sql[n++], 640,
             VOL ", attached_instance, instance_device_name) SELECT 'gp3', 'us-east-1a', 8, id, "
                 "'/dev/sdf' FROM instance WHERE tags->>'Name' = '%s'",
             b);
    snprintf(sql[n++], 640,
             VOL ", attached_instance, instance_device_name) SELECT 'gp3', 'us-east-1a', 8, id, "
                 "'/dev/sdf' FROM instance i, generate_series(1, 2) WHERE i.tags->>'Name' = '%s'",
             a);
    snprintf(sql[n++], 640,
             "UPDATE instance SET user_data = repeat('x', 16385) WHERE tags->>'Name' = '%s'", a);
    snprintf(sql[n++], 640,
             "UPDATE instance SET instance_profile = 999999999 WHERE tags->>'Name' = '%s'", a);
    snprintf(sql[n++], 640,
             "INSERT INTO elastic_ip_association (elastic_ip, instance) SELECT x.id, i.id FROM "
             "elastic_ip x, instance i WHERE x.tags->>'Name' = 'c-%s' AND i.tags->>'Name' = '%s'",
             sfx, a);
    snprintf(sql[n++], 640,
             "INSERT INTO elastic_ip_association (elastic_ip, instance) SELECT x.id, i.id FROM "
             "elastic_ip x, instance i WHERE x.tags->>'Name' = 'nat-%s' AND i.tags->>'Name' = '%s'",
             sfx, b);
#undef VOL
    const char *rules[] = {
        "general_purpose_volume_iops_only_for_gp3",
        "general_purpose_volume_throughput_only_for_gp3",
        "general_purpose_volume_gp3_throughput_125_to_2000_iops_over_4",
        "general_purpose_volume_gp3_throughput_125_to_2000_iops_over_4",
        "general_purpose_volume_gp3_throughput_125_to_2000_iops_over_4",
        "general_purpose_volume_gp3_iops_3000_to_80000_500_per_gib",
        "general_purpose_volume_gp3_iops_3000_to_80000_500_per_gib",
        "general_purpose_volume_size_1_to_16384_gp2_65536_gp3",
        "general_purpose_volume_size_1_to_16384_gp2_65536_gp3",
        "general_purpose_volume_type_gp2_or_gp3",
        "general_purpose_volume_availability_zone_in_its_region",
        "general_purpose_volume_availability_zone_offered_in_its_region",
        "general_purpose_volume_snapshot_id_is_a_snapshot_id",
        "general_purpose_volume_tags_up_to_50_no_aws_or_iasql_keys",
        "general_purpose_volume_device_name_a_linux_or_windows_device",
        "general_purpose_volume_device_name_a_linux_or_windows_device",
        "general_purpose_volume_device_name_with_its_instance",
        "general_purpose_volume_device_name_with_its_instance",
        "general_purpose_volume_in_its_instances_zone",
        "general_purpose_volume_device_name_unique_on_its_instance",
        "instance_user_data_up_to_16_kib",
        "instance_instance_profile_exists",
        "elastic_ip_association_one_per_instance",
        "elastic_ip_association_address_not_a_nat_gateways",
    };
    assert_int_equal(n, (int)(sizeof rules / sizeof rules[0]));
    it_reject cases[24];
    for (int i = 0; i < n; i++)
        cases[i] = (it_reject){sql[i], rules[i]};
    it_expect_rejected(e, cases, (size_t)n);
    /* a second association of the same address */
    const char *msg = it_sql_error(e, "INSERT INTO elastic_ip_association (elastic_ip, instance) "
                                      "SELECT elastic_ip, instance FROM elastic_ip_association");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "elastic_ip_association_one_per"));
    /* nothing of this reached the cloud; the pending rows are discarded */
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
}

/* User data costs a read per instance (DescribeInstanceAttribute), so the
 * instance table follows the rotation: a quiet poll costs its listings
 * (DescribeInstances, DescribeIamInstanceProfileAssociations) and the reads
 * of the instances whose turn it is. Volumes and associations
 * cost their listing (and, against moto, whose answer does not say which
 * volumes go with their instance, one DescribeInstances). User data
 * changed outside is seen within the rotation. */
static void test_ec2_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 8 };
    assert_true(it_okf(
        e,
        "INSERT INTO instance (ami, instance_type, subnet, tags, user_data) SELECT "
        "'" AMI "', 't2.micro', " SUBNET_IN(
            "us-east-1a") ", jsonb_build_object("
                          "'Name', 'rot-' || g || '-%s'), 'n=' || g FROM generate_series(1, %d) g",
        sfx, N));
    assert_true(it_okf(e,
                       "INSERT INTO general_purpose_volume (availability_zone, size, "
                       "attached_instance, instance_device_name, tags) SELECT 'us-east-1a', 8, "
                       "id, '/dev/sdf', tags FROM instance WHERE tags->>'Name' LIKE 'rot-%%-%s'",
                       sfx));
    commit_n(e, 2 * N);
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    int n = atoi(it_value(e, "SELECT count(*) FROM instance"));
    long all[4], rot[4], vol[4], sum = 0;
    it_rotation_quiet(e, "instance", "1", all);
    it_rotation_quiet(e, "instance", "5", rot);
    for (int i = 0; i < 4; i++) {
        assert_true(all[i] >= 2 + n); /* two listings and a read an instance */
        assert_true(rot[i] <= 2 + (3 * n) / 4);
        sum += rot[i] - 2;
    }
    assert_true(sum <= all[0] - 2 + 6); /* a rotation reads each one about once */
    it_rotation_quiet(e, "general_purpose_volume", "5", vol);
    for (int i = 0; i < 4; i++)
        assert_true(vol[i] <= 2);
    long req[2];
    int seen = it_poll_requests(e, "elastic_ip_association", 0, NULL, 0);
    assert_true(seen >= 3);
    it_poll_requests(e, "elastic_ip_association", seen - 2, req, 2);
    assert_true(req[0] <= 1 && req[1] <= 1);
    char *iid = strdup(
        it_valf(e, "SELECT instance_id FROM instance WHERE tags->>'Name' = 'rot-1-%s'", sfx));
    /* "outside", encoded twice for moto (see test_import_and_drift) */
    free(it_ec2(e, "Action=ModifyInstanceAttribute&InstanceId=%s&UserData.Value=YjNWMGMybGtaUT09",
                iid));
    double t0 = it_now_s();
    assert_true(it_eventually(e, "outside",
                              "SELECT user_data FROM instance WHERE instance_id = '%s'", iid));
    print_message("instance rotation: %d instances, quiet polls %ld %ld %ld %ld requests in full, "
                  "%ld %ld %ld %ld with four slots; volumes %ld %ld %ld %ld, associations %ld "
                  "%ld; user data changed outside seen in %.1f s\n",
                  n, all[0], all[1], all[2], all[3], rot[0], rot[1], rot[2], rot[3], vol[0], vol[1],
                  vol[2], vol[3], req[0], req[1], it_now_s() - t0);
    it_rotation_off(e);
    assert_true(it_okf(e, "DELETE FROM instance WHERE tags->>'Name' LIKE 'rot-%%-%s'", sfx));
    assert_true(
        it_okf(e, "DELETE FROM general_purpose_volume WHERE tags->>'Name' LIKE 'rot-%%-%s'", sfx));
    commit_n(e, 2 * N);
    free(iid);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    snprintf(sfx, sizeof sfx, "%d", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_volume_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_data_profile_and_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_and_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ec2_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_ec2 volumes", tests, NULL, NULL);
}
