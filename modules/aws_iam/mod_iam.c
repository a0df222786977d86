/* modules/aws_iam/mod_iam.c — module aws_iam: tables iam_policy and
 * iam_role (iam_user and instance_profile are in mod_iam_user.c), over
 * IAM's query protocol. IAM is global: one endpoint per
 * partition (the engine's default region says which; aws_resolve_endpoint
 * gives the host and the region it is signed for), no region column. Documents come back
 * URL-encoded and are stored as JSON; a policy's document changes through a new default version
 * (the oldest other version goes when IAM's five are used). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/aws_iam/mod_iam_int.h"

extern const char iasql_sql_aws_iam[];

static const mod_query_service policy_api = {"iam", "2010-05-08", "IAM policy"};
static const mod_query_service role_api = {"iam", "2010-05-08", "IAM role"};
static const iam_kind policy_kind = {.api = &policy_api,
                                     .name_param = "PolicyArn",
                                     .tag = "TagPolicy",
                                     .untag = "UntagPolicy",
                                     .drop = "DeletePolicy"};
static const iam_kind role_kind = {.api = &role_api,
                                   .name_param = "RoleName",
                                   .tag = "TagRole",
                                   .untag = "UntagRole",
                                   .drop = "DeleteRole",
                                   .list_attached = "ListAttachedRolePolicies",
                                   .attach = "AttachRolePolicy",
                                   .detach = "DetachRolePolicy"};

bool iam_gone(const char *code)
{
    return strcmp(code, "NoSuchEntity") == 0;
}

int iam_call(const mod_query_service *svc, mod_ctx *ctx, const char *action, json_t *params,
             xmlDocPtr *doc, xmlNodePtr *res, cm_err *err, const char *name)
{
    return mod_query_op(ctx, svc, IAM_REGION, action, params, doc, res, err, name);
}

/* A document as IAM returns it (URL-encoded, or plain from some
 * emulators) as JSON; null when it is not JSON. */
static json_t *document(xmlNodePtr node)
{
    json_t *text = aws_xml_json_text(node);
    const char *s = json_string_value(text);
    json_t *doc = s ? json_loads(s, 0, NULL) : NULL;
    if (!doc && s) {
        char *plain = aws_uri_decode(s);
        doc = plain ? json_loads(plain, 0, NULL) : NULL;
        free(plain);
    }
    json_decref(text);
    return doc ? doc : json_null();
}

/* Tags of a Tags/member list, without AWS's own. */
json_t *iam_tags_of(xmlNodePtr tags)
{
    json_t *all = mod_xml_map(tags, "member", "Key", "Value");
    json_t *own = mod_tags_from_object(all);
    json_decref(all);
    return own;
}

/* Every member of the named list of a List* action (Marker / IsTruncated). */
int iam_list_marker(mod_ctx *ctx, const mod_query_service *svc, const char *action,
                    const char *list, json_t *params, mod_member_fn fn, void *arg, cm_err *err,
                    const char *name)
{
    mod_query_pager pager = {action, "Marker", "Marker", list, "IsTruncated"};
    return mod_query_each(ctx, svc, &pager, IAM_REGION, params, fn, arg, name, err);
}

/* ------------------------------------------------------------- policies */

static int policy_arn(mod_ctx *ctx, const json_t *img, char *out, size_t size, cm_err *err)
{
    const char *name = cm_json_str(img, "policy_name"), *path = cm_json_str(img, "path");
    if (!name)
        return cm_err_set(err, CM_EINVAL, "iam_policy row lacks a policy_name");
    char res[1024];
    snprintf(res, sizeof res, "policy%s%s", path ? path : "/", name);
    return mod_arn(ctx, "iam", "", res, out, size, err);
}

