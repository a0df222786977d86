/* modules/aws_ssm/mod_ssm.c — module aws_ssm: table parameter, over SSM's
 * json 1.1 protocol. Values are read without decryption: a SecureString
 * shows in a row image as a mask, and its cleartext reaches this module
 * only inside the desired image of the commit that sets it
 * (docs/secrets.md). A create is one PutParameter with tags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

extern const char iasql_sql_aws_ssm[];

static const mod_json_service ssm_api = {"ssm", "1.1", "AmazonSSM", "parameter"};

static int ssm_call(mod_ctx *ctx, const char *region, const char *op, json_t *body, json_t **out,
                    cm_err *err, const char *name)
{
    return mod_json_op(ctx, &ssm_api, region, op, body, out, err, name);
}

static bool gone(const char *code)
{
    return strstr(code, "ParameterNotFound") != NULL;
}

static int image_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "parameter", "name", name, region, err);
}

static int param_tags(mod_ctx *ctx, const char *region, const char *name, json_t **out, cm_err *err)
{
    json_t *reply;
    int rc = ssm_call(ctx, region, "ListTagsForResource",
                      json_pack("{s:s, s:s}", "ResourceType", "Parameter", "ResourceId", name),
                      &reply, err, name);
    if (rc)
        return rc;
    *out = mod_tags_from_list(json_object_get(reply, "TagList"), "Key", "Value");
    json_decref(reply);
    return 0;
}

/* A row image from a DescribeParameters entry and its tags (taken), with
 * its value from the GetParameters entry of the same name (undecrypted);
 * got NULL: a partial row, without the value and the version. */
static json_t *param_row(const char *region, const json_t *meta, const json_t *got, json_t *tags)
{
    const char *name = cm_json_str(meta, "Name");
    const char *type = cm_json_str(meta, "Type");
    json_t *version = json_object_get(meta, "Version");
    json_t *row = mod_take_owner(json_pack("{s:s, s:s, s:s, s:o, s:O}", "name", name, "region",
                                           region, "type", type, "tags", tags, "version",
                                           json_is_integer(version) ? version : json_null()));
    const char *desc = cm_json_str(meta, "Description");
    json_object_set_new(row, "description", desc && *desc ? json_string(desc) : json_null());
    if (!got) {
        json_object_del(row, "version");
        json_object_set_new(row, MOD_PARTIAL_KEY, json_true());
    } else if (strcmp(type, "SecureString") == 0) {
        /* The cloud's cleartext is never read: a mask per version. */
        char mask[64];
        snprintf(mask, sizeof mask, "%sv%lld", MOD_SECRET_PREFIX,
                 (long long)json_integer_value(version));
        json_object_set_new(row, "value", json_string(mask));
    } else {
        const char *v = cm_json_str(got, "Value");
        json_object_set_new(row, "value", json_string(v ? v : ""));
    }
    return row;
}

static const mod_json_pager parameters = {"DescribeParameters", "NextToken", "NextToken",
                                          "Parameters"};

/* A region's listing: its rows, and under the poller's rotation the tags of
 * its parameters by ARN from the tagging API (asked once, at the first
 * known parameter; null when that API is not served). */
typedef struct region_rows {
    json_t *rows;
    json_t *tagged;
    bool asked;
} region_rows;

/* The tags of a listed parameter: the tagging API's for a known one (when
 * served, and the listing names its ARN), else read. */
static int tags_of(mod_ctx *ctx, const char *region, region_rows *rr, const json_t *meta,
                   json_t **out, cm_err *err)
{
    const char *name = cm_json_str(meta, "Name"), *arn = cm_json_str(meta, "ARN");
    char made[2048];
    if (!arn && mod_deep_known(ctx, region, name)) {
        /* an endpoint that lists no ARN: parameter/<name without its first slash> */
        char res[1200];
        cm_err aerr = {0};
        snprintf(res, sizeof res, "parameter/%s", name[0] == '/' ? name + 1 : name);
        if (!mod_arn(ctx, "ssm", region, res, made, sizeof made, &aerr))
            arn = made;
    }
    if (arn && mod_deep_known(ctx, region, name)) {
        if (!rr->asked) {
            cm_err terr = {0};
            if (mod_tagged(ctx, region, "ssm:parameter", &rr->tagged, &terr))
                cm_log(CM_LOG_DEBUG, "parameter tags in %s through the tagging API: %s", region,
                       terr.msg);
            rr->asked = true;
        }
        if (rr->tagged) {
            const json_t *t = json_object_get(rr->tagged, arn);
            *out = t ? json_deep_copy(t) : json_object();
            return 0;
        }
    }
    return param_tags(ctx, region, name, out, err);
}

/* One page of DescribeParameters as row images appended to rr's rows: the
 * values of the parameters read in full, ten names per GetParameters; a
 * known parameter in the rotation's off turn is a partial row (its value
 * and version keep their known values). */
