/* modules/aws_ecs_fargate/mod_ecs.c — module aws_ecs_fargate: clusters and
 * services over ECS's json 1.1 protocol (the task definitions are in
 * mod_ecs_taskdef.c). A cluster's Container Insights setting and tags
 * change in place. A service's task definition, desired count, subnets,
 * security groups and public IP change in place (UpdateService); its name,
 * cluster and load balancer (a target group of aws_elb, with the container
 * and port it sends to) replace it. A delete scales the service to 0, deletes it
 * (force) and waits until ECS calls it INACTIVE. Nothing here waits for a
 * service's tasks to run: a commit is done when ECS has taken the change,
 * and the rollout goes on in ECS (its status is written back). Listing
 * clusters costs one ListClusters page and one DescribeClusters per 100;
 * services one ListServices page per cluster and one DescribeServices
 * per 10 services; under the poller's rotation by parent, a DescribeClusters
 * per 100 clusters and those calls only for the clusters whose turn it is,
 * those new and those whose activeServicesCount differs from the services
 * the database knows in them. */
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/aws_ecs_fargate/mod_ecs.h"

extern const char iasql_sql_aws_ecs_fargate[];

const mod_json_service ecs_cluster_api = {"ecs", "1.1", "AmazonEC2ContainerServiceV20141113",
                                          "ECS cluster"};
static const mod_json_service service_api = {"ecs", "1.1", "AmazonEC2ContainerServiceV20141113",
                                             "ECS service"};
static const mod_json_pager clusters_pager = {"ListClusters", "nextToken", "nextToken",
                                              "clusterArns"};
static const mod_json_pager services_pager = {"ListServices", "nextToken", "nextToken",
                                              "serviceArns"};

/* ---- shared with mod_ecs_taskdef.c ---- */

json_t *ecs_tags_to_list(const json_t *tags)
{
    json_t *list = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)tags, k, v)
    {
        json_array_append_new(list, json_pack("{s:s, s:O}", "key", k, "value", v));
    }
    return list;
}

int ecs_tags_converge(mod_ctx *ctx, const mod_json_service *svc, const char *region,
                      const char *arn, const json_t *known, const json_t *desired, cm_err *err)
{
    json_t *set, *gone;
    mod_tags_diff(json_object_get(known, "tags"), json_object_get(desired, "tags"), &set, &gone);
    int rc = 0;
    if (json_object_size(set))
        rc = mod_json_op(ctx, svc, region, "TagResource",
                         json_pack("{s:s, s:o}", "resourceArn", arn, "tags", ecs_tags_to_list(set)),
                         NULL, err, arn);
    if (!rc && json_array_size(gone))
        rc = mod_json_op(ctx, svc, region, "UntagResource",
                         json_pack("{s:s, s:O}", "resourceArn", arn, "tagKeys", gone), NULL, err,
                         arn);
    json_decref(set);
    json_decref(gone);
    return rc;
}

bool ecs_differs(const json_t *known, const json_t *desired, const char *col)
{
    const json_t *a = json_object_get(known, col), *b = json_object_get(desired, col);
    return !json_equal(a ? a : json_null(), b ? b : json_null());
}

const char *ecs_arn_tail(const char *arn)
{
    const char *slash = arn ? strrchr(arn, '/') : NULL;
    return slash ? slash + 1 : arn;
}

json_t *ecs_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* ---- cluster ---- */

static int cluster_call(mod_ctx *ctx, const char *region, const char *op, json_t *body,
                        json_t **out, cm_err *err, const char *name)
{
    return mod_json_op(ctx, &ecs_cluster_api, region, op, body, out, err, name);
}

static const char *insights_of(const json_t *c)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(c, "settings"), i, s)
    {
        if (strcmp(cm_json_str(s, "name") ? cm_json_str(s, "name") : "", "containerInsights") == 0)
            return cm_json_str(s, "value");
    }
    return NULL;
}

/* A row image from one DescribeClusters entry; NULL for a cluster that is
 * gone or going (INACTIVE, DEPROVISIONING). */
