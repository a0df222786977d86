/* tests/fuzz/fuzz_json.c — libFuzzer target: JSON row images and replies
 * through cm_json_parse, and planning against whatever parses. */
#include <stdint.h>

#include "apply/apl.h"
#include "common/cm_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v;
    cm_err err = {0};
    if (cm_json_parse(&v, (const char *)data, size, &err) == 0) {
        const mod_table *t = mod_find_table("bucket", NULL);
        cm_buf b;
        cm_buf_init(&b, 1 << 16);
        apl_decide(t, v, v, &b);
        apl_decide(t, NULL, v, &b);
        mod_describe_row(t, 1, v, &b);
        cm_buf_free(&b);
        json_decref(v);
    }
    return 0;
}
