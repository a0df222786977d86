/* modules/aws_elb/mod_elb.c — module aws_elb: tables load_balancer,
 * target_group and listener over Elastic Load Balancing v2's query
 * protocol (2015-12-01). Each is named by its ARN, which other tables'
 * references receive.
 *   - load_balancer: subnets (SetSubnets), security groups
 *     (SetSecurityGroups), IP address type (SetIpAddressType) and tags
 *     change in place; name, type and scheme replace. A create waits until
 *     the load balancer is active.
 *   - target_group: health check settings (ModifyTargetGroup) and tags
 *     change in place; type, protocol, port, VPC and protocol version
 *     replace.
 *   - listener: port, protocol, SSL policy, certificate (aws_acm's) and
 *     default action (ModifyListener) change in place; its load balancer
 *     replaces.
 * A listing costs a DescribeLoadBalancers or DescribeTargetGroups page per
 * 400 resources and a DescribeTags per 20; listeners a DescribeListeners
 * per load balancer besides. ELB takes no idempotency token: a create
 * finds what an earlier attempt made by its name (a listener by its load
 * balancer and port) and brings it to the row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

extern const char iasql_sql_aws_elb[];

#define ELB_SERVICE "elasticloadbalancing"
#define ELB_VERSION "2015-12-01"
/* DescribeTags takes at most 20 ARNs; a listing page at most 400 items. */
#define TAGS_PER_CALL 20
#define PAGE_SIZE 400
/* How long a load balancer may take to become active or go away, and a
 * target group to be let go of by the listeners that used it. */
#define LB_WAIT_MS 600000
#define TG_IN_USE_WAIT_MS 60000

static const mod_query_service lb_api = {ELB_SERVICE, ELB_VERSION, "load balancer"};
static const mod_query_service tg_api = {ELB_SERVICE, ELB_VERSION, "target group"};
static const mod_query_service listener_api = {ELB_SERVICE, ELB_VERSION, "listener"};
static const mod_query_pager lb_pages = {"DescribeLoadBalancers", "Marker", "NextMarker",
                                         "LoadBalancers", NULL};
static const mod_query_pager tg_pages = {"DescribeTargetGroups", "Marker", "NextMarker",
                                         "TargetGroups", NULL};
static const mod_query_pager listener_pages = {"DescribeListeners", "Marker", "NextMarker",
                                               "Listeners", NULL};

/* ---- shared ---- */

static bool not_found(const cm_err *err)
{
    return strstr(err->cloud_code, "NotFound") != NULL;
}

static const char *str(const json_t *img, const char *col)
{
    const char *s = json_string_value(json_object_get(img, col));
    return s ? s : "";
}

static bool differs(const json_t *known, const json_t *desired, const char *col)
{
    const json_t *a = json_object_get(known, col), *b = json_object_get(desired, col);
    return !json_equal(a ? a : json_null(), b ? b : json_null());
}

static json_t *xml_int(xmlNodePtr n, const char *name)
{
    char buf[32];
    if (!aws_xml_child_text(n, name, buf, sizeof buf) || !buf[0])
        return json_null();
    return json_integer(strtoll(buf, NULL, 10));
}

/* Two sets of cloud ids (arrays of strings in any order) hold the same. */
static bool same_set(const json_t *a, const json_t *b)
{
    if (json_array_size(a) != json_array_size(b))
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        bool in = false;
        size_t k;
        json_t *w;
        json_array_foreach(b, k, w) in |= json_equal(v, w);
        if (!in)
            return false;
    }
    return true;
}

/* Sets an array as a query list ("Subnets.member.N"); an empty one as the
 * empty value, as AWS's SDKs send an empty list. */
static void put_set(json_t *p, const char *name, const json_t *arr)
{
    char prefix[128];
    if (json_array_size(arr) == 0) {
        json_object_set_new(p, name, json_string(""));
        return;
    }
    snprintf(prefix, sizeof prefix, "%s.member", name);
    mod_query_put_list(p, prefix, arr);
}

/* A create's tags: the row's plus the owner's, as Tags.member.N. */
static void put_tags(mod_ctx *ctx, json_t *p, const json_t *tags)
{
    json_t *owned = mod_tags_owned(ctx, tags);
    mod_query_put_map(p, "Tags.member", "Key", "Value", owned);
    json_decref(owned);
}

static int elb_call(mod_ctx *ctx, const mod_query_service *api, const char *region,
                    const char *action, json_t *p, xmlDocPtr *doc, xmlNodePtr *res, cm_err *err,
                    const char *name)
{
    return mod_query_op(ctx, api, region, action, p, doc, res, err, name);
}

/* The tags of one DescribeTags answer into the rows of those ARNs (column
 * arn_col): "tags" (the owner's moved to MOD_OWNER_KEY), or only the
 * owner when keep_tags is false. */
static void tags_into_rows(xmlNodePtr res, json_t *rows, const char *arn_col, bool keep_tags)
{
    xmlNodePtr l = aws_xml_child(res, "TagDescriptions");
    for (xmlNodePtr m = l ? aws_xml_child(l, "member") : NULL; m; m = aws_xml_next(m, "member")) {
        char arn[2048];
        aws_xml_child_text(m, "ResourceArn", arn, sizeof arn);
        json_t *tags = mod_xml_map(aws_xml_child(m, "Tags"), "member", "Key", "Value");
        json_t *clean = mod_tags_from_object(tags);
        json_decref(tags);
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row)
        {
            if (strcmp(str(row, arn_col), arn) != 0)
                continue;
            json_object_set(row, "tags", clean);
            mod_take_owner(row);
            if (!keep_tags)
                json_object_del(row, "tags");
        }
        json_decref(clean);
    }
}

/* DescribeTags for rows[from, to); CM_ENOTFOUND when one of them is gone. */
static int tags_batch(mod_ctx *ctx, const char *region, json_t *rows, size_t from, size_t to,
                      const char *arn_col, bool keep_tags, cm_err *err)
{
    json_t *p = json_object();
    char name[64];
    for (size_t k = from; k < to; k++) {
        snprintf(name, sizeof name, "ResourceArns.member.%zu", k - from + 1);
        json_object_set(p, name, json_object_get(json_array_get(rows, k), arn_col));
    }
    xmlDocPtr doc;
    xmlNodePtr res;
    int rc = elb_call(ctx, &lb_api, region, "DescribeTags", p, &doc, &res, err, "(tags)");
    if (rc && not_found(err))
        return cm_err_set(err, CM_ENOTFOUND, "gone while its tags were read");
    if (rc)
        return rc;
    tags_into_rows(res, rows, arn_col, keep_tags);
    xmlFreeDoc(doc);
    return 0;
}

