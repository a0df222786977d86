/* modules/aws_dynamo/mod_dynamo.c — module aws_dynamo: table dynamo_table,
 * over DynamoDB's json 1.0 protocol. What the cloud reports is normalised to
 * the columns (0 capacity under on-demand is NULL, a missing table class is
 * STANDARD), so defaults never show as drift. A table that is still being
 * created or updated is waited for, within a bound, before it is changed. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

extern const char iasql_sql_aws_dynamo[];

#define WAIT_ACTIVE_MS 120000

static const mod_json_service dynamodb_api = {"dynamodb", "1.0", "DynamoDB_20120810", "table"};

static int ddb_call(mod_ctx *ctx, const char *region, const char *op, json_t *body, json_t **out,
                    cm_err *err, const char *name)
{
    return mod_json_op(ctx, &dynamodb_api, region, op, body, out, err, name);
}

static const char *attr_type(const json_t *desc, const char *name)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(desc, "AttributeDefinitions"), i, a)
    {
        const char *n = cm_json_str(a, "AttributeName");
        if (n && strcmp(n, name) == 0)
            return cm_json_str(a, "AttributeType");
    }
    return NULL;
}

/* A row image from a TableDescription. */
static json_t *table_row(const json_t *d, const char *region)
{
    json_t *row =
        json_pack("{s:s?, s:s}", "table_name", cm_json_str(d, "TableName"), "region", region);
    json_object_set_new(row, "range_key", json_null());
    json_object_set_new(row, "range_key_type", json_null());
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(d, "KeySchema"), i, k)
    {
        const char *name = cm_json_str(k, "AttributeName"), *type = cm_json_str(k, "KeyType");
        if (!name || !type)
            continue;
        bool hash = strcmp(type, "HASH") == 0;
        const char *t = attr_type(d, name);
        json_object_set_new(row, hash ? "hash_key" : "range_key", json_string(name));
        json_object_set_new(row, hash ? "hash_key_type" : "range_key_type",
                            t ? json_string(t) : json_null());
    }
    const char *mode = cm_json_str(json_object_get(d, "BillingModeSummary"), "BillingMode");
    bool provisioned = !mode || strcmp(mode, "PROVISIONED") == 0;
    json_object_set_new(row, "billing_mode",
                        json_string(provisioned ? "PROVISIONED" : "PAY_PER_REQUEST"));
    json_t *pt = json_object_get(d, "ProvisionedThroughput");
    json_object_set_new(row, "read_capacity_units",
                        provisioned ? json_incref(json_object_get(pt, "ReadCapacityUnits"))
                                    : json_null());
    json_object_set_new(row, "write_capacity_units",
                        provisioned ? json_incref(json_object_get(pt, "WriteCapacityUnits"))
                                    : json_null());
    const char *cls = cm_json_str(json_object_get(d, "TableClassSummary"), "TableClass");
    json_object_set_new(row, "table_class", json_string(cls ? cls : "STANDARD"));
    const char *arn = cm_json_str(d, "TableArn"), *tid = cm_json_str(d, "TableId");
    json_object_set_new(row, "table_arn", arn ? json_string(arn) : json_null());
    json_object_set_new(row, "table_id", tid ? json_string(tid) : json_null());
    json_object_set_new(row, "created_at",
                        mod_epoch_iso(json_object_get(d, "CreationDateTime"), 1.0));
    return row;
}

static int image_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "dynamo_table", "table_name", name, region, err);
}

static int describe(mod_ctx *ctx, const char *region, const char *name, json_t **desc, cm_err *err)
{
    json_t *reply;
    int rc = ddb_call(ctx, region, "DescribeTable", json_pack("{s:s}", "TableName", name), &reply,
                      err, name);
    if (rc && strstr(err->cloud_code, "ResourceNotFoundException"))
        return cm_err_set(err, CM_ENOTFOUND, "table %s does not exist in %s", name, region);
    if (rc)
        return rc;
    *desc = json_incref(json_object_get(reply, "Table"));
    json_decref(reply);
    return *desc ? 0 : cm_err_set(err, CM_EBADREPLY, "DescribeTable for %s: no Table", name);
}

/* A table can be changed only while ACTIVE; a deleted one lingers as
 * DELETING, and a new one of the same name (a replace) can be made only
 * once it is gone. */
static int wait_active(mod_ctx *ctx, const char *region, const char *name, cm_err *err)
{
    return mod_wait_active(ctx, describe, "TableStatus", region, name, WAIT_ACTIVE_MS, err);
}

static int wait_gone(mod_ctx *ctx, const char *region, const char *name, cm_err *err)
{
    return mod_wait_gone(ctx, describe, region, name, WAIT_ACTIVE_MS, err);
}

static const mod_json_pager tables = {"ListTables", "ExclusiveStartTableName",
                                      "LastEvaluatedTableName", "TableNames"};

