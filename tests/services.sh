# tests/services.sh — sourced by the test runner, the demo and the benchmark:
# starts PostgreSQL 15 and AWS emulators on free 127.0.0.1 ports and stops
# them again. Never binds anything but 127.0.0.1.
#
#   iasql_services_start [moto] [s3rver] [dynalite] [kinesalite] [faultproxy]   exports IASQL_PG_CONNINFO
#                                        (the superuser), PGPASSFILE, IASQL_ENGINE_PASSWORD, MOTO_URL,
#                                        S3RVER_URL, FAULT_PROXY_URL (in front of moto)
#   iasql_services_stop

IASQL_ROOT="${IASQL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
IASQL_RUN_DIR=""
IASQL_PIDS=()

iasql_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

iasql_wait_port() { # port seconds
  local i
  for ((i = 0; i < $2 * 20; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# Finds moto_server: $MOTO_SERVER, PATH, python3 -m moto.server, pyenv installs.
iasql_find_moto() {
  if [ -n "${MOTO_SERVER:-}" ]; then echo "$MOTO_SERVER"; return 0; fi
  if command -v moto_server >/dev/null 2>&1; then command -v moto_server; return 0; fi
  if python3 -c 'import moto.server' >/dev/null 2>&1; then echo "python3 -m moto.server"; return 0; fi
  local m
  for m in "$HOME"/.pyenv/versions/*/bin/moto_server /root/.pyenv/versions/*/bin/moto_server; do
    if [ -x "$m" ]; then echo "$m"; return 0; fi
  done
  echo "moto_server not found: tried \$MOTO_SERVER, PATH, 'python3 -m moto.server' and ~/.pyenv/versions/*/bin/moto_server; install it with: pip install 'moto[server]'" >&2
  return 1
}

iasql_pg_bin() {
  local d
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  return 1
}

# PostgreSQL as production runs it: scram-sha-256 for every connection,
# Unix socket and TCP alike, no trust or peer line. The passwords are made
# for this run and kept in a pgpass file (PGPASSFILE) that libpq reads:
# postgres (the superuser), iasql_engine (IASQL_ENGINE_PASSWORD, which
# iasql init sets), and three plain login roles the tests use: iasql_app
# (an application, granted iasql_user per database), iasql_owner (a
# database owner with CREATEROLE, as on managed PostgreSQL) and mallory
# (no grants at all).
iasql_start_pg() {
  local bin port dir
  bin=$(iasql_pg_bin) || return 1
  port=$(iasql_free_port)
  dir="$IASQL_RUN_DIR/pg"
  mkdir -p "$dir/data" "$dir/sock"
  local pw_postgres pw_engine pw_app pw_owner pw_mallory
  pw_postgres=$(iasql_password); pw_engine=$(iasql_password); pw_app=$(iasql_password)
  pw_owner=$(iasql_password); pw_mallory=$(iasql_password)
  printf '%s\n' "$pw_postgres" >"$dir/pwfile"
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres:postgres "$dir"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A scram-sha-256 --pwfile="$dir/pwfile" --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  rm -f "$dir/pwfile"
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  export PGPASSFILE="$IASQL_RUN_DIR/pgpass"
  {
    echo "*:*:*:postgres:$pw_postgres"
    echo "*:*:*:iasql_engine:$pw_engine"
    echo "*:*:*:iasql_app:$pw_app"
    echo "*:*:*:iasql_owner:$pw_owner"
    echo "*:*:*:mallory:$pw_mallory"
  } >"$PGPASSFILE"
  chmod 600 "$PGPASSFILE"
  export IASQL_ENGINE_PASSWORD="$pw_engine"
  export IASQL_PG_PORT=$port
  export IASQL_PG_BIN=$bin
  export IASQL_PG_DATA="$dir/data"
  export IASQL_PG_SOCKET="$dir/sock"
  export IASQL_PG_CONNINFO="host=127.0.0.1 port=$port user=postgres"
  psql "$IASQL_PG_CONNINFO dbname=postgres" -Xq -v ON_ERROR_STOP=1 >/dev/null <<SQL || return 1
CREATE ROLE iasql_app LOGIN PASSWORD '$pw_app';
CREATE ROLE iasql_owner LOGIN CREATEROLE PASSWORD '$pw_owner';
CREATE ROLE mallory LOGIN PASSWORD '$pw_mallory';
SQL
}

iasql_password() {
  python3 -c 'import secrets; print(secrets.token_hex(16))'
}

# Runs a server in the background on PORT, logging to NAME.log; waits until
# it listens, records its pid for iasql_services_stop and leaves the port in
# IASQL_PORT. Not to be called in $(...): the pid must reach IASQL_PIDS in
# this shell.
iasql_spawn() { # name port command...
  local name=$1 port=$2
  shift 2
  "$@" >"$IASQL_RUN_DIR/$name.log" 2>&1 &
  IASQL_PIDS+=($!)
  iasql_wait_port "$port" 30 || { echo "$name did not start" >&2; cat "$IASQL_RUN_DIR/$name.log" >&2; return 1; }
  IASQL_PORT=$port
}

# The npm emulators (s3rver, dynalite, kinesalite), installed once.
IASQL_NPM_DIR="$IASQL_ROOT/tests/emulators"
iasql_npm_emulators() {
  [ -x "$IASQL_NPM_DIR/node_modules/.bin/s3rver" ] && [ -x "$IASQL_NPM_DIR/node_modules/.bin/dynalite" ] &&
    [ -d "$IASQL_NPM_DIR/node_modules/kinesalite" ] && return 0
  (cd "$IASQL_NPM_DIR" && npm ci --silent --no-audit --no-fund >/dev/null 2>&1) || { echo "npm ci for the emulators failed" >&2; return 1; }
}

# AWS's managed policies are known, as in AWS (an execution role attaches
# AmazonECSTaskExecutionRolePolicy); moto leaves them out unless asked.
iasql_start_moto() { # [extra env assignments...]
  local moto port
  moto=$(iasql_find_moto) || return 1
  port=$(iasql_free_port)
  iasql_spawn "moto-$port" "$port" env MOTO_IAM_LOAD_MANAGED_POLICIES=true "$@" $moto -H 127.0.0.1 -p "$port"
}

iasql_start_s3rver() {
  iasql_npm_emulators || return 1
  local port
  port=$(iasql_free_port)
  mkdir -p "$IASQL_RUN_DIR/s3rver"
  iasql_spawn s3rver "$port" "$IASQL_NPM_DIR/node_modules/.bin/s3rver" --address 127.0.0.1 \
    --port "$port" --directory "$IASQL_RUN_DIR/s3rver" --silent
}

iasql_start_dynalite() {
  iasql_npm_emulators || return 1
  local port
  port=$(iasql_free_port)
  iasql_spawn dynalite "$port" "$IASQL_NPM_DIR/node_modules/.bin/dynalite" --host 127.0.0.1 \
    --port "$port" --createTableMs 100 --deleteTableMs 100 --updateTableMs 100
}

iasql_start_kinesalite() { # kinesalite's own command line binds every address
  iasql_npm_emulators || return 1
  local port
  port=$(iasql_free_port)
  iasql_spawn kinesalite "$port" node "$IASQL_NPM_DIR/kinesalite-local.js" "$port"
}

# A fault-injecting proxy in front of URL (tests/faults/faultproxy.py).
iasql_start_faultproxy() { # upstream-url
  local port
  port=$(iasql_free_port)
  iasql_spawn faultproxy "$port" python3 "$IASQL_ROOT/tests/faults/faultproxy.py" "$port" "$1"
}

iasql_services_start() {
  IASQL_RUN_DIR=$(mktemp -d /tmp/iasql-run.XXXXXX)
  chmod 755 "$IASQL_RUN_DIR"
  export IASQL_RUN_DIR
  iasql_start_pg || return 1
  local what
  for what in "$@"; do
    case "$what" in
      moto) iasql_start_moto || return 1; export MOTO_URL="http://127.0.0.1:$IASQL_PORT" ;;
      s3rver) iasql_start_s3rver || return 1; export S3RVER_URL="http://127.0.0.1:$IASQL_PORT" ;;
      dynalite) iasql_start_dynalite || return 1; export DYNALITE_URL="http://127.0.0.1:$IASQL_PORT" ;;
      kinesalite) iasql_start_kinesalite || return 1; export KINESALITE_URL="http://127.0.0.1:$IASQL_PORT" ;;
      faultproxy) iasql_start_faultproxy "$MOTO_URL" || return 1; export FAULT_PROXY_URL="http://127.0.0.1:$IASQL_PORT" ;;
    esac
  done
}

iasql_services_stop() {
  local p
  for p in "${IASQL_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${IASQL_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  IASQL_PIDS=()
  if [ -n "${IASQL_PG_DATA:-}" ] && [ -d "$IASQL_PG_DATA" ]; then
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- "$IASQL_PG_BIN/pg_ctl" -D "$IASQL_PG_DATA" -m immediate stop >/dev/null 2>&1
    else
      "$IASQL_PG_BIN/pg_ctl" -D "$IASQL_PG_DATA" -m immediate stop >/dev/null 2>&1
    fi
  fi
  [ -n "$IASQL_RUN_DIR" ] && rm -rf "$IASQL_RUN_DIR"
  IASQL_RUN_DIR=""
}
