/* modules/aws_ec2/mod_ec2_instance.c — key pairs and instances over the
 * EC2 API (volumes and elastic IP associations are in mod_ec2_volume.c).
 * RunInstances carries the intent's token as ClientToken (AWS makes one
 * instance per token) and as a tag, so that after a crash the instance is
 * found by the token and adopted rather than made twice. An instance's
 * user data comes only from a read per instance (DescribeInstanceAttribute)
 * and follows the poller's rotation; changing it stops the instance, sets
 * it and starts it again. Its instance profile changes in place. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/aws_ec2/mod_ec2_int.h"

#define IMM MOD_COL_IMMUTABLE
#define OWNED MOD_COL_CLOUD_OWNED
#define CID (MOD_COL_CLOUD_ID | MOD_COL_CLOUD_OWNED)

/* How long an instance may take to start, stop or terminate. */
#define INSTANCE_WAIT_MS 600000

/* ---- key pair ---- */

static json_t *key_row(mod_ctx *ctx, const char *region, xmlNodePtr item)
{
    (void)ctx;
    json_t *pub = ec2_text(item, "publicKey");
    if (json_is_string(pub)) { /* AWS appends a newline and sometimes a comment */
        char *s = strdup(json_string_value(pub));
        size_t n = s ? strlen(s) : 0;
        while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
            s[--n] = '\0';
        json_decref(pub);
        pub = s ? json_string(s) : json_null();
        free(s);
    }
    return json_pack("{s:o, s:s, s:o, s:o, s:o}", "name", ec2_text(item, "keyName"), "region",
                     region, "public_key", pub, "key_pair_id", ec2_text(item, "keyPairId"),
                     "fingerprint", ec2_text(item, "keyFingerprint"));
}

static int key_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)err;
    json_array_append_new(arg, key_row(ctx, region, item));
    return 0;
}

static int key_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    *out = json_array();
    int rc = 0;
    for (size_t r = 0; !rc && r < n; r++)
        rc = ec2_each(ctx, regions[r], "DescribeKeyPairs",
                      json_pack("{s:b}", "IncludePublicKey", 1), "keySet", key_each, *out, err);
    return rc;
}

static int key_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    return ec2_read_one(
        ctx, ec2_str(image, "region"), "DescribeKeyPairs",
        json_pack("{s:s, s:b}", "KeyName.1", ec2_str(image, "name"), "IncludePublicKey", 1),
        "keySet", key_row, out, err);
}

static int key_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *name = ec2_str(desired, "name"), *pub = ec2_str(desired, "public_key");
    if (!*pub)
        return cm_err_set(err, CM_EINVAL,
                          "public_key is required to create a key pair (iasql imports public "
                          "keys; a private key never enters the database)");
    int rc = ec2_op(ctx, ec2_str(desired, "region"), "ImportKeyPair",
                    json_pack("{s:s, s:o}", "KeyName", name, "PublicKeyMaterial", ec2_blob(pub)),
                    NULL, NULL, err, name);
    if (rc && strcmp(err->cloud_code, "InvalidKeyPair.Duplicate") != 0)
        return rc;
    cm_err_clear(err);
    rc = key_read(ctx, desired, out, err);
    if (!rc) /* the same key, as the user wrote it */
        json_object_set(*out, "public_key", json_object_get(desired, "public_key"));
    return rc;
}

static int key_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                      cm_err *err)
{
    (void)ctx;
    (void)known;
    (void)desired;
    *out = NULL;
    return cm_err_set(err, CM_EINVAL, "a key pair changes only by replacement");
}

static int key_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    return ec2_delete(ctx, known, "DeleteKeyPair", "KeyName", "name", err);
}

/* ---- instance ---- */

