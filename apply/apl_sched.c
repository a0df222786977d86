/* apply/apl_sched.c — runs a plan as a graph. Every action is one or two
 * nodes: a delete half (delete, or the first half of a replace) and a put
 * half (create, update, or the second half of a replace; the first, for a
 * table whose replace makes the new one first). References give the
 * edges: a put waits for the puts of what it refers to, a delete waits
 * for the deletes (or the moving away) of what refers to it. Ready nodes
 * run on a pool of threads, each with its own AWS client, at most
 * apl_set_parallel's limit per service; the main thread alone touches the
 * journal and the database, so they see one writer as before. A failed
 * node fails the nodes that wait for it, without a call. A table whose
 * module takes several changes in one call (mod_table_ops.batch) gets its
 * nodes that are ready together as one job, which holds one slot. See
 * docs/decisions.md (why threads rather than one curl multi handle). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/apl_int.h"

#define POOL_MAX 32

static int parallel_per_service = 8;

void apl_set_parallel(int per_service)
{
    if (per_service >= 1 && per_service <= POOL_MAX)
        parallel_per_service = per_service;
}

enum { N_WAIT, N_RUN, N_OK, N_FAILED };
enum { J_REMOVE, J_CREATE, J_UPDATE };

typedef struct node {
    size_t item;
    bool del;
    bool with_parent; /* an implicit resource AWS deletes with its parent */
    int state;
    size_t *deps;
    size_t ndeps, cap;
} node;

typedef struct job {
    size_t node;
    int kind;
    const mod_table *table;
    json_t *known;   /* resolved */
    json_t *desired; /* resolved, secrets revealed */
    json_t *clear;   /* the revealed copy, to scrub errors with */
    const char *token;
    int rc;
    json_t *image;
    char error[APL_ERROR_SIZE];
    struct job *next;
    struct job *batch; /* the other jobs of a batch, run with this one (its leader) */
} job;

typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    job *queue, *queue_tail, *finished;
    bool stop;
} pool;

typedef struct worker {
    pool *pl;
    mod_ctx *ctx;
    pthread_t th;
} worker;

static void run_job(mod_ctx *ctx, job *jb)
{
    const mod_table_ops *ops = jb->table->ops;
    cm_err err = {0};
    cm_err_clear(&err);
    mod_ctx_set_token(ctx, jb->token);
    /* A table whose list does not show owners: ask before changing. */
    if (jb->kind != J_CREATE && ops->owner) {
        char who[64];
        const char *self = mod_ctx_owner(ctx);
        jb->rc = ops->owner(ctx, jb->known, who, sizeof who, &err);
        if (!jb->rc && who[0] && self && strcmp(who, self) != 0) {
            apl_foreign_message(jb->error, sizeof jb->error, who);
            jb->rc = CM_EBUSY;
            mod_ctx_set_token(ctx, NULL);
            return;
        }
    }
    switch (jb->rc ? -1 : jb->kind) {
    case -1:
        break;
    case J_REMOVE:
        jb->rc = ops->remove(ctx, jb->known, &err);
        break;
    case J_CREATE:
        jb->rc = ops->create(ctx, jb->desired, &jb->image, &err);
        break;
    default:
        jb->rc = ops->update(ctx, jb->known, jb->desired, &jb->image, &err);
        break;
    }
    mod_ctx_set_token(ctx, NULL);
    if (jb->rc)
        snprintf(jb->error, sizeof jb->error, "%s", err.msg);
}

static const mod_change_kind change_kind[] = {
    [J_REMOVE] = MOD_CHANGE_REMOVE, [J_CREATE] = MOD_CHANGE_CREATE, [J_UPDATE] = MOD_CHANGE_UPDATE};

/* A leader and its batch through the module's batch op: each job gets its
 * change's outcome. */
