/* engine/main.c — the iasql command line: a table of commands. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "apply/apl.h"
#include "engine/eng.h"

static void usage(void)
{
    eng_usage(stderr);
}

/* A command given too few arguments: what it takes. */
static int missing(const char *cmd, const char *what)
{
    char syn[256];
    eng_synopsis(cmd, syn, sizeof syn);
    fprintf(stderr, "iasql %s: %s missing\nusage: %s\n", cmd, what, syn);
    return 2;
}

static int fail(const char *cmd, const cm_err *err)
{
    fprintf(stderr, "iasql %s: %s\n", cmd, err->msg);
    return 1;
}

static int cmd_init(int argc, char **argv)
{
    if (argc < 1)
        return missing("init", "CONNINFO");
    cm_err err = {0};
    if (eng_schema_init(argv[0], &err))
        return fail("init", &err);
    printf("iasql %s schema installed\n", IASQL_VERSION);
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    if (argc < 1)
        return missing("run", "CONNINFO");
    eng_options opt = {.journal_dir = NULL,
                       .tail_ms = 1000,
                       .auto_apply_s = 120,
                       .poll_s = 60,
                       .poll_grace_s = 60,
                       .poll_deep_s = 3600};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--journal") == 0 && i + 1 < argc)
            opt.journal_dir = argv[++i];
        else if (strcmp(argv[i], "--journal-adopt") == 0)
            opt.journal_adopt = true;
        else if (strcmp(argv[i], "--tail-ms") == 0 && i + 1 < argc)
            opt.tail_ms = atoi(argv[++i]);
        else if ((strcmp(argv[i], "--auto-apply") == 0 || strcmp(argv[i], "--poll") == 0) &&
                 i + 1 < argc) {
            const char *v = argv[++i];
            char *end;
            long n = strtol(v, &end, 10);
            int *to = strcmp(argv[i - 1], "--poll") == 0 ? &opt.poll_s : &opt.auto_apply_s;
            if (strcmp(v, "off") == 0)
                *to = 0;
            else if (*v && !*end && n > 0 && n <= 86400)
                *to = (int)n;
            else {
                fprintf(stderr, "iasql run: %s takes seconds (1 to 86400) or off, not %s\n",
                        argv[i - 1], v);
                return 2;
            }
        } else if (strcmp(argv[i], "--poll-grace") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            char *end;
            long n = strtol(v, &end, 10);
            if (!*v || *end || n < 0 || n > 3600) {
                fprintf(stderr, "iasql run: --poll-grace takes 0 to 3600 seconds, not %s\n", v);
                return 2;
            }
            opt.poll_grace_s = (int)n;
        } else if (strcmp(argv[i], "--poll-deep") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            char *end;
            long n = strtol(v, &end, 10);
            if (!*v || *end || n < 1 || n > 7 * 86400) {
                fprintf(stderr,
                        "iasql run: --poll-deep takes 1 to 604800 seconds, not %s\n"
                        "hint: a table's settings that cost a read per resource are read for "
                        "every resource within this long; the default is 3600.\n",
                        v);
                return 2;
            }
            opt.poll_deep_s = (int)n;
            opt.poll_deep_given = true;
        } else if (strcmp(argv[i], "--parallel") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            char *end;
            long n = strtol(v, &end, 10);
            if (!*v || *end || n < 1 || n > 16) {
                fprintf(stderr,
                        "iasql run: --parallel takes 1 to 16 actions per service, "
                        "not %s\n",
                        v);
                return 2;
            }
            apl_set_parallel((int)n);
        } else if (strcmp(argv[i], "--verbose") == 0) {
            cm_log_set_level(CM_LOG_DEBUG);
        } else if (strcmp(argv[i], "--metrics") == 0 && i + 1 < argc) {
            opt.metrics = argv[++i];
            cm_err merr = {0};
            if (eng_metrics_check(opt.metrics, &merr)) {
                fprintf(stderr, "iasql run: %s\n", merr.msg);
                return 2;
            }
        } else if (strcmp(argv[i], "--log-format") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0) {
                fprintf(stderr, "iasql run: --log-format takes text or json, not %s\n", v);
                return 2;
            }
            cm_log_set_json(strcmp(v, "json") == 0);
        } else {
            fprintf(stderr, "iasql run: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (opt.tail_ms <= 0)
        opt.tail_ms = 1000;
    cm_err err = {0};
    cm_err_clear(&err);
    if (eng_run(argv[0], &opt, &err)) {
        cm_log(CM_LOG_ERROR, "%s", err.msg);
        return 1;
    }
    return 0;
}

/* Says plainly when the database has no iasql schema, or the role may not
 * call it, instead of "function does not exist" or "permission denied". */
static int check_callable(PGconn *conn, cm_err *err)
{
    PGresult *res;
    int rc = cm_pg_exec(conn, &res, err,
                        "SELECT to_regprocedure('iasql_rpc_call(text, text[])') IS NOT NULL, "
                        "to_regprocedure('iasql_rpc_call(text, text[])') IS NOT NULL AND "
                        "has_function_privilege('iasql_rpc_call(text, text[])', 'EXECUTE')",
                        0, NULL);
    if (rc)
        return rc;
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        rc = cm_err_set(err, CM_ECONFIG,
                        "database %s has no iasql schema. Hint: run `iasql init CONNINFO` first, "
                        "as its owner or a superuser",
                        PQdb(conn));
    else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
        rc = cm_err_set(err, CM_ECONFIG,
                        "role %s may not call iasql functions in database %s. Hint: the "
                        "database's owner grants it with: GRANT iasql_user TO %s;",
                        PQuser(conn), PQdb(conn), PQuser(conn));
    PQclear(res);
    return rc;
}

/* A request's progress NOTICEs ("57/200 created bucket ..."): a bar on a
 * terminal, redrawn in place; plain lines otherwise. */
static bool progress_drawn;
static void show_progress(void *arg, const PGresult *res)
{
    (void)arg;
    const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    unsigned long done, total;
    int n = 0;
    if (!m)
        return;
    if (!isatty(STDERR_FILENO) || (sev && strcmp(sev, "NOTICE") != 0) ||
        sscanf(m, "%lu/%lu %n", &done, &total, &n) != 2 || !total) {
        fprintf(stderr, "%s\n", m);
        return;
    }
    struct winsize ws;
    int width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 40 ? ws.ws_col : 80;
    char bar[31];
    size_t fill = (size_t)(30.0 * (double)done / (double)total);
    for (size_t i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r\033[K[%s] %lu/%lu %.*s", bar, done, total, width - 45, m + n);
    progress_drawn = true;
}

/* One statement of the iasql functions, on a connection of its own: the
 * schema and the role's grant checked first (check_callable); progress
 * NOTICEs shown when progress is true. *res survives the connection. */
static int query_iasql(const char *conninfo, const char *sql, int n, const char *const *params,
                       bool progress, PGresult **res, cm_err *err)
{
    PGconn *conn;
    int rc = cm_pg_connect(&conn, conninfo, err);
    if (rc)
        return rc;
    if (progress) {
        PQsetNoticeReceiver(conn, show_progress, NULL);
        PQclear(PQexec(conn, "SET client_min_messages = notice"));
    }
    rc = check_callable(conn, err);
    if (!rc)
        rc = cm_pg_exec(conn, res, err, sql, n, params);
    if (progress && progress_drawn)
        fputc('\n', stderr);
    PQfinish(conn);
    return rc;
}

/* Runs one of the SQL functions from a shell and prints its rows. */
static int call_sql(const char *cmd, const char *sql, int argc, char **argv)
{
    if (argc < 1)
        return missing(cmd, "CONNINFO");
    PGresult *res;
    cm_err err = {0};
    const char *params[1] = {argc > 1 ? argv[1] : NULL};
    int rc = query_iasql(argv[0], sql, strchr(sql, '$') ? 1 : 0, params, true, &res, &err);
    if (!rc) {
        for (int r = 0; r < PQntuples(res); r++)
            for (int c = 0; c < PQnfields(res); c++)
                printf("%s%s", PQgetvalue(res, r, c), c + 1 < PQnfields(res) ? "\t" : "\n");
        PQclear(res);
    }
    return rc ? fail(cmd, &err) : 0;
}

static int cmd_commit(int argc, char **argv)
{
    return call_sql("commit", "SELECT * FROM iasql_commit($1)", argc, argv);
}

static int cmd_sync(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--preview") == 0)
        return call_sql("sync", "SELECT * FROM iasql_sync_preview()", 1, argv);
    return call_sql("sync", "SELECT * FROM iasql_sync()", argc, argv);
}

/* s in a DOT string, quoted. */
static void dot_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
    fputc('"', f);
}

/* The plan graph as Graphviz DOT: a node per action step, coloured by
 * create, update, replace or delete; an edge from what must end first. */
static void write_dot(FILE *f, const json_t *g)
{
    static const struct {
        const char *action, *fill, *border;
    } colours[] = {{"create", "#d4edda", "#2e7d32"},
                   {"update", "#d6e9f8", "#1565c0"},
                   {"replace", "#ffe8cc", "#e65100"},
                   {"delete", "#f8d7da", "#c62828"}};
    fprintf(f, "digraph iasql_plan {\n  rankdir=LR;\n"
               "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", "
               "fontsize=11];\n  edge [color=\"#555555\"];\n");
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(g, "nodes"), i, n)
    {
        const char *action = json_string_value(json_object_get(n, "action"));
        const char *step = json_string_value(json_object_get(n, "step"));
        const char *fill = "#eeeeee", *border = "#777777";
        for (size_t k = 0; k < sizeof colours / sizeof colours[0]; k++)
            if (action && strcmp(action, colours[k].action) == 0)
                fill = colours[k].fill, border = colours[k].border;
        char label[1200];
        if (action && step && strcmp(action, step) != 0)
            snprintf(label, sizeof label, "%s (%s): %s", action, step,
                     json_string_value(json_object_get(n, "label")));
        else
            snprintf(label, sizeof label, "%s %s", action ? action : "?",
                     json_string_value(json_object_get(n, "label")));
        fprintf(f, "  n%lld [label=", (long long)json_integer_value(json_object_get(n, "node")));
        dot_quoted(f, label);
        fprintf(f, ", fillcolor=\"%s\", color=\"%s\"];\n", fill, border);
    }
    json_t *e;
    json_array_foreach(json_object_get(g, "edges"), i, e)
        fprintf(f, "  n%lld -> n%lld;\n", (long long)json_integer_value(json_array_get(e, 0)),
                (long long)json_integer_value(json_array_get(e, 1)));
    fprintf(f, "}\n");
}

static int cmd_preview(int argc, char **argv)
{
    bool dot = false, svg = false;
    char *rest[4];
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--dot") == 0)
            dot = true;
        else if (strcmp(argv[i], "--svg") == 0)
            svg = true;
        else if (n < 4)
            rest[n++] = argv[i];
    }
    if (!dot && !svg)
        return call_sql("preview", "SELECT * FROM iasql_preview()", n, rest);
    if (n < 1)
        return missing("preview", "CONNINFO");
    PGresult *res;
    cm_err err = {0};
    int rc = query_iasql(rest[0], "SELECT iasql_preview_graph()", 0, NULL, false, &res, &err);
    json_t *g = NULL;
    if (!rc) {
        g = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
        PQclear(res);
        if (!g)
            rc = cm_err_set(&err, CM_EBADREPLY, "the plan's graph is not JSON");
    }
    if (rc)
        return fail("preview", &err);
    if (dot) {
        write_dot(stdout, g);
    } else {
        /* rendered by Graphviz when it is there */
        FILE *p = system("command -v dot >/dev/null 2>&1") == 0 ? popen("dot -Tsvg", "w") : NULL;
        if (!p) {
            json_decref(g);
            fprintf(stderr, "iasql preview: --svg needs Graphviz's dot, which is not installed "
                            "(apt-get install graphviz); --dot prints the graph for it\n");
            return 1;
        }
        fflush(stdout);
        write_dot(p, g);
        rc = pclose(p) == 0 ? 0 : cm_err_set(&err, CM_EIO, "dot could not draw the plan");
    }
    json_decref(g);
    return rc ? fail("preview", &err) : 0;
}

