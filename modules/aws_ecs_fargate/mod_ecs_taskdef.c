/* modules/aws_ecs_fargate/mod_ecs_taskdef.c — table task_definition: ECS
 * task definitions for Fargate. A revision is immutable in ECS, so every
 * column but the tags replaces it; the table makes the new revision first
 * (mod_table.replace_new_first): the services that run the old one are
 * updated to the new one, then the old one is deregistered.
 *
 * The containers are a jsonb array in ECS's ContainerDefinition shape.
 * Two parts of a container come from table-level references instead, for
 * what a commit may be making at the same time: a container without an
 * image runs repository's image (its URI built from the account, the
 * region and the repository's name) at image_tag, and one without a
 * logConfiguration logs to log_group through awslogs. A listing gives
 * them back the same way, and leaves out what ECS fills in by default
 * (essential true, cpu 0, the tcp protocol, a host port equal to the
 * container port, empty lists), so a row written that way lists as it
 * was written. Roles are named by IAM role rows; ECS wants their ARNs,
 * which IAM's GetRole gives (a role's path is part of its ARN).
 *
 * A create tags the revision with its idempotency token. After a crash,
 * a read by that token finds the revision the interrupted create made.
 * After a replace whose old revision could not be deregistered (a service
 * that could not be moved), the next try finds the new revision it made
 * by the same token and deregisters it before registering again. Listing
 * costs one ListTaskDefinitions page and one DescribeTaskDefinition per
 * ACTIVE revision; under the poller's rotation a known revision costs its
 * share of a tagging API page (GetResources, 100 a page) and its describe
 * once a rotation. */
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/aws_ecs_fargate/mod_ecs.h"

#define TOKEN_TAG "iasql:token"

static const mod_json_service td_api = {"ecs", "1.1", "AmazonEC2ContainerServiceV20141113",
                                        "task definition"};
static const mod_json_pager td_pager = {"ListTaskDefinitions", "nextToken", "nextToken",
                                        "taskDefinitionArns"};

static int td_call(mod_ctx *ctx, const char *region, const char *op, json_t *body, json_t **out,
                   cm_err *err, const char *name)
{
    return mod_json_op(ctx, &td_api, region, op, body, out, err, name);
}

/* ---- containers ---- */

static const char *const container_keys[] = {
    "name",
    "image",
    "essential",
    "cpu",
    "memory",
    "memoryReservation",
    "portMappings",
    "environment",
    "command",
    "entryPoint",
    "workingDirectory",
    "logConfiguration",
    NULL,
};

static json_t *port_canon(const json_t *p)
{
    json_t *out = json_object();
    json_t *port = json_object_get(p, "containerPort"), *host = json_object_get(p, "hostPort");
    const char *proto = cm_json_str(p, "protocol");
    if (port)
        json_object_set(out, "containerPort", port);
    if (host && !json_equal(host, port))
        json_object_set(out, "hostPort", host);
    if (proto && strcmp(proto, "tcp") != 0)
        json_object_set_new(out, "protocol", json_string(proto));
    return out;
}

/* A container as ECS describes it, in the row's shape: the members this
 * module carries, without ECS's defaults. */
static json_t *container_canon(const json_t *c)
{
    json_t *out = json_object();
    for (int i = 0; container_keys[i]; i++) {
        const char *k = container_keys[i];
        json_t *v = json_object_get(c, k);
        if (!v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0))
            continue;
        if ((strcmp(k, "essential") == 0 && json_is_true(v)) ||
            (strcmp(k, "cpu") == 0 && json_is_integer(v) && json_integer_value(v) == 0))
            continue;
        if (strcmp(k, "portMappings") == 0) {
            json_t *ports = json_array();
            size_t n;
            json_t *p;
            json_array_foreach(v, n, p)
            {
                json_array_append_new(ports, port_canon(p));
            }
            json_object_set_new(out, k, ports);
        } else if (strcmp(k, "logConfiguration") == 0) {
            json_t *lc = json_pack("{s:O?}", "logDriver", json_object_get(v, "logDriver"));
            json_t *opts = json_object_get(v, "options");
            if (json_object_size(opts))
                json_object_set(lc, "options", opts);
            json_object_set_new(out, k, lc);
        } else {
            json_object_set(out, k, v);
        }
    }
    return out;
}