/* A policy's row image by ARN: GetPolicy, its default version, its tags. */
static int policy_row(mod_ctx *ctx, const char *arn, json_t **out, cm_err *err)
{
    xmlDocPtr doc, vdoc;
    xmlNodePtr res, vres, pol;
    char version[64];
    int rc = iam_get(ctx, &policy_kind, "GetPolicy", "Policy", arn, &doc, &pol, err);
    if (rc)
        return rc;
    aws_xml_child_text(pol, "DefaultVersionId", version, sizeof version);
    rc = iam_call(&policy_api, ctx, "GetPolicyVersion",
                  json_pack("{s:s, s:s}", "PolicyArn", arn, "VersionId", version), &vdoc, &vres,
                  err, arn);
    if (rc) {
        xmlFreeDoc(doc);
        return rc;
    }
    json_t *row = json_pack(
        "{s:o, s:o, s:o, s:o, s:s}", "policy_name", aws_xml_json_child(pol, "PolicyName"), "path",
        aws_xml_json_child(pol, "Path"), "description", aws_xml_json_child(pol, "Description"),
        "policy_document", document(aws_xml_path(vres, "PolicyVersion/Document")), "arn", arn);
    json_t *desc = json_object_get(row, "description");
    if (json_is_string(desc) && !*json_string_value(desc))
        json_object_set_new(row, "description", json_null());
    xmlNodePtr tags = aws_xml_child(pol, "Tags");
    json_object_set_new(row, "tags", iam_tags_of(tags));
    mod_take_owner(row);
    xmlFreeDoc(doc);
    xmlFreeDoc(vdoc);
    if (!tags) { /* GetPolicy without tags (older IAM): ask for them */
        rc = iam_call(&policy_api, ctx, "ListPolicyTags", json_pack("{s:s}", "PolicyArn", arn),
                      &doc, &res, err, arn);
        if (rc) {
            json_decref(row);
            return rc;
        }
        json_object_set_new(row, "tags", iam_tags_of(aws_xml_child(res, "Tags")));
        mod_take_owner(row);
        xmlFreeDoc(doc);
    }
    *out = row;
    return 0;
}

static int collect_policy(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg,
                          cm_err *err)
{
    (void)region;
    char arn[2048];
    aws_xml_child_text(member, "Arn", arn, sizeof arn);
    if (!arn[0])
        return 0;
    /* A known policy in the rotation's off turn: ListPolicies' own entry
     * (its description, document and tags keep their known values). */
    char name[256];
    aws_xml_child_text(member, "PolicyName", name, sizeof name);
    if (name[0] && mod_deep_known(ctx, "", name) && !mod_deep_wanted(ctx, "", name)) {
        json_array_append_new(arg, json_pack("{s:s, s:o, s:s, s:b}", "policy_name", name, "path",
                                             aws_xml_json_child(member, "Path"), "arn", arn,
                                             MOD_PARTIAL_KEY, 1));
        return 0;
    }
    json_t *row = NULL;
    int rc = policy_row(ctx, arn, &row, err);
    return mod_keep_found(arg, rc, row, err);
}

/* Every resource of a List* action (IAM is global), as row images. */
int iam_list_all(mod_ctx *ctx, const mod_query_service *svc, const char *action, const char *list,
                 json_t *params, mod_member_fn fn, json_t **out, cm_err *err)
{
    json_t *rows = json_array();
    int rc = iam_list_marker(ctx, svc, action, list, params, fn, rows, err, "(all)");
    if (rc) {
        json_decref(rows);
        return rc;
    }
    *out = rows;
    return 0;
}

static int policy_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                       cm_err *err)
{
    (void)regions, (void)nregions; /* global */
    return iam_list_all(ctx, &policy_api, "ListPolicies", "Policies",
                        json_pack("{s:s}", "Scope", "Local"), collect_policy, out, err);
}

static int policy_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    char arn[2048];
    int rc = policy_arn(ctx, image, arn, sizeof arn, err);
    return rc ? rc : policy_row(ctx, arn, out, err);
}

static json_t *with_owned(const json_t *desired, const char *col, const char *value)
{
    json_t *out = json_deep_copy(desired);
    json_object_set_new(out, col, value && *value ? json_string(value) : json_null());
    return out;
}

typedef struct versions {
    char oldest[64]; /* the oldest non-default version */
    int count;
} versions;

