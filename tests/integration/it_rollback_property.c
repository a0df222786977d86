/* tests/integration/it_rollback_property.c — iasql_rollback(N) to random
 * commit points, as users will use it, against moto_server: random steps
 * over four modules at once (queues, renamed too, which is a replace;
 * buckets; topics; security groups, whose description change is a replace
 * that takes its instances along; instances in them), commits, deletes
 * made outside in the cloud (then a sync), and rollbacks to any earlier
 * commit point, including ones at which a table was empty. After every
 * commit and rollback the tables, and after every rollback the cloud read
 * through the AWS API, must equal the state recorded at that commit.
 *
 * Each seed is printed; IT_SEED=S replays one, IT_SEEDS=N runs N seeds
 * from it (the soak outside CI: docs/rollback.md). */
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

#define NQ 3 /* queue slots */
#define NB 2 /* bucket slots */
#define NT 2 /* topic slots */
#define NG 2 /* security group slots */
#define NI 2 /* instance slots */
#define STEPS 26
#define MAX_COMMITS 64

/* -1: absent; otherwise the slot's value (a tag, a display name, a
 * description version, the security group slot of an instance). */
typedef struct world {
    int q[NQ], qgen[NQ];
    int b[NB];
    int t[NT];
    int g[NG];
    int i[NI];
} world;

static unsigned seed, rng;
static char px[24];  /* this seed's prefix, lower case */
static int kinds[8]; /* steps taken of each kind */

static int setup(void **state)
{
    if (it_fixture(state, "rbprop", true))
        return -1;
    it_env *e = *state;
    /* a delete made outside is taken in at the next sync, however recent
     * the engine's own change to that resource */
    it_restart_engine(e, "off", "0");
    if (!it_ok(e, "SELECT * FROM iasql_install('aws_sqs', 'aws_sns', 'aws_ec2')", 0, NULL))
        return -1;
    /* the network every group and instance lives in: made once, never rolled past; in
     * 192.168/16, which no other test uses (install imports what the shared emulator
     * holds, and others pick subnets by their CIDR) */
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO vpc (cidr_block, tags) VALUES ('192.168.0.0/16', '{\"run\": \"%s\"}')",
             px);
    if (!it_ok(e, sql, 0, NULL))
        return -1;
    snprintf(sql, sizeof sql,
             "INSERT INTO subnet (vpc, cidr_block, availability_zone) SELECT id, '192.168.1.0/24', "
             "'us-east-1a' FROM vpc WHERE tags->>'run' = '%s'",
             px);
    if (!it_ok(e, sql, 0, NULL))
        return -1;
    PGresult *r = it_sql(e, "SELECT * FROM iasql_commit('network')", 0, NULL);
    PQclear(r);
    return r ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

static int rnd(int n)
{
    return (int)(rand_r(&rng) % (unsigned)n);
}

