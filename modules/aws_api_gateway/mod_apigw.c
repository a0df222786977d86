/* modules/aws_api_gateway/mod_apigw.c — module aws_api_gateway: HTTP APIs
 * of API Gateway v2 (rest-json, 2018-11-29) in front of Lambda functions.
 * Table api: an HTTP API (name, description, version, CORS, the default
 * endpoint switch, tags), made with a "$default" stage that deploys every
 * change by itself; its id and endpoint are written back. Table api_route:
 * a route key ("GET /hello", "$default") of an API and the aws_lambda
 * function it invokes; the route's Lambda proxy integration (payload
 * format 2.0) and the function's permission for API Gateway (statement
 * "iasql-route-<route id>") are part of it. A new route key and a new
 * function change in place; a route moved to another API is replaced.
 * Listing costs a GetApis page per 100 APIs, and per API a GetRoutes and
 * a GetIntegrations page (an API's routes are found only through it);
 * under the poller's rotation by parent, those two only for the APIs whose
 * turn it is and those new to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

extern const char iasql_sql_aws_api_gateway[];

static const mod_rest_service apigw_api = {{"apigateway", AWS_PROTO_REST_JSON}, "HTTP API"};
static const mod_rest_service route_api = {{"apigateway", AWS_PROTO_REST_JSON}, "route of API"};
static const mod_rest_service lambda_api = {{"lambda", AWS_PROTO_REST_JSON}, "function"};

static const aws_operation create_api_op = {"CreateApi", "POST", "/v2/apis"};
static const aws_operation get_api_op = {"GetApi", "GET", "/v2/apis/{apiId}"};
static const aws_operation get_apis_op = {"GetApis", "GET", "/v2/apis"};
static const aws_operation update_api_op = {"UpdateApi", "PATCH", "/v2/apis/{apiId}"};
static const aws_operation delete_api_op = {"DeleteApi", "DELETE", "/v2/apis/{apiId}"};
static const aws_operation delete_cors_op = {"DeleteCorsConfiguration", "DELETE",
                                             "/v2/apis/{apiId}/cors"};
static const aws_operation create_stage_op = {"CreateStage", "POST", "/v2/apis/{apiId}/stages"};
static const aws_operation tag_op = {"TagResource", "POST", "/v2/tags/{resource-arn}"};
static const aws_operation untag_op = {"UntagResource", "DELETE", "/v2/tags/{resource-arn}"};
static const mod_rest_tagging apigw_tagging = {&tag_op, &untag_op, "resource-arn", "tags"};
static const aws_operation get_routes_op = {"GetRoutes", "GET", "/v2/apis/{apiId}/routes"};
static const aws_operation create_route_op = {"CreateRoute", "POST", "/v2/apis/{apiId}/routes"};
static const aws_operation update_route_op = {"UpdateRoute", "PATCH",
                                              "/v2/apis/{apiId}/routes/{routeId}"};
static const aws_operation delete_route_op = {"DeleteRoute", "DELETE",
                                              "/v2/apis/{apiId}/routes/{routeId}"};
static const aws_operation get_integrations_op = {"GetIntegrations", "GET",
                                                  "/v2/apis/{apiId}/integrations"};
static const aws_operation create_integration_op = {"CreateIntegration", "POST",
                                                    "/v2/apis/{apiId}/integrations"};
static const aws_operation update_integration_op = {
    "UpdateIntegration", "PATCH", "/v2/apis/{apiId}/integrations/{integrationId}"};
static const aws_operation delete_integration_op = {
    "DeleteIntegration", "DELETE", "/v2/apis/{apiId}/integrations/{integrationId}"};
static const aws_operation add_permission_op = {"AddPermission", "POST",
                                                "/2015-03-31/functions/{FunctionName}/policy"};
static const aws_operation remove_permission_op = {
    "RemovePermission", "DELETE", "/2015-03-31/functions/{FunctionName}/policy/{StatementId}"};

static const mod_rest_pager apis_pager = {&get_apis_op, "nextToken", "nextToken", "items"};
static const mod_rest_pager routes_pager = {&get_routes_op, "nextToken", "nextToken", "items"};
static const mod_rest_pager integrations_pager = {&get_integrations_op, "nextToken", "nextToken",
                                                  "items"};

/* The tag a create puts on an API with its idempotency token, so that a
 * read after a crash finds it (an "iasql:" key: never in the tags column). */
