/* tests/integration/it_app.c — the application tier end to end against
 * moto_server, as a user runs it (a plain login role; the cloud read through
 * the AWS APIs, never through iasql's tables):
 *   - by hand: a VPC with two public subnets, an internet gateway and its
 *     routes, an imported ACM certificate (made with OpenSSL here), an
 *     application load balancer with an HTTPS listener on it forwarding to a
 *     target group, a Route 53 zone with an alias record to the load
 *     balancer, an ECR repository, a log group, an execution role, and a
 *     Fargate cluster, task definition and service in that target group,
 *     all in one commit; scaled; moved to a new image (a new revision, the
 *     old one deregistered); rolled back to the first commit; deleted in one
 *     commit;
 *   - in one row: the same life for an ecs_simplified row
 *     (aws_ecs_simplified), an internal app of an outside image, and bad
 *     values refused at INSERT by name.
 * Each one-commit deploy prints its cloud calls and wall time as
 * "it_app: one-commit deploy: N requests, M ms" (the one row) and
 * "it_app: one-commit deploy by hand: ..." (the stack by hand). */
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

#define EXEC_POLICY "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"

static int setup(void **state)
{
    if (it_fixture(state, "app", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_ecs_simplified')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

/* ------------------------------------------------------------ the cloud */

/* One JSON-protocol call straight to moto: the answer, or NULL when the
 * status is not 200 (*status, when not NULL, receives it; otherwise a
 * status other than 200 fails the test). */
static json_t *jcall(it_env *e, const char *service, const char *version, const char *prefix,
                     const char *op, json_t *body, long *status)
{
    char target[160];
    snprintf(target, sizeof target, "%s.%s", prefix, op);
    long st;
    json_t *j = it_aws_json(e, service, version, target, body, &st);
    if (status)
        *status = st;
    else if (st != 200)
        fail_msg("%s %s: HTTP %ld: %s", service, op, st, json_dumps(j, 0));
    if (st != 200) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static json_t *ecs(it_env *e, const char *op, json_t *body)
{
    return jcall(e, "ecs", "1.1", "AmazonEC2ContainerServiceV20141113", op, body, NULL);
}

static json_t *ecr(it_env *e, const char *op, json_t *body, long *status)
{
    return jcall(e, "ecr", "1.1", "AmazonEC2ContainerRegistry_V20150921", op, body, status);
}

static json_t *acm(it_env *e, const char *op, json_t *body, long *status)
{
    return jcall(e, "acm", "1.1", "CertificateManager", op, body, status);
}

/* A query-protocol call (ELBv2, IAM): the XML answer, copied; *status. */
static char *query(it_env *e, const char *service, long *status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static char *query(it_env *e, const char *service, long *status, const char *fmt, ...)
{
    char form[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(form, sizeof form, fmt, ap);
    va_end(ap);
    const char *out;
    long st = it_aws_query(e, service, form, &out);
    if (status)
        *status = st;
    else if (st != 200)
        fail_msg("%s %s: HTTP %ld: %s", service, form, st, out);
    return strdup(out ? out : "");
}

#define ELB_VERSION "Version=2015-12-01"
#define IAM_VERSION "Version=2010-05-08"

/* A load balancer as ELBv2 describes it (XML), or NULL when there is none. */
static char *cloud_lb(it_env *e, const char *name)
{
    long st;
    char *x = query(e, "elasticloadbalancing", &st,
                    "Action=DescribeLoadBalancers&" ELB_VERSION "&Names.member.1=%s", name);
    if (st == 200 && strstr(x, "<LoadBalancerArn>"))
        return x;
    free(x);
    return NULL;
}

static char *cloud_tg(it_env *e, const char *name)
{
    long st;
    char *x = query(e, "elasticloadbalancing", &st,
                    "Action=DescribeTargetGroups&" ELB_VERSION "&Names.member.1=%s", name);
    if (st == 200 && strstr(x, "<TargetGroupArn>"))
        return x;
    free(x);
    return NULL;
}

/* The value of <tag> in xml, copied (fails the test when absent). */
static char *xml_dup(const char *xml, const char *tag)
{
    const char *v = it_xml_text(xml, tag);
    if (!v)
        fail_msg("no <%s> in %s", tag, xml);
    return strdup(v);
}

/* The security group of that name in vpc_id (EC2's XML), or NULL. */
static char *cloud_group(it_env *e, const char *vpc_id, const char *name)
{
    char *x = it_ec2(e,
                     "Action=DescribeSecurityGroups&Filter.1.Name=group-name&Filter.1.Value.1=%s&"
                     "Filter.2.Name=vpc-id&Filter.2.Value.1=%s",
                     name, vpc_id);
    if (strstr(x, "<groupId>"))
        return x;
    free(x);
    return NULL;
}

static bool cloud_role_exists(it_env *e, const char *name)
{
    long st;
    char *x = query(e, "iam", &st, "Action=GetRole&" IAM_VERSION "&RoleName=%s", name);
    free(x);
    return st == 200;
}

static bool cloud_repo_exists(it_env *e, const char *name)
{
    long st;
    json_t *r = ecr(e, "DescribeRepositories", json_pack("{s:[s]}", "repositoryNames", name), &st);
    json_decref(r);
    return st == 200;
}

/* The cluster as ECS describes it when it is ACTIVE, or NULL. */
static json_t *cloud_cluster(it_env *e, const char *name)
{
    json_t *r = ecs(e, "DescribeClusters", json_pack("{s:[s]}", "clusters", name));
    json_t *c = json_array_get(json_object_get(r, "clusters"), 0);
    const char *status = json_string_value(json_object_get(c, "status"));
    c = status && strcmp(status, "ACTIVE") == 0 ? json_incref(c) : NULL;
    json_decref(r);
    return c;
}

/* The service as ECS describes it when it is ACTIVE, or NULL. */
static json_t *cloud_service(it_env *e, const char *cluster, const char *name)
{
    long st;
    json_t *r = jcall(e, "ecs", "1.1", "AmazonEC2ContainerServiceV20141113", "DescribeServices",
                      json_pack("{s:s, s:[s]}", "cluster", cluster, "services", name), &st);
    json_t *s = json_array_get(json_object_get(r, "services"), 0);
    const char *status = json_string_value(json_object_get(s, "status"));
    s = status && strcmp(status, "ACTIVE") == 0 ? json_incref(s) : NULL;
    json_decref(r);
    return s;
}

/* The task definition (family:revision or ARN) as ECS describes it. */
static json_t *cloud_task_definition(it_env *e, const char *which)
{
    json_t *r = ecs(e, "DescribeTaskDefinition", json_pack("{s:s}", "taskDefinition", which));
    json_t *t = json_incref(json_object_get(r, "taskDefinition"));
    json_decref(r);
    return t;
}

/* The ARNs of the ACTIVE revisions of family. */
static json_t *cloud_active_revisions(it_env *e, const char *family)
{
    json_t *r = ecs(e, "ListTaskDefinitions",
                    json_pack("{s:s, s:s}", "familyPrefix", family, "status", "ACTIVE"));
    json_t *a = json_incref(json_object_get(r, "taskDefinitionArns"));
    json_decref(r);
    return a;
}

static const char *jstr(const json_t *j, const char *path)
{
    /* a dotted path of members and array indexes: "loadBalancers.0.targetGroupArn" */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *at = j;
    for (char *save, *k = strtok_r(buf, ".", &save); k && at; k = strtok_r(NULL, ".", &save))
        at = json_is_array(at) ? json_array_get(at, (size_t)atoi(k)) : json_object_get(at, k);
    const char *v = json_string_value(at);
    return v ? v : "(none)"; /* what an assertion then shows, rather than a crash */
}

static long long jint(const json_t *j, const char *member)
{
    return json_integer_value(json_object_get(j, member));
}

/* ------------------------------------------------------------ commits */

/* Commits, expecting no failed row; returns the rows. */
static int commit_ok(it_env *e)
{
    PGresult *r = it_sql(e, "SELECT action, table_name, description FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    int n = PQntuples(r);
    bool failed = false;
    for (int i = 0; i < n; i++)
        failed |= strstr(PQgetvalue(r, i, 2), "failed") != NULL;
    if (failed) {
        for (int i = 0; i < n; i++)
            fprintf(stderr, "%s %s: %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                    PQgetvalue(r, i, 2));
        it_print_log(e);
        fail_msg("a commit failed");
    }
    PQclear(r);
    return n;
}

/* The cloud calls and the time of the engine's last request of kind op,
 * as its log reports them ("request N (commit) done in T ms, R rows, C
 * cloud calls (M mutating)"). */
static void last_request_cost(it_env *e, const char *op, long *calls, double *ms)
{
    char needle[64];
    snprintf(needle, sizeof needle, "(%s) done in ", op);
    const char *line = it_log_last(e, needle);
    const char *at = strstr(line, needle);
    assert_non_null(at);
    *ms = strtod(at + strlen(needle), NULL);
    const char *rows = strstr(at, " rows, ");
    assert_non_null(rows);
    *calls = strtol(rows + strlen(" rows, "), NULL, 10);
}

static void print_deploy(it_env *e, const char *what)
{
    long calls;
    double ms;
    last_request_cost(e, "commit", &calls, &ms);
    printf("it_app: one-commit deploy%s: %ld requests, %.0f ms\n", what, calls, ms);
    fflush(stdout);
}

/* ------------------------------------------------------------ by hand */

/* A self-signed certificate for domain and its key, made with OpenSSL
 * (PEM, copied for the caller to free). */
static void make_certificate(const char *domain, char **cert, char **key)
{
    char dir[] = "/tmp/it_app_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s/key.pem -out %s/cert.pem "
             "-days 30 -subj /CN=%s -addext subjectAltName=DNS:%s >/dev/null 2>&1",
             dir, dir, domain, domain);
    assert_int_equal(system(cmd), 0);
    const char *names[] = {"cert.pem", "key.pem"};
    char **outs[] = {cert, key};
    for (int i = 0; i < 2; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char *buf = calloc(1, 16384);
        size_t n = fread(buf, 1, 16383, f);
        fclose(f);
        assert_true(n > 100);
        *outs[i] = buf;
        unlink(path);
    }
    rmdir(dir);
}

/* The records of a Route 53 zone (XML), its id as "/hostedzone/Z..." */
static char *cloud_records(it_env *e, const char *zone_id)
{
    char url[512];
    snprintf(url, sizeof url, "%s/2013-04-01%s/rrset", e->emulator, zone_id);
    const char *out;
    long st = it_http_full("route53", NULL, "GET", url, NULL, &out);
    assert_int_equal(st, 200);
    return strdup(out);
}

/* The zone of that name (XML of ListHostedZonesByName's first), or NULL. */
static char *cloud_zone_id(it_env *e, const char *name)
{
    char url[512];
    snprintf(url, sizeof url, "%s/2013-04-01/hostedzonesbyname?dnsname=%s&maxitems=1", e->emulator,
             name);
    const char *out;
    long st = it_http_full("route53", NULL, "GET", url, NULL, &out);
    assert_int_equal(st, 200);
    char want[300];
    snprintf(want, sizeof want, "<Name>%s.</Name>", name);
    const char *id = strstr(out, want) ? it_xml_text(out, "Id") : NULL;
    return id ? strdup(id) : NULL;
}

static void insert_by_hand(it_env *e, const char *app, const char *domain, const char *cert,
                           const char *key)
{
    const char *p[] = {app, domain, cert, key};
    static const char *const sql[] = {
        "INSERT INTO vpc (cidr_block, enable_dns_hostnames, tags) VALUES ('10.60.0.0/16', true, "
        "jsonb_build_object('Name', $1::text))",
        "INSERT INTO subnet (vpc, cidr_block, availability_zone, map_public_ip_on_launch, tags) "
        "SELECT v.id, z.cidr::cidr, z.az, true, jsonb_build_object('Name', $1::text || '-' || "
        "z.az) "
        "FROM vpc v, (VALUES ('10.60.1.0/24', 'us-east-1a'), ('10.60.2.0/24', 'us-east-1b')) "
        "z (cidr, az) WHERE v.tags->>'Name' = $1",
        "INSERT INTO internet_gateway (vpc) SELECT id FROM vpc WHERE tags->>'Name' = $1",
        "INSERT INTO route_table (vpc, tags) SELECT id, jsonb_build_object('Name', $1::text) "
        "FROM vpc WHERE tags->>'Name' = $1",
        "INSERT INTO route (route_table, destination_cidr_block, internet_gateway) SELECT r.id, "
        "'0.0.0.0/0', g.id FROM route_table r JOIN internet_gateway g USING (vpc) "
        "WHERE r.tags->>'Name' = $1",
        "INSERT INTO route_table_association (route_table, subnet) SELECT r.id, s.id FROM "
        "route_table r JOIN subnet s USING (vpc) WHERE r.tags->>'Name' = $1",
        "INSERT INTO security_group (group_name, description, vpc) SELECT $1 || '-lb', 'https "
        "from anywhere', id FROM vpc WHERE tags->>'Name' = $1",
        "INSERT INTO security_group (group_name, description, vpc) SELECT $1 || '-tasks', "
        "'from the load balancer', id FROM vpc WHERE tags->>'Name' = $1",
        "INSERT INTO security_group_rule (security_group, ip_protocol, from_port, to_port, "
        "cidr_ipv4) SELECT id, 'tcp', 443, 443, '0.0.0.0/0' FROM security_group WHERE "
        "group_name = $1 || '-lb'",
        "INSERT INTO security_group_rule (security_group, ip_protocol, from_port, to_port, "
        "source_security_group) SELECT t.id, 'tcp', 80, 80, l.id FROM security_group t, "
        "security_group l WHERE t.group_name = $1 || '-tasks' AND l.group_name = $1 || '-lb'",
        "INSERT INTO certificate (domain_name, certificate_body, private_key, tags) VALUES ($2, "
        "$3, "
        "$4, jsonb_build_object('app', $1::text))",
        "INSERT INTO target_group (target_group_name, target_type, protocol, port, vpc) SELECT "
        "$1 || '-tg', 'ip', 'HTTP', 80, id FROM vpc WHERE tags->>'Name' = $1",
        "INSERT INTO load_balancer (load_balancer_name, subnets, security_groups) SELECT "
        "$1 || '-lb', ARRAY(SELECT s.id FROM subnet s WHERE s.vpc = v.id), ARRAY(SELECT g.id "
        "FROM security_group g WHERE g.group_name = $1 || '-lb') FROM vpc v WHERE "
        "v.tags->>'Name' = $1",
        "INSERT INTO listener (load_balancer, port, protocol, certificate, target_group) SELECT "
        "l.id, 443, 'HTTPS', c.id, t.id FROM load_balancer l, certificate c, target_group t "
        "WHERE l.load_balancer_name = $1 || '-lb' AND c.domain_name = $2 AND "
        "t.target_group_name = $1 || '-tg'",
        "INSERT INTO hosted_zone (domain_name, comment) VALUES ($2, 'the zone of ' || $1)",
        "INSERT INTO resource_record_set (parent_hosted_zone, name, record_type, "
        "alias_load_balancer) SELECT z.id, 'www.' || $2, 'A', l.id FROM hosted_zone z, "
        "load_balancer l WHERE z.domain_name = $2 || '.' AND l.load_balancer_name = $1 || '-lb'",
        "INSERT INTO repository (repository_name) VALUES ($1)",
        "INSERT INTO log_group (log_group_name) VALUES ('/ecs/' || $1)",
        "INSERT INTO iam_role (role_name, assume_role_policy_document, attached_policy_arns) "
        "VALUES ($1 || '-exec', '{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": "
        "\"Allow\", \"Principal\": {\"Service\": \"ecs-tasks.amazonaws.com\"}, \"Action\": "
        "\"sts:AssumeRole\"}]}', ARRAY['" EXEC_POLICY "'])",
        "INSERT INTO cluster (cluster_name) VALUES ($1)",
        "INSERT INTO task_definition (family, cpu, memory, execution_role, containers, "
        "repository, image_tag, log_group, log_stream_prefix) SELECT $1, 512, 1024, r.id, "
        "jsonb_build_array(jsonb_build_object('name', 'web', 'essential', true, 'portMappings', "
        "'[{\"containerPort\": 80, \"protocol\": \"tcp\"}]'::jsonb)), p.id, 'v1', g.id, 'web' "
        "FROM iam_role r, repository p, log_group g WHERE r.role_name = $1 || '-exec' AND "
        "p.repository_name = $1 AND g.log_group_name = '/ecs/' || $1",
        "INSERT INTO service (service_name, cluster, task_definition, desired_count, subnets, "
        "security_groups, assign_public_ip, target_group, container_name, container_port) "
        "SELECT $1, c.id, t.id, 2, ARRAY(SELECT s.id FROM subnet s JOIN vpc v ON v.id = s.vpc "
        "WHERE v.tags->>'Name' = $1), ARRAY(SELECT g.id FROM security_group g WHERE "
        "g.group_name = $1 || '-tasks'), 'ENABLED', tg.id, 'web', 80 FROM cluster c, "
        "task_definition t, target_group tg WHERE c.cluster_name = $1 AND t.family = $1 AND "
        "tg.target_group_name = $1 || '-tg'",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        int n = 0; /* the parameters it names: $1 up to $n */
        for (const char *d = strchr(sql[i], '$'); d; d = strchr(d + 1, '$'))
            if (d[1] - '0' > n)
                n = d[1] - '0';
        if (!it_ok(e, sql[i], n, p))
            fail_msg("refused: %s", sql[i]);
    }
}

/* The by-hand stack as the cloud has it: desired tasks of image_tag. */
static char *check_by_hand(it_env *e, const char *app, const char *domain, int desired,
                           const char *image_tag)
{
    char name[96];
    char *x = it_ec2(e, "Action=DescribeVpcs&Filter.1.Name=tag:Name&Filter.1.Value.1=%s", app);
    char *vpc_id = xml_dup(x, "vpcId");
    free(x);
    /* two public subnets, routed to the internet gateway */
    x = it_ec2(e, "Action=DescribeSubnets&Filter.1.Name=vpc-id&Filter.1.Value.1=%s", vpc_id);
    assert_int_equal(it_count(x, "<subnetId>"), 2);
    assert_int_equal(it_count(x, "<mapPublicIpOnLaunch>true</mapPublicIpOnLaunch>"), 2);
    free(x);
    x = it_ec2(e,
               "Action=DescribeInternetGateways&Filter.1.Name=attachment.vpc-id&"
               "Filter.1.Value.1=%s",
               vpc_id);
    char *igw = xml_dup(x, "internetGatewayId");
    free(x);
    x = it_ec2(e,
               "Action=DescribeRouteTables&Filter.1.Name=vpc-id&Filter.1.Value.1=%s&"
               "Filter.2.Name=tag:Name&Filter.2.Value.1=%s",
               vpc_id, app);
    assert_non_null(strstr(x, "<destinationCidrBlock>0.0.0.0/0</destinationCidrBlock>"));
    assert_non_null(strstr(x, igw));
    assert_int_equal(it_count(x, "<routeTableAssociationId>"), 2);
    free(x), free(igw);

    /* the certificate ACM holds, the HTTPS listener on it */
    json_t *certs = acm(e, "ListCertificates", json_object(), NULL);
    const char *cert_arn = NULL;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(certs, "CertificateSummaryList"), i, c)
    {
        if (strcmp(jstr(c, "DomainName"), domain) == 0)
            cert_arn = jstr(c, "CertificateArn");
    }
    assert_non_null(cert_arn);
    json_t *d = acm(e, "DescribeCertificate", json_pack("{s:s}", "CertificateArn", cert_arn), NULL);
    assert_string_equal(jstr(d, "Certificate.Type"), "IMPORTED");
    json_decref(d);
    snprintf(name, sizeof name, "%s-lb", app);
    char *lb = cloud_lb(e, name);
    assert_non_null(lb);
    assert_string_equal(it_xml_text(lb, "VpcId"), vpc_id);
    assert_string_equal(it_xml_text(lb, "Scheme"), "internet-facing");
    char *lb_arn = xml_dup(lb, "LoadBalancerArn");
    char *dns = xml_dup(lb, "DNSName");
    char *zone = xml_dup(lb, "CanonicalHostedZoneId");
    snprintf(name, sizeof name, "%s-tg", app);
    char *tg = cloud_tg(e, name);
    assert_non_null(tg);
    assert_string_equal(it_xml_text(tg, "TargetType"), "ip");
    char *tg_arn = xml_dup(tg, "TargetGroupArn");
    free(tg);
    char *l = query(e, "elasticloadbalancing", NULL,
                    "Action=DescribeListeners&" ELB_VERSION "&LoadBalancerArn=%s", lb_arn);
    assert_string_equal(it_xml_text(l, "Port"), "443");
    assert_string_equal(it_xml_text(l, "Protocol"), "HTTPS");
    assert_string_equal(it_xml_text(l, "CertificateArn"), cert_arn);
    assert_non_null(strstr(l, tg_arn));
    free(l);

    /* the zone's alias record to the load balancer */
    char *zone_id = cloud_zone_id(e, domain);
    assert_non_null(zone_id);
    char *rr = cloud_records(e, zone_id);
    snprintf(name, sizeof name, "<Name>www.%s.</Name>", domain);
    const char *rec = strstr(rr, name);
    assert_non_null(rec);
    assert_string_equal(it_xml_text(rec, "Type"), "A");
    const char *alias = it_xml_text(rec, "DNSName");
    assert_non_null(alias);
    assert_true(strncmp(alias, dns, strlen(dns)) == 0); /* with or without the final dot */
    assert_string_equal(it_xml_text(rec, "HostedZoneId"), zone);
    free(rr), free(zone_id);

    /* the repository, log group and role the task definition names */
    long st;
    json_t *repo =
        ecr(e, "DescribeRepositories", json_pack("{s:[s]}", "repositoryNames", app), &st);
    assert_int_equal(st, 200);
    char image[512];
    snprintf(image, sizeof image, "%s:%s", jstr(repo, "repositories.0.repositoryUri"), image_tag);
    json_decref(repo);
    snprintf(name, sizeof name, "/ecs/%s", app);
    json_t *lg = it_cloud_log_group(e, name);
    assert_non_null(lg);
    json_decref(lg);
    snprintf(name, sizeof name, "%s-exec", app);
    assert_true(cloud_role_exists(e, name));

    /* the service: its count, its target group, the task definition's image */
    json_t *cl = cloud_cluster(e, app);
    assert_non_null(cl);
    json_decref(cl);
    json_t *s = cloud_service(e, app, app);
    assert_non_null(s);
    assert_int_equal(jint(s, "desiredCount"), desired);
    assert_string_equal(jstr(s, "loadBalancers.0.targetGroupArn"), tg_arn);
    assert_string_equal(jstr(s, "loadBalancers.0.containerName"), "web");
    char *td_arn = strdup(jstr(s, "taskDefinition"));
    json_decref(s);
    json_t *td = cloud_task_definition(e, td_arn);
    assert_string_equal(jstr(td, "containerDefinitions.0.image"), image);
    assert_string_equal(jstr(td, "cpu"), "512");
    assert_string_equal(jstr(td, "requiresCompatibilities.0"), "FARGATE");
    assert_non_null(strstr(jstr(td, "executionRoleArn"), name));
    json_decref(td);
    json_decref(certs);
    free(lb), free(lb_arn), free(dns), free(zone), free(tg_arn), free(vpc_id);
    return td_arn;
}

static void check_by_hand_gone(it_env *e, const char *app, const char *domain)
{
    char name[96];
    char *x = it_ec2(e, "Action=DescribeVpcs&Filter.1.Name=tag:Name&Filter.1.Value.1=%s", app);
    assert_null(strstr(x, "<vpcId>"));
    free(x);
    json_t *certs = acm(e, "ListCertificates", json_object(), NULL);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(certs, "CertificateSummaryList"), i, c)
        assert_string_not_equal(jstr(c, "DomainName"), domain);
    json_decref(certs);
    snprintf(name, sizeof name, "%s-lb", app);
    assert_null(cloud_lb(e, name));
    snprintf(name, sizeof name, "%s-tg", app);
    assert_null(cloud_tg(e, name));
    char *zone = cloud_zone_id(e, domain);
    assert_null(zone);
    assert_false(cloud_repo_exists(e, app));
    snprintf(name, sizeof name, "/ecs/%s", app);
    assert_null(it_cloud_log_group(e, name));
    snprintf(name, sizeof name, "%s-exec", app);
    assert_false(cloud_role_exists(e, name));
    assert_null(cloud_service(e, app, app));
    assert_null(cloud_cluster(e, app));
    json_t *active = cloud_active_revisions(e, app);
    assert_int_equal(json_array_size(active), 0);
    json_decref(active);
}

static void test_by_hand(void **state)
{
    it_env *e = *state;
    char app[32], domain[96];
    snprintf(app, sizeof app, "shop%d", (int)getpid());
    snprintf(domain, sizeof domain, "%s.example.com", app);
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_route53')", 0, NULL));
    char *cert, *key;
    make_certificate(domain, &cert, &key);
    insert_by_hand(e, app, domain, cert, key);
    int planned = atoi(it_value(e, "SELECT count(*) FROM iasql_preview()"));
    assert_true(planned >= 22);
    assert_int_equal(commit_ok(e), planned);
    print_deploy(e, " by hand");
    fprintf(stderr, "it_app: by hand: %d resources in the first commit\n", planned);
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    char *rev1 = check_by_hand(e, app, domain, 2, "v1");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* the key went to ACM and nowhere else */
    char needle[80];
    const char *line = strstr(key, "\n");
    snprintf(needle, sizeof needle, "%.40s", line + 1);
    assert_int_equal(it_leaks(e, needle), 0);

    /* scaled */
    const char *p[] = {app};
    assert_true(it_ok(e, "UPDATE service SET desired_count = 4 WHERE service_name = $1", 1, p));
    assert_int_equal(commit_ok(e), 1);
    free(check_by_hand(e, app, domain, 4, "v1"));

    /* a new image: the service runs the new revision, the old one is deregistered */
    assert_true(it_ok(e, "UPDATE task_definition SET image_tag = 'v2' WHERE family = $1", 1, p));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "replace");
    commit_ok(e);
    char *rev2 = check_by_hand(e, app, domain, 4, "v2");
    assert_string_not_equal(rev1, rev2);
    json_t *td = cloud_task_definition(e, rev1);
    assert_string_equal(jstr(td, "status"), "INACTIVE");
    json_decref(td);
    json_t *active = cloud_active_revisions(e, app);
    assert_int_equal(json_array_size(active), 1);
    json_decref(active);

    /* back to the first commit */
    const char *f[] = {first};
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, f));
    char *rev3 = check_by_hand(e, app, domain, 2, "v1");
    assert_string_not_equal(rev3, rev2);
    td = cloud_task_definition(e, rev2);
    assert_string_equal(jstr(td, "status"), "INACTIVE");
    json_decref(td);
    active = cloud_active_revisions(e, app);
    assert_int_equal(json_array_size(active), 1);
    assert_string_equal(json_string_value(json_array_get(active, 0)), rev3);
    json_decref(active);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* everything deleted in one commit, children first */
    static const char *const drop[] = {
        "DELETE FROM service",
        "DELETE FROM task_definition",
        "DELETE FROM cluster",
        "DELETE FROM iam_role WHERE role_name = $1 || '-exec'",
        "DELETE FROM log_group WHERE log_group_name = '/ecs/' || $1",
        "DELETE FROM repository WHERE repository_name = $1",
        "DELETE FROM resource_record_set "
        "WHERE record_type = 'A'",
        "DELETE FROM hosted_zone",
        "DELETE FROM listener",
        "DELETE FROM load_balancer",
        "DELETE FROM target_group",
        "DELETE FROM certificate",
        "DELETE FROM security_group_rule WHERE security_group IN (SELECT id FROM security_group "
        "WHERE group_name LIKE $1 || '-%')",
        "DELETE FROM security_group WHERE group_name LIKE $1 || '-%'",
        "DELETE FROM vpc WHERE tags->>'Name' = $1"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        if (!it_ok(e, drop[i], strstr(drop[i], "$1") ? 1 : 0, p))
            fail_msg("refused: %s", drop[i]);
    commit_ok(e);
    check_by_hand_gone(e, app, domain);
    free(first), free(rev1), free(rev2), free(rev3), free(cert), free(key);
}

/* ------------------------------------------------------------ one row */

static char *default_vpc_id(it_env *e)
{
    char *x = it_ec2(e, "Action=DescribeVpcs&Filter.1.Name=is-default&Filter.1.Value.1=true");
    char *id = xml_dup(x, "vpcId");
    free(x);
    return id;
}

/* Everything the row deployed is in the cloud: desired tasks of image
 * image_tag. Returns the task definition ARN the service runs. */
static char *check_simplified(it_env *e, const char *app, const char *vpc_id, int desired,
                              const char *image_tag)
{
    char lb_name[64], tg_name[64], lb_group[64], task_group[64], role[96], logs[96];
    snprintf(lb_name, sizeof lb_name, "%s-lb", app);
    snprintf(tg_name, sizeof tg_name, "%s-tg", app);
    snprintf(lb_group, sizeof lb_group, "%s-lb", app);
    snprintf(task_group, sizeof task_group, "%s-tasks", app);
    snprintf(role, sizeof role, "%s-ecs-exec-us-east-1", app);
    snprintf(logs, sizeof logs, "/ecs/%s", app);

    /* the load balancer, its DNS name on the row */
    char *lb = cloud_lb(e, lb_name);
    assert_non_null(lb);
    assert_string_equal(it_xml_text(lb, "Scheme"), "internet-facing");
    assert_string_equal(it_xml_text(lb, "Type"), "application");
    assert_string_equal(it_xml_text(lb, "VpcId"), vpc_id);
    char *dns = xml_dup(lb, "DNSName");
    char *lb_arn = xml_dup(lb, "LoadBalancerArn");
    assert_true(it_count(lb, "<SubnetId>") >= 2);
    const char *p[] = {app};
    PGresult *r =
        it_sql(e, "SELECT load_balancer_dns FROM ecs_simplified WHERE app_name = $1", 1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), dns);
    PQclear(r);

    /* its group opens port 80 to the world; the tasks' group the container port to it */
    char *g = cloud_group(e, vpc_id, lb_group);
    assert_non_null(g);
    char *lb_group_id = xml_dup(g, "groupId");
    assert_non_null(strstr(lb, lb_group_id));
    assert_non_null(strstr(g, "<fromPort>80</fromPort>"));
    assert_non_null(strstr(g, "<cidrIp>0.0.0.0/0</cidrIp>"));
    free(g);
    g = cloud_group(e, vpc_id, task_group);
    assert_non_null(g);
    char *task_group_id = xml_dup(g, "groupId");
    assert_non_null(strstr(g, "<fromPort>8080</fromPort>"));
    char want[128];
    snprintf(want, sizeof want, "<groupId>%s</groupId>", lb_group_id);
    assert_non_null(strstr(strstr(g, "<ipPermissions>"), want));
    free(g);

    /* the target group (ip targets on the container port) and the listener to it */
    char *tg = cloud_tg(e, tg_name);
    assert_non_null(tg);
    assert_string_equal(it_xml_text(tg, "TargetType"), "ip");
    assert_string_equal(it_xml_text(tg, "Port"), "8080");
    assert_string_equal(it_xml_text(tg, "Protocol"), "HTTP");
    char *tg_arn = xml_dup(tg, "TargetGroupArn");
    free(tg);
    char *l = query(e, "elasticloadbalancing", NULL,
                    "Action=DescribeListeners&" ELB_VERSION "&LoadBalancerArn=%s", lb_arn);
    assert_string_equal(it_xml_text(l, "Port"), "80");
    assert_string_equal(it_xml_text(l, "Protocol"), "HTTP");
    assert_string_equal(it_xml_text(l, "Type"), "forward");
    assert_non_null(strstr(l, tg_arn));
    free(l);

    /* the execution role with AWS's policy, the log group, the repository */
    assert_true(cloud_role_exists(e, role));
    char *ap =
        query(e, "iam", NULL, "Action=ListAttachedRolePolicies&" IAM_VERSION "&RoleName=%s", role);
    assert_non_null(strstr(ap, EXEC_POLICY));
    free(ap);
    json_t *lg = it_cloud_log_group(e, logs);
    assert_non_null(lg);
    json_decref(lg);
    long st;
    json_t *repo =
        ecr(e, "DescribeRepositories", json_pack("{s:[s]}", "repositoryNames", app), &st);
    assert_int_equal(st, 200);
    char image[512];
    snprintf(image, sizeof image, "%s:%s", jstr(repo, "repositories.0.repositoryUri"), image_tag);
    json_decref(repo);

    /* the cluster and the service: its count, network, target group, revision */
    json_t *c = cloud_cluster(e, app);
    assert_non_null(c);
    json_decref(c);
    json_t *s = cloud_service(e, app, app);
    assert_non_null(s);
    assert_int_equal(jint(s, "desiredCount"), desired);
    assert_string_equal(jstr(s, "launchType"), "FARGATE");
    assert_string_equal(jstr(s, "loadBalancers.0.targetGroupArn"), tg_arn);
    assert_string_equal(jstr(s, "loadBalancers.0.containerName"), app);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(s, "loadBalancers"), 0), "containerPort")),
                     8080);
    assert_string_equal(jstr(s, "networkConfiguration.awsvpcConfiguration.assignPublicIp"),
                        "ENABLED");
    assert_string_equal(jstr(s, "networkConfiguration.awsvpcConfiguration.securityGroups.0"),
                        task_group_id);
    char *td_arn = strdup(jstr(s, "taskDefinition"));
    json_decref(s);
    json_t *td = cloud_task_definition(e, td_arn);
    assert_string_equal(jstr(td, "containerDefinitions.0.image"), image);
    assert_string_equal(jstr(td, "containerDefinitions.0.logConfiguration.logDriver"), "awslogs");
    assert_string_equal(jstr(td, "containerDefinitions.0.logConfiguration.options.awslogs-group"),
                        logs);
    assert_string_equal(jstr(td, "cpu"), "256");
    assert_string_equal(jstr(td, "memory"), "512");
    assert_string_equal(jstr(td, "networkMode"), "awsvpc");
    assert_non_null(strstr(jstr(td, "executionRoleArn"), role));
    json_decref(td);

    free(dns), free(lb_arn), free(lb), free(lb_group_id), free(task_group_id), free(tg_arn);
    return td_arn;
}