static json_t *cluster_row(const char *region, const json_t *c)
{
    const char *name = cm_json_str(c, "clusterName"), *status = cm_json_str(c, "status");
    if (!name || (status && strcmp(status, "ACTIVE") != 0 && strcmp(status, "PROVISIONING") != 0))
        return NULL;
    const char *insights = insights_of(c);
    return mod_take_owner(json_pack("{s:s, s:s, s:s, s:o, s:o}", "cluster_name", name, "region",
                                    region, "container_insights", insights ? insights : "disabled",
                                    "tags",
                                    mod_tags_from_list(json_object_get(c, "tags"), "key", "value"),
                                    "cluster_arn", ecs_str_or_null(cm_json_str(c, "clusterArn"))));
}

/* The clusters named (names or ARNs, at most 100) as row images, appended
 * to rows. */
static int describe_clusters(mod_ctx *ctx, const char *region, json_t *names, json_t *rows,
                             cm_err *err)
{
    json_t *reply = NULL;
    int rc =
        cluster_call(ctx, region, "DescribeClusters",
                     json_pack("{s:O, s:[s, s]}", "clusters", names, "include", "TAGS", "SETTINGS"),
                     &reply, err, json_string_value(json_array_get(names, 0)));
    size_t i;
    json_t *c;
    json_array_foreach(rc ? NULL : json_object_get(reply, "clusters"), i, c)
    {
        json_t *row = cluster_row(region, c);
        if (row)
            json_array_append_new(rows, row);
    }
    json_decref(reply);
    return rc;
}

static int collect_string(mod_ctx *ctx, const char *region, const json_t *item, void *arg,
                          cm_err *err)
{
    (void)ctx, (void)region, (void)err;
    if (json_is_string(item))
        json_array_append((json_t *)arg, (json_t *)item);
    return 0;
}

/* Every cluster ARN of region. */
static int cluster_arns(mod_ctx *ctx, const char *region, json_t **out, cm_err *err)
{
    *out = json_array();
    int rc = mod_json_each(ctx, &ecs_cluster_api, &clusters_pager, region, NULL, collect_string,
                           *out, "(all)", err);
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static int cluster_list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    json_t *arns;
    int rc = cluster_arns(ctx, region, &arns, err);
    for (size_t i = 0; !rc && i < json_array_size(arns); i += 100) {
        json_t *batch = json_array();
        for (size_t k = i; k < i + 100 && k < json_array_size(arns); k++)
            json_array_append(batch, json_array_get(arns, k));
        rc = describe_clusters(ctx, region, batch, rows, err);
        json_decref(batch);
    }
    json_decref(arns);
    return rc;
}

static int cluster_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                        cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, cluster_list_region, out, err);
}

static int cluster_names(const json_t *img, const char **name, const char **region, cm_err *err)
{
    return mod_image_names(img, "cluster", "cluster_name", name, region, err);
}

static int cluster_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = cluster_names(image, &name, &region, err);
    if (rc)
        return rc;
    json_t *rows = json_array();
    json_t *names = json_pack("[s]", name);
    rc = describe_clusters(ctx, region, names, rows, err);
    json_decref(names);
    if (!rc && json_array_size(rows) == 0)
        rc = cm_err_set(err, CM_ENOTFOUND, "ECS cluster %s does not exist in %s", name, region);
    if (!rc)
        *out = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return rc;
}

static json_t *insights_setting(const json_t *desired)
{
    return json_pack("[{s:s, s:O}]", "name", "containerInsights", "value",
                     json_object_get(desired, "container_insights"));
}

static int cluster_converge(mod_ctx *ctx, const char *region, const char *name, const char *arn,
                            const json_t *known, const json_t *desired, cm_err *err)
{
    int rc = 0;
    if (ecs_differs(known, desired, "container_insights"))
        rc = cluster_call(
            ctx, region, "UpdateCluster",
            json_pack("{s:s, s:o}", "cluster", name, "settings", insights_setting(desired)), NULL,
            err, name);
    if (!rc)
        rc = ecs_tags_converge(ctx, &ecs_cluster_api, region, arn, known, desired, err);
    return rc;
}

static json_t *cluster_with_arn(const json_t *desired, const char *arn)
{
    json_t *out = json_deep_copy(desired);
    json_object_set_new(out, "cluster_arn", ecs_str_or_null(arn));
    return out;
}