#define APIGW_TOKEN_TAG "iasql:client-token"
/* The statement a route adds to its function's policy. */
#define ROUTE_SID_PREFIX "iasql-route-"

static const char *str(const json_t *img, const char *col)
{
    return json_string_value(json_object_get(img, col));
}

static bool differs(const json_t *known, const json_t *desired, const char *col)
{
    const json_t *a = json_object_get(known, col), *b = json_object_get(desired, col);
    return !json_equal(a ? a : json_null(), b ? b : json_null());
}

static bool apigw_gone(const cm_err *err)
{
    return strcmp(err->cloud_code, "NotFoundException") == 0;
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* ---- api ---- */

/* CORS as the row holds it: what is set, without empty lists and false
 * flags; null when nothing is. */
static json_t *cors_row(const json_t *cors)
{
    if (!json_is_object(cors))
        return json_null();
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)cors, k, v)
    {
        if (json_is_null(v) || json_is_false(v) || (json_is_array(v) && !json_array_size(v)))
            continue;
        json_object_set(out, k, v);
    }
    if (!json_object_size(out)) {
        json_decref(out);
        return json_null();
    }
    return out;
}

/* A row image from an Api of GetApis or GetApi; NULL for one this table
 * does not hold (a WebSocket API, or one another service manages). */
static json_t *api_row(const char *region, const json_t *a)
{
    const char *id = cm_json_str(a, "apiId"), *proto = cm_json_str(a, "protocolType");
    if (!id || !proto || strcmp(proto, "HTTP") != 0 ||
        json_is_true(json_object_get(a, "apiGatewayManaged")))
        return NULL;
    json_t *row =
        json_pack("{s:s, s:o, s:o, s:s, s:o, s:b, s:o, s:s, s:o, s:o}", "api_id", id, "name",
                  str_or_null(cm_json_str(a, "name")), "description",
                  str_or_null(cm_json_str(a, "description")), "protocol_type", proto, "version",
                  str_or_null(cm_json_str(a, "version")), "disable_execute_api_endpoint",
                  json_is_true(json_object_get(a, "disableExecuteApiEndpoint")),
                  "cors_configuration", cors_row(json_object_get(a, "corsConfiguration")), "region",
                  region, "tags", mod_tags_from_object(json_object_get(a, "tags")), "api_endpoint",
                  str_or_null(cm_json_str(a, "apiEndpoint")));
    return row ? mod_take_owner(row) : NULL;
}

static int api_collect(mod_ctx *ctx, const char *region, const json_t *a, void *arg, cm_err *err)
{
    (void)ctx, (void)err;
    json_t *row = api_row(region, a);
    if (row)
        json_array_append_new(arg, row);
    return 0;
}

static json_t *apis_input(void)
{
    return json_pack("{s:{s:s}}", "query", "maxResults", "100");
}

static int api_list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    json_t *in = apis_input();
    int rc =
        mod_rest_each(ctx, &apigw_api, &apis_pager, region, in, api_collect, rows, "(all)", err);
    json_decref(in);
    return rc;
}

static int api_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                    cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, api_list_region, out, err);
}

typedef struct token_find {
    const char *token;
    json_t *found; /* the Api */
} token_find;

static int token_item(mod_ctx *ctx, const char *region, const json_t *a, void *arg, cm_err *err)
{
    (void)ctx, (void)region, (void)err;
    token_find *tf = arg;
    const char *t = cm_json_str(json_object_get(a, "tags"), APIGW_TOKEN_TAG);
    if (!t || strcmp(t, tf->token) != 0)
        return 0;
    tf->found = json_incref((json_t *)a);
    return 1;
}

