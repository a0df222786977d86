-- modules/aws_ec2/aws_ec2.sql — key pairs, instances, general purpose (gp2
-- and gp3) EBS volumes and elastic IP associations. An instance names its
-- subnet, key pair and instance profile by row id and its security groups
-- by the row ids in security_groups; instance_security_group shows that set
-- as a link table one can insert into and delete from.
CREATE TABLE key_pair (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  public_key text,
  key_pair_id text,
  fingerprint text,
  CONSTRAINT key_pair_name_unique_in_region UNIQUE (name, region),
  CONSTRAINT key_pair_row_and_region UNIQUE (id, region),
  CONSTRAINT key_pair_name_1_to_255_ascii_characters
    CHECK (length(name) BETWEEN 1 AND 255 AND name ~ '^[\x20-\x7e]+$'),
  CONSTRAINT key_pair_public_key_openssh_rsa_or_ed25519
    CHECK (public_key IS NULL OR public_key ~ '^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp[0-9]+) [A-Za-z0-9+/=]+( .*)?$')
);

CREATE TABLE instance (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  ami text NOT NULL,
  instance_type text NOT NULL,
  subnet bigint NOT NULL,
  key_pair bigint,
  security_groups bigint[] NOT NULL DEFAULT '{}',
  state text NOT NULL DEFAULT 'running',
  region text NOT NULL DEFAULT default_aws_region(),
  tags jsonb NOT NULL DEFAULT '{}',
  user_data text,
  instance_profile bigint,
  instance_id text,
  private_ip_address text,
  CONSTRAINT instance_subnet_exists_in_its_region FOREIGN KEY (subnet, region)
    REFERENCES subnet (id, region),
  CONSTRAINT instance_instance_profile_exists FOREIGN KEY (instance_profile)
    REFERENCES instance_profile (id) ON DELETE SET NULL,
  CONSTRAINT instance_row_and_region UNIQUE (id, region),
  CONSTRAINT instance_user_data_up_to_16_kib CHECK (octet_length(user_data) <= 16384),
  CONSTRAINT instance_key_pair_exists_in_its_region FOREIGN KEY (key_pair, region)
    REFERENCES key_pair (id, region),
  CONSTRAINT instance_id_unique UNIQUE (instance_id),
  CONSTRAINT instance_ami_is_an_image_id CHECK (ami ~ '^ami-[0-9a-f]{8,17}$'),
  CONSTRAINT instance_type_family_dot_size CHECK (instance_type ~ '^[a-z][a-z0-9-]*\.[a-z0-9]+$'),
  CONSTRAINT instance_state_running_or_stopped CHECK (state IN ('running', 'stopped')),
  CONSTRAINT instance_security_groups_up_to_5
    CHECK (cardinality(security_groups) <= 5 AND array_position(security_groups, NULL) IS NULL),
  CONSTRAINT instance_tags_up_to_50_strings_no_aws_or_iasql_keys
    CHECK (ec2_tags_valid(tags))
);

-- security_groups is a set: sorted, each once, each a security group of
-- the instance's VPC. PostgreSQL has no foreign keys from array elements,
-- so these triggers hold the reference both ways.
CREATE FUNCTION instance_security_groups_valid() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  g bigint;
  subnet_vpc bigint;
BEGIN
  NEW.security_groups := ARRAY(SELECT DISTINCT x FROM unnest(NEW.security_groups) x ORDER BY x);
  SELECT vpc INTO subnet_vpc FROM subnet WHERE id = NEW.subnet;
  FOREACH g IN ARRAY NEW.security_groups LOOP
    IF NOT EXISTS (SELECT 1 FROM security_group s WHERE s.id = g AND s.vpc = subnet_vpc) THEN
      RAISE EXCEPTION 'instance %: security_groups names %, which is not a security group of its subnet''s vpc', NEW.id, g
        USING ERRCODE = 'foreign_key_violation', COLUMN = 'security_groups', TABLE = 'instance',
              CONSTRAINT = 'instance_security_groups_of_its_vpc';
    END IF;
  END LOOP;
  RETURN NEW;
END $$;
CREATE TRIGGER instance_security_groups_valid BEFORE INSERT OR UPDATE OF security_groups, subnet
  ON instance FOR EACH ROW EXECUTE FUNCTION instance_security_groups_valid();

