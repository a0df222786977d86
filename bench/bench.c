/* bench/bench.c — the spine's numbers, measured against a real PostgreSQL
 * and a running engine (bench/run.sh sets both up). Prints a table and writes
 * bench/results/latest.json. Figures are medians of several runs: the
 * machines are shared and noisy. Not a test: nothing here passes or fails. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/resource.h>

#include "capture/cap.h"
#include "common/cm_pg.h"
#include "engine/eng.h"
#include "journal/jnl.h"

#define RUNS 5

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void must(PGconn *c, const char *sql)
{
    cm_err err = {0};
    if (cm_pg_run(c, &err, sql, 0, NULL)) {
        fprintf(stderr, "bench: %s\n  %s\n", sql, err.msg);
        exit(1);
    }
}

static double timed(PGconn *c, const char *sql)
{
    int64_t t0 = cm_mono_us();
    must(c, sql);
    return (double)(cm_mono_us() - t0) / 1000.0;
}

/* A copy of bucket with the same columns and constraints, without capture. */
static void make_plain_copy(PGconn *c)
{
    must(c, "DROP TABLE IF EXISTS bench_plain");
    must(c, "CREATE TABLE bench_plain (LIKE bucket INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING INDEXES)");
    must(c, "ALTER TABLE bench_plain ADD FOREIGN KEY (region) REFERENCES aws_regions (region)");
    /* the floor: the same copy with a plain PL/pgSQL row trigger writing one
     * audit row of the same shape (no definer, no rules) */
    must(c, "DROP TABLE IF EXISTS bench_floor, bench_floor_log");
    must(c, "CREATE TABLE bench_floor (LIKE bucket INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING INDEXES)");
    must(c, "ALTER TABLE bench_floor ADD FOREIGN KEY (region) REFERENCES aws_regions (region)");
    must(c, "CREATE TABLE bench_floor_log (LIKE iasql_audit_log INCLUDING DEFAULTS "
            "INCLUDING IDENTITY INCLUDING INDEXES)");
    must(c, "CREATE OR REPLACE FUNCTION bench_floor_audit() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN INSERT INTO bench_floor_log (origin, table_name, op, row_id, new_row) "
            "VALUES ('user', TG_TABLE_NAME, 'INSERT', NEW.id, to_json(NEW)); RETURN NULL; END $$");
    must(c, "CREATE TRIGGER bench_floor_audit AFTER INSERT ON bench_floor "
            "FOR EACH ROW EXECUTE FUNCTION bench_floor_audit()");
}

static const char *bulk_sql(const char *table, int n, char *buf, size_t size)
{
    snprintf(buf, size,
             "INSERT INTO %s (name, tags) SELECT 'bench-' || g || '-' || "
             "(extract(epoch FROM clock_timestamp()) * 1e6)::bigint, '{\"k\": \"v\"}' "
             "FROM generate_series(1, %d) g",
             table, n);
    return buf;
}

/* Capture overhead: the same bulk insert into bucket (captured) and into
 * bench_plain (not), alternating, as a ratio of medians. */
static void capture_bulk(PGconn *c, json_t *out)
{
    double with[RUNS], without[RUNS];
    char sql[512];
    for (int i = 0; i < RUNS; i++) {
        must(c, "SET session_replication_role = origin");
        without[i] = timed(c, bulk_sql("bench_plain", 10000, sql, sizeof sql));
        with[i] = timed(c, bulk_sql("bucket", 10000, sql, sizeof sql));
        must(c, "DELETE FROM bench_plain");
        /* remove the rows without capturing the deletes */
        must(c, "SET session_replication_role = replica");
        must(c, "DELETE FROM bucket");
        must(c, "SET session_replication_role = origin");
    }
    double w = median(with, RUNS), wo = median(without, RUNS);
    printf("%-52s %10.1f ms / %.1f ms = %.2fx (target <= 1.5x)\n",
           "capture overhead, 10k-row INSERT ... SELECT", w, wo, w / wo);
    json_object_set_new(out, "capture_bulk_10k_ms", json_real(w));
    json_object_set_new(out, "capture_bulk_10k_plain_ms", json_real(wo));
    json_object_set_new(out, "capture_bulk_ratio", json_real(w / wo));
}