static int api_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *id = str(image, "api_id"), *region = str(image, "region");
    *out = NULL;
    if (!region)
        return cm_err_set(err, CM_EINVAL, "api without a region");
    json_t *a = NULL;
    int rc = 0;
    if (id) {
        rc = mod_rest_op(ctx, &apigw_api, &get_api_op, region, json_pack("{s:s}", "apiId", id), &a,
                         err, id);
        if (rc && apigw_gone(err))
            rc = cm_err_set(err, CM_ENOTFOUND, "API %s does not exist in %s", id, region);
    } else if (mod_ctx_token(ctx)) {
        /* not written back yet (a crash): the create's token finds it */
        token_find tf = {mod_ctx_token(ctx), NULL};
        json_t *in = apis_input();
        rc = mod_rest_each(ctx, &apigw_api, &apis_pager, region, in, token_item, &tf, "(all)", err);
        json_decref(in);
        a = tf.found;
    }
    if (!rc && a)
        *out = api_row(region, a);
    json_decref(a);
    if (!rc && !*out)
        rc = cm_err_set(err, CM_ENOTFOUND, "API %s is not an HTTP API of %s",
                        id ? id : "(not made yet)", region);
    return rc;
}

/* The ARN API Gateway tags an API by. */
static void api_arn(const char *region, const char *id, char *out, size_t size)
{
    snprintf(out, size, "arn:%s:apigateway:%s::/apis/%s", aws_partition_of(region), region, id);
}

static void api_settings_into(const json_t *desired, json_t *body, bool update)
{
    json_object_set(body, "name", json_object_get(desired, "name"));
    json_object_set_new(
        body, "disableExecuteApiEndpoint",
        json_boolean(json_is_true(json_object_get(desired, "disable_execute_api_endpoint"))));
    const char *desc = str(desired, "description"), *version = str(desired, "version");
    if (desc || update)
        json_object_set_new(body, "description", json_string(desc ? desc : ""));
    if (version)
        json_object_set_new(body, "version", json_string(version));
    json_t *cors = json_object_get(desired, "cors_configuration");
    if (json_is_object(cors))
        json_object_set(body, "corsConfiguration", cors);
}

static int api_tags(mod_ctx *ctx, const char *region, const char *id, const json_t *known,
                    const json_t *desired, cm_err *err)
{
    char arn[256];
    api_arn(region, id, arn, sizeof arn);
    return mod_rest_tags(ctx, &apigw_api, &apigw_tagging, region, arn,
                         json_object_get(known, "tags"), json_object_get(desired, "tags"), err, id);
}

static json_t *api_with_owned(const json_t *desired, const json_t *cloud)
{
    json_t *out = json_deep_copy(desired);
    json_object_set(out, "api_id", json_object_get(cloud, "api_id"));
    json_object_set(out, "api_endpoint", json_object_get(cloud, "api_endpoint"));
    return out;
}

/* The "$default" stage, deploying each change by itself; one there
 * already (an earlier try) is taken. */
static int default_stage(mod_ctx *ctx, const char *region, const char *id, cm_err *err)
{
    int rc = mod_rest_op(ctx, &apigw_api, &create_stage_op, region,
                         json_pack("{s:s, s:{s:s, s:b}}", "apiId", id, "body", "stageName",
                                   "$default", "autoDeploy", 1),
                         NULL, err, id);
    if (rc && strcmp(err->cloud_code, "ConflictException") == 0) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static int api_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = str(desired, "region"), *name = str(desired, "name");
    if (!region || !name)
        return cm_err_set(err, CM_EINVAL, "api without a name or region");
    json_t *tags = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    if (mod_ctx_token(ctx))
        json_object_set_new(tags, APIGW_TOKEN_TAG, json_string(mod_ctx_token(ctx)));
    json_t *body = json_pack("{s:s, s:o}", "protocolType", "HTTP", "tags", tags);
    api_settings_into(desired, body, false);
    json_t *reply = NULL;
    int rc = mod_rest_op(ctx, &apigw_api, &create_api_op, region, json_pack("{s:o}", "body", body),
                         &reply, err, name);
    json_t *made = rc ? NULL : api_row(region, reply);
    json_decref(reply);
    if (!rc && !made)
        rc = cm_err_set(err, CM_EBADREPLY, "CreateApi for HTTP API %s: no apiId in the answer",
                        name);
    if (!rc)
        rc = default_stage(ctx, region, str(made, "api_id"), err);
    if (!rc)
        *out = api_with_owned(desired, made);
    json_decref(made);
    return rc;
}

