/* modules/aws_cloudwatch/mod_alarm.c — table metric_alarm of module
 * aws_cloudwatch, over CloudWatch's query protocol (the model also offers
 * smithy-rpc-v2-cbor and json; AWS and moto serve query). PutMetricAlarm
 * both creates and overwrites an alarm's whole configuration, so an update
 * sends every column again; tags given to it on an existing alarm are
 * ignored, so they go through TagResource / UntagResource. A create costs
 * PutMetricAlarm, DescribeAlarms (ARN and state) and ListTagsForResource
 * (an alarm that was there already keeps its old tags), plus a tag call
 * when they differ; a list, one DescribeAlarms per 100 alarms and one
 * ListTagsForResource per alarm, or under the poller's rotation one
 * GetResources page per 100 tagged alarms and the tags of the alarms of
 * the slot. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/aws_cloudwatch/mod_cloudwatch.h"
#include "modules/mod_int.h"

static const mod_query_service cw_api = {"monitoring", "2010-08-01", "metric alarm"};

static const mod_query_pager alarms_pager = {"DescribeAlarms", "NextToken", "NextToken",
                                             "MetricAlarms", NULL};

static bool gone(const char *code)
{
    return strcmp(code, "ResourceNotFound") == 0 || strcmp(code, "ResourceNotFoundException") == 0;
}

/* Columns sent to PutMetricAlarm and read back from DescribeAlarms: the
 * column, the API's member, and how its value travels. */
