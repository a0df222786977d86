-- modules/aws_cloudwatch/aws_cloudwatch.sql — CloudWatch Logs log groups.
CREATE TABLE log_group (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  log_group_name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  retention_in_days integer,
  tags jsonb NOT NULL DEFAULT '{}',
  log_group_arn text,
  creation_time timestamptz,
  CONSTRAINT log_group_name_unique_in_region UNIQUE (log_group_name, region),
  CONSTRAINT log_group_name_1_to_512_characters CHECK (length(log_group_name) BETWEEN 1 AND 512),
  CONSTRAINT log_group_name_letters_digits_dot_underscore_slash_hash_hyphen
    CHECK (log_group_name ~ '^[._/#A-Za-z0-9-]+$'),
  CONSTRAINT log_group_retention_in_days_one_of_the_values_aws_allows
    CHECK (retention_in_days IS NULL OR retention_in_days IN
           (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
            2557, 2922, 3288, 3653)),
  CONSTRAINT log_group_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

-- The engine adds its own tags at create: the limit counts them.
CREATE TRIGGER log_group_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON log_group
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
