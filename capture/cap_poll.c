/* capture/cap_poll.c — the cloud as an event source. A table's listing is
 * compared with the journal's known cloud state, and each difference is
 * written into the table with origin 'cloud' (so the tail journals it as a
 * cloud event), or, where the row has a pending user change, recorded as a
 * conflict instead. PostgreSQL does the comparison: both sides go through
 * the table's row type, so defaults, number and date formats, JSON
 * formatting and the order inside arrays never show as drift, and nothing is
 * parsed in the engine but the few rows that differ. docs/poll.md says why. */
#include "capture/cap.h"

#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"

/* The columns that say which resource a row is: its cloud ids, its region
 * and the parent it lives in (a route is a destination in a route table). */
static bool is_key(const mod_table *t, const mod_column *c)
{
    return (c->flags & MOD_COL_CLOUD_ID) || strcmp(c->name, "region") == 0 ||
           (t->parent_ref && strcmp(c->name, t->parent_ref) == 0);
}

/* jsonb_build_array(to_jsonb(<alias>."k1"), ...) */
static int key_expr(PGconn *conn, const mod_table *t, const char *alias, cm_buf *sql)
{
    int rc = cm_buf_puts(sql, "jsonb_build_array(");
    int n = 0;
    for (const mod_column *c = t->columns; !rc && c->name; c++) {
        if (!is_key(t, c))
            continue;
        rc = cm_buf_printf(sql, "%sto_jsonb(%s.", n++ ? ", " : "", alias);
        if (!rc)
            rc = cm_pg_quote_ident(conn, sql, c->name);
        if (!rc)
            rc = cm_buf_puts(sql, ")");
    }
    return rc ? rc : cm_buf_puts(sql, ")");
}

/* Which columns of t are arrays (compared as sets): a bit per column. */
static int array_columns(PGconn *conn, const mod_table *t, uint64_t *bits, cm_err *err)
{
    const char *p[] = {t->name};
    PGresult *res = NULL;
    *bits = 0;
    int ncols = 0;
    for (const mod_column *c = t->columns; c->name; c++)
        ncols++;
    if (ncols > MOD_COLUMNS_MAX)
        return cm_err_set(err, CM_EINVAL,
                          "table %s has %d columns, more than the %d a poll compares", t->name,
                          ncols, MOD_COLUMNS_MAX);
    int rc = cm_pg_exec(conn, &res, err,
                        "SELECT a.attname FROM pg_attribute a JOIN pg_type y ON y.oid = a.atttypid "
                        "WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped "
                        "AND y.typcategory = 'A'",
                        1, p);
    for (int r = 0; !rc && r < PQntuples(res); r++) {
        int k = 0;
        for (const mod_column *c = t->columns; c->name && k < MOD_COLUMNS_MAX; c++, k++)
            if (strcmp(c->name, PQgetvalue(res, r, 0)) == 0)
                *bits |= (uint64_t)1 << k;
    }
    PQclear(res);
    return rc;
}

/* Column c of alias v, normalised: arrays sorted, everything as jsonb. */
static int norm_col(PGconn *conn, const mod_column *c, bool array, const char *v, cm_buf *sql)
{
    cm_buf q;
    cm_buf_init(&q, 256);
    int rc = cm_pg_quote_ident(conn, &q, c->name);
    if (!rc && array)
        rc = cm_buf_printf(sql, "to_jsonb(ARRAY(SELECT z FROM unnest((%s).%s) z ORDER BY 1))", v,
                           cm_buf_str(&q));
    else if (!rc)
        rc = cm_buf_printf(sql, "to_jsonb((%s).%s)", v, cm_buf_str(&q));
    cm_buf_free(&q);
    return rc;
}

/* to_json(d.lv), or where t has local columns (MOD_COL_LOCAL) and the
 * resource a known state (d.sv), that image with the known state's values
 * of those columns: the cloud says nothing of them, so a conflict's state
 * keeps them. */
static int local_overlay(PGconn *conn, const mod_table *t, cm_buf *out)
{
    int n = 0, rc = 0;
    for (const mod_column *c = t->columns; c->name; c++)
        n += (c->flags & MOD_COL_LOCAL) != 0;
    if (!n)
        return cm_buf_puts(out, "to_json(d.lv)");
    rc = cm_buf_puts(out, "CASE WHEN d.sv IS NULL OR d.lv IS NULL THEN to_json(d.lv) ELSE "
                          "(to_jsonb(d.lv) || jsonb_build_object(");
    n = 0;
    for (const mod_column *c = t->columns; !rc && c->name; c++) {
        if (!(c->flags & MOD_COL_LOCAL))
            continue;
        cm_buf q;
        cm_buf_init(&q, 256);
        rc = cm_pg_quote_ident(conn, &q, c->name);
        char *lit = rc ? NULL : PQescapeLiteral(conn, c->name, strlen(c->name));
        if (!rc && !lit)
            rc = cm_err_set(NULL, CM_ENOMEM, "out of memory");
        if (!rc)
            rc = cm_buf_printf(out, "%s%s, (d.sv).%s", n++ ? ", " : "", lit, cm_buf_str(&q));
        PQfreemem(lit);
        cm_buf_free(&q);
    }
    return rc ? rc : cm_buf_puts(out, "))::json END");
}

/* For a table listed by parent: the CTE u of the parents the listing ($1)
 * left out (their marker rows) into sql, and into where the condition
 * that keeps a known state (alias r) out of the comparison when its
 * parent is one of them: by the parent column, and the region where the
 * table has one. */
static int unlisted_sql(PGconn *conn, const mod_table *t, cm_buf *sql, cm_buf *where)
{
    cm_buf qt, qp;
    cm_buf_init(&qt, 1024);
    cm_buf_init(&qp, 1024);
    bool region = mod_column_find(t, "region") != NULL;
    int rc = cm_pg_quote_ident(conn, &qt, t->name);
    if (!rc)
        rc = cm_pg_quote_ident(conn, &qp, t->by_parent);
    if (!rc)
        rc = cm_buf_printf(sql,
                           "u AS (SELECT DISTINCT to_jsonb(r.%s) AS p, %s AS g "
                           "FROM json_array_elements($1::json) e "
                           "CROSS JOIN LATERAL json_populate_record(NULL::%s, e) r "
                           "WHERE e->'" MOD_UNLISTED_KEY "' IS NOT NULL), ",
                           cm_buf_str(&qp), region ? "to_jsonb(r.region)" : "NULL::jsonb",
                           cm_buf_str(&qt));
    if (!rc)
        rc = cm_buf_printf(
            where, " WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.p = to_jsonb(r.%s)%s)",
            cm_buf_str(&qp), region ? " AND u.g IS NOT DISTINCT FROM to_jsonb(r.region)" : "");
    cm_buf_free(&qt);
    cm_buf_free(&qp);
    return rc;
}

