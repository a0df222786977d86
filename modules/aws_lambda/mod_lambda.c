/* modules/aws_lambda/mod_lambda.c — module aws_lambda: table
 * lambda_function (zip functions) over Lambda's rest-json protocol
 * (2015-03-31; function URLs 2021-10-31). The code comes from an S3 object
 * or an inline zip (zip_b64, a secret column: its cleartext reaches this
 * module only in the commit that sets it); both are write-only, since
 * Lambda gives back only the code's hash (code_sha256). A code change is
 * UpdateFunctionCode, the configuration UpdateFunctionConfiguration, each
 * after the function's last update has settled (LastUpdateStatus), as
 * Lambda requires; tags through TagResource / UntagResource, the URL
 * through the FunctionUrlConfig calls. A new name or region replaces the
 * function. Listing costs a ListFunctions page per 50 functions and a
 * tagging API page per 100; the URL is a read per function, a deep column
 * read once a rotation. Functions are never invoked. The permissions of
 * the functions' policies are mod_lambda_permission.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/aws_lambda/mod_lambda.h"

extern const char iasql_sql_aws_lambda[];

const mod_rest_service lambda_api = {{"lambda", AWS_PROTO_REST_JSON}, "function"};

static const aws_operation create_op = {"CreateFunction", "POST", "/2015-03-31/functions"};
static const aws_operation get_op = {"GetFunction", "GET", "/2015-03-31/functions/{FunctionName}"};
static const aws_operation list_op = {"ListFunctions", "GET", "/2015-03-31/functions"};
static const aws_operation get_config_op = {"GetFunctionConfiguration", "GET",
                                            "/2015-03-31/functions/{FunctionName}/configuration"};
static const aws_operation code_op = {"UpdateFunctionCode", "PUT",
                                      "/2015-03-31/functions/{FunctionName}/code"};
static const aws_operation config_op = {"UpdateFunctionConfiguration", "PUT",
                                        "/2015-03-31/functions/{FunctionName}/configuration"};
static const aws_operation delete_op = {"DeleteFunction", "DELETE",
                                        "/2015-03-31/functions/{FunctionName}"};
static const aws_operation tag_op = {"TagResource", "POST", "/2017-03-31/tags/{Resource}"};
static const aws_operation untag_op = {"UntagResource", "DELETE", "/2017-03-31/tags/{Resource}"};
static const mod_rest_tagging lambda_tagging = {&tag_op, &untag_op, "Resource", "Tags"};
static const aws_operation list_tags_op = {"ListTags", "GET", "/2017-03-31/tags/{Resource}"};
static const aws_operation create_url_op = {"CreateFunctionUrlConfig", "POST",
                                            "/2021-10-31/functions/{FunctionName}/url"};
static const aws_operation get_url_op = {"GetFunctionUrlConfig", "GET",
                                         "/2021-10-31/functions/{FunctionName}/url"};
static const aws_operation update_url_op = {"UpdateFunctionUrlConfig", "PUT",
                                            "/2021-10-31/functions/{FunctionName}/url"};
static const aws_operation delete_url_op = {"DeleteFunctionUrlConfig", "DELETE",
                                            "/2021-10-31/functions/{FunctionName}/url"};
/* MaxItems: Lambda gives at most 50 a page whatever is asked */
const mod_rest_pager lambda_functions_pager = {&list_op, "Marker", "NextMarker", "Functions"};

static const mod_json_service sm_api = {"secretsmanager", "1.1", "secretsmanager", "secret"};

/* How long a function may stay Pending or InProgress (a VPC function's
 * network interfaces take minutes). */
#define LAMBDA_SETTLE_MS (10 * 60 * 1000)

bool lambda_gone(const cm_err *err)
{
    return strcmp(err->cloud_code, "ResourceNotFoundException") == 0;
}

static int fn_call(mod_ctx *ctx, const aws_operation *op, const char *region, const char *name,
                   json_t *input, json_t **out, cm_err *err)
{
    if (input)
        json_object_set_new(input, "FunctionName", json_string(name));
    return mod_rest_op(ctx, &lambda_api, op, region, input, out, err, name);
}