/* "<account>.dkr.ecr.<region>.amazonaws.com/": the registry of this
 * account in region. */
static int registry_of(mod_ctx *ctx, const char *region, char *out, size_t size, cm_err *err)
{
    const char *account;
    int rc = mod_account_id(ctx, &account, err);
    if (!rc && (size_t)snprintf(out, size, "%s.dkr.ecr.%s.amazonaws.com/", account, region) >= size)
        rc = cm_err_set(err, CM_EINVAL, "region %s is too long", region);
    return rc;
}

static json_t *awslogs(const char *group, const char *region, const char *prefix)
{
    return json_pack("{s:s, s:{s:s, s:s, s:s}}", "logDriver", "awslogs", "options", "awslogs-group",
                     group, "awslogs-region", region, "awslogs-stream-prefix", prefix);
}

/* The containerDefinitions a registration sends for desired (references
 * resolved: repository and log_group hold names). */
static int containers_to_send(mod_ctx *ctx, const char *region, const json_t *desired, json_t **out,
                              cm_err *err)
{
    const char *repo = cm_json_str(desired, "repository"), *tag = cm_json_str(desired, "image_tag");
    const char *group = cm_json_str(desired, "log_group");
    const char *prefix = cm_json_str(desired, "log_stream_prefix");
    char registry[256] = "";
    int rc = repo ? registry_of(ctx, region, registry, sizeof registry, err) : 0;
    if (rc)
        return rc;
    json_t *defs = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(desired, "containers"), i, c)
    {
        json_t *d = json_deep_copy(c);
        if (!json_object_get(d, "image") && repo) {
            char image[1024];
            snprintf(image, sizeof image, "%s%s:%s", registry, repo, tag ? tag : "latest");
            json_object_set_new(d, "image", json_string(image));
        }
        if (!json_object_get(d, "logConfiguration") && group)
            json_object_set_new(
                d, "logConfiguration",
                awslogs(group, region, prefix ? prefix : cm_json_str(desired, "family")));
        json_array_append_new(defs, d);
    }
    *out = defs;
    return 0;
}

/* The other way: containers as ECS describes them into row's containers,
 * repository, image_tag, log_group and log_stream_prefix. The first image
 * of this account's registry in region becomes repository and image_tag,
 * and the containers that run exactly it lose their image; the first
 * awslogs configuration of region (group, region and prefix, nothing
 * else) becomes log_group and log_stream_prefix, and the containers that
 * have exactly it lose theirs. */
static void containers_to_row(const char *registry, const char *region, const json_t *defs,
                              json_t *row)
{
    json_t *cs = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(defs, i, c)
    {
        json_array_append_new(cs, container_canon(c));
    }
    char *image = NULL;
    json_t *logs = NULL;
    size_t plen = strlen(registry);
    json_array_foreach(cs, i, c)
    {
        const char *img = cm_json_str(c, "image");
        if (!image && img && strncmp(img, registry, plen) == 0 && strchr(img + plen, ':') &&
            !strchr(img + plen, '@')) {
            image = strdup(img);
            const char *colon = strrchr(image + plen, ':');
            json_object_set_new(row, "repository",
                                json_stringn(image + plen, (size_t)(colon - (image + plen))));
            json_object_set_new(row, "image_tag", json_string(colon + 1));
        }
        const json_t *lc = json_object_get(c, "logConfiguration");
        const json_t *o = json_object_get(lc, "options");
        const char *driver = cm_json_str(lc, "logDriver");
        if (!logs && driver && strcmp(driver, "awslogs") == 0 && json_object_size(o) == 3 &&
            cm_json_str(o, "awslogs-group") && cm_json_str(o, "awslogs-stream-prefix") &&
            cm_json_str(o, "awslogs-region") &&
            strcmp(cm_json_str(o, "awslogs-region"), region) == 0) {
            logs = json_deep_copy(lc);
            json_object_set(row, "log_group", json_object_get(o, "awslogs-group"));
            json_object_set(row, "log_stream_prefix", json_object_get(o, "awslogs-stream-prefix"));
        }
    }
    json_array_foreach(cs, i, c)
    {
        const char *img = cm_json_str(c, "image");
        if (image && img && strcmp(img, image) == 0)
            json_object_del(c, "image");
        if (logs && json_equal(json_object_get(c, "logConfiguration"), logs))
            json_object_del(c, "logConfiguration");
    }
    free(image);
    json_decref(logs);
    json_object_set_new(row, "containers", cs);
}

