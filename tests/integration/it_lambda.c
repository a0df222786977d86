/* tests/integration/it_lambda.c — modules aws_lambda (lambda_function,
 * lambda_permission) and aws_api_gateway (api, api_route) end to end
 * against moto_server: a function from an S3 object with every setting,
 * its URL and a permission; updates in place, a code change checked by its
 * hash, a rename, a rollback to the first commit; inline zip code (masked,
 * never in the journal, a rollback across it refused); import of a
 * function and a permission made outside, drift brought in by a sync; an
 * HTTP API with routes to functions; bad input refused at INSERT; the
 * poller's rotation. The cloud is read with plain REST calls, not through
 * the engine's client. No function is ever invoked (moto would need
 * Docker). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "it_util.h"

/* Two tiny zips, each with an index.py whose handler returns a body. */
#define ZIP_ONE                                                                                    \
    "UEsDBBQAAAAAAAAAIVC4eJ6BSwAAAEsAAAAIAAAAaW5kZXgucHlkZWYgaGFuZGxlcihldmVudCwgY29udGV4dCk6Ci"   \
    "AgICByZXR1cm4geydzdGF0dXNDb2RlJzogMjAwLCAnYm9keSc6ICdvbmUnfQpQSwECFAMUAAAAAAAAACFQuHiegUsA"   \
    "AABLAAAACAAAAAAAAAAAAAAAgAEAAAAAaW5kZXgucHlQSwUGAAAAAAEAAQA2AAAAcQAAAAAA"
#define ZIP_TWO                                                                                    \
    "UEsDBBQAAAAAAAAAIVB3n8LqSwAAAEsAAAAIAAAAaW5kZXgucHlkZWYgaGFuZGxlcihldmVudCwgY29udGV4dCk6Ci"   \
    "AgICByZXR1cm4geydzdGF0dXNDb2RlJzogMjAwLCAnYm9keSc6ICd0d28nfQpQSwECFAMUAAAAAAAAACFQd5/C6ksA"   \
    "AABLAAAACAAAAAAAAAAAAAAAgAEAAAAAaW5kZXgucHlQSwUGAAAAAAEAAQA2AAAAcQAAAAAA"
#define TRUST                                                                                      \
    "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": "        \
    "{\"Service\": \"lambda.amazonaws.com\"}, \"Action\": \"sts:AssumeRole\"}]}"

static int setup(void **state)
{
    if (it_fixture(state, "lambda", false))
        return -1;
    it_env *e = *state;
    if (!it_ok(e, "SELECT * FROM iasql_install('aws_lambda', 'aws_api_gateway')", 0, NULL))
        return -1;
    char role[64];
    snprintf(role, sizeof role, "fn-role-%d", (int)getpid());
    const char *p[] = {role, TRUST};
    if (!it_ok(e,
               "INSERT INTO iam_role (role_name, assume_role_policy_document) "
               "VALUES ($1, $2::jsonb) ON CONFLICT DO NOTHING",
               2, p))
        return -1;
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
    return 0;
}

static int teardown(void **state)
{
    it_env *e = *state;
    /* what this database made goes, so that no later case finds it */
    it_ok(e, "DELETE FROM api", 0, NULL);
    it_ok(e, "DELETE FROM lambda_function", 0, NULL);
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
    it_ok(e, "DELETE FROM iam_role WHERE role_name LIKE 'fn-role-%'", 0, NULL);
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
    return it_fixture_end(state);
}

/* One REST call straight to the emulator (service: "lambda",
 * "apigateway"): the decoded answer ({} when none); a status of 300 or
 * more fails the test unless status is asked for. Takes body. */
static json_t *rest(it_env *e, const char *service, const char *method, const char *path,
                    json_t *body, long *status)
{
    char url[2048];
    snprintf(url, sizeof url, "%s%s", e->emulator, path);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    const char *reply;
    long st = it_http_full(service, "Content-Type: application/json", method, url, text, &reply);
    free(text);
    if (status)
        *status = st;
    else if (st >= 300)
        fail_msg("%s %s: HTTP %ld: %s", method, path, st, reply);
    json_t *j = json_loads(reply, 0, NULL);
    return j ? j : json_object();
}

static json_t *lambda(it_env *e, const char *method, const char *path, json_t *body, long *status)
{
    return rest(e, "lambda", method, path, body, status);
}

/* The function as GetFunction gives it ({"Configuration", "Tags", ...}),
 * or NULL when there is none. */
static json_t *cloud_fn(it_env *e, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/2015-03-31/functions/%s", name);
    long st;
    json_t *f = lambda(e, "GET", path, NULL, &st);
    if (st == 200)
        return f;
    json_decref(f);
    return NULL;
}

static const char *conf_str(const json_t *f, const char *member)
{
    return json_string_value(json_object_get(json_object_get(f, "Configuration"), member));
}

static long long conf_int(const json_t *f, const char *member)
{
    return json_integer_value(json_object_get(json_object_get(f, "Configuration"), member));
}

static const char *env_var(const json_t *f, const char *key)
{
    return json_string_value(json_object_get(
        json_object_get(json_object_get(json_object_get(f, "Configuration"), "Environment"),
                        "Variables"),
        key));
}

/* The function's URL config, or NULL when it has none. */
static json_t *cloud_url(it_env *e, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/2021-10-31/functions/%s/url", name);
    long st;
    json_t *u = lambda(e, "GET", path, NULL, &st);
    if (st < 300)
        return u;
    json_decref(u);
    return NULL;
}

/* The statement sid of the function's policy, or NULL. */
static json_t *cloud_statement(it_env *e, const char *name, const char *sid)
{
    char path[256];
    snprintf(path, sizeof path, "/2015-03-31/functions/%s/policy", name);
    long st;
    json_t *p = lambda(e, "GET", path, NULL, &st);
    json_t *doc =
        st == 200 ? json_loads(json_string_value(json_object_get(p, "Policy")), 0, NULL) : NULL;
    json_decref(p);
    json_t *found = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(doc, "Statement"), i, s)
    {
        const char *id = json_string_value(json_object_get(s, "Sid"));
        if (id && strncmp(id, sid, strlen(sid)) == 0)
            found = json_incref(s);
    }
    json_decref(doc);
    return found;
}

/* base64(sha256(zip)), as Lambda's CodeSha256, worked out by PostgreSQL. */
static char *sha_of(it_env *e, const char *b64)
{
    const char *p[] = {b64};
    PGresult *r = it_sql(e, "SELECT encode(sha256(decode($1, 'base64')), 'base64')", 1, p);
    char *s = it_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return s;
}

static int b64_val(char c)
{
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = strchr(a, c);
    return c && p ? (int)(p - a) : -1;
}

/* The bytes of base64 text (the caller frees), their count in *n. */
static unsigned char *unbase64(const char *s, size_t *n)
{
    unsigned char *out = malloc(strlen(s));
    unsigned acc = 0;
    int bits = 0;
    *n = 0;
    for (; *s && *s != '='; s++) {
        int v = b64_val(*s);
        if (v < 0)
            continue;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[(*n)++] = (unsigned char)(acc >> bits);
        }
    }
    return out;
}

/* Puts an object (binary) into moto's S3, making the bucket first. */
static void s3_put(it_env *e, const char *bucket, const char *key, const char *b64)
{
    char url[512];
    snprintf(url, sizeof url, "%s/%s", e->emulator, bucket);
    it_http_as("s3", "PUT", url, NULL, NULL);
    size_t n;
    unsigned char *data = unbase64(b64, &n);
    snprintf(url, sizeof url, "%s/%s/%s", e->emulator, bucket, key);
    CURL *h = curl_easy_init();
    struct curl_slist *hs = curl_slist_append(
        NULL, "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/"
              "aws4_request, SignedHeaders=host, Signature=0");
    hs = curl_slist_append(hs, "Expect:");
    hs = curl_slist_append(hs, "Content-Type: application/zip"); /* not a form moto reads */
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)n);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    long status = 0;
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    fclose(sink);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    free(data);
    assert_int_equal(status, 200);
}

static char *role_name(void)
{
    static char role[64];
    snprintf(role, sizeof role, "fn-role-%d", (int)getpid());
    return role;
}

/* The role's ARN, as IAM has it. */
static char *role_arn(it_env *e)
{
    char form[256];
    snprintf(form, sizeof form, "Action=GetRole&Version=2010-05-08&RoleName=%s", role_name());
    const char *xml;
    assert_int_equal(it_aws_query(e, "iam", form, &xml), 200);
    return it_strdup(it_xml_text(xml, "Arn"));
}

