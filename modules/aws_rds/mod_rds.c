/* modules/aws_rds/mod_rds.c — module aws_rds: tables rds (DB instances)
 * and db_cluster over RDS's query protocol, and the module itself (the
 * groups are in mod_rds_groups.c).
 *   - rds is named by its ARN: a new identifier is a rename in place
 *     (ModifyDBInstance NewDBInstanceIdentifier, applied at once), which
 *     gives it a new ARN. Class, storage, version, subnet group, security
 *     groups, parameter group, password, backups, Multi-AZ, public access
 *     and deletion protection change in place with one ModifyDBInstance,
 *     sent with the row's apply_immediately; engine, master user and
 *     cluster replace. A create and a rename wait until the instance is
 *     available (AWS's waiter: every 30 s, here with backoff up to that),
 *     then write back its endpoint.
 *   - db_cluster is named by its identifier; what ModifyDBCluster takes
 *     changes in place, the rest replaces.
 * A change RDS keeps for the next maintenance window (apply_immediately
 * false) shows in pending_modified_values, and the row shows the value it
 * is going to, so a poll never takes the old value for drift. The master
 * password is write-only (docs/secrets.md), or RDS keeps it in Secrets
 * Manager (manage_master_user_password), whose secret's ARN is written
 * back. A delete skips the final snapshot unless final_snapshot_identifier
 * names one; deletion protection is refused before any call. Both tables
 * list a Describe page per 100 resources, tags included (TagList): a
 * quiet poll costs a request per page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/aws_rds/mod_rds.h"

extern const char iasql_sql_aws_rds[];

static const mod_query_service instance_api = {RDS_SERVICE, RDS_VERSION, "DB instance"};
static const mod_query_service cluster_api = {RDS_SERVICE, RDS_VERSION, "DB cluster"};
static const mod_query_pager instance_pages = {"DescribeDBInstances", "Marker", "Marker",
                                               "DBInstances",         NULL,     "DBInstance"};
static const mod_query_pager cluster_pages = {"DescribeDBClusters", "Marker", "Marker",
                                              "DBClusters",         NULL,     "DBCluster"};

/* How long a database may take to become available or go away (AWS's own
 * waiters give up after 30 minutes), and the longest pause between two
 * looks (their delay). */
#define DB_WAIT_MS (45 * 60 * 1000)
#define DB_WAIT_CAP_MS 30000

/* ---- shared ---- */

/* The members of PendingModifiedValues (and ClusterPendingModifiedValues)
 * that are numbers or booleans; the rest are strings or structures. */
static const char *const pending_ints[] = {
    "AllocatedStorage", "Port", "BackupRetentionPeriod", "Iops", "StorageThroughput", NULL};
static const char *const pending_bools[] = {
    "MultiAZ", "MultiTenant", "IAMDatabaseAuthenticationEnabled", "DedicatedLogVolume", NULL};

static bool among(const char *const *names, const char *name)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* An element of a pending values structure in the API's JSON form:
 * children of one name make a list (see below), other children an object, text a
 * leaf typed by its name. */
static json_t *xml_value(xmlNodePtr node)
{
    xmlNodePtr first = NULL;
    size_t n = 0;
    bool same = true;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!first)
            first = c;
        else
            same &= strcmp((const char *)c->name, (const char *)first->name) == 0;
        n++;
    }
    const char *name = (const char *)node->name;
    if (!first) {
        xmlChar *t = xmlNodeGetContent(node);
        const char *s = t ? (const char *)t : "";
        json_t *v = among(pending_ints, name)    ? json_integer(strtoll(s, NULL, 10))
                    : among(pending_bools, name) ? json_boolean(strcmp(s, "true") == 0)
                                                 : json_string(s);
        xmlFree(t);
        return v;
    }
    /* a list's items are member, or named after the list (ProcessorFeatures'
     * ProcessorFeature) */
    const char *item = (const char *)first->name;
    bool list =
        same && (n > 1 || strcmp(item, "member") == 0 || strncmp(name, item, strlen(item)) == 0);
    json_t *out = list ? json_array() : json_object();
    for (xmlNodePtr c = first; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (list)
            json_array_append_new(out, xml_value(c));
        else
            json_object_set_new(out, (const char *)c->name, xml_value(c));
    }
    return out;
}

/* What waits for the maintenance window, as an object (the password,
 * which RDS shows as stars, left out). */
static json_t *pending_of(xmlNodePtr m, const char *element)
{
    json_t *out = json_object();
    xmlNodePtr p = aws_xml_child(m, element);
    for (xmlNodePtr c = p ? p->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "MasterUserPassword") != 0)
            json_object_set_new(out, (const char *)c->name, xml_value(c));
    return out;
}

/* The columns that show a pending value instead of the current one. */
typedef struct pending_col {
    const char *member, *column;
} pending_col;

static void overlay_pending(json_t *row, const json_t *pending, const pending_col *cols)
{
    for (int i = 0; cols[i].member; i++) {
        json_t *v = json_object_get(pending, cols[i].member);
        if (v)
            json_object_set(row, cols[i].column, v);
    }
}

/* The password column as a list shows it: none while RDS keeps it in
 * Secrets Manager, else a mask (there is one, and RDS never tells it). */
static json_t *password_mask(bool managed)
{
    return managed ? json_null() : json_string(RDS_PASSWORD_MASK);
}

/* Whether status is one a database never leaves by itself for available. */
static bool failed_status(const char *status)
{
    static const char *const bad[] = {"failed",
                                      "incompatible-network",
                                      "incompatible-option-group",
                                      "incompatible-parameters",
                                      "incompatible-restore",
                                      "inaccessible-encryption-credentials",
                                      "restore-error",
                                      "deleting",
                                      "deleted",
                                      NULL};
    return among(bad, status);
}

/* The password a create or update may send: the cleartext the user has
 * just set, or NULL (a mask: none set in this commit). */
static const char *cleartext(const json_t *img)
{
    const char *pw = json_string_value(json_object_get(img, "master_user_password"));
    return pw && *pw && !mod_is_mask(pw) ? pw : NULL;
}

static bool flag(const json_t *img, const char *col)
{
    return json_is_true(json_object_get(img, col));
}

