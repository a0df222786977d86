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
 * *count receives the number of rows written. A resource tagged by
 * another database than self (MOD_OWNER_KEY) is noted in
 * iasql_foreign_owner. */
/* The selective import (iasql_import_filter) of t's module: *out is
 * {"tag_key", "tag_value", "name_prefix"} (each optional), or NULL when the
 * module has none. */
int cap_import_filter(PGconn *conn, const mod_table *t, json_t **out, cm_err *err);
/* Whether a listed row passes filter (NULL: every row does): its name
 * (the first cloud-id column when the user names it, else the Name tag)
 * starts with name_prefix, and its tags hold tag_key (= tag_value). A part
 * the table has nothing for (no tags, no name) does not apply. */
bool cap_filter_match(const mod_table *t, const json_t *filter, const json_t *row);

int cap_cloud_import(PGconn *conn, mod_ctx *ctx, const mod_table *t, const char *const *regions,
                     size_t nregions, const char *self, int *count, cm_err *err);

/* The quoted names of t's columns ("id" aside), comma-separated, appended
 * to out: the column list of an INSERT from json_populate_recordset. */
int cap_column_list(PGconn *conn, const mod_table *t, cm_buf *out);

/* Notes in iasql_foreign_owner the rows of t (found by key) for the
 * listed resources (rows) that another database than self made. */
int cap_cloud_owners(PGconn *conn, const mod_table *t, const json_t *rows, const char *self,
                     cm_err *err);

/* Rows from a module's list hold cloud ids in their reference columns;
 * this puts the referenced rows' ids there instead (a set keeps the ids it
 * finds). A resource whose required reference is not in the database is
 * left out, with a warning. */
int cap_cloud_refs_to_rows(PGconn *conn, const mod_table *t, json_t *rows, cm_err *err);

/* ---- cap_poll.c: the poller's comparison and writes (docs/poll.md) ---- */

/* One table's listing: its module's list, cloud ids in reference columns,
 * kept as compact JSON text (owned) between the listing and its turn in
 * cap_poll_apply: text is a fraction of the parse tree's size, so the
 * listings of every table wait in that form and only the table being
 * compared is a tree (docs/poll.md, "Memory"). */
typedef struct cap_listing {
    const mod_table *table;
    char *text;
    bool quiet; /* out: the listing was exactly the known states (nothing found, deferred
                 * or refused) */
} cap_listing;

/* *l as the listing of t: rows (taken over, freed) as text. */
int cap_listing_set(cap_listing *l, const mod_table *t, json_t *rows, cm_err *err);
/* Frees l's text; l may be NULL. */
void cap_listing_clear(cap_listing *l);

typedef struct cap_poll_hooks {
    /* Reads the resource of a known state directly: 0 when it exists,
     * CM_ENOTFOUND when the cloud says it does not, else an error. */
    int (*read)(void *arg, const mod_table *t, uint64_t row_id, const json_t *known, cm_err *err);
    /* True while the engine's own change to that row is recent: a list may
     * not show it yet (eventual consistency). */
    bool (*recent)(void *arg, const mod_table *t, uint64_t row_id);
    void *arg;
    /* This database's identity: a change to a resource tagged with another
     * (MOD_OWNER_TAG) names that database. */
    const char *self;
    /* iasql_sync_preview(): the comparison and the writes are made as
     * usual, so the rows reported are exactly those a sync would write,
     * then rolled back; the journal and iasql_errors are not touched. */
    bool preview;
} cap_poll_hooks;

typedef struct cap_poll_out {
    json_t *rows;      /* {action, table_name, id, description}: create, update, delete,
                        * conflict */
    json_t *conflicts; /* {table_name, id, image | null, message} */
    json_t *refused;   /* {table_name, id, message}: what the database would not take */
    size_t deferred;   /* resources missing from a list but not (yet) taken as deleted */
    size_t owners;     /* rows whose entry in iasql_foreign_owner was written */
    /* The selective import: {table: {"region/handle": true}} of resources
     * new in the cloud that the table's filter left out, and of those it
     * left out before that now pass it (their partial rows; to be read in
     * full next). */
    json_t *excluded, *wanted;
} cap_poll_out;

void cap_poll_out_init(cap_poll_out *o);
void cap_poll_out_free(cap_poll_out *o);

/* Compares each listing (tables in registry order) with the known cloud
 * state and writes the differences in one SQL transaction with origin
 * 'cloud': new resources become rows, changed ones update theirs, gone ones
 * (a direct read agreeing) are deleted, children first. A row with pending
 * user changes is never written: the difference is a conflict, recorded in
 * the journal (the known state takes the cloud's image) and in
 * iasql_errors. A write is made only if the row is still as the journal
 * last saw it. Each listing's text is parsed at its table's turn and freed
 * (in[i].text is NULL after), and its tree freed before the next table's is
 * made. Nothing differs: nothing is written. conn must be idle. */
int cap_poll_apply(PGconn *conn, jnl *j, cap_listing *in, size_t n, const cap_poll_hooks *h,
                   cap_poll_out *o, cm_err *err);

/* The resources of t the journal knows (a known state), as mod_deep.known
 * wants them: an object "region/handle" -> row id (region "" for a table
 * without one; handle: the value of mod_table.deep_handle's column, else of
 * the first cloud-id column). */
int cap_known_handles(jnl *j, const mod_table *t, json_t **out, cm_err *err);

/* For a table listed by parent (mod_table.by_parent), its parent table
 * (NULL: none). */
const mod_table *cap_parent_table(const mod_table *t);
/* mod_deep.parents of t: "region/handle" of every parent the journal
 * knows (handle: the parent table's first cloud-id column; region "" for a
 * parent without one) -> the number of t's known states under it; null
 * where recent (if not NULL) says the engine just changed the parent or
 * one of those children. */
int cap_known_parents(jnl *j, const mod_table *t,
                      bool (*recent)(void *arg, const mod_table *t, uint64_t row_id), void *arg,
                      json_t **out, cm_err *err);

/* Appends {table_name, id, message} entries to iasql_errors. */
int cap_poll_errors(PGconn *conn, const json_t *errors, cm_err *err);

/* Parses an audit op name ("INSERT"...) or origin ("user"...); 0 if unknown. */
uint8_t cap_op_code(const char *op);
uint8_t cap_origin_code(const char *origin);

#endif
