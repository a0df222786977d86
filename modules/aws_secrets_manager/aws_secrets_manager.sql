-- modules/aws_secrets_manager/aws_secrets_manager.sql — Secrets Manager
-- secrets. The value is write-only: the row keeps a mask, the cleartext
-- waits for the engine in iasql_secret until the commit that sends it
-- (docs/secrets.md). A name is letters, digits and /_+=.@-. A delete is
-- ForceDeleteWithoutRecovery (docs/secrets.md says why there is no
-- recovery window).
CREATE TABLE secret (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  description text,
  kms_key_id text,
  value text NOT NULL,
  tags jsonb NOT NULL DEFAULT '{}',
  arn text,
  version_id text,
  CONSTRAINT secret_name_unique_in_region UNIQUE (name, region),
  CONSTRAINT secret_name_1_to_512_letters_digits_or_the_symbols_aws_allows
    CHECK (length(name) BETWEEN 1 AND 512 AND name ~ '^[A-Za-z0-9/_+=.@-]+$'),
  CONSTRAINT secret_description_up_to_2048_characters
    CHECK (description IS NULL OR length(description) <= 2048),
  CONSTRAINT secret_kms_key_id_1_to_2048_characters
    CHECK (kms_key_id IS NULL OR length(kms_key_id) BETWEEN 1 AND 2048),
  CONSTRAINT secret_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

-- The value goes to iasql_secret; the row keeps a fresh mask. SECURITY
-- DEFINER (iasql_secret is the engine's alone), so it first checks that it
-- fires on this module's own table, and nobody else may attach it. The
-- value's limit is checked here: a CHECK would only ever see the mask.
CREATE FUNCTION secret_hide_value() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM iasql_capture_check(TG_RELID);
  IF TG_OP = 'DELETE' THEN
    PERFORM iasql_secret_drop('secret', OLD.id);
    RETURN OLD;
  END IF;
  -- A new name or region is a new secret, made after the old one goes:
  -- without its value again, the old value would be lost with it.
  IF TG_OP = 'UPDATE' AND (NEW.name, NEW.region) IS DISTINCT FROM (OLD.name, OLD.region)
     AND iasql_is_mask(NEW.value) THEN
    RAISE EXCEPTION 'new row for relation "secret" violates check constraint "%"',
                    'secret_value_set_anew_with_a_new_name_or_region'
      USING ERRCODE = 'check_violation',
            CONSTRAINT = 'secret_value_set_anew_with_a_new_name_or_region',
            DETAIL = 'A new name or region makes a new secret, and the engine never keeps a value.',
            HINT = 'Set value in the same UPDATE.';
  END IF;
  IF NOT iasql_is_mask(NEW.value) THEN
    IF length(NEW.value) NOT BETWEEN 1 AND 65536 THEN
      RAISE EXCEPTION 'new row for relation "secret" violates check constraint "%"',
                      'secret_value_1_to_65536_characters'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'secret_value_1_to_65536_characters',
              DETAIL = format('The value has %s characters.', length(NEW.value)),
              HINT = 'A SecretString holds 1 to 65536 characters.';
    END IF;
    NEW.value := iasql_secret_put('secret', NEW.id, 'value', NEW.value);
  END IF;
  RETURN NEW;
END $$;

REVOKE EXECUTE ON FUNCTION secret_hide_value() FROM iasql_user;

CREATE TRIGGER secret_hide_value BEFORE INSERT OR UPDATE OR DELETE ON secret
FOR EACH ROW EXECUTE FUNCTION secret_hide_value();

-- The engine adds its own tags at create: the limit counts them.
CREATE TRIGGER secret_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON secret
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
