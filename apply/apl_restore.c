/* apply/apl_restore.c — going back. iasql_rollback() gives every row with
 * pending user changes the user columns of its last known cloud state again
 * (no cloud call); iasql_rollback(N) folds the journal up to commit point N
 * into the cloud state of that moment, writes it into the tables and marks
 * those rows pending, so that an ordinary commit brings the cloud there.
 * Both write the tables in one SQL transaction with origin 'engine':
 * deletes children first, then updates, then re-inserts parents first, each
 * a single statement per table. docs/rollback.md says why. */
#include <stdlib.h>
#include <string.h>

#include "apply/apl_int.h"
#include "common/cm_json.h"

typedef enum { RS_DELETE = 0, RS_UPDATE = 1, RS_INSERT = 2 } restore_op;

typedef struct restore {
    const mod_table *table;
    uint64_t row_id;
    restore_op op;
    json_t *image;     /* owned: the row as it is to be (NULL for a delete) */
    json_t *was;       /* owned: the row as it is now (NULL when absent) */
    char changed[256]; /* user columns that change, for descriptions */
} restore;

typedef struct restore_set {
    restore *items;
    size_t n, cap;
} restore_set;

static void set_free(restore_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        json_decref(s->items[i].image);
        json_decref(s->items[i].was);
    }
    free(s->items);
    memset(s, 0, sizeof *s);
}

static int set_add(restore_set *s, const restore *r, cm_err *err)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        restore *items = realloc(s->items, cap * sizeof *items);
        if (!items)
            return cm_err_set(err, CM_ENOMEM, "out of memory restoring %zu rows", s->n);
        s->items = items;
        s->cap = cap;
    }
    s->items[s->n++] = *r;
    return 0;
}

static json_t *col(const json_t *img, const char *name)
{
    json_t *v = json_object_get(img, name);
    return v ? v : json_null();
}

/* The row image that a resource in cloud state target takes: base (the row
 * as it is or was) with every user column set from target. Cloud-owned
 * columns are kept from base; when the resource is to be made anew
 * (fresh), its cloud ids are cleared (they named the resource that is
 * gone), and its other cloud-owned values (a NOT NULL flag such as
 * vpc.is_default) stay until the create's write-back replaces them. */
static json_t *row_for(const mod_table *t, const json_t *base, const json_t *target, bool fresh,
                       uint64_t row_id)
{
    json_t *img = json_deep_copy(base ? base : target);
    for (const mod_column *c = t->columns; c->name; c++) {
        if (!(c->flags & MOD_COL_CLOUD_OWNED))
            json_object_set(img, c->name, col(target, c->name));
        else if (fresh && (c->flags & MOD_COL_CLOUD_ID))
            json_object_set_new(img, c->name, json_null());
    }
    json_object_set_new(img, "id", json_integer((json_int_t)row_id));
    return img;
}

/* The user columns in which a and b differ, comma-separated into out. */
static bool user_diff(const mod_table *t, const json_t *a, const json_t *b, char *out, size_t size)
{
    cm_buf d;
    cm_buf_init(&d, size - 1);
    for (const mod_column *c = t->columns; c->name; c++)
        if (!(c->flags & MOD_COL_CLOUD_OWNED) && !json_equal(col(a, c->name), col(b, c->name)))
            cm_buf_printf(&d, "%s%s", d.len ? ", " : "", c->name);
    snprintf(out, size, "%s", cm_buf_str(&d));
    bool any = d.len > 0;
    cm_buf_free(&d);
    return any;
}

/* What the row must become for the cloud state target (NULL: no resource):
 * appends the restore to s, or nothing when the row already is that. */
static int plan_row(restore_set *s, const mod_table *t, uint64_t row_id, json_t *cur, json_t *last,
                    const json_t *target, bool fresh, cm_err *err)
{
    restore r = {.table = t, .row_id = row_id};
    if (!target && !cur)
        return 0;
    if (!target) {
        r.op = RS_DELETE;
    } else if (!cur) {
        r.op = RS_INSERT;
        r.image = row_for(t, last, target, fresh, row_id);
    } else {
        if (!user_diff(t, cur, target, r.changed, sizeof r.changed))
            return 0;
        r.op = RS_UPDATE;
        r.image = row_for(t, cur, target, fresh, row_id);
    }
    r.was = cur ? json_incref(cur) : NULL;
    int rc = set_add(s, &r, err);
    if (rc)
        json_decref(r.image);
    return rc;
}

