/* modules/aws_sqs/mod_sqs.c — module aws_sqs: table queue, over SQS's json
 * 1.0 protocol. Queue attributes map to columns through one table; the name
 * and the FIFO flag cannot change in place (replace). A create is one call
 * with every attribute and tag, plus one read for the ARN. */
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

extern const char iasql_sql_aws_sqs[];

/* Integer columns and the SQS attributes they are. */
static const struct {
    const char *column, *attribute;
} int_attrs[] = {
    {"visibility_timeout", "VisibilityTimeout"},
    {"delay_seconds", "DelaySeconds"},
    {"receive_message_wait_time_seconds", "ReceiveMessageWaitTimeSeconds"},
    {"message_retention_period", "MessageRetentionPeriod"},
    {"maximum_message_size", "MaximumMessageSize"},
};
#define N_ATTRS (sizeof int_attrs / sizeof int_attrs[0])

static const mod_json_service sqs_api = {"sqs", "1.0", "AmazonSQS", "queue"};

static int sqs_call(mod_ctx *ctx, const char *region, const char *op, json_t *body, json_t **out,
                    cm_err *err, const char *name)
{
    return mod_json_op(ctx, &sqs_api, region, op, body, out, err, name);
}

static bool gone(const char *code)
{
    return strstr(code, "QueueDoesNotExist") || strstr(code, "NonExistentQueue");
}

static int image_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "queue", "name", name, region, err);
}

/* The queue's URL: from the image when known, else asked by name. */
static int queue_url(mod_ctx *ctx, const json_t *img, char *out, size_t size, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(img, &name, &region, err);
    if (rc)
        return rc;
    const char *url = cm_json_str(img, "url");
    if (url && *url) {
        snprintf(out, size, "%s", url);
        return 0;
    }
    json_t *reply;
    rc = sqs_call(ctx, region, "GetQueueUrl", json_pack("{s:s}", "QueueName", name), &reply, err,
                  name);
    if (rc && gone(err->cloud_code))
        return cm_err_set(err, CM_ENOTFOUND, "queue %s does not exist in %s", name, region);
    if (rc)
        return rc;
    snprintf(out, size, "%s", cm_json_str(reply, "QueueUrl") ? cm_json_str(reply, "QueueUrl") : "");
    json_decref(reply);
    return out[0] ? 0 : cm_err_set(err, CM_EBADREPLY, "GetQueueUrl for %s: no QueueUrl", name);
}

/* A row image from a queue's URL: its attributes and tags (two calls). */
static int queue_row(mod_ctx *ctx, const char *region, const char *url, json_t **out, cm_err *err)
{
    const char *slash = strrchr(url, '/');
    const char *name = slash ? slash + 1 : url;
    json_t *attrs, *tags;
    int rc = sqs_call(ctx, region, "GetQueueAttributes",
                      json_pack("{s:s, s:[s]}", "QueueUrl", url, "AttributeNames", "All"), &attrs,
                      err, name);
    if (rc && gone(err->cloud_code))
        return cm_err_set(err, CM_ENOTFOUND, "queue %s does not exist", name);
    if (rc)
        return rc;
    rc = sqs_call(ctx, region, "ListQueueTags", json_pack("{s:s}", "QueueUrl", url), &tags, err,
                  name);
    if (rc) {
        json_decref(attrs);
        return rc;
    }
    const json_t *a = json_object_get(attrs, "Attributes");
    json_t *row = json_pack(
        "{s:s, s:s, s:s, s:b}", "name", name, "region", region, "url", url, "fifo_queue",
        strcmp(cm_json_str(a, "FifoQueue") ? cm_json_str(a, "FifoQueue") : "", "true") == 0);
    const char *arn = cm_json_str(a, "QueueArn");
    json_object_set_new(row, "arn", arn ? json_string(arn) : json_null());
    for (size_t i = 0; i < N_ATTRS; i++) {
        const char *v = cm_json_str(a, int_attrs[i].attribute);
        json_object_set_new(row, int_attrs[i].column, v ? json_integer(atoll(v)) : json_null());
    }
    json_object_set_new(row, "tags", mod_tags_from_object(json_object_get(tags, "Tags")));
    json_decref(attrs);
    json_decref(tags);
    *out = mod_take_owner(row);
    return 0;
}

static const mod_json_pager queues = {"ListQueues", "NextToken", "NextToken", "QueueUrls"};

