/* tests/faults/ft_journal.c — a journal that is full, truncated or
 * corrupted, and a second engine on the same database: the engine stops (or refuses to start) with
 * a clear message that says how to recover, applies nothing from a damaged journal, and `iasql
 * journal verify` exits non-zero. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../integration/it_util.h"

static int setup(void **state)
{
    unsetenv("IASQL_JOURNAL_MAP_MB");
    return it_fixture(state, "journal", true);
}

static int teardown(void **state)
{
    unsetenv("IASQL_JOURNAL_MAP_MB");
    return it_fixture_end(state);
}

/* Runs `iasql run --journal DIR [extra]` in the foreground; it must exit
 * by itself, non-zero, saying says. */
static void engine_refuses_with(it_env *e, const char *dir, const char *extra, const char *says)
{
    char cmd[2048], log[300];
    snprintf(log, sizeof log, "%s.refused", e->log_path);
    snprintf(cmd, sizeof cmd,
             "AWS_ENDPOINT_URL='%s' timeout 30 \"%s\" run \"%s\" --journal '%s' %s 2>'%s'",
             e->emulator, getenv("IASQL_BIN"), e->engine_conninfo, dir, extra, log);
    int st = system(cmd);
    assert_int_not_equal(st, 0);
    assert_int_not_equal(WEXITSTATUS(st), 124); /* it stopped by itself */
    FILE *f = fopen(log, "r");
    char text[8192] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    if (!strstr(text, says))
        fail_msg("expected \"%s\" in the engine's log:\n%s", says, text);
}

static void engine_refuses(it_env *e, const char *says)
{
    engine_refuses_with(e, e->journal, "", says);
}

static void shell(const char *fmt, const char *a, const char *b)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    assert_int_equal(system(cmd), 0);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Makes n buckets named prefix-1..n and commits them. */
static void commit_buckets(it_env *e, const char *prefix, int from, int to)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO bucket (name) SELECT '%s-' || g FROM generate_series(%d, %d) g", prefix,
             from, to);
    assert_true(it_ok(e, sql, 0, NULL));
    it_expect_commit(e, to - from + 1, "create");
}

static int verify_status(it_env *e)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "\"%s\" journal verify '%s' >/dev/null 2>&1", getenv("IASQL_BIN"),
             e->journal);
    return system(cmd);
}

static void test_map_full_stops_then_recovers(void **state)
{
    it_env *e = *state;
    it_stop_engine(e);
    setenv("IASQL_JOURNAL_MAP_MB", "1", 1);
    assert_int_equal(it_start_engine(e), 0);
    assert_true(it_ok(e,
                      "INSERT INTO bucket (name, tags) SELECT 'full-' || g, "
                      "jsonb_build_object('k', repeat('x', 250)) FROM generate_series(1, 4000) g",
                      0, NULL));
    /* the engine cannot journal them: it stops, saying what to do */
    for (int i = 0; i < 100 && it_log_count(e, "journal map is full") == 0; i++)
        usleep(100 * 1000);
    assert_true(it_log_count(e, "raise IASQL_JOURNAL_MAP_MB") >= 1);
    assert_non_null(it_sql_error(e, "SELECT * FROM iasql_preview()"));
    int st = it_stop_engine(e);
    assert_int_not_equal(st, 0);
    /* with room, every change is journaled once and nothing was lost */
    setenv("IASQL_JOURNAL_MAP_MB", "256", 1);
    assert_int_equal(it_start_engine(e), 0);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "4000");
    assert_int_equal(verify_status(e), 0);
}

static void test_truncated_journal_refused(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e,
                      "INSERT INTO bucket (name) SELECT 'trunc-' || g FROM "
                      "generate_series(1, 2000) g",
                      0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "2000");
    assert_int_equal(it_stop_engine(e), 0);
    char path[400];
    snprintf(path, sizeof path, "%s/data.mdb", e->journal);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    assert_int_not_equal(verify_status(e), 0);
    engine_refuses(e, "is truncated");
    engine_refuses(e, "restore the journal folder from a copy");
}

