/* modules/aws_route53/mod_route53.c — module aws_route53: tables
 * hosted_zone and resource_record_set over Route 53's rest-xml protocol.
 * Route 53 is global: every request is signed for us-east-1. A zone's
 * comment and tags change in place; its domain replaces it; its
 * CallerReference is the action's idempotency token, by which a read after
 * a crash finds it. A record set changes through ChangeResourceRecordSets:
 * a create is a CREATE (an UPSERT when it already exists: adopted), an
 * update an UPSERT, a delete a DELETE of what Route 53 holds. Its name and
 * type replace it. An alias either names a load balancer of aws_elb
 * (whose DNS name and canonical zone are read from ELBv2) or gives its
 * target. The NS and SOA records at a zone's apex are Route 53's own:
 * implicit rows of their zone (they follow a replaced zone with no call,
 * the next listing naming the new zone's). Private zones and record sets with a
 * routing policy (a SetIdentifier) are not modelled and are left alone.
 * Listing costs one ListHostedZones page per 100 zones and, per zone, a
 * GetHostedZone and a ListTagsForResource (under the poller's rotation,
 * once a rotation); record sets cost one
 * ListResourceRecordSets page per 300 per zone, plus one
 * DescribeLoadBalancers per region when an alias is found; under the
 * poller's rotation by parent, only for the zones whose turn it is, those
 * new and those whose ResourceRecordSetCount differs from the record sets
 * the database knows in them. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

extern const char iasql_sql_aws_route53[];

#define R53_REGION "us-east-1"
#define R53_NS "https://route53.amazonaws.com/doc/2013-04-01/"
/* ChangeTagsForResource takes at most 10 tags to add and 10 to remove. */
#define R53_TAGS_PER_CALL 10

static const aws_service r53_api = {"route53", AWS_PROTO_REST_XML};
static const aws_operation create_zone_op = {"CreateHostedZone", "POST", "/2013-04-01/hostedzone"};
static const aws_operation get_zone_op = {"GetHostedZone", "GET", "/2013-04-01/hostedzone/{Id}"};
static const aws_operation delete_zone_op = {"DeleteHostedZone", "DELETE",
                                             "/2013-04-01/hostedzone/{Id}"};
static const aws_operation list_zones_op = {"ListHostedZones", "GET", "/2013-04-01/hostedzone"};
static const aws_operation comment_op = {"UpdateHostedZoneComment", "POST",
                                         "/2013-04-01/hostedzone/{Id}"};
static const aws_operation tag_op = {"ChangeTagsForResource", "POST",
                                     "/2013-04-01/tags/{ResourceType}/{ResourceId}"};
static const aws_operation list_tags_op = {"ListTagsForResource", "GET",
                                           "/2013-04-01/tags/{ResourceType}/{ResourceId}"};
static const aws_operation change_op = {"ChangeResourceRecordSets", "POST",
                                        "/2013-04-01/hostedzone/{Id}/rrset/"};
static const aws_operation list_rr_op = {"ListResourceRecordSets", "GET",
                                         "/2013-04-01/hostedzone/{Id}/rrset"};

static const mod_query_service elb_api = {"elasticloadbalancing", "2015-12-01", "load balancer"};
static const mod_query_pager lb_pages = {"DescribeLoadBalancers", "Marker", "NextMarker",
                                         "LoadBalancers", NULL};

static const char *str(const json_t *img, const char *col)
{
    return json_string_value(json_object_get(img, col));
}

/* One Route 53 operation: takes in (URI labels, "query", "body"). */
static int r53_call(mod_ctx *ctx, const aws_operation *op, json_t *in, aws_answer *out, cm_err *err,
                    const char *what)
{
    aws_answer ignored;
    aws_answer *a = out ? out : &ignored;
    int rc = in ? aws_call(ctx->aws, &r53_api, op, R53_REGION, in, a, err)
                : cm_err_set(err, CM_ENOMEM, "out of memory");
    json_decref(in);
    if (rc)
        cm_err_wrap(err, "%s for %s", op->name, what);
    if (!out)
        aws_answer_free(&ignored);
    return rc;
}

static xmlNodePtr answer_root(const aws_answer *a)
{
    return a->xml ? xmlDocGetRootElement(a->xml) : NULL;
}

/* ---- names ---- */

/* A DNS name as the table keeps it: Route 53's \NNN escapes decoded
 * ("\052" is "*"), lower case, with the final dot. A new string. */
static char *name_normal(const char *in)
{
    size_t n = strlen(in);
    char *out = malloc(n + 2), *o = out;
    if (!out)
        return NULL;
    for (const char *p = in; *p; p++) {
        if (p[0] == '\\' && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
            isdigit((unsigned char)p[3])) {
            *o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
            p += 3;
        } else {
            *o++ = (char)tolower((unsigned char)*p);
        }
    }
    if (o == out || o[-1] != '.')
        *o++ = '.';
    *o = '\0';
    return out;
}

static json_t *name_json(xmlNodePtr parent, const char *child)
{
    char raw[1100];
    if (!aws_xml_child_text(parent, child, raw, sizeof raw))
        return json_null();
    char *n = name_normal(raw);
    json_t *v = n ? json_string(n) : json_null();
    free(n);
    return v;
}

/* "/hostedzone/Z123" -> "Z123" */
static const char *bare_zone_id(const char *id)
{
    const char *slash = strrchr(id, '/');
    return slash ? slash + 1 : id;
}

/* ---- hosted_zone ---- */

static bool zone_gone(const cm_err *err)
{
    return strcmp(err->cloud_code, "NoSuchHostedZone") == 0;
}

static int zone_tags(mod_ctx *ctx, const char *id, json_t **out, cm_err *err)
{
    aws_answer a;
    *out = NULL;
    int rc = r53_call(ctx, &list_tags_op,
                      json_pack("{s:s, s:s}", "ResourceType", "hostedzone", "ResourceId", id), &a,
                      err, id);
    if (rc)
        return rc;
    json_t *tags = json_object();
    xmlNodePtr set = aws_xml_path(answer_root(&a), "ResourceTagSet/Tags");
    for (xmlNodePtr t = set ? aws_xml_child(set, "Tag") : NULL; t; t = aws_xml_next(t, "Tag")) {
        char k[200], v[300];
        aws_xml_child_text(t, "Key", k, sizeof k);
        aws_xml_child_text(t, "Value", v, sizeof v);
        if (k[0] && strncmp(k, "aws:", 4) != 0)
            json_object_set_new(tags, k, json_string(v));
    }
    aws_answer_free(&a);
    *out = tags;
    return 0;
}