static bool differs(const json_t *known, const json_t *desired, const char *col)
{
    const json_t *a = json_object_get(known, col), *b = json_object_get(desired, col);
    return !json_equal(a ? a : json_null(), b ? b : json_null());
}

static const char *str(const json_t *img, const char *col)
{
    return json_string_value(json_object_get(img, col));
}

/* ---- names the cloud uses ---- */

/* "arn:aws:iam::123:role/path/name" -> "name" */
static const char *role_name_of(const char *arn)
{
    const char *slash = arn ? strrchr(arn, '/') : NULL;
    return slash ? slash + 1 : arn;
}

/* The field i (0-based) of an ARN, copied into out. */
static bool arn_field(const char *arn, int i, char *out, size_t size)
{
    const char *p = arn;
    for (int k = 0; p && k < i; k++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    if (!p)
        return false;
    size_t n = strcspn(p, ":");
    snprintf(out, size, "%.*s", (int)n, p);
    return true;
}

/* An environment value as the row holds it: a Secrets Manager ARN of the
 * function's region and account ("arn:aws:secretsmanager:<region>:
 * <account>:secret:<name>-<6 characters>") as {"secret": "<name>"}, any
 * other value as it is. A new reference. */
static json_t *env_value(const char *v, const char *region, const char *account)
{
    char part[64], svc[64], reg[64], acct[32];
    const char *mark = strstr(v, ":secret:");
    if (strncmp(v, "arn:", 4) == 0 && mark && arn_field(v, 1, part, sizeof part) &&
        arn_field(v, 2, svc, sizeof svc) && strcmp(svc, "secretsmanager") == 0 &&
        arn_field(v, 3, reg, sizeof reg) && strcmp(reg, region) == 0 &&
        arn_field(v, 4, acct, sizeof acct) && account && strcmp(acct, account) == 0) {
        const char *name = mark + 8;
        size_t len = strlen(name);
        if (len > 7 && name[len - 7] == '-' && strcspn(name + len - 6, "-:/") == 6) {
            char sname[600];
            snprintf(sname, sizeof sname, "%.*s", (int)(len - 7), name);
            return json_pack("{s:s}", "secret", sname);
        }
    }
    return json_string(v);
}

/* The environment a function gets: every {"secret": name} as the ARN of
 * that secret in region (DescribeSecret). A new reference in *out. */
static int env_resolved(mod_ctx *ctx, const char *region, const char *fn, const json_t *env,
                        json_t **out, cm_err *err)
{
    json_t *vars = json_object();
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach((json_t *)env, k, v)
    {
        if (json_is_string(v)) {
            json_object_set(vars, k, v);
            continue;
        }
        const char *secret = cm_json_str(v, "secret");
        json_t *reply = NULL;
        rc = secret ? mod_json_op(ctx, &sm_api, region, "DescribeSecret",
                                  json_pack("{s:s}", "SecretId", secret), &reply, err, secret)
                    : cm_err_set(err, CM_EINVAL,
                                 "environment variable %s of function %s is "
                                 "neither a string nor {\"secret\": name}",
                                 k, fn);
        if (rc && strcmp(err->cloud_code, "ResourceNotFoundException") == 0)
            rc = cm_err_set(err, CM_EINVAL,
                            "environment variable %s of function %s names Secrets Manager "
                            "secret %s, which does not exist in %s Hint: Make the secret first "
                            "(a commit of its own), or name one that exists.",
                            k, fn, secret, region);
        const char *arn = rc ? NULL : cm_json_str(reply, "ARN");
        if (!rc && !arn)
            rc = cm_err_set(err, CM_EBADREPLY, "DescribeSecret for secret %s: no ARN", secret);
        if (!rc)
            json_object_set_new(vars, k, json_string(arn));
        json_decref(reply);
        if (rc)
            break;
    }
    if (rc) {
        json_decref(vars);
        return rc;
    }
    *out = vars;
    return 0;
}

/* ---- rows ---- */

/* A function URL's CORS as the row holds it: what is set, without the
 * empty lists, false flags and zero MaxAge (Lambda's defaults, and what an
 * update sends to take CORS away); null when nothing is. */
static json_t *cors_row(const json_t *cors)
{
    if (!json_is_object(cors))
        return json_null();
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)cors, k, v)
    {
        if (json_is_null(v) || json_is_false(v) || (json_is_array(v) && !json_array_size(v)) ||
            (json_is_integer(v) && json_integer_value(v) == 0))
            continue;
        json_object_set(out, k, v);
    }
    if (!json_object_size(out)) {
        json_decref(out);
        return json_null();
    }
    return out;
}

