/* journal/jnl_rec.c — the record codec. Each record type is a table of
 * fields; encode, decode and format walk those tables. Integers are
 * little-endian; a string is a u32 length then its bytes, with length
 * 0xFFFFFFFF meaning NULL. Every record starts with the format version byte
 * and the type byte. docs/journal.md is the byte-level description of these
 * tables: change both together. Must never trust a length it reads. */
#include "journal/jnl.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { F_U8, F_U64, F_I64, F_STR } jnl_field_kind;

typedef struct jnl_field {
    const char *name;
    jnl_field_kind kind;
    size_t offset;
} jnl_field;

#define R(member) offsetof(jnl_rec, member)
#define C(member) offsetof(jnl_commit, member)

static const jnl_field event_fields[] = {{"origin", F_U8, R(origin)},
                                         {"op", F_U8, R(op)},
                                         {"row_id", F_U64, R(row_id)},
                                         {"txid", F_U64, R(txid)},
                                         {"audit_id", F_U64, R(audit_id)},
                                         {"ts_us", F_I64, R(ts_us)},
                                         {"table", F_STR, R(table)},
                                         {"old", F_STR, R(a)},
                                         {"new", F_STR, R(b)},
                                         {NULL, 0, 0}};

static const jnl_field intent_fields[] = {
    {"commit_id", F_U64, R(commit_id)}, {"row_id", F_U64, R(row_id)},
    {"action", F_U8, R(action)},        {"ts_us", F_I64, R(ts_us)},
    {"table", F_STR, R(table)},         {"token", F_STR, R(a)},
    {"desired", F_STR, R(b)},           {NULL, 0, 0}};

static const jnl_field result_fields[] = {{"commit_id", F_U64, R(commit_id)},
                                          {"row_id", F_U64, R(row_id)},
                                          {"action", F_U8, R(action)},
                                          {"ok", F_U8, R(ok)},
                                          {"ts_us", F_I64, R(ts_us)},
                                          {"table", F_STR, R(table)},
                                          {"cloud", F_STR, R(a)},
                                          {"error", F_STR, R(b)},
                                          {NULL, 0, 0}};

static const jnl_field mark_fields[] = {{"kind", F_U8, R(op)},
                                        {"ts_us", F_I64, R(ts_us)},
                                        {"table", F_STR, R(table)},
                                        {"module", F_STR, R(a)},
                                        {NULL, 0, 0}};

static const jnl_field state_fields[] = {
    {"commit_id", F_U64, R(commit_id)}, {"row_id", F_U64, R(row_id)}, {"ts_us", F_I64, R(ts_us)},
    {"table", F_STR, R(table)},         {"cloud", F_STR, R(a)},       {NULL, 0, 0}};

static const jnl_field conflict_fields[] = {
    {"row_id", F_U64, R(row_id)}, {"ts_us", F_I64, R(ts_us)}, {"table", F_STR, R(table)},
    {"cloud", F_STR, R(a)},       {"message", F_STR, R(b)},   {NULL, 0, 0}};

static const jnl_field commit_fields[] = {{"id", F_U64, C(id)},
                                          {"ts_us", F_I64, C(ts_us)},
                                          {"status", F_U8, C(status)},
                                          {"first_seq", F_U64, C(first_seq)},
                                          {"last_seq", F_U64, C(last_seq)},
                                          {"barrier_seq", F_U64, C(barrier_seq)},
                                          {"n_create", F_U64, C(n_create)},
                                          {"n_update", F_U64, C(n_update)},
                                          {"n_replace", F_U64, C(n_replace)},
                                          {"n_delete", F_U64, C(n_delete)},
                                          {"n_failed", F_U64, C(n_failed)},
                                          {"message", F_STR, C(message)},
                                          {"results", F_STR, C(results)},
                                          {NULL, 0, 0}};

/* Indexed by jnl_rec_type. */
static const struct {
    const char *name;
    const jnl_field *fields;
} rec_types[] = {
    {NULL, NULL},
    {"event", event_fields},
    {"intent", intent_fields},
    {"result", result_fields},
    {"mark", mark_fields},
    {"state", state_fields},
    {"conflict", conflict_fields},
};

#define COMMIT_TYPE 0xC1

const char *jnl_rec_type_name(uint8_t type)
{
    return type >= 1 && type <= JNL_REC_MAX ? rec_types[type].name : "unknown";
}

const char *jnl_origin_name(uint8_t origin)
{
    static const char *const names[] = {"?", "user", "engine", "cloud"};
    return origin <= JNL_ORIGIN_CLOUD ? names[origin] : "?";
}

