/* tests/integration/it_elb.c — module aws_elb (load_balancer, target_group,
 * listener) end to end against moto_server: a VPC, three subnets, two
 * security groups, an application load balancer across two subnets, two
 * target groups and an HTTP listener forwarding to one, all in one commit
 * (cloud ids written back and used by the dependent creates); updates in
 * place (subnets, security groups, tags, health checks, the listener's
 * port and target); replaces (a scheme that takes its listener along, a
 * target group's port); a rollback to the first commit; everything deleted
 * in one commit, children first; import of what was made outside, drift
 * brought in by iasql_sync() (a change, then a delete); a create that
 * adopts what already has its name; a network load balancer; an HTTPS
 * listener with an aws_acm certificate; bad input refused at INSERT. The
 * cloud is read with plain query-protocol HTTP (DescribeLoadBalancers,
 * DescribeTargetGroups, DescribeListeners, DescribeTags), not through the
 * engine's client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "it_util.h"

static char sfx[32]; /* per run: names of this run only */

static int setup(void **state)
{
    if (it_fixture(state, "elb", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_elb')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

/* One ELB call straight to the emulator: the XML answer, copied for the
 * caller to free; *status (if not NULL) receives the HTTP status, else a
 * status other than 200 fails the test. */
static char *elb(it_env *e, long *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static char *elb(it_env *e, long *status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = it_queryv(e, "elasticloadbalancing", "2015-12-01", status, fmt, ap);
    va_end(ap);
    return out;
}

static char *val(it_env *e, const char *fmt, const char *arg)
{
    const char *v = it_valf(e, fmt, arg);
    return strdup(v ? v : "");
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The result rows of a commit or preview as one text, "action table: description\n"... */
static char *rows_text(it_env *e, const char *sql, int *nrows, int *failed)
{
    PGresult *r = it_sql(e, sql, 0, NULL);
    assert_non_null(r);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    *nrows = PQntuples(r);
    if (failed)
        *failed = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *d = PQgetvalue(r, i, 3);
        if (failed && strncmp(d, "failed", 6) == 0)
            (*failed)++;
        len += (size_t)snprintf(out + len, cap - len, "%s %s: %s\n", PQgetvalue(r, i, 0),
                                PQgetvalue(r, i, 1), d);
    }
    PQclear(r);
    return out;
}

/* Commits, expecting n rows (any when n < 0), none failed, with want of them containing
 * each of the phrases (pairs of phrase and count, ending with NULL). */
static void commit_expect(it_env *e, int n, ...)
{
    int got, failed;
    char *res = rows_text(e, "SELECT * FROM iasql_commit()", &got, &failed);
    if ((n >= 0 && got != n) || failed)
        fprintf(stderr, "%s", res);
    if (n >= 0)
        assert_int_equal(got, n);
    assert_int_equal(failed, 0);
    va_list ap;
    va_start(ap, n);
    for (const char *phrase; (phrase = va_arg(ap, const char *));) {
        int want = va_arg(ap, int);
        if (count(res, phrase) != want)
            fail_msg("expected %d of \"%s\" in:\n%s", want, phrase, res);
    }
    va_end(ap);
    free(res);
}

/* A VPC tagged Name=name with subnets a, b and c and security groups
 * name-a and name-b, as rows. */
static void insert_network(it_env *e, const char *name, const char *net)
{
    assert_true(
        it_okf(e, "INSERT INTO vpc (cidr_block, tags) VALUES ('%s.0.0/16', '{\"Name\": \"%s\"}')",
               net, name));
    static const char zones[] = "abc";
    for (int i = 0; i < 3; i++)
        assert_true(it_okf(e,
                           "INSERT INTO subnet (vpc, cidr_block, availability_zone, tags) SELECT "
                           "id, '%s.%d.0/24', 'us-east-1%c', '{\"Name\": \"%s-%c\"}' FROM vpc "
                           "WHERE tags->>'Name' = '%s'",
                           net, i + 1, zones[i], name, zones[i], name));
    for (int i = 0; i < 2; i++)
        assert_true(it_okf(e,
                           "INSERT INTO security_group (group_name, description, vpc) SELECT "
                           "'%s-%c', 'load balancer', id FROM vpc WHERE tags->>'Name' = '%s'",
                           name, zones[i], name));
}

/* The row ids of subnets (or security groups) name-x, ... as an array literal. */
static const char *subnet_ids(it_env *e, const char *name, const char *zones)
{
    static char out[128];
    char in[64] = "";
    for (const char *z = zones; *z; z++)
        snprintf(in + strlen(in), sizeof in - strlen(in), "%s'%s-%c'", z == zones ? "" : ",", name,
                 *z);
    const char *v = it_valf(
        e, "SELECT array_agg(id ORDER BY id)::text FROM subnet WHERE tags->>'Name' IN (%s)", in);
    snprintf(out, sizeof out, "%s", v ? v : "{}");
    return out;
}

static const char *group_ids(it_env *e, const char *name, const char *zones)
{
    static char out[128];
    char in[64] = "";
    for (const char *z = zones; *z; z++)
        snprintf(in + strlen(in), sizeof in - strlen(in), "%s'%s-%c'", z == zones ? "" : ",", name,
                 *z);
    const char *v = it_valf(
        e, "SELECT array_agg(id ORDER BY id)::text FROM security_group WHERE group_name IN (%s)",
        in);
    snprintf(out, sizeof out, "%s", v ? v : "{}");
    return out;
}

/* The load balancer of that name as ELB describes it (XML), or NULL. */
static char *cloud_lb(it_env *e, const char *name)
{
    long st;
    char *x = elb(e, &st, "Action=DescribeLoadBalancers&Names.member.1=%s", name);
    if (st == 200 && strstr(x, "<LoadBalancerArn>"))
        return x;
    free(x);
    return NULL;
}

static char *cloud_tg(it_env *e, const char *name)
{
    long st;
    char *x = elb(e, &st, "Action=DescribeTargetGroups&Names.member.1=%s", name);
    if (st == 200 && strstr(x, "<TargetGroupArn>"))
        return x;
    free(x);
    return NULL;
}

static char *cloud_listeners(it_env *e, const char *lb_arn)
{
    return elb(e, NULL, "Action=DescribeListeners&LoadBalancerArn=%s", lb_arn);
}

static char *cloud_tags(it_env *e, const char *arn)
{
    return elb(e, NULL, "Action=DescribeTags&ResourceArns.member.1=%s", arn);
}

static void test_stack_lifecycle(void **state)
{
    it_env *e = *state;
    char name[64], lbn[64], tg1[64], tg2[64];
    snprintf(name, sizeof name, "net-%s", sfx);
    snprintf(lbn, sizeof lbn, "web-%s", sfx);
    snprintf(tg1, sizeof tg1, "app-%s", sfx);
    snprintf(tg2, sizeof tg2, "api-%s", sfx);
    insert_network(e, name, "10.61");
    char subnets_ab[128], sg_a[128];
    snprintf(subnets_ab, sizeof subnets_ab, "%s", subnet_ids(e, name, "ab"));
    snprintf(sg_a, sizeof sg_a, "%s", group_ids(e, name, "a"));
    assert_true(it_okf(e,
                       "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups, "
                       "tags) VALUES ('%s', '%s', '%s', '{\"team\": \"web\"}')",
                       lbn, subnets_ab, sg_a));
    /* its VPC is its subnets' */
    assert_string_equal(it_valf(e,
                                "SELECT v.tags->>'Name' FROM load_balancer l JOIN vpc v ON "
                                "v.id = l.vpc WHERE l.load_balancer_name = '%s'",
                                lbn),
                        name);
    assert_true(it_okf(e,
                       "INSERT INTO target_group (target_group_name, protocol, port, vpc, "
                       "health_check_path, health_check_interval_seconds, health_check_matcher, "
                       "tags) SELECT '%s', 'HTTP', 80, id, '/health', 15, '200-299', "
                       "'{\"tier\": \"app\"}' FROM vpc WHERE tags->>'Name' = '%s'",
                       tg1, name));
    assert_true(it_okf(e,
                       "INSERT INTO target_group (target_group_name, target_type, protocol, port, "
                       "vpc) SELECT '%s', 'ip', 'HTTP', 8080, id FROM vpc WHERE tags->>'Name' = "
                       "'%s'",
                       tg2, name));
    /* AWS's defaults are in the row before anything is sent */
    PGresult *r = it_sql(e,
                         "SELECT protocol_version, health_check_protocol, health_check_port, "
                         "health_check_timeout_seconds, healthy_threshold_count, "
                         "unhealthy_threshold_count, health_check_matcher, health_check_path "
                         "FROM target_group ORDER BY id DESC LIMIT 1",
                         0, NULL);
    assert_string_equal(PQgetvalue(r, 0, 0), "HTTP1");
    assert_string_equal(PQgetvalue(r, 0, 1), "HTTP");
    assert_string_equal(PQgetvalue(r, 0, 2), "traffic-port");
    assert_string_equal(PQgetvalue(r, 0, 3), "5");
    assert_string_equal(PQgetvalue(r, 0, 4), "5");
    assert_string_equal(PQgetvalue(r, 0, 5), "2");
    assert_string_equal(PQgetvalue(r, 0, 6), "200");
    assert_string_equal(PQgetvalue(r, 0, 7), "/");
    PQclear(r);
    assert_true(it_okf(e,
                       "INSERT INTO listener (load_balancer, port, protocol, target_group) SELECT "
                       "l.id, 80, 'HTTP', t.id FROM load_balancer l, target_group t WHERE "
                       "l.load_balancer_name = '%s' AND t.target_group_name = '%s'",
                       lbn, tg1));

    /* One commit: the network, then the load balancer and target groups,
     * then the listener, each with the cloud ids made a moment before. */
    int n;
    char *plan = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    assert_int_equal(count(plan, "will create "), 10);
    free(plan);
    commit_expect(e, 10, "created load_balancer", 1, "created target_group", 2, "created listener",
                  1, NULL);
    char *first = strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    char *arn =
        val(e, "SELECT load_balancer_arn FROM load_balancer WHERE load_balancer_name = '%s'", lbn);
    char *tg1_arn =
        val(e, "SELECT target_group_arn FROM target_group WHERE target_group_name = '%s'", tg1);
    char *tg2_arn =
        val(e, "SELECT target_group_arn FROM target_group WHERE target_group_name = '%s'", tg2);
    char *listener_arn = val(e, "SELECT listener_arn FROM listener WHERE port = %s", "80");
    char *sub_a = val(e, "SELECT subnet_id FROM subnet WHERE tags->>'Name' = '%s-a'", name);
    char *sub_b = val(e, "SELECT subnet_id FROM subnet WHERE tags->>'Name' = '%s-b'", name);
    char *sub_c = val(e, "SELECT subnet_id FROM subnet WHERE tags->>'Name' = '%s-c'", name);
    char *sga = val(e, "SELECT group_id FROM security_group WHERE group_name = '%s-a'", name);
    char *sgb = val(e, "SELECT group_id FROM security_group WHERE group_name = '%s-b'", name);
    char *vpc_id = val(e, "SELECT vpc_id FROM vpc WHERE tags->>'Name' = '%s'", name);
    assert_non_null(strstr(arn, ":loadbalancer/app/"));
    assert_non_null(strstr(tg1_arn, ":targetgroup/"));
    assert_non_null(strstr(listener_arn, ":listener/app/"));

    /* The cloud agrees, read without the engine. */
    char *x = cloud_lb(e, lbn);
    assert_non_null(x);
    assert_string_equal(it_xml_text(x, "LoadBalancerArn"), arn);
    assert_string_equal(it_xml_text(x, "Type"), "application");
    assert_string_equal(it_xml_text(x, "Scheme"), "internet-facing");
    assert_string_equal(it_xml_text(x, "VpcId"), vpc_id);
    assert_non_null(strstr(x, "<Code>active</Code>"));
    assert_non_null(strstr(x, sub_a));
    assert_non_null(strstr(x, sub_b));
    assert_null(strstr(x, sub_c));
    assert_non_null(strstr(x, sga));
    assert_null(strstr(x, sgb));
    /* written back: the DNS name, the hosted zone, the state */
    char dns[256];
    snprintf(dns, sizeof dns, "%s", it_xml_text(x, "DNSName"));
    char want[512];
    snprintf(want, sizeof want, "%s %s active", dns, it_xml_text(x, "CanonicalHostedZoneId"));
    assert_string_equal(it_valf(e,
                                "SELECT dns_name || ' ' || canonical_hosted_zone_id || ' ' || "
                                "state FROM load_balancer WHERE load_balancer_name = '%s'",
                                lbn),
                        want);
    free(x);
    x = cloud_tags(e, arn);
    assert_non_null(strstr(x, "<Key>team</Key>"));
    char *dbid = it_database_id(e);
    assert_non_null(strstr(x, dbid)); /* the database that made it */
    free(x);
    x = cloud_tg(e, tg1);
    assert_non_null(x);
    assert_string_equal(it_xml_text(x, "HealthCheckPath"), "/health");
    assert_string_equal(it_xml_text(x, "HealthCheckIntervalSeconds"), "15");
    assert_string_equal(it_xml_text(x, "HttpCode"), "200-299");
    assert_string_equal(it_xml_text(x, "Port"), "80");
    assert_string_equal(it_xml_text(x, "VpcId"), vpc_id);
    free(x);
    x = cloud_tg(e, tg2);
    assert_string_equal(it_xml_text(x, "TargetType"), "ip");
    free(x);
    x = cloud_listeners(e, arn);
    assert_string_equal(it_xml_text(x, "ListenerArn"), listener_arn);
    assert_string_equal(it_xml_text(x, "Port"), "80");
    assert_string_equal(it_xml_text(x, "Protocol"), "HTTP");
    assert_string_equal(it_xml_text(x, "TargetGroupArn"), tg1_arn);
    free(x);
    /* a sync finds the cloud as the rows say it: no drift written */
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'cloud' "
                                    "AND table_name IN ('load_balancer', 'target_group', "
                                    "'listener')"),
                        "0");
    plan = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    if (n)
        fprintf(stderr, "%s", plan);
    assert_int_equal(n, 0);
    free(plan);

    /* In place: three subnets, both groups, other tags; a health check;
     * the listener on another port, forwarding to the other group. */
    assert_true(it_okf(e,
                       "UPDATE load_balancer SET subnets = '%s', security_groups = '%s', "
                       "ip_address_type = 'dualstack', tags = '{\"team\": \"edge\"}' WHERE "
                       "load_balancer_name = '%s'",
                       subnet_ids(e, name, "abc"), group_ids(e, name, "ab"), lbn));
    assert_true(it_okf(e,
                       "UPDATE target_group SET health_check_path = '/ready', "
                       "healthy_threshold_count = 3, tags = '{}' WHERE target_group_name = '%s'",
                       tg1));
    assert_true(it_okf(e,
                       "UPDATE listener SET port = 8080, target_group = t.id FROM target_group t "
                       "WHERE t.target_group_name = '%s'",
                       tg2));
    commit_expect(e, 3, "updated ", 3, NULL);
    x = cloud_lb(e, lbn);
    assert_string_equal(it_xml_text(x, "LoadBalancerArn"), arn);
    assert_non_null(strstr(x, sub_c));
    assert_non_null(strstr(x, sgb));
    assert_string_equal(it_xml_text(x, "IpAddressType"), "dualstack");
    free(x);
    x = cloud_tags(e, arn);
    assert_non_null(strstr(x, "<Value>edge</Value>"));
    free(x);
    x = cloud_tg(e, tg1);
    assert_string_equal(it_xml_text(x, "HealthCheckPath"), "/ready");
    assert_string_equal(it_xml_text(x, "HealthyThresholdCount"), "3");
    free(x);
    x = cloud_tags(e, tg1_arn);
    assert_null(strstr(x, "<Key>tier</Key>"));
    free(x);
    x = cloud_listeners(e, arn);
    assert_string_equal(it_xml_text(x, "ListenerArn"), listener_arn); /* the same listener */
    assert_string_equal(it_xml_text(x, "Port"), "8080");
    assert_string_equal(it_xml_text(x, "TargetGroupArn"), tg2_arn);
    free(x);

    /* Replace: a scheme takes the listener along (it names the load
     * balancer, which cannot change); a target group's port. */
    assert_true(it_okf(
        e, "UPDATE load_balancer SET scheme = 'internal' WHERE load_balancer_name = '%s'", lbn));
    assert_true(it_okf(e, "UPDATE target_group SET port = 81 WHERE target_group_name = '%s'", tg1));
    plan = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    assert_int_equal(count(plan, "replace load_balancer:"), 1);
    assert_int_equal(count(plan, "replace listener:"), 1);
    assert_int_equal(count(plan, "replace target_group:"), 1);
    free(plan);
    commit_expect(e, 3, "replaced ", 3, NULL);
    char *arn2 =
        val(e, "SELECT load_balancer_arn FROM load_balancer WHERE load_balancer_name = '%s'", lbn);
    assert_string_not_equal(arn2, arn);
    x = cloud_lb(e, lbn);
    assert_string_equal(it_xml_text(x, "LoadBalancerArn"), arn2);
    assert_string_equal(it_xml_text(x, "Scheme"), "internal");
    free(x);
    x = cloud_listeners(e, arn2);
    assert_string_equal(it_xml_text(x, "Port"), "8080");
    assert_string_equal(it_xml_text(x, "TargetGroupArn"), tg2_arn);
    free(x);
    x = cloud_tg(e, tg1);
    assert_string_equal(it_xml_text(x, "Port"), "81");
    assert_string_not_equal(it_xml_text(x, "TargetGroupArn"), tg1_arn);
    free(x);

    /* Back to the first commit: internet-facing on two subnets and one
     * group, the listener on 80 to the first target group (port 80). */
    const char *f[] = {first};
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, f));
    char *arn3 =
        val(e, "SELECT load_balancer_arn FROM load_balancer WHERE load_balancer_name = '%s'", lbn);
    x = cloud_lb(e, lbn);
    assert_non_null(x);
    assert_string_equal(it_xml_text(x, "LoadBalancerArn"), arn3);
    assert_string_equal(it_xml_text(x, "Scheme"), "internet-facing");
    assert_null(strstr(x, sub_c));
    assert_null(strstr(x, sgb));
    free(x);
    char *tg1_arn3 =
        val(e, "SELECT target_group_arn FROM target_group WHERE target_group_name = '%s'", tg1);
    x = cloud_tg(e, tg1);
    assert_string_equal(it_xml_text(x, "Port"), "80");
    assert_string_equal(it_xml_text(x, "HealthCheckPath"), "/health");
    free(x);
    x = cloud_listeners(e, arn3);
    assert_string_equal(it_xml_text(x, "Port"), "80");
    assert_string_equal(it_xml_text(x, "TargetGroupArn"), tg1_arn3);
    free(x);
    plan = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    assert_int_equal(n, 0);
    free(plan);

    /* Everything in one commit: the listener first, the VPC last. */
    assert_true(it_ok(e, "DELETE FROM listener", 0, NULL));
    assert_true(it_ok(e, "DELETE FROM load_balancer", 0, NULL));
    assert_true(it_ok(e, "DELETE FROM target_group", 0, NULL));
    assert_true(it_okf(e, "DELETE FROM security_group WHERE group_name LIKE '%s-_'", name));
    assert_true(it_okf(e, "DELETE FROM subnet WHERE tags->>'Name' LIKE '%s-_'", name));
    assert_true(it_okf(e, "DELETE FROM vpc WHERE tags->>'Name' = '%s'", name));
    commit_expect(e, -1, "deleted listener", 1, "deleted load_balancer", 1, "deleted target_group",
                  2, "deleted subnet", 3, "deleted vpc", 1, NULL);
    assert_null(cloud_lb(e, lbn));
    assert_null(cloud_tg(e, tg1));
    assert_null(cloud_tg(e, tg2));
    x = it_ec2(e, "Action=DescribeVpcs&Filter.1.Name=vpc-id&Filter.1.Value.1=%s", vpc_id);
    assert_null(strstr(x, "<vpcId>"));
    free(x);
    free(first), free(arn), free(arn2), free(arn3), free(tg1_arn), free(tg1_arn3), free(tg2_arn);
    free(listener_arn), free(sub_a), free(sub_b), free(sub_c), free(sga), free(sgb), free(vpc_id);
    free(dbid);
}