/* The URL of a function into row (url_auth_type, url_cors, function_url):
 * GetFunctionUrlConfig, none when Lambda says there is none. */
static int url_into(mod_ctx *ctx, const char *region, const char *name, json_t *row, cm_err *err)
{
    json_t *reply = NULL;
    int rc = fn_call(ctx, &get_url_op, region, name, json_object(), &reply, err);
    if (rc && lambda_gone(err)) {
        cm_err_clear(err);
        json_object_set_new(row, "url_auth_type", json_null());
        json_object_set_new(row, "url_cors", json_null());
        json_object_set_new(row, "function_url", json_null());
        return 0;
    }
    if (rc)
        return rc;
    const char *auth = cm_json_str(reply, "AuthType"), *url = cm_json_str(reply, "FunctionUrl");
    json_object_set_new(row, "url_auth_type", auth ? json_string(auth) : json_null());
    json_object_set_new(row, "url_cors", cors_row(json_object_get(reply, "Cors")));
    json_object_set_new(row, "function_url", url ? json_string(url) : json_null());
    json_decref(reply);
    return 0;
}

/* A row image from a FunctionConfiguration (ListFunctions, GetFunction),
 * its tags (an object: the tagging API's, or GetFunction's) and, when
 * deep, its URL; else a partial row (MOD_PARTIAL_KEY) without the URL.
 * NULL for a function this table does not hold (a container image). */
static int fn_row(mod_ctx *ctx, const char *region, const json_t *f, const json_t *tags, bool deep,
                  json_t **out, cm_err *err)
{
    *out = NULL;
    const char *name = cm_json_str(f, "FunctionName"), *arn = cm_json_str(f, "FunctionArn");
    if (!name || !arn)
        return cm_err_set(err, CM_EBADREPLY, "a function without a name or ARN in %s", region);
    const char *pkg = cm_json_str(f, "PackageType");
    if (pkg && strcmp(pkg, "Zip") != 0)
        return 0; /* container images are not this table's */
    char account[32] = "";
    arn_field(arn, 4, account, sizeof account);
    json_t *env = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(json_object_get(f, "Environment"), "Variables"), k, v)
    {
        if (json_is_string(v))
            json_object_set_new(env, k, env_value(json_string_value(v), region, account));
    }
    const json_t *vpc = json_object_get(f, "VpcConfig");
    json_t *subnets = json_object_get(vpc, "SubnetIds"),
           *groups = json_object_get(vpc, "SecurityGroupIds");
    const char *arch = json_string_value(json_array_get(json_object_get(f, "Architectures"), 0));
    const char *desc = cm_json_str(f, "Description"), *sha = cm_json_str(f, "CodeSha256");
    const char *handler = cm_json_str(f, "Handler"), *runtime = cm_json_str(f, "Runtime");
    const char *role = cm_json_str(f, "Role"), *state = cm_json_str(f, "State");
    const char *version = cm_json_str(f, "Version");
    /* The code itself never comes back: an imported function's zip_b64 is
     * a mask named after its hash (a known function keeps its own, and its
     * S3 columns: they are write-only). */
    char mask[160];
    snprintf(mask, sizeof mask, "%ssha256:%s", MOD_SECRET_PREFIX, sha ? sha : "none");
    /* the function itself, not its $LATEST qualifier */
    size_t arnlen = strlen(arn);
    if (arnlen > 8 && strcmp(arn + arnlen - 8, ":$LATEST") == 0)
        arnlen -= 8;
    char bare[1024];
    snprintf(bare, sizeof bare, "%.*s", (int)arnlen, arn);
    json_t *mem = json_object_get(f, "MemorySize"), *tmo = json_object_get(f, "Timeout");
    json_t *size = json_object_get(f, "CodeSize");
    json_t *row = json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:s, s:s, s:o, s:o, s:o, "
        "s:o}",
        "name", name, "region", region, "runtime", runtime ? json_string(runtime) : json_null(),
        "handler", handler ? json_string(handler) : json_null(), "role",
        role ? json_string(role_name_of(role)) : json_null(), "memory_size",
        mem ? json_incref(mem) : json_integer(128), "timeout",
        tmo ? json_incref(tmo) : json_integer(3), "description",
        desc && *desc ? json_string(desc) : json_null(), "environment", env, "architecture",
        arch ? arch : "x86_64", "subnets",
        json_is_array(subnets) ? json_deep_copy(subnets) : json_array(), "security_groups",
        json_is_array(groups) ? json_deep_copy(groups) : json_array(), "zip_b64", mask, "arn", bare,
        "version", version ? json_string(version) : json_null(), "code_sha256",
        sha ? json_string(sha) : json_null(), "code_size", size ? json_incref(size) : json_null(),
        "state", state ? json_string(state) : json_null());
    if (!row)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    json_object_set_new(row, "tags", mod_tags_from_object(tags));
    row = mod_take_owner(row);
    int rc = deep ? url_into(ctx, region, name, row, err) : 0;
    if (!deep)
        json_object_set_new(row, MOD_PARTIAL_KEY, json_true());
    if (rc) {
        json_decref(row);
        return lambda_gone(err) ? cm_err_set(err, CM_ENOTFOUND, "function %s is gone", name) : rc;
    }
    *out = row;
    return 0;
}

