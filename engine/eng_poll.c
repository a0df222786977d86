/* engine/eng_poll.c — the poller: iasql_sync() lists every installed table
 * at once; the loop lists the tables whose jittered interval is up on a
 * background thread with a context of its own, which sends nothing while a
 * commit is applying, and takes the listing into the tables on the main
 * thread (the only one that writes PostgreSQL and the journal). A listing
 * that a commit, a sync or an install overtook is dropped for the tables it
 * touched and made again soon. docs/poll.md says why. */
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply/apl.h"
#include "capture/cap.h"
#include "common/cm_json.h"
#include "engine/eng.h"

#define POLL_MAX_TABLES 256
/* A dropped or failed listing is made again this soon. */
#define POLL_RETRY_US ((int64_t)5 * 1000000)

typedef struct poll_job {
    int pos;        /* in tables[] */
    uint64_t gen;   /* the table's generation when its listing began */
    uint64_t epoch; /* the poller's epoch then */
    mod_tape *tape; /* in: the table's memo, if any; out: the listing's tape */
    mod_deep deep;  /* the rotation of its deep reads (known, parents: owned) */
    json_t *seen;   /* a table listed by parent: the parents known when it began */
    bool taken;     /* its listing is taken in */
    cap_listing in; /* the rows listed, as text made on the listing's thread; no
                     * text after success: the answers were the memo's */
    int rc;
    cm_err err;
    int64_t us;        /* how long the listing took */
    uint64_t requests; /* and the requests it sent */
} poll_job;

struct eng_poller {
    int64_t interval_us;
    /* How long the engine's own change keeps a row from being taken as
     * deleted because a list does not show it (lists lag behind writes). */
    int64_t grace_us;
    /* A table with deep columns reads them for 1/n of its resources each
     * poll, n its slots (eng_poll_slots: the deep interval over the poll
     * interval, or stretched for a dear table unless --poll-deep was
     * given); round counts its polls. */
    int interval_s, deep_s;
    bool deep_given;
    unsigned round[POLL_MAX_TABLES];
    /* Per table, "region/handle" of what its import filter left out: the
     * rotation reads them as known ones (their partial rows), so that a
     * resource left out costs no read of its own. */
    json_t *excluded[POLL_MAX_TABLES];
    /* Per table listed by parent, the parents known at its last poll
     * taken in ("region/handle" -> true; NULL: none yet): one not among
     * them is new, and its children are listed. */
    json_t *parents_seen[POLL_MAX_TABLES];
    const mod_table *tables[POLL_MAX_TABLES]; /* the registry's, by position */
    int ntables;
    int64_t due[POLL_MAX_TABLES];
    uint64_t gen[POLL_MAX_TABLES]; /* bumped by every write that overtakes a listing */
    /* The memo: for each table, the tape of its last listing that was
     * exactly the known states, valid while the epoch (bumped by every
     * change to any known state) and the regions listed stay the same. */
    mod_tape *memo[POLL_MAX_TABLES];
    uint64_t memo_epoch[POLL_MAX_TABLES];
    uint64_t epoch;
    char *memo_regions;
    json_t *recent; /* "table/id" -> when the engine last applied it */
    unsigned int rand_state;
    /* the background listing */
    pthread_t th;
    bool running;
    int pipe[2];
    mod_ctx *ctx;
    char **regions;
    size_t nregions;
    int njobs;
    poll_job jobs[POLL_MAX_TABLES];
};

static int table_pos(const eng_poller *p, const mod_table *t)
{
    for (int i = 0; i < p->ntables; i++)
        if (p->tables[i] == t)
            return i;
    return -1;
}

unsigned eng_poll_slots(int interval_s, int deep_s, bool deep_given, const mod_table *t)
{
    /* A poll comes 0.8 to 1.2 intervals after the last: nslots of them
     * at the slowest still fit in the deep interval. */
    unsigned n = interval_s > 0 && deep_s >= 2 * interval_s
                     ? (unsigned)((double)deep_s / (1.2 * (double)interval_s))
                     : 1;
    if (n < 1)
        n = 1;
    if (!t || n <= 1 || deep_given || t->deep_reads * 10 <= n)
        return n;
    return t->deep_reads * 10;
}