static char *arn_in(const char *xml, const char *tag)
{
    const char *v = it_xml_text(xml, tag);
    assert_non_null(v);
    return strdup(v);
}

static void test_import_and_drift(void **state)
{
    it_env *e = *state;
    char name[64], lbn[64], tgn[64];
    snprintf(name, sizeof name, "imp-%s", sfx);
    snprintf(lbn, sizeof lbn, "console-%s", sfx);
    snprintf(tgn, sizeof tgn, "console-tg-%s", sfx);
    insert_network(e, name, "10.62");
    commit_expect(e, 6, "created ", 6, NULL);
    char *sub_a = val(e, "SELECT subnet_id FROM subnet WHERE tags->>'Name' = '%s-a'", name);
    char *sub_b = val(e, "SELECT subnet_id FROM subnet WHERE tags->>'Name' = '%s-b'", name);
    char *sga = val(e, "SELECT group_id FROM security_group WHERE group_name = '%s-a'", name);
    char *sgb = val(e, "SELECT group_id FROM security_group WHERE group_name = '%s-b'", name);
    char *vpc_id = val(e, "SELECT vpc_id FROM vpc WHERE tags->>'Name' = '%s'", name);

    /* made outside */
    char *x = elb(e, NULL,
                  "Action=CreateLoadBalancer&Name=%s&Subnets.member.1=%s&Subnets.member.2=%s&"
                  "SecurityGroups.member.1=%s&Scheme=internal&Type=application&"
                  "Tags.member.1.Key=by&Tags.member.1.Value=console",
                  lbn, sub_a, sub_b, sga);
    char *lb_arn = arn_in(x, "LoadBalancerArn");
    free(x);
    x = elb(e, NULL,
            "Action=CreateTargetGroup&Name=%s&Protocol=HTTP&Port=8000&VpcId=%s&"
            "HealthCheckProtocol=HTTP&HealthCheckPort=traffic-port&HealthCheckPath=/ping&"
            "HealthCheckIntervalSeconds=20&HealthCheckTimeoutSeconds=4&HealthyThresholdCount=4&"
            "UnhealthyThresholdCount=3&Matcher.HttpCode=200&ProtocolVersion=HTTP1&"
            "TargetType=instance",
            tgn, vpc_id);
    char *tg_arn = arn_in(x, "TargetGroupArn");
    free(x);
    x = elb(e, NULL,
            "Action=CreateListener&LoadBalancerArn=%s&Protocol=HTTP&Port=8000&"
            "DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn=%s",
            lb_arn, tg_arn);
    char *listener_arn = arn_in(x, "ListenerArn");
    free(x);

    /* reinstall: what the cloud has is imported, references as rows */
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_elb')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_elb')", 0, NULL));
    int n;
    char *plan = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    if (n)
        fprintf(stderr, "%s", plan);
    assert_int_equal(n, 0);
    free(plan);
    char want[256];
    snprintf(want, sizeof want, "internal console 2 %s %s-a", name, name);
    assert_string_equal(
        it_valf(e,
                "SELECT l.scheme || ' ' || (l.tags->>'by') || ' ' || cardinality(l.subnets) || ' ' "
                "|| (v.tags->>'Name') || ' ' || (SELECT string_agg(g.group_name, ',') FROM "
                "security_group g WHERE g.id = ANY (l.security_groups)) FROM load_balancer l "
                "JOIN vpc v ON v.id = l.vpc WHERE l.load_balancer_arn = '%s'",
                lb_arn),
        want);
    assert_string_equal(it_valf(e,
                                "SELECT health_check_path || ' ' || health_check_interval_seconds "
                                "|| ' ' || unhealthy_threshold_count FROM target_group WHERE "
                                "target_group_arn = '%s'",
                                tg_arn),
                        "/ping 20 3");
    assert_string_equal(it_valf(e,
                                "SELECT s.port || ' ' || l.load_balancer_name || ' ' || "
                                "t.target_group_name FROM listener s JOIN load_balancer l ON "
                                "l.id = s.load_balancer JOIN target_group t ON t.id = "
                                "s.target_group WHERE s.listener_arn = '%s'",
                                listener_arn),
                        (snprintf(want, sizeof want, "8000 %s %s", lbn, tgn), want));

    /* changed outside: a sync brings it in */
    free(elb(e, NULL, "Action=ModifyTargetGroup&TargetGroupArn=%s&HealthCheckPath=/alive", tg_arn));
    free(elb(e, NULL,
             "Action=SetSecurityGroups&LoadBalancerArn=%s&SecurityGroups.member.1=%s&"
             "SecurityGroups.member.2=%s",
             lb_arn, sga, sgb));
    free(elb(e, NULL, "Action=ModifyListener&ListenerArn=%s&Port=8001", listener_arn));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT health_check_path FROM target_group WHERE target_group_arn = '%s'",
                tg_arn),
        "/alive");
    assert_string_equal(it_valf(e,
                                "SELECT cardinality(security_groups) FROM load_balancer WHERE "
                                "load_balancer_arn = '%s'",
                                lb_arn),
                        "2");
    assert_string_equal(
        it_valf(e, "SELECT port FROM listener WHERE listener_arn = '%s'", listener_arn), "8001");
    plan = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    assert_int_equal(n, 0);
    free(plan);

    /* deleted outside: a sync removes the rows */
    free(elb(e, NULL, "Action=DeleteListener&ListenerArn=%s", listener_arn));
    free(elb(e, NULL, "Action=DeleteLoadBalancer&LoadBalancerArn=%s", lb_arn));
    free(elb(e, NULL, "Action=DeleteTargetGroup&TargetGroupArn=%s", tg_arn));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM load_balancer WHERE load_balancer_arn = '%s'", lb_arn),
        "0");
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM target_group WHERE target_group_arn = '%s'", tg_arn), "0");
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM listener WHERE listener_arn = '%s'", listener_arn), "0");
    free(sub_a), free(sub_b), free(sga), free(sgb), free(vpc_id);
    free(lb_arn), free(tg_arn), free(listener_arn);
}

