/* modules/aws/aws_client.c — HTTP to AWS over libcurl: SigV4 through
 * CURLOPT_AWS_SIGV4, the payload hash header S3 requires, bounded retries
 * with full-jitter backoff, and the mapping of AWS answers to cm_err. Must
 * never log or return a credential. */
#include "modules/aws/aws.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "modules/aws/aws_xml.h"

#define AWS_MAX_ATTEMPTS 4
#define AWS_BACKOFF_BASE_MS 100
#define AWS_BACKOFF_CAP_MS 2000
#define AWS_RESPONSE_MAX ((size_t)32 << 20)

struct aws_client {
    CURL *curl;
    aws_creds creds;
    uint64_t creds_gen; /* of the shared credentials copied into creds */
    bool shared_creds;  /* false: the fixed ones of aws_client_new_with */
    aws_stats stats;
    unsigned int rand_state;
    bool background;
    aws_tape *recording; /* aws_client_record */
    /* Answers aws_client_replay fetched for pre_tape's requests; the next
     * requests are served from pre[pre_next..pre_n) while they match. */
    const aws_tape *pre_tape;
    aws_response *pre;
    size_t pre_n, pre_next;
};

static int global_init_done;

static int client_init(aws_client *c, cm_err *err)
{
    if (!global_init_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return cm_err_set(err, CM_ECONFIG, "libcurl failed to initialise");
        global_init_done = 1;
    }
    c->curl = curl_easy_init();
    if (!c->curl)
        return cm_err_set(err, CM_ENOMEM, "libcurl failed to create a handle");
    c->rand_state = (unsigned int)cm_mono_us();
    return 0;
}

