/* modules/aws_iam/mod_iam_user.c — tables iam_user and instance_profile of
 * module aws_iam. ListUsers gives neither a user's tags nor its attached
 * policies, and ListInstanceProfiles no tags (AWS's listings leave them
 * out): those are read per resource (GetUser, ListAttachedUserPolicies,
 * GetInstanceProfile) and follow the poller's rotation. A user is named by
 * its user_id, so that a new name or path is an UpdateUser in place; an
 * instance profile's one role moves in place. Access keys are no table: a
 * key's secret is shown once and is nothing iasql may store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/aws_iam/mod_iam_int.h"

static const mod_query_service user_api = {"iam", "2010-05-08", "IAM user"};
static const mod_query_service profile_api = {"iam", "2010-05-08", "IAM instance profile"};
static const iam_kind user_kind = {.api = &user_api,
                                   .name_param = "UserName",
                                   .tag = "TagUser",
                                   .untag = "UntagUser",
                                   .drop = "DeleteUser",
                                   .list_attached = "ListAttachedUserPolicies",
                                   .attach = "AttachUserPolicy",
                                   .detach = "DetachUserPolicy"};
static const iam_kind profile_kind = {.api = &profile_api,
                                      .name_param = "InstanceProfileName",
                                      .tag = "TagInstanceProfile",
                                      .untag = "UntagInstanceProfile",
                                      .drop = "DeleteInstanceProfile"};

/* A text member of an image, or NULL. */
static const char *str(const json_t *img, const char *col)
{
    return json_string_value(json_object_get(img, col));
}

/* ------------------------------------------------------------------ users */

/* What a User element (of GetUser, or of ListUsers) says of a user: all
 * but its tags and policies. */
static json_t *user_base(xmlNodePtr user)
{
    return json_pack("{s:o, s:o, s:o, s:o}", "user_name", aws_xml_json_child(user, "UserName"),
                     "path", aws_xml_json_child(user, "Path"), "arn",
                     aws_xml_json_child(user, "Arn"), "user_id",
                     aws_xml_json_child(user, "UserId"));
}

/* A user's row image: GetUser (tags included) and its attached policies. */
static int user_row(mod_ctx *ctx, const char *name, json_t **out, cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr user;
    *out = NULL;
    int rc = iam_get(ctx, &user_kind, "GetUser", "User", name, &doc, &user, err);
    if (rc)
        return rc;
    json_t *row = user_base(user);
    json_object_set_new(row, "tags", iam_tags_of(aws_xml_child(user, "Tags")));
    mod_take_owner(row);
    xmlFreeDoc(doc);
    json_t *attached = NULL;
    rc = iam_attached(ctx, &user_kind, name, &attached, err);
    json_object_set_new(row, "attached_policy_arns", attached);
    if (rc) {
        json_decref(row);
        return rc;
    }
    *out = row;
    return 0;
}

static int collect_user(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg, cm_err *err)
{
    (void)region;
    char name[256], id[256];
    aws_xml_child_text(member, "UserName", name, sizeof name);
    aws_xml_child_text(member, "UserId", id, sizeof id);
    if (!name[0] || !id[0])
        return 0;
    /* A known user in the rotation's off turn: ListUsers' own entry (its
     * tags and policies keep their known values). */
    if (mod_deep_known(ctx, "", id) && !mod_deep_wanted(ctx, "", id)) {
        json_t *row = user_base(member);
        json_object_set_new(row, MOD_PARTIAL_KEY, json_true());
        json_array_append_new(arg, row);
        return 0;
    }
    json_t *row = NULL;
    int rc = user_row(ctx, name, &row, err);
    return mod_keep_found(arg, rc, row, err);
}

static int user_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                     cm_err *err)
{
    (void)regions, (void)nregions; /* global */
    return iam_list_all(ctx, &user_api, "ListUsers", "Users", json_pack("{s:i}", "MaxItems", 1000),
                        collect_user, out, err);
}

/* The user of image by its name; one of that name with another user_id is
 * another user (the one of image is gone). */
