/* tests/integration/it_cloudwatch.c — module aws_cloudwatch end to end
 * against moto_server. log_group: import, create, update in place, replace,
 * delete, bad input, and adopting a group that already exists. metric_alarm:
 * create with every setting (a statistic, an extended statistic, metric
 * math), update in place, replace, rollback to the first commit, delete,
 * import, drift brought in by a sync, adopting an alarm that exists, and
 * bad input refused by constraint name. The cloud is read with plain
 * JSON-protocol HTTP (CloudWatch's json protocol, while the engine speaks
 * query), never through the engine's client. */
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
    if (it_fixture(state, "cloudwatch", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_cloudwatch')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

/* One CloudWatch Logs call straight to the emulator; the decoded answer. */
static json_t *logs(it_env *e, const char *op, const char *body)
{
    char target[96];
    snprintf(target, sizeof target, "Logs_20140328.%s", op);
    long st;
    json_t *j = it_aws_json(e, "logs", "1.1", target, json_loads(body, 0, NULL), &st);
    if (st != 200)
        fail_msg("%s: HTTP %ld", op, st);
    return j;
}

static json_t *cloud_tags(it_env *e, const char *name)
{
    char body[600];
    snprintf(body, sizeof body, "{\"logGroupName\": \"%s\"}", name);
    json_t *r = logs(e, "ListTagsLogGroup", body);
    json_t *t = json_incref(json_object_get(r, "tags"));
    json_decref(r);
    return t;
}

static void test_log_group_lifecycle(void **state)
{
    it_env *e = *state;
    char name[64], renamed[64], sql[300];
    snprintf(name, sizeof name, "/iasql/app-%d", (int)getpid());
    snprintf(renamed, sizeof renamed, "/iasql/app-%d-b", (int)getpid());
    const char *p[] = {name};
    assert_true(it_ok(e,
                      "INSERT INTO log_group (log_group_name, retention_in_days, tags) "
                      "VALUES ($1, 7, '{\"team\": \"a\"}')",
                      1, p));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "create");
    it_expect_commit(e, 1, "create");
    json_t *g = it_cloud_log_group(e, name);
    assert_non_null(g);
    assert_int_equal(json_integer_value(json_object_get(g, "retentionInDays")), 7);
    json_decref(g);
    json_t *t = cloud_tags(e, name);
    assert_string_equal(json_string_value(json_object_get(t, "team")), "a");
    /* the database that made it, which the row does not show */
    char *dbid = it_database_id(e);
    assert_string_equal(json_string_value(json_object_get(t, "iasql:owner")), dbid);
    free(dbid);
    json_decref(t);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM log_group WHERE log_group_arn LIKE 'arn:aws:logs:%%' "
             "AND creation_time IS NOT NULL AND log_group_name = '%s'",
             name);
    assert_string_equal(it_value(e, sql), "1");

    /* retention and tags change in place */
    assert_true(it_ok(e,
                      "UPDATE log_group SET retention_in_days = 30, "
                      "tags = '{\"team\": \"b\", \"env\": \"dev\"}' WHERE log_group_name = $1",
                      1, p));
    it_expect_commit(e, 1, "update");
    g = it_cloud_log_group(e, name);
    assert_int_equal(json_integer_value(json_object_get(g, "retentionInDays")), 30);
    json_decref(g);
    t = cloud_tags(e, name);
    assert_int_equal(json_object_size(t), 3); /* team, env and iasql:owner */
    assert_string_equal(json_string_value(json_object_get(t, "team")), "b");
    json_decref(t);
    assert_true(it_ok(e,
                      "UPDATE log_group SET retention_in_days = NULL, tags = '{\"env\": \"dev\"}' "
                      "WHERE log_group_name = $1",
                      1, p));
    it_expect_commit(e, 1, "update");
    g = it_cloud_log_group(e, name);
    assert_null(json_object_get(g, "retentionInDays"));
    json_decref(g);
    t = cloud_tags(e, name);
    assert_int_equal(json_object_size(t), 2); /* env and iasql:owner */
    json_decref(t);

    /* a new name is a new log group */
    const char *q[] = {name, renamed};
    assert_true(
        it_ok(e, "UPDATE log_group SET log_group_name = $2 WHERE log_group_name = $1", 2, q));
    it_expect_commit(e, 1, "replace");
    g = it_cloud_log_group(e, name);
    assert_null(g);
    g = it_cloud_log_group(e, renamed);
    assert_non_null(g);
    json_decref(g);
    t = cloud_tags(e, renamed);
    assert_string_equal(json_string_value(json_object_get(t, "env")), "dev");
    json_decref(t);

    snprintf(sql, sizeof sql, "DELETE FROM log_group WHERE log_group_name = $1");
    const char *r[] = {renamed};
    assert_true(it_ok(e, sql, 1, r));
    it_expect_commit(e, 1, "delete");
    assert_null(it_cloud_log_group(e, renamed));
}

