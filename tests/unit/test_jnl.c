/* tests/unit/test_jnl.c — the journal: append and read back, cursors,
 * commit points, the resource index, damaged records, reopen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "journal/jnl.h"

static int make_dir(void **state)
{
    char *dir = strdup("/tmp/iasql-test-jnl.XXXXXX");
    assert_non_null(mkdtemp(dir));
    *state = dir;
    return 0;
}

static int remove_dir(void **state)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
    int rc = system(cmd);
    free(*state);
    return rc;
}

static jnl_str S(const char *s)
{
    return (jnl_str){s, s ? (uint32_t)strlen(s) : 0};
}

static void append_events(jnl *j, int n)
{
    jnl_txn *t;
    cm_err err = {0};
    assert_int_equal(jnl_txn_begin(j, true, &t, &err), 0);
    for (int i = 0; i < n; i++) {
        jnl_rec ev = {.type = JNL_REC_EVENT,
                      .origin = JNL_ORIGIN_USER,
                      .op = JNL_OP_INSERT,
                      .row_id = (uint64_t)i + 100,
                      .txid = 7,
                      .audit_id = (uint64_t)i + 1,
                      .ts_us = 1234567,
                      .table = S("bucket"),
                      .a = S(NULL),
                      .b = S("{\"name\":\"x\"}")};
        uint64_t seq;
        assert_int_equal(jnl_append(t, &ev, &seq, &err), 0);
    }
    assert_int_equal(jnl_txn_commit(t, &err), 0);
}

static void test_jnl_append_and_scan(void **state)
{
    jnl *j;
    cm_err err = {0};
    assert_int_equal(jnl_open(&j, *state, &err), 0);
    append_events(j, 1000);
    append_events(j, 10);
    jnl_txn *t;
    assert_int_equal(jnl_txn_begin(j, false, &t, &err), 0);
    uint64_t last;
    assert_int_equal(jnl_last_seq(t, &last, &err), 0);
    assert_int_equal(last, 1010);
    jnl_cursor *c;
    assert_int_equal(jnl_cursor_open(t, 5, &c, &err), 0);
    uint64_t seq, expect = 5;
    jnl_rec rec;
    int rc;
    while ((rc = jnl_cursor_next(c, &seq, &rec, &err)) == 1) {
        assert_int_equal(seq, expect++);
        assert_int_equal(rec.type, JNL_REC_EVENT);
        assert_int_equal(rec.txid, 7);
        assert_null(rec.a.ptr); /* NULL survives the round trip */
        assert_int_equal(rec.b.len, strlen("{\"name\":\"x\"}"));
    }
    assert_int_equal(rc, 0);
    assert_int_equal(expect, 1011);
    jnl_cursor_free(c);
    assert_int_equal(jnl_get(t, 1000, &rec, &err), 0);
    assert_int_equal(rec.row_id, 100 + 999); /* seq 1000 is the 1000th event */
    assert_int_equal(jnl_get(t, 5000, &rec, &err), CM_ENOTFOUND);
    jnl_txn_abort(t);
    jnl_free(j);
    /* reopen: the data and the format check survive */
    assert_int_equal(jnl_open(&j, *state, &err), 0);
    assert_int_equal(jnl_txn_begin(j, false, &t, &err), 0);
    assert_int_equal(jnl_last_seq(t, &last, &err), 0);
    assert_int_equal(last, 1010);
    jnl_txn_abort(t);
    jnl_free(j);
}

static void test_jnl_commit_points(void **state)
{
    jnl *j;
    cm_err err = {0};
    jnl_txn *t;
    assert_int_equal(jnl_open(&j, *state, &err), 0);
    assert_int_equal(jnl_txn_begin(j, true, &t, &err), 0);
    jnl_commit c;
    assert_int_equal(jnl_commit_last(t, &c, &err), CM_ENOTFOUND);
    for (uint64_t id = 1; id <= 3; id++) {
        jnl_commit w = {.id = id,
                        .ts_us = 99,
                        .status = JNL_COMMIT_OK,
                        .first_seq = id * 10,
                        .last_seq = id * 10 + 5,
                        .n_create = id,
                        .message = S("hello"),
                        .results = S("[]")};
        assert_int_equal(jnl_commit_put(t, &w, &err), 0);
    }
    assert_int_equal(jnl_txn_commit(t, &err), 0);
    assert_int_equal(jnl_txn_begin(j, false, &t, &err), 0);
    assert_int_equal(jnl_commit_last(t, &c, &err), 0);
    assert_int_equal(c.id, 3);
    assert_int_equal(c.n_create, 3);
    assert_memory_equal(c.message.ptr, "hello", 5);
    assert_int_equal(jnl_commit_get(t, 2, &c, &err), 0);
    assert_int_equal(c.last_seq, 25);
    jnl_txn_abort(t);
    jnl_free(j);
}