enum kind { K_TEXT, K_INT, K_BOOL, K_DOUBLE, K_LIST, K_JSON };
static const struct {
    const char *column, *member;
    enum kind kind;
} fields[] = {
    {"alarm_name", "AlarmName", K_TEXT},
    {"alarm_description", "AlarmDescription", K_TEXT},
    {"actions_enabled", "ActionsEnabled", K_BOOL},
    {"alarm_actions", "AlarmActions", K_LIST},
    {"ok_actions", "OKActions", K_LIST},
    {"insufficient_data_actions", "InsufficientDataActions", K_LIST},
    {"metric_name", "MetricName", K_TEXT},
    {"namespace", "Namespace", K_TEXT},
    {"statistic", "Statistic", K_TEXT},
    {"extended_statistic", "ExtendedStatistic", K_TEXT},
    {"dimensions", "Dimensions", K_JSON},
    {"period", "Period", K_INT},
    {"evaluation_periods", "EvaluationPeriods", K_INT},
    {"datapoints_to_alarm", "DatapointsToAlarm", K_INT},
    {"threshold", "Threshold", K_DOUBLE},
    {"threshold_metric_id", "ThresholdMetricId", K_TEXT},
    {"comparison_operator", "ComparisonOperator", K_TEXT},
    {"treat_missing_data", "TreatMissingData", K_TEXT},
    {"unit", "Unit", K_TEXT},
    {"metrics", "Metrics", K_JSON},
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

/* A number as PostgreSQL's to_json writes a double: an integer when it
 * has no fraction, so that images compare equal to the row's. */
static json_t *number_of(const char *text)
{
    char *end;
    double d = strtod(text, &end);
    if (end == text || !isfinite(d))
        return json_null();
    if (d == floor(d) && fabs(d) < 9007199254740992.0)
        return json_integer((json_int_t)d);
    return json_real(d);
}

/* Members of a MetricDataQuery (and below) that are not strings. */
static json_t *typed_leaf(const char *name, const char *text)
{
    if (strcmp(name, "Period") == 0)
        return json_integer(strtoll(text, NULL, 10));
    if (strcmp(name, "ReturnData") == 0)
        return json_boolean(strcmp(text, "true") == 0);
    return json_string(text);
}

/* The API's JSON form of an element of a DescribeAlarms answer: children
 * named member make a list, other children an object, text a leaf. */
static json_t *xml_value(xmlNodePtr node)
{
    xmlNodePtr first = NULL;
    for (xmlNodePtr c = node->children; c && !first; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            first = c;
    if (!first) {
        xmlChar *t = xmlNodeGetContent(node);
        json_t *v = typed_leaf((const char *)node->name, t ? (const char *)t : "");
        xmlFree(t);
        return v;
    }
    bool list = strcmp((const char *)first->name, "member") == 0;
    json_t *out = list ? json_array() : json_object();
    for (xmlNodePtr c = first; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        json_t *v = xml_value(c);
        /* no dimensions: the member is left out, as a user writes it */
        if (json_is_string(v) && strcmp((const char *)c->name, "Dimensions") == 0)
            json_decref(v);
        else if (list)
            json_array_append_new(out, v);
        else
            json_object_set_new(out, (const char *)c->name, v);
    }
    return out;
}

/* A list member (<X><member>a</member>...</X>) as an array; [] when absent. */
static json_t *xml_list(xmlNodePtr parent, const char *member)
{
    json_t *arr = json_array();
    for (xmlNodePtr m = aws_xml_child(aws_xml_child(parent, member), "member"); m;
         m = aws_xml_next(m, "member"))
        json_array_append_new(arr, aws_xml_json_text(m));
    return arr;
}

static json_t *field_from_xml(xmlNodePtr alarm, unsigned i)
{
    xmlNodePtr node = aws_xml_child(alarm, fields[i].member);
    switch (fields[i].kind) {
    case K_LIST:
        return xml_list(alarm, fields[i].member);
    case K_JSON:
        if (strcmp(fields[i].column, "dimensions") == 0) {
            json_t *d = node ? xml_value(node) : NULL;
            if (!json_is_array(d)) {
                json_decref(d);
                d = json_array();
            }
            return d;
        }
        return node && node->children ? xml_value(node) : json_null();
    default:
        break;
    }
    if (!node)
        return fields[i].kind == K_BOOL ? json_true() : json_null();
    xmlChar *t = xmlNodeGetContent(node);
    const char *s = t ? (const char *)t : "";
    json_t *v;
    if (fields[i].kind == K_INT)
        v = *s ? json_integer(strtoll(s, NULL, 10)) : json_null();
    else if (fields[i].kind == K_BOOL)
        v = json_boolean(strcmp(s, "true") == 0);
    else if (fields[i].kind == K_DOUBLE)
        v = number_of(s);
    else
        v = *s ? json_string(s) : json_null();
    xmlFree(t);
    return v;
}

static int alarm_tags(mod_ctx *ctx, const char *region, const char *arn, json_t **out, cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr res;
    int rc = mod_query_op(ctx, &cw_api, region, "ListTagsForResource",
                          json_pack("{s:s}", "ResourceARN", arn), &doc, &res, err, arn);
    if (rc)
        return rc;
    json_t *all = mod_xml_map(aws_xml_child(res, "Tags"), "member", "Key", "Value");
    xmlFreeDoc(doc);
    *out = mod_tags_from_object(all);
    json_decref(all);
    return 0;
}

/* A row image from one MetricAlarms member, with its tags: read, or
 * taken from the tagging API's answer (tagged, by ARN) when not NULL. */
static int alarm_row(mod_ctx *ctx, const char *region, xmlNodePtr alarm, const json_t *tagged,
                     json_t **out, cm_err *err)
{
    char arn[1700];
    aws_xml_child_text(alarm, "AlarmArn", arn, sizeof arn);
    if (!arn[0] || !aws_xml_child(alarm, "AlarmName"))
        return cm_err_set(err, CM_EBADREPLY, "a metric alarm without a name or ARN in %s", region);
    json_t *tags;
    int rc = 0;
    if (tagged) {
        const json_t *t = json_object_get(tagged, arn);
        tags = t ? json_deep_copy(t) : json_object();
    } else {
        rc = alarm_tags(ctx, region, arn, &tags, err);
    }
    if (rc)
        return rc;
    json_t *row = json_pack("{s:s, s:s, s:o, s:o}", "region", region, "alarm_arn", arn,
                            "state_value", aws_xml_json_child(alarm, "StateValue"), "tags", tags);
    for (unsigned i = 0; i < N_FIELDS; i++)
        json_object_set_new(row, fields[i].column, field_from_xml(alarm, i));
    *out = mod_take_owner(row);
    return 0;
}

typedef struct list_acc {
    const char *exact; /* for read: the one name wanted */
    json_t *rows;
    /* under the poller's rotation: the tags of the region's alarms from the
     * tagging API, asked at the first known alarm (NULL: not served) */
    json_t *tagged;
    bool asked;
} list_acc;

static int collect(mod_ctx *ctx, const char *region, xmlNodePtr alarm, void *arg, cm_err *err)
{
    list_acc *acc = arg;
    char name[300];
    aws_xml_child_text(alarm, "AlarmName", name, sizeof name);
    if (acc->exact && strcmp(name, acc->exact) != 0)
        return 0;
    const json_t *tagged = NULL;
    if (!acc->exact && mod_deep_known(ctx, region, name) && !mod_deep_wanted(ctx, region, name)) {
        if (!acc->asked) {
            cm_err terr = {0};
            if (mod_tagged(ctx, region, "cloudwatch:alarm", &acc->tagged, &terr))
                cm_log(CM_LOG_DEBUG, "metric alarm tags in %s through the tagging API: %s", region,
                       terr.msg);
            acc->asked = true;
        }
        tagged = acc->tagged;
    }
    json_t *row = NULL;
    int rc = alarm_row(ctx, region, alarm, tagged, &row, err);
    return mod_keep_found(acc->rows, rc, row, err);
}

static json_t *describe_params(const char *name)
{
    json_t *p = json_pack("{s:s, s:i}", "AlarmTypes.member.1", "MetricAlarm", "MaxRecords", 100);
    if (name)
        json_object_set_new(p, "AlarmNames.member.1", json_string(name));
    return p;
}

static int list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    list_acc acc = {NULL, rows, NULL, false};
    int rc = mod_query_each(ctx, &cw_api, &alarms_pager, region, describe_params(NULL), collect,
                            &acc, "(all)", err);
    json_decref(acc.tagged);
    return rc;
}

static int alarm_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                      cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, list_region, out, err);
}