static void test_log_group_import_and_adopt(void **state)
{
    it_env *e = *state;
    char made[64], body[300];
    snprintf(made, sizeof made, "/iasql/console-%d", (int)getpid());
    snprintf(body, sizeof body, "{\"logGroupName\": \"%s\", \"tags\": {\"by\": \"console\"}}",
             made);
    json_decref(logs(e, "CreateLogGroup", body));
    /* reinstall: what the cloud has is imported */
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_cloudwatch')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_cloudwatch')", 0, NULL));
    const char *p[] = {made};
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    PGresult *r = it_sql(e,
                         "SELECT tags->>'by', log_group_arn IS NOT NULL, region "
                         "FROM log_group WHERE log_group_name = $1",
                         1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "console");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    /* a row for a group that exists already (made behind the engine's back):
     * the create adopts it and brings it to the row */
    char other[64];
    snprintf(other, sizeof other, "/iasql/raced-%d", (int)getpid());
    snprintf(body, sizeof body, "{\"logGroupName\": \"%s\", \"tags\": {\"old\": \"x\"}}", other);
    json_decref(logs(e, "CreateLogGroup", body));
    const char *q[] = {other};
    assert_true(it_ok(e,
                      "INSERT INTO log_group (log_group_name, retention_in_days, tags) "
                      "VALUES ($1, 14, '{\"new\": \"y\"}')",
                      1, q));
    it_expect_commit(e, 1, "create");
    json_t *g = it_cloud_log_group(e, other);
    assert_int_equal(json_integer_value(json_object_get(g, "retentionInDays")), 14);
    json_decref(g);
    json_t *t = cloud_tags(e, other);
    assert_int_equal(json_object_size(t), 1);
    assert_string_equal(json_string_value(json_object_get(t, "new")), "y");
    json_decref(t);
    assert_true(it_ok(e, "DELETE FROM log_group", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_null(it_cloud_log_group(e, other));
    assert_null(it_cloud_log_group(e, made));
}

/* The poller's rotation: a quiet poll of known log groups costs
 * DescribeLogGroups' pages and a page of the tagging API, not a
 * ListTagsLogGroup a group; a tag and a retention changed outside are seen
 * at the next poll, a group new in the cloud in full at once. */
static void test_log_group_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 12 };
    assert_true(
        it_okf(e,
               "INSERT INTO log_group (log_group_name, tags) "
               "SELECT '/rot/' || g || '-%d', '{\"n\": \"1\"}' FROM generate_series(1, %d) g",
               (int)getpid(), N));
    it_expect_commit(e, N, "create");
    PQclear(it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL));
    int n = atoi(it_value(e, "SELECT count(*) FROM log_group"));
    long all[4], rot[4];
    it_rotation_quiet(e, "log_group", "1", all);
    it_rotation_quiet(e, "log_group", "5", rot);
    for (int i = 0; i < 4; i++) {
        assert_true(all[i] >= 1 + n);          /* the pages, a ListTagsLogGroup a group */
        assert_true(rot[i] <= all[i] - n + 1); /* the pages, a tagging page */
    }
    char name[64], made[64], body[300];
    snprintf(name, sizeof name, "/rot/1-%d", (int)getpid());
    snprintf(made, sizeof made, "/rot/made-%d", (int)getpid());
    snprintf(body, sizeof body, "{\"logGroupName\": \"%s\", \"tags\": {\"team\": \"ops\"}}", name);
    json_decref(logs(e, "TagLogGroup", body));
    assert_true(it_eventually(
        e, "ops", "SELECT coalesce(tags->>'team', '') FROM log_group WHERE log_group_name = '%s'",
        name));
    snprintf(body, sizeof body, "{\"logGroupName\": \"%s\", \"retentionInDays\": 5}", name);
    json_decref(logs(e, "PutRetentionPolicy", body));
    assert_true(it_eventually(
        e, "5", "SELECT retention_in_days FROM log_group WHERE log_group_name = '%s'", name));
    snprintf(body, sizeof body, "{\"logGroupName\": \"%s\", \"tags\": {\"by\": \"hand\"}}", made);
    json_decref(logs(e, "CreateLogGroup", body));
    assert_true(it_eventually(e, "hand",
                              "SELECT coalesce(tags->>'by', '') FROM log_group "
                              "WHERE log_group_name = '%s'",
                              made));
    print_message("log group rotation: %d groups, quiet polls %ld %ld %ld %ld requests in full, "
                  "%ld %ld %ld %ld with four slots\n",
                  n, all[0], all[1], all[2], all[3], rot[0], rot[1], rot[2], rot[3]);
    it_rotation_off(e);
    assert_true(
        it_okf(e, "DELETE FROM log_group WHERE log_group_name LIKE '/rot/%%-%d'", (int)getpid()));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_string_equal(
        it_value(e, "SELECT count(*) FROM log_group WHERE log_group_name LIKE '/rot/%'"), "0");
}

static void test_log_group_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO log_group (log_group_name, retention_in_days) VALUES ('/ok', 2)",
         "log_group_retention_in_days_one_of"},
        {"INSERT INTO log_group (log_group_name) VALUES ('has space')",
         "log_group_name_letters_digits"},
        {"INSERT INTO log_group (log_group_name) VALUES (repeat('a', 513))",
         "log_group_name_1_to_512_characters"},
        {"INSERT INTO log_group (log_group_name) VALUES ('')",
         "log_group_name_1_to_512_characters"},
        {"INSERT INTO log_group (log_group_name, tags) VALUES ('/ok', '{\"aws:k\": \"v\"}')",
         "log_group_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {"INSERT INTO log_group (log_group_name) VALUES ('/dup'), ('/dup')",
         "log_group_name_unique_in_region"},
        {"INSERT INTO log_group (log_group_name, retention_in_days) VALUES ('/ok', 'seven')",
         "invalid input syntax for type integer"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"),
                        "0");
}

