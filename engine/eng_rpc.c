/* engine/eng_rpc.c — the engine's side of the RPC (docs/rpc.md). It keeps
 * ENG_TICKETS 'open' rows in iasql_rpc, each with a random advisory-lock key
 * it holds before the row is visible; a caller claims one, NOTIFYs, and
 * blocks on the lock; the engine answers, commits, then unlocks, which wakes
 * the caller at once. Before it acts on a request it finds out who filed it
 * from PostgreSQL itself (the session holding the request's proof lock) and
 * refuses what that role may not ask. Never trusts a request's arguments for
 * who is asking. */
#include <stdlib.h>
#include <string.h>

#include "apply/apl.h"
#include "engine/eng.h"

/* Takes the oldest queued request (marks it working, in the same
 * statement), with the session that holds its proof lock
 * (iasql_rpc_lock_key of the request's secret and nonce), that session's
 * role, as PostgreSQL reports them, and the open iasql transaction. */
static const char take_sql[] =
    "WITH q AS (SELECT r.id, r.op, r.args, r.ticket_key, r.caller_secret, r.nonce, "
    "  iasql_lock_holder(iasql_rpc_lock_key(r.caller_secret, r.nonce)) AS pid "
    "  FROM iasql_rpc r WHERE r.status = 'queued' ORDER BY r.id LIMIT 1 FOR UPDATE), "
    "w AS (SELECT q.*, u.oid AS uid, u.rolname FROM q "
    "  LEFT JOIN LATERAL (SELECT a.usesysid FROM pg_stat_get_activity(q.pid) a) a "
    "    ON q.pid IS NOT NULL "
    "  LEFT JOIN pg_roles u ON u.oid = a.usesysid), "
    "t AS (UPDATE iasql_rpc r SET status = 'working', caller = w.rolname, caller_pid = w.pid, "
    "  taken_at = clock_timestamp() FROM w WHERE r.id = w.id) "
    "SELECT w.id::text, w.op, w.args::text, w.ticket_key::text, w.pid::text, w.rolname::text, "
    "coalesce(pg_has_role(w.uid, 'iasql_user', 'MEMBER'), false), "
    "x.pid::text, x.transaction_id::text, x.who, "
    "iasql_rpc_lock_key(w.caller_secret, w.nonce)::text "
    "FROM w LEFT JOIN LATERAL (SELECT * FROM iasql_transaction_holder() "
    "  WHERE EXISTS (SELECT FROM iasql_transactions WHERE status = 'open')) x "
    "  ON x.pid IS NOT NULL";

static int add_tickets(eng *e, int n, cm_err *err)
{
    char count[16];
    snprintf(count, sizeof count, "%d", n);
    const char *p[] = {count};
    /* The locks are taken before the rows commit, so no caller can claim a
     * ticket whose lock is not yet held, and nobody can know a key before
     * the engine holds it. */
    int rc = cm_pg_run(e->ctl, err, "BEGIN", 0, NULL);
    if (!rc)
        rc = cm_pg_run(e->ctl, err,
                       "WITH t AS (INSERT INTO iasql_rpc (status, ticket_key) "
                       "SELECT 'open', iasql_random_key() FROM generate_series(1, $1::int) "
                       "RETURNING ticket_key) "
                       "SELECT pg_advisory_lock(ticket_key) FROM t",
                       1, p);
    return cm_pg_end(e->ctl, rc, err);
}

/* Brings the open tickets back to ENG_TICKETS once half are taken, so that
 * a busy engine makes them in batches. */
static int top_up_tickets(eng *e, cm_err *err)
{
    if (e->open_tickets > ENG_TICKETS / 2)
        return 0;
    int rc = add_tickets(e, ENG_TICKETS - e->open_tickets, err);
    if (!rc)
        e->open_tickets = ENG_TICKETS;
    return rc;
}

