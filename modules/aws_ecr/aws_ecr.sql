-- modules/aws_ecr/aws_ecr.sql — ECR private repositories. The limits are
-- AWS's (CreateRepository's model): a name of 2 to 256 characters of
-- lower-case letters, digits and ._-/ in segments; encryption fixed at
-- creation, so a change of it replaces the repository.
CREATE TABLE repository (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  repository_name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  image_tag_mutability text NOT NULL DEFAULT 'MUTABLE',
  scan_on_push boolean NOT NULL DEFAULT false,
  encryption_type text NOT NULL DEFAULT 'AES256',
  kms_key text,
  lifecycle_policy jsonb,
  repository_policy jsonb,
  tags jsonb NOT NULL DEFAULT '{}',
  repository_uri text,
  repository_arn text,
  registry_id text,
  created_at timestamptz,
  CONSTRAINT repository_name_unique_in_region UNIQUE (repository_name, region),
  CONSTRAINT repository_name_2_to_256_lowercase_segments
    CHECK (length(repository_name) BETWEEN 2 AND 256 AND
           repository_name ~ '^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$'),
  CONSTRAINT repository_image_tag_mutability_mutable_or_immutable
    CHECK (image_tag_mutability IN ('MUTABLE', 'IMMUTABLE')),
  CONSTRAINT repository_encryption_type_aes256_kms_or_kms_dsse
    CHECK (encryption_type IN ('AES256', 'KMS', 'KMS_DSSE')),
  CONSTRAINT repository_kms_key_only_with_kms_encryption
    CHECK (kms_key IS NULL OR (encryption_type <> 'AES256' AND length(kms_key) BETWEEN 1 AND 2048)),
  CONSTRAINT repository_lifecycle_policy_an_object_with_rules
    CHECK (lifecycle_policy IS NULL OR
           (jsonb_typeof(lifecycle_policy) = 'object' AND
            jsonb_typeof(lifecycle_policy -> 'rules') = 'array')),
  CONSTRAINT repository_policy_an_object_with_statement
    CHECK (repository_policy IS NULL OR
           (jsonb_typeof(repository_policy) = 'object' AND repository_policy ? 'Statement')),
  CONSTRAINT repository_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

-- The engine adds its own tag at create: the limit counts it.
CREATE TRIGGER repository_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON repository
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
