/* engine/eng.h — the daemon: wires capture, apply and the journal to the
 * database, serves the RPC requests of the SQL functions, and owns the loop. */
#ifndef IASQL_ENG_H
#define IASQL_ENG_H

#include <jansson.h>
#include <signal.h>
#include <stdio.h>

#include "common/cm_pg.h"
#include "journal/jnl.h"
#include "modules/mod.h"

/* How many open RPC tickets the engine keeps (docs/rpc.md). Their lock
 * keys, like every other lock iasql relies on, are random one-key advisory
 * locks that nobody can take before their holder does. */
/* The class (first key) of the engine's two-key advisory locks: iasql init
 * serialises on (ENG_LOCK_CLASS, -1), and a change to aws_regions remakes
 * iasql_disabled_regions under (ENG_LOCK_CLASS, -2) (schema.sql). The RPC's ticket and proof locks
 * are single bigint keys derived in SQL (iasql_rpc_lock_key). */
#define ENG_LOCK_CLASS 1767993713
#define ENG_STR_(x) #x
#define ENG_STR(x) ENG_STR_(x)
#define ENG_TICKETS 16

/* The longest commit message, in bytes: it goes into the journal and into
 * iasql_commits with every commit point. */
#define ENG_MESSAGE_MAX 4096

typedef struct eng_options {
    const char *journal_dir; /* NULL: the database's own (iasql_journal), or for a new
                              * database $XDG_STATE_HOME/iasql/<database id> (default
                              * ~/.local/state/iasql/<database id>) */
    bool journal_adopt;      /* take this journal although the database knows another
                              * folder or journal id (never one that is behind) */
    int tail_ms;             /* idle tail interval */
    int auto_apply_s;        /* periodic propagation interval, 0: off */
    int poll_s;              /* each table's poll interval (jittered), 0: off */
    int poll_grace_s;        /* a row the engine just applied is not taken as deleted
                              * by a poll for this long */
    int poll_deep_s;         /* what only a read per resource returns is read for every
                              * resource within this long (the rotation, docs/poll.md) */
    bool poll_deep_given;    /* false: the default, which a table whose turn costs more
                              * than five reads stretches (mod_table.deep_reads) */
    const char *metrics;     /* ADDR:PORT to serve Prometheus metrics on, or NULL */
} eng_options;

typedef struct eng_poller eng_poller;

typedef struct eng {
    char *conninfo;
    PGconn *ctl; /* LISTEN, ticket locks, answers */
    PGconn *wk;  /* tail reads, writes, DDL */
    jnl *j;
    mod_ctx *mod;
    char dbid[64];
    int open_tickets;     /* RPC tickets this engine holds open */
    char caller_role[64]; /* who asked for the request being served */
    char caller_tx[24];   /* the caller's open iasql transaction, or "" */
    char caller_key[24];  /* the caller's proof lock (docs/rpc.md), or "" */
    char caller_pid[16];  /* the caller's server process */
    char rpc_id[24];      /* the request being served (iasql_rpc.id), or "" */
    int signal_fd;        /* read end of the self-pipe */
    eng_poller *poller;
    int64_t tail_reported_us; /* when the tail's position was last written for status */
} eng;

/* iasql init: installs or upgrades the base schema. */
int eng_schema_init(const char *conninfo, cm_err *err);

/* Connects as the engine's role (iasql_engine): directly, or from a
 * superuser connection by SET SESSION AUTHORIZATION. */
int eng_connect_engine(PGconn **out, const char *conninfo, cm_err *err);

/* Opens the journal that goes with the database (eng_journal.c), refusing
 * before anything is made one that is empty while the database has a
 * history, another database's, another journal, or behind the database's
 * mark; records its folder and identity in iasql_journal. */
int eng_journal_open(eng *e, PGconn *conn, const char *dir, bool adopt, cm_err *err);

/* The journal folder's helpers: an absolute path without requiring that it
 * exists; whether it holds a journal; the database and journal ids a new
 * journal gets. */