int aws_client_new(aws_client **out, cm_err *err)
{
    *out = NULL;
    aws_client *c = calloc(1, sizeof *c);
    if (!c)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    c->shared_creds = true;
    int rc = aws_creds_get(&c->creds, &c->creds_gen, err);
    if (!rc)
        rc = client_init(c, err);
    if (rc) {
        aws_client_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int aws_client_new_with(aws_client **out, const aws_creds *creds, cm_err *err)
{
    *out = NULL;
    aws_client *c = calloc(1, sizeof *c);
    if (!c)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    int rc = 0;
    if (creds->access_key) {
        c->creds.access_key = strdup(creds->access_key);
        c->creds.secret_key = creds->secret_key ? strdup(creds->secret_key) : NULL;
        c->creds.session_token = creds->session_token ? strdup(creds->session_token) : NULL;
        if (!c->creds.access_key || !c->creds.secret_key ||
            (creds->session_token && !c->creds.session_token))
            rc = cm_err_set(err, CM_ENOMEM, "out of memory");
    }
    if (!rc)
        rc = client_init(c, err);
    if (rc) {
        aws_client_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void drop_answers(aws_client *c)
{
    for (size_t i = 0; i < c->pre_n; i++)
        aws_response_free(&c->pre[i]);
    free(c->pre);
    c->pre = NULL;
    c->pre_tape = NULL;
    c->pre_n = c->pre_next = 0;
}

void aws_client_free(aws_client *c)
{
    if (!c)
        return;
    drop_answers(c);
    if (c->curl)
        curl_easy_cleanup(c->curl);
    aws_creds_clear(&c->creds);
    free(c);
}

aws_stats aws_client_stats(const aws_client *c)
{
    return c->stats;
}

void aws_response_init(aws_response *r)
{
    memset(r, 0, sizeof *r);
    cm_buf_init(&r->body, AWS_RESPONSE_MAX);
}

void aws_response_free(aws_response *r)
{
    if (r)
        cm_buf_free(&r->body);
}

int aws_uri_encode(cm_buf *b, const char *s)
{
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
            rc = cm_buf_append(b, p, 1);
        else
            rc = cm_buf_printf(b, "%%%02X", *p);
    }
    return rc;
}

static bool env_true(const char *name)
{
    const char *v = getenv(name);
    return v && strcasecmp(v, "true") == 0;
}

int aws_endpoint(const char *service, const char *region, cm_buf *b, char *signing_region,
                 size_t size, cm_err *err)
{
    char scope[64];
    cm_buf resolved;
    cm_buf_init(&resolved, 4096);
    cm_err rerr = {0};
    /* The signing region is the partition's even when the URL is overridden
     * (an emulator, a VPC endpoint): AWS checks it. */
    int rrc = aws_resolve_endpoint(service, region, env_true("AWS_USE_FIPS_ENDPOINT"),
                                   env_true("AWS_USE_DUALSTACK_ENDPOINT"), &resolved, scope,
                                   sizeof scope, &rerr);
    if (signing_region)
        snprintf(signing_region, size, "%s", rrc ? region : scope);
    /* AWS_ENDPOINT_URL_<service id>, the id as botocore's model names it
     * ("CloudWatch Logs" -> CLOUDWATCH_LOGS) */
    char var[96] = "AWS_ENDPOINT_URL_";
    size_t n = strlen(var);
    aws_service_env_id(service, var + n, sizeof var - n);
    const char *url = getenv(var);
    if (!url || !*url)
        url = getenv("AWS_ENDPOINT_URL");
    int rc;
    if (url && *url) {
        size_t len = strlen(url);
        while (len && url[len - 1] == '/')
            len--;
        rc = cm_buf_append(b, url, len) ? cm_err_set(err, CM_ENOMEM, "out of memory") : 0;
    } else if (rrc) {
        rc = cm_err_set(err, rerr.code, "%s", rerr.msg);
    } else {
        rc =
            cm_buf_puts(b, cm_buf_str(&resolved)) ? cm_err_set(err, CM_ENOMEM, "out of memory") : 0;
    }
    cm_buf_free(&resolved);
    return rc;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    cm_buf *b = arg;
    size_t n = size * nmemb;
    return cm_buf_append(b, data, n) ? 0 : n;
}

static void hex(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Throttling and server-side failures worth another attempt. */
static bool retryable_code(const char *code)
{
    static const char *const codes[] = {"Throttling",
                                        "ThrottlingException",
                                        "ThrottledException",
                                        "RequestLimitExceeded",
                                        "SlowDown",
                                        "TooManyRequestsException",
                                        "RequestThrottled",
                                        "ProvisionedThroughputExceededException",
                                        "InternalError",
                                        "ServiceUnavailable",
                                        "RequestTimeout",
                                        "InternalFailure",
                                        NULL};
    for (int i = 0; codes[i]; i++)
        if (strcmp(code, codes[i]) == 0)
            return true;
    return false;
}

/* Decodes an error body of any protocol: XML (rest-xml, query, ec2) or JSON. */
static void decode_error(aws_response *resp)
{
    const char *body = cm_buf_str(&resp->body);
    size_t len = resp->body.len;
    while (len && isspace((unsigned char)*body)) {
        body++;
        len--;
    }
    if (len && *body == '<') {
        aws_xml_error(body, len, resp->code, sizeof resp->code, resp->message,
                      sizeof resp->message);
    } else if (len && *body == '{') {
        json_t *j = json_loadb(body, len, 0, NULL);
        const char *t = json_string_value(json_object_get(j, "__type"));
        const char *m = json_string_value(json_object_get(j, "message"));
        if (!m)
            m = json_string_value(json_object_get(j, "Message"));
        if (t) {
            const char *hash = strrchr(t, '#');
            snprintf(resp->code, sizeof resp->code, "%s", hash ? hash + 1 : t);
        }
        if (m)
            snprintf(resp->message, sizeof resp->message, "%s", m);
        json_decref(j);
    }
    /* botocore's rest-json parser: the header names the error, up to a ':' */
    if (resp->error_type[0])
        snprintf(resp->code, sizeof resp->code, "%.*s", (int)strcspn(resp->error_type, ":"),
                 resp->error_type);
    if (!resp->code[0])
        snprintf(resp->code, sizeof resp->code, "HTTP%ld", resp->status);
}

/* Keeps the one response header an error is read from. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    aws_response *resp = arg;
    size_t n = size * nmemb;
    static const char name[] = "x-amzn-errortype:";
    if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *v = data + sizeof name - 1;
        size_t len = n - (sizeof name - 1);
        while (len && (*v == ' ' || *v == '\t'))
            v++, len--;
        while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
            len--;
        snprintf(resp->error_type, sizeof resp->error_type, "%.*s", (int)len, v);
    }
    return n;
}

static bool sends_body(const aws_request *req)
{
    return req->body_len || strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0;
}

void aws_client_set_background(aws_client *c, bool background)
{
    c->background = background;
}

/* An answer that asks the client to slow down. */
static bool throttled_answer(const aws_response *resp)
{
    return resp->status == 429 || (resp->code[0] && strstr(resp->code, "hrottl")) ||
           strcmp(resp->code, "RequestLimitExceeded") == 0 || strcmp(resp->code, "SlowDown") == 0;
}

/* Full jitter; a throttled service cools down for every client at once. */
static void backoff(aws_client *c, const aws_request *req, const aws_response *resp, int attempt)
{
    long cap = AWS_BACKOFF_BASE_MS << attempt;
    if (cap > AWS_BACKOFF_CAP_MS)
        cap = AWS_BACKOFF_CAP_MS;
    long ms = (long)(rand_r(&c->rand_state) % (unsigned)(cap + 1));
    if (throttled_answer(resp))
        aws_gate_throttled(req->service, ms);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* 0 for a 2xx answer, else the error it carries. */
static int judge(aws_response *resp, cm_err *err)
{
    resp->code[0] = resp->message[0] = '\0';
    if (resp->status >= 200 && resp->status < 300)
        return 0;
    decode_error(resp);
    bool retry = resp->status >= 500 || resp->status == 429 || retryable_code(resp->code);
    int rc = cm_err_set(err, retry ? CM_ERETRY : CM_ECLOUD, "%s: %s", resp->code,
                        resp->message[0] ? resp->message : "no message");
    if (err)
        snprintf(err->cloud_code, sizeof err->cloud_code, "%s", resp->code);
    return rc;
}

/* libcurl (7.88) signs a path as it is sent; AWS signs every service's but
 * S3's URI-encoded once more, so that an escape in it ("%3A" in a Lambda
 * ARN) reads "%253A" in the canonical request. Such a request is signed
 * here instead (its query is canonical already: aws_call sorts and
 * encodes it). */
static bool signs_itself(const aws_request *req)
{
    return strcmp(req->service, "s3") != 0 && strchr(req->path, '%') != NULL;
}

static void hmac256(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n);
}

int aws_sigv4_authorization(const aws_creds *creds, const aws_request *req, const char *url,
                            const char *region, const char *date, cm_buf *out)
{
    char day[16];
    snprintf(day, sizeof day, "%.8s", date);
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t hlen = strcspn(host, "/?");
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char payload[2 * SHA256_DIGEST_LENGTH + 1], crhash[2 * SHA256_DIGEST_LENGTH + 1];
    SHA256(req->body ? req->body : (const void *)"", req->body_len, digest);
    hex(payload, digest, sizeof digest);
    cm_buf cr;
    cm_buf_init(&cr, 1 << 16);
    int rc = cm_buf_printf(&cr, "%s\n", req->method);
    /* the URL's path (an endpoint override may put a prefix before
     * req->path), every byte but the unreserved ones and '/' encoded */
    const char *path = host[hlen] == '/' ? host + hlen : "/";
    size_t plen = strcspn(path, "?");
    for (const char *p = path; !rc && p < path + plen; p++) {
        unsigned char ch = (unsigned char)*p;
        rc = isalnum(ch) || strchr("-_.~/", ch) ? cm_buf_append(&cr, p, 1)
                                                : cm_buf_printf(&cr, "%%%02X", ch);
    }
    const char *token = creds->session_token;
    if (!rc)
        rc = cm_buf_printf(&cr, "\n%s\nhost:%.*s\nx-amz-content-sha256:%s\nx-amz-date:%s\n",
                           req->query ? req->query : "", (int)hlen, host, payload, date);
    if (!rc && token)
        rc = cm_buf_printf(&cr, "x-amz-security-token:%s\n", token);
    const char *signed_headers = token ? "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
                                       : "host;x-amz-content-sha256;x-amz-date";
    if (!rc)
        rc = cm_buf_printf(&cr, "\n%s\n%s", signed_headers, payload);
    if (!rc) {
        SHA256((const unsigned char *)cm_buf_str(&cr), cr.len, digest);
        hex(crhash, digest, sizeof digest);
    }
    cm_buf_free(&cr);
    if (rc)
        return CM_ENOMEM;
    char sts[512], key[300];
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", date, day, region,
             req->service, crhash);
    unsigned char k[32];
    snprintf(key, sizeof key, "AWS4%s", creds->secret_key ? creds->secret_key : "");
    hmac256(key, strlen(key), day, k);
    hmac256(k, 32, region, k);
    hmac256(k, 32, req->service, k);
    hmac256(k, 32, "aws4_request", k);
    hmac256(k, 32, sts, k);
    OPENSSL_cleanse(key, sizeof key);
    char sig[65];
    hex(sig, k, 32);
    OPENSSL_cleanse(k, sizeof k);
    return cm_buf_printf(out,
                         "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
                         "SignedHeaders=%s, Signature=%s",
                         creds->access_key, day, region, req->service, signed_headers, sig);
}

/* The headers SigV4 adds (Host, X-Amz-Date, Authorization), signed now. */
static struct curl_slist *sign_request(const aws_client *c, const aws_request *req, const char *url,
                                       const char *scope, struct curl_slist *hs)
{
    char date[32], line[256];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    snprintf(line, sizeof line, "Host: %.*s", (int)strcspn(host, "/?"), host);
    hs = curl_slist_append(hs, line);
    snprintf(line, sizeof line, "X-Amz-Date: %s", date);
    hs = curl_slist_append(hs, line);
    cm_buf auth;
    cm_buf_init(&auth, 4096);
    cm_buf_puts(&auth, "Authorization: ");
    if (aws_sigv4_authorization(&c->creds, req, url, scope, date, &auth) == 0)
        hs = curl_slist_append(hs, cm_buf_str(&auth));
    cm_buf_free(&auth);
    return hs;
}

static int send_once(aws_client *c, const aws_request *req, const char *url, const char *scope,
                     struct curl_slist *headers, aws_response *resp, cm_err *err)
{
    CURL *h = c->curl;
    char sigv4[128];
    snprintf(sigv4, sizeof sigv4, "aws:amz:%s:%s", scope, req->service);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    struct curl_slist *own = NULL; /* headers plus our own signature */
    if (c->creds.access_key && signs_itself(req)) {
        for (struct curl_slist *e = headers; e; e = e->next)
            own = curl_slist_append(own, e->data);
        own = sign_request(c, req, url, scope, own);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, own ? own : headers);
    if (c->creds.access_key && !own) { /* else unsigned, or signed above */
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->creds.access_key);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->creds.secret_key);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (sends_body(req)) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
    }
    if (strcmp(req->method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    cm_buf_reset(&resp->body);
    resp->code[0] = resp->message[0] = resp->error_type[0] = '\0';
    c->stats.requests++;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 && !req->read_only)
        c->stats.mutating++;
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(own);
    if (cc != CURLE_OK) {
        resp->status = 0;
        if (cc == CURLE_WRITE_ERROR)
            return cm_err_set(err, CM_EBADREPLY, "the cloud's response exceeded %zu bytes",
                              (size_t)AWS_RESPONSE_MAX);
        return cm_err_set(err, CM_ENET, "%s %s: %s", req->method, url, curl_easy_strerror(cc));
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    return judge(resp, err);
}

static struct curl_slist *build_headers(aws_client *c, const aws_request *req)
{
    struct curl_slist *hs = NULL;
    char line[256];
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char hexd[2 * SHA256_DIGEST_LENGTH + 1];
    SHA256(req->body ? req->body : (const void *)"", req->body_len, digest);
    hex(hexd, digest, sizeof digest);
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", hexd);
    hs = curl_slist_append(hs, line);
    /* Never a header-removal entry ("Name:"): libcurl 7.88 puts those into
     * the SigV4 canonical headers although it does not send them, and the
     * signature no longer matches. A body always gets a stated type. */
    if (sends_body(req)) {
        snprintf(line, sizeof line, "Content-Type: %s",
                 req->content_type ? req->content_type : "application/octet-stream");
        hs = curl_slist_append(hs, line);
    }
    if (req->content_md5) {
        unsigned char md5[16];
        unsigned char b64[32];
        unsigned int mdlen = 0;
        EVP_Digest(req->body ? req->body : (const void *)"", req->body_len, md5, &mdlen, EVP_md5(),
                   NULL);
        EVP_EncodeBlock(b64, md5, (int)mdlen);
        snprintf(line, sizeof line, "Content-MD5: %s", b64);
        hs = curl_slist_append(hs, line);
    }
    if (req->target) {
        snprintf(line, sizeof line, "X-Amz-Target: %s", req->target);
        hs = curl_slist_append(hs, line);
    }
    if (c->creds.session_token) {
        cm_buf tok;
        cm_buf_init(&tok, 8192);
        cm_buf_printf(&tok, "x-amz-security-token: %s", c->creds.session_token);
        hs = curl_slist_append(hs, cm_buf_str(&tok));
        cm_buf_free(&tok);
    }
    return hs;
}

static void (*observer)(const char *service, long status, bool retried, bool throttled);

void aws_set_observer(void (*fn)(const char *service, long status, bool retried, bool throttled))
{
    __atomic_store_n(&observer, fn, __ATOMIC_RELEASE);
}

/* AWS's answers to temporary credentials that ran out. */
static bool expired_token(const char *code)
{
    return strcmp(code, "ExpiredToken") == 0 || strcmp(code, "ExpiredTokenException") == 0;
}

static int send_net(aws_client *c, const aws_request *req, aws_response *resp, cm_err *err)
{
    cm_buf url;
    cm_buf_init(&url, 16384);
    char scope[64];
    int rc = aws_endpoint(req->service, req->region, &url, scope, sizeof scope, err);
    if (rc) {
        cm_buf_free(&url);
        return rc;
    }
    rc = cm_buf_puts(&url, req->path);
    if (!rc && req->query && *req->query)
        rc = cm_buf_printf(&url, "?%s", req->query);
    if (rc) {
        cm_buf_free(&url);
        return cm_err_set(err, CM_EINVAL, "request URL too long");
    }
    struct curl_slist *headers = NULL;
    bool renewed = false;
    for (int attempt = 0;; attempt++) {
        /* the shared credentials, refreshed before they expire */
        if (c->shared_creds) {
            uint64_t before = c->creds_gen;
            rc = aws_creds_get(&c->creds, &c->creds_gen, err);
            if (rc)
                break;
            if (before != c->creds_gen) {
                curl_slist_free_all(headers);
                headers = NULL;
            }
        }
        if (!headers)
            headers = build_headers(c, req);
        aws_gate_enter(req->service, c->background);
        rc = send_once(c, req, cm_buf_str(&url), scope, headers, resp, err);
        void (*obs)(const char *, long, bool, bool) = __atomic_load_n(&observer, __ATOMIC_ACQUIRE);
        if (obs)
            obs(req->service, resp->status, attempt > 0, throttled_answer(resp));
        if (rc == CM_ECLOUD && c->shared_creds && !renewed && expired_token(resp->code) &&
            aws_creds_expired(c->creds_gen)) {
            renewed = true; /* once: new credentials, the same request */
            attempt--;
            continue;
        }
        if (!rc || !cm_err_retryable(rc) || attempt + 1 >= AWS_MAX_ATTEMPTS)
            break;
        c->stats.retries++;
        backoff(c, req, resp, attempt);
    }
    curl_slist_free_all(headers);
    cm_buf_free(&url);
    return rc;
}

int aws_send(aws_client *c, const aws_request *req, aws_response *resp, cm_err *err)
{
    int rc;
    if (c->pre_next < c->pre_n && aws_tape_matches(c->pre_tape, c->pre_next, req)) {
        aws_response *a = &c->pre[c->pre_next++];
        cm_buf b = resp->body;
        resp->body = a->body;
        a->body = b;
        resp->status = a->status;
        memcpy(resp->error_type, a->error_type, sizeof resp->error_type);
        rc = judge(resp, err);
    } else {
        drop_answers(c); /* the listing asks something else now */
        rc = send_net(c, req, resp, err);
    }
    aws_tape_record(c->recording, req, resp, rc);
    return rc;
}

void aws_client_record(aws_client *c, aws_tape *tape)
{
    c->recording = tape;
}

bool aws_client_replay(aws_client *c, const aws_tape *tape)
{
    drop_answers(c);
    if (!aws_tape_usable(tape))
        return false;
    size_t n = aws_tape_len(tape);
    c->pre = calloc(n, sizeof *c->pre);
    if (!c->pre)
        return false;
    c->pre_tape = tape;
    for (size_t i = 0; i < n; i++) {
        aws_request req = aws_tape_request(tape, i);
        aws_response *a = &c->pre[i];
        aws_response_init(a);
        c->pre_n = i + 1;
        cm_err err = {0};
        int rc = send_net(c, &req, a, &err);
        unsigned char d[32];
        if (rc && rc != CM_ECLOUD) {
            /* No answer: the listing that follows asks again and reports it. */
            c->pre_n = i;
            aws_response_free(a);
            return false;
        }
        aws_tape_digest(a, rc, d);
        if (!aws_tape_same(tape, i, d))
            return false; /* answers 0..i serve the listing */
    }
    drop_answers(c);
    return true;
}

int aws_json_call(aws_client *c, const char *service, const char *region, const char *target,
                  const char *content_type, const json_t *body, json_t **out, cm_err *err)
{
    *out = NULL;
    const char *dot = strrchr(target, '.'), *ver = strrchr(content_type, '-');
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%.*s", dot ? (int)(dot - target) : 0, target);
    aws_service svc = {.signing_name = service,
                       .protocol = AWS_PROTO_JSON,
                       .json_version = ver ? ver + 1 : "1.1",
                       .target_prefix = prefix};
    aws_operation op = {.name = dot ? dot + 1 : target};
    aws_answer a;
    int rc = aws_call(c, &svc, &op, region, body, &a, err);
    *out = a.json;
    return rc;
}

int aws_query_call_text(aws_client *c, const char *service, const char *region, const char *version,
                        const char *action, const json_t *params, char **text, size_t *len,
                        cm_err *err)
{
    *text = NULL;
    *len = 0;
    aws_service svc = {
        .signing_name = service, .protocol = AWS_PROTO_QUERY, .api_version = version};
    aws_operation op = {.name = action, .raw_answer = true};
    aws_answer a;
    int rc = aws_call(c, &svc, &op, region, params, &a, err);
    if (!rc) {
        *text = a.text;
        *len = a.text_len;
        a.text = NULL;
    }
    aws_answer_free(&a);
    return rc;
}

int aws_query_call(aws_client *c, const char *service, const char *region, const char *version,
                   const char *action, const json_t *params, xmlDocPtr *out, cm_err *err)
{
    *out = NULL;
    aws_service svc = {
        .signing_name = service, .protocol = AWS_PROTO_QUERY, .api_version = version};
    aws_operation op = {.name = action};
    aws_answer a;
    int rc = aws_call(c, &svc, &op, region, params, &a, err);
    if (!rc && !a.xml)
        rc = aws_xml_parse(&a.xml, "", 0, err); /* an empty answer is malformed here */
    *out = a.xml;
    return rc;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

char *aws_uri_decode(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}
