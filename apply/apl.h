/* apply/apl.h — the apply stage: from the journal's dirty set to a plan
 * (one net action per resource), and from a plan to cloud calls, journaled
 * intents and results, write-backs of cloud-owned columns and a commit point. */
#ifndef IASQL_APL_H
#define IASQL_APL_H

#include <jansson.h>

#include "common/cm_pg.h"
#include "journal/jnl.h"
#include "modules/mod.h"

typedef enum {
    APL_NONE = 0,
    APL_CREATE = 1,
    APL_UPDATE = 2,
    APL_REPLACE = 3,
    APL_DELETE = 4
} apl_action;

const char *apl_action_name(apl_action a);

/* What brings a resource from known (its last known cloud image, NULL when
 * it does not exist) to desired (its row, NULL when deleted). Compares the
 * columns the user owns; a change to a cloud-id or immutable column is a
 * replace. The names of the changed columns are appended to changed (if not
 * NULL), comma-separated. */
apl_action apl_decide(const mod_table *t, const json_t *known, const json_t *desired,
                      cm_buf *changed);

typedef struct apl_item {
    const mod_table *table;
    uint64_t row_id;
    apl_action action;
    json_t *known;      /* owned; NULL for create */
    json_t *desired;    /* owned; NULL for delete */
    uint64_t dirty_seq; /* first unapplied user event of this row (0: not dirty, in
                         * the plan because a resource it refers to is replaced) */
    char changed[256];  /* changed columns, for descriptions */
    char token[33];     /* the idempotency token of its intent */
    char owner[64];     /* another iasql database that made it (iasql_foreign_owner), or "":
                         * then it is neither changed nor deleted */
} apl_item;

typedef struct apl_plan {
    apl_item *items;
    size_t n;
    uint64_t barrier_seq; /* the last journal record when the plan was made */
    size_t settled;       /* dirty rows whose net change was nothing */
    json_t *index;        /* "table/row id" -> position in items */
} apl_plan;

/* Builds the plan from the journal's dirty set, in execution order: deletes
 * first (children before parents), then creates, replaces and updates
 * (parents before children). A replaced resource takes along the resources
 * that refer to it: replaced too when the reference cannot change in place,
 * else updated to point at the new one. Rows whose net change is nothing
 * are left in plan->settled and dropped from the dirty set when the plan is
 * executed. */
int apl_plan_build(jnl *j, apl_plan **out, cm_err *err);
void apl_plan_free(apl_plan *p);
/* Leaves in the plan only the items keep[i] names (in order); the others
 * stay pending in the journal for a later commit. */
void apl_plan_keep(apl_plan *p, const bool *keep);

/* How many of the plan's items are actions (not APL_NONE: only reading
 * cloud-owned columns). */
size_t apl_plan_actions(const apl_plan *p);

/* The plan as the graph a commit would run: {"nodes": [{node, action,
 * step, table, id, label, with_parent}], "edges": [[before, after]]}; a
 * replace is two nodes (its delete step and its create step). */
int apl_plan_graph(apl_plan *p, json_t **out, cm_err *err);

/* The plan as result rows ({action, table_name, id, description}). */
json_t *apl_plan_rows(const apl_plan *p);

/* Fills the owner of the items that change or delete a resource another
 * database made, as iasql_foreign_owner records it. apl_execute calls it;
 * a preview calls it to say what a commit would refuse. */
int apl_plan_owners(PGconn *conn, apl_plan *p, cm_err *err);

/* Why a resource that database owner made is left alone. */
void apl_foreign_message(char *out, size_t size, const char *owner);

typedef struct apl_commit_info {
    uint64_t commit_id; /* 0 when nothing was applied */
    json_t *rows;       /* {action, table_name, id, description} per resource */
    size_t failed;
} apl_commit_info;

/* Carries out the plan: journals an intent before each cloud call and its
 * result after, writes cloud-owned columns back (origin 'engine'), records a
 * commit point in the journal and in iasql_commits, and reports failures
 * per resource in iasql_errors. A failure fails only its own resource. */
int apl_execute(jnl *j, PGconn *conn, mod_ctx *ctx, apl_plan *p, const char *message,
                apl_commit_info *out, cm_err *err);

/* The most actions run at once against one service (default 8). */
void apl_set_parallel(int per_service);

/* Called as each action of a commit ends, in the thread that called
 * apl_execute: done of total, and a line that says what happened
 * ("created bucket 12 (name=logs)", "failed to delete queue 4 (...): ...").
 * NULL: nothing is called. */
typedef void (*apl_progress_fn)(void *arg, size_t done, size_t total, const char *line,
                                const char *action, bool ok);
