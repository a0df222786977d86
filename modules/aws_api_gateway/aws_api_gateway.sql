-- modules/aws_api_gateway/aws_api_gateway.sql — HTTP APIs of API Gateway v2
-- and their routes to aws_lambda functions. The limits are AWS's (CreateApi,
-- CreateRoute in the 2018-11-29 model; route keys as the developer guide
-- gives them). An API's id and endpoint are written back; a route names its
-- API and its function by row id, and its route and integration ids are
-- written back.

-- CORS in API Gateway's own shape (Cors of CreateApi).
CREATE FUNCTION api_cors_configuration_valid(c jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_typeof(c) = 'object'
     AND NOT EXISTS (
       SELECT FROM jsonb_each(c) e
        WHERE NOT CASE e.key
              WHEN 'allowCredentials' THEN jsonb_typeof(e.value) = 'boolean'
              WHEN 'maxAge' THEN jsonb_typeof(e.value) = 'number'
                                 AND (e.value #>> '{}')::numeric BETWEEN -1 AND 86400
                                 AND (e.value #>> '{}')::numeric % 1 = 0
              WHEN 'allowMethods' THEN jsonb_typeof(e.value) = 'array'
              WHEN 'allowHeaders' THEN jsonb_typeof(e.value) = 'array'
              WHEN 'allowOrigins' THEN jsonb_typeof(e.value) = 'array'
              WHEN 'exposeHeaders' THEN jsonb_typeof(e.value) = 'array'
              ELSE false END
           OR (jsonb_typeof(e.value) = 'array'
               AND EXISTS (SELECT FROM jsonb_array_elements(e.value) v
                            WHERE jsonb_typeof(v) <> 'string' OR length(v #>> '{}') NOT BETWEEN 1 AND 1024)))
$$;

CREATE TABLE api (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  api_id text,
  name text NOT NULL,
  description text,
  protocol_type text NOT NULL DEFAULT 'HTTP',
  version text,
  disable_execute_api_endpoint boolean NOT NULL DEFAULT false,
  cors_configuration jsonb,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  tags jsonb NOT NULL DEFAULT '{}',
  api_endpoint text,
  CONSTRAINT api_id_unique UNIQUE (api_id),
  CONSTRAINT api_row_and_region UNIQUE (id, region),
  CONSTRAINT api_name_1_to_128_characters CHECK (length(name) BETWEEN 1 AND 128),
  CONSTRAINT api_description_up_to_1024_characters
    CHECK (description IS NULL OR length(description) <= 1024),
  CONSTRAINT api_protocol_type_http CHECK (protocol_type = 'HTTP'),
  CONSTRAINT api_version_1_to_64_characters
    CHECK (version IS NULL OR length(version) BETWEEN 1 AND 64),
  CONSTRAINT api_cors_configuration_in_api_gateways_cors_shape
    CHECK (cors_configuration IS NULL OR api_cors_configuration_valid(cors_configuration)),
  CONSTRAINT api_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

-- The engine adds its own tags at create (its owner and the create's
-- token): the limit counts them.
CREATE TRIGGER api_tags_max_48_plus_iasql_owner_and_token BEFORE INSERT OR UPDATE OF tags ON api
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);

-- A route key is "$default" or an HTTP method (or ANY) and a path.
CREATE TABLE api_route (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  route_id text,
  api bigint NOT NULL,
  route_key text NOT NULL,
  lambda_function bigint NOT NULL,
  region text NOT NULL DEFAULT default_aws_region(),
  integration_id text,
  CONSTRAINT api_route_api_exists_in_its_region FOREIGN KEY (api, region)
    REFERENCES api (id, region) ON DELETE CASCADE,
  CONSTRAINT api_route_lambda_function_exists_in_its_region FOREIGN KEY (lambda_function, region)
    REFERENCES lambda_function (id, region) ON DELETE CASCADE,
  CONSTRAINT api_route_route_id_unique UNIQUE (route_id),
  CONSTRAINT api_route_route_key_unique_in_its_api UNIQUE (api, route_key),
  CONSTRAINT api_route_route_key_default_or_method_and_path
    CHECK (route_key = '$default' OR
           route_key ~ '^(ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /[^\s]{0,253}$')
);
