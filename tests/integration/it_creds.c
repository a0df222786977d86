/* tests/integration/it_creds.c — the engine with no key in its environment,
 * against a moto_server of its own with signature and access checking on
 * (MOTO_AUTH_URL), taking its credentials from each source of the chain:
 * the environment with a session token, web identity, an assume-role
 * profile, credential_process, the container endpoint, instance metadata
 * (IMDSv2, and moto's own), and credentials that expire during a run.
 * moto accepts only keys it issued (IAM users' and STS sessions'), so a
 * commit that succeeds used the source's credentials; a user's key is
 * deleted to prove the refreshed ones are used. The endpoints moto does not
 * serve as AWS does (the container endpoint, IMDSv2 with its session token,
 * an unsigned AssumeRoleWithWebIdentity) come from cred_server.py
 * (CRED_SERVER_URL, its state in CRED_SERVER_STATE). The cloud is checked
 * with moto's checking off, through plain HTTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "it_util.h"

#define ACCOUNT "123456789012"
#define ROLE_ARN "arn:aws:iam::" ACCOUNT ":role/iasql-creds-role"

typedef struct keys {
    char id[128], secret[128], token[2048];
} keys;

static const char *moto, *server, *state_dir;
static keys user_a, user_b, user_c, role;
static char tmp[256];

static void extract(const char *body, const char *tag, char *out, size_t size)
{
    const char *v = it_xml_text(body, tag);
    if (!v)
        fail_msg("no <%s> in: %.400s", tag, body);
    snprintf(out, size, "%s", v);
}

/* moto's access checking: on for the engine's requests, off for the
 * test's own (unsigned) setup and checks. */
static void moto_auth(bool on)
{
    char u[512];
    const char *out;
    snprintf(u, sizeof u, "%s/moto-api/reset-auth", moto);
    /* moto reads the count from the raw body, which a form type would hide */
    assert_int_equal(
        it_http_full(NULL, "Content-Type: text/plain", "POST", u, on ? "0" : "inf", &out), 200);
}