typedef struct collect_arg {
    json_t *rows;
    json_t *tagged; /* name -> tags (the tagging API); NULL: ListTags per function */
} collect_arg;

static int collect(mod_ctx *ctx, const char *region, const json_t *f, void *arg, cm_err *err)
{
    collect_arg *ca = arg;
    const char *name = cm_json_str(f, "FunctionName"), *arn = cm_json_str(f, "FunctionArn");
    bool deep = !mod_deep_known(ctx, region, name) || mod_deep_wanted(ctx, region, name);
    json_t *tags = NULL, *reply = NULL;
    int rc = 0;
    if (ca->tagged) {
        tags = json_incref(json_object_get(ca->tagged, name ? name : ""));
    } else if (arn) {
        rc = mod_rest_op(ctx, &lambda_api, &list_tags_op, region,
                         json_pack("{s:s}", "Resource", arn), &reply, err, name);
        tags = json_incref(json_object_get(reply, "Tags"));
        json_decref(reply);
    }
    json_t *row = NULL;
    if (!rc)
        rc = fn_row(ctx, region, f, tags, deep, &row, err);
    json_decref(tags);
    if (!rc && !row)
        return 0;
    if (rc && lambda_gone(err))
        rc = cm_err_set(err, CM_ENOTFOUND, "function %s is gone", name);
    return mod_keep_found(ca->rows, rc, row, err);
}

static int list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    collect_arg ca = {rows, mod_tagged_by_name(ctx, region, "lambda:function", ":function:")};
    json_t *in = json_pack("{s:{s:i}}", "query", "MaxItems", 50);
    int rc = mod_rest_each(ctx, &lambda_api, &lambda_functions_pager, region, in, collect, &ca,
                           "(all)", err);
    json_decref(in);
    json_decref(ca.tagged);
    return rc;
}

static int fn_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                   cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, list_region, out, err);
}

static int image_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "lambda_function", "name", name, region, err);
}