/* Single-row autocommit INSERTs: blocks of 100 into the plain table and
 * into bucket, alternating, so that load on the shared machine hits both
 * sides alike; the figure is the median of the per-pair ratios. */
static double insert_block(PGconn *c, const char *table, int pair, int n)
{
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO %s (name) VALUES ($1)", table);
    int64_t t0 = cm_mono_us();
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "single-%d-%d-%c", pair, i, table[1] == 'e' ? 'c' : 'b');
        const char *p[] = {name};
        cm_err err = {0};
        if (cm_pg_run(c, &err, sql, 1, p)) {
            fprintf(stderr, "bench: %s\n", err.msg);
            exit(1);
        }
    }
    return (double)(cm_mono_us() - t0) / n;
}

static void capture_single(PGconn *c, json_t *out)
{
    enum { PAIRS = 30, BLOCK = 100 };
    double ratio[PAIRS], with[PAIRS], without[PAIRS], floor_ratio[PAIRS];
    for (int r = 0; r < PAIRS; r++) {
        without[r] = insert_block(c, "bench_plain", r, BLOCK);
        floor_ratio[r] = insert_block(c, "bench_floor", r, BLOCK) / without[r];
        with[r] = insert_block(c, "bucket", r, BLOCK);
        ratio[r] = with[r] / without[r];
    }
    must(c, "DELETE FROM bench_plain");
    must(c, "DELETE FROM bench_floor");
    must(c, "DELETE FROM bench_floor_log");
    must(c, "SET session_replication_role = replica");
    must(c, "DELETE FROM bucket");
    must(c, "SET session_replication_role = origin");
    double q = median(ratio, PAIRS), w = median(with, PAIRS), wo = median(without, PAIRS);
    double fq = median(floor_ratio, PAIRS);
    printf("%-52s %10.1f us / %.1f us, ratio %.2fx (target <= 1.1x)\n",
           "capture overhead, single-row autocommit INSERT", w, wo, q);
    printf("%-52s %10s ratio %.2fx (the floor)\n",
           "  a plain PL/pgSQL row trigger writing one audit row", "", fq);
    json_object_set_new(out, "capture_single_floor_ratio", json_real(fq));
    json_object_set_new(out, "capture_single_us", json_real(w));
    json_object_set_new(out, "capture_single_plain_us", json_real(wo));
    json_object_set_new(out, "capture_single_ratio", json_real(q));
}

static void rm_rf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: could not remove %s\n", dir);
}

/* Tail -> journal: N captured rows read into a fresh journal. Then the
 * journal scan rate over what was written. */
static void tail_and_scan(PGconn *c, const char *tmp, json_t *out)
{
    const int n = 100000;
    double tail_rate[3], scan_rate[3];
    char sql[512];
    for (int r = 0; r < 3; r++) {
        must(c, "SET session_replication_role = origin");
        must(c, bulk_sql("bucket", n, sql, sizeof sql));
        char dir[400];
        snprintf(dir, sizeof dir, "%s/bench-journal-%d", tmp, r);
        rm_rf(dir);
        jnl *j;
        cm_err err = {0};
        if (jnl_open(&j, dir, &err)) {
            fprintf(stderr, "bench: %s\n", err.msg);
            exit(1);
        }
        uint64_t events = 0;
        int64_t t0 = cm_mono_us();
        if (cap_db_tail(c, j, &events, &err)) {
            fprintf(stderr, "bench: tail: %s\n", err.msg);
            exit(1);
        }
        double secs = (double)(cm_mono_us() - t0) / 1e6;
        tail_rate[r] = (double)events / secs;

        jnl_txn *t;
        jnl_cursor *cur;
        jnl_txn_begin(j, false, &t, &err);
        jnl_cursor_open(t, 1, &cur, &err);
        uint64_t seq, scanned = 0, bytes = 0;
        jnl_rec rec;
        t0 = cm_mono_us();
        while (jnl_cursor_next(cur, &seq, &rec, &err) == 1) {
            scanned++;
            bytes += rec.b.len;
        }
        secs = (double)(cm_mono_us() - t0) / 1e6;
        scan_rate[r] = (double)scanned / secs;
        jnl_cursor_free(cur);
        jnl_txn_abort(t);
        jnl_free(j);
        rm_rf(dir);
        if (bytes == 0)
            fprintf(stderr, "bench: the journal held no row images\n");
        must(c, "SET session_replication_role = replica");
        must(c, "DELETE FROM bucket");
        must(c, "SET session_replication_role = origin");
        must(c, "TRUNCATE iasql_audit_log");
    }
    double tr = median(tail_rate, 3), sr = median(scan_rate, 3);
    printf("%-52s %10.0f events/s (target >= 150k)\n", "audit tail -> journal, 100k events", tr);
    printf("%-52s %10.0f events/s (target >= 5M)\n", "journal scan (replay read), decoded", sr);
    json_object_set_new(out, "tail_events_per_s", json_real(tr));
    json_object_set_new(out, "journal_scan_events_per_s", json_real(sr));
}

