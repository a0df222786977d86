/* modules/aws_ec2/mod_ec2_volume.c — general purpose EBS volumes (gp2, gp3)
 * and elastic IP associations over the EC2 API.
 *
 * A volume is made, then attached; it is detached (and waited for) before
 * it moves, and before it is deleted. Size, type, IOPS and throughput
 * change in place (ModifyVolume), size only upwards. A volume that goes
 * with its instance (DeleteOnTermination: the root volume RunInstances
 * made) is part of that instance and no row of this table. An elastic IP
 * association moves to another instance in place (AssociateAddress with
 * AllowReassociation) and gets a new id doing so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/aws_ec2/mod_ec2_int.h"

#define OWNED MOD_COL_CLOUD_OWNED
#define IMM MOD_COL_IMMUTABLE
#define CID (MOD_COL_CLOUD_ID | MOD_COL_CLOUD_OWNED)

/* How long a volume may take to become available, attach or detach. */
#define VOLUME_WAIT_MS 300000

/* gp3's baseline when a volume's answer leaves it out (moto does). */
#define GP3_IOPS 3000
#define GP3_THROUGHPUT 125

/* ---- volume ---- */

/* What DescribeVolumes says of one volume; NULL for one this table does
 * not hold (another type, on its way out). *dot: its attachment's
 * DeleteOnTermination, 1, 0, or -1 when the answer does not say (moto). */
static json_t *volume_row(xmlNodePtr item, const char *region, int *dot)
{
    char type[16], state[32];
    aws_xml_child_text(item, "volumeType", type, sizeof type);
    aws_xml_child_text(item, "status", state, sizeof state);
    *dot = 0;
    if ((strcmp(type, "gp2") != 0 && strcmp(type, "gp3") != 0) || strcmp(state, "deleting") == 0 ||
        strcmp(state, "deleted") == 0)
        return NULL;
    bool gp3 = strcmp(type, "gp3") == 0;
    json_t *iops = gp3 ? ec2_int(item, "iops") : json_null();
    json_t *throughput = gp3 ? ec2_int(item, "throughput") : json_null();
    if (gp3 && json_is_null(iops))
        iops = json_integer(GP3_IOPS);
    if (gp3 && json_is_null(throughput))
        throughput = json_integer(GP3_THROUGHPUT);
    json_t *snap = ec2_text(item, "snapshotId");
    if (json_is_string(snap) && !*json_string_value(snap)) {
        json_decref(snap);
        snap = json_null();
    }
    /* the attachment that holds it (one: general purpose volumes do not
     * multi-attach) */
    json_t *instance = json_null(), *device = json_null();
    xmlNodePtr set = aws_xml_child(item, "attachmentSet");
    for (xmlNodePtr a = set ? aws_xml_child(set, "item") : NULL; a; a = aws_xml_next(a, "item")) {
        char st[32] = "", del[16] = "";
        aws_xml_child_text(a, "status", st, sizeof st);
        bool said = aws_xml_child_text(a, "deleteOnTermination", del, sizeof del);
        if (said && strcmp(del, "true") == 0) { /* its instance's, detaching or not */
            *dot = 1;
            break;
        }
        if (strcmp(st, "attached") != 0 && strcmp(st, "attaching") != 0)
            continue;
        json_decref(instance);
        json_decref(device);
        instance = ec2_text(a, "instanceId");
        device = ec2_text(a, "device");
        *dot = said ? 0 : -1;
        break;
    }
    return ec2_owned(item, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o}",
                                     "volume_type", type, "availability_zone",
                                     ec2_text(item, "availabilityZone"), "size",
                                     ec2_int(item, "size"), "iops", iops, "throughput", throughput,
                                     "snapshot_id", snap, "attached_instance", instance,
                                     "instance_device_name", device, "region", region, "tags",
                                     ec2_tags(item), "volume_id", ec2_text(item, "volumeId")));
}

typedef struct volumes {
    json_t *rows;
    json_t *unsure; /* volume ids whose DeleteOnTermination the answer did not give */
} volumes;

