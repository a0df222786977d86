/* modules/aws_s3/mod_s3.c — module aws_s3: table bucket. Speaks S3's
 * rest-xml protocol, path-style (<endpoint>/<bucket>), signed for the
 * bucket's region. Creating a bucket costs one call, plus one for each of
 * tags, policy, versioning and public access block that is set; the
 * creation dates of every bucket created in a commit cost one ListBuckets. */
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/aws/aws_xml.h"
#include "modules/mod_int.h"

extern const char iasql_sql_aws_s3[];

/* us-east-1 answers GetBucketLocation with an empty constraint, and very old
 * buckets in eu-west-1 with "EU". */
static const char *location_to_region(const char *loc)
{
    if (!*loc)
        return "us-east-1";
    if (strcmp(loc, "EU") == 0)
        return "eu-west-1";
    return loc;
}

static const aws_service s3_api = {"s3", AWS_PROTO_REST_XML};

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

/* One S3 operation on bucket name, with an optional XML body. */
static int s3_call(mod_ctx *ctx, const aws_operation *op, const char *name, const char *region,
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

static int bucket_region(mod_ctx *ctx, const char *name, char *out, size_t size, cm_err *err)
{
    aws_answer a;
    int rc = s3_call(ctx, &location_op, name, ctx->default_region, NULL, &a, err,
                     "reading the region of");
    if (!rc) {
        xmlChar *txt = a.xml ? xmlNodeGetContent(xmlDocGetRootElement(a.xml)) : NULL;
        snprintf(out, size, "%s", location_to_region(txt ? (const char *)txt : ""));
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

/* GET of a bucket sub-resource; *none is set (and 0 returned) when S3
 * answers none_code, the "not configured" error of that sub-resource, or
 * the endpoint does not implement the sub-resource at all (some
 * S3-compatible servers answer NotImplemented or MethodNotAllowed). */
static int get_sub(mod_ctx *ctx, const char *name, const char *region, const aws_operation *op,
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

/* The bucket's policy, versioning status and public access block, added
 * to row (three reads). */
static int read_settings(mod_ctx *ctx, const char *name, const char *region, json_t *row,
                         cm_err *err)
{
    aws_answer a = {0};
    bool none;
    int rc = get_sub(ctx, name, region, &get_policy_op, "NoSuchBucketPolicy", &a, &none, err);
    if (!rc) {
        json_t *policy = none || !a.text ? NULL : json_loadb(a.text, a.text_len, 0, NULL);
        json_object_set_new(row, "policy", policy ? policy : json_null());
    }
    char status[32] = "";
    if (!rc)
        rc = get_sub(ctx, name, region, &get_versioning_op, "NoSuchVersioning", &a, &none, err);
    if (!rc && !none && a.xml)
        aws_xml_child_text(xmlDocGetRootElement(a.xml), "Status", status, sizeof status);
    if (!rc)
        json_object_set_new(row, "versioning", json_string(status[0] ? status : "Disabled"));
    if (!rc)
        rc = get_sub(ctx, name, region, &get_pab_op, "NoSuchPublicAccessBlockConfiguration", &a,
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
    return rc;
}

static bool is_set(const json_t *v)
{
    return v && !json_is_null(v);
}

/* PUT (or DELETE when body_text is NULL) of one sub-resource. */
static int put_sub(mod_ctx *ctx, const char *name, const char *region, const aws_operation *put,
                   const aws_operation *del, const char *body_text, const char *what, cm_err *err)
{
    aws_answer a;
    int rc = s3_call(ctx, body_text ? put : del, name, region, body_text, &a, err, what);
    aws_answer_free(&a);
    return rc;
}

/* Brings policy, versioning and public access block from known (NULL for a
 * new bucket: nothing set) to desired. */
static int apply_settings(mod_ctx *ctx, const char *name, const char *region, const json_t *known,
                          const json_t *desired, cm_err *err)
{
    int rc = 0;
    const json_t *kp = known ? json_object_get(known, "policy") : NULL,
                 *dp = json_object_get(desired, "policy");
    if ((is_set(kp) || is_set(dp)) && !json_equal(kp, dp)) {
        char *text = is_set(dp) ? json_dumps(dp, JSON_COMPACT) : NULL;
        rc = put_sub(ctx, name, region, &put_policy_op, &delete_policy_op, text,
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
        rc = put_sub(ctx, name, region, &put_versioning_op, NULL, body, "setting the versioning of",
                     err);
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
        rc = put_sub(ctx, name, region, &put_pab_op, &delete_pab_op,
                     is_set(db) ? cm_buf_str(&body) : NULL, "setting the public access block of",
                     err);
        cm_buf_free(&body);
    }
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
 * and its policy, versioning and public access block are read only in its
 * turn. Otherwise, and for a new bucket, five reads. */
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
            rc = bucket_region(ctx, name, region, sizeof region, err);
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
        rc = bucket_region(ctx, name, actual, sizeof actual, err);
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
    rc = bucket_region(ctx, name, actual, sizeof actual, err);
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
    {"created_at", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

/* What only a read per bucket returns: it follows the rotation. */
static const char *const bucket_deep[] = {"policy", "versioning", "public_access_block", NULL};
static const mod_table bucket_table = {"bucket", bucket_columns, &bucket_ops, .deep = bucket_deep};
static const mod_table *const s3_tables[] = {&bucket_table, NULL};
static const char *const s3_deps[] = {"aws_account", NULL};

const mod_module mod_aws_s3 = {
    .name = "aws_s3",
    .version = IASQL_VERSION,
    .deps = s3_deps,
    .install_sql = iasql_sql_aws_s3,
    .uninstall_sql = "DROP FUNCTION IF EXISTS s3_public_access_block_valid(jsonb);",
    .tables = s3_tables,
};