static int str_cmp(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

static json_t *instance_row(mod_ctx *ctx, const char *region, xmlNodePtr item)
{
    (void)ctx;
    char state[32];
    aws_xml_child_text(aws_xml_child(item, "instanceState"), "name", state, sizeof state);
    if (strcmp(state, "terminated") == 0 || strcmp(state, "shutting-down") == 0)
        return NULL;
    /* pending counts as running, stopping as stopped: where it is going */
    const char *st =
        strcmp(state, "stopped") == 0 || strcmp(state, "stopping") == 0 ? "stopped" : "running";
    json_t *groups = json_array();
    xmlNodePtr set = aws_xml_child(item, "groupSet");
    json_t *list[16];
    size_t n = 0;
    for (xmlNodePtr g = set ? aws_xml_child(set, "item") : NULL; g && n < 16;
         g = aws_xml_next(g, "item"))
        list[n++] = ec2_text(g, "groupId");
    qsort(list, n, sizeof *list, str_cmp);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(groups, list[i]);
    json_t *row = ec2_owned(
        item, json_pack("{s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:o, s:o, s:o}", "ami",
                        ec2_text(item, "imageId"), "instance_type", ec2_text(item, "instanceType"),
                        "subnet", ec2_text(item, "subnetId"), "key_pair", ec2_text(item, "keyName"),
                        "security_groups", groups, "state", st, "region", region, "tags",
                        ec2_tags(item), "instance_id", ec2_text(item, "instanceId"),
                        "private_ip_address", ec2_text(item, "privateIpAddress")));
    return row;
}

/* The user data of instance id, as text (null: none, or not text). */
static int user_data_read(mod_ctx *ctx, const char *region, const char *id, json_t **out,
                          cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    *out = NULL;
    int rc = ec2_op(ctx, region, "DescribeInstanceAttribute",
                    json_pack("{s:s, s:s}", "InstanceId", id, "Attribute", "userData"), &doc, &root,
                    err, id);
    if (rc)
        return rc;
    char *b64 = NULL;
    xmlChar *text = xmlNodeGetContent(aws_xml_path(root, "userData/value"));
    if (text)
        b64 = strdup((const char *)text);
    xmlFree(text);
    xmlFreeDoc(doc);
    *out = ec2_unblob(b64);
    free(b64);
    return 0;
}

typedef struct collect {
    json_t *rows;
    bool full;        /* every row read in full (a read by id), whatever the rotation says */
    json_t *profiles; /* instance id -> its instance profile's name, of the region */
} collect;

/* The name of the profile an association item names (the last part of
 * its ARN), or NULL. */
static json_t *profile_of(xmlNodePtr holder)
{
    char arn[2048];
    if (!aws_xml_child_text(aws_xml_child(holder, "iamInstanceProfile"), "arn", arn, sizeof arn) ||
        !strrchr(arn, '/'))
        return NULL;
    return json_string(strrchr(arn, '/') + 1);
}

static int profile_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)ctx, (void)region, (void)err;
    char id[64] = "", state[32] = "";
    aws_xml_child_text(item, "instanceId", id, sizeof id);
    aws_xml_child_text(item, "state", state, sizeof state);
    json_t *name = profile_of(item);
    if (id[0] && name && (strcmp(state, "associated") == 0 || strcmp(state, "associating") == 0))
        json_object_set(arg, id, name);
    json_decref(name);
    return 0;
}

/* The instance profiles of the region's instances (of instance id alone
 * when id is not NULL), from their associations: what DescribeInstances
 * says lags behind a ReplaceIamInstanceProfileAssociation in moto. */
static int instance_profiles(mod_ctx *ctx, const char *region, const char *id, json_t **out,
                             cm_err *err)
{
    *out = json_object();
    json_t *p = id ? json_pack("{s:s, s:s}", "Filter.1.Name", "instance-id", "Filter.1.Value.1", id)
                   : json_pack("{s:i}", "MaxResults", 1000);
    return ec2_each(ctx, region, "DescribeIamInstanceProfileAssociations", p,
                    "iamInstanceProfileAssociationSet", profile_each, *out, err);
}

/* A known instance outside its turn of the rotation leaves its user data
 * out (a partial row); any other is read in full. */
