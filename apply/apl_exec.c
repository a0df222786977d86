/* apply/apl_exec.c — carries out a plan. Before any cloud call the journal
 * holds an intent for it (with an idempotency token), after it the result,
 * and the known cloud state moves with the result in the same LMDB
 * transaction. A failed action fails only its own resource: the others are
 * applied and every resource gets a result row. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/apl_int.h"
#include "common/cm_json.h"

int apl_create_token(const char *owner, const char *table, uint64_t row_id, uint64_t audit_id,
                     char out[33])
{
    if (!owner || !*owner || !audit_id)
        return cm_random_hex(out, 16) ? CM_EIO : 0;
    char in[512];
    int len = snprintf(in, sizeof in, "%s:%s:%llu:%llu", owner, table, (unsigned long long)row_id,
                       (unsigned long long)audit_id);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (len < 0 || (size_t)len >= sizeof in ||
        !EVP_Digest(in, (size_t)len, md, &mdlen, EVP_sha256(), NULL) || mdlen < 16)
        return CM_EIO;
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* The token of an action: for a create (or the create of a replace) that
 * carries a user's change, the one apl_create_token makes of it, so that a
 * journal rebuilt from the database finds the resource by it; else random. */
static int item_token(jnl_txn *t, const char *owner, apl_item *it, cm_err *err)
{
    uint64_t audit_id = 0;
    if ((it->action == APL_CREATE || it->action == APL_REPLACE) && it->dirty_seq) {
        jnl_rec rec;
        int rc = jnl_get(t, it->dirty_seq, &rec, err);
        if (rc)
            return rc;
        if (rec.type == JNL_REC_EVENT && rec.origin == JNL_ORIGIN_USER)
            audit_id = rec.audit_id;
    }
    if (apl_create_token(owner, it->table->name, it->row_id, audit_id, it->token))
        return cm_err_set(err, CM_EIO, "the kernel gave no random bytes for a client token");
    return 0;
}

static jnl_str text_of(const char *s)
{
    return (jnl_str){s, s ? (uint32_t)strlen(s) : 0};
}

static int write_intents(jnl *j, apl_plan *p, const char *owner, uint64_t *commit_id,
                         uint64_t *first_seq, cm_err *err)
{
    jnl_txn *t;
    int rc = jnl_txn_begin(j, true, &t, err);
    if (rc)
        return rc;
    jnl_commit last;
    rc = jnl_commit_last(t, &last, err);
    if (rc == CM_ENOTFOUND) {
        last.id = 0;
        cm_err_clear(err);
        rc = 0;
    }
    *commit_id = last.id + 1;
    *first_seq = 0;
    for (size_t i = 0; !rc && i < p->n; i++) {
        apl_item *it = &p->items[i];
        if (it->action == APL_NONE)
            continue;
        rc = item_token(t, owner, it, err);
        if (rc)
            break;
        char *desired = it->desired ? cm_json_dump(it->desired) : NULL;
        jnl_rec rec = {.type = JNL_REC_INTENT,
                       .commit_id = *commit_id,
                       .row_id = it->row_id,
                       .action = (uint8_t)it->action,
                       .ts_us = cm_now_us(),
                       .table = text_of(it->table->name),
                       .a = text_of(it->token),
                       .b = text_of(desired)};
        uint64_t seq;
        rc = jnl_append(t, &rec, &seq, err);
        if (!rc && !*first_seq)
            *first_seq = seq;
        free(desired);
    }
    if (rc) {
        jnl_txn_abort(t);
        return rc;
    }
    return jnl_txn_commit(t, err);
}

/* After an action, the dirty mark goes unless the user changed the row again
 * after the plan was made. */
static int settle_dirty(jnl_txn *t, const apl_item *it, uint64_t barrier, cm_err *err)
{
    uint64_t latest;
    int rc = jnl_idx_get_seq(t, JNL_IDX_LATEST, it->table->name, it->row_id, &latest, err);
    if (rc == CM_ENOTFOUND || (!rc && latest <= barrier))
        return jnl_idx_del(t, JNL_IDX_DIRTY, it->table->name, it->row_id, err);
    if (rc)
        return rc;
    return jnl_idx_put_seq(t, JNL_IDX_DIRTY, it->table->name, it->row_id, barrier + 1, err);
}