/* A Secrets Manager secret made outside: its ARN. */
static char *make_secret(it_env *e, const char *name)
{
    long st;
    json_t *r = it_aws_json(e, "secretsmanager", "1.1", "secretsmanager.CreateSecret",
                            json_pack("{s:s, s:s}", "Name", name, "SecretString", "hunter2"), &st);
    assert_int_equal(st, 200);
    char *arn = it_strdup(json_string_value(json_object_get(r, "ARN")));
    json_decref(r);
    return arn;
}

static void drop_secret(it_env *e, const char *name)
{
    json_decref(it_aws_json(
        e, "secretsmanager", "1.1", "secretsmanager.DeleteSecret",
        json_pack("{s:s, s:b}", "SecretId", name, "ForceDeleteWithoutRecovery", 1), NULL));
}

static void test_function_lifecycle(void **state)
{
    it_env *e = *state;
    int pid = (int)getpid();
    char name[64], renamed[64], bucket[64], secret[64];
    snprintf(name, sizeof name, "fn-%d", pid);
    snprintf(renamed, sizeof renamed, "fn-%d-b", pid);
    snprintf(bucket, sizeof bucket, "code-%d", pid);
    snprintf(secret, sizeof secret, "db-%d", pid);
    char *secret_arn = make_secret(e, secret);
    s3_put(e, bucket, "v1.zip", ZIP_ONE);
    s3_put(e, bucket, "v2.zip", ZIP_TWO);
    char *sha1 = sha_of(e, ZIP_ONE), *sha2 = sha_of(e, ZIP_TWO), *arn = role_arn(e);
    char env[256];
    snprintf(env, sizeof env, "{\"MODE\": \"a\", \"DB_PASSWORD\": {\"secret\": \"%s\"}}", secret);
    const char *p[] = {name, role_name(), bucket, env};
    assert_true(
        it_ok(e,
              "INSERT INTO lambda_function (name, runtime, handler, role, memory_size, timeout, "
              "description, environment, architecture, s3_bucket, s3_key, url_auth_type, url_cors, "
              "tags) SELECT $1, 'python3.12', 'index.handler', r.id, 256, 10, 'first', $4::jsonb, "
              "'arm64', $3, 'v1.zip', 'AWS_IAM', '{\"AllowOrigins\": [\"https://example.com\"], "
              "\"MaxAge\": 60}', '{\"team\": \"a\"}' FROM iam_role r WHERE r.role_name = $2",
              4, p));
    assert_true(it_ok(e,
                      "INSERT INTO lambda_permission (function_name, statement_id, principal, "
                      "source_arn, source_account) VALUES ($1, 's3-invoke', 's3.amazonaws.com', "
                      "'arn:aws:s3:::' || $2, '123456789012')",
                      2, (const char *[]){name, bucket}));
    assert_string_equal(it_value(e, "SELECT string_agg(action, ',' ORDER BY action) "
                                    "FROM iasql_preview()"),
                        "create,create");
    it_expect_commit(e, 2, "create");
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    json_t *f = cloud_fn(e, name);
    assert_non_null(f);
    assert_string_equal(conf_str(f, "Runtime"), "python3.12");
    assert_string_equal(conf_str(f, "Handler"), "index.handler");
    assert_string_equal(conf_str(f, "Role"), arn);
    assert_string_equal(conf_str(f, "Description"), "first");
    assert_int_equal(conf_int(f, "MemorySize"), 256);
    assert_int_equal(conf_int(f, "Timeout"), 10);
    assert_string_equal(conf_str(f, "CodeSha256"), sha1); /* moto hashes the S3 object */
    assert_string_equal(
        json_string_value(json_array_get(
            json_object_get(json_object_get(f, "Configuration"), "Architectures"), 0)),
        "arm64");
    assert_string_equal(env_var(f, "MODE"), "a");
    assert_string_equal(env_var(f, "DB_PASSWORD"),
                        secret_arn); /* the secret's ARN, not its value */
    char *dbid = it_database_id(e);
    assert_string_equal(json_string_value(json_object_get(json_object_get(f, "Tags"), "team")),
                        "a");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(f, "Tags"), "iasql:owner")), dbid);
    free(dbid);
    json_t *u = cloud_url(e, name);
    assert_non_null(u);
    assert_string_equal(json_string_value(json_object_get(u, "AuthType")), "AWS_IAM");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(u, "Cors"), "AllowOrigins"), 0)),
                        "https://example.com");
    json_t *st = cloud_statement(e, name, "s3-invoke");
    assert_non_null(st);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(st, "Principal"), "Service")),
        "s3.amazonaws.com");
    json_decref(st);
    /* ARN, hash, state and URL written back; the environment as written */
    const char *q[] = {name, conf_str(f, "FunctionArn"),
                       json_string_value(json_object_get(u, "FunctionUrl")), sha1};
    PGresult *r = it_sql(e,
                         "SELECT arn = $2, function_url = $3, code_sha256 = $4, state, "
                         "environment -> 'DB_PASSWORD' ->> 'secret', zip_b64 IS NULL "
                         "FROM lambda_function WHERE name = $1",
                         4, q);
    assert_int_equal(PQntuples(r), 1);
    for (int c = 0; c < 3; c++)
        assert_string_equal(PQgetvalue(r, 0, c), "t");
    assert_string_equal(PQgetvalue(r, 0, 3), "Active");
    assert_string_equal(PQgetvalue(r, 0, 4), secret);
    assert_string_equal(PQgetvalue(r, 0, 5), "t");
    PQclear(r);
    json_decref(u);
    json_decref(f);
    /* a poll finds nothing to change */
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* the configuration, tags and URL change in place */
    assert_true(it_ok(e,
                      "UPDATE lambda_function SET memory_size = 512, timeout = 30, "
                      "description = NULL, environment = '{\"MODE\": \"b\"}', "
                      "runtime = 'python3.13', handler = 'index.main', "
                      "tags = '{\"team\": \"b\", \"env\": \"dev\"}', url_auth_type = 'NONE', "
                      "url_cors = NULL WHERE name = $1",
                      1, p));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "update");
    it_expect_commit(e, 1, "update");
    f = cloud_fn(e, name);
    assert_int_equal(conf_int(f, "MemorySize"), 512);
    assert_int_equal(conf_int(f, "Timeout"), 30);
    assert_string_equal(conf_str(f, "Description"), "");
    assert_string_equal(conf_str(f, "Runtime"), "python3.13");
    assert_string_equal(conf_str(f, "Handler"), "index.main");
    assert_string_equal(env_var(f, "MODE"), "b");
    assert_null(env_var(f, "DB_PASSWORD"));
    assert_string_equal(conf_str(f, "CodeSha256"), sha1); /* the code did not move */
    json_t *tags = json_object_get(f, "Tags");
    assert_int_equal(json_object_size(tags), 3); /* team, env and iasql:owner */
    assert_string_equal(json_string_value(json_object_get(tags, "team")), "b");
    json_decref(f);
    u = cloud_url(e, name);
    assert_string_equal(json_string_value(json_object_get(u, "AuthType")), "NONE");
    assert_int_equal(json_array_size(json_object_get(json_object_get(u, "Cors"), "AllowOrigins")),
                     0);
    json_decref(u);
    assert_true(
        it_ok(e, "UPDATE lambda_function SET tags = '{\"env\": \"dev\"}' WHERE name = $1", 1, p));
    it_expect_commit(e, 1, "update");
    f = cloud_fn(e, name);
    assert_int_equal(json_object_size(json_object_get(f, "Tags")), 2); /* env and iasql:owner */
    json_decref(f);

    /* new code: UpdateFunctionCode, and the new hash written back */
    assert_true(it_ok(e, "UPDATE lambda_function SET s3_key = 'v2.zip' WHERE name = $1", 1, p));
    it_expect_commit(e, 1, "update");
    f = cloud_fn(e, name);
    assert_string_equal(conf_str(f, "CodeSha256"), sha2);
    json_decref(f);
    const char *h2[] = {name, sha2};
    r = it_sql(e, "SELECT code_sha256 = $2 FROM lambda_function WHERE name = $1", 2, h2);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    PQclear(r);

    /* the URL goes */
    assert_true(it_ok(e, "UPDATE lambda_function SET url_auth_type = NULL WHERE name = $1", 1, p));
    it_expect_commit(e, 1, "update");
    assert_null(cloud_url(e, name));
    assert_string_equal(
        it_valf(e, "SELECT function_url IS NULL FROM lambda_function WHERE name = '%s'", name),
        "t");

    /* a new name is a new function (its code from S3 again), and its
     * permission follows it */
    const char *rn[] = {name, renamed};
    assert_true(it_ok(e, "UPDATE lambda_function SET name = $2 WHERE name = $1", 2, rn));
    assert_string_equal(it_value(e, "SELECT string_agg(action, ',' ORDER BY action) "
                                    "FROM iasql_preview()"),
                        "replace,replace");
    it_expect_commit(e, 2, "replace");
    f = cloud_fn(e, name);
    assert_null(f);
    f = cloud_fn(e, renamed);
    assert_non_null(f);
    assert_string_equal(conf_str(f, "CodeSha256"), sha2);
    json_decref(f);
    st = cloud_statement(e, renamed, "s3-invoke");
    assert_non_null(st);
    json_decref(st);

    /* back to the first commit: the first name, settings, code and URL */
    const char *fc[] = {first};
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, fc));
    assert_null(cloud_fn(e, renamed));
    f = cloud_fn(e, name);
    assert_non_null(f);
    assert_int_equal(conf_int(f, "MemorySize"), 256);
    assert_string_equal(conf_str(f, "Description"), "first");
    assert_string_equal(conf_str(f, "Runtime"), "python3.12");
    assert_string_equal(conf_str(f, "CodeSha256"), sha1);
    assert_string_equal(env_var(f, "DB_PASSWORD"), secret_arn);
    assert_string_equal(json_string_value(json_object_get(json_object_get(f, "Tags"), "team")),
                        "a");
    json_decref(f);
    u = cloud_url(e, name);
    assert_non_null(u);
    assert_string_equal(json_string_value(json_object_get(u, "AuthType")), "AWS_IAM");
    json_decref(u);
    st = cloud_statement(e, name, "s3-invoke");
    assert_non_null(st);
    json_decref(st);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* a permission changed is replaced; deleted, it leaves the policy */
    assert_true(it_ok(e,
                      "UPDATE lambda_permission SET principal = 'sns.amazonaws.com', "
                      "source_arn = NULL, source_account = NULL WHERE function_name = $1",
                      1, p));
    it_expect_commit(e, 1, "replace");
    st = cloud_statement(e, name, "s3-invoke");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(st, "Principal"), "Service")),
        "sns.amazonaws.com");
    json_decref(st);
    assert_true(it_ok(e, "DELETE FROM lambda_permission WHERE function_name = $1", 1, p));
    it_expect_commit(e, 1, "delete");
    assert_null(cloud_statement(e, name, "s3-invoke"));

    assert_true(it_ok(e, "DELETE FROM lambda_function WHERE name = $1", 1, p));
    it_expect_commit(e, 1, "delete");
    assert_null(cloud_fn(e, name));
    drop_secret(e, secret);
    free(first), free(sha1), free(sha2), free(arn), free(secret_arn);
}