/* ------------------------------------------------------------ alarms */

/* One CloudWatch call straight to the emulator, in the json protocol. */
static json_t *cw(it_env *e, const char *op, json_t *body)
{
    char target[96];
    snprintf(target, sizeof target, "GraniteServiceVersion20100801.%s", op);
    long st;
    json_t *j = it_aws_json(e, "monitoring", "1.0", target, body, &st);
    if (st != 200)
        fail_msg("%s: HTTP %ld", op, st);
    return j;
}

/* The alarm as CloudWatch describes it, or NULL when there is none. */
static json_t *cloud_alarm(it_env *e, const char *name)
{
    json_t *r = cw(e, "DescribeAlarms", json_pack("{s:[s]}", "AlarmNames", name));
    json_t *a = json_incref(json_array_get(json_object_get(r, "MetricAlarms"), 0));
    json_decref(r);
    return a;
}

static json_t *alarm_tags(it_env *e, const json_t *alarm)
{
    json_t *r = cw(
        e, "ListTagsForResource",
        json_pack("{s:s}", "ResourceARN", json_string_value(json_object_get(alarm, "AlarmArn"))));
    json_t *t = json_incref(json_object_get(r, "Tags"));
    json_decref(r);
    return t;
}

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* Whether an alarm's Metrics (as CloudWatch answers) are the metric math
 * of text, an empty Dimensions list counting as none. */
static bool same_metrics(json_t *metrics, const char *text)
{
    size_t i;
    json_t *q;
    json_array_foreach(metrics, i, q)
    {
        json_t *m = json_object_get(json_object_get(q, "MetricStat"), "Metric");
        if (json_array_size(json_object_get(m, "Dimensions")) == 0)
            json_object_del(m, "Dimensions");
    }
    json_t *want = json_loads(text, 0, NULL);
    bool same = json_equal(metrics, want);
    json_decref(want);
    return same;
}

#define TOPIC "arn:aws:sns:us-east-1:123456789012:"
#define METRICS                                                                                    \
    "[{\"Id\": \"m1\", \"ReturnData\": false, \"MetricStat\": {\"Metric\": {\"Namespace\": "       \
    "\"AWS/ApplicationELB\", \"MetricName\": \"RequestCount\", \"Dimensions\": [{\"Name\": "       \
    "\"LoadBalancer\", \"Value\": \"app/web/1\"}]}, \"Period\": 60, \"Stat\": \"Sum\"}}, "         \
    "{\"Id\": \"e1\", \"Expression\": \"m1 / 60\", \"Label\": \"per second\", \"ReturnData\": "    \
    "true}]"

/* An anomaly detection band (ThresholdMetricId names it). */
#define BAND                                                                                       \
    "[{\"Id\": \"m1\", \"ReturnData\": true, \"MetricStat\": {\"Metric\": {\"Namespace\": "        \
    "\"App\", \"MetricName\": \"Requests\"}, \"Period\": 300, \"Stat\": \"Sum\"}}, "               \
    "{\"Id\": \"ad1\", \"Expression\": \"ANOMALY_DETECTION_BAND(m1, 2)\", \"Label\": "             \
    "\"expected\", \"ReturnData\": true}]"