static void run_batch(mod_ctx *ctx, job *leader)
{
    size_t n = 0;
    for (job *jb = leader; jb; jb = jb->batch)
        n++;
    mod_change *ch = calloc(n, sizeof *ch);
    if (!ch) {
        for (job *jb = leader; jb; jb = jb->batch) {
            jb->rc = CM_ENOMEM;
            snprintf(jb->error, sizeof jb->error, "out of memory");
        }
        return;
    }
    size_t i = 0;
    for (job *jb = leader; jb; jb = jb->batch, i++)
        ch[i] = (mod_change){.kind = change_kind[jb->kind],
                             .known = jb->known,
                             .desired = jb->desired,
                             .token = jb->token};
    leader->table->ops->batch(ctx, ch, n);
    i = 0;
    for (job *jb = leader; jb; jb = jb->batch, i++) {
        jb->rc = ch[i].rc;
        jb->image = ch[i].out;
        if (jb->rc)
            snprintf(jb->error, sizeof jb->error, "%s", ch[i].err.msg);
        else if (jb->kind != J_REMOVE && !jb->image) {
            jb->rc = CM_EBADREPLY;
            snprintf(jb->error, sizeof jb->error, "%s's batch gave no image", jb->table->name);
        }
    }
    free(ch);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    pool *pl = w->pl;
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        while (!pl->queue && !pl->stop)
            pthread_cond_wait(&pl->work, &pl->mu);
        if (!pl->queue)
            break;
        job *jb = pl->queue;
        pl->queue = jb->next;
        if (!pl->queue)
            pl->queue_tail = NULL;
        pthread_mutex_unlock(&pl->mu);
        if (jb->batch)
            run_batch(w->ctx, jb);
        else
            run_job(w->ctx, jb);
        pthread_mutex_lock(&pl->mu);
        jb->next = pl->finished;
        pl->finished = jb;
        pthread_cond_signal(&pl->done);
    }
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

typedef struct sched {
    jnl *j;
    PGconn *conn;
    apl_plan *p;
    outcome *os;
    uint64_t commit_id;
    node *nodes;
    size_t nn;
    long *del_node, *put_node; /* per item, -1 when none */
    bool *written;             /* per item: its result is journaled */
    const char **svc;          /* per node: the service */
    const char **svc_names;    /* the distinct services, at most one per node */
    int *svc_running;          /* per service: its actions running now */
    int nsvc;
    size_t ended;   /* actions whose result is journaled */
    size_t actions; /* actions of the plan (apl_plan_actions) */
} sched;

static int add_dep(node *n, size_t dep)
{
    for (size_t i = 0; i < n->ndeps; i++)
        if (n->deps[i] == dep)
            return 0;
    if (n->ndeps == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 4;
        size_t *d = realloc(n->deps, cap * sizeof *d);
        if (!d)
            return CM_ENOMEM;
        n->deps = d;
        n->cap = cap;
    }
    n->deps[n->ndeps++] = dep;
    return 0;
}

static bool has_del(apl_action a)
{
    return a == APL_DELETE || a == APL_REPLACE;
}

static bool has_put(apl_action a)
{
    return a == APL_CREATE || a == APL_UPDATE || a == APL_REPLACE;
}

/* The item a reference value points at, or -1. */
static long ref_item(const apl_plan *p, const mod_column *c, const json_t *v)
{
    return json_is_integer(v) ? apl_plan_find(p, c->ref, (uint64_t)json_integer_value(v)) : -1;
}

/* Calls fn for every item the reference column c of img points at. */
static int each_ref(sched *s, const mod_column *c, const json_t *img, size_t self,
                    int (*fn)(sched *s, const mod_column *c, size_t self, size_t parent))
{
    json_t *v = json_object_get(img, c->name);
    int rc = 0;
    if (json_is_array(v)) {
        size_t k;
        json_t *e;
        json_array_foreach(v, k, e)
        {
            long i = ref_item(s->p, c, e);
            if (i >= 0 && !rc)
                rc = fn(s, c, self, (size_t)i);
        }
    } else {
        long i = ref_item(s->p, c, v);
        if (i >= 0)
            rc = fn(s, c, self, (size_t)i);
    }
    return rc;
}

/* My put waits for the put of what I refer to. */
static int edge_put(sched *s, const mod_column *c, size_t self, size_t parent)
{
    (void)c;
    if (s->put_node[parent] < 0 || s->put_node[self] < 0)
        return 0;
    return add_dep(&s->nodes[s->put_node[self]], (size_t)s->put_node[parent]);
}

/* The delete of what I referred to waits for my delete, or for my update
 * that points me elsewhere; not for that update where the cloud lets the
 * reference dangle (MOD_COL_MAY_DANGLE), so that a replace that deletes
 * first goes before the update that points me at the new one. */
