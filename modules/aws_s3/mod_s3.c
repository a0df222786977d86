/* modules/aws_s3/mod_s3.c — module aws_s3: table bucket (bucket_website is
 * in mod_s3_website.c). Speaks S3's rest-xml protocol, path-style
 * (<endpoint>/<bucket>), signed for the bucket's region. Creating a bucket
 * costs one call, plus one for each of tags, policy, versioning, public
 * access block, lifecycle rules and CORS rules that is set, and two for
 * default encryption other than SSE-S3's (the Put keeps what the bucket
 * blocks, which it reads first); the creation dates of every bucket
 * created in a commit cost one ListBuckets. */
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/aws_s3/mod_s3.h"

extern const char iasql_sql_aws_s3[];

/* us-east-1 answers GetBucketLocation with an empty constraint, and very old
 * buckets in eu-west-1 with "EU". */
const char *s3_location_to_region(const char *loc)
{
    if (!*loc)
        return "us-east-1";
    if (strcmp(loc, "EU") == 0)
        return "eu-west-1";
    return loc;
}

const aws_service s3_api = {"s3", AWS_PROTO_REST_XML};

/* The operations, as the model has their methods and URIs. */
static const aws_operation list_op = {"ListBuckets", "GET", "/"};
static const aws_operation create_op = {"CreateBucket", "PUT", "/{Bucket}"};
static const aws_operation delete_op = {"DeleteBucket", "DELETE", "/{Bucket}"};
static const aws_operation location_op = {"GetBucketLocation", "GET", "/{Bucket}?location"};
static const aws_operation get_tagging_op = {"GetBucketTagging", "GET", "/{Bucket}?tagging"};
static const aws_operation put_tagging_op = {"PutBucketTagging", "PUT", "/{Bucket}?tagging", true};
static const aws_operation delete_tagging_op = {"DeleteBucketTagging", "DELETE",
                                                "/{Bucket}?tagging"};
/* a policy is JSON in the body, not XML */
static const aws_operation get_policy_op = {"GetBucketPolicy", "GET", "/{Bucket}?policy", false,
                                            true};
static const aws_operation put_policy_op = {"PutBucketPolicy", "PUT", "/{Bucket}?policy", true};
static const aws_operation delete_policy_op = {"DeleteBucketPolicy", "DELETE", "/{Bucket}?policy"};
static const aws_operation get_versioning_op = {"GetBucketVersioning", "GET",
                                                "/{Bucket}?versioning"};
static const aws_operation put_versioning_op = {"PutBucketVersioning", "PUT",
                                                "/{Bucket}?versioning", true};
static const aws_operation get_pab_op = {"GetPublicAccessBlock", "GET",
                                         "/{Bucket}?publicAccessBlock"};
static const aws_operation put_pab_op = {"PutPublicAccessBlock", "PUT",
                                         "/{Bucket}?publicAccessBlock", true};
static const aws_operation delete_pab_op = {"DeletePublicAccessBlock", "DELETE",
                                            "/{Bucket}?publicAccessBlock"};

int s3_call(mod_ctx *ctx, const aws_operation *op, const char *name, const char *region,
            const char *body, aws_answer *out, cm_err *err, const char *what)
{
    memset(out, 0, sizeof *out);
    json_t *in = json_pack("{s:s}", "Bucket", name);
    if (in && body)
        json_object_set_new(in, "body", json_string(body));
    int rc = in ? aws_call(ctx->aws, &s3_api, op, region, in, out, err)
                : cm_err_set(err, CM_ENOMEM, "out of memory");
    json_decref(in);
    if (rc)
        cm_err_wrap(err, "%s bucket %s", what, name);
    return rc;
}

int s3_bucket_region(mod_ctx *ctx, const char *name, char *out, size_t size, cm_err *err)
{
    aws_answer a;
    int rc = s3_call(ctx, &location_op, name, ctx->default_region, NULL, &a, err,
                     "reading the region of");
    if (!rc) {
        xmlChar *txt = a.xml ? xmlNodeGetContent(xmlDocGetRootElement(a.xml)) : NULL;
        snprintf(out, size, "%s", s3_location_to_region(txt ? (const char *)txt : ""));
        xmlFree(txt);
    }
    aws_answer_free(&a);
    return rc;
}