static void test_corrupted_record_refused(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e,
                      "INSERT INTO bucket (name) SELECT 'corrupt-' || g FROM "
                      "generate_series(1, 50) g",
                      0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "50");
    assert_int_equal(it_stop_engine(e), 0);
    /* the length of a table name inside one event record: 6, "bucket" */
    char path[400];
    snprintf(path, sizeof path, "%s/data.mdb", e->journal);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    static char buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf, f);
    /* Every copy: LMDB keeps stale copies of pages it has replaced, so the
     * first match may not be a live record. */
    const char pat[] = "\x06\x00\x00\x00"
                       "bucket";
    int hits = 0;
    for (char *hit = buf; (hit = memmem(hit, n - (size_t)(hit - buf), pat, sizeof pat - 1));
         hit++, hits++) {
        fseek(f, hit - buf, SEEK_SET);
        fputc(0x7f, f);
    }
    fclose(f);
    assert_true(hits > 0);
    assert_int_not_equal(verify_status(e), 0);
    engine_refuses(e, "is damaged");
    /* nothing was applied: the cloud has none of them */
    assert_false(it_cloud_has_bucket(e->emulator, "corrupt-1"));
}

/* One engine per database: a second one refuses to start and names the
 * first, while the first goes on serving. */
static void test_second_engine_refused(void **state)
{
    it_env *e = *state;
    engine_refuses(e, "another iasql engine already runs for database");
    engine_refuses(e, "server process");
    assert_non_null(it_value(e, "SELECT count(*) FROM iasql_preview()"));
}

/* The journal lost (a new disk): the engine refuses before it makes anything,
 * and starts again on the journal's copy, with nothing to do. */
static void test_lost_journal_refused(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "lost-%d", (int)getpid());
    commit_buckets(e, name, 1, 3);
    assert_int_equal(it_stop_engine(e), 0);
    shell("cp -a '%s' '%s.copy'", e->journal, e->journal);
    shell("rm -rf '%s'%s", e->journal, "");
    engine_refuses(e, "there is no journal in");
    engine_refuses(e, "would make every resource again");
    assert_false(exists(e->journal)); /* nothing was made */
    /* another empty folder, even adopted, is refused the same way */
    char other[320];
    snprintf(other, sizeof other, "%s-elsewhere", e->journal);
    engine_refuses_with(e, other, "--journal-adopt", "there is no journal in");
    assert_false(exists(other));
    shell("mv '%s.copy' '%s'", e->journal, e->journal);
    assert_int_equal(it_start_engine(e), 0);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    char prefix[80];
    snprintf(prefix, sizeof prefix, "%s-", name);
    assert_int_equal(it_cloud_count_prefix(e->emulator, prefix), 3);
}

static void rebuild_journal(it_env *e);

/* A copy from before the last two commits is behind the database's mark:
 * refused, with --journal-adopt too; rebuilt, nothing is made again. */
static void test_old_copy_refused(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "old-%d", (int)getpid());
    commit_buckets(e, name, 1, 1);
    assert_int_equal(it_stop_engine(e), 0);
    shell("cp -a '%s' '%s.old'", e->journal, e->journal);
    assert_int_equal(it_start_engine(e), 0);
    commit_buckets(e, name, 2, 2);
    commit_buckets(e, name, 3, 3);
    assert_int_equal(it_stop_engine(e), 0);
    char old[320];
    snprintf(old, sizeof old, "%s.old", e->journal);
    engine_refuses_with(e, old, "--journal-adopt", "is behind database");
    shell("mv '%s' '%s.new'", e->journal, e->journal);
    shell("mv '%s.old' '%s'", e->journal, e->journal);
    engine_refuses(e, "its last commit point is 1");
    /* the newest journal lost as well: rebuilt from the tables and the cloud */
    shell("rm -rf '%s' '%s.new'", e->journal, e->journal);
    rebuild_journal(e);
    assert_int_equal(it_start_engine(e), 0);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    char prefix[80];
    snprintf(prefix, sizeof prefix, "%s-", name);
    assert_int_equal(it_cloud_count_prefix(e->emulator, prefix), 3);
}

