/* engine/eng_ops.c — what each RPC request does: a table of operations,
 * each a small function over capture, apply and the module registry. */
#include <stdlib.h>
#include <string.h>

#include "apply/apl.h"
#include "capture/cap.h"
#include "common/cm_json.h"
#include "engine/eng.h"

/* The registry is a short static list; flags per module live on the stack. */
#define MAX_MODULES 64

/* Each action of a commit a caller waits for, as it ends: a line in the
 * request's progress, which the caller's iasql_rpc_call raises as a
 * NOTICE ("57/200 created bucket 57 (name=logs-57)"). On the control
 * connection, which waits while the request runs. */
void eng_progress(eng *e, size_t done, size_t total, const char *line)
{
    if (!e->rpc_id[0])
        return; /* nobody waits (auto-apply, a poll) */
    char d[24], t[24];
    cm_buf text;
    cm_buf_init(&text, 16384);
    snprintf(d, sizeof d, "%zu", done);
    snprintf(t, sizeof t, "%zu", total);
    cm_buf_printf(&text, "%zu/%zu %s", done, total, line);
    const char *p[] = {e->rpc_id, cm_buf_str(&text), d, t};
    cm_err err = {0};
    if (cm_pg_run(e->ctl, &err,
                  "UPDATE iasql_rpc SET progress = array_append(coalesce(progress, '{}'), $2), "
                  "progress_done = $3::integer, progress_total = $4::integer "
                  "WHERE id = $1::bigint",
                  4, p))
        cm_log(CM_LOG_WARN, "could not record the progress of request %s: %s", e->rpc_id, err.msg);
    cm_log(CM_LOG_DEBUG, "%s", cm_buf_str(&text));
    cm_buf_free(&text);
}

/* Each action of a commit, as it ends: counted, and a progress line for a
 * caller who waits ("57/200 created bucket 57 (name=logs-57)"). */
static void commit_progress(void *arg, size_t done, size_t total, const char *line,
                            const char *action, bool ok)
{
    eng *e = arg;
    char a[64], labels[128];
    eng_metric_label(a, sizeof a, "action", action);
    snprintf(labels, sizeof labels, "{%s,result=\"%s\"}", a, ok ? "ok" : "failed");
    eng_metric_add("iasql_actions_total", labels, 1);
    eng_progress(e, done, total, line);
}

/* How often an idle tail still says where it is (iasql_status's lag). */
#define TAIL_REPORT_US ((int64_t)10 * 1000000)

int eng_tail(eng *e, cm_err *err)
{
    uint64_t n = 0;
    int rc = cap_db_tail(e->wk, e->j, &n, err);
    if (!rc && n)
        cm_log(CM_LOG_DEBUG, "journaled %llu events", (unsigned long long)n);
    int64_t now = cm_mono_us();
    if (!rc)
        eng_metric_tail_read();
    if (!rc && (n || now - e->tail_reported_us >= TAIL_REPORT_US)) {
        /* what the tail has journaled, for iasql_status() (the newest
         * audit row a moment after the tail: a lag figure, not a mark) */
        rc = cm_pg_run(e->wk, err,
                       "UPDATE iasql_engine_state SET tailed_at = clock_timestamp(), "
                       "tailed_max_id = coalesce((SELECT max(id) FROM iasql_audit_log), 0)",
                       0, NULL);
        e->tail_reported_us = now;
        PGresult *res;
        if (!rc && cm_pg_exec(e->wk, &res, err,
                              "SELECT count(DISTINCT (table_name, row_id)) FROM iasql_audit_log "
                              "WHERE origin = 'user' AND commit_id IS NULL",
                              0, NULL) == 0) {
            eng_metric_set("iasql_pending_changes", NULL, atof(PQgetvalue(res, 0, 0)));
            PQclear(res);
        }
    }
    return rc;
}

int eng_set_lock_timeout(PGconn *conn, cm_err *err)
{
    return cm_pg_run(conn, err,
                     "SELECT set_config('lock_timeout', (1000 * least(greatest(coalesce("
                     "(SELECT value FROM iasql_config WHERE key = 'lock_timeout_seconds'), '5')"
                     "::double precision, 0.1), 600))::bigint::text, false)",
                     0, NULL);
}

int eng_abandon_transactions(eng *e, cm_err *err)
{
    return cm_pg_run(e->wk, err, "SELECT iasql_transactions_abandon()", 0, NULL);
}

/* An explicit commit or rollback outside any iasql transaction has decided
 * for the changes abandoned transactions left. */
static int settle_abandoned(eng *e, cm_err *err)
{
    return cm_pg_run(e->wk, err,
                     "UPDATE iasql_transactions SET changes_pending = false WHERE changes_pending",
                     0, NULL);
}

/* Which of the plan's rows a commit takes (docs/rollback.md, "What a
 * transaction owns"): every row (an explicit commit outside any iasql
 * transaction), the rows with pending changes made in iasql transaction tx
 * (its holder's commit), or the rows with none made in an open
 * transaction or an abandoned one whose changes wait for a decision
 * (auto-apply). */
typedef enum { SCOPE_ALL, SCOPE_TX, SCOPE_FREE } commit_scope;

