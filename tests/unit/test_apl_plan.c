/* tests/unit/test_apl_plan.c — deciding actions and folding pending events
 * into one net change per resource, from a real journal. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_jnl.h"

#include "apply/apl.h"
#include "apply/apl_int.h"
#include "capture/cap.h"

static const mod_table *bucket(void)
{
    return mod_find_table("bucket", NULL);
}

static void test_apl_decide(void **state)
{
    (void)state;
    json_t *a = json_pack("{s:I, s:s, s:s, s:{s:s}, s:n}", "id", 1, "name", "logs", "region",
                          "us-east-1", "tags", "k", "v", "created_at");
    json_t *same_but_owned = json_deep_copy(a);
    json_object_set_new(same_but_owned, "created_at", json_string("2026-01-01T00:00:00Z"));
    json_t *retag = json_deep_copy(a);
    json_object_set_new(retag, "tags", json_pack("{s:s, s:s}", "k", "v", "x", "y"));
    json_t *rename = json_deep_copy(a);
    json_object_set_new(rename, "name", json_string("logs2"));
    json_t *move = json_deep_copy(retag);
    json_object_set_new(move, "region", json_string("eu-west-1"));
    cm_buf changed;
    cm_buf_init(&changed, 0);

    assert_int_equal(apl_decide(bucket(), NULL, NULL, NULL), APL_NONE);
    assert_int_equal(apl_decide(bucket(), NULL, a, NULL), APL_CREATE);
    assert_int_equal(apl_decide(bucket(), a, NULL, NULL), APL_DELETE);
    /* cloud-owned columns never count as a change */
    assert_int_equal(apl_decide(bucket(), a, same_but_owned, NULL), APL_NONE);
    assert_int_equal(apl_decide(bucket(), a, retag, &changed), APL_UPDATE);
    assert_string_equal(cm_buf_str(&changed), "tags");
    cm_buf_reset(&changed);
    /* a cloud-id column change is a replace, even with an update beside it */
    assert_int_equal(apl_decide(bucket(), a, rename, NULL), APL_REPLACE);
    assert_int_equal(apl_decide(bucket(), a, move, &changed), APL_REPLACE);
    assert_string_equal(cm_buf_str(&changed), "region, tags");
    /* object key order is not a change */
    json_t *k1 = json_pack("{s:s, s:s}", "a", "1", "b", "2");
    json_t *k2 = json_pack("{s:s, s:s}", "b", "2", "a", "1");
    json_t *x = json_deep_copy(a), *y = json_deep_copy(a);
    json_object_set_new(x, "tags", k1);
    json_object_set_new(y, "tags", k2);
    assert_int_equal(apl_decide(bucket(), x, y, NULL), APL_NONE);
    cm_buf_free(&changed);
    json_decref(a);
    json_decref(same_but_owned);
    json_decref(retag);
    json_decref(rename);
    json_decref(move);
    json_decref(x);
    json_decref(y);
}

/* Appends one event as the tail would, and indexes it. */
static void event(jnl *j, uint8_t origin, uint8_t op, uint64_t row, const char *old_img,
                  const char *new_img)
{
    jnl_txn *t;
    cm_err err = {0};
    assert_int_equal(jnl_txn_begin(j, true, &t, &err), 0);
    jnl_rec ev = {.type = JNL_REC_EVENT,
                  .origin = origin,
                  .op = op,
                  .row_id = row,
                  .table = {"bucket", 6},
                  .a = {old_img, old_img ? (uint32_t)strlen(old_img) : 0},
                  .b = {new_img, new_img ? (uint32_t)strlen(new_img) : 0}};
    uint64_t seq;
    assert_int_equal(jnl_append(t, &ev, &seq, &err), 0);
    assert_int_equal(cap_db_index_event(t, seq, &ev, &err), 0);
    assert_int_equal(jnl_txn_commit(t, &err), 0);
}

#define IMG(name, tags) "{\"name\":\"" name "\",\"region\":\"us-east-1\",\"tags\":" tags "}"

static const apl_item *find(const apl_plan *p, uint64_t row)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].row_id == row)
            return &p->items[i];
    return NULL;
}