/* The round trip of iasql_commit() with nothing pending, from a client. */
static void empty_commit(PGconn *c, json_t *out)
{
    const int n = 200;
    double v[200];
    must(c, "SELECT * FROM iasql_commit()"); /* opens the dblink connection */
    for (int i = 0; i < n; i++)
        v[i] = timed(c, "SELECT * FROM iasql_commit()");
    double m = median(v, n);
    printf("%-52s %10.2f ms median, p90 %.2f ms (target <= 3 ms)\n",
           "iasql_commit() with nothing pending", m, v[n * 9 / 10]);
    json_object_set_new(out, "empty_commit_median_ms", json_real(m));
    json_object_set_new(out, "empty_commit_p90_ms", json_real(v[n * 9 / 10]));
}

/* A commit that creates 100 buckets: wall time, and the cloud calls it made
 * (from the engine's log line for the request), per bucket. */
static void commit_100_buckets(PGconn *c, const char *engine_log, json_t *out)
{
    must(c, "INSERT INTO bucket (name) SELECT 'bench-commit-' || g FROM generate_series(1, 100) g");
    double ms = timed(c, "SELECT * FROM iasql_commit('100 buckets')");
    long calls = -1;
    FILE *f = fopen(engine_log, "r");
    char line[2048];
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "(commit) done in");
        const char *q = p ? strstr(p, "rows, ") : NULL;
        if (q && strstr(p, " 100 rows"))
            calls = strtol(q + 6, NULL, 10);
    }
    if (f)
        fclose(f);
    printf("%-52s %10.0f ms, %ld cloud calls = %.2f per bucket (target <= 2 + a constant)\n",
           "commit of 100 new buckets", ms, calls, calls / 100.0);
    json_object_set_new(out, "commit_100_buckets_ms", json_real(ms));
    json_object_set_new(out, "commit_100_buckets_cloud_calls", json_integer(calls));
    must(c, "DELETE FROM bucket WHERE name LIKE 'bench-commit-%'");
    must(c, "SELECT * FROM iasql_commit()");
}

/* The cloud calls of the engine's last commit, from its log line. */
static void last_commit_calls(const char *engine_log, long *calls, long *mutating)
{
    *calls = *mutating = -1;
    FILE *f = fopen(engine_log, "r");
    char line[2048];
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "(commit) done in");
        const char *q = p ? strstr(p, "rows, ") : NULL;
        const char *m = q ? strstr(q, "calls (") : NULL;
        if (q && m) {
            *calls = strtol(q + 6, NULL, 10);
            *mutating = strtol(m + 7, NULL, 10);
        }
    }
    if (f)
        fclose(f);
}

/* out["ec2_<n>_<what>"] = v (taken). */
static void put_ec2(json_t *out, int n, const char *what, json_t *v)
{
    char key[64];
    snprintf(key, sizeof key, "ec2_%d_%s", n, what);
    json_object_set_new(out, key, v);
}

/* A commit that creates n security groups and n instances (each in its
 * group) in a VPC, one that changes the tags of one of them, and one that
 * deletes them: wall time and cloud calls, mutating and all. */
