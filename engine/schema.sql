-- engine/schema.sql — the base schema that `iasql init` installs.
-- Idempotent: every statement may run again on an installed database, so
-- `iasql init` doubles as the upgrade path. `iasql init` creates the roles
-- (iasql_engine, iasql_user, this database's RPC role) and the dblink
-- extension's grants first, then runs this script as iasql_engine, in one
-- transaction: every object belongs to iasql_engine. Nothing here is granted
-- to PUBLIC; application roles get what they need through iasql_user
-- (docs/security.md).

-- Functions made by iasql_engine are executable by iasql_user only unless
-- granted otherwise; PUBLIC gets nothing.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO iasql_user;

-- Row ids of every resource table come from this one sequence, so an id is
-- never reused, across tables and across uninstall and install.
CREATE SEQUENCE IF NOT EXISTS iasql_row_id_seq;
ALTER SEQUENCE iasql_row_id_seq OWNER TO iasql_engine;
REVOKE ALL ON SEQUENCE iasql_row_id_seq FROM PUBLIC;
GRANT USAGE, SELECT ON SEQUENCE iasql_row_id_seq TO iasql_user;

CREATE TABLE IF NOT EXISTS iasql_config (
  key text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE IF NOT EXISTS iasql_module (
  name text PRIMARY KEY,
  version text NOT NULL,
  installed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS iasql_dependencies (
  module text NOT NULL REFERENCES iasql_module (name) ON DELETE CASCADE,
  dependency text NOT NULL REFERENCES iasql_module (name),
  PRIMARY KEY (module, dependency)
);

CREATE TABLE IF NOT EXISTS iasql_tables (
  table_name text PRIMARY KEY,
  module text NOT NULL REFERENCES iasql_module (name) ON DELETE CASCADE
);
-- Set by the engine from the module's description: the columns that name a
-- row in any database (cloud ids the user sets), the cloud-owned ones and
-- the secret ones; iasql_get_sql_since() needs them.
ALTER TABLE iasql_tables ADD COLUMN IF NOT EXISTS key_columns text[] NOT NULL DEFAULT '{}';
ALTER TABLE iasql_tables ADD COLUMN IF NOT EXISTS owned_columns text[] NOT NULL DEFAULT '{}';
ALTER TABLE iasql_tables ADD COLUMN IF NOT EXISTS secret_columns text[] NOT NULL DEFAULT '{}';
-- The poller's last look at each table (iasql_status()).
ALTER TABLE iasql_tables ADD COLUMN IF NOT EXISTS last_poll_at timestamptz;
ALTER TABLE iasql_tables ADD COLUMN IF NOT EXISTS last_poll_ms integer;
ALTER TABLE iasql_tables ADD COLUMN IF NOT EXISTS last_poll_error text;

-- The audit log's origin and op are text whose values these domains check.
-- A domain's CHECK is planned once per session (the type cache keeps it);
-- a table's CHECK is read back and planned again by every statement, which
-- cost a capture trigger's single-row INSERT about a fifth of its overhead
-- (docs/decisions.md, "Capture cost").
DO $$
BEGIN
  IF to_regtype('public.iasql_change_origin') IS NULL THEN
    CREATE DOMAIN iasql_change_origin AS text CHECK (VALUE IN ('user', 'engine', 'cloud'));
  END IF;
  IF to_regtype('public.iasql_change_op') IS NULL THEN
    CREATE DOMAIN iasql_change_op AS text CHECK (VALUE IN ('INSERT', 'UPDATE', 'DELETE'));
  END IF;
END $$;

-- Every change to a resource table. origin: 'user' for any role but the
-- engine's; for the engine's own writes, what it declared ('engine' for
-- write-backs and restores, 'cloud' for what it read from the cloud).
CREATE TABLE IF NOT EXISTS iasql_audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  ts timestamptz NOT NULL DEFAULT clock_timestamp(),
  origin iasql_change_origin NOT NULL,
  role name NOT NULL DEFAULT session_user,
  table_name text NOT NULL,
  op iasql_change_op NOT NULL,
  row_id bigint NOT NULL,
  old_row json,
  new_row json,
  commit_id bigint
);
CREATE INDEX IF NOT EXISTS iasql_audit_log_txid ON iasql_audit_log (txid);
-- An older schema checked origin and op with table CHECKs: the same rule in
-- the domains (a rewrite of the log, once).
DO $$
BEGIN
  IF (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = 'iasql_audit_log'::regclass
        AND a.attname = 'origin') = 'text'::regtype THEN
    ALTER TABLE iasql_audit_log DROP CONSTRAINT IF EXISTS iasql_audit_log_origin_check,
      DROP CONSTRAINT IF EXISTS iasql_audit_log_op_check,
      ALTER COLUMN origin TYPE iasql_change_origin, ALTER COLUMN op TYPE iasql_change_op;
  END IF;
END $$;
-- The iasql transaction (iasql_begin) of the session that made a change,
-- or NULL: a transaction owns the changes made in its holder's session
-- (docs/rollback.md, "What a transaction owns"). The value is the
-- session's iasql.transaction, which iasql_begin sets. The capture
-- functions run without a search_path of their own, and the planner inlines
-- this default into their INSERT, parsing it in the caller's search_path:
-- every name in it is qualified (see the capture functions below).
CREATE OR REPLACE FUNCTION iasql_session_transaction() RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN pg_catalog.current_setting('iasql.transaction', true)
                     OPERATOR(pg_catalog.~) '^[0-9]{1,18}$'
              THEN pg_catalog.current_setting('iasql.transaction', true)::pg_catalog.int8 END
$$;
ALTER TABLE iasql_audit_log ADD COLUMN IF NOT EXISTS iasql_tx bigint;
ALTER TABLE iasql_audit_log ALTER COLUMN iasql_tx SET DEFAULT iasql_session_transaction();
CREATE INDEX IF NOT EXISTS iasql_audit_log_in_tx ON iasql_audit_log (table_name, row_id, id)
  WHERE iasql_tx IS NOT NULL;

CREATE TABLE IF NOT EXISTS iasql_commits (
  id bigint PRIMARY KEY,
  ts timestamptz NOT NULL,
  message text,
  status text NOT NULL CHECK (status IN ('ok', 'partial', 'failed')),
  created integer NOT NULL DEFAULT 0,
  updated integer NOT NULL DEFAULT 0,
  replaced integer NOT NULL DEFAULT 0,
  deleted integer NOT NULL DEFAULT 0,
  failed integer NOT NULL DEFAULT 0,
  transaction_id bigint
);
-- The role that asked for the commit (the caller's session user, as the
-- engine found it; iasql_engine for auto-apply).
ALTER TABLE iasql_commits ADD COLUMN IF NOT EXISTS role name;
-- A commit under way has its row from its start: status 'running', the
-- actions it carries out (total) and how many have ended (done); its
-- commit point gives the final status and counts.
ALTER TABLE iasql_commits ADD COLUMN IF NOT EXISTS done integer;
ALTER TABLE iasql_commits ADD COLUMN IF NOT EXISTS total integer;
ALTER TABLE iasql_commits DROP CONSTRAINT IF EXISTS iasql_commits_status_check;
ALTER TABLE iasql_commits ADD CONSTRAINT iasql_commits_status_check
  CHECK (status IN ('running', 'ok', 'partial', 'failed'));
DO $$
BEGIN
  IF (SELECT data_type FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = 'iasql_commits'
         AND column_name = 'transaction_id') = 'text' THEN
    ALTER TABLE iasql_commits ALTER COLUMN transaction_id TYPE bigint
      USING transaction_id::bigint;
  END IF;
END $$;

-- iasql transactions (iasql_begin). At most one row is 'open'. It is held
-- while its session holds the session advisory lock lock_key, a random key
-- nobody can take before the holder does: it goes with the session, so a
-- client that dies never leaves the database locked. A row still 'open'
-- without its lock is marked 'abandoned' by the next iasql_begin().
CREATE TABLE IF NOT EXISTS iasql_transactions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pid integer NOT NULL,
  role name NOT NULL,
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  ended_at timestamptz,
  status text NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'committed', 'rolled back', 'abandoned'))
);
ALTER TABLE iasql_transactions ADD COLUMN IF NOT EXISTS lock_key bigint;
-- Set once the engine has reported the transaction as idle past the bound.
ALTER TABLE iasql_transactions ADD COLUMN IF NOT EXISTS idle_reported boolean NOT NULL DEFAULT false;
UPDATE iasql_transactions SET status = 'abandoned', ended_at = clock_timestamp()
 WHERE status = 'open' AND (lock_key IS NULL OR id < (SELECT max(id) FROM iasql_transactions WHERE status = 'open'));
-- An abandoned transaction (its session ended without iasql_commit() or
-- iasql_rollback()) whose changes are still pending: auto-apply leaves
-- them, an explicit iasql_commit() applies them, iasql_rollback() discards
-- them; either clears this.
ALTER TABLE iasql_transactions ADD COLUMN IF NOT EXISTS changes_pending boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX IF NOT EXISTS iasql_transactions_one_open ON iasql_transactions ((true))
  WHERE status = 'open';

CREATE TABLE IF NOT EXISTS iasql_errors (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ts timestamptz NOT NULL DEFAULT clock_timestamp(),
  commit_id bigint,
  table_name text,
  row_id bigint,
  message text NOT NULL
);