/* Inline code: a zip that the row, the audit log and the journal only see
 * as a mask; new code by a new zip; a new name needs the zip again; a
 * rollback across a zip change is refused. */
static void test_function_zip_code(void **state)
{
    it_env *e = *state;
    char name[64], renamed[64];
    snprintf(name, sizeof name, "zip-%d", (int)getpid());
    snprintf(renamed, sizeof renamed, "zip-%d-b", (int)getpid());
    char *sha1 = sha_of(e, ZIP_ONE), *sha2 = sha_of(e, ZIP_TWO);
    const char *p[] = {name, role_name(), ZIP_ONE};
    assert_true(it_ok(e,
                      "INSERT INTO lambda_function (name, runtime, handler, role, zip_b64) "
                      "SELECT $1, 'nodejs20.x', 'index.handler', id, $3 FROM iam_role "
                      "WHERE role_name = $2",
                      3, p));
    assert_string_equal(
        it_valf(e, "SELECT zip_b64 LIKE 'iasql-secret:%%' FROM lambda_function WHERE name = '%s'",
                name),
        "t");
    /* until the commit, the zip waits where only the engine reads (the
     * search's positive control: pg_dump shows iasql_secret) */
    assert_true(it_leaks(e, "IVC4eJ6BSwAAAEsAAAAIAAAAaW5kZXgucHlk") >= 1);
    it_expect_commit(e, 1, "create");
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    json_t *f = cloud_fn(e, name);
    assert_non_null(f);
    assert_string_equal(conf_str(f, "CodeSha256"), sha1);
    assert_string_equal(conf_str(f, "Runtime"), "nodejs20.x");
    json_decref(f);
    assert_string_equal(
        it_valf(e, "SELECT code_sha256 FROM lambda_function WHERE name = '%s'", name), sha1);
    /* the zip is nowhere the engine writes: journal, log, dump */
    assert_int_equal(it_leaks(e, "IVC4eJ6BSwAAAEsAAAAIAAAAaW5kZXgucHlk"), 0);
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* new code: a new zip */
    const char *z2[] = {name, ZIP_TWO};
    assert_true(it_ok(e, "UPDATE lambda_function SET zip_b64 = $2 WHERE name = $1", 2, z2));
    it_expect_commit(e, 1, "update");
    f = cloud_fn(e, name);
    assert_string_equal(conf_str(f, "CodeSha256"), sha2);
    json_decref(f);
    assert_string_equal(
        it_valf(e, "SELECT code_sha256 FROM lambda_function WHERE name = '%s'", name), sha2);
    /* a configuration change keeps the code */
    assert_true(it_ok(e, "UPDATE lambda_function SET memory_size = 1024 WHERE name = $1", 1, p));
    it_expect_commit(e, 1, "update");
    f = cloud_fn(e, name);
    assert_int_equal(conf_int(f, "MemorySize"), 1024);
    assert_string_equal(conf_str(f, "CodeSha256"), sha2);
    json_decref(f);

    /* a new name without the zip: refused, since the engine kept none */
    const char *rn[] = {name, renamed, ZIP_TWO};
    const char *msg = it_sql_error(e, "UPDATE lambda_function SET name = name || '-b'");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "lambda_function_zip_b64_set_anew_with_a_new_name_or_region"));
    assert_true(
        it_ok(e, "UPDATE lambda_function SET name = $2, zip_b64 = $3 WHERE name = $1", 3, rn));
    it_expect_commit(e, 1, "replace");
    assert_null(cloud_fn(e, name));
    f = cloud_fn(e, renamed);
    assert_string_equal(conf_str(f, "CodeSha256"), sha2);
    json_decref(f);

    /* the first commit's zip is gone: a rollback to it is refused, nothing applied */
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT * FROM iasql_rollback(%s)", first);
    msg = it_sql_error(e, sql);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "zip_b64"));
    assert_null(cloud_fn(e, name));
    assert_non_null(f = cloud_fn(e, renamed));
    json_decref(f);
    assert_int_equal(it_leaks(e, "IVB3n8LqSwAAAEsAAAAIAAAAaW5kZXgucHlk"), 0);
    free(first), free(sha1), free(sha2);
}

/* A reference the commit finds wrong: an environment value naming a secret
 * that does not exist fails that function, saying which, and nothing is
 * made; once the row is fixed, the next commit makes it. */
static void test_function_missing_secret(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "nosecret-%d", (int)getpid());
    const char *p[] = {name, role_name(), ZIP_ONE};
    assert_true(it_ok(e,
                      "INSERT INTO lambda_function (name, runtime, handler, role, zip_b64, "
                      "environment) SELECT $1, 'python3.12', 'index.handler', id, $3, "
                      "'{\"TOKEN\": {\"secret\": \"no-such-secret\"}}' FROM iam_role "
                      "WHERE role_name = $2",
                      3, p));
    PGresult *r = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    assert_int_equal(PQntuples(r), 1);
    const char *d = PQgetvalue(r, 0, 1);
    assert_non_null(strstr(d, "failed"));
    assert_non_null(strstr(d, "no-such-secret"));
    assert_non_null(strstr(d, "does not exist"));
    PQclear(r);
    assert_null(cloud_fn(e, name));
    assert_true(it_ok(e,
                      "UPDATE lambda_function SET environment = '{\"TOKEN\": \"plain\"}' "
                      "WHERE name = $1",
                      1, p));
    it_expect_commit(e, 1, "create");
    json_t *f = cloud_fn(e, name);
    assert_string_equal(env_var(f, "TOKEN"), "plain");
    json_decref(f);
}