static void test_alarm_lifecycle(void **state)
{
    it_env *e = *state;
    char cpu[64], p99[64], math[64], band[64], renamed[64];
    snprintf(cpu, sizeof cpu, "cpu-high-%d", (int)getpid());
    snprintf(p99, sizeof p99, "latency-p99-%d", (int)getpid());
    snprintf(math, sizeof math, "requests-%d", (int)getpid());
    snprintf(band, sizeof band, "requests-band-%d", (int)getpid());
    snprintf(renamed, sizeof renamed, "cpu-high-%d-b", (int)getpid());
    const char *p[] = {cpu, p99, math, METRICS};
    assert_true(it_ok(
        e,
        "INSERT INTO metric_alarm (alarm_name, alarm_description, actions_enabled, alarm_actions, "
        "ok_actions, insufficient_data_actions, metric_name, namespace, statistic, dimensions, "
        "period, evaluation_periods, datapoints_to_alarm, threshold, comparison_operator, "
        "treat_missing_data, unit, tags) VALUES ($1, 'CPU above 80.5%', false, "
        "ARRAY['" TOPIC "page'], ARRAY['" TOPIC "ok'], ARRAY['" TOPIC "nodata'], "
        "'CPUUtilization', 'AWS/EC2', 'Average', "
        "'[{\"Name\": \"InstanceId\", \"Value\": \"i-0abc\"}, {\"Name\": \"Az\", \"Value\": "
        "\"a\"}]', 300, 3, 2, 80.5, 'GreaterThanThreshold', 'breaching', 'Percent', "
        "'{\"team\": \"a\"}')",
        1, p));
    assert_true(it_ok(e,
                      "INSERT INTO metric_alarm (alarm_name, metric_name, namespace, "
                      "extended_statistic, period, evaluation_periods, threshold, "
                      "comparison_operator) VALUES ($1, 'Latency', 'App', 'p99', 60, 5, 2, "
                      "'GreaterThanOrEqualToThreshold')",
                      1, p + 1));
    const char *m[] = {math, METRICS};
    assert_true(it_ok(e,
                      "INSERT INTO metric_alarm (alarm_name, metrics, evaluation_periods, "
                      "threshold, comparison_operator) VALUES ($1, $2::jsonb, 1, 100, "
                      "'GreaterThanThreshold')",
                      2, m));
    const char *b[] = {band, BAND};
    assert_true(it_ok(e,
                      "INSERT INTO metric_alarm (alarm_name, metrics, evaluation_periods, "
                      "threshold_metric_id, comparison_operator, treat_missing_data) VALUES "
                      "($1, $2::jsonb, 2, 'ad1', 'LessThanLowerOrGreaterThanUpperThreshold', "
                      "'notBreaching')",
                      2, b));
    it_expect_commit(e, 4, "create");
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    json_t *a = cloud_alarm(e, cpu);
    assert_non_null(a);
    assert_string_equal(str(a, "AlarmDescription"), "CPU above 80.5%");
    assert_true(json_is_false(json_object_get(a, "ActionsEnabled")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "AlarmActions"), 0)),
                        TOPIC "page");
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "OKActions"), 0)),
                        TOPIC "ok");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(a, "InsufficientDataActions"), 0)),
        TOPIC "nodata");
    assert_string_equal(str(a, "MetricName"), "CPUUtilization");
    assert_string_equal(str(a, "Namespace"), "AWS/EC2");
    assert_string_equal(str(a, "Statistic"), "Average");
    assert_int_equal(json_array_size(json_object_get(a, "Dimensions")), 2);
    assert_string_equal(str(json_array_get(json_object_get(a, "Dimensions"), 0), "Value"),
                        "i-0abc");
    assert_int_equal(json_integer_value(json_object_get(a, "Period")), 300);
    assert_int_equal(json_integer_value(json_object_get(a, "EvaluationPeriods")), 3);
    assert_int_equal(json_integer_value(json_object_get(a, "DatapointsToAlarm")), 2);
    assert_true(json_number_value(json_object_get(a, "Threshold")) == 80.5);
    assert_string_equal(str(a, "ComparisonOperator"), "GreaterThanThreshold");
    assert_string_equal(str(a, "TreatMissingData"), "breaching");
    assert_string_equal(str(a, "Unit"), "Percent");
    json_t *t = alarm_tags(e, a);
    char *team = it_tag_value(t, "team"), *owner = it_tag_value(t, "iasql:owner");
    char *dbid = it_database_id(e);
    assert_string_equal(team, "a");
    assert_string_equal(owner, dbid);
    free(team), free(owner), free(dbid);
    json_decref(t);
    /* the ARN and state are written back */
    const char *q[] = {cpu, str(a, "AlarmArn"), str(a, "StateValue")};
    PGresult *r = it_sql(e,
                         "SELECT alarm_arn = $2, state_value = $3 FROM metric_alarm "
                         "WHERE alarm_name = $1",
                         3, q);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    json_decref(a);
    a = cloud_alarm(e, p99);
    assert_string_equal(str(a, "ExtendedStatistic"), "p99");
    assert_null(json_object_get(a, "Statistic"));
    json_decref(a);
    a = cloud_alarm(e, math);
    assert_true(same_metrics(json_object_get(a, "Metrics"), METRICS));
    assert_null(json_object_get(a, "MetricName"));
    json_decref(a);
    a = cloud_alarm(e, band);
    assert_true(same_metrics(json_object_get(a, "Metrics"), BAND));
    assert_string_equal(str(a, "ThresholdMetricId"), "ad1");
    assert_string_equal(str(a, "ComparisonOperator"), "LessThanLowerOrGreaterThanUpperThreshold");
    assert_null(json_object_get(a, "Threshold"));
    json_decref(a);

    /* in place: threshold, statistic, actions, description, tags; metric math */
    assert_true(it_ok(e,
                      "UPDATE metric_alarm SET threshold = 90, statistic = 'Maximum', "
                      "alarm_description = NULL, actions_enabled = true, alarm_actions = '{}', "
                      "datapoints_to_alarm = NULL, tags = '{\"team\": \"b\", \"env\": \"dev\"}' "
                      "WHERE alarm_name = $1",
                      1, p));
    assert_true(it_ok(e,
                      "UPDATE metric_alarm SET metrics = jsonb_set(metrics, "
                      "'{1,Expression}', '\"m1 / 120\"') WHERE alarm_name = $1",
                      1, p + 2));
    it_expect_commit(e, 2, "update");
    a = cloud_alarm(e, cpu);
    assert_true(json_number_value(json_object_get(a, "Threshold")) == 90);
    assert_string_equal(str(a, "Statistic"), "Maximum");
    assert_null(json_object_get(a, "AlarmDescription"));
    assert_true(json_is_true(json_object_get(a, "ActionsEnabled")));
    assert_int_equal(json_array_size(json_object_get(a, "AlarmActions")), 0);
    assert_int_equal(json_array_size(json_object_get(a, "OKActions")), 1);
    assert_null(json_object_get(a, "DatapointsToAlarm"));
    t = alarm_tags(e, a);
    assert_int_equal(json_array_size(t), 3); /* team, env and iasql:owner */
    team = it_tag_value(t, "team");
    assert_string_equal(team, "b");
    free(team);
    json_decref(t);
    json_decref(a);
    a = cloud_alarm(e, math);
    assert_string_equal(str(json_array_get(json_object_get(a, "Metrics"), 1), "Expression"),
                        "m1 / 120");
    json_decref(a);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* a new name is a new alarm */
    const char *rn[] = {cpu, renamed};
    assert_true(it_ok(e, "UPDATE metric_alarm SET alarm_name = $2 WHERE alarm_name = $1", 2, rn));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "replace");
    it_expect_commit(e, 1, "replace");
    a = cloud_alarm(e, cpu);
    assert_null(a);
    a = cloud_alarm(e, renamed);
    assert_non_null(a);
    assert_string_equal(str(a, "Statistic"), "Maximum");
    t = alarm_tags(e, a);
    char *env = it_tag_value(t, "env");
    assert_string_equal(env, "dev");
    free(env);
    json_decref(t);
    json_decref(a);

    /* back to the first commit: the first name and its settings */
    const char *f[] = {first};
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, f));
    assert_null(cloud_alarm(e, renamed));
    a = cloud_alarm(e, cpu);
    assert_non_null(a);
    assert_true(json_number_value(json_object_get(a, "Threshold")) == 80.5);
    assert_string_equal(str(a, "Statistic"), "Average");
    assert_string_equal(str(a, "AlarmDescription"), "CPU above 80.5%");
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "AlarmActions"), 0)),
                        TOPIC "page");
    t = alarm_tags(e, a);
    assert_int_equal(json_array_size(t), 2); /* team and iasql:owner */
    json_decref(t);
    json_decref(a);
    a = cloud_alarm(e, math);
    assert_string_equal(str(json_array_get(json_object_get(a, "Metrics"), 1), "Expression"),
                        "m1 / 60");
    json_decref(a);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    assert_true(it_ok(e, "DELETE FROM metric_alarm", 0, NULL));
    it_expect_commit(e, 4, "delete");
    assert_null(cloud_alarm(e, band));
    assert_null(cloud_alarm(e, cpu));
    assert_null(cloud_alarm(e, p99));
    assert_null(cloud_alarm(e, math));
    free(first);
}