/* Tags as a JSON object; a bucket without tags answers NoSuchTagSet. */
static int bucket_tags(mod_ctx *ctx, const char *name, const char *region, json_t **out,
                       cm_err *err)
{
    *out = json_object();
    aws_answer a;
    int rc = s3_call(ctx, &get_tagging_op, name, region, NULL, &a, err, "reading the tags of");
    if (rc && (strcmp(err->cloud_code, "NoSuchTagSet") == 0 ||
               strcmp(err->cloud_code, "NotImplemented") == 0)) {
        cm_err_clear(err);
        rc = 0;
    } else if (!rc && a.xml) {
        xmlNodePtr set = aws_xml_child(xmlDocGetRootElement(a.xml), "TagSet");
        for (xmlNodePtr t = aws_xml_child(set, "Tag"); t; t = aws_xml_next(t, "Tag")) {
            char key[512], val[1024];
            aws_xml_child_text(t, "Key", key, sizeof key);
            aws_xml_child_text(t, "Value", val, sizeof val);
            /* Tags AWS itself puts on (aws:...) are not the user's to manage. */
            if (strncmp(key, "aws:", 4) != 0)
                json_object_set_new(*out, key, json_string(val));
        }
    }
    aws_answer_free(&a);
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* ListBuckets as an object name -> creation date. */
static int list_buckets(mod_ctx *ctx, json_t **out, cm_err *err)
{
    aws_answer a;
    int rc = aws_call(ctx->aws, &s3_api, &list_op, ctx->default_region, NULL, &a, err);
    *out = NULL;
    if (!rc && !a.xml)
        rc = cm_err_set(err, CM_EBADREPLY, "malformed XML in the cloud's response (0 bytes)");
    if (rc) {
        cm_err_wrap(err, "listing buckets");
    } else {
        json_t *all = json_object();
        xmlNodePtr list = a.xml ? aws_xml_child(xmlDocGetRootElement(a.xml), "Buckets") : NULL;
        for (xmlNodePtr b = aws_xml_child(list, "Bucket"); b; b = aws_xml_next(b, "Bucket")) {
            char name[256], date[64];
            aws_xml_child_text(b, "Name", name, sizeof name);
            aws_xml_child_text(b, "CreationDate", date, sizeof date);
            if (name[0])
                json_object_set_new(all, name, date[0] ? json_string(date) : json_null());
        }
        *out = all;
    }
    aws_answer_free(&a);
    return rc;
}

/* ---------------------------------------------- policy, versioning, public access block */

static const char *const pab_flags[] = {"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                        "RestrictPublicBuckets"};

/* Some S3-compatible servers answer NotImplemented or MethodNotAllowed
 * for a sub-resource they do not have: that reads as not configured. */
int s3_get_sub(mod_ctx *ctx, const char *name, const char *region, const aws_operation *op,
               const char *none_code, aws_answer *a, bool *none, cm_err *err)
{
    *none = false;
    aws_answer_free(a);
    int rc = s3_call(ctx, op, name, region, NULL, a, err, "reading");
    if (rc && (strcmp(err->cloud_code, none_code) == 0 ||
               strcmp(err->cloud_code, "NotImplemented") == 0 ||
               strcmp(err->cloud_code, "MethodNotAllowed") == 0)) {
        cm_err_clear(err);
        *none = true;
        rc = 0;
    }
    return rc;
}

/* ---------------------------------------------- lifecycle rules, CORS rules, encryption */

static const aws_operation get_lifecycle_op = {"GetBucketLifecycleConfiguration", "GET",
                                               "/{Bucket}?lifecycle"};
static const aws_operation put_lifecycle_op = {"PutBucketLifecycleConfiguration", "PUT",
                                               "/{Bucket}?lifecycle", true};
static const aws_operation delete_lifecycle_op = {"DeleteBucketLifecycle", "DELETE",
                                                  "/{Bucket}?lifecycle"};
static const aws_operation get_cors_op = {"GetBucketCors", "GET", "/{Bucket}?cors"};
static const aws_operation put_cors_op = {"PutBucketCors", "PUT", "/{Bucket}?cors", true};
static const aws_operation delete_cors_op = {"DeleteBucketCors", "DELETE", "/{Bucket}?cors"};
static const aws_operation get_encryption_op = {"GetBucketEncryption", "GET",
                                                "/{Bucket}?encryption"};
static const aws_operation put_encryption_op = {"PutBucketEncryption", "PUT",
                                                "/{Bucket}?encryption", true};

/* A lifecycle rule as botocore's LifecycleRule has it, members in its order
 * (the order the SDKs send). "Prefix" is the deprecated rule-level filter:
 * read (an old rule may have it), never written. */
static const s3_field lc_tag[] = {{"Key", 0, S3_STR}, {"Value", 0, S3_STR}, {0}};
static const s3_field lc_and[] = {{"Prefix", 0, S3_STR},
                                  {"Tags", "Tag", S3_LIST, lc_tag, S3_OBJ, NULL},
                                  {"ObjectSizeGreaterThan", 0, S3_INT},
                                  {"ObjectSizeLessThan", 0, S3_INT},
                                  {0}};
static const s3_field lc_filter[] = {{"Prefix", 0, S3_STR},
                                     {"Tag", 0, S3_OBJ, lc_tag},
                                     {"ObjectSizeGreaterThan", 0, S3_INT},
                                     {"ObjectSizeLessThan", 0, S3_INT},
                                     {"And", 0, S3_OBJ, lc_and},
                                     {0}};
static const s3_field lc_expiration[] = {
    {"Date", 0, S3_DAY}, {"Days", 0, S3_INT}, {"ExpiredObjectDeleteMarker", 0, S3_BOOL}, {0}};
static const s3_field lc_transition[] = {
    {"Date", 0, S3_DAY}, {"Days", 0, S3_INT}, {"StorageClass", 0, S3_STR}, {0}};
static const s3_field lc_nv_transition[] = {{"NoncurrentDays", 0, S3_INT},
                                            {"StorageClass", 0, S3_STR},
                                            {"NewerNoncurrentVersions", 0, S3_INT},
                                            {0}};
static const s3_field lc_nv_expiration[] = {
    {"NoncurrentDays", 0, S3_INT}, {"NewerNoncurrentVersions", 0, S3_INT}, {0}};
static const s3_field lc_abort[] = {{"DaysAfterInitiation", 0, S3_INT}, {0}};
static const s3_field lc_rule[] = {
    {"Expiration", 0, S3_OBJ, lc_expiration},
    {"ID", 0, S3_STR},
    {"Prefix", 0, S3_STR},
    {"Filter", 0, S3_OBJ, lc_filter},
    {"Status", 0, S3_STR},
    {"Transitions", "Transition", S3_LIST, lc_transition, S3_OBJ, NULL},
    {"NoncurrentVersionTransitions", "NoncurrentVersionTransition", S3_LIST, lc_nv_transition,
     S3_OBJ, NULL},
    {"NoncurrentVersionExpiration", 0, S3_OBJ, lc_nv_expiration},
    {"AbortIncompleteMultipartUpload", 0, S3_OBJ, lc_abort},
    {0}};
static const s3_field lc_config[] = {{"Rules", "Rule", S3_LIST, lc_rule, S3_OBJ, NULL}, {0}};

static const s3_field cors_rule[] = {
    {"ID", 0, S3_STR},
    {"AllowedHeaders", "AllowedHeader", S3_LIST, NULL, S3_STR, NULL},
    {"AllowedMethods", "AllowedMethod", S3_LIST, NULL, S3_STR, NULL},
    {"AllowedOrigins", "AllowedOrigin", S3_LIST, NULL, S3_STR, NULL},
    {"ExposeHeaders", "ExposeHeader", S3_LIST, NULL, S3_STR, NULL},
    {"MaxAgeSeconds", 0, S3_INT},
    {0}};
static const s3_field cors_config[] = {{"CORSRules", "CORSRule", S3_LIST, cors_rule, S3_OBJ, NULL},
                                       {0}};

static const s3_field sse_default[] = {
    {"SSEAlgorithm", 0, S3_STR}, {"KMSMasterKeyID", 0, S3_STR}, {0}};
static const s3_field sse_blocked[] = {
    {"EncryptionType", "EncryptionType", S3_LIST, NULL, S3_STR, NULL}, {0}};
static const s3_field sse_rule[] = {{"ApplyServerSideEncryptionByDefault", 0, S3_OBJ, sse_default},
                                    {"BucketKeyEnabled", 0, S3_BOOL},
                                    {"BlockedEncryptionTypes", 0, S3_OBJ, sse_blocked},
                                    {0}};
static const s3_field sse_config[] = {{"Rules", "Rule", S3_LIST, sse_rule, S3_OBJ, NULL}, {0}};

/* A rule as read, in the one spelling a row holds: the deprecated
 * rule-level prefix becomes a filter, and a filter that takes every
 * object (none, or an empty prefix) is left out, as the row leaves it. */
static void lifecycle_read(json_t *rule)
{
    const char *old = cm_json_str(rule, "Prefix");
    if (old && *old && !json_object_get(rule, "Filter"))
        json_object_set_new(rule, "Filter", json_pack("{s:s}", "Prefix", old));
    json_object_del(rule, "Prefix");
    const json_t *f = json_object_get(rule, "Filter");
    const char *prefix = cm_json_str(f, "Prefix");
    if (f && (json_object_size(f) == 0 || (json_object_size(f) == 1 && prefix && !*prefix)))
        json_object_del(rule, "Filter");
}

/* A rule as sent: S3 wants a filter (or the deprecated prefix) in every
 * rule; an empty one takes every object. */
static void lifecycle_write(json_t *rule)
{
    if (!json_object_get(rule, "Filter"))
        json_object_set_new(rule, "Filter", json_object());
}

/* A jsonb column of rules that is one S3 configuration, put and deleted
 * whole: an empty array is no configuration. */
typedef struct s3_rules {
    const char *column;
    const char *root;       /* the configuration's element */
    const s3_field *config; /* its members: the one list of rules */
    const char *list;       /* that list's member */
    const aws_operation *get, *put, *del;
    const char *none_code; /* GET's answer when nothing is configured */
    void (*on_read)(json_t *rule);
    void (*on_write)(json_t *rule);
    const char *what;
} s3_rules;

static const s3_rules rule_sets[] = {
    {"lifecycle_rules", "LifecycleConfiguration", lc_config, "Rules", &get_lifecycle_op,
     &put_lifecycle_op, &delete_lifecycle_op, "NoSuchLifecycleConfiguration", lifecycle_read,
     lifecycle_write, "setting the lifecycle rules of"},
    {"cors_rules", "CORSConfiguration", cors_config, "CORSRules", &get_cors_op, &put_cors_op,
     &delete_cors_op, "NoSuchCORSConfiguration", NULL, NULL, "setting the CORS rules of"},
};

static int read_rules(mod_ctx *ctx, const char *name, const char *region, const s3_rules *rs,
                      json_t *row, cm_err *err)
{
    aws_answer a = {0};
    bool none;
    int rc = s3_get_sub(ctx, name, region, rs->get, rs->none_code, &a, &none, err);
    json_t *rules = NULL;
    if (!rc && !none && a.xml) {
        json_t *config = s3_xml_decode(xmlDocGetRootElement(a.xml), rs->config);
        rules = json_incref(json_object_get(config, rs->list));
        json_decref(config);
    }
    size_t i;
    json_t *rule;
    json_array_foreach(rs->on_read ? rules : NULL, i, rule)
    {
        rs->on_read(rule);
    }
    if (!rc)
        json_object_set_new(row, rs->column, rules ? rules : json_array());
    else
        json_decref(rules);
    aws_answer_free(&a);
    return rc;
}

/* The rules of img's column; NULL, as no rules, when absent (a known
 * state from before the column). */
static const json_t *rules_of(const json_t *img, const char *column)
{
    const json_t *v = img ? json_object_get(img, column) : NULL;
    return json_is_array(v) ? v : NULL;
}

static int apply_rules(mod_ctx *ctx, const char *name, const char *region, const s3_rules *rs,
                       const json_t *known, const json_t *desired, cm_err *err)
{
    const json_t *k = rules_of(known, rs->column), *d = rules_of(desired, rs->column);
    if ((!json_array_size(k) && !json_array_size(d)) ||
        (k && d && json_equal((json_t *)k, (json_t *)d)))
        return 0;
    char *body = NULL;
    if (json_array_size(d)) {
        json_t *sent = json_deep_copy(d);
        size_t i;
        json_t *rule;
        json_array_foreach(rs->on_write ? sent : NULL, i, rule)
        {
            rs->on_write(rule);
        }
        json_t *config = json_pack("{s:o}", rs->list, sent);
        body = config ? s3_xml_encode(rs->root, rs->config, config) : NULL;
        json_decref(config);
        if (!body)
            return cm_err_set(err, CM_ENOMEM, "out of memory %s bucket %s", rs->what, name);
    }
    int rc = s3_put_sub(ctx, name, region, rs->put, rs->del, body, rs->what, err);
    free(body);
    return rc;
}

/* Default encryption. S3 encrypts every bucket with SSE-S3 when nothing
 * else is configured, and answers GetBucketEncryption so; an endpoint that
 * answers "not configured" (moto, s3rver) reads the same. */
static void sse_of(const json_t *img, const char **alg, const char **key, bool *bucket_key)
{
    *alg = img ? cm_json_str(img, "sse_algorithm") : NULL;
    *key = img ? cm_json_str(img, "kms_master_key_id") : NULL;
    *bucket_key = img && json_is_true(json_object_get(img, "bucket_key_enabled"));
    if (!*alg)
        *alg = "AES256";
}

/* GetBucketEncryption as its configuration (NULL when none). */
static int get_encryption(mod_ctx *ctx, const char *name, const char *region, json_t **config,
                          cm_err *err)
{
    aws_answer a = {0};
    bool none;
    int rc = s3_get_sub(ctx, name, region, &get_encryption_op,
                        "ServerSideEncryptionConfigurationNotFoundError", &a, &none, err);
    *config = !rc && !none && a.xml ? s3_xml_decode(xmlDocGetRootElement(a.xml), sse_config) : NULL;
    aws_answer_free(&a);
    return rc;
}

static int read_encryption(mod_ctx *ctx, const char *name, const char *region, json_t *row,
                           cm_err *err)
{
    json_t *config;
    int rc = get_encryption(ctx, name, region, &config, err);
    const json_t *rule = json_array_get(json_object_get(config, "Rules"), 0);
    const json_t *by_default = json_object_get(rule, "ApplyServerSideEncryptionByDefault");
    const char *alg = cm_json_str(by_default, "SSEAlgorithm"),
               *key = cm_json_str(by_default, "KMSMasterKeyID");
    if (!rc) {
        json_object_set_new(row, "sse_algorithm", json_string(alg && *alg ? alg : "AES256"));
        json_object_set_new(row, "kms_master_key_id", key && *key ? json_string(key) : json_null());
        json_object_set_new(row, "bucket_key_enabled",
                            json_boolean(json_is_true(json_object_get(rule, "BucketKeyEnabled"))));
    }
    json_decref(config);
    return rc;
}

static int apply_encryption(mod_ctx *ctx, const char *name, const char *region, const json_t *known,
                            const json_t *desired, cm_err *err)
{
    const char *ka, *kk, *da, *dk;
    bool kb, db;
    sse_of(known, &ka, &kk, &kb);
    sse_of(desired, &da, &dk, &db);
    if (strcmp(ka, da) == 0 && kb == db && ((!kk && !dk) || (kk && dk && strcmp(kk, dk) == 0)))
        return 0;
    /* The encryption types the bucket blocks (SSE-C, say) are not the
     * row's: the Put, which replaces the whole configuration, keeps them. */
    json_t *now = NULL;
    int rc = get_encryption(ctx, name, region, &now, err);
    if (rc)
        return rc;
    const json_t *blocked =
        json_object_get(json_array_get(json_object_get(now, "Rules"), 0), "BlockedEncryptionTypes");
    json_t *config =
        json_pack("{s:[{s:{s:s, s:s*}, s:b, s:O*}]}", "Rules", "ApplyServerSideEncryptionByDefault",
                  "SSEAlgorithm", da, "KMSMasterKeyID", dk, "BucketKeyEnabled", db,
                  "BlockedEncryptionTypes", blocked);
    json_decref(now);
    char *body =
        config ? s3_xml_encode("ServerSideEncryptionConfiguration", sse_config, config) : NULL;
    json_decref(config);
    if (!body)
        return cm_err_set(err, CM_ENOMEM, "out of memory setting the encryption of bucket %s",
                          name);
    rc = s3_put_sub(ctx, name, region, &put_encryption_op, NULL, body,
                    "setting the default encryption of", err);
    free(body);
    return rc;
}

/* The bucket's policy, versioning status, public access block, lifecycle
 * rules, default encryption and CORS rules, added to row (six reads). */
static int read_settings(mod_ctx *ctx, const char *name, const char *region, json_t *row,
                         cm_err *err)
{
    aws_answer a = {0};
    bool none;
    int rc = s3_get_sub(ctx, name, region, &get_policy_op, "NoSuchBucketPolicy", &a, &none, err);
    if (!rc) {
        json_t *policy = none || !a.text ? NULL : json_loadb(a.text, a.text_len, 0, NULL);
        json_object_set_new(row, "policy", policy ? policy : json_null());
    }
    char status[32] = "";
    if (!rc)
        rc = s3_get_sub(ctx, name, region, &get_versioning_op, "NoSuchVersioning", &a, &none, err);
    if (!rc && !none && a.xml)
        aws_xml_child_text(xmlDocGetRootElement(a.xml), "Status", status, sizeof status);
    if (!rc)
        json_object_set_new(row, "versioning", json_string(status[0] ? status : "Disabled"));
    if (!rc)
        rc = s3_get_sub(ctx, name, region, &get_pab_op, "NoSuchPublicAccessBlockConfiguration", &a,
                        &none, err);
    if (!rc && !none && a.xml) {
        json_t *pab = json_object();
        for (size_t i = 0; i < 4; i++) {
            char v[16];
            aws_xml_child_text(xmlDocGetRootElement(a.xml), pab_flags[i], v, sizeof v);
            json_object_set_new(pab, pab_flags[i], json_boolean(strcmp(v, "true") == 0));
        }
        json_object_set_new(row, "public_access_block", pab);
    } else if (!rc) {
        json_object_set_new(row, "public_access_block", json_null());
    }
    aws_answer_free(&a);
    for (size_t i = 0; !rc && i < sizeof rule_sets / sizeof rule_sets[0]; i++)
        rc = read_rules(ctx, name, region, &rule_sets[i], row, err);
    if (!rc)
        rc = read_encryption(ctx, name, region, row, err);
    return rc;
}

static bool is_set(const json_t *v)
{
    return v && !json_is_null(v);
}

int s3_put_sub(mod_ctx *ctx, const char *name, const char *region, const aws_operation *put,
               const aws_operation *del, const char *body_text, const char *what, cm_err *err)
{
    aws_answer a;
    int rc = s3_call(ctx, body_text ? put : del, name, region, body_text, &a, err, what);
    aws_answer_free(&a);
    return rc;
}

/* Brings the settings from known (NULL for a new bucket: nothing set, and
 * SSE-S3 encryption) to desired. */
static int apply_settings(mod_ctx *ctx, const char *name, const char *region, const json_t *known,
                          const json_t *desired, cm_err *err)
{
    int rc = 0;
    const json_t *kp = known ? json_object_get(known, "policy") : NULL,
                 *dp = json_object_get(desired, "policy");
    if ((is_set(kp) || is_set(dp)) && !json_equal(kp, dp)) {
        char *text = is_set(dp) ? json_dumps(dp, JSON_COMPACT) : NULL;
        rc = s3_put_sub(ctx, name, region, &put_policy_op, &delete_policy_op, text,
                        "setting the policy of", err);
        free(text);
    }
    const char *kv = known ? cm_json_str(known, "versioning") : "Disabled",
               *dv = cm_json_str(desired, "versioning");
    if (!kv)
        kv = "Disabled";
    if (!rc && dv && strcmp(dv, kv) != 0) {
        if (strcmp(dv, "Disabled") == 0)
            return cm_err_set(err, CM_EINVAL,
                              "versioning of bucket %s cannot go back to Disabled once it was "
                              "%s: set it to Suspended",
                              name, kv);
        char body[256];
        snprintf(body, sizeof body,
                 "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<Status>%s</Status></VersioningConfiguration>",
                 dv);
        rc = s3_put_sub(ctx, name, region, &put_versioning_op, NULL, body,
                        "setting the versioning of", err);
    }
    const json_t *kb = known ? json_object_get(known, "public_access_block") : NULL,
                 *db = json_object_get(desired, "public_access_block");
    if (!rc && (is_set(kb) || is_set(db)) && !json_equal(kb, db)) {
        cm_buf body;
        cm_buf_init(&body, 4096);
        if (is_set(db)) {
            cm_buf_puts(&body, "<PublicAccessBlockConfiguration "
                               "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
            for (size_t i = 0; i < 4; i++)
                cm_buf_printf(&body, "<%s>%s</%s>", pab_flags[i],
                              json_is_true(json_object_get(db, pab_flags[i])) ? "true" : "false",
                              pab_flags[i]);
            cm_buf_puts(&body, "</PublicAccessBlockConfiguration>");
        }
        rc = s3_put_sub(ctx, name, region, &put_pab_op, &delete_pab_op,
                        is_set(db) ? cm_buf_str(&body) : NULL, "setting the public access block of",
                        err);
        cm_buf_free(&body);
    }
    for (size_t i = 0; !rc && i < sizeof rule_sets / sizeof rule_sets[0]; i++)
        rc = apply_rules(ctx, name, region, &rule_sets[i], known, desired, err);
    if (!rc)
        rc = apply_encryption(ctx, name, region, known, desired, err);
    return rc;
}

static bool region_wanted(const char *region, const char *const *regions, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(regions[i], region) == 0)
            return true;
    return false;
}

/* Under the poller's rotation (mod_deep), a bucket the database knows costs
 * nothing of its own: its region is the one it is known in (a bucket never
 * moves), its tags come from the tagging API (a request per 100 buckets),
 * and its six settings (policy, versioning, public access block,
 * lifecycle, CORS, encryption) are read only in its turn. Otherwise, and
 * for a new bucket, eight reads. */
static int s3_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                   cm_err *err)
{
    json_t *all;
    int rc = list_buckets(ctx, &all, err);
    if (rc)
        return rc;
    json_t *rows = json_array(), *tagged = json_object(); /* region -> by name, or null */
    const char *name;
    json_t *date;
    json_object_foreach(all, name, date)
    {
        char region[64] = "";
        for (size_t i = 0; i < nregions && !region[0]; i++)
            if (mod_deep_known(ctx, regions[i], name))
                snprintf(region, sizeof region, "%s", regions[i]);
        bool known = region[0] != '\0';
        if (!known)
            rc = s3_bucket_region(ctx, name, region, sizeof region, err);
        if (rc == CM_ECLOUD) { /* deleted between the list and this read */
            cm_err_clear(err);
            rc = 0;
            continue;
        }
        if (rc)
            break;
        if (!region_wanted(region, regions, nregions))
            continue;
        json_t *tags = NULL;
        if (known && !json_object_get(tagged, region)) {
            json_t *t = mod_tagged_by_name(ctx, region, "s3", ":::");
            json_object_set_new(tagged, region, t ? t : json_null());
        }
        const json_t *by_name = known ? json_object_get(tagged, region) : NULL;
        if (json_is_object(by_name)) {
            const json_t *t = json_object_get(by_name, name);
            tags = t ? json_deep_copy(t) : json_object();
        } else {
            rc = bucket_tags(ctx, name, region, &tags, err);
        }
        if (rc)
            break;
        json_t *row = mod_take_owner(json_pack("{s:s, s:s, s:o, s:O}", "name", name, "region",
                                               region, "tags", tags, "created_at", date));
        if (mod_deep_wanted(ctx, region, name))
            rc = read_settings(ctx, name, region, row, err);
        else
            json_object_set_new(row, MOD_PARTIAL_KEY, json_true());
        if (rc == CM_ECLOUD && strcmp(err->cloud_code, "NoSuchBucket") == 0) {
            cm_err_clear(err); /* deleted while its settings were read */
            rc = 0;
            json_decref(row);
            continue;
        }
        if (rc) {
            json_decref(row);
            break;
        }
        json_array_append_new(rows, row);
    }
    json_decref(all);
    json_decref(tagged);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    *out = rows;
    return 0;
}

static int tagging_body(const json_t *tags, cm_buf *b)
{
    int rc = cm_buf_puts(b, "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)tags, key, val)
    {
        if (!rc)
            rc = cm_buf_puts(b, "<Tag><Key>");
        if (!rc)
            rc = aws_xml_escape(b, key);
        if (!rc)
            rc = cm_buf_puts(b, "</Key><Value>");
        if (!rc)
            rc = aws_xml_escape(b, json_is_string(val) ? json_string_value(val) : "");
        if (!rc)
            rc = cm_buf_puts(b, "</Value></Tag>");
    }
    if (!rc)
        rc = cm_buf_puts(b, "</TagSet></Tagging>");
    return rc;
}

/* PutBucketTagging replaces the whole set: the database's identity goes
 * with every write of it. */
static int put_tags(mod_ctx *ctx, const char *name, const char *region, const json_t *row_tags,
                    cm_err *err)
{
    aws_answer a = {0};
    int rc;
    json_t *tags = mod_tags_owned(ctx, row_tags);
    if (json_object_size(tags) == 0) {
        rc = s3_call(ctx, &delete_tagging_op, name, region, NULL, &a, err, "removing the tags of");
    } else {
        cm_buf body;
        cm_buf_init(&body, 1 << 20);
        rc = tagging_body(tags, &body) ? cm_err_set(err, CM_EINVAL, "tags too large") : 0;
        if (!rc)
            rc = s3_call(ctx, &put_tagging_op, name, region, cm_buf_str(&body), &a, err, "tagging");
        cm_buf_free(&body);
    }
    /* A store without tagging (some S3 emulators) loses only the owner tag
     * when the row has none. */
    if (rc && strcmp(err->cloud_code, "NotImplemented") == 0 && json_object_size(row_tags) == 0) {
        cm_err_clear(err);
        rc = 0;
    }
    json_decref(tags);
    aws_answer_free(&a);
    return rc;
}

static int image_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "bucket", "name", name, region, err);
}

