#!/usr/bin/env bash
# bench/run.sh — builds, starts PostgreSQL and moto_server on 127.0.0.1, an
# iasql database with aws_s3 installed and the engine running, then runs the
# benchmark; results go to bench/results/latest.json.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source bench/lib.sh
bench_build
cleanup() { if [ -n "${ENGINE:-}" ]; then kill "$ENGINE" 2>/dev/null; wait "$ENGINE" 2>/dev/null; fi; iasql_services_stop; }
trap cleanup EXIT
iasql_services_start moto
bench_db iasql_bench
psql "$DB" -qc "SELECT * FROM iasql_install('aws_s3', 'aws_ec2')" >/dev/null
# The benchmark writes rows behind the engine's back; stop its idle tail from
# racing the tail measurement by measuring the commit round trip first.
mkdir -p bench/results
build/bench/bench "$DB" bench/results/latest.json "$IASQL_RUN_DIR/engine.log" "$ENGINE"