/* A create that finds the name taken (an earlier attempt that crashed
 * after AWS made it) takes that resource and brings it to the row. */
static void test_create_adopts_existing(void **state)
{
    it_env *e = *state;
    char name[64], lbn[64], tgn[64];
    snprintf(name, sizeof name, "adopt-%s", sfx);
    snprintf(lbn, sizeof lbn, "adopt-%s", sfx);
    snprintf(tgn, sizeof tgn, "adopt-tg-%s", sfx);
    insert_network(e, name, "10.63");
    commit_expect(e, 6, "created ", 6, NULL);
    char *sub_a = val(e, "SELECT subnet_id FROM subnet WHERE tags->>'Name' = '%s-a'", name);
    char *sub_b = val(e, "SELECT subnet_id FROM subnet WHERE tags->>'Name' = '%s-b'", name);
    char *sga = val(e, "SELECT group_id FROM security_group WHERE group_name = '%s-a'", name);
    char *sgb = val(e, "SELECT group_id FROM security_group WHERE group_name = '%s-b'", name);
    char *vpc_id = val(e, "SELECT vpc_id FROM vpc WHERE tags->>'Name' = '%s'", name);
    char *x = elb(e, NULL,
                  "Action=CreateLoadBalancer&Name=%s&Subnets.member.1=%s&Subnets.member.2=%s&"
                  "SecurityGroups.member.1=%s&Type=application",
                  lbn, sub_a, sub_b, sga);
    char *lb_arn = arn_in(x, "LoadBalancerArn");
    free(x);
    x = elb(e, NULL,
            "Action=CreateTargetGroup&Name=%s&Protocol=HTTP&Port=80&VpcId=%s&"
            "HealthCheckPath=/old",
            tgn, vpc_id);
    char *tg_arn = arn_in(x, "TargetGroupArn");
    free(x);
    x = elb(e, NULL,
            "Action=CreateListener&LoadBalancerArn=%s&Protocol=HTTP&Port=80&"
            "DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn=%s",
            lb_arn, tg_arn);
    char *listener_arn = arn_in(x, "ListenerArn");
    free(x);
    /* rows of the same names, made before a sync could import them */
    assert_true(it_okf(e, "DELETE FROM load_balancer WHERE load_balancer_name = '%s'", lbn));
    assert_true(it_okf(e, "DELETE FROM target_group WHERE target_group_name = '%s'", tgn));
    assert_true(it_okf(e,
                       "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups) "
                       "VALUES ('%s', '%s', '%s')",
                       lbn, subnet_ids(e, name, "ab"), group_ids(e, name, "ab")));
    assert_true(it_okf(e,
                       "INSERT INTO target_group (target_group_name, protocol, port, vpc, "
                       "health_check_path) SELECT '%s', 'HTTP', 80, id, '/new' FROM vpc WHERE "
                       "tags->>'Name' = '%s'",
                       tgn, name));
    assert_true(it_okf(e,
                       "INSERT INTO listener (load_balancer, port, target_group) SELECT l.id, 80, "
                       "t.id FROM load_balancer l, target_group t WHERE l.load_balancer_name = "
                       "'%s' AND t.target_group_name = '%s'",
                       lbn, tgn));
    commit_expect(e, 3, "created ", 3, NULL);
    assert_string_equal(it_value(e, "SELECT listener_arn FROM listener"), listener_arn);
    x = cloud_listeners(e, lb_arn);
    assert_int_equal(count(x, "<ListenerArn>"), 1);
    free(x);
    assert_string_equal(
        it_valf(e, "SELECT load_balancer_arn FROM load_balancer WHERE load_balancer_name = '%s'",
                lbn),
        lb_arn);
    assert_string_equal(
        it_valf(e, "SELECT target_group_arn FROM target_group WHERE target_group_name = '%s'", tgn),
        tg_arn);
    x = cloud_lb(e, lbn);
    assert_non_null(strstr(x, sgb)); /* brought to the row */
    free(x);
    x = cloud_tg(e, tgn);
    assert_string_equal(it_xml_text(x, "HealthCheckPath"), "/new");
    free(x);
    assert_true(it_okf(e, "DELETE FROM load_balancer WHERE load_balancer_name = '%s'", lbn));
    assert_true(it_okf(e, "DELETE FROM target_group WHERE target_group_name = '%s'", tgn));
    commit_expect(e, 3, "deleted ", 3, NULL);
    assert_null(cloud_lb(e, lbn));
    assert_null(cloud_tg(e, tgn));
    free(sub_a), free(sub_b), free(sga), free(sgb), free(vpc_id), free(lb_arn), free(tg_arn);
    free(listener_arn);
}