/* The function as GetFunction shows it, with its URL. */
static int fn_read_named(mod_ctx *ctx, const char *region, const char *name, json_t **out,
                         cm_err *err)
{
    json_t *reply = NULL;
    int rc = fn_call(ctx, &get_op, region, name, json_object(), &reply, err);
    if (rc && lambda_gone(err))
        rc = cm_err_set(err, CM_ENOTFOUND, "function %s does not exist in %s", name, region);
    if (!rc)
        rc = fn_row(ctx, region, json_object_get(reply, "Configuration"),
                    json_object_get(reply, "Tags"), true, out, err);
    if (!rc && !*out)
        rc = cm_err_set(err, CM_ENOTFOUND, "function %s in %s is a container image", name, region);
    json_decref(reply);
    return rc;
}

static int fn_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(image, &name, &region, err);
    return rc ? rc : fn_read_named(ctx, region, name, out, err);
}

/* ---- waiting for Lambda ---- */

typedef struct settle_arg {
    const char *region, *name;
} settle_arg;

/* Done when the function is no longer Pending and its last update is not
 * InProgress; a Failed one is an error with Lambda's reason. */
static int probe_settled(mod_ctx *ctx, const void *arg, bool *done, cm_err *err)
{
    const settle_arg *s = arg;
    json_t *c = NULL;
    int rc = fn_call(ctx, &get_config_op, s->region, s->name, json_object(), &c, err);
    if (rc)
        return rc;
    const char *state = cm_json_str(c, "State"), *last = cm_json_str(c, "LastUpdateStatus");
    if ((state && strcmp(state, "Failed") == 0) || (last && strcmp(last, "Failed") == 0)) {
        const char *why = cm_json_str(
            c, last && strcmp(last, "Failed") == 0 ? "LastUpdateStatusReason" : "StateReason");
        rc = cm_err_set(err, CM_ECLOUD, "function %s failed in %s Detail: %s", s->name, s->region,
                        why ? why : "Lambda gives no reason.");
    }
    *done = !(state && strcmp(state, "Pending") == 0) && !(last && strcmp(last, "InProgress") == 0);
    json_decref(c);
    return rc;
}

static int settle(mod_ctx *ctx, const char *region, const char *name, cm_err *err)
{
    settle_arg s = {region, name};
    char what[256];
    snprintf(what, sizeof what, "function %s in %s", name, region);
    return mod_wait(ctx, probe_settled, &s, LAMBDA_SETTLE_MS, what, err);
}

/* ---- what a function is sent ---- */

/* base64 text without the whitespace PostgreSQL's decode() allows. */
static json_t *zip_text(const char *b64)
{
    size_t n = strlen(b64);
    char *t = malloc(n + 1);
    if (!t)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (b64[i] != ' ' && b64[i] != '\n' && b64[i] != '\r' && b64[i] != '\t')
            t[k++] = b64[i];
    t[k] = '\0';
    json_t *v = json_string(t);
    free(t);
    return v;
}

/* The code of desired into obj (FunctionCode's members, which
 * UpdateFunctionCode takes at its top level): the zip the user has just
 * set, or the S3 object. CM_EINVAL when only a mask is there. */
static int code_into(const json_t *desired, json_t *obj, cm_err *err)
{
    const char *zip = str(desired, "zip_b64"), *bucket = str(desired, "s3_bucket");
    if (bucket) {
        json_object_set_new(obj, "S3Bucket", json_string(bucket));
        json_object_set_new(obj, "S3Key", json_string(str(desired, "s3_key")));
        if (str(desired, "s3_object_version"))
            json_object_set_new(obj, "S3ObjectVersion",
                                json_string(str(desired, "s3_object_version")));
        return 0;
    }
    if (zip && !mod_is_mask(zip)) {
        json_t *t = zip_text(zip);
        if (!t)
            return cm_err_set(err, CM_ENOMEM, "out of memory");
        json_object_set_new(obj, "ZipFile", t);
        return 0;
    }
    return cm_err_set(err, CM_EINVAL,
                      "the code of function %s is not known to the engine Detail: iasql never "
                      "keeps a zip it has sent, and the row holds only its mask. Hint: Set "
                      "zip_b64 again (or s3_bucket and s3_key) in the same UPDATE.",
                      str(desired, "name"));
}