static int edge_del(sched *s, const mod_column *c, size_t self, size_t parent)
{
    if (s->del_node[parent] < 0)
        return 0;
    node *pn = &s->nodes[s->del_node[parent]];
    long mine = s->del_node[self] >= 0 ? s->del_node[self] : s->put_node[self];
    if (mine < 0 || s->nodes[mine].with_parent ||
        (s->del_node[self] < 0 && (c->flags & MOD_COL_MAY_DANGLE)))
        return 0;
    return add_dep(pn, (size_t)mine);
}

/* A table's module and its position there (the coarse order for tables
 * that name each other without a reference column). */
typedef struct table_pos {
    const mod_module *module;
    int pos;
} table_pos;

static table_pos position_of(const mod_table *t)
{
    table_pos tp = {NULL, 0};
    mod_find_table(t->name, &tp.module);
    while (tp.module && tp.module->tables[tp.pos] && tp.module->tables[tp.pos] != t)
        tp.pos++;
    return tp;
}

/* The identity a user gives a resource in table t: its user-set cloud-id
 * columns (a queue's or topic's name) and its unique ones (a security
 * group's name, with its VPC), with its region, as one key; false when the
 * cloud names it alone (an EC2 id). */
static bool identity_key(const mod_table *t, const json_t *img, cm_buf *key)
{
    bool any = false, unique = false;
    for (const mod_column *c = t->columns; c->name; c++)
        unique |= (c->flags & MOD_COL_UNIQUE) != 0;
    cm_buf_puts(key, t->name);
    for (const mod_column *c = t->columns; img && c->name; c++) {
        bool id = ((c->flags & MOD_COL_CLOUD_ID) && !(c->flags & MOD_COL_CLOUD_OWNED)) ||
                  (c->flags & MOD_COL_UNIQUE);
        bool scope = strcmp(c->name, "region") == 0 ||
                     (unique && t->parent_ref && strcmp(c->name, t->parent_ref) == 0);
        if (!id && !scope)
            continue;
        char *v =
            json_dumps(json_object_get(img, c->name) ? json_object_get(img, c->name) : json_null(),
                       JSON_ENCODE_ANY | JSON_COMPACT);
        cm_buf_printf(key, "\x1f%s", v ? v : "");
        free(v);
        any |= id;
    }
    return any;
}

/* A put that makes a resource under the name a deleted one had (a rollback
 * bringing back an older row of the same queue or topic) waits for that
 * delete: else the two run at once, and a create that finds the old one
 * still there takes it, just before the delete removes it. */
static int edge_same_identity(sched *s)
{
    apl_plan *p = s->p;
    json_t *deleted = json_object(); /* identity -> item */
    int rc = 0;
    for (size_t i = 0; !rc && i < p->n; i++) {
        if (s->del_node[i] < 0 || !p->items[i].known)
            continue;
        cm_buf key;
        cm_buf_init(&key, 1 << 16);
        if (identity_key(p->items[i].table, p->items[i].known, &key))
            json_object_set_new(deleted, cm_buf_str(&key), json_integer((json_int_t)i));
        cm_buf_free(&key);
    }
    for (size_t i = 0; !rc && json_object_size(deleted) && i < p->n; i++) {
        if (s->put_node[i] < 0 || !p->items[i].desired)
            continue;
        cm_buf key;
        cm_buf_init(&key, 1 << 16);
        json_t *k = identity_key(p->items[i].table, p->items[i].desired, &key)
                        ? json_object_get(deleted, cm_buf_str(&key))
                        : NULL;
        cm_buf_free(&key);
        size_t other = k ? (size_t)json_integer_value(k) : i;
        if (other != i)
            rc = add_dep(&s->nodes[s->put_node[i]], (size_t)s->del_node[other]);
    }
    json_decref(deleted);
    return rc;
}

