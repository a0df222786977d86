/* tests/integration/it_route53.c — module aws_route53 (hosted_zone,
 * resource_record_set) end to end against moto_server: a zone and its
 * record sets (A, AAAA, TXT, MX, CNAME, an explicit alias) made in one
 * commit; the zone's NS and SOA taken in as its own; comment, tags, TTLs,
 * values and alias settings changed in place; a renamed record set
 * replaced; a rollback to the first commit; the zone deleted with its
 * records; an alias to a load balancer made in the same commit as the
 * load balancer, and a record made in SQL from a certificate's validation
 * records; import of what was made outside and drift brought in by a sync;
 * bad input refused at INSERT. The cloud is read with plain rest-xml HTTP,
 * not through the engine's client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <jansson.h>

#include "it_util.h"

#define NS "xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\""
#define CLOUDFRONT_ZONE "Z2FDTNDATAQYW2"

static int setup(void **state)
{
    if (it_fixture(state, "route53", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_route53')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

/* ---- the cloud ---- */

/* One Route 53 call; the answer (a copy for the caller to free). */
static char *r53(it_env *e, const char *method, const char *path, const char *body, long *status)
{
    char url[1024];
    snprintf(url, sizeof url, "%s/2013-04-01/%s", e->emulator, path);
    const char *out;
    long st = it_http_full("route53", body ? "Content-Type: application/xml" : NULL, method, url,
                           body, &out);
    if (status)
        *status = st;
    else if (st >= 300)
        fail_msg("%s %s: HTTP %ld: %s", method, path, st, out);
    return strdup(out ? out : "");
}

/* One record set of a ListResourceRecordSets answer, as text. */
typedef struct rrset {
    char name[256], type[16], ttl[32], values[1024], alias_dns[256], alias_zone[64], eval[8];
} rrset;

/* The record set name/type of zone as Route 53 holds it; false when none. */
static bool cloud_rr(it_env *e, const char *zone, const char *name, const char *type, rrset *out)
{
    char path[512];
    snprintf(path, sizeof path, "hostedzone/%s/rrset?name=%s&type=%s&maxitems=1", zone, name, type);
    long st;
    char *xml = r53(e, "GET", path, NULL, &st);
    memset(out, 0, sizeof *out);
    const char *at = st == 200 ? strstr(xml, "<ResourceRecordSet>") : NULL;
    const char *end = at ? strstr(at, "</ResourceRecordSet>") : NULL;
    bool found = false;
    if (at && end) {
        char *block = strndup(at, (size_t)(end - at));
        const char *v;
        snprintf(out->name, sizeof out->name, "%s", (v = it_xml_text(block, "Name")) ? v : "");
        snprintf(out->type, sizeof out->type, "%s", (v = it_xml_text(block, "Type")) ? v : "");
        snprintf(out->ttl, sizeof out->ttl, "%s", (v = it_xml_text(block, "TTL")) ? v : "");
        snprintf(out->alias_dns, sizeof out->alias_dns, "%s",
                 (v = it_xml_text(block, "DNSName")) ? v : "");
        snprintf(out->alias_zone, sizeof out->alias_zone, "%s",
                 (v = it_xml_text(block, "HostedZoneId")) ? v : "");
        snprintf(out->eval, sizeof out->eval, "%s",
                 (v = it_xml_text(block, "EvaluateTargetHealth")) ? v : "");
        for (const char *p = block; (p = strstr(p, "<Value>"));) {
            v = it_xml_text(p, "Value");
            snprintf(out->values + strlen(out->values), sizeof out->values - strlen(out->values),
                     "%s%s", out->values[0] ? "," : "", v ? v : "");
            p += 7;
        }
        char want[300];
        snprintf(want, sizeof want, "%s", name);
        size_t n = strlen(out->name);
        found = (strcmp(out->name, want) == 0 ||
                 (n && out->name[n - 1] != '.' && strncmp(out->name, want, n) == 0 &&
                  want[n] == '.' && !want[n + 1])) &&
                strcmp(out->type, type) == 0;
        free(block);
    }
    free(xml);
    return found;
}

/* The zone's comment, or NULL when there is no such zone (static buffer). */
static const char *cloud_zone_comment(it_env *e, const char *zone)
{
    static char out[300];
    char path[256];
    snprintf(path, sizeof path, "hostedzone/%s", zone);
    long st;
    char *xml = r53(e, "GET", path, NULL, &st);
    const char *c = it_xml_text(xml, "Comment");
    snprintf(out, sizeof out, "%s", c ? c : "");
    free(xml);
    return st == 200 ? out : NULL;
}

/* The value of tag key on zone ("" when absent; static buffer). */
static const char *cloud_zone_tag(it_env *e, const char *zone, const char *key)
{
    static char out[300];
    char path[256], k[200];
    snprintf(path, sizeof path, "tags/hostedzone/%s", zone);
    snprintf(k, sizeof k, "<Key>%s</Key>", key);
    char *xml = r53(e, "GET", path, NULL, NULL);
    const char *at = strstr(xml, k);
    const char *v = at ? it_xml_text(at, "Value") : NULL;
    snprintf(out, sizeof out, "%s", v ? v : "");
    free(xml);
    return out;
}

static void change(it_env *e, const char *zone, const char *changes)
{
    char path[256], body[4096];
    snprintf(path, sizeof path, "hostedzone/%s/rrset/", zone);
    snprintf(body, sizeof body,
             "<ChangeResourceRecordSetsRequest " NS "><ChangeBatch><Changes>%s</Changes>"
             "</ChangeBatch></ChangeResourceRecordSetsRequest>",
             changes);
    free(r53(e, "POST", path, body, NULL));
}

/* The row of zone domain d's id (copied). */
static char *zone_id(it_env *e, const char *d)
{
    return it_strdup(
        it_valf(e, "SELECT hosted_zone_id FROM hosted_zone WHERE domain_name = '%s'", d));
}

/* ---- the tests ---- */

