/* tests/integration/it_s3.c — a bucket's settings against moto_server
 * (s3rver has few of them): policy, versioning and public access block;
 * lifecycle rules, CORS rules and default encryption; and its website
 * (table bucket_website). Each set at create, changed and removed in
 * place, imported from a bucket configured in the cloud, drift brought in
 * by a sync, a rollback to the first commit, the poller's rotation, and
 * bad values refused at INSERT. The cloud is read with plain HTTP. */
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

#define NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""
#define LIFECYCLE                                                                                  \
    "[{\"ID\": \"expire-logs\", \"Status\": \"Enabled\", \"Filter\": {\"Prefix\": \"logs/\"}, "    \
    "\"Expiration\": {\"Days\": 30}}, "                                                            \
    "{\"ID\": \"archive\", \"Status\": \"Disabled\", "                                             \
    "\"Transitions\": [{\"Days\": 90, \"StorageClass\": \"GLACIER\"}, "                            \
    "{\"Date\": \"2031-01-01\", \"StorageClass\": \"DEEP_ARCHIVE\"}], "                            \
    "\"AbortIncompleteMultipartUpload\": {\"DaysAfterInitiation\": 7}}, "                          \
    "{\"ID\": \"old-versions\", \"Status\": \"Enabled\", "                                         \
    "\"Filter\": {\"And\": {\"Prefix\": \"data/\", \"Tags\": [{\"Key\": \"tier\", \"Value\": "     \
    "\"cold\"}]}}, \"NoncurrentVersionTransitions\": [{\"NoncurrentDays\": 5, "                    \
    "\"StorageClass\": \"STANDARD_IA\"}], \"NoncurrentVersionExpiration\": {\"NoncurrentDays\": "  \
    "40}}, {\"ID\": \"markers\", \"Status\": \"Enabled\", \"Filter\": {\"Tag\": {\"Key\": "        \
    "\"tmp\", \"Value\": \"yes\"}}, \"Expiration\": {\"ExpiredObjectDeleteMarker\": true}}]"
#define CORS                                                                                       \
    "[{\"ID\": \"app\", \"AllowedMethods\": [\"GET\", \"PUT\"], \"AllowedOrigins\": "              \
    "[\"https://app.example.com\"], \"AllowedHeaders\": [\"*\"], \"ExposeHeaders\": [\"ETag\"], "  \
    "\"MaxAgeSeconds\": 3000}, {\"AllowedMethods\": [\"HEAD\"], \"AllowedOrigins\": [\"*\"]}]"
#define ROUTING                                                                                    \
    "[{\"Condition\": {\"KeyPrefixEquals\": \"docs/\"}, \"Redirect\": {\"ReplaceKeyPrefixWith\": " \
    "\"documents/\"}}, {\"Condition\": {\"HttpErrorCodeReturnedEquals\": \"404\"}, \"Redirect\": " \
    "{\"HostName\": \"example.com\", \"Protocol\": \"https\", \"HttpRedirectCode\": \"302\"}}]"

static long put_sub(it_env *e, const char *bucket, const char *query, const char *body)
{
    char url[512];
    snprintf(url, sizeof url, "%s/%s?%s", e->emulator, bucket, query);
    return it_http_full("s3", "Content-Type: application/xml", "PUT", url, body, NULL);
}

static long del_sub(it_env *e, const char *bucket, const char *query)
{
    char url[512];
    snprintf(url, sizeof url, "%s/%s?%s", e->emulator, bucket, query);
    return it_http_as("s3", "DELETE", url, NULL, NULL);
}

/* The body of a sub-resource, copied for the caller to free; NULL when S3
 * answers 404, that it is not configured. */
static char *cloud_sub(it_env *e, const char *bucket, const char *query)
{
    const char *out;
    long st = sub(e, bucket, query, &out);
    if (st == 404)
        return NULL;
    assert_int_equal(st, 200);
    return strdup(out);
}

static void assert_has(const char *hay, const char *needle)
{
    if (!hay || !strstr(hay, needle))
        fail_msg("expected %s in %s", needle, hay ? hay : "(nothing)");
}

