/* tests/integration/it_logs.c — module aws_cloudwatch (log_group) end to
 * end against moto_server: import, create, update in place, replace,
 * delete, bad input, and adopting a group that already exists. The cloud is
 * read with plain JSON-protocol HTTP, not through the engine's client. */
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
    if (it_fixture(state, "logs", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_cloudwatch')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

/* One CloudWatch Logs call straight to the emulator; the decoded answer. */
static json_t *logs(it_env *e, const char *op, const char *body)
{
    char target[96];
    snprintf(target, sizeof target, "Logs_20140328.%s", op);
    long st;
    json_t *j = it_aws_json(e, "logs", "1.1", target, json_loads(body, 0, NULL), &st);
    if (st != 200)
        fail_msg("%s: HTTP %ld", op, st);
    return j;
}

static json_t *cloud_tags(it_env *e, const char *name)
{
    char body[600];
    snprintf(body, sizeof body, "{\"logGroupName\": \"%s\"}", name);
    json_t *r = logs(e, "ListTagsLogGroup", body);
    json_t *t = json_incref(json_object_get(r, "tags"));
    json_decref(r);
    return t;
}

static void test_log_group_lifecycle(void **state)
{
    it_env *e = *state;
    char name[64], renamed[64], sql[300];
    snprintf(name, sizeof name, "/iasql/app-%d", (int)getpid());
    snprintf(renamed, sizeof renamed, "/iasql/app-%d-b", (int)getpid());
    const char *p[] = {name};
    assert_true(it_ok(e,
                      "INSERT INTO log_group (log_group_name, retention_in_days, tags) "
                      "VALUES ($1, 7, '{\"team\": \"a\"}')",
                      1, p));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "create");
    it_expect_commit(e, 1, "create");
    json_t *g = it_cloud_log_group(e, name);
    assert_non_null(g);
    assert_int_equal(json_integer_value(json_object_get(g, "retentionInDays")), 7);
    json_decref(g);
    json_t *t = cloud_tags(e, name);
    assert_string_equal(json_string_value(json_object_get(t, "team")), "a");
    /* the database that made it, which the row does not show */
    char *dbid = it_database_id(e);
    assert_string_equal(json_string_value(json_object_get(t, "iasql:owner")), dbid);
    free(dbid);
    json_decref(t);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM log_group WHERE log_group_arn LIKE 'arn:aws:logs:%%' "
             "AND creation_time IS NOT NULL AND log_group_name = '%s'",
             name);
    assert_string_equal(it_value(e, sql), "1");

    /* retention and tags change in place */
    assert_true(it_ok(e,
                      "UPDATE log_group SET retention_in_days = 30, "
                      "tags = '{\"team\": \"b\", \"env\": \"dev\"}' WHERE log_group_name = $1",
                      1, p));
    it_expect_commit(e, 1, "update");
    g = it_cloud_log_group(e, name);
    assert_int_equal(json_integer_value(json_object_get(g, "retentionInDays")), 30);
    json_decref(g);
    t = cloud_tags(e, name);
    assert_int_equal(json_object_size(t), 3); /* team, env and iasql:owner */
    assert_string_equal(json_string_value(json_object_get(t, "team")), "b");
    json_decref(t);
    assert_true(it_ok(e,
                      "UPDATE log_group SET retention_in_days = NULL, tags = '{\"env\": \"dev\"}' "
                      "WHERE log_group_name = $1",
                      1, p));
    it_expect_commit(e, 1, "update");
    g = it_cloud_log_group(e, name);
    assert_null(json_object_get(g, "retentionInDays"));
    json_decref(g);
    t = cloud_tags(e, name);
    assert_int_equal(json_object_size(t), 2); /* env and iasql:owner */
    json_decref(t);

    /* a new name is a new log group */
    const char *q[] = {name, renamed};
    assert_true(
        it_ok(e, "UPDATE log_group SET log_group_name = $2 WHERE log_group_name = $1", 2, q));
    it_expect_commit(e, 1, "replace");
    g = it_cloud_log_group(e, name);
    assert_null(g);
    g = it_cloud_log_group(e, renamed);
    assert_non_null(g);
    json_decref(g);
    t = cloud_tags(e, renamed);
    assert_string_equal(json_string_value(json_object_get(t, "env")), "dev");
    json_decref(t);

    snprintf(sql, sizeof sql, "DELETE FROM log_group WHERE log_group_name = $1");
    const char *r[] = {renamed};
    assert_true(it_ok(e, sql, 1, r));
    it_expect_commit(e, 1, "delete");
    assert_null(it_cloud_log_group(e, renamed));
}

static void test_log_group_import_and_adopt(void **state)
{
    it_env *e = *state;
    char made[64], body[300];
    snprintf(made, sizeof made, "/iasql/console-%d", (int)getpid());
    snprintf(body, sizeof body, "{\"logGroupName\": \"%s\", \"tags\": {\"by\": \"console\"}}",
             made);
    json_decref(logs(e, "CreateLogGroup", body));
    /* reinstall: what the cloud has is imported */
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_cloudwatch')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_cloudwatch')", 0, NULL));
    const char *p[] = {made};
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    PGresult *r = it_sql(e,
                         "SELECT tags->>'by', log_group_arn IS NOT NULL, region "
                         "FROM log_group WHERE log_group_name = $1",
                         1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "console");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    /* a row for a group that exists already (made behind the engine's back):
     * the create adopts it and brings it to the row */
    char other[64];
    snprintf(other, sizeof other, "/iasql/raced-%d", (int)getpid());
    snprintf(body, sizeof body, "{\"logGroupName\": \"%s\", \"tags\": {\"old\": \"x\"}}", other);
    json_decref(logs(e, "CreateLogGroup", body));
    const char *q[] = {other};
    assert_true(it_ok(e,
                      "INSERT INTO log_group (log_group_name, retention_in_days, tags) "
                      "VALUES ($1, 14, '{\"new\": \"y\"}')",
                      1, q));
    it_expect_commit(e, 1, "create");
    json_t *g = it_cloud_log_group(e, other);
    assert_int_equal(json_integer_value(json_object_get(g, "retentionInDays")), 14);
    json_decref(g);
    json_t *t = cloud_tags(e, other);
    assert_int_equal(json_object_size(t), 1);
    assert_string_equal(json_string_value(json_object_get(t, "new")), "y");
    json_decref(t);
    assert_true(it_ok(e, "DELETE FROM log_group", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_null(it_cloud_log_group(e, other));
    assert_null(it_cloud_log_group(e, made));
}

static void test_log_group_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO log_group (log_group_name, retention_in_days) VALUES ('/ok', 2)",
         "log_group_retention_in_days_one_of"},
        {"INSERT INTO log_group (log_group_name) VALUES ('has space')",
         "log_group_name_letters_digits"},
        {"INSERT INTO log_group (log_group_name) VALUES (repeat('a', 513))",
         "log_group_name_1_to_512_characters"},
        {"INSERT INTO log_group (log_group_name) VALUES ('')",
         "log_group_name_1_to_512_characters"},
        {"INSERT INTO log_group (log_group_name, tags) VALUES ('/ok', '{\"aws:k\": \"v\"}')",
         "log_group_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {"INSERT INTO log_group (log_group_name) VALUES ('/dup'), ('/dup')",
         "log_group_name_unique_in_region"},
        {"INSERT INTO log_group (log_group_name, retention_in_days) VALUES ('/ok', 'seven')",
         "invalid input syntax for type integer"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"),
                        "0");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_log_group_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_group_import_and_adopt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_group_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_cloudwatch", tests, NULL, NULL);
}
