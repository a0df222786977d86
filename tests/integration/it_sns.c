/* tests/integration/it_sns.c — module aws_sns (topic, subscription) end to
 * end against moto_server: topic attributes and tags in place, a FIFO
 * topic, a subscription of an SQS queue whose attributes change in place,
 * a topic rename that replaces the topic and its subscriptions, delete,
 * import of what was made outside, and bad values refused at INSERT. The
 * cloud is read with plain HTTP. */
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
    if (it_fixture(state, "sns", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_sns', 'aws_sqs')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

#define ACCOUNT "123456789012"
#define Q(action) "Action=" action "&Version=2010-03-31"

/* GetTopicAttributes of a topic: the XML answer, or NULL when it is gone. */
static char *topic_attrs(it_env *e, const char *name)
{
    char form[512];
    const char *out;
    snprintf(form, sizeof form,
             Q("GetTopicAttributes") "&TopicArn=arn%%3Aaws%%3Asns%%3Aus-east-1%%3A" ACCOUNT
                                     "%%3A%s",
             name);
    long st = it_aws_query(e, "sns", form, &out);
    return st == 200 ? strdup(out) : NULL;
}

static char *topic_tags(it_env *e, const char *name)
{
    char form[512];
    const char *out;
    snprintf(form, sizeof form,
             Q("ListTagsForResource") "&ResourceArn=arn%%3Aaws%%3Asns%%3Aus-east-1%%3A" ACCOUNT
                                      "%%3A%s",
             name);
    assert_int_equal(it_aws_query(e, "sns", form, &out), 200);
    return strdup(out);
}

/* ListSubscriptionsByTopic: the XML answer ("" when the topic is gone). */
static char *topic_subs(it_env *e, const char *name)
{
    char form[512];
    const char *out;
    snprintf(form, sizeof form,
             Q("ListSubscriptionsByTopic") "&TopicArn=arn%%3Aaws%%3Asns%%3Aus-east-1%%3A" ACCOUNT
                                           "%%3A%s",
             name);
    long st = it_aws_query(e, "sns", form, &out);
    return strdup(st == 200 ? out : "");
}

static char *sub_attrs(it_env *e, const char *arn)
{
    char form[1024];
    const char *out;
    snprintf(form, sizeof form, Q("GetSubscriptionAttributes") "&SubscriptionArn=%s", arn);
    assert_int_equal(it_aws_query(e, "sns", form, &out), 200);
    return strdup(out);
}

static void make_queue(it_env *e, const char *name)
{
    const char *p[] = {name};
    assert_true(it_ok(e, "INSERT INTO queue (name) VALUES ($1)", 1, p));
    it_expect_commit(e, 1, "create");
}

static void test_topic_and_subscription_lifecycle(void **state)
{
    it_env *e = *state;
    char topic[64], fifo[64], renamed[64], queue[64];
    snprintf(topic, sizeof topic, "news-%d", (int)getpid());
    snprintf(fifo, sizeof fifo, "orders-%d.fifo", (int)getpid());
    snprintf(renamed, sizeof renamed, "news-%d-v2", (int)getpid());
    snprintf(queue, sizeof queue, "inbox-%d", (int)getpid());
    make_queue(e, queue);
    const char *p[] = {topic, fifo, queue};
    assert_true(it_ok(e,
                      "INSERT INTO topic (name, display_name, tags) "
                      "VALUES ($1, 'News', '{\"team\": \"a\"}')",
                      1, p));
    assert_true(it_ok(e,
                      "INSERT INTO topic (name, fifo_topic, content_based_deduplication) "
                      "VALUES ($1, true, true)",
                      1, p + 1));
    /* a subscription in the same commit as its topic */
    const char *sp[] = {topic, queue};
    assert_true(it_ok(e,
                      "INSERT INTO subscription (topic, protocol, endpoint, raw_message_delivery) "
                      "SELECT $1, 'sqs', arn, true FROM queue WHERE name = $2",
                      2, sp));
    it_expect_commit(e, 3, "create");
    char *a = topic_attrs(e, topic);
    assert_non_null(a);
    assert_string_equal(it_xml_entry(a, "DisplayName"), "News");
    free(a);
    a = topic_tags(e, topic);
    assert_string_equal(it_xml_text(a, "Value"), "a");
    free(a);
    a = topic_attrs(e, fifo);
    assert_string_equal(it_xml_entry(a, "FifoTopic"), "true");
    assert_string_equal(it_xml_entry(a, "ContentBasedDeduplication"), "true");
    free(a);
    char *subs = topic_subs(e, topic);
    assert_non_null(strstr(subs, queue));
    free(subs);
    PGresult *r = it_sql(e, "SELECT arn FROM subscription WHERE topic = $1", 1, p);
    assert_int_equal(PQntuples(r), 1);
    const char *arn = PQgetvalue(r, 0, 0);
    assert_non_null(arn);
    char *sub_arn = strdup(arn);
    PQclear(r);
    a = sub_attrs(e, sub_arn);
    assert_string_equal(it_xml_entry(a, "RawMessageDelivery"), "true");
    free(a);
    const char *both[] = {topic, fifo};
    r = it_sql(e,
               "SELECT count(*) FROM topic WHERE name IN ($1, $2) AND arn LIKE "
               "'arn:aws:sns:us-east-1:" ACCOUNT ":%'",
               2, both);
    assert_string_equal(PQgetvalue(r, 0, 0), "2");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* in place: topic attributes and tags, subscription attributes */
    assert_true(it_ok(e,
                      "UPDATE topic SET display_name = 'Daily', tags = '{\"team\": \"b\"}' "
                      "WHERE name = $1",
                      1, p));
    assert_true(it_ok(e,
                      "UPDATE subscription SET raw_message_delivery = false, "
                      "filter_policy = '{\"kind\": [\"alert\"]}' WHERE topic = $1",
                      1, p));
    it_expect_commit(e, 2, "update");
    a = topic_attrs(e, topic);
    assert_string_equal(it_xml_entry(a, "DisplayName"), "Daily");
    free(a);
    a = topic_tags(e, topic);
    assert_string_equal(it_xml_text(a, "Value"), "b");
    free(a);
    a = sub_attrs(e, sub_arn);
    assert_string_equal(it_xml_entry(a, "RawMessageDelivery"), "false");
    assert_non_null(strstr(it_xml_entry(a, "FilterPolicy"), "alert"));
    free(a);
    free(sub_arn);

    /* a new name replaces the topic, and its subscription follows */
    const char *rn[] = {topic, renamed};
    assert_true(it_ok(e, "UPDATE topic SET name = $2 WHERE name = $1", 2, rn));
    r = it_sql(e, "SELECT topic FROM subscription WHERE endpoint LIKE '%:' || $1", 1, p + 2);
    assert_string_equal(PQgetvalue(r, 0, 0), renamed);
    PQclear(r);
    it_expect_commit(e, 2, "replace");
    assert_null(topic_attrs(e, topic));
    a = topic_attrs(e, renamed);
    assert_non_null(a);
    assert_string_equal(it_xml_entry(a, "DisplayName"), "Daily");
    free(a);
    subs = topic_subs(e, renamed);
    assert_non_null(strstr(subs, queue));
    free(subs);
    r = it_sql(
        e, "SELECT count(*) FROM subscription WHERE topic = $1 AND arn LIKE '%:' || topic || ':%'",
        1, rn + 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "1");
    PQclear(r);

    /* deleting the topic deletes its subscriptions (ON DELETE CASCADE) */
    const char *d[] = {renamed, fifo};
    assert_true(it_ok(e, "DELETE FROM topic WHERE name IN ($1, $2)", 2, d));
    r = it_sql(e, "SELECT count(*) FROM subscription WHERE topic = $1", 1, d);
    assert_string_equal(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    it_expect_commit(e, 3, "delete");
    assert_null(topic_attrs(e, renamed));
    assert_null(topic_attrs(e, fifo));
    assert_true(it_ok(e, "DELETE FROM queue WHERE name = $1", 1, p + 2));
    it_expect_commit(e, 1, "delete");
}

static void test_subscription_alone(void **state)
{
    it_env *e = *state;
    char topic[64], queue[64];
    snprintf(topic, sizeof topic, "alone-%d", (int)getpid());
    snprintf(queue, sizeof queue, "alone-q-%d", (int)getpid());
    make_queue(e, queue);
    const char *p[] = {topic, queue};
    assert_true(it_ok(e, "INSERT INTO topic (name) VALUES ($1)", 1, p));
    it_expect_commit(e, 1, "create");
    assert_true(it_ok(e,
                      "INSERT INTO subscription (topic, protocol, endpoint) "
                      "SELECT $1, 'sqs', arn FROM queue WHERE name = $2",
                      2, p));
    it_expect_commit(e, 1, "create");
    /* deleting only the subscription unsubscribes and keeps the topic */
    assert_true(it_ok(e, "DELETE FROM subscription WHERE topic = $1", 1, p));
    it_expect_commit(e, 1, "delete");
    char *subs = topic_subs(e, topic);
    assert_null(strstr(subs, queue));
    free(subs);
    char *a = topic_attrs(e, topic);
    assert_non_null(a);
    free(a);
    assert_true(it_ok(e, "DELETE FROM topic WHERE name = $1", 1, p));
    assert_true(it_ok(e, "DELETE FROM queue WHERE name = $1", 1, p + 1));
    it_expect_commit(e, 2, "delete");
}

static void test_import(void **state)
{
    it_env *e = *state;
    char topic[64], queue[64], form[1024];
    const char *out;
    snprintf(topic, sizeof topic, "made-outside-%d", (int)getpid());
    snprintf(queue, sizeof queue, "made-outside-q-%d", (int)getpid());
    snprintf(form, sizeof form,
             Q("CreateTopic") "&Name=%s&Attributes.entry.1.key=DisplayName"
                              "&Attributes.entry.1.value=Console&Tags.member.1.Key=by"
                              "&Tags.member.1.Value=hand",
             topic);
    assert_int_equal(it_aws_query(e, "sns", form, &out), 200);
    snprintf(form, sizeof form,
             Q("Subscribe") "&TopicArn=arn%%3Aaws%%3Asns%%3Aus-east-1%%3A" ACCOUNT "%%3A%s"
                            "&Protocol=sqs&Endpoint=arn%%3Aaws%%3Asqs%%3Aus-east-1%%3A" ACCOUNT
                            "%%3A%s",
             topic, queue);
    assert_int_equal(it_aws_query(e, "sns", form, &out), 200);
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_sns')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_sns')", 0, NULL));
    const char *p[] = {topic};
    PGresult *r = it_sql(e,
                         "SELECT display_name, tags->>'by', arn IS NOT NULL "
                         "FROM topic WHERE name = $1",
                         1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "Console");
    assert_string_equal(PQgetvalue(r, 0, 1), "hand");
    assert_string_equal(PQgetvalue(r, 0, 2), "t");
    PQclear(r);
    const char *tq[] = {topic, queue};
    r = it_sql(e,
               "SELECT protocol, endpoint = 'arn:aws:sqs:us-east-1:" ACCOUNT ":' || $2, "
               "raw_message_delivery FROM subscription WHERE topic = $1",
               2, tq);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "sqs");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    assert_string_equal(PQgetvalue(r, 0, 2), "f");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_true(it_ok(e, "DELETE FROM topic WHERE name = $1", 1, p));
    it_expect_commit(e, 2, "delete");
    assert_null(topic_attrs(e, topic));
}

/* The requests of the polls of table after the first skip, into out[4],
 * waiting for them. */
static void polls_after(it_env *e, const char *table, int skip, long out[4])
{
    double deadline = it_now_s() + 30;
    while (it_poll_requests(e, table, skip + 1, out, 4) < skip + 5 && it_now_s() < deadline)
        it_sleep_ms(250);
    assert_true(it_poll_requests(e, table, skip + 1, out, 4) >= skip + 5);
}

/* The poller's rotation: a quiet poll of known topics costs ListTopics and
 * a page of the tagging API and the attributes of the topics whose turn it
 * is, not two reads a topic; one of known subscriptions ListSubscriptions
 * and the attributes of those whose turn it is (each by its own ARN, not
 * its topic's). A tag is seen at the next poll, an attribute within the
 * rotation, a topic or a subscription new in the cloud in full at once. */
static void test_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 12 };
    char queue[64], form[1024];
    const char *out;
    snprintf(queue, sizeof queue, "rot-q-%d", (int)getpid());
    make_queue(e, queue);
    assert_true(it_okf(e,
                       "INSERT INTO topic (name, tags) SELECT 'rot-' || g || '-%d', "
                       "'{\"n\": \"1\"}' FROM generate_series(1, %d) g",
                       (int)getpid(), N));
    it_expect_commit(e, N, "create");
    assert_true(it_okf(e,
                       "INSERT INTO subscription (topic, protocol, endpoint) "
                       "SELECT t.name, 'sqs', q.arn FROM topic t, queue q "
                       "WHERE t.name LIKE 'rot-%%-%d' AND q.name = '%s'",
                       (int)getpid(), queue));
    it_expect_commit(e, N, "create");
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    int nt = atoi(it_value(e, "SELECT count(*) FROM topic"));
    int ns = atoi(it_value(e, "SELECT count(*) FROM subscription"));
    long all[4], rot[4], sall[4], srot[4];
    int s0 = it_poll_requests(e, "subscription", 0, NULL, 0);
    it_rotation_quiet(e, "topic", "1", all);
    polls_after(e, "subscription", s0, sall);
    s0 = it_poll_requests(e, "subscription", 0, NULL, 0);
    it_rotation_quiet(e, "topic", "5", rot);
    polls_after(e, "subscription", s0, srot);
    print_message(
        "sns rotation: %d topics, quiet polls %ld %ld %ld %ld requests in full, %ld %ld "
        "%ld %ld with four slots; %d subscriptions, %ld %ld %ld %ld and %ld %ld %ld %ld\n",
        nt, all[0], all[1], all[2], all[3], rot[0], rot[1], rot[2], rot[3], ns, sall[0], sall[1],
        sall[2], sall[3], srot[0], srot[1], srot[2], srot[3]);
    long sum = 0, ssum = 0;
    for (int i = 0; i < 4; i++) {
        assert_true(all[i] >= 1 + 2 * nt);      /* a listing, two reads a topic */
        assert_true(sall[i] >= 1 + ns);         /* a listing, a read a subscription */
        assert_true(rot[i] <= 2 + 3 * nt / 4);  /* a listing, a tagging page, a quarter's reads */
        assert_true(srot[i] <= 1 + 3 * ns / 4); /* a listing, a quarter's reads */
        sum += rot[i] - 2;
        ssum += srot[i] - 1;
    }
    assert_true(sum <= nt + 4 && ssum <= ns + 4); /* each one read about once a rotation */
    char name[64], made[64], tarn[160];
    snprintf(name, sizeof name, "rot-1-%d", (int)getpid());
    snprintf(made, sizeof made, "rot-made-%d", (int)getpid());
    snprintf(tarn, sizeof tarn, "arn%%3Aaws%%3Asns%%3Aus-east-1%%3A" ACCOUNT "%%3A%s", name);
    /* a tag: the next poll */
    snprintf(form, sizeof form,
             Q("TagResource") "&ResourceArn=%s&Tags.member.1.Key=team&Tags.member.1.Value=ops",
             tarn);
    assert_int_equal(it_aws_query(e, "sns", form, &out), 200);
    assert_true(it_eventually(
        e, "ops", "SELECT coalesce(tags->>'team', '') FROM topic WHERE name = '%s'", name));
    /* attributes: within the rotation */
    snprintf(form, sizeof form,
             Q("SetTopicAttributes") "&TopicArn=%s&AttributeName=DisplayName&AttributeValue=Rot",
             tarn);
    assert_int_equal(it_aws_query(e, "sns", form, &out), 200);
    assert_true(it_eventually(
        e, "Rot", "SELECT coalesce(display_name, '') FROM topic WHERE name = '%s'", name));
    char *sarn = it_strdup(it_valf(e, "SELECT arn FROM subscription WHERE topic = '%s'", name));
    snprintf(form, sizeof form,
             Q("SetSubscriptionAttributes") "&SubscriptionArn=%s&AttributeName=RawMessageDelivery"
                                            "&AttributeValue=true",
             sarn);
    assert_int_equal(it_aws_query(e, "sns", form, &out), 200);
    assert_true(it_eventually(
        e, "t", "SELECT raw_message_delivery FROM subscription WHERE arn = '%s'", sarn));
    free(sarn);
    /* a topic new in the cloud, and a new subscription of a known topic */
    snprintf(form, sizeof form,
             Q("CreateTopic") "&Name=%s&Attributes.entry.1.key=DisplayName"
                              "&Attributes.entry.1.value=Made&Tags.member.1.Key=by"
                              "&Tags.member.1.Value=hand",
             made);
    assert_int_equal(it_aws_query(e, "sns", form, &out), 200);
    snprintf(form, sizeof form,
             Q("Subscribe") "&TopicArn=%s&Protocol=sqs&Endpoint=arn%%3Aaws%%3Asqs%%3Aus-east-1%%"
                            "3A" ACCOUNT "%%3A%s-2&Attributes.entry.1.key=RawMessageDelivery"
                            "&Attributes.entry.1.value=true",
             tarn, queue);
    assert_int_equal(it_aws_query(e, "sns", form, &out), 200);
    assert_true(it_eventually(
        e, "Madehand", "SELECT display_name || (tags->>'by') FROM topic WHERE name = '%s'", made));
    assert_true(it_eventually(e, "t",
                              "SELECT raw_message_delivery FROM subscription WHERE topic = '%s' "
                              "AND endpoint LIKE '%%-2'",
                              name));
    it_rotation_off(e);
    assert_true(it_okf(e, "DELETE FROM topic WHERE name LIKE 'rot-%%-%d'", (int)getpid()));
    assert_true(it_okf(e, "DELETE FROM queue WHERE name = '%s'", queue));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM topic WHERE name LIKE 'rot-%'"), "0");
}