static void commit_ec2(PGconn *c, const char *engine_log, int n, json_t *out)
{
    char sql[1024];
    double create_ms[RUNS], delete_ms[RUNS];
    long calls = 0, mut = 0, tag_mut = 0, tag_calls = 0, del_calls = 0, del_mut = 0;
    for (int r = 0; r < RUNS; r++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO security_group (group_name, description, vpc) SELECT "
                 "'bench-' || g, 'bench', v.id FROM vpc v, generate_series(1, %d) g "
                 "WHERE v.tags->>'Name' = 'bench'",
                 n);
        must(c, sql);
        must(c, "INSERT INTO instance (ami, instance_type, subnet, security_groups, tags) "
                "SELECT 'ami-12c6146b', 't2.micro', s.id, ARRAY[g.id], "
                "jsonb_build_object('Name', g.group_name) FROM subnet s, security_group g "
                "WHERE s.tags->>'Name' = 'bench' AND g.group_name LIKE 'bench-%'");
        create_ms[r] = timed(c, "SELECT * FROM iasql_commit('bench ec2')");
        last_commit_calls(engine_log, &calls, &mut);
        must(c, "UPDATE instance SET tags = tags || '{\"team\": \"bench\"}' "
                "WHERE tags->>'Name' = 'bench-1'");
        must(c, "SELECT * FROM iasql_commit('bench one tag')");
        last_commit_calls(engine_log, &tag_calls, &tag_mut);
        must(c, "DELETE FROM instance WHERE tags->>'Name' LIKE 'bench-%'");
        must(c, "DELETE FROM security_group WHERE group_name LIKE 'bench-%'");
        delete_ms[r] = timed(c, "SELECT * FROM iasql_commit('bench ec2 delete')");
        last_commit_calls(engine_log, &del_calls, &del_mut);
    }
    double cm = median(create_ms, RUNS), dm = median(delete_ms, RUNS);
    char what[96];
    snprintf(what, sizeof what, "commit of %d instances + %d security groups", n, n);
    printf("%-52s %10.0f ms, %ld calls (%ld mutating, target %d) = %.1f calls/s\n", what, cm, calls,
           mut, 2 * n, calls / (cm / 1000.0));
    snprintf(what, sizeof what, "  then one instance's tags changed");
    printf("%-52s %10s    %ld calls (%ld mutating, target 1)\n", what, "", tag_calls, tag_mut);
    snprintf(what, sizeof what, "  then all %d deleted", 2 * n);
    printf("%-52s %10.0f ms, %ld calls (%ld mutating, target %d)\n", what, dm, del_calls, del_mut,
           2 * n);
    put_ec2(out, n, "create_ms", json_real(cm));
    put_ec2(out, n, "create_calls", json_integer(calls));
    put_ec2(out, n, "create_mutating", json_integer(mut));
    put_ec2(out, n, "one_tag_mutating", json_integer(tag_mut));
    put_ec2(out, n, "delete_ms", json_real(dm));
    put_ec2(out, n, "delete_mutating", json_integer(del_mut));
}

/* The engine's CPU time (user + system, ms) and resident memory (kB, now
 * and at its peak), from /proc. */
static void engine_usage(long pid, double *cpu_ms, long *rss_kb, long *hwm_kb)
{
    char path[64], line[512];
    *cpu_ms = -1;
    *rss_kb = *hwm_kb = -1;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f && fgets(line, sizeof line, f)) {
        const char *p = strrchr(line, ')');
        unsigned long ut = 0, st = 0;
        /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
         * stime */
        if (p &&
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
            *cpu_ms = (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
    }
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "VmRSS: %ld kB", rss_kb);
        sscanf(line, "VmHWM: %ld kB", hwm_kb);
    }
    if (f)
        fclose(f);
}

/* One iasql_sync() of an account of ~10,000 unchanged resources (security
 * groups and their rules): the engine's CPU time and memory, and that it
 * wrote nothing. */
