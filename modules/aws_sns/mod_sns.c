/* modules/aws_sns/mod_sns.c — module aws_sns: tables topic and
 * subscription, over SNS's query protocol. Topic attributes map to columns
 * through one table; a subscription's topic is a name in its row, turned
 * into the topic's ARN here (the account id is asked once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

extern const char iasql_sql_aws_sns[];

static const mod_query_service topic_api = {"sns", "2010-03-31", "topic"};
static const mod_query_service sub_api = {"sns", "2010-03-31", "subscription"};

/* Topic columns and the attributes they are: text, JSON or boolean. */
enum kind { K_TEXT, K_JSON, K_BOOL };
static const struct {
    const char *column, *attribute;
    enum kind kind;
} topic_attrs[] = {
    {"display_name", "DisplayName", K_TEXT},
    {"policy", "Policy", K_JSON},
    {"content_based_deduplication", "ContentBasedDeduplication", K_BOOL},
};
#define N_TOPIC_ATTRS (sizeof topic_attrs / sizeof topic_attrs[0])

static bool gone(const char *code)
{
    return strcmp(code, "NotFound") == 0 || strstr(code, "NotFoundException") != NULL;
}

/* An attribute value as SNS gives it, to a column value. */
static json_t *attr_to_column(const char *text, enum kind kind)
{
    if (kind == K_BOOL)
        return json_boolean(text && strcmp(text, "true") == 0);
    if (!text || !*text)
        return json_null();
    if (kind == K_JSON) {
        json_t *j = json_loads(text, 0, NULL);
        return j ? j : json_null();
    }
    return json_string(text);
}

/* A column value to the attribute value SNS takes; NULL for none. */
static char *column_to_attr(const json_t *v, enum kind kind)
{
    if (kind == K_BOOL)
        return strdup(json_is_true(v) ? "true" : "false");
    if (!v || json_is_null(v))
        return NULL;
    if (kind == K_JSON)
        return cm_json_dump(v);
    return strdup(json_string_value(v) ? json_string_value(v) : "");
}

/* The policy SNS gives a topic made without one (Id __default_policy_ID,
 * one statement __default_statement_ID): the column holds NULL for it, as
 * the user wrote, so that it is neither drift nor a change to send. */
static bool is_default_policy(const json_t *p)
{
    const json_t *st = json_object_get(p, "Statement");
    const char *id = json_string_value(json_object_get(p, "Id"));
    return id && strcmp(id, "__default_policy_ID") == 0 && json_is_array(st) &&
           json_array_size(st) == 1 &&
           json_string_value(json_object_get(json_array_get(st, 0), "Sid")) &&
           strcmp(json_string_value(json_object_get(json_array_get(st, 0), "Sid")),
                  "__default_statement_ID") == 0;
}

static int topic_arn(mod_ctx *ctx, const json_t *img, char *out, size_t size, cm_err *err)
{
    const char *name, *region;
    int rc = mod_image_names(img, "topic", "name", &name, &region, err);
    return rc ? rc : mod_arn(ctx, "sns", region, name, out, size, err);
}

static const char *arn_name(const char *arn)
{
    const char *colon = strrchr(arn, ':');
    return colon ? colon + 1 : arn;
}

/* A topic's row image from its attributes and tags: those of tagged (the
 * tagging API's, by ARN) when not NULL, else read (two calls, or one). */
