/* tests/integration/it_vpc.c — module aws_vpc's elastic IPs, NAT gateways,
 * route table associations, routes to NAT gateways, gateway endpoints and
 * availability zones end to end against moto_server. The typical layout: a
 * public subnet routed to an internet gateway, holding a NAT gateway with an
 * elastic IP; a private subnet routed through that NAT gateway; an S3
 * endpoint on the private route table. Created in one commit, changed in
 * place (tags, a route's target, an association's table, the endpoint's
 * tables and policy), replaced (a NAT gateway's subnet, the endpoint's
 * service), deleted, rolled back to the first commit, and then deleted with
 * its VPC in one commit in the order AWS needs. Also: import of all of it
 * made outside, drift brought in by iasql_sync() (a change, then a
 * delete), the zones read from the cloud and never made or removed, and
 * bad input refused at INSERT by rule name with nothing captured. The
 * cloud is read with plain EC2 queries, never through the engine. */
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

#define POLICY                                                                                     \
    "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", " \
    "\"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::logs/*\"}]}"

static char sfx[32]; /* per run: names and tags of this run only */

static int setup(void **state)
{
    if (it_fixture(state, "vpc", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_vpc')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

static char *dup_val(it_env *e, const char *fmt, const char *arg)
{
    const char *v = it_valf(e, fmt, arg);
    return strdup(v ? v : "");
}

/* The result rows of a commit, rollback or preview as one text,
 * "action table: description\n"..., with their count and how many failed. */
static char *rows_text(it_env *e, const char *sql, int *nrows, int *failed)
{
    PGresult *r = it_sql(e, sql, 0, NULL);
    assert_non_null(r);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    *nrows = PQntuples(r);
    *failed = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *d = PQgetvalue(r, i, 3);
        if (strncmp(d, "failed", 6) == 0)
            (*failed)++;
        len += (size_t)snprintf(out + len, cap - len, "%s %s: %s\n", PQgetvalue(r, i, 0),
                                PQgetvalue(r, i, 1), d);
    }
    PQclear(r);
    return out;
}

/* Commits and expects n rows (n < 0: any number), none failed; returns how
 * many rows had action (NULL: all). */
static int commit_ok(it_env *e, const char *sql, int n, const char *action)
{
    int rows, failed;
    char *res = rows_text(e, sql, &rows, &failed);
    if (failed || (n >= 0 && rows != n))
        fprintf(stderr, "%s", res);
    assert_int_equal(failed, 0);
    if (n >= 0)
        assert_int_equal(rows, n);
    char needle[64];
    snprintf(needle, sizeof needle, "%s ", action ? action : "");
    int k = action ? it_count(res, needle) : rows;
    free(res);
    return k;
}

/* Whether the pending plan runs every step of rows a (ids of table ta, a
 * comma-separated list) before every step of rows b of table tb: a path of
 * dependencies from each to each. */
static bool runs_before(it_env *e, const char *ta, const char *a, const char *tb, const char *b)
{
    const char *v = it_valf(
        e,
        "WITH RECURSIVE g AS (SELECT iasql_preview_graph() AS j), "
        "n AS (SELECT (x->>'node')::int AS node, x->>'table' AS t, (x->>'id')::bigint AS id "
        "FROM g, json_array_elements(j->'nodes') x), "
        "e AS (SELECT (x->>0)::int AS a, (x->>1)::int AS b FROM g, json_array_elements(j->'edges') "
        "x), "
        "p(a, b) AS (SELECT a, b FROM e UNION SELECT p.a, e.b FROM p JOIN e ON e.a = p.b) "
        "SELECT count(*) > 0 AND bool_and(EXISTS (SELECT FROM p WHERE p.a = x.node AND p.b = "
        "y.node)) FROM n x, n y WHERE x.t = '%s' AND x.id IN (%s) AND y.t = '%s' AND y.id IN (%s)",
        ta, a, tb, b);
    if (!v || strcmp(v, "t") != 0)
        fprintf(stderr, "%s %s does not run before %s %s\n", ta, a, tb, b);
    return v && strcmp(v, "t") == 0;
}

/* The ids of rows of table whose tags name them (a SQL LIKE pattern), as
 * "1,2,3", copied. */
static char *ids_of(it_env *e, const char *table, const char *like)
{
    const char *v = it_valf(
        e, "SELECT string_agg(id::text, ',') FROM %s WHERE tags->>'Name' LIKE '%s'", table, like);
    return strdup(v ? v : "0");
}

/* The typical layout, as rows, for VPC <n> in <net>.0.0/16: a public subnet
 * (zone a) routed to an internet gateway with a public NAT gateway and its
 * elastic IP, a private subnet (zone b) routed through that NAT gateway
 * with a private NAT gateway of its own, and an S3 endpoint with a policy
 * on the private route table. 14 resources. */
static void insert_layout(it_env *e, const char *n, const char *net)
{
    assert_true(
        it_okf(e, "INSERT INTO vpc (cidr_block, tags) VALUES ('%s.0.0/16', '{\"Name\": \"%s\"}')",
               net, n));
    assert_true(it_okf(
        e, "INSERT INTO internet_gateway (vpc) SELECT id FROM vpc WHERE tags->>'Name' = '%s'", n));
    static const char *const sides[][3] = {{"public", "1", "a"}, {"private", "2", "b"}};
    for (int i = 0; i < 2; i++) {
        assert_true(it_okf(e,
                           "INSERT INTO subnet (vpc, cidr_block, availability_zone, tags) SELECT "
                           "id, '%s.%s.0/24', 'us-east-1%s', '{\"Name\": \"%s-%s\"}' FROM vpc "
                           "WHERE tags->>'Name' = '%s'",
                           net, sides[i][1], sides[i][2], n, sides[i][0], n));
        assert_true(it_okf(e,
                           "INSERT INTO route_table (vpc, tags) SELECT id, '{\"Name\": \"%s-%s\"}' "
                           "FROM vpc WHERE tags->>'Name' = '%s'",
                           n, sides[i][0], n));
        assert_true(it_okf(e,
                           "INSERT INTO route_table_association (route_table, subnet) SELECT r.id, "
                           "s.id FROM route_table r, subnet s WHERE r.tags->>'Name' = '%s-%s' AND "
                           "s.tags->>'Name' = '%s-%s'",
                           n, sides[i][0], n, sides[i][0]));
    }
    assert_true(it_okf(e,
                       "INSERT INTO route (route_table, destination_cidr_block, internet_gateway) "
                       "SELECT r.id, '0.0.0.0/0', g.id FROM route_table r JOIN internet_gateway g "
                       "USING (vpc) WHERE r.tags->>'Name' = '%s-public'",
                       n));
    assert_true(it_okf(
        e, "INSERT INTO elastic_ip (tags) VALUES ('{\"Name\": \"%s\", \"team\": \"net\"}')", n));
    assert_true(it_okf(e,
                       "INSERT INTO nat_gateway (subnet, elastic_ip, tags) SELECT s.id, a.id, "
                       "'{\"Name\": \"%s-public\"}' FROM subnet s, elastic_ip a WHERE "
                       "s.tags->>'Name' = '%s-public' AND a.tags->>'Name' = '%s'",
                       n, n, n));
    assert_true(it_okf(e,
                       "INSERT INTO nat_gateway (subnet, connectivity_type, tags) SELECT id, "
                       "'private', '{\"Name\": \"%s-private\"}' FROM subnet WHERE tags->>'Name' = "
                       "'%s-private'",
                       n, n));
    assert_true(it_okf(e,
                       "INSERT INTO route (route_table, destination_cidr_block, nat_gateway) "
                       "SELECT r.id, '0.0.0.0/0', g.id FROM route_table r, nat_gateway g WHERE "
                       "r.tags->>'Name' = '%s-private' AND g.tags->>'Name' = '%s-public'",
                       n, n));
    assert_true(it_okf(e,
                       "INSERT INTO endpoint_gateway (vpc, service, route_tables, policy, tags) "
                       "SELECT v.id, 's3', ARRAY[r.id], '" POLICY "', '{\"Name\": \"%s\"}' FROM "
                       "vpc v, route_table r WHERE v.tags->>'Name' = '%s' AND r.tags->>'Name' = "
                       "'%s-private'",
                       n, n, n));
}

/* One value of a row of table whose tags name it. */
static char *col_of(it_env *e, const char *table, const char *col, const char *name)
{
    const char *v =
        it_valf(e, "SELECT %s FROM %s WHERE tags->>'Name' = '%s'", col, table, name ? name : "");
    return strdup(v ? v : "");
}

static void test_layout_lifecycle(void **state)
{
    it_env *e = *state;
    char n[64], pub[80], priv[80];
    snprintf(n, sizeof n, "lay-%s", sfx);
    snprintf(pub, sizeof pub, "%s-public", n);
    snprintf(priv, sizeof priv, "%s-private", n);
    insert_layout(e, n, "10.51");
    /* Each waits for what it names: the NAT gateway for its subnet and
     * address, the private route for the NAT gateway, the endpoint for its
     * route table. */
    char like[80];
    snprintf(like, sizeof like, "%s-%%", n);
    char *eip_row = ids_of(e, "elastic_ip", n), *nat_pub_row = ids_of(e, "nat_gateway", pub);
    char *nat_priv_row = ids_of(e, "nat_gateway", priv);
    char *sub_pub_row = ids_of(e, "subnet", pub), *sub_priv_row = ids_of(e, "subnet", priv);
    char *subnet_rows = ids_of(e, "subnet", like), *rtb_rows = ids_of(e, "route_table", like);
    char *rtb_priv_row = ids_of(e, "route_table", priv), *ep_row = ids_of(e, "endpoint_gateway", n);
    char *vpc_row = ids_of(e, "vpc", n);
    char *assoc_pub_row = dup_val(e,
                                  "SELECT a.id FROM route_table_association a JOIN subnet s ON "
                                  "s.id = a.subnet WHERE s.tags->>'Name' = '%s'",
                                  pub);
    char *assoc_priv_row = dup_val(e,
                                   "SELECT a.id FROM route_table_association a JOIN subnet s ON "
                                   "s.id = a.subnet WHERE s.tags->>'Name' = '%s'",
                                   priv);
    char *rtb_pub_row = ids_of(e, "route_table", pub);
    char *route_nat_row = dup_val(
        e, "SELECT id FROM route WHERE nat_gateway IS NOT NULL AND route_table = %s", rtb_priv_row);
    assert_true(runs_before(e, "elastic_ip", eip_row, "nat_gateway", nat_pub_row));
    assert_true(runs_before(e, "subnet", sub_pub_row, "nat_gateway", nat_pub_row));
    assert_true(runs_before(e, "nat_gateway", nat_pub_row, "route", route_nat_row));
    assert_true(runs_before(e, "subnet", sub_pub_row, "route_table_association", assoc_pub_row));
    assert_true(runs_before(e, "subnet", sub_priv_row, "route_table_association", assoc_priv_row));
    assert_true(runs_before(e, "route_table", rtb_priv_row, "endpoint_gateway", ep_row));
    assert_int_equal(commit_ok(e, "SELECT * FROM iasql_commit()", 14, "create"), 14);
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));

    /* Written back: ids, the address, the gateways' state. */
    char *vpc_id = col_of(e, "vpc", "vpc_id", n);
    char *sub_pub = col_of(e, "subnet", "subnet_id", pub);
    char *sub_priv = col_of(e, "subnet", "subnet_id", priv);
    char *rtb_pub = col_of(e, "route_table", "route_table_id", pub);
    char *rtb_priv = col_of(e, "route_table", "route_table_id", priv);
    char *igw = dup_val(e,
                        "SELECT g.internet_gateway_id FROM internet_gateway g JOIN vpc v ON v.id = "
                        "g.vpc WHERE v.tags->>'Name' = '%s'",
                        n);
    char *alloc = col_of(e, "elastic_ip", "allocation_id", n);
    char *ip = col_of(e, "elastic_ip", "public_ip", n);
    char *nat_pub = col_of(e, "nat_gateway", "nat_gateway_id", pub);
    char *nat_priv = col_of(e, "nat_gateway", "nat_gateway_id", priv);
    char *vpce = col_of(e, "endpoint_gateway", "vpc_endpoint_id", n);
    assert_true(strncmp(alloc, "eipalloc-", 9) == 0);
    assert_true(ip[0]);
    assert_true(strncmp(nat_pub, "nat-", 4) == 0);
    assert_true(strncmp(nat_priv, "nat-", 4) == 0);
    assert_true(strncmp(vpce, "vpce-", 5) == 0);
    assert_string_equal(
        it_valf(e,
                "SELECT string_agg(state, ',') FROM nat_gateway WHERE tags->>'Name' "
                "LIKE '%s-%%'",
                n),
        "available,available");
    assert_string_equal(it_valf(e,
                                "SELECT count(*) FROM route_table_association a JOIN subnet s ON "
                                "s.id = a.subnet WHERE s.tags->>'Name' LIKE '%s-%%' AND "
                                "a.route_table_association_id LIKE 'rtbassoc-%%'",
                                n),
                        "2");

    /* The cloud agrees, read without the engine. */
    char *x = it_ec2(e, "Action=DescribeAddresses&AllocationId.1=%s", alloc);
    assert_string_equal(it_xml_text(x, "publicIp"), ip);
    assert_string_equal(it_xml_text(x, "domain"), "vpc");
    assert_non_null(strstr(x, "<key>team</key>"));
    free(x);
    x = it_ec2(e, "Action=DescribeNatGateways&NatGatewayId.1=%s", nat_pub);
    assert_string_equal(it_xml_text(x, "subnetId"), sub_pub);
    assert_string_equal(it_xml_text(x, "allocationId"), alloc);
    assert_string_equal(it_xml_text(x, "connectivityType"), "public");
    assert_string_equal(it_xml_text(x, "state"), "available");
    assert_non_null(strstr(x, pub));
    free(x);
    x = it_ec2(e, "Action=DescribeNatGateways&NatGatewayId.1=%s", nat_priv);
    assert_string_equal(it_xml_text(x, "subnetId"), sub_priv);
    assert_string_equal(it_xml_text(x, "connectivityType"), "private");
    assert_null(it_xml_text(x, "allocationId"));
    free(x);
    x = it_ec2(e, "Action=DescribeRouteTables&RouteTableId.1=%s", rtb_priv);
    assert_string_equal(it_xml_text(x, "natGatewayId"), nat_pub);
    assert_non_null(strstr(x, sub_priv)); /* the private subnet's association */
    free(x);
    x = it_ec2(e, "Action=DescribeRouteTables&RouteTableId.1=%s", rtb_pub);
    assert_non_null(strstr(x, igw));
    assert_non_null(strstr(x, sub_pub));
    free(x);
    x = it_ec2(e, "Action=DescribeVpcEndpoints&VpcEndpointId.1=%s", vpce);
    assert_string_equal(it_xml_text(x, "serviceName"), "com.amazonaws.us-east-1.s3");
    assert_string_equal(it_xml_text(x, "vpcEndpointType"), "Gateway");
    assert_string_equal(it_xml_text(x, "vpcId"), vpc_id);
    assert_non_null(strstr(x, rtb_priv));
    assert_null(strstr(x, rtb_pub));
    assert_non_null(strstr(x, "s3:GetObject"));
    free(x);
    /* What the commit wrote back is what a read finds: nothing pending. */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* In place: tags, the private route's target, the private subnet's
     * route table, the endpoint's tables and policy (NULL: full access). */
    char *assoc_priv = dup_val(e,
                               "SELECT a.route_table_association_id FROM route_table_association a "
                               "JOIN subnet s ON s.id = a.subnet WHERE s.tags->>'Name' = '%s'",
                               priv);
    assert_true(it_okf(e,
                       "UPDATE elastic_ip SET tags = '{\"Name\": \"%s\", \"env\": \"prod\"}' WHERE "
                       "tags->>'Name' = '%s'",
                       n, n));
    assert_true(it_okf(
        e, "UPDATE nat_gateway SET tags = tags || '{\"env\": \"prod\"}' WHERE tags->>'Name' = '%s'",
        pub));
    assert_true(it_okf(e,
                       "UPDATE route SET nat_gateway = NULL, internet_gateway = (SELECT g.id FROM "
                       "internet_gateway g JOIN vpc v ON v.id = g.vpc WHERE v.tags->>'Name' = "
                       "'%s') WHERE route_table = (SELECT id FROM route_table WHERE tags->>'Name' "
                       "= '%s') AND destination_cidr_block = '0.0.0.0/0'",
                       n, priv));
    assert_true(it_okf(e,
                       "UPDATE route_table_association SET route_table = (SELECT id FROM "
                       "route_table WHERE tags->>'Name' = '%s') WHERE subnet = (SELECT id FROM "
                       "subnet WHERE tags->>'Name' = '%s')",
                       pub, priv));
    assert_true(it_okf(e,
                       "UPDATE endpoint_gateway SET policy = NULL, tags = tags || '{\"env\": "
                       "\"prod\"}', route_tables = route_tables || (SELECT id FROM route_table "
                       "WHERE tags->>'Name' = '%s') WHERE tags->>'Name' = '%s'",
                       pub, n));
    assert_int_equal(commit_ok(e, "SELECT * FROM iasql_commit()", 5, "update"), 5);
    x = it_ec2(e, "Action=DescribeAddresses&AllocationId.1=%s", alloc);
    assert_non_null(strstr(x, "<key>env</key>"));
    assert_null(strstr(x, "<key>team</key>"));
    free(x);
    x = it_ec2(e, "Action=DescribeNatGateways&NatGatewayId.1=%s", nat_pub);
    assert_non_null(strstr(x, "<key>env</key>"));
    free(x);
    x = it_ec2(e, "Action=DescribeRouteTables&RouteTableId.1=%s", rtb_priv);
    assert_null(it_xml_text(x, "natGatewayId"));
    assert_non_null(strstr(x, igw));
    assert_null(strstr(x, sub_priv)); /* no longer associated here */
    free(x);
    x = it_ec2(e,
               "Action=DescribeRouteTables&Filter.1.Name=association.subnet-id&Filter.1.Value.1=%s",
               sub_priv);
    assert_string_equal(it_xml_text(x, "routeTableId"), rtb_pub);
    char *assoc2 = dup_val(e,
                           "SELECT a.route_table_association_id FROM route_table_association a "
                           "JOIN subnet s ON s.id = a.subnet WHERE s.tags->>'Name' = '%s'",
                           priv);
    assert_string_not_equal(assoc2, assoc_priv); /* a replaced association has a new id */
    assert_non_null(strstr(x, assoc2));
    free(x);
    x = it_ec2(e, "Action=DescribeVpcEndpoints&VpcEndpointId.1=%s", vpce);
    assert_non_null(strstr(x, rtb_priv));
    assert_non_null(strstr(x, rtb_pub));
    assert_null(strstr(x, "s3:GetObject"));
    assert_non_null(strstr(x, "2008-10-17")); /* full access, as AWS writes it */
    assert_non_null(strstr(x, "<key>env</key>"));
    free(x);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* Replaced: the private NAT gateway into the public subnet, the
     * endpoint to DynamoDB. The preview says so first. */
    assert_true(it_okf(e,
                       "UPDATE nat_gateway SET subnet = (SELECT id FROM subnet WHERE tags->>'Name' "
                       "= '%s') WHERE tags->>'Name' = '%s'",
                       pub, priv));
    assert_true(it_okf(
        e, "UPDATE endpoint_gateway SET service = 'dynamodb' WHERE tags->>'Name' = '%s'", n));
    assert_string_equal(it_value(e, "SELECT string_agg(DISTINCT action, ',') FROM iasql_preview()"),
                        "replace");
    assert_int_equal(commit_ok(e, "SELECT * FROM iasql_commit()", 2, "replace"), 2);
    char *nat_priv2 = col_of(e, "nat_gateway", "nat_gateway_id", priv);
    char *vpce2 = col_of(e, "endpoint_gateway", "vpc_endpoint_id", n);
    assert_string_not_equal(nat_priv2, nat_priv);
    assert_string_not_equal(vpce2, vpce);
    x = it_ec2(e, "Action=DescribeNatGateways&NatGatewayId.1=%s", nat_priv);
    assert_string_equal(it_xml_text(x, "state"), "deleted");
    free(x);
    x = it_ec2(e, "Action=DescribeNatGateways&NatGatewayId.1=%s", nat_priv2);
    assert_string_equal(it_xml_text(x, "subnetId"), sub_pub);
    assert_string_equal(it_xml_text(x, "state"), "available");
    free(x);
    x = it_ec2(e, "Action=DescribeVpcEndpoints&VpcEndpointId.1=%s", vpce2);
    assert_string_equal(it_xml_text(x, "serviceName"), "com.amazonaws.us-east-1.dynamodb");
    assert_non_null(strstr(x, rtb_priv));
    assert_non_null(strstr(x, rtb_pub));
    free(x);
    x = it_ec2(e, "Action=DescribeVpcEndpoints&VpcEndpointId.1=%s", vpce);
    assert_string_equal(it_xml_text(x, "state"), "deleted");
    free(x);

    /* Deleted: the private NAT gateway. */
    assert_true(it_okf(e, "DELETE FROM nat_gateway WHERE tags->>'Name' = '%s'", priv));
    assert_int_equal(commit_ok(e, "SELECT * FROM iasql_commit()", 1, "delete"), 1);
    x = it_ec2(e, "Action=DescribeNatGateways&NatGatewayId.1=%s", nat_priv2);
    assert_string_equal(it_xml_text(x, "state"), "deleted");
    free(x);

    /* Back to the first commit: the private route through the NAT gateway,
     * the private subnet's own table, an S3 endpoint with its policy on the
     * private table alone, a private NAT gateway in the private subnet. */
    const char *f[] = {first};
    PGresult *r = it_sql(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, f);
    assert_non_null(r);
    for (int i = 0; i < PQntuples(r); i++)
        if (strncmp(PQgetvalue(r, i, 3), "failed", 6) == 0)
            fail_msg("rollback: %s", PQgetvalue(r, i, 3));
    assert_true(PQntuples(r) >= 5);
    PQclear(r);
    x = it_ec2(e, "Action=DescribeRouteTables&RouteTableId.1=%s", rtb_priv);
    assert_string_equal(it_xml_text(x, "natGatewayId"), nat_pub);
    assert_non_null(strstr(x, sub_priv));
    free(x);
    x = it_ec2(e, "Action=DescribeAddresses&AllocationId.1=%s", alloc);
    assert_non_null(strstr(x, "<key>team</key>"));
    assert_null(strstr(x, "<key>env</key>"));
    free(x);
    char *vpce3 = col_of(e, "endpoint_gateway", "vpc_endpoint_id", n);
    x = it_ec2(e, "Action=DescribeVpcEndpoints&VpcEndpointId.1=%s", vpce3);
    assert_string_equal(it_xml_text(x, "serviceName"), "com.amazonaws.us-east-1.s3");
    assert_string_equal(it_xml_text(x, "state"), "available");
    assert_non_null(strstr(x, "s3:GetObject"));
    assert_non_null(strstr(x, rtb_priv));
    assert_null(strstr(x, rtb_pub));
    free(x);
    char *nat_priv3 = col_of(e, "nat_gateway", "nat_gateway_id", priv);
    x = it_ec2(e, "Action=DescribeNatGateways&NatGatewayId.1=%s", nat_priv3);
    assert_string_equal(it_xml_text(x, "subnetId"), sub_priv);
    assert_string_equal(it_xml_text(x, "connectivityType"), "private");
    assert_string_equal(it_xml_text(x, "state"), "available");
    free(x);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* The public NAT gateway into the private subnet: replaced with its
     * address, which one gateway holds at a time (the old one goes first),
     * and the private route follows it to the new one in place. */
    assert_true(it_okf(e,
                       "UPDATE nat_gateway SET subnet = (SELECT id FROM subnet WHERE tags->>'Name' "
                       "= '%s') WHERE tags->>'Name' = '%s'",
                       priv, pub));
    assert_string_equal(it_value(e, "SELECT string_agg(action || ' ' || table_name, ',' ORDER BY "
                                    "table_name) FROM iasql_preview()"),
                        "replace nat_gateway,update route");
    commit_ok(e, "SELECT * FROM iasql_commit()", 2, NULL);
    char *nat_pub2 = col_of(e, "nat_gateway", "nat_gateway_id", pub);
    assert_string_not_equal(nat_pub2, nat_pub);
    x = it_ec2(e, "Action=DescribeNatGateways&NatGatewayId.1=%s", nat_pub2);
    assert_string_equal(it_xml_text(x, "subnetId"), sub_priv);
    assert_string_equal(it_xml_text(x, "allocationId"), alloc);
    assert_string_equal(it_xml_text(x, "state"), "available");
    free(x);
    x = it_ec2(e, "Action=DescribeNatGateways&NatGatewayId.1=%s", nat_pub);
    assert_string_equal(it_xml_text(x, "state"), "deleted");
    free(x);
    x = it_ec2(e, "Action=DescribeRouteTables&RouteTableId.1=%s", rtb_priv);
    assert_string_equal(it_xml_text(x, "natGatewayId"), nat_pub2);
    free(x);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    free(nat_pub2);

    /* All of it with its VPC in one commit. AWS needs the associations and
     * routes gone before the tables and NAT gateways, the NAT gateways
     * deleted before their subnets and before their address is released,
     * the endpoint before its route tables, and all before the VPC. */
    free(nat_priv_row), free(ep_row);
    nat_priv_row = ids_of(e, "nat_gateway", priv);
    ep_row = ids_of(e, "endpoint_gateway", n);
    assert_true(it_okf(e,
                       "DELETE FROM internet_gateway WHERE vpc = (SELECT id FROM vpc WHERE "
                       "tags->>'Name' = '%s')",
                       n));
    assert_true(it_okf(e, "DELETE FROM vpc WHERE tags->>'Name' = '%s'", n));
    assert_true(it_okf(e, "DELETE FROM elastic_ip WHERE tags->>'Name' = '%s'", n));
    assert_true(runs_before(e, "route_table_association", assoc_pub_row, "subnet", sub_pub_row));
    assert_true(runs_before(e, "route_table_association", assoc_priv_row, "subnet", sub_priv_row));
    assert_true(
        runs_before(e, "route_table_association", assoc_pub_row, "route_table", rtb_pub_row));
    assert_true(
        runs_before(e, "route_table_association", assoc_priv_row, "route_table", rtb_priv_row));
    assert_true(runs_before(e, "route", route_nat_row, "nat_gateway", nat_pub_row));
    assert_true(runs_before(e, "nat_gateway", nat_pub_row, "elastic_ip", eip_row));
    assert_true(runs_before(e, "nat_gateway", nat_pub_row, "subnet", sub_pub_row));
    assert_true(runs_before(e, "nat_gateway", nat_priv_row, "subnet", sub_priv_row));
    assert_true(runs_before(e, "endpoint_gateway", ep_row, "route_table", rtb_priv_row));
    assert_true(runs_before(e, "subnet", subnet_rows, "vpc", vpc_row));
    assert_true(runs_before(e, "route_table", rtb_rows, "vpc", vpc_row));
    assert_true(commit_ok(e, "SELECT * FROM iasql_commit()", -1, "delete") >= 14);
    x = it_ec2(e, "Action=DescribeVpcs&Filter.1.Name=vpc-id&Filter.1.Value.1=%s", vpc_id);
    assert_null(strstr(x, vpc_id));
    free(x);
    x = it_ec2(e, "Action=DescribeSubnets&Filter.1.Name=vpc-id&Filter.1.Value.1=%s", vpc_id);
    assert_null(strstr(x, "<subnetId>"));
    free(x);
    x = it_ec2(e, "Action=DescribeNatGateways&Filter.1.Name=vpc-id&Filter.1.Value.1=%s", vpc_id);
    assert_null(strstr(x, "<state>available</state>"));
    free(x);
    x = it_ec2(e, "Action=DescribeVpcEndpoints&VpcEndpointId.1=%s", vpce3);
    assert_string_equal(it_xml_text(x, "state"), "deleted");
    free(x);
    x = it_ec2(e, "Action=DescribeAddresses&Filter.1.Name=allocation-id&Filter.1.Value.1=%s",
               alloc);
    assert_null(strstr(x, alloc));
    free(x);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    free(first), free(vpc_id), free(sub_pub), free(sub_priv), free(rtb_pub), free(rtb_priv);
    free(igw), free(alloc), free(ip), free(nat_pub), free(nat_priv), free(vpce);
    free(assoc_priv), free(assoc2), free(nat_priv2), free(vpce2), free(vpce3), free(nat_priv3);
    free(eip_row), free(nat_pub_row), free(nat_priv_row), free(sub_pub_row), free(sub_priv_row);
    free(subnet_rows), free(rtb_rows), free(rtb_priv_row), free(ep_row), free(vpc_row);
    free(assoc_pub_row), free(assoc_priv_row), free(rtb_pub_row);
    free(route_nat_row);
}

