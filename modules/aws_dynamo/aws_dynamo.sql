-- modules/aws_dynamo/aws_dynamo.sql — DynamoDB tables. The key schema cannot
-- change (a change is a replace); billing mode, throughput and table class
-- can.
CREATE TABLE dynamo_table (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  table_name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  hash_key text NOT NULL,
  hash_key_type text NOT NULL DEFAULT 'S',
  range_key text,
  range_key_type text,
  billing_mode text NOT NULL DEFAULT 'PAY_PER_REQUEST',
  read_capacity_units integer,
  write_capacity_units integer,
  table_class text NOT NULL DEFAULT 'STANDARD',
  table_arn text,
  table_id text,
  created_at timestamptz,
  CONSTRAINT dynamo_table_name_unique_in_region UNIQUE (table_name, region),
  CONSTRAINT dynamo_table_name_3_to_255_letters_digits_underscore_hyphen_dot
    CHECK (table_name ~ '^[A-Za-z0-9_.-]{3,255}$'),
  CONSTRAINT dynamo_table_key_names_1_to_255_characters
    CHECK (length(hash_key) BETWEEN 1 AND 255 AND coalesce(length(range_key), 1) BETWEEN 1 AND 255),
  CONSTRAINT dynamo_table_key_types_s_n_or_b
    CHECK (hash_key_type IN ('S', 'N', 'B') AND coalesce(range_key_type, 'S') IN ('S', 'N', 'B')),
  CONSTRAINT dynamo_table_range_key_and_type_together
    CHECK ((range_key IS NULL) = (range_key_type IS NULL) AND range_key IS DISTINCT FROM hash_key),
  CONSTRAINT dynamo_table_billing_mode_pay_per_request_or_provisioned
    CHECK (billing_mode IN ('PAY_PER_REQUEST', 'PROVISIONED')),
  CONSTRAINT dynamo_table_capacity_at_least_1_and_only_when_provisioned
    CHECK (CASE billing_mode
             WHEN 'PROVISIONED' THEN coalesce(read_capacity_units, 0) >= 1
                                 AND coalesce(write_capacity_units, 0) >= 1
             ELSE read_capacity_units IS NULL AND write_capacity_units IS NULL END),
  CONSTRAINT dynamo_table_class_standard_or_standard_infrequent_access
    CHECK (table_class IN ('STANDARD', 'STANDARD_INFREQUENT_ACCESS'))
);