static int topic_row(mod_ctx *ctx, const char *region, const char *arn, const json_t *tagged,
                     json_t **out, cm_err *err)
{
    xmlDocPtr doc, tdoc = NULL;
    xmlNodePtr res, tres;
    const char *name = arn_name(arn);
    int rc = mod_query_op(ctx, &topic_api, region, "GetTopicAttributes",
                          json_pack("{s:s}", "TopicArn", arn), &doc, &res, err, name);
    if (rc && gone(err->cloud_code))
        return cm_err_set(err, CM_ENOTFOUND, "topic %s does not exist in %s", name, region);
    if (rc)
        return rc;
    json_t *tags;
    if (tagged) {
        const json_t *t = json_object_get(tagged, arn);
        tags = t ? json_deep_copy(t) : json_object();
    } else {
        rc = mod_query_op(ctx, &topic_api, region, "ListTagsForResource",
                          json_pack("{s:s}", "ResourceArn", arn), &tdoc, &tres, err, name);
        if (rc) {
            xmlFreeDoc(doc);
            return rc;
        }
        tags = mod_xml_map(aws_xml_child(tres, "Tags"), "member", "Key", "Value");
    }
    json_t *attrs = mod_xml_map(aws_xml_child(res, "Attributes"), "entry", "key", "value");
    json_t *row =
        json_pack("{s:s, s:s, s:s, s:b}", "name", name, "region", region, "arn", arn, "fifo_topic",
                  strcmp(cm_json_str(attrs, "FifoTopic") ? cm_json_str(attrs, "FifoTopic") : "",
                         "true") == 0);
    for (size_t i = 0; i < N_TOPIC_ATTRS; i++)
        json_object_set_new(
            row, topic_attrs[i].column,
            attr_to_column(cm_json_str(attrs, topic_attrs[i].attribute), topic_attrs[i].kind));
    if (is_default_policy(json_object_get(row, "policy")))
        json_object_set_new(row, "policy", json_null());
    json_object_set_new(row, "tags", mod_tags_from_object(tags));
    mod_take_owner(row);
    json_decref(attrs);
    json_decref(tags);
    xmlFreeDoc(doc);
    if (tdoc)
        xmlFreeDoc(tdoc);
    *out = row;
    return 0;
}

/* A region's listing: its rows, and under the poller's rotation the tags
 * of its topics by ARN from the tagging API (asked once, at the first
 * known topic; null when that API is not served). */
typedef struct topic_rows {
    json_t *rows;
    json_t *tagged;
    bool asked;
} topic_rows;

/* Under the poller's rotation a topic the database knows costs nothing of
 * its own in its off turn: ListTopics names it (its FIFO flag is its name's
 * suffix) and its tags come from the tagging API; its attributes are read
 * in its turn. */
static int collect_topic(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg,
                         cm_err *err)
{
    topic_rows *tr = arg;
    char arn[1024];
    aws_xml_child_text(member, "TopicArn", arn, sizeof arn);
    if (!arn[0])
        return 0;
    const char *name = arn_name(arn);
    bool known = mod_deep_known(ctx, region, name);
    if (known && !tr->asked) {
        cm_err terr = {0};
        if (mod_tagged(ctx, region, "sns", &tr->tagged, &terr))
            cm_log(CM_LOG_DEBUG, "topic tags in %s through the tagging API: %s", region, terr.msg);
        tr->asked = true;
    }
    const json_t *tagged = known ? tr->tagged : NULL;
    if (tagged && !mod_deep_wanted(ctx, region, name)) {
        const json_t *t = json_object_get(tagged, arn);
        json_t *empty = json_object();
        size_t n = strlen(name);
        json_t *row =
            json_pack("{s:s, s:s, s:s, s:b, s:O, s:b}", "name", name, "region", region, "arn", arn,
                      "fifo_topic", n > 5 && strcmp(name + n - 5, ".fifo") == 0, "tags",
                      t ? t : empty, MOD_PARTIAL_KEY, 1);
        json_decref(empty);
        json_array_append_new(tr->rows, mod_take_owner(row));
        return 0;
    }
    json_t *row = NULL;
    int rc = topic_row(ctx, region, arn, tagged, &row, err);
    return mod_keep_found(tr->rows, rc, row, err);
}

static const mod_query_pager topics = {"ListTopics", "NextToken", "NextToken", "Topics"};
static const mod_query_pager subscriptions = {"ListSubscriptions", "NextToken", "NextToken",
                                              "Subscriptions"};
static const mod_query_pager topic_subscriptions = {"ListSubscriptionsByTopic", "NextToken",
                                                    "NextToken", "Subscriptions"};

static int topic_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    topic_rows tr = {rows, NULL, false};
    int rc =
        mod_query_each(ctx, &topic_api, &topics, region, NULL, collect_topic, &tr, "(all)", err);
    json_decref(tr.tagged);
    return rc;
}

static int topic_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                      cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, topic_region, out, err);
}

static int topic_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    char arn[1024];
    int rc = topic_arn(ctx, image, arn, sizeof arn, err);
    return rc ? rc : topic_row(ctx, cm_json_str(image, "region"), arn, NULL, out, err);
}