static int api_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    const char *region = str(desired, "region"), *id = str(known, "api_id");
    if (!region || !id)
        return cm_err_set(err, CM_EINVAL, "api without an api_id or region");
    if (str(known, "version") && !str(desired, "version"))
        return cm_err_set(err, CM_EINVAL,
                          "HTTP API %s keeps a version once it has one Detail: API Gateway takes "
                          "no empty version. Hint: Set another version.",
                          id);
    int rc = 0;
    static const char *const settings[] = {
        "name", "description", "version", "disable_execute_api_endpoint", "cors_configuration",
        NULL};
    bool change = false;
    for (int i = 0; settings[i]; i++)
        change |= differs(known, desired, settings[i]);
    if (change) {
        json_t *body = json_object();
        api_settings_into(desired, body, true);
        rc = mod_rest_op(ctx, &apigw_api, &update_api_op, region,
                         json_pack("{s:s, s:o}", "apiId", id, "body", body), NULL, err, id);
    }
    if (!rc && differs(known, desired, "cors_configuration") &&
        !json_is_object(json_object_get(desired, "cors_configuration")))
        rc = mod_rest_op(ctx, &apigw_api, &delete_cors_op, region, json_pack("{s:s}", "apiId", id),
                         NULL, err, id);
    if (!rc)
        rc = api_tags(ctx, region, id, known, desired, err);
    json_t *cloud = NULL;
    if (!rc)
        rc = api_read(ctx, known, &cloud, err);
    if (!rc)
        *out = api_with_owned(desired, cloud);
    json_decref(cloud);
    return rc;
}

static int api_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *region = str(known, "region"), *id = str(known, "api_id");
    if (!id)
        return 0; /* never made */
    int rc = mod_rest_op(ctx, &apigw_api, &delete_api_op, region, json_pack("{s:s}", "apiId", id),
                         NULL, err, id);
    if (rc && apigw_gone(err)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

/* ---- api_route ---- */

/* The function an integration URI names: a function ARN
 * ("arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]") or the
 * invocation URI around one; into out, false when it names none. */
static bool function_of(const char *uri, char *out, size_t size)
{
    const char *f = uri ? strstr(uri, ":function:") : NULL;
    if (!f)
        return false;
    f += strlen(":function:");
    size_t n = strcspn(f, ":/");
    if (!n)
        return false;
    snprintf(out, size, "%.*s", (int)n, f);
    return true;
}

typedef struct routes_arg {
    json_t *rows;
    const char *api_id;
    json_t *integrations; /* integration id -> Integration */
} routes_arg;

static int integration_item(mod_ctx *ctx, const char *region, const json_t *i, void *arg,
                            cm_err *err)
{
    (void)ctx, (void)region, (void)err;
    const char *id = cm_json_str(i, "integrationId");
    if (id)
        json_object_set(arg, id, (json_t *)i);
    return 0;
}

/* A route row, when the route proxies to a Lambda function. */
static int route_item(mod_ctx *ctx, const char *region, const json_t *r, void *arg, cm_err *err)
{
    (void)ctx, (void)err;
    routes_arg *ra = arg;
    const char *target = cm_json_str(r, "target"), *rid = cm_json_str(r, "routeId");
    const char *key = cm_json_str(r, "routeKey");
    if (!target || strncmp(target, "integrations/", 13) != 0 || !rid || !key)
        return 0;
    const json_t *in = json_object_get(ra->integrations, target + 13);
    const char *type = cm_json_str(in, "integrationType");
    char fn[256];
    if (!type || strcmp(type, "AWS_PROXY") != 0 ||
        !function_of(cm_json_str(in, "integrationUri"), fn, sizeof fn))
        return 0;
    json_array_append_new(ra->rows,
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "route_id", rid, "api",
                                    ra->api_id, "route_key", key, "lambda_function", fn, "region",
                                    region, "integration_id", target + 13));
    return 0;
}

