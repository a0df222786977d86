/* tests/integration/it_iam.c — module aws_iam end to end against
 * moto_server: a policy and a role that attaches it in one commit, an
 * inline policy, documents changed in place (a policy's through new default
 * versions, past IAM's limit of five), a role replaced on a new path,
 * delete, import of what was made outside, a role held by an instance
 * profile failing alone, and bad values refused at INSERT; users (renamed,
 * moved, policies and tags in place) and instance profiles (a role moved in
 * place, a new path a replace), a rollback to the first commit, import and
 * drift of both, and their reads under the poll rotation. */
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
    if (it_fixture(state, "iam", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_iam')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

#define ACCOUNT "123456789012"
#define Q(action) "Action=" action "&Version=2010-05-08"
#define TRUST                                                                                      \
    "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", "                       \
    "\"Principal\": {\"Service\": \"ec2.amazonaws.com\"}, \"Action\": \"sts:AssumeRole\"}]}"
#define DOC(action)                                                                                \
    "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", "                       \
    "\"Action\": \"" action "\", \"Resource\": \"*\"}]}"

/* One IAM call: the XML answer (copied), or NULL on an error status. */
static char *iam(it_env *e, const char *fmt, const char *arg)
{
    char form[2048];
    const char *out;
    snprintf(form, sizeof form, fmt, arg);
    long st = it_aws_query(e, "iam", form, &out);
    return st == 200 ? strdup(out) : NULL;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_policy_and_role_lifecycle(void **state)
{
    it_env *e = *state;
    char policy[64], role[64], arn[160];
    snprintf(policy, sizeof policy, "read-logs-%d", (int)getpid());
    snprintf(role, sizeof role, "app-%d", (int)getpid());
    snprintf(arn, sizeof arn, "arn:aws:iam::" ACCOUNT ":policy/%s", policy);
    const char *p[] = {policy, role, arn};
    assert_true(it_ok(e,
                      "INSERT INTO iam_policy (policy_name, description, policy_document, tags) "
                      "VALUES ($1, 'reads logs', '" DOC("logs:GetLogEvents") "', '{\"t\": \"1\"}')",
                      1, p));
    assert_true(it_ok(e,
                      "INSERT INTO iam_role (role_name, description, assume_role_policy_document, "
                      "attached_policy_arns, inline_policies, tags) VALUES ($1, 'the app', '" TRUST
                      "', "
                      "ARRAY[$2], '{\"s3\": " DOC("s3:GetObject") "}', '{\"team\": \"a\"}')",
                      2, p + 1));
    it_expect_commit(e, 2, "create");
    char *x = iam(e, Q("GetRole") "&RoleName=%s", role);
    assert_non_null(x);
    assert_non_null(strstr(x, "the app"));
    assert_non_null(strstr(x, "ec2.amazonaws.com"));
    free(x);
    x = iam(e, Q("ListAttachedRolePolicies") "&RoleName=%s", role);
    assert_non_null(strstr(x, policy));
    free(x);
    x = iam(e, Q("GetRolePolicy") "&RoleName=%s&PolicyName=s3", role);
    assert_non_null(x);
    assert_non_null(strstr(x, "GetObject"));
    free(x);
    const char *pa[] = {arn};
    PGresult *r = it_sql(e, "SELECT count(*) FROM iam_policy WHERE arn = $1", 1, pa);
    assert_string_equal(PQgetvalue(r, 0, 0), "1");
    PQclear(r);
    r = it_sql(e, "SELECT role_id IS NOT NULL, arn FROM iam_role WHERE role_name = $1", 1, p + 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    assert_non_null(strstr(PQgetvalue(r, 0, 1), ":role/"));
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* a policy document changes through new default versions: six changes
     * pass IAM's limit of five versions */
    static const char *const actions[] = {"logs:A", "logs:B", "logs:C",
                                          "logs:D", "logs:E", "logs:F"};
    for (int i = 0; i < 6; i++) {
        const char *u[] = {policy, actions[i]};
        assert_true(it_ok(e,
                          "UPDATE iam_policy SET policy_document = jsonb_set(policy_document, "
                          "'{Statement,0,Action}', to_jsonb($2::text)) WHERE policy_name = $1",
                          2, u));
        it_expect_commit(e, 1, "update");
    }
    x = iam(e, Q("ListPolicyVersions") "&PolicyArn=%s", arn);
    assert_int_equal(count(x, "<VersionId>"), 5);
    free(x);
    x = iam(e, Q("GetPolicy") "&PolicyArn=%s", arn);
    assert_non_null(strstr(x, "<DefaultVersionId>v7</DefaultVersionId>"));
    free(x);
    x = iam(e, Q("GetPolicyVersion") "&PolicyArn=%s&VersionId=v7", arn);
    assert_non_null(strstr(x, "logs:F") ? x : strstr(x, "logs%3AF"));
    free(x);

    /* a role changes in place: description, duration, trust, policies, tags */
    assert_true(it_ok(e,
                      "UPDATE iam_role SET description = 'changed', max_session_duration = 7200, "
                      "assume_role_policy_document = jsonb_set(assume_role_policy_document, "
                      "'{Statement,0,Principal,Service}', '\"lambda.amazonaws.com\"'), "
                      "attached_policy_arns = '{}', inline_policies = '{\"sqs\": " DOC(
                          "sqs:*") "}', "
                                   "tags = '{\"team\": \"b\"}' WHERE role_name = $1",
                      1, p + 1));
    it_expect_commit(e, 1, "update");
    x = iam(e, Q("GetRole") "&RoleName=%s", role);
    assert_non_null(strstr(x, "changed"));
    assert_non_null(strstr(x, "7200"));
    assert_non_null(strstr(x, "lambda.amazonaws.com"));
    free(x);
    x = iam(e, Q("ListAttachedRolePolicies") "&RoleName=%s", role);
    assert_null(strstr(x, policy));
    free(x);
    x = iam(e, Q("ListRolePolicies") "&RoleName=%s", role);
    assert_non_null(strstr(x, "<member>sqs</member>"));
    assert_null(strstr(x, "<member>s3</member>"));
    free(x);
    x = iam(e, Q("ListRoleTags") "&RoleName=%s", role);
    assert_non_null(strstr(x, "<Value>b</Value>"));
    free(x);

    /* a new path is a new role, with the same policies */
    assert_true(it_ok(e, "UPDATE iam_role SET path = '/svc/' WHERE role_name = $1", 1, p + 1));
    it_expect_commit(e, 1, "replace");
    x = iam(e, Q("GetRole") "&RoleName=%s", role);
    assert_non_null(strstr(x, "<Path>/svc/</Path>"));
    free(x);
    x = iam(e, Q("ListRolePolicies") "&RoleName=%s", role);
    assert_non_null(strstr(x, "<member>sqs</member>"));
    free(x);

    /* a policy's description cannot change in place: a replace */
    assert_true(it_ok(e,
                      "UPDATE iam_policy SET description = 'reads more logs' "
                      "WHERE policy_name = $1",
                      1, p));
    it_expect_commit(e, 1, "replace");
    x = iam(e, Q("GetPolicy") "&PolicyArn=%s", arn);
    assert_non_null(x);
    assert_non_null(strstr(x, "reads more logs"));
    assert_non_null(strstr(x, "<DefaultVersionId>v1</DefaultVersionId>"));
    free(x);
    x = iam(e, Q("GetPolicyVersion") "&PolicyArn=%s&VersionId=v1", arn);
    assert_non_null(strstr(x, "logs:F") ? x : strstr(x, "logs%3AF"));
    free(x);

    const char *d[] = {role, policy};
    assert_true(it_ok(e, "DELETE FROM iam_role WHERE role_name = $1", 1, d));
    assert_true(it_ok(e, "DELETE FROM iam_policy WHERE policy_name = $1", 1, d + 1));
    it_expect_commit(e, 2, "delete");
    x = iam(e, Q("GetRole") "&RoleName=%s", role);
    assert_null(x);
    x = iam(e, Q("GetPolicy") "&PolicyArn=%s", arn);
    assert_null(x);
}

static void test_import_and_conflict(void **state)
{
    it_env *e = *state;
    char role[64], policy[64], arn[160], form[2048];
    const char *out;
    snprintf(role, sizeof role, "outside-%d", (int)getpid());
    snprintf(policy, sizeof policy, "outside-policy-%d", (int)getpid());
    snprintf(arn, sizeof arn, "arn:aws:iam::" ACCOUNT ":policy/%s", policy);
    snprintf(
        form, sizeof form,
        Q("CreatePolicy") "&PolicyName=%s&PolicyDocument=%%7B%%22Version%%22%%3A%%222012-10-17%%22"
                          "%%2C%%22Statement%%22%%3A%%5B%%7B%%22Effect%%22%%3A%%22Allow%%22%%2C"
                          "%%22Action%%22%%3A%%22sqs%%3A%%2A%%22%%2C%%22Resource%%22%%3A%%22%%2A%%"
                          "22%%7D%%5D%%7D",
        policy);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    snprintf(
        form, sizeof form,
        Q("CreateRole") "&RoleName=%s&Description=by%%20hand&AssumeRolePolicyDocument="
                        "%%7B%%22Version%%22%%3A%%222012-10-17%%22%%2C%%22Statement%%22%%3A%%5B%%7B"
                        "%%22Effect%%22%%3A%%22Allow%%22%%2C%%22Principal%%22%%3A%%7B%%22Service%%"
                        "22"
                        "%%3A%%22ec2.amazonaws.com%%22%%7D%%2C%%22Action%%22%%3A%%22sts%%"
                        "3AAssumeRole"
                        "%%22%%7D%%5D%%7D&Tags.member.1.Key=by&Tags.member.1.Value=console",
        role);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    snprintf(form, sizeof form,
             Q("AttachRolePolicy") "&RoleName=%s&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3A" ACCOUNT
                                   "%%3Apolicy%%2F%s",
             role, policy);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_iam')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_iam')", 0, NULL));
    const char *p[] = {role, arn, policy};
    PGresult *r = it_sql(e,
                         "SELECT description, tags->>'by', attached_policy_arns = ARRAY[$2], "
                         "assume_role_policy_document #>> '{Statement,0,Principal,Service}' "
                         "FROM iam_role WHERE role_name = $1",
                         2, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "by hand");
    assert_string_equal(PQgetvalue(r, 0, 1), "console");
    assert_string_equal(PQgetvalue(r, 0, 2), "t");
    assert_string_equal(PQgetvalue(r, 0, 3), "ec2.amazonaws.com");
    PQclear(r);
    r = it_sql(e,
               "SELECT policy_document #>> '{Statement,0,Action}' FROM iam_policy "
               "WHERE policy_name = $1",
               1, p + 2);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "sqs:*");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* The role is in an instance profile made outside: deleting its row
     * fails that resource alone, naming why, and detaches nothing; a new
     * policy in the same commit still applies. */
    snprintf(form, sizeof form, Q("CreateInstanceProfile") "&InstanceProfileName=%s-profile", role);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    snprintf(form, sizeof form,
             Q("AddRoleToInstanceProfile") "&InstanceProfileName=%s-profile&RoleName=%s", role,
             role);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    char other[64];
    snprintf(other, sizeof other, "other-%d", (int)getpid());
    const char *o[] = {other};
    assert_true(it_ok(e, "DELETE FROM iam_role WHERE role_name = $1", 1, p));
    assert_true(it_ok(e,
                      "INSERT INTO iam_policy (policy_name, policy_document) VALUES ($1, '" DOC(
                          "sqs:SendMessage") "')",
                      1, o));
    r = it_sql(e, "SELECT action, description FROM iasql_commit() ORDER BY action", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 0), "create");
    assert_non_null(strstr(PQgetvalue(r, 0, 1), "created iam_policy"));
    assert_string_equal(PQgetvalue(r, 1, 0), "delete");
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "failed to delete iam_role"));
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "instance profile"));
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_get_errors()"), "1");
    char *x = iam(e, Q("ListAttachedRolePolicies") "&RoleName=%s", role);
    assert_non_null(x);
    assert_non_null(strstr(x, policy)); /* nothing was detached */
    free(x);
    /* out of the profile, the next commit finishes the delete */
    snprintf(form, sizeof form,
             Q("RemoveRoleFromInstanceProfile") "&InstanceProfileName=%s-profile&RoleName=%s", role,
             role);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    it_expect_commit(e, 1, "delete");
    assert_null(iam(e, Q("GetRole") "&RoleName=%s", role));
    assert_true(it_ok(e, "DELETE FROM iam_policy WHERE policy_name IN ($1, $2)", 2,
                      (const char *[]){policy, other}));
    it_expect_commit(e, 2, "delete");
    assert_null(iam(e, Q("GetPolicy") "&PolicyArn=%s", arn));
}

