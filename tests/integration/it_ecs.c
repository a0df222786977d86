/* tests/integration/it_ecs.c — module aws_ecs_fargate (cluster,
 * task_definition, service) end to end against moto_server: a service
 * whose task definition runs an ECR repository's image, logs to a log
 * group and has an execution role, all made in one commit; updates in
 * place (Container Insights, tags, the desired count); the service behind
 * a target group of aws_elb; a new image tag,
 * which registers a new revision, moves the service to it and deregisters
 * the old one, in that order; a service replaced by a new name; a
 * rollback to the first commit; everything deleted in one commit; import
 * of what was made outside, drift brought back by a sync (a change, then
 * deletes); and bad input refused at INSERT. The cloud is read with plain
 * JSON-protocol HTTP, not through the engine's client or its tables. */
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

#define TRUST                                                                                      \
    "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": "        \
    "{\"Service\": \"ecs-tasks.amazonaws.com\"}, \"Action\": \"sts:AssumeRole\"}]}"
#define CONTAINERS                                                                                 \
    "[{\"name\": \"app\", \"portMappings\": [{\"containerPort\": 80}], \"environment\": "          \
    "[{\"name\": \"MODE\", \"value\": \"prod\"}]}, {\"name\": \"sidecar\", \"image\": "            \
    "\"public.ecr.aws/docker/library/busybox:1.36\", \"essential\": false, \"command\": "          \
    "[\"sleep\", \"3600\"]}]"

static char sfx[32];

static int setup(void **state)
{
    if (it_fixture(state, "ecs", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_ecs_fargate')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

/* One ECS call straight to the emulator: the decoded answer, and its status. */
static json_t *ecs(it_env *e, const char *op, json_t *body, long *status)
{
    char target[96];
    snprintf(target, sizeof target, "AmazonEC2ContainerServiceV20141113.%s", op);
    long st;
    json_t *j = it_aws_json(e, "ecs", "1.1", target, body, &st);
    if (status)
        *status = st;
    else if (st != 200)
        fail_msg("%s: HTTP %ld", op, st);
    return j;
}

static json_t *cloud_cluster(it_env *e, const char *name)
{
    json_t *r =
        ecs(e, "DescribeClusters",
            json_pack("{s:[s], s:[s, s]}", "clusters", name, "include", "TAGS", "SETTINGS"), NULL);
    json_t *c = json_incref(json_array_get(json_object_get(r, "clusters"), 0));
    json_decref(r);
    return c;
}

/* The task definition (family:revision or ARN) and its tags under "tags". */
static json_t *cloud_td(it_env *e, const char *which)
{
    long st;
    json_t *r = ecs(e, "DescribeTaskDefinition",
                    json_pack("{s:s, s:[s]}", "taskDefinition", which, "include", "TAGS"), &st);
    json_t *td = st == 200 ? json_incref(json_object_get(r, "taskDefinition")) : NULL;
    if (td)
        json_object_set(td, "tags", json_object_get(r, "tags"));
    json_decref(r);
    return td;
}

static json_t *cloud_service(it_env *e, const char *cluster, const char *name)
{
    json_t *r = ecs(
        e, "DescribeServices",
        json_pack("{s:s, s:[s], s:[s]}", "cluster", cluster, "services", name, "include", "TAGS"),
        NULL);
    json_t *s = json_incref(json_array_get(json_object_get(r, "services"), 0));
    json_decref(r);
    return s;
}

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* The value of key in an ECS tag list ([{"key": k, "value": v}]), or "". */
static const char *tag_of(const json_t *list, const char *key)
{
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        if (str(t, "key") && strcmp(str(t, "key"), key) == 0)
            return str(t, "value");
    }
    return "";
}

static const char *insights_of(const json_t *cluster)
{
    return str(json_array_get(json_object_get(cluster, "settings"), 0), "value");
}

/* The container named name of a task definition. */
static const json_t *container(const json_t *td, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(td, "containerDefinitions"), i, c)
    {
        if (strcmp(str(c, "name"), name) == 0)
            return c;
    }
    fail_msg("no container %s", name);
    return NULL;
}

/* The subnet id EC2 has for a CIDR block (copied). */
static char *subnet_id_of(it_env *e, const char *cidr)
{
    char *xml =
        it_ec2(e, "Action=DescribeSubnets&Filter.1.Name=cidr-block&Filter.1.Value.1=%s", cidr);
    char *id = it_strdup(it_xml_text(xml, "subnetId"));
    free(xml);
    return id;
}

/* The ARN ELB has for a target group (copied). */
static char *target_group_arn(it_env *e, const char *name)
{
    char form[256];
    snprintf(form, sizeof form, "Version=2015-12-01&Action=DescribeTargetGroups&Names.member.1=%s",
             name);
    const char *out;
    assert_int_equal(it_aws_query(e, "elasticloadbalancing", form, &out), 200);
    return it_strdup(it_xml_text(out, "TargetGroupArn"));
}

/* The target group is gone: DescribeTargetGroups refuses its name. */
static char *xml_tg_gone(it_env *e, const char *name)
{
    char form[256];
    snprintf(form, sizeof form, "Version=2015-12-01&Action=DescribeTargetGroups&Names.member.1=%s",
             name);
    const char *out;
    assert_int_not_equal(it_aws_query(e, "elasticloadbalancing", form, &out), 200);
    return strdup(out ? out : "");
}

/* The plan's graph has an edge from the node of (table, step) to that of
 * (table2, step2). */
static bool graph_edge(const json_t *g, const char *table, const char *step, const char *table2,
                       const char *step2)
{
    json_int_t a = -1, b = -1;
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(g, "nodes"), i, n)
    {
        if (strcmp(str(n, "table"), table) == 0 && strcmp(str(n, "step"), step) == 0)
            a = json_integer_value(json_object_get(n, "node"));
        if (strcmp(str(n, "table"), table2) == 0 && strcmp(str(n, "step"), step2) == 0)
            b = json_integer_value(json_object_get(n, "node"));
    }
    json_t *edge;
    json_array_foreach(json_object_get(g, "edges"), i, edge)
    {
        if (json_integer_value(json_array_get(edge, 0)) == a &&
            json_integer_value(json_array_get(edge, 1)) == b)
            return a >= 0 && b >= 0;
    }
    return false;
}

/* Commits and expects no failure; returns how many rows had action. */
static int commit_counting(it_env *e, const char *action)
{
    PGresult *r = it_sql(e, "SELECT action, description FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    int n = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        if (strstr(PQgetvalue(r, i, 1), "failed"))
            fail_msg("%s: %s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        n += strcmp(PQgetvalue(r, i, 0), action) == 0;
    }
    PQclear(r);
    return n;
}

static void test_ecs_lifecycle(void **state)
{
    it_env *e = *state;
    char cl[64], fam[64], svc[64], svc2[64], repo[64], group[64], role[64];
    snprintf(cl, sizeof cl, "web-%s", sfx);
    snprintf(fam, sizeof fam, "app-%s", sfx);
    snprintf(svc, sizeof svc, "front-%s", sfx);
    snprintf(svc2, sizeof svc2, "front2-%s", sfx);
    snprintf(repo, sizeof repo, "team/app-%s", sfx);
    snprintf(group, sizeof group, "/ecs/app-%s", sfx);
    snprintf(role, sizeof role, "exec-%s", sfx);

    /* a cluster of that name exists already (an earlier attempt's): the
     * create takes it and brings it to the row */
    json_decref(ecs(e, "CreateCluster", json_pack("{s:s}", "clusterName", cl), NULL));

    /* everything in one commit */
    assert_true(it_okf(e,
                       "INSERT INTO iam_role (role_name, assume_role_policy_document) "
                       "VALUES ('%s', '" TRUST "')",
                       role));
    assert_true(it_okf(e, "INSERT INTO repository (repository_name) VALUES ('%s')", repo));
    assert_true(it_okf(e, "INSERT INTO log_group (log_group_name) VALUES ('%s')", group));
    assert_true(it_okf(e,
                       "INSERT INTO vpc (cidr_block, tags) VALUES ('10.77.0.0/16', "
                       "'{\"Name\": \"%s\"}')",
                       cl));
    assert_true(it_okf(e,
                       "INSERT INTO subnet (vpc, cidr_block, availability_zone) SELECT id, "
                       "'10.77.1.0/24', 'us-east-1a' FROM vpc WHERE tags->>'Name' = '%s'",
                       cl));
    assert_true(it_okf(e,
                       "INSERT INTO security_group (group_name, description, vpc) SELECT '%s', "
                       "'web tasks', id FROM vpc WHERE tags->>'Name' = '%s'",
                       cl, cl));
    assert_true(it_okf(e,
                       "INSERT INTO target_group (target_group_name, target_type, protocol, port, "
                       "vpc) SELECT 'tg-%s', 'ip', 'HTTP', 80, id FROM vpc WHERE tags->>'Name' = "
                       "'%s'",
                       sfx, cl));
    assert_true(it_okf(e,
                       "INSERT INTO cluster (cluster_name, container_insights, tags) VALUES ('%s', "
                       "'enabled', '{\"team\": \"a\"}')",
                       cl));
    assert_true(it_okf(
        e,
        "INSERT INTO task_definition (family, cpu, memory, execution_role, task_role, containers, "
        "repository, image_tag, log_group, log_stream_prefix, tags) SELECT '%s', 512, 1024, r.id, "
        "r.id, '" CONTAINERS "', p.id, 'v1', g.id, 'app', '{\"team\": \"a\"}' FROM iam_role r, "
        "repository p, log_group g WHERE r.role_name = '%s' AND p.repository_name = '%s' AND "
        "g.log_group_name = '%s'",
        fam, role, repo, group));
    assert_true(
        it_okf(e,
               "INSERT INTO service (service_name, cluster, task_definition, desired_count, "
               "subnets, security_groups, assign_public_ip, target_group, container_name, "
               "container_port, tags) SELECT '%s', c.id, t.id, 2, ARRAY[s.id], ARRAY[g.id], "
               "'ENABLED', b.id, 'app', 80, '{\"team\": \"a\"}' FROM cluster c, "
               "task_definition t, subnet s, security_group g, target_group b WHERE "
               "c.cluster_name = '%s' AND t.family = '%s' AND s.cidr_block = "
               "'10.77.1.0/24' AND g.group_name = '%s' AND b.target_group_name = 'tg-%s'",
               svc, cl, fam, cl, sfx));
    assert_true(commit_counting(e, "create") >= 10);
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));

    json_t *c = cloud_cluster(e, cl);
    assert_string_equal(str(c, "status"), "ACTIVE");
    assert_string_equal(insights_of(c), "enabled");
    assert_string_equal(tag_of(json_object_get(c, "tags"), "team"), "a");
    char *dbid = it_database_id(e);
    assert_string_equal(tag_of(json_object_get(c, "tags"), "iasql:owner"), dbid);

    /* the image is the repository's URI at the tag; the logs go to the group */
    json_t *r =
        it_aws_json(e, "ecr", "1.1", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
                    json_pack("{s:[s]}", "repositoryNames", repo), NULL);
    char image[512];
    snprintf(image, sizeof image, "%s:v1",
             str(json_array_get(json_object_get(r, "repositories"), 0), "repositoryUri"));
    json_decref(r);
    char fam1[96];
    snprintf(fam1, sizeof fam1, "%s:1", fam);
    json_t *td = cloud_td(e, fam1);
    assert_non_null(td);
    assert_string_equal(str(td, "status"), "ACTIVE");
    assert_string_equal(str(td, "cpu"), "512");
    assert_string_equal(str(td, "memory"), "1024");
    assert_string_equal(str(td, "networkMode"), "awsvpc");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(td, "requiresCompatibilities"), 0)),
        "FARGATE");
    char role_arn[160];
    snprintf(role_arn, sizeof role_arn, ":role/%s", role);
    assert_non_null(strstr(str(td, "executionRoleArn"), role_arn));
    assert_non_null(strstr(str(td, "taskRoleArn"), role_arn));
    const json_t *app = container(td, "app"), *side = container(td, "sidecar");
    assert_string_equal(str(app, "image"), image);
    const json_t *opts = json_object_get(json_object_get(app, "logConfiguration"), "options");
    assert_string_equal(str(json_object_get(app, "logConfiguration"), "logDriver"), "awslogs");
    assert_string_equal(str(opts, "awslogs-group"), group);
    assert_string_equal(str(opts, "awslogs-region"), "us-east-1");
    assert_string_equal(str(opts, "awslogs-stream-prefix"), "app");
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(app, "portMappings"), 0), "containerPort")),
                     80);
    assert_string_equal(str(json_array_get(json_object_get(app, "environment"), 0), "value"),
                        "prod");
    assert_string_equal(str(side, "image"), "public.ecr.aws/docker/library/busybox:1.36");
    assert_true(json_is_false(json_object_get(side, "essential")));
    assert_string_equal(tag_of(json_object_get(td, "tags"), "team"), "a");
    assert_string_equal(tag_of(json_object_get(td, "tags"), "iasql:owner"), dbid);
    char *td1_arn = it_strdup(str(td, "taskDefinitionArn"));
    json_decref(td);

    json_t *s = cloud_service(e, cl, svc);
    assert_string_equal(str(s, "status"), "ACTIVE");
    assert_string_equal(str(s, "taskDefinition"), td1_arn);
    assert_int_equal(json_integer_value(json_object_get(s, "desiredCount")), 2);
    assert_string_equal(str(s, "launchType"), "FARGATE");
    const json_t *vpc =
        json_object_get(json_object_get(s, "networkConfiguration"), "awsvpcConfiguration");
    char *subnet = subnet_id_of(e, "10.77.1.0/24");
    assert_string_equal(json_string_value(json_array_get(json_object_get(vpc, "subnets"), 0)),
                        subnet);
    assert_int_equal(json_array_size(json_object_get(vpc, "securityGroups")), 1);
    assert_string_equal(str(vpc, "assignPublicIp"), "ENABLED");
    assert_string_equal(tag_of(json_object_get(s, "tags"), "team"), "a");
    /* behind the target group, through the container's port */
    char tg[64];
    snprintf(tg, sizeof tg, "tg-%s", sfx);
    char *tg_arn = target_group_arn(e, tg);
    const json_t *lb = json_array_get(json_object_get(s, "loadBalancers"), 0);
    assert_string_equal(str(lb, "targetGroupArn"), tg_arn);
    assert_string_equal(str(lb, "containerName"), "app");
    assert_int_equal(json_integer_value(json_object_get(lb, "containerPort")), 80);
    /* written back: the ARNs, the revision, the status */
    const char *wb[] = {str(c, "clusterArn"), td1_arn, str(s, "serviceArn")};
    PGresult *res = it_sql(e,
                           "SELECT (SELECT cluster_arn = $1 FROM cluster), (SELECT "
                           "task_definition_arn = $2 AND revision = 1 FROM task_definition), "
                           "(SELECT service_arn = $3 AND status = 'ACTIVE' FROM service)",
                           3, wb);
    assert_string_equal(PQgetvalue(res, 0, 0), "t");
    assert_string_equal(PQgetvalue(res, 0, 1), "t");
    assert_string_equal(PQgetvalue(res, 0, 2), "t");
    PQclear(res);
    json_decref(c);
    json_decref(s);
    /* the container a target group sends to is one of the task definition's */
    const char *why = it_sql_error(e, "UPDATE service SET container_name = 'nope'");
    assert_non_null(why);
    assert_non_null(strstr(why, "service_container_name_of_its_task_definition"));
    /* what the cloud lists is what the rows say */
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_string_equal(it_value(e, "SELECT containers = '" CONTAINERS "' FROM task_definition"),
                        "t");

    /* in place: Container Insights and tags, the desired count, a task
     * definition's tags */
    assert_true(it_ok(e,
                      "UPDATE cluster SET container_insights = 'disabled', tags = '{\"team\": "
                      "\"b\"}'",
                      0, NULL));
    assert_true(it_ok(e, "UPDATE service SET desired_count = 3", 0, NULL));
    assert_true(it_ok(e, "UPDATE task_definition SET tags = '{\"team\": \"b\"}'", 0, NULL));
    it_expect_commit(e, 3, "update");
    c = cloud_cluster(e, cl);
    assert_string_equal(insights_of(c), "disabled");
    assert_string_equal(tag_of(json_object_get(c, "tags"), "team"), "b");
    json_decref(c);
    s = cloud_service(e, cl, svc);
    assert_int_equal(json_integer_value(json_object_get(s, "desiredCount")), 3);
    assert_string_equal(str(s, "taskDefinition"), td1_arn);
    json_decref(s);
    td = cloud_td(e, td1_arn);
    assert_string_equal(tag_of(json_object_get(td, "tags"), "team"), "b");
    json_decref(td);

    /* a new image tag: a new revision, the service moved to it, then the
     * old revision deregistered */
    assert_true(it_ok(e, "UPDATE task_definition SET image_tag = 'v2'", 0, NULL));
    res = it_sql(e, "SELECT action, table_name FROM iasql_preview() ORDER BY table_name", 0, NULL);
    assert_int_equal(PQntuples(res), 2);
    assert_string_equal(PQgetvalue(res, 0, 0), "update");
    assert_string_equal(PQgetvalue(res, 0, 1), "service");
    assert_string_equal(PQgetvalue(res, 1, 0), "replace");
    assert_string_equal(PQgetvalue(res, 1, 1), "task_definition");
    PQclear(res);
    json_t *g = json_loads(it_value(e, "SELECT iasql_preview_graph()"), 0, NULL);
    assert_true(graph_edge(g, "task_definition", "create", "service", "update"));
    assert_true(graph_edge(g, "service", "update", "task_definition", "delete"));
    assert_true(graph_edge(g, "task_definition", "create", "task_definition", "delete"));
    assert_false(graph_edge(g, "task_definition", "delete", "task_definition", "create"));
    json_decref(g);
    res = it_sql(e, "SELECT action, table_name FROM iasql_commit() ORDER BY table_name", 0, NULL);
    assert_int_equal(PQntuples(res), 2);
    assert_string_equal(PQgetvalue(res, 1, 0), "replace");
    PQclear(res);
    char fam2[96];
    snprintf(fam2, sizeof fam2, "%s:2", fam);
    td = cloud_td(e, fam2);
    assert_string_equal(str(td, "status"), "ACTIVE");
    snprintf(image + strlen(image) - 2, 3, "v2");
    assert_string_equal(str(container(td, "app"), "image"), image);
    char *td2_arn = it_strdup(str(td, "taskDefinitionArn"));
    json_decref(td);
    td = cloud_td(e, td1_arn);
    assert_string_equal(str(td, "status"), "INACTIVE");
    json_decref(td);
    s = cloud_service(e, cl, svc);
    assert_string_equal(str(s, "taskDefinition"), td2_arn);
    assert_int_equal(json_integer_value(json_object_get(s, "desiredCount")), 3);
    json_decref(s);
    const char *p2[] = {td2_arn};
    res = it_sql(e,
                 "SELECT count(*) FROM task_definition WHERE task_definition_arn = $1 AND "
                 "revision = 2",
                 1, p2);
    assert_string_equal(PQgetvalue(res, 0, 0), "1");
    PQclear(res);

    /* so does a new load balancer (shown, then discarded) */
    assert_true(it_ok(e, "UPDATE service SET container_port = 8080", 0, NULL));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "replace");
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* a new name replaces the service */
    assert_true(it_okf(e, "UPDATE service SET service_name = '%s'", svc2));
    it_expect_commit(e, 1, "replace");
    s = cloud_service(e, cl, svc);
    assert_string_equal(str(s, "status"), "INACTIVE");
    json_decref(s);
    s = cloud_service(e, cl, svc2);
    assert_string_equal(str(s, "status"), "ACTIVE");
    assert_string_equal(str(s, "taskDefinition"), td2_arn);
    assert_string_equal(
        str(json_array_get(json_object_get(s, "loadBalancers"), 0), "targetGroupArn"), tg_arn);
    json_decref(s);

    /* back to the first commit: the first name and count, the first
     * image (a revision of its own: revisions never change) */
    const char *f[] = {first};
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, f));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    s = cloud_service(e, cl, svc2);
    assert_string_equal(str(s, "status"), "INACTIVE");
    json_decref(s);
    s = cloud_service(e, cl, svc);
    assert_string_equal(str(s, "status"), "ACTIVE");
    assert_int_equal(json_integer_value(json_object_get(s, "desiredCount")), 2);
    td = cloud_td(e, str(s, "taskDefinition"));
    snprintf(image + strlen(image) - 2, 3, "v1");
    assert_string_equal(str(container(td, "app"), "image"), image);
    assert_string_equal(str(td, "status"), "ACTIVE");
    json_decref(td);
    json_decref(s);
    td = cloud_td(e, td2_arn);
    assert_string_equal(str(td, "status"), "INACTIVE");
    json_decref(td);
    c = cloud_cluster(e, cl);
    assert_string_equal(insights_of(c), "enabled");
    json_decref(c);

    /* everything deleted in one commit */
    assert_true(it_ok(e, "DELETE FROM service", 0, NULL));
    assert_true(it_ok(e, "DELETE FROM task_definition", 0, NULL));
    assert_true(it_okf(e, "DELETE FROM cluster WHERE cluster_name = '%s'", cl));
    assert_true(it_okf(e, "DELETE FROM iam_role WHERE role_name = '%s'", role));
    assert_true(it_okf(e, "DELETE FROM repository WHERE repository_name = '%s'", repo));
    assert_true(it_okf(e, "DELETE FROM log_group WHERE log_group_name = '%s'", group));
    assert_true(it_okf(e, "DELETE FROM target_group WHERE target_group_name = '%s'", tg));
    assert_true(it_okf(e, "DELETE FROM security_group WHERE group_name = '%s'", cl));
    assert_true(it_ok(e, "DELETE FROM subnet WHERE cidr_block = '10.77.1.0/24'", 0, NULL));
    assert_true(it_okf(e, "DELETE FROM vpc WHERE tags->>'Name' = '%s'", cl));
    assert_true(commit_counting(e, "delete") >= 10);
    s = cloud_service(e, cl, svc);
    assert_string_equal(str(s, "status"), "INACTIVE");
    assert_int_equal(json_integer_value(json_object_get(s, "desiredCount")), 0);
    json_decref(s);
    c = cloud_cluster(e, cl);
    assert_string_equal(str(c, "status"), "INACTIVE");
    json_decref(c);
    json_t *l = ecs(e, "ListTaskDefinitions",
                    json_pack("{s:s, s:s}", "familyPrefix", fam, "status", "ACTIVE"), NULL);
    assert_int_equal(json_array_size(json_object_get(l, "taskDefinitionArns")), 0);
    json_decref(l);
    free(xml_tg_gone(e, tg));
    free(first), free(dbid), free(td1_arn), free(td2_arn), free(subnet), free(tg_arn);
}

