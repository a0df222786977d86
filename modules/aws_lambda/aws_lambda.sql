-- modules/aws_lambda/aws_lambda.sql — Lambda functions (zip packages) and
-- the permissions of their resource policies. The limits are AWS's
-- (CreateFunction, AddPermission and CreateFunctionUrlConfig in the
-- 2015-03-31 model). A function's code comes from an S3 object (s3_bucket,
-- s3_key, optionally s3_object_version) or inline as a base64 zip
-- (zip_b64), exactly one of the two. Lambda never gives code back, only its
-- hash: these columns are write-only (the cloud's code shows in
-- code_sha256), and zip_b64 travels as a secret column does
-- (docs/secrets.md): the row keeps a mask, the zip waits for the engine in
-- iasql_secret until the commit that sends it, so that megabytes of code
-- never sit in the row, the audit log or the journal. A function's role is
-- an aws_iam role row, its subnets and security groups sets of rows (as a
-- load balancer's are); an environment value is a string, or
-- {"secret": "<name>"} for a Secrets Manager secret of the function's
-- region, sent as the secret's ARN.

CREATE FUNCTION lambda_environment_valid(env jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_typeof(env) = 'object'
     AND NOT EXISTS (
       SELECT FROM jsonb_each(env) e
        WHERE e.key !~ '^[a-zA-Z][a-zA-Z0-9_]+$'
           OR e.key IN ('_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION',
                        'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
                        'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION',
                        'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME',
                        'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID',
                        'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_RUNTIME_API',
                        'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR')
           OR NOT (jsonb_typeof(e.value) = 'string'
                   OR (jsonb_typeof(e.value) = 'object'
                       AND (SELECT array_agg(k) FROM jsonb_object_keys(e.value) k) = '{secret}'
                       AND jsonb_typeof(e.value -> 'secret') = 'string'
                       AND e.value ->> 'secret' ~ '^[A-Za-z0-9/_+=.@-]+$'
                       AND length(e.value ->> 'secret') <= 512)))
     -- AWS: all keys and values together at most 4 KB (a secret's ARN counts
     -- about 90 bytes)
     AND (SELECT coalesce(sum(octet_length(e.key) +
                              CASE jsonb_typeof(e.value) WHEN 'string'
                                   THEN octet_length(e.value #>> '{}')
                                   ELSE 90 + octet_length(e.value ->> 'secret') END), 0)
            FROM jsonb_each(env) e) <= 4096
$$;

-- A function URL's CORS, in Lambda's own shape (Cors of
-- CreateFunctionUrlConfig).
CREATE FUNCTION lambda_url_cors_valid(c jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_typeof(c) = 'object'
     AND NOT EXISTS (
       SELECT FROM jsonb_each(c) e
        WHERE NOT CASE e.key
              WHEN 'AllowCredentials' THEN jsonb_typeof(e.value) = 'boolean'
              WHEN 'MaxAge' THEN jsonb_typeof(e.value) = 'number'
                                 AND (e.value #>> '{}')::numeric BETWEEN 0 AND 86400
                                 AND (e.value #>> '{}')::numeric % 1 = 0
              WHEN 'AllowMethods' THEN jsonb_typeof(e.value) = 'array'
                                       AND jsonb_array_length(e.value) <= 6
              WHEN 'AllowHeaders' THEN jsonb_typeof(e.value) = 'array'
                                       AND jsonb_array_length(e.value) <= 100
              WHEN 'AllowOrigins' THEN jsonb_typeof(e.value) = 'array'
                                       AND jsonb_array_length(e.value) <= 100
              WHEN 'ExposeHeaders' THEN jsonb_typeof(e.value) = 'array'
                                        AND jsonb_array_length(e.value) <= 100
              ELSE false END
           OR (jsonb_typeof(e.value) = 'array'
               AND EXISTS (SELECT FROM jsonb_array_elements(e.value) v
                            WHERE jsonb_typeof(v) <> 'string' OR length(v #>> '{}') > 1024)))
$$;

CREATE TABLE lambda_function (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  runtime text NOT NULL,
  handler text NOT NULL,
  role bigint NOT NULL,
  memory_size integer NOT NULL DEFAULT 128,
  timeout integer NOT NULL DEFAULT 3,
  description text,
  environment jsonb NOT NULL DEFAULT '{}',
  architecture text NOT NULL DEFAULT 'x86_64',
  subnets bigint[] NOT NULL DEFAULT '{}',
  security_groups bigint[] NOT NULL DEFAULT '{}',
  zip_b64 text,
  s3_bucket text,
  s3_key text,
  s3_object_version text,
  url_auth_type text,
  url_cors jsonb,
  tags jsonb NOT NULL DEFAULT '{}',
  arn text,
  version text,
  code_sha256 text,
  code_size bigint,
  state text,
  function_url text,
  CONSTRAINT lambda_function_role_exists FOREIGN KEY (role) REFERENCES iam_role (id),
  CONSTRAINT lambda_function_name_unique_in_region UNIQUE (name, region),
  CONSTRAINT lambda_function_row_and_region UNIQUE (id, region),
  CONSTRAINT lambda_function_name_1_to_64_letters_digits_hyphens_underscores
    CHECK (name ~ '^[A-Za-z0-9_-]{1,64}$'),
  CONSTRAINT lambda_function_runtime_one_lambda_names
    CHECK (runtime IN ('nodejs', 'nodejs4.3', 'nodejs6.10', 'nodejs8.10', 'nodejs10.x',
                       'nodejs12.x', 'nodejs14.x', 'nodejs16.x', 'java8', 'java8.al2', 'java11',
                       'python2.7', 'python3.6', 'python3.7', 'python3.8', 'python3.9',
                       'dotnetcore1.0', 'dotnetcore2.0', 'dotnetcore2.1', 'dotnetcore3.1',
                       'dotnet6', 'dotnet8', 'nodejs4.3-edge', 'go1.x', 'ruby2.5', 'ruby2.7',
                       'provided', 'provided.al2', 'nodejs18.x', 'python3.10', 'java17',
                       'ruby3.2', 'ruby3.3', 'ruby3.4', 'python3.11', 'nodejs20.x',
                       'provided.al2023', 'python3.12', 'java21', 'python3.13', 'nodejs22.x',
                       'nodejs24.x', 'python3.14', 'java25', 'dotnet10', 'ruby4.0')),
  CONSTRAINT lambda_function_handler_1_to_128_characters_no_whitespace
    CHECK (handler ~ '^\S{1,128}$'),
  CONSTRAINT lambda_function_memory_size_128_to_10240_mb
    CHECK (memory_size BETWEEN 128 AND 10240),
  CONSTRAINT lambda_function_timeout_1_to_900_seconds CHECK (timeout BETWEEN 1 AND 900),
  CONSTRAINT lambda_function_description_up_to_256_characters
    CHECK (description IS NULL OR length(description) <= 256),
  CONSTRAINT lambda_function_environment_strings_or_secrets_up_to_4_kb
    CHECK (lambda_environment_valid(environment)),
  CONSTRAINT lambda_function_architecture_x86_64_or_arm64
    CHECK (architecture IN ('x86_64', 'arm64')),
  CONSTRAINT lambda_function_up_to_16_subnets_and_5_security_groups_or_none
    CHECK (cardinality(subnets) <= 16 AND cardinality(security_groups) <= 5
           AND (cardinality(subnets) = 0) = (cardinality(security_groups) = 0)
           AND array_position(subnets, NULL) IS NULL
           AND array_position(security_groups, NULL) IS NULL),
  CONSTRAINT lambda_function_code_from_zip_b64_or_s3_one_of_the_two
    CHECK ((zip_b64 IS NULL) <> (s3_bucket IS NULL)),
  CONSTRAINT lambda_function_s3_key_with_s3_bucket
    CHECK ((s3_bucket IS NULL) = (s3_key IS NULL)
           AND (s3_object_version IS NULL OR s3_bucket IS NOT NULL)),
  CONSTRAINT lambda_function_s3_bucket_3_to_63_bucket_characters
    CHECK (s3_bucket IS NULL OR (s3_bucket ~ '^[0-9A-Za-z._-]{3,63}$' AND s3_bucket !~ '\.$')),
  CONSTRAINT lambda_function_s3_key_and_version_1_to_1024_characters
    CHECK ((s3_key IS NULL OR length(s3_key) BETWEEN 1 AND 1024)
           AND (s3_object_version IS NULL OR length(s3_object_version) BETWEEN 1 AND 1024)),
  CONSTRAINT lambda_function_url_auth_type_none_or_aws_iam
    CHECK (url_auth_type IS NULL OR url_auth_type IN ('NONE', 'AWS_IAM')),
  CONSTRAINT lambda_function_url_cors_with_a_url_in_lambdas_cors_shape
    CHECK (url_cors IS NULL OR (url_auth_type IS NOT NULL AND lambda_url_cors_valid(url_cors))),
  CONSTRAINT lambda_function_tags_up_to_50_strings_no_aws_or_iasql_keys
    CHECK (iasql_tags_valid(tags))
);

-- The zip goes to iasql_secret and the row keeps a fresh mask; its shape
-- is checked here, since a CHECK would only ever see the mask, and the
-- refusal never shows the zip. SECURITY DEFINER (iasql_secret is the
-- engine's alone), so it first checks that it fires on this module's own
-- table. A function made anew (a new name or region) needs its code again:
-- the engine never keeps a zip it has sent.
CREATE FUNCTION lambda_function_hide_code() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  zip bytea;
BEGIN
  PERFORM iasql_capture_check(TG_RELID);
  IF TG_OP = 'DELETE' THEN
    PERFORM iasql_secret_drop('lambda_function', OLD.id);
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' AND session_user::text <> 'iasql_engine'
     AND (NEW.name, NEW.region) IS DISTINCT FROM (OLD.name, OLD.region)
     AND iasql_is_mask(NEW.zip_b64) THEN
    RAISE EXCEPTION 'new row for relation "lambda_function" violates check constraint "%"',
                    'lambda_function_zip_b64_set_anew_with_a_new_name_or_region'
      USING ERRCODE = 'check_violation',
            CONSTRAINT = 'lambda_function_zip_b64_set_anew_with_a_new_name_or_region',
            DETAIL = format('Function %s: a new name or region makes a new function, and the '
                            'engine never keeps a zip it has sent.', NEW.name),
            HINT = 'Set zip_b64 (or s3_bucket and s3_key) in the same UPDATE.';
  END IF;
  IF NEW.zip_b64 IS NOT NULL AND NOT iasql_is_mask(NEW.zip_b64) THEN
    BEGIN
      zip := CASE WHEN length(NEW.zip_b64) <= 6990508 THEN decode(NEW.zip_b64, 'base64') END;
    EXCEPTION WHEN OTHERS THEN
      zip := NULL;
    END;
    IF zip IS NULL OR octet_length(zip) < 22 OR substr(zip, 1, 2) <> '\x504b'::bytea THEN
      RAISE EXCEPTION 'new row for relation "lambda_function" violates check constraint "%"',
                      'lambda_function_zip_b64_a_base64_zip_up_to_5_mib'
        USING ERRCODE = 'check_violation',
              CONSTRAINT = 'lambda_function_zip_b64_a_base64_zip_up_to_5_mib',
              DETAIL = format('Function %s: zip_b64 (%s characters) is not the base64 of a zip '
                              'archive of at most 5 MiB.', NEW.name, length(NEW.zip_b64)),
              HINT = 'Give the base64 of a .zip file; a larger package goes through S3 '
                     '(s3_bucket, s3_key).';
    END IF;
    NEW.zip_b64 := iasql_secret_put('lambda_function', NEW.id, 'zip_b64', NEW.zip_b64);
  END IF;
  RETURN NEW;
END $$;

REVOKE EXECUTE ON FUNCTION lambda_function_hide_code() FROM iasql_user;

CREATE TRIGGER lambda_function_hide_code BEFORE INSERT OR UPDATE OR DELETE ON lambda_function
FOR EACH ROW EXECUTE FUNCTION lambda_function_hide_code();

-- subnets and security_groups are sets: sorted, each once; the subnets in
-- the function's region and in one VPC, the security groups of that VPC.
-- PostgreSQL has no foreign keys from array elements, so these triggers
-- hold the references both ways. The engine's own writes pass: a restore
-- deletes rows before it updates the sets that named them, and a sync
-- writes what the cloud has.
CREATE FUNCTION lambda_function_sets_valid() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  g bigint;
  vpcs bigint[];
  checked boolean := session_user::text <> 'iasql_engine';
BEGIN
  NEW.subnets := ARRAY(SELECT DISTINCT x FROM unnest(NEW.subnets) x ORDER BY x);
  NEW.security_groups := ARRAY(SELECT DISTINCT x FROM unnest(NEW.security_groups) x ORDER BY x);
  -- the engine's writes, and sets the CHECK refuses anyway (one without the other)
  IF NOT checked OR (cardinality(NEW.subnets) = 0) <> (cardinality(NEW.security_groups) = 0) THEN
    RETURN NEW;
  END IF;
  FOREACH g IN ARRAY NEW.subnets LOOP
    IF NOT EXISTS (SELECT 1 FROM subnet s WHERE s.id = g AND s.region = NEW.region) THEN
      RAISE EXCEPTION 'lambda_function %: subnets names %, which is not a subnet of its region (lambda_function_subnets_exist_in_one_vpc)', NEW.name, g
        USING ERRCODE = 'foreign_key_violation', COLUMN = 'subnets', TABLE = 'lambda_function',
              CONSTRAINT = 'lambda_function_subnets_exist_in_one_vpc';
    END IF;
  END LOOP;
  SELECT array_agg(DISTINCT s.vpc) INTO vpcs FROM subnet s WHERE s.id = ANY (NEW.subnets);
  IF cardinality(vpcs) > 1 THEN
    RAISE EXCEPTION 'lambda_function %: its subnets are in more than one vpc (lambda_function_subnets_exist_in_one_vpc)', NEW.name
      USING ERRCODE = 'check_violation', COLUMN = 'subnets', TABLE = 'lambda_function',
            CONSTRAINT = 'lambda_function_subnets_exist_in_one_vpc',
            HINT = 'Name subnets of one VPC.';
  END IF;
  FOREACH g IN ARRAY NEW.security_groups LOOP
    IF NOT EXISTS (SELECT 1 FROM security_group s WHERE s.id = g AND s.vpc = vpcs[1]) THEN
      RAISE EXCEPTION 'lambda_function %: security_groups names %, which is not a security group of its subnets'' vpc (lambda_function_security_groups_of_its_vpc)', NEW.name, g
        USING ERRCODE = 'foreign_key_violation', COLUMN = 'security_groups',
              TABLE = 'lambda_function', CONSTRAINT = 'lambda_function_security_groups_of_its_vpc';
    END IF;
  END LOOP;
  RETURN NEW;
END $$;
CREATE TRIGGER lambda_function_sets_valid BEFORE INSERT OR UPDATE OF subnets, security_groups, region
  ON lambda_function FOR EACH ROW EXECUTE FUNCTION lambda_function_sets_valid();

CREATE FUNCTION lambda_function_uses_it() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  fn text;
  col text := TG_ARGV[0];
BEGIN
  EXECUTE format('SELECT name FROM lambda_function WHERE $1 = ANY (%I) LIMIT 1', col)
    INTO fn USING OLD.id;
  IF fn IS NOT NULL AND session_user::text <> 'iasql_engine' THEN
    RAISE EXCEPTION '% %: lambda_function % uses it (%); take it out of that function first (lambda_function_%_in_use)', TG_TABLE_NAME, OLD.id, fn, col, col
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME,
            CONSTRAINT = 'lambda_function_' || col || '_in_use';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER subnet_used_by_lambda_function BEFORE DELETE ON subnet
  FOR EACH ROW EXECUTE FUNCTION lambda_function_uses_it('subnets');
CREATE TRIGGER security_group_used_by_lambda_function BEFORE DELETE ON security_group
  FOR EACH ROW EXECUTE FUNCTION lambda_function_uses_it('security_groups');

-- The engine adds its own tag at create: the limit counts it.
CREATE TRIGGER lambda_function_tags_max_49_plus_iasql_owner
  BEFORE INSERT OR UPDATE OF tags ON lambda_function
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);

-- A statement of a function's resource policy (AddPermission). A function
-- is named by its name and region, which follow a renamed function; every
-- column is fixed once added (Lambda has no call to change a statement),
-- so a change replaces it. Statement ids beginning "iasql-" are the
-- engine's own (an aws_api_gateway route's permission to invoke its
-- function) and are not rows here.
CREATE TABLE lambda_permission (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  function_name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region(),
  statement_id text NOT NULL,
  action text NOT NULL DEFAULT 'lambda:InvokeFunction',
  principal text NOT NULL,
  source_arn text,
  source_account text,
  function_url_auth_type text,
  CONSTRAINT lambda_permission_function_exists_in_its_region FOREIGN KEY (function_name, region)
    REFERENCES lambda_function (name, region) ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT lambda_permission_statement_id_unique_per_function
    UNIQUE (function_name, region, statement_id),
  CONSTRAINT lambda_permission_statement_id_1_to_100_word_chars_not_iasql
    CHECK (statement_id ~ '^[A-Za-z0-9_-]{1,100}$' AND statement_id NOT LIKE 'iasql-%'),
  CONSTRAINT lambda_permission_action_lambda_action_or_wildcard
    CHECK (action ~ '^(lambda:[*]|lambda:[a-zA-Z]+|[*])$'),
  CONSTRAINT lambda_permission_principal_without_whitespace CHECK (principal ~ '^\S+$' AND length(principal) <= 256),
  CONSTRAINT lambda_permission_source_arn_an_arn
    CHECK (source_arn IS NULL OR
           source_arn ~ '^arn:aws[a-zA-Z0-9-]*:[a-zA-Z0-9-]+:([a-z]{2}(-gov)?-[a-z]+-[0-9])?:([0-9]{12})?:.+$'),
  CONSTRAINT lambda_permission_source_account_12_digits
    CHECK (source_account IS NULL OR source_account ~ '^[0-9]{12}$'),
  CONSTRAINT lambda_permission_function_url_auth_type_none_or_aws_iam
    CHECK (function_url_auth_type IS NULL OR function_url_auth_type IN ('NONE', 'AWS_IAM'))
);