static int scope_plan(eng *e, apl_plan *p, commit_scope scope, const char *tx, cm_err *err)
{
    if (scope == SCOPE_ALL || p->n == 0)
        return 0;
    PGresult *res;
    int rc;
    if (scope == SCOPE_FREE) {
        rc = cm_pg_exec(e->wk, &res, err,
                        "SELECT EXISTS (SELECT FROM iasql_transactions WHERE status = 'open' "
                        "OR (status = 'abandoned' AND changes_pending))",
                        0, NULL);
        if (rc)
            return rc;
        bool any = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        if (!any)
            return 0;
    }
    /* The audit id of each row's first pending change: changes from there
     * on are what the commit would carry. */
    json_t *rows = json_array();
    jnl_txn *t = NULL;
    rc = jnl_txn_begin(e->j, false, &t, err);
    for (size_t i = 0; !rc && i < p->n; i++) {
        jnl_rec rec;
        if (!p->items[i].dirty_seq)
            continue;
        rc = jnl_get(t, p->items[i].dirty_seq, &rec, err);
        if (!rc && rec.type == JNL_REC_EVENT)
            json_array_append_new(rows, json_pack("{s:I, s:s, s:I, s:I}", "i", (json_int_t)i, "t",
                                                  p->items[i].table->name, "r",
                                                  (json_int_t)p->items[i].row_id, "a",
                                                  (json_int_t)rec.audit_id));
    }
    if (t)
        jnl_txn_abort(t);
    char *txt = rc ? NULL : cm_json_dump(rows);
    json_decref(rows);
    if (rc)
        return rc;
    const char *prm[] = {txt, tx && *tx ? tx : "0"};
    rc = cm_pg_exec(e->wk, &res, err,
                    "SELECT p.i, bool_or(l.iasql_tx = $2::bigint), "
                    "bool_or(x.status = 'open' OR (x.status = 'abandoned' AND x.changes_pending)) "
                    "FROM json_to_recordset($1::json) p(i integer, t text, r bigint, a bigint) "
                    "JOIN iasql_audit_log l ON l.iasql_tx IS NOT NULL AND l.table_name = p.t "
                    "AND l.row_id = p.r AND l.id >= p.a AND l.origin = 'user' "
                    "JOIN iasql_transactions x ON x.id = l.iasql_tx GROUP BY p.i",
                    2, prm);
    free(txt);
    if (rc)
        return rc;
    bool *keep = calloc(p->n, sizeof *keep);
    if (!keep) {
        PQclear(res);
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < p->n; i++) /* rows no transaction touched */
        keep[i] = scope == SCOPE_FREE || !p->items[i].dirty_seq;
    for (int r = 0; r < PQntuples(res); r++) {
        size_t i = (size_t)atol(PQgetvalue(res, r, 0));
        bool mine = strcmp(PQgetvalue(res, r, 1), "t") == 0;
        bool held = strcmp(PQgetvalue(res, r, 2), "t") == 0;
        if (i < p->n)
            keep[i] = scope == SCOPE_TX ? mine : !held;
    }
    PQclear(res);
    size_t before = p->n;
    apl_plan_keep(p, keep);
    free(keep);
    if (p->n < before)
        cm_log(CM_LOG_INFO, "%zu rows with pending changes wait: %s", before - p->n,
               scope == SCOPE_TX ? "they were not made in this iasql transaction"
                                 : "an iasql transaction owns them");
    return 0;
}

/* The plan of what is pending now (after the tail), for a preview. */
static int pending_plan(eng *e, apl_plan **p, cm_err *err)
{
    int rc = eng_tail(e, err);
    return rc ? rc : apl_plan_build(e->j, p, err);
}

static int op_preview(eng *e, char **args, int nargs, json_t **out, cm_err *err)
{
    (void)args;
    (void)nargs;
    apl_plan *p;
    int rc = pending_plan(e, &p, err);
    if (rc)
        return rc;
    rc = apl_plan_owners(e->wk, p, err);
    if (!rc)
        *out = apl_plan_rows(p);
    apl_plan_free(p);
    return rc;
}

/* The plan as a graph of actions and their dependencies (iasql preview
 * --dot). */
static int op_preview_graph(eng *e, char **args, int nargs, json_t **out, cm_err *err)
{
    (void)args;
    (void)nargs;
    apl_plan *p;
    int rc = pending_plan(e, &p, err);
    if (rc)
        return rc;
    rc = apl_plan_graph(p, out, err);
    apl_plan_free(p);
    return rc;
}

/* Who asked for a commit, and the iasql transaction (iasql_begin) it was
 * made in, if any. */
static int note_caller(eng *e, uint64_t commit_id, const char *tx, cm_err *err)
{
    if (!commit_id)
        return 0;
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)commit_id);
    const char *p[] = {id, tx && *tx ? tx : NULL,
                       e->caller_role[0] ? e->caller_role : "iasql_engine"};
    return cm_pg_run(e->wk, err,
                     "UPDATE iasql_commits SET transaction_id = $2::bigint, role = $3 "
                     "WHERE id = $1::bigint",
                     3, p);
}

