/* tests/unit/test_aws.c — the AWS client's pure parts: URI encoding and
 * decoding, endpoint overrides, error decoding, and
 * the query protocol's flattened parameters and XML maps. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "modules/aws/aws.h"
#include "modules/aws/aws_xml.h"
#include "modules/mod_int.h"

static void test_aws_uri_encode(void **state)
{
    (void)state;
    cm_buf b;
    cm_buf_init(&b, 0);
    assert_int_equal(aws_uri_encode(&b, "a-b_c.d~e f/g+h=é"), 0);
    assert_string_equal(cm_buf_str(&b), "a-b_c.d~e%20f%2Fg%2Bh%3D%C3%A9");
    cm_buf_free(&b);
}

/* SigV4 of a path with an escape, as botocore's signer computes it: the
 * path encoded once more than sent ("%3A" signed as "%253A"). */
static void test_aws_sigv4_escaped_path(void **state)
{
    (void)state;
    aws_creds creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};
    aws_request del = {.service = "lambda",
                       .method = "DELETE",
                       .path = "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3A"
                               "function%3Afoo",
                       .query = "tagKeys=a&tagKeys=b%20k"};
    cm_buf b;
    cm_buf_init(&b, 0);
    assert_int_equal(aws_sigv4_authorization(&creds, &del,
                                             "https://lambda.us-east-1.amazonaws.com/2017-03-31/"
                                             "tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%"
                                             "3Afunction%3Afoo?tagKeys=a&tagKeys=b%20k",
                                             "us-east-1", "20261201T120000Z", &b),
                     0);
    assert_string_equal(
        cm_buf_str(&b),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/lambda/"
        "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
        "Signature=ed14f0cc4eb1f9f2608b023cb7824118267079e1aac0fbd9a264d9ef0c866cd1");
    cm_buf_reset(&b);
    creds.session_token = "tok/en+";
    const char *body = "{\"tags\":{\"a\":\"b\"}}";
    aws_request tag = {.service = "apigateway",
                       .method = "POST",
                       .path = "/v2/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fabc",
                       .body = body,
                       .body_len = strlen(body)};
    assert_int_equal(
        aws_sigv4_authorization(&creds, &tag,
                                "https://apigateway.us-east-1.amazonaws.com/v2/tags/"
                                "arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fabc",
                                "us-east-1", "20261201T120000Z", &b),
        0);
    assert_non_null(strstr(cm_buf_str(&b), "SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
                                           "x-amz-security-token, Signature=f0e8abaef65973a9a9e0966"
                                           "bca3b8121d00f1455e284a6fadbb5f8f0984e2aef"));
    cm_buf_free(&b);
}

static void test_aws_uri_decode(void **state)
{
    (void)state;
    char *s = aws_uri_decode("%7B%22a%22%3A%20%22b+c%22%7D%2");
    assert_string_equal(s, "{\"a\": \"b+c\"}%2"); /* '+' kept; a cut escape left alone */
    free(s);
    s = aws_uri_decode("%zz%4");
    assert_string_equal(s, "%zz%4");
    free(s);
}

/* Query parameters flattened and an XML map read back. */
static void test_query_maps(void **state)
{
    (void)state;
    json_t *p = json_object();
    json_t *tags = json_pack("{s:s, s:s}", "team", "a b", "env", "prod");
    mod_query_put_map(p, "Tags.member", "Key", "Value", tags);
    assert_int_equal(json_object_size(p), 4);
    assert_string_equal(json_string_value(json_object_get(p, "Tags.member.1.Key")), "team");
    assert_string_equal(json_string_value(json_object_get(p, "Tags.member.2.Value")), "prod");
    json_t *keys = json_pack("[s, s]", "x", "y");
    mod_query_put_list(p, "TagKeys.member", keys);
    assert_string_equal(json_string_value(json_object_get(p, "TagKeys.member.2")), "y");
    const char xml[] = "<R><Attributes><entry><key>DisplayName</key><value>N &amp; M</value>"
                       "</entry><entry><key>Policy</key><value>{}</value></entry>"
                       "<entry><value>orphan</value></entry></Attributes></R>";
    xmlDocPtr doc;
    assert_int_equal(aws_xml_parse(&doc, xml, sizeof xml - 1, NULL), 0);
    json_t *m =
        mod_xml_map(aws_xml_path(xmlDocGetRootElement(doc), "Attributes"), "entry", "key", "value");
    assert_int_equal(json_object_size(m), 2);
    assert_string_equal(json_string_value(json_object_get(m, "DisplayName")), "N & M");
    assert_null(aws_xml_path(xmlDocGetRootElement(doc), "Attributes/nothing"));
    xmlFreeDoc(doc);
    json_decref(m);
    json_decref(p);
    json_decref(tags);
    json_decref(keys);
}