static void test_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO iam_policy (policy_name, policy_document) VALUES ('has space', '" DOC(
             "s3:*") "')",
         "iam_policy_name_1_to_128"},
        {"INSERT INTO iam_policy (policy_name, policy_document) VALUES (repeat('p', 129), '" DOC(
             "s3:*") "')",
         "iam_policy_name_1_to_128"},
        {"INSERT INTO iam_policy (policy_name, path, policy_document) VALUES ('p', 'svc', '" DOC(
             "s3:*") "')",
         "iam_policy_path_slash_or_between_slashes"},
        {"INSERT INTO iam_policy (policy_name, policy_document) VALUES ('p', '{\"Version\": "
         "\"2012-10-17\"}')",
         "iam_policy_document_an_object_with_statement"},
        {"INSERT INTO iam_policy (policy_name, policy_document) VALUES ('p', '[]')",
         "iam_policy_document_an_object_with_statement"},
        {"INSERT INTO iam_policy (policy_name, description, policy_document) VALUES ('p', "
         "repeat('d', 1001), '" DOC("s3:*") "')",
         "iam_policy_description_up_to_1000"},
        {"INSERT INTO iam_role (role_name, assume_role_policy_document) VALUES (repeat('r', 65), "
         "'" TRUST "')",
         "iam_role_name_1_to_64"},
        {"INSERT INTO iam_role (role_name, path, assume_role_policy_document) VALUES ('r', '/svc', "
         "'" TRUST "')",
         "iam_role_path_slash_or_between_slashes"},
        {"INSERT INTO iam_role (role_name, max_session_duration, assume_role_policy_document) "
         "VALUES ('r', 60, '" TRUST "')",
         "iam_role_max_session_duration_3600_to_43200"},
        {"INSERT INTO iam_role (role_name, assume_role_policy_document) VALUES ('r', '{}')",
         "iam_role_assume_role_policy_document_an_object_with_statement"},
        {"INSERT INTO iam_role (role_name, assume_role_policy_document, attached_policy_arns) "
         "VALUES ('r', '" TRUST "', ARRAY['read-logs'])",
         "iam_role_attached_policy_arns_are_policy_arns"},
        {"INSERT INTO iam_role (role_name, assume_role_policy_document, inline_policies) VALUES "
         "('r', '" TRUST "', '{\"bad name\": " DOC("s3:*") "}')",
         "iam_role_inline_policies_object_of_name_to_document"},
        {"INSERT INTO iam_role (role_name, assume_role_policy_document, inline_policies) VALUES "
         "('r', '" TRUST "', '{\"p\": \"s3:*\"}')",
         "iam_role_inline_policies_object_of_name_to_document"},
        {"INSERT INTO iam_role (role_name, assume_role_policy_document, tags) VALUES ('r', '" TRUST
         "', '{\"aws:x\": \"y\"}')",
         "iam_role_tags_up_to_50_strings"},
        {"INSERT INTO iam_role (role_name, assume_role_policy_document) VALUES ('r', '" TRUST
         "'), ('r', '" TRUST "')",
         "iam_role_name_unique"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
}

