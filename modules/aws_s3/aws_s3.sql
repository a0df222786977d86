-- modules/aws_s3/aws_s3.sql — S3 buckets. The CHECK constraints carry the
-- names of the rules AWS applies to bucket names, so a refused INSERT says
-- which rule the name broke.
-- A public access block as S3 has it: exactly its four flags, each a boolean.
CREATE FUNCTION s3_public_access_block_valid(p jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_typeof(p) = 'object'
     AND (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(p) k)
         = ARRAY['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets']
     AND (SELECT bool_and(jsonb_typeof(v) = 'boolean') FROM jsonb_each(p) AS e(k, v))
$$;

CREATE TABLE bucket (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  tags jsonb NOT NULL DEFAULT '{}',
  policy jsonb,
  versioning text NOT NULL DEFAULT 'Disabled',
  public_access_block jsonb,
  created_at timestamptz,
  CONSTRAINT bucket_name_unique UNIQUE (name),
  CONSTRAINT bucket_name_3_to_63_characters CHECK (length(name) BETWEEN 3 AND 63),
  CONSTRAINT bucket_name_only_lowercase_letters_digits_dots_hyphens CHECK (name ~ '^[a-z0-9.-]+$'),
  CONSTRAINT bucket_name_starts_and_ends_with_letter_or_digit CHECK (name ~ '^[a-z0-9](.*[a-z0-9])?$'),
  CONSTRAINT bucket_name_no_two_adjacent_dots CHECK (strpos(name, '..') = 0),
  CONSTRAINT bucket_name_not_an_ip_address CHECK (name !~ '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$'),
  CONSTRAINT bucket_name_no_reserved_prefix CHECK (name !~ '^(xn--|sthree-|amzn-s3-demo-)'),
  CONSTRAINT bucket_name_no_reserved_suffix CHECK (name !~ '(-s3alias|--ol-s3|--x-s3|\.mrap)$'),
  CONSTRAINT bucket_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags)),
  CONSTRAINT bucket_policy_an_object_with_statement
    CHECK (policy IS NULL OR (jsonb_typeof(policy) = 'object' AND policy ? 'Statement')),
  CONSTRAINT bucket_versioning_disabled_enabled_or_suspended
    CHECK (versioning IN ('Disabled', 'Enabled', 'Suspended')),
  CONSTRAINT bucket_public_access_block_the_four_aws_flags_as_booleans
    CHECK (public_access_block IS NULL OR s3_public_access_block_valid(public_access_block))
);

-- The engine adds its own tags at create: the limit counts them.
CREATE TRIGGER bucket_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON bucket
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