/* A zone's row image from its HostedZone element, the name servers of its
 * DelegationSet element (may be NULL) and its tags (taken). NULL for a
 * private zone. */
static json_t *zone_row(xmlNodePtr zone, xmlNodePtr delegation, json_t *tags)
{
    char id[128], priv[16], comment[300];
    aws_xml_child_text(zone, "Id", id, sizeof id);
    xmlNodePtr config = aws_xml_child(zone, "Config");
    aws_xml_child_text(config, "PrivateZone", priv, sizeof priv);
    if (strcmp(priv, "true") == 0) {
        json_decref(tags);
        return NULL;
    }
    bool has_comment = config && aws_xml_child_text(config, "Comment", comment, sizeof comment);
    json_t *ns = json_array();
    xmlNodePtr list = delegation ? aws_xml_child(delegation, "NameServers") : NULL;
    for (xmlNodePtr s = list ? aws_xml_child(list, "NameServer") : NULL; s;
         s = aws_xml_next(s, "NameServer"))
        json_array_append_new(ns, aws_xml_json_text(s));
    json_t *row = json_pack("{s:s, s:o, s:o, s:o, s:o}", "hosted_zone_id", bare_zone_id(id),
                            "domain_name", name_json(zone, "Name"), "comment",
                            has_comment && comment[0] ? json_string(comment) : json_null(), "tags",
                            tags ? tags : json_object(), "name_servers", ns);
    return mod_take_owner(row);
}

/* GetHostedZone and ListTagsForResource of zone id: *out its row image
 * (NULL for a private zone), CM_ENOTFOUND when it is gone. */
static int zone_read_id(mod_ctx *ctx, const char *id, json_t **out, cm_err *err)
{
    aws_answer a;
    *out = NULL;
    int rc = r53_call(ctx, &get_zone_op, json_pack("{s:s}", "Id", id), &a, err, id);
    if (rc && zone_gone(err))
        return cm_err_set(err, CM_ENOTFOUND, "hosted zone %s does not exist", id);
    if (rc)
        return rc;
    json_t *tags = NULL;
    rc = zone_tags(ctx, id, &tags, err);
    if (rc && zone_gone(err))
        rc = cm_err_set(err, CM_ENOTFOUND, "hosted zone %s does not exist", id);
    xmlNodePtr root = answer_root(&a);
    if (!rc)
        *out =
            zone_row(aws_xml_child(root, "HostedZone"), aws_xml_child(root, "DelegationSet"), tags);
    aws_answer_free(&a);
    return rc;
}

/* Calls fn for each HostedZone element of every ListHostedZones page. */
typedef int (*zone_fn)(mod_ctx *ctx, xmlNodePtr zone, void *arg, cm_err *err);

static int each_zone(mod_ctx *ctx, zone_fn fn, void *arg, cm_err *err)
{
    char marker[128] = "";
    int rc = 0;
    for (bool more = true; !rc && more;) {
        json_t *q = json_pack("{s:s}", "maxitems", "100");
        if (marker[0])
            json_object_set_new(q, "marker", json_string(marker));
        aws_answer a;
        rc = r53_call(ctx, &list_zones_op, json_pack("{s:o}", "query", q), &a, err, "(all)");
        if (rc)
            break;
        xmlNodePtr root = answer_root(&a), zones = aws_xml_child(root, "HostedZones");
        for (xmlNodePtr z = zones ? aws_xml_child(zones, "HostedZone") : NULL; !rc && z;
             z = aws_xml_next(z, "HostedZone"))
            rc = fn(ctx, z, arg, err);
        char truncated[16];
        aws_xml_child_text(root, "IsTruncated", truncated, sizeof truncated);
        more = rc == 0 && strcmp(truncated, "true") == 0 &&
               aws_xml_child_text(root, "NextMarker", marker, sizeof marker) && marker[0];
        aws_answer_free(&a);
    }
    return rc == 1 ? 0 : rc;
}

static int collect_zone(mod_ctx *ctx, xmlNodePtr zone, void *rows, cm_err *err)
{
    char id[128], priv[16];
    aws_xml_child_text(zone, "Id", id, sizeof id);
    aws_xml_child_text(aws_xml_child(zone, "Config"), "PrivateZone", priv, sizeof priv);
    if (strcmp(priv, "true") == 0)
        return 0;
    const char *bare = bare_zone_id(id);
    if (mod_deep_known(ctx, "", bare) && !mod_deep_wanted(ctx, "", bare)) {
        /* a known zone outside its slot: ListHostedZones' entry (its name
         * servers and tags keep their known values) */
        char comment[300];
        xmlNodePtr config = aws_xml_child(zone, "Config");
        bool has_comment = config && aws_xml_child_text(config, "Comment", comment, sizeof comment);
        json_array_append_new(
            rows, json_pack("{s:s, s:o, s:o, s:b}", "hosted_zone_id", bare, "domain_name",
                            name_json(zone, "Name"), "comment",
                            has_comment && comment[0] ? json_string(comment) : json_null(),
                            MOD_PARTIAL_KEY, 1));
        return 0;
    }
    json_t *row = NULL;
    int rc = zone_read_id(ctx, bare, &row, err);
    if (!rc && !row)
        return 0;
    return mod_keep_found(rows, rc, row, err);
}

static int zone_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                     cm_err *err)
{
    (void)regions, (void)nregions; /* global */
    json_t *rows = json_array();
    int rc = each_zone(ctx, collect_zone, rows, err);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    *out = rows;
    return 0;
}

typedef struct caller_hunt {
    const char *reference;
    char id[128];
} caller_hunt;

