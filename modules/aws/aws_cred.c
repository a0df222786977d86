/* modules/aws/aws_cred.c — the credential chain, in the AWS SDKs' order,
 * and the one provider every client of the process shares:
 *   1. the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *      AWS_SESSION_TOKEN);
 *   2. web identity (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN), as on EKS;
 *   3. the profile of the shared files: role_arn with source_profile or
 *      credential_source, web_identity_token_file, static keys,
 *      credential_process;
 *   4. the container endpoint, as on ECS;
 *   5. EC2 instance metadata (IMDSv2).
 * The chain is resolved once. Temporary credentials are fetched again
 * before they expire, by one thread while the others go on with the
 * current ones; each client copies them under the lock when their
 * generation changes. No secret leaves the aws_creds it is copied into. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "modules/aws/aws_cred.h"

#define PROFILE_DEPTH_MAX 5
/* Refresh when a quarter of the lifetime is left, within these bounds. */
#define MARGIN_MIN_S 1
#define MARGIN_MAX_S 600
/* Credentials this close to expiry (at most half the margin) are not used
 * while a refresh runs. */
#define USABLE_S 5
#define RETRY_S 10

void aws_wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = '\0';
    free(s);
}

static void wipe(char **s)
{
    aws_wipe_free(*s);
    *s = NULL;
}

