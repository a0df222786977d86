/* apply/apl_db.c — the database side of a commit, in one transaction with
 * origin 'engine': cloud-owned columns written back, errors, the commit row
 * and the audit rows' commit id. Values only through parameters,
 * identifiers only through quoting. */
#include <stdlib.h>
#include <string.h>

#include "apply/apl_int.h"
#include "common/cm_json.h"

/* UPDATE t SET c = s.c, ... FROM json_populate_recordset(NULL::t, $1) s
 *  WHERE t.id = s.id AND (t.c, ...) IS DISTINCT FROM (s.c, ...) */
static int build_writeback(PGconn *conn, const mod_table *t, cm_buf *sql)
{
    cm_buf set, lhs, rhs;
    cm_buf_init(&set, 1 << 14);
    cm_buf_init(&lhs, 1 << 14);
    cm_buf_init(&rhs, 1 << 14);
    int n = 0, rc = 0;
    for (const mod_column *c = t->columns; !rc && c->name; c++) {
        if (!(c->flags & MOD_COL_CLOUD_OWNED))
            continue;
        const char *sep = n++ ? ", " : "";
        cm_buf q;
        cm_buf_init(&q, 1024);
        rc = cm_pg_quote_ident(conn, &q, c->name);
        if (!rc)
            rc = cm_buf_printf(&set, "%s%s = s.%s", sep, q.data, q.data);
        if (!rc)
            rc = cm_buf_printf(&lhs, "%sx.%s", sep, q.data);
        if (!rc)
            rc = cm_buf_printf(&rhs, "%ss.%s", sep, q.data);
        cm_buf_free(&q);
    }
    if (!rc && n) {
        cm_buf qt;
        cm_buf_init(&qt, 1024);
        rc = cm_pg_quote_ident(conn, &qt, t->name);
        if (!rc)
            rc = cm_buf_printf(
                sql,
                "UPDATE %s x SET %s FROM json_populate_recordset(NULL::%s, $1::json) s "
                "WHERE x.id = s.id AND ROW(%s) IS DISTINCT FROM ROW(%s)",
                qt.data, set.data, qt.data, lhs.data, rhs.data);
        cm_buf_free(&qt);
    }
    cm_buf_free(&set);
    cm_buf_free(&lhs);
    cm_buf_free(&rhs);
    return rc ? CM_ENOMEM : n;
}

int apl_run_rows(PGconn *conn, const char *sql, json_t *rows, cm_err *err)
{
    char *txt = cm_json_dump(rows);
    const char *params[1] = {txt};
    int rc = cm_pg_exec_guarded(conn, NULL, err, sql, 1, params);
    free(txt);
    return rc;
}

static json_t *image_with_id(const apl_writeback *w)
{
    json_t *img = json_deep_copy(w->image);
    json_object_set_new(img, "id", json_integer((json_int_t)w->row_id));
    return img;
}

