/* capture/cap_cloud.c — cloud to database: writes what a module's list
 * returns into its table as origin 'cloud', through parameters only. */
#include "capture/cap.h"

#include <string.h>

#include "common/cm_json.h"

int cap_column_list(PGconn *conn, const mod_table *t, cm_buf *out)
{
    int rc = 0;
    for (const mod_column *c = t->columns; !rc && c->name; c++) {
        if (c != t->columns)
            rc = cm_buf_puts(out, ", ");
        if (!rc)
            rc = cm_pg_quote_ident(conn, out, c->name);
    }
    return rc;
}

/* "INSERT INTO t (c1, c2) SELECT c1, c2 FROM json_populate_recordset(NULL::t, $1)" */
static int build_insert(PGconn *conn, const mod_table *t, cm_buf *sql)
{
    cm_buf cols;
    cm_buf_init(&cols, 1 << 16);
    int rc = cap_column_list(conn, t, &cols);
    if (!rc)
        rc = cm_buf_puts(sql, "INSERT INTO ");
    if (!rc)
        rc = cm_pg_quote_ident(conn, sql, t->name);
    if (!rc)
        rc = cm_buf_printf(sql,
                           " (%s) SELECT %s FROM json_populate_recordset(NULL::", cm_buf_str(&cols),
                           cm_buf_str(&cols));
    if (!rc)
        rc = cm_pg_quote_ident(conn, sql, t->name);
    if (!rc)
        rc = cm_buf_puts(sql, ", $1::json)");
    cm_buf_free(&cols);
    return rc;
}

/* The row ids of rt's rows by their cloud id ({cloud id: row id}). */
static int handle_map(PGconn *conn, const mod_table *rt, json_t **out, cm_err *err)
{
    const mod_column *h = mod_ref_handle(rt);
    *out = NULL;
    if (!h)
        return cm_err_set(err, CM_EINVAL, "table %s has no cloud id to refer to", rt->name);
    cm_buf sql;
    cm_buf_init(&sql, 4096);
    int rc = cm_buf_puts(&sql, "SELECT coalesce(json_object_agg(");
    if (!rc)
        rc = cm_pg_quote_ident(conn, &sql, h->name);
    if (!rc)
        rc = cm_buf_puts(&sql, ", id), '{}') FROM ");
    if (!rc)
        rc = cm_pg_quote_ident(conn, &sql, rt->name);
    if (!rc)
        rc = cm_buf_puts(&sql, " WHERE ");
    if (!rc)
        rc = cm_pg_quote_ident(conn, &sql, h->name);
    if (!rc)
        rc = cm_buf_puts(&sql, " IS NOT NULL");
    PGresult *res = NULL;
    if (!rc)
        rc = cm_pg_exec(conn, &res, err, cm_buf_str(&sql), 0, NULL);
    if (!rc)
        rc = cm_json_parse(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), err);
    PQclear(res);
    cm_buf_free(&sql);
    return rc;
}

static int column_required(PGconn *conn, const mod_table *t, const char *col, bool *out,
                           cm_err *err)
{
    const char *p[] = {t->name, col};
    PGresult *res = NULL;
    int rc = cm_pg_exec(conn, &res, err,
                        "SELECT attnotnull FROM pg_attribute WHERE attrelid = $1::regclass "
                        "AND attname = $2",
                        2, p);
    *out = !rc && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return rc;
}

int cap_cloud_refs_to_rows(PGconn *conn, const mod_table *t, json_t *rows, cm_err *err)
{
    int rc = 0;
    json_t *maps = json_object(); /* one map per referenced table */
    for (const mod_column *c = t->columns; !rc && c->name && json_array_size(rows); c++) {
        if (!c->ref)
            continue;
        const mod_table *rt = mod_find_table(c->ref, NULL);
        json_t *map = json_incref(json_object_get(maps, c->ref));
        bool required = false;
        if (!rt)
            rc = cm_err_set(err, CM_EINVAL, "%s.%s refers to unknown table %s", t->name, c->name,
                            c->ref);
        else if (!map && !(rc = handle_map(conn, rt, &map, err)))
            json_object_set(maps, c->ref, map);
        if (!rc)
            rc = column_required(conn, t, c->name, &required, err);
        for (size_t i = json_array_size(rows); !rc && i-- > 0;) {
            json_t *row = json_array_get(rows, i);
            json_t *v = json_object_get(row, c->name);
            if (json_is_array(v)) {
                json_t *ids = json_array();
                size_t k;
                json_t *e;
                json_array_foreach(v, k, e)
                {
                    json_t *id =
                        json_is_string(e) ? json_object_get(map, json_string_value(e)) : NULL;
                    if (id)
                        json_array_append(ids, id);
                }
                json_object_set_new(row, c->name, ids);
            } else if (json_is_string(v)) {
                json_t *id = json_object_get(map, json_string_value(v));
                if (!id && required && json_object_get(row, MOD_UNLISTED_KEY)) {
                    json_array_remove(rows, i); /* the children of a parent not taken in */
                    continue;
                }
                if (!id && required) {
                    cm_log(CM_LOG_WARN, "%s: %s %s is not in table %s; that resource is left out",
                           t->name, c->name, json_string_value(v), rt->name);
                    json_array_remove(rows, i);
                    continue;
                }
                json_object_set(row, c->name, id ? id : json_null());
            }
        }
        json_decref(map);
    }
    json_decref(maps);
    return rc;
}