static void test_alarm_import_drift_and_adopt(void **state)
{
    it_env *e = *state;
    char made[64], raced[64];
    snprintf(made, sizeof made, "console-%d", (int)getpid());
    snprintf(raced, sizeof raced, "raced-%d", (int)getpid());
    json_decref(
        cw(e, "PutMetricAlarm",
           json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:f, s:s, s:[{s:s, s:s}]}", "AlarmName", made,
                     "MetricName", "Errors", "Namespace", "App", "Statistic", "Sum", "Period", 60,
                     "EvaluationPeriods", 1, "Threshold", 1.25, "ComparisonOperator",
                     "GreaterThanThreshold", "Tags", "Key", "by", "Value", "console")));
    /* reinstall: what the cloud has is imported */
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_cloudwatch')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_cloudwatch')", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    const char *p[] = {made};
    PGresult *r = it_sql(e,
                         "SELECT tags->>'by', threshold, statistic, period, alarm_arn LIKE "
                         "'arn:aws:cloudwatch:%', actions_enabled, dimensions FROM metric_alarm "
                         "WHERE alarm_name = $1",
                         1, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "console");
    assert_string_equal(PQgetvalue(r, 0, 1), "1.25");
    assert_string_equal(PQgetvalue(r, 0, 2), "Sum");
    assert_string_equal(PQgetvalue(r, 0, 3), "60");
    assert_string_equal(PQgetvalue(r, 0, 4), "t");
    assert_string_equal(PQgetvalue(r, 0, 5), "t");
    assert_string_equal(PQgetvalue(r, 0, 6), "[]");
    PQclear(r);

    /* changed in the console: a sync brings it into the row */
    json_decref(cw(e, "PutMetricAlarm",
                   json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s}", "AlarmName", made,
                             "MetricName", "Errors", "Namespace", "App", "Statistic", "Sum",
                             "Period", 120, "EvaluationPeriods", 2, "Threshold", 5,
                             "ComparisonOperator", "GreaterThanThreshold")));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    r = it_sql(e,
               "SELECT threshold, period, evaluation_periods FROM metric_alarm "
               "WHERE alarm_name = $1",
               1, p);
    assert_string_equal(PQgetvalue(r, 0, 0), "5");
    assert_string_equal(PQgetvalue(r, 0, 1), "120");
    assert_string_equal(PQgetvalue(r, 0, 2), "2");
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* deleted in the console: a sync removes the row */
    json_decref(cw(e, "DeleteAlarms", json_pack("{s:[s]}", "AlarmNames", made)));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    r = it_sql(e, "SELECT count(*) FROM metric_alarm WHERE alarm_name = $1", 1, p);
    assert_string_equal(PQgetvalue(r, 0, 0), "0");
    PQclear(r);

    /* a row for an alarm that exists already (made behind the engine's
     * back): the create overwrites its configuration and its tags */
    json_decref(
        cw(e, "PutMetricAlarm",
           json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:[{s:s, s:s}]}", "AlarmName", raced,
                     "MetricName", "Old", "Namespace", "App", "Statistic", "Sum", "Period", 60,
                     "EvaluationPeriods", 1, "Threshold", 1, "ComparisonOperator",
                     "LessThanThreshold", "Tags", "Key", "old", "Value", "x")));
    const char *q[] = {raced};
    assert_true(it_ok(e,
                      "INSERT INTO metric_alarm (alarm_name, metric_name, namespace, statistic, "
                      "period, evaluation_periods, threshold, comparison_operator, tags) VALUES "
                      "($1, 'New', 'App', 'Average', 60, 1, 3, 'GreaterThanThreshold', "
                      "'{\"new\": \"y\"}')",
                      1, q));
    it_expect_commit(e, 1, "create");
    json_t *a = cloud_alarm(e, raced);
    assert_string_equal(str(a, "MetricName"), "New");
    assert_string_equal(str(a, "ComparisonOperator"), "GreaterThanThreshold");
    json_t *t = alarm_tags(e, a);
    assert_int_equal(json_array_size(t), 2); /* new and iasql:owner */
    char *old = it_tag_value(t, "old"), *nv = it_tag_value(t, "new");
    assert_string_equal(old, "");
    assert_string_equal(nv, "y");
    free(old), free(nv);
    json_decref(t);
    json_decref(a);
    assert_true(it_ok(e, "DELETE FROM metric_alarm", 0, NULL));
    it_expect_commit(e, 1, "delete");
    assert_null(cloud_alarm(e, raced));
}