/* The statement that lists the differences between the listing ($1, rows
 * without id) and the known states ($2, [{"i": row id, "s": image}]):
 * (state row id | NULL, listed image | NULL, changed column positions,
 * the id of a row that has the listed resource's key but no known state,
 * the listed owner, the owner iasql_foreign_owner holds, whether anything
 * but the owner differs, whether it is a partial row without a known
 * state). A partial row without tags (they follow the rotation) says
 * nothing of its owner: the owner iasql_foreign_owner holds stays. */
static int diff_sql(PGconn *conn, const mod_table *t, uint64_t arrays, cm_buf *sql)
{
    cm_buf qt;
    cm_buf_init(&qt, 1024);
    int rc = cm_pg_quote_ident(conn, &qt, t->name);
    /* l0: the listing by key; s: the known states; l: the listing with
     * what a partial row leaves out (MOD_PARTIAL_KEY) taken from the known
     * state of the same key, and whether a partial row has none */
    if (!rc)
        rc = cm_buf_puts(sql, "WITH l0 AS (SELECT ");
    if (!rc)
        rc = key_expr(conn, t, "r", sql);
    if (!rc)
        rc = cm_buf_printf(sql,
                           " AS k, e AS j FROM json_array_elements($1::json) e "
                           "CROSS JOIN LATERAL json_populate_record(NULL::%s, e) r "
                           "WHERE e->'" MOD_UNLISTED_KEY "' IS NULL), ",
                           cm_buf_str(&qt));
    /* u: the parents whose children this listing left out (markers of
     * MOD_UNLISTED_KEY): their known children are taken as listed and the
     * same, so they are no part of s */
    cm_buf unlisted;
    cm_buf_init(&unlisted, 4096);
    if (!rc && t->by_parent)
        rc = unlisted_sql(conn, t, sql, &unlisted);
    if (!rc)
        rc = cm_buf_puts(sql, "s AS (SELECT (e->>'i')::bigint AS id, ");
    if (!rc)
        rc = key_expr(conn, t, "r", sql);
    if (!rc)
        rc = cm_buf_printf(
            sql,
            " AS k, r AS v, e->'s' AS sj FROM json_array_elements($2::json) e "
            "CROSS JOIN LATERAL json_populate_record(NULL::%s, e->'s') r%s), "
            "l AS (SELECT l0.k, r AS v, l0.j->>'" MOD_OWNER_KEY
            "' AS owner, l0.j->'" MOD_PARTIAL_KEY
            "' IS NOT NULL AND l0.j->'tags' IS NULL AS blind, "
            "l0.j->'" MOD_PARTIAL_KEY "' IS NOT NULL AND p.sj IS NULL AS unread FROM l0 "
            "LEFT JOIN s p ON l0.j->'" MOD_PARTIAL_KEY "' IS NOT NULL AND p.k = l0.k "
            "CROSS JOIN LATERAL json_populate_record(NULL::%s, CASE WHEN p.sj IS NULL THEN l0.j "
            "ELSE (p.sj::jsonb || l0.j::jsonb)::json END) r), "
            "d AS (SELECT s.id, l.k AS lk, l.v AS lv, s.v AS sv, l.owner, l.blind, l.unread, "
            "array_remove(ARRAY[NULL::int",
            cm_buf_str(&qt), cm_buf_str(&unlisted), cm_buf_str(&qt));
    cm_buf_free(&unlisted);
    int k = 0;
    for (const mod_column *c = t->columns; !rc && c->name; c++, k++) {
        bool array = (arrays >> k) & 1; /* k < MOD_COLUMNS_MAX: array_columns checked */
        if (c->flags & MOD_COL_LOCAL)
            continue; /* the database's own setting: the cloud says nothing of it */
        if (c->flags & MOD_COL_SECRET) {
            /* Two masks say nothing about the values behind them. */
            cm_buf q;
            cm_buf_init(&q, 256);
            rc = cm_pg_quote_ident(conn, &q, c->name);
            if (!rc)
                rc = cm_buf_printf(sql,
                                   ", CASE WHEN NOT (coalesce(iasql_is_mask((l.v).%s), false) "
                                   "OR coalesce(iasql_is_mask((s.v).%s), false)) AND ",
                                   cm_buf_str(&q), cm_buf_str(&q));
            cm_buf_free(&q);
        } else {
            rc = cm_buf_puts(sql, ", CASE WHEN ");
        }
        if (!rc)
            rc = norm_col(conn, c, array, "l.v", sql);
        if (!rc)
            rc = cm_buf_puts(sql, " IS DISTINCT FROM ");
        if (!rc)
            rc = norm_col(conn, c, array, "s.v", sql);
        if (!rc)
            rc = cm_buf_printf(sql, " THEN %d END", k);
    }
    /* the listed image, with the known values of the local columns */
    cm_buf lv;
    cm_buf_init(&lv, 4096);
    if (!rc)
        rc = local_overlay(conn, t, &lv);
    if (!rc)
        rc = cm_buf_printf(sql,
                           "], NULL) AS changed FROM l FULL JOIN s ON l.k = s.k) "
                           "SELECT d.id, %s::text, d.changed::text, x.id, "
                           "CASE WHEN d.blind THEN f.owner ELSE d.owner END, "
                           "f.owner, d.id IS NULL OR d.lk IS NULL OR cardinality(d.changed) > 0, "
                           "coalesce(d.unread, false) "
                           "FROM d LEFT JOIN %s x ON d.id IS NULL AND d.lk = ",
                           cm_buf_str(&lv), cm_buf_str(&qt));
    cm_buf_free(&lv);
    if (!rc)
        rc = key_expr(conn, t, "x", sql);
    /* and the rows whose owner, as iasql_foreign_owner has it, is not the
     * listed one ($3: this database, whose own are not listed there) */
    if (!rc)
        rc = cm_buf_puts(sql, " LEFT JOIN iasql_foreign_owner f ON f.table_name = $4 "
                              "AND f.row_id = coalesce(d.id, x.id) "
                              "WHERE d.id IS NULL OR d.lk IS NULL OR cardinality(d.changed) > 0 "
                              "OR nullif(CASE WHEN d.blind THEN f.owner ELSE d.owner END, $3) "
                              "IS DISTINCT FROM f.owner");
    cm_buf_free(&qt);
    return rc;
}