static unsigned table_slots(const eng_poller *p, const mod_table *t)
{
    return eng_poll_slots(p->interval_s, p->deep_s, p->deep_given, t);
}

static int64_t jittered(eng_poller *p, double lo, double hi)
{
    double r = lo + (hi - lo) * ((double)rand_r(&p->rand_state) / RAND_MAX);
    return (int64_t)((double)p->interval_us * r);
}

/* After a poll or a commit: the heap's free memory back to the system
 * and the journal pages read for it out of the resident set. */
void eng_trim(eng *e)
{
    malloc_trim(0);
    jnl_release(e->j);
}

int eng_poll_new(eng *e, int interval_s, int grace_s, int deep_s, bool deep_given, cm_err *err)
{
    eng_poller *p = calloc(1, sizeof *p);
    if (!p)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    p->interval_us = (int64_t)interval_s * 1000000;
    p->grace_us = (int64_t)grace_s * 1000000;
    p->interval_s = interval_s;
    p->deep_s = deep_s;
    p->deep_given = deep_given;
    p->ntables = mod_all_tables(p->tables, NULL, POLL_MAX_TABLES);
    p->recent = json_object();
    p->rand_state = (unsigned int)cm_mono_us();
    p->pipe[0] = p->pipe[1] = -1;
    int64_t now = cm_mono_us();
    /* The first round spreads over one interval. */
    for (int i = 0; i < p->ntables; i++)
        p->due[i] = interval_s ? now + jittered(p, 0.1, 1.0) : INT64_MAX;
    if (pipe2(p->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        json_decref(p->recent);
        free(p);
        return cm_err_set(err, CM_EIO, "cannot create the poller's pipe");
    }
    e->poller = p;
    return 0;
}

/* Takes table pos's memo out of the poller, if it still holds. */
static mod_tape *memo_take(eng_poller *p, int pos)
{
    mod_tape *t = p->memo[pos];
    p->memo[pos] = NULL;
    if (t && p->memo_epoch[pos] != p->epoch) {
        mod_tape_free(t);
        t = NULL;
    }
    return t;
}

static void memo_put(eng_poller *p, int pos, mod_tape *t)
{
    mod_tape_free(p->memo[pos]);
    p->memo[pos] = t;
    p->memo_epoch[pos] = p->epoch;
}

/* A memo holds for the regions it was made in: other regions, no memo. */
static void memo_regions(eng_poller *p, char **regions, size_t n)
{
    cm_buf b;
    cm_buf_init(&b, CM_BUF_DEFAULT_MAX);
    for (size_t i = 0; i < n; i++)
        cm_buf_printf(&b, "%s,", regions[i]);
    if (!p->memo_regions || strcmp(p->memo_regions, cm_buf_str(&b)) != 0) {
        for (int i = 0; i < p->ntables; i++)
            memo_put(p, i, NULL);
        free(p->memo_regions);
        p->memo_regions = strdup(cm_buf_str(&b));
    }
    cm_buf_free(&b);
}

static void clear_jobs(eng_poller *p)
{
    for (int i = 0; i < p->njobs; i++) {
        cap_listing_clear(&p->jobs[i].in);
        mod_tape_free(p->jobs[i].tape);
        json_decref((json_t *)p->jobs[i].deep.known);
        json_decref((json_t *)p->jobs[i].deep.parents);
        json_decref(p->jobs[i].seen);
    }
    p->njobs = 0;
    eng_free_strings(p->regions, p->nregions);
    p->regions = NULL;
    p->nregions = 0;
}

void eng_poll_free(eng *e)
{
    eng_poller *p = e->poller;
    if (!p)
        return;
    if (p->running)
        pthread_join(p->th, NULL);
    clear_jobs(p);
    close(p->pipe[0]);
    close(p->pipe[1]);
    mod_ctx_free(p->ctx);
    json_decref(p->recent);
    for (int i = 0; i < p->ntables; i++) {
        mod_tape_free(p->memo[i]);
        json_decref(p->excluded[i]);
        json_decref(p->parents_seen[i]);
    }
    free(p->memo_regions);
    free(p);
    e->poller = NULL;
}

void eng_poll_applied(eng *e, const json_t *rows)
{
    eng_poller *p = e->poller;
    if (!p)
        return;
    if (!rows || json_array_size(rows))
        p->epoch++;
    if (!rows) {
        for (int i = 0; i < p->ntables; i++)
            p->gen[i]++;
        return;
    }
    int64_t now = cm_mono_us();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *table = cm_json_str(r, "table_name");
        const mod_table *t = table ? mod_find_table(table, NULL) : NULL;
        int pos = t ? table_pos(p, t) : -1;
        if (pos < 0)
            continue;
        p->gen[pos]++;
        char key[320];
        snprintf(key, sizeof key, "%s/%lld", table,
                 (long long)json_integer_value(json_object_get(r, "id")));
        json_object_set_new(p->recent, key, json_integer((json_int_t)now));
    }
    /* Forget what is past the grace period. */
    const char *key;
    json_t *v, *tmp;
    json_object_foreach_safe(p->recent, tmp, key, v)
    {
        if (now - (int64_t)json_integer_value(v) > p->grace_us)
            json_object_del(p->recent, key);
    }
}