static void test_jnl_resource_index(void **state)
{
    jnl *j;
    cm_err err = {0};
    jnl_txn *t;
    assert_int_equal(jnl_open(&j, *state, &err), 0);
    assert_int_equal(jnl_txn_begin(j, true, &t, &err), 0);
    assert_int_equal(jnl_idx_put_seq(t, JNL_IDX_DIRTY, "bucket", 1, 10, &err), 0);
    assert_int_equal(jnl_idx_put_seq(t, JNL_IDX_DIRTY, "bucket", 2, 11, &err), 0);
    assert_int_equal(jnl_idx_put_seq(t, JNL_IDX_DIRTY, "bucketx", 3, 12, &err), 0);
    assert_int_equal(jnl_idx_put_seq(t, JNL_IDX_DIRTY, "queue", 4, 13, &err), 0);
    assert_int_equal(jnl_idx_put(t, JNL_IDX_STATE, "bucket", 1, "{}", 2, &err), 0);
    jnl_res *res;
    size_t n;
    assert_int_equal(jnl_idx_list(t, JNL_IDX_DIRTY, "bucket", &res, &n, &err), 0);
    assert_int_equal(n, 2); /* "bucketx" is another table, not a prefix match */
    assert_string_equal(res[1].table, "bucket");
    assert_int_equal(res[1].row_id, 2);
    assert_int_equal(res[1].seq, 11);
    jnl_res_free(res, n);
    assert_int_equal(jnl_idx_list(t, JNL_IDX_DIRTY, NULL, &res, &n, &err), 0);
    assert_int_equal(n, 4);
    jnl_res_free(res, n);
    assert_int_equal(jnl_idx_clear_table(t, "bucket", &err), 0);
    assert_int_equal(jnl_idx_list(t, JNL_IDX_DIRTY, NULL, &res, &n, &err), 0);
    assert_int_equal(n, 2);
    jnl_res_free(res, n);
    jnl_str v;
    assert_int_equal(jnl_idx_get(t, JNL_IDX_STATE, "bucket", 1, &v, &err), CM_ENOTFOUND);
    assert_int_equal(jnl_idx_del(t, JNL_IDX_STATE, "bucket", 1, &err), 0); /* absent: fine */
    assert_int_equal(jnl_txn_commit(t, &err), 0);
    jnl_free(j);
}

/* jnl_state_set journals a state record only when the state changes, and
 * the record round-trips. */
static void test_jnl_state_records(void **state)
{
    jnl *j;
    cm_err err = {0};
    jnl_txn *t;
    uint64_t last;
    assert_int_equal(jnl_open(&j, *state, &err), 0);
    assert_int_equal(jnl_txn_begin(j, true, &t, &err), 0);
    assert_int_equal(jnl_state_set(t, 3, "queue", 7, "{\"a\":1}", 7, &err), 0);
    assert_int_equal(jnl_state_set(t, 3, "queue", 7, "{\"a\":1}", 7, &err), 0); /* same */
    assert_int_equal(jnl_last_seq(t, &last, &err), 0);
    assert_int_equal(last, 1);
    assert_int_equal(jnl_state_set(t, 4, "queue", 7, NULL, 0, &err), 0); /* gone */
    assert_int_equal(jnl_state_set(t, 4, "queue", 7, NULL, 0, &err), 0); /* still gone */
    assert_int_equal(jnl_state_set(t, 4, "queue", 8, NULL, 0, &err), 0); /* never was */
    assert_int_equal(jnl_last_seq(t, &last, &err), 0);
    assert_int_equal(last, 2);
    jnl_rec r;
    assert_int_equal(jnl_get(t, 1, &r, &err), 0);
    assert_int_equal(r.type, JNL_REC_STATE);
    assert_int_equal(r.commit_id, 3);
    assert_int_equal(r.row_id, 7);
    assert_memory_equal(r.a.ptr, "{\"a\":1}", 7);
    assert_int_equal(jnl_get(t, 2, &r, &err), 0);
    assert_int_equal(r.type, JNL_REC_STATE);
    assert_null(r.a.ptr);
    jnl_str v;
    assert_int_equal(jnl_idx_get(t, JNL_IDX_STATE, "queue", 7, &v, &err), CM_ENOTFOUND);
    cm_buf b;
    cm_buf_init(&b, 0);
    assert_int_equal(jnl_rec_format(&r, 2, false, &b), 0);
    assert_non_null(strstr(cm_buf_str(&b), "2 state commit_id=4 row_id=7"));
    /* a poll's conflict record: the cloud's image and the words */
    jnl_rec c = {.type = JNL_REC_CONFLICT,
                 .row_id = 7,
                 .ts_us = 5,
                 .table = {"queue", 5},
                 .a = {"{\"a\":2}", 7},
                 .b = {"conflict: the cloud changed a", 29}};
    uint64_t seq;
    assert_int_equal(jnl_append(t, &c, &seq, &err), 0);
    assert_int_equal(jnl_get(t, seq, &r, &err), 0);
    assert_int_equal(r.type, JNL_REC_CONFLICT);
    assert_int_equal(r.row_id, 7);
    assert_memory_equal(r.a.ptr, "{\"a\":2}", 7);
    assert_memory_equal(r.b.ptr, "conflict: the cloud changed a", 29);
    cm_buf_reset(&b);
    assert_int_equal(jnl_rec_format(&r, seq, false, &b), 0);
    assert_non_null(strstr(cm_buf_str(&b), "conflict row_id=7"));
    cm_buf_free(&b);
    assert_int_equal(jnl_txn_commit(t, &err), 0);
    jnl_free(j);
}

