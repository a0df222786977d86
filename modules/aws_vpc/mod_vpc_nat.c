/* modules/aws_vpc/mod_vpc_nat.c — the availability zones a region offers
 * (read from the cloud, never made or removed), elastic IPs and NAT
 * gateways over the EC2 API. A NAT gateway passes through pending and
 * deleting: its create waits until it is available, its delete until it is
 * deleted, so that what uses it (routes) or what it uses (its subnet, its
 * elastic IP) can go on. */
#include <stdio.h>
#include <string.h>

#include "modules/aws_vpc/mod_vpc_int.h"

/* How long a NAT gateway may take to become available or to go (AWS's own
 * waiters allow 10 minutes). */
#define NAT_WAIT_MS 600000
/* How long a public one's create waits for its VPC's internet gateway. */
#define NAT_IGW_WAIT_MS 60000

/* ---- availability zone ---- */

static json_t *zone_row(mod_ctx *ctx, const char *region, xmlNodePtr item)
{
    (void)ctx;
    return json_pack("{s:o, s:s, s:o, s:o}", "zone_name", ec2_text(item, "zoneName"), "region",
                     region, "zone_id", ec2_text(item, "zoneId"), "state",
                     ec2_text(item, "zoneState"));
}

static int zone_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)err;
    return vpc_keep_row(arg, zone_row(ctx, region, item));
}

static int zone_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    *out = json_array();
    return ec2_each_region(ctx, regions, n, "DescribeAvailabilityZones", "availabilityZoneInfo",
                           zone_each, *out, err);
}

/* The zone of image's name among those its region offers (a region has a
 * handful; asking by name is an error for an unknown one, not an empty
 * answer). */
static int zone_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *region = ec2_str(image, "region"), *name = ec2_str(image, "zone_name");
    json_t *rows = json_array();
    *out = NULL;
    int rc = ec2_each(ctx, region, "DescribeAvailabilityZones", json_object(),
                      "availabilityZoneInfo", zone_each, rows, err);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (!rc && !*out && strcmp(ec2_str(row, "zone_name"), name) == 0)
            *out = json_incref(row);
    }
    json_decref(rows);
    if (!rc && !*out)
        rc = cm_err_set(err, CM_ENOTFOUND, "region %s offers no zone %s", region, name);
    return rc;
}

/* A zone is the cloud's: a row for one it offers is that zone (a row put
 * back after a delete); any other is refused. */
static int zone_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    int rc = zone_read(ctx, desired, out, err);
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        return cm_err_set(err, CM_EINVAL,
                          "availability zone %s is not one that region %s offers Detail: "
                          "availability_zone lists the zones AWS has; iasql reads them and "
                          "cannot make one. Hint: Delete the row, or discard the change with "
                          "iasql_rollback().",
                          ec2_str(desired, "zone_name"), ec2_str(desired, "region"));
    }
    return rc;
}

static int zone_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                       cm_err *err)
{
    (void)ctx;
    (void)err;
    *out = ec2_updated(known, desired, "zone_id", "state", NULL);
    return 0;
}

static int zone_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    json_t *found = NULL;
    int rc = zone_read(ctx, known, &found, err);
    json_decref(found);
    if (rc == CM_ENOTFOUND) { /* the cloud no longer offers it: the row is right to go */
        cm_err_clear(err);
        return 0;
    }
    if (rc)
        return rc;
    return cm_err_set(err, CM_EINVAL,
                      "availability zone %s cannot be deleted Detail: it is AWS's; iasql only "
                      "reads the zones of region %s. Hint: Bring the row back with "
                      "iasql_rollback().",
                      ec2_str(known, "zone_name"), ec2_str(known, "region"));
}

/* ---- elastic IP ---- */

static json_t *eip_row(mod_ctx *ctx, const char *region, xmlNodePtr item)
{
    (void)ctx;
    json_t *alloc = ec2_text(item, "allocationId");
    if (!json_is_string(alloc)) { /* EC2-Classic: not described here */
        json_decref(alloc);
        return NULL;
    }
    return ec2_owned(item,
                     json_pack("{s:s, s:o, s:o, s:o}", "region", region, "tags", ec2_tags(item),
                               "allocation_id", alloc, "public_ip", ec2_text(item, "publicIp")));
}

static int eip_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)err;
    return vpc_keep_row(arg, eip_row(ctx, region, item));
}

