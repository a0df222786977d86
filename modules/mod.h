/* modules/mod.h — what a module is: a name, a version, dependencies, the SQL
 * that installs it, and for each table the roles of its columns and the
 * cloud operations that are truly specific to it. Generic code in capture/
 * and apply/ does the rest from this description. Only modules/ knows AWS.
 *
 * Row images are jansson objects keyed by column name, as to_json(row)
 * produces them. Images passed in are borrowed; images returned through
 * **out are new references owned by the caller. */
#ifndef IASQL_MOD_H
#define IASQL_MOD_H

#include <jansson.h>

#include "common/cm.h"

typedef struct mod_ctx mod_ctx;

/* The context for cloud calls: an AWS client built from the standard
 * credential chain. */
int mod_ctx_new(mod_ctx **out, cm_err *err);
void mod_ctx_free(mod_ctx *ctx);
const char *mod_ctx_default_region(const mod_ctx *ctx);
/* The idempotency token of the action being carried out (NULL: none). A
 * create sends it where the API takes one (ClientToken) and tags the
 * resource with it, so that a read after a crash finds it by the token. */
void mod_ctx_set_token(mod_ctx *ctx, const char *token);
const char *mod_ctx_token(const mod_ctx *ctx);
/* Context i (0-based) of a pool of contexts for concurrent actions, one
 * per thread, made on first use and owned by ctx; they share nothing but
 * the credentials' source. Requests made through them count in ctx's. */
int mod_ctx_worker(mod_ctx *ctx, int i, mod_ctx **out, cm_err *err);
/* The identity of the database this engine serves: what it creates is
 * tagged MOD_OWNER_TAG = owner (every service that takes tags), and a
 * list puts the owner a resource is tagged with
 * under MOD_OWNER_KEY in its row (not a column), so that a resource another
 * iasql database made is recognised. */
#define MOD_OWNER_TAG "iasql:owner"
#define MOD_OWNER_KEY "_owner"
void mod_ctx_set_owner(mod_ctx *ctx, const char *owner);
/* That identity, or NULL when ctx has none. */
const char *mod_ctx_owner(const mod_ctx *ctx);
/* A background context (the poller's) sends nothing while a commit is
 * applying: the commit marks its span with mod_foreground(true) ... (false).
 * Throttling cools a service down for every context of the process. */
void mod_ctx_set_background(mod_ctx *ctx, bool background);
void mod_foreground(bool on);
/* The rotation of deep reads (docs/poll.md). A table whose list can leave
 * out the columns that cost a read per resource names them in
 * mod_table.deep, and asks mod_deep_wanted() for each resource it lists.
 * When the answer is no, its row leaves those columns out and carries
 * MOD_PARTIAL_KEY (not a column): the poller keeps their known values.
 * A partial row without "tags" (tags among its deep columns) says nothing
 * of its owner: the poller keeps the foreign owner it noted. */
#define MOD_PARTIAL_KEY "_partial"
typedef struct mod_deep {
    /* A resource whose handle hashes to slot (of nslots) is read in full;
     * nslots 0 or 1: every one is. */
    unsigned slot, nslots;
    /* "region/handle" -> anything, for each resource the database knows
     * (a known state) and the engine did not change just now (what lists
     * show of a recent change may lag); any other is read in full. false:
     * one the import filter left out, never read in full (its partial row
     * says whether it passes the filter now). NULL: none known. */
    const json_t *known;
    /* For a table listed by parent (mod_table.by_parent): "region/handle"
     * of each parent the database knows (region "" for a parent without
     * one) -> how many of its children the database knows, or null when
     * they are to be listed now (a parent new since the table's last poll,
     * one the engine changed just now or a child of which it did). A parent
     * not in it is listed. NULL: every parent is listed. */
    const json_t *parents;
} mod_deep;
/* The key of a resource in mod_deep's known and parents, and in the
 * poller's sets of resources: "region/handle", region "" when NULL. */
void mod_handle_key(char *buf, size_t size, const char *region, const char *handle);
/* The rotation for the next listings through ctx (borrowed; NULL: every
 * resource in full, as iasql_sync() and an install read). */
