/* tests/fuzz/fuzz_jnl.c — libFuzzer target: the journal record and commit
 * point decoders, and formatting whatever decodes. */
#include <stdint.h>

#include "journal/jnl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jnl_rec rec;
    jnl_commit c;
    cm_err err = {0};
    cm_buf b;
    cm_buf_init(&b, 1 << 22);
    if (jnl_rec_decode(&rec, data, size, &err) == 0) {
        jnl_rec_format(&rec, 1, true, &b);
        jnl_rec_format(&rec, 1, false, &b);
        cm_buf_reset(&b);
        jnl_rec_encode(&rec, &b); /* what decodes encodes again */
    }
    if (jnl_commit_decode(&c, data, size, &err) == 0)
        jnl_commit_format(&c, true, &b);
    cm_buf_free(&b);
    return 0;
}