/* The tags of every row, TAGS_PER_CALL at a time. A resource deleted
 * between the listing and this read leaves the rows: a batch that names
 * one is read again one by one. */
static int attach_tags(mod_ctx *ctx, const char *region, json_t *rows, const char *arn_col,
                       bool keep_tags, cm_err *err)
{
    int rc = 0;
    for (size_t at = 0; !rc && at < json_array_size(rows);) {
        size_t to = at + TAGS_PER_CALL;
        if (to > json_array_size(rows))
            to = json_array_size(rows);
        rc = tags_batch(ctx, region, rows, at, to, arn_col, keep_tags, err);
        if (rc == CM_ENOTFOUND) {
            cm_err_clear(err);
            rc = 0;
            for (size_t k = to; !rc && k-- > at;) {
                rc = tags_batch(ctx, region, rows, k, k + 1, arn_col, keep_tags, err);
                if (rc == CM_ENOTFOUND) {
                    cm_err_clear(err);
                    json_array_remove(rows, k);
                    to--;
                    rc = 0;
                }
            }
        }
        at = to;
    }
    return rc;
}

/* desired with the cloud-owned columns named (NULL-terminated) from cloud. */
static json_t *with_owned(const json_t *desired, const json_t *cloud, const char *const *owned)
{
    json_t *out = json_deep_copy(desired);
    for (int i = 0; owned[i]; i++) {
        json_t *v = json_object_get(cloud, owned[i]);
        json_object_set(out, owned[i], v ? v : json_null());
    }
    return out;
}

typedef struct region_rows {
    json_t *rows;
    const char *region;
} region_rows;

/* ---- load balancer ---- */

static const char *const lb_owned[] = {"load_balancer_arn", "dns_name", "canonical_hosted_zone_id",
                                       "state", NULL};

static json_t *lb_row(const char *region, xmlNodePtr m)
{
    char type[32], state[32], scheme[32], ip[64];
    aws_xml_child_text(m, "Type", type, sizeof type);
    if (strcmp(type, "application") != 0 && strcmp(type, "network") != 0)
        return NULL; /* a gateway load balancer: not described here */
    aws_xml_child_text(aws_xml_child(m, "State"), "Code", state, sizeof state);
    /* AWS's defaults where an emulator leaves them out */
    if (!aws_xml_child_text(m, "Scheme", scheme, sizeof scheme) || !scheme[0])
        snprintf(scheme, sizeof scheme, "internet-facing");
    if (!aws_xml_child_text(m, "IpAddressType", ip, sizeof ip) || !ip[0])
        snprintf(ip, sizeof ip, "ipv4");
    return json_pack(
        "{s:o, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "load_balancer_name",
        aws_xml_json_child(m, "LoadBalancerName"), "load_balancer_type", type, "scheme", scheme,
        "ip_address_type", ip, "subnets", mod_xml_set(m, "AvailabilityZones", "member", "SubnetId"),
        "security_groups", mod_xml_set(m, "SecurityGroups", "member", NULL), "region", region,
        "tags", json_object(), "load_balancer_arn", aws_xml_json_child(m, "LoadBalancerArn"),
        "dns_name", aws_xml_json_child(m, "DNSName"), "canonical_hosted_zone_id",
        aws_xml_json_child(m, "CanonicalHostedZoneId"), "vpc", aws_xml_json_child(m, "VpcId"),
        "state", state[0] ? json_string(state) : json_null());
}

static int lb_member(mod_ctx *ctx, const char *region, xmlNodePtr m, void *arg, cm_err *err)
{
    (void)ctx, (void)err;
    json_t *row = lb_row(region, m);
    if (row)
        json_array_append_new(arg, row);
    return 0;
}

/* The load balancers of region (all, or the one param names), with their
 * tags when tags is true. CM_ENOTFOUND when the one named is not there. */
static int lb_describe(mod_ctx *ctx, const char *region, const char *param, const char *value,
                       bool tags, json_t **out, cm_err *err)
{
    json_t *rows = json_array();
    json_t *p =
        param ? json_pack("{s:s}", param, value) : json_pack("{s:i}", "PageSize", PAGE_SIZE);
    int rc = mod_query_each(ctx, &lb_api, &lb_pages, region, p, lb_member, rows,
                            value ? value : "(all)", err);
    if (rc && param && not_found(err))
        rc = cm_err_set(err, CM_ENOTFOUND, "load balancer %s does not exist in %s", value, region);
    else if (!rc && param && json_array_size(rows) == 0)
        rc = cm_err_set(err, CM_ENOTFOUND, "load balancer %s does not exist in %s", value, region);
    if (!rc && tags)
        rc = attach_tags(ctx, region, rows, "load_balancer_arn", true, err);
    if (!rc && param && json_array_size(rows) == 0)
        rc = cm_err_set(err, CM_ENOTFOUND, "load balancer %s does not exist in %s", value, region);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    *out = param ? json_incref(json_array_get(rows, 0)) : json_incref(rows);
    json_decref(rows);
    return 0;
}

static int lb_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    json_t *mine = NULL;
    int rc = lb_describe(ctx, region, NULL, NULL, true, &mine, err);
    if (!rc)
        json_array_extend(rows, mine);
    json_decref(mine);
    return rc;
}

static int lb_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    return mod_list_regions(ctx, regions, n, lb_region, out, err);
}

static int lb_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = mod_image_names(image, "load_balancer", "load_balancer_name", &name, &region, err);
    if (rc)
        return rc;
    const char *arn = str(image, "load_balancer_arn");
    return *arn ? lb_describe(ctx, region, "LoadBalancerArns.member.1", arn, true, out, err)
                : lb_describe(ctx, region, "Names.member.1", name, true, out, err);
}

typedef struct lb_wait {
    const char *region, *arn;
    bool gone;  /* wait for it to go, else to be active */
    json_t *at; /* the last image read */
} lb_wait;