static int volume_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)ctx;
    (void)err;
    volumes *v = arg;
    int dot;
    json_t *row = volume_row(item, region, &dot);
    if (!row || dot == 1) { /* another kind, or its instance's own */
        json_decref(row);
        return 0;
    }
    if (dot < 0)
        json_array_append(v->unsure, json_object_get(row, "volume_id"));
    json_array_append_new(v->rows, row);
    return 0;
}

/* The volumes that go with their instances, from the instances' block
 * device mappings, into the object dot (volume id -> true). */
static int dot_each(mod_ctx *ctx, const char *region, xmlNodePtr reservation, void *arg,
                    cm_err *err)
{
    (void)ctx, (void)region, (void)err;
    xmlNodePtr set = aws_xml_child(reservation, "instancesSet");
    for (xmlNodePtr it = set ? aws_xml_child(set, "item") : NULL; it;
         it = aws_xml_next(it, "item")) {
        xmlNodePtr bdm = aws_xml_child(it, "blockDeviceMapping");
        for (xmlNodePtr m = bdm ? aws_xml_child(bdm, "item") : NULL; m;
             m = aws_xml_next(m, "item")) {
            char id[64] = "", del[16] = "";
            xmlNodePtr ebs = aws_xml_child(m, "ebs");
            aws_xml_child_text(ebs, "volumeId", id, sizeof id);
            aws_xml_child_text(ebs, "deleteOnTermination", del, sizeof del);
            if (id[0] && strcmp(del, "true") == 0)
                json_object_set_new(arg, id, json_true());
        }
    }
    return 0;
}

/* Leaves out of v the volumes whose answer did not say whether they go
 * with their instance and that do: one DescribeInstances, only then. */
static int volume_drop_instance_own(mod_ctx *ctx, const char *region, volumes *v, cm_err *err)
{
    if (!json_array_size(v->unsure))
        return 0;
    json_t *dot = json_object();
    const char *const regions[] = {region};
    int rc =
        ec2_each_region(ctx, regions, 1, "DescribeInstances", "reservationSet", dot_each, dot, err);
    for (size_t i = json_array_size(v->rows); !rc && i-- > 0;)
        if (json_object_get(dot, ec2_str(json_array_get(v->rows, i), "volume_id")))
            json_array_remove(v->rows, i);
    json_decref(dot);
    json_array_clear(v->unsure);
    return rc;
}

static int volume_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out,
                       cm_err *err)
{
    *out = json_array();
    int rc = 0;
    for (size_t r = 0; !rc && r < n; r++) {
        volumes v = {json_array(), json_array()};
        rc = ec2_each_region(ctx, &regions[r], 1, "DescribeVolumes", "volumeSet", volume_each, &v,
                             err);
        if (!rc)
            rc = volume_drop_instance_own(ctx, regions[r], &v, err);
        json_array_extend(*out, v.rows);
        json_decref(v.rows);
        json_decref(v.unsure);
    }
    return rc;
}

/* The volume of image: by volume_id, else by the token tag. */
static int volume_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    const char *region = ec2_str(image, "region"), *id = ec2_str(image, "volume_id");
    json_t *p = json_object();
    *out = NULL;
    if (*id)
        json_object_set_new(p, "VolumeId.1", json_string(id));
    else if (!ec2_token_filter(ctx, p)) {
        json_decref(p);
        return cm_err_set(err, CM_ENOTFOUND, "no volume_id to read by");
    }
    volumes v = {json_array(), json_array()};
    int rc = ec2_each(ctx, region, "DescribeVolumes", p, "volumeSet", volume_each, &v, err);
    if (rc && strstr(err->cloud_code, "NotFound")) {
        cm_err_clear(err);
        rc = CM_ENOTFOUND;
    }
    if (!rc)
        rc = volume_drop_instance_own(ctx, region, &v, err);
    if (!rc && json_array_size(v.rows))
        *out = json_incref(json_array_get(v.rows, 0));
    else if (!rc)
        rc = cm_err_set(err, CM_ENOTFOUND, "volume %s does not exist", id);
    json_decref(v.rows);
    json_decref(v.unsure);
    return rc;
}

/* What a wait for a volume looks for. */
typedef struct volume_want {
    const char *region, *id;
    const char *state;  /* "available", "in-use", or NULL: the targets below */
    const json_t *want; /* size and type a modification is to reach */
} volume_want;

