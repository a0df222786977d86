/* modules/aws_ecr/mod_ecr.c — module aws_ecr: table repository (ECR private
 * repositories) over ECR's json 1.1 protocol. A repository's image tag
 * mutability, scan on push, lifecycle policy, repository policy and tags
 * change in place; its encryption is fixed at creation, so a change of it
 * replaces the repository. Its URI, ARN, registry and creation time are
 * written back. Listing costs one DescribeRepositories page per 100
 * repositories, and three reads per repository (tags and the two
 * policies); under the poller's rotation those three are deep columns,
 * read for a repository once a rotation. */
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

extern const char iasql_sql_aws_ecr[];

static const mod_json_service ecr_api = {"ecr", "1.1", "AmazonEC2ContainerRegistry_V20150921",
                                         "repository"};
static const mod_json_pager repositories = {"DescribeRepositories", "nextToken", "nextToken",
                                            "repositories"};

static int ecr_call(mod_ctx *ctx, const char *region, const char *op, json_t *body, json_t **out,
                    cm_err *err, const char *name)
{
    return mod_json_op(ctx, &ecr_api, region, op, body, out, err, name);
}

static bool repo_gone(const cm_err *err)
{
    return strcmp(err->cloud_code, "RepositoryNotFoundException") == 0;
}

/* A policy ECR holds as text, as JSON (null when there is none). */
static int read_policy(mod_ctx *ctx, const char *region, const char *name, const char *op,
                       const char *text_member, const char *none_code, json_t **out, cm_err *err)
{
    json_t *reply = NULL;
    *out = NULL;
    int rc =
        ecr_call(ctx, region, op, json_pack("{s:s}", "repositoryName", name), &reply, err, name);
    if (rc && strcmp(err->cloud_code, none_code) == 0) {
        cm_err_clear(err);
        *out = json_null();
        return 0;
    }
    if (rc)
        return rc;
    const char *text = cm_json_str(reply, text_member);
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    json_decref(reply);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return cm_err_set(err, CM_EBADREPLY,
                          "%s for repository %s: the policy is not a JSON object", op, name);
    }
    *out = doc;
    return 0;
}

/* A row image from one DescribeRepositories entry; with its tags and
 * policies read when deep, else a partial row (MOD_PARTIAL_KEY). */
static int repo_row(mod_ctx *ctx, const char *region, const json_t *r, bool deep, json_t **out,
                    cm_err *err)
{
    const char *name = cm_json_str(r, "repositoryName"), *arn = cm_json_str(r, "repositoryArn");
    *out = NULL;
    if (!name || !arn)
        return cm_err_set(err, CM_EBADREPLY,
                          "a repository without a name or ARN in DescribeRepositories");
    json_t *reply = NULL, *lifecycle = NULL, *policy = NULL;
    int rc = 0;
    if (deep)
        rc = ecr_call(ctx, region, "ListTagsForResource", json_pack("{s:s}", "resourceArn", arn),
                      &reply, err, name);
    if (!rc && deep)
        rc = read_policy(ctx, region, name, "GetLifecyclePolicy", "lifecyclePolicyText",
                         "LifecyclePolicyNotFoundException", &lifecycle, err);
    if (!rc && deep)
        rc = read_policy(ctx, region, name, "GetRepositoryPolicy", "policyText",
                         "RepositoryPolicyNotFoundException", &policy, err);
    if (rc) {
        json_decref(reply);
        json_decref(lifecycle);
        /* deleted between the listing and these reads */
        return repo_gone(err) ? cm_err_set(err, CM_ENOTFOUND, "repository %s is gone", name) : rc;
    }
    const json_t *enc = json_object_get(r, "encryptionConfiguration");
    const char *etype = cm_json_str(enc, "encryptionType"), *key = cm_json_str(enc, "kmsKey");
    const char *mut = cm_json_str(r, "imageTagMutability");
    json_t *scan = json_object_get(json_object_get(r, "imageScanningConfiguration"), "scanOnPush");
    json_t *row = json_pack(
        "{s:s, s:s, s:s, s:b, s:s, s:o, s:o, s:s, s:o, s:o}", "repository_name", name, "region",
        region, "image_tag_mutability", mut ? mut : "MUTABLE", "scan_on_push", json_is_true(scan),
        "encryption_type", etype ? etype : "AES256", "kms_key",
        key ? json_string(key) : json_null(), "repository_uri",
        cm_json_str(r, "repositoryUri") ? json_string(cm_json_str(r, "repositoryUri"))
                                        : json_null(),
        "repository_arn", arn, "registry_id",
        cm_json_str(r, "registryId") ? json_string(cm_json_str(r, "registryId")) : json_null(),
        "created_at", mod_epoch_iso(json_object_get(r, "createdAt"), 1.0));
    if (row && deep) {
        json_object_set_new(row, "lifecycle_policy", lifecycle);
        json_object_set_new(row, "repository_policy", policy);
        json_object_set_new(row, "tags",
                            mod_tags_from_list(json_object_get(reply, "tags"), "Key", "Value"));
        row = mod_take_owner(row);
    } else if (row) {
        json_object_set_new(row, MOD_PARTIAL_KEY, json_true());
    }
    json_decref(reply);
    *out = row;
    return *out ? 0 : cm_err_set(err, CM_ENOMEM, "out of memory");
}

