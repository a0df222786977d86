/* tests/integration/it_kinesis.c — module aws_kinesis (kinesis_stream) end
 * to end against moto_server and, as a second opinion where it has the
 * operations, kinesalite (no on-demand mode, no resharding): create, shard
 * count and mode changed in place, a rename is a replace, import, delete,
 * bad input refused at INSERT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "it_util.h"

static bool full(void)
{
    return strcmp(getenv("IT_EMULATOR_KIND"), "moto") == 0;
}

static int setup(void **state)
{
    if (it_fixture(state, "kinesis", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_kinesis')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

static json_t *kin(it_env *e, const char *op, json_t *body, long *status)
{
    char target[96];
    snprintf(target, sizeof target, "Kinesis_20131202.%s", op);
    return it_aws_json(e, "kinesis", "1.1", target, body, status);
}

/* The stream's summary once it is ACTIVE, or NULL when there is none. */
static json_t *cloud_stream(it_env *e, const char *name)
{
    for (int i = 0; i < 100; i++) {
        long st;
        json_t *r = kin(e, "DescribeStreamSummary", json_pack("{s:s}", "StreamName", name), &st);
        json_t *s = st == 200 ? json_incref(json_object_get(r, "StreamDescriptionSummary")) : NULL;
        json_decref(r);
        const char *status = json_string_value(json_object_get(s, "StreamStatus"));
        if (!s || !status || strcmp(status, "ACTIVE") == 0)
            return s;
        json_decref(s);
        usleep(50 * 1000);
    }
    return NULL;
}

static json_int_t shards(json_t *s)
{
    return json_integer_value(json_object_get(s, "OpenShardCount"));
}

static void test_stream_lifecycle(void **state)
{
    it_env *e = *state;
    char name[64], renamed[64];
    snprintf(name, sizeof name, "clicks-%d", (int)getpid());
    snprintf(renamed, sizeof renamed, "clicks-%d-v2", (int)getpid());
    const char *p[] = {name};
    assert_true(
        it_ok(e, "INSERT INTO kinesis_stream (stream_name, shard_count) VALUES ($1, 2)", 1, p));
    it_expect_commit(e, 1, "create");
    json_t *s = cloud_stream(e, name);
    assert_non_null(s);
    assert_int_equal(shards(s), 2);
    json_decref(s);
    assert_string_equal(it_value(e, "SELECT count(*) FROM kinesis_stream WHERE stream_arn LIKE "
                                    "'arn:aws:kinesis:%' AND created_at IS NOT NULL"),
                        "1");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    if (full()) {
        assert_true(
            it_ok(e, "UPDATE kinesis_stream SET shard_count = 4 WHERE stream_name = $1", 1, p));
        it_expect_commit(e, 1, "update");
        s = cloud_stream(e, name);
        assert_int_equal(shards(s), 4);
        json_decref(s);
        assert_true(it_ok(e,
                          "UPDATE kinesis_stream SET stream_mode = 'ON_DEMAND', shard_count = NULL "
                          "WHERE stream_name = $1",
                          1, p));
        it_expect_commit(e, 1, "update");
        s = cloud_stream(e, name);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(s, "StreamModeDetails"), "StreamMode")),
                            "ON_DEMAND");
        json_decref(s);
    }
    const char *q[] = {name, renamed};
    assert_true(
        it_ok(e, "UPDATE kinesis_stream SET stream_name = $2 WHERE stream_name = $1", 2, q));
    it_expect_commit(e, 1, "replace");
    assert_null(cloud_stream(e, name));
    s = cloud_stream(e, renamed);
    assert_non_null(s);
    json_decref(s);
    assert_true(it_ok(e, "DELETE FROM kinesis_stream", 0, NULL));
    it_expect_commit(e, 1, "delete");
    assert_null(cloud_stream(e, renamed));
}

static void test_stream_import(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "made-outside-%d", (int)getpid());
    json_decref(
        kin(e, "CreateStream", json_pack("{s:s, s:i}", "StreamName", name, "ShardCount", 3), NULL));
    json_decref(cloud_stream(e, name));
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_kinesis')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_kinesis')", 0, NULL));
    const char *p[] = {name};
    PGresult *r = it_sql(
        e, "SELECT stream_mode, shard_count FROM kinesis_stream WHERE stream_name = $1", 1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "PROVISIONED");
    assert_string_equal(PQgetvalue(r, 0, 1), "3");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_true(it_ok(e, "DELETE FROM kinesis_stream WHERE stream_name = $1", 1, p));
    it_expect_commit(e, 1, "delete");
}

