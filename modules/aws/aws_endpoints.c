/* modules/aws/aws_endpoints.c — host names and signing regions from the
 * partition data AWS publishes with its SDKs (modules/aws/endpoints.json,
 * the subset of botocore's endpoints.json that tools/aws_endpoints.py keeps),
 * resolved the way botocore's EndpointResolver does: the partition whose
 * region list or pattern holds the region; the service's entry for that
 * region, or, for a global service (IAM), its partition endpoint; for FIPS
 * or dual-stack the variant with exactly those tags, from the entry, the
 * service's defaults or the partition's; then the template expanded. */
#include "modules/aws/aws.h"

#include <ctype.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char iasql_sql_endpoints[];

static json_t *endpoint_data;
static pthread_once_t endpoint_once = PTHREAD_ONCE_INIT;

static void load_data(void)
{
    endpoint_data = json_loads(iasql_sql_endpoints, 0, NULL);
}

static bool region_matches(const json_t *partition, const char *region)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(partition, "regions"), i, r)
    {
        if (strcmp(json_string_value(r), region) == 0)
            return true;
    }
    const char *pattern = json_string_value(json_object_get(partition, "regionRegex"));
    regex_t re;
    if (!pattern || regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool m = regexec(&re, region, 0, NULL, 0) == 0;
    regfree(&re);
    return m;
}

/* The variant of data with exactly the tags fips and dualstack, or NULL. */
static const json_t *variant_of(const json_t *data, bool fips, bool dualstack)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(data, "variants"), i, v)
    {
        const json_t *tags = json_object_get(v, "tags");
        bool f = false, d = false;
        size_t k;
        json_t *t;
        json_array_foreach(tags, k, t)
        {
            f |= strcmp(json_string_value(t), "fips") == 0;
            d |= strcmp(json_string_value(t), "dualstack") == 0;
        }
        if (f == fips && d == dualstack && json_array_size(tags) == (size_t)fips + dualstack)
            return v;
    }
    return NULL;
}

/* The first of the objects (up to four, NULLs skipped) that has key. */
static const char *first_text(const json_t *const *from, int n, const char *key)
{
    for (int i = 0; i < n; i++) {
        const char *s = from[i] ? json_string_value(json_object_get(from[i], key)) : NULL;
        if (s)
            return s;
    }
    return NULL;
}

static const char *scope_region(const json_t *data)
{
    return json_string_value(json_object_get(json_object_get(data, "credentialScope"), "region"));
}

/* {service}, {region} and {dnsSuffix} of template, into out. */
static int expand(const char *template, const char *service, const char *region, const char *dns,
                  cm_buf *out)
{
    int rc = cm_buf_puts(out, "https://");
    for (const char *p = template; !rc && *p;) {
        if (strncmp(p, "{service}", 9) == 0)
            rc = cm_buf_puts(out, service), p += 9;
        else if (strncmp(p, "{region}", 8) == 0)
            rc = cm_buf_puts(out, region), p += 8;
        else if (strncmp(p, "{dnsSuffix}", 11) == 0)
            rc = cm_buf_puts(out, dns), p += 11;
        else
            rc = cm_buf_append(out, p++, 1);
    }
    return rc;
}

const char *aws_partition_of(const char *region)
{
    pthread_once(&endpoint_once, load_data);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(endpoint_data, "partitions"), i, p)
    {
        if (region_matches(p, region))
            return json_string_value(json_object_get(p, "partition"));
    }
    return "aws";
}

/* The signing name's entry in the data's "signing" table, or NULL. */
static const json_t *signing_entry(const char *service)
{
    pthread_once(&endpoint_once, load_data);
    return json_object_get(json_object_get(endpoint_data, "signing"), service);
}

void aws_service_env_id(const char *service, char *out, size_t size)
{
    const char *id = json_string_value(json_object_get(signing_entry(service), "serviceId"));
    size_t n = 0;
    for (const char *s = id ? id : service; *s && n + 1 < size; s++)
        out[n++] = *s == ' ' || *s == '-' ? '_' : (char)toupper((unsigned char)*s);
    out[n] = '\0';
}

int aws_resolve_endpoint(const char *service, const char *region, bool fips, bool dualstack,
                         cm_buf *url, char *signing_region, size_t size, cm_err *err)
{
    pthread_once(&endpoint_once, load_data);
    if (!endpoint_data)
        return cm_err_set(err, CM_EINVAL, "the built-in AWS endpoint data does not parse");
    /* requests name their signing name; the data is keyed by endpoint prefix */
    const char *prefix =
        json_string_value(json_object_get(signing_entry(service), "endpointPrefix"));
    if (prefix)
        service = prefix;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(endpoint_data, "partitions"), i, p)
    {
        const json_t *svc = json_object_get(json_object_get(p, "services"), service);
        const json_t *eps = json_object_get(svc, "endpoints");
        const char *name = region;
        if (!json_object_get(eps, region)) {
            if (!region_matches(p, region))
                continue;
            const char *global = json_string_value(json_object_get(svc, "partitionEndpoint"));
            const json_t *regional = json_object_get(svc, "isRegionalized");
            if (global && json_is_false(regional)) /* a global service: IAM */
                name = global;
        }
        const char *part = json_string_value(json_object_get(p, "partition"));
        if (dualstack && (strcmp(part, "aws-iso") == 0 || strcmp(part, "aws-iso-b") == 0))
            return cm_err_set(err, CM_ECONFIG,
                              "partition %s has no dual-stack endpoints (%s in %s) Hint: unset "
                              "AWS_USE_DUALSTACK_ENDPOINT.",
                              part, service, region);
        const json_t *entry = json_object_get(eps, name);
        const json_t *sdef = json_object_get(svc, "defaults");
        const json_t *pdef = json_object_get(p, "defaults");
        const char *host, *dns;
        if (fips || dualstack) {
            const json_t *v[3] = {variant_of(entry, fips, dualstack),
                                  variant_of(sdef, fips, dualstack),
                                  variant_of(pdef, fips, dualstack)};
            if (!v[0] && !v[1] && !v[2])
                return cm_err_set(err, CM_ECONFIG,
                                  "AWS has no %s%s%s endpoint for %s in %s Hint: unset "
                                  "AWS_USE_FIPS_ENDPOINT or AWS_USE_DUALSTACK_ENDPOINT.",
                                  fips ? "FIPS" : "", fips && dualstack ? " dual-stack" : "",
                                  !fips ? "dual-stack" : "", service, region);
            host = first_text(v, 3, "hostname");
            dns = first_text(v, 3, "dnsSuffix");
        } else {
            const json_t *from[3] = {entry, sdef, pdef};
            host = first_text(from, 3, "hostname");
            dns = NULL;
        }
        if (!dns)
            dns = json_string_value(json_object_get(p, "dnsSuffix"));
        const char *scope = scope_region(entry);
        if (!scope)
            scope = scope_region(sdef);
        snprintf(signing_region, size, "%s", scope ? scope : region);
        if (!host || expand(host, service, name, dns ? dns : "", url))
            return cm_err_set(err, CM_EINVAL, "no endpoint for %s in %s", service, region);
        return 0;
    }
    return cm_err_set(err, CM_ECONFIG,
                      "region %s is in no AWS partition (aws, aws-cn, aws-us-gov, aws-iso, "
                      "aws-iso-b, ...)",
                      region);
}