static int lb_probe(mod_ctx *ctx, const void *arg, bool *done, cm_err *err)
{
    lb_wait *w = (lb_wait *)arg;
    json_t *row = NULL;
    int rc = lb_describe(ctx, w->region, "LoadBalancerArns.member.1", w->arn, false, &row, err);
    if (rc == CM_ENOTFOUND && w->gone) {
        cm_err_clear(err);
        *done = true;
        return 0;
    }
    if (rc)
        return rc;
    const char *state = str(row, "state");
    json_decref(w->at);
    w->at = row;
    if (strcmp(state, "failed") == 0)
        return cm_err_set(err, CM_ECLOUD,
                          "load balancer %s failed to provision Detail: ELB reports its state as "
                          "failed. Hint: Delete the row, or look at the load balancer's subnets.",
                          w->arn);
    /* moto makes it active at once; AWS after a minute or two */
    *done = !w->gone &&
            (!*state || strcmp(state, "active") == 0 || strcmp(state, "active_impaired") == 0);
    return 0;
}

static int lb_wait_for(mod_ctx *ctx, const char *region, const char *arn, bool gone, json_t **at,
                       cm_err *err)
{
    lb_wait w = {region, arn, gone, NULL};
    int rc = mod_wait(ctx, lb_probe, &w, LB_WAIT_MS, arn, err);
    if (at && !rc)
        *at = w.at;
    else
        json_decref(w.at);
    return rc;
}

/* Subnets, security groups, IP address type and tags from known to desired. */
static int lb_converge(mod_ctx *ctx, const char *region, const char *arn, const json_t *known,
                       const json_t *desired, cm_err *err)
{
    int rc = 0;
    if (!same_set(json_object_get(known, "subnets"), json_object_get(desired, "subnets"))) {
        json_t *p = json_pack("{s:s}", "LoadBalancerArn", arn);
        put_set(p, "Subnets", json_object_get(desired, "subnets"));
        rc = elb_call(ctx, &lb_api, region, "SetSubnets", p, NULL, NULL, err, arn);
    }
    if (!rc && !same_set(json_object_get(known, "security_groups"),
                         json_object_get(desired, "security_groups"))) {
        json_t *p = json_pack("{s:s}", "LoadBalancerArn", arn);
        put_set(p, "SecurityGroups", json_object_get(desired, "security_groups"));
        rc = elb_call(ctx, &lb_api, region, "SetSecurityGroups", p, NULL, NULL, err, arn);
    }
    if (!rc && differs(known, desired, "ip_address_type"))
        rc = elb_call(ctx, &lb_api, region, "SetIpAddressType",
                      json_pack("{s:s, s:s}", "LoadBalancerArn", arn, "IpAddressType",
                                str(desired, "ip_address_type")),
                      NULL, NULL, err, arn);
    if (!rc)
        rc = mod_query_tags(ctx, &lb_api, region, "AddTags", "RemoveTags", "ResourceArns.member.1",
                            arn, json_object_get(known, "tags"), json_object_get(desired, "tags"),
                            err);
    return rc;
}

/* An existing load balancer of the row's name becomes the row's, when
 * what cannot change matches. */
static int lb_adopt(mod_ctx *ctx, const char *region, const json_t *found, const json_t *desired,
                    cm_err *err)
{
    if (differs(found, desired, "load_balancer_type") || differs(found, desired, "scheme"))
        return cm_err_set(err, CM_EEXISTS,
                          "load balancer %s exists in %s with another type or scheme Detail: it "
                          "is %s and %s; the row asks for %s and %s. Hint: Delete it, or give the "
                          "row its type and scheme.",
                          str(desired, "load_balancer_name"), region,
                          str(found, "load_balancer_type"), str(found, "scheme"),
                          str(desired, "load_balancer_type"), str(desired, "scheme"));
    return lb_converge(ctx, region, str(found, "load_balancer_arn"), found, desired, err);
}

/* The ARN of what a Create call made, from its answer at PATH/FIELD (the
 * answer is freed); a reply without one is an error naming OP and WHO. */
static int created_arn(xmlDocPtr doc, xmlNodePtr res, const char *path, const char *field,
                       const char *op, const char *who, char *arn, size_t size, cm_err *err)
{
    arn[0] = '\0';
    aws_xml_child_text(aws_xml_path(res, path), field, arn, size);
    xmlFreeDoc(doc);
    return arn[0] ? 0 : cm_err_set(err, CM_EBADREPLY, "%s for %s: no ARN", op, who);
}

static int lb_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = mod_image_names(desired, "load_balancer", "load_balancer_name", &name, &region, err);
    if (rc)
        return rc;
    /* made by an earlier, interrupted attempt, or by someone else: AWS
     * answers a second create of the same name with the first load
     * balancer, or refuses it when its settings differ */
    json_t *found = NULL;
    rc = lb_describe(ctx, region, "Names.member.1", name, true, &found, err);
    char arn[2048] = "";
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        json_t *p = json_pack("{s:s, s:s, s:s, s:s}", "Name", name, "Type",
                              str(desired, "load_balancer_type"), "Scheme", str(desired, "scheme"),
                              "IpAddressType", str(desired, "ip_address_type"));
        mod_query_put_list(p, "Subnets.member", json_object_get(desired, "subnets"));
        mod_query_put_list(p, "SecurityGroups.member", json_object_get(desired, "security_groups"));
        put_tags(ctx, p, json_object_get(desired, "tags"));
        xmlDocPtr doc;
        xmlNodePtr res;
        rc = elb_call(ctx, &lb_api, region, "CreateLoadBalancer", p, &doc, &res, err, name);
        if (rc && strcmp(err->cloud_code, "DuplicateLoadBalancerName") == 0) {
            cm_err_clear(err);
            rc = lb_describe(ctx, region, "Names.member.1", name, true, &found, err);
        } else if (!rc) {
            rc = created_arn(doc, res, "LoadBalancers/member", "LoadBalancerArn",
                             "CreateLoadBalancer", name, arn, sizeof arn, err);
        }
    }
    if (!rc && found) {
        rc = lb_adopt(ctx, region, found, desired, err);
        snprintf(arn, sizeof arn, "%s", str(found, "load_balancer_arn"));
    }
    json_decref(found);
    json_t *now = NULL;
    if (!rc)
        rc = lb_wait_for(ctx, region, arn, false, &now, err);
    if (!rc)
        *out = with_owned(desired, now, lb_owned);
    json_decref(now);
    return rc;
}

