/* modules/aws/mod_ec2.h — private to modules/: the EC2 query protocol as the
 * VPC, security group and instance modules use it. */
#ifndef IASQL_MOD_EC2_H
#define IASQL_MOD_EC2_H

#include "modules/mod_int.h"

/* The tag an engine puts on what it creates with an idempotency token, so
 * that a read after a crash finds the resource by the token. Tags under
 * "iasql:" are the engine's and never appear in a row's tags. */
#define EC2_TOKEN_TAG "iasql:client-token"

/* One EC2 action: takes params; *out (when out is not NULL) is the answer's
 * root element inside *doc (free with xmlFreeDoc). Errors read
 * "<action> for <what>: <code>: <message>"; code receives the AWS code.
 * EC2 is eventually consistent: a create or change that names a resource
 * made a moment ago may be told it does not exist (*.NotFound, for the ids
 * of VPCs, subnets, groups, gateways, route tables, instances, key pairs,
 * elastic IP allocations and NAT gateways), and a delete may be told
 * something still uses what it deletes (DependencyViolation, or
 * InvalidIPAddress.InUse for an address a NAT gateway being deleted still
 * holds) while that goes away: both are retried with backoff for a while.
 * A delete (or detach, disassociate, release, revoke, terminate) told
 * *.NotFound has nothing left to do: that is success. */
int ec2_op(mod_ctx *ctx, const char *region, const char *action, json_t *params, xmlDocPtr *doc,
           xmlNodePtr *out, cm_err *err, const char *what);

/* A create: params (taken) with the tag specification of tags for
 * resource_type; id receives the text of the answer's id_path
 * ("vpc/vpcId"). code as for ec2_op. */
int ec2_create(mod_ctx *ctx, const char *region, const char *action, json_t *params,
               const char *resource_type, const json_t *tags, const char *id_path, char *id,
               size_t size, cm_err *err, const char *what);

/* Deletes the resource whose id is known's column col, sent as param; a
 * row without one has nothing in the cloud. */
int ec2_delete(mod_ctx *ctx, const json_t *known, const char *action, const char *param,
               const char *col, cm_err *err);

/* An update's image: desired, with the cloud-owned columns named (a list
 * ending with NULL) as known has them. */
json_t *ec2_updated(const json_t *known, const json_t *desired, ...);

/* Every item of the list set (e.g. "vpcSet") below the answer of a
 * Describe action, all pages: fn is called per item and returns non-zero
 * to stop with that code. params is taken. */
int ec2_each(mod_ctx *ctx, const char *region, const char *action, json_t *params, const char *set,
             int (*fn)(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err),
             void *arg, cm_err *err);

/* The same over every region of a list call. */
int ec2_each_region(mod_ctx *ctx, const char *const *regions, size_t nregions, const char *action,
                    const char *set,
                    int (*fn)(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg,
                              cm_err *err),
                    void *arg, cm_err *err);

/* A row's tags from an item's tagSet; "aws:" and "iasql:" keys left out. */
json_t *ec2_tags(xmlNodePtr item);
/* TagSpecification.1 for resource_type with tags, and the token tag when
 * the context carries a token. */
/* row, with the database identity the item is tagged with (MOD_OWNER_TAG)
 * under MOD_OWNER_KEY when it has one. */
json_t *ec2_owned(xmlNodePtr item, json_t *row);
void ec2_tag_spec(mod_ctx *ctx, json_t *params, const char *resource_type, const json_t *tags);
/* CreateTags / DeleteTags from known's tags to desired's. */
int ec2_retag(mod_ctx *ctx, const char *region, const char *id, const json_t *known,
              const json_t *desired, cm_err *err);
/* Filter.1 tag:iasql:client-token = the context's token; false when none. */
bool ec2_token_filter(mod_ctx *ctx, json_t *params);

/* Child values as JSON: text (null when absent), boolean, integer. */
json_t *ec2_text(xmlNodePtr item, const char *name);
json_t *ec2_bool(xmlNodePtr item, const char *name);
json_t *ec2_int(xmlNodePtr item, const char *name);
/* A blob parameter (base64 of s). */
json_t *ec2_blob(const char *s);
/* The text a blob answer (base64) holds; null when it is empty, not
 * base64, or not text (invalid UTF-8, or a NUL byte). */
json_t *ec2_unblob(const char *b64);
/* A string member of a row image ("" when absent). */
const char *ec2_str(const json_t *img, const char *name);

/* The answer of a read by id: the one item of set, made into a row by fn;
 * CM_ENOTFOUND when the list is empty or the id is unknown. */
typedef json_t *(*ec2_row_fn)(mod_ctx *ctx, const char *region, xmlNodePtr item);
int ec2_read_one(mod_ctx *ctx, const char *region, const char *action, json_t *params,
                 const char *set, ec2_row_fn fn, json_t **out, cm_err *err);

#endif
