/* tests/integration/it_util.h — helpers for integration tests: a fresh
 * database per test with the base schema, the engine as a child process, SQL
 * through libpq, and an independent look at the cloud with plain unsigned
 * HTTP (never through the engine's own client). Services come from the
 * environment that tests/run.sh sets up. */
#ifndef IASQL_IT_UTIL_H
#define IASQL_IT_UTIL_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct it_env {
    char dbname[64];
    char conninfo[512];        /* iasql_app: an application's plain login role */
    char admin_conninfo[512];  /* the cluster's superuser */
    char engine_conninfo[512]; /* iasql_engine, as the engine logs in */
    char owner_conninfo[512];  /* who runs iasql init: the superuser, or the owner */
    char journal[256];
    char log_path[256];
    const char *emulator; /* base URL of the S3 emulator under test */
    bool full_s3;         /* tagging supported (moto), or not (s3rver) */
    pid_t engine;
    int starts;             /* how many times the engine got ready */
    const char *auto_apply; /* --auto-apply of the engine; NULL: off */
    const char *poll;       /* --poll of the engine; NULL: off */
    const char *poll_grace; /* --poll-grace; NULL: the engine's default */
    const char *poll_deep;  /* --poll-deep; NULL: the engine's default */
    bool journal_adopt;     /* --journal-adopt */
    bool journal_default;   /* no --journal: the database's own folder */
    const char *log_format; /* --log-format; NULL: the engine's default (text) */
    const char *metrics;    /* --metrics ADDR:PORT; NULL: none */
    PGconn *db;
} it_env;

/* Sleeps ms milliseconds; the monotonic clock in seconds; how many times
 * needle occurs in hay (0 for NULL). */
void it_sleep_ms(int ms);
double it_now_s(void);
int it_count(const char *hay, const char *needle);
/* A copy of a value a query gave; fails the test when it gave none. */
char *it_strdup(const char *v);

/* cmocka fixtures: a fresh database with the engine running (and aws_s3
 * installed when install is true), in *state; the end stops the engine,
 * which must exit cleanly, and drops the database. */
int it_fixture(void **state, const char *name, bool install);
int it_fixture_end(void **state);
/* True when tests/run.sh set up the environment; says what is missing if not. */
/* Whether the run set the test up (IASQL_BIN, IT_EMULATOR_URL); applies
 * IT_SKIP, a cmocka skip filter ("test_*_rotation"). */
bool it_env_ready(void);

/* Creates the database, runs `iasql init`, starts the engine. */
int it_setup(it_env *e, const char *name);
/* Starts the engine (again) and waits until it serves requests. */
int it_start_engine(it_env *e);
/* SIGKILL, as a crash. */
void it_kill_engine(it_env *e);
/* Stops the engine with SIGTERM and returns its exit status (0 = clean). */
int it_stop_engine(it_env *e);
/* Stops the engine cleanly and starts it again with --poll poll and
 * --poll-grace grace (asserting both). */
void it_restart_engine(it_env *e, const char *poll, const char *grace);
/* The poller's rotation (docs/poll.md). The "poll of <table>: N requests"
 * lines of the engine's log: how many there are; out[0..n) gets the
 * requests of those after the first skip. */
int it_poll_requests(const it_env *e, const char *table, int skip, long *out, int n);
/* Restarts the engine with --poll 1 --poll-deep deep ("5": four slots;
 * "1": no rotation, every resource read in full) and waits for five polls
 * of table: out gets the requests of the four quiet ones
 * after the first (which reads what the engine changed before it in
 * full); asserts that they wrote nothing (iasql_audit_log). */
void it_rotation_quiet(it_env *e, const char *table, const char *deep, long out[4]);
/* The engine again without a poll or a rotation. */
void it_rotation_off(it_env *e);
/* Whether the value of the query fmt comes to be want within 15 s (a null
 * value or no row reads as ""). */