void mod_ctx_set_deep(mod_ctx *ctx, const mod_deep *deep);
/* Whether the resource of handle (its first cloud-id column's value, or
 * that of mod_table.deep_handle's column) in
 * region ("" for a global table) is to be read in full now. */
bool mod_deep_wanted(const mod_ctx *ctx, const char *region, const char *handle);
/* The rotation by parent (mod_table.by_parent): whether the children of
 * the parent of handle in region ("" for a parent without one) are to be
 * listed now: always outside the rotation; under it, when the parent is
 * not among mod_deep.parents (or is there as null), when its slot comes up,
 * or when count, a number of its children the cloud gave beside the parent
 * (-1: none), differs from the number the database knows. When not, the
 * listing gives for that parent one marker row instead: the parent column,
 * the region (where the table has one) and MOD_UNLISTED_KEY (not a column);
 * the poller takes every known row under that parent as listed and the
 * same. */
#define MOD_UNLISTED_KEY "_unlisted"
bool mod_parent_wanted(const mod_ctx *ctx, const char *region, const char *handle, long count);
/* Whether the rotation by parent is on for this listing (a listing that
 * asks the cloud for a count only to pass it to mod_parent_wanted need
 * not ask otherwise). */
bool mod_parent_rotating(const mod_ctx *ctx);
/* The slot of a handle among nslots (FNV-1a): where the rotation reads it. */
unsigned mod_deep_slot(const char *region, const char *handle, unsigned nslots);

/* A listing's tape: the requests it made and a digest of each answer. */
typedef struct aws_tape mod_tape;
void mod_tape_free(mod_tape *tape);
/* HTTP requests made so far (for tests and benchmarks). */
uint64_t mod_ctx_requests(const mod_ctx *ctx);
uint64_t mod_ctx_mutating_requests(const mod_ctx *ctx);

enum {
    MOD_COL_CLOUD_ID = 1 << 0,    /* identifies the resource in the cloud; change = replace */
    MOD_COL_CLOUD_OWNED = 1 << 1, /* written only by the engine */
    MOD_COL_IMMUTABLE = 1 << 2,   /* cannot change in place; change = replace */
    MOD_COL_SECRET = 1 << 3,      /* may hold a mask (MOD_SECRET_PREFIX...) instead of a
                                   * secret; see docs/secrets.md */
    MOD_COL_UNIQUE = 1 << 4,      /* the cloud refuses a second resource with this value under
                                   * the same parent (parent_ref): a create under it waits for
                                   * the delete of the row that had it */
    MOD_COL_MAY_DANGLE = 1 << 5,  /* a reference the cloud keeps while its target is deleted (a
                                   * route to a deleted NAT gateway turns blackhole): the target's
                                   * delete need not wait for an update of this resource, so a
                                   * replace of the target that deletes first is followed by
                                   * the update that points here at the new one */
    MOD_COL_LOCAL = 1 << 6,       /* a setting of this database for how it changes the resource
                                   * (RDS's apply_immediately), or what the cloud takes but never
                                   * gives back (a Lambda function's code source), which the cloud
                                   * never reports: a list's value only seeds a new row; a poll
                                   * never compares or overwrites it */
};

/* A secret column holds this prefix and a uuid instead of the secret. The
 * apply stage hands a module the cleartext when the user has just set it;
 * otherwise the module sees the mask and must keep the cloud's value. */
#define MOD_SECRET_PREFIX "iasql-secret:"
bool mod_is_mask(const char *value);

/* The most columns a table may have (the poller keeps a bit per column). */
#define MOD_COLUMNS_MAX 64

typedef struct mod_column {
    const char *name;
    unsigned flags;
    /* A reference: the column holds row ids of this table (a number, or an
     * array of numbers for a set), a foreign key on the database side. The
     * module sees the cloud id of the referenced row instead (its first
     * MOD_COL_CLOUD_ID column), and its list returns cloud ids there; the
     * apply stage orders actions by these references. */
    const char *ref;
} mod_column;

/* One change of a batch (mod_table_ops.batch): what to do, and, once the
 * batch has run, its own outcome, as create, update or remove would have
 * given it. */