/* ---- rows ---- */

static json_t *int_of_string(const json_t *v)
{
    const char *s = json_string_value(v);
    char *end;
    long n = s ? strtol(s, &end, 10) : 0;
    return s && *s && !*end ? json_integer(n) : json_null();
}

static bool fargate_only(const json_t *td)
{
    const json_t *compat = json_object_get(td, "requiresCompatibilities");
    const char *mode = cm_json_str(td, "networkMode");
    return json_array_size(compat) == 1 && json_is_string(json_array_get(compat, 0)) &&
           strcmp(json_string_value(json_array_get(compat, 0)), "FARGATE") == 0 && mode &&
           strcmp(mode, "awsvpc") == 0;
}

/* A row image from a DescribeTaskDefinition answer; *out NULL for a
 * revision that is not ACTIVE, or not one this table can hold (not for
 * Fargate alone, or without a task size). *token (if not NULL) receives
 * the token tag. */
static int td_row(mod_ctx *ctx, const char *region, const json_t *reply, json_t **out, char *token,
                  size_t size, cm_err *err)
{
    const json_t *td = json_object_get(reply, "taskDefinition");
    const char *family = cm_json_str(td, "family"), *status = cm_json_str(td, "status");
    *out = NULL;
    if (token)
        mod_owner_in_list(json_object_get(reply, "tags"), TOKEN_TAG, "key", "value", token, size);
    if (!family || !status || strcmp(status, "ACTIVE") != 0 || !fargate_only(td))
        return 0;
    json_t *cpu = int_of_string(json_object_get(td, "cpu")),
           *mem = int_of_string(json_object_get(td, "memory"));
    if (json_is_null(cpu) || json_is_null(mem)) {
        json_decref(cpu);
        json_decref(mem);
        return 0;
    }
    char registry[256];
    int rc = registry_of(ctx, region, registry, sizeof registry, err);
    if (rc) {
        json_decref(cpu);
        json_decref(mem);
        return rc;
    }
    const char *exec = cm_json_str(td, "executionRoleArn"), *task = cm_json_str(td, "taskRoleArn");
    json_t *row = json_pack(
        "{s:s, s:s, s:o, s:o, s:s, s:[s], s:o, s:o, s:n, s:n, s:n, s:n, s:o, s:o, s:O?}", "family",
        family, "region", region, "cpu", cpu, "memory", mem, "network_mode", "awsvpc",
        "requires_compatibilities", "FARGATE", "execution_role",
        ecs_str_or_null(ecs_arn_tail(exec)), "task_role", ecs_str_or_null(ecs_arn_tail(task)),
        "repository", "image_tag", "log_group", "log_stream_prefix", "tags",
        mod_tags_from_list(json_object_get(reply, "tags"), "key", "value"), "task_definition_arn",
        ecs_str_or_null(cm_json_str(td, "taskDefinitionArn")), "revision",
        json_object_get(td, "revision"));
    if (!row)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    containers_to_row(registry, region, json_object_get(td, "containerDefinitions"), row);
    *out = mod_take_owner(row);
    return 0;
}

static int describe_td(mod_ctx *ctx, const char *region, const char *arn, json_t **reply,
                       cm_err *err)
{
    int rc = td_call(ctx, region, "DescribeTaskDefinition",
                     json_pack("{s:s, s:[s]}", "taskDefinition", arn, "include", "TAGS"), reply,
                     err, arn);
    if (rc && strcmp(err->cloud_code, "ClientException") == 0)
        rc = cm_err_set(err, CM_ENOTFOUND, "task definition %s does not exist in %s", arn, region);
    return rc;
}

