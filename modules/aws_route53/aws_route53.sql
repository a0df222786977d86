-- modules/aws_route53/aws_route53.sql — Route 53 public hosted zones and
-- their record sets. Route 53 is global: no region column. Names are kept
-- as Route 53 gives them back: lower case, fully qualified with the final
-- dot (a trigger adds it). A record set names its zone by row id, and an
-- alias to a load balancer of aws_elb names it by row id too; its NS
-- and SOA records at the zone's apex are Route 53's own, made and removed
-- with the zone. The limits are Route 53's (CreateHostedZone's and
-- ChangeResourceRecordSets' model and its documented quotas).
CREATE FUNCTION route53_name_normal(n text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN n LIKE '%.' THEN lower(n) ELSE lower(n) || '.' END
$$;

-- A DNS name: labels of 1 to 63 characters (a leading "*." for a wildcard
-- record), at most 255 characters with the final dot.
CREATE FUNCTION route53_name_valid(n text, wildcard boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT length(n) BETWEEN 2 AND 255 AND
         n ~ (CASE WHEN wildcard THEN '^(\*\.)?' ELSE '^' END ||
              '([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+$')
$$;

-- Record values: 1 to 400, each 1 to 4000 characters, 32000 in all.
CREATE FUNCTION route53_values_valid(v text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT cardinality(v) BETWEEN 1 AND 400 AND array_position(v, NULL) IS NULL AND
         length(array_to_string(v, '')) <= 32000 AND
         NOT EXISTS (SELECT FROM unnest(v) x WHERE length(x) NOT BETWEEN 1 AND 4000)
$$;

CREATE TABLE hosted_zone (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  hosted_zone_id text,
  domain_name text NOT NULL,
  comment text,
  tags jsonb NOT NULL DEFAULT '{}',
  name_servers text[],
  CONSTRAINT hosted_zone_id_unique UNIQUE (hosted_zone_id),
  CONSTRAINT hosted_zone_domain_name_a_dns_name_up_to_255_characters
    CHECK (route53_name_valid(domain_name, false)),
  CONSTRAINT hosted_zone_comment_1_to_256_characters
    CHECK (comment IS NULL OR length(comment) BETWEEN 1 AND 256),
  CONSTRAINT hosted_zone_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

CREATE TABLE resource_record_set (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  parent_hosted_zone bigint NOT NULL REFERENCES hosted_zone (id) ON DELETE CASCADE,
  name text NOT NULL,
  record_type text NOT NULL,
  ttl bigint,
  resource_records text[],
  alias_load_balancer bigint REFERENCES load_balancer (id) ON DELETE CASCADE,
  alias_dns_name text,
  alias_hosted_zone_id text,
  evaluate_target_health boolean NOT NULL DEFAULT false,
  zone_default boolean NOT NULL DEFAULT false,
  CONSTRAINT resource_record_set_name_and_type_unique_in_zone
    UNIQUE (parent_hosted_zone, name, record_type),
  CONSTRAINT resource_record_set_name_a_dns_name_up_to_255_characters
    CHECK (route53_name_valid(name, true)),
  CONSTRAINT resource_record_set_record_type_one_of_route53s
    CHECK (record_type IN ('A', 'AAAA', 'CAA', 'CNAME', 'DS', 'HTTPS', 'MX', 'NAPTR', 'NS', 'PTR',
                           'SOA', 'SPF', 'SRV', 'SSHFP', 'SVCB', 'TLSA', 'TXT')),
  CONSTRAINT resource_record_set_ttl_0_to_2147483647
    CHECK (ttl IS NULL OR ttl BETWEEN 0 AND 2147483647),
  CONSTRAINT resource_record_set_1_to_400_values_up_to_4000_characters
    CHECK (resource_records IS NULL OR route53_values_valid(resource_records)),
  CONSTRAINT resource_record_set_ttl_and_records_or_one_alias_target
    CHECK ((ttl IS NOT NULL AND resource_records IS NOT NULL AND alias_load_balancer IS NULL AND
            alias_dns_name IS NULL AND alias_hosted_zone_id IS NULL) OR
           (ttl IS NULL AND resource_records IS NULL AND
            ((alias_load_balancer IS NOT NULL AND alias_dns_name IS NULL AND
              alias_hosted_zone_id IS NULL) OR
             (alias_load_balancer IS NULL AND alias_dns_name IS NOT NULL AND
              alias_hosted_zone_id IS NOT NULL)))),
  CONSTRAINT resource_record_set_alias_dns_name_up_to_1024_zone_id_up_to_32
    CHECK ((alias_dns_name IS NULL OR length(alias_dns_name) BETWEEN 1 AND 1024) AND
           (alias_hosted_zone_id IS NULL OR length(alias_hosted_zone_id) BETWEEN 1 AND 32)),
  CONSTRAINT resource_record_set_alias_not_of_type_soa_or_ns
    CHECK ((alias_dns_name IS NULL AND alias_load_balancer IS NULL) OR record_type NOT IN ('SOA', 'NS'))
);

-- Names as Route 53 gives them back.
CREATE FUNCTION route53_names_normal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'hosted_zone' THEN
    NEW.domain_name := route53_name_normal(NEW.domain_name);
  ELSE
    NEW.name := route53_name_normal(NEW.name);
    IF NEW.alias_dns_name IS NOT NULL THEN
      NEW.alias_dns_name := route53_name_normal(NEW.alias_dns_name);
    END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER hosted_zone_names_normal BEFORE INSERT OR UPDATE ON hosted_zone
  FOR EACH ROW EXECUTE FUNCTION route53_names_normal();
CREATE TRIGGER resource_record_set_names_normal BEFORE INSERT OR UPDATE ON resource_record_set
  FOR EACH ROW EXECUTE FUNCTION route53_names_normal();

-- A record set's name lies in its zone (the zone's apex or below it).
CREATE FUNCTION resource_record_set_in_its_zone() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  zone text;
BEGIN
  SELECT domain_name INTO zone FROM hosted_zone WHERE id = NEW.parent_hosted_zone;
  IF zone IS NOT NULL AND NEW.name <> zone AND right(NEW.name, length(zone) + 1) <> '.' || zone THEN
    RAISE EXCEPTION 'new row for relation "resource_record_set" violates rule resource_record_set_name_in_its_zone'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'resource_record_set_name_in_its_zone',
            DETAIL = format('Record set %s is named %s, which is not in zone %s.', NEW.id, NEW.name, zone),
            HINT = 'Name it after the zone''s domain, or give it the zone its name belongs to.';
  END IF;
  IF zone IS NOT NULL AND NEW.name = zone AND NEW.record_type = 'CNAME' THEN
    RAISE EXCEPTION 'new row for relation "resource_record_set" violates rule resource_record_set_cname_not_at_a_zone_apex'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'resource_record_set_cname_not_at_a_zone_apex',
            DETAIL = format('Record set %s is a CNAME for %s, the apex of its zone.', NEW.id, NEW.name),
            HINT = 'Use an alias A record at the apex.';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER resource_record_set_name_in_its_zone
  AFTER INSERT OR UPDATE OF name, record_type, parent_hosted_zone ON resource_record_set
  FOR EACH ROW EXECUTE FUNCTION resource_record_set_in_its_zone();

-- zone_default says which rows are Route 53's own: only the engine sets it.
CREATE FUNCTION resource_record_set_zone_default_engine_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF session_user::text <> 'iasql_engine' AND
     NEW.zone_default IS DISTINCT FROM (CASE WHEN TG_OP = 'INSERT' THEN false ELSE OLD.zone_default END) THEN
    RAISE EXCEPTION 'new row for relation "resource_record_set" violates rule resource_record_set_zone_default_set_by_the_engine'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'resource_record_set_zone_default_set_by_the_engine',
            DETAIL = format('Record set %s would change zone_default, which says whether Route 53 made it with its zone.', NEW.id),
            HINT = 'Leave zone_default out: the engine writes it.';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER resource_record_set_zone_default_set_by_the_engine
  BEFORE INSERT OR UPDATE OF zone_default ON resource_record_set
  FOR EACH ROW EXECUTE FUNCTION resource_record_set_zone_default_engine_only();

-- The engine adds its owner tag at create: the limit counts it.
CREATE TRIGGER hosted_zone_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON hosted_zone
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
