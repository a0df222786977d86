/* modules/aws/aws_cred_fetch.c — how each credential source gets fresh
 * credentials: STS (AssumeRole, AssumeRoleWithWebIdentity), a
 * credential_process, the container endpoint (ECS, EKS Pod Identity) and
 * EC2 instance metadata (IMDSv2). Nothing fetched here is ever logged or
 * put in an error: errors name the source, the URL and the status. */
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "modules/aws/aws_cred.h"
#include "modules/aws/aws_xml.h"

extern char **environ;

#define CRED_BODY_MAX 65536
#define PROCESS_TIMEOUT_MS 60000

void aws_src_free(aws_src *s)
{
    if (!s)
        return;
    aws_creds_clear(&s->keys);
    free(s->role_arn);
    free(s->session_name);
    free(s->external_id);
    free(s->token_file);
    free(s->region);
    aws_src_free(s->inner);
    free(s->command);
    free(s->url);
    aws_wipe_free(s->auth_token);
    free(s->auth_token_file);
    free(s);
}

time_t aws_parse_time(const char *s)
{
    if (!s)
        return -1;
    int y, mo, d, h, mi, sec, n = 0;
    char sep;
    if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &sec, &n) != 7 ||
        (sep != 'T' && sep != 't' && sep != ' ') || mo < 1 || mo > 12 || d < 1 || d > 31 ||
        h > 23 || mi > 59 || sec > 60)
        return -1;
    const char *p = s + n;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 &&
            sscanf(p + 1, "%2d%2d%n", &oh, &om, &k) != 2)
            return -1;
        off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 1 + k;
    } else {
        return -1; /* a time without a zone is ambiguous */
    }
    if (*p)
        return -1;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    return timegm(&tm) - off;
}

/* Fills out from three strings of an answer; the key and secret are required. */
static int take_keys(aws_creds *out, const char *ak, const char *sk, const char *tok,
                     const char *what, cm_err *err)
{
    if (!ak || !*ak || !sk || !*sk)
        return cm_err_set(err, CM_EBADREPLY, "%s: the answer lacks an access key id or secret",
                          what);
    out->access_key = strdup(ak);
    out->secret_key = strdup(sk);
    out->session_token = tok && *tok ? strdup(tok) : NULL;
    if (!out->access_key || !out->secret_key || (tok && *tok && !out->session_token)) {
        aws_creds_clear(out);
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    }
    return 0;
}

static int take_expiry(const char *exp, time_t *expires, const char *what, cm_err *err)
{
    *expires = 0;
    if (!exp || !*exp)
        return 0;
    *expires = aws_parse_time(exp);
    if (*expires < 0)
        return cm_err_set(err, CM_EBADREPLY, "%s: the expiration \"%.64s\" is not an ISO 8601 time",
                          what, exp);
    return 0;
}

/* The answer of the container endpoint and of instance metadata. */
static int creds_json(const char *body, size_t len, const char *tok_key, aws_creds *out,
                      time_t *expires, const char *what, cm_err *err)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return cm_err_set(err, CM_EBADREPLY, "%s: the answer is not a JSON object", what);
    }
    const char *code = json_string_value(json_object_get(j, "Code"));
    int rc = 0;
    if (code && strcmp(code, "Success") != 0)
        rc = cm_err_set(err, CM_ECLOUD, "%s: the answer's Code is %.64s", what, code);
    if (!rc)
        rc = take_keys(out, json_string_value(json_object_get(j, "AccessKeyId")),
                       json_string_value(json_object_get(j, "SecretAccessKey")),
                       json_string_value(json_object_get(j, tok_key)), what, err);
    if (!rc) {
        rc = take_expiry(json_string_value(json_object_get(j, "Expiration")), expires, what, err);
        if (rc)
            aws_creds_clear(out);
    }
    json_decref(j);
    return rc;
}

