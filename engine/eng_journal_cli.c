/* engine/eng_journal_cli.c — `iasql journal dump|verify DIR`: read a journal
 * without a database. verify exits non-zero on any damage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/eng.h"

/* What `journal dump` prints: all, or what the filters keep. */
typedef struct dump_filter {
    bool as_json;
    const char *table; /* --table: only this table's records (no commit points) */
    int64_t since_us;  /* --since: records from this time on */
    uint64_t commit;   /* --commit N: what commit N did and the changes it took in */
    uint64_t first_seq, last_seq, events_after, events_upto; /* of that commit */
    bool found;
} dump_filter;

static int find_commit(void *arg, const jnl_commit *c)
{
    dump_filter *f = arg;
    if (c->id < f->commit)
        f->events_after = c->barrier_seq; /* the events the commit before took in */
    if (c->id == f->commit) {
        f->first_seq = c->first_seq;
        f->last_seq = c->last_seq;
        f->events_upto = c->barrier_seq;
        f->found = true;
    }
    return 0;
}

static bool keeps(const dump_filter *f, uint64_t seq, const jnl_rec *rec)
{
    if (f->table && (!rec->table.ptr || strlen(f->table) != rec->table.len ||
                     memcmp(rec->table.ptr, f->table, rec->table.len) != 0))
        return false;
    if (f->since_us && rec->ts_us < f->since_us)
        return false;
    if (f->commit) {
        bool its_event =
            rec->type == JNL_REC_EVENT && seq > f->events_after && seq <= f->events_upto;
        bool its_own = (seq >= f->first_seq && seq <= f->last_seq) ||
                       ((rec->type == JNL_REC_INTENT || rec->type == JNL_REC_RESULT ||
                         rec->type == JNL_REC_STATE) &&
                        rec->commit_id == f->commit);
        if (!its_event && !its_own)
            return false;
    }
    return true;
}

static int dump_commit(void *arg, const jnl_commit *c)
{
    const dump_filter *f = arg;
    if (f->table || (f->since_us && c->ts_us < f->since_us) || (f->commit && c->id != f->commit))
        return 0;
    cm_buf b;
    cm_buf_init(&b, (size_t)1 << 30);
    if (jnl_commit_format(c, f->as_json, &b) == 0)
        printf("%s\n", cm_buf_str(&b));
    cm_buf_free(&b);
    return 0;
}

static int dump(jnl *j, dump_filter *f, cm_err *err)
{
    jnl_txn *t;
    jnl_cursor *c;
    int rc = jnl_txn_begin(j, false, &t, err);
    if (rc)
        return rc;
    if (f->commit) {
        rc = jnl_commit_each(t, find_commit, f, err);
        if (!rc && !f->found)
            rc = cm_err_set(err, CM_ENOTFOUND, "the journal has no commit %llu",
                            (unsigned long long)f->commit);
        if (rc) {
            jnl_txn_abort(t);
            return rc;
        }
    }
    rc = jnl_cursor_open(t, 1, &c, err);
    uint64_t seq;
    jnl_rec rec;
    cm_buf b;
    cm_buf_init(&b, (size_t)1 << 30); /* an image is printed whole, however large */
    while (!rc && (rc = jnl_cursor_next(c, &seq, &rec, err)) == 1) {
        rc = 0;
        if (!keeps(f, seq, &rec))
            continue;
        cm_buf_reset(&b);
        if (jnl_rec_format(&rec, seq, f->as_json, &b))
            rc = cm_err_set(err, CM_ENOMEM, "record %llu does not fit in memory to print",
                            (unsigned long long)seq);
        else
            printf("%s\n", cm_buf_str(&b));
    }
    cm_buf_free(&b);
    jnl_cursor_free(c);
    if (rc >= 0)
        rc = jnl_commit_each(t, dump_commit, f, err);
    jnl_txn_abort(t);
    return rc < 0 ? rc : 0;
}

/* An ISO 8601 time (2026-12-01T17:00:00Z, or a date) as microseconds. */
static int64_t parse_since(const char *s)
{
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) {
        memset(&tm, 0, sizeof tm);
        end = strptime(s, "%Y-%m-%d", &tm);
    }
    if (!end || (*end && strcmp(end, "Z") != 0))
        return -1;
    return (int64_t)timegm(&tm) * 1000000;
}

