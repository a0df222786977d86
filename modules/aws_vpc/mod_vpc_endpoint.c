/* modules/aws_vpc/mod_vpc_endpoint.c — route table associations (a subnet
 * routed by a table other than its VPC's main one) and gateway endpoints
 * (S3 or DynamoDB reached from route tables) over the EC2 API. Both are
 * read from DescribeRouteTables and DescribeVpcEndpoints; an association
 * moves to another route table in place, and gets a new id doing so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "modules/aws_vpc/mod_vpc_int.h"

/* ---- route table association ---- */

/* The subnet associations of one route table item (not its main
 * association, nor a gateway's), those of only_id or only_subnet when
 * given. */
static void assoc_rows(xmlNodePtr table, const char *region, const char *only_id,
                       const char *only_subnet, json_t *rows)
{
    char rtb[64];
    aws_xml_child_text(table, "routeTableId", rtb, sizeof rtb);
    xmlNodePtr set = aws_xml_child(table, "associationSet");
    for (xmlNodePtr a = set ? aws_xml_child(set, "item") : NULL; a; a = aws_xml_next(a, "item")) {
        char id[64], subnet[64], main[8], state[32];
        aws_xml_child_text(a, "routeTableAssociationId", id, sizeof id);
        aws_xml_child_text(a, "subnetId", subnet, sizeof subnet);
        aws_xml_child_text(a, "main", main, sizeof main);
        aws_xml_child_text(aws_xml_child(a, "associationState"), "state", state, sizeof state);
        if (!id[0] || !subnet[0] || strcmp(main, "true") == 0 ||
            (state[0] && strcmp(state, "associated") != 0 && strcmp(state, "associating") != 0))
            continue;
        if ((only_id && strcmp(id, only_id) != 0) || (only_subnet && strcmp(subnet, only_subnet)))
            continue;
        json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s}", "route_table", rtb, "subnet",
                                              subnet, "region", region,
                                              "route_table_association_id", id));
    }
}

static int assoc_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)ctx;
    (void)err;
    assoc_rows(item, region, NULL, NULL, arg);
    return 0;
}

static int assoc_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    *out = json_array();
    return ec2_each_region(ctx, regions, n, "DescribeRouteTables", "routeTableSet", assoc_each,
                           *out, err);
}

typedef struct assoc_find {
    const char *id, *subnet;
    json_t *rows;
} assoc_find;

static int assoc_find_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg,
                           cm_err *err)
{
    (void)ctx;
    (void)err;
    assoc_find *f = arg;
    assoc_rows(item, region, f->id, f->subnet, f->rows);
    return 0;
}

/* The association of image: by its id, or, before it has one (a create a
 * crash interrupted), the one of its subnet. */
static int assoc_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *id = ec2_str(image, "route_table_association_id");
    const char *subnet = ec2_str(image, "subnet");
    assoc_find f = {*id ? id : NULL, *id ? NULL : subnet, json_array()};
    *out = NULL;
    json_t *p = json_pack("{s:s, s:s}", "Filter.1.Name",
                          *id ? "association.route-table-association-id" : "association.subnet-id",
                          "Filter.1.Value.1", *id ? id : subnet);
    int rc = ec2_each(ctx, ec2_str(image, "region"), "DescribeRouteTables", p, "routeTableSet",
                      assoc_find_each, &f, err);
    if (!rc && json_array_size(f.rows))
        *out = json_incref(json_array_get(f.rows, 0));
    json_decref(f.rows);
    if (!rc && !*out)
        rc = cm_err_set(err, CM_ENOTFOUND, "no association %s", *id ? id : subnet);
    return rc;
}

