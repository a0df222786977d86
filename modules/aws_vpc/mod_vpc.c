/* modules/aws_vpc/mod_vpc.c — VPCs, subnets, internet gateways, route
 * tables and routes over the EC2 API, and the module's table list (the
 * zones, elastic IPs and NAT gateways are in mod_vpc_nat.c; associations
 * and gateway endpoints in mod_vpc_endpoint.c). References arrive
 * resolved: the "vpc" member of a subnet image is the VPC's vpc-... id
 * here. */
#include <stdio.h>
#include <string.h>

#include "modules/aws_vpc/mod_vpc_int.h"

int vpc_keep_row(json_t *rows, json_t *row)
{
    if (row)
        json_array_append_new(rows, row);
    return 0;
}

int vpc_read_by_id(mod_ctx *ctx, const json_t *image, const char *id_col, const char *id_param,
                   const char *action, const char *set, ec2_row_fn fn, json_t **out, cm_err *err)
{
    const char *region = ec2_str(image, "region");
    const char *id = ec2_str(image, id_col);
    json_t *p = json_object();
    char name[64];
    snprintf(name, sizeof name, "%s.1", id_param);
    if (*id)
        json_object_set_new(p, name, json_string(id));
    else if (!ec2_token_filter(ctx, p)) {
        json_decref(p);
        *out = NULL;
        return cm_err_set(err, CM_ENOTFOUND, "no %s to read by", id_col);
    }
    return ec2_read_one(ctx, region, action, p, set, fn, out, err);
}

/* ---- vpc ---- */

static int vpc_attribute(mod_ctx *ctx, const char *region, const char *vpc_id, const char *attr,
                         json_t **out, cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(ctx, region, "DescribeVpcAttribute",
                    json_pack("{s:s, s:s}", "VpcId", vpc_id, "Attribute", attr), &doc, &root, err,
                    vpc_id);
    if (rc)
        return rc;
    char elem[64];
    snprintf(elem, sizeof elem, "%s", attr);
    xmlNodePtr a = aws_xml_child(root, elem);
    *out = ec2_bool(a, "value");
    xmlFreeDoc(doc);
    return 0;
}

static json_t *vpc_row(mod_ctx *ctx, const char *region, xmlNodePtr item)
{
    char state[32];
    aws_xml_child_text(item, "state", state, sizeof state);
    if (strcmp(state, "deleted") == 0)
        return NULL;
    json_t *row = ec2_owned(item, json_pack("{s:o, s:s, s:o, s:o, s:o}", "cidr_block",
                                            ec2_text(item, "cidrBlock"), "region", region, "tags",
                                            ec2_tags(item), "vpc_id", ec2_text(item, "vpcId"),
                                            "is_default", ec2_bool(item, "isDefault")));
    const char *id = ec2_str(row, "vpc_id");
    static const char *const attrs[][2] = {{"enableDnsSupport", "enable_dns_support"},
                                           {"enableDnsHostnames", "enable_dns_hostnames"}};
    for (int i = 0; i < 2; i++) {
        json_t *v;
        cm_err err = {0};
        if (vpc_attribute(ctx, region, id, attrs[i][0], &v, &err)) {
            cm_log(CM_LOG_WARN, "vpc %s: %s", id, err.msg);
            v = json_boolean(i == 0);
        }
        json_object_set_new(row, attrs[i][1], v);
    }
    return row;
}

static int vpc_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)err;
    return vpc_keep_row(arg, vpc_row(ctx, region, item));
}

static int vpc_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    *out = json_array();
    return ec2_each_region(ctx, regions, n, "DescribeVpcs", "vpcSet", vpc_each, *out, err);
}

static int vpc_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    return vpc_read_by_id(ctx, image, "vpc_id", "VpcId", "DescribeVpcs", "vpcSet", vpc_row, out,
                          err);
}

