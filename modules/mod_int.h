/* modules/mod_int.h — private to modules/: the module platform, how a module
 * reaches AWS (implemented in modules/aws/mod_*.c). */
#ifndef IASQL_MOD_INT_H
#define IASQL_MOD_INT_H

#include "modules/aws/aws.h"
#include "modules/aws/aws_xml.h"
#include "modules/mod.h"

struct mod_ctx {
    aws_client *aws;
    char *default_region;
    char account[32];     /* the account id, once asked (STS GetCallerIdentity) */
    const char *token;    /* the current action's idempotency token */
    char owner[64];       /* the database's identity (mod_ctx_set_owner), "" when not set */
    const mod_deep *deep; /* mod_ctx_set_deep; NULL: read everything */
    json_t *notes;        /* mod_ctx_note */
    mod_ctx **workers;    /* mod_ctx_worker */
    int nworkers;
};

/* Sends req and, on failure, prefixes err with what was being done. */
int mod_aws_call(mod_ctx *ctx, const aws_request *req, aws_response *resp, cm_err *err,
                 const char *what);

/* A JSON-protocol call (version "1.0" or "1.1") prefixing errors with
 * what; code (if not NULL) receives the AWS error code. */
int mod_json_call(mod_ctx *ctx, const char *service, const char *version, const char *region,
                  const char *target, const json_t *body, json_t **out, cm_err *err,
                  const char *what);

/* Polls probe until it sets *done, with backoff from 50 ms to 2 s, for at
 * most max_ms: AWS's own waiters, for resources that pass through CREATING,
 * UPDATING or DELETING. CM_ERETRY when time runs out, naming what. */
int mod_wait(mod_ctx *ctx, int (*probe)(mod_ctx *ctx, const void *arg, bool *done, cm_err *err),
             const void *arg, int max_ms, const char *what, cm_err *err);
/* The same with the backoff growing to cap_ms between probes, for
 * resources that take many minutes (an RDS instance: AWS's own waiter
 * asks every 30 s). */
int mod_wait_capped(mod_ctx *ctx,
                    int (*probe)(mod_ctx *ctx, const void *arg, bool *done, cm_err *err),
                    const void *arg, int max_ms, int cap_ms, const char *what, cm_err *err);

/* A JSON-protocol service as data: signing name, protocol version, the
 * prefix of its X-Amz-Target, and what its resources are called in
 * messages. */
typedef struct mod_json_service {
    const char *service;
    const char *version;
    const char *target_prefix;
    const char *noun;
} mod_json_service;

/* One operation of svc: takes body; *out (when out is not NULL) is the
 * answer; errors read "<op> for <noun> <name>: ..."; code (if not NULL)
 * receives the AWS error code. */
int mod_json_op(mod_ctx *ctx, const mod_json_service *svc, const char *region, const char *op,
                json_t *body, json_t **out, cm_err *err, const char *name);

/* A JSON-protocol paginator as data, as botocore's paginators-1.json has
 * it: the operation, the request member that carries the token, the
 * answer's member that holds the next one (NULL: the next token is the
 * page's last item, as Kinesis' ExclusiveStartStreamName), the answer's
 * list, and the boolean member that says more pages follow (NULL: a next
 * token says so). */
typedef struct mod_json_pager {
    const char *op;
    const char *input_token, *output_token;
    const char *items;
    const char *more_results;
    const char *last_item_key; /* with no output_token: the last item's member that is the token
                                * (NULL: the item is a string) */
} mod_json_pager;

/* Called for each item a listing finds; returns 0 to go on, 1 to stop
 * (found what was wanted), or an error. */
typedef int (*mod_item_fn)(mod_ctx *ctx, const char *region, const json_t *item, void *arg,
                           cm_err *err);

/* Called for each page (the whole answer) of a paginator; returns as a
 * mod_item_fn does. */
typedef int (*mod_page_fn)(mod_ctx *ctx, const char *region, const json_t *page, void *arg,
                           cm_err *err);
/* Every page of pager in region, each request body (borrowed, copied) plus
 * the token. */
int mod_json_pages(mod_ctx *ctx, const mod_json_service *svc, const mod_json_pager *pager,
                   const char *region, const json_t *body, mod_page_fn fn, void *arg,
                   const char *what, cm_err *err);
