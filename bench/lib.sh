# bench/lib.sh — sourced by bench/run.sh and bench/capture_instructions.sh:
# the build, and a database with the engine running against moto_server.

# Installs what is missing, builds build/, and loads tests/services.sh.
bench_build() {
  bash tests/deps.sh
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  make -C build -j"$(nproc)" >/dev/null
  source tests/services.sh
}

# bench_db NAME: with the services started, creates database NAME, runs
# `iasql init` and starts the engine without polling, its log in
# $IASQL_RUN_DIR/engine.log. Sets DB (the conninfo) and ENGINE (its pid).
bench_db() {
  psql "$IASQL_PG_CONNINFO dbname=postgres" -qc "CREATE DATABASE $1"
  DB="$IASQL_PG_CONNINFO dbname=$1"
  build/iasql init "$DB" >/dev/null
  AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_ENDPOINT_URL="$MOTO_URL" \
    build/iasql run "$DB user=iasql_engine" --journal "$IASQL_RUN_DIR/journal" --poll off \
    2>"$IASQL_RUN_DIR/engine.log" &
  ENGINE=$!
  for _ in $(seq 100); do
    [ "$(psql "$DB" -tAc "SELECT engine FROM iasql_status" 2>/dev/null)" = running ] && return 0
    sleep 0.1
  done
  echo "bench: the engine did not start" >&2
  return 1
}