static int user_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name = str(image, "user_name"), *id = str(image, "user_id");
    if (!name)
        return cm_err_set(err, CM_EINVAL, "iam_user row lacks a user_name");
    int rc = user_row(ctx, name, out, err);
    if (!rc && id && *id && strcmp(id, str(*out, "user_id") ? str(*out, "user_id") : "") != 0) {
        json_decref(*out);
        *out = NULL;
        return cm_err_set(err, CM_ENOTFOUND, "IAM user %s (%s) does not exist", name, id);
    }
    return rc;
}

/* Managed policies attached and detached from known's (NULL: none) to
 * desired's. */
static int user_policies(mod_ctx *ctx, const char *name, const json_t *known, const json_t *desired,
                         cm_err *err)
{
    return iam_attach_diff(ctx, &user_kind, name, json_object_get(known, "attached_policy_arns"),
                           json_object_get(desired, "attached_policy_arns"), err);
}

/* Detaches every managed policy the user has in the cloud. */
static int strip_user(mod_ctx *ctx, const char *name, cm_err *err)
{
    json_t *attached = NULL;
    int rc = iam_attached(ctx, &user_kind, name, &attached, err);
    if (!rc)
        rc = iam_attach_diff(ctx, &user_kind, name, attached, NULL, err);
    json_decref(attached);
    return rc;
}

static int user_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                       cm_err *err)
{
    const char *was = str(known, "user_name"), *name = str(desired, "user_name");
    const char *path = str(desired, "path");
    if (!was || !name)
        return cm_err_set(err, CM_EINVAL, "iam_user row lacks a user_name");
    bool renamed = strcmp(was, name) != 0;
    bool moved = path && (!str(known, "path") || strcmp(path, str(known, "path")) != 0);
    json_t *from = json_incref((json_t *)known);
    int rc = 0;
    if (renamed || moved) {
        json_t *p = json_pack("{s:s}", "UserName", was);
        if (renamed)
            json_object_set_new(p, "NewUserName", json_string(name));
        if (moved)
            json_object_set_new(p, "NewPath", json_string(path));
        rc = iam_call(&user_api, ctx, "UpdateUser", p, NULL, NULL, err, was);
        json_t *now = NULL;
        if (!rc) /* its ARN follows its name and path */
            rc = user_row(ctx, name, &now, err);
        if (!rc) {
            json_decref(from);
            from = now;
        }
    }
    if (!rc)
        rc = user_policies(ctx, name, known, desired, err);
    /* Tags follow the user through a rename in AWS; moto keeps them by
     * ARN and forgets them: a renamed user is tagged again in full, its
     * owner tag included. */
    json_t *none = json_object();
    json_t *owned = renamed || moved ? mod_tags_owned(ctx, json_object_get(desired, "tags")) : NULL;
    if (!rc)
        rc = iam_retag(ctx, &user_kind, name, owned ? none : json_object_get(known, "tags"),
                       owned ? owned : json_object_get(desired, "tags"), err);
    json_decref(none);
    json_decref(owned);
    if (!rc)
        *out = iam_image(desired, from, "user_id");
    json_decref(from);
    return rc;
}

static int user_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name = str(desired, "user_name");
    if (!name)
        return cm_err_set(err, CM_EINVAL, "iam_user row lacks a user_name");
    json_t *p = iam_create_params(ctx, "UserName", name, desired);
    xmlDocPtr doc;
    xmlNodePtr res;
    int rc = iam_call(&user_api, ctx, "CreateUser", p, &doc, &res, err, name);
    if (rc && strcmp(err->cloud_code, "EntityAlreadyExists") == 0)
        return iam_adopt(ctx, name, user_row, user_update, desired, out, err);
    if (rc)
        return rc;
    json_t *from = user_base(aws_xml_child(res, "User"));
    xmlFreeDoc(doc);
    rc = user_policies(ctx, name, NULL, desired, err);
    if (rc) { /* half made: gone again, so that the next commit starts clean */
        cm_err e2 = {0};
        iam_delete(ctx, &user_kind, name, strip_user, &e2);
        json_decref(from);
        return rc;
    }
    *out = iam_image(desired, from, "user_id");
    json_decref(from);
    return 0;
}