static int vpc_set_dns(mod_ctx *ctx, const char *region, const char *id, const json_t *known,
                       const json_t *desired, cm_err *err)
{
    static const char *const cols[][2] = {{"enable_dns_support", "EnableDnsSupport.Value"},
                                          {"enable_dns_hostnames", "EnableDnsHostnames.Value"}};
    static const bool defaults[] = {true, false};
    int rc = 0;
    /* Support before hostnames when turning on, after when turning off. */
    bool off = !json_is_true(json_object_get(desired, cols[0][0]));
    for (int k = 0; !rc && k < 2; k++) {
        int i = off ? 1 - k : k;
        json_t *want = json_object_get(desired, cols[i][0]);
        json_t *had = json_object_get(known, cols[i][0]);
        bool w = json_is_true(want), h = had ? json_is_true(had) : defaults[i];
        if (w == h)
            continue;
        rc = ec2_op(ctx, region, "ModifyVpcAttribute",
                    json_pack("{s:s, s:b}", "VpcId", id, cols[i][1], w), NULL, NULL, err, id);
    }
    return rc;
}

static int vpc_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = ec2_str(desired, "region");
    char id[64];
    int rc = ec2_create(ctx, region, "CreateVpc",
                        json_pack("{s:s}", "CidrBlock", ec2_str(desired, "cidr_block")), "vpc",
                        json_object_get(desired, "tags"), "vpc/vpcId", id, sizeof id, err,
                        ec2_str(desired, "cidr_block"));
    if (rc)
        return rc;
    rc = vpc_set_dns(ctx, region, id, NULL, desired, err);
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "vpc_id", json_string(id));
    json_object_set_new(*out, "is_default", json_false());
    return rc;
}

static int vpc_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    const char *region = ec2_str(known, "region"), *id = ec2_str(known, "vpc_id");
    int rc = vpc_set_dns(ctx, region, id, known, desired, err);
    if (!rc)
        rc = ec2_retag(ctx, region, id, known, desired, err);
    if (!rc)
        *out = ec2_updated(known, desired, "vpc_id", "is_default", NULL);
    return rc;
}

static int vpc_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    return ec2_delete(ctx, known, "DeleteVpc", "VpcId", "vpc_id", err);
}

/* ---- subnet ---- */

static json_t *subnet_row(mod_ctx *ctx, const char *region, xmlNodePtr item)
{
    (void)ctx;
    return ec2_owned(
        item,
        json_pack("{s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "vpc", ec2_text(item, "vpcId"),
                  "cidr_block", ec2_text(item, "cidrBlock"), "availability_zone",
                  ec2_text(item, "availabilityZone"), "region", region, "map_public_ip_on_launch",
                  ec2_bool(item, "mapPublicIpOnLaunch"), "tags", ec2_tags(item), "subnet_id",
                  ec2_text(item, "subnetId"), "default_for_az", ec2_bool(item, "defaultForAz")));
}

static int subnet_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)err;
    return vpc_keep_row(arg, subnet_row(ctx, region, item));
}

static int subnet_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out,
                       cm_err *err)
{
    *out = json_array();
    return ec2_each_region(ctx, regions, n, "DescribeSubnets", "subnetSet", subnet_each, *out, err);
}

static int subnet_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    return vpc_read_by_id(ctx, image, "subnet_id", "SubnetId", "DescribeSubnets", "subnetSet",
                          subnet_row, out, err);
}

static int subnet_public_ip(mod_ctx *ctx, const char *region, const char *id, bool on, cm_err *err)
{
    return ec2_op(ctx, region, "ModifySubnetAttribute",
                  json_pack("{s:s, s:b}", "SubnetId", id, "MapPublicIpOnLaunch.Value", on), NULL,
                  NULL, err, id);
}

