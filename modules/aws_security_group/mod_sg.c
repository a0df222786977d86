/* modules/aws_security_group/mod_sg.c — security groups and their rules
 * over the EC2 API. A rule is one AWS security group rule (sgr-...): it
 * cannot change but for its description, so any other change replaces it. */
#include <stdio.h>
#include <string.h>

#include "modules/aws/mod_ec2.h"

#define IMM MOD_COL_IMMUTABLE
#define CID (MOD_COL_CLOUD_ID | MOD_COL_CLOUD_OWNED)

/* ---- security group ---- */

static json_t *sg_row(mod_ctx *ctx, const char *region, xmlNodePtr item)
{
    (void)ctx;
    json_t *vpc = ec2_text(item, "vpcId");
    if (!json_is_string(vpc)) { /* EC2-Classic: not described here */
        json_decref(vpc);
        return NULL;
    }
    return ec2_owned(
        item, json_pack("{s:o, s:o, s:o, s:s, s:o, s:o}", "group_name", ec2_text(item, "groupName"),
                        "description", ec2_text(item, "groupDescription"), "vpc", vpc, "region",
                        region, "tags", ec2_tags(item), "group_id", ec2_text(item, "groupId")));
}

static int sg_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)err;
    json_t *row = sg_row(ctx, region, item);
    if (row)
        json_array_append_new(arg, row);
    return 0;
}

static int sg_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    *out = json_array();
    return ec2_each_region(ctx, regions, n, "DescribeSecurityGroups", "securityGroupInfo", sg_each,
                           *out, err);
}

static int sg_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    json_t *p = json_object();
    const char *id = ec2_str(image, "group_id");
    if (*id) {
        json_object_set_new(p, "GroupId.1", json_string(id));
    } else { /* not written back yet: by name in its VPC */
        json_object_set_new(p, "Filter.1.Name", json_string("group-name"));
        json_object_set_new(p, "Filter.1.Value.1", json_string(ec2_str(image, "group_name")));
        json_object_set_new(p, "Filter.2.Name", json_string("vpc-id"));
        json_object_set_new(p, "Filter.2.Value.1", json_string(ec2_str(image, "vpc")));
    }
    return ec2_read_one(ctx, ec2_str(image, "region"), "DescribeSecurityGroups", p,
                        "securityGroupInfo", sg_row, out, err);
}

static int sg_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = ec2_str(desired, "region");
    json_t *p = json_pack("{s:s, s:s, s:s}", "GroupName", ec2_str(desired, "group_name"),
                          "GroupDescription", ec2_str(desired, "description"), "VpcId",
                          ec2_str(desired, "vpc"));
    char id[64];
    int rc = ec2_create(ctx, region, "CreateSecurityGroup", p, "security-group",
                        json_object_get(desired, "tags"), "groupId", id, sizeof id, err,
                        ec2_str(desired, "group_name"));
    if (rc && strcmp(err->cloud_code, "InvalidGroup.Duplicate") == 0) {
        /* made by an earlier, interrupted try (the name is unique in its VPC) */
        cm_err_clear(err);
        json_t *found;
        rc = sg_read(ctx, desired, &found, err);
        if (!rc) {
            *out = json_deep_copy(desired);
            json_object_set(*out, "group_id", json_object_get(found, "group_id"));
            json_decref(found);
        }
        return rc;
    }
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "group_id", json_string(id));
    return 0;
}

static int sg_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                     cm_err *err)
{
    int rc =
        ec2_retag(ctx, ec2_str(known, "region"), ec2_str(known, "group_id"), known, desired, err);
    if (!rc)
        *out = ec2_updated(known, desired, "group_id", NULL);
    return rc;
}

static int sg_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *id = ec2_str(known, "group_id");
    if (!*id)
        return 0;
    int rc = ec2_op(ctx, ec2_str(known, "region"), "DeleteSecurityGroup",
                    json_pack("{s:s}", "GroupId", id), NULL, NULL, err, id);
    if (rc && (strcmp(err->cloud_code, "CannotDelete") == 0 ||
               strcmp(err->cloud_code, "InvalidGroup.Reserved") == 0))
        return cm_err_set(err, CM_ECLOUD,
                          "%s is the default security group of its VPC: AWS deletes it only "
                          "with the VPC",
                          id);
    return rc;
}

static bool sg_implicit(const json_t *known)
{
    const char *name = json_string_value(json_object_get(known, "group_name"));
    return name && strcmp(name, "default") == 0;
}

/* ---- security group rule ---- */