static int cluster_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *region;
    int rc = cluster_names(desired, &name, &region, err);
    if (rc)
        return rc;
    /* CreateCluster answers with the cluster that exists under that name
     * (an earlier attempt's, or someone's): read it and bring it to the row */
    json_t *owned = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    rc = cluster_call(ctx, region, "CreateCluster",
                      json_pack("{s:s, s:o, s:o}", "clusterName", name, "settings",
                                insights_setting(desired), "tags", ecs_tags_to_list(owned)),
                      NULL, err, name);
    json_decref(owned);
    json_t *made = NULL;
    if (!rc)
        rc = cluster_read(ctx, desired, &made, err);
    if (!rc)
        rc = cluster_converge(ctx, region, name, cm_json_str(made, "cluster_arn"), made, desired,
                              err);
    if (!rc)
        *out = cluster_with_arn(desired, cm_json_str(made, "cluster_arn"));
    json_decref(made);
    return rc;
}

static int cluster_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                          cm_err *err)
{
    const char *name, *region;
    int rc = cluster_names(desired, &name, &region, err);
    if (rc)
        return rc;
    const char *arn = cm_json_str(known, "cluster_arn");
    json_t *cloud = NULL;
    if (!arn) { /* imported before its ARN was written back */
        rc = cluster_read(ctx, desired, &cloud, err);
        arn = cm_json_str(cloud, "cluster_arn");
    }
    if (!rc)
        rc = cluster_converge(ctx, region, name, arn, known, desired, err);
    if (!rc)
        *out = cluster_with_arn(desired, arn);
    json_decref(cloud);
    return rc;
}

typedef struct named {
    const char *region, *name;
} named;

/* A cluster is deleted once its services are INACTIVE and its tasks
 * stopped: ECS refuses until then. Tasks stop on their own (waited for);
 * services that are not this commit's do not. */
static int cluster_delete_probe(mod_ctx *ctx, const void *arg, bool *done, cm_err *err)
{
    const named *n = arg;
    int rc = cluster_call(ctx, n->region, "DeleteCluster", json_pack("{s:s}", "cluster", n->name),
                          NULL, err, n->name);
    *done = rc == 0;
    if (rc && (strcmp(err->cloud_code, "ClusterNotFoundException") == 0)) {
        cm_err_clear(err);
        *done = true;
        return 0;
    }
    if (rc && strcmp(err->cloud_code, "ClusterContainsServicesException") == 0)
        /* this commit's services are INACTIVE by now (service_remove waits):
         * these are someone else's */
        return cm_err_set(err, CM_ECLOUD,
                          "ECS cluster %s still has services Detail: ECS deletes a cluster only "
                          "once its services are deleted; the services of this database's rows "
                          "are. Hint: Delete the cluster's other services first, or keep its row.",
                          n->name);
    if (rc && (strcmp(err->cloud_code, "ClusterContainsTasksException") == 0 ||
               strcmp(err->cloud_code, "UpdateInProgressException") == 0)) {
        cm_err_clear(err);
        return 0;
    }
    return rc;
}

static int cluster_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    named n;
    int rc = cluster_names(known, &n.name, &n.region, err);
    if (rc)
        return rc;
    return mod_wait(ctx, cluster_delete_probe, &n, 10 * 60 * 1000,
                    "the ECS cluster's services and tasks to end", err);
}

static const mod_table_ops cluster_ops = {
    .list = cluster_list,
    .read = cluster_read,
    .create = cluster_create,
    .update = cluster_update,
    .remove = cluster_remove,
};

