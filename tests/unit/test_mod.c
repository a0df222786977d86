/* tests/unit/test_mod.c — the module catalogue as data: every module's SQL
 * names its constraints within PostgreSQL's 63-character limit (a longer
 * name is cut silently, and the rule in the message with it), every table
 * has an id column's worth of description, and dependencies exist and come
 * first in the registry; S3's XML codec writes a configuration in the
 * model's member order and reads it back as it was. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cm_json.h"
#include "engine/eng.h"
#include "modules/aws_rds/mod_rds.h"
#include "modules/aws_s3/mod_s3.h"
#include "modules/mod.h"
#include "modules/mod_int.h"

static void test_constraint_names_fit(void **state)
{
    (void)state;
    const mod_module *const *reg = mod_registry();
    int seen = 0;
    for (int i = 0; reg[i]; i++) {
        for (const char *p = reg[i]->install_sql; (p = strstr(p, "CONSTRAINT "));) {
            p += strlen("CONSTRAINT ");
            size_t n = 0;
            while (isalnum((unsigned char)p[n]) || p[n] == '_')
                n++;
            if (n > 63)
                fail_msg("module %s: constraint %.*s is %zu characters (63 at most)", reg[i]->name,
                         (int)n, p, n);
            seen++;
        }
    }
    assert_true(seen > 10);
}

static void test_registry_order_and_tables(void **state)
{
    (void)state;
    const mod_module *const *reg = mod_registry();
    for (int i = 0; reg[i]; i++) {
        for (int d = 0; reg[i]->deps[d]; d++) {
            const mod_module *dep = mod_find(reg[i]->deps[d]);
            assert_non_null(dep);
            bool before = false;
            for (int k = 0; k < i; k++)
                before |= reg[k] == dep;
            if (!before)
                fail_msg("%s depends on %s, which comes later", reg[i]->name, dep->name);
        }
        for (int t = 0; reg[i]->tables[t]; t++) {
            const mod_table *tab = reg[i]->tables[t];
            assert_ptr_equal(mod_find_table(tab->name, NULL), tab);
            if (!tab->ops)
                continue;
            int ids = 0, ncols = 0;
            for (const mod_column *c = tab->columns; c->name; c++, ncols++)
                ids += (c->flags & MOD_COL_CLOUD_ID) != 0;
            if (ncols > MOD_COLUMNS_MAX)
                fail_msg("table %s has %d columns, more than MOD_COLUMNS_MAX", tab->name, ncols);
            if (ids == 0)
                fail_msg("table %s has no cloud-id column", tab->name);
            assert_non_null(tab->ops->list);
            assert_non_null(tab->ops->read);
            assert_non_null(tab->ops->create);
            assert_non_null(tab->ops->update);
            assert_non_null(tab->ops->remove);
            /* a reference names a table others can refer to by a cloud id */
            for (const mod_column *c = tab->columns; c->name; c++) {
                if (!c->ref)
                    continue;
                const mod_table *rt = mod_find_table(c->ref, NULL);
                if (!rt || !mod_ref_handle(rt))
                    fail_msg("%s.%s refers to %s, which has no cloud id", tab->name, c->name,
                             c->ref);
            }
            /* every described column is in the table's SQL */
            for (const mod_column *c = tab->columns; c->name; c++)
                if (!strstr(reg[i]->install_sql, c->name))
                    fail_msg("column %s.%s is not in the module's SQL", tab->name, c->name);
        }
    }
}

/* A describe that fails the way a throttled or unreachable service does:
 * an error, and *out left as it was. */
static int describe_throttled(mod_ctx *ctx, const char *region, const char *name, json_t **out,
                              cm_err *err)
{
    (void)ctx;
    (void)region;
    (void)name;
    (void)out;
    return cm_err_set(err, CM_ERETRY, "ThrottlingException: Rate exceeded");
}

/* Leaves non-NULL garbage where the next call's locals will be. */
static void __attribute__((noinline)) dirty_stack(void)
{
    volatile unsigned char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0x5a;
}

