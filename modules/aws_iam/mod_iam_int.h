/* modules/aws_iam/mod_iam_int.h — private to modules/aws_iam/: IAM's query
 * protocol as the module's tables share it. */
#ifndef IASQL_MOD_IAM_INT_H
#define IASQL_MOD_IAM_INT_H

#include "modules/mod_int.h"

/* Any region of the partition: IAM's endpoint is the partition's. */
#define IAM_REGION (ctx->default_region)

/* IAM's "not found" code. */
bool iam_gone(const char *code);
/* One IAM action (mod_query_op in the partition's region). */
int iam_call(const mod_query_service *svc, mod_ctx *ctx, const char *action, json_t *params,
             xmlDocPtr *doc, xmlNodePtr *res, cm_err *err, const char *name);
/* Tags of a Tags/member list, without AWS's own (the owner tag kept for
 * mod_take_owner). A new reference. */
json_t *iam_tags_of(xmlNodePtr tags);
/* Every member of the named list of a List* action (Marker / IsTruncated);
 * takes params. */
int iam_list_marker(mod_ctx *ctx, const mod_query_service *svc, const char *action,
                    const char *list, json_t *params, mod_member_fn fn, void *arg, cm_err *err,
                    const char *name);
/* Every resource of a List* action as row images (fn appends to *out). */
int iam_list_all(mod_ctx *ctx, const mod_query_service *svc, const char *action, const char *list,
                 json_t *params, mod_member_fn fn, json_t **out, cm_err *err);
/* A mod_member_fn appending a member's PolicyArn to the array arg. */
int iam_collect_arn(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg, cm_err *err);
/* Sorts an array of strings in place. */
void iam_sort_strings(json_t *arr);
bool iam_in_array(const json_t *arr, const json_t *v);

extern const mod_table iam_user_table;
extern const mod_table iam_profile_table;

#endif
