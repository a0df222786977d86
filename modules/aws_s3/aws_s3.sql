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

-- Helpers for the rule checks below. None of them raises on a value of the
-- wrong type: a CHECK that raised would hide the name of the rule broken.
-- The elements of a, or none when a is not an array.
CREATE FUNCTION s3_elements(a jsonb) RETURNS SETOF jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT x FROM jsonb_array_elements(CASE WHEN jsonb_typeof(a) = 'array' THEN a ELSE '[]' END) x
$$;

-- The objects among the elements of rules: what a check of each rule
-- looks at (that every rule is an object is the shape's check).
CREATE FUNCTION s3_objects(rules jsonb) RETURNS SETOF jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT x FROM s3_elements(rules) x WHERE jsonb_typeof(x) = 'object'
$$;

-- An object whose keys are all among allowed.
CREATE FUNCTION s3_keys_within(o jsonb, allowed text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(o) = 'object'
    THEN NOT EXISTS (SELECT 1 FROM jsonb_object_keys(o) k WHERE NOT k = ANY (allowed))
    ELSE false END
$$;

-- How many of keys the object o has (0 for anything else).
CREATE FUNCTION s3_keys_among(o jsonb, keys text[]) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(o) = 'object'
    THEN (SELECT count(*)::integer FROM unnest(keys) k WHERE o ? k) ELSE 0 END
$$;

-- A whole number of at least lo (and at most hi).
CREATE FUNCTION s3_int_between(v jsonb, lo numeric, hi numeric) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(v) = 'number'
    THEN v::numeric BETWEEN lo AND hi AND v::numeric = trunc(v::numeric) ELSE false END
$$;

-- A non-empty array.
CREATE FUNCTION s3_nonempty_array(a jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(a) = 'array' THEN jsonb_array_length(a) > 0 ELSE false END
$$;

-- A non-empty array of strings, each with at most max_stars '*'.
CREATE FUNCTION s3_strings(a jsonb, max_stars integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN s3_nonempty_array(a)
    THEN NOT EXISTS (SELECT 1 FROM jsonb_array_elements(a) x
                      WHERE jsonb_typeof(x) <> 'string'
                         OR length(x #>> '{}') - length(replace(x #>> '{}', '*', '')) > max_stars)
    ELSE false END
$$;

-- An object of strings.
CREATE FUNCTION s3_string_values(o jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(o) = 'object'
    THEN NOT EXISTS (SELECT 1 FROM jsonb_each(o) e WHERE jsonb_typeof(e.value) <> 'string')
    ELSE false END
$$;

-- A lifecycle date: a day, as S3 wants them (midnight UTC).
CREATE FUNCTION s3_day(v jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_typeof(v) = 'string' AND (v #>> '{}') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
                  false)
$$;

-- An object tag: {"Key": k, "Value": v}.
CREATE FUNCTION s3_tag_valid(t jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(s3_keys_within(t, ARRAY['Key', 'Value']) AND jsonb_typeof(t->'Key') = 'string'
                  AND jsonb_typeof(t->'Value') = 'string' AND length(t->>'Key') BETWEEN 1 AND 128,
                  false)
$$;

CREATE FUNCTION s3_storage_class(v jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_typeof(v) = 'string' AND (v #>> '{}') IN
    ('GLACIER', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'DEEP_ARCHIVE', 'GLACIER_IR'),
    false)
$$;

-- Lifecycle rules, as the SDKs' LifecycleRule has them: an array of at
-- most 1000 objects of its members (the deprecated rule-level "Prefix" is
-- not one: a filter says it).
CREATE FUNCTION s3_lifecycle_shape(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(r) = 'array'
    THEN jsonb_array_length(r) <= 1000 AND NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(r) x
       WHERE NOT s3_keys_within(x, ARRAY['ID', 'Status', 'Filter', 'Expiration', 'Transitions',
                                         'NoncurrentVersionTransitions',
                                         'NoncurrentVersionExpiration',
                                         'AbortIncompleteMultipartUpload']))
    ELSE false END
$$;

-- Each rule names itself (S3 would make up an ID for one that does not,
-- which would then show as a change), uniquely.
CREATE FUNCTION s3_lifecycle_ids(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT EXISTS (SELECT 1 FROM s3_objects(r) x
                      WHERE jsonb_typeof(x->'ID') IS DISTINCT FROM 'string'
                         OR length(x->>'ID') NOT BETWEEN 1 AND 255)
     AND (SELECT count(*) = count(DISTINCT x->>'ID') FROM s3_objects(r) x)
$$;

CREATE FUNCTION s3_lifecycle_statuses(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT EXISTS (SELECT 1 FROM s3_objects(r) x
                      WHERE jsonb_typeof(x->'Status') IS DISTINCT FROM 'string'
                         OR x->>'Status' NOT IN ('Enabled', 'Disabled'))
$$;

CREATE FUNCTION s3_lifecycle_actions(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT EXISTS (SELECT 1 FROM s3_objects(r) x
                      WHERE s3_keys_among(x, ARRAY['Expiration', 'Transitions',
                                                   'NoncurrentVersionTransitions',
                                                   'NoncurrentVersionExpiration',
                                                   'AbortIncompleteMultipartUpload']) = 0)
$$;

-- A filter: exactly one of a prefix (not empty: a rule without a filter
-- takes the whole bucket), a tag, a size bound, or an "And" of them.
CREATE FUNCTION s3_lifecycle_filter(f jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN s3_keys_within(f, ARRAY['Prefix', 'Tag', 'ObjectSizeGreaterThan',
                                           'ObjectSizeLessThan', 'And'])
    THEN coalesce((SELECT count(*) = 1 FROM jsonb_object_keys(f))
     AND (NOT f ? 'Prefix' OR (jsonb_typeof(f->'Prefix') = 'string' AND f->>'Prefix' <> ''))
     AND (NOT f ? 'Tag' OR s3_tag_valid(f->'Tag'))
     AND (NOT f ? 'ObjectSizeGreaterThan' OR s3_int_between(f->'ObjectSizeGreaterThan', 0, 1e18))
     AND (NOT f ? 'ObjectSizeLessThan' OR s3_int_between(f->'ObjectSizeLessThan', 1, 1e18))
     AND (NOT f ? 'And' OR (
           s3_keys_within(f->'And', ARRAY['Prefix', 'Tags', 'ObjectSizeGreaterThan',
                                          'ObjectSizeLessThan'])
       AND s3_keys_among(f->'And', ARRAY['Prefix', 'Tags', 'ObjectSizeGreaterThan',
                                         'ObjectSizeLessThan']) > 0
       AND (NOT f->'And' ? 'Prefix' OR jsonb_typeof(f->'And'->'Prefix') = 'string')
       AND (NOT f->'And' ? 'Tags' OR (s3_nonempty_array(f->'And'->'Tags')
            AND NOT EXISTS (SELECT 1 FROM s3_elements(f->'And'->'Tags') t
                             WHERE NOT s3_tag_valid(t))))
       AND (NOT f->'And' ? 'ObjectSizeGreaterThan'
            OR s3_int_between(f->'And'->'ObjectSizeGreaterThan', 0, 1e18))
       AND (NOT f->'And' ? 'ObjectSizeLessThan'
            OR s3_int_between(f->'And'->'ObjectSizeLessThan', 1, 1e18)))), false)
    ELSE false END
$$;

CREATE FUNCTION s3_lifecycle_filters(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT EXISTS (SELECT 1 FROM s3_objects(r) x
                      WHERE x ? 'Filter' AND NOT s3_lifecycle_filter(x->'Filter'))
$$;

-- Expiration: exactly one of Days (at least 1), Date (a day) or
-- ExpiredObjectDeleteMarker (a boolean).
CREATE FUNCTION s3_lifecycle_expirations(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT EXISTS (
    SELECT 1 FROM s3_objects(r) x
     WHERE x ? 'Expiration' AND NOT (
           s3_keys_within(x->'Expiration', ARRAY['Days', 'Date', 'ExpiredObjectDeleteMarker'])
       AND s3_keys_among(x->'Expiration', ARRAY['Days', 'Date', 'ExpiredObjectDeleteMarker']) = 1
       AND (NOT x->'Expiration' ? 'Days' OR s3_int_between(x->'Expiration'->'Days', 1, 1e9))
       AND (NOT x->'Expiration' ? 'Date' OR s3_day(x->'Expiration'->'Date'))
       AND (NOT x->'Expiration' ? 'ExpiredObjectDeleteMarker'
            OR jsonb_typeof(x->'Expiration'->'ExpiredObjectDeleteMarker') = 'boolean')))
$$;

-- Transitions: a non-empty list, each Days (0 or more) or Date, and a
-- storage class S3 transitions to.
CREATE FUNCTION s3_lifecycle_transitions(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT EXISTS (
    SELECT 1 FROM s3_objects(r) x
     WHERE x ? 'Transitions' AND NOT (
           s3_nonempty_array(x->'Transitions')
       AND NOT EXISTS (
             SELECT 1 FROM s3_elements(x->'Transitions') t
              WHERE NOT (s3_keys_within(t, ARRAY['Days', 'Date', 'StorageClass'])
                     AND s3_keys_among(t, ARRAY['Days', 'Date']) = 1
                     AND (NOT t ? 'Days' OR s3_int_between(t->'Days', 0, 1e9))
                     AND (NOT t ? 'Date' OR s3_day(t->'Date'))
                     AND s3_storage_class(t->'StorageClass')))))
$$;

-- What happens to noncurrent versions: transitions (NoncurrentDays 0 or
-- more and a storage class) and an expiration (NoncurrentDays at least
-- 1); NewerNoncurrentVersions, where given, 1 to 100.
CREATE FUNCTION s3_lifecycle_noncurrent(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT EXISTS (
    SELECT 1 FROM s3_objects(r) x
     WHERE (x ? 'NoncurrentVersionTransitions' AND NOT (
             s3_nonempty_array(x->'NoncurrentVersionTransitions')
         AND NOT EXISTS (
               SELECT 1 FROM s3_elements(x->'NoncurrentVersionTransitions') t
                WHERE NOT (s3_keys_within(t, ARRAY['NoncurrentDays', 'StorageClass',
                                                   'NewerNoncurrentVersions'])
                       AND s3_int_between(t->'NoncurrentDays', 0, 1e9)
                       AND s3_storage_class(t->'StorageClass')
                       AND (NOT t ? 'NewerNoncurrentVersions'
                            OR s3_int_between(t->'NewerNoncurrentVersions', 1, 100))))))
        OR (x ? 'NoncurrentVersionExpiration' AND NOT (
             s3_keys_within(x->'NoncurrentVersionExpiration',
                            ARRAY['NoncurrentDays', 'NewerNoncurrentVersions'])
         AND s3_int_between(x->'NoncurrentVersionExpiration'->'NoncurrentDays', 1, 1e9)
         AND (NOT x->'NoncurrentVersionExpiration' ? 'NewerNoncurrentVersions'
              OR s3_int_between(x->'NoncurrentVersionExpiration'->'NewerNoncurrentVersions',
                                1, 100)))))
$$;

CREATE FUNCTION s3_lifecycle_abort_uploads(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT EXISTS (
    SELECT 1 FROM s3_objects(r) x
     WHERE x ? 'AbortIncompleteMultipartUpload' AND NOT (
           s3_keys_within(x->'AbortIncompleteMultipartUpload', ARRAY['DaysAfterInitiation'])
       AND s3_int_between(x->'AbortIncompleteMultipartUpload'->'DaysAfterInitiation', 1, 1e9)))
$$;

-- CORS rules, as the SDKs' CORSRule has them: at most 100 objects of its
-- members.
CREATE FUNCTION s3_cors_shape(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(r) = 'array'
    THEN jsonb_array_length(r) <= 100 AND NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(r) x
       WHERE NOT s3_keys_within(x, ARRAY['ID', 'AllowedHeaders', 'AllowedMethods',
                                         'AllowedOrigins', 'ExposeHeaders', 'MaxAgeSeconds']))
    ELSE false END
$$;

CREATE FUNCTION s3_cors_methods(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT EXISTS (
    SELECT 1 FROM s3_objects(r) x
     WHERE NOT s3_strings(x->'AllowedMethods', 0)
        OR EXISTS (SELECT 1 FROM s3_elements(x->'AllowedMethods') m
                    WHERE m #>> '{}' NOT IN ('GET', 'PUT', 'POST', 'DELETE', 'HEAD')))
$$;

CREATE FUNCTION s3_cors_origins(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT EXISTS (SELECT 1 FROM s3_objects(r) x WHERE NOT s3_strings(x->'AllowedOrigins', 1))
$$;

CREATE FUNCTION s3_cors_headers(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT EXISTS (
    SELECT 1 FROM s3_objects(r) x
     WHERE (x ? 'AllowedHeaders' AND NOT s3_strings(x->'AllowedHeaders', 1))
        OR (x ? 'ExposeHeaders' AND NOT s3_strings(x->'ExposeHeaders', 0)))
$$;

CREATE FUNCTION s3_cors_max_ages(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT EXISTS (SELECT 1 FROM s3_objects(r) x
                      WHERE x ? 'MaxAgeSeconds'
                        AND NOT s3_int_between(x->'MaxAgeSeconds', 0, 2147483647))
$$;

CREATE FUNCTION s3_cors_ids(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT EXISTS (SELECT 1 FROM s3_objects(r) x
                      WHERE x ? 'ID' AND (jsonb_typeof(x->'ID') <> 'string'
                                          OR length(x->>'ID') > 255))
$$;

-- A website's routing rules, as the SDKs' RoutingRule has them: at most 50,
-- each a redirect (host name, protocol, a 3xx code, a key or a key prefix
-- to put instead) under an optional condition (a key prefix, a 4xx or 5xx
-- code).
CREATE FUNCTION s3_routing_rules_valid(r jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(r) = 'array'
    THEN jsonb_array_length(r) <= 50 AND NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(r) x
       WHERE NOT coalesce(
             s3_keys_within(x, ARRAY['Condition', 'Redirect'])
         AND s3_keys_within(x->'Redirect', ARRAY['HostName', 'HttpRedirectCode', 'Protocol',
                                                 'ReplaceKeyPrefixWith', 'ReplaceKeyWith'])
         AND s3_keys_among(x->'Redirect', ARRAY['HostName', 'HttpRedirectCode', 'Protocol',
                                                'ReplaceKeyPrefixWith', 'ReplaceKeyWith']) > 0
         AND s3_string_values(x->'Redirect')
         AND (NOT x->'Redirect' ? 'Protocol' OR x->'Redirect'->>'Protocol' IN ('http', 'https'))
         AND (NOT x->'Redirect' ? 'HttpRedirectCode'
              OR x->'Redirect'->>'HttpRedirectCode' ~ '^3[0-9][0-9]$')
         AND s3_keys_among(x->'Redirect', ARRAY['ReplaceKeyPrefixWith', 'ReplaceKeyWith']) < 2
         AND (NOT x ? 'Condition' OR (
               s3_keys_within(x->'Condition', ARRAY['KeyPrefixEquals',
                                                    'HttpErrorCodeReturnedEquals'])
           AND s3_keys_among(x->'Condition', ARRAY['KeyPrefixEquals',
                                                   'HttpErrorCodeReturnedEquals']) > 0
           AND s3_string_values(x->'Condition')
           AND (NOT x->'Condition' ? 'HttpErrorCodeReturnedEquals'
                OR x->'Condition'->>'HttpErrorCodeReturnedEquals' ~ '^[45][0-9][0-9]$'))), false))
    ELSE false END
$$;

CREATE TABLE bucket (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  tags jsonb NOT NULL DEFAULT '{}',
  policy jsonb,
  versioning text NOT NULL DEFAULT 'Disabled',
  public_access_block jsonb,
  -- The lifecycle configuration and the CORS configuration: each one S3
  -- document, put and deleted whole, so one column each ('[]': none).
  -- Their rules are SQL functions, which every statement parses and plans
  -- again; each rule first lets '[]' through, so a bucket without either
  -- (most) costs an INSERT none of that.
  lifecycle_rules jsonb NOT NULL DEFAULT '[]',
  cors_rules jsonb NOT NULL DEFAULT '[]',
  -- Default encryption. S3 encrypts every bucket with SSE-S3 (AES256) when
  -- nothing else is configured, and says so when asked.
  sse_algorithm text NOT NULL DEFAULT 'AES256',
  kms_master_key_id text,
  bucket_key_enabled boolean NOT NULL DEFAULT false,
  created_at timestamptz,
  CONSTRAINT bucket_name_unique UNIQUE (name),
  CONSTRAINT bucket_name_region_unique UNIQUE (name, region),
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
    CHECK (public_access_block IS NULL OR s3_public_access_block_valid(public_access_block)),
  CONSTRAINT bucket_lifecycle_rules_up_to_1000_objects_of_known_members
    CHECK (lifecycle_rules = '[]' OR s3_lifecycle_shape(lifecycle_rules)),
  CONSTRAINT bucket_lifecycle_rule_id_1_to_255_characters_unique
    CHECK (lifecycle_rules = '[]' OR s3_lifecycle_ids(lifecycle_rules)),
  CONSTRAINT bucket_lifecycle_rule_status_enabled_or_disabled
    CHECK (lifecycle_rules = '[]' OR s3_lifecycle_statuses(lifecycle_rules)),
  CONSTRAINT bucket_lifecycle_rule_at_least_one_action
    CHECK (lifecycle_rules = '[]' OR s3_lifecycle_actions(lifecycle_rules)),
  CONSTRAINT bucket_lifecycle_rule_filter_exactly_one_condition
    CHECK (lifecycle_rules = '[]' OR s3_lifecycle_filters(lifecycle_rules)),
  CONSTRAINT bucket_lifecycle_rule_expiration_days_date_or_delete_marker
    CHECK (lifecycle_rules = '[]' OR s3_lifecycle_expirations(lifecycle_rules)),
  CONSTRAINT bucket_lifecycle_rule_transitions_days_or_date_and_class
    CHECK (lifecycle_rules = '[]' OR s3_lifecycle_transitions(lifecycle_rules)),
  CONSTRAINT bucket_lifecycle_rule_noncurrent_versions_days_and_class
    CHECK (lifecycle_rules = '[]' OR s3_lifecycle_noncurrent(lifecycle_rules)),
  CONSTRAINT bucket_lifecycle_rule_abort_uploads_days_after_initiation
    CHECK (lifecycle_rules = '[]' OR s3_lifecycle_abort_uploads(lifecycle_rules)),
  CONSTRAINT bucket_cors_rules_up_to_100_objects_of_known_members
    CHECK (cors_rules = '[]' OR s3_cors_shape(cors_rules)),
  CONSTRAINT bucket_cors_rule_allowed_methods_get_put_post_delete_head
    CHECK (cors_rules = '[]' OR s3_cors_methods(cors_rules)),
  CONSTRAINT bucket_cors_rule_allowed_origins_strings_one_wildcard
    CHECK (cors_rules = '[]' OR s3_cors_origins(cors_rules)),
  CONSTRAINT bucket_cors_rule_headers_lists_of_strings_one_wildcard
    CHECK (cors_rules = '[]' OR s3_cors_headers(cors_rules)),
  CONSTRAINT bucket_cors_rule_max_age_seconds_a_whole_number
    CHECK (cors_rules = '[]' OR s3_cors_max_ages(cors_rules)),
  CONSTRAINT bucket_cors_rule_id_up_to_255_characters
    CHECK (cors_rules = '[]' OR s3_cors_ids(cors_rules)),
  CONSTRAINT bucket_sse_algorithm_aes256_aws_kms_or_aws_kms_dsse
    CHECK (sse_algorithm IN ('AES256', 'aws:kms', 'aws:kms:dsse')),
  CONSTRAINT bucket_kms_master_key_id_only_with_aws_kms
    CHECK (kms_master_key_id IS NULL OR sse_algorithm IN ('aws:kms', 'aws:kms:dsse')),
  CONSTRAINT bucket_kms_master_key_id_not_empty
    CHECK (kms_master_key_id IS NULL OR length(kms_master_key_id) BETWEEN 1 AND 2048)
);

-- The engine adds its own tags at create: the limit counts them.
CREATE TRIGGER bucket_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON bucket
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);

-- A bucket's static website, one row per bucket that has one, as IaSQL's
-- bucket_website (bucket_name, index_document, error_document), plus what
-- else S3's website configuration holds: a redirect of every request
-- instead, and routing rules. The bucket is named by name and region (the
-- region is its bucket's when left out).
CREATE TABLE bucket_website (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  bucket_name text NOT NULL,
  region text NOT NULL,
  index_document text,
  error_document text,
  redirect_all_requests_to text,
  redirect_protocol text,
  routing_rules jsonb NOT NULL DEFAULT '[]',
  CONSTRAINT bucket_website_bucket_exists FOREIGN KEY (bucket_name, region)
    REFERENCES bucket (name, region) ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT bucket_website_one_per_bucket UNIQUE (bucket_name),
  CONSTRAINT bucket_website_index_document_or_redirect_all_requests_to
    CHECK ((index_document IS NULL) <> (redirect_all_requests_to IS NULL)),
  CONSTRAINT bucket_website_index_document_not_empty_no_slash
    CHECK (index_document IS NULL OR (index_document <> '' AND strpos(index_document, '/') = 0)),
  CONSTRAINT bucket_website_error_document_not_empty
    CHECK (error_document IS NULL OR error_document <> ''),
  CONSTRAINT bucket_website_error_document_and_rules_only_with_index
    CHECK (index_document IS NOT NULL OR (error_document IS NULL AND routing_rules = '[]')),
  CONSTRAINT bucket_website_redirect_all_requests_to_a_host_name
    CHECK (redirect_all_requests_to IS NULL OR redirect_all_requests_to ~ '^[^/\s:]+(:[0-9]+)?$'),
  CONSTRAINT bucket_website_redirect_protocol_http_or_https_with_redirect
    CHECK (redirect_protocol IS NULL
           OR (redirect_protocol IN ('http', 'https') AND redirect_all_requests_to IS NOT NULL)),
  CONSTRAINT bucket_website_routing_rules_up_to_50_redirects
    CHECK (s3_routing_rules_valid(routing_rules))
);

-- A website's region is its bucket's when left out. A website the cloud
-- shows for a bucket the table does not hold (its bucket not taken in yet
-- by the poll of bucket, or left out by the import filter) is not taken in:
-- it follows its bucket, at the website's next read.
CREATE FUNCTION s3_bucket_website_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.region IS NULL THEN
    -- no such bucket: the default region, and the foreign key says why not
    NEW.region := coalesce((SELECT b.region FROM bucket b WHERE b.name = NEW.bucket_name),
                           default_aws_region());
  END IF;
  IF iasql_audit_origin() = 'cloud' AND NOT EXISTS (
       SELECT 1 FROM bucket b WHERE b.name = NEW.bucket_name AND b.region = NEW.region) THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER bucket_website_region_of_its_bucket BEFORE INSERT ON bucket_website
  FOR EACH ROW EXECUTE FUNCTION s3_bucket_website_insert();
