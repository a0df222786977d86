/* modules/aws_vpc/mod_vpc_int.h — private to modules/aws_vpc/: the tables
 * each file of the module describes, and what they share. */
#ifndef IASQL_MOD_VPC_INT_H
#define IASQL_MOD_VPC_INT_H

#include "modules/aws/mod_ec2.h"

#define IMM MOD_COL_IMMUTABLE
#define OWNED MOD_COL_CLOUD_OWNED
#define CID (MOD_COL_CLOUD_ID | MOD_COL_CLOUD_OWNED)

/* Appends row (taken; NULL: nothing) to the array rows. */
int vpc_keep_row(json_t *rows, json_t *row);

/* An id-named read: action with <id_param>.1 = the image's id column, or,
 * when the image has none yet, the resource tagged with the context's
 * token; the one item of set made into a row by fn. CM_ENOTFOUND when
 * there is none. */
int vpc_read_by_id(mod_ctx *ctx, const json_t *image, const char *id_col, const char *id_param,
                   const char *action, const char *set, ec2_row_fn fn, json_t **out, cm_err *err);

/* mod_vpc_nat.c */
extern const mod_table vpc_zone_table;
extern const mod_table vpc_eip_table;
extern const mod_table vpc_nat_table;
/* mod_vpc_endpoint.c */
extern const mod_table vpc_assoc_table;
extern const mod_table vpc_endpoint_table;

#endif