static int count_version(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg,
                         cm_err *err)
{
    (void)region;
    (void)ctx, (void)err;
    versions *v = arg;
    char is_default[8], id[64];
    aws_xml_child_text(member, "IsDefaultVersion", is_default, sizeof is_default);
    aws_xml_child_text(member, "VersionId", id, sizeof id);
    v->count++;
    /* ids are v1, v2, ...: the oldest has the smallest number */
    if (strcmp(is_default, "true") != 0 && (!v->oldest[0] || atoi(id + 1) < atoi(v->oldest + 1)))
        snprintf(v->oldest, sizeof v->oldest, "%s", id);
    return 0;
}

static int policy_versions(mod_ctx *ctx, const char *arn, versions *v, cm_err *err)
{
    memset(v, 0, sizeof *v);
    return iam_list_marker(ctx, &policy_api, "ListPolicyVersions", "Versions",
                           json_pack("{s:s}", "PolicyArn", arn), count_version, v, err, arn);
}

static int policy_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                         cm_err *err)
{
    char arn[2048];
    int rc = policy_arn(ctx, desired, arn, sizeof arn, err);
    json_t *doc = json_object_get(desired, "policy_document");
    if (!rc && !json_equal(doc, json_object_get(known, "policy_document"))) {
        versions v;
        rc = policy_versions(ctx, arn, &v, err);
        if (!rc && v.count >= 5 && v.oldest[0])
            rc = iam_call(&policy_api, ctx, "DeletePolicyVersion",
                          json_pack("{s:s, s:s}", "PolicyArn", arn, "VersionId", v.oldest), NULL,
                          NULL, err, arn);
        char *text = rc ? NULL : cm_json_dump(doc);
        if (text)
            rc = iam_call(&policy_api, ctx, "CreatePolicyVersion",
                          json_pack("{s:s, s:s, s:s}", "PolicyArn", arn, "PolicyDocument", text,
                                    "SetAsDefault", "true"),
                          NULL, NULL, err, arn);
        free(text);
    }
    if (!rc)
        rc = iam_retag(ctx, &policy_kind, arn, json_object_get(known, "tags"),
                       json_object_get(desired, "tags"), err);
    if (!rc)
        *out = with_owned(desired, "arn", arn);
    return rc;
}

static int policy_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name = cm_json_str(desired, "policy_name");
    char *text = cm_json_dump(json_object_get(desired, "policy_document"));
    if (!name || !text) {
        free(text);
        return cm_err_set(err, CM_EINVAL, "iam_policy row lacks a policy_name or document");
    }
    json_t *p = iam_create_params(ctx, "PolicyName", name, desired);
    json_object_set_new(p, "PolicyDocument", json_string(text));
    free(text);
    if (cm_json_str(desired, "description"))
        json_object_set_new(p, "Description", json_string(cm_json_str(desired, "description")));
    xmlDocPtr doc;
    xmlNodePtr res;
    char arn[2048] = "";
    int rc = iam_call(&policy_api, ctx, "CreatePolicy", p, &doc, &res, err, name);
    if (rc && strcmp(err->cloud_code, "EntityAlreadyExists") == 0) {
        json_t *existing = NULL;
        cm_err_clear(err);
        rc = policy_read(ctx, desired, &existing, err);
        if (!rc)
            rc = policy_update(ctx, existing, desired, out, err);
        json_decref(existing);
        return rc;
    }
    if (rc)
        return rc;
    aws_xml_child_text(aws_xml_child(res, "Policy"), "Arn", arn, sizeof arn);
    xmlFreeDoc(doc);
    *out = with_owned(desired, "arn", arn);
    return 0;
}

static int delete_version(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg,
                          cm_err *err)
{
    (void)region;
    char is_default[8], id[64];
    aws_xml_child_text(member, "IsDefaultVersion", is_default, sizeof is_default);
    aws_xml_child_text(member, "VersionId", id, sizeof id);
    if (strcmp(is_default, "true") == 0)
        return 0;
    return iam_call(&policy_api, ctx, "DeletePolicyVersion",
                    json_pack("{s:s, s:s}", "PolicyArn", (const char *)arg, "VersionId", id), NULL,
                    NULL, err, arg);
}