/* The poll's hooks, both on the engine: a direct read through its own
 * client and known states, and the grace period of its recent applies. */
static bool hook_recent(void *arg, const mod_table *t, uint64_t row_id)
{
    eng_poller *p = ((eng *)arg)->poller;
    char key[320];
    snprintf(key, sizeof key, "%s/%llu", t->name, (unsigned long long)row_id);
    json_t *v = json_object_get(p->recent, key);
    return v && cm_mono_us() - (int64_t)json_integer_value(v) <= p->grace_us;
}

static int hook_read(void *arg, const mod_table *t, uint64_t row_id, const json_t *known,
                     cm_err *err)
{
    eng *e = arg;
    json_t *found = NULL;
    int rc = apl_read_known(e->j, e->mod, t, row_id, known, NULL, &found, err);
    json_decref(found);
    return rc;
}

/* The label set {table="name"} of a table's metrics. */
static void table_labels(char *out, size_t size, const char *table)
{
    char one[120];
    eng_metric_label(one, sizeof one, "table", table);
    snprintf(out, size, "{%s}", one);
}

/* Takes listings into the tables, then the tail journals what was written,
 * and every table written counts as overtaking a listing under way. When
 * nothing was written, the tape of each listing that was exactly the known
 * states becomes its table's memo; tapes[i] (in[i]'s) are taken over. */