int apl_put_state(jnl_txn *t, uint64_t commit_id, const apl_item *it, const json_t *image,
                  cm_err *err)
{
    char *txt = image ? cm_json_dump(image) : NULL;
    if (image && !txt)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    int rc =
        jnl_state_set(t, commit_id, it->table->name, it->row_id, txt, txt ? strlen(txt) : 0, err);
    free(txt);
    return rc;
}

int apl_write_result(jnl *j, uint64_t commit_id, uint64_t barrier, const apl_item *it, outcome *o,
                     cm_err *err)
{
    jnl_txn *t;
    int rc = jnl_txn_begin(j, true, &t, err);
    if (rc)
        return rc;
    char *image = o->image ? cm_json_dump(o->image) : NULL;
    jnl_rec rec = {.type = JNL_REC_RESULT,
                   .commit_id = commit_id,
                   .row_id = it->row_id,
                   .action = (uint8_t)it->action,
                   .ok = o->ok,
                   .ts_us = cm_now_us(),
                   .table = text_of(it->table->name),
                   .a = text_of(image),
                   .b = text_of(o->ok ? NULL : o->error)};
    rc = jnl_append(t, &rec, &o->result_seq, err);
    if (!rc && o->gone)
        rc = apl_put_state(t, commit_id, it, NULL, err);
    else if (!rc && o->ok && o->image)
        rc = apl_put_state(t, commit_id, it, o->image, err);
    if (!rc && o->ok)
        rc = settle_dirty(t, it, barrier, err);
    free(image);
    if (rc) {
        jnl_txn_abort(t);
        return rc;
    }
    return jnl_txn_commit(t, err);
}

/* Cloud-owned columns that only a list shows (S3 creation dates): one call
 * per table for all the resources created in this commit. */
static bool lacks_owned(const mod_table *t, const json_t *image)
{
    for (const mod_column *c = t->columns; c->name; c++) {
        json_t *v = json_object_get(image, c->name);
        if ((c->flags & MOD_COL_CLOUD_OWNED) && (!v || json_is_null(v)))
            return true;
    }
    return false;
}

int apl_fill_owned(jnl *j, mod_ctx *ctx, uint64_t commit_id, apl_plan *p, outcome *os, cm_err *err)
{
    for (size_t i = 0; i < p->n; i++) {
        const mod_table *t = p->items[i].table;
        if (!t->ops->fill_owned)
            continue;
        bool first = true;
        for (size_t k = 0; k < i && first; k++)
            first = p->items[k].table != t;
        if (!first)
            continue;
        json_t *images = json_array();
        for (size_t k = i; k < p->n; k++)
            if (p->items[k].table == t && os[k].ok && os[k].image && !os[k].gone &&
                lacks_owned(t, os[k].image))
                json_array_append(images, os[k].image);
        cm_err ferr = {0};
        if (json_array_size(images) && t->ops->fill_owned(ctx, images, &ferr)) {
            /* The rows stay pending, so a later commit reads these again. */
            cm_log(CM_LOG_WARN, "cloud-owned columns of new %s rows not read: %s", t->name,
                   ferr.msg);
            for (size_t k = i; k < p->n; k++)
                if (p->items[k].table == t && os[k].ok && os[k].image &&
                    lacks_owned(t, os[k].image))
                    os[k].owned_missing = true;
        }
        json_decref(images);
    }
    /* The images were filled in place: store them as the known state. */
    jnl_txn *t;
    int rc = jnl_txn_begin(j, true, &t, err);
    for (size_t i = 0; !rc && i < p->n; i++) {
        const apl_item *it = &p->items[i];
        if (os[i].ok && os[i].image && !os[i].gone)
            rc = apl_put_state(t, commit_id, it, os[i].image, err);
        if (!rc && os[i].owned_missing)
            rc = jnl_idx_put_seq(t, JNL_IDX_DIRTY, it->table->name, it->row_id,
                                 it->dirty_seq ? it->dirty_seq : p->barrier_seq, err);
    }
    if (rc) {
        jnl_txn_abort(t);
        return rc;
    }
    return jnl_txn_commit(t, err);
}

