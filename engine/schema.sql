-- engine/schema.sql — the base schema that `iasql init` installs.
-- Idempotent: every statement may run again on an installed database, so
-- `iasql init` doubles as the upgrade path. Runs as a superuser, in one
-- transaction. Objects belong to the role iasql_engine, the role the engine
-- works as; user roles get SELECT on history and EXECUTE on the functions.

CREATE EXTENSION IF NOT EXISTS dblink;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iasql_engine') THEN
    CREATE ROLE iasql_engine LOGIN;
  END IF;
END $$;

GRANT USAGE, CREATE ON SCHEMA public TO iasql_engine;

-- Row ids of every resource table come from this one sequence, so an id is
-- never reused, across tables and across uninstall and install.
CREATE SEQUENCE IF NOT EXISTS iasql_row_id_seq;
ALTER SEQUENCE iasql_row_id_seq OWNER TO iasql_engine;
GRANT USAGE, SELECT ON SEQUENCE iasql_row_id_seq TO PUBLIC;

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

-- Every change to a resource table. origin: 'user' for any role but the
-- engine's; for the engine's own writes, what it declared ('engine' for
-- write-backs and restores, 'cloud' for what it read from the cloud).
CREATE TABLE IF NOT EXISTS iasql_audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  ts timestamptz NOT NULL DEFAULT clock_timestamp(),
  origin text NOT NULL CHECK (origin IN ('user', 'engine', 'cloud')),
  role name NOT NULL DEFAULT session_user,
  table_name text NOT NULL,
  op text NOT NULL CHECK (op IN ('INSERT', 'UPDATE', 'DELETE')),
  row_id bigint NOT NULL,
  old_row json,
  new_row json,
  commit_id bigint
);
CREATE INDEX IF NOT EXISTS iasql_audit_log_txid ON iasql_audit_log (txid);

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
DO $$
BEGIN
  IF (SELECT data_type FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = 'iasql_commits'
         AND column_name = 'transaction_id') = 'text' THEN
    ALTER TABLE iasql_commits ALTER COLUMN transaction_id TYPE bigint
      USING transaction_id::bigint;
  END IF;
END $$;

-- iasql transactions (iasql_begin). Whether one is open is whether its
-- session holds the advisory lock (class 1767993713, key 2147483647): it
-- goes with the session, so a client that dies never leaves the database
-- locked. A row still 'open' without its lock is marked 'abandoned' by the
-- next iasql_begin().
CREATE TABLE IF NOT EXISTS iasql_transactions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pid integer NOT NULL,
  role name NOT NULL,
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  ended_at timestamptz,
  status text NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'committed', 'rolled back', 'abandoned'))
);

CREATE TABLE IF NOT EXISTS iasql_errors (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ts timestamptz NOT NULL DEFAULT clock_timestamp(),
  commit_id bigint,
  table_name text,
  row_id bigint,
  message text NOT NULL
);

-- Requests from SQL functions to the engine. The engine keeps a few 'open'
-- tickets, each with an advisory lock it holds; a caller claims one, and the
-- engine releases the lock once the answer is written, which wakes the caller.
CREATE TABLE IF NOT EXISTS iasql_rpc (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  status text NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'queued', 'done', 'failed', 'abandoned')),
  op text,
  args text[],
  caller name,
  submitted_at timestamptz,
  finished_at timestamptz,
  result json,
  error text,
  error_hint text
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

ALTER TABLE iasql_config OWNER TO iasql_engine;
ALTER TABLE iasql_foreign_owner OWNER TO iasql_engine;
ALTER TABLE iasql_module OWNER TO iasql_engine;
ALTER TABLE iasql_dependencies OWNER TO iasql_engine;
ALTER TABLE iasql_tables OWNER TO iasql_engine;
ALTER TABLE iasql_audit_log OWNER TO iasql_engine;
ALTER TABLE iasql_commits OWNER TO iasql_engine;
ALTER TABLE iasql_errors OWNER TO iasql_engine;
ALTER TABLE iasql_rpc OWNER TO iasql_engine;
ALTER TABLE iasql_transactions OWNER TO iasql_engine;