/* A region's listing: its rows, and under the poller's rotation the tags
 * of its queues by name from the tagging API (asked once, at the first
 * known queue; null when that API is not served). */
typedef struct region_rows {
    json_t *rows;
    json_t *tagged;
    bool asked;
} region_rows;

/* A known queue in the rotation's off turn: what ListQueues and the
 * tagging API say (its name, URL and FIFO flag, which its name carries,
 * and tags); its attributes keep their known values. */
static json_t *partial_row(const char *region, const char *url, const char *name,
                           const json_t *tags)
{
    size_t n = strlen(name);
    json_t *row = json_pack("{s:s, s:s, s:s, s:b, s:O, s:b}", "name", name, "region", region, "url",
                            url, "fifo_queue", n > 5 && strcmp(name + n - 5, ".fifo") == 0, "tags",
                            tags, MOD_PARTIAL_KEY, 1);
    return mod_take_owner(row);
}

static int collect(mod_ctx *ctx, const char *region, const json_t *url, void *arg, cm_err *err)
{
    region_rows *rr = arg;
    if (!json_is_string(url))
        return 0;
    const char *u = json_string_value(url), *slash = strrchr(u, '/');
    const char *name = slash ? slash + 1 : u;
    if (mod_deep_known(ctx, region, name) && !mod_deep_wanted(ctx, region, name)) {
        if (!rr->asked) {
            rr->tagged = mod_tagged_by_name(ctx, region, "sqs", NULL);
            rr->asked = true;
        }
        if (rr->tagged) {
            const json_t *t = json_object_get(rr->tagged, name);
            json_t *empty = json_object();
            json_array_append_new(rr->rows, partial_row(region, u, name, t ? t : empty));
            json_decref(empty);
            return 0;
        }
    }
    json_t *row = NULL;
    int rc = queue_row(ctx, region, u, &row, err);
    return mod_keep_found(rr->rows, rc, row, err);
}

static int list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    json_t *body = json_pack("{s:i}", "MaxResults", 1000);
    region_rows rr = {rows, NULL, false};
    int rc = mod_json_each(ctx, &sqs_api, &queues, region, body, collect, &rr, "(all)", err);
    json_decref(body);
    json_decref(rr.tagged);
    return rc;
}

static int sqs_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                    cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, list_region, out, err);
}

static int sqs_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    char url[1024];
    json_t *probe = json_deep_copy(image);
    json_object_del(probe, "url"); /* ask by name: the URL may be stale */
    int rc = queue_url(ctx, probe, url, sizeof url, err);
    if (!rc)
        rc = queue_row(ctx, cm_json_str(image, "region"), url, out, err);
    json_decref(probe);
    return rc;
}

/* The attributes of desired that differ from known (all when known is NULL). */
static json_t *changed_attrs(const json_t *known, const json_t *desired)
{
    json_t *attrs = json_object();
    for (size_t i = 0; i < N_ATTRS; i++) {
        json_t *v = json_object_get(desired, int_attrs[i].column);
        if (!json_is_integer(v))
            continue;
        if (known && json_equal(v, json_object_get(known, int_attrs[i].column)))
            continue;
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        json_object_set_new(attrs, int_attrs[i].attribute, json_string(num));
    }
    return attrs;
}

static int put_tags(mod_ctx *ctx, const char *region, const char *url, const char *name,
                    const json_t *known, const json_t *desired, cm_err *err)
{
    json_t *set, *drop;
    mod_tags_diff(known, desired, &set, &drop);
    int rc = 0;
    if (json_object_size(set))
        rc = sqs_call(ctx, region, "TagQueue",
                      json_pack("{s:s, s:O}", "QueueUrl", url, "Tags", set), NULL, err, name);
    if (!rc && json_array_size(drop))
        rc = sqs_call(ctx, region, "UntagQueue",
                      json_pack("{s:s, s:O}", "QueueUrl", url, "TagKeys", drop), NULL, err, name);
    json_decref(set);
    json_decref(drop);
    return rc;
}

static int set_attrs(mod_ctx *ctx, const char *region, const char *url, const char *name,
                     json_t *attrs, cm_err *err)
{
    int rc = 0;
    if (json_object_size(attrs))
        rc = sqs_call(ctx, region, "SetQueueAttributes",
                      json_pack("{s:s, s:O}", "QueueUrl", url, "Attributes", attrs), NULL, err,
                      name);
    json_decref(attrs);
    return rc;
}