/* IAM deletes a policy only without its other versions. */
static int strip_policy(mod_ctx *ctx, const char *arn, cm_err *err)
{
    return iam_list_marker(ctx, &policy_api, "ListPolicyVersions", "Versions",
                           json_pack("{s:s}", "PolicyArn", arn), delete_version, (void *)arn, err,
                           arn);
}

static int policy_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    char arn[2048];
    int rc = policy_arn(ctx, known, arn, sizeof arn, err);
    if (!rc)
        rc = iam_delete(ctx, &policy_kind, arn, strip_policy, err);
    if (rc && strcmp(err->cloud_code, "DeleteConflict") == 0)
        cm_err_wrap(err, "detach it from every role, user and group first");
    return rc;
}

/* ---------------------------------------------------------------- roles */

typedef struct role_parts {
    json_t *attached; /* array of ARNs */
    json_t *inline_names;
} role_parts;

static int collect_arn(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg, cm_err *err)
{
    (void)region;
    (void)ctx, (void)err;
    json_array_append_new(arg, aws_xml_json_child(member, "PolicyArn"));
    return 0;
}

static int collect_text(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg, cm_err *err)
{
    (void)region;
    (void)ctx, (void)err;
    json_array_append_new(arg, aws_xml_json_text(member));
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

static void sort_strings(json_t *arr)
{
    size_t n = json_array_size(arr);
    json_t **items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; items && i < n; i++)
        items[i] = json_incref(json_array_get(arr, i));
    if (items && n) {
        qsort(items, n, sizeof *items, cmp_str);
        json_array_clear(arr);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, items[i]);
    }
    free(items);
}

static bool in_array(const json_t *arr, const json_t *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (json_equal(x, v))
            return true;
    }
    return false;
}

int iam_get(mod_ctx *ctx, const iam_kind *k, const char *action, const char *element,
            const char *name, xmlDocPtr *doc, xmlNodePtr *elem, cm_err *err)
{
    xmlNodePtr res;
    int rc = iam_call(k->api, ctx, action, json_pack("{s:s}", k->name_param, name), doc, &res, err,
                      name);
    if (rc && iam_gone(err->cloud_code))
        return cm_err_set(err, CM_ENOTFOUND, "%s %s does not exist", k->api->noun, name);
    if (!rc)
        *elem = aws_xml_child(res, element);
    return rc;
}

int iam_attached(mod_ctx *ctx, const iam_kind *k, const char *name, json_t **out, cm_err *err)
{
    *out = json_array();
    int rc = iam_list_marker(ctx, k->api, k->list_attached, "AttachedPolicies",
                             json_pack("{s:s}", k->name_param, name), collect_arn, *out, err, name);
    sort_strings(*out);
    return rc;
}

int iam_attach_diff(mod_ctx *ctx, const iam_kind *k, const char *name, const json_t *known,
                    const json_t *desired, cm_err *err)
{
    int rc = 0;
    size_t i;
    json_t *v;
    json_array_foreach(desired, i, v)
    {
        if (!rc && !in_array(known, v))
            rc = iam_call(k->api, ctx, k->attach,
                          json_pack("{s:s, s:O}", k->name_param, name, "PolicyArn", v), NULL, NULL,
                          err, name);
    }
    json_array_foreach(known, i, v)
    {
        if (!rc && !in_array(desired, v)) {
            rc = iam_call(k->api, ctx, k->detach,
                          json_pack("{s:s, s:O}", k->name_param, name, "PolicyArn", v), NULL, NULL,
                          err, name);
            if (rc && iam_gone(err->cloud_code)) { /* detached already */
                cm_err_clear(err);
                rc = 0;
            }
        }
    }
    return rc;
}

