/* engine/eng_journal.c — which journal goes with the database, and the
 * refusal of every other (docs/journal.md, "Which journal"). The database
 * records its journal's identity, folder and high-water mark
 * (iasql_journal); the journal records the database's identity and its
 * own. An engine never acts on a journal that is empty while the database
 * has a history, that belongs to another database, that is another journal
 * than the one the database knows, or that is behind the database's mark.
 * Must never create a journal before those checks have passed. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/eng.h"

/* What the database says of its journal and its history. */
typedef struct db_side {
    bool known;          /* iasql_journal has its row */
    char journal_id[64]; /* of the journal it knows */
    char path[PATH_MAX];
    uint64_t last_commit, last_seq;
    uint64_t commits; /* commit points in iasql_commits */
    bool history;     /* modules installed, audit rows or commit points */
} db_side;

/* What the journal says of itself. */
typedef struct jnl_side {
    char database_id[64], journal_id[64];
    uint64_t last_commit, last_seq;
} jnl_side;

static int read_db_side(PGconn *conn, db_side *d, cm_err *err)
{
    PGresult *res;
    memset(d, 0, sizeof *d);
    int rc = cm_pg_exec(conn, &res, err,
                        "SELECT j.journal_id, j.path, j.last_commit_id::text, j.last_seq::text, "
                        "(SELECT count(*) FROM iasql_commits)::text, "
                        "EXISTS (SELECT FROM iasql_module) OR EXISTS (SELECT FROM iasql_audit_log) "
                        "OR EXISTS (SELECT FROM iasql_commits) "
                        "FROM (SELECT 1) x LEFT JOIN iasql_journal j ON true",
                        0, NULL);
    if (rc)
        return rc;
    d->known = !PQgetisnull(res, 0, 0);
    if (d->known) {
        snprintf(d->journal_id, sizeof d->journal_id, "%s", PQgetvalue(res, 0, 0));
        snprintf(d->path, sizeof d->path, "%s", PQgetvalue(res, 0, 1));
        d->last_commit = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
        d->last_seq = strtoull(PQgetvalue(res, 0, 3), NULL, 10);
    }
    d->commits = strtoull(PQgetvalue(res, 0, 4), NULL, 10);
    d->history = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
    PQclear(res);
    return 0;
}

/* The folder as an absolute path, without requiring that it exists. */
void eng_journal_absolute(const char *dir, char *out, size_t n)
{
    char real[PATH_MAX], cwd[PATH_MAX];
    size_t lc, ld = strlen(dir);
    if (realpath(dir, real))
        snprintf(out, n, "%s", real);
    else if (dir[0] == '/' || !getcwd(cwd, sizeof cwd) || (lc = strlen(cwd)) + ld + 2 > n)
        snprintf(out, n, "%s", dir);
    else {
        memcpy(out, cwd, lc);
        out[lc] = '/';
        memcpy(out + lc + 1, dir, ld + 1);
    }
}

/* The default folder when neither --journal nor the database names one:
 * $XDG_STATE_HOME/iasql/<database id>, else ~/.local/state/iasql/<id>. */
static void default_dir(const char *dbid, char *out, size_t n)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg == '/')
        snprintf(out, n, "%s/iasql/%s", xdg, dbid);
    else
        snprintf(out, n, "%s/.local/state/iasql/%s", home && *home ? home : ".", dbid);
}

/* mkdir -p for the default folder's parents (0700). */
static void make_parents(const char *path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return;
        *s = '/';
    }
}

bool eng_journal_exists(const char *dir)
{
    char f[PATH_MAX + 16];
    struct stat st;
    snprintf(f, sizeof f, "%s/data.mdb", dir);
    return stat(f, &st) == 0 && st.st_size > 0;
}

static void copy_meta(jnl_txn *t, const char *key, char *out, size_t n)
{
    jnl_str v;
    cm_err ignored = {0};
    out[0] = '\0';
    if (!jnl_meta_get(t, key, &v, &ignored))
        snprintf(out, n, "%.*s", (int)v.len, v.ptr);
}

/* Reads the journal's side; stamps a journal id on one that has none (a
 * new journal, or one older than journal ids). */