static int take_in(eng *e, cap_listing *in, mod_tape **tapes, size_t n, json_t **rows, bool preview,
                   cm_err *err)
{
    eng_poller *p = e->poller;
    cap_poll_hooks hooks = {hook_read, hook_recent, e, e->dbid, preview};
    cap_poll_out o;
    cap_poll_out_init(&o);
    int rc = eng_tail(e, err);
    if (!rc)
        rc = cap_poll_apply(e->wk, e->j, in, n, &hooks, &o, err);
    bool wrote = !preview && json_array_size(o.rows) > 0;
    /* what the import filters left out, and what they take now */
    const char *tname;
    json_t *set;
    json_object_foreach(rc || preview ? NULL : o.excluded, tname, set)
    {
        int pos = table_pos(p, mod_find_table(tname, NULL));
        if (pos >= 0 && !p->excluded[pos])
            p->excluded[pos] = json_object();
        if (pos >= 0)
            json_object_update(p->excluded[pos], set);
    }
    json_object_foreach(rc || preview ? NULL : o.wanted, tname, set)
    {
        int pos = table_pos(p, mod_find_table(tname, NULL));
        const char *key;
        json_t *v;
        json_object_foreach(set, key, v)
        {
            if (pos >= 0 && p->excluded[pos])
                json_object_del(p->excluded[pos], key);
        }
    }
    if (!rc && wrote) {
        rc = eng_tail(e, err);
        p->epoch++;
        for (size_t i = 0; i < n; i++) {
            int pos = table_pos(p, in[i].table);
            if (pos >= 0)
                p->gen[pos]++;
        }
    }
    /* A write may cascade into other tables' states: then no memo at all. */
    for (size_t i = 0; i < n; i++) {
        int pos = table_pos(p, in[i].table);
        if (!rc && !wrote && in[i].quiet && pos >= 0)
            memo_put(p, pos, tapes[i]);
        else
            mod_tape_free(tapes[i]);
        tapes[i] = NULL;
    }
    size_t ci;
    json_t *cr;
    json_array_foreach(rc || preview ? NULL : o.rows, ci, cr)
    {
        char labels[128];
        table_labels(labels, sizeof labels, json_string_value(json_object_get(cr, "table_name")));
        eng_metric_add("iasql_poll_changes_total", labels, 1);
    }
    if (!rc && !preview && (json_array_size(o.rows) || json_array_size(o.refused)))
        cm_log(CM_LOG_INFO, "sync: %zu changes from the cloud (%zu conflicts), %zu refused",
               json_array_size(o.rows), json_array_size(o.conflicts), json_array_size(o.refused));
    if (!rc && o.deferred)
        cm_log(CM_LOG_DEBUG, "sync: %zu resources missing from a list are kept for now",
               o.deferred);
    if (!rc && rows) {
        *rows = o.rows;
        o.rows = NULL;
        /* What the database refused is reported with the changes. */
        size_t i;
        json_t *r;
        json_array_foreach(o.refused, i, r)
        {
            json_array_append_new(*rows, json_pack("{s:s, s:O, s:O, s:O}", "action", "error",
                                                   "table_name", json_object_get(r, "table_name"),
                                                   "id", json_object_get(r, "id"), "description",
                                                   json_object_get(r, "message")));
        }
    }
    cap_poll_out_free(&o);
    return rc;
}

/* iasql_sync() and, with preview, iasql_sync_preview(): every installed
 * table listed at once. A preview reports the same rows and writes
 * nothing: not the tables, the journal, the poll schedule or the metrics;
 * the memo of a table whose listing was exactly the known states stays
 * (it says the same in both cases). */
static int sync_all(eng *e, bool preview, json_t **out, cm_err *err)
{
    eng_poller *p = e->poller;
    const mod_table *tables[POLL_MAX_TABLES];
    int n = 0;
    char **regions = NULL;
    size_t nregions = 0;
    int rc = eng_installed_tables(e, tables, POLL_MAX_TABLES, &n, err);
    if (!rc)
        rc = eng_enabled_regions(e->wk, &regions, &nregions, err);
    if (!rc)
        memo_regions(p, regions, nregions);
    cap_listing in[POLL_MAX_TABLES];
    mod_tape *tapes[POLL_MAX_TABLES];
    int listed = 0, unchanged = 0;
    for (int i = 0; !rc && i < n; i++) {
        int pos = table_pos(p, tables[i]);
        mod_tape *tape = pos >= 0 ? memo_take(p, pos) : NULL;
        json_t *rows = NULL;
        rc = mod_list_taped(e->mod, tables[i], (const char *const *)regions, nregions, &tape, &rows,
                            err);
        if (!rc) {
            char line[200];
            snprintf(line, sizeof line, "read %s%s", tables[i]->name,
                     rows ? "" : ": the same answers as before");
            eng_progress(e, (size_t)i + 1, (size_t)n, line);
        }
        if (rc) {
            cm_err_wrap(err, "listing %s", tables[i]->name);
        } else if (!rows) {
            memo_put(p, pos, tape); /* the same answers: nothing to compare */
            unchanged++;
        } else {
            tapes[listed] = tape;
            rc = cap_listing_set(&in[listed++], tables[i], rows, err);
        }
    }
    eng_free_strings(regions, nregions);
    if (!rc)
        rc = take_in(e, in, tapes, (size_t)listed, out, preview, err);
    else if (out)
        *out = NULL;
    if (rc)
        for (int i = 0; i < listed; i++)
            mod_tape_free(tapes[i]);
    for (int i = 0; i < listed; i++)
        cap_listing_clear(&in[i]);
    eng_trim(e);
    if (!rc)
        cm_log(CM_LOG_DEBUG, "sync: %d tables compared, %d answered as before", listed, unchanged);
    /* Each table's next poll is an interval from now. */
    for (int i = 0; !rc && !preview && p->interval_us && i < n; i++) {
        int pos = table_pos(p, tables[i]);
        if (pos >= 0)
            p->due[pos] = cm_mono_us() + jittered(p, 0.8, 1.2);
    }
    return rc;
}