int iam_retag(mod_ctx *ctx, const iam_kind *k, const char *name, const json_t *known,
              const json_t *desired, cm_err *err)
{
    return mod_query_tags(ctx, k->api, IAM_REGION, k->tag, k->untag, k->name_param, name, known,
                          desired, err);
}

int iam_delete(mod_ctx *ctx, const iam_kind *k, const char *name,
               int (*strip)(mod_ctx *ctx, const char *name, cm_err *err), cm_err *err)
{
    int rc = strip ? strip(ctx, name, err) : 0;
    /* A NoSuchEntity while stripping names the resource or one of its parts
     * gone: only the delete itself tells which (gone, or refused while
     * something is still attached). */
    if (rc && iam_gone(err->cloud_code)) {
        cm_err_clear(err);
        rc = 0;
    }
    if (!rc)
        rc = iam_call(k->api, ctx, k->drop, json_pack("{s:s}", k->name_param, name), NULL, NULL,
                      err, name);
    if (rc && iam_gone(err->cloud_code)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

int iam_adopt(mod_ctx *ctx, const char *name,
              int (*row)(mod_ctx *ctx, const char *name, json_t **out, cm_err *err),
              int (*update)(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                            cm_err *err),
              const json_t *desired, json_t **out, cm_err *err)
{
    json_t *existing = NULL;
    cm_err_clear(err);
    int rc = row(ctx, name, &existing, err);
    if (!rc)
        rc = update(ctx, existing, desired, out, err);
    json_decref(existing);
    return rc;
}

json_t *iam_create_params(const mod_ctx *ctx, const char *name_param, const char *name,
                          const json_t *desired)
{
    const char *path = cm_json_str(desired, "path");
    json_t *p = json_pack("{s:s, s:s}", name_param, name, "Path", path ? path : "/");
    json_t *owned = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    mod_query_put_map(p, "Tags.member", "Key", "Value", owned);
    json_decref(owned);
    return p;
}

json_t *iam_image(const json_t *desired, const json_t *from, const char *id_col)
{
    json_t *out = json_deep_copy(desired);
    json_object_set(out, "arn", json_object_get(from, "arn"));
    json_object_set(out, id_col, json_object_get(from, id_col));
    return out;
}

/* The role's attached policy ARNs (sorted) and inline policy names. */
static int role_parts_read(mod_ctx *ctx, const char *name, role_parts *rp, cm_err *err)
{
    rp->inline_names = json_array();
    int rc = iam_attached(ctx, &role_kind, name, &rp->attached, err);
    if (!rc)
        rc = iam_list_marker(ctx, &role_api, "ListRolePolicies", "PolicyNames",
                             json_pack("{s:s}", "RoleName", name), collect_text, rp->inline_names,
                             err, name);
    return rc;
}

static void role_parts_free(role_parts *rp)
{
    json_decref(rp->attached);
    json_decref(rp->inline_names);
}

/* What a Role element (of GetRole, or of ListRoles) says of a role: all but
 * its tags and policies. */
static json_t *role_base(xmlNodePtr role, const char *name)
{
    char dur[32];
    aws_xml_child_text(role, "MaxSessionDuration", dur, sizeof dur);
    json_t *row = json_pack(
        "{s:s, s:o, s:o, s:I, s:o, s:o, s:o}", "role_name", name, "path",
        aws_xml_json_child(role, "Path"), "description", aws_xml_json_child(role, "Description"),
        "max_session_duration", (json_int_t)(dur[0] ? atoll(dur) : 3600),
        "assume_role_policy_document", document(aws_xml_child(role, "AssumeRolePolicyDocument")),
        "arn", aws_xml_json_child(role, "Arn"), "role_id", aws_xml_json_child(role, "RoleId"));
    json_t *desc = json_object_get(row, "description");
    if (json_is_string(desc) && !*json_string_value(desc))
        json_object_set_new(row, "description", json_null());
    return row;
}

/* A role's row image from its GetRole answer plus its policies. */
static int role_row(mod_ctx *ctx, const char *name, json_t **out, cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr res, role;
    int rc = iam_get(ctx, &role_kind, "GetRole", "Role", name, &doc, &role, err);
    if (rc)
        return rc;
    json_t *row = role_base(role, name);
    json_object_set_new(row, "tags", iam_tags_of(aws_xml_child(role, "Tags")));
    mod_take_owner(row);
    xmlFreeDoc(doc);
    role_parts rp;
    rc = role_parts_read(ctx, name, &rp, err);
    json_t *inl = json_object();
    size_t i;
    json_t *pn;
    json_array_foreach(rc ? NULL : rp.inline_names, i, pn)
    {
        if (rc)
            break;
        rc = iam_call(&role_api, ctx, "GetRolePolicy",
                      json_pack("{s:s, s:O}", "RoleName", name, "PolicyName", pn), &doc, &res, err,
                      name);
        if (!rc) {
            json_object_set_new(inl, json_string_value(pn),
                                document(aws_xml_child(res, "PolicyDocument")));
            xmlFreeDoc(doc);
        }
    }
    json_object_set(row, "attached_policy_arns", rp.attached);
    json_object_set_new(row, "inline_policies", inl);
    role_parts_free(&rp);
    if (rc) {
        json_decref(row);
        return rc;
    }
    *out = row;
    return 0;
}

static int collect_role(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg, cm_err *err)
{
    (void)region;
    char name[256], path[600];
    aws_xml_child_text(member, "RoleName", name, sizeof name);
    aws_xml_child_text(member, "Path", path, sizeof path);
    /* AWS's service-linked roles are AWS's to manage. */
    if (!name[0] || strncmp(path, "/aws-service-role/", 18) == 0)
        return 0;
    /* A known role in the rotation's off turn: ListRoles' own entry (its
     * tags and policies keep their known values). */
    if (mod_deep_known(ctx, "", name) && !mod_deep_wanted(ctx, "", name)) {
        json_t *row = role_base(member, name);
        json_object_set_new(row, MOD_PARTIAL_KEY, json_true());
        json_array_append_new(arg, row);
        return 0;
    }
    json_t *row = NULL;
    int rc = role_row(ctx, name, &row, err);
    return mod_keep_found(arg, rc, row, err);
}

static int role_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                     cm_err *err)
{
    (void)regions, (void)nregions; /* global */
    return iam_list_all(ctx, &role_api, "ListRoles", "Roles", json_object(), collect_role, out,
                        err);
}

static int role_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name = cm_json_str(image, "role_name");
    if (!name)
        return cm_err_set(err, CM_EINVAL, "iam_role row lacks a role_name");
    return role_row(ctx, name, out, err);
}

