/* modules/aws_account/mod_account.c — module aws_account: the regions a
 * database manages. A local table: nothing in it is sent to the cloud. */
#include "modules/mod.h"

extern const char iasql_sql_aws_account[];

static const mod_column regions_columns[] = {
    {"region", 0}, {"is_default", 0}, {"is_enabled", 0}, {NULL, 0}};

static const mod_table regions_table = {"aws_regions", regions_columns, NULL};

static const mod_table *const account_tables[] = {&regions_table, NULL};
static const char *const account_deps[] = {NULL};

/* The commercial regions; $1, the engine's default region, is enabled and
 * default (and added if it is not in this list). */
static const char account_seed[] =
    "INSERT INTO aws_regions (region, is_default, is_enabled) "
    "SELECT r, r = $1, r = $1 FROM unnest(ARRAY["
    "'us-east-1','us-east-2','us-west-1','us-west-2','af-south-1','ap-east-1',"
    "'ap-south-1','ap-south-2','ap-southeast-1','ap-southeast-2','ap-southeast-3',"
    "'ap-southeast-4','ap-northeast-1','ap-northeast-2','ap-northeast-3','ca-central-1',"
    "'eu-central-1','eu-central-2','eu-west-1','eu-west-2','eu-west-3','eu-south-1',"
    "'eu-south-2','eu-north-1','il-central-1','me-south-1','me-central-1','sa-east-1',"
    "$1]) AS r GROUP BY r ON CONFLICT (region) DO NOTHING";

const mod_module mod_aws_account = {
    .name = "aws_account",
    .version = IASQL_VERSION,
    .deps = account_deps,
    .install_sql = iasql_sql_aws_account,
    .seed_sql = account_seed,
    .uninstall_sql = "DROP FUNCTION IF EXISTS default_aws_region(); "
                     "DROP FUNCTION IF EXISTS aws_regions_check_default();",
    .tables = account_tables,
};