static void run(it_env *e, const char *fmt, ...)
{
    va_list ap;
    if (getenv("IT_VERBOSE")) {
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    va_start(ap, fmt);
    bool ok = it_okv(e, fmt, ap);
    va_end(ap);
    if (!ok)
        fail_msg("seed %u: a statement failed (above)", seed);
}

static const char *qname(const world *w, int k)
{
    static char b[2][64];
    static int n;
    n ^= 1;
    snprintf(b[n], sizeof b[n], "%sq%dg%d", px, k, w->qgen[k]);
    return b[n];
}

/* The world as text, from the model. */
static void describe(const world *w, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
#define ADD(...) len += (size_t)snprintf(out + len, len < size ? size - len : 0, __VA_ARGS__)
    for (int k = 0; k < NQ; k++)
        if (w->q[k] >= 0)
            ADD("queue %s v=%d;", qname(w, k), w->q[k]);
    for (int k = 0; k < NB; k++)
        if (w->b[k] >= 0)
            ADD("bucket %sb%d v=%d;", px, k, w->b[k]);
    for (int k = 0; k < NT; k++)
        if (w->t[k] >= 0)
            ADD("topic %st%d d%d;", px, k, w->t[k]);
    for (int k = 0; k < NG; k++)
        if (w->g[k] >= 0)
            ADD("group %sg%d d%d;", px, k, w->g[k]);
    for (int k = 0; k < NI; k++)
        if (w->i[k] >= 0)
            ADD("instance %d in %sg%d;", k, px, w->i[k]);
#undef ADD
}

/* The same text, from the tables. */
static void check_tables(it_env *e, const world *w, const char *when)
{
    char want[4096], sql[3072];
    describe(w, want, sizeof want);
    snprintf(sql, sizeof sql,
             "SELECT coalesce((SELECT string_agg(format('queue %%s v=%%s;', name, tags->>'v'), '' "
             "ORDER BY name) FROM queue WHERE name LIKE '%1$s%%'), '') || "
             "coalesce((SELECT string_agg(format('bucket %%s v=%%s;', name, tags->>'v'), '' "
             "ORDER BY name) FROM bucket WHERE name LIKE '%1$s%%'), '') || "
             "coalesce((SELECT string_agg(format('topic %%s %%s;', name, display_name), '' "
             "ORDER BY name) FROM topic WHERE name LIKE '%1$s%%'), '') || "
             "coalesce((SELECT string_agg(format('group %%s %%s;', group_name, description), '' "
             "ORDER BY group_name) FROM security_group WHERE group_name LIKE '%1$s%%'), '') || "
             "coalesce((SELECT string_agg(format('instance %%s in %%s;', i.tags->>'slot', "
             "g.group_name), '' ORDER BY i.tags->>'slot') FROM instance i JOIN security_group g "
             "ON g.id = ANY (i.security_groups) WHERE i.tags->>'run' = '%1$s'), '')",
             px);
    const char *got = it_value(e, sql);
    if (!got || strcmp(got, want) != 0)
        fail_msg("seed %u, %s: tables\n  %s\nexpected\n  %s", seed, when, got ? got : "(error)",
                 want);
}

/* The same text, from the cloud's own APIs. */
static void check_cloud(it_env *e, const world *w, const char *when)
{
    char got[4096] = "", want[4096];
    size_t len = 0;
#define ADD(...)                                                                                   \
    len += (size_t)snprintf(got + len, len < sizeof got ? sizeof got - len : 0, __VA_ARGS__)
    /* queues, sorted by name: ListQueues sorts by URL, which ends in the name */
    long st;
    json_t *l = it_aws_json(e, "sqs", "1.0", "AmazonSQS.ListQueues",
                            json_pack("{s:s}", "QueueNamePrefix", px), &st);
    assert_int_equal(st, 200);
    json_t *names = json_array();
    size_t k;
    json_t *u;
    json_array_foreach(json_object_get(l, "QueueUrls"), k, u)
        json_array_append_new(names, json_string(strrchr(json_string_value(u), '/') + 1));
    json_decref(l);
    for (size_t a = 0; a < json_array_size(names); a++)
        for (size_t b = a + 1; b < json_array_size(names); b++)
            if (strcmp(json_string_value(json_array_get(names, a)),
                       json_string_value(json_array_get(names, b))) > 0) {
                json_t *x = json_incref(json_array_get(names, a));
                json_array_set(names, a, json_array_get(names, b));
                json_array_set_new(names, b, x);
            }
    json_array_foreach(names, k, u)
    {
        json_t *q = it_cloud_queue(e, json_string_value(u));
        ADD("queue %s v=%s;", json_string_value(u),
            q ? json_string_value(json_object_get(json_object_get(q, "tags"), "v")) : "?");
        json_decref(q);
    }
    json_decref(names);
    /* buckets */
    for (int b = 0; b < NB; b++) {
        char name[64], url[512];
        snprintf(name, sizeof name, "%sb%d", px, b);
        if (!it_cloud_has_bucket(e->emulator, name))
            continue;
        snprintf(url, sizeof url, "%s/%s?tagging", e->emulator, name);
        const char *body = NULL;
        it_http_full("s3", NULL, "GET", url, NULL, &body);
        const char *v = body ? strstr(body, "<Key>v</Key>") : NULL;
        const char *val = v ? strstr(v, "<Value>") : NULL;
        ADD("bucket %s v=%d;", name, val ? atoi(val + 7) : -1);
    }
    /* topics */
    for (int t = 0; t < NT; t++) {
        char form[512];
        const char *out;
        snprintf(form, sizeof form,
                 "Action=GetTopicAttributes&Version=2010-03-31&TopicArn=arn%%3Aaws%%3Asns%%3A"
                 "us-east-1%%3A123456789012%%3A%st%d",
                 px, t);
        if (it_aws_query(e, "sns", form, &out) != 200)
            continue;
        const char *d = it_xml_entry(out, "DisplayName");
        ADD("topic %st%d %s;", px, t, d ? d : "");
    }
    /* security groups, and the instances running in them */
    char gids[NG][64];
    for (int g = 0; g < NG; g++) {
        gids[g][0] = '\0';
        char *x = it_ec2(e,
                         "Action=DescribeSecurityGroups&Filter.1.Name=group-name&"
                         "Filter.1.Value.1=%sg%d",
                         px, g);
        const char *id = it_xml_text(x, "groupId");
        if (id) {
            snprintf(gids[g], sizeof gids[g], "%s", id);
            ADD("group %sg%d %s;", px, g, it_xml_text(x, "groupDescription"));
        }
        free(x);
    }
    for (int i = 0; i < NI; i++) {
        char *x = it_ec2(e,
                         "Action=DescribeInstances&Filter.1.Name=tag:run&Filter.1.Value.1=%s&"
                         "Filter.2.Name=tag:slot&Filter.2.Value.1=%d&Filter.3.Name="
                         "instance-state-name&Filter.3.Value.1=running",
                         px, i);
        int n = it_count(x, "<instanceId>");
        if (n) {
            /* the instance's own groups: not its reservation's, nor its
             * network interface's (moto adds to those) */
            const char *own = strstr(x, "</networkInterfaceSet>");
            own = own ? strstr(own, "<groupSet>") : strstr(x, "<instancesSet>");
            char *end = own ? strstr(own, "</groupSet>") : NULL;
            if (end)
                *end = '\0';
            const char *in = "?";
            for (int g = 0; g < NG; g++)
                if (gids[g][0] && own && strstr(own, gids[g])) {
                    static char gn[64];
                    snprintf(gn, sizeof gn, "%sg%d", px, g);
                    in = gn;
                }
            ADD("instance %d in %s;", i, in);
            if (n > 1)
                ADD("(%d instances)", n);
        }
        free(x);
    }
#undef ADD
    describe(w, want, sizeof want);
    if (strcmp(got, want) != 0)
        fail_msg("seed %u, %s: the cloud\n  %s\nexpected\n  %s", seed, when, got, want);
}

static long last_commit(it_env *e)
{
    return atol(it_value(e, "SELECT coalesce(max(id), 0) FROM iasql_commits"));
}

static void no_failures(PGresult *r, const char *what)
{
    if (!r)
        fail_msg("seed %u: %s failed (above)", seed, what);
    for (int i = 0; getenv("IT_VERBOSE") && i < PQntuples(r); i++)
        fprintf(stderr, "  %s: %s\n", what, PQgetvalue(r, i, 3));
    for (int i = 0; i < PQntuples(r); i++)
        if (strncmp(PQgetvalue(r, i, 3), "failed", 6) == 0)
            fail_msg("seed %u: %s: %s", seed, what, PQgetvalue(r, i, 3));
    PQclear(r);
}

/* One change to the model and the tables; false when nothing applied. */
static bool change(it_env *e, world *w)
{
    int k, v = rnd(9);
    switch (rnd(6)) {
    case 0: /* a queue: made, retagged, renamed (a replace) or deleted */
        k = rnd(NQ);
        if (w->q[k] < 0) {
            w->q[k] = v;
            run(e, "INSERT INTO queue (name, tags) VALUES ('%s', '{\"v\": \"%d\"}')", qname(w, k),
                v);
        } else if (rnd(3) == 0) {
            char old[64];
            snprintf(old, sizeof old, "%s", qname(w, k));
            w->qgen[k]++;
            run(e, "UPDATE queue SET name = '%s' WHERE name = '%s'", qname(w, k), old);
            kinds[1]++;
        } else if (rnd(2)) {
            w->q[k] = v;
            run(e, "UPDATE queue SET tags = '{\"v\": \"%d\"}' WHERE name = '%s'", v, qname(w, k));
        } else {
            run(e, "DELETE FROM queue WHERE name = '%s'", qname(w, k));
            w->q[k] = -1;
        }
        return true;
    case 1: /* a bucket */
        k = rnd(NB);
        if (w->b[k] < 0)
            run(e, "INSERT INTO bucket (name, tags) VALUES ('%sb%d', '{\"v\": \"%d\"}')", px, k, v);
        else if (rnd(2))
            run(e, "UPDATE bucket SET tags = '{\"v\": \"%d\"}' WHERE name = '%sb%d'", v, px, k);
        else {
            run(e, "DELETE FROM bucket WHERE name = '%sb%d'", px, k);
            v = -1;
        }
        w->b[k] = v;
        return true;
    case 2: /* a topic */
        k = rnd(NT);
        if (w->t[k] < 0)
            run(e, "INSERT INTO topic (name, display_name) VALUES ('%st%d', 'd%d')", px, k, v);
        else if (rnd(2))
            run(e, "UPDATE topic SET display_name = 'd%d' WHERE name = '%st%d'", v, px, k);
        else {
            run(e, "DELETE FROM topic WHERE name = '%st%d'", px, k);
            v = -1;
        }
        w->t[k] = v;
        return true;
    case 3: /* a security group: made, described anew (a replace) or deleted when unused */
        k = rnd(NG);
        if (w->g[k] < 0) {
            run(e,
                "INSERT INTO security_group (group_name, description, vpc) SELECT '%sg%d', "
                "'d%d', id FROM vpc WHERE tags->>'run' = '%s'",
                px, k, v, px);
            w->g[k] = v;
        } else if (rnd(2)) {
            /* A new description is a new group under the same name: AWS
             * cannot hold both, so it is made only when no instance uses
             * the old one (else the commit says how to go about it). */
            for (int i = 0; i < NI; i++)
                if (w->i[i] == k)
                    return false;
            run(e, "UPDATE security_group SET description = 'd%d' WHERE group_name = '%sg%d'", v,
                px, k);
            w->g[k] = v;
            kinds[2]++;
        } else {
            for (int i = 0; i < NI; i++)
                if (w->i[i] == k)
                    return false;
            run(e, "DELETE FROM security_group WHERE group_name = '%sg%d'", px, k);
            w->g[k] = -1;
        }
        return true;
    default: /* an instance: made in a group, moved to another, or deleted */
        k = rnd(NI);
        int g = rnd(NG);
        if (w->g[g] < 0)
            return false;
        if (w->i[k] < 0)
            run(e,
                "INSERT INTO instance (ami, instance_type, subnet, security_groups, tags) "
                "SELECT 'ami-12c6146b', 't2.micro', s.id, ARRAY[g.id], "
                "'{\"run\": \"%s\", \"slot\": \"%d\"}' FROM subnet s JOIN vpc v ON v.id = s.vpc, "
                "security_group g WHERE v.tags->>'run' = '%s' AND g.group_name = '%sg%d'",
                px, k, px, px, g);
        else if (rnd(2))
            run(e,
                "UPDATE instance SET security_groups = ARRAY[(SELECT id FROM security_group "
                "WHERE group_name = '%sg%d')] WHERE tags->>'run' = '%s' AND tags->>'slot' = '%d'",
                px, g, px, k);
        else {
            run(e, "DELETE FROM instance WHERE tags->>'run' = '%s' AND tags->>'slot' = '%d'", px,
                k);
            g = -1;
        }
        w->i[k] = g;
        kinds[3]++;
        return true;
    }
}

/* A queue or bucket that exists, deleted through the AWS API, then taken
 * in by a sync. */
static bool delete_outside(it_env *e, world *w)
{
    if (rnd(2)) {
        int k = rnd(NQ);
        if (w->q[k] < 0)
            return false;
        long st;
        json_t *u = it_aws_json(e, "sqs", "1.0", "AmazonSQS.GetQueueUrl",
                                json_pack("{s:s}", "QueueName", qname(w, k)), &st);
        assert_int_equal(st, 200);
        json_t *d =
            it_aws_json(e, "sqs", "1.0", "AmazonSQS.DeleteQueue",
                        json_pack("{s:O}", "QueueUrl", json_object_get(u, "QueueUrl")), &st);
        assert_int_equal(st, 200);
        json_decref(u);
        json_decref(d);
        w->q[k] = -1;
    } else {
        int k = rnd(NB);
        if (w->b[k] < 0)
            return false;
        char url[512];
        snprintf(url, sizeof url, "%s/%sb%d", e->emulator, px, k);
        assert_int_equal(it_http("DELETE", url, NULL, NULL), 204);
        w->b[k] = -1;
    }
    PGresult *r = it_sql(e, "SELECT * FROM iasql_sync()", 0, NULL);
    if (!r)
        fail_msg("seed %u: sync failed", seed);
    PQclear(r);
    return true;
}

static void one_seed(it_env *e)
{
    world cur, at[MAX_COMMITS];
    long ids[MAX_COMMITS];
    memset(&cur, -1, sizeof cur);
    memset(cur.qgen, 0, sizeof cur.qgen);
    int nsnap = 0;
    ids[nsnap] = last_commit(e); /* the network: every table of the test empty */
    at[nsnap++] = cur;
    for (int step = 0; step < STEPS && nsnap < MAX_COMMITS; step++) {
        if (getenv("IT_VERBOSE")) {
            char d[4096];
            describe(&cur, d, sizeof d);
            fprintf(stderr, "step %d: %s\n", step, d);
        }
        char when[64];
        snprintf(when, sizeof when, "step %d", step);
        int op = rnd(10);
        if (op < 6) {
            int n = 1 + rnd(3), made = 0;
            for (int c = 0; c < n; c++)
                made += change(e, &cur);
            if (!made)
                continue;
            long before = last_commit(e);
            no_failures(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL), "a commit");
            check_tables(e, &cur, when);
            if (getenv("IT_VERBOSE"))
                fprintf(stderr, "commit %ld (was %ld)\n", last_commit(e), before);
            if (last_commit(e) != before) {
                ids[nsnap] = last_commit(e);
                at[nsnap++] = cur;
            }
            kinds[0]++;
        } else if (op < 7) {
            if (delete_outside(e, &cur)) {
                check_tables(e, &cur, when);
                kinds[4]++;
            }
        } else {
            int to = rnd(nsnap);
            char id[24];
            snprintf(id, sizeof id, "%ld", ids[to]);
            bool was_empty = true;
            for (int k = 0; k < NQ; k++)
                was_empty &= at[to].q[k] < 0;
            kinds[5]++;
            kinds[6] += was_empty;
            if (getenv("IT_VERBOSE"))
                fprintf(stderr, "rollback to %s (snapshot %d of %d)\n", id, to, nsnap);
            no_failures(
                it_sql(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, (const char *[]){id}),
                "a rollback");
            /* the queue names follow the state at that commit */
            world target = at[to];
            memcpy(target.qgen, at[to].qgen, sizeof target.qgen);
            cur = target;
            snprintf(when, sizeof when, "step %d, rollback to commit %s", step, id);
            check_tables(e, &cur, when);
            check_cloud(e, &cur, when);
            long now = last_commit(e);
            if (now != ids[nsnap - 1]) {
                ids[nsnap] = now;
                at[nsnap++] = cur;
            }
        }
    }
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    check_cloud(e, &cur, "the end");
    /* What the seed made goes, so that the emulator every later test shares
     * (and imports from) stays small. */
    run(e, "DELETE FROM instance WHERE tags->>'run' = '%s'", px);
    run(e, "DELETE FROM queue WHERE name LIKE '%s%%'", px);
    run(e, "DELETE FROM bucket WHERE name LIKE '%s%%'", px);
    run(e, "DELETE FROM topic WHERE name LIKE '%s%%'", px);
    no_failures(it_sql(e, "SELECT * FROM iasql_commit('clean up')", 0, NULL), "the clean-up");
    run(e, "DELETE FROM security_group WHERE group_name LIKE '%s%%'", px);
    run(e, "DELETE FROM vpc WHERE tags->>'run' = '%s'", px);
    no_failures(it_sql(e, "SELECT * FROM iasql_commit('clean up')", 0, NULL), "the clean-up");
    memset(&cur, -1, sizeof cur);
    memset(cur.qgen, 0, sizeof cur.qgen);
    check_cloud(e, &cur, "after the clean-up");
}

static void test_rollback_to_random_commits(void **state)
{
    it_env *e = *state;
    one_seed(e);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const char *s = getenv("IT_SEED");
    unsigned first = s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
    const char *n = getenv("IT_SEEDS");
    int seeds = n ? atoi(n) : 3;
    int failed = 0;
    for (int i = 0; i < seeds; i++) {
        seed = first + (unsigned)i;
        rng = seed;
        snprintf(px, sizeof px, "rp%u-%u-", seed % 1000000u, (unsigned)getpid() % 10000u);
        fprintf(stderr, "rollback property: seed %u (replay with IT_SEED=%u)\n", seed, seed);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_rollback_to_random_commits, setup, teardown),
        };
        failed += cmocka_run_group_tests_name("integration: rollback to random commit points",
                                              tests, NULL, NULL);
    }
    fprintf(stderr,
            "rollback property: %d seeds, %d failed; %d commits, %d renames, %d group replaces, "
            "%d instance steps, %d outside deletes, %d rollbacks (%d to no queues)\n",
            seeds, failed, kinds[0], kinds[1], kinds[2], kinds[3], kinds[4], kinds[5], kinds[6]);
    return failed ? 1 : 0;
}
