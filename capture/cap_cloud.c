/* capture/cap_cloud.c — cloud to database: writes what a module's list
 * returns into its table as origin 'cloud', through parameters only. */
#include "capture/cap.h"

#include "common/cm_json.h"

/* "INSERT INTO t (c1, c2) SELECT c1, c2 FROM json_populate_recordset(NULL::t, $1)" */
static int build_insert(PGconn *conn, const mod_table *t, cm_buf *sql)
{
    cm_buf cols;
    cm_buf_init(&cols, 1 << 16);
    int rc = 0;
    for (const mod_column *c = t->columns; !rc && c->name; c++) {
        if (c != t->columns)
            rc = cm_buf_puts(&cols, ", ");
        if (!rc)
            rc = cm_pg_quote_ident(conn, &cols, c->name);
    }
    if (!rc)
        rc = cm_buf_puts(sql, "INSERT INTO ");
    if (!rc)
        rc = cm_pg_quote_ident(conn, sql, t->name);
    if (!rc)
        rc = cm_buf_printf(sql, " (%s) SELECT %s FROM json_populate_recordset(NULL::", cm_buf_str(&cols),
                           cm_buf_str(&cols));
    if (!rc)
        rc = cm_pg_quote_ident(conn, sql, t->name);
    if (!rc)
        rc = cm_buf_puts(sql, ", $1::json)");
    cm_buf_free(&cols);
    return rc;
}

int cap_cloud_import(PGconn *conn, mod_ctx *ctx, const mod_table *t, const char *const *regions,
                     size_t nregions, int *count, cm_err *err)
{
    *count = 0;
    if (!t->ops)
        return 0;
    json_t *rows;
    int rc = t->ops->list(ctx, regions, nregions, &rows, err);
    if (rc)
        return cm_err_wrap(err, "importing %s", t->name);
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
        *count = (int)json_array_size(rows);
    free(text);
    cm_buf_free(&sql);
    json_decref(rows);
    return rc;
}
