/* tests/integration/it_cloud.c — see it_util.h: an independent look at the
 * cloud with plain HTTP (never through the engine's client), and the XML
 * and tag readers the tests check its answers with. */
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

typedef struct body {
    char *p;
    size_t n;
} body;

static size_t on_data(char *d, size_t s, size_t m, void *arg)
{
    body *b = arg;
    size_t n = s * m;
    char *p = realloc(b->p, b->n + n + 1);
    if (!p)
        return 0;
    memcpy(p + b->n, d, n);
    b->p = p;
    b->n += n;
    p[b->n] = '\0';
    return n;
}

long it_http(const char *method, const char *url, const char *data, const char **out)
{
    const char *kind = getenv("IT_EMULATOR_KIND");
    return it_http_as(kind && strcmp(kind, "moto") == 0 ? "s3" : NULL, method, url, data, out);
}

long it_http_as(const char *service, const char *method, const char *url, const char *data,
                const char **out)
{
    return it_http_full(service, NULL, method, url, data, out);
}

static char http_region[32] = "us-east-1";

void it_http_set_region(const char *region)
{
    snprintf(http_region, sizeof http_region, "%s", region);
}

long it_http_full(const char *service, const char *extra_header, const char *method,
                  const char *url, const char *data, const char **out)
{
    static char *last;
    free(last);
    last = NULL;
    CURL *h = curl_easy_init();
    body b = {NULL, 0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    if (data) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(data));
    }
    struct curl_slist *hs = curl_slist_append(NULL, "Expect:");
    /* moto routes a request to a service by the credential scope of its
     * Authorization header, and refuses some unsigned calls (DELETE of an
     * object); with signature checking off it takes any signature. */
    if (service) {
        char auth[256];
        snprintf(auth, sizeof auth,
                 "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/%s/%s/"
                 "aws4_request, SignedHeaders=host, Signature=0",
                 http_region, service);
        hs = curl_slist_append(hs, auth);
        hs = curl_slist_append(hs, "X-Amz-Date: 20260101T000000Z"); /* dynalite wants one */
    }
    /* extra_header may hold several headers, one per line */
    for (const char *h = extra_header; h && *h;) {
        const char *end = strchr(h, '\n');
        size_t len = end ? (size_t)(end - h) : strlen(h);
        char one[512];
        snprintf(one, sizeof one, "%.*s", (int)len, h);
        hs = curl_slist_append(hs, one);
        h = end ? end + 1 : h + len;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    last = b.p ? b.p : strdup("");
    if (out)
        *out = last;
    return status;
}

