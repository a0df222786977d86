/* tests/unit/test_creds.c — the credential chain without a network: the
 * shared files (sections, merging, comments), each source's selection and
 * its errors, credential_process, expiration times, the container URL
 * rules, the error that lists every source, and a refresh under threads.
 * Instance metadata points at a closed 127.0.0.1 port; nothing here
 * reaches another host. The HTTP sources are tested against servers in
 * tests/integration/it_creds.c. */
#include <pthread.h>
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

#include "modules/aws/aws.h"
#include "modules/aws/aws_cred.h"

static char dir[] = "/tmp/iasql-creds.XXXXXX";
static char config_path[256], creds_path[256];

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

/* No source configured but the files named here (empty), and instance
 * metadata at a port nothing listens on. */
static void clean_env(void)
{
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID",
                                       "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN",
                                       "AWS_WEB_IDENTITY_TOKEN_FILE",
                                       "AWS_ROLE_ARN",
                                       "AWS_ROLE_SESSION_NAME",
                                       "AWS_PROFILE",
                                       "AWS_DEFAULT_PROFILE",
                                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                       "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                       "AWS_EC2_METADATA_DISABLED",
                                       "AWS_REGION",
                                       "AWS_DEFAULT_REGION",
                                       NULL};
    for (int i = 0; vars[i]; i++)
        unsetenv(vars[i]);
    setenv("AWS_CONFIG_FILE", config_path, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", creds_path, 1);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
    write_file(config_path, "", 0600);
    write_file(creds_path, "", 0600);
    aws_creds_reset();
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(config_path, sizeof config_path, "%s/config", dir);
    snprintf(creds_path, sizeof creds_path, "%s/credentials", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The chain's first answer: 0 and the key id, or the error. */
static int get(aws_creds *c, cm_err *err)
{
    uint64_t gen = 0;
    memset(c, 0, sizeof *c);
    aws_creds_reset();
    return aws_creds_get(c, &gen, err);
}

static void test_profile_files(void **state)
{
    (void)state;
    clean_env();
    write_file(config_path,
               "[default]\nregion = eu-west-3\n"
               "[profile dev]  \n; a comment\nregion=ap-south-1\naws_access_key_id = AKCONFIG\n"
               "aws_secret_access_key = sconfig # inline comment\n"
               "s3 =\n  region = nested-not-read\n"
               "[dev]\naws_access_key_id = NOT-A-CONFIG-SECTION\n",
               0600);
    write_file(creds_path, "[dev]\naws_access_key_id=AKCREDS\n[profile dev]\nx = y\n", 0600);
    aws_profile p;
    cm_err err = {0};
    assert_int_equal(aws_profile_load(&p, "dev", &err), 0);
    assert_true(p.found);
    assert_string_equal(aws_profile_get(&p, "aws_access_key_id"), "AKCREDS"); /* credentials win */
    assert_string_equal(aws_profile_get(&p, "aws_secret_access_key"), "sconfig");
    assert_string_equal(aws_profile_get(&p, "region"), "ap-south-1");
    assert_null(aws_profile_get(&p, "x"));
    aws_profile_free(&p);
    assert_int_equal(aws_profile_load(&p, "nobody", &err), 0);
    assert_false(p.found);
    aws_profile_free(&p);
    /* the region comes from the profile when the environment has none */
    assert_string_equal(aws_default_region(), "eu-west-3");
    setenv("AWS_PROFILE", "dev", 1);
    assert_string_equal(aws_default_region(), "ap-south-1");
    setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
    assert_string_equal(aws_default_region(), "us-west-1");
    setenv("AWS_REGION", "us-east-2", 1);
    assert_string_equal(aws_default_region(), "us-east-2");
    /* a missing file is no profile, not an error */
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    assert_int_equal(aws_profile_load(&p, "dev", &err), 0);
    assert_string_equal(aws_profile_get(&p, "aws_access_key_id"), "AKCREDS");
    assert_null(aws_profile_get(&p, "region"));
    aws_profile_free(&p);
}

static void test_environment_and_static_profiles(void **state)
{
    (void)state;
    aws_creds c;
    cm_err err = {0};
    char src[512];
    clean_env();
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "senv", 1);
    setenv("AWS_SESSION_TOKEN", "tenv", 1);
    write_file(creds_path, "[default]\naws_access_key_id=AKFILE\naws_secret_access_key=sfile\n",
               0600);
    assert_int_equal(get(&c, &err), 0);
    assert_string_equal(c.access_key, "AKENV"); /* the environment comes first */
    assert_string_equal(c.session_token, "tenv");
    aws_creds_source(src, sizeof src);
    assert_non_null(strstr(src, "environment"));
    assert_null(strstr(src, "senv")); /* never the secret */
    aws_creds_clear(&c);
    unsetenv("AWS_SECRET_ACCESS_KEY");
    assert_int_equal(get(&c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SESSION_TOKEN");
    assert_int_equal(get(&c, &err), 0);
    assert_string_equal(c.access_key, "AKFILE");
    assert_null(c.session_token);
    aws_creds_clear(&c);
    setenv("AWS_PROFILE", "missing", 1);
    assert_int_equal(get(&c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "profile missing is in neither"));
    assert_non_null(strstr(err.msg, "AWS_PROFILE"));
    write_file(config_path, "[profile half]\naws_access_key_id = AKHALF\n", 0600);
    setenv("AWS_PROFILE", "half", 1);
    assert_int_equal(get(&c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "profile half has aws_access_key_id but not"));
    write_file(config_path, "[profile sso]\nsso_session = corp\nsso_account_id = 1\n", 0600);
    setenv("AWS_PROFILE", "sso", 1);
    assert_int_equal(get(&c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "IAM Identity Center (SSO)"));
    assert_non_null(strstr(err.msg, "export-credentials"));
}

static void test_role_profiles_refused(void **state)
{
    (void)state;
    aws_creds c;
    cm_err err = {0};
    clean_env();
    write_file(config_path,
               "[profile lone]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
               "[profile both]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
               "source_profile = lone\ncredential_source = Environment\n"
               "[profile loop-a]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
               "source_profile = loop-b\n"
               "[profile loop-b]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
               "source_profile = loop-a\n"
               "[profile odd]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
               "credential_source = Somewhere\n"
               "[profile noenv]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
               "credential_source = Environment\n"
               "[profile short]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
               "source_profile = short\naws_access_key_id = AK\naws_secret_access_key = s\n"
               "duration_seconds = 60\n"
               "[profile ghost]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
               "source_profile = nowhere\n",
               0600);
    static const struct {
        const char *profile, *message;
    } cases[] = {
        {"lone", "profile lone sets role_arn but neither source_profile nor credential_source"},
        {"both", "sets both source_profile and credential_source"},
        {"loop-a", "chain is longer than 5 (a cycle?)"},
        {"odd", "credential_source \"Somewhere\" is none of"},
        {"noenv", "credential_source Environment: AWS_ACCESS_KEY_ID is not set"},
        {"short", "duration_seconds \"60\" is not a number of seconds from 900 to 43200"},
        {"ghost", "profile nowhere, the source_profile of profile ghost, is in neither"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("AWS_PROFILE", cases[i].profile, 1);
        assert_int_equal(get(&c, &err), CM_ECONFIG);
        if (!strstr(err.msg, cases[i].message))
            fail_msg("profile %s: %s", cases[i].profile, err.msg);
        assert_non_null(strstr(err.msg, "AWS credentials from shared files"));
    }
}

static void test_nothing_found_lists_every_source(void **state)
{
    (void)state;
    aws_creds c;
    cm_err err = {0};
    clean_env();
    assert_int_equal(get(&c, &err), CM_ECONFIG);
    static const char *const parts[] = {
        "no AWS credentials found",
        "environment: AWS_ACCESS_KEY_ID is not set",
        "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set",
        "shared files: profile default is in neither",
        "container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and",
        "instance metadata: PUT http://127.0.0.1:1/latest/api/token",
        "docs/credentials.md"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (!strstr(err.msg, parts[i]))
            fail_msg("missing \"%s\" in: %s", parts[i], err.msg);
    /* a profile with only a region is no credentials either */
    write_file(config_path, "[default]\nregion = us-west-2\n", 0600);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    assert_int_equal(get(&c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "shared files: profile default has no credentials"));
    assert_non_null(strstr(err.msg, "instance metadata: AWS_EC2_METADATA_DISABLED is true"));
    /* a half-configured web identity is an error, not a skip */
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r", 1);
    assert_int_equal(get(&c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not"));
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
    assert_int_equal(get(&c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "cannot read the token file /nonexistent/token"));
}

static void test_parse_time(void **state)
{
    (void)state;
    assert_int_equal(aws_parse_time("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(aws_parse_time("2026-12-01T17:00:00Z"), 1796144400);
    assert_int_equal(aws_parse_time("2026-12-01T17:00:00.123456Z"), 1796144400);
    assert_int_equal(aws_parse_time("2026-12-01T18:00:00+01:00"), 1796144400);
    assert_int_equal(aws_parse_time("2026-12-01T16:30:00-0030"), 1796144400);
    assert_int_equal(aws_parse_time("2026-12-01 17:00:00Z"), 1796144400);
    assert_int_equal(aws_parse_time("2026-12-01T17:00:00"), -1); /* no zone */
    assert_int_equal(aws_parse_time("2026-13-01T17:00:00Z"), -1);
    assert_int_equal(aws_parse_time("yesterday"), -1);
    assert_int_equal(aws_parse_time("2026-12-01T17:00:00Zjunk"), -1);
}

static void test_process_output(void **state)
{
    (void)state;
    aws_creds c;
    time_t exp;
    cm_err err = {0};
    const char *ok = "{\"Version\": 1, \"AccessKeyId\": \"AKP\", \"SecretAccessKey\": \"sp\", "
                     "\"SessionToken\": \"tp\", \"Expiration\": \"2026-12-01T17:00:00Z\"}";
    assert_int_equal(aws_process_output(ok, strlen(ok), &c, &exp, &err), 0);
    assert_string_equal(c.access_key, "AKP");
    assert_string_equal(c.session_token, "tp");
    assert_int_equal(exp, 1796144400);
    aws_creds_clear(&c);
    const char *forever = "{\"Version\": 1, \"AccessKeyId\": \"AKP\", \"SecretAccessKey\": \"sp\"}";
    assert_int_equal(aws_process_output(forever, strlen(forever), &c, &exp, &err), 0);
    assert_int_equal(exp, 0);
    assert_null(c.session_token);
    aws_creds_clear(&c);
    static const struct {
        const char *out, *message;
    } bad[] = {
        {"not json", "not a JSON object"},
        {"{\"Version\": 2, \"AccessKeyId\": \"a\", \"SecretAccessKey\": \"b\"}",
         "Version is not 1"},
        {"{\"Version\": 1, \"AccessKeyId\": \"a\"}", "lacks an access key id or secret"},
        {"{\"Version\": 1, \"AccessKeyId\": \"a\", \"SecretAccessKey\": \"b\", \"Expiration\": "
         "\"soon\"}",
         "\"soon\" is not an ISO 8601 time"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(aws_process_output(bad[i].out, strlen(bad[i].out), &c, &exp, &err),
                         CM_EBADREPLY);
        if (!strstr(err.msg, bad[i].message))
            fail_msg("%s: %s", bad[i].out, err.msg);
        assert_null(c.access_key);
    }
}

static void test_credential_process(void **state)
{
    (void)state;
    aws_creds c;
    cm_err err = {0};
    char script[300], conf[1024];
    clean_env();
    snprintf(script, sizeof script, "%s/vend.sh", dir);
    write_file(script,
               "#!/bin/sh\n[ \"$1\" = fail ] && { echo 'nope' >&2; exit 3; }\n"
               "printf '{\"Version\": 1, \"AccessKeyId\": \"AK%s\", \"SecretAccessKey\": \"s\"}' "
               "\"$1\"\n",
               0700);
    snprintf(conf, sizeof conf,
             "[default]\ncredential_process = %s one\n[profile bad]\ncredential_process = %s fail\n"
             "[profile absent]\ncredential_process = %s/no-such-command\n",
             script, script, dir);
    write_file(config_path, conf, 0600);
    assert_int_equal(get(&c, &err), 0);
    assert_string_equal(c.access_key, "AKone");
    char src[512];
    aws_creds_source(src, sizeof src);
    assert_string_equal(src, "profile default (credential_process)");
    aws_creds_clear(&c);
    setenv("AWS_PROFILE", "bad", 1);
    assert_int_equal(get(&c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "the command exited with status 3"));
    setenv("AWS_PROFILE", "absent", 1);
    assert_int_equal(get(&c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "the command exited with status 127"));
}

static void test_container_urls(void **state)
{
    (void)state;
    char url[256];
    cm_err err = {0};
    clean_env();
    assert_int_equal(aws_container_url(url, sizeof url, &err), CM_ENOTFOUND);
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", 1);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/ignored", 1);
    assert_int_equal(aws_container_url(url, sizeof url, &err), 0);
    assert_string_equal(url, "http://169.254.170.2/v2/credentials/abc"); /* relative first */
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    assert_int_equal(aws_container_url(url, sizeof url, &err), 0);
    assert_string_equal(url, "http://127.0.0.1:9/ignored");
    static const struct {
        const char *url;
        bool ok;
    } cases[] = {
        {"http://127.0.0.1:8080/creds", true},
        {"http://localhost/creds", true},
        {"http://[::1]:80/creds", true},
        {"http://169.254.170.23/v1/credentials", true},
        {"http://169.254.170.2/creds", true},
        {"https://creds.example.com/x", true},
        {"http://creds.example.com/x", false},
        {"http://10.0.0.1/creds", false},
        {"file:///etc/passwd", false},
        {"not a url", false},
        {"http://127.0.0.1.evil.example/x", false},
        {"http://127.1.2.3/x", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (aws_container_url_allowed(cases[i].url) != cases[i].ok)
            fail_msg("%s should be %s", cases[i].url, cases[i].ok ? "allowed" : "refused");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.169.254/latest", 1);
    assert_int_equal(aws_container_url(url, sizeof url, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "neither https nor http to a loopback"));
    aws_creds c;
    assert_int_equal(get(&c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "AWS credentials from container endpoint"));
}

/* --- a refresh while threads use the credentials ------------------------ */

static volatile int stop_threads;

typedef struct {
    int generations, torn, errors;
} worker_seen;

static void *worker(void *arg)
{
    worker_seen *w = arg;
    aws_creds c = {0};
    uint64_t gen = 0, last = 0;
    while (!stop_threads) {
        cm_err err = {0};
        if (aws_creds_get(&c, &gen, &err)) {
            w->errors++;
            continue;
        }
        if (gen != last) {
            w->generations++;
            last = gen;
        }
        /* key, secret and token come from one answer: AK<n>, s<n>, t<n> */
        if (strcmp(c.access_key + 2, c.secret_key + 1) != 0 ||
            strcmp(c.access_key + 2, c.session_token + 1) != 0)
            w->torn++;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    aws_creds_clear(&c);
    return NULL;
}

static void test_refresh_under_threads(void **state)
{
    (void)state;
    char script[300], count[300], conf[700];
    clean_env();
    snprintf(script, sizeof script, "%s/rotate.sh", dir);
    snprintf(count, sizeof count, "%s/count", dir);
    /* each answer is new credentials valid for 3 s */
    write_file(script,
               "#!/bin/sh\nn=$(cat \"$1\" 2>/dev/null || echo 0); n=$((n + 1)); "
               "echo $n >\"$1\"\n"
               "exp=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)\n"
               "printf '{\"Version\": 1, \"AccessKeyId\": \"AK%s\", \"SecretAccessKey\": "
               "\"s%s\", \"SessionToken\": \"t%s\", \"Expiration\": \"%s\"}' $n $n $n $exp\n",
               0700);
    snprintf(conf, sizeof conf, "[default]\ncredential_process = %s %s\n", script, count);
    write_file(config_path, conf, 0600);
    aws_creds_reset();
    enum { N = 4 };
    pthread_t t[N];
    worker_seen seen[N];
    memset(seen, 0, sizeof seen);
    stop_threads = 0;
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, &seen[i]), 0);
    struct timespec run = {7, 0};
    nanosleep(&run, NULL);
    stop_threads = 1;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(seen[i].torn, 0);
        assert_int_equal(seen[i].errors, 0);
        /* each thread moved on to refreshed credentials, more than once */
        if (seen[i].generations < 3)
            fail_msg("thread %d saw %d generations in 7 s", i, seen[i].generations);
    }
    FILE *f = fopen(count, "r");
    int fetched = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &fetched), 1);
    fclose(f);
    /* about one fetch every 2 s: refreshed ahead, not on every request */
    if (fetched < 3 || fetched > 8)
        fail_msg("%d fetches in 7 s", fetched);
    aws_creds_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_files),
        cmocka_unit_test(test_environment_and_static_profiles),
        cmocka_unit_test(test_role_profiles_refused),
        cmocka_unit_test(test_nothing_found_lists_every_source),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_process_output),
        cmocka_unit_test(test_credential_process),
        cmocka_unit_test(test_container_urls),
        cmocka_unit_test(test_refresh_under_threads),
    };
    return cmocka_run_group_tests_name("creds", tests, setup, teardown);
}
