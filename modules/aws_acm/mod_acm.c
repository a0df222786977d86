/* modules/aws_acm/mod_acm.c — module aws_acm: table certificate (ACM
 * certificates) over ACM's json 1.1 protocol. A row with a certificate body
 * is imported (ImportCertificate), and a new body, chain or key re-imports
 * it under the same ARN; a row without one is requested with DNS
 * validation (RequestCertificate with the action's idempotency token), and
 * the records that validate it are written back. The private key reaches
 * this module only inside the desired image of the commit that sets it
 * (docs/secrets.md); it is checked against the body here, with libcrypto,
 * and sent, never logged nor returned. A listing costs one
 * ListCertificates page per 1000 certificates and, per certificate, a
 * DescribeCertificate and a ListTagsForCertificate, plus a GetCertificate
 * for an imported one. Under the poller's rotation, a known certificate
 * costs its share of a tagging API page (GetResources, 100 a page) and its
 * reads once a rotation. This file must never put the private key in an
 * error, an image or the log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/cm_json.h"
#include "modules/mod_int.h"

extern const char iasql_sql_aws_acm[];

static const mod_json_service acm_api = {"acm", "1.1", "CertificateManager", "certificate"};
static const mod_json_pager certificates = {"ListCertificates", "NextToken", "NextToken",
                                            "CertificateSummaryList"};

/* The tag that carries a create's idempotency token, so that a read after a
 * crash finds an import (which takes no token) by it. */
#define ACM_TOKEN_TAG "iasql:client-token"
/* How long a request may take to show the records that validate it. */
#define ACM_RECORDS_WAIT_MS 60000

static int acm_call(mod_ctx *ctx, const char *region, const char *op, json_t *body, json_t **out,
                    cm_err *err, const char *name)
{
    return mod_json_op(ctx, &acm_api, region, op, body, out, err, name);
}

static bool cert_gone(const cm_err *err)
{
    return strcmp(err->cloud_code, "ResourceNotFoundException") == 0;
}

static const char *str(const json_t *img, const char *col)
{
    return json_string_value(json_object_get(img, col));
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* ---- PEM ---- */

/* PEM text as the table keeps it (acm_pem_normal in aws_acm.sql): LF line
 * ends, no blank lines, one final newline. A new string. */
static char *pem_normal(const char *pem)
{
    size_t n = strlen(pem);
    char *out = malloc(n + 2), *o = out;
    if (!out)
        return NULL;
    for (const char *p = pem; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (*p == '\n' && (o == out || o[-1] == '\n'))
            continue; /* a blank line, or a leading newline */
        *o++ = *p;
    }
    while (o > out && strchr(" \n\t", o[-1]))
        o--;
    size_t lead = strspn(out, " \t");
    memmove(out, out + lead, (size_t)(o - out) - lead);
    o -= lead;
    *o++ = '\n';
    *o = '\0';
    return out;
}

/* A blob member: base64 of s. */
static json_t *blob(const char *s)
{
    size_t n = strlen(s);
    unsigned char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    if (!b64)
        return json_null();
    EVP_EncodeBlock(b64, (const unsigned char *)s, (int)n);
    json_t *v = json_string((const char *)b64);
    OPENSSL_cleanse(b64, strlen((const char *)b64));
    free(b64);
    return v;
}

static X509 *pem_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error();
    return x;
}

/* A key with a passphrase is not asked for one: ACM takes none. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* The domain ACM names a certificate by: its subject's common name, or its
 * first DNS name when it has none. */
static void cert_domain(X509 *x, char *out, size_t size)
{
    out[0] = '\0';
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)size) > 0)
        return;
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (g->type == GEN_DNS) {
            snprintf(out, size, "%.*s", ASN1_STRING_length(g->d.dNSName),
                     (const char *)ASN1_STRING_get0_data(g->d.dNSName));
            break;
        }
    }
    GENERAL_NAMES_free(names);
    ERR_clear_error();
}

