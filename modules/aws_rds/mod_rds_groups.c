/* modules/aws_rds/mod_rds_groups.c — what the RDS tables share, and tables
 * db_subnet_group and parameter_group of module aws_rds.
 *   - db_subnet_group: description and subnets change in place
 *     (ModifyDBSubnetGroup); a new name replaces. A listing is a
 *     DescribeDBSubnetGroups page per 100 groups; their tags, which it
 *     does not carry, are a ListTagsForResource each, read in a group's
 *     turn of the poller's rotation (docs/poll.md).
 *   - parameter_group: the parameters a user set change in place
 *     (ModifyDBParameterGroup, and ResetDBParameterGroup for one no longer
 *     set), 20 a call; family and description are fixed at creation, so a
 *     change replaces. A listing is a DescribeDBParameterGroups page per
 *     100 groups (RDS's own default.* groups left out); each group's
 *     parameters (DescribeDBParameters, Source user) and tags are read in
 *     its turn of the rotation.
 * RDS takes no idempotency token: a create that finds its name taken
 * brings that group to the row, unless another iasql database made it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/aws_rds/mod_rds.h"

const mod_query_service rds_api = {RDS_SERVICE, RDS_VERSION, "RDS resource"};
static const mod_query_service subnet_api = {RDS_SERVICE, RDS_VERSION, "DB subnet group"};
static const mod_query_service pg_api = {RDS_SERVICE, RDS_VERSION, "DB parameter group"};

static const mod_query_pager subnet_pages = {"DescribeDBSubnetGroups", "Marker", "Marker",
                                             "DBSubnetGroups",         NULL,     "DBSubnetGroup"};
static const mod_query_pager pg_pages = {"DescribeDBParameterGroups", "Marker", "Marker",
                                         "DBParameterGroups",         NULL,     "DBParameterGroup"};
static const mod_query_pager param_pages = {"DescribeDBParameters", "Marker", "Marker",
                                            "Parameters",           NULL,     "Parameter"};

/* ModifyDBParameterGroup and ResetDBParameterGroup take 20 parameters a call. */
#define PARAMS_PER_CALL 20

/* ---- shared ---- */

const char *rds_str(const json_t *img, const char *col)
{
    const char *s = json_string_value(json_object_get(img, col));
    return s ? s : "";
}

bool rds_differs(const json_t *known, const json_t *desired, const char *col)
{
    const json_t *a = json_object_get(known, col), *b = json_object_get(desired, col);
    return !json_equal(a ? a : json_null(), b ? b : json_null());
}

json_t *rds_xml_int(xmlNodePtr n, const char *name)
{
    char buf[32];
    if (!aws_xml_child_text(n, name, buf, sizeof buf) || !buf[0])
        return json_null();
    return json_integer(strtoll(buf, NULL, 10));
}

json_t *rds_xml_bool(xmlNodePtr n, const char *name)
{
    char buf[8];
    aws_xml_child_text(n, name, buf, sizeof buf);
    return json_boolean(strcmp(buf, "true") == 0);
}

json_t *rds_xml_str(xmlNodePtr n, const char *name)
{
    json_t *v = aws_xml_json_child(n, name);
    if (json_is_string(v) && !*json_string_value(v)) {
        json_decref(v);
        return json_null();
    }
    return v;
}

json_t *rds_xml_tags(xmlNodePtr n)
{
    json_t *all = mod_xml_map(aws_xml_child(n, "TagList"), "Tag", "Key", "Value");
    json_t *tags = mod_tags_from_object(all);
    json_decref(all);
    return tags;
}

void rds_put_list(json_t *params, const char *prefix, const json_t *arr)
{
    mod_query_put_list(params, prefix, arr);
}

void rds_put_tags(mod_ctx *ctx, json_t *params, const json_t *tags)
{
    json_t *owned = mod_tags_owned(ctx, tags);
    mod_query_put_map(params, "Tags.Tag", "Key", "Value", owned);
    json_decref(owned);
}

int rds_retag(mod_ctx *ctx, const char *region, const char *arn, const json_t *known,
              const json_t *desired, cm_err *err)
{
    json_t *set, *drop;
    mod_tags_diff(known, desired, &set, &drop);
    int rc = 0;
    if (json_object_size(set)) {
        json_t *p = json_pack("{s:s}", "ResourceName", arn);
        mod_query_put_map(p, "Tags.Tag", "Key", "Value", set);
        rc = mod_query_op(ctx, &rds_api, region, "AddTagsToResource", p, NULL, NULL, err, arn);
    }
    if (!rc && json_array_size(drop)) {
        json_t *p = json_pack("{s:s}", "ResourceName", arn);
        mod_query_put_list(p, "TagKeys.member", drop);
        rc = mod_query_op(ctx, &rds_api, region, "RemoveTagsFromResource", p, NULL, NULL, err, arn);
    }
    json_decref(set);
    json_decref(drop);
    return rc;
}