static int probe_volume(mod_ctx *ctx, const void *arg, bool *done, cm_err *err)
{
    const volume_want *w = arg;
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc = ec2_op(ctx, w->region, "DescribeVolumes", json_pack("{s:s}", "VolumeId.1", w->id),
                    &doc, &root, err, w->id);
    if (rc)
        return rc;
    xmlNodePtr item = aws_xml_path(root, "volumeSet/item");
    char state[32] = "", type[16] = "", size[32] = "", attach[32] = "";
    aws_xml_child_text(item, "status", state, sizeof state);
    aws_xml_child_text(item, "volumeType", type, sizeof type);
    aws_xml_child_text(item, "size", size, sizeof size);
    aws_xml_child_text(aws_xml_path(item, "attachmentSet/item"), "status", attach, sizeof attach);
    xmlFreeDoc(doc);
    if (w->state && strcmp(w->state, "in-use") == 0)
        *done = strcmp(state, "in-use") == 0 && (!attach[0] || strcmp(attach, "attached") == 0);
    else if (w->state)
        *done = strcmp(state, w->state) == 0;
    else
        *done = strcmp(type, ec2_str(w->want, "volume_type")) == 0 &&
                atoll(size) == json_integer_value(json_object_get(w->want, "size"));
    if (!*done && strcmp(state, "error") == 0)
        return cm_err_set(err, CM_ECLOUD, "volume %s is in state error", w->id);
    return 0;
}

static int volume_wait(mod_ctx *ctx, const char *region, const char *id, const char *state,
                       const json_t *want, cm_err *err)
{
    volume_want w = {region, id, state, want};
    return mod_wait(ctx, probe_volume, &w, VOLUME_WAIT_MS, id, err);
}

static int volume_attach(mod_ctx *ctx, const char *region, const char *id, const json_t *desired,
                         cm_err *err)
{
    const char *instance = ec2_str(desired, "attached_instance");
    if (!*instance)
        return 0;
    int rc = ec2_op(ctx, region, "AttachVolume",
                    json_pack("{s:s, s:s, s:s}", "Device", ec2_str(desired, "instance_device_name"),
                              "InstanceId", instance, "VolumeId", id),
                    NULL, NULL, err, id);
    if (rc && strcmp(err->cloud_code, "InvalidParameterValue") == 0)
        cm_err_wrap(err,
                    "volume %s cannot be attached as %s Detail: the device name is taken on "
                    "instance %s, or is not one its platform takes. Hint: Choose another "
                    "instance_device_name (/dev/sdf to /dev/sdp are the usual ones).",
                    id, ec2_str(desired, "instance_device_name"), instance);
    return rc ? rc : volume_wait(ctx, region, id, "in-use", NULL, err);
}

/* The instance the volume is attached (or attaching) to now, and the
 * device: "" when none. */
static int volume_attachment(mod_ctx *ctx, const char *region, const char *id, char *instance,
                             char *device, size_t size, cm_err *err)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    instance[0] = device[0] = '\0';
    int rc = ec2_op(ctx, region, "DescribeVolumes", json_pack("{s:s}", "VolumeId.1", id), &doc,
                    &root, err, id);
    if (rc)
        return rc;
    xmlNodePtr set = aws_xml_path(root, "volumeSet/item/attachmentSet");
    for (xmlNodePtr a = set ? aws_xml_child(set, "item") : NULL; a && !instance[0];
         a = aws_xml_next(a, "item")) {
        char st[32] = "";
        aws_xml_child_text(a, "status", st, sizeof st);
        if (strcmp(st, "attached") == 0 || strcmp(st, "attaching") == 0) {
            aws_xml_child_text(a, "instanceId", instance, size);
            aws_xml_child_text(a, "device", device, size);
        }
    }
    xmlFreeDoc(doc);
    return 0;
}

/* Detaches the volume from whatever holds it and waits until it is
 * available. One detached already (by its instance's termination, say) is
 * not detached again (moto answers that with a server error), and one
 * detaching is waited for. The instance and device are sent too, though
 * AWS needs neither: moto fails without them. */