/* The key algorithm as ACM names it (RSA_2048, EC_prime256v1). */
static void cert_key_algorithm(X509 *x, char *out, size_t size)
{
    EVP_PKEY *k = X509_get0_pubkey(x);
    char group[64] = "";
    size_t len = 0;
    out[0] = '\0';
    if (k && EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA)
        snprintf(out, size, "RSA_%d", EVP_PKEY_get_bits(k));
    else if (k && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
             EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                            &len)) {
        int n = snprintf(out, size, "EC_%s", group);
        if (n < 0 || (size_t)n >= size)
            out[0] = '\0'; /* no name ACM could have: none rather than a cut one */
    }
    ERR_clear_error();
}

/* Whether the private key (cleartext, never shown) is one PEM key that
 * belongs to the certificate x. */
static bool key_matches(X509 *x, const char *key)
{
    BIO *b = BIO_new_mem_buf(key, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
    BIO_free(b);
    bool ok = k && X509_check_private_key(x, k) == 1;
    EVP_PKEY_free(k);
    ERR_clear_error();
    return ok;
}

/* Whether an issuer or subject name has the organisation org. */
static bool name_has_org(const X509_NAME *name, const char *org)
{
    char o[128];
    return X509_NAME_get_text_by_NID(name, NID_organizationName, o, sizeof o) > 0 &&
           strcmp(o, org) == 0;
}

/* An imported certificate's chain as the row has it: the chain ACM gives
 * back, normalised, without the certificates of Amazon's own CAs that a
 * service may add at its end (no imported chain holds those); NULL when
 * nothing is left. */
static json_t *chain_as_imported(const char *chain)
{
    if (!chain || !*chain)
        return json_null();
    char *norm = pem_normal(chain);
    if (!norm)
        return json_null();
    static const char end_tag[] = "-----END CERTIFICATE-----\n";
    for (;;) {
        size_t n = strlen(norm);
        if (n < sizeof end_tag - 1)
            break;
        /* the start of the last block */
        char *last = NULL;
        for (char *p = strstr(norm, "-----BEGIN CERTIFICATE-----"); p;
             p = strstr(p + 1, "-----BEGIN CERTIFICATE-----"))
            last = p;
        X509 *x = last ? pem_cert(last) : NULL;
        bool amazon = x && name_has_org(X509_get_issuer_name(x), "Amazon");
        X509_free(x);
        if (!amazon)
            break;
        *last = '\0';
    }
    json_t *v = *norm ? json_string(norm) : json_null();
    free(norm);
    return v;
}

/* The checks ACM would make of an import, before anything is sent, with
 * messages that say which column to fix. */
static int check_import(const json_t *desired, const char *key, cm_err *err)
{
    const char *body = str(desired, "certificate_body");
    const char *domain = str(desired, "domain_name"), *alg = str(desired, "key_algorithm");
    X509 *x = pem_cert(body);
    if (!x)
        return cm_err_set(err, CM_EINVAL,
                          "the certificate body of certificate %s is not an X.509 certificate "
                          "Detail: libcrypto could not read its first PEM block. Hint: Give the "
                          "certificate as PEM, leaf first.",
                          domain);
    char cn[256], ka[32];
    cert_domain(x, cn, sizeof cn);
    cert_key_algorithm(x, ka, sizeof ka);
    bool matches = key_matches(x, key);
    X509_free(x);
    if (!matches)
        return cm_err_set(err, CM_EINVAL,
                          "the private key of certificate %s does not belong to its body Detail: "
                          "the key is not an unencrypted PEM key of the certificate's public key. "
                          "Hint: Set private_key to the key the certificate was issued for.",
                          domain);
    if (strcmp(cn, domain ? domain : "") != 0)
        return cm_err_set(err, CM_EINVAL,
                          "the certificate body is for %s, not %s Detail: ACM names an imported "
                          "certificate by its common name. Hint: Set domain_name to '%s'.",
                          cn, domain, cn);
    if (strcmp(ka, alg ? alg : "") != 0)
        return cm_err_set(err, CM_EINVAL,
                          "the key of certificate %s is %s, not %s Detail: ACM reports an imported "
                          "certificate's key algorithm from its key. Hint: Set key_algorithm to "
                          "'%s'.",
                          domain, ka[0] ? ka : "of a kind ACM does not take", alg, ka);
    return 0;
}

/* ---- reading ---- */

static int by_domain(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *dx = str(x, "domain_name"), *dy = str(y, "domain_name");
    return strcmp(dx ? dx : "", dy ? dy : "");
}

/* The DNS records that validate a requested certificate, one per domain,
 * sorted by domain; null for an imported one. */
static json_t *validation_records(const json_t *cert)
{
    const json_t *opts = json_object_get(cert, "DomainValidationOptions");
    if (!json_is_array(opts))
        return json_null();
    size_t n = json_array_size(opts), i;
    json_t **v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return json_null();
    const json_t *o;
    json_array_foreach(opts, i, o)
    {
        const json_t *rr = json_object_get(o, "ResourceRecord");
        v[i] = json_pack(
            "{s:o, s:o, s:o, s:o, s:o}", "domain_name", str_or_null(str(o, "DomainName")), "name",
            str_or_null(str(rr, "Name")), "type", str_or_null(str(rr, "Type")), "value",
            str_or_null(str(rr, "Value")), "status", str_or_null(str(o, "ValidationStatus")));
    }
    qsort(v, n, sizeof *v, by_domain);
    json_t *out = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(out, v[i]);
    free(v);
    return out;
}

/* Whether every domain of a requested certificate has its record yet. */
static bool records_ready(const json_t *cert)
{
    const json_t *opts = json_object_get(cert, "DomainValidationOptions");
    size_t i;
    const json_t *o;
    json_array_foreach(opts, i, o)
    {
        if (!str(json_object_get(o, "ResourceRecord"), "Value"))
            return false;
    }
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A requested certificate's names besides its domain, sorted. */
static json_t *other_names(const json_t *cert)
{
    const json_t *sans = json_object_get(cert, "SubjectAlternativeNames");
    const char *domain = str(cert, "DomainName");
    size_t n = json_array_size(sans), k = 0, i;
    const char **v = calloc(n ? n : 1, sizeof *v);
    json_t *out = json_array();
    const json_t *s;
    json_array_foreach(sans, i, s)
    {
        const char *name = json_string_value(s);
        if (v && name && (!domain || strcmp(name, domain) != 0))
            v[k++] = name;
    }
    if (v)
        qsort(v, k, sizeof *v, cmp_str);
    for (i = 0; v && i < k; i++)
        json_array_append_new(out, json_string(v[i]));
    free(v);
    return out;
}

static int describe(mod_ctx *ctx, const char *region, const char *arn, json_t **cert, cm_err *err)
{
    json_t *reply = NULL;
    *cert = NULL;
    int rc = acm_call(ctx, region, "DescribeCertificate", json_pack("{s:s}", "CertificateArn", arn),
                      &reply, err, arn);
    if (rc && cert_gone(err))
        return cm_err_set(err, CM_ENOTFOUND, "certificate %s does not exist", arn);
    if (rc)
        return rc;
    *cert = json_incref(json_object_get(reply, "Certificate"));
    json_decref(reply);
    return *cert ? 0
                 : cm_err_set(err, CM_EBADREPLY, "DescribeCertificate for %s: no Certificate", arn);
}

static int cloud_tags(mod_ctx *ctx, const char *region, const char *arn, json_t **out, cm_err *err)
{
    json_t *reply = NULL;
    *out = NULL;
    int rc = acm_call(ctx, region, "ListTagsForCertificate",
                      json_pack("{s:s}", "CertificateArn", arn), &reply, err, arn);
    if (rc && cert_gone(err))
        return cm_err_set(err, CM_ENOTFOUND, "certificate %s does not exist", arn);
    if (rc)
        return rc;
    *out = mod_tags_from_list(json_object_get(reply, "Tags"), "Key", "Value");
    json_decref(reply);
    return 0;
}

/* The row image of one certificate, from its description, its tags and,
 * for an imported one, its body. */
static int cert_row(mod_ctx *ctx, const char *region, const char *arn, json_t **out, cm_err *err)
{
    json_t *cert = NULL, *tags = NULL, *got = NULL;
    *out = NULL;
    int rc = describe(ctx, region, arn, &cert, err);
    if (!rc)
        rc = cloud_tags(ctx, region, arn, &tags, err);
    const char *type = str(cert, "Type");
    bool imported = type && strcmp(type, "IMPORTED") == 0;
    if (!rc && imported) {
        rc = acm_call(ctx, region, "GetCertificate", json_pack("{s:s}", "CertificateArn", arn),
                      &got, err, arn);
        if (rc && cert_gone(err))
            rc = cm_err_set(err, CM_ENOTFOUND, "certificate %s does not exist", arn);
    }
    if (rc) {
        json_decref(cert);
        json_decref(tags);
        return rc;
    }
    const char *slash = strrchr(arn, '/');
    const char *alg = str(cert, "KeyAlgorithm");
    json_t *in_use = json_object_get(cert, "InUseBy");
    json_t *row = json_pack(
        "{s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o}", "arn", arn,
        "region", region, "domain_name", str_or_null(str(cert, "DomainName")),
        "subject_alternative_names", imported ? json_array() : other_names(cert), "key_algorithm",
        alg ? alg : "RSA_2048", "tags", tags, "certificate_id",
        str_or_null(slash ? slash + 1 : NULL), "certificate_type", str_or_null(type), "status",
        str_or_null(str(cert, "Status")), "renewal_eligibility",
        str_or_null(str(cert, "RenewalEligibility")), "validation_records",
        imported ? json_null() : validation_records(cert), "in_use", json_array_size(in_use) > 0,
        "not_before", mod_epoch_iso(json_object_get(cert, "NotBefore"), 1.0), "not_after",
        mod_epoch_iso(json_object_get(cert, "NotAfter"), 1.0), "certificate_chain",
        imported ? chain_as_imported(str(got, "CertificateChain")) : json_null());
    if (imported) {
        char *body = str(got, "Certificate") ? pem_normal(str(got, "Certificate")) : NULL;
        /* the key is never read: a mask per certificate, which a re-import
         * (a new serial) changes */
        char mask[160];
        snprintf(mask, sizeof mask, "%s%s", MOD_SECRET_PREFIX,
                 str(cert, "Serial") ? str(cert, "Serial") : "imported");
        json_object_set_new(row, "certificate_body", str_or_null(body));
        json_object_set_new(row, "private_key", json_string(mask));
        free(body);
    } else {
        json_object_set_new(row, "certificate_body", json_null());
        json_object_set_new(row, "private_key", json_null());
    }
    json_decref(cert);
    json_decref(got);
    *out = mod_take_owner(row);
    return *out ? 0 : cm_err_set(err, CM_ENOMEM, "out of memory");
}

/* A region's listing: its rows, and under the poller's rotation the tags
 * of its certificates by ARN from the tagging API (asked once, at the
 * first known certificate; null when that API is not served). */
typedef struct region_rows {
    json_t *rows;
    json_t *tagged;
    bool asked;
} region_rows;

/* A known certificate in the rotation's off turn: its ListCertificates
 * summary and its tags from the tagging API; its other names, body,
 * chain, key mask and validation records keep their known values. */
static json_t *partial_row(const char *region, const char *arn, const json_t *sum,
                           const json_t *tags)
{
    const char *slash = strrchr(arn, '/');
    const char *alg = str(sum, "KeyAlgorithm");
    json_t *row =
        json_pack("{s:s, s:s, s:o, s:s, s:O, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:b}", "arn", arn,
                  "region", region, "domain_name", str_or_null(str(sum, "DomainName")),
                  "key_algorithm", alg ? alg : "RSA_2048", "tags", tags, "certificate_id",
                  str_or_null(slash ? slash + 1 : NULL), "certificate_type",
                  str_or_null(str(sum, "Type")), "status", str_or_null(str(sum, "Status")),
                  "renewal_eligibility", str_or_null(str(sum, "RenewalEligibility")), "in_use",
                  json_is_true(json_object_get(sum, "InUse")), "not_before",
                  mod_epoch_iso(json_object_get(sum, "NotBefore"), 1.0), "not_after",
                  mod_epoch_iso(json_object_get(sum, "NotAfter"), 1.0), MOD_PARTIAL_KEY, 1);
    return mod_take_owner(row);
}

static int collect(mod_ctx *ctx, const char *region, const json_t *summary, void *arg, cm_err *err)
{
    region_rows *rr = arg;
    const char *arn = str(summary, "CertificateArn");
    if (!arn)
        return cm_err_set(err, CM_EBADREPLY, "a certificate without an ARN in ListCertificates");
    if (mod_deep_known(ctx, region, arn) && !mod_deep_wanted(ctx, region, arn)) {
        if (!rr->asked) {
            cm_err terr = {0};
            if (mod_tagged(ctx, region, "acm", &rr->tagged, &terr))
                cm_log(CM_LOG_DEBUG, "certificate tags in %s through the tagging API: %s", region,
                       terr.msg);
            rr->asked = true;
        }
        if (rr->tagged) {
            const json_t *t = json_object_get(rr->tagged, arn);
            json_t *tags = t ? json_incref((json_t *)t) : json_object();
            json_array_append_new(rr->rows, partial_row(region, arn, summary, tags));
            json_decref(tags);
            return 0;
        }
    }
    json_t *row = NULL;
    int rc = cert_row(ctx, region, arn, &row, err);
    return mod_keep_found(rr->rows, rc, row, err);
}

/* ListCertificates' body: every key type (without it, ACM lists only
 * RSA_2048 ones), a page as large as ACM gives. */
static json_t *list_body(void)
{
    return json_pack("{s:{s:[s,s,s,s,s,s,s]}, s:i}", "Includes", "keyTypes", "RSA_1024", "RSA_2048",
                     "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1",
                     "MaxItems", 1000);
}

static int list_region(mod_ctx *ctx, const char *region, json_t *rows, cm_err *err)
{
    json_t *body = list_body();
    region_rows rr = {rows, NULL, false};
    int rc = mod_json_each(ctx, &acm_api, &certificates, region, body, collect, &rr, "(all)", err);
    json_decref(body);
    json_decref(rr.tagged);
    return rc;
}

static int acm_list(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                    cm_err *err)
{
    return mod_list_regions(ctx, regions, nregions, list_region, out, err);
}

/* A mod_item_fn that stops at the certificate tagged with the token. */
typedef struct token_hunt {
    const char *token;
    char arn[2048];
} token_hunt;

static int find_token(mod_ctx *ctx, const char *region, const json_t *summary, void *arg,
                      cm_err *err)
{
    token_hunt *h = arg;
    const char *arn = str(summary, "CertificateArn");
    json_t *reply = NULL;
    if (!arn)
        return 0;
    int rc = acm_call(ctx, region, "ListTagsForCertificate",
                      json_pack("{s:s}", "CertificateArn", arn), &reply, err, arn);
    if (rc && cert_gone(err)) {
        cm_err_clear(err);
        return 0;
    }
    if (rc)
        return rc;
    char v[64] = "";
    mod_owner_in_list(json_object_get(reply, "Tags"), ACM_TOKEN_TAG, "Key", "Value", v, sizeof v);
    json_decref(reply);
    if (strcmp(v, h->token) != 0)
        return 0;
    snprintf(h->arn, sizeof h->arn, "%s", arn);
    return 1;
}

static int acm_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *region = str(image, "region"), *arn = str(image, "arn");
    *out = NULL;
    if (!region)
        return cm_err_set(err, CM_EINVAL, "certificate row lacks a region");
    token_hunt h = {.token = mod_ctx_token(ctx)};
    if (!arn && h.token) {
        /* made by an attempt whose answer a crash lost: found by its token */
        json_t *body = list_body();
        int rc = mod_json_each(ctx, &acm_api, &certificates, region, body, find_token, &h,
                               "(by token)", err);
        json_decref(body);
        if (rc)
            return rc;
        arn = h.arn[0] ? h.arn : NULL;
    }
    if (!arn)
        return cm_err_set(err, CM_ENOTFOUND, "certificate for %s has no ARN to read by",
                          str(image, "domain_name"));
    return cert_row(ctx, region, arn, out, err);
}

/* ---- changing ---- */

/* The cleartext private key of desired, or an error when the row holds only
 * a mask (the user did not set it in this commit). */
static int key_to_send(const json_t *desired, const char **key, cm_err *err)
{
    *key = str(desired, "private_key");
    if (*key && !mod_is_mask(*key))
        return 0;
    return cm_err_set(err, CM_EINVAL,
                      "the private key of certificate %s is not known to the engine Detail: an "
                      "import sends the key, and iasql never keeps one after the commit that "
                      "sent it (nor reads one from ACM). Hint: Set private_key again together "
                      "with the certificate body.",
                      str(desired, "domain_name"));
}

/* ImportCertificate of desired's body, chain and key: a new certificate
 * (arn NULL, with tags) or a re-import under arn (ACM takes no tags then). */
static int import(mod_ctx *ctx, const json_t *desired, const char *arn, char *out_arn, size_t size,
                  cm_err *err)
{
    const char *key, *region = str(desired, "region"), *domain = str(desired, "domain_name");
    int rc = key_to_send(desired, &key, err);
    if (!rc)
        rc = check_import(desired, key, err);
    if (rc)
        return rc;
    json_t *body = json_pack("{s:o, s:o}", "Certificate", blob(str(desired, "certificate_body")),
                             "PrivateKey", blob(key));
    if (str(desired, "certificate_chain"))
        json_object_set_new(body, "CertificateChain", blob(str(desired, "certificate_chain")));
    if (arn) {
        json_object_set_new(body, "CertificateArn", json_string(arn));
    } else {
        json_t *tags = mod_tags_owned(ctx, json_object_get(desired, "tags"));
        if (mod_ctx_token(ctx))
            json_object_set_new(tags, ACM_TOKEN_TAG, json_string(mod_ctx_token(ctx)));
        if (json_object_size(tags))
            json_object_set_new(body, "Tags", mod_tags_to_list(tags));
        json_decref(tags);
    }
    json_t *reply = NULL;
    rc = acm_call(ctx, region, "ImportCertificate", body, &reply, err, domain);
    if (!rc)
        snprintf(out_arn, size, "%s",
                 str(reply, "CertificateArn") ? str(reply, "CertificateArn") : "");
    json_decref(reply);
    if (!rc && !out_arn[0])
        rc = cm_err_set(err, CM_EBADREPLY, "ImportCertificate for certificate %s: no ARN", domain);
    return rc;
}

static int request(mod_ctx *ctx, const json_t *desired, char *out_arn, size_t size, cm_err *err)
{
    const char *region = str(desired, "region"), *domain = str(desired, "domain_name");
    json_t *body = json_pack("{s:s, s:s, s:O}", "DomainName", domain, "ValidationMethod", "DNS",
                             "KeyAlgorithm", json_object_get(desired, "key_algorithm"));
    const json_t *sans = json_object_get(desired, "subject_alternative_names");
    if (json_array_size(sans))
        json_object_set(body, "SubjectAlternativeNames", (json_t *)sans);
    json_t *tags = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    if (mod_ctx_token(ctx)) {
        json_object_set_new(body, "IdempotencyToken", json_string(mod_ctx_token(ctx)));
        json_object_set_new(tags, ACM_TOKEN_TAG, json_string(mod_ctx_token(ctx)));
    }
    if (json_object_size(tags))
        json_object_set_new(body, "Tags", mod_tags_to_list(tags));
    json_decref(tags);
    json_t *reply = NULL;
    int rc = acm_call(ctx, region, "RequestCertificate", body, &reply, err, domain);
    if (!rc)
        snprintf(out_arn, size, "%s",
                 str(reply, "CertificateArn") ? str(reply, "CertificateArn") : "");
    json_decref(reply);
    if (!rc && !out_arn[0])
        rc = cm_err_set(err, CM_EBADREPLY, "RequestCertificate for certificate %s: no ARN", domain);
    return rc;
}

typedef struct records_wait {
    const char *region, *arn;
} records_wait;

static int probe_records(mod_ctx *ctx, const void *arg, bool *done, cm_err *err)
{
    const records_wait *w = arg;
    json_t *cert = NULL;
    int rc = describe(ctx, w->region, w->arn, &cert, err);
    *done = !rc && records_ready(cert);
    json_decref(cert);
    return rc;
}

/* Tags of arn from the cloud's set to desired's (the engine's own kept). */
static int put_tags(mod_ctx *ctx, const char *region, const char *arn, const json_t *known,
                    const json_t *desired, cm_err *err)
{
    json_t *set, *gone;
    mod_tags_diff(known, desired, &set, &gone);
    int rc = 0;
    if (json_object_size(set))
        rc = acm_call(ctx, region, "AddTagsToCertificate",
                      json_pack("{s:s, s:o}", "CertificateArn", arn, "Tags", mod_tags_to_list(set)),
                      NULL, err, arn);
    if (!rc && json_array_size(gone)) {
        json_t *list = json_array();
        size_t i;
        json_t *k;
        json_array_foreach(gone, i, k) json_array_append_new(list, json_pack("{s:O}", "Key", k));
        rc = acm_call(ctx, region, "RemoveTagsFromCertificate",
                      json_pack("{s:s, s:o}", "CertificateArn", arn, "Tags", list), NULL, err, arn);
    }
    json_decref(set);
    json_decref(gone);
    return rc;
}

/* The tags a re-imported certificate has now, to those of desired: ACM
 * keeps tags across a re-import, but an emulator may drop them, and the
 * engine's own (owner, token) stay. */
static int retag_after_import(mod_ctx *ctx, const char *region, const char *arn,
                              const json_t *desired, cm_err *err)
{
    json_t *now = NULL;
    int rc = cloud_tags(ctx, region, arn, &now, err);
    if (rc)
        return rc;
    json_t *want = mod_tags_owned(ctx, json_object_get(desired, "tags"));
    json_t *token = json_object_get(now, ACM_TOKEN_TAG);
    if (token)
        json_object_set(want, ACM_TOKEN_TAG, token);
    rc = put_tags(ctx, region, arn, now, want, err);
    json_decref(now);
    json_decref(want);
    return rc;
}

/* desired with the columns the cloud owns taken from the cloud's image. */
static json_t *with_owned(const json_t *desired, const json_t *cloud)
{
    static const char *const owned[] = {"arn",        "certificate_id",      "certificate_type",
                                        "status",     "renewal_eligibility", "in_use",
                                        "not_before", "not_after",           "validation_records",
                                        NULL};
    json_t *out = json_deep_copy(desired);
    for (int i = 0; owned[i]; i++) {
        json_t *v = json_object_get(cloud, owned[i]);
        json_object_set(out, owned[i], v ? v : json_null());
    }
    return out;
}

static int acm_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = str(desired, "region");
    char arn[2048] = "";
    if (!region)
        return cm_err_set(err, CM_EINVAL, "certificate row lacks a region");
    bool imported = str(desired, "certificate_body") != NULL;
    int rc = imported ? import(ctx, desired, NULL, arn, sizeof arn, err)
                      : request(ctx, desired, arn, sizeof arn, err);
    if (!rc && !imported) {
        records_wait w = {region, arn};
        rc = mod_wait(ctx, probe_records, &w, ACM_RECORDS_WAIT_MS, arn, err);
    }
    json_t *made = NULL;
    if (!rc)
        rc = cert_row(ctx, region, arn, &made, err);
    if (!rc)
        *out = with_owned(desired, made);
    json_decref(made);
    return rc;
}