/* The final snapshot of a delete: FinalDBSnapshotIdentifier when the row
 * names one, else SkipFinalSnapshot. */
static void put_final_snapshot(json_t *p, const json_t *known)
{
    const char *snap = rds_str(known, "final_snapshot_identifier");
    if (*snap)
        json_object_set_new(p, "FinalDBSnapshotIdentifier", json_string(snap));
    else
        json_object_set_new(p, "SkipFinalSnapshot", json_true());
}

/* The columns of plain (column, parameter) that differ from known to
 * desired and have a value, as parameters of p. */
static void put_changed(json_t *p, const json_t *known, const json_t *desired,
                        const char *const (*plain)[2], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(desired, plain[i][0]);
        if (rds_differs(known, desired, plain[i][0]) && v && !json_is_null(v))
            json_object_set(p, plain[i][1], v);
    }
}

/* ManageMasterUserPassword and MasterUserPassword from known to desired
 * into p: refused when RDS is to stop managing the password and the row
 * holds none set in this commit. */
static int put_password(json_t *p, const json_t *known, const json_t *desired, const char *noun,
                        const char *id, cm_err *err)
{
    bool manage = flag(desired, "manage_master_user_password");
    if (rds_differs(known, desired, "manage_master_user_password")) {
        json_object_set_new(p, "ManageMasterUserPassword", json_boolean(manage));
        if (!manage && !cleartext(desired))
            return cm_err_set(err, CM_EINVAL,
                              "%s %s needs a master password to stop RDS managing it Detail: the "
                              "row holds a mask, not a password set in this commit. Hint: Set "
                              "master_user_password in the same UPDATE.",
                              noun, id);
    }
    if (!manage && cleartext(desired))
        json_object_set_new(p, "MasterUserPassword", json_string(cleartext(desired)));
    return 0;
}

/* What the two tables' code paths differ by: the API (its noun names the
 * database in messages), its Describe* pager and the parameter that names
 * one, the table and its identifier column, which listed databases are
 * rows, a database's row, its cloud-owned columns, and whether the row's
 * ARN names it (another of the identifier is another database). */
typedef struct db_kind {
    const mod_query_service *api;
    const mod_query_pager *pages;
    const char *id_param;
    const char *table, *id_col;
    bool (*listed)(xmlNodePtr m);
    json_t *(*row)(const char *region, xmlNodePtr m);
    const char *const *owned;
    bool by_arn;
} db_kind;

typedef struct db_acc {
    const db_kind *kind;
    json_t *rows;
    bool all; /* the one described, whatever its status */
} db_acc;

static int db_member(mod_ctx *ctx, const char *region, xmlNodePtr m, void *arg, cm_err *err)
{
    (void)ctx, (void)err;
    db_acc *acc = arg;
    if (acc->all || acc->kind->listed(m))
        json_array_append_new(acc->rows, acc->kind->row(region, m));
    return 0;
}

/* The database of that identifier, whatever its status; CM_ENOTFOUND when
 * RDS has none. */
static int db_describe(mod_ctx *ctx, const db_kind *k, const char *region, const char *id,
                       json_t **out, cm_err *err)
{
    db_acc acc = {k, json_array(), true};
    int rc = mod_query_each(ctx, k->api, k->pages, region, json_pack("{s:s}", k->id_param, id),
                            db_member, &acc, id, err);
    if ((rc && rds_gone(err)) || (!rc && json_array_size(acc.rows) == 0))
        rc = cm_err_set(err, CM_ENOTFOUND, "%s %s does not exist in %s", k->api->noun, id, region);
    if (!rc)
        *out = json_incref(json_array_get(acc.rows, 0));
    json_decref(acc.rows);
    return rc;
}

static int db_region(mod_ctx *ctx, const db_kind *k, const char *region, json_t *rows, cm_err *err)
{
    db_acc acc = {k, rows, false};
    return mod_query_each(ctx, k->api, k->pages, region, json_pack("{s:i}", "MaxRecords", RDS_PAGE),
                          db_member, &acc, "(all)", err);
}

static int db_names(const db_kind *k, const json_t *img, const char **id, const char **region,
                    cm_err *err)
{
    return mod_image_names(img, k->table, k->id_col, id, region, err);
}

/* The database of image by its identifier (and, by_arn, only the one of
 * the image's ARN). One being deleted is gone. */
static int db_read(mod_ctx *ctx, const db_kind *k, const json_t *image, json_t **out, cm_err *err)
{
    const char *id, *region;
    int rc = db_names(k, image, &id, &region, err);
    json_t *row = NULL;
    if (!rc)
        rc = db_describe(ctx, k, region, id, &row, err);
    const char *arn = k->by_arn ? rds_str(image, "arn") : "";
    if (!rc && ((*arn && strcmp(arn, rds_str(row, "arn")) != 0) ||
                strcmp(rds_str(row, "status"), "deleting") == 0))
        rc = cm_err_set(err, CM_ENOTFOUND, "%s %s does not exist in %s", k->api->noun, id, region);
    if (!rc)
        *out = json_incref(row);
    json_decref(row);
    return rc;
}

typedef struct db_wait {
    const db_kind *kind;
    const char *region, *id;
    bool gone;  /* wait for it to go, else to be available */
    json_t *at; /* the last image read */
} db_wait;

static int db_probe(mod_ctx *ctx, const void *arg, bool *done, cm_err *err)
{
    db_wait *w = (db_wait *)arg;
    json_t *row = NULL;
    int rc = db_describe(ctx, w->kind, w->region, w->id, &row, err);
    if (rc == CM_ENOTFOUND) {
        /* gone, or (after a create or rename) not visible yet */
        cm_err_clear(err);
        *done = w->gone;
        return 0;
    }
    if (rc)
        return rc;
    const char *status = rds_str(row, "status");
    json_decref(w->at);
    w->at = row;
    if (!w->gone && failed_status(status))
        return cm_err_set(err, CM_ECLOUD,
                          "%s %s is %s, not available Detail: RDS reports its status as %s. "
                          "Hint: Look at the database in the RDS console or its events; delete "
                          "the row to remove it.",
                          w->kind->api->noun, w->id, status, status);
    *done = !w->gone && strcmp(status, "available") == 0;
    return 0;
}