static int find_caller(mod_ctx *ctx, xmlNodePtr zone, void *arg, cm_err *err)
{
    (void)ctx, (void)err;
    caller_hunt *h = arg;
    char ref[200];
    aws_xml_child_text(zone, "CallerReference", ref, sizeof ref);
    if (strcmp(ref, h->reference) != 0)
        return 0;
    char id[128];
    aws_xml_child_text(zone, "Id", id, sizeof id);
    snprintf(h->id, sizeof h->id, "%s", bare_zone_id(id));
    return 1;
}

/* The zone made with this CallerReference ("" when none). */
static int zone_by_caller(mod_ctx *ctx, const char *reference, char *id, size_t size, cm_err *err)
{
    caller_hunt h = {.reference = reference};
    int rc = each_zone(ctx, find_caller, &h, err);
    snprintf(id, size, "%s", rc ? "" : h.id);
    return rc;
}

static int zone_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *id = str(image, "hosted_zone_id");
    char found[128] = "";
    *out = NULL;
    if ((!id || !*id) && mod_ctx_token(ctx)) {
        int rc = zone_by_caller(ctx, mod_ctx_token(ctx), found, sizeof found, err);
        if (rc)
            return rc;
        id = found[0] ? found : NULL;
    }
    if (!id || !*id)
        return cm_err_set(err, CM_ENOTFOUND, "hosted zone %s has no id to read by",
                          str(image, "domain_name"));
    int rc = zone_read_id(ctx, id, out, err);
    if (!rc && !*out)
        rc = cm_err_set(err, CM_ENOTFOUND, "hosted zone %s is private: not modelled", id);
    return rc;
}

/* <Tag><Key>k</Key><Value>v</Value></Tag> ... of the object tags. */
static int put_tag_list(cm_buf *b, const json_t *tags)
{
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach((json_t *)tags, k, v)
    {
        rc = rc ? rc : cm_buf_puts(b, "<Tag><Key>");
        rc = rc ? rc : aws_xml_escape(b, k);
        rc = rc ? rc : cm_buf_puts(b, "</Key><Value>");
        rc = rc ? rc : aws_xml_escape(b, json_string_value(v) ? json_string_value(v) : "");
        rc = rc ? rc : cm_buf_puts(b, "</Value></Tag>");
    }
    return rc;
}

/* ChangeTagsForResource from known tags to desired, ten at a time. */
static int zone_retag(mod_ctx *ctx, const char *id, const json_t *known, const json_t *desired,
                      cm_err *err)
{
    json_t *set, *gone;
    mod_tags_diff(known, desired, &set, &gone);
    int rc = 0;
    const char *k;
    json_t *v, *tmp;
    while (!rc && (json_object_size(set) || json_array_size(gone))) {
        json_t *add = json_object();
        json_object_foreach_safe(set, tmp, k, v)
        {
            if (json_object_size(add) == R53_TAGS_PER_CALL)
                break;
            json_object_set(add, k, v);
            json_object_del(set, k);
        }
        cm_buf b;
        cm_buf_init(&b, 1 << 16);
        rc = cm_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                             "<ChangeTagsForResourceRequest xmlns=\"" R53_NS "\">");
        if (!rc && json_object_size(add)) {
            rc = cm_buf_puts(&b, "<AddTags>");
            rc = rc ? rc : put_tag_list(&b, add);
            rc = rc ? rc : cm_buf_puts(&b, "</AddTags>");
        }
        if (!rc && json_array_size(gone)) {
            rc = cm_buf_puts(&b, "<RemoveTagKeys>");
            for (int i = 0; !rc && i < R53_TAGS_PER_CALL && json_array_size(gone); i++) {
                rc = cm_buf_puts(&b, "<Key>");
                rc = rc ? rc : aws_xml_escape(&b, json_string_value(json_array_get(gone, 0)));
                rc = rc ? rc : cm_buf_puts(&b, "</Key>");
                json_array_remove(gone, 0);
            }
            rc = rc ? rc : cm_buf_puts(&b, "</RemoveTagKeys>");
        }
        rc = rc ? cm_err_set(err, CM_ENOMEM, "out of memory")
                : cm_buf_puts(&b, "</ChangeTagsForResourceRequest>");
        if (!rc)
            rc = r53_call(ctx, &tag_op,
                          json_pack("{s:s, s:s, s:s}", "ResourceType", "hostedzone", "ResourceId",
                                    id, "body", cm_buf_str(&b)),
                          NULL, err, id);
        cm_buf_free(&b);
        json_decref(add);
    }
    json_decref(set);
    json_decref(gone);
    return rc;
}

static int zone_set_comment(mod_ctx *ctx, const char *id, const char *comment, cm_err *err)
{
    cm_buf b;
    cm_buf_init(&b, 4096);
    int rc = cm_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                             "<UpdateHostedZoneCommentRequest xmlns=\"" R53_NS "\">");
    if (!rc && comment) {
        rc = cm_buf_puts(&b, "<Comment>");
        rc = rc ? rc : aws_xml_escape(&b, comment);
        rc = rc ? rc : cm_buf_puts(&b, "</Comment>");
    }
    rc = rc ? rc : cm_buf_puts(&b, "</UpdateHostedZoneCommentRequest>");
    if (!rc)
        rc = r53_call(ctx, &comment_op, json_pack("{s:s, s:s}", "Id", id, "body", cm_buf_str(&b)),
                      NULL, err, id);
    else
        rc = cm_err_set(err, CM_ENOMEM, "out of memory");
    cm_buf_free(&b);
    return rc;
}

/* desired with the columns the cloud owns from the cloud's image. */
static json_t *zone_with_owned(const json_t *desired, const json_t *cloud)
{
    json_t *out = json_deep_copy(desired);
    static const char *const owned[] = {"hosted_zone_id", "name_servers", NULL};
    for (int i = 0; owned[i]; i++) {
        json_t *v = json_object_get(cloud, owned[i]);
        json_object_set(out, owned[i], v ? v : json_null());
    }
    return out;
}

static bool differs(const json_t *a, const json_t *b, const char *col)
{
    const json_t *x = json_object_get(a, col), *y = json_object_get(b, col);
    return !json_equal(x ? x : json_null(), y ? y : json_null());
}