/* INSERT of listed rows ($1); a row whose key is taken meanwhile is left. */
static int insert_sql(PGconn *conn, const mod_table *t, cm_buf *sql)
{
    cm_buf cols, qt;
    cm_buf_init(&cols, 4096);
    cm_buf_init(&qt, 1024);
    int rc = cm_pg_quote_ident(conn, &qt, t->name);
    if (!rc)
        rc = cap_column_list(conn, t, &cols);
    if (!rc)
        rc = cm_buf_printf(sql,
                           "INSERT INTO %s AS x (%s) SELECT %s FROM json_populate_recordset("
                           "NULL::%s, $1::json) ON CONFLICT DO NOTHING RETURNING x.id, "
                           "to_json(x)::text",
                           cm_buf_str(&qt), cm_buf_str(&cols), cm_buf_str(&cols), cm_buf_str(&qt));
    cm_buf_free(&cols);
    cm_buf_free(&qt);
    return rc;
}

/* UPDATE from [{"id", "r": listed image, "x": the row as the journal last
 * saw it}]: a row changed since (by a user, not yet journaled) is left. A
 * secret column keeps its mask when the cloud only offers a mask, and a
 * local column (MOD_COL_LOCAL) keeps the row's value. */
static int update_sql(PGconn *conn, const mod_table *t, cm_buf *sql)
{
    cm_buf qt;
    cm_buf_init(&qt, 1024);
    int rc = cm_pg_quote_ident(conn, &qt, t->name);
    if (!rc)
        rc = cm_buf_printf(sql, "UPDATE %s x SET ", cm_buf_str(&qt));
    for (const mod_column *c = t->columns; !rc && c->name; c++) {
        cm_buf q;
        cm_buf_init(&q, 256);
        rc = cm_pg_quote_ident(conn, &q, c->name);
        const char *n = cm_buf_str(&q);
        if (!rc && c != t->columns)
            rc = cm_buf_puts(sql, ", ");
        if (!rc && (c->flags & MOD_COL_LOCAL))
            rc = cm_buf_printf(sql, "%s = x.%s", n, n);
        else if (!rc && (c->flags & MOD_COL_SECRET))
            rc = cm_buf_printf(sql,
                               "%s = CASE WHEN iasql_is_mask(s.%s) AND iasql_is_mask(x.%s) "
                               "THEN x.%s ELSE s.%s END",
                               n, n, n, n, n);
        else if (!rc)
            rc = cm_buf_printf(sql, "%s = s.%s", n, n);
        cm_buf_free(&q);
    }
    if (!rc)
        rc = cm_buf_printf(sql,
                           " FROM json_array_elements($1::json) e CROSS JOIN LATERAL "
                           "json_populate_record(NULL::%s, e->'r') s "
                           "WHERE x.id = (e->>'id')::bigint AND to_jsonb(x) = (e->'x')::jsonb "
                           "RETURNING x.id, to_json(x)::text",
                           cm_buf_str(&qt));
    cm_buf_free(&qt);
    return rc;
}

static int delete_sql(PGconn *conn, const mod_table *t, cm_buf *sql)
{
    cm_buf qt;
    cm_buf_init(&qt, 1024);
    int rc = cm_pg_quote_ident(conn, &qt, t->name);
    if (!rc)
        rc = cm_buf_printf(sql,
                           "DELETE FROM %s x USING json_array_elements($1::json) e "
                           "WHERE x.id = (e->>'id')::bigint AND to_jsonb(x) = (e->'x')::jsonb "
                           "RETURNING x.id, to_json(x)::text",
                           cm_buf_str(&qt));
    cm_buf_free(&qt);
    return rc;
}

/* ---- one write, and where the database refuses it, row by row ---- */

static int exec_rows(PGconn *conn, const char *sql, const json_t *rows, json_t *written,
                     cm_err *err)
{
    char *txt = cm_json_dump(rows);
    if (!txt)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    const char *p[] = {txt};
    PGresult *res = NULL;
    int rc = cm_pg_exec_guarded(conn, &res, err, sql, 1, p);
    free(txt);
    for (int r = 0; !rc && r < PQntuples(res); r++)
        json_array_append_new(
            written, json_pack("[Is]", (json_int_t)strtoll(PQgetvalue(res, r, 0), NULL, 10),
                               PQgetvalue(res, r, 1)));
    PQclear(res);
    return rc;
}

/* Runs sql over rows; when the database refuses the statement, each row
 * alone, so that one bad row (a constraint the cloud's value breaks) costs
 * only itself: it goes into refused as {table_name, id, message}. written
 * receives [row id, row image] of every row written. */
static int write_rows(PGconn *conn, const mod_table *t, const char *sql, const json_t *rows,
                      json_t *written, json_t *refused, cm_err *err)
{
    if (!json_array_size(rows))
        return 0;
    int rc = exec_rows(conn, sql, rows, written, err);
    if (rc != CM_EPG)
        return rc;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_t *one = json_pack("[O]", row);
        cm_err rerr = {0};
        rc = exec_rows(conn, sql, one, written, &rerr);
        json_decref(one);
        if (rc == CM_EPG) {
            json_t *id = json_object_get(row, "id");
            cm_buf d;
            cm_buf_init(&d, 4096);
            mod_describe_row(t, (uint64_t)json_integer_value(id),
                             json_object_get(row, "r") ? json_object_get(row, "r") : row, &d);
            json_array_append_new(refused, json_pack("{s:s, s:O, s:s+++}", "table_name", t->name,
                                                     "id", id ? id : json_null(), "message",
                                                     "sync: ", cm_buf_str(&d), ": ", rerr.msg));
            cm_buf_free(&d);
            rc = 0;
        }
        if (rc) {
            *err = rerr;
            return rc;
        }
    }
    return 0;
}

/* ---- the journal side ---- */

typedef struct poll_table {
    const mod_table *t;
    uint64_t *dirty; /* sorted row ids with pending user changes */
    size_t ndirty;
    json_t *deletes; /* [{id, x}] for the second phase */
} poll_table;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool is_dirty(const poll_table *pt, uint64_t id)
{
    return pt->ndirty && bsearch(&id, pt->dirty, pt->ndirty, sizeof id, cmp_u64) != NULL;
}

/* Whether a row the journal marks dirty still differs from its known
 * state: a rollback restores rows but leaves their marks for the next
 * commit to settle, and such a row has nothing pending. */
