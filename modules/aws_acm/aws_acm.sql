-- modules/aws_acm/aws_acm.sql — ACM certificates. A row either imports a
-- PEM certificate (certificate_body, certificate_chain and private_key) or
-- requests one from ACM with DNS validation (domain_name,
-- subject_alternative_names, key_algorithm). The private key is
-- write-only: the row keeps a mask, the cleartext waits for the engine in
-- iasql_secret until the commit that sends it (docs/secrets.md). The ARN is
-- the certificate's cloud id: other tables (a listener) refer to a row
-- here and the engine hands them the ARN. The limits are ACM's
-- (ImportCertificate's and RequestCertificate's model).
CREATE FUNCTION acm_domain_valid(d text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT length(d) BETWEEN 1 AND 253 AND
         d ~ '^(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$'
$$;

CREATE FUNCTION acm_domains_valid(ds text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT cardinality(ds) <= 100 AND array_position(ds, NULL) IS NULL AND
         NOT EXISTS (SELECT FROM unnest(ds) d WHERE NOT acm_domain_valid(d))
$$;

CREATE FUNCTION acm_pem_valid(pem text, kind text, max integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT octet_length(pem) BETWEEN 1 AND max AND
         pem ~ ('^-----BEGIN ' || kind || '-----\n[A-Za-z0-9+/=\n]+-----END ' || kind || '-----\n' ||
                '(-----BEGIN ' || kind || '-----\n[A-Za-z0-9+/=\n]+-----END ' || kind || '-----\n)*$')
$$;

CREATE TABLE certificate (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  arn text,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  domain_name text NOT NULL,
  subject_alternative_names text[] NOT NULL DEFAULT '{}',
  key_algorithm text NOT NULL DEFAULT 'RSA_2048',
  certificate_body text,
  certificate_chain text,
  private_key text,
  tags jsonb NOT NULL DEFAULT '{}',
  certificate_id text,
  certificate_type text,
  status text,
  renewal_eligibility text,
  in_use boolean,
  not_before timestamptz,
  not_after timestamptz,
  validation_records jsonb,
  CONSTRAINT certificate_arn_unique UNIQUE (arn),
  CONSTRAINT certificate_domain_name_1_to_253_characters_of_a_dns_name
    CHECK (acm_domain_valid(domain_name)),
  CONSTRAINT certificate_subject_alternative_names_up_to_100_dns_names
    CHECK (acm_domains_valid(subject_alternative_names)),
  CONSTRAINT certificate_key_algorithm_rsa_or_ec
    CHECK (key_algorithm IN ('RSA_1024', 'RSA_2048', 'RSA_3072', 'RSA_4096',
                             'EC_prime256v1', 'EC_secp384r1', 'EC_secp521r1')),
  CONSTRAINT certificate_imported_with_body_and_key_requested_with_neither
    CHECK ((certificate_body IS NULL AND private_key IS NULL AND certificate_chain IS NULL) OR
           (certificate_body IS NOT NULL AND private_key IS NOT NULL)),
  CONSTRAINT certificate_imported_has_no_alternative_names_to_request
    CHECK (certificate_body IS NULL OR cardinality(subject_alternative_names) = 0),
  CONSTRAINT certificate_body_pem_up_to_32768_bytes
    CHECK (certificate_body IS NULL OR acm_pem_valid(certificate_body, 'CERTIFICATE', 32768)),
  CONSTRAINT certificate_chain_pem_up_to_2097152_bytes
    CHECK (certificate_chain IS NULL OR acm_pem_valid(certificate_chain, 'CERTIFICATE', 2097152)),
  CONSTRAINT certificate_private_key_masked CHECK (private_key IS NULL OR iasql_is_mask(private_key)),
  CONSTRAINT certificate_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

-- PEM text as ACM keeps it (LF line ends, no blank lines, one final
-- newline), so that what the cloud gives back compares equal.
CREATE FUNCTION acm_pem_normal(pem text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT regexp_replace(btrim(replace(pem, E'\r\n', E'\n'), E' \n\t'), E'\n[ \t]*\n+', E'\n', 'g')
         || E'\n'
$$;

-- The private key goes to iasql_secret and the row keeps a fresh mask; its
-- shape is checked here, before it is hidden (a CHECK would only see the
-- mask), and the refusal never shows it. SECURITY DEFINER (iasql_secret is
-- the engine's alone), so it first checks that it fires on this module's
-- own table, and nobody else may attach it.
CREATE FUNCTION certificate_hide_secret() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  k text;
BEGIN
  PERFORM iasql_capture_check(TG_RELID);
  IF TG_OP = 'DELETE' THEN
    PERFORM iasql_secret_drop('certificate', OLD.id);
    RETURN OLD;
  END IF;
  IF NEW.certificate_body IS NOT NULL THEN
    NEW.certificate_body := acm_pem_normal(NEW.certificate_body);
  END IF;
  IF NEW.certificate_chain IS NOT NULL THEN
    NEW.certificate_chain := acm_pem_normal(NEW.certificate_chain);
  END IF;
  IF NEW.private_key IS NOT NULL AND NOT iasql_is_mask(NEW.private_key) THEN
    k := acm_pem_normal(NEW.private_key);
    IF octet_length(k) > 5120 OR
       k !~ '^-----BEGIN ((RSA|EC) )?PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END ((RSA|EC) )?PRIVATE KEY-----\n$' THEN
      RAISE EXCEPTION 'new row for relation "certificate" violates check constraint "certificate_private_key_unencrypted_pem_up_to_5120_bytes"'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'certificate_private_key_unencrypted_pem_up_to_5120_bytes',
              DETAIL = format('Row %s has a private key that is not one unencrypted PEM key of at most 5120 bytes (its value is not shown).', NEW.id),
              HINT = 'Give the key as PEM (BEGIN PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY), without a passphrase.';
    END IF;
    NEW.private_key := iasql_secret_put('certificate', NEW.id, 'private_key', k);
  END IF;
  RETURN NEW;
END $$;

REVOKE EXECUTE ON FUNCTION certificate_hide_secret() FROM iasql_user;

CREATE TRIGGER certificate_hide_secret BEFORE INSERT OR UPDATE OR DELETE ON certificate
FOR EACH ROW EXECUTE FUNCTION certificate_hide_secret();

-- The engine adds two tags of its own at create (its owner tag and the
-- action's token): the limit counts them.
CREATE TRIGGER certificate_tags_max_48_plus_iasql_owner_and_token
  BEFORE INSERT OR UPDATE OF tags ON certificate
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(48);
