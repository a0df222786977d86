/* modules/aws/aws_call.c — one request/response description for the five
 * protocols botocore names: an operation of a service (aws_service,
 * aws_operation) and its input as JSON become the HTTP request its
 * protocol wants, and the answer comes back as JSON (json, rest-json) or
 * XML (query, ec2, rest-xml). aws_json_call and aws_query_call are this
 * with their protocol fixed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/aws/aws.h"
#include "modules/aws/aws_xml.h"

void aws_answer_free(aws_answer *a)
{
    if (!a)
        return;
    json_decref(a->json);
    if (a->xml)
        xmlFreeDoc(a->xml);
    free(a->text);
    a->json = NULL;
    a->xml = NULL;
    a->text = NULL;
    a->text_len = 0;
}

/* Actions that only read, by AWS's naming. */
static bool read_only_name(const char *op)
{
    return strncmp(op, "Describe", 8) == 0 || strncmp(op, "List", 4) == 0 ||
           strncmp(op, "Get", 3) == 0 || strncmp(op, "Head", 4) == 0;
}

static int scalar_text(const json_t *v, char *num, size_t size, const char **out)
{
    if (json_is_string(v))
        *out = json_string_value(v);
    else if (json_is_integer(v))
        snprintf(num, size, "%lld", (long long)json_integer_value(v)), *out = num;
    else if (json_is_boolean(v))
        *out = json_is_true(v) ? "true" : "false";
    else
        return CM_EINVAL;
    return 0;
}

typedef struct kv {
    char *k, *v; /* both encoded */
} kv;

static int by_key(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

static char *encoded(const char *s)
{
    cm_buf b;
    cm_buf_init(&b, 0);
    if (aws_uri_encode(&b, s) || cm_buf_puts(&b, "")) {
        cm_buf_free(&b);
        return NULL;
    }
    return cm_buf_detach(&b);
}

/* The template's own query ("?tagging", "?list-type=2") plus the members
 * of query, encoded and sorted as SigV4's canonical form wants them; a
 * member that is a list repeats its key (tagKeys=a&tagKeys=b). */
static int build_query(const char *fixed, const json_t *query, cm_buf *out, cm_err *err)
{
    size_t n = 0, cap, used = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)query, k, v) n += json_is_array(v) ? json_array_size(v) : 1;
    cap = n + 16;
    kv *pairs = calloc(cap, sizeof *pairs);
    int rc = pairs ? 0 : CM_ENOMEM;
    for (const char *s = fixed; !rc && s && *s;) {
        const char *amp = strchr(s, '&');
        size_t len = amp ? (size_t)(amp - s) : strlen(s);
        char one[256];
        snprintf(one, sizeof one, "%.*s", (int)len, s);
        char *eq = strchr(one, '=');
        if (eq)
            *eq = '\0';
        if (used == cap) {
            rc = CM_EINVAL;
            break;
        }
        pairs[used].k = encoded(one);
        pairs[used].v = encoded(eq ? eq + 1 : "");
        used++;
        s = amp ? amp + 1 : s + len;
    }
    json_object_foreach((json_t *)query, k, v)
    {
        size_t count = json_is_array(v) ? json_array_size(v) : 1;
        for (size_t i = 0; !rc && i < count; i++) {
            char num[32];
            const char *text;
            if (scalar_text(json_is_array(v) ? json_array_get(v, i) : v, num, sizeof num, &text)) {
                rc = cm_err_set(err, CM_EINVAL,
                                "query member %s is not a string, number or boolean", k);
                break;
            }
            pairs[used].k = encoded(k);
            pairs[used].v = encoded(text);
            used++;
        }
        if (rc)
            break;
    }
    for (size_t i = 0; !rc && i < used; i++)
        if (!pairs[i].k || !pairs[i].v)
            rc = CM_ENOMEM;
    if (!rc)
        qsort(pairs, used, sizeof *pairs, by_key);
    for (size_t i = 0; !rc && i < used; i++)
        rc = cm_buf_printf(out, "%s%s=%s", i ? "&" : "", pairs[i].k, pairs[i].v);
    for (size_t i = 0; i < used; i++) {
        free(pairs[i].k);
        free(pairs[i].v);
    }
    free(pairs);
    if (rc == CM_ENOMEM)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    return rc;
}