static void test_apl_fold(void **state)
{
    jnl *j = *state;
    /* row 1: insert, update, update -> one create with the last image */
    event(j, JNL_ORIGIN_USER, JNL_OP_INSERT, 1, NULL, IMG("one", "{}"));
    event(j, JNL_ORIGIN_USER, JNL_OP_UPDATE, 1, IMG("one", "{}"), IMG("one", "{\"a\":\"1\"}"));
    event(j, JNL_ORIGIN_USER, JNL_OP_UPDATE, 1, IMG("one", "{\"a\":\"1\"}"),
          IMG("one", "{\"a\":\"2\"}"));
    /* row 2: insert then delete -> nothing */
    event(j, JNL_ORIGIN_USER, JNL_OP_INSERT, 2, NULL, IMG("two", "{}"));
    event(j, JNL_ORIGIN_USER, JNL_OP_DELETE, 2, IMG("two", "{}"), NULL);
    /* rows 3-5 exist in the cloud (imported) */
    event(j, JNL_ORIGIN_CLOUD, JNL_OP_INSERT, 3, NULL, IMG("three", "{}"));
    event(j, JNL_ORIGIN_CLOUD, JNL_OP_INSERT, 4, NULL, IMG("four", "{}"));
    event(j, JNL_ORIGIN_CLOUD, JNL_OP_INSERT, 5, NULL, IMG("five", "{}"));
    /* row 3: retagged and changed back -> nothing */
    event(j, JNL_ORIGIN_USER, JNL_OP_UPDATE, 3, IMG("three", "{}"), IMG("three", "{\"x\":\"y\"}"));
    event(j, JNL_ORIGIN_USER, JNL_OP_UPDATE, 3, IMG("three", "{\"x\":\"y\"}"), IMG("three", "{}"));
    /* row 4: renamed -> replace; row 5: deleted -> delete */
    event(j, JNL_ORIGIN_USER, JNL_OP_UPDATE, 4, IMG("four", "{}"), IMG("four-b", "{}"));
    event(j, JNL_ORIGIN_USER, JNL_OP_DELETE, 5, IMG("five", "{}"), NULL);
    /* an engine write-back is never a pending change */
    event(j, JNL_ORIGIN_ENGINE, JNL_OP_UPDATE, 3, IMG("three", "{}"), IMG("three", "{}"));

    apl_plan *p;
    cm_err err = {0};
    assert_int_equal(apl_plan_build(j, &p, &err), 0);
    assert_int_equal(p->n, 5);
    assert_int_equal(p->settled, 2);
    assert_int_equal(p->barrier_seq, 13);
    assert_int_equal(find(p, 1)->action, APL_CREATE);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(find(p, 1)->desired, "tags"), "a")), "2");
    assert_int_equal(find(p, 1)->dirty_seq, 1);
    assert_int_equal(find(p, 2)->action, APL_NONE);
    assert_int_equal(find(p, 3)->action, APL_NONE);
    assert_int_equal(find(p, 4)->action, APL_REPLACE);
    assert_int_equal(find(p, 5)->action, APL_DELETE);
    /* deletes run first */
    assert_int_equal(p->items[0].action, APL_DELETE);
    json_t *rows = apl_plan_rows(p);
    assert_int_equal(json_array_size(rows), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "action")),
                        "delete");
    json_decref(rows);
    /* another database's resource: the preview says the commit leaves it
     * alone; a create is never anybody else's */
    size_t i;
    for (i = 0; i < p->n; i++)
        if (p->items[i].row_id == 5 || p->items[i].row_id == 1)
            snprintf(p->items[i].owner, sizeof p->items[i].owner, "%s", "db-other");
    rows = apl_plan_rows(p);
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *d = json_string_value(json_object_get(r, "description"));
        bool refused = strstr(d, "not applied: the resource is tagged iasql:owner=db-other, so "
                                 "iasql database db-other made it") != NULL;
        assert_int_equal(refused, json_integer_value(json_object_get(r, "id")) == 5);
    }
    json_decref(rows);
    apl_plan_free(p);
}

/* A secret revealed for a call is masked again in the image and scrubbed
 * out of the error text. */
