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

/* The cloud calls of one action; desired (NULL: it->desired) is what the
 * module is given, secrets revealed. */
void apl_run_action(mod_ctx *ctx, const apl_item *it, const json_t *desired, outcome *o);
/* Stores image as the resource's known cloud state (NULL: it is gone),
 * journaled as a STATE record of commit_id. */
int apl_put_state(jnl_txn *t, uint64_t commit_id, const apl_item *it, const json_t *image,
                  cm_err *err);
/* Journals the result of an action with the state and dirty-set changes it
 * implies, in one LMDB transaction. */
int apl_write_result(jnl *j, uint64_t commit_id, uint64_t barrier, const apl_item *it,
                     outcome *o, cm_err *err);
/* Fills cloud-owned columns of created resources; stores the images. */
int apl_fill_owned(jnl *j, mod_ctx *ctx, uint64_t commit_id, apl_plan *p, outcome *os,
                   cm_err *err);
/* The resource's last known cloud image; *out NULL when it has none. */
int apl_known_state(jnl_txn *t, const char *table, uint64_t row_id, json_t **out, cm_err *err);
/* Runs sql with rows (a JSON array, $1) inside a savepoint of the open
 * transaction: a refusal (a constraint) rolls back only this statement and
 * is CM_EPG with err set. */
int apl_run_rows(PGconn *conn, const char *sql, json_t *rows, cm_err *err);
/* Writes the commit point (journal, then database) and the result rows. */
int apl_record_commit(jnl *j, PGconn *conn, apl_plan *p, outcome *os, uint64_t commit_id,
                      uint64_t first_seq, const char *message, apl_commit_info *out,
                      cm_err *err);

#endif