int aws_rest_uri(const char *tmpl, const json_t *input, cm_buf *path, cm_buf *query, cm_err *err)
{
    const char *q = strchr(tmpl, '?');
    size_t plen = q ? (size_t)(q - tmpl) : strlen(tmpl);
    int rc = 0;
    for (size_t i = 0; !rc && i < plen; i++) {
        if (tmpl[i] != '{') {
            rc = cm_buf_append(path, &tmpl[i], 1);
            continue;
        }
        const char *end = memchr(tmpl + i, '}', plen - i);
        if (!end)
            return cm_err_set(err, CM_EINVAL, "URI template %s: an unclosed {", tmpl);
        char label[128];
        snprintf(label, sizeof label, "%.*s", (int)(end - tmpl - i - 1), tmpl + i + 1);
        size_t ll = strlen(label);
        bool greedy = ll && label[ll - 1] == '+';
        if (greedy)
            label[ll - 1] = '\0';
        char num[32];
        const char *text;
        if (scalar_text(json_object_get(input, label), num, sizeof num, &text) || !*text)
            return cm_err_set(err, CM_EINVAL, "URI template %s needs the member %s", tmpl, label);
        /* a greedy label keeps its slashes (an S3 key); a plain one is one segment */
        for (const char *s = text; !rc && *s;) {
            const char *slash = greedy ? strchr(s, '/') : NULL;
            size_t n = slash ? (size_t)(slash - s) : strlen(s);
            char *seg = strndup(s, n);
            rc = seg ? aws_uri_encode(path, seg) : CM_ENOMEM;
            free(seg);
            if (!rc && slash)
                rc = cm_buf_puts(path, "/");
            s += n + (slash ? 1 : 0);
        }
        i = (size_t)(end - tmpl);
    }
    if (rc)
        return cm_err_set(err, CM_EINVAL, "URI template %s: the path is too long", tmpl);
    return build_query(q ? q + 1 : NULL, json_object_get(input, "query"), query, err);
}

/* The form body of the query and ec2 protocols. */
static int form_body(const char *action, const char *version, const json_t *params, cm_buf *form,
                     cm_err *err)
{
    int rc = cm_buf_puts(form, "Action=");
    if (!rc)
        rc = aws_uri_encode(form, action);
    if (!rc)
        rc = cm_buf_puts(form, "&Version=");
    if (!rc)
        rc = aws_uri_encode(form, version);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)params, k, v)
    {
        char num[32];
        const char *text;
        if (rc)
            break;
        if (scalar_text(v, num, sizeof num, &text))
            return cm_err_set(err, CM_EINVAL, "%s: parameter %s is not a string, number or boolean",
                              action, k);
        rc = cm_buf_puts(form, "&");
        if (!rc)
            rc = aws_uri_encode(form, k);
        if (!rc)
            rc = cm_buf_puts(form, "=");
        if (!rc)
            rc = aws_uri_encode(form, text);
    }
    return rc ? cm_err_set(err, CM_EINVAL, "%s: request too large", action) : 0;
}