static int eip_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    *out = json_array();
    return ec2_each_region(ctx, regions, n, "DescribeAddresses", "addressesSet", eip_each, *out,
                           err);
}

static int eip_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    return vpc_read_by_id(ctx, image, "allocation_id", "AllocationId", "DescribeAddresses",
                          "addressesSet", eip_row, out, err);
}

/* AllocateAddress takes no client token: the token tag finds an address an
 * interrupted create made (eip_read). */
static int eip_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    json_t *p = json_pack("{s:s}", "Domain", "vpc");
    ec2_tag_spec(ctx, p, "elastic-ip", json_object_get(desired, "tags"));
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(ctx, ec2_str(desired, "region"), "AllocateAddress", p, &doc, &root, err,
                    "a new elastic IP");
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "allocation_id", ec2_text(root, "allocationId"));
    json_object_set_new(*out, "public_ip", ec2_text(root, "publicIp"));
    xmlFreeDoc(doc);
    if (!json_is_string(json_object_get(*out, "allocation_id")))
        return cm_err_set(err, CM_EBADREPLY, "AllocateAddress: no allocationId in the answer");
    return 0;
}

static int eip_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    int rc = ec2_retag(ctx, ec2_str(known, "region"), ec2_str(known, "allocation_id"), known,
                       desired, err);
    if (!rc)
        *out = ec2_updated(known, desired, "allocation_id", "public_ip", NULL);
    return rc;
}

static int eip_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    return ec2_delete(ctx, known, "ReleaseAddress", "AllocationId", "allocation_id", err);
}

/* ---- NAT gateway ---- */

/* A gateway on its way out (or failed, which AWS deletes itself) is not
 * described. */
static bool nat_gone(const char *state)
{
    return strcmp(state, "deleted") == 0 || strcmp(state, "deleting") == 0 ||
           strcmp(state, "failed") == 0;
}

static json_t *nat_row(mod_ctx *ctx, const char *region, xmlNodePtr item)
{
    (void)ctx;
    char state[32];
    aws_xml_child_text(item, "state", state, sizeof state);
    if (nat_gone(state))
        return NULL;
    char type[16];
    aws_xml_child_text(item, "connectivityType", type, sizeof type);
    bool private = strcmp(type, "private") == 0;
    xmlNodePtr addr = aws_xml_path(item, "natGatewayAddressSet/item");
    json_t *alloc = !private && addr ? ec2_text(addr, "allocationId") : json_null();
    return ec2_owned(item, json_pack("{s:o, s:s, s:o, s:s, s:o, s:o, s:s}", "subnet",
                                     ec2_text(item, "subnetId"), "connectivity_type",
                                     private ? "private" : "public", "elastic_ip", alloc, "region",
                                     region, "tags", ec2_tags(item), "nat_gateway_id",
                                     ec2_text(item, "natGatewayId"), "state", state));
}

static int nat_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)err;
    return vpc_keep_row(arg, nat_row(ctx, region, item));
}

static int nat_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    *out = json_array();
    return ec2_each_region(ctx, regions, n, "DescribeNatGateways", "natGatewaySet", nat_each, *out,
                           err);
}

static int nat_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    return vpc_read_by_id(ctx, image, "nat_gateway_id", "NatGatewayId", "DescribeNatGateways",
                          "natGatewaySet", nat_row, out, err);
}

typedef struct nat_wait {
    const char *region, *id;
    bool gone; /* waiting for deleted, else for available */
    char *eni; /* 64 bytes: the gateway's network interface, once seen */
} nat_wait;

/* Done when the gateway reached what is waited for. One that failed is an
 * error with AWS's reason (no internet gateway, no free address...). An
 * emulator that answers available or deleted at once is done at the first
 * look. */