/* The row as it is (*cur, NULL when deleted) and as it last was (*last),
 * from the row's newest change event. */
static int row_now(jnl_txn *t, const char *table, uint64_t row_id, json_t **cur, json_t **last,
                   cm_err *err)
{
    *cur = *last = NULL;
    uint64_t seq;
    jnl_rec ev;
    int rc = jnl_idx_get_seq(t, JNL_IDX_LATEST, table, row_id, &seq, err);
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        return 0;
    }
    if (!rc)
        rc = jnl_get(t, seq, &ev, err);
    if (rc)
        return rc;
    jnl_str img = ev.op == JNL_OP_DELETE ? ev.a : ev.b;
    json_t *parsed = NULL;
    if (img.ptr && (rc = cm_json_parse(&parsed, img.ptr, img.len, err)))
        return rc;
    if (ev.op == JNL_OP_DELETE)
        *last = parsed;
    else
        *cur = parsed;
    return 0;
}

/* ---- the database side ---- */

/* One statement for the rows of s that are of table t and op. */
static int build_sql(PGconn *conn, const mod_table *t, restore_op op, cm_buf *sql)
{
    cm_buf qt;
    cm_buf_init(&qt, 1024);
    int rc = cm_pg_quote_ident(conn, &qt, t->name);
    if (!rc && op == RS_DELETE)
        rc = cm_buf_printf(sql,
                           "DELETE FROM %s WHERE id IN "
                           "(SELECT (e->>'id')::bigint FROM json_array_elements($1::json) e)",
                           qt.data);
    else if (!rc && op == RS_INSERT)
        rc = cm_buf_printf(sql,
                           "INSERT INTO %s SELECT * FROM json_populate_recordset(NULL::%s, "
                           "$1::json) s ORDER BY s.id",
                           qt.data, qt.data);
    else if (!rc) {
        rc = cm_buf_printf(sql, "UPDATE %s x SET ", qt.data);
        int n = 0;
        for (const mod_column *c = t->columns; !rc && c->name; c++) {
            if (c->flags & MOD_COL_CLOUD_OWNED)
                continue;
            cm_buf q;
            cm_buf_init(&q, 256);
            rc = cm_pg_quote_ident(conn, &q, c->name);
            if (!rc)
                rc = cm_buf_printf(sql, "%s%s = s.%s", n++ ? ", " : "", q.data, q.data);
            cm_buf_free(&q);
        }
        if (!rc)
            rc = cm_buf_printf(sql,
                               " FROM json_populate_recordset(NULL::%s, $1::json) s "
                               "WHERE x.id = s.id",
                               qt.data);
    }
    cm_buf_free(&qt);
    return rc;
}

static json_t *row_arg(const restore *r)
{
    return r->image ? json_incref(r->image) : json_pack("{s:I}", "id", (json_int_t)r->row_id);
}

static const char *const op_verbs[] = {"delete", "update", "re-insert"};

/* The statement of one table and op; when the database refuses it, the
 * rows are tried one by one to name the one it refuses. */
static int restore_group(PGconn *conn, const restore_set *s, const mod_table *t, restore_op op,
                         cm_err *err)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].table == t && s->items[i].op == op)
            json_array_append_new(rows, row_arg(&s->items[i]));
    if (!json_array_size(rows)) {
        json_decref(rows);
        return 0;
    }
    cm_buf sql;
    cm_buf_init(&sql, 1 << 14);
    int rc = build_sql(conn, t, op, &sql);
    if (!rc)
        rc = apl_run_rows(conn, cm_buf_str(&sql), rows, err);
    for (size_t i = 0; rc == CM_EPG && i < s->n; i++) {
        const restore *r = &s->items[i];
        if (r->table != t || r->op != op)
            continue;
        json_t *one = json_pack("[o]", row_arg(r));
        cm_err rerr = {0};
        if (apl_run_rows(conn, cm_buf_str(&sql), one, &rerr) == CM_EPG) {
            cm_buf d;
            cm_buf_init(&d, 4096);
            mod_describe_row(t, r->row_id, r->image ? r->image : r->was, &d);
            cm_err_set(err, CM_EPG, "cannot %s %s: %s", op_verbs[op], cm_buf_str(&d), rerr.msg);
            cm_buf_free(&d);
        }
        json_decref(one);
    }
    json_decref(rows);
    cm_buf_free(&sql);
    return rc;
}