static int instance_each(mod_ctx *ctx, const char *region, xmlNodePtr reservation, void *arg,
                         cm_err *err)
{
    collect *c = arg;
    xmlNodePtr set = aws_xml_child(reservation, "instancesSet");
    int rc = 0;
    for (xmlNodePtr it = set ? aws_xml_child(set, "item") : NULL; it && !rc;
         it = aws_xml_next(it, "item")) {
        json_t *row = instance_row(ctx, region, it);
        if (!row)
            continue;
        const char *id = ec2_str(row, "instance_id");
        /* the profile by name (names hold no '/') */
        json_t *profile = json_object_get(c->profiles, id);
        json_object_set(row, "instance_profile", profile ? profile : json_null());
        if (!c->full && mod_deep_known(ctx, region, id) && !mod_deep_wanted(ctx, region, id)) {
            json_object_set_new(row, MOD_PARTIAL_KEY, json_true());
        } else {
            json_t *data = NULL;
            rc = user_data_read(ctx, region, id, &data, err);
            if (rc && strstr(err->cloud_code, "NotFound")) { /* terminated since */
                cm_err_clear(err);
                rc = 0;
                json_decref(row);
                continue;
            }
            json_object_set_new(row, "user_data", data ? data : json_null());
        }
        if (rc)
            json_decref(row);
        else
            json_array_append_new(c->rows, row);
    }
    return rc;
}

static int instance_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out,
                         cm_err *err)
{
    collect c = {json_array(), false, NULL};
    *out = c.rows;
    int rc = 0;
    for (size_t r = 0; !rc && r < n; r++) {
        rc = instance_profiles(ctx, regions[r], NULL, &c.profiles, err);
        if (!rc)
            rc = ec2_each_region(ctx, &regions[r], 1, "DescribeInstances", "reservationSet",
                                 instance_each, &c, err);
        json_decref(c.profiles);
        c.profiles = NULL;
    }
    return rc;
}

/* Reads the instance of image: by instance_id, else by the token tag.
 * CM_ENOTFOUND when it does not exist (or is terminated). */
static int instance_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *region = ec2_str(image, "region"), *id = ec2_str(image, "instance_id");
    json_t *p = json_object();
    *out = NULL;
    if (*id)
        json_object_set_new(p, "InstanceId.1", json_string(id));
    else if (!ec2_token_filter(ctx, p)) {
        json_decref(p);
        return cm_err_set(err, CM_ENOTFOUND, "no instance_id to read by");
    }
    collect c = {json_array(), true, NULL};
    int rc =
        ec2_each(ctx, region, "DescribeInstances", p, "reservationSet", instance_each, &c, err);
    if (rc && strstr(err->msg, "NotFound")) {
        cm_err_clear(err);
        rc = CM_ENOTFOUND;
    }
    json_t *row = json_array_get(c.rows, 0), *profiles = NULL;
    if (!rc && row)
        rc = instance_profiles(ctx, region, ec2_str(row, "instance_id"), &profiles, err);
    if (!rc && row) {
        json_t *name = json_object_get(profiles, ec2_str(row, "instance_id"));
        json_object_set(row, "instance_profile", name ? name : json_null());
        *out = json_incref(row);
    } else if (!rc) {
        rc = CM_ENOTFOUND;
    }
    json_decref(profiles);
    json_decref(c.rows);
    return rc;
}

typedef struct wait_state {
    const json_t *image; /* region and instance_id */
    const char *want;    /* "running", "stopped", or NULL for gone */
} wait_state;

static int probe_state(mod_ctx *ctx, const void *arg, bool *done, cm_err *err)
{
    const wait_state *w = arg;
    json_t *p = json_pack("{s:s}", "InstanceId.1", ec2_str(w->image, "instance_id"));
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(ctx, ec2_str(w->image, "region"), "DescribeInstances", p, &doc, &root, err,
                    ec2_str(w->image, "instance_id"));
    if (rc && strstr(err->cloud_code, "NotFound")) { /* not visible yet, or long gone */
        cm_err_clear(err);
        *done = !w->want;
        return 0;
    }
    if (rc)
        return rc;
    char state[32] = "";
    aws_xml_child_text(
        aws_xml_child(aws_xml_path(root, "reservationSet/item/instancesSet/item"), "instanceState"),
        "name", state, sizeof state);
    xmlFreeDoc(doc);
    *done = w->want ? strcmp(state, w->want) == 0 : (!state[0] || strcmp(state, "terminated") == 0);
    return 0;
}

