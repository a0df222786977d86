/* modules/mod_list.c — the loops every listing shares, so that a module
 * supplies only what one region and one item need: the regions of a
 * listing, and the pages of a JSON-protocol paginator. */
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

int mod_json_each(mod_ctx *ctx, const mod_json_service *svc, const mod_json_pager *pager,
                  const char *region, const json_t *body, mod_item_fn fn, void *arg,
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
        if (rc)
            break;
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(reply, pager->items), i, item)
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