static const char *const done_verbs[] = {"", "created", "updated", "replaced", "deleted"};

static json_t *result_row(const apl_item *it, const outcome *o)
{
    cm_buf d;
    cm_buf_init(&d, 4096);
    if (o->ok) {
        cm_buf_printf(&d, "%s ", done_verbs[it->action]);
        apl_describe_item(it, it->action != APL_DELETE && o->image && !o->gone ? o->image : NULL,
                          &d);
        if (it->changed[0] && it->action != APL_CREATE && it->action != APL_DELETE)
            cm_buf_printf(&d, ": %s changed", it->changed);
    } else {
        cm_buf_printf(&d, "failed to %s ", apl_action_name(it->action));
        apl_describe_item(it, NULL, &d);
        cm_buf_printf(&d, ": %s", o->error);
    }
    json_t *row =
        json_pack("{s:s, s:s, s:I, s:s}", "action", apl_action_name(it->action), "table_name",
                  it->table->name, "id", (json_int_t)it->row_id, "description", cm_buf_str(&d));
    cm_buf_free(&d);
    return row;
}

/* The audit ids of the user events this commit carried, for
 * iasql_audit_log.commit_id. */
/* The key of a resource in a set of applied ones: "table/row id". */
static void applied_key(char *out, size_t size, const char *table, size_t len, uint64_t row_id)
{
    snprintf(out, size, "%.*s/%llu", (int)len, table, (unsigned long long)row_id);
}

static int carried_audit_ids(jnl *j, const apl_plan *p, const outcome *os, json_t *ids, cm_err *err)
{
    uint64_t from = UINT64_MAX;
    json_t *applied = json_object();
    char key[320];
    for (size_t i = 0; i < p->n; i++) {
        if (!os[i].ok)
            continue;
        const apl_item *it = &p->items[i];
        applied_key(key, sizeof key, it->table->name, strlen(it->table->name), it->row_id);
        json_object_set_new(applied, key, json_integer((json_int_t)it->dirty_seq));
        if (it->dirty_seq && it->dirty_seq < from)
            from = it->dirty_seq;
    }
    jnl_txn *t = NULL;
    jnl_cursor *c = NULL;
    int rc = from == UINT64_MAX ? 0 : jnl_txn_begin(j, false, &t, err);
    if (t)
        rc = jnl_cursor_open(t, from, &c, err);
    uint64_t seq;
    jnl_rec rec;
    while (c && !rc && (rc = jnl_cursor_next(c, &seq, &rec, err)) == 1) {
        rc = 0;
        if (seq > p->barrier_seq)
            break;
        if (rec.type != JNL_REC_EVENT || rec.origin != JNL_ORIGIN_USER)
            continue;
        applied_key(key, sizeof key, rec.table.ptr, rec.table.len, rec.row_id);
        json_t *since = json_object_get(applied, key);
        if (since && seq >= (uint64_t)json_integer_value(since))
            json_array_append_new(ids, json_integer((json_int_t)rec.audit_id));
    }
    jnl_cursor_free(c);
    jnl_txn_abort(t);
    json_decref(applied);
    return rc < 0 ? rc : 0;
}

/* Rows whose pending changes cancelled out: nothing to do, no longer dirty
 * (unless their cloud-owned columns are still to be read). */