int apl_lock_holders(PGconn *conn, const char *table, bool any_mode, cm_buf *out, cm_err *err)
{
    PGresult *res;
    const char *p[] = {table, any_mode ? "t" : "f"};
    int rc = cm_pg_exec(
        conn, &res, err,
        "SELECT string_agg(format('session %s (role %s%s%s)', a.pid, a.usename, "
        "  CASE WHEN a.xact_start IS NOT NULL THEN ', in a transaction since ' || "
        "    date_trunc('second', a.xact_start)::text ELSE '' END, "
        "  CASE WHEN a.query IS NOT NULL AND a.query NOT LIKE '<insufficient%' THEN "
        "    ', last query \"' || left(regexp_replace(a.query, '\\s+', ' ', 'g'), 160) || '\"' "
        "  ELSE '' END), '; ' ORDER BY a.pid) "
        "FROM (SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "       WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid() "
        "         AND l.database = (SELECT d.oid FROM pg_database d "
        "                            WHERE d.datname = current_database()) "
        "         AND c.relnamespace = 'public'::regnamespace "
        "         AND CASE WHEN $1::text IS NULL THEN c.relname::text IN "
        "                    (SELECT t.table_name FROM iasql_tables t) "
        "                  ELSE c.relname::text = $1 END "
        "         AND (l.mode <> 'AccessShareLock' OR $2::boolean)) h "
        "JOIN pg_stat_activity a ON a.pid = h.pid",
        2, p);
    if (rc)
        return rc;
    rc = cm_buf_puts(out, PQgetisnull(res, 0, 0) ? "another session" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc ? cm_err_set(err, CM_ENOMEM, "out of memory") : 0;
}

/* Takes the row locks of table t's written-back rows that nobody else
 * holds (SKIP LOCKED: the engine never waits on a user's row lock); each
 * row that exists but is locked goes to failed with the sessions that hold
 * locks on t, so that it stays pending and a later commit writes it. */
static int lock_rows(PGconn *conn, const apl_writeback *wb, size_t nwb, size_t first,
                     json_t *failed, bool *locked_all, cm_err *err)
{
    cm_buf ids, sql, q;
    cm_buf_init(&ids, CM_BUF_DEFAULT_MAX);
    cm_buf_init(&sql, 4096);
    cm_buf_init(&q, 1024);
    cm_buf_puts(&ids, "{");
    for (size_t k = first; k < nwb; k++)
        if (wb[k].table == wb[first].table)
            cm_buf_printf(&ids, "%s%llu", ids.len > 1 ? "," : "", (unsigned long long)wb[k].row_id);
    cm_buf_puts(&ids, "}");
    int rc = cm_pg_quote_ident(conn, &q, wb[first].table->name);
    if (!rc)
        rc = cm_buf_printf(&sql,
                           "SELECT x.id::text FROM %s x WHERE x.id = ANY ($1::bigint[]) "
                           "AND x.id NOT IN (SELECT y.id FROM %s y WHERE y.id = ANY ($1::bigint[]) "
                           "FOR UPDATE SKIP LOCKED)",
                           q.data, q.data);
    const char *p[] = {cm_buf_str(&ids)};
    PGresult *res = NULL;
    if (!rc)
        rc = cm_pg_exec_guarded(conn, &res, err, cm_buf_str(&sql), 1, p);
    *locked_all = rc == 0 && PQntuples(res) == 0;
    cm_buf who;
    cm_buf_init(&who, 1 << 16);
    if (rc == CM_EBUSY || (!rc && PQntuples(res) > 0)) {
        /* A lock on the whole table (LOCK TABLE, DDL) outlasted lock_timeout,
         * or rows are locked: who holds them. */
        cm_err herr = {0};
        if (apl_lock_holders(conn, wb[first].table->name, rc == CM_EBUSY, &who, &herr))
            cm_buf_puts(&who, "another session");
    }
    for (int r = 0; !rc && failed && r < PQntuples(res); r++)
        json_array_append_new(failed,
                              json_pack("{s:s, s:I, s:s+}", "table_name", wb[first].table->name,
                                        "id", (json_int_t)strtoll(PQgetvalue(res, r, 0), NULL, 10),
                                        "message", "the row is locked by ", cm_buf_str(&who)));
    for (size_t k = first; rc == CM_EBUSY && failed && k < nwb; k++)
        if (wb[k].table == wb[first].table)
            json_array_append_new(
                failed, json_pack("{s:s, s:I, s:s+}", "table_name", wb[k].table->name, "id",
                                  (json_int_t)wb[k].row_id, "message",
                                  "the table is locked past lock_timeout by ", cm_buf_str(&who)));
    if (rc == CM_EBUSY && failed) {
        cm_err_clear(err);
        rc = 0;
    }
    PQclear(res);
    cm_buf_free(&who);
    cm_buf_free(&ids);
    cm_buf_free(&sql);
    cm_buf_free(&q);
    return rc;
}

static bool listed(const json_t *failed, const char *table, uint64_t row_id)
{
    size_t i;
    json_t *f;
    json_array_foreach(failed, i, f)
    {
        if ((uint64_t)json_integer_value(json_object_get(f, "id")) == row_id &&
            strcmp(json_string_value(json_object_get(f, "table_name")), table) == 0)
            return true;
    }
    return false;
}

/* Cloud-owned columns of every written-back row, one statement per table,
 * over the rows it could lock; when the database refuses a table's
 * statement, row by row, and the rows it still refuses go to failed
 * ({table_name, id, message}) while the others are written. */
static int write_back(PGconn *conn, const apl_writeback *wb, size_t nwb, json_t *failed,
                      cm_err *err)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < nwb; i++) {
        bool first = true;
        for (size_t k = 0; k < i && first; k++)
            first = wb[k].table != wb[i].table;
        if (!first)
            continue;
        cm_buf sql;
        cm_buf_init(&sql, 1 << 16);
        int ncols = build_writeback(conn, wb[i].table, &sql);
        if (ncols < 0) {
            cm_buf_free(&sql);
            return cm_err_set(err, CM_ENOMEM, "out of memory");
        }
        bool locked_all = true;
        json_t *skip = json_array();
        if (ncols > 0)
            rc = lock_rows(conn, wb, nwb, i, skip, &locked_all, err);
        if (!rc && ncols > 0) {
            json_t *imgs = json_array();
            for (size_t k = i; k < nwb; k++)
                if (wb[k].table == wb[i].table &&
                    (locked_all || !listed(skip, wb[k].table->name, wb[k].row_id)))
                    json_array_append_new(imgs, image_with_id(&wb[k]));
            /* none it could lock: the UPDATE would wait on the table too */
            rc = json_array_size(imgs) ? apl_run_rows(conn, cm_buf_str(&sql), imgs, err) : 0;
            json_decref(imgs);
            for (size_t k = i; rc == CM_EPG && failed && k < nwb; k++) {
                if (wb[k].table != wb[i].table || listed(skip, wb[k].table->name, wb[k].row_id))
                    continue;
                json_t *one = json_pack("[o]", image_with_id(&wb[k]));
                cm_err rerr = {0};
                int r1 = apl_run_rows(conn, cm_buf_str(&sql), one, &rerr);
                json_decref(one);
                if (r1 == CM_EPG)
                    json_array_append_new(
                        failed, json_pack("{s:s, s:I, s:s}", "table_name", wb[k].table->name, "id",
                                          (json_int_t)wb[k].row_id, "message", rerr.msg));
                else if (r1) {
                    rc = cm_err_set(err, rerr.code, "%s", rerr.msg);
                    break;
                }
            }
            if (rc == CM_EPG && failed) {
                cm_err_clear(err);
                rc = 0;
            }
            if (rc)
                cm_err_wrap(err, "writing back cloud-owned columns of %s", wb[i].table->name);
        }
        size_t si;
        json_t *sf;
        json_array_foreach(failed ? skip : NULL, si, sf) json_array_append(failed, sf);
        json_decref(skip);
        cm_buf_free(&sql);
    }
    return rc;
}