/* The text of tag in an EC2 answer made from fmt, copied. */
static char *ec2_val(it_env *e, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static char *ec2_val(it_env *e, const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *x = it_ec2v(e, NULL, fmt, ap);
    va_end(ap);
    const char *v = it_xml_text(x, tag);
    char *out = strdup(v ? v : "");
    free(x);
    assert_true(out[0]);
    return out;
}

static void test_import_and_drift(void **state)
{
    it_env *e = *state;
    /* Made outside: a VPC with a subnet routed through a NAT gateway, and
     * an S3 endpoint. */
    char *vpc = ec2_val(e, "vpcId", "Action=CreateVpc&CidrBlock=10.61.0.0/16");
    char *subnet = ec2_val(e, "subnetId",
                           "Action=CreateSubnet&VpcId=%s&CidrBlock=10.61.1.0/24&AvailabilityZone="
                           "us-east-1a",
                           vpc);
    char *igw = ec2_val(e, "internetGatewayId", "Action=CreateInternetGateway");
    free(it_ec2(e, "Action=AttachInternetGateway&InternetGatewayId=%s&VpcId=%s", igw, vpc));
    char *rtb = ec2_val(e, "routeTableId", "Action=CreateRouteTable&VpcId=%s", vpc);
    char *alloc = ec2_val(e, "allocationId",
                          "Action=AllocateAddress&Domain=vpc&TagSpecification.1.ResourceType="
                          "elastic-ip&TagSpecification.1.Tag.1.Key=by&TagSpecification.1.Tag.1."
                          "Value=console");
    char *nat = ec2_val(e, "natGatewayId",
                        "Action=CreateNatGateway&SubnetId=%s&AllocationId=%s&TagSpecification.1."
                        "ResourceType=natgateway&TagSpecification.1.Tag.1.Key=by&"
                        "TagSpecification.1.Tag.1.Value=console",
                        subnet, alloc);
    free(it_ec2(e,
                "Action=CreateRoute&RouteTableId=%s&DestinationCidrBlock=0.0.0.0/0&NatGatewayId=%s",
                rtb, nat));
    char *assoc = ec2_val(e, "associationId",
                          "Action=AssociateRouteTable&RouteTableId=%s&SubnetId=%s", rtb, subnet);
    char *vpce = ec2_val(e, "vpcEndpointId",
                         "Action=CreateVpcEndpoint&VpcEndpointType=Gateway&VpcId=%s&ServiceName="
                         "com.amazonaws.us-east-1.s3&RouteTableId.1=%s",
                         vpc, rtb);

    /* Reinstalled: what the cloud has is imported, references as rows. */
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_vpc')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_vpc')", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_string_equal(
        it_valf(e, "SELECT tags->>'by' FROM elastic_ip WHERE allocation_id = '%s'", alloc),
        "console");
    assert_non_null(it_valf(e,
                            "SELECT 1 FROM nat_gateway n JOIN elastic_ip a ON a.id = n.elastic_ip "
                            "JOIN subnet s ON s.id = n.subnet WHERE n.nat_gateway_id = '%s' AND "
                            "a.allocation_id = '%s' AND s.subnet_id = '%s' AND n.connectivity_type "
                            "= 'public' AND n.state = 'available' AND n.tags->>'by' = 'console'",
                            nat, alloc, subnet));
    char *nat_row = dup_val(e, "SELECT id FROM nat_gateway WHERE nat_gateway_id = '%s'", nat);
    char *rtb_row = dup_val(e, "SELECT id FROM route_table WHERE route_table_id = '%s'", rtb);
    assert_non_null(it_valf(e,
                            "SELECT 1 FROM route WHERE route_table = %s AND destination_cidr_block "
                            "= '0.0.0.0/0' AND nat_gateway = %s AND internet_gateway IS NULL",
                            rtb_row, nat_row));
    assert_non_null(it_valf(e,
                            "SELECT 1 FROM route_table_association a JOIN subnet s ON s.id = "
                            "a.subnet WHERE a.route_table_association_id = '%s' AND a.route_table "
                            "= %s AND s.subnet_id = '%s'",
                            assoc, rtb_row, subnet));
    assert_non_null(it_valf(e,
                            "SELECT 1 FROM endpoint_gateway WHERE vpc_endpoint_id = '%s' AND "
                            "service = 's3' AND route_tables = ARRAY[%s]::bigint[] AND policy IS "
                            "NULL",
                            vpce, rtb_row));

    /* Changed outside: a sync brings it into the rows. */
    free(it_ec2(e, "Action=CreateTags&ResourceId.1=%s&ResourceId.2=%s&Tag.1.Key=by&Tag.1.Value=cli",
                nat, alloc));
    free(it_ec2(e,
                "Action=ReplaceRoute&RouteTableId=%s&DestinationCidrBlock=0.0.0.0/0&GatewayId=%s",
                rtb, igw));
    char *rtb2 = ec2_val(e, "routeTableId", "Action=CreateRouteTable&VpcId=%s", vpc);
    char *assoc2 = ec2_val(e, "newAssociationId",
                           "Action=ReplaceRouteTableAssociation&AssociationId=%s&RouteTableId=%s",
                           assoc, rtb2);
    free(
        it_ec2(e,
               "Action=ModifyVpcEndpoint&VpcEndpointId=%s&PolicyDocument=%%7B%%22Statement%%22%%3A%"
               "%5B%%7B%%22Effect%%22%%3A%%22Allow%%22%%2C%%22Principal%%22%%3A%%22*%%22%%2C%%"
               "22Action%%22%%3A%%22s3%%3AGetObject%%22%%2C%%22Resource%%22%%3A%%22*%%22%%7D%%5D%%"
               "7D",
               vpce));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT tags->>'by' FROM elastic_ip WHERE allocation_id = '%s'", alloc), "cli");
    assert_string_equal(
        it_valf(e, "SELECT tags->>'by' FROM nat_gateway WHERE nat_gateway_id = '%s'", nat), "cli");
    assert_non_null(it_valf(e,
                            "SELECT 1 FROM route r JOIN internet_gateway g ON g.id = "
                            "r.internet_gateway WHERE r.route_table = %s AND r.nat_gateway IS NULL "
                            "AND g.internet_gateway_id = '%s'",
                            rtb_row, igw));
    assert_non_null(it_valf(e,
                            "SELECT 1 FROM route_table_association a JOIN route_table t ON t.id = "
                            "a.route_table WHERE a.route_table_association_id = '%s' AND "
                            "t.route_table_id = '%s'",
                            assoc2, rtb2));
    assert_string_equal(it_valf(e,
                                "SELECT policy->'Statement'->0->>'Action' FROM endpoint_gateway "
                                "WHERE vpc_endpoint_id = '%s'",
                                vpce),
                        "s3:GetObject");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* Deleted outside: a sync removes the rows. */
    free(it_ec2(e, "Action=DeleteRoute&RouteTableId=%s&DestinationCidrBlock=0.0.0.0/0", rtb));
    free(it_ec2(e, "Action=DisassociateRouteTable&AssociationId=%s", assoc2));
    free(it_ec2(e, "Action=DeleteVpcEndpoints&VpcEndpointId.1=%s", vpce));
    free(it_ec2(e, "Action=DeleteNatGateway&NatGatewayId=%s", nat));
    free(it_ec2(e, "Action=ReleaseAddress&AllocationId=%s", alloc));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM route WHERE route_table = %s AND NOT local", rtb_row),
        "0");
    assert_string_equal(
        it_valf(e,
                "SELECT count(*) FROM route_table_association WHERE route_table_association_id = "
                "'%s'",
                assoc2),
        "0");
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM endpoint_gateway WHERE vpc_endpoint_id = '%s'", vpce),
        "0");
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM nat_gateway WHERE nat_gateway_id = '%s'", nat), "0");
    assert_string_equal(
        it_valf(e, "SELECT count(*) FROM elastic_ip WHERE allocation_id = '%s'", alloc), "0");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* A route and an association made outside and then written as rows
     * before any sync saw them: the creates adopt them. */
    free(it_ec2(e,
                "Action=CreateRoute&RouteTableId=%s&DestinationCidrBlock=10.99.0.0/16&GatewayId=%s",
                rtb, igw));
    free(it_ec2(e, "Action=AssociateRouteTable&RouteTableId=%s&SubnetId=%s", rtb, subnet));
    assert_true(it_okf(e,
                       "INSERT INTO route (route_table, destination_cidr_block, internet_gateway) "
                       "SELECT %s, '10.99.0.0/16', id FROM internet_gateway WHERE "
                       "internet_gateway_id = '%s'",
                       rtb_row, igw));
    assert_true(it_okf(e,
                       "INSERT INTO route_table_association (route_table, subnet) SELECT %s, id "
                       "FROM subnet WHERE subnet_id = '%s'",
                       rtb_row, subnet));
    assert_int_equal(commit_ok(e, "SELECT * FROM iasql_commit()", 2, "create"), 2);
    char *adopted = dup_val(e,
                            "SELECT a.route_table_association_id FROM route_table_association a "
                            "JOIN subnet s ON s.id = a.subnet WHERE s.subnet_id = '%s'",
                            subnet);
    char *x = it_ec2(e, "Action=DescribeRouteTables&RouteTableId.1=%s", rtb);
    assert_non_null(strstr(x, adopted));
    assert_int_equal(it_count(x, "<routeTableAssociationId>"), 1);
    assert_non_null(strstr(x, "10.99.0.0/16"));
    free(x);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* The association moved to another subnet is another association: the
     * old one goes, the new subnet's is made. */
    assert_true(it_okf(e,
                       "INSERT INTO subnet (vpc, cidr_block, availability_zone, tags) SELECT id, "
                       "'10.61.2.0/24', 'us-east-1b', '{\"Name\": \"moved-%s\"}' FROM vpc WHERE "
                       "vpc_id = '%s'",
                       sfx, vpc));
    assert_true(it_okf(e,
                       "UPDATE route_table_association SET subnet = (SELECT id FROM subnet WHERE "
                       "tags->>'Name' = 'moved-%s') WHERE route_table_association_id = '%s'",
                       sfx, adopted));
    assert_string_equal(it_value(e, "SELECT string_agg(action || ' ' || table_name, ',' ORDER BY "
                                    "table_name) FROM iasql_preview()"),
                        "replace route_table_association,create subnet");
    commit_ok(e, "SELECT * FROM iasql_commit()", 2, NULL);
    char *moved = dup_val(e, "SELECT subnet_id FROM subnet WHERE tags->>'Name' = 'moved-%s'", sfx);
    x = it_ec2(e, "Action=DescribeRouteTables&RouteTableId.1=%s", rtb);
    assert_non_null(strstr(x, moved));
    assert_null(strstr(x, adopted));
    assert_int_equal(it_count(x, "<routeTableAssociationId>"), 1);
    free(x);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    free(moved);

    /* Cleaned up through the engine. */
    assert_true(it_okf(e, "DELETE FROM internet_gateway WHERE internet_gateway_id = '%s'", igw));
    assert_true(it_okf(e, "DELETE FROM vpc WHERE vpc_id = '%s'", vpc));
    commit_ok(e, "SELECT * FROM iasql_commit()", -1, NULL);
    x = it_ec2(e, "Action=DescribeVpcs&Filter.1.Name=vpc-id&Filter.1.Value.1=%s", vpc);
    assert_null(strstr(x, vpc));
    free(x);
    free(vpc), free(subnet), free(igw), free(rtb), free(alloc), free(nat), free(assoc);
    free(vpce), free(nat_row), free(rtb_row), free(rtb2), free(assoc2), free(adopted);
}

