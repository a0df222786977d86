/* modules/aws/aws_cred.c — the standard credential chain and region. Must
 * never copy a secret anywhere but the aws_creds it fills. */
#include "modules/aws/aws.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strdup(v) : NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Reads one profile of an INI-style credentials file. */
static int load_profile(aws_creds *out, const char *path, const char *profile, cm_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cm_err_set(err, CM_ECONFIG,
                          "no AWS credentials: set AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY, or create %s",
                          path);
    char line[4096];
    bool in_profile = false, found = false;
    while (fgets(line, sizeof line, f)) {
        char *s = trim(line);
        if (*s == '#' || *s == ';' || !*s)
            continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (e)
                *e = '\0';
            in_profile = strcmp(trim(s + 1), profile) == 0;
            found |= in_profile;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!in_profile || !eq)
            continue;
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        char **slot = strcmp(key, "aws_access_key_id") == 0       ? &out->access_key
                      : strcmp(key, "aws_secret_access_key") == 0 ? &out->secret_key
                      : strcmp(key, "aws_session_token") == 0     ? &out->session_token
                                                                  : NULL;
        if (slot) {
            free(*slot);
            *slot = strdup(val);
        }
    }
    fclose(f);
    if (!found)
        return cm_err_set(err, CM_ECONFIG, "AWS profile [%s] not found in %s", profile, path);
    if (!out->access_key || !out->secret_key)
        return cm_err_set(err, CM_ECONFIG, "AWS profile [%s] in %s lacks a key id or secret",
                          profile, path);
    return 0;
}

int aws_creds_load(aws_creds *out, cm_err *err)
{
    memset(out, 0, sizeof *out);
    out->access_key = dup_env("AWS_ACCESS_KEY_ID");
    out->secret_key = dup_env("AWS_SECRET_ACCESS_KEY");
    if (out->access_key && out->secret_key) {
        out->session_token = dup_env("AWS_SESSION_TOKEN");
        return 0;
    }
    aws_creds_clear(out);
    const char *profile = getenv("AWS_PROFILE");
    if (!profile || !*profile)
        profile = "default";
    char path[4096];
    const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE");
    if (file && *file) {
        snprintf(path, sizeof path, "%s", file);
    } else {
        const char *home = getenv("HOME");
        snprintf(path, sizeof path, "%s/.aws/credentials", home ? home : "");
    }
    int rc = load_profile(out, path, profile, err);
    if (rc)
        aws_creds_clear(out);
    return rc;
}

static void wipe(char **s)
{
    if (*s) {
        volatile char *p = *s;
        while (*p)
            *p++ = '\0';
        free(*s);
        *s = NULL;
    }
}

void aws_creds_clear(aws_creds *c)
{
    if (!c)
        return;
    wipe(&c->access_key);
    wipe(&c->secret_key);
    wipe(&c->session_token);
}

const char *aws_default_region(void)
{
    const char *r = getenv("AWS_REGION");
    if (!r || !*r)
        r = getenv("AWS_DEFAULT_REGION");
    return r && *r ? r : "us-east-1";
}
