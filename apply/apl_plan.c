/* apply/apl_plan.c — folding and planning. The net change of a resource is
 * the difference between its last known cloud image and its newest row
 * image, so any number of pending events fold into one action, a change
 * undone before commit folds into none, and a failed action is retried by
 * the next commit. Reads the journal (and, for owners, iasql_foreign_owner);
 * never the cloud. */
#include "apply/apl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"

const char *apl_action_name(apl_action a)
{
    static const char *const names[] = {"none", "create", "update", "replace", "delete"};
    return a <= APL_DELETE ? names[a] : "?";
}

static json_t *col_value(const json_t *img, const char *name)
{
    json_t *v = json_object_get(img, name);
    return v ? v : json_null();
}

apl_action apl_decide(const mod_table *t, const json_t *known, const json_t *desired,
                      cm_buf *changed)
{
    if (!known && !desired)
        return APL_NONE;
    if (!known)
        return APL_CREATE;
    if (!desired)
        return APL_DELETE;
    apl_action a = APL_NONE;
    for (const mod_column *c = t->columns; c->name; c++) {
        if (c->flags & MOD_COL_CLOUD_OWNED)
            continue;
        if (json_equal(col_value(known, c->name), col_value(desired, c->name)))
            continue;
        if (changed)
            cm_buf_printf(changed, "%s%s", changed->len ? ", " : "", c->name);
        if (c->flags & (MOD_COL_CLOUD_ID | MOD_COL_IMMUTABLE))
            a = APL_REPLACE;
        else if (a == APL_NONE)
            a = APL_UPDATE;
    }
    return a;
}

static int parse_image(jnl_str s, json_t **out, cm_err *err)
{
    *out = NULL;
    if (!s.ptr)
        return 0;
    return cm_json_parse(out, s.ptr, s.len, err);
}

/* Execution rank: deletes first, children first; then the rest, parents
 * first. Table rank is the position in the registry (parents come first). */
static int table_rank(const mod_table *t)
{
    int rank = 0;
    const mod_module *const *reg = mod_registry();
    for (int i = 0; reg[i]; i++)
        for (int k = 0; reg[i]->tables[k]; k++, rank++)
            if (reg[i]->tables[k] == t)
                return rank;
    return rank;
}

static int item_key(const apl_item *it)
{
    int rank = table_rank(it->table);
    return it->action == APL_DELETE ? -1000000 - rank : rank;
}

static int item_cmp(const void *a, const void *b)
{
    const apl_item *x = a, *y = b;
    int kx = item_key(x), ky = item_key(y);
    if (kx != ky)
        return kx < ky ? -1 : 1;
    return x->row_id < y->row_id ? -1 : x->row_id > y->row_id;
}

static int plan_one(jnl_txn *t, apl_plan *p, const jnl_res *r, cm_err *err)
{
    const mod_table *table = mod_find_table(r->table, NULL);
    if (!table || !table->ops) /* a table no longer offered, or local */
        return 0;
    uint64_t latest;
    jnl_rec ev;
    int rc = jnl_idx_get_seq(t, JNL_IDX_LATEST, r->table, r->row_id, &latest, err);
    if (!rc)
        rc = jnl_get(t, latest, &ev, err);
    if (rc)
        return cm_err_wrap(err, "%s row %llu", r->table, (unsigned long long)r->row_id);
    apl_item it = {.table = table, .row_id = r->row_id, .dirty_seq = r->seq};
    rc = jnl_state_image(t, r->table, r->row_id, &it.known, err);
    if (!rc)
        rc = parse_image(ev.op == JNL_OP_DELETE ? (jnl_str){NULL, 0} : ev.b, &it.desired, err);
    if (rc) {
        json_decref(it.known);
        return cm_err_wrap(err, "%s row %llu", r->table, (unsigned long long)r->row_id);
    }
    cm_buf changed;
    cm_buf_init(&changed, sizeof it.changed - 1);
    it.action = apl_decide(table, it.known, it.desired, &changed);
    snprintf(it.changed, sizeof it.changed, "%s", cm_buf_str(&changed));
    cm_buf_free(&changed);
    p->items[p->n++] = it;
    if (it.action == APL_NONE)
        p->settled++;
    return 0;
}

static void note_changed(apl_item *it, const char *col, const char *parent)
{
    size_t len = strlen(it->changed);
    snprintf(it->changed + len, sizeof it->changed - len, "%s%s (its %s is replaced)",
             len ? ", " : "", col, parent);
}

