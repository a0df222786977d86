/* modules/aws/aws_xml.c — libxml2 boundary for AWS XML bodies. */
#include "modules/aws/aws_xml.h"

#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <string.h>

#define XML_FLAGS                                                                                  \
    (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS |              \
     XML_PARSE_COMPACT)

int aws_xml_parse(xmlDocPtr *out, const char *data, size_t len, cm_err *err)
{
    *out = NULL;
    if (len > (size_t)INT32_MAX)
        return cm_err_set(err, CM_EBADREPLY, "XML response too large");
    xmlDocPtr doc = xmlReadMemory(data, (int)len, NULL, NULL, XML_FLAGS);
    if (!doc || !xmlDocGetRootElement(doc)) {
        xmlFreeDoc(doc);
        return cm_err_set(err, CM_EBADREPLY, "malformed XML in the cloud's response (%zu bytes)",
                          len);
    }
    *out = doc;
    return 0;
}

int aws_xml_each_item(const char *data, size_t len, const char *set, const char *token_name,
                      int (*fn)(xmlNodePtr item, void *arg, cm_err *err), void *arg, char *token,
                      size_t token_size, cm_err *err)
{
    if (token_size)
        token[0] = '\0';
    if (len > (size_t)INT32_MAX)
        return cm_err_set(err, CM_EBADREPLY, "XML response too large");
    xmlTextReaderPtr r = xmlReaderForMemory(data ? data : "", (int)len, NULL, NULL, XML_FLAGS);
    if (!r)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    int rc = 0, st = xmlTextReaderRead(r);
    bool root = false, in_set = false;
    while (!rc && st == 1) {
        const char *name = xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT
                               ? (const char *)xmlTextReaderConstLocalName(r)
                               : NULL;
        int depth = xmlTextReaderDepth(r);
        if (name && depth == 0) {
            root = true;
        } else if (name && depth == 1) {
            in_set = strcmp(name, set) == 0;
            if (token_size && strcmp(name, token_name) == 0) {
                xmlChar *t = xmlTextReaderReadString(r);
                snprintf(token, token_size, "%s", t ? (const char *)t : "");
                xmlFree(t);
            }
        } else if (name && depth == 2 && in_set && strcmp(name, "item") == 0) {
            xmlNodePtr n = xmlTextReaderExpand(r);
            rc = n ? fn(n, arg, err) : CM_EBADREPLY;
            if (!n)
                cm_err_set(err, CM_EBADREPLY, "malformed XML in the cloud's response (%zu bytes)",
                           len);
            st = rc ? st : xmlTextReaderNext(r); /* frees the item's tree */
            continue;
        } else if (name && depth >= 2) {
            st = xmlTextReaderNext(r); /* what the caller does not read */
            continue;
        }
        st = xmlTextReaderRead(r);
    }
    if (!rc && (st < 0 || !root))
        rc =
            cm_err_set(err, CM_EBADREPLY, "malformed XML in the cloud's response (%zu bytes)", len);
    xmlFreeTextReader(r);
    return rc;
}

static xmlNodePtr find_from(xmlNodePtr n, const char *name)
{
    for (; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
            return n;
    return NULL;
}

xmlNodePtr aws_xml_child(xmlNodePtr parent, const char *name)
{
    return parent ? find_from(parent->children, name) : NULL;
}

xmlNodePtr aws_xml_next(xmlNodePtr node, const char *name)
{
    return node ? find_from(node->next, name) : NULL;
}

bool aws_xml_child_text(xmlNodePtr parent, const char *name, char *out, size_t size)
{
    xmlNodePtr n = aws_xml_child(parent, name);
    if (size)
        out[0] = '\0';
    if (!n)
        return false;
    xmlChar *txt = xmlNodeGetContent(n);
    if (txt && size)
        snprintf(out, size, "%s", (const char *)txt);
    xmlFree(txt);
    return true;
}

static xmlNodePtr find_deep(xmlNodePtr n, const char *name)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)n->name, name) == 0)
            return n;
        xmlNodePtr c = find_deep(n->children, name);
        if (c)
            return c;
    }
    return NULL;
}

void aws_xml_error(const char *data, size_t len, char *code, size_t code_size, char *msg,
                   size_t msg_size)
{
    code[0] = msg[0] = '\0';
    xmlDocPtr doc;
    if (aws_xml_parse(&doc, data, len, NULL))
        return;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr c = find_deep(root, "Code");
    xmlNodePtr m = find_deep(root, "Message");
    if (c && c->parent)
        aws_xml_child_text(c->parent, "Code", code, code_size);
    if (m && m->parent)
        aws_xml_child_text(m->parent, "Message", msg, msg_size);
    xmlFreeDoc(doc);
}

int aws_xml_escape(cm_buf *b, const char *s)
{
    int rc = 0;
    for (; *s && !rc; s++) {
        switch (*s) {
        case '&':
            rc = cm_buf_puts(b, "&amp;");
            break;
        case '<':
            rc = cm_buf_puts(b, "&lt;");
            break;
        case '>':
            rc = cm_buf_puts(b, "&gt;");
            break;
        case '"':
            rc = cm_buf_puts(b, "&quot;");
            break;
        case '\'':
            rc = cm_buf_puts(b, "&apos;");
            break;
        default:
            rc = cm_buf_append(b, s, 1);
        }
    }
    return rc;
}

xmlNodePtr aws_xml_path(xmlNodePtr parent, const char *path)
{
    char part[128];
    xmlNodePtr n = parent;
    while (n && *path) {
        size_t len = strcspn(path, "/");
        if (len >= sizeof part)
            return NULL;
        memcpy(part, path, len);
        part[len] = '\0';
        n = aws_xml_child(n, part);
        path += len;
        if (*path == '/')
            path++;
    }
    return n;
}

json_t *aws_xml_json_text(xmlNodePtr node)
{
    if (!node)
        return json_null();
    xmlChar *txt = xmlNodeGetContent(node);
    json_t *s = json_string(txt ? (const char *)txt : "");
    xmlFree(txt);
    return s ? s : json_null();
}

json_t *aws_xml_json_child(xmlNodePtr parent, const char *name)
{
    return aws_xml_json_text(aws_xml_child(parent, name));
}