static void test_zone_and_records_lifecycle(void **state)
{
    it_env *e = *state;
    char d[64];
    snprintf(d, sizeof d, "z%d.example.com.", (int)getpid());
    /* the zone and its records in one commit; names without the final dot */
    assert_true(it_okf(e,
                       "INSERT INTO hosted_zone (domain_name, comment, tags) VALUES "
                       "('Z%d.Example.com', 'the zone', '{\"team\": \"dns\"}')",
                       (int)getpid()));
    assert_string_equal(it_valf(e, "SELECT count(*) FROM hosted_zone WHERE domain_name = '%s'", d),
                        "1");
    assert_true(it_okf(e,
                       "INSERT INTO resource_record_set (parent_hosted_zone, name, record_type, "
                       "ttl, resource_records) SELECT id, n || '%s', t, ttl, v FROM hosted_zone, "
                       "(VALUES ('www.', 'A', 300, ARRAY['192.0.2.1', '192.0.2.2']), "
                       "('www.', 'AAAA', 300, ARRAY['2001:db8::1']), "
                       "('', 'TXT', 60, ARRAY['\"v=spf1 -all\"']), "
                       "('', 'MX', 3600, ARRAY['10 mail.example.net.']), "
                       "('blog.', 'CNAME', 120, ARRAY['www.%s'])) r(n, t, ttl, v) "
                       "WHERE domain_name = '%s'",
                       d, d, d));
    assert_true(it_okf(e,
                       "INSERT INTO resource_record_set (parent_hosted_zone, name, record_type, "
                       "alias_dns_name, alias_hosted_zone_id, evaluate_target_health) SELECT id, "
                       "'cdn.%s', 'A', 'd111111abcdef8.cloudfront.net', '%s', false FROM "
                       "hosted_zone WHERE domain_name = '%s'",
                       d, CLOUDFRONT_ZONE, d));
    it_expect_commit(e, 7, "create");
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    char *zone = zone_id(e, d);
    assert_string_equal(cloud_zone_comment(e, zone), "the zone");
    assert_string_equal(cloud_zone_tag(e, zone, "team"), "dns");
    char *dbid = it_database_id(e);
    assert_string_equal(cloud_zone_tag(e, zone, "iasql:owner"), dbid);
    free(dbid);
    assert_true(it_valf(e,
                        "SELECT cardinality(name_servers) FROM hosted_zone WHERE "
                        "domain_name = '%s'",
                        d)[0] != '0');
    char name[128];
    rrset r;
    snprintf(name, sizeof name, "www.%s", d);
    assert_true(cloud_rr(e, zone, name, "A", &r));
    assert_string_equal(r.ttl, "300");
    assert_string_equal(r.values, "192.0.2.1,192.0.2.2");
    assert_true(cloud_rr(e, zone, name, "AAAA", &r));
    assert_true(cloud_rr(e, zone, d, "TXT", &r));
    assert_string_equal(r.values, "\"v=spf1 -all\"");
    assert_true(cloud_rr(e, zone, d, "MX", &r));
    snprintf(name, sizeof name, "cdn.%s", d);
    assert_true(cloud_rr(e, zone, name, "A", &r));
    assert_string_equal(r.alias_zone, CLOUDFRONT_ZONE);
    assert_non_null(strstr(r.alias_dns, "d111111abcdef8.cloudfront.net"));
    assert_string_equal(r.eval, "false");
    /* the zone's own NS and SOA come in with it, as its own */
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_valf(e,
                                "SELECT string_agg(record_type, ',' ORDER BY record_type) FROM "
                                "resource_record_set WHERE zone_default AND name = '%s'",
                                d),
                        "NS,SOA");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* in place: comment, tags, a TTL and values, an alias' health, the NS' TTL */
    assert_true(it_okf(e,
                       "UPDATE hosted_zone SET comment = NULL, tags = '{\"env\": \"prod\"}' "
                       "WHERE domain_name = '%s'",
                       d));
    assert_true(it_okf(e,
                       "UPDATE resource_record_set SET ttl = 60, resource_records = "
                       "ARRAY['192.0.2.9'] WHERE name = 'www.%s' AND record_type = 'A'",
                       d));
    assert_true(it_okf(e,
                       "UPDATE resource_record_set SET evaluate_target_health = true "
                       "WHERE name = 'cdn.%s'",
                       d));
    assert_true(it_okf(e,
                       "UPDATE resource_record_set SET ttl = 3600 WHERE name = '%s' AND "
                       "record_type = 'NS'",
                       d));
    it_expect_commit(e, 4, "update");
    assert_string_equal(cloud_zone_comment(e, zone), "");
    assert_string_equal(cloud_zone_tag(e, zone, "team"), "");
    assert_string_equal(cloud_zone_tag(e, zone, "env"), "prod");
    snprintf(name, sizeof name, "www.%s", d);
    assert_true(cloud_rr(e, zone, name, "A", &r));
    assert_string_equal(r.ttl, "60");
    assert_string_equal(r.values, "192.0.2.9");
    snprintf(name, sizeof name, "cdn.%s", d);
    assert_true(cloud_rr(e, zone, name, "A", &r));
    assert_string_equal(r.eval, "true");
    assert_true(cloud_rr(e, zone, d, "NS", &r));
    assert_string_equal(r.ttl, "3600");

    /* a new name is another record set: replaced */
    assert_true(it_okf(
        e, "UPDATE resource_record_set SET name = 'weblog.%s' WHERE name = 'blog.%s'", d, d));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "replace");
    it_expect_commit(e, 1, "replace");
    snprintf(name, sizeof name, "blog.%s", d);
    assert_false(cloud_rr(e, zone, name, "CNAME", &r));
    snprintf(name, sizeof name, "weblog.%s", d);
    assert_true(cloud_rr(e, zone, name, "CNAME", &r));
    /* a record set goes */
    assert_true(it_okf(e, "DELETE FROM resource_record_set WHERE record_type = 'AAAA'"));
    it_expect_commit(e, 1, "delete");
    snprintf(name, sizeof name, "www.%s", d);
    assert_false(cloud_rr(e, zone, name, "AAAA", &r));

    /* back to the first commit: the first values, names and comment */
    const char *f[] = {first};
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, f));
    assert_string_equal(cloud_zone_comment(e, zone), "the zone");
    assert_string_equal(cloud_zone_tag(e, zone, "team"), "dns");
    assert_true(cloud_rr(e, zone, name, "A", &r));
    assert_string_equal(r.ttl, "300");
    assert_string_equal(r.values, "192.0.2.1,192.0.2.2");
    assert_true(cloud_rr(e, zone, name, "AAAA", &r));
    snprintf(name, sizeof name, "blog.%s", d);
    assert_true(cloud_rr(e, zone, name, "CNAME", &r));
    snprintf(name, sizeof name, "weblog.%s", d);
    assert_false(cloud_rr(e, zone, name, "CNAME", &r));

    /* a new domain is a new zone: replaced, with its record sets renamed
     * into it in the same commit; its own NS and SOA are the new zone's */
    char d2[64];
    snprintf(d2, sizeof d2, "y%d.example.com.", (int)getpid());
    assert_true(
        it_okf(e, "UPDATE hosted_zone SET domain_name = '%s' WHERE domain_name = '%s'", d2, d));
    assert_true(it_okf(e,
                       "UPDATE resource_record_set r SET name = left(r.name, length(r.name) - %d) "
                       "|| '%s' FROM hosted_zone z WHERE z.id = r.parent_hosted_zone AND "
                       "z.domain_name = '%s'",
                       (int)strlen(d), d2, d2));
    PGresult *res = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    assert_int_equal(PQntuples(res), 9); /* the zone and its eight record sets */
    for (int i = 0; i < PQntuples(res); i++) {
        assert_string_equal(PQgetvalue(res, i, 0), "replace");
        assert_null(strstr(PQgetvalue(res, i, 1), "failed"));
    }
    PQclear(res);
    assert_null(cloud_zone_comment(e, zone));
    free(zone);
    zone = zone_id(e, d2);
    assert_string_equal(cloud_zone_comment(e, zone), "the zone");
    snprintf(name, sizeof name, "www.%s", d2);
    assert_true(cloud_rr(e, zone, name, "A", &r));
    assert_string_equal(r.values, "192.0.2.1,192.0.2.2");
    snprintf(name, sizeof name, "cdn.%s", d2);
    assert_true(cloud_rr(e, zone, name, "A", &r));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_string_equal(it_valf(e,
                                "SELECT string_agg(record_type, ',' ORDER BY record_type) FROM "
                                "resource_record_set WHERE zone_default AND name = '%s'",
                                d2),
                        "NS,SOA");
    assert_true(cloud_rr(e, zone, d2, "NS", &r));
    assert_string_equal(it_valf(e,
                                "SELECT array_to_string(resource_records, ',') FROM "
                                "resource_record_set WHERE name = '%s' AND record_type = 'NS'",
                                d2),
                        r.values);
    snprintf(d, sizeof d, "%s", d2);

    /* the zone goes, its record sets first */
    assert_true(it_okf(e, "DELETE FROM hosted_zone WHERE domain_name = '%s'", d));
    res = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    assert_true(PQntuples(res) >= 7);
    for (int i = 0; i < PQntuples(res); i++) {
        assert_string_equal(PQgetvalue(res, i, 0), "delete");
        assert_null(strstr(PQgetvalue(res, i, 1), "failed"));
    }
    PQclear(res);
    assert_null(cloud_zone_comment(e, zone));
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM resource_record_set WHERE name LIKE '%%%s'", d), "0");
    free(zone);
    free(first);
}

