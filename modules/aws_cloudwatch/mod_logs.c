/* modules/aws_cloudwatch/mod_logs.c — module aws_cloudwatch: table
 * log_group, over CloudWatch Logs' json 1.1 protocol, and the module's
 * description (metric_alarm is in mod_alarm.c). A create costs one
 * call, plus one for a retention policy, plus one read for the ARN and
 * creation time. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cm_json.h"
#include "modules/aws_cloudwatch/mod_cloudwatch.h"
#include "modules/mod_int.h"

extern const char iasql_sql_aws_cloudwatch[];

static const mod_json_service logs_api = {"logs", "1.1", "Logs_20140328", "log group"};

static int logs_call(mod_ctx *ctx, const char *region, const char *op, json_t *body, json_t **out,
                     cm_err *err, const char *name)
{
    return mod_json_op(ctx, &logs_api, region, op, body, out, err, name);
}

/* Milliseconds since 1970 as an ISO 8601 UTC timestamp. */
static int group_tags(mod_ctx *ctx, const char *region, const char *name, json_t **out, cm_err *err)
{
    json_t *reply;
    int rc = logs_call(ctx, region, "ListTagsLogGroup", json_pack("{s:s}", "logGroupName", name),
                       &reply, err, name);
    if (rc)
        return rc;
    *out = mod_tags_from_object(json_object_get(reply, "tags"));
    json_decref(reply);
    return 0;
}

/* A row image from one DescribeLogGroups entry and its tags: those of
 * tagged (the tagging API's, by name) when not NULL, else read. */
static int group_row(mod_ctx *ctx, const char *region, const json_t *g, const json_t *tagged,
                     json_t **out, cm_err *err)
{
    const char *name = cm_json_str(g, "logGroupName");
    if (!name)
        return cm_err_set(err, CM_EBADREPLY, "a log group without a name in DescribeLogGroups");
    *out = NULL;
    json_t *tags = NULL;
    int rc = 0;
    if (tagged) {
        const json_t *t = json_object_get(tagged, name);
        tags = t ? json_deep_copy(t) : json_object();
    } else {
        rc = group_tags(ctx, region, name, &tags, err);
    }
    if (rc)
        return rc;
    json_t *ret = json_object_get(g, "retentionInDays");
    const char *arn = cm_json_str(g, "logGroupArn");
    *out = mod_take_owner(
        json_pack("{s:s, s:s, s:O, s:o, s:o, s:o}", "log_group_name", name, "region", region,
                  "retention_in_days", json_is_integer(ret) ? ret : json_null(), "tags", tags,
                  "log_group_arn", arn ? json_string(arn) : json_null(), "creation_time",
                  mod_epoch_iso(json_object_get(g, "creationTime"), 0.001)));
    return 0;
}

static const mod_json_pager log_groups = {"DescribeLogGroups", "nextToken", "nextToken",
                                          "logGroups"};

typedef struct list_acc {
    const char *exact; /* for read: the one name wanted */
    json_t *rows;
    json_t *tagged; /* the region's tags by name (mod_tagged_by_name), NULL: not served */
    bool asked;     /* tagged was asked for */
} list_acc;

/* Under the poller's rotation a log group the database knows costs nothing
 * of its own: its tags come from the tagging API (a request per 100 of
 * them, asked at the first known group), the rest from its entry. */
static int collect(mod_ctx *ctx, const char *region, const json_t *g, void *arg, cm_err *err)
{
    list_acc *acc = arg;
    const char *name = cm_json_str(g, "logGroupName");
    if (acc->exact && (!name || strcmp(name, acc->exact) != 0))
        return 0;
    if (!acc->asked && name && mod_deep_known(ctx, region, name)) {
        acc->tagged = mod_tagged_by_name(ctx, region, "logs", ":log-group:");
        acc->asked = true;
    }
    const json_t *tagged = name && mod_deep_known(ctx, region, name) ? acc->tagged : NULL;
    json_t *row = NULL;
    int rc = group_row(ctx, region, g, tagged, &row, err);
    if (rc)
        return rc;
    json_array_append_new(acc->rows, row);
    return acc->exact ? 1 : 0;
}

static int list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    list_acc acc = {NULL, rows, NULL, false};
    int rc = mod_json_each(ctx, &logs_api, &log_groups, region, NULL, collect, &acc, "(all)", err);
    json_decref(acc.tagged);
    return rc;
}

static int logs_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                     cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, list_region, out, err);
}

static int image_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "log_group", "log_group_name", name, region, err);
}

static int logs_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(image, &name, &region, err);
    if (rc)
        return rc;
    list_acc acc = {name, json_array(), NULL, false};
    json_t *body = json_pack("{s:s}", "logGroupNamePrefix", name);
    rc = mod_json_each(ctx, &logs_api, &log_groups, region, body, collect, &acc, name, err);
    json_decref(body);
    if (!rc && json_array_size(acc.rows) == 0)
        rc = cm_err_set(err, CM_ENOTFOUND, "log group %s does not exist in %s", name, region);
    if (!rc)
        *out = json_incref(json_array_get(acc.rows, 0));
    json_decref(acc.rows);
    return rc;
}

