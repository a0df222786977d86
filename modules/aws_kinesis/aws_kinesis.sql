-- modules/aws_kinesis/aws_kinesis.sql — Kinesis data streams, provisioned
-- (with a shard count) or on-demand (without one).
CREATE TABLE kinesis_stream (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  stream_name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  stream_mode text NOT NULL DEFAULT 'PROVISIONED',
  shard_count integer DEFAULT 1,
  stream_arn text,
  created_at timestamptz,
  CONSTRAINT kinesis_stream_name_unique_in_region UNIQUE (stream_name, region),
  CONSTRAINT kinesis_stream_name_1_to_128_letters_digits_dot_dash_underscore
    CHECK (stream_name ~ '^[A-Za-z0-9_.-]{1,128}$'),
  CONSTRAINT kinesis_stream_mode_provisioned_or_on_demand
    CHECK (stream_mode IN ('PROVISIONED', 'ON_DEMAND')),
  CONSTRAINT kinesis_stream_shard_count_1_to_500_only_when_provisioned
    CHECK (CASE stream_mode WHEN 'PROVISIONED' THEN coalesce(shard_count, 0) BETWEEN 1 AND 500
                            ELSE shard_count IS NULL END)
);