/* Managed policies attached and detached, inline policies put and deleted,
 * from known (NULL: nothing) to desired. */
static int role_policies(mod_ctx *ctx, const char *name, const json_t *known, const json_t *desired,
                         cm_err *err)
{
    int rc = iam_attach_diff(ctx, &role_kind, name, json_object_get(known, "attached_policy_arns"),
                             json_object_get(desired, "attached_policy_arns"), err);
    json_t *v;
    const json_t *kin = json_object_get(known, "inline_policies"),
                 *din = json_object_get(desired, "inline_policies");
    const char *k;
    json_object_foreach((json_t *)din, k, v)
    {
        if (rc || json_equal(v, json_object_get(kin, k)))
            continue;
        char *text = cm_json_dump(v);
        rc = iam_call(
            &role_api, ctx, "PutRolePolicy",
            json_pack("{s:s, s:s, s:s}", "RoleName", name, "PolicyName", k, "PolicyDocument", text),
            NULL, NULL, err, name);
        free(text);
    }
    json_object_foreach((json_t *)kin, k, v)
    {
        if (!rc && !json_object_get(din, k))
            rc = iam_call(&role_api, ctx, "DeleteRolePolicy",
                          json_pack("{s:s, s:s}", "RoleName", name, "PolicyName", k), NULL, NULL,
                          err, name);
    }
    return rc;
}

/* Detaches every managed policy and deletes every inline policy the role
 * has in the cloud. */