/* A resource that refers to a replaced one through column c must follow
 * it: replaced when c cannot change in place, else updated. */
static int follow_parent(jnl_txn *t, apl_plan *p, size_t *cap, const mod_table *ct,
                         const mod_column *c, uint64_t row_id, json_t *state, cm_err *err)
{
    apl_action a = (c->flags & MOD_COL_IMMUTABLE) ? APL_REPLACE : APL_UPDATE;
    long k = apl_plan_find(p, ct->name, row_id);
    if (k >= 0) {
        apl_item *it = &p->items[k];
        if (it->action == APL_NONE)
            p->settled--;
        if (it->action == APL_NONE || (it->action == APL_UPDATE && a == APL_REPLACE)) {
            it->action = a;
            note_changed(it, c->name, c->ref);
        }
        json_decref(state);
        return 0;
    }
    json_t *desired;
    int rc = jnl_latest_image(t, ct->name, row_id, &desired, err);
    if (rc || !desired) { /* its row is gone: the database's foreign key deletes it */
        json_decref(state);
        return rc;
    }
    if (p->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        apl_item *items = realloc(p->items, ncap * sizeof *items);
        if (!items) {
            json_decref(state);
            json_decref(desired);
            return cm_err_set(err, CM_ENOMEM, "out of memory");
        }
        p->items = items;
        *cap = ncap;
    }
    apl_item it = {.table = ct, .row_id = row_id, .action = a, .known = state, .desired = desired};
    note_changed(&it, c->name, c->ref);
    p->items[p->n++] = it;
    apl_plan_index(p);
    return 0;
}

/* Adds to the plan, transitively, the resources that refer to a replaced
 * one (from their known cloud state). */
static int add_followers(jnl_txn *t, apl_plan *p, size_t *cap, cm_err *err)
{
    const mod_table *tables[256];
    int nt = mod_all_tables(tables, NULL, 256);
    int rc = 0;
    apl_plan_index(p);
    for (size_t i = 0; !rc && i < p->n; i++) {
        if (p->items[i].action != APL_REPLACE)
            continue;
        const char *parent = p->items[i].table->name;
        uint64_t pid = p->items[i].row_id;
        for (int k = 0; !rc && k < nt; k++) {
            for (const mod_column *c = tables[k]->columns; !rc && c->name; c++) {
                if (!c->ref || strcmp(c->ref, parent) != 0 || !tables[k]->ops)
                    continue;
                jnl_res *res = NULL;
                size_t n = 0;
                rc = jnl_idx_list(t, JNL_IDX_STATE, tables[k]->name, &res, &n, err);
                for (size_t r = 0; !rc && r < n; r++) {
                    json_t *state;
                    rc = jnl_state_image(t, tables[k]->name, res[r].row_id, &state, err);
                    if (!rc && state && apl_refers_to(c, state, pid))
                        rc = follow_parent(t, p, cap, tables[k], c, res[r].row_id, state, err);
                    else
                        json_decref(state);
                }
                jnl_res_free(res, n);
            }
        }
    }
    return rc;
}

int apl_plan_build(jnl *j, apl_plan **out, cm_err *err)
{
    *out = NULL;
    apl_plan *p = calloc(1, sizeof *p);
    if (!p)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    jnl_txn *t;
    int rc = jnl_txn_begin(j, false, &t, err);
    if (rc) {
        free(p);
        return rc;
    }
    jnl_res *dirty = NULL;
    size_t n = 0;
    rc = jnl_idx_list(t, JNL_IDX_DIRTY, NULL, &dirty, &n, err);
    if (!rc)
        rc = jnl_last_seq(t, &p->barrier_seq, err);
    if (!rc && n && !(p->items = calloc(n, sizeof *p->items)))
        rc = cm_err_set(err, CM_ENOMEM, "out of memory planning %zu resources", n);
    for (size_t i = 0; !rc && i < n; i++)
        rc = plan_one(t, p, &dirty[i], err);
    jnl_res_free(dirty, n);
    size_t cap = n;
    if (!rc)
        rc = add_followers(t, p, &cap, err);
    jnl_txn_abort(t);
    if (rc) {
        apl_plan_free(p);
        return rc;
    }
    if (p->n)
        qsort(p->items, p->n, sizeof *p->items, item_cmp);
    apl_plan_index(p);
    *out = p;
    return 0;
}