static int lb_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                     cm_err *err)
{
    const char *arn = str(known, "load_balancer_arn");
    if (!*arn)
        return cm_err_set(err, CM_EINVAL, "load balancer %s has no ARN to change it by",
                          str(known, "load_balancer_name"));
    int rc = lb_converge(ctx, str(known, "region"), arn, known, desired, err);
    if (!rc)
        *out = with_owned(desired, known, lb_owned);
    return rc;
}

static int lb_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *arn = str(known, "load_balancer_arn"), *region = str(known, "region");
    if (!*arn)
        return 0; /* never made */
    int rc = elb_call(ctx, &lb_api, region, "DeleteLoadBalancer",
                      json_pack("{s:s}", "LoadBalancerArn", arn), NULL, NULL, err, arn);
    if (rc && not_found(err)) {
        cm_err_clear(err);
        return 0;
    }
    if (rc && strcmp(err->cloud_code, "OperationNotPermitted") == 0)
        return cm_err_set(err, CM_ECLOUD,
                          "load balancer %s is protected from deletion Detail: its attribute "
                          "deletion_protection.enabled is true. Hint: Turn the protection off "
                          "in AWS, then commit again.",
                          arn);
    /* its subnets and security groups can go only once it has */
    if (!rc)
        rc = lb_wait_for(ctx, region, arn, true, NULL, err);
    return rc;
}

/* ---- target group ---- */

static const char *const tg_owned[] = {"target_group_arn", NULL};

/* Health check columns and their parameters (integers where int is set). */
static const struct {
    const char *column, *param;
    bool integer;
} hc_cols[] = {
    {"health_check_protocol", "HealthCheckProtocol", false},
    {"health_check_port", "HealthCheckPort", false},
    {"health_check_path", "HealthCheckPath", false},
    {"health_check_interval_seconds", "HealthCheckIntervalSeconds", true},
    {"health_check_timeout_seconds", "HealthCheckTimeoutSeconds", true},
    {"healthy_threshold_count", "HealthyThresholdCount", true},
    {"unhealthy_threshold_count", "UnhealthyThresholdCount", true},
};
#define N_HC (sizeof hc_cols / sizeof hc_cols[0])

static bool is_grpc(const json_t *img)
{
    return strcmp(str(img, "protocol_version"), "GRPC") == 0;
}

static json_t *tg_row(const char *region, xmlNodePtr m)
{
    char proto[16] = "", hc_proto[16] = "";
    aws_xml_child_text(m, "Protocol", proto, sizeof proto);
    aws_xml_child_text(m, "HealthCheckProtocol", hc_proto, sizeof hc_proto);
    static const char *const known_protos[] = {"", "HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP"};
    bool ok = false;
    for (size_t i = 0; i < sizeof known_protos / sizeof *known_protos; i++)
        ok |= strcmp(proto, known_protos[i]) == 0;
    if (!ok)
        return NULL; /* GENEVE, QUIC: not described here */
    bool http = strcmp(proto, "HTTP") == 0 || strcmp(proto, "HTTPS") == 0;
    bool tcp_check = strcmp(hc_proto, "TCP") == 0;
    xmlNodePtr matcher = aws_xml_child(m, "Matcher");
    json_t *code = aws_xml_json_child(matcher, "GrpcCode");
    if (!json_is_string(code)) {
        json_decref(code);
        code = aws_xml_json_child(matcher, "HttpCode");
    }
    json_t *row = json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o}", "target_group_name",
        aws_xml_json_child(m, "TargetGroupName"), "target_type",
        aws_xml_json_child(m, "TargetType"), "protocol",
        proto[0] ? json_string(proto) : json_null(), "port",
        proto[0] ? xml_int(m, "Port") : json_null(), "vpc", aws_xml_json_child(m, "VpcId"),
        "protocol_version", http ? aws_xml_json_child(m, "ProtocolVersion") : json_null(), "region",
        region, "tags", json_object(), "target_group_arn", aws_xml_json_child(m, "TargetGroupArn"));
    for (size_t i = 0; i < N_HC; i++)
        json_object_set_new(row, hc_cols[i].column,
                            hc_cols[i].integer ? xml_int(m, hc_cols[i].param)
                                               : aws_xml_json_child(m, hc_cols[i].param));
    /* a TCP health check has no path or codes (emulators may still say some) */
    if (tcp_check)
        json_object_set_new(row, "health_check_path", json_null());
    json_object_set_new(row, "health_check_matcher", tcp_check ? json_null() : code);
    if (tcp_check)
        json_decref(code);
    if (!json_is_string(json_object_get(row, "target_type")))
        json_object_set_new(row, "target_type", json_string("instance"));
    return row;
}

static int tg_member(mod_ctx *ctx, const char *region, xmlNodePtr m, void *arg, cm_err *err)
{
    (void)ctx, (void)err;
    json_t *row = tg_row(region, m);
    if (row)
        json_array_append_new(arg, row);
    return 0;
}

/* As lb_describe, for target groups. */
static int tg_describe(mod_ctx *ctx, const char *region, const char *param, const char *value,
                       json_t **out, cm_err *err)
{
    json_t *rows = json_array();
    json_t *p =
        param ? json_pack("{s:s}", param, value) : json_pack("{s:i}", "PageSize", PAGE_SIZE);
    int rc = mod_query_each(ctx, &tg_api, &tg_pages, region, p, tg_member, rows,
                            value ? value : "(all)", err);
    if (rc && param && not_found(err))
        rc = cm_err_set(err, CM_ENOTFOUND, "target group %s does not exist in %s", value, region);
    if (!rc)
        rc = attach_tags(ctx, region, rows, "target_group_arn", true, err);
    if (!rc && param && json_array_size(rows) == 0)
        rc = cm_err_set(err, CM_ENOTFOUND, "target group %s does not exist in %s", value, region);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    *out = param ? json_incref(json_array_get(rows, 0)) : json_incref(rows);
    json_decref(rows);
    return 0;
}