/* AWS's policy for a topic that was given none. */
static char *default_policy(mod_ctx *ctx, const char *arn, cm_err *err)
{
    const char *account;
    if (mod_account_id(ctx, &account, err))
        return NULL;
    json_t *p = json_pack(
        "{s:s, s:s, s:[{s:s, s:s, s:{s:s}, s:[s,s,s,s,s,s,s,s], s:s, s:{s:{s:s}}}]}", "Version",
        "2008-10-17", "Id", "__default_policy_ID", "Statement", "Sid", "__default_statement_ID",
        "Effect", "Allow", "Principal", "AWS", "*", "Action", "SNS:GetTopicAttributes",
        "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic",
        "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish", "Resource", arn,
        "Condition", "StringEquals", "AWS:SourceOwner", account);
    char *text = cm_json_dump(p);
    json_decref(p);
    return text;
}

static int topic_tags(mod_ctx *ctx, const char *region, const char *arn, const json_t *known,
                      const json_t *desired, cm_err *err)
{
    return mod_query_tags(ctx, &topic_api, region, "TagResource", "UntagResource", "ResourceArn",
                          arn, known, desired, err);
}

/* One SetTopicAttributes per attribute that differs from known. */
static int topic_set_attrs(mod_ctx *ctx, const char *region, const char *arn, const json_t *known,
                           const json_t *desired, cm_err *err)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < N_TOPIC_ATTRS; i++) {
        json_t *v = json_object_get(desired, topic_attrs[i].column);
        if (json_equal(v, json_object_get(known, topic_attrs[i].column)) ||
            (!v && !json_object_get(known, topic_attrs[i].column)))
            continue;
        char *text = column_to_attr(v, topic_attrs[i].kind);
        if (!text && topic_attrs[i].kind == K_JSON && !(text = default_policy(ctx, arn, err)))
            return CM_EINVAL;
        rc = mod_query_op(ctx, &topic_api, region, "SetTopicAttributes",
                          json_pack("{s:s, s:s, s:s}", "TopicArn", arn, "AttributeName",
                                    topic_attrs[i].attribute, "AttributeValue", text ? text : ""),
                          NULL, NULL, err, arn_name(arn));
        free(text);
    }
    return rc;
}

static json_t *with_arn(const json_t *desired, const char *arn)
{
    json_t *out = json_deep_copy(desired);
    json_object_set_new(out, "arn", json_string(arn));
    return out;
}

static int topic_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                        cm_err *err)
{
    char arn[1024];
    const char *region = cm_json_str(desired, "region");
    int rc = topic_arn(ctx, desired, arn, sizeof arn, err);
    if (!rc)
        rc = topic_set_attrs(ctx, region, arn, known, desired, err);
    if (!rc)
        rc = topic_tags(ctx, region, arn, json_object_get(known, "tags"),
                        json_object_get(desired, "tags"), err);
    if (!rc)
        *out = with_arn(desired, arn);
    return rc;
}

static int topic_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = mod_image_names(desired, "topic", "name", &name, &region, err);
    if (rc)
        return rc;
    json_t *attrs = json_object();
    if (json_is_true(json_object_get(desired, "fifo_topic")))
        json_object_set_new(attrs, "FifoTopic", json_string("true"));
    for (size_t i = 0; i < N_TOPIC_ATTRS; i++) {
        json_t *v = json_object_get(desired, topic_attrs[i].column);
        if (topic_attrs[i].kind == K_BOOL && !json_is_true(v))
            continue; /* false is the default, and not accepted by a standard topic */
        char *text = column_to_attr(v, topic_attrs[i].kind);
        if (text)
            json_object_set_new(attrs, topic_attrs[i].attribute, json_string(text));
        free(text);
    }
    json_t *p = json_pack("{s:s}", "Name", name);
    mod_query_put_map(p, "Attributes.entry", "key", "value", attrs);
    json_t *owned = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    mod_query_put_map(p, "Tags.member", "Key", "Value", owned);
    json_decref(owned);
    json_decref(attrs);
    xmlDocPtr doc;
    xmlNodePtr res;
    char arn[1024] = "";
    rc = mod_query_op(ctx, &topic_api, region, "CreateTopic", p, &doc, &res, err, name);
    if (rc == CM_ECLOUD) {
        /* There already, with other attributes or tags: bring it to the row. */
        json_t *existing = NULL;
        cm_err e2 = {0};
        cm_err_clear(&e2);
        if (topic_read(ctx, desired, &existing, &e2) == 0) {
            cm_err_clear(err);
            rc = topic_update(ctx, existing, desired, out, err);
            json_decref(existing);
            return rc;
        }
    }
    if (rc)
        return rc;
    aws_xml_child_text(res, "TopicArn", arn, sizeof arn);
    xmlFreeDoc(doc);
    if (!arn[0])
        return cm_err_set(err, CM_EBADREPLY, "CreateTopic for %s: no TopicArn", name);
    *out = with_arn(desired, arn);
    return 0;
}