/* Open tickets nobody will answer: no caller may claim them. */
static int abandon_tickets(eng *e, cm_err *err)
{
    return cm_pg_run(e->ctl, err,
                     "UPDATE iasql_rpc SET status = 'abandoned', finished_at = clock_timestamp() "
                     "WHERE status = 'open'",
                     0, NULL);
}

int eng_rpc_reset(eng *e, cm_err *err)
{
    /* Tickets of an earlier engine lost their locks with it: nobody may claim
     * them now. A request it had begun was cut short; one still queued is
     * served, if its caller still waits. */
    int rc = abandon_tickets(e, err);
    if (!rc)
        rc = cm_pg_run(e->ctl, err,
                       "UPDATE iasql_rpc SET status = 'failed', finished_at = clock_timestamp(), "
                       "error = 'the iasql engine stopped while carrying out request ' || id || "
                       "' (' || op || ')', error_hint = 'iasql_commits and iasql_get_errors() say "
                       "what was applied; call the function again.' WHERE status = 'working'",
                       0, NULL);
    return rc;
}

int eng_rpc_start(eng *e, cm_err *err)
{
    int rc = cm_pg_run(e->ctl, err,
                       "DELETE FROM iasql_rpc WHERE status NOT IN ('open', 'queued', 'working') "
                       "AND finished_at < now() - interval '7 days'",
                       0, NULL);
    if (!rc)
        rc = cm_pg_run(e->ctl, err, "LISTEN iasql_rpc", 0, NULL);
    /* served on every notification: planned once per connection */
    if (!rc)
        rc = cm_pg_prepare(e->ctl, err, "iasql_take", take_sql, 0);
    e->open_tickets = 0;
    if (!rc)
        rc = top_up_tickets(e, err);
    return rc;
}

int eng_rpc_stop(eng *e, cm_err *err)
{
    /* Callers must not claim a ticket nobody will answer: they are told at
     * once that the engine is not running. */
    int rc = cm_pg_run(e->ctl, err, "BEGIN", 0, NULL);
    if (!rc)
        rc = cm_pg_run(e->ctl, err,
                       "UPDATE iasql_engine_state SET state = 'stopped', since = clock_timestamp() "
                       "WHERE pid = pg_backend_pid()",
                       0, NULL);
    if (!rc)
        rc = abandon_tickets(e, err);
    return cm_pg_end(e->ctl, rc, err);
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

/* A request as the serving query finds it, with who filed it. */
typedef struct rpc_req {
    const char *id, *op, *args, *ticket;
    const char *pid, *role; /* NULL: nobody holds the request's proof lock */
    bool allowed;           /* role is a member of iasql_user */
    /* the open iasql transaction (iasql_transaction_holder), NULL: none */
    const char *tx_pid, *tx_id, *tx_who;
    const char *key; /* the proof lock's key */
} rpc_req;

/* Writes the answer (or the error) and wakes the caller. An error's detail
 * and hint (cm_err_split) go to their own fields, which iasql_rpc_call
 * raises as DETAIL and HINT. */
static int answer(eng *e, const rpc_req *q, const char *status, const json_t *result,
                  const char *msg, cm_err *err)
{
    int rc;
    if (result) {
        char *txt = json_dumps(result, JSON_COMPACT);
        const char *p[] = {q->id, txt};
        rc = cm_pg_run(e->ctl, err,
                       "UPDATE iasql_rpc SET status = 'done', result = $2::json, "
                       "finished_at = clock_timestamp() WHERE id = $1::bigint",
                       2, p);
        free(txt);
    } else {
        cm_err_parts parts = cm_err_split(msg);
        char *fact = strndup(parts.fact, (size_t)parts.fact_len);
        char *detail = parts.detail ? strndup(parts.detail, (size_t)parts.detail_len) : NULL;
        const char *p[] = {q->id, fact ? fact : msg, parts.hint, status, detail};
        rc = cm_pg_run(e->ctl, err,
                       "UPDATE iasql_rpc SET status = $4, error = $2, error_hint = $3, "
                       "error_detail = $5, finished_at = clock_timestamp() WHERE id = $1::bigint",
                       5, p);
        free(fact);
        free(detail);
    }
    /* Only after the answer is committed may the caller wake. */
    if (rc || !q->ticket)
        return rc;
    const char *p[] = {q->ticket};
    return cm_pg_run(e->ctl, err, "SELECT pg_advisory_unlock($1::bigint)", 1, p);
}

/* For an operation that ends an iasql transaction: refused when another
 * session holds one; the caller's own transaction otherwise (or none). The
 * engine asks PostgreSQL, whatever the SQL wrapper said. */
static int transaction_of(eng *e, const rpc_req *q, cm_err *err)
{
    e->caller_tx[0] = '\0';
    if (q->tx_pid && strcmp(q->tx_pid, q->pid) != 0)
        return cm_err_set(err, CM_EBUSY,
                          "iasql_%s() refused: iasql transaction %s is open in %s Hint: It ends "
                          "with iasql_commit() or iasql_rollback() in that session, or when that "
                          "session ends.",
                          strcmp(q->op, "rollback_to") == 0 ? "rollback" : q->op, q->tx_id,
                          q->tx_who);
    if (q->tx_pid)
        snprintf(e->caller_tx, sizeof e->caller_tx, "%s", q->tx_id);
    return 0;
}

int eng_caller_present(eng *e, const char *what, cm_err *err)
{
    if (!e->caller_key[0])
        return 0; /* the engine's own work: auto-apply, a poll */
    PGresult *res;
    const char *p[] = {e->caller_key, e->caller_pid};
    int rc =
        cm_pg_exec(e->ctl, &res, err,
                   "SELECT iasql_lock_holder($1::bigint) IS NOT DISTINCT FROM $2::integer", 2, p);
    if (rc)
        return rc;
    bool here = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!here)
        return cm_err_set(err, CM_EBUSY,
                          "the caller (session %s) went away or rolled back before %s; nothing "
                          "was done",
                          e->caller_pid, what);
    return 0;
}

