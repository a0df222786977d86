/* modules/aws_s3/mod_s3_website.c — table bucket_website: a bucket's static
 * website (PutBucketWebsite, GetBucketWebsite, DeleteBucketWebsite), a row
 * for each bucket that has one, named by the bucket's name and region as
 * IaSQL's bucket_website was.
 *
 * Listing costs a ListBuckets a region (bucket-region=, so that a bucket's
 * region needs no GetBucketLocation), and then a GetBucketWebsite a bucket:
 * under the poller's rotation only for the buckets whose slot comes up, a
 * known website outside its turn being its list entry; a bucket without a
 * website is read in its turn too, so a website made outside the database
 * is seen within the rotation. */
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/aws_s3/mod_s3.h"

static const aws_operation list_op = {"ListBuckets", "GET", "/"};
static const aws_operation get_op = {"GetBucketWebsite", "GET", "/{Bucket}?website"};
static const aws_operation put_op = {"PutBucketWebsite", "PUT", "/{Bucket}?website", true};
static const aws_operation delete_op = {"DeleteBucketWebsite", "DELETE", "/{Bucket}?website"};

/* WebsiteConfiguration as botocore has it, members in its order. */
static const s3_field ws_key[] = {{"Key", 0, S3_STR}, {0}};
static const s3_field ws_suffix[] = {{"Suffix", 0, S3_STR}, {0}};
static const s3_field ws_redirect_all[] = {{"HostName", 0, S3_STR}, {"Protocol", 0, S3_STR}, {0}};
static const s3_field ws_condition[] = {
    {"HttpErrorCodeReturnedEquals", 0, S3_STR}, {"KeyPrefixEquals", 0, S3_STR}, {0}};
static const s3_field ws_redirect[] = {
    {"HostName", 0, S3_STR},       {"HttpRedirectCode", 0, S3_STR},
    {"Protocol", 0, S3_STR},       {"ReplaceKeyPrefixWith", 0, S3_STR},
    {"ReplaceKeyWith", 0, S3_STR}, {0}};
static const s3_field ws_rule[] = {
    {"Condition", 0, S3_OBJ, ws_condition}, {"Redirect", 0, S3_OBJ, ws_redirect}, {0}};
static const s3_field ws_config[] = {{"ErrorDocument", 0, S3_OBJ, ws_key},
                                     {"IndexDocument", 0, S3_OBJ, ws_suffix},
                                     {"RedirectAllRequestsTo", 0, S3_OBJ, ws_redirect_all},
                                     {"RoutingRules", 0, S3_LIST, ws_rule, S3_OBJ, "RoutingRule"},
                                     {0}};

static void set_member(json_t *config, const char *member, const char *key, const json_t *v)
{
    if (json_is_string(v))
        json_object_set_new(config, member, json_pack("{s:O}", key, v));
}

/* The configuration a row says. */
static json_t *config_of(const json_t *row)
{
    json_t *c = json_object();
    set_member(c, "ErrorDocument", "Key", json_object_get(row, "error_document"));
    set_member(c, "IndexDocument", "Suffix", json_object_get(row, "index_document"));
    set_member(c, "RedirectAllRequestsTo", "HostName",
               json_object_get(row, "redirect_all_requests_to"));
    const json_t *proto = json_object_get(row, "redirect_protocol");
    json_t *all = json_object_get(c, "RedirectAllRequestsTo");
    if (all && json_is_string(proto))
        json_object_set(all, "Protocol", (json_t *)proto);
    const json_t *rules = json_object_get(row, "routing_rules");
    if (json_array_size(rules))
        json_object_set(c, "RoutingRules", (json_t *)rules);
    return c;
}

static json_t *text_or_null(const json_t *obj, const char *key)
{
    const char *v = cm_json_str(obj, key);
    return v ? json_string(v) : json_null();
}

/* The row a configuration is. */
static json_t *row_of(const char *name, const char *region, const json_t *c)
{
    json_t *all = json_object_get(c, "RedirectAllRequestsTo"),
           *rules = json_object_get(c, "RoutingRules");
    rules = json_is_array(rules) ? json_incref(rules) : json_array();
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "bucket_name", name, "region", region,
                     "index_document", text_or_null(json_object_get(c, "IndexDocument"), "Suffix"),
                     "error_document", text_or_null(json_object_get(c, "ErrorDocument"), "Key"),
                     "redirect_all_requests_to", text_or_null(all, "HostName"), "redirect_protocol",
                     text_or_null(all, "Protocol"), "routing_rules", rules);
}

static bool gone(const cm_err *err)
{
    return strcmp(err->cloud_code, "NoSuchBucket") == 0;
}

/* The website of bucket name as a row; CM_ENOTFOUND when it has none or
 * the bucket is gone. */
static int website_get(mod_ctx *ctx, const char *name, const char *region, json_t **out,
                       cm_err *err)
{
    aws_answer a = {0};
    bool none;
    *out = NULL;
    int rc = s3_get_sub(ctx, name, region, &get_op, "NoSuchWebsiteConfiguration", &a, &none, err);
    if (rc && gone(err)) {
        cm_err_clear(err);
        none = true;
        rc = 0;
    }
    if (!rc && (none || !a.xml))
        rc = cm_err_set(err, CM_ENOTFOUND, "bucket %s has no website", name);
    if (!rc) {
        json_t *c = s3_xml_decode(xmlDocGetRootElement(a.xml), ws_config);
        *out = row_of(name, region, c);
        json_decref(c);
    }
    aws_answer_free(&a);
    return rc;
}

