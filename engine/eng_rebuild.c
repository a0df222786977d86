/* engine/eng_rebuild.c — `iasql journal rebuild CONNINFO --journal DIR`: a
 * new journal for a database whose journal is lost, from the tables, the
 * audit log and the cloud (docs/journal.md, "Rebuilding a lost journal").
 *
 * 1. The audit log is tailed into a fresh journal, as the engine would: the
 *    events, the newest image of every row.
 * 2. Each row of an installed table (parents first) is read from the cloud
 *    by the cloud ids it holds as of its last commit; what the cloud says is
 *    its known state. A row whose resource is gone is reported and left
 *    alone: nothing marks it for the next commit.
 * 3. Only the user changes no commit carried (or that the row's last commit
 *    failed) stay pending.
 * 4. A commit point "journal rebuilt" continues the database's numbering;
 *    the database records the new journal, then the folder is renamed into
 *    place. Killed anywhere, it is run again from the start.
 *
 * Never writes to the cloud, and never touches a folder that holds a
 * journal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply/apl.h"
#include "capture/cap.h"
#include "common/cm_json.h"
#include "engine/eng.h"

#define REBUILD_MAX_TABLES 128

/* The user changes that stay pending: per row, the first such audit row. */
typedef struct pending {
    char table[64];
    uint64_t row_id, audit_id;
    uint64_t seq; /* its journal event, found by the scan */
    char *before; /* the row as its last commit left it (NULL: made since) */
} pending;

typedef struct rebuild {
    eng *e;
    pending *p;
    size_t np;
    size_t read, gone, unmade, kept;
    json_t *report; /* lines for the user */
} rebuild;

static int load_pending(rebuild *r, cm_err *err)
{
    PGresult *res;
    /* Changes no commit carried, and those the row's last commit failed. */
    int rc = cm_pg_exec(
        r->e->wk, &res, err,
        "WITH u AS (SELECT a.* FROM iasql_audit_log a WHERE a.origin = 'user' AND "
        "  (a.commit_id IS NULL OR EXISTS (SELECT FROM iasql_errors x WHERE x.commit_id = "
        "   a.commit_id AND x.table_name = a.table_name AND x.row_id = a.row_id AND "
        "   a.commit_id = (SELECT max(b.commit_id) FROM iasql_audit_log b WHERE "
        "   b.table_name = a.table_name AND b.row_id = a.row_id)))), "
        "f AS (SELECT DISTINCT ON (table_name, row_id) table_name, row_id, id, op, old_row "
        "      FROM u ORDER BY table_name, row_id, id) "
        "SELECT table_name, row_id::text, id::text, CASE WHEN op = 'INSERT' THEN NULL "
        "ELSE old_row::text END FROM f ORDER BY id",
        0, NULL);
    if (rc)
        return rc;
    int n = PQntuples(res);
    r->p = calloc((size_t)n + 1, sizeof *r->p);
    if (!r->p) {
        PQclear(res);
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        pending *q = &r->p[i];
        snprintf(q->table, sizeof q->table, "%s", PQgetvalue(res, i, 0));
        q->row_id = strtoull(PQgetvalue(res, i, 1), NULL, 10);
        q->audit_id = strtoull(PQgetvalue(res, i, 2), NULL, 10);
        q->before = PQgetisnull(res, i, 3) ? NULL : strdup(PQgetvalue(res, i, 3));
    }
    r->np = (size_t)n;
    PQclear(res);
    return 0;
}

static pending *find_pending(rebuild *r, const char *table, uint64_t row_id)
{
    for (size_t i = 0; i < r->np; i++)
        if (r->p[i].row_id == row_id && strcmp(r->p[i].table, table) == 0)
            return &r->p[i];
    return NULL;
}

