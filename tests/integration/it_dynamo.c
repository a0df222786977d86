/* tests/integration/it_dynamo.c — module aws_dynamo (dynamo_table) end to
 * end, against moto_server and, as a second opinion, dynalite (which makes
 * tables pass through CREATING and UPDATING, as AWS does): create with a
 * key schema, billing mode and throughput changed in place, a key change is
 * a replace, import normalises cloud defaults, bad input refused at INSERT. */
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
    if (it_fixture(state, "dynamo", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_dynamo')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

static json_t *ddb(it_env *e, const char *op, json_t *body, long *status)
{
    char target[96];
    snprintf(target, sizeof target, "DynamoDB_20120810.%s", op);
    return it_aws_json(e, "dynamodb", "1.0", target, body, status);
}

/* The table as the cloud describes it once it is ACTIVE (dynalite, like
 * AWS, applies changes after a moment), or NULL when there is none. */
static json_t *cloud_table(it_env *e, const char *name)
{
    for (int i = 0; i < 100; i++) {
        long st;
        json_t *r = ddb(e, "DescribeTable", json_pack("{s:s}", "TableName", name), &st);
        json_t *t = st == 200 ? json_incref(json_object_get(r, "Table")) : NULL;
        json_decref(r);
        const char *status = json_string_value(json_object_get(t, "TableStatus"));
        if (!t || !status || strcmp(status, "ACTIVE") == 0 || strcmp(status, "DELETING") == 0)
            return t;
        json_decref(t);
        usleep(50 * 1000);
    }
    return NULL;
}

static const char *billing(json_t *t)
{
    const char *m =
        json_string_value(json_object_get(json_object_get(t, "BillingModeSummary"), "BillingMode"));
    return m ? m : "PROVISIONED";
}

static void test_dynamo_lifecycle(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "orders_%d", (int)getpid());
    const char *p[] = {name};
    assert_true(it_ok(e,
                      "INSERT INTO dynamo_table (table_name, hash_key, range_key, range_key_type) "
                      "VALUES ($1, 'customer', 'ordered_at', 'N')",
                      1, p));
    it_expect_commit(e, 1, "create");
    json_t *t = cloud_table(e, name);
    assert_non_null(t);
    assert_string_equal(billing(t), "PAY_PER_REQUEST");
    assert_int_equal(json_array_size(json_object_get(t, "KeySchema")), 2);
    json_decref(t);
    assert_string_equal(it_value(e, "SELECT count(*) FROM dynamo_table WHERE table_arn LIKE "
                                    "'arn:aws:dynamodb:%' AND created_at IS NOT NULL"),
                        "1");
    /* the cloud's answer matches the row: nothing pending */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* billing mode and throughput change in place (the table may still be CREATING) */
    assert_true(it_ok(e,
                      "UPDATE dynamo_table SET billing_mode = 'PROVISIONED', "
                      "read_capacity_units = 5, write_capacity_units = 2 WHERE table_name = $1",
                      1, p));
    it_expect_commit(e, 1, "update");
    t = cloud_table(e, name);
    assert_string_equal(billing(t), "PROVISIONED");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "ProvisionedThroughput"),
                                                        "ReadCapacityUnits")),
                     5);
    json_decref(t);
    assert_true(
        it_ok(e, "UPDATE dynamo_table SET read_capacity_units = 7 WHERE table_name = $1", 1, p));
    it_expect_commit(e, 1, "update");
    t = cloud_table(e, name);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "ProvisionedThroughput"),
                                                        "ReadCapacityUnits")),
                     7);
    json_decref(t);

    /* a key change cannot happen in place */
    assert_true(it_ok(e,
                      "UPDATE dynamo_table SET range_key = NULL, range_key_type = NULL "
                      "WHERE table_name = $1",
                      1, p));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "replace");
    it_expect_commit(e, 1, "replace");
    t = cloud_table(e, name);
    assert_non_null(t);
    assert_int_equal(json_array_size(json_object_get(t, "KeySchema")), 1);
    json_decref(t);

    assert_true(it_ok(e, "DELETE FROM dynamo_table WHERE table_name = $1", 1, p));
    it_expect_commit(e, 1, "delete");
    /* deleting may take a moment (DELETING): it is gone or going */
    t = cloud_table(e, name);
    if (t)
        assert_string_equal(json_string_value(json_object_get(t, "TableStatus")), "DELETING");
    json_decref(t);
}

static void test_dynamo_import_normalised(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "made_outside_%d", (int)getpid());
    json_decref(ddb(e, "CreateTable",
                    json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s, s:s}], s:s}", "TableName", name,
                              "AttributeDefinitions", "AttributeName", "id", "AttributeType", "S",
                              "KeySchema", "AttributeName", "id", "KeyType", "HASH", "BillingMode",
                              "PAY_PER_REQUEST"),
                    NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_dynamo')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_dynamo')", 0, NULL));
    const char *p[] = {name};
    PGresult *r =
        it_sql(e,
               "SELECT hash_key, hash_key_type, billing_mode, read_capacity_units IS NULL, "
               "table_class FROM dynamo_table WHERE table_name = $1",
               1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "id");
    assert_string_equal(PQgetvalue(r, 0, 1), "S");
    assert_string_equal(PQgetvalue(r, 0, 2), "PAY_PER_REQUEST");
    assert_string_equal(PQgetvalue(r, 0, 3), "t"); /* the cloud's 0 is NULL here */
    assert_string_equal(PQgetvalue(r, 0, 4), "STANDARD");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_true(it_ok(e, "DELETE FROM dynamo_table WHERE table_name = $1", 1, p));
    it_expect_commit(e, 1, "delete");
}

