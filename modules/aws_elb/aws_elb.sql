-- modules/aws_elb/aws_elb.sql — Elastic Load Balancing v2: application and
-- network load balancers, target groups and listeners. A load balancer
-- names its subnets and security groups by the row ids in two sets
-- (sorted, each once, held by triggers as instance.security_groups is);
-- its VPC is its subnets', set here. A listener names its load balancer
-- and the target group its default action forwards to by row id, and an
-- HTTPS or TLS listener its certificate (aws_acm's). The
-- limits are AWS's (CreateLoadBalancer, CreateTargetGroup, CreateListener).

-- ELB's tags: keys and values of letters, digits, spaces and _.:/=+-@.
CREATE FUNCTION elb_tags_valid(t jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT iasql_tags_valid(t) AND NOT EXISTS (
    SELECT 1 FROM jsonb_each_text(t) e
     WHERE e.key !~ '^[[:alnum:][:space:]_.:/=+@-]+$'
        OR e.value !~ '^[[:alnum:][:space:]_.:/=+@-]*$')
$$;

CREATE TABLE load_balancer (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  load_balancer_name text NOT NULL,
  load_balancer_type text NOT NULL DEFAULT 'application',
  scheme text NOT NULL DEFAULT 'internet-facing',
  ip_address_type text NOT NULL DEFAULT 'ipv4',
  subnets bigint[] NOT NULL DEFAULT '{}',
  security_groups bigint[] NOT NULL DEFAULT '{}',
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  tags jsonb NOT NULL DEFAULT '{}',
  load_balancer_arn text,
  dns_name text,
  canonical_hosted_zone_id text,
  vpc bigint,
  state text,
  CONSTRAINT load_balancer_vpc_exists_in_its_region FOREIGN KEY (vpc, region)
    REFERENCES vpc (id, region) ON DELETE SET NULL (vpc),
  CONSTRAINT load_balancer_arn_unique UNIQUE (load_balancer_arn),
  CONSTRAINT load_balancer_name_unique_in_region UNIQUE (load_balancer_name, region),
  CONSTRAINT load_balancer_row_and_region UNIQUE (id, region),
  CONSTRAINT load_balancer_name_1_to_32_alphanumerics_hyphens_not_internal
    CHECK (load_balancer_name ~ '^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$'
           AND load_balancer_name NOT LIKE 'internal-%'),
  CONSTRAINT load_balancer_type_application_or_network
    CHECK (load_balancer_type IN ('application', 'network')),
  CONSTRAINT load_balancer_scheme_internet_facing_or_internal
    CHECK (scheme IN ('internet-facing', 'internal')),
  CONSTRAINT load_balancer_ip_address_type_ipv4_or_dualstack
    CHECK (ip_address_type IN ('ipv4', 'dualstack', 'dualstack-without-public-ipv4')),
  CONSTRAINT load_balancer_application_needs_two_subnets_network_one
    CHECK (cardinality(subnets) >= CASE load_balancer_type WHEN 'application' THEN 2 ELSE 1 END
           AND array_position(subnets, NULL) IS NULL),
  CONSTRAINT load_balancer_security_groups_1_to_5_for_application_up_to_5
    CHECK (cardinality(security_groups) <= 5 AND array_position(security_groups, NULL) IS NULL
           AND (load_balancer_type <> 'application' OR cardinality(security_groups) >= 1)),
  CONSTRAINT load_balancer_state_as_elb_reports_it
    CHECK (state IS NULL OR state IN ('active', 'provisioning', 'active_impaired', 'failed')),
  CONSTRAINT load_balancer_tags_up_to_50_elb_strings_no_aws_or_iasql_keys
    CHECK (elb_tags_valid(tags))
);

-- subnets and security_groups are sets: sorted, each once; the subnets in
-- one VPC (which becomes the load balancer's vpc), one per availability
-- zone, the security groups of that VPC. PostgreSQL has no foreign keys
-- from array elements, so these triggers hold the references both ways.
-- The engine's own writes pass: a restore deletes rows before it updates
-- the sets that named them, and a sync writes what the cloud has.
CREATE FUNCTION load_balancer_sets_valid() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  g bigint;
  vpcs bigint[];
  zones integer;
  checked boolean := session_user::text <> 'iasql_engine';
BEGIN
  NEW.subnets := ARRAY(SELECT DISTINCT x FROM unnest(NEW.subnets) x ORDER BY x);
  NEW.security_groups := ARRAY(SELECT DISTINCT x FROM unnest(NEW.security_groups) x ORDER BY x);
  FOREACH g IN ARRAY NEW.subnets LOOP
    IF checked AND NOT EXISTS (SELECT 1 FROM subnet s WHERE s.id = g AND s.region = NEW.region) THEN
      RAISE EXCEPTION 'load_balancer %: subnets names %, which is not a subnet of its region (load_balancer_subnets_exist_in_one_vpc)', NEW.id, g
        USING ERRCODE = 'foreign_key_violation', COLUMN = 'subnets', TABLE = 'load_balancer',
              CONSTRAINT = 'load_balancer_subnets_exist_in_one_vpc';
    END IF;
  END LOOP;
  SELECT array_agg(DISTINCT s.vpc), count(DISTINCT s.availability_zone) INTO vpcs, zones
    FROM subnet s WHERE s.id = ANY (NEW.subnets);
  IF checked AND cardinality(vpcs) > 1 THEN
    RAISE EXCEPTION 'load_balancer %: its subnets are in more than one vpc (load_balancer_subnets_exist_in_one_vpc)', NEW.id
      USING ERRCODE = 'check_violation', COLUMN = 'subnets', TABLE = 'load_balancer',
            CONSTRAINT = 'load_balancer_subnets_exist_in_one_vpc',
            HINT = 'Name subnets of one VPC.';
  END IF;
  IF checked AND zones < cardinality(NEW.subnets) THEN
    RAISE EXCEPTION 'load_balancer %: two of its subnets are in one availability zone (load_balancer_subnets_one_per_availability_zone)', NEW.id
      USING ERRCODE = 'check_violation', COLUMN = 'subnets', TABLE = 'load_balancer',
            CONSTRAINT = 'load_balancer_subnets_one_per_availability_zone',
            HINT = 'Name one subnet per availability zone.';
  END IF;
  NEW.vpc := coalesce(vpcs[1], NEW.vpc);
  FOREACH g IN ARRAY NEW.security_groups LOOP
    IF checked AND NEW.vpc IS NOT NULL AND NOT EXISTS (SELECT 1 FROM security_group s WHERE s.id = g AND s.vpc = NEW.vpc) THEN
      RAISE EXCEPTION 'load_balancer %: security_groups names %, which is not a security group of its subnets'' vpc (load_balancer_security_groups_of_its_vpc)', NEW.id, g
        USING ERRCODE = 'foreign_key_violation', COLUMN = 'security_groups', TABLE = 'load_balancer',
              CONSTRAINT = 'load_balancer_security_groups_of_its_vpc';
    END IF;
  END LOOP;
  RETURN NEW;
END $$;
CREATE TRIGGER load_balancer_sets_valid BEFORE INSERT OR UPDATE OF subnets, security_groups, region
  ON load_balancer FOR EACH ROW EXECUTE FUNCTION load_balancer_sets_valid();

CREATE FUNCTION load_balancer_uses_it() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  user_id bigint;
  col text := TG_ARGV[0];
BEGIN
  EXECUTE format('SELECT id FROM load_balancer WHERE $1 = ANY (%I) LIMIT 1', col)
    INTO user_id USING OLD.id;
  IF user_id IS NOT NULL AND session_user::text <> 'iasql_engine' THEN
    RAISE EXCEPTION '% %: load_balancer % uses it (%); take it out of that load balancer first (load_balancer_%_in_use)', TG_TABLE_NAME, OLD.id, user_id, col, col
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME,
            CONSTRAINT = 'load_balancer_' || col || '_in_use';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER subnet_used_by_load_balancer BEFORE DELETE ON subnet
  FOR EACH ROW EXECUTE FUNCTION load_balancer_uses_it('subnets');
CREATE TRIGGER security_group_used_by_load_balancer BEFORE DELETE ON security_group
  FOR EACH ROW EXECUTE FUNCTION load_balancer_uses_it('security_groups');

CREATE TABLE target_group (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  target_group_name text NOT NULL,
  target_type text NOT NULL DEFAULT 'instance',
  protocol text,
  port integer,
  vpc bigint,
  protocol_version text,
  health_check_protocol text,
  health_check_port text,
  health_check_path text,
  health_check_interval_seconds integer,
  health_check_timeout_seconds integer,
  healthy_threshold_count integer,
  unhealthy_threshold_count integer,
  health_check_matcher text,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  tags jsonb NOT NULL DEFAULT '{}',
  target_group_arn text,
  CONSTRAINT target_group_vpc_exists_in_its_region FOREIGN KEY (vpc, region)
    REFERENCES vpc (id, region) ON DELETE CASCADE,
  CONSTRAINT target_group_arn_unique UNIQUE (target_group_arn),
  CONSTRAINT target_group_name_unique_in_region UNIQUE (target_group_name, region),
  CONSTRAINT target_group_row_and_region UNIQUE (id, region),
  CONSTRAINT target_group_name_1_to_32_alphanumerics_or_hyphens
    CHECK (target_group_name ~ '^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$'),
  CONSTRAINT target_group_target_type_instance_ip_lambda_or_alb
    CHECK (target_type IN ('instance', 'ip', 'lambda', 'alb')),
  CONSTRAINT target_group_protocol_http_https_tcp_tls_udp_or_tcp_udp
    CHECK (protocol IS NULL OR protocol IN ('HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP')),
  CONSTRAINT target_group_protocol_port_and_vpc_unless_lambda
    CHECK (CASE WHEN target_type = 'lambda'
                THEN protocol IS NULL AND port IS NULL AND vpc IS NULL
                ELSE protocol IS NOT NULL AND port IS NOT NULL AND vpc IS NOT NULL END),
  CONSTRAINT target_group_alb_targets_over_tcp
    CHECK (target_type <> 'alb' OR protocol = 'TCP'),
  CONSTRAINT target_group_port_1_to_65535 CHECK (port IS NULL OR port BETWEEN 1 AND 65535),
  CONSTRAINT target_group_protocol_version_http1_http2_or_grpc_for_http_s
    CHECK (protocol_version IS NULL OR
           (protocol_version IN ('HTTP1', 'HTTP2', 'GRPC') AND protocol IN ('HTTP', 'HTTPS'))),
  CONSTRAINT target_group_health_check_protocol_http_https_or_tcp
    CHECK (health_check_protocol IS NULL OR health_check_protocol IN ('HTTP', 'HTTPS', 'TCP')),
  CONSTRAINT target_group_health_check_not_tcp_for_http_or_https
    CHECK (health_check_protocol IS DISTINCT FROM 'TCP' OR protocol NOT IN ('HTTP', 'HTTPS')),
  CONSTRAINT target_group_health_check_port_traffic_port_or_1_to_65535
    CHECK (health_check_port IS NULL OR health_check_port = 'traffic-port' OR
           (health_check_port ~ '^[0-9]{1,5}$' AND health_check_port::integer BETWEEN 1 AND 65535)),
  CONSTRAINT target_group_health_check_path_from_slash_up_to_1024_for_http_s
    CHECK (health_check_path IS NULL OR
           (length(health_check_path) BETWEEN 1 AND 1024 AND health_check_path LIKE '/%' AND
            health_check_protocol IS DISTINCT FROM 'TCP')),
  CONSTRAINT target_group_health_check_interval_5_to_300_seconds
    CHECK (health_check_interval_seconds IS NULL OR health_check_interval_seconds BETWEEN 5 AND 300),
  CONSTRAINT target_group_health_check_timeout_2_to_120_seconds
    CHECK (health_check_timeout_seconds IS NULL OR health_check_timeout_seconds BETWEEN 2 AND 120),
  CONSTRAINT target_group_health_check_timeout_below_interval
    CHECK (health_check_timeout_seconds IS NULL OR health_check_interval_seconds IS NULL OR
           health_check_timeout_seconds < health_check_interval_seconds OR
           (health_check_timeout_seconds = health_check_interval_seconds AND
            health_check_protocol = 'TCP')),
  CONSTRAINT target_group_health_check_thresholds_2_to_10
    CHECK ((healthy_threshold_count IS NULL OR healthy_threshold_count BETWEEN 2 AND 10) AND
           (unhealthy_threshold_count IS NULL OR unhealthy_threshold_count BETWEEN 2 AND 10)),
  CONSTRAINT target_group_health_check_matcher_codes_for_http_or_https
    CHECK (health_check_matcher IS NULL OR
           (health_check_matcher ~ '^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$' AND
            health_check_protocol IS DISTINCT FROM 'TCP')),
  CONSTRAINT target_group_tags_up_to_50_elb_strings_no_aws_or_iasql_keys
    CHECK (elb_tags_valid(tags))
);

-- What AWS gives a target group for what is not said, written into the row
-- so that it is what the cloud will show (CreateTargetGroup's defaults).
CREATE FUNCTION target_group_defaults() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  http boolean := NEW.protocol IN ('HTTP', 'HTTPS');
  lambda boolean := NEW.target_type = 'lambda';
  alb boolean := NEW.target_type = 'alb';
BEGIN
  IF session_user::text = 'iasql_engine' THEN
    RETURN NEW; -- what the cloud says, as it says it
  END IF;
  IF http THEN
    NEW.protocol_version := coalesce(NEW.protocol_version, 'HTTP1');
  END IF;
  IF NOT lambda THEN
    NEW.health_check_protocol := coalesce(NEW.health_check_protocol,
      CASE WHEN http THEN NEW.protocol WHEN alb THEN 'HTTP' ELSE 'TCP' END);
    NEW.health_check_port := coalesce(NEW.health_check_port, 'traffic-port');
  END IF;
  IF lambda OR NEW.health_check_protocol IN ('HTTP', 'HTTPS') THEN
    NEW.health_check_path := coalesce(NEW.health_check_path,
      CASE WHEN NEW.protocol_version = 'GRPC' THEN '/AWS.ALB/healthcheck' ELSE '/' END);
    NEW.health_check_matcher := coalesce(NEW.health_check_matcher,
      CASE WHEN NEW.protocol_version = 'GRPC' THEN '12' WHEN alb THEN '200-399' ELSE '200' END);
  END IF;
  NEW.health_check_interval_seconds := coalesce(NEW.health_check_interval_seconds,
    CASE WHEN lambda THEN 35 ELSE 30 END);
  NEW.health_check_timeout_seconds := coalesce(NEW.health_check_timeout_seconds,
    CASE WHEN lambda THEN 30 WHEN http THEN 5 WHEN alb THEN 6 ELSE 10 END);
  NEW.healthy_threshold_count := coalesce(NEW.healthy_threshold_count, 5);
  NEW.unhealthy_threshold_count := coalesce(NEW.unhealthy_threshold_count, 2);
  RETURN NEW;
END $$;
CREATE TRIGGER target_group_defaults BEFORE INSERT ON target_group
  FOR EACH ROW EXECUTE FUNCTION target_group_defaults();

CREATE TABLE listener (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  load_balancer bigint NOT NULL,
  port integer NOT NULL,
  protocol text NOT NULL DEFAULT 'HTTP',
  ssl_policy text,
  target_group bigint NOT NULL,
  certificate bigint,
  region text NOT NULL DEFAULT default_aws_region(),
  listener_arn text,
  CONSTRAINT listener_load_balancer_exists_in_its_region FOREIGN KEY (load_balancer, region)
    REFERENCES load_balancer (id, region) ON DELETE CASCADE,
  CONSTRAINT listener_target_group_exists_in_its_region FOREIGN KEY (target_group, region)
    REFERENCES target_group (id, region),
  CONSTRAINT listener_certificate_exists FOREIGN KEY (certificate) REFERENCES certificate (id),
  CONSTRAINT listener_arn_unique UNIQUE (listener_arn),
  CONSTRAINT listener_port_unique_on_its_load_balancer UNIQUE (load_balancer, port),
  CONSTRAINT listener_port_1_to_65535 CHECK (port BETWEEN 1 AND 65535),
  CONSTRAINT listener_protocol_http_https_tcp_tls_udp_or_tcp_udp
    CHECK (protocol IN ('HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP')),
  CONSTRAINT listener_https_and_tls_need_a_certificate
    CHECK (protocol NOT IN ('HTTPS', 'TLS') OR certificate IS NOT NULL),
  CONSTRAINT listener_certificate_only_for_https_or_tls
    CHECK (certificate IS NULL OR protocol IN ('HTTPS', 'TLS')),
  CONSTRAINT listener_ssl_policy_only_for_https_or_tls
    CHECK (ssl_policy IS NULL OR (protocol IN ('HTTPS', 'TLS') AND length(ssl_policy) BETWEEN 1 AND 255))
);

-- An application load balancer listens over HTTP or HTTPS, a network one
-- over TCP, TLS, UDP or TCP_UDP; HTTPS and TLS get AWS's default policy
-- when none is named, and a certificate of the listener's region.
CREATE FUNCTION listener_fits_its_load_balancer() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  kind text;
BEGIN
  SELECT load_balancer_type INTO kind FROM load_balancer WHERE id = NEW.load_balancer;
  IF kind IS NOT NULL AND (kind = 'application') <> (NEW.protocol IN ('HTTP', 'HTTPS')) THEN
    RAISE EXCEPTION 'listener %: protocol % does not fit its % load balancer (listener_protocol_fits_its_load_balancer)', NEW.id, NEW.protocol, kind
      USING ERRCODE = 'check_violation', COLUMN = 'protocol', TABLE = 'listener',
            CONSTRAINT = 'listener_protocol_fits_its_load_balancer',
            HINT = 'An application load balancer takes HTTP or HTTPS; a network one TCP, TLS, UDP or TCP_UDP.';
  END IF;
  IF NEW.certificate IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM certificate c WHERE c.id = NEW.certificate AND c.region = NEW.region) THEN
    RAISE EXCEPTION 'listener %: certificate % is not in its region % (listener_certificate_in_its_region)', NEW.id, NEW.certificate, NEW.region
      USING ERRCODE = 'foreign_key_violation', COLUMN = 'certificate', TABLE = 'listener',
            CONSTRAINT = 'listener_certificate_in_its_region',
            HINT = 'Name a certificate of the load balancer''s region.';
  END IF;
  IF NEW.protocol IN ('HTTPS', 'TLS') AND session_user::text <> 'iasql_engine' THEN
    NEW.ssl_policy := coalesce(NEW.ssl_policy, 'ELBSecurityPolicy-2016-08');
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER listener_fits_its_load_balancer BEFORE INSERT OR UPDATE OF protocol, load_balancer, ssl_policy, certificate
  ON listener FOR EACH ROW EXECUTE FUNCTION listener_fits_its_load_balancer();

-- The engine adds its own tag at create: the limit counts it.
CREATE TRIGGER load_balancer_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON load_balancer
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
CREATE TRIGGER target_group_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON target_group
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