static json_t *rule_row(mod_ctx *ctx, const char *region, xmlNodePtr item)
{
    (void)ctx;
    json_t *proto = ec2_text(item, "ipProtocol");
    bool all = json_is_string(proto) && strcmp(json_string_value(proto), "-1") == 0;
    xmlNodePtr ref = aws_xml_child(item, "referencedGroupInfo");
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o}", "security_group",
        ec2_text(item, "groupId"), "is_egress", ec2_bool(item, "isEgress"), "ip_protocol", proto,
        "from_port", all ? json_null() : ec2_int(item, "fromPort"), "to_port",
        all ? json_null() : ec2_int(item, "toPort"), "cidr_ipv4", ec2_text(item, "cidrIpv4"),
        "source_security_group", ref ? ec2_text(ref, "groupId") : json_null(), "description",
        ec2_text(item, "description"), "region", region, "security_group_rule_id",
        ec2_text(item, "securityGroupRuleId"));
}

static int rule_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)err;
    json_array_append_new(arg, rule_row(ctx, region, item));
    return 0;
}

static int rule_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    *out = json_array();
    return ec2_each_region(ctx, regions, n, "DescribeSecurityGroupRules", "securityGroupRuleSet",
                           rule_each, *out, err);
}

static int rule_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *id = ec2_str(image, "security_group_rule_id");
    if (!*id)
        return cm_err_set(err, CM_ENOTFOUND, "no security_group_rule_id to read by");
    return ec2_read_one(ctx, ec2_str(image, "region"), "DescribeSecurityGroupRules",
                        json_pack("{s:s}", "SecurityGroupRuleId.1", id), "securityGroupRuleSet",
                        rule_row, out, err);
}

static const char *rule_action(const json_t *img, bool add)
{
    bool egress = json_is_true(json_object_get(img, "is_egress"));
    return add ? (egress ? "AuthorizeSecurityGroupEgress" : "AuthorizeSecurityGroupIngress")
               : (egress ? "RevokeSecurityGroupEgress" : "RevokeSecurityGroupIngress");
}

static bool same_text(const json_t *a, const json_t *b, const char *key)
{
    const char *x = json_string_value(json_object_get(a, key));
    const char *y = json_string_value(json_object_get(b, key));
    return strcmp(x ? x : "", y ? y : "") == 0;
}

static bool same_port(const json_t *a, const json_t *b, const char *key)
{
    const json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
    if (!json_is_integer(x) || !json_is_integer(y))
        return !json_is_integer(x) && !json_is_integer(y);
    return json_integer_value(x) == json_integer_value(y);
}

/* The rule of desired's group that allows what desired allows, when EC2
 * says it exists already (AWS made it with the group: a new group's egress
 * of all traffic, or the user's rule was made by an earlier attempt). */
static int rule_existing(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = ec2_str(desired, "region"), *group = ec2_str(desired, "security_group");
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(ctx, region, "DescribeSecurityGroupRules",
                    json_pack("{s:s, s:s}", "Filter.1.Name", "group-id", "Filter.1.Value.1", group),
                    &doc, &root, err, group);
    if (rc)
        return rc;
    *out = NULL;
    xmlNodePtr set = aws_xml_child(root, "securityGroupRuleSet");
    for (xmlNodePtr it = set ? aws_xml_child(set, "item") : NULL; it && !*out;
         it = aws_xml_next(it, "item")) {
        json_t *row = rule_row(ctx, region, it);
        if (json_equal(json_object_get(row, "is_egress"), json_object_get(desired, "is_egress")) &&
            same_text(row, desired, "ip_protocol") && same_port(row, desired, "from_port") &&
            same_port(row, desired, "to_port") && same_text(row, desired, "cidr_ipv4") &&
            same_text(row, desired, "source_security_group")) {
            *out = json_deep_copy(desired);
            json_object_set(*out, "security_group_rule_id",
                            json_object_get(row, "security_group_rule_id"));
        }
        json_decref(row);
    }
    xmlFreeDoc(doc);
    return *out ? 0
                : cm_err_set(err, CM_ENOTFOUND, "EC2 says the rule exists but lists none like it");
}

