/* tests/integration/it_modules.c — the module system: aws_regions keeps
 * exactly one default; imports cover every enabled region and no other;
 * a user's table with a foreign key into a module table stops an uninstall
 * with a message naming the constraint, and changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "it_util.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int setup(void **state)
{
    return it_fixture(state, "modules", false);
}

static int teardown(void **state)
{
    it_http_set_region("us-east-1");
    return it_fixture_end(state);
}

static void create_log_group(it_env *e, const char *region, const char *name)
{
    char url[512], body[256];
    snprintf(url, sizeof url, "%s/", e->emulator);
    snprintf(body, sizeof body, "{\"logGroupName\": \"%s\"}", name);
    it_http_set_region(region);
    long st = it_http_full("logs",
                           "X-Amz-Target: Logs_20140328.CreateLogGroup\n"
                           "Content-Type: application/x-amz-json-1.1",
                           "POST", url, body, NULL);
    it_http_set_region("us-east-1");
    assert_int_equal(st, 200);
}

static void test_one_default_region(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_account')", 0, NULL));
    assert_string_equal(it_value(e, "SELECT region FROM aws_regions WHERE is_default"),
                        "us-east-1");
    assert_string_equal(
        it_value(e, "SELECT string_agg(region, ',') FROM aws_regions WHERE is_enabled"),
        "us-east-1");
    assert_non_null(strstr(it_sql_error(e, "UPDATE aws_regions SET is_default = false"),
                           "exactly one default region"));
    assert_non_null(strstr(it_sql_error(e, "UPDATE aws_regions SET is_default = true "
                                           "WHERE region = 'eu-west-1'"),
                           "aws_regions_default_must_be_enabled"));
    assert_non_null(strstr(it_sql_error(e, "UPDATE aws_regions SET is_enabled = true, "
                                           "is_default = true WHERE region = 'eu-west-1'"),
                           "aws_regions_only_one_default"));
    assert_non_null(
        strstr(it_sql_error(e, "INSERT INTO aws_regions VALUES ('moon-1', false, true)"),
               "aws_regions_region_format"));
    /* moving the default is one statement, or one transaction */
    assert_true(it_ok(e,
                      "UPDATE aws_regions SET is_enabled = true, is_default = "
                      "(region = 'eu-west-1') WHERE region IN ('us-east-1', 'eu-west-1')",
                      0, NULL));
    assert_string_equal(it_value(e, "SELECT default_aws_region()"), "eu-west-1");
}

static void test_imports_cover_enabled_regions(void **state)
{
    it_env *e = *state;
    char east[64], west[64], off[64];
    snprintf(east, sizeof east, "/regions/east-%d", (int)getpid());
    snprintf(west, sizeof west, "/regions/west-%d", (int)getpid());
    snprintf(off, sizeof off, "/regions/off-%d", (int)getpid());
    create_log_group(e, "us-east-1", east);
    create_log_group(e, "us-west-2", west);
    create_log_group(e, "ap-south-1", off);
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_account')", 0, NULL));
    assert_true(
        it_ok(e, "UPDATE aws_regions SET is_enabled = true WHERE region = 'us-west-2'", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_cloudwatch')", 0, NULL));
    const char *p[] = {east, west, off};
    PGresult *r = it_sql(e,
                         "SELECT log_group_name, region FROM log_group WHERE log_group_name "
                         "IN ($1, $2, $3) ORDER BY region",
                         3, p);
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 1), "us-east-1");
    assert_string_equal(PQgetvalue(r, 1, 1), "us-west-2");
    assert_string_equal(PQgetvalue(r, 1, 0), west);
    PQclear(r);
    /* a row in another enabled region is created there */
    char made[64];
    snprintf(made, sizeof made, "/regions/made-%d", (int)getpid());
    const char *q[] = {made};
    assert_true(
        it_ok(e, "INSERT INTO log_group (log_group_name, region) VALUES ($1, 'us-west-2')", 1, q));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_commit()"), "create");
    assert_string_equal(it_value(e, "SELECT count(*) FROM log_group WHERE log_group_arn LIKE "
                                    "'arn:aws:logs:us-west-2:%'"),
                        "2");
    assert_true(it_ok(e, "DELETE FROM log_group WHERE log_group_name LIKE '/regions/%'", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_commit()", 0, NULL));
}

static void test_user_foreign_key_stops_uninstall(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_sqs')", 0, NULL));
    /* the application may make tables of its own that refer to iasql's */
    assert_true(it_admin_ok(e, "GRANT CREATE ON SCHEMA public TO iasql_app"));
    assert_true(it_ok(e,
                      "CREATE TABLE my_consumers (name text, queue_id bigint "
                      "CONSTRAINT my_consumers_queue_fk REFERENCES queue (id))",
                      0, NULL));
    const char *msg = it_sql_error(e, "SELECT * FROM iasql_uninstall('aws_sqs')");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "my_consumers_queue_fk"));
    assert_non_null(strstr(msg, "uninstalling module aws_sqs"));
    /* nothing changed */
    assert_non_null(it_value(e, "SELECT to_regclass('queue')"));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_module WHERE name = 'aws_sqs'"),
                        "1");
    assert_true(it_ok(e, "DROP TABLE my_consumers", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_sqs')", 0, NULL));
    assert_null(it_value(e, "SELECT to_regclass('queue')"));
    /* every module of the catalogue (modules/modules.def) is offered, and
     * nothing else, with its dependencies */
    static const char *catalogue[] = {
#define MODULE(name, test, emulators, what) #name,
#include "modules/modules.def"
#undef MODULE
    };
    size_t n = sizeof catalogue / sizeof catalogue[0];
    qsort(catalogue, n, sizeof catalogue[0], by_name);
    char expected[2048] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s%s",
                 i ? "," : "", catalogue[i]);
    assert_true(n >= 12);
    assert_string_equal(it_value(e, "SELECT string_agg(module_name, ',' ORDER BY module_name "
                                    "COLLATE \"C\") FROM iasql_modules_list()"),
                        expected);
    assert_string_equal(it_value(e, "SELECT dependencies::text FROM iasql_modules_list() "
                                    "WHERE module_name = 'aws_sns'"),
                        "[\"aws_account\"]");
    assert_string_equal(it_value(e, "SELECT dependencies::text LIKE '%\"aws_vpc\"%' AND "
                                    "dependencies::text LIKE '%\"aws_security_group\"%' FROM "
                                    "iasql_modules_list() WHERE module_name = 'aws_ec2'"),
                        "t");
}

