/* modules/aws_ecs_fargate/mod_ecs.h — private to the module: what its two
 * files share (ECS's tag shape, a few small helpers, the task definition
 * table). */
#ifndef IASQL_MOD_ECS_H
#define IASQL_MOD_ECS_H

#include "modules/mod_int.h"

extern const mod_json_service ecs_cluster_api;
extern const mod_table ecs_task_definition_table;

/* An object of tags as ECS takes them, [{"key": k, "value": v}]. */
json_t *ecs_tags_to_list(const json_t *tags);
/* TagResource and UntagResource on arn, from known's tags to desired's. */
int ecs_tags_converge(mod_ctx *ctx, const mod_json_service *svc, const char *region,
                      const char *arn, const json_t *known, const json_t *desired, cm_err *err);
/* Whether column col differs between two images (absent = null). */
bool ecs_differs(const json_t *known, const json_t *desired, const char *col);
/* What follows an ARN's last '/' (a cluster's or a role's name); borrowed. */
const char *ecs_arn_tail(const char *arn);
/* s as a JSON string, or null. */
json_t *ecs_str_or_null(const char *s);

#endif