static int read_jnl_side(jnl *j, const char *dbid, jnl_side *s, cm_err *err)
{
    jnl_txn *t;
    int rc = jnl_txn_begin(j, true, &t, err);
    if (rc)
        return rc;
    memset(s, 0, sizeof *s);
    copy_meta(t, "database_id", s->database_id, sizeof s->database_id);
    copy_meta(t, "journal_id", s->journal_id, sizeof s->journal_id);
    if (!s->database_id[0]) {
        snprintf(s->database_id, sizeof s->database_id, "%s", dbid);
        rc = jnl_meta_put(t, "database_id", dbid, strlen(dbid), err);
    }
    if (!rc && !s->journal_id[0]) {
        char id[40];
        rc = cm_random_hex(id, 16);
        if (rc) {
            jnl_txn_abort(t);
            return cm_err_set(err, rc, "the kernel gave no random bytes for a journal id");
        }
        snprintf(s->journal_id, sizeof s->journal_id, "%s", id);
        rc = jnl_meta_put(t, "journal_id", id, strlen(id), err);
    }
    jnl_commit c;
    int crc = rc ? rc : jnl_commit_last(t, &c, err);
    if (!crc)
        s->last_commit = c.id;
    else if (crc != CM_ENOTFOUND)
        rc = crc;
    if (!rc)
        rc = jnl_last_seq(t, &s->last_seq, err);
    if (rc) {
        jnl_txn_abort(t);
        return rc;
    }
    return jnl_txn_commit(t, err);
}

static int refuse_empty(const char *dbname, const char *dbid, const char *dir, const db_side *d,
                        cm_err *err)
{
    return cm_err_set(err, CM_ECONFIG,
                      "there is no journal in %s, but database %s (id %s) has a history: %llu "
                      "commit points, and the journal it knows is %s in %s (last commit %llu). "
                      "Nothing was applied, polled or written: an engine on an empty journal "
                      "would make every resource again. Hint: start the engine with --journal "
                      "on the database's journal%s, or restore that folder from its copy; if it "
                      "is lost, rebuild it from the tables and the cloud: iasql journal rebuild "
                      "CONNINFO --journal DIR",
                      dir, dbname, dbid, (unsigned long long)d->commits,
                      d->known ? d->journal_id : "(none recorded)",
                      d->known ? d->path : "(unknown)", (unsigned long long)d->last_commit,
                      d->known ? "" : " (the folder it ran with before)");
}

static int check_sides(const char *dbname, const char *dbid, const char *dir, const db_side *d,
                       const jnl_side *s, bool adopt, cm_err *err)
{
    if (strcmp(s->database_id, dbid) != 0)
        return cm_err_set(err, CM_ECONFIG,
                          "the journal in %s belongs to database %s, not to this one (%s, "
                          "database %s). Nothing was applied. Hint: start the engine with the "
                          "journal of database %s%s%s",
                          dir, s->database_id, dbid, dbname, dbname, d->known ? ", in " : "",
                          d->known ? d->path : "");
    if (s->last_commit < d->last_commit || s->last_seq < d->last_seq)
        return cm_err_set(err, CM_ECONFIG,
                          "the journal in %s is behind database %s: its last commit point is "
                          "%llu (sequence %llu), the database's is %llu (sequence %llu), as an "
                          "older copy would be. Nothing was applied, polled or written. Hint: "
                          "start the engine with the newest copy of journal %s; if there is "
                          "none, move this folder aside and run iasql journal rebuild CONNINFO "
                          "--journal DIR",
                          dir, dbname, (unsigned long long)s->last_commit,
                          (unsigned long long)s->last_seq, (unsigned long long)d->last_commit,
                          (unsigned long long)d->last_seq, d->journal_id);
    if (d->known && !adopt && strcmp(s->journal_id, d->journal_id) != 0)
        return cm_err_set(err, CM_ECONFIG,
                          "the journal in %s (id %s, last commit %llu) is not the one database %s "
                          "knows (id %s in %s, last commit %llu). Nothing was applied. Hint: "
                          "start the engine on the database's journal, or add --journal-adopt "
                          "if this one is meant to replace it",
                          dir, s->journal_id, (unsigned long long)s->last_commit, dbname,
                          d->journal_id, d->path, (unsigned long long)d->last_commit);
    return 0;
}