/* A network load balancer in one subnet without security groups, a TCP
 * target group (a TCP health check: no path, no codes) and a TCP listener. */
static void test_network_load_balancer(void **state)
{
    it_env *e = *state;
    char name[64], lbn[64], tgn[64];
    snprintf(name, sizeof name, "nlb-%s", sfx);
    snprintf(lbn, sizeof lbn, "nlb-%s", sfx);
    snprintf(tgn, sizeof tgn, "nlb-tcp-%s", sfx);
    insert_network(e, name, "10.65");
    assert_true(it_okf(e,
                       "INSERT INTO load_balancer (load_balancer_name, load_balancer_type, scheme, "
                       "subnets) VALUES ('%s', 'network', 'internal', '%s')",
                       lbn, subnet_ids(e, name, "a")));
    assert_true(it_okf(e,
                       "INSERT INTO target_group (target_group_name, protocol, port, vpc) SELECT "
                       "'%s', 'TCP', 5432, id FROM vpc WHERE tags->>'Name' = '%s'",
                       tgn, name));
    assert_string_equal(it_valf(e,
                                "SELECT health_check_protocol || ' ' || "
                                "health_check_timeout_seconds || ' ' || (health_check_path IS "
                                "NULL AND health_check_matcher IS NULL AND protocol_version IS "
                                "NULL) FROM target_group WHERE target_group_name = '%s'",
                                tgn),
                        "TCP 10 true");
    assert_true(it_okf(e,
                       "INSERT INTO listener (load_balancer, port, protocol, target_group) SELECT "
                       "l.id, 5432, 'TCP', t.id FROM load_balancer l, target_group t WHERE "
                       "l.load_balancer_name = '%s' AND t.target_group_name = '%s'",
                       lbn, tgn));
    commit_expect(e, 9, "created ", 9, NULL);
    char *arn =
        val(e, "SELECT load_balancer_arn FROM load_balancer WHERE load_balancer_name = '%s'", lbn);
    char *x = cloud_lb(e, lbn);
    assert_string_equal(it_xml_text(x, "Type"), "network");
    assert_string_equal(it_xml_text(x, "Scheme"), "internal");
    free(x);
    x = cloud_tg(e, tgn);
    assert_string_equal(it_xml_text(x, "HealthCheckProtocol"), "TCP");
    assert_string_equal(it_xml_text(x, "Protocol"), "TCP");
    free(x);
    x = cloud_listeners(e, arn);
    assert_string_equal(it_xml_text(x, "Protocol"), "TCP");
    assert_string_equal(it_xml_text(x, "Port"), "5432");
    free(x);
    /* what the cloud says is what the rows say: nothing to do, no drift */
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    int n;
    char *plan = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    if (n)
        fprintf(stderr, "%s", plan);
    assert_int_equal(n, 0);
    free(plan);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'cloud' "
                                    "AND table_name IN ('load_balancer', 'target_group', "
                                    "'listener')"),
                        "0");
    assert_true(it_ok(e, "DELETE FROM load_balancer", 0, NULL));
    assert_true(it_ok(e, "DELETE FROM target_group", 0, NULL));
    commit_expect(e, 3, "deleted ", 3, NULL);
    assert_null(cloud_lb(e, lbn));
    assert_null(cloud_tg(e, tgn));
    free(arn);
}