static int nat_probe(mod_ctx *ctx, const void *arg, bool *done, cm_err *err)
{
    const nat_wait *w = arg;
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(ctx, w->region, "DescribeNatGateways",
                    json_pack("{s:s}", "NatGatewayId.1", w->id), &doc, &root, err, w->id);
    if (rc && strstr(err->cloud_code, "NotFound")) { /* not visible yet, or long gone */
        cm_err_clear(err);
        *done = w->gone;
        return 0;
    }
    if (rc)
        return rc;
    xmlNodePtr item = aws_xml_path(root, "natGatewaySet/item");
    if (!w->eni[0])
        aws_xml_child_text(aws_xml_path(item, "natGatewayAddressSet/item"), "networkInterfaceId",
                           w->eni, 64);
    char state[32] = "", code[128] = "", msg[512] = "";
    aws_xml_child_text(item, "state", state, sizeof state);
    aws_xml_child_text(item, "failureCode", code, sizeof code);
    aws_xml_child_text(item, "failureMessage", msg, sizeof msg);
    xmlFreeDoc(doc);
    if (w->gone) {
        *done = !item || strcmp(state, "deleted") == 0 || strcmp(state, "failed") == 0;
        return 0;
    }
    if (strcmp(state, "failed") == 0 || strcmp(state, "deleted") == 0 ||
        strcmp(state, "deleting") == 0)
        return cm_err_set(err, CM_ECLOUD,
                          "NAT gateway %s is %s instead of available Detail: %s%s%s Hint: A "
                          "public NAT gateway needs an internet gateway attached to its VPC "
                          "and an elastic IP no other resource uses.",
                          w->id, state, code, code[0] ? ": " : "",
                          msg[0] ? msg : "no reason given");
    *done = strcmp(state, "available") == 0;
    return 0;
}

static int nat_wait_for(mod_ctx *ctx, const char *region, const char *id, bool gone, char *eni,
                        cm_err *err)
{
    nat_wait w = {region, id, gone, eni};
    return mod_wait(ctx, nat_probe, &w, NAT_WAIT_MS, id, err);
}

/* A deleted gateway's address is free in AWS. moto leaves it associated
 * with the gateway's network interface, so that the next gateway given it
 * is refused (Resource.AlreadyAssociated): an association still on that
 * interface, and only that one, is undone. */
static int nat_free_address(mod_ctx *ctx, const char *region, const char *alloc, const char *eni,
                            cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(ctx, region, "DescribeAddresses", json_pack("{s:s}", "AllocationId.1", alloc),
                    &doc, &root, err, alloc);
    if (rc && strstr(err->cloud_code, "NotFound")) {
        cm_err_clear(err);
        return 0;
    }
    if (rc)
        return rc;
    xmlNodePtr item = aws_xml_path(root, "addressesSet/item");
    char assoc[64] = "", on[64] = "";
    aws_xml_child_text(item, "associationId", assoc, sizeof assoc);
    aws_xml_child_text(item, "networkInterfaceId", on, sizeof on);
    xmlFreeDoc(doc);
    if (!assoc[0] || strcmp(on, eni) != 0)
        return 0;
    return ec2_op(ctx, region, "DisassociateAddress", json_pack("{s:s}", "AssociationId", assoc),
                  NULL, NULL, err, alloc);
}

typedef struct igw_wait {
    const char *region, *vpc;
} igw_wait;

static int igw_probe(mod_ctx *ctx, const void *arg, bool *done, cm_err *err)
{
    const igw_wait *w = arg;
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(
        ctx, w->region, "DescribeInternetGateways",
        json_pack("{s:s, s:s}", "Filter.1.Name", "attachment.vpc-id", "Filter.1.Value.1", w->vpc),
        &doc, &root, err, w->vpc);
    if (rc)
        return rc;
    char state[32] = "";
    aws_xml_child_text(aws_xml_path(root, "internetGatewaySet/item/attachmentSet/item"), "state",
                       state, sizeof state);
    xmlFreeDoc(doc);
    *done = strcmp(state, "available") == 0 || strcmp(state, "attached") == 0;
    return 0;
}

/* A public NAT gateway made before its VPC has an internet gateway fails
 * (Gateway.NotAttached), and one commit makes both at once: the create
 * first waits a while for the VPC's gateway, then goes on either way (AWS's
 * answer then says why). */
static int nat_await_internet(mod_ctx *ctx, const char *region, const char *subnet, cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(ctx, region, "DescribeSubnets", json_pack("{s:s}", "SubnetId.1", subnet), &doc,
                    &root, err, subnet);
    if (rc)
        return rc;
    char vpc[64] = "";
    aws_xml_child_text(aws_xml_path(root, "subnetSet/item"), "vpcId", vpc, sizeof vpc);
    xmlFreeDoc(doc);
    if (!vpc[0])
        return 0;
    igw_wait w = {region, vpc};
    rc = mod_wait(ctx, igw_probe, &w, NAT_IGW_WAIT_MS, vpc, err);
    if (rc == CM_ERETRY) /* none came: the create tells */
        cm_err_clear(err);
    return rc == CM_ERETRY ? 0 : rc;
}