static int list_page(mod_ctx *ctx, const char *region, const json_t *reply, void *arg, cm_err *err)
{
    region_rows *rr = arg;
    int rc = 0;
    json_t *params = json_object_get(reply, "Parameters");
    json_t *wanted = json_array(), *values = json_object();
    size_t i;
    json_t *meta;
    json_array_foreach(params, i, meta)
    {
        const char *name = cm_json_str(meta, "Name");
        if (name && cm_json_str(meta, "Type") && mod_deep_wanted(ctx, region, name))
            json_array_append(wanted, json_object_get(meta, "Name"));
    }
    for (size_t k = 0; !rc && k < json_array_size(wanted); k += 10) {
        json_t *names = json_array(), *got;
        for (size_t m = k; m < k + 10 && m < json_array_size(wanted); m++)
            json_array_append(names, json_array_get(wanted, m));
        rc = ssm_call(ctx, region, "GetParameters",
                      json_pack("{s:o, s:b}", "Names", names, "WithDecryption", 0), &got, err,
                      "(batch)");
        size_t n;
        json_t *g;
        json_array_foreach(rc ? NULL : json_object_get(got, "Parameters"), n, g)
        {
            if (cm_json_str(g, "Name"))
                json_object_set(values, cm_json_str(g, "Name"), g);
        }
        json_decref(rc ? NULL : got);
    }
    json_decref(wanted);
    json_array_foreach(params, i, meta)
    {
        const char *name = cm_json_str(meta, "Name");
        if (rc)
            break;
        if (!name || !cm_json_str(meta, "Type")) {
            rc = cm_err_set(err, CM_EBADREPLY, "a parameter without a name or type in %s", region);
            break;
        }
        bool whole = mod_deep_wanted(ctx, region, name);
        if (whole && !json_object_get(values, name))
            continue; /* deleted between the two calls */
        json_t *tags = NULL;
        rc = tags_of(ctx, region, rr, meta, &tags, err);
        if (!rc)
            json_array_append_new(
                rr->rows,
                param_row(region, meta, whole ? json_object_get(values, name) : NULL, tags));
    }
    json_decref(values);
    return rc;
}

/* Every parameter of region (those filter selects, when not NULL). */
static int list_where(mod_ctx *ctx, const char *region, const json_t *filter, json_t *rows,
                      cm_err *err)
{
    json_t *body = json_pack("{s:i}", "MaxResults", 50);
    if (filter)
        json_object_set(body, "ParameterFilters", (json_t *)filter);
    region_rows rr = {rows, NULL, false};
    int rc = mod_json_pages(ctx, &ssm_api, &parameters, region, body, list_page, &rr, "(all)", err);
    json_decref(body);
    json_decref(rr.tagged);
    return rc;
}

static int list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    return list_where(ctx, region, NULL, rows, err);
}

static int ssm_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                    cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, list_region, out, err);
}

static int ssm_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(image, &name, &region, err);
    if (rc)
        return rc;
    json_t *filter =
        json_pack("[{s:s, s:s, s:[s]}]", "Key", "Name", "Option", "Equals", "Values", name);
    json_t *rows = json_array();
    const mod_deep *deep = ctx->deep; /* a read is always whole */
    ctx->deep = NULL;
    rc = list_where(ctx, region, filter, rows, err);
    ctx->deep = deep;
    json_decref(filter);
    if (!rc && json_array_size(rows) == 0)
        rc = cm_err_set(err, CM_ENOTFOUND, "parameter %s does not exist in %s", name, region);
    if (!rc)
        *out = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return rc;
}

static int put_tags(mod_ctx *ctx, const char *region, const char *name, const json_t *known,
                    const json_t *desired, cm_err *err)
{
    json_t *set, *drop;
    mod_tags_diff(known, desired, &set, &drop);
    int rc = 0;
    if (json_object_size(set))
        rc = ssm_call(ctx, region, "AddTagsToResource",
                      json_pack("{s:s, s:s, s:o}", "ResourceType", "Parameter", "ResourceId", name,
                                "Tags", mod_tags_to_list(set)),
                      NULL, err, name);
    if (!rc && json_array_size(drop))
        rc = ssm_call(ctx, region, "RemoveTagsFromResource",
                      json_pack("{s:s, s:s, s:O}", "ResourceType", "Parameter", "ResourceId", name,
                                "TagKeys", drop),
                      NULL, err, name);
    json_decref(set);
    json_decref(drop);
    return rc;
}

/* The value to send: the row's, or for a SecureString whose value the user
 * did not set in this commit, the cloud's own (decrypted in memory only). */