void eng_journal_absolute(const char *dir, char *out, size_t n);
bool eng_journal_exists(const char *dir);
int eng_journal_stamp(jnl *j, const char *dbid, cm_err *err);
/* Records the journal in the database (iasql_journal): its id and folder,
 * and, when set_mark, the high-water mark (else a recorded mark stays). */
int eng_journal_record(PGconn *conn, const char *journal_id, const char *path, uint64_t last_commit,
                       uint64_t last_seq, bool set_mark, cm_err *err);
/* e->dbid from iasql_config, over e->wk. */
int eng_read_dbid(eng *e, cm_err *err);
/* iasql journal rebuild CONNINFO --journal DIR (eng_rebuild.c). */
int eng_rebuild(const char *conninfo, const char *dir, cm_err *err);

/* iasql run: until SIGINT or SIGTERM. */
int eng_run(const char *conninfo, const eng_options *opt, cm_err *err);

/* The RPC side (eng_rpc.c): reset right after taking the engine lock,
 * start once ready to serve, serve when notified. */
int eng_rpc_reset(eng *e, cm_err *err);
int eng_rpc_start(eng *e, cm_err *err);
int eng_rpc_serve(eng *e, cm_err *err);
/* A clean stop: the engine says so, and its tickets are withdrawn. */
int eng_rpc_stop(eng *e, cm_err *err);

/* One RPC operation: args are the request's text array; *out is the JSON
 * array the SQL function turns into rows. */
typedef int (*eng_op_fn)(eng *e, char **args, int nargs, json_t **out, cm_err *err);
/* The operation ends an iasql transaction (commit, rollback): refused when
 * another session holds one; run in the caller's own, if it holds one. */
#define ENG_OP_TX 1u
typedef struct eng_op {
    const char *name;
    eng_op_fn fn;
    unsigned flags;
} eng_op;
/* The operation of that name, or NULL: the engine serves nothing else. */
const eng_op *eng_op_find(const char *name);

/* A module's tables, constraints and capture triggers, in the caller's
 * transaction; region is the default region a seed uses. No cloud call. */
int eng_install_schema(PGconn *conn, const mod_module *m, const char *region, cm_err *err);

/* iasql journal replay DIR CONNINFO [--to COMMIT_ID]. */
int eng_replay(const char *dir, const char *conninfo, uint64_t to_commit, cm_err *err);

/* Records in iasql_tables which columns of each installed table are keys,
 * cloud-owned or secret (for iasql_get_sql_since). */
int eng_describe_tables(eng *e, cm_err *err);

/* Periodic propagation: applies what is pending as a commit point, unless
 * an iasql transaction is open (it holds the lock this takes). */
int eng_auto_apply(eng *e, cm_err *err);

/* Notes in iasql_errors (once) an iasql transaction idle past
 * iasql_config transaction_idle_seconds. */
int eng_report_idle(eng *e, cm_err *err);

/* The install (or uninstall) marks of module m's tables in the journal;
 * an uninstall also clears their index entries. eng_mark_installed marks
 * every installed module (a rebuilt journal). */
int eng_mark_module(jnl *j, const mod_module *m, jnl_mark_kind kind, cm_err *err);
int eng_mark_installed(eng *e, cm_err *err);

/* Brings the journal up to the database (the commit barrier). */
int eng_tail(eng *e, cm_err *err);

/* Raises unless the session that filed the request being served still
 * holds its proof lock: a request whose caller is gone never takes effect
 * (what stands is then rolled back; what makes cloud calls asks before the
 * first). what names the request's effect for the message. */
int eng_caller_present(eng *e, const char *what, cm_err *err);

/* The engine's statements wait at most lock_timeout_seconds
 * (iasql_config, default 5) for a lock a user's session holds. */
int eng_set_lock_timeout(PGconn *conn, cm_err *err);

/* Marks 'abandoned' every open iasql transaction whose session is gone,
 * noting in iasql_errors what became of its changes. */