-- An instance in a VPC always has a security group: one made without any
-- gets its VPC's default group, and EC2 refuses to take the last one away
-- (ModifyInstanceAttribute needs at least one GroupId).
CREATE FUNCTION instance_keeps_a_security_group() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(NEW.security_groups) = 0 AND cardinality(OLD.security_groups) > 0
     AND session_user::text <> 'iasql_engine' THEN
    RAISE EXCEPTION 'new row for relation "instance" violates rule instance_keeps_a_security_group'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'instance_keeps_a_security_group',
            TABLE = 'instance', COLUMN = 'security_groups',
            DETAIL = format('Instance %s would have no security group; EC2 keeps at least one on an instance in a VPC.', NEW.id),
            HINT = 'Set the groups it should have instead, for example its VPC''s default group.';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER instance_keeps_a_security_group BEFORE UPDATE OF security_groups ON instance
  FOR EACH ROW EXECUTE FUNCTION instance_keeps_a_security_group();

CREATE FUNCTION security_group_in_use() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  user_id bigint;
BEGIN
  SELECT i.id INTO user_id FROM instance i WHERE OLD.id = ANY (i.security_groups) LIMIT 1;
  IF user_id IS NOT NULL THEN
    RAISE EXCEPTION 'security_group %: instance % uses it (security_groups); take it out of that instance first', OLD.id, user_id
      USING ERRCODE = 'foreign_key_violation', TABLE = 'security_group',
            CONSTRAINT = 'instance_security_groups_of_its_vpc';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER security_group_in_use BEFORE DELETE ON security_group
  FOR EACH ROW EXECUTE FUNCTION security_group_in_use();

CREATE VIEW instance_security_group AS
  SELECT i.id AS instance, g AS security_group FROM instance i, unnest(i.security_groups) g;

CREATE FUNCTION instance_security_group_write() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE instance SET security_groups = security_groups || NEW.security_group
      WHERE id = NEW.instance AND NOT (NEW.security_group = ANY (security_groups));
    IF NOT EXISTS (SELECT 1 FROM instance WHERE id = NEW.instance) THEN
      RAISE EXCEPTION 'instance_security_group: instance % does not exist', NEW.instance
        USING ERRCODE = 'foreign_key_violation', COLUMN = 'instance';
    END IF;
    RETURN NEW;
  END IF;
  UPDATE instance SET security_groups = array_remove(security_groups, OLD.security_group)
    WHERE id = OLD.instance;
  RETURN OLD;
END $$;
CREATE TRIGGER instance_security_group_write INSTEAD OF INSERT OR DELETE
  ON instance_security_group FOR EACH ROW EXECUTE FUNCTION instance_security_group_write();
GRANT SELECT, INSERT, DELETE ON instance_security_group TO iasql_user;

-- The engine adds its own tags at create: the limit counts them.
CREATE TRIGGER instance_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON instance
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);