typedef enum { MOD_CHANGE_CREATE, MOD_CHANGE_UPDATE, MOD_CHANGE_REMOVE } mod_change_kind;
typedef struct mod_change {
    mod_change_kind kind;
    const json_t *known;   /* update, remove: borrowed */
    const json_t *desired; /* create, update: borrowed */
    const char *token;     /* the action's idempotency token (NULL: none) */
    json_t *out;           /* set by the batch for a create or update: the cloud's image
                            * (a new reference, the caller's) */
    int rc;                /* set by the batch: 0, or this change's error, told in err */
    cm_err err;
} mod_change;

typedef struct mod_table_ops {
    /* Every resource in the given regions, as row images without "id". */
    int (*list)(mod_ctx *ctx, const char *const *regions, size_t nregions, json_t **out,
                cm_err *err);
    /* Creates desired; *out is the cloud's image (desired plus cloud-owned
     * columns that the create response carries). */
    int (*create)(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err);
    /* Changes mutable columns from known to desired in place. */
    int (*update)(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                  cm_err *err);
    /* Reads one resource by the cloud-id columns of image: *out is the
     * cloud's image, or CM_ENOTFOUND when it does not exist. Used to settle a
     * call whose outcome a crash left unknown. */
    int (*read)(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err);
    /* Deletes known. A resource already gone is success. */
    int (*remove)(mod_ctx *ctx, const json_t *known, cm_err *err);
    /* Optional: fills cloud-owned columns of just-created images (an array)
     * with as few calls as possible, once per commit. */
    int (*fill_owned)(mod_ctx *ctx, json_t *images, cm_err *err);
    /* Optional, for a table whose list does not carry MOD_OWNER_KEY (its
     * tags cost a call per resource): the MOD_OWNER_TAG of the resource of
     * known into out ("" when it has none). Asked only before the engine
     * changes or deletes that resource. */
    int (*owner)(mod_ctx *ctx, const json_t *known, char *out, size_t size, cm_err *err);
    /* Optional, for a service that takes several changes in one call
     * (Route 53's ChangeResourceRecordSets, a zone's changes at once): the
     * n changes of this table that are ready together, each given its own
     * outcome (rc, err, out). The scheduler hands over at most
     * MOD_BATCH_MAX, only changes that wait for nothing left in the commit,
     * never for a table with an owner op or a secret column; a single
     * change still goes to create, update or remove. */
    void (*batch)(mod_ctx *ctx, mod_change *changes, size_t n);
} mod_table_ops;

#define MOD_BATCH_MAX 100