/* The Lambda routes of one API into rows. */
static int api_routes(mod_ctx *ctx, const char *region, const char *api_id, json_t *rows,
                      cm_err *err)
{
    routes_arg ra = {rows, api_id, json_object()};
    json_t *in = json_pack("{s:s, s:{s:s}}", "apiId", api_id, "query", "maxResults", "100");
    int rc = mod_rest_each(ctx, &route_api, &integrations_pager, region, in, integration_item,
                           ra.integrations, api_id, err);
    if (!rc)
        rc =
            mod_rest_each(ctx, &route_api, &routes_pager, region, in, route_item, &ra, api_id, err);
    json_decref(in);
    json_decref(ra.integrations);
    if (rc && apigw_gone(err)) { /* the API went meanwhile */
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static int route_api_item(mod_ctx *ctx, const char *region, const json_t *a, void *arg, cm_err *err)
{
    json_t *row = api_row(region, a);
    const char *id = row ? str(row, "api_id") : NULL;
    int rc = 0;
    /* under the poller's rotation by parent, a known API's routes are
     * listed in its turn (nothing here counts them) */
    if (id && !mod_parent_left_out(ctx, arg, "api", region, id, -1))
        rc = api_routes(ctx, region, id, arg, err);
    json_decref(row);
    return rc;
}

static int route_list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    json_t *in = apis_input();
    int rc =
        mod_rest_each(ctx, &apigw_api, &apis_pager, region, in, route_api_item, rows, "(all)", err);
    json_decref(in);
    return rc;
}

static int route_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                      cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, route_list_region, out, err);
}

/* The route of image among its API's: by route_id, or by route_key when
 * the id was never written back. */
static int route_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *api_id = str(image, "api"), *region = str(image, "region");
    const char *rid = str(image, "route_id"), *key = str(image, "route_key");
    *out = NULL;
    if (!api_id || !region)
        return cm_err_set(err, CM_ENOTFOUND, "the route's API was never made");
    json_t *rows = json_array();
    int rc = api_routes(ctx, region, api_id, rows, err);
    size_t i;
    json_t *r;
    json_array_foreach(rc ? NULL : rows, i, r)
    {
        if (rid ? strcmp(str(r, "route_id"), rid) == 0
                : key && strcmp(str(r, "route_key"), key) == 0)
            *out = json_incref(r);
    }
    json_decref(rows);
    if (!rc && !*out)
        rc = cm_err_set(err, CM_ENOTFOUND, "API %s has no route %s", api_id,
                        rid   ? rid
                        : key ? key
                              : "");
    return rc;
}

static int function_arn(mod_ctx *ctx, const char *region, const char *fn, char *out, size_t size,
                        cm_err *err)
{
    char res[300];
    snprintf(res, sizeof res, "function:%s", fn);
    return mod_arn(ctx, "lambda", region, res, out, size, err);
}

/* The function's permission for this API to invoke it. */
static int permit(mod_ctx *ctx, const char *region, const char *fn, const char *api_id,
                  const char *rid, cm_err *err)
{
    char sid[128], source[300], res[160];
    snprintf(sid, sizeof sid, ROUTE_SID_PREFIX "%s", rid);
    snprintf(res, sizeof res, "%s/*", api_id);
    int rc = mod_arn(ctx, "execute-api", region, res, source, sizeof source, err);
    if (!rc)
        rc = mod_rest_op(ctx, &lambda_api, &add_permission_op, region,
                         json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "FunctionName", fn, "body",
                                   "StatementId", sid, "Action", "lambda:InvokeFunction",
                                   "Principal", "apigateway.amazonaws.com", "SourceArn", source),
                         NULL, err, fn);
    if (rc && strcmp(err->cloud_code, "ResourceConflictException") == 0) {
        cm_err_clear(err); /* added by an earlier try */
        rc = 0;
    }
    return rc;
}