/* Every item of every page of pager in region: each request is body (borrowed,
 * copied) plus the token; fn sees each item. Errors read "<op> for <noun>
 * <what>". */
int mod_json_each(mod_ctx *ctx, const mod_json_service *svc, const mod_json_pager *pager,
                  const char *region, const json_t *body, mod_item_fn fn, void *arg,
                  const char *what, cm_err *err);

/* A mod_item_fn over tags as [{"Key": k, "Value": v}] that stops at the
 * owner tag, copying its value into out (size bytes). */
typedef struct mod_owner_want {
    const char *tag; /* MOD_OWNER_TAG, or a service's own spelling of it */
    char *out;
    size_t size;
} mod_owner_want;
int mod_owner_item(mod_ctx *ctx, const char *region, const json_t *tag, void *want, cm_err *err);

/* The tags of every resource of resource_type ("s3", "sqs", ...: the
 * Resource Groups Tagging API's filter) in region that has or had tags:
 * *out is an object ARN -> {key: value} ("aws:" keys left out, the
 * owner tag kept for mod_take_owner). A resource it does not name has no
 * tags. One request per 100 resources. */
int mod_tagged(mod_ctx *ctx, const char *region, const char *resource_type, json_t **out,
               cm_err *err);
/* The same by name: the part of each ARN after marker (after its last ':'
 * when marker is NULL), without a trailing ":*". NULL when the tagging API
 * is not served (logged at debug): the caller reads each resource's tags. */
json_t *mod_tagged_by_name(mod_ctx *ctx, const char *region, const char *resource_type,
                           const char *marker);
/* Whether the poller's rotation is on and knows the resource of handle in
 * region (then a partial row of it is kept up to date from its known
 * state; see mod_deep_wanted). */
bool mod_deep_known(const mod_ctx *ctx, const char *region, const char *handle);
/* Whether the rotation's slot of handle comes up now, known or not (true
 * when there is no rotation): for a table that reads, in their turn, also
 * resources it does not know (a bucket's website: any bucket may get one). */
bool mod_deep_turn(const mod_ctx *ctx, const char *region, const char *handle);

/* The marker row of a parent whose children this listing leaves out
 * (mod_parent_wanted said no): column = parent, region (NULL: none) and
 * MOD_UNLISTED_KEY. */
json_t *mod_unlisted(const char *column, const char *parent, const char *region);
/* The two together, as a listing by parent uses them: when this listing
 * leaves parent out (mod_parent_wanted with count), appends its marker row
 * to rows and is true; else false, and the parent's children are to be
 * listed. */
bool mod_parent_left_out(const mod_ctx *ctx, json_t *rows, const char *column, const char *region,
                         const char *parent, long count);
/* What a listing learnt of how a service answers, kept with the context
 * for its next listings (the poller's context lives as long as the
 * engine): 1 or 0 as set, -1 when never set. */
int mod_ctx_note(const mod_ctx *ctx, const char *key);
void mod_ctx_set_note(mod_ctx *ctx, const char *key, bool value);

/* A table's list over the regions asked: region_fn appends the rows of one
 * region to rows. *out is every region's rows, or nothing on an error. */
typedef int (*mod_region_fn)(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err);
int mod_list_regions(mod_ctx *ctx, const char *const *regions, size_t nregions,
                     mod_region_fn region_fn, json_t **out, cm_err *err);

/* A query-protocol service as data (SNS, IAM, STS): signing name, API
 * version, and what its resources are called in messages. */
typedef struct mod_query_service {
    const char *service;
    const char *version;
    const char *noun;
} mod_query_service;

/* One action of svc: takes params (flattened keys, see aws_query_call);
 * *out (when out is not NULL) is the parsed answer, to free with
 * xmlFreeDoc; *result (when result is not NULL) points at its
 * <Action>Result element, inside *out, so result needs out. Errors read "<action> for <noun>
 * <name>: ...". */
int mod_query_op(mod_ctx *ctx, const mod_query_service *svc, const char *region, const char *action,
                 json_t *params, xmlDocPtr *out, xmlNodePtr *result, cm_err *err, const char *name);

