/* modules/aws/mod_ctx.c — the context of a module's cloud calls: its AWS
 * client, the pool of worker contexts, the database's identity, the
 * current action's token, request counts, a listing's tape, the account
 * id and ARNs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/mod_int.h"

int mod_ctx_new(mod_ctx **out, cm_err *err)
{
    *out = NULL;
    mod_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    int rc = aws_client_new(&ctx->aws, err);
    if (rc) {
        free(ctx);
        return rc;
    }
    ctx->default_region = strdup(aws_default_region());
    *out = ctx;
    return 0;
}

void mod_ctx_free(mod_ctx *ctx)
{
    if (!ctx)
        return;
    for (int i = 0; i < ctx->nworkers; i++)
        mod_ctx_free(ctx->workers[i]);
    free(ctx->workers);
    aws_client_free(ctx->aws);
    free(ctx->default_region);
    json_decref(ctx->notes);
    free(ctx);
}

const char *mod_ctx_default_region(const mod_ctx *ctx)
{
    return ctx->default_region;
}

void mod_ctx_set_token(mod_ctx *ctx, const char *token)
{
    ctx->token = token;
}

const char *mod_ctx_token(const mod_ctx *ctx)
{
    return ctx->token;
}

void mod_ctx_set_deep(mod_ctx *ctx, const mod_deep *deep)
{
    ctx->deep = deep;
}

unsigned mod_deep_slot(const char *region, const char *handle, unsigned nslots)
{
    uint32_t h = 2166136261u;
    for (const char *s = region; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    h = (h ^ '/') * 16777619u;
    for (const char *s = handle; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return nslots > 1 ? h % nslots : 0;
}

bool mod_deep_wanted(const mod_ctx *ctx, const char *region, const char *handle)
{
    const mod_deep *d = ctx->deep;
    if (!d || d->nslots <= 1 || !handle)
        return true;
    if (!region)
        region = "";
    char key[1024];
    mod_handle_key(key, sizeof key, region, handle);
    const json_t *v = d->known ? json_object_get(d->known, key) : NULL;
    if (!v)
        return true;
    if (json_is_false(v)) /* one the import filter leaves out: never in full */
        return false;
    return mod_deep_slot(region, handle, d->nslots) == d->slot;
}

bool mod_parent_rotating(const mod_ctx *ctx)
{
    const mod_deep *d = ctx->deep;
    return d && d->nslots > 1 && d->parents;
}

bool mod_parent_wanted(const mod_ctx *ctx, const char *region, const char *handle, long count)
{
    if (!mod_parent_rotating(ctx) || !handle)
        return true;
    const mod_deep *d = ctx->deep;
    if (!region)
        region = "";
    char key[1024];
    mod_handle_key(key, sizeof key, region, handle);
    const json_t *v = json_object_get(d->parents, key);
    if (!json_is_integer(v))
        return true; /* unknown, new, or just changed by the engine */
    if (count >= 0 && count != (long)json_integer_value(v))
        return true;
    return mod_deep_slot(region, handle, d->nslots) == d->slot;
}

json_t *mod_unlisted(const char *column, const char *parent, const char *region)
{
    json_t *row = json_pack("{s:s, s:b}", column, parent, MOD_UNLISTED_KEY, 1);
    if (region)
        json_object_set_new(row, "region", json_string(region));
    return row;
}

bool mod_parent_left_out(const mod_ctx *ctx, json_t *rows, const char *column, const char *region,
                         const char *parent, long count)
{
    if (mod_parent_wanted(ctx, region, parent, count))
        return false;
    json_array_append_new(rows, mod_unlisted(column, parent, region));
    return true;
}

int mod_ctx_note(const mod_ctx *ctx, const char *key)
{
    const json_t *v = ctx->notes ? json_object_get(ctx->notes, key) : NULL;
    return v ? json_is_true(v) : -1;
}

void mod_ctx_set_note(mod_ctx *ctx, const char *key, bool value)
{
    if (!ctx->notes)
        ctx->notes = json_object();
    if (ctx->notes)
        json_object_set_new(ctx->notes, key, json_boolean(value));
}

