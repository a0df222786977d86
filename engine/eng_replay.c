/* engine/eng_replay.c — `iasql journal replay DIR CONNINFO [--to N]`:
 * rebuilds the resource tables of an empty database from the journal
 * alone. One pass over the log up to the cut (the end, or the last record
 * of commit point N) finds which tables were installed and, per row, its
 * newest change event and newest apply-side state record; the rows are then
 * written parents first, a statement per table and batch, with origin
 * 'cloud' (they are what the cloud holds), from the images as the journal
 * keeps them: only rows whose cloud-owned columns came after their last
 * event (a commit's results before its write-back) are parsed. */
#include <stdlib.h>
#include <string.h>

#include "common/cm_json.h"
#include "engine/eng.h"

#define REPLAY_BATCH 2000
#define MAX_TABLES 256

typedef struct hit {
    uint64_t row_id;
    uint64_t seq;
    uint16_t table; /* index into the table list */
    uint8_t kind;   /* 0: change event, 1: state record */
} hit;

typedef struct replay {
    const mod_table *tables[MAX_TABLES];
    const mod_module *modules[MAX_TABLES];
    uint64_t installed_at[MAX_TABLES]; /* seq of the install mark, 0: not installed */
    int ntables;
    hit *hits;
    size_t n, cap;
    uint64_t max_id;
} replay;

static int table_index(const replay *r, jnl_str name)
{
    for (int i = 0; i < r->ntables; i++)
        if (strlen(r->tables[i]->name) == name.len &&
            memcmp(r->tables[i]->name, name.ptr, name.len) == 0)
            return i;
    return -1;
}

static int add_hit(replay *r, int table, uint64_t row_id, uint64_t seq, uint8_t kind, cm_err *err)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        hit *h = realloc(r->hits, cap * sizeof *h);
        if (!h)
            return cm_err_set(err, CM_ENOMEM, "out of memory at %zu rows", r->n);
        r->hits = h;
        r->cap = cap;
    }
    r->hits[r->n++] = (hit){row_id, seq, (uint16_t)table, kind};
    return 0;
}