int rds_list_tags(mod_ctx *ctx, const char *region, const char *arn, json_t **out, cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr res;
    int rc = mod_query_op(ctx, &rds_api, region, "ListTagsForResource",
                          json_pack("{s:s}", "ResourceName", arn), &doc, &res, err, arn);
    if (rc)
        return rc;
    *out = rds_xml_tags(res);
    xmlFreeDoc(doc);
    return 0;
}

int rds_adopt_tags(mod_ctx *ctx, const char *noun, const char *name, const char *region,
                   const char *arn, const json_t *had, const json_t *desired, cm_err *err)
{
    const char *theirs = rds_str(had, MOD_OWNER_KEY), *mine = mod_ctx_owner(ctx);
    if (*theirs && mine && strcmp(theirs, mine) != 0)
        return cm_err_set(err, CM_EEXISTS,
                          "%s %s exists in %s and another iasql database made it Detail: it is "
                          "tagged " MOD_OWNER_TAG "=%s. Hint: Give the row another name, or "
                          "manage it from that database.",
                          noun, name, region, theirs);
    json_t *was = json_deep_copy(json_object_get(had, "tags"));
    if (!was)
        was = json_object();
    if (*theirs)
        json_object_set_new(was, MOD_OWNER_TAG, json_string(theirs));
    json_t *want = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    int rc = rds_retag(ctx, region, arn, was, want, err);
    json_decref(was);
    json_decref(want);
    return rc;
}

json_t *rds_with_owned(const json_t *desired, const json_t *cloud, const char *const *owned)
{
    json_t *out = json_deep_copy(desired);
    for (int i = 0; owned[i]; i++) {
        json_t *v = json_object_get(cloud, owned[i]);
        json_object_set(out, owned[i], v ? v : json_null());
    }
    return out;
}

bool rds_gone(const cm_err *err)
{
    return strstr(err->cloud_code, "NotFound") != NULL;
}

/* The deep columns of one group (tags, and for a parameter group its
 * parameters) into row, read now, or the row marked partial when the
 * poller's rotation leaves them for another turn. */
typedef int (*deep_fn)(mod_ctx *ctx, const char *region, json_t *row, cm_err *err);

static int deep_or_partial(mod_ctx *ctx, const char *region, json_t *row, deep_fn fn, cm_err *err)
{
    if (!mod_deep_wanted(ctx, region, rds_str(row, "name"))) {
        /* what it leaves out the poller keeps from the known state */
        json_object_del(row, "tags");
        json_object_del(row, "parameters");
        json_object_set_new(row, MOD_PARTIAL_KEY, json_true());
        return 0;
    }
    return fn(ctx, region, row, err);
}

static int tags_into(mod_ctx *ctx, const char *region, json_t *row, cm_err *err)
{
    json_t *tags = NULL;
    int rc = rds_list_tags(ctx, region, rds_str(row, "arn"), &tags, err);
    if (rc && rds_gone(err)) /* deleted since the listing */
        return cm_err_set(err, CM_ENOTFOUND, "%s is gone", rds_str(row, "arn"));
    if (rc)
        return rc;
    json_object_set_new(row, "tags", tags);
    mod_take_owner(row);
    return 0;
}

/* What the two group tables' Describe* differ by: the API (its noun names
 * a group in messages), the pager and the parameter that names one, the
 * read of the deep columns, and a group's row (NULL: not one of the
 * table's). */
typedef struct group_kind {
    const mod_query_service *api;
    const mod_query_pager *pages;
    const char *name_param;
    deep_fn deep;
    json_t *(*row)(const char *region, xmlNodePtr m);
} group_kind;

typedef struct group_list {
    const group_kind *kind;
    json_t *rows;
    const char *exact; /* read: the one name wanted */
} group_list;

static int group_member(mod_ctx *ctx, const char *region, xmlNodePtr m, void *arg, cm_err *err)
{
    group_list *g = arg;
    json_t *row = g->kind->row(region, m);
    if (!row || (g->exact && strcmp(rds_str(row, "name"), g->exact) != 0)) {
        json_decref(row);
        return 0;
    }
    int rc = g->exact ? g->kind->deep(ctx, region, row, err)
                      : deep_or_partial(ctx, region, row, g->kind->deep, err);
    return mod_keep_found(g->rows, rc, row, err);
}

