/* journal/jnl.c — the LMDB environment: the ordered log (MDB_APPEND with
 * big-endian u64 keys), commit points, meta values and the resource index.
 * The only file that includes <lmdb.h>; LMDB errors become cm_err here. */
#include "journal/jnl.h"

#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "common/cm_json.h"

#define JNL_DEFAULT_MAP_MB 8192

enum { DB_EVENTS, DB_COMMITS, DB_META, DB_LATEST, DB_DIRTY, DB_STATE, DB_COUNT };

static const char *const db_names[DB_COUNT] = {"events", "commits", "meta",
                                               "latest", "dirty",   "state"};

/* jnl_idx values map onto these sub-databases. */
static const int idx_db[JNL_IDX_COUNT] = {DB_LATEST, DB_DIRTY, DB_STATE};

struct jnl {
    MDB_env *env;
    MDB_dbi dbi[DB_COUNT];
    char *dir;
    char *data_path;          /* data.mdb's absolute path, as /proc/self/maps names it */
    uintptr_t map_lo, map_hi; /* where it is mapped (jnl_release) */
    size_t map_size;          /* the map's size when that was looked up */
};

struct jnl_txn {
    jnl *j;
    MDB_txn *txn;
    bool write;
    uint64_t next_seq; /* 0 until loaded */
    cm_buf scratch;
};

struct jnl_cursor {
    jnl_txn *t;
    MDB_cursor *cur;
    uint64_t from;
    bool started;
};

/* Maps an LMDB return code to a cm_err; the one boundary for LMDB errors. */
static int jnl_lmdb_err(int rc, cm_err *err, const char *what)
{
    if (rc == MDB_NOTFOUND)
        return cm_err_set(err, CM_ENOTFOUND, "%s: not found", what);
    if (rc == MDB_MAP_FULL)
        return cm_err_set(err, CM_EFULL,
                          "%s: the journal map is full; stop the engine, raise "
                          "IASQL_JOURNAL_MAP_MB and start it again",
                          what);
    if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID ||
        rc == MDB_VERSION_MISMATCH)
        return cm_err_set(err, CM_ECORRUPT,
                          "%s: the journal is damaged (%s); keep a copy of the journal "
                          "folder and rebuild it with `iasql journal replay` from a good copy",
                          what, mdb_strerror(rc));
    if (rc == ENOSPC)
        return cm_err_set(err, CM_EFULL, "%s: no space left on the journal's disk", what);
    return cm_err_set(err, CM_EJOURNAL, "%s: %s", what, mdb_strerror(rc));
}

static void be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

static uint64_t from_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static size_t map_size(void)
{
    const char *s = getenv("IASQL_JOURNAL_MAP_MB");
    long mb = s ? strtol(s, NULL, 10) : 0;
    if (mb <= 0)
        mb = JNL_DEFAULT_MAP_MB;
    return (size_t)mb << 20;
}

static int jnl_check_format(jnl *j, cm_err *err)
{
    jnl_txn *t;
    int rc = jnl_txn_begin(j, true, &t, err);
    if (rc)
        return rc;
    jnl_str v;
    rc = jnl_meta_get(t, "format", &v, err);
    if (rc == CM_ENOTFOUND) {
        char fmt[16];
        int n = snprintf(fmt, sizeof fmt, "%d", JNL_FORMAT_VERSION);
        rc = jnl_meta_put(t, "format", fmt, (size_t)n, err);
    } else if (!rc && (v.len != 1 || v.ptr[0] != '0' + JNL_FORMAT_VERSION)) {
        rc = cm_err_set(err, CM_ECORRUPT,
                        "the journal in %s has format %.*s; this engine reads format %d", j->dir,
                        (int)v.len, v.ptr, JNL_FORMAT_VERSION);
    }
    if (rc) {
        jnl_txn_abort(t);
        return rc;
    }
    return jnl_txn_commit(t, err);
}

/* LMDB maps the file and trusts it: reading a page past the end of a
 * truncated file kills the process (SIGBUS). Check the file against the
 * pages LMDB's meta page says it uses before anything reads them. */
