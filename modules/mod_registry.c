/* modules/mod_registry.c — the catalogue of modules (modules/modules.def)
 * and the helpers over their descriptions, and nothing else: how modules
 * reach AWS is modules/aws/ (mod_ctx.c, mod_calls.c, mod_pages.c,
 * mod_rows.c, mod_ec2.c over aws_client.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

void mod_handle_key(char *buf, size_t size, const char *region, const char *handle)
{
    snprintf(buf, size, "%s/%s", region ? region : "", handle);
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
    int rc = row_id ? cm_buf_printf(b, "%s %llu", t->name, (unsigned long long)row_id)
                    : cm_buf_puts(b, t->name);
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

bool mod_is_mask(const char *value)
{
    return value && strncmp(value, MOD_SECRET_PREFIX, strlen(MOD_SECRET_PREFIX)) == 0;
}