/* A user's foreign key that refuses a write-back (a replaced queue's new
 * url) stops only that row's write-back, names the constraint, and the
 * rest of the commit is recorded; the next commit writes it once allowed. */
static void test_user_foreign_key_stops_write_back(void **state)
{
    it_env *e = *state;
    char a[64], b[64], c[64];
    snprintf(a, sizeof a, "fk-a-%d", (int)getpid());
    snprintf(b, sizeof b, "fk-b-%d", (int)getpid());
    snprintf(c, sizeof c, "fk-c-%d", (int)getpid());
    const char *p[] = {a, b, c};
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_sqs')", 0, NULL));
    assert_true(it_ok(e, "INSERT INTO queue (name) VALUES ($1)", 1, p));
    it_expect_commit(e, 1, "create");
    /* an index on iasql's table is its owner's to make; the table that
     * refers to it is the application's */
    assert_true(it_admin_ok(e, "CREATE UNIQUE INDEX ON queue (url)"));
    assert_true(it_admin_ok(e, "GRANT CREATE ON SCHEMA public TO iasql_app"));
    assert_true(it_ok(e,
                      "CREATE TABLE my_consumers (q text CONSTRAINT my_consumers_queue_url_fk "
                      "REFERENCES queue (url))",
                      0, NULL));
    assert_true(it_ok(e, "INSERT INTO my_consumers SELECT url FROM queue WHERE name = $1", 1, p));
    assert_true(it_ok(e, "UPDATE queue SET name = $2 WHERE name = $1", 2, p));
    assert_true(it_ok(e, "INSERT INTO queue (name) VALUES ($1)", 1, p + 2));
    PGresult *r =
        it_sql(e, "SELECT action, description FROM iasql_commit() ORDER BY action", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 0), "create");
    assert_null(strstr(PQgetvalue(r, 0, 1), "could not be written back"));
    assert_string_equal(PQgetvalue(r, 1, 0), "replace");
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "could not be written back"));
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "my_consumers_queue_url_fk"));
    PQclear(r);
    assert_non_null(strstr(it_value(e, "SELECT string_agg(message, ' ') FROM iasql_get_errors()"),
                           "my_consumers_queue_url_fk"));
    /* the other row's write-back went through; the refused one kept its old url */
    r = it_sql(e,
               "SELECT name, url LIKE '%/' || name FROM queue WHERE name IN ($1, $2) ORDER BY name",
               2, p + 1);
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 1), "f"); /* fk-b: old url */
    assert_string_equal(PQgetvalue(r, 1, 1), "t"); /* fk-c */
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_commits"), "2");
    /* once the user's constraint allows it, the next commit writes it back */
    assert_true(it_ok(e, "DROP TABLE my_consumers", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_commit()", 0, NULL));
    r = it_sql(e, "SELECT url LIKE '%/' || name FROM queue WHERE name = $1", 1, p + 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    assert_true(it_ok(e, "DELETE FROM queue WHERE name IN ($1, $2)", 2, p + 1));
    it_expect_commit(e, 2, "delete");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_default_region, setup, teardown),
        cmocka_unit_test_setup_teardown(test_imports_cover_enabled_regions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_foreign_key_stops_uninstall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_foreign_key_stops_write_back, setup, teardown),
    };
    return cmocka_run_group_tests_name("module system", tests, NULL, NULL);
}