static int take_answer(const aws_service *svc, const aws_operation *op, aws_response *resp,
                       aws_answer *out, cm_err *err)
{
    const char *body = resp->body.data ? resp->body.data : "";
    const char *first = body;
    while (*first == ' ' || *first == '\n' || *first == '\r' || *first == '\t')
        first++;
    /* rest-xml: a write's answer may be no XML at all (what an emulator puts
     * in the body of a PUT); a read's must be, unless it is the payload
     * itself (a policy's JSON) */
    bool write = op->method && strcmp(op->method, "GET") != 0 && strcmp(op->method, "HEAD") != 0;
    if (op->raw_answer ||
        (svc->protocol == AWS_PROTO_REST_XML && write && resp->body.len && *first != '<')) {
        out->text = strndup(body, resp->body.len);
        out->text_len = resp->body.len;
        return out->text ? 0 : cm_err_set(err, CM_ENOMEM, "out of memory");
    }
    if (svc->protocol == AWS_PROTO_JSON || svc->protocol == AWS_PROTO_REST_JSON) {
        json_error_t je;
        out->json = resp->body.len ? json_loadb(body, resp->body.len, 0, &je) : json_object();
        if (!json_is_object(out->json)) {
            json_decref(out->json);
            out->json = NULL;
            return cm_err_set(err, CM_EBADREPLY,
                              "malformed JSON in the cloud's response (%zu bytes)", resp->body.len);
        }
        return 0;
    }
    if (!resp->body.len)
        return 0; /* rest-xml answers many calls with no body */
    return aws_xml_parse(&out->xml, body, resp->body.len, err);
}

int aws_call(aws_client *c, const aws_service *svc, const aws_operation *op, const char *region,
             const json_t *input, aws_answer *out, cm_err *err)
{
    memset(out, 0, sizeof *out);
    cm_buf body, path, query;
    cm_buf_init(&body, (size_t)8 << 20);
    cm_buf_init(&path, 16384);
    cm_buf_init(&query, 16384);
    char target[256], ctype[64];
    aws_request req = {.service = svc->signing_name,
                       .region = region,
                       .method = "POST",
                       .path = "/",
                       .read_only = read_only_name(op->name),
                       .content_md5 = op->content_md5};
    int rc = 0;
    switch (svc->protocol) {
    case AWS_PROTO_JSON: {
        char *text = input ? json_dumps(input, JSON_COMPACT) : strdup("{}");
        rc = text ? cm_buf_puts(&body, text) : CM_ENOMEM;
        free(text);
        if (rc)
            rc = cm_err_set(err, CM_ENOMEM, "out of memory");
        snprintf(target, sizeof target, "%s.%s", svc->target_prefix, op->name);
        snprintf(ctype, sizeof ctype, "application/x-amz-json-%s", svc->json_version);
        req.target = target;
        req.content_type = ctype;
        break;
    }
    case AWS_PROTO_QUERY:
    case AWS_PROTO_EC2:
        rc = form_body(op->name, svc->api_version, input, &body, err);
        req.content_type = "application/x-www-form-urlencoded; charset=utf-8";
        break;
    case AWS_PROTO_REST_XML:
    case AWS_PROTO_REST_JSON: {
        rc = aws_rest_uri(op->uri ? op->uri : "/", input, &path, &query, err);
        req.method = op->method ? op->method : "GET";
        req.path = cm_buf_str(&path);
        req.query = query.len ? cm_buf_str(&query) : NULL;
        req.read_only = strcmp(req.method, "GET") == 0 || strcmp(req.method, "HEAD") == 0;
        const json_t *payload = json_object_get(input, "body");
        if (!rc && svc->protocol == AWS_PROTO_REST_JSON && json_is_object(payload)) {
            char *text = json_dumps(payload, JSON_COMPACT);
            rc = text ? cm_buf_puts(&body, text) : cm_err_set(err, CM_ENOMEM, "out of memory");
            free(text);
            req.content_type = "application/json";
        } else if (!rc && json_is_string(payload)) {
            rc = cm_buf_puts(&body, json_string_value(payload));
            req.content_type =
                svc->protocol == AWS_PROTO_REST_XML ? "application/xml" : "application/json";
        }
        break;
    }
    }
    if (!rc) {
        req.body = body.data;
        req.body_len = body.len;
        aws_response resp;
        aws_response_init(&resp);
        rc = aws_send(c, &req, &resp, err);
        out->status = resp.status;
        if (!rc)
            rc = take_answer(svc, op, &resp, out, err);
        aws_response_free(&resp);
    }
    cm_buf_free(&body);
    cm_buf_free(&path);
    cm_buf_free(&query);
    if (rc)
        aws_answer_free(out);
    return rc;
}