/* A step that waited past lock_timeout: the message says who holds locks
 * on iasql's tables, and what to do. */
static void lock_timeout_message(eng *e, const rpc_req *q, cm_err *fail)
{
    cm_buf who;
    cm_buf_init(&who, 1 << 16);
    cm_err herr = {0};
    if (apl_lock_holders(e->ctl, NULL,
                         strcmp(q->op, "uninstall") == 0 ||
                             strcmp(q->op, "uninstall_discard") == 0 ||
                             strcmp(q->op, "install") == 0,
                         &who, &herr))
        cm_buf_puts(&who, "another session");
    char msg[sizeof fail->msg];
    snprintf(msg, sizeof msg,
             "iasql_%s() waited lock_timeout_seconds for a lock on iasql's tables that %.600s "
             "holds; what it had begun in the database was rolled back (%.120s) Hint: End that "
             "transaction (COMMIT or ROLLBACK, or pg_terminate_backend), then call again; "
             "iasql_config lock_timeout_seconds sets the wait.",
             strcmp(q->op, "rollback_to") == 0 ? "rollback" : q->op, cm_buf_str(&who), fail->msg);
    cm_err_set(fail, CM_EBUSY, "%s", msg);
    cm_buf_free(&who);
}

static int refuse(eng *e, const rpc_req *q, const char *status, const char *msg, cm_err *err)
{
    cm_log(CM_LOG_WARN, "request %s (%s) refused: %s", q->id, q->op, msg);
    return answer(e, q, status, NULL, msg, err);
}