static void iam(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *iam_body;
static void iam(const char *fmt, ...)
{
    char form[2048], u[2300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(form, sizeof form, fmt, ap);
    va_end(ap);
    snprintf(u, sizeof u, "%s/?%s&Version=2010-05-08", moto, form);
    long st = it_http_as("iam", "POST", u, "", &iam_body);
    if (st != 200)
        fail_msg("%s: HTTP %ld %.300s", form, st, iam_body);
}

#define ALLOW_ALL                                                                                  \
    "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C"  \
    "%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D"

static void make_user(const char *name, keys *k)
{
    iam("Action=CreateUser&UserName=%s", name);
    iam("Action=PutUserPolicy&UserName=%s&PolicyName=all&PolicyDocument=%s", name, ALLOW_ALL);
    iam("Action=CreateAccessKey&UserName=%s", name);
    extract(iam_body, "AccessKeyId", k->id, sizeof k->id);
    extract(iam_body, "SecretAccessKey", k->secret, sizeof k->secret);
}

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", name[0] == '/' ? "" : tmp, name);
    FILE *f = fopen(name[0] == '/' ? name : path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(name[0] == '/' ? name : path, 0700);
}

/* What cred_server.py hands out, expiring in `life` seconds. */
static void serve(const keys *k, int life)
{
    char exp[32], body[3000], path[512];
    time_t t = time(NULL) + life;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(body, sizeof body,
             "{\"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\", \"Token\": \"%s\", "
             "\"Expiration\": \"%s\"}",
             k->id, k->secret, k->token, exp);
    snprintf(path, sizeof path, "%s/creds.json.tmp", state_dir);
    write_file(path, body);
    char to[512];
    snprintf(to, sizeof to, "%s/creds.json", state_dir);
    assert_int_equal(rename(path, to), 0);
}

/* How many answers cred_server.py gave at endpoint what. */
static int hits(const char *what)
{
    char path[512], buf[4096] = "";
    snprintf(path, sizeof path, "%s/hits.json", state_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    json_t *j = json_loads(buf, 0, NULL);
    int v = (int)json_integer_value(json_object_get(j, what));
    json_decref(j);
    return v;
}

static int bootstrap(void **state)
{
    (void)state;
    moto = getenv("MOTO_AUTH_URL");
    server = getenv("CRED_SERVER_URL");
    state_dir = getenv("CRED_SERVER_STATE");
    snprintf(tmp, sizeof tmp, "%s", state_dir);
    moto_auth(false);
    make_user("iasql-a", &user_a);
    make_user("iasql-b", &user_b);
    make_user("iasql-c", &user_c);
    char trust[1024];
    snprintf(trust, sizeof trust,
             "%%7B%%22Version%%22%%3A%%222012-10-17%%22%%2C%%22Statement%%22%%3A%%5B%%7B%%22Effect"
             "%%22%%3A%%22Allow%%22%%2C%%22Principal%%22%%3A%%7B%%22AWS%%22%%3A%%22arn%%3Aaws%%3A"
             "iam%%3A%%3A" ACCOUNT "%%3Auser%%2Fiasql-a%%22%%7D%%2C%%22Action%%22%%3A%%22sts%%3A"
             "AssumeRole%%22%%7D%%5D%%7D");
    iam("Action=CreateRole&RoleName=iasql-creds-role&AssumeRolePolicyDocument=%s", trust);
    iam("Action=PutRolePolicy&RoleName=iasql-creds-role&PolicyName=all&PolicyDocument=%s",
        ALLOW_ALL);
    /* an STS session of the role: a key moto accepts only with its token */
    char u[512];
    const char *out;
    snprintf(u, sizeof u,
             "%s/?Action=AssumeRole&Version=2011-06-15&RoleArn=%s&RoleSessionName=it&"
             "DurationSeconds=3600",
             moto, ROLE_ARN);
    assert_int_equal(it_http_as("sts", "POST", u, "", &out), 200);
    extract(out, "AccessKeyId", role.id, sizeof role.id);
    extract(out, "SecretAccessKey", role.secret, sizeof role.secret);
    extract(out, "SessionToken", role.token, sizeof role.token);
    write_file("jwt", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6aXQifQ.c2ln\n");
    write_file("auth", "Bearer it-container-token");
    return 0;
}

/* No credential source but the one a test sets; the machine's own files
 * and instance metadata out of the way. */
static void no_sources(void)
{
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID",
                                       "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN",
                                       "AWS_WEB_IDENTITY_TOKEN_FILE",
                                       "AWS_ROLE_ARN",
                                       "AWS_ROLE_SESSION_NAME",
                                       "AWS_PROFILE",
                                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                       "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                       "AWS_ENDPOINT_URL_STS",
                                       NULL};
    for (int i = 0; vars[i]; i++)
        unsetenv(vars[i]);
    setenv("AWS_CONFIG_FILE", "/nonexistent/iasql-it/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/iasql-it/credentials", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
}

/* The engine starts with the credentials set up, names their source in its
 * log, and a bucket is created and deleted under moto's checking; the
 * test looks at the cloud with the checking off. */
static void deploy_with(const char *name, const char *source, const char *secret)
{
    it_env e;
    moto_auth(true);
    if (it_setup(&e, name))
        fail_msg("the engine did not start with credentials from %s", source);
    if (it_log_count(&e, source) < 1) {
        it_print_log(&e);
        fail_msg("the engine's log does not name the source \"%s\"", source);
    }
    assert_true(it_ok(&e, "SELECT * FROM iasql_install('aws_s3')", 0, NULL));
    char bucket[80];
    snprintf(bucket, sizeof bucket, "creds-%s-%d", name, (int)getpid());
    for (char *c = bucket; *c; c++)
        if (*c == '_')
            *c = '-';
    const char *p[] = {bucket};
    assert_true(it_ok(&e, "INSERT INTO bucket (name) VALUES ($1)", 1, p));
    it_expect_commit(&e, 1, "create");
    moto_auth(false);
    assert_true(it_cloud_has_bucket(e.emulator, bucket));
    moto_auth(true);
    assert_true(it_ok(&e, "DELETE FROM bucket WHERE name = $1", 1, p));
    it_expect_commit(&e, 1, "delete");
    moto_auth(false);
    assert_false(it_cloud_has_bucket(e.emulator, bucket));
    assert_int_equal(it_stop_engine(&e), 0);
    if (secret)
        assert_int_equal(it_leaks(&e, secret), 0);
    it_teardown(&e);
}

static void test_environment_with_session_token(void **state)
{
    (void)state;
    no_sources();
    setenv("AWS_ACCESS_KEY_ID", role.id, 1);
    setenv("AWS_SECRET_ACCESS_KEY", role.secret, 1);
    setenv("AWS_SESSION_TOKEN", role.token, 1);
    deploy_with("env",
                "AWS credentials from the environment (AWS_ACCESS_KEY_ID with "
                "AWS_SESSION_TOKEN)",
                role.secret);
    /* the control: moto's checking is on, and refuses the key without its
     * session token */
    unsetenv("AWS_SESSION_TOKEN");
    moto_auth(true);
    it_env e;
    assert_int_equal(it_setup(&e, "env_no_token"), 0);
    const char *msg = it_sql_error(&e, "SELECT * FROM iasql_install('aws_s3')");
    if (!msg || !strstr(msg, "InvalidAccessKeyId")) /* S3's word for it */
        fail_msg("an install without the session token: %s", msg ? msg : "succeeded");
    moto_auth(false);
    assert_int_equal(it_stop_engine(&e), 0);
    it_teardown(&e);
}

static void test_web_identity(void **state)
{
    (void)state;
    no_sources();
    char tf[512];
    snprintf(tf, sizeof tf, "%s/jwt", state_dir);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tf, 1);
    setenv("AWS_ROLE_ARN", ROLE_ARN, 1);
    setenv("AWS_ROLE_SESSION_NAME", "iasql-it-web", 1);
    setenv("AWS_ENDPOINT_URL_STS", server, 1); /* its other calls pass through to moto */
    serve(&role, 3600);
    int before = hits("session:iasql-it-web");
    deploy_with("web_identity", "AWS credentials from web identity (AWS_ROLE_ARN " ROLE_ARN,
                role.secret);
    assert_true(hits("session:iasql-it-web") > before);
}

static void test_assume_role_profile(void **state)
{
    (void)state;
    no_sources();
    unsetenv("AWS_REGION"); /* the profile's region serves */
    char conf[1024], path[512];
    snprintf(conf, sizeof conf,
             "[profile base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
             "[profile deploy]\nrole_arn = %s\nsource_profile = base\nexternal_id = it-ext\n"
             "duration_seconds = 900\nrole_session_name = iasql-it-role\nregion = us-east-1\n",
             user_a.id, user_a.secret, ROLE_ARN);
    snprintf(path, sizeof path, "%s/config", state_dir);
    write_file(path, conf);
    setenv("AWS_CONFIG_FILE", path, 1);
    setenv("AWS_PROFILE", "deploy", 1);
    deploy_with("assume_role",
                "AWS credentials from assume role " ROLE_ARN
                " (profile deploy, signed with source_profile base)",
                user_a.secret);
    /* the same profile when the role does not trust the signer: the start
     * fails, naming STS's refusal */
    snprintf(conf, sizeof conf,
             "[profile base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
             "[profile deploy]\nrole_arn = %s\nsource_profile = base\n",
             user_b.id, user_b.secret, ROLE_ARN);
    write_file(path, conf);
    moto_auth(true);
    it_env e;
    assert_int_not_equal(it_setup(&e, "assume_refused"), 0);
    assert_true(
        it_log_count(&e, "AWS credentials from shared files: STS AssumeRole: AccessDenied") >= 1);
    moto_auth(false);
    it_teardown(&e);
}

static void test_credential_process(void **state)
{
    (void)state;
    no_sources();
    char script[600], conf[1024], path[512], sp[512];
    snprintf(script, sizeof script,
             "#!/bin/sh\nprintf '{\"Version\": 1, \"AccessKeyId\": \"%%s\", \"SecretAccessKey\": "
             "\"%%s\"}' \"$1\" \"$2\"\n");
    snprintf(sp, sizeof sp, "%s/vend.sh", state_dir);
    write_file(sp, script);
    snprintf(conf, sizeof conf, "[default]\ncredential_process = %s %s %s\n", sp, user_b.id,
             user_b.secret);
    snprintf(path, sizeof path, "%s/config-process", state_dir);
    write_file(path, conf);
    setenv("AWS_CONFIG_FILE", path, 1);
    deploy_with("process", "AWS credentials from profile default (credential_process)",
                NULL /* in the config file, by the test's choice */);
}

/* Only the container endpoint of cred_server.py, with its token file. */
static void container_only(void)
{
    no_sources();
    char url[512], tf[512];
    snprintf(url, sizeof url, "%s/ecs/creds", server);
    snprintf(tf, sizeof tf, "%s/auth", state_dir);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tf, 1);
}

static void test_container_endpoint(void **state)
{
    (void)state;
    container_only();
    serve(&role, 3600);
    int before = hits("container");
    deploy_with("container", "AWS credentials from the container endpoint", role.secret);
    assert_true(hits("container") > before);
    /* a wrong token is refused by the endpoint, and the start names it */
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer wrong", 1);
    it_env e;
    assert_int_not_equal(it_setup(&e, "container_refused"), 0);
    assert_true(it_log_count(&e, "answered HTTP 401") >= 1);
    it_teardown(&e);
}

static void test_instance_metadata(void **state)
{
    (void)state;
    no_sources();
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server, 1); /* IMDSv2 only */
    serve(&user_a, 3600);
    int before = hits("imds");
    deploy_with("imds", "AWS credentials from EC2 instance metadata", user_a.secret);
    assert_true(hits("imds") > before);
}

static void test_moto_instance_metadata(void **state)
{
    (void)state;
    /* moto's own metadata endpoint hands out its fixed test keys, which its
     * checking does not know: this one runs with the checking off */
    no_sources();
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", moto, 1);
    it_env e;
    moto_auth(false);
    assert_int_equal(it_setup(&e, "moto_imds"), 0);
    assert_true(it_log_count(&e, "AWS credentials from EC2 instance metadata") >= 1);
    assert_true(it_ok(&e, "SELECT * FROM iasql_install('aws_s3')", 0, NULL));
    assert_int_equal(it_stop_engine(&e), 0);
    it_teardown(&e);
}

static void test_moto_web_identity(void **state)
{
    (void)state;
    /* moto's own AssumeRoleWithWebIdentity, unsigned as AWS wants it, which
     * moto answers only with its checking off: its answer's format parses,
     * and the engine works with the session it hands out */
    no_sources();
    char tf[512];
    snprintf(tf, sizeof tf, "%s/jwt", state_dir);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tf, 1);
    setenv("AWS_ROLE_ARN", ROLE_ARN, 1);
    it_env e;
    moto_auth(false);
    assert_int_equal(it_setup(&e, "moto_web_identity"), 0);
    assert_true(it_log_count(&e, "AWS credentials from web identity (AWS_ROLE_ARN " ROLE_ARN) >= 1);
    assert_true(it_ok(&e, "SELECT * FROM iasql_install('aws_s3')", 0, NULL));
    assert_int_equal(it_stop_engine(&e), 0);
    it_teardown(&e);
}