/* The listener of that ARN as ELB describes it (XML). */
static char *cloud_listener(it_env *e, const char *arn)
{
    return elb(e, NULL, "Action=DescribeListeners&ListenerArns.member.1=%s", arn);
}

/* An HTTPS listener with an aws_acm certificate, made in the commit that
 * makes the certificate; its certificate and SSL policy changed in place,
 * then the listener moved to HTTP (no certificate) in place. */
static void test_https_listener(void **state)
{
    it_env *e = *state;
    char name[64], lbn[64], tgn[64];
    snprintf(name, sizeof name, "tls-%s", sfx);
    snprintf(lbn, sizeof lbn, "tls-%s", sfx);
    snprintf(tgn, sizeof tgn, "tls-tg-%s", sfx);
    insert_network(e, name, "10.66");
    assert_true(it_okf(e,
                       "INSERT INTO certificate (domain_name) VALUES ('a-%s.example.com'), "
                       "('b-%s.example.com')",
                       sfx, sfx));
    assert_true(it_okf(e,
                       "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups) "
                       "VALUES ('%s', '%s', '%s')",
                       lbn, subnet_ids(e, name, "ab"), group_ids(e, name, "a")));
    assert_true(it_okf(e,
                       "INSERT INTO target_group (target_group_name, protocol, port, vpc) SELECT "
                       "'%s', 'HTTPS', 443, id FROM vpc WHERE tags->>'Name' = '%s'",
                       tgn, name));
    assert_true(it_okf(e,
                       "INSERT INTO listener (load_balancer, port, protocol, target_group, "
                       "certificate) SELECT l.id, 443, 'HTTPS', t.id, c.id FROM load_balancer l, "
                       "target_group t, certificate c WHERE l.load_balancer_name = '%s' AND "
                       "t.target_group_name = '%s' AND c.domain_name LIKE 'a-%%'",
                       lbn, tgn));
    /* AWS's default policy, in the row before anything is sent */
    assert_string_equal(it_value(e, "SELECT ssl_policy FROM listener"),
                        "ELBSecurityPolicy-2016-08");
    commit_expect(e, 11, "created certificate", 2, "created listener", 1, NULL);
    char *cert_a = val(e, "SELECT arn FROM certificate WHERE domain_name LIKE 'a-%s%%'", sfx);
    char *cert_b = val(e, "SELECT arn FROM certificate WHERE domain_name LIKE 'b-%s%%'", sfx);
    char *listener_arn = val(e, "SELECT listener_arn FROM listener WHERE port = %s", "443");
    assert_non_null(strstr(cert_a, ":certificate/"));
    char *x = cloud_listener(e, listener_arn);
    assert_string_equal(it_xml_text(x, "Protocol"), "HTTPS");
    assert_string_equal(it_xml_text(x, "CertificateArn"), cert_a);
    assert_string_equal(it_xml_text(x, "SslPolicy"), "ELBSecurityPolicy-2016-08");
    free(x);
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    int n;
    char *plan = rows_text(e, "SELECT * FROM iasql_preview()", &n, NULL);
    if (n)
        fprintf(stderr, "%s", plan);
    assert_int_equal(n, 0);
    free(plan);
    /* what the cloud says is what the rows say: no drift written */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'cloud' "
                                    "AND table_name IN ('load_balancer', 'target_group', "
                                    "'listener')"),
                        "0");

    /* in place: another certificate and policy */
    assert_true(it_okf(e,
                       "UPDATE listener SET certificate = c.id, ssl_policy = "
                       "'ELBSecurityPolicy-TLS13-1-2-2021-06' FROM certificate c WHERE "
                       "c.domain_name LIKE 'b-%s%%'",
                       sfx));
    commit_expect(e, 1, "updated listener", 1, NULL);
    x = cloud_listener(e, listener_arn);
    assert_string_equal(it_xml_text(x, "CertificateArn"), cert_b);
    assert_string_equal(it_xml_text(x, "SslPolicy"), "ELBSecurityPolicy-TLS13-1-2-2021-06");
    free(x);
    /* a certificate cannot go while a listener uses it */
    const char *msg = it_sql_error(e, "DELETE FROM certificate WHERE domain_name LIKE 'b-%'");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "listener_certificate_exists"));

    /* in place: plain HTTP on port 80, no certificate */
    assert_true(it_ok(e,
                      "UPDATE listener SET protocol = 'HTTP', port = 80, certificate = NULL, "
                      "ssl_policy = NULL",
                      0, NULL));
    commit_expect(e, 1, "updated listener", 1, NULL);
    x = cloud_listener(e, listener_arn);
    assert_string_equal(it_xml_text(x, "ListenerArn"), listener_arn);
    assert_string_equal(it_xml_text(x, "Protocol"), "HTTP");
    assert_string_equal(it_xml_text(x, "Port"), "80");
    free(x);

    assert_true(it_ok(e, "DELETE FROM listener", 0, NULL));
    assert_true(it_ok(e, "DELETE FROM certificate", 0, NULL));
    assert_true(it_ok(e, "DELETE FROM load_balancer", 0, NULL));
    assert_true(it_ok(e, "DELETE FROM target_group", 0, NULL));
    commit_expect(e, 5, "deleted ", 5, NULL);
    assert_null(cloud_lb(e, lbn));
    free(cert_a), free(cert_b), free(listener_arn);
}