/* What CreateFunction and UpdateFunctionConfiguration share. */
static int config_into(mod_ctx *ctx, const char *region, const json_t *desired, json_t *body,
                       cm_err *err)
{
    const char *name = str(desired, "name");
    char arn[1024];
    int rc = mod_role_arn(ctx, str(desired, "role"), arn, sizeof arn, err);
    json_t *vars = NULL;
    if (!rc)
        rc = env_resolved(ctx, region, name, json_object_get(desired, "environment"), &vars, err);
    if (rc)
        return rc;
    const char *desc = str(desired, "description");
    json_object_set_new(body, "Role", json_string(arn));
    json_object_set(body, "Runtime", json_object_get(desired, "runtime"));
    json_object_set(body, "Handler", json_object_get(desired, "handler"));
    json_object_set(body, "MemorySize", json_object_get(desired, "memory_size"));
    json_object_set(body, "Timeout", json_object_get(desired, "timeout"));
    json_object_set_new(body, "Description", json_string(desc ? desc : ""));
    json_object_set_new(body, "Environment", json_pack("{s:o}", "Variables", vars));
    json_object_set_new(body, "VpcConfig",
                        json_pack("{s:O, s:O}", "SubnetIds", json_object_get(desired, "subnets"),
                                  "SecurityGroupIds", json_object_get(desired, "security_groups")));
    return 0;
}

static bool config_differs(const json_t *known, const json_t *desired)
{
    static const char *const cols[] = {
        "runtime",     "handler",     "role",    "memory_size",     "timeout",
        "description", "environment", "subnets", "security_groups", NULL};
    for (int i = 0; cols[i]; i++)
        if (differs(known, desired, cols[i]))
            return true;
    return false;
}

/* A zip the user sets always comes with a fresh mask, so a new mask (the
 * cleartext in desired) is new code, even the same zip again. */
static bool code_differs(const json_t *known, const json_t *desired)
{
    return differs(known, desired, "zip_b64") || differs(known, desired, "s3_bucket") ||
           differs(known, desired, "s3_key") || differs(known, desired, "s3_object_version") ||
           differs(known, desired, "architecture");
}

/* AuthType and Cors; an update without CORS sends every CORS setting at
 * its default, which takes CORS away. */
static json_t *url_body(const json_t *desired, bool update)
{
    json_t *cors = json_object_get(desired, "url_cors");
    json_t *b = json_pack("{s:O}", "AuthType", json_object_get(desired, "url_auth_type"));
    if (json_is_object(cors))
        json_object_set(b, "Cors", cors);
    else if (update)
        json_object_set_new(b, "Cors",
                            json_pack("{s:b, s:[], s:[], s:[], s:[], s:i}", "AllowCredentials", 0,
                                      "AllowHeaders", "AllowMethods", "AllowOrigins",
                                      "ExposeHeaders", "MaxAge", 0));
    return b;
}

/* The function URL from known to desired. */
static int url_converge(mod_ctx *ctx, const char *region, const char *name, const json_t *known,
                        const json_t *desired, cm_err *err)
{
    bool had = str(known, "url_auth_type") != NULL, wants = str(desired, "url_auth_type") != NULL;
    if (!differs(known, desired, "url_auth_type") && !differs(known, desired, "url_cors"))
        return 0;
    if (!wants) {
        int rc = fn_call(ctx, &delete_url_op, region, name, json_object(), NULL, err);
        if (rc && lambda_gone(err)) {
            cm_err_clear(err);
            rc = 0;
        }
        return rc;
    }
    if (!had) {
        int rc = fn_call(ctx, &create_url_op, region, name,
                         json_pack("{s:o}", "body", url_body(desired, false)), NULL, err);
        if (rc && strcmp(err->cloud_code, "ResourceConflictException") == 0) {
            cm_err_clear(err); /* made already (an earlier try): brought to the row */
        } else {
            return rc;
        }
    }
    return fn_call(ctx, &update_url_op, region, name,
                   json_pack("{s:o}", "body", url_body(desired, true)), NULL, err);
}