int aws_process_output(const char *text, size_t len, aws_creds *out, time_t *expires, cm_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *j = json_loadb(text, len, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return cm_err_set(err, CM_EBADREPLY, "credential_process: its output is not a JSON object");
    }
    int rc = 0;
    json_t *v = json_object_get(j, "Version");
    if (!json_is_integer(v) || json_integer_value(v) != 1)
        rc = cm_err_set(err, CM_EBADREPLY,
                        "credential_process: its output's Version is not 1, the only one known");
    if (!rc)
        rc = take_keys(out, json_string_value(json_object_get(j, "AccessKeyId")),
                       json_string_value(json_object_get(j, "SecretAccessKey")),
                       json_string_value(json_object_get(j, "SessionToken")), "credential_process",
                       err);
    if (!rc) {
        rc = take_expiry(json_string_value(json_object_get(j, "Expiration")), expires,
                         "credential_process", err);
        if (rc)
            aws_creds_clear(out);
    }
    json_decref(j);
    return rc;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    size_t n = size * nmemb;
    return cm_buf_append(arg, data, n) ? 0 : n;
}

/* One plain HTTP request (no signing) with short timeouts. */
static int http_call(const char *method, const char *url, struct curl_slist *headers, long total_ms,
                     long *status, cm_buf *body, cm_err *err)
{
    CURL *h = curl_easy_init();
    if (!h)
        return cm_err_set(err, CM_ENOMEM, "libcurl failed to create a handle");
    cm_buf_reset(body);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, total_ms < 1000 ? total_ms : 1000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* link-local endpoints are never proxied */
    CURLcode cc = curl_easy_perform(h);
    int rc = 0;
    if (cc != CURLE_OK)
        rc = cm_err_set(err, CM_ENET, "%s %s: %s", method, url,
                        cc == CURLE_WRITE_ERROR ? "answer too large" : curl_easy_strerror(cc));
    else
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    return rc;
}

/* --- STS ---------------------------------------------------------------- */

static int sts_call(const aws_creds *signer, const char *region, const char *action, json_t *params,
                    aws_creds *out, time_t *expires, cm_err *err)
{
    aws_creds anon = {0};
    aws_client *c;
    int rc = aws_client_new_with(&c, signer ? signer : &anon, err);
    if (rc)
        return rc;
    xmlDocPtr doc = NULL;
    rc = aws_query_call(c, "sts", region, "2011-06-15", action, params, &doc, err);
    aws_client_free(c);
    if (rc) {
        cm_err inner = *err;
        return cm_err_set(err, rc, "STS %s: %s", action, inner.msg);
    }
    char result[96];
    snprintf(result, sizeof result, "%sResult/Credentials", action);
    xmlNodePtr cr = aws_xml_path(xmlDocGetRootElement(doc), result);
    char ak[256], sk[256], exp[64];
    char *tok = malloc(8192);
    if (!tok) {
        xmlFreeDoc(doc);
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    }
    char what[64];
    snprintf(what, sizeof what, "STS %s", action);
    bool have = cr && aws_xml_child_text(cr, "AccessKeyId", ak, sizeof ak) &&
                aws_xml_child_text(cr, "SecretAccessKey", sk, sizeof sk);
    if (cr) {
        aws_xml_child_text(cr, "SessionToken", tok, 8192);
        aws_xml_child_text(cr, "Expiration", exp, sizeof exp);
    }
    rc = have ? take_keys(out, ak, sk, tok, what, err)
              : cm_err_set(err, CM_EBADREPLY, "%s: the answer holds no Credentials", what);
    if (!rc && (rc = take_expiry(exp, expires, what, err)))
        aws_creds_clear(out);
    memset(sk, 0, sizeof sk);
    memset(tok, 0, 8192);
    free(tok);
    xmlFreeDoc(doc);
    return rc;
}

static const char *src_region(const aws_src *s)
{
    return s->region ? s->region : aws_default_region();
}

static void session_name(const aws_src *s, char *out, size_t size)
{
    if (s->session_name)
        snprintf(out, size, "%s", s->session_name);
    else
        snprintf(out, size, "iasql-%lld", (long long)time(NULL));
}

