/* modules/aws/aws.h — the AWS client: credentials from the standard chain,
 * endpoints from the standard overrides, SigV4 signing, retries with jittered
 * backoff on throttling and 5xx, and error decoding. Only modules/aws/
 * includes <curl/curl.h>. No secret is ever logged or put in an error. */
#ifndef IASQL_AWS_H
#define IASQL_AWS_H

#include <jansson.h>

#include "common/cm.h"

typedef struct aws_creds {
    char *access_key;
    char *secret_key;
    char *session_token; /* NULL when not set */
} aws_creds;

/* The credentials every client of the process shares (aws_cred.c): the
 * AWS SDKs' chain (the environment, web identity, the profile of the
 * shared files, the container endpoint, instance metadata), resolved on
 * first use, logged by source (never the secret) and refreshed before they
 * expire. Copies them into *mine when they changed since *gen (0 at
 * first). When no source works, the error lists each and why. */
int aws_creds_get(aws_creds *mine, uint64_t *gen, cm_err *err);
/* AWS called the credentials of generation gen expired: true when newer
 * ones are, or will be, fetched (temporary credentials), so the request
 * is worth sending again. */
bool aws_creds_expired(uint64_t gen);
/* Which source serves them ("none yet" before the first use). */
void aws_creds_source(char *out, size_t size);
/* Forgets the resolved chain (tests change the environment between cases). */
void aws_creds_reset(void);
/* Wipes and frees the strings. */
void aws_creds_clear(aws_creds *c);
/* AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else us-east-1. */
const char *aws_default_region(void);

typedef struct aws_client aws_client;

int aws_client_new(aws_client **out, cm_err *err);
/* A client with fixed credentials (copied; a NULL access key sends
 * unsigned requests, as STS AssumeRoleWithWebIdentity wants). */
int aws_client_new_with(aws_client **out, const aws_creds *creds, cm_err *err);
void aws_client_free(aws_client *c);

typedef struct aws_stats {
    uint64_t requests; /* HTTP requests sent, retries included */
    uint64_t mutating; /* of which change something: not GET/HEAD, nor an action
                        * named Describe*, List*, Get* */
    uint64_t retries;
} aws_stats;
aws_stats aws_client_stats(const aws_client *c);

typedef struct aws_request {
    const char *service; /* signing name and endpoint key: "s3", "sqs", ... */
    const char *region;
    const char *method; /* "GET", "PUT", ... */
    const char *path;   /* already encoded, starts with '/' */
    const char *query;  /* already encoded and sorted, no '?'; NULL for none */
    const void *body;
    size_t body_len;
    const char *content_type; /* NULL for none */
    const char *target;       /* X-Amz-Target of the JSON protocols; NULL for none */
    bool content_md5;         /* send Content-MD5 of the body (S3 requires it on some calls) */
    bool read_only;           /* a POST that changes nothing (Describe*, List*, Get*) */
} aws_request;

typedef struct aws_response {
    long status;
    cm_buf body;
    char code[128];    /* AWS error code when status >= 300, else "" */
    char message[512]; /* AWS error message */
    /* the x-amzn-ErrorType header (rest-json services name the error there,
     * Lambda and API Gateway without a __type in the body), else "" */
    char error_type[128];
} aws_response;

void aws_response_init(aws_response *r);
void aws_response_free(aws_response *r);

/* Sends req, retrying throttling, 5xx and transport failures a bounded
 * number of times. Returns 0 for a 2xx answer. Otherwise resp->code and
 * resp->message hold what AWS said and the result is CM_ECLOUD (refused),
 * CM_ERETRY (still throttled or failing after the retries) or CM_ENET. */
int aws_send(aws_client *c, const aws_request *req, aws_response *resp, cm_err *err);

/* The Authorization header's value for req sent to url, signed at date
 * (YYYYMMDDTHHMMSSZ, also sent as X-Amz-Date) for region, over host, the
 * payload hash, the date and the session token; appended to out. The
 * client signs a request this way, not through libcurl, when the path
 * holds an escape and the service is not S3: libcurl 7.88 signs a path as
 * sent, AWS every service's path but S3's encoded once more. */
