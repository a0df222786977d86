/* tests/integration/it_ecr.c — module aws_ecr (repository) end to end
 * against moto_server: create with policies and tags, update in place,
 * replace (a new name, a new encryption), delete, import of a repository
 * made outside, drift brought back by a sync, a rollback to the first
 * commit, and bad input refused at INSERT. The cloud is read with plain
 * JSON-protocol HTTP, not through the engine's client. */
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

#define LIFECYCLE                                                                                  \
    "{\"rules\": [{\"rulePriority\": 1, \"description\": \"expire untagged images after 14 "       \
    "days\", "                                                                                     \
    "\"selection\": {\"tagStatus\": \"untagged\", \"countType\": \"sinceImagePushed\", "           \
    "\"countUnit\": \"days\", \"countNumber\": 14}, \"action\": {\"type\": \"expire\"}}]}"
#define POLICY                                                                                     \
    "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"pull\", \"Effect\": \"Allow\", "    \
    "\"Principal\": {\"AWS\": \"arn:aws:iam::123456789012:root\"}, \"Action\": "                   \
    "[\"ecr:BatchGetImage\", \"ecr:GetDownloadUrlForLayer\"]}]}"

static int setup(void **state)
{
    if (it_fixture(state, "ecr", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_ecr')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

/* One ECR call straight to the emulator: the decoded answer, and its status. */
static json_t *ecr(it_env *e, const char *op, json_t *body, long *status)
{
    char target[96];
    snprintf(target, sizeof target, "AmazonEC2ContainerRegistry_V20150921.%s", op);
    long st;
    json_t *j = it_aws_json(e, "ecr", "1.1", target, body, &st);
    if (status)
        *status = st;
    else if (st != 200)
        fail_msg("%s: HTTP %ld", op, st);
    return j;
}

/* The repository as ECR describes it, or NULL when there is none. */
static json_t *cloud_repo(it_env *e, const char *name)
{
    long st;
    json_t *r = ecr(e, "DescribeRepositories", json_pack("{s:[s]}", "repositoryNames", name), &st);
    json_t *repo =
        st == 200 ? json_incref(json_array_get(json_object_get(r, "repositories"), 0)) : NULL;
    json_decref(r);
    return repo;
}

static json_t *cloud_tags(it_env *e, const char *arn)
{
    json_t *r = ecr(e, "ListTagsForResource", json_pack("{s:s}", "resourceArn", arn), NULL);
    json_t *t = json_incref(json_object_get(r, "tags"));
    json_decref(r);
    return t;
}

/* A policy as ECR holds it (parsed), or NULL when there is none. */
static json_t *cloud_policy(it_env *e, const char *op, const char *member, const char *name)
{
    long st;
    json_t *r = ecr(e, op, json_pack("{s:s}", "repositoryName", name), &st);
    const char *text = st == 200 ? json_string_value(json_object_get(r, member)) : NULL;
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    json_decref(r);
    return doc;
}

static void test_repository_lifecycle(void **state)
{
    it_env *e = *state;
    char name[64], renamed[64];
    snprintf(name, sizeof name, "team/app-%d", (int)getpid());
    snprintf(renamed, sizeof renamed, "team/app-%d-b", (int)getpid());
    const char *p[] = {name, LIFECYCLE, POLICY};
    assert_true(
        it_ok(e,
              "INSERT INTO repository (repository_name, image_tag_mutability, scan_on_push, "
              "lifecycle_policy, repository_policy, tags) VALUES ($1, 'IMMUTABLE', true, "
              "$2::jsonb, $3::jsonb, '{\"team\": \"a\"}')",
              3, p));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "create");
    it_expect_commit(e, 1, "create");
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    json_t *r = cloud_repo(e, name);
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "imageTagMutability")), "IMMUTABLE");
    assert_true(json_is_true(
        json_object_get(json_object_get(r, "imageScanningConfiguration"), "scanOnPush")));
    const char *arn = json_string_value(json_object_get(r, "repositoryArn"));
    json_t *t = cloud_tags(e, arn);
    char *team = it_tag_value(t, "team"), *owner = it_tag_value(t, "iasql:owner");
    char *dbid = it_database_id(e);
    assert_string_equal(team, "a");
    assert_string_equal(owner, dbid); /* the database that made it, which the row does not show */
    free(team), free(owner), free(dbid);
    json_decref(t);
    json_t *lc = cloud_policy(e, "GetLifecyclePolicy", "lifecyclePolicyText", name);
    json_t *want = json_loads(LIFECYCLE, 0, NULL);
    assert_true(json_equal(lc, want));
    json_decref(lc), json_decref(want);
    json_t *pol = cloud_policy(e, "GetRepositoryPolicy", "policyText", name);
    assert_non_null(pol);
    json_decref(pol);
    /* the URI, ARN, registry and creation time are written back */
    const char *q[] = {name, json_string_value(json_object_get(r, "repositoryUri")), arn};
    PGresult *res = it_sql(e,
                           "SELECT repository_uri = $2, repository_arn = $3, registry_id, "
                           "created_at IS NOT NULL FROM repository WHERE repository_name = $1",
                           3, q);
    assert_int_equal(PQntuples(res), 1);
    assert_string_equal(PQgetvalue(res, 0, 0), "t");
    assert_string_equal(PQgetvalue(res, 0, 1), "t");
    assert_string_equal(PQgetvalue(res, 0, 2), json_string_value(json_object_get(r, "registryId")));
    assert_string_equal(PQgetvalue(res, 0, 3), "t");
    PQclear(res);
    json_decref(r);

    /* mutability, scanning, policies and tags change in place */
    assert_true(
        it_ok(e,
              "UPDATE repository SET image_tag_mutability = 'MUTABLE', scan_on_push = false, "
              "lifecycle_policy = NULL, repository_policy = NULL, "
              "tags = '{\"team\": \"b\", \"env\": \"dev\"}' WHERE repository_name = $1",
              1, p));
    it_expect_commit(e, 1, "update");
    r = cloud_repo(e, name);
    assert_string_equal(json_string_value(json_object_get(r, "imageTagMutability")), "MUTABLE");
    assert_false(json_is_true(
        json_object_get(json_object_get(r, "imageScanningConfiguration"), "scanOnPush")));
    assert_null(cloud_policy(e, "GetLifecyclePolicy", "lifecyclePolicyText", name));
    assert_null(cloud_policy(e, "GetRepositoryPolicy", "policyText", name));
    t = cloud_tags(e, json_string_value(json_object_get(r, "repositoryArn")));
    assert_int_equal(json_array_size(t), 3); /* team, env and iasql:owner */
    team = it_tag_value(t, "team");
    assert_string_equal(team, "b");
    free(team);
    json_decref(t);
    json_decref(r);

    assert_true(it_ok(
        e, "UPDATE repository SET tags = '{\"env\": \"dev\"}' WHERE repository_name = $1", 1, p));
    it_expect_commit(e, 1, "update");
    r = cloud_repo(e, name);
    t = cloud_tags(e, json_string_value(json_object_get(r, "repositoryArn")));
    assert_int_equal(json_array_size(t), 2); /* env and iasql:owner */
    json_decref(t);
    json_decref(r);

    /* encryption is fixed at creation: a change of it replaces */
    assert_true(
        it_ok(e, "UPDATE repository SET encryption_type = 'KMS' WHERE repository_name = $1", 1, p));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "replace");
    it_expect_commit(e, 1, "replace");
    r = cloud_repo(e, name);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r, "encryptionConfiguration"), "encryptionType")),
                        "KMS");
    json_decref(r);
    /* and so does a new name */
    const char *rn[] = {name, renamed};
    assert_true(
        it_ok(e, "UPDATE repository SET repository_name = $2 WHERE repository_name = $1", 2, rn));
    it_expect_commit(e, 1, "replace");
    assert_null(cloud_repo(e, name));
    r = cloud_repo(e, renamed);
    assert_non_null(r);
    json_decref(r);

    /* back to the first commit: the first name, its settings and policies */
    const char *f[] = {first};
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, f));
    assert_null(cloud_repo(e, renamed));
    r = cloud_repo(e, name);
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "imageTagMutability")), "IMMUTABLE");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r, "encryptionConfiguration"), "encryptionType")),
                        "AES256");
    json_decref(r);
    lc = cloud_policy(e, "GetLifecyclePolicy", "lifecyclePolicyText", name);
    assert_non_null(lc);
    json_decref(lc);

    assert_true(it_ok(e, "DELETE FROM repository WHERE repository_name = $1", 1, p));
    it_expect_commit(e, 1, "delete");
    assert_null(cloud_repo(e, name));
    free(first);
}