static int build_graph(sched *s)
{
    apl_plan *p = s->p;
    s->nodes = calloc(2 * p->n + 1, sizeof *s->nodes);
    s->del_node = calloc(p->n + 1, sizeof *s->del_node);
    s->put_node = calloc(p->n + 1, sizeof *s->put_node);
    s->written = calloc(p->n + 1, sizeof *s->written);
    s->svc = calloc(2 * p->n + 1, sizeof *s->svc);
    s->svc_names = calloc(2 * p->n + 1, sizeof *s->svc_names);
    s->svc_running = calloc(2 * p->n + 1, sizeof *s->svc_running);
    if (!s->nodes || !s->del_node || !s->put_node || !s->written || !s->svc || !s->svc_names ||
        !s->svc_running)
        return CM_ENOMEM;
    for (size_t i = 0; i < p->n; i++) {
        apl_item *it = &p->items[i];
        s->del_node[i] = s->put_node[i] = -1;
        const char *svc = it->table->service ? it->table->service : it->table->name;
        if (has_del(it->action)) {
            s->del_node[i] = (long)s->nn;
            s->svc[s->nn] = svc;
            s->nodes[s->nn++] = (node){.item = i, .del = true};
        }
        if (has_put(it->action)) {
            s->put_node[i] = (long)s->nn;
            s->svc[s->nn] = svc;
            s->nodes[s->nn++] = (node){.item = i};
            /* a replace deletes the old one first, unless the table makes
             * the new one first (mod_table.replace_new_first) */
            bool new_first = it->table->replace_new_first;
            if (s->del_node[i] >= 0 &&
                add_dep(&s->nodes[new_first ? s->del_node[i] : s->put_node[i]],
                        (size_t)(new_first ? s->put_node[i] : s->del_node[i])))
                return CM_ENOMEM;
        }
    }
    /* Implicit resources whose parent goes too: deleted by AWS with it. */
    for (size_t i = 0; i < p->n; i++) {
        apl_item *it = &p->items[i];
        if (it->action != APL_DELETE || !it->table->implicit || !it->table->implicit(it->known))
            continue;
        const mod_column *c = mod_column_find(it->table, it->table->parent_ref);
        long par = c ? ref_item(p, c, json_object_get(it->known, c->name)) : -1;
        if (par >= 0 && s->del_node[par] >= 0) {
            node *n = &s->nodes[s->del_node[i]];
            n->with_parent = true;
            if (add_dep(n, (size_t)s->del_node[par]))
                return CM_ENOMEM;
        }
    }
    table_pos *pos = calloc(p->n + 1, sizeof *pos);
    if (!pos)
        return CM_ENOMEM;
    for (size_t i = 0; i < p->n; i++)
        pos[i] = i && p->items[i].table == p->items[i - 1].table ? pos[i - 1]
                                                                 : position_of(p->items[i].table);
    int rc = 0;
    for (size_t i = 0; !rc && i < p->n; i++) {
        apl_item *it = &p->items[i];
        for (const mod_column *c = it->table->columns; !rc && c->name; c++) {
            if (!c->ref)
                continue;
            if (it->desired)
                rc = each_ref(s, c, it->desired, i, edge_put);
            if (!rc && it->known)
                rc = each_ref(s, c, it->known, i, edge_del);
        }
        if (rc || apl_table_has_refs(it->table) || pos[i].pos == 0)
            continue;
        /* No reference columns: the module's earlier tables go first. */
        for (size_t k = 0; !rc && k < p->n; k++) {
            if (!pos[k].module || pos[k].module != pos[i].module || pos[k].pos >= pos[i].pos)
                continue;
            if (s->put_node[i] >= 0 && s->put_node[k] >= 0)
                rc = add_dep(&s->nodes[s->put_node[i]], (size_t)s->put_node[k]);
            if (!rc && s->del_node[i] >= 0 && s->del_node[k] >= 0)
                rc = add_dep(&s->nodes[s->del_node[k]], (size_t)s->del_node[i]);
        }
    }
    free(pos);
    return rc ? rc : edge_same_identity(s);
}

static int *svc_slot(sched *s, const char *svc)
{
    for (int i = 0; i < s->nsvc; i++)
        if (strcmp(s->svc_names[i], svc) == 0)
            return &s->svc_running[i];
    s->svc_names[s->nsvc] = svc; /* sized for a service per node */
    s->svc_running[s->nsvc] = 0;
    return &s->svc_running[s->nsvc++];
}

static apl_progress_fn progress_fn;
static void *progress_arg;