/* The iasql_owner tag of a stream, or "" (freed by the caller). */
static char *owner_tag(it_env *e, const char *name)
{
    json_t *r = kin(e, "ListTagsForStream", json_pack("{s:s}", "StreamName", name), NULL);
    char *out = it_tag_value(json_object_get(r, "Tags"), "iasql_owner");
    json_decref(r);
    return out;
}

/* What this database makes carries its identity; what another made is
 * neither changed nor deleted here, until that tag is gone. */
static void test_stream_owner(void **state)
{
    it_env *e = *state;
    char mine[64], theirs[64];
    snprintf(mine, sizeof mine, "owned-%d", (int)getpid());
    snprintf(theirs, sizeof theirs, "theirs-%d", (int)getpid());
    const char *p[] = {mine};
    assert_true(
        it_ok(e, "INSERT INTO kinesis_stream (stream_name, shard_count) VALUES ($1, 1)", 1, p));
    it_expect_commit(e, 1, "create");
    json_decref(cloud_stream(e, mine));
    /* kinesalite keeps neither CreateStream's Tags nor a tag added while
     * the stream is CREATING */
    char *tag = owner_tag(e, mine), *dbid = it_database_id(e);
    if (full())
        assert_string_equal(tag, dbid);
    free(tag);
    free(dbid);
    json_decref(kin(e, "CreateStream",
                    json_pack("{s:s, s:i}", "StreamName", theirs, "ShardCount", 1), NULL));
    json_decref(cloud_stream(e, theirs));
    json_decref(kin(
        e, "AddTagsToStream",
        json_pack("{s:s, s:{s:s}}", "StreamName", theirs, "Tags", "iasql_owner", "other-database"),
        NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    /* kinesalite has no UpdateShardCount */
    if (full()) {
        assert_true(it_ok(e,
                          "UPDATE kinesis_stream SET shard_count = 2 WHERE stream_name IN ($1, $2)",
                          2, (const char *[]){mine, theirs}));
        it_expect_commit_spares(e, "kinesis_stream", "stream_name", "update", theirs,
                                "other-database");
        json_t *st = cloud_stream(e, theirs);
        assert_int_equal(shards(st), 1);
        json_decref(st);
        assert_true(it_ok(e, "SELECT * FROM iasql_rollback()", 0, NULL));
    }
    assert_true(it_ok(e, "DELETE FROM kinesis_stream WHERE stream_name IN ($1, $2)", 2,
                      (const char *[]){mine, theirs}));
    PGresult *r = it_sql(e,
                         "SELECT description FROM iasql_commit() WHERE description LIKE "
                         "'failed%'",
                         0, NULL);
    assert_int_equal(PQntuples(r), 1);
    assert_non_null(strstr(PQgetvalue(r, 0, 0), theirs));
    PQclear(r);
    json_decref(kin(e, "RemoveTagsFromStream",
                    json_pack("{s:s, s:[s]}", "StreamName", theirs, "TagKeys", "iasql_owner"),
                    NULL));
    it_expect_commit(e, 1, "delete");
    assert_null(cloud_stream(e, theirs));
    /* one already deleted in the cloud: nobody's, and its delete succeeds */
    char gone[64];
    snprintf(gone, sizeof gone, "gone-%d", (int)getpid());
    const char *g[] = {gone};
    assert_true(
        it_ok(e, "INSERT INTO kinesis_stream (stream_name, shard_count) VALUES ($1, 1)", 1, g));
    it_expect_commit(e, 1, "create");
    json_decref(cloud_stream(e, gone));
    json_decref(kin(e, "DeleteStream", json_pack("{s:s}", "StreamName", gone), NULL));
    assert_null(cloud_stream(e, gone));
    assert_true(it_ok(e, "DELETE FROM kinesis_stream WHERE stream_name = $1", 1, g));
    it_expect_commit(e, 1, "delete");
}

static void test_stream_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO kinesis_stream (stream_name) VALUES ('bad name')",
         "kinesis_stream_name_1_to_128"},
        {"INSERT INTO kinesis_stream (stream_name) VALUES (repeat('s', 129))",
         "kinesis_stream_name_1_to_128"},
        {"INSERT INTO kinesis_stream (stream_name, stream_mode) VALUES ('ok', 'FAST')",
         "kinesis_stream_mode_provisioned_or_on_demand"},
        {"INSERT INTO kinesis_stream (stream_name, shard_count) VALUES ('ok', 0)",
         "kinesis_stream_shard_count_1_to_500_only_when_provisioned"},
        {"INSERT INTO kinesis_stream (stream_name, shard_count) VALUES ('ok', NULL)",
         "kinesis_stream_shard_count_1_to_500_only_when_provisioned"},
        {"INSERT INTO kinesis_stream (stream_name, stream_mode) VALUES ('ok', 'ON_DEMAND')",
         "kinesis_stream_shard_count_1_to_500_only_when_provisioned"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
}

/* The poller's rotation: a quiet poll of known streams costs ListStreams'
 * pages (whose summaries carry all but the shard count) and the
 * DescribeStreamSummary of the streams whose turn it is, not one a stream;
 * a shard count changed outside is seen within the rotation, a stream new
 * in the cloud in full at once. An endpoint whose list has no summaries
 * (kinesalite) costs what it did. */
static void test_stream_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 12 };
    assert_true(it_okf(e,
                       "INSERT INTO kinesis_stream (stream_name) "
                       "SELECT 'rot-' || g || '-%d' FROM generate_series(1, %d) g",
                       (int)getpid(), N));
    it_expect_commit(e, N, "create");
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    int n = atoi(it_value(e, "SELECT count(*) FROM kinesis_stream"));
    long all[4], rot[4], sum = 0;
    it_rotation_quiet(e, "kinesis_stream", "1", all);
    it_rotation_quiet(e, "kinesis_stream", "5", rot);
    for (int i = 0; i < 4; i++) {
        long pages = all[i] - n; /* a describe a stream, and the listing's pages */
        assert_true(pages >= 1 && pages <= 1 + n / 10);
        if (full())
            assert_true(rot[i] <= pages + n / 2);
        else
            assert_true(rot[i] <= all[i]);
        sum += rot[i] - pages;
    }
    if (full())
        assert_true(sum <= n + 4); /* a rotation describes each one about once */
    char name[64], made[64];
    snprintf(name, sizeof name, "rot-1-%d", (int)getpid());
    snprintf(made, sizeof made, "rot-made-%d", (int)getpid());
    json_decref(cloud_stream(e, name));
    long st = 0;
    /* moto counts a split shard's parent as open; kinesalite has no
     * UpdateShardCount */
    if (full())
        json_decref(kin(e, "UpdateShardCount",
                        json_pack("{s:s, s:i, s:s}", "StreamName", name, "TargetShardCount", 2,
                                  "ScalingType", "UNIFORM_SCALING"),
                        &st));
    else
        json_decref(kin(e, "SplitShard",
                        json_pack("{s:s, s:s, s:s}", "StreamName", name, "ShardToSplit",
                                  "shardId-000000000000", "NewStartingHashKey",
                                  "170141183460469231731687303715884105728"),
                        &st));
    assert_int_equal(st, 200);
    assert_true(it_eventually(
        e, "2", "SELECT shard_count FROM kinesis_stream WHERE stream_name = '%s'", name));
    json_decref(
        kin(e, "CreateStream", json_pack("{s:s, s:i}", "StreamName", made, "ShardCount", 3), NULL));
    assert_true(it_eventually(
        e, "1", "SELECT count(*) FROM kinesis_stream WHERE stream_name = '%s'", made));
    assert_string_equal(
        it_valf(e, "SELECT stream_mode || shard_count FROM kinesis_stream WHERE stream_name = '%s'",
                made),
        "PROVISIONED3");
    print_message("kinesis rotation: %d streams, quiet polls %ld %ld %ld %ld requests in full, "
                  "%ld %ld %ld %ld with four slots\n",
                  n, all[0], all[1], all[2], all[3], rot[0], rot[1], rot[2], rot[3]);
    it_rotation_off(e);
    assert_true(
        it_okf(e, "DELETE FROM kinesis_stream WHERE stream_name LIKE 'rot-%%-%d'", (int)getpid()));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_string_equal(
        it_value(e, "SELECT count(*) FROM kinesis_stream WHERE stream_name LIKE 'rot-%'"), "0");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stream_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name(getenv("IT_EMULATOR_KIND"), tests, NULL, NULL);
}