/* This process's resident pages of mapped files, in kB. */
static long rss_file_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "RssFile:", 8) == 0)
            kb = atol(line + 8);
    fclose(f);
    return kb;
}

/* jnl_release drops the pages a read mapped in, and what was read is
 * read again, the same, afterwards. */
static void test_jnl_release(void **state)
{
    jnl *j;
    cm_err err = {0};
    jnl_txn *t;
    assert_int_equal(jnl_open(&j, *state, &err), 0);
    static char img[3000];
    memset(img, 'x', sizeof img);
    assert_int_equal(jnl_txn_begin(j, true, &t, &err), 0);
    for (uint64_t i = 1; i <= 5000; i++) {
        img[0] = (char)('a' + i % 26);
        assert_int_equal(jnl_state_set(t, 1, "rule", i, img, sizeof img, &err), 0);
    }
    assert_int_equal(jnl_txn_commit(t, &err), 0);
    jnl_release(j);
    long before = rss_file_kb();
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(jnl_txn_begin(j, false, &t, &err), 0);
        for (uint64_t i = 1; i <= 5000; i++) {
            jnl_str v;
            assert_int_equal(jnl_idx_get(t, JNL_IDX_STATE, "rule", i, &v, &err), 0);
            assert_int_equal(v.len, sizeof img);
            assert_int_equal(v.ptr[0], 'a' + i % 26);
            assert_int_equal(v.ptr[v.len - 1], 'x');
        }
        jnl_txn_abort(t);
        long read = rss_file_kb();
        /* 5,000 images of 3,000 bytes: about 15 MB of pages read */
        if (read - before < 10000)
            fail_msg("reading the states mapped %ld kB", read - before);
        jnl_release(j);
        long after = rss_file_kb();
        if (after - before > 2000)
            fail_msg("after the release %ld kB of %ld stay resident", after - before,
                     read - before);
    }
    jnl_free(j);
}

static void test_jnl_damaged_records(void **state)
{
    (void)state;
    cm_buf b;
    cm_buf_init(&b, 0);
    jnl_rec ev = {
        .type = JNL_REC_EVENT, .origin = 1, .op = 1, .table = S("bucket"), .b = S("{\"a\":1}")};
    assert_int_equal(jnl_rec_encode(&ev, &b), 0);
    jnl_rec out;
    cm_err err = {0};
    assert_int_equal(jnl_rec_decode(&out, b.data, b.len, &err), 0);
    assert_memory_equal(out.table.ptr, "bucket", 6);
    /* every truncation is refused, never read past the end */
    for (size_t cut = 0; cut < b.len; cut++)
        assert_int_equal(jnl_rec_decode(&out, b.data, cut, &err), CM_ECORRUPT);
    /* a length that points past the record */
    char *bad = malloc(b.len);
    memcpy(bad, b.data, b.len);
    bad[2 + 1 + 1 + 8 * 4] = (char)0xF0; /* table length byte */
    assert_int_equal(jnl_rec_decode(&out, bad, b.len, &err), CM_ECORRUPT);
    bad[0] = 9; /* unknown format version */
    assert_int_equal(jnl_rec_decode(&out, bad, b.len, &err), CM_ECORRUPT);
    assert_non_null(strstr(err.msg, "format"));
    free(bad);
    cm_buf_free(&b);
}

