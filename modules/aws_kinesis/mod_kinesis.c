/* modules/aws_kinesis/mod_kinesis.c — module aws_kinesis: table
 * kinesis_stream, over Kinesis' json 1.1 protocol. The mode and the shard
 * count change in place (after the stream is ACTIVE again); a deleted
 * stream is waited for until it is gone, so a replace can reuse the name. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

extern const char iasql_sql_aws_kinesis[];

/* Kinesis tag keys take letters, digits, white space and _ . / = + - % @
 * only: no colon, so the owner tag is spelt without one here. */
#define OWNER_TAG "iasql_owner"

#define WAIT_MS 120000

static const mod_json_service kinesis_api = {"kinesis", "1.1", "Kinesis_20131202", "stream"};

static int kin_call(mod_ctx *ctx, const char *region, const char *op, json_t *body, json_t **out,
                    cm_err *err, const char *name)
{
    return mod_json_op(ctx, &kinesis_api, region, op, body, out, err, name);
}

static int summary(mod_ctx *ctx, const char *region, const char *name, json_t **out, cm_err *err)
{
    json_t *reply;
    int rc = kin_call(ctx, region, "DescribeStreamSummary", json_pack("{s:s}", "StreamName", name),
                      &reply, err, name);
    if (rc && strstr(err->cloud_code, "ResourceNotFoundException"))
        return cm_err_set(err, CM_ENOTFOUND, "stream %s does not exist in %s", name, region);
    if (rc)
        return rc;
    *out = json_incref(json_object_get(reply, "StreamDescriptionSummary"));
    json_decref(reply);
    return *out ? 0
                : cm_err_set(err, CM_EBADREPLY, "DescribeStreamSummary for %s: no summary", name);
}

/* A row image from a stream summary; a missing mode is PROVISIONED, and an
 * on-demand stream has no shard count of the user's. */
static json_t *stream_row(const json_t *s, const char *region)
{
    const char *mode = cm_json_str(json_object_get(s, "StreamModeDetails"), "StreamMode");
    bool on_demand = mode && strcmp(mode, "ON_DEMAND") == 0;
    const char *arn = cm_json_str(s, "StreamARN");
    return json_pack("{s:s?, s:s, s:s, s:o, s:o, s:o}", "stream_name", cm_json_str(s, "StreamName"),
                     "region", region, "stream_mode", on_demand ? "ON_DEMAND" : "PROVISIONED",
                     "shard_count",
                     on_demand ? json_null() : json_incref(json_object_get(s, "OpenShardCount")),
                     "stream_arn", arn ? json_string(arn) : json_null(), "created_at",
                     mod_epoch_iso(json_object_get(s, "StreamCreationTimestamp"), 1.0));
}

static int image_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "kinesis_stream", "stream_name", name, region, err);
}

static int kin_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    json_t *s;
    int rc = image_names(image, &name, &region, err);
    if (!rc)
        rc = summary(ctx, region, name, &s, err);
    if (rc)
        return rc;
    *out = stream_row(s, region);
    json_decref(s);
    return 0;
}

static const mod_json_pager streams = {"ListStreams", "ExclusiveStartStreamName", NULL,
                                       "StreamNames", "HasMoreStreams"};

/* The StreamSummaries entry of name on a ListStreams page, or NULL (an
 * endpoint that gives names only). */
static const json_t *summary_of(const json_t *page, const char *name)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(page, "StreamSummaries"), i, s)
    {
        const char *n = cm_json_str(s, "StreamName");
        if (n && strcmp(n, name) == 0)
            return s;
    }
    return NULL;
}

/* A page of ListStreams as rows: a known stream in the rotation's off turn
 * is its summary on the page (its shard count keeps its known value); any
 * other is read (DescribeStreamSummary). */
static int collect(mod_ctx *ctx, const char *region, const json_t *page, void *rows, cm_err *err)
{
    size_t i;
    json_t *name;
    json_array_foreach(json_object_get(page, "StreamNames"), i, name)
    {
        if (!json_is_string(name))
            continue;
        const char *n = json_string_value(name);
        const json_t *listed = summary_of(page, n);
        if (listed && mod_deep_known(ctx, region, n) && !mod_deep_wanted(ctx, region, n)) {
            json_t *row = stream_row(listed, region);
            json_object_del(row, "shard_count");
            json_object_set_new(row, MOD_PARTIAL_KEY, json_true());
            json_array_append_new(rows, row);
            continue;
        }
        json_t *s = NULL;
        int rc = summary(ctx, region, n, &s, err);
        json_t *row = rc ? NULL : stream_row(s, region);
        json_decref(s);
        rc = mod_keep_found(rows, rc, row, err); /* gone between the list and the read: skipped */
        if (rc)
            return rc;
    }
    return 0;
}

static int list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    /* Kinesis gives at most 100 a page whatever is asked; some endpoints
     * give 10 unless asked for more */
    json_t *body = json_pack("{s:i}", "Limit", 1000);
    int rc = mod_json_pages(ctx, &kinesis_api, &streams, region, body, collect, rows, "(all)", err);
    json_decref(body);
    return rc;
}

static int kin_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                    cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, list_region, out, err);
}

static bool on_demand(const json_t *img)
{
    const char *m = cm_json_str(img, "stream_mode");
    return m && strcmp(m, "ON_DEMAND") == 0;
}

static int with_owned(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    json_t *made;
    int rc = kin_read(ctx, desired, &made, err);
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set(*out, "stream_arn", json_object_get(made, "stream_arn"));
    json_object_set(*out, "created_at", json_object_get(made, "created_at"));
    json_decref(made);
    return 0;
}

static int kin_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err);

