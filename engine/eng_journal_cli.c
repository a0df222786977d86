/* engine/eng_journal_cli.c — `iasql journal dump|verify DIR`: read a journal
 * without a database. verify exits non-zero on any damage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/eng.h"

static int dump_commit(void *arg, const jnl_commit *c)
{
    bool as_json = *(bool *)arg;
    cm_buf b;
    cm_buf_init(&b, 0);
    jnl_commit_format(c, as_json, &b);
    printf("%s\n", cm_buf_str(&b));
    cm_buf_free(&b);
    return 0;
}

static int dump(jnl *j, bool as_json, cm_err *err)
{
    jnl_txn *t;
    jnl_cursor *c;
    int rc = jnl_txn_begin(j, false, &t, err);
    if (rc)
        return rc;
    rc = jnl_cursor_open(t, 1, &c, err);
    uint64_t seq;
    jnl_rec rec;
    cm_buf b;
    cm_buf_init(&b, 0);
    while (!rc && (rc = jnl_cursor_next(c, &seq, &rec, err)) == 1) {
        rc = 0;
        cm_buf_reset(&b);
        jnl_rec_format(&rec, seq, as_json, &b);
        printf("%s\n", cm_buf_str(&b));
    }
    cm_buf_free(&b);
    jnl_cursor_free(c);
    if (rc >= 0)
        rc = jnl_commit_each(t, dump_commit, &as_json, err);
    jnl_txn_abort(t);
    return rc < 0 ? rc : 0;
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
        fprintf(stderr, "usage: iasql journal dump|verify DIR [--json]\n"
                        "       iasql journal replay DIR CONNINFO [--to COMMIT_ID]\n"
                        "       iasql journal rebuild CONNINFO --journal DIR\n");
        return 2;
    }
    if (strcmp(argv[0], "replay") == 0)
        return replay_main(argc, argv);
    if (strcmp(argv[0], "rebuild") == 0)
        return rebuild_main(argc, argv);
    const char *cmd = argv[0], *dir = argv[1];
    bool as_json = argc > 2 && strcmp(argv[2], "--json") == 0;
    jnl *j;
    cm_err err = {0};
    cm_err_clear(&err);
    /* a mistyped path must not look like a healthy, empty journal */
    int rc = eng_journal_exists(dir) ? 0 : cm_err_set(&err, CM_ENOTFOUND, "no journal at %s", dir);
    if (!rc)
        rc = jnl_open(&j, dir, &err);
    if (!rc) {
        if (strcmp(cmd, "dump") == 0)
            rc = dump(j, as_json, &err);
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
