/* modules/aws/mod_tagging.c — the tags of many resources at once, through
 * the Resource Groups Tagging API (GetResources, 100 resources a page), for
 * a poll that follows tags without a read per resource, and the known
 * handles of the poller's rotation (mod_deep). */
#include <stdio.h>
#include <string.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

static const mod_json_service tagging_api = {"tagging", "1.1", "ResourceGroupsTaggingAPI_20170126",
                                             "resources"};
static const mod_json_pager resources = {"GetResources", "PaginationToken", "PaginationToken",
                                         "ResourceTagMappingList"};

static int collect(mod_ctx *ctx, const char *region, const json_t *item, void *arg, cm_err *err)
{
    (void)ctx;
    (void)region;
    (void)err;
    const char *arn = cm_json_str(item, "ResourceARN");
    if (!arn)
        return 0;
    json_t *tags = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(item, "Tags"), i, t)
    {
        const char *k = cm_json_str(t, "Key"), *v = cm_json_str(t, "Value");
        /* aws: keys are AWS's own; the owner tag stays for mod_take_owner */
        if (k && v && strncmp(k, "aws:", 4) != 0)
            json_object_set_new(tags, k, json_string(v));
    }
    json_object_set_new(arg, arn, tags);
    return 0;
}

int mod_tagged(mod_ctx *ctx, const char *region, const char *resource_type, json_t **out,
               cm_err *err)
{
    json_t *all = json_object();
    json_t *body =
        json_pack("{s:[s], s:i}", "ResourceTypeFilters", resource_type, "ResourcesPerPage", 100);
    int rc = mod_json_each(ctx, &tagging_api, &resources, region, body, collect, all, resource_type,
                           err);
    json_decref(body);
    if (rc) {
        json_decref(all);
        *out = NULL;
        return rc;
    }
    *out = all;
    return 0;
}

json_t *mod_tagged_by_name(mod_ctx *ctx, const char *region, const char *resource_type,
                           const char *marker)
{
    json_t *by_arn = NULL;
    cm_err terr = {0};
    if (mod_tagged(ctx, region, resource_type, &by_arn, &terr)) {
        cm_log(CM_LOG_DEBUG, "%s tags in %s through the tagging API: %s", resource_type, region,
               terr.msg);
        return NULL;
    }
    json_t *by_name = json_object();
    const char *arn;
    json_t *tags;
    json_object_foreach(by_arn, arn, tags)
    {
        const char *at = marker ? strstr(arn, marker) : strrchr(arn, ':');
        if (!at)
            continue;
        at += marker ? strlen(marker) : 1;
        size_t n = strlen(at);
        if (n >= 2 && strcmp(at + n - 2, ":*") == 0)
            n -= 2;
        char name[1024];
        if (n < sizeof name) {
            memcpy(name, at, n);
            name[n] = '\0';
            json_object_set(by_name, name, tags);
        }
    }
    json_decref(by_arn);
    return by_name;
}

bool mod_deep_known(const mod_ctx *ctx, const char *region, const char *handle)
{
    const mod_deep *d = ctx->deep;
    if (!d || d->nslots <= 1 || !d->known || !handle)
        return false;
    char key[1024];
    mod_handle_key(key, sizeof key, region, handle);
    return json_object_get(d->known, key) != NULL;
}

bool mod_deep_turn(const mod_ctx *ctx, const char *region, const char *handle)
{
    const mod_deep *d = ctx->deep;
    if (!d || d->nslots <= 1 || !handle)
        return true;
    return mod_deep_slot(region ? region : "", handle, d->nslots) == d->slot;
}