void apl_plan_free(apl_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        json_decref(p->items[i].known);
        json_decref(p->items[i].desired);
    }
    free(p->items);
    json_decref(p->index);
    free(p);
}

void apl_plan_keep(apl_plan *p, const bool *keep)
{
    size_t n = 0;
    p->settled = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (!keep[i]) {
            json_decref(p->items[i].known);
            json_decref(p->items[i].desired);
            continue;
        }
        p->items[n] = p->items[i];
        if (p->items[n].action == APL_NONE)
            p->settled++;
        n++;
    }
    p->n = n;
    apl_plan_index(p);
}

void apl_describe_item(const apl_item *it, const json_t *after, cm_buf *d)
{
    if (after) {
        mod_describe_row(it->table, it->row_id, after, d);
        return;
    }
    if ((it->action == APL_CREATE || it->action == APL_REPLACE) && it->desired) {
        /* The row may still hold the ids of a resource that is gone: the
         * new one's are not known yet. */
        json_t *img = json_deep_copy(it->desired);
        for (const mod_column *c = it->table->columns; img && c->name; c++)
            if (c->flags & MOD_COL_CLOUD_OWNED)
                json_object_del(img, c->name);
        mod_describe_row(it->table, it->row_id, img, d);
        json_decref(img);
        return;
    }
    mod_describe_row(it->table, it->row_id, it->known ? it->known : it->desired, d);
}

static const char *const plan_verbs[] = {"", "will create", "will update", "will replace",
                                         "will delete"};

json_t *apl_plan_rows(const apl_plan *p)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < p->n; i++) {
        const apl_item *it = &p->items[i];
        if (it->action == APL_NONE)
            continue;
        cm_buf d;
        cm_buf_init(&d, 4096);
        cm_buf_printf(&d, "%s ", plan_verbs[it->action]);
        apl_describe_item(it, NULL, &d);
        if (it->changed[0] && it->action != APL_CREATE && it->action != APL_DELETE)
            cm_buf_printf(&d, ": %s changed", it->changed);
        if (it->owner[0] && it->action != APL_CREATE) {
            char why[512];
            apl_foreign_message(why, sizeof why, it->owner);
            cm_buf_printf(&d, "; %s", why);
        }
        json_array_append_new(rows, json_pack("{s:s, s:s, s:I, s:s}", "action",
                                              apl_action_name(it->action), "table_name",
                                              it->table->name, "id", (json_int_t)it->row_id,
                                              "description", cm_buf_str(&d)));
        cm_buf_free(&d);
    }
    return rows;
}

void apl_foreign_message(char *out, size_t size, const char *owner)
{
    snprintf(out, size,
             "not applied: the resource is tagged " MOD_OWNER_TAG "=%s, so iasql database %s "
             "made it and manages it; change it there, or remove that tag in the cloud to "
             "manage it here",
             owner, owner);
}

int apl_plan_owners(PGconn *conn, apl_plan *p, cm_err *err)
{
    json_t *keys = json_array();
    for (size_t i = 0; i < p->n; i++) {
        const apl_item *it = &p->items[i];
        if (it->known && it->action != APL_NONE && it->action != APL_CREATE)
            json_array_append_new(keys,
                                  json_pack("[s, I]", it->table->name, (json_int_t)it->row_id));
    }
    char *txt = json_array_size(keys) ? cm_json_dump(keys) : NULL;
    json_decref(keys);
    if (!txt)
        return 0;
    PGresult *res = NULL;
    const char *prm[] = {txt};
    int rc = cm_pg_exec(conn, &res, err,
                        "SELECT f.table_name, f.row_id, f.owner FROM iasql_foreign_owner f "
                        "JOIN json_array_elements($1::json) k ON f.table_name = k->>0 "
                        "AND f.row_id = (k->>1)::bigint",
                        1, prm);
    free(txt);
    for (int r = 0; !rc && r < PQntuples(res); r++) {
        long i = apl_plan_find(p, PQgetvalue(res, r, 0), strtoull(PQgetvalue(res, r, 1), NULL, 10));
        if (i >= 0)
            snprintf(p->items[i].owner, sizeof p->items[i].owner, "%s", PQgetvalue(res, r, 2));
    }
    PQclear(res);
    return rc;
}

size_t apl_plan_actions(const apl_plan *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += p->items[i].action != APL_NONE;
    return n;
}
