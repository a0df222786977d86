-- modules/aws_iam/aws_iam.sql — IAM customer managed policies and roles.
-- IAM is global: these tables have no region. A role attaches managed
-- policies by ARN (its own account's or AWS's) and holds its inline
-- policies as an object {policy name: document}.
CREATE FUNCTION iam_name_valid(n text, max integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT length(n) BETWEEN 1 AND max AND n ~ '^[A-Za-z0-9+=,.@_-]+$' $$;

CREATE FUNCTION iam_path_valid(p text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT length(p) BETWEEN 1 AND 512 AND (p = '/' OR p ~ '^/[\x21-\x7e]*/$')
$$;

CREATE TABLE iam_policy (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  policy_name text NOT NULL,
  path text NOT NULL DEFAULT '/',
  description text,
  policy_document jsonb NOT NULL,
  tags jsonb NOT NULL DEFAULT '{}',
  arn text,
  CONSTRAINT iam_policy_name_unique UNIQUE (policy_name),
  CONSTRAINT iam_policy_name_1_to_128_letters_digits_and_iam_symbols
    CHECK (iam_name_valid(policy_name, 128)),
  CONSTRAINT iam_policy_path_slash_or_between_slashes_up_to_512 CHECK (iam_path_valid(path)),
  CONSTRAINT iam_policy_description_up_to_1000_characters
    CHECK (description IS NULL OR length(description) <= 1000),
  CONSTRAINT iam_policy_document_an_object_with_statement
    CHECK (jsonb_typeof(policy_document) = 'object' AND policy_document ? 'Statement'),
  CONSTRAINT iam_policy_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

CREATE FUNCTION iam_inline_policies_valid(p jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_typeof(p) = 'object'
     AND NOT EXISTS (SELECT FROM jsonb_each(p) e
                      WHERE NOT iam_name_valid(e.key, 128)
                         OR jsonb_typeof(e.value) <> 'object' OR NOT e.value ? 'Statement')
$$;

CREATE TABLE iam_role (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  role_name text NOT NULL,
  path text NOT NULL DEFAULT '/',
  description text,
  max_session_duration integer NOT NULL DEFAULT 3600,
  assume_role_policy_document jsonb NOT NULL,
  attached_policy_arns text[] NOT NULL DEFAULT '{}',
  inline_policies jsonb NOT NULL DEFAULT '{}',
  tags jsonb NOT NULL DEFAULT '{}',
  arn text,
  role_id text,
  CONSTRAINT iam_role_name_unique UNIQUE (role_name),
  CONSTRAINT iam_role_name_1_to_64_letters_digits_and_iam_symbols
    CHECK (iam_name_valid(role_name, 64)),
  CONSTRAINT iam_role_path_slash_or_between_slashes_up_to_512 CHECK (iam_path_valid(path)),
  CONSTRAINT iam_role_description_up_to_1000_characters
    CHECK (description IS NULL OR length(description) <= 1000),
  CONSTRAINT iam_role_max_session_duration_3600_to_43200
    CHECK (max_session_duration BETWEEN 3600 AND 43200),
  CONSTRAINT iam_role_assume_role_policy_document_an_object_with_statement
    CHECK (jsonb_typeof(assume_role_policy_document) = 'object'
           AND assume_role_policy_document ? 'Statement'),
  CONSTRAINT iam_role_attached_policy_arns_are_policy_arns_at_most_20
    CHECK (cardinality(attached_policy_arns) <= 20 AND
           array_to_string(attached_policy_arns, ' ') ~
             '^((arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[\x21-\x7e]+)( |$))*$'),
  CONSTRAINT iam_role_inline_policies_object_of_name_to_document
    CHECK (iam_inline_policies_valid(inline_policies)),
  CONSTRAINT iam_role_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

-- The engine adds its own tags at create: the limit counts them.
CREATE TRIGGER iam_policy_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON iam_policy
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
CREATE TRIGGER iam_role_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON iam_role
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