/* No drift: a sync finds what the database holds. */
static void assert_in_sync(it_env *e)
{
    PGresult *r = it_sql(e, "SELECT action, table_name, description FROM iasql_sync()", 0, NULL);
    assert_non_null(r);
    for (int i = 0; i < PQntuples(r); i++)
        print_message("unexpected: %s %s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                      PQgetvalue(r, i, 2));
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
}

/* Lifecycle rules, CORS rules and default encryption: set at create, read
 * back as written (a sync writes nothing), changed in place, removed. */
static void test_rules_and_encryption(void **state)
{
    it_env *e = *state;
    char a[64], b[64];
    snprintf(a, sizeof a, "rules-a-%d", (int)getpid());
    snprintf(b, sizeof b, "rules-b-%d", (int)getpid());
    const char *p[] = {a, b};
    assert_true(it_ok(e,
                      "INSERT INTO bucket (name, lifecycle_rules, cors_rules, sse_algorithm, "
                      "kms_master_key_id, bucket_key_enabled) VALUES ($1, '" LIFECYCLE "', '" CORS
                      "', 'aws:kms', 'alias/app-data', true)",
                      1, p));
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, p + 1));
    it_expect_commit(e, 2, "create");
    char *lc = cloud_sub(e, a, "lifecycle"), *cors = cloud_sub(e, a, "cors"),
         *enc = cloud_sub(e, a, "encryption");
    assert_has(lc, "<ID>expire-logs</ID>");
    assert_has(lc, "<Prefix>logs/</Prefix>");
    assert_has(lc, "<StorageClass>DEEP_ARCHIVE</StorageClass>");
    assert_has(lc, "<DaysAfterInitiation>7</DaysAfterInitiation>");
    assert_has(lc, "<NoncurrentDays>40</NoncurrentDays>");
    assert_has(lc, "<Key>tier</Key>");
    assert_has(lc, "<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>");
    assert_has(cors, "<AllowedMethod>PUT</AllowedMethod>");
    assert_has(cors, "<AllowedOrigin>https://app.example.com</AllowedOrigin>");
    assert_has(cors, "<ExposeHeader>ETag</ExposeHeader>");
    assert_has(cors, "<MaxAgeSeconds>3000</MaxAgeSeconds>");
    assert_has(cors, "<AllowedMethod>HEAD</AllowedMethod>");
    assert_has(enc, "<SSEAlgorithm>aws:kms</SSEAlgorithm>");
    assert_has(enc, "<KMSMasterKeyID>alias/app-data</KMSMasterKeyID>");
    assert_has(enc, "<BucketKeyEnabled>true</BucketKeyEnabled>");
    free(lc), free(cors), free(enc);
    /* the plain bucket: nothing written (SSE-S3 is S3's own default) */
    assert_null(cloud_sub(e, b, "lifecycle"));
    assert_null(cloud_sub(e, b, "cors"));
    assert_null(cloud_sub(e, b, "encryption"));
    assert_in_sync(e);

    /* in place: one rule changed and one dropped, CORS replaced, SSE-S3
     * again; the plain bucket gets rules and a key */
    assert_true(
        it_ok(e,
              "UPDATE bucket SET lifecycle_rules = jsonb_set(lifecycle_rules - 3 - 2 - 1, "
              "'{0,Expiration,Days}', '7'), cors_rules = '[{\"AllowedMethods\": [\"POST\", "
              "\"DELETE\"], \"AllowedOrigins\": [\"https://*.example.com\"], \"MaxAgeSeconds\": "
              "0}]', sse_algorithm = 'AES256', kms_master_key_id = NULL, bucket_key_enabled = "
              "false WHERE name = $1",
              1, p));
    assert_true(it_ok(e,
                      "UPDATE bucket SET lifecycle_rules = '[{\"ID\": \"abort\", \"Status\": "
                      "\"Enabled\", \"AbortIncompleteMultipartUpload\": {\"DaysAfterInitiation\": "
                      "2}}]', sse_algorithm = 'aws:kms:dsse', kms_master_key_id = "
                      "'arn:aws:kms:us-east-1:123456789012:key/abcd' WHERE name = $1",
                      1, p + 1));
    it_expect_commit(e, 2, "update");
    lc = cloud_sub(e, a, "lifecycle");
    cors = cloud_sub(e, a, "cors");
    enc = cloud_sub(e, a, "encryption");
    assert_has(lc, "<Days>7</Days>");
    assert_null(strstr(lc, "archive"));
    assert_has(cors, "<AllowedMethod>DELETE</AllowedMethod>");
    assert_null(strstr(cors, "app.example.com"));
    assert_has(enc, "<SSEAlgorithm>AES256</SSEAlgorithm>");
    assert_null(strstr(enc, "KMSMasterKeyID"));
    free(lc), free(cors), free(enc);
    lc = cloud_sub(e, b, "lifecycle");
    enc = cloud_sub(e, b, "encryption");
    assert_has(lc, "<ID>abort</ID>");
    assert_has(enc, "<SSEAlgorithm>aws:kms:dsse</SSEAlgorithm>");
    free(lc), free(enc);
    assert_in_sync(e);

    /* removed: an empty list deletes the configuration */
    assert_true(it_ok(
        e, "UPDATE bucket SET lifecycle_rules = '[]', cors_rules = '[]' WHERE name = $1", 1, p));
    it_expect_commit(e, 1, "update");
    assert_null(cloud_sub(e, a, "lifecycle"));
    assert_null(cloud_sub(e, a, "cors"));
    assert_true(it_ok(e, "UPDATE bucket SET lifecycle_rules = '[]' WHERE name = $1", 1, p + 1));
    it_expect_commit(e, 1, "update");
    assert_null(cloud_sub(e, b, "lifecycle"));
    assert_in_sync(e);
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name IN ($1, $2)", 2, p));
    it_expect_commit(e, 2, "delete");
    assert_false(it_cloud_has_bucket(e->emulator, a));
}

/* bucket_website: made with its bucket in one commit, changed to a
 * redirect of every request and back, removed alone, and removed with its
 * bucket. */