#define MAX_TABLES 256

static int write_restores(PGconn *conn, const restore_set *s, cm_err *err)
{
    if (!s->n)
        return 0;
    const mod_table *tables[MAX_TABLES];
    int nt = mod_all_tables(tables, NULL, MAX_TABLES);
    int rc = cm_pg_run(conn, err, "BEGIN", 0, NULL);
    if (!rc)
        rc = cm_pg_run(conn, err, "SELECT set_config('iasql.origin', 'engine', true)", 0, NULL);
    for (int k = nt - 1; !rc && k >= 0; k--)
        rc = restore_group(conn, s, tables[k], RS_DELETE, err);
    for (int k = 0; !rc && k < nt; k++)
        rc = restore_group(conn, s, tables[k], RS_UPDATE, err);
    for (int k = 0; !rc && k < nt; k++)
        rc = restore_group(conn, s, tables[k], RS_INSERT, err);
    return cm_pg_end(conn, rc, err);
}

/* Marks rows pending from the next journal record on. */
static int mark_pending(jnl *j, const jnl_res *rows, size_t n, cm_err *err)
{
    jnl_txn *t;
    int rc = jnl_txn_begin(j, true, &t, err);
    if (rc)
        return rc;
    uint64_t last;
    rc = jnl_last_seq(t, &last, err);
    for (size_t i = 0; !rc && i < n; i++)
        rc = jnl_idx_put_seq(t, JNL_IDX_DIRTY, rows[i].table, rows[i].row_id, last + 1, err);
    if (rc) {
        jnl_txn_abort(t);
        return rc;
    }
    return jnl_txn_commit(t, err);
}

/* The rows about to be written get a dirty mark first: if the engine stops
 * in between, a mark on an unchanged row settles as nothing to do, while a
 * written row without one would never be applied. */
static int mark_restores(jnl *j, const restore_set *s, cm_err *err)
{
    jnl_res *rows = calloc(s->n ? s->n : 1, sizeof *rows);
    if (!rows)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->n; i++)
        rows[i] = (jnl_res){(char *)s->items[i].table->name, s->items[i].row_id, 0};
    int rc = mark_pending(j, rows, s->n, err);
    free(rows);
    return rc;
}

/* ---- iasql_rollback() ---- */

static const char *const done_verbs[] = {"discarded the pending creation of", "restored",
                                         "brought back"};
static const char *const row_actions[] = {"delete", "update", "create"};

static json_t *restore_rows(const restore_set *s)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const restore *r = &s->items[i];
        cm_buf d;
        cm_buf_init(&d, 4096);
        cm_buf_printf(&d, "%s ", done_verbs[r->op]);
        mod_describe_row(r->table, r->row_id, r->image ? r->image : r->was, &d);
        if (r->op == RS_UPDATE)
            cm_buf_printf(&d, ": %s", r->changed);
        json_array_append_new(rows,
                              json_pack("{s:s, s:s, s:I, s:s}", "action", row_actions[r->op],
                                        "table_name", r->table->name, "id", (json_int_t)r->row_id,
                                        "description", cm_buf_str(&d)));
        cm_buf_free(&d);
    }
    return rows;
}