/* The poller's rotation for policies: a quiet poll of known policies costs
 * ListPolicies and the reads (GetPolicy, its default version, its tags) of
 * the policies whose turn it is, not two or three a policy; a tag added
 * outside is seen within the rotation, a policy new in the cloud in full
 * at once. */
static void test_policy_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 12 };
    assert_true(
        it_okf(e,
               "INSERT INTO iam_policy (policy_name, policy_document) "
               "SELECT 'rot-' || g || '-%d', '" DOC("s3:GetObject") "' "
                                                                    "FROM generate_series(1, %d) g",
               (int)getpid(), N));
    it_expect_commit(e, N, "create");
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    int n = atoi(it_value(e, "SELECT count(*) FROM iam_policy"));
    long all[4], rot[4], sum = 0;
    it_rotation_quiet(e, "iam_policy", "1", all);
    it_rotation_quiet(e, "iam_policy", "5", rot);
    for (int i = 0; i < 4; i++) {
        assert_true(all[i] >= 1 + 2 * n); /* a listing, two reads or more a policy */
        assert_true(rot[i] <= 1 + 3 * (n / 2));
        sum += rot[i] - 1;
    }
    assert_true(sum <= all[0] - 1 + 12); /* a rotation reads each one about once */
    assert_true(sum < 2 * (all[0] - 1));
    char name[64], made[64], form[1024];
    const char *out;
    snprintf(name, sizeof name, "rot-1-%d", (int)getpid());
    snprintf(made, sizeof made, "rot-made-%d", (int)getpid());
    snprintf(form, sizeof form,
             Q("TagPolicy") "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3A" ACCOUNT
                            "%%3Apolicy%%2F%s&Tags.member.1.Key=team&Tags.member.1.Value=ops",
             name);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    assert_true(it_eventually(
        e, "ops", "SELECT coalesce(tags->>'team', '') FROM iam_policy WHERE policy_name = '%s'",
        name));
    snprintf(form, sizeof form,
             Q("CreatePolicy") "&PolicyName=%s&Description=made&Tags.member.1.Key=by&"
                               "Tags.member.1.Value=hand&PolicyDocument=%%7B%%22Version%%22%%3A%%"
                               "222012-10-17%%22%%2C%%22Statement%%22%%3A%%5B%%7B%%22Effect%%22%%"
                               "3A%%22Allow%%22%%2C%%22Action%%22%%3A%%22sqs%%3A%%2A%%22%%2C%%"
                               "22Resource%%22%%3A%%22%%2A%%22%%7D%%5D%%7D",
             made);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    assert_true(
        it_eventually(e, "1", "SELECT count(*) FROM iam_policy WHERE policy_name = '%s'", made));
    assert_string_equal(it_valf(e,
                                "SELECT description || (tags->>'by') || "
                                "(policy_document #>> '{Statement,0,Action}') FROM iam_policy "
                                "WHERE policy_name = '%s'",
                                made),
                        "madehandsqs:*");
    print_message("policy rotation: %d policies, quiet polls %ld %ld %ld %ld requests in full, "
                  "%ld %ld %ld %ld with four slots\n",
                  n, all[0], all[1], all[2], all[3], rot[0], rot[1], rot[2], rot[3]);
    it_rotation_off(e);
    assert_true(
        it_okf(e, "DELETE FROM iam_policy WHERE policy_name LIKE 'rot-%%-%d'", (int)getpid()));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_string_equal(
        it_value(e, "SELECT count(*) FROM iam_policy WHERE policy_name LIKE 'rot-%'"), "0");
}