static void test_website(void **state)
{
    it_env *e = *state;
    char a[64];
    snprintf(a, sizeof a, "site-%d", (int)getpid());
    const char *p[] = {a};
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, p));
    /* as IaSQL's example writes it: the region is the bucket's */
    assert_true(it_ok(e,
                      "INSERT INTO bucket_website (bucket_name, index_document, error_document, "
                      "routing_rules) VALUES ($1, 'index.html', 'error.html', '" ROUTING "')",
                      1, p));
    assert_string_equal(it_value(e, "SELECT region = default_aws_region() FROM bucket_website"),
                        "t");
    it_expect_commit(e, 2, "create");
    char *w = cloud_sub(e, a, "website");
    assert_has(w, "<Suffix>index.html</Suffix>");
    assert_has(w, "<Key>error.html</Key>");
    assert_has(w, "<ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith>");
    assert_has(w, "<HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals>");
    assert_has(w, "<HttpRedirectCode>302</HttpRedirectCode>");
    free(w);
    assert_in_sync(e);

    /* in place: every request to another host, then an index again */
    assert_true(it_ok(e,
                      "UPDATE bucket_website SET index_document = NULL, error_document = NULL, "
                      "routing_rules = '[]', redirect_all_requests_to = 'www.example.com', "
                      "redirect_protocol = 'https' WHERE bucket_name = $1",
                      1, p));
    it_expect_commit(e, 1, "update");
    w = cloud_sub(e, a, "website");
    assert_has(w, "<RedirectAllRequestsTo><HostName>www.example.com</HostName>"
                  "<Protocol>https</Protocol></RedirectAllRequestsTo>");
    assert_null(strstr(w, "IndexDocument"));
    free(w);
    assert_in_sync(e);
    assert_true(it_ok(e,
                      "UPDATE bucket_website SET redirect_all_requests_to = NULL, "
                      "redirect_protocol = NULL, index_document = 'home.html' "
                      "WHERE bucket_name = $1",
                      1, p));
    it_expect_commit(e, 1, "update");
    w = cloud_sub(e, a, "website");
    assert_has(w, "<Suffix>home.html</Suffix>");
    free(w);

    /* the website alone goes; the bucket stays */
    assert_true(it_ok(e, "DELETE FROM bucket_website WHERE bucket_name = $1", 1, p));
    it_expect_commit(e, 1, "delete");
    assert_null(cloud_sub(e, a, "website"));
    assert_true(it_cloud_has_bucket(e->emulator, a));
    assert_in_sync(e);
    /* with its bucket: the website's row goes too, and is deleted first */
    assert_true(it_ok(e,
                      "INSERT INTO bucket_website (bucket_name, index_document) "
                      "VALUES ($1, 'index.html')",
                      1, p));
    it_expect_commit(e, 1, "create");
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name = $1", 1, p));
    assert_string_equal(it_value(e, "SELECT count(*) FROM bucket_website"), "0");
    it_expect_commit(e, 2, "delete");
    assert_false(it_cloud_has_bucket(e->emulator, a));
}

/* A bucket configured in the cloud, not through the database, comes in
 * whole at install; what changes outside afterwards comes in at a sync. */