typedef struct mod_table {
    const char *name;
    const mod_column *columns; /* ends with {NULL, 0}; "id" is implied */
    const mod_table_ops *ops;  /* NULL: a local table (settings), never sent to the cloud */
    /* The service its calls go to (signing name), for the per-service limit
     * on concurrent actions; NULL: the table's own name. */
    const char *service;
    /* Optional: true when AWS removes this resource together with the one
     * its reference column parent_ref points at and refuses to delete it
     * alone (a VPC's default security group, its main route table). Deleting
     * such a row succeeds only with its parent's. */
    bool (*implicit)(const json_t *known);
    const char *parent_ref;
    /* Optional: true when AWS makes this resource with its parent without
     * being asked, though a user may remove it (the all-traffic egress rule
     * every security group gets, the default group's rule for itself).
     * Such a row, and an implicit one, is taken in from the cloud as part
     * of its parent, never reported as made outside this database. */
    bool (*with_parent)(const json_t *row);
    /* Optional, ends with NULL: the columns its list leaves out of a
     * partial row (mod_deep_wanted said no), because only a read per
     * resource returns them. They follow the poller's slower rotation
     * (iasql run --poll-deep); the rest follow every poll. */
    const char *const *deep;
    /* Optional: a replace makes the new resource before it deletes the old
     * one, whose delete then waits for what refers to it to move to the new
     * one (an ECS task definition: a new revision is registered, the
     * services that run it are updated to it, then the old revision is
     * deregistered). For resources the cloud names itself, so that old and
     * new can live side by side. When the old one's delete fails, or is not
     * reached, the action fails and the row stays pending with the old one
     * as its state: the new one is left beside it, and the module's create
     * cleans it up when the next commit tries again (that try carries the
     * same idempotency token while the row's first pending change is the
     * same one). */
    bool replace_new_first;
    /* Optional: the column whose value names a resource to the rotation
     * (the handle of mod_deep_wanted and mod_deep_known), for a table whose
     * first cloud-id column does not tell its resources apart (a
     * subscription's topic); NULL: that column. A known state without a
     * value there is not among the known handles. */
    const char *deep_handle;
    /* Optional: the requests one resource's turn in the rotation costs
     * (0: one). With the default --poll-deep the poller gives the table at
     * least ten slots a request, so that a quiet poll costs a tenth of a
     * request per resource or less (S3 buckets: seven, six of the bucket's
     * and the website table's one, whose rotation is kept as long so that
     * the two turns of a bucket coincide). A --poll-deep given is kept for
     * every table. */
    unsigned deep_reads;
    /* Optional: for a table whose resources are found only by listing
     * them per parent (a zone's record sets, a cluster's services), the
     * column naming that parent: a reference column, or one holding the
     * parent's handle (its first cloud-id column) of table by_parent_table
     * (a permission's function_name). Its listing follows a rotation by
     * parent (mod_parent_wanted), so that a quiet poll does not cost a
     * request per parent; the rest of the rotation (slots, known states,
     * no memo) is as for deep columns. Such a table names no deep columns:
     * its rows are whole, or not listed at all. */
    const char *by_parent;
    const char *by_parent_table; /* NULL: by_parent's reference */
} mod_table;

/* Lists table t (see mod_table_ops.list) through a tape. *tape, if not
 * NULL, is that of an earlier listing in the same regions that matched
 * the known states: its requests are sent again first, and when every
 * answer is as it was, *rows is NULL (nothing changed; nothing parsed).
 * Otherwise the listing runs, served by the answers already fetched, *rows
 * is what it found and *tape its own tape (the old one freed; NULL on an
 * error). */
int mod_list_taped(mod_ctx *ctx, const mod_table *t, const char *const *regions, size_t nregions,
                   mod_tape **tape, json_t **rows, cm_err *err);

typedef struct mod_module {
    const char *name;
    const char *version;
    const char *const *deps;        /* ends with NULL */
    const char *install_sql;        /* creates the tables; run in one transaction */
    const char *seed_sql;           /* optional, run after install with $1 = default region */
    const char *uninstall_sql;      /* optional, run after the tables are dropped */
    const char *pre_uninstall_sql;  /* optional, run before (views over the tables) */
    const mod_table *const *tables; /* ends with NULL, parents before children */
} mod_module;

/* Every module the engine offers, ending with NULL. */
const mod_module *const *mod_registry(void);
const mod_module *mod_find(const char *name);
/* The table of that name among all modules, or NULL; *module_out (if not
 * NULL) receives its module. */
const mod_table *mod_find_table(const char *table, const mod_module **module_out);
/* Every table of the registry in its order (parents before children), with
 * its module when modules is not NULL; at most max. Returns the count. */
int mod_all_tables(const mod_table **tables, const mod_module **modules, int max);
const mod_column *mod_column_find(const mod_table *t, const char *name);
/* The column by which other resources refer to a resource of t in the
 * cloud: its first cloud-id column (NULL when it has none). */
const mod_column *mod_ref_handle(const mod_table *t);
bool mod_column_has(const mod_table *t, const char *name, unsigned flag);

/* Whether two images (NULL: no resource) agree on every column the user
 * owns (all but MOD_COL_CLOUD_OWNED). */
bool mod_same_user_columns(const mod_table *t, const json_t *a, const json_t *b);

/* Describes a row for messages: "bucket 12 (name=logs, region=us-east-1)";
 * row_id 0, a row not made yet: "bucket (name=logs, region=us-east-1)". */
int mod_describe_row(const mod_table *t, uint64_t row_id, const json_t *image, cm_buf *b);

#endif