static int volume_detach(mod_ctx *ctx, const char *region, const char *id, cm_err *err)
{
    char instance[64], device[64];
    int rc = volume_attachment(ctx, region, id, instance, device, sizeof instance, err);
    if (!rc && instance[0]) {
        json_t *p = json_pack("{s:s, s:s}", "VolumeId", id, "InstanceId", instance);
        if (device[0])
            json_object_set_new(p, "Device", json_string(device));
        rc = ec2_op(ctx, region, "DetachVolume", p, NULL, NULL, err, id);
    }
    if (rc && strcmp(err->cloud_code, "IncorrectState") == 0) {
        cm_err_clear(err);
        rc = 0;
    }
    return rc ? rc : volume_wait(ctx, region, id, "available", NULL, err);
}

static int volume_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    const char *region = ec2_str(desired, "region"), *type = ec2_str(desired, "volume_type");
    json_t *p =
        json_pack("{s:s, s:O, s:s}", "AvailabilityZone", ec2_str(desired, "availability_zone"),
                  "Size", json_object_get(desired, "size"), "VolumeType", type);
    if (strcmp(type, "gp3") == 0) {
        json_t *iops = json_object_get(desired, "iops"),
               *tp = json_object_get(desired, "throughput");
        if (json_is_integer(iops))
            json_object_set(p, "Iops", iops);
        if (json_is_integer(tp))
            json_object_set(p, "Throughput", tp);
    }
    if (*ec2_str(desired, "snapshot_id"))
        json_object_set_new(p, "SnapshotId", json_string(ec2_str(desired, "snapshot_id")));
    if (mod_ctx_token(ctx))
        json_object_set_new(p, "ClientToken", json_string(mod_ctx_token(ctx)));
    char id[64];
    int rc = ec2_create(ctx, region, "CreateVolume", p, "volume", json_object_get(desired, "tags"),
                        "volumeId", id, sizeof id, err, ec2_str(desired, "availability_zone"));
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "volume_id", json_string(id));
    rc = volume_wait(ctx, region, id, "available", NULL, err);
    if (!rc)
        rc = volume_attach(ctx, region, id, desired, err);
    if (rc) { /* it exists, unattached: that is what it is now */
        json_object_set_new(*out, "attached_instance", json_null());
        json_object_set_new(*out, "instance_device_name", json_null());
    }
    return rc;
}

/* ModifyVolume for what changed of size, type, IOPS and throughput; waits
 * until the volume shows the new size and type. */
static int volume_modify(mod_ctx *ctx, const json_t *known, const json_t *desired, cm_err *err)
{
    const char *region = ec2_str(known, "region"), *id = ec2_str(known, "volume_id");
    json_t *ks = json_object_get(known, "size"), *ds = json_object_get(desired, "size");
    if (json_integer_value(ds) < json_integer_value(ks))
        return cm_err_set(err, CM_EINVAL,
                          "volume %s cannot shrink from %lld GiB to %lld GiB Detail: EBS volumes "
                          "only grow. Hint: Keep its size, or make a new, smaller volume and copy "
                          "the data over.",
                          id, (long long)json_integer_value(ks), (long long)json_integer_value(ds));
    bool type_changed = strcmp(ec2_str(known, "volume_type"), ec2_str(desired, "volume_type")) != 0;
    bool gp3 = strcmp(ec2_str(desired, "volume_type"), "gp3") == 0;
    json_t *p = json_pack("{s:s}", "VolumeId", id);
    size_t base = json_object_size(p);
    if (!json_equal(ks, ds))
        json_object_set(p, "Size", ds);
    if (type_changed)
        json_object_set_new(p, "VolumeType", json_string(ec2_str(desired, "volume_type")));
    static const char *const perf[][2] = {{"iops", "Iops"}, {"throughput", "Throughput"}};
    for (size_t i = 0; gp3 && i < 2; i++) {
        json_t *v = json_object_get(desired, perf[i][0]);
        if (json_is_integer(v) &&
            (type_changed || !json_equal(v, json_object_get(known, perf[i][0]))))
            json_object_set(p, perf[i][1], v);
    }
    if (json_object_size(p) == base) {
        json_decref(p);
        return 0;
    }
    int rc = ec2_op(ctx, region, "ModifyVolume", p, NULL, NULL, err, id);
    if (rc && strcmp(err->cloud_code, "VolumeModificationRateExceeded") == 0)
        cm_err_wrap(err,
                    "volume %s was modified within the last six hours Detail: EBS takes one "
                    "modification of a volume per six hours. Hint: Commit again later.",
                    id);
    return rc ? rc : volume_wait(ctx, region, id, NULL, desired, err);
}