int eng_op_sync(eng *e, char **args, int nargs, json_t **out, cm_err *err)
{
    (void)args;
    (void)nargs;
    return sync_all(e, false, out, err);
}

int eng_op_sync_preview(eng *e, char **args, int nargs, json_t **out, cm_err *err)
{
    (void)args;
    (void)nargs;
    return sync_all(e, true, out, err);
}

/* ---- the background listing ---- */

static void *list_main(void *arg)
{
    eng_poller *p = arg;
    for (int i = 0; i < p->njobs; i++) {
        const mod_table *t = p->tables[p->jobs[i].pos];
        cm_err_clear(&p->jobs[i].err);
        int64_t t0 = cm_mono_us();
        uint64_t r0 = mod_ctx_requests(p->ctx);
        mod_ctx_set_deep(p->ctx, &p->jobs[i].deep);
        json_t *rows = NULL; /* NULL after success: the answers were the memo's */
        p->jobs[i].rc = mod_list_taped(p->ctx, t, (const char *const *)p->regions, p->nregions,
                                       &p->jobs[i].tape, &rows, &p->jobs[i].err);
        mod_ctx_set_deep(p->ctx, NULL);
        /* Text until its turn: the next tables are listed beside it. */
        if (!p->jobs[i].rc && rows)
            p->jobs[i].rc = cap_listing_set(&p->jobs[i].in, t, rows, &p->jobs[i].err);
        else
            json_decref(rows);
        p->jobs[i].us = cm_mono_us() - t0;
        p->jobs[i].requests = mod_ctx_requests(p->ctx) - r0;
    }
    unsigned char b = 1;
    if (write(p->pipe[1], &b, 1) < 0) { /* the loop looks at running anyway */
    }
    return NULL;
}

int eng_poll_fd(const eng *e)
{
    return e->poller && e->poller->running ? e->poller->pipe[0] : -1;
}

int64_t eng_poll_due(const eng *e)
{
    const eng_poller *p = e->poller;
    int64_t due = INT64_MAX;
    for (int i = 0; p && !p->running && i < p->ntables; i++)
        if (p->due[i] < due)
            due = p->due[i];
    return due;
}

/* The rotation by parent of table pos (mod_deep.parents), into jb: the
 * parents the journal knows with their known children's count; those the
 * import filter left out as parents without children (theirs would be
 * left out too); null, to be listed now, for one new since the table's
 * last poll, one the engine just changed, or one a child of which it just
 * changed. */
static int parents_of(eng *e, int pos, poll_job *jb, cm_err *err)
{
    eng_poller *p = e->poller;
    const mod_table *t = p->tables[pos];
    json_t *parents = NULL;
    int rc = cap_known_parents(e->j, t, hook_recent, e, &parents, err);
    if (rc)
        return rc;
    int ppos = table_pos(p, cap_parent_table(t));
    const char *key;
    json_t *v;
    json_object_foreach(ppos >= 0 ? p->excluded[ppos] : NULL, key, v)
    {
        if (!json_object_get(parents, key))
            json_object_set_new(parents, key, json_integer(0));
    }
    jb->seen = json_object();
    json_object_foreach(parents, key, v)
    {
        json_object_set_new(jb->seen, key, json_true());
        if (!p->parents_seen[pos] || !json_object_get(p->parents_seen[pos], key))
            json_object_set_new(parents, key, json_null());
    }
    jb->deep.parents = parents;
    return 0;
}