static int value_to_send(mod_ctx *ctx, const json_t *desired, bool create, char **out, cm_err *err)
{
    const char *name = cm_json_str(desired, "name"), *region = cm_json_str(desired, "region");
    const char *value = cm_json_str(desired, "value");
    if (!mod_is_mask(value)) {
        *out = strdup(value ? value : "");
        return 0;
    }
    if (create)
        return cm_err_set(err, CM_EINVAL,
                          "the value of SecureString parameter %s is not known to the engine "
                          "(it was imported or set before): set value again",
                          name);
    json_t *reply;
    int rc =
        ssm_call(ctx, region, "GetParameter",
                 json_pack("{s:s, s:b}", "Name", name, "WithDecryption", 1), &reply, err, name);
    if (rc)
        return rc;
    const char *v = cm_json_str(json_object_get(reply, "Parameter"), "Value");
    *out = v ? strdup(v) : NULL;
    json_decref(reply);
    return *out ? 0 : cm_err_set(err, CM_EBADREPLY, "GetParameter for %s: no value", name);
}

/* PutParameter of desired; *version receives the new version. */
static int put_parameter(mod_ctx *ctx, const json_t *desired, bool overwrite, json_int_t *version,
                         cm_err *err)
{
    const char *name = cm_json_str(desired, "name"), *region = cm_json_str(desired, "region");
    char *value;
    int rc = value_to_send(ctx, desired, !overwrite, &value, err);
    if (rc)
        return rc;
    json_t *body = json_pack("{s:s, s:s, s:s, s:b}", "Name", name, "Value", value, "Type",
                             cm_json_str(desired, "type"), "Overwrite", overwrite);
    free(value);
    const char *desc = cm_json_str(desired, "description");
    json_object_set_new(body, "Description", json_string(desc ? desc : ""));
    json_t *tags = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    if (!overwrite && json_object_size(tags))
        json_object_set_new(body, "Tags", mod_tags_to_list(tags));
    json_decref(tags);
    json_t *reply;
    rc = ssm_call(ctx, region, "PutParameter", body, &reply, err, name);
    if (rc)
        return rc;
    json_t *v = json_object_get(reply, "Version");
    *version = json_is_integer(v) ? json_integer_value(v) : 0;
    json_decref(reply);
    return 0;
}

static json_t *with_version(const json_t *desired, json_int_t version)
{
    json_t *out = json_deep_copy(desired);
    json_object_set_new(out, "version", version ? json_integer(version) : json_null());
    return out;
}

static int ssm_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    json_int_t version = 0;
    rc = put_parameter(ctx, desired, false, &version, err);
    if (rc && strstr(err->cloud_code, "ParameterAlreadyExists")) {
        /* There already: bring it to the row. */
        json_t *existing = NULL;
        cm_err_clear(err);
        rc = ssm_read(ctx, desired, &existing, err);
        if (!rc)
            rc = put_parameter(ctx, desired, true, &version, err);
        if (!rc)
            rc = put_tags(ctx, region, name, json_object_get(existing, "tags"),
                          json_object_get(desired, "tags"), err);
        json_decref(existing);
    }
    if (rc)
        return rc;
    *out = with_version(desired, version);
    return 0;
}

static int ssm_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    json_t *version = json_object_get(known, "version");
    json_int_t v = json_is_integer(version) ? json_integer_value(version) : 0;
    bool put =
        !json_equal(json_object_get(known, "value"), json_object_get(desired, "value")) ||
        !json_equal(json_object_get(known, "description"), json_object_get(desired, "description"));
    if (put)
        rc = put_parameter(ctx, desired, true, &v, err);
    if (!rc)
        rc = put_tags(ctx, region, name, json_object_get(known, "tags"),
                      json_object_get(desired, "tags"), err);
    if (rc)
        return rc;
    *out = with_version(desired, v);
    return 0;
}

static int ssm_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(known, &name, &region, err);
    if (!rc)
        rc = ssm_call(ctx, region, "DeleteParameter", json_pack("{s:s}", "Name", name), NULL, err,
                      name);
    if (rc && gone(err->cloud_code)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static const mod_table_ops parameter_ops = {
    .list = ssm_list,
    .read = ssm_read,
    .create = ssm_create,
    .update = ssm_update,
    .remove = ssm_remove,
};

static const mod_column parameter_columns[] = {
    {"name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"type", MOD_COL_IMMUTABLE},
    {"value", MOD_COL_SECRET},
    {"description", 0},
    {"tags", 0},
    {"version", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

/* What only GetParameters returns, and the version that goes with it (a
 * value's change and its version are seen together): it follows the
 * rotation. */
static const char *const parameter_deep[] = {"value", "version", NULL};
static const mod_table parameter_table = {"parameter", parameter_columns, &parameter_ops,
                                          .deep = parameter_deep};
static const mod_table *const ssm_tables[] = {&parameter_table, NULL};
static const char *const ssm_deps[] = {"aws_account", NULL};

const mod_module mod_aws_ssm = {
    .name = "aws_ssm",
    .version = IASQL_VERSION,
    .deps = ssm_deps,
    .install_sql = iasql_sql_aws_ssm,
    .uninstall_sql = "DROP FUNCTION IF EXISTS parameter_hide_secret();\n"
                     "DELETE FROM iasql_secret WHERE table_name = 'parameter';",
    .tables = ssm_tables,
};
