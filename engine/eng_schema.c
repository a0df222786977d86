/* engine/eng_schema.c — `iasql init`, and the engine's own connections.
 *
 * init runs as a superuser, or as the database's owner with CREATEROLE (the
 * managed-PostgreSQL case, after an administrator's CREATE EXTENSION
 * dblink). It makes the roles, then runs the base schema as iasql_engine so
 * that the engine owns every object. It never sends a password in clear: the
 * engine's is turned into a SCRAM verifier here, the RPC role's is made on
 * the server and never leaves it (docs/security.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/eng.h"

extern const char iasql_sql_schema[];

/* A conninfo value in single quotes, with \ and ' escaped. */
static int conninfo_value(cm_buf *b, const char *key, const char *val)
{
    int rc = cm_buf_printf(b, "%s%s='", b->len ? " " : "", key);
    for (const char *p = val; !rc && *p; p++)
        rc = (*p == '\\' || *p == '\'') ? cm_buf_printf(b, "\\%c", *p) : cm_buf_append(b, p, 1);
    return rc ? rc : cm_buf_puts(b, "'");
}

/* What init needs to know of the connection it was given. */
typedef struct init_facts {
    bool super, createrole, owner, dblink, member;
    char rpc_role[64];
} init_facts;

static int read_facts(PGconn *conn, init_facts *f, cm_err *err)
{
    PGresult *res;
    int rc = cm_pg_exec(conn, &res, err,
                        "SELECT r.rolsuper, r.rolcreaterole, "
                        "pg_has_role(current_user, d.datdba, 'MEMBER'), "
                        "EXISTS (SELECT FROM pg_extension WHERE extname = 'dblink'), "
                        "EXISTS (SELECT FROM pg_roles WHERE rolname = 'iasql_engine') "
                        "AND pg_has_role(current_user, 'iasql_engine', 'MEMBER'), "
                        "'iasql_rpc_' || d.oid::text "
                        "FROM pg_roles r, pg_database d "
                        "WHERE r.rolname = current_user AND d.datname = current_database()",
                        0, NULL);
    if (rc)
        return rc;
    const char *t = "t";
    f->super = strcmp(PQgetvalue(res, 0, 0), t) == 0;
    f->createrole = strcmp(PQgetvalue(res, 0, 1), t) == 0;
    f->owner = strcmp(PQgetvalue(res, 0, 2), t) == 0;
    f->dblink = strcmp(PQgetvalue(res, 0, 3), t) == 0;
    f->member = strcmp(PQgetvalue(res, 0, 4), t) == 0;
    snprintf(f->rpc_role, sizeof f->rpc_role, "%s", PQgetvalue(res, 0, 5));
    PQclear(res);
    return 0;
}

static int check_rights(PGconn *conn, const init_facts *f, cm_err *err)
{
    if (!f->super && !(f->owner && f->createrole))
        return cm_err_set(err, CM_ECONFIG,
                          "iasql init needs a superuser, or the owner of database %s with "
                          "CREATEROLE (connected as %s). Hint: connect as the database's owner; "
                          "ALTER ROLE %s CREATEROLE gives it the right to make iasql's roles",
                          PQdb(conn), PQuser(conn), PQuser(conn));
    if (!f->dblink && !f->super)
        return cm_err_set(err, CM_ECONFIG,
                          "the dblink extension is not installed in database %s. Hint: an "
                          "administrator runs, once, in that database: CREATE EXTENSION dblink; "
                          "then run iasql init again",
                          PQdb(conn));
    return 0;
}

/* The roles, cluster-wide: iasql_engine (the engine's login), iasql_user
 * (granted to application roles), and this database's RPC role, which may
 * only file requests and read their answers. */