static int subnet_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = ec2_str(desired, "region");
    json_t *p = json_pack("{s:s, s:s, s:s}", "VpcId", ec2_str(desired, "vpc"), "CidrBlock",
                          ec2_str(desired, "cidr_block"), "AvailabilityZone",
                          ec2_str(desired, "availability_zone"));
    char id[64];
    int rc = ec2_create(ctx, region, "CreateSubnet", p, "subnet", json_object_get(desired, "tags"),
                        "subnet/subnetId", id, sizeof id, err, ec2_str(desired, "cidr_block"));
    if (rc)
        return rc;
    if (json_is_true(json_object_get(desired, "map_public_ip_on_launch")))
        rc = subnet_public_ip(ctx, region, id, true, err);
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "subnet_id", json_string(id));
    json_object_set_new(*out, "default_for_az", json_false());
    return rc;
}

static int subnet_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                         cm_err *err)
{
    const char *region = ec2_str(known, "region"), *id = ec2_str(known, "subnet_id");
    int rc = 0;
    json_t *want = json_object_get(desired, "map_public_ip_on_launch");
    if (!json_equal(want, json_object_get(known, "map_public_ip_on_launch")))
        rc = subnet_public_ip(ctx, region, id, json_is_true(want), err);
    if (!rc)
        rc = ec2_retag(ctx, region, id, known, desired, err);
    if (!rc)
        *out = ec2_updated(known, desired, "subnet_id", "default_for_az", NULL);
    return rc;
}

static int subnet_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    return ec2_delete(ctx, known, "DeleteSubnet", "SubnetId", "subnet_id", err);
}

/* ---- internet gateway ---- */

static json_t *igw_row(mod_ctx *ctx, const char *region, xmlNodePtr item)
{
    (void)ctx;
    xmlNodePtr att = aws_xml_path(item, "attachmentSet/item");
    return ec2_owned(item, json_pack("{s:o, s:s, s:o, s:o}", "vpc",
                                     att ? ec2_text(att, "vpcId") : json_null(), "region", region,
                                     "tags", ec2_tags(item), "internet_gateway_id",
                                     ec2_text(item, "internetGatewayId")));
}

static int igw_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)err;
    return vpc_keep_row(arg, igw_row(ctx, region, item));
}

static int igw_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    *out = json_array();
    return ec2_each_region(ctx, regions, n, "DescribeInternetGateways", "internetGatewaySet",
                           igw_each, *out, err);
}

static int igw_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    return vpc_read_by_id(ctx, image, "internet_gateway_id", "InternetGatewayId",
                          "DescribeInternetGateways", "internetGatewaySet", igw_row, out, err);
}

static int igw_attach(mod_ctx *ctx, const char *region, const char *id, const char *vpc,
                      bool attach, cm_err *err)
{
    return ec2_op(ctx, region, attach ? "AttachInternetGateway" : "DetachInternetGateway",
                  json_pack("{s:s, s:s}", "InternetGatewayId", id, "VpcId", vpc), NULL, NULL, err,
                  id);
}

static int igw_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = ec2_str(desired, "region");
    char id[64];
    int rc = ec2_create(ctx, region, "CreateInternetGateway", json_object(), "internet-gateway",
                        json_object_get(desired, "tags"), "internetGateway/internetGatewayId", id,
                        sizeof id, err, "a new internet gateway");
    if (rc)
        return rc;
    if (*ec2_str(desired, "vpc"))
        rc = igw_attach(ctx, region, id, ec2_str(desired, "vpc"), true, err);
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "internet_gateway_id", json_string(id));
    if (rc) /* made but not attached: known without its VPC */
        json_object_set_new(*out, "vpc", json_null());
    return rc;
}

static int igw_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    const char *region = ec2_str(known, "region"), *id = ec2_str(known, "internet_gateway_id");
    const char *was = ec2_str(known, "vpc"), *want = ec2_str(desired, "vpc");
    int rc = 0;
    if (strcmp(was, want) != 0) {
        if (*was)
            rc = igw_attach(ctx, region, id, was, false, err);
        if (!rc && *want)
            rc = igw_attach(ctx, region, id, want, true, err);
    }
    if (!rc)
        rc = ec2_retag(ctx, region, id, known, desired, err);
    if (!rc)
        *out = ec2_updated(known, desired, "internet_gateway_id", NULL);
    return rc;
}