int eng_abandon_transactions(eng *e, cm_err *err);

/* The installed tables that have cloud operations, in registry order. */
int eng_installed_tables(eng *e, const mod_table **out, int max, int *n, cm_err *err);
/* The enabled regions (aws_regions); free with eng_free_strings. */
int eng_enabled_regions(PGconn *conn, char ***out, size_t *n, cm_err *err);
void eng_free_strings(char **s, size_t n);

/* ---- eng_poll.c: cloud to database (docs/poll.md) ---- */
int eng_poll_new(eng *e, int interval_s, int grace_s, int deep_s, bool deep_given, cm_err *err);
/* The slots of table t's rotation (t NULL: the deep interval's): deep_s over
 * the slowest poll interval, or with the default deep interval (!deep_given)
 * at least ten a request of a resource's turn (mod_table.deep_reads), so that
 * a quiet poll costs at most a tenth of a request per resource. */
unsigned eng_poll_slots(int interval_s, int deep_s, bool deep_given, const mod_table *t);
void eng_poll_free(eng *e);
/* A commit applied these result rows ({table_name, id}; NULL: every table
 * changed, as by an install): listings begun before are stale for those
 * tables, and those rows are not taken as deleted for a grace period. */
void eng_poll_applied(eng *e, const json_t *rows);
/* The loop's side: the descriptor that becomes readable when a background
 * listing is done (-1: none running), and the next due time (monotonic µs). */
/* Hands the heap's free pages back to the system: after a sync or a
 * commit, whose parse trees are large and short-lived, so that they do not
 * stay as the engine's resident size. Called once what they made is freed. */
void eng_trim(eng *e);
int eng_poll_fd(const eng *e);
int64_t eng_poll_due(const eng *e);
/* Starts a background listing of the tables that are due, if none runs. */
int eng_poll_start(eng *e, cm_err *err);
/* Takes a finished background listing into the tables. */
int eng_poll_finish(eng *e, cm_err *err);
/* iasql_sync(): every installed table, now. */
int eng_op_sync(eng *e, char **args, int nargs, json_t **out, cm_err *err);
/* iasql_sync_preview(): the rows iasql_sync() would write, written nowhere. */
int eng_op_sync_preview(eng *e, char **args, int nargs, json_t **out, cm_err *err);

/* iasql journal dump|verify DIR. */
int eng_journal_main(int argc, char **argv);

/* Tells systemd the engine's state (sd_notify(3)'s protocol: "READY=1",
 * "STOPPING=1") when NOTIFY_SOCKET names its socket; nothing otherwise. */
void eng_notify(const char *state);

/* A progress line of the request being served ("done/total line"), which
 * the waiting caller raises as a NOTICE; nothing when no caller waits. */
void eng_progress(eng *e, size_t done, size_t total, const char *line);

/* eng_metrics.c: Prometheus metrics at http://ADDR:PORT/metrics
 * (libmicrohttpd), once started; counting works whether they are served
 * or not. labels is "" or a whole label set ({table="bucket"});
 * eng_metric_label quotes one label. */
int eng_metrics_check(const char *addr, cm_err *err);
int eng_metrics_start(const char *addr, cm_err *err);
void eng_metrics_journal(const char *dir); /* whose data file's size is reported */
void eng_metrics_stop(void);
void eng_metric_add(const char *name, const char *labels, double v);
void eng_metric_set(const char *name, const char *labels, double v);
void eng_metric_label(char *out, size_t size, const char *key, const char *value);
/* The tail has just read the audit log (iasql_tail_lag_seconds). */
void eng_metric_tail_read(void);

/* eng_help.c: the command line's usage (a line per command), the help of
 * one command (returns how many commands it matched: "journal" matches
 * each journal command), and a command's synopsis ("" for none). All from
 * docs/iasql.1.md. */
void eng_usage(FILE *f);
int eng_help(const char *command, FILE *f);
void eng_synopsis(const char *command, char *out, size_t size);

#endif
