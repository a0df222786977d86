-- modules/aws_iam/aws_iam.sql — IAM customer managed policies and roles.
-- IAM is global: these tables have no region. A role attaches managed
-- policies by ARN (its own account's or AWS's) and holds its inline
-- policies as an object {policy name: document}.
CREATE FUNCTION iam_name_valid(n text, max integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT length(n) BETWEEN 1 AND max AND n ~ '^[A-Za-z0-9+=,.@_-]+$' $$;

CREATE FUNCTION iam_path_valid(p text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT length(p) BETWEEN 1 AND 512 AND (p = '/' OR p ~ '^/[\x21-\x7e]+/$')
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

-- An IAM user: its path and name change in place (UpdateUser), so the
-- cloud's user_id is what names it. Managed policies attach by ARN as a
-- role's do; a permissions boundary is a managed policy's ARN. Access keys
-- are not a table: AWS shows a key's secret once, and iasql stores no
-- secret it could not give back (docs/secrets.md).
CREATE TABLE iam_user (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  user_name text NOT NULL,
  path text NOT NULL DEFAULT '/',
  attached_policy_arns text[] NOT NULL DEFAULT '{}',
  permissions_boundary text,
  tags jsonb NOT NULL DEFAULT '{}',
  arn text,
  user_id text,
  CONSTRAINT iam_user_name_unique UNIQUE (user_name),
  CONSTRAINT iam_user_id_unique UNIQUE (user_id),
  CONSTRAINT iam_user_name_1_to_64_letters_digits_and_iam_symbols
    CHECK (iam_name_valid(user_name, 64)),
  CONSTRAINT iam_user_path_slash_or_between_slashes_up_to_512 CHECK (iam_path_valid(path)),
  CONSTRAINT iam_user_attached_policy_arns_are_policy_arns_at_most_20
    CHECK (cardinality(attached_policy_arns) <= 20 AND
           array_to_string(attached_policy_arns, ' ') ~
             '^((arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[\x21-\x7e]+)( |$))*$'),
  CONSTRAINT iam_user_permissions_boundary_a_policy_arn
    CHECK (permissions_boundary IS NULL OR
           permissions_boundary ~ '^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[\x21-\x7e]+$'),
  CONSTRAINT iam_user_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

CREATE TRIGGER iam_user_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON iam_user
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);

-- An instance profile holds one role at most (AWS's limit, and a column
-- that holds one); the role moves in place (RemoveRoleFromInstanceProfile,
-- AddRoleToInstanceProfile). Its name and path are fixed: a new one of
-- either is a new profile. A role a profile holds cannot be deleted.
CREATE TABLE instance_profile (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  instance_profile_name text NOT NULL,
  path text NOT NULL DEFAULT '/',
  role bigint,
  tags jsonb NOT NULL DEFAULT '{}',
  arn text,
  instance_profile_id text,
  CONSTRAINT instance_profile_role_exists FOREIGN KEY (role) REFERENCES iam_role (id),
  CONSTRAINT instance_profile_name_unique UNIQUE (instance_profile_name),
  CONSTRAINT instance_profile_name_1_to_128_letters_digits_and_iam_symbols
    CHECK (iam_name_valid(instance_profile_name, 128)),
  CONSTRAINT instance_profile_path_slash_or_between_slashes_up_to_512 CHECK (iam_path_valid(path)),
  CONSTRAINT instance_profile_tags_up_to_50_strings_no_aws_or_iasql_keys
    CHECK (iasql_tags_valid(tags))
);

CREATE TRIGGER instance_profile_tags_max_49_plus_iasql_owner
  BEFORE INSERT OR UPDATE OF tags ON instance_profile
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