/* Reads a token file whole, trailing whitespace cut. */
static char *read_token(const char *path, const char *what, cm_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cm_err_set(err, CM_ECONFIG, "%s: cannot read the token file %s: %s", what, path,
                   strerror(errno));
        return NULL;
    }
    cm_buf b;
    cm_buf_init(&b, CRED_BODY_MAX);
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = cm_buf_append(&b, chunk, n);
    fclose(f);
    memset(chunk, 0, sizeof chunk);
    while (!rc && b.len && isspace((unsigned char)b.data[b.len - 1]))
        b.data[--b.len] = '\0';
    if (rc || !b.len) {
        cm_err_set(err, CM_ECONFIG, "%s: the token file %s is %s", what, path,
                   rc ? "larger than 64 KB" : "empty");
        if (b.data)
            memset(b.data, 0, b.len);
        cm_buf_free(&b);
        return NULL;
    }
    char *tok = strdup(cm_buf_str(&b));
    memset(b.data, 0, b.len);
    cm_buf_free(&b);
    if (!tok)
        cm_err_set(err, CM_ENOMEM, "out of memory");
    return tok;
}

static int fetch_web_identity(const aws_src *s, aws_creds *out, time_t *expires, cm_err *err)
{
    char *tok = read_token(s->token_file, "web identity", err);
    if (!tok)
        return err->code;
    char name[80];
    session_name(s, name, sizeof name);
    json_t *p = json_pack("{s:s, s:s, s:s}", "RoleArn", s->role_arn, "RoleSessionName", name,
                          "WebIdentityToken", tok);
    if (p && s->duration_s)
        json_object_set_new(p, "DurationSeconds", json_integer(s->duration_s));
    int rc = p ? sts_call(NULL, src_region(s), "AssumeRoleWithWebIdentity", p, out, expires, err)
               : cm_err_set(err, CM_ENOMEM, "out of memory");
    json_decref(p);
    aws_wipe_free(tok);
    return rc;
}

static int fetch_assume_role(const aws_src *s, aws_creds *out, time_t *expires, cm_err *err)
{
    aws_creds signer = {0};
    time_t inner_exp;
    int rc = aws_src_fetch(s->inner, &signer, &inner_exp, err);
    if (rc)
        return rc;
    char name[80];
    session_name(s, name, sizeof name);
    json_t *p = json_pack("{s:s, s:s}", "RoleArn", s->role_arn, "RoleSessionName", name);
    if (p && s->external_id)
        json_object_set_new(p, "ExternalId", json_string(s->external_id));
    if (p && s->duration_s)
        json_object_set_new(p, "DurationSeconds", json_integer(s->duration_s));
    rc = p ? sts_call(&signer, src_region(s), "AssumeRole", p, out, expires, err)
           : cm_err_set(err, CM_ENOMEM, "out of memory");
    json_decref(p);
    aws_creds_clear(&signer);
    return rc;
}

/* --- credential_process ------------------------------------------------- */

static int fetch_process(const aws_src *s, aws_creds *out, time_t *expires, cm_err *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC))
        return cm_err_set(err, CM_ECONFIG, "credential_process: pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    char *argv[] = {"/bin/sh", "-c", s->command, NULL};
    pid_t pid;
    int sp = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (sp) {
        close(fds[0]);
        return cm_err_set(err, CM_ECONFIG, "credential_process: cannot start /bin/sh: %s",
                          strerror(sp));
    }
    cm_buf b;
    cm_buf_init(&b, CRED_BODY_MAX);
    int64_t deadline = cm_mono_us() + (int64_t)PROCESS_TIMEOUT_MS * 1000;
    int rc = 0;
    for (;;) {
        int64_t left = (deadline - cm_mono_us()) / 1000;
        struct pollfd pf = {.fd = fds[0], .events = POLLIN};
        int pr = left > 0 ? poll(&pf, 1, (int)left) : 0;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            rc = cm_err_set(err, CM_ECONFIG, "credential_process: no answer within %d s",
                            PROCESS_TIMEOUT_MS / 1000);
            kill(pid, SIGKILL);
            break;
        }
        char chunk[4096];
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (cm_buf_append(&b, chunk, (size_t)n)) {
            rc = cm_err_set(err, CM_EBADREPLY, "credential_process: output larger than 64 KB");
            kill(pid, SIGKILL);
            break;
        }
        memset(chunk, 0, sizeof chunk);
    }
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!rc && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        rc = WIFEXITED(st)
                 ? cm_err_set(err, CM_ECONFIG,
                              "credential_process: the command exited with status %d",
                              WEXITSTATUS(st))
                 : cm_err_set(err, CM_ECONFIG, "credential_process: the command died of signal %d",
                              WTERMSIG(st));
    if (!rc)
        rc = aws_process_output(b.data ? b.data : "", b.len, out, expires, err);
    if (b.data)
        memset(b.data, 0, b.len);
    cm_buf_free(&b);
    return rc;
}