/* The value of <tag> in an IAM answer for the entity named arg, or "". */
static char *iam_field(it_env *e, const char *fmt, const char *arg, const char *tag)
{
    char *x = iam(e, fmt, arg);
    const char *v = x ? it_xml_text(x, tag) : NULL;
    char *out = strdup(v ? v : "");
    free(x);
    return out;
}

static void test_user_and_profile_lifecycle(void **state)
{
    it_env *e = *state;
    int pid = (int)getpid();
    char user[64], user2[64], prof[64], r1[64], r2[64], pol[64], parn[160];
    snprintf(user, sizeof user, "dev-%d", pid);
    snprintf(user2, sizeof user2, "ops.dev-%d", pid);
    snprintf(prof, sizeof prof, "web-%d", pid);
    snprintf(r1, sizeof r1, "web-a-%d", pid);
    snprintf(r2, sizeof r2, "web-b-%d", pid);
    snprintf(pol, sizeof pol, "user-read-%d", pid);
    snprintf(parn, sizeof parn, "arn:aws:iam::" ACCOUNT ":policy/%s", pol);
    const char *p[] = {pol, r1, r2, user, parn, prof, user2};
    assert_true(it_ok(e,
                      "INSERT INTO iam_policy (policy_name, policy_document) VALUES ($1, '" DOC(
                          "s3:GetObject") "')",
                      1, p));
    assert_true(it_ok(e,
                      "INSERT INTO iam_role (role_name, assume_role_policy_document) VALUES "
                      "($1, '" TRUST "'), ($2, '" TRUST "')",
                      2, p + 1));
    assert_true(it_ok(e,
                      "INSERT INTO iam_user (user_name, path, attached_policy_arns, tags) VALUES "
                      "($1, '/eng/', ARRAY[$2], '{\"team\": \"a\"}')",
                      2, p + 3));
    const char *pp[] = {prof, r1};
    assert_true(it_ok(e,
                      "INSERT INTO instance_profile (instance_profile_name, path, role, tags) "
                      "SELECT $1, '/app/', id, '{\"env\": \"dev\"}' FROM iam_role "
                      "WHERE role_name = $2",
                      2, pp));
    it_expect_commit(e, 5, "create");
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));

    /* The cloud has them as written; ids and ARNs came back. */
    char *x = iam(e, Q("GetUser") "&UserName=%s", user);
    assert_non_null(x);
    assert_string_equal(it_xml_text(x, "Path"), "/eng/");
    char *uid = strdup(it_xml_text(x, "UserId"));
    free(x);
    const char *u[] = {user};
    PGresult *r = it_sql(e, "SELECT user_id, arn FROM iam_user WHERE user_name = $1", 1, u);
    assert_string_equal(PQgetvalue(r, 0, 0), uid);
    assert_non_null(strstr(PQgetvalue(r, 0, 1), ":user/eng/dev-"));
    PQclear(r);
    x = iam(e, Q("ListAttachedUserPolicies") "&UserName=%s", user);
    assert_non_null(strstr(x, parn));
    free(x);
    x = iam(e, Q("ListUserTags") "&UserName=%s", user);
    assert_non_null(strstr(x, "<Key>team</Key>"));
    assert_non_null(strstr(x, "<Key>iasql:owner</Key>"));
    free(x);
    x = iam(e, Q("GetInstanceProfile") "&InstanceProfileName=%s", prof);
    assert_non_null(x);
    assert_string_equal(it_xml_text(x, "Path"), "/app/");
    assert_string_equal(it_xml_text(x, "RoleName"), r1);
    assert_non_null(strstr(x, "<Key>env</Key>"));
    free(x);
    const char *pr[] = {prof};
    r = it_sql(e,
               "SELECT arn LIKE '%:instance-profile/app/' || $1, instance_profile_id IS NOT NULL "
               "FROM instance_profile WHERE instance_profile_name = $1",
               1, pr);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* In place: a user renamed and moved, its policy detached, retagged;
     * the same user (its user_id) under its new name. */
    const char *ren[] = {user, user2};
    assert_true(it_ok(e,
                      "UPDATE iam_user SET user_name = $2, path = '/ops/', "
                      "attached_policy_arns = '{}', tags = '{\"team\": \"b\"}' "
                      "WHERE user_name = $1",
                      2, ren));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "update");
    it_expect_commit(e, 1, "update");
    assert_null(iam(e, Q("GetUser") "&UserName=%s", user));
    char *v = iam_field(e, Q("GetUser") "&UserName=%s", user2, "UserId");
    assert_string_equal(v, uid);
    free(v);
    v = iam_field(e, Q("GetUser") "&UserName=%s", user2, "Path");
    assert_string_equal(v, "/ops/");
    free(v);
    x = iam(e, Q("ListAttachedUserPolicies") "&UserName=%s", user2);
    assert_null(strstr(x, parn));
    free(x);
    x = iam(e, Q("ListUserTags") "&UserName=%s", user2);
    assert_non_null(strstr(x, "<Value>b</Value>"));
    assert_non_null(strstr(x, "<Key>iasql:owner</Key>"));
    free(x);
    r = it_sql(e, "SELECT user_id, arn FROM iam_user WHERE user_name = $1", 1, p + 6);
    assert_string_equal(PQgetvalue(r, 0, 0), uid);
    assert_non_null(strstr(PQgetvalue(r, 0, 1), ":user/ops/ops.dev-"));
    PQclear(r);

    /* The profile's role moves in place (the old one out first: a profile
     * holds one), retagged; a new path is a new profile. */
    const char *mv[] = {prof, r2};
    assert_true(it_ok(e,
                      "UPDATE instance_profile SET role = (SELECT id FROM iam_role WHERE "
                      "role_name = $2), tags = '{\"env\": \"prod\"}' "
                      "WHERE instance_profile_name = $1",
                      2, mv));
    it_expect_commit(e, 1, "update");
    x = iam(e, Q("GetInstanceProfile") "&InstanceProfileName=%s", prof);
    assert_int_equal(count(x, "<RoleName>"), 1);
    assert_string_equal(it_xml_text(x, "RoleName"), r2);
    assert_non_null(strstr(x, "<Value>prod</Value>"));
    free(x);
    assert_true(it_ok(
        e, "UPDATE instance_profile SET path = '/svc/' WHERE instance_profile_name = $1", 1, pr));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "replace");
    it_expect_commit(e, 1, "replace");
    x = iam(e, Q("GetInstanceProfile") "&InstanceProfileName=%s", prof);
    assert_string_equal(it_xml_text(x, "Path"), "/svc/");
    assert_string_equal(it_xml_text(x, "RoleName"), r2);
    free(x);

    /* A role a profile holds cannot go; the statement names why. */
    const char *msg = it_sql_error(e, "DELETE FROM iam_role WHERE role_name LIKE 'web-b-%'");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "instance_profile_role_exists"));

    /* Back to the first commit: the first name and path (the same user,
     * renamed back), its policy and tags; the profile on its first path
     * with its first role. */
    const char *f[] = {first};
    r = it_sql(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, f);
    assert_non_null(r);
    for (int i = 0; i < PQntuples(r); i++)
        if (strncmp(PQgetvalue(r, i, 3), "failed", 6) == 0)
            fail_msg("rollback: %s", PQgetvalue(r, i, 3));
    PQclear(r);
    assert_null(iam(e, Q("GetUser") "&UserName=%s", user2));
    v = iam_field(e, Q("GetUser") "&UserName=%s", user, "Path");
    assert_string_equal(v, "/eng/");
    free(v);
    x = iam(e, Q("ListAttachedUserPolicies") "&UserName=%s", user);
    assert_non_null(strstr(x, parn));
    free(x);
    x = iam(e, Q("ListUserTags") "&UserName=%s", user);
    assert_non_null(strstr(x, "<Value>a</Value>"));
    free(x);
    x = iam(e, Q("GetInstanceProfile") "&InstanceProfileName=%s", prof);
    assert_string_equal(it_xml_text(x, "Path"), "/app/");
    assert_string_equal(it_xml_text(x, "RoleName"), r1);
    assert_non_null(strstr(x, "<Value>dev</Value>"));
    free(x);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* Everything deleted in one commit: the profile before its role, the
     * user (its policy detached) before the policy. */
    assert_true(it_ok(e, "DELETE FROM instance_profile WHERE instance_profile_name = $1", 1, pr));
    assert_true(it_ok(e, "DELETE FROM iam_user WHERE user_name = $1", 1, u));
    assert_true(
        it_ok(e, "DELETE FROM iam_role WHERE role_name IN ($1, $2)", 2, (const char *[]){r1, r2}));
    assert_true(it_ok(e, "DELETE FROM iam_policy WHERE policy_name = $1", 1, p));
    it_expect_commit(e, 5, "delete");
    assert_null(iam(e, Q("GetUser") "&UserName=%s", user));
    assert_null(iam(e, Q("GetInstanceProfile") "&InstanceProfileName=%s", prof));
    assert_null(iam(e, Q("GetRole") "&RoleName=%s", r1));
    free(uid);
    free(first);
}