static int zone_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *domain = str(desired, "domain_name"), *comment = str(desired, "comment");
    char reference[64];
    if (!domain)
        return cm_err_set(err, CM_EINVAL, "hosted zone row lacks a domain name");
    if (mod_ctx_token(ctx))
        snprintf(reference, sizeof reference, "%s", mod_ctx_token(ctx));
    else if (cm_random_hex(reference, 16))
        return cm_err_set(err, CM_EIO, "the kernel gave no random bytes for a caller reference");
    cm_buf b;
    cm_buf_init(&b, 8192);
    int rc = cm_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                             "<CreateHostedZoneRequest xmlns=\"" R53_NS "\"><Name>");
    rc = rc ? rc : aws_xml_escape(&b, domain);
    rc = rc ? rc : cm_buf_puts(&b, "</Name><CallerReference>");
    rc = rc ? rc : aws_xml_escape(&b, reference);
    rc = rc ? rc : cm_buf_puts(&b, "</CallerReference>");
    if (!rc && comment) {
        rc = cm_buf_puts(&b, "<HostedZoneConfig><Comment>");
        rc = rc ? rc : aws_xml_escape(&b, comment);
        rc = rc ? rc : cm_buf_puts(&b, "</Comment></HostedZoneConfig>");
    }
    rc = rc ? rc : cm_buf_puts(&b, "</CreateHostedZoneRequest>");
    aws_answer a = {0};
    if (rc)
        rc = cm_err_set(err, CM_ENOMEM, "out of memory");
    else
        rc = r53_call(ctx, &create_zone_op, json_pack("{s:s}", "body", cm_buf_str(&b)), &a, err,
                      domain);
    cm_buf_free(&b);
    char id[128] = "";
    json_t *known = NULL;
    if (!rc) {
        aws_xml_child_text(aws_xml_child(answer_root(&a), "HostedZone"), "Id", id, sizeof id);
        memmove(id, bare_zone_id(id), strlen(bare_zone_id(id)) + 1);
        /* new: the comment sent, no tags yet */
        known = json_pack("{s:O?, s:{}}", "comment", json_object_get(desired, "comment"), "tags");
    } else if (strcmp(err->cloud_code, "HostedZoneAlreadyExists") == 0) {
        /* an earlier attempt with this token made it: adopt it */
        cm_err_clear(err);
        rc = zone_by_caller(ctx, reference, id, sizeof id, err);
        if (!rc && !id[0])
            rc = cm_err_set(err, CM_EEXISTS,
                            "hosted zone %s exists, made with caller reference %s, but is not "
                            "listed",
                            domain, reference);
        if (!rc)
            rc = zone_read_id(ctx, id, &known, err);
    }
    aws_answer_free(&a);
    if (!rc && !id[0])
        rc = cm_err_set(err, CM_EBADREPLY, "CreateHostedZone for %s: no zone id", domain);
    if (!rc && differs(known, desired, "comment"))
        rc = zone_set_comment(ctx, id, comment, err);
    json_t *tags = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    json_t *had = known ? json_incref(json_object_get(known, "tags")) : json_object();
    if (!rc && known && json_object_get(known, MOD_OWNER_KEY))
        json_object_set(had, MOD_OWNER_TAG, json_object_get(known, MOD_OWNER_KEY));
    if (!rc)
        rc = zone_retag(ctx, id, had, tags, err);
    json_decref(tags);
    json_decref(had);
    json_decref(known);
    json_t *made = NULL;
    if (!rc)
        rc = zone_read_id(ctx, id, &made, err);
    if (!rc)
        *out = zone_with_owned(desired, made);
    json_decref(made);
    return rc;
}

static int zone_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                       cm_err *err)
{
    const char *id = str(known, "hosted_zone_id");
    if (!id)
        return cm_err_set(err, CM_EINVAL, "hosted zone row lacks its id");
    int rc = 0;
    if (differs(known, desired, "comment"))
        rc = zone_set_comment(ctx, id, str(desired, "comment"), err);
    if (!rc)
        rc = zone_retag(ctx, id, json_object_get(known, "tags"), json_object_get(desired, "tags"),
                        err);
    if (!rc)
        *out = zone_with_owned(desired, known);
    return rc;
}