static int with_owned(mod_ctx *ctx, const json_t *desired, const char *url, json_t **out,
                      cm_err *err)
{
    json_t *row;
    int rc = queue_row(ctx, cm_json_str(desired, "region"), url, &row, err);
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set(*out, "url", json_object_get(row, "url"));
    json_object_set(*out, "arn", json_object_get(row, "arn"));
    json_decref(row);
    return 0;
}

static int sqs_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    json_t *attrs = changed_attrs(NULL, desired);
    if (json_is_true(json_object_get(desired, "fifo_queue")))
        json_object_set_new(attrs, "FifoQueue", json_string("true"));
    json_t *body = json_pack("{s:s, s:o}", "QueueName", name, "Attributes", attrs);
    json_t *tags = json_object_get(desired, "tags");
    json_t *owned = mod_tags_owned(ctx, tags);
    if (json_object_size(owned))
        json_object_set(body, "tags", owned);
    json_decref(owned);
    json_t *reply = NULL;
    char url[1024] = "";
    rc = sqs_call(ctx, region, "CreateQueue", body, &reply, err, name);
    if (!rc)
        snprintf(url, sizeof url, "%s",
                 cm_json_str(reply, "QueueUrl") ? cm_json_str(reply, "QueueUrl") : "");
    json_decref(reply);
    if (rc && strstr(err->cloud_code, "QueueNameExists")) {
        /* There already, with other attributes: bring it to the row. */
        json_t *existing = NULL;
        cm_err_clear(err);
        rc = sqs_read(ctx, desired, &existing, err);
        if (!rc)
            snprintf(url, sizeof url, "%s", cm_json_str(existing, "url"));
        if (!rc)
            rc = set_attrs(ctx, region, url, name, changed_attrs(existing, desired), err);
        if (!rc)
            rc = put_tags(ctx, region, url, name, json_object_get(existing, "tags"), tags, err);
        json_decref(existing);
    }
    if (!rc && !url[0])
        rc = cm_err_set(err, CM_EBADREPLY, "CreateQueue for %s: no QueueUrl", name);
    return rc ? rc : with_owned(ctx, desired, url, out, err);
}

static int sqs_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    const char *name, *region;
    char url[1024];
    int rc = image_names(desired, &name, &region, err);
    if (!rc)
        rc = queue_url(ctx, known, url, sizeof url, err);
    if (!rc)
        rc = set_attrs(ctx, region, url, name, changed_attrs(known, desired), err);
    if (!rc)
        rc = put_tags(ctx, region, url, name, json_object_get(known, "tags"),
                      json_object_get(desired, "tags"), err);
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set(*out, "url", json_object_get(known, "url"));
    json_object_set(*out, "arn", json_object_get(known, "arn"));
    return 0;
}

static int sqs_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    char url[1024];
    int rc = queue_url(ctx, known, url, sizeof url, err);
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        return 0;
    }
    if (!rc)
        rc = sqs_call(ctx, cm_json_str(known, "region"), "DeleteQueue",
                      json_pack("{s:s}", "QueueUrl", url), NULL, err, cm_json_str(known, "name"));
    if (rc && gone(err->cloud_code)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static const mod_table_ops queue_ops = {
    .list = sqs_list,
    .read = sqs_read,
    .create = sqs_create,
    .update = sqs_update,
    .remove = sqs_remove,
};

static const mod_column queue_columns[] = {
    {"name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"fifo_queue", MOD_COL_IMMUTABLE},
    {"visibility_timeout", 0},
    {"delay_seconds", 0},
    {"receive_message_wait_time_seconds", 0},
    {"message_retention_period", 0},
    {"maximum_message_size", 0},
    {"tags", 0},
    {"url", MOD_COL_CLOUD_OWNED},
    {"arn", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

/* What only GetQueueAttributes returns: it follows the rotation. */
static const char *const queue_deep[] = {"visibility_timeout",
                                         "delay_seconds",
                                         "receive_message_wait_time_seconds",
                                         "message_retention_period",
                                         "maximum_message_size",
                                         "arn",
                                         NULL};
static const mod_table queue_table = {"queue", queue_columns, &queue_ops, .deep = queue_deep};
static const mod_table *const sqs_tables[] = {&queue_table, NULL};
static const char *const sqs_deps[] = {"aws_account", NULL};

const mod_module mod_aws_sqs = {
    .name = "aws_sqs",
    .version = IASQL_VERSION,
    .deps = sqs_deps,
    .install_sql = iasql_sql_aws_sqs,
    .tables = sqs_tables,
};
