/* capture/cap.h — both change sources. cap_db tails iasql_audit_log into
 * the journal; cap_cloud reads the cloud and writes what it finds into the
 * tables as origin 'cloud'. Neither talks to the apply stage. */
#ifndef IASQL_CAP_H
#define IASQL_CAP_H

#include "common/cm_pg.h"
#include "journal/jnl.h"
#include "modules/mod.h"

/* Reads every audit row committed since the last call and appends it to the
 * journal, with the new tail position, in one LMDB transaction. The tail
 * position is the PostgreSQL snapshot of the last read: a row is new when its
 * transaction was not visible in that snapshot, so a transaction that commits
 * late with a lower id is still read, exactly once. *events (if not NULL)
 * receives the number of events appended. conn must be idle (no open
 * transaction). */
int cap_db_tail(PGconn *conn, jnl *j, uint64_t *events, cm_err *err);

/* Applies one audit row to the journal's resource index, the way the tail
 * does: exported for tests and for replay. */
int cap_db_index_event(jnl_txn *t, uint64_t seq, const jnl_rec *ev, cm_err *err);

/* Lists table t in the cloud (the given regions) and inserts every resource
 * as a new row with origin 'cloud'. For a table just installed (empty).
 * *count receives the number of rows written. */
int cap_cloud_import(PGconn *conn, mod_ctx *ctx, const mod_table *t, const char *const *regions,
                     size_t nregions, int *count, cm_err *err);

/* Rows from a module's list hold cloud ids in their reference columns;
 * this puts the referenced rows' ids there instead (a set keeps the ids it
 * finds). A resource whose required reference is not in the database is
 * left out, with a warning. */
int cap_cloud_refs_to_rows(PGconn *conn, const mod_table *t, json_t *rows, cm_err *err);

/* Parses an audit op name ("INSERT"...) or origin ("user"...); 0 if unknown. */
uint8_t cap_op_code(const char *op);
uint8_t cap_origin_code(const char *origin);

#endif
