/* common/cm_json.c — jansson helpers. */
#include "common/cm_json.h"

int cm_json_parse(json_t **out, const char *text, size_t len, cm_err *err)
{
    json_error_t je;
    *out = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!*out)
        return cm_err_set(err, CM_ECORRUPT, "bad JSON at line %d column %d: %s", je.line, je.column,
                          je.text);
    return 0;
}

char *cm_json_dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

const char *cm_json_str(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}