/* A nested value in the API's JSON form flattened as the query protocol does. */
static void test_query_put_json(void **state)
{
    (void)state;
    json_t *p = json_object();
    json_t *v = json_loads("[{\"Id\": \"m1\", \"ReturnData\": false, \"MetricStat\": "
                           "{\"Period\": 60, \"Metric\": {\"Dimensions\": [{\"Name\": "
                           "\"Q\", \"Value\": \"a\"}]}}}, {\"Id\": \"e1\", \"Label\": null}]",
                           0, NULL);
    assert_non_null(v);
    mod_query_put_json(p, "Metrics", v);
    assert_int_equal(json_object_size(p), 6);
    assert_string_equal(json_string_value(json_object_get(p, "Metrics.member.1.Id")), "m1");
    assert_true(json_is_false(json_object_get(p, "Metrics.member.1.ReturnData")));
    assert_int_equal(json_integer_value(json_object_get(p, "Metrics.member.1.MetricStat.Period")),
                     60);
    assert_string_equal(json_string_value(json_object_get(
                            p, "Metrics.member.1.MetricStat.Metric.Dimensions.member.1.Value")),
                        "a");
    assert_string_equal(json_string_value(json_object_get(p, "Metrics.member.2.Id")), "e1");
    json_t *t = json_real(0.1);
    mod_query_put_json(p, "Threshold", t);
    assert_string_equal(json_string_value(json_object_get(p, "Threshold")), "0.1");
    json_decref(t);
    t = json_real(1e300 / 3);
    mod_query_put_json(p, "Big", t);
    assert_true(strtod(json_string_value(json_object_get(p, "Big")), NULL) == json_real_value(t));
    json_decref(t);
    json_decref(v);
    json_decref(p);
}

static void test_aws_endpoint_overrides(void **state)
{
    (void)state;
    cm_err err = {0};
    cm_buf b;
    cm_buf_init(&b, 0);
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_S3");
    aws_endpoint("s3", "eu-west-1", &b, NULL, 0, &err);
    assert_string_equal(cm_buf_str(&b), "https://s3.eu-west-1.amazonaws.com");
    cm_buf_reset(&b);
    aws_endpoint("iam", "eu-west-1", &b, NULL, 0, &err); /* global */
    assert_string_equal(cm_buf_str(&b), "https://iam.amazonaws.com");
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1/", 1);
    cm_buf_reset(&b);
    aws_endpoint("s3", "eu-west-1", &b, NULL, 0, &err);
    assert_string_equal(cm_buf_str(&b), "http://127.0.0.1:1");
    setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2", 1);
    cm_buf_reset(&b);
    aws_endpoint("s3", "eu-west-1", &b, NULL, 0, &err);
    assert_string_equal(cm_buf_str(&b), "http://127.0.0.1:2");
    cm_buf_reset(&b);
    aws_endpoint("sqs", "eu-west-1", &b, NULL, 0,
                 &err); /* the per-service override is per service */
    assert_string_equal(cm_buf_str(&b), "http://127.0.0.1:1");
    /* the variable is named after the service id, not the signing name */
    setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://127.0.0.1:3", 1);
    cm_buf_reset(&b);
    aws_endpoint("logs", "eu-west-1", &b, NULL, 0, &err);
    assert_string_equal(cm_buf_str(&b), "http://127.0.0.1:3");
    unsetenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_S3");
    cm_buf_free(&b);
}

/* Hosts and signing regions across every partition, FIPS and dual-stack,
 * as botocore's EndpointResolver gives them (checked with botocore 1.43's
 * construct_endpoint when this table was written). */