/* How many revisions of family ECS holds ACTIVE. */
static size_t active_revisions(it_env *e, const char *family)
{
    json_t *l = ecs(e, "ListTaskDefinitions",
                    json_pack("{s:s, s:s}", "familyPrefix", family, "status", "ACTIVE"), NULL);
    size_t n = json_array_size(json_object_get(l, "taskDefinitionArns"));
    json_decref(l);
    return n;
}

/* A new revision whose service cannot be moved (another database's, by its
 * owner tag): the old revision stays, the action fails and the row stays
 * pending. Once the service is ours again, the next commit deregisters
 * the revision left over (found by its token), registers the row's anew,
 * moves the service and deregisters the old one. */
static void test_ecs_new_revision_retried(void **state)
{
    it_env *e = *state;
    char cl[64], fam[64], svc[64];
    snprintf(cl, sizeof cl, "retry-%s", sfx);
    snprintf(fam, sizeof fam, "retry-%s", sfx);
    snprintf(svc, sizeof svc, "retry-%s", sfx);
    assert_true(it_okf(e, "INSERT INTO cluster (cluster_name) VALUES ('%s')", cl));
    assert_true(it_okf(e,
                       "INSERT INTO task_definition (family, containers) VALUES ('%s', "
                       "'[{\"name\": \"web\", \"image\": \"nginx:1.26\"}]')",
                       fam));
    assert_true(it_okf(e,
                       "INSERT INTO service (service_name, cluster, task_definition, subnets) "
                       "SELECT '%s', c.id, t.id, ARRAY[(SELECT min(id) FROM subnet WHERE "
                       "default_for_az)] FROM cluster c, task_definition t WHERE c.cluster_name = "
                       "'%s' AND t.family = '%s'",
                       svc, cl, fam));
    it_expect_commit(e, 3, "create");
    char fam1[96], fam2[96], fam3[96];
    snprintf(fam1, sizeof fam1, "%s:1", fam);
    snprintf(fam2, sizeof fam2, "%s:2", fam);
    snprintf(fam3, sizeof fam3, "%s:3", fam);
    json_t *td = cloud_td(e, fam1);
    char *rev1 = it_strdup(str(td, "taskDefinitionArn"));
    json_decref(td);
    json_t *s = cloud_service(e, cl, svc);
    char *svc_arn = it_strdup(str(s, "serviceArn"));
    json_decref(s);
    json_decref(ecs(e, "TagResource",
                    json_pack("{s:s, s:[{s:s, s:s}]}", "resourceArn", svc_arn, "tags", "key",
                              "iasql:owner", "value", "db-other"),
                    NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));

    assert_true(it_ok(e,
                      "UPDATE task_definition SET containers = '[{\"name\": \"web\", "
                      "\"image\": \"nginx:1.27\"}]'",
                      0, NULL));
    PGresult *r =
        it_sql(e, "SELECT table_name, description FROM iasql_commit() ORDER BY 1", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 0), "service");
    assert_non_null(strstr(PQgetvalue(r, 0, 1), "db-other"));
    assert_string_equal(PQgetvalue(r, 1, 0), "task_definition");
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "failed"));
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "the new one was made beside the old one"));
    PQclear(r);
    /* both revisions are there, the service still runs the first */
    td = cloud_td(e, fam2);
    assert_string_equal(str(td, "status"), "ACTIVE");
    assert_string_equal(str(container(td, "web"), "image"), "nginx:1.27");
    json_decref(td);
    assert_int_equal(active_revisions(e, fam), 2);
    s = cloud_service(e, cl, svc);
    assert_string_equal(str(s, "taskDefinition"), rev1);
    json_decref(s);
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview() WHERE table_name = "
                                    "'task_definition'"),
                        "replace");

    /* ours again; a sync lists the revision left beside the old one as a
     * row of its own */
    json_decref(ecs(e, "UntagResource",
                    json_pack("{s:s, s:[s]}", "resourceArn", svc_arn, "tagKeys", "iasql:owner"),
                    NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    const char *p[] = {fam};
    r = it_sql(e, "SELECT count(*) FROM task_definition WHERE family = $1", 1, p);
    assert_string_equal(PQgetvalue(r, 0, 0), "2");
    PQclear(r);
    /* the next commit deregisters that revision (found by its token),
     * registers the row's again, moves the service, deregisters the old */
    r = it_sql(e, "SELECT action, table_name FROM iasql_commit() ORDER BY 2", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 0), "update");
    assert_string_equal(PQgetvalue(r, 1, 0), "replace");
    PQclear(r);
    td = cloud_td(e, fam2);
    assert_string_equal(str(td, "status"), "INACTIVE");
    json_decref(td);
    td = cloud_td(e, fam3);
    assert_string_equal(str(td, "status"), "ACTIVE");
    assert_string_equal(str(container(td, "web"), "image"), "nginx:1.27");
    char *rev3 = it_strdup(str(td, "taskDefinitionArn"));
    json_decref(td);
    s = cloud_service(e, cl, svc);
    assert_string_equal(str(s, "taskDefinition"), rev3);
    json_decref(s);
    td = cloud_td(e, rev1);
    assert_string_equal(str(td, "status"), "INACTIVE");
    json_decref(td);
    assert_int_equal(active_revisions(e, fam), 1);
    /* and the next sync takes the leftover's row away */
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    const char *q[] = {fam, rev3};
    r = it_sql(e,
               "SELECT count(*), bool_and(task_definition_arn = $2 AND revision = 3) FROM "
               "task_definition WHERE family = $1",
               2, q);
    assert_string_equal(PQgetvalue(r, 0, 0), "1");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    assert_true(it_ok(e, "DELETE FROM service", 0, NULL));
    assert_true(it_ok(e, "DELETE FROM task_definition", 0, NULL));
    assert_true(it_okf(e, "DELETE FROM cluster WHERE cluster_name = '%s'", cl));
    it_expect_commit(e, 3, "delete");
    assert_int_equal(active_revisions(e, fam), 0);
    free(rev1), free(rev3), free(svc_arn);
}