static bool differs(const json_t *known, const json_t *desired, const char *col)
{
    const json_t *a = json_object_get(known, col), *b = json_object_get(desired, col);
    return !json_equal(a ? a : json_null(), b ? b : json_null());
}

static int acm_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    const char *region = str(desired, "region"), *arn = str(known, "arn");
    if (!region || !arn)
        return cm_err_set(err, CM_EINVAL, "certificate row lacks a region or an ARN");
    bool was_imported = str(known, "certificate_body") != NULL;
    bool imported = str(desired, "certificate_body") != NULL;
    if (was_imported != imported)
        return cm_err_set(err, CM_EINVAL,
                          "certificate %s cannot turn from %s into %s in place Detail: ACM "
                          "re-imports only an imported certificate. Hint: Delete the row and "
                          "insert a new one.",
                          str(desired, "domain_name"), was_imported ? "imported" : "requested",
                          was_imported ? "requested" : "imported");
    bool reimport = imported && (differs(known, desired, "certificate_body") ||
                                 differs(known, desired, "certificate_chain") ||
                                 differs(known, desired, "private_key"));
    char same[2048];
    int rc = 0;
    if (reimport)
        rc = import(ctx, desired, arn, same, sizeof same, err);
    if (!rc && reimport)
        rc = retag_after_import(ctx, region, arn, desired, err);
    else if (!rc)
        rc = put_tags(ctx, region, arn, json_object_get(known, "tags"),
                      json_object_get(desired, "tags"), err);
    if (rc)
        return rc;
    json_t *cloud = NULL;
    if (reimport && (rc = cert_row(ctx, region, arn, &cloud, err)))
        return rc;
    *out = with_owned(desired, cloud ? cloud : known);
    json_decref(cloud);
    return 0;
}