static const char roles_sql[] =
    "DO $$ BEGIN "
    "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iasql_engine') THEN "
    "  CREATE ROLE iasql_engine LOGIN NOINHERIT; END IF; "
    "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iasql_user') THEN "
    "  CREATE ROLE iasql_user NOLOGIN; END IF; "
    "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = current_setting('iasql.init_rpc_role')) "
    "THEN "
    "  EXECUTE format('CREATE ROLE %I LOGIN NOINHERIT', current_setting('iasql.init_rpc_role')); "
    "END IF; "
    "IF current_setting('iasql.init_verifier') <> '' THEN "
    "  EXECUTE format('ALTER ROLE iasql_engine PASSWORD %L', "
    "current_setting('iasql.init_verifier')); "
    "END IF; "
    "EXECUTE format('GRANT CONNECT ON DATABASE %I TO iasql_engine, iasql_user, %I', "
    "               current_database(), current_setting('iasql.init_rpc_role')); "
    /* a backend whose client went away notices within a second, even while
     * it waits for the engine (docs/rpc.md) */
    "EXECUTE format('ALTER DATABASE %I SET client_connection_check_interval = %L', "
    "               current_database(), '1s'); "
    "END $$";

/* RPC roles of databases that are gone (best effort: one still in use
 * elsewhere is left). */
static const char prune_sql[] =
    "DO $$ DECLARE r name; BEGIN "
    "FOR r IN SELECT rolname FROM pg_roles WHERE rolname ~ '^iasql_rpc_[0-9]+$' "
    "  AND substr(rolname, 11)::oid NOT IN (SELECT oid FROM pg_database) LOOP "
    "  BEGIN EXECUTE format('DROP ROLE %I', r); "
    "  EXCEPTION WHEN OTHERS THEN NULL; END; "
    "END LOOP; END $$";

/* Objects an older schema left to another owner (it was made by a
 * superuser) move to iasql_engine, so that it can replace them. */
static const char reown_sql[] =
    "DO $$ DECLARE o record; BEGIN "
    "FOR o IN SELECT p.oid::regprocedure AS f FROM pg_proc p "
    "  WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'iasql\\_%' "
    "  AND p.proowner <> 'iasql_engine'::regrole LOOP "
    "  EXECUTE format('ALTER FUNCTION %s OWNER TO iasql_engine', o.f); END LOOP; "
    "FOR o IN SELECT c.oid::regclass AS t, c.relkind FROM pg_class c "
    "  WHERE c.relnamespace = 'public'::regnamespace AND c.relname LIKE 'iasql\\_%' "
    "  AND c.relkind IN ('r', 'S', 'v') AND c.relowner <> 'iasql_engine'::regrole LOOP "
    "  EXECUTE format('ALTER %s %s OWNER TO iasql_engine', "
    "    CASE o.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, o.t); "
    "END LOOP; END $$";

/* The RPC role's password: made here, on the server, each init. */
static const char rpc_login_sql[] =
    "DO $$ DECLARE p text := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''); "
    "r name := current_setting('iasql.init_rpc_role'); BEGIN "
    "EXECUTE format('ALTER ROLE %I PASSWORD %L', r, p); "
    "DELETE FROM iasql_rpc_login; "
    "INSERT INTO iasql_rpc_login (role, password) VALUES (r, p); "
    "INSERT INTO iasql_config (key, value) VALUES ('rpc_role', r) "
    "  ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value; "
    "EXECUTE format('GRANT EXECUTE ON FUNCTION iasql_rpc_submit(text, text[], bigint), "
    "  iasql_rpc_answer(bigint), iasql_rpc_cancel(bigint) TO %I', r); "
    "END $$";

/* The SCRAM verifier of IASQL_ENGINE_PASSWORD, or "" when it is unset. */
static int engine_verifier(PGconn *conn, char **out, cm_err *err)
{
    const char *pw = getenv("IASQL_ENGINE_PASSWORD");
    *out = NULL;
    if (!pw || !*pw) {
        *out = strdup("");
        return *out ? 0 : cm_err_set(err, CM_ENOMEM, "out of memory");
    }
    char *v = PQencryptPasswordConn(conn, pw, "iasql_engine", NULL);
    if (!v)
        return cm_err_set(err, CM_ECONFIG, "cannot encrypt the engine's password: %s",
                          PQerrorMessage(conn));
    *out = strdup(v);
    PQfreemem(v);
    return *out ? 0 : cm_err_set(err, CM_ENOMEM, "out of memory");
}