static void test_ecs_import_and_drift(void **state)
{
    it_env *e = *state;
    char cl[64], fam[64], svc[64];
    snprintf(cl, sizeof cl, "console-%s", sfx);
    snprintf(fam, sizeof fam, "console-%s", sfx);
    snprintf(svc, sizeof svc, "console-%s", sfx);
    char *xml =
        it_ec2(e, "Action=DescribeSubnets&Filter.1.Name=default-for-az&Filter.1.Value.1=true");
    char *subnet = it_strdup(it_xml_text(xml, "subnetId"));
    free(xml);
    json_decref(ecs(e, "CreateCluster",
                    json_pack("{s:s, s:[{s:s, s:s}]}", "clusterName", cl, "tags", "key", "by",
                              "value", "console"),
                    NULL));
    json_t *r =
        ecs(e, "RegisterTaskDefinition",
            json_pack("{s:s, s:s, s:[s], s:s, s:s, s:[{s:s, s:s, s:b, s:[{s:i, s:i, s:s}]}]}",
                      "family", fam, "networkMode", "awsvpc", "requiresCompatibilities", "FARGATE",
                      "cpu", "256", "memory", "512", "containerDefinitions", "name", "web", "image",
                      "nginx:1.27", "essential", 1, "portMappings", "containerPort", 80, "hostPort",
                      80, "protocol", "tcp"),
            NULL);
    char *arn = it_strdup(str(json_object_get(r, "taskDefinition"), "taskDefinitionArn"));
    json_decref(r);
    json_decref(
        ecs(e, "CreateService",
            json_pack("{s:s, s:s, s:s, s:i, s:s, s:{s:{s:[s], s:[], s:s}}}", "cluster", cl,
                      "serviceName", svc, "taskDefinition", arn, "desiredCount", 1, "launchType",
                      "FARGATE", "networkConfiguration", "awsvpcConfiguration", "subnets", subnet,
                      "securityGroups", "assignPublicIp", "DISABLED"),
            NULL));

    /* reinstall: what the cloud has is imported, in ECS's defaults left out */
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_ecs_fargate')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_ecs_fargate')", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    const char *p[] = {cl, fam, svc, subnet, arn};
    PGresult *q = it_sql(e,
                         "SELECT c.tags->>'by', t.cpu, t.memory, t.containers = "
                         "'[{\"name\": \"web\", \"image\": \"nginx:1.27\", \"portMappings\": "
                         "[{\"containerPort\": 80}]}]', s.desired_count, s.task_definition = t.id, "
                         "s.subnets = ARRAY[n.id], t.task_definition_arn = $5 FROM cluster c, "
                         "task_definition t, service s, subnet n WHERE c.cluster_name = $1 AND "
                         "t.family = $2 AND s.service_name = $3 AND s.cluster = c.id AND "
                         "n.subnet_id = $4",
                         5, p);
    assert_int_equal(PQntuples(q), 1);
    assert_string_equal(PQgetvalue(q, 0, 0), "console");
    assert_string_equal(PQgetvalue(q, 0, 1), "256");
    assert_string_equal(PQgetvalue(q, 0, 2), "512");
    assert_string_equal(PQgetvalue(q, 0, 3), "t");
    assert_string_equal(PQgetvalue(q, 0, 4), "1");
    assert_string_equal(PQgetvalue(q, 0, 5), "t");
    assert_string_equal(PQgetvalue(q, 0, 6), "t");
    assert_string_equal(PQgetvalue(q, 0, 7), "t");
    PQclear(q);

    /* changed in the console: a sync brings it into the rows */
    json_decref(ecs(e, "UpdateService",
                    json_pack("{s:s, s:s, s:i}", "cluster", cl, "service", svc, "desiredCount", 4),
                    NULL));
    json_t *c = cloud_cluster(e, cl);
    json_decref(ecs(e, "TagResource",
                    json_pack("{s:s, s:[{s:s, s:s}]}", "resourceArn", str(c, "clusterArn"), "tags",
                              "key", "env", "value", "dev"),
                    NULL));
    json_decref(c);
    json_decref(ecs(e, "TagResource",
                    json_pack("{s:s, s:[{s:s, s:s}]}", "resourceArn", arn, "tags", "key", "env",
                              "value", "prod"),
                    NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    q = it_sql(e,
               "SELECT (SELECT desired_count FROM service WHERE service_name = $3), (SELECT "
               "tags->>'env' FROM cluster WHERE cluster_name = $1), (SELECT tags->>'env' FROM "
               "task_definition WHERE family = $2)",
               3, p);
    assert_string_equal(PQgetvalue(q, 0, 0), "4");
    assert_string_equal(PQgetvalue(q, 0, 1), "dev");
    assert_string_equal(PQgetvalue(q, 0, 2), "prod");
    PQclear(q);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* deleted in the console: a sync removes the rows */
    json_decref(ecs(e, "DeleteService",
                    json_pack("{s:s, s:s, s:b}", "cluster", cl, "service", svc, "force", 1), NULL));
    json_decref(
        ecs(e, "DeregisterTaskDefinition", json_pack("{s:s}", "taskDefinition", arn), NULL));
    json_decref(ecs(e, "DeleteCluster", json_pack("{s:s}", "cluster", cl), NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    q = it_sql(e,
               "SELECT (SELECT count(*) FROM cluster WHERE cluster_name = $1), (SELECT count(*) "
               "FROM task_definition WHERE family = $2), (SELECT count(*) FROM service WHERE "
               "service_name = $3)",
               3, p);
    assert_string_equal(PQgetvalue(q, 0, 0), "0");
    assert_string_equal(PQgetvalue(q, 0, 1), "0");
    assert_string_equal(PQgetvalue(q, 0, 2), "0");
    PQclear(q);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    free(subnet), free(arn);
}

/* The poller's rotation (--poll 1 --poll-deep 5: four slots): a quiet poll of the task
 * definitions costs the ListTaskDefinitions page, a tagging API page and
 * the describes of about a quarter of them, not a describe a revision
 * (--poll-deep 1); it writes nothing; a tag changed outside is seen at
 * the next poll, a revision registered outside comes in whole at once. */
static void test_ecs_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 24 };
    assert_true(it_okf(e,
                       "INSERT INTO cluster (cluster_name) SELECT 'rot-' || g || '-%s' "
                       "FROM generate_series(1, 3) g",
                       sfx));
    assert_true(it_okf(e,
                       "INSERT INTO task_definition (family, containers) SELECT 'rot-' || g || "
                       "'-%s', '[{\"name\": \"web\", \"image\": \"nginx:1.27\"}]' "
                       "FROM generate_series(1, %d) g",
                       sfx, N));
    it_expect_commit(e, N + 3, "create");
    int total = atoi(it_value(e, "SELECT count(*) FROM task_definition"));
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long full[2], req[4], cl[4], sv[4], sum = 0;
    it_rotation_start(e, "1", "task_definition", full, 2);
    it_rotation_start(e, "5", "task_definition", req, 4);
    int seen = it_poll_requests(e, "cluster", 0, cl, 0);
    it_poll_requests(e, "cluster", seen - 4, cl, 4);
    seen = it_poll_requests(e, "service", 0, sv, 0);
    it_poll_requests(e, "service", seen - 4, sv, 4);
    for (int i = 0; i < 4; i++) {
        assert_true(req[i] <= 2 + (total / 4) * 3);
        sum += req[i];
    }
    assert_true(full[0] >= 1 + total && full[1] >= 1 + total);
    assert_true(sum <= 4 * 2 + total + 8); /* each one's describe once a rotation */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    print_message("rotation: %d task definitions, quiet polls %ld %ld in full, %ld %ld %ld %ld "
                  "under the rotation; clusters %ld %ld, services %ld %ld\n",
                  total, full[0], full[1], req[0], req[1], req[2], req[3], cl[0], cl[1], sv[0],
                  sv[1]);
    char fam[64], made[64];
    snprintf(fam, sizeof fam, "rot-1-%s", sfx);
    snprintf(made, sizeof made, "rot-made-%s", sfx);
    char *arn = it_strdup(
        it_valf(e, "SELECT task_definition_arn FROM task_definition WHERE family = '%s'", fam));
    json_decref(ecs(e, "TagResource",
                    json_pack("{s:s, s:[{s:s, s:s}]}", "resourceArn", arn, "tags", "key", "team",
                              "value", "ops"),
                    NULL));
    double t0 = it_now_s();
    assert_true(it_eventually(
        e, "ops", "SELECT coalesce(tags->>'team', '') FROM task_definition WHERE family = '%s'",
        fam));
    print_message("a tag changed outside seen in %.1f s\n", it_now_s() - t0);
    json_decref(
        ecs(e, "RegisterTaskDefinition",
            json_pack("{s:s, s:s, s:[s], s:s, s:s, s:[{s:s, s:s}], s:[{s:s, s:s}]}", "family", made,
                      "networkMode", "awsvpc", "requiresCompatibilities", "FARGATE", "cpu", "256",
                      "memory", "512", "containerDefinitions", "name", "api", "image", "nginx:1.26",
                      "tags", "key", "by", "value", "console"),
            NULL));
    assert_true(
        it_eventually(e, "1", "SELECT count(*) FROM task_definition WHERE family = '%s'", made));
    assert_string_equal(it_valf(e,
                                "SELECT tags->>'by' || (containers -> 0 ->> 'image') || cpu "
                                "FROM task_definition WHERE family = '%s'",
                                made),
                        "consolenginx:1.26256");
    it_rotation_end(e);
    free(audit), free(arn);
    assert_true(it_ok(e, "DELETE FROM task_definition", 0, NULL));
    assert_true(it_okf(e, "DELETE FROM cluster WHERE cluster_name LIKE 'rot-%%-%s'", sfx));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
}

/* The rotation by parent (--poll 1 --poll-deep 12: ten slots): a quiet
 * poll of the services costs the ListClusters page, a DescribeClusters
 * and the ListServices and DescribeServices of about a tenth of the
 * clusters, not two calls a cluster (--poll-deep 1), and writes nothing:
 * the known services of the clusters skipped all stay. moto never counts a
 * cluster's services (activeServicesCount is always 0), so the engine
 * stops believing the count once a cluster listed shows services, and a
 * service made, deleted or changed outside is seen in its cluster's turn,
 * within the rotation (with AWS, which counts, one made or deleted is seen
 * at the next poll). */
static void test_service_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 12 };
    assert_true(it_okf(e,
                       "INSERT INTO cluster (cluster_name) SELECT 'sr-' || g || '-%s' "
                       "FROM generate_series(1, %d) g",
                       sfx, N));
    assert_true(it_okf(e,
                       "INSERT INTO task_definition (family, containers) VALUES ('sr-%s', "
                       "'[{\"name\": \"web\", \"image\": \"nginx:1.27\"}]')",
                       sfx));
    assert_true(it_okf(e,
                       "INSERT INTO service (service_name, cluster, task_definition, subnets) "
                       "SELECT 'srv-' || c.cluster_name, c.id, t.id, ARRAY[(SELECT min(id) FROM "
                       "subnet WHERE default_for_az)] FROM cluster c, task_definition t WHERE "
                       "c.cluster_name LIKE 'sr-%%-%s' AND t.family = 'sr-%s'",
                       sfx, sfx));
    it_expect_commit(e, 2 * N + 1, "create");
    /* with what earlier tests left in the cloud */
    int services = atoi(it_value(e, "SELECT count(*) FROM service"));
    int clusters = atoi(it_value(e, "SELECT count(*) FROM cluster"));
    assert_true(services >= N && clusters >= N);
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long full[2], req[10], sum = 0;
    it_rotation_start(e, "1", "service", full, 2);
    it_rotation_start(e, "12", "service", req, 10);
    for (int i = 0; i < 10; i++)
        sum += req[i];
    print_message("rotation by cluster: %d clusters, %d services, quiet polls %ld %ld in full, "
                  "%ld %ld %ld %ld %ld %ld %ld %ld %ld %ld under it (sum %ld)\n",
                  clusters, services, full[0], full[1], req[0], req[1], req[2], req[3], req[4],
                  req[5], req[6], req[7], req[8], req[9], sum);
    for (int i = 0; i < 10; i++) {
        /* ListClusters, DescribeClusters, two calls for each of three
         * times a tenth of the clusters */
        assert_true(req[i] <= 2 + 2 * 3 * ((clusters + 9) / 10));
    }
    assert_true(full[0] >= 1 + 2 * N && full[1] >= 1 + 2 * N);
    assert_true(sum <= 10 * 2 + 2 * clusters + 8); /* each cluster listed about once a rotation */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    assert_int_equal(atoi(it_value(e, "SELECT count(*) FROM service")), services);
    char cl[3][64], name[96];
    for (int i = 0; i < 3; i++)
        snprintf(cl[i], sizeof cl[i], "sr-%d-%s", i + 1, sfx);
    json_t *c = cloud_cluster(e, cl[1]);
    print_message("moto's activeServicesCount of a cluster with a service: %lld\n",
                  (long long)json_integer_value(json_object_get(c, "activeServicesCount")));
    json_decref(c);
    char *xml =
        it_ec2(e, "Action=DescribeSubnets&Filter.1.Name=default-for-az&Filter.1.Value.1=true");
    char *subnet = it_strdup(it_xml_text(xml, "subnetId"));
    free(xml);
    char *td = it_strdup(
        it_valf(e, "SELECT task_definition_arn FROM task_definition WHERE family = 'sr-%s'", sfx));
    /* made outside */
    snprintf(name, sizeof name, "made-%s", sfx);
    json_decref(
        ecs(e, "CreateService",
            json_pack("{s:s, s:s, s:s, s:i, s:s, s:{s:{s:[s], s:[], s:s}}}", "cluster", cl[0],
                      "serviceName", name, "taskDefinition", td, "desiredCount", 1, "launchType",
                      "FARGATE", "networkConfiguration", "awsvpcConfiguration", "subnets", subnet,
                      "securityGroups", "assignPublicIp", "DISABLED"),
            NULL));
    double within = 12 * 1.2 + 5;
    double made =
        it_seen_within(e, within, "1",
                       "SELECT count(*) FROM service s JOIN cluster c ON c.id = s.cluster WHERE "
                       "s.service_name = '%s' AND c.cluster_name = '%s'",
                       name, cl[0]);
    /* deleted outside */
    snprintf(name, sizeof name, "srv-%s", cl[1]);
    json_decref(ecs(e, "DeleteService",
                    json_pack("{s:s, s:s, s:b}", "cluster", cl[1], "service", name, "force", 1),
                    NULL));
    double gone = it_seen_within(e, within, "0",
                                 "SELECT count(*) FROM service WHERE service_name = '%s'", name);
    /* a value changed outside */
    snprintf(name, sizeof name, "srv-%s", cl[2]);
    json_decref(ecs(
        e, "UpdateService",
        json_pack("{s:s, s:s, s:i}", "cluster", cl[2], "service", name, "desiredCount", 3), NULL));
    double value = it_seen_within(
        e, within, "3", "SELECT desired_count FROM service WHERE service_name = '%s'", name);
    print_message("a service made outside seen in %.1f s, one deleted in %.1f s, a desired count "
                  "changed in %.1f s\n",
                  made, gone, value);
    assert_true(made >= 0);
    assert_true(gone >= 0);
    assert_true(value >= 0);
    /* every other known service stayed */
    assert_int_equal(atoi(it_value(e, "SELECT count(*) FROM service")), services);
    /* the database is what the cloud holds: a full listing finds nothing */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_sync_preview()"), "0");
    it_rotation_end(e);
    free(audit), free(subnet), free(td);
    assert_true(it_ok(e, "DELETE FROM service", 0, NULL));
    assert_true(it_okf(e, "DELETE FROM task_definition WHERE family = 'sr-%s'", sfx));
    assert_true(it_okf(e, "DELETE FROM cluster WHERE cluster_name LIKE 'sr-%%-%s'", sfx));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
}

