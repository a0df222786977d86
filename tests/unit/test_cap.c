/* tests/unit/test_cap.c — decoding audit rows and what each origin does to
 * the journal's resource index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_jnl.h"

#include "capture/cap.h"

static jnl_str S(const char *s)
{
    return (jnl_str){s, s ? (uint32_t)strlen(s) : 0};
}

static void test_cap_codes(void **state)
{
    (void)state;
    assert_int_equal(cap_op_code("INSERT"), JNL_OP_INSERT);
    assert_int_equal(cap_op_code("UPDATE"), JNL_OP_UPDATE);
    assert_int_equal(cap_op_code("DELETE"), JNL_OP_DELETE);
    assert_int_equal(cap_op_code("TRUNCATE"), 0);
    assert_int_equal(cap_op_code(""), 0);
    assert_int_equal(cap_origin_code("user"), JNL_ORIGIN_USER);
    assert_int_equal(cap_origin_code("engine"), JNL_ORIGIN_ENGINE);
    assert_int_equal(cap_origin_code("cloud"), JNL_ORIGIN_CLOUD);
    assert_int_equal(cap_origin_code("User"), 0);
}

static void index_one(jnl_txn *t, uint64_t seq, uint8_t origin, uint8_t op, uint64_t row,
                      const char *img)
{
    jnl_rec ev = {.type = JNL_REC_EVENT,
                  .origin = origin,
                  .op = op,
                  .row_id = row,
                  .table = S("bucket"),
                  .b = S(img)};
    cm_err err = {0};
    assert_int_equal(cap_db_index_event(t, seq, &ev, &err), 0);
}

static void test_cap_index_by_origin(void **state)
{
    jnl *j = *state;
    jnl_txn *t;
    cm_err err = {0};
    uint64_t seq;
    jnl_str v;
    assert_int_equal(jnl_txn_begin(j, true, &t, &err), 0);
    /* user events: dirty from the first one on; latest follows every event */
    index_one(t, 1, JNL_ORIGIN_USER, JNL_OP_INSERT, 5, "{\"name\":\"a\"}");
    index_one(t, 2, JNL_ORIGIN_USER, JNL_OP_UPDATE, 5, "{\"name\":\"b\"}");
    assert_int_equal(jnl_idx_get_seq(t, JNL_IDX_DIRTY, "bucket", 5, &seq, &err), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(jnl_idx_get_seq(t, JNL_IDX_LATEST, "bucket", 5, &seq, &err), 0);
    assert_int_equal(seq, 2);
    assert_int_equal(jnl_idx_get(t, JNL_IDX_STATE, "bucket", 5, &v, &err), CM_ENOTFOUND);
    /* engine write-backs touch neither the dirty set nor the known state */
    index_one(t, 3, JNL_ORIGIN_ENGINE, JNL_OP_UPDATE, 6, "{\"name\":\"c\"}");
    assert_int_equal(jnl_idx_get_seq(t, JNL_IDX_DIRTY, "bucket", 6, &seq, &err), CM_ENOTFOUND);
    assert_int_equal(jnl_idx_get(t, JNL_IDX_STATE, "bucket", 6, &v, &err), CM_ENOTFOUND);
    /* cloud events are the known state */
    index_one(t, 4, JNL_ORIGIN_CLOUD, JNL_OP_INSERT, 7, "{\"name\":\"d\"}");
    assert_int_equal(jnl_idx_get(t, JNL_IDX_STATE, "bucket", 7, &v, &err), 0);
    assert_memory_equal(v.ptr, "{\"name\":\"d\"}", v.len);
    assert_int_equal(jnl_idx_get_seq(t, JNL_IDX_DIRTY, "bucket", 7, &seq, &err), CM_ENOTFOUND);
    index_one(t, 5, JNL_ORIGIN_CLOUD, JNL_OP_DELETE, 7, NULL);
    assert_int_equal(jnl_idx_get(t, JNL_IDX_STATE, "bucket", 7, &v, &err), CM_ENOTFOUND);
    jnl_txn_abort(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_codes),
        cmocka_unit_test_setup_teardown(test_cap_index_by_origin, unit_jnl_open, unit_jnl_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