static int verify(jnl *j, cm_err *err)
{
    uint64_t records;
    size_t problems;
    cm_buf report;
    cm_buf_init(&report, 1 << 20);
    int rc = jnl_verify(j, &records, &problems, &report, err);
    if (!rc) {
        fputs(cm_buf_str(&report), stderr);
        printf("%llu records, %zu problems\n", (unsigned long long)records, problems);
        if (problems)
            rc = cm_err_set(err, CM_ECORRUPT, "the journal has %zu problems", problems);
    }
    cm_buf_free(&report);
    return rc;
}

static int replay_main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: iasql journal replay DIR CONNINFO [--to COMMIT_ID]\n");
        return 2;
    }
    uint64_t to = 0;
    for (int i = 3; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--to") == 0 && i + 1 < argc &&
            (to = strtoull(argv[i + 1], &end, 10)) > 0 && !*end) {
            i++;
            continue;
        }
        fprintf(stderr, "iasql journal replay: bad option %s (--to takes a commit id from 1)\n",
                argv[i]);
        return 2;
    }
    cm_err err = {0};
    cm_err_clear(&err);
    if (eng_replay(argv[1], argv[2], to, &err)) {
        fprintf(stderr, "iasql journal replay: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int rebuild_main(int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[2], "--journal") != 0) {
        fprintf(stderr, "usage: iasql journal rebuild CONNINFO --journal DIR\n");
        return 2;
    }
    cm_err err = {0};
    cm_err_clear(&err);
    if (eng_rebuild(argv[1], argv[3], &err)) {
        fprintf(stderr, "iasql journal rebuild: %s\n", err.msg);
        return 1;
    }
    return 0;
}

int eng_journal_main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: iasql journal dump DIR [--json] [--table NAME] [--since TIME] "
                        "[--commit N]\n"
                        "       iasql journal verify DIR\n"
                        "       iasql journal replay DIR CONNINFO [--to COMMIT_ID]\n"
                        "       iasql journal rebuild CONNINFO --journal DIR\n");
        return 2;
    }
    if (strcmp(argv[0], "replay") == 0)
        return replay_main(argc, argv);
    if (strcmp(argv[0], "rebuild") == 0)
        return rebuild_main(argc, argv);
    const char *cmd = argv[0], *dir = argv[1];
    dump_filter f = {0};
    for (int i = 2; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--json") == 0) {
            f.as_json = true;
        } else if (strcmp(argv[i], "--table") == 0 && i + 1 < argc) {
            f.table = argv[++i];
        } else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
            if ((f.since_us = parse_since(argv[++i])) < 0) {
                fprintf(stderr,
                        "iasql journal %s: --since takes an ISO 8601 time "
                        "(2026-12-01T17:00:00Z) or a date, not %s\n",
                        cmd, argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--commit") == 0 && i + 1 < argc &&
                   (f.commit = strtoull(argv[i + 1], &end, 10)) > 0 && !*end) {
            i++;
        } else {
            fprintf(stderr,
                    "iasql journal %s: unknown option %s (--json, --table NAME, --since TIME, "
                    "--commit N)\n",
                    cmd, argv[i]);
            return 2;
        }
    }
    jnl *j;
    cm_err err = {0};
    cm_err_clear(&err);
    /* a mistyped path must not look like a healthy, empty journal */
    int rc = eng_journal_exists(dir) ? 0 : cm_err_set(&err, CM_ENOTFOUND, "no journal at %s", dir);
    if (!rc)
        rc = jnl_open(&j, dir, &err);
    if (!rc) {
        if (strcmp(cmd, "dump") == 0)
            rc = dump(j, &f, &err);
        else if (strcmp(cmd, "verify") == 0)
            rc = verify(j, &err);
        else
            rc = cm_err_set(&err, CM_EINVAL, "unknown journal command %s (dump, verify)", cmd);
        jnl_free(j);
    }
    if (rc) {
        fprintf(stderr, "iasql journal %s: %s\n", cmd, err.msg);
        return 1;
    }
    return 0;
}