static int image_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "metric_alarm", "alarm_name", name, region, err);
}

static int alarm_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(image, &name, &region, err);
    if (rc)
        return rc;
    list_acc acc = {name, json_array(), NULL, false};
    rc = mod_query_each(ctx, &cw_api, &alarms_pager, region, describe_params(name), collect, &acc,
                        name, err);
    if (!rc && json_array_size(acc.rows) == 0)
        rc = cm_err_set(err, CM_ENOTFOUND, "metric alarm %s does not exist in %s", name, region);
    if (!rc)
        *out = json_incref(json_array_get(acc.rows, 0));
    json_decref(acc.rows);
    return rc;
}

/* PutMetricAlarm of the whole of desired (tags: those to send, or NULL). */
static int put_alarm(mod_ctx *ctx, const json_t *desired, const json_t *tags, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    json_t *p = json_object();
    for (unsigned i = 0; i < N_FIELDS; i++) {
        json_t *v = json_object_get(desired, fields[i].column);
        if (!v || json_is_null(v))
            continue;
        if (fields[i].kind == K_DOUBLE && json_is_integer(v)) {
            json_t *d = json_real((double)json_integer_value(v));
            mod_query_put_json(p, fields[i].member, d);
            json_decref(d);
        } else {
            mod_query_put_json(p, fields[i].member, v);
        }
    }
    if (json_object_size(tags))
        mod_query_put_map(p, "Tags.member", "Key", "Value", tags);
    return mod_query_op(ctx, &cw_api, region, "PutMetricAlarm", p, NULL, NULL, err, name);
}

static int put_tags(mod_ctx *ctx, const char *region, const char *arn, const json_t *known,
                    const json_t *desired, cm_err *err)
{
    return mod_query_tags(ctx, &cw_api, region, "TagResource", "UntagResource", "ResourceARN", arn,
                          known, desired, err);
}

static json_t *with_owned(const json_t *desired, const json_t *from)
{
    json_t *out = json_deep_copy(desired);
    json_object_set(out, "alarm_arn", json_object_get(from, "alarm_arn"));
    json_object_set(out, "state_value", json_object_get(from, "state_value"));
    return out;
}

