/* tests/integration/it_acm.c — module aws_acm (certificate) end to end
 * against moto_server: certificates made at test time with the openssl
 * command, imported with their chain and private key, retagged and
 * re-imported in place, replaced on a new domain, deleted; certificates
 * requested with DNS validation, whose validation records are written
 * back; a rollback to the first commit; import of what was made outside
 * and drift brought in by a sync; bad input refused at INSERT, and a key
 * that is not the certificate's refused before anything is sent. The
 * private key never shows in the table, the audit log, the journal (dump
 * and files), the engine's log or a pg_dump, neither as PEM nor as the
 * base64 it travels in. The cloud is read with plain JSON-protocol HTTP,
 * not through the engine's client. */
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

/* This test's certificates, whatever else the emulator holds: every domain
 * it names ends in -<pid>.<domain>, and the view cert (this session's own)
 * shows only those rows, for reads and writes alike. */
static bool scope(it_env *e)
{
    return it_okf(e,
                  "CREATE TEMP VIEW cert AS SELECT * FROM certificate "
                  "WHERE domain_name LIKE '%%-%d.%%'",
                  (int)getpid());
}

static int setup(void **state)
{
    if (it_fixture(state, "acm", false))
        return -1;
    return it_ok(*state, "SELECT * FROM iasql_install('aws_acm')", 0, NULL) && scope(*state) ? 0
                                                                                             : -1;
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

/* ---- certificates made here ---- */

typedef struct pem_pair {
    char *cert, *key;
} pem_pair;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (buf && !n) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* A self-signed certificate for cn (and its alternative name) with a new
 * key: "rsa:2048" or "ec" (P-256). */
static pem_pair make_cert(const char *cn, const char *kind)
{
    char dir[] = "/tmp/it_acm.XXXXXX", cmd[1024], path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey %s %s -nodes -keyout %s/k.pem -out %s/c.pem -days 30 "
             "-subj '/CN=%s' -addext 'subjectAltName=DNS:%s' 2>/dev/null",
             strcmp(kind, "ec") == 0 ? "ec" : kind,
             strcmp(kind, "ec") == 0 ? "-pkeyopt ec_paramgen_curve:prime256v1" : "", dir, dir, cn,
             cn);
    assert_int_equal(system(cmd), 0);
    pem_pair p;
    snprintf(path, sizeof path, "%s/c.pem", dir);
    p.cert = slurp(path);
    unlink(path);
    snprintf(path, sizeof path, "%s/k.pem", dir);
    p.key = slurp(path);
    unlink(path);
    rmdir(dir);
    assert_non_null(p.cert);
    assert_non_null(p.key);
    return p;
}

static void pem_free(pem_pair *p)
{
    free(p->cert);
    free(p->key);
}

/* A line from the middle of a PEM's base64 (static buffer): a needle that
 * only this PEM holds. */
static const char *pem_needle(const char *pem)
{
    static char out[80];
    int lines = it_count(pem, "\n");
    const char *p = pem;
    for (int i = 0; i < lines / 2 && (p = strchr(p, '\n')); i++)
        p++;
    assert_non_null(p);
    assert_true(strncmp(p, "-----", 5) != 0);
    snprintf(out, sizeof out, "%.40s", p);
    return out;
}

/* 40 characters from the middle of the base64 the PEM is sent in. */
static const char *wire_needle(const char *pem)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static char out[48];
    size_t n = strlen(pem), at = (n / 2) / 3 * 3, k = 0;
    for (size_t i = at; i + 2 < n && k < 40; i += 3) {
        unsigned v = (unsigned char)pem[i] << 16 | (unsigned char)pem[i + 1] << 8 |
                     (unsigned char)pem[i + 2];
        for (int s = 18; s >= 0 && k < 40; s -= 6)
            out[k++] = b64[(v >> s) & 63];
    }
    out[k] = '\0';
    return out;
}

/* The key's text nowhere a secret must never be, as PEM or as sent. */
static void assert_key_hidden(it_env *e, const char *key)
{
    assert_int_equal(it_leaks(e, pem_needle(key)), 0);
    assert_int_equal(it_leaks(e, wire_needle(key)), 0);
}

/* ---- the cloud ---- */

