/* engine/eng_metrics.c — `iasql run --metrics ADDR:PORT`: the engine's
 * counters and gauges in Prometheus' text format, served by libmicrohttpd
 * on its own thread at /metrics. Counters are kept by label set under one
 * lock; whoever counts (the commit's thread, the cloud client of any
 * thread, the poller) only adds. Nothing secret is ever a label. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/eng.h"
#include "modules/aws/aws.h"

#define SERIES_MAX 1024

typedef struct series {
    const char *family; /* one of the names below */
    char labels[160];   /* {service="s3",code="200"}, or "" */
    double value;
} series;

static struct {
    pthread_mutex_t mu;
    series s[SERIES_MAX];
    int n;
    char journal_file[1100];
    struct MHD_Daemon *daemon;
    int64_t tail_read_us; /* when the tail last read the audit log */
} M = {.mu = PTHREAD_MUTEX_INITIALIZER};

void eng_metric_tail_read(void)
{
    __atomic_store_n(&M.tail_read_us, cm_mono_us(), __ATOMIC_RELAXED);
}

static const struct {
    const char *name, *type, *help;
} families[] = {
    {"iasql_up", "gauge", "1 while the engine serves requests"},
    {"iasql_commits_total", "counter", "commit points made, by status"},
    {"iasql_actions_total", "counter", "cloud actions of commits, by kind and result"},
    {"iasql_cloud_requests_total", "counter", "HTTP requests to AWS, by service and status"},
    {"iasql_cloud_retries_total", "counter", "requests sent again after throttling or a failure"},
    {"iasql_cloud_throttles_total", "counter", "answers that asked the engine to slow down"},
    {"iasql_poll_duration_seconds", "gauge", "how long the last poll of a table took"},
    {"iasql_poll_requests_total", "counter", "requests the poller sent, by table"},
    {"iasql_poll_changes_total", "counter", "changes the poller brought in from the cloud"},
    {"iasql_tail_lag_seconds", "gauge", "seconds since the tail last read the audit log"},
    {"iasql_pending_changes", "gauge", "rows with changes not yet committed"},
    {"iasql_journal_size_bytes", "gauge", "size of the journal's data file"},
};

/* The series of family with labels (made when new); NULL when full. */
static series *find(const char *family, const char *labels)
{
    for (int i = 0; i < M.n; i++)
        if (M.s[i].family == family && strcmp(M.s[i].labels, labels) == 0)
            return &M.s[i];
    if (M.n == SERIES_MAX)
        return NULL;
    series *s = &M.s[M.n++];
    s->family = family;
    snprintf(s->labels, sizeof s->labels, "%s", labels);
    s->value = 0;
    return s;
}

static const char *family(const char *name)
{
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (strcmp(families[i].name, name) == 0)
            return families[i].name;
    return NULL;
}

static void put(const char *name, const char *labels, double v, bool add)
{
    const char *f = family(name);
    if (!f)
        return;
    pthread_mutex_lock(&M.mu);
    series *s = find(f, labels ? labels : "");
    if (s)
        s->value = add ? s->value + v : v;
    pthread_mutex_unlock(&M.mu);
}

void eng_metric_add(const char *name, const char *labels, double v)
{
    put(name, labels, v, true);
}

void eng_metric_set(const char *name, const char *labels, double v)
{
    put(name, labels, v, false);
}

/* A label value as Prometheus' text format quotes it. */
void eng_metric_label(char *out, size_t size, const char *key, const char *value)
{
    size_t n = (size_t)snprintf(out, size, "%s=\"", key);
    for (const char *p = value ? value : ""; *p && n + 3 < size; p++) {
        if (*p == '\\' || *p == '"')
            out[n++] = '\\';
        out[n++] = *p == '\n' ? ' ' : *p;
    }
    snprintf(out + (n < size ? n : size - 1), size - (n < size ? n : size - 1), "\"");
}