static int zone_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *id = str(known, "hosted_zone_id");
    if (!id)
        return 0;
    int rc = r53_call(ctx, &delete_zone_op, json_pack("{s:s}", "Id", id), NULL, err, id);
    if (rc && zone_gone(err)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

/* ---- load balancers, for aliases ---- */

/* The region of an ELBv2 ARN (arn:aws:elasticloadbalancing:REGION:...). */
static void arn_region(const char *arn, char *out, size_t size)
{
    const char *p = arn;
    out[0] = '\0';
    for (int i = 0; i < 3 && p; i++)
        p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
    const char *end = p ? strchr(p, ':') : NULL;
    if (end)
        snprintf(out, size, "%.*s", (int)(end - p), p);
}

/* A DNS name an alias may point at, for comparison: lower case, no
 * "dualstack." and no final dot. A new string. */
static char *target_key(const char *dns)
{
    if (strncasecmp(dns, "dualstack.", 10) == 0)
        dns += 10;
    char *k = strdup(dns);
    size_t n = k ? strlen(k) : 0;
    if (n && k[n - 1] == '.')
        k[n - 1] = '\0';
    for (char *p = k; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return k;
}

/* Adds a DescribeLoadBalancers member to the map {target key: {arn, dns,
 * zone}}. */
static int index_lb(mod_ctx *ctx, const char *region, xmlNodePtr m, void *map, cm_err *err)
{
    (void)ctx, (void)region, (void)err;
    char arn[512], dns[300], zone[64];
    aws_xml_child_text(m, "LoadBalancerArn", arn, sizeof arn);
    aws_xml_child_text(m, "DNSName", dns, sizeof dns);
    aws_xml_child_text(m, "CanonicalHostedZoneId", zone, sizeof zone);
    char *k = dns[0] ? target_key(dns) : NULL;
    if (k && arn[0])
        json_object_set_new(map, k,
                            json_pack("{s:s, s:s, s:s}", "arn", arn, "dns", dns, "zone", zone));
    free(k);
    return 0;
}

/* The load balancers of the regions, by target key. */
static int lb_index(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    json_t *map = json_object();
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++)
        rc = mod_query_each(ctx, &elb_api, &lb_pages, regions[i], json_object(), index_lb, map,
                            "(all)", err);
    if (rc) {
        json_decref(map);
        return rc;
    }
    *out = map;
    return 0;
}

/* The DNS name and canonical zone of the load balancer arn. */
static int lb_target(mod_ctx *ctx, const char *arn, json_t **out, cm_err *err)
{
    char region[64];
    arn_region(arn, region, sizeof region);
    json_t *map = json_object();
    int rc = mod_query_each(
        ctx, &elb_api, &lb_pages, region[0] ? region : mod_ctx_default_region(ctx),
        json_pack("{s:s}", "LoadBalancerArns.member.1", arn), index_lb, map, arn, err);
    const char *k;
    json_t *v;
    *out = NULL;
    json_object_foreach(map, k, v) *out = json_incref(v);
    json_decref(map);
    if (!rc && !*out)
        rc = cm_err_set(err, CM_ENOTFOUND, "load balancer %s does not exist", arn);
    return rc;
}

/* ---- resource_record_set ---- */

/* A record set as Route 53 holds it: a row image whose alias, if any, is
 * explicit (alias_dns_name, alias_hosted_zone_id). NULL for one this module
 * does not model (a routing policy). zone_name is its zone's, for the NS
 * and SOA records that are the zone's own. */
static json_t *rr_cloud(xmlNodePtr rr, const char *zone_id, const char *zone_name)
{
    if (aws_xml_child(rr, "SetIdentifier") || aws_xml_child(rr, "TrafficPolicyInstanceId"))
        return NULL;
    char type[16], ttl[32];
    aws_xml_child_text(rr, "Type", type, sizeof type);
    bool has_ttl = aws_xml_child_text(rr, "TTL", ttl, sizeof ttl);
    json_t *row =
        json_pack("{s:s, s:o, s:s, s:b}", "parent_hosted_zone", zone_id, "name",
                  name_json(rr, "Name"), "record_type", type, "evaluate_target_health", 0);
    xmlNodePtr records = aws_xml_child(rr, "ResourceRecords");
    json_t *values = json_array();
    for (xmlNodePtr r = records ? aws_xml_child(records, "ResourceRecord") : NULL; r;
         r = aws_xml_next(r, "ResourceRecord"))
        json_array_append_new(values, aws_xml_json_child(r, "Value"));
    json_object_set_new(row, "resource_records", records ? values : json_null());
    if (!records)
        json_decref(values);
    json_object_set_new(row, "ttl", has_ttl ? json_integer(strtoll(ttl, NULL, 10)) : json_null());
    xmlNodePtr alias = aws_xml_child(rr, "AliasTarget");
    json_object_set_new(row, "alias_load_balancer", json_null());
    json_object_set_new(row, "alias_dns_name", alias ? name_json(alias, "DNSName") : json_null());
    json_object_set_new(row, "alias_hosted_zone_id",
                        alias ? aws_xml_json_child(alias, "HostedZoneId") : json_null());
    if (alias) {
        char eval[16];
        aws_xml_child_text(alias, "EvaluateTargetHealth", eval, sizeof eval);
        json_object_set_new(row, "evaluate_target_health", json_boolean(strcmp(eval, "true") == 0));
    }
    const char *name = str(row, "name");
    bool apex = name && zone_name && strcmp(name, zone_name) == 0;
    json_object_set_new(
        row, "zone_default",
        json_boolean(strcmp(type, "SOA") == 0 || (apex && strcmp(type, "NS") == 0)));
    return row;
}

/* An alias that points at a load balancer of lbs becomes a reference to
 * it, as a row that names it has it. */
static void rr_refer(json_t *row, const json_t *lbs)
{
    const char *dns = str(row, "alias_dns_name");
    char *k = dns ? target_key(dns) : NULL;
    const json_t *lb = k ? json_object_get(lbs, k) : NULL;
    if (lb && *str(lb, "zone") &&
        !json_equal(json_object_get(lb, "zone"), json_object_get(row, "alias_hosted_zone_id")))
        lb = NULL; /* the same name in another zone: not that load balancer */
    if (lb) {
        json_object_set(row, "alias_load_balancer", json_object_get(lb, "arn"));
        json_object_set_new(row, "alias_dns_name", json_null());
        json_object_set_new(row, "alias_hosted_zone_id", json_null());
    }
    free(k);
}

typedef struct rr_page {
    const char *zone_id, *zone_name;
    const char *only_name, *only_type; /* a read: the one record set */
    json_t *rows;
} rr_page;

/* Every record set of a zone (or, with only_name, the one named). */
static int rr_each(mod_ctx *ctx, rr_page *pg, cm_err *err)
{
    char next_name[1100] = "", next_type[16] = "";
    if (pg->only_name) {
        snprintf(next_name, sizeof next_name, "%s", pg->only_name);
        snprintf(next_type, sizeof next_type, "%s", pg->only_type);
    }
    int rc = 0;
    for (bool more = true; !rc && more;) {
        json_t *q = json_pack("{s:s}", "maxitems", pg->only_name ? "1" : "300");
        if (next_name[0]) {
            json_object_set_new(q, "name", json_string(next_name));
            json_object_set_new(q, "type", json_string(next_type));
        }
        aws_answer a;
        rc = r53_call(ctx, &list_rr_op, json_pack("{s:s, s:o}", "Id", pg->zone_id, "query", q), &a,
                      err, pg->zone_id);
        if (rc)
            break;
        xmlNodePtr root = answer_root(&a), sets = aws_xml_child(root, "ResourceRecordSets");
        for (xmlNodePtr r = sets ? aws_xml_child(sets, "ResourceRecordSet") : NULL; r;
             r = aws_xml_next(r, "ResourceRecordSet")) {
            json_t *row = rr_cloud(r, pg->zone_id, pg->zone_name);
            if (row && pg->only_name &&
                (strcmp(str(row, "name"), pg->only_name) != 0 ||
                 strcmp(str(row, "record_type"), pg->only_type) != 0)) {
                json_decref(row);
                row = NULL;
            }
            if (row)
                json_array_append_new(pg->rows, row);
        }
        char truncated[16];
        aws_xml_child_text(root, "IsTruncated", truncated, sizeof truncated);
        more = !pg->only_name && strcmp(truncated, "true") == 0 &&
               aws_xml_child_text(root, "NextRecordName", next_name, sizeof next_name) &&
               aws_xml_child_text(root, "NextRecordType", next_type, sizeof next_type);
        aws_answer_free(&a);
    }
    return rc;
}

static int rr_zone(mod_ctx *ctx, xmlNodePtr zone, void *rows, cm_err *err)
{
    char id[128], priv[16];
    aws_xml_child_text(zone, "Id", id, sizeof id);
    aws_xml_child_text(aws_xml_child(zone, "Config"), "PrivateZone", priv, sizeof priv);
    if (strcmp(priv, "true") == 0)
        return 0;
    /* Under the rotation by parent, a known zone's records are listed in
     * its turn, or when ListHostedZones counts other than the database
     * knows: a record set made or deleted outside shows in the count. */
    char count[32];
    long n = aws_xml_child_text(zone, "ResourceRecordSetCount", count, sizeof count)
                 ? strtol(count, NULL, 10)
                 : -1;
    if (mod_parent_left_out(ctx, rows, "parent_hosted_zone", NULL, bare_zone_id(id), n))
        return 0;
    json_t *name = name_json(zone, "Name");
    rr_page pg = {.zone_id = bare_zone_id(id), .zone_name = json_string_value(name), .rows = rows};
    int rc = rr_each(ctx, &pg, err);
    json_decref(name);
    if (rc && zone_gone(err)) { /* deleted between the two calls */
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static bool has_alias(const json_t *rows)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) if (str(r, "alias_dns_name")) return true;
    return false;
}

static int rr_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                   cm_err *err)
{
    json_t *rows = json_array(), *lbs = NULL;
    int rc = each_zone(ctx, rr_zone, rows, err);
    if (!rc && has_alias(rows))
        rc = lb_index(ctx, regions, nregions, &lbs, err);
    size_t i;
    json_t *r;
    json_array_foreach(rc ? NULL : rows, i, r) rr_refer(r, lbs);
    json_decref(lbs);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    *out = rows;
    return 0;
}