/* A function and a permission made outside come in with a sync, as do
 * their changes; the zip of an imported function is a mask named after
 * its hash, and a code change outside shows as a new code_sha256. */
static void test_function_import_and_drift(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "console-%d", (int)getpid());
    char *arn = role_arn(e), *sha1 = sha_of(e, ZIP_ONE), *sha2 = sha_of(e, ZIP_TWO);
    json_decref(
        lambda(e, "POST", "/2015-03-31/functions",
               json_pack("{s:s, s:s, s:s, s:s, s:{s:s}, s:i, s:{s:s}, s:{s:{s:s}}}", "FunctionName",
                         name, "Runtime", "python3.11", "Role", arn, "Handler", "app.handler",
                         "Code", "ZipFile", ZIP_ONE, "MemorySize", 192, "Tags", "by", "console",
                         "Environment", "Variables", "LEVEL", "debug"),
               NULL));
    char path[256];
    snprintf(path, sizeof path, "/2015-03-31/functions/%s/policy", name);
    json_decref(lambda(e, "POST", path,
                       json_pack("{s:s, s:s, s:s}", "StatementId", "from-sns", "Action",
                                 "lambda:InvokeFunction", "Principal", "sns.amazonaws.com"),
                       NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    const char *p[] = {name, sha1, role_name()};
    PGresult *r =
        it_sql(e,
               "SELECT f.memory_size, f.tags ->> 'by', f.environment ->> 'LEVEL', "
               "f.code_sha256 = $2, f.zip_b64 = 'iasql-secret:sha256:' || $2, "
               "f.s3_bucket IS NULL, r.role_name = $3, f.handler "
               "FROM lambda_function f JOIN iam_role r ON r.id = f.role WHERE f.name = $1",
               3, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "192");
    assert_string_equal(PQgetvalue(r, 0, 1), "console");
    assert_string_equal(PQgetvalue(r, 0, 2), "debug");
    for (int c = 3; c < 7; c++)
        assert_string_equal(PQgetvalue(r, 0, c), "t");
    assert_string_equal(PQgetvalue(r, 0, 7), "app.handler");
    PQclear(r);
    assert_string_equal(it_valf(e,
                                "SELECT principal || ' ' || action FROM lambda_permission "
                                "WHERE function_name = '%s' AND statement_id = 'from-sns'",
                                name),
                        "sns.amazonaws.com lambda:InvokeFunction");
    /* changed outside: configuration and code; a sync brings both in, the
     * row's own code column stays what it was */
    snprintf(path, sizeof path, "/2015-03-31/functions/%s/configuration", name);
    json_decref(lambda(e, "PUT", path,
                       json_pack("{s:i, s:s}", "MemorySize", 768, "Description", "ops"), NULL));
    snprintf(path, sizeof path, "/2015-03-31/functions/%s/code", name);
    json_decref(lambda(e, "PUT", path, json_pack("{s:s}", "ZipFile", ZIP_TWO), NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    const char *q[] = {name, sha1, sha2};
    r = it_sql(e,
               "SELECT memory_size, description, code_sha256 = $3, "
               "zip_b64 = 'iasql-secret:sha256:' || $2 FROM lambda_function WHERE name = $1",
               3, q);
    assert_string_equal(PQgetvalue(r, 0, 0), "768");
    assert_string_equal(PQgetvalue(r, 0, 1), "ops");
    assert_string_equal(PQgetvalue(r, 0, 2), "t");
    assert_string_equal(PQgetvalue(r, 0, 3), "t");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* an imported function changes in place without its code */
    assert_true(it_ok(e, "UPDATE lambda_function SET timeout = 60 WHERE name = $1", 1, p));
    it_expect_commit(e, 1, "update");
    json_t *f = cloud_fn(e, name);
    assert_int_equal(conf_int(f, "Timeout"), 60);
    assert_string_equal(conf_str(f, "CodeSha256"), sha2);
    json_decref(f);
    /* the permission removed outside: its row goes */
    snprintf(path, sizeof path, "/2015-03-31/functions/%s/policy/from-sns", name);
    json_decref(lambda(e, "DELETE", path, NULL, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM lambda_permission WHERE function_name = '%s'", name), "0");
    /* deleted outside: the row goes (once the engine's own update is older
     * than the grace a poll gives it: none here) */
    it_restart_engine(e, "off", "0");
    snprintf(path, sizeof path, "/2015-03-31/functions/%s", name);
    json_decref(lambda(e, "DELETE", path, NULL, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_valf(e, "SELECT count(*) FROM lambda_function WHERE name = '%s'", name),
                        "0");
    free(arn), free(sha1), free(sha2);
}

/* The routes of an API as GetRoutes gives them. */
static json_t *cloud_routes(it_env *e, const char *api_id)
{
    char path[128];
    snprintf(path, sizeof path, "/v2/apis/%s/routes", api_id);
    json_t *r = rest(e, "apigateway", "GET", path, NULL, NULL);
    json_t *items = json_incref(json_object_get(r, "items"));
    json_decref(r);
    return items;
}

static json_t *cloud_integration(it_env *e, const char *api_id, const char *id)
{
    char path[160];
    snprintf(path, sizeof path, "/v2/apis/%s/integrations/%s", api_id, id);
    return rest(e, "apigateway", "GET", path, NULL, NULL);
}

static json_t *cloud_api(it_env *e, const char *api_id)
{
    char path[128];
    snprintf(path, sizeof path, "/v2/apis/%s", api_id);
    long st;
    json_t *a = rest(e, "apigateway", "GET", path, NULL, &st);
    if (st == 200)
        return a;
    json_decref(a);
    return NULL;
}

static void test_http_api(void **state)
{
    it_env *e = *state;
    int pid = (int)getpid();
    char fa[64], fb[64], api[64];
    snprintf(fa, sizeof fa, "web-a-%d", pid);
    snprintf(fb, sizeof fb, "web-b-%d", pid);
    snprintf(api, sizeof api, "web-%d", pid);
    const char *p[] = {fa, fb, role_name(), ZIP_ONE, api};
    assert_true(it_ok(e,
                      "INSERT INTO lambda_function (name, runtime, handler, role, zip_b64) "
                      "SELECT n, 'python3.12', 'index.handler', r.id, $4 FROM iam_role r, "
                      "unnest(ARRAY[$1, $2]) n WHERE r.role_name = $3",
                      4, p));
    assert_true(it_ok(e,
                      "INSERT INTO api (name, description, cors_configuration, tags) VALUES "
                      "($1, 'the web tier', '{\"allowOrigins\": [\"*\"]}', '{\"team\": \"web\"}')",
                      1, (const char *[]){api}));
    assert_true(it_ok(e,
                      "INSERT INTO api_route (api, route_key, lambda_function) SELECT a.id, k, "
                      "f.id FROM api a, lambda_function f, unnest(ARRAY['GET /hello', "
                      "'$default']) k WHERE a.name = $2 AND f.name = $1",
                      2, (const char *[]){fa, api}));
    it_expect_commit(e, 5, "create");
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    char *api_id = it_strdup(it_valf(e, "SELECT api_id FROM api WHERE name = '%s'", api));
    json_t *a = cloud_api(e, api_id);
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "protocolType")), "HTTP");
    assert_string_equal(json_string_value(json_object_get(a, "description")), "the web tier");
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "tags"), "team")),
                        "web");
    assert_string_equal(
        json_string_value(json_array_get(
            json_object_get(json_object_get(a, "corsConfiguration"), "allowOrigins"), 0)),
        "*");
    assert_string_equal(it_valf(e, "SELECT api_endpoint FROM api WHERE name = '%s'", api),
                        json_string_value(json_object_get(a, "apiEndpoint")));
    json_decref(a);
    /* the $default stage deploys by itself */
    char path[160];
    snprintf(path, sizeof path, "/v2/apis/%s/stages", api_id);
    json_t *stages = rest(e, "apigateway", "GET", path, NULL, NULL);
    json_t *stage = json_array_get(json_object_get(stages, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(stage, "stageName")), "$default");
    assert_true(json_is_true(json_object_get(stage, "autoDeploy")));
    json_decref(stages);
    /* each route proxies to the function, which lets API Gateway invoke it */
    json_t *routes = cloud_routes(e, api_id);
    assert_int_equal(json_array_size(routes), 2);
    char fa_arn[256];
    snprintf(fa_arn, sizeof fa_arn, "%s",
             it_valf(e, "SELECT arn FROM lambda_function WHERE name = '%s'", fa));
    size_t i;
    json_t *rt;
    json_array_foreach(routes, i, rt)
    {
        const char *target = json_string_value(json_object_get(rt, "target"));
        assert_non_null(target);
        json_t *in = cloud_integration(e, api_id, target + strlen("integrations/"));
        assert_string_equal(json_string_value(json_object_get(in, "integrationType")), "AWS_PROXY");
        assert_string_equal(json_string_value(json_object_get(in, "integrationUri")), fa_arn);
        assert_string_equal(json_string_value(json_object_get(in, "payloadFormatVersion")), "2.0");
        json_decref(in);
        char sid[96];
        snprintf(sid, sizeof sid, "iasql-route-%s",
                 json_string_value(json_object_get(rt, "routeId")));
        json_t *st = cloud_statement(e, fa, sid);
        assert_non_null(st);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(st, "Principal"), "Service")),
            "apigateway.amazonaws.com");
        json_decref(st);
    }
    json_decref(routes);
    /* the route's own permission is no lambda_permission row */
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM lambda_permission"), "0");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* in place: the API's settings; a route's key and its function */
    assert_true(it_ok(e,
                      "UPDATE api SET description = 'v2', cors_configuration = NULL, "
                      "tags = '{\"team\": \"edge\"}' WHERE name = $1",
                      1, (const char *[]){api}));
    assert_true(it_ok(e,
                      "UPDATE api_route SET route_key = 'POST /hello', lambda_function = "
                      "(SELECT id FROM lambda_function WHERE name = $1) WHERE route_key = 'GET "
                      "/hello'",
                      1, (const char *[]){fb}));
    it_expect_commit(e, 2, "update");
    a = cloud_api(e, api_id);
    assert_string_equal(json_string_value(json_object_get(a, "description")), "v2");
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "tags"), "team")),
                        "edge");
    json_decref(a);
    char *rid =
        it_strdup(it_value(e, "SELECT route_id FROM api_route WHERE route_key = 'POST /hello'"));
    char *iid = it_strdup(
        it_value(e, "SELECT integration_id FROM api_route WHERE route_key = 'POST /hello'"));
    routes = cloud_routes(e, api_id);
    bool moved = false;
    json_array_foreach(routes, i, rt)
    {
        if (strcmp(json_string_value(json_object_get(rt, "routeId")), rid) == 0)
            moved = strcmp(json_string_value(json_object_get(rt, "routeKey")), "POST /hello") == 0;
    }
    assert_true(moved);
    json_decref(routes);
    json_t *in = cloud_integration(e, api_id, iid);
    assert_non_null(strstr(json_string_value(json_object_get(in, "integrationUri")), fb));
    json_decref(in);
    char sid[96];
    snprintf(sid, sizeof sid, "iasql-route-%s", rid);
    json_t *st = cloud_statement(e, fb, sid);
    assert_non_null(st);
    json_decref(st);
    assert_null(cloud_statement(e, fa, sid)); /* the old function's went */

    /* changed outside: a sync brings it in */
    snprintf(path, sizeof path, "/v2/apis/%s", api_id);
    json_decref(
        rest(e, "apigateway", "PATCH", path, json_pack("{s:s}", "description", "outside"), NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_valf(e, "SELECT description FROM api WHERE name = '%s'", api),
                        "outside");

    /* back to the first commit */
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, (const char *[]){first}));
    a = cloud_api(e, api_id);
    assert_string_equal(json_string_value(json_object_get(a, "description")), "the web tier");
    json_decref(a);
    routes = cloud_routes(e, api_id);
    int get_hello = 0;
    json_array_foreach(routes, i, rt) get_hello +=
        strcmp(json_string_value(json_object_get(rt, "routeKey")), "GET /hello") == 0;
    assert_int_equal(get_hello, 1);
    json_decref(routes);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* a route goes with its permission; the API with its routes */
    free(rid);
    rid = it_strdup(it_value(e, "SELECT route_id FROM api_route WHERE route_key = '$default'"));
    assert_true(it_ok(e, "DELETE FROM api_route WHERE route_key = '$default'", 0, NULL));
    it_expect_commit(e, 1, "delete");
    snprintf(sid, sizeof sid, "iasql-route-%s", rid);
    assert_null(cloud_statement(e, fa, sid));
    assert_int_equal(json_array_size(routes = cloud_routes(e, api_id)), 1);
    json_decref(routes);
    assert_true(it_ok(e, "DELETE FROM api WHERE name = $1", 1, (const char *[]){api}));
    it_expect_commit(e, 2, "delete");
    assert_null(cloud_api(e, api_id));
    free(first), free(api_id), free(rid), free(iid);
}

