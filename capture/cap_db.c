/* capture/cap_db.c — the tail of iasql_audit_log. Reads in a REPEATABLE READ
 * snapshot every row whose transaction was not visible in the previous
 * snapshot, in audit-id order, through a cursor in pages, and appends them
 * with the new position in one LMDB transaction: exactly once across crashes.
 * Row images are kept as the text PostgreSQL produced; nothing is parsed. */
#include "capture/cap.h"

#include <stdlib.h>
#include <string.h>

#define CAP_PAGE 5000
#define CAP_TAIL_KEY "tail"
#define CAP_TAIL_START "1:1:" /* a snapshot in which nothing is visible */

static const char *const op_names[] = {NULL, "INSERT", "UPDATE", "DELETE"};
static const char *const origin_names[] = {NULL, "user", "engine", "cloud"};

uint8_t cap_op_code(const char *op)
{
    for (uint8_t i = 1; i <= JNL_OP_DELETE; i++)
        if (strcmp(op, op_names[i]) == 0)
            return i;
    return 0;
}

uint8_t cap_origin_code(const char *origin)
{
    for (uint8_t i = 1; i <= JNL_ORIGIN_CLOUD; i++)
        if (strcmp(origin, origin_names[i]) == 0)
            return i;
    return 0;
}

int cap_db_index_event(jnl_txn *t, uint64_t seq, const jnl_rec *ev, cm_err *err)
{
    char table[256];
    snprintf(table, sizeof table, "%.*s", (int)ev->table.len, ev->table.ptr);
    int rc = jnl_idx_put_seq(t, JNL_IDX_LATEST, table, ev->row_id, seq, err);
    if (rc)
        return rc;
    if (ev->origin == JNL_ORIGIN_USER) {
        uint64_t first;
        rc = jnl_idx_get_seq(t, JNL_IDX_DIRTY, table, ev->row_id, &first, err);
        if (rc == CM_ENOTFOUND)
            rc = jnl_idx_put_seq(t, JNL_IDX_DIRTY, table, ev->row_id, seq, err);
        return rc;
    }
    if (ev->origin == JNL_ORIGIN_CLOUD) {
        /* What the cloud said is, by definition, the known cloud state. */
        if (ev->op == JNL_OP_DELETE)
            return jnl_idx_del(t, JNL_IDX_STATE, table, ev->row_id, err);
        return jnl_idx_put(t, JNL_IDX_STATE, table, ev->row_id, ev->b.ptr, ev->b.len, err);
    }
    return 0;
}

static jnl_str col_str(const PGresult *res, int row, int col)
{
    jnl_str s = {NULL, 0};
    if (!PQgetisnull(res, row, col)) {
        s.ptr = PQgetvalue(res, row, col);
        s.len = (uint32_t)PQgetlength(res, row, col);
    }
    return s;
}

static int append_page(jnl_txn *t, const PGresult *res, uint64_t *events, cm_err *err)
{
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        jnl_rec ev = {.type = JNL_REC_EVENT};
        ev.audit_id = strtoull(PQgetvalue(res, i, 0), NULL, 10);
        ev.txid = strtoull(PQgetvalue(res, i, 1), NULL, 10);
        ev.ts_us = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        ev.origin = cap_origin_code(PQgetvalue(res, i, 3));
        ev.table = col_str(res, i, 4);
        ev.op = cap_op_code(PQgetvalue(res, i, 5));
        ev.row_id = strtoull(PQgetvalue(res, i, 6), NULL, 10);
        ev.a = col_str(res, i, 7);
        ev.b = col_str(res, i, 8);
        if (!ev.origin || !ev.op)
            return cm_err_set(err, CM_ECORRUPT, "audit row %llu has an unknown origin or op",
                              (unsigned long long)ev.audit_id);
        uint64_t seq;
        int rc = jnl_append(t, &ev, &seq, err);
        if (!rc)
            rc = cap_db_index_event(t, seq, &ev, err);
        if (rc)
            return rc;
    }
    *events += (uint64_t)n;
    return 0;
}

/* Reads the pages of the open cursor into the journal transaction. */
static int read_cursor(PGconn *conn, jnl_txn *t, uint64_t *events, cm_err *err)
{
    char fetch[64];
    snprintf(fetch, sizeof fetch, "FETCH %d FROM iasql_tail", CAP_PAGE);
    for (;;) {
        PGresult *res;
        int rc = cm_pg_exec(conn, &res, err, fetch, 0, NULL);
        if (rc)
            return rc;
        int n = PQntuples(res);
        rc = append_page(t, res, events, err);
        PQclear(res);
        if (rc || n < CAP_PAGE)
            return rc;
    }
}

int cap_db_tail(PGconn *conn, jnl *j, uint64_t *events_out, cm_err *err)
{
    uint64_t events = 0;
    jnl_txn *t;
    int rc = jnl_txn_begin(j, true, &t, err);
    if (rc)
        return rc;
    char prev[8192];
    jnl_str v;
    rc = jnl_meta_get(t, CAP_TAIL_KEY, &v, err);
    if (rc == CM_ENOTFOUND) {
        snprintf(prev, sizeof prev, "%s", CAP_TAIL_START);
        rc = 0;
    } else if (!rc) {
        if (v.len >= sizeof prev)
            rc = cm_err_set(err, CM_ECORRUPT, "journal tail position is %u bytes long", v.len);
        else
            snprintf(prev, sizeof prev, "%.*s", (int)v.len, v.ptr);
    }
    if (rc) {
        jnl_txn_abort(t);
        return rc;
    }

    PGresult *res = NULL;
    const char *params[1] = {prev};
    rc = cm_pg_run(conn, err, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
    if (!rc)
        rc = cm_pg_exec(conn, &res, err, "SELECT pg_current_snapshot()::text", 0, NULL);
    char snap[8192] = "";
    if (!rc)
        snprintf(snap, sizeof snap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!rc)
        rc = cm_pg_run(conn, err,
                       "DECLARE iasql_tail NO SCROLL CURSOR FOR "
                       "SELECT id, txid::text, (extract(epoch FROM ts) * 1000000)::bigint, "
                       "origin, table_name, op, row_id, old_row::text, new_row::text "
                       "FROM iasql_audit_log "
                       "WHERE txid >= pg_snapshot_xmin($1::pg_snapshot) "
                       "AND NOT pg_visible_in_snapshot(txid, $1::pg_snapshot) "
                       "ORDER BY id",
                       1, params);
    if (!rc)
        rc = read_cursor(conn, t, &events, err);
    if (!rc && strcmp(snap, prev) != 0)
        rc = jnl_meta_put(t, CAP_TAIL_KEY, snap, strlen(snap), err);
    if (!rc && (events || strcmp(snap, prev) != 0)) {
        rc = jnl_txn_commit(t, err);
        t = NULL;
    }
    jnl_txn_abort(t);
    /* Read-only: ending it after the journal commit loses nothing. */
    cm_err tmp = {0};
    int rc2 = cm_pg_run(conn, &tmp, rc ? "ROLLBACK" : "COMMIT", 0, NULL);
    if (!rc && rc2) {
        *err = tmp;
        rc = rc2;
    }
    if (events_out)
        *events_out = events;
    return rc;
}
