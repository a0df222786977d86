/* modules/aws/mod_rows.c — from AWS's answers to row images and back:
 * tags (lists and objects, the owner tag), times, names, and the rows a
 * listing keeps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/mod_int.h"

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

int mod_image_names(const json_t *img, const char *table, const char *name_col, const char **name,
                    const char **region, cm_err *err)
{
    *name = json_string_value(json_object_get(img, name_col));
    *region = json_string_value(json_object_get(img, "region"));
    if (!*name || !*region)
        return cm_err_set(err, CM_EINVAL, "%s row lacks a %s or region", table, name_col);
    return 0;
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

static int by_text(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

json_t *mod_xml_set(xmlNodePtr n, const char *list, const char *item, const char *child)
{
    json_t *items[64];
    size_t k = 0;
    xmlNodePtr l = aws_xml_child(n, list);
    for (xmlNodePtr m = l ? aws_xml_child(l, item) : NULL; m && k < 64; m = aws_xml_next(m, item)) {
        json_t *v = child ? aws_xml_json_child(m, child) : aws_xml_json_text(m);
        if (json_is_string(v))
            items[k++] = v;
        else
            json_decref(v);
    }
    qsort(items, k, sizeof *items, by_text);
    json_t *out = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(out, items[i]);
    return out;
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