static void test_bad_input(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "INSERT INTO topic (name) VALUES ('t')", 0, NULL));
    static const it_reject cases[] = {
        {"INSERT INTO topic (name) VALUES ('has space')", "topic_name_1_to_256_letters_digits"},
        {"INSERT INTO topic (name) VALUES (repeat('t', 257))",
         "topic_name_1_to_256_letters_digits"},
        {"INSERT INTO topic (name) VALUES ('x.fifo')",
         "topic_name_ends_in_fifo_if_and_only_if_fifo_topic"},
        {"INSERT INTO topic (name, fifo_topic) VALUES ('x', true)",
         "topic_name_ends_in_fifo_if_and_only_if_fifo_topic"},
        {"INSERT INTO topic (name, content_based_deduplication) VALUES ('x', true)",
         "topic_content_based_deduplication_only_for_fifo"},
        {"INSERT INTO topic (name, display_name) VALUES ('x', repeat('d', 101))",
         "topic_display_name_up_to_100_characters"},
        {"INSERT INTO topic (name, policy) VALUES ('x', '[]')", "topic_policy_is_a_json_object"},
        {"INSERT INTO topic (name, tags) VALUES ('x', '{\"aws:k\": \"v\"}')",
         "topic_tags_up_to_50_strings"},
        {"INSERT INTO topic (name) VALUES ('t')", "topic_name_unique_in_region"},
        {"INSERT INTO subscription (topic, protocol, endpoint) VALUES ('nope', 'sqs', "
         "'arn:aws:sqs:us-east-1:123456789012:q')",
         "subscription_topic_exists"},
        {"INSERT INTO subscription (topic, protocol, endpoint) VALUES ('t', 'carrier-pigeon', 'x')",
         "subscription_protocol_one_sns_supports"},
        {"INSERT INTO subscription (topic, protocol, endpoint) VALUES ('t', 'sqs', 'inbox')",
         "subscription_sqs_endpoint_is_a_queue_arn"},
        {"INSERT INTO subscription (topic, protocol, endpoint) VALUES ('t', 'https', "
         "'http://a.example')",
         "subscription_http_endpoint_is_a_url_of_its_scheme"},
        {"INSERT INTO subscription (topic, protocol, endpoint) VALUES ('t', 'email', 'nobody')",
         "subscription_email_endpoint_is_an_address"},
        {"INSERT INTO subscription (topic, protocol, endpoint, filter_policy) VALUES ('t', "
         "'https', 'https://a.example', '\"x\"')",
         "subscription_filter_policy_is_a_json_object"},
        {"INSERT INTO subscription (topic, protocol, endpoint, raw_message_delivery) VALUES ('t', "
         "'email', 'a@b.example', true)",
         "subscription_raw_message_delivery_not_for_email_or_sms"},
        {"INSERT INTO subscription (topic, protocol, endpoint) VALUES ('t', 'https', "
         "'https://a.example'), ('t', 'https', 'https://a.example')",
         "subscription_unique_per_topic_protocol_endpoint"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    assert_true(it_ok(e, "DELETE FROM topic WHERE name = 't'", 0, NULL));
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_topic_and_subscription_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscription_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_sns", tests, NULL, NULL);
}