/* The Describe* of region (all, or the one named), each group with its
 * deep columns (in its turn when all). */
static int group_describe(mod_ctx *ctx, const group_kind *k, const char *region, const char *name,
                          json_t **out, cm_err *err)
{
    group_list g = {k, json_array(), name};
    json_t *p = json_pack("{s:i}", "MaxRecords", RDS_PAGE);
    if (name)
        json_object_set_new(p, k->name_param, json_string(name));
    int rc = mod_query_each(ctx, k->api, k->pages, region, p, group_member, &g,
                            name ? name : "(all)", err);
    if ((rc && name && rds_gone(err)) || (!rc && name && json_array_size(g.rows) == 0))
        rc =
            cm_err_set(err, CM_ENOTFOUND, "%s %s does not exist in %s", k->api->noun, name, region);
    if (rc) {
        json_decref(g.rows);
        return rc;
    }
    *out = name ? json_incref(json_array_get(g.rows, 0)) : json_incref(g.rows);
    json_decref(g.rows);
    return 0;
}

/* Every group of region appended to rows. */
static int group_region(mod_ctx *ctx, const group_kind *k, const char *region, json_t *rows,
                        cm_err *err)
{
    json_t *mine = NULL;
    int rc = group_describe(ctx, k, region, NULL, &mine, err);
    if (!rc)
        json_array_extend(rows, mine);
    json_decref(mine);
    return rc;
}

/* ---- db_subnet_group ---- */

static const char *const subnet_owned[] = {"arn", "vpc", NULL};

static json_t *subnet_row(const char *region, xmlNodePtr m)
{
    return json_pack(
        "{s:o, s:o, s:o, s:s, s:o, s:o, s:o}", "name", rds_xml_str(m, "DBSubnetGroupName"),
        "description", aws_xml_json_child(m, "DBSubnetGroupDescription"), "subnets",
        mod_xml_set(m, "Subnets", "Subnet", "SubnetIdentifier"), "region", region, "tags",
        json_object(), "arn", rds_xml_str(m, "DBSubnetGroupArn"), "vpc", rds_xml_str(m, "VpcId"));
}

/* A subnet group's deep columns are its tags. */
static const group_kind subnet_kind = {&subnet_api, &subnet_pages, "DBSubnetGroupName", tags_into,
                                       subnet_row};

static int subnet_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    return group_region(ctx, &subnet_kind, region, rows, err);
}

static int subnet_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out,
                       cm_err *err)
{
    return mod_list_regions(ctx, regions, n, subnet_region, out, err);
}

static int subnet_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "db_subnet_group", "name", name, region, err);
}

static int subnet_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = subnet_names(image, &name, &region, err);
    return rc ? rc : group_describe(ctx, &subnet_kind, region, name, out, err);
}

static int subnet_modify(mod_ctx *ctx, const char *region, const json_t *known,
                         const json_t *desired, cm_err *err)
{
    if (!rds_differs(known, desired, "description") &&
        json_equal(json_object_get(known, "subnets"), json_object_get(desired, "subnets")))
        return 0;
    const char *name = rds_str(desired, "name");
    json_t *p = json_pack("{s:s, s:s}", "DBSubnetGroupName", name, "DBSubnetGroupDescription",
                          rds_str(desired, "description"));
    rds_put_list(p, "SubnetIds.SubnetIdentifier", json_object_get(desired, "subnets"));
    return mod_query_op(ctx, &subnet_api, region, "ModifyDBSubnetGroup", p, NULL, NULL, err, name);
}