/* Nothing of the app is left in the cloud. */
static void check_simplified_gone(it_env *e, const char *app, const char *vpc_id)
{
    char name[96];
    snprintf(name, sizeof name, "%s-lb", app);
    assert_null(cloud_lb(e, name));
    snprintf(name, sizeof name, "%s-tg", app);
    assert_null(cloud_tg(e, name));
    snprintf(name, sizeof name, "%s-lb", app);
    assert_null(cloud_group(e, vpc_id, name));
    snprintf(name, sizeof name, "%s-tasks", app);
    assert_null(cloud_group(e, vpc_id, name));
    snprintf(name, sizeof name, "%s-ecs-exec-us-east-1", app);
    assert_false(cloud_role_exists(e, name));
    snprintf(name, sizeof name, "/ecs/%s", app);
    assert_null(it_cloud_log_group(e, name));
    assert_false(cloud_repo_exists(e, app));
    assert_null(cloud_service(e, app, app));
    assert_null(cloud_cluster(e, app));
    json_t *active = cloud_active_revisions(e, app);
    assert_int_equal(json_array_size(active), 0);
    json_decref(active);
}

static void test_one_row(void **state)
{
    it_env *e = *state;
    char app[32];
    snprintf(app, sizeof app, "web%d", (int)getpid());
    char *vpc_id = default_vpc_id(e);
    const char *p[] = {app};

    /* one INSERT, one commit */
    assert_true(it_ok(e,
                      "INSERT INTO ecs_simplified (app_name, container_port, image_tag, "
                      "environment) VALUES ($1, 8080, 'v1', '{\"MODE\": \"prod\"}')",
                      1, p));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "13");
    double t0 = it_now_s();
    assert_int_equal(commit_ok(e), 13);
    double wall = (it_now_s() - t0) * 1000.0;
    print_deploy(e, "");
    fprintf(stderr, "it_app: one-row deploy seen by the caller in %.0f ms\n", wall);
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    char *rev1 = check_simplified(e, app, vpc_id, 1, "v1");
    json_t *td = cloud_task_definition(e, rev1);
    assert_string_equal(jstr(td, "containerDefinitions.0.environment.0.name"), "MODE");
    assert_string_equal(jstr(td, "containerDefinitions.0.environment.0.value"), "prod");
    json_decref(td);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* scaled: the service in place */
    assert_true(it_ok(e, "UPDATE ecs_simplified SET desired_count = 3 WHERE app_name = $1", 1, p));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "update");
    assert_int_equal(commit_ok(e), 1);
    free(check_simplified(e, app, vpc_id, 3, "v1"));

    /* a new image: a new revision that the service runs, the old one deregistered */
    assert_true(it_ok(e, "UPDATE ecs_simplified SET image_tag = 'v2' WHERE app_name = $1", 1, p));
    commit_ok(e);
    char *rev2 = check_simplified(e, app, vpc_id, 3, "v2");
    assert_string_not_equal(rev2, rev1);
    td = cloud_task_definition(e, rev1);
    assert_string_equal(jstr(td, "status"), "INACTIVE");
    json_decref(td);
    json_t *active = cloud_active_revisions(e, app);
    assert_int_equal(json_array_size(active), 1);
    assert_string_equal(json_string_value(json_array_get(active, 0)), rev2);
    json_decref(active);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* back to the first commit: one task of the first image, in the cloud and on the row */
    const char *f[] = {first};
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, f));
    char *rev3 = check_simplified(e, app, vpc_id, 1, "v1");
    assert_string_not_equal(rev3, rev2);
    td = cloud_task_definition(e, rev2);
    assert_string_equal(jstr(td, "status"), "INACTIVE");
    json_decref(td);
    active = cloud_active_revisions(e, app);
    assert_int_equal(json_array_size(active), 1);
    assert_string_equal(json_string_value(json_array_get(active, 0)), rev3);
    json_decref(active);
    PGresult *r = it_sql(e,
                         "SELECT desired_count, image_tag, environment->>'MODE' FROM "
                         "ecs_simplified WHERE app_name = $1",
                         1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "1");
    assert_string_equal(PQgetvalue(r, 0, 1), "v1");
    assert_string_equal(PQgetvalue(r, 0, 2), "prod");
    PQclear(r);

    /* the row deleted, one commit takes everything down */
    assert_true(it_ok(e, "DELETE FROM ecs_simplified WHERE app_name = $1", 1, p));
    assert_string_equal(
        it_value(e, "SELECT count(*) FROM iasql_preview() WHERE action <> 'delete'"), "0");
    commit_ok(e);
    check_simplified_gone(e, app, vpc_id);
    r = it_sql(e, "SELECT count(*) FROM ecs_simplified WHERE app_name = $1", 1, p);
    assert_string_equal(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    free(first), free(rev1), free(rev2), free(rev3), free(vpc_id);
}