/* A journal moved elsewhere is taken only with --journal-adopt; then the
 * database knows the new folder, and an engine started without --journal
 * uses it. Another database's journal is refused, adopted or not. */
static void test_moved_and_foreign_journals(void **state)
{
    it_env *e = *state;
    char name[64];
    snprintf(name, sizeof name, "moved-%d", (int)getpid());
    commit_buckets(e, name, 1, 1);
    assert_int_equal(it_stop_engine(e), 0);
    char moved[sizeof e->journal];
    snprintf(moved, sizeof moved, "%.240s-moved", e->journal);
    shell("mv '%s' '%s'", e->journal, moved);
    engine_refuses_with(e, moved, "", "knows its journal in");
    snprintf(e->journal, sizeof e->journal, "%s", moved);
    e->journal_adopt = true;
    assert_int_equal(it_start_engine(e), 0);
    assert_true(it_log_count(e, "(given with --journal;") >= 1);
    assert_int_equal(it_stop_engine(e), 0);
    e->journal_adopt = false;
    e->journal_default = true;
    assert_int_equal(it_start_engine(e), 0);
    assert_true(it_log_count(e, "(the database's own;") >= 1);
    assert_string_equal(it_value(e, "SELECT path FROM iasql_journal"), moved);
    assert_int_equal(it_stop_engine(e), 0);
    e->journal_default = false;
    /* another database's journal */
    it_env other;
    assert_int_equal(it_setup(&other, "journal_other"), 0);
    assert_int_equal(it_stop_engine(&other), 0);
    engine_refuses_with(e, other.journal, "--journal-adopt", "belongs to database");
    it_teardown(&other);
    assert_int_equal(it_start_engine(e), 0);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
}

/* How many of a kind the EC2 API lists with tag rebuild=run (instances
 * that are not terminated). */
static int ec2_count(it_env *e, const char *action, const char *item, const char *run)
{
    char form[600];
    snprintf(form, sizeof form,
             "Action=%s&Version=2016-11-15&Filter.1.Name=tag:rebuild&Filter.1.Value.1=%s%s", action,
             run,
             strcmp(action, "DescribeInstances") == 0
                 ? "&Filter.2.Name=instance-state-name&Filter.2.Value.1=pending&"
                   "Filter.2.Value.2=running&Filter.2.Value.3=stopped"
                 : "");
    const char *out;
    assert_int_equal(it_aws_query(e, "ec2", form, &out), 200);
    int n = it_count(out, item);
    return n;
}

/* `iasql journal rebuild`, killed part way a few times, then run to the end. */
static void rebuild_journal(it_env *e)
{
    char cmd[2048];
    int delays[] = {5, 40, 120};
    for (int i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd,
                 "AWS_ENDPOINT_URL='%s' timeout -s KILL %d.%03d \"%s\" journal rebuild \"%s\" "
                 "--journal '%s' >/dev/null 2>&1",
                 e->emulator, delays[i] / 1000, delays[i] % 1000, getenv("IASQL_BIN"),
                 e->engine_conninfo, e->journal);
        if (system(cmd) == 0)
            break; /* finished before it was killed */
        if (access(e->journal, F_OK) == 0)
            break;
    }
    if (access(e->journal, F_OK) != 0) {
        snprintf(cmd, sizeof cmd,
                 "AWS_ENDPOINT_URL='%s' \"%s\" journal rebuild \"%s\" --journal '%s' "
                 ">'%s.rebuild.out' 2>&1",
                 e->emulator, getenv("IASQL_BIN"), e->engine_conninfo, e->journal, e->log_path);
        if (system(cmd) != 0) {
            snprintf(cmd, sizeof cmd, "cat '%s.rebuild.out' >&2", e->log_path);
            assert_int_equal(system(cmd), 0);
            fail_msg("the rebuild failed");
        }
    }
    /* run again on the finished journal: refused, nothing changed */
    snprintf(cmd, sizeof cmd,
             "AWS_ENDPOINT_URL='%s' \"%s\" journal rebuild \"%s\" --journal '%s' 2>&1 | grep -q "
             "'holds a journal already'",
             e->emulator, getenv("IASQL_BIN"), e->engine_conninfo, e->journal);
    assert_int_equal(system(cmd), 0);
}