-- Requests from SQL functions to the engine (docs/rpc.md). The engine keeps
-- a few 'open' tickets, each with a random advisory-lock key it holds; a
-- caller claims one, and the engine releases the lock once the answer is
-- written, which wakes the caller. caller_secret and nonce prove which
-- session filed the request; nobody but the engine reads them.
CREATE TABLE IF NOT EXISTS iasql_rpc (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  status text NOT NULL DEFAULT 'open',
  op text,
  args text[],
  caller name,
  submitted_at timestamptz,
  finished_at timestamptz,
  result json,
  error text,
  error_hint text
);
ALTER TABLE iasql_rpc ADD COLUMN IF NOT EXISTS ticket_key bigint;
ALTER TABLE iasql_rpc ADD COLUMN IF NOT EXISTS error_detail text;
-- A long request's progress, line by line ("57/200 created bucket ..."),
-- which the waiting call raises as NOTICEs, and its count.
ALTER TABLE iasql_rpc ADD COLUMN IF NOT EXISTS progress text[];
ALTER TABLE iasql_rpc ADD COLUMN IF NOT EXISTS progress_done integer;
ALTER TABLE iasql_rpc ADD COLUMN IF NOT EXISTS progress_total integer;
ALTER TABLE iasql_rpc ADD COLUMN IF NOT EXISTS nonce bigint;
ALTER TABLE iasql_rpc ADD COLUMN IF NOT EXISTS caller_secret text;
ALTER TABLE iasql_rpc ADD COLUMN IF NOT EXISTS caller_pid integer;
ALTER TABLE iasql_rpc ADD COLUMN IF NOT EXISTS taken_at timestamptz;
ALTER TABLE iasql_rpc DROP CONSTRAINT IF EXISTS iasql_rpc_status_check;
ALTER TABLE iasql_rpc ADD CONSTRAINT iasql_rpc_status_check
  CHECK (status IN ('open', 'queued', 'working', 'done', 'failed', 'cancelled', 'abandoned'));