/* Waiting for a resource to go (a DynamoDB table, a Kinesis stream) while
 * its describe fails must return that failure, not free a pointer the
 * describe never set. */
/* The rotation's slots: the deep interval over the slowest poll; with the
 * default, S3's buckets (seven reads a turn) stretch to 70 slots, a tenth of
 * a request per bucket a poll; a --poll-deep given is kept by every table. */
static void test_rotation_slots_keep_a_tenth(void **state)
{
    (void)state;
    assert_int_equal(eng_poll_slots(60, 3600, false, NULL), 50);
    assert_int_equal(eng_poll_slots(1, 5, true, NULL), 4);
    assert_int_equal(eng_poll_slots(60, 60, false, NULL), 1);  /* no rotation */
    assert_int_equal(eng_poll_slots(0, 3600, false, NULL), 1); /* no poller */
    const mod_table *bucket = mod_find_table("bucket", NULL);
    assert_non_null(bucket);
    assert_int_equal(eng_poll_slots(60, 3600, false, bucket), 70);
    assert_int_equal(eng_poll_slots(60, 3600, true, bucket), 50);
    assert_int_equal(eng_poll_slots(1, 5, true, bucket), 4);
    assert_int_equal(eng_poll_slots(1, 3600, false, bucket), 3000);
}

/* The rotation by parent: a parent's children are listed outside the
 * rotation, for a parent unknown or marked null (new, or just changed by
 * the engine), in its slot, or when the cloud's count of its children is
 * not the known one; a parent skipped gives a marker row. Every table
 * listed by parent names a column it has and a parent table with a
 * handle. */
static void test_rotation_by_parent(void **state)
{
    (void)state;
    mod_ctx ctx = {0};
    assert_true(mod_parent_wanted(&ctx, "r", "p1", -1)); /* no rotation: everything */
    assert_false(mod_parent_rotating(&ctx));
    json_t *parents = json_pack("{s:i, s:i, s:n}", "r/p1", 2, "/z1", 0, "r/new", 0);
    mod_deep d = {0, 4, NULL, parents};
    ctx.deep = &d;
    assert_true(mod_parent_rotating(&ctx));
    unsigned s1 = mod_deep_slot("r", "p1", 4), sz = mod_deep_slot("", "z1", 4);
    for (unsigned slot = 0; slot < 4; slot++) {
        d.slot = slot;
        assert_int_equal(mod_parent_wanted(&ctx, "r", "p1", -1), slot == s1);
        assert_int_equal(mod_parent_wanted(&ctx, "r", "p1", 2), slot == s1); /* same count */
        assert_true(mod_parent_wanted(&ctx, "r", "p1", 3));                  /* one made */
        assert_true(mod_parent_wanted(&ctx, "r", "p1", 1));                  /* one deleted */
        assert_int_equal(mod_parent_wanted(&ctx, NULL, "z1", 0), slot == sz);
        assert_true(mod_parent_wanted(&ctx, "r", "new", -1));   /* null: listed now */
        assert_true(mod_parent_wanted(&ctx, "r", "other", -1)); /* not known */
        assert_true(mod_parent_wanted(&ctx, "q", "p1", -1));    /* another region's */
        assert_true(mod_parent_wanted(&ctx, "r", NULL, -1));
    }
    /* left out: the marker row appended; listed: nothing appended */
    json_t *rows = json_array();
    d.slot = (s1 + 1) % 4;
    assert_true(mod_parent_left_out(&ctx, rows, "cluster", "r", "p1", 2));
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(cm_json_str(json_array_get(rows, 0), "cluster"), "p1");
    assert_string_equal(cm_json_str(json_array_get(rows, 0), "region"), "r");
    assert_false(mod_parent_left_out(&ctx, rows, "cluster", "r", "p1", 3));
    assert_false(mod_parent_left_out(&ctx, rows, "cluster", "r", "new", -1));
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    d.nslots = 1; /* one slot: every poll lists everything */
    assert_true(mod_parent_wanted(&ctx, "r", "p1", -1));
    json_decref(parents);
    json_t *m = mod_unlisted("cluster", "web", "eu-west-1");
    assert_string_equal(cm_json_str(m, "cluster"), "web");
    assert_string_equal(cm_json_str(m, "region"), "eu-west-1");
    assert_true(json_is_true(json_object_get(m, MOD_UNLISTED_KEY)));
    json_decref(m);
    m = mod_unlisted("parent_hosted_zone", "Z1", NULL);
    assert_null(json_object_get(m, "region"));
    json_decref(m);
    int by_parent = 0;
    const mod_table *all[256];
    int n = mod_all_tables(all, NULL, 256);
    for (int i = 0; i < n; i++) {
        if (!all[i]->by_parent)
            continue;
        by_parent++;
        const mod_column *c = mod_column_find(all[i], all[i]->by_parent);
        assert_non_null(c);
        const mod_table *pt = mod_find_table(c->ref ? c->ref : all[i]->by_parent_table, NULL);
        assert_non_null(pt);
        assert_non_null(mod_ref_handle(pt));
        assert_null(all[i]->deep); /* the poller rotates a table one way */
    }
    assert_int_equal(by_parent, 4); /* record sets, services, routes, permissions */
    /* what a context learnt stays with it */
    assert_int_equal(mod_ctx_note(&ctx, "k"), -1);
    mod_ctx_set_note(&ctx, "k", true);
    assert_int_equal(mod_ctx_note(&ctx, "k"), 1);
    mod_ctx_set_note(&ctx, "k", false);
    assert_int_equal(mod_ctx_note(&ctx, "k"), 0);
    json_decref(ctx.notes);
}