static int rule_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    json_t *p = json_pack("{s:s, s:s}", "GroupId", ec2_str(desired, "security_group"),
                          "IpPermissions.1.IpProtocol", ec2_str(desired, "ip_protocol"));
    json_t *from = json_object_get(desired, "from_port"), *to = json_object_get(desired, "to_port");
    if (json_is_integer(from))
        json_object_set(p, "IpPermissions.1.FromPort", from);
    if (json_is_integer(to))
        json_object_set(p, "IpPermissions.1.ToPort", to);
    const char *desc = ec2_str(desired, "description");
    if (*ec2_str(desired, "cidr_ipv4")) {
        json_object_set_new(p, "IpPermissions.1.IpRanges.1.CidrIp",
                            json_string(ec2_str(desired, "cidr_ipv4")));
        if (*desc)
            json_object_set_new(p, "IpPermissions.1.IpRanges.1.Description", json_string(desc));
    } else {
        json_object_set_new(p, "IpPermissions.1.Groups.1.GroupId",
                            json_string(ec2_str(desired, "source_security_group")));
        if (*desc)
            json_object_set_new(p, "IpPermissions.1.Groups.1.Description", json_string(desc));
    }
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(ctx, ec2_str(desired, "region"), rule_action(desired, true), p, &doc, &root,
                    err, ec2_str(desired, "security_group"));
    if (rc && strcmp(err->cloud_code, "InvalidPermission.Duplicate") == 0) {
        cm_err_clear(err);
        return rule_existing(ctx, desired, out, err);
    }
    if (rc)
        return rc;
    char id[64];
    aws_xml_child_text(aws_xml_path(root, "securityGroupRuleSet/item"), "securityGroupRuleId", id,
                       sizeof id);
    xmlFreeDoc(doc);
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "security_group_rule_id", id[0] ? json_string(id) : json_null());
    return 0;
}

static int rule_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                       cm_err *err)
{
    (void)ctx;
    (void)known;
    (void)desired;
    *out = NULL;
    return cm_err_set(err, CM_EINVAL, "a security group rule changes only by replacement");
}

static int rule_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *id = ec2_str(known, "security_group_rule_id");
    if (!*id)
        return 0;
    return ec2_op(ctx, ec2_str(known, "region"), rule_action(known, false),
                  json_pack("{s:s, s:s}", "GroupId", ec2_str(known, "security_group"),
                            "SecurityGroupRuleId.1", id),
                  NULL, NULL, err, id);
}

static const mod_table_ops sg_ops = {sg_list, sg_create, sg_update, sg_read, sg_remove, NULL};
static const mod_column sg_columns[] = {{"group_id", CID},
                                        {"group_name", IMM | MOD_COL_UNIQUE},
                                        {"description", IMM},
                                        {"vpc", IMM, "vpc"},
                                        {"region", IMM},
                                        {"tags", 0},
                                        {NULL, 0}};
static const mod_table sg_table = {"security_group", sg_columns, &sg_ops, "ec2",
                                   sg_implicit,      "vpc"};

static const mod_table_ops rule_ops = {rule_list, rule_create, rule_update,
                                       rule_read, rule_remove, NULL};
static const mod_column rule_columns[] = {{"security_group_rule_id", CID},
                                          {"security_group", IMM, "security_group"},
                                          {"is_egress", IMM},
                                          {"ip_protocol", IMM},
                                          {"from_port", IMM},
                                          {"to_port", IMM},
                                          {"cidr_ipv4", IMM},
                                          {"source_security_group", IMM, "security_group"},
                                          {"description", IMM},
                                          {"region", IMM},
                                          {NULL, 0}};
/* The rules AWS gives a group: every group's egress of all traffic to
 * 0.0.0.0/0, and the default group's ingress of all traffic from itself
 * (references as row ids, as a list gives them to the poll). */
static bool rule_with_parent(const json_t *row)
{
    const char *proto = json_string_value(json_object_get(row, "ip_protocol"));
    const char *cidr = json_string_value(json_object_get(row, "cidr_ipv4"));
    if (!proto || strcmp(proto, "-1") != 0)
        return false;
    if (json_is_true(json_object_get(row, "is_egress")))
        return cidr && strcmp(cidr, "0.0.0.0/0") == 0 &&
               json_is_null(json_object_get(row, "source_security_group"));
    const json_t *src = json_object_get(row, "source_security_group");
    return !cidr && src && !json_is_null(src) &&
           json_equal(src, json_object_get(row, "security_group"));
}

static const mod_table rule_table = {"security_group_rule", rule_columns,    &rule_ops, "ec2", NULL,
                                     "security_group",      rule_with_parent};

static const mod_table *const sg_tables[] = {&sg_table, &rule_table, NULL};
static const char *const sg_deps[] = {"aws_vpc", NULL};

extern const char iasql_sql_aws_security_group[];

const mod_module mod_aws_security_group = {
    .name = "aws_security_group",
    .version = IASQL_VERSION,
    .deps = sg_deps,
    .install_sql = iasql_sql_aws_security_group,
    .tables = sg_tables,
};