static int acm_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *region = str(known, "region"), *arn = str(known, "arn");
    if (!arn)
        return 0; /* never made */
    int rc = acm_call(ctx, region, "DeleteCertificate", json_pack("{s:s}", "CertificateArn", arn),
                      NULL, err, arn);
    if (rc && cert_gone(err)) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc;
}

static const mod_table_ops certificate_ops = {
    .list = acm_list,
    .read = acm_read,
    .create = acm_create,
    .update = acm_update,
    .remove = acm_remove,
};

#define CID (MOD_COL_CLOUD_ID | MOD_COL_CLOUD_OWNED)
#define OWNED MOD_COL_CLOUD_OWNED
#define IMM MOD_COL_IMMUTABLE

/* The ARN first: a table that refers to a certificate gets it. */
static const mod_column certificate_columns[] = {
    {"arn", CID},
    {"region", IMM},
    {"domain_name", IMM},
    {"subject_alternative_names", IMM},
    {"key_algorithm", IMM},
    {"certificate_body", 0},
    {"certificate_chain", 0},
    {"private_key", MOD_COL_SECRET},
    {"tags", 0},
    {"certificate_id", OWNED},
    {"certificate_type", OWNED},
    {"status", OWNED},
    {"renewal_eligibility", OWNED},
    {"in_use", OWNED},
    {"not_before", OWNED},
    {"not_after", OWNED},
    {"validation_records", OWNED},
    {NULL, 0},
};

