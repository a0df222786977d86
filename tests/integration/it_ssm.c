/* tests/integration/it_ssm.c — module aws_ssm (parameter) end to end
 * against moto_server: String, StringList and SecureString parameters
 * created, updated in place, replaced on a type change, deleted and
 * imported; bad values refused at INSERT; and a SecureString's cleartext
 * never in the table, the audit log, the journal, the engine's log or a
 * pg_dump once committed, while the cloud holds it. */
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
    if (it_fixture(state, "ssm", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_ssm')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

static json_t *ssm(it_env *e, const char *op, json_t *body, long *status)
{
    char target[64];
    snprintf(target, sizeof target, "AmazonSSM.%s", op);
    return it_aws_json(e, "ssm", "1.1", target, body, status);
}

/* The parameter as the cloud holds it (decrypted), or NULL. */
static json_t *cloud_param(it_env *e, const char *name)
{
    long st;
    json_t *r =
        ssm(e, "GetParameter", json_pack("{s:s, s:b}", "Name", name, "WithDecryption", 1), &st);
    json_t *p = st == 200 ? json_incref(json_object_get(r, "Parameter")) : NULL;
    json_decref(r);
    return p;
}

/* The parameter's description, as DescribeParameters gives it ("" if none). */
static const char *cloud_description(it_env *e, const char *name)
{
    static char out[1100];
    json_t *r = ssm(e, "DescribeParameters",
                    json_pack("{s:[{s:s, s:s, s:[s]}]}", "ParameterFilters", "Key", "Name",
                              "Option", "Equals", "Values", name),
                    NULL);
    const char *d = json_string_value(
        json_object_get(json_array_get(json_object_get(r, "Parameters"), 0), "Description"));
    snprintf(out, sizeof out, "%s", d ? d : "");
    json_decref(r);
    return out;
}

static const char *field(const json_t *p, const char *name)
{
    return json_string_value(json_object_get(p, name));
}

static void test_parameter_lifecycle(void **state)
{
    it_env *e = *state;
    char plain[64], list[64], secret[64];
    snprintf(plain, sizeof plain, "/app/%d/url", (int)getpid());
    snprintf(list, sizeof list, "/app/%d/hosts", (int)getpid());
    snprintf(secret, sizeof secret, "/app/%d/password", (int)getpid());
    const char *p[] = {plain, list, secret, "s3cr3t-Vx9Kq2-first", "s3cr3t-Zt7Wp4-second"};
    assert_true(it_ok(e,
                      "INSERT INTO parameter (name, value, description, tags) "
                      "VALUES ($1, 'https://a.example', 'where', '{\"team\": \"a\"}')",
                      1, p));
    assert_true(it_ok(
        e, "INSERT INTO parameter (name, type, value) VALUES ($1, 'StringList', 'a,b')", 1, p + 1));
    const char *sp[] = {secret, p[3]};
    assert_true(it_ok(
        e, "INSERT INTO parameter (name, type, value) VALUES ($1, 'SecureString', $2)", 2, sp));
    /* the row never shows the secret */
    PGresult *r = it_sql(e, "SELECT iasql_is_mask(value) FROM parameter WHERE name = $1", 1, p + 2);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    it_expect_commit(e, 3, "create");
    json_t *c = cloud_param(e, plain);
    assert_non_null(c);
    assert_string_equal(field(c, "Value"), "https://a.example");
    json_decref(c);
    c = cloud_param(e, list);
    assert_string_equal(field(c, "Type"), "StringList");
    assert_string_equal(field(c, "Value"), "a,b");
    json_decref(c);
    c = cloud_param(e, secret);
    assert_string_equal(field(c, "Type"), "SecureString");
    assert_string_equal(field(c, "Value"), p[3]);
    json_decref(c);
    r = it_sql(e, "SELECT count(*) FROM parameter WHERE version = 1 AND name IN ($1, $2, $3)", 3,
               p);
    assert_string_equal(PQgetvalue(r, 0, 0), "3");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* in place: a value, a description, tags; a new secret */
    assert_true(it_ok(e,
                      "UPDATE parameter SET value = 'https://b.example', description = NULL, "
                      "tags = '{\"team\": \"b\"}' WHERE name = $1",
                      1, p));
    const char *sp2[] = {secret, p[4]};
    assert_true(it_ok(e, "UPDATE parameter SET value = $2 WHERE name = $1", 2, sp2));
    it_expect_commit(e, 2, "update");
    c = cloud_param(e, plain);
    assert_string_equal(field(c, "Value"), "https://b.example");
    assert_int_equal(json_integer_value(json_object_get(c, "Version")), 2);
    json_decref(c);
    c = cloud_param(e, secret);
    assert_string_equal(field(c, "Value"), p[4]);
    json_decref(c);
    /* a description change keeps the secret the cloud holds */
    assert_true(
        it_ok(e, "UPDATE parameter SET description = 'db password' WHERE name = $1", 1, p + 2));
    it_expect_commit(e, 1, "update");
    c = cloud_param(e, secret);
    assert_string_equal(field(c, "Value"), p[4]);
    assert_string_equal(cloud_description(e, secret), "db password");
    json_decref(c);

    /* nowhere in clear: table, audit log, journal, log, dump, stash */
    assert_string_equal(it_admin_value(e, "SELECT count(*) FROM iasql_secret"), "0");
    assert_int_equal(it_leaks(e, "s3cr3t-"), 0);
    assert_true(it_leaks(e, "https://b.example") > 0); /* the search does see plain values */

    /* a type change is a replace */
    assert_true(
        it_ok(e, "UPDATE parameter SET type = 'String', value = 'x,y' WHERE name = $1", 1, p + 1));
    it_expect_commit(e, 1, "replace");
    c = cloud_param(e, list);
    assert_string_equal(field(c, "Type"), "String");
    json_decref(c);

    assert_true(it_ok(e, "DELETE FROM parameter WHERE name IN ($1, $2, $3)", 3, p));
    it_expect_commit(e, 3, "delete");
    assert_null(cloud_param(e, plain));
    assert_null(cloud_param(e, list));
    assert_null(cloud_param(e, secret));
}

static void test_parameter_import(void **state)
{
    it_env *e = *state;
    char name[64], hidden[64];
    snprintf(name, sizeof name, "made-outside-%d", (int)getpid());
    snprintf(hidden, sizeof hidden, "hidden-outside-%d", (int)getpid());
    json_decref(
        ssm(e, "PutParameter",
            json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s}]}", "Name", name, "Value", "v1", "Type",
                      "String", "Description", "by hand", "Tags", "Key", "by", "Value", "console"),
            NULL));
    json_decref(ssm(e, "PutParameter",
                    json_pack("{s:s, s:s, s:s}", "Name", hidden, "Value", "outside-Qm3Rt8", "Type",
                              "SecureString"),
                    NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_ssm')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_ssm')", 0, NULL));
    const char *p[] = {name, hidden};
    PGresult *r = it_sql(e,
                         "SELECT value, description, tags->>'by', version FROM parameter "
                         "WHERE name = $1",
                         1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "v1");
    assert_string_equal(PQgetvalue(r, 0, 1), "by hand");
    assert_string_equal(PQgetvalue(r, 0, 2), "console");
    assert_string_equal(PQgetvalue(r, 0, 3), "1");
    PQclear(r);
    /* an imported SecureString shows a mask, never its value */
    r = it_sql(e, "SELECT iasql_is_mask(value) FROM parameter WHERE name = $1", 1, p + 1);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    assert_int_equal(it_leaks(e, "outside-Qm3Rt8"), 0);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* its description changes without the engine ever holding the value in the database */
    assert_true(
        it_ok(e, "UPDATE parameter SET description = 'rotated by hand' WHERE name = $1", 1, p + 1));
    it_expect_commit(e, 1, "update");
    json_t *c = cloud_param(e, hidden);
    assert_string_equal(field(c, "Value"), "outside-Qm3Rt8");
    json_decref(c);
    assert_true(it_ok(e, "DELETE FROM parameter WHERE name IN ($1, $2)", 2, p));
    it_expect_commit(e, 2, "delete");
    assert_null(cloud_param(e, name));
}