static int tg_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    json_t *mine = NULL;
    int rc = tg_describe(ctx, region, NULL, NULL, &mine, err);
    if (!rc)
        json_array_extend(rows, mine);
    json_decref(mine);
    return rc;
}

static int tg_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    return mod_list_regions(ctx, regions, n, tg_region, out, err);
}

static int tg_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = mod_image_names(image, "target_group", "target_group_name", &name, &region, err);
    if (rc)
        return rc;
    const char *arn = str(image, "target_group_arn");
    return *arn ? tg_describe(ctx, region, "TargetGroupArns.member.1", arn, out, err)
                : tg_describe(ctx, region, "Names.member.1", name, out, err);
}

/* The health check parameters of img, as CreateTargetGroup and
 * ModifyTargetGroup both take them. */
static void put_health_check(json_t *p, const json_t *img)
{
    for (size_t i = 0; i < N_HC; i++) {
        json_t *v = json_object_get(img, hc_cols[i].column);
        if (v && !json_is_null(v))
            json_object_set(p, hc_cols[i].param, v);
    }
    const char *code = str(img, "health_check_matcher");
    if (*code)
        json_object_set_new(p, is_grpc(img) ? "Matcher.GrpcCode" : "Matcher.HttpCode",
                            json_string(code));
}

static bool health_check_differs(const json_t *known, const json_t *desired)
{
    for (size_t i = 0; i < N_HC; i++)
        if (differs(known, desired, hc_cols[i].column))
            return true;
    return differs(known, desired, "health_check_matcher");
}

static int tg_converge(mod_ctx *ctx, const char *region, const char *arn, const json_t *known,
                       const json_t *desired, cm_err *err)
{
    int rc = 0;
    if (health_check_differs(known, desired)) {
        json_t *p = json_pack("{s:s}", "TargetGroupArn", arn);
        put_health_check(p, desired);
        rc = elb_call(ctx, &tg_api, region, "ModifyTargetGroup", p, NULL, NULL, err, arn);
    }
    if (!rc)
        rc = mod_query_tags(ctx, &tg_api, region, "AddTags", "RemoveTags", "ResourceArns.member.1",
                            arn, json_object_get(known, "tags"), json_object_get(desired, "tags"),
                            err);
    return rc;
}

static int tg_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = mod_image_names(desired, "target_group", "target_group_name", &name, &region, err);
    if (rc)
        return rc;
    json_t *p = json_pack("{s:s, s:s}", "Name", name, "TargetType", str(desired, "target_type"));
    static const char *const plain[][2] = {{"protocol", "Protocol"},
                                           {"port", "Port"},
                                           {"vpc", "VpcId"},
                                           {"protocol_version", "ProtocolVersion"}};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        json_t *v = json_object_get(desired, plain[i][0]);
        if (v && !json_is_null(v))
            json_object_set(p, plain[i][1], v);
    }
    put_health_check(p, desired);
    put_tags(ctx, p, json_object_get(desired, "tags"));
    xmlDocPtr doc;
    xmlNodePtr res;
    char arn[2048] = "";
    rc = elb_call(ctx, &tg_api, region, "CreateTargetGroup", p, &doc, &res, err, name);
    if (rc && strcmp(err->cloud_code, "DuplicateTargetGroupName") == 0) {
        /* made by an earlier, interrupted attempt, or by someone else */
        cm_err_clear(err);
        json_t *found = NULL;
        rc = tg_describe(ctx, region, "Names.member.1", name, &found, err);
        static const char *const fixed[] = {"target_type", "protocol", "port", "vpc",
                                            "protocol_version"};
        for (size_t i = 0; !rc && i < sizeof fixed / sizeof *fixed; i++)
            if (differs(found, desired, fixed[i]))
                rc = cm_err_set(err, CM_EEXISTS,
                                "target group %s exists in %s with another %s Detail: its type, "
                                "protocol, port, VPC and protocol version are fixed at creation. "
                                "Hint: Delete it, or give the row its settings.",
                                name, region, fixed[i]);
        if (!rc)
            rc = tg_converge(ctx, region, str(found, "target_group_arn"), found, desired, err);
        if (!rc)
            *out = with_owned(desired, found, tg_owned);
        json_decref(found);
        return rc;
    }
    if (rc)
        return rc;
    rc = created_arn(doc, res, "TargetGroups/member", "TargetGroupArn", "CreateTargetGroup", name,
                     arn, sizeof arn, err);
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "target_group_arn", json_string(arn));
    return 0;
}

static int tg_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                     cm_err *err)
{
    const char *arn = str(known, "target_group_arn");
    if (!*arn)
        return cm_err_set(err, CM_EINVAL, "target group %s has no ARN to change it by",
                          str(known, "target_group_name"));
    int rc = tg_converge(ctx, str(known, "region"), arn, known, desired, err);
    if (!rc)
        *out = with_owned(desired, known, tg_owned);
    return rc;
}

typedef struct tg_delete {
    const char *region, *arn;
} tg_delete;

/* One DeleteTargetGroup: done unless a listener still holds it (which AWS
 * lets go of a moment after the listener is deleted or moved). */
static int tg_try_delete(mod_ctx *ctx, const void *arg, bool *done, cm_err *err)
{
    const tg_delete *d = arg;
    int rc = elb_call(ctx, &tg_api, d->region, "DeleteTargetGroup",
                      json_pack("{s:s}", "TargetGroupArn", d->arn), NULL, NULL, err, d->arn);
    if (rc && strcmp(err->cloud_code, "ResourceInUse") == 0) {
        cm_err_clear(err);
        *done = false;
        return 0;
    }
    if (rc && not_found(err)) {
        cm_err_clear(err);
        rc = 0;
    }
    *done = !rc;
    return rc;
}

static int tg_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    tg_delete d = {str(known, "region"), str(known, "target_group_arn")};
    if (!*d.arn)
        return 0;
    int rc = mod_wait(ctx, tg_try_delete, &d, TG_IN_USE_WAIT_MS, d.arn, err);
    if (rc == CM_ERETRY)
        return cm_err_set(err, CM_ECLOUD,
                          "target group %s is still in use Detail: a listener or rule outside "
                          "this database forwards to it. Hint: Move that listener elsewhere, "
                          "then commit again.",
                          d.arn);
    return rc;
}