static int set_local(PGconn *conn, const char *name, const char *value, cm_err *err)
{
    const char *p[] = {name, value};
    return cm_pg_run(conn, err, "SELECT set_config($1, $2, true)", 2, p);
}

static int init_in_txn(PGconn *conn, const init_facts *f, const char *loop, cm_err *err)
{
    char *verifier = NULL;
    int rc = engine_verifier(conn, &verifier, err);
    /* Two inits at once wait for each other instead of racing on CREATE. */
    if (!rc)
        rc = cm_pg_run(conn, err, "SET LOCAL lock_timeout = '30s'", 0, NULL);
    if (!rc)
        rc = cm_pg_run(conn, err, "SELECT pg_advisory_xact_lock(" ENG_STR(ENG_LOCK_CLASS) ", -1)",
                       0, NULL);
    if (!rc && !f->dblink)
        rc = cm_pg_run(conn, err, "CREATE EXTENSION IF NOT EXISTS dblink", 0, NULL);
    if (!rc)
        rc = set_local(conn, "iasql.init_verifier", verifier, err);
    if (!rc)
        rc = set_local(conn, "iasql.init_rpc_role", f->rpc_role, err);
    free(verifier);
    if (!rc)
        rc = cm_pg_run(conn, err, roles_sql, 0, NULL);
    if (!rc)
        rc = set_local(conn, "iasql.init_verifier", "", err);
    if (!rc)
        rc = cm_pg_run(conn, err, "GRANT USAGE, CREATE ON SCHEMA public TO iasql_engine", 0, NULL);
    if (!rc)
        rc = cm_pg_run(conn, err, "GRANT USAGE ON SCHEMA public TO iasql_user", 0, NULL);
    /* A non-superuser becomes a member of iasql_engine for this transaction
     * only, to make objects as it. */
    if (!rc && !f->super && !f->member)
        rc = cm_pg_run(conn, err, "GRANT iasql_engine TO CURRENT_USER", 0, NULL);
    if (!rc && f->super)
        rc = cm_pg_run(conn, err, reown_sql, 0, NULL);
    if (!rc)
        rc = cm_pg_run(conn, err, "SET LOCAL ROLE iasql_engine", 0, NULL);
    if (!rc)
        rc = cm_pg_script(conn, err, iasql_sql_schema);
    if (!rc) {
        const char *p[] = {IASQL_VERSION, loop};
        rc = cm_pg_run(conn, err,
                       "INSERT INTO iasql_config (key, value) VALUES ('version', $1), "
                       "('loopback_conninfo', $2), ('database_id', gen_random_uuid()::text), "
                       "('engine_wait_seconds', '5'), ('transaction_idle_seconds', '600'), "
                       "('lock_timeout_seconds', '5') "
                       "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value "
                       "WHERE iasql_config.key IN ('version', 'loopback_conninfo')",
                       2, p);
    }
    if (!rc)
        rc = cm_pg_run(conn, err, "RESET ROLE", 0, NULL);
    if (!rc)
        rc = cm_pg_run(conn, err, rpc_login_sql, 0, NULL);
    if (!rc && !f->super && !f->member)
        rc = cm_pg_run(conn, err, "REVOKE iasql_engine FROM CURRENT_USER", 0, NULL);
    if (!rc)
        cm_pg_run(conn, NULL, prune_sql, 0, NULL);
    return rc;
}

/* Warns when iasql_engine can log in here without a password: then any
 * local user could act as the engine. */