/* Plans what is pending (the rows scope takes) and applies it as one
 * commit point. */
static int commit_pending(eng *e, const char *message, const char *tx, commit_scope scope,
                          json_t **out, cm_err *err)
{
    apl_plan *p;
    int rc = eng_tail(e, err);
    if (!rc)
        rc = apl_plan_build(e->j, &p, err);
    if (rc)
        return rc;
    rc = scope_plan(e, p, scope, tx, err);
    if (!rc)
        rc = eng_caller_present(e, "its commit began", err);
    if (rc) {
        apl_plan_free(p);
        return rc;
    }
    apl_commit_info info;
    mod_foreground(true);
    apl_set_progress(commit_progress, e);
    rc = apl_execute(e->j, e->wk, e->mod, p, message, &info, err);
    apl_set_progress(NULL, NULL);
    if (!rc && info.commit_id) {
        size_t n = json_array_size(info.rows);
        eng_metric_add("iasql_commits_total",
                       !info.failed      ? "{status=\"ok\"}"
                       : info.failed < n ? "{status=\"partial\"}"
                                         : "{status=\"failed\"}",
                       1);
    }
    mod_foreground(false);
    apl_plan_free(p);
    eng_trim(e);
    if (!rc)
        eng_poll_applied(e, info.rows);
    if (!rc)
        rc = note_caller(e, info.commit_id, tx, err);
    if (!rc && scope == SCOPE_ALL)
        rc = settle_abandoned(e, err);
    if (rc) {
        json_decref(info.rows);
        return rc;
    }
    if (info.commit_id)
        cm_log(CM_LOG_INFO, "commit %llu: %zu resources, %zu failed",
               (unsigned long long)info.commit_id, json_array_size(info.rows), info.failed);
    *out = info.rows;
    return 0;
}

int eng_auto_apply(eng *e, cm_err *err)
{
    PGresult *res;
    int rc = eng_abandon_transactions(e, err);
    if (!rc)
        rc = cm_pg_exec(e->wk, &res, err,
                        "SELECT count(*) FROM iasql_transaction_holder() WHERE pid IS NOT NULL", 0,
                        NULL);
    if (rc)
        return rc;
    bool open = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
    PQclear(res);
    if (open) {
        cm_log(CM_LOG_DEBUG, "an iasql transaction is open: pending changes wait for its commit");
        return 0;
    }
    json_t *rows = NULL;
    rc = commit_pending(e, "auto-apply", NULL, SCOPE_FREE, &rows, err);
    json_decref(rows);
    return rc;
}

int eng_report_idle(eng *e, cm_err *err)
{
    int rc = eng_abandon_transactions(e, err);
    if (rc)
        return rc;
    /* Idle since the holder's session last ran a statement where the engine
     * may see that (pg_read_all_stats), else since the transaction began. */
    return cm_pg_run(
        e->wk, err,
        "WITH idle AS ("
        " UPDATE iasql_transactions x SET idle_reported = true"
        "   FROM iasql_transaction_holder() h"
        "  WHERE x.id = h.transaction_id AND NOT x.idle_reported"
        "    AND (SELECT CASE WHEN a.state IS NULL THEN x.started_at"
        "                     WHEN a.state LIKE 'idle%' THEN a.state_change END"
        "           FROM pg_stat_activity a WHERE a.pid = x.pid) < clock_timestamp() - "
        "        make_interval(secs => coalesce((SELECT value FROM iasql_config"
        "                      WHERE key = 'transaction_idle_seconds'), '600')::double precision)"
        " RETURNING x.id, h.who)"
        "INSERT INTO iasql_errors (message) SELECT format('iasql transaction %s has been idle "
        "longer than transaction_idle_seconds in %s: changes wait for its iasql_commit() or "
        "iasql_rollback(), and no one else can commit meanwhile', id, who) FROM idle",
        0, NULL);
}

/* args: message (may be NULL); the caller's transaction is e->caller_tx. */
static int op_commit(eng *e, char **args, int nargs, json_t **out, cm_err *err)
{
    const char *message = nargs > 0 ? args[0] : NULL;
    if (message && strlen(message) > ENG_MESSAGE_MAX)
        return cm_err_set(err, CM_EINVAL,
                          "the commit message is %zu bytes long; the most is %d Hint: Keep "
                          "details in your own system and refer to them in the message.",
                          strlen(message), ENG_MESSAGE_MAX);
    return commit_pending(e, message, e->caller_tx, e->caller_tx[0] ? SCOPE_TX : SCOPE_ALL, out,
                          err);
}

/* iasql_rollback(): pending user changes discarded, no cloud call. */
static int op_rollback(eng *e, char **args, int nargs, json_t **out, cm_err *err)
{
    (void)args;
    (void)nargs;
    int rc = eng_tail(e, err);
    if (!rc)
        rc = eng_caller_present(e, "the rollback began", err);
    apl_plan *only = NULL; /* in an iasql transaction: its own rows */
    if (!rc && e->caller_tx[0]) {
        rc = apl_plan_build(e->j, &only, err);
        if (!rc)
            rc = scope_plan(e, only, SCOPE_TX, e->caller_tx, err);
    }
    if (!rc)
        rc = apl_discard(e->j, e->wk, only, out, err);
    apl_plan_free(only);
    if (!rc && !e->caller_tx[0])
        rc = settle_abandoned(e, err);
    if (!rc)
        cm_log(CM_LOG_INFO, "rollback: %zu rows restored", json_array_size(*out));
    return rc;
}