/* A region's listing: its rows, and under the poller's rotation the tags
 * of its revisions by ARN from the tagging API (asked once, at the first
 * known revision; null when that API is not served). */
typedef struct region_rows {
    json_t *rows;
    json_t *tagged;
    bool asked;
} region_rows;

/* A known revision outside its slot: what its ARN says (family, revision)
 * and its tags from the tagging API. Everything else of a revision is
 * fixed in ECS, and keeps its known values. */
static json_t *partial_row(const char *region, const char *arn, const json_t *tags)
{
    const char *slash = strrchr(arn, '/'), *colon = strrchr(arn, ':');
    if (!slash || !colon || colon < slash)
        return NULL;
    char family[256];
    snprintf(family, sizeof family, "%.*s", (int)(colon - slash - 1), slash + 1);
    json_t *row =
        json_pack("{s:s, s:s, s:s, s:I, s:O, s:b}", "task_definition_arn", arn, "family", family,
                  "region", region, "revision", (json_int_t)strtoll(colon + 1, NULL, 10), "tags",
                  tags, MOD_PARTIAL_KEY, 1);
    return mod_take_owner(row);
}

static int collect(mod_ctx *ctx, const char *region, const json_t *item, void *arg, cm_err *err)
{
    region_rows *rr = arg;
    const char *arn = json_string_value(item);
    if (arn && mod_deep_known(ctx, region, arn) && !mod_deep_wanted(ctx, region, arn)) {
        if (!rr->asked) {
            cm_err terr = {0};
            if (mod_tagged(ctx, region, "ecs:task-definition", &rr->tagged, &terr))
                cm_log(CM_LOG_DEBUG, "task definition tags in %s through the tagging API: %s",
                       region, terr.msg);
            rr->asked = true;
        }
        const json_t *t = rr->tagged ? json_object_get(rr->tagged, arn) : NULL;
        json_t *tags = t ? json_incref((json_t *)t) : json_object();
        json_t *row = rr->tagged ? partial_row(region, arn, tags) : NULL;
        json_decref(tags);
        if (row) {
            json_array_append_new(rr->rows, row);
            return 0;
        }
    }
    json_t *reply = NULL, *row = NULL;
    int rc = arn ? describe_td(ctx, region, arn, &reply, err) : 0;
    if (!rc && reply)
        rc = td_row(ctx, region, reply, &row, NULL, 0, err);
    json_decref(reply);
    if (!rc && !row)
        return 0;
    return mod_keep_found(rr->rows, rc, row, err);
}

static int td_list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    json_t *body = json_pack("{s:s}", "status", "ACTIVE");
    region_rows rr = {rows, NULL, false};
    int rc = mod_json_each(ctx, &td_api, &td_pager, region, body, collect, &rr, "(all)", err);
    json_decref(body);
    json_decref(rr.tagged);
    return rc;
}

static int td_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                   cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, td_list_region, out, err);
}

static int td_names(const json_t *img, const char **family, const char **region, cm_err *err)
{
    return mod_image_names(img, "task definition", "family", family, region, err);
}

/* The family's newest ACTIVE revision when it carries token: *out its row,
 * else NULL. */