static int igw_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *vpc = ec2_str(known, "vpc");
    int rc = 0;
    if (*vpc)
        rc = igw_attach(ctx, ec2_str(known, "region"), ec2_str(known, "internet_gateway_id"), vpc,
                        false, err);
    if (!rc)
        rc = ec2_delete(ctx, known, "DeleteInternetGateway", "InternetGatewayId",
                        "internet_gateway_id", err);
    return rc;
}

/* ---- route table ---- */

static json_t *rtb_row(mod_ctx *ctx, const char *region, xmlNodePtr item)
{
    (void)ctx;
    bool main = false;
    xmlNodePtr set = aws_xml_child(item, "associationSet");
    for (xmlNodePtr a = set ? aws_xml_child(set, "item") : NULL; a; a = aws_xml_next(a, "item")) {
        char m[8];
        aws_xml_child_text(a, "main", m, sizeof m);
        main = main || strcmp(m, "true") == 0;
    }
    return ec2_owned(item, json_pack("{s:o, s:s, s:o, s:o, s:b}", "vpc", ec2_text(item, "vpcId"),
                                     "region", region, "tags", ec2_tags(item), "route_table_id",
                                     ec2_text(item, "routeTableId"), "main", main));
}

static int rtb_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)err;
    return vpc_keep_row(arg, rtb_row(ctx, region, item));
}

static int rtb_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    *out = json_array();
    return ec2_each_region(ctx, regions, n, "DescribeRouteTables", "routeTableSet", rtb_each, *out,
                           err);
}

static int rtb_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    return vpc_read_by_id(ctx, image, "route_table_id", "RouteTableId", "DescribeRouteTables",
                          "routeTableSet", rtb_row, out, err);
}

static int rtb_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = ec2_str(desired, "region");
    char id[64];
    int rc = ec2_create(ctx, region, "CreateRouteTable",
                        json_pack("{s:s}", "VpcId", ec2_str(desired, "vpc")), "route-table",
                        json_object_get(desired, "tags"), "routeTable/routeTableId", id, sizeof id,
                        err, ec2_str(desired, "vpc"));
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "route_table_id", json_string(id));
    json_object_set_new(*out, "main", json_false());
    return 0;
}

static int rtb_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    int rc = ec2_retag(ctx, ec2_str(known, "region"), ec2_str(known, "route_table_id"), known,
                       desired, err);
    if (!rc)
        *out = ec2_updated(known, desired, "route_table_id", "main", NULL);
    return rc;
}

static int rtb_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    return ec2_delete(ctx, known, "DeleteRouteTable", "RouteTableId", "route_table_id", err);
}

static bool rtb_implicit(const json_t *known)
{
    return json_is_true(json_object_get(known, "main"));
}

/* ---- route ---- */

/* The routes of one route table item that iasql describes: local ones and
 * those to an internet gateway or a NAT gateway. */
static void route_rows(xmlNodePtr table, const char *region, const char *only_dest, json_t *rows)
{
    char rtb[64];
    aws_xml_child_text(table, "routeTableId", rtb, sizeof rtb);
    xmlNodePtr set = aws_xml_child(table, "routeSet");
    for (xmlNodePtr r = set ? aws_xml_child(set, "item") : NULL; r; r = aws_xml_next(r, "item")) {
        char dest[64], gw[64], nat[64], state[32];
        aws_xml_child_text(r, "destinationCidrBlock", dest, sizeof dest);
        aws_xml_child_text(r, "gatewayId", gw, sizeof gw);
        aws_xml_child_text(r, "natGatewayId", nat, sizeof nat);
        aws_xml_child_text(r, "state", state, sizeof state);
        /* a blackhole route's target is gone: not described (a create of
         * its destination replaces it) */
        if (!dest[0] || (only_dest && strcmp(dest, only_dest) != 0) ||
            strcmp(state, "blackhole") == 0)
            continue;
        bool local = strcmp(gw, "local") == 0, igw = strncmp(gw, "igw-", 4) == 0;
        if (!local && !igw && !nat[0])
            continue;
        json_array_append_new(rows, json_pack("{s:s, s:s, s:o, s:o, s:b, s:s}", "route_table", rtb,
                                              "destination_cidr_block", dest, "internet_gateway",
                                              igw ? json_string(gw) : json_null(), "nat_gateway",
                                              nat[0] ? json_string(nat) : json_null(), "local",
                                              local, "region", region));
    }
}

