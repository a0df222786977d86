/* modules/aws/aws_tape.c — the read requests a listing made, each with a
 * digest of its answer, so that the next listing can first ask the same
 * questions and, when every answer is the same, know that nothing changed
 * without parsing a byte. The answers a replay fetched serve the listing
 * that follows it, in order, so a page is never fetched twice. What an
 * answer says about itself rather than the resources (the request id) is
 * left out of the digest. docs/poll.md says why. */
#include "modules/aws/aws.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

typedef struct tape_entry {
    char *service, *region, *method, *path, *query, *content_type, *target;
    void *body;
    size_t body_len;
    bool content_md5, read_only;
    unsigned char digest[32];
} tape_entry;

struct aws_tape {
    tape_entry *v;
    size_t n, cap;
    bool broken; /* a request that cannot be replayed, or an answer that was no answer */
};

aws_tape *aws_tape_new(void)
{
    return calloc(1, sizeof(aws_tape));
}

void aws_tape_free(aws_tape *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        tape_entry *e = &t->v[i];
        free(e->service);
        free(e->region);
        free(e->method);
        free(e->path);
        free(e->query);
        free(e->content_type);
        free(e->target);
        free(e->body);
    }
    free(t->v);
    free(t);
}

size_t aws_tape_len(const aws_tape *t)
{
    return t ? t->n : 0;
}

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

bool aws_tape_matches(const aws_tape *t, size_t i, const aws_request *req)
{
    if (!t || i >= t->n)
        return false;
    const tape_entry *e = &t->v[i];
    return str_eq(e->service, req->service) && str_eq(e->region, req->region) &&
           str_eq(e->method, req->method) && str_eq(e->path, req->path) &&
           str_eq(e->query && *e->query ? e->query : NULL,
                  req->query && *req->query ? req->query : NULL) &&
           str_eq(e->content_type, req->content_type) && str_eq(e->target, req->target) &&
           e->body_len == req->body_len &&
           (!e->body_len || memcmp(e->body, req->body, e->body_len) == 0);
}

aws_request aws_tape_request(const aws_tape *t, size_t i)
{
    const tape_entry *e = &t->v[i];
    return (aws_request){.service = e->service,
                         .region = e->region,
                         .method = e->method,
                         .path = e->path,
                         .query = e->query,
                         .body = e->body,
                         .body_len = e->body_len,
                         .content_type = e->content_type,
                         .target = e->target,
                         .content_md5 = e->content_md5,
                         .read_only = e->read_only};
}

/* Feeds body to the digest but for the text of request-id elements
 * (<requestId> in EC2's answers, <RequestId> in the query protocols'). */
static void digest_body(EVP_MD_CTX *md, const char *p, size_t len)
{
    static const char *const opens[] = {"<requestId>", "<RequestId>"};
    static const char *const closes[] = {"</requestId>", "</RequestId>"};
    const char *end = p + len;
    while (p < end) {
        const char *at = NULL;
        int which = -1;
        for (int k = 0; k < 2; k++) {
            const char *f = memmem(p, (size_t)(end - p), opens[k], strlen(opens[k]));
            if (f && (!at || f < at)) {
                at = f;
                which = k;
            }
        }
        if (!at) {
            EVP_DigestUpdate(md, p, (size_t)(end - p));
            return;
        }
        const char *text = at + strlen(opens[which]);
        const char *close =
            memmem(text, (size_t)(end - text), closes[which], strlen(closes[which]));
        EVP_DigestUpdate(md, p, (size_t)(text - p));
        if (!close)
            return;
        p = close;
    }
}

void aws_tape_digest(const aws_response *resp, int rc, unsigned char out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    EVP_DigestUpdate(md, &resp->status, sizeof resp->status);
    /* A refusal (NoSuchTagSet...) is its code: its body carries request ids. */
    if (rc)
        EVP_DigestUpdate(md, resp->code, strlen(resp->code));
    else
        digest_body(md, resp->body.data ? resp->body.data : "", resp->body.len);
    EVP_DigestFinal_ex(md, out, &n);
    EVP_MD_CTX_free(md);
}

void aws_tape_record(aws_tape *t, const aws_request *req, const aws_response *resp, int rc)
{
    if (!t || t->broken)
        return;
    bool reads =
        strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0 || req->read_only;
    /* Only a definite answer to a question can be asked again. */
    if (!reads || (rc && rc != CM_ECLOUD)) {
        t->broken = true;
        return;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        tape_entry *v = realloc(t->v, cap * sizeof *v);
        if (!v) {
            t->broken = true;
            return;
        }
        t->v = v;
        t->cap = cap;
    }
    tape_entry *e = &t->v[t->n];
    memset(e, 0, sizeof *e);
    e->service = dup_or_null(req->service);
    e->region = dup_or_null(req->region);
    e->method = dup_or_null(req->method);
    e->path = dup_or_null(req->path);
    e->query = dup_or_null(req->query);
    e->content_type = dup_or_null(req->content_type);
    e->target = dup_or_null(req->target);
    e->content_md5 = req->content_md5;
    e->read_only = req->read_only;
    if (req->body_len) {
        e->body = malloc(req->body_len);
        if (e->body)
            memcpy(e->body, req->body, req->body_len);
    }
    e->body_len = req->body_len;
    t->n++; /* counted before the checks below so that free releases it */
    if ((req->service && !e->service) || (req->region && !e->region) || !e->method ||
        (req->path && !e->path) || (req->query && !e->query) ||
        (req->content_type && !e->content_type) || (req->target && !e->target) ||
        (req->body_len && !e->body)) {
        t->broken = true;
        return;
    }
    aws_tape_digest(resp, rc, e->digest);
}

bool aws_tape_usable(const aws_tape *t)
{
    return t && !t->broken && t->n;
}

bool aws_tape_same(const aws_tape *t, size_t i, const unsigned char digest[32])
{
    return t && i < t->n && memcmp(t->v[i].digest, digest, 32) == 0;
}