/* Under the poller's rotation, a known repository outside its turn is
 * what DescribeRepositories says; its tags and policies keep their known
 * values (ECR is not in moto's tagging API, so its tags follow the
 * rotation too). */
static int collect(mod_ctx *ctx, const char *region, const json_t *r, void *arg, cm_err *err)
{
    json_t *row = NULL;
    const char *name = cm_json_str(r, "repositoryName");
    bool deep = !mod_deep_known(ctx, region, name) || mod_deep_wanted(ctx, region, name);
    int rc = repo_row(ctx, region, r, deep, &row, err);
    return mod_keep_found(arg, rc, row, err);
}

static int list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    return mod_json_each(ctx, &ecr_api, &repositories, region, NULL, collect, rows, "(all)", err);
}

static int ecr_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                    cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, list_region, out, err);
}

static int image_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "repository", "repository_name", name, region, err);
}

static int ecr_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(image, &name, &region, err);
    if (rc)
        return rc;
    json_t *rows = json_array();
    json_t *body = json_pack("{s:[s]}", "repositoryNames", name);
    rc = mod_json_each(ctx, &ecr_api, &repositories, region, body, collect, rows, name, err);
    json_decref(body);
    if (rc && repo_gone(err))
        rc = cm_err_set(err, CM_ENOTFOUND, "repository %s does not exist in %s", name, region);
    else if (!rc && json_array_size(rows) == 0)
        rc = cm_err_set(err, CM_ENOTFOUND, "repository %s does not exist in %s", name, region);
    if (!rc)
        *out = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return rc;
}

/* Puts a policy (JSON, or null to delete it). */
static int put_policy(mod_ctx *ctx, const char *region, const char *name, const json_t *doc,
                      const char *put_op, const char *text_member, const char *delete_op,
                      const char *none_code, cm_err *err)
{
    if (json_is_null(doc) || !doc) {
        int rc = ecr_call(ctx, region, delete_op, json_pack("{s:s}", "repositoryName", name), NULL,
                          err, name);
        if (rc && strcmp(err->cloud_code, none_code) == 0) {
            cm_err_clear(err);
            rc = 0;
        }
        return rc;
    }
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    json_t *body = json_pack("{s:s, s:s}", "repositoryName", name, text_member, text);
    free(text);
    return ecr_call(ctx, region, put_op, body, NULL, err, name);
}