static int s3_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    cm_buf body;
    cm_buf_init(&body, 4096);
    if (strcmp(region, "us-east-1") != 0)
        cm_buf_printf(
            &body,
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
            region);
    aws_answer a;
    rc = s3_call(ctx, &create_op, name, region, body.len ? cm_buf_str(&body) : NULL, &a, err,
                 "creating");
    aws_answer_free(&a);
    cm_buf_free(&body);
    if (rc && strcmp(err->cloud_code, "BucketAlreadyOwnedByYou") == 0) {
        /* Ours already: done by an earlier attempt if it is in the region asked for. */
        char actual[64];
        cm_err_clear(err);
        rc = s3_bucket_region(ctx, name, actual, sizeof actual, err);
        if (!rc && strcmp(actual, region) != 0)
            rc = cm_err_set(err, CM_ECLOUD,
                            "creating bucket %s: BucketAlreadyOwnedByYou: a bucket of that name "
                            "already exists in region %s, not %s",
                            name, actual, region);
    }
    json_t *tags = json_object_get(desired, "tags");
    if (!rc && (json_object_size(tags) > 0 || mod_ctx_owner(ctx)))
        rc = put_tags(ctx, name, region, tags, err);
    if (!rc)
        rc = apply_settings(ctx, name, region, NULL, desired, err);
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    return 0;
}

