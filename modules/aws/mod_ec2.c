/* modules/aws/mod_ec2.c — the EC2 query protocol: actions, pages, tags, and
 * waiting out EC2's eventual consistency. */
#include "modules/aws/mod_ec2.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#define EC2_VERSION "2016-11-15"
/* How long a "does not exist yet" or "still in use" is waited out. */
#define EC2_SETTLE_MS 30000

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_delete(const char *action)
{
    return strncmp(action, "Delete", 6) == 0 || strncmp(action, "Revoke", 6) == 0 ||
           strncmp(action, "Terminate", 9) == 0 || strncmp(action, "Detach", 6) == 0 ||
           strncmp(action, "Disassociate", 12) == 0 || strncmp(action, "Release", 7) == 0;
}

/* Ids the engine hands EC2 itself, from resources it made: not finding
 * one is EC2 not having caught up yet. */
static bool engine_id_missing(const char *code)
{
    static const char *const prefixes[] = {"InvalidVpcID",
                                           "InvalidSubnetID",
                                           "InvalidGroup",
                                           "InvalidInternetGatewayID",
                                           "InvalidRouteTableID",
                                           "InvalidInstanceID",
                                           "InvalidKeyPair",
                                           "InvalidAllocationID",
                                           "InvalidNatGatewayID",
                                           "InvalidVolume",
                                           NULL};
    if (!ends_with(code, "NotFound"))
        return false;
    for (int i = 0; prefixes[i]; i++)
        if (strncmp(code, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* An instance profile IAM made a moment ago that EC2 does not know yet
 * ("Invalid IAM Instance Profile name"): IAM is eventually consistent. */
static bool iam_profile_missing(const char *code, const char *msg)
{
    return strcmp(code, "InvalidParameterValue") == 0 && strcasestr(msg, "iamInstanceProfile");
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ec2_op, its answer as a tree (doc, out) or, where text is given, as the
 * body's text (*text, *len). */
static int ec2_call(mod_ctx *ctx, const char *region, const char *action, json_t *params,
                    xmlDocPtr *doc, xmlNodePtr *out, char **text, size_t *len, cm_err *err,
                    const char *what)
{
    char c[128] = "";
    long waited = 0, step = 100;
    bool reads = strncmp(action, "Describe", 8) == 0;
    int rc;
    if (doc)
        *doc = NULL;
    if (out)
        *out = NULL;
    for (;;) {
        xmlDocPtr d = NULL;
        if (text)
            rc = aws_query_call_text(ctx->aws, "ec2", region, EC2_VERSION, action, params, text,
                                     len, err);
        else
            rc = aws_query_call(ctx->aws, "ec2", region, EC2_VERSION, action, params, &d, err);
        snprintf(c, sizeof c, "%s", rc ? err->cloud_code : "");
        if (!rc) {
            if (doc) {
                *doc = d;
                if (out)
                    *out = xmlDocGetRootElement(d);
            } else {
                xmlFreeDoc(d);
            }
            break;
        }
        bool missing = ends_with(c, ".NotFound") || ends_with(c, ".Malformed.NotFound");
        if (missing && is_delete(action)) { /* already gone */
            cm_err_clear(err);
            rc = 0;
            break;
        }
        bool settling =
            (missing && !reads && engine_id_missing(c)) || iam_profile_missing(c, err->msg) ||
            ((strcmp(c, "DependencyViolation") == 0 || strcmp(c, "InvalidIPAddress.InUse") == 0) &&
             is_delete(action)) ||
            strcmp(c, "IncorrectInstanceState") == 0;
        if (!settling || waited >= EC2_SETTLE_MS)
            break;
        sleep_ms(step);
        waited += step;
        step = step * 2 > 2000 ? 2000 : step * 2;
    }
    json_decref(params);
    if (rc) {
        cm_err_wrap(err, "%s for %s", action, what);
        snprintf(err->cloud_code, sizeof err->cloud_code, "%s", c);
    }
    return rc;
}

int ec2_op(mod_ctx *ctx, const char *region, const char *action, json_t *params, xmlDocPtr *doc,
           xmlNodePtr *out, cm_err *err, const char *what)
{
    return ec2_call(ctx, region, action, params, doc, out, NULL, NULL, err, what);
}

struct each_item {
    mod_ctx *ctx;
    const char *region;
    int (*fn)(mod_ctx *, const char *, xmlNodePtr, void *, cm_err *);
    void *arg;
};

static int each_item(xmlNodePtr item, void *arg, cm_err *err)
{
    struct each_item *e = arg;
    return e->fn(e->ctx, e->region, item, e->arg, err);
}

/* Each page read as a stream (aws_xml_each_item): a listing holds one
 * item's tree at a time, not a page's. */
int ec2_each(mod_ctx *ctx, const char *region, const char *action, json_t *params, const char *set,
             int (*fn)(mod_ctx *, const char *, xmlNodePtr, void *, cm_err *), void *arg,
             cm_err *err)
{
    char next[2048] = "";
    int rc = 0;
    do {
        json_t *p = json_deep_copy(params);
        if (next[0])
            json_object_set_new(p, "NextToken", json_string(next));
        char *text = NULL;
        size_t len = 0;
        rc = ec2_call(ctx, region, action, p, NULL, NULL, &text, &len, err, region);
        next[0] = '\0';
        struct each_item each = {ctx, region, fn, arg};
        if (!rc)
            rc = aws_xml_each_item(text, len, set, "nextToken", each_item, &each, next, sizeof next,
                                   err);
        free(text);
    } while (!rc && next[0]);
    json_decref(params);
    return rc;
}

/* What each listing asks for, page by page. max: the largest page it takes
 * (botocore's service model: its MaxResults bounds), or a smaller one where
 * a page's parse tree would be large: an instance is some 450 XML elements,
 * so 100 of them are a tree of about 5 MB, where 1,000 security groups are
 * 4 MB. Without one, EC2 picks a page size of its own (moto: 100
 * reservations), and a poll of a large account pays a request a page.
 * state: a filter on instance-state-name, for a listing whose module skips
 * what is gone (a terminated instance stays in DescribeInstances for about
 * an hour, and in moto for good), so that its answer is not read at all. */
static const struct list_shape {
    const char *action;
    long max;
    const char *const *states;
} list_shapes[] = {
    {"DescribeInstances", 100,
     (const char *const[]){"pending", "running", "stopping", "stopped", NULL}},
    {"DescribeInternetGateways", 1000, NULL},
    {"DescribeNatGateways", 1000, NULL},
    {"DescribeRouteTables", 100, NULL},
    {"DescribeSecurityGroupRules", 1000, NULL},
    {"DescribeSecurityGroups", 1000, NULL},
    {"DescribeSubnets", 1000, NULL},
    {"DescribeVolumes", 500, NULL},
    {"DescribeVpcs", 1000, NULL},
};

static const struct list_shape *list_shape(const char *action)
{
    for (size_t i = 0; i < sizeof list_shapes / sizeof *list_shapes; i++)
        if (strcmp(list_shapes[i].action, action) == 0)
            return &list_shapes[i];
    return NULL;
}

int ec2_each_region(mod_ctx *ctx, const char *const *regions, size_t nregions, const char *action,
                    const char *set,
                    int (*fn)(mod_ctx *, const char *, xmlNodePtr, void *, cm_err *), void *arg,
                    cm_err *err)
{
    int rc = 0;
    const struct list_shape *shape = list_shape(action);
    for (size_t r = 0; !rc && r < nregions; r++) {
        json_t *p = json_object();
        if (shape)
            json_object_set_new(p, "MaxResults", json_integer(shape->max));
        if (shape && shape->states) {
            json_object_set_new(p, "Filter.1.Name", json_string("instance-state-name"));
            for (int k = 0; shape->states[k]; k++) {
                char key[32];
                snprintf(key, sizeof key, "Filter.1.Value.%d", k + 1);
                json_object_set_new(p, key, json_string(shape->states[k]));
            }
        }
        rc = ec2_each(ctx, regions[r], action, p, set, fn, arg, err);
    }
    return rc;
}

json_t *ec2_text(xmlNodePtr item, const char *name)
{
    return aws_xml_json_child(item, name);
}

json_t *ec2_bool(xmlNodePtr item, const char *name)
{
    char v[16];
    aws_xml_child_text(item, name, v, sizeof v);
    return json_boolean(strcmp(v, "true") == 0);
}

json_t *ec2_int(xmlNodePtr item, const char *name)
{
    char v[32];
    if (!aws_xml_child_text(item, name, v, sizeof v) || !v[0])
        return json_null();
    return json_integer(strtoll(v, NULL, 10));
}

const char *ec2_str(const json_t *img, const char *name)
{
    const char *s = json_string_value(json_object_get(img, name));
    return s ? s : "";
}

json_t *ec2_tags(xmlNodePtr item)
{
    json_t *tags = json_object();
    xmlNodePtr set = aws_xml_child(item, "tagSet");
    for (xmlNodePtr t = set ? aws_xml_child(set, "item") : NULL; t; t = aws_xml_next(t, "item")) {
        char key[256];
        aws_xml_child_text(t, "key", key, sizeof key);
        if (!key[0] || strncmp(key, "aws:", 4) == 0 || strncmp(key, "iasql:", 6) == 0)
            continue;
        json_t *v = aws_xml_json_child(t, "value");
        json_object_set_new(tags, key, json_is_string(v) ? v : json_string(""));
        if (!json_is_string(v))
            json_decref(v);
    }
    return tags;
}

json_t *ec2_owned(xmlNodePtr item, json_t *row)
{
    xmlNodePtr set = row ? aws_xml_child(item, "tagSet") : NULL;
    for (xmlNodePtr t = set ? aws_xml_child(set, "item") : NULL; t; t = aws_xml_next(t, "item")) {
        char key[64];
        aws_xml_child_text(t, "key", key, sizeof key);
        if (strcmp(key, MOD_OWNER_TAG) == 0)
            json_object_set_new(row, MOD_OWNER_KEY, aws_xml_json_child(t, "value"));
    }
    return row;
}

void ec2_tag_spec(mod_ctx *ctx, json_t *params, const char *resource_type, const json_t *tags)
{
    char name[128];
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_set_new(params, "TagSpecification.1.ResourceType", json_string(resource_type));
    json_object_foreach((json_t *)tags, k, v)
    {
        if (!json_is_string(v))
            continue;
        n++;
        snprintf(name, sizeof name, "TagSpecification.1.Tag.%zu.Key", n);
        json_object_set_new(params, name, json_string(k));
        snprintf(name, sizeof name, "TagSpecification.1.Tag.%zu.Value", n);
        json_object_set(params, name, v);
    }
    if (ctx->token) {
        n++;
        snprintf(name, sizeof name, "TagSpecification.1.Tag.%zu.Key", n);
        json_object_set_new(params, name, json_string(EC2_TOKEN_TAG));
        snprintf(name, sizeof name, "TagSpecification.1.Tag.%zu.Value", n);
        json_object_set_new(params, name, json_string(ctx->token));
    }
    if (ctx->owner[0]) {
        n++;
        snprintf(name, sizeof name, "TagSpecification.1.Tag.%zu.Key", n);
        json_object_set_new(params, name, json_string(MOD_OWNER_TAG));
        snprintf(name, sizeof name, "TagSpecification.1.Tag.%zu.Value", n);
        json_object_set_new(params, name, json_string(ctx->owner));
    }
    if (!n)
        json_object_del(params, "TagSpecification.1.ResourceType");
}

bool ec2_token_filter(mod_ctx *ctx, json_t *params)
{
    if (!ctx->token)
        return false;
    json_object_set_new(params, "Filter.1.Name", json_string("tag:" EC2_TOKEN_TAG));
    json_object_set_new(params, "Filter.1.Value.1", json_string(ctx->token));
    return true;
}

int ec2_retag(mod_ctx *ctx, const char *region, const char *id, const json_t *known,
              const json_t *desired, cm_err *err)
{
    json_t *set, *drop;
    mod_tags_diff(json_object_get(known, "tags"), json_object_get(desired, "tags"), &set, &drop);
    int rc = 0;
    if (json_object_size(set)) {
        json_t *p = json_pack("{s:s}", "ResourceId.1", id);
        mod_query_put_map(p, "Tag", "Key", "Value", set);
        rc = ec2_op(ctx, region, "CreateTags", p, NULL, NULL, err, id);
    }
    if (!rc && json_array_size(drop)) {
        json_t *p = json_pack("{s:s}", "ResourceId.1", id);
        size_t i;
        json_t *k;
        char name[64];
        json_array_foreach(drop, i, k)
        {
            snprintf(name, sizeof name, "Tag.%zu.Key", i + 1);
            json_object_set(p, name, k);
        }
        rc = ec2_op(ctx, region, "DeleteTags", p, NULL, NULL, err, id);
    }
    json_decref(set);
    json_decref(drop);
    return rc;
}

int ec2_read_one(mod_ctx *ctx, const char *region, const char *action, json_t *params,
                 const char *set, ec2_row_fn fn, json_t **out, cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    *out = NULL;
    int rc = ec2_op(ctx, region, action, params, &doc, &root, err, region);
    if (rc) {
        if (strstr(err->cloud_code, "NotFound")) {
            cm_err_clear(err);
            return CM_ENOTFOUND;
        }
        return rc;
    }
    xmlNodePtr s = aws_xml_child(root, set);
    xmlNodePtr item = s ? aws_xml_child(s, "item") : NULL;
    if (item)
        *out = fn(ctx, region, item);
    xmlFreeDoc(doc);
    if (!*out)
        return cm_err_set(err, CM_ENOTFOUND, "%s: not found", action);
    return 0;
}

json_t *ec2_blob(const char *s)
{
    size_t n = strlen(s);
    unsigned char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    if (!b64)
        return json_null();
    EVP_EncodeBlock(b64, (const unsigned char *)s, (int)n);
    json_t *v = json_string((const char *)b64);
    free(b64);
    return v;
}

int ec2_create(mod_ctx *ctx, const char *region, const char *action, json_t *params,
               const char *resource_type, const json_t *tags, const char *id_path, char *id,
               size_t size, cm_err *err, const char *what)
{
    ec2_tag_spec(ctx, params, resource_type, tags);
    xmlDocPtr doc;
    xmlNodePtr root;
    id[0] = '\0';
    int rc = ec2_op(ctx, region, action, params, &doc, &root, err, what);
    if (rc)
        return rc;
    xmlChar *text = xmlNodeGetContent(aws_xml_path(root, id_path));
    snprintf(id, size, "%s", text ? (const char *)text : "");
    xmlFree(text);
    xmlFreeDoc(doc);
    if (!id[0])
        return cm_err_set(err, CM_EBADREPLY, "%s for %s: no %s in the answer", action, what,
                          id_path);
    return 0;
}

int ec2_delete(mod_ctx *ctx, const json_t *known, const char *action, const char *param,
               const char *col, cm_err *err)
{
    const char *id = ec2_str(known, col);
    if (!*id)
        return 0;
    return ec2_op(ctx, ec2_str(known, "region"), action, json_pack("{s:s}", param, id), NULL, NULL,
                  err, id);
}

json_t *ec2_updated(const json_t *known, const json_t *desired, ...)
{
    json_t *out = json_deep_copy(desired);
    va_list ap;
    va_start(ap, desired);
    for (const char *col; (col = va_arg(ap, const char *));) {
        json_t *v = json_object_get(known, col);
        if (v)
            json_object_set(out, col, v);
    }
    va_end(ap);
    return out;
}

json_t *ec2_unblob(const char *b64)
{
    size_t n = b64 ? strlen(b64) : 0;
    if (!n)
        return json_null();
    unsigned char *raw = malloc(3 * (n / 4) + 3);
    int len = raw ? EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n) : -1;
    if (len < 0 || n % 4) {
        free(raw);
        return json_null();
    }
    /* EVP_DecodeBlock counts the padding as bytes */
    for (size_t i = n; i > 0 && b64[i - 1] == '='; i--)
        len--;
    json_t *v = len > 0 && !memchr(raw, '\0', (size_t)len)
                    ? json_stringn((const char *)raw, (size_t)len)
                    : NULL;
    free(raw);
    return v ? v : json_null();
}
