/* modules/aws_rds/mod_rds.h — private to modules/aws_rds/: what the tables
 * of module aws_rds share over RDS's query protocol (2014-10-31). RDS names
 * the items of a list by their own element (<DBInstances><DBInstance>),
 * the members of a request list likewise (Tags.Tag.1.Key,
 * VpcSecurityGroupIds.VpcSecurityGroupId.1), and gives a resource's tags
 * only in DescribeDBInstances' and DescribeDBClusters' answers; the groups
 * need a ListTagsForResource each. */
#ifndef IASQL_MOD_RDS_H
#define IASQL_MOD_RDS_H

#include "modules/mod_int.h"

#define RDS_SERVICE "rds"
#define RDS_VERSION "2014-10-31"
/* The largest page a Describe* gives (MaxRecords: 20 to 100). */
#define RDS_PAGE 100

/* The mask an imported database's password gets: there is one, and RDS
 * never tells it. */
#define RDS_PASSWORD_MASK MOD_SECRET_PREFIX "rds"

extern const mod_query_service rds_api;

/* A column of img as a string ("" when absent or not a string). */
const char *rds_str(const json_t *img, const char *col);
/* Whether column col differs between known and desired. */
bool rds_differs(const json_t *known, const json_t *desired, const char *col);
/* The child name of n as an integer, a boolean (false when absent), or a
 * string (null when absent or empty). */
json_t *rds_xml_int(xmlNodePtr n, const char *name);
json_t *rds_xml_bool(xmlNodePtr n, const char *name);
json_t *rds_xml_str(xmlNodePtr n, const char *name);
/* The TagList below n as a row's tags, the owner's left in for
 * mod_take_owner. */
json_t *rds_xml_tags(xmlNodePtr n);
/* Tags.Tag.N.Key/Value of tags plus the owner's: what a create sends. */
void rds_put_tags(mod_ctx *ctx, json_t *params, const json_t *tags);
/* The strings of arr as prefix.N ("SubnetIds.SubnetIdentifier.1"). */
void rds_put_list(json_t *params, const char *prefix, const json_t *arr);
/* A resource's tags from known to desired (AddTagsToResource,
 * RemoveTagsFromResource), by its ARN. */
int rds_retag(mod_ctx *ctx, const char *region, const char *arn, const json_t *known,
              const json_t *desired, cm_err *err);
/* ListTagsForResource of arn: *out the tags object (owner included). */
int rds_list_tags(mod_ctx *ctx, const char *region, const char *arn, json_t **out, cm_err *err);
/* A resource that exists already (an earlier attempt, or made outside)
 * about to become the row's: its tags from had (owner under
 * MOD_OWNER_KEY) to desired's plus this database's owner tag. Refuses one
 * another iasql database made. */
int rds_adopt_tags(mod_ctx *ctx, const char *noun, const char *name, const char *region,
                   const char *arn, const json_t *had, const json_t *desired, cm_err *err);
/* desired with the cloud-owned columns named (NULL-terminated) from cloud. */
json_t *rds_with_owned(const json_t *desired, const json_t *cloud, const char *const *owned);
/* Whether an RDS error code says the resource is not there. */
bool rds_gone(const cm_err *err);

/* The row image of one <DBInstance> of a DescribeDBInstances (or Create,
 * Modify) answer in region. Where PendingModifiedValues holds a change not
 * yet applied (the next maintenance window), the column shows that value,
 * where the resource is going, and pending_modified_values shows what
 * waits, so that a poll never takes the old value for drift. */
json_t *rds_instance_row(const char *region, xmlNodePtr m);
/* The same for a <DBCluster>. */
json_t *rds_cluster_row(const char *region, xmlNodePtr m);

extern const mod_table rds_subnet_group_table;
extern const mod_table rds_parameter_group_table;

#endif
