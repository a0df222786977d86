-- modules/aws_account/aws_account.sql — the regions this database manages.
-- Credentials are not here: they stay in the standard AWS chain of the
-- engine's environment and never enter the database.
CREATE TABLE aws_regions (
  region text PRIMARY KEY
    CONSTRAINT aws_regions_region_format CHECK (region ~ '^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$'),
  is_default boolean NOT NULL DEFAULT false,
  is_enabled boolean NOT NULL DEFAULT false,
  CONSTRAINT aws_regions_default_must_be_enabled CHECK (NOT is_default OR is_enabled),
  -- checked at commit, so a default can move in one statement; safe against
  -- two transactions each choosing a different default
  CONSTRAINT aws_regions_only_one_default EXCLUDE USING btree (is_default WITH =)
    WHERE (is_default) DEFERRABLE INITIALLY DEFERRED
);

-- Exactly one default region, checked at the end of each transaction so a
-- default can be moved from one row to another.
CREATE FUNCTION aws_regions_check_default() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(*) FROM aws_regions WHERE is_default) <> 1 THEN
    RAISE EXCEPTION 'aws_regions must have exactly one default region'
      USING HINT = 'UPDATE aws_regions SET is_default = (region = ''REGION'');';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER aws_regions_one_default AFTER INSERT OR UPDATE OR DELETE ON aws_regions
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION aws_regions_check_default();

-- The capture functions read the disabled regions as a constant
-- (iasql_disabled_regions, schema.sql), which this keeps.
CREATE TRIGGER aws_regions_follow AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aws_regions
  FOR EACH STATEMENT EXECUTE FUNCTION iasql_regions_follow();

-- PL/pgSQL, whose plan lasts the session: every INSERT into a table with a
-- region calls it, and an SQL function is parsed and planned again for
-- each statement.
CREATE FUNCTION default_aws_region() RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT r.region FROM aws_regions r WHERE r.is_default);
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON aws_regions TO iasql_user;