static int hit_cmp(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    if (x->table != y->table)
        return x->table < y->table ? -1 : 1;
    if (x->row_id != y->row_id)
        return x->row_id < y->row_id ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int scan(jnl_txn *t, uint64_t cut, replay *r, cm_err *err)
{
    jnl_cursor *c;
    int rc = jnl_cursor_open(t, 1, &c, err);
    uint64_t seq;
    jnl_rec rec;
    while (!rc && (rc = jnl_cursor_next(c, &seq, &rec, err)) == 1) {
        rc = 0;
        if (seq > cut)
            break;
        if (rec.type != JNL_REC_EVENT && rec.type != JNL_REC_STATE && rec.type != JNL_REC_MARK)
            continue;
        int ti = table_index(r, rec.table);
        if (ti < 0 || !r->tables[ti]->ops)
            continue;
        if (rec.type == JNL_REC_MARK)
            r->installed_at[ti] = rec.op == JNL_MARK_INSTALL ? seq : 0;
        else
            rc = add_hit(r, ti, rec.row_id, seq, rec.type == JNL_REC_STATE, err);
    }
    jnl_cursor_free(c);
    return rc < 0 ? rc : 0;
}

static int install_modules(PGconn *conn, const replay *r, cm_err *err)
{
    const char *region = getenv("AWS_REGION");
    if (!region || !*region)
        region = getenv("AWS_DEFAULT_REGION");
    if (!region || !*region)
        region = "us-east-1";
    const mod_module *const *reg = mod_registry();
    int rc = 0;
    bool want[MAX_TABLES] = {false};
    for (int i = 0; i < r->ntables; i++)
        for (int k = 0; r->installed_at[i] && reg[k] && k < MAX_TABLES; k++)
            if (reg[k] == r->modules[i])
                want[k] = true;
    /* Dependencies first: the registry lists them before their dependents. */
    for (int k = 0; reg[k] && k < MAX_TABLES; k++)
        for (int d = 0; want[k] && reg[k]->deps[d]; d++)
            for (int x = 0; reg[x]; x++)
                if (strcmp(reg[x]->name, reg[k]->deps[d]) == 0)
                    want[x] = true;
    for (int k = 0; !rc && reg[k] && k < MAX_TABLES; k++)
        if (want[k])
            rc = eng_install_schema(conn, reg[k], region, err);
    return rc;
}

/* The regions the rows name, enabled, so that their foreign keys hold. */
static int add_regions(PGconn *conn, json_t *regions, cm_err *err)
{
    if (!json_object_size(regions))
        return 0;
    json_t *list = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(regions, k, v) json_array_append_new(list, json_string(k));
    char *txt = cm_json_dump(list);
    const char *p[] = {txt};
    int rc = cm_pg_run(conn, err,
                       "INSERT INTO aws_regions (region, is_enabled) "
                       "SELECT json_array_elements_text($1::json), true "
                       "ON CONFLICT (region) DO UPDATE SET is_enabled = true",
                       1, p);
    free(txt);
    json_decref(list);
    return rc;
}

/* Writes the batch of rows of t, after the regions they name. */
static int flush(PGconn *conn, const mod_table *t, cm_buf *batch, size_t *in_batch, json_t *regions,
                 cm_err *err)
{
    if (!*in_batch)
        return 0;
    if (mod_find_table("aws_regions", NULL)) {
        int rc = add_regions(conn, regions, err);
        if (rc)
            return rc;
    }
    cm_buf_puts(batch, "]");
    cm_buf sql;
    cm_buf_init(&sql, 4096);
    cm_buf qt;
    cm_buf_init(&qt, 256);
    int rc = cm_pg_quote_ident(conn, &qt, t->name);
    if (!rc)
        rc = cm_buf_printf(
            &sql, "INSERT INTO %s SELECT * FROM json_populate_recordset(NULL::%s, $1::json)",
            qt.data, qt.data);
    const char *p[] = {cm_buf_str(batch)};
    if (!rc)
        rc = cm_pg_run(conn, err, cm_buf_str(&sql), 1, p);
    if (rc)
        cm_err_wrap(err, "replaying rows of %s", t->name);
    cm_buf_free(&sql);
    cm_buf_free(&qt);
    cm_buf_reset(batch);
    *in_batch = 0;
    return rc;
}

/* The row image of one group of hits (one row): its newest event, with the
 * cloud-owned columns of a newer state record. Appends nothing for a row
 * that is deleted or from before its table's last install. */
static int row_image(jnl_txn *t, const replay *r, const hit *g, size_t n, cm_buf *out,
                     json_t *regions, bool *any, cm_err *err)
{
    const hit *ev = NULL, *st = NULL;
    for (size_t i = 0; i < n; i++)
        *(g[i].kind ? &st : &ev) = &g[i];
    *any = false;
    if (!ev || ev->seq < r->installed_at[g->table])
        return 0;
    jnl_rec rec;
    int rc = jnl_get(t, ev->seq, &rec, err);
    if (rc || rec.op == JNL_OP_DELETE || !rec.b.ptr)
        return rc;
    const mod_table *table = r->tables[g->table];
    json_t *img = NULL;
    bool overlay = st && st->seq > ev->seq;
    if ((rc = cm_json_parse(&img, rec.b.ptr, rec.b.len, err)))
        return rc;
    const char *region = json_string_value(json_object_get(img, "region"));
    if (region)
        json_object_set(regions, region, json_true());
    if (overlay) {
        jnl_rec srec;
        json_t *state = NULL;
        rc = jnl_get(t, st->seq, &srec, err);
        if (!rc && srec.a.ptr)
            rc = cm_json_parse(&state, srec.a.ptr, srec.a.len, err);
        for (const mod_column *c = table->columns; !rc && state && c->name; c++)
            if (c->flags & MOD_COL_CLOUD_OWNED)
                json_object_set(img, c->name, json_object_get(state, c->name));
        json_decref(state);
        char *txt = rc ? NULL : cm_json_dump(img);
        if (txt)
            cm_buf_puts(out, txt);
        free(txt);
    } else {
        cm_buf_append(out, rec.b.ptr, rec.b.len);
    }
    json_decref(img);
    *any = !rc;
    return rc;
}

static int write_rows(PGconn *conn, jnl_txn *t, replay *r, size_t *rows, cm_err *err)
{
    qsort(r->hits, r->n, sizeof *r->hits, hit_cmp);
    json_t *regions = json_object();
    cm_buf batch;
    cm_buf_init(&batch, 0);
    size_t in_batch = 0;
    int cur = -1; /* the table of the batch */
    int rc = cm_pg_run(conn, err, "SELECT set_config('iasql.origin', 'cloud', true)", 0, NULL);
    for (size_t i = 0; !rc && i < r->n;) {
        size_t j = i;
        while (j < r->n && r->hits[j].table == r->hits[i].table &&
               r->hits[j].row_id == r->hits[i].row_id)
            j++;
        int ti = r->hits[i].table;
        if (ti != cur && cur >= 0)
            rc = flush(conn, r->tables[cur], &batch, &in_batch, regions, err);
        cur = ti;
        if (!rc && r->installed_at[ti]) {
            size_t mark = batch.len;
            cm_buf_puts(&batch, in_batch ? "," : "[");
            bool any;
            rc = row_image(t, r, &r->hits[i], j - i, &batch, regions, &any, err);
            if (!any) {
                batch.len = mark;
                if (batch.data)
                    batch.data[mark] = '\0';
            } else {
                in_batch++;
                (*rows)++;
                if (r->hits[i].row_id > r->max_id)
                    r->max_id = r->hits[i].row_id;
            }
        }
        if (!rc && in_batch == REPLAY_BATCH)
            rc = flush(conn, r->tables[ti], &batch, &in_batch, regions, err);
        i = j;
    }
    if (!rc && cur >= 0)
        rc = flush(conn, r->tables[cur], &batch, &in_batch, regions, err);
    cm_buf_free(&batch);
    json_decref(regions);
    return rc;
}

static int refuse_unless_empty(PGconn *conn, cm_err *err)
{
    PGresult *res;
    int rc =
        cm_pg_exec(conn, &res, err, "SELECT string_agg(name, ', ') FROM iasql_module", 0, NULL);
    if (rc)
        return rc;
    if (!PQgetisnull(res, 0, 0))
        rc = cm_err_set(err, CM_EEXISTS,
                        "replay needs an empty database, and %s has modules installed (%s)",
                        PQdb(conn), PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

int eng_replay(const char *dir, const char *conninfo, uint64_t to_commit, cm_err *err)
{
    jnl *j = NULL;
    jnl_txn *t = NULL;
    PGconn *conn = NULL;
    replay r;
    memset(&r, 0, sizeof r);
    int rc = jnl_open(&j, dir, err);
    if (!rc)
        rc = eng_schema_init(conninfo, err);
    if (!rc)
        rc = eng_connect_engine(&conn, conninfo, err);
    if (!rc)
        rc = refuse_unless_empty(conn, err);
    if (!rc)
        rc = jnl_txn_begin(j, false, &t, err);
    /* Indexes in registry order: hits sorted by index are parents first. */
    r.ntables = mod_all_tables(r.tables, r.modules, MAX_TABLES);
    uint64_t cut = 0;
    if (!rc && to_commit) {
        jnl_commit c;
        rc = jnl_commit_get(t, to_commit, &c, err);
        if (rc == CM_ENOTFOUND)
            rc = cm_err_set(err, CM_ENOTFOUND, "the journal has no commit point %llu",
                            (unsigned long long)to_commit);
        cut = c.last_seq;
    } else if (!rc) {
        rc = jnl_last_seq(t, &cut, err);
    }
    if (!rc)
        rc = scan(t, cut, &r, err);
    size_t rows = 0;
    if (!rc)
        rc = cm_pg_run(conn, err, "BEGIN", 0, NULL);
    if (!rc)
        rc = install_modules(conn, &r, err);
    if (!rc)
        rc = write_rows(conn, t, &r, &rows, err);
    if (!rc && r.max_id) {
        char max[24];
        snprintf(max, sizeof max, "%llu", (unsigned long long)r.max_id);
        const char *p[] = {max};
        /* New rows must never take a replayed row's id. */
        rc = cm_pg_run(conn, err,
                       "SELECT setval('iasql_row_id_seq', greatest($1::bigint, "
                       "(SELECT last_value FROM iasql_row_id_seq)))",
                       1, p);
    }
    if (conn && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
        rc = cm_pg_end(conn, rc, err);
    if (!rc)
        printf("replayed %zu rows from %llu journal records\n", rows, (unsigned long long)cut);
    jnl_txn_abort(t);
    jnl_free(j);
    if (conn)
        PQfinish(conn);
    free(r.hits);
    return rc;
}