static int still_pending(jnl_txn *t, const mod_table *mt, uint64_t row_id, bool *out, cm_err *err)
{
    json_t *known = NULL, *now = NULL;
    int rc = jnl_state_image(t, mt->name, row_id, &known, err);
    if (!rc)
        rc = jnl_latest_image(t, mt->name, row_id, &now, err);
    *out = rc || !mod_same_user_columns(mt, known, now);
    json_decref(known);
    json_decref(now);
    return rc;
}

/* The known states of t as [{"i": id, "s": image}, ...] (images copied as
 * they are: nothing parsed) and the rows with pending user changes. */
static int load_journal(jnl *j, poll_table *pt, cm_buf *states, cm_err *err)
{
    jnl_txn *t;
    int rc = jnl_txn_begin(j, false, &t, err);
    if (rc)
        return rc;
    jnl_res *res = NULL;
    size_t n = 0;
    rc = jnl_idx_list(t, JNL_IDX_STATE, pt->t->name, &res, &n, err);
    if (!rc)
        rc = cm_buf_puts(states, "[");
    for (size_t i = 0; !rc && i < n; i++) {
        jnl_str v;
        rc = jnl_idx_get(t, JNL_IDX_STATE, pt->t->name, res[i].row_id, &v, err);
        if (!rc)
            rc = cm_buf_printf(states, "%s{\"i\":%llu,\"s\":", i ? "," : "",
                               (unsigned long long)res[i].row_id);
        if (!rc)
            rc = cm_buf_append(states, v.ptr, v.len);
        if (!rc)
            rc = cm_buf_puts(states, "}");
    }
    if (!rc)
        rc = cm_buf_puts(states, "]");
    jnl_res_free(res, n);
    res = NULL;
    n = 0;
    if (!rc)
        rc = jnl_idx_list(t, JNL_IDX_DIRTY, pt->t->name, &res, &n, err);
    if (!rc && n) {
        pt->dirty = malloc(n * sizeof *pt->dirty);
        if (!pt->dirty)
            rc = cm_err_set(err, CM_ENOMEM, "out of memory");
        size_t k = 0;
        for (size_t i = 0; !rc && i < n; i++) {
            bool pending = true;
            rc = still_pending(t, pt->t, res[i].row_id, &pending, err);
            if (!rc && pending)
                pt->dirty[k++] = res[i].row_id;
        }
        if (!rc) {
            pt->ndirty = k;
            qsort(pt->dirty, k, sizeof *pt->dirty, cmp_u64);
        }
    }
    jnl_res_free(res, n);
    jnl_txn_abort(t);
    jnl_release(j); /* the states are copied into states */
    if (rc == CM_ENOMEM && !err->msg[0])
        cm_err_set(err, CM_ENOMEM, "out of memory reading the known state of %s", pt->t->name);
    return rc;
}

/* Calls fn for every known state of table, parsed, in one read
 * transaction. */
static int each_state(jnl *j, const char *table,
                      void (*fn)(uint64_t id, const json_t *img, void *arg), void *arg, cm_err *err)
{
    jnl_txn *tx;
    int rc = jnl_txn_begin(j, false, &tx, err);
    if (rc)
        return rc;
    jnl_res *res = NULL;
    size_t n = 0;
    rc = jnl_idx_list(tx, JNL_IDX_STATE, table, &res, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        jnl_str v;
        json_t *img = NULL;
        rc = jnl_idx_get(tx, JNL_IDX_STATE, table, res[i].row_id, &v, err);
        if (!rc)
            rc = cm_json_parse(&img, v.ptr, v.len, err);
        if (!rc)
            fn(res[i].row_id, img, arg);
        json_decref(img);
    }
    jnl_res_free(res, n);
    jnl_txn_abort(tx);
    jnl_release(j);
    return rc;
}

struct known_handles {
    const char *column;
    json_t *known;
};

static void note_known_handle(uint64_t id, const json_t *img, void *arg)
{
    struct known_handles *k = arg;
    const char *handle = cm_json_str(img, k->column);
    const char *region = cm_json_str(img, "region");
    if (!handle)
        return;
    char key[1024];
    mod_handle_key(key, sizeof key, region, handle);
    json_object_set_new(k->known, key, json_integer((json_int_t)id));
}

int cap_known_handles(jnl *j, const mod_table *t, json_t **out, cm_err *err)
{
    const mod_column *h = t->deep_handle ? mod_column_find(t, t->deep_handle) : mod_ref_handle(t);
    *out = NULL;
    if (!h)
        return cm_err_set(err, CM_EINVAL, "table %s has no cloud-id column", t->name);
    struct known_handles k = {h->name, json_object()};
    int rc = each_state(j, t->name, note_known_handle, &k, err);
    if (rc)
        json_decref(k.known);
    else
        *out = k.known;
    return rc;
}

const mod_table *cap_parent_table(const mod_table *t)
{
    const mod_column *c = t->by_parent ? mod_column_find(t, t->by_parent) : NULL;
    const char *name = !c ? NULL : c->ref ? c->ref : t->by_parent_table;
    return name ? mod_find_table(name, NULL) : NULL;
}

typedef struct parents_acc {
    const mod_table *t, *pt;
    const char *handle; /* the parent's handle column */
    bool (*recent)(void *arg, const mod_table *t, uint64_t row_id);
    void *arg;
    json_t *out;   /* "region/handle" -> count | null */
    json_t *by_id; /* parent row id -> "region/handle" */
} parents_acc;

static void parent_state(uint64_t id, const json_t *img, void *arg)
{
    parents_acc *a = arg;
    const char *handle = cm_json_str(img, a->handle), *region = cm_json_str(img, "region");
    if (!handle)
        return;
    char key[1024], ids[32];
    mod_handle_key(key, sizeof key, region, handle);
    snprintf(ids, sizeof ids, "%llu", (unsigned long long)id);
    json_object_set_new(a->by_id, ids, json_string(key));
    json_object_set_new(a->out, key,
                        a->recent && a->recent(a->arg, a->pt, id) ? json_null() : json_integer(0));
}

static void child_state(uint64_t id, const json_t *img, void *arg)
{
    parents_acc *a = arg;
    const json_t *v = json_object_get(img, a->t->by_parent);
    const char *key = NULL;
    char buf[1024], ids[32];
    if (json_is_integer(v)) { /* a reference: the parent's row id */
        snprintf(ids, sizeof ids, "%lld", (long long)json_integer_value(v));
        key = json_string_value(json_object_get(a->by_id, ids));
    } else if (json_is_string(v)) { /* the parent's handle */
        const char *region = cm_json_str(img, "region");
        mod_handle_key(buf, sizeof buf, region, json_string_value(v));
        key = buf;
    }
    json_t *count = key ? json_object_get(a->out, key) : NULL;
    if (!json_is_integer(count))
        return; /* a parent not known, or listed anyway */
    if (a->recent && a->recent(a->arg, a->t, id))
        json_object_set_new(a->out, key, json_null());
    else
        json_integer_set(count, json_integer_value(count) + 1);
}