static void test_aws_partitions(void **state)
{
    (void)state;
    static const struct {
        const char *service, *region;
        bool fips, dualstack;
        const char *host, *scope; /* host NULL: no such endpoint */
    } cases[] = {
        {"sqs", "us-east-1", 0, 0, "sqs.us-east-1.amazonaws.com", "us-east-1"},
        {"sqs", "us-east-1", 1, 0, "sqs-fips.us-east-1.amazonaws.com", "us-east-1"},
        {"sqs", "us-east-1", 0, 1, "sqs.us-east-1.api.aws", "us-east-1"},
        {"sqs", "us-east-1", 1, 1, "sqs-fips.us-east-1.api.aws", "us-east-1"},
        {"sqs", "cn-north-1", 0, 0, "sqs.cn-north-1.amazonaws.com.cn", "cn-north-1"},
        {"sqs", "cn-north-1", 0, 1, "sqs.cn-north-1.api.amazonwebservices.com.cn", "cn-north-1"},
        {"iam", "us-east-1", 0, 0, "iam.amazonaws.com", "us-east-1"},
        {"iam", "eu-west-1", 0, 0, "iam.amazonaws.com", "us-east-1"},
        {"iam", "eu-west-1", 1, 0, "iam-fips.amazonaws.com", "us-east-1"},
        {"iam", "eu-west-1", 0, 1, "iam.global.api.aws", "us-east-1"},
        {"iam", "eu-west-1", 1, 1, "iam-fips.aws-global.api.aws", "us-east-1"},
        {"iam", "cn-north-1", 0, 0, "iam.cn-north-1.amazonaws.com.cn", "cn-north-1"},
        {"iam", "cn-northwest-1", 0, 0, "iam.cn-north-1.amazonaws.com.cn", "cn-north-1"},
        {"iam", "cn-northwest-1", 1, 0, "iam-fips.aws-cn-global.amazonaws.com.cn", "cn-north-1"},
        {"iam", "us-gov-west-1", 0, 0, "iam.us-gov.amazonaws.com", "us-gov-west-1"},
        {"iam", "us-gov-east-1", 0, 0, "iam.us-gov.amazonaws.com", "us-gov-west-1"},
        {"iam", "us-gov-east-1", 1, 0, "iam.us-gov.amazonaws.com", "us-gov-west-1"},
        {"iam", "us-iso-east-1", 0, 0, "iam.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
        {"iam", "us-isob-east-1", 0, 0, "iam.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
        {"iam", "us-iso-east-1", 0, 1, NULL, NULL},
        {"ec2", "us-iso-east-1", 0, 0, "ec2.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
        {"ec2", "us-isob-east-1", 1, 0, "ec2-fips.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
        {"ec2", "us-isob-east-1", 0, 1, NULL, NULL},
        {"s3", "us-east-1", 0, 0, "s3.us-east-1.amazonaws.com", "us-east-1"},
        {"s3", "us-east-1", 0, 1, "s3.dualstack.us-east-1.amazonaws.com", "us-east-1"},
        {"s3", "us-east-1", 1, 1, "s3-fips.dualstack.us-east-1.amazonaws.com", "us-east-1"},
        {"s3", "cn-north-1", 0, 1, "s3.dualstack.cn-north-1.amazonaws.com.cn", "cn-north-1"},
        {"s3", "cn-north-1", 1, 1, "s3-fips.cn-north-1.api.amazonwebservices.com.cn", "cn-north-1"},
        {"sts", "us-east-1", 0, 0, "sts.us-east-1.amazonaws.com", "us-east-1"},
        {"sts", "us-gov-west-1", 1, 0, "sts.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
        {"sts", "us-gov-west-1", 1, 1, "sts-fips.us-gov-west-1.api.aws", "us-gov-west-1"},
        {"sts", "cn-north-1", 0, 0, "sts.cn-north-1.amazonaws.com.cn", "cn-north-1"},
        {"logs", "us-gov-east-1", 1, 0, "logs.us-gov-east-1.amazonaws.com", "us-gov-east-1"},
        {"dynamodb", "us-iso-west-1", 1, 0, "dynamodb-fips.us-iso-west-1.c2s.ic.gov",
         "us-iso-west-1"},
        {"kinesis", "cn-northwest-1", 0, 0, "kinesis.cn-northwest-1.amazonaws.com.cn",
         "cn-northwest-1"},
        {"ssm", "us-isob-east-1", 0, 0, "ssm.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
        {"sns", "eu-isoe-west-1", 0, 0, "sns.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1"},
        {"sns", "eu-isoe-west-1", 0, 1, NULL, NULL},
        {"ec2", "us-isof-south-1", 0, 0, "ec2.us-isof-south-1.csp.hci.ic.gov", "us-isof-south-1"},
        {"iam", "eu-isoe-west-1", 0, 0, "iam.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1"},
        {"sqs", "mars-north-1", 0, 0, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cm_buf b;
        cm_buf_init(&b, 0);
        char scope[64] = "", want[256];
        cm_err err = {0};
        int rc = aws_resolve_endpoint(cases[i].service, cases[i].region, cases[i].fips,
                                      cases[i].dualstack, &b, scope, sizeof scope, &err);
        if (!cases[i].host) {
            if (rc != CM_ECONFIG)
                fail_msg("%s %s fips=%d dualstack=%d: %s, expected no endpoint", cases[i].service,
                         cases[i].region, cases[i].fips, cases[i].dualstack, cm_buf_str(&b));
        } else {
            snprintf(want, sizeof want, "https://%s", cases[i].host);
            if (rc || strcmp(cm_buf_str(&b), want) != 0 || strcmp(scope, cases[i].scope) != 0)
                fail_msg("%s %s fips=%d dualstack=%d: %s signed for %s (%s), expected %s for %s",
                         cases[i].service, cases[i].region, cases[i].fips, cases[i].dualstack,
                         cm_buf_str(&b), scope, rc ? err.msg : "ok", want, cases[i].scope);
        }
        cm_buf_free(&b);
    }
    assert_string_equal(aws_partition_of("cn-north-1"), "aws-cn");
    assert_string_equal(aws_partition_of("us-gov-west-1"), "aws-us-gov");
    assert_string_equal(aws_partition_of("us-iso-east-1"), "aws-iso");
    assert_string_equal(aws_partition_of("us-isob-east-1"), "aws-iso-b");
    assert_string_equal(aws_partition_of("eu-central-1"), "aws");
    /* an overridden URL is still signed for the partition's region */
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
    cm_buf b;
    cm_buf_init(&b, 0);
    char scope[64];
    cm_err err = {0};
    assert_int_equal(aws_endpoint("iam", "us-gov-east-1", &b, scope, sizeof scope, &err), 0);
    assert_string_equal(cm_buf_str(&b), "http://127.0.0.1:1");
    assert_string_equal(scope, "us-gov-west-1");
    unsetenv("AWS_ENDPOINT_URL");
    /* the variants follow the standard settings */
    setenv("AWS_USE_FIPS_ENDPOINT", "true", 1);
    cm_buf_reset(&b);
    assert_int_equal(aws_endpoint("sqs", "us-east-1", &b, scope, sizeof scope, &err), 0);
    assert_string_equal(cm_buf_str(&b), "https://sqs-fips.us-east-1.amazonaws.com");
    unsetenv("AWS_USE_FIPS_ENDPOINT");
    setenv("AWS_USE_DUALSTACK_ENDPOINT", "TRUE", 1);
    cm_buf_reset(&b);
    assert_int_equal(aws_endpoint("ec2", "us-isob-east-1", &b, scope, sizeof scope, &err),
                     CM_ECONFIG);
    assert_non_null(strstr(err.msg, "no dual-stack endpoints"));
    unsetenv("AWS_USE_DUALSTACK_ENDPOINT");
    cm_buf_free(&b);
}

/* A service's endpoint key and override variable come from its model's
 * endpoint prefix and service id, not from special cases. */
static void test_service_ids(void **state)
{
    (void)state;
    char id[64], scope[64];
    aws_service_env_id("logs", id, sizeof id);
    assert_string_equal(id, "CLOUDWATCH_LOGS");
    aws_service_env_id("ecr", id, sizeof id);
    assert_string_equal(id, "ECR");
    aws_service_env_id("not-in-the-data", id, sizeof id);
    assert_string_equal(id, "NOT_IN_THE_DATA");
    cm_buf b;
    cm_buf_init(&b, 0);
    cm_err err = {0};
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_ECR");
    assert_int_equal(aws_endpoint("ecr", "eu-west-1", &b, scope, sizeof scope, &err), 0);
    assert_string_equal(cm_buf_str(&b), "https://api.ecr.eu-west-1.amazonaws.com");
    assert_string_equal(scope, "eu-west-1");
    cm_buf_reset(&b);
    assert_int_equal(aws_endpoint("ecr", "cn-north-1", &b, scope, sizeof scope, &err), 0);
    assert_string_equal(cm_buf_str(&b), "https://api.ecr.cn-north-1.amazonaws.com.cn");
    cm_buf_reset(&b);
    setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://127.0.0.1:4566/", 1);
    assert_int_equal(aws_endpoint("logs", "us-east-1", &b, scope, sizeof scope, &err), 0);
    assert_string_equal(cm_buf_str(&b), "http://127.0.0.1:4566");
    unsetenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS");
    cm_buf_free(&b);
}

/* A REST operation's URI template filled from its input: labels encoded
 * (a greedy one keeps its slashes), the query canonical. */
static void test_rest_uri(void **state)
{
    (void)state;
    cm_buf path, query;
    cm_buf_init(&path, 0);
    cm_buf_init(&query, 0);
    cm_err err = {0};
    json_t *in = json_pack("{s:s, s:s, s:{s:s, s:i, s:b}}", "Bucket", "logs", "Key", "a b/c+d.txt",
                           "query", "prefix", "x/y", "max-keys", 5, "fetch-owner", 1);
    assert_int_equal(aws_rest_uri("/{Bucket}/{Key+}?tagging", in, &path, &query, &err), 0);
    assert_string_equal(cm_buf_str(&path), "/logs/a%20b/c%2Bd.txt");
    assert_string_equal(cm_buf_str(&query), "fetch-owner=true&max-keys=5&prefix=x%2Fy&tagging=");
    cm_buf_reset(&path);
    cm_buf_reset(&query);
    json_t *fn = json_pack("{s:s}", "FunctionName", "my/fn");
    assert_int_equal(aws_rest_uri("/2015-03-31/functions/{FunctionName}", fn, &path, &query, &err),
                     0);
    assert_string_equal(cm_buf_str(&path), "/2015-03-31/functions/my%2Ffn"); /* one segment */
    assert_int_equal(query.len, 0);
    cm_buf_reset(&path);
    assert_int_equal(aws_rest_uri("/{Bucket}", fn, &path, &query, &err), CM_EINVAL);
    assert_non_null(strstr(err.msg, "needs the member Bucket"));
    assert_int_equal(aws_rest_uri("/{Bucket", in, &path, &query, &err), CM_EINVAL);
    json_decref(in);
    json_decref(fn);
    cm_buf_free(&path);
    cm_buf_free(&query);
}

/* The one error contract: a message's fact, detail and hint; the cloud's
 * code kept by a wrap, cleared by a new error. */
static void test_error_contract(void **state)
{
    (void)state;
    cm_err_parts p = cm_err_split("bucket 3 was not created Detail: AccessDenied: no Hint: grant "
                                  "s3:CreateBucket");
    assert_int_equal(p.fact_len, (int)strlen("bucket 3 was not created"));
    assert_memory_equal(p.detail, "AccessDenied: no", (size_t)p.detail_len);
    assert_int_equal(p.detail_len, (int)strlen("AccessDenied: no"));
    assert_string_equal(p.hint, "grant s3:CreateBucket");
    p = cm_err_split("a fact alone");
    assert_null(p.detail);
    assert_null(p.hint);
    assert_int_equal(p.fact_len, 12);
    p = cm_err_split("no detail Hint: do this Detail: not a detail");
    assert_null(p.detail); /* a detail comes before the hint */
    assert_int_equal(p.fact_len, 9);
    cm_err err = {0};
    cm_err_set(&err, CM_ECLOUD, "NoSuchEntity: gone");
    snprintf(err.cloud_code, sizeof err.cloud_code, "NoSuchEntity");
    cm_err_wrap(&err, "GetRole for role r");
    assert_string_equal(err.cloud_code, "NoSuchEntity");
    assert_string_equal(err.msg, "GetRole for role r: NoSuchEntity: gone");
    cm_err_set(&err, CM_ENET, "connection refused");
    assert_string_equal(err.cloud_code, "");
}

static int collect_item(xmlNodePtr item, void *arg, cm_err *err)
{
    char id[64];
    aws_xml_child_text(item, "groupId", id, sizeof id);
    if (strcmp(id, "stop") == 0)
        return cm_err_set(err, CM_EINVAL, "stopped at %s", id);
    json_array_append_new(arg, json_string(id));
    return 0;
}

/* EC2's lists read as a stream: each item of the set, in order, whatever
 * comes around them; the next-page token wherever it stands; malformed or
 * empty answers refused; a callback's error ends the walk. */
static void test_aws_xml_each_item(void **state)
{
    (void)state;
    const char *page =
        "<?xml version=\"1.0\"?><DescribeSecurityGroupsResponse><requestId>r1</requestId>"
        "<securityGroupInfo><item><groupId>sg-1</groupId><ipPermissions><item><groupId>inner"
        "</groupId></item></ipPermissions></item>\n  <item><groupId>sg-2</groupId></item>"
        "<other><item><groupId>no</groupId></item></other></securityGroupInfo>"
        "<other><item><groupId>no</groupId></item></other>"
        "<nextToken>tok&amp;2</nextToken></DescribeSecurityGroupsResponse>";
    json_t *ids = json_array();
    char next[64];
    cm_err err = {0};
    assert_int_equal(aws_xml_each_item(page, strlen(page), "securityGroupInfo", "nextToken",
                                       collect_item, ids, next, sizeof next, &err),
                     0);
    assert_int_equal(json_array_size(ids), 2);
    assert_string_equal(json_string_value(json_array_get(ids, 0)), "sg-1");
    assert_string_equal(json_string_value(json_array_get(ids, 1)), "sg-2");
    assert_string_equal(next, "tok&2");
    json_array_clear(ids);
    const char *last = "<R><securityGroupInfo/></R>";
    assert_int_equal(aws_xml_each_item(last, strlen(last), "securityGroupInfo", "nextToken",
                                       collect_item, ids, next, sizeof next, &err),
                     0);
    assert_int_equal(json_array_size(ids), 0);
    assert_string_equal(next, "");
    const char *bad[] = {"", "not xml", "<R><securityGroupInfo><item><groupId>a</groupId>",
                         "<R><securityGroupInfo><item></R>"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cm_err_clear(&err);
        assert_int_equal(aws_xml_each_item(bad[i], strlen(bad[i]), "securityGroupInfo", "nextToken",
                                           collect_item, ids, next, sizeof next, &err),
                         CM_EBADREPLY);
        assert_non_null(strstr(err.msg, "malformed XML"));
    }
    const char *stop = "<R><securityGroupInfo><item><groupId>a</groupId></item><item><groupId>"
                       "stop</groupId></item><item><groupId>b</groupId></item></securityGroupInfo>"
                       "</R>";
    json_array_clear(ids);
    assert_int_equal(aws_xml_each_item(stop, strlen(stop), "securityGroupInfo", "nextToken",
                                       collect_item, ids, next, sizeof next, &err),
                     CM_EINVAL);
    assert_int_equal(json_array_size(ids), 1);
    assert_string_equal(err.msg, "stopped at stop");
    json_decref(ids);
}

static void test_aws_xml_errors(void **state)
{
    (void)state;
    char code[64], msg[256];
    const char *s3 = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code>"
                     "<Message>gone &amp; away</Message></Error>";
    aws_xml_error(s3, strlen(s3), code, sizeof code, msg, sizeof msg);
    assert_string_equal(code, "NoSuchBucket");
    assert_string_equal(msg, "gone & away");
    const char *query = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                        "<Message>slow down</Message></Error></ErrorResponse>";
    aws_xml_error(query, strlen(query), code, sizeof code, msg, sizeof msg);
    assert_string_equal(code, "Throttling");
    /* malformed, truncated, empty: no crash, nothing decoded */
    const char *bad[] = {"<Error><Code>Oops", "", "not xml at all", "<a><b></a>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        aws_xml_error(bad[i], strlen(bad[i]), code, sizeof code, msg, sizeof msg);
        assert_string_equal(code, "");
    }
    /* an external entity is never loaded */
    const char *xxe =
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        "<Error><Code>&x;</Code></Error>";
    aws_xml_error(xxe, strlen(xxe), code, sizeof code, msg, sizeof msg);
    assert_null(strstr(code, "root:"));
    cm_buf b;
    cm_buf_init(&b, 0);
    aws_xml_escape(&b, "<a href='x'>&\"");
    assert_string_equal(cm_buf_str(&b), "&lt;a href=&apos;x&apos;&gt;&amp;&quot;");
    cm_buf_free(&b);
}

/* A background request waits while a commit is applying; a throttled
 * service cools down for every client. */
typedef struct gate_probe {
    int64_t waited_us;
} gate_probe;

static void *background_request(void *arg)
{
    gate_probe *p = arg;
    p->waited_us = aws_gate_enter("gate-test-a", true);
    return NULL;
}

static void test_gate(void **state)
{
    (void)state;
    /* nothing open: no wait */
    assert_true(aws_gate_enter("gate-test-a", true) < 50000);
    assert_false(aws_gate_busy());
    aws_gate_foreground(true);
    assert_true(aws_gate_busy());
    /* a commit's own requests do not wait for it */
    assert_true(aws_gate_enter("gate-test-a", false) < 50000);
    gate_probe p = {0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, background_request, &p), 0);
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    aws_gate_foreground(false);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(p.waited_us >= 250000); /* held until the commit ended */
    assert_true(p.waited_us < 5000000);
    /* throttled: both kinds wait out the cool-down, other services not */
    aws_gate_throttled("gate-test-b", 200);
    assert_true(aws_gate_enter("gate-test-c", false) < 50000);
    int64_t w = aws_gate_enter("gate-test-b", false);
    assert_true(w >= 150000 && w < 2000000);
    assert_true(aws_gate_enter("gate-test-b", true) < 50000); /* over by now */
}

static void answer(aws_response *r, long status, const char *body, const char *code)
{
    aws_response_init(r);
    r->status = status;
    cm_buf_puts(&r->body, body);
    snprintf(r->code, sizeof r->code, "%s", code);
}

/* The listing memo's tape: request ids never count, anything else does;
 * a request that changes something or got no answer spoils the tape. */
static void test_tape(void **state)
{
    (void)state;
    aws_response a, b, c, d;
    unsigned char da[32], db[32], dc[32], dd[32];
    answer(&a, 200, "<R><requestId>one</requestId><item>sg-1</item></R>", "");
    answer(&b, 200, "<R><requestId>two-longer</requestId><item>sg-1</item></R>", "");
    answer(&c, 200, "<R><requestId>one</requestId><item>sg-2</item></R>", "");
    answer(&d, 200,
           "<R><item>sg-1</item><ResponseMetadata><RequestId>x</RequestId>"
           "</ResponseMetadata></R>",
           "");
    aws_tape_digest(&a, 0, da);
    aws_tape_digest(&b, 0, db);
    aws_tape_digest(&c, 0, dc);
    aws_tape_digest(&d, 0, dd);
    assert_memory_equal(da, db, 32);
    assert_memory_not_equal(da, dc, 32);
    assert_memory_not_equal(da, dd, 32);
    /* a refusal is its status and code, whatever its body says */
    aws_response e1, e2, e3;
    unsigned char d1[32], d2[32], d3[32];
    answer(&e1, 404, "<Error><HostId>h1</HostId></Error>", "NoSuchTagSet");
    answer(&e2, 404, "<Error><HostId>h2</HostId></Error>", "NoSuchTagSet");
    answer(&e3, 404, "<Error><HostId>h1</HostId></Error>", "NoSuchBucketPolicy");
    aws_tape_digest(&e1, CM_ECLOUD, d1);
    aws_tape_digest(&e2, CM_ECLOUD, d2);
    aws_tape_digest(&e3, CM_ECLOUD, d3);
    assert_memory_equal(d1, d2, 32);
    assert_memory_not_equal(d1, d3, 32);

    aws_tape *t = aws_tape_new();
    aws_request list = {.service = "ec2",
                        .region = "us-east-1",
                        .method = "POST",
                        .path = "/",
                        .body = "Action=DescribeSecurityGroups",
                        .body_len = 29,
                        .read_only = true};
    aws_request get = {
        .service = "s3", .region = "us-east-1", .method = "GET", .path = "/b", .query = "tagging="};
    aws_tape_record(t, &list, &a, 0);
    aws_tape_record(t, &get, &e1, CM_ECLOUD);
    assert_true(aws_tape_usable(t));
    assert_int_equal(aws_tape_len(t), 2);
    assert_true(aws_tape_matches(t, 0, &list));
    assert_false(aws_tape_matches(t, 1, &list));
    assert_true(aws_tape_matches(t, 1, &get));
    aws_request again = aws_tape_request(t, 0);
    assert_true(aws_tape_matches(t, 0, &again));
    aws_request other = list;
    other.body = "Action=DescribeSecurityGroupz";
    assert_false(aws_tape_matches(t, 0, &other));
    other = get;
    other.region = "eu-west-1";
    assert_false(aws_tape_matches(t, 1, &other));
    assert_true(aws_tape_same(t, 0, db)); /* another request id: the same answer */
    assert_false(aws_tape_same(t, 0, dc));
    assert_false(aws_tape_same(t, 2, da));
    /* a write in a listing: never replayed */
    aws_request put = {.service = "s3", .region = "us-east-1", .method = "PUT", .path = "/b"};
    aws_tape_record(t, &put, &a, 0);
    assert_false(aws_tape_usable(t));
    aws_tape_free(t);
    /* no answer (a transport failure, throttled to the end): never replayed */
    t = aws_tape_new();
    aws_tape_record(t, &list, &a, CM_ENET);
    assert_false(aws_tape_usable(t));
    aws_tape_free(t);
    t = aws_tape_new();
    aws_tape_record(t, &list, &a, CM_ERETRY);
    assert_false(aws_tape_usable(t));
    aws_tape_free(t);
    assert_false(aws_tape_usable(NULL));
    aws_response_free(&a);
    aws_response_free(&b);
    aws_response_free(&c);
    aws_response_free(&d);
    aws_response_free(&e1);
    aws_response_free(&e2);
    aws_response_free(&e3);
}

static void test_cm_buf_cap(void **state)
{
    (void)state;
    cm_buf b;
    cm_buf_init(&b, 10);
    assert_int_equal(cm_buf_puts(&b, "0123456789"), 0);
    assert_int_equal(cm_buf_puts(&b, "x"), CM_ENOMEM);
    assert_int_equal(b.len, 10);
    assert_int_equal(cm_buf_printf(&b, "%d", 1), CM_ENOMEM);
    cm_buf_free(&b);
    cm_err err = {0};
    cm_err_set(&err, CM_ECLOUD, "inner");
    cm_err_wrap(&err, "outer %d", 1);
    assert_string_equal(err.msg, "outer 1: inner");
    assert_true(cm_err_retryable(CM_ERETRY));
    assert_false(cm_err_retryable(CM_ECLOUD));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_uri_encode),
        cmocka_unit_test(test_aws_uri_decode),
        cmocka_unit_test(test_query_maps),
        cmocka_unit_test(test_query_put_json),
        cmocka_unit_test(test_aws_endpoint_overrides),
        cmocka_unit_test(test_aws_partitions),
        cmocka_unit_test(test_service_ids),
        cmocka_unit_test(test_rest_uri),
        cmocka_unit_test(test_error_contract),
        cmocka_unit_test(test_aws_xml_errors),
        cmocka_unit_test(test_aws_xml_each_item),
        cmocka_unit_test(test_cm_buf_cap),
        cmocka_unit_test(test_gate),
        cmocka_unit_test(test_tape),
        cmocka_unit_test(test_aws_sigv4_escaped_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