static void test_rules_import_and_drift(void **state)
{
    it_env *e = *state;
    char a[64];
    snprintf(a, sizeof a, "console-cfg-%d", (int)getpid());
    const char *p[] = {a};
    char url[512];
    snprintf(url, sizeof url, "%s/%s", e->emulator, a);
    assert_int_equal(it_http_as("s3", "PUT", url, NULL, NULL), 200);
    assert_int_equal(put_sub(e, a, "lifecycle",
                             "<LifecycleConfiguration " NS "><Rule><ID>console-rule</ID>"
                             "<Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status>"
                             "<Expiration><Days>3</Days></Expiration></Rule>"
                             "</LifecycleConfiguration>"),
                     200);
    assert_int_equal(put_sub(e, a, "cors",
                             "<CORSConfiguration " NS
                             "><CORSRule><AllowedMethod>GET</AllowedMethod>"
                             "<AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>60</MaxAgeSeconds>"
                             "</CORSRule></CORSConfiguration>"),
                     200);
    assert_int_equal(put_sub(e, a, "encryption",
                             "<ServerSideEncryptionConfiguration " NS "><Rule>"
                             "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms"
                             "</SSEAlgorithm><KMSMasterKeyID>alias/console</KMSMasterKeyID>"
                             "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true"
                             "</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>"),
                     200);
    assert_int_equal(put_sub(e, a, "website",
                             "<WebsiteConfiguration " NS "><IndexDocument><Suffix>home.html"
                             "</Suffix></IndexDocument><ErrorDocument><Key>oops.html</Key>"
                             "</ErrorDocument></WebsiteConfiguration>"),
                     200);
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_s3')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_s3')", 0, NULL));
    PGresult *r = it_sql(e,
                         "SELECT lifecycle_rules, cors_rules, sse_algorithm, kms_master_key_id, "
                         "bucket_key_enabled FROM bucket WHERE name = $1",
                         1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(
        PQgetvalue(r, 0, 0),
        "[{\"ID\": \"console-rule\", \"Filter\": {\"Prefix\": \"tmp/\"}, \"Status\": "
        "\"Enabled\", \"Expiration\": {\"Days\": 3}}]");
    assert_string_equal(PQgetvalue(r, 0, 1), "[{\"MaxAgeSeconds\": 60, \"AllowedMethods\": "
                                             "[\"GET\"], \"AllowedOrigins\": [\"*\"]}]");
    assert_string_equal(PQgetvalue(r, 0, 2), "aws:kms");
    assert_string_equal(PQgetvalue(r, 0, 3), "alias/console");
    assert_string_equal(PQgetvalue(r, 0, 4), "t");
    PQclear(r);
    r = it_sql(e,
               "SELECT index_document, error_document, redirect_all_requests_to IS NULL, "
               "routing_rules FROM bucket_website WHERE bucket_name = $1",
               1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "home.html");
    assert_string_equal(PQgetvalue(r, 0, 1), "oops.html");
    assert_string_equal(PQgetvalue(r, 0, 2), "t");
    assert_string_equal(PQgetvalue(r, 0, 3), "[]");
    PQclear(r);
    assert_in_sync(e);
    /* imported as cloud events: nothing to commit, and the database's own
     * change to it applies over what was imported */
    assert_true(it_ok(e, "UPDATE bucket_website SET error_document = '404.html'", 0, NULL));
    it_expect_commit(e, 1, "update");
    char *w = cloud_sub(e, a, "website");
    assert_has(w, "<Key>404.html</Key>");
    free(w);

    /* drift: CORS and encryption changed, lifecycle and website removed in
     * the cloud (no grace period: the engine changed the website just now,
     * and within it a website the cloud no longer shows would be kept) */
    it_restart_engine(e, "off", "0");
    assert_int_equal(put_sub(e, a, "cors",
                             "<CORSConfiguration " NS "><CORSRule><ID>console</ID><AllowedMethod>"
                             "PUT</AllowedMethod><AllowedOrigin>https://x.example</AllowedOrigin>"
                             "<AllowedHeader>Content-Type</AllowedHeader></CORSRule>"
                             "</CORSConfiguration>"),
                     200);
    assert_int_equal(put_sub(e, a, "encryption",
                             "<ServerSideEncryptionConfiguration " NS "><Rule>"
                             "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256"
                             "</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>"
                             "</ServerSideEncryptionConfiguration>"),
                     200);
    long st = del_sub(e, a, "lifecycle");
    assert_true(st == 204 || st == 200);
    st = del_sub(e, a, "website");
    assert_true(st == 204 || st == 200);
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    r = it_sql(e,
               "SELECT lifecycle_rules, cors_rules, sse_algorithm, kms_master_key_id IS NULL, "
               "bucket_key_enabled FROM bucket WHERE name = $1",
               1, p);
    assert_string_equal(PQgetvalue(r, 0, 0), "[]");
    assert_string_equal(
        PQgetvalue(r, 0, 1),
        "[{\"ID\": \"console\", \"AllowedHeaders\": [\"Content-Type\"], "
        "\"AllowedMethods\": [\"PUT\"], \"AllowedOrigins\": [\"https://x.example\"]}]");
    assert_string_equal(PQgetvalue(r, 0, 2), "AES256");
    assert_string_equal(PQgetvalue(r, 0, 3), "t");
    assert_string_equal(PQgetvalue(r, 0, 4), "f");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM bucket_website"), "0");
    assert_in_sync(e);
    /* a website made outside on a known bucket, and the bucket deleted
     * outside with it */
    assert_int_equal(
        put_sub(e, a, "website",
                "<WebsiteConfiguration " NS "><RedirectAllRequestsTo><HostName>"
                "example.org</HostName></RedirectAllRequestsTo></WebsiteConfiguration>"),
        200);
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT redirect_all_requests_to FROM bucket_website"),
                        "example.org");
    assert_int_equal(it_http_as("s3", "DELETE", url, NULL, NULL), 204);
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_valf(e, "SELECT count(*) FROM bucket WHERE name = '%s'", a), "0");
    assert_string_equal(it_value(e, "SELECT count(*) FROM bucket_website"), "0");
    assert_in_sync(e);
}

/* An install whose import filter leaves a bucket out leaves its website
 * out too (it follows its bucket), and takes in the websites of the
 * buckets it takes. */
static void test_website_follows_import_filter(void **state)
{
    it_env *e = *state;
    char kept[64], left[64], url[512];
    snprintf(kept, sizeof kept, "filt-kept-%d", (int)getpid());
    snprintf(left, sizeof left, "filt-left-%d", (int)getpid());
    const char *names[] = {kept, left};
    for (int i = 0; i < 2; i++) {
        snprintf(url, sizeof url, "%s/%s", e->emulator, names[i]);
        assert_int_equal(it_http_as("s3", "PUT", url, NULL, NULL), 200);
        assert_int_equal(put_sub(e, names[i], "website",
                                 "<WebsiteConfiguration " NS "><IndexDocument><Suffix>i.html"
                                 "</Suffix></IndexDocument></WebsiteConfiguration>"),
                         200);
    }
    long st = put_sub(e, kept, "tagging",
                      "<Tagging " NS "><TagSet><Tag><Key>keep</Key><Value>yes</Value></Tag>"
                      "</TagSet></Tagging>");
    assert_true(st == 200 || st == 204);
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_s3')", 0, NULL));
    assert_true(it_ok(e,
                      "SELECT * FROM iasql_install(ARRAY['aws_s3'], "
                      "'{\"aws_s3\": {\"tag\": \"keep\"}}')",
                      0, NULL));
    assert_string_equal(it_value(e, "SELECT string_agg(bucket_name, ',') FROM bucket_website"),
                        kept);
    assert_string_equal(it_valf(e, "SELECT count(*) FROM bucket WHERE name = '%s'", left), "0");
    /* and a sync, which reads every bucket, still leaves it out */
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM bucket_website"), "1");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_errors"), "0");
    for (int i = 0; i < 2; i++) {
        del_sub(e, names[i], "website");
        del_sub(e, names[i], "tagging");
        snprintf(url, sizeof url, "%s/%s", e->emulator, names[i]);
        assert_int_equal(it_http_as("s3", "DELETE", url, NULL, NULL), 204);
    }
}