static int jnl_check_size(jnl *j, cm_err *err)
{
    MDB_envinfo info;
    MDB_stat st;
    if (mdb_env_info(j->env, &info) || mdb_env_stat(j->env, &st))
        return cm_err_set(err, CM_ECORRUPT, "cannot read the journal's header in %s", j->dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/data.mdb", j->dir);
    struct stat fs;
    if (stat(path, &fs) != 0)
        return cm_err_set(err, CM_EIO, "cannot stat %s: %s", path, strerror(errno));
    uint64_t need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    if ((uint64_t)fs.st_size < need)
        return cm_err_set(err, CM_ECORRUPT,
                          "the journal file %s is truncated (%lld bytes, its pages need %llu); "
                          "nothing was applied. Keep the damaged folder for inspection and "
                          "restore the journal folder from a copy before starting the engine",
                          path, (long long)fs.st_size, (unsigned long long)need);
    return 0;
}

int jnl_open(jnl **out, const char *dir, cm_err *err)
{
    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return cm_err_set(err, CM_EIO, "cannot create journal folder %s: %s", dir, strerror(errno));
    jnl *j = calloc(1, sizeof *j);
    if (!j || !(j->dir = strdup(dir))) {
        free(j);
        return cm_err_set(err, CM_ENOMEM, "out of memory opening the journal");
    }
    int rc = mdb_env_create(&j->env);
    if (!rc)
        rc = mdb_env_set_maxdbs(j->env, DB_COUNT);
    if (!rc)
        rc = mdb_env_set_mapsize(j->env, map_size());
    if (!rc)
        rc = mdb_env_open(j->env, dir, MDB_NOTLS, 0600);
    if (rc) {
        int code = jnl_lmdb_err(rc, err, "cannot open the journal");
        cm_err_wrap(err, "journal %s", dir);
        jnl_free(j);
        return code;
    }

    char real[4096];
    if (realpath(dir, real)) {
        size_t rl = strlen(real);
        if ((j->data_path = malloc(rl + sizeof "/data.mdb")))
            snprintf(j->data_path, rl + sizeof "/data.mdb", "%s/data.mdb", real);
    }
    int trc = jnl_check_size(j, err);
    if (trc) {
        jnl_free(j);
        return trc;
    }
    MDB_txn *txn;
    rc = mdb_txn_begin(j->env, NULL, 0, &txn);
    for (int i = 0; !rc && i < DB_COUNT; i++)
        rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &j->dbi[i]);
    if (!rc)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc) {
        int code = jnl_lmdb_err(rc, err, "cannot open the journal's tables");
        jnl_free(j);
        return code;
    }
    int crc = jnl_check_format(j, err);
    if (crc) {
        jnl_free(j);
        return crc;
    }
    *out = j;
    return 0;
}

void jnl_free(jnl *j)
{
    if (!j)
        return;
    if (j->env)
        mdb_env_close(j->env);
    free(j->data_path);
    free(j->dir);
    free(j);
}

/* Where the map of data.mdb is, from /proc/self/maps: LMDB does not say
 * (mdb_env_info's me_mapaddr is set only for MDB_FIXEDMAP). */
static void find_map(jnl *j)
{
    j->map_lo = j->map_hi = 0;
    FILE *f = j->data_path ? fopen("/proc/self/maps", "r") : NULL;
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0, plen = strlen(j->data_path);
    while (getline(&line, &cap, f) > 0) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n')
            line[--n] = 0;
        if (n <= plen || line[n - plen - 1] != ' ' || strcmp(line + n - plen, j->data_path) != 0)
            continue;
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && hi > lo) {
            j->map_lo = (uintptr_t)lo;
            j->map_hi = (uintptr_t)hi;
            break;
        }
    }
    free(line);
    fclose(f);
}

/* The map moves only when LMDB resizes it, so it is looked up again only
 * when the map's size has changed (the engine sets the size once, at
 * jnl_open; a stale range could name other memory, and MADV_DONTNEED on
 * anonymous memory would clear it). */