static int find_by_token(mod_ctx *ctx, const char *region, const char *family, const char *token,
                         json_t **out, cm_err *err)
{
    *out = NULL;
    json_t *reply = NULL;
    int rc = td_call(ctx, region, "ListTaskDefinitions",
                     json_pack("{s:s, s:s, s:s, s:i}", "familyPrefix", family, "status", "ACTIVE",
                               "sort", "DESC", "maxResults", 10),
                     &reply, err, family);
    const char *newest = NULL;
    long best = -1;
    size_t i;
    json_t *a;
    json_array_foreach(rc ? NULL : json_object_get(reply, "taskDefinitionArns"), i, a)
    {
        const char *arn = json_string_value(a), *colon = arn ? strrchr(arn, ':') : NULL;
        long rev = colon ? strtol(colon + 1, NULL, 10) : -1;
        const char *tail = ecs_arn_tail(arn);
        if (rev > best && tail && strncmp(tail, family, strlen(family)) == 0 &&
            tail[strlen(family)] == ':')
            best = rev, newest = arn;
    }
    json_t *desc = NULL;
    if (!rc && newest)
        rc = describe_td(ctx, region, newest, &desc, err);
    char found[128] = "";
    json_t *row = NULL;
    if (!rc && desc)
        rc = td_row(ctx, region, desc, &row, found, sizeof found, err);
    if (!rc && row && strcmp(found, token) == 0)
        *out = json_incref(row);
    json_decref(row);
    json_decref(desc);
    json_decref(reply);
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static int td_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *family, *region;
    int rc = td_names(image, &family, &region, err);
    if (rc)
        return rc;
    if (mod_ctx_token(ctx)) { /* a create whose outcome is unknown */
        rc = find_by_token(ctx, region, family, mod_ctx_token(ctx), out, err);
        if (rc || *out)
            return rc;
    }
    const char *arn = cm_json_str(image, "task_definition_arn");
    if (!arn)
        return cm_err_set(err, CM_ENOTFOUND, "task definition %s has no revision in %s", family,
                          region);
    json_t *reply = NULL;
    rc = describe_td(ctx, region, arn, &reply, err);
    if (!rc)
        rc = td_row(ctx, region, reply, out, NULL, 0, err);
    json_decref(reply);
    if (!rc && !*out)
        rc = cm_err_set(err, CM_ENOTFOUND, "task definition %s is not ACTIVE in %s", arn, region);
    return rc;
}

static json_t *td_with_owned(const json_t *desired, const json_t *cloud)
{
    json_t *out = json_deep_copy(desired);
    static const char *const owned[] = {"task_definition_arn", "revision", NULL};
    for (int i = 0; owned[i]; i++) {
        json_t *v = json_object_get(cloud, owned[i]);
        json_object_set(out, owned[i], v ? v : json_null());
    }
    return out;
}

/* Deregisters the revision arn; one already gone (or INACTIVE) is
 * success. */
static int deregister(mod_ctx *ctx, const char *region, const char *arn, cm_err *err)
{
    int rc = td_call(ctx, region, "DeregisterTaskDefinition",
                     json_pack("{s:s}", "taskDefinition", arn), NULL, err, arn);
    if (rc && strcmp(err->cloud_code, "ClientException") == 0) {
        /* gone already? (ECS says ClientException for a revision it does
         * not have) */
        cm_err saved = *err;
        json_t *reply = NULL;
        cm_err_clear(err);
        int r = describe_td(ctx, region, arn, &reply, err);
        const char *status =
            r ? NULL : cm_json_str(json_object_get(reply, "taskDefinition"), "status");
        json_decref(reply);
        if (r == CM_ENOTFOUND || (status && strcmp(status, "ACTIVE") != 0)) {
            cm_err_clear(err);
            return 0;
        }
        *err = saved;
        rc = saved.code;
    }
    return rc;
}