int aws_sigv4_authorization(const aws_creds *creds, const aws_request *req, const char *url,
                            const char *region, const char *date, cm_buf *out);

/* A tape (aws_tape.c): the read requests a client sent while recording,
 * each with a digest of its answer (request ids left out). */
typedef struct aws_tape aws_tape;
aws_tape *aws_tape_new(void);
void aws_tape_free(aws_tape *t);
size_t aws_tape_len(const aws_tape *t);
/* False once a request that only reads could not be recorded. */
bool aws_tape_usable(const aws_tape *t);
bool aws_tape_matches(const aws_tape *t, size_t i, const aws_request *req);
aws_request aws_tape_request(const aws_tape *t, size_t i);
void aws_tape_digest(const aws_response *resp, int rc, unsigned char out[32]);
bool aws_tape_same(const aws_tape *t, size_t i, const unsigned char digest[32]);
/* Appends req and the digest of its answer (rc: aws_send's result). A
 * request that changes something, or one that got no answer, makes the
 * tape unusable. */
void aws_tape_record(aws_tape *t, const aws_request *req, const aws_response *resp, int rc);
/* Records what c sends into tape (NULL: stop). */
void aws_client_record(aws_client *c, aws_tape *tape);
/* Sends tape's requests again. True when every answer's digest is the
 * recorded one. Otherwise the answers fetched so far serve the same
 * requests, in order, the next time c sends them. */
bool aws_client_replay(aws_client *c, const aws_tape *tape);

/* What all clients of the process share (aws_gate.c). A commit marks its
 * span with aws_gate_foreground(true) ... (false); a background client
 * (the poller's) sends nothing while one is open, so polls never hold up a
 * commit. A throttled answer puts the service in a cool-down that every
 * client waits out. aws_gate_enter waits for both and returns the µs it
 * waited. */
void aws_gate_foreground(bool on);
bool aws_gate_busy(void);
void aws_gate_throttled(const char *service, long ms);
int64_t aws_gate_enter(const char *service, bool background);
/* Called after each HTTP request any client sends (metrics): the service,
 * the HTTP status (0: no answer), whether it was a retry, whether the
 * answer asked to slow down. NULL: nothing is called. */
void aws_set_observer(void (*fn)(const char *service, long status, bool retried, bool throttled));
/* A background client waits for commits before each request. */
void aws_client_set_background(aws_client *c, bool background);

/* The base URL for a service (by signing name) in a region, honouring
 * AWS_ENDPOINT_URL_<SERVICE ID> (S3, CLOUDWATCH_LOGS, ...) and
 * AWS_ENDPOINT_URL, else from the partition data (aws_resolve_endpoint,
 * with AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT); appended to b
 * without a trailing slash. signing_region (size bytes, may be NULL)
 * receives the region the request is signed for (IAM's partition region,
 * else region). */
int aws_endpoint(const char *service, const char *region, cm_buf *b, char *signing_region,
                 size_t size, cm_err *err);

/* aws_endpoints.c: the partition data of AWS's SDKs. The URL
 * ("https://host") of service in region, FIPS and/or dual-stack, and the
 * region its requests are signed for; CM_ECONFIG for a region in no
 * partition or a variant AWS does not offer there. */
int aws_resolve_endpoint(const char *service, const char *region, bool fips, bool dualstack,
                         cm_buf *url, char *signing_region, size_t size, cm_err *err);
/* The suffix of a service's AWS_ENDPOINT_URL_<ID> variable, from its
 * service id in botocore's model ("CloudWatch Logs" -> "CLOUDWATCH_LOGS";
 * the signing name in capitals for a service the data lacks). */
void aws_service_env_id(const char *service, char *out, size_t size);
/* The partition of a region ("aws", "aws-cn", "aws-us-gov", "aws-iso", ...;
 * "aws" when none matches), for ARNs. */
const char *aws_partition_of(const char *region);