/* A user cannot read a pending secret, nor send a mask as a value. */
static void test_secret_stays_hidden(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e,
                      "INSERT INTO parameter (name, type, value) "
                      "VALUES ('pending-' || pg_backend_pid(), 'SecureString', 'pending-Hh4Jk7')",
                      0, NULL));
    const char *msg = it_sql_error(e, "SELECT * FROM iasql_secret");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "permission denied"));
    /* a mask copied from another row is not a value the engine can send */
    assert_true(it_ok(e,
                      "INSERT INTO parameter (name, type, value) "
                      "SELECT 'copied-' || pg_backend_pid(), 'SecureString', 'iasql-secret:v1'",
                      0, NULL));
    PGresult *r =
        it_sql(e, "SELECT action, description FROM iasql_commit() ORDER BY description", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    assert_non_null(strstr(PQgetvalue(r, 0, 1), "created parameter"));
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "failed to create parameter"));
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "name=copied-"));
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "set value again"));
    PQclear(r);
    json_t *c = cloud_param(e, it_value(e, "SELECT 'pending-' || pg_backend_pid()"));
    assert_string_equal(field(c, "Value"), "pending-Hh4Jk7");
    json_decref(c);
    /* the copied row's fix: a real value */
    assert_true(it_ok(
        e, "UPDATE parameter SET value = 'fixed-Mn2Bv5' WHERE name = 'copied-' || pg_backend_pid()",
        0, NULL));
    it_expect_commit(e, 1, "create");
    assert_int_equal(it_leaks(e, "pending-Hh4Jk7"), 0);
    assert_int_equal(it_leaks(e, "fixed-Mn2Bv5"), 0);
    /* a secret set and deleted before any commit leaves nothing behind */
    assert_true(it_ok(e,
                      "INSERT INTO parameter (name, type, value) "
                      "VALUES ('brief-' || pg_backend_pid(), 'SecureString', 'brief-Lp0Oi9')",
                      0, NULL));
    assert_string_equal(it_admin_value(e, "SELECT count(*) FROM iasql_secret"), "1");
    assert_true(
        it_ok(e, "DELETE FROM parameter WHERE name = 'brief-' || pg_backend_pid()", 0, NULL));
    assert_string_equal(it_admin_value(e, "SELECT count(*) FROM iasql_secret"), "0");
    assert_true(it_ok(e,
                      "DELETE FROM parameter WHERE name IN ('pending-' || pg_backend_pid(), "
                      "'copied-' || pg_backend_pid())",
                      0, NULL));
    it_expect_commit(e, 2, "delete");
}