static int serve_one(eng *e, const rpc_req *q, cm_err *err)
{
    char msg[512];
    if (!q->pid)
        return refuse(e, q, "cancelled", "the caller went away before the engine took the request",
                      err);
    if (!q->allowed) {
        snprintf(msg, sizeof msg,
                 "role %s may not call iasql functions in database %s Hint: A role that owns "
                 "the database grants it with: GRANT iasql_user TO %s;",
                 q->role, PQdb(e->ctl), q->role);
        return refuse(e, q, "failed", msg, err);
    }
    const eng_op *op = eng_op_find(q->op);
    if (!op) {
        snprintf(msg, sizeof msg, "there is no iasql request \"%.100s\"", q->op);
        return refuse(e, q, "failed", msg, err);
    }
    cm_err fail = {0};
    cm_err_clear(&fail);
    if ((op->flags & ENG_OP_TX) && transaction_of(e, q, &fail))
        return refuse(e, q, "failed", fail.msg, err);
    char **args;
    int nargs;
    int rc;
    if (parse_text_array(q->args, &args, &nargs))
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    snprintf(e->caller_role, sizeof e->caller_role, "%s", q->role);
    snprintf(e->caller_key, sizeof e->caller_key, "%s", q->key ? q->key : "");
    snprintf(e->caller_pid, sizeof e->caller_pid, "%s", q->pid);
    snprintf(e->rpc_id, sizeof e->rpc_id, "%s", q->id);
    json_t *result = NULL;
    int64_t t0 = cm_mono_us();
    uint64_t calls0 = mod_ctx_requests(e->mod), writes0 = mod_ctx_mutating_requests(e->mod);
    rc = op->fn(e, args, nargs, &result, &fail);
    free_args(args, nargs);
    snprintf(e->caller_role, sizeof e->caller_role, "iasql_engine");
    e->caller_tx[0] = e->caller_key[0] = e->caller_pid[0] = e->rpc_id[0] = '\0';
    if (rc == CM_EBUSY && strstr(fail.msg, "lock timeout"))
        lock_timeout_message(e, q, &fail);
    if (rc) {
        cm_log(CM_LOG_WARN, "request %s (%s) by %s failed: %s", q->id, q->op, q->role, fail.msg);
        int arc = answer(e, q, "failed", NULL, fail.msg, rc == CM_EPGCONN ? NULL : err);
        if (rc == CM_EPGCONN || rc == CM_ECORRUPT || rc == CM_EFULL) {
            /* The engine cannot go on: stop after answering if possible. */
            *err = fail;
            return rc;
        }
        return arc;
    }
    cm_log(CM_LOG_INFO,
           "request %s (%s) done in %.1f ms, %zu rows, %llu cloud calls (%llu mutating), "
           "asked by %s",
           q->id, q->op, (double)(cm_mono_us() - t0) / 1000.0, json_array_size(result),
           (unsigned long long)(mod_ctx_requests(e->mod) - calls0),
           (unsigned long long)(mod_ctx_mutating_requests(e->mod) - writes0), q->role);
    int arc = answer(e, q, "done", result, NULL, err);
    json_decref(result);
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
        int rc = cm_pg_exec_prepared(e->ctl, &res, err, "iasql_take", 0, NULL);
        if (rc)
            return rc;
        int n = PQntuples(res); /* one request, or none left */
        for (int i = 0; !rc && i < n; i++) {
            rpc_req q = {PQgetvalue(res, i, 0),
                         PQgetvalue(res, i, 1),
                         PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2),
                         PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3),
                         PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4),
                         PQgetisnull(res, i, 5) ? "(unknown)" : PQgetvalue(res, i, 5),
                         strcmp(PQgetvalue(res, i, 6), "t") == 0,
                         PQgetisnull(res, i, 7) ? NULL : PQgetvalue(res, i, 7),
                         PQgetvalue(res, i, 8),
                         PQgetvalue(res, i, 9),
                         PQgetvalue(res, i, 10)};
            if (q.ticket)
                e->open_tickets--;
            rc = serve_one(e, &q, err);
        }
        PQclear(res);
        if (!rc)
            rc = top_up_tickets(e, err);
        if (rc)
            return rc;
        /* A request that committed after the query's snapshot has notified by
         * now, into libpq's queue or onto the socket: look again if queued. */
        if (n == 0 && !notified(e->ctl))
            return 0;
    }
}