int cap_known_parents(jnl *j, const mod_table *t,
                      bool (*recent)(void *arg, const mod_table *t, uint64_t row_id), void *arg,
                      json_t **out, cm_err *err)
{
    const mod_table *pt = cap_parent_table(t);
    const mod_column *h = pt ? mod_ref_handle(pt) : NULL;
    *out = NULL;
    if (!h)
        return cm_err_set(err, CM_EINVAL, "table %s has no parent to be listed by", t->name);
    parents_acc a = {t, pt, h->name, recent, arg, json_object(), json_object()};
    int rc = each_state(j, pt->name, parent_state, &a, err);
    if (!rc)
        rc = each_state(j, t->name, child_state, &a, err);
    json_decref(a.by_id);
    if (rc)
        json_decref(a.out);
    else
        *out = a.out;
    return rc;
}

/* One parsed image of a row (read: jnl_state_image, jnl_latest_image), in a
 * read transaction of its own. */
static int read_image(jnl *j, int (*read)(jnl_txn *, const char *, uint64_t, json_t **, cm_err *),
                      const char *table, uint64_t row_id, json_t **out, cm_err *err)
{
    jnl_txn *t;
    *out = NULL;
    int rc = jnl_txn_begin(j, false, &t, err);
    if (rc)
        return rc;
    rc = read(t, table, row_id, out, err);
    jnl_txn_abort(t);
    return rc;
}

/* ---- one table ---- */

static void add_result(json_t *out, const char *action, const mod_table *t, uint64_t id,
                       const char *fmt_a, const char *b)
{
    json_array_append_new(out,
                          json_pack("{s:s, s:s, s:o, s:s+}", "action", action, "table_name",
                                    t->name, "id", id ? json_integer((json_int_t)id) : json_null(),
                                    "description", fmt_a, b ? b : ""));
}

/* Names of the changed column positions ("{3,5}") into out. */
static void changed_names(const mod_table *t, const char *positions, cm_buf *out)
{
    const char *p = positions;
    while (p && *p) {
        if (*p >= '0' && *p <= '9') {
            long k = strtol(p, (char **)&p, 10);
            const mod_column *c = t->columns;
            for (long i = 0; c->name && i < k; i++)
                c++;
            if (c->name)
                cm_buf_printf(out, "%s%s", out->len ? ", " : "", c->name);
        } else {
            p++;
        }
    }
}

static void add_conflict(cap_poll_out *o, const mod_table *t, uint64_t id, json_t *image,
                         const char *what)
{
    cm_buf msg;
    cm_buf_init(&msg, 8192);
    cm_buf_printf(&msg,
                  "conflict: %s, while the row has a change not yet committed; the row was left "
                  "as it is: iasql_commit() applies it over what the cloud holds now, "
                  "iasql_rollback() takes the cloud's",
                  what);
    json_t *img = image ? json_deep_copy(image) : NULL;
    if (img)
        json_object_set_new(img, "id", json_integer((json_int_t)id));
    json_array_append_new(
        o->conflicts, json_pack("{s:s, s:I, s:o, s:s}", "table_name", t->name, "id", (json_int_t)id,
                                "image", img ? img : json_null(), "message", cm_buf_str(&msg)));
    add_result(o->rows, "conflict", t, id, cm_buf_str(&msg), NULL);
    cm_buf_free(&msg);
}

/* A resource the listing does not show is taken as deleted only when a
 * direct read says so; not while the engine's own change to it is recent. */
static int absent(jnl *j, poll_table *pt, uint64_t id, const cap_poll_hooks *h, cap_poll_out *o,
                  cm_err *err)
{
    const mod_table *t = pt->t;
    if (is_dirty(pt, id)) {
        add_conflict(o, t, id, NULL, "the resource was deleted in the cloud");
        return 0;
    }
    if (h->recent && h->recent(h->arg, t, id)) {
        o->deferred++;
        return 0;
    }
    json_t *known = NULL, *seen = NULL;
    int rc = read_image(j, jnl_state_image, t->name, id, &known, err);
    cm_err rerr = {0};
    cm_err_clear(&rerr);
    int found = rc || !known || !h->read ? 0 : h->read(h->arg, t, id, known, &rerr);
    if (!rc && found == CM_ENOTFOUND)
        rc = read_image(j, jnl_latest_image, t->name, id, &seen, err);
    if (!rc && found == CM_ENOTFOUND && seen)
        json_array_append_new(pt->deletes,
                              json_pack("{s:I, s:O}", "id", (json_int_t)id, "x", seen));
    else if (!rc && found != CM_ENOTFOUND) {
        o->deferred++;
        if (found)
            cm_log(CM_LOG_WARN, "sync: %s %llu is not in the list, and reading it failed: %s",
                   t->name, (unsigned long long)id, rerr.msg);
        else
            cm_log(CM_LOG_DEBUG, "sync: %s %llu is not in the list, but a read finds it: kept",
                   t->name, (unsigned long long)id);
    }
    json_decref(known);
    json_decref(seen);
    return rc;
}

/* An update of row id to listed, unless the row changed since the journal
 * last saw it. */
static int queue_update(jnl *j, const mod_table *t, uint64_t id, json_t *listed, json_t *updates,
                        cm_err *err)
{
    json_t *seen;
    int rc = read_image(j, jnl_latest_image, t->name, id, &seen, err);
    if (rc || !seen)
        return rc;
    json_array_append_new(
        updates, json_pack("{s:I, s:O, s:o}", "id", (json_int_t)id, "r", listed, "x", seen));
    return 0;
}

/* The foreign owner a listed resource should have in iasql_foreign_owner,
 * when that is not what it has: {"i": row id | null (a resource new to the
 * table), "k": listed image, "o": owner | null}. */
static void note_owner(PGresult *res, int r, uint64_t id, const json_t *img, const char *self,
                       json_t *owners)
{
    const char *owner = PQgetisnull(res, r, 4) ? NULL : PQgetvalue(res, r, 4);
    const char *had = PQgetisnull(res, r, 5) ? NULL : PQgetvalue(res, r, 5);
    if (owner && self && strcmp(owner, self) == 0)
        owner = NULL;
    if (!img || (!owner && !had) || (owner && had && strcmp(owner, had) == 0))
        return;
    json_array_append_new(owners, json_pack("{s:o, s:O, s:s?}", "i",
                                            id ? json_integer((json_int_t)id) : json_null(), "k",
                                            img, "o", owner));
}