void apl_set_progress(apl_progress_fn fn, void *arg)
{
    progress_fn = fn;
    progress_arg = arg;
}

/* "created bucket 12 (name=logs)", or "failed to create ...: why". */
static void report_progress(sched *s, size_t i)
{
    static const char *const done[] = {NULL, "created", "updated", "replaced", "deleted"};
    static const char *const verb[] = {NULL, "create", "update", "replace", "delete"};
    const apl_item *it = &s->p->items[i];
    const outcome *o = &s->os[i];
    cm_buf d, line;
    cm_buf_init(&d, 4096);
    cm_buf_init(&line, 8192);
    apl_describe_item(it, o->ok ? o->image : NULL, &d);
    int a = it->action >= APL_CREATE && it->action <= APL_DELETE ? (int)it->action : 0;
    if (o->ok)
        cm_buf_printf(&line, "%s %s", a ? done[a] : "applied", cm_buf_str(&d));
    else
        cm_buf_printf(&line, "failed to %s %s: %s", a ? verb[a] : "apply", cm_buf_str(&d),
                      o->error);
    progress_fn(progress_arg, s->ended, s->actions, cm_buf_str(&line), a ? verb[a] : "apply",
                o->ok);
    cm_buf_free(&d);
    cm_buf_free(&line);
}

static int write_item(sched *s, size_t i, cm_err *err)
{
    if (s->written[i])
        return 0;
    s->written[i] = true;
    int rc =
        apl_write_result(s->j, s->commit_id, s->p->barrier_seq, &s->p->items[i], &s->os[i], err);
    if (rc)
        return rc;
    s->ended++;
    if (progress_fn)
        report_progress(s, i);
    if (s->conn)
        apl_db_commit_done(s->conn, s->commit_id, s->ended);
    return rc;
}

/* A node that did not run (or failed): its item's outcome says why. */
static int fail_node(sched *s, size_t n, const char *why, cm_err *err)
{
    node *nd = &s->nodes[n];
    nd->state = N_FAILED;
    apl_item *it = &s->p->items[nd->item];
    outcome *o = &s->os[nd->item];
    if (s->written[nd->item])
        return 0;
    o->ok = false;
    /* a replace whose old resource is deleted and whose new one is not made
     * (made first, the old one is still there) */
    o->gone = !nd->del && it->action == APL_REPLACE && !it->table->replace_new_first;
    if (nd->del && it->action == APL_REPLACE && it->table->replace_new_first &&
        s->nodes[s->put_node[nd->item]].state == N_OK)
        snprintf(o->error, sizeof o->error,
                 "%s; the new one was made beside the old one, which stays: the next commit "
                 "tries again",
                 why);
    else
        snprintf(o->error, sizeof o->error, "%s", why);
    return write_item(s, nd->item, err);
}

static void describe_item(const apl_item *it, char *out, size_t size)
{
    snprintf(out, size, "%s %llu", it->table->name, (unsigned long long)it->row_id);
}

/* Checks a waiting node: 1 ready, 0 not yet, -1 failed (why filled). */
static int node_ready(sched *s, const node *nd, char *why, size_t size)
{
    for (size_t d = 0; d < nd->ndeps; d++) {
        const node *dep = &s->nodes[nd->deps[d]];
        if (dep->state == N_FAILED) {
            char name[300];
            describe_item(&s->p->items[dep->item], name, sizeof name);
            if (dep->item == nd->item)
                snprintf(why, size, "%s", s->os[nd->item].error);
            else if (nd->del && !dep->del)
                snprintf(why, size, "not applied: %s, which referred to it, was not moved", name);
            else if (nd->del && dep->item != nd->item && !nd->with_parent)
                snprintf(why, size, "not deleted: %s, which refers to it, was not deleted", name);
            else
                snprintf(why, size, "not applied: it depends on %s, which failed", name);
            return -1;
        }
        if (dep->state != N_OK)
            return 0;
    }
    return 1;
}