/* The poller's rotation: a quiet poll of known parameters costs
 * DescribeParameters' pages, a page of the tagging API and the values of
 * the parameters whose turn it is, not a ListTagsForResource a parameter
 * and a GetParameters per ten; a tag or a description changed outside is
 * seen at the next poll, a value (and its version) within the rotation, a
 * parameter new in the cloud in full at once. */
static void test_parameter_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 20 };
    assert_true(it_okf(e,
                       "INSERT INTO parameter (name, value) "
                       "SELECT '/rot/%d/' || g, 'v' || g FROM generate_series(1, %d) g",
                       (int)getpid(), N));
    it_expect_commit(e, N, "create");
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    int n = atoi(it_value(e, "SELECT count(*) FROM parameter"));
    long all[4], rot[4];
    it_rotation_quiet(e, "parameter", "1", all);
    it_rotation_quiet(e, "parameter", "5", rot);
    int batches = (n + 9) / 10;
    print_message("parameter rotation: %d parameters, quiet polls %ld %ld %ld %ld requests in "
                  "full, %ld %ld %ld %ld with four slots\n",
                  n, all[0], all[1], all[2], all[3], rot[0], rot[1], rot[2], rot[3]);
    for (int i = 0; i < 4; i++) {
        /* the pages, a GetParameters per ten, a ListTagsForResource a parameter */
        long pages = all[i] - batches - n;
        assert_true(pages >= 1 && pages <= 1 + n / 10);
        /* the pages, a tagging page, a GetParameters a page at most (a quarter) */
        assert_true(rot[i] <= 2 * pages + 1);
    }
    char name[64], made[64];
    snprintf(name, sizeof name, "/rot/%d/1", (int)getpid());
    snprintf(made, sizeof made, "/rot/%d/made", (int)getpid());
    json_decref(ssm(e, "AddTagsToResource",
                    json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "ResourceType", "Parameter",
                              "ResourceId", name, "Tags", "Key", "team", "Value", "ops"),
                    NULL));
    assert_true(it_eventually(
        e, "ops", "SELECT coalesce(tags->>'team', '') FROM parameter WHERE name = '%s'", name));
    json_decref(ssm(e, "PutParameter",
                    json_pack("{s:s, s:s, s:s, s:b}", "Name", name, "Value", "changed", "Type",
                              "String", "Overwrite", 1),
                    NULL));
    assert_true(it_eventually(
        e, "changed 2", "SELECT value || ' ' || version FROM parameter WHERE name = '%s'", name));
    json_decref(ssm(e, "PutParameter",
                    json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s}]}", "Name", made, "Value",
                              "fresh", "Type", "String", "Description", "by hand", "Tags", "Key",
                              "by", "Value", "hand"),
                    NULL));
    assert_true(it_eventually(e, "1", "SELECT count(*) FROM parameter WHERE name = '%s'", made));
    assert_string_equal(it_valf(e,
                                "SELECT value || description || (tags->>'by') || version "
                                "FROM parameter WHERE name = '%s'",
                                made),
                        "freshby handhand1");
    it_rotation_off(e);
    assert_true(it_okf(e, "DELETE FROM parameter WHERE name LIKE '/rot/%d/%%'", (int)getpid()));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM parameter WHERE name LIKE '/rot/%'"),
                        "0");
}