/* iasql_foreign_owner as note_owner found it should be, after the inserts
 * (a new resource's row is found by its key). */
static int write_owners(PGconn *conn, const mod_table *t, const json_t *owners, size_t *count,
                        cm_err *err)
{
    if (!json_array_size(owners))
        return 0;
    cm_buf sql, qt;
    cm_buf_init(&sql, 4096);
    cm_buf_init(&qt, 1024);
    int rc = cm_pg_quote_ident(conn, &qt, t->name);
    if (!rc)
        rc = cm_buf_printf(&sql,
                           "WITH e AS (SELECT (e->>'i')::bigint AS i, e->>'o' AS o, r "
                           "FROM json_array_elements($2::json) e "
                           "CROSS JOIN LATERAL json_populate_record(NULL::%s, e->'k') r), "
                           "w AS (SELECT coalesce(e.i, x.id) AS id, e.o FROM e LEFT JOIN %s x "
                           "ON e.i IS NULL AND ",
                           cm_buf_str(&qt), cm_buf_str(&qt));
    if (!rc)
        rc = key_expr(conn, t, "x", &sql);
    if (!rc)
        rc = cm_buf_puts(&sql, " = ");
    if (!rc)
        rc = key_expr(conn, t, "(e.r)", &sql);
    if (!rc)
        rc = cm_buf_puts(&sql,
                         "), gone AS (DELETE FROM iasql_foreign_owner f USING w "
                         "WHERE f.table_name = $1 AND f.row_id = w.id AND w.o IS NULL) "
                         "INSERT INTO iasql_foreign_owner (table_name, row_id, owner) "
                         "SELECT $1, id, o FROM w WHERE id IS NOT NULL AND o IS NOT NULL "
                         "ON CONFLICT (table_name, row_id) DO UPDATE SET owner = EXCLUDED.owner");
    char *txt = rc ? NULL : cm_json_dump(owners);
    if (!rc && !txt)
        rc = cm_err_set(err, CM_ENOMEM, "out of memory");
    if (!rc) {
        const char *p[] = {t->name, txt};
        rc = cm_pg_run(conn, err, cm_buf_str(&sql), 2, p);
    }
    if (!rc)
        *count += json_array_size(owners);
    free(txt);
    cm_buf_free(&qt);
    cm_buf_free(&sql);
    return rc;
}

int cap_cloud_owners(PGconn *conn, const mod_table *t, const json_t *rows, const char *self,
                     cm_err *err)
{
    json_t *owners = json_array();
    size_t i, count = 0;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *owner = cm_json_str(row, MOD_OWNER_KEY);
        if (owner && (!self || strcmp(owner, self) != 0))
            json_array_append_new(owners, json_pack("{s:n, s:O, s:s}", "i", "k", row, "o", owner));
    }
    int rc = write_owners(conn, t, owners, &count, err);
    json_decref(owners);
    return rc;
}

/* Notes the resource of img under table in set (o->excluded, o->wanted). */
static void note_handle(json_t *set, const mod_table *t, const json_t *img)
{
    const mod_column *h = mod_ref_handle(t);
    const char *handle = h ? cm_json_str(img, h->name) : NULL;
    if (!handle)
        return;
    const char *region = cm_json_str(img, "region");
    char key[1024];
    mod_handle_key(key, sizeof key, region, handle);
    json_t *of = json_object_get(set, t->name);
    if (!of)
        json_object_set_new(set, t->name, of = json_object());
    json_object_set_new(of, key, json_true());
}

/* list_text: the listing, as the JSON text the comparison reads. */
static int diff_table(PGconn *conn, jnl *j, poll_table *pt, const char *list_text,
                      const cap_poll_hooks *h, cap_poll_out *o, json_t *inserts, json_t *updates,
                      json_t *why, json_t *owners, cm_err *err)
{
    json_t *filter = NULL;
    int frc = cap_import_filter(conn, pt->t, &filter, err);
    if (frc)
        return frc;
    const mod_table *t = pt->t;
    uint64_t arrays;
    cm_buf states, sql;
    cm_buf_init(&states, CM_BUF_DEFAULT_MAX);
    cm_buf_init(&sql, 1 << 16);
    PGresult *res = NULL;
    int rc = array_columns(conn, t, &arrays, err);
    if (!rc)
        rc = load_journal(j, pt, &states, err);
    if (!rc)
        rc = diff_sql(conn, t, arrays, &sql);
    if (!rc) {
        const char *p[] = {list_text, cm_buf_str(&states), h->self, t->name};
        rc = cm_pg_exec(conn, &res, err, cm_buf_str(&sql), 4, p);
    }
    cm_buf_free(&states);
    cm_buf_free(&sql);
    for (int r = 0; !rc && r < PQntuples(res); r++) {
        bool known = !PQgetisnull(res, r, 0);
        uint64_t id = known                    ? strtoull(PQgetvalue(res, r, 0), NULL, 10)
                      : PQgetisnull(res, r, 3) ? 0
                                               : strtoull(PQgetvalue(res, r, 3), NULL, 10);
        json_t *img = NULL;
        if (!PQgetisnull(res, r, 1))
            rc = cm_json_parse(&img, PQgetvalue(res, r, 1), (size_t)PQgetlength(res, r, 1), err);
        if (!rc && img)
            json_object_del(img, "id");
        if (!rc)
            note_owner(res, r, id, img, h->self, owners);
        if (!rc && strcmp(PQgetvalue(res, r, 6), "t") != 0) {
            /* only the owner differs */
        } else if (!rc && strcmp(PQgetvalue(res, r, 7), "t") == 0) {
            /* a partial row the journal has no state for: one the filter
             * left out, or the rotation took as known; read in full by the
             * next listing if the filter takes it */
            if (cap_filter_match(t, filter, img)) {
                note_handle(o->wanted, t, img);
                o->deferred++;
            }
        } else if (!rc && !img) {
            rc = absent(j, pt, id, h, o, err);
        } else if (!rc && !known && !id && !cap_filter_match(t, filter, img)) {
            note_handle(o->excluded, t, img); /* not to be taken in */
        } else if (!rc && !known && !id) {
            json_array_append(inserts, img);
        } else if (!rc) {
            cm_buf cols;
            cm_buf_init(&cols, 4096);
            if (known)
                changed_names(t, PQgetvalue(res, r, 2), &cols);
            else
                cm_buf_puts(&cols, "the resource now exists in the cloud");
            const char *owner = PQgetisnull(res, r, 4) ? NULL : PQgetvalue(res, r, 4);
            if (owner && h->self && strcmp(owner, h->self) != 0)
                cm_buf_printf(&cols,
                              " (it is tagged " MOD_OWNER_TAG "=%s: iasql database %s made it "
                              "and changes it too)",
                              owner, owner);
            if (is_dirty(pt, id)) {
                cm_buf what;
                cm_buf_init(&what, 4096);
                cm_buf_printf(&what, known ? "the cloud changed %s" : "%s", cm_buf_str(&cols));
                add_conflict(o, t, id, img, cm_buf_str(&what));
                cm_buf_free(&what);
            } else {
                rc = queue_update(j, t, id, img, updates, err);
                char key[32];
                snprintf(key, sizeof key, "%llu", (unsigned long long)id);
                json_object_set_new(why, key, json_string(cm_buf_str(&cols)));
            }
            cm_buf_free(&cols);
        }
        json_decref(img);
    }
    PQclear(res);
    json_decref(filter);
    return rc;
}