static int wait_for(mod_ctx *ctx, const json_t *image, const char *want, cm_err *err)
{
    wait_state w = {image, want};
    return mod_wait(ctx, probe_state, &w, INSTANCE_WAIT_MS, ec2_str(image, "instance_id"), err);
}

static int set_state(mod_ctx *ctx, const json_t *image, const char *want, cm_err *err)
{
    const char *id = ec2_str(image, "instance_id");
    bool stop = strcmp(want, "stopped") == 0;
    /* EC2 refuses to stop an instance still pending: wait for running first */
    int rc = stop ? wait_for(ctx, image, "running", err) : 0;
    if (!rc)
        rc = ec2_op(ctx, ec2_str(image, "region"), stop ? "StopInstances" : "StartInstances",
                    json_pack("{s:s}", "InstanceId.1", id), NULL, NULL, err, id);
    if (!rc)
        rc = wait_for(ctx, image, want, err);
    return rc;
}

static int instance_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = ec2_str(desired, "region");
    json_t *p = json_pack("{s:s, s:s, s:i, s:i, s:s}", "ImageId", ec2_str(desired, "ami"),
                          "InstanceType", ec2_str(desired, "instance_type"), "MinCount", 1,
                          "MaxCount", 1, "SubnetId", ec2_str(desired, "subnet"));
    if (*ec2_str(desired, "key_pair"))
        json_object_set_new(p, "KeyName", json_string(ec2_str(desired, "key_pair")));
    if (mod_ctx_token(ctx))
        json_object_set_new(p, "ClientToken", json_string(mod_ctx_token(ctx)));
    if (*ec2_str(desired, "user_data"))
        json_object_set_new(p, "UserData", ec2_blob(ec2_str(desired, "user_data")));
    if (*ec2_str(desired, "instance_profile"))
        json_object_set_new(p, "IamInstanceProfile.Name",
                            json_string(ec2_str(desired, "instance_profile")));
    mod_query_put_list(p, "SecurityGroupId", json_object_get(desired, "security_groups"));
    ec2_tag_spec(ctx, p, "instance", json_object_get(desired, "tags"));
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(ctx, region, "RunInstances", p, &doc, &root, err, ec2_str(desired, "ami"));
    if (rc)
        return rc;
    xmlNodePtr inst = aws_xml_path(root, "instancesSet/item");
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "instance_id", ec2_text(inst, "instanceId"));
    json_object_set_new(*out, "private_ip_address", ec2_text(inst, "privateIpAddress"));
    xmlFreeDoc(doc);
    if (!json_is_string(json_object_get(*out, "instance_id")))
        return cm_err_set(err, CM_EBADREPLY, "RunInstances: no instanceId in the answer");
    /* Eventual consistency: the new instance is visible before anything
     * else is done with it. */
    rc = wait_for(ctx, *out, "running", err);
    if (!rc && strcmp(ec2_str(desired, "state"), "stopped") == 0)
        rc = set_state(ctx, *out, "stopped", err);
    if (rc) /* it exists: what it is now is what a read says */
        json_object_set_new(*out, "state", json_string("running"));
    return rc;
}

/* ModifyInstanceAttribute's UserData is a blob: its value is the base64 of
 * the user data, which AWS decodes once, as RunInstances' string. moto
 * decodes the blob and then wants base64 again (the AWS CLI's users encode
 * it themselves, and the CLI once more): refused as malformed, which AWS
 * never says of a value that is base64 by construction, it is sent
 * encoded twice. */