/* The buckets of region, by a ListBuckets filtered to it, into by_name
 * (name -> region; a name two regions' answers both give, from a server
 * that does not filter, gets "" and its region is asked later). */
static int buckets_in(mod_ctx *ctx, const char *region, json_t *by_name, cm_err *err)
{
    char token[1024] = "";
    int rc = 0;
    bool more = true;
    for (int page = 0; !rc && more && page < 1000; page++) {
        json_t *in =
            json_pack("{s:{s:s, s:s}}", "query", "bucket-region", region, "max-buckets", "10000");
        if (in && token[0])
            json_object_set_new(json_object_get(in, "query"), "continuation-token",
                                json_string(token));
        aws_answer a = {0};
        rc = in ? aws_call(ctx->aws, &s3_api, &list_op, region, in, &a, err)
                : cm_err_set(err, CM_ENOMEM, "out of memory");
        json_decref(in);
        if (rc) {
            cm_err_wrap(err, "listing the buckets of %s", region);
            aws_answer_free(&a);
            break;
        }
        xmlNodePtr root = a.xml ? xmlDocGetRootElement(a.xml) : NULL;
        xmlNodePtr list = aws_xml_child(root, "Buckets");
        for (xmlNodePtr b = aws_xml_child(list, "Bucket"); b; b = aws_xml_next(b, "Bucket")) {
            char name[256], in_region[64];
            aws_xml_child_text(b, "Name", name, sizeof name);
            if (aws_xml_child_text(b, "BucketRegion", in_region, sizeof in_region) &&
                strcmp(in_region, region) != 0)
                continue;
            if (!name[0])
                continue;
            const char *had = cm_json_str(by_name, name);
            json_object_set_new(by_name, name,
                                json_string(had && strcmp(had, region) != 0 ? "" : region));
        }
        more = aws_xml_child_text(root, "ContinuationToken", token, sizeof token) && token[0];
        aws_answer_free(&a);
    }
    return rc;
}

/* One bucket's row, if any: a known website outside its turn is its list
 * entry (a partial row); any other bucket is read in its turn. */
static int website_of(mod_ctx *ctx, const char *name, const char *region, json_t *rows, cm_err *err)
{
    bool known = mod_deep_known(ctx, region, name);
    if (known && !mod_deep_wanted(ctx, region, name)) {
        json_array_append_new(rows, json_pack("{s:s, s:s, s:b}", "bucket_name", name, "region",
                                              region, MOD_PARTIAL_KEY, 1));
        return 0;
    }
    if (!known && !mod_deep_turn(ctx, region, name))
        return 0;
    json_t *row = NULL;
    int rc = website_get(ctx, name, region, &row, err);
    return mod_keep_found(rows, rc, row, err);
}

static int website_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                        cm_err *err)
{
    json_t *by_name = json_object(), *rows = json_array();
    int rc = 0;
    for (size_t i = 0; !rc && i < nregions; i++)
        rc = buckets_in(ctx, regions[i], by_name, err);
    const char *name;
    json_t *r;
    json_object_foreach(rc ? NULL : by_name, name, r)
    {
        char region[64];
        snprintf(region, sizeof region, "%s", json_string_value(r));
        if (!region[0]) {
            rc = s3_bucket_region(ctx, name, region, sizeof region, err);
            if (rc == CM_ECLOUD && gone(err)) {
                cm_err_clear(err);
                rc = 0;
                continue;
            }
            bool wanted = false;
            for (size_t k = 0; !rc && k < nregions; k++)
                wanted |= strcmp(regions[k], region) == 0;
            if (!rc && !wanted)
                continue;
        }
        if (!rc)
            rc = website_of(ctx, name, region, rows, err);
        if (rc)
            break;
    }
    json_decref(by_name);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    *out = rows;
    return 0;
}

static int website_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "bucket_website", "bucket_name", name, region, err);
}

static int website_put(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = website_names(desired, &name, &region, err);
    if (rc)
        return rc;
    json_t *c = config_of(desired);
    char *body = s3_xml_encode("WebsiteConfiguration", ws_config, c);
    json_decref(c);
    if (!body)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    rc = s3_put_sub(ctx, name, region, &put_op, NULL, body, "setting the website of", err);
    free(body);
    if (!rc)
        *out = json_deep_copy(desired);
    return rc;
}

static int website_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                          cm_err *err)
{
    (void)known;
    return website_put(ctx, desired, out, err);
}

static int website_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name, *region;
    int rc = website_names(known, &name, &region, err);
    if (!rc)
        rc = s3_put_sub(ctx, name, region, NULL, &delete_op, NULL, "removing the website of", err);
    if (rc && gone(err)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static int website_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = website_names(image, &name, &region, err);
    return rc ? rc : website_get(ctx, name, region, out, err);
}

static const mod_table_ops website_ops = {
    .list = website_list,
    .read = website_read,
    .create = website_put,
    .update = website_update,
    .remove = website_remove,
};

static const mod_column website_columns[] = {
    {"bucket_name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"index_document", 0},
    {"error_document", 0},
    {"redirect_all_requests_to", 0},
    {"redirect_protocol", 0},
    {"routing_rules", 0},
    {NULL, 0},
};

/* Only GetBucketWebsite says any of it: all of it follows the rotation. */
static const char *const website_deep[] = {
    "index_document",    "error_document", "redirect_all_requests_to",
    "redirect_protocol", "routing_rules",  NULL};
const mod_table s3_website_table = {"bucket_website", website_columns, &website_ops,
                                    .deep = website_deep};
