-- modules/aws_sns/aws_sns.sql — SNS topics and their subscriptions. A
-- subscription names its topic by (name, region): the engine turns that
-- into the topic's ARN when it applies. A FIFO topic's name ends in .fifo
-- and only a FIFO topic's does, so a topic is only ever replaced under a
-- new name, which the subscriptions follow (ON UPDATE CASCADE).
CREATE TABLE topic (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  fifo_topic boolean NOT NULL DEFAULT false,
  content_based_deduplication boolean NOT NULL DEFAULT false,
  display_name text,
  policy jsonb,
  tags jsonb NOT NULL DEFAULT '{}',
  arn text,
  CONSTRAINT topic_name_unique_in_region UNIQUE (name, region),
  CONSTRAINT topic_name_1_to_256_letters_digits_hyphens_underscores_fifo
    CHECK (length(name) BETWEEN 1 AND 256 AND name ~ '^[A-Za-z0-9_-]+(\.fifo)?$'),
  CONSTRAINT topic_name_ends_in_fifo_if_and_only_if_fifo_topic
    CHECK ((name ~ '\.fifo$') = fifo_topic),
  CONSTRAINT topic_content_based_deduplication_only_for_fifo
    CHECK (fifo_topic OR NOT content_based_deduplication),
  CONSTRAINT topic_display_name_up_to_100_characters
    CHECK (display_name IS NULL OR length(display_name) <= 100),
  CONSTRAINT topic_policy_is_a_json_object
    CHECK (policy IS NULL OR jsonb_typeof(policy) = 'object'),
  CONSTRAINT topic_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

CREATE TABLE subscription (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  topic text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region(),
  protocol text NOT NULL,
  endpoint text NOT NULL,
  raw_message_delivery boolean NOT NULL DEFAULT false,
  filter_policy jsonb,
  arn text,
  CONSTRAINT subscription_topic_exists FOREIGN KEY (topic, region)
    REFERENCES topic (name, region) ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT subscription_unique_per_topic_protocol_endpoint
    UNIQUE (topic, region, protocol, endpoint),
  CONSTRAINT subscription_protocol_one_sns_supports
    CHECK (protocol IN ('sqs', 'lambda', 'firehose', 'http', 'https', 'email', 'email-json',
                        'sms', 'application')),
  CONSTRAINT subscription_sqs_endpoint_is_a_queue_arn
    CHECK (protocol <> 'sqs' OR
           endpoint ~ '^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$'),
  CONSTRAINT subscription_http_endpoint_is_a_url_of_its_scheme
    CHECK (protocol NOT IN ('http', 'https') OR endpoint LIKE protocol || '://%'),
  CONSTRAINT subscription_email_endpoint_is_an_address
    CHECK (protocol NOT IN ('email', 'email-json') OR endpoint ~ '^[^@\s]+@[^@\s]+$'),
  CONSTRAINT subscription_filter_policy_is_a_json_object
    CHECK (filter_policy IS NULL OR jsonb_typeof(filter_policy) = 'object'),
  CONSTRAINT subscription_raw_message_delivery_not_for_email_or_sms
    CHECK (NOT raw_message_delivery OR protocol NOT IN ('email', 'email-json', 'sms'))
);

-- The engine adds its own tags at create: the limit counts them.
CREATE TRIGGER topic_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON topic
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