void jnl_release(jnl *j)
{
    MDB_envinfo info;
    if (!j || mdb_env_info(j->env, &info))
        return;
    if (!j->map_hi || info.me_mapsize != j->map_size) {
        find_map(j);
        j->map_size = info.me_mapsize;
    }
    if (j->map_hi)
        (void)madvise((void *)j->map_lo, j->map_hi - j->map_lo, MADV_DONTNEED);
}

const char *jnl_dir(const jnl *j)
{
    return j->dir;
}

int jnl_txn_begin(jnl *j, bool write, jnl_txn **out, cm_err *err)
{
    *out = NULL;
    jnl_txn *t = calloc(1, sizeof *t);
    if (!t)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    int rc = mdb_txn_begin(j->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
    if (rc) {
        free(t);
        return jnl_lmdb_err(rc, err, "cannot start a journal transaction");
    }
    t->j = j;
    t->write = write;
    cm_buf_init(&t->scratch, 0);
    *out = t;
    return 0;
}

int jnl_txn_commit(jnl_txn *t, cm_err *err)
{
    int rc = mdb_txn_commit(t->txn);
    cm_buf_free(&t->scratch);
    free(t);
    return rc ? jnl_lmdb_err(rc, err, "cannot commit the journal transaction") : 0;
}

void jnl_txn_abort(jnl_txn *t)
{
    if (!t)
        return;
    mdb_txn_abort(t->txn);
    cm_buf_free(&t->scratch);
    free(t);
}

int jnl_last_seq(jnl_txn *t, uint64_t *out, cm_err *err)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->j->dbi[DB_EVENTS], &cur);
    if (rc)
        return jnl_lmdb_err(rc, err, "cannot open a journal cursor");
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) {
        *out = 0;
        return 0;
    }
    if (rc)
        return jnl_lmdb_err(rc, err, "cannot read the journal's end");
    if (k.mv_size != 8)
        return cm_err_set(err, CM_ECORRUPT, "journal key of %zu bytes", k.mv_size);
    *out = from_be64(k.mv_data);
    return 0;
}

int jnl_append(jnl_txn *t, const jnl_rec *rec, uint64_t *seq_out, cm_err *err)
{
    if (!t->next_seq) {
        uint64_t last;
        int rc = jnl_last_seq(t, &last, err);
        if (rc)
            return rc;
        t->next_seq = last + 1;
    }
    cm_buf_reset(&t->scratch);
    if (jnl_rec_encode(rec, &t->scratch))
        return cm_err_set(err, CM_ENOMEM, "cannot encode a journal record");
    uint8_t key[8];
    be64(key, t->next_seq);
    MDB_val k = {8, key}, v = {t->scratch.len, t->scratch.data};
    int rc = mdb_put(t->txn, t->j->dbi[DB_EVENTS], &k, &v, MDB_APPEND);
    if (rc)
        return jnl_lmdb_err(rc, err, "cannot append to the journal");
    if (seq_out)
        *seq_out = t->next_seq;
    t->next_seq++;
    return 0;
}

int jnl_get(jnl_txn *t, uint64_t seq, jnl_rec *rec, cm_err *err)
{
    uint8_t key[8];
    be64(key, seq);
    MDB_val k = {8, key}, v;
    int rc = mdb_get(t->txn, t->j->dbi[DB_EVENTS], &k, &v);
    if (rc)
        return jnl_lmdb_err(rc, err, "cannot read journal record");
    return jnl_rec_decode(rec, v.mv_data, v.mv_size, err);
}

int jnl_cursor_open(jnl_txn *t, uint64_t from_seq, jnl_cursor **out, cm_err *err)
{
    *out = NULL;
    jnl_cursor *c = calloc(1, sizeof *c);
    if (!c)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    int rc = mdb_cursor_open(t->txn, t->j->dbi[DB_EVENTS], &c->cur);
    if (rc) {
        free(c);
        return jnl_lmdb_err(rc, err, "cannot open a journal cursor");
    }
    c->t = t;
    c->from = from_seq;
    *out = c;
    return 0;
}