void apl_set_progress(apl_progress_fn fn, void *arg);

/* Settles what a crash left open, before anything else runs: every
 * journaled intent without a result is resolved by reading that resource
 * from the cloud, its known state becomes what the cloud holds, and the
 * interrupted commit gets its commit point. Rows not finished stay pending,
 * so the next commit does exactly what is missing. *settled receives the
 * number of intents resolved. */
int apl_recover(jnl *j, PGconn *conn, mod_ctx *ctx, size_t *settled, cm_err *err);

/* Reads the resource of a known state (row ids in its references) from the
 * cloud: *found is its image with row ids, or CM_ENOTFOUND. token (NULL:
 * none) is the client token a resource without its cloud id is found by. */
int apl_read_known(jnl *j, mod_ctx *ctx, const mod_table *t, uint64_t row_id, const json_t *known,
                   const char *token, json_t **found, cm_err *err);

/* The idempotency token of the create of row_id in table carrying the
 * user's change audit_id (iasql_audit_log.id) in database owner: the first
 * 32 hex digits of SHA-256 over "owner:table:row_id:audit_id", so that
 * `iasql journal rebuild` can make it again from the database and find a
 * resource whose create was under way when the journal was lost; random
 * when owner is empty or audit_id is 0. out: 33 bytes. */
int apl_create_token(const char *owner, const char *table, uint64_t row_id, uint64_t audit_id,
                     char out[33]);

/* ---- apl_db.c: the database side ---- */
typedef struct apl_writeback {
    const mod_table *table;
    uint64_t row_id;
    const json_t *image;
} apl_writeback;

/* In one transaction with origin 'engine': cloud-owned columns of the
 * written-back rows, and, when c is not NULL, the errors, the commit row,
 * and commit_id on the audit rows the commit carried. A row whose
 * write-back the database refuses (a user's foreign key or unique index on
 * a module table) is left as it was and listed in wb_failed (when not
 * NULL; {table_name, id, message}, the message naming the constraint) and
 * in errors; the rest is recorded. */
int apl_db_record(PGconn *conn, const jnl_commit *c, const apl_writeback *wb, size_t nwb,
                  json_t *errors, const json_t *audit_ids, json_t *wb_failed, cm_err *err);

/* The sessions other than this one that hold locks on table (NULL: on any
 * table of an installed module), as "session PID (role R, in a
 * transaction since T, last query "Q")" joined by "; ", appended to out;
 * "another session" when PostgreSQL shows none. Locks only for reading
 * (AccessShareLock) count when any_mode: they block DDL, not writes. */
int apl_lock_holders(PGconn *conn, const char *table, bool any_mode, cm_buf *out, cm_err *err);

/* ---- apl_restore.c: rollback (docs/rollback.md) ---- */
/* iasql_rollback(): every row with pending user changes takes the user
 * columns of its last known cloud state again: rows created since are
 * deleted, deleted ones re-inserted with their id, changed ones restored;
 * one SQL transaction, origin 'engine', no cloud call. only (NULL: every
 * row) is a plan whose items are the rows to discard; the others stay
 * pending. *rows: {action, table_name, id, description} per row written. */
int apl_discard(jnl *j, PGconn *conn, const apl_plan *only, json_t **rows, cm_err *err);
/* iasql_rollback(N), its database half: refuses, before writing anything,
 * when there is no commit point N, changes are pending, a module was
 * installed or uninstalled since, or a secret would have to come back;
 * else writes the cloud state of commit point N into the tables and marks
 * those rows pending, so that the next plan brings the cloud there.
 * *changed: the number of rows written. */
int apl_rollback_prepare(jnl *j, PGconn *conn, uint64_t commit_id, size_t *changed, cm_err *err);

/* Secret columns (docs/secrets.md). */
#define APL_ERROR_SIZE 1024
bool apl_table_has_secrets(const mod_table *t);
/* *clear: a copy of it->desired with the cleartext of every secret the
 * user has just set, or NULL when there is none to send. */
int apl_secret_reveal(PGconn *conn, const apl_item *it, json_t **clear, cm_err *err);
/* Puts the masks of it->desired back into image and scrubs the cleartext
 * of clear out of error (either may be NULL). */
void apl_secret_mask(const apl_item *it, const json_t *clear, json_t *image, char *error);
/* Drops the secrets of it that the cloud now holds (when applied). */
int apl_secret_forget(PGconn *conn, const apl_item *it, bool applied, cm_err *err);
/* Drops the secrets of the plan's tables that no row can send any more. */
int apl_secret_purge(PGconn *conn, const apl_plan *p, cm_err *err);

#endif
