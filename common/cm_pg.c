/* common/cm_pg.c — the libpq boundary: the one place libpq errors become
 * cm_err values. Must never build SQL with values spliced in. */
#include "common/cm_pg.h"

#include <stdlib.h>
#include <string.h>

int cm_pg_connect(PGconn **out, const char *conninfo, cm_err *err)
{
    *out = NULL;
    PGconn *conn = PQconnectdb(conninfo);
    if (!conn)
        return cm_err_set(err, CM_ENOMEM, "cannot allocate a database connection");
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
        size_t n = strlen(msg);
        while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        PQfinish(conn);
        return cm_err_set(err, CM_EPGCONN, "cannot connect to the database: %s", msg);
    }
    *out = conn;
    return 0;
}

int cm_pg_error(PGconn *conn, const PGresult *res, cm_err *err)
{
    if (conn && PQstatus(conn) != CONNECTION_OK)
        return cm_err_set(err, CM_EPGCONN, "database connection lost: %s", PQerrorMessage(conn));
    if (!res)
        return cm_err_set(err, CM_EPG, "%s", conn ? PQerrorMessage(conn) : "no result");
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    int code = CM_EPG;
    /* class 08: connection exception; 57P01..03: shutdown */
    if (state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0))
        code = CM_EPGCONN;
    if (state && strcmp(state, "55P03") == 0)
        code = CM_EBUSY;
    const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    /* PostgreSQL's detail and hint travel as the message's parts (cm_err_split) */
    return cm_err_set(err, code, "%s%s%s%s%s", msg ? msg : PQresultErrorMessage(res),
                      detail ? " Detail: " : "", detail ? detail : "", hint ? " Hint: " : "",
                      hint ? hint : "");
}

/* The one check of a result, for every way of running a statement. */
static int take_result(PGconn *conn, PGresult *res, PGresult **out, cm_err *err)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = cm_pg_error(conn, res, err);
        PQclear(res);
        return rc;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return 0;
}

int cm_pg_exec(PGconn *conn, PGresult **out, cm_err *err, const char *sql, int nparams,
               const char *const *params)
{
    if (out)
        *out = NULL;
    return take_result(conn, PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0), out,
                       err);
}

int cm_pg_prepare(PGconn *conn, cm_err *err, const char *name, const char *sql, int nparams)
{
    return take_result(conn, PQprepare(conn, name, sql, nparams, NULL), NULL, err);
}

int cm_pg_exec_prepared(PGconn *conn, PGresult **out, cm_err *err, const char *name, int nparams,
                        const char *const *params)
{
    if (out)
        *out = NULL;
    return take_result(conn, PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0), out, err);
}

int cm_pg_run(PGconn *conn, cm_err *err, const char *sql, int nparams, const char *const *params)
{
    return cm_pg_exec(conn, NULL, err, sql, nparams, params);
}

int cm_pg_exec_guarded(PGconn *conn, PGresult **out, cm_err *err, const char *sql, int nparams,
                       const char *const *params)
{
    if (out)
        *out = NULL;
    int rc = cm_pg_run(conn, err, "SAVEPOINT iasql_guard", 0, NULL);
    if (!rc)
        rc = cm_pg_exec(conn, out, err, sql, nparams, params);
    if (rc == CM_EPG || rc == CM_EBUSY) { /* refused, or a lock timeout: the rest goes on */
        cm_err e2 = {0};
        if (cm_pg_run(conn, &e2, "ROLLBACK TO SAVEPOINT iasql_guard", 0, NULL))
            return cm_err_set(err, e2.code, "%s", e2.msg);
        return rc;
    }
    if (!rc)
        rc = cm_pg_run(conn, err, "RELEASE SAVEPOINT iasql_guard", 0, NULL);
    if (rc && out) {
        PQclear(*out);
        *out = NULL;
    }
    return rc;
}

int cm_pg_script(PGconn *conn, cm_err *err, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = cm_pg_error(conn, res, err);
        PQclear(res);
        return rc;
    }
    PQclear(res);
    return 0;
}

int cm_pg_end(PGconn *conn, int rc, cm_err *err)
{
    if (!rc)
        return cm_pg_run(conn, err, "COMMIT", 0, NULL);
    PQclear(PQexec(conn, "ROLLBACK"));
    return rc;
}

int cm_pg_quote_ident(PGconn *conn, cm_buf *b, const char *ident)
{
    char *q = PQescapeIdentifier(conn, ident, strlen(ident));
    if (!q)
        return CM_ENOMEM;
    int rc = cm_buf_puts(b, q);
    PQfreemem(q);
    return rc;
}