/* Zones are the cloud's: read at install, never made or removed. */
static void test_availability_zones(void **state)
{
    it_env *e = *state;
    char *x = it_ec2(e, "Action=DescribeAvailabilityZones");
    int zones = it_count(x, "<zoneName>");
    assert_true(zones >= 2);
    const char *zid = it_xml_text(x, "zoneId");
    char *first_id = strdup(zid ? zid : "");
    free(x);
    char want[16];
    snprintf(want, sizeof want, "%d", zones);
    assert_string_equal(
        it_value(e, "SELECT count(*) FROM availability_zone WHERE region = 'us-east-1'"), want);
    assert_non_null(it_valf(e,
                            "SELECT 1 FROM availability_zone WHERE zone_id = '%s' AND state = "
                            "'available' AND zone_name LIKE 'us-east-1_'",
                            first_id));
    free(first_id);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* A zone the region does not offer: its create fails, naming the row. */
    assert_true(it_ok(e,
                      "INSERT INTO availability_zone (zone_name, region) VALUES ('us-east-1z', "
                      "'us-east-1')",
                      0, NULL));
    int rows, failed;
    char *res = rows_text(e, "SELECT * FROM iasql_commit()", &rows, &failed);
    assert_int_equal(rows, 1);
    assert_int_equal(failed, 1);
    assert_non_null(strstr(res, "failed to create availability_zone"));
    assert_non_null(strstr(res, "zone_name=us-east-1z"));
    assert_non_null(strstr(res, "is not one that region us-east-1 offers"));
    assert_non_null(strstr(res, "Hint: Delete the row"));
    free(res);
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    assert_null(it_value(e, "SELECT 1 FROM availability_zone WHERE zone_name = 'us-east-1z'"));

    /* A zone AWS offers cannot be deleted: the delete fails, and a rollback
     * brings the row back. */
    assert_true(it_ok(e, "DELETE FROM availability_zone WHERE zone_name = 'us-east-1a'", 0, NULL));
    res = rows_text(e, "SELECT * FROM iasql_commit()", &rows, &failed);
    assert_int_equal(rows, 1);
    assert_int_equal(failed, 1);
    assert_non_null(strstr(res, "failed to delete availability_zone"));
    assert_non_null(strstr(res, "availability zone us-east-1a cannot be deleted"));
    assert_non_null(strstr(res, "Hint: Bring the row back with iasql_rollback()"));
    free(res);
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    assert_non_null(it_value(e, "SELECT 1 FROM availability_zone WHERE zone_name = 'us-east-1a'"));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* A subnet names a zone its region offers. */
    assert_true(
        it_ok(e, "INSERT INTO vpc (cidr_block, tags) VALUES ('10.71.0.0/16', '{\"Name\": \"az\"}')",
              0, NULL));
    const char *msg = it_sql_error(e, "INSERT INTO subnet (vpc, cidr_block, availability_zone) "
                                      "SELECT id, '10.71.1.0/24', 'us-east-1z' FROM vpc WHERE "
                                      "tags->>'Name' = 'az'");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "subnet_availability_zone_offered_in_its_region"));
    assert_non_null(strstr(msg, "us-east-1a"));
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
}