static json_t *acm(it_env *e, const char *op, json_t *body, long *status)
{
    char target[96];
    snprintf(target, sizeof target, "CertificateManager.%s", op);
    long st;
    json_t *j = it_aws_json(e, "acm", "1.1", target, body, &st);
    if (status)
        *status = st;
    else if (st != 200)
        fail_msg("%s: HTTP %ld", op, st);
    return j;
}

/* The certificate as ACM describes it, or NULL when there is none. */
static json_t *cloud_cert(it_env *e, const char *arn)
{
    long st;
    json_t *r = acm(e, "DescribeCertificate", json_pack("{s:s}", "CertificateArn", arn), &st);
    json_t *c = st == 200 ? json_incref(json_object_get(r, "Certificate")) : NULL;
    json_decref(r);
    return c;
}

static json_t *cloud_tags(it_env *e, const char *arn)
{
    json_t *r = acm(e, "ListTagsForCertificate", json_pack("{s:s}", "CertificateArn", arn), NULL);
    json_t *t = json_incref(json_object_get(r, "Tags"));
    json_decref(r);
    return t;
}

/* The body ACM holds for arn (copied). */
static char *cloud_body(it_env *e, const char *arn)
{
    json_t *r = acm(e, "GetCertificate", json_pack("{s:s}", "CertificateArn", arn), NULL);
    const char *b = json_string_value(json_object_get(r, "Certificate"));
    char *out = b ? strdup(b) : NULL;
    json_decref(r);
    return out;
}

/* How many certificates ACM has for this test's domains. */
static int cloud_count(it_env *e)
{
    json_t *r =
        acm(e, "ListCertificates",
            json_pack("{s:{s:[s,s]}}", "Includes", "keyTypes", "RSA_2048", "EC_prime256v1"), NULL);
    char mine[32];
    snprintf(mine, sizeof mine, "-%d.", (int)getpid());
    int n = 0;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(r, "CertificateSummaryList"), i, c)
    {
        const char *d = json_string_value(json_object_get(c, "DomainName"));
        n += d && strstr(d, mine) != NULL;
    }
    json_decref(r);
    return n;
}