static int assoc_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = ec2_str(desired, "region"), *subnet = ec2_str(desired, "subnet");
    const char *rtb = ec2_str(desired, "route_table");
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(ctx, region, "AssociateRouteTable",
                    json_pack("{s:s, s:s}", "SubnetId", subnet, "RouteTableId", rtb), &doc, &root,
                    err, subnet);
    if (rc && strcmp(err->cloud_code, "Resource.AlreadyAssociated") == 0) {
        /* an earlier, interrupted try made it: adopted when it is this one */
        cm_err clash = *err;
        cm_err_clear(err);
        json_t *found = NULL;
        rc = assoc_read(ctx, desired, &found, err);
        if (!rc && strcmp(ec2_str(found, "route_table"), rtb) == 0) {
            *out = json_deep_copy(desired);
            json_object_set(*out, "route_table_association_id",
                            json_object_get(found, "route_table_association_id"));
        } else if (!rc) {
            rc = cm_err_set(err, CM_ECLOUD,
                            "subnet %s is associated with route table %s already Detail: %s "
                            "Hint: Import that association (iasql_sync()) and change its "
                            "route_table instead.",
                            subnet, ec2_str(found, "route_table"), clash.msg);
        }
        json_decref(found);
        return rc;
    }
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "route_table_association_id", ec2_text(root, "associationId"));
    xmlFreeDoc(doc);
    if (!json_is_string(json_object_get(*out, "route_table_association_id")))
        return cm_err_set(err, CM_EBADREPLY, "AssociateRouteTable: no associationId in the answer");
    return 0;
}

/* Another route table for the subnet: the association is replaced in
 * place and AWS gives it a new id. */
static int assoc_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                        cm_err *err)
{
    const char *id = ec2_str(known, "route_table_association_id");
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(ctx, ec2_str(known, "region"), "ReplaceRouteTableAssociation",
                    json_pack("{s:s, s:s}", "AssociationId", id, "RouteTableId",
                              ec2_str(desired, "route_table")),
                    &doc, &root, err, id);
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_t *new_id = ec2_text(root, "newAssociationId");
    xmlFreeDoc(doc);
    json_object_set_new(*out, "route_table_association_id",
                        json_is_string(new_id) ? new_id : json_string(id));
    if (!json_is_string(new_id))
        json_decref(new_id);
    return 0;
}

static int assoc_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    return ec2_delete(ctx, known, "DisassociateRouteTable", "AssociationId",
                      "route_table_association_id", err);
}

/* ---- gateway endpoint ---- */

/* What AWS gives an endpoint made without a policy: full access. A row
 * says that with policy NULL. */
#define FULL_ACCESS                                                                                \
    "{\"Version\": \"2008-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", " \
    "\"Action\": \"*\", \"Resource\": \"*\"}]}"

static bool full_access(const json_t *policy)
{
    json_t *full = json_loads(FULL_ACCESS, 0, NULL);
    bool same = json_equal(full, policy);
    json_decref(full);
    return same;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

static json_t *endpoint_row(mod_ctx *ctx, const char *region, xmlNodePtr item)
{
    (void)ctx;
    char type[32], state[32], name[160], prefix[96];
    aws_xml_child_text(item, "vpcEndpointType", type, sizeof type);
    aws_xml_child_text(item, "state", state, sizeof state);
    aws_xml_child_text(item, "serviceName", name, sizeof name);
    snprintf(prefix, sizeof prefix, "com.amazonaws.%s.", region);
    const char *service = strncmp(name, prefix, strlen(prefix)) == 0 ? name + strlen(prefix) : "";
    if (strcasecmp(type, "Gateway") != 0 || strcasecmp(state, "deleted") == 0 ||
        strcasecmp(state, "deleting") == 0 ||
        (strcmp(service, "s3") != 0 && strcmp(service, "dynamodb") != 0))
        return NULL;
    json_t *list[256];
    size_t n = 0;
    xmlNodePtr set = aws_xml_child(item, "routeTableIdSet");
    for (xmlNodePtr r = set ? aws_xml_child(set, "item") : NULL; r && n < 256;
         r = aws_xml_next(r, "item"))
        list[n++] = aws_xml_json_text(r);
    qsort(list, n, sizeof *list, str_cmp);
    json_t *tables = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(tables, list[i]);
    json_t *doc = ec2_text(item, "policyDocument");
    json_t *policy = json_is_string(doc) ? json_loads(json_string_value(doc), 0, NULL) : NULL;
    json_decref(doc);
    if (!policy || full_access(policy)) {
        json_decref(policy);
        policy = json_null();
    }
    return ec2_owned(item,
                     json_pack("{s:o, s:s, s:o, s:o, s:s, s:o, s:o, s:s}", "vpc",
                               ec2_text(item, "vpcId"), "service", service, "route_tables", tables,
                               "policy", policy, "region", region, "tags", ec2_tags(item),
                               "vpc_endpoint_id", ec2_text(item, "vpcEndpointId"), "state", state));
}

static int endpoint_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)err;
    return vpc_keep_row(arg, endpoint_row(ctx, region, item));
}