static int strip_role(mod_ctx *ctx, const char *name, cm_err *err)
{
    role_parts rp;
    int rc = role_parts_read(ctx, name, &rp, err);
    if (!rc) {
        json_t *cloud =
            json_pack("{s:O, s:{}}", "attached_policy_arns", rp.attached, "inline_policies");
        size_t i;
        json_t *n;
        json_array_foreach(rp.inline_names, i, n) json_object_set_new(
            json_object_get(cloud, "inline_policies"), json_string_value(n), json_object());
        json_t *bare = json_pack("{s:[], s:{}}", "attached_policy_arns", "inline_policies");
        rc = role_policies(ctx, name, cloud, bare, err);
        json_decref(cloud);
        json_decref(bare);
    }
    role_parts_free(&rp);
    return rc;
}

static int role_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                       cm_err *err)
{
    const char *name = cm_json_str(desired, "role_name");
    if (!name)
        return cm_err_set(err, CM_EINVAL, "iam_role row lacks a role_name");
    int rc = 0;
    json_t *desc = json_object_get(desired, "description"),
           *dur = json_object_get(desired, "max_session_duration");
    if (!json_equal(desc, json_object_get(known, "description")) ||
        !json_equal(dur, json_object_get(known, "max_session_duration"))) {
        json_t *p = json_pack("{s:s, s:s}", "RoleName", name, "Description",
                              json_is_string(desc) ? json_string_value(desc) : "");
        if (json_is_integer(dur))
            json_object_set(p, "MaxSessionDuration", dur);
        rc = iam_call(&role_api, ctx, "UpdateRole", p, NULL, NULL, err, name);
    }
    json_t *trust = json_object_get(desired, "assume_role_policy_document");
    if (!rc && !json_equal(trust, json_object_get(known, "assume_role_policy_document"))) {
        char *text = cm_json_dump(trust);
        rc = iam_call(
            &role_api, ctx, "UpdateAssumeRolePolicy",
            json_pack("{s:s, s:s}", "RoleName", name, "PolicyDocument", text ? text : "{}"), NULL,
            NULL, err, name);
        free(text);
    }
    if (!rc)
        rc = role_policies(ctx, name, known, desired, err);
    if (!rc)
        rc = iam_retag(ctx, &role_kind, name, json_object_get(known, "tags"),
                       json_object_get(desired, "tags"), err);
    if (!rc)
        *out = iam_image(desired, known, "role_id");
    return rc;
}

static int role_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name = cm_json_str(desired, "role_name");
    char *trust = cm_json_dump(json_object_get(desired, "assume_role_policy_document"));
    if (!name || !trust) {
        free(trust);
        return cm_err_set(err, CM_EINVAL, "iam_role row lacks a role_name or trust document");
    }
    json_t *p = iam_create_params(ctx, "RoleName", name, desired);
    json_object_set_new(p, "AssumeRolePolicyDocument", json_string(trust));
    free(trust);
    if (cm_json_str(desired, "description"))
        json_object_set_new(p, "Description", json_string(cm_json_str(desired, "description")));
    json_t *dur = json_object_get(desired, "max_session_duration");
    if (json_is_integer(dur))
        json_object_set(p, "MaxSessionDuration", dur);
    xmlDocPtr doc;
    xmlNodePtr res;
    int rc = iam_call(&role_api, ctx, "CreateRole", p, &doc, &res, err, name);
    if (rc && strcmp(err->cloud_code, "EntityAlreadyExists") == 0)
        return iam_adopt(ctx, name, role_row, role_update, desired, out, err);
    if (rc)
        return rc;
    xmlNodePtr role = aws_xml_child(res, "Role");
    json_t *from = json_pack("{s:o, s:o}", "arn", aws_xml_json_child(role, "Arn"), "role_id",
                             aws_xml_json_child(role, "RoleId"));
    xmlFreeDoc(doc);
    rc = role_policies(ctx, name, NULL, desired, err);
    if (rc) { /* half made: gone again, so that the next commit starts clean */
        cm_err e2 = {0};
        iam_delete(ctx, &role_kind, name, strip_role, &e2);
        json_decref(from);
        return rc;
    }
    *out = iam_image(desired, from, "role_id");
    json_decref(from);
    return 0;
}