/* Everything that changes in place, from known to desired: the code
 * first (with the architecture, which UpdateFunctionCode takes), then the
 * configuration, each once the last update has settled. */
static int converge(mod_ctx *ctx, const char *region, const char *name, const char *arn,
                    const json_t *known, const json_t *desired, cm_err *err)
{
    int rc = 0;
    if (code_differs(known, desired)) {
        json_t *body =
            json_pack("{s:[O]}", "Architectures", json_object_get(desired, "architecture"));
        rc = code_into(desired, body, err);
        if (!rc)
            rc = settle(ctx, region, name, err);
        if (!rc)
            rc = fn_call(ctx, &code_op, region, name, json_pack("{s:O}", "body", body), NULL, err);
        json_decref(body);
        if (!rc)
            rc = settle(ctx, region, name, err);
    }
    if (!rc && config_differs(known, desired)) {
        json_t *body = json_object();
        rc = config_into(ctx, region, desired, body, err);
        if (!rc)
            rc = settle(ctx, region, name, err);
        if (!rc)
            rc =
                fn_call(ctx, &config_op, region, name, json_pack("{s:O}", "body", body), NULL, err);
        json_decref(body);
        if (!rc)
            rc = settle(ctx, region, name, err);
    }
    if (!rc)
        rc = mod_rest_tags(ctx, &lambda_api, &lambda_tagging, region, arn,
                           json_object_get(known, "tags"), json_object_get(desired, "tags"), err,
                           name);
    if (!rc)
        rc = url_converge(ctx, region, name, known, desired, err);
    return rc;
}

/* desired with the columns the cloud owns taken from the cloud's image. */
static json_t *with_owned(const json_t *desired, const json_t *cloud)
{
    json_t *out = json_deep_copy(desired);
    static const char *const owned[] = {"arn",   "version",      "code_sha256", "code_size",
                                        "state", "function_url", NULL};
    for (int i = 0; owned[i]; i++) {
        json_t *v = json_object_get(cloud, owned[i]);
        json_object_set(out, owned[i], v ? v : json_null());
    }
    return out;
}

static int fn_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    json_t *code = json_object();
    rc = code_into(desired, code, err);
    json_t *owned = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    json_t *body = json_pack("{s:s, s:o, s:s, s:b, s:[O], s:o}", "FunctionName", name, "Code", code,
                             "PackageType", "Zip", "Publish", 0, "Architectures",
                             json_object_get(desired, "architecture"), "Tags", owned);
    if (!rc)
        rc = config_into(ctx, region, desired, body, err);
    json_t *reply = NULL;
    if (!rc)
        rc = mod_rest_op(ctx, &lambda_api, &create_op, region, json_pack("{s:O}", "body", body),
                         &reply, err, name);
    json_decref(body);
    json_t *known = NULL;
    char arn[1024] = "";
    if (rc && strcmp(err->cloud_code, "ResourceConflictException") == 0) {
        /* an earlier attempt made it (or someone else did): read it, then
         * bring it to desired below, its code included */
        cm_err_clear(err);
        rc = fn_read_named(ctx, region, name, &known, err);
        if (!rc) {
            snprintf(arn, sizeof arn, "%s", str(known, "arn"));
            json_object_set_new(known, "zip_b64", json_null()); /* the code is sent again */
        }
    } else if (!rc) {
        /* new: as desired, but for its URL */
        snprintf(arn, sizeof arn, "%s",
                 cm_json_str(reply, "FunctionArn") ? cm_json_str(reply, "FunctionArn") : "");
        known = json_deep_copy(desired);
        json_object_set_new(known, "url_auth_type", json_null());
        json_object_set_new(known, "url_cors", json_null());
    }
    json_decref(reply);
    if (!rc)
        rc = settle(ctx, region, name, err);
    if (!rc)
        rc = converge(ctx, region, name, arn, known, desired, err);
    json_decref(known);
    json_t *cloud = NULL;
    if (!rc && (rc = fn_read_named(ctx, region, name, &cloud, err)) == 0)
        *out = with_owned(desired, cloud);
    json_decref(cloud);
    return rc;
}