/* A rollback to before a subnet and a security group were made and put in
 * the load balancer's sets: the sets shrink back and the two go, in one
 * restore that deletes before it updates. */
static void test_rollback_past_new_members(void **state)
{
    it_env *e = *state;
    char name[64], lbn[64];
    snprintf(name, sizeof name, "rb-%s", sfx);
    snprintf(lbn, sizeof lbn, "rb-%s", sfx);
    insert_network(e, name, "10.67");
    assert_true(it_okf(e,
                       "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups) "
                       "VALUES ('%s', '%s', '%s')",
                       lbn, subnet_ids(e, name, "ab"), group_ids(e, name, "a")));
    commit_expect(e, 7, "created ", 7, NULL);
    char *first = strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    assert_true(it_okf(e,
                       "INSERT INTO subnet (vpc, cidr_block, availability_zone, tags) SELECT id, "
                       "'10.67.4.0/24', 'us-east-1d', '{\"Name\": \"%s-d\"}' FROM vpc WHERE "
                       "tags->>'Name' = '%s'",
                       name, name));
    assert_true(it_okf(e,
                       "INSERT INTO security_group (group_name, description, vpc) SELECT '%s-d', "
                       "'later', id FROM vpc WHERE tags->>'Name' = '%s'",
                       name, name));
    assert_true(it_okf(e,
                       "UPDATE load_balancer SET subnets = '%s', security_groups = '%s' WHERE "
                       "load_balancer_name = '%s'",
                       subnet_ids(e, name, "abd"), group_ids(e, name, "ad"), lbn));
    commit_expect(e, 3, "created subnet", 1, "created security_group", 1, "updated load_balancer",
                  1, NULL);
    char *sub_d = val(e, "SELECT subnet_id FROM subnet WHERE tags->>'Name' = '%s-d'", name);
    char *sgd = val(e, "SELECT group_id FROM security_group WHERE group_name = '%s-d'", name);
    char *x = cloud_lb(e, lbn);
    assert_non_null(strstr(x, sub_d));
    assert_non_null(strstr(x, sgd));
    free(x);
    const char *f[] = {first};
    PGresult *r =
        it_sql(e, "SELECT action, table_name, description FROM iasql_rollback($1::bigint)", 1, f);
    assert_non_null(r);
    for (int i = 0; i < PQntuples(r); i++)
        if (strstr(PQgetvalue(r, i, 2), "failed"))
            fail_msg("%s %s: %s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
    PQclear(r);
    x = cloud_lb(e, lbn);
    assert_null(strstr(x, sub_d));
    assert_null(strstr(x, sgd));
    free(x);
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM subnet WHERE tags->>'Name' = '%s-d'", name), "0");
    x = it_ec2(e, "Action=DescribeSubnets&Filter.1.Name=subnet-id&Filter.1.Value.1=%s", sub_d);
    assert_null(strstr(x, "<subnetId>"));
    free(x);
    assert_true(it_ok(e, "DELETE FROM load_balancer", 0, NULL));
    commit_expect(e, 1, "deleted load_balancer", 1, NULL);
    free(first), free(sub_d), free(sgd);
}

/* The poller's rotation (--poll 1 --poll-deep 5: four slots). Load balancers and target
 * groups cost a describe page and a DescribeTags per 20 already. Listeners
 * cost a DescribeListeners per load balancer; under the rotation, one per
 * load balancer of the slot, and the known listeners of the others by ARN,
 * 20 a call: a port changed outside is seen at the next poll, a listener
 * made outside within the rotation; quiet polls write nothing. */
static void test_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 12 };
    char name[64];
    snprintf(name, sizeof name, "rot-%s", sfx);
    insert_network(e, name, "10.67");
    commit_expect(e, 6, "created ", 6, NULL);
    assert_true(it_okf(e,
                       "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups) "
                       "SELECT 'rot' || g || '-%s', '%s', '%s' FROM generate_series(1, %d) g",
                       sfx, subnet_ids(e, name, "ab"), group_ids(e, name, "a"), N));
    assert_true(it_okf(e,
                       "INSERT INTO target_group (target_group_name, protocol, port, vpc) "
                       "SELECT 'rot' || g || '-%s', 'HTTP', 80, v.id FROM vpc v, "
                       "generate_series(1, %d) g WHERE v.tags->>'Name' = '%s'",
                       sfx, N, name));
    assert_true(it_okf(e,
                       "INSERT INTO listener (load_balancer, port, target_group) SELECT l.id, 80, "
                       "t.id FROM load_balancer l JOIN target_group t ON t.target_group_name = "
                       "l.load_balancer_name WHERE l.load_balancer_name LIKE 'rot%%-%s'",
                       sfx));
    commit_expect(e, 3 * N, "created ", 3 * N, NULL);
    /* what AWS made with the network (its rules, its routes) comes in first */
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    int lbs = atoi(it_value(e, "SELECT count(*) FROM load_balancer"));
    int total = atoi(it_value(e, "SELECT count(*) FROM listener"));
    char *audit = strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long full[2], req[4], lb[2], tg[2], sum = 0;
    it_rotation_start(e, "1", "listener", full, 2);
    int seen = it_poll_requests(e, "load_balancer", 0, lb, 0);
    it_poll_requests(e, "load_balancer", seen - 2, lb, 2);
    seen = it_poll_requests(e, "target_group", 0, tg, 0);
    it_poll_requests(e, "target_group", seen - 2, tg, 2);
    it_rotation_start(e, "5", "listener", req, 4);
    for (int i = 0; i < 4; i++) {
        assert_true(req[i] <= 3 + (lbs / 4) * 3 + 1);
        sum += req[i];
    }
    assert_true(full[0] >= 1 + lbs && full[1] >= 1 + lbs);
    assert_true(sum < full[0] + full[1]);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    print_message("rotation: %d load balancers (quiet polls %ld %ld), %d target groups (%ld %ld), "
                  "%d listeners: %ld %ld in full, %ld %ld %ld %ld under the rotation\n",
                  lbs, lb[0], lb[1], atoi(it_value(e, "SELECT count(*) FROM target_group")), tg[0],
                  tg[1], total, full[0], full[1], req[0], req[1], req[2], req[3]);
    char lbn[64];
    snprintf(lbn, sizeof lbn, "rot1-%s", sfx);
    char *larn = strdup(it_valf(e,
                                "SELECT listener_arn FROM listener li JOIN load_balancer l ON "
                                "l.id = li.load_balancer WHERE l.load_balancer_name = '%s'",
                                lbn));
    free(elb(e, NULL, "Action=ModifyListener&ListenerArn=%s&Port=8080", larn));
    double t0 = it_now_s();
    assert_true(
        it_eventually(e, "8080", "SELECT port FROM listener WHERE listener_arn = '%s'", larn));
    double port_s = it_now_s() - t0;
    char *lb_arn =
        val(e, "SELECT load_balancer_arn FROM load_balancer WHERE load_balancer_name = '%s'", lbn);
    char *tg_arn =
        val(e, "SELECT target_group_arn FROM target_group WHERE target_group_name = '%s'", lbn);
    char *x = elb(e, NULL,
                  "Action=CreateListener&LoadBalancerArn=%s&Protocol=HTTP&Port=81&"
                  "DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn=%s",
                  lb_arn, tg_arn);
    char *made = arn_in(x, "ListenerArn");
    free(x);
    t0 = it_now_s();
    assert_true(
        it_eventually(e, "81", "SELECT port FROM listener WHERE listener_arn = '%s'", made));
    print_message("a port changed outside seen in %.1f s, a listener made outside in %.1f s\n",
                  port_s, it_now_s() - t0);
    it_rotation_end(e);
    free(audit), free(larn), free(lb_arn), free(tg_arn), free(made);
    assert_true(
        it_okf(e, "DELETE FROM load_balancer WHERE load_balancer_name LIKE 'rot%%-%s'", sfx));
    assert_true(it_okf(e, "DELETE FROM target_group WHERE target_group_name LIKE 'rot%%-%s'", sfx));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
}

