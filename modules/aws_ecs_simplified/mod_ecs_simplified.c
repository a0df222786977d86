/* modules/aws_ecs_simplified/mod_ecs_simplified.c — module aws_ecs_simplified:
 * a container behind a load balancer as one row of the view ecs_simplified,
 * whose triggers write the rows of the modules below (aws_ecs_simplified.sql).
 * Only SQL: it has no table of its own, so nothing here reaches the cloud;
 * the commit applies the rows it wrote as any others. */
#include "modules/mod.h"

extern const char iasql_sql_aws_ecs_simplified[];

static const mod_table *const simplified_tables[] = {NULL};
static const char *const simplified_deps[] = {
    "aws_account", "aws_vpc", "aws_security_group", "aws_iam", "aws_cloudwatch",
    "aws_ecr",     "aws_elb", "aws_ecs_fargate",    NULL};

const mod_module mod_aws_ecs_simplified = {
    .name = "aws_ecs_simplified",
    .version = IASQL_VERSION,
    .deps = simplified_deps,
    .install_sql = iasql_sql_aws_ecs_simplified,
    /* its trigger and the functions over its row type, then the view: it
     * reads the tables of the modules it depends on */
    .pre_uninstall_sql = "DROP TRIGGER IF EXISTS ecs_simplified_write ON ecs_simplified;\n"
                         "DROP FUNCTION IF EXISTS ecs_simplified_write();\n"
                         "DROP FUNCTION IF EXISTS ecs_simplified_update(ecs_simplified, "
                         "ecs_simplified);\n"
                         "DROP FUNCTION IF EXISTS ecs_simplified_delete(ecs_simplified);\n"
                         "DROP FUNCTION IF EXISTS ecs_simplified_insert(ecs_simplified);\n"
                         "DROP FUNCTION IF EXISTS ecs_simplified_check(ecs_simplified);\n"
                         "DROP FUNCTION IF EXISTS ecs_simplified_containers(ecs_simplified);\n"
                         "DROP VIEW IF EXISTS ecs_simplified;\n",
    .uninstall_sql = "DROP FUNCTION IF EXISTS ecs_simplified_image_repository(text);\n"
                     "DROP FUNCTION IF EXISTS ecs_simplified_image_tag(text);\n"
                     "DROP DOMAIN IF EXISTS ecs_simplified_name, ecs_simplified_port, "
                     "ecs_simplified_count, ecs_simplified_cpu, ecs_simplified_memory, "
                     "ecs_simplified_image, ecs_simplified_tag, ecs_simplified_environment;\n"
                     "DROP FUNCTION IF EXISTS ecs_simplified_environment_valid(jsonb);\n",
    .tables = simplified_tables,
};