/* The poller's rotation for VPCs: a quiet poll of known VPCs costs
 * DescribeVpcs and the DNS attributes (two DescribeVpcAttribute) of the
 * VPCs whose turn it is, not two calls a VPC; a tag is seen at the next
 * poll, an attribute within the rotation, a VPC new in the cloud in full
 * at once. */
static void test_vpc_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 8 };
    assert_true(
        it_okf(e,
               "INSERT INTO vpc (cidr_block, tags) SELECT ('10.' || (100 + g) || '.0.0/16')::cidr, "
               "'{\"Name\": \"rot-%d\"}' FROM generate_series(1, %d) g",
               (int)getpid(), N));
    it_expect_commit(e, N, "create");
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    int n = atoi(it_value(e, "SELECT count(*) FROM vpc"));
    long all[4], rot[4], sum = 0;
    it_rotation_quiet(e, "vpc", "1", all);
    it_rotation_quiet(e, "vpc", "5", rot);
    print_message("vpc rotation: %d VPCs, quiet polls %ld %ld %ld %ld requests in full, %ld %ld "
                  "%ld %ld with four slots\n",
                  n, all[0], all[1], all[2], all[3], rot[0], rot[1], rot[2], rot[3]);
    /* the module's other tables: one Describe a region, whatever their number */
    static const char *const others[] = {
        "availability_zone", "subnet",      "internet_gateway",        "elastic_ip",
        "nat_gateway",       "route_table", "route_table_association", "route",
        "endpoint_gateway"};
    for (size_t k = 0; k < sizeof others / sizeof others[0]; k++) {
        long last[1] = {0};
        int seen = it_poll_requests(e, others[k], 0, NULL, 0);
        if (seen > 0)
            it_poll_requests(e, others[k], seen - 1, last, 1);
        print_message("  %s: %d polls, the last %ld requests (%s rows)\n", others[k], seen, last[0],
                      it_valf(e, "SELECT count(*) FROM %s", others[k]));
    }
    for (int i = 0; i < 4; i++) {
        assert_true(all[i] >= 1 + 2 * n); /* a listing, two attributes a VPC */
        assert_true(rot[i] <= 1 + 2 * (n / 2));
        sum += rot[i] - 1;
    }
    assert_true(sum <= 2 * n + 4); /* a rotation reads each one's attributes about once */
    char *id = it_strdup(it_valf(e,
                                 "SELECT vpc_id FROM vpc WHERE cidr_block = '10.101.0.0/16' AND "
                                 "tags->>'Name' = 'rot-%d'",
                                 (int)getpid()));
    free(it_ec2(e, "Action=CreateTags&ResourceId.1=%s&Tag.1.Key=team&Tag.1.Value=ops", id));
    assert_true(it_eventually(
        e, "ops", "SELECT coalesce(tags->>'team', '') FROM vpc WHERE vpc_id = '%s'", id));
    free(it_ec2(e, "Action=ModifyVpcAttribute&VpcId=%s&EnableDnsHostnames.Value=true", id));
    assert_true(
        it_eventually(e, "t", "SELECT enable_dns_hostnames FROM vpc WHERE vpc_id = '%s'", id));
    char *x = it_ec2(e, "Action=CreateVpc&CidrBlock=10.99.0.0/16");
    char *made = it_strdup(it_xml_text(x, "vpcId"));
    free(x);
    free(it_ec2(e, "Action=ModifyVpcAttribute&VpcId=%s&EnableDnsSupport.Value=false", made));
    assert_true(it_eventually(e, "1", "SELECT count(*) FROM vpc WHERE vpc_id = '%s'", made));
    assert_string_equal(it_valf(e, "SELECT enable_dns_support FROM vpc WHERE vpc_id = '%s'", made),
                        "f");
    it_rotation_off(e);
    assert_true(it_okf(e, "DELETE FROM vpc WHERE tags->>'Name' = 'rot-%d' OR vpc_id = '%s'",
                       (int)getpid(), made));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_string_equal(it_valf(e, "SELECT count(*) FROM vpc WHERE vpc_id = '%s'", made), "0");
    free(id);
    free(made);
}