bool it_eventually(it_env *e, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* How many seconds pass until the value of the query fmt is want (as
 * it_eventually reads it), or -1 when it is not within max_s seconds. */
double it_seen_within(it_env *e, double max_s, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The rotation of deep reads on: the engine restarted with --poll 1,
 * --poll-grace 0 and --poll-deep deep; waits (up to 60 s) for n quiet polls
 * of table after the first (which reads in full what the engine changed
 * just before), their request counts in out. it_rotation_end turns the
 * poller off again (the engine's default --poll-deep). */
void it_rotation_start(it_env *e, const char *deep, const char *table, long *out, int n);
void it_rotation_end(it_env *e);
/* This database's identity (iasql_config.database_id), copied for the
 * caller to free. */
char *it_database_id(it_env *e);
void it_teardown(it_env *e);

/* Runs sql with text params; returns the result or NULL and prints the error. */
PGresult *it_sql(it_env *e, const char *sql, int n, const char *const *params);
/* it_sql for statements whose result is not needed: true on success. */
bool it_ok(it_env *e, const char *sql, int n, const char *const *params);
/* Prints the tail of the engine's log to stderr. */
void it_print_log(const it_env *e);
/* Runs sql expecting an error; returns the error message (static buffer) or NULL. */
const char *it_conn_error(PGconn *c, const char *sql);
const char *it_sql_error(it_env *e, const char *sql);
/* it_value as the cluster's superuser (for what only the engine may read),
 * on a connection of its own. */
const char *it_admin_value(it_env *e, const char *sql);
bool it_admin_ok(it_env *e, const char *sql);
/* The error of sql as the superuser, or NULL when it succeeds. */
const char *it_admin_error(it_env *e, const char *sql);
/* The single value of a one-row query, copied to a static buffer; NULL if none. */
const char *it_value(it_env *e, const char *sql);

/* Plain HTTP to the emulator: returns status, body in a static buffer. */
long it_http(const char *method, const char *url, const char *body, const char **out);
/* The same, with an Authorization header scoped to service (moto routes
 * by it); service NULL sends none. */
long it_http_as(const char *service, const char *method, const char *url, const char *data,
                const char **out);
/* The region the Authorization header of later calls names (moto keeps
 * resources per region); us-east-1 until set. */
void it_http_set_region(const char *region);
/* The same, with more headers ("Name: value", one per line). */
long it_http_full(const char *service, const char *extra_header, const char *method,
                  const char *url, const char *data, const char **out);
/* How many buckets the emulator lists whose name starts with prefix. */
int it_cloud_count_prefix(const char *emulator, const char *prefix);
/* True when the emulator lists a bucket of that name. */
bool it_cloud_has_bucket(const char *emulator, const char *name);
/* The count of lines in the engine log containing needle. */
int it_log_count(const it_env *e, const char *needle);
/* The last line of the engine log containing needle, or "". */
const char *it_log_last(const it_env *e, const char *needle);

/* Lines mentioning needle (a grep pattern) anywhere a secret must never
 * be: the journal dump (text and JSON), the raw journal files, the engine's
 * log and a pg_dump of the database. */
int it_leaks(it_env *e, const char *needle);

/* One JSON-protocol call straight to the emulator, not through the engine:
 * target is the whole X-Amz-Target, version "1.0" or "1.1". Takes body;
 * returns the decoded answer ({} when it is not JSON). */
json_t *it_aws_json(it_env *e, const char *service, const char *version, const char *target,
                    json_t *body, long *status);
/* One query-protocol call straight to the emulator (SNS, IAM, STS): form
 * is the whole form body ("Action=...&Version=..."); returns the HTTP
 * status, *out the XML answer (a static buffer). */
long it_aws_query(it_env *e, const char *service, const char *form, const char **out);
/* The same with the form made from fmt and the API version added: the XML
 * answer, copied for the caller to free; *status (if not NULL) receives the
 * HTTP status, else a status other than 200 fails the test. */
char *it_queryf(it_env *e, const char *service, const char *version, long *status, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));
char *it_queryv(it_env *e, const char *service, const char *version, long *status, const char *fmt,
                va_list ap);
/* One EC2 call straight to the emulator ("Action=...&..." made from fmt;
 * the version is added): the XML answer, copied for the caller to free.
 * A status other than 200 is printed with the answer; *status (if not
 * NULL) receives it. */
char *it_ec2v(it_env *e, long *status, const char *fmt, va_list ap);
char *it_ec2(it_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text of the first <tag> element in xml, or NULL (static buffer). */
const char *it_xml_text(const char *xml, const char *tag);
/* In an SNS-style attribute map, the <value> after <key>key</key>, or NULL
 * (static buffer). */
const char *it_xml_entry(const char *xml, const char *key);

/* A queue's attributes (and its tags under "tags") as SQS has them, or
 * NULL when there is no such queue. */
json_t *it_cloud_queue(it_env *e, const char *name);
/* A log group as CloudWatch Logs describes it, or NULL; fails the test
 * when the describe itself fails. */
json_t *it_cloud_log_group(it_env *e, const char *name);
/* it_ok of a statement made from fmt and ap (values the test made itself,
 * never input). */
bool it_okv(it_env *e, const char *fmt, va_list ap);
/* it_okv and it_value with a printf format (SQL up to 2 KB). */
bool it_okf(it_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *it_valf(it_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Commits and expects rows result rows, each of action and none failed. */
void it_expect_commit(it_env *e, int rows, const char *action);
/* Commits two pending changes to table (action, e.g. "update"): the row
 * whose name_col is theirs fails, naming iasql database other; the other
 * row goes through. */
void it_expect_commit_spares(it_env *e, const char *table, const char *name_col, const char *action,
                             const char *theirs, const char *other);
/* The value of key in a tag list as AWS gives it ([{"Key": k, "Value":
 * v}, ...]), or "", copied for the caller to free. */
char *it_tag_value(const json_t *list, const char *key);

/* An INSERT that must be refused, and the rule its message must name. */
typedef struct it_reject {
    const char *sql, *rule;
} it_reject;
/* Each statement is refused, naming its rule. */
void it_expect_rejected(it_env *e, const it_reject *cases, size_t n);

#endif