static const mod_column cluster_columns[] = {
    {"cluster_name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"container_insights", 0},
    {"tags", 0},
    {"cluster_arn", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

static const mod_table cluster_table = {"cluster", cluster_columns, &cluster_ops, "ecs"};

/* ---- service ---- */

static int service_call(mod_ctx *ctx, const char *region, const char *op, json_t *body,
                        json_t **out, cm_err *err, const char *name)
{
    return mod_json_op(ctx, &service_api, region, op, body, out, err, name);
}

static bool service_gone(const cm_err *err)
{
    return strcmp(err->cloud_code, "ServiceNotFoundException") == 0 ||
           strcmp(err->cloud_code, "ServiceNotActiveException") == 0 ||
           strcmp(err->cloud_code, "ClusterNotFoundException") == 0;
}

/* A row image from one DescribeServices entry; NULL for a service being
 * deleted or gone (DRAINING, INACTIVE). */
static json_t *service_row(const char *region, const char *cluster, const json_t *s)
{
    const char *name = cm_json_str(s, "serviceName"), *status = cm_json_str(s, "status");
    if (!name || !status || strcmp(status, "ACTIVE") != 0)
        return NULL;
    const json_t *vpc =
        json_object_get(json_object_get(s, "networkConfiguration"), "awsvpcConfiguration");
    const json_t *subnets = json_object_get(vpc, "subnets"),
                 *groups = json_object_get(vpc, "securityGroups");
    const char *pub = cm_json_str(vpc, "assignPublicIp");
    const char *launch = cm_json_str(s, "launchType");
    json_t *count = json_object_get(s, "desiredCount");
    /* the first load balancer (a Fargate service of this table has at most one) */
    const json_t *lb = json_array_get(json_object_get(s, "loadBalancers"), 0);
    json_t *port = json_object_get(lb, "containerPort");
    json_t *row = json_pack(
        "{s:s, s:s, s:s, s:o, s:I, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:s}",
        "service_name", name, "region", region, "cluster", cluster, "task_definition",
        ecs_str_or_null(cm_json_str(s, "taskDefinition")), "desired_count",
        json_is_integer(count) ? json_integer_value(count) : (json_int_t)0, "launch_type",
        launch ? launch : "FARGATE", "subnets",
        json_is_array(subnets) ? json_incref((json_t *)subnets) : json_array(), "security_groups",
        json_is_array(groups) ? json_incref((json_t *)groups) : json_array(), "assign_public_ip",
        pub ? pub : "DISABLED", "target_group", ecs_str_or_null(cm_json_str(lb, "targetGroupArn")),
        "container_name", ecs_str_or_null(cm_json_str(lb, "containerName")), "container_port",
        json_is_integer(port) ? json_incref(port) : json_null(), "tags",
        mod_tags_from_list(json_object_get(s, "tags"), "key", "value"), "service_arn",
        ecs_str_or_null(cm_json_str(s, "serviceArn")), "status", status);
    return mod_take_owner(row);
}

/* The services named (names or ARNs, at most 10) of cluster, appended to
 * rows. */
static int describe_services(mod_ctx *ctx, const char *region, const char *cluster, json_t *names,
                             json_t *rows, cm_err *err)
{
    json_t *reply = NULL;
    int rc = service_call(
        ctx, region, "DescribeServices",
        json_pack("{s:s, s:O, s:[s]}", "cluster", cluster, "services", names, "include", "TAGS"),
        &reply, err, json_string_value(json_array_get(names, 0)));
    size_t i;
    json_t *s;
    json_array_foreach(rc ? NULL : json_object_get(reply, "services"), i, s)
    {
        json_t *row = service_row(region, cluster, s);
        if (row)
            json_array_append_new(rows, row);
    }
    json_decref(reply);
    return rc;
}

static int services_of_cluster(mod_ctx *ctx, const char *region, const char *cluster, json_t *rows,
                               cm_err *err)
{
    json_t *arns = json_array();
    json_t *body = json_pack("{s:s}", "cluster", cluster);
    int rc = mod_json_each(ctx, &service_api, &services_pager, region, body, collect_string, arns,
                           cluster, err);
    json_decref(body);
    for (size_t i = 0; !rc && i < json_array_size(arns); i += 10) {
        json_t *batch = json_array();
        for (size_t k = i; k < i + 10 && k < json_array_size(arns); k++)
            json_array_append(batch, json_array_get(arns, k));
        rc = describe_services(ctx, region, cluster, batch, rows, err);
        json_decref(batch);
    }
    json_decref(arns);
    if (rc && strcmp(err->cloud_code, "ClusterNotFoundException") == 0) {
        cm_err_clear(err); /* deleted since it was listed */
        rc = 0;
    }
    return rc;
}

/* Whether DescribeClusters' activeServicesCount is to be believed: not
 * once a cluster was seen to count none while ListServices found active
 * services in it (moto 5 never counts), again once one counts some. */
#define COUNT_UNTRUSTED "ecs.activeServicesCount.untrusted"

/* {cluster name: activeServicesCount} of the clusters (ARNs) of region,
 * a DescribeClusters per 100; a cluster gone or going (INACTIVE: ListClusters
 * may still name it) as null. */
static int service_counts(mod_ctx *ctx, const char *region, const json_t *arns, json_t *counts,
                          cm_err *err)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < json_array_size(arns); i += 100) {
        json_t *batch = json_array(), *reply = NULL;
        for (size_t k = i; k < i + 100 && k < json_array_size(arns); k++)
            json_array_append(batch, json_array_get(arns, k));
        rc = cluster_call(ctx, region, "DescribeClusters", json_pack("{s:o}", "clusters", batch),
                          &reply, err, json_string_value(json_array_get(arns, i)));
        size_t k;
        json_t *c;
        json_array_foreach(rc ? NULL : json_object_get(reply, "clusters"), k, c)
        {
            const char *name = cm_json_str(c, "clusterName");
            json_t *n = json_object_get(c, "activeServicesCount");
            const char *status = cm_json_str(c, "status");
            bool live =
                !status || strcmp(status, "ACTIVE") == 0 || strcmp(status, "PROVISIONING") == 0;
            if (name && !live)
                json_object_set_new(counts, name, json_null());
            else if (name && json_is_integer(n)) {
                json_object_set(counts, name, n);
                if (json_integer_value(n) > 0)
                    mod_ctx_set_note(ctx, COUNT_UNTRUSTED, false);
            }
        }
        json_decref(reply);
    }
    return rc;
}

/* Under the poller's rotation by parent, a known cluster's services are
 * listed in its turn, or when activeServicesCount differs from the
 * services the database knows in it; another's are its marker row. */
static int service_list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    json_t *arns, *counts = json_object();
    int rc = cluster_arns(ctx, region, &arns, err);
    bool rotating = !rc && mod_parent_rotating(ctx) && json_array_size(arns);
    if (rotating)
        rc = service_counts(ctx, region, arns, counts, err);
    for (size_t i = 0; !rc && i < json_array_size(arns); i++) {
        const char *name = ecs_arn_tail(json_string_value(json_array_get(arns, i)));
        json_t *n = json_object_get(counts, name);
        if (json_is_null(n))
            continue; /* no services to list */
        bool trusted = mod_ctx_note(ctx, COUNT_UNTRUSTED) != 1;
        long count = json_is_integer(n) && trusted ? (long)json_integer_value(n) : -1;
        if (mod_parent_left_out(ctx, rows, "cluster", region, name, count))
            continue;
        size_t before = json_array_size(rows);
        rc = services_of_cluster(ctx, region, name, rows, err);
        if (!rc && rotating && json_is_integer(n) && json_integer_value(n) == 0 &&
            json_array_size(rows) > before)
            mod_ctx_set_note(ctx, COUNT_UNTRUSTED, true);
    }
    json_decref(arns);
    json_decref(counts);
    return rc;
}