/* The journal event of each pending row's first pending audit row. */
static int find_seqs(rebuild *r, cm_err *err)
{
    jnl_txn *t;
    jnl_cursor *c;
    int rc = jnl_txn_begin(r->e->j, false, &t, err);
    if (rc)
        return rc;
    rc = jnl_cursor_open(t, 1, &c, err);
    uint64_t seq;
    jnl_rec rec;
    while (!rc && (rc = jnl_cursor_next(c, &seq, &rec, err)) == 1) {
        rc = 0;
        if (rec.type != JNL_REC_EVENT || rec.origin != JNL_ORIGIN_USER)
            continue;
        for (size_t i = 0; i < r->np; i++)
            if (r->p[i].audit_id == rec.audit_id)
                r->p[i].seq = seq;
    }
    jnl_cursor_free(c);
    jnl_txn_abort(t);
    return rc < 0 ? rc : 0;
}

static void note(rebuild *r, const char *table, uint64_t row_id, const char *what)
{
    char line[600];
    snprintf(line, sizeof line, "%s %llu: %s", table, (unsigned long long)row_id, what);
    json_array_append_new(r->report, json_string(line));
}

/* True when the image lacks a cloud id the engine writes back (the
 * resource was never made, as far as the database knows). */
static bool unmade(const mod_table *t, const json_t *img)
{
    for (const mod_column *c = t->columns; c->name; c++)
        if ((c->flags & MOD_COL_CLOUD_ID) && (c->flags & MOD_COL_CLOUD_OWNED) &&
            json_is_null(json_object_get(img, c->name)))
            return true;
    return false;
}

/* The resource of a pending create of t's row row_id, read by the token
 * apl_create_token makes of it (*found NULL when the cloud has none). */
static int find_by_token(rebuild *r, const mod_table *t, uint64_t row_id, const pending *q,
                         json_t **found, cm_err *err)
{
    *found = NULL;
    json_t *desired = NULL;
    jnl_txn *rt;
    int rc = jnl_txn_begin(r->e->j, false, &rt, err);
    if (!rc)
        rc = jnl_latest_image(rt, t->name, row_id, &desired, err);
    if (!rc)
        jnl_txn_abort(rt);
    if (rc || !desired) /* deleted since: nothing to create */
        return rc;
    char token[33];
    rc = apl_create_token(r->e->dbid, t->name, row_id, q->audit_id, token);
    if (rc) {
        json_decref(desired);
        return cm_err_set(err, CM_EIO, "cannot make the client token of %s %llu", t->name,
                          (unsigned long long)row_id);
    }
    rc = apl_read_known(r->e->j, r->e->mod, t, row_id, desired, token, found, err);
    json_decref(desired);
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        *found = NULL;
        return 0;
    }
    if (rc)
        return cm_err_wrap(err, "looking for %s %llu in the cloud by its client token", t->name,
                           (unsigned long long)row_id);
    /* Only what this database made: a resource of the same name that is
     * someone else's is met by the create, as it would have been. */
    char owner[128] = "";
    const char *tagged = json_string_value(json_object_get(*found, MOD_OWNER_KEY));
    if (tagged)
        snprintf(owner, sizeof owner, "%s", tagged);
    else if (t->ops->owner && t->ops->owner(r->e->mod, *found, owner, sizeof owner, err))
        cm_err_clear(err), owner[0] = '\0';
    if (strcmp(owner, r->e->dbid) != 0) {
        json_decref(*found);
        *found = NULL;
    }
    return 0;
}