static const char *field(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

/* The base64 of s, as ImportCertificate takes a blob (for calls made here). */
static json_t *b64(const char *s)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s), k = 0;
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)s[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)s[i + 2];
        out[k++] = tbl[(v >> 18) & 63];
        out[k++] = tbl[(v >> 12) & 63];
        out[k++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[k++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[k] = '\0';
    json_t *j = json_string(out);
    free(out);
    return j;
}

/* ---- the tests ---- */

static void test_certificate_import_lifecycle(void **state)
{
    it_env *e = *state;
    char cn[64], cn2[64];
    snprintf(cn, sizeof cn, "app-%d.example.com", (int)getpid());
    snprintf(cn2, sizeof cn2, "api-%d.example.com", (int)getpid());
    pem_pair a = make_cert(cn, "rsa:2048"), ca = make_cert("ca.example.org", "rsa:2048");
    pem_pair renewed = make_cert(cn, "rsa:2048"), other = make_cert(cn2, "ec");
    const char *p[] = {cn, a.cert, ca.cert, a.key};
    assert_true(it_ok(e,
                      "INSERT INTO certificate (domain_name, certificate_body, certificate_chain, "
                      "private_key, tags) VALUES ($1, $2, $3, $4, '{\"team\": \"a\"}')",
                      4, p));
    /* the row never shows the key; the stash holds it until the commit */
    assert_string_equal(it_value(e, "SELECT iasql_is_mask(private_key) FROM cert"), "t");
    assert_string_equal(it_admin_value(e, "SELECT count(*) FROM iasql_secret"), "1");
    it_expect_commit(e, 1, "create");
    char *arn = it_strdup(it_value(e, "SELECT arn FROM cert"));
    json_t *c = cloud_cert(e, arn);
    assert_non_null(c);
    assert_string_equal(field(c, "Type"), "IMPORTED");
    assert_string_equal(field(c, "DomainName"), cn);
    char *body = cloud_body(e, arn);
    assert_string_equal(body, a.cert);
    free(body);
    json_t *t = cloud_tags(e, arn);
    char *team = it_tag_value(t, "team"), *owner = it_tag_value(t, "iasql:owner");
    char *dbid = it_database_id(e);
    assert_string_equal(team, "a");
    assert_string_equal(owner, dbid);
    free(team), free(owner), free(dbid);
    json_decref(t);
    /* what ACM says is written back */
    PGresult *r = it_sql(e,
                         "SELECT status, certificate_type, in_use, not_after > now() + '29 days', "
                         "not_before <= now(), arn LIKE '%:certificate/' || certificate_id, "
                         "validation_records IS NULL FROM cert",
                         0, NULL);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "ISSUED");
    assert_string_equal(PQgetvalue(r, 0, 1), "IMPORTED");
    assert_string_equal(PQgetvalue(r, 0, 2), "f");
    assert_string_equal(PQgetvalue(r, 0, 3), "t");
    assert_string_equal(PQgetvalue(r, 0, 4), "t");
    assert_string_equal(PQgetvalue(r, 0, 5), "t");
    assert_string_equal(PQgetvalue(r, 0, 6), "t");
    PQclear(r);
    const char *chain[] = {ca.cert};
    r = it_sql(e, "SELECT certificate_chain = $1 FROM cert", 1, chain);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    json_decref(c);
    /* a sync sees nothing to change: the listing agrees with the row */
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    assert_string_equal(it_value(e, "SELECT iasql_is_mask(private_key) FROM cert"), "t");

    /* tags change in place */
    assert_true(it_ok(e, "UPDATE cert SET tags = '{\"env\": \"prod\"}'", 0, NULL));
    it_expect_commit(e, 1, "update");
    t = cloud_tags(e, arn);
    char *env = it_tag_value(t, "env");
    team = it_tag_value(t, "team");
    assert_string_equal(env, "prod");
    assert_string_equal(team, "");
    free(env), free(team);
    json_decref(t);

    /* a renewed certificate with its new key is re-imported under the same ARN */
    const char *rp[] = {renewed.cert, renewed.key};
    assert_true(it_ok(
        e, "UPDATE cert SET certificate_body = $1, private_key = $2, certificate_chain = NULL", 2,
        rp));
    it_expect_commit(e, 1, "update");
    assert_string_equal(it_value(e, "SELECT arn FROM cert"), arn);
    body = cloud_body(e, arn);
    assert_string_equal(body, renewed.cert);
    free(body);
    t = cloud_tags(e, arn); /* the tags stay */
    env = it_tag_value(t, "env");
    owner = it_tag_value(t, "iasql:owner");
    assert_string_equal(env, "prod");
    assert_true(strlen(owner) > 0);
    free(env), free(owner);
    json_decref(t);
    /* a new body without its key cannot be sent: the key is never kept */
    const char *ap[] = {a.cert};
    assert_true(it_ok(e, "UPDATE cert SET certificate_body = $1", 1, ap));
    r = it_sql(e, "SELECT description FROM iasql_commit()", 0, NULL);
    assert_int_equal(PQntuples(r), 1);
    assert_non_null(strstr(PQgetvalue(r, 0, 0), "private key of certificate"));
    assert_non_null(strstr(PQgetvalue(r, 0, 0), "Set private_key again"));
    PQclear(r);
    body = cloud_body(e, arn);
    assert_string_equal(body, renewed.cert);
    free(body);
    const char *bp[] = {renewed.cert, renewed.key};
    assert_true(it_ok(e, "UPDATE cert SET certificate_body = $1, private_key = $2", 2, bp));
    it_expect_commit(e, 1, "update");

    /* a new domain is a new certificate: replaced */
    const char *op[] = {cn2, other.cert, other.key};
    assert_true(it_ok(e,
                      "UPDATE cert SET domain_name = $1, certificate_body = $2, "
                      "private_key = $3, key_algorithm = 'EC_prime256v1'",
                      3, op));
    assert_string_equal(it_value(e, "SELECT action FROM iasql_preview()"), "replace");
    it_expect_commit(e, 1, "replace");
    assert_null(cloud_cert(e, arn));
    char *arn2 = it_strdup(it_value(e, "SELECT arn FROM cert"));
    assert_string_not_equal(arn2, arn);
    c = cloud_cert(e, arn2);
    assert_string_equal(field(c, "DomainName"), cn2);
    assert_string_equal(field(c, "KeyAlgorithm"), "EC_prime256v1");
    json_decref(c);

    /* nowhere in clear: table, audit log, journal, log, dump, stash */
    assert_string_equal(it_admin_value(e, "SELECT count(*) FROM iasql_secret"), "0");
    assert_key_hidden(e, a.key);
    assert_key_hidden(e, renewed.key);
    assert_key_hidden(e, other.key);
    assert_true(it_leaks(e, pem_needle(other.cert)) > 0); /* the search does see the body */

    assert_true(it_ok(e, "DELETE FROM cert", 0, NULL));
    it_expect_commit(e, 1, "delete");
    assert_null(cloud_cert(e, arn2));
    free(arn), free(arn2);
    pem_free(&a), pem_free(&ca), pem_free(&renewed), pem_free(&other);
}