/* The record set of image as Route 53 holds it (explicit alias), or
 * CM_ENOTFOUND; zone_default only when with_zone (a GetHostedZone more). */
static int rr_read_cloud(mod_ctx *ctx, const json_t *image, bool with_zone, json_t **out,
                         cm_err *err)
{
    const char *zone = str(image, "parent_hosted_zone"), *name = str(image, "name");
    const char *type = str(image, "record_type");
    *out = NULL;
    if (!zone || !name || !type)
        return cm_err_set(err, CM_EINVAL, "record set row lacks its zone, name or type");
    json_t *zone_name = NULL;
    int rc = 0;
    if (with_zone) { /* its name tells the zone's own records */
        aws_answer a;
        rc = r53_call(ctx, &get_zone_op, json_pack("{s:s}", "Id", zone), &a, err, zone);
        if (rc && zone_gone(err))
            return cm_err_set(err, CM_ENOTFOUND, "hosted zone %s does not exist", zone);
        if (rc)
            return rc;
        zone_name = name_json(aws_xml_child(answer_root(&a), "HostedZone"), "Name");
        aws_answer_free(&a);
    }
    rr_page pg = {.zone_id = zone,
                  .zone_name = json_string_value(zone_name),
                  .only_name = name,
                  .only_type = type,
                  .rows = json_array()};
    rc = rr_each(ctx, &pg, err);
    json_decref(zone_name);
    if (rc && zone_gone(err))
        rc = cm_err_set(err, CM_ENOTFOUND, "hosted zone %s does not exist", zone);
    if (!rc && json_array_size(pg.rows) == 0)
        rc = cm_err_set(err, CM_ENOTFOUND, "record set %s %s does not exist in zone %s", name, type,
                        zone);
    if (!rc)
        *out = json_incref(json_array_get(pg.rows, 0));
    json_decref(pg.rows);
    return rc;
}

static int rr_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    json_t *row = NULL;
    int rc = rr_read_cloud(ctx, image, true, &row, err);
    if (rc || !str(row, "alias_dns_name")) {
        *out = row;
        return rc;
    }
    /* the load balancer the row names, else those of the default region */
    json_t *lbs = json_object(), *lb = NULL;
    const char *want = str(image, "alias_load_balancer");
    if (want && lb_target(ctx, want, &lb, err) == 0) {
        char *k = target_key(str(lb, "dns"));
        json_object_set(lbs, k, lb);
        free(k);
    } else {
        cm_err_clear(err);
        const char *region = mod_ctx_default_region(ctx);
        json_decref(lbs);
        lbs = NULL;
        rc = lb_index(ctx, &region, 1, &lbs, err);
    }
    json_decref(lb);
    if (!rc)
        rr_refer(row, lbs);
    json_decref(lbs);
    if (rc) {
        json_decref(row);
        row = NULL;
    }
    *out = row;
    return rc;
}