static int plan_discard(jnl *j, const apl_plan *only, restore_set *s, jnl_res **dirty_out,
                        size_t *ndirty, cm_err *err)
{
    jnl_txn *t;
    int rc = jnl_txn_begin(j, false, &t, err);
    if (rc)
        return rc;
    jnl_res *dirty = NULL;
    size_t n = 0;
    rc = jnl_idx_list(t, JNL_IDX_DIRTY, NULL, &dirty, &n, err);
    if (!rc && only) { /* the rows named, the others left pending */
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
            if (apl_plan_find(only, dirty[i].table, dirty[i].row_id) >= 0)
                dirty[kept++] = dirty[i];
            else
                free(dirty[i].table);
        }
        n = kept;
    }
    for (size_t i = 0; !rc && i < n; i++) {
        const mod_table *table = mod_find_table(dirty[i].table, NULL);
        if (!table || !table->ops)
            continue;
        json_t *known = NULL, *cur = NULL, *last = NULL;
        rc = jnl_state_image(t, dirty[i].table, dirty[i].row_id, &known, err);
        if (!rc)
            rc = row_now(t, dirty[i].table, dirty[i].row_id, &cur, &last, err);
        if (!rc)
            rc = plan_row(s, table, dirty[i].row_id, cur, last, known, false, err);
        json_decref(known);
        json_decref(cur);
        json_decref(last);
        if (rc)
            cm_err_wrap(err, "%s row %llu", dirty[i].table, (unsigned long long)dirty[i].row_id);
    }
    jnl_txn_abort(t);
    *dirty_out = dirty;
    *ndirty = n;
    return rc;
}

int apl_discard(jnl *j, PGconn *conn, const apl_plan *only, json_t **rows, cm_err *err)
{
    *rows = NULL;
    restore_set s = {0};
    jnl_res *dirty = NULL;
    size_t ndirty = 0;
    int rc = plan_discard(j, only, &s, &dirty, &ndirty, err);
    /* The discarded events are no longer pending: the rows stay marked
     * (from the next record on), so that the next commit settles them as
     * nothing to do and never counts the discarded events as carried. */
    if (!rc)
        rc = mark_pending(j, dirty, ndirty, err);
    jnl_res_free(dirty, ndirty);
    if (!rc)
        rc = write_restores(conn, &s, err);
    if (!rc)
        *rows = restore_rows(&s);
    set_free(&s);
    return rc;
}

/* ---- iasql_rollback(N) ---- */

/* The cloud state at a commit point: per table, {row id: image text or
 * null}, folded from cloud events and STATE records; and the tables whose
 * module was installed or uninstalled after it. */
typedef struct fold {
    json_t *tables; /* {table: {id: "image" | null}} */
    cm_buf crossed; /* marks after the commit point, for the refusal */
    size_t ncrossed;
} fold;

static void fold_put(fold *f, const jnl_rec *r, jnl_str img)
{
    char table[256], id[24];
    snprintf(table, sizeof table, "%.*s", (int)r->table.len, r->table.ptr);
    snprintf(id, sizeof id, "%llu", (unsigned long long)r->row_id);
    json_t *rows = json_object_get(f->tables, table);
    if (!rows) {
        rows = json_object();
        json_object_set_new(f->tables, table, rows);
    }
    json_object_set_new(rows, id, img.ptr ? json_stringn_nocheck(img.ptr, img.len) : json_null());
}

static int fold_to(jnl_txn *t, uint64_t last_seq, fold *f, cm_err *err)
{
    jnl_cursor *c;
    int rc = jnl_cursor_open(t, 1, &c, err);
    uint64_t seq;
    jnl_rec r;
    while (!rc && (rc = jnl_cursor_next(c, &seq, &r, err)) == 1) {
        rc = 0;
        if (r.type == JNL_REC_MARK && seq > last_seq) {
            if (f->ncrossed++ < 5)
                cm_buf_printf(&f->crossed, "%s%s of module %.*s (table %.*s)",
                              f->crossed.len ? ", " : "",
                              r.op == JNL_MARK_INSTALL ? "the install" : "the uninstall",
                              (int)r.a.len, r.a.ptr, (int)r.table.len, r.table.ptr);
        }
        if (seq > last_seq)
            continue;
        if (r.type == JNL_REC_EVENT && r.origin == JNL_ORIGIN_CLOUD)
            fold_put(f, &r, r.op == JNL_OP_DELETE ? (jnl_str){NULL, 0} : r.b);
        else if (r.type == JNL_REC_STATE)
            fold_put(f, &r, r.a);
        else if (r.type == JNL_REC_MARK && r.op == JNL_MARK_UNINSTALL) {
            char table[256];
            snprintf(table, sizeof table, "%.*s", (int)r.table.len, r.table.ptr);
            json_object_del(f->tables, table);
        }
    }
    jnl_cursor_free(c);
    return rc < 0 ? rc : 0;
}