static int service_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                        cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, service_list_region, out, err);
}

/* The name, cluster and region of a service's image (references resolved). */
static int service_names(const json_t *img, const char **name, const char **cluster,
                         const char **region, cm_err *err)
{
    int rc = mod_image_names(img, "service", "service_name", name, region, err);
    *cluster = cm_json_str(img, "cluster");
    if (!rc && !*cluster)
        rc = cm_err_set(err, CM_EINVAL, "service %s has no cluster", *name);
    return rc;
}

static int service_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *name, *cluster, *region;
    int rc = service_names(image, &name, &cluster, &region, err);
    if (rc)
        return rc;
    json_t *rows = json_array();
    json_t *names = json_pack("[s]", name);
    rc = describe_services(ctx, region, cluster, names, rows, err);
    json_decref(names);
    if (rc && service_gone(err))
        cm_err_clear(err), rc = 0;
    if (!rc && json_array_size(rows) == 0)
        rc = cm_err_set(err, CM_ENOTFOUND, "ECS service %s does not exist in cluster %s of %s",
                        name, cluster, region);
    if (!rc)
        *out = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return rc;
}

static json_t *network_of(const json_t *desired)
{
    return json_pack("{s:{s:O, s:O, s:O}}", "awsvpcConfiguration", "subnets",
                     json_object_get(desired, "subnets"), "securityGroups",
                     json_object_get(desired, "security_groups"), "assignPublicIp",
                     json_object_get(desired, "assign_public_ip"));
}

static bool network_differs(const json_t *known, const json_t *desired)
{
    return ecs_differs(known, desired, "subnets") ||
           ecs_differs(known, desired, "security_groups") ||
           ecs_differs(known, desired, "assign_public_ip");
}

/* Everything that changes in place: one UpdateService for the service's
 * own members, the tags beside. */