static void test_bad_input(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "bad-%s", sfx);
    insert_network(e, name, "10.64");
    commit_expect(e, 6, "created ", 6, NULL);
    char ab[128], a[128], g[128], vpc[32];
    snprintf(ab, sizeof ab, "%s", subnet_ids(e, name, "ab"));
    snprintf(a, sizeof a, "%s", subnet_ids(e, name, "a"));
    snprintf(g, sizeof g, "%s", group_ids(e, name, "a"));
    snprintf(vpc, sizeof vpc, "%s",
             it_valf(e, "SELECT id FROM vpc WHERE tags->>'Name' = '%s'", name));
    char *captured =
        strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"));
    char sql[24][512];
    it_reject cases[24];
    size_t k = 0;
#define CASE(rule, ...)                                                                            \
    do {                                                                                           \
        snprintf(sql[k], sizeof sql[k], __VA_ARGS__);                                              \
        cases[k] = (it_reject){sql[k], rule};                                                      \
        k++;                                                                                       \
    } while (0)
    CASE("load_balancer_name_1_to_32_alphanumerics_hyphens_not_internal",
         "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups) VALUES "
         "('-web', '%s', '%s')",
         ab, g);
    CASE("load_balancer_name_1_to_32_alphanumerics_hyphens_not_internal",
         "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups) VALUES "
         "('internal-web', '%s', '%s')",
         ab, g);
    CASE("load_balancer_name_1_to_32_alphanumerics_hyphens_not_internal",
         "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups) VALUES "
         "('%s', '%s', '%s')",
         "a-name-that-is-longer-than-32-chars", ab, g);
    CASE("load_balancer_type_application_or_network",
         "INSERT INTO load_balancer (load_balancer_name, load_balancer_type, subnets) VALUES "
         "('w', 'gateway', '%s')",
         ab);
    CASE("load_balancer_scheme_internet_facing_or_internal",
         "INSERT INTO load_balancer (load_balancer_name, scheme, subnets, security_groups) VALUES "
         "('w', 'public', '%s', '%s')",
         ab, g);
    CASE("load_balancer_ip_address_type_ipv4_or_dualstack",
         "INSERT INTO load_balancer (load_balancer_name, ip_address_type, subnets, "
         "security_groups) VALUES ('w', 'ipv6', '%s', '%s')",
         ab, g);
    CASE("load_balancer_application_needs_two_subnets_network_one",
         "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups) VALUES "
         "('w', '%s', '%s')",
         a, g);
    CASE("load_balancer_security_groups_1_to_5_for_application_up_to_5",
         "INSERT INTO load_balancer (load_balancer_name, subnets) VALUES ('w', '%s')", ab);
    CASE("load_balancer_subnets_exist_in_one_vpc",
         "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups) VALUES "
         "('w', '{%s,-1}', '%s')",
         vpc, g);
    CASE("load_balancer_tags_up_to_50_elb_strings_no_aws_or_iasql_keys",
         "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups, tags) VALUES "
         "('w', '%s', '%s', '{\"a*b\": \"v\"}')",
         ab, g);
    CASE("target_group_name_1_to_32_alphanumerics_or_hyphens",
         "INSERT INTO target_group (target_group_name, protocol, port, vpc) VALUES ('t_1', "
         "'HTTP', 80, %s)",
         vpc);
    CASE("target_group_target_type_instance_ip_lambda_or_alb",
         "INSERT INTO target_group (target_group_name, target_type, protocol, port, vpc) VALUES "
         "('t', 'pod', 'HTTP', 80, %s)",
         vpc);
    CASE("target_group_protocol_http_https_tcp_tls_udp_or_tcp_udp",
         "INSERT INTO target_group (target_group_name, protocol, port, vpc) VALUES ('t', "
         "'SMTP', 80, %s)",
         vpc);
    CASE("target_group_protocol_port_and_vpc_unless_lambda",
         "INSERT INTO target_group (target_group_name, protocol, port) VALUES ('t', 'HTTP', 80)%s",
         "");
    CASE("target_group_port_1_to_65535",
         "INSERT INTO target_group (target_group_name, protocol, port, vpc) VALUES ('t', "
         "'HTTP', 70000, %s)",
         vpc);
    CASE("target_group_health_check_interval_5_to_300_seconds",
         "INSERT INTO target_group (target_group_name, protocol, port, vpc, "
         "health_check_interval_seconds) VALUES ('t', 'HTTP', 80, %s, 301)",
         vpc);
    CASE("target_group_health_check_timeout_below_interval",
         "INSERT INTO target_group (target_group_name, protocol, port, vpc, "
         "health_check_interval_seconds, health_check_timeout_seconds) VALUES ('t', 'HTTP', 80, "
         "%s, 10, 10)",
         vpc);
    CASE("target_group_health_check_thresholds_2_to_10",
         "INSERT INTO target_group (target_group_name, protocol, port, vpc, "
         "healthy_threshold_count) VALUES ('t', 'HTTP', 80, %s, 11)",
         vpc);
    CASE("target_group_health_check_matcher_codes_for_http_or_https",
         "INSERT INTO target_group (target_group_name, protocol, port, vpc, "
         "health_check_matcher) VALUES ('t', 'HTTP', 80, %s, 'ok')",
         vpc);
    CASE("target_group_health_check_path_from_slash_up_to_1024_for_http_s",
         "INSERT INTO target_group (target_group_name, protocol, port, vpc, "
         "health_check_path) VALUES ('t', 'HTTP', 80, %s, 'health')",
         vpc);
    CASE("listener_port_1_to_65535",
         "INSERT INTO listener (load_balancer, port, target_group) VALUES (%s, 0, %s)", vpc, vpc);
    CASE("listener_protocol_http_https_tcp_tls_udp_or_tcp_udp",
         "INSERT INTO listener (load_balancer, port, protocol, target_group) VALUES (%s, 80, "
         "'SMTP', %s)",
         vpc, vpc);
    CASE("listener_https_and_tls_need_a_certificate",
         "INSERT INTO listener (load_balancer, port, protocol, target_group) VALUES (%s, 443, "
         "'HTTPS', %s)",
         vpc, vpc);
    CASE("listener_ssl_policy_only_for_https_or_tls",
         "INSERT INTO listener (load_balancer, port, protocol, ssl_policy, target_group) VALUES "
         "(%s, 80, 'HTTP', 'ELBSecurityPolicy-2016-08', %s)",
         vpc, vpc);