static void test_bad_input(void **state)
{
    it_env *e = *state;
    char n[64];
    snprintf(n, sizeof n, "bad-%s", sfx);
    insert_layout(e, n, "10.81");
    assert_true(it_okf(
        e, "INSERT INTO vpc (cidr_block, tags) VALUES ('10.82.0.0/16', '{\"Name\": \"%s-other\"}')",
        n));
    assert_true(it_okf(e,
                       "INSERT INTO route_table (vpc, tags) SELECT id, '{\"Name\": \"%s-other\"}' "
                       "FROM vpc WHERE tags->>'Name' = '%s-other'",
                       n, n));
    assert_true(it_okf(e, "INSERT INTO elastic_ip (tags) VALUES ('{\"Name\": \"%s-free\"}')", n));
    const char *before = it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'");
    char *count0 = strdup(before ? before : "");
    char sql[16][640];
    char sub[160], rt[160], other_rt[160], eip[160], free_eip[160], igw[200], nat[160];
    snprintf(sub, sizeof sub, "(SELECT id FROM subnet WHERE tags->>'Name' = '%s-public')", n);
    snprintf(rt, sizeof rt, "(SELECT id FROM route_table WHERE tags->>'Name' = '%s-public')", n);
    snprintf(other_rt, sizeof other_rt,
             "(SELECT id FROM route_table WHERE tags->>'Name' = '%s-other')", n);
    snprintf(eip, sizeof eip, "(SELECT id FROM elastic_ip WHERE tags->>'Name' = '%s')", n);
    snprintf(free_eip, sizeof free_eip,
             "(SELECT id FROM elastic_ip WHERE tags->>'Name' = '%s-free')", n);
    snprintf(igw, sizeof igw,
             "(SELECT g.id FROM internet_gateway g JOIN vpc v ON v.id = g.vpc WHERE "
             "v.tags->>'Name' = '%s')",
             n);
    snprintf(nat, sizeof nat, "(SELECT id FROM nat_gateway WHERE tags->>'Name' = '%s-public')", n);
    snprintf(sql[0], 640,
             "INSERT INTO nat_gateway (subnet, connectivity_type) VALUES (%s, 'hybrid')", sub);
    snprintf(sql[1], 640, "INSERT INTO nat_gateway (subnet) VALUES (%s)", sub);
    snprintf(sql[2], 640,
             "INSERT INTO nat_gateway (subnet, connectivity_type, elastic_ip) VALUES (%s, "
             "'private', %s)",
             sub, free_eip);
    snprintf(sql[3], 640, "INSERT INTO nat_gateway (subnet, elastic_ip) VALUES (%s, %s)", sub, eip);
    snprintf(sql[4], 640,
             "INSERT INTO nat_gateway (subnet, elastic_ip, tags) VALUES (%s, %s, '{\"aws:x\": "
             "\"y\"}')",
             sub, free_eip);
    snprintf(sql[5], 640,
             "INSERT INTO elastic_ip (tags) SELECT jsonb_object_agg('k' || i, 'v') FROM "
             "generate_series(1, 49) i");
    snprintf(sql[6], 640, "INSERT INTO elastic_ip (tags) VALUES ('{\"iasql:owner\": \"x\"}')");
    snprintf(sql[7], 640,
             "INSERT INTO route (route_table, destination_cidr_block, internet_gateway, "
             "nat_gateway) VALUES (%s, '10.0.0.0/8', %s, %s)",
             rt, igw, nat);
    snprintf(sql[8], 640,
             "INSERT INTO route (route_table, destination_cidr_block) VALUES (%s, '10.0.0.0/8')",
             rt);
    snprintf(sql[9], 640,
             "INSERT INTO route_table_association (route_table, subnet) VALUES (%s, %s)", rt, sub);
    snprintf(sql[10], 640,
             "INSERT INTO route_table_association (route_table, subnet) VALUES (%s, (SELECT id "
             "FROM subnet WHERE tags->>'Name' = '%s-private'))",
             other_rt, n);
    snprintf(sql[11], 640,
             "INSERT INTO endpoint_gateway (vpc, service) SELECT id, 'sqs' FROM vpc WHERE "
             "tags->>'Name' = '%s'",
             n);
    snprintf(sql[12], 640,
             "INSERT INTO endpoint_gateway (vpc, service, policy) SELECT id, 's3', "
             "'{\"Version\": \"2012-10-17\"}' FROM vpc WHERE tags->>'Name' = '%s'",
             n);
    snprintf(sql[13], 640,
             "INSERT INTO endpoint_gateway (vpc, service, route_tables) SELECT id, 's3', "
             "ARRAY[%s] FROM vpc WHERE tags->>'Name' = '%s'",
             other_rt, n);
    snprintf(sql[14], 640,
             "INSERT INTO availability_zone (zone_name, region) VALUES ('eu-west-1a', "
             "'us-east-1')");
    snprintf(sql[15], 640,
             "INSERT INTO endpoint_gateway (vpc, service, policy) SELECT id, 's3', "
             "jsonb_build_object('Statement', repeat('x', 20480)) FROM vpc WHERE tags->>'Name' = "
             "'%s'",
             n);
    const it_reject cases[] = {
        {sql[0], "nat_gateway_connectivity_type_public_or_private"},
        {sql[1], "nat_gateway_elastic_ip_when_public_and_only_then"},
        {sql[2], "nat_gateway_elastic_ip_when_public_and_only_then"},
        {sql[3], "nat_gateway_elastic_ip_used_once"},
        {sql[4], "nat_gateway_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {sql[5], "elastic_ip_tags_max_48_plus_iasql_owner_and_token"},
        {sql[6], "elastic_ip_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {sql[7], "route_is_local_or_has_one_target_internet_or_nat_gateway"},
        {sql[8], "route_is_local_or_has_one_target_internet_or_nat_gateway"},
        {sql[9], "route_table_association_one_per_subnet"},
        {sql[10], "route_table_association_subnet_in_its_route_tables_vpc"},
        {sql[11], "endpoint_gateway_service_s3_or_dynamodb"},
        {sql[12], "endpoint_gateway_policy_a_statement_object_up_to_20480_chars"},
        {sql[13], "endpoint_gateway_route_tables_of_its_vpc"},
        {sql[14], "availability_zone_name_in_its_region"},
        {sql[15], "endpoint_gateway_policy_a_statement_object_up_to_20480_chars"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    /* An address a NAT gateway uses cannot go while it does. */
    const char *msg = it_sql_error(e, "DELETE FROM elastic_ip WHERE tags->>'Name' LIKE 'bad-%'");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "nat_gateway_elastic_ip_exists_in_its_region"));
    /* Nothing of it was captured; the pending rows are discarded. */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"),
                        count0);
    free(count0);
    it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL);
    assert_null(it_valf(e, "SELECT 1 FROM vpc WHERE tags->>'Name' = '%s'", n));
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    snprintf(sfx, sizeof sfx, "%d", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_and_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_availability_zones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vpc_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_vpc", tests, NULL, NULL);
}
