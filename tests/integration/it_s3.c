/* tests/integration/it_s3.c — a bucket's policy, versioning and public
 * access block against moto_server (s3rver has none of the three): set at
 * create, changed and removed in place, versioning that cannot go back to
 * Disabled failing alone, import, and bad values refused at INSERT. The
 * cloud is read with plain HTTP. */
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
    return it_fixture(state, "s3", true);
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

#define POLICY(bucket)                                                                             \
    "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", "                       \
    "\"Principal\": \"*\", \"Action\": \"s3:GetObject\", "                                         \
    "\"Resource\": \"arn:aws:s3:::" bucket "/*\"}]}"
#define PAB(a, b, c, d)                                                                            \
    "{\"BlockPublicAcls\": " a ", \"IgnorePublicAcls\": " b ", \"BlockPublicPolicy\": " c          \
    ", \"RestrictPublicBuckets\": " d "}"

/* GET of a bucket sub-resource: the status, *out the body. */
static long sub(it_env *e, const char *bucket, const char *query, const char **out)
{
    char url[512];
    snprintf(url, sizeof url, "%s/%s?%s", e->emulator, bucket, query);
    return it_http_as("s3", "GET", url, NULL, out);
}

static void test_settings_lifecycle(void **state)
{
    it_env *e = *state;
    char a[64], b[64];
    snprintf(a, sizeof a, "settings-a-%d", (int)getpid());
    snprintf(b, sizeof b, "settings-b-%d", (int)getpid());
    const char *p[] = {a, b};
    assert_true(it_ok(e,
                      "INSERT INTO bucket (name, policy, versioning, public_access_block) "
                      "VALUES ($1, jsonb_set('" POLICY(
                          "x") "', '{Statement,0,Resource}', "
                               "to_jsonb('arn:aws:s3:::' || $1 || '/*')), 'Enabled', '" PAB(
                                   "true", "true", "false", "false") "')",
                      1, p));
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, p + 1));
    it_expect_commit(e, 2, "create");
    const char *out;
    assert_int_equal(sub(e, a, "policy", &out), 200);
    assert_non_null(strstr(out, "s3:GetObject"));
    assert_int_equal(sub(e, a, "versioning", &out), 200);
    assert_non_null(strstr(out, "<Status>Enabled</Status>"));
    assert_int_equal(sub(e, a, "publicAccessBlock", &out), 200);
    assert_non_null(strstr(out, "<BlockPublicAcls>true</BlockPublicAcls>"));
    assert_non_null(strstr(out, "<BlockPublicPolicy>false</BlockPublicPolicy>"));
    /* a plain bucket has none of them set */
    assert_int_equal(sub(e, b, "policy", &out), 404);
    assert_int_equal(sub(e, b, "versioning", &out), 200);
    assert_null(strstr(out, "<Status>"));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* in place: suspend, remove the policy and the block; enable the other */
    assert_true(it_ok(e,
                      "UPDATE bucket SET versioning = 'Suspended', policy = NULL, "
                      "public_access_block = NULL WHERE name = $1",
                      1, p));
    assert_true(it_ok(e,
                      "UPDATE bucket SET versioning = 'Enabled', public_access_block = '" PAB(
                          "true", "true", "true", "true") "' WHERE name = $1",
                      1, p + 1));
    it_expect_commit(e, 2, "update");
    assert_int_equal(sub(e, a, "policy", &out), 404);
    assert_int_equal(sub(e, a, "versioning", &out), 200);
    assert_non_null(strstr(out, "<Status>Suspended</Status>"));
    assert_int_equal(sub(e, a, "publicAccessBlock", &out), 404);
    assert_int_equal(sub(e, b, "versioning", &out), 200);
    assert_non_null(strstr(out, "<Status>Enabled</Status>"));
    assert_int_equal(sub(e, b, "publicAccessBlock", &out), 200);
    assert_non_null(strstr(out, "<RestrictPublicBuckets>true</RestrictPublicBuckets>"));

    /* S3 cannot turn versioning off: that bucket fails alone, the other
     * bucket's change applies */
    assert_true(it_ok(e, "UPDATE bucket SET versioning = 'Disabled' WHERE name = $1", 1, p + 1));
    assert_true(it_ok(e, "UPDATE bucket SET tags = '{\"k\": \"v\"}' WHERE name = $1", 1, p));
    PGresult *r = it_sql(e, "SELECT description FROM iasql_commit() ORDER BY description", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    assert_non_null(strstr(PQgetvalue(r, 0, 0), "failed to update bucket"));
    assert_non_null(strstr(PQgetvalue(r, 0, 0), "set it to Suspended"));
    assert_non_null(strstr(PQgetvalue(r, 1, 0), "updated bucket"));
    PQclear(r);
    assert_true(it_ok(e, "UPDATE bucket SET versioning = 'Suspended' WHERE name = $1", 1, p + 1));
    it_expect_commit(e, 1, "update");
    assert_int_equal(sub(e, b, "versioning", &out), 200);
    assert_non_null(strstr(out, "<Status>Suspended</Status>"));

    /* import: what the cloud holds comes back as it is */
    assert_true(it_ok(e,
                      "UPDATE bucket SET policy = jsonb_set('" POLICY(
                          "x") "', "
                               "'{Statement,0,Resource}', to_jsonb('arn:aws:s3:::' || $1 || '/*')) "
                               "WHERE name = $1",
                      1, p));
    it_expect_commit(e, 1, "update");
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_s3')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_s3')", 0, NULL));
    r = it_sql(e,
               "SELECT versioning, policy #>> '{Statement,0,Action}', public_access_block IS NULL "
               "FROM bucket WHERE name = $1",
               1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "Suspended");
    assert_string_equal(PQgetvalue(r, 0, 1), "s3:GetObject");
    assert_string_equal(PQgetvalue(r, 0, 2), "t");
    PQclear(r);
    r = it_sql(e,
               "SELECT versioning, public_access_block->>'RestrictPublicBuckets' "
               "FROM bucket WHERE name = $1",
               1, p + 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "Suspended");
    assert_string_equal(PQgetvalue(r, 0, 1), "true");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name IN ($1, $2)", 2, p));
    it_expect_commit(e, 2, "delete");
    assert_false(it_cloud_has_bucket(e->emulator, a));
}

static void test_settings_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO bucket (name, policy) VALUES ('bad-policy', '[]')",
         "bucket_policy_an_object_with_statement"},
        {"INSERT INTO bucket (name, policy) VALUES ('bad-policy', '{\"Version\": \"2012-10-17\"}')",
         "bucket_policy_an_object_with_statement"},
        {"INSERT INTO bucket (name, versioning) VALUES ('bad-versioning', 'On')",
         "bucket_versioning_disabled_enabled_or_suspended"},
        {"INSERT INTO bucket (name, public_access_block) VALUES ('bad-pab', '{\"BlockPublicAcls\": "
         "true}')",
         "bucket_public_access_block_the_four_aws_flags"},
        {"INSERT INTO bucket (name, public_access_block) VALUES ('bad-pab', '" PAB(
             "true", "true", "true", "\"yes\"") "')",
         "bucket_public_access_block_the_four_aws_flags"},
        {"INSERT INTO bucket (name, public_access_block) VALUES ('bad-pab', '[true, true, true, "
         "true]')",
         "bucket_public_access_block_the_four_aws_flags"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_settings_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_s3 settings", tests, NULL, NULL);
}