static void test_apl_secret_mask(void **state)
{
    (void)state;
    apl_item it = {.table = mod_find_table("parameter", NULL), .row_id = 7, .action = APL_CREATE};
    assert_non_null(it.table);
    assert_true(apl_table_has_secrets(it.table));
    assert_false(apl_table_has_secrets(mod_find_table("queue", NULL)));
    it.desired = json_pack("{s:s, s:s}", "name", "p", "value", "iasql-secret:1234");
    json_t *clear = json_pack("{s:s, s:s}", "name", "p", "value", "hunter2-long");
    json_t *image = json_deep_copy(clear);
    char error[APL_ERROR_SIZE] = "ValidationException: value hunter2-long is bad; hunter2-long";
    apl_secret_mask(&it, clear, image, error);
    assert_string_equal(json_string_value(json_object_get(image, "value")), "iasql-secret:1234");
    assert_string_equal(error, "ValidationException: value *** is bad; ***");
    /* a secret too short to scrub withholds the whole message */
    json_object_set_new(clear, "value", json_string("ab"));
    snprintf(error, sizeof error, "bad: ab");
    apl_secret_mask(&it, clear, NULL, error);
    assert_null(strstr(error, "ab"));
    /* nothing revealed, nothing touched */
    snprintf(error, sizeof error, "unchanged");
    apl_secret_mask(&it, NULL, image, error);
    assert_string_equal(error, "unchanged");
    json_decref(it.desired);
    json_decref(clear);
    json_decref(image);
}

/* The node of the graph for (row, delete half or not), or -1. */
static json_int_t graph_node(const json_t *g, json_int_t row, const char *step)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(g, "nodes"), i, n)
    {
        if (json_integer_value(json_object_get(n, "id")) == row &&
            strcmp(json_string_value(json_object_get(n, "step")), step) == 0)
            return json_integer_value(json_object_get(n, "node"));
    }
    return -1;
}

static bool graph_edge(const json_t *g, json_int_t from, json_int_t to)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(g, "edges"), i, e)
    {
        if (json_integer_value(json_array_get(e, 0)) == from &&
            json_integer_value(json_array_get(e, 1)) == to)
            return true;
    }
    return false;
}

/* A replace deletes the old resource before it makes the new one; a table
 * with replace_new_first (an ECS task definition) makes the new one first,
 * then moves what refers to it (a service, updated), then deletes the old
 * one. */
static void test_apl_replace_new_first(void **state)
{
    (void)state;
    const mod_table *td = mod_find_table("task_definition", NULL),
                    *svc = mod_find_table("service", NULL);
    assert_non_null(td);
    assert_true(td->replace_new_first);
    assert_false(bucket()->replace_new_first);
    apl_plan *p = calloc(1, sizeof *p);
    p->items = calloc(3, sizeof *p->items);
    p->items[0] = (apl_item){.table = td,
                             .row_id = 1,
                             .action = APL_REPLACE,
                             .known = json_pack("{s:s, s:s, s:s}", "task_definition_arn",
                                                "arn:td:1", "family", "app", "image_tag", "v1"),
                             .desired = json_pack("{s:s, s:s, s:s}", "task_definition_arn",
                                                  "arn:td:1", "family", "app", "image_tag", "v2")};
    p->items[1] = (apl_item){.table = svc,
                             .row_id = 2,
                             .action = APL_UPDATE,
                             .known = json_pack("{s:s, s:i, s:i}", "service_name", "web",
                                                "task_definition", 1, "cluster", 9),
                             .desired = json_pack("{s:s, s:i, s:i}", "service_name", "web",
                                                  "task_definition", 1, "cluster", 9)};
    p->items[2] = (apl_item){.table = bucket(),
                             .row_id = 3,
                             .action = APL_REPLACE,
                             .known = json_loads(IMG("old", "{}"), 0, NULL),
                             .desired = json_loads(IMG("new", "{}"), 0, NULL)};
    p->n = 3;
    apl_plan_index(p);
    json_t *g;
    cm_err err = {0};
    assert_int_equal(apl_plan_graph(p, &g, &err), 0);
    json_int_t made = graph_node(g, 1, "create"), old = graph_node(g, 1, "delete"),
               moved = graph_node(g, 2, "update");
    assert_true(made >= 0 && old >= 0 && moved >= 0);
    assert_true(graph_edge(g, made, old)); /* the new revision first */
    assert_false(graph_edge(g, old, made));
    assert_true(graph_edge(g, made, moved)); /* the service moves to it */
    assert_true(graph_edge(g, moved, old));  /* then the old one goes */
    /* an ordinary replace: the old one goes first */
    assert_true(graph_edge(g, graph_node(g, 3, "delete"), graph_node(g, 3, "create")));
    assert_false(graph_edge(g, graph_node(g, 3, "create"), graph_node(g, 3, "delete")));
    json_decref(g);
    apl_plan_free(p);
}