/* What only DescribeCertificate and GetCertificate return: it follows the
 * rotation (ListCertificates' summary has the rest, the tagging API the
 * tags). */
static const char *const certificate_deep[] = {"subject_alternative_names", "certificate_body",
                                               "certificate_chain",         "private_key",
                                               "validation_records",        NULL};
static const mod_table certificate_table = {"certificate", certificate_columns, &certificate_ops,
                                            "acm", .deep = certificate_deep};
static const mod_table *const acm_tables[] = {&certificate_table, NULL};
static const char *const acm_deps[] = {"aws_account", NULL};

const mod_module mod_aws_acm = {
    .name = "aws_acm",
    .version = IASQL_VERSION,
    .deps = acm_deps,
    .install_sql = iasql_sql_aws_acm,
    .uninstall_sql = "DROP FUNCTION IF EXISTS certificate_hide_secret();\n"
                     "DROP FUNCTION IF EXISTS acm_pem_normal(text);\n"
                     "DROP FUNCTION IF EXISTS acm_pem_valid(text, text, integer);\n"
                     "DROP FUNCTION IF EXISTS acm_domains_valid(text[]);\n"
                     "DROP FUNCTION IF EXISTS acm_domain_valid(text);\n"
                     "DELETE FROM iasql_secret WHERE table_name = 'certificate';",
    .tables = acm_tables,
};