static void poll_10k(PGconn *c, long engine_pid, json_t *out)
{
    /* BENCH_POLL_GROUPS: fewer, to look at the shape of the cost quickly */
    const char *g = getenv("BENCH_POLL_GROUPS");
    const int groups = g && atoi(g) > 0 ? atoi(g) : 5000;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO security_group (group_name, description, vpc) SELECT "
             "'bench-poll-' || g, 'bench', v.id FROM vpc v, generate_series(1, %d) g "
             "WHERE v.tags->>'Name' = 'bench'",
             groups);
    must(c, sql);
    double made = timed(c, "SELECT * FROM iasql_commit('bench poll setup')");
    must(c, "SELECT * FROM iasql_sync()"); /* takes in what the creates implied (default rules) */
    /* A commit that applies something ends every table's memo (its epoch):
     * the first sync below compares all 10,000 listed resources in full. */
    must(c, "UPDATE vpc SET tags = tags || '{\"bench\": \"poll\"}' WHERE tags->>'Name' = 'bench'");
    must(c, "SELECT * FROM iasql_commit('bench poll: the memo ends')");
    PGresult *res = PQexec(c, "SELECT (SELECT count(*) FROM security_group) + "
                              "(SELECT count(*) FROM security_group_rule) + "
                              "(SELECT count(*) FROM vpc) + (SELECT count(*) FROM subnet)");
    long resources = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    double cpu[RUNS], wall[RUNS];
    long rss = 0, hwm = 0, changes = 0;
    res = PQexec(c, "SELECT count(*) FROM iasql_audit_log");
    long audit0 = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    /* The peak from here on is the polls' own, not the setup commit's:
     * writing 5 to clear_refs resets the process's VmHWM (Linux). */
    char clear[64];
    snprintf(clear, sizeof clear, "/proc/%ld/clear_refs", engine_pid);
    FILE *cf = fopen(clear, "w");
    if (cf) {
        fputs("5", cf);
        fclose(cf);
    }
    /* The setup sync wrote, so this one compares every listing with the
     * known states; those that match become the tables' memos, and the
     * polls after it only ask the same questions again. */
    double f0, f1;
    long frss, fhwm;
    engine_usage(engine_pid, &f0, &frss, &fhwm);
    int64_t ft = cm_mono_us();
    res = PQexec(c, "SELECT count(*) FROM iasql_sync()");
    double full_wall = (double)(cm_mono_us() - ft) / 1000.0;
    changes += strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    engine_usage(engine_pid, &f1, &frss, &fhwm);
    long full_hwm = fhwm;
    for (int r = 0; r < RUNS; r++) {
        double c0, c1;
        long r0, h0;
        engine_usage(engine_pid, &c0, &r0, &h0);
        int64_t t0 = cm_mono_us();
        res = PQexec(c, "SELECT count(*) FROM iasql_sync()");
        wall[r] = (double)(cm_mono_us() - t0) / 1000.0;
        changes += strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        engine_usage(engine_pid, &c1, &rss, &hwm);
        cpu[r] = c1 - c0;
    }
    res = PQexec(c, "SELECT count(*) FROM iasql_audit_log");
    long writes = strtol(PQgetvalue(res, 0, 0), NULL, 10) - audit0;
    PQclear(res);
    double cm = median(cpu, RUNS), wm = median(wall, RUNS);
    printf("%-52s %10.0f ms engine CPU, %.0f ms wall (the full comparison)\n",
           "first iasql_sync() of ~10k unchanged resources", f1 - f0, full_wall);
    printf("%-52s %10.0f ms engine CPU (target <= 50), %.0f ms wall, %ld changes, %ld writes\n",
           "iasql_sync() of ~10k unchanged resources", cm, wm, changes, writes);
    printf("%-52s %10ld resources, engine RSS %ld kB, peak %ld kB while polling (target <= 50 "
           "MB; %ld kB in the full comparison)\n",
           "", resources, rss, hwm, full_hwm);
    json_object_set_new(out, "poll_10k_full_compare_peak_rss_kb", json_integer(full_hwm));
    json_object_set_new(out, "poll_10k_resources", json_integer(resources));
    json_object_set_new(out, "poll_10k_setup_commit_ms", json_real(made));
    json_object_set_new(out, "poll_10k_full_compare_cpu_ms", json_real(f1 - f0));
    json_object_set_new(out, "poll_10k_engine_cpu_ms", json_real(cm));
    json_object_set_new(out, "poll_10k_wall_ms", json_real(wm));
    json_object_set_new(out, "poll_10k_changes", json_integer(changes));
    json_object_set_new(out, "poll_10k_writes", json_integer(writes));
    json_object_set_new(out, "poll_10k_engine_rss_kb", json_integer(rss));
    json_object_set_new(out, "poll_10k_engine_peak_rss_kb", json_integer(hwm));
    must(c, "DELETE FROM security_group WHERE group_name LIKE 'bench-poll-%'");
    must(c, "SELECT * FROM iasql_commit('bench poll teardown')");
}

