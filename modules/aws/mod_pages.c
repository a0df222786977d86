/* modules/aws/mod_pages.c — the loops every listing shares, so that a module
 * supplies only what one region and one item need: the regions of a
 * listing, and the pages of a JSON-protocol paginator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

int mod_json_pages(mod_ctx *ctx, const mod_json_service *svc, const mod_json_pager *pager,
                   const char *region, const json_t *body, mod_page_fn fn, void *arg,
                   const char *what, cm_err *err)
{
    char *token = NULL;
    int rc = 0;
    do {
        json_t *req = body ? json_deep_copy(body) : json_object(), *reply = NULL;
        if (!req)
            return cm_err_set(err, CM_ENOMEM, "out of memory");
        if (token)
            json_object_set_new(req, pager->input_token, json_string(token));
        free(token);
        token = NULL;
        rc = mod_json_op(ctx, svc, region, pager->op, req, &reply, err, what);
        if (!rc)
            rc = fn(ctx, region, reply, arg, err);
        const json_t *items = json_object_get(reply, pager->items);
        const json_t *last = json_array_get(items, json_array_size(items) - 1);
        const char *next = pager->output_token    ? cm_json_str(reply, pager->output_token)
                           : pager->last_item_key ? cm_json_str(last, pager->last_item_key)
                                                  : json_string_value(last);
        bool more =
            !pager->more_results || json_is_true(json_object_get(reply, pager->more_results));
        token = !rc && more && next && *next ? strdup(next) : NULL;
        json_decref(reply);
    } while (token);
    free(token);
    return rc > 0 ? 0 : rc;
}

typedef struct each_items {
    const char *items;
    mod_item_fn fn;
    void *arg;
} each_items;

static int page_items(mod_ctx *ctx, const char *region, const json_t *page, void *arg, cm_err *err)
{
    const each_items *ei = arg;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(page, ei->items), i, item)
    {
        int rc = ei->fn(ctx, region, item, ei->arg, err);
        if (rc)
            return rc;
    }
    return 0;
}

int mod_json_each(mod_ctx *ctx, const mod_json_service *svc, const mod_json_pager *pager,
                  const char *region, const json_t *body, mod_item_fn fn, void *arg,
                  const char *what, cm_err *err)
{
    each_items ei = {pager->items, fn, arg};
    return mod_json_pages(ctx, svc, pager, region, body, page_items, &ei, what, err);
}

int mod_rest_each(mod_ctx *ctx, const mod_rest_service *svc, const mod_rest_pager *pager,
                  const char *region, const json_t *input, mod_item_fn fn, void *arg,
                  const char *what, cm_err *err)
{
    char *token = NULL;
    int rc = 0;
    do {
        json_t *in = input ? json_deep_copy(input) : json_object(), *reply = NULL;
        if (!in) {
            rc = cm_err_set(err, CM_ENOMEM, "out of memory");
            break;
        }
        json_t *query = json_object_get(in, "query");
        if (!json_is_object(query))
            json_object_set_new(in, "query", query = json_object());
        if (token)
            json_object_set_new(query, pager->input_token, json_string(token));
        free(token);
        token = NULL;
        rc = mod_rest_op(ctx, svc, pager->op, region, in, &reply, err, what);
        size_t i;
        json_t *item;
        json_array_foreach(rc ? NULL : json_object_get(reply, pager->items), i, item)
        {
            rc = fn(ctx, region, item, arg, err);
            if (rc)
                break;
        }
        const char *next = cm_json_str(reply, pager->output_token);
        token = !rc && next && *next ? strdup(next) : NULL;
        json_decref(reply);
    } while (token);
    free(token);
    return rc > 0 ? 0 : rc;
}

int mod_query_each(mod_ctx *ctx, const mod_query_service *svc, const mod_query_pager *pager,
                   const char *region, json_t *params, mod_member_fn fn, void *arg,
                   const char *what, cm_err *err)
{
    char *token = NULL;
    int rc = 0;
    do {
        json_t *p = params ? json_deep_copy(params) : json_object();
        if (!p) {
            rc = cm_err_set(err, CM_ENOMEM, "out of memory");
            break;
        }
        if (token)
            json_object_set_new(p, pager->input_token, json_string(token));
        free(token);
        token = NULL;
        xmlDocPtr doc;
        xmlNodePtr res;
        rc = mod_query_op(ctx, svc, region, pager->action, p, &doc, &res, err, what);
        if (rc)
            break;
        const char *item = pager->item ? pager->item : "member";
        for (xmlNodePtr m = aws_xml_child(aws_xml_child(res, pager->list), item); m && !rc;
             m = aws_xml_next(m, item))
            rc = fn(ctx, region, m, arg, err);
        char more[8] = "", next[2048];
        if (pager->more_results)
            aws_xml_child_text(res, pager->more_results, more, sizeof more);
        if (!rc && (!pager->more_results || strcmp(more, "true") == 0) &&
            aws_xml_child_text(res, pager->output_token, next, sizeof next) && next[0])
            token = strdup(next);
        xmlFreeDoc(doc);
    } while (token);
    json_decref(params);
    return rc > 0 ? 0 : rc;
}

int mod_list_regions(mod_ctx *ctx, const char *const *regions, size_t nregions,
                     mod_region_fn region_fn, json_t **out, cm_err *err)
{
    json_t *rows = json_array();
    if (!rows)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t r = 0; !rc && r < nregions; r++)
        rc = region_fn(ctx, regions[r], rows, err);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    *out = rows;
    return 0;
}

int mod_owner_item(mod_ctx *ctx, const char *region, const json_t *tag, void *want, cm_err *err)
{
    (void)ctx, (void)region, (void)err;
    mod_owner_want *w = want;
    const char *k = cm_json_str(tag, "Key"), *v = cm_json_str(tag, "Value");
    if (!k || strcmp(k, w->tag) != 0)
        return 0;
    snprintf(w->out, w->size, "%s", v ? v : "");
    return 1;
}
