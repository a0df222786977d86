/* apply/apl_int.h — private to apply/: the pieces of a commit that recovery
 * after a crash shares with the normal path. */
#ifndef IASQL_APL_INT_H
#define IASQL_APL_INT_H

#include "apply/apl.h"

/* What one action did. */
typedef struct outcome {
    bool ok;
    bool gone;     /* the resource no longer exists in the cloud */
    json_t *image; /* owned: the cloud image after the action */
    char error[APL_ERROR_SIZE];
    uint64_t result_seq;
    bool owned_missing; /* its cloud-owned columns could not be read */
} outcome;

/* "table id (cloud ids)" of an item, into d: the ids of after (the cloud's
 * image once applied) when given; else, for a create or replace, the ids
 * the user sets (not the cloud-owned ones, which belong to whatever the
 * row last named), else those of the known state. */
void apl_describe_item(const apl_item *it, const json_t *after, cm_buf *d);

/* ---- apl_refs.c: references between resources ---- */
/* (Re)builds p->index; apl_plan_find: the position of (table, row_id) in
 * p->items, or -1. */
void apl_plan_index(apl_plan *p);
long apl_plan_find(const apl_plan *p, const char *table, uint64_t row_id);
/* *out: a copy of img (a row image of t) whose reference columns hold the
 * referenced resources' cloud ids: on the new side what this commit made
 * of them (os; p and os may be NULL), on the old side what they were. An
 * unresolvable reference is CM_EINVAL with the reason in error. */
int apl_resolve(jnl *j, const apl_plan *p, const outcome *os, const mod_table *t, const json_t *img,
                bool new_side, json_t **out, char *error, size_t size);
/* Puts the row ids of rowform back into image's reference columns. */
void apl_unresolve(const mod_table *t, const json_t *rowform, json_t *image);
bool apl_table_has_refs(const mod_table *t);
/* Whether column c of img refers to row_id (a number, or one in an array). */
bool apl_refers_to(const mod_column *c, const json_t *img, uint64_t row_id);

/* ---- apl_sched.c ---- */
/* Runs every action of p through a pool of threads, parents before
 * children, independent actions together, at most apl_set_parallel's
 * limit per service; journals each action's result (apl_write_result). An
 * action whose resource depends on a failed one fails without a call. */
int apl_run_graph(jnl *j, PGconn *conn, mod_ctx *ctx, apl_plan *p, outcome *os, uint64_t commit_id,
                  cm_err *err);
/* Stores image as the resource's known cloud state (NULL: it is gone),
 * journaled as a STATE record of commit_id. */
int apl_put_state(jnl_txn *t, uint64_t commit_id, const apl_item *it, const json_t *image,
                  cm_err *err);
/* Journals the result of an action with the state and dirty-set changes it
 * implies, in one LMDB transaction. */
int apl_write_result(jnl *j, uint64_t commit_id, uint64_t barrier, const apl_item *it, outcome *o,
                     cm_err *err);
/* Fills cloud-owned columns of created resources; stores the images. */
int apl_fill_owned(jnl *j, mod_ctx *ctx, uint64_t commit_id, apl_plan *p, outcome *os, cm_err *err);
/* Runs sql with rows (a JSON array, $1) inside a savepoint of the open
 * transaction: a refusal (a constraint) rolls back only this statement and
 * is CM_EPG with err set. */
int apl_run_rows(PGconn *conn, const char *sql, json_t *rows, cm_err *err);
/* Writes the commit point (journal, then database) and the result rows. */
/* iasql_commits while a commit runs: its row with status 'running' and the
 * actions it will carry out, then how many have ended. Failures are only
 * logged: they never fail the commit. */
void apl_db_commit_started(PGconn *conn, uint64_t commit_id, const char *message, size_t total);
void apl_db_commit_done(PGconn *conn, uint64_t commit_id, size_t done);

int apl_record_commit(jnl *j, PGconn *conn, apl_plan *p, outcome *os, uint64_t commit_id,
                      uint64_t first_seq, const char *message, apl_commit_info *out, cm_err *err);

#endif
