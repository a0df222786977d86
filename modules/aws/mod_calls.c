/* modules/aws/mod_calls.c — one operation of a JSON- or query-protocol
 * service as data (mod_json_service, mod_query_service), with errors
 * naming what was being done; query parameters and maps; tags through the
 * query protocol; waiters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/mod_int.h"

int mod_aws_call(mod_ctx *ctx, const aws_request *req, aws_response *resp, cm_err *err,
                 const char *what)
{
    int rc = aws_send(ctx->aws, req, resp, err);
    if (rc)
        cm_err_wrap(err, "%s", what);
    return rc;
}

int mod_json_call(mod_ctx *ctx, const char *service, const char *version, const char *region,
                  const char *target, const json_t *body, json_t **out, cm_err *err,
                  const char *what)
{
    char ctype[64];
    snprintf(ctype, sizeof ctype, "application/x-amz-json-%s", version);
    int rc = aws_json_call(ctx->aws, service, region, target, ctype, body, out, err);
    if (rc)
        cm_err_wrap(err, "%s", what);
    return rc;
}

int mod_wait(mod_ctx *ctx, int (*probe)(mod_ctx *ctx, const void *arg, bool *done, cm_err *err),
             const void *arg, int max_ms, const char *what, cm_err *err)
{
    return mod_wait_capped(ctx, probe, arg, max_ms, 2000, what, err);
}

int mod_wait_capped(mod_ctx *ctx,
                    int (*probe)(mod_ctx *ctx, const void *arg, bool *done, cm_err *err),
                    const void *arg, int max_ms, int cap_ms, const char *what, cm_err *err)
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
        step = step * 2 > cap_ms ? cap_ms : step * 2;
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

int mod_rest_op(mod_ctx *ctx, const mod_rest_service *svc, const aws_operation *op,
                const char *region, json_t *input, json_t **out, cm_err *err, const char *name)
{
    aws_answer a;
    if (out)
        *out = NULL;
    int rc = input ? aws_call(ctx->aws, &svc->api, op, region, input, &a, err)
                   : cm_err_set(err, CM_ENOMEM, "out of memory");
    json_decref(input);
    if (rc) {
        cm_err_wrap(err, "%s for %s %s", op->name, svc->noun, name);
        return rc;
    }
    if (out)
        *out = a.json ? json_incref(a.json) : json_object();
    aws_answer_free(&a);
    return 0;
}

int mod_rest_tags(mod_ctx *ctx, const mod_rest_service *svc, const mod_rest_tagging *t,
                  const char *region, const char *arn, const json_t *known, const json_t *desired,
                  cm_err *err, const char *name)
{
    json_t *set, *gone;
    mod_tags_diff(known, desired, &set, &gone);
    int rc = 0;
    if (json_object_size(set))
        rc = mod_rest_op(ctx, svc, t->tag_op, region,
                         json_pack("{s:s, s:{s:O}}", t->label, arn, "body", t->tags_member, set),
                         NULL, err, name);
    if (!rc && json_array_size(gone))
        rc = mod_rest_op(ctx, svc, t->untag_op, region,
                         json_pack("{s:s, s:{s:O}}", t->label, arn, "query", "tagKeys", gone), NULL,
                         err, name);
    json_decref(set);
    json_decref(gone);
    return rc;
}

int mod_query_op(mod_ctx *ctx, const mod_query_service *svc, const char *region, const char *action,
                 json_t *params, xmlDocPtr *out, xmlNodePtr *result, cm_err *err, const char *name)
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
    int rc =
        aws_query_call(ctx->aws, svc->service, region, svc->version, action, params, &doc, err);
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

int mod_role_arn(mod_ctx *ctx, const char *name, char *out, size_t size, cm_err *err)
{
    static const mod_query_service iam_api = {"iam", "2010-05-08", "IAM role"};
    xmlDocPtr doc = NULL;
    xmlNodePtr res = NULL;
    int rc = mod_query_op(ctx, &iam_api, mod_ctx_default_region(ctx), "GetRole",
                          json_pack("{s:s}", "RoleName", name), &doc, &res, err, name);
    if (!rc && !aws_xml_child_text(aws_xml_child(res, "Role"), "Arn", out, size))
        rc = cm_err_set(err, CM_EBADREPLY, "GetRole for IAM role %s: no Arn in the answer", name);
    xmlFreeDoc(doc);
    return rc;
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

void mod_query_put_json(json_t *params, const char *prefix, const json_t *value)
{
    char name[512];
    if (json_is_object(value)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)value, k, v)
        {
            snprintf(name, sizeof name, "%s.%s", prefix, k);
            mod_query_put_json(params, name, v);
        }
    } else if (json_is_array(value)) {
        size_t i;
        json_t *v;
        json_array_foreach(value, i, v)
        {
            snprintf(name, sizeof name, "%s.member.%zu", prefix, i + 1);
            mod_query_put_json(params, name, v);
        }
    } else if (json_is_real(value)) {
        /* the shortest text that reads back as the same double */
        char num[40];
        for (int digits = 15; digits <= 17; digits++) {
            snprintf(num, sizeof num, "%.*g", digits, json_real_value(value));
            if (strtod(num, NULL) == json_real_value(value))
                break;
        }
        json_object_set_new(params, prefix, json_string(num));
    } else if (json_is_string(value) || json_is_integer(value) || json_is_boolean(value)) {
        json_object_set(params, prefix, (json_t *)value);
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