static int put_retention(mod_ctx *ctx, const char *region, const char *name, const json_t *days,
                         cm_err *err)
{
    if (json_is_integer(days))
        return logs_call(ctx, region, "PutRetentionPolicy",
                         json_pack("{s:s, s:O}", "logGroupName", name, "retentionInDays", days),
                         NULL, err, name);
    return logs_call(ctx, region, "DeleteRetentionPolicy", json_pack("{s:s}", "logGroupName", name),
                     NULL, err, name);
}

/* Tags from known to desired: one call for added or changed, one for removed. */
static int put_tags(mod_ctx *ctx, const char *region, const char *name, const json_t *known,
                    const json_t *desired, cm_err *err)
{
    json_t *set, *gone;
    mod_tags_diff(known, desired, &set, &gone);
    int rc = 0;
    if (json_object_size(set))
        rc = logs_call(ctx, region, "TagLogGroup",
                       json_pack("{s:s, s:O}", "logGroupName", name, "tags", set), NULL, err, name);
    if (!rc && json_array_size(gone))
        rc =
            logs_call(ctx, region, "UntagLogGroup",
                      json_pack("{s:s, s:O}", "logGroupName", name, "tags", gone), NULL, err, name);
    json_decref(set);
    json_decref(gone);
    return rc;
}

static int logs_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    const json_t *tags = json_object_get(desired, "tags");
    json_t *body = json_pack("{s:s}", "logGroupName", name);
    json_t *owned = mod_tags_owned(ctx, tags);
    if (json_object_size(owned))
        json_object_set(body, "tags", owned);
    json_decref(owned);
    rc = logs_call(ctx, region, "CreateLogGroup", body, NULL, err, name);
    json_t *existing = NULL;
    if (rc && strcmp(err->cloud_code, "ResourceAlreadyExistsException") == 0) {
        /* Made by an earlier attempt (or by someone else): bring it to desired. */
        cm_err_clear(err);
        rc = logs_read(ctx, desired, &existing, err);
        if (!rc)
            rc = put_tags(ctx, region, name, json_object_get(existing, "tags"), tags, err);
    }
    json_t *days = json_object_get(desired, "retention_in_days");
    if (!rc && (json_is_integer(days) || existing))
        rc = put_retention(ctx, region, name, days, err);
    json_decref(existing);
    json_t *made = NULL;
    if (!rc)
        rc = logs_read(ctx, desired, &made, err);
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set(*out, "log_group_arn", json_object_get(made, "log_group_arn"));
    json_object_set(*out, "creation_time", json_object_get(made, "creation_time"));
    json_decref(made);
    return 0;
}

static int logs_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                       cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    json_t *days = json_object_get(desired, "retention_in_days");
    json_t *was = json_object_get(known, "retention_in_days");
    if (!json_equal(days ? days : json_null(), was ? was : json_null()))
        rc = put_retention(ctx, region, name, days, err);
    if (!rc)
        rc = put_tags(ctx, region, name, json_object_get(known, "tags"),
                      json_object_get(desired, "tags"), err);
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set(*out, "log_group_arn", json_object_get(known, "log_group_arn"));
    json_object_set(*out, "creation_time", json_object_get(known, "creation_time"));
    return 0;
}

static int logs_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(known, &name, &region, err);
    if (rc)
        return rc;
    rc = logs_call(ctx, region, "DeleteLogGroup", json_pack("{s:s}", "logGroupName", name), NULL,
                   err, name);
    if (rc && strcmp(err->cloud_code, "ResourceNotFoundException") == 0) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static const mod_table_ops log_group_ops = {
    .list = logs_list,
    .read = logs_read,
    .create = logs_create,
    .update = logs_update,
    .remove = logs_remove,
};

static const mod_column log_group_columns[] = {
    {"log_group_name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"retention_in_days", 0},
    {"tags", 0},
    {"log_group_arn", MOD_COL_CLOUD_OWNED},
    {"creation_time", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

/* Nothing costs a read of its own once tags come from the tagging API; the
 * empty list puts the table under the rotation, which tells the module the
 * groups the database knows. */
static const char *const log_group_deep[] = {NULL};
static const mod_table log_group_table = {"log_group", log_group_columns, &log_group_ops,
                                          .deep = log_group_deep};
static const mod_table *const cloudwatch_tables[] = {&log_group_table, &cw_metric_alarm_table,
                                                     NULL};
static const char *const cloudwatch_deps[] = {"aws_account", NULL};

const mod_module mod_aws_cloudwatch = {
    .name = "aws_cloudwatch",
    .version = IASQL_VERSION,
    .deps = cloudwatch_deps,
    .install_sql = iasql_sql_aws_cloudwatch,
    .uninstall_sql = "DROP FUNCTION IF EXISTS metric_alarm_metrics_returning(jsonb);\n"
                     "DROP FUNCTION IF EXISTS metric_alarm_metrics_valid(jsonb);\n"
                     "DROP FUNCTION IF EXISTS metric_alarm_dimensions_valid(jsonb);\n"
                     "DROP FUNCTION IF EXISTS metric_alarm_actions_valid(text[]);",
    .tables = cloudwatch_tables,
};
