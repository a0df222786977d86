/* modules/aws_lambda/mod_lambda_permission.c — table lambda_permission:
 * the statements of a Lambda function's resource policy (AddPermission,
 * RemovePermission, GetPolicy). Lambda cannot change a statement, so every
 * column replaces it. A function's policy is one GetPolicy; under the
 * poller's rotation by parent the listing reads it only in the function's
 * turn, when the function is new, or when the engine just changed it or
 * one of its permissions (the known statements of the others stand), so
 * that a quiet poll does not read every function's policy. Statements whose id begins
 * "iasql-" are the engine's own (an API Gateway route's) and no rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/aws_lambda/mod_lambda.h"

static const aws_operation add_op = {"AddPermission", "POST",
                                     "/2015-03-31/functions/{FunctionName}/policy"};
static const aws_operation remove_op = {
    "RemovePermission", "DELETE", "/2015-03-31/functions/{FunctionName}/policy/{StatementId}"};
static const aws_operation policy_op = {"GetPolicy", "GET",
                                        "/2015-03-31/functions/{FunctionName}/policy"};

#define ENGINE_SID_PREFIX "iasql-"

static const char *str(const json_t *img, const char *col)
{
    return json_string_value(json_object_get(img, col));
}

/* A statement's principal as AddPermission takes it: a service, an
 * account id (Lambda writes it as the account's root ARN), an ARN or "*". */
static json_t *principal_of(const json_t *p)
{
    if (json_is_string(p))
        return json_incref((json_t *)p);
    const char *svc = cm_json_str(p, "Service"), *aws = cm_json_str(p, "AWS");
    if (svc)
        return json_string(svc);
    if (aws) {
        size_t n = strlen(aws);
        if (strncmp(aws, "arn:", 4) == 0 && n > 5 && strcmp(aws + n - 5, ":root") == 0) {
            const char *acct = strstr(aws, ":iam::");
            if (acct && n - 5 - (size_t)(acct + 6 - aws) == 12)
                return json_stringn(acct + 6, 12);
        }
        return json_string(aws);
    }
    return json_null();
}

static json_t *condition(const json_t *st, const char *op, const char *key)
{
    const char *v = cm_json_str(json_object_get(json_object_get(st, "Condition"), op), key);
    return v ? json_string(v) : json_null();
}

/* The rows of one function's policy into rows (none when it has none). */
static int policy_rows(mod_ctx *ctx, const char *region, const char *fn, json_t *rows, cm_err *err)
{
    json_t *reply = NULL;
    int rc = mod_rest_op(ctx, &lambda_api, &policy_op, region,
                         json_pack("{s:s}", "FunctionName", fn), &reply, err, fn);
    if (rc && lambda_gone(err)) {
        cm_err_clear(err); /* no policy, or the function went meanwhile */
        return 0;
    }
    if (rc)
        return rc;
    const char *text = cm_json_str(reply, "Policy");
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    json_decref(reply);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return cm_err_set(err, CM_EBADREPLY, "GetPolicy for function %s: the policy is not JSON",
                          fn);
    }
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(doc, "Statement"), i, st)
    {
        const char *sid = cm_json_str(st, "Sid");
        json_t *action = json_object_get(st, "Action");
        if (json_is_array(action))
            action = json_array_get(action, 0);
        if (!sid || !json_is_string(action) ||
            strncmp(sid, ENGINE_SID_PREFIX, strlen(ENGINE_SID_PREFIX)) == 0)
            continue;
        json_array_append_new(
            rows,
            json_pack("{s:s, s:s, s:s, s:O, s:o, s:o, s:o, s:o}", "function_name", fn, "region",
                      region, "statement_id", sid, "action", action, "principal",
                      principal_of(json_object_get(st, "Principal")), "source_arn",
                      condition(st, "ArnLike", "AWS:SourceArn"), "source_account",
                      condition(st, "StringEquals", "AWS:SourceAccount"), "function_url_auth_type",
                      condition(st, "StringEquals", "lambda:FunctionUrlAuthType")));
    }
    json_decref(doc);
    return 0;
}

typedef struct perm_arg {
    json_t *rows;
} perm_arg;

static int perm_collect(mod_ctx *ctx, const char *region, const json_t *f, void *arg, cm_err *err)
{
    perm_arg *pa = arg;
    const char *fn = cm_json_str(f, "FunctionName"), *pkg = cm_json_str(f, "PackageType");
    if (!fn || (pkg && strcmp(pkg, "Zip") != 0))
        return 0;
    if (mod_parent_left_out(ctx, pa->rows, "function_name", region, fn, -1))
        return 0;
    return policy_rows(ctx, region, fn, pa->rows, err);
}

static int perm_list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    perm_arg pa = {rows};
    json_t *in = json_pack("{s:{s:i}}", "query", "MaxItems", 50);
    int rc = mod_rest_each(ctx, &lambda_api, &lambda_functions_pager, region, in, perm_collect, &pa,
                           "(all)", err);
    json_decref(in);
    return rc;
}