/* One request/response description for the five protocols botocore
 * names (aws_call.c). */
typedef enum {
    AWS_PROTO_JSON,      /* POST / with X-Amz-Target; the input is the body */
    AWS_PROTO_QUERY,     /* POST / with a form: Action, Version, flattened input */
    AWS_PROTO_EC2,       /* the same, with EC2's answers */
    AWS_PROTO_REST_XML,  /* the operation's method and URI; XML answers */
    AWS_PROTO_REST_JSON, /* the operation's method and URI; JSON bodies and answers */
} aws_protocol;

/* A service as the metadata of botocore's model describes it. */
typedef struct aws_service {
    const char *signing_name;
    aws_protocol protocol;
    const char *api_version;   /* query, ec2: the Version parameter */
    const char *json_version;  /* json: "1.0" or "1.1" */
    const char *target_prefix; /* json: the X-Amz-Target prefix */
} aws_service;

/* An operation: its name and, for the REST protocols, its HTTP method and
 * request URI as the model has it ("/2015-03-31/functions/{FunctionName}",
 * "/{Bucket}?tagging"; {Key+} keeps its slashes). */
typedef struct aws_operation {
    const char *name;
    const char *method;
    const char *uri;
    bool content_md5; /* S3 wants Content-MD5 on some calls */
    bool raw_answer;  /* the answer's body is the payload as it is (S3's policy: JSON) */
} aws_operation;

/* The answer: JSON for json and rest-json, XML for the others (NULL for
 * an empty body). */
typedef struct aws_answer {
    long status;
    json_t *json;
    struct _xmlDoc *xml;
    char *text; /* raw_answer: the body (NUL-terminated), and its length */
    size_t text_len;
} aws_answer;
void aws_answer_free(aws_answer *a);

/* Sends op of svc with input (a JSON object; NULL for none). json: input
 * is the body. query, ec2: input's members are the flattened parameters.
 * REST: input's members fill the URI's {labels}; its member "query" (an
 * object of scalars) adds to the query string; its member "body" is the
 * payload (rest-json: an object, sent as JSON; a string is sent as it is).
 * Errors as aws_send's, the cloud's code in err->cloud_code. */
int aws_call(aws_client *c, const aws_service *svc, const aws_operation *op, const char *region,
             const json_t *input, aws_answer *out, cm_err *err);
/* The path and the canonical query string of a REST operation's URI
 * template filled from input (for tests). */
int aws_rest_uri(const char *tmpl, const json_t *input, cm_buf *path, cm_buf *query, cm_err *err);

/* A JSON-protocol call (json 1.0 / 1.1): POST / with X-Amz-Target. *out is
 * the decoded answer (an object; {} for an empty body). On an AWS error,
 * code (if not NULL) receives its code. */
int aws_json_call(aws_client *c, const char *service, const char *region, const char *target,
                  const char *content_type, const json_t *body, json_t **out, cm_err *err);

/* A query-protocol call (SNS, IAM, STS): POST / with a form body of
 * Action, Version and params (an object of string, integer or boolean
 * values, keys already flattened: "Attributes.entry.1.key"). *out is the
 * parsed XML answer; free it with xmlFreeDoc. */
struct _xmlDoc;
int aws_query_call(aws_client *c, const char *service, const char *region, const char *version,
                   const char *action, const json_t *params, struct _xmlDoc **out, cm_err *err);
/* The same, its answer as the body's text (*text, *len; free it), for a
 * caller that reads it as a stream rather than a tree. */
int aws_query_call_text(aws_client *c, const char *service, const char *region, const char *version,
                        const char *action, const json_t *params, char **text, size_t *len,
                        cm_err *err);

/* Decodes %XX escapes (IAM returns policy documents URL-encoded); a new
 * string, or NULL when out of memory. */
char *aws_uri_decode(const char *s);

/* Percent-encodes s for a URI path segment or query value (RFC 3986
 * unreserved characters kept). */
int aws_uri_encode(cm_buf *b, const char *s);

#endif