/* An HTTP API with a Lambda route made outside comes in with a sync. */
static void test_http_api_import(void **state)
{
    it_env *e = *state;
    char fn[64], api[64];
    snprintf(fn, sizeof fn, "imp-%d", (int)getpid());
    snprintf(api, sizeof api, "imp-api-%d", (int)getpid());
    const char *p[] = {fn, role_name(), ZIP_ONE};
    assert_true(it_ok(e,
                      "INSERT INTO lambda_function (name, runtime, handler, role, zip_b64) "
                      "SELECT $1, 'python3.12', 'index.handler', id, $3 FROM iam_role "
                      "WHERE role_name = $2",
                      3, p));
    it_expect_commit(e, 1, "create");
    char *fn_arn = it_strdup(it_valf(e, "SELECT arn FROM lambda_function WHERE name = '%s'", fn));
    json_t *a = rest(
        e, "apigateway", "POST", "/v2/apis",
        json_pack("{s:s, s:s, s:s}", "name", api, "protocolType", "HTTP", "version", "7"), NULL);
    char *api_id = it_strdup(json_string_value(json_object_get(a, "apiId")));
    json_decref(a);
    char path[160];
    snprintf(path, sizeof path, "/v2/apis/%s/integrations", api_id);
    json_t *in = rest(e, "apigateway", "POST", path,
                      json_pack("{s:s, s:s, s:s}", "integrationType", "AWS_PROXY", "integrationUri",
                                fn_arn, "payloadFormatVersion", "2.0"),
                      NULL);
    char target[96];
    snprintf(target, sizeof target, "integrations/%s",
             json_string_value(json_object_get(in, "integrationId")));
    json_decref(in);
    snprintf(path, sizeof path, "/v2/apis/%s/routes", api_id);
    json_decref(rest(e, "apigateway", "POST", path,
                     json_pack("{s:s, s:s}", "routeKey", "ANY /{proxy+}", "target", target), NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT name || ' ' || version FROM api WHERE api_id = '%s'", api_id),
        (snprintf(path, sizeof path, "%s 7", api), path));
    assert_string_equal(
        it_valf(e,
                "SELECT r.route_key || ' ' || f.name FROM api_route r JOIN api a "
                "ON a.id = r.api JOIN lambda_function f ON f.id = r.lambda_function "
                "WHERE a.api_id = '%s'",
                api_id),
        (snprintf(path, sizeof path, "ANY /{proxy+} %s", fn), path));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* deleted outside: the rows go */
    snprintf(path, sizeof path, "/v2/apis/%s", api_id);
    json_decref(rest(e, "apigateway", "DELETE", path, NULL, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_valf(e, "SELECT count(*) FROM api WHERE api_id = '%s'", api_id), "0");
    assert_string_equal(it_value(e, "SELECT count(*) FROM api_route"), "0");
    free(fn_arn), free(api_id);
}

static void test_lambda_bad_input(void **state)
{
    it_env *e = *state;
#define FN(cols, vals, more)                                                                       \
    "INSERT INTO lambda_function (name, runtime, handler, role, zip_b64" cols ") SELECT " vals     \
    ", id, 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=='" more " FROM iam_role LIMIT 1"
    static const it_reject cases[] = {
        {FN("", "'bad name!', 'python3.12', 'i.h'", ""),
         "lambda_function_name_1_to_64_letters_digits_hyphens_underscores"},
        {FN("", "repeat('a', 65), 'python3.12', 'i.h'", ""),
         "lambda_function_name_1_to_64_letters_digits_hyphens_underscores"},
        {FN("", "'ok', 'cobol85', 'i.h'", ""), "lambda_function_runtime_one_lambda_names"},
        {FN("", "'ok', 'python3.12', 'has space'", ""),
         "lambda_function_handler_1_to_128_characters_no_whitespace"},
        {FN(", memory_size", "'ok', 'python3.12', 'i.h'", ", 64"),
         "lambda_function_memory_size_128_to_10240_mb"},
        {FN(", memory_size", "'ok', 'python3.12', 'i.h'", ", 10241"),
         "lambda_function_memory_size_128_to_10240_mb"},
        {FN(", timeout", "'ok', 'python3.12', 'i.h'", ", 901"),
         "lambda_function_timeout_1_to_900_seconds"},
        {FN(", timeout", "'ok', 'python3.12', 'i.h'", ", 0"),
         "lambda_function_timeout_1_to_900_seconds"},
        {FN(", environment", "'ok', 'python3.12', 'i.h'", ", '{\"1BAD\": \"x\"}'"),
         "lambda_function_environment_strings_or_secrets_up_to_4_kb"},
        {FN(", environment", "'ok', 'python3.12', 'i.h'", ", '{\"AWS_REGION\": \"x\"}'"),
         "lambda_function_environment_strings_or_secrets_up_to_4_kb"},
        {FN(", environment", "'ok', 'python3.12', 'i.h'", ", '{\"N\": 1}'"),
         "lambda_function_environment_strings_or_secrets_up_to_4_kb"},
        {FN(", environment", "'ok', 'python3.12', 'i.h'", ", '{\"KEY\": {\"vault\": \"x\"}}'"),
         "lambda_function_environment_strings_or_secrets_up_to_4_kb"},
        {FN(", environment", "'ok', 'python3.12', 'i.h'",
            ", jsonb_build_object('BIG', repeat('x', 4100))"),
         "lambda_function_environment_strings_or_secrets_up_to_4_kb"},
        {FN(", architecture", "'ok', 'python3.12', 'i.h'", ", 'sparc'"),
         "lambda_function_architecture_x86_64_or_arm64"},
        {FN(", s3_bucket, s3_key", "'ok', 'python3.12', 'i.h'", ", 'bucket', 'k.zip'"),
         "lambda_function_code_from_zip_b64_or_s3_one_of_the_two"},
        {"INSERT INTO lambda_function (name, runtime, handler, role) SELECT 'ok', 'python3.12', "
         "'i.h', id FROM iam_role LIMIT 1",
         "lambda_function_code_from_zip_b64_or_s3_one_of_the_two"},
        {"INSERT INTO lambda_function (name, runtime, handler, role, s3_bucket) SELECT 'ok', "
         "'python3.12', 'i.h', id, 'bucket' FROM iam_role LIMIT 1",
         "lambda_function_s3_key_with_s3_bucket"},
        {"INSERT INTO lambda_function (name, runtime, handler, role, s3_bucket, s3_key) SELECT "
         "'ok', 'python3.12', 'i.h', id, 'B!', 'k' FROM iam_role LIMIT 1",
         "lambda_function_s3_bucket_3_to_63_bucket_characters"},
        {"INSERT INTO lambda_function (name, runtime, handler, role, zip_b64) SELECT 'ok', "
         "'python3.12', 'i.h', id, 'not base64 at all!' FROM iam_role LIMIT 1",
         "lambda_function_zip_b64_a_base64_zip_up_to_5_mib"},
        {"INSERT INTO lambda_function (name, runtime, handler, role, zip_b64) SELECT 'ok', "
         "'python3.12', 'i.h', id, encode('just text, not a zip archive', 'base64') "
         "FROM iam_role LIMIT 1",
         "lambda_function_zip_b64_a_base64_zip_up_to_5_mib"},
        {FN(", url_auth_type", "'ok', 'python3.12', 'i.h'", ", 'OPEN'"),
         "lambda_function_url_auth_type_none_or_aws_iam"},
        {FN(", url_cors", "'ok', 'python3.12', 'i.h'", ", '{\"AllowOrigins\": [\"*\"]}'"),
         "lambda_function_url_cors_with_a_url_in_lambdas_cors_shape"},
        {FN(", url_auth_type, url_cors", "'ok', 'python3.12', 'i.h'",
            ", 'NONE', '{\"Origins\": 1}'"),
         "lambda_function_url_cors_with_a_url_in_lambdas_cors_shape"},
        {FN(", subnets", "'ok', 'python3.12', 'i.h'", ", '{1}'"),
         "lambda_function_up_to_16_subnets_and_5_security_groups_or_none"},
        {FN(", subnets, security_groups", "'ok', 'python3.12', 'i.h'", ", '{1}', '{2}'"),
         "lambda_function_subnets_exist_in_one_vpc"},
        {FN(", tags", "'ok', 'python3.12', 'i.h'", ", '{\"aws:k\": \"v\"}'"),
         "lambda_function_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {FN(", region", "'ok', 'python3.12', 'i.h'", ", 'mars-1'"), "lambda_function_region_fkey"},
        {"INSERT INTO lambda_function (name, runtime, handler, role, zip_b64) VALUES ('ok', "
         "'python3.12', 'i.h', -1, 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==')",
         "lambda_function_role_exists"},
        {"INSERT INTO lambda_permission (function_name, statement_id, principal) VALUES "
         "('nope', 'a', 's3.amazonaws.com')",
         "lambda_permission_function_exists_in_its_region"},
        {"INSERT INTO api (name) VALUES ('')", "api_name_1_to_128_characters"},
        {"INSERT INTO api (name, protocol_type) VALUES ('ws', 'WEBSOCKET')",
         "api_protocol_type_http"},
        {"INSERT INTO api (name, cors_configuration) VALUES ('c', '{\"allowOrigins\": \"*\"}')",
         "api_cors_configuration_in_api_gateways_cors_shape"},
        {"INSERT INTO api (name, cors_configuration) VALUES ('c', '{\"maxAge\": 100000}')",
         "api_cors_configuration_in_api_gateways_cors_shape"},
        {"INSERT INTO api (name, version) VALUES ('v', '')", "api_version_1_to_64_characters"},
        {"INSERT INTO api_route (api, route_key, lambda_function) VALUES (-1, 'GET /', -1)",
         "api_route_api_exists_in_its_region"},
    };
    /* the cases above that need a function row name one of this database */
    assert_true(it_ok(e,
                      "INSERT INTO lambda_function (name, runtime, handler, role, zip_b64) "
                      "SELECT 'bad-input-fn', 'python3.12', 'i.h', id, "
                      "'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==' FROM iam_role LIMIT 1",
                      0, NULL));
    assert_true(it_ok(e, "INSERT INTO api (name) VALUES ('bad-input-api')", 0, NULL));
    char *before =
        it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"));
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    static const it_reject more[] = {
        {"INSERT INTO lambda_permission (function_name, statement_id, principal) VALUES "
         "('bad-input-fn', 'iasql-mine', 's3.amazonaws.com')",
         "lambda_permission_statement_id_1_to_100_word_chars_not_iasql"},
        {"INSERT INTO lambda_permission (function_name, statement_id, action, principal) VALUES "
         "('bad-input-fn', 'a', 's3:GetObject', 's3.amazonaws.com')",
         "lambda_permission_action_lambda_action_or_wildcard"},
        {"INSERT INTO lambda_permission (function_name, statement_id, principal) VALUES "
         "('bad-input-fn', 'a', 'two words')",
         "lambda_permission_principal_without_whitespace"},
        {"INSERT INTO lambda_permission (function_name, statement_id, principal, source_arn) "
         "VALUES ('bad-input-fn', 'a', 's3.amazonaws.com', 'bucket')",
         "lambda_permission_source_arn_an_arn"},
        {"INSERT INTO lambda_permission (function_name, statement_id, principal, source_account) "
         "VALUES ('bad-input-fn', 'a', 's3.amazonaws.com', '123')",
         "lambda_permission_source_account_12_digits"},
        {"INSERT INTO lambda_permission (function_name, statement_id, principal) VALUES "
         "('bad-input-fn', 'a', 's3.amazonaws.com'), ('bad-input-fn', 'a', 'sns.amazonaws.com')",
         "lambda_permission_statement_id_unique_per_function"},
        {"INSERT INTO api_route (api, route_key, lambda_function) SELECT a.id, 'FETCH /x', f.id "
         "FROM api a, lambda_function f WHERE a.name = 'bad-input-api' AND f.name = "
         "'bad-input-fn'",
         "api_route_route_key_default_or_method_and_path"},
        {"INSERT INTO api_route (api, route_key, lambda_function) SELECT a.id, 'GET /x', f.id "
         "FROM api a, lambda_function f, generate_series(1, 2) WHERE a.name = 'bad-input-api' "
         "AND f.name = 'bad-input-fn'",
         "api_route_route_key_unique_in_its_api"},
        {"INSERT INTO api_route (api, route_key, lambda_function) SELECT id, 'GET /x', -1 FROM api "
         "WHERE name = 'bad-input-api'",
         "api_route_lambda_function_exists_in_its_region"},
        {"UPDATE lambda_function SET name = 'bad-input-fn-2' WHERE name = 'bad-input-fn'",
         "lambda_function_zip_b64_set_anew_with_a_new_name_or_region"},
    };
    it_expect_rejected(e, more, sizeof more / sizeof more[0]);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"),
                        before);
    /* nothing was sent */
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    free(before);
}

/* The poller's rotation (--poll 1 --poll-deep 5: four slots): a quiet
 * poll of the functions costs the ListFunctions page, the tagging API page
 * and the URL reads of about a quarter of them, not of all (--poll-deep
 * 1); the permissions, the policy reads of the functions that have known
 * permissions and of a quarter of the others. Nothing is written; a URL
 * added outside is seen within the rotation, a function new in the cloud
 * comes in whole at once. */
static void test_lambda_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 24 };
    int pid = (int)getpid();
    assert_true(it_okf(e,
                       "INSERT INTO lambda_function (name, runtime, handler, role, zip_b64) "
                       "SELECT 'rot-' || g || '-%d', 'python3.12', 'index.handler', r.id, '%s' "
                       "FROM iam_role r, generate_series(1, %d) g WHERE r.role_name = '%s'",
                       pid, ZIP_ONE, N, role_name()));
    assert_true(it_okf(e,
                       "INSERT INTO lambda_permission (function_name, statement_id, principal) "
                       "VALUES ('rot-1-%d', 'from-s3', 's3.amazonaws.com'), "
                       "('rot-2-%d', 'from-s3', 's3.amazonaws.com')",
                       pid, pid));
    it_expect_commit(e, N + 2, "create");
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long full[2], req[4], pfull[2], preq[4], sum = 0, psum = 0;
    it_rotation_start(e, "1", "lambda_function", full, 2);
    it_rotation_start(e, "1", "lambda_permission", pfull, 2);
    it_rotation_start(e, "5", "lambda_function", req, 4);
    it_rotation_start(e, "5", "lambda_permission", preq, 4);
    for (int i = 0; i < 4; i++) {
        assert_true(req[i] <= 2 + (N / 4) * 2);
        assert_true(preq[i] <= 1 + 2 + (N / 4) * 2);
        sum += req[i];
        psum += preq[i];
    }
    assert_true(full[0] >= 2 + N && full[1] >= 2 + N);
    assert_true(pfull[0] >= 1 + N && pfull[1] >= 1 + N);
    assert_true(sum <= 4 * 2 + N + 8);        /* each one's URL once a rotation */
    assert_true(psum <= 4 * 3 + (N - 2) + 8); /* known policies each poll, the rest once */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    print_message("rotation: %d functions, quiet polls of lambda_function %ld %ld in full, "
                  "%ld %ld %ld %ld under the rotation; of lambda_permission %ld %ld, "
                  "%ld %ld %ld %ld\n",
                  N, full[0], full[1], req[0], req[1], req[2], req[3], pfull[0], pfull[1], preq[0],
                  preq[1], preq[2], preq[3]);
    /* outside: a URL on a known function, a permission on another, a new function */
    char name[64], other[64], made[64], path[160];
    snprintf(name, sizeof name, "rot-3-%d", pid);
    snprintf(other, sizeof other, "rot-4-%d", pid);
    snprintf(made, sizeof made, "rot-made-%d", pid);
    snprintf(path, sizeof path, "/2021-10-31/functions/%s/url", name);
    json_decref(lambda(e, "POST", path, json_pack("{s:s}", "AuthType", "NONE"), NULL));
    snprintf(path, sizeof path, "/2015-03-31/functions/%s/policy", other);
    json_decref(lambda(e, "POST", path,
                       json_pack("{s:s, s:s, s:s}", "StatementId", "late", "Action",
                                 "lambda:InvokeFunction", "Principal", "events.amazonaws.com"),
                       NULL));
    char *arn = role_arn(e);
    json_decref(lambda(e, "POST", "/2015-03-31/functions",
                       json_pack("{s:s, s:s, s:s, s:s, s:{s:s}, s:{s:s}}", "FunctionName", made,
                                 "Runtime", "python3.12", "Role", arn, "Handler", "index.handler",
                                 "Code", "ZipFile", ZIP_ONE, "Tags", "by", "console"),
                       NULL));
    double t0 = it_now_s();
    assert_true(it_eventually(e, "NONE",
                              "SELECT coalesce(url_auth_type, '') FROM lambda_function "
                              "WHERE name = '%s'",
                              name));
    assert_true(it_eventually(
        e, "1", "SELECT count(*) FROM lambda_permission WHERE function_name = '%s'", other));
    print_message("a URL and a permission added outside seen in %.1f s\n", it_now_s() - t0);
    assert_true(it_eventually(e, "console",
                              "SELECT coalesce(tags->>'by', '') FROM lambda_function "
                              "WHERE name = '%s'",
                              made));
    it_rotation_end(e);
    free(audit), free(arn);
}