static int endpoint_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out,
                         cm_err *err)
{
    *out = json_array();
    int rc = 0;
    for (size_t r = 0; !rc && r < n; r++)
        rc = ec2_each(ctx, regions[r], "DescribeVpcEndpoints",
                      json_pack("{s:s, s:s}", "Filter.1.Name", "vpc-endpoint-type",
                                "Filter.1.Value.1", "Gateway"),
                      "vpcEndpointSet", endpoint_each, *out, err);
    return rc;
}

static int endpoint_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    return vpc_read_by_id(ctx, image, "vpc_endpoint_id", "VpcEndpointId", "DescribeVpcEndpoints",
                          "vpcEndpointSet", endpoint_row, out, err);
}

/* The policy document to send: the row's, or full access for NULL (what
 * ResetPolicy sets; sent as a document, it reads the same everywhere). */
static json_t *endpoint_policy(const json_t *img)
{
    json_t *p = json_object_get(img, "policy");
    char *text = json_is_object(p) ? json_dumps(p, JSON_COMPACT) : NULL;
    json_t *v = json_string(text ? text : FULL_ACCESS);
    free(text);
    return v;
}

static int endpoint_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = ec2_str(desired, "region");
    char service[96];
    snprintf(service, sizeof service, "com.amazonaws.%s.%s", region, ec2_str(desired, "service"));
    json_t *p = json_pack("{s:s, s:s, s:s}", "VpcEndpointType", "Gateway", "VpcId",
                          ec2_str(desired, "vpc"), "ServiceName", service);
    if (json_is_object(json_object_get(desired, "policy")))
        json_object_set_new(p, "PolicyDocument", endpoint_policy(desired));
    mod_query_put_list(p, "RouteTableId", json_object_get(desired, "route_tables"));
    if (mod_ctx_token(ctx))
        json_object_set_new(p, "ClientToken", json_string(mod_ctx_token(ctx)));
    char id[64];
    xmlDocPtr doc;
    xmlNodePtr root;
    ec2_tag_spec(ctx, p, "vpc-endpoint", json_object_get(desired, "tags"));
    int rc = ec2_op(ctx, region, "CreateVpcEndpoint", p, &doc, &root, err, service);
    if (rc)
        return rc;
    xmlNodePtr ep = aws_xml_child(root, "vpcEndpoint");
    aws_xml_child_text(ep, "vpcEndpointId", id, sizeof id);
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "vpc_endpoint_id", id[0] ? json_string(id) : json_null());
    json_object_set_new(*out, "state", ec2_text(ep, "state"));
    xmlFreeDoc(doc);
    if (!id[0])
        return cm_err_set(err, CM_EBADREPLY, "CreateVpcEndpoint: no vpcEndpointId in the answer");
    return 0;
}

/* The members of a that b lacks, as prefix.N parameters. */
static void put_missing(json_t *p, const char *prefix, const json_t *a, const json_t *b)
{
    json_t *arr = json_array();
    size_t i, k;
    json_t *v, *w;
    json_array_foreach(a, i, v)
    {
        bool found = false;
        json_array_foreach(b, k, w) found = found || json_equal(v, w);
        if (!found)
            json_array_append(arr, v);
    }
    mod_query_put_list(p, prefix, arr);
    json_decref(arr);
}