static int perm_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                     cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, perm_list_region, out, err);
}

static int perm_names(const json_t *img, const char **fn, const char **sid, const char **region,
                      cm_err *err)
{
    int rc = mod_image_names(img, "lambda_permission", "function_name", fn, region, err);
    *sid = str(img, "statement_id");
    if (!rc && !*sid)
        rc = cm_err_set(err, CM_EINVAL, "lambda_permission of %s without a statement_id", *fn);
    return rc;
}

static int perm_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *fn, *sid, *region;
    int rc = perm_names(image, &fn, &sid, &region, err);
    json_t *rows = json_array();
    if (!rc)
        rc = policy_rows(ctx, region, fn, rows, err);
    size_t i;
    json_t *r;
    *out = NULL;
    json_array_foreach(rc ? NULL : rows, i, r)
    {
        if (strcmp(str(r, "statement_id"), sid) == 0)
            *out = json_incref(r);
    }
    json_decref(rows);
    if (!rc && !*out)
        rc =
            cm_err_set(err, CM_ENOTFOUND, "function %s in %s has no statement %s", fn, region, sid);
    return rc;
}

static bool same_statement(const json_t *a, const json_t *b)
{
    static const char *const cols[] = {
        "action", "principal", "source_arn", "source_account", "function_url_auth_type", NULL};
    for (int i = 0; cols[i]; i++) {
        const json_t *x = json_object_get(a, cols[i]), *y = json_object_get(b, cols[i]);
        if (!json_equal(x ? x : json_null(), y ? y : json_null()))
            return false;
    }
    return true;
}

static int perm_delete(mod_ctx *ctx, const char *region, const char *fn, const char *sid,
                       cm_err *err)
{
    int rc =
        mod_rest_op(ctx, &lambda_api, &remove_op, region,
                    json_pack("{s:s, s:s}", "FunctionName", fn, "StatementId", sid), NULL, err, fn);
    if (rc && lambda_gone(err)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static int perm_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *fn, *sid, *region;
    int rc = perm_names(desired, &fn, &sid, &region, err);
    if (rc)
        return rc;
    json_t *body = json_pack("{s:s, s:O, s:O}", "StatementId", sid, "Action",
                             json_object_get(desired, "action"), "Principal",
                             json_object_get(desired, "principal"));
    static const char *const opt[][2] = {{"source_arn", "SourceArn"},
                                         {"source_account", "SourceAccount"},
                                         {"function_url_auth_type", "FunctionUrlAuthType"}};
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
        if (str(desired, opt[i][0]))
            json_object_set_new(body, opt[i][1], json_string(str(desired, opt[i][0])));
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = mod_rest_op(ctx, &lambda_api, &add_op, region,
                         json_pack("{s:s, s:O}", "FunctionName", fn, "body", body), NULL, err, fn);
        if (!rc || strcmp(err->cloud_code, "ResourceConflictException") != 0 || attempt)
            break;
        /* the statement id is taken (an earlier attempt, or someone else):
         * it is this one, or it is replaced by this one */
        cm_err_clear(err);
        json_t *had = NULL;
        rc = perm_read(ctx, desired, &had, err);
        bool same = !rc && same_statement(had, desired);
        json_decref(had);
        if (rc || same)
            break;
        rc = perm_delete(ctx, region, fn, sid, err);
        if (rc)
            break;
    }
    json_decref(body);
    if (rc && lambda_gone(err))
        rc = cm_err_set(err, CM_ENOTFOUND,
                        "function %s does not exist in %s Hint: Make the function first, or "
                        "name one that exists.",
                        fn, region);
    if (!rc)
        *out = json_deep_copy(desired);
    return rc;
}

/* Every column replaces a statement: nothing changes in place. */
static int perm_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                       cm_err *err)
{
    (void)ctx, (void)known, (void)err;
    *out = json_deep_copy(desired);
    return 0;
}

static int perm_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *fn, *sid, *region;
    int rc = perm_names(known, &fn, &sid, &region, err);
    return rc ? rc : perm_delete(ctx, region, fn, sid, err);
}

static const mod_table_ops permission_ops = {
    .list = perm_list,
    .read = perm_read,
    .create = perm_create,
    .update = perm_update,
    .remove = perm_remove,
};

static const mod_column permission_columns[] = {
    {"function_name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"statement_id", MOD_COL_CLOUD_ID},
    {"action", MOD_COL_IMMUTABLE},
    {"principal", MOD_COL_IMMUTABLE},
    {"source_arn", MOD_COL_IMMUTABLE},
    {"source_account", MOD_COL_IMMUTABLE},
    {"function_url_auth_type", MOD_COL_IMMUTABLE},
    {NULL, 0},
};

/* Listed by function: a function's policy is read in its turn of the
 * rotation by parent, or when the function is new. */
const mod_table lambda_permission_table = {"lambda_permission",
                                           permission_columns,
                                           &permission_ops,
                                           "lambda",
                                           .by_parent = "function_name",
                                           .by_parent_table = "lambda_function"};