static int service_converge(mod_ctx *ctx, const char *region, const char *name, const char *cluster,
                            const char *arn, const json_t *known, const json_t *desired,
                            cm_err *err)
{
    json_t *body = json_pack("{s:s, s:s}", "cluster", cluster, "service", name);
    if (ecs_differs(known, desired, "desired_count"))
        json_object_set(body, "desiredCount", json_object_get(desired, "desired_count"));
    if (ecs_differs(known, desired, "task_definition"))
        json_object_set(body, "taskDefinition", json_object_get(desired, "task_definition"));
    if (network_differs(known, desired))
        json_object_set_new(body, "networkConfiguration", network_of(desired));
    int rc = 0;
    if (json_object_size(body) > 2)
        rc = service_call(ctx, region, "UpdateService", body, NULL, err, name);
    else
        json_decref(body);
    if (!rc)
        rc = ecs_tags_converge(ctx, &service_api, region, arn, known, desired, err);
    return rc;
}

static json_t *service_with_owned(const json_t *desired, const json_t *cloud)
{
    json_t *out = json_deep_copy(desired);
    static const char *const owned[] = {"service_arn", "status", NULL};
    for (int i = 0; owned[i]; i++) {
        json_t *v = json_object_get(cloud, owned[i]);
        json_object_set(out, owned[i], v ? v : json_null());
    }
    return out;
}

static json_t *service_from_reply(const char *region, const char *cluster, const json_t *reply)
{
    json_t *row = service_row(region, cluster, json_object_get(reply, "service"));
    return row ? row : json_object();
}

static int service_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name, *cluster, *region;
    int rc = service_names(desired, &name, &cluster, &region, err);
    if (rc)
        return rc;
    json_t *owned = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    json_t *body =
        json_pack("{s:s, s:s, s:O, s:O, s:s, s:o, s:o}", "cluster", cluster, "serviceName", name,
                  "taskDefinition", json_object_get(desired, "task_definition"), "desiredCount",
                  json_object_get(desired, "desired_count"), "launchType", "FARGATE",
                  "networkConfiguration", network_of(desired), "tags", ecs_tags_to_list(owned));
    json_decref(owned);
    if (cm_json_str(desired, "target_group"))
        json_object_set_new(body, "loadBalancers",
                            json_pack("[{s:O, s:O, s:O}]", "targetGroupArn",
                                      json_object_get(desired, "target_group"), "containerName",
                                      json_object_get(desired, "container_name"), "containerPort",
                                      json_object_get(desired, "container_port")));
    if (mod_ctx_token(ctx))
        json_object_set_new(body, "clientToken", json_string(mod_ctx_token(ctx)));
    json_t *reply = NULL, *made = NULL;
    rc = service_call(ctx, region, "CreateService", body, &reply, err, name);
    if (!rc) {
        made = service_from_reply(region, cluster, reply);
    } else if (strcmp(err->cloud_code, "InvalidParameterException") == 0) {
        /* "not idempotent": a service of that name exists (an earlier
         * attempt's, or someone's): take it and bring it to the row */
        cm_err saved = *err;
        cm_err_clear(err);
        rc = service_read(ctx, desired, &made, err);
        if (rc == CM_ENOTFOUND)
            *err = saved, rc = saved.code;
        if (!rc)
            rc = service_converge(ctx, region, name, cluster, cm_json_str(made, "service_arn"),
                                  made, desired, err);
    }
    json_decref(reply);
    if (!rc)
        *out = service_with_owned(desired, made);
    json_decref(made);
    return rc;
}

static int service_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                          cm_err *err)
{
    const char *name, *cluster, *region;
    int rc = service_names(desired, &name, &cluster, &region, err);
    if (rc)
        return rc;
    json_t *cloud = NULL;
    if (!cm_json_str(known, "service_arn")) /* imported before its ARN was written back */
        rc = service_read(ctx, desired, &cloud, err);
    const char *arn = cm_json_str(cloud ? cloud : known, "service_arn");
    if (!rc)
        rc = service_converge(ctx, region, name, cluster, arn, known, desired, err);
    json_t *now = NULL;
    if (!rc) /* the status after the change (a deployment under way) */
        rc = service_read(ctx, desired, &now, err);
    if (!rc)
        *out = service_with_owned(desired, now);
    json_decref(cloud);
    json_decref(now);
    return rc;
}