/* preview: the rows are rolled back, so a new one's id is not reported
 * (the sequence moves on; its row will have another). */
static void report_written(const mod_table *t, const json_t *written, const char *action,
                           const json_t *why, bool preview, json_t *out)
{
    size_t i;
    json_t *w;
    json_array_foreach(written, i, w)
    {
        uint64_t id = (uint64_t)json_integer_value(json_array_get(w, 0));
        if (strcmp(action, "update") == 0) {
            char key[32];
            snprintf(key, sizeof key, "%llu", (unsigned long long)id);
            add_result(out, action, t, id,
                       "changed in the cloud: ", json_string_value(json_object_get(why, key)));
            continue;
        }
        json_t *img = NULL;
        const char *txt = json_string_value(json_array_get(w, 1));
        cm_err perr = {0};
        if (txt && cm_json_parse(&img, txt, strlen(txt), &perr))
            img = NULL;
        /* What AWS made with its parent (a VPC's default security group,
         * main route table and local route) is part of that parent: taken
         * in, not a change made outside this database. */
        if (img && strcmp(action, "create") == 0 &&
            ((t->implicit && t->implicit(img)) || (t->with_parent && t->with_parent(img)))) {
            json_decref(img);
            continue;
        }
        cm_buf d;
        cm_buf_init(&d, 4096);
        if (preview && strcmp(action, "create") == 0)
            id = 0;
        if (img)
            mod_describe_row(t, id, img, &d);
        add_result(out, action, t, id,
                   strcmp(action, "create") == 0 ? "made outside this database: "
                                                 : "deleted in the cloud: ",
                   cm_buf_str(&d));
        cm_buf_free(&d);
        json_decref(img);
    }
}

/* listed is taken: its tree is freed once it is text, before the
 * comparison, so that the two never weigh on the heap together with the
 * known states and the query that carries them. */
static int poll_one(PGconn *conn, jnl *j, poll_table *pt, json_t *listed, const cap_poll_hooks *h,
                    cap_poll_out *o, cm_err *err)
{
    const mod_table *t = pt->t;
    json_t *inserts = json_array(), *updates = json_array(), *why = json_object();
    json_t *written = json_array(), *owners = json_array();
    cm_buf sql;
    cm_buf_init(&sql, 1 << 16);
    char *list_text = NULL;
    int rc = cap_cloud_refs_to_rows(conn, t, listed, err);
    if (!rc && !(list_text = cm_json_dump(listed)))
        rc = cm_err_set(err, CM_ENOMEM, "out of memory");
    json_decref(listed);
    if (!rc)
        rc = diff_table(conn, j, pt, list_text, h, o, inserts, updates, why, owners, err);
    free(list_text);
    if (!rc)
        rc = update_sql(conn, t, &sql);
    if (!rc)
        rc = write_rows(conn, t, cm_buf_str(&sql), updates, written, o->refused, err);
    if (!rc)
        report_written(t, written, "update", why, h->preview, o->rows);
    json_array_clear(written);
    cm_buf_reset(&sql);
    if (!rc)
        rc = insert_sql(conn, t, &sql);
    if (!rc)
        rc = write_rows(conn, t, cm_buf_str(&sql), inserts, written, o->refused, err);
    if (!rc)
        report_written(t, written, "create", NULL, h->preview, o->rows);
    if (!rc)
        rc = write_owners(conn, t, owners, &o->owners, err);
    json_decref(owners);
    cm_buf_free(&sql);
    json_decref(inserts);
    json_decref(updates);
    json_decref(why);
    json_decref(written);
    return rc;
}

static int delete_gone(PGconn *conn, poll_table *pt, bool preview, cap_poll_out *o, cm_err *err)
{
    if (!json_array_size(pt->deletes))
        return 0;
    cm_buf sql;
    cm_buf_init(&sql, 4096);
    json_t *written = json_array();
    int rc = delete_sql(conn, pt->t, &sql);
    if (!rc)
        rc = write_rows(conn, pt->t, cm_buf_str(&sql), pt->deletes, written, o->refused, err);
    if (!rc)
        report_written(pt->t, written, "delete", NULL, preview, o->rows);
    char *ids = rc ? NULL : cm_json_dump(written);
    if (ids) {
        const char *p[] = {pt->t->name, ids};
        rc = cm_pg_run(conn, err,
                       "DELETE FROM iasql_foreign_owner WHERE table_name = $1 AND row_id IN "
                       "(SELECT (w->>0)::bigint FROM json_array_elements($2::json) w)",
                       2, p);
        free(ids);
    }
    cm_buf_free(&sql);
    json_decref(written);
    return rc;
}

/* ---- conflicts: the journal and iasql_errors, after the tables ---- */

static int record_conflicts(jnl *j, const cap_poll_out *o, cm_err *err)
{
    if (!json_array_size(o->conflicts))
        return 0;
    jnl_txn *t;
    int rc = jnl_txn_begin(j, true, &t, err);
    size_t i;
    json_t *c;
    json_array_foreach(o->conflicts, i, c)
    {
        if (rc)
            break;
        const char *table = cm_json_str(c, "table_name");
        uint64_t id = (uint64_t)json_integer_value(json_object_get(c, "id"));
        json_t *img = json_object_get(c, "image");
        char *txt = json_is_object(img) ? cm_json_dump(img) : NULL;
        const char *msg = cm_json_str(c, "message");
        rc = jnl_state_set(t, 0, table, id, txt, txt ? strlen(txt) : 0, err);
        jnl_rec rec = {.type = JNL_REC_CONFLICT,
                       .row_id = id,
                       .ts_us = cm_now_us(),
                       .table = {table, (uint32_t)strlen(table)},
                       .a = {txt, txt ? (uint32_t)strlen(txt) : 0},
                       .b = {msg, (uint32_t)strlen(msg)}};
        if (!rc)
            rc = jnl_append(t, &rec, NULL, err);
        free(txt);
    }
    if (rc) {
        jnl_txn_abort(t);
        return rc;
    }
    return jnl_txn_commit(t, err);
}