static void test_repository_import_and_drift(void **state)
{
    it_env *e = *state;
    char made[64];
    snprintf(made, sizeof made, "console-%d", (int)getpid());
    json_decref(ecr(e, "CreateRepository",
                    json_pack("{s:s, s:[{s:s, s:s}]}", "repositoryName", made, "tags", "Key", "by",
                              "Value", "console"),
                    NULL));
    /* reinstall: what the cloud has is imported */
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_ecr')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_ecr')", 0, NULL));
    const char *p[] = {made};
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    PGresult *r = it_sql(e,
                         "SELECT tags->>'by', repository_uri LIKE '%' || repository_name, "
                         "image_tag_mutability, lifecycle_policy IS NULL FROM repository "
                         "WHERE repository_name = $1",
                         1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "console");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    assert_string_equal(PQgetvalue(r, 0, 2), "MUTABLE");
    assert_string_equal(PQgetvalue(r, 0, 3), "t");
    PQclear(r);
    /* changed in the console: a sync brings it into the row */
    json_decref(ecr(
        e, "PutImageTagMutability",
        json_pack("{s:s, s:s}", "repositoryName", made, "imageTagMutability", "IMMUTABLE"), NULL));
    json_decref(ecr(
        e, "PutLifecyclePolicy",
        json_pack("{s:s, s:s}", "repositoryName", made, "lifecyclePolicyText", LIFECYCLE), NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    r = it_sql(e,
               "SELECT image_tag_mutability, lifecycle_policy -> 'rules' -> 0 ->> 'rulePriority' "
               "FROM repository WHERE repository_name = $1",
               1, p);
    assert_string_equal(PQgetvalue(r, 0, 0), "IMMUTABLE");
    assert_string_equal(PQgetvalue(r, 0, 1), "1");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* deleted in the console: a sync removes the row */
    json_decref(ecr(e, "DeleteRepository",
                    json_pack("{s:s, s:b}", "repositoryName", made, "force", 1), NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    r = it_sql(e, "SELECT count(*) FROM repository WHERE repository_name = $1", 1, p);
    assert_string_equal(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
}

/* The poller's rotation (--poll 1 --poll-deep 5: four slots): a quiet poll costs the
 * DescribeRepositories page and the three reads (tags, two policies) of
 * about a quarter of the repositories, not of all of them (--poll-deep 1);
 * it writes nothing; a policy and a tag changed outside are seen within
 * the rotation, a repository new in the cloud comes in whole at once. */
static void test_repository_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 24 };
    int pid = (int)getpid();
    assert_true(it_okf(e,
                       "INSERT INTO repository (repository_name) SELECT 'rot-' || g || '-%d' "
                       "FROM generate_series(1, %d) g",
                       pid, N));
    it_expect_commit(e, N, "create");
    /* one of them another database's: noted by a full read, and the note
     * stays through partial rows (which carry no tags) */
    char other[64];
    snprintf(other, sizeof other, "rot-2-%d", pid);
    json_t *o = cloud_repo(e, other);
    json_decref(
        ecr(e, "TagResource",
            json_pack("{s:O, s:[{s:s, s:s}]}", "resourceArn", json_object_get(o, "repositoryArn"),
                      "tags", "Key", "iasql:owner", "Value", "another-database"),
            NULL));
    json_decref(o);
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    const char *noted = "SELECT count(*) FROM iasql_foreign_owner WHERE table_name = 'repository' "
                        "AND owner = 'another-database'";
    assert_string_equal(it_admin_value(e, noted), "1");
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long full[2], req[4], sum = 0;
    it_rotation_start(e, "1", "repository", full, 2);
    it_rotation_start(e, "5", "repository", req, 4);
    for (int i = 0; i < 4; i++) {
        assert_true(req[i] <= 1 + 3 * (N / 4) * 3);
        sum += req[i];
    }
    assert_true(full[0] >= 1 + 3 * N && full[1] >= 1 + 3 * N);
    assert_true(sum <= 4 + 3 * N + 8); /* each one's reads once a rotation */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    assert_string_equal(it_admin_value(e, noted), "1");
    print_message("rotation: %d repositories, quiet polls %ld %ld in full, %ld %ld %ld %ld "
                  "under the rotation\n",
                  N, full[0], full[1], req[0], req[1], req[2], req[3]);
    char name[64], made[64];
    snprintf(name, sizeof name, "rot-1-%d", pid);
    snprintf(made, sizeof made, "rot-made-%d", pid);
    json_t *r = cloud_repo(e, name);
    json_t *tag = json_pack("{s:s, s:[{s:s, s:s}]}", "resourceArn",
                            json_string_value(json_object_get(r, "repositoryArn")), "tags", "Key",
                            "team", "Value", "ops");
    json_decref(r);
    json_decref(ecr(e, "TagResource", tag, NULL));
    json_decref(ecr(
        e, "PutLifecyclePolicy",
        json_pack("{s:s, s:s}", "repositoryName", name, "lifecyclePolicyText", LIFECYCLE), NULL));
    double t0 = it_now_s();
    assert_true(it_eventually(e, "ops",
                              "SELECT coalesce(tags->>'team', '') FROM repository "
                              "WHERE repository_name = '%s'",
                              name));
    assert_true(it_eventually(e, "1",
                              "SELECT lifecycle_policy -> 'rules' -> 0 ->> 'rulePriority' "
                              "FROM repository WHERE repository_name = '%s'",
                              name));
    print_message("a tag and a policy changed outside seen in %.1f s\n", it_now_s() - t0);
    json_decref(ecr(e, "CreateRepository",
                    json_pack("{s:s, s:[{s:s, s:s}]}", "repositoryName", made, "tags", "Key", "by",
                              "Value", "console"),
                    NULL));
    json_decref(ecr(
        e, "PutLifecyclePolicy",
        json_pack("{s:s, s:s}", "repositoryName", made, "lifecyclePolicyText", LIFECYCLE), NULL));
    assert_true(it_eventually(
        e, "1", "SELECT count(*) FROM repository WHERE repository_name = '%s'", made));
    assert_string_equal(it_valf(e,
                                "SELECT tags->>'by' || (lifecycle_policy IS NOT NULL)::text "
                                "FROM repository WHERE repository_name = '%s'",
                                made),
                        "consoletrue");
    it_rotation_end(e);
    free(audit);
    /* the other database's is not this one's to delete: gone in the cloud,
     * so that no later test (or run) on this emulator finds it */
    json_decref(ecr(e, "DeleteRepository",
                    json_pack("{s:s, s:b}", "repositoryName", other, "force", 1), NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_true(it_ok(e, "DELETE FROM repository", 0, NULL));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
}

static void test_repository_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO repository (repository_name) VALUES ('Upper')",
         "repository_name_2_to_256_lowercase_segments"},
        {"INSERT INTO repository (repository_name) VALUES ('a')",
         "repository_name_2_to_256_lowercase_segments"},
        {"INSERT INTO repository (repository_name) VALUES ('team//app')",
         "repository_name_2_to_256_lowercase_segments"},
        {"INSERT INTO repository (repository_name, image_tag_mutability) VALUES ('ok', "
         "'SOMETIMES')",
         "repository_image_tag_mutability_mutable_or_immutable"},
        {"INSERT INTO repository (repository_name, encryption_type) VALUES ('ok', 'ROT13')",
         "repository_encryption_type_aes256_kms_or_kms_dsse"},
        {"INSERT INTO repository (repository_name, kms_key) VALUES ('ok', 'alias/k')",
         "repository_kms_key_only_with_kms_encryption"},
        {"INSERT INTO repository (repository_name, lifecycle_policy) VALUES ('ok', '[1]')",
         "repository_lifecycle_policy_an_object_with_rules"},
        {"INSERT INTO repository (repository_name, repository_policy) VALUES ('ok', '{\"a\": 1}')",
         "repository_policy_an_object_with_statement"},
        {"INSERT INTO repository (repository_name, tags) VALUES ('ok', '{\"aws:k\": \"v\"}')",
         "repository_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {"INSERT INTO repository (repository_name) VALUES ('dup'), ('dup')",
         "repository_name_unique_in_region"},
        {"INSERT INTO repository (repository_name, region) VALUES ('ok', 'mars-1')",
         "repository_region_fkey"},
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
        cmocka_unit_test_setup_teardown(test_repository_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repository_import_and_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repository_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repository_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_ecr", tests, NULL, NULL);
}