static int route_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)ctx;
    (void)err;
    route_rows(item, region, NULL, arg);
    return 0;
}

static int route_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    *out = json_array();
    return ec2_each_region(ctx, regions, n, "DescribeRouteTables", "routeTableSet", route_each,
                           *out, err);
}

static int route_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *region = ec2_str(image, "region"), *rtb = ec2_str(image, "route_table");
    xmlDocPtr doc;
    xmlNodePtr root;
    *out = NULL;
    int rc = ec2_op(ctx, region, "DescribeRouteTables", json_pack("{s:s}", "RouteTableId.1", rtb),
                    &doc, &root, err, rtb);
    if (rc && strstr(err->cloud_code, "NotFound")) {
        cm_err_clear(err);
        return CM_ENOTFOUND;
    }
    if (rc)
        return rc;
    json_t *rows = json_array();
    xmlNodePtr item = aws_xml_path(root, "routeTableSet/item");
    if (item)
        route_rows(item, region, ec2_str(image, "destination_cidr_block"), rows);
    xmlFreeDoc(doc);
    if (json_array_size(rows))
        *out = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return *out ? 0 : CM_ENOTFOUND;
}

/* The route's destination and its one target. */
static json_t *route_params(const json_t *img)
{
    bool nat = *ec2_str(img, "nat_gateway");
    return json_pack("{s:s, s:s, s:s}", "RouteTableId", ec2_str(img, "route_table"),
                     "DestinationCidrBlock", ec2_str(img, "destination_cidr_block"),
                     nat ? "NatGatewayId" : "GatewayId",
                     ec2_str(img, nat ? "nat_gateway" : "internet_gateway"));
}

static int route_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    if (json_is_true(json_object_get(desired, "local")))
        return cm_err_set(err, CM_EINVAL, "a local route is AWS's own: it cannot be created");
    const char *region = ec2_str(desired, "region");
    int rc = ec2_op(ctx, region, "CreateRoute", route_params(desired), NULL, NULL, err,
                    ec2_str(desired, "destination_cidr_block"));
    if (rc && strcmp(err->cloud_code, "RouteAlreadyExists") == 0) {
        /* an earlier, interrupted try made it, or a dead (blackhole) route
         * holds the destination: pointed where the row says */
        cm_err_clear(err);
        rc = ec2_op(ctx, region, "ReplaceRoute", route_params(desired), NULL, NULL, err,
                    ec2_str(desired, "destination_cidr_block"));
    }
    if (!rc)
        *out = json_deep_copy(desired);
    return rc;
}

static int route_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                        cm_err *err)
{
    int rc = ec2_op(ctx, ec2_str(known, "region"), "ReplaceRoute", route_params(desired), NULL,
                    NULL, err, ec2_str(desired, "destination_cidr_block"));
    if (!rc)
        *out = json_deep_copy(desired);
    return rc;
}

static int route_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    return ec2_op(ctx, ec2_str(known, "region"), "DeleteRoute",
                  json_pack("{s:s, s:s}", "RouteTableId", ec2_str(known, "route_table"),
                            "DestinationCidrBlock", ec2_str(known, "destination_cidr_block")),
                  NULL, NULL, err, ec2_str(known, "destination_cidr_block"));
}

static bool route_implicit(const json_t *known)
{
    return json_is_true(json_object_get(known, "local"));
}

/* ---- the module ---- */

