/* apply/apl_refs.c — references between resources. A row names another
 * row by its id (a foreign key); the cloud knows it by a cloud id that may
 * not exist yet when the row is written. At apply time the reference is
 * turned into the referenced resource's cloud id: from this commit's
 * outcome when it was created or replaced a moment ago, else from its
 * known cloud state. The known state keeps row ids, so it compares with
 * the rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/apl_int.h"

static void index_key(char *out, size_t size, const char *table, uint64_t row_id)
{
    snprintf(out, size, "%s/%llu", table, (unsigned long long)row_id);
}

void apl_plan_index(apl_plan *p)
{
    json_decref(p->index);
    p->index = json_object();
    char key[320];
    for (size_t i = 0; i < p->n; i++) {
        index_key(key, sizeof key, p->items[i].table->name, p->items[i].row_id);
        json_object_set_new(p->index, key, json_integer((json_int_t)i));
    }
}

long apl_plan_find(const apl_plan *p, const char *table, uint64_t row_id)
{
    if (!p || !p->index)
        return -1;
    char key[320];
    index_key(key, sizeof key, table, row_id);
    json_t *v = json_object_get(p->index, key);
    return v ? (long)json_integer_value(v) : -1;
}

/* The image a reference to (table, row_id) is read from: for the new side,
 * what this commit made of it; for the old side, what it was before. */
static int ref_image(jnl *j, const apl_plan *p, const outcome *os, const mod_table *rt,
                     uint64_t row_id, bool new_side, json_t **out, char *error, size_t size)
{
    *out = NULL;
    long i = apl_plan_find(p, rt->name, row_id);
    if (i >= 0) {
        const apl_item *it = &p->items[i];
        if (new_side && it->action == APL_DELETE) {
            snprintf(error, size, "%s %llu is being deleted", rt->name, (unsigned long long)row_id);
            return CM_EINVAL;
        }
        const json_t *img = !new_side || it->action == APL_NONE ? it->known
                            : os && os[i].ok && os[i].image     ? os[i].image
                            : it->action == APL_UPDATE          ? it->known
                                                                : NULL;
        if (!img) {
            snprintf(error, size, "%s %llu %s", rt->name, (unsigned long long)row_id,
                     new_side ? "was not created" : "is not known in the cloud");
            return CM_EINVAL;
        }
        *out = json_incref((json_t *)img);
        return 0;
    }
    jnl_txn *t;
    cm_err err = {0};
    int rc = jnl_txn_begin(j, false, &t, &err);
    if (!rc)
        rc = jnl_state_image(t, rt->name, row_id, out, &err);
    jnl_txn_abort(t);
    if (rc) {
        snprintf(error, size, "reading %s %llu: %s", rt->name, (unsigned long long)row_id, err.msg);
        return rc;
    }
    if (!*out) {
        snprintf(error, size, "%s %llu is not in the cloud (never created, or its create failed)",
                 rt->name, (unsigned long long)row_id);
        return CM_EINVAL;
    }
    return 0;
}

static int resolve_one(jnl *j, const apl_plan *p, const outcome *os, const mod_table *rt,
                       const json_t *v, bool new_side, json_t **out, char *error, size_t size)
{
    const mod_column *h = mod_ref_handle(rt);
    if (!json_is_integer(v) || !h) {
        snprintf(error, size, "a reference to %s is not a row id", rt->name);
        return CM_EINVAL;
    }
    uint64_t row_id = (uint64_t)json_integer_value(v);
    json_t *img;
    int rc = ref_image(j, p, os, rt, row_id, new_side, &img, error, size);
    if (rc)
        return rc;
    json_t *cloud = json_object_get(img, h->name);
    if (!json_is_string(cloud)) {
        snprintf(error, size, "%s %llu has no %s yet", rt->name, (unsigned long long)row_id,
                 h->name);
        json_decref(img);
        return CM_EINVAL;
    }
    *out = json_incref(cloud);
    json_decref(img);
    return 0;
}

int apl_resolve(jnl *j, const apl_plan *p, const outcome *os, const mod_table *t, const json_t *img,
                bool new_side, json_t **out, char *error, size_t size)
{
    *out = NULL;
    if (!img)
        return 0;
    json_t *copy = json_deep_copy(img);
    int rc = 0;
    for (const mod_column *c = t->columns; !rc && c->name; c++) {
        json_t *v = json_object_get(img, c->name);
        if (!c->ref || !v || json_is_null(v))
            continue;
        const mod_table *rt = mod_find_table(c->ref, NULL);
        if (!rt) {
            snprintf(error, size, "%s.%s refers to unknown table %s", t->name, c->name, c->ref);
            rc = CM_EINVAL;
            break;
        }
        json_t *cloud = NULL;
        if (json_is_array(v)) {
            cloud = json_array();
            size_t k;
            json_t *e;
            json_array_foreach(v, k, e)
            {
                json_t *one;
                rc = resolve_one(j, p, os, rt, e, new_side, &one, error, size);
                if (rc)
                    break;
                json_array_append_new(cloud, one);
            }
        } else {
            rc = resolve_one(j, p, os, rt, v, new_side, &cloud, error, size);
        }
        if (!rc)
            json_object_set(copy, c->name, cloud);
        json_decref(cloud);
        if (rc) {
            char col[256];
            snprintf(col, sizeof col, "%s", error);
            snprintf(error, size, "%s: %s", c->name, col);
        }
    }
    if (rc) {
        json_decref(copy);
        return rc;
    }
    *out = copy;
    return 0;
}

void apl_unresolve(const mod_table *t, const json_t *rowform, json_t *image)
{
    if (!rowform || !image)
        return;
    for (const mod_column *c = t->columns; c->name; c++) {
        if (!c->ref)
            continue;
        json_t *v = json_object_get(rowform, c->name);
        json_object_set_new(image, c->name, v ? json_deep_copy(v) : json_null());
    }
}

bool apl_table_has_refs(const mod_table *t)
{
    for (const mod_column *c = t->columns; c->name; c++)
        if (c->ref)
            return true;
    return false;
}

bool apl_refers_to(const mod_column *c, const json_t *img, uint64_t row_id)
{
    json_t *v = json_object_get(img, c->name);
    if (json_is_integer(v))
        return (uint64_t)json_integer_value(v) == row_id;
    size_t k;
    json_t *e;
    json_array_foreach(v, k, e)
    {
        if (json_is_integer(e) && (uint64_t)json_integer_value(e) == row_id)
            return true;
    }
    return false;
}