int jnl_cursor_next(jnl_cursor *c, uint64_t *seq, jnl_rec *rec, cm_err *err)
{
    uint8_t key[8];
    MDB_val k, v;
    int rc;
    if (!c->started) {
        be64(key, c->from);
        k.mv_size = 8;
        k.mv_data = key;
        rc = mdb_cursor_get(c->cur, &k, &v, MDB_SET_RANGE);
        c->started = true;
    } else {
        rc = mdb_cursor_get(c->cur, &k, &v, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return jnl_lmdb_err(rc, err, "cannot read the journal");
    if (k.mv_size != 8)
        return cm_err_set(err, CM_ECORRUPT, "journal key of %zu bytes", k.mv_size);
    *seq = from_be64(k.mv_data);
    rc = jnl_rec_decode(rec, v.mv_data, v.mv_size, err);
    if (rc)
        return cm_err_wrap(err, "journal record %llu", (unsigned long long)*seq);
    return 1;
}

void jnl_cursor_free(jnl_cursor *c)
{
    if (!c)
        return;
    mdb_cursor_close(c->cur);
    free(c);
}

int jnl_commit_put(jnl_txn *t, const jnl_commit *c, cm_err *err)
{
    cm_buf_reset(&t->scratch);
    if (jnl_commit_encode(c, &t->scratch))
        return cm_err_set(err, CM_ENOMEM, "cannot encode a commit point");
    uint8_t key[8];
    be64(key, c->id);
    MDB_val k = {8, key}, v = {t->scratch.len, t->scratch.data};
    int rc = mdb_put(t->txn, t->j->dbi[DB_COMMITS], &k, &v, 0);
    return rc ? jnl_lmdb_err(rc, err, "cannot write a commit point") : 0;
}

int jnl_commit_get(jnl_txn *t, uint64_t id, jnl_commit *c, cm_err *err)
{
    uint8_t key[8];
    be64(key, id);
    MDB_val k = {8, key}, v;
    int rc = mdb_get(t->txn, t->j->dbi[DB_COMMITS], &k, &v);
    if (rc)
        return jnl_lmdb_err(rc, err, "cannot read commit point");
    return jnl_commit_decode(c, v.mv_data, v.mv_size, err);
}

int jnl_commit_last(jnl_txn *t, jnl_commit *c, cm_err *err)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->j->dbi[DB_COMMITS], &cur);
    if (rc)
        return jnl_lmdb_err(rc, err, "cannot open a commit cursor");
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc)
        return jnl_lmdb_err(rc, err, "no commit point");
    return jnl_commit_decode(c, v.mv_data, v.mv_size, err);
}

int jnl_commit_each(jnl_txn *t, int (*fn)(void *arg, const jnl_commit *c), void *arg, cm_err *err)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->j->dbi[DB_COMMITS], &cur);
    if (rc)
        return jnl_lmdb_err(rc, err, "cannot open a commit cursor");
    MDB_val k, v;
    MDB_cursor_op op = MDB_FIRST;
    int out = 0;
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        op = MDB_NEXT;
        jnl_commit c;
        out = jnl_commit_decode(&c, v.mv_data, v.mv_size, err);
        if (out || fn(arg, &c))
            break;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return jnl_lmdb_err(rc, err, "cannot read commit points");
    return out;
}

int jnl_meta_put(jnl_txn *t, const char *key, const void *val, size_t len, cm_err *err)
{
    MDB_val k = {strlen(key), (void *)key}, v = {len, (void *)val};
    int rc = mdb_put(t->txn, t->j->dbi[DB_META], &k, &v, 0);
    return rc ? jnl_lmdb_err(rc, err, "cannot write journal meta value") : 0;
}

int jnl_meta_get(jnl_txn *t, const char *key, jnl_str *val, cm_err *err)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc = mdb_get(t->txn, t->j->dbi[DB_META], &k, &v);
    if (rc)
        return jnl_lmdb_err(rc, err, "journal meta value");
    val->ptr = v.mv_data;
    val->len = (uint32_t)v.mv_size;
    return 0;
}