static int topic_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    char arn[1024];
    int rc = topic_arn(ctx, known, arn, sizeof arn, err);
    if (!rc)
        rc = mod_query_op(ctx, &topic_api, cm_json_str(known, "region"), "DeleteTopic",
                          json_pack("{s:s}", "TopicArn", arn), NULL, NULL, err, arn_name(arn));
    if (rc && gone(err->cloud_code)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

/* ---------------------------------------------------------- subscription */

static bool confirmed(const char *arn)
{
    return strncmp(arn, "arn:", 4) == 0; /* else "PendingConfirmation" and the like */
}

/* A subscription's row image from a List* member and its attributes. */
static int sub_row(mod_ctx *ctx, const char *region, xmlNodePtr member, json_t **out, cm_err *err)
{
    char arn[1024], topic[1024], protocol[64];
    aws_xml_child_text(member, "SubscriptionArn", arn, sizeof arn);
    aws_xml_child_text(member, "TopicArn", topic, sizeof topic);
    aws_xml_child_text(member, "Protocol", protocol, sizeof protocol);
    json_t *row =
        json_pack("{s:s, s:s, s:s, s:o, s:b, s:n}", "topic", arn_name(topic), "region", region,
                  "protocol", protocol, "endpoint", aws_xml_json_child(member, "Endpoint"),
                  "raw_message_delivery", 0, "filter_policy");
    json_object_set_new(row, "arn", confirmed(arn) ? json_string(arn) : json_null());
    if (confirmed(arn)) {
        xmlDocPtr doc;
        xmlNodePtr res;
        int rc = mod_query_op(ctx, &sub_api, region, "GetSubscriptionAttributes",
                              json_pack("{s:s}", "SubscriptionArn", arn), &doc, &res, err, arn);
        if (rc) {
            json_decref(row);
            return rc && gone(err->cloud_code)
                       ? cm_err_set(err, CM_ENOTFOUND, "subscription %s is gone", arn)
                       : rc;
        }
        json_t *attrs = mod_xml_map(aws_xml_child(res, "Attributes"), "entry", "key", "value");
        json_object_set_new(row, "raw_message_delivery",
                            attr_to_column(cm_json_str(attrs, "RawMessageDelivery"), K_BOOL));
        json_object_set_new(row, "filter_policy",
                            attr_to_column(cm_json_str(attrs, "FilterPolicy"), K_JSON));
        json_decref(attrs);
        xmlFreeDoc(doc);
    }
    *out = row;
    return 0;
}

static int collect_sub(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg, cm_err *err)
{
    /* A known subscription in the rotation's off turn: its List* entry (its
     * attributes keep their known values). */
    char arn[1024];
    aws_xml_child_text(member, "SubscriptionArn", arn, sizeof arn);
    if (confirmed(arn) && mod_deep_known(ctx, region, arn) && !mod_deep_wanted(ctx, region, arn)) {
        char topic[1024], protocol[64];
        aws_xml_child_text(member, "TopicArn", topic, sizeof topic);
        aws_xml_child_text(member, "Protocol", protocol, sizeof protocol);
        json_array_append_new(
            arg, json_pack("{s:s, s:s, s:s, s:o, s:s, s:b}", "topic", arn_name(topic), "region",
                           region, "protocol", protocol, "endpoint",
                           aws_xml_json_child(member, "Endpoint"), "arn", arn, MOD_PARTIAL_KEY, 1));
        return 0;
    }
    json_t *row = NULL;
    int rc = sub_row(ctx, region, member, &row, err);
    return mod_keep_found(arg, rc, row, err);
}

static int sub_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    return mod_query_each(ctx, &sub_api, &subscriptions, region, NULL, collect_sub, rows, "(all)",
                          err);
}