/* The rotation by parent (--poll 1 --poll-deep 12: ten slots) of the
 * permissions: a quiet poll costs the ListFunctions page and the GetPolicy
 * of about a tenth of the functions, not one a function (--poll-deep 1),
 * and writes nothing: the known permissions of the functions skipped all
 * stay. Nothing counts a function's statements, so a permission added or
 * removed outside is seen in its function's turn, within the rotation; a
 * function new in the cloud has its policy read at once. */
static void test_permission_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 12 };
    int pid = (int)getpid();
    assert_true(it_okf(e,
                       "INSERT INTO lambda_function (name, runtime, handler, role, zip_b64) "
                       "SELECT 'pr-' || g || '-%d', 'python3.12', 'index.handler', r.id, '%s' "
                       "FROM iam_role r, generate_series(1, %d) g WHERE r.role_name = '%s'",
                       pid, ZIP_ONE, N, role_name()));
    assert_true(it_ok(e,
                      "INSERT INTO lambda_permission (function_name, statement_id, principal) "
                      "SELECT name, 'from-s3', 's3.amazonaws.com' FROM lambda_function",
                      0, NULL));
    it_expect_commit(e, 2 * N, "create");
    int functions = atoi(it_value(e, "SELECT count(*) FROM lambda_function"));
    int perms = atoi(it_value(e, "SELECT count(*) FROM lambda_permission"));
    assert_int_equal(perms, functions);
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long full[2], req[10], sum = 0;
    it_rotation_start(e, "1", "lambda_permission", full, 2);
    it_rotation_start(e, "12", "lambda_permission", req, 10);
    for (int i = 0; i < 10; i++)
        sum += req[i];
    print_message("rotation by function: %d functions, %d permissions, quiet polls %ld %ld in "
                  "full, %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld under it (sum %ld)\n",
                  functions, perms, full[0], full[1], req[0], req[1], req[2], req[3], req[4],
                  req[5], req[6], req[7], req[8], req[9], sum);
    for (int i = 0; i < 10; i++)
        assert_true(req[i] <= 1 + 3 * ((functions + 9) / 10));
    assert_true(full[0] >= 1 + functions && full[1] >= 1 + functions);
    assert_true(sum <= 10 + functions + 4); /* each policy about once a rotation */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    assert_int_equal(atoi(it_value(e, "SELECT count(*) FROM lambda_permission")), perms);
    char f1[64], f2[64], made[64], path[160];
    snprintf(f1, sizeof f1, "pr-1-%d", pid);
    snprintf(f2, sizeof f2, "pr-2-%d", pid);
    snprintf(made, sizeof made, "pr-made-%d", pid);
    double within = 12 * 1.2 + 5;
    /* added outside */
    snprintf(path, sizeof path, "/2015-03-31/functions/%s/policy", f1);
    json_decref(lambda(e, "POST", path,
                       json_pack("{s:s, s:s, s:s}", "StatementId", "late", "Action",
                                 "lambda:InvokeFunction", "Principal", "events.amazonaws.com"),
                       NULL));
    double added =
        it_seen_within(e, within, "events.amazonaws.com",
                       "SELECT principal FROM lambda_permission WHERE function_name = '%s' AND "
                       "statement_id = 'late'",
                       f1);
    /* removed outside */
    snprintf(path, sizeof path, "/2015-03-31/functions/%s/policy/from-s3", f2);
    json_decref(lambda(e, "DELETE", path, NULL, NULL));
    double removed = it_seen_within(
        e, within, "0", "SELECT count(*) FROM lambda_permission WHERE function_name = '%s'", f2);
    /* a function new in the cloud, with a permission */
    char *arn = role_arn(e);
    json_decref(lambda(e, "POST", "/2015-03-31/functions",
                       json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "FunctionName", made, "Runtime",
                                 "python3.12", "Role", arn, "Handler", "index.handler", "Code",
                                 "ZipFile", ZIP_ONE),
                       NULL));
    snprintf(path, sizeof path, "/2015-03-31/functions/%s/policy", made);
    json_decref(lambda(e, "POST", path,
                       json_pack("{s:s, s:s, s:s}", "StatementId", "new", "Action",
                                 "lambda:InvokeFunction", "Principal", "sns.amazonaws.com"),
                       NULL));
    double fresh = it_seen_within(
        e, within, "1", "SELECT count(*) FROM lambda_permission WHERE function_name = '%s'", made);
    print_message("a permission added outside seen in %.1f s, one removed in %.1f s, one of a "
                  "function new in the cloud in %.1f s\n",
                  added, removed, fresh);
    assert_true(added >= 0);
    assert_true(removed >= 0);
    assert_true(fresh >= 0 && fresh < 6);
    /* every other known permission stayed */
    assert_int_equal(atoi(it_value(e, "SELECT count(*) FROM lambda_permission")), perms + 1);
    /* the database is what the cloud holds: a full listing finds nothing */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_sync_preview()"), "0");
    it_rotation_end(e);
    free(audit), free(arn);
}