/* The iasql:owner tag of a table, or "" (freed by the caller). */
static char *owner_tag(it_env *e, const char *name)
{
    json_t *t = cloud_table(e, name);
    const char *arn = json_string_value(json_object_get(t, "TableArn"));
    json_t *r =
        ddb(e, "ListTagsOfResource", json_pack("{s:s}", "ResourceArn", arn ? arn : ""), NULL);
    char *out = it_tag_value(json_object_get(r, "Tags"), "iasql:owner");
    json_decref(r);
    json_decref(t);
    return out;
}

/* What this database makes carries its identity; what another made is
 * neither changed nor deleted here, until that tag is gone. */
static void test_dynamo_owner(void **state)
{
    it_env *e = *state;
    char mine[64], theirs[64];
    snprintf(mine, sizeof mine, "owned_%d", (int)getpid());
    snprintf(theirs, sizeof theirs, "theirs_%d", (int)getpid());
    const char *p[] = {mine};
    assert_true(it_ok(e, "INSERT INTO dynamo_table (table_name, hash_key) VALUES ($1, 'k')", 1, p));
    it_expect_commit(e, 1, "create");
    /* sent as CreateTable's Tags, which dynalite does not keep */
    char *tag = owner_tag(e, mine), *dbid = it_database_id(e);
    if (strcmp(getenv("IT_EMULATOR_KIND"), "dynalite") != 0)
        assert_string_equal(tag, dbid);
    free(tag);
    free(dbid);
    json_decref(ddb(e, "CreateTable",
                    json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s, s:s}], s:s}", "TableName", theirs,
                              "AttributeDefinitions", "AttributeName", "id", "AttributeType", "S",
                              "KeySchema", "AttributeName", "id", "KeyType", "HASH", "BillingMode",
                              "PAY_PER_REQUEST"),
                    NULL));
    json_t *t = cloud_table(e, theirs);
    char *arn = strdup(json_string_value(json_object_get(t, "TableArn")));
    json_decref(t);
    json_decref(ddb(e, "TagResource",
                    json_pack("{s:s, s:[{s:s, s:s}]}", "ResourceArn", arn, "Tags", "Key",
                              "iasql:owner", "Value", "other-database"),
                    NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM dynamo_table WHERE table_name = '%s'", theirs), "1");
    /* one commit: this database's table changes, the other's does not */
    assert_true(it_ok(e,
                      "UPDATE dynamo_table SET billing_mode = 'PROVISIONED', "
                      "read_capacity_units = 1, write_capacity_units = 1 "
                      "WHERE table_name IN ($1, $2)",
                      2, (const char *[]){mine, theirs}));
    it_expect_commit_spares(e, "dynamo_table", "table_name", "update", theirs, "other-database");
    t = cloud_table(e, theirs);
    assert_string_equal(billing(t), "PAY_PER_REQUEST");
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    /* nor deleted; once the tag is gone, it is */
    assert_true(it_ok(e, "DELETE FROM dynamo_table WHERE table_name IN ($1, $2)", 2,
                      (const char *[]){mine, theirs}));
    PGresult *r = it_sql(e,
                         "SELECT description FROM iasql_commit() WHERE description LIKE "
                         "'failed%'",
                         0, NULL);
    assert_int_equal(PQntuples(r), 1);
    assert_non_null(strstr(PQgetvalue(r, 0, 0), theirs));
    PQclear(r);
    json_decref(ddb(e, "UntagResource",
                    json_pack("{s:s, s:[s]}", "ResourceArn", arn, "TagKeys", "iasql:owner"), NULL));
    json_decref(t);
    free(arn);
    it_expect_commit(e, 1, "delete");
    /* one already deleted in the cloud: nobody's, and its delete succeeds */
    char gone[64];
    snprintf(gone, sizeof gone, "gone_%d", (int)getpid());
    const char *g[] = {gone};
    assert_true(it_ok(e, "INSERT INTO dynamo_table (table_name, hash_key) VALUES ($1, 'k')", 1, g));
    it_expect_commit(e, 1, "create");
    json_decref(cloud_table(e, gone));
    json_decref(ddb(e, "DeleteTable", json_pack("{s:s}", "TableName", gone), NULL));
    assert_true(it_ok(e, "DELETE FROM dynamo_table WHERE table_name = $1", 1, g));
    it_expect_commit(e, 1, "delete");
}

static void test_dynamo_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO dynamo_table (table_name, hash_key) VALUES ('ab', 'k')",
         "dynamo_table_name_3_to_255"},
        {"INSERT INTO dynamo_table (table_name, hash_key) VALUES ('bad name', 'k')",
         "dynamo_table_name_3_to_255"},
        {"INSERT INTO dynamo_table (table_name, hash_key, hash_key_type) VALUES ('okay', 'k', 'X')",
         "dynamo_table_key_types_s_n_or_b"},
        {"INSERT INTO dynamo_table (table_name, hash_key, range_key) VALUES ('okay', 'k', 'r')",
         "dynamo_table_range_key_and_type_together"},
        {"INSERT INTO dynamo_table (table_name, hash_key, range_key, range_key_type) VALUES "
         "('okay', 'k', 'k', 'S')",
         "dynamo_table_range_key_and_type_together"},
        {"INSERT INTO dynamo_table (table_name, hash_key, billing_mode) VALUES ('okay', 'k', "
         "'FREE')",
         "dynamo_table_billing_mode_pay_per_request_or_provisioned"},
        {"INSERT INTO dynamo_table (table_name, hash_key, billing_mode) VALUES ('okay', 'k', "
         "'PROVISIONED')",
         "dynamo_table_capacity_at_least_1_and_only_when_provisioned"},
        {"INSERT INTO dynamo_table (table_name, hash_key, read_capacity_units, "
         "write_capacity_units) VALUES ('okay', 'k', 5, 5)",
         "dynamo_table_capacity_at_least_1_and_only_when_provisioned"},
        {"INSERT INTO dynamo_table (table_name, hash_key, table_class) VALUES ('okay', 'k', "
         "'COLD')",
         "dynamo_table_class_standard_or_standard_infrequent_access"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
}