static void test_wait_survives_failing_describe(void **state)
{
    (void)state;
    cm_err err = {0};
    dirty_stack();
    assert_int_equal(mod_wait_gone(NULL, describe_throttled, "us-east-1", "t", 100, &err),
                     CM_ERETRY);
    assert_non_null(strstr(err.msg, "ThrottlingException"));
    dirty_stack();
    assert_int_equal(
        mod_wait_active(NULL, describe_throttled, "TableStatus", "us-east-1", "t", 100, &err),
        CM_ERETRY);
}

/* An RDS instance with changes waiting for the maintenance window (a
 * ModifyDBInstance without ApplyImmediately): its row shows the values it
 * is going to, so that a poll never takes the current ones for drift over
 * the user's, and pending_modified_values shows what waits, the password
 * (stars) left out. moto applies every change at once, so this answer is
 * written as AWS gives it. */
static const char pending_instance[] =
    "<DBInstance><DBInstanceIdentifier>orders</DBInstanceIdentifier>"
    "<Engine>postgres</Engine><EngineVersion>15.4</EngineVersion>"
    "<DBInstanceClass>db.t3.micro</DBInstanceClass><AllocatedStorage>20</AllocatedStorage>"
    "<DBInstanceStatus>available</DBInstanceStatus><MasterUsername>app</MasterUsername>"
    "<BackupRetentionPeriod>1</BackupRetentionPeriod><MultiAZ>false</MultiAZ>"
    "<PubliclyAccessible>false</PubliclyAccessible><DeletionProtection>true</DeletionProtection>"
    "<Endpoint><Address>orders.x.us-east-1.rds.amazonaws.com</Address><Port>5432</Port>"
    "<HostedZoneId>Z2R2ITUGPM61AM</HostedZoneId></Endpoint>"
    "<DBSubnetGroup><DBSubnetGroupName>app-db</DBSubnetGroupName></DBSubnetGroup>"
    "<VpcSecurityGroups>"
    "<VpcSecurityGroupMembership><VpcSecurityGroupId>sg-b</VpcSecurityGroupId>"
    "<Status>adding</Status></VpcSecurityGroupMembership>"
    "<VpcSecurityGroupMembership><VpcSecurityGroupId>sg-a</VpcSecurityGroupId>"
    "<Status>active</Status></VpcSecurityGroupMembership>"
    "<VpcSecurityGroupMembership><VpcSecurityGroupId>sg-c</VpcSecurityGroupId>"
    "<Status>removing</Status></VpcSecurityGroupMembership></VpcSecurityGroups>"
    "<DBParameterGroups><DBParameterGroup><DBParameterGroupName>default.postgres15"
    "</DBParameterGroupName></DBParameterGroup></DBParameterGroups>"
    "<PendingModifiedValues><DBInstanceClass>db.m5.large</DBInstanceClass>"
    "<AllocatedStorage>100</AllocatedStorage><MultiAZ>true</MultiAZ>"
    "<MasterUserPassword>****</MasterUserPassword>"
    "<PendingCloudwatchLogsExports><LogTypesToEnable><member>postgresql</member>"
    "</LogTypesToEnable></PendingCloudwatchLogsExports></PendingModifiedValues>"
    "<DBInstanceArn>arn:aws:rds:us-east-1:123456789012:db:orders</DBInstanceArn>"
    "<TagList><Tag><Key>team</Key><Value>data</Value></Tag>"
    "<Tag><Key>iasql:owner</Key><Value>db-1</Value></Tag></TagList></DBInstance>";