static const char *const status_names[] = {"", "ok", "partial", "failed"};

void apl_db_commit_started(PGconn *conn, uint64_t commit_id, const char *message, size_t total)
{
    char id[24], n[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)commit_id);
    snprintf(n, sizeof n, "%zu", total);
    const char *p[] = {id, message, n};
    cm_err err = {0};
    if (cm_pg_run(conn, &err,
                  "INSERT INTO iasql_commits (id, ts, message, status, done, total) "
                  "VALUES ($1::bigint, clock_timestamp(), $2, 'running', 0, $3::integer) "
                  "ON CONFLICT (id) DO NOTHING",
                  3, p))
        cm_log(CM_LOG_WARN, "commit %s under way is not shown in iasql_commits: %s", id, err.msg);
}

void apl_db_commit_done(PGconn *conn, uint64_t commit_id, size_t done)
{
    char id[24], n[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)commit_id);
    snprintf(n, sizeof n, "%zu", done);
    const char *p[] = {id, n};
    cm_err err = {0};
    if (cm_pg_run(conn, &err,
                  "UPDATE iasql_commits SET done = $2::integer WHERE id = $1::bigint "
                  "AND status = 'running'",
                  2, p))
        cm_log(CM_LOG_WARN, "the progress of commit %s is not shown in iasql_commits: %s", id,
               err.msg);
}

