/* tests/integration/it_secrets.c — module aws_secrets_manager (secret) end
 * to end against moto_server: create with every setting, update in place
 * (description, KMS key, tags), a new value as a new version, replace,
 * delete, rollback to the first commit (and the refusal to roll a value
 * back), import of a secret made outside, drift brought in by a sync,
 * adopting a secret that exists or is scheduled for deletion, and bad
 * input refused at INSERT. The value is checked in the cloud through
 * GetSecretValue, and never found in the table, the audit log, the errors,
 * the journal (dump and files), the engine's log or a pg_dump. The cloud is
 * read with plain JSON-protocol HTTP, not through the engine's client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "it_util.h"

static int setup(void **state)
{
    if (it_fixture(state, "secrets", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_secrets_manager')", 0, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

/* One Secrets Manager call straight to the emulator: the decoded answer,
 * and its status (a status other than 200 fails the test when status is
 * NULL). */
static json_t *sm(it_env *e, const char *op, json_t *body, long *status)
{
    char target[96];
    snprintf(target, sizeof target, "secretsmanager.%s", op);
    long st;
    json_t *j = it_aws_json(e, "secretsmanager", "1.1", target, body, &st);
    if (status)
        *status = st;
    else if (st != 200)
        fail_msg("%s: HTTP %ld", op, st);
    return j;
}