static void test_certificate_request_and_rollback(void **state)
{
    it_env *e = *state;
    char dn[64], san[64], dn2[64];
    snprintf(dn, sizeof dn, "www-%d.example.net", (int)getpid());
    snprintf(san, sizeof san, "cdn-%d.example.net", (int)getpid());
    snprintf(dn2, sizeof dn2, "*.apps-%d.example.net", (int)getpid());
    const char *p[] = {dn, san};
    assert_true(it_ok(e,
                      "INSERT INTO certificate (domain_name, subject_alternative_names, "
                      "key_algorithm, tags) VALUES ($1, ARRAY[$2], 'RSA_2048', "
                      "'{\"team\": \"web\"}')",
                      2, p));
    it_expect_commit(e, 1, "create");
    char *first = it_strdup(it_value(e, "SELECT max(id) FROM iasql_commits"));
    char *arn = it_strdup(it_value(e, "SELECT arn FROM cert"));
    json_t *c = cloud_cert(e, arn);
    assert_non_null(c);
    assert_string_equal(field(c, "Type"), "AMAZON_ISSUED");
    assert_string_equal(field(c, "DomainName"), dn);
    assert_int_equal(json_array_size(json_object_get(c, "DomainValidationOptions")), 2);
    json_decref(c);
    /* the records that validate it, one per domain, as SQL can use them */
    PGresult *r = it_sql(e,
                         "SELECT v->>'domain_name', v->>'type', v->>'name' LIKE '%' || "
                         "(v->>'domain_name') || '.', v->>'value' <> '' "
                         "FROM cert, jsonb_array_elements(validation_records) v "
                         "ORDER BY 1",
                         0, NULL);
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 0), san);
    assert_string_equal(PQgetvalue(r, 1, 0), dn);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(PQgetvalue(r, i, 1), "CNAME");
        assert_string_equal(PQgetvalue(r, i, 2), "t");
        assert_string_equal(PQgetvalue(r, i, 3), "t");
    }
    PQclear(r);
    assert_string_equal(it_value(e, "SELECT certificate_type FROM cert"), "AMAZON_ISSUED");
    assert_string_equal(it_value(e, "SELECT status FROM cert"), "PENDING_VALIDATION");
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");

    /* later commits: a tag change and a second, wildcard certificate */
    assert_true(it_ok(e, "UPDATE cert SET tags = '{\"team\": \"edge\"}'", 0, NULL));
    it_expect_commit(e, 1, "update");
    const char *w[] = {dn2};
    assert_true(it_ok(e, "INSERT INTO certificate (domain_name) VALUES ($1)", 1, w));
    it_expect_commit(e, 1, "create");
    char *arn2 = it_strdup(it_value(e, "SELECT arn FROM cert WHERE domain_name LIKE '*%'"));
    c = cloud_cert(e, arn2);
    assert_non_null(c);
    json_decref(c);
    /* back to the first commit: the first tags, and no second certificate */
    const char *f[] = {first};
    assert_true(it_ok(e, "SELECT * FROM iasql_rollback($1::bigint)", 1, f));
    assert_null(cloud_cert(e, arn2));
    json_t *t = cloud_tags(e, arn);
    char *team = it_tag_value(t, "team");
    assert_string_equal(team, "web");
    free(team);
    json_decref(t);
    assert_string_equal(it_value(e, "SELECT count(*) FROM cert"), "1");

    /* other names are another certificate: replaced */
    assert_true(it_ok(e, "UPDATE cert SET subject_alternative_names = '{}'", 0, NULL));
    it_expect_commit(e, 1, "replace");
    assert_null(cloud_cert(e, arn));
    assert_true(it_ok(e, "DELETE FROM cert", 0, NULL));
    it_expect_commit(e, 1, "delete");
    assert_int_equal(cloud_count(e), 0);
    free(first), free(arn), free(arn2);
}