const char *jnl_op_name(uint8_t op)
{
    static const char *const names[] = {"?", "INSERT", "UPDATE", "DELETE"};
    return op <= JNL_OP_DELETE ? names[op] : "?";
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int encode_fields(const jnl_field *fields, const void *base, uint8_t type, cm_buf *b)
{
    uint8_t head[2] = {JNL_FORMAT_VERSION, type};
    int rc = cm_buf_append(b, head, 2);
    for (const jnl_field *f = fields; !rc && f->name; f++) {
        const char *p = (const char *)base + f->offset;
        uint8_t tmp[8];
        switch (f->kind) {
        case F_U8:
            rc = cm_buf_append(b, p, 1);
            break;
        case F_U64:
        case F_I64: {
            uint64_t v;
            memcpy(&v, p, 8);
            put_le(tmp, v, 8);
            rc = cm_buf_append(b, tmp, 8);
            break;
        }
        case F_STR: {
            const jnl_str *s = (const jnl_str *)p;
            put_le(tmp, s->ptr ? s->len : 0xFFFFFFFFu, 4);
            rc = cm_buf_append(b, tmp, 4);
            if (!rc && s->ptr)
                rc = cm_buf_append(b, s->ptr, s->len);
            break;
        }
        }
    }
    return rc;
}

static int decode_fields(const jnl_field *fields, void *base, const uint8_t *data, size_t len,
                         cm_err *err)
{
    size_t off = 2;
    for (const jnl_field *f = fields; f->name; f++) {
        char *p = (char *)base + f->offset;
        size_t need = f->kind == F_U8 ? 1 : f->kind == F_STR ? 4 : 8;
        if (len - off < need)
            return cm_err_set(err, CM_ECORRUPT, "journal record truncated in field %s", f->name);
        if (f->kind == F_U8) {
            *(uint8_t *)p = data[off];
        } else if (f->kind == F_STR) {
            uint32_t n = (uint32_t)get_le(data + off, 4);
            jnl_str *s = (jnl_str *)p;
            off += 4;
            need = 0;
            if (n == 0xFFFFFFFFu) {
                s->ptr = NULL;
                s->len = 0;
            } else {
                if (len - off < n)
                    return cm_err_set(err, CM_ECORRUPT,
                                      "journal record field %s claims %u bytes, %zu left", f->name,
                                      n, len - off);
                s->ptr = (const char *)data + off;
                s->len = n;
                need = n;
            }
        } else {
            uint64_t v = get_le(data + off, 8);
            memcpy(p, &v, 8);
        }
        off += need;
    }
    if (off != len)
        return cm_err_set(err, CM_ECORRUPT, "journal record has %zu trailing bytes", len - off);
    return 0;
}

int jnl_rec_encode(const jnl_rec *rec, cm_buf *b)
{
    if (rec->type < 1 || rec->type > JNL_REC_MAX)
        return CM_EINVAL;
    return encode_fields(rec_types[rec->type].fields, rec, rec->type, b);
}

int jnl_rec_decode(jnl_rec *rec, const void *data, size_t len, cm_err *err)
{
    const uint8_t *d = data;
    memset(rec, 0, sizeof *rec);
    if (len < 2)
        return cm_err_set(err, CM_ECORRUPT, "journal record of %zu bytes is too short", len);
    if (d[0] != JNL_FORMAT_VERSION)
        return cm_err_set(err, CM_ECORRUPT, "journal record format %u, expected %u", d[0],
                          JNL_FORMAT_VERSION);
    if (d[1] < 1 || d[1] > JNL_REC_MAX)
        return cm_err_set(err, CM_ECORRUPT, "journal record type %u is unknown", d[1]);
    rec->type = d[1];
    return decode_fields(rec_types[rec->type].fields, rec, d, len, err);
}

int jnl_commit_encode(const jnl_commit *c, cm_buf *b)
{
    return encode_fields(commit_fields, c, COMMIT_TYPE, b);
}

int jnl_commit_decode(jnl_commit *c, const void *data, size_t len, cm_err *err)
{
    const uint8_t *d = data;
    memset(c, 0, sizeof *c);
    if (len < 2 || d[0] != JNL_FORMAT_VERSION || d[1] != COMMIT_TYPE)
        return cm_err_set(err, CM_ECORRUPT, "commit point record is damaged");
    return decode_fields(commit_fields, c, d, len, err);
}

/* A code's name, for people and log shippers. */
static const char *code_name(const char *field, uint8_t type, uint8_t v)
{
    static const char *const ops[] = {NULL, "insert", "update", "delete"};
    static const char *const kinds[] = {NULL, "install", "uninstall"};
    static const char *const actions[] = {NULL, "create", "update", "replace", "delete"};
    static const char *const statuses[] = {NULL, "ok", "partial", "failed"};
    if (strcmp(field, "origin") == 0)
        return v >= 1 && v <= JNL_ORIGIN_CLOUD ? jnl_origin_name(v) : NULL;
    if (strcmp(field, "op") == 0 && v >= 1 && v <= 3)
        return ops[v];
    if (strcmp(field, "kind") == 0 && type == JNL_REC_MARK && v >= 1 && v <= 2)
        return kinds[v];
    if (strcmp(field, "action") == 0 && v >= 1 && v <= 4)
        return actions[v];
    if (strcmp(field, "status") == 0 && type == COMMIT_TYPE && v >= 1 && v <= 3)
        return statuses[v];
    if (strcmp(field, "ok") == 0 && v <= 1)
        return v ? "true" : "false";
    return NULL;
}

/* Fields that hold a row image or a list as JSON text. */
static bool json_field(const char *field)
{
    static const char *const names[] = {"old", "new", "desired", "cloud", "results", NULL};
    for (int i = 0; names[i]; i++)
        if (strcmp(field, names[i]) == 0)
            return true;
    return false;
}

/* Microseconds since 1970 as ISO 8601 UTC. */
static void iso_time(int64_t us, char *out, size_t size)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    if (us < 0 || !gmtime_r(&t, &tm)) {
        snprintf(out, size, "%lld", (long long)us);
        return;
    }
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, size - n, ".%06lldZ", (long long)(us % 1000000));
}

