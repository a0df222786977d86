/* modules/aws/aws_xml.h — small libxml2 helpers for the rest-xml and query
 * protocols; private to modules/. Parsing never loads external entities or
 * the network. */
#ifndef IASQL_AWS_XML_H
#define IASQL_AWS_XML_H

#include <jansson.h>
#include <libxml/tree.h>

#include "common/cm.h"

int aws_xml_parse(xmlDocPtr *out, const char *data, size_t len, cm_err *err);
/* Reads an answer as a stream and hands fn each <item> of the root's child
 * set (EC2's lists), one subtree at a time: fn's node, and all below it,
 * are valid only during the call. The text of the root's child token, if
 * any, is copied into token (truncating; "" without one). Memory stays at
 * about one item's tree however long the answer; a parse tree of a whole
 * page of 1,000 security groups is 8 MB. */
int aws_xml_each_item(const char *data, size_t len, const char *set, const char *token_name,
                      int (*fn)(xmlNodePtr item, void *arg, cm_err *err), void *arg, char *token,
                      size_t token_size, cm_err *err);
/* The first child element of parent with this local name, or NULL. */
xmlNodePtr aws_xml_child(xmlNodePtr parent, const char *name);
/* The next sibling element after node with this local name, or NULL. */
xmlNodePtr aws_xml_next(xmlNodePtr node, const char *name);
/* Copies the text of the named child into out (truncating); "" if absent.
 * Returns true when the child exists. */
bool aws_xml_child_text(xmlNodePtr parent, const char *name, char *out, size_t size);
/* The element at a path of local names below parent ("A/B/C"), or NULL. */
xmlNodePtr aws_xml_path(xmlNodePtr parent, const char *path);
/* The text of node as a new JSON string; JSON null when node is NULL. */
json_t *aws_xml_json_text(xmlNodePtr node);
/* The text of the child element name of parent as a JSON string (null when
 * absent). */
json_t *aws_xml_json_child(xmlNodePtr parent, const char *name);
/* Finds Code and Message anywhere in an AWS XML error body. */
void aws_xml_error(const char *data, size_t len, char *code, size_t code_size, char *msg,
                   size_t msg_size);
/* Appends s to b with XML special characters escaped. */
int aws_xml_escape(cm_buf *b, const char *s);

#endif