/* The poller's rotation (--poll 1 --poll-deep 5: four slots): a quiet poll costs the
 * DescribeAlarms page, a tagging API page and the tags of about a quarter
 * of the alarms, not a ListTagsForResource an alarm (--poll-deep 1); it
 * writes nothing; a tag and a threshold changed outside are seen at the
 * next poll, an alarm new in the cloud comes in whole at once. */
static void test_alarm_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 40 };
    int pid = (int)getpid();
    assert_true(it_okf(e,
                       "INSERT INTO metric_alarm (alarm_name, metric_name, namespace, statistic, "
                       "period, evaluation_periods, threshold, comparison_operator) "
                       "SELECT 'rot-' || g || '-%d', 'Errors', 'App', 'Sum', 60, 1, g, "
                       "'GreaterThanThreshold' FROM generate_series(1, %d) g",
                       pid, N));
    it_expect_commit(e, N, "create");
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long full[2], req[4], sum = 0;
    it_rotation_start(e, "1", "metric_alarm", full, 2);
    it_rotation_start(e, "5", "metric_alarm", req, 4);
    for (int i = 0; i < 4; i++) {
        assert_true(req[i] <= 2 + (N / 4) * 3);
        sum += req[i];
    }
    assert_true(full[0] >= 1 + N && full[1] >= 1 + N);
    assert_true(sum <= 4 * 2 + N + 8); /* each one's tags read once a rotation */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    print_message("rotation: %d alarms, quiet polls %ld %ld in full, %ld %ld %ld %ld under the "
                  "rotation\n",
                  N, full[0], full[1], req[0], req[1], req[2], req[3]);
    char name[64], made[64];
    snprintf(name, sizeof name, "rot-1-%d", pid);
    snprintf(made, sizeof made, "rot-made-%d", pid);
    json_t *a = cloud_alarm(e, name);
    json_decref(cw(e, "TagResource",
                   json_pack("{s:O, s:[{s:s, s:s}]}", "ResourceARN", json_object_get(a, "AlarmArn"),
                             "Tags", "Key", "team", "Value", "ops")));
    json_decref(a);
    double t0 = it_now_s();
    assert_true(it_eventually(
        e, "ops", "SELECT coalesce(tags->>'team', '') FROM metric_alarm WHERE alarm_name = '%s'",
        name));
    double tag_s = it_now_s() - t0;
    json_decref(
        cw(e, "PutMetricAlarm",
           json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:[{s:s, s:s}]}", "AlarmName", made,
                     "MetricName", "Errors", "Namespace", "App", "Statistic", "Sum", "Period", 60,
                     "EvaluationPeriods", 1, "Threshold", 7, "ComparisonOperator",
                     "GreaterThanThreshold", "Tags", "Key", "by", "Value", "console")));
    assert_true(
        it_eventually(e, "1", "SELECT count(*) FROM metric_alarm WHERE alarm_name = '%s'", made));
    assert_string_equal(it_valf(e,
                                "SELECT tags->>'by' || threshold FROM metric_alarm "
                                "WHERE alarm_name = '%s'",
                                made),
                        "console7");
    print_message("a tag changed outside seen in %.1f s\n", tag_s);
    it_rotation_end(e);
    free(audit);
    assert_true(it_ok(e, "DELETE FROM metric_alarm", 0, NULL));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
}

#define ALARM_COLS                                                                                 \
    "INSERT INTO metric_alarm (alarm_name, metric_name, namespace, statistic, period, "            \
    "evaluation_periods, threshold, comparison_operator"