/* Every request the cloud client sends (aws_set_observer). */
static void on_request(const char *service, long status, bool retried, bool throttled)
{
    char svc[64], code[32], labels[160];
    eng_metric_label(svc, sizeof svc, "service", service);
    char num[16];
    snprintf(num, sizeof num, "%ld", status);
    eng_metric_label(code, sizeof code, "code", status ? num : "none");
    snprintf(labels, sizeof labels, "{%s,%s}", svc, code);
    eng_metric_add("iasql_cloud_requests_total", labels, 1);
    snprintf(labels, sizeof labels, "{%s}", svc);
    if (retried)
        eng_metric_add("iasql_cloud_retries_total", labels, 1);
    if (throttled)
        eng_metric_add("iasql_cloud_throttles_total", labels, 1);
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *data,
                             size_t *size, void **state)
{
    (void)cls, (void)version, (void)data, (void)size, (void)state;
    struct MHD_Response *r;
    enum MHD_Result ok;
    if (strcmp(method, "GET") != 0 || strcmp(url, "/metrics") != 0) {
        static const char nf[] = "only GET /metrics is served here\n";
        r = MHD_create_response_from_buffer(sizeof nf - 1, (void *)nf, MHD_RESPMEM_PERSISTENT);
        ok = MHD_queue_response(c, MHD_HTTP_NOT_FOUND, r);
        MHD_destroy_response(r);
        return ok;
    }
    int64_t read = __atomic_load_n(&M.tail_read_us, __ATOMIC_RELAXED);
    if (read)
        eng_metric_set("iasql_tail_lag_seconds", NULL, (double)(cm_mono_us() - read) / 1e6);
    char file[sizeof M.journal_file];
    pthread_mutex_lock(&M.mu);
    snprintf(file, sizeof file, "%s", M.journal_file);
    pthread_mutex_unlock(&M.mu);
    struct stat st;
    if (file[0] && stat(file, &st) == 0)
        eng_metric_set("iasql_journal_size_bytes", NULL, (double)st.st_size);
    cm_buf b;
    cm_buf_init(&b, (size_t)8 << 20);
    pthread_mutex_lock(&M.mu);
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        cm_buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
                      families[f].name, families[f].type);
        for (int i = 0; i < M.n; i++)
            if (M.s[i].family == families[f].name)
                cm_buf_printf(&b, "%s%s %.17g\n", M.s[i].family, M.s[i].labels, M.s[i].value);
    }
    pthread_mutex_unlock(&M.mu);
    size_t len = b.len; /* before the buffer is handed over */
    r = MHD_create_response_from_buffer(len, cm_buf_detach(&b), MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

void eng_metrics_journal(const char *dir)
{
    pthread_mutex_lock(&M.mu);
    snprintf(M.journal_file, sizeof M.journal_file, "%s/data.mdb", dir ? dir : "");
    pthread_mutex_unlock(&M.mu);
}

int eng_metrics_check(const char *addr, cm_err *err)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    long port = colon ? strtol(colon + 1, NULL, 10) : 0;
    snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - addr) : 0, addr);
    struct in_addr a;
    if (!colon || port < 1 || port > 65535 || inet_pton(AF_INET, host, &a) != 1)
        return cm_err_set(err, CM_EINVAL,
                          "--metrics takes an IPv4 address and a port (127.0.0.1:9464), not %s",
                          addr);
    return 0;
}

int eng_metrics_start(const char *addr, cm_err *err)
{
    int rc = eng_metrics_check(addr, err);
    if (rc)
        return rc;
    char host[64];
    const char *colon = strrchr(addr, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)strtol(colon + 1, NULL, 10))};
    inet_pton(AF_INET, host, &sa.sin_addr);
    eng_metric_set("iasql_up", NULL, 0);
    eng_metric_set("iasql_pending_changes", NULL, 0);
    eng_metric_set("iasql_tail_lag_seconds", NULL, 0);
    M.daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, ntohs(sa.sin_port), NULL, NULL,
                                serve, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                MHD_OPTION_CONNECTION_LIMIT, 16U, MHD_OPTION_CONNECTION_TIMEOUT,
                                10U, MHD_OPTION_END);
    if (!M.daemon)
        return cm_err_set(err, CM_ECONFIG,
                          "cannot serve metrics on %s Hint: Is the port in use? Pick another one.",
                          addr);
    aws_set_observer(on_request);
    cm_log(CM_LOG_INFO, "metrics at http://%s/metrics", addr);
    return 0;
}

void eng_metrics_stop(void)
{
    aws_set_observer(NULL);
    if (M.daemon)
        MHD_stop_daemon(M.daemon);
    M.daemon = NULL;
}