static int prepare_job(sched *s, size_t n, job *jb, cm_err *err)
{
    node *nd = &s->nodes[n];
    apl_item *it = &s->p->items[nd->item];
    memset(jb, 0, sizeof *jb);
    jb->node = n;
    jb->table = it->table;
    jb->token = it->token;
    jb->kind = nd->del ? J_REMOVE : it->action == APL_UPDATE ? J_UPDATE : J_CREATE;
    if (jb->kind != J_CREATE && apl_resolve(s->j, s->p, s->os, it->table, it->known, false,
                                            &jb->known, jb->error, sizeof jb->error))
        return CM_EINVAL;
    if (jb->kind == J_REMOVE)
        return 0;
    int rc = apl_secret_reveal(s->conn, it, &jb->clear, err);
    if (rc)
        return rc;
    if (apl_resolve(s->j, s->p, s->os, it->table, jb->clear ? jb->clear : it->desired, true,
                    &jb->desired, jb->error, sizeof jb->error))
        return CM_EINVAL;
    return 0;
}

static void job_free(job *jb)
{
    while (jb->batch) {
        job *next = jb->batch->batch;
        jb->batch->batch = NULL;
        job_free(jb->batch);
        jb->batch = next;
    }
    json_decref(jb->known);
    json_decref(jb->desired);
    json_decref(jb->clear);
    json_decref(jb->image);
    free(jb);
}

/* The main thread's part of a finished job (a batch's leader holds the
 * slot for all of it). */
static int finish_one(sched *s, job *jb, bool slot, cm_err *err)
{
    node *nd = &s->nodes[jb->node];
    apl_item *it = &s->p->items[nd->item];
    outcome *o = &s->os[nd->item];
    if (slot)
        (*svc_slot(s, s->svc[jb->node]))--;
    if (jb->rc) {
        apl_secret_mask(it, jb->clear, NULL, jb->error);
        return fail_node(s, jb->node, jb->error, err);
    }
    nd->state = N_OK;
    bool new_first = it->action == APL_REPLACE && it->table->replace_new_first;
    if (nd->del) {
        if (new_first) /* the new one was made: the replace is done */
            return write_item(s, nd->item, err);
        if (it->action != APL_DELETE)
            return 0; /* the put half follows */
        o->ok = o->gone = true;
        return write_item(s, nd->item, err);
    }
    o->ok = true;
    o->image = jb->image;
    jb->image = NULL;
    if (o->image) {
        apl_unresolve(it->table, it->desired, o->image);
        apl_secret_mask(it, jb->clear, o->image, NULL);
    }
    /* made first: what refers to it reads this image; the old one's delete
     * ends the action */
    return new_first ? 0 : write_item(s, nd->item, err);
}

static int finish_job(sched *s, job *jb, cm_err *err)
{
    int rc = finish_one(s, jb, true, err);
    for (job *b = jb->batch; b; b = b->batch) {
        int brc = finish_one(s, b, false, err);
        rc = rc ? rc : brc;
    }
    return rc;
}

/* Whether waiting node n may join a batch of table t: ready, of t, and
 * none of the cases dispatch settles without a call. */
static bool batchable(sched *s, size_t n, const mod_table *t)
{
    node *nd = &s->nodes[n];
    const apl_item *it = &s->p->items[nd->item];
    char why[APL_ERROR_SIZE];
    return nd->state == N_WAIT && it->table == t && !nd->with_parent &&
           !(nd->del && it->action == APL_DELETE && t->implicit && t->implicit(it->known)) &&
           node_ready(s, nd, why, sizeof why) == 1;
}

/* Adds to leader the other nodes of its table that are ready now, up to
 * MOD_BATCH_MAX; those that cannot be prepared fail as dispatch fails them. */
static int gather_batch(sched *s, job *leader, cm_err *err)
{
    const mod_table *t = leader->table;
    /* not where an owner must be asked first, nor where one change's
     * error could hold another's secret */
    if (!t->ops->batch || t->ops->owner || apl_table_has_secrets(t))
        return 0;
    job **tail = &leader->batch;
    size_t count = 1;
    for (size_t m = leader->node + 1; m < s->nn && count < MOD_BATCH_MAX; m++) {
        if (!batchable(s, m, t))
            continue;
        job *jb = malloc(sizeof *jb);
        if (!jb)
            return cm_err_set(err, CM_ENOMEM, "out of memory");
        int rc = prepare_job(s, m, jb, err);
        if (rc == CM_EINVAL) {
            char msg[APL_ERROR_SIZE];
            snprintf(msg, sizeof msg, "not applied: %.1000s", jb->error);
            job_free(jb);
            rc = fail_node(s, m, msg, err);
            if (rc)
                return rc;
            continue;
        }
        if (rc) {
            job_free(jb);
            return rc;
        }
        s->nodes[m].state = N_RUN;
        *tail = jb;
        tail = &jb->batch;
        count++;
    }
    return 0;
}