-- A general purpose EBS volume (gp2 or gp3) in one zone, attached to an
-- instance of that zone under a device name, or to none. Size, type, IOPS
-- and throughput change in place (ModifyVolume); a volume only grows. IOPS
-- and throughput are gp3's: a gp2's follow from its size. A gp3 written
-- without them has AWS's baseline, 3,000 IOPS and 125 MiB/s.
CREATE TABLE general_purpose_volume (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  volume_type text NOT NULL DEFAULT 'gp3',
  availability_zone text NOT NULL,
  size integer NOT NULL DEFAULT 8,
  iops integer,
  throughput integer,
  snapshot_id text,
  attached_instance bigint,
  instance_device_name text,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  tags jsonb NOT NULL DEFAULT '{}',
  volume_id text,
  CONSTRAINT general_purpose_volume_attached_instance_exists_in_its_region
    FOREIGN KEY (attached_instance, region) REFERENCES instance (id, region)
    ON DELETE SET NULL (attached_instance),
  CONSTRAINT general_purpose_volume_id_unique UNIQUE (volume_id),
  CONSTRAINT general_purpose_volume_device_name_unique_on_its_instance
    UNIQUE (attached_instance, instance_device_name),
  CONSTRAINT general_purpose_volume_type_gp2_or_gp3 CHECK (volume_type IN ('gp2', 'gp3')),
  CONSTRAINT general_purpose_volume_size_1_to_16384_gp2_65536_gp3
    CHECK (size >= 1 AND size <= CASE volume_type WHEN 'gp2' THEN 16384 ELSE 65536 END),
  CONSTRAINT general_purpose_volume_iops_only_for_gp3 CHECK (iops IS NULL OR volume_type = 'gp3'),
  CONSTRAINT general_purpose_volume_gp3_iops_3000_to_80000_500_per_gib
    CHECK (iops IS NULL OR volume_type <> 'gp3' OR
           (iops BETWEEN 3000 AND 80000 AND iops <= greatest(3000, 500 * size))),
  CONSTRAINT general_purpose_volume_throughput_only_for_gp3
    CHECK (throughput IS NULL OR volume_type = 'gp3'),
  CONSTRAINT general_purpose_volume_gp3_throughput_125_to_2000_iops_over_4
    CHECK (throughput IS NULL OR volume_type <> 'gp3' OR
           (throughput BETWEEN 125 AND 2000 AND throughput * 4 <= coalesce(iops, 3000))),
  CONSTRAINT general_purpose_volume_snapshot_id_is_a_snapshot_id
    CHECK (snapshot_id IS NULL OR snapshot_id ~ '^snap-[0-9a-f]{8,17}$'),
  CONSTRAINT general_purpose_volume_device_name_with_its_instance
    CHECK ((attached_instance IS NULL) = (instance_device_name IS NULL)),
  CONSTRAINT general_purpose_volume_device_name_a_linux_or_windows_device
    CHECK (instance_device_name IS NULL OR instance_device_name ~
           '^(/dev/(sd|hd)[a-z]([1-9]|1[0-5])?|/dev/xvd[a-z]{1,2}|xvd[a-z]{1,2})$'),
  CONSTRAINT general_purpose_volume_availability_zone_in_its_region
    CHECK (availability_zone LIKE region || '_' OR availability_zone LIKE region || '__'),
  CONSTRAINT general_purpose_volume_tags_up_to_50_no_aws_or_iasql_keys
    CHECK (ec2_tags_valid(tags))
);

-- What a row leaves unsaid is what AWS does: a gp3 gets the baseline IOPS
-- and throughput, and a volume turned from gp3 into gp2 (with the gp3's
-- values left as they were) loses them; a volume taken off its instance
-- loses its device name.
CREATE FUNCTION general_purpose_volume_defaults() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.volume_type = 'gp2' AND OLD.volume_type = 'gp3' THEN
    IF NEW.iops IS NOT DISTINCT FROM OLD.iops THEN NEW.iops := NULL; END IF;
    IF NEW.throughput IS NOT DISTINCT FROM OLD.throughput THEN NEW.throughput := NULL; END IF;
  END IF;
  IF NEW.volume_type = 'gp3' THEN
    NEW.iops := coalesce(NEW.iops, 3000);
    NEW.throughput := coalesce(NEW.throughput, 125);
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.attached_instance IS NULL AND OLD.attached_instance IS NOT NULL
     AND NEW.instance_device_name IS NOT DISTINCT FROM OLD.instance_device_name THEN
    NEW.instance_device_name := NULL;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER general_purpose_volume_defaults BEFORE INSERT OR UPDATE ON general_purpose_volume
  FOR EACH ROW EXECUTE FUNCTION general_purpose_volume_defaults();

-- EBS volumes grow and never shrink. The engine's writes (what the cloud
-- holds, a rollback) pass; a commit that would shrink one fails for it.
CREATE FUNCTION general_purpose_volume_size_only_grows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.size < OLD.size AND session_user::text <> 'iasql_engine' THEN
    RAISE EXCEPTION 'new row for relation "general_purpose_volume" violates rule general_purpose_volume_size_only_grows'
      USING ERRCODE = 'check_violation', TABLE = 'general_purpose_volume', COLUMN = 'size',
            CONSTRAINT = 'general_purpose_volume_size_only_grows',
            DETAIL = format('Volume %s would shrink from %s GiB to %s GiB; EBS volumes only grow.',
                            NEW.id, OLD.size, NEW.size),
            HINT = 'Make a new, smaller volume and copy the data over.';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER general_purpose_volume_size_only_grows BEFORE UPDATE OF size
  ON general_purpose_volume FOR EACH ROW EXECUTE FUNCTION general_purpose_volume_size_only_grows();