/* ---- listener ---- */

static const char *const listener_owned[] = {"listener_arn", NULL};

static bool secure(const char *protocol)
{
    return strcmp(protocol, "HTTPS") == 0 || strcmp(protocol, "TLS") == 0;
}

/* The target group a listener's default action forwards to (one, as a
 * plain forward or a forward config of one group), or NULL. */
static json_t *forward_target(xmlNodePtr m)
{
    xmlNodePtr acts = aws_xml_child(m, "DefaultActions");
    xmlNodePtr a = acts ? aws_xml_child(acts, "member") : NULL;
    if (!a || aws_xml_next(a, "member"))
        return NULL;
    char type[32];
    aws_xml_child_text(a, "Type", type, sizeof type);
    if (strcmp(type, "forward") != 0)
        return NULL;
    char arn[2048] = "";
    if (!aws_xml_child_text(a, "TargetGroupArn", arn, sizeof arn) || !arn[0]) {
        xmlNodePtr groups = aws_xml_path(a, "ForwardConfig/TargetGroups");
        xmlNodePtr g = groups ? aws_xml_child(groups, "member") : NULL;
        if (!g || aws_xml_next(g, "member"))
            return NULL;
        aws_xml_child_text(g, "TargetGroupArn", arn, sizeof arn);
    }
    return arn[0] ? json_string(arn) : NULL;
}

static json_t *listener_row(const char *region, xmlNodePtr m)
{
    json_t *target = forward_target(m);
    if (!target)
        return NULL; /* redirects, fixed responses, weighted forwards: not described here */
    char proto[16];
    aws_xml_child_text(m, "Protocol", proto, sizeof proto);
    /* the default certificate: the one ELB lists with the listener */
    json_t *cert =
        secure(proto) ? aws_xml_json_child(aws_xml_path(m, "Certificates/member"), "CertificateArn")
                      : json_null();
    return json_pack("{s:o, s:o, s:s, s:o, s:o, s:o, s:s, s:o}", "load_balancer",
                     aws_xml_json_child(m, "LoadBalancerArn"), "port", xml_int(m, "Port"),
                     "protocol", proto, "ssl_policy",
                     secure(proto) ? aws_xml_json_child(m, "SslPolicy") : json_null(),
                     "target_group", target, "certificate", cert, "region", region, "listener_arn",
                     aws_xml_json_child(m, "ListenerArn"));
}

static int listener_member(mod_ctx *ctx, const char *region, xmlNodePtr m, void *arg, cm_err *err)
{
    (void)ctx, (void)err;
    json_t *row = listener_row(region, m);
    if (row)
        json_array_append_new(arg, row);
    return 0;
}

/* The listeners of one load balancer (param LoadBalancerArn) or the one
 * listener param ListenerArns.member.1 names, appended to rows, owners
 * not yet read. */
static int listener_describe(mod_ctx *ctx, const char *region, const char *param, const char *value,
                             json_t *rows, cm_err *err)
{
    json_t *p = json_pack("{s:s}", param, value);
    if (strcmp(param, "LoadBalancerArn") == 0)
        json_object_set_new(p, "PageSize", json_integer(PAGE_SIZE));
    int rc = mod_query_each(ctx, &listener_api, &listener_pages, region, p, listener_member, rows,
                            value, err);
    if (rc && not_found(err))
        rc = cm_err_set(err, CM_ENOTFOUND, "%s does not exist in %s", value, region);
    return rc;
}

/* Under the poller's rotation, the listeners the database knows in
 * region by the load balancer their ARN names (a listener's ARN is its
 * load balancer's with "listener" for "loadbalancer", and its own id
 * after): LB ARN -> [listener ARN]. NULL when no rotation is on. */
static json_t *known_listeners(const mod_ctx *ctx, const char *region)
{
    const mod_deep *d = ctx->deep;
    if (!d || d->nslots <= 1 || !d->known)
        return NULL;
    json_t *by_lb = json_object(), *v;
    size_t rl = strlen(region);
    const char *key;
    json_object_foreach((json_t *)d->known, key, v)
    {
        if (strncmp(key, region, rl) != 0 || key[rl] != '/')
            continue;
        const char *arn = key + rl + 1, *l = strstr(arn, ":listener/"), *last = strrchr(arn, '/');
        if (!l || !last || last < l + 10)
            continue;
        char lb[2048];
        snprintf(lb, sizeof lb, "%.*s:loadbalancer/%.*s", (int)(l - arn), arn,
                 (int)(last - (l + 10)), l + 10);
        json_t *arr = json_object_get(by_lb, lb);
        if (!arr)
            json_object_set_new(by_lb, lb, arr = json_array());
        json_array_append_new(arr, json_string(arn));
    }
    return by_lb;
}

/* The known listeners of arns (an array), LISTENERS_PER_CALL a call:
 * whole rows, marked partial (their owner not read: the poller keeps the
 * one it noted). A batch ELB refuses (one is gone) falls back to the
 * listeners of each load balancer in lbs of it. */
#define LISTENERS_PER_CALL 20
static int listener_batches(mod_ctx *ctx, const char *region, const json_t *arns, json_t *rows,
                            cm_err *err)
{
    int rc = 0;
    for (size_t at = 0; !rc && at < json_array_size(arns); at += LISTENERS_PER_CALL) {
        json_t *p = json_object(), *got = json_array();
        char k[64];
        for (size_t i = at; i < at + LISTENERS_PER_CALL && i < json_array_size(arns); i++) {
            snprintf(k, sizeof k, "ListenerArns.member.%zu", i - at + 1);
            json_object_set(p, k, json_array_get(arns, i));
        }
        rc = mod_query_each(ctx, &listener_api, &listener_pages, region, p, listener_member, got,
                            "(known)", err);
        if (rc && not_found(err)) {
            /* one of them is gone: their load balancers' listeners instead */
            cm_err_clear(err);
            rc = 0;
            json_t *lbs = json_object();
            for (size_t i = at; i < at + LISTENERS_PER_CALL && i < json_array_size(arns); i++) {
                const char *a = json_string_value(json_array_get(arns, i));
                const char *l = strstr(a, ":listener/"), *last = strrchr(a, '/');
                char lb[2048];
                snprintf(lb, sizeof lb, "%.*s:loadbalancer/%.*s", (int)(l - a), a,
                         (int)(last - (l + 10)), l + 10);
                json_object_set_new(lbs, lb, json_true());
            }
            const char *lb;
            json_t *v;
            json_object_foreach(lbs, lb, v)
            {
                json_t *mine = json_array();
                rc = listener_describe(ctx, region, "LoadBalancerArn", lb, mine, err);
                if (rc == CM_ENOTFOUND) {
                    cm_err_clear(err);
                    rc = 0;
                }
                if (!rc)
                    rc = attach_tags(ctx, region, mine, "listener_arn", false, err);
                if (!rc)
                    json_array_extend(rows, mine);
                json_decref(mine);
                if (rc)
                    break;
            }
            json_decref(lbs);
        } else if (!rc) {
            size_t i;
            json_t *r;
            json_array_foreach(got, i, r) json_object_set_new(r, MOD_PARTIAL_KEY, json_true());
            json_array_extend(rows, got);
        }
        json_decref(got);
    }
    return rc;
}

