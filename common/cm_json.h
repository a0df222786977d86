/* common/cm_json.h — the jansson boundary: parse and print with errors
 * mapped to cm_err. */
#ifndef IASQL_CM_JSON_H
#define IASQL_CM_JSON_H

#include <jansson.h>

#include "common/cm.h"

/* Parses text of len bytes; *out is a new reference. */
int cm_json_parse(json_t **out, const char *text, size_t len, cm_err *err);
/* Compact text of v with sorted keys; the caller frees it. NULL on failure. */
char *cm_json_dump(const json_t *v);
/* The string member key of obj, or NULL if absent or not a string. Borrowed
 * from obj. */
const char *cm_json_str(const json_t *obj, const char *key);

#endif