int eng_poll_start(eng *e, cm_err *err)
{
    eng_poller *p = e->poller;
    if (!p || p->running || eng_poll_due(e) > cm_mono_us())
        return 0;
    const mod_table *tables[POLL_MAX_TABLES];
    int n = 0;
    int rc = eng_installed_tables(e, tables, POLL_MAX_TABLES, &n, err);
    if (!rc && !p->ctx) {
        rc = mod_ctx_new(&p->ctx, err);
        if (!rc)
            mod_ctx_set_background(p->ctx, true);
    }
    if (!rc)
        rc = eng_enabled_regions(e->wk, &p->regions, &p->nregions, err);
    if (rc)
        return rc;
    memo_regions(p, p->regions, p->nregions);
    int64_t now = cm_mono_us();
    bool installed[POLL_MAX_TABLES] = {false};
    for (int i = 0; i < n; i++) {
        int pos = table_pos(p, tables[i]);
        if (pos < 0)
            continue;
        installed[pos] = true;
        if (p->due[pos] > now)
            continue;
        poll_job *jb = &p->jobs[p->njobs++];
        *jb = (poll_job){.pos = pos, .gen = p->gen[pos], .epoch = p->epoch};
        unsigned nslots = table_slots(p, tables[i]);
        if (tables[i]->by_parent && nslots > 1) {
            mod_tape_free(memo_take(p, pos)); /* as for deep columns */
            rc = parents_of(e, pos, jb, err);
            if (rc)
                break;
            jb->deep.slot = p->round[pos]++ % nslots;
            jb->deep.nslots = nslots;
        } else if (tables[i]->deep && nslots > 1) {
            /* The rotation reads other resources each time: the memo's
             * requests would be the last slot's, so it is not kept. */
            mod_tape_free(memo_take(p, pos));
            json_t *known = NULL, *id;
            const char *key;
            void *tmp;
            rc = cap_known_handles(e->j, tables[i], &known, err);
            if (rc)
                break;
            json_object_foreach_safe(known, tmp, key, id)
            {
                if (hook_recent(e, tables[i], (uint64_t)json_integer_value(id)))
                    json_object_del(known, key);
            }
            /* false: left out by the filter, its partial row is enough */
            json_object_foreach(p->excluded[pos], key, id)
            {
                if (!json_object_get(known, key))
                    json_object_set_new(known, key, json_false());
            }
            jb->deep = (mod_deep){p->round[pos]++ % nslots, nslots, known};
        } else {
            jb->tape = memo_take(p, pos);
        }
    }
    if (rc) {
        clear_jobs(p);
        return rc;
    }
    /* A table not installed is looked at again an interval later. */
    for (int i = 0; i < p->ntables; i++)
        if (!installed[i] && p->due[i] <= now)
            p->due[i] = now + jittered(p, 0.8, 1.2);
    if (!p->njobs) {
        clear_jobs(p);
        return 0;
    }
    if (pthread_create(&p->th, NULL, list_main, p) != 0)
        rc = cm_err_set(err, CM_EIO, "cannot start the poller's thread");
    if (rc) {
        clear_jobs(p);
        return rc;
    }
    p->running = true;
    cm_log(CM_LOG_DEBUG, "poll: listing %d tables", p->njobs);
    return 0;
}

