/* modules/aws_s3/mod_s3_xml.c — S3's XML configurations (lifecycle, CORS,
 * website, encryption) to and from the JSON a row holds, walking a
 * description of each shape (mod_s3.h). Documents are built with libxml2,
 * which escapes text; nothing here reads the network or external
 * entities (aws_xml_parse parses the answers). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/aws_s3/mod_s3.h"

#define S3_NS "http://s3.amazonaws.com/doc/2006-03-01/"

static void enc_fields(xmlNodePtr parent, const s3_field *fields, const json_t *obj);

/* One value under parent as element elem; what json cannot say as kind
 * asks (a string for a number, say) is left out, which the constraints
 * of the table keep from happening. */
static void enc_value(xmlNodePtr parent, const char *elem, s3_kind kind, const s3_field *members,
                      const json_t *v)
{
    char text[64];
    const xmlChar *name = (const xmlChar *)elem;
    switch (kind) {
    case S3_STR:
        if (json_is_string(v))
            xmlNewTextChild(parent, NULL, name, (const xmlChar *)json_string_value(v));
        break;
    case S3_INT:
        if (json_is_integer(v))
            snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_real(v) && floor(json_real_value(v)) == json_real_value(v))
            snprintf(text, sizeof text, "%.0f", json_real_value(v));
        else
            break;
        xmlNewTextChild(parent, NULL, name, (const xmlChar *)text);
        break;
    case S3_BOOL:
        if (json_is_boolean(v))
            xmlNewTextChild(parent, NULL, name,
                            (const xmlChar *)(json_is_true(v) ? "true" : "false"));
        break;
    case S3_DAY:
        if (json_is_string(v)) {
            snprintf(text, sizeof text, "%.10sT00:00:00Z", json_string_value(v));
            xmlNewTextChild(parent, NULL, name, (const xmlChar *)text);
        }
        break;
    case S3_OBJ:
        if (json_is_object(v))
            enc_fields(xmlNewChild(parent, NULL, name, NULL), members, v);
        break;
    case S3_LIST:
        break; /* a list of lists is not an S3 shape */
    }
}

static void enc_fields(xmlNodePtr parent, const s3_field *fields, const json_t *obj)
{
    for (const s3_field *f = fields; parent && f->name; f++) {
        const json_t *v = json_object_get(obj, f->name);
        const char *elem = f->xml ? f->xml : f->name;
        if (!v || json_is_null(v))
            continue;
        if (f->kind != S3_LIST) {
            enc_value(parent, elem, f->kind, f->members, v);
            continue;
        }
        if (!json_is_array(v))
            continue;
        xmlNodePtr into =
            f->wrap_item ? xmlNewChild(parent, NULL, (const xmlChar *)elem, NULL) : parent;
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            enc_value(into, f->wrap_item ? f->wrap_item : elem, f->item, f->members, item);
        }
    }
}

char *s3_xml_encode(const char *root, const s3_field *fields, const json_t *obj)
{
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr top = doc ? xmlNewNode(NULL, (const xmlChar *)root) : NULL;
    char *out = NULL;
    if (top) {
        xmlSetNs(top, xmlNewNs(top, (const xmlChar *)S3_NS, NULL));
        xmlDocSetRootElement(doc, top);
        enc_fields(top, fields, obj);
        xmlChar *mem = NULL;
        int len = 0;
        xmlDocDumpMemoryEnc(doc, &mem, &len, "UTF-8");
        if (mem)
            out = strndup((const char *)mem, (size_t)len);
        xmlFree(mem);
    }
    xmlFreeDoc(doc);
    return out;
}

static json_t *dec_value(xmlNodePtr n, s3_kind kind, const s3_field *members)
{
    if (kind == S3_OBJ)
        return s3_xml_decode(n, members);
    xmlChar *raw = xmlNodeGetContent(n);
    const char *t = raw ? (const char *)raw : "";
    json_t *v;
    switch (kind) {
    case S3_INT: {
        char *end;
        long long x = strtoll(t, &end, 10);
        v = *t && !*end ? json_integer((json_int_t)x) : json_string(t);
        break;
    }
    case S3_BOOL:
        v = json_boolean(strcmp(t, "true") == 0);
        break;
    case S3_DAY:
        v = json_stringn(t, strnlen(t, 10));
        break;
    default:
        v = json_string(t);
    }
    xmlFree(raw);
    return v;
}

json_t *s3_xml_decode(xmlNodePtr node, const s3_field *fields)
{
    json_t *obj = json_object();
    for (const s3_field *f = fields; node && f->name; f++) {
        const char *elem = f->xml ? f->xml : f->name;
        xmlNodePtr n = aws_xml_child(node, elem);
        if (!n)
            continue;
        if (f->kind != S3_LIST) {
            json_object_set_new(obj, f->name, dec_value(n, f->kind, f->members));
            continue;
        }
        json_t *list = json_array();
        const char *each = f->wrap_item ? f->wrap_item : elem;
        for (xmlNodePtr i = f->wrap_item ? aws_xml_child(n, each) : n; i; i = aws_xml_next(i, each))
            json_array_append_new(list, dec_value(i, f->item, f->members));
        if (json_array_size(list))
            json_object_set_new(obj, f->name, list);
        else
            json_decref(list);
    }
    return obj;
}