static int sub_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                    cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, sub_region, out, err);
}

/* The topic's ARN of a subscription image. */
static int sub_topic_arn(mod_ctx *ctx, const json_t *img, char *out, size_t size, cm_err *err)
{
    const char *topic, *region;
    int rc = mod_image_names(img, "subscription", "topic", &topic, &region, err);
    return rc ? rc : mod_arn(ctx, "sns", region, topic, out, size, err);
}

typedef struct sub_match {
    const json_t *want;
    json_t *found;
} sub_match;

static int match_sub(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg, cm_err *err)
{
    sub_match *m = arg;
    char protocol[64], endpoint[2048];
    aws_xml_child_text(member, "Protocol", protocol, sizeof protocol);
    aws_xml_child_text(member, "Endpoint", endpoint, sizeof endpoint);
    if (m->found || strcmp(protocol, cm_json_str(m->want, "protocol")) != 0 ||
        strcmp(endpoint, cm_json_str(m->want, "endpoint")) != 0)
        return 0;
    return sub_row(ctx, region, member, &m->found, err);
}

static int sub_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    char topic[1024];
    if (!cm_json_str(image, "protocol") || !cm_json_str(image, "endpoint"))
        return cm_err_set(err, CM_EINVAL, "subscription row lacks a protocol or endpoint");
    int rc = sub_topic_arn(ctx, image, topic, sizeof topic, err);
    sub_match m = {image, NULL};
    if (!rc)
        rc = mod_query_each(ctx, &sub_api, &topic_subscriptions, cm_json_str(image, "region"),
                            json_pack("{s:s}", "TopicArn", topic), match_sub, &m, topic, err);
    if (rc && gone(err->cloud_code)) {
        cm_err_clear(err);
        rc = 0;
    }
    if (!rc && !m.found)
        rc = cm_err_set(err, CM_ENOTFOUND, "no %s subscription of %s to %s",
                        cm_json_str(image, "protocol"), arn_name(topic),
                        cm_json_str(image, "endpoint"));
    if (rc) {
        json_decref(m.found);
        return rc;
    }
    *out = m.found;
    return 0;
}

/* Subscription attributes of desired that differ from known (all when
 * known is NULL), as an object of attribute values. */
static json_t *sub_changed(const json_t *known, const json_t *desired)
{
    json_t *attrs = json_object();
    json_t *raw = json_object_get(desired, "raw_message_delivery");
    if (known ? !json_equal(raw, json_object_get(known, "raw_message_delivery"))
              : json_is_true(raw))
        json_object_set_new(attrs, "RawMessageDelivery",
                            json_string(json_is_true(raw) ? "true" : "false"));
    json_t *fp = json_object_get(desired, "filter_policy");
    json_t *kfp = known ? json_object_get(known, "filter_policy") : NULL;
    bool fp_set = fp && !json_is_null(fp), kfp_set = kfp && !json_is_null(kfp);
    if ((fp_set || kfp_set) && !json_equal(fp, kfp)) {
        char *text = fp_set ? cm_json_dump(fp) : NULL;
        json_object_set_new(attrs, "FilterPolicy", json_string(text ? text : "{}"));
        free(text);
    }
    return attrs;
}

static int sub_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    char topic[1024], arn[1024] = "";
    int rc = sub_topic_arn(ctx, desired, topic, sizeof topic, err);
    const char *protocol = cm_json_str(desired, "protocol"),
               *endpoint = cm_json_str(desired, "endpoint");
    if (!rc && (!protocol || !endpoint))
        rc = cm_err_set(err, CM_EINVAL, "subscription row lacks a protocol or endpoint");
    if (rc)
        return rc;
    json_t *p = json_pack("{s:s, s:s, s:s, s:s}", "TopicArn", topic, "Protocol", protocol,
                          "Endpoint", endpoint, "ReturnSubscriptionArn", "true");
    json_t *attrs = sub_changed(NULL, desired);
    mod_query_put_map(p, "Attributes.entry", "key", "value", attrs);
    json_decref(attrs);
    xmlDocPtr doc;
    xmlNodePtr res;
    rc = mod_query_op(ctx, &sub_api, cm_json_str(desired, "region"), "Subscribe", p, &doc, &res,
                      err, endpoint);
    if (rc)
        return rc;
    aws_xml_child_text(res, "SubscriptionArn", arn, sizeof arn);
    xmlFreeDoc(doc);
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "arn", confirmed(arn) ? json_string(arn) : json_null());
    return 0;
}