/* One row: its known state from the cloud, and whether it stays pending. */
static int settle_row(rebuild *r, const mod_table *t, uint64_t row_id, bool in_table, cm_err *err)
{
    jnl *j = r->e->j;
    pending *q = find_pending(r, t->name, row_id);
    json_t *probe = NULL;
    jnl_txn *rt;
    int rc = jnl_txn_begin(j, false, &rt, err);
    if (rc)
        return rc;
    if (q && q->before)
        probe = json_loads(q->before, 0, NULL);
    else if (!q)
        rc = jnl_latest_image(rt, t->name, row_id, &probe, err);
    jnl_txn_abort(rt);
    if (rc)
        return rc;
    json_t *found = NULL;
    if ((!probe || unmade(t, probe)) && q) {
        /* A pending create: its create may have been under way when the
         * journal was lost. It carried the client token made of this
         * database, the row and its first pending change, which the cloud
         * is asked for, as crash recovery does. */
        rc = find_by_token(r, t, row_id, q, &found, err);
        if (rc)
            return rc;
        if (found) {
            r->read++;
            note(r, t->name, row_id,
                 "its create was under way when the journal was lost: found in the cloud by "
                 "its client token, not made again");
        } else {
            r->unmade++;
            if (probe)
                note(r, t->name, row_id, "never made in the cloud: stays pending as a create");
        }
    } else if (!probe) {
    } else if (unmade(t, probe)) {
        r->unmade++;
        note(r, t->name, row_id, "has no cloud id and no pending change: left as it is");
    } else {
        rc = apl_read_known(j, r->e->mod, t, row_id, probe, NULL, &found, err);
        if (rc == CM_ENOTFOUND) {
            cm_err_clear(err);
            rc = 0;
            r->gone++;
            note(r, t->name, row_id,
                 in_table ? "its resource is gone from the cloud: the row is left as it is "
                            "(delete it, or change it to make the resource again)"
                          : "deleted, and gone from the cloud");
        } else if (rc) {
            json_decref(probe);
            return cm_err_wrap(err, "reading %s %llu from the cloud", t->name,
                               (unsigned long long)row_id);
        } else
            r->read++;
    }
    json_decref(probe);
    jnl_txn *wt;
    rc = jnl_txn_begin(j, true, &wt, err);
    if (!rc) {
        char *img = found ? cm_json_dump(found) : NULL;
        rc = jnl_state_set(wt, 0, t->name, row_id, img, img ? strlen(img) : 0, err);
        free(img);
    }
    if (!rc && q && q->seq) {
        r->kept++;
        rc = jnl_idx_put_seq(wt, JNL_IDX_DIRTY, t->name, row_id, q->seq, err);
    } else if (!rc)
        rc = jnl_idx_del(wt, JNL_IDX_DIRTY, t->name, row_id, err);
    if (!rc && !in_table && !q) {
        /* a row deleted and committed long ago: the journal forgets it */
        for (int k = 0; !rc && k < JNL_IDX_COUNT; k++)
            rc = jnl_idx_del(wt, (jnl_idx)k, t->name, row_id, err);
    }
    json_decref(found);
    if (rc) {
        jnl_txn_abort(wt);
        return rc;
    }
    return jnl_txn_commit(wt, err);
}

/* The row ids of table t in the database. */
static int table_ids(PGconn *conn, const mod_table *t, uint64_t **out, size_t *n, cm_err *err)
{
    cm_buf sql;
    cm_buf_init(&sql, 1024);
    cm_buf_puts(&sql, "SELECT id::text FROM ");
    int rc = cm_pg_quote_ident(conn, &sql, t->name);
    PGresult *res = NULL;
    if (!rc)
        rc = cm_pg_exec(conn, &res, err, cm_buf_str(&sql), 0, NULL);
    cm_buf_free(&sql);
    if (rc)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = calloc(*n + 1, sizeof **out);
    for (size_t i = 0; *out && i < *n; i++)
        (*out)[i] = strtoull(PQgetvalue(res, (int)i, 0), NULL, 10);
    PQclear(res);
    return *out ? 0 : cm_err_set(err, CM_ENOMEM, "out of memory");
}