static int pending_count(jnl *j, size_t *n, cm_buf *names, cm_err *err)
{
    apl_plan *p;
    int rc = apl_plan_build(j, &p, err);
    if (rc)
        return rc;
    *n = 0;
    for (size_t i = 0; i < p->n; i++) {
        const apl_item *it = &p->items[i];
        if (it->action == APL_NONE)
            continue;
        if ((*n)++ < 3) {
            cm_buf_puts(names, names->len ? ", " : "");
            mod_describe_row(it->table, it->row_id, it->desired ? it->desired : it->known, names);
        }
    }
    apl_plan_free(p);
    return 0;
}

/* A secret column that would have to come back: the journal holds only its
 * mask. */
static int secret_refusal(const mod_table *t, uint64_t row_id, const json_t *target,
                          const json_t *now, uint64_t commit_id, cm_err *err)
{
    for (const mod_column *c = t->columns; target && c->name; c++) {
        if (!(c->flags & MOD_COL_SECRET) || !mod_is_mask(json_string_value(col(target, c->name))))
            continue;
        if (now && json_equal(col(now, c->name), col(target, c->name)))
            continue;
        cm_buf d;
        cm_buf_init(&d, 4096);
        mod_describe_row(t, row_id, target, &d);
        cm_err_set(err, CM_EINVAL,
                   "cannot roll back to commit %llu: %s held a secret %s then, which iasql "
                   "never keeps; set %s by hand instead",
                   (unsigned long long)commit_id, cm_buf_str(&d), c->name, c->name);
        cm_buf_free(&d);
        return CM_EINVAL;
    }
    return 0;
}

/* The restores that bring one table from now to the folded state. */
static bool comes_with_parent(const mod_table *table, const json_t *known)
{
    return known && ((table->implicit && table->implicit(known)) ||
                     (table->with_parent && table->with_parent(known)));
}

/* Whether the parent (parent_ref) of a child in known state known held a
 * resource at the commit point (fold: {table: {id: image | null}}), or is
 * itself made with a parent that did (a main route table's local route,
 * whose table came with its VPC). */
static bool parent_at(jnl_txn *t, const mod_table *table, const json_t *known, const json_t *fold,
                      int depth)
{
    const mod_column *c = table->parent_ref ? mod_column_find(table, table->parent_ref) : NULL;
    const json_t *v = c ? json_object_get(known, c->name) : NULL;
    if (!c || !c->ref || !json_is_integer(v) || depth > 4)
        return false;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(v));
    if (json_is_string(json_object_get(json_object_get(fold, c->ref), id)))
        return true;
    const mod_table *pt = mod_find_table(c->ref, NULL);
    json_t *pknown = NULL;
    cm_err err = {0};
    if (!pt || jnl_state_image(t, c->ref, (uint64_t)json_integer_value(v), &pknown, &err))
        return false;
    bool at = comes_with_parent(pt, pknown) && parent_at(t, pt, pknown, fold, depth + 1);
    json_decref(pknown);
    return at;
}