/* A query-protocol paginator as data: the action, the parameter that
 * carries the token and the element of <Action>Result that holds the next
 * one (NextToken, or IAM's Marker), the element whose <member>s are the
 * items, the element that says more follow (IAM's IsTruncated; NULL:
 * a next token says so), and the items' element where the model names
 * them (RDS's <DBInstances><DBInstance>; NULL: member). */
typedef struct mod_query_pager {
    const char *action;
    const char *input_token, *output_token;
    const char *list;
    const char *more_results;
    const char *item;
} mod_query_pager;

/* Called for each <member> of a query-protocol listing; returns as a
 * mod_item_fn does. */
typedef int (*mod_member_fn)(mod_ctx *ctx, const char *region, xmlNodePtr member, void *arg,
                             cm_err *err);
/* Every member of every page of pager in region; takes params (copied per
 * page, plus the token). */
int mod_query_each(mod_ctx *ctx, const mod_query_service *svc, const mod_query_pager *pager,
                   const char *region, json_t *params, mod_member_fn fn, void *arg,
                   const char *what, cm_err *err);

/* Query parameters: the string values of obj as prefix.N.<key>=k and
 * prefix.N.<value>=v (N from 1), as in "Attributes.entry.1.key". */
void mod_query_put_map(json_t *params, const char *prefix, const char *key, const char *value,
                       const json_t *obj);
/* The strings of arr as prefix.N ("TagKeys.member.1"). */
void mod_query_put_list(json_t *params, const char *prefix, const json_t *arr);
/* A value in the API's JSON form as query parameters below prefix, the
 * way the query protocol serializes a structure: an object's members as
 * prefix.Member, a list's items as prefix.member.N (N from 1), a number
 * with a fraction as its shortest decimal text, nulls left out
 * ("Metrics.member.1.MetricStat.Period" = 60). */
void mod_query_put_json(json_t *params, const char *prefix, const json_t *value);
/* The reverse of mod_query_put_map for an answer: the elements item below
 * node, each with a key and a value child, as an object of strings. */
json_t *mod_xml_map(xmlNodePtr node, const char *item, const char *key, const char *value);
/* The strings of <list><item>...</item></list> below n (each item's text,
 * or the text of its child element child), sorted: a set, as a row keeps
 * one (the first 64 items). A new array. */
json_t *mod_xml_set(xmlNodePtr n, const char *list, const char *item, const char *child);

/* Tags of a query-protocol resource from known to desired: tag_action
 * with Tags.member.N.Key/Value for what is added or changed, untag_action
 * with TagKeys.member.N for what is gone; the resource is named by the
 * parameter id_param = id. */
int mod_query_tags(mod_ctx *ctx, const mod_query_service *svc, const char *region,
                   const char *tag_action, const char *untag_action, const char *id_param,
                   const char *id, const json_t *known, const json_t *desired, cm_err *err);

/* A rest-json service as data (Lambda, API Gateway v2): its protocol
 * description and what its resources are called in messages. */
typedef struct mod_rest_service {
    aws_service api;
    const char *noun;
} mod_rest_service;

/* One operation of svc (aws_call's input: URI labels, "query", "body";
 * taken); *out (when out is not NULL) is the answer ({} for none). Errors
 * read "<op> for <noun> <name>: ..."; the code is in err->cloud_code. */
int mod_rest_op(mod_ctx *ctx, const mod_rest_service *svc, const aws_operation *op,
                const char *region, json_t *input, json_t **out, cm_err *err, const char *name);

/* A rest-json paginator as data, as botocore's paginators-1.json has it:
 * the operation, the query parameter that carries the token (by its
 * location name: "Marker", "nextToken"), the answer's member that holds
 * the next one, the answer's list. */
typedef struct mod_rest_pager {
    const aws_operation *op;
    const char *input_token, *output_token;
    const char *items;
} mod_rest_pager;
/* Every item of every page of pager in region: each request is input
 * (borrowed, copied; its "query" gets the token) ; fn sees each item. */
int mod_rest_each(mod_ctx *ctx, const mod_rest_service *svc, const mod_rest_pager *pager,
                  const char *region, const json_t *input, mod_item_fn fn, void *arg,
                  const char *what, cm_err *err);

/* How a rest-json service tags a resource: tag_op with the resource in
 * the URI label label and the tags as an object in the body's member
 * tags_member, untag_op with the label and the keys in the query's
 * tagKeys. */