static bool has_id(const uint64_t *ids, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static int settle_table(rebuild *r, const mod_table *t, cm_err *err)
{
    uint64_t *ids = NULL;
    size_t nids = 0;
    int rc = table_ids(r->e->wk, t, &ids, &nids, err);
    jnl_res *known = NULL;
    size_t nk = 0;
    jnl_txn *rt;
    if (!rc && !(rc = jnl_txn_begin(r->e->j, false, &rt, err))) {
        rc = jnl_idx_list(rt, JNL_IDX_LATEST, t->name, &known, &nk, err);
        jnl_txn_abort(rt);
    }
    for (size_t i = 0; !rc && i < nk; i++)
        rc = settle_row(r, t, known[i].row_id, has_id(ids, nids, known[i].row_id), err);
    jnl_res_free(known, nk);
    free(ids);
    return rc;
}

/* The commit point that opens the new journal's history, numbered after
 * the database's last. */
static int commit_point(rebuild *r, uint64_t *id, uint64_t *last_seq, char **msg, cm_err *err)
{
    PGresult *res;
    int rc = cm_pg_exec(r->e->wk, &res, err,
                        "SELECT (coalesce(max(id), 0) + 1)::text FROM iasql_commits", 0, NULL);
    if (rc)
        return rc;
    *id = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    char text[256];
    snprintf(text, sizeof text,
             "journal rebuilt: %zu resources read from the cloud, %zu gone, %zu never made, "
             "%zu rows with pending changes",
             r->read, r->gone, r->unmade, r->kept);
    *msg = strdup(text);
    jnl_txn *t;
    rc = jnl_txn_begin(r->e->j, true, &t, err);
    if (!rc)
        rc = jnl_last_seq(t, last_seq, err);
    jnl_commit c = {.id = *id,
                    .ts_us = cm_now_us(),
                    .status = JNL_COMMIT_OK,
                    .first_seq = *last_seq,
                    .last_seq = *last_seq,
                    .barrier_seq = *last_seq,
                    .message = {*msg, (uint32_t)strlen(*msg)},
                    .results = {"[]", 2}};
    if (!rc)
        rc = jnl_commit_put(t, &c, err);
    if (rc) {
        jnl_txn_abort(t);
        return rc;
    }
    return jnl_txn_commit(t, err);
}

static int record_in_database(rebuild *r, uint64_t id, uint64_t last_seq, const char *msg,
                              const char *journal_id, const char *dir, cm_err *err)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%llu", (unsigned long long)id);
    int rc = cm_pg_run(r->e->wk, err, "BEGIN", 0, NULL);
    const char *p1[] = {ids, msg};
    if (!rc)
        rc = cm_pg_run(r->e->wk, err,
                       "INSERT INTO iasql_commits (id, ts, message, status, role) VALUES "
                       "($1::bigint, clock_timestamp(), $2, 'ok', 'iasql_engine')",
                       2, p1);
    if (!rc)
        rc = eng_journal_record(r->e->wk, journal_id, dir, id, last_seq, true, err);
    return cm_pg_end(r->e->wk, rc, err);
}

static int engine_absent(PGconn *conn, cm_err *err)
{
    PGresult *res;
    int rc = cm_pg_exec(conn, &res, err, "SELECT status FROM iasql_engine_presence()", 0, NULL);
    if (rc)
        return rc;
    if (strcmp(PQgetvalue(res, 0, 0), "running") == 0)
        rc = cm_err_set(err, CM_EBUSY,
                        "an iasql engine runs for database %s: stop it before rebuilding its "
                        "journal",
                        PQdb(conn));
    PQclear(res);
    return rc;
}

static int read_ids(jnl *j, char *journal_id, size_t n, cm_err *err)
{
    jnl_txn *t;
    jnl_str v;
    int rc = jnl_txn_begin(j, false, &t, err);
    if (!rc && !(rc = jnl_meta_get(t, "journal_id", &v, err)))
        snprintf(journal_id, n, "%.*s", (int)v.len, v.ptr);
    if (!rc)
        jnl_txn_abort(t);
    return rc;
}

/* What a killed rebuild left is started over: an LMDB folder holds
 * data.mdb and lock.mdb, nothing else. */
static int remove_unfinished(const char *tmp, cm_err *err)
{
    const char *files[] = {"data.mdb", "lock.mdb"};
    char f[4300];
    for (int i = 0; i < 2; i++) {
        snprintf(f, sizeof f, "%s/%s", tmp, files[i]);
        if (unlink(f) != 0 && errno != ENOENT)
            return cm_err_set(err, CM_EIO, "cannot remove %s: %s", f, strerror(errno));
    }
    if (rmdir(tmp) != 0 && errno != ENOENT)
        return cm_err_set(err, CM_EIO, "cannot remove %s: %s", tmp, strerror(errno));
    return 0;
}

/* Index entries of tables no installed module has (they were uninstalled)
 * go: nothing of theirs is pending any more. */
