/* tests/integration/it_sqs.c — module aws_sqs (queue) end to end against
 * moto_server: standard and FIFO queues, attributes and tags updated in
 * place, a new name is a replace, url and arn written back, import, and the
 * .fifo rule checked at INSERT. The cloud is read with plain HTTP. */
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

static int setup(void **state)
{
    if (it_fixture(state, "sqs", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_sqs')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

static json_t *sqs(it_env *e, const char *op, json_t *body, long *status)
{
    char target[64];
    snprintf(target, sizeof target, "AmazonSQS.%s", op);
    return it_aws_json(e, "sqs", "1.0", target, body, status);
}

static const char *attr(json_t *q, const char *name)
{
    return json_string_value(json_object_get(q, name));
}

static void test_queue_lifecycle(void **state)
{
    it_env *e = *state;
    char std[64], fifo[64], renamed[64];
    snprintf(std, sizeof std, "orders-%d", (int)getpid());
    snprintf(fifo, sizeof fifo, "events-%d.fifo", (int)getpid());
    snprintf(renamed, sizeof renamed, "orders-%d-v2", (int)getpid());
    const char *p[] = {std, fifo};
    assert_true(it_ok(e,
                      "INSERT INTO queue (name, visibility_timeout, delay_seconds, tags) "
                      "VALUES ($1, 45, 5, '{\"team\": \"a\"}')",
                      1, p));
    assert_true(it_ok(e, "INSERT INTO queue (name, fifo_queue) VALUES ($1, true)", 1, p + 1));
    it_expect_commit(e, 2, "create");
    json_t *q = it_cloud_queue(e, std);
    assert_non_null(q);
    assert_string_equal(attr(q, "VisibilityTimeout"), "45");
    assert_string_equal(attr(q, "DelaySeconds"), "5");
    assert_string_equal(json_string_value(json_object_get(json_object_get(q, "tags"), "team")),
                        "a");
    json_decref(q);
    q = it_cloud_queue(e, fifo);
    assert_non_null(q);
    assert_string_equal(attr(q, "FifoQueue"), "true");
    json_decref(q);
    /* url and arn are written back, and are not user changes */
    PGresult *owned = it_sql(e,
                             "SELECT count(*) FROM queue WHERE name IN ($1, $2) AND "
                             "url LIKE 'http%' AND arn LIKE 'arn:aws:sqs:%'",
                             2, p);
    assert_string_equal(PQgetvalue(owned, 0, 0), "2");
    PQclear(owned);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* attributes and tags change in place */
    assert_true(it_ok(e,
                      "UPDATE queue SET visibility_timeout = 120, message_retention_period = 3600, "
                      "tags = '{\"team\": \"b\"}' WHERE name = $1",
                      1, p));
    it_expect_commit(e, 1, "update");
    q = it_cloud_queue(e, std);
    assert_string_equal(attr(q, "VisibilityTimeout"), "120");
    assert_string_equal(attr(q, "MessageRetentionPeriod"), "3600");
    assert_string_equal(json_string_value(json_object_get(json_object_get(q, "tags"), "team")),
                        "b");
    json_decref(q);

    /* a new name is a new queue */
    const char *r[] = {std, renamed};
    assert_true(it_ok(e, "UPDATE queue SET name = $2 WHERE name = $1", 2, r));
    it_expect_commit(e, 1, "replace");
    assert_null(it_cloud_queue(e, std));
    q = it_cloud_queue(e, renamed);
    assert_non_null(q);
    assert_string_equal(attr(q, "VisibilityTimeout"), "120");
    json_decref(q);
    const char *s[] = {renamed};
    PGresult *res = it_sql(e, "SELECT url LIKE '%' || $1 FROM queue WHERE name = $1", 1, s);
    assert_string_equal(PQgetvalue(res, 0, 0), "t");
    PQclear(res);

    const char *both[] = {renamed, fifo};
    assert_true(it_ok(e, "DELETE FROM queue WHERE name IN ($1, $2)", 2, both));
    it_expect_commit(e, 2, "delete");
    assert_null(it_cloud_queue(e, renamed));
    assert_null(it_cloud_queue(e, fifo));
}

static void test_queue_import(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "made-outside-%d", (int)getpid());
    json_decref(sqs(e, "CreateQueue",
                    json_pack("{s:s, s:{s:s}, s:{s:s}}", "QueueName", name, "Attributes",
                              "VisibilityTimeout", "77", "tags", "by", "console"),
                    NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_sqs')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_sqs')", 0, NULL));
    const char *p[] = {name};
    PGresult *r = it_sql(e,
                         "SELECT visibility_timeout, tags->>'by', arn IS NOT NULL, fifo_queue "
                         "FROM queue WHERE name = $1",
                         1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "77");
    assert_string_equal(PQgetvalue(r, 0, 1), "console");
    assert_string_equal(PQgetvalue(r, 0, 2), "t");
    assert_string_equal(PQgetvalue(r, 0, 3), "f");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_true(it_ok(e, "DELETE FROM queue WHERE name = $1", 1, p));
    it_expect_commit(e, 1, "delete");
    assert_null(it_cloud_queue(e, name));
}

static void test_queue_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO queue (name) VALUES ('jobs.fifo')",
         "queue_name_ends_in_fifo_if_and_only_if_fifo_queue"},
        {"INSERT INTO queue (name, fifo_queue) VALUES ('jobs', true)",
         "queue_name_ends_in_fifo_if_and_only_if_fifo_queue"},
        {"INSERT INTO queue (name) VALUES ('has space')", "queue_name_1_to_80_letters_digits"},
        {"INSERT INTO queue (name) VALUES (repeat('q', 81))", "queue_name_1_to_80_letters_digits"},
        {"INSERT INTO queue (name, visibility_timeout) VALUES ('q', 43201)",
         "queue_visibility_timeout_0_to_43200"},
        {"INSERT INTO queue (name, delay_seconds) VALUES ('q', -1)",
         "queue_delay_seconds_0_to_900"},
        {"INSERT INTO queue (name, receive_message_wait_time_seconds) VALUES ('q', 21)",
         "queue_receive_message_wait_time_seconds_0_to_20"},
        {"INSERT INTO queue (name, message_retention_period) VALUES ('q', 59)",
         "queue_message_retention_period_60_to_1209600"},
        {"INSERT INTO queue (name, maximum_message_size) VALUES ('q', 1023)",
         "queue_maximum_message_size_1024_to_1048576"},
        {"INSERT INTO queue (name) VALUES ('dup'), ('dup')", "queue_name_unique_in_region"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_queue_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_sqs", tests, NULL, NULL);
}
