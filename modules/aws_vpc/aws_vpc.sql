-- modules/aws_vpc/aws_vpc.sql — VPCs, the availability zones AWS offers,
-- subnets, internet gateways, elastic IPs, NAT gateways, route tables, their
-- associations with subnets, routes and gateway endpoints. Tables refer to
-- each other by row id (foreign keys); the engine turns a reference into the
-- cloud id (vpc-..., subnet-...) when it applies, and writes cloud ids back
-- when the cloud assigns them. A child names its parent together with its
-- region, so the two cannot be in different regions.
CREATE FUNCTION ec2_tags_valid(t jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT iasql_tags_valid(t) AND NOT EXISTS (
    SELECT 1 FROM jsonb_object_keys(t) k WHERE k LIKE 'iasql:%')
$$;

CREATE TABLE vpc (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  cidr_block cidr NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  enable_dns_support boolean NOT NULL DEFAULT true,
  enable_dns_hostnames boolean NOT NULL DEFAULT false,
  tags jsonb NOT NULL DEFAULT '{}',
  vpc_id text,
  is_default boolean NOT NULL DEFAULT false,
  CONSTRAINT vpc_id_unique UNIQUE (vpc_id),
  CONSTRAINT vpc_row_and_region UNIQUE (id, region),
  CONSTRAINT vpc_cidr_block_ipv4_netmask_16_to_28
    CHECK (family(cidr_block) = 4 AND masklen(cidr_block) BETWEEN 16 AND 28),
  CONSTRAINT vpc_dns_hostnames_need_dns_support
    CHECK (enable_dns_support OR NOT enable_dns_hostnames),
  CONSTRAINT vpc_tags_up_to_50_strings_no_aws_or_iasql_keys
    CHECK (ec2_tags_valid(tags))
);

-- The zones AWS offers in each enabled region, read from the cloud: the
-- engine fills the table at install and keeps it current. Nobody creates or
-- deletes a zone; such a change fails at commit, naming the row.
CREATE TABLE availability_zone (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  zone_name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  zone_id text,
  state text,
  CONSTRAINT availability_zone_name_unique UNIQUE (zone_name),
  CONSTRAINT availability_zone_name_in_its_region
    CHECK (zone_name LIKE region || '_%')
);

CREATE TABLE subnet (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  vpc bigint NOT NULL,
  cidr_block cidr NOT NULL,
  availability_zone text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region(),
  map_public_ip_on_launch boolean NOT NULL DEFAULT false,
  tags jsonb NOT NULL DEFAULT '{}',
  subnet_id text,
  default_for_az boolean NOT NULL DEFAULT false,
  CONSTRAINT subnet_vpc_exists_in_its_region FOREIGN KEY (vpc, region)
    REFERENCES vpc (id, region) ON DELETE CASCADE,
  CONSTRAINT subnet_id_unique UNIQUE (subnet_id),
  CONSTRAINT subnet_row_and_region UNIQUE (id, region),
  CONSTRAINT subnet_cidr_block_ipv4_netmask_16_to_28
    CHECK (family(cidr_block) = 4 AND masklen(cidr_block) BETWEEN 16 AND 28),
  CONSTRAINT subnet_availability_zone_in_its_region
    CHECK (availability_zone LIKE region || '_' OR availability_zone LIKE region || '__'),
  CONSTRAINT subnet_tags_up_to_50_strings_no_aws_or_iasql_keys
    CHECK (ec2_tags_valid(tags))
);

-- A subnet's range lies inside its VPC's: checked when the row is written.
CREATE FUNCTION subnet_inside_vpc() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  range cidr;
BEGIN
  SELECT cidr_block INTO range FROM vpc WHERE id = NEW.vpc;
  IF range IS NOT NULL AND NOT (NEW.cidr_block <<= range) THEN
    RAISE EXCEPTION 'subnet %: cidr_block % is not inside its vpc''s % (subnet_cidr_block_inside_its_vpc)', NEW.id,
      NEW.cidr_block, range
      USING ERRCODE = 'check_violation', COLUMN = 'cidr_block', TABLE = 'subnet',
            CONSTRAINT = 'subnet_cidr_block_inside_its_vpc';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER subnet_inside_vpc BEFORE INSERT OR UPDATE OF cidr_block, vpc ON subnet
  FOR EACH ROW EXECUTE FUNCTION subnet_inside_vpc();

-- A subnet's zone is one the cloud offers in its region, once the zones of
-- that region are known (availability_zone is filled from the cloud; until
-- it is, the create is the cloud's to refuse). A zone of another region is
-- subnet_availability_zone_in_its_region's to refuse. The engine's writes
-- pass.
CREATE FUNCTION subnet_zone_offered() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF session_user::text <> 'iasql_engine'
     AND left(NEW.availability_zone, length(NEW.region)) = NEW.region
     AND EXISTS (SELECT FROM availability_zone z WHERE z.region = NEW.region)
     AND NOT EXISTS (SELECT FROM availability_zone z
                      WHERE z.region = NEW.region AND z.zone_name = NEW.availability_zone) THEN
    RAISE EXCEPTION 'new row for relation "subnet" violates rule subnet_availability_zone_offered_in_its_region'
      USING ERRCODE = 'check_violation', TABLE = 'subnet', COLUMN = 'availability_zone',
            CONSTRAINT = 'subnet_availability_zone_offered_in_its_region',
            DETAIL = format('Subnet %s names zone %s, which region %s does not offer.', NEW.id,
                            NEW.availability_zone, NEW.region),
            HINT = format('Use one of: %s.', (SELECT string_agg(zone_name, ', ' ORDER BY zone_name)
                                              FROM availability_zone WHERE region = NEW.region));
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER subnet_zone_offered BEFORE INSERT OR UPDATE OF availability_zone, region ON subnet
  FOR EACH ROW EXECUTE FUNCTION subnet_zone_offered();

CREATE TABLE internet_gateway (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  vpc bigint,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  tags jsonb NOT NULL DEFAULT '{}',
  internet_gateway_id text,
  CONSTRAINT internet_gateway_vpc_exists_in_its_region FOREIGN KEY (vpc, region)
    REFERENCES vpc (id, region) ON DELETE SET NULL (vpc),
  CONSTRAINT internet_gateway_id_unique UNIQUE (internet_gateway_id),
  CONSTRAINT internet_gateway_row_and_region UNIQUE (id, region),
  CONSTRAINT internet_gateway_one_per_vpc UNIQUE (vpc),
  CONSTRAINT internet_gateway_tags_up_to_50_strings_no_aws_or_iasql_keys
    CHECK (ec2_tags_valid(tags))
);

CREATE TABLE elastic_ip (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  tags jsonb NOT NULL DEFAULT '{}',
  allocation_id text,
  public_ip text,
  CONSTRAINT elastic_ip_allocation_id_unique UNIQUE (allocation_id),
  CONSTRAINT elastic_ip_public_ip_unique UNIQUE (public_ip),
  CONSTRAINT elastic_ip_row_and_region UNIQUE (id, region),
  CONSTRAINT elastic_ip_tags_up_to_50_strings_no_aws_or_iasql_keys
    CHECK (ec2_tags_valid(tags))
);

-- A public NAT gateway takes an elastic IP (one gateway per address); a
-- private one takes none. state is the cloud's: pending, available,
-- deleting, deleted, failed.
CREATE TABLE nat_gateway (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  subnet bigint NOT NULL,
  connectivity_type text NOT NULL DEFAULT 'public',
  elastic_ip bigint,
  region text NOT NULL DEFAULT default_aws_region(),
  tags jsonb NOT NULL DEFAULT '{}',
  nat_gateway_id text,
  state text,
  CONSTRAINT nat_gateway_subnet_exists_in_its_region FOREIGN KEY (subnet, region)
    REFERENCES subnet (id, region) ON DELETE CASCADE,
  CONSTRAINT nat_gateway_elastic_ip_exists_in_its_region FOREIGN KEY (elastic_ip, region)
    REFERENCES elastic_ip (id, region),
  CONSTRAINT nat_gateway_id_unique UNIQUE (nat_gateway_id),
  CONSTRAINT nat_gateway_row_and_region UNIQUE (id, region),
  CONSTRAINT nat_gateway_elastic_ip_used_once UNIQUE (elastic_ip),
  CONSTRAINT nat_gateway_connectivity_type_public_or_private
    CHECK (connectivity_type IN ('public', 'private')),
  CONSTRAINT nat_gateway_elastic_ip_when_public_and_only_then
    CHECK ((connectivity_type = 'public') = (elastic_ip IS NOT NULL)),
  CONSTRAINT nat_gateway_tags_up_to_50_strings_no_aws_or_iasql_keys
    CHECK (ec2_tags_valid(tags))
);

CREATE TABLE route_table (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  vpc bigint NOT NULL,
  region text NOT NULL DEFAULT default_aws_region(),
  tags jsonb NOT NULL DEFAULT '{}',
  route_table_id text,
  main boolean NOT NULL DEFAULT false,
  CONSTRAINT route_table_vpc_exists_in_its_region FOREIGN KEY (vpc, region)
    REFERENCES vpc (id, region) ON DELETE CASCADE,
  CONSTRAINT route_table_id_unique UNIQUE (route_table_id),
  CONSTRAINT route_table_row_and_region UNIQUE (id, region),
  CONSTRAINT route_table_tags_up_to_50_strings_no_aws_or_iasql_keys
    CHECK (ec2_tags_valid(tags))
);

-- A subnet's route table, when it is not its VPC's main one: one per
-- subnet, both of the same VPC. The subnet names the association (moving
-- it to another table gives it a new route_table_association_id).
CREATE TABLE route_table_association (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  route_table bigint NOT NULL,
  subnet bigint NOT NULL,
  region text NOT NULL DEFAULT default_aws_region(),
  route_table_association_id text,
  CONSTRAINT route_table_association_route_table_exists_in_its_region
    FOREIGN KEY (route_table, region) REFERENCES route_table (id, region) ON DELETE CASCADE,
  CONSTRAINT route_table_association_subnet_exists_in_its_region
    FOREIGN KEY (subnet, region) REFERENCES subnet (id, region) ON DELETE CASCADE,
  CONSTRAINT route_table_association_id_unique UNIQUE (route_table_association_id),
  CONSTRAINT route_table_association_one_per_subnet UNIQUE (subnet)
);

CREATE FUNCTION route_table_association_same_vpc() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT vpc FROM route_table WHERE id = NEW.route_table)
     IS DISTINCT FROM (SELECT vpc FROM subnet WHERE id = NEW.subnet) THEN
    RAISE EXCEPTION 'new row for relation "route_table_association" violates rule route_table_association_subnet_in_its_route_tables_vpc'
      USING ERRCODE = 'check_violation', TABLE = 'route_table_association',
            CONSTRAINT = 'route_table_association_subnet_in_its_route_tables_vpc',
            DETAIL = format('Association %s puts subnet %s in route table %s, of another VPC.',
                            NEW.id, NEW.subnet, NEW.route_table),
            HINT = 'Associate the subnet with a route table of its own VPC.';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER route_table_association_same_vpc
  BEFORE INSERT OR UPDATE OF route_table, subnet ON route_table_association
  FOR EACH ROW EXECUTE FUNCTION route_table_association_same_vpc();

-- A route sends a destination to an internet gateway or a NAT gateway; the
-- local route of a VPC (local = true) is AWS's own and goes with its route
-- table.
CREATE TABLE route (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  route_table bigint NOT NULL,
  destination_cidr_block cidr NOT NULL,
  internet_gateway bigint,
  nat_gateway bigint,
  local boolean NOT NULL DEFAULT false,
  region text NOT NULL DEFAULT default_aws_region(),
  CONSTRAINT route_route_table_exists_in_its_region FOREIGN KEY (route_table, region)
    REFERENCES route_table (id, region) ON DELETE CASCADE,
  CONSTRAINT route_internet_gateway_exists_in_its_region FOREIGN KEY (internet_gateway, region)
    REFERENCES internet_gateway (id, region) ON DELETE CASCADE,
  CONSTRAINT route_nat_gateway_exists_in_its_region FOREIGN KEY (nat_gateway, region)
    REFERENCES nat_gateway (id, region) ON DELETE CASCADE,
  CONSTRAINT route_destination_unique_in_its_route_table
    UNIQUE (route_table, destination_cidr_block),
  CONSTRAINT route_destination_is_ipv4 CHECK (family(destination_cidr_block) = 4),
  CONSTRAINT route_is_local_or_has_one_target_internet_or_nat_gateway
    CHECK (num_nonnulls(internet_gateway, nat_gateway) = CASE WHEN local THEN 0 ELSE 1 END)
);

-- A gateway endpoint to S3 or DynamoDB in a VPC, routed from the route
-- tables of route_tables (a set of row ids). policy NULL is full access.
CREATE TABLE endpoint_gateway (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  vpc bigint NOT NULL,
  service text NOT NULL,
  route_tables bigint[] NOT NULL DEFAULT '{}',
  policy jsonb,
  region text NOT NULL DEFAULT default_aws_region(),
  tags jsonb NOT NULL DEFAULT '{}',
  vpc_endpoint_id text,
  state text,
  CONSTRAINT endpoint_gateway_vpc_exists_in_its_region FOREIGN KEY (vpc, region)
    REFERENCES vpc (id, region) ON DELETE CASCADE,
  CONSTRAINT endpoint_gateway_id_unique UNIQUE (vpc_endpoint_id),
  CONSTRAINT endpoint_gateway_service_s3_or_dynamodb CHECK (service IN ('s3', 'dynamodb')),
  CONSTRAINT endpoint_gateway_policy_a_statement_object_up_to_20480_chars
    CHECK (policy IS NULL OR (jsonb_typeof(policy) = 'object' AND policy ? 'Statement'
                              AND length(policy::text) <= 20480)),
  CONSTRAINT endpoint_gateway_route_tables_no_nulls
    CHECK (array_position(route_tables, NULL) IS NULL),
  CONSTRAINT endpoint_gateway_tags_up_to_50_strings_no_aws_or_iasql_keys
    CHECK (ec2_tags_valid(tags))
);

-- route_tables is a set: sorted, each once, each a route table of the
-- endpoint's VPC. PostgreSQL has no foreign keys from array elements: this
-- trigger checks what is added, and a route table's delete takes itself
-- out of the endpoints that name it.
CREATE FUNCTION endpoint_gateway_route_tables_valid() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  r bigint;
BEGIN
  NEW.route_tables := ARRAY(SELECT DISTINCT x FROM unnest(NEW.route_tables) x ORDER BY x);
  FOREACH r IN ARRAY NEW.route_tables LOOP
    IF (TG_OP = 'INSERT' OR NOT (r = ANY (OLD.route_tables)) OR NEW.vpc <> OLD.vpc)
       AND NOT EXISTS (SELECT FROM route_table t WHERE t.id = r AND t.vpc = NEW.vpc) THEN
      RAISE EXCEPTION 'new row for relation "endpoint_gateway" violates rule endpoint_gateway_route_tables_of_its_vpc'
        USING ERRCODE = 'foreign_key_violation', COLUMN = 'route_tables', TABLE = 'endpoint_gateway',
              CONSTRAINT = 'endpoint_gateway_route_tables_of_its_vpc',
              DETAIL = format('Endpoint %s names %s in route_tables, which is not a route table of its VPC.',
                              NEW.id, r),
              HINT = 'Name route tables of the endpoint''s own VPC.';
    END IF;
  END LOOP;
  RETURN NEW;
END $$;
CREATE TRIGGER endpoint_gateway_route_tables_valid
  BEFORE INSERT OR UPDATE OF route_tables, vpc ON endpoint_gateway
  FOR EACH ROW EXECUTE FUNCTION endpoint_gateway_route_tables_valid();

CREATE FUNCTION route_table_leaves_endpoints() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE endpoint_gateway SET route_tables = array_remove(route_tables, OLD.id)
    WHERE OLD.id = ANY (route_tables);
  RETURN OLD;
END $$;
CREATE TRIGGER route_table_leaves_endpoints BEFORE DELETE ON route_table
  FOR EACH ROW EXECUTE FUNCTION route_table_leaves_endpoints();

-- The engine adds its own tags at create: the limit counts them.
CREATE TRIGGER vpc_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON vpc
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
CREATE TRIGGER subnet_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON subnet
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
CREATE TRIGGER internet_gateway_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON internet_gateway
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
CREATE TRIGGER route_table_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON route_table
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
CREATE TRIGGER elastic_ip_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON elastic_ip
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
CREATE TRIGGER nat_gateway_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON nat_gateway
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
CREATE TRIGGER endpoint_gateway_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON endpoint_gateway
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