/* A resource key is the table name, a NUL, then the big-endian row id, so
 * one table's rows sort together. */
static int res_key(cm_buf *b, const char *table, uint64_t row_id)
{
    uint8_t id[8];
    be64(id, row_id);
    cm_buf_reset(b);
    int rc = cm_buf_append(b, table, strlen(table) + 1);
    return rc ? rc : cm_buf_append(b, id, 8);
}

int jnl_idx_put(jnl_txn *t, jnl_idx idx, const char *table, uint64_t row_id, const void *val,
                size_t len, cm_err *err)
{
    cm_buf key;
    cm_buf_init(&key, 4096);
    if (res_key(&key, table, row_id))
        return cm_err_set(err, CM_EINVAL, "table name too long for the journal index");
    MDB_val k = {key.len, key.data}, v = {len, (void *)val};
    int rc = mdb_put(t->txn, t->j->dbi[idx_db[idx]], &k, &v, 0);
    cm_buf_free(&key);
    return rc ? jnl_lmdb_err(rc, err, "cannot write the resource index") : 0;
}

int jnl_idx_put_seq(jnl_txn *t, jnl_idx idx, const char *table, uint64_t row_id, uint64_t seq,
                    cm_err *err)
{
    uint8_t v[8];
    be64(v, seq);
    return jnl_idx_put(t, idx, table, row_id, v, 8, err);
}

int jnl_idx_get(jnl_txn *t, jnl_idx idx, const char *table, uint64_t row_id, jnl_str *val,
                cm_err *err)
{
    cm_buf key;
    cm_buf_init(&key, 4096);
    if (res_key(&key, table, row_id))
        return cm_err_set(err, CM_EINVAL, "table name too long for the journal index");
    MDB_val k = {key.len, key.data}, v;
    int rc = mdb_get(t->txn, t->j->dbi[idx_db[idx]], &k, &v);
    cm_buf_free(&key);
    if (rc)
        return jnl_lmdb_err(rc, err, "resource index");
    val->ptr = v.mv_data;
    val->len = (uint32_t)v.mv_size;
    return 0;
}

int jnl_idx_get_seq(jnl_txn *t, jnl_idx idx, const char *table, uint64_t row_id, uint64_t *seq,
                    cm_err *err)
{
    jnl_str v;
    int rc = jnl_idx_get(t, idx, table, row_id, &v, err);
    if (rc)
        return rc;
    if (v.len != 8)
        return cm_err_set(err, CM_ECORRUPT, "resource index value of %u bytes", v.len);
    *seq = from_be64((const uint8_t *)v.ptr);
    return 0;
}

int jnl_state_image(jnl_txn *t, const char *table, uint64_t row_id, json_t **out, cm_err *err)
{
    jnl_str v;
    *out = NULL;
    int rc = jnl_idx_get(t, JNL_IDX_STATE, table, row_id, &v, err);
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        return 0;
    }
    return rc ? rc : cm_json_parse(out, v.ptr, v.len, err);
}

int jnl_latest_image(jnl_txn *t, const char *table, uint64_t row_id, json_t **out, cm_err *err)
{
    uint64_t seq;
    jnl_rec ev;
    *out = NULL;
    int rc = jnl_idx_get_seq(t, JNL_IDX_LATEST, table, row_id, &seq, err);
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        return 0;
    }
    if (!rc)
        rc = jnl_get(t, seq, &ev, err);
    if (!rc && ev.op != JNL_OP_DELETE && ev.b.ptr)
        rc = cm_json_parse(out, ev.b.ptr, ev.b.len, err);
    return rc;
}