/* Waits until the database is available (*at: its image then) or gone. */
static int db_wait_for(mod_ctx *ctx, const db_kind *k, const char *region, const char *id,
                       bool gone, json_t **at, cm_err *err)
{
    db_wait w = {k, region, id, gone, NULL};
    int rc = mod_wait_capped(ctx, db_probe, &w, DB_WAIT_MS, DB_WAIT_CAP_MS, w.id, err);
    if (at && !rc)
        *at = w.at;
    else
        json_decref(w.at);
    return rc;
}

/* Waits until the database is available: *out is desired with the
 * cloud-owned columns it shows then. */
static int db_ready(mod_ctx *ctx, const db_kind *k, const char *region, const char *id,
                    const json_t *desired, json_t **out, cm_err *err)
{
    json_t *at = NULL;
    int rc = db_wait_for(ctx, k, region, id, false, &at, err);
    if (!rc)
        *out = rds_with_owned(desired, at, k->owned);
    json_decref(at);
    return rc;
}

/* An existing database found of the row's identifier, brought to desired. */
typedef int (*db_adopt_fn)(mod_ctx *ctx, const char *region, const json_t *found,
                           const json_t *desired, json_t **out, cm_err *err);

/* The database of that identifier, described and adopted. */
static int db_take(mod_ctx *ctx, const db_kind *k, db_adopt_fn adopt, const char *region,
                   const char *id, const json_t *desired, json_t **out, cm_err *err)
{
    json_t *found = NULL;
    int rc = db_describe(ctx, k, region, id, &found, err);
    if (!rc)
        rc = adopt(ctx, region, found, desired, out, err);
    json_decref(found);
    return rc;
}

/* ---- rds (DB instances) ---- */

static const pending_col instance_pending[] = {
    {"DBInstanceIdentifier", "db_instance_identifier"},
    {"DBInstanceClass", "db_instance_class"},
    {"AllocatedStorage", "allocated_storage"},
    {"EngineVersion", "engine_version"},
    {"BackupRetentionPeriod", "backup_retention_period"},
    {"MultiAZ", "multi_az"},
    {"DBSubnetGroupName", "db_subnet_group"},
    {NULL, NULL},
};

static const pending_col instance_pending_member[] = {
    {"DBInstanceIdentifier", "db_instance_identifier"},
    {"DBInstanceClass", "db_instance_class"},
    {NULL, NULL},
};

/* The security groups of an instance or cluster: where they are going (a
 * group being taken out is gone as far as the row goes). */
static json_t *groups_of(xmlNodePtr m)
{
    json_t *all =
        mod_xml_set(m, "VpcSecurityGroups", "VpcSecurityGroupMembership", "VpcSecurityGroupId");
    xmlNodePtr l = aws_xml_child(m, "VpcSecurityGroups");
    for (xmlNodePtr g = l ? aws_xml_child(l, "VpcSecurityGroupMembership") : NULL; g;
         g = aws_xml_next(g, "VpcSecurityGroupMembership")) {
        char id[64], status[32] = "";
        aws_xml_child_text(g, "VpcSecurityGroupId", id, sizeof id);
        aws_xml_child_text(g, "Status", status, sizeof status);
        if (strcmp(status, "removing") != 0)
            continue;
        for (size_t i = json_array_size(all); i-- > 0;)
            if (strcmp(json_string_value(json_array_get(all, i)), id) == 0)
                json_array_remove(all, i);
    }
    return all;
}

static const char *const instance_owned[] = {"arn",
                                             "status",
                                             "endpoint_addr",
                                             "endpoint_port",
                                             "endpoint_hosted_zone_id",
                                             "master_user_secret_arn",
                                             "pending_modified_values",
                                             NULL};

/* A member of a Multi-AZ DB cluster (mysql or postgres): RDS makes and
 * deletes those with the cluster, so they are not rows of their own. */
static bool multi_az_cluster_member(xmlNodePtr m)
{
    char cluster[128] = "", engine[64] = "";
    aws_xml_child_text(m, "DBClusterIdentifier", cluster, sizeof cluster);
    aws_xml_child_text(m, "Engine", engine, sizeof engine);
    return cluster[0] && strncmp(engine, "aurora", 6) != 0;
}

json_t *rds_instance_row(const char *region, xmlNodePtr m)
{
    char cluster[128] = "", group[300] = "";
    aws_xml_child_text(m, "DBClusterIdentifier", cluster, sizeof cluster);
    bool member = cluster[0] != '\0';
    xmlNodePtr secret = aws_xml_child(m, "MasterUserSecret");
    bool managed = secret != NULL;
    aws_xml_child_text(aws_xml_path(m, "DBParameterGroups/DBParameterGroup"),
                       "DBParameterGroupName", group, sizeof group);
    xmlNodePtr ep = aws_xml_child(m, "Endpoint");
    json_t *row = json_pack(
        "{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
        "db_instance_identifier", rds_xml_str(m, "DBInstanceIdentifier"), "region", region,
        "engine", rds_xml_str(m, "Engine"), "engine_version",
        member ? json_null() : rds_xml_str(m, "EngineVersion"), "db_instance_class",
        rds_xml_str(m, "DBInstanceClass"), "allocated_storage",
        member ? json_null() : rds_xml_int(m, "AllocatedStorage"), "db_cluster",
        member ? json_string(cluster) : json_null(), "db_subnet_group",
        member ? json_null() : rds_xml_str(aws_xml_child(m, "DBSubnetGroup"), "DBSubnetGroupName"),
        "security_groups", member ? json_array() : groups_of(m), "parameter_group",
        group[0] && strncmp(group, "default.", 8) != 0 ? json_string(group) : json_null(),
        "master_username", member ? json_null() : rds_xml_str(m, "MasterUsername"),
        "master_user_password", member ? json_null() : password_mask(managed),
        "manage_master_user_password", json_boolean(!member && managed), "backup_retention_period",
        member ? json_null() : rds_xml_int(m, "BackupRetentionPeriod"), "multi_az",
        member ? json_false() : rds_xml_bool(m, "MultiAZ"), "publicly_accessible",
        rds_xml_bool(m, "PubliclyAccessible"));
    json_t *pending = pending_of(m, "PendingModifiedValues");
    json_t *rest = json_pack(
        "{s:o, s:b, s:n, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "deletion_protection",
        member ? json_false() : rds_xml_bool(m, "DeletionProtection"), "apply_immediately", 1,
        "final_snapshot_identifier", "tags", rds_xml_tags(m), "arn",
        rds_xml_str(m, "DBInstanceArn"), "status", rds_xml_str(m, "DBInstanceStatus"),
        "endpoint_addr", rds_xml_str(ep, "Address"), "endpoint_port", rds_xml_int(ep, "Port"),
        "endpoint_hosted_zone_id", rds_xml_str(ep, "HostedZoneId"), "master_user_secret_arn",
        secret ? rds_xml_str(secret, "SecretArn") : json_null(), "pending_modified_values",
        json_incref(pending));
    json_object_update(row, rest);
    json_decref(rest);
    /* an instance of a cluster shows only what it has of its own */
    overlay_pending(row, pending, member ? instance_pending_member : instance_pending);
    json_decref(pending);
    return mod_take_owner(row);
}

