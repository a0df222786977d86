/* engine/eng_schema.c — `iasql init`, and the engine's own connections. */
#include <stdio.h>
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

int eng_schema_init(const char *conninfo, cm_err *err)
{
    PGconn *conn;
    int rc = cm_pg_connect(&conn, conninfo, err);
    if (rc)
        return rc;
    PGresult *res = NULL;
    rc = cm_pg_exec(conn, &res, err, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
                    0, NULL);
    if (!rc && strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        rc = cm_err_set(err, CM_ECONFIG,
                        "iasql init must run as a superuser: it creates the role iasql_engine "
                        "and the dblink extension");
    PQclear(res);
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
    /* Two inits at once wait for each other instead of racing on CREATE. */
    if (!rc)
        rc = cm_pg_run(conn, err, "SELECT pg_advisory_xact_lock(1767993713, -1)", 0, NULL);
    if (!rc)
        rc = cm_pg_script(conn, err, iasql_sql_schema);
    if (!rc) {
        const char *p[] = {IASQL_VERSION, cm_buf_str(&loop)};
        rc = cm_pg_run(conn, err,
                       "INSERT INTO iasql_config (key, value) VALUES ('version', $1), "
                       "('loopback_conninfo', $2), ('database_id', gen_random_uuid()::text) "
                       "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value "
                       "WHERE iasql_config.key = 'version'",
                       2, p);
    }
    if (!rc)
        rc = cm_pg_run(conn, err, "COMMIT", 0, NULL);
    cm_buf_free(&loop);
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
                    "to_regclass('iasql_foreign_owner') IS NOT NULL",
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
                            "the engine must connect as role iasql_engine or as a superuser "
                            "(connected as %s)",
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