static int s3_fill_owned(mod_ctx *ctx, json_t *images, cm_err *err)
{
    json_t *all;
    int rc = list_buckets(ctx, &all, err);
    if (rc)
        return rc;
    size_t i;
    json_t *img;
    json_array_foreach(images, i, img)
    {
        json_t *date =
            json_object_get(all, cm_json_str(img, "name") ? cm_json_str(img, "name") : "");
        if (json_is_string(date))
            json_object_set(img, "created_at", date);
    }
    json_decref(all);
    return 0;
}

static int s3_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                     cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    const json_t *tags = json_object_get(desired, "tags");
    if (!json_equal(json_object_get(known, "tags"), (json_t *)tags))
        rc = put_tags(ctx, name, region, tags, err);
    if (!rc)
        rc = apply_settings(ctx, name, region, known, desired, err);
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set(*out, "created_at", json_object_get(known, "created_at"));
    return 0;
}

static int s3_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(known, &name, &region, err);
    if (rc)
        return rc;
    aws_answer a;
    rc = s3_call(ctx, &delete_op, name, region, NULL, &a, err, "deleting");
    aws_answer_free(&a);
    if (rc && strcmp(err->cloud_code, "NoSuchBucket") == 0) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static int s3_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(image, &name, &region, err);
    if (rc)
        return rc;
    char actual[64];
    rc = s3_bucket_region(ctx, name, actual, sizeof actual, err);
    if (rc == CM_ECLOUD && strstr(err->msg, "NoSuchBucket"))
        return cm_err_set(err, CM_ENOTFOUND, "bucket %s does not exist", name);
    if (rc)
        return rc;
    if (strcmp(actual, region) != 0)
        return cm_err_set(err, CM_ENOTFOUND, "bucket %s is in %s, not %s", name, actual, region);
    json_t *tags;
    rc = bucket_tags(ctx, name, region, &tags, err);
    if (rc)
        return rc;
    json_t *row =
        mod_take_owner(json_pack("{s:s, s:s, s:o, s:O}", "name", name, "region", region, "tags",
                                 tags, "created_at", json_object_get(image, "created_at")));
    rc = read_settings(ctx, name, region, row, err);
    if (rc) {
        json_decref(row);
        return rc;
    }
    *out = row;
    return 0;
}