/* Formats the fields as "name=value" pairs or as one JSON object: codes by
 * name, times in ISO 8601 ("time"), images as JSON (never cut). */
static int format_fields(const jnl_field *fields, uint8_t type, const void *base, json_t *obj,
                         cm_buf *b)
{
    int rc = 0;
    for (const jnl_field *f = fields; !rc && f->name; f++) {
        const char *p = (const char *)base + f->offset;
        const char *name = f->name;
        json_t *v = NULL;
        const char *raw = NULL; /* text mode: JSON text printed as it is */
        size_t raw_len = 0;
        if (f->kind == F_U8) {
            const char *n = code_name(f->name, type, *(const uint8_t *)p);
            v = n ? (strcmp(f->name, "ok") == 0 ? json_boolean(*(const uint8_t *)p)
                                                : json_string(n))
                  : json_integer(*(const uint8_t *)p);
        } else if (f->kind == F_STR) {
            const jnl_str *s = (const jnl_str *)p;
            json_t *parsed = s->ptr && json_field(f->name)
                                 ? json_loadb(s->ptr, s->len, JSON_DECODE_ANY, NULL)
                                 : NULL;
            if (parsed && !obj) {
                raw = s->ptr;
                raw_len = s->len;
                json_decref(parsed);
            } else if (parsed) {
                v = parsed;
            } else {
                v = s->ptr ? json_stringn_nocheck(s->ptr, s->len) : json_null();
            }
        } else {
            int64_t x;
            memcpy(&x, p, 8);
            if (strcmp(f->name, "ts_us") == 0) {
                char t[48];
                iso_time(x, t, sizeof t);
                name = "time";
                v = json_string(t);
            } else {
                v = json_integer(x);
            }
        }
        if (obj) {
            json_object_set_new(obj, name, v);
        } else if (raw) {
            rc = cm_buf_printf(b, " %s=", name);
            if (!rc)
                rc = cm_buf_append(b, raw, raw_len);
        } else {
            bool bare = json_is_string(v) && (strcmp(name, "time") == 0 || f->kind == F_U8);
            char *txt = bare ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            rc = cm_buf_printf(b, " %s=%s", name, bare ? json_string_value(v) : txt ? txt : "?");
            free(txt);
            json_decref(v);
        }
    }
    return rc;
}

static int format_json(json_t *obj, cm_buf *b)
{
    char *txt = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (!txt)
        return CM_ENOMEM;
    int rc = cm_buf_puts(b, txt);
    free(txt);
    return rc;
}

int jnl_rec_format(const jnl_rec *rec, uint64_t seq, bool as_json, cm_buf *b)
{
    if (rec->type < 1 || rec->type > JNL_REC_MAX)
        return CM_EINVAL;
    const jnl_field *fields = rec_types[rec->type].fields;
    if (!as_json) {
        int rc = cm_buf_printf(b, "%llu %s", (unsigned long long)seq, rec_types[rec->type].name);
        return rc ? rc : format_fields(fields, rec->type, rec, NULL, b);
    }
    json_t *obj = json_object();
    json_object_set_new(obj, "seq", json_integer((json_int_t)seq));
    json_object_set_new(obj, "type", json_string(rec_types[rec->type].name));
    format_fields(fields, rec->type, rec, obj, NULL);
    return format_json(obj, b);
}

int jnl_commit_format(const jnl_commit *c, bool as_json, cm_buf *b)
{
    if (!as_json) {
        int rc = cm_buf_puts(b, "commit");
        return rc ? rc : format_fields(commit_fields, COMMIT_TYPE, c, NULL, b);
    }
    json_t *obj = json_object();
    json_object_set_new(obj, "type", json_string("commit"));
    format_fields(commit_fields, COMMIT_TYPE, c, obj, NULL);
    return format_json(obj, b);
}