/* The poller's rotation: a quiet poll of known tables costs ListTables and
 * the DescribeTable of the tables whose turn it is (a quarter, with four
 * slots), not one a table; a change of a described setting is seen within
 * the rotation, a table new in the cloud in full at once. */
static void test_dynamo_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 12 };
    assert_true(it_okf(e,
                       "INSERT INTO dynamo_table (table_name, hash_key) "
                       "SELECT 'rot_' || g || '_%d', 'id' FROM generate_series(1, %d) g",
                       (int)getpid(), N));
    it_expect_commit(e, N, "create");
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    long full[4], rot[4];
    it_rotation_quiet(e, "dynamo_table", "1", full);
    it_rotation_quiet(e, "dynamo_table", "5", rot);
    long sum = 0;
    for (int i = 0; i < 4; i++) {
        assert_true(full[i] >= 1 + N);        /* a listing, a describe a table */
        assert_true(rot[i] <= 1 + 3 * N / 4); /* a listing, about a quarter's describes */
        sum += rot[i];
    }
    assert_true(sum <= 4 + N + 4); /* a rotation describes each one about once */
    /* a setting changed outside: within the rotation */
    char name[64], made[64];
    snprintf(name, sizeof name, "rot_1_%d", (int)getpid());
    snprintf(made, sizeof made, "rot_made_%d", (int)getpid());
    json_decref(
        ddb(e, "UpdateTable",
            json_pack("{s:s, s:s, s:{s:i, s:i}}", "TableName", name, "BillingMode", "PROVISIONED",
                      "ProvisionedThroughput", "ReadCapacityUnits", 3, "WriteCapacityUnits", 2),
            NULL));
    assert_true(it_eventually(e, "3",
                              "SELECT coalesce(read_capacity_units, 0) FROM dynamo_table "
                              "WHERE table_name = '%s'",
                              name));
    /* a table new in the cloud: in full at once */
    json_decref(ddb(e, "CreateTable",
                    json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s, s:s}], s:s}", "TableName", made,
                              "AttributeDefinitions", "AttributeName", "pk", "AttributeType", "N",
                              "KeySchema", "AttributeName", "pk", "KeyType", "HASH", "BillingMode",
                              "PAY_PER_REQUEST"),
                    NULL));
    assert_true(
        it_eventually(e, "1", "SELECT count(*) FROM dynamo_table WHERE table_name = '%s'", made));
    assert_string_equal(it_valf(e,
                                "SELECT hash_key || hash_key_type || billing_mode FROM "
                                "dynamo_table WHERE table_name = '%s'",
                                made),
                        "pkNPAY_PER_REQUEST");
    print_message("dynamo rotation: %d tables, quiet polls %ld %ld %ld %ld requests in full, "
                  "%ld %ld %ld %ld with four slots\n",
                  N + 0, full[0], full[1], full[2], full[3], rot[0], rot[1], rot[2], rot[3]);
    it_rotation_off(e);
    assert_true(
        it_okf(e, "DELETE FROM dynamo_table WHERE table_name LIKE 'rot\\_%%\\_%d'", (int)getpid()));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM dynamo_table WHERE table_name LIKE "
                                    "'rot\\_%'"),
                        "0");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dynamo_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dynamo_import_normalised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dynamo_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dynamo_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dynamo_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name(getenv("IT_EMULATOR_KIND"), tests, NULL, NULL);
}