static int plan_table(jnl_txn *t, restore_set *s, const mod_table *table, json_t *at,
                      const json_t *fold, uint64_t commit_id, cm_err *err)
{
    jnl_res *now = NULL;
    size_t n = 0;
    int rc = jnl_idx_list(t, JNL_IDX_STATE, table->name, &now, &n, err);
    json_t *ids = json_object(); /* every row id in either state */
    const char *id;
    json_t *v;
    json_object_foreach(at, id, v) json_object_set(ids, id, json_true());
    for (size_t i = 0; i < n; i++) {
        char k[24];
        snprintf(k, sizeof k, "%llu", (unsigned long long)now[i].row_id);
        json_object_set(ids, k, json_true());
    }
    jnl_res_free(now, n);
    json_object_foreach(rc ? NULL : ids, id, v)
    {
        uint64_t row_id = strtoull(id, NULL, 10);
        json_t *target = NULL, *known = NULL, *cur = NULL, *last = NULL;
        json_t *txt = json_object_get(at, id);
        if (txt && json_is_string(txt))
            rc = cm_json_parse(&target, json_string_value(txt), json_string_length(txt), err);
        if (!rc)
            rc = jnl_state_image(t, table->name, row_id, &known, err);
        if (!rc)
            rc = row_now(t, table->name, row_id, &cur, &last, err);
        /* What AWS made with its parent (a VPC's default group and main
         * route table, a group's own egress rule) was there at N too if its
         * parent was, whether or not a sync had taken it in by then: it
         * stays. If its parent was not, it goes, with its parent. */
        bool with_parent =
            !target && comes_with_parent(table, known) && parent_at(t, table, known, fold, 0);
        if (!rc)
            rc = secret_refusal(table, row_id, target, known, commit_id, err);
        if (!rc && !with_parent)
            rc = plan_row(s, table, row_id, cur, last, target, !known, err);
        json_decref(target);
        json_decref(known);
        json_decref(cur);
        json_decref(last);
        if (rc)
            break;
    }
    json_decref(ids);
    return rc;
}

static int plan_rollback(jnl *j, uint64_t commit_id, restore_set *s, cm_err *err)
{
    jnl_txn *t;
    int rc = jnl_txn_begin(j, false, &t, err);
    if (rc)
        return rc;
    jnl_commit c, last = {0};
    rc = jnl_commit_get(t, commit_id, &c, err);
    if (rc == CM_ENOTFOUND) {
        int r2 = jnl_commit_last(t, &last, err);
        if (r2 == CM_ENOTFOUND)
            rc = cm_err_set(err, CM_ENOTFOUND,
                            "there is no commit point %llu: nothing has been committed yet",
                            (unsigned long long)commit_id);
        else
            rc = cm_err_set(err, CM_ENOTFOUND,
                            "there is no commit point %llu: commit points run from 1 to %llu",
                            (unsigned long long)commit_id, (unsigned long long)last.id);
    }
    fold f = {.tables = json_object()};
    cm_buf_init(&f.crossed, 4096);
    if (!rc)
        rc = fold_to(t, c.last_seq, &f, err);
    if (!rc && f.ncrossed)
        rc = cm_err_set(err, CM_EINVAL,
                        "cannot roll back to commit %llu: %s came after it, and a rollback "
                        "does not install or uninstall modules",
                        (unsigned long long)commit_id, cm_buf_str(&f.crossed));
    const mod_table *tables[MAX_TABLES];
    int nt = mod_all_tables(tables, NULL, MAX_TABLES);
    for (int k = 0; !rc && k < nt; k++) {
        /* A table that held nothing at N still has to lose what was made
         * in it since. */
        json_t *at = json_object_get(f.tables, tables[k]->name);
        if (tables[k]->ops)
            rc = plan_table(t, s, tables[k], at, f.tables, commit_id, err);
    }
    json_decref(f.tables);
    cm_buf_free(&f.crossed);
    jnl_txn_abort(t);
    return rc;
}

int apl_rollback_prepare(jnl *j, PGconn *conn, uint64_t commit_id, size_t *changed, cm_err *err)
{
    *changed = 0;
    size_t pending = 0;
    cm_buf names;
    cm_buf_init(&names, 4096);
    int rc = pending_count(j, &pending, &names, err);
    if (!rc && pending)
        rc = cm_err_set(err, CM_EBUSY,
                        "cannot roll back to commit %llu: %zu changes are pending (%s%s); "
                        "commit them, or discard them with iasql_rollback(), first",
                        (unsigned long long)commit_id, pending, cm_buf_str(&names),
                        pending > 3 ? ", ..." : "");
    cm_buf_free(&names);
    restore_set s = {0};
    if (!rc)
        rc = plan_rollback(j, commit_id, &s, err);
    if (!rc)
        rc = mark_restores(j, &s, err);
    if (!rc)
        rc = write_restores(conn, &s, err);
    if (!rc)
        *changed = s.n;
    set_free(&s);
    return rc;
}