static int put_lifecycle(mod_ctx *ctx, const char *region, const char *name, const json_t *doc,
                         cm_err *err)
{
    return put_policy(ctx, region, name, doc, "PutLifecyclePolicy", "lifecyclePolicyText",
                      "DeleteLifecyclePolicy", "LifecyclePolicyNotFoundException", err);
}

static int put_repo_policy(mod_ctx *ctx, const char *region, const char *name, const json_t *doc,
                           cm_err *err)
{
    return put_policy(ctx, region, name, doc, "SetRepositoryPolicy", "policyText",
                      "DeleteRepositoryPolicy", "RepositoryPolicyNotFoundException", err);
}

static bool differs(const json_t *known, const json_t *desired, const char *col)
{
    const json_t *a = json_object_get(known, col), *b = json_object_get(desired, col);
    return !json_equal(a ? a : json_null(), b ? b : json_null());
}

/* Everything that changes in place, from known to desired. */
static int converge(mod_ctx *ctx, const char *region, const char *name, const char *arn,
                    const json_t *known, const json_t *desired, cm_err *err)
{
    int rc = 0;
    if (differs(known, desired, "image_tag_mutability"))
        rc = ecr_call(ctx, region, "PutImageTagMutability",
                      json_pack("{s:s, s:O}", "repositoryName", name, "imageTagMutability",
                                json_object_get(desired, "image_tag_mutability")),
                      NULL, err, name);
    if (!rc && differs(known, desired, "scan_on_push"))
        rc = ecr_call(ctx, region, "PutImageScanningConfiguration",
                      json_pack("{s:s, s:{s:b}}", "repositoryName", name,
                                "imageScanningConfiguration", "scanOnPush",
                                json_is_true(json_object_get(desired, "scan_on_push"))),
                      NULL, err, name);
    if (!rc && differs(known, desired, "lifecycle_policy"))
        rc = put_lifecycle(ctx, region, name, json_object_get(desired, "lifecycle_policy"), err);
    if (!rc && differs(known, desired, "repository_policy"))
        rc = put_repo_policy(ctx, region, name, json_object_get(desired, "repository_policy"), err);
    json_t *set, *gone;
    mod_tags_diff(json_object_get(known, "tags"), json_object_get(desired, "tags"), &set, &gone);
    if (!rc && json_object_size(set))
        rc = ecr_call(ctx, region, "TagResource",
                      json_pack("{s:s, s:o}", "resourceArn", arn, "tags", mod_tags_to_list(set)),
                      NULL, err, name);
    if (!rc && json_array_size(gone))
        rc =
            ecr_call(ctx, region, "UntagResource",
                     json_pack("{s:s, s:O}", "resourceArn", arn, "tagKeys", gone), NULL, err, name);
    json_decref(set);
    json_decref(gone);
    return rc;
}

/* desired with the columns the cloud owns taken from the cloud's image. */
static json_t *with_owned(const json_t *desired, const json_t *cloud)
{
    json_t *out = json_deep_copy(desired);
    static const char *const owned[] = {"repository_uri", "repository_arn", "registry_id",
                                        "created_at", NULL};
    for (int i = 0; owned[i]; i++) {
        json_t *v = json_object_get(cloud, owned[i]);
        json_object_set(out, owned[i], v ? v : json_null());
    }
    return out;
}