static int subnet_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = subnet_names(desired, &name, &region, err);
    if (rc)
        return rc;
    json_t *p = json_pack("{s:s, s:s}", "DBSubnetGroupName", name, "DBSubnetGroupDescription",
                          rds_str(desired, "description"));
    rds_put_list(p, "SubnetIds.SubnetIdentifier", json_object_get(desired, "subnets"));
    rds_put_tags(ctx, p, json_object_get(desired, "tags"));
    xmlDocPtr doc;
    xmlNodePtr res;
    rc = mod_query_op(ctx, &subnet_api, region, "CreateDBSubnetGroup", p, &doc, &res, err, name);
    if (rc && strstr(err->cloud_code, "AlreadyExists")) {
        /* made by an earlier, interrupted attempt, or outside */
        cm_err_clear(err);
        json_t *found = NULL;
        rc = group_describe(ctx, &subnet_kind, region, name, &found, err);
        if (!rc)
            rc = rds_adopt_tags(ctx, "DB subnet group", name, region, rds_str(found, "arn"), found,
                                desired, err);
        if (!rc)
            rc = subnet_modify(ctx, region, found, desired, err);
        if (!rc)
            *out = rds_with_owned(desired, found, subnet_owned);
        json_decref(found);
        return rc;
    }
    if (rc)
        return rc;
    json_t *made = subnet_row(region, aws_xml_child(res, "DBSubnetGroup"));
    xmlFreeDoc(doc);
    if (!*rds_str(made, "arn")) {
        json_decref(made);
        return cm_err_set(err, CM_EBADREPLY, "CreateDBSubnetGroup for %s: no ARN", name);
    }
    *out = rds_with_owned(desired, made, subnet_owned);
    json_decref(made);
    return 0;
}

static int subnet_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                         cm_err *err)
{
    const char *name, *region;
    int rc = subnet_names(desired, &name, &region, err);
    if (!rc)
        rc = subnet_modify(ctx, region, known, desired, err);
    if (!rc)
        rc = rds_retag(ctx, region, rds_str(known, "arn"), json_object_get(known, "tags"),
                       json_object_get(desired, "tags"), err);
    if (!rc)
        *out = rds_with_owned(desired, known, subnet_owned);
    return rc;
}

static int subnet_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name, *region;
    int rc = subnet_names(known, &name, &region, err);
    if (!rc)
        rc = mod_query_op(ctx, &subnet_api, region, "DeleteDBSubnetGroup",
                          json_pack("{s:s}", "DBSubnetGroupName", name), NULL, NULL, err, name);
    if (rc && rds_gone(err)) {
        cm_err_clear(err);
        return 0;
    }
    if (rc && strstr(err->cloud_code, "InvalidDBSubnetGroupState"))
        return cm_err_set(err, CM_ECLOUD,
                          "DB subnet group %s is in use Detail: a DB instance or cluster in it "
                          "is not yet gone. Hint: Delete or move what uses it first.",
                          name);
    return rc;
}

/* ---- parameter_group ---- */

static const char *const pg_owned[] = {"arn", NULL};

static json_t *pg_row(const char *region, xmlNodePtr m)
{
    char name[300];
    aws_xml_child_text(m, "DBParameterGroupName", name, sizeof name);
    if (strncmp(name, "default.", 8) == 0)
        return NULL; /* RDS's own: read-only, and what a NULL parameter group means */
    return json_pack("{s:s, s:o, s:o, s:o, s:s, s:o, s:o}", "name", name, "family",
                     aws_xml_json_child(m, "DBParameterGroupFamily"), "description",
                     aws_xml_json_child(m, "Description"), "parameters", json_object(), "region",
                     region, "tags", json_object(), "arn", rds_xml_str(m, "DBParameterGroupArn"));
}

static int param_member(mod_ctx *ctx, const char *region, xmlNodePtr m, void *arg, cm_err *err)
{
    (void)ctx, (void)region, (void)err;
    char name[300], source[32] = "";
    aws_xml_child_text(m, "ParameterName", name, sizeof name);
    /* Source user only (an emulator may leave Source out); a reset one
     * has no value */
    bool has_source = aws_xml_child_text(m, "Source", source, sizeof source);
    json_t *v = aws_xml_json_child(m, "ParameterValue");
    if (name[0] && json_is_string(v) && (!has_source || strcmp(source, "user") == 0))
        json_object_set_new(arg, name, v);
    else
        json_decref(v);
    return 0;
}

/* The parameters a user set in a group, and its tags. */
static int pg_deep(mod_ctx *ctx, const char *region, json_t *row, cm_err *err)
{
    json_t *params = json_object();
    const char *name = rds_str(row, "name");
    int rc = mod_query_each(ctx, &pg_api, &param_pages, region,
                            json_pack("{s:s, s:s, s:i}", "DBParameterGroupName", name, "Source",
                                      "user", "MaxRecords", RDS_PAGE),
                            param_member, params, name, err);
    if (rc && rds_gone(err)) /* deleted since the listing */
        rc = cm_err_set(err, CM_ENOTFOUND, "DB parameter group %s is gone", name);
    if (!rc)
        json_object_set(row, "parameters", params);
    json_decref(params);
    return rc ? rc : tags_into(ctx, region, row, err);
}

