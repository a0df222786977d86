-- modules/aws_ec2/aws_ec2.sql — key pairs and instances. An instance names
-- its subnet and key pair by row id and its security groups by the row ids
-- in security_groups; instance_security_group shows that set as a link
-- table one can insert into and delete from.
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
  instance_id text,
  private_ip_address text,
  CONSTRAINT instance_subnet_exists_in_its_region FOREIGN KEY (subnet, region)
    REFERENCES subnet (id, region),
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