static int ecr_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    json_t *enc = json_pack("{s:O}", "encryptionType", json_object_get(desired, "encryption_type"));
    const char *key = cm_json_str(desired, "kms_key");
    if (key)
        json_object_set_new(enc, "kmsKey", json_string(key));
    json_t *owned = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    json_t *body =
        json_pack("{s:s, s:O, s:{s:b}, s:o, s:o}", "repositoryName", name, "imageTagMutability",
                  json_object_get(desired, "image_tag_mutability"), "imageScanningConfiguration",
                  "scanOnPush", json_is_true(json_object_get(desired, "scan_on_push")),
                  "encryptionConfiguration", enc, "tags", mod_tags_to_list(owned));
    json_decref(owned);
    json_t *reply = NULL;
    rc = ecr_call(ctx, region, "CreateRepository", body, &reply, err, name);
    json_decref(reply);
    json_t *known = NULL;
    if (rc && strcmp(err->cloud_code, "RepositoryAlreadyExistsException") == 0) {
        /* an earlier attempt made it (or someone else did): read it, then
         * bring it to desired below */
        cm_err_clear(err);
        rc = ecr_read(ctx, desired, &known, err);
        if (!rc &&
            (differs(known, desired, "encryption_type") || differs(known, desired, "kms_key")))
            rc = cm_err_set(err, CM_EEXISTS,
                            "repository %s exists in %s with another encryption Detail: its "
                            "encryption is fixed at creation. Hint: Delete it, or give the row "
                            "its encryption.",
                            name, region);
    } else if (!rc) {
        /* new: its policies are none yet; its tags are the ones sent */
        known = json_pack("{s:O, s:O, s:n, s:n, s:O}", "image_tag_mutability",
                          json_object_get(desired, "image_tag_mutability"), "scan_on_push",
                          json_object_get(desired, "scan_on_push"), "lifecycle_policy",
                          "repository_policy", "tags", json_object_get(desired, "tags"));
    }
    json_t *made = NULL;
    if (!rc)
        rc = ecr_read(ctx, desired, &made, err);
    if (!rc)
        rc = converge(ctx, region, name, cm_json_str(made, "repository_arn"), known, desired, err);
    json_decref(known);
    if (!rc)
        *out = with_owned(desired, made);
    json_decref(made);
    return rc;
}

static int ecr_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    const char *arn = cm_json_str(known, "repository_arn");
    json_t *cloud = NULL;
    if (!arn) { /* a row imported before its ARN was written back */
        rc = ecr_read(ctx, desired, &cloud, err);
        arn = cm_json_str(cloud, "repository_arn");
    }
    if (!rc)
        rc = converge(ctx, region, name, arn, known, desired, err);
    if (!rc)
        *out = with_owned(desired, cloud ? cloud : known);
    json_decref(cloud);
    return rc;
}

static int ecr_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(known, &name, &region, err);
    if (rc)
        return rc;
    /* force: the images go with it, as a DROP of the row says */
    rc = ecr_call(ctx, region, "DeleteRepository",
                  json_pack("{s:s, s:b}", "repositoryName", name, "force", 1), NULL, err, name);
    if (rc && repo_gone(err)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static const mod_table_ops repository_ops = {
    .list = ecr_list,
    .read = ecr_read,
    .create = ecr_create,
    .update = ecr_update,
    .remove = ecr_remove,
};

static const mod_column repository_columns[] = {
    {"repository_name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"image_tag_mutability", 0},
    {"scan_on_push", 0},
    {"encryption_type", MOD_COL_IMMUTABLE},
    {"kms_key", MOD_COL_IMMUTABLE},
    {"lifecycle_policy", 0},
    {"repository_policy", 0},
    {"tags", 0},
    {"repository_uri", MOD_COL_CLOUD_OWNED},
    {"repository_arn", MOD_COL_CLOUD_OWNED},
    {"registry_id", MOD_COL_CLOUD_OWNED},
    {"created_at", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

/* What only a read per repository returns: it follows the rotation. */
static const char *const repository_deep[] = {"lifecycle_policy", "repository_policy", "tags",
                                              NULL};
static const mod_table repository_table = {"repository", repository_columns, &repository_ops, "ecr",
                                           .deep = repository_deep};
static const mod_table *const ecr_tables[] = {&repository_table, NULL};
static const char *const ecr_deps[] = {"aws_account", NULL};

const mod_module mod_aws_ecr = {
    .name = "aws_ecr",
    .version = IASQL_VERSION,
    .deps = ecr_deps,
    .install_sql = iasql_sql_aws_ecr,
    .tables = ecr_tables,
};