static void test_rds_pending_values_are_where_the_row_goes(void **state)
{
    (void)state;
    xmlDocPtr doc = NULL;
    cm_err err = {0};
    assert_int_equal(aws_xml_parse(&doc, pending_instance, strlen(pending_instance), &err), 0);
    json_t *row = rds_instance_row("us-east-1", xmlDocGetRootElement(doc));
    xmlFreeDoc(doc);
    assert_string_equal(cm_json_str(row, "db_instance_class"), "db.m5.large");
    assert_int_equal(json_integer_value(json_object_get(row, "allocated_storage")), 100);
    assert_true(json_is_true(json_object_get(row, "multi_az")));
    assert_string_equal(cm_json_str(row, "engine_version"), "15.4");
    json_t *want = json_pack("{s:s, s:i, s:b, s:{s:[s]}}", "DBInstanceClass", "db.m5.large",
                             "AllocatedStorage", 100, "MultiAZ", 1, "PendingCloudwatchLogsExports",
                             "LogTypesToEnable", "postgresql");
    assert_true(json_equal(json_object_get(row, "pending_modified_values"), want));
    json_decref(want);
    /* the groups it is going to have, sorted; the default parameter group
     * is none; the password a mask; the owner out of the tags */
    want = json_pack("[s, s]", "sg-a", "sg-b");
    assert_true(json_equal(json_object_get(row, "security_groups"), want));
    json_decref(want);
    assert_true(json_is_null(json_object_get(row, "parameter_group")));
    assert_string_equal(cm_json_str(row, "db_subnet_group"), "app-db");
    assert_string_equal(cm_json_str(row, "master_user_password"), RDS_PASSWORD_MASK);
    assert_true(json_is_false(json_object_get(row, "manage_master_user_password")));
    assert_string_equal(cm_json_str(row, MOD_OWNER_KEY), "db-1");
    want = json_pack("{s:s}", "team", "data");
    assert_true(json_equal(json_object_get(row, "tags"), want));
    json_decref(want);
    assert_int_equal(json_integer_value(json_object_get(row, "endpoint_port")), 5432);
    assert_string_equal(cm_json_str(row, "arn"), "arn:aws:rds:us-east-1:123456789012:db:orders");
    json_decref(row);
}

/* A small lifecycle shape: a flattened list of rules, each with a
 * structure, a flattened list of structures, a wrapped list of strings and
 * a day. */
static const s3_field t_tag[] = {{"Key", 0, S3_STR}, {"Value", 0, S3_STR}, {0}};
static const s3_field t_filter[] = {{"Prefix", 0, S3_STR}, {"Tag", 0, S3_OBJ, t_tag}, {0}};
static const s3_field t_exp[] = {{"Date", 0, S3_DAY}, {"Days", 0, S3_INT}, {0}};
static const s3_field t_rule[] = {{"Expiration", 0, S3_OBJ, t_exp},
                                  {"ID", 0, S3_STR},
                                  {"Filter", 0, S3_OBJ, t_filter},
                                  {"Status", 0, S3_STR},
                                  {"Tags", "Tag", S3_LIST, t_tag, S3_OBJ, NULL},
                                  {"Names", 0, S3_LIST, NULL, S3_STR, "Name"},
                                  {"Marker", 0, S3_BOOL},
                                  {0}};
