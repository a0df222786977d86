/* apply/apl_recover.c — after a crash, before anything else: the commit
 * whose intents are in the journal but whose commit point is not is
 * finished on paper. Each intent without a result is settled by reading the
 * resource from the cloud by its cloud id; an intent with a result keeps it.
 * Nothing is created, updated or deleted here: rows not finished stay
 * pending and the next commit does exactly what is missing, so a crash never
 * repeats an action and never loses one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/apl_int.h"
#include "common/cm_json.h"

#define RECOVERED_MESSAGE                                                                          \
    "interrupted (the engine stopped, or lost its database connection); settled from the cloud "   \
    "when it came back"

typedef struct scan {
    uint64_t commit_id; /* the interrupted commit, 0 if none */
    uint64_t first_seq; /* its first intent */
    apl_plan *plan;
    outcome *os;
    bool *has_result;
    size_t cap;
} scan;

static int parse_opt(jnl_str s, json_t **out, cm_err *err)
{
    *out = NULL;
    return s.ptr ? cm_json_parse(out, s.ptr, s.len, err) : 0;
}

static int grow(scan *sc)
{
    if (sc->plan->n < sc->cap)
        return 0;
    size_t cap = sc->cap ? sc->cap * 2 : 64;
    apl_item *items = realloc(sc->plan->items, cap * sizeof *items);
    if (items)
        sc->plan->items = items;
    outcome *os = realloc(sc->os, cap * sizeof *os);
    if (os)
        sc->os = os;
    bool *hr = realloc(sc->has_result, cap * sizeof *hr);
    if (hr)
        sc->has_result = hr;
    if (!items || !os || !hr)
        return CM_ENOMEM;
    sc->cap = cap;
    return 0;
}

static int add_intent(scan *sc, jnl_txn *t, uint64_t seq, const jnl_rec *r, cm_err *err)
{
    char table[256];
    snprintf(table, sizeof table, "%.*s", (int)r->table.len, r->table.ptr);
    const mod_table *mt = mod_find_table(table, NULL);
    if (!mt || !mt->ops)
        return 0;
    if (grow(sc))
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    if (!sc->first_seq)
        sc->first_seq = seq;
    size_t i = sc->plan->n;
    apl_item *it = &sc->plan->items[i];
    memset(it, 0, sizeof *it);
    memset(&sc->os[i], 0, sizeof sc->os[i]);
    sc->has_result[i] = false;
    it->table = mt;
    it->row_id = r->row_id;
    it->action = (apl_action)r->action;
    snprintf(it->token, sizeof it->token, "%.*s", (int)r->a.len, r->a.ptr ? r->a.ptr : "");
    int rc = jnl_state_image(t, table, r->row_id, &it->known, err);
    if (!rc)
        rc = parse_opt(r->b, &it->desired, err);
    sc->plan->n++;
    return rc;
}

static void add_result(scan *sc, uint64_t seq, const jnl_rec *r, cm_err *err)
{
    for (size_t i = 0; i < sc->plan->n; i++) {
        apl_item *it = &sc->plan->items[i];
        if (it->row_id != r->row_id || strlen(it->table->name) != r->table.len ||
            memcmp(it->table->name, r->table.ptr, r->table.len) != 0)
            continue;
        outcome *o = &sc->os[i];
        sc->has_result[i] = true;
        o->ok = r->ok;
        o->result_seq = seq;
        parse_opt(r->a, &o->image, err);
        o->gone = o->ok && !o->image && (it->action == APL_DELETE);
        if (r->b.ptr)
            snprintf(o->error, sizeof o->error, "%.*s", (int)r->b.len, r->b.ptr);
        return;
    }
}

/* Collects the intents and results of the commit after the last commit point. */
static int scan_open_commit(jnl *j, scan *sc, cm_err *err)
{
    jnl_txn *t;
    int rc = jnl_txn_begin(j, false, &t, err);
    if (rc)
        return rc;
    jnl_commit last = {0};
    rc = jnl_commit_last(t, &last, err);
    if (rc == CM_ENOTFOUND) {
        memset(&last, 0, sizeof last);
        rc = 0;
    }
    jnl_cursor *c = NULL;
    if (!rc)
        rc = jnl_cursor_open(t, last.last_seq + 1, &c, err);
    uint64_t seq;
    jnl_rec r;
    while (!rc && (rc = jnl_cursor_next(c, &seq, &r, err)) == 1) {
        rc = 0;
        if (r.type == JNL_REC_INTENT && r.commit_id > last.id &&
            (!sc->commit_id || r.commit_id == sc->commit_id)) {
            sc->commit_id = r.commit_id;
            rc = add_intent(sc, t, seq, &r, err);
        } else if (r.type == JNL_REC_RESULT && sc->commit_id && r.commit_id == sc->commit_id) {
            add_result(sc, seq, &r, err);
        }
    }
    jnl_cursor_free(c);
    jnl_txn_abort(t);
    return rc < 0 ? rc : 0;
}