int apl_db_record(PGconn *conn, const jnl_commit *c, const apl_writeback *wb, size_t nwb,
                  json_t *errors, const json_t *audit_ids, json_t *wb_failed, cm_err *err)
{
    char id[32] = "", ts[32] = "", counts[5][24] = {""};
    char *message = NULL, *errs = NULL, *ids = NULL;
    if (c) {
        snprintf(id, sizeof id, "%llu", (unsigned long long)c->id);
        snprintf(ts, sizeof ts, "%lld", (long long)c->ts_us);
        const uint64_t nums[5] = {c->n_create, c->n_update, c->n_replace, c->n_delete, c->n_failed};
        for (int i = 0; i < 5; i++)
            snprintf(counts[i], sizeof counts[i], "%llu", (unsigned long long)nums[i]);
        message = c->message.ptr ? strndup(c->message.ptr, c->message.len) : NULL;
        ids = cm_json_dump(audit_ids);
    }

    int rc = cm_pg_run(conn, err, "BEGIN", 0, NULL);
    if (!rc)
        rc = cm_pg_run(conn, err, "SELECT set_config('iasql.origin', 'engine', true)", 0, NULL);
    if (!rc)
        rc = write_back(conn, wb, nwb, wb_failed, err);
    size_t i;
    json_t *f;
    json_array_foreach(rc || !errors ? NULL : wb_failed, i, f)
    {
        char msg[1400];
        snprintf(msg, sizeof msg, "%s %lld: the cloud's values could not be written back: %s",
                 json_string_value(json_object_get(f, "table_name")),
                 (long long)json_integer_value(json_object_get(f, "id")),
                 json_string_value(json_object_get(f, "message")));
        json_array_append_new(errors, json_pack("{s:O, s:O, s:s}", "table_name",
                                                json_object_get(f, "table_name"), "id",
                                                json_object_get(f, "id"), "message", msg));
    }
    if (c)
        errs = cm_json_dump(errors);
    if (!rc && c) {
        const char *p[] = {id,        ts,        message,   status_names[c->status],
                           counts[0], counts[1], counts[2], counts[3],
                           counts[4]};
        rc = cm_pg_run(conn, err,
                       "INSERT INTO iasql_commits (id, ts, message, status, created, updated, "
                       "replaced, deleted, failed, done, total) "
                       "VALUES ($1, to_timestamp($2::bigint / 1e6), $3, $4, $5, $6, $7, $8, $9, "
                       "$5::integer + $6::integer + $7::integer + $8::integer + $9::integer, "
                       "$5::integer + $6::integer + $7::integer + $8::integer + $9::integer) "
                       /* the row of the commit under way becomes its commit point */
                       "ON CONFLICT (id) DO UPDATE SET ts = EXCLUDED.ts, status = EXCLUDED.status, "
                       "created = EXCLUDED.created, updated = EXCLUDED.updated, "
                       "replaced = EXCLUDED.replaced, deleted = EXCLUDED.deleted, "
                       "failed = EXCLUDED.failed, done = EXCLUDED.done, "
                       "total = greatest(iasql_commits.total, EXCLUDED.total) "
                       "WHERE iasql_commits.status = 'running'",
                       9, p);
    }
    if (!rc && c) {
        /* the journal's high-water mark moves with the commit point */
        char seq[24];
        snprintf(seq, sizeof seq, "%llu", (unsigned long long)c->last_seq);
        const char *p[] = {id, seq};
        rc = cm_pg_run(conn, err,
                       "UPDATE iasql_journal SET last_commit_id = greatest(last_commit_id, "
                       "$1::bigint), last_seq = greatest(last_seq, $2::bigint), "
                       "updated_at = clock_timestamp()",
                       2, p);
    }
    if (!rc && c) {
        const char *p[] = {id, errs};
        rc = cm_pg_run(conn, err,
                       "INSERT INTO iasql_errors (commit_id, table_name, row_id, message) "
                       "SELECT $1::bigint, e->>'table_name', (e->>'id')::bigint, e->>'message' "
                       "FROM json_array_elements($2::json) e "
                       "WHERE NOT EXISTS (SELECT FROM iasql_errors WHERE commit_id = $1::bigint)",
                       2, p);
    }
    if (!rc && c) {
        const char *p[] = {id, ids};
        rc = cm_pg_run(conn, err,
                       "UPDATE iasql_audit_log SET commit_id = $1::bigint WHERE commit_id IS NULL "
                       "AND id IN (SELECT json_array_elements_text($2::json)::bigint)",
                       2, p);
    }
    rc = cm_pg_end(conn, rc, err);
    free(message);
    free(errs);
    free(ids);
    return rc;
}
