/* engine/eng_run.c — `iasql run`: start-up checks, then one loop that waits
 * on the control connection (RPC notifications), the signal pipe and the
 * tail timer. Signal handlers only write a byte to the pipe. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "apply/apl.h"
#include "engine/eng.h"

#define ENG_CLAIM_WAIT_MS 3000

static int signal_pipe[2] = {-1, -1};

static bool wait_or_stop(int ms);

static void on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;
    if (write(signal_pipe[1], &b, 1) < 0) { /* the pipe is full: a stop is already pending */
    }
    errno = saved;
}

static int install_signals(cm_err *err)
{
    if (pipe2(signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return cm_err_set(err, CM_EIO, "cannot create the signal pipe: %s", strerror(errno));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* Claims iasql_engine_state for this engine's control connection; a second
 * engine on the same database is refused with the first one's identity.
 * Only iasql_engine can write that row, and whether its server process is
 * alive is PostgreSQL's to say, so no user can fake an engine or block one. */
static int claim_engine(eng *e, cm_err *err)
{
    /* A crashed engine's server process may live on for a moment after the
     * engine died: wait up to ENG_CLAIM_WAIT_MS for it to go. */
    for (int waited = 0;; waited += 50) {
        PGresult *res;
        int rc = cm_pg_run(e->ctl, err, "BEGIN", 0, NULL);
        if (!rc)
            rc =
                cm_pg_exec(e->ctl, &res, err,
                           "SELECT s.pid::text, coalesce(a.client_addr::text, CASE WHEN "
                           "a.backend_start IS NULL THEN 'unknown' ELSE 'local' END), "
                           "coalesce(a.backend_start::text, 'an unknown time') "
                           "FROM iasql_engine_state s "
                           "JOIN pg_stat_activity a ON a.pid = s.pid AND a.pid <> pg_backend_pid() "
                           "AND a.datname = current_database() "
                           "WHERE s.state = 'running' AND (SELECT status FROM "
                           "iasql_engine_presence()) = 'running' FOR UPDATE OF s",
                           0, NULL);
        if (rc)
            return cm_pg_end(e->ctl, rc, err);
        bool other = PQntuples(res) == 1;
        if (other && waited >= ENG_CLAIM_WAIT_MS)
            rc = cm_err_set(err, CM_EBUSY,
                            "another iasql engine already runs for database %s (server process "
                            "%s, client %s, connected at %s)",
                            PQdb(e->ctl), PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                            PQgetvalue(res, 0, 2));
        PQclear(res);
        if (!rc && !other) {
            char host[256] = "";
            gethostname(host, sizeof host - 1);
            const char *p[] = {host, IASQL_VERSION};
            rc = cm_pg_run(
                e->ctl, err,
                "UPDATE iasql_engine_state SET state = 'running', pid = pg_backend_pid(), "
                "since = clock_timestamp(), host = $1, version = $2, tailed_at = NULL",
                2, p);
        }
        rc = cm_pg_end(e->ctl, rc, err);
        if (rc || !other)
            return rc;
        if (wait_or_stop(50))
            return cm_err_set(err, CM_EBUSY, "stopped on a signal while waiting to start");
    }
}

int eng_read_dbid(eng *e, cm_err *err)
{
    PGresult *res;
    int rc = cm_pg_exec(e->wk, &res, err,
                        "SELECT value FROM iasql_config WHERE key = 'database_id'", 0, NULL);
    if (rc)
        return rc;
    if (PQntuples(res) != 1)
        rc = cm_err_set(err, CM_ECONFIG, "iasql_config lacks database_id: run `iasql init` again");
    else
        snprintf(e->dbid, sizeof e->dbid, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

static void eng_close(eng *e)
{
    if (e->ctl)
        PQfinish(e->ctl);
    if (e->wk)
        PQfinish(e->wk);
    eng_poll_free(e);
    jnl_free(e->j);
    mod_ctx_free(e->mod);
    free(e->conninfo);
}

/* A periodic task: a lost connection stops the loop (to reconnect); any
 * other failure is logged and the loop goes on. */
static int periodic(eng *e, int (*task)(eng *, cm_err *), const char *what, cm_err *err)
{
    cm_err terr = {0};
    int rc = task(e, &terr);
    if (rc == CM_EPGCONN) {
        *err = terr;
        return rc;
    }
    if (rc)
        cm_log(CM_LOG_WARN, "%s: %s", what, terr.msg);
    return 0;
}

static int eng_loop(eng *e, const eng_options *opt, cm_err *err)
{
    int64_t next_tail = cm_mono_us() + (int64_t)opt->tail_ms * 1000;
    int64_t apply_every = (int64_t)opt->auto_apply_s * 1000000;
    int64_t next_apply = apply_every ? cm_mono_us() + apply_every : INT64_MAX;
    int64_t next_idle_check = cm_mono_us();
    for (;;) {
        int pfd = eng_poll_fd(e);
        struct pollfd fds[3] = {
            {PQsocket(e->ctl), POLLIN, 0}, {signal_pipe[0], POLLIN, 0}, {pfd, POLLIN, 0}};
        int64_t due = next_tail < next_apply ? next_tail : next_apply;
        if (eng_poll_due(e) < due)
            due = eng_poll_due(e);
        int64_t wait_ms = (due - cm_mono_us()) / 1000;
        int n = poll(fds, pfd >= 0 ? 3 : 2, wait_ms < 0 ? 0 : (int)wait_ms);
        if (n < 0 && errno != EINTR)
            return cm_err_set(err, CM_EIO, "poll failed: %s", strerror(errno));
        if (fds[1].revents & POLLIN) {
            cm_log(CM_LOG_INFO, "stopping on signal");
            eng_notify("STOPPING=1");
            /* What was written last (a commit's write-backs) goes into the
             * journal before the engine stops. */
            cm_err terr = {0};
            if (eng_tail(e, &terr))
                cm_log(CM_LOG_WARN, "last tail before stopping: %s", terr.msg);
            if (eng_rpc_stop(e, &terr))
                cm_log(CM_LOG_WARN, "saying the engine stops: %s", terr.msg);
            return 0;
        }
        if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
            if (!PQconsumeInput(e->ctl))
                return cm_err_set(err, CM_EPGCONN, "database connection lost: %s",
                                  PQerrorMessage(e->ctl));
            int rc = eng_rpc_serve(e, err);
            if (rc)
                return rc;
        }
        if (cm_mono_us() >= next_tail) {
            int rc = eng_tail(e, err);
            if (rc)
                return rc;
            next_tail = cm_mono_us() + (int64_t)opt->tail_ms * 1000;
        }
        if (cm_mono_us() >= next_idle_check) {
            int rc = periodic(e, eng_report_idle, "idle transaction check", err);
            if (rc)
                return rc;
            next_idle_check = cm_mono_us() + 10 * 1000000LL;
        }
        if (cm_mono_us() >= next_apply) {
            int rc = periodic(e, eng_auto_apply, "auto-apply", err);
            if (rc)
                return rc;
            next_apply = cm_mono_us() + apply_every;
        }
        if (pfd >= 0 && (fds[2].revents & POLLIN)) {
            cm_err perr = {0};
            int rc = eng_poll_finish(e, &perr);
            if (rc == CM_EPGCONN || rc == CM_ECORRUPT || rc == CM_EFULL) {
                *err = perr;
                return rc;
            }
            if (rc)
                cm_log(CM_LOG_WARN, "poll: %s", perr.msg);
        }
        cm_err serr = {0};
        int rc = eng_poll_start(e, &serr);
        if (rc == CM_EPGCONN) {
            *err = serr;
            return rc;
        }
        if (rc)
            cm_log(CM_LOG_WARN, "poll: %s", serr.msg);
    }
}

/* Waits ms or until a signal arrives; true when asked to stop. */
static bool wait_or_stop(int ms)
{
    struct pollfd fd = {signal_pipe[0], POLLIN, 0};
    return poll(&fd, 1, ms) > 0;
}

static void drop_connections(eng *e)
{
    PQfinish(e->ctl);
    PQfinish(e->wk);
    e->ctl = e->wk = NULL;
}

/* Connects, settles what an interruption left open, and starts serving. */
static int eng_connect_all(eng *e, cm_err *err)
{
    int rc = eng_connect_engine(&e->ctl, e->conninfo, err);
    if (!rc)
        rc = claim_engine(e, err);
    if (!rc)
        rc = eng_rpc_reset(e, err);
    if (!rc)
        rc = eng_connect_engine(&e->wk, e->conninfo, err);
    if (!rc)
        rc = eng_set_lock_timeout(e->wk, err);
    if (!rc)
        rc = eng_describe_tables(e, err);
    if (!rc)
        rc = eng_tail(e, err);
    size_t settled = 0;
    if (!rc)
        rc = apl_recover(e->j, e->wk, e->mod, &settled, err);
    if (!rc && settled)
        cm_log(CM_LOG_INFO, "settled %zu interrupted actions from the cloud", settled);
    if (!rc)
        rc = eng_rpc_start(e, err);
    if (!rc) {
        cm_log(CM_LOG_INFO, "engine ready for database %s (%s)", PQdb(e->wk), e->dbid);
        eng_notify("READY=1"); /* a Type=notify unit starts its dependents now */
        eng_metric_set("iasql_up", NULL, 1);
    }
    if (!rc)
        rc = eng_rpc_serve(e, err);
    return rc;
}

void eng_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || (path[0] != '/' && path[0] != '@'))
        return; /* not under systemd's notify protocol */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n >= sizeof sa.sun_path)
        return;
    memcpy(sa.sun_path, path, n);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0'; /* an abstract socket */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
        cm_log(CM_LOG_WARN, "could not tell systemd %s: %s", state, strerror(errno));
    close(fd);
}

/* The cloud client (credentials), identity and journal first (from a
 * connection of their own), then the connections the loop uses: what can
 * fail is checked before the journal is made, so a start that fails leaves
 * nothing behind. */
static int eng_start(eng *e, const eng_options *opt, cm_err *err)
{
    int rc = mod_ctx_new(&e->mod, err);
    if (!rc)
        rc = eng_connect_engine(&e->wk, e->conninfo, err);
    if (!rc)
        rc = eng_read_dbid(e, err);
    if (!rc)
        rc = eng_journal_open(e, e->wk, opt->journal_dir, opt->journal_adopt, err);
    drop_connections(e);
    if (!rc)
        mod_ctx_set_owner(e->mod, e->dbid);
    if (!rc)
        rc = eng_poll_new(e, opt->poll_s, opt->poll_grace_s, opt->poll_deep_s, opt->poll_deep_given,
                          err);
    if (!rc)
        rc = eng_connect_all(e, err);
    return rc;
}

/* After the database connection is lost: reconnect with backoff until it
 * answers again or a signal asks to stop. */
static int eng_reconnect(eng *e, cm_err *err)
{
    int delay = 100;
    for (;;) {
        drop_connections(e);
        cm_log(CM_LOG_WARN, "%s; reconnecting in %d ms", err->msg, delay);
        if (wait_or_stop(delay))
            return 1;
        cm_err_clear(err);
        int rc = eng_connect_all(e, err);
        if (!rc)
            return 0;
        if (rc != CM_EPGCONN)
            return rc;
        delay = delay * 2 > 5000 ? 5000 : delay * 2;
    }
}

int eng_run(const char *conninfo, const eng_options *opt, cm_err *err)
{
    eng e;
    memset(&e, 0, sizeof e);
    e.conninfo = strdup(conninfo);
    int rc = install_signals(err);
    /* served before the engine says it is ready, so a port in use stops it */
    if (!rc && opt->metrics)
        rc = eng_metrics_start(opt->metrics, err);
    if (!rc)
        rc = eng_start(&e, opt, err);
    if (!rc)
        eng_metrics_journal(jnl_dir(e.j));
    while (!rc) {
        rc = eng_loop(&e, opt, err);
        if (rc != CM_EPGCONN)
            break;
        rc = eng_reconnect(&e, err);
        if (rc == 1) {
            cm_log(CM_LOG_INFO, "stopping on signal");
            rc = 0;
            break;
        }
    }
    eng_metric_set("iasql_up", NULL, 0);
    eng_metrics_stop();
    eng_close(&e);
    return rc;
}
