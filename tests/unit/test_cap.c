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

/* The rotation's known handles: "region/handle" of every known state, the
 * handle being the first cloud-id column, or mod_table.deep_handle's. */
static void test_cap_known_handles(void **state)
{
    jnl *j = *state;
    jnl_txn *t;
    cm_err err = {0};
    assert_int_equal(jnl_txn_begin(j, true, &t, &err), 0);
    index_one(t, 1, JNL_ORIGIN_CLOUD, JNL_OP_INSERT, 1,
              "{\"topic\":\"t\",\"region\":\"r\",\"arn\":\"a1\"}");
    index_one(t, 2, JNL_ORIGIN_CLOUD, JNL_OP_INSERT, 2,
              "{\"topic\":\"t\",\"region\":\"r\",\"arn\":\"a2\"}");
    index_one(t, 3, JNL_ORIGIN_CLOUD, JNL_OP_INSERT, 3,
              "{\"topic\":\"u\",\"region\":\"r\",\"arn\":null}");
    assert_int_equal(jnl_txn_commit(t, &err), 0);
    static const mod_column cols[] = {{"topic", MOD_COL_CLOUD_ID},
                                      {"region", MOD_COL_CLOUD_ID},
                                      {"arn", MOD_COL_CLOUD_OWNED},
                                      {NULL, 0}};
    mod_table by_first = {"bucket", cols, NULL};
    json_t *known = NULL;
    assert_int_equal(cap_known_handles(j, &by_first, &known, &err), 0);
    assert_int_equal(json_object_size(known), 2); /* r/t (twice), r/u */
    assert_non_null(json_object_get(known, "r/t"));
    assert_int_equal(json_integer_value(json_object_get(known, "r/u")), 3);
    json_decref(known);
    mod_table by_arn = {"bucket", cols, NULL, .deep_handle = "arn"};
    assert_int_equal(cap_known_handles(j, &by_arn, &known, &err), 0);
    assert_int_equal(json_object_size(known), 2); /* the one without an ARN is not known */
    assert_int_equal(json_integer_value(json_object_get(known, "r/a1")), 1);
    assert_int_equal(json_integer_value(json_object_get(known, "r/a2")), 2);
    json_decref(known);
}

static void index_in(jnl_txn *t, uint64_t seq, const char *table, uint64_t row, const char *img)
{
    jnl_rec ev = {.type = JNL_REC_EVENT,
                  .origin = JNL_ORIGIN_CLOUD,
                  .op = JNL_OP_INSERT,
                  .row_id = row,
                  .table = {table, (uint32_t)strlen(table)},
                  .b = S(img)};
    cm_err err = {0};
    assert_int_equal(cap_db_index_event(t, seq, &ev, &err), 0);
}

static uint64_t recent_row;
static bool recent_one(void *arg, const mod_table *t, uint64_t row_id)
{
    return strcmp(t->name, (const char *)arg) == 0 && row_id == recent_row;
}

/* The rotation by parent's known parents: each parent the journal knows,
 * by its handle (and region), with the number of known children under it
 * (by the parent's row id in a reference column, or by its handle in a
 * plain one); null where the engine just changed the parent or a child. */
static void test_cap_known_parents(void **state)
{
    jnl *j = *state;
    jnl_txn *t;
    cm_err err = {0};
    assert_int_equal(jnl_txn_begin(j, true, &t, &err), 0);
    index_in(t, 1, "hosted_zone", 1, "{\"id\":1,\"hosted_zone_id\":\"Z1\"}");
    index_in(t, 2, "hosted_zone", 2, "{\"id\":2,\"hosted_zone_id\":\"Z2\"}");
    index_in(t, 3, "hosted_zone", 3, "{\"id\":3,\"hosted_zone_id\":\"Z3\"}");
    for (int i = 0; i < 5; i++) {
        char img[128];
        snprintf(img, sizeof img, "{\"parent_hosted_zone\":%d,\"name\":\"n%d\"}", i < 3 ? 1 : 2, i);
        index_in(t, 10 + (uint64_t)i, "resource_record_set", 10 + (uint64_t)i, img);
    }
    index_in(t, 20, "lambda_function", 1, "{\"name\":\"f\",\"region\":\"r\"}");
    index_in(t, 21, "lambda_function", 2, "{\"name\":\"g\",\"region\":\"r\"}");
    index_in(t, 22, "lambda_permission", 1,
             "{\"function_name\":\"f\",\"region\":\"r\",\"statement_id\":\"a\"}");
    index_in(t, 23, "lambda_permission", 2,
             "{\"function_name\":\"f\",\"region\":\"r\",\"statement_id\":\"b\"}");
    index_in(t, 24, "lambda_permission", 3,
             "{\"function_name\":\"gone\",\"region\":\"r\",\"statement_id\":\"c\"}");
    assert_int_equal(jnl_txn_commit(t, &err), 0);
    const mod_table *rr = mod_find_table("resource_record_set", NULL);
    const mod_table *perm = mod_find_table("lambda_permission", NULL);
    assert_ptr_equal(cap_parent_table(rr), mod_find_table("hosted_zone", NULL));
    assert_ptr_equal(cap_parent_table(perm), mod_find_table("lambda_function", NULL));
    assert_null(cap_parent_table(mod_find_table("hosted_zone", NULL)));
    json_t *p = NULL;
    assert_int_equal(cap_known_parents(j, rr, NULL, NULL, &p, &err), 0);
    assert_int_equal(json_object_size(p), 3);
    assert_int_equal(json_integer_value(json_object_get(p, "/Z1")), 3);
    assert_int_equal(json_integer_value(json_object_get(p, "/Z2")), 2);
    assert_true(json_is_integer(json_object_get(p, "/Z3")));
    assert_int_equal(json_integer_value(json_object_get(p, "/Z3")), 0);
    json_decref(p);
    recent_row = 11; /* a record set of Z1 the engine just changed */
    assert_int_equal(cap_known_parents(j, rr, recent_one, "resource_record_set", &p, &err), 0);
    assert_true(json_is_null(json_object_get(p, "/Z1")));
    assert_int_equal(json_integer_value(json_object_get(p, "/Z2")), 2);
    json_decref(p);
    recent_row = 3; /* the zone Z3 itself */
    assert_int_equal(cap_known_parents(j, rr, recent_one, "hosted_zone", &p, &err), 0);
    assert_true(json_is_null(json_object_get(p, "/Z3")));
    assert_int_equal(json_integer_value(json_object_get(p, "/Z1")), 3);
    json_decref(p);
    assert_int_equal(cap_known_parents(j, perm, NULL, NULL, &p, &err), 0);
    assert_int_equal(json_object_size(p), 2); /* "gone" is no known function */
    assert_int_equal(json_integer_value(json_object_get(p, "r/f")), 2);
    assert_int_equal(json_integer_value(json_object_get(p, "r/g")), 0);
    json_decref(p);
    assert_int_equal(
        cap_known_parents(j, mod_find_table("hosted_zone", NULL), NULL, NULL, &p, &err), CM_EINVAL);
    assert_null(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_codes),
        cmocka_unit_test_setup_teardown(test_cap_index_by_origin, unit_jnl_open, unit_jnl_remove),
        cmocka_unit_test_setup_teardown(test_cap_known_handles, unit_jnl_open, unit_jnl_remove),
        cmocka_unit_test_setup_teardown(test_cap_known_parents, unit_jnl_open, unit_jnl_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