/* iasql_rollback(N): args: commit id. */
static int op_rollback_to(eng *e, char **args, int nargs, json_t **out, cm_err *err)
{
    char *end = NULL;
    const char *arg = nargs > 0 && args[0] ? args[0] : "";
    long long n = strtoll(arg, &end, 10);
    if (!*arg || *end || n <= 0)
        return cm_err_set(err, CM_EINVAL, "there is no commit point %s: commit ids start at 1",
                          *arg ? arg : "NULL");
    int rc = eng_tail(e, err);
    size_t changed = 0;
    if (!rc)
        rc = apl_rollback_prepare(e->j, e->wk, (uint64_t)n, &changed, err);
    if (rc)
        return rc;
    cm_log(CM_LOG_INFO, "rollback to commit %lld: %zu rows written back to that state", n, changed);
    char message[64];
    snprintf(message, sizeof message, "rollback to commit %lld", n);
    return commit_pending(e, message, e->caller_tx, SCOPE_ALL, out, err);
}

static int op_modules_list(eng *e, char **args, int nargs, json_t **out, cm_err *err)
{
    (void)e;
    (void)args;
    (void)nargs;
    (void)err;
    json_t *rows = json_array();
    const mod_module *const *reg = mod_registry();
    for (int i = 0; reg[i]; i++) {
        json_t *deps = json_array();
        for (int k = 0; reg[i]->deps[k]; k++)
            json_array_append_new(deps, json_string(reg[i]->deps[k]));
        json_array_append_new(rows,
                              json_pack("{s:s, s:s, s:o}", "module_name", reg[i]->name,
                                        "module_version", reg[i]->version, "dependencies", deps));
    }
    *out = rows;
    return 0;
}

/* installed[i] tells whether mod_registry()[i] is installed. */
static int installed_set(eng *e, bool *installed, cm_err *err)
{
    PGresult *res;
    int rc = cm_pg_exec(e->wk, &res, err, "SELECT name FROM iasql_module", 0, NULL);
    if (rc)
        return rc;
    const mod_module *const *reg = mod_registry();
    for (int i = 0; reg[i]; i++) {
        installed[i] = false;
        for (int r = 0; r < PQntuples(res); r++)
            installed[i] |= strcmp(PQgetvalue(res, r, 0), reg[i]->name) == 0;
    }
    PQclear(res);
    return 0;
}

int eng_installed_tables(eng *e, const mod_table **out, int max, int *n, cm_err *err)
{
    bool installed[MAX_MODULES];
    int rc = installed_set(e, installed, err);
    *n = 0;
    const mod_module *const *reg = mod_registry();
    for (int i = 0; !rc && reg[i]; i++)
        for (int k = 0; installed[i] && reg[i]->tables[k]; k++)
            if (reg[i]->tables[k]->ops && *n < max)
                out[(*n)++] = reg[i]->tables[k];
    return rc;
}

static int registry_index(const char *name)
{
    const mod_module *const *reg = mod_registry();
    for (int i = 0; reg[i]; i++)
        if (strcmp(reg[i]->name, name) == 0)
            return i;
    return -1;
}

static int unknown_module(const char *name, cm_err *err)
{
    cm_buf known;
    cm_buf_init(&known, 4096);
    const mod_module *const *reg = mod_registry();
    for (int i = 0; reg[i]; i++)
        cm_buf_printf(&known, "%s%s", i ? ", " : "", reg[i]->name);
    cm_err_set(err, CM_EINVAL,
               "there is no module named \"%s\" Detail: The modules are %s. Hint: "
               "SELECT * FROM iasql_modules_list() lists them with their tables.",
               name, cm_buf_str(&known));
    cm_buf_free(&known);
    return CM_EINVAL;
}

/* The modules an install or uninstall names, as flags indexed like
 * mod_registry(), with which of them are installed. Unknown names are an
 * error that lists the modules there are. */
static int named_modules(eng *e, char **args, int nargs, const char *verb, bool *installed,
                         bool *named, cm_err *err)
{
    if (nargs == 0)
        return cm_err_set(err, CM_EINVAL, "name at least one module to %s", verb);
    for (int i = 0; i < MAX_MODULES; i++)
        named[i] = false;
    for (int i = 0; i < nargs; i++) {
        int idx = args[i] ? registry_index(args[i]) : -1;
        if (idx < 0)
            return unknown_module(args[i] ? args[i] : "(null)", err);
        named[idx] = true;
    }
    return installed_set(e, installed, err);
}

/* Marks want[i] for each requested module and, transitively, every missing
 * dependency. */
