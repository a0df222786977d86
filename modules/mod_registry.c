/* modules/mod_registry.c — the catalogue of modules (modules/modules.def)
 * and the generic helpers over their descriptions. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "modules/mod_int.h"

/* The catalogue: modules/modules.def, in its order. */
#define MODULE(name, test, emulators, what) extern const mod_module mod_##name;
#include "modules/modules.def"
#undef MODULE

static const mod_module *const registry[] = {
#define MODULE(name, test, emulators, what) &mod_##name,
#include "modules/modules.def"
#undef MODULE
    NULL};

const mod_module *const *mod_registry(void)
{
    return registry;
}

const mod_module *mod_find(const char *name)
{
    for (int i = 0; registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const mod_table *mod_find_table(const char *table, const mod_module **module_out)
{
    for (int i = 0; registry[i]; i++)
        for (int k = 0; registry[i]->tables[k]; k++)
            if (strcmp(registry[i]->tables[k]->name, table) == 0) {
                if (module_out)
                    *module_out = registry[i];
                return registry[i]->tables[k];
            }
    return NULL;
}

int mod_all_tables(const mod_table **tables, const mod_module **modules, int max)
{
    int n = 0;
    for (int i = 0; registry[i]; i++)
        for (int k = 0; registry[i]->tables[k] && n < max; k++, n++) {
            tables[n] = registry[i]->tables[k];
            if (modules)
                modules[n] = registry[i];
        }
    return n;
}

const mod_column *mod_column_find(const mod_table *t, const char *name)
{
    for (const mod_column *c = t->columns; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

const mod_column *mod_ref_handle(const mod_table *t)
{
    for (const mod_column *c = t->columns; c->name; c++)
        if (c->flags & MOD_COL_CLOUD_ID)
            return c;
    return NULL;
}

bool mod_same_user_columns(const mod_table *t, const json_t *a, const json_t *b)
{
    if (!a || !b)
        return !a && !b;
    for (const mod_column *c = t->columns; c->name; c++) {
        if (c->flags & MOD_COL_CLOUD_OWNED)
            continue;
        json_t *x = json_object_get(a, c->name), *y = json_object_get(b, c->name);
        if (!json_equal(x ? x : json_null(), y ? y : json_null()))
            return false;
    }
    return true;
}

bool mod_column_has(const mod_table *t, const char *name, unsigned flag)
{
    const mod_column *c = mod_column_find(t, name);
    return c && (c->flags & flag);
}

int mod_describe_row(const mod_table *t, uint64_t row_id, const json_t *image, cm_buf *b)
{
    int rc = cm_buf_printf(b, "%s %llu", t->name, (unsigned long long)row_id);
    const char *sep = " (";
    for (const mod_column *c = t->columns; !rc && c->name; c++) {
        if (!(c->flags & MOD_COL_CLOUD_ID))
            continue;
        const char *v = image ? json_string_value(json_object_get(image, c->name)) : NULL;
        if (!v)
            continue;
        rc = cm_buf_printf(b, "%s%s=%s", sep, c->name, v);
        sep = ", ";
    }
    if (!rc && strcmp(sep, ", ") == 0)
        rc = cm_buf_puts(b, ")");
    return rc;
}

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

int mod_aws_call(mod_ctx *ctx, const aws_request *req, aws_response *resp, cm_err *err,
                 const char *what)
{
    int rc = aws_send(ctx->aws, req, resp, err);
    if (rc)
        cm_err_wrap(err, "%s", what);
    return rc;
}

int mod_json_call(mod_ctx *ctx, const char *service, const char *version, const char *region,
                  const char *target, const json_t *body, json_t **out,
                  cm_err *err, const char *what)
{
    char ctype[64];
    snprintf(ctype, sizeof ctype, "application/x-amz-json-%s", version);
    int rc = aws_json_call(ctx->aws, service, region, target, ctype, body, out, err);
    if (rc)
        cm_err_wrap(err, "%s", what);
    return rc;
}

void mod_tags_diff(const json_t *known, const json_t *desired, json_t **set, json_t **removed)
{
    *set = json_object();
    *removed = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)desired, k, v)
    {
        if (!json_equal(json_object_get(known, k), v))
            json_object_set(*set, k, v);
    }
    json_object_foreach((json_t *)known, k, v)
    {
        if (!json_object_get(desired, k))
            json_array_append_new(*removed, json_string(k));
    }
}

int mod_wait(mod_ctx *ctx, int (*probe)(mod_ctx *ctx, const void *arg, bool *done, cm_err *err),
             const void *arg, int max_ms, const char *what, cm_err *err)
{
    long waited = 0, step = 50;
    for (;;) {
        bool done = false;
        int rc = probe(ctx, arg, &done, err);
        if (rc || done)
            return rc;
        if (waited >= max_ms)
            return cm_err_set(err, CM_ERETRY, "%s: still not settled after %d s", what,
                              max_ms / 1000);
        struct timespec ts = {step / 1000, (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        waited += step;
        step = step * 2 > 2000 ? 2000 : step * 2;
    }
}

typedef struct wait_ref {
    mod_describe_fn describe;
    const char *status_key, *region, *name;
} wait_ref;

static int probe_active(mod_ctx *ctx, const void *arg, bool *done, cm_err *err)
{
    const wait_ref *w = arg;
    json_t *d = NULL; /* a failed describe may leave it unset */
    int rc = w->describe(ctx, w->region, w->name, &d, err);
    if (rc)
        return rc;
    const char *st = json_string_value(json_object_get(d, w->status_key));
    *done = !st || strcmp(st, "ACTIVE") == 0;
    json_decref(d);
    return 0;
}

static int probe_gone(mod_ctx *ctx, const void *arg, bool *done, cm_err *err)
{
    const wait_ref *w = arg;
    json_t *d = NULL; /* a failed describe may leave it unset */
    int rc = w->describe(ctx, w->region, w->name, &d, err);
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        *done = true;
        return 0;
    }
    json_decref(d);
    return rc;
}

int mod_wait_active(mod_ctx *ctx, mod_describe_fn describe, const char *status_key,
                    const char *region, const char *name, int max_ms, cm_err *err)
{
    wait_ref w = {describe, status_key, region, name};
    return mod_wait(ctx, probe_active, &w, max_ms, name, err);
}

int mod_wait_gone(mod_ctx *ctx, mod_describe_fn describe, const char *region, const char *name,
                  int max_ms, cm_err *err)
{
    wait_ref w = {describe, NULL, region, name};
    return mod_wait(ctx, probe_gone, &w, max_ms, name, err);
}

int mod_json_op(mod_ctx *ctx, const mod_json_service *svc, const char *region, const char *op,
                json_t *body, json_t **out, cm_err *err, const char *name)
{
    char target[128], what[600];
    snprintf(target, sizeof target, "%s.%s", svc->target_prefix, op);
    snprintf(what, sizeof what, "%s for %s %s", op, svc->noun, name);
    json_t *ignored = NULL;
    int rc = mod_json_call(ctx, svc->service, svc->version, region, target, body,
                           out ? out : &ignored, err, what);
    json_decref(ignored);
    json_decref(body);
    return rc;
}

json_t *mod_epoch_iso(const json_t *value, double scale)
{
    if (!json_is_number(value))
        return json_null();
    double secs = json_number_value(value) * scale;
    time_t t = (time_t)secs;
    int ms = (int)((secs - (double)t) * 1000.0 + 0.5) % 1000;
    struct tm tm;
    char date[32], buf[48];
    if (!gmtime_r(&t, &tm) || !strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm))
        return json_null();
    snprintf(buf, sizeof buf, "%s.%03dZ", date, ms);
    return json_string(buf);
}

int mod_image_names(const json_t *img, const char *table, const char *name_col,
                    const char **name, const char **region, cm_err *err)
{
    *name = json_string_value(json_object_get(img, name_col));
    *region = json_string_value(json_object_get(img, "region"));
    if (!*name || !*region)
        return cm_err_set(err, CM_EINVAL, "%s row lacks a %s or region", table, name_col);
    return 0;
}

int mod_query_op(mod_ctx *ctx, const mod_query_service *svc, const char *region,
                 const char *action, json_t *params, xmlDocPtr *out, xmlNodePtr *result, cm_err *err, const char *name)
{
    xmlDocPtr doc = NULL;
    if (out)
        *out = NULL;
    if (result)
        *result = NULL;
    if (result && !out) {
        json_decref(params);
        return cm_err_set(err, CM_EINVAL, "%s: an answer's Result element needs its document",
                          action);
    }
    int rc = aws_query_call(ctx->aws, svc->service, region, svc->version, action, params, &doc, err);
    json_decref(params);
    if (rc) {
        cm_err_wrap(err, "%s for %s %s", action, svc->noun, name);
        return rc;
    }
    if (result) {
        char tag[160];
        snprintf(tag, sizeof tag, "%sResult", action);
        *result = aws_xml_child(xmlDocGetRootElement(doc), tag);
        if (!*result) {
            xmlFreeDoc(doc);
            return cm_err_set(err, CM_EBADREPLY, "%s for %s %s: no %s in the answer", action,
                              svc->noun, name, tag);
        }
    }
    if (out)
        *out = doc;
    else
        xmlFreeDoc(doc);
    return 0;
}

int mod_account_id(mod_ctx *ctx, const char **out, cm_err *err)
{
    static const mod_query_service sts = {"sts", "2011-06-15", "identity"};
    if (!ctx->account[0]) {
        xmlDocPtr doc;
        xmlNodePtr res;
        int rc = mod_query_op(ctx, &sts, ctx->default_region, "GetCallerIdentity",
                              json_object(), &doc, &res, err, "(caller)");
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

bool mod_is_mask(const char *value)
{
    return value && strncmp(value, MOD_SECRET_PREFIX, strlen(MOD_SECRET_PREFIX)) == 0;
}

json_t *mod_tags_from_list(const json_t *list, const char *key, const char *value)
{
    json_t *tags = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        const char *k = json_string_value(json_object_get(t, key));
        json_t *v = json_object_get(t, value);
        if (k && json_is_string(v) && strncmp(k, "aws:", 4) != 0)
            json_object_set(tags, k, v);
    }
    return tags;
}

json_t *mod_tags_from_object(const json_t *obj)
{
    json_t *tags = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (json_is_string(v) && strncmp(k, "aws:", 4) != 0)
            json_object_set(tags, k, v);
    }
    return tags;
}

bool mod_owner_in_list(const json_t *list, const char *tag, const char *key, const char *value,
                       char *out, size_t size)
{
    size_t i;
    json_t *t;
    out[0] = '\0';
    json_array_foreach(list, i, t)
    {
        const char *k = json_string_value(json_object_get(t, key));
        const char *v = json_string_value(json_object_get(t, value));
        if (k && v && strcmp(k, tag) == 0) {
            snprintf(out, size, "%s", v);
            return true;
        }
    }
    return false;
}

const char *mod_ctx_owner(const mod_ctx *ctx)
{
    return ctx->owner[0] ? ctx->owner : NULL;
}

json_t *mod_tags_owned(const mod_ctx *ctx, const json_t *tags)
{
    json_t *out = json_is_object(tags) ? json_copy((json_t *)tags) : json_object();
    if (ctx->owner[0])
        json_object_set_new(out, MOD_OWNER_TAG, json_string(ctx->owner));
    return out;
}

json_t *mod_take_owner(json_t *row)
{
    json_t *tags = json_object_get(row, "tags");
    if (!json_is_object(tags))
        return row;
    const char *owner = json_string_value(json_object_get(tags, MOD_OWNER_TAG));
    if (owner)
        json_object_set_new(row, MOD_OWNER_KEY, json_string(owner));
    const char *k;
    json_t *v, *tmp;
    json_object_foreach_safe(tags, tmp, k, v)
    {
        if (strncmp(k, "iasql:", 6) == 0)
            json_object_del(tags, k);
    }
    return row;
}

json_t *mod_tags_to_list(const json_t *tags)
{
    json_t *list = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)tags, k, v)
    {
        json_array_append_new(list, json_pack("{s:s, s:O}", "Key", k, "Value", v));
    }
    return list;
}