/* <Change> of action on the record set form (explicit alias). */
static int rr_change_xml(cm_buf *b, const char *action, const json_t *form)
{
    int rc = cm_buf_printf(b, "<Change><Action>%s</Action><ResourceRecordSet><Name>", action);
    rc = rc ? rc : aws_xml_escape(b, str(form, "name"));
    rc = rc ? rc : cm_buf_puts(b, "</Name><Type>");
    rc = rc ? rc : aws_xml_escape(b, str(form, "record_type"));
    rc = rc ? rc : cm_buf_puts(b, "</Type>");
    const json_t *ttl = json_object_get(form, "ttl");
    if (!rc && json_is_integer(ttl))
        rc = cm_buf_printf(b, "<TTL>%lld</TTL>", (long long)json_integer_value(ttl));
    const json_t *values = json_object_get(form, "resource_records");
    if (!rc && json_is_array(values)) {
        rc = cm_buf_puts(b, "<ResourceRecords>");
        size_t i;
        json_t *v;
        json_array_foreach(values, i, v)
        {
            rc = rc ? rc : cm_buf_puts(b, "<ResourceRecord><Value>");
            rc = rc ? rc : aws_xml_escape(b, json_string_value(v) ? json_string_value(v) : "");
            rc = rc ? rc : cm_buf_puts(b, "</Value></ResourceRecord>");
        }
        rc = rc ? rc : cm_buf_puts(b, "</ResourceRecords>");
    }
    if (!rc && str(form, "alias_dns_name")) {
        rc = cm_buf_puts(b, "<AliasTarget><HostedZoneId>");
        rc = rc ? rc : aws_xml_escape(b, str(form, "alias_hosted_zone_id"));
        rc = rc ? rc : cm_buf_puts(b, "</HostedZoneId><DNSName>");
        rc = rc ? rc : aws_xml_escape(b, str(form, "alias_dns_name"));
        rc = rc ? rc
                : cm_buf_printf(b,
                                "</DNSName><EvaluateTargetHealth>%s</EvaluateTargetHealth>"
                                "</AliasTarget>",
                                json_is_true(json_object_get(form, "evaluate_target_health"))
                                    ? "true"
                                    : "false");
    }
    return rc ? rc : cm_buf_puts(b, "</ResourceRecordSet></Change>");
}

/* One ChangeResourceRecordSets of zone: actions[i] on forms[i]. */
static int rr_changes(mod_ctx *ctx, const char *zone, const char *const *actions,
                      json_t *const *forms, size_t n, const char *what, cm_err *err)
{
    cm_buf b;
    cm_buf_init(&b, (size_t)8 << 20);
    int rc = cm_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                             "<ChangeResourceRecordSetsRequest xmlns=\"" R53_NS "\">"
                             "<ChangeBatch><Changes>");
    for (size_t i = 0; !rc && i < n; i++)
        rc = rr_change_xml(&b, actions[i], forms[i]);
    rc = rc ? rc : cm_buf_puts(&b, "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>");
    if (rc)
        rc = cm_err_set(err, CM_ENOMEM, "out of memory");
    else
        rc = r53_call(ctx, &change_op, json_pack("{s:s, s:s}", "Id", zone, "body", cm_buf_str(&b)),
                      NULL, err, what);
    cm_buf_free(&b);
    return rc;
}

/* One ChangeResourceRecordSets of a single change. */
static int rr_change(mod_ctx *ctx, const char *action, const json_t *form, cm_err *err)
{
    const char *zone = str(form, "parent_hosted_zone");
    char what[1200];
    snprintf(what, sizeof what, "record set %s %s", str(form, "name"), str(form, "record_type"));
    json_t *one = (json_t *)form;
    return rr_changes(ctx, zone, &action, &one, 1, what, err);
}

/* desired as Route 53 takes it: an alias to a load balancer made explicit. */
static int rr_form(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    *out = json_deep_copy(desired);
    const char *arn = str(desired, "alias_load_balancer");
    if (!arn)
        return 0;
    json_t *lb = NULL;
    int rc = lb_target(ctx, arn, &lb, err);
    if (!rc) {
        json_object_set(*out, "alias_dns_name", json_object_get(lb, "dns"));
        json_object_set(*out, "alias_hosted_zone_id", json_object_get(lb, "zone"));
    }
    json_decref(lb);
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static bool already_exists(const cm_err *err)
{
    return strcmp(err->cloud_code, "InvalidChangeBatch") == 0 && strstr(err->msg, "already exists");
}

static json_t *rr_with_owned(const json_t *desired)
{
    json_t *out = json_deep_copy(desired);
    json_object_set_new(out, "zone_default", json_false());
    return out;
}

static int rr_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    if (json_is_true(json_object_get(desired, "zone_default"))) {
        /* the zone's own NS or SOA following its replaced zone: Route 53
         * made the new zone's with it, and the next listing names them */
        *out = json_deep_copy(desired);
        return 0;
    }
    json_t *form = NULL;
    int rc = rr_form(ctx, desired, &form, err);
    if (!rc)
        rc = rr_change(ctx, "CREATE", form, err);
    if (rc && already_exists(err)) { /* made before (a crash, or outside): adopted */
        cm_err_clear(err);
        rc = rr_change(ctx, "UPSERT", form, err);
    }
    json_decref(form);
    if (!rc)
        *out = rr_with_owned(desired);
    return rc;
}

static int rr_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                     cm_err *err)
{
    json_t *form = NULL;
    int rc = rr_form(ctx, desired, &form, err);
    if (!rc)
        rc = rr_change(ctx, "UPSERT", form, err);
    json_decref(form);
    if (!rc) {
        *out = json_deep_copy(desired);
        json_object_set(*out, "zone_default", json_object_get(known, "zone_default"));
    }
    return rc;
}

static int rr_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    if (json_is_true(json_object_get(known, "zone_default")))
        return 0; /* Route 53 removes the zone's own with the zone, never alone */
    /* a DELETE names every value: those Route 53 holds now */
    json_t *cloud = NULL;
    int rc = rr_read_cloud(ctx, known, false, &cloud, err);
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        return 0;
    }
    if (!rc)
        rc = rr_change(ctx, "DELETE", cloud, err);
    if (rc && strcmp(err->cloud_code, "InvalidChangeBatch") == 0 && strstr(err->msg, "not found")) {
        cm_err_clear(err);
        rc = 0;
    }
    json_decref(cloud);
    return rc;
}

/* One change of a batch on its own, as create, update or remove. */
static void rr_one(mod_ctx *ctx, mod_change *c)
{
    mod_ctx_set_token(ctx, c->token);
    if (c->kind == MOD_CHANGE_CREATE)
        c->rc = rr_create(ctx, c->desired, &c->out, &c->err);
    else if (c->kind == MOD_CHANGE_UPDATE)
        c->rc = rr_update(ctx, c->known, c->desired, &c->out, &c->err);
    else
        c->rc = rr_remove(ctx, c->known, &c->err);
    mod_ctx_set_token(ctx, NULL);
}