static void test_jnl_format_dump(void **state)
{
    (void)state;
    jnl_rec ev = {.type = JNL_REC_RESULT,
                  .commit_id = 4,
                  .row_id = 9,
                  .action = 1,
                  .ok = 0,
                  .table = S("bucket"),
                  .b = S("BucketNotEmpty: \"x\"")};
    cm_buf b;
    cm_buf_init(&b, 0);
    assert_int_equal(jnl_rec_format(&ev, 12, true, &b), 0);
    assert_non_null(strstr(cm_buf_str(&b), "\"type\":\"result\""));
    assert_non_null(strstr(cm_buf_str(&b), "\"error\":\"BucketNotEmpty: \\\"x\\\"\""));
    cm_buf_reset(&b);
    assert_int_equal(jnl_rec_format(&ev, 12, false, &b), 0);
    assert_true(strncmp(cm_buf_str(&b), "12 result commit_id=4", 21) == 0);
    cm_buf_free(&b);
}

/* The dump speaks names and ISO times, and carries images whole, as JSON. */
static void test_jnl_format_names(void **state)
{
    (void)state;
    char image[5000];
    snprintf(image, sizeof image, "{\"name\":\"b\",\"policy\":\"%04000d\"}", 7);
    jnl_rec ev = {.type = JNL_REC_EVENT,
                  .origin = JNL_ORIGIN_USER,
                  .op = JNL_OP_INSERT,
                  .row_id = 3,
                  .ts_us = 1796144400123456LL,
                  .table = {"bucket", 6},
                  .b = {image, (uint32_t)strlen(image)}};
    cm_buf b;
    cm_buf_init(&b, 0);
    assert_int_equal(jnl_rec_format(&ev, 9, false, &b), 0);
    const char *t = cm_buf_str(&b);
    assert_non_null(strstr(t, "9 event origin=user op=insert row_id=3"));
    assert_non_null(strstr(t, " time=2026-12-01T17:00:00.123456Z "));
    assert_non_null(strstr(t, " new={\"name\":\"b\","));
    assert_true(strlen(t) > 4000 && t[strlen(t) - 1] == '}'); /* the image whole */
    cm_buf_reset(&b);
    assert_int_equal(jnl_rec_format(&ev, 9, true, &b), 0);
    json_t *j = json_loads(cm_buf_str(&b), 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "origin")), "user");
    assert_string_equal(json_string_value(json_object_get(j, "op")), "insert");
    assert_string_equal(json_string_value(json_object_get(j, "time")),
                        "2026-12-01T17:00:00.123456Z");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "new"), "name")), "b");
    assert_true(json_is_null(json_object_get(j, "old")));
    json_decref(j);
    jnl_rec res = {
        .type = JNL_REC_RESULT, .action = 3, .ok = 1, .commit_id = 2, .table = {"queue", 5}};
    cm_buf_reset(&b);
    assert_int_equal(jnl_rec_format(&res, 10, false, &b), 0);
    assert_non_null(strstr(cm_buf_str(&b), "action=replace ok=true"));
    jnl_rec mark = {
        .type = JNL_REC_MARK, .op = JNL_MARK_UNINSTALL, .table = {"queue", 5}, .a = {"aws_sqs", 7}};
    cm_buf_reset(&b);
    assert_int_equal(jnl_rec_format(&mark, 11, false, &b), 0);
    assert_non_null(strstr(cm_buf_str(&b), "mark kind=uninstall"));
    assert_non_null(strstr(cm_buf_str(&b), "module=\"aws_sqs\""));
    jnl_commit c = {.id = 4, .status = JNL_COMMIT_PARTIAL, .results = {"[]", 2}};
    cm_buf_reset(&b);
    assert_int_equal(jnl_commit_format(&c, false, &b), 0);
    assert_non_null(strstr(cm_buf_str(&b), "commit id=4 time="));
    assert_non_null(strstr(cm_buf_str(&b), "status=partial"));
    assert_non_null(strstr(cm_buf_str(&b), "results=[]"));
    cm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_jnl_append_and_scan, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_jnl_commit_points, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_jnl_resource_index, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_jnl_state_records, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_jnl_release, make_dir, remove_dir),
        cmocka_unit_test(test_jnl_damaged_records),
        cmocka_unit_test(test_jnl_format_dump),
        cmocka_unit_test(test_jnl_format_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