static int cmd_rollback(int argc, char **argv)
{
    if (argc > 1)
        return call_sql("rollback", "SELECT * FROM iasql_rollback($1::bigint)", argc, argv);
    return call_sql("rollback", "SELECT * FROM iasql_rollback()", argc, argv);
}

/* One line per item; exit 1 when the engine is down or behind. */
static int cmd_status(int argc, char **argv)
{
    if (argc < 1)
        return missing("status", "CONNINFO");
    PGresult *res;
    cm_err err = {0};
    int rc = query_iasql(argv[0], "SELECT item, state, healthy FROM iasql_status()", 0, NULL, false,
                         &res, &err);
    bool down = false;
    if (!rc) {
        for (int r = 0; r < PQntuples(res); r++) {
            const char *item = PQgetvalue(res, r, 0);
            bool healthy = strcmp(PQgetvalue(res, r, 2), "t") == 0;
            printf("%s %-28s %s\n", healthy ? " " : "!", item, PQgetvalue(res, r, 1));
            if (!healthy && (strcmp(item, "engine") == 0 || strcmp(item, "tail lag") == 0))
                down = true;
        }
        PQclear(res);
    }
    if (rc)
        return fail("status", &err);
    return down ? 1 : 0;
}

static int cmd_journal(int argc, char **argv)
{
    return eng_journal_main(argc, argv);
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("iasql %s\n", IASQL_VERSION);
    return 0;
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 1) {
        eng_usage(stdout);
        return 0;
    }
    char topic[256] = "";
    for (int i = 0; i < argc; i++) /* "help journal dump" */
        snprintf(topic + strlen(topic), sizeof topic - strlen(topic), "%s%s", i ? " " : "",
                 argv[i]);
    if (eng_help(topic, stdout))
        return 0;
    fprintf(stderr, "iasql help: unknown command \"%s\"\n", topic);
    eng_usage(stderr);
    return 2;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} commands[] = {
    {"init", cmd_init},       {"run", cmd_run},         {"commit", cmd_commit},
    {"preview", cmd_preview}, {"sync", cmd_sync},       {"rollback", cmd_rollback},
    {"journal", cmd_journal}, {"version", cmd_version}, {"help", cmd_help},
    {"status", cmd_status},
};

/* The heap's shape for a long-running engine whose polls build, and free,
 * listings of megabytes:
 * - a fixed mmap threshold: glibc raises it after the first large block is
 *   freed, so each later listing's text and buffers would come from the
 *   heap and leave holes there; fixed, they are mapped and unmapped whole;
 * - one arena: the listing thread and the apply workers share the main
 *   heap instead of each keeping its own free memory. */
static void heap_shape(void)
{
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_ARENA_MAX, 1);
}

int main(int argc, char **argv)
{
    heap_shape();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        usage();
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(0, NULL);
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(0, NULL);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 2, argv + 2);
    fprintf(stderr, "iasql: unknown command \"%s\" (iasql help lists the commands)\n", argv[1]);
    return 2;
}
