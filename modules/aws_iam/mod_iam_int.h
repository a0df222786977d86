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

/* An IAM resource named by its name (a user, a role, an instance
 * profile): its API, the parameter that names it, its tag, untag and
 * delete actions, and, for one that managed policies attach to, the
 * actions that list, attach and detach them. */
typedef struct iam_kind {
    const mod_query_service *api;
    const char *name_param;         /* "UserName", "RoleName" */
    const char *tag, *untag, *drop; /* "TagUser", "UntagUser", "DeleteUser" */
    const char *list_attached;      /* "ListAttachedUserPolicies" */
    const char *attach, *detach;    /* "AttachUserPolicy", "DetachUserPolicy" */
} iam_kind;

/* The Get* action of name (GetUser): *doc is its answer (to free with
 * xmlFreeDoc), *elem its element (User); CM_ENOTFOUND when IAM has none. */
int iam_get(mod_ctx *ctx, const iam_kind *k, const char *action, const char *element,
            const char *name, xmlDocPtr *doc, xmlNodePtr *elem, cm_err *err);
/* The managed policies attached to name, sorted: *out is a new array (on
 * an error too). */
int iam_attached(mod_ctx *ctx, const iam_kind *k, const char *name, json_t **out, cm_err *err);
/* Attaches the policy ARNs of desired that known lacks, then detaches
 * those of known that desired lacks (either array NULL: none). */
int iam_attach_diff(mod_ctx *ctx, const iam_kind *k, const char *name, const json_t *known,
                    const json_t *desired, cm_err *err);
/* Tags of name from known to desired. */
int iam_retag(mod_ctx *ctx, const iam_kind *k, const char *name, const json_t *known,
              const json_t *desired, cm_err *err);
/* Deletes name, after strip (when not NULL) takes off what IAM deletes it
 * only without; NoSuchEntity (gone already) is done. */
int iam_delete(mod_ctx *ctx, const iam_kind *k, const char *name,
               int (*strip)(mod_ctx *ctx, const char *name, cm_err *err), cm_err *err);
/* The end of a Create* that met EntityAlreadyExists (an earlier,
 * interrupted try, or a race): the resource row() reads by name, brought
 * to desired by update(). */
int iam_adopt(mod_ctx *ctx, const char *name,
              int (*row)(mod_ctx *ctx, const char *name, json_t **out, cm_err *err),
              int (*update)(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                            cm_err *err),
              const json_t *desired, json_t **out, cm_err *err);
/* What every IAM Create* takes: name_param = name, desired's path ("/"
 * when none), desired's tags plus the owner's. A new object. */
json_t *iam_create_params(const mod_ctx *ctx, const char *name_param, const char *name,
                          const json_t *desired);
/* A copy of desired with the cloud's arn and id_col from from. */
json_t *iam_image(const json_t *desired, const json_t *from, const char *id_col);

extern const mod_table iam_user_table;
extern const mod_table iam_profile_table;

#endif