static int user_data_set(mod_ctx *ctx, const char *region, const char *id, const char *text,
                         cm_err *err)
{
    int rc = ec2_op(ctx, region, "ModifyInstanceAttribute",
                    json_pack("{s:s, s:o}", "InstanceId", id, "UserData.Value", ec2_blob(text)),
                    NULL, NULL, err, id);
    if (rc && *text && strcmp(err->cloud_code, "InvalidUserData.Malformed") == 0) {
        json_t *once = ec2_blob(text);
        cm_err_clear(err);
        rc = ec2_op(ctx, region, "ModifyInstanceAttribute",
                    json_pack("{s:s, s:o}", "InstanceId", id, "UserData.Value",
                              ec2_blob(json_string_value(once))),
                    NULL, NULL, err, id);
        json_decref(once);
    }
    return rc;
}

/* The association of instance id with an instance profile: its id, or ""
 * when it has none. */
static int profile_association(mod_ctx *ctx, const char *region, const char *id, char *out,
                               size_t size, cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    out[0] = '\0';
    int rc = ec2_op(ctx, region, "DescribeIamInstanceProfileAssociations",
                    json_pack("{s:s, s:s}", "Filter.1.Name", "instance-id", "Filter.1.Value.1", id),
                    &doc, &root, err, id);
    if (rc)
        return rc;
    xmlNodePtr set = aws_xml_child(root, "iamInstanceProfileAssociationSet");
    for (xmlNodePtr a = set ? aws_xml_child(set, "item") : NULL; a && !out[0];
         a = aws_xml_next(a, "item")) {
        char state[32] = "";
        aws_xml_child_text(a, "state", state, sizeof state);
        if (!state[0] || strcmp(state, "associated") == 0 || strcmp(state, "associating") == 0)
            aws_xml_child_text(a, "associationId", out, size);
    }
    xmlFreeDoc(doc);
    return 0;
}

/* Instance id's instance profile becomes name ("": none), in place. */
static int instance_profile_set(mod_ctx *ctx, const char *region, const char *id, const char *name,
                                cm_err *err)
{
    char assoc[128];
    int rc = profile_association(ctx, region, id, assoc, sizeof assoc, err);
    if (rc)
        return rc;
    if (!*name)
        return assoc[0] ? ec2_op(ctx, region, "DisassociateIamInstanceProfile",
                                 json_pack("{s:s}", "AssociationId", assoc), NULL, NULL, err, id)
                        : 0;
    if (assoc[0])
        return ec2_op(
            ctx, region, "ReplaceIamInstanceProfileAssociation",
            json_pack("{s:s, s:s}", "AssociationId", assoc, "IamInstanceProfile.Name", name), NULL,
            NULL, err, id);
    return ec2_op(ctx, region, "AssociateIamInstanceProfile",
                  json_pack("{s:s, s:s}", "InstanceId", id, "IamInstanceProfile.Name", name), NULL,
                  NULL, err, id);
}

static int instance_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                           cm_err *err)
{
    const char *region = ec2_str(known, "region"), *id = ec2_str(known, "instance_id");
    int rc = 0;
    json_t *groups = json_object_get(desired, "security_groups");
    if (!json_equal(groups, json_object_get(known, "security_groups")) &&
        json_array_size(groups) == 0)
        /* the table refuses it (instance_keeps_a_security_group); EC2 would */
        return cm_err_set(err, CM_EINVAL,
                          "instance %s must keep at least one security group Hint: Set the "
                          "groups it should have instead.",
                          id);
    if (!json_equal(groups, json_object_get(known, "security_groups"))) {
        json_t *p = json_pack("{s:s}", "InstanceId", id);
        mod_query_put_list(p, "GroupId", groups);
        rc = ec2_op(ctx, region, "ModifyInstanceAttribute", p, NULL, NULL, err, id);
    }
    if (!rc)
        rc = ec2_retag(ctx, region, id, known, desired, err);
    if (!rc && strcmp(ec2_str(known, "instance_profile"), ec2_str(desired, "instance_profile")))
        rc = instance_profile_set(ctx, region, id, ec2_str(desired, "instance_profile"), err);
    const char *want = ec2_str(desired, "state"), *now = ec2_str(known, "state");
    if (!rc && strcmp(ec2_str(known, "user_data"), ec2_str(desired, "user_data")) != 0) {
        /* EC2 changes the user data of a stopped instance only */
        if (strcmp(now, "stopped") != 0)
            rc = set_state(ctx, known, "stopped", err);
        if (!rc)
            now = "stopped";
        bool stopped_here = !rc && strcmp(ec2_str(known, "state"), "stopped") != 0;
        if (!rc)
            rc = user_data_set(ctx, region, id, ec2_str(desired, "user_data"), err);
        if (rc && stopped_here && strcmp(want, "running") == 0) {
            /* refused: started again as it was, and the change fails */
            cm_err again = {0};
            set_state(ctx, known, "running", &again);
        }
    }
    if (!rc && strcmp(want, now) != 0)
        rc = set_state(ctx, known, want, err);
    if (!rc)
        *out = ec2_updated(known, desired, "instance_id", "private_ip_address", NULL);
    return rc;
}

