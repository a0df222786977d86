/* modules/aws/aws_profile.c — the shared config and credentials files, as
 * the AWS SDKs read them: INI sections, '#' and ';' comments, and indented
 * sub-settings (a service's "s3 =" block) skipped. Values may be secrets:
 * they are wiped when freed and never logged. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/aws/aws_cred.h"

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int put(aws_profile *p, const char *key, const char *val)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->keys[i], key) == 0) {
            char *v = strdup(val);
            if (!v)
                return CM_ENOMEM;
            aws_wipe_free(p->vals[i]);
            p->vals[i] = v;
            return 0;
        }
    char **k = realloc(p->keys, (p->n + 1) * sizeof *k);
    if (!k)
        return CM_ENOMEM;
    p->keys = k;
    char **v = realloc(p->vals, (p->n + 1) * sizeof *v);
    if (!v)
        return CM_ENOMEM;
    p->vals = v;
    p->keys[p->n] = strdup(key);
    p->vals[p->n] = strdup(val);
    if (!p->keys[p->n] || !p->vals[p->n]) {
        free(p->keys[p->n]);
        aws_wipe_free(p->vals[p->n]);
        return CM_ENOMEM;
    }
    p->n++;
    return 0;
}

/* Is this section header (without brackets) the profile's? The config file
 * names it "profile NAME" ("default" alone too); the credentials file NAME. */
static bool is_section(const char *header, const char *name, bool config)
{
    if (!config)
        return strcmp(header, name) == 0;
    if (strncmp(header, "profile", 7) == 0 && isspace((unsigned char)header[7])) {
        const char *s = header + 8;
        while (isspace((unsigned char)*s))
            s++;
        return strcmp(s, name) == 0;
    }
    return strcmp(name, "default") == 0 && strcmp(header, "default") == 0;
}

static int read_file(aws_profile *p, const char *path, bool config, cm_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return cm_err_set(err, CM_ECONFIG, "cannot read %s: %s", path, strerror(errno));
    }
    char line[8192];
    bool in = false;
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        bool indented = line[0] == ' ' || line[0] == '\t';
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (e)
                *e = '\0';
            in = is_section(trim(s + 1), p->name, config);
            p->found |= in;
            continue;
        }
        if (!in || indented)
            continue; /* another section, or a nested setting */
        char *eq = strchr(s, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        /* an inline comment needs whitespace before it (values may hold '#') */
        for (char *c = val; *c; c++)
            if ((*c == '#' || *c == ';') && c > val && isspace((unsigned char)c[-1])) {
                *c = '\0';
                val = trim(val);
                break;
            }
        if (put(p, key, val))
            rc = cm_err_set(err, CM_ENOMEM, "out of memory");
    }
    fclose(f);
    return rc;
}

static void default_path(char *out, size_t size, const char *var, const char *file)
{
    const char *v = getenv(var);
    if (v && *v) {
        snprintf(out, size, "%s", v);
        return;
    }
    const char *home = getenv("HOME");
    snprintf(out, size, "%s/.aws/%s", home ? home : "", file);
}

const char *aws_profile_name(bool *explicit_name)
{
    const char *n = getenv("AWS_PROFILE");
    if (!n || !*n)
        n = getenv("AWS_DEFAULT_PROFILE");
    if (explicit_name)
        *explicit_name = n && *n;
    return n && *n ? n : "default";
}

int aws_profile_load(aws_profile *p, const char *name, cm_err *err)
{
    memset(p, 0, sizeof *p);
    p->name = strdup(name);
    if (!p->name)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    default_path(p->config_path, sizeof p->config_path, "AWS_CONFIG_FILE", "config");
    default_path(p->credentials_path, sizeof p->credentials_path, "AWS_SHARED_CREDENTIALS_FILE",
                 "credentials");
    int rc = read_file(p, p->config_path, true, err);
    if (!rc)
        rc = read_file(p, p->credentials_path, false, err); /* its keys win */
    if (rc)
        aws_profile_free(p);
    return rc;
}

const char *aws_profile_get(const aws_profile *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->keys[i], key) == 0)
            return *p->vals[i] ? p->vals[i] : NULL;
    return NULL;
}

void aws_profile_free(aws_profile *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->keys[i]);
        aws_wipe_free(p->vals[i]);
    }
    free(p->keys);
    free(p->vals);
    free(p->name);
    memset(p, 0, sizeof *p);
}