#undef CASE
    it_expect_rejected(e, cases, k);
    /* nothing refused was captured */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"),
                        captured);
    free(captured);
    /* and a listener whose protocol does not fit its load balancer */
    assert_true(it_okf(e,
                       "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups) "
                       "VALUES ('fit-%s', '%s', '%s')",
                       sfx, ab, g));
    assert_true(it_okf(e,
                       "INSERT INTO target_group (target_group_name, protocol, port, vpc) VALUES "
                       "('fit-%s', 'HTTP', 80, %s)",
                       sfx, vpc));
    char fit[512];
    snprintf(fit, sizeof fit,
             "INSERT INTO listener (load_balancer, port, protocol, target_group) SELECT l.id, 80, "
             "'TCP', t.id FROM load_balancer l, target_group t WHERE l.load_balancer_name = "
             "'fit-%s' AND t.target_group_name = 'fit-%s'",
             sfx, sfx);
    const char *msg = it_sql_error(e, fit);
    assert_non_null(msg);
    if (!strstr(msg, "listener_protocol_fits_its_load_balancer"))
        fail_msg("%s", msg);
    /* and a certificate on a plain HTTP listener */
    assert_true(
        it_okf(e, "INSERT INTO certificate (domain_name) VALUES ('fit-%s.example.com')", sfx));
    snprintf(fit, sizeof fit,
             "INSERT INTO listener (load_balancer, port, protocol, target_group, certificate) "
             "SELECT l.id, 80, 'HTTP', t.id, c.id FROM load_balancer l, target_group t, "
             "certificate c WHERE l.load_balancer_name = 'fit-%s' AND t.target_group_name = "
             "'fit-%s'",
             sfx, sfx);
    msg = it_sql_error(e, fit);
    assert_non_null(msg);
    if (!strstr(msg, "listener_certificate_only_for_https_or_tls"))
        fail_msg("%s", msg);
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    snprintf(sfx, sizeof sfx, "%d", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stack_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_and_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_adopts_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_load_balancer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https_listener, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_past_new_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_elb", tests, NULL, NULL);
}