REVOKE ALL ON iasql_config, iasql_module, iasql_dependencies, iasql_tables, iasql_audit_log,
  iasql_commits, iasql_errors, iasql_rpc, iasql_transactions, iasql_foreign_owner FROM PUBLIC;
GRANT SELECT ON iasql_config, iasql_module, iasql_dependencies, iasql_tables, iasql_audit_log,
  iasql_commits, iasql_errors, iasql_transactions, iasql_foreign_owner TO PUBLIC;

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
ALTER TABLE iasql_secret OWNER TO iasql_engine;
REVOKE ALL ON iasql_secret FROM PUBLIC;

CREATE OR REPLACE FUNCTION iasql_is_mask(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT v LIKE 'iasql-secret:%' $$;

-- Keeps a secret for the engine and returns the mask the row holds instead.
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

CREATE OR REPLACE FUNCTION iasql_audit_origin() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN session_user::text = 'iasql_engine'
              THEN coalesce(nullif(current_setting('iasql.origin', true), ''), 'engine')
              ELSE 'user' END
$$;

CREATE OR REPLACE FUNCTION iasql_audit_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  o text := iasql_audit_origin();
BEGIN
  INSERT INTO iasql_audit_log (origin, table_name, op, row_id, new_row)
  SELECT o, TG_TABLE_NAME, 'INSERT', n.id, to_json(n) FROM iasql_new n;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION iasql_audit_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  o text := iasql_audit_origin();
BEGIN
  -- An UPDATE that changes nothing is not a change and is not recorded.
  INSERT INTO iasql_audit_log (origin, table_name, op, row_id, old_row, new_row)
  SELECT o, TG_TABLE_NAME, 'UPDATE', n.id, to_json(p), to_json(n)
    FROM iasql_old p JOIN iasql_new n ON n.id = p.id
   WHERE p IS DISTINCT FROM n;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION iasql_audit_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  o text := iasql_audit_origin();
BEGIN
  INSERT INTO iasql_audit_log (origin, table_name, op, row_id, old_row)
  SELECT o, TG_TABLE_NAME, 'DELETE', p.id, to_json(p) FROM iasql_old p;
  RETURN NULL;
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
-- when it installs a module.
CREATE OR REPLACE FUNCTION iasql_attach_capture(t regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TRIGGER iasql_capture_insert AFTER INSERT ON %s '
                 'REFERENCING NEW TABLE AS iasql_new FOR EACH STATEMENT '
                 'EXECUTE FUNCTION iasql_audit_insert()', t);
  EXECUTE format('CREATE TRIGGER iasql_capture_update AFTER UPDATE ON %s '
                 'REFERENCING OLD TABLE AS iasql_old NEW TABLE AS iasql_new FOR EACH STATEMENT '
                 'EXECUTE FUNCTION iasql_audit_update()', t);
  EXECUTE format('CREATE TRIGGER iasql_capture_delete AFTER DELETE ON %s '
                 'REFERENCING OLD TABLE AS iasql_old FOR EACH STATEMENT '
                 'EXECUTE FUNCTION iasql_audit_delete()', t);
  EXECUTE format('CREATE TRIGGER iasql_id_fixed BEFORE UPDATE OF id ON %s FOR EACH ROW '
                 'WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION iasql_refuse_id_change()', t);
  EXECUTE format('CREATE TRIGGER iasql_no_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT '
                 'EXECUTE FUNCTION iasql_refuse_truncate()', t);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO PUBLIC', t);
END $$;

-- Tags as AWS accepts them: an object of at most 50 string values, keys of
-- 1 to 128 characters not starting with "aws:" (AWS's own) or "iasql:" (the
-- engine's own), values up to 256 characters.
CREATE OR REPLACE FUNCTION iasql_tags_valid(t jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_typeof(t) = 'object'
     AND (SELECT count(*) <= 50
                 AND coalesce(bool_and(jsonb_typeof(value) = 'string'
                                       AND length(key) BETWEEN 1 AND 128
                                       AND length(value #>> '{}') <= 256
                                       AND key NOT LIKE 'aws:%'
                                       AND key NOT LIKE 'iasql:%'), true)
            FROM jsonb_each(t))
$$;

-- ---------------------------------------------------------------- RPC

CREATE OR REPLACE FUNCTION iasql_rpc_key(id bigint) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT (id % 2147483646 + 1)::integer $$;

-- Runs in the caller's dblink session, which commits at once. Returns a
-- claimed ticket (> 0), or minus the id of a request in flight to wait on
-- when every ticket is taken, or NULL when there is nothing to wait on.
CREATE OR REPLACE FUNCTION iasql_rpc_submit(_op text, _args text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t bigint;
BEGIN
  UPDATE iasql_rpc
     SET status = 'queued', op = _op, args = _args, caller = session_user,
         submitted_at = clock_timestamp()
   WHERE id = (SELECT r.id FROM iasql_rpc r WHERE r.status = 'open'
                ORDER BY r.id LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING id INTO t;
  IF t IS NOT NULL THEN
    PERFORM pg_notify('iasql_rpc', t::text);
    RETURN t;
  END IF;
  SELECT -r.id INTO t FROM iasql_rpc r WHERE r.status = 'queued' ORDER BY r.id LIMIT 1;
  RETURN t;
END $$;

CREATE OR REPLACE FUNCTION iasql_rpc_answer(_id bigint,
  OUT status text, OUT result json, OUT error text, OUT error_hint text)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT r.status, r.result, r.error, r.error_hint FROM iasql_rpc r WHERE r.id = _id
$$;

CREATE OR REPLACE FUNCTION iasql_rpc_call(_op text, _args text[]) RETURNS json
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  t bigint;
  a record;
  tries integer := 0;
  lock_class constant integer := 1767993713;
BEGIN
  IF pg_current_xact_id_if_assigned() IS NOT NULL AND EXISTS (
       SELECT FROM iasql_audit_log l
        WHERE l.txid = pg_current_xact_id() AND l.origin = 'user') THEN
    RAISE EXCEPTION 'iasql_%() cannot run inside a transaction that changed resource rows', _op
      USING DETAIL = 'The engine works on its own connection and cannot see rows this transaction has not committed.',
            HINT = 'COMMIT first, then call the function again.';
  END IF;
  IF NOT coalesce('iasql_rpc' = ANY (dblink_get_connections()), false) THEN
    PERFORM dblink_connect('iasql_rpc',
      (SELECT format('%s user=''%s''', c.value,
                     replace(replace(session_user::text, '\', '\\'), '''', '\'''))
         FROM iasql_config c WHERE c.key = 'loopback_conninfo'));
  END IF;
  LOOP
    SELECT x.v INTO t
      FROM dblink('iasql_rpc', format('SELECT iasql_rpc_submit(%L, %L)', _op, _args)) AS x(v bigint);
    EXIT WHEN t > 0;
    IF t < 0 THEN
      -- Every ticket is taken: wait for the oldest request in flight, then try again.
      PERFORM pg_advisory_lock_shared(lock_class, iasql_rpc_key(-t));
      PERFORM pg_advisory_unlock_shared(lock_class, iasql_rpc_key(-t));
    ELSE
      IF pg_try_advisory_lock_shared(lock_class, 0) THEN
        PERFORM pg_advisory_unlock_shared(lock_class, 0);
        RAISE EXCEPTION 'the iasql engine is not running for database %', current_database()
          USING HINT = 'Start it with: iasql run CONNINFO --journal DIR';
      END IF;
      tries := tries + 1;
      IF tries > 2000 THEN
        RAISE EXCEPTION 'the iasql engine did not take the % request within 10 seconds', _op;
      END IF;
      -- Rare: the engine is alive and has not yet replaced its tickets.
      PERFORM pg_sleep(0.005);
    END IF;
  END LOOP;
  PERFORM pg_advisory_lock_shared(lock_class, iasql_rpc_key(t));
  PERFORM pg_advisory_unlock_shared(lock_class, iasql_rpc_key(t));
  SELECT * INTO a
    FROM dblink('iasql_rpc', format('SELECT * FROM iasql_rpc_answer(%s)', t))
      AS x(status text, result json, error text, error_hint text);
  IF a.status = 'done' THEN
    RETURN a.result;
  ELSIF a.status = 'failed' AND a.error_hint IS NOT NULL THEN
    RAISE EXCEPTION USING MESSAGE = a.error, HINT = a.error_hint;
  ELSIF a.status = 'failed' THEN
    RAISE EXCEPTION USING MESSAGE = a.error;
  END IF;
  RAISE EXCEPTION 'the iasql engine stopped before answering request % (%)', t, _op
    USING HINT = 'Start the engine again; the request was not carried out.';
END $$;

-- ---------------------------------------------------------------- user functions

-- ---------------------------------------------------------------- iasql transactions

-- Who holds the iasql transaction lock, for messages.
CREATE OR REPLACE FUNCTION iasql_transaction_holder(OUT pid integer, OUT transaction_id bigint,
  OUT who text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT l.pid, x.id,
         CASE WHEN x.id IS NULL
              THEN format('session %s (role %s): the engine applying pending changes', l.pid, a.usename)
              ELSE format('session %s (role %s, application "%s", open since %s)', l.pid, x.role,
                          coalesce(a.application_name, ''), x.started_at) END
    FROM pg_locks l
    LEFT JOIN pg_stat_activity a ON a.pid = l.pid
    LEFT JOIN iasql_transactions x ON x.pid = l.pid AND x.status = 'open'
   WHERE l.locktype = 'advisory' AND l.classid = 1767993713 AND l.objid = 2147483647
     AND l.objsubid = 2 AND l.granted
     AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
   ORDER BY x.id DESC NULLS LAST
   LIMIT 1
$$;

-- The iasql transaction this session holds, or NULL when none is open;
-- raises when another session holds one (_op names the caller).
CREATE OR REPLACE FUNCTION iasql_transaction_check(_op text) RETURNS bigint
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  h record;
BEGIN
  -- The common case in two cheap calls: this session opened none, and the
  -- lock is free (a shared try succeeds only when nobody holds it).
  IF coalesce(current_setting('iasql.transaction', true), '') = ''
     AND pg_try_advisory_lock_shared(1767993713, 2147483647) THEN
    PERFORM pg_advisory_unlock_shared(1767993713, 2147483647);
    RETURN NULL;
  END IF;
  SELECT * INTO h FROM iasql_transaction_holder();
  IF h.pid IS NULL OR h.transaction_id IS NULL THEN
    RETURN NULL;
  ELSIF h.pid = pg_backend_pid() THEN
    RETURN h.transaction_id;
  END IF;
  RAISE EXCEPTION 'iasql_%() refused: iasql transaction % is open in %', _op, h.transaction_id, h.who
    USING HINT = 'It ends with iasql_commit() or iasql_rollback() in that session, or when that session ends.';
END $$;

CREATE OR REPLACE FUNCTION iasql_begin(wait_seconds double precision DEFAULT 10)
RETURNS TABLE (message text, transaction_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t bigint;
  h record;
  prev text := current_setting('lock_timeout');
  got boolean;
BEGIN
  SELECT * INTO h FROM iasql_transaction_holder();
  IF h.pid = pg_backend_pid() AND h.transaction_id IS NOT NULL THEN
    RAISE EXCEPTION 'iasql transaction % is already open in this session', h.transaction_id
      USING HINT = 'End it with iasql_commit() or iasql_rollback() first.';
  END IF;
  IF coalesce(wait_seconds, 0) <= 0 THEN
    got := pg_try_advisory_lock(1767993713, 2147483647);
  ELSE
    BEGIN
      PERFORM set_config('lock_timeout', greatest(1, (wait_seconds * 1000)::bigint)::text, true);
      PERFORM pg_advisory_lock(1767993713, 2147483647);
      got := true;
    EXCEPTION WHEN lock_not_available THEN
      got := false;
    END;
    PERFORM set_config('lock_timeout', prev, true);
  END IF;
  IF NOT got THEN
    SELECT * INTO h FROM iasql_transaction_holder();
    RAISE EXCEPTION 'iasql_begin() waited % seconds: iasql transaction % is open in %',
      coalesce(wait_seconds, 0), coalesce(h.transaction_id::text, '(none)'), coalesce(h.who, 'another session')
      USING HINT = 'It ends with iasql_commit() or iasql_rollback() in that session, or when that session ends.';
  END IF;
  UPDATE iasql_transactions x SET status = 'abandoned', ended_at = clock_timestamp()
   WHERE x.status = 'open';
  INSERT INTO iasql_transactions (pid, role) VALUES (pg_backend_pid(), session_user)
  RETURNING id INTO t;
  PERFORM set_config('iasql.transaction', t::text, false);
  RETURN QUERY SELECT format('iasql transaction %s is open: changes wait for iasql_commit() '
                             'or iasql_rollback()', t), t;
END $$;

-- Ends this session's iasql transaction _id.
CREATE OR REPLACE FUNCTION iasql_transaction_end(_id bigint, _status text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE iasql_transactions x SET status = _status, ended_at = clock_timestamp()
   WHERE x.id = _id AND x.pid = pg_backend_pid() AND x.status = 'open';
  IF FOUND THEN
    PERFORM pg_advisory_unlock(1767993713, 2147483647);
  END IF;
  PERFORM set_config('iasql.transaction', '', false);
END $$;

-- The RPC of a function that ends this session's iasql transaction, if it
-- holds one (_fn names the function for a refusal): the transaction id goes
-- to the engine as the last argument, and the transaction ends as _status.
CREATE OR REPLACE FUNCTION iasql_transaction_call(_fn text, _op text, _args text[],
                                                  _status text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
  tx bigint := iasql_transaction_check(_fn);
  r json := iasql_rpc_call(_op, _args || tx::text);
BEGIN
  IF tx IS NOT NULL THEN
    PERFORM iasql_transaction_end(tx, _status);
  END IF;
  RETURN r;
END $$;

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

-- Pulls the cloud's state into the tables now: one row per change
-- (create, update, delete, conflict; error for a row the database refused).
CREATE OR REPLACE FUNCTION iasql_sync()
RETURNS TABLE (action text, table_name text, id bigint, description text)
LANGUAGE sql AS $$
  SELECT e->>'action', e->>'table_name', (e->>'id')::bigint, e->>'description'
    FROM json_array_elements(iasql_rpc_call('sync', ARRAY[]::text[])) e
$$;

CREATE OR REPLACE FUNCTION iasql_install(VARIADIC modules text[])
RETURNS TABLE (module_name text, created_table_name text, record_count integer)
LANGUAGE sql AS $$
  SELECT e->>'module_name', e->>'table_name', (e->>'record_count')::integer
    FROM json_array_elements(iasql_rpc_call('install', modules)) e
$$;

CREATE OR REPLACE FUNCTION iasql_uninstall(VARIADIC modules text[])
RETURNS TABLE (module_name text, dropped_table_name text, record_count integer)
LANGUAGE sql AS $$
  SELECT e->>'module_name', e->>'table_name', (e->>'record_count')::integer
    FROM json_array_elements(iasql_rpc_call('uninstall', modules)) e
$$;

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

ALTER FUNCTION iasql_audit_origin() OWNER TO iasql_engine;
ALTER FUNCTION iasql_audit_insert() OWNER TO iasql_engine;
ALTER FUNCTION iasql_audit_update() OWNER TO iasql_engine;
ALTER FUNCTION iasql_audit_delete() OWNER TO iasql_engine;
ALTER FUNCTION iasql_rpc_submit(text, text[]) OWNER TO iasql_engine;
ALTER FUNCTION iasql_rpc_answer(bigint) OWNER TO iasql_engine;
ALTER FUNCTION iasql_attach_capture(regclass) OWNER TO iasql_engine;
ALTER FUNCTION iasql_transaction_holder() OWNER TO iasql_engine;
ALTER FUNCTION iasql_begin(double precision) OWNER TO iasql_engine;
ALTER FUNCTION iasql_transaction_end(bigint, text) OWNER TO iasql_engine;