static bool instance_listed(xmlNodePtr m)
{
    char status[64] = "";
    aws_xml_child_text(m, "DBInstanceStatus", status, sizeof status);
    return strcmp(status, "deleting") != 0 && strcmp(status, "deleted") != 0 &&
           !multi_az_cluster_member(m);
}

/* An instance is named by its ARN: when the row has one, another instance
 * that has taken the identifier since is not the row's. */
static const db_kind instance_kind = {.api = &instance_api,
                                      .pages = &instance_pages,
                                      .id_param = "DBInstanceIdentifier",
                                      .table = "rds",
                                      .id_col = "db_instance_identifier",
                                      .listed = instance_listed,
                                      .row = rds_instance_row,
                                      .owned = instance_owned,
                                      .by_arn = true};

static int instance_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    return db_region(ctx, &instance_kind, region, rows, err);
}

static int instance_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out,
                         cm_err *err)
{
    return mod_list_regions(ctx, regions, n, instance_region, out, err);
}

static int instance_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    return db_read(ctx, &instance_kind, image, out, err);
}

/* The default parameter group of the family of group (what a parameter
 * group of NULL means): default.<family>. */
static int default_group(mod_ctx *ctx, const char *region, const char *group, char *out,
                         size_t size, cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr res;
    int rc =
        mod_query_op(ctx, &rds_api, region, "DescribeDBParameterGroups",
                     json_pack("{s:s}", "DBParameterGroupName", group), &doc, &res, err, group);
    if (rc)
        return rc;
    char family[256] = "";
    aws_xml_child_text(aws_xml_path(res, "DBParameterGroups/DBParameterGroup"),
                       "DBParameterGroupFamily", family, sizeof family);
    xmlFreeDoc(doc);
    if (!family[0])
        return cm_err_set(err, CM_EBADREPLY, "DB parameter group %s: no family", group);
    snprintf(out, size, "default.%s", family);
    return 0;
}

/* The ModifyDBInstance that brings the instance from known to desired
 * (NULL *params: nothing to send). */
static int instance_changes(mod_ctx *ctx, const char *region, const json_t *known,
                            const json_t *desired, json_t **params, cm_err *err)
{
    const char *id = rds_str(known, "db_instance_identifier");
    json_t *p = json_pack("{s:s}", "DBInstanceIdentifier", id);
    int rc = 0;
    bool rename = rds_differs(known, desired, "db_instance_identifier");
    if (rename)
        json_object_set_new(p, "NewDBInstanceIdentifier",
                            json_string(rds_str(desired, "db_instance_identifier")));
    static const char *const plain[][2] = {{"db_instance_class", "DBInstanceClass"},
                                           {"allocated_storage", "AllocatedStorage"},
                                           {"backup_retention_period", "BackupRetentionPeriod"},
                                           {"multi_az", "MultiAZ"},
                                           {"publicly_accessible", "PubliclyAccessible"},
                                           {"deletion_protection", "DeletionProtection"}};
    put_changed(p, known, desired, plain, sizeof plain / sizeof *plain);
    if (rds_differs(known, desired, "engine_version") && *rds_str(desired, "engine_version")) {
        json_object_set_new(p, "EngineVersion", json_string(rds_str(desired, "engine_version")));
        json_object_set_new(p, "AllowMajorVersionUpgrade", json_true());
    }
    if (rds_differs(known, desired, "db_subnet_group")) {
        if (!*rds_str(desired, "db_subnet_group"))
            rc = cm_err_set(err, CM_EINVAL,
                            "DB instance %s cannot leave its subnet group Detail: RDS moves an "
                            "instance from one subnet group to another, never to none. Hint: "
                            "Name the subnet group it should be in.",
                            id);
        else
            json_object_set_new(p, "DBSubnetGroupName",
                                json_string(rds_str(desired, "db_subnet_group")));
    }
    const json_t *groups = json_object_get(desired, "security_groups");
    if (!rc && !json_equal(groups, json_object_get(known, "security_groups"))) {
        if (json_array_size(groups) == 0 && !*rds_str(desired, "db_cluster"))
            rc = cm_err_set(err, CM_EINVAL,
                            "DB instance %s keeps at least one security group Detail: RDS "
                            "takes a new set of groups, never none. Hint: Set the groups it "
                            "should have instead, for example its VPC's default group.",
                            id);
        else
            rds_put_list(p, "VpcSecurityGroupIds.VpcSecurityGroupId", groups);
    }
    if (!rc && rds_differs(known, desired, "parameter_group")) {
        char name[300];
        snprintf(name, sizeof name, "%s", rds_str(desired, "parameter_group"));
        if (!name[0])
            rc = default_group(ctx, region, rds_str(known, "parameter_group"), name, sizeof name,
                               err);
        if (!rc)
            json_object_set_new(p, "DBParameterGroupName", json_string(name));
    }
    if (!rc)
        rc = put_password(p, known, desired, "DB instance", id, err);
    /* a rename is applied at once, so that the row names the instance */
    json_object_set_new(p, "ApplyImmediately",
                        json_boolean(flag(desired, "apply_immediately") || rename));
    if (rc || json_object_size(p) == 2) {
        json_decref(p);
        p = NULL;
    }
    *params = p;
    return rc;
}