typedef struct service_ref {
    const char *region, *cluster, *name;
} service_ref;

/* Done when ECS calls the service INACTIVE, or no longer knows it. */
static int service_gone_probe(mod_ctx *ctx, const void *arg, bool *done, cm_err *err)
{
    const service_ref *s = arg;
    json_t *reply = NULL;
    int rc = service_call(ctx, s->region, "DescribeServices",
                          json_pack("{s:s, s:[s]}", "cluster", s->cluster, "services", s->name),
                          &reply, err, s->name);
    if (rc && service_gone(err)) {
        cm_err_clear(err);
        *done = true;
        return 0;
    }
    const char *status =
        cm_json_str(json_array_get(json_object_get(reply, "services"), 0), "status");
    *done = !rc && (!status || strcmp(status, "INACTIVE") == 0);
    json_decref(reply);
    return rc;
}

static int service_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    service_ref s;
    int rc = service_names(known, &s.name, &s.cluster, &s.region, err);
    if (rc)
        return rc;
    json_t *count = json_object_get(known, "desired_count");
    if (!json_is_integer(count) || json_integer_value(count) > 0)
        rc = service_call(ctx, s.region, "UpdateService",
                          json_pack("{s:s, s:s, s:i}", "cluster", s.cluster, "service", s.name,
                                    "desiredCount", 0),
                          NULL, err, s.name);
    if (!rc)
        rc = service_call(
            ctx, s.region, "DeleteService",
            json_pack("{s:s, s:s, s:b}", "cluster", s.cluster, "service", s.name, "force", 1), NULL,
            err, s.name);
    if (rc && service_gone(err)) {
        cm_err_clear(err);
        return 0;
    }
    if (!rc) /* DRAINING while its tasks stop, then INACTIVE */
        rc = mod_wait(ctx, service_gone_probe, &s, 10 * 60 * 1000,
                      "the ECS service to become INACTIVE", err);
    return rc;
}

static const mod_table_ops service_ops = {
    .list = service_list,
    .read = service_read,
    .create = service_create,
    .update = service_update,
    .remove = service_remove,
};

static const mod_column service_columns[] = {
    {"service_name", MOD_COL_CLOUD_ID},
    {"region", MOD_COL_CLOUD_ID},
    {"cluster", MOD_COL_IMMUTABLE, "cluster"},
    {"task_definition", 0, "task_definition"},
    {"desired_count", 0},
    {"launch_type", MOD_COL_IMMUTABLE},
    {"subnets", 0, "subnet"},
    {"security_groups", 0, "security_group"},
    {"assign_public_ip", 0},
    {"target_group", MOD_COL_IMMUTABLE, "target_group"},
    {"container_name", MOD_COL_IMMUTABLE},
    {"container_port", MOD_COL_IMMUTABLE},
    {"tags", 0},
    {"service_arn", MOD_COL_CLOUD_OWNED},
    {"status", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

static const mod_table service_table = {"service", service_columns, &service_ops, "ecs",
                                        .by_parent = "cluster"};

static const mod_table *const ecs_tables[] = {&cluster_table, &ecs_task_definition_table,
                                              &service_table, NULL};
static const char *const ecs_deps[] = {"aws_account",        "aws_iam", "aws_cloudwatch", "aws_vpc",
                                       "aws_security_group", "aws_ecr", "aws_elb",        NULL};

const mod_module mod_aws_ecs_fargate = {
    .name = "aws_ecs_fargate",
    .version = IASQL_VERSION,
    .deps = ecs_deps,
    .install_sql = iasql_sql_aws_ecs_fargate,
    .uninstall_sql = "DROP TRIGGER IF EXISTS service_subnet_in_use ON subnet;\n"
                     "DROP TRIGGER IF EXISTS service_security_group_in_use ON security_group;\n"
                     "DROP FUNCTION IF EXISTS service_network_in_use();\n"
                     "DROP FUNCTION IF EXISTS service_networks_valid();\n"
                     "DROP FUNCTION IF EXISTS service_load_balancer_valid();\n"
                     "DROP FUNCTION IF EXISTS task_definition_refs_in_its_region();\n"
                     "DROP FUNCTION IF EXISTS ecs_containers_valid(jsonb);\n"
                     "DROP FUNCTION IF EXISTS ecs_fargate_size_valid(integer, integer);\n",
    .tables = ecs_tables,
};