static const group_kind pg_kind = {&pg_api, &pg_pages, "DBParameterGroupName", pg_deep, pg_row};

static int pg_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    return group_region(ctx, &pg_kind, region, rows, err);
}

static int pg_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    return mod_list_regions(ctx, regions, n, pg_region, out, err);
}

static int pg_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "parameter_group", "name", name, region, err);
}

static int pg_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = pg_names(image, &name, &region, err);
    return rc ? rc : group_describe(ctx, &pg_kind, region, name, out, err);
}

/* An apply method RDS refused for a parameter: a static one takes only
 * pending-reboot. */
static bool wrong_apply_method(const cm_err *err)
{
    return strcmp(err->cloud_code, "InvalidParameterCombination") == 0 ||
           strcmp(err->cloud_code, "InvalidParameterValue") == 0;
}

/* One ModifyDBParameterGroup or ResetDBParameterGroup of the names in
 * names[from, to) (values from values when setting) with method. */
static int params_call(mod_ctx *ctx, const char *region, const char *group, const char *action,
                       const json_t *names, size_t from, size_t to, const json_t *values,
                       const char *method, cm_err *err)
{
    json_t *p = json_pack("{s:s}", "DBParameterGroupName", group);
    char key[96];
    for (size_t i = from; i < to; i++) {
        const char *n = json_string_value(json_array_get(names, i));
        size_t k = i - from + 1;
        snprintf(key, sizeof key, "Parameters.Parameter.%zu.ParameterName", k);
        json_object_set_new(p, key, json_string(n));
        if (values) {
            snprintf(key, sizeof key, "Parameters.Parameter.%zu.ParameterValue", k);
            json_object_set(p, key, json_object_get(values, n));
        }
        snprintf(key, sizeof key, "Parameters.Parameter.%zu.ApplyMethod", k);
        json_object_set_new(p, key, json_string(method));
    }
    return mod_query_op(ctx, &pg_api, region, action, p, NULL, NULL, err, group);
}

/* The parameters named, PARAMS_PER_CALL a call, each at once where it can
 * be: a batch RDS refuses (a static parameter in it) goes again one by
 * one, and a static one with pending-reboot (it takes effect at the
 * instances' next reboot). */
static int params_apply(mod_ctx *ctx, const char *region, const char *group, const char *action,
                        const json_t *names, const json_t *values, cm_err *err)
{
    int rc = 0;
    for (size_t at = 0; !rc && at < json_array_size(names); at += PARAMS_PER_CALL) {
        size_t to = at + PARAMS_PER_CALL < json_array_size(names) ? at + PARAMS_PER_CALL
                                                                  : json_array_size(names);
        rc = params_call(ctx, region, group, action, names, at, to, values, "immediate", err);
        if (!rc || !wrong_apply_method(err))
            continue;
        cm_err_clear(err);
        rc = 0;
        for (size_t i = at; !rc && i < to; i++) {
            /* a batch of one was that parameter alone */
            rc = to - at == 1 ? CM_ECLOUD
                              : params_call(ctx, region, group, action, names, i, i + 1, values,
                                            "immediate", err);
            if (rc && (to - at == 1 || wrong_apply_method(err))) {
                cm_err_clear(err);
                rc = params_call(ctx, region, group, action, names, i, i + 1, values,
                                 "pending-reboot", err);
            }
        }
    }
    return rc;
}

/* Parameters from known to desired: those set or changed, then those no
 * longer set (back to the family's default). */
static int pg_converge(mod_ctx *ctx, const char *region, const char *group, const json_t *known,
                       const json_t *desired, cm_err *err)
{
    const json_t *had = json_object_get(known, "parameters"),
                 *want = json_object_get(desired, "parameters");
    json_t *set = json_array(), *reset = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)want, k, v)
    {
        if (!json_equal(v, json_object_get(had, k)))
            json_array_append_new(set, json_string(k));
    }
    json_object_foreach((json_t *)had, k, v)
    {
        if (!json_object_get(want, k))
            json_array_append_new(reset, json_string(k));
    }
    int rc = params_apply(ctx, region, group, "ModifyDBParameterGroup", set, want, err);
    if (!rc)
        rc = params_apply(ctx, region, group, "ResetDBParameterGroup", reset, NULL, err);
    json_decref(set);
    json_decref(reset);
    return rc;
}