/* iasql_rollback to the first commit brings the rules, the encryption and
 * the website back as they were then, in the cloud too. */
static void test_rules_rollback(void **state)
{
    it_env *e = *state;
    char a[64];
    snprintf(a, sizeof a, "rb-cfg-%d", (int)getpid());
    const char *p[] = {a};
    assert_true(it_ok(e,
                      "INSERT INTO bucket (name, lifecycle_rules, cors_rules, sse_algorithm, "
                      "kms_master_key_id) VALUES ($1, '" LIFECYCLE "', '" CORS
                      "', 'aws:kms', 'alias/first')",
                      1, p));
    assert_true(it_ok(e,
                      "INSERT INTO bucket_website (bucket_name, index_document, error_document) "
                      "VALUES ($1, 'first.html', 'first-error.html')",
                      1, p));
    it_expect_commit(e, 2, "create");
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    assert_true(it_ok(e,
                      "UPDATE bucket SET lifecycle_rules = '[{\"ID\": \"second\", \"Status\": "
                      "\"Enabled\", \"Expiration\": {\"Days\": 1}}]', cors_rules = '[]', "
                      "sse_algorithm = 'AES256', kms_master_key_id = NULL WHERE name = $1",
                      1, p));
    assert_true(it_ok(e,
                      "UPDATE bucket_website SET index_document = NULL, error_document = NULL, "
                      "redirect_all_requests_to = 'second.example.com' WHERE bucket_name = $1",
                      1, p));
    it_expect_commit(e, 2, "update");
    assert_true(it_ok(e, "DELETE FROM bucket_website", 0, NULL));
    it_expect_commit(e, 1, "delete");
    assert_true(it_ok(e, "UPDATE bucket SET lifecycle_rules = '[]' WHERE name = $1", 1, p));
    it_expect_commit(e, 1, "update");
    assert_null(cloud_sub(e, a, "website"));
    assert_null(cloud_sub(e, a, "lifecycle"));

    const char *f[] = {first};
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, f));
    char *lc = cloud_sub(e, a, "lifecycle"), *cors = cloud_sub(e, a, "cors"),
         *enc = cloud_sub(e, a, "encryption"), *w = cloud_sub(e, a, "website");
    assert_has(lc, "<ID>expire-logs</ID>");
    assert_has(lc, "<ID>old-versions</ID>");
    assert_null(strstr(lc, "second"));
    assert_has(cors, "<AllowedOrigin>https://app.example.com</AllowedOrigin>");
    assert_has(enc, "<KMSMasterKeyID>alias/first</KMSMasterKeyID>");
    assert_has(w, "<Suffix>first.html</Suffix>");
    assert_has(w, "<Key>first-error.html</Key>");
    assert_null(strstr(w, "RedirectAllRequestsTo"));
    free(lc), free(cors), free(enc), free(w);
    assert_string_equal(it_value(e, "SELECT index_document FROM bucket_website"), "first.html");
    assert_in_sync(e);
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name = $1", 1, p));
    it_expect_commit(e, 2, "delete");
    free(first);
}

/* The poller's rotation (--poll 1 --poll-deep 5: four slots): a quiet poll
 * of known buckets costs a listing, a tagging page and the six settings
 * reads of about a quarter of them; one of bucket_website a filtered
 * listing and a GetBucketWebsite for about a quarter of them (those
 * without a website too, since one may be made outside). A CORS rule
 * changed outside and a website made outside are seen within the
 * rotation. */
