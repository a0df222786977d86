/* engine/eng_rpc.c — the engine's side of the RPC. It keeps ENG_TICKETS
 * 'open' rows in iasql_rpc, each locked (session advisory lock) before it is
 * visible; a SQL function claims one, NOTIFYs, and blocks on the lock; the
 * engine answers, commits, then unlocks, which wakes the caller at once. */
#include <stdlib.h>
#include <string.h>

#include "engine/eng.h"

static int add_tickets(eng *e, int n, cm_err *err)
{
    char count[16];
    snprintf(count, sizeof count, "%d", n);
    const char *p[] = {count};
    PGresult *res = NULL;
    int rc = cm_pg_run(e->ctl, err, "BEGIN", 0, NULL);
    /* The locks are taken before the rows commit, so no caller can claim a
     * ticket whose lock is not yet held. */
    if (!rc)
        rc = cm_pg_exec(e->ctl, &res, err,
                        "WITH t AS (INSERT INTO iasql_rpc (status) "
                        "SELECT 'open' FROM generate_series(1, $1::int) RETURNING id) "
                        "SELECT pg_advisory_lock(1767993713, iasql_rpc_key(id)) FROM t",
                        1, p);
    PQclear(res);
    rc = cm_pg_end(e->ctl, rc, err);
    if (!rc)
        e->open_tickets += n;
    return rc;
}

int eng_rpc_reset(eng *e, cm_err *err)
{
    /* Tickets of an earlier engine lost their locks with it: nobody may claim
     * them now. Callers wait for this engine's tickets instead. */
    return cm_pg_run(e->ctl, err,
                     "UPDATE iasql_rpc SET status = 'abandoned', finished_at = clock_timestamp() "
                     "WHERE status IN ('open', 'queued')",
                     0, NULL);
}

int eng_rpc_start(eng *e, cm_err *err)
{
    int rc = cm_pg_run(e->ctl, err,
                       "DELETE FROM iasql_rpc WHERE status <> 'open' AND status <> 'queued' "
                       "AND finished_at < now() - interval '7 days'",
                       0, NULL);
    if (!rc)
        rc = cm_pg_run(e->ctl, err, "LISTEN iasql_rpc", 0, NULL);
    e->open_tickets = 0;
    if (!rc)
        rc = add_tickets(e, ENG_TICKETS, err);
    return rc;
}

/* Parses a text[] in PostgreSQL's array output format into strings. */
static int parse_text_array(const char *s, char ***out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!s || *s != '{')
        return 0;
    size_t cap = strlen(s) + 1;
    char **items = calloc(cap, sizeof *items);
    char *buf = malloc(cap);
    if (!items || !buf) {
        free(items);
        free(buf);
        return CM_ENOMEM;
    }
    const char *p = s + 1;
    int count = 0;
    while (*p && *p != '}') {
        size_t len = 0;
        bool quoted = *p == '"', is_null = false;
        if (quoted) {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                buf[len++] = *p++;
            }
            if (*p == '"')
                p++;
        } else {
            while (*p && *p != ',' && *p != '}')
                buf[len++] = *p++;
            is_null = len == 4 && strncmp(buf, "NULL", 4) == 0;
        }
        items[count++] = is_null ? NULL : strndup(buf, len);
        if (*p == ',')
            p++;
    }
    free(buf);
    *out = items;
    *n = count;
    return 0;
}

static void free_args(char **args, int n)
{
    for (int i = 0; i < n; i++)
        free(args[i]);
    free(args);
}

/* Writes the answer (or the error) and wakes the caller. */
static int answer(eng *e, const char *id, const json_t *result, const cm_err *fail, cm_err *err)
{
    int rc;
    if (!fail) {
        char *txt = json_dumps(result, JSON_COMPACT);
        const char *p[] = {id, txt};
        rc = cm_pg_run(e->ctl, err,
                       "UPDATE iasql_rpc SET status = 'done', result = $2::json, "
                       "finished_at = clock_timestamp() WHERE id = $1::bigint",
                       2, p);
        free(txt);
    } else {
        const char *p[] = {id, fail->msg};
        rc = cm_pg_run(e->ctl, err,
                       "UPDATE iasql_rpc SET status = 'failed', error = $2, "
                       "finished_at = clock_timestamp() WHERE id = $1::bigint",
                       2, p);
    }
    /* Only after the answer is committed may the caller wake. */
    const char *p[] = {id};
    int rc2 = cm_pg_run(e->ctl, rc ? NULL : err,
                        "SELECT pg_advisory_unlock(1767993713, iasql_rpc_key($1::bigint))", 1, p);
    return rc ? rc : rc2;
}

static int serve_one(eng *e, const char *id, const char *op, const char *args_text, cm_err *err)
{
    char **args;
    int nargs;
    if (parse_text_array(args_text, &args, &nargs))
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    eng_op_fn fn = eng_op_find(op);
    json_t *result = NULL;
    cm_err fail;
    cm_err_clear(&fail);
    int64_t t0 = cm_mono_us();
    uint64_t calls0 = mod_ctx_requests(e->mod), writes0 = mod_ctx_mutating_requests(e->mod);
    int rc = fn ? fn(e, args, nargs, &result, &fail)
                : cm_err_set(&fail, CM_EINVAL, "unknown iasql request %s", op);
    if (rc) {
        cm_log(CM_LOG_WARN, "request %s (%s) failed: %s", id, op, fail.msg);
        if (rc == CM_EPGCONN || rc == CM_ECORRUPT || rc == CM_EFULL) {
            /* The engine cannot go on; answer if possible, then stop. */
            answer(e, id, NULL, &fail, NULL);
            free_args(args, nargs);
            *err = fail;
            return rc;
        }
    } else {
        cm_log(CM_LOG_INFO,
               "request %s (%s) done in %.1f ms, %zu rows, %llu cloud calls (%llu mutating)", id,
               op, (double)(cm_mono_us() - t0) / 1000.0, json_array_size(result),
               (unsigned long long)(mod_ctx_requests(e->mod) - calls0),
               (unsigned long long)(mod_ctx_mutating_requests(e->mod) - writes0));
    }
    int arc = answer(e, id, result, rc ? &fail : NULL, err);
    json_decref(result);
    free_args(args, nargs);
    return arc;
}

/* True when a notification is waiting in libpq's queue. Notifications read
 * while a query ran are queued there, not left on the socket, so poll() on
 * the socket alone would miss them. */
static bool notified(PGconn *conn)
{
    bool any = false;
    PQconsumeInput(conn);
    for (PGnotify *n; (n = PQnotifies(conn)) != NULL;) {
        PQfreemem(n);
        any = true;
    }
    return any;
}

int eng_rpc_serve(eng *e, cm_err *err)
{
    notified(e->ctl); /* the query below covers everything committed so far */
    for (;;) {
        PGresult *res;
        int rc = cm_pg_exec(e->ctl, &res, err,
                            "SELECT id::text, op, args::text FROM iasql_rpc "
                            "WHERE status = 'queued' ORDER BY id",
                            0, NULL);
        if (rc)
            return rc;
        int n = PQntuples(res);
        for (int i = 0; !rc && i < n; i++) {
            rc = serve_one(e, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                           PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2), err);
            e->open_tickets--;
        }
        PQclear(res);
        if (!rc && e->open_tickets < ENG_TICKETS)
            rc = add_tickets(e, ENG_TICKETS - e->open_tickets, err);
        if (rc)
            return rc;
        /* A request that committed after the query's snapshot has notified by
         * now, into libpq's queue or onto the socket: look again if queued. */
        if (!notified(e->ctl) && n == 0)
            return 0;
    }
}