int eng_journal_record(PGconn *conn, const char *journal_id, const char *path, uint64_t last_commit,
                       uint64_t last_seq, bool set_mark, cm_err *err)
{
    char commit[24], seq[24];
    snprintf(commit, sizeof commit, "%llu", (unsigned long long)last_commit);
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)last_seq);
    const char *p[] = {journal_id, path, commit, seq, set_mark ? "t" : "f"};
    return cm_pg_run(conn, err,
                     "INSERT INTO iasql_journal (journal_id, path, last_commit_id, last_seq) "
                     "VALUES ($1, $2, $3::bigint, $4::bigint) ON CONFLICT (one) DO UPDATE SET "
                     "journal_id = EXCLUDED.journal_id, path = EXCLUDED.path, "
                     "last_commit_id = CASE WHEN $5::boolean THEN EXCLUDED.last_commit_id "
                     "  ELSE iasql_journal.last_commit_id END, "
                     "last_seq = CASE WHEN $5::boolean THEN EXCLUDED.last_seq "
                     "  ELSE iasql_journal.last_seq END, "
                     "updated_at = clock_timestamp()",
                     5, p);
}

int eng_journal_stamp(jnl *j, const char *dbid, cm_err *err)
{
    jnl_side s;
    return read_jnl_side(j, dbid, &s, err);
}

int eng_journal_open(eng *e, PGconn *conn, const char *given, bool adopt, cm_err *err)
{
    db_side d;
    int rc = read_db_side(conn, &d, err);
    if (rc)
        return rc;
    char dir[PATH_MAX];
    const char *why;
    if (given) {
        eng_journal_absolute(given, dir, sizeof dir);
        why = "given with --journal";
    } else if (d.known) {
        snprintf(dir, sizeof dir, "%s", d.path);
        why = "the database's own";
    } else {
        default_dir(e->dbid, dir, sizeof dir);
        why = "the default for a new database";
    }
    const char *dbname = PQdb(conn);
    if (d.known && !adopt && strcmp(dir, d.path) != 0)
        return cm_err_set(err, CM_ECONFIG,
                          "database %s knows its journal in %s (id %s, last commit %llu), not in "
                          "%s. Nothing was applied. Hint: start the engine with --journal %s, or "
                          "without --journal; if the journal was moved there deliberately, add "
                          "--journal-adopt",
                          dbname, d.path, d.journal_id, (unsigned long long)d.last_commit, dir,
                          d.path);
    if (!eng_journal_exists(dir) && d.history)
        return refuse_empty(dbname, e->dbid, dir, &d, err);
    if (!given && !d.known)
        make_parents(dir);
    rc = jnl_open(&e->j, dir, err);
    if (rc)
        return rc;
    /* Nothing is applied from a damaged journal. */
    uint64_t records;
    size_t problems;
    cm_buf report;
    cm_buf_init(&report, 4096);
    rc = jnl_verify(e->j, &records, &problems, &report, err);
    if (!rc && problems)
        rc = cm_err_set(err, CM_ECORRUPT,
                        "the journal in %s is damaged (%zu problems; first: %.200s); nothing was "
                        "applied. Keep the damaged folder for inspection, restore the journal "
                        "folder from a copy, and run `iasql journal verify` on it",
                        dir, problems, cm_buf_str(&report));
    cm_buf_free(&report);
    jnl_side s;
    if (!rc)
        rc = read_jnl_side(e->j, e->dbid, &s, err);
    if (!rc)
        rc = check_sides(dbname, e->dbid, dir, &d, &s, adopt, err);
    /* a new mark starts from the journal; a recorded one only moves with commits */
    if (!rc)
        rc = eng_journal_record(conn, s.journal_id, dir, s.last_commit, s.last_seq, !d.known, err);
    if (!rc)
        cm_log(CM_LOG_INFO, "journal %s (%s; id %s, last commit %llu, sequence %llu)", dir, why,
               s.journal_id, (unsigned long long)s.last_commit, (unsigned long long)s.last_seq);
    return rc;
}