typedef struct mod_rest_tagging {
    const aws_operation *tag_op, *untag_op;
    const char *label;       /* "Resource", "resource-arn" */
    const char *tags_member; /* "Tags", "tags" */
} mod_rest_tagging;
/* Tags of the resource arn from known to desired (objects); errors name
 * name. */
int mod_rest_tags(mod_ctx *ctx, const mod_rest_service *svc, const mod_rest_tagging *t,
                  const char *region, const char *arn, const json_t *known, const json_t *desired,
                  cm_err *err, const char *name);

/* The ARN of the IAM role named name (IAM is global; the path is part of
 * the ARN): GetRole. */
int mod_role_arn(mod_ctx *ctx, const char *name, char *out, size_t size, cm_err *err);

/* An ARN of this account: arn:<partition>:<service>:<region>:<account>:<resource>
 * (region "" for global services). */
int mod_arn(mod_ctx *ctx, const char *service, const char *region, const char *resource, char *out,
            size_t size, cm_err *err);

/* The account id of the credentials (asked once per context). */
int mod_account_id(mod_ctx *ctx, const char **out, cm_err *err);

/* Seconds since 1970 (times scale: 1 for seconds, 0.001 for milliseconds)
 * as an ISO 8601 UTC timestamp with milliseconds; null when not a number. */
json_t *mod_epoch_iso(const json_t *value, double scale);

/* Reads one resource by region and name; CM_ENOTFOUND when there is none. */
typedef int (*mod_describe_fn)(mod_ctx *ctx, const char *region, const char *name, json_t **out,
                               cm_err *err);
/* Waits until describe's status_key reads ACTIVE (or is absent). */
int mod_wait_active(mod_ctx *ctx, mod_describe_fn describe, const char *status_key,
                    const char *region, const char *name, int max_ms, cm_err *err);
/* Waits until describe answers CM_ENOTFOUND. */
int mod_wait_gone(mod_ctx *ctx, mod_describe_fn describe, const char *region, const char *name,
                  int max_ms, cm_err *err);

/* The name (column name_col) and region of a row image of table; an error
 * when either is missing. Borrowed from img. */
int mod_image_names(const json_t *img, const char *table, const char *name_col, const char **name,
                    const char **region, cm_err *err);

/* Tags going from known to desired: *set holds the keys to add or change
 * (an object), *removed the keys to delete (an array). New references. */
void mod_tags_diff(const json_t *known, const json_t *desired, json_t **set, json_t **removed);

/* The end of reading one resource a list named: rc 0 appends row (taken)
 * to rows; CM_ENOTFOUND (deleted between the list and the read) is
 * skipped and cleared; any other rc is returned. */
int mod_keep_found(json_t *rows, int rc, json_t *row, cm_err *err);

/* Tags as AWS lists them, [{"Key": k, "Value": v}, ...] (key and value
 * member names given), to the object of a row image; "aws:" keys are
 * AWS's own and left out. A new reference. */
json_t *mod_tags_from_list(const json_t *list, const char *key, const char *value);
/* Tags as an object of strings (as JSON services answer them), without
 * AWS's own "aws:" keys. A new reference. */
json_t *mod_tags_from_object(const json_t *obj);
/* A row's tags (an object, or NULL) plus the database's identity under
 * MOD_OWNER_TAG when ctx has one: what a create sends. A new reference. */
json_t *mod_tags_owned(const mod_ctx *ctx, const json_t *tags);
/* The value of the owner tag (MOD_OWNER_TAG, or a service's own
 * spelling of it) in a tag list as AWS gives it (key and value member
 * names given) into out; false (out "") when absent. */
bool mod_owner_in_list(const json_t *list, const char *tag, const char *key, const char *value,
                       char *out, size_t size);
/* The other way, on a row image as a list or read made it: the owner tag
 * in row's "tags" moves to row[MOD_OWNER_KEY], and every "iasql:" key
 * (the engine's own) leaves the tags. Returns row. */
json_t *mod_take_owner(json_t *row);
/* The object of a row image as [{"Key": k, "Value": v}, ...]. */
json_t *mod_tags_to_list(const json_t *tags);

#endif