int it_cloud_count_prefix(const char *emulator, const char *prefix)
{
    char url[512], needle[300];
    snprintf(url, sizeof url, "%s/", emulator);
    const char *body;
    if (it_http("GET", url, NULL, &body) != 200)
        return -1;
    snprintf(needle, sizeof needle, "<Name>%s", prefix);
    int n = 0;
    for (const char *p = strstr(body, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

bool it_cloud_has_bucket(const char *emulator, const char *name)
{
    char url[512], needle[300];
    snprintf(url, sizeof url, "%s/", emulator);
    const char *body;
    if (it_http("GET", url, NULL, &body) != 200)
        return false;
    snprintf(needle, sizeof needle, "<Name>%s</Name>", name);
    return strstr(body, needle) != NULL;
}

json_t *it_aws_json(it_env *e, const char *service, const char *version, const char *target,
                    json_t *body, long *status)
{
    char url[512], hdr[256];
    snprintf(url, sizeof url, "%s/", e->emulator);
    snprintf(hdr, sizeof hdr, "X-Amz-Target: %s\nContent-Type: application/x-amz-json-%s", target,
             version);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    const char *reply;
    long st = it_http_full(service, hdr, "POST", url, text, &reply);
    free(text);
    if (status)
        *status = st;
    json_t *j = json_loads(reply, 0, NULL);
    return j ? j : json_object();
}

char *it_tag_value(const json_t *list, const char *key)
{
    size_t i;
    json_t *tag;
    json_array_foreach(list, i, tag)
    {
        const char *k = json_string_value(json_object_get(tag, "Key"));
        const char *v = json_string_value(json_object_get(tag, "Value"));
        if (k && v && strcmp(k, key) == 0)
            return strdup(v);
    }
    return strdup("");
}

long it_aws_query(it_env *e, const char *service, const char *form, const char **out)
{
    char url[512];
    snprintf(url, sizeof url, "%s/", e->emulator);
    return it_http_full(service, "Content-Type: application/x-www-form-urlencoded", "POST", url,
                        form, out);
}

char *it_queryv(it_env *e, const char *service, const char *version, long *status, const char *fmt,
                va_list ap)
{
    char form[4096];
    int n = snprintf(form, sizeof form, "Version=%s&", version);
    vsnprintf(form + n, sizeof form - (size_t)n, fmt, ap);
    const char *out;
    long st = it_aws_query(e, service, form, &out);
    if (status)
        *status = st;
    else if (st != 200)
        fail_msg("%s %s: HTTP %ld %s", service, form, st, out ? out : "");
    return strdup(out ? out : "");
}

char *it_queryf(it_env *e, const char *service, const char *version, long *status, const char *fmt,
                ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = it_queryv(e, service, version, status, fmt, ap);
    va_end(ap);
    return out;
}

char *it_ec2v(it_env *e, long *status, const char *fmt, va_list ap)
{
    char form[4096] = "Version=2016-11-15&";
    vsnprintf(form + strlen(form), sizeof form - strlen(form), fmt, ap);
    const char *out;
    long st = it_aws_query(e, "ec2", form, &out);
    if (st != 200)
        fprintf(stderr, "EC2 %s: %ld %s\n", form, st, out);
    if (status)
        *status = st;
    return strdup(out ? out : "");
}

char *it_ec2(it_env *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = it_ec2v(e, NULL, fmt, ap);
    va_end(ap);
    return out;
}

/* The text between the end of the element that starts at open and its
 * closing tag, copied to a static buffer. */
static const char *element_text(const char *open, const char *tag)
{
    static char buf[8192];
    const char *start = strchr(open, '>');
    if (!start)
        return NULL;
    start++;
    char close[128];
    snprintf(close, sizeof close, "</%s>", tag);
    const char *end = strstr(start, close);
    if (!end)
        return NULL;
    snprintf(buf, sizeof buf, "%.*s", (int)(end - start), start);
    return buf;
}

const char *it_xml_text(const char *xml, const char *tag)
{
    char open[128];
    snprintf(open, sizeof open, "<%s>", tag);
    const char *at = xml ? strstr(xml, open) : NULL;
    return at ? element_text(at, tag) : NULL;
}

const char *it_xml_entry(const char *xml, const char *key)
{
    char k[256];
    snprintf(k, sizeof k, "<key>%s</key>", key);
    const char *at = xml ? strstr(xml, k) : NULL;
    if (!at)
        return NULL;
    const char *v = strstr(at + strlen(k), "<value");
    return v ? element_text(v, "value") : NULL;
}

json_t *it_cloud_queue(it_env *e, const char *name)
{
    long st;
    json_t *u = it_aws_json(e, "sqs", "1.0", "AmazonSQS.GetQueueUrl",
                            json_pack("{s:s}", "QueueName", name), &st);
    if (st != 200) {
        json_decref(u);
        return NULL;
    }
    const char *url = json_string_value(json_object_get(u, "QueueUrl"));
    json_t *a =
        it_aws_json(e, "sqs", "1.0", "AmazonSQS.GetQueueAttributes",
                    json_pack("{s:s, s:[s]}", "QueueUrl", url, "AttributeNames", "All"), NULL);
    json_t *t = it_aws_json(e, "sqs", "1.0", "AmazonSQS.ListQueueTags",
                            json_pack("{s:s}", "QueueUrl", url), NULL);
    json_t *out = json_incref(json_object_get(a, "Attributes"));
    json_object_set(out, "tags",
                    json_object_get(t, "Tags") ? json_object_get(t, "Tags") : json_object());
    json_decref(u);
    json_decref(a);
    json_decref(t);
    return out;
}

json_t *it_cloud_log_group(it_env *e, const char *name)
{
    long st;
    json_t *r = it_aws_json(e, "logs", "1.1", "Logs_20140328.DescribeLogGroups",
                            json_pack("{s:s}", "logGroupNamePrefix", name), &st);
    if (st != 200)
        fail_msg("DescribeLogGroups: HTTP %ld", st);
    json_t *found = NULL;
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(r, "logGroups"), i, g)
    {
        if (strcmp(json_string_value(json_object_get(g, "logGroupName")), name) == 0)
            found = json_incref(g);
    }
    json_decref(r);
    return found;
}