/* The changes of one zone in one ChangeResourceRecordSets: CREATE, UPSERT,
 * and DELETE of the known values. Route 53 applies a batch whole or not
 * at all, so when it refuses one (a CREATE of what exists, a DELETE of
 * values that drifted), each change goes again on its own, to get its own
 * outcome. */
static void rr_zone_batch(mod_ctx *ctx, const char *zone, mod_change **cs, size_t n)
{
    const char **actions = calloc(n, sizeof *actions);
    json_t **forms = calloc(n, sizeof *forms);
    size_t k = 0;
    bool alone = !actions || !forms;
    for (size_t i = 0; !alone && i < n; i++) {
        mod_change *c = cs[i];
        const json_t *img = c->kind == MOD_CHANGE_REMOVE ? c->known : c->desired;
        if (json_is_true(json_object_get(img, "zone_default"))) {
            alone = true; /* no call for the zone's own */
            break;
        }
        actions[k] = c->kind == MOD_CHANGE_CREATE   ? "CREATE"
                     : c->kind == MOD_CHANGE_UPDATE ? "UPSERT"
                                                    : "DELETE";
        if (rr_form(ctx, img, &forms[k], &c->err)) {
            alone = true;
            break;
        }
        k++;
    }
    cm_err err = {0};
    char what[160];
    snprintf(what, sizeof what, "%zu record sets of zone %s", n, zone);
    if (!alone && rr_changes(ctx, zone, actions, forms, k, what, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            mod_change *c = cs[i];
            c->rc = 0;
            if (c->kind == MOD_CHANGE_CREATE)
                c->out = rr_with_owned(c->desired);
            else if (c->kind == MOD_CHANGE_UPDATE) {
                c->out = json_deep_copy(c->desired);
                json_object_set(c->out, "zone_default", json_object_get(c->known, "zone_default"));
            }
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            cm_err_clear(&cs[i]->err);
            rr_one(ctx, cs[i]);
        }
    }
    for (size_t i = 0; forms && i < k; i++)
        json_decref(forms[i]);
    free(forms);
    free(actions);
}

/* The batch: one ChangeResourceRecordSets per zone. */
static void rr_batch(mod_ctx *ctx, mod_change *changes, size_t n)
{
    mod_change **zone = calloc(n, sizeof *zone);
    bool *done = calloc(n, sizeof *done);
    for (size_t i = 0; i < n; i++) {
        if (!zone || !done) {
            rr_one(ctx, &changes[i]);
            continue;
        }
        if (done[i])
            continue;
        const json_t *img = changes[i].known ? changes[i].known : changes[i].desired;
        const char *id = str(img, "parent_hosted_zone");
        size_t k = 0;
        for (size_t m = i; m < n; m++) {
            const json_t *other = changes[m].known ? changes[m].known : changes[m].desired;
            if (!done[m] && id && str(other, "parent_hosted_zone") &&
                strcmp(id, str(other, "parent_hosted_zone")) == 0) {
                zone[k++] = &changes[m];
                done[m] = true;
            }
        }
        if (k)
            rr_zone_batch(ctx, id, zone, k);
        else
            rr_one(ctx, &changes[i]);
    }
    free(zone);
    free(done);
}

static bool rr_implicit(const json_t *known)
{
    return json_is_true(json_object_get(known, "zone_default"));
}

/* ---- the module ---- */

#define CID (MOD_COL_CLOUD_ID | MOD_COL_CLOUD_OWNED)
#define OWNED MOD_COL_CLOUD_OWNED
#define IMM MOD_COL_IMMUTABLE

static const mod_table_ops zone_ops = {
    .list = zone_list,
    .read = zone_read,
    .create = zone_create,
    .update = zone_update,
    .remove = zone_remove,
};
static const mod_column zone_columns[] = {
    {"hosted_zone_id", CID}, {"domain_name", IMM},
    {"comment", 0},          {"tags", 0},
    {"name_servers", OWNED}, {NULL, 0},
};
/* What only GetHostedZone and ListTagsForResource return (Route 53 is not
 * in moto's tagging API): it follows the rotation. */
static const char *const zone_deep[] = {"tags", "name_servers", NULL};
static const mod_table zone_table = {"hosted_zone", zone_columns, &zone_ops, "route53",
                                     .deep = zone_deep};

static const mod_table_ops rr_ops = {
    .list = rr_list,
    .read = rr_read,
    .create = rr_create,
    .update = rr_update,
    .remove = rr_remove,
    .batch = rr_batch,
};
static const mod_column rr_columns[] = {
    {"parent_hosted_zone", IMM, "hosted_zone"},
    {"name", MOD_COL_CLOUD_ID},
    {"record_type", MOD_COL_CLOUD_ID},
    {"ttl", 0},
    {"resource_records", 0},
    {"alias_load_balancer", 0, "load_balancer"},
    {"alias_dns_name", 0},
    {"alias_hosted_zone_id", 0},
    {"evaluate_target_health", 0},
    {"zone_default", OWNED},
    {NULL, 0},
};
static const mod_table rr_table = {"resource_record_set",
                                   rr_columns,
                                   &rr_ops,
                                   "route53",
                                   rr_implicit,
                                   "parent_hosted_zone",
                                   .by_parent = "parent_hosted_zone"};

static const mod_table *const r53_tables[] = {&zone_table, &rr_table, NULL};
static const char *const r53_deps[] = {"aws_account", "aws_elb", NULL};

const mod_module mod_aws_route53 = {
    .name = "aws_route53",
    .version = IASQL_VERSION,
    .deps = r53_deps,
    .install_sql = iasql_sql_aws_route53,
    .uninstall_sql = "DROP FUNCTION IF EXISTS resource_record_set_in_its_zone();\n"
                     "DROP FUNCTION IF EXISTS resource_record_set_zone_default_engine_only();\n"
                     "DROP FUNCTION IF EXISTS route53_names_normal();\n"
                     "DROP FUNCTION IF EXISTS route53_values_valid(text[]);\n"
                     "DROP FUNCTION IF EXISTS route53_name_valid(text, boolean);\n"
                     "DROP FUNCTION IF EXISTS route53_name_normal(text);",
    .tables = r53_tables,
};