static int collect(mod_ctx *ctx, const char *region, const json_t *name, void *rows, cm_err *err)
{
    if (!json_is_string(name))
        return 0;
    /* A known table in the rotation's off turn: ListTables' name alone
     * (the rest keeps its known values). */
    if (mod_deep_known(ctx, region, json_string_value(name)) &&
        !mod_deep_wanted(ctx, region, json_string_value(name))) {
        json_array_append_new(rows, json_pack("{s:O, s:s, s:b}", "table_name", name, "region",
                                              region, MOD_PARTIAL_KEY, 1));
        return 0;
    }
    json_t *d = NULL;
    int rc = describe(ctx, region, json_string_value(name), &d, err);
    json_t *row = rc ? NULL : table_row(d, region);
    json_decref(d);
    return mod_keep_found(rows, rc, row, err); /* gone between the list and the read: skipped */
}

static int list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    return mod_json_each(ctx, &dynamodb_api, &tables, region, NULL, collect, rows, "(all)", err);
}

static int ddb_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                    cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, list_region, out, err);
}

static int ddb_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    json_t *d;
    int rc = image_names(image, &name, &region, err);
    if (!rc)
        rc = describe(ctx, region, name, &d, err);
    if (rc)
        return rc;
    *out = table_row(d, region);
    json_decref(d);
    return 0;
}

static void add_key(json_t *attrs, json_t *schema, const json_t *img, const char *col,
                    const char *type_col, const char *key_type)
{
    const char *name = cm_json_str(img, col);
    if (!name)
        return;
    json_array_append_new(attrs,
                          json_pack("{s:s, s:s}", "AttributeName", name, "AttributeType",
                                    cm_json_str(img, type_col) ? cm_json_str(img, type_col) : "S"));
    json_array_append_new(schema,
                          json_pack("{s:s, s:s}", "AttributeName", name, "KeyType", key_type));
}

static json_t *throughput(const json_t *img)
{
    return json_pack("{s:O, s:O}", "ReadCapacityUnits", json_object_get(img, "read_capacity_units"),
                     "WriteCapacityUnits", json_object_get(img, "write_capacity_units"));
}

static bool provisioned(const json_t *img)
{
    const char *m = cm_json_str(img, "billing_mode");
    return m && strcmp(m, "PROVISIONED") == 0;
}

static bool differs(const json_t *a, const json_t *b, const char *col)
{
    json_t *x = json_object_get(a, col), *y = json_object_get(b, col);
    return !json_equal(x ? x : json_null(), y ? y : json_null());
}

static int ddb_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    json_t *attrs = json_array(), *schema = json_array();
    add_key(attrs, schema, desired, "hash_key", "hash_key_type", "HASH");
    add_key(attrs, schema, desired, "range_key", "range_key_type", "RANGE");
    json_t *body = json_pack(
        "{s:s, s:o, s:o, s:s, s:s}", "TableName", name, "AttributeDefinitions", attrs, "KeySchema",
        schema, "BillingMode", provisioned(desired) ? "PROVISIONED" : "PAY_PER_REQUEST",
        "TableClass",
        cm_json_str(desired, "table_class") ? cm_json_str(desired, "table_class") : "STANDARD");
    if (provisioned(desired))
        json_object_set_new(body, "ProvisionedThroughput", throughput(desired));
    if (mod_ctx_owner(ctx))
        json_object_set_new(
            body, "Tags",
            json_pack("[{s:s, s:s}]", "Key", MOD_OWNER_TAG, "Value", mod_ctx_owner(ctx)));
    json_t *reply = NULL;
    rc = ddb_call(ctx, region, "CreateTable", body, &reply, err, name);
    json_t *made = NULL;
    if (!rc) {
        made = table_row(json_object_get(reply, "TableDescription"), region);
    } else if (strstr(err->cloud_code, "ResourceInUseException")) {
        /* It exists: an earlier attempt made it, or someone else did. */
        cm_err_clear(err);
        rc = ddb_read(ctx, desired, &made, err);
        static const char *const keys[] = {"hash_key", "hash_key_type", "range_key",
                                           "range_key_type"};
        for (size_t i = 0; !rc && i < 4; i++)
            if (differs(made, desired, keys[i]))
                rc = cm_err_set(err, CM_ECLOUD,
                                "CreateTable for table %s: a table of that name exists with "
                                "another key schema (%s)",
                                name, keys[i]);
    }
    json_decref(reply);
    if (rc) {
        json_decref(made);
        return rc;
    }
    *out = json_deep_copy(desired);
    static const char *const owned[] = {"table_arn", "table_id", "created_at"};
    for (size_t i = 0; i < 3; i++)
        json_object_set(*out, owned[i], json_object_get(made, owned[i]));
    json_decref(made);
    return 0;
}