static int volume_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                         cm_err *err)
{
    const char *region = ec2_str(known, "region"), *id = ec2_str(known, "volume_id");
    int rc = volume_modify(ctx, known, desired, err);
    bool moves =
        strcmp(ec2_str(known, "attached_instance"), ec2_str(desired, "attached_instance")) != 0 ||
        strcmp(ec2_str(known, "instance_device_name"), ec2_str(desired, "instance_device_name")) !=
            0;
    if (!rc && moves && *ec2_str(known, "attached_instance"))
        rc = volume_detach(ctx, region, id, err);
    if (!rc && moves)
        rc = volume_attach(ctx, region, id, desired, err);
    if (!rc)
        rc = ec2_retag(ctx, region, id, known, desired, err);
    if (!rc)
        *out = ec2_updated(known, desired, "volume_id", NULL);
    return rc;
}

/* Detached first (what holds it in the cloud, whatever the row says),
 * then deleted. */
static int volume_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    const char *region = ec2_str(known, "region"), *id = ec2_str(known, "volume_id");
    if (!*id)
        return 0;
    json_t *now = NULL;
    int rc = volume_read(ctx, known, &now, err);
    if (rc == CM_ENOTFOUND) {
        cm_err_clear(err);
        return 0;
    }
    if (!rc && *ec2_str(now, "attached_instance"))
        rc = volume_detach(ctx, region, id, err);
    json_decref(now);
    return rc ? rc : ec2_delete(ctx, known, "DeleteVolume", "VolumeId", "volume_id", err);
}

/* ---- elastic IP association ---- */

/* An address's association with an instance; NULL for one with none (or
 * with a network interface alone: a NAT gateway's). */
static json_t *assoc_row(mod_ctx *ctx, const char *region, xmlNodePtr item)
{
    (void)ctx;
    char alloc[64] = "", instance[64] = "", assoc[64] = "";
    aws_xml_child_text(item, "allocationId", alloc, sizeof alloc);
    aws_xml_child_text(item, "instanceId", instance, sizeof instance);
    aws_xml_child_text(item, "associationId", assoc, sizeof assoc);
    if (!alloc[0] || !instance[0] || !assoc[0])
        return NULL;
    return json_pack("{s:s, s:s, s:s, s:s}", "elastic_ip", alloc, "instance", instance, "region",
                     region, "association_id", assoc);
}

static int assoc_each(mod_ctx *ctx, const char *region, xmlNodePtr item, void *arg, cm_err *err)
{
    (void)err;
    json_t *row = assoc_row(ctx, region, item);
    if (row)
        json_array_append_new(arg, row);
    return 0;
}

static int assoc_list(mod_ctx *ctx, const char *const *regions, size_t n, json_t **out, cm_err *err)
{
    *out = json_array();
    return ec2_each_region(ctx, regions, n, "DescribeAddresses", "addressesSet", assoc_each, *out,
                           err);
}

static int assoc_read(mod_ctx *ctx, const json_t *image, json_t **out, cm_err *err)
{
    return ec2_read_one(ctx, ec2_str(image, "region"), "DescribeAddresses",
                        json_pack("{s:s}", "AllocationId.1", ec2_str(image, "elastic_ip")),
                        "addressesSet", assoc_row, out, err);
}

/* AssociateAddress of desired's address with its instance; reassociate:
 * away from wherever it is now. */
