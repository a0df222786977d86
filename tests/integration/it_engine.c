/* tests/integration/it_engine.c — see it_util.h: the engine as a child
 * process (start, stop, kill, restart) and its log. */
#include "it_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char lastline[4096]; /* it_log_last */

int it_start_engine(it_env *e)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(e->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644); /* shared by restarts */
        dup2(fd, 2);
        dup2(fd, 1);
        setenv("AWS_ENDPOINT_URL", e->emulator, 1);
        const char *argv[32];
        int n = 0;
        argv[n++] = "iasql";
        argv[n++] = "run";
        argv[n++] = e->engine_conninfo;
        if (!e->journal_default) {
            argv[n++] = "--journal";
            argv[n++] = e->journal;
        }
        if (e->journal_adopt)
            argv[n++] = "--journal-adopt";
        const char *rest[] = {"--tail-ms",    "200",
                              "--auto-apply", e->auto_apply ? e->auto_apply : "off",
                              "--poll",       e->poll ? e->poll : "off",
                              "--poll-grace", e->poll_grace ? e->poll_grace : "60",
                              "--verbose",    NULL};
        for (int i = 0; rest[i]; i++)
            argv[n++] = rest[i];
        if (e->poll_deep) {
            argv[n++] = "--poll-deep";
            argv[n++] = e->poll_deep;
        }
        if (e->log_format) {
            argv[n++] = "--log-format";
            argv[n++] = e->log_format;
        }
        if (e->metrics) {
            argv[n++] = "--metrics";
            argv[n++] = e->metrics;
        }
        argv[n] = NULL;
        execv(getenv("IASQL_BIN"), (char *const *)argv);
        _exit(127);
    }
    e->engine = pid;
    /* Ready when it says so: an earlier engine's tickets may still be open. */
    for (int i = 0; i < 400; i++) {
        if (it_log_count(e, "engine ready") > e->starts) {
            e->starts++;
            return 0;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            e->engine = 0;
            fprintf(stderr, "the engine exited at start (status %d)\n",
                    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            it_print_log(e);
            return -1;
        }
        it_sleep_ms(50);
    }
    fprintf(stderr, "the engine did not get ready in 20 s\n");
    it_print_log(e);
    return -1;
}

void it_kill_engine(it_env *e)
{
    if (!e->engine)
        return;
    kill(e->engine, SIGKILL);
    int st;
    waitpid(e->engine, &st, 0);
    e->engine = 0;
}

int it_stop_engine(it_env *e)
{
    if (!e->engine)
        return -1;
    kill(e->engine, SIGTERM);
    int st = 0;
    for (int i = 0; i < 200; i++) {
        if (waitpid(e->engine, &st, WNOHANG) == e->engine) {
            e->engine = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        it_sleep_ms(25);
    }
    kill(e->engine, SIGKILL);
    waitpid(e->engine, &st, 0);
    e->engine = 0;
    return -2;
}

void it_print_log(const it_env *e)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "tail -n 40 '%s' >&2", e->log_path);
    if (system(cmd) != 0)
        fprintf(stderr, "no engine log at %s\n", e->log_path);
}

static int scan_log(const it_env *e, const char *needle)
{
    FILE *f = fopen(e->log_path, "r");
    int n = 0;
    char line[4096];
    lastline[0] = '\0';
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, needle)) {
            n++;
            snprintf(lastline, sizeof lastline, "%s", line);
        }
    if (f)
        fclose(f);
    return n;
}

int it_log_count(const it_env *e, const char *needle)
{
    return scan_log(e, needle);
}

const char *it_log_last(const it_env *e, const char *needle)
{
    scan_log(e, needle);
    return lastline;
}

void it_rotation_start(it_env *e, const char *deep, const char *table, long *out, int n)
{
    int before = it_poll_requests(e, table, 0, out, 0);
    e->poll_deep = deep;
    it_restart_engine(e, "1", "0");
    double deadline = it_now_s() + 60;
    while (it_poll_requests(e, table, before + 1, out, n) < before + 1 + n && it_now_s() < deadline)
        it_sleep_ms(250);
    assert_true(it_poll_requests(e, table, before + 1, out, n) >= before + 1 + n);
}

void it_rotation_end(it_env *e)
{
    e->poll_deep = NULL;
    it_restart_engine(e, "off", "0");
}

void it_restart_engine(it_env *e, const char *poll, const char *grace)
{
    assert_int_equal(it_stop_engine(e), 0);
    e->poll = poll;
    e->poll_grace = grace;
    assert_int_equal(it_start_engine(e), 0);
}

int it_poll_requests(const it_env *e, const char *table, int skip, long *out, int n)
{
    FILE *f = fopen(e->log_path, "r");
    char line[4096], want[128];
    snprintf(want, sizeof want, "poll of %s: ", table);
    int seen = 0;
    while (f && fgets(line, sizeof line, f)) {
        const char *at = strstr(line, want);
        long r;
        if (at && sscanf(at + strlen(want), "%ld requests", &r) == 1) {
            if (seen >= skip && seen - skip < n)
                out[seen - skip] = r;
            seen++;
        }
    }
    if (f)
        fclose(f);
    return seen;
}

void it_rotation_quiet(it_env *e, const char *table, const char *deep, long out[4])
{
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    it_rotation_start(e, deep, table, out, 4);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    free(audit);
}

void it_rotation_off(it_env *e)
{
    it_rotation_end(e);
}

bool it_eventually(it_env *e, const char *want, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    for (int i = 0; i < 150; i++) {
        const char *v = it_value(e, sql);
        if (strcmp(v ? v : "", want) == 0) /* NULL: none, or a null value */
            return true;
        it_sleep_ms(100);
    }
    return false;
}

double it_seen_within(it_env *e, double max_s, const char *want, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    double t0 = it_now_s();
    do {
        const char *v = it_value(e, sql);
        if (strcmp(v ? v : "", want) == 0)
            return it_now_s() - t0;
        it_sleep_ms(100);
    } while (it_now_s() - t0 < max_s);
    return -1;
}
