/* apply/apl_secret.c — secret columns (docs/secrets.md). The row, the audit
 * log and the journal hold a mask; the cleartext waits in iasql_secret,
 * which only the engine reads, until the commit that sends it. Here the
 * apply stage swaps the cleartext in for the one call that needs it, and
 * afterwards forgets what the cloud now holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/apl.h"

bool apl_table_has_secrets(const mod_table *t)
{
    for (const mod_column *c = t->columns; c->name; c++)
        if (c->flags & MOD_COL_SECRET)
            return true;
    return false;
}

int apl_secret_reveal(PGconn *conn, const apl_item *it, json_t **clear, cm_err *err)
{
    *clear = NULL;
    if (!it->desired || !apl_table_has_secrets(it->table))
        return 0;
    char row[32];
    snprintf(row, sizeof row, "%llu", (unsigned long long)it->row_id);
    for (const mod_column *c = it->table->columns; c->name; c++) {
        const char *mask = json_string_value(json_object_get(it->desired, c->name));
        if (!(c->flags & MOD_COL_SECRET) || !mod_is_mask(mask))
            continue;
        const char *p[] = {it->table->name, row, c->name, mask};
        PGresult *res;
        int rc = cm_pg_exec(conn, &res, err,
                            "SELECT value FROM iasql_secret WHERE table_name = $1 AND "
                            "row_id = $2::bigint AND column_name = $3 AND mask = $4",
                            4, p);
        if (rc) {
            json_decref(*clear);
            *clear = NULL;
            return cm_err_wrap(err, "reading the secret %s of %s %s", c->name, it->table->name,
                               row);
        }
        if (PQntuples(res) == 1) {
            if (!*clear)
                *clear = json_deep_copy(it->desired);
            json_object_set_new(*clear, c->name, json_string(PQgetvalue(res, 0, 0)));
        }
        PQclear(res);
    }
    return 0;
}

/* Replaces every occurrence of secret in error (a buffer of
 * APL_ERROR_SIZE) by "***"; a secret too short for that withholds the
 * whole text. */
static void scrub(char *error, const char *secret)
{
    size_t n = strlen(secret);
    if (!n || !strstr(error, secret))
        return;
    if (n < 3) {
        snprintf(error, APL_ERROR_SIZE, "the cloud's message is withheld: it held the secret");
        return;
    }
    char *hit;
    while ((hit = strstr(error, secret))) {
        memmove(hit + 3, hit + n, strlen(hit + n) + 1);
        memcpy(hit, "***", 3);
    }
}

void apl_secret_mask(const apl_item *it, const json_t *clear, json_t *image, char *error)
{
    if (!clear)
        return;
    for (const mod_column *c = it->table->columns; c->name; c++) {
        if (!(c->flags & MOD_COL_SECRET))
            continue;
        const char *secret = json_string_value(json_object_get(clear, c->name));
        json_t *mask = json_object_get(it->desired, c->name);
        if (image && json_object_get(image, c->name))
            json_object_set(image, c->name, mask);
        if (secret && !mod_is_mask(secret) && error)
            scrub(error, secret);
    }
}

/* Secrets whose row is gone or holds another mask now can never be sent. */
static int purge_table(PGconn *conn, const mod_table *t, cm_err *err)
{
    cm_buf sql, qt;
    cm_buf_init(&sql, 4096);
    cm_buf_init(&qt, 1024);
    int rc = cm_pg_quote_ident(conn, &qt, t->name);
    if (!rc)
        rc = cm_buf_printf(&sql,
                           "DELETE FROM iasql_secret s WHERE s.table_name = $1 AND NOT EXISTS "
                           "(SELECT FROM %s r WHERE r.id = s.row_id AND "
                           "to_jsonb(r) ->> s.column_name = s.mask)",
                           qt.data);
    const char *p[] = {t->name};
    if (!rc)
        rc = cm_pg_run(conn, err, cm_buf_str(&sql), 1, p);
    cm_buf_free(&sql);
    cm_buf_free(&qt);
    return rc;
}

int apl_secret_forget(PGconn *conn, const apl_item *it, bool applied, cm_err *err)
{
    if (!apl_table_has_secrets(it->table))
        return 0;
    char row[32];
    snprintf(row, sizeof row, "%llu", (unsigned long long)it->row_id);
    int rc = 0;
    for (const mod_column *c = it->table->columns; !rc && c->name; c++) {
        if (!(c->flags & MOD_COL_SECRET))
            continue;
        const char *mask =
            it->desired ? json_string_value(json_object_get(it->desired, c->name)) : NULL;
        const char *p[] = {it->table->name, row, c->name, mask};
        if (applied && it->action == APL_DELETE)
            rc = cm_pg_run(conn, err,
                           "DELETE FROM iasql_secret WHERE table_name = $1 AND "
                           "row_id = $2::bigint AND column_name = $3",
                           3, p);
        else if (applied && mask)
            rc = cm_pg_run(conn, err,
                           "DELETE FROM iasql_secret WHERE table_name = $1 AND "
                           "row_id = $2::bigint AND column_name = $3 AND mask = $4",
                           4, p);
    }
    return rc;
}

int apl_secret_purge(PGconn *conn, const apl_plan *p, cm_err *err)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < p->n; i++) {
        const mod_table *t = p->items[i].table;
        bool first = apl_table_has_secrets(t);
        for (size_t k = 0; first && k < i; k++)
            first = p->items[k].table != t;
        if (first)
            rc = purge_table(conn, t, err);
    }
    return rc;
}