/* Sends the changes from known to desired; *now is the instance as the
 * answer (or, after a rename, the renamed instance) shows it, or a copy of
 * known when nothing was sent. */
static int instance_modify(mod_ctx *ctx, const char *region, const json_t *known,
                           const json_t *desired, json_t **now, cm_err *err)
{
    json_t *p = NULL;
    int rc = instance_changes(ctx, region, known, desired, &p, err);
    if (rc || !p) {
        *now = rc ? NULL : json_deep_copy(known);
        return rc;
    }
    const char *id = rds_str(known, "db_instance_identifier");
    xmlDocPtr doc;
    xmlNodePtr res;
    rc = mod_query_op(ctx, &instance_api, region, "ModifyDBInstance", p, &doc, &res, err, id);
    if (rc)
        return rc;
    json_t *answer = rds_instance_row(region, aws_xml_child(res, "DBInstance"));
    xmlFreeDoc(doc);
    if (!rds_differs(known, desired, "db_instance_identifier")) {
        *now = answer;
        return 0;
    }
    /* the new name: available under it, with its new ARN */
    json_decref(answer);
    return db_wait_for(ctx, &instance_kind, region, rds_str(desired, "db_instance_identifier"),
                       false, now, err);
}

/* An instance of the row's identifier exists (an earlier, interrupted
 * attempt, or one made outside): brought to the row when its engine is the
 * row's and no other iasql database made it. */
static int instance_adopt(mod_ctx *ctx, const char *region, const json_t *found,
                          const json_t *desired, json_t **out, cm_err *err)
{
    const char *id = rds_str(desired, "db_instance_identifier");
    if (rds_differs(found, desired, "engine") || rds_differs(found, desired, "db_cluster"))
        return cm_err_set(err, CM_EEXISTS,
                          "DB instance %s exists in %s with another engine or cluster Detail: "
                          "it is %s%s%s; the row asks for %s. Hint: Delete it, or give the row "
                          "another identifier.",
                          id, region, rds_str(found, "engine"),
                          *rds_str(found, "db_cluster") ? " in cluster " : "",
                          rds_str(found, "db_cluster"), rds_str(desired, "engine"));
    int rc =
        rds_adopt_tags(ctx, "DB instance", id, region, rds_str(found, "arn"), found, desired, err);
    json_t *now = NULL;
    if (!rc)
        rc = instance_modify(ctx, region, found, desired, &now, err);
    json_decref(now);
    return rc ? rc : db_ready(ctx, &instance_kind, region, id, desired, out, err);
}

static int instance_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *id, *region;
    int rc = db_names(&instance_kind, desired, &id, &region, err);
    if (rc)
        return rc;
    bool member = *rds_str(desired, "db_cluster") != '\0';
    bool manage = flag(desired, "manage_master_user_password");
    if (!member && !manage && !cleartext(desired)) {
        /* without its password the row can only take an instance that exists */
        rc = db_take(ctx, &instance_kind, instance_adopt, region, id, desired, out, err);
        if (rc == CM_ENOTFOUND) {
            cm_err_clear(err);
            rc = cm_err_set(err, CM_EINVAL,
                            "the master password of DB instance %s is not known to the engine "
                            "Detail: the row holds a mask (it was imported, or the value copied "
                            "from another row) and no instance of that identifier exists to keep "
                            "its password. Hint: Set master_user_password again, or set "
                            "manage_master_user_password.",
                            id);
        }
        return rc;
    }
    json_t *p =
        json_pack("{s:s, s:s, s:s, s:O}", "DBInstanceIdentifier", id, "DBInstanceClass",
                  rds_str(desired, "db_instance_class"), "Engine", rds_str(desired, "engine"),
                  "PubliclyAccessible", json_object_get(desired, "publicly_accessible"));
    /* an Aurora instance's protection is its cluster's */
    if (!member)
        json_object_set(p, "DeletionProtection", json_object_get(desired, "deletion_protection"));
    if (member) {
        json_object_set_new(p, "DBClusterIdentifier", json_string(rds_str(desired, "db_cluster")));
    } else {
        json_object_set_new(p, "EngineVersion", json_string(rds_str(desired, "engine_version")));
        json_object_set(p, "AllocatedStorage", json_object_get(desired, "allocated_storage"));
        json_object_set_new(p, "MasterUsername", json_string(rds_str(desired, "master_username")));
        if (manage)
            json_object_set_new(p, "ManageMasterUserPassword", json_true());
        else
            json_object_set_new(p, "MasterUserPassword", json_string(cleartext(desired)));
        json_object_set(p, "BackupRetentionPeriod",
                        json_object_get(desired, "backup_retention_period"));
        json_object_set(p, "MultiAZ", json_object_get(desired, "multi_az"));
        if (*rds_str(desired, "db_subnet_group"))
            json_object_set_new(p, "DBSubnetGroupName",
                                json_string(rds_str(desired, "db_subnet_group")));
        rds_put_list(p, "VpcSecurityGroupIds.VpcSecurityGroupId",
                     json_object_get(desired, "security_groups"));
    }
    if (*rds_str(desired, "parameter_group"))
        json_object_set_new(p, "DBParameterGroupName",
                            json_string(rds_str(desired, "parameter_group")));
    rds_put_tags(ctx, p, json_object_get(desired, "tags"));
    rc = mod_query_op(ctx, &instance_api, region, "CreateDBInstance", p, NULL, NULL, err, id);
    if (rc && strstr(err->cloud_code, "AlreadyExists")) {
        cm_err_clear(err);
        return db_take(ctx, &instance_kind, instance_adopt, region, id, desired, out, err);
    }
    return rc ? rc : db_ready(ctx, &instance_kind, region, id, desired, out, err);
}

static int instance_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                           cm_err *err)
{
    const char *id, *region;
    int rc = db_names(&instance_kind, known, &id, &region, err);
    if (!rc && !*rds_str(known, "arn"))
        rc = cm_err_set(err, CM_EINVAL, "DB instance %s has no ARN to change it by", id);
    json_t *now = NULL;
    if (!rc)
        rc = instance_modify(ctx, region, known, desired, &now, err);
    /* a rename gave it a new ARN */
    const char *arn = now && *rds_str(now, "arn") ? rds_str(now, "arn") : rds_str(known, "arn");
    if (!rc)
        rc = rds_retag(ctx, region, arn, json_object_get(known, "tags"),
                       json_object_get(desired, "tags"), err);
    if (!rc)
        *out = rds_with_owned(desired, now, instance_owned);
    json_decref(now);
    return rc;
}

