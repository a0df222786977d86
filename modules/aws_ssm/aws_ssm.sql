-- modules/aws_ssm/aws_ssm.sql — SSM Parameter Store parameters. A
-- SecureString value is write-only: the row keeps a mask, the cleartext
-- waits for the engine in iasql_secret until the commit that sends it
-- (docs/secrets.md).
CREATE TABLE parameter (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  type text NOT NULL DEFAULT 'String',
  value text NOT NULL,
  description text,
  tags jsonb NOT NULL DEFAULT '{}',
  version bigint,
  CONSTRAINT parameter_name_unique_in_region UNIQUE (name, region),
  CONSTRAINT parameter_name_1_to_2048_letters_digits_dots_dashes_slashes
    CHECK (length(name) BETWEEN 1 AND 2048 AND name ~ '^[A-Za-z0-9_./-]+$'),
  CONSTRAINT parameter_name_not_starting_with_aws_or_ssm
    CHECK (lower(ltrim(name, '/')) !~ '^(aws|ssm)'),
  CONSTRAINT parameter_name_with_slash_starts_with_slash_at_most_15_levels
    CHECK (position('/' IN name) = 0 OR
           (name ~ '^/' AND name !~ '/$' AND length(name) - length(replace(name, '/', '')) <= 15)),
  CONSTRAINT parameter_type_string_stringlist_or_securestring
    CHECK (type IN ('String', 'StringList', 'SecureString')),
  CONSTRAINT parameter_value_1_to_4096_characters CHECK (length(value) BETWEEN 1 AND 4096),
  CONSTRAINT parameter_value_of_a_stringlist_has_no_empty_item
    CHECK (type <> 'StringList' OR value !~ '(^,|,,|,$)'),
  CONSTRAINT parameter_value_set_anew_when_type_leaves_securestring
    CHECK (type = 'SecureString' OR NOT iasql_is_mask(value)),
  CONSTRAINT parameter_description_up_to_1024_characters
    CHECK (description IS NULL OR length(description) <= 1024),
  CONSTRAINT parameter_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

-- A SecureString's value goes to iasql_secret; the row keeps a fresh mask.
-- SECURITY DEFINER (iasql_secret is the engine's alone), so it first checks
-- that it fires on this module's own table, and nobody else may attach it.
CREATE FUNCTION parameter_hide_secret() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM iasql_capture_check(TG_RELID);
  IF TG_OP = 'DELETE' THEN
    PERFORM iasql_secret_drop('parameter', OLD.id);
    RETURN OLD;
  END IF;
  IF NEW.type = 'SecureString' AND NOT iasql_is_mask(NEW.value) THEN
    NEW.value := iasql_secret_put('parameter', NEW.id, 'value', NEW.value);
  END IF;
  RETURN NEW;
END $$;

REVOKE EXECUTE ON FUNCTION parameter_hide_secret() FROM iasql_user;

CREATE TRIGGER parameter_hide_secret BEFORE INSERT OR UPDATE OR DELETE ON parameter
FOR EACH ROW EXECUTE FUNCTION parameter_hide_secret();

-- The engine adds its own tags at create: the limit counts them.
CREATE TRIGGER parameter_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON parameter
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
