-- modules/aws_sqs/aws_sqs.sql — SQS queues. The limits are AWS's; a FIFO
-- queue's name ends in .fifo and only a FIFO queue's does.
CREATE TABLE queue (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  fifo_queue boolean NOT NULL DEFAULT false,
  visibility_timeout integer NOT NULL DEFAULT 30,
  delay_seconds integer NOT NULL DEFAULT 0,
  receive_message_wait_time_seconds integer NOT NULL DEFAULT 0,
  message_retention_period integer NOT NULL DEFAULT 345600,
  maximum_message_size integer NOT NULL DEFAULT 262144,
  tags jsonb NOT NULL DEFAULT '{}',
  url text,
  arn text,
  CONSTRAINT queue_name_unique_in_region UNIQUE (name, region),
  CONSTRAINT queue_name_1_to_80_letters_digits_hyphens_underscores_fifo
    CHECK (length(name) BETWEEN 1 AND 80 AND name ~ '^[A-Za-z0-9_-]+(\.fifo)?$'),
  CONSTRAINT queue_name_ends_in_fifo_if_and_only_if_fifo_queue
    CHECK ((name ~ '\.fifo$') = fifo_queue),
  CONSTRAINT queue_visibility_timeout_0_to_43200 CHECK (visibility_timeout BETWEEN 0 AND 43200),
  CONSTRAINT queue_delay_seconds_0_to_900 CHECK (delay_seconds BETWEEN 0 AND 900),
  CONSTRAINT queue_receive_message_wait_time_seconds_0_to_20
    CHECK (receive_message_wait_time_seconds BETWEEN 0 AND 20),
  CONSTRAINT queue_message_retention_period_60_to_1209600
    CHECK (message_retention_period BETWEEN 60 AND 1209600),
  CONSTRAINT queue_maximum_message_size_1024_to_1048576
    CHECK (maximum_message_size BETWEEN 1024 AND 1048576),
  CONSTRAINT queue_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

-- The engine adds its own tags at create: the limit counts them.
CREATE TRIGGER queue_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON queue
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