static int settle_noops(jnl *j, const apl_plan *p, const outcome *os, cm_err *err)
{
    if (!p->settled)
        return 0;
    jnl_txn *t;
    int rc = jnl_txn_begin(j, true, &t, err);
    for (size_t i = 0; !rc && i < p->n; i++)
        if (p->items[i].action == APL_NONE && !os[i].owned_missing)
            rc = settle_dirty(t, &p->items[i], p->barrier_seq, err);
    if (rc) {
        jnl_txn_abort(t);
        return rc;
    }
    return jnl_txn_commit(t, err);
}

/* Rows whose write-back the database refused stay pending, so the next
 * commit writes them again (once the user's constraint allows it); their
 * result rows say what happened. */
static int keep_refused(jnl *j, const apl_plan *p, const json_t *failed, json_t *rows, cm_err *err)
{
    if (!json_array_size(failed))
        return 0;
    jnl_txn *t;
    int rc = jnl_txn_begin(j, true, &t, err);
    size_t k;
    json_t *f;
    json_array_foreach(failed, k, f)
    {
        const char *table = json_string_value(json_object_get(f, "table_name"));
        uint64_t id = (uint64_t)json_integer_value(json_object_get(f, "id"));
        cm_log(CM_LOG_WARN, "%s %llu: the cloud's values could not be written back: %s", table,
               (unsigned long long)id, json_string_value(json_object_get(f, "message")));
        for (size_t i = 0; !rc && i < p->n; i++) {
            const apl_item *it = &p->items[i];
            if (it->row_id != id || strcmp(it->table->name, table) != 0)
                continue;
            rc = jnl_idx_put_seq(t, JNL_IDX_DIRTY, table, id,
                                 it->dirty_seq ? it->dirty_seq : p->barrier_seq, err);
        }
        size_t r;
        json_t *row;
        json_array_foreach(rows, r, row)
        {
            if (strcmp(json_string_value(json_object_get(row, "table_name")), table) != 0 ||
                (uint64_t)json_integer_value(json_object_get(row, "id")) != id)
                continue;
            char *d = NULL;
            if (asprintf(&d, "%s; the cloud's values could not be written back: %s",
                         json_string_value(json_object_get(row, "description")),
                         json_string_value(json_object_get(f, "message"))) >= 0)
                json_object_set_new(row, "description", json_string(d));
            free(d);
        }
    }
    if (rc) {
        jnl_txn_abort(t);
        return rc;
    }
    return jnl_txn_commit(t, err);
}

/* Write-backs for a run with nothing to apply: the cloud-owned columns that
 * an earlier commit could not read. */
static int write_back_only(jnl *j, PGconn *conn, const apl_plan *p, const outcome *os, cm_err *err)
{
    apl_writeback *wb = calloc(p->n ? p->n : 1, sizeof *wb);
    if (!wb)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        if (os[i].ok && os[i].image && !os[i].gone && !os[i].owned_missing)
            wb[n++] = (apl_writeback){p->items[i].table, p->items[i].row_id, os[i].image};
    json_t *failed = json_array();
    int rc = n ? apl_db_record(conn, NULL, wb, n, NULL, NULL, failed, err) : 0;
    if (!rc)
        rc = keep_refused(j, p, failed, NULL, err);
    json_decref(failed);
    free(wb);
    return rc;
}