/* --- the container endpoint --------------------------------------------- */

int aws_container_url(char *out, size_t size, cm_err *err)
{
    const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    out[0] = '\0';
    if (rel && *rel)
        snprintf(out, size, "http://169.254.170.2%s%s", *rel == '/' ? "" : "/", rel);
    else if (full && *full)
        snprintf(out, size, "%s", full);
    else
        return cm_err_set(err, CM_ENOTFOUND,
                          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI are not set");
    if (!aws_container_url_allowed(out))
        return cm_err_set(err, CM_ECONFIG,
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI %s is neither https nor http to a "
                          "loopback address or the ECS or EKS link-local host",
                          out);
    return 0;
}

/* 127.0.0.0/8 as a literal address (not a name that starts with "127."). */
static bool is_loopback_v4(const char *host)
{
    struct in_addr a;
    return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool aws_container_url_allowed(const char *url)
{
    CURLU *u = curl_url();
    if (!u)
        return false;
    char *scheme = NULL, *host = NULL;
    bool ok = false;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (strcasecmp(scheme, "https") == 0)
            ok = true;
        else if (strcasecmp(scheme, "http") == 0)
            ok = is_loopback_v4(host) || strcasecmp(host, "localhost") == 0 ||
                 strcmp(host, "[::1]") == 0 || strcmp(host, "169.254.170.2") == 0 ||
                 strcmp(host, "169.254.170.23") == 0 || strcasecmp(host, "[fd00:ec2::23]") == 0;
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

static int fetch_container(const aws_src *s, aws_creds *out, time_t *expires, cm_err *err)
{
    char *tok = NULL;
    if (s->auth_token_file) {
        if (!(tok = read_token(s->auth_token_file, "container credentials", err)))
            return err->code;
    } else if (s->auth_token && !(tok = strdup(s->auth_token))) {
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    }
    struct curl_slist *hs = curl_slist_append(NULL, "Accept: application/json");
    if (tok) {
        cm_buf line;
        cm_buf_init(&line, CRED_BODY_MAX + 64);
        cm_buf_printf(&line, "Authorization: %s", tok);
        hs = curl_slist_append(hs, cm_buf_str(&line));
        memset(line.data, 0, line.len);
        cm_buf_free(&line);
        aws_wipe_free(tok);
    }
    cm_buf body;
    cm_buf_init(&body, CRED_BODY_MAX);
    long status = 0;
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) { /* the endpoint may be starting */
        rc = http_call("GET", s->url, hs, 5000, &status, &body, err);
        if (!rc && status < 500)
            break;
    }
    curl_slist_free_all(hs);
    if (!rc && status != 200)
        rc = cm_err_set(err, CM_ECLOUD, "container credentials: GET %s answered HTTP %ld", s->url,
                        status);
    if (!rc)
        rc = creds_json(body.data ? body.data : "", body.len, "Token", out, expires,
                        "container credentials", err);
    if (body.data)
        memset(body.data, 0, body.len);
    cm_buf_free(&body);
    return rc;
}

/* --- EC2 instance metadata ---------------------------------------------- */

static int fetch_imds(const aws_src *s, aws_creds *out, time_t *expires, cm_err *err)
{
    char url[1024], tok[512] = "", line[600];
    cm_buf body;
    cm_buf_init(&body, CRED_BODY_MAX);
    long status = 0;
    snprintf(url, sizeof url, "%s/latest/api/token", s->url);
    struct curl_slist *hs = curl_slist_append(NULL, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
    int rc = http_call("PUT", url, hs, 2000, &status, &body, err);
    curl_slist_free_all(hs);
    hs = NULL;
    if (!rc && status == 200 && body.len && body.len < sizeof tok) {
        snprintf(tok, sizeof tok, "%s", cm_buf_str(&body));
        snprintf(line, sizeof line, "X-aws-ec2-metadata-token: %s", tok);
        hs = curl_slist_append(NULL, line);
    } else if (!rc && status == 403) {
        rc = cm_err_set(err, CM_ECONFIG,
                        "instance metadata: PUT %s answered HTTP 403 (the "
                        "instance's metadata service is disabled)",
                        url);
    } else if (!rc && status != 404 && status != 405) { /* those: IMDSv1 only */
        rc = cm_err_set(err, CM_ECLOUD, "instance metadata: PUT %s answered HTTP %ld", url, status);
    }
    char role[256] = "";
    if (!rc) {
        snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/", s->url);
        rc = http_call("GET", url, hs, 2000, &status, &body, err);
        if (!rc && status == 404)
            rc = cm_err_set(err, CM_ENOTFOUND,
                            "instance metadata: GET %s answered HTTP 404 (the instance has no "
                            "instance profile)",
                            url);
        else if (!rc && status != 200)
            rc = cm_err_set(err, CM_ECLOUD, "instance metadata: GET %s answered HTTP %ld", url,
                            status);
        if (!rc) {
            const char *b = cm_buf_str(&body);
            size_t n = strcspn(b, "\r\n");
            if (!n || n >= sizeof role || strchr(b, '/'))
                rc = cm_err_set(err, CM_EBADREPLY, "instance metadata: no role name at %s", url);
            else
                snprintf(role, sizeof role, "%.*s", (int)n, b);
        }
    }
    if (!rc) {
        cm_buf u;
        cm_buf_init(&u, sizeof url);
        int erc = cm_buf_printf(&u, "%s/latest/meta-data/iam/security-credentials/", s->url);
        if (!erc)
            erc = aws_uri_encode(&u, role);
        snprintf(url, sizeof url, "%s", erc ? "" : cm_buf_str(&u));
        cm_buf_free(&u);
        rc = erc ? cm_err_set(err, CM_ECONFIG, "instance metadata: URL too long")
                 : http_call("GET", url, hs, 2000, &status, &body, err);
        if (!rc && status != 200)
            rc = cm_err_set(err, CM_ECLOUD, "instance metadata: GET %s answered HTTP %ld", url,
                            status);
        if (!rc)
            rc = creds_json(body.data ? body.data : "", body.len, "Token", out, expires,
                            "instance metadata", err);
    }
    curl_slist_free_all(hs);
    memset(tok, 0, sizeof tok);
    memset(line, 0, sizeof line);
    if (body.data)
        memset(body.data, 0, body.len);
    cm_buf_free(&body);
    return rc;
}

int aws_src_fetch(const aws_src *s, aws_creds *out, time_t *expires, cm_err *err)
{
    memset(out, 0, sizeof *out);
    *expires = 0;
    switch (s->kind) {
    case AWS_SRC_STATIC:
        return take_keys(out, s->keys.access_key, s->keys.secret_key, s->keys.session_token,
                         s->desc, err);
    case AWS_SRC_WEB_IDENTITY:
        return fetch_web_identity(s, out, expires, err);
    case AWS_SRC_ASSUME_ROLE:
        return fetch_assume_role(s, out, expires, err);
    case AWS_SRC_PROCESS:
        return fetch_process(s, out, expires, err);
    case AWS_SRC_CONTAINER:
        return fetch_container(s, out, expires, err);
    case AWS_SRC_IMDS:
        return fetch_imds(s, out, expires, err);
    }
    return cm_err_set(err, CM_EINVAL, "unknown credential source");
}