/* An app that is not public, of an image named outright: an internal load
 * balancer that only the VPC reaches, no repository. */
static void test_one_row_internal(void **state)
{
    it_env *e = *state;
    /* the longest name: every name made from it fits (APP-tg and APP-lb in 32) */
    char app[32], name[64];
    snprintf(app, sizeof app, "api%d-xxxxxxxxxxxxxxxxxxxxxxxxx", (int)getpid());
    app[29] = '\0';
    char *vpc_id = default_vpc_id(e);
    const char *p[] = {app};
    assert_true(it_ok(e,
                      "INSERT INTO ecs_simplified (app_name, container_port, repository_uri, "
                      "public, cpu, memory) VALUES ($1, 8080, 'public.ecr.aws/nginx/nginx:1.25', "
                      "false, 1024, 3072)",
                      1, p));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "12");
    assert_int_equal(commit_ok(e), 12);
    snprintf(name, sizeof name, "%s-lb", app);
    char *lb = cloud_lb(e, name);
    assert_non_null(lb);
    assert_string_equal(it_xml_text(lb, "Scheme"), "internal");
    free(lb);
    char *x = it_ec2(e, "Action=DescribeVpcs&VpcId.1=%s", vpc_id);
    char want[96];
    snprintf(want, sizeof want, "<cidrIp>%s</cidrIp>", it_xml_text(x, "cidrBlock"));
    free(x);
    char *g = cloud_group(e, vpc_id, name);
    assert_non_null(g);
    assert_non_null(strstr(g, want));
    /* the world only in the egress rule */
    const char *egress = strstr(g, "<ipPermissionsEgress>"), *world = strstr(g, "0.0.0.0/0");
    assert_true(!world || (egress && world > egress));
    free(g);
    assert_false(cloud_repo_exists(e, app));
    json_t *s = cloud_service(e, app, app);
    assert_non_null(s);
    json_t *td = cloud_task_definition(e, jstr(s, "taskDefinition"));
    assert_string_equal(jstr(td, "containerDefinitions.0.image"),
                        "public.ecr.aws/nginx/nginx:1.25");
    assert_string_equal(jstr(td, "cpu"), "1024");
    assert_string_equal(jstr(td, "memory"), "3072");
    json_decref(td), json_decref(s);
    PGresult *r = it_sql(e,
                         "SELECT repository_uri, image_tag, public, load_balancer_dns IS NOT NULL "
                         "FROM ecs_simplified WHERE app_name = $1",
                         1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "public.ecr.aws/nginx/nginx");
    assert_string_equal(PQgetvalue(r, 0, 1), "1.25");
    assert_string_equal(PQgetvalue(r, 0, 2), "f");
    assert_string_equal(PQgetvalue(r, 0, 3), "t");
    PQclear(r);
    /* drift: a count changed in the console shows on the row after a sync */
    json_decref(
        ecs(e, "UpdateService",
            json_pack("{s:s, s:s, s:i}", "cluster", app, "service", app, "desiredCount", 2)));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(
        it_valf(e, "SELECT desired_count FROM ecs_simplified WHERE app_name = '%s'", app), "2");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* imported: the modules uninstalled and installed again, the app is read
     * back from the cloud into the same row */
    assert_true(it_ok(e,
                      "SELECT * FROM iasql_uninstall('aws_ecs_simplified', 'aws_ecs_fargate', "
                      "'aws_elb')",
                      0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_ecs_simplified')", 0, NULL));
    r = it_sql(e,
               "SELECT repository_uri, image_tag, public, container_port, cpu, memory, "
               "desired_count, load_balancer_dns LIKE '%.elb.amazonaws.com' FROM ecs_simplified "
               "WHERE app_name = $1",
               1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "public.ecr.aws/nginx/nginx");
    assert_string_equal(PQgetvalue(r, 0, 1), "1.25");
    assert_string_equal(PQgetvalue(r, 0, 2), "f");
    assert_string_equal(PQgetvalue(r, 0, 3), "8080");
    assert_string_equal(PQgetvalue(r, 0, 4), "1024");
    assert_string_equal(PQgetvalue(r, 0, 5), "3072");
    assert_string_equal(PQgetvalue(r, 0, 6), "2");
    assert_string_equal(PQgetvalue(r, 0, 7), "t");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* a new tag of that image, a smaller size, another variable: one new revision */
    assert_true(it_ok(e,
                      "UPDATE ecs_simplified SET image_tag = '1.27', cpu = 512, memory = 1024, "
                      "environment = '{\"LOG_LEVEL\": \"debug\"}' WHERE app_name = $1",
                      1, p));
    /* the service is moved to the new revision; nothing else changes */
    assert_string_equal(it_value(e, "SELECT string_agg(action || ' ' || table_name, ', ' ORDER BY "
                                    "table_name) FROM iasql_preview()"),
                        "update service, replace task_definition");
    commit_ok(e);
    s = cloud_service(e, app, app);
    td = cloud_task_definition(e, jstr(s, "taskDefinition"));
    assert_string_equal(jstr(td, "containerDefinitions.0.image"),
                        "public.ecr.aws/nginx/nginx:1.27");
    assert_string_equal(jstr(td, "cpu"), "512");
    assert_string_equal(jstr(td, "memory"), "1024");
    assert_string_equal(jstr(td, "containerDefinitions.0.environment.0.name"), "LOG_LEVEL");
    assert_int_equal(jint(s, "desiredCount"), 2);
    json_decref(td), json_decref(s);
    assert_true(it_ok(e, "DELETE FROM ecs_simplified WHERE app_name = $1", 1, p));
    commit_ok(e);
    check_simplified_gone(e, app, vpc_id);
    free(vpc_id);
}

static void test_one_row_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO ecs_simplified (app_name, container_port) VALUES ('Web', 80)",
         "ecs_simplified_app_name_2_to_29_lowercase_alnum_or_hyphens"},
        {"INSERT INTO ecs_simplified (app_name, container_port) VALUES ('w', 80)",
         "ecs_simplified_app_name_2_to_29_lowercase_alnum_or_hyphens"},
        {"INSERT INTO ecs_simplified (app_name, container_port) VALUES ('web-', 80)",
         "ecs_simplified_app_name_2_to_29_lowercase_alnum_or_hyphens"},
        {"INSERT INTO ecs_simplified (app_name, container_port) VALUES "
         "('abcdefghijklmnopqrstuvwxyz1234', 80)",
         "ecs_simplified_app_name_2_to_29_lowercase_alnum_or_hyphens"},
        {"INSERT INTO ecs_simplified (app_name, container_port) VALUES ('internal-web', 80)",
         "ecs_simplified_app_name_not_internal"},
        {"INSERT INTO ecs_simplified (container_port) VALUES (80)",
         "ecs_simplified_app_name_2_to_29_lowercase_alnum_or_hyphens"},
        {"INSERT INTO ecs_simplified (app_name) VALUES ('web')",
         "ecs_simplified_container_port_1_to_65535"},
        {"INSERT INTO ecs_simplified (app_name, container_port) VALUES ('web', 70000)",
         "ecs_simplified_container_port_1_to_65535"},
        {"INSERT INTO ecs_simplified (app_name, container_port, desired_count) VALUES ('web', 80, "
         "-1)",
         "ecs_simplified_desired_count_0_to_5000"},
        {"INSERT INTO ecs_simplified (app_name, container_port, cpu) VALUES ('web', 80, 300)",
         "ecs_simplified_cpu_256_512_1024_2048_4096_8192_or_16384"},
        {"INSERT INTO ecs_simplified (app_name, container_port, cpu, memory) VALUES ('web', 80, "
         "256, 4096)",
         "ecs_simplified_cpu_memory_a_fargate_size"},
        {"INSERT INTO ecs_simplified (app_name, container_port, memory) VALUES ('web', 80, 100)",
         "ecs_simplified_memory_512_to_122880_mib"},
        {"INSERT INTO ecs_simplified (app_name, container_port, image_tag) VALUES ('web', 80, "
         "'-bad')",
         "ecs_simplified_image_tag_1_to_128_alnum_dot_underscore_hyphen"},
        {"INSERT INTO ecs_simplified (app_name, container_port, repository_uri, image_tag) VALUES "
         "('web', 80, 'nginx:1.25', '1.26')",
         "ecs_simplified_one_image_tag"},
        {"INSERT INTO ecs_simplified (app_name, container_port, repository_uri) VALUES ('web', 80, "
         "'nginx latest')",
         "ecs_simplified_repository_uri_an_image_up_to_255_characters"},
        {"INSERT INTO ecs_simplified (app_name, container_port, environment) VALUES ('web', 80, "
         "'{\"N\": 1}')",
         "ecs_simplified_environment_an_object_of_strings"},
        {"INSERT INTO ecs_simplified (app_name, container_port, public) VALUES ('web', 80, NULL)",
         "ecs_simplified_public_not_null"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"),
                        "0");
    /* an app in a region without a default VPC, and what cannot change */
    assert_true(
        it_ok(e, "UPDATE aws_regions SET is_enabled = true WHERE region = 'eu-west-3'", 0, NULL));
    const char *msg =
        it_sql_error(e, "INSERT INTO ecs_simplified (app_name, container_port, region) "
                        "VALUES ('web', 80, 'eu-west-3')");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "ecs_simplified_needs_the_default_vpc"));
    assert_true(it_ok(e,
                      "INSERT INTO ecs_simplified (app_name, container_port, repository_uri) "
                      "VALUES ('fixed', 80, 'nginx')",
                      0, NULL));
    msg = it_sql_error(e, "INSERT INTO ecs_simplified (app_name, container_port, repository_uri) "
                          "VALUES ('fixed', 81, 'nginx')");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "ecs_simplified_app_name_unique_in_region"));
    msg = it_sql_error(e, "UPDATE ecs_simplified SET container_port = 81");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "ecs_simplified_name_region_port_public_fixed"));
    msg = it_sql_error(e, "UPDATE ecs_simplified SET load_balancer_dns = 'x'");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "ecs_simplified_cloud_columns_read_only"));
    /* discarded: the rows it wrote go with it */
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM ecs_simplified WHERE app_name = 'fixed'"),
                        "0");
    /* the module goes and comes back: its view, functions and domains with it,
     * and the same rows (those of apps an earlier test may have left) */
    char *rows = it_strdup(it_value(e, "SELECT count(*) FROM ecs_simplified"));
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_ecs_simplified')", 0, NULL));
    assert_string_equal(
        it_value(e, "SELECT count(*) FROM pg_type WHERE typname LIKE 'ecs_simplified%'"), "0");
    assert_string_equal(
        it_value(e, "SELECT count(*) FROM pg_proc WHERE proname LIKE 'ecs_simplified%'"), "0");
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_ecs_simplified')", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM ecs_simplified"), rows);
    free(rows);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_row_internal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_row_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests_name("the application tier", tests, NULL, NULL);
}
