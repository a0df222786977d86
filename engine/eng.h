/* engine/eng.h — the daemon: wires capture, apply and the journal to the
 * database, serves the RPC requests of the SQL functions, and owns the loop. */
#ifndef IASQL_ENG_H
#define IASQL_ENG_H

#include <jansson.h>
#include <signal.h>

#include "common/cm_pg.h"
#include "journal/jnl.h"
#include "modules/mod.h"

/* The advisory-lock class of every lock the engine takes (two-key form, so
 * it cannot collide with a user's one-key locks); key 0 is "engine alive". */
#define ENG_LOCK_CLASS 1767993713
#define ENG_TICKETS 16
#define ENG_LOCK_CLASS_TEXT "1767993713"
/* The key of the iasql transaction lock (iasql_begin); ticket keys are
 * 1..2147483646. */
#define ENG_TX_KEY_TEXT "2147483647"

typedef struct eng_options {
    const char *journal_dir; /* NULL: ~/.local/state/iasql/<database id> */
    int tail_ms;             /* idle tail interval */
    int auto_apply_s;        /* periodic propagation interval, 0: off */
    int poll_s;              /* each table's poll interval (jittered), 0: off */
    int poll_grace_s;        /* a row the engine just applied is not taken as deleted
                              * by a poll for this long */
} eng_options;

typedef struct eng_poller eng_poller;

typedef struct eng {
    char *conninfo;
    PGconn *ctl; /* LISTEN, ticket locks, answers */
    PGconn *wk;  /* tail reads, writes, DDL */
    jnl *j;
    mod_ctx *mod;
    char dbid[64];
    int open_tickets;
    int signal_fd; /* read end of the self-pipe */
    eng_poller *poller;
} eng;

/* iasql init: installs or upgrades the base schema. */
int eng_schema_init(const char *conninfo, cm_err *err);

/* Connects as the engine's role (iasql_engine): directly, or from a
 * superuser connection by SET SESSION AUTHORIZATION. */
int eng_connect_engine(PGconn **out, const char *conninfo, cm_err *err);

/* iasql run: until SIGINT or SIGTERM. */
int eng_run(const char *conninfo, const eng_options *opt, cm_err *err);

/* The RPC side (eng_rpc.c): reset right after taking the engine lock,
 * start once ready to serve, serve when notified. */
int eng_rpc_reset(eng *e, cm_err *err);
int eng_rpc_start(eng *e, cm_err *err);
int eng_rpc_serve(eng *e, cm_err *err);

/* One RPC operation: args are the request's text array; *out is the JSON
 * array the SQL function turns into rows. */
typedef int (*eng_op_fn)(eng *e, char **args, int nargs, json_t **out, cm_err *err);
eng_op_fn eng_op_find(const char *name);

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

/* Brings the journal up to the database (the commit barrier). */
int eng_tail(eng *e, cm_err *err);

/* The installed tables that have cloud operations, in registry order. */
int eng_installed_tables(eng *e, const mod_table **out, int max, int *n, cm_err *err);
/* The enabled regions (aws_regions); free with eng_free_strings. */
int eng_enabled_regions(PGconn *conn, char ***out, size_t *n, cm_err *err);
void eng_free_strings(char **s, size_t n);

/* ---- eng_poll.c: cloud to database (docs/poll.md) ---- */
int eng_poll_new(eng *e, int interval_s, int grace_s, cm_err *err);
void eng_poll_free(eng *e);
/* A commit applied these result rows ({table_name, id}; NULL: every table
 * changed, as by an install): listings begun before are stale for those
 * tables, and those rows are not taken as deleted for a grace period. */
void eng_poll_applied(eng *e, const json_t *rows);
/* The loop's side: the descriptor that becomes readable when a background
 * listing is done (-1: none running), and the next due time (monotonic µs). */
int eng_poll_fd(const eng *e);
int64_t eng_poll_due(const eng *e);
/* Starts a background listing of the tables that are due, if none runs. */
int eng_poll_start(eng *e, cm_err *err);
/* Takes a finished background listing into the tables. */
int eng_poll_finish(eng *e, cm_err *err);
/* iasql_sync(): every installed table, now. */
int eng_op_sync(eng *e, char **args, int nargs, json_t **out, cm_err *err);

/* iasql journal dump|verify DIR. */
int eng_journal_main(int argc, char **argv);

#endif