static int assoc_put(mod_ctx *ctx, const json_t *desired, bool reassociate, json_t **out,
                     cm_err *err)
{
    const char *alloc = ec2_str(desired, "elastic_ip");
    json_t *p =
        json_pack("{s:s, s:s}", "AllocationId", alloc, "InstanceId", ec2_str(desired, "instance"));
    if (reassociate)
        json_object_set_new(p, "AllowReassociation", json_true());
    xmlDocPtr doc;
    xmlNodePtr root;
    int rc =
        ec2_op(ctx, ec2_str(desired, "region"), "AssociateAddress", p, &doc, &root, err, alloc);
    if (rc)
        return rc;
    *out = json_deep_copy(desired);
    json_object_set_new(*out, "association_id", ec2_text(root, "associationId"));
    xmlFreeDoc(doc);
    if (!json_is_string(json_object_get(*out, "association_id")))
        return cm_err_set(err, CM_EBADREPLY, "AssociateAddress: no associationId in the answer");
    return 0;
}

static int assoc_create(mod_ctx *ctx, const json_t *desired, json_t **out, cm_err *err)
{
    int rc = assoc_put(ctx, desired, false, out, err);
    if (rc && strcmp(err->cloud_code, "Resource.AlreadyAssociated") == 0) {
        /* an earlier, interrupted try made it: adopted when it is this one */
        cm_err clash = *err;
        cm_err_clear(err);
        json_t *found = NULL;
        rc = assoc_read(ctx, desired, &found, err);
        if (!rc && strcmp(ec2_str(found, "instance"), ec2_str(desired, "instance")) == 0) {
            *out = json_deep_copy(desired);
            json_object_set(*out, "association_id", json_object_get(found, "association_id"));
        } else if (!rc || rc == CM_ENOTFOUND) {
            cm_err_clear(err);
            rc = cm_err_set(err, CM_ECLOUD,
                            "elastic IP %s is associated with something else already Detail: %s "
                            "Hint: Import that association (iasql_sync()) and change its "
                            "instance instead.",
                            ec2_str(desired, "elastic_ip"), clash.msg);
        }
        json_decref(found);
    }
    return rc;
}

static int assoc_update(mod_ctx *ctx, const json_t *known, const json_t *desired, json_t **out,
                        cm_err *err)
{
    (void)known;
    return assoc_put(ctx, desired, true, out, err);
}

static int assoc_remove(mod_ctx *ctx, const json_t *known, cm_err *err)
{
    json_t *now = NULL;
    int rc = assoc_read(ctx, known, &now, err);
    if (rc == CM_ENOTFOUND) { /* the address, or its association, is gone */
        cm_err_clear(err);
        return 0;
    }
    if (!rc)
        rc = ec2_delete(ctx, now, "DisassociateAddress", "AssociationId", "association_id", err);
    json_decref(now);
    return rc;
}

/* ---- the tables ---- */

static const mod_table_ops volume_ops = {volume_list, volume_create, volume_update,
                                         volume_read, volume_remove, NULL};
/* An instance's termination detaches its volumes: its delete need not wait
 * for them to be moved off (a replaced instance goes first; its volumes
 * then attach to the new one). */
static const mod_column volume_columns[] = {{"volume_id", CID},
                                            {"volume_type", 0},
                                            {"availability_zone", IMM},
                                            {"size", 0},
                                            {"iops", 0},
                                            {"throughput", 0},
                                            {"snapshot_id", IMM},
                                            {"attached_instance", MOD_COL_MAY_DANGLE, "instance"},
                                            {"instance_device_name", 0},
                                            {"region", IMM},
                                            {"tags", 0},
                                            {NULL, 0}};
const mod_table ec2_volume_table = {"general_purpose_volume", volume_columns, &volume_ops, "ec2"};

static const mod_table_ops assoc_ops = {assoc_list, assoc_create, assoc_update,
                                        assoc_read, assoc_remove, NULL};
/* An address has one association at most: the address is what names it,
 * and its id, which each AssociateAddress changes, is the cloud's. */
static const mod_column assoc_columns[] = {{"elastic_ip", MOD_COL_CLOUD_ID | IMM, "elastic_ip"},
                                           {"instance", MOD_COL_MAY_DANGLE, "instance"},
                                           {"region", IMM},
                                           {"association_id", OWNED},
                                           {NULL, 0}};
const mod_table ec2_eip_assoc_table = {"elastic_ip_association", assoc_columns, &assoc_ops, "ec2"};
