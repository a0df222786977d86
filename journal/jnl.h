/* journal/jnl.h — the event-sourced journal: one LMDB environment per
 * database holding, in order, every change event, every cloud intent and
 * result, and the commit points. Only this folder includes <lmdb.h>.
 *
 * Memory: every pointer inside a jnl_rec or jnl_commit filled by a read
 * borrows from LMDB and is valid only until the end of that transaction.
 * Copy what you keep. A failed write transaction stays failed until aborted.
 * The record layout is written down in docs/journal.md. */
#ifndef IASQL_JNL_H
#define IASQL_JNL_H

#include <jansson.h>

#include "common/cm.h"

#define JNL_FORMAT_VERSION 1

typedef struct jnl jnl;
typedef struct jnl_txn jnl_txn;
typedef struct jnl_cursor jnl_cursor;

typedef enum {
    JNL_REC_EVENT = 1,    /* one row change captured from the database */
    JNL_REC_INTENT = 2,   /* a mutating cloud call about to be made */
    JNL_REC_RESULT = 3,   /* what that call did */
    JNL_REC_MARK = 4,     /* a table was installed or uninstalled */
    JNL_REC_STATE = 5,    /* the known cloud state of a resource changed (apply side) */
    JNL_REC_CONFLICT = 6, /* a poll found the cloud changed under a pending user change */
    JNL_REC_MAX = 6
} jnl_rec_type;

typedef enum { JNL_ORIGIN_USER = 1, JNL_ORIGIN_ENGINE = 2, JNL_ORIGIN_CLOUD = 3 } jnl_origin;
typedef enum { JNL_OP_INSERT = 1, JNL_OP_UPDATE = 2, JNL_OP_DELETE = 3 } jnl_op;
typedef enum { JNL_MARK_INSTALL = 1, JNL_MARK_UNINSTALL = 2 } jnl_mark_kind;

/* A length-counted byte string; ptr == NULL means SQL NULL / absent. */
typedef struct jnl_str {
    const char *ptr;
    uint32_t len;
} jnl_str;

/* One journal record. Which members a type uses is listed in jnl_rec.c
 * (the field tables) and docs/journal.md. */
typedef struct jnl_rec {
    uint8_t type;
    uint8_t origin; /* EVENT */
    uint8_t op;     /* EVENT: jnl_op; MARK: jnl_mark_kind */
    uint8_t action; /* INTENT, RESULT: apl action code */
    uint8_t ok;     /* RESULT */
    uint64_t row_id;
    uint64_t txid;      /* EVENT: source transaction id */
    uint64_t audit_id;  /* EVENT: iasql_audit_log.id */
    uint64_t commit_id; /* INTENT, RESULT, STATE */
    int64_t ts_us;
    jnl_str table;
    jnl_str a; /* EVENT: old image; INTENT: idempotency token; RESULT: cloud image; MARK: module;
                  STATE, CONFLICT: the cloud's image, NULL when the resource is gone */
    jnl_str b; /* EVENT: new image; INTENT: desired image; RESULT: error text;
                  CONFLICT: what the poll found, in words */
} jnl_rec;

typedef enum {
    JNL_COMMIT_OK = 1,      /* every action applied */
    JNL_COMMIT_PARTIAL = 2, /* some actions failed, the rest applied */
    JNL_COMMIT_FAILED = 3   /* every action failed */
} jnl_commit_status;

typedef struct jnl_commit {
    uint64_t id;
    int64_t ts_us;
    uint8_t status;
    uint64_t first_seq;   /* first journal record written by this commit */
    uint64_t last_seq;    /* the last journal record when the commit point was written */
    uint64_t barrier_seq; /* last change event folded into this commit */
    uint64_t n_create, n_update, n_replace, n_delete, n_failed;
    jnl_str message;
    jnl_str results; /* JSON array of {action, table_name, id, description} */
} jnl_commit;

/* A resource's key in the index sub-databases. */
typedef struct jnl_res {
    char *table; /* owned */
    uint64_t row_id;
    uint64_t seq;
} jnl_res;

/* ---- environment and transactions ---- */
int jnl_open(jnl **out, const char *dir, cm_err *err);
void jnl_free(jnl *j);
const char *jnl_dir(const jnl *j);
/* Drops the journal's pages from this process's resident set. They stay
 * in the page cache and are mapped again, unchanged, when next read: the
 * map is read-only and shared, so nothing is lost, only the engine's RSS
 * stops counting pages a poll read once. */
void jnl_release(jnl *j);

int jnl_txn_begin(jnl *j, bool write, jnl_txn **out, cm_err *err);
int jnl_txn_commit(jnl_txn *t, cm_err *err);
void jnl_txn_abort(jnl_txn *t);

/* ---- the ordered log ---- */
/* Appends rec with the next sequence number, written to *seq_out. */
int jnl_append(jnl_txn *t, const jnl_rec *rec, uint64_t *seq_out, cm_err *err);
int jnl_get(jnl_txn *t, uint64_t seq, jnl_rec *rec, cm_err *err);
/* The last sequence number written, 0 for an empty journal. */
int jnl_last_seq(jnl_txn *t, uint64_t *out, cm_err *err);