/* A VPC with two subnets and a security group, as rows, named n. */
static void insert_network(it_env *e, const char *n)
{
    assert_true(it_okf(
        e, "INSERT INTO vpc (cidr_block, tags) VALUES ('10.53.0.0/16', '{\"Name\": \"%s\"}')", n));
    for (int i = 0; i < 2; i++)
        assert_true(it_okf(e,
                           "INSERT INTO subnet (vpc, cidr_block, availability_zone) SELECT id, "
                           "'10.53.%d.0/24', 'us-east-1%c' FROM vpc WHERE tags->>'Name' = '%s'",
                           i + 1, "ab"[i], n));
    assert_true(it_okf(e,
                       "INSERT INTO security_group (group_name, description, vpc) SELECT '%s', "
                       "'web', id FROM vpc WHERE tags->>'Name' = '%s'",
                       n, n));
}

static void test_alias_to_load_balancer_and_validation_record(void **state)
{
    it_env *e = *state;
    /* aws_acm comes with aws_elb, which aws_route53 needs */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_module WHERE name = 'aws_acm'"),
                        "1");
    char d[64], lb[32], net[32];
    snprintf(d, sizeof d, "lb%d.example.org.", (int)getpid());
    snprintf(lb, sizeof lb, "web-%d", (int)getpid());
    snprintf(net, sizeof net, "r53-%d", (int)getpid());
    /* one commit: the network, the load balancer, the zone, the alias to it
     * and a certificate to request for the zone */
    insert_network(e, net);
    assert_true(it_okf(e,
                       "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups) "
                       "SELECT '%s', (SELECT array_agg(s.id ORDER BY s.id) FROM subnet s WHERE "
                       "s.vpc = v.id), (SELECT array_agg(g.id) FROM security_group g WHERE "
                       "g.group_name = '%s') FROM vpc v WHERE v.tags->>'Name' = '%s'",
                       lb, net, net));
    assert_true(it_okf(e, "INSERT INTO hosted_zone (domain_name) VALUES ('%s')", d));
    assert_true(it_okf(e,
                       "INSERT INTO resource_record_set (parent_hosted_zone, name, record_type, "
                       "alias_load_balancer, evaluate_target_health) SELECT z.id, z.domain_name, "
                       "'A', l.id, true FROM hosted_zone z, load_balancer l WHERE z.domain_name = "
                       "'%s' AND l.load_balancer_name = '%s'",
                       d, lb));
    assert_true(it_okf(e, "INSERT INTO certificate (domain_name) VALUES ('app.lb%d.example.org')",
                       (int)getpid()));
    PGresult *res = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    for (int i = 0; i < PQntuples(res); i++) {
        assert_string_equal(PQgetvalue(res, i, 0), "create");
        assert_null(strstr(PQgetvalue(res, i, 1), "failed"));
    }
    PQclear(res);
    /* the alias points at the load balancer's DNS name and zone */
    char form[256];
    snprintf(form, sizeof form, "Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.1=%s",
             lb);
    const char *xml;
    assert_int_equal(it_aws_query(e, "elasticloadbalancing", form, &xml), 200);
    char *dns = it_strdup(it_xml_text(xml, "DNSName"));
    char *canon = it_strdup(it_xml_text(xml, "CanonicalHostedZoneId"));
    char *zone = zone_id(e, d);
    rrset r;
    assert_true(cloud_rr(e, zone, d, "A", &r));
    assert_non_null(strstr(r.alias_dns, dns));
    assert_string_equal(r.alias_zone, canon);
    assert_string_equal(r.eval, "true");
    /* listed again, the alias is the load balancer's row, not drift */
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_string_equal(
        it_valf(e,
                "SELECT l.load_balancer_name FROM resource_record_set r JOIN "
                "load_balancer l ON l.id = r.alias_load_balancer WHERE r.name = '%s'",
                d),
        lb);

    /* the certificate's validation record, made in SQL from the row */
    assert_true(it_okf(e,
                       "INSERT INTO resource_record_set (parent_hosted_zone, name, record_type, "
                       "ttl, resource_records) SELECT z.id, v->>'name', v->>'type', 300, "
                       "ARRAY[v->>'value'] FROM certificate c, "
                       "jsonb_array_elements(c.validation_records) v, hosted_zone z "
                       "WHERE c.domain_name = 'app.lb%d.example.org' AND z.domain_name = '%s'",
                       (int)getpid(), d));
    it_expect_commit(e, 1, "create");
    const char *vname = it_valf(e,
                                "SELECT validation_records->0->>'name' FROM certificate WHERE "
                                "domain_name = 'app.lb%d.example.org'",
                                (int)getpid());
    char validation[256];
    snprintf(validation, sizeof validation, "%s", vname);
    assert_true(cloud_rr(e, zone, validation, "CNAME", &r));
    assert_non_null(strstr(r.values, "acm-validations.aws"));

    /* the load balancer's row goes: the alias to it first */
    assert_true(it_okf(e, "DELETE FROM load_balancer WHERE load_balancer_name = '%s'", lb));
    assert_string_equal(
        it_valf(e,
                "SELECT count(*) FROM resource_record_set WHERE name = '%s' AND record_type = "
                "'A'",
                d),
        "0");
    it_expect_commit(e, 2, "delete");
    assert_false(cloud_rr(e, zone, d, "A", &r));
    /* and the rest */
    assert_true(it_okf(e, "DELETE FROM hosted_zone WHERE domain_name = '%s'", d));
    assert_true(
        it_okf(e, "DELETE FROM certificate WHERE domain_name LIKE 'app.lb%d.%%'", (int)getpid()));
    assert_true(it_okf(e, "DELETE FROM security_group WHERE group_name = '%s'", net));
    assert_true(it_okf(e, "DELETE FROM vpc WHERE tags->>'Name' = '%s'", net));
    res = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    for (int i = 0; i < PQntuples(res); i++)
        assert_null(strstr(PQgetvalue(res, i, 1), "failed"));
    PQclear(res);
    assert_null(cloud_zone_comment(e, zone));
    free(dns), free(canon), free(zone);
}