/* The journal lost under an EC2 stack, buckets, a queue and a secret: the
 * engine refuses, the rebuild (killed part way, then finished) reads every
 * resource from the cloud, and the next commit applies only what was
 * pending: the cloud holds exactly one of each. */
static void test_rebuild_lost_journal(void **state)
{
    it_env *e = *state;
    char run[48];
    snprintf(run, sizeof run, "rb%d", (int)getpid());
    const char *p[] = {run};
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_ec2', 'aws_sqs', 'aws_ssm')", 0, NULL));
    assert_true(it_ok(e,
                      "INSERT INTO vpc (cidr_block, tags) VALUES ('10.88.0.0/16', "
                      "jsonb_build_object('rebuild', $1::text))",
                      1, p));
    assert_true(it_ok(e,
                      "INSERT INTO subnet (vpc, cidr_block, availability_zone, tags) SELECT id, "
                      "'10.88.1.0/24', 'us-east-1a', jsonb_build_object('rebuild', $1::text) "
                      "FROM vpc WHERE tags->>'rebuild' = $1",
                      1, p));
    assert_true(it_ok(e,
                      "INSERT INTO security_group (group_name, description, vpc, tags) SELECT "
                      "'grp-' || $1, 'rebuild', id, jsonb_build_object('rebuild', $1::text) "
                      "FROM vpc WHERE tags->>'rebuild' = $1",
                      1, p));
    assert_true(it_ok(e,
                      "INSERT INTO instance (ami, instance_type, subnet, security_groups, tags) "
                      "SELECT 'ami-12c6146b', 't2.micro', s.id, ARRAY[g.id], "
                      "jsonb_build_object('rebuild', $1::text) FROM subnet s, security_group g "
                      "WHERE s.tags->>'rebuild' = $1 AND g.group_name = 'grp-' || $1",
                      1, p));
    assert_true(it_ok(
        e, "INSERT INTO bucket (name) SELECT $1 || '-b' || g FROM generate_series(1, 3) g", 1, p));
    assert_true(it_ok(e, "INSERT INTO queue (name) VALUES ($1 || '-q')", 1, p));
    assert_true(it_ok(e,
                      "INSERT INTO parameter (name, type, value) VALUES ($1 || '-secret', "
                      "'SecureString', 'Rb7-secret')",
                      1, p));
    assert_true(it_ok(e, "SELECT * FROM iasql_commit('the stack')", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* pending: an instance's tags and a new bucket; a committed bucket deleted */
    assert_true(it_ok(e,
                      "UPDATE instance SET tags = tags || '{\"stage\": \"2\"}' "
                      "WHERE tags->>'rebuild' = $1",
                      1, p));
    assert_true(it_ok(e, "INSERT INTO bucket (name) VALUES ($1 || '-b4')", 1, p));
    assert_true(it_ok(e, "DELETE FROM bucket WHERE name = $1 || '-b3'", 1, p));
    assert_int_equal(it_stop_engine(e), 0);
    /* and one bucket deleted in the console meanwhile */
    char url[512];
    snprintf(url, sizeof url, "%s/%s-b2", e->emulator, run);
    assert_int_equal(it_http("DELETE", url, NULL, NULL), 204);
    shell("rm -rf '%s'%s", e->journal, "");
    engine_refuses(e, "there is no journal in");
    rebuild_journal(e);
    /* the rebuilt journal marks every installed table with its module, as
     * the engine's own journal does (replay installs modules from them) */
    const char *marks[] = {"table=\"aws_regions\" module=\"aws_account\"",
                           "table=\"instance\" module=\"aws_ec2\"",
                           "table=\"parameter\" module=\"aws_ssm\""};
    for (int i = 0; i < 3; i++) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "\"%s\" journal dump '%s' | grep -q '%s'", getenv("IASQL_BIN"),
                 e->journal, marks[i]);
        if (system(cmd) != 0)
            fail_msg("no mark %s in the rebuilt journal", marks[i]);
    }
    assert_int_equal(it_start_engine(e), 0);
    PGresult *r =
        it_sql(e, "SELECT action, table_name FROM iasql_preview() ORDER BY 2, 1", 0, NULL);
    assert_non_null(r);
    char plan[512] = "";
    for (int i = 0; i < PQntuples(r); i++)
        snprintf(plan + strlen(plan), sizeof plan - strlen(plan), "%s %s;", PQgetvalue(r, i, 0),
                 PQgetvalue(r, i, 1));
    PQclear(r);
    assert_string_equal(plan, "create bucket;delete bucket;update instance;");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_commit('after the rebuild') "
                                    "WHERE description LIKE 'failed%'"),
                        "0");
    /* the bucket gone from the cloud was reported, and not made again */
    assert_string_equal(it_value(e, "SELECT message ~ '^journal rebuilt: [0-9]+ resources read "
                                    "from the cloud, 1 gone, 1 never made, 3 rows with pending' "
                                    "FROM iasql_commits ORDER BY id DESC OFFSET 1 LIMIT 1"),
                        "t");
    /* the cloud, through its own API: one of each */
    assert_int_equal(ec2_count(e, "DescribeVpcs", "<vpcId>", run), 1);
    assert_int_equal(ec2_count(e, "DescribeSubnets", "<subnetId>", run), 1);
    assert_int_equal(ec2_count(e, "DescribeSecurityGroups", "<groupId>", run), 1);
    assert_int_equal(ec2_count(e, "DescribeInstances", "<instanceId>", run), 1);
    char form[512];
    snprintf(form, sizeof form,
             "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag:stage&"
             "Filter.1.Value.1=2&Filter.2.Name=tag:rebuild&Filter.2.Value.1=%s",
             run);
    const char *out;
    assert_int_equal(it_aws_query(e, "ec2", form, &out), 200);
    assert_non_null(strstr(out, "<instanceId>"));
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s-b", run);
    assert_int_equal(it_cloud_count_prefix(e->emulator, prefix), 2); /* b1, b4 */
    char q[64];
    snprintf(q, sizeof q, "%s-q", run);
    json_t *queue = it_cloud_queue(e, q);
    assert_non_null(queue);
    json_decref(queue);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* and nothing in the journal says the secret */
    assert_int_equal(it_leaks(e, "Rb7-secret"), 0);
    /* clean up the stack */
    assert_true(it_ok(e, "DELETE FROM instance WHERE tags->>'rebuild' = $1", 1, p));
    assert_true(it_ok(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_true(it_ok(e, "DELETE FROM security_group WHERE group_name = 'grp-' || $1", 1, p));
    assert_true(it_ok(e, "DELETE FROM subnet WHERE tags->>'rebuild' = $1", 1, p));
    assert_true(it_ok(e, "DELETE FROM vpc WHERE tags->>'rebuild' = $1", 1, p));
    assert_true(it_ok(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_int_equal(ec2_count(e, "DescribeVpcs", "<vpcId>", run), 0);
}

/* The journal lost while a create was under way: the VPC is in the cloud,
 * tagged with this database and the client token the engine gave it, but
 * no write-back ever named it. The rebuild finds it by that token (made
 * again from the database), and the next commit only writes its id back:
 * one VPC in the cloud, the row naming it. */
static void test_rebuild_finds_create_under_way(void **state)
{
    it_env *e = *state;
    char run[48];
    snprintf(run, sizeof run, "uw%d", (int)getpid());
    const char *p[] = {run};
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_vpc')", 0, NULL));
    commit_buckets(e, run, 1, 1); /* a history, so that a lost journal is noticed */
    assert_true(it_ok(e,
                      "INSERT INTO vpc (cidr_block, tags) VALUES ('10.176.0.0/16', "
                      "jsonb_build_object('rebuild', $1::text))",
                      1, p));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "1");
    assert_int_equal(it_stop_engine(e), 0);
    /* what the engine's CreateVpc sent, made by hand: the owner and the token */
    char *dbid = it_database_id(e);
    char *token = it_strdup(it_valf(
        e,
        "SELECT left(encode(sha256(convert_to('%s:vpc:' || a.row_id || ':' || a.id, 'UTF8')), "
        "'hex'), 32) FROM iasql_audit_log a WHERE a.table_name = 'vpc' AND a.origin = 'user' "
        "AND a.commit_id IS NULL AND a.row_id = (SELECT id FROM vpc WHERE tags->>'rebuild' = '%s') "
        "ORDER BY a.id LIMIT 1",
        dbid, run));
    char *xml =
        it_ec2(e,
               "Action=CreateVpc&CidrBlock=10.176.0.0/16&TagSpecification.1.ResourceType=vpc&"
               "TagSpecification.1.Tag.1.Key=rebuild&TagSpecification.1.Tag.1.Value=%s&"
               "TagSpecification.1.Tag.2.Key=iasql:client-token&"
               "TagSpecification.1.Tag.2.Value=%s&TagSpecification.1.Tag.3.Key=iasql:owner&"
               "TagSpecification.1.Tag.3.Value=%s",
               run, token, dbid);
    char made[64];
    snprintf(made, sizeof made, "%s", it_xml_text(xml, "vpcId"));
    free(xml);
    assert_true(strncmp(made, "vpc-", 4) == 0);
    shell("rm -rf '%s'%s", e->journal, "");
    engine_refuses(e, "there is no journal in");
    rebuild_journal(e);
    /* the pending VPC counted as read from the cloud, none as never made */
    assert_string_equal(it_value(e, "SELECT message ~ '^journal rebuilt: [0-9]+ resources read "
                                    "from the cloud, 0 gone, 0 never made, 1 rows with pending' "
                                    "FROM iasql_commits ORDER BY id DESC LIMIT 1"),
                        "t");
    assert_int_equal(it_start_engine(e), 0);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview() WHERE action = 'create'"),
                        "0");
    PGresult *r = it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL);
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    assert_string_equal(it_valf(e, "SELECT vpc_id FROM vpc WHERE tags->>'rebuild' = '%s'", run),
                        made);
    assert_int_equal(ec2_count(e, "DescribeVpcs", "<vpcId>", run), 1);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* the engine's own create carries that token */
    assert_true(it_ok(e,
                      "INSERT INTO vpc (cidr_block, tags) VALUES ('10.178.0.0/16', "
                      "jsonb_build_object('rebuild', $1::text || 'b'))",
                      1, p));
    char *want = it_strdup(it_valf(
        e,
        "SELECT left(encode(sha256(convert_to('%s:vpc:' || a.row_id || ':' || a.id, 'UTF8')), "
        "'hex'), 32) FROM iasql_audit_log a WHERE a.table_name = 'vpc' AND a.origin = 'user' "
        "AND a.commit_id IS NULL AND a.row_id = (SELECT id FROM vpc WHERE tags->>'rebuild' = "
        "'%sb') ORDER BY a.id LIMIT 1",
        dbid, run));
    it_expect_commit(e, 1, "create");
    xml = it_ec2(e, "Action=DescribeVpcs&Filter.1.Name=tag:iasql:client-token&Filter.1.Value.1=%s",
                 want);
    const char *got = xml ? it_xml_text(xml, "vpcId") : NULL;
    assert_non_null(got);
    assert_string_equal(got,
                        it_valf(e, "SELECT vpc_id FROM vpc WHERE tags->>'rebuild' = '%sb'", run));
    free(xml);
    free(want);
    assert_true(it_ok(e, "DELETE FROM vpc WHERE tags->>'rebuild' LIKE $1 || '%'", 1, p));
    assert_true(it_ok(e, "SELECT * FROM iasql_commit()", 0, NULL));
    assert_int_equal(ec2_count(e, "DescribeVpcs", "<vpcId>", run), 0);
    free(token);
    free(dbid);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_map_full_stops_then_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_journal_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupted_record_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_engine_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_journal_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_copy_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moved_and_foreign_journals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_lost_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_finds_create_under_way, setup, teardown),
    };
    return cmocka_run_group_tests_name("faults: journal", tests, NULL, NULL);
}