/* A user and a profile made in the console come in with iasql_sync(),
 * their role and policy with them; a rename, a role taken out and a delete
 * there follow. */
static void test_user_and_profile_import_and_drift(void **state)
{
    it_env *e = *state;
    int pid = (int)getpid();
    char user[64], user2[64], prof[64], role[64], pol[64], form[2048];
    const char *out;
    snprintf(user, sizeof user, "console-%d", pid);
    snprintf(user2, sizeof user2, "console2-%d", pid);
    snprintf(prof, sizeof prof, "console-prof-%d", pid);
    snprintf(role, sizeof role, "console-role-%d", pid);
    snprintf(pol, sizeof pol, "console-pol-%d", pid);
    snprintf(
        form, sizeof form,
        Q("CreatePolicy") "&PolicyName=%s&PolicyDocument=%%7B%%22Version%%22%%3A%%222012-10-"
                          "17%%22%%2C%%22Statement%%22%%3A%%5B%%7B%%22Effect%%22%%3A%%22Allow%%"
                          "22%%2C%%22Action%%22%%3A%%22sqs%%3A%%2A%%22%%2C%%22Resource%%22%%3A%%"
                          "22%%2A%%22%%7D%%5D%%7D",
        pol);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    snprintf(form, sizeof form,
             Q("CreateRole") "&RoleName=%s&AssumeRolePolicyDocument=%%7B%%22Version%%22%%3A%%22"
                             "2012-10-17%%22%%2C%%22Statement%%22%%3A%%5B%%5D%%7D",
             role);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    snprintf(form, sizeof form,
             Q("CreateUser") "&UserName=%s&Path=%%2Fext%%2F&Tags.member.1.Key=by&"
                             "Tags.member.1.Value=console",
             user);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    snprintf(form, sizeof form,
             Q("AttachUserPolicy") "&UserName=%s&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3A" ACCOUNT
                                   "%%3Apolicy%%2F%s",
             user, pol);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    snprintf(form, sizeof form,
             Q("CreateInstanceProfile") "&InstanceProfileName=%s&Tags.member.1.Key=by&"
                                        "Tags.member.1.Value=console",
             prof);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    snprintf(form, sizeof form, Q("AddRoleToInstanceProfile") "&InstanceProfileName=%s&RoleName=%s",
             prof, role);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    /* AWS holds one role per profile, and so does moto */
    snprintf(form, sizeof form, Q("AddRoleToInstanceProfile") "&InstanceProfileName=%s&RoleName=%s",
             prof, role);
    assert_int_not_equal(it_aws_query(e, "iam", form, &out), 200);

    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    const char *p[] = {user, prof, role, pol, user2};
    PGresult *r = it_sql(e,
                         "SELECT path, tags->>'by', attached_policy_arns[1] LIKE '%:policy/' || "
                         "$2, user_id IS NOT NULL, id FROM iam_user WHERE user_name = $1",
                         2, (const char *[]){user, pol});
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "/ext/");
    assert_string_equal(PQgetvalue(r, 0, 1), "console");
    assert_string_equal(PQgetvalue(r, 0, 2), "t");
    assert_string_equal(PQgetvalue(r, 0, 3), "t");
    char *row_id = strdup(PQgetvalue(r, 0, 4));
    PQclear(r);
    r = it_sql(e,
               "SELECT ro.role_name, ip.tags->>'by' FROM instance_profile ip "
               "JOIN iam_role ro ON ro.id = ip.role WHERE ip.instance_profile_name = $1",
               1, p + 1);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), role);
    assert_string_equal(PQgetvalue(r, 0, 1), "console");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* Drift: renamed, its role taken out, in the console. */
    snprintf(form, sizeof form, Q("UpdateUser") "&UserName=%s&NewUserName=%s", user, user2);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    snprintf(form, sizeof form,
             Q("RemoveRoleFromInstanceProfile") "&InstanceProfileName=%s&RoleName=%s", prof, role);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    r = it_sql(e, "SELECT id FROM iam_user WHERE user_name = $1", 1, p + 4);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), row_id); /* the same row: the same user */
    PQclear(r);
    assert_string_equal(
        it_valf(e, "SELECT role IS NULL FROM instance_profile WHERE instance_profile_name = '%s'",
                prof),
        "t");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* Deleted in the console: the rows go. */
    snprintf(form, sizeof form, Q("DeleteInstanceProfile") "&InstanceProfileName=%s", prof);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    snprintf(form, sizeof form,
             Q("DetachUserPolicy") "&UserName=%s&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3A" ACCOUNT
                                   "%%3Apolicy%%2F%s",
             user2, pol);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    snprintf(form, sizeof form, Q("DeleteUser") "&UserName=%s", user2);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM iam_user WHERE user_name IN ('%s', '%s')", user, user2),
        "0");
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM instance_profile WHERE instance_profile_name = '%s'",
                prof),
        "0");
    assert_true(it_ok(e, "DELETE FROM iam_role WHERE role_name = $1", 1, p + 2));
    assert_true(it_ok(e, "DELETE FROM iam_policy WHERE policy_name = $1", 1, p + 3));
    it_expect_commit(e, 2, "delete");
    free(row_id);
}