static const mod_table_ops bucket_ops = {
    .list = s3_list,
    .read = s3_read,
    .create = s3_create,
    .update = s3_update,
    .remove = s3_remove,
    .fill_owned = s3_fill_owned,
};

static const mod_column bucket_columns[] = {
    {"name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"tags", 0},
    {"policy", 0},
    {"versioning", 0},
    {"public_access_block", 0},
    {"lifecycle_rules", 0},
    {"cors_rules", 0},
    {"sse_algorithm", 0},
    {"kms_master_key_id", 0},
    {"bucket_key_enabled", 0},
    {"created_at", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

/* What only a read per bucket returns: it follows the rotation. */
static const char *const bucket_deep[] = {
    "policy",     "versioning",    "public_access_block", "lifecycle_rules",
    "cors_rules", "sse_algorithm", "kms_master_key_id",   "bucket_key_enabled",
    NULL};
static const mod_table bucket_table = {"bucket", bucket_columns, &bucket_ops, .deep = bucket_deep};
static const mod_table *const s3_tables[] = {&bucket_table, &s3_website_table, NULL};
static const char *const s3_deps[] = {"aws_account", NULL};

const mod_module mod_aws_s3 = {
    .name = "aws_s3",
    .version = IASQL_VERSION,
    .deps = s3_deps,
    .install_sql = iasql_sql_aws_s3,
    .uninstall_sql =
        "DROP FUNCTION IF EXISTS "
        "s3_public_access_block_valid(jsonb), s3_elements(jsonb), s3_objects(jsonb), "
        "s3_keys_within(jsonb, "
        "text[]), s3_keys_among(jsonb, text[]), s3_int_between(jsonb, numeric, numeric), "
        "s3_nonempty_array(jsonb), s3_strings(jsonb, integer), s3_string_values(jsonb), "
        "s3_day(jsonb), s3_tag_valid(jsonb), s3_storage_class(jsonb), "
        "s3_lifecycle_shape(jsonb), s3_lifecycle_ids(jsonb), "
        "s3_lifecycle_statuses(jsonb), s3_lifecycle_actions(jsonb), "
        "s3_lifecycle_filter(jsonb), s3_lifecycle_filters(jsonb), "
        "s3_lifecycle_expirations(jsonb), s3_lifecycle_transitions(jsonb), "
        "s3_lifecycle_noncurrent(jsonb), s3_lifecycle_abort_uploads(jsonb), "
        "s3_cors_shape(jsonb), s3_cors_methods(jsonb), s3_cors_origins(jsonb), "
        "s3_cors_headers(jsonb), s3_cors_max_ages(jsonb), s3_cors_ids(jsonb), "
        "s3_routing_rules_valid(jsonb), s3_bucket_website_insert();",
    .tables = s3_tables,
};