static int fn_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                     cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    const char *zip = str(desired, "zip_b64");
    if (differs(known, desired, "architecture") && !str(desired, "s3_bucket") &&
        (!zip || mod_is_mask(zip)))
        return cm_err_set(err, CM_EINVAL,
                          "function %s takes a new architecture only with its code Detail: "
                          "Lambda changes the architecture in UpdateFunctionCode, and iasql "
                          "never keeps a zip it has sent. Hint: Set zip_b64 again (or s3_bucket "
                          "and s3_key) in the same UPDATE.",
                          name);
    const char *arn = str(known, "arn");
    json_t *cloud = NULL;
    if (!arn) { /* a row imported before its ARN was written back */
        rc = fn_read_named(ctx, region, name, &cloud, err);
        arn = str(cloud, "arn");
    }
    if (!rc)
        rc = converge(ctx, region, name, arn, known, desired, err);
    json_decref(cloud);
    cloud = NULL;
    if (!rc && (rc = fn_read_named(ctx, region, name, &cloud, err)) == 0)
        *out = with_owned(desired, cloud);
    json_decref(cloud);
    return rc;
}

static int fn_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(known, &name, &region, err);
    if (rc)
        return rc;
    rc = fn_call(ctx, &delete_op, region, name, json_object(), NULL, err);
    if (rc && lambda_gone(err)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static const mod_table_ops function_ops = {
    .list = fn_list,
    .read = fn_read,
    .create = fn_create,
    .update = fn_update,
    .remove = fn_remove,
};

#define IMM MOD_COL_IMMUTABLE
#define OWNED MOD_COL_CLOUD_OWNED
#define LOCAL MOD_COL_LOCAL /* the code source: Lambda gives back only its hash */

static const mod_column function_columns[] = {
    {"name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"runtime", 0},
    {"handler", 0},
    {"role", 0, "iam_role"},
    {"memory_size", 0},
    {"timeout", 0},
    {"description", 0},
    {"environment", 0},
    {"architecture", 0},
    {"subnets", 0, "subnet"},
    {"security_groups", 0, "security_group"},
    {"zip_b64", MOD_COL_SECRET | LOCAL},
    {"s3_bucket", LOCAL},
    {"s3_key", LOCAL},
    {"s3_object_version", LOCAL},
    {"url_auth_type", 0},
    {"url_cors", 0},
    {"tags", 0},
    {"arn", OWNED},
    {"version", OWNED},
    {"code_sha256", OWNED},
    {"code_size", OWNED},
    {"state", OWNED},
    {"function_url", OWNED},
    {NULL, 0},
};

/* What only GetFunctionUrlConfig returns: it follows the rotation. */
static const char *const function_deep[] = {"url_auth_type", "url_cors", "function_url", NULL};
static const mod_table function_table = {"lambda_function", function_columns, &function_ops,
                                         "lambda", .deep = function_deep};
static const mod_table *const lambda_tables[] = {&function_table, &lambda_permission_table, NULL};
static const char *const lambda_deps[] = {"aws_iam", "aws_vpc", "aws_security_group", NULL};

const mod_module mod_aws_lambda = {
    .name = "aws_lambda",
    .version = IASQL_VERSION,
    .deps = lambda_deps,
    .install_sql = iasql_sql_aws_lambda,
    .uninstall_sql = "DROP TRIGGER IF EXISTS subnet_used_by_lambda_function ON subnet;\n"
                     "DROP TRIGGER IF EXISTS security_group_used_by_lambda_function ON "
                     "security_group;\n"
                     "DROP FUNCTION IF EXISTS lambda_function_uses_it();\n"
                     "DROP FUNCTION IF EXISTS lambda_function_sets_valid();\n"
                     "DROP FUNCTION IF EXISTS lambda_function_hide_code();\n"
                     "DROP FUNCTION IF EXISTS lambda_environment_valid(jsonb);\n"
                     "DROP FUNCTION IF EXISTS lambda_url_cors_valid(jsonb);",
    .tables = lambda_tables,
};