static void test_user_and_profile_bad_input(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e,
                      "INSERT INTO iam_role (role_name, assume_role_policy_document) VALUES "
                      "('bad-input-role', '" TRUST "')",
                      0, NULL));
    static const it_reject cases[] = {
        {"INSERT INTO iam_user (user_name) VALUES ('has space')",
         "iam_user_name_1_to_64_letters_digits_and_iam_symbols"},
        {"INSERT INTO iam_user (user_name) VALUES ('team/alice')",
         "iam_user_name_1_to_64_letters_digits_and_iam_symbols"},
        {"INSERT INTO iam_user (user_name) VALUES ('al!ce')",
         "iam_user_name_1_to_64_letters_digits_and_iam_symbols"},
        {"INSERT INTO iam_user (user_name) VALUES (repeat('u', 65))",
         "iam_user_name_1_to_64_letters_digits_and_iam_symbols"},
        {"INSERT INTO iam_user (user_name) VALUES ('')",
         "iam_user_name_1_to_64_letters_digits_and_iam_symbols"},
        {"INSERT INTO iam_user (user_name, path) VALUES ('u', 'eng')",
         "iam_user_path_slash_or_between_slashes_up_to_512"},
        {"INSERT INTO iam_user (user_name, path) VALUES ('u', '/eng')",
         "iam_user_path_slash_or_between_slashes_up_to_512"},
        {"INSERT INTO iam_user (user_name, attached_policy_arns) VALUES ('u', "
         "ARRAY['ReadOnlyAccess'])",
         "iam_user_attached_policy_arns_are_policy_arns_at_most_20"},
        {"INSERT INTO iam_user (user_name, attached_policy_arns) VALUES ('u', "
         "ARRAY(SELECT 'arn:aws:iam::aws:policy/P' || g FROM generate_series(1, 21) g))",
         "iam_user_attached_policy_arns_are_policy_arns_at_most_20"},
        {"INSERT INTO iam_user (user_name, tags) VALUES ('u', '{\"iasql:owner\": \"x\"}')",
         "iam_user_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {"INSERT INTO iam_user (user_name) VALUES ('twice'), ('twice')", "iam_user_name_unique"},
        {"INSERT INTO instance_profile (instance_profile_name) VALUES ('my profile')",
         "instance_profile_name_1_to_128_letters_digits_and_iam_symbols"},
        {"INSERT INTO instance_profile (instance_profile_name) VALUES (repeat('p', 129))",
         "instance_profile_name_1_to_128_letters_digits_and_iam_symbols"},
        {"INSERT INTO instance_profile (instance_profile_name, path) VALUES ('p', '//')",
         "instance_profile_path_slash_or_between_slashes_up_to_512"},
        {"INSERT INTO instance_profile (instance_profile_name, role) VALUES ('p', 1)",
         "instance_profile_role_exists"},
        /* a profile holds one role: the column takes one */
        {"INSERT INTO instance_profile (instance_profile_name, role) SELECT 'p', "
         "ARRAY[id, id] FROM iam_role WHERE role_name = 'bad-input-role'",
         "column \"role\" is of type bigint"},
        {"INSERT INTO instance_profile (instance_profile_name) VALUES ('p2'), ('p2')",
         "instance_profile_name_unique"},
        {"INSERT INTO instance_profile (instance_profile_name, tags) VALUES ('p', "
         "'{\"aws:k\": \"v\"}')",
         "instance_profile_tags_up_to_50_strings_no_aws_or_iasql_keys"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
}

/* The rotation for users and profiles: a quiet poll of known ones costs
 * their listings and the reads (GetUser and ListAttachedUserPolicies, or
 * GetInstanceProfile) of those whose turn it is; a tag added outside is
 * seen within the rotation. */
static void test_user_and_profile_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 12 };
    int pid = (int)getpid();
    assert_true(it_okf(e,
                       "INSERT INTO iam_user (user_name, tags) SELECT 'rot-' || g || '-%d', "
                       "'{\"n\": \"1\"}' FROM generate_series(1, %d) g",
                       pid, N));
    assert_true(it_okf(e,
                       "INSERT INTO instance_profile (instance_profile_name) SELECT 'rot-' || g || "
                       "'-%d' FROM generate_series(1, %d) g",
                       pid, N));
    it_expect_commit(e, 2 * N, "create");
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    int nu = atoi(it_value(e, "SELECT count(*) FROM iam_user"));
    int np = atoi(it_value(e, "SELECT count(*) FROM instance_profile"));
    long uall[4], urot[4], pall[4], prot[4], usum = 0, psum = 0;
    it_rotation_quiet(e, "iam_user", "1", uall);
    it_rotation_quiet(e, "iam_user", "5", urot);
    it_rotation_quiet(e, "instance_profile", "1", pall);
    it_rotation_quiet(e, "instance_profile", "5", prot);
    for (int i = 0; i < 4; i++) {
        assert_true(uall[i] >= 1 + 2 * nu); /* a listing, two reads a user */
        assert_true(pall[i] >= 1 + np);     /* a listing, a read a profile */
        assert_true(urot[i] <= 1 + 2 * ((3 * nu) / 4));
        assert_true(prot[i] <= 1 + (3 * np) / 4);
        usum += urot[i] - 1;
        psum += prot[i] - 1;
    }
    assert_true(usum <= uall[0] - 1 + 12); /* a rotation reads each about once */
    assert_true(psum <= pall[0] - 1 + 6);
    char form[1024];
    const char *out;
    snprintf(form, sizeof form,
             Q("TagUser") "&UserName=rot-1-%d&Tags.member.1.Key=team&Tags.member.1.Value=ops", pid);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    snprintf(form, sizeof form,
             Q("TagInstanceProfile") "&InstanceProfileName=rot-1-%d&Tags.member.1.Key=team&"
                                     "Tags.member.1.Value=ops",
             pid);
    assert_int_equal(it_aws_query(e, "iam", form, &out), 200);
    assert_true(it_eventually(
        e, "ops", "SELECT coalesce(tags->>'team', '') FROM iam_user WHERE user_name = 'rot-1-%d'",
        pid));
    assert_true(it_eventually(e, "ops",
                              "SELECT coalesce(tags->>'team', '') FROM instance_profile WHERE "
                              "instance_profile_name = 'rot-1-%d'",
                              pid));
    print_message("user rotation: %d users, quiet polls %ld %ld %ld %ld requests in full, %ld %ld "
                  "%ld %ld with four slots\n",
                  nu, uall[0], uall[1], uall[2], uall[3], urot[0], urot[1], urot[2], urot[3]);
    print_message("profile rotation: %d profiles, quiet polls %ld %ld %ld %ld requests in full, "
                  "%ld %ld %ld %ld with four slots\n",
                  np, pall[0], pall[1], pall[2], pall[3], prot[0], prot[1], prot[2], prot[3]);
    it_rotation_off(e);
    assert_true(it_okf(e, "DELETE FROM iam_user WHERE user_name LIKE 'rot-%%-%d'", pid));
    assert_true(it_okf(
        e, "DELETE FROM instance_profile WHERE instance_profile_name LIKE 'rot-%%-%d'", pid));
    it_expect_commit(e, 2 * N, "delete");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_policy_and_role_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_and_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_and_profile_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_and_profile_import_and_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_and_profile_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_and_profile_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_iam", tests, NULL, NULL);
}