static int collect_profile(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg,
                           cm_err *err)
{
    (void)region;
    (void)ctx, (void)err;
    json_array_append_new(arg, aws_xml_json_child(member, "InstanceProfileName"));
    return 0;
}

static int role_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name = cm_json_str(known, "role_name");
    if (!name)
        return cm_err_set(err, CM_EINVAL, "iam_role row lacks a role_name");
    /* A role in an instance profile cannot go: say so before anything is
     * detached. */
    json_t *profiles = json_array();
    int rc =
        iam_list_marker(ctx, &role_api, "ListInstanceProfilesForRole", "InstanceProfiles",
                        json_pack("{s:s}", "RoleName", name), collect_profile, profiles, err, name);
    if (rc && iam_gone(err->cloud_code)) {
        json_decref(profiles);
        cm_err_clear(err);
        return 0;
    }
    if (!rc && json_array_size(profiles)) {
        char *list = cm_json_dump(profiles);
        rc = cm_err_set(err, CM_ECLOUD,
                        "DeleteConflict: IAM role %s is in instance profile %s: remove it from "
                        "there first",
                        name, list ? list : "?");
        free(list);
    }
    json_decref(profiles);
    if (rc)
        return rc;
    /* IAM deletes a role only without policies: detach what the cloud has. */
    return iam_delete(ctx, &role_kind, name, strip_role, err);
}

static const mod_table_ops policy_ops = {
    .list = policy_list,
    .read = policy_read,
    .create = policy_create,
    .update = policy_update,
    .remove = policy_remove,
};

static const mod_column policy_columns[] = {
    {"policy_name", MOD_COL_CLOUD_ID},
    {"path", MOD_COL_CLOUD_ID},
    {"description", MOD_COL_IMMUTABLE},
    {"policy_document", 0},
    {"tags", 0},
    {"arn", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

static const mod_table_ops role_ops = {
    .list = role_list,
    .read = role_read,
    .create = role_create,
    .update = role_update,
    .remove = role_remove,
};

static const mod_column role_columns[] = {
    {"role_name", MOD_COL_CLOUD_ID},
    {"path", MOD_COL_CLOUD_ID},
    {"description", 0},
    {"max_session_duration", 0},
    {"assume_role_policy_document", 0},
    {"attached_policy_arns", 0},
    {"inline_policies", 0},
    {"tags", 0},
    {"arn", MOD_COL_CLOUD_OWNED},
    {"role_id", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

/* What only GetPolicy, GetPolicyVersion and ListPolicyTags return: it
 * follows the rotation. */
static const char *const policy_deep[] = {"description", "policy_document", "tags", NULL};
static const mod_table policy_table = {"iam_policy", policy_columns, &policy_ops,
                                       .deep = policy_deep};
/* What only a read per role returns (ListRoles leaves out tags; the
 * policies are lists of their own): it follows the rotation. */
static const char *const role_deep[] = {"attached_policy_arns", "inline_policies", "tags", NULL};
static const mod_table role_table = {"iam_role", role_columns, &role_ops, .deep = role_deep};
/* Policies first: a role may attach a policy created in the same commit. */
static const mod_table *const iam_tables[] = {&policy_table, &role_table, &iam_user_table,
                                              &iam_profile_table, NULL};
static const char *const iam_deps[] = {"aws_account", NULL};

const mod_module mod_aws_iam = {
    .name = "aws_iam",
    .version = IASQL_VERSION,
    .deps = iam_deps,
    .install_sql = iasql_sql_aws_iam,
    .uninstall_sql = "DROP FUNCTION IF EXISTS iam_inline_policies_valid(jsonb);\n"
                     "DROP FUNCTION IF EXISTS iam_path_valid(text);\n"
                     "DROP FUNCTION IF EXISTS iam_name_valid(text, integer);",
    .tables = iam_tables,
};
