/* engine/eng_help.c — the command line's usage and `iasql help`, read from
 * docs/iasql.1.md, the one source the man page iasql(1) is made from too
 * (tools/manpage.py). A command is a "### name ARGS" heading of its
 * COMMANDS section, then a one-line summary, then paragraphs. */
#include <stdio.h>
#include <string.h>

#include "engine/eng.h"

extern const char iasql_sql_iasql[];

/* Calls fn for each command: its heading (name and arguments), its
 * summary and the text after it, each as a pointer and a length. */
typedef void (*command_fn)(const char *head, int head_len, const char *summary, int summary_len,
                           const char *rest, int rest_len, void *arg);

static void each_command(command_fn fn, void *arg)
{
    const char *s = strstr(iasql_sql_iasql, "\n## COMMANDS\n");
    const char *end = s ? strstr(s + 1, "\n## ") : NULL;
    if (!s)
        return;
    if (!end)
        end = s + strlen(s);
    for (const char *h = strstr(s, "\n### "); h && h < end;) {
        const char *head = h + 5, *nl = strchr(head, '\n');
        if (!nl || nl > end)
            break;
        const char *summary = nl + 1, *snl = strchr(summary, '\n');
        if (!snl || snl > end)
            snl = end;
        const char *next = strstr(snl, "\n### ");
        const char *stop = next && next < end ? next : end;
        fn(head, (int)(nl - head), summary, (int)(snl - summary), snl, (int)(stop - snl), arg);
        h = next;
    }
}

/* Text without Markdown's backticks. */
static void put_plain(FILE *f, const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] != '`')
            fputc(s[i], f);
}

static void usage_line(const char *head, int head_len, const char *summary, int summary_len,
                       const char *rest, int rest_len, void *arg)
{
    (void)rest, (void)rest_len;
    FILE *f = arg;
    /* the summary in a column, or under a long synopsis */
    if (head_len <= 30)
        fprintf(f, "  iasql %-30.*s  ", head_len, head);
    else
        fprintf(f, "  iasql %.*s\n  %38s", head_len, head, "");
    put_plain(f, summary, summary_len);
    fputc('\n', f);
}

void eng_usage(FILE *f)
{
    fprintf(f, "usage: iasql COMMAND [ARGUMENTS]\n\ncommands:\n");
    each_command(usage_line, f);
    fprintf(f, "\n`iasql help COMMAND` says more; man iasql has it all.\n");
}

typedef struct help_want {
    const char *name;
    FILE *f;
    int found;
} help_want;

static void help_of(const char *head, int head_len, const char *summary, int summary_len,
                    const char *rest, int rest_len, void *arg)
{
    help_want *w = arg;
    size_t n = strlen(w->name);
    /* "journal" names every journal command; "journal dump" one of them */
    if ((int)n > head_len || strncmp(head, w->name, n) != 0 ||
        (head[n] != ' ' && (int)n < head_len && head[n] != '|'))
        return;
    if (w->found++)
        fputc('\n', w->f);
    fprintf(w->f, "iasql %.*s\n\n", head_len, head);
    put_plain(w->f, summary, summary_len);
    while (rest_len && (rest[rest_len - 1] == '\n' || rest[rest_len - 1] == ' '))
        rest_len--;
    put_plain(w->f, rest, rest_len);
    fputc('\n', w->f);
}

int eng_help(const char *command, FILE *f)
{
    help_want w = {command, f, 0};
    each_command(help_of, &w);
    return w.found;
}

typedef struct synopsis_want {
    const char *name;
    char *out;
    size_t size;
} synopsis_want;

static void synopsis_of(const char *head, int head_len, const char *summary, int summary_len,
                        const char *rest, int rest_len, void *arg)
{
    (void)summary, (void)summary_len, (void)rest, (void)rest_len;
    synopsis_want *w = arg;
    size_t n = strlen(w->name);
    if (!w->out[0] && (int)n <= head_len && strncmp(head, w->name, n) == 0 &&
        ((int)n == head_len || head[n] == ' '))
        snprintf(w->out, w->size, "iasql %.*s", head_len, head);
}

void eng_synopsis(const char *command, char *out, size_t size)
{
    out[0] = '\0';
    synopsis_want w = {command, out, size};
    each_command(synopsis_of, &w);
}