/* iasql_rollback() of 10,000 pending changes (new rows): wall time from a
 * client, the tail of the 10,000 events included. */
static void rollback_10k(PGconn *c, json_t *out)
{
    double v[3];
    for (int r = 0; r < 3; r++) {
        must(c,
             "INSERT INTO bucket (name) SELECT 'bench-rb-' || g FROM generate_series(1, 10000) g");
        v[r] = timed(c, "SELECT * FROM iasql_rollback()");
        PGresult *res = PQexec(c, "SELECT count(*) FROM bucket WHERE name LIKE 'bench-rb-%'");
        if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
            fprintf(stderr, "bench: rollback left %s rows\n", PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    double m = median(v, 3);
    printf("%-52s %10.0f ms, %.1f us per change\n", "iasql_rollback() of 10,000 pending changes", m,
           m * 1000 / 10000);
    json_object_set_new(out, "rollback_10k_pending_ms", json_real(m));
}

/* A journal of n events: rows/10 buckets, each inserted then updated 9
 * times, with the image of a real row. */
static void synthetic_journal(PGconn *c, const char *dir, uint64_t n)
{
    must(c, "INSERT INTO bucket (name) VALUES ('bench-template')");
    PGresult *res = PQexec(c, "SELECT to_jsonb(b) - 'id' - 'name' FROM bucket b "
                              "WHERE name = 'bench-template'");
    json_t *tmpl = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    PQclear(res);
    must(c, "SET session_replication_role = replica");
    must(c, "DELETE FROM bucket WHERE name = 'bench-template'");
    must(c, "SET session_replication_role = origin");
    rm_rf(dir);
    jnl *j;
    cm_err err = {0};
    if (jnl_open(&j, dir, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    jnl_txn *t;
    jnl_txn_begin(j, true, &t, &err);
    jnl_rec mark = {
        .type = JNL_REC_MARK, .op = JNL_MARK_INSTALL, .table = {"bucket", 6}, .a = {"aws_s3", 6}};
    jnl_append(t, &mark, NULL, &err);
    uint64_t rows = n / 10;
    char *prev = NULL;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t row = 1000000 + i % rows, version = i / rows;
        json_t *img = json_deep_copy(tmpl);
        char nm[64];
        snprintf(nm, sizeof nm, "bench-replay-%llu", (unsigned long long)row);
        json_object_set_new(img, "id", json_integer((json_int_t)row));
        json_object_set_new(img, "name", json_string(nm));
        char v[24];
        snprintf(v, sizeof v, "%llu", (unsigned long long)version);
        json_object_set_new(img, "tags", json_pack("{s:s}", "v", v));
        char *txt = json_dumps(img, JSON_COMPACT);
        jnl_rec ev = {.type = JNL_REC_EVENT,
                      .origin = JNL_ORIGIN_USER,
                      .op = version ? JNL_OP_UPDATE : JNL_OP_INSERT,
                      .row_id = row,
                      .ts_us = cm_now_us(),
                      .table = {"bucket", 6},
                      .a = {version ? txt : NULL, version ? (uint32_t)strlen(txt) : 0},
                      .b = {txt, (uint32_t)strlen(txt)}};
        uint64_t seq;
        if (jnl_append(t, &ev, &seq, &err) || cap_db_index_event(t, seq, &ev, &err)) {
            fprintf(stderr, "bench: %s\n", err.msg);
            exit(1);
        }
        json_decref(img);
        free(prev);
        prev = txt;
        if (i % 20000 == 19999) {
            jnl_txn_commit(t, &err);
            jnl_txn_begin(j, true, &t, &err);
        }
    }
    free(prev);
    jnl_txn_commit(t, &err);
    jnl_free(j);
    json_decref(tmpl);
}

/* iasql journal replay of 1,000,000 events into an empty database. */
static void replay_1m(PGconn *c, const char *conninfo, const char *tmp, json_t *out)
{
    const uint64_t n = 1000000;
    char dir[400], ci[1024];
    snprintf(dir, sizeof dir, "%s/bench-replay-journal", tmp);
    snprintf(ci, sizeof ci, "%s dbname=iasql_bench_replay", conninfo);
    synthetic_journal(c, dir, n);
    double v[3];
    for (int r = 0; r < 3; r++) {
        must(c, "DROP DATABASE IF EXISTS iasql_bench_replay WITH (FORCE)");
        must(c, "CREATE DATABASE iasql_bench_replay");
        cm_err err = {0};
        int64_t t0 = cm_mono_us();
        if (eng_replay(dir, ci, 0, &err)) {
            fprintf(stderr, "bench: replay: %s\n", err.msg);
            exit(1);
        }
        v[r] = (double)(cm_mono_us() - t0) / 1e3;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double m = median(v, 3);
    printf("%-52s %10.0f ms, %.0f events/s, %llu rows, max RSS %ld MB\n",
           "journal replay of 1,000,000 events into a database", m, (double)n / (m / 1e3),
           (unsigned long long)(n / 10), ru.ru_maxrss / 1024);
    json_object_set_new(out, "replay_1m_events_ms", json_real(m));
    json_object_set_new(out, "replay_events_per_s", json_real((double)n / (m / 1e3)));
    must(c, "DROP DATABASE IF EXISTS iasql_bench_replay WITH (FORCE)");
    rm_rf(dir);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(
            stderr,
            "usage: bench CONNINFO RESULTS.json [ENGINE_LOG [ENGINE_PID]] (run bench/run.sh)\n");
        return 2;
    }
    PGconn *c;
    cm_err err = {0};
    if (cm_pg_connect(&c, argv[1], &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    must(c, "SET client_min_messages = warning");
    const char *tmp = getenv("IASQL_RUN_DIR") ? getenv("IASQL_RUN_DIR") : "/tmp";
    json_t *out = json_object();
    printf("%-52s %s\n", "what", "median");
    /* BENCH_ONLY=poll: the commits and the poll only; BENCH_ONLY=capture:
     * the capture overheads only, nothing committed */
    const char *only = getenv("BENCH_ONLY");
    if (only && strcmp(only, "capture") == 0) {
        make_plain_copy(c);
        capture_bulk(c, out);
        capture_single(c, out);
        argc = 3;
    } else
        empty_commit(c, out);
    if (argc > 3) {
        commit_100_buckets(c, argv[3], out);
        must(c,
             "INSERT INTO vpc (cidr_block, tags) VALUES ('10.90.0.0/16', '{\"Name\": \"bench\"}')");
        must(c, "INSERT INTO subnet (vpc, cidr_block, availability_zone, tags) SELECT id, "
                "'10.90.0.0/20', 'us-east-1a', '{\"Name\": \"bench\"}' FROM vpc "
                "WHERE tags->>'Name' = 'bench'");
        must(c, "SELECT * FROM iasql_commit('bench vpc')");
        commit_ec2(c, argv[3], 10, out);
        commit_ec2(c, argv[3], 100, out);
        if (argc > 4)
            poll_10k(c, strtol(argv[4], NULL, 10), out);
    }
    if (!only || (strcmp(only, "poll") != 0 && strcmp(only, "capture") != 0)) {
        rollback_10k(c, out);
        replay_1m(c, argv[1], tmp, out);
        make_plain_copy(c);
        capture_bulk(c, out);
        capture_single(c, out);
        tail_and_scan(c, tmp, out);
    }
    json_object_set_new(out, "runs", json_integer(RUNS));
    if (json_dump_file(out, argv[2], JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
        fprintf(stderr, "bench: cannot write %s\n", argv[2]);
    json_decref(out);
    PQfinish(c);
    return 0;
}
