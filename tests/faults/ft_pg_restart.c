/* tests/faults/ft_pg_restart.c — PostgreSQL restarted while the engine runs
 * and a user writes: the engine reconnects by itself, and every change
 * written before and after the restart is in the journal exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../integration/it_util.h"

static int setup(void **state)
{
    return it_fixture(state, "pgrestart", false);
}

static int teardown(void **state)
{
    return it_fixture_end(state);
}

static int restart_postgres(void)
{
    char cmd[1024];
    const char *bin = getenv("IASQL_PG_BIN"), *data = getenv("IASQL_PG_DATA");
    if (!bin || !data)
        return -1;
    snprintf(cmd, sizeof cmd, "%s '%s/pg_ctl' -D '%s' -m fast -w restart >/dev/null 2>&1",
             geteuid() == 0 ? "runuser -u postgres --" : "", bin, data);
    return system(cmd);
}

/* Inserts one row on its own connection, reconnecting as needed; returns
 * true when the insert committed. */
static bool insert_one(it_env *e, PGconn **c, int i)
{
    if (!*c || PQstatus(*c) != CONNECTION_OK) {
        PQfinish(*c);
        *c = PQconnectdb(e->conninfo);
        if (PQstatus(*c) != CONNECTION_OK)
            return false;
    }
    char name[64];
    snprintf(name, sizeof name, "pgr-%d-%d", (int)getpid(), i);
    const char *p[] = {name};
    PGresult *r =
        PQexecParams(*c, "INSERT INTO bucket (name) VALUES ($1)", 1, NULL, p, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok;
}

static void test_engine_survives_postgres_restart(void **state)
{
    it_env *e = *state;
    assert_true(it_ok(e, "SELECT * FROM iasql_install('aws_s3')", 0, NULL));
    PGconn *w = NULL;
    int committed = 0;
    for (int i = 0; i < 300; i++) {
        if (i == 150)
            assert_int_equal(restart_postgres(), 0);
        committed += insert_one(e, &w, i);
        if (i % 50 == 0) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    PQfinish(w);
    assert_true(committed >= 290);
    /* our own connection was cut by the restart */
    PQfinish(e->db);
    e->db = PQconnectdb(e->conninfo);
    assert_int_equal(PQstatus(e->db), CONNECTION_OK);
    /* the engine reconnects by itself: a preview is answered and sees all */
    const char *pending = NULL;
    for (int i = 0; i < 100 && !pending; i++) {
        pending = it_value(e, "SELECT count(*) FROM iasql_preview()");
        if (!pending)
            usleep(100 * 1000);
    }
    assert_non_null(pending);
    char want[16];
    snprintf(want, sizeof want, "%d", committed);
    assert_string_equal(pending, want);
    assert_true(it_log_count(e, "reconnecting") >= 1);
    /* every audit row is in the journal exactly once */
    const char *audit = it_value(e, "SELECT string_agg(id::text, ',' ORDER BY id) FROM "
                                    "iasql_audit_log WHERE origin = 'user'");
    char *expect = strdup(audit);
    assert_int_equal(it_stop_engine(e), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "\"%s\" journal dump '%s' | grep ' event origin=user ' | "
             "sed 's/.*audit_id=\\([0-9]*\\).*/\\1/' | sort -n | paste -sd,",
             getenv("IASQL_BIN"), e->journal);
    FILE *f = popen(cmd, "r");
    char got[65536] = "";
    assert_non_null(fgets(got, sizeof got, f));
    pclose(f);
    got[strcspn(got, "\n")] = '\0';
    assert_string_equal(got, expect);
    free(expect);
}

int main(void)
{
    if (!it_env_ready())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_engine_survives_postgres_restart, setup, teardown),
    };
    return cmocka_run_group_tests_name("faults: postgres restart", tests, NULL, NULL);
}
