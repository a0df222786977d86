/* modules/aws_secrets_manager/mod_secrets.c — module aws_secrets_manager:
 * table secret, over Secrets Manager's json 1.1 protocol. The value is a
 * secret column (docs/secrets.md): its cleartext reaches this module only
 * inside the desired image of the commit that sets it, and is never read
 * back (no GetSecretValue). A row shows a mask; an imported secret's mask
 * names its current version ("iasql-secret:v<version id>"). A create is one
 * CreateSecret, with the action's idempotency token as ClientRequestToken
 * (the token becomes the version id, so a retry after a crash is
 * answered, not refused); a list, one ListSecrets per 100 secrets. A new
 * value is PutSecretValue (a new version); description and KMS key change
 * through UpdateSecret, tags through TagResource / UntagResource. A delete
 * is ForceDeleteWithoutRecovery. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

extern const char iasql_sql_aws_secrets_manager[];

static const mod_json_service sm_api = {"secretsmanager", "1.1", "secretsmanager", "secret"};
static const mod_json_pager secrets_pager = {"ListSecrets", "NextToken", "NextToken",
                                             "SecretList",  NULL,        NULL};

/* What UpdateSecret takes to go back to the AWS managed key. */
#define DEFAULT_KMS_KEY "alias/aws/secretsmanager"

static int sm_call(mod_ctx *ctx, const char *region, const char *op, json_t *body, json_t **out,
                   cm_err *err, const char *name)
{
    return mod_json_op(ctx, &sm_api, region, op, body, out, err, name);
}

static bool gone(const char *code)
{
    return strcmp(code, "ResourceNotFoundException") == 0;
}

static int image_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "secret", "name", name, region, err);
}

/* The version that holds stage AWSCURRENT in a {version id: [stages]} map. */
static const char *current_version(const json_t *stages)
{
    const char *id;
    json_t *list;
    json_object_foreach((json_t *)stages, id, list)
    {
        size_t i;
        json_t *s;
        json_array_foreach(list, i, s)
        {
            if (json_is_string(s) && strcmp(json_string_value(s), "AWSCURRENT") == 0)
                return id;
        }
    }
    return NULL;
}

/* A row image from a ListSecrets or DescribeSecret entry. */
static int secret_row(const char *region, const json_t *s, json_t **out, cm_err *err)
{
    const char *name = cm_json_str(s, "Name"), *arn = cm_json_str(s, "ARN");
    if (!name || !arn)
        return cm_err_set(err, CM_EBADREPLY, "a secret without a name or ARN in %s", region);
    json_t *stages = json_object_get(s, "SecretVersionsToStages");
    const char *version =
        current_version(stages ? stages : json_object_get(s, "VersionIdsToStages"));
    /* The cloud's value is never read: a mask per version. */
    char mask[128];
    snprintf(mask, sizeof mask, "%sv%s", MOD_SECRET_PREFIX, version ? version : "none");
    const char *desc = cm_json_str(s, "Description"), *kms = cm_json_str(s, "KmsKeyId");
    json_t *row =
        json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:s, s:o}", "name", name, "region", region,
                  "description", desc && *desc ? json_string(desc) : json_null(), "kms_key_id",
                  kms && *kms ? json_string(kms) : json_null(), "value", mask, "tags",
                  mod_tags_from_list(json_object_get(s, "Tags"), "Key", "Value"), "arn", arn,
                  "version_id", version ? json_string(version) : json_null());
    *out = mod_take_owner(row);
    return 0;
}

static int collect(mod_ctx *ctx, const char *region, const json_t *s, void *rows, cm_err *err)
{
    (void)ctx;
    if (json_object_get(s, "DeletedDate") && !json_is_null(json_object_get(s, "DeletedDate")))
        return 0; /* scheduled for deletion: gone, as far as a table goes */
    json_t *row = NULL;
    int rc = secret_row(region, s, &row, err);
    if (!rc)
        json_array_append_new(rows, row);
    return rc;
}

static int list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    json_t *body = json_pack("{s:i}", "MaxResults", 100);
    int rc = mod_json_each(ctx, &sm_api, &secrets_pager, region, body, collect, rows, "(all)", err);
    json_decref(body);
    return rc;
}

static int sm_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                   cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, list_region, out, err);
}

/* DescribeSecret of name: the raw answer, or CM_ENOTFOUND. */
static int describe(mod_ctx *ctx, const char *region, const char *name, json_t **out, cm_err *err)
{
    int rc = sm_call(ctx, region, "DescribeSecret", json_pack("{s:s}", "SecretId", name), out, err,
                     name);
    if (rc && gone(err->cloud_code))
        return cm_err_set(err, CM_ENOTFOUND, "secret %s does not exist in %s", name, region);
    return rc;
}

static bool scheduled_for_deletion(const json_t *s)
{
    json_t *d = json_object_get(s, "DeletedDate");
    return d && !json_is_null(d);
}