static int endpoint_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                           cm_err *err)
{
    const char *region = ec2_str(known, "region"), *id = ec2_str(known, "vpc_endpoint_id");
    const json_t *want = json_object_get(desired, "route_tables");
    const json_t *had = json_object_get(known, "route_tables");
    json_t *pol = json_object_get(desired, "policy");
    bool policy = !json_equal(pol ? pol : json_null(), json_object_get(known, "policy")
                                                           ? json_object_get(known, "policy")
                                                           : json_null());
    int rc = 0;
    if (policy || !json_equal(want, had)) {
        json_t *p = json_pack("{s:s}", "VpcEndpointId", id);
        put_missing(p, "AddRouteTableId", want, had);
        put_missing(p, "RemoveRouteTableId", had, want);
        if (policy)
            json_object_set_new(p, "PolicyDocument", endpoint_policy(desired));
        rc = ec2_op(ctx, region, "ModifyVpcEndpoint", p, NULL, NULL, err, id);
    }
    if (!rc)
        rc = ec2_retag(ctx, region, id, known, desired, err);
    if (!rc)
        *out = ec2_updated(known, desired, "vpc_endpoint_id", "state", NULL);
    return rc;
}

/* DeleteVpcEndpoints answers 200 with what it could not delete listed. */
static int endpoint_delete(mod_ctx *ctx, const char *region, const char *id, cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(ctx, region, "DeleteVpcEndpoints", json_pack("{s:s}", "VpcEndpointId.1", id),
                    &doc, &root, err, id);
    if (rc)
        return rc;
    xmlNodePtr bad = aws_xml_path(root, "unsuccessful/item/error");
    char code[128] = "", msg[512] = "";
    aws_xml_child_text(bad, "code", code, sizeof code);
    aws_xml_child_text(bad, "message", msg, sizeof msg);
    xmlFreeDoc(doc);
    if (bad && !strstr(code, "NotFound"))
        return cm_err_set(err, CM_ECLOUD, "DeleteVpcEndpoints for %s: %s: %s", id, code, msg);
    return 0;
}

/* A delete told something is not found is taken as done (ec2_op): a look
 * afterwards makes sure the endpoint is going. moto fails a delete halfway
 * when it cannot find the route it never made for a table added by
 * ModifyVpcEndpoint; taking the tables off first lets the delete through. */
static int endpoint_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *region = ec2_str(known, "region"), *id = ec2_str(known, "vpc_endpoint_id");
    if (!*id)
        return 0;
    int rc = endpoint_delete(ctx, region, id, err);
    for (int again = 0; !rc && again < 2; again++) {
        json_t *still = NULL;
        rc = endpoint_read(ctx, known, &still, err);
        json_decref(still);
        if (rc == CM_ENOTFOUND) { /* deleted, or on its way */
            cm_err_clear(err);
            return 0;
        }
        if (rc || again)
            break;
        json_t *p = json_pack("{s:s}", "VpcEndpointId", id);
        mod_query_put_list(p, "RemoveRouteTableId", json_object_get(known, "route_tables"));
        rc = ec2_op(ctx, region, "ModifyVpcEndpoint", p, NULL, NULL, err, id);
        if (!rc)
            rc = endpoint_delete(ctx, region, id, err);
    }
    return rc ? rc : cm_err_set(err, CM_ECLOUD, "DeleteVpcEndpoints for %s: it is still there", id);
}

/* ---- the tables ---- */

static const mod_table_ops assoc_ops = {assoc_list, assoc_create, assoc_update,
                                        assoc_read, assoc_remove, NULL};
/* A subnet has one association at most: the subnet is what names it, and
 * its id, which ReplaceRouteTableAssociation changes, is the cloud's. */
static const mod_column assoc_columns[] = {{"subnet", MOD_COL_CLOUD_ID | IMM, "subnet"},
                                           {"route_table", 0, "route_table"},
                                           {"route_table_association_id", OWNED},
                                           {"region", IMM},
                                           {NULL, 0}};
const mod_table vpc_assoc_table = {"route_table_association", assoc_columns, &assoc_ops, "ec2"};

static const mod_table_ops endpoint_ops = {endpoint_list, endpoint_create, endpoint_update,
                                           endpoint_read, endpoint_remove, NULL};
static const mod_column endpoint_columns[] = {{"vpc_endpoint_id", CID},
                                              {"vpc", IMM, "vpc"},
                                              {"service", IMM},
                                              {"route_tables", 0, "route_table"},
                                              {"policy", 0},
                                              {"region", IMM},
                                              {"tags", 0},
                                              {"state", OWNED},
                                              {NULL, 0}};
const mod_table vpc_endpoint_table = {"endpoint_gateway", endpoint_columns, &endpoint_ops, "ec2"};