static int instance_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    if (!*ec2_str(known, "instance_id"))
        return 0;
    int rc = ec2_delete(ctx, known, "TerminateInstances", "InstanceId.1", "instance_id", err);
    /* Its subnet and security groups can go only once it has. */
    if (!rc)
        rc = wait_for(ctx, known, NULL, err);
    return rc;
}

static const mod_table_ops key_ops = {key_list, key_create, key_update, key_read, key_remove, NULL};
static const mod_column key_columns[] = {{"name", MOD_COL_CLOUD_ID}, {"region", IMM},
                                         {"public_key", IMM},        {"key_pair_id", OWNED},
                                         {"fingerprint", OWNED},     {NULL, 0}};
static const mod_table key_table = {"key_pair", key_columns, &key_ops, "ec2"};

static const mod_table_ops instance_ops = {instance_list, instance_create, instance_update,
                                           instance_read, instance_remove, NULL};
/* A replaced instance profile may be deleted before the instance moves to
 * the new one (IAM lets a profile go while an instance holds it). */
static const mod_column instance_columns[] = {
    {"instance_id", CID},
    {"ami", IMM},
    {"instance_type", IMM},
    {"subnet", IMM, "subnet"},
    {"key_pair", IMM, "key_pair"},
    {"security_groups", 0, "security_group"},
    {"state", 0},
    {"region", IMM},
    {"tags", 0},
    {"user_data", 0},
    {"instance_profile", MOD_COL_MAY_DANGLE, "instance_profile"},
    {"private_ip_address", OWNED},
    {NULL, 0}};
/* What only DescribeInstanceAttribute returns: it follows the rotation. */
static const char *const instance_deep[] = {"user_data", NULL};
static const mod_table instance_table = {"instance", instance_columns, &instance_ops, "ec2",
                                         .deep = instance_deep};

static const mod_table *const ec2_tables[] = {&key_table, &instance_table, &ec2_volume_table,
                                              &ec2_eip_assoc_table, NULL};
static const char *const ec2_deps[] = {"aws_vpc", "aws_security_group", "aws_iam", NULL};

extern const char iasql_sql_aws_ec2[];

const mod_module mod_aws_ec2 = {
    .name = "aws_ec2",
    .version = IASQL_VERSION,
    .deps = ec2_deps,
    .install_sql = iasql_sql_aws_ec2,
    .pre_uninstall_sql = "DROP VIEW IF EXISTS instance_security_group;",
    .uninstall_sql = "DROP FUNCTION IF EXISTS instance_security_group_write();\n"
                     "DROP FUNCTION IF EXISTS instance_security_groups_valid();\n"
                     "DROP FUNCTION IF EXISTS instance_keeps_a_security_group();\n"
                     "DROP TRIGGER IF EXISTS security_group_in_use ON security_group;\n"
                     "DROP FUNCTION IF EXISTS security_group_in_use();\n"
                     "DROP FUNCTION IF EXISTS general_purpose_volume_defaults();\n"
                     "DROP FUNCTION IF EXISTS general_purpose_volume_size_only_grows();\n"
                     "DROP FUNCTION IF EXISTS general_purpose_volume_zone_valid();\n"
                     "DROP FUNCTION IF EXISTS elastic_ip_association_not_a_nat_gateways();",
    .tables = ec2_tables,
};
