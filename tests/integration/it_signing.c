/* tests/integration/it_signing.c — SigV4 against moto_server with signature
 * checking on (INITIAL_NO_AUTH_ACTION_COUNT=3): the first three requests
 * create an IAM user, its policy and its access key; after that a wrong
 * secret is refused and the right one accepted, through the bucket
 * operations the engine uses (PUT with a body, tagging with Content-MD5,
 * list, delete). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cm_json.h"
#include "it_util.h"
#include "modules/aws/aws.h"
#include "modules/mod.h"

static char key_id[128], secret[128];

static void extract(const char *body, const char *tag, char *out, size_t size)
{
    char open[64];
    snprintf(open, sizeof open, "<%s>", tag);
    const char *p = strstr(body, open);
    assert_non_null(p);
    p += strlen(open);
    const char *q = strchr(p, '<');
    snprintf(out, size, "%.*s", (int)(q - p), p);
}

/* The three requests moto lets through unsigned. */
static int bootstrap(void **state)
{
    (void)state;
    const char *url = getenv("MOTO_AUTH_URL");
    char u[512];
    const char *body;
    snprintf(u, sizeof u, "%s/?Action=CreateUser&UserName=iasql-it&Version=2010-05-08", url);
    if (it_http_as("iam", "POST", u, "", &body) != 200)
        return -1;
    snprintf(u, sizeof u,
             "%s/?Action=PutUserPolicy&UserName=iasql-it&PolicyName=all&Version=2010-05-08"
             "&PolicyDocument=%%7B%%22Version%%22%%3A%%222012-10-17%%22%%2C%%22Statement%%22%%3A"
             "%%5B%%7B%%22Effect%%22%%3A%%22Allow%%22%%2C%%22Action%%22%%3A%%22*%%22%%2C"
             "%%22Resource%%22%%3A%%22*%%22%%7D%%5D%%7D",
             url);
    if (it_http_as("iam", "POST", u, "", &body) != 200)
        return -1;
    snprintf(u, sizeof u, "%s/?Action=CreateAccessKey&UserName=iasql-it&Version=2010-05-08", url);
    if (it_http_as("iam", "POST", u, "", &body) != 200)
        return -1;
    extract(body, "AccessKeyId", key_id, sizeof key_id);
    extract(body, "SecretAccessKey", secret, sizeof secret);
    setenv("AWS_ENDPOINT_URL", url, 1);
    setenv("AWS_REGION", "us-east-1", 1);
    return 0;
}

static mod_ctx *ctx_with(const char *key, const char *sec)
{
    setenv("AWS_ACCESS_KEY_ID", key, 1);
    setenv("AWS_SECRET_ACCESS_KEY", sec, 1);
    aws_creds_reset(); /* the process's credentials are resolved once: again, for new ones */
    mod_ctx *ctx;
    cm_err err = {0};
    assert_int_equal(mod_ctx_new(&ctx, &err), 0);
    return ctx;
}

static void test_wrong_secret_refused(void **state)
{
    (void)state;
    mod_ctx *ctx = ctx_with(key_id, "not-the-secret");
    const mod_table *t = mod_find_table("bucket", NULL);
    const char *regions[] = {"us-east-1"};
    json_t *rows = NULL;
    cm_err err = {0};
    int rc = t->ops->list(ctx, regions, 1, &rows, &err);
    assert_int_equal(rc, CM_ECLOUD);
    assert_non_null(strstr(err.msg, "SignatureDoesNotMatch"));
    assert_null(strstr(err.msg, "not-the-secret")); /* no secret in errors */
    json_t *desired =
        json_pack("{s:s, s:s, s:{}}", "name", "signed-never", "region", "us-east-1", "tags");
    json_t *out = NULL;
    assert_int_equal(t->ops->create(ctx, desired, &out, &err), CM_ECLOUD);
    json_decref(desired);
    mod_ctx_free(ctx);
}

static void test_right_secret_accepted(void **state)
{
    (void)state;
    mod_ctx *ctx = ctx_with(key_id, secret);
    const mod_table *t = mod_find_table("bucket", NULL);
    cm_err err = {0};
    json_t *desired = json_pack("{s:s, s:s, s:{s:s, s:s}}", "name", "signed-bucket-west", "region",
                                "us-west-2", "tags", "team", "a b&c", "k", "v<>");
    json_t *made = NULL;
    int rc = t->ops->create(ctx, desired, &made, &err);
    if (rc)
        fail_msg("create failed: %s", err.msg);
    json_t *imgs = json_pack("[O]", made);
    assert_int_equal(t->ops->fill_owned(ctx, imgs, &err), 0);
    assert_non_null(cm_json_str(json_array_get(imgs, 0), "created_at"));
    const char *regions[] = {"us-west-2"};
    json_t *rows = NULL;
    rc = t->ops->list(ctx, regions, 1, &rows, &err);
    if (rc)
        fail_msg("list failed: %s", err.msg);
    assert_int_equal(json_array_size(rows), 1);
    json_t *row = json_array_get(rows, 0);
    assert_string_equal(cm_json_str(row, "region"), "us-west-2");
    assert_true(json_equal(json_object_get(row, "tags"), json_object_get(desired, "tags")));
    json_t *retag =
        json_pack("{s:s, s:s, s:{}}", "name", "signed-bucket-west", "region", "us-west-2", "tags");
    json_t *upd = NULL;
    assert_int_equal(t->ops->update(ctx, row, retag, &upd, &err), 0);
    assert_int_equal(t->ops->remove(ctx, row, &err), 0);
    /* deleting again is not an error: the resource is gone */
    assert_int_equal(t->ops->remove(ctx, row, &err), 0);
    assert_true(mod_ctx_mutating_requests(ctx) >= 4);
    json_decref(upd);
    json_decref(retag);
    json_decref(rows);
    json_decref(imgs);
    json_decref(made);
    json_decref(desired);
    mod_ctx_free(ctx);
}

int main(void)
{
    if (!getenv("MOTO_AUTH_URL")) {
        fprintf(stderr, "run through tests/run.sh: MOTO_AUTH_URL is not set\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrong_secret_refused),
        cmocka_unit_test(test_right_secret_accepted),
    };
    return cmocka_run_group_tests_name("signing", tests, bootstrap, NULL);
}