static int ddb_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    bool billing = differs(known, desired, "billing_mode") ||
                   differs(known, desired, "read_capacity_units") ||
                   differs(known, desired, "write_capacity_units");
    if (!rc && billing) {
        json_t *body = json_pack("{s:s, s:s}", "TableName", name, "BillingMode",
                                 provisioned(desired) ? "PROVISIONED" : "PAY_PER_REQUEST");
        if (provisioned(desired))
            json_object_set_new(body, "ProvisionedThroughput", throughput(desired));
        rc = wait_active(ctx, region, name, err);
        if (!rc)
            rc = ddb_call(ctx, region, "UpdateTable", body, NULL, err, name);
        else
            json_decref(body);
    }
    if (!rc && differs(known, desired, "table_class")) {
        rc = wait_active(ctx, region, name, err);
        if (!rc)
            rc = ddb_call(ctx, region, "UpdateTable",
                          json_pack("{s:s, s:s}", "TableName", name, "TableClass",
                                    cm_json_str(desired, "table_class")),
                          NULL, err, name);
    }
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    static const char *const owned[] = {"table_arn", "table_id", "created_at"};
    for (size_t i = 0; i < 3; i++)
        json_object_set(*out, owned[i], json_object_get(known, owned[i]));
    return 0;
}

static int ddb_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(known, &name, &region, err);
    if (!rc)
        rc = wait_active(ctx, region, name, err);
    if (!rc)
        rc = ddb_call(ctx, region, "DeleteTable", json_pack("{s:s}", "TableName", name), NULL, err,
                      name);
    if (rc == CM_ENOTFOUND || (rc && strstr(err->cloud_code, "ResourceNotFoundException"))) {
        cm_err_clear(err);
        return 0;
    }
    return rc ? rc : wait_gone(ctx, region, name, err);
}

/* The owner tag, from ListTagsOfResource (all pages); the table's ARN is
 * read when the image lacks it. */
static const mod_json_pager tags_of = {"ListTagsOfResource", "NextToken", "NextToken", "Tags"};

static int ddb_owner(mod_ctx *ctx, const json_t *known, char *out, size_t size, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(known, &name, &region, err);
    json_t *d = NULL;
    if (!rc && !cm_json_str(known, "table_arn"))
        rc = describe(ctx, region, name, &d, err);
    const char *arn = d ? cm_json_str(d, "TableArn") : cm_json_str(known, "table_arn");
    if (!rc && !arn)
        rc = cm_err_set(err, CM_EBADREPLY, "DescribeTable for table %s: no TableArn", name);
    out[0] = '\0';
    mod_owner_want w = {MOD_OWNER_TAG, out, size};
    json_t *body = rc ? NULL : json_pack("{s:s}", "ResourceArn", arn);
    if (!rc)
        rc = mod_json_each(ctx, &dynamodb_api, &tags_of, region, body, mod_owner_item, &w, name,
                           err);
    json_decref(body);
    if (rc && strstr(err->cloud_code, "ResourceNotFoundException"))
        rc = CM_ENOTFOUND;
    json_decref(d);
    if (rc == CM_ENOTFOUND) { /* gone: nobody's */
        cm_err_clear(err);
        out[0] = '\0';
        rc = 0;
    }
    return rc;
}

static const mod_table_ops dynamo_ops = {
    .owner = ddb_owner,
    .list = ddb_list,
    .read = ddb_read,
    .create = ddb_create,
    .update = ddb_update,
    .remove = ddb_remove,
};

static const mod_column dynamo_columns[] = {
    {"table_name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"hash_key", MOD_COL_IMMUTABLE},
    {"hash_key_type", MOD_COL_IMMUTABLE},
    {"range_key", MOD_COL_IMMUTABLE},
    {"range_key_type", MOD_COL_IMMUTABLE},
    {"billing_mode", 0},
    {"read_capacity_units", 0},
    {"write_capacity_units", 0},
    {"table_class", 0},
    {"table_arn", MOD_COL_CLOUD_OWNED},
    {"table_id", MOD_COL_CLOUD_OWNED},
    {"created_at", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

/* What only DescribeTable returns (ListTables gives names): it follows the
 * rotation. */
static const char *const dynamo_deep[] = {"hash_key",
                                          "hash_key_type",
                                          "range_key",
                                          "range_key_type",
                                          "billing_mode",
                                          "read_capacity_units",
                                          "write_capacity_units",
                                          "table_class",
                                          "table_arn",
                                          "table_id",
                                          "created_at",
                                          NULL};
static const mod_table dynamo_table = {"dynamo_table", dynamo_columns, &dynamo_ops,
                                       .deep = dynamo_deep};
static const mod_table *const dynamo_tables[] = {&dynamo_table, NULL};
static const char *const dynamo_deps[] = {"aws_account", NULL};

const mod_module mod_aws_dynamo = {
    .name = "aws_dynamo",
    .version = IASQL_VERSION,
    .deps = dynamo_deps,
    .install_sql = iasql_sql_aws_dynamo,
    .tables = dynamo_tables,
};