/* Starts what is ready, fails what cannot run; *running counts jobs out. */
static int dispatch(sched *s, pool *pl, int nworkers, int *running, bool *progress, cm_err *err)
{
    *progress = false;
    int rc = 0;
    for (size_t n = 0; !rc && n < s->nn; n++) {
        node *nd = &s->nodes[n];
        if (nd->state != N_WAIT)
            continue;
        char why[APL_ERROR_SIZE];
        int r = node_ready(s, nd, why, sizeof why);
        if (r < 0) {
            rc = fail_node(s, n, why, err);
            *progress = true;
            continue;
        }
        if (r == 0)
            continue;
        apl_item *it = &s->p->items[nd->item];
        if (nd->del && it->action == APL_DELETE && it->table->implicit &&
            it->table->implicit(it->known) && !nd->with_parent) {
            snprintf(why, sizeof why,
                     "AWS does not delete this resource on its own; it goes with its %s: "
                     "delete that row too, or put this row back (iasql_rollback())",
                     it->table->parent_ref);
            rc = fail_node(s, n, why, err);
            *progress = true;
            continue;
        }
        if (nd->with_parent) { /* AWS deleted it with its parent */
            nd->state = N_OK;
            s->os[nd->item].ok = s->os[nd->item].gone = true;
            rc = write_item(s, nd->item, err);
            *progress = true;
            continue;
        }
        int *slot = svc_slot(s, s->svc[n]);
        if (*running >= nworkers || *slot >= parallel_per_service)
            continue;
        job *jb = malloc(sizeof *jb);
        if (!jb)
            return cm_err_set(err, CM_ENOMEM, "out of memory");
        rc = prepare_job(s, n, jb, err);
        if (rc == CM_EINVAL) {
            char msg[APL_ERROR_SIZE];
            snprintf(msg, sizeof msg, "not applied: %.1000s", jb->error);
            job_free(jb);
            rc = fail_node(s, n, msg, err);
            *progress = true;
            continue;
        }
        if (rc) {
            job_free(jb);
            return rc;
        }
        nd->state = N_RUN;
        rc = gather_batch(s, jb, err);
        if (rc) {
            job_free(jb);
            return rc;
        }
        (*slot)++;
        (*running)++;
        *progress = true;
        pthread_mutex_lock(&pl->mu);
        jb->next = NULL;
        if (pl->queue_tail)
            pl->queue_tail->next = jb;
        else
            pl->queue = jb;
        pl->queue_tail = jb;
        pthread_cond_signal(&pl->work);
        pthread_mutex_unlock(&pl->mu);
    }
    return rc;
}

static void sched_free(sched *s)
{
    for (size_t n = 0; n < s->nn; n++)
        free(s->nodes[n].deps);
    free(s->nodes);
    free(s->del_node);
    free(s->put_node);
    free(s->written);
    free(s->svc);
    free(s->svc_names);
    free(s->svc_running);
}

int apl_plan_graph(apl_plan *p, json_t **out, cm_err *err)
{
    static const char *const names[] = {NULL, "create", "update", "replace", "delete"};
    sched s = {.p = p};
    *out = NULL;
    if (build_graph(&s)) {
        sched_free(&s);
        return cm_err_set(err, CM_ENOMEM, "out of memory drawing %zu actions", p->n);
    }
    json_t *nodes = json_array(), *edges = json_array();
    cm_buf d;
    cm_buf_init(&d, 4096);
    for (size_t n = 0; n < s.nn; n++) {
        const node *nd = &s.nodes[n];
        const apl_item *it = &p->items[nd->item];
        int a = it->action >= APL_CREATE && it->action <= APL_DELETE ? (int)it->action : 0;
        cm_buf_reset(&d);
        apl_describe_item(it, NULL, &d);
        /* a replace is two steps: the old resource's delete, the new one's create */
        const char *step =
            it->action == APL_REPLACE ? (nd->del ? "delete" : "create") : (a ? names[a] : "?");
        json_array_append_new(nodes,
                              json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:b}", "node",
                                        (json_int_t)n, "action", a ? names[a] : "?", "step", step,
                                        "table", it->table->name, "id", (json_int_t)it->row_id,
                                        "label", cm_buf_str(&d), "with_parent", nd->with_parent));
        for (size_t k = 0; k < nd->ndeps; k++) /* the dependency ends first */
            json_array_append_new(edges,
                                  json_pack("[I, I]", (json_int_t)nd->deps[k], (json_int_t)n));
    }
    cm_buf_free(&d);
    sched_free(&s);
    *out = json_pack("{s:o, s:o}", "nodes", nodes, "edges", edges);
    return *out ? 0 : cm_err_set(err, CM_ENOMEM, "out of memory");
}