void aws_creds_clear(aws_creds *c)
{
    if (!c)
        return;
    wipe(&c->access_key);
    wipe(&c->secret_key);
    wipe(&c->session_token);
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

const char *aws_default_region(void)
{
    static __thread char region[64];
    const char *r = getenv("AWS_REGION");
    if (!r || !*r)
        r = getenv("AWS_DEFAULT_REGION");
    if (r && *r)
        return r;
    aws_profile p;
    cm_err err = {0};
    region[0] = '\0';
    if (aws_profile_load(&p, aws_profile_name(NULL), &err) == 0) {
        const char *pr = aws_profile_get(&p, "region");
        if (pr)
            snprintf(region, sizeof region, "%s", pr);
        aws_profile_free(&p);
    }
    return region[0] ? region : "us-east-1";
}

/* --- resolving the chain ------------------------------------------------ */

static aws_src *src_new(aws_src_kind kind)
{
    aws_src *s = calloc(1, sizeof *s);
    if (s)
        s->kind = kind;
    return s;
}

static int oom(aws_src *s, cm_err *err)
{
    aws_src_free(s);
    return cm_err_set(err, CM_ENOMEM, "out of memory");
}

static int env_src(aws_src **out, cm_err *err)
{
    const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
    bool has_ak = ak && *ak, has_sk = sk && *sk;
    if (!has_ak && !has_sk)
        return cm_err_set(err, CM_ENOTFOUND, "AWS_ACCESS_KEY_ID is not set");
    if (!has_ak || !has_sk)
        return cm_err_set(err, CM_ECONFIG, "%s is set but %s is not",
                          has_ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                          has_ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    aws_src *s = src_new(AWS_SRC_STATIC);
    if (!s)
        return oom(s, err);
    s->keys.access_key = strdup(ak);
    s->keys.secret_key = strdup(sk);
    s->keys.session_token = dup_or_null(getenv("AWS_SESSION_TOKEN"));
    if (!s->keys.access_key || !s->keys.secret_key)
        return oom(s, err);
    snprintf(s->desc, sizeof s->desc, "the environment (AWS_ACCESS_KEY_ID%s)",
             s->keys.session_token ? " with AWS_SESSION_TOKEN" : "");
    *out = s;
    return 0;
}

static int imds_src(aws_src **out, cm_err *err)
{
    const char *off = getenv("AWS_EC2_METADATA_DISABLED");
    if (off && strcasecmp(off, "true") == 0)
        return cm_err_set(err, CM_ENOTFOUND, "AWS_EC2_METADATA_DISABLED is true");
    const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    if (!ep || !*ep)
        ep = mode && strcasecmp(mode, "IPv6") == 0 ? "http://[fd00:ec2::254]"
                                                   : "http://169.254.169.254";
    aws_src *s = src_new(AWS_SRC_IMDS);
    if (!s || !(s->url = strdup(ep)))
        return oom(s, err);
    size_t n = strlen(s->url);
    while (n && s->url[n - 1] == '/')
        s->url[--n] = '\0';
    snprintf(s->desc, sizeof s->desc, "EC2 instance metadata (%s)", s->url);
    *out = s;
    return 0;
}

static int container_src(aws_src **out, cm_err *err)
{
    char url[2048];
    int rc = aws_container_url(url, sizeof url, err);
    if (rc)
        return rc;
    aws_src *s = src_new(AWS_SRC_CONTAINER);
    if (!s || !(s->url = strdup(url)))
        return oom(s, err);
    const char *tf = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *tok = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    if (tf && *tf && !(s->auth_token_file = strdup(tf)))
        return oom(s, err);
    if (!s->auth_token_file && tok && *tok && !(s->auth_token = strdup(tok)))
        return oom(s, err);
    snprintf(s->desc, sizeof s->desc, "the container endpoint (%s%s)", s->url,
             s->auth_token_file ? ", token file"
             : s->auth_token    ? ", token"
                                : "");
    *out = s;
    return 0;
}

static int role_settings(aws_src *s, const aws_profile *p, cm_err *err)
{
    s->role_arn = dup_or_null(aws_profile_get(p, "role_arn"));
    s->session_name = dup_or_null(aws_profile_get(p, "role_session_name"));
    s->external_id = dup_or_null(aws_profile_get(p, "external_id"));
    s->region = dup_or_null(aws_profile_get(p, "region"));
    const char *d = aws_profile_get(p, "duration_seconds");
    if (d) {
        char *end;
        long v = strtol(d, &end, 10);
        if (*end || v < 900 || v > 43200)
            return cm_err_set(err, CM_ECONFIG,
                              "profile %s: duration_seconds \"%.32s\" is not a number of seconds "
                              "from 900 to 43200",
                              p->name, d);
        s->duration_s = (int)v;
    }
    return s->role_arn ? 0 : cm_err_set(err, CM_ENOMEM, "out of memory");
}

static int profile_src(const char *name, const char *via, int depth, aws_src **out, cm_err *err);

/* The role_arn of profile p, and what signs its AssumeRole. */
static int role_src(const aws_profile *p, int depth, aws_src **out, cm_err *err)
{
    const char *wif = aws_profile_get(p, "web_identity_token_file");
    const char *sp = aws_profile_get(p, "source_profile");
    const char *cs = aws_profile_get(p, "credential_source");
    if (sp && cs)
        return cm_err_set(err, CM_ECONFIG,
                          "profile %s sets both source_profile and credential_source; keep one",
                          p->name);
    aws_src *s = src_new(wif ? AWS_SRC_WEB_IDENTITY : AWS_SRC_ASSUME_ROLE);
    if (!s)
        return oom(s, err);
    int rc = role_settings(s, p, err);
    if (rc) {
        aws_src_free(s);
        return rc;
    }
    if (wif) {
        if (!(s->token_file = strdup(wif)))
            return oom(s, err);
        snprintf(s->desc, sizeof s->desc, "web identity (profile %s: role %s, token file %s)",
                 p->name, s->role_arn, wif);
        *out = s;
        return 0;
    }
    char inner[256] = "";
    if (sp && strcmp(sp, p->name) == 0) {
        /* the profile's own keys sign its AssumeRole */
        const char *ak = aws_profile_get(p, "aws_access_key_id");
        const char *sk = aws_profile_get(p, "aws_secret_access_key");
        if (!ak || !sk) {
            aws_src_free(s);
            return cm_err_set(err, CM_ECONFIG,
                              "profile %s is its own source_profile but has no "
                              "aws_access_key_id and aws_secret_access_key",
                              p->name);
        }
        if (!(s->inner = src_new(AWS_SRC_STATIC)) || !(s->inner->keys.access_key = strdup(ak)) ||
            !(s->inner->keys.secret_key = strdup(sk)))
            return oom(s, err);
        s->inner->keys.session_token = dup_or_null(aws_profile_get(p, "aws_session_token"));
        snprintf(s->inner->desc, sizeof s->inner->desc, "profile %s", p->name);
        snprintf(inner, sizeof inner, "its own keys");
    } else if (sp) {
        if (depth >= PROFILE_DEPTH_MAX) {
            aws_src_free(s);
            return cm_err_set(err, CM_ECONFIG,
                              "profile %s: the source_profile chain is longer than %d (a cycle?)",
                              p->name, PROFILE_DEPTH_MAX);
        }
        rc = profile_src(sp, p->name, depth + 1, &s->inner, err);
        if (rc) {
            aws_src_free(s);
            return rc;
        }
        snprintf(inner, sizeof inner, "source_profile %s", sp);
    } else if (cs) {
        if (strcmp(cs, "Environment") == 0)
            rc = env_src(&s->inner, err);
        else if (strcmp(cs, "Ec2InstanceMetadata") == 0)
            rc = imds_src(&s->inner, err);
        else if (strcmp(cs, "EcsContainer") == 0)
            rc = container_src(&s->inner, err);
        else
            rc = cm_err_set(err, CM_ECONFIG,
                            "profile %s: credential_source \"%.64s\" is none of Environment, "
                            "Ec2InstanceMetadata, EcsContainer",
                            p->name, cs);
        if (rc) {
            cm_err e = *err;
            aws_src_free(s);
            return cm_err_set(err, rc == CM_ENOTFOUND ? CM_ECONFIG : rc,
                              "profile %s: credential_source %s: %s", p->name, cs, e.msg);
        }
        snprintf(inner, sizeof inner, "credential_source %s", cs);
    } else {
        aws_src_free(s);
        return cm_err_set(err, CM_ECONFIG,
                          "profile %s sets role_arn but neither source_profile nor "
                          "credential_source",
                          p->name);
    }
    snprintf(s->desc, sizeof s->desc, "assume role %s (profile %s, signed with %s)", s->role_arn,
             p->name, inner);
    *out = s;
    return 0;
}

/* A profile's credentials; CM_ENOTFOUND when it has none (only region, say). */
static int profile_src(const char *name, const char *via, int depth, aws_src **out, cm_err *err)
{
    aws_profile p;
    int rc = aws_profile_load(&p, name, err);
    if (rc)
        return rc;
    if (!p.found) {
        if (via)
            rc = cm_err_set(err, CM_ECONFIG,
                            "profile %s, the source_profile of profile %s, is in neither %s nor %s",
                            name, via, p.config_path, p.credentials_path);
        else
            rc = cm_err_set(err, CM_ENOTFOUND, "profile %s is in neither %s nor %s", name,
                            p.config_path, p.credentials_path);
        aws_profile_free(&p);
        return rc;
    }
    const char *ak = aws_profile_get(&p, "aws_access_key_id");
    const char *sk = aws_profile_get(&p, "aws_secret_access_key");
    const char *proc = aws_profile_get(&p, "credential_process");
    aws_src *s = NULL;
    if (aws_profile_get(&p, "role_arn")) {
        rc = role_src(&p, depth, out, err);
    } else if (aws_profile_get(&p, "sso_session") || aws_profile_get(&p, "sso_start_url")) {
        rc = cm_err_set(err, CM_ECONFIG,
                        "profile %s uses IAM Identity Center (SSO), which the engine does not "
                        "read; add to it: credential_process = aws configure export-credentials "
                        "--profile %s --format process (under another profile name), or pass "
                        "the output of `aws configure export-credentials --format env` in the "
                        "environment",
                        name, name);
    } else if (ak || sk) {
        if (!ak || !sk) {
            rc = cm_err_set(err, CM_ECONFIG, "profile %s has %s but not %s", name,
                            ak ? "aws_access_key_id" : "aws_secret_access_key",
                            ak ? "aws_secret_access_key" : "aws_access_key_id");
        } else if (!(s = src_new(AWS_SRC_STATIC)) || !(s->keys.access_key = strdup(ak)) ||
                   !(s->keys.secret_key = strdup(sk))) {
            rc = oom(s, err);
        } else {
            s->keys.session_token = dup_or_null(aws_profile_get(&p, "aws_session_token"));
            snprintf(s->desc, sizeof s->desc, "profile %s (keys)", name);
            *out = s;
        }
    } else if (proc) {
        if (!(s = src_new(AWS_SRC_PROCESS)) || !(s->command = strdup(proc))) {
            rc = oom(s, err);
        } else {
            snprintf(s->desc, sizeof s->desc, "profile %s (credential_process)", name);
            *out = s;
        }
    } else {
        rc = via ? cm_err_set(err, CM_ECONFIG,
                              "profile %s, the source_profile of profile %s, has no credentials",
                              name, via)
                 : cm_err_set(err, CM_ENOTFOUND, "profile %s has no credentials", name);
    }
    aws_profile_free(&p);
    return rc;
}

static int web_identity_src(aws_src **out, cm_err *err)
{
    const char *tf = getenv("AWS_WEB_IDENTITY_TOKEN_FILE"), *role = getenv("AWS_ROLE_ARN");
    bool has_tf = tf && *tf, has_role = role && *role;
    if (!has_tf && !has_role)
        return cm_err_set(err, CM_ENOTFOUND, "AWS_WEB_IDENTITY_TOKEN_FILE is not set");
    if (!has_tf || !has_role)
        return cm_err_set(err, CM_ECONFIG, "%s is set but %s is not",
                          has_tf ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN",
                          has_tf ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
    aws_src *s = src_new(AWS_SRC_WEB_IDENTITY);
    if (!s || !(s->token_file = strdup(tf)) || !(s->role_arn = strdup(role)))
        return oom(s, err);
    s->session_name = dup_or_null(getenv("AWS_ROLE_SESSION_NAME"));
    snprintf(s->desc, sizeof s->desc, "web identity (AWS_ROLE_ARN %s, token file %s)", role, tf);
    *out = s;
    return 0;
}

/* Resolves the chain and fetches the first credentials. A source that is
 * not configured is skipped and noted in tried; one that is configured but
 * fails ends the chain with its error. Instance metadata, the last, is
 * only known to be there by asking it. */
static int resolve(aws_src **src, aws_creds *out, time_t *expires, cm_err *err)
{
    static const char *const names[] = {"environment", "web identity", "shared files",
                                        "container endpoint", "instance metadata"};
    char tried[1024] = "";
    size_t used = 0;
    bool explicit_profile;
    const char *profile = aws_profile_name(&explicit_profile);
    int rc = CM_ENOTFOUND;
    for (int i = 0; i < 5; i++) {
        *src = NULL;
        switch (i) {
        case 0:
            rc = env_src(src, err);
            break;
        case 1:
            rc = web_identity_src(src, err);
            break;
        case 2:
            rc = profile_src(profile, NULL, 0, src, err);
            if (rc == CM_ENOTFOUND && explicit_profile) {
                cm_err e = *err;
                rc = cm_err_set(err, CM_ECONFIG, "%s (named by AWS_PROFILE)", e.msg);
            }
            break;
        case 3:
            rc = container_src(src, err);
            break;
        default:
            rc = imds_src(src, err);
            break;
        }
        if (!rc) {
            rc = aws_src_fetch(*src, out, expires, err);
            if (!rc)
                return 0;
            aws_src_free(*src);
            *src = NULL;
            if (i < 4) {
                cm_err e = *err;
                return cm_err_set(err, rc, "AWS credentials from %s: %s", names[i], e.msg);
            }
        } else if (rc != CM_ENOTFOUND) {
            cm_err e = *err;
            return cm_err_set(err, rc, "AWS credentials from %s: %s", names[i], e.msg);
        }
        int n = snprintf(tried + used, sizeof tried - used, "%s%s: %s", used ? "; " : "", names[i],
                         err->msg);
        if (n > 0)
            used = used + (size_t)n < sizeof tried ? used + (size_t)n : sizeof tried - 1;
    }
    return cm_err_set(err, CM_ECONFIG,
                      "no AWS credentials found: %s. Set AWS_ACCESS_KEY_ID and "
                      "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run where the instance, task or "
                      "pod has a role (docs/credentials.md)",
                      tried);
}

/* --- the shared provider ------------------------------------------------ */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    aws_src *src; /* NULL until resolved */
    aws_creds cur;
    time_t expires, margin, next_fetch, usable_gap;
    uint64_t gen; /* grows with every fetch, never reset: 0 is no client's */
    bool fetching, forced;
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void fmt_time(time_t t, char *out, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void install(aws_creds *fresh, time_t expires, time_t now)
{
    aws_creds_clear(&P.cur);
    P.cur = *fresh;
    memset(fresh, 0, sizeof *fresh);
    P.expires = expires;
    time_t life = expires ? expires - now : 0;
    P.margin = life / 4 < MARGIN_MIN_S   ? MARGIN_MIN_S
               : life / 4 > MARGIN_MAX_S ? MARGIN_MAX_S
                                         : life / 4;
    /* a source that hands out the same soon-expiring credentials is not
     * asked again at once */
    P.next_fetch = now + (P.margin / 2 > 0 ? P.margin / 2 : 1);
    P.usable_gap = P.margin / 2 < USABLE_S ? P.margin / 2 : USABLE_S;
    P.gen++;
    P.forced = false;
}

static int copy_creds(aws_creds *mine, uint64_t *gen, cm_err *err)
{
    if (*gen == P.gen)
        return 0;
    aws_creds_clear(mine);
    mine->access_key = strdup(P.cur.access_key);
    mine->secret_key = strdup(P.cur.secret_key);
    mine->session_token = P.cur.session_token ? strdup(P.cur.session_token) : NULL;
    if (!mine->access_key || !mine->secret_key || (P.cur.session_token && !mine->session_token)) {
        aws_creds_clear(mine);
        *gen = 0;
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    }
    *gen = P.gen;
    return 0;
}

int aws_creds_get(aws_creds *mine, uint64_t *gen, cm_err *err)
{
    pthread_mutex_lock(&P.mu);
    int rc = 0;
    for (;;) {
        time_t now = time(NULL);
        bool have = P.cur.access_key != NULL;
        bool usable = have && (!P.expires || now + P.usable_gap < P.expires);
        bool due = !have || P.forced ||
                   (P.expires && now >= P.expires - P.margin && now >= P.next_fetch) ||
                   (have && !usable);
        if (!due)
            break;
        if (P.fetching) {
            if (usable)
                break; /* another thread refreshes; these still serve */
            pthread_cond_wait(&P.cv, &P.mu);
            continue;
        }
        P.fetching = true;
        aws_src *src = P.src;
        pthread_mutex_unlock(&P.mu);
        aws_creds fresh = {0};
        time_t expires = 0;
        aws_src *resolved = NULL;
        cm_err ferr = {0};
        int frc = src ? aws_src_fetch(src, &fresh, &expires, &ferr)
                      : resolve(&resolved, &fresh, &expires, &ferr);
        pthread_mutex_lock(&P.mu);
        P.fetching = false;
        pthread_cond_broadcast(&P.cv);
        now = time(NULL);
        char until[32] = "";
        if (!frc) {
            if (resolved)
                P.src = resolved;
            install(&fresh, expires, now);
            if (expires)
                fmt_time(expires, until, sizeof until);
            cm_log(CM_LOG_INFO, "AWS credentials %s %s%s%s", have ? "refreshed from" : "from",
                   P.src->desc, expires ? ", valid until " : "", until);
            continue;
        }
        aws_creds_clear(&fresh);
        if (usable) {
            P.next_fetch = now + RETRY_S;
            P.forced = false;
            fmt_time(P.expires, until, sizeof until);
            cm_log(CM_LOG_WARN,
                   "could not refresh AWS credentials from %s: %s; the current ones serve "
                   "until %s, trying again in %d s",
                   P.src->desc, ferr.msg, until, RETRY_S);
            break;
        }
        rc = cm_err_set(err, frc, "%s", ferr.msg);
        if (have)
            cm_log(CM_LOG_ERROR, "AWS credentials from %s expired and could not be refreshed: %s",
                   P.src->desc, ferr.msg);
        pthread_mutex_unlock(&P.mu);
        return rc;
    }
    rc = copy_creds(mine, gen, err);
    pthread_mutex_unlock(&P.mu);
    return rc;
}

bool aws_creds_expired(uint64_t gen)
{
    pthread_mutex_lock(&P.mu);
    bool again = P.gen == gen && P.expires && !P.fetching;
    if (again)
        P.forced = true;
    else if (P.gen != gen)
        again = true; /* newer ones are there already */
    pthread_mutex_unlock(&P.mu);
    return again;
}

void aws_creds_source(char *out, size_t size)
{
    pthread_mutex_lock(&P.mu);
    snprintf(out, size, "%s", P.src ? P.src->desc : "none yet");
    pthread_mutex_unlock(&P.mu);
}

void aws_creds_reset(void)
{
    pthread_mutex_lock(&P.mu);
    while (P.fetching)
        pthread_cond_wait(&P.cv, &P.mu);
    aws_src_free(P.src);
    P.src = NULL;
    aws_creds_clear(&P.cur);
    P.expires = P.margin = P.next_fetch = P.usable_gap = 0;
    P.forced = false;
    pthread_mutex_unlock(&P.mu);
}
