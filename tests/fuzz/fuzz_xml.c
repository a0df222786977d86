/* tests/fuzz/fuzz_xml.c — libFuzzer target: AWS XML replies (errors, bucket
 * lists, locations, tag sets) through the decoders the S3 module uses, and
 * EC2's lists through the stream reader. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/aws/aws_xml.h"

static int each_item(xmlNodePtr item, void *arg, cm_err *err)
{
    (void)err;
    aws_xml_child_text(item, "groupId", arg, 256);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char code[128], msg[512], text[256];
    aws_xml_error((const char *)data, size, code, sizeof code, msg, sizeof msg);
    xmlDocPtr doc;
    if (aws_xml_parse(&doc, (const char *)data, size, NULL) == 0) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        xmlNodePtr list = aws_xml_child(root, "Buckets");
        for (xmlNodePtr b = aws_xml_child(list, "Bucket"); b; b = aws_xml_next(b, "Bucket")) {
            aws_xml_child_text(b, "Name", text, sizeof text);
            aws_xml_child_text(b, "CreationDate", text, sizeof text);
        }
        xmlNodePtr set = aws_xml_child(root, "TagSet");
        for (xmlNodePtr t = aws_xml_child(set, "Tag"); t; t = aws_xml_next(t, "Tag"))
            aws_xml_child_text(t, "Key", text, sizeof text);
        xmlFreeDoc(doc);
    }
    char next[128];
    cm_err err = {0};
    aws_xml_each_item((const char *)data, size, "securityGroupInfo", "nextToken", each_item, text,
                      next, sizeof next, &err);
    cm_buf b;
    cm_buf_init(&b, 1 << 20);
    char *s = strndup((const char *)data, size);
    aws_xml_escape(&b, s);
    free(s);
    cm_buf_free(&b);
    return 0;
}