int apl_run_graph(jnl *j, PGconn *conn, mod_ctx *ctx, apl_plan *p, outcome *os, uint64_t commit_id,
                  cm_err *err)
{
    sched s = {.j = j,
               .conn = conn,
               .p = p,
               .os = os,
               .commit_id = commit_id,
               .actions = apl_plan_actions(p)};
    int rc = build_graph(&s);
    if (rc) {
        sched_free(&s);
        return cm_err_set(err, CM_ENOMEM, "out of memory planning %zu actions", p->n);
    }
    int nworkers = parallel_per_service * 2;
    if (nworkers > POOL_MAX)
        nworkers = POOL_MAX;
    if ((size_t)nworkers > s.nn)
        nworkers = (int)s.nn;
    pool pl = {.mu = PTHREAD_MUTEX_INITIALIZER,
               .work = PTHREAD_COND_INITIALIZER,
               .done = PTHREAD_COND_INITIALIZER};
    worker ws[POOL_MAX];
    int started = 0;
    for (; !rc && started < nworkers; started++) {
        ws[started].pl = &pl;
        rc = mod_ctx_worker(ctx, started, &ws[started].ctx, err);
        if (!rc && pthread_create(&ws[started].th, NULL, worker_main, &ws[started]) != 0)
            rc = cm_err_set(err, CM_ENOMEM, "cannot start an apply thread");
        if (rc)
            break;
    }
    /* What another database made is left alone: its first node fails, and
     * what waits on it with it. */
    for (size_t i = 0; !rc && i < p->n; i++) {
        const apl_item *it = &p->items[i];
        long n = s.del_node[i] >= 0 ? s.del_node[i] : s.put_node[i];
        if (it->owner[0] && it->action != APL_CREATE && n >= 0) {
            char why[APL_ERROR_SIZE];
            apl_foreign_message(why, sizeof why, it->owner);
            rc = fail_node(&s, (size_t)n, why, err);
        }
    }
    int running = 0;
    for (;;) {
        bool progress = true;
        while (!rc && progress)
            rc = dispatch(&s, &pl, started, &running, &progress, err);
        if (running == 0)
            break;
        pthread_mutex_lock(&pl.mu);
        while (!pl.finished)
            pthread_cond_wait(&pl.done, &pl.mu);
        job *done = pl.finished;
        pl.finished = NULL;
        pthread_mutex_unlock(&pl.mu);
        while (done) {
            job *next = done->next;
            running--;
            int frc = finish_job(&s, done, err);
            if (!rc)
                rc = frc;
            job_free(done);
            done = next;
        }
    }
    pthread_mutex_lock(&pl.mu);
    pl.stop = true;
    pthread_cond_broadcast(&pl.work);
    pthread_mutex_unlock(&pl.mu);
    for (int i = 0; i < started; i++)
        pthread_join(ws[i].th, NULL);
    /* Nodes still waiting with nothing running wait on each other. */
    for (size_t n = 0; !rc && n < s.nn; n++)
        if (s.nodes[n].state == N_WAIT)
            rc = fail_node(&s, n,
                           "not applied: its actions and those of what it refers to wait for "
                           "each other (a resource replaced while others use it, whose new one "
                           "cannot be made beside the old one); make the new one under another "
                           "name, move what uses it there, then delete the old one",
                           err);
    /* Nodes never reached (an error stopped the run) stay unwritten: their
     * rows stay pending. */
    sched_free(&s);
    return rc;
}