void mod_query_put_map(json_t *params, const char *prefix, const char *key, const char *value,
                       const json_t *obj)
{
    char name[256];
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (!json_is_string(v))
            continue;
        n++;
        snprintf(name, sizeof name, "%s.%zu.%s", prefix, n, key);
        json_object_set_new(params, name, json_string(k));
        snprintf(name, sizeof name, "%s.%zu.%s", prefix, n, value);
        json_object_set(params, name, v);
    }
}

void mod_query_put_list(json_t *params, const char *prefix, const json_t *arr)
{
    char name[256];
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        snprintf(name, sizeof name, "%s.%zu", prefix, i + 1);
        json_object_set(params, name, v);
    }
}

json_t *mod_xml_map(xmlNodePtr node, const char *item, const char *key, const char *value)
{
    json_t *obj = json_object();
    for (xmlNodePtr e = aws_xml_child(node, item); e; e = aws_xml_next(e, item)) {
        xmlNodePtr k = aws_xml_child(e, key);
        if (!k)
            continue;
        xmlChar *ktxt = xmlNodeGetContent(k);
        if (ktxt)
            json_object_set_new(obj, (const char *)ktxt, aws_xml_json_child(e, value));
        xmlFree(ktxt);
    }
    return obj;
}

int mod_arn(mod_ctx *ctx, const char *service, const char *region, const char *resource,
            char *out, size_t size, cm_err *err)
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

int mod_query_tags(mod_ctx *ctx, const mod_query_service *svc, const char *region,
                   const char *tag_action, const char *untag_action, const char *id_param,
                   const char *id, const json_t *known, const json_t *desired, cm_err *err)
{
    json_t *set, *drop;
    mod_tags_diff(known, desired, &set, &drop);
    int rc = 0;
    if (json_object_size(set)) {
        json_t *p = json_pack("{s:s}", id_param, id);
        mod_query_put_map(p, "Tags.member", "Key", "Value", set);
        rc = mod_query_op(ctx, svc, region, tag_action, p, NULL, NULL, err, id);
    }
    if (!rc && json_array_size(drop)) {
        json_t *p = json_pack("{s:s}", id_param, id);
        mod_query_put_list(p, "TagKeys.member", drop);
        rc = mod_query_op(ctx, svc, region, untag_action, p, NULL, NULL, err, id);
    }
    json_decref(set);
    json_decref(drop);
    return rc;
}

int mod_keep_found(json_t *rows, int rc, json_t *row, cm_err *err)
{
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        return 0;
    }
    if (!rc)
        json_array_append_new(rows, row);
    return rc;
}
