-- modules/aws_security_group/aws_security_group.sql — security groups of a
-- VPC and their rules. A rule names its group, and the group it lets in
-- (source_security_group), by row id; the engine sends the group ids.
CREATE TABLE security_group (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  group_name text NOT NULL,
  description text NOT NULL,
  vpc bigint NOT NULL,
  region text NOT NULL DEFAULT default_aws_region(),
  tags jsonb NOT NULL DEFAULT '{}',
  group_id text,
  CONSTRAINT security_group_vpc_exists_in_its_region FOREIGN KEY (vpc, region)
    REFERENCES vpc (id, region) ON DELETE CASCADE,
  CONSTRAINT security_group_name_unique_in_its_vpc UNIQUE (vpc, group_name),
  CONSTRAINT security_group_id_unique UNIQUE (group_id),
  CONSTRAINT security_group_row_and_region UNIQUE (id, region),
  CONSTRAINT security_group_name_1_to_255_characters_not_sg_prefix
    CHECK (length(group_name) BETWEEN 1 AND 255 AND group_name NOT LIKE 'sg-%'),
  CONSTRAINT security_group_description_1_to_255_characters
    CHECK (length(description) BETWEEN 1 AND 255),
  CONSTRAINT security_group_tags_up_to_50_strings_no_aws_or_iasql_keys
    CHECK (ec2_tags_valid(tags))
);

CREATE TABLE security_group_rule (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  security_group bigint NOT NULL,
  is_egress boolean NOT NULL DEFAULT false,
  ip_protocol text NOT NULL,
  from_port integer,
  to_port integer,
  cidr_ipv4 cidr,
  source_security_group bigint,
  description text,
  region text NOT NULL DEFAULT default_aws_region(),
  security_group_rule_id text,
  CONSTRAINT security_group_rule_group_exists_in_its_region FOREIGN KEY (security_group, region)
    REFERENCES security_group (id, region) ON DELETE CASCADE,
  CONSTRAINT security_group_rule_source_group_exists_in_its_region
    FOREIGN KEY (source_security_group, region) REFERENCES security_group (id, region),
  CONSTRAINT security_group_rule_id_unique UNIQUE (security_group_rule_id),
  CONSTRAINT security_group_rule_protocol_tcp_udp_icmp_or_all
    CHECK (ip_protocol IN ('tcp', 'udp', 'icmp', '-1')),
  CONSTRAINT security_group_rule_ports_0_to_65535_from_not_above_to
    CHECK (ip_protocol NOT IN ('tcp', 'udp') OR
           (from_port BETWEEN 0 AND 65535 AND to_port BETWEEN from_port AND 65535)),
  CONSTRAINT security_group_rule_no_ports_for_all_protocols
    CHECK (ip_protocol <> '-1' OR (from_port IS NULL AND to_port IS NULL)),
  CONSTRAINT security_group_rule_cidr_or_source_group_not_both
    CHECK ((cidr_ipv4 IS NULL) <> (source_security_group IS NULL)),
  CONSTRAINT security_group_rule_cidr_is_ipv4 CHECK (cidr_ipv4 IS NULL OR family(cidr_ipv4) = 4),
  CONSTRAINT security_group_rule_description_up_to_255_characters
    CHECK (description IS NULL OR length(description) <= 255)
);

-- The engine adds its own tags at create: the limit counts them.
CREATE TRIGGER security_group_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON security_group
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
