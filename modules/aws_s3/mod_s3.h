/* modules/aws_s3/mod_s3.h — private to the aws_s3 module: the S3 calls its
 * tables share, and a codec between S3's XML configurations and the JSON a
 * row holds, driven by a description of each shape as botocore's model has
 * it (member order, flattened and wrapped lists, element names). */
#ifndef IASQL_MOD_S3_H
#define IASQL_MOD_S3_H

#include <jansson.h>
#include <libxml/tree.h>

#include "modules/mod_int.h"

extern const aws_service s3_api;

/* One S3 operation on bucket name, with an optional XML body. */
int s3_call(mod_ctx *ctx, const aws_operation *op, const char *name, const char *region,
            const char *body, aws_answer *out, cm_err *err, const char *what);
/* GET of a bucket sub-resource into *a; *none is set (and 0 returned) when
 * S3 answers none_code, the "not configured" error of that sub-resource,
 * or the endpoint does not implement the sub-resource at all. */
int s3_get_sub(mod_ctx *ctx, const char *name, const char *region, const aws_operation *op,
               const char *none_code, aws_answer *a, bool *none, cm_err *err);
/* PUT of body_text (or DELETE when it is NULL) of one sub-resource. */
int s3_put_sub(mod_ctx *ctx, const char *name, const char *region, const aws_operation *put,
               const aws_operation *del, const char *body_text, const char *what, cm_err *err);
/* GetBucketLocation's answer as a region (us-east-1 answers "", very old
 * eu-west-1 buckets "EU"). */
const char *s3_location_to_region(const char *loc);
int s3_bucket_region(mod_ctx *ctx, const char *name, char *out, size_t size, cm_err *err);

/* A member of an S3 structure: its JSON name (the SDKs' member name), its
 * element (NULL: the same), what it holds, and for a structure or a list
 * of structures its members. A list is flattened (its element repeats in
 * place) unless item names the element each entry has inside a wrapper. */
typedef enum { S3_STR, S3_INT, S3_BOOL, S3_DAY, S3_OBJ, S3_LIST } s3_kind;
typedef struct s3_field {
    const char *name;
    const char *xml;
    s3_kind kind;
    const struct s3_field *members; /* S3_OBJ, or an S3_LIST of S3_OBJ */
    s3_kind item;                   /* S3_LIST: what each entry is */
    const char *wrap_item;          /* S3_LIST: NULL when flattened */
} s3_field;

/* The configuration obj (members as fields say, in their order) as an XML
 * document whose root is root in S3's namespace; a string to free. An
 * S3_DAY ("2027-01-01") is sent as midnight UTC, as lifecycle dates must
 * be. */
char *s3_xml_encode(const char *root, const s3_field *fields, const json_t *obj);
/* The other way: node's children as the object fields describe; members
 * that are absent stay absent. A new reference. */
json_t *s3_xml_decode(xmlNodePtr node, const s3_field *fields);

/* The table bucket_website (mod_s3_website.c). */
extern const mod_table s3_website_table;

#endif