static int protected_error(cm_err *err, const char *noun, const char *id)
{
    return cm_err_set(err, CM_EINVAL,
                      "%s %s is protected from deletion Detail: its deletion_protection is on, "
                      "and RDS refuses to delete it. Hint: Set deletion_protection to false and "
                      "commit, then delete the row.",
                      noun, id);
}

static int instance_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *id, *region;
    int rc = db_names(&instance_kind, known, &id, &region, err);
    if (rc || !*rds_str(known, "arn"))
        return rc; /* never made */
    if (flag(known, "deletion_protection"))
        return protected_error(err, "DB instance", id);
    json_t *p = json_pack("{s:s}", "DBInstanceIdentifier", id);
    if (!*rds_str(known, "db_cluster")) /* an Aurora instance's snapshots are its cluster's */
        put_final_snapshot(p, known);
    rc = mod_query_op(ctx, &instance_api, region, "DeleteDBInstance", p, NULL, NULL, err, id);
    if (rc && rds_gone(err)) {
        cm_err_clear(err);
        return 0;
    }
    if (rc && strstr(err->msg, "protect"))
        return protected_error(err, "DB instance", id);
    if (rc && strstr(err->cloud_code, "InvalidDBInstanceState") && strstr(err->msg, "delet")) {
        cm_err_clear(err); /* already on its way */
        rc = 0;
    }
    /* its subnet group, parameter group and security groups go only after it */
    if (!rc)
        rc = db_wait_for(ctx, &instance_kind, region, id, true, NULL, err);
    return rc;
}

/* ---- db_cluster ---- */

static const pending_col cluster_pending[] = {
    {"DBClusterIdentifier", "db_cluster_identifier"},
    {"EngineVersion", "engine_version"},
    {"BackupRetentionPeriod", "backup_retention_period"},
    {"AllocatedStorage", "allocated_storage"},
    {"Iops", "iops"},
    {NULL, NULL},
};

static const char *const cluster_owned[] = {"arn",
                                            "status",
                                            "endpoint",
                                            "reader_endpoint",
                                            "port",
                                            "master_user_secret_arn",
                                            "pending_modified_values",
                                            NULL};

json_t *rds_cluster_row(const char *region, xmlNodePtr m)
{
    char engine[64] = "";
    aws_xml_child_text(m, "Engine", engine, sizeof engine);
    bool aurora = strncmp(engine, "aurora", 6) == 0;
    xmlNodePtr secret = aws_xml_child(m, "MasterUserSecret");
    char group[300] = "";
    aws_xml_child_text(m, "DBSubnetGroup", group, sizeof group);
    json_t *row = json_pack(
        "{s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o}",
        "db_cluster_identifier", rds_xml_str(m, "DBClusterIdentifier"), "region", region, "engine",
        engine, "engine_version", rds_xml_str(m, "EngineVersion"), "db_cluster_instance_class",
        aurora ? json_null() : rds_xml_str(m, "DBClusterInstanceClass"), "allocated_storage",
        aurora ? json_null() : rds_xml_int(m, "AllocatedStorage"), "iops",
        aurora ? json_null() : rds_xml_int(m, "Iops"), "db_subnet_group",
        group[0] ? json_string(group) : json_null(), "security_groups", groups_of(m),
        "master_username", rds_xml_str(m, "MasterUsername"), "master_user_password",
        password_mask(secret != NULL), "manage_master_user_password", secret != NULL,
        "backup_retention_period", rds_xml_int(m, "BackupRetentionPeriod"), "publicly_accessible",
        aurora ? json_false() : rds_xml_bool(m, "PubliclyAccessible"), "storage_encrypted",
        rds_xml_bool(m, "StorageEncrypted"), "deletion_protection",
        rds_xml_bool(m, "DeletionProtection"));
    json_t *pending = pending_of(m, "PendingModifiedValues");
    json_t *rest = json_pack(
        "{s:b, s:n, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "apply_immediately", 1,
        "final_snapshot_identifier", "tags", rds_xml_tags(m), "arn", rds_xml_str(m, "DBClusterArn"),
        "status", rds_xml_str(m, "Status"), "endpoint", rds_xml_str(m, "Endpoint"),
        "reader_endpoint", rds_xml_str(m, "ReaderEndpoint"), "port", rds_xml_int(m, "Port"),
        "master_user_secret_arn", secret ? rds_xml_str(secret, "SecretArn") : json_null(),
        "pending_modified_values", json_incref(pending));
    json_object_update(row, rest);
    json_decref(rest);
    overlay_pending(row, pending, cluster_pending);
    if (aurora) { /* Aurora's storage is the cluster volume's, never set */
        json_object_set_new(row, "allocated_storage", json_null());
        json_object_set_new(row, "iops", json_null());
    }
    json_decref(pending);
    return mod_take_owner(row);
}

static bool cluster_listed(xmlNodePtr m)
{
    char status[64] = "";
    aws_xml_child_text(m, "Status", status, sizeof status);
    return strcmp(status, "deleting") != 0 && strcmp(status, "deleted") != 0;
}

static const db_kind cluster_kind = {.api = &cluster_api,
                                     .pages = &cluster_pages,
                                     .id_param = "DBClusterIdentifier",
                                     .table = "db_cluster",
                                     .id_col = "db_cluster_identifier",
                                     .listed = cluster_listed,
                                     .row = rds_cluster_row,
                                     .owned = cluster_owned};

static int cluster_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    return db_region(ctx, &cluster_kind, region, rows, err);
}

static int cluster_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out,
                        cm_err *err)
{
    return mod_list_regions(ctx, regions, n, cluster_region, out, err);
}

static int cluster_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    return db_read(ctx, &cluster_kind, image, out, err);
}

/* The ModifyDBCluster from known to desired, if anything is to change
 * (*sent, when not NULL, says whether it was). */