static void test_certificate_import_and_drift(void **state)
{
    it_env *e = *state;
    char cn[64], dn[64];
    snprintf(cn, sizeof cn, "outside-%d.example.com", (int)getpid());
    snprintf(dn, sizeof dn, "asked-%d.example.com", (int)getpid());
    pem_pair a = make_cert(cn, "rsa:2048");
    json_t *r = acm(e, "ImportCertificate",
                    json_pack("{s:o, s:o, s:[{s:s, s:s}]}", "Certificate", b64(a.cert),
                              "PrivateKey", b64(a.key), "Tags", "Key", "by", "Value", "console"),
                    NULL);
    char *arn = strdup(field(r, "CertificateArn"));
    json_decref(r);
    r = acm(e, "RequestCertificate",
            json_pack("{s:s, s:s}", "DomainName", dn, "ValidationMethod", "DNS"), NULL);
    char *arn2 = strdup(field(r, "CertificateArn"));
    json_decref(r);
    /* reinstall: what the cloud has is imported */
    assert_true(it_ok(e, "DROP VIEW cert", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_uninstall('aws_acm')", 0, NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_acm')", 0, NULL));
    assert_true(scope(e));
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    const char *p[] = {arn, a.cert};
    PGresult *res = it_sql(e,
                           "SELECT domain_name, tags->>'by', certificate_body = $2, "
                           "iasql_is_mask(private_key), certificate_type, certificate_chain "
                           "IS NULL FROM cert WHERE arn = $1",
                           2, p);
    assert_int_equal(PQntuples(res), 1);
    assert_string_equal(PQgetvalue(res, 0, 0), cn);
    assert_string_equal(PQgetvalue(res, 0, 1), "console");
    assert_string_equal(PQgetvalue(res, 0, 2), "t");
    assert_string_equal(PQgetvalue(res, 0, 3), "t"); /* a mask: the key is never read */
    assert_string_equal(PQgetvalue(res, 0, 4), "IMPORTED");
    assert_string_equal(PQgetvalue(res, 0, 5), "t");
    PQclear(res);
    const char *p2[] = {arn2};
    res = it_sql(e,
                 "SELECT domain_name, certificate_body IS NULL, jsonb_array_length("
                 "validation_records) FROM cert WHERE arn = $1",
                 1, p2);
    assert_int_equal(PQntuples(res), 1);
    assert_string_equal(PQgetvalue(res, 0, 0), dn);
    assert_string_equal(PQgetvalue(res, 0, 1), "t");
    assert_string_equal(PQgetvalue(res, 0, 2), "1");
    PQclear(res);
    /* its tags change without the engine ever holding the key */
    assert_true(it_ok(e, "UPDATE cert SET tags = '{\"by\": \"iasql\"}' WHERE arn = $1", 1, p));
    it_expect_commit(e, 1, "update");
    json_t *t = cloud_tags(e, arn);
    char *by = it_tag_value(t, "by");
    assert_string_equal(by, "iasql");
    free(by);
    json_decref(t);
    /* changed outside: a sync brings it into the row */
    json_decref(acm(e, "AddTagsToCertificate",
                    json_pack("{s:s, s:[{s:s, s:s}]}", "CertificateArn", arn2, "Tags", "Key",
                              "owner", "Value", "ops"),
                    NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT tags->>'owner' FROM cert WHERE "
                                    "certificate_body IS NULL"),
                        "ops");
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_preview()"), "0");
    /* deleted outside: a sync removes the row */
    json_decref(acm(e, "DeleteCertificate", json_pack("{s:s}", "CertificateArn", arn2), NULL));
    assert_true(it_ok(e, "SELECT * FROM iasql_sync()", 0, NULL));
    assert_string_equal(it_value(e, "SELECT count(*) FROM cert"), "1");
    /* an imported certificate cannot come back without its key */
    assert_true(it_ok(e, "DELETE FROM cert", 0, NULL));
    it_expect_commit(e, 1, "delete");
    assert_null(cloud_cert(e, arn));
    assert_key_hidden(e, a.key);
    free(arn), free(arn2);
    pem_free(&a);
}