static void check_engine_login(PGconn *conn)
{
    const char *keys[] = {"host",     "port",     "dbname",          "user",
                          "password", "passfile", "connect_timeout", NULL};
    const char *host = PQhost(conn);
    const char *vals[] = {
        host && *host ? host : NULL,      PQport(conn), PQdb(conn), "iasql_engine", "",
        "/nonexistent/iasql-no-passfile", "5",          NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 0);
    if (PQstatus(c) == CONNECTION_OK && !PQconnectionUsedPassword(c))
        fprintf(stderr,
                "iasql init: WARNING: role iasql_engine logged in to %s without a password, so "
                "any local user can act as the engine. Hint: make pg_hba.conf ask for "
                "scram-sha-256 (docs/security.md), and give the engine its password with "
                "IASQL_ENGINE_PASSWORD\n",
                PQdb(conn));
    PQfinish(c);
}

int eng_schema_init(const char *conninfo, cm_err *err)
{
    PGconn *conn;
    int rc = cm_pg_connect(&conn, conninfo, err);
    if (rc)
        return rc;
    init_facts f;
    rc = read_facts(conn, &f, err);
    if (!rc)
        rc = check_rights(conn, &f, err);
    cm_buf loop;
    cm_buf_init(&loop, 4096);
    if (!rc) {
        const char *host = PQhost(conn);
        if (host && *host)
            conninfo_value(&loop, "host", host);
        conninfo_value(&loop, "port", PQport(conn));
        conninfo_value(&loop, "dbname", PQdb(conn));
        conninfo_value(&loop, "application_name", "iasql rpc");
    }
    if (!rc)
        rc = cm_pg_run(conn, err, "SET client_min_messages = warning", 0, NULL);
    if (!rc)
        rc = cm_pg_run(conn, err, "BEGIN", 0, NULL);
    if (!rc)
        rc = cm_pg_end(conn, init_in_txn(conn, &f, cm_buf_str(&loop), err), err);
    cm_buf_free(&loop);
    if (!rc && !getenv("IASQL_ENGINE_PASSWORD"))
        fprintf(stderr, "iasql init: the engine's password was left as it was (set "
                        "IASQL_ENGINE_PASSWORD to set it)\n");
    if (!rc)
        check_engine_login(conn);
    PQfinish(conn);
    return rc;
}

int eng_connect_engine(PGconn **out, const char *conninfo, cm_err *err)
{
    PGconn *conn;
    int rc = cm_pg_connect(&conn, conninfo, err);
    if (rc)
        return rc;
    PGresult *res = NULL;
    rc = cm_pg_exec(conn, &res, err,
                    "SELECT session_user::text = 'iasql_engine', "
                    "(SELECT rolsuper FROM pg_roles WHERE rolname = session_user), "
                    "to_regclass('iasql_config') IS NOT NULL, "
                    /* the newest relation of the schema: an older one lacks it */
                    "to_regclass('iasql_rpc_login') IS NOT NULL",
                    0, NULL);
    if (!rc) {
        bool is_engine = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        bool is_super = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
        bool has_schema = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
        bool current = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
        if (!has_schema)
            rc = cm_err_set(err, CM_ECONFIG,
                            "database %s has no iasql schema: run `iasql init CONNINFO` first",
                            PQdb(conn));
        else if (!current)
            rc = cm_err_set(err, CM_ECONFIG,
                            "the iasql schema of database %s is older than this engine: run "
                            "`iasql init CONNINFO` again (it upgrades in place)",
                            PQdb(conn));
        else if (!is_engine && is_super)
            rc = cm_pg_run(conn, err, "SET SESSION AUTHORIZATION iasql_engine", 0, NULL);
        else if (!is_engine)
            rc = cm_err_set(err, CM_ECONFIG,
                            "the engine must connect as role iasql_engine (connected as %s). "
                            "Hint: user=iasql_engine in the connection string, with its password "
                            "in PGPASSWORD or ~/.pgpass",
                            PQuser(conn));
    }
    PQclear(res);
    if (!rc)
        rc = cm_pg_run(conn, err, "SET application_name = 'iasql engine'", 0, NULL);
    if (rc) {
        PQfinish(conn);
        return rc;
    }
    *out = conn;
    return 0;
}