static void test_rules_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 24 };
    int pid = (int)getpid();
    assert_true(it_okf(e,
                       "INSERT INTO bucket (name) SELECT 'rot-' || g || '-%d' "
                       "FROM generate_series(1, %d) g",
                       pid, N));
    assert_true(
        it_okf(e,
               "INSERT INTO bucket_website (bucket_name, index_document) SELECT 'rot-' || g "
               "|| '-%d', 'index.html' FROM generate_series(1, %d, 2) g",
               pid, N));
    it_expect_commit(e, N + N / 2, "create");
    int total = atoi(it_value(e, "SELECT count(*) FROM bucket"));
    /* bucket_website reads every bucket of the region, in the table or not */
    int listed = it_cloud_count_prefix(e->emulator, "");
    assert_true(listed >= total);
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long full[2], req[4], wreq[4], sum = 0, wsum = 0;
    it_rotation_start(e, "1", "bucket", full, 2);
    /* in full: location, tags and six settings a bucket */
    assert_true(full[0] >= 1 + 8 * total && full[1] >= 1 + 8 * total);
    it_rotation_start(e, "5", "bucket", req, 4);
    int wbefore = it_poll_requests(e, "bucket_website", 0, wreq, 0);
    double deadline = it_now_s() + 30;
    while (it_poll_requests(e, "bucket_website", wbefore, wreq, 4) < wbefore + 4 &&
           it_now_s() < deadline)
        it_sleep_ms(250);
    assert_true(it_poll_requests(e, "bucket_website", wbefore, wreq, 4) >= wbefore + 4);
    for (int i = 0; i < 4; i++) {
        assert_true(req[i] <= 2 + 6 * (total / 4) * 2);
        assert_true(wreq[i] <= 1 + (listed / 4) * 2);
        sum += req[i];
        wsum += wreq[i];
    }
    /* one rotation reads each bucket's settings once, and its website once */
    assert_true(sum <= 4 * 2 + 6 * total + 8);
    assert_true(wsum <= 4 * 1 + listed + 4);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    print_message("rotation: %d buckets, quiet polls in full %ld %ld; under the rotation %ld %ld "
                  "%ld %ld (bucket), %ld %ld %ld %ld (bucket_website)\n",
                  total, full[0], full[1], req[0], req[1], req[2], req[3], wreq[0], wreq[1],
                  wreq[2], wreq[3]);
    /* changed outside: seen within the rotation (4 polls of 1 s, jittered) */
    char one[64], two[64];
    snprintf(one, sizeof one, "rot-1-%d", pid);
    snprintf(two, sizeof two, "rot-2-%d", pid);
    assert_int_equal(put_sub(e, one, "cors",
                             "<CORSConfiguration " NS
                             "><CORSRule><AllowedMethod>GET</AllowedMethod>"
                             "<AllowedOrigin>https://outside.example</AllowedOrigin></CORSRule>"
                             "</CORSConfiguration>"),
                     200);
    assert_int_equal(put_sub(e, two, "website",
                             "<WebsiteConfiguration " NS "><IndexDocument><Suffix>outside.html"
                             "</Suffix></IndexDocument></WebsiteConfiguration>"),
                     200);
    double t0 = it_now_s();
    assert_true(it_eventually(
        e, "https://outside.example",
        "SELECT coalesce(cors_rules #>> '{0,AllowedOrigins,0}', '') FROM bucket WHERE name = '%s'",
        one));
    double cors_s = it_now_s() - t0;
    assert_true(it_eventually(e, "outside.html",
                              "SELECT index_document FROM bucket_website WHERE bucket_name = '%s'",
                              two));
    double site_s = it_now_s() - t0;
    print_message("a CORS rule changed outside seen in %.1f s, a website made outside in %.1f s\n",
                  cors_s, site_s);
    it_rotation_end(e);
    free(audit);
    assert_true(it_ok(e, "DELETE FROM bucket", 0, NULL));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
}

static void test_rules_bad_input(void **state)
{
    it_env *e = *state;
    char a[64];
    snprintf(a, sizeof a, "bad-site-%d", (int)getpid());
    const char *p[] = {a};
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1)", 1, p));
    it_expect_commit(e, 1, "create");
    char *before = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