static int user_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name = str(known, "user_name");
    if (!name)
        return cm_err_set(err, CM_EINVAL, "iam_user row lacks a user_name");
    int rc = iam_delete(ctx, &user_kind, name, strip_user, err);
    if (rc && strcmp(err->cloud_code, "DeleteConflict") == 0)
        cm_err_wrap(err,
                    "IAM user %s still has what iasql does not manage Detail: IAM deletes a "
                    "user only without access keys, a console password, signing "
                    "certificates, SSH keys, MFA devices, inline policies and group "
                    "memberships. Hint: Remove those in the console or with the AWS CLI, "
                    "then commit again.",
                    name);
    return rc;
}

/* ------------------------------------------------------- instance profiles */

/* What an InstanceProfile element (of GetInstanceProfile, or of
 * ListInstanceProfiles) says of it: all but its tags. Its role is its
 * first (AWS allows one). */
static json_t *profile_base(xmlNodePtr p)
{
    json_t *role = aws_xml_json_child(aws_xml_path(p, "Roles/member"), "RoleName");
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "instance_profile_name",
                     aws_xml_json_child(p, "InstanceProfileName"), "path",
                     aws_xml_json_child(p, "Path"), "role", role, "arn",
                     aws_xml_json_child(p, "Arn"), "instance_profile_id",
                     aws_xml_json_child(p, "InstanceProfileId"));
}

static int profile_row(mod_ctx *ctx, const char *name, json_t **out, cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr p;
    *out = NULL;
    int rc =
        iam_get(ctx, &profile_kind, "GetInstanceProfile", "InstanceProfile", name, &doc, &p, err);
    if (rc)
        return rc;
    json_t *row = profile_base(p);
    json_object_set_new(row, "tags", iam_tags_of(aws_xml_child(p, "Tags")));
    mod_take_owner(row);
    xmlFreeDoc(doc);
    *out = row;
    return 0;
}

static int collect_profile_row(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg,
                               cm_err *err)
{
    (void)region;
    char name[256];
    aws_xml_child_text(member, "InstanceProfileName", name, sizeof name);
    if (!name[0])
        return 0;
    /* A known profile in the rotation's off turn: the list's entry, role
     * included (its tags keep their known values). */
    if (mod_deep_known(ctx, "", name) && !mod_deep_wanted(ctx, "", name)) {
        json_t *row = profile_base(member);
        json_object_set_new(row, MOD_PARTIAL_KEY, json_true());
        json_array_append_new(arg, row);
        return 0;
    }
    json_t *row = NULL;
    int rc = profile_row(ctx, name, &row, err);
    return mod_keep_found(arg, rc, row, err);
}

static int profile_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                        cm_err *err)
{
    (void)regions, (void)nregions; /* global */
    return iam_list_all(ctx, &profile_api, "ListInstanceProfiles", "InstanceProfiles",
                        json_pack("{s:i}", "MaxItems", 1000), collect_profile_row, out, err);
}

static int profile_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name = str(image, "instance_profile_name");
    if (!name)
        return cm_err_set(err, CM_EINVAL, "instance_profile row lacks an instance_profile_name");
    return profile_row(ctx, name, out, err);
}

/* The profile's role from was (NULL: none) to want (NULL: none): the old
 * one out first, since a profile holds one. */
static int profile_role(mod_ctx *ctx, const char *name, const char *was, const char *want,
                        cm_err *err)
{
    int rc = 0;
    if (was && want && strcmp(was, want) == 0)
        return 0;
    if (was) {
        rc = iam_call(&profile_api, ctx, "RemoveRoleFromInstanceProfile",
                      json_pack("{s:s, s:s}", "InstanceProfileName", name, "RoleName", was), NULL,
                      NULL, err, name);
        if (rc && iam_gone(err->cloud_code)) { /* not there any more */
            cm_err_clear(err);
            rc = 0;
        }
    }
    if (!rc && want)
        rc = iam_call(&profile_api, ctx, "AddRoleToInstanceProfile",
                      json_pack("{s:s, s:s}", "InstanceProfileName", name, "RoleName", want), NULL,
                      NULL, err, name);
    if (rc && strcmp(err->cloud_code, "LimitExceeded") == 0)
        cm_err_wrap(err,
                    "instance profile %s holds another role already Detail: AWS allows one "
                    "role per instance profile. Hint: Set role to the one it should hold.",
                    name);
    return rc;
}