/* Every listener of region: DescribeListeners per load balancer, and the
 * owner tags per 20. Under the poller's rotation, a load balancer outside
 * its slot whose listeners are all known costs no DescribeListeners of
 * its own: its known listeners are described by ARN, 20 a call, with no
 * owner read (a listener made on it outside is seen at its slot). */
static int listener_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    json_t *lbs = NULL, *mine = json_array(), *known = known_listeners(ctx, region);
    json_t *batch = json_array();
    int rc = lb_describe(ctx, region, NULL, NULL, false, &lbs, err);
    size_t i;
    json_t *lb;
    json_array_foreach(lbs, i, lb)
    {
        if (rc)
            break;
        const char *arn = str(lb, "load_balancer_arn");
        const json_t *ks = known ? json_object_get(known, arn) : NULL;
        if (ks && mod_deep_slot(region, arn, ctx->deep->nslots) != ctx->deep->slot) {
            json_array_extend(batch, (json_t *)ks);
            continue;
        }
        rc = listener_describe(ctx, region, "LoadBalancerArn", arn, mine, err);
        if (rc == CM_ENOTFOUND) { /* deleted since the listing */
            cm_err_clear(err);
            rc = 0;
        }
    }
    if (!rc)
        rc = attach_tags(ctx, region, mine, "listener_arn", false, err);
    if (!rc)
        json_array_extend(rows, mine);
    if (!rc)
        rc = listener_batches(ctx, region, batch, rows, err);
    json_decref(lbs);
    json_decref(mine);
    json_decref(known);
    json_decref(batch);
    return rc;
}

static int listener_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out,
                         cm_err *err)
{
    return mod_list_regions(ctx, regions, n, listener_region, out, err);
}

/* The listener of image: by its ARN when arn is set, else by its load
 * balancer and port; CM_ENOTFOUND when there is none. */
static int listener_find(mod_ctx *ctx, const json_t *image, const char *arn, json_t **out,
                         cm_err *err)
{
    const char *region = str(image, "region"), *lb = str(image, "load_balancer");
    json_t *rows = json_array();
    int rc = *arn  ? listener_describe(ctx, region, "ListenerArns.member.1", arn, rows, err)
             : *lb ? listener_describe(ctx, region, "LoadBalancerArn", lb, rows, err)
                   : cm_err_set(err, CM_ENOTFOUND, "a listener without a load balancer");
    json_int_t port = json_integer_value(json_object_get(image, "port"));
    for (size_t i = json_array_size(rows); !rc && !*arn && i-- > 0;)
        if (json_integer_value(json_object_get(json_array_get(rows, i), "port")) != port)
            json_array_remove(rows, i);
    if (!rc)
        rc = attach_tags(ctx, region, rows, "listener_arn", false, err);
    if (!rc && json_array_size(rows) == 0)
        rc = cm_err_set(err, CM_ENOTFOUND, "listener %s does not exist in %s",
                        *arn ? arn : "on that port", region);
    if (!rc)
        *out = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return rc;
}

static int listener_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    return listener_find(ctx, image, str(image, "listener_arn"), out, err);
}

/* Port, protocol, SSL policy and default action of img, as CreateListener
 * and ModifyListener both take them. */
static void put_listener(json_t *p, const json_t *img)
{
    json_object_set(p, "Port", json_object_get(img, "port"));
    json_object_set_new(p, "Protocol", json_string(str(img, "protocol")));
    if (secure(str(img, "protocol")) && *str(img, "ssl_policy"))
        json_object_set_new(p, "SslPolicy", json_string(str(img, "ssl_policy")));
    if (*str(img, "certificate"))
        json_object_set_new(p, "Certificates.member.1.CertificateArn",
                            json_string(str(img, "certificate")));
    json_object_set_new(p, "DefaultActions.member.1.Type", json_string("forward"));
    json_object_set_new(p, "DefaultActions.member.1.TargetGroupArn",
                        json_string(str(img, "target_group")));
}

static bool listener_differs(const json_t *known, const json_t *desired)
{
    static const char *const cols[] = {"port", "protocol", "ssl_policy", "target_group",
                                       "certificate"};
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
        if (differs(known, desired, cols[i]))
            return true;
    return false;
}

static int listener_modify(mod_ctx *ctx, const char *arn, const json_t *known,
                           const json_t *desired, cm_err *err)
{
    if (!listener_differs(known, desired))
        return 0;
    json_t *p = json_pack("{s:s}", "ListenerArn", arn);
    put_listener(p, desired);
    return elb_call(ctx, &listener_api, str(desired, "region"), "ModifyListener", p, NULL, NULL,
                    err, arn);
}

/* The listener on desired's port, made by an earlier, interrupted attempt
 * or by someone else, brought to the row. */
static int listener_adopt(mod_ctx *ctx, const json_t *found, const json_t *desired, json_t **out,
                          cm_err *err)
{
    int rc = listener_modify(ctx, str(found, "listener_arn"), found, desired, err);
    if (!rc)
        *out = with_owned(desired, found, listener_owned);
    return rc;
}