/* The secret as DescribeSecret has it, or NULL when there is none. */
static json_t *cloud_secret(it_env *e, const char *name)
{
    long st;
    json_t *r = sm(e, "DescribeSecret", json_pack("{s:s}", "SecretId", name), &st);
    if (st != 200) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/* The current value, as the cloud holds it (static buffer; "" if none). */
static const char *cloud_value(it_env *e, const char *name)
{
    static char out[256];
    json_t *r = sm(e, "GetSecretValue", json_pack("{s:s}", "SecretId", name), NULL);
    const char *v = json_string_value(json_object_get(r, "SecretString"));
    snprintf(out, sizeof out, "%s", v ? v : "");
    json_decref(r);
    return out;
}

static const char *field(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* The version that holds AWSCURRENT (static buffer). */
static const char *current_version(const json_t *s)
{
    static char out[80];
    out[0] = '\0';
    const char *id;
    json_t *stages;
    json_object_foreach(json_object_get(s, "VersionIdsToStages"), id, stages)
    {
        size_t i;
        json_t *st;
        json_array_foreach(stages, i, st)
        {
            if (strcmp(json_string_value(st), "AWSCURRENT") == 0)
                snprintf(out, sizeof out, "%s", id);
        }
    }
    return out;
}

/* Rows of the table, the audit log and the errors (as the user sees them)
 * that hold needle. */
static int db_hits(it_env *e, const char *needle)
{
    const char *p[] = {needle};
    PGresult *r =
        it_sql(e,
               "SELECT (SELECT count(*) FROM secret s WHERE strpos(s::text, $1) > 0) + "
               "(SELECT count(*) FROM iasql_audit_log a WHERE strpos(a::text, $1) > 0) + "
               "(SELECT count(*) FROM iasql_get_errors() g WHERE strpos(g::text, $1) > 0)",
               1, p);
    assert_non_null(r);
    int hits = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return hits;
}

/* No trace of needle in those rows, nor in the journal (dump and files),
 * the engine's log or a pg_dump (it_leaks). */
static void assert_no_trace(it_env *e, const char *needle)
{
    assert_int_equal(db_hits(e, needle), 0);
    assert_int_equal(it_leaks(e, needle), 0);
}

static void test_secret_lifecycle(void **state)
{
    it_env *e = *state;
    char name[64], renamed[64];
    snprintf(name, sizeof name, "app/%d/db-password", (int)getpid());
    snprintf(renamed, sizeof renamed, "app/%d/db-password-b", (int)getpid());
    const char *p[] = {name, "s3cr3t-Vx9Kq2-first", "s3cr3t-Zt7Wp4-second", renamed,
                       "s3cr3t-Lm5Nb8-third"};
    assert_true(it_ok(e,
                      "INSERT INTO secret (name, description, kms_key_id, value, tags) "
                      "VALUES ($1, 'the database password', 'alias/app', $2, "
                      "'{\"team\": \"a\"}')",
                      2, p));
    /* the row never shows the secret */
    PGresult *r = it_sql(e, "SELECT iasql_is_mask(value) FROM secret WHERE name = $1", 1, p);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    it_expect_commit(e, 1, "create");
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    json_t *s = cloud_secret(e, name);
    assert_non_null(s);
    assert_string_equal(field(s, "Description"), "the database password");
    assert_string_equal(field(s, "KmsKeyId"), "alias/app");
    char *team = it_tag_value(json_object_get(s, "Tags"), "team");
    char *owner = it_tag_value(json_object_get(s, "Tags"), "iasql:owner");
    char *dbid = it_database_id(e);
    assert_string_equal(team, "a");
    assert_string_equal(owner, dbid); /* the database that made it, which the row does not show */
    free(team), free(owner), free(dbid);
    assert_string_equal(cloud_value(e, name), p[1]);
    /* the ARN and the version are written back */
    char *v1 = it_strdup(current_version(s));
    const char *q[] = {name, field(s, "ARN"), v1};
    r = it_sql(e, "SELECT arn = $2, version_id = $3 FROM secret WHERE name = $1", 3, q);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    json_decref(s);
    /* the create's ClientRequestToken is the action's token and names the
     * version: the same CreateSecret again (a retry after a crash) is
     * answered, not refused, and makes nothing new */
    assert_int_equal(strlen(v1), 32);
    long st;
    json_decref(sm(
        e, "CreateSecret",
        json_pack("{s:s, s:s, s:s}", "Name", name, "ClientRequestToken", v1, "SecretString", p[1]),
        &st));
    assert_int_equal(st, 200);
    s = cloud_secret(e, name);
    assert_int_equal(json_object_size(json_object_get(s, "VersionIdsToStages")), 1);
    json_decref(s);

    /* in place: description, KMS key and tags; the value stays */
    assert_true(it_ok(e,
                      "UPDATE secret SET description = 'rotated monthly', kms_key_id = "
                      "'alias/other', tags = '{\"team\": \"b\", \"env\": \"dev\"}' WHERE name = $1",
                      1, p));
    it_expect_commit(e, 1, "update");
    s = cloud_secret(e, name);
    assert_string_equal(field(s, "Description"), "rotated monthly");
    assert_string_equal(field(s, "KmsKeyId"), "alias/other");
    assert_int_equal(json_array_size(json_object_get(s, "Tags")), 3); /* team, env, owner */
    team = it_tag_value(json_object_get(s, "Tags"), "team");
    assert_string_equal(team, "b");
    free(team);
    assert_string_equal(current_version(s), v1);
    json_decref(s);
    assert_string_equal(cloud_value(e, name), p[1]);

    /* back to the first commit: its description, key and tags; the same value */
    const char *f[] = {first};
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, f));
    s = cloud_secret(e, name);
    assert_string_equal(field(s, "Description"), "the database password");
    assert_string_equal(field(s, "KmsKeyId"), "alias/app");
    assert_int_equal(json_array_size(json_object_get(s, "Tags")), 2); /* team, owner */
    json_decref(s);
    assert_string_equal(cloud_value(e, name), p[1]);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* a new value is a new version; the old one stays AWSPREVIOUS */
    const char *nv[] = {name, p[2]};
    assert_true(it_ok(e, "UPDATE secret SET value = $2 WHERE name = $1", 2, nv));
    it_expect_commit(e, 1, "update");
    assert_string_equal(cloud_value(e, name), p[2]);
    s = cloud_secret(e, name);
    assert_string_not_equal(current_version(s), v1);
    const char *vq[] = {name, current_version(s)};
    r = it_sql(e, "SELECT version_id = $2, iasql_is_mask(value) FROM secret WHERE name = $1", 2,
               vq);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    json_t *prev = json_object_get(json_object_get(s, "VersionIdsToStages"), v1);
    assert_string_equal(json_string_value(json_array_get(prev, 0)), "AWSPREVIOUS");
    json_decref(s);
    /* going back past a new value would need the old one, which iasql never kept */
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT * FROM iasql_rollback(%s)", first);
    const char *msg = it_sql_error(e, sql);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "set value by hand"));
    assert_string_equal(cloud_value(e, name), p[2]);

    /* a new name is a new secret, made once the old one is gone: it needs
     * the value again, in the same statement */
    const char *rn[] = {name, renamed};
    PGresult *bad = PQexecParams(e->db, "UPDATE secret SET name = $2 WHERE name = $1", 2, NULL, rn,
                                 NULL, NULL, 0);
    assert_int_not_equal(PQresultStatus(bad), PGRES_COMMAND_OK);
    assert_non_null(strstr(PQresultErrorMessage(bad), "secret_value_set_anew_with_a_new_name"));
    PQclear(bad);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    const char *rv[] = {name, renamed, p[4]};
    assert_true(it_ok(e, "UPDATE secret SET name = $2, value = $3 WHERE name = $1", 3, rv));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "replace");
    it_expect_commit(e, 1, "replace");
    assert_null(cloud_secret(e, name));
    assert_string_equal(cloud_value(e, renamed), p[4]);
    s = cloud_secret(e, renamed);
    assert_string_equal(field(s, "Description"), "the database password");
    json_decref(s);

    assert_true(it_ok(e, "DELETE FROM secret WHERE name = $1", 1, p + 3));
    it_expect_commit(e, 1, "delete");
    assert_null(cloud_secret(e, renamed));
    /* force-deleted, not scheduled: the name is free at once */
    json_decref(sm(e, "CreateSecret",
                   json_pack("{s:s, s:s}", "Name", renamed, "SecretString", "reuse-Kk1"), &st));
    assert_int_equal(st, 200);
    json_decref(sm(e, "DeleteSecret",
                   json_pack("{s:s, s:b}", "SecretId", renamed, "ForceDeleteWithoutRecovery", 1),
                   NULL));

    /* nowhere in clear; the same search finds a plain value */
    assert_string_equal(it_admin_value(e, "SELECT count(*) FROM iasql_secret"), "0");
    assert_no_trace(e, "s3cr3t-");
    assert_true(it_leaks(e, "rotated monthly") > 0); /* the searches do see plain values */
    assert_true(db_hits(e, "rotated monthly") > 0);
    free(v1);
    free(first);
}