/* A cursor over the log from a sequence number on. next returns 1 with a
 * record, 0 at the end, or a negative error. */
int jnl_cursor_open(jnl_txn *t, uint64_t from_seq, jnl_cursor **out, cm_err *err);
int jnl_cursor_next(jnl_cursor *c, uint64_t *seq, jnl_rec *rec, cm_err *err);
void jnl_cursor_free(jnl_cursor *c);

/* Reads every record and commit point: sequence numbers contiguous, every
 * record decodable, commit points inside the log. Problems are described in
 * report, one per line; the return value is an error only when the journal
 * could not be read at all. */
int jnl_verify(jnl *j, uint64_t *records, size_t *problems, cm_buf *report, cm_err *err);

/* ---- commit points ---- */
int jnl_commit_put(jnl_txn *t, const jnl_commit *c, cm_err *err);
int jnl_commit_get(jnl_txn *t, uint64_t id, jnl_commit *c, cm_err *err);
/* The newest commit point; CM_ENOTFOUND when there is none. */
int jnl_commit_last(jnl_txn *t, jnl_commit *c, cm_err *err);
/* Calls fn for every commit point in id order; fn returning non-zero stops. */
int jnl_commit_each(jnl_txn *t, int (*fn)(void *arg, const jnl_commit *c), void *arg, cm_err *err);

/* ---- small named values (tail position, identity) ---- */
int jnl_meta_put(jnl_txn *t, const char *key, const void *val, size_t len, cm_err *err);
/* *val borrows from LMDB; CM_ENOTFOUND when absent. */
int jnl_meta_get(jnl_txn *t, const char *key, jnl_str *val, cm_err *err);

/* ---- resource index: per (table, row id) ---- */
typedef enum {
    JNL_IDX_LATEST = 0, /* value: u64 seq of the row's newest change event */
    JNL_IDX_DIRTY = 1,  /* value: u64 seq of the row's oldest unapplied user event */
    JNL_IDX_STATE = 2,  /* value: the row image as last known in the cloud (JSON) */
    JNL_IDX_COUNT = 3
} jnl_idx;

int jnl_idx_put(jnl_txn *t, jnl_idx idx, const char *table, uint64_t row_id, const void *val,
                size_t len, cm_err *err);
int jnl_idx_put_seq(jnl_txn *t, jnl_idx idx, const char *table, uint64_t row_id, uint64_t seq,
                    cm_err *err);
/* CM_ENOTFOUND when absent; *val borrows from LMDB. */
int jnl_idx_get(jnl_txn *t, jnl_idx idx, const char *table, uint64_t row_id, jnl_str *val,
                cm_err *err);
int jnl_idx_get_seq(jnl_txn *t, jnl_idx idx, const char *table, uint64_t row_id, uint64_t *seq,
                    cm_err *err);
/* Sets (image not NULL) or clears the known cloud state of a resource and,
 * when that changes it, appends a STATE record in the same transaction, so
 * that the state index is a fold of the log: cloud events and STATE
 * records. commit_id: the commit that caused it (0: none). */
int jnl_state_set(jnl_txn *t, uint64_t commit_id, const char *table, uint64_t row_id,
                  const char *image, size_t len, cm_err *err);
/* The known cloud state of a resource, parsed; *out NULL when it has none. */
int jnl_state_image(jnl_txn *t, const char *table, uint64_t row_id, json_t **out, cm_err *err);
/* The row's newest image (the after-image of its latest event), parsed;
 * *out NULL when the row is deleted or the journal has no event of it. */
int jnl_latest_image(jnl_txn *t, const char *table, uint64_t row_id, json_t **out, cm_err *err);
/* Deleting an absent key is not an error. */
int jnl_idx_del(jnl_txn *t, jnl_idx idx, const char *table, uint64_t row_id, cm_err *err);
/* Copies out every key of idx (all tables when table is NULL); for the
 * seq-valued indexes res[i].seq holds the value. Free with jnl_res_free. */
int jnl_idx_list(jnl_txn *t, jnl_idx idx, const char *table, jnl_res **out, size_t *n, cm_err *err);
/* Removes every entry of every index for table (after an uninstall). */
int jnl_idx_clear_table(jnl_txn *t, const char *table, cm_err *err);
void jnl_res_free(jnl_res *res, size_t n);

/* ---- record codec (jnl_rec.c) ---- */
/* Encodes rec into b (appending). */
int jnl_rec_encode(const jnl_rec *rec, cm_buf *b);
/* Decodes; strings in rec borrow from data. */
int jnl_rec_decode(jnl_rec *rec, const void *data, size_t len, cm_err *err);
int jnl_commit_encode(const jnl_commit *c, cm_buf *b);
int jnl_commit_decode(jnl_commit *c, const void *data, size_t len, cm_err *err);
/* One line of text or a JSON object describing rec, appended to b. */
int jnl_rec_format(const jnl_rec *rec, uint64_t seq, bool as_json, cm_buf *b);
int jnl_commit_format(const jnl_commit *c, bool as_json, cm_buf *b);
const char *jnl_rec_type_name(uint8_t type);
const char *jnl_origin_name(uint8_t origin);
const char *jnl_op_name(uint8_t op);

#endif