static int pg_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = pg_names(desired, &name, &region, err);
    if (rc)
        return rc;
    json_t *p =
        json_pack("{s:s, s:s, s:s}", "DBParameterGroupName", name, "DBParameterGroupFamily",
                  rds_str(desired, "family"), "Description", rds_str(desired, "description"));
    rds_put_tags(ctx, p, json_object_get(desired, "tags"));
    xmlDocPtr doc;
    xmlNodePtr res;
    json_t *had = NULL;
    rc = mod_query_op(ctx, &pg_api, region, "CreateDBParameterGroup", p, &doc, &res, err, name);
    if (rc && strstr(err->cloud_code, "AlreadyExists")) {
        /* made by an earlier, interrupted attempt, or outside */
        cm_err_clear(err);
        rc = group_describe(ctx, &pg_kind, region, name, &had, err);
        if (!rc &&
            (rds_differs(had, desired, "family") || rds_differs(had, desired, "description")))
            rc = cm_err_set(err, CM_EEXISTS,
                            "DB parameter group %s exists in %s with another family or "
                            "description Detail: it is %s (%s); both are fixed at creation. "
                            "Hint: Delete it, or give the row its family and description.",
                            name, region, rds_str(had, "family"), rds_str(had, "description"));
        if (!rc)
            rc = rds_adopt_tags(ctx, "DB parameter group", name, region, rds_str(had, "arn"), had,
                                desired, err);
    } else if (!rc) {
        had = pg_row(region, aws_xml_child(res, "DBParameterGroup"));
        xmlFreeDoc(doc);
        if (!had)
            rc = cm_err_set(err, CM_EBADREPLY, "CreateDBParameterGroup for %s: no group", name);
    }
    if (!rc)
        rc = pg_converge(ctx, region, name, had, desired, err);
    if (!rc)
        *out = rds_with_owned(desired, had, pg_owned);
    json_decref(had);
    return rc;
}

static int pg_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                     cm_err *err)
{
    const char *name, *region;
    int rc = pg_names(desired, &name, &region, err);
    if (!rc)
        rc = pg_converge(ctx, region, name, known, desired, err);
    if (!rc)
        rc = rds_retag(ctx, region, rds_str(known, "arn"), json_object_get(known, "tags"),
                       json_object_get(desired, "tags"), err);
    if (!rc)
        *out = rds_with_owned(desired, known, pg_owned);
    return rc;
}

static int pg_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *name, *region;
    int rc = pg_names(known, &name, &region, err);
    if (!rc)
        rc = mod_query_op(ctx, &pg_api, region, "DeleteDBParameterGroup",
                          json_pack("{s:s}", "DBParameterGroupName", name), NULL, NULL, err, name);
    if (rc && rds_gone(err)) {
        cm_err_clear(err);
        return 0;
    }
    if (rc && strstr(err->cloud_code, "InvalidDBParameterGroupState"))
        return cm_err_set(err, CM_ECLOUD,
                          "DB parameter group %s is in use Detail: a DB instance still names it "
                          "(a new family or description makes a new group, and the old one goes "
                          "first). Hint: Give the instance another parameter group first.",
                          name);
    return rc;
}

/* ---- the tables ---- */

#define IMM MOD_COL_IMMUTABLE
#define OWNED MOD_COL_CLOUD_OWNED

static const mod_table_ops subnet_ops = {
    .list = subnet_list,
    .read = subnet_read,
    .create = subnet_create,
    .update = subnet_update,
    .remove = subnet_remove,
};
static const mod_column subnet_columns[] = {
    {"name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"description", 0},
    {"subnets", 0, "subnet"},
    {"tags", 0},
    {"arn", OWNED},
    {"vpc", OWNED, "vpc"},
    {NULL, 0},
};
static const char *const subnet_deep[] = {"tags", NULL};
const mod_table rds_subnet_group_table = {"db_subnet_group", subnet_columns, &subnet_ops,
                                          RDS_SERVICE, .deep = subnet_deep};

static const mod_table_ops pg_ops = {
    .list = pg_list,
    .read = pg_read,
    .create = pg_create,
    .update = pg_update,
    .remove = pg_remove,
};
static const mod_column pg_columns[] = {
    {"name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"family", IMM},
    {"description", IMM},
    {"parameters", 0},
    {"tags", 0},
    {"arn", OWNED},
    {NULL, 0},
};
static const char *const pg_deep_cols[] = {"parameters", "tags", NULL};
const mod_table rds_parameter_group_table = {"parameter_group", pg_columns, &pg_ops, RDS_SERVICE,
                                             .deep = pg_deep_cols};