static int forget_uninstalled(rebuild *r, cm_err *err)
{
    PGresult *res;
    int rc = cm_pg_exec(r->e->wk, &res, err, "SELECT table_name FROM iasql_tables", 0, NULL);
    if (rc)
        return rc;
    jnl_txn *t;
    jnl_res *all = NULL;
    size_t n = 0;
    rc = jnl_txn_begin(r->e->j, true, &t, err);
    if (!rc)
        rc = jnl_idx_list(t, JNL_IDX_LATEST, NULL, &all, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        bool installed = false;
        for (int k = 0; !installed && k < PQntuples(res); k++)
            installed = strcmp(PQgetvalue(res, k, 0), all[i].table) == 0;
        if (!installed)
            rc = jnl_idx_clear_table(t, all[i].table, err);
    }
    jnl_res_free(all, n);
    PQclear(res);
    if (rc) {
        if (t)
            jnl_txn_abort(t);
        return rc;
    }
    return jnl_txn_commit(t, err);
}

static int rebuild_into(rebuild *r, const char *tmp, const char *dir, cm_err *err)
{
    eng *e = r->e;
    const mod_table *tables[REBUILD_MAX_TABLES];
    int nt = 0;
    char journal_id[64] = "";
    int rc = eng_installed_tables(e, tables, REBUILD_MAX_TABLES, &nt, err);
    if (!rc)
        rc = eng_journal_stamp(e->j, e->dbid, err);
    if (!rc)
        rc = read_ids(e->j, journal_id, sizeof journal_id, err);
    if (!rc)
        rc = eng_mark_installed(e, err);
    if (!rc)
        rc = cap_db_tail(e->wk, e->j, NULL, err);
    if (!rc)
        rc = load_pending(r, err);
    if (!rc)
        rc = find_seqs(r, err);
    if (!rc)
        rc = forget_uninstalled(r, err);
    for (int k = 0; !rc && k < nt; k++)
        rc = settle_table(r, tables[k], err);
    uint64_t id = 0, last_seq = 0;
    char *msg = NULL;
    if (!rc)
        rc = commit_point(r, &id, &last_seq, &msg, err);
    jnl_free(e->j);
    e->j = NULL;
    if (!rc)
        rc = record_in_database(r, id, last_seq, msg, journal_id, dir, err);
    if (!rc && rename(tmp, dir) != 0)
        rc = cm_err_set(err, CM_EIO, "cannot move the rebuilt journal %s to %s", tmp, dir);
    if (!rc)
        printf("%s; commit point %llu; journal %s in %s\n", msg, (unsigned long long)id, journal_id,
               dir);
    free(msg);
    return rc;
}

int eng_rebuild(const char *conninfo, const char *dir, cm_err *err)
{
    eng e;
    memset(&e, 0, sizeof e);
    rebuild r = {.e = &e, .report = json_array()};
    char abs[4096], tmp[4200];
    eng_journal_absolute(dir, abs, sizeof abs);
    snprintf(tmp, sizeof tmp, "%s.rebuild", abs);
    int rc = eng_journal_exists(abs)
                 ? cm_err_set(err, CM_EEXISTS,
                              "%s holds a journal already: nothing was changed. Hint: if it is "
                              "the database's, start the engine on it; if not, move it aside "
                              "and run the rebuild again",
                              abs)
                 : 0;
    if (!rc)
        rc = eng_connect_engine(&e.wk, conninfo, err);
    if (!rc)
        rc = engine_absent(e.wk, err);
    if (!rc)
        rc = eng_read_dbid(&e, err);
    if (!rc)
        rc = remove_unfinished(tmp, err);
    if (!rc)
        rc = jnl_open(&e.j, tmp, err);
    if (!rc)
        rc = mod_ctx_new(&e.mod, err);
    if (!rc) {
        mod_ctx_set_owner(e.mod, e.dbid);
        rc = rebuild_into(&r, tmp, abs, err);
    }
    size_t i;
    json_t *line;
    json_array_foreach(r.report, i, line) printf("  %s\n", json_string_value(line));
    json_decref(r.report);
    for (size_t k = 0; k < r.np; k++)
        free(r.p[k].before);
    free(r.p);
    jnl_free(e.j);
    mod_ctx_free(e.mod);
    if (e.wk)
        PQfinish(e.wk);
    return rc;
}