/* The rotation by parent of the routes (--poll 1 --poll-deep 12): a quiet
 * poll costs the GetApis page and the GetIntegrations and GetRoutes of
 * about a tenth of the APIs, not two calls an API (--poll-deep 1), and
 * writes nothing: the known routes of the APIs skipped all stay. A route
 * made or deleted outside is seen in its API's turn, within the rotation;
 * an API new in the cloud has its routes listed at once. */
static void test_route_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 12 };
    int pid = (int)getpid();
    char fn[64];
    snprintf(fn, sizeof fn, "rr-fn-%d", pid);
    assert_true(it_okf(e,
                       "INSERT INTO lambda_function (name, runtime, handler, role, zip_b64) "
                       "SELECT '%s', 'python3.12', 'index.handler', r.id, '%s' FROM iam_role r "
                       "WHERE r.role_name = '%s'",
                       fn, ZIP_ONE, role_name()));
    assert_true(it_okf(e,
                       "INSERT INTO api (name) SELECT 'rr-' || g || '-%d' FROM "
                       "generate_series(1, %d) g",
                       pid, N));
    assert_true(it_okf(e,
                       "INSERT INTO api_route (api, route_key, lambda_function) SELECT a.id, "
                       "'GET /hello', f.id FROM api a, lambda_function f WHERE f.name = '%s'",
                       fn));
    it_expect_commit(e, 1 + 2 * N, "create");
    int apis = atoi(it_value(e, "SELECT count(*) FROM api"));
    int routes = atoi(it_value(e, "SELECT count(*) FROM api_route"));
    assert_int_equal(routes, apis);
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long full[2], req[10], sum = 0;
    it_rotation_start(e, "1", "api_route", full, 2);
    it_rotation_start(e, "12", "api_route", req, 10);
    for (int i = 0; i < 10; i++)
        sum += req[i];
    print_message("rotation by API: %d APIs, %d routes, quiet polls %ld %ld in full, "
                  "%ld %ld %ld %ld %ld %ld %ld %ld %ld %ld under it (sum %ld)\n",
                  apis, routes, full[0], full[1], req[0], req[1], req[2], req[3], req[4], req[5],
                  req[6], req[7], req[8], req[9], sum);
    for (int i = 0; i < 10; i++)
        assert_true(req[i] <= 1 + 2 * 3 * ((apis + 9) / 10));
    assert_true(full[0] >= 1 + 2 * apis && full[1] >= 1 + 2 * apis);
    assert_true(sum <= 10 + 2 * apis + 8); /* each API listed about once a rotation */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    assert_int_equal(atoi(it_value(e, "SELECT count(*) FROM api_route")), routes);
    char a1[64], a2[64], made[64], path[160], target[96];
    snprintf(a1, sizeof a1, "rr-1-%d", pid);
    snprintf(a2, sizeof a2, "rr-2-%d", pid);
    snprintf(made, sizeof made, "rr-made-%d", pid);
    char *id1 = it_strdup(it_valf(e, "SELECT api_id FROM api WHERE name = '%s'", a1));
    char *fn_arn = it_strdup(it_valf(e, "SELECT arn FROM lambda_function WHERE name = '%s'", fn));
    double within = 12 * 1.2 + 5;
    /* made outside: an integration and a route to it */
    snprintf(path, sizeof path, "/v2/apis/%s/integrations", id1);
    json_t *in = rest(e, "apigateway", "POST", path,
                      json_pack("{s:s, s:s, s:s}", "integrationType", "AWS_PROXY", "integrationUri",
                                fn_arn, "payloadFormatVersion", "2.0"),
                      NULL);
    snprintf(target, sizeof target, "integrations/%s",
             json_string_value(json_object_get(in, "integrationId")));
    json_decref(in);
    snprintf(path, sizeof path, "/v2/apis/%s/routes", id1);
    json_decref(rest(e, "apigateway", "POST", path,
                     json_pack("{s:s, s:s}", "routeKey", "POST /late", "target", target), NULL));
    double added = it_seen_within(e, within, "1",
                                  "SELECT count(*) FROM api_route r JOIN api a ON a.id = r.api "
                                  "WHERE a.name = '%s' AND r.route_key = 'POST /late'",
                                  a1);
    /* deleted outside */
    char *id2 = it_strdup(it_valf(e, "SELECT api_id FROM api WHERE name = '%s'", a2));
    char *rid = it_strdup(it_valf(e,
                                  "SELECT route_id FROM api_route r JOIN api a ON a.id = r.api "
                                  "WHERE a.name = '%s'",
                                  a2));
    snprintf(path, sizeof path, "/v2/apis/%s/routes/%s", id2, rid);
    json_decref(rest(e, "apigateway", "DELETE", path, NULL, NULL));
    double removed = it_seen_within(e, within, "0",
                                    "SELECT count(*) FROM api_route r JOIN api a ON a.id = r.api "
                                    "WHERE a.name = '%s'",
                                    a2);
    /* an API new in the cloud, with a route */
    json_t *a = rest(e, "apigateway", "POST", "/v2/apis",
                     json_pack("{s:s, s:s}", "name", made, "protocolType", "HTTP"), NULL);
    char *idm = it_strdup(json_string_value(json_object_get(a, "apiId")));
    json_decref(a);
    snprintf(path, sizeof path, "/v2/apis/%s/integrations", idm);
    in = rest(e, "apigateway", "POST", path,
              json_pack("{s:s, s:s, s:s}", "integrationType", "AWS_PROXY", "integrationUri", fn_arn,
                        "payloadFormatVersion", "2.0"),
              NULL);
    snprintf(target, sizeof target, "integrations/%s",
             json_string_value(json_object_get(in, "integrationId")));
    json_decref(in);
    snprintf(path, sizeof path, "/v2/apis/%s/routes", idm);
    json_decref(rest(e, "apigateway", "POST", path,
                     json_pack("{s:s, s:s}", "routeKey", "$default", "target", target), NULL));
    double fresh = it_seen_within(e, within, "1",
                                  "SELECT count(*) FROM api_route r JOIN api a ON a.id = r.api "
                                  "WHERE a.name = '%s'",
                                  made);
    print_message("a route made outside seen in %.1f s, one deleted in %.1f s, one of an API new "
                  "in the cloud in %.1f s\n",
                  added, removed, fresh);
    assert_true(added >= 0);
    assert_true(removed >= 0);
    assert_true(fresh >= 0 && fresh < 6);
    /* every other known route stayed */
    assert_int_equal(atoi(it_value(e, "SELECT count(*) FROM api_route")), routes + 1);
    /* the database is what the cloud holds: a full listing finds nothing */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_sync_preview()"), "0");
    it_rotation_end(e);
    free(audit), free(id1), free(id2), free(idm), free(rid), free(fn_arn);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_function_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_function_zip_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_function_missing_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_function_import_and_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_api_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lambda_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lambda_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permission_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_lambda and aws_api_gateway", tests, NULL, NULL);
}
