-- modules/aws_s3/aws_s3.sql — S3 buckets. The CHECK constraints carry the
-- names of the rules AWS applies to bucket names, so a refused INSERT says
-- which rule the name broke.
CREATE TABLE bucket (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  tags jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz,
  CONSTRAINT bucket_name_unique UNIQUE (name),
  CONSTRAINT bucket_name_3_to_63_characters CHECK (length(name) BETWEEN 3 AND 63),
  CONSTRAINT bucket_name_only_lowercase_letters_digits_dots_hyphens CHECK (name ~ '^[a-z0-9.-]+$'),
  CONSTRAINT bucket_name_starts_and_ends_with_letter_or_digit CHECK (name ~ '^[a-z0-9](.*[a-z0-9])?$'),
  CONSTRAINT bucket_name_no_two_adjacent_dots CHECK (strpos(name, '..') = 0),
  CONSTRAINT bucket_name_not_an_ip_address CHECK (name !~ '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$'),
  CONSTRAINT bucket_name_no_reserved_prefix CHECK (name !~ '^(xn--|sthree-|amzn-s3-demo-)'),
  CONSTRAINT bucket_name_no_reserved_suffix CHECK (name !~ '(-s3alias|--ol-s3|--x-s3|\.mrap)$'),
  CONSTRAINT bucket_tags_object_of_up_to_50_strings_no_aws_prefix CHECK (iasql_tags_valid(tags))
);