static int sm_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(image, &name, &region, err);
    json_t *s = NULL;
    if (!rc)
        rc = describe(ctx, region, name, &s, err);
    if (!rc && scheduled_for_deletion(s))
        rc = cm_err_set(err, CM_ENOTFOUND, "secret %s is scheduled for deletion in %s", name,
                        region);
    if (!rc)
        rc = secret_row(region, s, out, err);
    json_decref(s);
    return rc;
}

/* The action's idempotency token, or a fresh one: Secrets Manager wants
 * 32 to 64 characters, and a raw request must bring its own. */
static int request_token(mod_ctx *ctx, char out[65], cm_err *err)
{
    const char *t = mod_ctx_token(ctx);
    if (t && strlen(t) >= 32 && strlen(t) <= 64) {
        snprintf(out, 65, "%s", t);
        return 0;
    }
    if (cm_random_hex(out, 16))
        return cm_err_set(err, CM_EIO, "the kernel gave no random bytes for a client token");
    return 0;
}

/* PutSecretValue of desired's cleartext; *version receives the new version. */
static int put_value(mod_ctx *ctx, const char *region, const char *name, const char *value,
                     json_t **version, cm_err *err)
{
    char token[65];
    int rc = request_token(ctx, token, err);
    json_t *reply = NULL;
    if (!rc)
        rc = sm_call(ctx, region, "PutSecretValue",
                     json_pack("{s:s, s:s, s:s}", "SecretId", name, "ClientRequestToken", token,
                               "SecretString", value),
                     &reply, err, name);
    if (!rc) {
        json_decref(*version);
        *version = json_incref(json_object_get(reply, "VersionId"));
    }
    json_decref(reply);
    return rc;
}

static bool differs(const json_t *known, const json_t *desired, const char *col)
{
    json_t *a = json_object_get(known, col), *b = json_object_get(desired, col);
    return !json_equal(a ? a : json_null(), b ? b : json_null());
}

/* UpdateSecret of what changed of description and KMS key. It makes no
 * version, so its token is a fresh one: the action's names the version a
 * PutSecretValue of the same action makes, and a retry of the action must
 * not find that version taken by this call. */
static int update_secret(mod_ctx *ctx, const char *region, const char *name, const json_t *known,
                         const json_t *desired, cm_err *err)
{
    char token[65];
    if (cm_random_hex(token, 16))
        return cm_err_set(err, CM_EIO, "the kernel gave no random bytes for a client token");
    json_t *body = json_pack("{s:s, s:s}", "SecretId", name, "ClientRequestToken", token);
    if (differs(known, desired, "description")) {
        const char *d = cm_json_str(desired, "description");
        json_object_set_new(body, "Description", json_string(d ? d : ""));
    }
    if (differs(known, desired, "kms_key_id")) {
        const char *k = cm_json_str(desired, "kms_key_id");
        json_object_set_new(body, "KmsKeyId", json_string(k ? k : DEFAULT_KMS_KEY));
    }
    if (json_object_size(body) == 2) {
        json_decref(body);
        return 0;
    }
    return sm_call(ctx, region, "UpdateSecret", body, NULL, err, name);
}

/* Tags from known to desired (each an object; the owner tag included
 * where the caller wants it kept or set). */
static int put_tags(mod_ctx *ctx, const char *region, const char *name, const json_t *known,
                    const json_t *desired, cm_err *err)
{
    json_t *set, *drop;
    mod_tags_diff(known, desired, &set, &drop);
    int rc = 0;
    if (json_object_size(set))
        rc = sm_call(ctx, region, "TagResource",
                     json_pack("{s:s, s:o}", "SecretId", name, "Tags", mod_tags_to_list(set)), NULL,
                     err, name);
    if (!rc && json_array_size(drop))
        rc = sm_call(ctx, region, "UntagResource",
                     json_pack("{s:s, s:O}", "SecretId", name, "TagKeys", drop), NULL, err, name);
    json_decref(set);
    json_decref(drop);
    return rc;
}

static json_t *with_owned(const json_t *desired, const json_t *arn, const json_t *version)
{
    json_t *out = json_deep_copy(desired);
    json_object_set_new(out, "arn", arn ? json_deep_copy(arn) : json_null());
    json_object_set_new(out, "version_id", version ? json_deep_copy(version) : json_null());
    return out;
}

/* A secret of that name exists (an earlier attempt, someone else's, or
 * one scheduled for deletion): restore it if need be and bring it to
 * desired, keeping its value when desired holds none. */