/* Whether the graph g has the edge a -> b (a ends before b starts). */
static bool has_edge(const json_t *g, long a, long b)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(g, "edges"), i, e)
    {
        if (json_integer_value(json_array_get(e, 0)) == a &&
            json_integer_value(json_array_get(e, 1)) == b)
            return true;
    }
    return false;
}

/* A NAT gateway replaced (its delete first: its address goes with it) while
 * a route points at it: the route's reference may dangle (AWS keeps a
 * route to a deleted gateway, as a blackhole), so the old gateway's delete
 * does not wait for the route's update, which follows the new gateway.
 * Without that the three steps would wait for each other. A route being
 * deleted still goes before the gateway. */
static void test_apl_graph_dangling_ref(void **state)
{
    (void)state;
    const mod_table *nat = mod_find_table("nat_gateway", NULL);
    const mod_table *route = mod_find_table("route", NULL);
    assert_non_null(nat);
    assert_non_null(route);
    assert_true(mod_column_has(route, "nat_gateway", MOD_COL_MAY_DANGLE));
    json_t *gw = json_pack("{s:I, s:s, s:I, s:s, s:{}, s:s, s:s}", "subnet", 10,
                           "connectivity_type", "public", "elastic_ip", 11, "region", "us-east-1",
                           "tags", "nat_gateway_id", "nat-1", "state", "available");
    json_t *gw2 = json_deep_copy(gw);
    json_object_set_new(gw2, "subnet", json_integer(12));
    json_t *rt = json_pack("{s:I, s:s, s:n, s:I, s:b, s:s}", "route_table", 20,
                           "destination_cidr_block", "0.0.0.0/0", "internet_gateway", "nat_gateway",
                           1, "local", 0, "region", "us-east-1");
    for (int deleted = 0; deleted < 2; deleted++) {
        apl_plan *p = calloc(1, sizeof *p);
        p->items = calloc(2, sizeof *p->items);
        p->items[0] = (apl_item){.table = nat,
                                 .row_id = 1,
                                 .action = APL_REPLACE,
                                 .known = json_incref(gw),
                                 .desired = json_incref(gw2)};
        p->items[1] = (apl_item){.table = route,
                                 .row_id = 2,
                                 .action = deleted ? APL_DELETE : APL_UPDATE,
                                 .known = json_incref(rt),
                                 .desired = deleted ? NULL : json_incref(rt)};
        p->n = 2;
        apl_plan_index(p);
        json_t *g;
        cm_err err = {0};
        assert_int_equal(apl_plan_graph(p, &g, &err), 0);
        /* nodes: 0 the gateway's delete, 1 its create, 2 the route's step */
        assert_int_equal(json_array_size(json_object_get(g, "nodes")), 3);
        assert_true(has_edge(g, 0, 1));
        if (deleted) {
            assert_true(has_edge(g, 2, 0)); /* the route goes before the gateway */
        } else {
            assert_true(has_edge(g, 1, 2)); /* the route follows the new gateway */
            assert_false(has_edge(g, 2, 0));
        }
        json_decref(g);
        apl_plan_free(p);
    }
    json_decref(gw);
    json_decref(gw2);
    json_decref(rt);
}

/* ---- batches (mod_table_ops.batch) ---- */

static int batch_calls, batch_changes, single_calls, batch_odd;
static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;

