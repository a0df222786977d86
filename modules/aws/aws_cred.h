/* modules/aws/aws_cred.h — the credential chain's parts, private to
 * modules/aws/: the shared config and credentials files, the sources the
 * chain resolves to, and how each fetches its credentials. aws.h has the
 * public face (aws_creds_get and friends). */
#ifndef IASQL_AWS_CRED_H
#define IASQL_AWS_CRED_H

#include <stdbool.h>
#include <time.h>

#include "common/cm.h"
#include "modules/aws/aws.h"

/* One profile of the shared files: the keys of its section in the config
 * file ([profile NAME], or [default]) overlaid by those of its section in
 * the credentials file ([NAME]). Values are wiped when freed. */
typedef struct aws_profile {
    char *name;
    char **keys, **vals;
    size_t n;
    bool found; /* a section of that name exists in either file */
    char config_path[1024];
    char credentials_path[1024];
} aws_profile;

/* AWS_CONFIG_FILE (or ~/.aws/config) and AWS_SHARED_CREDENTIALS_FILE (or
 * ~/.aws/credentials). A missing file is no error; an unreadable one is. */
int aws_profile_load(aws_profile *p, const char *name, cm_err *err);
const char *aws_profile_get(const aws_profile *p, const char *key); /* NULL if unset or "" */
void aws_profile_free(aws_profile *p);
/* AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default"; *explicit tells
 * whether one was named. */
const char *aws_profile_name(bool *explicit_name);

typedef enum {
    AWS_SRC_STATIC,       /* keys from the environment or a profile */
    AWS_SRC_WEB_IDENTITY, /* STS AssumeRoleWithWebIdentity with a token file */
    AWS_SRC_ASSUME_ROLE,  /* STS AssumeRole signed with another source's credentials */
    AWS_SRC_PROCESS,      /* credential_process */
    AWS_SRC_CONTAINER,    /* the ECS / EKS Pod Identity endpoint */
    AWS_SRC_IMDS,         /* EC2 instance metadata, IMDSv2 */
} aws_src_kind;

/* Where credentials come from, resolved once; immutable afterwards, so a
 * refresh reads it without a lock. */
typedef struct aws_src {
    aws_src_kind kind;
    char desc[512]; /* for the log: never a secret */
    aws_creds keys; /* AWS_SRC_STATIC */
    char *role_arn, *session_name, *external_id, *token_file, *region;
    int duration_s;        /* 0: STS's default */
    struct aws_src *inner; /* AWS_SRC_ASSUME_ROLE: what signs the AssumeRole */
    char *command;         /* AWS_SRC_PROCESS */
    char *url;             /* AWS_SRC_CONTAINER: the full URL; AWS_SRC_IMDS: the base */
    char *auth_token, *auth_token_file; /* AWS_SRC_CONTAINER */
} aws_src;

void aws_src_free(aws_src *s);
/* Zeroes a string that may hold a secret, then frees it. */
void aws_wipe_free(char *s);
/* Fetches fresh credentials from s. *expires is 0 for credentials that
 * never expire. */
int aws_src_fetch(const aws_src *s, aws_creds *out, time_t *expires, cm_err *err);

/* The parts, exposed for the unit tests. */
/* ISO 8601 (2026-12-01T17:00:00Z, fractions, +hh:mm) to time_t; -1 if malformed. */
time_t aws_parse_time(const char *s);
/* The container endpoint from the environment, or "" (and why in err). */
int aws_container_url(char *out, size_t size, cm_err *err);
/* True when a container credentials URL may be used: https, or http to a
 * loopback address or the ECS / EKS link-local hosts. */
bool aws_container_url_allowed(const char *url);
/* Credentials from credential_process output (JSON, Version 1). */
int aws_process_output(const char *json, size_t len, aws_creds *out, time_t *expires, cm_err *err);

#endif