int jnl_state_set(jnl_txn *t, uint64_t commit_id, const char *table, uint64_t row_id,
                  const char *image, size_t len, cm_err *err)
{
    jnl_str cur;
    int rc = jnl_idx_get(t, JNL_IDX_STATE, table, row_id, &cur, err);
    if (rc && rc != CM_ENOTFOUND)
        return rc;
    bool had = rc == 0;
    if (!image && !had)
        return 0;
    if (image && had && cur.len == len && memcmp(cur.ptr, image, len) == 0)
        return 0;
    jnl_rec rec = {.type = JNL_REC_STATE,
                   .commit_id = commit_id,
                   .row_id = row_id,
                   .ts_us = cm_now_us(),
                   .table = {table, (uint32_t)strlen(table)},
                   .a = {image, (uint32_t)len}};
    rc = jnl_append(t, &rec, NULL, err);
    if (rc)
        return rc;
    if (!image)
        return jnl_idx_del(t, JNL_IDX_STATE, table, row_id, err);
    return jnl_idx_put(t, JNL_IDX_STATE, table, row_id, image, len, err);
}

int jnl_idx_del(jnl_txn *t, jnl_idx idx, const char *table, uint64_t row_id, cm_err *err)
{
    cm_buf key;
    cm_buf_init(&key, 4096);
    if (res_key(&key, table, row_id))
        return cm_err_set(err, CM_EINVAL, "table name too long for the journal index");
    MDB_val k = {key.len, key.data};
    int rc = mdb_del(t->txn, t->j->dbi[idx_db[idx]], &k, NULL);
    cm_buf_free(&key);
    if (rc == MDB_NOTFOUND)
        return 0;
    return rc ? jnl_lmdb_err(rc, err, "cannot delete from the resource index") : 0;
}

void jnl_res_free(jnl_res *res, size_t n)
{
    if (!res)
        return;
    for (size_t i = 0; i < n; i++)
        free(res[i].table);
    free(res);
}

/* Walks the keys of one index, starting at table's first key when table is
 * given. For each key calls fn; stops at the end of table's range. */
typedef int (*idx_visit_fn)(void *arg, MDB_cursor *cur, const MDB_val *k, const MDB_val *v);

static int idx_walk(jnl_txn *t, int db, const char *table, idx_visit_fn fn, void *arg, cm_err *err)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->j->dbi[db], &cur);
    if (rc)
        return jnl_lmdb_err(rc, err, "cannot open an index cursor");
    size_t tlen = table ? strlen(table) + 1 : 0;
    MDB_val k = {tlen, (void *)table}, v;
    rc = mdb_cursor_get(cur, &k, &v, table ? MDB_SET_RANGE : MDB_FIRST);
    int out = 0;
    while (rc == 0) {
        if (k.mv_size < 9) {
            out = cm_err_set(err, CM_ECORRUPT, "resource index key of %zu bytes", k.mv_size);
            break;
        }
        if (table && (k.mv_size != tlen + 8 || memcmp(k.mv_data, table, tlen) != 0))
            break;
        out = fn(arg, cur, &k, &v);
        if (out < 0)
            break;
        /* After mdb_cursor_del, MDB_NEXT yields the entry that followed the
         * deleted one, so one step serves both cases. */
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        out = 0;
    }
    mdb_cursor_close(cur);
    if (out)
        return out;
    if (rc && rc != MDB_NOTFOUND)
        return jnl_lmdb_err(rc, err, "cannot walk the resource index");
    return 0;
}

typedef struct list_acc {
    jnl_res *res;
    size_t n, cap;
    bool seq_valued;
} list_acc;

static int list_visit(void *arg, MDB_cursor *cur, const MDB_val *k, const MDB_val *v)
{
    (void)cur;
    list_acc *acc = arg;
    if (acc->n == acc->cap) {
        size_t cap = acc->cap ? acc->cap * 2 : 64;
        jnl_res *p = realloc(acc->res, cap * sizeof *p);
        if (!p)
            return CM_ENOMEM;
        acc->res = p;
        acc->cap = cap;
    }
    jnl_res *r = &acc->res[acc->n];
    r->table = strndup(k->mv_data, k->mv_size - 9);
    if (!r->table)
        return CM_ENOMEM;
    r->row_id = from_be64((const uint8_t *)k->mv_data + k->mv_size - 8);
    r->seq = acc->seq_valued && v->mv_size == 8 ? from_be64(v->mv_data) : 0;
    acc->n++;
    return 0;
}