-- The engine's presence: the server process of its control connection while
-- it runs, 'stopped' after a clean stop. Callers read it to tell "not
-- running" from "reconnecting" (docs/rpc.md).
CREATE TABLE IF NOT EXISTS iasql_engine_state (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  state text NOT NULL DEFAULT 'stopped' CHECK (state IN ('running', 'stopped')),
  pid integer,
  since timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO iasql_engine_state DEFAULT VALUES ON CONFLICT DO NOTHING;
-- Where it runs, and how far its tail has read (iasql_status()).
ALTER TABLE iasql_engine_state ADD COLUMN IF NOT EXISTS host text;
ALTER TABLE iasql_engine_state ADD COLUMN IF NOT EXISTS version text;
ALTER TABLE iasql_engine_state ADD COLUMN IF NOT EXISTS tailed_at timestamptz;
ALTER TABLE iasql_engine_state ADD COLUMN IF NOT EXISTS tailed_max_id bigint;

-- The journal that goes with this database (docs/journal.md, "Which
-- journal"): its identity and folder, which the engine records at start,
-- and its high-water mark, the last commit point and its last sequence
-- number, which every commit point's database record moves in the same
-- transaction. The engine refuses a journal that is empty, another
-- database's, another journal, or behind this mark.
CREATE TABLE IF NOT EXISTS iasql_journal (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  journal_id text NOT NULL,
  path text NOT NULL,
  last_commit_id bigint NOT NULL DEFAULT 0,
  last_seq bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The login of this database's RPC role (iasql_rpc_<database oid>): the
-- password iasql init generated for it. Readable by iasql_engine alone.
CREATE TABLE IF NOT EXISTS iasql_rpc_login (
  role name PRIMARY KEY,
  password text NOT NULL
);
CREATE INDEX IF NOT EXISTS iasql_rpc_pending ON iasql_rpc (id) WHERE status IN ('open', 'queued');

-- Resources another iasql database made (tagged iasql:owner with its
-- database_id), by row, as the last list showed them. A commit refuses to
-- change or delete these (docs/poll.md, "Two databases, one account").
CREATE TABLE IF NOT EXISTS iasql_foreign_owner (
  table_name text NOT NULL,
  row_id bigint NOT NULL,
  owner text NOT NULL,
  PRIMARY KEY (table_name, row_id)
);

-- What an install and the poller take in of a module's resources (the
-- selective import: iasql_install(modules, filter) writes it; a user may
-- change it later, for what the poller takes in from then on):
-- only those that carry the tag (and its value, when
-- given) and whose name starts with the prefix. A resource the database
-- already has is never left out. The name is a table's first cloud-id
-- column when the user names it (a bucket's name, a role's), else the
-- Name tag (the EC2 family); a table with neither, or without tags for a
-- tag filter, follows its parent (a child whose parent is not in the
-- database is not taken in).
CREATE TABLE IF NOT EXISTS iasql_import_filter (
  module_name text PRIMARY KEY,
  tag_key text,
  tag_value text,
  name_prefix text,
  CONSTRAINT iasql_import_filter_a_tag_or_a_name_prefix
    CHECK (tag_key IS NOT NULL OR name_prefix IS NOT NULL),
  CONSTRAINT iasql_import_filter_tag_value_needs_its_key
    CHECK (tag_value IS NULL OR tag_key IS NOT NULL),
  CONSTRAINT iasql_import_filter_not_empty
    CHECK (tag_key <> '' AND name_prefix <> '')
);
REVOKE ALL ON iasql_import_filter FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON iasql_import_filter TO iasql_user;

-- History and catalogue: readable by iasql_user, written by the engine
-- alone. The RPC tables and the secrets are the engine's only.
REVOKE ALL ON iasql_config, iasql_module, iasql_dependencies, iasql_tables, iasql_audit_log,
  iasql_commits, iasql_errors, iasql_rpc, iasql_transactions, iasql_foreign_owner,
  iasql_engine_state, iasql_rpc_login, iasql_journal FROM PUBLIC;
REVOKE ALL ON iasql_rpc, iasql_rpc_login FROM iasql_user;
GRANT SELECT ON iasql_config, iasql_module, iasql_dependencies, iasql_tables, iasql_audit_log,
  iasql_commits, iasql_errors, iasql_transactions, iasql_foreign_owner, iasql_engine_state,
  iasql_journal TO iasql_user;

-- Secrets in transit. The cleartext of a secret column (an SSM SecureString
-- value) waits here, readable by the engine alone, from the user's write
-- until the commit that sends it to the cloud; the row, the audit log and
-- the journal only ever hold a mask ('iasql-secret:' and a random uuid)
-- that changes whenever the secret does. See docs/secrets.md.
CREATE TABLE IF NOT EXISTS iasql_secret (
  table_name text NOT NULL,
  row_id bigint NOT NULL,
  column_name text NOT NULL,
  mask text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (table_name, row_id, column_name)
);
REVOKE ALL ON iasql_secret FROM PUBLIC;

CREATE OR REPLACE FUNCTION iasql_is_mask(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT v LIKE 'iasql-secret:%' $$;

-- Raises unless rel is a resource table of an installed module: in schema
-- public, owned by iasql_engine (only the engine makes those), listed in
-- iasql_tables. A module's own SECURITY DEFINER trigger calls it first, so
-- that it never runs on a table, or with column types, that a user made
-- (the capture functions check their own table by name, below).
CREATE OR REPLACE FUNCTION iasql_capture_check(rel oid) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_class c JOIN iasql_tables t ON t.table_name = c.relname::text
                  WHERE c.oid = rel AND c.relnamespace = 'public'::regnamespace
                    AND c.relowner = 'iasql_engine'::regrole) THEN
    RAISE EXCEPTION 'iasql triggers run only on the resource tables of installed modules'
      USING DETAIL = format('A trigger fired on relation %s.', rel),
            HINT = 'Write to the module''s own table in schema public instead.';
  END IF;
END $$;

-- Keeps a secret for the engine and returns the mask the row holds instead.
-- Called only from a module's own SECURITY DEFINER trigger, which checked
-- its table first (docs/secrets.md); no user role may execute it.
CREATE OR REPLACE FUNCTION iasql_secret_put(_table text, _row_id bigint, _column text,
                                            _value text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  m text := 'iasql-secret:' || gen_random_uuid();
BEGIN
  INSERT INTO iasql_secret (table_name, row_id, column_name, mask, value)
  VALUES (_table, _row_id, _column, m, _value)
  ON CONFLICT (table_name, row_id, column_name)
  DO UPDATE SET mask = EXCLUDED.mask, value = EXCLUDED.value;
  RETURN m;
END $$;

-- Forgets the secrets of a deleted row.
CREATE OR REPLACE FUNCTION iasql_secret_drop(_table text, _row_id bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  DELETE FROM iasql_secret WHERE table_name = _table AND row_id = _row_id
$$;

-- ---------------------------------------------------------------- capture

-- The origin of a change: 'user' for any session user but the engine; for
-- the engine's own writes, what it declared. The planner inlines this into
-- the capture functions' INSERT, parsing it in the caller's search_path, so
-- every name in it is qualified and it has no NULLIF (whose = is looked up
-- by name).
CREATE OR REPLACE FUNCTION iasql_audit_origin() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN session_user::pg_catalog.text OPERATOR(pg_catalog.<>) 'iasql_engine'
              THEN 'user'
              ELSE COALESCE(CASE WHEN pg_catalog.current_setting('iasql.origin', true)
                                        OPERATOR(pg_catalog.<>) ''
                                 THEN pg_catalog.current_setting('iasql.origin', true) END,
                            'engine') END
$$;

-- A user's row goes only into an enabled region (aws_regions.is_enabled):
-- the engine neither polls nor should create anything elsewhere. The
-- capture function of a table with a region compares the region of each row
-- of its INSERT or UPDATE with iasql_disabled_regions in its audit INSERT
-- and calls this for a user's row in a disabled region, so the statement
-- fails at its end; the
-- engine's own writes (restores, what it reads from the cloud) pass. A
-- region aws_regions does not list is the foreign key's to refuse. STABLE
-- (it changes nothing, it only raises), so that the planner may flatten the
-- INSERT's SELECT, which a volatile function in its target list prevents.
CREATE OR REPLACE FUNCTION iasql_region_refused(_table text, _row_id bigint, _region text)
RETURNS json
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'region % is not enabled', _region
    USING ERRCODE = 'check_violation', CONSTRAINT = _table || '_region_enabled',
          DETAIL = format('%s row %s has region %s, which aws_regions has with is_enabled = false '
                          '(rule %s_region_enabled).', _table, _row_id, _region, _table),
          HINT = format('Enable it first: UPDATE aws_regions SET is_enabled = true WHERE region = %L;',
                        _region);
END $$;

-- The regions aws_regions has disabled, as a constant. The capture
-- functions compare a row's region with it, which the planner folds into
-- their plans: a join with aws_regions cost every single-row INSERT the
-- set-up of a scan (docs/decisions.md, "Capture cost"). iasql_regions_follow
-- defines it again after every statement that changes aws_regions, and a
-- new definition invalidates every plan that folded the old one, as it does
-- for any function a plan inlined. Made here only once, so that `iasql
-- init` keeps what it holds.
DO $$
BEGIN
  IF to_regprocedure('public.iasql_disabled_regions()') IS NULL THEN
    CREATE FUNCTION public.iasql_disabled_regions() RETURNS pg_catalog.text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $f$ SELECT '{}'::pg_catalog.text[] $f$;
  END IF;
END $$;

-- The statement trigger on aws_regions (aws_account.sql) that keeps
-- iasql_disabled_regions. One definition at a time, under an advisory lock:
-- two transactions replacing it at once would fail on its pg_proc row. The
-- definition changes only when the set of disabled regions does.
CREATE OR REPLACE FUNCTION iasql_regions_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  disabled text[];
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock(1767993713, -2);
  SELECT COALESCE(pg_catalog.array_agg(r.region ORDER BY r.region), '{}')
    INTO disabled FROM public.aws_regions r WHERE NOT r.is_enabled;
  IF disabled IS DISTINCT FROM public.iasql_disabled_regions() THEN
    EXECUTE pg_catalog.format(
      'CREATE OR REPLACE FUNCTION public.iasql_disabled_regions() RETURNS pg_catalog.text[] '
      'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
      pg_catalog.format('SELECT %L::pg_catalog.text[]', disabled));
  END IF;
  RETURN NULL;
END $$;

-- An aws_regions older than its trigger gets it; either way what it holds
-- now is what iasql_disabled_regions says.
DO $$
BEGIN
  IF to_regclass('public.aws_regions') IS NOT NULL THEN
    IF NOT EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = 'public.aws_regions'::regclass
                     AND g.tgname = 'aws_regions_follow') THEN
      CREATE TRIGGER aws_regions_follow AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
        ON public.aws_regions FOR EACH STATEMENT EXECUTE FUNCTION public.iasql_regions_follow();
    END IF;
    UPDATE public.aws_regions SET is_enabled = is_enabled WHERE false;
  END IF;
END $$;

-- The capture functions of resource table t, made (again) by
-- iasql_attach_capture and by `iasql init`: iasql_capture_insert_<t>,
-- iasql_capture_update_<t> and iasql_capture_delete_<t>, the statement
-- triggers that write the audit log (docs/decisions.md, "Capture cost").
--
-- They are SECURITY DEFINER (only the engine may write the audit log) and
-- first refuse any relation but public.<t>, by TG_TABLE_SCHEMA and
-- TG_TABLE_NAME alone, which PL/pgSQL evaluates without a query: relation
-- names are unique in a schema (so not a temporary table of its name), and
-- the functions exist while the table does (made when its module is
-- installed, dropped with the table), so their existence is the table's
-- registration. A table with a region column checks the rule
-- <t>_region_enabled in the same INSERT, against iasql_disabled_regions.
--
-- They have no SET search_path (setting and restoring it cost a single-row
-- INSERT more than the audit row's indexes), so they run in the caller's,
-- where the caller's pg_temp or own schema may come first for types and
-- relations, and the caller's own schema before pg_catalog for functions
-- and operators. So every name they reach is qualified: relations and
-- functions by schema, operators as OPERATOR(pg_catalog.x); no IS DISTINCT
-- FROM, IN, NULLIF or simple CASE, which look up = by name; no variables,
-- whose types are names; and the same in the bodies of the SQL functions
-- the planner inlines into them (iasql_audit_origin and the iasql_tx
-- default iasql_session_transaction). The transition tables (iasql_new,
-- iasql_old) are found before any relation of their name.
-- test_hostile_search_path (tests/security/sec_roles.c) writes under such a
-- path. iasql_region_refused, called only to raise, keeps a search_path.
CREATE OR REPLACE FUNCTION iasql_capture_define(t regclass) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  tname text;
  regional boolean;
  guard text;
  image text := 'pg_catalog.to_json(n)';
  image_update text := 'pg_catalog.to_json(n)';
  body text;
  op text;
BEGIN
  SELECT c.relname::text INTO tname FROM pg_class c
   WHERE c.oid = t AND c.relnamespace = 'public'::regnamespace;
  IF tname IS NULL THEN
    RAISE EXCEPTION 'iasql captures only tables in schema public, not %', t;
  END IF;
  IF octet_length('iasql_capture_insert_' || tname) > 63 THEN
    RAISE EXCEPTION 'table name % is too long for its capture functions', tname
      USING DETAIL = 'They are named iasql_capture_insert_<table> and so on, at most 63 bytes.';
  END IF;
  regional := to_regclass('public.aws_regions') IS NOT NULL
    AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = t AND a.attname = 'region'
                  AND NOT a.attisdropped);
  guard := format($g$
  IF TG_TABLE_SCHEMA OPERATOR(pg_catalog.<>) 'public' OR TG_TABLE_NAME OPERATOR(pg_catalog.<>) %L THEN
    RAISE EXCEPTION 'iasql triggers run only on the resource tables of installed modules'
      USING DETAIL = pg_catalog.format('A trigger fired on relation %%I.%%I.', TG_TABLE_SCHEMA,
                                       TG_TABLE_NAME),
            HINT = 'Write to the module''s own table in schema public instead.';
  END IF;$g$, tname);
  IF regional THEN
    -- a row into a disabled region; for an UPDATE, a row moved into one
    image := format($r$CASE WHEN n.region IS NULL
              OR NOT n.region OPERATOR(pg_catalog.=) ANY (public.iasql_disabled_regions())
              OR public.iasql_audit_origin() OPERATOR(pg_catalog.<>) 'user'
            THEN pg_catalog.to_json(n)
            ELSE public.iasql_region_refused(%L::pg_catalog.text, n.id::pg_catalog.int8,
                                             n.region::pg_catalog.text) END$r$, tname);
    image_update := format($r$CASE WHEN n.region IS NULL
              OR NOT n.region OPERATOR(pg_catalog.=) ANY (public.iasql_disabled_regions())
              OR n.region OPERATOR(pg_catalog.=) p.region
              OR public.iasql_audit_origin() OPERATOR(pg_catalog.<>) 'user'
            THEN pg_catalog.to_json(n)
            ELSE public.iasql_region_refused(%L::pg_catalog.text, n.id::pg_catalog.int8,
                                             n.region::pg_catalog.text) END$r$, tname);
  END IF;
  FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
    body := CASE op
      WHEN 'insert' THEN format($i$
  INSERT INTO public.iasql_audit_log (origin, table_name, op, row_id, new_row)
  SELECT public.iasql_audit_origin(), %L, 'INSERT', n.id,
         %s
    FROM iasql_new n;$i$, tname, image)
      -- An UPDATE that changes nothing is not a change and is not recorded
      -- (record = is IS DISTINCT FROM for whole rows: NULL fields are equal).
      WHEN 'update' THEN format($u$
  INSERT INTO public.iasql_audit_log (origin, table_name, op, row_id, old_row, new_row)
  SELECT public.iasql_audit_origin(), %L, 'UPDATE', n.id, pg_catalog.to_json(p),
         %s
    FROM iasql_old p JOIN iasql_new n ON n.id OPERATOR(pg_catalog.=) p.id
   WHERE NOT (p OPERATOR(pg_catalog.=) n);$u$, tname, image_update)
      ELSE format($d$
  INSERT INTO public.iasql_audit_log (origin, table_name, op, row_id, old_row)
  SELECT public.iasql_audit_origin(), %L, 'DELETE', p.id, pg_catalog.to_json(p)
    FROM iasql_old p;$d$, tname) END;
    EXECUTE format('CREATE OR REPLACE FUNCTION public.%I() RETURNS trigger '
                   'LANGUAGE plpgsql SECURITY DEFINER AS %L',
                   'iasql_capture_' || op || '_' || tname,
                   E'\nBEGIN' || guard || body || E'\n  RETURN NULL;\nEND\n');
    EXECUTE format('REVOKE EXECUTE ON FUNCTION public.%I() FROM PUBLIC, iasql_user',
                   'iasql_capture_' || op || '_' || tname);
  END LOOP;
END $$;

-- The capture triggers of resource table t, on its capture functions.
CREATE OR REPLACE FUNCTION iasql_capture_triggers(t regclass) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  tname text := (SELECT c.relname::text FROM pg_class c WHERE c.oid = t);
BEGIN
  EXECUTE format('CREATE TRIGGER iasql_capture_insert AFTER INSERT ON %s '
                 'REFERENCING NEW TABLE AS iasql_new FOR EACH STATEMENT '
                 'EXECUTE FUNCTION public.%I()', t, 'iasql_capture_insert_' || tname);
  EXECUTE format('CREATE TRIGGER iasql_capture_update AFTER UPDATE ON %s '
                 'REFERENCING OLD TABLE AS iasql_old NEW TABLE AS iasql_new FOR EACH STATEMENT '
                 'EXECUTE FUNCTION public.%I()', t, 'iasql_capture_update_' || tname);
  EXECUTE format('CREATE TRIGGER iasql_capture_delete AFTER DELETE ON %s '
                 'REFERENCING OLD TABLE AS iasql_old FOR EACH STATEMENT '
                 'EXECUTE FUNCTION public.%I()', t, 'iasql_capture_delete_' || tname);
END $$;

CREATE OR REPLACE FUNCTION iasql_refuse_id_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the id of a % row cannot change', TG_TABLE_NAME
    USING DETAIL = format('Row %s would become %s.', OLD.id, NEW.id),
          HINT = 'Delete the row and insert a new one instead.';
END $$;

CREATE OR REPLACE FUNCTION iasql_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'TRUNCATE of resource table % is not allowed', TG_TABLE_NAME
    USING HINT = 'Use DELETE, so that the change is captured and applied to the cloud.';
END $$;

-- Attaches the capture triggers to a resource table; called by the engine
-- when it installs a module. Its uninstall drops the table and the
-- table's capture functions.
CREATE OR REPLACE FUNCTION iasql_attach_capture(t regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM iasql_capture_define(t);
  PERFORM iasql_capture_triggers(t);
  EXECUTE format('CREATE TRIGGER iasql_id_fixed BEFORE UPDATE OF id ON %s FOR EACH ROW '
                 'WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION iasql_refuse_id_change()', t);
  EXECUTE format('CREATE TRIGGER iasql_no_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT '
                 'EXECUTE FUNCTION iasql_refuse_truncate()', t);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES ON %s TO iasql_user', t);
END $$;

-- Every captured table's functions are made again, so that `iasql init`
-- brings a change to them to an installed database. The tables of an older
-- schema, whose triggers called the shared iasql_audit_insert, _update and
-- _delete (which looked the table up in iasql_tables) and the row trigger
-- iasql_region_enabled, move to their own; then the shared ones go. A
-- table's lock is taken only when its triggers change.
DO $$
DECLARE
  t regclass;
BEGIN
  FOR t IN SELECT c.oid::regclass FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace
              AND EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = c.oid
                             AND g.tgname = 'iasql_capture_insert') LOOP
    PERFORM iasql_capture_define(t);
    IF NOT EXISTS (SELECT FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
                    JOIN pg_class c ON c.oid = g.tgrelid
                    WHERE g.tgrelid = t AND g.tgname = 'iasql_capture_insert'
                      AND p.pronamespace = 'public'::regnamespace
                      AND p.proname = 'iasql_capture_insert_' || c.relname::text) THEN
      EXECUTE format('DROP TRIGGER iasql_capture_insert ON %s', t);
      EXECUTE format('DROP TRIGGER IF EXISTS iasql_capture_update ON %s', t);
      EXECUTE format('DROP TRIGGER IF EXISTS iasql_capture_delete ON %s', t);
      PERFORM iasql_capture_triggers(t);
    END IF;
    IF EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = t AND g.tgname = 'iasql_region_enabled') THEN
      EXECUTE format('DROP TRIGGER iasql_region_enabled ON %s', t);
    END IF;
  END LOOP;
END $$;
DROP FUNCTION IF EXISTS iasql_audit_insert(), iasql_audit_update(), iasql_audit_delete(),
  iasql_region_enabled();

-- Tags as AWS accepts them: an object of at most 50 string values, keys of
-- 1 to 128 characters not starting with "aws:" (AWS's own) or "iasql:" (the
-- engine's own), values up to 256 characters.
-- PL/pgSQL, not SQL: every resource table checks it, and the planner
-- parses an SQL function's body again for every statement (to try to
-- inline it), where PL/pgSQL's plan lasts the session.
CREATE OR REPLACE FUNCTION iasql_tags_valid(t jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN jsonb_typeof(t) = 'object'
     AND (SELECT count(*) <= 50
                 AND coalesce(bool_and(jsonb_typeof(e.value) = 'string'
                                       AND length(e.key) BETWEEN 1 AND 128
                                       AND length(e.value #>> '{}') <= 256
                                       AND e.key NOT LIKE 'aws:%'
                                       AND e.key NOT LIKE 'iasql:%'), true)
            FROM jsonb_each(t) e);
END $$;

-- How many tags a user may set on a resource the engine makes: AWS allows
-- 50 in all, and the engine adds its own (iasql:owner everywhere, and
-- iasql:client-token on EC2), so a module names the limit, 50 less what it
-- adds, as TG_ARGV[0], and names the trigger after the rule (for example
-- vpc_tags_max_48_plus_iasql_owner_and_token), which the error reports as
-- its constraint. The engine's own writes (what it reads from the cloud,
-- where a resource made elsewhere may carry 50) pass.
CREATE OR REPLACE FUNCTION iasql_tags_limit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  lim integer := TG_ARGV[0]::integer;
  n integer;
BEGIN
  IF session_user::text <> 'iasql_engine' AND jsonb_typeof(to_jsonb(NEW.tags)) = 'object' THEN
    -- the number of keys as an expression, not a query: a row trigger that
    -- runs no query costs a single-row INSERT about half as much
    n := jsonb_array_length(jsonb_path_query_array(to_jsonb(NEW.tags), 'strict $.*'));
    IF n > lim THEN
      RAISE EXCEPTION 'new row for relation "%" violates rule %', TG_TABLE_NAME, TG_NAME
        USING ERRCODE = 'check_violation', CONSTRAINT = TG_NAME,
              DETAIL = format('Row %s has %s tags and at most %s fit: AWS allows 50 on a resource, '
                              'and iasql adds %s of its own (%s).', NEW.id, n, lim, 50 - lim,
                              CASE WHEN lim = 48 THEN 'iasql:owner and iasql:client-token'
                                   ELSE 'iasql:owner' END),
              HINT = format('Keep at most %s tags in %s.tags.', lim, TG_TABLE_NAME);
    END IF;
  END IF;
  RETURN NEW;
END $$;

-- ---------------------------------------------------------------- RPC

-- Signatures of older schemas (and the view over one that changes).
DROP VIEW IF EXISTS iasql_status;
DROP FUNCTION IF EXISTS iasql_rpc_submit(text, text[]);
DROP FUNCTION IF EXISTS iasql_rpc_answer(bigint);
DROP FUNCTION IF EXISTS iasql_rpc_key(bigint);
DROP FUNCTION IF EXISTS iasql_transaction_holder();

-- A random one-key advisory-lock key (60 random bits of a version 4 uuid).
CREATE OR REPLACE FUNCTION iasql_random_key() RETURNS bigint
LANGUAGE sql VOLATILE AS $$
  SELECT ('x' || left(replace(gen_random_uuid()::text, '-', ''), 16))::bit(64)::bigint
$$;

-- The advisory-lock key by which a caller proves it filed a request: the
-- first 64 bits of SHA-256 over its session's secret and the request's
-- nonce. Only the caller's session and its own RPC connection know the
-- secret, so no other session can hold this key for a request it did not
-- file (docs/rpc.md, "Who filed a request").
CREATE OR REPLACE FUNCTION iasql_rpc_lock_key(_secret text, _nonce bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT ('x' || left(encode(sha256(convert_to(_secret || ':' || _nonce::text, 'UTF8')), 'hex'),
                      16))::bit(64)::bigint
$$;

-- The server process that holds the one-key advisory lock _key in this
-- database, or NULL.
CREATE OR REPLACE FUNCTION iasql_lock_holder(_key bigint) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT l.pid FROM pg_locks l
   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
     AND l.classid = ((_key >> 32) & 4294967295)::oid AND l.objid = (_key & 4294967295)::oid
     AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
   LIMIT 1
$$;

-- Whether the engine is here: 'running' (its control connection is up; it
-- logged in as iasql_engine, or as a superuser and switched to it),
-- 'reconnecting' (it said it runs, but that connection is gone), or
-- 'stopped' (it stopped cleanly, or never ran).
CREATE OR REPLACE FUNCTION iasql_engine_presence(OUT status text, OUT pid integer,
                                                 OUT since timestamptz)
LANGUAGE sql VOLATILE AS $$
  SELECT CASE WHEN s.state = 'stopped' THEN 'stopped'
              WHEN EXISTS (SELECT FROM pg_stat_get_activity(s.pid) a
                            WHERE a.datid = (SELECT d.oid FROM pg_database d
                                              WHERE d.datname = current_database())
                              AND (a.usesysid = 'iasql_engine'::regrole OR a.usesysid IN
                                   (SELECT r.oid FROM pg_roles r WHERE r.rolsuper)))
                   THEN 'running'
              ELSE 'reconnecting' END, s.pid, s.since
    FROM iasql_engine_state s, pg_stat_clear_snapshot() x
$$;

-- How long a call waits for an engine that is reconnecting, in seconds:
-- the session's iasql.engine_wait, else iasql_config engine_wait_seconds,
-- else 5.
CREATE OR REPLACE FUNCTION iasql_engine_wait() RETURNS double precision
LANGUAGE sql STABLE AS $$
  SELECT least(greatest(coalesce(nullif(current_setting('iasql.engine_wait', true), '')::double precision,
                                 (SELECT c.value::double precision FROM iasql_config c
                                   WHERE c.key = 'engine_wait_seconds'),
                                 5), 0), 3600)
$$;

-- Raises the message for an engine that is not there (status as
-- iasql_engine_presence gives it); _what says what did not happen.
CREATE OR REPLACE FUNCTION iasql_engine_absent(_status text, _since timestamptz, _what text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF _status = 'reconnecting' THEN
    RAISE EXCEPTION 'the iasql engine for database % is reconnecting', current_database()
      USING DETAIL = format('It has not been connected since its session of %s ended; %s.',
                            _since, _what),
            HINT = 'Call again in a moment. If it does not come back, see its log, or start it with: iasql run CONNINFO';
  END IF;
  RAISE EXCEPTION 'the iasql engine is not running for database %', current_database()
    USING DETAIL = format('%s.', _what),
          HINT = 'Start it with: iasql run CONNINFO --journal DIR';
END $$;

-- Opens this session's connection to the engine's request table, as this
-- database's RPC role, carrying the session's secret in its start-up
-- options (never in a query text, which other RPC sessions could read).
-- SECURITY DEFINER: only iasql_engine can read the RPC role's password.
CREATE OR REPLACE FUNCTION iasql_rpc_connect(_secret text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  ci text;
BEGIN
  IF _secret IS NULL OR _secret !~ '^[0-9a-f]{32,128}$' THEN
    RAISE EXCEPTION 'an iasql RPC secret is 32 to 128 hexadecimal digits';
  END IF;
  SELECT format('%s user=''%s'' password=''%s'' options=''-c iasql.rpc_secret=%s''',
                c.value, l.role, l.password, _secret)
    INTO ci
    FROM iasql_config c, iasql_rpc_login l
   WHERE c.key = 'loopback_conninfo' AND l.role = (SELECT r.value FROM iasql_config r
                                                    WHERE r.key = 'rpc_role');
  IF ci IS NULL THEN
    RAISE EXCEPTION 'database % has no iasql RPC login', current_database()
      USING HINT = 'Run iasql init CONNINFO again.';
  END IF;
  PERFORM dblink_connect('iasql_rpc', ci);
END $$;

-- Runs in the caller's RPC connection, which commits at once. Files a
-- request under the connection's secret and the caller's nonce; returns its
-- id and the ticket whose lock wakes the caller (NULL when every ticket is
-- taken: the caller then polls).
CREATE OR REPLACE FUNCTION iasql_rpc_submit(_op text, _args text[], _nonce bigint,
                                            OUT id bigint, OUT ticket bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  s text := current_setting('iasql.rpc_secret', true);
BEGIN
  IF coalesce(s, '') = '' OR _nonce IS NULL THEN
    RAISE EXCEPTION 'an iasql request needs the connection''s secret and a nonce';
  END IF;
  UPDATE iasql_rpc r
     SET status = 'queued', op = _op, args = _args, nonce = _nonce, caller_secret = s,
         submitted_at = clock_timestamp()
   WHERE r.id = (SELECT o.id FROM iasql_rpc o WHERE o.status = 'open'
                  ORDER BY o.id LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING r.id, r.ticket_key INTO id, ticket;
  IF id IS NULL THEN
    INSERT INTO iasql_rpc (status, op, args, nonce, caller_secret, submitted_at)
    VALUES ('queued', _op, _args, _nonce, s, clock_timestamp())
    RETURNING iasql_rpc.id INTO id;
  END IF;
  PERFORM pg_notify('iasql_rpc', id::text);
END $$;

-- The answer to one of this connection's own requests (nothing for any
-- other's).
CREATE OR REPLACE FUNCTION iasql_rpc_answer(_id bigint,
  OUT status text, OUT result json, OUT error text, OUT error_hint text, OUT error_detail text,
  OUT progress text[])
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT r.status, r.result, r.error, r.error_hint, r.error_detail, r.progress FROM iasql_rpc r
   WHERE r.id = _id AND r.caller_secret = current_setting('iasql.rpc_secret', true)
$$;

-- Withdraws one of this connection's own requests if the engine has not
-- taken it; returns its status afterwards.
CREATE OR REPLACE FUNCTION iasql_rpc_cancel(_id bigint) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  st text;
BEGIN
  UPDATE iasql_rpc r SET status = 'cancelled', finished_at = clock_timestamp(),
         error = 'the caller stopped waiting before the engine took the request'
   WHERE r.id = _id AND r.caller_secret = current_setting('iasql.rpc_secret', true)
     AND r.status = 'queued';
  SELECT r.status INTO st FROM iasql_rpc r
   WHERE r.id = _id AND r.caller_secret = current_setting('iasql.rpc_secret', true);
  RETURN st;
END $$;

CREATE OR REPLACE FUNCTION iasql_rpc_call(_op text, _args text[]) RETURNS json
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  secret text := current_setting('iasql.rpc_secret', true);
  nonce bigint := iasql_random_key();
  t bigint;
  ticket bigint;
  a record;
  e record;
  bound double precision := iasql_engine_wait();
  down_since timestamptz;
  nap double precision := 0.01;
  held text;
  shown integer := 0;
BEGIN
  IF pg_current_xact_id_if_assigned() IS NOT NULL AND EXISTS (
       SELECT FROM iasql_audit_log l
        WHERE l.txid = pg_current_xact_id() AND l.origin = 'user') THEN
    RAISE EXCEPTION 'iasql_%() cannot run inside a transaction that changed resource rows', _op
      USING ERRCODE = 'active_sql_transaction',
            DETAIL = 'The engine works on its own connection and cannot see rows this transaction has not committed.',
            HINT = 'COMMIT first, then call the function again.';
  END IF;
  -- Locks this transaction holds on iasql's tables would make the engine,
  -- on its own connection, wait for this very call: a cycle PostgreSQL's
  -- deadlock detector cannot see. Any lock blocks an uninstall's DROP; a
  -- lock stronger than reading's (FOR UPDATE, LOCK TABLE, a write) blocks
  -- the engine's writes. Only a transaction block can hold them from an
  -- earlier statement, so a call on its own asks nothing of pg_locks.
  IF _op NOT IN ('preview', 'preview_graph', 'modules_list') AND statement_timestamp() <> transaction_timestamp() THEN
    SELECT string_agg(format('%s (%s)', c.relname, l.mode), ', ' ORDER BY c.relname, l.mode) INTO held
      FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
     WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
       AND c.relnamespace = 'public'::regnamespace
       AND EXISTS (SELECT FROM iasql_tables t WHERE t.table_name = c.relname::text)
       AND (l.mode <> 'AccessShareLock' OR _op IN ('uninstall', 'uninstall_discard'));
    IF held IS NOT NULL THEN
      RAISE EXCEPTION 'iasql_%() cannot run in a transaction that holds locks on iasql''s tables',
        CASE WHEN _op = 'rollback_to' THEN 'rollback' ELSE _op END
        USING ERRCODE = 'active_sql_transaction',
              DETAIL = format('This transaction holds %s; the engine works on its own connection and would wait for them.', held),
              HINT = 'COMMIT or ROLLBACK first, then call the function again.';
    END IF;
  END IF;
  IF _op = 'commit' AND octet_length(_args[1]) > 4096 THEN
    RAISE EXCEPTION 'the commit message is % bytes long; the most is 4096', octet_length(_args[1])
      USING ERRCODE = 'string_data_right_truncation',
            HINT = 'Keep details in your own system and refer to them in the message.';
  END IF;
  -- An engine that stopped cleanly is told at once, with nothing filed. One
  -- that is gone without saying so is found out below, on the slow path,
  -- so that a call to a running engine asks nothing of pg_stat_activity.
  SELECT * INTO e FROM iasql_engine_state;
  IF e.state = 'stopped' THEN
    PERFORM iasql_engine_absent('stopped', e.since, format('iasql_%s() was not carried out', _op));
  END IF;
  -- A killed or disconnected client's backend notices within a second
  -- even while it waits, and so gives up its request (see below). The
  -- check is armed when a statement starts: iasql init sets it for the
  -- database; a session that turned it off gets it back for its next call.
  IF current_setting('client_connection_check_interval') = '0' THEN
    PERFORM set_config('client_connection_check_interval', '1000', false);
  END IF;
  IF coalesce(secret, '') = '' OR NOT coalesce('iasql_rpc' = ANY (dblink_get_connections()), false) THEN
    IF coalesce('iasql_rpc' = ANY (dblink_get_connections()), false) THEN
      PERFORM dblink_disconnect('iasql_rpc');
    END IF;
    secret := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
    PERFORM iasql_rpc_connect(secret);
    PERFORM set_config('iasql.rpc_secret', secret, false);
  END IF;
  -- The proof of who filed the request lives in this block's
  -- subtransaction: a cancel or any error releases it, so the engine drops
  -- a request whose caller is gone before it took it.
  BEGIN
    PERFORM pg_advisory_xact_lock(iasql_rpc_lock_key(secret, nonce));
    SELECT x.id, x.ticket INTO t, ticket
      FROM dblink('iasql_rpc', format('SELECT * FROM iasql_rpc_submit(%L, %L, %s)', _op, _args, nonce))
        AS x(id bigint, ticket bigint);
    LOOP
      IF ticket IS NOT NULL THEN
        -- Woken the moment the engine releases the ticket. A lock timeout
        -- only means: look at the answer and at the engine, then wait on.
        BEGIN
          PERFORM set_config('lock_timeout', '1000', true);
          PERFORM pg_advisory_lock_shared(ticket);
          PERFORM pg_advisory_unlock_shared(ticket);
        EXCEPTION WHEN lock_not_available THEN
          NULL;
        END;
      ELSE
        PERFORM pg_sleep(nap);
        nap := least(nap * 2, 0.2);
      END IF;
      SELECT * INTO a
        FROM dblink('iasql_rpc', format('SELECT * FROM iasql_rpc_answer(%s)', t))
          AS x(status text, result json, error text, error_hint text, error_detail text,
               progress text[]);
      -- what finished since the last look, as the engine said it
      WHILE shown < coalesce(array_length(a.progress, 1), 0) LOOP
        shown := shown + 1;
        RAISE NOTICE '%', a.progress[shown];
      END LOOP;
      EXIT WHEN a.status IN ('done', 'failed', 'cancelled', 'abandoned');
      SELECT * INTO e FROM iasql_engine_presence();
      IF e.status = 'running' THEN
        down_since := NULL;
      ELSE
        down_since := coalesce(down_since, clock_timestamp());
        IF e.status = 'stopped' OR clock_timestamp() - down_since > make_interval(secs => bound) THEN
          SELECT x.v INTO a.status
            FROM dblink('iasql_rpc', format('SELECT iasql_rpc_cancel(%s)', t)) AS x(v text);
          IF a.status = 'cancelled' THEN
            PERFORM iasql_engine_absent(e.status, e.since,
              CASE WHEN e.status = 'stopped'
                   THEN format('request %s (iasql_%s()) was withdrawn before it was carried out', t, _op)
                   ELSE format('iasql_%s() waited %s seconds and was not carried out (request %s was withdrawn)',
                               _op, bound, t) END);
          END IF;
          RAISE EXCEPTION 'the iasql engine stopped while carrying out request % (iasql_%())', t, _op
            USING HINT = 'When it runs again, iasql_commits and iasql_get_errors() say what was applied.';
        END IF;
        PERFORM pg_sleep(0.1);
      END IF;
    END LOOP;
  EXCEPTION WHEN SQLSTATE 'IQ999' THEN
    RAISE; -- never raised: the clause only makes the block a subtransaction
  END;
  IF a.status = 'done' THEN
    RETURN a.result;
  ELSIF a.status = 'failed' AND a.error_hint IS NOT NULL AND a.error_detail IS NOT NULL THEN
    RAISE EXCEPTION USING MESSAGE = a.error, DETAIL = a.error_detail, HINT = a.error_hint;
  ELSIF a.status = 'failed' AND a.error_hint IS NOT NULL THEN
    RAISE EXCEPTION USING MESSAGE = a.error, HINT = a.error_hint;
  ELSIF a.status = 'failed' AND a.error_detail IS NOT NULL THEN
    RAISE EXCEPTION USING MESSAGE = a.error, DETAIL = a.error_detail;
  ELSIF a.status = 'failed' THEN
    RAISE EXCEPTION USING MESSAGE = a.error;
  END IF;
  RAISE EXCEPTION 'the iasql engine did not carry out request % (iasql_%())', t, _op
    USING DETAIL = coalesce(a.error, a.status),
          HINT = 'Call the function again.';
END $$;

-- ---------------------------------------------------------------- iasql transactions

-- The open iasql transaction whose session still holds its lock, for
-- messages and checks.
CREATE OR REPLACE FUNCTION iasql_transaction_holder(OUT pid integer, OUT transaction_id bigint,
  OUT who text, OUT lock_key bigint)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT x.pid, x.id,
         format('session %s (role %s, application "%s", open since %s)', x.pid, x.role,
                coalesce((SELECT a.application_name FROM pg_stat_get_activity(x.pid) a), ''),
                x.started_at),
         x.lock_key
    FROM iasql_transactions x
   WHERE x.status = 'open' AND iasql_lock_holder(x.lock_key) = x.pid
$$;

-- The iasql transaction this session holds, or NULL when none is open;
-- raises when another session holds one (_op names the caller).
CREATE OR REPLACE FUNCTION iasql_transaction_check(_op text) RETURNS bigint
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  h record;
BEGIN
  -- The common case, cheaply: no iasql transaction at all.
  IF NOT EXISTS (SELECT FROM iasql_transactions x WHERE x.status = 'open') THEN
    RETURN NULL;
  END IF;
  SELECT * INTO h FROM iasql_transaction_holder();
  IF h.pid IS NULL THEN
    RETURN NULL;
  ELSIF h.pid = pg_backend_pid() THEN
    RETURN h.transaction_id;
  END IF;
  RAISE EXCEPTION 'iasql_%() refused: iasql transaction % is open in %', _op, h.transaction_id, h.who
    USING HINT = 'It ends with iasql_commit() or iasql_rollback() in that session, or when that session ends.';
END $$;

-- Marks 'abandoned' every open iasql transaction whose session no longer
-- holds its lock, and notes in iasql_errors what became of its changes:
-- they stay pending, auto-apply leaves them, and an explicit iasql_commit()
-- or iasql_rollback() decides (docs/rollback.md, "What a transaction
-- owns"). Called by iasql_begin and by the engine; no user role may.
CREATE OR REPLACE FUNCTION iasql_transactions_abandon() RETURNS integer
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  WITH gone AS (
    UPDATE iasql_transactions x SET status = 'abandoned', ended_at = clock_timestamp(),
           changes_pending = EXISTS (SELECT FROM iasql_audit_log l
                                      WHERE l.iasql_tx = x.id AND l.origin = 'user'
                                        AND l.commit_id IS NULL)
     WHERE x.status = 'open' AND iasql_lock_holder(x.lock_key) IS DISTINCT FROM x.pid
    RETURNING x.id, x.role, x.pid, x.started_at, x.changes_pending)
  INSERT INTO iasql_errors (message)
  SELECT format('iasql transaction %s of role %s (session %s, open since %s) ended without '
                'iasql_commit() or iasql_rollback(): %s', g.id, g.role, g.pid, g.started_at,
                CASE WHEN g.changes_pending
                     THEN 'its changes stay pending and auto-apply leaves them; iasql_commit() '
                          'applies them, iasql_rollback() discards them'
                     ELSE 'it left no pending changes' END)
    FROM gone g;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

CREATE OR REPLACE FUNCTION iasql_begin(wait_seconds double precision DEFAULT 10)
RETURNS TABLE (message text, transaction_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t bigint;
  k bigint;
  h record;
  prev text := current_setting('lock_timeout');
  deadline timestamptz := clock_timestamp() + make_interval(secs => greatest(coalesce(wait_seconds, 0), 0));
  left_ms bigint;
BEGIN
  LOOP
    SELECT * INTO h FROM iasql_transaction_holder();
    IF h.pid = pg_backend_pid() THEN
      RAISE EXCEPTION 'iasql transaction % is already open in this session', h.transaction_id
        USING HINT = 'End it with iasql_commit() or iasql_rollback() first.';
    END IF;
    left_ms := greatest(1, (extract(epoch FROM deadline - clock_timestamp()) * 1000)::bigint);
    IF h.pid IS NULL THEN
      -- Nobody holds one: rows left 'open' by sessions that are gone are abandoned.
      PERFORM iasql_transactions_abandon();
      k := iasql_random_key();
      PERFORM pg_advisory_lock(k);
      BEGIN
        PERFORM set_config('lock_timeout', left_ms::text, true);
        INSERT INTO iasql_transactions (pid, role, lock_key) VALUES (pg_backend_pid(), session_user, k)
        RETURNING id INTO t;
      EXCEPTION WHEN unique_violation OR lock_not_available THEN
        PERFORM pg_advisory_unlock(k);
        t := NULL;
      END;
      PERFORM set_config('lock_timeout', prev, true);
      EXIT WHEN t IS NOT NULL;
    ELSIF clock_timestamp() >= deadline THEN
      RAISE EXCEPTION 'iasql_begin() waited % seconds: iasql transaction % is open in %',
        coalesce(wait_seconds, 0), h.transaction_id, h.who
        USING HINT = 'It ends with iasql_commit() or iasql_rollback() in that session, or when that session ends.';
    ELSE
      -- Woken when the holder's session lets go; a timeout only means: look again.
      BEGIN
        PERFORM set_config('lock_timeout', least(left_ms, 500)::text, true);
        PERFORM pg_advisory_lock_shared(h.lock_key);
        PERFORM pg_advisory_unlock_shared(h.lock_key);
      EXCEPTION WHEN lock_not_available THEN
        NULL;
      END;
      PERFORM set_config('lock_timeout', prev, true);
    END IF;
    IF clock_timestamp() >= deadline AND t IS NULL AND h.pid IS NULL THEN
      RAISE EXCEPTION 'iasql_begin() waited % seconds for another session''s iasql_begin()',
        coalesce(wait_seconds, 0)
        USING HINT = 'Call it again.';
    END IF;
  END LOOP;
  PERFORM set_config('iasql.transaction', t::text, false);
  RETURN QUERY SELECT format('iasql transaction %s is open: changes wait for iasql_commit() '
                             'or iasql_rollback()', t), t;
END $$;

-- Ends this session's iasql transaction _id.
CREATE OR REPLACE FUNCTION iasql_transaction_end(_id bigint, _status text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  k bigint;
BEGIN
  UPDATE iasql_transactions x SET status = _status, ended_at = clock_timestamp()
   WHERE x.id = _id AND x.pid = pg_backend_pid() AND x.status = 'open'
     AND _status IN ('committed', 'rolled back')
  RETURNING x.lock_key INTO k;
  IF k IS NOT NULL THEN
    PERFORM pg_advisory_unlock(k);
  END IF;
  PERFORM set_config('iasql.transaction', '', false);
END $$;

-- The RPC of a function that ends this session's iasql transaction, if it
-- holds one (_fn names the function for a refusal): the transaction ends as
-- _status. The engine checks again which session holds the transaction.
CREATE OR REPLACE FUNCTION iasql_transaction_call(_fn text, _op text, _args text[],
                                                  _status text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
  tx bigint := iasql_transaction_check(_fn);
  r json := iasql_rpc_call(_op, _args);
BEGIN
  IF tx IS NOT NULL THEN
    PERFORM iasql_transaction_end(tx, _status);
  END IF;
  RETURN r;
END $$;

-- What the engine and the iasql transaction are doing now.
CREATE OR REPLACE VIEW iasql_status AS
SELECT p.status AS engine, p.pid AS engine_pid, p.since AS engine_since,
       h.transaction_id, h.who AS transaction_holder, x.started_at AS transaction_started_at,
       coalesce(x.idle_reported, false) AS transaction_idle,
       (SELECT array_agg(a.id ORDER BY a.id) FROM iasql_transactions a
         WHERE a.status = 'abandoned' AND a.changes_pending) AS abandoned_with_changes
  FROM iasql_engine_presence() p
  LEFT JOIN iasql_transaction_holder() h ON true
  LEFT JOIN iasql_transactions x ON x.id = h.transaction_id;
REVOKE ALL ON iasql_status FROM PUBLIC;
GRANT SELECT ON iasql_status TO iasql_user;

-- Everything an operator looks at, one line each: the engine, its tail's
-- lag, the pending changes, the open iasql transaction, the last commit,
-- each table's last poll and the last errors. healthy is false for an
-- engine that is down or behind (`iasql status` exits 1 then).
CREATE OR REPLACE FUNCTION iasql_status() RETURNS TABLE (item text, state text, healthy boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH p AS (SELECT * FROM iasql_engine_presence()),
       s AS (SELECT * FROM iasql_engine_state),
       lag AS (SELECT count(*) AS events, min(l.ts) AS oldest FROM iasql_audit_log l, s
                WHERE l.id > coalesce(s.tailed_max_id, 0)),
       pend AS (SELECT count(DISTINCT (l.table_name, l.row_id)) AS rows FROM iasql_audit_log l
                 WHERE l.origin = 'user' AND l.commit_id IS NULL),
       c AS (SELECT * FROM iasql_commits ORDER BY id DESC LIMIT 1)
  SELECT 'engine', CASE WHEN p.status = 'running'
                        THEN format('running: server process %s, on %s, version %s, since %s',
                                    p.pid, coalesce(s.host, '?'), coalesce(s.version, '?'),
                                    p.since)
                        ELSE format('%s since %s', p.status, p.since) END,
         p.status = 'running'
    FROM p, s
  UNION ALL
  SELECT 'tail lag', format('%s events, %s s', lag.events,
                            coalesce(round(extract(epoch FROM clock_timestamp() - lag.oldest)::numeric, 1), 0)),
         lag.events = 0 OR lag.oldest > clock_timestamp() - interval '30 seconds'
    FROM lag
  UNION ALL
  SELECT 'pending changes', format('%s rows', pend.rows), true FROM pend
  UNION ALL
  (SELECT 'under way', format('%s %s of %s actions done, since %s', r.op, r.progress_done,
                              r.progress_total, r.taken_at), true
     FROM iasql_rpc r WHERE r.status = 'working' AND r.progress_total IS NOT NULL
    ORDER BY r.id)
  UNION ALL
  SELECT 'iasql transaction',
         coalesce((SELECT format('%s, held by %s', h.transaction_id, h.who)
                     FROM iasql_transaction_holder() h WHERE h.transaction_id IS NOT NULL), 'none'),
         true
  UNION ALL
  SELECT 'last commit',
         coalesce((SELECT CASE WHEN c.status = 'running'
                               THEN format('%s running since %s: %s of %s actions done', c.id,
                                           c.ts, c.done, c.total)
                               ELSE format('%s %s at %s: %s created, %s updated, %s replaced, '
                                           '%s deleted, %s failed', c.id, c.status, c.ts,
                                           c.created, c.updated, c.replaced, c.deleted, c.failed)
                          END FROM c), 'none'),
         coalesce((SELECT c.status <> 'failed' FROM c), true)
  UNION ALL
  (SELECT 'poll ' || t.table_name,
          CASE WHEN t.last_poll_at IS NULL THEN 'not polled yet'
               ELSE format('%s, %s ms%s', t.last_poll_at, t.last_poll_ms,
                           coalesce(': ' || t.last_poll_error, '')) END,
          t.last_poll_error IS NULL
     FROM iasql_tables t ORDER BY t.table_name)
  UNION ALL
  (SELECT 'error', format('%s: %s', e.ts, e.message), true
     FROM iasql_errors e ORDER BY e.id DESC LIMIT 5)
$$;
REVOKE ALL ON FUNCTION iasql_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION iasql_status() TO iasql_user;

CREATE OR REPLACE FUNCTION iasql_commit(message text DEFAULT NULL)
RETURNS TABLE (action text, table_name text, id bigint, description text)
LANGUAGE sql AS $$
  SELECT e->>'action', e->>'table_name', (e->>'id')::bigint, e->>'description'
    FROM json_array_elements(iasql_transaction_call('commit', 'commit', ARRAY[message],
                                                    'committed')) e
$$;

CREATE OR REPLACE FUNCTION iasql_rollback()
RETURNS TABLE (action text, table_name text, id bigint, description text)
LANGUAGE sql AS $$
  SELECT e->>'action', e->>'table_name', (e->>'id')::bigint, e->>'description'
    FROM json_array_elements(iasql_transaction_call('rollback', 'rollback', ARRAY[]::text[],
                                                    'rolled back')) e
$$;

CREATE OR REPLACE FUNCTION iasql_rollback(commit_id bigint)
RETURNS TABLE (action text, table_name text, id bigint, description text)
LANGUAGE sql AS $$
  SELECT e->>'action', e->>'table_name', (e->>'id')::bigint, e->>'description'
    FROM json_array_elements(iasql_transaction_call('rollback', 'rollback_to',
                                                    ARRAY[commit_id::text], 'committed')) e
$$;

-- ---------------------------------------------------------------- history as SQL

-- One audit row as a statement that makes the same change in another iasql
-- database: rows are named by their key columns, never by id (ids differ
-- between databases); cloud-owned columns are left to that database's
-- engine; a secret's value was never kept, so it is left NULL with a note.
-- NULL when the row changed in nothing a user sets.
CREATE OR REPLACE FUNCTION iasql_audit_sql(a iasql_audit_log) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
  t iasql_tables;
  img jsonb := coalesce(a.new_row, a.old_row)::jsonb;
  src jsonb;
  cols text[];
  secrets text[];
  keys text;
  list text;
  note text := '';
  old_keys text;
BEGIN
  SELECT * INTO t FROM iasql_tables x WHERE x.table_name = a.table_name;
  IF NOT FOUND OR cardinality(t.key_columns) = 0 THEN
    RETURN format('-- %s of %s row %s left out: the table has no columns that name a row '
                  'in another database', a.op, a.table_name, a.row_id);
  END IF;
  SELECT string_agg(quote_ident(k), ', '), jsonb_object_agg(k, a.old_row::jsonb -> k)::text
    INTO keys, old_keys FROM unnest(t.key_columns) k;
  IF a.op = 'DELETE' THEN
    RETURN format('DELETE FROM %I WHERE (%s) = (SELECT %s FROM jsonb_populate_record(NULL::%I, %L));',
                  a.table_name, keys, keys, a.table_name, old_keys);
  END IF;
  -- the columns a user sets, in the table's order
  SELECT array_agg(c.attname::text ORDER BY c.attnum) INTO cols
    FROM pg_attribute c
   WHERE c.attrelid = a.table_name::regclass AND c.attnum > 0 AND NOT c.attisdropped
     AND c.attname <> 'id' AND c.attname <> ALL (t.owned_columns)
     AND (a.op = 'INSERT' OR (a.old_row::jsonb -> c.attname::text) IS DISTINCT FROM
                             (a.new_row::jsonb -> c.attname::text));
  SELECT array_agg(s) INTO secrets FROM unnest(t.secret_columns) s
   WHERE s = ANY (cols) AND iasql_is_mask(img ->> s);
  IF secrets IS NOT NULL THEN
    src := img;
    FOR i IN 1 .. cardinality(secrets) LOOP
      src := jsonb_set(src, ARRAY[secrets[i]], 'null');
    END LOOP;
    img := src;
    note := format('-- %s is a secret and was never kept: put its value in place of NULL' || chr(10),
                   array_to_string(secrets, ', '));
  END IF;
  IF cols IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT string_agg(quote_ident(k), ', '), jsonb_object_agg(k, img -> k)
    INTO list, img FROM unnest(cols) k;
  IF a.op = 'INSERT' THEN
    RETURN note || format('INSERT INTO %I (%s) SELECT %s FROM jsonb_populate_record(NULL::%I, %L);',
                          a.table_name, list, list, a.table_name, img::text);
  END IF;
  RETURN note || format('UPDATE %I SET (%s) = (SELECT %s FROM jsonb_populate_record(NULL::%I, %L)) '
                        'WHERE (%s) = (SELECT %s FROM jsonb_populate_record(NULL::%I, %L));',
                        a.table_name, list, list, a.table_name, img::text,
                        keys, keys, a.table_name, old_keys);
END $$;

-- The user changes that commits carried since a time (all when NULL), as
-- SQL that recreates them in another iasql database.
CREATE OR REPLACE FUNCTION iasql_get_sql_since(since timestamptz DEFAULT NULL)
RETURNS TABLE (sql text)
LANGUAGE sql STABLE AS $$
  SELECT s.q FROM (SELECT a.id, iasql_audit_sql(a) q FROM iasql_audit_log a
                    WHERE a.origin = 'user' AND a.commit_id IS NOT NULL
                      AND (since IS NULL OR a.ts >= since)) s
   WHERE s.q IS NOT NULL ORDER BY s.id
$$;

CREATE OR REPLACE FUNCTION iasql_get_sql_for_transaction(transaction_id bigint)
RETURNS TABLE (sql text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM iasql_transactions x WHERE x.id = transaction_id) THEN
    RAISE EXCEPTION 'there is no iasql transaction %', transaction_id
      USING HINT = 'SELECT * FROM iasql_transactions lists them.';
  END IF;
  RETURN QUERY
  SELECT s.q FROM (SELECT a.id, iasql_audit_sql(a) q FROM iasql_audit_log a
                    WHERE a.origin = 'user' AND a.commit_id IN
                          (SELECT c.id FROM iasql_commits c WHERE c.transaction_id = $1)) s
   WHERE s.q IS NOT NULL ORDER BY s.id;
END $$;

CREATE OR REPLACE FUNCTION iasql_preview()
RETURNS TABLE (action text, table_name text, id bigint, description text)
LANGUAGE sql AS $$
  SELECT e->>'action', e->>'table_name', (e->>'id')::bigint, e->>'description'
    FROM json_array_elements(iasql_rpc_call('preview', ARRAY[]::text[])) e
$$;

-- The plan as the graph a commit would run (iasql preview --dot):
-- {"nodes": [{node, action, step, table, id, label}], "edges": [[before, after]]}.
CREATE OR REPLACE FUNCTION iasql_preview_graph() RETURNS json
LANGUAGE sql AS $$
  SELECT iasql_rpc_call('preview_graph', ARRAY[]::text[])
$$;

-- Pulls the cloud's state into the tables now: one row per change
-- (create, update, delete, conflict; error for a row the database refused).
CREATE OR REPLACE FUNCTION iasql_sync()
RETURNS TABLE (action text, table_name text, id bigint, description text)
LANGUAGE sql AS $$
  SELECT e->>'action', e->>'table_name', (e->>'id')::bigint, e->>'description'
    FROM json_array_elements(iasql_rpc_call('sync', ARRAY[]::text[])) e
$$;

-- What iasql_sync() would bring in now, in the same rows, with nothing
-- written: a refresh-only plan. A create has no id yet (NULL).
CREATE OR REPLACE FUNCTION iasql_sync_preview()
RETURNS TABLE (action text, table_name text, id bigint, description text)
LANGUAGE sql AS $$
  SELECT e->>'action', e->>'table_name', (e->>'id')::bigint, e->>'description'
    FROM json_array_elements(iasql_rpc_call('sync_preview', ARRAY[]::text[])) e
$$;

CREATE OR REPLACE FUNCTION iasql_install(VARIADIC modules text[])
RETURNS TABLE (module_name text, created_table_name text, record_count integer)
LANGUAGE sql AS $$
  SELECT e->>'module_name', e->>'table_name', (e->>'record_count')::integer
    FROM json_array_elements(iasql_rpc_call('install', modules)) e
$$;

-- An install whose import takes in only what filter says, per module:
-- {"aws_s3": {"name_prefix": "app-"}, "aws_vpc": {"tag": "team=web"}}
-- ("tag": a key, or key=value). The engine keeps the filters in
-- iasql_import_filter, in the install's transaction, and the poller follows
-- them.
CREATE OR REPLACE FUNCTION iasql_install(modules text[], filter jsonb)
RETURNS TABLE (module_name text, created_table_name text, record_count integer)
LANGUAGE plpgsql AS $$
DECLARE
  m text;
  f jsonb;
  norm jsonb := '{}';
BEGIN
  IF jsonb_typeof(filter) IS DISTINCT FROM 'object' THEN
    RAISE EXCEPTION 'the import filter is not a JSON object'
      USING DETAIL = format('It is %s.', coalesce(jsonb_typeof(filter), 'null')),
            HINT = 'Give an object of module names, as {"aws_s3": {"name_prefix": "app-"}}.';
  END IF;
  FOR m, f IN SELECT * FROM jsonb_each(filter) LOOP
    IF NOT m = ANY (modules) THEN
      RAISE EXCEPTION 'the import filter names module %, which is not being installed', m
        USING HINT = 'Name it among the modules, or leave it out of the filter.';
    END IF;
    IF jsonb_typeof(f) IS DISTINCT FROM 'object' OR f - 'tag' - 'name_prefix' <> '{}'
       OR NOT (f ? 'tag' OR f ? 'name_prefix')
       OR coalesce(jsonb_typeof(f->'tag'), 'string') <> 'string'
       OR coalesce(jsonb_typeof(f->'name_prefix'), 'string') <> 'string'
       OR f->>'tag' = '' OR f->>'tag' LIKE '=%' OR f->>'name_prefix' = '' THEN
      RAISE EXCEPTION 'the import filter of module % is not {"tag": ..., "name_prefix": ...}', m
        USING DETAIL = format('It is %s.', f),
              HINT = 'Give "tag" (a key, or key=value), "name_prefix", or both, as non-empty strings.';
    END IF;
    norm := norm || jsonb_build_object(m, jsonb_strip_nulls(jsonb_build_object(
      'tag_key', split_part(f->>'tag', '=', 1),
      'tag_value', CASE WHEN strpos(f->>'tag', '=') > 0
                        THEN substr(f->>'tag', strpos(f->>'tag', '=') + 1) END,
      'name_prefix', f->>'name_prefix')));
  END LOOP;
  -- the filter travels as the last argument, which no module name can be
  RETURN QUERY SELECT e->>'module_name', e->>'table_name', (e->>'record_count')::integer
    FROM json_array_elements(iasql_rpc_call('install', modules || norm::text)) e;
END $$;

-- The rows of an uninstall request (_op: uninstall or uninstall_discard).
CREATE OR REPLACE FUNCTION iasql_uninstall_rows(_op text, _modules text[])
RETURNS TABLE (module_name text, dropped_table_name text, record_count integer)
LANGUAGE sql AS $$
  SELECT e->>'module_name', e->>'table_name', (e->>'record_count')::integer
    FROM json_array_elements(iasql_rpc_call(_op, _modules)) e
$$;

CREATE OR REPLACE FUNCTION iasql_uninstall(VARIADIC modules text[])
RETURNS TABLE (module_name text, dropped_table_name text, record_count integer)
LANGUAGE sql AS $$ SELECT * FROM iasql_uninstall_rows('uninstall', modules) $$;

-- An uninstall that discards the changes pending in the tables it drops
-- (iasql_uninstall refuses while there are any).
CREATE OR REPLACE FUNCTION iasql_uninstall_discard(VARIADIC modules text[])
RETURNS TABLE (module_name text, dropped_table_name text, record_count integer)
LANGUAGE sql AS $$ SELECT * FROM iasql_uninstall_rows('uninstall_discard', modules) $$;

CREATE OR REPLACE FUNCTION iasql_modules_list()
RETURNS TABLE (module_name text, module_version text, dependencies json)
LANGUAGE sql AS $$
  SELECT e->>'module_name', e->>'module_version', e->'dependencies'
    FROM json_array_elements(iasql_rpc_call('modules_list', ARRAY[]::text[])) e
$$;

CREATE OR REPLACE FUNCTION iasql_get_errors()
RETURNS TABLE (ts timestamptz, message text)
LANGUAGE sql STABLE AS $$
  SELECT e.ts, e.message FROM iasql_errors e ORDER BY e.id DESC LIMIT 500
$$;

CREATE OR REPLACE FUNCTION iasql_version() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT c.value FROM iasql_config c WHERE c.key = 'version'
$$;

-- Nothing of iasql's is executable by PUBLIC, whatever an older schema
-- granted; iasql_user gets the user functions (the default privileges
-- above), and not the internals below. The RPC role gets the three request
-- functions (iasql init grants them).
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = 'iasql_engine'::regrole LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END $$;
REVOKE EXECUTE ON FUNCTION iasql_capture_define(regclass), iasql_capture_triggers(regclass),
  iasql_region_refused(text, bigint, text), iasql_secret_put(text, bigint, text, text),
  iasql_secret_drop(text, bigint),
  iasql_rpc_submit(text, text[], bigint), iasql_rpc_answer(bigint), iasql_rpc_cancel(bigint),
  iasql_attach_capture(regclass), iasql_transactions_abandon() FROM iasql_user;
