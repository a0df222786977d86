-- modules/aws_ecs_simplified/aws_ecs_simplified.sql — a container behind a
-- load balancer in one row. ecs_simplified is a view over the rows of the
-- modules it depends on, never a copy of them: an INSERT expands into a log
-- group, an execution role, two security groups and their rules, a target
-- group, a load balancer and its listener, an ECR repository (when no image
-- is named), a cluster, a task definition and a service, all in the
-- caller's transaction, so that one iasql_commit() brings them up; an
-- UPDATE changes the service (desired_count) or the task definition (the
-- image, cpu, memory, environment: a new revision); a DELETE removes them
-- all. Because the row is read from those tables, what iasql_rollback(N),
-- iasql_sync() or the poller writes there shows in it at once, and the load
-- balancer's DNS name appears when the commit writes it back.
--
-- The names it derives (APP is app_name; REGION the row's region):
--   cluster, service, task definition family, container, ECR repository   APP
--   load balancer APP-lb, target group APP-tg (32 characters at most)
--   security groups APP-lb (the listener's port) and APP-tasks (the container's)
--   log group /ecs/APP, execution role APP-ecs-exec-REGION (IAM is global)
-- A row of the view is a service whose cluster and task definition family
-- carry its name and whose load balancer is APP-lb.
--
-- The limits are those of every resource named: an app name of 2 to 29
-- lowercase letters, digits and hyphens (ECR's repository names, ELB's 32
-- characters with the suffix), the Fargate task sizes, ECR's image tags.

CREATE DOMAIN ecs_simplified_name AS text
  CONSTRAINT ecs_simplified_app_name_2_to_29_lowercase_alnum_or_hyphens
    CHECK (VALUE IS NOT NULL AND VALUE ~ '^[a-z][a-z0-9-]{0,27}[a-z0-9]$')
  CONSTRAINT ecs_simplified_app_name_not_internal
    CHECK (VALUE <> 'internal' AND VALUE NOT LIKE 'internal-%');

CREATE DOMAIN ecs_simplified_port AS integer
  CONSTRAINT ecs_simplified_container_port_1_to_65535
    CHECK (VALUE IS NOT NULL AND VALUE BETWEEN 1 AND 65535);

CREATE DOMAIN ecs_simplified_count AS integer
  CONSTRAINT ecs_simplified_desired_count_0_to_5000
    CHECK (VALUE IS NOT NULL AND VALUE BETWEEN 0 AND 5000);

CREATE DOMAIN ecs_simplified_cpu AS integer
  CONSTRAINT ecs_simplified_cpu_256_512_1024_2048_4096_8192_or_16384
    CHECK (VALUE IS NOT NULL AND VALUE IN (256, 512, 1024, 2048, 4096, 8192, 16384));

CREATE DOMAIN ecs_simplified_memory AS integer
  CONSTRAINT ecs_simplified_memory_512_to_122880_mib
    CHECK (VALUE IS NOT NULL AND VALUE BETWEEN 512 AND 122880);

-- An image as ECS takes it (up to 255 characters: letters, digits and
-- . _ / : @ -), without its tag when image_tag is set.
CREATE DOMAIN ecs_simplified_image AS text
  CONSTRAINT ecs_simplified_repository_uri_an_image_up_to_255_characters
    CHECK (VALUE ~ '^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$');

CREATE DOMAIN ecs_simplified_tag AS text
  CONSTRAINT ecs_simplified_image_tag_1_to_128_alnum_dot_underscore_hyphen
    CHECK (VALUE ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$');

CREATE FUNCTION ecs_simplified_environment_valid(env jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_typeof(env) = 'object' AND NOT EXISTS (
    SELECT 1 FROM jsonb_each(env) e
     WHERE jsonb_typeof(e.value) <> 'string' OR e.key = '')
$$;
CREATE DOMAIN ecs_simplified_environment AS jsonb
  CONSTRAINT ecs_simplified_environment_an_object_of_strings
    CHECK (VALUE IS NOT NULL AND ecs_simplified_environment_valid(VALUE));

-- The image of a container as its parts: the repository (or the whole
-- image when it names a digest) and the tag.
CREATE FUNCTION ecs_simplified_image_repository(image text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN image LIKE '%@%' THEN image ELSE regexp_replace(image, ':[^:/]+$', '') END
$$;
CREATE FUNCTION ecs_simplified_image_tag(image text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN image NOT LIKE '%@%' THEN substring(image FROM ':([^:/]+)$') END
$$;

-- Read with the caller's rights (security_invoker), as the tables under it
-- are, not the engine's, which owns it.
CREATE VIEW ecs_simplified WITH (security_invoker = true) AS
SELECT s.service_name::ecs_simplified_name AS app_name,
       s.region,
       (CASE WHEN td.repository IS NULL
             AND ecs_simplified_image_repository(td.containers -> 0 ->> 'image')
                 ~ '^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$'
             THEN ecs_simplified_image_repository(td.containers -> 0 ->> 'image')
             ELSE r.repository_uri END)::ecs_simplified_image AS repository_uri,
       (CASE WHEN td.repository IS NOT NULL THEN td.image_tag
             WHEN ecs_simplified_image_tag(td.containers -> 0 ->> 'image')
                  ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'
             THEN ecs_simplified_image_tag(td.containers -> 0 ->> 'image') END)::ecs_simplified_tag
         AS image_tag,
       (td.containers -> 0 -> 'portMappings' -> 0 ->> 'containerPort')::integer::ecs_simplified_port
         AS container_port,
       td.cpu::ecs_simplified_cpu AS cpu,
       td.memory::ecs_simplified_memory AS memory,
       s.desired_count::ecs_simplified_count AS desired_count,
       lb.scheme = 'internet-facing' AS public,
       coalesce((SELECT jsonb_object_agg(v ->> 'name', coalesce(v ->> 'value', ''))
                   FROM jsonb_array_elements(td.containers -> 0 -> 'environment') v
                  WHERE v ->> 'name' <> ''),
                '{}')::ecs_simplified_environment AS environment,
       lb.dns_name AS load_balancer_dns,
       s.service_arn,
       td.task_definition_arn
  FROM service s
  JOIN cluster c ON c.id = s.cluster AND c.cluster_name = s.service_name
  JOIN task_definition td ON td.id = s.task_definition AND td.family = s.service_name
  JOIN load_balancer lb ON lb.load_balancer_name = s.service_name || '-lb' AND lb.region = s.region
  LEFT JOIN repository r ON r.id = td.repository
 WHERE s.service_name ~ '^[a-z][a-z0-9-]{0,27}[a-z0-9]$'
   AND s.service_name <> 'internal' AND s.service_name NOT LIKE 'internal-%'
   AND jsonb_typeof(td.containers -> 0 -> 'portMappings' -> 0 -> 'containerPort') = 'number';

ALTER VIEW ecs_simplified ALTER COLUMN region SET DEFAULT default_aws_region();
ALTER VIEW ecs_simplified ALTER COLUMN cpu SET DEFAULT 256;
ALTER VIEW ecs_simplified ALTER COLUMN memory SET DEFAULT 512;
ALTER VIEW ecs_simplified ALTER COLUMN desired_count SET DEFAULT 1;
ALTER VIEW ecs_simplified ALTER COLUMN public SET DEFAULT true;
ALTER VIEW ecs_simplified ALTER COLUMN environment SET DEFAULT '{}';

-- The one container of an app's task definition, in ECS's shape (its
-- image is the repository's when the task definition names one).
CREATE FUNCTION ecs_simplified_containers(r ecs_simplified) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
    'name', r.app_name::text,
    'image', CASE WHEN r.repository_uri IS NOT NULL
                  THEN r.repository_uri::text || coalesce(':' || r.image_tag::text, '') END,
    'essential', true,
    'portMappings', jsonb_build_array(jsonb_build_object(
      'containerPort', r.container_port::integer, 'protocol', 'tcp')),
    'environment', (SELECT coalesce(jsonb_agg(jsonb_build_object('name', e.key, 'value', e.value)
                                              ORDER BY e.key), '[]')
                      FROM jsonb_each_text(r.environment) e))))
$$;

-- What every row must hold beyond its columns' own limits.
CREATE FUNCTION ecs_simplified_check(r ecs_simplified) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT ecs_fargate_size_valid(r.cpu, r.memory) THEN
    RAISE EXCEPTION 'ecs_simplified %: cpu % with memory % MiB is not a Fargate task size (ecs_simplified_cpu_memory_a_fargate_size)',
      r.app_name, r.cpu, r.memory
      USING ERRCODE = 'check_violation', TABLE = 'ecs_simplified',
            CONSTRAINT = 'ecs_simplified_cpu_memory_a_fargate_size',
            HINT = '256 CPU units take 512, 1024 or 2048 MiB; 512 take 1 to 4 GiB; 1024 take 2 to 8 GiB; 2048 take 4 to 16 GiB; 4096 take 8 to 30 GiB (in steps of 1 GiB).';
  END IF;
  IF r.image_tag IS NOT NULL AND (r.repository_uri LIKE '%@%'
                                  OR ecs_simplified_image_tag(r.repository_uri) IS NOT NULL) THEN
    RAISE EXCEPTION 'ecs_simplified %: image_tag % and the tag or digest in repository_uri % (ecs_simplified_one_image_tag)',
      r.app_name, r.image_tag, r.repository_uri
      USING ERRCODE = 'check_violation', TABLE = 'ecs_simplified',
            CONSTRAINT = 'ecs_simplified_one_image_tag',
            HINT = 'Name the tag in one of them.';
  END IF;
  IF r.public IS NULL THEN
    RAISE EXCEPTION 'ecs_simplified %: public is true or false (ecs_simplified_public_not_null)', r.app_name
      USING ERRCODE = 'not_null_violation', TABLE = 'ecs_simplified',
            CONSTRAINT = 'ecs_simplified_public_not_null';
  END IF;
END $$;

CREATE FUNCTION ecs_simplified_insert(r ecs_simplified) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  app text := r.app_name::text;
  vpc_row bigint;
  vpc_cidr cidr;
  subnets bigint[];
  lb_group bigint;
  task_group bigint;
  tg bigint;
  lb bigint;
  role bigint;
  logs bigint;
  repo bigint;
  clu bigint;
  td bigint;
BEGIN
  PERFORM ecs_simplified_check(r);
  IF EXISTS (SELECT 1 FROM ecs_simplified x WHERE x.app_name::text = app AND x.region = r.region)
     OR EXISTS (SELECT 1 FROM load_balancer l
                 WHERE l.load_balancer_name = app || '-lb' AND l.region = r.region)
     OR EXISTS (SELECT 1 FROM cluster c WHERE c.cluster_name = app AND c.region = r.region) THEN
    RAISE EXCEPTION 'ecs_simplified %: region % already has an app, a cluster or a load balancer of that name (ecs_simplified_app_name_unique_in_region)',
      app, r.region
      USING ERRCODE = 'unique_violation', TABLE = 'ecs_simplified',
            CONSTRAINT = 'ecs_simplified_app_name_unique_in_region',
            HINT = 'Choose another app_name.';
  END IF;
  SELECT v.id, v.cidr_block INTO vpc_row, vpc_cidr FROM vpc v
   WHERE v.is_default AND v.region = r.region ORDER BY v.id LIMIT 1;
  subnets := ARRAY(SELECT s.id FROM subnet s WHERE s.vpc = vpc_row AND s.default_for_az
                    ORDER BY s.availability_zone, s.id);
  IF cardinality(subnets) < 2 THEN
    RAISE EXCEPTION 'ecs_simplified %: region % has no default VPC with default subnets in two availability zones (ecs_simplified_needs_the_default_vpc)',
      app, r.region
      USING ERRCODE = 'check_violation', TABLE = 'ecs_simplified',
            CONSTRAINT = 'ecs_simplified_needs_the_default_vpc',
            DETAIL = 'The load balancer takes two subnets, one per zone; the service runs in the same ones.',
            HINT = 'iasql_sync() brings in the default VPC and its subnets if they exist; otherwise make them (EC2 CreateDefaultVpc) or use the aws_elb and aws_ecs_fargate tables.';
  END IF;

  INSERT INTO security_group (group_name, description, vpc, region)
  VALUES (app || '-lb', 'load balancer of ' || app, vpc_row, r.region) RETURNING id INTO lb_group;
  INSERT INTO security_group (group_name, description, vpc, region)
  VALUES (app || '-tasks', 'tasks of ' || app, vpc_row, r.region) RETURNING id INTO task_group;
  INSERT INTO security_group_rule (security_group, ip_protocol, from_port, to_port, cidr_ipv4,
                                   description, region)
  VALUES (lb_group, 'tcp', 80, 80, CASE WHEN r.public THEN '0.0.0.0/0'::cidr ELSE vpc_cidr END,
          'HTTP to the load balancer of ' || app, r.region);
  INSERT INTO security_group_rule (security_group, ip_protocol, from_port, to_port,
                                   source_security_group, description, region)
  VALUES (task_group, 'tcp', r.container_port, r.container_port, lb_group,
          'the load balancer to the containers of ' || app, r.region);

  INSERT INTO target_group (target_group_name, target_type, protocol, port, vpc, region)
  VALUES (app || '-tg', 'ip', 'HTTP', r.container_port, vpc_row, r.region) RETURNING id INTO tg;
  INSERT INTO load_balancer (load_balancer_name, load_balancer_type, scheme, subnets,
                             security_groups, region)
  VALUES (app || '-lb', 'application', CASE WHEN r.public THEN 'internet-facing' ELSE 'internal' END,
          subnets, ARRAY[lb_group], r.region) RETURNING id INTO lb;
  INSERT INTO listener (load_balancer, port, protocol, target_group, region)
  VALUES (lb, 80, 'HTTP', tg, r.region);

  INSERT INTO log_group (log_group_name, region) VALUES ('/ecs/' || app, r.region)
  RETURNING id INTO logs;
  INSERT INTO iam_role (role_name, description, assume_role_policy_document, attached_policy_arns)
  VALUES (app || '-ecs-exec-' || r.region, 'pulls the image and writes the logs of ' || app,
          '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}',
          ARRAY['arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy'])
  RETURNING id INTO role;
  IF r.repository_uri IS NULL THEN
    INSERT INTO repository (repository_name, region) VALUES (app, r.region) RETURNING id INTO repo;
  END IF;

  INSERT INTO cluster (cluster_name, region) VALUES (app, r.region) RETURNING id INTO clu;
  INSERT INTO task_definition (family, region, cpu, memory, execution_role, containers, repository,
                               image_tag, log_group, log_stream_prefix)
  VALUES (app, r.region, r.cpu, r.memory, role, ecs_simplified_containers(r), repo,
          CASE WHEN repo IS NOT NULL THEN coalesce(r.image_tag::text, 'latest') END, logs, app)
  RETURNING id INTO td;
  INSERT INTO service (service_name, region, cluster, task_definition, desired_count, subnets,
                       security_groups, assign_public_ip, target_group, container_name,
                       container_port)
  VALUES (app, r.region, clu, td, r.desired_count, subnets, ARRAY[task_group], 'ENABLED', tg, app,
          r.container_port);
END $$;

CREATE FUNCTION ecs_simplified_delete(r ecs_simplified) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  app text := r.app_name::text;
  td_row task_definition;
  lb bigint;
  groups bigint[];
BEGIN
  SELECT td.* INTO td_row FROM service s JOIN task_definition td ON td.id = s.task_definition
   WHERE s.service_name = app AND s.region = r.region
     AND s.cluster = (SELECT c.id FROM cluster c WHERE c.cluster_name = app AND c.region = r.region);
  DELETE FROM service s USING cluster c
   WHERE s.cluster = c.id AND c.cluster_name = app AND s.service_name = app AND s.region = r.region;
  DELETE FROM task_definition WHERE family = app AND region = r.region;
  DELETE FROM cluster WHERE cluster_name = app AND region = r.region;
  SELECT id INTO lb FROM load_balancer WHERE load_balancer_name = app || '-lb' AND region = r.region;
  DELETE FROM listener WHERE load_balancer = lb;
  DELETE FROM load_balancer WHERE id = lb;
  DELETE FROM target_group WHERE target_group_name = app || '-tg' AND region = r.region;
  groups := ARRAY(SELECT g.id FROM security_group g JOIN vpc v ON v.id = g.vpc
                   WHERE v.is_default AND g.region = r.region
                     AND g.group_name IN (app || '-lb', app || '-tasks'));
  DELETE FROM security_group_rule
   WHERE security_group = ANY (groups) OR source_security_group = ANY (groups);
  DELETE FROM security_group WHERE id = ANY (groups);
  DELETE FROM iam_role WHERE role_name = app || '-ecs-exec-' || r.region;
  DELETE FROM log_group WHERE log_group_name = '/ecs/' || app AND region = r.region;
  DELETE FROM repository WHERE id = td_row.repository AND repository_name = app;
END $$;

-- An UPDATE changes what runs: the count in place, the image, size or
-- environment as a new task definition revision (what the service then
-- runs). The name, region, port and exposure shape every other resource.
CREATE FUNCTION ecs_simplified_update(o ecs_simplified, n ecs_simplified) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  app text := o.app_name::text;
  svc service;
  td_row task_definition;
  repo bigint;
BEGIN
  IF n.app_name IS DISTINCT FROM o.app_name OR n.region IS DISTINCT FROM o.region
     OR n.container_port IS DISTINCT FROM o.container_port OR n.public IS DISTINCT FROM o.public THEN
    RAISE EXCEPTION 'ecs_simplified %: app_name, region, container_port and public cannot change (ecs_simplified_name_region_port_public_fixed)', app
      USING ERRCODE = 'check_violation', TABLE = 'ecs_simplified',
            CONSTRAINT = 'ecs_simplified_name_region_port_public_fixed',
            DETAIL = 'Every resource of the app is named after it and listens on that port.',
            HINT = 'Delete the row and insert the new one (one commit does both).';
  END IF;
  IF n.load_balancer_dns IS DISTINCT FROM o.load_balancer_dns
     OR n.service_arn IS DISTINCT FROM o.service_arn
     OR n.task_definition_arn IS DISTINCT FROM o.task_definition_arn THEN
    RAISE EXCEPTION 'ecs_simplified %: load_balancer_dns, service_arn and task_definition_arn are the cloud''s (ecs_simplified_cloud_columns_read_only)', app
      USING ERRCODE = 'check_violation', TABLE = 'ecs_simplified',
            CONSTRAINT = 'ecs_simplified_cloud_columns_read_only';
  END IF;
  PERFORM ecs_simplified_check(n);
  SELECT s.* INTO svc FROM service s JOIN cluster c ON c.id = s.cluster
   WHERE s.service_name = app AND c.cluster_name = app AND s.region = o.region;
  SELECT * INTO td_row FROM task_definition WHERE id = svc.task_definition;
  IF n.desired_count IS DISTINCT FROM o.desired_count THEN
    UPDATE service SET desired_count = n.desired_count WHERE id = svc.id;
  END IF;
  -- the image comes from the app's repository while repository_uri is
  -- the one it shows; naming another image leaves that repository as it is
  repo := CASE WHEN n.repository_uri IS NOT DISTINCT FROM o.repository_uri THEN td_row.repository END;
  IF repo IS NOT NULL THEN
    n.repository_uri := NULL;
  END IF;
  IF n.repository_uri IS DISTINCT FROM o.repository_uri OR n.image_tag IS DISTINCT FROM o.image_tag
     OR n.cpu IS DISTINCT FROM o.cpu OR n.memory IS DISTINCT FROM o.memory
     OR n.environment IS DISTINCT FROM o.environment THEN
    UPDATE task_definition
       SET cpu = n.cpu, memory = n.memory, containers = ecs_simplified_containers(n),
           repository = repo,
           image_tag = CASE WHEN repo IS NOT NULL THEN coalesce(n.image_tag::text, 'latest') END
     WHERE id = td_row.id;
  END IF;
END $$;

CREATE FUNCTION ecs_simplified_write() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM ecs_simplified_insert(NEW);
    RETURN NEW;
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM ecs_simplified_update(OLD, NEW);
    RETURN NEW;
  END IF;
  PERFORM ecs_simplified_delete(OLD);
  RETURN OLD;
END $$;
CREATE TRIGGER ecs_simplified_write INSTEAD OF INSERT OR UPDATE OR DELETE ON ecs_simplified
  FOR EACH ROW EXECUTE FUNCTION ecs_simplified_write();

GRANT SELECT, INSERT, UPDATE, DELETE ON ecs_simplified TO iasql_user;