static void test_alarm_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {ALARM_COLS ") VALUES ('', 'm', 'n', 'Sum', 60, 1, 1, 'GreaterThanThreshold')",
         "metric_alarm_name_1_to_255_characters"},
        {ALARM_COLS ") VALUES (repeat('a', 256), 'm', 'n', 'Sum', 60, 1, 1, "
                    "'GreaterThanThreshold')",
         "metric_alarm_name_1_to_255_characters"},
        {ALARM_COLS ", alarm_description) VALUES ('a', 'm', 'n', 'Sum', 60, 1, 1, "
                    "'GreaterThanThreshold', repeat('d', 1025))",
         "metric_alarm_description_up_to_1024_characters"},
        {ALARM_COLS ", alarm_actions) VALUES ('a', 'm', 'n', 'Sum', 60, 1, 1, "
                    "'GreaterThanThreshold', ARRAY['arn:1', 'arn:2', 'arn:3', 'arn:4', "
                    "'arn:5', 'arn:6'])",
         "metric_alarm_actions_up_to_5_arns"},
        {ALARM_COLS ", ok_actions) VALUES ('a', 'm', 'n', 'Sum', 60, 1, 1, "
                    "'GreaterThanThreshold', ARRAY['not-an-arn'])",
         "metric_alarm_actions_up_to_5_arns"},
        {ALARM_COLS ") VALUES ('a', 'm', 'n', 'Mean', 60, 1, 1, 'GreaterThanThreshold')",
         "metric_alarm_statistic_samplecount_average_sum_minimum_maximum"},
        {ALARM_COLS ", extended_statistic) VALUES ('a', 'm', 'n', 'Sum', 60, 1, 1, "
                    "'GreaterThanThreshold', 'p99')",
         "metric_alarm_one_of_statistic_extended_statistic_or_metrics"},
        {"INSERT INTO metric_alarm (alarm_name, metric_name, namespace, period, "
         "evaluation_periods, threshold, comparison_operator) VALUES ('a', 'm', 'n', 60, 1, 1, "
         "'GreaterThanThreshold')",
         "metric_alarm_one_of_statistic_extended_statistic_or_metrics"},
        {"INSERT INTO metric_alarm (alarm_name, metric_name, namespace, extended_statistic, "
         "period, evaluation_periods, threshold, comparison_operator) VALUES ('a', 'm', 'n', "
         "'p101', 60, 1, 1, 'GreaterThanThreshold')",
         "metric_alarm_extended_statistic_a_percentile_or_trimmed_stat"},
        {ALARM_COLS ") VALUES ('a', NULL, 'n', 'Sum', 60, 1, 1, 'GreaterThanThreshold')",
         "metric_alarm_metric_name_and_namespace_with_a_statistic"},
        {"INSERT INTO metric_alarm (alarm_name, metric_name, metrics, evaluation_periods, "
         "threshold, comparison_operator) VALUES ('a', 'm', '" METRICS "', 1, 1, "
         "'GreaterThanThreshold')",
         "metric_alarm_metrics_without_metric_name_namespace_dimensions"},
        {ALARM_COLS ") VALUES ('a', 'm', ':n', 'Sum', 60, 1, 1, 'GreaterThanThreshold')",
         "metric_alarm_namespace_1_to_255_chars_not_starting_with_a_colon"},
        {ALARM_COLS ", dimensions) VALUES ('a', 'm', 'n', 'Sum', 60, 1, 1, "
                    "'GreaterThanThreshold', '[{\"Name\": \"x\"}]')",
         "metric_alarm_dimensions_up_to_30_names_and_values"},
        {ALARM_COLS ") VALUES ('a', 'm', 'n', 'Sum', 90, 1, 1, 'GreaterThanThreshold')",
         "metric_alarm_period_10_20_30_or_a_multiple_of_60"},
        {ALARM_COLS ") VALUES ('a', 'm', 'n', 'Sum', 15, 1, 1, 'GreaterThanThreshold')",
         "metric_alarm_period_10_20_30_or_a_multiple_of_60"},
        {ALARM_COLS ") VALUES ('a', 'm', 'n', 'Sum', 60, 0, 1, 'GreaterThanThreshold')",
         "metric_alarm_evaluation_periods_at_least_1"},
        {ALARM_COLS ") VALUES ('a', 'm', 'n', 'Sum', 300, 289, 1, 'GreaterThanThreshold')",
         "metric_alarm_evaluation_up_to_1_day_or_7_for_hourly_periods"},
        {ALARM_COLS ") VALUES ('a', 'm', 'n', 'Sum', 3600, 169, 1, 'GreaterThanThreshold')",
         "metric_alarm_evaluation_up_to_1_day_or_7_for_hourly_periods"},
        {"INSERT INTO metric_alarm (alarm_name, metrics, evaluation_periods, threshold, "
         "comparison_operator) VALUES ('a', '[{\"Id\": \"a\", \"Expression\": \"1\", "
         "\"ReturnData\": false}, {\"Id\": \"a\", \"Expression\": \"2\"}]', 1, 1, "
         "'GreaterThanThreshold')",
         "metric_alarm_metrics_1_to_20_queries_with_unique_ids"},
        {ALARM_COLS ", datapoints_to_alarm) VALUES ('a', 'm', 'n', 'Sum', 60, 2, 1, "
                    "'GreaterThanThreshold', 3)",
         "metric_alarm_datapoints_to_alarm_1_to_evaluation_periods"},
        {ALARM_COLS ") VALUES ('a', 'm', 'n', 'Sum', 60, 1, 1, 'Above')",
         "metric_alarm_comparison_operator_one_of_the_seven_operators"},
        {ALARM_COLS ") VALUES ('a', 'm', 'n', 'Sum', 60, 1, NULL, 'GreaterThanThreshold')",
         "metric_alarm_threshold_or_threshold_metric_id_for_a_band"},
        {ALARM_COLS ") VALUES ('a', 'm', 'n', 'Sum', 60, 1, 'NaN', 'GreaterThanThreshold')",
         "metric_alarm_threshold_a_finite_number"},
        {ALARM_COLS ", treat_missing_data) VALUES ('a', 'm', 'n', 'Sum', 60, 1, 1, "
                    "'GreaterThanThreshold', 'zero')",
         "metric_alarm_treat_missing_data_one_of_the_four_values"},
        {ALARM_COLS ", unit) VALUES ('a', 'm', 'n', 'Sum', 60, 1, 1, 'GreaterThanThreshold', "
                    "'Furlongs')",
         "metric_alarm_unit_one_of_the_standard_units"},
        {"INSERT INTO metric_alarm (alarm_name, metrics, evaluation_periods, threshold, "
         "comparison_operator) VALUES ('a', '[{\"Id\": \"M1\", \"Expression\": \"1\"}]', 1, 1, "
         "'GreaterThanThreshold')",
         "metric_alarm_metrics_1_to_20_queries_with_unique_ids"},
        {"INSERT INTO metric_alarm (alarm_name, metrics, evaluation_periods, threshold, "
         "comparison_operator) VALUES ('a', '[{\"Id\": \"a\", \"Expression\": \"1\"}, "
         "{\"Id\": \"b\", \"Expression\": \"2\"}]', 1, 1, 'GreaterThanThreshold')",
         "metric_alarm_metrics_one_returning_data_two_with_a_band"},
        {"INSERT INTO metric_alarm (alarm_name, metrics, evaluation_periods, "
         "threshold_metric_id, comparison_operator) VALUES ('a', '[{\"Id\": \"a\", "
         "\"Expression\": \"1\"}, {\"Id\": \"b\", \"Expression\": \"2\", \"ReturnData\": "
         "false}]', 1, 'b', 'GreaterThanUpperThreshold')",
         "metric_alarm_metrics_one_returning_data_two_with_a_band"},
        {"INSERT INTO metric_alarm (alarm_name, metrics, evaluation_periods, "
         "threshold_metric_id, comparison_operator) VALUES ('a', '[{\"Id\": \"a\", "
         "\"Expression\": \"1\"}, {\"Id\": \"b\", \"Expression\": \"2\"}]', 1, 'c', "
         "'GreaterThanUpperThreshold')",
         "metric_alarm_threshold_metric_id_names_a_query"},
        {"INSERT INTO metric_alarm (alarm_name, metrics, evaluation_periods, threshold, "
         "comparison_operator) VALUES ('a', '[{\"Id\": \"a\", \"MetricStat\": {\"Metric\": "
         "{\"Namespace\": \"n\", \"MetricName\": \"m\"}, \"Stat\": \"Sum\"}}]', 1, 1, "
         "'GreaterThanThreshold')",
         "metric_alarm_metrics_1_to_20_queries_with_unique_ids"},
        {ALARM_COLS ", tags) VALUES ('a', 'm', 'n', 'Sum', 60, 1, 1, 'GreaterThanThreshold', "
                    "'{\"aws:k\": \"v\"}')",
         "metric_alarm_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {ALARM_COLS ") VALUES ('d', 'm', 'n', 'Sum', 60, 1, 1, 'GreaterThanThreshold'), "
                    "('d', 'm', 'n', 'Sum', 60, 1, 1, 'GreaterThanThreshold')",
         "metric_alarm_name_unique_in_region"},
        {ALARM_COLS ", region) VALUES ('a', 'm', 'n', 'Sum', 60, 1, 1, 'GreaterThanThreshold', "
                    "'mars-1')",
         "metric_alarm_region_fkey"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"),
                        "0");
    /* what the model allows passes: the other extended statistics, a week
     * of hourly periods, high resolution, an anomaly band */
    assert_true(it_ok(e,
                      ALARM_COLS
                      ", extended_statistic) VALUES "
                      "('x1', 'm', 'n', NULL, 60, 1, 1, 'GreaterThanThreshold', 'tm90'), "
                      "('x2', 'm', 'n', NULL, 60, 1, 1, 'GreaterThanThreshold', 'TM(10%:90%)'), "
                      "('x3', 'm', 'n', NULL, 60, 1, 1, 'GreaterThanThreshold', 'IQM'), "
                      "('x4', 'm', 'n', NULL, 60, 1, 1, 'GreaterThanThreshold', 'PR(:300)'), "
                      "('x5', 'm', 'n', NULL, 60, 1, 1, 'GreaterThanThreshold', 'p99.9')",
                      0, NULL));
    assert_true(it_ok(e,
                      ALARM_COLS ") VALUES ('x6', 'm', 'n', 'Sum', 3600, 168, 1, "
                                 "'GreaterThanThreshold'), "
                                 "('x7', 'm', 'n', 'Sum', 10, 8640, 1, 'LessThanThreshold')",
                      0, NULL));
    assert_true(it_ok(e,
                      "INSERT INTO metric_alarm (alarm_name, metrics, evaluation_periods, "
                      "threshold_metric_id, comparison_operator) VALUES ('x8', '[{\"Id\": "
                      "\"m1\", \"ReturnData\": true, \"MetricStat\": {\"Metric\": "
                      "{\"Namespace\": \"n\", \"MetricName\": \"m\"}, \"Period\": 300, "
                      "\"Stat\": \"Average\"}}, {\"Id\": \"ad1\", \"Expression\": "
                      "\"ANOMALY_DETECTION_BAND(m1, 2)\", \"ReturnData\": true}]', 2, 'ad1', "
                      "'LessThanLowerOrGreaterThanUpperThreshold')",
                      0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "8");
    assert_true(it_ok(e, "DELETE FROM metric_alarm", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_log_group_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_group_import_and_adopt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_group_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_group_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alarm_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alarm_import_drift_and_adopt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alarm_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alarm_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_cloudwatch", tests, NULL, NULL);
}