/* AWS refuses the credentials early (revoked, or a clock that is off): the
 * request that got ExpiredToken fetches new ones and goes again, once,
 * and the commit goes through. The fault proxy in front of moto answers
 * one request with ExpiredToken. */
static void test_expired_token_refetches(void **state)
{
    (void)state;
    container_only();
    serve(&role, 3600);
    const char *proxy = getenv("CREDS_FAULT_URL");
    char *was = it_strdup(getenv("IT_EMULATOR_URL"));
    setenv("IT_EMULATOR_URL", proxy, 1); /* the engine's AWS_ENDPOINT_URL */
    moto_auth(true);
    it_env e;
    assert_int_equal(it_setup(&e, "expired_token"), 0);
    setenv("IT_EMULATOR_URL", was, 1);
    free(was);
    assert_true(it_ok(&e, "SELECT * FROM iasql_install('aws_s3')", 0, NULL));
    int fetched = hits("container");
    char u[512], name[80];
    const char *out;
    snprintf(u, sizeof u, "%s/__fault__?mode=expired&count=1", proxy);
    assert_int_equal(it_http("GET", u, NULL, &out), 200);
    snprintf(name, sizeof name, "creds-expired-%d", (int)getpid());
    const char *p[] = {name};
    assert_true(it_ok(&e, "INSERT INTO bucket (name) VALUES ($1)", 1, p));
    it_expect_commit(&e, 1, "create");
    assert_true(hits("container") > fetched); /* fetched again for the refused request */
    assert_true(it_ok(&e, "DELETE FROM bucket WHERE name = $1", 1, p));
    it_expect_commit(&e, 1, "delete");
    moto_auth(false);
    assert_false(it_cloud_has_bucket(moto, name));
    assert_int_equal(it_stop_engine(&e), 0);
    it_teardown(&e);
}