static int alarm_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    json_t *tags = json_object_get(desired, "tags");
    json_t *owned = mod_tags_owned(ctx, tags);
    int rc = put_alarm(ctx, desired, owned, err);
    json_t *made = NULL;
    if (!rc)
        rc = alarm_read(ctx, desired, &made, err);
    /* An alarm that was there already (an earlier attempt, or someone
     * else's) kept its tags: bring them to the row's. */
    json_t *had = json_object_get(made, "tags");
    const char *had_owner = cm_json_str(made, MOD_OWNER_KEY);
    const char *owner = mod_ctx_owner(ctx);
    bool same_owner = !owner || (had_owner && strcmp(had_owner, owner) == 0);
    if (!rc && (!json_equal(had, tags) || !same_owner)) {
        json_t *was = json_deep_copy(had);
        if (had_owner)
            json_object_set_new(was, MOD_OWNER_TAG, json_string(had_owner));
        rc = put_tags(ctx, cm_json_str(desired, "region"), cm_json_str(made, "alarm_arn"), was,
                      owned, err);
        json_decref(was);
    }
    json_decref(owned);
    if (!rc)
        *out = with_owned(desired, made);
    json_decref(made);
    return rc;
}

/* Whether anything but the tags differs (PutMetricAlarm sends it all). */
static bool config_changed(const json_t *known, const json_t *desired)
{
    for (unsigned i = 0; i < N_FIELDS; i++) {
        json_t *a = json_object_get(known, fields[i].column);
        json_t *b = json_object_get(desired, fields[i].column);
        if (!json_equal(a ? a : json_null(), b ? b : json_null()))
            return true;
    }
    return false;
}

static int alarm_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                        cm_err *err)
{
    int rc = 0;
    if (config_changed(known, desired))
        rc = put_alarm(ctx, desired, NULL, err);
    if (!rc)
        rc = put_tags(ctx, cm_json_str(desired, "region"), cm_json_str(known, "alarm_arn"),
                      json_object_get(known, "tags"), json_object_get(desired, "tags"), err);
    if (!rc)
        *out = with_owned(desired, known);
    return rc;
}

static int alarm_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(known, &name, &region, err);
    if (!rc)
        rc = mod_query_op(ctx, &cw_api, region, "DeleteAlarms",
                          json_pack("{s:s}", "AlarmNames.member.1", name), NULL, NULL, err, name);
    if (rc && gone(err->cloud_code)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static const mod_table_ops metric_alarm_ops = {
    .list = alarm_list,
    .read = alarm_read,
    .create = alarm_create,
    .update = alarm_update,
    .remove = alarm_remove,
};

static const mod_column metric_alarm_columns[] = {
    {"alarm_name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"alarm_description", 0},
    {"actions_enabled", 0},
    {"alarm_actions", 0},
    {"ok_actions", 0},
    {"insufficient_data_actions", 0},
    {"metric_name", 0},
    {"namespace", 0},
    {"statistic", 0},
    {"extended_statistic", 0},
    {"dimensions", 0},
    {"period", 0},
    {"evaluation_periods", 0},
    {"datapoints_to_alarm", 0},
    {"threshold", 0},
    {"threshold_metric_id", 0},
    {"comparison_operator", 0},
    {"treat_missing_data", 0},
    {"unit", 0},
    {"metrics", 0},
    {"tags", 0},
    {"alarm_arn", MOD_COL_CLOUD_OWNED},
    {"state_value", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

/* No column needs a read per alarm while the tagging API answers: the list
 * is empty, and turns the rotation on, so that a known alarm outside its
 * slot takes its tags from GetResources (a full row still) and one in its
 * slot, or new, reads them (ListTagsForResource). */
static const char *const metric_alarm_deep[] = {NULL};
const mod_table cw_metric_alarm_table = {"metric_alarm", metric_alarm_columns, &metric_alarm_ops,
                                         "monitoring", .deep = metric_alarm_deep};