/* Each table's last poll, its duration and error, for iasql_status(). */
static int record_polls(eng *e, cm_err *err)
{
    eng_poller *p = e->poller;
    json_t *done = json_array();
    for (int i = 0; i < p->njobs; i++) {
        const poll_job *jb = &p->jobs[i];
        char labels[128];
        table_labels(labels, sizeof labels, p->tables[jb->pos]->name);
        eng_metric_set("iasql_poll_duration_seconds", labels, (double)jb->us / 1e6);
        eng_metric_add("iasql_poll_requests_total", labels, (double)jb->requests);
        cm_log(CM_LOG_DEBUG, "poll of %s: %llu requests, %lld ms (deep reads: slot %u of %u)",
               p->tables[jb->pos]->name, (unsigned long long)jb->requests,
               (long long)(jb->us / 1000), jb->deep.slot, jb->deep.nslots);
        json_array_append_new(done, json_pack("{s:s, s:I, s:s?}", "t", p->tables[jb->pos]->name,
                                              "ms", (json_int_t)(jb->us / 1000), "e",
                                              jb->rc ? jb->err.msg : NULL));
    }
    char *text = json_dumps(done, JSON_COMPACT);
    json_decref(done);
    const char *prm[] = {text};
    int rc = text ? cm_pg_run(e->wk, err,
                              "UPDATE iasql_tables x SET last_poll_at = clock_timestamp(), "
                              "last_poll_ms = j.ms, last_poll_error = j.e "
                              "FROM json_to_recordset($1::json) AS j(t text, ms integer, e text) "
                              "WHERE x.table_name = j.t",
                              1, prm)
                  : cm_err_set(err, CM_ENOMEM, "out of memory");
    free(text);
    return rc;
}

int eng_poll_finish(eng *e, cm_err *err)
{
    eng_poller *p = e->poller;
    if (!p || !p->running)
        return 0;
    unsigned char b;
    while (read(p->pipe[0], &b, 1) > 0) {
    }
    pthread_join(p->th, NULL);
    p->running = false;
    cap_listing in[POLL_MAX_TABLES];
    mod_tape *tapes[POLL_MAX_TABLES];
    size_t n = 0;
    int64_t now = cm_mono_us();
    for (int i = 0; i < p->njobs; i++) {
        poll_job *jb = &p->jobs[i];
        const mod_table *t = p->tables[jb->pos];
        bool again =
            jb->rc || jb->gen != p->gen[jb->pos] || (!jb->in.text && jb->epoch != p->epoch);
        if (again && jb->deep.nslots > 1)
            p->round[jb->pos] = jb->deep.slot; /* the retry reads the same slot */
        if (jb->rc) {
            cm_log(CM_LOG_WARN, "poll of %s: %s", t->name, jb->err.msg);
            p->due[jb->pos] = now + POLL_RETRY_US;
        } else if (again) {
            /* A commit or a sync wrote this table while it was listed, or
             * the states the memo matched changed since. */
            p->due[jb->pos] = now + POLL_RETRY_US;
        } else if (!jb->in.text) {
            memo_put(p, jb->pos, jb->tape); /* the same answers: nothing to compare */
            jb->tape = NULL;
            p->due[jb->pos] = now + jittered(p, 0.8, 1.2);
        } else {
            tapes[n] = jb->tape;
            jb->tape = NULL;
            in[n++] = jb->in;
            jb->in.text = NULL;
            jb->taken = true;
            p->due[jb->pos] = now + jittered(p, 0.8, 1.2);
        }
    }
    int rc = n ? take_in(e, in, tapes, n, NULL, false, err) : 0;
    for (size_t i = 0; i < n; i++)
        cap_listing_clear(&in[i]);
    /* A table listed by parent knows, from now, the parents it listed. */
    for (int i = 0; !rc && i < p->njobs; i++) {
        poll_job *jb = &p->jobs[i];
        if (jb->seen && jb->taken) {
            json_decref(p->parents_seen[jb->pos]);
            p->parents_seen[jb->pos] = jb->seen;
            jb->seen = NULL;
        }
    }
    if (!rc)
        rc = record_polls(e, err);
    clear_jobs(p);
    eng_trim(e);
    return rc;
}