static void test_secret_import_drift_and_adopt(void **state)
{
    it_env *e = *state;
    char made[64], kept[64], raced[64], doomed[64];
    snprintf(made, sizeof made, "console-%d", (int)getpid());
    snprintf(kept, sizeof kept, "kept-%d", (int)getpid());
    snprintf(raced, sizeof raced, "raced-%d", (int)getpid());
    snprintf(doomed, sizeof doomed, "doomed-%d", (int)getpid());
    json_decref(sm(e, "CreateSecret",
                   json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}]}", "Name", made, "SecretString",
                             "outside-Qm3Rt8", "Description", "by hand", "Tags", "Key", "by",
                             "Value", "console"),
                   NULL));
    json_decref(sm(e, "CreateSecret",
                   json_pack("{s:s, s:s}", "Name", kept, "SecretString", "outside-Ss3Dd4"), NULL));
    /* reinstall: what the cloud has is imported, its value as a mask */
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_secrets_manager')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_secrets_manager')", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    json_t *s = cloud_secret(e, made);
    char *v1 = it_strdup(current_version(s));
    const char *p[] = {made, v1, field(s, "ARN")};
    PGresult *r = it_sql(e,
                         "SELECT description, tags->>'by', version_id = $2, arn = $3, "
                         "value = 'iasql-secret:v' || $2, kms_key_id IS NULL FROM secret "
                         "WHERE name = $1",
                         3, p);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "by hand");
    assert_string_equal(PQgetvalue(r, 0, 1), "console");
    assert_string_equal(PQgetvalue(r, 0, 2), "t");
    assert_string_equal(PQgetvalue(r, 0, 3), "t");
    assert_string_equal(PQgetvalue(r, 0, 4), "t");
    assert_string_equal(PQgetvalue(r, 0, 5), "t");
    PQclear(r);
    json_decref(s);
    assert_no_trace(e, "outside-Qm3Rt8");
    /* changed in the console: a sync brings it in, a new value as a new version */
    json_decref(sm(e, "UpdateSecret",
                   json_pack("{s:s, s:s, s:s}", "SecretId", made, "Description", "edited by hand",
                             "ClientRequestToken", "console-edit-0000000000000000000001"),
                   NULL));
    json_decref(sm(e, "PutSecretValue",
                   json_pack("{s:s, s:s}", "SecretId", made, "SecretString", "outside-Wq4Ee2"),
                   NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    s = cloud_secret(e, made);
    const char *q[] = {made, current_version(s)};
    r = it_sql(e, "SELECT description, version_id = $2 FROM secret WHERE name = $1", 2, q);
    assert_string_equal(PQgetvalue(r, 0, 0), "edited by hand");
    assert_string_equal(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    json_decref(s);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* deleted in the console: a sync removes the row */
    json_decref(sm(e, "DeleteSecret",
                   json_pack("{s:s, s:b}", "SecretId", made, "ForceDeleteWithoutRecovery", 1),
                   NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    r = it_sql(e, "SELECT count(*) FROM secret WHERE name = $1", 1, p);
    assert_string_equal(PQgetvalue(r, 0, 0), "0");
    PQclear(r);

    /* an imported secret's description changes without the engine ever
     * holding its value */
    const char *k[] = {kept};
    assert_true(it_ok(e, "UPDATE secret SET description = 'kept by iasql' WHERE name = $1", 1, k));
    it_expect_commit(e, 1, "update");
    assert_string_equal(cloud_value(e, kept), "outside-Ss3Dd4");
    s = cloud_secret(e, kept);
    assert_string_equal(field(s, "Description"), "kept by iasql");
    json_decref(s);
    assert_true(it_ok(e, "DELETE FROM secret WHERE name = $1", 1, k));
    it_expect_commit(e, 1, "delete");
    assert_null(cloud_secret(e, kept));
    assert_no_trace(e, "outside-Ss3Dd4");

    /* a row for a secret that exists already: the create brings it to the row */
    json_decref(sm(e, "CreateSecret",
                   json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "Name", raced, "SecretString",
                             "old-Rr5Tt6", "Tags", "Key", "old", "Value", "x"),
                   NULL));
    /* and one scheduled for deletion: restored, then brought to the row */
    json_decref(sm(e, "CreateSecret",
                   json_pack("{s:s, s:s}", "Name", doomed, "SecretString", "old-Yy7Uu8"), NULL));
    json_decref(sm(e, "DeleteSecret",
                   json_pack("{s:s, s:i}", "SecretId", doomed, "RecoveryWindowInDays", 7), NULL));
    const char *a[] = {raced, doomed};
    assert_true(it_ok(e,
                      "INSERT INTO secret (name, description, value, tags) VALUES "
                      "($1, 'adopted', 'new-Ii9Oo0', '{\"new\": \"y\"}'), "
                      "($2, 'revived', 'new-Pp1Aa2', '{}')",
                      2, a));
    it_expect_commit(e, 2, "create");
    assert_string_equal(cloud_value(e, raced), "new-Ii9Oo0");
    assert_string_equal(cloud_value(e, doomed), "new-Pp1Aa2");
    s = cloud_secret(e, raced);
    assert_string_equal(field(s, "Description"), "adopted");
    assert_int_equal(json_array_size(json_object_get(s, "Tags")), 2); /* new, owner */
    char *old = it_tag_value(json_object_get(s, "Tags"), "old");
    assert_string_equal(old, "");
    free(old);
    json_decref(s);
    s = cloud_secret(e, doomed);
    json_t *deleted = json_object_get(s, "DeletedDate");
    assert_true(!deleted || json_is_null(deleted)); /* restored */
    assert_string_equal(field(s, "Description"), "revived");
    json_decref(s);
    assert_true(it_ok(e, "DELETE FROM secret WHERE name IN ($1, $2)", 2, a));
    it_expect_commit(e, 2, "delete");
    assert_null(cloud_secret(e, raced));
    assert_null(cloud_secret(e, doomed));
    assert_no_trace(e, "new-Ii9Oo0");
    assert_no_trace(e, "new-Pp1Aa2");
    free(v1);
}

/* A user cannot read a pending secret, nor send a mask as a value. */
static void test_secret_stays_hidden(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e,
                      "INSERT INTO secret (name, value) "
                      "VALUES ('pending-' || pg_backend_pid(), 'pending-Hh4Jk7')",
                      0, NULL));
    const char *msg = it_sql_error(e, "SELECT * FROM iasql_secret");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "permission denied"));
    /* nor set one other than through the row's own, audited write, nor
     * attach the masking trigger to a table of one's own */
    static const char *const denied[] = {
        "SELECT iasql_secret_put('secret', (SELECT max(id) FROM secret), 'value', 'x')",
        "SELECT iasql_secret_drop('secret', (SELECT max(id) FROM secret))",
        "CREATE TEMP TABLE secret (id bigint, name text, region text, value text); "
        "CREATE TRIGGER t BEFORE INSERT ON pg_temp.secret FOR EACH ROW "
        "EXECUTE FUNCTION public.secret_hide_value()",
    };
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        msg = it_sql_error(e, denied[i]);
        assert_non_null(msg);
        assert_non_null(strstr(msg, "permission denied"));
    }
    assert_string_equal(it_value(e, "SELECT count(*) FROM pg_class WHERE relname = 'secret' "
                                    "AND relpersistence = 't'"),
                        "0");
    /* a mask copied from another row is not a value the engine can send */
    assert_true(it_ok(e,
                      "INSERT INTO secret (name, value) SELECT 'copied-' || pg_backend_pid(), "
                      "value FROM secret WHERE name = 'pending-' || pg_backend_pid()",
                      0, NULL));
    PGresult *r =
        it_sql(e, "SELECT action, description FROM iasql_commit() ORDER BY description", 0, NULL);
    assert_int_equal(PQntuples(r), 2);
    assert_non_null(strstr(PQgetvalue(r, 0, 1), "created secret"));
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "failed to create secret"));
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "name=copied-"));
    assert_non_null(strstr(PQgetvalue(r, 1, 1), "set value again"));
    PQclear(r);
    assert_string_equal(cloud_value(e, it_value(e, "SELECT 'pending-' || pg_backend_pid()")),
                        "pending-Hh4Jk7");
    /* the copied row's fix: a real value */
    assert_true(it_ok(
        e, "UPDATE secret SET value = 'fixed-Mn2Bv5' WHERE name = 'copied-' || pg_backend_pid()", 0,
        NULL));
    it_expect_commit(e, 1, "create");
    assert_no_trace(e, "pending-Hh4Jk7");
    assert_no_trace(e, "fixed-Mn2Bv5");
    /* a secret set and deleted before any commit leaves nothing behind */
    assert_true(it_ok(
        e, "INSERT INTO secret (name, value) VALUES ('brief-' || pg_backend_pid(), 'brief-Lp0Oi9')",
        0, NULL));
    assert_string_equal(it_admin_value(e, "SELECT count(*) FROM iasql_secret"), "1");
    assert_true(it_ok(e, "DELETE FROM secret WHERE name = 'brief-' || pg_backend_pid()", 0, NULL));
    assert_string_equal(it_admin_value(e, "SELECT count(*) FROM iasql_secret"), "0");
    assert_true(it_ok(e, "DELETE FROM secret WHERE name LIKE '%-' || pg_backend_pid()", 0, NULL));
    it_expect_commit(e, 2, "delete");
    assert_no_trace(e, "brief-Lp0Oi9");
}