static int kin_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    json_t *body = json_pack("{s:s}", "StreamName", name);
    if (on_demand(desired))
        json_object_set_new(body, "StreamModeDetails",
                            json_pack("{s:s}", "StreamMode", "ON_DEMAND"));
    else
        json_object_set(body, "ShardCount", json_object_get(desired, "shard_count"));
    json_t *owner = mod_ctx_owner(ctx) ? json_pack("{s:s}", OWNER_TAG, mod_ctx_owner(ctx)) : NULL;
    if (owner)
        json_object_set(body, "Tags", owner);
    rc = kin_call(ctx, region, "CreateStream", body, NULL, err, name);
    if (rc && strstr(err->cloud_code, "ResourceInUseException")) {
        /* It exists (an earlier attempt, or someone else): bring it to the row. */
        json_t *existing = NULL, *ignored = NULL;
        cm_err_clear(err);
        rc = kin_read(ctx, desired, &existing, err);
        if (!rc)
            rc = kin_update(ctx, existing, desired, &ignored, err);
        json_decref(existing);
        json_decref(ignored);
    }
    /* Not every endpoint takes Tags at CreateStream: tag again. A stream
     * still CREATING may refuse (ResourceInUse); CreateStream's Tags did
     * it there. */
    if (!rc && owner) {
        rc = kin_call(ctx, region, "AddTagsToStream",
                      json_pack("{s:s, s:O}", "StreamName", name, "Tags", owner), NULL, err, name);
        if (rc && strstr(err->cloud_code, "ResourceInUseException")) {
            cm_err_clear(err);
            rc = 0;
        }
    }
    json_decref(owner);
    return rc ? rc : with_owned(ctx, desired, out, err);
}

static const mod_json_pager stream_tags = {
    "ListTagsForStream", "ExclusiveStartTagKey", NULL, "Tags", "HasMoreTags", "Key"};

/* The owner tag, from ListTagsForStream (all pages). */
static int kin_owner(mod_ctx *ctx, const json_t *known, char *out, size_t size, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(known, &name, &region, err);
    out[0] = '\0';
    mod_owner_want w = {OWNER_TAG, out, size};
    json_t *body = json_pack("{s:s}", "StreamName", name);
    if (!rc)
        rc = mod_json_each(ctx, &kinesis_api, &stream_tags, region, body, mod_owner_item, &w, name,
                           err);
    json_decref(body);
    if (rc && strstr(err->cloud_code, "ResourceNotFoundException")) { /* gone: nobody's */
        cm_err_clear(err);
        out[0] = '\0';
        rc = 0;
    }
    return rc;
}

static int kin_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    if (on_demand(known) != on_demand(desired)) {
        rc = mod_wait_active(ctx, summary, "StreamStatus", region, name, WAIT_MS, err);
        if (!rc)
            rc = kin_call(ctx, region, "UpdateStreamMode",
                          json_pack("{s:O, s:{s:s}}", "StreamARN",
                                    json_object_get(known, "stream_arn"), "StreamModeDetails",
                                    "StreamMode", on_demand(desired) ? "ON_DEMAND" : "PROVISIONED"),
                          NULL, err, name);
    }
    json_t *target = json_object_get(desired, "shard_count");
    json_t *now = json_object_get(known, "shard_count");
    if (!rc && !on_demand(desired) && json_is_integer(target) &&
        (on_demand(known) || !json_equal(target, now))) {
        rc = mod_wait_active(ctx, summary, "StreamStatus", region, name, WAIT_MS, err);
        json_t *cur = NULL;
        if (!rc)
            rc = kin_read(ctx, desired, &cur, err);
        if (!rc && !json_equal(json_object_get(cur, "shard_count"), target))
            rc = kin_call(ctx, region, "UpdateShardCount",
                          json_pack("{s:s, s:O, s:s}", "StreamName", name, "TargetShardCount",
                                    target, "ScalingType", "UNIFORM_SCALING"),
                          NULL, err, name);
        json_decref(cur);
    }
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set(*out, "stream_arn", json_object_get(known, "stream_arn"));
    json_object_set(*out, "created_at", json_object_get(known, "created_at"));
    return 0;
}

static int kin_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(known, &name, &region, err);
    if (rc)
        return rc;
    rc = kin_call(ctx, region, "DeleteStream",
                  json_pack("{s:s, s:b}", "StreamName", name, "EnforceConsumerDeletion", 1), NULL,
                  err, name);
    if (rc && strstr(err->cloud_code, "ResourceNotFoundException")) {
        cm_err_clear(err);
        return 0;
    }
    return rc ? rc : mod_wait_gone(ctx, summary, region, name, WAIT_MS, err);
}

static const mod_table_ops stream_ops = {
    .owner = kin_owner,
    .list = kin_list,
    .read = kin_read,
    .create = kin_create,
    .update = kin_update,
    .remove = kin_remove,
};

static const mod_column stream_columns[] = {
    {"stream_name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"stream_mode", 0},
    {"shard_count", 0},
    {"stream_arn", MOD_COL_CLOUD_OWNED},
    {"created_at", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

/* What only DescribeStreamSummary returns (ListStreams' summaries carry the
 * rest): it follows the rotation. */
static const char *const stream_deep[] = {"shard_count", NULL};
static const mod_table stream_table = {"kinesis_stream", stream_columns, &stream_ops,
                                       .deep = stream_deep};
static const mod_table *const kinesis_tables[] = {&stream_table, NULL};
static const char *const kinesis_deps[] = {"aws_account", NULL};

const mod_module mod_aws_kinesis = {
    .name = "aws_kinesis",
    .version = IASQL_VERSION,
    .deps = kinesis_deps,
    .install_sql = iasql_sql_aws_kinesis,
    .tables = kinesis_tables,
};