/* The client token makes the create idempotent: a retry after a crash gets
 * the gateway the first try made. */
static int nat_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = ec2_str(desired, "region");
    const char *type = ec2_str(desired, "connectivity_type");
    if (strcmp(type, "public") == 0) {
        int rc = nat_await_internet(ctx, region, ec2_str(desired, "subnet"), err);
        if (rc)
            return rc;
    }
    json_t *p =
        json_pack("{s:s, s:s}", "SubnetId", ec2_str(desired, "subnet"), "ConnectivityType", type);
    if (strcmp(type, "public") == 0)
        json_object_set_new(p, "AllocationId", json_string(ec2_str(desired, "elastic_ip")));
    if (mod_ctx_token(ctx))
        json_object_set_new(p, "ClientToken", json_string(mod_ctx_token(ctx)));
    char id[64];
    int rc = ec2_create(ctx, region, "CreateNatGateway", p, "natgateway",
                        json_object_get(desired, "tags"), "natGateway/natGatewayId", id, sizeof id,
                        err, ec2_str(desired, "subnet"));
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "nat_gateway_id", json_string(id));
    json_object_set_new(*out, "state", json_string("pending"));
    char eni[64] = "";
    rc = nat_wait_for(ctx, region, id, false, eni, err);
    if (!rc)
        json_object_set_new(*out, "state", json_string("available"));
    return rc;
}

static int nat_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    int rc = ec2_retag(ctx, ec2_str(known, "region"), ec2_str(known, "nat_gateway_id"), known,
                       desired, err);
    if (!rc)
        *out = ec2_updated(known, desired, "nat_gateway_id", "state", NULL);
    return rc;
}

static int nat_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *region = ec2_str(known, "region"), *id = ec2_str(known, "nat_gateway_id");
    if (!*id)
        return 0;
    int rc = ec2_op(ctx, region, "DeleteNatGateway", json_pack("{s:s}", "NatGatewayId", id), NULL,
                    NULL, err, id);
    if (rc && strstr(err->cloud_code, "NotFound")) { /* NatGatewayNotFound: already gone */
        cm_err_clear(err);
        return 0;
    }
    /* Its subnet, its address and the routes' tables are free only once it
     * is deleted. */
    char eni[64] = "";
    if (!rc)
        rc = nat_wait_for(ctx, region, id, true, eni, err);
    if (!rc && eni[0] && *ec2_str(known, "elastic_ip"))
        rc = nat_free_address(ctx, region, ec2_str(known, "elastic_ip"), eni, err);
    return rc;
}

/* ---- the tables ---- */

static const mod_table_ops zone_ops = {zone_list, zone_create, zone_update,
                                       zone_read, zone_remove, NULL};
static const mod_column zone_columns[] = {{"zone_name", MOD_COL_CLOUD_ID},
                                          {"region", IMM},
                                          {"zone_id", OWNED},
                                          {"state", OWNED},
                                          {NULL, 0}};
const mod_table vpc_zone_table = {"availability_zone", zone_columns, &zone_ops, "ec2"};

static const mod_table_ops eip_ops = {eip_list, eip_create, eip_update, eip_read, eip_remove, NULL};
static const mod_column eip_columns[] = {
    {"allocation_id", CID}, {"region", IMM}, {"tags", 0}, {"public_ip", OWNED}, {NULL, 0}};
const mod_table vpc_eip_table = {"elastic_ip", eip_columns, &eip_ops, "ec2"};

static const mod_table_ops nat_ops = {nat_list, nat_create, nat_update, nat_read, nat_remove, NULL};
static const mod_column nat_columns[] = {{"nat_gateway_id", CID},
                                         {"subnet", IMM, "subnet"},
                                         {"connectivity_type", IMM},
                                         {"elastic_ip", IMM, "elastic_ip"},
                                         {"region", IMM},
                                         {"tags", 0},
                                         {"state", OWNED},
                                         {NULL, 0}};
const mod_table vpc_nat_table = {"nat_gateway", nat_columns, &nat_ops, "ec2"};