static const s3_field t_config[] = {{"Rules", "Rule", S3_LIST, t_rule, S3_OBJ, NULL}, {0}};

static void test_s3_xml_round_trip(void **state)
{
    (void)state;
    json_t *in = json_loads(
        "{\"Rules\": [{\"Status\": \"Enabled\", \"ID\": \"a<&>'\\\"b\", \"Filter\": {\"Prefix\": "
        "\"logs/ & more\"}, \"Expiration\": {\"Days\": 30}, \"Marker\": true, \"Tags\": "
        "[{\"Key\": \"k1\", \"Value\": \"v1\"}, {\"Key\": \"k2\", \"Value\": \"\"}], \"Names\": "
        "[\"x\", \"y\"]}, {\"ID\": \"d\", \"Status\": \"Disabled\", \"Expiration\": {\"Date\": "
        "\"2031-01-01\"}, \"Filter\": {}, \"Marker\": false}]}",
        0, NULL);
    assert_non_null(in);
    char *xml = s3_xml_encode("LifecycleConfiguration", t_config, in);
    assert_non_null(xml);
    /* S3's namespace on the root; members in the description's order, not
     * the JSON's; text escaped; a day as midnight UTC; an empty structure
     * as an empty element */
    assert_non_null(
        strstr(xml, "<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"));
    assert_non_null(strstr(xml, "<Rule><Expiration><Days>30</Days></Expiration><ID>a&lt;&amp;&gt;'"
                                "\"b</ID><Filter><Prefix>logs/ &amp; more</Prefix></Filter>"
                                "<Status>Enabled</Status><Tag><Key>k1</Key><Value>v1</Value></Tag>"
                                "<Tag><Key>k2</Key><Value></Value></Tag><Names><Name>x</Name>"
                                "<Name>y</Name></Names><Marker>true</Marker></Rule>"));
    assert_non_null(strstr(xml, "<Date>2031-01-01T00:00:00Z</Date>"));
    assert_non_null(strstr(xml, "<Filter/>"));
    xmlDocPtr doc = NULL;
    cm_err err = {0};
    assert_int_equal(aws_xml_parse(&doc, xml, strlen(xml), &err), 0);
    json_t *out = s3_xml_decode(xmlDocGetRootElement(doc), t_config);
    /* what it reads is what was written (an answer's full timestamp reads
     * as its day) */
    if (!json_equal(in, out)) {
        char *a = json_dumps(in, JSON_SORT_KEYS), *b = json_dumps(out, JSON_SORT_KEYS);
        fail_msg("wrote %s, read %s", a, b);
    }
    xmlFreeDoc(doc);
    json_decref(out);
    const char *answer = "<LifecycleConfiguration><Rule><Expiration><Date>2031-01-01T00:00:00.000Z"
                         "</Date></Expiration><Status>Enabled</Status><Names/></Rule>"
                         "</LifecycleConfiguration>";
    assert_int_equal(aws_xml_parse(&doc, answer, strlen(answer), &err), 0);
    out = s3_xml_decode(xmlDocGetRootElement(doc), t_config);
    json_t *want = json_loads(
        "{\"Rules\": [{\"Expiration\": {\"Date\": \"2031-01-01\"}, \"Status\": \"Enabled\"}]}", 0,
        NULL);
    assert_true(json_equal(want, out)); /* an empty list reads as none */
    xmlFreeDoc(doc);
    json_decref(out), json_decref(want), json_decref(in);
    free(xml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constraint_names_fit),
        cmocka_unit_test(test_registry_order_and_tables),
        cmocka_unit_test(test_rotation_slots_keep_a_tenth),
        cmocka_unit_test(test_rotation_by_parent),
        cmocka_unit_test(test_wait_survives_failing_describe),
        cmocka_unit_test(test_rds_pending_values_are_where_the_row_goes),
        cmocka_unit_test(test_s3_xml_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