static void test_certificate_bad_input(void **state)
{
    it_env *e = *state;
    static const it_reject cases[] = {
        {"INSERT INTO certificate (domain_name) VALUES ('no_underscores.example.com')",
         "certificate_domain_name_1_to_253_characters_of_a_dns_name"},
        {"INSERT INTO certificate (domain_name) VALUES ('-lead.example.com')",
         "certificate_domain_name_1_to_253_characters_of_a_dns_name"},
        {"INSERT INTO certificate (domain_name) VALUES ('localhost')",
         "certificate_domain_name_1_to_253_characters_of_a_dns_name"},
        {"INSERT INTO certificate (domain_name) VALUES (repeat('a.', 127) || 'com')",
         "certificate_domain_name_1_to_253_characters_of_a_dns_name"},
        {"INSERT INTO certificate (domain_name, subject_alternative_names) VALUES ('a.example', "
         "ARRAY['ok.example', 'bad name'])",
         "certificate_subject_alternative_names_up_to_100_dns_names"},
        {"INSERT INTO certificate (domain_name, subject_alternative_names) SELECT 'a.example', "
         "array_agg('n' || i || '.example') FROM generate_series(1, 101) i",
         "certificate_subject_alternative_names_up_to_100_dns_names"},
        {"INSERT INTO certificate (domain_name, key_algorithm) VALUES ('a.example', 'DSA_1024')",
         "certificate_key_algorithm_rsa_or_ec"},
        {"INSERT INTO certificate (domain_name, certificate_chain) VALUES ('a.example', "
         "'-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')",
         "certificate_imported_with_body_and_key_requested_with_neither"},
        {"INSERT INTO certificate (domain_name, certificate_body) VALUES ('a.example', "
         "'-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')",
         "certificate_imported_with_body_and_key_requested_with_neither"},
        {"INSERT INTO certificate (domain_name, certificate_body, private_key) VALUES "
         "('a.example', 'not pem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE "
         "KEY-----\n')",
         "certificate_body_pem_up_to_32768_bytes"},
        {"INSERT INTO certificate (domain_name, certificate_body, certificate_chain, private_key) "
         "VALUES ('a.example', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', "
         "'chain', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')",
         "certificate_chain_pem_up_to_2097152_bytes"},
        {"INSERT INTO certificate (domain_name, certificate_body, private_key) VALUES "
         "('a.example', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', "
         "'-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n')",
         "certificate_private_key_unencrypted_pem_up_to_5120_bytes"},
        {"INSERT INTO certificate (domain_name, certificate_body, private_key) VALUES "
         "('a.example', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', "
         "'-----BEGIN PRIVATE KEY-----\n' || repeat('A', 5200) || '\n-----END PRIVATE KEY-----\n')",
         "certificate_private_key_unencrypted_pem_up_to_5120_bytes"},
        {"INSERT INTO certificate (domain_name, subject_alternative_names, certificate_body, "
         "private_key) VALUES ('a.example', ARRAY['b.example'], "
         "'-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', "
         "'-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')",
         "certificate_imported_has_no_alternative_names_to_request"},
        {"INSERT INTO certificate (domain_name, tags) VALUES ('a.example', '{\"aws:k\": \"v\"}')",
         "certificate_tags_up_to_50_strings_no_aws_or_iasql_keys"},
        {"INSERT INTO certificate (domain_name, tags) SELECT 'a.example', jsonb_object_agg('k' "
         "|| i, 'v') FROM generate_series(1, 49) i",
         "certificate_tags_max_48_plus_iasql_owner_and_token"},
        {"INSERT INTO certificate (domain_name, region) VALUES ('a.example', 'mars-1')",
         "certificate_region_fkey"},
    };
    it_expect_rejected(e, cases, sizeof cases / sizeof cases[0]);
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log WHERE origin = 'user'"),
                        "0");
    /* the refusal of a bad key does not show it */
    const char *msg = it_sql_error(
        e, "INSERT INTO certificate (domain_name, certificate_body, private_key) VALUES "
           "('a.example', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', "
           "'-----BEGIN ENCRYPTED PRIVATE KEY-----\nSeCrEtZq9\n-----END ENCRYPTED PRIVATE "
           "KEY-----\n')");
    assert_non_null(msg);
    assert_null(strstr(msg, "SeCrEtZq9"));

    /* a key of another certificate, a wrong domain or key type: refused
     * at the commit, before anything is sent */
    char cn[64], other[64];
    snprintf(cn, sizeof cn, "mine-%d.example.com", (int)getpid());
    snprintf(other, sizeof other, "other-%d.example.com", (int)getpid());
    pem_pair a = make_cert(cn, "rsa:2048"), b = make_cert(cn, "rsa:2048");
    pem_pair ec = make_cert(cn, "ec");
    const char *p[] = {cn, a.cert, b.key, ec.cert, ec.key, other};
    assert_true(it_ok(e,
                      "INSERT INTO certificate (domain_name, certificate_body, private_key) "
                      "VALUES ($1, $2, $3), ($6, $2, $3), ($1, $4, $5)",
                      6, p));
    PGresult *r = it_sql(e, "SELECT description FROM iasql_commit() ORDER BY description", 0, NULL);
    assert_int_equal(PQntuples(r), 3);
    int mismatch = 0, wrong_domain = 0, wrong_alg = 0;
    for (int i = 0; i < 3; i++) {
        const char *d = PQgetvalue(r, i, 0);
        assert_non_null(strstr(d, "failed to create"));
        mismatch += strstr(d, "does not belong to its body") != NULL;
        wrong_domain += strstr(d, "Set domain_name to") != NULL;
        wrong_alg += strstr(d, "Set key_algorithm to 'EC_prime256v1'") != NULL;
    }
    assert_int_equal(mismatch, 2);
    assert_int_equal(wrong_domain, 0); /* the key is checked first */
    assert_int_equal(wrong_alg, 1);
    PQclear(r);
    assert_int_equal(cloud_count(e), 0);
    const char *fix[] = {a.key, other};
    assert_true(it_ok(e, "UPDATE cert SET private_key = $1 WHERE domain_name = $2", 2, fix));
    r = it_sql(e, "SELECT description FROM iasql_commit()", 0, NULL);
    assert_true(PQntuples(r) >= 1);
    int named = 0;
    for (int i = 0; i < PQntuples(r); i++)
        named += strstr(PQgetvalue(r, i, 0), "Set domain_name to") != NULL;
    assert_int_equal(named, 1);
    PQclear(r);
    assert_int_equal(cloud_count(e), 0);
    assert_true(it_ok(e, "DELETE FROM cert", 0, NULL));
    assert_key_hidden(e, a.key);
    assert_key_hidden(e, b.key);
    assert_key_hidden(e, ec.key);
    pem_free(&a), pem_free(&b), pem_free(&ec);
}