#define TD "INSERT INTO task_definition (family, containers"
#define IMG "'[{\"name\": \"a\", \"image\": \"nginx\"}]'"
#define SVC "INSERT INTO service (service_name, cluster, task_definition, subnets"
#define ANY_SUBNET "ARRAY[(SELECT min(id) FROM subnet)]"

static void test_ecs_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO cluster (cluster_name) VALUES ('web cluster')",
         "cluster_name_up_to_255_alnum_hyphen_underscore"},
        {"INSERT INTO cluster (cluster_name, container_insights) VALUES ('ok', 'sometimes')",
         "cluster_container_insights_enhanced_enabled_or_disabled"},
        {"INSERT INTO cluster (cluster_name, tags) VALUES ('ok', '{\"aws:k\": \"v\"}')",
         "cluster_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {"INSERT INTO cluster (cluster_name) VALUES ('dup'), ('dup')",
         "cluster_name_unique_in_region"},
        {TD ") VALUES ('a:b', " IMG ")",
         "task_definition_family_up_to_255_alnum_hyphen_underscore"},
        {TD ", cpu, memory) VALUES ('ok', " IMG ", 256, 4096)",
         "task_definition_cpu_memory_a_fargate_size"},
        {TD ", cpu, memory) VALUES ('ok', " IMG ", 1024, 1024)",
         "task_definition_cpu_memory_a_fargate_size"},
        {TD ", cpu, memory) VALUES ('ok', " IMG ", 300, 1024)",
         "task_definition_cpu_memory_a_fargate_size"},
        {TD ", network_mode) VALUES ('ok', " IMG ", 'bridge')",
         "task_definition_network_mode_awsvpc"},
        {TD ", requires_compatibilities) VALUES ('ok', " IMG ", '{EC2}')",
         "task_definition_requires_compatibilities_fargate"},
        {TD ") VALUES ('ok', '[]')", "task_definition_containers_1_to_10_container_definitions"},
        {TD ") VALUES ('ok', '[{\"name\": \"a\", \"image\": \"x\", \"privileged\": true}]')",
         "task_definition_containers_1_to_10_container_definitions"},
        {TD ") VALUES ('ok', '[{\"name\": \"a\", \"image\": \"x\"}, {\"name\": \"a\", "
            "\"image\": \"y\"}]')",
         "task_definition_containers_1_to_10_container_definitions"},
        {TD ") VALUES ('ok', '[{\"name\": \"a\", \"image\": \"x\", \"portMappings\": "
            "[{\"containerPort\": 70000}]}]')",
         "task_definition_containers_1_to_10_container_definitions"},
        {TD ") VALUES ('ok', '[{\"name\": \"a\"}]')",
         "task_definition_containers_have_an_image_or_a_repository"},
        {TD ", image_tag) VALUES ('ok', " IMG ", 'v1')",
         "task_definition_image_tag_with_a_repository_up_to_128"},
        {TD ", log_stream_prefix) VALUES ('ok', " IMG ", 'app')",
         "task_definition_log_stream_prefix_with_a_log_group"},
        {TD ", tags) VALUES ('ok', " IMG ", '{\"iasql:x\": \"v\"}')",
         "task_definition_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {SVC ") VALUES ('bad name', 0, 0, " ANY_SUBNET ")",
         "service_name_up_to_255_alnum_hyphen_underscore"},
        {SVC ", desired_count) VALUES ('ok', 0, 0, " ANY_SUBNET ", -1)",
         "service_desired_count_not_negative"},
        {SVC ", launch_type) VALUES ('ok', 0, 0, " ANY_SUBNET ", 'EC2')",
         "service_launch_type_fargate"},
        {SVC ") VALUES ('ok', 0, 0, '{}')", "service_subnets_1_to_16"},
        {SVC ") VALUES ('ok', 0, 0, '{0}')", "service_subnets_are_subnets_of_its_region"},
        {SVC ", security_groups) VALUES ('ok', 0, 0, " ANY_SUBNET ", '{0}')",
         "service_security_groups_of_its_region"},
        {SVC ", assign_public_ip) VALUES ('ok', 0, 0, " ANY_SUBNET ", 'yes')",
         "service_assign_public_ip_enabled_or_disabled"},
        {SVC ", container_name) VALUES ('ok', 0, 0, " ANY_SUBNET ", 'app')",
         "service_target_group_with_container_name_and_port"},
        {SVC ", target_group) VALUES ('ok', 0, 0, " ANY_SUBNET ", 0)",
         "service_target_group_with_container_name_and_port"},
        {SVC ", container_name, container_port) VALUES ('ok', 0, 0, " ANY_SUBNET ", 'app', 0)",
         "service_container_port_1_to_65535"},
        {SVC ") VALUES ('ok', 0, 0, " ANY_SUBNET ")", "service_cluster_exists_in_its_region"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"),
                        "0");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    snprintf(sfx, sizeof sfx, "%d", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ecs_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecs_new_revision_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecs_import_and_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecs_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecs_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_ecs_fargate", tests, NULL, NULL);
}