/* A quiet poll of secrets needs no rotation: ListSecrets carries every
 * column (tags too), one page per 100 secrets. 150 secrets: two requests a
 * poll, and a tag changed outside is seen at the next one. */
static void test_secret_quiet_poll(void **state)
{
    it_env *e = *state;
    enum { N = 150 };
    int pid = (int)getpid();
    assert_true(it_okf(e,
                       "INSERT INTO secret (name, value) SELECT 'rot-' || g || '-%d', 'v' || g "
                       "FROM generate_series(1, %d) g",
                       pid, N));
    it_expect_commit(e, N, "create");
    int total = atoi(it_value(e, "SELECT count(*) FROM secret"));
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long req[4];
    it_rotation_start(e, "5", "secret", req, 4);
    for (int i = 0; i < 4; i++)
        assert_true(req[i] <= 1 + total / 100 + 1);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    print_message("%d secrets: quiet polls %ld %ld %ld %ld requests\n", total, req[0], req[1],
                  req[2], req[3]);
    char name[64];
    snprintf(name, sizeof name, "rot-1-%d", pid);
    json_decref(sm(
        e, "TagResource",
        json_pack("{s:s, s:[{s:s, s:s}]}", "SecretId", name, "Tags", "Key", "team", "Value", "ops"),
        NULL));
    assert_true(it_eventually(
        e, "ops", "SELECT coalesce(tags->>'team', '') FROM secret WHERE name = '%s'", name));
    it_rotation_end(e);
    free(audit);
    assert_true(it_ok(e, "DELETE FROM secret", 0, NULL));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
}