static int want_with_deps(int idx, const bool *installed, bool *want)
{
    const mod_module *m = mod_registry()[idx];
    if (want[idx] || installed[idx])
        return 0;
    want[idx] = true;
    for (int k = 0; m->deps[k]; k++) {
        int d = registry_index(m->deps[k]);
        if (d < 0)
            return CM_EINVAL;
        want_with_deps(d, installed, want);
    }
    return 0;
}

int eng_enabled_regions(PGconn *conn, char ***out, size_t *n, cm_err *err)
{
    PGresult *res;
    *out = NULL;
    *n = 0;
    int rc = cm_pg_exec(conn, &res, err,
                        "SELECT region FROM aws_regions WHERE is_enabled ORDER BY region", 0, NULL);
    if (rc)
        return rc;
    int rows = PQntuples(res);
    char **regions = calloc((size_t)rows + 1, sizeof *regions);
    for (int i = 0; regions && i < rows; i++)
        regions[i] = strdup(PQgetvalue(res, i, 0));
    PQclear(res);
    if (!regions)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    *out = regions;
    *n = (size_t)rows;
    return 0;
}

void eng_free_strings(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

static json_t *columns_with(const mod_table *t, unsigned want, unsigned without)
{
    json_t *a = json_array();
    for (const mod_column *c = t->columns; c->name; c++)
        if ((c->flags & want) == want && !(c->flags & without))
            json_array_append_new(a, json_string(c->name));
    return a;
}

/* What iasql_get_sql_since() needs to know of a table: the columns that
 * name a row in any database (cloud-id, not cloud-owned), the cloud-owned
 * ones and the secret ones. */
static int describe_table(PGconn *conn, const mod_table *t, cm_err *err)
{
    json_t *cols[3] = {columns_with(t, MOD_COL_CLOUD_ID, MOD_COL_CLOUD_OWNED),
                       columns_with(t, MOD_COL_CLOUD_OWNED, 0), columns_with(t, MOD_COL_SECRET, 0)};
    char *txt[3];
    for (int i = 0; i < 3; i++)
        txt[i] = cm_json_dump(cols[i]);
    const char *p[] = {t->name, txt[0], txt[1], txt[2]};
    int rc = cm_pg_run(conn, err,
                       "UPDATE iasql_tables SET "
                       "key_columns = ARRAY(SELECT json_array_elements_text($2::json)), "
                       "owned_columns = ARRAY(SELECT json_array_elements_text($3::json)), "
                       "secret_columns = ARRAY(SELECT json_array_elements_text($4::json)) "
                       "WHERE table_name = $1",
                       4, p);
    for (int i = 0; i < 3; i++) {
        free(txt[i]);
        json_decref(cols[i]);
    }
    return rc;
}

int eng_describe_tables(eng *e, cm_err *err)
{
    int rc = 0;
    const mod_module *const *reg = mod_registry();
    for (int i = 0; !rc && reg[i]; i++)
        for (int k = 0; !rc && reg[i]->tables[k]; k++)
            rc = describe_table(e->wk, reg[i]->tables[k], err);
    return rc;
}

int eng_install_schema(PGconn *conn, const mod_module *m, const char *region, cm_err *err)
{
    const char *mp[] = {m->name, m->version};
    int rc =
        cm_pg_run(conn, err, "INSERT INTO iasql_module (name, version) VALUES ($1, $2)", 2, mp);
    if (!rc)
        rc = cm_pg_script(conn, err, m->install_sql);
    for (int k = 0; !rc && m->tables[k]; k++) {
        const char *p[] = {m->tables[k]->name, m->name};
        if (m->tables[k]->ops)
            rc = cm_pg_run(conn, err, "SELECT iasql_attach_capture($1::regclass)", 1, p);
        if (!rc)
            rc = cm_pg_run(conn, err,
                           "INSERT INTO iasql_tables (table_name, module) VALUES ($1, $2)", 2, p);
        if (!rc)
            rc = describe_table(conn, m->tables[k], err);
    }
    for (int k = 0; !rc && m->deps[k]; k++) {
        const char *p[] = {m->name, m->deps[k]};
        rc = cm_pg_run(conn, err,
                       "INSERT INTO iasql_dependencies (module, dependency) VALUES ($1, $2)", 2, p);
    }
    if (!rc && m->seed_sql) {
        const char *p[] = {region};
        rc = cm_pg_run(conn, err, m->seed_sql, 1, p);
    }
    if (rc)
        cm_err_wrap(err, "installing module %s", m->name);
    return rc;
}

static int install_schema(eng *e, const mod_module *m, cm_err *err)
{
    return eng_install_schema(e->wk, m, mod_ctx_default_region(e->mod), err);
}

static int count_rows(PGconn *conn, const char *table, int *count, cm_err *err)
{
    cm_buf sql;
    cm_buf_init(&sql, 4096);
    cm_buf_puts(&sql, "SELECT count(*) FROM ");
    int rc = cm_pg_quote_ident(conn, &sql, table);
    PGresult *res = NULL;
    if (!rc)
        rc = cm_pg_exec(conn, &res, err, cm_buf_str(&sql), 0, NULL);
    if (!rc)
        *count = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    cm_buf_free(&sql);
    return rc;
}

int eng_mark_module(jnl *j, const mod_module *m, jnl_mark_kind kind, cm_err *err)
{
    jnl_txn *t;
    int rc = jnl_txn_begin(j, true, &t, err);
    for (int k = 0; !rc && m->tables[k]; k++) {
        const char *name = m->tables[k]->name;
        jnl_rec rec = {.type = JNL_REC_MARK,
                       .op = (uint8_t)kind,
                       .ts_us = cm_now_us(),
                       .table = {name, (uint32_t)strlen(name)},
                       .a = {m->name, (uint32_t)strlen(m->name)}};
        rc = jnl_append(t, &rec, NULL, err);
        if (!rc && kind == JNL_MARK_UNINSTALL)
            rc = jnl_idx_clear_table(t, name, err);
    }
    if (rc) {
        jnl_txn_abort(t);
        return rc;
    }
    return jnl_txn_commit(t, err);
}

static int mark_tables(eng *e, const mod_module *m, jnl_mark_kind kind, cm_err *err)
{
    eng_poll_applied(e, NULL); /* a listing made before this is of other tables */
    return eng_mark_module(e->j, m, kind, err);
}

int eng_mark_installed(eng *e, cm_err *err)
{
    bool installed[MAX_MODULES];
    int rc = installed_set(e, installed, err);
    const mod_module *const *reg = mod_registry();
    for (int i = 0; !rc && reg[i]; i++)
        if (installed[i])
            rc = eng_mark_module(e->j, reg[i], JNL_MARK_INSTALL, err);
    return rc;
}

/* Imports m's tables; *done counts the tables of the whole install
 * (total), for its progress lines. */
static int import_tables(eng *e, const mod_module *m, json_t *rows, size_t *done, size_t total,
                         cm_err *err)
{
    char **regions;
    size_t nregions;
    int rc = eng_enabled_regions(e->wk, &regions, &nregions, err);
    for (int k = 0; !rc && m->tables[k]; k++) {
        const mod_table *t = m->tables[k];
        int count = 0;
        if (t->ops)
            rc = cap_cloud_import(e->wk, e->mod, t, (const char *const *)regions, nregions, e->dbid,
                                  &count, err);
        else
            rc = count_rows(e->wk, t->name, &count, err);
        if (!rc) {
            json_array_append_new(rows, json_pack("{s:s, s:s, s:i}", "module_name", m->name,
                                                  "table_name", t->name, "record_count", count));
            char line[256];
            snprintf(line, sizeof line, "imported %s.%s: %d rows", m->name, t->name, count);
            eng_progress(e, ++*done, total, line);
        }
    }
    eng_free_strings(regions, nregions);
    return rc;
}

/* Installs the modules, and first their missing dependencies, in one SQL
 * transaction with the import of what the cloud already holds: all or
 * nothing. */
/* Keeps the selective import iasql_install(modules, filter) gave: its last
 * argument, {module: {tag_key, tag_value, name_prefix}} as the SQL function
 * checked it, in iasql_import_filter, in the install's transaction. */
static int keep_filter(eng *e, const char *filter, cm_err *err)
{
    const char *p[] = {filter};
    return cm_pg_run(
        e->wk, err,
        "INSERT INTO iasql_import_filter (module_name, tag_key, tag_value, name_prefix) "
        "SELECT f.key, f.value->>'tag_key', f.value->>'tag_value', "
        "f.value->>'name_prefix' FROM jsonb_each($1::jsonb) f "
        "ON CONFLICT (module_name) DO UPDATE SET tag_key = EXCLUDED.tag_key, "
        "tag_value = EXCLUDED.tag_value, name_prefix = EXCLUDED.name_prefix",
        1, p);
}

static int op_install(eng *e, char **args, int nargs, json_t **out, cm_err *err)
{
    const mod_module *const *reg = mod_registry();
    bool installed[MAX_MODULES], named[MAX_MODULES], want[MAX_MODULES] = {0};
    const char *filter =
        nargs > 1 && args[nargs - 1] && args[nargs - 1][0] == '{' ? args[nargs - 1] : NULL;
    int rc = named_modules(e, args, filter ? nargs - 1 : nargs, "install", installed, named, err);
    if (rc)
        return rc;
    for (int i = 0; reg[i]; i++) {
        if (named[i] && installed[i])
            return cm_err_set(err, CM_EEXISTS, "module %s is already installed", reg[i]->name);
        if (named[i])
            want_with_deps(i, installed, want);
    }
    json_t *rows = json_array();
    size_t done = 0, total = 0;
    for (int i = 0; reg[i]; i++)
        for (int k = 0; want[i] && reg[i]->tables[k]; k++)
            total++;
    rc = eng_tail(e, err); /* the barrier every operation starts with */
    if (!rc)
        rc = cm_pg_run(e->wk, err, "BEGIN", 0, NULL);
    /* a module installed anew takes only the filter given now */
    for (int i = 0; !rc && reg[i]; i++) {
        const char *p[] = {reg[i]->name};
        if (want[i])
            rc = cm_pg_run(e->wk, err, "DELETE FROM iasql_import_filter WHERE module_name = $1", 1,
                           p);
    }
    if (!rc && filter)
        rc = keep_filter(e, filter, err);
    /* The registry lists dependencies before their dependents. */
    for (int i = 0; !rc && reg[i]; i++)
        if (want[i])
            rc = install_schema(e, reg[i], err);
    for (int i = 0; !rc && reg[i]; i++)
        if (want[i])
            rc = import_tables(e, reg[i], rows, &done, total, err);
    if (!rc)
        rc = eng_caller_present(e, "the install was done", err);
    rc = cm_pg_end(e->wk, rc, err);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    for (int i = 0; !rc && reg[i]; i++)
        if (want[i]) {
            rc = mark_tables(e, reg[i], JNL_MARK_INSTALL, err);
            cm_log(CM_LOG_INFO, "installed module %s", reg[i]->name);
        }
    if (!rc)
        rc = eng_tail(e, err);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    *out = rows;
    return 0;
}

/* A table's capture functions (iasql_attach_capture made them) go with it;
 * an older schema's tables had none. */
static int drop_capture_functions(PGconn *conn, const char *table, cm_err *err)
{
    static const char *const ops[] = {"insert", "update", "delete"};
    cm_buf sql;
    cm_buf_init(&sql, 512);
    cm_buf_puts(&sql, "DROP FUNCTION IF EXISTS ");
    int rc = 0;
    for (int i = 0; !rc && i < 3; i++) {
        char fn[128];
        snprintf(fn, sizeof fn, "iasql_capture_%s_%s", ops[i], table);
        cm_buf_puts(&sql, i ? "(), public." : "public.");
        rc = cm_pg_quote_ident(conn, &sql, fn);
    }
    cm_buf_puts(&sql, "()");
    if (!rc)
        rc = cm_pg_run(conn, err, cm_buf_str(&sql), 0, NULL);
    cm_buf_free(&sql);
    return rc;
}

static int drop_module(eng *e, const mod_module *m, json_t *rows, cm_err *err)
{
    int rc = 0;
    if (m->pre_uninstall_sql)
        rc = cm_pg_script(e->wk, err, m->pre_uninstall_sql);
    int nt = 0; /* children come last in the list: drop from the end */
    while (m->tables[nt])
        nt++;
    for (int k = nt - 1; !rc && k >= 0; k--) {
        const char *name = m->tables[k]->name;
        int count = 0;
        rc = count_rows(e->wk, name, &count, err);
        cm_buf sql;
        cm_buf_init(&sql, 4096);
        cm_buf_puts(&sql, "DROP TABLE ");
        if (!rc)
            rc = cm_pg_quote_ident(e->wk, &sql, name);
        if (!rc)
            rc = cm_pg_run(e->wk, err, cm_buf_str(&sql), 0, NULL);
        cm_buf_free(&sql);
        if (!rc && m->tables[k]->ops)
            rc = drop_capture_functions(e->wk, name, err);
        const char *p[] = {name};
        if (!rc)
            rc = cm_pg_run(e->wk, err, "DELETE FROM iasql_foreign_owner WHERE table_name = $1", 1,
                           p);
        if (!rc) /* secrets of discarded changes */
            rc = cm_pg_run(e->wk, err, "DELETE FROM iasql_secret WHERE table_name = $1", 1, p);
        if (!rc)
            json_array_append_new(rows, json_pack("{s:s, s:s, s:i}", "module_name", m->name,
                                                  "table_name", name, "record_count", count));
    }
    if (!rc && m->uninstall_sql)
        rc = cm_pg_script(e->wk, err, m->uninstall_sql);
    if (!rc) {
        const char *p[] = {m->name};
        rc = cm_pg_run(e->wk, err, "DELETE FROM iasql_module WHERE name = $1", 1, p);
    }
    if (rc)
        cm_err_wrap(err, "uninstalling module %s", m->name);
    return rc;
}

/* Takes the tables of the modules to drop for the uninstall's
 * transaction (ACCESS EXCLUSIVE, bounded by lock_timeout): a user's write
 * in flight commits first, and none comes after. */
static int lock_modules(eng *e, const bool *drop, cm_err *err)
{
    const mod_module *const *reg = mod_registry();
    cm_buf sql;
    cm_buf_init(&sql, 1 << 16);
    int rc = cm_buf_puts(&sql, "LOCK TABLE ");
    int n = 0;
    for (int i = 0; !rc && reg[i]; i++)
        for (int k = 0; !rc && drop[i] && reg[i]->tables[k]; k++) {
            rc = cm_buf_puts(&sql, n++ ? ", " : "");
            if (!rc)
                rc = cm_pg_quote_ident(e->wk, &sql, reg[i]->tables[k]->name);
        }
    if (!rc)
        rc = cm_buf_puts(&sql, " IN ACCESS EXCLUSIVE MODE");
    if (rc)
        rc = cm_err_set(err, CM_ENOMEM, "out of memory");
    else if (n)
        rc = cm_pg_run(e->wk, err, cm_buf_str(&sql), 0, NULL);
    cm_buf_free(&sql);
    return rc;
}

static bool dropped_table(const bool *drop, const char *table)
{
    const mod_module *const *reg = mod_registry();
    for (int i = 0; reg[i]; i++)
        for (int k = 0; drop[i] && reg[i]->tables[k]; k++)
            if (strcmp(reg[i]->tables[k]->name, table) == 0)
                return true;
    return false;
}

/* The changes pending in the tables to drop (the journal is up to date):
 * refused, naming them, unless the caller said to discard them. */
static int pending_in(eng *e, const bool *drop, bool discard, cm_err *err)
{
    apl_plan *p;
    int rc = apl_plan_build(e->j, &p, err);
    if (rc)
        return rc;
    cm_buf list;
    cm_buf_init(&list, 1 << 16);
    size_t n = 0;
    json_t *rows = apl_plan_rows(p);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (!dropped_table(drop, json_string_value(json_object_get(row, "table_name"))))
            continue;
        if (n++ < 10)
            cm_buf_printf(&list, "%s%s", n > 1 ? "; " : "",
                          json_string_value(json_object_get(row, "description")));
    }
    json_decref(rows);
    apl_plan_free(p);
    if (n && discard)
        cm_log(CM_LOG_INFO, "uninstall discards %zu pending changes: %s", n, cm_buf_str(&list));
    else if (n)
        rc = cm_err_set(err, CM_EBUSY,
                        "cannot uninstall: %zu changes are pending in the tables it drops: %s%s "
                        "Hint: iasql_commit() applies them and iasql_rollback() discards them; "
                        "or iasql_uninstall_discard() with the same modules uninstalls and "
                        "discards them.",
                        n, cm_buf_str(&list), n > 10 ? "; …" : "");
    cm_buf_free(&list);
    return rc;
}