int jnl_idx_list(jnl_txn *t, jnl_idx idx, const char *table, jnl_res **out, size_t *n, cm_err *err)
{
    list_acc acc = {NULL, 0, 0, idx != JNL_IDX_STATE};
    int rc = idx_walk(t, idx_db[idx], table, list_visit, &acc, err);
    if (rc) {
        jnl_res_free(acc.res, acc.n);
        if (rc == CM_ENOMEM)
            cm_err_set(err, CM_ENOMEM, "out of memory listing the resource index");
        return rc;
    }
    *out = acc.res;
    *n = acc.n;
    return 0;
}

static int clear_visit(void *arg, MDB_cursor *cur, const MDB_val *k, const MDB_val *v)
{
    (void)arg;
    (void)k;
    (void)v;
    return mdb_cursor_del(cur, 0) ? CM_EJOURNAL : 0;
}

int jnl_idx_clear_table(jnl_txn *t, const char *table, cm_err *err)
{
    for (int i = 0; i < JNL_IDX_COUNT; i++) {
        int rc = idx_walk(t, idx_db[i], table, clear_visit, NULL, err);
        if (rc)
            return rc == CM_EJOURNAL ? cm_err_set(err, rc, "cannot clear the resource index") : rc;
    }
    return 0;
}

typedef struct verify_state {
    uint64_t last_seq;
    uint64_t prev_id;
    size_t problems;
    cm_buf *report;
} verify_state;

static int verify_commit(void *arg, const jnl_commit *c)
{
    verify_state *v = arg;
    if (c->id <= v->prev_id || c->last_seq > v->last_seq || c->barrier_seq > v->last_seq ||
        (c->first_seq && c->first_seq > c->last_seq)) {
        cm_buf_printf(v->report, "commit point %llu refers to records beyond the log (last %llu)\n",
                      (unsigned long long)c->id, (unsigned long long)v->last_seq);
        v->problems++;
    }
    v->prev_id = c->id;
    return 0;
}

int jnl_verify(jnl *j, uint64_t *records, size_t *problems, cm_buf *report, cm_err *err)
{
    jnl_txn *t;
    int rc = jnl_txn_begin(j, false, &t, err);
    if (rc)
        return rc;
    MDB_cursor *cur;
    rc = mdb_cursor_open(t->txn, j->dbi[DB_EVENTS], &cur);
    if (rc) {
        jnl_txn_abort(t);
        return jnl_lmdb_err(rc, err, "cannot open a journal cursor");
    }
    verify_state v = {0, 0, 0, report};
    uint64_t expect = 1, n = 0;
    MDB_val k, val;
    MDB_cursor_op op = MDB_FIRST;
    while ((rc = mdb_cursor_get(cur, &k, &val, op)) == 0) {
        op = MDB_NEXT;
        n++;
        if (k.mv_size != 8) {
            cm_buf_printf(report, "a key of %zu bytes in the log\n", k.mv_size);
            v.problems++;
            continue;
        }
        uint64_t seq = from_be64(k.mv_data);
        if (seq != expect) {
            cm_buf_printf(report, "record %llu follows %llu: records are missing\n",
                          (unsigned long long)seq, (unsigned long long)(expect - 1));
            v.problems++;
        }
        expect = seq + 1;
        jnl_rec rec;
        cm_err derr = {0};
        if (jnl_rec_decode(&rec, val.mv_data, val.mv_size, &derr)) {
            cm_buf_printf(report, "record %llu: %s\n", (unsigned long long)seq, derr.msg);
            v.problems++;
        }
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND) {
        jnl_txn_abort(t);
        return jnl_lmdb_err(rc, err, "cannot read the journal");
    }
    v.last_seq = expect - 1;
    rc = jnl_commit_each(t, verify_commit, &v, err);
    jnl_txn_abort(t);
    if (rc == CM_ECORRUPT) {
        cm_buf_printf(report, "%s\n", err->msg);
        v.problems++;
        rc = 0;
    }
    *records = n;
    *problems = v.problems;
    return rc;
}