static int profile_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                          cm_err *err)
{
    const char *name = str(desired, "instance_profile_name");
    if (!name)
        return cm_err_set(err, CM_EINVAL, "instance_profile row lacks an instance_profile_name");
    int rc = 0;
    const char *was = str(known, "role"), *want = str(desired, "role");
    if (!was != !want || (was && want && strcmp(was, want) != 0)) {
        /* the role the cloud holds is the one to take out (moto fails a
         * removal of one the profile does not hold) */
        json_t *cloud = NULL;
        rc = profile_row(ctx, name, &cloud, err);
        if (!rc)
            rc = profile_role(ctx, name, str(cloud, "role"), want, err);
        json_decref(cloud);
    }
    if (!rc)
        rc = iam_retag(ctx, &profile_kind, name, json_object_get(known, "tags"),
                       json_object_get(desired, "tags"), err);
    if (!rc)
        *out = iam_image(desired, known, "instance_profile_id");
    return rc;
}

static int profile_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name = str(desired, "instance_profile_name");
    if (!name)
        return cm_err_set(err, CM_EINVAL, "instance_profile row lacks an instance_profile_name");
    json_t *p = iam_create_params(ctx, "InstanceProfileName", name, desired);
    xmlDocPtr doc;
    xmlNodePtr res;
    int rc = iam_call(&profile_api, ctx, "CreateInstanceProfile", p, &doc, &res, err, name);
    if (rc && strcmp(err->cloud_code, "EntityAlreadyExists") == 0)
        return iam_adopt(ctx, name, profile_row, profile_update, desired, out, err);
    if (rc)
        return rc;
    json_t *from = profile_base(aws_xml_child(res, "InstanceProfile"));
    xmlFreeDoc(doc);
    rc = profile_role(ctx, name, NULL, str(desired, "role"), err);
    if (rc) { /* half made: gone again */
        cm_err e2 = {0};
        iam_delete(ctx, &profile_kind, name, NULL, &e2);
        json_decref(from);
        return rc;
    }
    *out = iam_image(desired, from, "instance_profile_id");
    json_decref(from);
    return 0;
}

/* The roles the profile holds in the cloud go first (IAM refuses to
 * delete a profile that holds one). */
static int profile_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name = str(known, "instance_profile_name");
    if (!name)
        return cm_err_set(err, CM_EINVAL, "instance_profile row lacks an instance_profile_name");
    json_t *cloud = NULL;
    int rc = profile_row(ctx, name, &cloud, err);
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        return 0;
    }
    if (!rc && str(cloud, "role"))
        rc = profile_role(ctx, name, str(cloud, "role"), NULL, err);
    json_decref(cloud);
    return rc ? rc : iam_delete(ctx, &profile_kind, name, NULL, err);
}

/* ---------------------------------------------------------------- tables */

static const mod_table_ops user_ops = {
    .list = user_list,
    .read = user_read,
    .create = user_create,
    .update = user_update,
    .remove = user_remove,
};

/* user_id names the user: its name and path change in place. */
static const mod_column user_columns[] = {
    {"user_id", MOD_COL_CLOUD_ID | MOD_COL_CLOUD_OWNED},
    {"user_name", MOD_COL_UNIQUE},
    {"path", 0},
    {"attached_policy_arns", 0},
    {"tags", 0},
    {"arn", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

/* What only GetUser and ListAttachedUserPolicies return: it follows the
 * rotation. */
static const char *const user_deep[] = {"attached_policy_arns", "tags", NULL};
const mod_table iam_user_table = {"iam_user", user_columns, &user_ops, .deep = user_deep};

static const mod_table_ops profile_ops = {
    .list = profile_list,
    .read = profile_read,
    .create = profile_create,
    .update = profile_update,
    .remove = profile_remove,
};

static const mod_column profile_columns[] = {
    {"instance_profile_name", MOD_COL_CLOUD_ID},
    {"path", MOD_COL_IMMUTABLE},
    {"role", 0, "iam_role"},
    {"tags", 0},
    {"arn", MOD_COL_CLOUD_OWNED},
    {"instance_profile_id", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

/* ListInstanceProfiles leaves out tags: GetInstanceProfile's follow the
 * rotation. */
static const char *const profile_deep[] = {"tags", NULL};
const mod_table iam_profile_table = {"instance_profile", profile_columns, &profile_ops,
                                     .deep = profile_deep};
