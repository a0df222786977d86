-- modules/aws_ecs_fargate/aws_ecs_fargate.sql — ECS on Fargate: clusters,
-- task definitions and services. The limits are AWS's (the ECS model and
-- the Fargate task sizes of the ECS developer guide). A task definition is
-- immutable in AWS: every column but its tags replaces it (a new revision
-- is registered, what runs it moves there, the old one is deregistered).
-- Its containers are one jsonb array in ECS's own shape (see
-- docs/modules.md, "aws_ecs_fargate: containers"); the image of an ECR
-- repository and the log group are table-level references, since a
-- repository or a group made in the same commit has no name in the cloud
-- yet that a container could hold.
CREATE TABLE cluster (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  cluster_name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  container_insights text NOT NULL DEFAULT 'disabled',
  tags jsonb NOT NULL DEFAULT '{}',
  cluster_arn text,
  CONSTRAINT cluster_name_unique_in_region UNIQUE (cluster_name, region),
  CONSTRAINT cluster_row_and_region UNIQUE (id, region),
  CONSTRAINT cluster_name_up_to_255_alnum_hyphen_underscore
    CHECK (cluster_name ~ '^[A-Za-z0-9_-]{1,255}$'),
  CONSTRAINT cluster_container_insights_enhanced_enabled_or_disabled
    CHECK (container_insights IN ('enhanced', 'enabled', 'disabled')),
  CONSTRAINT cluster_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

-- The Fargate task sizes: CPU units and the memory (MiB) each allows.
CREATE FUNCTION ecs_fargate_size_valid(cpu integer, memory integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE cpu
    WHEN 256 THEN memory IN (512, 1024, 2048)
    WHEN 512 THEN memory BETWEEN 1024 AND 4096 AND memory % 1024 = 0
    WHEN 1024 THEN memory BETWEEN 2048 AND 8192 AND memory % 1024 = 0
    WHEN 2048 THEN memory BETWEEN 4096 AND 16384 AND memory % 1024 = 0
    WHEN 4096 THEN memory BETWEEN 8192 AND 30720 AND memory % 1024 = 0
    WHEN 8192 THEN memory BETWEEN 16384 AND 61440 AND memory % 4096 = 0
    WHEN 16384 THEN memory BETWEEN 32768 AND 122880 AND memory % 8192 = 0
    ELSE false END
$$;

-- Containers: 1 to 10 objects in ECS's ContainerDefinition shape, limited
-- to the members this module carries; a name of 1 to 255 letters, digits,
-- hyphens and underscores, each once; ports 1 to 65535.
CREATE FUNCTION ecs_containers_valid(c jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_typeof(c) = 'array' AND jsonb_array_length(c) BETWEEN 1 AND 10
     AND (SELECT bool_and(
            jsonb_typeof(e) = 'object'
            AND e ->> 'name' ~ '^[A-Za-z0-9_-]{1,255}$'
            AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(e) k WHERE k NOT IN
                  ('name', 'image', 'essential', 'cpu', 'memory', 'memoryReservation',
                   'portMappings', 'environment', 'command', 'entryPoint', 'workingDirectory',
                   'logConfiguration'))
            AND (NOT e ? 'image' OR (jsonb_typeof(e -> 'image') = 'string'
                                     AND length(e ->> 'image') BETWEEN 1 AND 1024))
            AND (NOT e ? 'essential' OR jsonb_typeof(e -> 'essential') = 'boolean')
            AND (NOT e ? 'portMappings' OR (jsonb_typeof(e -> 'portMappings') = 'array' AND
                 (SELECT coalesce(bool_and(jsonb_typeof(p) = 'object'
                            AND jsonb_typeof(p -> 'containerPort') = 'number'
                            AND (p ->> 'containerPort')::numeric BETWEEN 1 AND 65535
                            AND (NOT p ? 'protocol' OR p ->> 'protocol' IN ('tcp', 'udp'))), true)
                    FROM jsonb_array_elements(e -> 'portMappings') p)))
            AND (NOT e ? 'environment' OR (jsonb_typeof(e -> 'environment') = 'array' AND
                 (SELECT coalesce(bool_and(jsonb_typeof(v -> 'name') = 'string'
                            AND jsonb_typeof(v -> 'value') = 'string'), true)
                    FROM jsonb_array_elements(e -> 'environment') v))))
            AND count(DISTINCT e ->> 'name') = count(*)
          FROM jsonb_array_elements(c) e)
$$;

CREATE TABLE task_definition (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  family text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  cpu integer NOT NULL DEFAULT 256,
  memory integer NOT NULL DEFAULT 512,
  network_mode text NOT NULL DEFAULT 'awsvpc',
  requires_compatibilities text[] NOT NULL DEFAULT '{FARGATE}',
  execution_role bigint REFERENCES iam_role (id),
  task_role bigint REFERENCES iam_role (id),
  containers jsonb NOT NULL,
  repository bigint,
  image_tag text,
  log_group bigint,
  log_stream_prefix text,
  tags jsonb NOT NULL DEFAULT '{}',
  task_definition_arn text,
  revision integer,
  CONSTRAINT task_definition_row_and_region UNIQUE (id, region),
  CONSTRAINT task_definition_arn_unique UNIQUE (task_definition_arn),
  CONSTRAINT task_definition_repository_exists FOREIGN KEY (repository) REFERENCES repository (id),
  CONSTRAINT task_definition_log_group_exists FOREIGN KEY (log_group) REFERENCES log_group (id),
  CONSTRAINT task_definition_family_up_to_255_alnum_hyphen_underscore
    CHECK (family ~ '^[A-Za-z0-9_-]{1,255}$'),
  CONSTRAINT task_definition_cpu_memory_a_fargate_size CHECK (ecs_fargate_size_valid(cpu, memory)),
  CONSTRAINT task_definition_network_mode_awsvpc CHECK (network_mode = 'awsvpc'),
  CONSTRAINT task_definition_requires_compatibilities_fargate
    CHECK (requires_compatibilities = '{FARGATE}'),
  CONSTRAINT task_definition_containers_1_to_10_container_definitions
    CHECK (ecs_containers_valid(containers)),
  CONSTRAINT task_definition_containers_have_an_image_or_a_repository
    CHECK (repository IS NOT NULL OR NOT jsonb_path_exists(containers, '$[*] ? (!exists(@.image))')),
  CONSTRAINT task_definition_image_tag_with_a_repository_up_to_128
    CHECK ((repository IS NULL) = (image_tag IS NULL) AND
           (image_tag IS NULL OR image_tag ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')),
  CONSTRAINT task_definition_log_stream_prefix_with_a_log_group
    CHECK ((log_stream_prefix IS NULL) = (log_group IS NULL) AND
           (log_stream_prefix IS NULL OR (length(log_stream_prefix) BETWEEN 1 AND 512 AND
                                          log_stream_prefix !~ '[:*]'))),
  CONSTRAINT task_definition_tags_up_to_50_strings_no_aws_or_iasql_keys
    CHECK (iasql_tags_valid(tags))
);

-- The repository's URI and the awslogs region are the task definition's
-- region: its repository and log group must be there.
CREATE FUNCTION task_definition_refs_in_its_region() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.repository IS NOT NULL AND NOT EXISTS
       (SELECT 1 FROM repository r WHERE r.id = NEW.repository AND r.region = NEW.region) THEN
    RAISE EXCEPTION 'new row for relation "task_definition" violates rule task_definition_repository_in_its_region'
      USING ERRCODE = 'foreign_key_violation', COLUMN = 'repository', TABLE = 'task_definition',
            CONSTRAINT = 'task_definition_repository_in_its_region',
            DETAIL = format('Repository %s is not in the task definition''s region %s.', NEW.repository, NEW.region),
            HINT = 'Use a repository of that region: its image URI names the region.';
  END IF;
  IF NEW.log_group IS NOT NULL AND NOT EXISTS
       (SELECT 1 FROM log_group g WHERE g.id = NEW.log_group AND g.region = NEW.region) THEN
    RAISE EXCEPTION 'new row for relation "task_definition" violates rule task_definition_log_group_in_its_region'
      USING ERRCODE = 'foreign_key_violation', COLUMN = 'log_group', TABLE = 'task_definition',
            CONSTRAINT = 'task_definition_log_group_in_its_region',
            DETAIL = format('Log group %s is not in the task definition''s region %s.', NEW.log_group, NEW.region),
            HINT = 'Use a log group of that region: awslogs writes to the task''s region.';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER task_definition_refs_in_its_region
  BEFORE INSERT OR UPDATE OF repository, log_group, region ON task_definition
  FOR EACH ROW EXECUTE FUNCTION task_definition_refs_in_its_region();

CREATE TABLE service (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  service_name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  cluster bigint NOT NULL,
  task_definition bigint NOT NULL,
  desired_count integer NOT NULL DEFAULT 1,
  launch_type text NOT NULL DEFAULT 'FARGATE',
  subnets bigint[] NOT NULL,
  security_groups bigint[] NOT NULL DEFAULT '{}',
  assign_public_ip text NOT NULL DEFAULT 'DISABLED',
  target_group bigint,
  container_name text,
  container_port integer,
  tags jsonb NOT NULL DEFAULT '{}',
  service_arn text,
  status text,
  CONSTRAINT service_name_unique_in_its_cluster UNIQUE (service_name, cluster),
  CONSTRAINT service_cluster_exists_in_its_region FOREIGN KEY (cluster, region)
    REFERENCES cluster (id, region),
  CONSTRAINT service_task_definition_exists_in_its_region FOREIGN KEY (task_definition, region)
    REFERENCES task_definition (id, region),
  CONSTRAINT service_name_up_to_255_alnum_hyphen_underscore
    CHECK (service_name ~ '^[A-Za-z0-9_-]{1,255}$'),
  CONSTRAINT service_desired_count_not_negative CHECK (desired_count >= 0),
  CONSTRAINT service_launch_type_fargate CHECK (launch_type = 'FARGATE'),
  CONSTRAINT service_subnets_1_to_16
    CHECK (cardinality(subnets) BETWEEN 1 AND 16 AND array_position(subnets, NULL) IS NULL),
  CONSTRAINT service_security_groups_up_to_5
    CHECK (cardinality(security_groups) <= 5 AND array_position(security_groups, NULL) IS NULL),
  CONSTRAINT service_assign_public_ip_enabled_or_disabled
    CHECK (assign_public_ip IN ('ENABLED', 'DISABLED')),
  CONSTRAINT service_target_group_exists_in_its_region FOREIGN KEY (target_group, region)
    REFERENCES target_group (id, region),
  -- a target group needs the container and port it sends to; an imported
  -- service may name them with a target group this database does not hold
  CONSTRAINT service_target_group_with_container_name_and_port
    CHECK ((container_name IS NULL) = (container_port IS NULL) AND
           (target_group IS NULL OR container_name IS NOT NULL)),
  CONSTRAINT service_container_port_1_to_65535 CHECK (container_port BETWEEN 1 AND 65535),
  CONSTRAINT service_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

-- subnets and security_groups are sets of row ids: sorted, each once, each
-- a row of its table in the service's region. PostgreSQL has no foreign
-- keys from array elements, so these triggers hold the reference both ways.
CREATE FUNCTION service_networks_valid() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  x bigint;
BEGIN
  NEW.subnets := ARRAY(SELECT DISTINCT v FROM unnest(NEW.subnets) v ORDER BY v);
  NEW.security_groups := ARRAY(SELECT DISTINCT v FROM unnest(NEW.security_groups) v ORDER BY v);
  FOREACH x IN ARRAY NEW.subnets LOOP
    IF NOT EXISTS (SELECT 1 FROM subnet s WHERE s.id = x AND s.region = NEW.region) THEN
      RAISE EXCEPTION 'new row for relation "service" violates rule service_subnets_are_subnets_of_its_region'
        USING ERRCODE = 'foreign_key_violation', COLUMN = 'subnets', TABLE = 'service',
              CONSTRAINT = 'service_subnets_are_subnets_of_its_region',
              DETAIL = format('subnets names %s, which is not a subnet row of region %s.', x, NEW.region),
              HINT = 'Name rows of table subnet by their id.';
    END IF;
  END LOOP;
  FOREACH x IN ARRAY NEW.security_groups LOOP
    IF NOT EXISTS (SELECT 1 FROM security_group g WHERE g.id = x AND g.region = NEW.region) THEN
      RAISE EXCEPTION 'new row for relation "service" violates rule service_security_groups_of_its_region'
        USING ERRCODE = 'foreign_key_violation', COLUMN = 'security_groups', TABLE = 'service',
              CONSTRAINT = 'service_security_groups_of_its_region',
              DETAIL = format('security_groups names %s, which is not a security_group row of region %s.', x, NEW.region),
              HINT = 'Name rows of table security_group by their id.';
    END IF;
  END LOOP;
  RETURN NEW;
END $$;
CREATE TRIGGER service_networks_valid BEFORE INSERT OR UPDATE OF subnets, security_groups, region
  ON service FOR EACH ROW EXECUTE FUNCTION service_networks_valid();

-- Fargate tasks (awsvpc) register in a target group by IP address, and the
-- container named must be one of the task definition's.
CREATE FUNCTION service_load_balancer_valid() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.target_group IS NULL OR NEW.container_name IS NULL THEN
    RETURN NEW; -- service_target_group_with_container_name_and_port says what is missing
  END IF;
  IF EXISTS (SELECT 1 FROM target_group g WHERE g.id = NEW.target_group AND g.target_type <> 'ip') THEN
    RAISE EXCEPTION 'new row for relation "service" violates rule service_target_group_of_type_ip'
      USING ERRCODE = 'check_violation', COLUMN = 'target_group', TABLE = 'service',
            CONSTRAINT = 'service_target_group_of_type_ip',
            DETAIL = format('Target group %s does not take targets by IP address.', NEW.target_group),
            HINT = 'Fargate tasks register by IP: use a target group of target_type ''ip''.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM task_definition t, jsonb_array_elements(t.containers) c
                  WHERE t.id = NEW.task_definition AND c ->> 'name' = NEW.container_name) THEN
    RAISE EXCEPTION 'new row for relation "service" violates rule service_container_name_of_its_task_definition'
      USING ERRCODE = 'check_violation', COLUMN = 'container_name', TABLE = 'service',
            CONSTRAINT = 'service_container_name_of_its_task_definition',
            DETAIL = format('Task definition %s has no container named %s.', NEW.task_definition, NEW.container_name),
            HINT = 'Name one of the task definition''s containers.';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER service_load_balancer_valid
  BEFORE INSERT OR UPDATE OF target_group, container_name, task_definition ON service
  FOR EACH ROW EXECUTE FUNCTION service_load_balancer_valid();

CREATE FUNCTION service_network_in_use() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  user_id bigint;
BEGIN
  SELECT s.id INTO user_id FROM service s
    WHERE (TG_TABLE_NAME = 'subnet' AND OLD.id = ANY (s.subnets))
       OR (TG_TABLE_NAME = 'security_group' AND OLD.id = ANY (s.security_groups)) LIMIT 1;
  IF user_id IS NOT NULL THEN
    RAISE EXCEPTION '% % is in use by service %', TG_TABLE_NAME, OLD.id, user_id
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME,
            CONSTRAINT = 'service_networks_in_use',
            DETAIL = format('Service %s runs its tasks there.', user_id),
            HINT = 'Take it out of that service''s subnets or security_groups first, or delete the service.';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER service_subnet_in_use BEFORE DELETE ON subnet
  FOR EACH ROW EXECUTE FUNCTION service_network_in_use();
CREATE TRIGGER service_security_group_in_use BEFORE DELETE ON security_group
  FOR EACH ROW EXECUTE FUNCTION service_network_in_use();

-- The engine adds its own tags at create: the limits count them (a task
-- definition also carries the create's token, being found by it).
CREATE TRIGGER cluster_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON cluster
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
CREATE TRIGGER task_definition_tags_max_48_plus_iasql_owner_and_token
  BEFORE INSERT OR UPDATE OF tags ON task_definition
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
CREATE TRIGGER service_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON service
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