/* The poller's rotation (--poll 1 --poll-deep 5: four slots): a quiet poll costs the
 * ListCertificates page, a tagging API page and the reads of about a
 * quarter of the certificates, not two a certificate (--poll-deep 1); it
 * writes nothing; a tag is seen at the next poll, a re-imported body
 * within the rotation, a certificate new in the cloud comes in whole. */
static void test_certificate_rotation(void **state)
{
    it_env *e = *state;
    enum { N = 24 };
    int pid = (int)getpid();
    assert_true(
        it_okf(e,
               "INSERT INTO certificate (domain_name) SELECT 'rot' || g || '-%d.example.org' "
               "FROM generate_series(1, %d) g",
               pid, N));
    it_expect_commit(e, N, "create");
    char cn[64], made[64];
    snprintf(cn, sizeof cn, "rotimp-%d.example.org", pid);
    snprintf(made, sizeof made, "rotmade-%d.example.org", pid);
    pem_pair a = make_cert(cn, "rsa:2048"), b = make_cert(cn, "rsa:2048");
    const char *p[] = {cn, a.cert, a.key};
    assert_true(it_ok(e,
                      "INSERT INTO certificate (domain_name, certificate_body, private_key) "
                      "VALUES ($1, $2, $3)",
                      3, p));
    it_expect_commit(e, 1, "create");
    int total = atoi(it_value(e, "SELECT count(*) FROM certificate"));
    char *audit = it_strdup(it_value(e, "SELECT count(*) FROM iasql_audit_log"));
    long full[2], req[4], sum = 0;
    it_rotation_start(e, "1", "certificate", full, 2);
    it_rotation_start(e, "5", "certificate", req, 4);
    for (int i = 0; i < 4; i++) {
        assert_true(req[i] <= 2 + 3 * (total / 4) * 3);
        sum += req[i];
    }
    assert_true(full[0] >= 1 + 2 * total && full[1] >= 1 + 2 * total);
    assert_true(sum <= 4 * 2 + 2 * total + 1 + 8); /* each one's reads once a rotation */
    assert_string_equal(it_value(e, "SELECT count(*) FROM iasql_audit_log"), audit);
    print_message("rotation: %d certificates, quiet polls %ld %ld in full, %ld %ld %ld %ld "
                  "under the rotation\n",
                  total, full[0], full[1], req[0], req[1], req[2], req[3]);
    char *arn = it_strdup(it_valf(e, "SELECT arn FROM certificate WHERE domain_name = '%s'", cn));
    char one[64];
    snprintf(one, sizeof one, "rot1-%d.example.org", pid);
    char *arn1 = it_strdup(it_valf(e, "SELECT arn FROM certificate WHERE domain_name = '%s'", one));
    json_decref(acm(e, "AddTagsToCertificate",
                    json_pack("{s:s, s:[{s:s, s:s}]}", "CertificateArn", arn1, "Tags", "Key",
                              "team", "Value", "ops"),
                    NULL));
    double t0 = it_now_s();
    assert_true(it_eventually(
        e, "ops", "SELECT coalesce(tags->>'team', '') FROM certificate WHERE domain_name = '%s'",
        one));
    double tag_s = it_now_s() - t0;
    json_decref(acm(e, "ImportCertificate",
                    json_pack("{s:s, s:o, s:o}", "CertificateArn", arn, "Certificate", b64(b.cert),
                              "PrivateKey", b64(b.key)),
                    NULL));
    char like[96];
    snprintf(like, sizeof like, "%%%s%%", pem_needle(b.cert));
    const char *q = "SELECT (certificate_body LIKE '%s')::text FROM certificate WHERE arn = '";
    char sql[512];
    snprintf(sql, sizeof sql, "%s%s'", q, arn);
    t0 = it_now_s();
    assert_true(it_eventually(e, "true", sql, like));
    print_message("a tag seen in %.1f s, a re-imported body in %.1f s\n", tag_s, it_now_s() - t0);
    json_decref(acm(e, "RequestCertificate",
                    json_pack("{s:s, s:s, s:[s], s:[{s:s, s:s}]}", "DomainName", made,
                              "ValidationMethod", "DNS", "SubjectAlternativeNames",
                              "www.example.org", "Tags", "Key", "by", "Value", "console"),
                    NULL));
    assert_true(
        it_eventually(e, "1", "SELECT count(*) FROM certificate WHERE domain_name = '%s'", made));
    assert_string_equal(it_valf(e,
                                "SELECT tags->>'by' || array_to_string(subject_alternative_names, "
                                "',') FROM certificate WHERE domain_name = '%s'",
                                made),
                        "consolewww.example.org");
    it_rotation_end(e);
    free(audit), free(arn), free(arn1);
    pem_free(&a), pem_free(&b);
    assert_true(it_ok(e, "DELETE FROM certificate", 0, NULL));
    PQclear(it_sql(e, "SELECT * FROM iasql_commit()", 0, NULL));
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_certificate_import_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_request_and_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_import_and_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_rotation, setup, teardown),
    };
    return cmocka_run_group_tests_name("aws_acm", tests, NULL, NULL);
}
