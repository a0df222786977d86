-- modules/aws_vpc/aws_vpc.sql — VPCs, subnets, internet gateways, route
-- tables and routes. Tables refer to each other by row id (foreign keys);
-- the engine turns a reference into the cloud id (vpc-..., subnet-...)
-- when it applies, and writes cloud ids back when the cloud assigns them.
-- A child names its parent together with its region, so the two cannot
-- be in different regions.
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

-- A route sends a destination to an internet gateway; the local route of
-- a VPC (local = true) is AWS's own and goes with its route table.
CREATE TABLE route (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  route_table bigint NOT NULL,
  destination_cidr_block cidr NOT NULL,
  internet_gateway bigint,
  local boolean NOT NULL DEFAULT false,
  region text NOT NULL DEFAULT default_aws_region(),
  CONSTRAINT route_route_table_exists_in_its_region FOREIGN KEY (route_table, region)
    REFERENCES route_table (id, region) ON DELETE CASCADE,
  CONSTRAINT route_internet_gateway_exists_in_its_region FOREIGN KEY (internet_gateway, region)
    REFERENCES internet_gateway (id, region) ON DELETE CASCADE,
  CONSTRAINT route_destination_unique_in_its_route_table
    UNIQUE (route_table, destination_cidr_block),
  CONSTRAINT route_destination_is_ipv4 CHECK (family(destination_cidr_block) = 4),
  CONSTRAINT route_goes_to_an_internet_gateway_or_is_local
    CHECK (local = (internet_gateway IS NULL))
);

-- The engine adds its own tags at create: the limit counts them.
CREATE TRIGGER vpc_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON vpc
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
CREATE TRIGGER subnet_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON subnet
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
CREATE TRIGGER internet_gateway_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON internet_gateway
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
CREATE TRIGGER route_table_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON route_table
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