#define B(col, v) "INSERT INTO bucket (name, " col ") VALUES ('bad-rules', '" v "')"
#define R(rule) B("lifecycle_rules", "[" rule "]")
#define C(rule) B("cors_rules", "[" rule "]")
#define OK_ACTION "\"Expiration\": {\"Days\": 1}"
    static const it_reject cases[] = {
        {B("lifecycle_rules", "{}"), "bucket_lifecycle_rules_up_to_1000_objects_of_known_members"},
        {R("\"x\""), "bucket_lifecycle_rules_up_to_1000_objects_of_known_members"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", \"Prefix\": \"x/\", " OK_ACTION "}"),
         "bucket_lifecycle_rules_up_to_1000_objects_of_known_members"},
        {R("{\"Status\": \"Enabled\", " OK_ACTION "}"),
         "bucket_lifecycle_rule_id_1_to_255_characters_unique"},
        {"INSERT INTO bucket (name, lifecycle_rules) VALUES ('bad-rules', jsonb_build_array("
         "jsonb_build_object('ID', repeat('x', 256), 'Status', 'Enabled', 'Expiration', "
         "'{\"Days\": 1}'::jsonb)))",
         "bucket_lifecycle_rule_id_1_to_255_characters_unique"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", " OK_ACTION "}, {\"ID\": \"a\", "
           "\"Status\": \"Enabled\", " OK_ACTION "}"),
         "bucket_lifecycle_rule_id_1_to_255_characters_unique"},
        {R("{\"ID\": \"a\", \"Status\": \"On\", " OK_ACTION "}"),
         "bucket_lifecycle_rule_status_enabled_or_disabled"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\"}"),
         "bucket_lifecycle_rule_at_least_one_action"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", \"Filter\": {}, " OK_ACTION "}"),
         "bucket_lifecycle_rule_filter_exactly_one_condition"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", \"Filter\": {\"Prefix\": \"\"}, " OK_ACTION
           "}"),
         "bucket_lifecycle_rule_filter_exactly_one_condition"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", \"Filter\": {\"Prefix\": \"a\", "
           "\"ObjectSizeLessThan\": 5}, " OK_ACTION "}"),
         "bucket_lifecycle_rule_filter_exactly_one_condition"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", \"Filter\": {\"Tag\": {\"Key\": "
           "\"k\"}}, " OK_ACTION "}"),
         "bucket_lifecycle_rule_filter_exactly_one_condition"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", \"Expiration\": {\"Days\": 0}}"),
         "bucket_lifecycle_rule_expiration_days_date_or_delete_marker"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", \"Expiration\": {\"Days\": 1, \"Date\": "
           "\"2030-01-01\"}}"),
         "bucket_lifecycle_rule_expiration_days_date_or_delete_marker"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", \"Expiration\": {\"Date\": "
           "\"2030-01-01T12:00:00Z\"}}"),
         "bucket_lifecycle_rule_expiration_days_date_or_delete_marker"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", \"Transitions\": [{\"Days\": 30, "
           "\"StorageClass\": \"STANDARD\"}]}"),
         "bucket_lifecycle_rule_transitions_days_or_date_and_class"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", \"Transitions\": []}"),
         "bucket_lifecycle_rule_transitions_days_or_date_and_class"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", \"NoncurrentVersionTransitions\": "
           "[{\"StorageClass\": \"GLACIER\"}]}"),
         "bucket_lifecycle_rule_noncurrent_versions_days_and_class"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", \"NoncurrentVersionExpiration\": "
           "{\"NoncurrentDays\": 5, \"NewerNoncurrentVersions\": 101}}"),
         "bucket_lifecycle_rule_noncurrent_versions_days_and_class"},
        {R("{\"ID\": \"a\", \"Status\": \"Enabled\", \"AbortIncompleteMultipartUpload\": "
           "{\"DaysAfterInitiation\": 1.5}}"),
         "bucket_lifecycle_rule_abort_uploads_days_after_initiation"},
        {B("cors_rules", "{\"AllowedMethods\": [\"GET\"]}"),
         "bucket_cors_rules_up_to_100_objects_of_known_members"},
        {C("{\"AllowedMethods\": [\"GET\"], \"AllowedOrigins\": [\"*\"], \"MaxAge\": 5}"),
         "bucket_cors_rules_up_to_100_objects_of_known_members"},
        {"INSERT INTO bucket (name, cors_rules) SELECT 'bad-rules', jsonb_agg(jsonb_build_object("
         "'AllowedMethods', '[\"GET\"]'::jsonb, 'AllowedOrigins', '[\"*\"]'::jsonb)) "
         "FROM generate_series(1, 101)",
         "bucket_cors_rules_up_to_100_objects_of_known_members"},
        {C("{\"AllowedMethods\": [\"PATCH\"], \"AllowedOrigins\": [\"*\"]}"),
         "bucket_cors_rule_allowed_methods_get_put_post_delete_head"},
        {C("{\"AllowedMethods\": \"GET\", \"AllowedOrigins\": [\"*\"]}"),
         "bucket_cors_rule_allowed_methods_get_put_post_delete_head"},
        {C("{\"AllowedMethods\": [], \"AllowedOrigins\": [\"*\"]}"),
         "bucket_cors_rule_allowed_methods_get_put_post_delete_head"},
        {C("{\"AllowedMethods\": [\"GET\"]}"),
         "bucket_cors_rule_allowed_origins_strings_one_wildcard"},
        {C("{\"AllowedMethods\": [\"GET\"], \"AllowedOrigins\": [\"https://*.*.example\"]}"),
         "bucket_cors_rule_allowed_origins_strings_one_wildcard"},
        {C("{\"AllowedMethods\": [\"GET\"], \"AllowedOrigins\": [\"*\"], \"AllowedHeaders\": "
           "[]}"),
         "bucket_cors_rule_headers_lists_of_strings_one_wildcard"},
        {C("{\"AllowedMethods\": [\"GET\"], \"AllowedOrigins\": [\"*\"], \"ExposeHeaders\": "
           "[5]}"),
         "bucket_cors_rule_headers_lists_of_strings_one_wildcard"},
        {C("{\"AllowedMethods\": [\"GET\"], \"AllowedOrigins\": [\"*\"], \"MaxAgeSeconds\": -1}"),
         "bucket_cors_rule_max_age_seconds_a_whole_number"},
        {C("{\"AllowedMethods\": [\"GET\"], \"AllowedOrigins\": [\"*\"], \"MaxAgeSeconds\": "
           "\"60\"}"),
         "bucket_cors_rule_max_age_seconds_a_whole_number"},
        {"INSERT INTO bucket (name, cors_rules) VALUES ('bad-rules', jsonb_build_array("
         "jsonb_build_object('ID', repeat('x', 256), 'AllowedMethods', '[\"GET\"]'::jsonb, "
         "'AllowedOrigins', '[\"*\"]'::jsonb)))",
         "bucket_cors_rule_id_up_to_255_characters"},
        {"INSERT INTO bucket (name, sse_algorithm) VALUES ('bad-rules', 'aws:fsx')",
         "bucket_sse_algorithm_aes256_aws_kms_or_aws_kms_dsse"},
        {"INSERT INTO bucket (name, sse_algorithm) VALUES ('bad-rules', 'KMS')",
         "bucket_sse_algorithm_aes256_aws_kms_or_aws_kms_dsse"},
        {"INSERT INTO bucket (name, kms_master_key_id) VALUES ('bad-rules', 'alias/x')",
         "bucket_kms_master_key_id_only_with_aws_kms"},
        {"INSERT INTO bucket (name, sse_algorithm, kms_master_key_id) VALUES ('bad-rules', "
         "'aws:kms', '')",
         "bucket_kms_master_key_id_not_empty"},
        /* the website */
        {"INSERT INTO bucket_website (bucket_name, index_document) VALUES ('no-such-bucket-x', "
         "'index.html')",
         "bucket_website_bucket_exists"},
        /* a website's region is its bucket's: another region names no bucket
         * (the foreign key refuses it before the region rule, which the
         * capture checks at the statement's end) */
        {"INSERT INTO bucket_website (bucket_name, region, index_document) SELECT name, "
         "'eu-west-1', 'index.html' FROM bucket LIMIT 1",
         "bucket_website_bucket_exists"},
        {"INSERT INTO bucket_website (bucket_name) SELECT name FROM bucket LIMIT 1",
         "bucket_website_index_document_or_redirect_all_requests_to"},
        {"INSERT INTO bucket_website (bucket_name, index_document, redirect_all_requests_to) "
         "SELECT name, 'index.html', 'example.com' FROM bucket LIMIT 1",
         "bucket_website_index_document_or_redirect_all_requests_to"},
        {"INSERT INTO bucket_website (bucket_name, index_document) SELECT name, 'a/index.html' "
         "FROM bucket LIMIT 1",
         "bucket_website_index_document_not_empty_no_slash"},
        {"INSERT INTO bucket_website (bucket_name, index_document, error_document) SELECT name, "
         "'index.html', '' FROM bucket LIMIT 1",
         "bucket_website_error_document_not_empty"},
        {"INSERT INTO bucket_website (bucket_name, redirect_all_requests_to, error_document) "
         "SELECT name, 'example.com', 'e.html' FROM bucket LIMIT 1",
         "bucket_website_error_document_and_rules_only_with_index"},
        {"INSERT INTO bucket_website (bucket_name, redirect_all_requests_to) SELECT name, "
         "'https://example.com/' FROM bucket LIMIT 1",
         "bucket_website_redirect_all_requests_to_a_host_name"},
        {"INSERT INTO bucket_website (bucket_name, redirect_all_requests_to, redirect_protocol) "
         "SELECT name, 'example.com', 'ftp' FROM bucket LIMIT 1",
         "bucket_website_redirect_protocol_http_or_https_with_redirect"},
        {"INSERT INTO bucket_website (bucket_name, index_document, redirect_protocol) SELECT "
         "name, 'index.html', 'https' FROM bucket LIMIT 1",
         "bucket_website_redirect_protocol_http_or_https_with_redirect"},
        {"INSERT INTO bucket_website (bucket_name, index_document, routing_rules) SELECT name, "
         "'index.html', '[{\"Condition\": {\"KeyPrefixEquals\": \"a/\"}}]' FROM bucket LIMIT 1",
         "bucket_website_routing_rules_up_to_50_redirects"},
        {"INSERT INTO bucket_website (bucket_name, index_document, routing_rules) SELECT name, "
         "'index.html', '[{\"Redirect\": {\"ReplaceKeyWith\": \"a\", \"ReplaceKeyPrefixWith\": "
         "\"b\"}}]' FROM bucket LIMIT 1",
         "bucket_website_routing_rules_up_to_50_redirects"},
        {"INSERT INTO bucket_website (bucket_name, index_document, routing_rules) SELECT name, "
         "'index.html', '[{\"Redirect\": {\"HttpRedirectCode\": \"200\"}}]' FROM bucket LIMIT 1",
         "bucket_website_routing_rules_up_to_50_redirects"},
        {"INSERT INTO bucket_website (bucket_name, index_document, routing_rules) SELECT name, "
         "'index.html', '{\"Redirect\": {}}' FROM bucket LIMIT 1",
         "bucket_website_routing_rules_up_to_50_redirects"},
    };
#undef B
#undef R
#undef C
#undef OK_ACTION
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    /* nothing refused reached the audit log or the cloud */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), before);
    assert_false(it_cloud_has_bucket(e->emulator, "bad-rules"));
    free(before);
    /* one website a bucket */
    assert_true(it_ok(e,
                      "INSERT INTO bucket_website (bucket_name, index_document) "
                      "VALUES ($1, 'index.html')",
                      1, p));
    const char *msg = it_sql_error(e, "INSERT INTO bucket_website (bucket_name, index_document) "
                                      "SELECT bucket_name, 'x.html' FROM bucket_website");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "bucket_website_one_per_bucket"));
    assert_true(it_ok(e, "DELETE FROM bucket_website", 0, NULL));
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name = $1", 1, p));
    it_expect_commit(e, 1, "delete");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_settings_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_and_encryption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_website, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_import_and_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_website_follows_import_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_s3 settings", tests, NULL, NULL);
}
