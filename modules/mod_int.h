/* modules/mod_int.h — private to modules/: how a module reaches its client. */
#ifndef IASQL_MOD_INT_H
#define IASQL_MOD_INT_H

#include "modules/aws/aws.h"
#include "modules/mod.h"

struct mod_ctx {
    aws_client *aws;
    char *default_region;
};

/* Sends req and, on failure, prefixes err with what was being done. */
int mod_aws_call(mod_ctx *ctx, const aws_request *req, aws_response *resp, cm_err *err,
                 const char *what);

/* A JSON-protocol call (version "1.0" or "1.1") prefixing errors with
 * what; code (if not NULL) receives the AWS error code. */
int mod_json_call(mod_ctx *ctx, const char *service, const char *version, const char *region,
                  const char *target, const json_t *body, json_t **out, char code[128],
                  cm_err *err, const char *what);

/* Polls probe until it sets *done, with backoff from 50 ms to 2 s, for at
 * most max_ms: AWS's own waiters, for resources that pass through CREATING,
 * UPDATING or DELETING. CM_ERETRY when time runs out, naming what. */
int mod_wait(mod_ctx *ctx, int (*probe)(mod_ctx *ctx, const void *arg, bool *done, cm_err *err),
             const void *arg, int max_ms, const char *what, cm_err *err);

/* Tags going from known to desired: *set holds the keys to add or change
 * (an object), *removed the keys to delete (an array). New references. */
void mod_tags_diff(const json_t *known, const json_t *desired, json_t **set, json_t **removed);

#endif