static int adopt(mod_ctx *ctx, const char *region, const char *name, const json_t *desired,
                 json_t **out, cm_err *err)
{
    json_t *s = NULL, *row = NULL;
    int rc = describe(ctx, region, name, &s, err);
    if (!rc && scheduled_for_deletion(s))
        rc = sm_call(ctx, region, "RestoreSecret", json_pack("{s:s}", "SecretId", name), NULL, err,
                     name);
    if (!rc)
        rc = secret_row(region, s, &row, err);
    json_decref(s);
    if (rc)
        return rc;
    json_t *version = json_incref(json_object_get(row, "version_id"));
    const char *value = cm_json_str(desired, "value");
    rc = update_secret(ctx, region, name, row, desired, err);
    if (!rc && value && !mod_is_mask(value))
        rc = put_value(ctx, region, name, value, &version, err);
    if (!rc) {
        json_t *had = json_deep_copy(json_object_get(row, "tags"));
        const char *owner = cm_json_str(row, MOD_OWNER_KEY);
        if (owner)
            json_object_set_new(had, MOD_OWNER_TAG, json_string(owner));
        json_t *want = mod_tags_owned(ctx, json_object_get(desired, "tags"));
        rc = put_tags(ctx, region, name, had, want, err);
        json_decref(had);
        json_decref(want);
    }
    if (!rc)
        *out = with_owned(desired, json_object_get(row, "arn"), version);
    json_decref(version);
    json_decref(row);
    return rc;
}

static int sm_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    const char *value = cm_json_str(desired, "value");
    bool known_value = value && !mod_is_mask(value);
    char token[65];
    rc = request_token(ctx, token, err);
    if (rc)
        return rc;
    json_t *body = json_pack("{s:s, s:s}", "Name", name, "ClientRequestToken", token);
    if (known_value)
        json_object_set_new(body, "SecretString", json_string(value));
    const char *desc = cm_json_str(desired, "description"),
               *kms = cm_json_str(desired, "kms_key_id");
    if (desc)
        json_object_set_new(body, "Description", json_string(desc));
    if (kms)
        json_object_set_new(body, "KmsKeyId", json_string(kms));
    json_t *tags = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    if (json_object_size(tags))
        json_object_set_new(body, "Tags", mod_tags_to_list(tags));
    json_decref(tags);
    if (!known_value) {
        /* Without its value the row can only adopt a secret that exists. */
        json_decref(body);
        rc = adopt(ctx, region, name, desired, out, err);
        if (rc == CM_ENOTFOUND) {
            cm_err_clear(err);
            rc = cm_err_set(err, CM_EINVAL,
                            "the value of secret %s is not known to the engine Detail: the row "
                            "holds a mask (the secret was imported, or the value copied from "
                            "another row) and no secret of that name exists to keep its value. "
                            "Hint: set value again.",
                            name);
        }
        return rc;
    }
    json_t *reply = NULL;
    rc = sm_call(ctx, region, "CreateSecret", body, &reply, err, name);
    if (rc && (strcmp(err->cloud_code, "ResourceExistsException") == 0 ||
               (strcmp(err->cloud_code, "InvalidRequestException") == 0 &&
                strstr(err->msg, "deletion")))) {
        cm_err_clear(err);
        return adopt(ctx, region, name, desired, out, err);
    }
    if (!rc)
        *out =
            with_owned(desired, json_object_get(reply, "ARN"), json_object_get(reply, "VersionId"));
    json_decref(reply);
    return rc;
}

static int sm_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                     cm_err *err)
{
    const char *name, *region;
    int rc = image_names(desired, &name, &region, err);
    if (rc)
        return rc;
    json_t *version = json_incref(json_object_get(known, "version_id"));
    const char *value = cm_json_str(desired, "value");
    rc = update_secret(ctx, region, name, known, desired, err);
    /* A mask: the user did not set a value in this commit; the cloud keeps its own. */
    if (!rc && differs(known, desired, "value") && value && !mod_is_mask(value))
        rc = put_value(ctx, region, name, value, &version, err);
    if (!rc)
        rc = put_tags(ctx, region, name, json_object_get(known, "tags"),
                      json_object_get(desired, "tags"), err);
    if (!rc)
        *out = with_owned(desired, json_object_get(known, "arn"), version);
    json_decref(version);
    return rc;
}

static int sm_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name, *region;
    int rc = image_names(known, &name, &region, err);
    if (!rc)
        rc = sm_call(ctx, region, "DeleteSecret",
                     json_pack("{s:s, s:b}", "SecretId", name, "ForceDeleteWithoutRecovery", 1),
                     NULL, err, name);
    if (rc && gone(err->cloud_code)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static const mod_table_ops secret_ops = {
    .list = sm_list,
    .read = sm_read,
    .create = sm_create,
    .update = sm_update,
    .remove = sm_remove,
};

static const mod_column secret_columns[] = {
    {"name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"description", 0},
    {"kms_key_id", 0},
    {"value", MOD_COL_SECRET},
    {"tags", 0},
    {"arn", MOD_COL_CLOUD_OWNED},
    {"version_id", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

static const mod_table secret_table = {"secret", secret_columns, &secret_ops, "secretsmanager"};
static const mod_table *const secrets_tables[] = {&secret_table, NULL};
static const char *const secrets_deps[] = {"aws_account", NULL};

const mod_module mod_aws_secrets_manager = {
    .name = "aws_secrets_manager",
    .version = IASQL_VERSION,
    .deps = secrets_deps,
    .install_sql = iasql_sql_aws_secrets_manager,
    .uninstall_sql = "DROP FUNCTION IF EXISTS secret_hide_value();\n"
                     "DELETE FROM iasql_secret WHERE table_name = 'secret';",
    .tables = secrets_tables,
};