static void test_parameter_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO parameter (name, value) VALUES ('has space', 'v')",
         "parameter_name_1_to_2048_letters_digits"},
        {"INSERT INTO parameter (name, value) VALUES (repeat('p', 2049), 'v')",
         "parameter_name_1_to_2048_letters_digits"},
        {"INSERT INTO parameter (name, value) VALUES ('aws-thing', 'v')",
         "parameter_name_not_starting_with_aws_or_ssm"},
        {"INSERT INTO parameter (name, value) VALUES ('/SSM/thing', 'v')",
         "parameter_name_not_starting_with_aws_or_ssm"},
        {"INSERT INTO parameter (name, value) VALUES ('a/b', 'v')",
         "parameter_name_with_slash_starts_with_slash"},
        {"INSERT INTO parameter (name, value) VALUES ('/a/', 'v')",
         "parameter_name_with_slash_starts_with_slash"},
        {"INSERT INTO parameter (name, value) VALUES ('/' || repeat('a/', 16) || 'z', 'v')",
         "parameter_name_with_slash_starts_with_slash"},
        {"INSERT INTO parameter (name, type, value) VALUES ('p', 'Secret', 'v')",
         "parameter_type_string_stringlist_or_securestring"},
        {"INSERT INTO parameter (name, value) VALUES ('p', '')",
         "parameter_value_1_to_4096_characters"},
        {"INSERT INTO parameter (name, value) VALUES ('p', repeat('v', 4097))",
         "parameter_value_1_to_4096_characters"},
        {"INSERT INTO parameter (name, type, value) VALUES ('p', 'StringList', 'a,,b')",
         "parameter_value_of_a_stringlist_has_no_empty_item"},
        {"INSERT INTO parameter (name, value) VALUES ('p', 'iasql-secret:v1')",
         "parameter_value_set_anew_when_type_leaves_securestring"},
        {"INSERT INTO parameter (name, value, description) VALUES ('p', 'v', repeat('d', 1025))",
         "parameter_description_up_to_1024_characters"},
        {"INSERT INTO parameter (name, value, tags) VALUES ('p', 'v', '{\"aws:x\": \"y\"}')",
         "parameter_tags_up_to_50_strings"},
        {"INSERT INTO parameter (name, value) VALUES ('dup', 'v'), ('dup', 'w')",
         "parameter_name_unique_in_region"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    /* a secret turned into a plain String must be given a value */
    assert_true(
        it_ok(e, "INSERT INTO parameter (name, type, value) VALUES ('t', 'SecureString', 'x-Yy6')",
              0, NULL));
    const char *msg = it_sql_error(e, "UPDATE parameter SET type = 'String' WHERE name = 't'");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "parameter_value_set_anew_when_type_leaves_securestring"));
    assert_true(it_ok(e, "DELETE FROM parameter", 0, NULL));
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parameter_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parameter_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_stays_hidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parameter_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parameter_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_ssm", tests, NULL, NULL);
}
