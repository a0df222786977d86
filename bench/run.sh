#!/usr/bin/env bash
# bench/run.sh — builds, starts PostgreSQL and moto_server on 127.0.0.1, an
# iasql database with aws_s3 installed and the engine running, then runs the
# benchmark; results go to bench/results/latest.json.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tests/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
make -C build -j"$(nproc)" >/dev/null
source tests/services.sh
cleanup() { if [ -n "${ENGINE:-}" ]; then kill "$ENGINE" 2>/dev/null; wait "$ENGINE" 2>/dev/null; fi; iasql_services_stop; }
trap cleanup EXIT
iasql_services_start moto
psql "$IASQL_PG_CONNINFO dbname=postgres" -qc "CREATE DATABASE iasql_bench"
DB="$IASQL_PG_CONNINFO dbname=iasql_bench"
build/iasql init "$DB" >/dev/null
AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_ENDPOINT_URL="$MOTO_URL" \
  build/iasql run "$DB user=iasql_engine" --journal "$IASQL_RUN_DIR/journal" --poll off 2>"$IASQL_RUN_DIR/engine.log" &
ENGINE=$!
for _ in $(seq 100); do
  [ "$(psql "$DB" -tAc "SELECT engine FROM iasql_status" 2>/dev/null)" = running ] && break
  sleep 0.1
done
psql "$DB" -qc "SELECT * FROM iasql_install('aws_s3', 'aws_ec2')" >/dev/null
# The benchmark writes rows behind the engine's back; stop its idle tail from
# racing the tail measurement by measuring the commit round trip first.
mkdir -p bench/results
build/bench/bench "$DB" bench/results/latest.json "$IASQL_RUN_DIR/engine.log" "$ENGINE"