/* The subscription's ARN: from the image when known, else by a read. */
static int sub_arn(mod_ctx *ctx, const json_t *img, char *out, size_t size, cm_err *err)
{
    const char *arn = cm_json_str(img, "arn");
    if (arn && confirmed(arn)) {
        snprintf(out, size, "%s", arn);
        return 0;
    }
    json_t *found;
    int rc = sub_read(ctx, img, &found, err);
    if (rc)
        return rc;
    arn = cm_json_str(found, "arn");
    snprintf(out, size, "%s", arn ? arn : "");
    json_decref(found);
    return 0;
}

static int sub_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    char arn[1024];
    int rc = sub_arn(ctx, known, arn, sizeof arn, err);
    if (!rc && !arn[0])
        rc = cm_err_set(err, CM_EINVAL,
                        "the subscription to %s is not confirmed yet: its attributes cannot change",
                        cm_json_str(desired, "endpoint"));
    json_t *attrs = rc ? NULL : sub_changed(known, desired);
    const char *k;
    json_t *v;
    json_object_foreach(attrs, k, v)
    {
        if (!rc)
            rc = mod_query_op(ctx, &sub_api, cm_json_str(desired, "region"),
                              "SetSubscriptionAttributes",
                              json_pack("{s:s, s:s, s:O}", "SubscriptionArn", arn, "AttributeName",
                                        k, "AttributeValue", v),
                              NULL, NULL, err, arn);
    }
    json_decref(attrs);
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "arn", json_string(arn));
    return 0;
}

static int sub_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    char arn[1024];
    int rc = sub_arn(ctx, known, arn, sizeof arn, err);
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        return 0;
    }
    if (!rc && !arn[0])
        return 0; /* unconfirmed: SNS drops it by itself after three days */
    if (!rc)
        rc = mod_query_op(ctx, &sub_api, cm_json_str(known, "region"), "Unsubscribe",
                          json_pack("{s:s}", "SubscriptionArn", arn), NULL, NULL, err, arn);
    if (rc && gone(err->cloud_code)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static const mod_table_ops topic_ops = {
    .list = topic_list,
    .read = topic_read,
    .create = topic_create,
    .update = topic_update,
    .remove = topic_remove,
};

static const mod_column topic_columns[] = {
    {"name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"fifo_topic", MOD_COL_IMMUTABLE},
    {"content_based_deduplication", 0},
    {"display_name", 0},
    {"policy", 0},
    {"tags", 0},
    {"arn", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

static const mod_table_ops sub_ops = {
    .list = sub_list,
    .read = sub_read,
    .create = sub_create,
    .update = sub_update,
    .remove = sub_remove,
};

static const mod_column sub_columns[] = {
    {"topic", MOD_COL_CLOUD_ID},    {"region", MOD_COL_CLOUD_ID},
    {"protocol", MOD_COL_CLOUD_ID}, {"endpoint", MOD_COL_CLOUD_ID},
    {"raw_message_delivery", 0},    {"filter_policy", 0},
    {"arn", MOD_COL_CLOUD_OWNED},   {NULL, 0},
};

/* What only GetTopicAttributes returns: it follows the rotation. */
static const char *const topic_deep[] = {"content_based_deduplication", "display_name", "policy",
                                         NULL};
static const mod_table topic_table = {"topic", topic_columns, &topic_ops, .deep = topic_deep};
/* What only GetSubscriptionAttributes returns: it follows the rotation,
 * each subscription by its ARN (its topic is shared). */
static const char *const sub_deep[] = {"raw_message_delivery", "filter_policy", NULL};
static const mod_table sub_table = {"subscription", sub_columns, &sub_ops, .deep = sub_deep,
                                    .deep_handle = "arn"};
static const mod_table *const sns_tables[] = {&topic_table, &sub_table, NULL};
static const char *const sns_deps[] = {"aws_account", NULL};

const mod_module mod_aws_sns = {
    .name = "aws_sns",
    .version = IASQL_VERSION,
    .deps = sns_deps,
    .install_sql = iasql_sql_aws_sns,
    .tables = sns_tables,
};
