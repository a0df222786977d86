/* tests/integration/it_property.c — a property test of commit and rollback
 * against moto_server: a random sequence of user changes (log groups
 * created, their retention changed, deleted), commits, iasql_rollback()
 * and iasql_rollback(N), checked after every step against a small model:
 * the table equals the model's rows, a commit point is made exactly when
 * something differs from the last committed state, a rollback to N with
 * changes pending is refused and changes nothing, and at the end the cloud
 * equals the model's committed state. IT_SEED replays a failing sequence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "it_util.h"

#define MAX_GROUPS 64
#define MAX_COMMITS 128
#define STEPS 70

/* A state: retention per group number; -1 absent, 0 no retention. */
typedef struct model {
    int days[MAX_GROUPS];
} model;

static const int retentions[] = {0, 1, 3, 5, 7, 14};
static char prefix[32];
static unsigned seed, rng;

static int setup(void **state)
{
    if (it_fixture(state, "prop", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_cloudwatch')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

static int rnd(int n)
{
    return (int)(rand_r(&rng) % (unsigned)n);
}

static bool same(const model *a, const model *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

/* The model as the text the table query below gives. */
static void describe(const model *m, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < MAX_GROUPS && len < size; i++)
        if (m->days[i] >= 0)
            len += (size_t)snprintf(out + len, size - len, "%s-%02d=%d;", prefix, i, m->days[i]);
}

static void check_table(it_env *e, const model *m, int step)
{
    char sql[512], want[8192];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(string_agg(log_group_name || '=' || coalesce(retention_in_days, 0) "
             "|| ';', '' ORDER BY log_group_name), '') FROM log_group "
             "WHERE log_group_name LIKE '%s-%%'",
             prefix);
    describe(m, want, sizeof want);
    const char *got = it_value(e, sql);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("seed %u step %d: table\n  %s\nmodel\n  %s", seed, step, got, want);
}

static void check_cloud(it_env *e, const model *m)
{
    model cloud;
    for (int i = 0; i < MAX_GROUPS; i++)
        cloud.days[i] = -1;
    json_t *token = NULL;
    do {
        json_t *body = json_pack("{s:s}", "logGroupNamePrefix", prefix);
        if (token)
            json_object_set(body, "nextToken", token);
        long st;
        json_t *r = it_aws_json(e, "logs", "1.1", "Logs_20140328.DescribeLogGroups", body, &st);
        assert_int_equal(st, 200);
        size_t i;
        json_t *g;
        json_array_foreach(json_object_get(r, "logGroups"), i, g)
        {
            int n =
                atoi(json_string_value(json_object_get(g, "logGroupName")) + strlen(prefix) + 1);
            json_t *d = json_object_get(g, "retentionInDays");
            cloud.days[n] = d ? (int)json_integer_value(d) : 0;
        }
        json_decref(token);
        token = json_incref(json_object_get(r, "nextToken"));
        json_decref(r);
    } while (token && json_is_string(token));
    json_decref(token);
    char got[8192], want[8192];
    describe(&cloud, got, sizeof got);
    describe(m, want, sizeof want);
    if (strcmp(got, want) != 0)
        fail_msg("seed %u: cloud\n  %s\ncommitted\n  %s", seed, got, want);
}

static long last_commit(it_env *e)
{
    return atol(it_value(e, "SELECT coalesce(max(id), 0) FROM iasql_commits"));
}

/* A present group, or -1. */
static int pick(const model *m)
{
    int present[MAX_GROUPS], n = 0;
    for (int i = 0; i < MAX_GROUPS; i++)
        if (m->days[i] >= 0)
            present[n++] = i;
    return n ? present[rnd(n)] : -1;
}

static void run(it_env *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = it_okv(e, fmt, ap);
    va_end(ap);
    if (!ok)
        fail_msg("seed %u: a statement failed (above)", seed);
}

static void failed_none(it_env *e, const char *call)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE description LIKE 'failed%%'", call);
    const char *v = it_value(e, sql);
    if (!v || strcmp(v, "0") != 0)
        fail_msg("seed %u: %s failed: %s", seed, call, v ? v : it_sql_error(e, sql));
}

static void test_random_history(void **state)
{
    it_env *e = *state;
    model cur, committed, at[MAX_COMMITS];
    long ids[MAX_COMMITS];
    int nsnap = 0, ngroups = 0;
    for (int i = 0; i < MAX_GROUPS; i++)
        cur.days[i] = -1;
    committed = cur;
    int counts[6] = {0};
    for (int step = 0; step < STEPS; step++) {
        int op = rnd(100);
        int g = pick(&cur);
        if (op < 25 && ngroups < MAX_GROUPS) {
            int d = retentions[rnd(6)];
            cur.days[ngroups] = d;
            if (d)
                run(e,
                    "INSERT INTO log_group (log_group_name, retention_in_days) "
                    "VALUES ('%s-%02d', %d)",
                    prefix, ngroups, d);
            else
                run(e, "INSERT INTO log_group (log_group_name) VALUES ('%s-%02d')", prefix,
                    ngroups);
            ngroups++;
            counts[0]++;
        } else if (op < 45 && g >= 0) {
            int d = retentions[rnd(6)];
            cur.days[g] = d;
            run(e,
                "UPDATE log_group SET retention_in_days = %s%.0d WHERE log_group_name = "
                "'%s-%02d'",
                d ? "" : "NULL", d, prefix, g);
            counts[1]++;
        } else if (op < 60 && g >= 0) {
            cur.days[g] = -1;
            run(e, "DELETE FROM log_group WHERE log_group_name = '%s-%02d'", prefix, g);
            counts[2]++;
        } else if (op < 80) {
            long before = last_commit(e);
            failed_none(e, "iasql_commit()");
            long after = last_commit(e);
            if ((after != before) != !same(&cur, &committed))
                fail_msg("seed %u step %d: commit point %ld -> %ld, model changed: %d", seed, step,
                         before, after, !same(&cur, &committed));
            committed = cur;
            if (after != before && nsnap < MAX_COMMITS) {
                ids[nsnap] = after;
                at[nsnap++] = cur;
            }
            counts[3]++;
        } else if (op < 90) {
            run(e, "SELECT * FROM iasql_rollback()");
            cur = committed;
            counts[4]++;
        } else if (nsnap) {
            int k = rnd(nsnap);
            char sql[128];
            snprintf(sql, sizeof sql, "iasql_rollback(%ld)", ids[k]);
            long before = last_commit(e);
            if (!same(&cur, &committed)) {
                char q[160];
                snprintf(q, sizeof q, "SELECT * FROM %s", sql);
                const char *msg = it_sql_error(e, q);
                if (!msg || !strstr(msg, "changes are pending"))
                    fail_msg("seed %u step %d: %s with changes pending: %s", seed, step, sql,
                             msg ? msg : "accepted");
                assert_int_equal(last_commit(e), before);
            } else {
                failed_none(e, sql);
                long after = last_commit(e);
                if ((after != before) != !same(&at[k], &committed))
                    fail_msg("seed %u step %d: %s made commit point %ld -> %ld", seed, step, sql,
                             before, after);
                cur = committed = at[k];
                if (after != before && nsnap < MAX_COMMITS) {
                    ids[nsnap] = after;
                    at[nsnap++] = cur;
                }
            }
            counts[5]++;
        }
        check_table(e, &cur, step);
    }
    failed_none(e, "iasql_commit()");
    committed = cur;
    check_table(e, &cur, STEPS);
    check_cloud(e, &committed);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    printf("seed %u: %d inserts, %d updates, %d deletes, %d commits, %d rollbacks, "
           "%d rollbacks to a commit point; %d commit points\n",
           seed, counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], nsnap);
    /* Clean up the cloud. */
    run(e, "DELETE FROM log_group WHERE log_group_name LIKE '%s-%%'", prefix);
    failed_none(e, "iasql_commit()");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    seed = getenv("IT_SEED") ? (unsigned)strtoul(getenv("IT_SEED"), NULL, 10)
                             : (unsigned)time(NULL) ^ (unsigned)getpid();
    rng = seed;
    snprintf(prefix, sizeof prefix, "prop%d", (int)getpid());
    printf("it_property: seed %u (IT_SEED=%u replays it)\n", seed, seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_random_history, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