static int unpermit(mod_ctx *ctx, const char *region, const char *fn, const char *rid, cm_err *err)
{
    char sid[128];
    snprintf(sid, sizeof sid, ROUTE_SID_PREFIX "%s", rid);
    int rc =
        mod_rest_op(ctx, &lambda_api, &remove_permission_op, region,
                    json_pack("{s:s, s:s}", "FunctionName", fn, "StatementId", sid), NULL, err, fn);
    if (rc && strcmp(err->cloud_code, "ResourceNotFoundException") == 0) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static int route_names(const json_t *img, const char **api_id, const char **region, const char **fn,
                       cm_err *err)
{
    *api_id = str(img, "api");
    *region = str(img, "region");
    *fn = str(img, "lambda_function");
    if (!*api_id || !*region || !*fn)
        return cm_err_set(err, CM_EINVAL, "api_route %s without its API, region or function",
                          str(img, "route_key") ? str(img, "route_key") : "");
    return 0;
}

static int route_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *api_id, *region, *fn;
    int rc = route_names(desired, &api_id, &region, &fn, err);
    if (rc)
        return rc;
    const char *key = str(desired, "route_key");
    char arn[512];
    rc = function_arn(ctx, region, fn, arn, sizeof arn, err);
    /* a route of this key there already (an earlier try): it is taken */
    json_t *had = NULL;
    cm_err rerr = {0};
    if (!rc && route_read(ctx, desired, &had, &rerr) != 0)
        had = NULL;
    char iid[64] = "", rid[64] = "";
    if (!rc && had) {
        snprintf(iid, sizeof iid, "%s", str(had, "integration_id"));
        snprintf(rid, sizeof rid, "%s", str(had, "route_id"));
        rc = mod_rest_op(ctx, &route_api, &update_integration_op, region,
                         json_pack("{s:s, s:s, s:{s:s}}", "apiId", api_id, "integrationId", iid,
                                   "body", "integrationUri", arn),
                         NULL, err, key);
    } else if (!rc) {
        json_t *reply = NULL;
        rc = mod_rest_op(ctx, &route_api, &create_integration_op, region,
                         json_pack("{s:s, s:{s:s, s:s, s:s}}", "apiId", api_id, "body",
                                   "integrationType", "AWS_PROXY", "integrationUri", arn,
                                   "payloadFormatVersion", "2.0"),
                         &reply, err, key);
        snprintf(iid, sizeof iid, "%s",
                 rc                                    ? ""
                 : cm_json_str(reply, "integrationId") ? cm_json_str(reply, "integrationId")
                                                       : "");
        json_decref(reply);
        if (!rc && !iid[0])
            rc = cm_err_set(err, CM_EBADREPLY, "CreateIntegration for route %s: no integrationId",
                            key);
        char target[96];
        snprintf(target, sizeof target, "integrations/%s", iid);
        reply = NULL;
        if (!rc)
            rc = mod_rest_op(ctx, &route_api, &create_route_op, region,
                             json_pack("{s:s, s:{s:s, s:s}}", "apiId", api_id, "body", "routeKey",
                                       key, "target", target),
                             &reply, err, key);
        snprintf(rid, sizeof rid, "%s",
                 !rc && cm_json_str(reply, "routeId") ? cm_json_str(reply, "routeId") : "");
        json_decref(reply);
        if (!rc && !rid[0])
            rc = cm_err_set(err, CM_EBADREPLY, "CreateRoute for route %s: no routeId", key);
    }
    json_decref(had);
    if (!rc)
        rc = permit(ctx, region, fn, api_id, rid, err);
    if (rc && strcmp(err->cloud_code, "ResourceNotFoundException") == 0)
        rc = cm_err_set(err, CM_ENOTFOUND,
                        "route %s: function %s does not exist in %s Hint: Make the function "
                        "first, or name one that exists.",
                        key, fn, region);
    if (!rc) {
        *out = json_deep_copy(desired);
        json_object_set_new(*out, "route_id", json_string(rid));
        json_object_set_new(*out, "integration_id", json_string(iid));
    }
    return rc;
}