int cap_import_filter(PGconn *conn, const mod_table *t, json_t **out, cm_err *err)
{
    const mod_module *m = NULL;
    *out = NULL;
    if (!mod_find_table(t->name, &m) || !m)
        return 0;
    const char *p[] = {m->name};
    PGresult *res = NULL;
    int rc = cm_pg_exec(conn, &res, err,
                        "SELECT tag_key, tag_value, name_prefix FROM iasql_import_filter "
                        "WHERE module_name = $1",
                        1, p);
    if (!rc && PQntuples(res) == 1) {
        static const char *const keys[] = {"tag_key", "tag_value", "name_prefix"};
        *out = json_object();
        for (int c = 0; c < 3; c++)
            if (!PQgetisnull(res, 0, c))
                json_object_set_new(*out, keys[c], json_string(PQgetvalue(res, 0, c)));
    }
    PQclear(res);
    return rc;
}

bool cap_filter_match(const mod_table *t, const json_t *filter, const json_t *row)
{
    if (!filter)
        return true;
    const json_t *tags = json_object_get(row, "tags");
    const char *key = cm_json_str(filter, "tag_key"), *value = cm_json_str(filter, "tag_value");
    if (key && json_is_object(tags)) {
        const char *has = cm_json_str(tags, key);
        if (!has || (value && strcmp(has, value) != 0))
            return false;
    }
    const char *prefix = cm_json_str(filter, "name_prefix");
    if (prefix) {
        const mod_column *h = mod_ref_handle(t);
        const char *name = NULL;
        if (h && !(h->flags & MOD_COL_CLOUD_OWNED) && !h->ref)
            name = cm_json_str(row, h->name);
        else if (json_is_object(tags))
            name = cm_json_str(tags, "Name");
        else
            return true; /* nothing to name it by: it follows its parent */
        if (!name || strncmp(name, prefix, strlen(prefix)) != 0)
            return false;
    }
    return true;
}

/* Takes out of rows those filter does not pass. */
static void filter_rows(const mod_table *t, const json_t *filter, json_t *rows)
{
    for (size_t i = json_array_size(rows); filter && i-- > 0;)
        if (!cap_filter_match(t, filter, json_array_get(rows, i)))
            json_array_remove(rows, i);
}

int cap_cloud_import(PGconn *conn, mod_ctx *ctx, const mod_table *t, const char *const *regions,
                     size_t nregions, const char *self, int *count, cm_err *err)
{
    *count = 0;
    if (!t->ops)
        return 0;
    json_t *rows = NULL, *filter = NULL;
    int rc = cap_import_filter(conn, t, &filter, err);
    if (!rc)
        rc = t->ops->list(ctx, regions, nregions, &rows, err);
    if (!rc)
        filter_rows(t, filter, rows);
    json_decref(filter);
    if (!rc)
        rc = cap_cloud_refs_to_rows(conn, t, rows, err);
    if (rc) {
        json_decref(rows);
        return cm_err_wrap(err, "importing %s", t->name);
    }
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        return 0;
    }
    cm_buf sql;
    cm_buf_init(&sql, 1 << 16);
    char *text = cm_json_dump(rows);
    rc = build_insert(conn, t, &sql);
    if (!rc && text) {
        const char *params[1] = {text};
        rc = cm_pg_run(conn, err, "SELECT set_config('iasql.origin', 'cloud', true)", 0, NULL);
        if (!rc)
            rc = cm_pg_run(conn, err, cm_buf_str(&sql), 1, params);
        if (rc)
            cm_err_wrap(err, "writing imported %s rows", t->name);
    } else if (!rc) {
        rc = cm_err_set(err, CM_ENOMEM, "out of memory importing %s", t->name);
    }
    if (!rc)
        rc = cap_cloud_owners(conn, t, rows, self, err);
    if (!rc)
        *count = (int)json_array_size(rows);
    free(text);
    cm_buf_free(&sql);
    json_decref(rows);
    return rc;
}