static int td_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *family, *region;
    int rc = td_names(desired, &family, &region, err);
    if (rc)
        return rc;
    const char *token = mod_ctx_token(ctx);
    json_t *made = NULL;
    /* An earlier attempt's revision that never took the row's place (its
     * replace failed after it was made): deregistered rather than taken,
     * since the row may have changed since under the same token, and a
     * sync may have listed it as a row of its own (which then goes). */
    if (token)
        rc = find_by_token(ctx, region, family, token, &made, err);
    if (!rc && made)
        rc = deregister(ctx, region, cm_json_str(made, "task_definition_arn"), err);
    json_decref(made);
    if (rc)
        return rc;
    json_t *defs = NULL;
    rc = containers_to_send(ctx, region, desired, &defs, err);
    char cpu[16], mem[16];
    snprintf(cpu, sizeof cpu, "%lld",
             (long long)json_integer_value(json_object_get(desired, "cpu")));
    snprintf(mem, sizeof mem, "%lld",
             (long long)json_integer_value(json_object_get(desired, "memory")));
    json_t *tags = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    if (token)
        json_object_set_new(tags, TOKEN_TAG, json_string(token));
    json_t *body = json_pack("{s:s, s:s, s:o, s:[s], s:s, s:s, s:o}", "family", family,
                             "networkMode", "awsvpc", "containerDefinitions",
                             defs ? defs : json_array(), "requiresCompatibilities", "FARGATE",
                             "cpu", cpu, "memory", mem, "tags", ecs_tags_to_list(tags));
    json_decref(tags);
    static const char *const roles[][2] = {{"execution_role", "executionRoleArn"},
                                           {"task_role", "taskRoleArn"}};
    for (int i = 0; !rc && i < 2; i++) {
        const char *name = cm_json_str(desired, roles[i][0]);
        char arn[2048];
        if (name && !(rc = mod_role_arn(ctx, name, arn, sizeof arn, err)))
            json_object_set_new(body, roles[i][1], json_string(arn));
    }
    json_t *reply = NULL;
    if (!rc)
        rc = td_call(ctx, region, "RegisterTaskDefinition", body, &reply, err, family);
    else
        json_decref(body);
    const json_t *td = json_object_get(reply, "taskDefinition");
    if (!rc && !cm_json_str(td, "taskDefinitionArn"))
        rc = cm_err_set(err, CM_EBADREPLY,
                        "RegisterTaskDefinition for task definition %s: no ARN in the answer",
                        family);
    if (!rc) {
        json_t *cloud =
            json_pack("{s:s, s:O?}", "task_definition_arn", cm_json_str(td, "taskDefinitionArn"),
                      "revision", json_object_get(td, "revision"));
        *out = td_with_owned(desired, cloud);
        json_decref(cloud);
    }
    json_decref(reply);
    return rc;
}

/* Only the tags of a revision change in place. */
static int td_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                     cm_err *err)
{
    const char *family, *region;
    int rc = td_names(desired, &family, &region, err);
    if (rc)
        return rc;
    const char *arn = cm_json_str(known, "task_definition_arn");
    if (!arn)
        return cm_err_set(err, CM_EINVAL, "task definition %s has no revision to tag", family);
    rc = ecs_tags_converge(ctx, &td_api, region, arn, known, desired, err);
    if (!rc)
        *out = td_with_owned(desired, known);
    return rc;
}

static int td_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *family, *region;
    int rc = td_names(known, &family, &region, err);
    const char *arn = cm_json_str(known, "task_definition_arn");
    return rc || !arn ? rc : deregister(ctx, region, arn, err);
}

static const mod_table_ops td_ops = {
    .list = td_list,
    .read = td_read,
    .create = td_create,
    .update = td_update,
    .remove = td_remove,
};

#define IMM MOD_COL_IMMUTABLE
static const mod_column td_columns[] = {
    {"task_definition_arn", MOD_COL_CLOUD_ID | MOD_COL_CLOUD_OWNED},
    {"family", IMM},
    {"region", IMM},
    {"cpu", IMM},
    {"memory", IMM},
    {"network_mode", IMM},
    {"requires_compatibilities", IMM},
    {"execution_role", IMM, "iam_role"},
    {"task_role", IMM, "iam_role"},
    {"containers", IMM},
    {"repository", IMM, "repository"},
    {"image_tag", IMM},
    {"log_group", IMM, "log_group"},
    {"log_stream_prefix", IMM},
    {"tags", 0},
    {"revision", MOD_COL_CLOUD_OWNED},
    {NULL, 0},
};

/* What only DescribeTaskDefinition returns (fixed for a revision): it
 * follows the rotation. */
static const char *const td_deep[] = {"cpu",
                                      "memory",
                                      "network_mode",
                                      "requires_compatibilities",
                                      "execution_role",
                                      "task_role",
                                      "containers",
                                      "repository",
                                      "image_tag",
                                      "log_group",
                                      "log_stream_prefix",
                                      NULL};
const mod_table ecs_task_definition_table = {
    .name = "task_definition",
    .columns = td_columns,
    .ops = &td_ops,
    .service = "ecs",
    .replace_new_first = true,
    .deep = td_deep,
};