/* Drops the modules' tables, dependents first; refuses while an installed
 * module that is not being removed depends on one, or while changes are
 * pending in the tables it drops (unless discard). Never touches the
 * cloud. */
static int uninstall(eng *e, char **args, int nargs, bool discard, json_t **out, cm_err *err)
{
    const mod_module *const *reg = mod_registry();
    bool installed[MAX_MODULES], drop[MAX_MODULES];
    int rc = named_modules(e, args, nargs, "uninstall", installed, drop, err);
    if (rc)
        return rc;
    for (int i = 0; reg[i]; i++)
        if (drop[i] && !installed[i])
            return cm_err_set(err, CM_ENOTFOUND, "module %s is not installed", reg[i]->name);
    for (int i = 0; reg[i]; i++) {
        if (!installed[i] || drop[i])
            continue;
        for (int k = 0; reg[i]->deps[k]; k++) {
            int d = registry_index(reg[i]->deps[k]);
            if (d >= 0 && drop[d])
                return cm_err_set(err, CM_EBUSY,
                                  "cannot uninstall %s: module %s depends on it; uninstall %s "
                                  "first",
                                  reg[d]->name, reg[i]->name, reg[i]->name);
        }
    }
    json_t *rows = json_array();
    rc = cm_pg_run(e->wk, err, "BEGIN", 0, NULL);
    if (!rc)
        rc = lock_modules(e, drop, err);
    /* The barrier, under those locks, on the other connection (a tail
     * reads in a transaction of its own): every change made to the tables
     * is in the journal before they go. */
    if (!rc)
        rc = cap_db_tail(e->ctl, e->j, NULL, err);
    if (!rc)
        rc = pending_in(e, drop, discard, err);
    int n = 0;
    while (reg[n])
        n++;
    for (int i = n - 1; !rc && i >= 0; i--)
        if (drop[i])
            rc = drop_module(e, reg[i], rows, err);
    if (!rc)
        rc = eng_caller_present(e, "the uninstall was done", err);
    rc = cm_pg_end(e->wk, rc, err);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    for (int i = n - 1; !rc && i >= 0; i--)
        if (drop[i]) {
            rc = mark_tables(e, reg[i], JNL_MARK_UNINSTALL, err);
            cm_log(CM_LOG_INFO, "uninstalled module %s", reg[i]->name);
        }
    if (rc) {
        json_decref(rows);
        return rc;
    }
    *out = rows;
    return 0;
}

static int op_uninstall(eng *e, char **args, int nargs, json_t **out, cm_err *err)
{
    return uninstall(e, args, nargs, false, out, err);
}

static int op_uninstall_discard(eng *e, char **args, int nargs, json_t **out, cm_err *err)
{
    return uninstall(e, args, nargs, true, out, err);
}

static const eng_op ops[] = {
    {"commit", op_commit, ENG_OP_TX},
    {"preview", op_preview, 0},
    {"preview_graph", op_preview_graph, 0},
    {"rollback", op_rollback, ENG_OP_TX},
    {"rollback_to", op_rollback_to, ENG_OP_TX},
    {"install", op_install, 0},
    {"uninstall", op_uninstall, 0},
    {"uninstall_discard", op_uninstall_discard, 0},
    {"modules_list", op_modules_list, 0},
    {"sync", eng_op_sync, 0},
    {"sync_preview", eng_op_sync_preview, 0},
};

const eng_op *eng_op_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, name) == 0)
            return &ops[i];
    return NULL;
}