static void test_secret_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO secret (name, value) VALUES ('has space', 'v')",
         "secret_name_1_to_512_letters_digits_or_the_symbols_aws_allows"},
        {"INSERT INTO secret (name, value) VALUES ('', 'v')",
         "secret_name_1_to_512_letters_digits_or_the_symbols_aws_allows"},
        {"INSERT INTO secret (name, value) VALUES (repeat('s', 513), 'v')",
         "secret_name_1_to_512_letters_digits_or_the_symbols_aws_allows"},
        {"INSERT INTO secret (name, value, description) VALUES ('s', 'v', repeat('d', 2049))",
         "secret_description_up_to_2048_characters"},
        {"INSERT INTO secret (name, value, kms_key_id) VALUES ('s', 'v', '')",
         "secret_kms_key_id_1_to_2048_characters"},
        {"INSERT INTO secret (name, value) VALUES ('s', repeat('v', 65537))",
         "secret_value_1_to_65536_characters"},
        {"INSERT INTO secret (name, value) VALUES ('s', '')", "secret_value_1_to_65536_characters"},
        {"INSERT INTO secret (name, value) VALUES ('s', NULL)", "null value in column \"value\""},
        {"INSERT INTO secret (name, value, tags) VALUES ('s', 'v', '{\"aws:x\": \"y\"}')",
         "secret_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {"INSERT INTO secret (name, value) VALUES ('dup', 'v'), ('dup', 'w')",
         "secret_name_unique_in_region"},
        {"INSERT INTO secret (name, value, region) VALUES ('s', 'v', 'mars-1')",
         "secret_region_fkey"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"),
                        "0");
    assert_string_equal(it_admin_value(e, "SELECT count(*) FROM iasql_secret"), "0");
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_secret_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_import_drift_and_adopt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_stays_hidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_quiet_poll, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_secrets_manager", tests, NULL, NULL);
}