int mod_ctx_worker(mod_ctx *ctx, int i, mod_ctx **out, cm_err *err)
{
    if (i >= ctx->nworkers) {
        mod_ctx **w = realloc(ctx->workers, (size_t)(i + 1) * sizeof *w);
        if (!w)
            return cm_err_set(err, CM_ENOMEM, "out of memory");
        for (int k = ctx->nworkers; k <= i; k++)
            w[k] = NULL;
        ctx->workers = w;
        ctx->nworkers = i + 1;
    }
    if (!ctx->workers[i]) {
        int rc = mod_ctx_new(&ctx->workers[i], err);
        if (rc)
            return rc;
        free(ctx->workers[i]->default_region);
        ctx->workers[i]->default_region = strdup(ctx->default_region);
        memcpy(ctx->workers[i]->account, ctx->account, sizeof ctx->account);
        memcpy(ctx->workers[i]->owner, ctx->owner, sizeof ctx->owner);
    }
    *out = ctx->workers[i];
    return 0;
}

void mod_ctx_set_owner(mod_ctx *ctx, const char *owner)
{
    snprintf(ctx->owner, sizeof ctx->owner, "%s", owner ? owner : "");
    for (int i = 0; i < ctx->nworkers; i++)
        if (ctx->workers[i])
            mod_ctx_set_owner(ctx->workers[i], owner);
}

void mod_ctx_set_background(mod_ctx *ctx, bool background)
{
    aws_client_set_background(ctx->aws, background);
}

void mod_foreground(bool on)
{
    aws_gate_foreground(on);
}

void mod_tape_free(mod_tape *tape)
{
    aws_tape_free(tape);
}

int mod_list_taped(mod_ctx *ctx, const mod_table *t, const char *const *regions, size_t nregions,
                   mod_tape **tape, json_t **rows, cm_err *err)
{
    *rows = NULL;
    if (*tape && aws_client_replay(ctx->aws, *tape))
        return 0;
    aws_tape *next = aws_tape_new();
    aws_client_record(ctx->aws, next);
    int rc = t->ops->list(ctx, regions, nregions, rows, err);
    aws_client_record(ctx->aws, NULL);
    aws_client_replay(ctx->aws, NULL); /* drops answers the listing did not ask for */
    aws_tape_free(*tape);
    *tape = NULL;
    if (rc)
        aws_tape_free(next);
    else
        *tape = next;
    return rc;
}

uint64_t mod_ctx_requests(const mod_ctx *ctx)
{
    uint64_t n = aws_client_stats(ctx->aws).requests;
    for (int i = 0; i < ctx->nworkers; i++)
        n += ctx->workers[i] ? mod_ctx_requests(ctx->workers[i]) : 0;
    return n;
}

uint64_t mod_ctx_mutating_requests(const mod_ctx *ctx)
{
    uint64_t n = aws_client_stats(ctx->aws).mutating;
    for (int i = 0; i < ctx->nworkers; i++)
        n += ctx->workers[i] ? mod_ctx_mutating_requests(ctx->workers[i]) : 0;
    return n;
}

int mod_account_id(mod_ctx *ctx, const char **out, cm_err *err)
{
    static const mod_query_service sts = {"sts", "2011-06-15", "identity"};
    if (!ctx->account[0]) {
        xmlDocPtr doc;
        xmlNodePtr res;
        int rc = mod_query_op(ctx, &sts, ctx->default_region, "GetCallerIdentity", json_object(),
                              &doc, &res, err, "(caller)");
        if (rc)
            return rc;
        aws_xml_child_text(res, "Account", ctx->account, sizeof ctx->account);
        xmlFreeDoc(doc);
        if (!ctx->account[0])
            return cm_err_set(err, CM_EBADREPLY, "GetCallerIdentity: no Account in the answer");
    }
    *out = ctx->account;
    return 0;
}

const char *mod_ctx_owner(const mod_ctx *ctx)
{
    return ctx->owner[0] ? ctx->owner : NULL;
}

int mod_arn(mod_ctx *ctx, const char *service, const char *region, const char *resource, char *out,
            size_t size, cm_err *err)
{
    const char *account;
    int rc = mod_account_id(ctx, &account, err);
    if (rc)
        return rc;
    const char *r = *region ? region : ctx->default_region;
    const char *partition = aws_partition_of(r);
    snprintf(out, size, "arn:%s:%s:%s:%s:%s", partition, service, region, account, resource);
    return 0;
}