static void test_import_and_drift(void **state)
{
    it_env *e = *state;
    char d[64], body[1024];
    snprintf(d, sizeof d, "outside%d.example.net.", (int)getpid());
    snprintf(body, sizeof body,
             "<CreateHostedZoneRequest " NS "><Name>%s</Name><CallerReference>by-hand-%d"
             "</CallerReference><HostedZoneConfig><Comment>by hand</Comment></HostedZoneConfig>"
             "</CreateHostedZoneRequest>",
             d, (int)getpid());
    char *xml = r53(e, "POST", "hostedzone", body, NULL);
    const char *id = it_xml_text(xml, "Id");
    assert_non_null(id);
    char *zone = strdup(strrchr(id, '/') ? strrchr(id, '/') + 1 : id);
    free(xml);
    char c[1024];
    snprintf(c, sizeof c,
             "<Change><Action>CREATE</Action><ResourceRecordSet><Name>api.%s</Name><Type>A</Type>"
             "<TTL>300</TTL><ResourceRecords><ResourceRecord><Value>198.51.100.7</Value>"
             "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change>",
             d);
    change(e, zone, c);
    snprintf(c, sizeof c,
             "<Change><Action>CREATE</Action><ResourceRecordSet><Name>db.%s</Name><Type>TXT</Type>"
             "<TTL>300</TTL><ResourceRecords><ResourceRecord><Value>\"old\"</Value>"
             "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change>",
             d);
    change(e, zone, c);
    /* reinstall: what the cloud has is imported */
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_route53')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_route53')", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_string_equal(
        it_valf(e, "SELECT comment FROM hosted_zone WHERE hosted_zone_id = '%s'", zone), "by hand");
    assert_string_equal(it_valf(e,
                                "SELECT ttl || ' ' || array_to_string(resource_records, ',') "
                                "FROM resource_record_set WHERE name = 'api.%s'",
                                d),
                        "300 198.51.100.7");
    assert_string_equal(it_valf(e,
                                "SELECT count(*) FROM resource_record_set r JOIN hosted_zone z "
                                "ON z.id = r.parent_hosted_zone WHERE z.hosted_zone_id = '%s'",
                                zone),
                        "4"); /* with its NS and SOA */
    /* the engine changes what it imported */
    assert_true(it_okf(e, "UPDATE resource_record_set SET ttl = 30 WHERE name = 'api.%s'", d));
    it_expect_commit(e, 1, "update");
    char name[128];
    rrset r;
    snprintf(name, sizeof name, "api.%s", d);
    assert_true(cloud_rr(e, zone, name, "A", &r));
    assert_string_equal(r.ttl, "30");
    /* changed outside: a sync brings it into the row */
    snprintf(c, sizeof c,
             "<Change><Action>UPSERT</Action><ResourceRecordSet><Name>api.%s</Name><Type>A</Type>"
             "<TTL>900</TTL><ResourceRecords><ResourceRecord><Value>198.51.100.8</Value>"
             "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change>",
             d);
    change(e, zone, c);
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_valf(e,
                                "SELECT ttl || ' ' || array_to_string(resource_records, ',') "
                                "FROM resource_record_set WHERE name = 'api.%s'",
                                d),
                        "900 198.51.100.8");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* deleted outside: a sync removes the row */
    snprintf(c, sizeof c,
             "<Change><Action>DELETE</Action><ResourceRecordSet><Name>db.%s</Name><Type>TXT</Type>"
             "<TTL>300</TTL><ResourceRecords><ResourceRecord><Value>\"old\"</Value>"
             "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change>",
             d);
    change(e, zone, c);
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM resource_record_set WHERE name = 'db.%s'", d), "0");
    /* the engine removes one it imported */
    assert_true(it_okf(e, "DELETE FROM resource_record_set WHERE name = 'api.%s'", d));
    it_expect_commit(e, 1, "delete");
    assert_false(cloud_rr(e, zone, name, "A", &r));
    /* the zone's comment changed outside, then the zone deleted outside */
    char path[128];
    snprintf(path, sizeof path, "hostedzone/%s", zone);
    free(r53(e, "POST", path,
             "<UpdateHostedZoneCommentRequest " NS "><Comment>renamed</Comment>"
             "</UpdateHostedZoneCommentRequest>",
             NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT comment FROM hosted_zone WHERE hosted_zone_id = '%s'", zone), "renamed");
    free(r53(e, "DELETE", path, NULL, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM hosted_zone WHERE hosted_zone_id = '%s'", zone), "0");
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM resource_record_set WHERE name LIKE '%%%s'", d), "0");
    free(zone);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* Route 53 requests the engine has sent, as its metrics count them. */
static long route53_requests(const char *addr)
{
    char url[128];
    snprintf(url, sizeof url, "http://%s/metrics", addr);
    const char *body;
    assert_int_equal(it_http("GET", url, NULL, &body), 200);
    const char *at = strstr(body, "iasql_cloud_requests_total{service=\"route53\",code=\"200\"} ");
    return at ? strtol(strchr(at, '}') + 2, NULL, 10) : 0;
}

/* A zone's record sets go in one ChangeResourceRecordSets per commit, one
 * way or the other; one refused change fails alone. */
static void test_changes_batched_per_zone(void **state)
{
    it_env *e = *state;
    char addr[64], d[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", free_port());
    snprintf(d, sizeof d, "batch%d.example.com.", (int)getpid());
    assert_int_equal(it_stop_engine(e), 0);
    e->metrics = addr;
    assert_int_equal(it_start_engine(e), 0);
    assert_true(it_okf(e, "INSERT INTO hosted_zone (domain_name) VALUES ('%s')", d));
    it_expect_commit(e, 1, "create");
    char *zone = zone_id(e, d);
    /* twenty records, one call */
    long before = route53_requests(addr);
    assert_true(it_okf(e,
                       "INSERT INTO resource_record_set (parent_hosted_zone, name, record_type, "
                       "ttl, resource_records) SELECT z.id, 'h' || i || '.%s', 'A', 300, "
                       "ARRAY['192.0.2.' || i] FROM hosted_zone z, generate_series(1, 20) i "
                       "WHERE z.domain_name = '%s'",
                       d, d));
    it_expect_commit(e, 20, "create");
    assert_int_equal(route53_requests(addr) - before, 1);
    char name[128];
    rrset r;
    snprintf(name, sizeof name, "h17.%s", d);
    assert_true(cloud_rr(e, zone, name, "A", &r));
    assert_string_equal(r.values, "192.0.2.17");
    /* twenty updates, one call */
    before = route53_requests(addr);
    assert_true(it_okf(e, "UPDATE resource_record_set SET ttl = 60 WHERE name LIKE 'h%%.%s'", d));
    it_expect_commit(e, 20, "update");
    assert_int_equal(route53_requests(addr) - before, 1);
    assert_true(cloud_rr(e, zone, name, "A", &r));
    assert_string_equal(r.ttl, "60");
    /* a batch Route 53 refuses (a CREATE of a record made outside, as moto
     * tells one) goes again change by change, each with its own outcome:
     * that one adopted */
    char c[1024];
    snprintf(c, sizeof c,
             "<Change><Action>CREATE</Action><ResourceRecordSet><Name>dup.%s</Name><Type>A</Type>"
             "<TTL>300</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.250</Value>"
             "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change>",
             d);
    change(e, zone, c);
    assert_true(it_okf(e,
                       "INSERT INTO resource_record_set (parent_hosted_zone, name, record_type, "
                       "ttl, resource_records) SELECT id, n || '.%s', 'A', 300, ARRAY[v] FROM "
                       "hosted_zone, (VALUES ('dup', '192.0.2.250'), ('new', '192.0.2.200')) "
                       "x(n, v) WHERE domain_name = '%s'",
                       d, d));
    before = route53_requests(addr);
    it_expect_commit(e, 2, "create");
    assert_int_equal(route53_requests(addr) - before, 2); /* the UPSERT and the CREATE */
    snprintf(name, sizeof name, "dup.%s", d);
    assert_true(cloud_rr(e, zone, name, "A", &r));
    assert_string_equal(r.values, "192.0.2.250");
    assert_string_equal(r.ttl, "300");
    snprintf(name, sizeof name, "new.%s", d);
    assert_true(cloud_rr(e, zone, name, "A", &r));
    assert_string_equal(r.values, "192.0.2.200");
    /* twenty-two deletes, one call */
    assert_true(it_okf(e,
                       "DELETE FROM resource_record_set WHERE name LIKE '%%.%s' AND NOT "
                       "zone_default",
                       d));
    before = route53_requests(addr);
    PGresult *res = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    for (int i = 0; i < PQntuples(res); i++)
        assert_null(strstr(PQgetvalue(res, i, 1), "failed"));
    PQclear(res);
    assert_int_equal(route53_requests(addr) - before, 1);
    assert_false(cloud_rr(e, zone, name, "A", &r));
    assert_true(it_okf(e, "DELETE FROM hosted_zone WHERE domain_name = '%s'", d));
    it_expect_commit(e, 1, "delete");
    assert_int_equal(it_stop_engine(e), 0);
    e->metrics = NULL;
    assert_int_equal(it_start_engine(e), 0);
    free(zone);
}

/* The poller's rotation (--poll 1 --poll-deep 5: four slots): a quiet poll of the
 * zones costs the ListHostedZones page and the two reads (GetHostedZone,
 * tags) of about a quarter of them, not of all (--poll-deep 1); it writes
 * nothing; a comment is seen at the next poll, a tag within the rotation,
 * a zone new in the cloud comes in whole at once. Record sets have no read
 * of their own: a ListResourceRecordSets page per zone, each poll. */
static void test_zone_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 20 };
    int pid = (int)getpid();
    assert_true(
        it_okf(e,
               "INSERT INTO hosted_zone (domain_name) SELECT 'rot' || g || '-%d.example.org' "
               "FROM generate_series(1, %d) g",
               pid, N));
    it_expect_commit(e, N, "create");
    /* the zones' own NS and SOA records come in with the next listing */
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    int total = atoi(it_value(e, "SELECT count(*) FROM hosted_zone"));
    int records = atoi(it_value(e, "SELECT count(*) FROM resource_record_set"));
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long full[2], req[4], rr[4], sum = 0;
    it_rotation_start(e, "1", "hosted_zone", full, 2);
    it_rotation_start(e, "5", "hosted_zone", req, 4);
    int seen = it_poll_requests(e, "resource_record_set", 0, rr, 0);
    it_poll_requests(e, "resource_record_set", seen - 4, rr, 4);
    for (int i = 0; i < 4; i++) {
        assert_true(req[i] <= 1 + 2 * (total / 4) * 3);
        assert_true(rr[i] <= 1 + total + 1);
        sum += req[i];
    }
    assert_true(full[0] >= 1 + 2 * total && full[1] >= 1 + 2 * total);
    assert_true(sum <= 4 + 2 * total + 8); /* each one's reads once a rotation */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    print_message("rotation: %d zones, quiet polls %ld %ld in full, %ld %ld %ld %ld under the "
                  "rotation; %d record sets: %ld %ld %ld %ld\n",
                  total, full[0], full[1], req[0], req[1], req[2], req[3], records, rr[0], rr[1],
                  rr[2], rr[3]);
    char d[64], made[64], path[256], body[1024];
    snprintf(d, sizeof d, "rot1-%d.example.org.", pid);
    snprintf(made, sizeof made, "rotmade-%d.example.org.", pid);
    char *zone = zone_id(e, d);
    snprintf(path, sizeof path, "hostedzone/%s", zone);
    free(r53(e, "POST", path,
             "<UpdateHostedZoneCommentRequest " NS "><Comment>changed outside</Comment>"
             "</UpdateHostedZoneCommentRequest>",
             NULL));
    snprintf(path, sizeof path, "tags/hostedzone/%s", zone);
    free(r53(e, "POST", path,
             "<ChangeTagsForResourceRequest " NS "><AddTags><Tag><Key>team</Key><Value>ops</Value>"
             "</Tag></AddTags></ChangeTagsForResourceRequest>",
             NULL));
    double t0 = it_now_s();
    assert_true(it_eventually(e, "changed outside",
                              "SELECT comment FROM hosted_zone WHERE domain_name = '%s'", d));
    double comment_s = it_now_s() - t0;
    assert_true(it_eventually(
        e, "ops", "SELECT coalesce(tags->>'team', '') FROM hosted_zone WHERE domain_name = '%s'",
        d));
    print_message("a comment seen in %.1f s, a tag in %.1f s\n", comment_s, it_now_s() - t0);
    snprintf(body, sizeof body,
             "<CreateHostedZoneRequest " NS "><Name>%s</Name><CallerReference>rot-made-%d"
             "</CallerReference></CreateHostedZoneRequest>",
             made, pid);
    char *xml = r53(e, "POST", "hostedzone", body, NULL);
    const char *id = it_xml_text(xml, "Id");
    assert_non_null(id);
    char *mz = strdup(strrchr(id, '/') ? strrchr(id, '/') + 1 : id);
    free(xml);
    snprintf(path, sizeof path, "tags/hostedzone/%s", mz);
    free(r53(e, "POST", path,
             "<ChangeTagsForResourceRequest " NS "><AddTags><Tag><Key>by</Key><Value>console"
             "</Value></Tag></AddTags></ChangeTagsForResourceRequest>",
             NULL));
    assert_true(
        it_eventually(e, "1", "SELECT count(*) FROM hosted_zone WHERE domain_name = '%s'", made));
    assert_string_equal(it_valf(e,
                                "SELECT coalesce(tags->>'by', '') || "
                                "(cardinality(name_servers) > 0)::text FROM hosted_zone "
                                "WHERE domain_name = '%s'",
                                made),
                        "consoletrue");
    it_rotation_end(e);
    free(audit), free(zone), free(mz);
    assert_true(it_ok(e, "DELETE FROM hosted_zone", 0, NULL));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
}

/* A record set's Change element (action on name/type with one value). */
static void rr_change(char *out, size_t size, const char *action, const char *name,
                      const char *type, const char *value)
{
    snprintf(out, size,
             "<Change><Action>%s</Action><ResourceRecordSet><Name>%s</Name><Type>%s</Type>"
             "<TTL>300</TTL><ResourceRecords><ResourceRecord><Value>%s</Value></ResourceRecord>"
             "</ResourceRecords></ResourceRecordSet></Change>",
             action, name, type, value);
}

/* The rotation by parent (--poll 1 --poll-deep 12: ten slots): a quiet
 * poll of the record sets costs the ListHostedZones page and the
 * ListResourceRecordSets of about a tenth of the zones, not one a zone
 * (--poll-deep 1), and writes nothing: the known record sets of the zones
 * skipped all stay. A record set made or deleted outside changes the
 * zone's ResourceRecordSetCount and is seen at the next poll; a value
 * changed outside, and a record made and another deleted at once (the
 * count the same), within the rotation. */
static void test_record_set_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 20 };
    int pid = (int)getpid();
    assert_true(
        it_okf(e,
               "INSERT INTO hosted_zone (domain_name) SELECT 'rr' || g || '-%d.example.org' "
               "FROM generate_series(1, %d) g",
               pid, N));
    it_expect_commit(e, N, "create");
    assert_true(it_okf(e,
                       "INSERT INTO resource_record_set (parent_hosted_zone, name, record_type, "
                       "ttl, resource_records) SELECT id, 'www.' || domain_name, 'A', 300, "
                       "ARRAY['192.0.2.1'] FROM hosted_zone WHERE domain_name LIKE 'rr%%-%d.%%'",
                       pid));
    it_expect_commit(e, N, "create");
    /* the zones' own NS and SOA records come in with the next listing */
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    int records = atoi(it_value(e, "SELECT count(*) FROM resource_record_set"));
    assert_int_equal(records, 3 * N);
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long full[2], req[10], sum = 0;
    it_rotation_start(e, "1", "resource_record_set", full, 2);
    it_rotation_start(e, "12", "resource_record_set", req, 10);
    for (int i = 0; i < 10; i++) {
        assert_true(req[i] <= 1 + 3 * (N / 10)); /* a ListHostedZones, a tenth of the zones */
        assert_true(req[i] <= records / 10 + 1);
        sum += req[i];
    }
    assert_true(full[0] >= 1 + N && full[1] >= 1 + N);
    assert_true(sum <= 10 + N + 4); /* each zone listed about once a rotation */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    assert_int_equal(atoi(it_value(e, "SELECT count(*) FROM resource_record_set")), records);
    print_message("rotation by zone: %d zones, %d record sets, quiet polls %ld %ld in full, "
                  "%ld %ld %ld %ld %ld %ld %ld %ld %ld %ld under it (sum %ld)\n",
                  N, records, full[0], full[1], req[0], req[1], req[2], req[3], req[4], req[5],
                  req[6], req[7], req[8], req[9], sum);
    char d[4][64], name[128], c[2048], c2[1024];
    char *zone[4];
    for (int i = 0; i < 4; i++) {
        snprintf(d[i], sizeof d[i], "rr%d-%d.example.org.", i + 1, pid);
        zone[i] = zone_id(e, d[i]);
    }
#define RR_DELETES                                                                                 \
    "SELECT count(*) FROM iasql_audit_log WHERE table_name = 'resource_record_set' AND op = "      \
    "'DELETE'"
    int deletes = atoi(it_value(e, RR_DELETES));
    /* made outside: the count says so at the next poll */
    snprintf(name, sizeof name, "api.%s", d[0]);
    rr_change(c, sizeof c, "CREATE", name, "A", "198.51.100.1");
    change(e, zone[0], c);
    double made = it_seen_within(e, 10, "198.51.100.1",
                                 "SELECT array_to_string(resource_records, ',') FROM "
                                 "resource_record_set WHERE name = '%s'",
                                 name);
    /* what the poller goes by: ListHostedZones counts the zone's record
     * sets, its NS and SOA included */
    char *xml = r53(e, "GET", "hostedzone?maxitems=100", NULL, NULL);
    char *at = strstr(xml, zone[0]);
    const char *count = at ? it_xml_text(at, "ResourceRecordSetCount") : NULL;
    assert_non_null(count);
    assert_string_equal(count, "4");
    free(xml);
    /* deleted outside: likewise */
    snprintf(name, sizeof name, "www.%s", d[1]);
    rr_change(c, sizeof c, "DELETE", name, "A", "192.0.2.1");
    change(e, zone[1], c);
    double gone = it_seen_within(
        e, 10, "0", "SELECT count(*) FROM resource_record_set WHERE name = '%s'", name);
    /* a value changed outside: the count is the same, seen in the zone's turn */
    snprintf(name, sizeof name, "www.%s", d[2]);
    rr_change(c, sizeof c, "UPSERT", name, "A", "203.0.113.9");
    change(e, zone[2], c);
    double value = it_seen_within(e, 12 * 1.2 + 5, "203.0.113.9",
                                  "SELECT array_to_string(resource_records, ',') FROM "
                                  "resource_record_set WHERE name = '%s'",
                                  name);
    /* one made and one deleted in one change: the count is the same */
    snprintf(name, sizeof name, "new.%s", d[3]);
    rr_change(c, sizeof c, "CREATE", name, "A", "198.51.100.4");
    snprintf(name, sizeof name, "www.%s", d[3]);
    rr_change(c2, sizeof c2, "DELETE", name, "A", "192.0.2.1");
    strncat(c, c2, sizeof c - strlen(c) - 1);
    change(e, zone[3], c);
    double swap = it_seen_within(e, 12 * 1.2 + 5, "1 0",
                                 "SELECT count(*) FILTER (WHERE name = 'new.%s') || ' ' || "
                                 "count(*) FILTER (WHERE name = 'www.%s') FROM resource_record_set",
                                 d[3], d[3]);
    print_message("made outside seen in %.1f s, deleted in %.1f s, a value changed in %.1f s, "
                  "one made and one deleted at once in %.1f s\n",
                  made, gone, value, swap);
    assert_true(made >= 0 && made < 5);
    assert_true(gone >= 0 && gone < 5);
    assert_true(value >= 0);
    assert_true(swap >= 0);
    /* nothing else moved: every other known record set stayed */
    assert_int_equal(atoi(it_value(e, "SELECT count(*) FROM resource_record_set")), records);
    assert_int_equal(atoi(it_value(e, RR_DELETES)), deletes + 2);
    /* a commit under the rotation: its zone is listed at the next poll,
     * and what it made stays */
    assert_true(it_okf(e,
                       "INSERT INTO resource_record_set (parent_hosted_zone, name, record_type, "
                       "ttl, resource_records) SELECT id, 'mail.' || domain_name, 'A', 60, "
                       "ARRAY['192.0.2.25'] FROM hosted_zone WHERE domain_name = '%s'",
                       d[3]));
    it_expect_commit(e, 1, "create");
    assert_true(it_okf(
        e, "UPDATE resource_record_set SET ttl = 120 WHERE name = 'www.rr5-%d.example.org.'", pid));
    it_expect_commit(e, 1, "update");
    it_sleep_ms(4000);
    assert_string_equal(it_valf(e,
                                "SELECT count(*) FROM resource_record_set WHERE name IN "
                                "('mail.%s', 'www.rr5-%d.example.org.') AND ttl IN (60, 120)",
                                d[3], pid),
                        "2");
    /* and the database is what the cloud holds: a full listing finds nothing */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_sync_preview()"), "0");
    it_rotation_end(e);
    free(audit);
    for (int i = 0; i < 4; i++)
        free(zone[i]);
    assert_true(it_ok(e, "DELETE FROM hosted_zone", 0, NULL));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
}

static void test_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject zones[] = {
        {"INSERT INTO hosted_zone (domain_name) VALUES ('no spaces.example.com')",
         "hosted_zone_domain_name_a_dns_name_up_to_255_characters"},
        {"INSERT INTO hosted_zone (domain_name) VALUES ('-lead.example.com')",
         "hosted_zone_domain_name_a_dns_name_up_to_255_characters"},
        {"INSERT INTO hosted_zone (domain_name) VALUES (repeat('a', 64) || '.example.com')",
         "hosted_zone_domain_name_a_dns_name_up_to_255_characters"},
        {"INSERT INTO hosted_zone (domain_name) VALUES (repeat('abcdefgh.', 29))",
         "hosted_zone_domain_name_a_dns_name_up_to_255_characters"},
        {"INSERT INTO hosted_zone (domain_name) VALUES ('*.example.com')",
         "hosted_zone_domain_name_a_dns_name_up_to_255_characters"},
        {"INSERT INTO hosted_zone (domain_name, comment) VALUES ('ok.example', repeat('c', 257))",
         "hosted_zone_comment_1_to_256_characters"},
        {"INSERT INTO hosted_zone (domain_name, tags) VALUES ('ok.example', '{\"aws:k\": \"v\"}')",
         "hosted_zone_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {"INSERT INTO hosted_zone (domain_name, tags) SELECT 'ok.example', jsonb_object_agg('k' "
         "|| i, 'v') FROM generate_series(1, 50) i",
         "hosted_zone_tags_max_49_plus_iasql_owner"},
    };
    it_expect_rejected(e, zones, sizeof zones / sizeof zones[0]);
    assert_true(it_ok(e, "INSERT INTO hosted_zone (domain_name) VALUES ('bad.example')", 0, NULL));
#define RR                                                                                         \
    "INSERT INTO resource_record_set (parent_hosted_zone, name, record_type, ttl, "                \
    "resource_records, alias_dns_name, alias_hosted_zone_id) SELECT id, "
#define ZONE " FROM hosted_zone WHERE domain_name = 'bad.example.'"
    static const it_reject records[] = {
        {RR "'a b.bad.example', 'A', 60, ARRAY['192.0.2.1'], NULL, NULL" ZONE,
         "resource_record_set_name_a_dns_name_up_to_255_characters"},
        {RR "'www.bad.example', 'WKS', 60, ARRAY['x'], NULL, NULL" ZONE,
         "resource_record_set_record_type_one_of_route53s"},
        {RR "'www.bad.example', 'A', -1, ARRAY['192.0.2.1'], NULL, NULL" ZONE,
         "resource_record_set_ttl_0_to_2147483647"},
        {RR "'www.bad.example', 'A', 60, ARRAY[]::text[], NULL, NULL" ZONE,
         "resource_record_set_1_to_400_values_up_to_4000_characters"},
        {RR "'www.bad.example', 'TXT', 60, ARRAY[repeat('t', 4001)], NULL, NULL" ZONE,
         "resource_record_set_1_to_400_values_up_to_4000_characters"},
        {RR "'www.bad.example', 'A', 60, NULL, NULL, NULL" ZONE,
         "resource_record_set_ttl_and_records_or_one_alias_target"},
        {RR "'www.bad.example', 'A', 60, ARRAY['192.0.2.1'], 'x.example.', 'Z1'" ZONE,
         "resource_record_set_ttl_and_records_or_one_alias_target"},
        {RR "'www.bad.example', 'A', NULL, NULL, 'x.example.', NULL" ZONE,
         "resource_record_set_ttl_and_records_or_one_alias_target"},
        {RR "'www.bad.example', 'A', NULL, NULL, 'x.example.', repeat('Z', 33)" ZONE,
         "resource_record_set_alias_dns_name_up_to_1024_zone_id_up_to_32"},
        {RR "'bad.example', 'NS', NULL, NULL, 'x.example.', 'Z1'" ZONE,
         "resource_record_set_alias_not_of_type_soa_or_ns"},
        {RR "'www.elsewhere.example', 'A', 60, ARRAY['192.0.2.1'], NULL, NULL" ZONE,
         "resource_record_set_name_in_its_zone"},
        {RR "'xbad.example', 'A', 60, ARRAY['192.0.2.1'], NULL, NULL" ZONE,
         "resource_record_set_name_in_its_zone"},
        {RR "'bad.example', 'CNAME', 60, ARRAY['x.example.'], NULL, NULL" ZONE,
         "resource_record_set_cname_not_at_a_zone_apex"},
        {"INSERT INTO resource_record_set (parent_hosted_zone, name, record_type, ttl, "
         "resource_records, zone_default) SELECT id, 'bad.example', 'TXT', 60, ARRAY['\"x\"'], "
         "true" ZONE,
         "resource_record_set_zone_default_set_by_the_engine"},
        {RR "n, 'A', 60, ARRAY['192.0.2.1'], NULL, NULL FROM (VALUES ('a.bad.example'), "
            "('a.bad.example.')) v(n), hosted_zone WHERE domain_name = 'bad.example.'",
         "resource_record_set_name_and_type_unique_in_zone"},
    };
    it_expect_rejected(e, records, sizeof records / sizeof records[0]);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user' "
                                    "AND table_name = 'resource_record_set'"),
                        "0");
    assert_true(it_ok(e, "DELETE FROM hosted_zone", 0, NULL));
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_zone_and_records_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alias_to_load_balancer_and_validation_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_import_and_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_batched_per_zone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_set_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_route53", tests, NULL, NULL);
}