/* Reads one image's resource, references resolved from the known states;
 * the answer keeps the row ids of image. */
static int read_as_row(jnl *j, mod_ctx *ctx, const apl_item *it, const json_t *image,
                       json_t **found, cm_err *err)
{
    json_t *probe;
    char why[APL_ERROR_SIZE];
    *found = NULL;
    if (apl_resolve(j, NULL, NULL, it->table, image, true, &probe, why, sizeof why))
        return cm_err_set(err, CM_EINVAL, "%s", why);
    mod_ctx_set_token(ctx, it->token[0] ? it->token : NULL);
    int rc = it->table->ops->read(ctx, probe, found, err);
    mod_ctx_set_token(ctx, NULL);
    json_decref(probe);
    if (!rc)
        apl_unresolve(it->table, image, *found);
    return rc;
}

int apl_read_known(jnl *j, mod_ctx *ctx, const mod_table *t, uint64_t row_id, const json_t *known,
                   const char *token, json_t **found, cm_err *err)
{
    apl_item it = {.table = t, .row_id = row_id};
    snprintf(it.token, sizeof it.token, "%s", token ? token : "");
    return read_as_row(j, ctx, &it, known, found, err);
}

/* Reads what the cloud holds for an intent whose outcome is unknown. */
static int settle(jnl *j, mod_ctx *ctx, const apl_item *it, outcome *o, cm_err *err)
{
    json_t *found = NULL;
    const json_t *probe = it->desired ? it->desired : it->known;
    int rc = probe ? read_as_row(j, ctx, it, probe, &found, err) : CM_ENOTFOUND;
    if (rc == CM_ENOTFOUND && it->action == APL_REPLACE && it->known) {
        cm_err_clear(err); /* the old one may still be there */
        rc = read_as_row(j, ctx, it, it->known, &found, err);
    }
    if (rc && rc != CM_ENOTFOUND)
        return cm_err_wrap(err, "settling %s %llu", it->table->name,
                           (unsigned long long)it->row_id);
    cm_err_clear(err);
    if (it->action == APL_DELETE)
        o->ok = found == NULL;
    else
        o->ok = found && apl_decide(it->table, found, it->desired, NULL) == APL_NONE;
    o->gone = found == NULL;
    o->image = found;
    if (!o->ok)
        snprintf(o->error, sizeof o->error, "%s", RECOVERED_MESSAGE);
    return 0;
}

static void scan_free(scan *sc)
{
    if (sc->plan) {
        for (size_t i = 0; i < sc->plan->n; i++)
            json_decref(sc->os[i].image);
        apl_plan_free(sc->plan);
    }
    free(sc->os);
    free(sc->has_result);
}

int apl_recover(jnl *j, PGconn *conn, mod_ctx *ctx, size_t *settled, cm_err *err)
{
    *settled = 0;
    scan sc = {0};
    sc.plan = calloc(1, sizeof *sc.plan);
    if (!sc.plan)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    int rc = scan_open_commit(j, &sc, err);
    if (!rc && sc.commit_id) {
        sc.plan->barrier_seq = sc.first_seq - 1;
        apl_plan_index(sc.plan);
        cm_log(CM_LOG_WARN, "commit %llu was interrupted: settling %zu actions from the cloud",
               (unsigned long long)sc.commit_id, sc.plan->n);
    }
    for (size_t i = 0; !rc && i < sc.plan->n; i++) {
        if (sc.has_result[i])
            continue;
        rc = settle(j, ctx, &sc.plan->items[i], &sc.os[i], err);
        if (!rc)
            rc = apl_write_result(j, sc.commit_id, sc.plan->barrier_seq, &sc.plan->items[i],
                                  &sc.os[i], err);
        if (!rc)
            (*settled)++;
    }
    if (!rc && sc.commit_id)
        rc = apl_fill_owned(j, ctx, sc.commit_id, sc.plan, sc.os, err);
    if (!rc && sc.commit_id) {
        apl_commit_info info;
        memset(&info, 0, sizeof info);
        info.rows = json_array();
        rc = apl_record_commit(j, conn, sc.plan, sc.os, sc.commit_id, sc.first_seq,
                               RECOVERED_MESSAGE, &info, err);
        json_decref(info.rows);
    }
    scan_free(&sc);
    if (rc)
        cm_err_wrap(err, "settling an interrupted commit");
    return rc;
}