int cap_poll_errors(PGconn *conn, const json_t *errors, cm_err *err)
{
    if (!json_array_size(errors))
        return 0;
    char *txt = cm_json_dump(errors);
    if (!txt)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    const char *p[] = {txt};
    int rc = cm_pg_run(conn, err,
                       "INSERT INTO iasql_errors (table_name, row_id, message) "
                       "SELECT e->>'table_name', (e->>'id')::bigint, e->>'message' "
                       "FROM json_array_elements($1::json) e",
                       1, p);
    free(txt);
    return rc;
}

void cap_poll_out_init(cap_poll_out *o)
{
    memset(o, 0, sizeof *o);
    o->rows = json_array();
    o->conflicts = json_array();
    o->refused = json_array();
    o->excluded = json_object();
    o->wanted = json_object();
}

void cap_poll_out_free(cap_poll_out *o)
{
    json_decref(o->rows);
    json_decref(o->conflicts);
    json_decref(o->refused);
    json_decref(o->excluded);
    json_decref(o->wanted);
    memset(o, 0, sizeof *o);
}

static void truncate_array(json_t *a, size_t n)
{
    while (json_array_size(a) > n)
        json_array_remove(a, json_array_size(a) - 1);
}

int cap_listing_set(cap_listing *l, const mod_table *t, json_t *rows, cm_err *err)
{
    *l = (cap_listing){t, json_dumps(rows, JSON_COMPACT), false};
    json_decref(rows);
    return l->text ? 0 : cm_err_set(err, CM_ENOMEM, "out of memory");
}

void cap_listing_clear(cap_listing *l)
{
    if (!l)
        return;
    free(l->text);
    l->text = NULL;
}

/* in's rows as a tree, its text freed (the tree is what is compared). */
static int listing_rows(cap_listing *in, json_t **rows, cm_err *err)
{
    int rc = in->text ? cm_json_parse(rows, in->text, strlen(in->text), err)
                      : cm_err_set(err, CM_EINVAL, "listing of %s has no rows", in->table->name);
    cap_listing_clear(in);
    if (!rc && !json_is_array(*rows)) {
        json_decref(*rows);
        *rows = NULL;
        rc = cm_err_set(err, CM_EINVAL, "listing of %s is not an array", in->table->name);
    }
    return rc;
}

int cap_poll_apply(PGconn *conn, jnl *j, cap_listing *in, size_t n, const cap_poll_hooks *h,
                   cap_poll_out *o, cm_err *err)
{
    poll_table *pts = calloc(n ? n : 1, sizeof *pts);
    if (!pts)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    int rc = cm_pg_run(conn, err, "BEGIN", 0, NULL);
    if (!rc)
        rc = cm_pg_run(conn, err, "SELECT set_config('iasql.origin', 'cloud', true)", 0, NULL);
    /* Parents first, so that a child new in the cloud finds its new parent
     * row; deletes after, children first. A table that fails costs only
     * itself. */
    for (size_t i = 0; !rc && i < n; i++) {
        pts[i].t = in[i].table;
        pts[i].deletes = json_array();
        size_t nconf = json_array_size(o->conflicts), nrows = json_array_size(o->rows);
        size_t nrefused = json_array_size(o->refused), ndeferred = o->deferred;
        size_t nowners = o->owners;
        rc = cm_pg_run(conn, err, "SAVEPOINT iasql_poll_table", 0, NULL);
        cm_err terr = {0};
        json_t *rows = NULL;
        int trc = rc ? 0 : listing_rows(&in[i], &rows, &terr);
        if (!rc && !trc)
            trc = poll_one(conn, j, &pts[i], rows, h, o, &terr); /* frees rows */
        else
            json_decref(rows);
        if (trc == CM_EPG || trc == CM_EINVAL || trc == CM_EBADREPLY) {
            rc = cm_pg_run(conn, err, "ROLLBACK TO SAVEPOINT iasql_poll_table", 0, NULL);
            truncate_array(o->conflicts, nconf);
            truncate_array(o->rows, nrows);
            json_array_clear(pts[i].deletes);
            json_array_append_new(o->refused,
                                  json_pack("{s:s, s:n, s:s+}", "table_name", in[i].table->name,
                                            "id", "message", "sync: ", terr.msg));
            cm_log(CM_LOG_WARN, "sync of %s: %s", in[i].table->name, terr.msg);
        } else if (trc) {
            *err = terr;
            rc = trc;
        }
        if (!rc)
            rc = cm_pg_run(conn, err, "RELEASE SAVEPOINT iasql_poll_table", 0, NULL);
        in[i].quiet = !rc && json_array_size(o->conflicts) == nconf &&
                      json_array_size(o->rows) == nrows &&
                      json_array_size(o->refused) == nrefused && o->deferred == ndeferred &&
                      o->owners == nowners && !json_array_size(pts[i].deletes);
    }
    for (size_t i = n; !rc && i-- > 0;)
        rc = delete_gone(conn, &pts[i], h->preview, o, err);
    if (h->preview) /* what a sync would write, none of it kept */
        PQclear(PQexec(conn, "ROLLBACK"));
    else
        rc = cm_pg_end(conn, rc, err);
    if (!rc && !h->preview)
        rc = record_conflicts(j, o, err);
    if (!rc && !h->preview) {
        json_t *errors = json_deep_copy(o->refused);
        size_t i;
        json_t *c;
        json_array_foreach(o->conflicts, i, c)
        {
            json_array_append_new(errors, json_pack("{s:O, s:O, s:O}", "table_name",
                                                    json_object_get(c, "table_name"), "id",
                                                    json_object_get(c, "id"), "message",
                                                    json_object_get(c, "message")));
        }
        rc = cap_poll_errors(conn, errors, err);
        json_decref(errors);
    }
    for (size_t i = 0; i < n; i++) {
        free(pts[i].dirty);
        json_decref(pts[i].deletes);
    }
    free(pts);
    return rc;
}