-- A volume is in a zone its region offers (once the zones are known), and
-- attaches only to an instance of its zone.
CREATE FUNCTION general_purpose_volume_zone_valid() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  instance_zone text;
BEGIN
  IF session_user::text = 'iasql_engine' THEN
    RETURN NEW;
  END IF;
  IF left(NEW.availability_zone, length(NEW.region)) = NEW.region
     AND EXISTS (SELECT FROM availability_zone z WHERE z.region = NEW.region)
     AND NOT EXISTS (SELECT FROM availability_zone z
                      WHERE z.region = NEW.region AND z.zone_name = NEW.availability_zone) THEN
    RAISE EXCEPTION 'new row for relation "general_purpose_volume" violates rule general_purpose_volume_availability_zone_offered_in_its_region'
      USING ERRCODE = 'check_violation', TABLE = 'general_purpose_volume',
            COLUMN = 'availability_zone',
            CONSTRAINT = 'general_purpose_volume_availability_zone_offered_in_its_region',
            DETAIL = format('Volume %s names zone %s, which region %s does not offer.', NEW.id,
                            NEW.availability_zone, NEW.region),
            HINT = format('Use one of: %s.', (SELECT string_agg(zone_name, ', ' ORDER BY zone_name)
                                              FROM availability_zone WHERE region = NEW.region));
  END IF;
  IF NEW.attached_instance IS NOT NULL THEN
    SELECT s.availability_zone INTO instance_zone
      FROM instance i JOIN subnet s ON s.id = i.subnet WHERE i.id = NEW.attached_instance;
    IF instance_zone IS DISTINCT FROM NEW.availability_zone THEN
      RAISE EXCEPTION 'new row for relation "general_purpose_volume" violates rule general_purpose_volume_in_its_instances_zone'
        USING ERRCODE = 'check_violation', TABLE = 'general_purpose_volume',
              COLUMN = 'attached_instance',
              CONSTRAINT = 'general_purpose_volume_in_its_instances_zone',
              DETAIL = format('Volume %s is in zone %s and instance %s in zone %s.', NEW.id,
                              NEW.availability_zone, NEW.attached_instance, instance_zone),
              HINT = 'Attach it to an instance of its own zone.';
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER general_purpose_volume_zone_valid
  BEFORE INSERT OR UPDATE OF availability_zone, region, attached_instance ON general_purpose_volume
  FOR EACH ROW EXECUTE FUNCTION general_purpose_volume_zone_valid();

CREATE TRIGGER general_purpose_volume_tags_max_48_plus_iasql_owner_and_token
  BEFORE INSERT OR UPDATE OF tags ON general_purpose_volume
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);

-- An elastic IP (aws_vpc) associated with an instance: one address per
-- instance, one instance per address. Another instance is an
-- AssociateAddress in place (the association gets a new id). The address a
-- NAT gateway holds is the gateway's.
CREATE TABLE elastic_ip_association (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  elastic_ip bigint NOT NULL,
  instance bigint NOT NULL,
  region text NOT NULL DEFAULT default_aws_region(),
  association_id text,
  CONSTRAINT elastic_ip_association_elastic_ip_exists_in_its_region
    FOREIGN KEY (elastic_ip, region) REFERENCES elastic_ip (id, region) ON DELETE CASCADE,
  CONSTRAINT elastic_ip_association_instance_exists_in_its_region
    FOREIGN KEY (instance, region) REFERENCES instance (id, region) ON DELETE CASCADE,
  CONSTRAINT elastic_ip_association_one_per_elastic_ip UNIQUE (elastic_ip),
  CONSTRAINT elastic_ip_association_one_per_instance UNIQUE (instance),
  CONSTRAINT elastic_ip_association_id_unique UNIQUE (association_id)
);

CREATE FUNCTION elastic_ip_association_not_a_nat_gateways() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  gateway bigint;
BEGIN
  SELECT n.id INTO gateway FROM nat_gateway n WHERE n.elastic_ip = NEW.elastic_ip LIMIT 1;
  IF gateway IS NOT NULL AND session_user::text <> 'iasql_engine' THEN
    RAISE EXCEPTION 'new row for relation "elastic_ip_association" violates rule elastic_ip_association_address_not_a_nat_gateways'
      USING ERRCODE = 'check_violation', TABLE = 'elastic_ip_association', COLUMN = 'elastic_ip',
            CONSTRAINT = 'elastic_ip_association_address_not_a_nat_gateways',
            DETAIL = format('Elastic IP %s is the address of NAT gateway %s.', NEW.elastic_ip,
                            gateway),
            HINT = 'Allocate another elastic IP for the instance.';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER elastic_ip_association_not_a_nat_gateways
  BEFORE INSERT OR UPDATE OF elastic_ip ON elastic_ip_association
  FOR EACH ROW EXECUTE FUNCTION elastic_ip_association_not_a_nat_gateways();
