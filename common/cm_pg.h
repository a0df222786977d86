/* common/cm_pg.h — thin helpers over libpq: every statement goes through
 * PQexecParams, every libpq failure is mapped to a cm_err here and nowhere
 * else, and identifiers are quoted with PQescapeIdentifier. */
#ifndef IASQL_CM_PG_H
#define IASQL_CM_PG_H

#include <libpq-fe.h>

#include "common/cm.h"

/* Connects; *out owns the connection (close with PQfinish). */
int cm_pg_connect(PGconn **out, const char *conninfo, cm_err *err);

/* Runs one statement with text parameters. On success *out (if not NULL)
 * holds the result, which the caller frees with PQclear. Errors carry the
 * server's message, detail and hint. */
int cm_pg_exec(PGconn *conn, PGresult **out, cm_err *err, const char *sql, int nparams,
               const char *const *params);

/* Prepares a named statement on conn (for one that runs on every request:
 * planned once per connection), and runs it like cm_pg_exec. */
int cm_pg_prepare(PGconn *conn, cm_err *err, const char *name, const char *sql, int nparams);
int cm_pg_exec_prepared(PGconn *conn, PGresult **out, cm_err *err, const char *name, int nparams,
                        const char *const *params);

/* cm_pg_exec for statements whose result is not needed. */
int cm_pg_run(PGconn *conn, cm_err *err, const char *sql, int nparams, const char *const *params);

/* cm_pg_exec inside an open transaction under a savepoint: when the server
 * refuses the statement (CM_EPG) or it waited past lock_timeout (CM_EBUSY),
 * the transaction is rolled back to before it and stays usable. */
int cm_pg_exec_guarded(PGconn *conn, PGresult **out, cm_err *err, const char *sql, int nparams,
                       const char *const *params);

/* Runs a script of several statements (no parameters): only for SQL that
 * ships inside the binary. */
int cm_pg_script(PGconn *conn, cm_err *err, const char *sql);

/* Ends the open transaction: COMMIT when rc is 0, else ROLLBACK. Returns
 * the first error: rc, or the COMMIT's. */
int cm_pg_end(PGconn *conn, int rc, cm_err *err);

/* Appends the quoted identifier to b. */
int cm_pg_quote_ident(PGconn *conn, cm_buf *b, const char *ident);

/* Maps a failed result (or NULL) to an error. */
int cm_pg_error(PGconn *conn, const PGresult *res, cm_err *err);

#endif