static int listener_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = str(desired, "region"), *lb = str(desired, "load_balancer");
    /* AWS answers a second create of the same listener with the first and
     * refuses one of other settings on its port; an emulator may make two */
    json_t *found = NULL;
    int rc = listener_find(ctx, desired, "", &found, err);
    if (!rc) {
        rc = listener_adopt(ctx, found, desired, out, err);
        json_decref(found);
        return rc;
    }
    if (rc != CM_ENOTFOUND)
        return rc;
    cm_err_clear(err);
    json_t *p = json_pack("{s:s}", "LoadBalancerArn", lb);
    put_listener(p, desired);
    json_t *owned = mod_tags_owned(ctx, NULL);
    mod_query_put_map(p, "Tags.member", "Key", "Value", owned);
    json_decref(owned);
    xmlDocPtr doc;
    xmlNodePtr res;
    char arn[2048] = "";
    rc = elb_call(ctx, &listener_api, region, "CreateListener", p, &doc, &res, err, lb);
    if (rc && strcmp(err->cloud_code, "DuplicateListener") == 0) {
        cm_err_clear(err); /* made a moment ago, by someone else */
        rc = listener_find(ctx, desired, "", &found, err);
        if (!rc)
            rc = listener_adopt(ctx, found, desired, out, err);
        json_decref(found);
        return rc;
    }
    if (rc)
        return rc;
    rc = created_arn(doc, res, "Listeners/member", "ListenerArn", "CreateListener", lb, arn,
                     sizeof arn, err);
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "listener_arn", json_string(arn));
    return 0;
}

static int listener_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                           cm_err *err)
{
    const char *arn = str(known, "listener_arn");
    if (!*arn)
        return cm_err_set(err, CM_EINVAL, "the listener on port %lld has no ARN to change it by",
                          (long long)json_integer_value(json_object_get(known, "port")));
    int rc = listener_modify(ctx, arn, known, desired, err);
    if (!rc)
        *out = with_owned(desired, known, listener_owned);
    return rc;
}

static int listener_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *arn = str(known, "listener_arn");
    if (!*arn)
        return 0;
    int rc = elb_call(ctx, &listener_api, str(known, "region"), "DeleteListener",
                      json_pack("{s:s}", "ListenerArn", arn), NULL, NULL, err, arn);
    if (rc && not_found(err)) { /* gone, or gone with its load balancer */
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

/* ---- the module ---- */

#define IMM MOD_COL_IMMUTABLE
#define OWNED MOD_COL_CLOUD_OWNED
#define CID (MOD_COL_CLOUD_ID | MOD_COL_CLOUD_OWNED)

static const mod_table_ops lb_ops = {
    .list = lb_list,
    .read = lb_read,
    .create = lb_create,
    .update = lb_update,
    .remove = lb_remove,
};
static const mod_column lb_columns[] = {
    {"load_balancer_arn", CID},
    {"load_balancer_name", IMM | MOD_COL_UNIQUE},
    {"load_balancer_type", IMM},
    {"scheme", IMM},
    {"ip_address_type", 0},
    {"subnets", 0, "subnet"},
    {"security_groups", 0, "security_group"},
    {"region", IMM},
    {"tags", 0},
    {"dns_name", OWNED},
    {"canonical_hosted_zone_id", OWNED},
    {"vpc", OWNED, "vpc"},
    {"state", OWNED},
    {NULL, 0},
};
static const mod_table lb_table = {"load_balancer", lb_columns, &lb_ops, ELB_SERVICE};

static const mod_table_ops tg_ops = {
    .list = tg_list,
    .read = tg_read,
    .create = tg_create,
    .update = tg_update,
    .remove = tg_remove,
};
static const mod_column tg_columns[] = {
    {"target_group_arn", CID},
    {"target_group_name", IMM | MOD_COL_UNIQUE},
    {"target_type", IMM},
    {"protocol", IMM},
    {"port", IMM},
    {"vpc", IMM, "vpc"},
    {"protocol_version", IMM},
    {"health_check_protocol", 0},
    {"health_check_port", 0},
    {"health_check_path", 0},
    {"health_check_interval_seconds", 0},
    {"health_check_timeout_seconds", 0},
    {"healthy_threshold_count", 0},
    {"unhealthy_threshold_count", 0},
    {"health_check_matcher", 0},
    {"region", IMM},
    {"tags", 0},
    {NULL, 0},
};
static const mod_table tg_table = {"target_group", tg_columns, &tg_ops, ELB_SERVICE};

static const mod_table_ops listener_ops = {
    .list = listener_list,
    .read = listener_read,
    .create = listener_create,
    .update = listener_update,
    .remove = listener_remove,
};
static const mod_column listener_columns[] = {
    {"listener_arn", CID},
    {"load_balancer", IMM, "load_balancer"},
    {"port", MOD_COL_UNIQUE},
    {"protocol", 0},
    {"ssl_policy", 0},
    {"target_group", 0, "target_group"},
    {"certificate", 0, "certificate"},
    {"region", IMM},
    {NULL, 0},
};
/* No column needs a read per listener: the empty list turns the rotation
 * on, so that listener_region learns the known listeners. */
static const char *const listener_deep[] = {NULL};
static const mod_table listener_table = {
    "listener", listener_columns, &listener_ops,        ELB_SERVICE,
    NULL,       "load_balancer",  .deep = listener_deep};

static const mod_table *const elb_tables[] = {&lb_table, &tg_table, &listener_table, NULL};
static const char *const elb_deps[] = {"aws_vpc", "aws_security_group", "aws_acm", NULL};

const mod_module mod_aws_elb = {
    .name = "aws_elb",
    .version = IASQL_VERSION,
    .deps = elb_deps,
    .install_sql = iasql_sql_aws_elb,
    .uninstall_sql = "DROP TRIGGER IF EXISTS subnet_used_by_load_balancer ON subnet;\n"
                     "DROP TRIGGER IF EXISTS security_group_used_by_load_balancer ON "
                     "security_group;\n"
                     "DROP FUNCTION IF EXISTS load_balancer_uses_it();\n"
                     "DROP FUNCTION IF EXISTS load_balancer_sets_valid();\n"
                     "DROP FUNCTION IF EXISTS target_group_defaults();\n"
                     "DROP FUNCTION IF EXISTS listener_fits_its_load_balancer();\n"
                     "DROP FUNCTION IF EXISTS elb_tags_valid(jsonb);",
    .tables = elb_tables,
};
