-- modules/aws_rds/aws_rds.sql — Amazon RDS: DB subnet groups, DB parameter
-- groups, DB instances (table rds, as IaSQL named it) and DB clusters.
-- Tables refer to each other and to aws_vpc's subnets and
-- aws_security_group's groups by row id; the security groups of an instance
-- or a cluster are a set (sorted, each once, held by triggers as
-- instance.security_groups is), also shown as the link tables
-- rds_security_groups and db_cluster_security_groups. The master password
-- is write-only (docs/secrets.md): a row holds a mask, the cleartext waits
-- for the engine in iasql_secret. The limits are AWS's (CreateDBInstance,
-- CreateDBSubnetGroup, CreateDBParameterGroup, CreateDBCluster).

-- RDS's tags: keys and values of letters, digits, spaces and _.:/=+-@; no
-- key of AWS's own prefixes.
CREATE FUNCTION rds_tags_valid(t jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT iasql_tags_valid(t) AND NOT EXISTS (
    SELECT 1 FROM jsonb_each_text(t) e
     WHERE e.key LIKE 'rds:%'
        OR e.key !~ '^[[:alnum:][:space:]_.:/=+@-]+$'
        OR e.value !~ '^[[:alnum:][:space:]_.:/=+@-]*$')
$$;

-- An RDS identifier (an instance's, a cluster's, a final snapshot's): a
-- letter, then letters, digits and single hyphens, no hyphen at the end.
-- RDS keeps identifiers in lower case, so only lower case is taken.
CREATE FUNCTION rds_identifier_valid(s text, max integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT length(s) BETWEEN 1 AND max AND s ~ '^[a-z](-?[a-z0-9])*$'
$$;

-- A parameter group's parameters: an object of string values by name.
CREATE FUNCTION rds_parameters_valid(p jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_typeof(p) = 'object' AND NOT EXISTS (
    SELECT 1 FROM jsonb_each(p) e
     WHERE jsonb_typeof(e.value) <> 'string' OR e.key !~ '^[A-Za-z0-9_.:-]{1,255}$')
$$;

CREATE TABLE db_subnet_group (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  name text NOT NULL,
  description text NOT NULL,
  subnets bigint[] NOT NULL DEFAULT '{}',
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  tags jsonb NOT NULL DEFAULT '{}',
  arn text,
  vpc bigint,
  CONSTRAINT db_subnet_group_name_unique_in_region UNIQUE (name, region),
  CONSTRAINT db_subnet_group_row_and_region UNIQUE (id, region),
  CONSTRAINT db_subnet_group_vpc_exists_in_its_region FOREIGN KEY (vpc, region)
    REFERENCES vpc (id, region) ON DELETE SET NULL (vpc),
  CONSTRAINT db_subnet_group_name_lowercase_alnum_spaces_periods_hyphens
    CHECK (name ~ '^[a-z0-9 ._-]{1,255}$'),
  CONSTRAINT db_subnet_group_description_1_to_255_characters
    CHECK (length(description) BETWEEN 1 AND 255),
  CONSTRAINT db_subnet_group_subnets_no_nulls CHECK (array_position(subnets, NULL) IS NULL),
  CONSTRAINT db_subnet_group_tags_up_to_50_rds_strings_no_aws_or_iasql_keys
    CHECK (rds_tags_valid(tags))
);

-- subnets is a set: sorted, each once, subnets of its region in one VPC
-- (which becomes its vpc), covering at least two availability zones, and
-- a user's group is not named default (AWS's own). PostgreSQL has no
-- foreign keys from array elements, so these triggers hold the references
-- both ways. The engine's own writes pass: a sync writes what the cloud has.
CREATE FUNCTION db_subnet_group_subnets_valid() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  g bigint;
  vpcs bigint[];
  zones integer;
  checked boolean := session_user::text <> 'iasql_engine';
BEGIN
  NEW.subnets := ARRAY(SELECT DISTINCT x FROM unnest(NEW.subnets) x ORDER BY x);
  IF checked AND NEW.name = 'default' THEN
    RAISE EXCEPTION 'new row for relation "db_subnet_group" violates check constraint "db_subnet_group_name_not_default"'
      USING ERRCODE = 'check_violation', TABLE = 'db_subnet_group', COLUMN = 'name',
            CONSTRAINT = 'db_subnet_group_name_not_default',
            DETAIL = 'RDS keeps the name default for the group it makes itself.',
            HINT = 'Choose another name.';
  END IF;
  FOREACH g IN ARRAY NEW.subnets LOOP
    IF checked AND NOT EXISTS (SELECT 1 FROM subnet s WHERE s.id = g AND s.region = NEW.region) THEN
      RAISE EXCEPTION 'db_subnet_group %: subnets names %, which is not a subnet of its region (db_subnet_group_subnets_exist_in_one_vpc)', NEW.id, g
        USING ERRCODE = 'foreign_key_violation', COLUMN = 'subnets', TABLE = 'db_subnet_group',
              CONSTRAINT = 'db_subnet_group_subnets_exist_in_one_vpc';
    END IF;
  END LOOP;
  SELECT array_agg(DISTINCT s.vpc), count(DISTINCT s.availability_zone) INTO vpcs, zones
    FROM subnet s WHERE s.id = ANY (NEW.subnets);
  IF checked AND cardinality(vpcs) > 1 THEN
    RAISE EXCEPTION 'db_subnet_group %: its subnets are in more than one vpc (db_subnet_group_subnets_exist_in_one_vpc)', NEW.id
      USING ERRCODE = 'check_violation', COLUMN = 'subnets', TABLE = 'db_subnet_group',
            CONSTRAINT = 'db_subnet_group_subnets_exist_in_one_vpc',
            HINT = 'Name subnets of one VPC.';
  END IF;
  IF checked AND zones < 2 THEN
    RAISE EXCEPTION 'db_subnet_group %: its subnets cover % availability zone(s) (db_subnet_group_subnets_in_two_zones_or_more)', NEW.id, zones
      USING ERRCODE = 'check_violation', COLUMN = 'subnets', TABLE = 'db_subnet_group',
            CONSTRAINT = 'db_subnet_group_subnets_in_two_zones_or_more',
            DETAIL = 'RDS wants a subnet in at least two availability zones of the region.',
            HINT = 'Add a subnet of another availability zone.';
  END IF;
  NEW.vpc := coalesce(vpcs[1], NEW.vpc);
  RETURN NEW;
END $$;
CREATE TRIGGER db_subnet_group_subnets_valid BEFORE INSERT OR UPDATE OF subnets, region, name
  ON db_subnet_group FOR EACH ROW EXECUTE FUNCTION db_subnet_group_subnets_valid();

CREATE FUNCTION subnet_used_by_db_subnet_group() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  user_id bigint;
BEGIN
  SELECT id INTO user_id FROM db_subnet_group WHERE OLD.id = ANY (subnets) LIMIT 1;
  IF user_id IS NOT NULL AND session_user::text <> 'iasql_engine' THEN
    RAISE EXCEPTION 'subnet %: db_subnet_group % uses it (subnets); take it out of that group first (db_subnet_group_subnets_in_use)', OLD.id, user_id
      USING ERRCODE = 'foreign_key_violation', TABLE = 'subnet',
            CONSTRAINT = 'db_subnet_group_subnets_in_use';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER subnet_used_by_db_subnet_group BEFORE DELETE ON subnet
  FOR EACH ROW EXECUTE FUNCTION subnet_used_by_db_subnet_group();

-- Only the parameters a user set (RDS's Source user), as an object of
-- strings. A group's family and description are fixed at creation.
CREATE TABLE parameter_group (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  name text NOT NULL,
  family text NOT NULL,
  description text NOT NULL,
  parameters jsonb NOT NULL DEFAULT '{}',
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  tags jsonb NOT NULL DEFAULT '{}',
  arn text,
  CONSTRAINT parameter_group_name_unique_in_region UNIQUE (name, region),
  CONSTRAINT parameter_group_row_and_region UNIQUE (id, region),
  CONSTRAINT parameter_group_name_lowercase_letter_then_alnum_single_hyphens
    CHECK (rds_identifier_valid(name, 255)),
  CONSTRAINT parameter_group_family_as_rds_names_it
    CHECK (family ~ '^[a-z][a-z0-9.-]*[a-z0-9]$' AND length(family) <= 255),
  CONSTRAINT parameter_group_description_1_to_255_characters
    CHECK (length(description) BETWEEN 1 AND 255),
  CONSTRAINT parameter_group_parameters_an_object_of_strings_by_name
    CHECK (rds_parameters_valid(parameters)),
  CONSTRAINT parameter_group_tags_up_to_50_rds_strings_no_aws_or_iasql_keys
    CHECK (rds_tags_valid(tags))
);

CREATE TABLE db_cluster (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  db_cluster_identifier text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  engine text NOT NULL,
  engine_version text NOT NULL,
  db_cluster_instance_class text,
  allocated_storage integer,
  iops integer,
  db_subnet_group bigint,
  security_groups bigint[] NOT NULL DEFAULT '{}',
  master_username text NOT NULL,
  master_user_password text,
  manage_master_user_password boolean NOT NULL DEFAULT false,
  backup_retention_period integer NOT NULL DEFAULT 1,
  publicly_accessible boolean NOT NULL DEFAULT false,
  storage_encrypted boolean NOT NULL DEFAULT false,
  deletion_protection boolean NOT NULL DEFAULT false,
  apply_immediately boolean NOT NULL DEFAULT true,
  final_snapshot_identifier text,
  tags jsonb NOT NULL DEFAULT '{}',
  arn text,
  status text,
  endpoint text,
  reader_endpoint text,
  port integer,
  master_user_secret_arn text,
  pending_modified_values jsonb NOT NULL DEFAULT '{}',
  CONSTRAINT db_cluster_identifier_unique_in_region UNIQUE (db_cluster_identifier, region),
  CONSTRAINT db_cluster_row_and_region UNIQUE (id, region),
  CONSTRAINT db_cluster_subnet_group_exists_in_its_region FOREIGN KEY (db_subnet_group, region)
    REFERENCES db_subnet_group (id, region),
  CONSTRAINT db_cluster_identifier_1_to_63_lowercase_alnum_single_hyphens
    CHECK (rds_identifier_valid(db_cluster_identifier, 63)),
  CONSTRAINT db_cluster_engine_aurora_or_multi_az_mysql_postgres
    CHECK (engine IN ('aurora-mysql', 'aurora-postgresql', 'mysql', 'postgres')),
  CONSTRAINT db_cluster_engine_version_digits_and_dots
    CHECK (engine_version ~ '^[0-9][A-Za-z0-9._-]{0,63}$'),
  CONSTRAINT db_cluster_multi_az_needs_class_storage_iops_aurora_none
    CHECK (CASE WHEN engine LIKE 'aurora-%'
                THEN db_cluster_instance_class IS NULL AND allocated_storage IS NULL AND iops IS NULL
                     AND NOT publicly_accessible
                ELSE db_cluster_instance_class IS NOT NULL AND allocated_storage IS NOT NULL
                     AND iops IS NOT NULL END),
  CONSTRAINT db_cluster_instance_class_db_dot_family_dot_size
    CHECK (db_cluster_instance_class IS NULL
           OR db_cluster_instance_class ~ '^db\.[a-z0-9-]+\.[a-z0-9]+$'),
  CONSTRAINT db_cluster_allocated_storage_100_to_65536_gib
    CHECK (allocated_storage IS NULL OR allocated_storage BETWEEN 100 AND 65536),
  CONSTRAINT db_cluster_iops_1000_to_256000
    CHECK (iops IS NULL OR iops BETWEEN 1000 AND 256000),
  CONSTRAINT db_cluster_security_groups_up_to_5
    CHECK (cardinality(security_groups) <= 5 AND array_position(security_groups, NULL) IS NULL),
  CONSTRAINT db_cluster_master_username_letter_then_alnum_or_underscore
    CHECK (master_username ~ '^[A-Za-z][A-Za-z0-9_]{0,62}$'
           AND (engine NOT IN ('mysql', 'aurora-mysql') OR length(master_username) <= 16)),
  CONSTRAINT db_cluster_master_user_password_set_unless_managed
    CHECK (manage_master_user_password = (master_user_password IS NULL)),
  CONSTRAINT db_cluster_backup_retention_period_1_to_35_days
    CHECK (backup_retention_period BETWEEN 1 AND 35),
  CONSTRAINT db_cluster_final_snapshot_identifier_letter_alnum_hyphens
    CHECK (final_snapshot_identifier IS NULL OR rds_identifier_valid(final_snapshot_identifier, 255)),
  CONSTRAINT db_cluster_tags_up_to_50_rds_strings_no_aws_or_iasql_keys
    CHECK (rds_tags_valid(tags))
);

CREATE TABLE rds (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  db_instance_identifier text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  engine text NOT NULL,
  engine_version text,
  db_instance_class text NOT NULL,
  allocated_storage integer,
  db_cluster bigint,
  db_subnet_group bigint,
  security_groups bigint[] NOT NULL DEFAULT '{}',
  parameter_group bigint,
  master_username text,
  master_user_password text,
  manage_master_user_password boolean NOT NULL DEFAULT false,
  backup_retention_period integer,
  multi_az boolean NOT NULL DEFAULT false,
  publicly_accessible boolean NOT NULL DEFAULT false,
  deletion_protection boolean NOT NULL DEFAULT false,
  apply_immediately boolean NOT NULL DEFAULT true,
  final_snapshot_identifier text,
  tags jsonb NOT NULL DEFAULT '{}',
  arn text,
  status text,
  endpoint_addr text,
  endpoint_port integer,
  endpoint_hosted_zone_id text,
  master_user_secret_arn text,
  pending_modified_values jsonb NOT NULL DEFAULT '{}',
  CONSTRAINT rds_identifier_unique_in_region UNIQUE (db_instance_identifier, region),
  CONSTRAINT rds_arn_unique UNIQUE (arn),
  CONSTRAINT rds_db_cluster_exists_in_its_region FOREIGN KEY (db_cluster, region)
    REFERENCES db_cluster (id, region),
  CONSTRAINT rds_db_subnet_group_exists_in_its_region FOREIGN KEY (db_subnet_group, region)
    REFERENCES db_subnet_group (id, region),
  CONSTRAINT rds_parameter_group_exists_in_its_region FOREIGN KEY (parameter_group, region)
    REFERENCES parameter_group (id, region),
  CONSTRAINT rds_identifier_1_to_63_lowercase_letters_digits_single_hyphens
    CHECK (rds_identifier_valid(db_instance_identifier, 63)),
  CONSTRAINT rds_engine_one_rds_offers
    CHECK (engine IN ('aurora-mysql', 'aurora-postgresql', 'custom-oracle-ee',
                      'custom-oracle-ee-cdb', 'custom-sqlserver-ee', 'custom-sqlserver-se',
                      'custom-sqlserver-web', 'db2-ae', 'db2-se', 'mariadb', 'mysql',
                      'oracle-ee', 'oracle-ee-cdb', 'oracle-se2', 'oracle-se2-cdb', 'postgres',
                      'sqlserver-ee', 'sqlserver-se', 'sqlserver-ex', 'sqlserver-web')),
  CONSTRAINT rds_aurora_engines_only_in_a_db_cluster
    CHECK ((engine LIKE 'aurora-%') = (db_cluster IS NOT NULL)),
  CONSTRAINT rds_engine_version_digits_and_dots
    CHECK (engine_version IS NULL OR engine_version ~ '^[0-9][A-Za-z0-9._-]{0,63}$'),
  CONSTRAINT rds_db_instance_class_db_dot_family_dot_size
    CHECK (db_instance_class ~ '^db\.([a-z0-9-]+\.[a-z0-9]+|serverless)$'),
  CONSTRAINT rds_alone_needs_version_storage_user_and_backups
    CHECK (db_cluster IS NOT NULL OR (engine_version IS NOT NULL AND allocated_storage IS NOT NULL
           AND master_username IS NOT NULL AND backup_retention_period IS NOT NULL)),
  CONSTRAINT rds_cluster_member_takes_its_settings_from_the_cluster
    CHECK (db_cluster IS NULL OR (engine_version IS NULL AND allocated_storage IS NULL
           AND master_username IS NULL AND master_user_password IS NULL
           AND NOT manage_master_user_password AND db_subnet_group IS NULL
           AND cardinality(security_groups) = 0 AND backup_retention_period IS NULL
           AND NOT multi_az AND NOT deletion_protection
           AND final_snapshot_identifier IS NULL)),
  CONSTRAINT rds_allocated_storage_20_to_65536_gib_16384_for_sql_server
    CHECK (allocated_storage IS NULL OR engine LIKE 'custom-%'
           OR (allocated_storage BETWEEN 20 AND 65536
               AND (engine NOT LIKE 'sqlserver-%' OR allocated_storage <= 16384))),
  CONSTRAINT rds_security_groups_up_to_5
    CHECK (cardinality(security_groups) <= 5 AND array_position(security_groups, NULL) IS NULL),
  CONSTRAINT rds_master_username_letter_then_alnum_or_underscore
    CHECK (master_username IS NULL OR (master_username ~ '^[A-Za-z][A-Za-z0-9_]{0,62}$'
           AND (engine NOT IN ('mysql', 'mariadb') OR length(master_username) <= 16)
           AND (engine NOT LIKE 'oracle-%' OR length(master_username) <= 30))),
  CONSTRAINT rds_master_user_password_set_unless_managed
    CHECK (db_cluster IS NOT NULL OR manage_master_user_password = (master_user_password IS NULL)),
  CONSTRAINT rds_backup_retention_period_0_to_35_days
    CHECK (backup_retention_period IS NULL OR backup_retention_period BETWEEN 0 AND 35),
  CONSTRAINT rds_final_snapshot_identifier_letter_alnum_single_hyphens
    CHECK (final_snapshot_identifier IS NULL OR rds_identifier_valid(final_snapshot_identifier, 255)),
  CONSTRAINT rds_tags_up_to_50_rds_strings_no_aws_or_iasql_keys
    CHECK (rds_tags_valid(tags))
);

-- An instance on its own keeps a day of backups unless told otherwise; one
-- in a cluster takes the cluster's (and so has none of its own).
CREATE FUNCTION rds_backup_default() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.db_cluster IS NULL AND NEW.backup_retention_period IS NULL THEN
    NEW.backup_retention_period := 1;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER rds_backup_default BEFORE INSERT ON rds
  FOR EACH ROW EXECUTE FUNCTION rds_backup_default();

-- An instance in a cluster has the cluster's engine.
CREATE FUNCTION rds_engine_of_its_cluster() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  e text;
BEGIN
  SELECT engine INTO e FROM db_cluster WHERE id = NEW.db_cluster;
  IF e IS NOT NULL AND e <> NEW.engine AND session_user::text <> 'iasql_engine' THEN
    RAISE EXCEPTION 'new row for relation "rds" violates check constraint "rds_engine_of_its_db_cluster"'
      USING ERRCODE = 'check_violation', TABLE = 'rds', COLUMN = 'engine',
            CONSTRAINT = 'rds_engine_of_its_db_cluster',
            DETAIL = format('Instance %s has engine %s; its cluster has %s.', NEW.id, NEW.engine, e),
            HINT = 'Give the instance its cluster''s engine.';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER rds_engine_of_its_cluster BEFORE INSERT OR UPDATE OF engine, db_cluster ON rds
  FOR EACH ROW EXECUTE FUNCTION rds_engine_of_its_cluster();

-- Storage only grows: RDS refuses to shrink an instance's.
CREATE FUNCTION rds_allocated_storage_only_grows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.allocated_storage < OLD.allocated_storage AND session_user::text <> 'iasql_engine' THEN
    RAISE EXCEPTION 'new row for relation "%" violates check constraint "%"', TG_TABLE_NAME,
                    TG_TABLE_NAME || '_allocated_storage_only_grows'
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'allocated_storage',
            CONSTRAINT = TG_TABLE_NAME || '_allocated_storage_only_grows',
            DETAIL = format('Row %s would go from %s GiB to %s GiB; RDS never shrinks storage.',
                            NEW.id, OLD.allocated_storage, NEW.allocated_storage),
            HINT = 'Keep the size, or make a new instance and move the data.';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER rds_allocated_storage_only_grows BEFORE UPDATE OF allocated_storage ON rds
  FOR EACH ROW EXECUTE FUNCTION rds_allocated_storage_only_grows();
CREATE TRIGGER db_cluster_allocated_storage_only_grows BEFORE UPDATE OF allocated_storage
  ON db_cluster FOR EACH ROW EXECUTE FUNCTION rds_allocated_storage_only_grows();

-- A protected instance or cluster is not deleted: AWS would refuse at the
-- commit. The engine's own deletes pass (the cloud deleted it).
CREATE FUNCTION rds_deletion_protection_off_before_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.deletion_protection AND session_user::text <> 'iasql_engine' THEN
    RAISE EXCEPTION '% %: deletion_protection is on (%_deletion_protection_off_before_delete)',
                    TG_TABLE_NAME, OLD.id, TG_TABLE_NAME
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'deletion_protection',
            CONSTRAINT = TG_TABLE_NAME || '_deletion_protection_off_before_delete',
            DETAIL = 'RDS refuses to delete a database while its deletion protection is on.',
            HINT = 'Set deletion_protection to false and commit, then delete the row.';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER rds_deletion_protection_off_before_delete BEFORE DELETE ON rds
  FOR EACH ROW EXECUTE FUNCTION rds_deletion_protection_off_before_delete();
CREATE TRIGGER db_cluster_deletion_protection_off_before_delete BEFORE DELETE ON db_cluster
  FOR EACH ROW EXECUTE FUNCTION rds_deletion_protection_off_before_delete();

-- security_groups is a set: sorted, each once, each a security group of
-- the VPC the database lives in (its subnet group's, else its region's
-- default VPC). The engine's own writes pass.
CREATE FUNCTION rds_security_groups_valid() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  g bigint;
  in_vpc bigint;
BEGIN
  NEW.security_groups := ARRAY(SELECT DISTINCT x FROM unnest(NEW.security_groups) x ORDER BY x);
  IF session_user::text = 'iasql_engine' THEN
    RETURN NEW;
  END IF;
  IF NEW.db_subnet_group IS NOT NULL THEN
    SELECT vpc INTO in_vpc FROM db_subnet_group WHERE id = NEW.db_subnet_group;
  ELSE
    SELECT id INTO in_vpc FROM vpc WHERE region = NEW.region AND is_default LIMIT 1;
  END IF;
  FOREACH g IN ARRAY NEW.security_groups LOOP
    IF NOT EXISTS (SELECT 1 FROM security_group s
                    WHERE s.id = g AND s.region = NEW.region AND (in_vpc IS NULL OR s.vpc = in_vpc)) THEN
      RAISE EXCEPTION '% %: security_groups names %, which is not a security group of its vpc (%_security_groups_of_its_vpc)',
                      TG_TABLE_NAME, NEW.id, g, TG_TABLE_NAME
        USING ERRCODE = 'foreign_key_violation', COLUMN = 'security_groups', TABLE = TG_TABLE_NAME,
              CONSTRAINT = TG_TABLE_NAME || '_security_groups_of_its_vpc',
              HINT = 'Name groups of its subnet group''s VPC (without a subnet group: the default VPC).';
    END IF;
  END LOOP;
  RETURN NEW;
END $$;
CREATE TRIGGER rds_security_groups_valid BEFORE INSERT OR UPDATE OF security_groups, db_subnet_group
  ON rds FOR EACH ROW EXECUTE FUNCTION rds_security_groups_valid();
CREATE TRIGGER db_cluster_security_groups_valid BEFORE INSERT OR UPDATE OF security_groups, db_subnet_group
  ON db_cluster FOR EACH ROW EXECUTE FUNCTION rds_security_groups_valid();

CREATE FUNCTION security_group_used_by_rds() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  user_id bigint;
  tbl text;
BEGIN
  FOREACH tbl IN ARRAY ARRAY['rds', 'db_cluster'] LOOP
    EXECUTE format('SELECT id FROM %I WHERE $1 = ANY (security_groups) LIMIT 1', tbl)
      INTO user_id USING OLD.id;
    IF user_id IS NOT NULL AND session_user::text <> 'iasql_engine' THEN
      RAISE EXCEPTION 'security_group %: % % uses it (security_groups); take it out first (%_security_groups_in_use)', OLD.id, tbl, user_id, tbl
        USING ERRCODE = 'foreign_key_violation', TABLE = 'security_group',
              CONSTRAINT = tbl || '_security_groups_in_use';
    END IF;
  END LOOP;
  RETURN OLD;
END $$;
CREATE TRIGGER security_group_used_by_rds BEFORE DELETE ON security_group
  FOR EACH ROW EXECUTE FUNCTION security_group_used_by_rds();

-- The master password goes to iasql_secret; the row keeps a fresh mask.
-- SECURITY DEFINER (iasql_secret is the engine's alone), so it first checks
-- that it fires on this module's own tables. The password's rules (RDS's:
-- 8 characters or more, at most 41 for MySQL and MariaDB, 30 for Oracle,
-- 128 for the rest; printable ASCII but / " @ and space) are checked here,
-- without showing it: a CHECK would only ever see the mask.
CREATE FUNCTION rds_hide_password() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  most integer;
  rule text := TG_TABLE_NAME || '_master_user_password_8_to_128_printable_ascii';
BEGIN
  PERFORM iasql_capture_check(TG_RELID);
  IF TG_OP = 'DELETE' THEN
    PERFORM iasql_secret_drop(TG_TABLE_NAME, OLD.id);
    RETURN OLD;
  END IF;
  -- What replaces the database makes a new one, after the old one goes:
  -- without its password again, the new one could not be made.
  IF TG_OP = 'UPDATE' AND session_user::text <> 'iasql_engine'
     AND iasql_is_mask(NEW.master_user_password)
     AND EXISTS (SELECT 1 FROM unnest(CASE TG_TABLE_NAME
                   WHEN 'rds' THEN ARRAY['engine', 'master_username', 'region', 'db_cluster']
                   ELSE ARRAY['db_cluster_identifier', 'engine', 'master_username', 'region',
                              'db_subnet_group', 'publicly_accessible', 'storage_encrypted'] END) c
                  WHERE to_jsonb(NEW) -> c IS DISTINCT FROM to_jsonb(OLD) -> c) THEN
    RAISE EXCEPTION 'new row for relation "%" violates check constraint "%"', TG_TABLE_NAME,
                    TG_TABLE_NAME || '_master_user_password_set_anew_on_replace'
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'master_user_password',
            CONSTRAINT = TG_TABLE_NAME || '_master_user_password_set_anew_on_replace',
            DETAIL = 'This change makes a new database in place of the old one, and the engine '
                     'never keeps a password.',
            HINT = 'Set master_user_password (or manage_master_user_password) in the same UPDATE.';
  END IF;
  IF NEW.master_user_password IS NULL OR iasql_is_mask(NEW.master_user_password) THEN
    RETURN NEW;
  END IF;
  most := CASE WHEN NEW.engine IN ('mysql', 'mariadb', 'aurora-mysql') THEN 41
               WHEN NEW.engine LIKE 'oracle-%' OR NEW.engine LIKE 'custom-oracle-%' THEN 30
               ELSE 128 END;
  IF length(NEW.master_user_password) NOT BETWEEN 8 AND most
     OR NEW.master_user_password !~ '^[!#-.0-?A-~]+$' THEN
    RAISE EXCEPTION 'new row for relation "%" violates check constraint "%"', TG_TABLE_NAME, rule
      USING ERRCODE = 'check_violation', CONSTRAINT = rule, TABLE = TG_TABLE_NAME,
            COLUMN = 'master_user_password',
            DETAIL = format('The password has %s characters; engine %s takes 8 to %s, '
                            'printable ASCII but /, ", @ and space.',
                            length(NEW.master_user_password), NEW.engine, most),
            HINT = 'Choose another password (it is never shown or stored).';
  END IF;
  NEW.master_user_password := iasql_secret_put(TG_TABLE_NAME, NEW.id, 'master_user_password',
                                               NEW.master_user_password);
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION rds_hide_password() FROM iasql_user;
CREATE TRIGGER rds_hide_password BEFORE INSERT OR UPDATE OR DELETE ON rds
  FOR EACH ROW EXECUTE FUNCTION rds_hide_password();
CREATE TRIGGER db_cluster_hide_password BEFORE INSERT OR UPDATE OR DELETE ON db_cluster
  FOR EACH ROW EXECUTE FUNCTION rds_hide_password();

-- The engine adds its own tag at create: the limit counts it.
CREATE TRIGGER db_subnet_group_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags
  ON db_subnet_group FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
CREATE TRIGGER parameter_group_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags
  ON parameter_group FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
CREATE TRIGGER rds_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags
  ON rds FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
CREATE TRIGGER db_cluster_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags
  ON db_cluster FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);

-- The security group sets as link tables, as IaSQL had them.
CREATE VIEW rds_security_groups AS
  SELECT r.id AS rds, g AS security_group FROM rds r, unnest(r.security_groups) g;
CREATE VIEW db_cluster_security_groups AS
  SELECT c.id AS db_cluster, g AS security_group FROM db_cluster c, unnest(c.security_groups) g;

CREATE FUNCTION rds_security_groups_write() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tbl text := CASE TG_TABLE_NAME WHEN 'rds_security_groups' THEN 'rds' ELSE 'db_cluster' END;
  owner_id bigint;
  n integer;
BEGIN
  IF TG_OP = 'INSERT' THEN
    owner_id := to_jsonb(NEW) ->> tbl;
    EXECUTE format('UPDATE %I SET security_groups = security_groups || $2 '
                   'WHERE id = $1 AND NOT ($2 = ANY (security_groups))', tbl)
      USING owner_id, NEW.security_group;
    EXECUTE format('SELECT count(*) FROM %I WHERE id = $1', tbl) INTO n USING owner_id;
    IF n = 0 THEN
      RAISE EXCEPTION '%: % % does not exist', TG_TABLE_NAME, tbl, owner_id
        USING ERRCODE = 'foreign_key_violation', COLUMN = tbl;
    END IF;
    RETURN NEW;
  END IF;
  owner_id := to_jsonb(OLD) ->> tbl;
  EXECUTE format('UPDATE %I SET security_groups = array_remove(security_groups, $2) WHERE id = $1', tbl)
    USING owner_id, OLD.security_group;
  RETURN OLD;
END $$;
CREATE TRIGGER rds_security_groups_write INSTEAD OF INSERT OR DELETE
  ON rds_security_groups FOR EACH ROW EXECUTE FUNCTION rds_security_groups_write();
CREATE TRIGGER db_cluster_security_groups_write INSTEAD OF INSERT OR DELETE
  ON db_cluster_security_groups FOR EACH ROW EXECUTE FUNCTION rds_security_groups_write();
GRANT SELECT, INSERT, DELETE ON rds_security_groups, db_cluster_security_groups TO iasql_user;