static int cluster_modify(mod_ctx *ctx, const char *region, const json_t *known,
                          const json_t *desired, bool *sent, cm_err *err)
{
    if (sent)
        *sent = false;
    const char *id = rds_str(known, "db_cluster_identifier");
    json_t *p = json_pack("{s:s}", "DBClusterIdentifier", id);
    static const char *const plain[][2] = {{"db_cluster_instance_class", "DBClusterInstanceClass"},
                                           {"allocated_storage", "AllocatedStorage"},
                                           {"iops", "Iops"},
                                           {"backup_retention_period", "BackupRetentionPeriod"},
                                           {"deletion_protection", "DeletionProtection"}};
    put_changed(p, known, desired, plain, sizeof plain / sizeof *plain);
    if (rds_differs(known, desired, "engine_version")) {
        json_object_set_new(p, "EngineVersion", json_string(rds_str(desired, "engine_version")));
        json_object_set_new(p, "AllowMajorVersionUpgrade", json_true());
    }
    const json_t *groups = json_object_get(desired, "security_groups");
    if (!json_equal(groups, json_object_get(known, "security_groups")) &&
        json_array_size(groups) > 0)
        rds_put_list(p, "VpcSecurityGroupIds.VpcSecurityGroupId", groups);
    int rc = put_password(p, known, desired, "DB cluster", id, err);
    if (rc) {
        json_decref(p);
        return rc;
    }
    if (json_object_size(p) == 1) {
        json_decref(p);
        return 0;
    }
    json_object_set_new(p, "ApplyImmediately", json_boolean(flag(desired, "apply_immediately")));
    if (sent)
        *sent = true;
    return mod_query_op(ctx, &cluster_api, region, "ModifyDBCluster", p, NULL, NULL, err, id);
}

static int cluster_adopt(mod_ctx *ctx, const char *region, const json_t *found,
                         const json_t *desired, json_t **out, cm_err *err)
{
    const char *id = rds_str(desired, "db_cluster_identifier");
    if (rds_differs(found, desired, "engine"))
        return cm_err_set(err, CM_EEXISTS,
                          "DB cluster %s exists in %s with engine %s Detail: the row asks for "
                          "%s. Hint: Delete it, or give the row another identifier.",
                          id, region, rds_str(found, "engine"), rds_str(desired, "engine"));
    int rc =
        rds_adopt_tags(ctx, "DB cluster", id, region, rds_str(found, "arn"), found, desired, err);
    if (!rc)
        rc = cluster_modify(ctx, region, found, desired, NULL, err);
    return rc ? rc : db_ready(ctx, &cluster_kind, region, id, desired, out, err);
}

static int cluster_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *id, *region;
    int rc = db_names(&cluster_kind, desired, &id, &region, err);
    if (rc)
        return rc;
    bool manage = flag(desired, "manage_master_user_password");
    if (!manage && !cleartext(desired)) {
        rc = db_take(ctx, &cluster_kind, cluster_adopt, region, id, desired, out, err);
        if (rc == CM_ENOTFOUND) {
            cm_err_clear(err);
            rc = cm_err_set(err, CM_EINVAL,
                            "the master password of DB cluster %s is not known to the engine "
                            "Detail: the row holds a mask and no cluster of that identifier "
                            "exists to keep its password. Hint: Set master_user_password "
                            "again, or set manage_master_user_password.",
                            id);
        }
        return rc;
    }
    json_t *p =
        json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:O}", "DBClusterIdentifier", id, "Engine",
                  rds_str(desired, "engine"), "EngineVersion", rds_str(desired, "engine_version"),
                  "MasterUsername", rds_str(desired, "master_username"), "BackupRetentionPeriod",
                  json_object_get(desired, "backup_retention_period"), "StorageEncrypted",
                  json_object_get(desired, "storage_encrypted"), "DeletionProtection",
                  json_object_get(desired, "deletion_protection"));
    if (manage)
        json_object_set_new(p, "ManageMasterUserPassword", json_true());
    else
        json_object_set_new(p, "MasterUserPassword", json_string(cleartext(desired)));
    if (*rds_str(desired, "db_cluster_instance_class")) { /* a Multi-AZ DB cluster */
        json_object_set_new(p, "DBClusterInstanceClass",
                            json_string(rds_str(desired, "db_cluster_instance_class")));
        json_object_set(p, "AllocatedStorage", json_object_get(desired, "allocated_storage"));
        json_object_set(p, "Iops", json_object_get(desired, "iops"));
        json_object_set_new(p, "StorageType", json_string("io1"));
        json_object_set(p, "PubliclyAccessible", json_object_get(desired, "publicly_accessible"));
    }
    if (*rds_str(desired, "db_subnet_group"))
        json_object_set_new(p, "DBSubnetGroupName",
                            json_string(rds_str(desired, "db_subnet_group")));
    rds_put_list(p, "VpcSecurityGroupIds.VpcSecurityGroupId",
                 json_object_get(desired, "security_groups"));
    rds_put_tags(ctx, p, json_object_get(desired, "tags"));
    rc = mod_query_op(ctx, &cluster_api, region, "CreateDBCluster", p, NULL, NULL, err, id);
    if (rc && strstr(err->cloud_code, "AlreadyExists")) {
        cm_err_clear(err);
        return db_take(ctx, &cluster_kind, cluster_adopt, region, id, desired, out, err);
    }
    return rc ? rc : db_ready(ctx, &cluster_kind, region, id, desired, out, err);
}

static int cluster_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                          cm_err *err)
{
    const char *id, *region;
    int rc = db_names(&cluster_kind, known, &id, &region, err);
    bool sent = false;
    if (!rc)
        rc = cluster_modify(ctx, region, known, desired, &sent, err);
    /* what it shows now (its status, what waits), when something was sent */
    json_t *now = NULL;
    if (!rc && sent)
        rc = db_describe(ctx, &cluster_kind, region, id, &now, err);
    else if (!rc)
        now = json_deep_copy(known);
    if (!rc)
        rc = rds_retag(ctx, region, rds_str(now, "arn"), json_object_get(known, "tags"),
                       json_object_get(desired, "tags"), err);
    if (!rc)
        *out = rds_with_owned(desired, now, cluster_owned);
    json_decref(now);
    return rc;
}