static const mod_table_ops vpc_ops = {vpc_list, vpc_create, vpc_update, vpc_read, vpc_remove, NULL};
static const mod_column vpc_columns[] = {{"vpc_id", CID},
                                         {"cidr_block", IMM},
                                         {"region", IMM},
                                         {"enable_dns_support", 0},
                                         {"enable_dns_hostnames", 0},
                                         {"tags", 0},
                                         {"is_default", OWNED},
                                         {NULL, 0}};
static const mod_table vpc_table = {"vpc", vpc_columns, &vpc_ops, "ec2"};

static const mod_table_ops subnet_ops = {subnet_list, subnet_create, subnet_update,
                                         subnet_read, subnet_remove, NULL};
static const mod_column subnet_columns[] = {{"subnet_id", CID},
                                            {"vpc", IMM, "vpc"},
                                            {"cidr_block", IMM},
                                            {"availability_zone", IMM},
                                            {"region", IMM},
                                            {"map_public_ip_on_launch", 0},
                                            {"tags", 0},
                                            {"default_for_az", OWNED},
                                            {NULL, 0}};
static const mod_table subnet_table = {"subnet", subnet_columns, &subnet_ops, "ec2"};

static const mod_table_ops igw_ops = {igw_list, igw_create, igw_update, igw_read, igw_remove, NULL};
static const mod_column igw_columns[] = {
    {"internet_gateway_id", CID}, {"vpc", 0, "vpc"}, {"region", IMM}, {"tags", 0}, {NULL, 0}};
static const mod_table igw_table = {"internet_gateway", igw_columns, &igw_ops, "ec2"};

static const mod_table_ops rtb_ops = {rtb_list, rtb_create, rtb_update, rtb_read, rtb_remove, NULL};
static const mod_column rtb_columns[] = {{"route_table_id", CID}, {"vpc", IMM, "vpc"},
                                         {"region", IMM},         {"tags", 0},
                                         {"main", OWNED},         {NULL, 0}};
static const mod_table rtb_table = {"route_table", rtb_columns,  &rtb_ops,
                                    "ec2",         rtb_implicit, "vpc"};

static const mod_table_ops route_ops = {route_list, route_create, route_update,
                                        route_read, route_remove, NULL};
static const mod_column route_columns[] = {{"route_table", IMM, "route_table"},
                                           {"destination_cidr_block", MOD_COL_CLOUD_ID | IMM},
                                           {"internet_gateway", 0, "internet_gateway"},
                                           {"nat_gateway", MOD_COL_MAY_DANGLE, "nat_gateway"},
                                           {"local", IMM},
                                           {"region", IMM},
                                           {NULL, 0}};
static const mod_table route_table = {"route", route_columns,  &route_ops,
                                      "ec2",   route_implicit, "route_table"};

static const mod_table *const vpc_tables[] = {
    &vpc_table,     &vpc_zone_table,     &subnet_table, &igw_table,
    &vpc_eip_table, &vpc_nat_table,      &rtb_table,    &vpc_assoc_table,
    &route_table,   &vpc_endpoint_table, NULL};
static const char *const vpc_deps[] = {"aws_account", NULL};

extern const char iasql_sql_aws_vpc[];

const mod_module mod_aws_vpc = {
    .name = "aws_vpc",
    .version = IASQL_VERSION,
    .deps = vpc_deps,
    .install_sql = iasql_sql_aws_vpc,
    .uninstall_sql = "DROP FUNCTION IF EXISTS subnet_inside_vpc();\n"
                     "DROP FUNCTION IF EXISTS subnet_zone_offered();\n"
                     "DROP FUNCTION IF EXISTS route_table_association_same_vpc();\n"
                     "DROP FUNCTION IF EXISTS endpoint_gateway_route_tables_valid();\n"
                     "DROP FUNCTION IF EXISTS route_table_leaves_endpoints();\n"
                     "DROP FUNCTION IF EXISTS ec2_tags_valid(jsonb);",
    .tables = vpc_tables,
};