int apl_record_commit(jnl *j, PGconn *conn, apl_plan *p, outcome *os, uint64_t commit_id,
                      uint64_t first_seq, const char *message, apl_commit_info *out, cm_err *err)
{
    jnl_commit c = {.id = commit_id,
                    .ts_us = cm_now_us(),
                    .first_seq = first_seq,
                    .barrier_seq = p->barrier_seq,
                    .message = text_of(message)};
    json_t *errors = json_array();
    json_t *ids = json_array();
    apl_writeback *wb = calloc(p->n ? p->n : 1, sizeof *wb);
    size_t nwb = 0, total = 0;
    for (size_t i = 0; i < p->n; i++) {
        const apl_item *it = &p->items[i];
        if (it->action == APL_NONE) {
            if (os[i].ok && os[i].image && !os[i].gone && wb)
                wb[nwb++] = (apl_writeback){it->table, it->row_id, os[i].image};
            continue;
        }
        total++;
        json_t *row = result_row(it, &os[i]);
        json_array_append(out->rows, row);
        if (!os[i].ok) {
            c.n_failed++;
            json_array_append_new(
                errors, json_pack("{s:s, s:I, s:s}", "table_name", it->table->name, "id",
                                  (json_int_t)it->row_id, "message",
                                  json_string_value(json_object_get(row, "description"))));
        } else {
            uint64_t *counter[] = {NULL, &c.n_create, &c.n_update, &c.n_replace, &c.n_delete};
            (*counter[it->action])++;
            if (os[i].image && !os[i].gone && wb)
                wb[nwb++] = (apl_writeback){it->table, it->row_id, os[i].image};
        }
        json_decref(row);
    }
    c.status = c.n_failed == 0       ? JNL_COMMIT_OK
               : c.n_failed == total ? JNL_COMMIT_FAILED
                                     : JNL_COMMIT_PARTIAL;
    char *results = cm_json_dump(out->rows);
    c.results = text_of(results);
    out->commit_id = commit_id;
    out->failed = c.n_failed;
    int rc = carried_audit_ids(j, p, os, ids, err);
    /* The database first: if the engine stops in between, the commit point
     * is missing and recovery writes both again (the database side is
     * idempotent). The other way round, a lost database write would go
     * unnoticed. */
    json_t *failed = json_array();
    if (!rc)
        rc = apl_db_record(conn, &c, wb, nwb, errors, ids, failed, err);
    if (!rc)
        rc = keep_refused(j, p, failed, out->rows, err);
    json_decref(failed);
    jnl_txn *t = NULL;
    if (!rc)
        rc = jnl_txn_begin(j, true, &t, err);
    if (!rc)
        rc = jnl_last_seq(t, &c.last_seq, err);
    if (!rc)
        rc = jnl_commit_put(t, &c, err);
    if (!rc) {
        rc = jnl_txn_commit(t, err);
        t = NULL;
    }
    jnl_txn_abort(t);
    free(results);
    free(wb);
    json_decref(errors);
    json_decref(ids);
    return rc;
}

int apl_execute(jnl *j, PGconn *conn, mod_ctx *ctx, apl_plan *p, const char *message,
                apl_commit_info *out, cm_err *err)
{
    memset(out, 0, sizeof *out);
    out->rows = json_array();
    if (p->n == 0)
        return 0;
    outcome *os = calloc(p->n, sizeof *os);
    if (!os)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    /* Nothing to do for these but, perhaps, to read cloud-owned columns. */
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].action == APL_NONE) {
            os[i].ok = true;
            os[i].gone = !p->items[i].known;
            os[i].image = p->items[i].known ? json_deep_copy(p->items[i].known) : NULL;
        }
    bool apply = p->n > p->settled;
    uint64_t commit_id = 0, first_seq = 0;
    int rc = apl_plan_owners(conn, p, err);
    if (!rc && apply)
        rc = write_intents(j, p, mod_ctx_owner(ctx), &commit_id, &first_seq, err);
    if (!rc && apply) {
        apl_db_commit_started(conn, commit_id, message, apl_plan_actions(p));
        rc = apl_run_graph(j, conn, ctx, p, os, commit_id, err);
    }
    if (!rc)
        rc = apl_fill_owned(j, ctx, commit_id, p, os, err);
    if (!rc)
        rc = settle_noops(j, p, os, err);
    if (!rc && apply)
        rc = apl_record_commit(j, conn, p, os, commit_id, first_seq, message, out, err);
    else if (!rc)
        rc = write_back_only(j, conn, p, os, err);
    for (size_t i = 0; !rc && i < p->n; i++)
        rc = apl_secret_forget(conn, &p->items[i], os[i].ok && p->items[i].action != APL_NONE, err);
    if (!rc)
        rc = apl_secret_purge(conn, p, err);
    for (size_t i = 0; i < p->n; i++)
        json_decref(os[i].image);
    free(os);
    return rc;
}