static int route_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                        cm_err *err)
{
    const char *api_id, *region, *fn;
    int rc = route_names(desired, &api_id, &region, &fn, err);
    const char *rid = str(known, "route_id"), *iid = str(known, "integration_id");
    const char *key = str(desired, "route_key"), *old_fn = str(known, "lambda_function");
    if (!rc && (!rid || !iid))
        rc = cm_err_set(err, CM_EINVAL, "route %s has no route_id or integration_id", key);
    if (!rc && differs(known, desired, "route_key"))
        rc = mod_rest_op(ctx, &route_api, &update_route_op, region,
                         json_pack("{s:s, s:s, s:{s:s}}", "apiId", api_id, "routeId", rid, "body",
                                   "routeKey", key),
                         NULL, err, key);
    if (!rc && differs(known, desired, "lambda_function")) {
        char arn[512];
        rc = function_arn(ctx, region, fn, arn, sizeof arn, err);
        /* the new function may be invoked before the integration points at it */
        if (!rc)
            rc = permit(ctx, region, fn, api_id, rid, err);
        if (!rc)
            rc = mod_rest_op(ctx, &route_api, &update_integration_op, region,
                             json_pack("{s:s, s:s, s:{s:s}}", "apiId", api_id, "integrationId", iid,
                                       "body", "integrationUri", arn),
                             NULL, err, key);
        if (!rc && old_fn)
            rc = unpermit(ctx, region, old_fn, rid, err);
    }
    if (!rc) {
        *out = json_deep_copy(desired);
        json_object_set_new(*out, "route_id", json_string(rid));
        json_object_set_new(*out, "integration_id", json_string(iid));
    }
    return rc;
}

static int route_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *api_id = str(known, "api"), *region = str(known, "region");
    const char *rid = str(known, "route_id"), *iid = str(known, "integration_id");
    const char *fn = str(known, "lambda_function");
    int rc = 0;
    if (fn && rid)
        rc = unpermit(ctx, region, fn, rid, err);
    if (!rc && api_id && rid)
        rc = mod_rest_op(ctx, &route_api, &delete_route_op, region,
                         json_pack("{s:s, s:s}", "apiId", api_id, "routeId", rid), NULL, err, rid);
    if (rc && apigw_gone(err)) {
        cm_err_clear(err);
        rc = 0;
    }
    if (!rc && api_id && iid)
        rc = mod_rest_op(ctx, &route_api, &delete_integration_op, region,
                         json_pack("{s:s, s:s}", "apiId", api_id, "integrationId", iid), NULL, err,
                         iid);
    if (rc && apigw_gone(err)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

#define CID (MOD_COL_CLOUD_ID | MOD_COL_CLOUD_OWNED)
#define IMM MOD_COL_IMMUTABLE
#define OWNED MOD_COL_CLOUD_OWNED

static const mod_table_ops api_ops = {
    .list = api_list,
    .read = api_read,
    .create = api_create,
    .update = api_update,
    .remove = api_remove,
};
static const mod_column api_columns[] = {
    {"api_id", CID},           {"name", 0},     {"description", 0},
    {"protocol_type", IMM},    {"version", 0},  {"disable_execute_api_endpoint", 0},
    {"cors_configuration", 0}, {"region", IMM}, {"tags", 0},
    {"api_endpoint", OWNED},   {NULL, 0},
};
static const mod_table api_table = {"api", api_columns, &api_ops, "apigateway"};

static const mod_table_ops route_ops = {
    .list = route_list,
    .read = route_read,
    .create = route_create,
    .update = route_update,
    .remove = route_remove,
};
static const mod_column route_columns[] = {
    {"route_id", CID},
    {"api", IMM, "api"},
    {"route_key", MOD_COL_UNIQUE},
    {"lambda_function", 0, "lambda_function"},
    {"region", IMM},
    {"integration_id", OWNED},
    {NULL, 0},
};
static const mod_table route_table = {"api_route", route_columns, &route_ops,        "apigateway",
                                      NULL,        "api",         .by_parent = "api"};

static const mod_table *const apigw_tables[] = {&api_table, &route_table, NULL};
static const char *const apigw_deps[] = {"aws_lambda", NULL};

const mod_module mod_aws_api_gateway = {
    .name = "aws_api_gateway",
    .version = IASQL_VERSION,
    .deps = apigw_deps,
    .install_sql = iasql_sql_aws_api_gateway,
    .uninstall_sql = "DROP FUNCTION IF EXISTS api_cors_configuration_valid(jsonb);",
    .tables = apigw_tables,
};