static int cluster_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *id, *region;
    int rc = db_names(&cluster_kind, known, &id, &region, err);
    if (rc)
        return rc;
    if (flag(known, "deletion_protection"))
        return protected_error(err, "DB cluster", id);
    json_t *p = json_pack("{s:s}", "DBClusterIdentifier", id);
    put_final_snapshot(p, known);
    rc = mod_query_op(ctx, &cluster_api, region, "DeleteDBCluster", p, NULL, NULL, err, id);
    if (rc && rds_gone(err)) {
        cm_err_clear(err);
        return 0;
    }
    if (rc && strstr(err->msg, "protect"))
        return protected_error(err, "DB cluster", id);
    if (rc && strstr(err->cloud_code, "ActiveMembers"))
        return cm_err_set(err, CM_ECLOUD,
                          "DB cluster %s still has instances Detail: RDS deletes a cluster only "
                          "once its instances are gone. Hint: Delete its rds rows too.",
                          id);
    if (!rc)
        rc = db_wait_for(ctx, &cluster_kind, region, id, true, NULL, err);
    return rc;
}

/* ---- the module ---- */

#define IMM MOD_COL_IMMUTABLE
#define OWNED MOD_COL_CLOUD_OWNED
#define CID (MOD_COL_CLOUD_ID | MOD_COL_CLOUD_OWNED)
#define LOCAL MOD_COL_LOCAL

static const mod_table_ops cluster_ops = {
    .list = cluster_list,
    .read = cluster_read,
    .create = cluster_create,
    .update = cluster_update,
    .remove = cluster_remove,
};
static const mod_column cluster_columns[] = {
    {"db_cluster_identifier", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"engine", IMM},
    {"engine_version", 0},
    {"db_cluster_instance_class", 0},
    {"allocated_storage", 0},
    {"iops", 0},
    {"db_subnet_group", IMM, "db_subnet_group"},
    {"security_groups", 0, "security_group"},
    {"master_username", IMM},
    {"master_user_password", MOD_COL_SECRET},
    {"manage_master_user_password", 0},
    {"backup_retention_period", 0},
    {"publicly_accessible", IMM},
    {"storage_encrypted", IMM},
    {"deletion_protection", 0},
    {"apply_immediately", LOCAL},
    {"final_snapshot_identifier", LOCAL},
    {"tags", 0},
    {"arn", OWNED},
    {"status", OWNED},
    {"endpoint", OWNED},
    {"reader_endpoint", OWNED},
    {"port", OWNED},
    {"master_user_secret_arn", OWNED},
    {"pending_modified_values", OWNED},
    {NULL, 0},
};
static const mod_table cluster_table = {"db_cluster", cluster_columns, &cluster_ops, RDS_SERVICE};

static const mod_table_ops instance_ops = {
    .list = instance_list,
    .read = instance_read,
    .create = instance_create,
    .update = instance_update,
    .remove = instance_remove,
};
static const mod_column instance_columns[] = {
    {"arn", CID},
    {"db_instance_identifier", MOD_COL_UNIQUE},
    {"region", IMM},
    {"engine", IMM},
    {"engine_version", 0},
    {"db_instance_class", 0},
    {"allocated_storage", 0},
    {"db_cluster", IMM, "db_cluster"},
    {"db_subnet_group", 0, "db_subnet_group"},
    {"security_groups", 0, "security_group"},
    {"parameter_group", 0, "parameter_group"},
    {"master_username", IMM},
    {"master_user_password", MOD_COL_SECRET},
    {"manage_master_user_password", 0},
    {"backup_retention_period", 0},
    {"multi_az", 0},
    {"publicly_accessible", 0},
    {"deletion_protection", 0},
    {"apply_immediately", LOCAL},
    {"final_snapshot_identifier", LOCAL},
    {"tags", 0},
    {"status", OWNED},
    {"endpoint_addr", OWNED},
    {"endpoint_port", OWNED},
    {"endpoint_hosted_zone_id", OWNED},
    {"master_user_secret_arn", OWNED},
    {"pending_modified_values", OWNED},
    {NULL, 0},
};
static const mod_table instance_table = {"rds", instance_columns, &instance_ops, RDS_SERVICE};

static const mod_table *const rds_tables[] = {&rds_subnet_group_table, &rds_parameter_group_table,
                                              &cluster_table, &instance_table, NULL};
static const char *const rds_deps[] = {"aws_vpc", "aws_security_group", NULL};

const mod_module mod_aws_rds = {
    .name = "aws_rds",
    .version = IASQL_VERSION,
    .deps = rds_deps,
    .install_sql = iasql_sql_aws_rds,
    .pre_uninstall_sql = "DROP VIEW IF EXISTS rds_security_groups;\n"
                         "DROP VIEW IF EXISTS db_cluster_security_groups;",
    .uninstall_sql = "DROP FUNCTION IF EXISTS rds_security_groups_write();\n"
                     "DROP TRIGGER IF EXISTS subnet_used_by_db_subnet_group ON subnet;\n"
                     "DROP FUNCTION IF EXISTS subnet_used_by_db_subnet_group();\n"
                     "DROP TRIGGER IF EXISTS security_group_used_by_rds ON security_group;\n"
                     "DROP FUNCTION IF EXISTS security_group_used_by_rds();\n"
                     "DROP FUNCTION IF EXISTS db_subnet_group_subnets_valid();\n"
                     "DROP FUNCTION IF EXISTS rds_security_groups_valid();\n"
                     "DROP FUNCTION IF EXISTS rds_hide_password();\n"
                     "DROP FUNCTION IF EXISTS rds_backup_default();\n"
                     "DROP FUNCTION IF EXISTS rds_engine_of_its_cluster();\n"
                     "DROP FUNCTION IF EXISTS rds_allocated_storage_only_grows();\n"
                     "DROP FUNCTION IF EXISTS rds_deletion_protection_off_before_delete();\n"
                     "DROP FUNCTION IF EXISTS rds_tags_valid(jsonb);\n"
                     "DROP FUNCTION IF EXISTS rds_identifier_valid(text, integer);\n"
                     "DROP FUNCTION IF EXISTS rds_parameters_valid(jsonb);\n"
                     "DELETE FROM iasql_secret WHERE table_name IN ('rds', 'db_cluster');",
    .tables = rds_tables,
};