/* Credentials that expire during a run are replaced before they do: the
 * endpoint hands out user C's key for 15 s, then user B's. A sync after
 * the refresh point (three quarters of the lifetime) moves the engine to
 * B's; C's key is then deleted, and the next commit, while C's would still
 * be valid, goes through only with B's. */
static void test_refresh_during_a_run(void **state)
{
    (void)state;
    container_only();
    keys c = user_c;
    c.token[0] = '\0';
    double t0 = it_now_s();
    serve(&c, 15);
    moto_auth(true);
    it_env e;
    assert_int_equal(it_setup(&e, "refresh"), 0);
    assert_true(it_ok(&e, "SELECT * FROM iasql_install('aws_s3')", 0, NULL));
    char one[80], two[80];
    snprintf(one, sizeof one, "creds-refresh-one-%d", (int)getpid());
    snprintf(two, sizeof two, "creds-refresh-two-%d", (int)getpid());
    const char *p1[] = {one}, *p2[] = {two};
    assert_true(it_ok(&e, "INSERT INTO bucket (name) VALUES ($1)", 1, p1));
    it_expect_commit(&e, 1, "create");
    int fetched = hits("container");
    keys b = user_b;
    b.token[0] = '\0';
    serve(&b, 3600); /* the source rotates */
    while (it_now_s() - t0 < 12.5)
        it_sleep_ms(100);
    assert_true(it_ok(&e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_true(hits("container") > fetched);
    assert_true(it_log_count(&e, "AWS credentials refreshed from the container endpoint") >= 1);
    moto_auth(false);
    iam("Action=DeleteAccessKey&UserName=iasql-c&AccessKeyId=%s", user_c.id);
    moto_auth(true);
    assert_true(it_ok(&e, "INSERT INTO bucket (name) VALUES ($1)", 1, p2));
    it_expect_commit(&e, 1, "create");
    assert_true(
        it_ok(&e, "DELETE FROM bucket WHERE name IN ($1, $2)", 2, (const char *const[]){one, two}));
    it_expect_commit(&e, 2, "delete");
    moto_auth(false);
    assert_false(it_cloud_has_bucket(e.emulator, one));
    assert_false(it_cloud_has_bucket(e.emulator, two));
    assert_int_equal(it_stop_engine(&e), 0);
    assert_int_equal(it_leaks(&e, user_c.secret), 0);
    assert_int_equal(it_leaks(&e, user_b.secret), 0);
    it_teardown(&e);
}

int main(void)
{
    if (!it_env_ready() || !getenv("MOTO_AUTH_URL") || !getenv("CRED_SERVER_URL") ||
        !getenv("CRED_SERVER_STATE") || !getenv("CREDS_FAULT_URL")) {
        fprintf(stderr, "run through tests/run.sh: MOTO_AUTH_URL, CRED_SERVER_URL, "
                        "CRED_SERVER_STATE and CREDS_FAULT_URL are not set\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_environment_with_session_token),
        cmocka_unit_test(test_web_identity),
        cmocka_unit_test(test_assume_role_profile),
        cmocka_unit_test(test_credential_process),
        cmocka_unit_test(test_container_endpoint),
        cmocka_unit_test(test_instance_metadata),
        cmocka_unit_test(test_moto_instance_metadata),
        cmocka_unit_test(test_moto_web_identity),
        cmocka_unit_test(test_expired_token_refetches),
        cmocka_unit_test(test_refresh_during_a_run),
    };
    return cmocka_run_group_tests_name("creds", tests, bootstrap, NULL);
}