static int fake_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    (void)ctx, (void)err;
    pthread_mutex_lock(&fake_mu);
    single_calls++;
    pthread_mutex_unlock(&fake_mu);
    *out = json_deep_copy(desired);
    return 0;
}

static void fake_batch(mod_ctx *ctx, mod_change *c, size_t n)
{
    (void)ctx;
    pthread_mutex_lock(&fake_mu);
    batch_calls++;
    batch_changes += (int)n;
    pthread_mutex_unlock(&fake_mu);
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_object_get(c[i].desired, "name"));
        /* checked on the main thread: cmocka's asserts are not for workers */
        if (c[i].kind != MOD_CHANGE_CREATE || !c[i].token || !name) {
            pthread_mutex_lock(&fake_mu);
            batch_odd++;
            pthread_mutex_unlock(&fake_mu);
            continue;
        }
        if (strcmp(name, "bad") == 0) {
            c[i].rc = cm_err_set(&c[i].err, CM_ECLOUD, "refused: %s", name);
        } else {
            c[i].rc = 0;
            c[i].out = json_deep_copy(c[i].desired);
        }
    }
}

static const mod_table_ops fake_ops = {.create = fake_create, .batch = fake_batch};
static const mod_column fake_columns[] = {{"name", MOD_COL_CLOUD_ID}, {NULL, 0}};
static const mod_table fake_table = {"fake_record", fake_columns, &fake_ops, "fake"};

/* A plan of n creates of fake_table, named names[i]. */
static apl_plan *fake_plan(const char *const *names, size_t n)
{
    apl_plan *p = calloc(1, sizeof *p);
    p->items = calloc(n, sizeof *p->items);
    p->n = n;
    for (size_t i = 0; i < n; i++) {
        apl_item *it = &p->items[i];
        it->table = &fake_table;
        it->row_id = 100 + i;
        it->action = APL_CREATE;
        it->desired = json_pack("{s:I, s:s}", "id", (json_int_t)it->row_id, "name", names[i]);
        snprintf(it->token, sizeof it->token, "token%zu", i);
    }
    apl_plan_index(p);
    return p;
}

/* Changes ready together go to the batch op in one job, each with its own
 * outcome; a lone change goes to create. */
static void test_apl_batch(void **state)
{
    jnl *j = *state;
    setenv("AWS_ACCESS_KEY_ID", "test", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "test", 1);
    mod_ctx *ctx;
    cm_err err = {0};
    assert_int_equal(mod_ctx_new(&ctx, &err), 0);
    static const char *const names[] = {"a", "b", "bad", "c", "d"};
    apl_plan *p = fake_plan(names, 5);
    outcome *os = calloc(p->n, sizeof *os);
    assert_int_equal(apl_run_graph(j, NULL, ctx, p, os, 1, &err), 0);
    assert_int_equal(batch_calls, 1);
    assert_int_equal(batch_changes, 5);
    assert_int_equal(single_calls, 0);
    assert_int_equal(batch_odd, 0);
    for (size_t i = 0; i < p->n; i++) {
        assert_int_equal(os[i].ok, i != 2);
        if (i == 2)
            assert_non_null(strstr(os[i].error, "refused: bad"));
        else
            assert_string_equal(json_string_value(json_object_get(os[i].image, "name")), names[i]);
        json_decref(os[i].image);
    }
    free(os);
    apl_plan_free(p);
    /* one change alone: create */
    p = fake_plan(names, 1);
    os = calloc(p->n, sizeof *os);
    assert_int_equal(apl_run_graph(j, NULL, ctx, p, os, 2, &err), 0);
    assert_int_equal(batch_calls, 1);
    assert_int_equal(single_calls, 1);
    assert_true(os[0].ok);
    json_decref(os[0].image);
    free(os);
    apl_plan_free(p);
    mod_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apl_decide),
        cmocka_unit_test(test_apl_secret_mask),
        cmocka_unit_test(test_apl_graph_dangling_ref),
        cmocka_unit_test(test_apl_replace_new_first),
        cmocka_unit_test_setup_teardown(test_apl_fold, unit_jnl_open, unit_jnl_remove),
        cmocka_unit_test_setup_teardown(test_apl_batch, unit_jnl_open, unit_jnl_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
